
/*
 * Copyright (C) The ngx_http_embed_session_module authors
 *
 * What a browser is told and asked: frame-ancestors built from the
 * session's own origins, Sec-Fetch-Dest and Sec-Fetch-Site checks, CORS
 * preflights answered at the edge and CORS headers on the answers, and the
 * browser channel (a browser brings a session, a server an API key).
 */


#include "ngx_http_embed_session_module.h"
#include "ngx_http_embed_session_browser.h"
#include "ngx_http_embed_session_jws.h"
#include "ngx_http_embed_session_origin.h"
#include "ngx_http_embed_session_response.h"


typedef struct {
    ngx_http_request_t  *r;
    ngx_array_t         *origins;           /* ngx_str_t */
} ngx_http_es_frame_ctx_t;


static ngx_int_t ngx_http_es_filter_init(ngx_conf_t *cf);
static ngx_int_t ngx_http_es_browser_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_es_fetch_check(ngx_http_request_t *r,
    ngx_str_t *name, ngx_http_es_list_t *list);
static ngx_int_t ngx_http_es_preflight(ngx_http_request_t *r,
    ngx_http_es_loc_conf_t *elcf, ngx_str_t *method);
static ngx_int_t ngx_http_es_preflight_headers(ngx_http_request_t *r,
    ngx_http_es_loc_conf_t *elcf);
static ngx_int_t ngx_http_es_reject(ngx_http_request_t *r,
    ngx_http_es_code_t code, const char *reason);
static ngx_int_t ngx_http_es_header_filter(ngx_http_request_t *r);
static ngx_int_t ngx_http_es_frame(ngx_http_request_t *r,
    ngx_http_es_loc_conf_t *elcf, ngx_http_es_jws_claims_t *claims);
static int ngx_http_es_frame_origin(void *data, const unsigned char *s,
    size_t len);
static ngx_int_t ngx_http_es_csp_without_frame(ngx_http_request_t *r,
    ngx_str_t *value);
static ngx_int_t ngx_http_es_cors(ngx_http_request_t *r,
    ngx_http_es_loc_conf_t *elcf, ngx_http_es_ctx_t *ctx);
static u_char *ngx_http_es_list_item(u_char *p, u_char *last, u_char sep,
    ngx_str_t *item);
static ngx_uint_t ngx_http_es_listed(ngx_http_es_list_t *list,
    ngx_str_t *value);
static void ngx_http_es_headers_out_remove(ngx_http_request_t *r,
    char *name, ngx_uint_t prefix);
static char *ngx_http_es_list_value(ngx_conf_t *cf, ngx_uint_t kind,
    ngx_http_es_list_t *list, ngx_str_t *value);
static char *ngx_http_es_list_merge(ngx_conf_t *cf, ngx_http_es_list_t *conf,
    ngx_http_es_list_t *prev, ngx_uint_t kind, char *deflt);
static char *ngx_http_es_list_text(ngx_conf_t *cf, ngx_http_es_list_t *list,
    ngx_str_t *values, ngx_uint_t n);


/*
 * The response-header filter is a module of its own, of the HTTP_FILTER
 * kind (see config): nginx initialises it after its own header filter
 * module, which starts the chain, and after the headers filter module
 * (add_header, expires).  It therefore runs before add_header: what the
 * upstream says is replaced, what the location adds itself is not.
 */

static ngx_http_module_t  ngx_http_embed_session_filter_module_ctx = {
    NULL,                                  /* preconfiguration */
    ngx_http_es_filter_init,               /* postconfiguration */

    NULL,                                  /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    NULL,                                  /* create location configuration */
    NULL                                   /* merge location configuration */
};


ngx_module_t  ngx_http_embed_session_filter_module = {
    NGX_MODULE_V1,
    &ngx_http_embed_session_filter_module_ctx, /* module context */
    NULL,                                  /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_http_output_header_filter_pt  ngx_http_es_next_header_filter;


static ngx_str_t  ngx_http_es_fetch_dest = ngx_string("sec-fetch-dest");
static ngx_str_t  ngx_http_es_fetch_site = ngx_string("sec-fetch-site");
static ngx_str_t  ngx_http_es_origin_name = ngx_string("origin");
static ngx_str_t  ngx_http_es_acrm = ngx_string(
                                         "access-control-request-method");
static ngx_str_t  ngx_http_es_acrh = ngx_string(
                                         "access-control-request-headers");

static ngx_str_t  ngx_http_es_vary_origin = ngx_string("Origin");
static ngx_str_t  ngx_http_es_vary_preflight = ngx_string(
    "Origin, Access-Control-Request-Method, Access-Control-Request-Headers");
static ngx_str_t  ngx_http_es_true = ngx_string("true");

/* request headers a preflight may always name: CORS-safelisted ones */

static ngx_str_t  ngx_http_es_safelisted[] = {
    ngx_string("accept"),
    ngx_string("accept-language"),
    ngx_string("content-language"),
    ngx_null_string
};

static ngx_str_t  ngx_http_es_sites[] = {
    ngx_string("same-origin"),
    ngx_string("same-site"),
    ngx_string("cross-site"),
    ngx_string("none"),
    ngx_null_string
};


/* the access checks a browser's request meets before the module's others */

ngx_int_t
ngx_http_es_browser_init(ngx_conf_t *cf)
{
    /* after limit_req and limit_conn: a preflight flood is limited too */

    if (ngx_http_es_phase_handler(cf, NGX_HTTP_PREACCESS_PHASE,
                                  ngx_http_es_browser_handler, 1)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_es_filter_init(ngx_conf_t *cf)
{
    ngx_http_es_main_conf_t  *emcf;

    emcf = ngx_http_conf_get_module_main_conf(cf,
                                              ngx_http_embed_session_module);

    if (!emcf->browser) {
        return NGX_OK;
    }

    /*
     * A filter installed before nginx's header filter module finds no
     * chain, and that module's init then starts the chain afresh without
     * it: the frame-ancestors and CORS headers would silently be missing.
     * It happens when this module is initialised out of nginx's filter
     * order (a build that does not use this repository's config).
     */

    if (ngx_http_top_header_filter == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "ngx_http_embed_session_filter_module is "
                           "initialised before ngx_http_header_filter_module: "
                           "the frame-ancestors and CORS headers would be "
                           "lost; build the module with its own \"config\"");
        return NGX_ERROR;
    }

    ngx_http_es_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_es_header_filter;

    return NGX_OK;
}


static ngx_int_t
ngx_http_es_browser_handler(ngx_http_request_t *r)
{
    ngx_int_t                rc;
    ngx_str_t                method;
    ngx_http_es_loc_conf_t  *elcf;

    elcf = ngx_http_get_module_loc_conf(r, ngx_http_embed_session_module);

    if (r != r->main
        || (elcf->fetch_dest.values == NULL
            && elcf->fetch_site.values == NULL
            && elcf->cors.values == NULL))
    {
        return NGX_DECLINED;
    }

    if (elcf->fetch_dest.values
        && ngx_http_es_fetch_check(r, &ngx_http_es_fetch_dest,
                                   &elcf->fetch_dest)
           != NGX_OK)
    {
        return ngx_http_es_reject(r, NGX_HTTP_ES_FETCH_NOT_ALLOWED,
                                  "Sec-Fetch-Dest not allowed");
    }

    if (elcf->fetch_site.values
        && ngx_http_es_fetch_check(r, &ngx_http_es_fetch_site,
                                   &elcf->fetch_site)
           != NGX_OK)
    {
        return ngx_http_es_reject(r, NGX_HTTP_ES_FETCH_NOT_ALLOWED,
                                  "Sec-Fetch-Site not allowed");
    }

    if (elcf->cors.values == NULL || r->method != NGX_HTTP_OPTIONS) {
        return NGX_DECLINED;
    }

    /* a preflight carries no token: it is answered here, or refused */

    rc = ngx_http_es_header_in(r, &ngx_http_es_acrm, &method);

    if (rc == NGX_DECLINED) {
        return NGX_DECLINED;
    }

    if (rc == NGX_ERROR) {
        return ngx_http_es_reject(r, NGX_HTTP_ES_PREFLIGHT_REFUSED,
                          "several Access-Control-Request-Method headers");
    }

    return ngx_http_es_preflight(r, elcf, &method);
}


/* exactly one header with a listed value, or none when "absent" is listed */

static ngx_int_t
ngx_http_es_fetch_check(ngx_http_request_t *r, ngx_str_t *name,
    ngx_http_es_list_t *list)
{
    ngx_int_t   rc;
    ngx_str_t   value;

    rc = ngx_http_es_header_in(r, name, &value);

    if (rc == NGX_DECLINED) {
        return (list->flags & NGX_HTTP_ES_LIST_ABSENT) ? NGX_OK
                                                       : NGX_DECLINED;
    }

    if (rc != NGX_OK) {
        return NGX_DECLINED;
    }

    return ngx_http_es_listed(list, &value) ? NGX_OK : NGX_DECLINED;
}


static ngx_int_t
ngx_http_es_preflight(ngx_http_request_t *r, ngx_http_es_loc_conf_t *elcf,
    ngx_str_t *method)
{
    u_char     *p;
    ngx_int_t   rc;
    ngx_str_t   origin, value;

    if (ngx_http_es_origin_get(r, 0, &origin) != NGX_OK) {
        return ngx_http_es_reject(r, NGX_HTTP_ES_ORIGIN_NOT_ALLOWED,
                                  "no usable Origin in a preflight");
    }

    if (!(elcf->cors.flags & NGX_HTTP_ES_LIST_ANY)
        && !ngx_http_es_listed(&elcf->cors, &origin))
    {
        return ngx_http_es_reject(r, NGX_HTTP_ES_ORIGIN_NOT_ALLOWED,
                                  "origin not in \"embed_session_cors\"");
    }

    if (!ngx_http_es_listed(&elcf->cors_methods, method)) {
        return ngx_http_es_reject(r, NGX_HTTP_ES_PREFLIGHT_REFUSED,
                                  "method not in "
                                  "\"embed_session_cors_methods\"");
    }

    rc = ngx_http_es_preflight_headers(r, elcf);

    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc != NGX_OK) {
        return ngx_http_es_reject(r, NGX_HTTP_ES_PREFLIGHT_REFUSED,
                                  "header not in "
                                  "\"embed_session_cors_headers\"");
    }

    p = ngx_pnalloc(r->pool, NGX_TIME_T_LEN);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    value.data = p;
    value.len = ngx_sprintf(p, "%T", elcf->cors_max_age) - p;

    /* nothing can fail between the first header and the answer */

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    if (ngx_http_es_header_str(r, "Access-Control-Allow-Origin", &origin)
           == NULL
        || ngx_http_es_header_str(r, "Access-Control-Allow-Methods",
                                  &elcf->cors_methods.text)
           == NULL
        || ngx_http_es_header_str(r, "Access-Control-Allow-Headers",
                                  &elcf->cors_headers.text)
           == NULL
        || ngx_http_es_header_str(r, "Access-Control-Max-Age", &value)
           == NULL
        || (elcf->cors_credentials
            && ngx_http_es_header_str(r, "Access-Control-Allow-Credentials",
                                      &ngx_http_es_true)
               == NULL)
        || ngx_http_es_header_str(r, "Vary", &ngx_http_es_vary_preflight)
           == NULL)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "embed_session: preflight answered: origin \"%V\", "
                   "method \"%V\"", ngx_http_es_log_text(r->pool, &origin),
                   method);

    return ngx_http_es_send_empty(r, NGX_HTTP_NO_CONTENT);
}


/* every name of every Access-Control-Request-Headers, comma-separated */

static ngx_int_t
ngx_http_es_preflight_headers(ngx_http_request_t *r,
    ngx_http_es_loc_conf_t *elcf)
{
    u_char           *p, *last;
    ngx_str_t         name;
    ngx_uint_t        i, k, hash, ok;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    hash = ngx_hash_key(ngx_http_es_acrh.data, ngx_http_es_acrh.len);

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

        if (h[i].hash != hash || h[i].key.len != ngx_http_es_acrh.len
            || ngx_memcmp(h[i].lowcase_key, ngx_http_es_acrh.data,
                          ngx_http_es_acrh.len) != 0)
        {
            continue;
        }

        /* header names are compared in lowercase */

        p = ngx_pnalloc(r->pool, h[i].value.len);
        if (p == NULL) {
            return NGX_ERROR;
        }

        ngx_strlow(p, h[i].value.data, h[i].value.len);
        last = p + h[i].value.len;

        while (p < last) {
            p = ngx_http_es_list_item(p, last, ',', &name);

            if (name.len == 0) {
                continue;
            }

            ok = 0;

            for (k = 0; ngx_http_es_safelisted[k].len; k++) {
                if (name.len == ngx_http_es_safelisted[k].len
                    && ngx_strncmp(name.data, ngx_http_es_safelisted[k].data,
                                   name.len) == 0)
                {
                    ok = 1;
                    break;
                }
            }

            if (!ok && !ngx_http_es_listed(&elcf->cors_headers, &name)) {
                return NGX_DECLINED;
            }
        }
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_es_reject(ngx_http_request_t *r, ngx_http_es_code_t code,
    const char *reason)
{
    ngx_http_es_ctx_t  *ctx;

    ctx = ngx_http_es_get_ctx(r, 1);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->code = code;
    ctx->reason = reason;

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "embed_session: %V: %s", ngx_http_es_code_name(code),
                  reason);

    return ngx_http_es_error(r, code);
}


/* a browser: it says where it comes from, or what kind of fetch this is */

ngx_int_t
ngx_http_es_from_browser(ngx_http_request_t *r)
{
    ngx_str_t  value;

    return ngx_http_es_header_in(r, &ngx_http_es_origin_name, &value)
               != NGX_DECLINED
           || ngx_http_es_header_in(r, &ngx_http_es_fetch_site, &value)
               != NGX_DECLINED;
}


static ngx_int_t
ngx_http_es_header_filter(ngx_http_request_t *r)
{
    ngx_str_t                method;
    ngx_http_es_ctx_t       *ctx;
    ngx_http_es_loc_conf_t  *elcf;

    elcf = ngx_http_get_module_loc_conf(r, ngx_http_embed_session_module);

    if (r != r->main
        || (elcf->frame_ancestors == NGX_HTTP_ES_FRAME_OFF
            && elcf->cors.values == NULL))
    {
        return ngx_http_es_next_header_filter(r);
    }

    /* claims are kept only for a token that passed every check */

    ctx = ngx_http_es_get_ctx(r, 0);

    if (elcf->frame_ancestors != NGX_HTTP_ES_FRAME_OFF
        && ngx_http_es_frame(r, elcf,
                             (ctx && ctx->code == NGX_HTTP_ES_PASSED)
                             ? ctx->claims : NULL)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    /* a preflight answered here has its headers; a refused one gets none */

    if (elcf->cors.values
        && !(r->method == NGX_HTTP_OPTIONS
             && ngx_http_es_header_in(r, &ngx_http_es_acrm, &method)
                != NGX_DECLINED)
        && ngx_http_es_cors(r, elcf, ctx) != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_es_next_header_filter(r);
}


/*
 * Content-Security-Policy: frame-ancestors with the session's origins, in
 * place of what the upstream said about framing.  The origins are signed,
 * and still each is brought to normal form again: nothing of a claim but
 * an origin ever reaches the header.
 */

static ngx_int_t
ngx_http_es_frame(ngx_http_request_t *r, ngx_http_es_loc_conf_t *elcf,
    ngx_http_es_jws_claims_t *claims)
{
    u_char                   *p;
    size_t                    len;
    ngx_str_t                 value, *o;
    ngx_uint_t                i;
    ngx_list_part_t          *part;
    ngx_table_elt_t          *h;
    ngx_http_es_frame_ctx_t   fc;

    ngx_http_es_headers_out_remove(r, "x-frame-options", 0);

    if (elcf->frame_ancestors == NGX_HTTP_ES_FRAME_REPLACE) {
        ngx_http_es_headers_out_remove(r, "content-security-policy", 0);

    } else {
        part = &r->headers_out.headers.part;
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

            if (h[i].hash == 0
                || h[i].key.len != sizeof("Content-Security-Policy") - 1
                || ngx_strncasecmp(h[i].key.data,
                                   (u_char *) "Content-Security-Policy",
                                   h[i].key.len) != 0)
            {
                continue;
            }

            if (ngx_http_es_csp_without_frame(r, &h[i].value) != NGX_OK) {
                return NGX_ERROR;
            }

            if (h[i].value.len == 0) {
                h[i].hash = 0;
            }
        }
    }

    fc.r = r;
    fc.origins = ngx_array_create(r->pool, 4, sizeof(ngx_str_t));
    if (fc.origins == NULL) {
        return NGX_ERROR;
    }

    if (claims) {
        (void) ngx_http_es_jws_claim_strings(claims, elcf->origin_claim.data,
                                             elcf->origin_claim.len,
                                             ngx_http_es_frame_origin, &fc);
    }

    o = fc.origins->elts;
    len = sizeof("frame-ancestors 'none'") - 1;

    for (i = 0; i < fc.origins->nelts; i++) {
        len += 1 + o[i].len;
    }

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    value.data = p;
    p = ngx_cpymem(p, "frame-ancestors", sizeof("frame-ancestors") - 1);

    if (fc.origins->nelts == 0) {
        p = ngx_cpymem(p, " 'none'", sizeof(" 'none'") - 1);
    }

    for (i = 0; i < fc.origins->nelts; i++) {
        *p++ = ' ';
        p = ngx_cpymem(p, o[i].data, o[i].len);
    }

    value.len = p - value.data;

    return ngx_http_es_header_str(r, "Content-Security-Policy", &value)
           ? NGX_OK : NGX_ERROR;
}


static int
ngx_http_es_frame_origin(void *data, const unsigned char *s, size_t len)
{
    ngx_http_es_frame_ctx_t *fc = data;

    u_char      *p;
    size_t       n;
    ngx_str_t   *o;
    ngx_uint_t   i;

    if (len == 0 || len > 255 || fc->origins->nelts >= 64) {
        return 0;
    }

    p = ngx_pnalloc(fc->r->pool, len);
    if (p == NULL) {
        return 0;
    }

    if (ngx_http_es_origin_normalize(p, &n, (u_char *) s, len, 0) != NGX_OK) {
        return 0;
    }

    o = fc->origins->elts;

    for (i = 0; i < fc->origins->nelts; i++) {
        if (o[i].len == n && ngx_memcmp(o[i].data, p, n) == 0) {
            return 0;
        }
    }

    o = ngx_array_push(fc->origins);
    if (o == NULL) {
        return 0;
    }

    o->data = p;
    o->len = n;

    return 0;
}


/*
 * An upstream policy without its frame-ancestors: a header holds a list of
 * policies (","), each a list of directives (";"); empty ones are dropped.
 */

static ngx_int_t
ngx_http_es_csp_without_frame(ngx_http_request_t *r, ngx_str_t *value)
{
    u_char      *p, *q, *last, *end, *d, *out;
    ngx_str_t    item;
    size_t       n;
    ngx_uint_t   first;

    n = sizeof("frame-ancestors") - 1;

    out = ngx_pnalloc(r->pool, 2 * value->len + 2);
    if (out == NULL) {
        return NGX_ERROR;
    }

    d = out;
    p = value->data;
    last = p + value->len;

    for ( ;; ) {
        end = ngx_strlchr(p, last, ',');
        if (end == NULL) {
            end = last;
        }

        first = 1;
        q = p;

        while (q < end) {
            q = ngx_http_es_list_item(q, end, ';', &item);

            if (item.len == 0
                || (item.len >= n
                    && ngx_strncasecmp(item.data, (u_char *) "frame-ancestors",
                                       n)
                       == 0
                    && (item.len == n
                        || item.data[n] == ' ' || item.data[n] == '\t')))
            {
                continue;
            }

            if (!first) {
                *d++ = ';';
                *d++ = ' ';

            } else if (d != out) {
                *d++ = ',';
                *d++ = ' ';
            }

            d = ngx_cpymem(d, item.data, item.len);
            first = 0;
        }

        if (end == last) {
            break;
        }

        p = end + 1;
    }

    value->data = out;
    value->len = d - out;

    return NGX_OK;
}


/*
 * CORS headers are the module's alone: the upstream's go, Vary: Origin is
 * always there, and an origin is allowed to read an answer when it is
 * listed and the answer is for it: an error of the module, a success with
 * a token checked against that origin or minted for it, or, where nothing
 * is verified, a listed origin.
 */

static ngx_int_t
ngx_http_es_cors(ngx_http_request_t *r, ngx_http_es_loc_conf_t *elcf,
    ngx_http_es_ctx_t *ctx)
{
    ngx_str_t   origin;
    ngx_uint_t  allow;

    ngx_http_es_headers_out_remove(r, "access-control-", 1);

    if (ngx_http_es_header_str(r, "Vary", &ngx_http_es_vary_origin) == NULL) {
        return NGX_ERROR;
    }

    if (ngx_http_es_origin_get(r, 0, &origin) != NGX_OK) {
        return NGX_OK;
    }

    if (!(elcf->cors.flags & NGX_HTTP_ES_LIST_ANY)
        && !ngx_http_es_listed(&elcf->cors, &origin))
    {
        return NGX_OK;
    }

    if (ctx && ctx->answered) {
        allow = 1;

    } else if (ctx && ctx->origin.len) {

        /* a token checked against this origin, or minted for it */

        allow = ctx->origin.len == origin.len
                && ngx_memcmp(ctx->origin.data, origin.data, origin.len) == 0;

    } else {
        allow = !elcf->verify && !(elcf->cors.flags & NGX_HTTP_ES_LIST_ANY);
    }

    if (!allow) {
        return NGX_OK;
    }

    if (ngx_http_es_header_str(r, "Access-Control-Allow-Origin", &origin)
           == NULL
        || (elcf->cors_credentials
            && ngx_http_es_header_str(r, "Access-Control-Allow-Credentials",
                                      &ngx_http_es_true)
               == NULL)
        || (elcf->cors_expose.values
            && ngx_http_es_header_str(r, "Access-Control-Expose-Headers",
                                      &elcf->cors_expose.text)
               == NULL))
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * The next item of a list separated by sep, without the spaces and tabs
 * around it (empty: none there); returns where the item after it starts.
 */

static u_char *
ngx_http_es_list_item(u_char *p, u_char *last, u_char sep, ngx_str_t *item)
{
    u_char  *end;

    while (p < last && (*p == ' ' || *p == '\t' || *p == sep)) {
        p++;
    }

    item->data = p;

    while (p < last && *p != sep) {
        p++;
    }

    end = p;

    while (end > item->data && (end[-1] == ' ' || end[-1] == '\t')) {
        end--;
    }

    item->len = end - item->data;

    return p;
}


/* values are kept lowercase where the comparison ignores case */

static ngx_uint_t
ngx_http_es_listed(ngx_http_es_list_t *list, ngx_str_t *value)
{
    ngx_str_t   *v;
    ngx_uint_t   i;

    v = list->values->elts;

    for (i = 0; i < list->values->nelts; i++) {
        if (v[i].len != value->len) {
            continue;
        }

        if (ngx_strncmp(v[i].data, value->data, value->len) == 0) {
            return 1;
        }
    }

    return 0;
}


static void
ngx_http_es_headers_out_remove(ngx_http_request_t *r, char *name,
    ngx_uint_t prefix)
{
    size_t            len;
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    len = ngx_strlen(name);

    part = &r->headers_out.headers.part;
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

        if (h[i].hash != 0
            && (prefix ? h[i].key.len >= len : h[i].key.len == len)
            && ngx_strncasecmp(h[i].key.data, (u_char *) name, len) == 0)
        {
            h[i].hash = 0;
        }
    }
}


/* configuration */

char *
ngx_http_es_list(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    char  *p = conf;

    char                *rv;
    ngx_str_t           *value;
    ngx_uint_t           i, kind;
    ngx_http_es_list_t  *list;

    list = (ngx_http_es_list_t *) (p + cmd->offset);
    kind = (ngx_uint_t) cmd->post;

    if (list->values != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;
    list->flags = 0;
    ngx_str_null(&list->text);

    if (cf->args->nelts == 2 && ngx_strcmp(value[1].data, "off") == 0
        && kind != NGX_HTTP_ES_LIST_METHODS
        && kind != NGX_HTTP_ES_LIST_HEADERS)
    {
        list->values = NULL;
        return NGX_CONF_OK;
    }

    list->values = ngx_array_create(cf->pool, cf->args->nelts - 1,
                                    sizeof(ngx_str_t));
    if (list->values == NULL) {
        return NGX_CONF_ERROR;
    }

    for (i = 1; i < cf->args->nelts; i++) {
        rv = ngx_http_es_list_value(cf, kind, list, &value[i]);
        if (rv != NGX_CONF_OK) {
            return rv;
        }
    }

    if ((list->flags & NGX_HTTP_ES_LIST_ANY) && list->values->nelts) {
        return "takes \"any\" or origins, not both";
    }

    if (list->values->nelts == 0 && !(list->flags & NGX_HTTP_ES_LIST_ANY)) {
        return "lists no value but \"absent\"";
    }

    return ngx_http_es_list_text(cf, list, &value[1], cf->args->nelts - 1);
}


static char *
ngx_http_es_list_value(ngx_conf_t *cf, ngx_uint_t kind,
    ngx_http_es_list_t *list, ngx_str_t *value)
{
    u_char      c, *p;
    ngx_str_t  *v;
    ngx_uint_t  i;

    if ((kind == NGX_HTTP_ES_LIST_DEST || kind == NGX_HTTP_ES_LIST_SITE)
        && ngx_strcmp(value->data, "absent") == 0)
    {
        list->flags |= NGX_HTTP_ES_LIST_ABSENT;
        return NGX_CONF_OK;
    }

    if (kind == NGX_HTTP_ES_LIST_ORIGINS
        && ngx_strcmp(value->data, "any") == 0)
    {
        list->flags |= NGX_HTTP_ES_LIST_ANY;
        return NGX_CONF_OK;
    }

    v = ngx_array_push(list->values);
    if (v == NULL) {
        return NGX_CONF_ERROR;
    }

    if (kind == NGX_HTTP_ES_LIST_ORIGINS) {
        v->data = ngx_pnalloc(cf->pool, value->len);
        if (v->data == NULL) {
            return NGX_CONF_ERROR;
        }

        if (value->len > 255
            || ngx_http_es_origin_normalize(v->data, &v->len, value->data,
                                            value->len, 0)
               != NGX_OK)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid origin \"%V\": "
                               "\"scheme://host[:port]\" expected", value);
            return NGX_CONF_ERROR;
        }

        return NGX_CONF_OK;
    }

    if (kind == NGX_HTTP_ES_LIST_SITE) {
        for (i = 0; ngx_http_es_sites[i].len; i++) {
            if (value->len == ngx_http_es_sites[i].len
                && ngx_strcmp(value->data, ngx_http_es_sites[i].data) == 0)
            {
                *v = *value;
                return NGX_CONF_OK;
            }
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid Sec-Fetch-Site value \"%V\": "
                           "same-origin, same-site, cross-site, none or "
                           "absent expected", value);
        return NGX_CONF_ERROR;
    }

    /* tokens: lowercase fetch destinations, methods, header names */

    if (value->len == 0) {
        goto invalid;
    }

    for (p = value->data; p < value->data + value->len; p++) {
        c = *p;

        if (kind == NGX_HTTP_ES_LIST_DEST) {
            if ((c < 'a' || c > 'z') && c != '-') {
                goto invalid;
            }

        } else if (kind == NGX_HTTP_ES_LIST_METHODS) {
            if (c < 'A' || c > 'Z') {
                goto invalid;
            }

        } else if ((c < 'a' || c > 'z') && (c < 'A' || c > 'Z')
                   && (c < '0' || c > '9') && c != '-' && c != '_')
        {
            goto invalid;
        }
    }

    *v = *value;

    if (kind == NGX_HTTP_ES_LIST_HEADERS) {
        v->data = ngx_pnalloc(cf->pool, value->len);
        if (v->data == NULL) {
            return NGX_CONF_ERROR;
        }

        ngx_strlow(v->data, value->data, value->len);
    }

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid value \"%V\" in \"%V\"",
                       value, &((ngx_str_t *) cf->args->elts)[0]);
    return NGX_CONF_ERROR;
}


/* "A, B, C" of the values as configured, for a header */

static char *
ngx_http_es_list_text(ngx_conf_t *cf, ngx_http_es_list_t *list,
    ngx_str_t *values, ngx_uint_t n)
{
    u_char      *p;
    size_t       len;
    ngx_uint_t   i, first;

    len = 0;

    for (i = 0; i < n; i++) {
        len += values[i].len + 2;
    }

    p = ngx_pnalloc(cf->pool, len);
    if (p == NULL) {
        return NGX_CONF_ERROR;
    }

    list->text.data = p;
    first = 1;

    for (i = 0; i < n; i++) {
        if (ngx_strcmp(values[i].data, "absent") == 0
            || ngx_strcmp(values[i].data, "any") == 0)
        {
            continue;
        }

        if (!first) {
            *p++ = ',';
            *p++ = ' ';
        }

        p = ngx_cpymem(p, values[i].data, values[i].len);
        first = 0;
    }

    list->text.len = p - list->text.data;

    return NGX_CONF_OK;
}


static char *
ngx_http_es_list_merge(ngx_conf_t *cf, ngx_http_es_list_t *conf,
    ngx_http_es_list_t *prev, ngx_uint_t kind, char *deflt)
{
    char        *rv;
    u_char      *p, *last, *start;
    ngx_str_t    values[8];
    ngx_uint_t   n, i;

    if (conf->values != NGX_CONF_UNSET_PTR) {
        return NGX_CONF_OK;
    }

    if (prev->values != NGX_CONF_UNSET_PTR) {
        *conf = *prev;
        return NGX_CONF_OK;
    }

    conf->values = NULL;
    conf->flags = 0;
    ngx_str_null(&conf->text);

    if (deflt == NULL) {
        return NGX_CONF_OK;
    }

    conf->values = ngx_array_create(cf->pool, 8, sizeof(ngx_str_t));
    if (conf->values == NULL) {
        return NGX_CONF_ERROR;
    }

    p = (u_char *) deflt;
    last = p + ngx_strlen(deflt);
    n = 0;

    while (p < last && n < 8) {
        start = p;

        while (p < last && *p != ' ') {
            p++;
        }

        values[n].data = start;
        values[n].len = p - start;
        n++;

        p++;
    }

    for (i = 0; i < n; i++) {
        rv = ngx_http_es_list_value(cf, kind, conf, &values[i]);
        if (rv != NGX_CONF_OK) {
            return rv;
        }
    }

    return ngx_http_es_list_text(cf, conf, values, n);
}


char *
ngx_http_es_browser_merge(ngx_conf_t *cf, ngx_http_es_loc_conf_t *prev,
    ngx_http_es_loc_conf_t *conf)
{
    ngx_http_es_main_conf_t  *emcf;

    ngx_conf_merge_uint_value(conf->frame_ancestors, prev->frame_ancestors,
                              NGX_HTTP_ES_FRAME_OFF);

    if (ngx_http_es_list_merge(cf, &conf->fetch_dest, &prev->fetch_dest,
                               NGX_HTTP_ES_LIST_DEST, NULL)
           != NGX_CONF_OK
        || ngx_http_es_list_merge(cf, &conf->fetch_site, &prev->fetch_site,
                                  NGX_HTTP_ES_LIST_SITE, NULL)
           != NGX_CONF_OK
        || ngx_http_es_list_merge(cf, &conf->cors, &prev->cors,
                                  NGX_HTTP_ES_LIST_ORIGINS, NULL)
           != NGX_CONF_OK
        || ngx_http_es_list_merge(cf, &conf->cors_methods,
                                  &prev->cors_methods,
                                  NGX_HTTP_ES_LIST_METHODS,
                                  "GET HEAD POST PUT PATCH DELETE")
           != NGX_CONF_OK
        || ngx_http_es_list_merge(cf, &conf->cors_headers,
                                  &prev->cors_headers,
                                  NGX_HTTP_ES_LIST_HEADERS,
                                  "X-Session-Token Content-Type")
           != NGX_CONF_OK
        || ngx_http_es_list_merge(cf, &conf->cors_expose, &prev->cors_expose,
                                  NGX_HTTP_ES_LIST_EXPOSE,
                                  "X-Session-Token Retry-After")
           != NGX_CONF_OK)
    {
        return NGX_CONF_ERROR;
    }

    ngx_conf_merge_value(conf->cors_credentials, prev->cors_credentials, 0);
    ngx_conf_merge_sec_value(conf->cors_max_age, prev->cors_max_age, 600);
    ngx_conf_merge_value(conf->browser_channel, prev->browser_channel, 0);

    if (conf->browser_channel
        && (conf->api.zone == NULL || !conf->verify || !conf->origin))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"embed_session_browser_channel\" needs "
                           "\"embed_session_api_key\", "
                           "\"embed_session_verify on\" and "
                           "\"embed_session_origin on\" where it is on");
        return NGX_CONF_ERROR;
    }

    if (conf->frame_ancestors != NGX_HTTP_ES_FRAME_OFF
        || conf->fetch_dest.values || conf->fetch_site.values
        || conf->cors.values)
    {
        emcf = ngx_http_conf_get_module_main_conf(cf,
                                                ngx_http_embed_session_module);
        emcf->browser = 1;
    }

    return NGX_CONF_OK;
}
