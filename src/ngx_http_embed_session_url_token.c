
/*
 * Copyright (C) The ngx_http_embed_session_module authors
 *
 * Tokens in URLs: the query without the arguments a token is read from,
 * and the request line with their values masked.  What goes upstream
 * (upstream.c) and what variables show (variables.c) both use it, so that
 * a token in a URL never leaves nginx or reaches a log.
 */


#include "ngx_http_embed_session_module.h"
#include "ngx_http_embed_session_url_token.h"


#define NGX_HTTP_ES_REDACTED      "[redacted]"


static ngx_uint_t ngx_http_es_token_arg(ngx_array_t *token_args, u_char *arg,
    u_char *eq);
static u_char *ngx_http_es_line_protocol(u_char *start, u_char *last);


/*
 * Query arguments without those the token may come from: "a=1&token=x&b=2"
 * is "a=1&b=2".  With redact set, the token's value is replaced instead.
 */

/* the argument from arg to eq is one a token is read from */

static ngx_uint_t
ngx_http_es_token_arg(ngx_array_t *token_args, u_char *arg, u_char *eq)
{
    ngx_str_t   *names;
    ngx_uint_t   i;

    names = token_args->elts;

    for (i = 0; i < token_args->nelts; i++) {
        if ((size_t) (eq - arg) == names[i].len
            && ngx_strncasecmp(arg, names[i].data, names[i].len) == 0)
        {
            return 1;
        }
    }

    return 0;
}


ngx_int_t
ngx_http_es_strip_args(ngx_http_request_t *r, ngx_array_t *token_args,
    ngx_str_t *args, ngx_str_t *out, ngx_uint_t redact)
{
    u_char      *p, *last, *arg, *end, *eq, *d;
    ngx_uint_t   n, hit;

    *out = *args;

    if (token_args == NULL || token_args->nelts == 0 || args->len == 0) {
        return NGX_OK;
    }

    /* most requests name no token argument: nothing to copy then */

    for (p = args->data, last = p + args->len; p < last; p = end + 1) {
        end = ngx_strlchr(p, last, '&');
        if (end == NULL) {
            end = last;
        }

        eq = ngx_strlchr(p, end, '=');

        if (ngx_http_es_token_arg(token_args, p, eq ? eq : end)) {
            break;
        }
    }

    if (p >= last) {
        return NGX_OK;
    }

    /* a redacted value may be longer than the value itself */

    for (n = 1, p = args->data; p < args->data + args->len; p++) {
        n += (*p == '&');
    }

    d = ngx_pnalloc(r->pool, args->len + n * sizeof("=" NGX_HTTP_ES_REDACTED));
    if (d == NULL) {
        return NGX_ERROR;
    }

    out->data = d;

    p = args->data;
    last = p + args->len;

    while (p < last) {
        arg = p;

        end = ngx_strlchr(p, last, '&');
        if (end == NULL) {
            end = last;
        }

        eq = ngx_strlchr(arg, end, '=');
        if (eq == NULL) {
            eq = end;
        }

        hit = ngx_http_es_token_arg(token_args, arg, eq);

        if (!hit || redact) {
            if (d != out->data) {
                *d++ = '&';
            }

            if (hit) {
                d = ngx_cpymem(d, arg, eq - arg);
                d = ngx_cpymem(d, "=" NGX_HTTP_ES_REDACTED,
                               sizeof("=" NGX_HTTP_ES_REDACTED) - 1);

            } else {
                d = ngx_cpymem(d, arg, end - arg);
            }
        }

        p = end + 1;
    }

    out->len = d - out->data;

    return NGX_OK;
}


/*
 * The request line with the values of these arguments "[redacted]", read
 * as the client sent it rather than as nginx parsed it: a line that nginx
 * refused (a space or a control byte in the query, "%00" in the path, an
 * unknown method or version) has no r->args, nor maybe r->request_line
 * yet.  The arguments run from the first "?" to the protocol that ends the
 * line, or to its end: a space in them does not end them.
 */

ngx_int_t
ngx_http_es_mask_request_line(ngx_http_request_t *r, ngx_array_t *token_args,
    ngx_str_t *line)
{
    u_char     *p, *q, *end, *last;
    ngx_str_t   args, out;

    *line = r->request_line;

    /* what $request shows of a line never parsed: all up to CR or LF */

    if (line->data == NULL && r->request_start && r->header_in) {
        for (p = r->request_start; p < r->header_in->last; p++) {
            if (*p == CR || *p == LF) {
                break;
            }
        }

        line->data = r->request_start;
        line->len = p - r->request_start;
    }

    p = line->data;
    last = p + line->len;

    q = ngx_strlchr(p, last, '?');

    if (q == NULL) {
        return NGX_OK;
    }

    end = ngx_http_es_line_protocol(q + 1, last);

    args.data = q + 1;
    args.len = end - args.data;

    if (ngx_http_es_strip_args(r, token_args, &args, &out, 1) != NGX_OK) {
        return NGX_ERROR;
    }

    if (out.data == args.data) {
        return NGX_OK;
    }

    line->len = (q + 1 - p) + out.len + (last - end);
    line->data = ngx_pnalloc(r->pool, line->len);
    if (line->data == NULL) {
        return NGX_ERROR;
    }

    q = ngx_cpymem(line->data, p, q + 1 - p);
    q = ngx_cpymem(q, out.data, out.len);
    ngx_memcpy(q, end, last - end);

    return NGX_OK;
}


/*
 * Where " HTTP/1.1" (blanks, "HTTP/", digits and dots, blanks) ends the
 * line after start; last if the line ends otherwise.  What is kept of the
 * line after the arguments can so never hold a token's bytes.
 */

static u_char *
ngx_http_es_line_protocol(u_char *start, u_char *last)
{
    u_char  *p;

    p = last;

    while (p > start && (p[-1] == ' ' || p[-1] == '\t')) {
        p--;
    }

    while (p > start && ((p[-1] >= '0' && p[-1] <= '9') || p[-1] == '.')) {
        p--;
    }

    if (p - start < 6 || ngx_strncmp(p - 5, "HTTP/", 5) != 0) {
        return last;
    }

    p -= 5;

    if (p[-1] != ' ' && p[-1] != '\t') {
        return last;
    }

    while (p > start && (p[-1] == ' ' || p[-1] == '\t')) {
        p--;
    }

    return p;
}
