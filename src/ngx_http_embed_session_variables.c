
/*
 * Copyright (C) The ngx_http_embed_session_module authors
 *
 * $embed_session_* variables.  Claim variables are empty unless every check
 * passed, and never carry control characters: they end up in upstream
 * request headers and in logs.
 */


#include "ngx_http_embed_session_module.h"
#include "ngx_http_embed_session_jws.h"
#include "ngx_http_embed_session_origin.h"
#include "ngx_http_embed_session_response.h"
#include "ngx_http_embed_session_url_token.h"
#include "ngx_http_embed_session_variables.h"


#define NGX_HTTP_ES_CLAIM_PREFIX  "embed_session_claim_"


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
