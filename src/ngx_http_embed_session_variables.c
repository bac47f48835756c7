
/*
 * Copyright (C) The ngx_http_embed_session_module authors
 *
 * $embed_session_* variables.  Claim variables are empty unless every check
 * passed, and never carry control characters: they end up in upstream
 * request headers and in logs.
 */


#include "ngx_http_embed_session_module.h"
#include "ngx_http_embed_session_apikey.h"


#define NGX_HTTP_ES_CLAIM_PREFIX  "embed_session_claim_"
#define NGX_HTTP_ES_REDACTED      "[redacted]"


static ngx_int_t ngx_http_es_variable_bearer(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_es_variable_claim(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_es_variable_claim_prefix(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_es_variable_origins(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_es_variable_ctx_str(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_es_variable_error(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_es_variable_reason(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_es_variable_args(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_es_variable_request_line(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_uint_t ngx_http_es_token_arg(ngx_array_t *token_args, u_char *arg,
    u_char *eq);
static u_char *ngx_http_es_line_protocol(u_char *start, u_char *last);
static ngx_int_t ngx_http_es_variable_str(ngx_http_variable_value_t *v,
    void *base, uintptr_t offset);
static ngx_int_t ngx_http_es_variable_api_key(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_es_variable_minted(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_es_variable_minted_exp(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);


static ngx_http_variable_t  ngx_http_es_vars[] = {

    { ngx_string("embed_session_bearer"), NULL,
      ngx_http_es_variable_bearer, 0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("embed_session_sub"), NULL,
      ngx_http_es_variable_claim, (uintptr_t) "sub",
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("embed_session_jti"), NULL,
      ngx_http_es_variable_claim, (uintptr_t) "jti",
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("embed_session_tenant"), NULL,
      ngx_http_es_variable_claim, (uintptr_t) "tenant",
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("embed_session_exp"), NULL,
      ngx_http_es_variable_claim, (uintptr_t) "exp",
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("embed_session_origins"), NULL,
      ngx_http_es_variable_origins, 0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("embed_session_origin"), NULL,
      ngx_http_es_variable_ctx_str,
      offsetof(ngx_http_es_ctx_t, origin), NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("embed_session_kid"), NULL,
      ngx_http_es_variable_ctx_str,
      offsetof(ngx_http_es_ctx_t, kid), NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("embed_session_error"), NULL,
      ngx_http_es_variable_error, 0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("embed_session_reason"), NULL,
      ngx_http_es_variable_reason, 0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("embed_session_args"), NULL,
      ngx_http_es_variable_args, 0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("embed_session_request_line"), NULL,
      ngx_http_es_variable_request_line, 0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("embed_session_api_key_id"), NULL,
      ngx_http_es_variable_api_key,
      offsetof(ngx_http_es_api_key_t, id), NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("embed_session_api_key_scope"), NULL,
      ngx_http_es_variable_api_key,
      offsetof(ngx_http_es_api_key_t, scope), NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("embed_session_api_key_tenant"), NULL,
      ngx_http_es_variable_api_key,
      offsetof(ngx_http_es_api_key_t, tenant), NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("embed_session_minted_token"), NULL,
      ngx_http_es_variable_minted,
      offsetof(ngx_http_es_ctx_t, minted), NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("embed_session_minted_jti"), NULL,
      ngx_http_es_variable_minted,
      offsetof(ngx_http_es_ctx_t, minted_jti), NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("embed_session_minted_exp"), NULL,
      ngx_http_es_variable_minted_exp, 0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string(NGX_HTTP_ES_CLAIM_PREFIX), NULL,
      ngx_http_es_variable_claim_prefix, 0,
      NGX_HTTP_VAR_NOCACHEABLE|NGX_HTTP_VAR_PREFIX, 0 },

      ngx_http_null_variable
};


ngx_int_t
ngx_http_es_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var, *v;

    for (v = ngx_http_es_vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}


static ngx_http_es_ctx_t *
ngx_http_es_verified(ngx_http_request_t *r)
{
    ngx_http_es_ctx_t  *ctx;

    ctx = ngx_http_es_get_ctx(r->main, 0);

    /* both, should a path ever refuse a request and keep its claims */

    if (ctx == NULL || ctx->claims == NULL
        || ctx->code != NGX_HTTP_ES_PASSED)
    {
        return NULL;
    }

    return ctx;
}


static void
ngx_http_es_variable_set(ngx_http_variable_value_t *v, u_char *data,
    size_t len)
{
    v->data = data;
    v->len = len;
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;
}


/* a claim as text, or not found if it is absent or has control bytes */

static ngx_int_t
ngx_http_es_claim_value(ngx_http_request_t *r, ngx_http_variable_value_t *v,
    u_char *name, size_t len)
{
    u_char             *p, *last;
    size_t              n;
    ngx_http_es_ctx_t  *ctx;

    v->not_found = 1;

    ctx = ngx_http_es_verified(r);
    if (ctx == NULL) {
        return NGX_OK;
    }

    n = ngx_http_es_jws_claim_text(ctx->claims, name, len, NULL, 0);
    if (n == 0) {
        return NGX_OK;
    }

    p = ngx_pnalloc(r->pool, n);
    if (p == NULL) {
        return NGX_ERROR;
    }

    (void) ngx_http_es_jws_claim_text(ctx->claims, name, len, p, n);

    for (last = p + n; last > p; last--) {
        if (last[-1] < 0x20 || last[-1] == 0x7f) {
            ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                          "embed_session: claim \"%*s\" has control "
                          "characters, left empty", len, name);
            return NGX_OK;
        }
    }

    ngx_http_es_variable_set(v, p, n);

    return NGX_OK;
}


static ngx_int_t
ngx_http_es_variable_claim(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    u_char  *name = (u_char *) data;

    return ngx_http_es_claim_value(r, v, name, ngx_strlen(name));
}


static ngx_int_t
ngx_http_es_variable_claim_prefix(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_str_t  *name = (ngx_str_t *) data;

    size_t  prefix;

    prefix = sizeof(NGX_HTTP_ES_CLAIM_PREFIX) - 1;

    if (name->len <= prefix) {
        v->not_found = 1;
        return NGX_OK;
    }

    return ngx_http_es_claim_value(r, v, name->data + prefix,
                                   name->len - prefix);
}


typedef struct {
    ngx_str_t             out;
    size_t                size;
} ngx_http_es_join_t;


static int
ngx_http_es_join_origin(void *data, const unsigned char *s, size_t len)
{
    ngx_http_es_join_t *j = data;

    u_char  buf[256];
    size_t  n;

    /* only origins that could ever match are shown, in normal form */

    if (len > sizeof(buf)
        || ngx_http_es_origin_normalize(buf, &n, (u_char *) s, len, 0)
           != NGX_OK)
    {
        return NGX_HTTP_ES_JWS_OK;
    }

    if (j->out.len + n + 1 > j->size) {
        return NGX_HTTP_ES_JWS_OK;
    }

    if (j->out.len) {
        j->out.data[j->out.len++] = ' ';
    }

    ngx_memcpy(j->out.data + j->out.len, buf, n);
    j->out.len += n;

    return NGX_HTTP_ES_JWS_OK;
}


static ngx_int_t
ngx_http_es_variable_origins(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    size_t                   n;
    ngx_http_es_ctx_t       *ctx;
    ngx_http_es_join_t       j;
    ngx_http_es_loc_conf_t  *elcf;

    v->not_found = 1;

    ctx = ngx_http_es_verified(r);
    if (ctx == NULL) {
        return NGX_OK;
    }

    elcf = ngx_http_get_module_loc_conf(r, ngx_http_embed_session_module);

    n = ngx_http_es_jws_claim_text(ctx->claims, elcf->origin_claim.data,
                                   elcf->origin_claim.len, NULL, 0);
    if (n == 0) {
        return NGX_OK;
    }

    /* normalisation never lengthens an origin; separators replace commas */

    j.size = n + 1;
    j.out.len = 0;
    j.out.data = ngx_pnalloc(r->pool, j.size);
    if (j.out.data == NULL) {
        return NGX_ERROR;
    }

    (void) ngx_http_es_jws_claim_strings(ctx->claims,
                                         elcf->origin_claim.data,
                                         elcf->origin_claim.len,
                                         ngx_http_es_join_origin, &j);

    if (j.out.len) {
        ngx_http_es_variable_set(v, j.out.data, j.out.len);
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_es_variable_ctx_str(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    return ngx_http_es_variable_str(v, ngx_http_es_verified(r), data);
}


/* the ngx_str_t at offset in base; none when base is NULL or it is empty */

static ngx_int_t
ngx_http_es_variable_str(ngx_http_variable_value_t *v, void *base,
    uintptr_t offset)
{
    ngx_str_t  *s;

    v->not_found = 1;

    if (base == NULL) {
        return NGX_OK;
    }

    s = (ngx_str_t *) ((char *) base + offset);

    if (s->len) {
        ngx_http_es_variable_set(v, s->data, s->len);
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_es_variable_error(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_str_t          *code;
    ngx_http_es_ctx_t  *ctx;

    v->not_found = 1;

    ctx = ngx_http_es_get_ctx(r->main, 0);

    if (ctx == NULL) {
        return NGX_OK;
    }

    /* the code answered with (renamed or a deny rule's), else the verifier's */

    if (ctx->error.len) {
        code = &ctx->error;

    } else if (ctx->code != NGX_HTTP_ES_PASSED) {
        code = ngx_http_es_code_name(ctx->code);

    } else {
        return NGX_OK;
    }

    ngx_http_es_variable_set(v, code->data, code->len);

    return NGX_OK;
}


static ngx_int_t
ngx_http_es_variable_reason(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_es_ctx_t  *ctx;

    v->not_found = 1;

    ctx = ngx_http_es_get_ctx(r->main, 0);

    if (ctx == NULL || ctx->code == NGX_HTTP_ES_PASSED
        || ctx->reason == NULL)
    {
        return NGX_OK;
    }

    ngx_http_es_variable_set(v, (u_char *) ctx->reason,
                             ngx_strlen(ctx->reason));

    return NGX_OK;
}


static ngx_int_t
ngx_http_es_variable_bearer(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    u_char  *p, *last;

    v->not_found = 1;

    if (r->headers_in.authorization == NULL) {
        return NGX_OK;
    }

    p = r->headers_in.authorization->value.data;
    last = p + r->headers_in.authorization->value.len;

    /* the auth-scheme is case-insensitive (RFC 9110, section 11.1) */

    if (last - p < 7 || ngx_strncasecmp(p, (u_char *) "Bearer ", 7) != 0) {
        return NGX_OK;
    }

    for (p += 7; p < last && *p == ' '; p++) { /* void */ }

    while (last > p && last[-1] == ' ') {
        last--;
    }

    if (p < last) {
        ngx_http_es_variable_set(v, p, last - p);
    }

    return NGX_OK;
}


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


static ngx_int_t
ngx_http_es_variable_args(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_str_t                out;
    ngx_http_es_loc_conf_t  *elcf;

    elcf = ngx_http_get_module_loc_conf(r, ngx_http_embed_session_module);

    if (ngx_http_es_strip_args(r, elcf->token_args, &r->args, &out, 0)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_http_es_variable_set(v, out.data, out.len);

    return NGX_OK;
}


static ngx_int_t
ngx_http_es_variable_request_line(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_str_t                 line;
    ngx_http_es_main_conf_t  *emcf;

    /* every level's token arguments: a request may end anywhere */

    emcf = ngx_http_get_module_main_conf(r, ngx_http_embed_session_module);

    if (ngx_http_es_mask_request_line(r, emcf->token_args, &line) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_http_es_variable_set(v, line.data, line.len);

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


/* the authenticated API key: set from the access or the content phase */

static ngx_int_t
ngx_http_es_variable_api_key(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_es_ctx_t  *ctx;

    ctx = ngx_http_es_get_ctx(r->main, 0);

    return ngx_http_es_variable_str(v, ctx ? ctx->api_key : NULL, data);
}


static ngx_int_t
ngx_http_es_variable_minted(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    return ngx_http_es_variable_str(v, ngx_http_es_get_ctx(r->main, 0), data);
}


static ngx_int_t
ngx_http_es_variable_minted_exp(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    u_char             *p;
    ngx_http_es_ctx_t  *ctx;

    v->not_found = 1;

    ctx = ngx_http_es_get_ctx(r->main, 0);
    if (ctx == NULL || ctx->minted_exp == 0) {
        return NGX_OK;
    }

    p = ngx_pnalloc(r->pool, NGX_TIME_T_LEN);
    if (p == NULL) {
        return NGX_ERROR;
    }

    ngx_http_es_variable_set(v, p, ngx_sprintf(p, "%T", ctx->minted_exp) - p);

    return NGX_OK;
}
