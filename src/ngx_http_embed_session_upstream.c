
/*
 * Copyright (C) The ngx_http_embed_session_module authors
 *
 * What reaches the upstream once a token passed: verified claims as
 * request headers (never the client's own copies), the request without
 * the token, and a token that came in the URL exchanged for a cookie and
 * a redirect, so that it never reaches the upstream or its logs.
 */


#include "ngx_http_embed_session_module.h"
#include "ngx_http_embed_session_jws.h"
#include "ngx_http_embed_session_response.h"
#include "ngx_http_embed_session_upstream.h"
#include "ngx_http_embed_session_url_token.h"


#define NGX_HTTP_ES_COOKIE_ATTRS                                             \
    "Path=/; HttpOnly; Secure; SameSite=None; Partitioned"


/* the headers that must not reach the upstream */

typedef struct {
    ngx_http_es_loc_conf_t     *elcf;
    ngx_uint_t                  strip;   /* the token's sources too */
} ngx_http_es_drop_t;


static ngx_int_t ngx_http_es_claim_values(ngx_http_request_t *r,
    ngx_http_es_loc_conf_t *elcf, ngx_http_es_ctx_t *ctx, ngx_str_t *values);
static ngx_int_t ngx_http_es_strip_cookies(ngx_http_request_t *r,
    ngx_http_es_loc_conf_t *elcf);
static ngx_uint_t ngx_http_es_drop_header(ngx_http_request_t *r,
    ngx_table_elt_t *h, void *data);
static ngx_uint_t ngx_http_es_header_is(ngx_table_elt_t *h, ngx_str_t *name);
static ngx_uint_t ngx_http_es_header_like(ngx_table_elt_t *h,
    ngx_str_t *name);
static ngx_uint_t ngx_http_es_source_kind_in(ngx_http_es_loc_conf_t *elcf,
    ngx_uint_t kind);
static ngx_int_t ngx_http_es_unparsed_uri(ngx_http_request_t *r,
    ngx_array_t *token_args);
static ngx_uint_t ngx_http_es_source_is(ngx_http_es_source_t *src,
    u_char *lowcase, size_t len);
static ngx_int_t ngx_http_es_cookie_attrs(ngx_conf_t *cf, ngx_str_t *attrs);


/* never a claim header: framing, hop-by-hop, credentials */

static ngx_str_t  ngx_http_es_reserved_headers[] = {
    ngx_string("host"),
    ngx_string("connection"),
    ngx_string("content-length"),
    ngx_string("transfer-encoding"),
    ngx_string("te"),
    ngx_string("upgrade"),
    ngx_string("expect"),
    ngx_string("keep-alive"),
    ngx_string("trailer"),
    ngx_string("cookie"),
    ngx_string("authorization"),
    ngx_null_string
};


/*
 * Called once the access checks decided: token is the token that passed,
 * or NULL when none did.  The client's copies of the claim headers go in
 * either case (an error_page may still send the request upstream).
 * NGX_DECLINED: a claim is not fit for a header; nothing was changed.
 */

ngx_int_t
ngx_http_es_upstream_headers(ngx_http_request_t *r,
    ngx_http_es_loc_conf_t *elcf, ngx_http_es_ctx_t *ctx, ngx_str_t *token)
{
    ngx_str_t                    *values, args;
    ngx_uint_t                    i, strip;
    ngx_table_elt_t              *h;
    ngx_http_es_drop_t            drop;
    ngx_http_es_claim_header_t   *ch;

    strip = (token && elcf->strip_token);

    if (elcf->claim_headers == NULL && !strip) {
        return NGX_OK;
    }

    values = NULL;

    if (token && elcf->claim_headers) {
        values = ngx_pcalloc(r->pool,
                             elcf->claim_headers->nelts * sizeof(ngx_str_t));
        if (values == NULL) {
            return NGX_ERROR;
        }

        if (ngx_http_es_claim_values(r, elcf, ctx, values) != NGX_OK) {
            return ctx->reason ? NGX_DECLINED : NGX_ERROR;
        }
    }

    if (strip && ngx_http_es_strip_cookies(r, elcf) != NGX_OK) {
        return NGX_ERROR;
    }

    drop.elcf = elcf;
    drop.strip = strip;

    if (ngx_http_es_headers_drop(r, ngx_http_es_drop_header, &drop,
                                 elcf->claim_headers
                                 ? elcf->claim_headers->nelts : 0)
        == NGX_ERROR)
    {
        return NGX_ERROR;
    }

    if (values) {
        ch = elcf->claim_headers->elts;

        for (i = 0; i < elcf->claim_headers->nelts; i++) {
            if (values[i].len == 0) {
                continue;
            }

            h = ngx_list_push(&r->headers_in.headers);
            if (h == NULL) {
                return NGX_ERROR;
            }

            h->hash = ch[i].hash;
            h->key = ch[i].name;
            h->lowcase_key = ch[i].lowcase.data;
            h->value = values[i];
#if (nginx_version >= 1023000)
            h->next = NULL;
#endif
        }
    }

    if (!strip) {
        return NGX_OK;
    }

    /* $http_authorization and $embed_session_bearer read the pointer */

    if (r->headers_in.authorization
        && ngx_http_es_source_kind_in(elcf, NGX_HTTP_ES_SOURCE_BEARER))
    {
        r->headers_in.authorization = NULL;
    }

    /*
     * the arguments the token may come from: out of $args, and out of the
     * request URI that proxy_pass without a URI sends as the client wrote
     * it (the path stays byte for byte)
     */

    if (elcf->token_args && elcf->token_args->nelts) {

        if (r->args.len) {
            if (ngx_http_es_strip_args(r, elcf->token_args, &r->args, &args,
                                       0)
                != NGX_OK)
            {
                return NGX_ERROR;
            }

            r->args = args;
        }

        /*
         * $request_uri too: a rewrite or try_files may have made it
         * invalid for proxy_pass, and it is still what fastcgi_params'
         * REQUEST_URI and logs show
         */

        if (ngx_http_es_unparsed_uri(r, elcf->token_args) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    /* an internal redirect checks this token again, without the request */

    ctx->token.data = ngx_pstrdup(r->pool, token);
    if (ctx->token.data == NULL) {
        return NGX_ERROR;
    }

    ctx->token.len = token->len;

    return NGX_OK;
}


/* every value first: a claim unfit for a header stops it all */

static ngx_int_t
ngx_http_es_claim_values(ngx_http_request_t *r, ngx_http_es_loc_conf_t *elcf,
    ngx_http_es_ctx_t *ctx, ngx_str_t *values)
{
    u_char                      *p, *reason;
    size_t                       len;
    ngx_uint_t                   i;
    ngx_http_es_claim_header_t  *ch;

    ch = elcf->claim_headers->elts;

    for (i = 0; i < elcf->claim_headers->nelts; i++) {

        len = ngx_http_es_jws_claim_text(ctx->claims, ch[i].claim.data,
                                         ch[i].claim.len, NULL, 0);
        if (len == 0) {
            continue;
        }

        values[i].data = ngx_pnalloc(r->pool, len);
        if (values[i].data == NULL) {
            ctx->reason = NULL;
            return NGX_ERROR;
        }

        values[i].len = ngx_http_es_jws_claim_text(ctx->claims,
                                                   ch[i].claim.data,
                                                   ch[i].claim.len,
                                                   values[i].data, len);

        for (p = values[i].data; p < values[i].data + values[i].len; p++) {
            if (*p >= 0x20 && *p != 0x7f) {
                continue;
            }

            /* the reason names the claim, never its value */

            reason = ngx_pnalloc(r->pool, ch[i].claim.len
                                 + sizeof("claim \"\" has a control "
                                          "character"));
            if (reason == NULL) {
                ctx->reason = NULL;
                return NGX_ERROR;
            }

            ngx_sprintf(reason, "claim \"%V\" has a control character%Z",
                        &ch[i].claim);

            ctx->reason = (const char *) reason;
            return NGX_DECLINED;
        }
    }

    return NGX_OK;
}


/*
 * Cookie headers without the token's cookies, read as nginx reads them for
 * $cookie_NAME: pairs separated by ";" or ",", spaces allowed around the
 * name.  What is left is never longer; a header left empty goes.
 */

static ngx_int_t
ngx_http_es_strip_cookies(ngx_http_request_t *r, ngx_http_es_loc_conf_t *elcf)
{
    u_char                *p, *last, *span, *start, *end, *q, *d, *out;
    ngx_uint_t             i, k, hit;
    ngx_list_part_t       *part;
    ngx_table_elt_t       *h;
    ngx_http_es_source_t  *src;

    static ngx_str_t  cookie = ngx_string("cookie");

    if (!ngx_http_es_source_kind_in(elcf, NGX_HTTP_ES_SOURCE_COOKIE)) {
        return NGX_OK;
    }

    src = elcf->source_kinds->elts;

    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (!ngx_http_es_header_is(&h[i], &cookie)) {
            continue;
        }

        out = ngx_pnalloc(r->pool, h[i].value.len);
        if (out == NULL) {
            return NGX_ERROR;
        }

        d = out;
        p = h[i].value.data;
        last = p + h[i].value.len;

        while (p < last) {
            span = p;

            while (p < last && *p == ' ') {
                p++;
            }

            start = p;

            while (p < last && *p != ';' && *p != ',') {
                p++;
            }

            end = p;

            if (p < last) {
                p++;
            }

            hit = 0;

            for (k = 0; k < elcf->source_kinds->nelts; k++) {
                if (src[k].kind != NGX_HTTP_ES_SOURCE_COOKIE
                    || (size_t) (end - start) <= src[k].name.len
                    || ngx_strncasecmp(start, src[k].name.data,
                                       src[k].name.len) != 0)
                {
                    continue;
                }

                for (q = start + src[k].name.len; q < end && *q == ' '; q++) {
                    /* void */
                }

                if (q < end && *q == '=') {
                    hit = 1;
                    break;
                }
            }

            if (!hit) {
                d = ngx_cpymem(d, span, p - span);
            }
        }

        while (d > out && (d[-1] == ' ' || d[-1] == ';' || d[-1] == ',')) {
            d--;
        }

        /* the named pointer shares the element: $cookie_ sees it too */

        h[i].value.data = out;
        h[i].value.len = d - out;
    }

    return NGX_OK;
}


/* the client's request URI without the token's arguments */

static ngx_int_t
ngx_http_es_unparsed_uri(ngx_http_request_t *r, ngx_array_t *token_args)
{
    u_char     *p, *q, *last;
    ngx_str_t   query, out;

    p = r->unparsed_uri.data;
    last = p + r->unparsed_uri.len;

    q = ngx_strlchr(p, last, '?');
    if (q == NULL) {
        return NGX_OK;
    }

    query.data = q + 1;
    query.len = last - query.data;

    if (ngx_http_es_strip_args(r, token_args, &query, &out, 0) != NGX_OK) {
        return NGX_ERROR;
    }

    if (out.data == query.data) {
        return NGX_OK;
    }

    /* the path byte for byte; no "?" when no argument is left */

    r->unparsed_uri.len = (q - p) + (out.len ? 1 + out.len : 0);
    r->unparsed_uri.data = ngx_pnalloc(r->pool, r->unparsed_uri.len);
    if (r->unparsed_uri.data == NULL) {
        return NGX_ERROR;
    }

    q = ngx_cpymem(r->unparsed_uri.data, p, q - p);

    if (out.len) {
        *q++ = '?';
        ngx_memcpy(q, out.data, out.len);
    }

    return NGX_OK;
}


static ngx_uint_t
ngx_http_es_source_kind_in(ngx_http_es_loc_conf_t *elcf, ngx_uint_t kind)
{
    ngx_uint_t             k;
    ngx_http_es_source_t  *src;

    src = elcf->source_kinds->elts;

    for (k = 0; k < elcf->source_kinds->nelts; k++) {
        if (src[k].kind == kind) {
            return 1;
        }
    }

    return 0;
}


/* a header that must not reach the upstream */

static ngx_uint_t
ngx_http_es_drop_header(ngx_http_request_t *r, ngx_table_elt_t *h,
    void *data)
{
    ngx_http_es_drop_t  *drop = data;

    ngx_uint_t                   i, k, strip;
    ngx_http_es_source_t        *src;
    ngx_http_es_loc_conf_t      *elcf;
    ngx_http_es_claim_header_t  *ch;

    elcf = drop->elcf;
    strip = drop->strip;

    static ngx_str_t  cookie = ngx_string("cookie");
    static ngx_str_t  authorization = ngx_string("authorization");

    if (elcf->claim_headers) {
        ch = elcf->claim_headers->elts;

        for (i = 0; i < elcf->claim_headers->nelts; i++) {
            if (ngx_http_es_header_like(h, &ch[i].lowcase)) {
                return 1;
            }
        }
    }

    if (!strip) {
        return 0;
    }

    if (h->value.len == 0 && ngx_http_es_header_is(h, &cookie)) {
        return 1;
    }

    src = elcf->source_kinds->elts;

    for (k = 0; k < elcf->source_kinds->nelts; k++) {

        if (src[k].kind == NGX_HTTP_ES_SOURCE_BEARER) {
            if (ngx_http_es_header_is(h, &authorization)) {
                return 1;
            }

            continue;
        }

        if (ngx_http_es_source_is(&src[k], h->lowcase_key, h->key.len)) {
            return 1;
        }
    }

    return 0;
}


/* $http_x_session_token reads X-Session-Token */

static ngx_uint_t
ngx_http_es_source_is(ngx_http_es_source_t *src, u_char *lowcase, size_t len)
{
    ngx_uint_t  i;

    if (src->kind != NGX_HTTP_ES_SOURCE_HEADER || src->name.len != len) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (lowcase[i] != src->name.data[i]
            && !(lowcase[i] == '-' && src->name.data[i] == '_'))
        {
            return 0;
        }
    }

    return 1;
}


static ngx_uint_t
ngx_http_es_header_is(ngx_table_elt_t *h, ngx_str_t *name)
{
    return h->key.len == name->len
           && ngx_memcmp(h->lowcase_key, name->data, name->len) == 0;
}


/*
 * A header an upstream may take for the claim header name (lowercase, no
 * "_"): CGI-style upstreams (FastCGI's HTTP_X_EMBED_SUB, uwsgi, WSGI, PHP)
 * make "_" of "-", and nginx passes X_Embed_Sub with underscores_in_headers
 * on, or with ignore_invalid_headers off
 */

static ngx_uint_t
ngx_http_es_header_like(ngx_table_elt_t *h, ngx_str_t *name)
{
    u_char      c;
    ngx_uint_t  i;

    if (h->key.len != name->len) {
        return 0;
    }

    for (i = 0; i < name->len; i++) {
        c = h->lowcase_key[i];

        if (c != name->data[i] && !(c == '_' && name->data[i] == '-')) {
            return 0;
        }
    }

    return 1;
}


/*
 * A token in the URL never reaches a log: from the moment the request line
 * is read, $request and the "request:" of every error log line hold it
 * with the token's value "[redacted]".  Every argument that any level
 * reads a token from counts: the location is not known yet.  In the log
 * phase as well, where a line that nginx refused has no r->args: the line
 * itself is read, not what nginx made of it.
 */

ngx_int_t
ngx_http_es_request_line_handler(ngx_http_request_t *r)
{
    ngx_str_t                 line;
    ngx_http_es_main_conf_t  *emcf;

    if (r != r->main) {
        return NGX_DECLINED;
    }

    emcf = ngx_http_get_module_main_conf(r, ngx_http_embed_session_module);

    if (ngx_http_es_mask_request_line(r, emcf->token_args, &line) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    r->request_line = line;

    return NGX_DECLINED;
}


/*
 * A token from the URL that passed every access check: 302 to the same URL
 * without it, the token in a cookie.  In the precontent phase, so that
 * every other access module and the API key had their say, and only for
 * the request as the client sent it.
 */

ngx_int_t
ngx_http_es_exchange_handler(ngx_http_request_t *r)
{
    u_char                  *p, *q;
    size_t                   len;
    int64_t                  exp;
    ngx_int_t                rc;
    ngx_str_t                args, path, cookie, location, token;
    ngx_table_elt_t         *h;
    ngx_http_es_ctx_t       *ctx;
    ngx_http_es_loc_conf_t  *elcf;

    elcf = ngx_http_get_module_loc_conf(r, ngx_http_embed_session_module);

    /* r->unparsed_uri is the client's even once the token args went */

    if (!elcf->url_exchange || r->internal || r != r->main
        || !(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD)))
    {
        return NGX_DECLINED;
    }

    ctx = ngx_http_es_get_ctx(r, 0);

    if (ctx == NULL || ctx->exchange.len == 0 || ctx->claims == NULL
        || ctx->code != NGX_HTTP_ES_PASSED
        || ngx_http_es_jws_claim_int(ctx->claims, (u_char *) "exp", 3, &exp)
           != NGX_HTTP_ES_JWS_OK)
    {
        return NGX_DECLINED;
    }

    token = ctx->exchange;
    ngx_str_null(&ctx->exchange);

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "embed_session: url exchange: token from the URL traded "
                   "for cookie \"%V\"", &elcf->cookie_name);

    /* the cookie ends with the token */

    exp = exp - ngx_time();

    if (exp < 1) {
        exp = 1;
    }

    len = elcf->cookie_name.len + 1 + token.len
          + sizeof("; Max-Age=; ") - 1 + NGX_INT64_LEN
          + elcf->cookie_attrs.len;

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cookie.data = p;
    p = ngx_sprintf(p, "%V=%V; Max-Age=%L", &elcf->cookie_name, &token, exp);

    if (elcf->cookie_attrs.len) {
        p = ngx_sprintf(p, "; %V", &elcf->cookie_attrs);
    }

    cookie.len = p - cookie.data;

    /* the path as the client wrote it, the arguments without the token */

    path.data = r->unparsed_uri.data;
    q = ngx_strlchr(path.data, path.data + r->unparsed_uri.len, '?');
    path.len = (q ? q : path.data + r->unparsed_uri.len) - path.data;

    /*
     * never "//host/..." or "/\\host": with absolute_redirect off that is
     * another site; one slash is this one
     */

    while (path.len > 1 && (path.data[1] == '/' || path.data[1] == '\\')) {
        path.data++;
        path.len--;
    }

    if (path.len == 0 || path.data[0] != '/') {
        return NGX_DECLINED;
    }

    if (ngx_http_es_strip_args(r, elcf->token_args, &r->args, &args, 0)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_pnalloc(r->pool, path.len + 1 + args.len);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    location.data = p;
    p = ngx_cpymem(p, path.data, path.len);

    if (args.len) {
        *p++ = '?';
        p = ngx_cpymem(p, args.data, args.len);
    }

    location.len = p - location.data;

    /* nothing can fail between the first header and the answer */

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    if (ngx_http_es_header_str(r, "Set-Cookie", &cookie) == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h = ngx_http_es_header_str(r, "Location", &location);
    if (h == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    r->headers_out.location = h;

    /*
     * no Referrer-Policy: the redirected request's Referer is the page
     * that framed this one, never this URL, and the origin check may
     * need it
     */

    if (ngx_http_es_header(r, "Cache-Control", "no-store") == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_es_send_empty(r, NGX_HTTP_MOVED_TEMPORARILY);
}


/* configuration */

char *
ngx_http_es_cookie(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_es_loc_conf_t *elcf = conf;

    u_char      *p;
    ngx_str_t   *value;

    if (elcf->cookie_name.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    /* a cookie-name is an RFC 7230 token */

    if (value[1].len == 0) {
        return "has an empty name";
    }

    for (p = value[1].data; p < value[1].data + value[1].len; p++) {
        if (*p <= 0x20 || *p >= 0x7f
            || ngx_strchr("()<>@,;:\\\"/[]?={}", *p) != NULL)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid cookie name \"%V\"", &value[1]);
            return NGX_CONF_ERROR;
        }
    }

    elcf->cookie_name = value[1];

    if (cf->args->nelts == 2) {
        ngx_str_set(&elcf->cookie_attrs, NGX_HTTP_ES_COOKIE_ATTRS);
        return NGX_CONF_OK;
    }

    if (ngx_http_es_cookie_attrs(cf, &value[2]) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    elcf->cookie_attrs = value[2];

    return NGX_CONF_OK;
}


/* "Path=/; Secure; SameSite=Lax": visible text, no lifetime of its own */

static ngx_int_t
ngx_http_es_cookie_attrs(ngx_conf_t *cf, ngx_str_t *attrs)
{
    u_char  *p, *last, *start;

    p = attrs->data;
    last = p + attrs->len;

    for ( ;; ) {
        while (p < last && (*p == ' ' || *p == ';')) {
            p++;
        }

        if (p == last) {
            return NGX_OK;
        }

        start = p;

        while (p < last && *p != ';') {
            if (*p < 0x20 || *p >= 0x7f) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "cookie attributes \"%V\" have a control "
                                   "character", attrs);
                return NGX_ERROR;
            }

            p++;
        }

        if ((p - start >= 7
             && ngx_strncasecmp(start, (u_char *) "max-age", 7) == 0)
            || (p - start >= 7
                && ngx_strncasecmp(start, (u_char *) "expires", 7) == 0))
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "cookie attributes \"%V\": Max-Age and "
                               "Expires are set from the token", attrs);
            return NGX_ERROR;
        }
    }
}


char *
ngx_http_es_claim_header(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_es_loc_conf_t *elcf = conf;

    u_char                      *p;
    ngx_str_t                   *value;
    ngx_uint_t                   i;
    ngx_http_es_claim_header_t  *ch;

    value = cf->args->elts;

    ch = ngx_http_es_conf_push(cf, &elcf->claim_headers,
                               sizeof(ngx_http_es_claim_header_t));
    if (ch == NULL) {
        return NGX_CONF_ERROR;
    }

    if (value[1].len == 0) {
        goto invalid;
    }

    for (p = value[1].data; p < value[1].data + value[1].len; p++) {
        if ((*p < 'a' || *p > 'z') && (*p < 'A' || *p > 'Z')
            && (*p < '0' || *p > '9') && *p != '-')
        {
            goto invalid;
        }
    }

    ch->name = value[1];
    ch->lowcase.len = value[1].len;
    ch->lowcase.data = ngx_pnalloc(cf->pool, value[1].len);
    if (ch->lowcase.data == NULL) {
        return NGX_CONF_ERROR;
    }

    ch->hash = ngx_hash_strlow(ch->lowcase.data, value[1].data,
                               value[1].len);

    for (i = 0; ngx_http_es_reserved_headers[i].len; i++) {
        if (ch->lowcase.len == ngx_http_es_reserved_headers[i].len
            && ngx_strncmp(ch->lowcase.data,
                           ngx_http_es_reserved_headers[i].data,
                           ch->lowcase.len) == 0)
        {
            goto reserved;
        }
    }

    /*
     * nor a header nginx keeps a pointer to (X-Forwarded-For, User-Agent,
     * ...): the pointer would still show the client's copy
     */

    for (i = 0; ngx_http_headers_in[i].name.len; i++) {
        if (ch->lowcase.len == ngx_http_headers_in[i].name.len
            && ngx_strncasecmp(ch->lowcase.data,
                               ngx_http_headers_in[i].name.data,
                               ch->lowcase.len) == 0)
        {
            goto reserved;
        }
    }

    if (ch->lowcase.len >= 6
        && ngx_strncmp(ch->lowcase.data, "proxy-", 6) == 0)
    {
        goto reserved;
    }

    if (value[2].len == 0 || value[2].data[0] == '.'
        || value[2].data[value[2].len - 1] == '.')
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid claim \"%V\"", &value[2]);
        return NGX_CONF_ERROR;
    }

    ch->claim = value[2];

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid header name \"%V\"", &value[1]);
    return NGX_CONF_ERROR;

reserved:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "\"%V\" cannot carry a claim", &value[1]);
    return NGX_CONF_ERROR;
}


char *
ngx_http_es_upstream_merge(ngx_conf_t *cf, ngx_http_es_loc_conf_t *prev,
    ngx_http_es_loc_conf_t *conf)
{
    ngx_uint_t                   i, k, arg, cookie;
    ngx_http_es_source_t        *src;
    ngx_http_es_main_conf_t     *emcf;
    ngx_http_es_claim_header_t  *ch;

    if (conf->cookie_name.data == NULL) {
        conf->cookie_name = prev->cookie_name;
        conf->cookie_attrs = prev->cookie_attrs;
    }

    ngx_conf_merge_value(conf->url_exchange, prev->url_exchange, 0);
    ngx_conf_merge_ptr_value(conf->claim_headers, prev->claim_headers, NULL);
    ngx_conf_merge_value(conf->strip_token, prev->strip_token, 0);

    if (!conf->verify) {
        return NGX_CONF_OK;
    }

    src = conf->source_kinds->elts;

    /* a claim header is never the header the token comes in */

    if (conf->claim_headers) {
        ch = conf->claim_headers->elts;

        for (i = 0; i < conf->claim_headers->nelts; i++) {
            for (k = 0; k < conf->source_kinds->nelts; k++) {
                if (ngx_http_es_source_is(&src[k], ch[i].lowcase.data,
                                          ch[i].lowcase.len))
                {
                    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                       "\"embed_session_claim_header %V\" "
                                       "is the token's own header",
                                       &ch[i].name);
                    return NGX_CONF_ERROR;
                }
            }
        }
    }

    if (!conf->url_exchange) {
        return NGX_CONF_OK;
    }

    arg = 0;
    cookie = 0;

    for (k = 0; k < conf->source_kinds->nelts; k++) {
        if (src[k].kind == NGX_HTTP_ES_SOURCE_ARG) {
            arg = 1;
        }

        if (src[k].kind == NGX_HTTP_ES_SOURCE_COOKIE
            && conf->cookie_name.data
            && src[k].name.len == conf->cookie_name.len
            && ngx_strncasecmp(src[k].name.data, conf->cookie_name.data,
                               src[k].name.len) == 0)
        {
            cookie = 1;
        }
    }

    if (conf->cookie_name.data == NULL || !arg || !cookie) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"embed_session_url_exchange\" needs "
                           "\"embed_session_cookie NAME\", and "
                           "\"embed_session_token\" with an $arg_ source and "
                           "$cookie_NAME");
        return NGX_CONF_ERROR;
    }

    emcf = ngx_http_conf_get_module_main_conf(cf,
                                              ngx_http_embed_session_module);
    emcf->exchange = 1;

    return NGX_CONF_OK;
}
