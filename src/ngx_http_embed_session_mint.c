
/*
 * Copyright (C) The ngx_http_embed_session_module authors
 *
 * Minting: a content handler that authenticates an API key, has the
 * request body validated against the schema of the configuration
 * (schema.c, known.c), signs a session token and answers in the response
 * shape of the configuration.
 */


#include "ngx_http_embed_session_module.h"
#include "ngx_http_embed_session_apikey.h"
#include "ngx_http_embed_session_json.h"
#include "ngx_http_embed_session_jws.h"
#include "ngx_http_embed_session_mint.h"
#include "ngx_http_embed_session_origin.h"
#include "ngx_http_embed_session_response.h"
#include "ngx_http_embed_session_store.h"


/* "iat":N,"exp":N, with times of at most 12 digits (9999-12-31) */
#define NGX_HTTP_ES_MINT_TIMES_LEN                                            \
    (sizeof("\"iat\":,\"exp\":,") - 1 + 2 * (sizeof("253402300799") - 1))


/* a mint waiting for Redis (backend=): the record, and what follows */

typedef struct {
    ngx_http_es_store_ask_t     ask;
    ngx_http_es_mint_t         *m;
    ngx_http_es_store_rec_t     rec;
    ngx_http_es_json_t         *claims;
    time_t                      now;
    time_t                      ttl;
} ngx_http_es_mint_wait_t;


static void ngx_http_es_mint_body(ngx_http_request_t *r);
static void ngx_http_es_mint_finish(ngx_http_request_t *r, ngx_int_t rc);
static void ngx_http_es_mint_stored(void *data, ngx_int_t rc);
static ngx_int_t ngx_http_es_mint_added(ngx_http_es_mint_t *m, ngx_int_t rc);
static ngx_int_t ngx_http_es_mint_tokens(ngx_http_es_mint_t *m,
    ngx_http_es_json_t *claims, time_t now, time_t ttl);
static ngx_int_t ngx_http_es_mint_request(ngx_http_request_t *r,
    ngx_http_es_mint_t *m);
static void ngx_http_es_mint_cleanup(void *data);
static ngx_int_t ngx_http_es_mint_claims(ngx_http_es_mint_t *m);
static ngx_int_t ngx_http_es_mint_authorize(ngx_http_es_mint_t *m);
static ngx_int_t ngx_http_es_mint_sign(ngx_http_es_mint_t *m);
static time_t ngx_http_es_mint_lifetime(ngx_http_es_mint_t *m);
static ngx_int_t ngx_http_es_mint_id(ngx_http_es_mint_t *m, u_char *id);
static ngx_int_t ngx_http_es_mint_claims_tree(ngx_http_es_mint_t *m,
    time_t now, time_t ttl, ngx_http_es_json_t **claims);
static ngx_int_t ngx_http_es_mint_fits(ngx_http_es_mint_t *m,
    ngx_http_es_json_t *claims);
static ngx_int_t ngx_http_es_mint_store(ngx_http_es_mint_t *m,
    ngx_http_es_json_t *claims, u_char *id, time_t now, time_t ttl);
static ngx_int_t ngx_http_es_mint_respond(ngx_http_es_mint_t *m);
static ngx_int_t ngx_http_es_mint_out_text(ngx_http_es_mint_t *m,
    ngx_http_es_output_t *o, ngx_str_t *t);
static ngx_int_t ngx_http_es_mint_origins_text(ngx_http_es_mint_t *m,
    ngx_str_t *t);
static ngx_int_t ngx_http_es_mint_conds(ngx_http_es_mint_t *m, u_char *pass);
static ngx_http_es_json_t *ngx_http_es_mint_get(ngx_http_es_json_t *obj,
    ngx_str_t *path);
static size_t ngx_http_es_mint_out_size(ngx_http_es_out_node_t *node,
    ngx_str_t *text);
static u_char *ngx_http_es_mint_out_write(u_char *p,
    ngx_http_es_out_node_t *node, ngx_str_t *text);
static ngx_int_t ngx_http_es_mint_set(ngx_http_es_json_t *obj, ngx_str_t *path,
    ngx_http_es_json_t *v);


/* the handler */

ngx_int_t
ngx_http_es_mint_handler(ngx_http_request_t *r)
{
    ngx_int_t                rc;
    ngx_http_es_loc_conf_t  *elcf;

    elcf = ngx_http_get_module_loc_conf(r, ngx_http_embed_session_module);

    if (r->method != NGX_HTTP_POST) {
        return ngx_http_es_content_error(r, NGX_HTTP_ES_METHOD_NOT_ALLOWED,
                                         NULL);
    }

    rc = ngx_http_es_api_content_auth(r, &elcf->api);
    if (rc != NGX_OK) {
        return rc;
    }

    if (r->headers_in.content_length_n > (off_t) elcf->mint.body_max) {
        return ngx_http_es_content_error(r, NGX_HTTP_ES_BODY_TOO_LARGE,
                                         NULL);
    }

    r->request_body_in_single_buf = 1;

    rc = ngx_http_read_client_request_body(r, ngx_http_es_mint_body);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


static void
ngx_http_es_mint_body(ngx_http_request_t *r)
{
    ngx_http_es_mint_t      *m;
    ngx_pool_cleanup_t      *cln;
    ngx_http_es_ctx_t       *ctx;
    ngx_http_es_loc_conf_t  *elcf;

    elcf = ngx_http_get_module_loc_conf(r, ngx_http_embed_session_module);
    ctx = ngx_http_es_get_ctx(r, 0);

    m = ngx_pcalloc(r->pool, sizeof(ngx_http_es_mint_t));
    cln = ngx_pool_cleanup_add(r->pool, 0);

    if (m == NULL || cln == NULL || ctx == NULL || ctx->api_key == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    cln->handler = ngx_http_es_mint_cleanup;
    cln->data = m;

    m->request = r;
    m->mcf = &elcf->mint;
    m->key = ctx->api_key;

    ngx_http_es_mint_finish(r, ngx_http_es_mint_request(r, m));
}


static void
ngx_http_es_mint_finish(ngx_http_request_t *r, ngx_int_t rc)
{
    if (rc == NGX_ERROR) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "embed_session mint: minting failed (out of memory, "
                      "or an internal error)");
        rc = ngx_http_es_error(r, NGX_HTTP_ES_MINT_FAILED);
    }

    ngx_http_es_finalize(r, rc);
}


static void
ngx_http_es_mint_cleanup(void *data)
{
    ngx_http_es_mint_t  *m = data;

    ngx_http_es_json_free(m->root);
    ngx_http_es_json_free(m->owned);
}


static ngx_int_t
ngx_http_es_mint_request(ngx_http_request_t *r, ngx_http_es_mint_t *m)
{
    ngx_int_t              rc;
    ngx_str_t              body;
    ngx_http_es_detail_t  *d;
    char                   err[160];

    rc = ngx_http_es_read_body(r, m->mcf->body_max, &body);

    if (rc == NGX_DECLINED) {
        return ngx_http_es_error(r, NGX_HTTP_ES_BODY_TOO_LARGE);
    }

    if (rc != NGX_OK) {
        return NGX_ERROR;
    }

    /* no body at all is an empty object: the schema says what is missing */

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "embed_session: mint: body read, %uz bytes", body.len);

    if (body.len == 0) {
        ngx_str_set(&body, "{}");
    }

    m->root = ngx_http_es_json_parse(body.data, body.len, err, sizeof(err));

    if (m->root == NULL) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "embed_session mint: invalid JSON body: %s", err);
        return ngx_http_es_error(r, NGX_HTTP_ES_INVALID_JSON);
    }

    m->owned = ngx_http_es_json_array();
    m->values = ngx_pcalloc(r->pool, m->mcf->fields.nelts
                                     * sizeof(ngx_http_es_json_t *));

    if (m->owned == NULL || m->values == NULL
        || ngx_array_init(&m->details, r->pool, 4,
                          sizeof(ngx_http_es_detail_t))
           != NGX_OK
        || ngx_array_init(&m->origins, r->pool, 4, sizeof(ngx_str_t))
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    rc = ngx_http_es_mint_validate(m);
    if (rc != NGX_OK) {
        return rc;
    }

    if (m->mcf->claims && ngx_http_es_mint_claims(m) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "embed_session: mint: body checked, %ui problem(s)",
                   m->details.nelts);

    if (m->details.nelts) {
        d = m->details.elts;

        /* a path may hold a member name from the body, any bytes */

        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "embed_session mint: %ui problem(s) in the body, "
                      "the first: %V %V", m->details.nelts,
                      ngx_http_es_log_text(r->pool, &d->path), &d->message);

        return ngx_http_es_error_details(r, NGX_HTTP_ES_VALIDATION_FAILED,
                                         &m->details);
    }

    if (m->mcf->knowns) {
        rc = ngx_http_es_mint_known(m);
        if (rc != NGX_OK) {
            return rc;
        }
    }

    rc = ngx_http_es_mint_authorize(m);
    if (rc != NGX_OK) {
        return rc;
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "embed_session: mint: authorized for API key \"%V\"",
                   &m->key->id);

    rc = ngx_http_es_mint_sign(m);
    if (rc != NGX_OK) {
        return rc;
    }

    return ngx_http_es_mint_respond(m);
}


/* backend=: the record is on Redis, or the mint goes no further */

static void
ngx_http_es_mint_stored(void *data, ngx_int_t rc)
{
    ngx_http_es_mint_wait_t *w = data;

    ngx_connection_t    *c;
    ngx_http_request_t  *r;

    r = w->m->request;
    c = r->connection;

    if (rc != NGX_OK) {
        rc = ngx_http_es_error(r, NGX_HTTP_ES_STORE_UNAVAILABLE);

    } else {
        rc = ngx_http_es_mint_added(w->m, w->ask.rc);

        if (rc == NGX_OK) {
            rc = ngx_http_es_mint_tokens(w->m, w->claims, w->now, w->ttl);
        }

        if (rc == NGX_OK) {
            rc = ngx_http_es_mint_respond(w->m);
        }
    }

    ngx_http_es_mint_finish(r, rc);
    ngx_http_run_posted_requests(c);
}


/*
 * embed_session_mint_claim values, with the body: a constant one was
 * checked by nginx -t; one read from the request ($http_..., $arg_...)
 * that is not UTF-8 cannot go into a token, and that is the caller's
 * error, not the server's
 */

static ngx_int_t
ngx_http_es_mint_claims(ngx_http_es_mint_t *m)
{
    ngx_uint_t                 i;
    ngx_http_request_t        *r;
    ngx_http_es_mint_claim_t  *mc;

    r = m->request;
    mc = m->mcf->claims->elts;

    m->claims = ngx_pcalloc(r->pool,
                            m->mcf->claims->nelts * sizeof(ngx_str_t));
    if (m->claims == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < m->mcf->claims->nelts; i++) {
        if (ngx_http_complex_value(r, &mc[i].value, &m->claims[i])
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        if (ngx_http_es_json_utf8(m->claims[i].data, m->claims[i].len)) {
            continue;
        }

        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "embed_session mint: the value of claim \"%V\" is "
                      "not valid UTF-8: \"%V\"", &mc[i].name,
                      ngx_http_es_log_text(r->pool, &m->claims[i]));

        if (ngx_http_es_mint_detail(m, &mc[i].name, "is not valid UTF-8 "
                                    "(a value from the request)")
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/* what the key may mint: origins, resources */

static ngx_int_t
ngx_http_es_mint_authorize(ngx_http_es_mint_t *m)
{
    ngx_int_t            rc;
    ngx_str_t           *o, origin;
    ngx_uint_t           i;
    ngx_http_request_t  *r;

    r = m->request;

    if (m->mcf->origins == NGX_HTTP_ES_MINT_ORIGINS_REQUEST) {
        rc = ngx_http_es_origin_get(r, 0, &origin);

        if (rc != NGX_OK) {
            ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                          "embed_session mint: %s Origin header",
                          rc == NGX_DECLINED ? "no" : "an invalid or a "
                          "repeated");
            return ngx_http_es_error(r, NGX_HTTP_ES_ORIGIN_NOT_ALLOWED);
        }

        o = ngx_array_push(&m->origins);
        if (o == NULL) {
            return NGX_ERROR;
        }

        *o = origin;
    }

    if (m->key->origins.nelts) {
        o = m->origins.elts;

        for (i = 0; i < m->origins.nelts; i++) {
            if (!ngx_http_es_str_in(&m->key->origins, &o[i])) {
                ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                              "embed_session mint: origin \"%V\" is not "
                              "one of API key \"%V\"'s",
                              ngx_http_es_log_text(r->pool, &o[i]),
                              &m->key->id);
                return ngx_http_es_error(r, NGX_HTTP_ES_ORIGIN_NOT_ALLOWED);
            }
        }
    }

    if (m->scope_denied) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "embed_session mint: a requested resource is not "
                      "API key \"%V\"'s", &m->key->id);
        return ngx_http_es_error(r, NGX_HTTP_ES_SCOPE_NOT_GRANTED);
    }

    return NGX_OK;
}


/* the token */

static ngx_int_t
ngx_http_es_mint_sign(ngx_http_es_mint_t *m)
{
    u_char                    rnd[NGX_HTTP_ES_ID_LEN];
    time_t                    now, ttl;
    ngx_int_t                 rc;
    ngx_str_t                *o;
    ngx_http_es_ctx_t        *ctx;
    ngx_http_es_json_t       *claims;
    ngx_http_request_t       *r;
    ngx_http_es_loc_conf_t   *elcf;
    ngx_http_es_mint_conf_t  *mcf;

    r = m->request;
    mcf = m->mcf;
    elcf = ngx_http_get_module_loc_conf(r, ngx_http_embed_session_module);
    ctx = ngx_http_es_get_ctx(r, 0);

    ttl = ngx_http_es_mint_lifetime(m);

    rc = ngx_http_es_mint_id(m, rnd);
    if (rc != NGX_OK) {
        return rc;
    }

    now = ngx_time();

    ctx->minted_exp = now + ttl;

    /* a token bound to the caller's own Origin: CORS may let it read this */

    if (mcf->origins == NGX_HTTP_ES_MINT_ORIGINS_REQUEST) {
        o = m->origins.elts;
        ctx->origin = o[0];
    }

    rc = ngx_http_es_mint_claims_tree(m, now, ttl, &claims);
    if (rc != NGX_OK) {
        return rc;
    }

    rc = ngx_http_es_mint_fits(m, claims);
    if (rc != NGX_OK) {
        return rc;
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "embed_session: mint: claims built, jti %V, ttl %T",
                   &ctx->minted_jti, ttl);

    if (elcf->store) {
        rc = ngx_http_es_mint_store(m, claims, rnd, now, ttl);
        if (rc != NGX_OK) {
            return rc;
        }
    }

    return ngx_http_es_mint_tokens(m, claims, now, ttl);
}


/* the tokens, once the session is in the store if there is one */

static ngx_int_t
ngx_http_es_mint_tokens(ngx_http_es_mint_t *m, ngx_http_es_json_t *claims,
    time_t now, time_t ttl)
{
    ngx_int_t                 rc;
    ngx_str_t                 value, *o;
    ngx_http_es_ctx_t        *ctx;
    ngx_http_request_t       *r;
    ngx_http_es_loc_conf_t   *elcf;
    ngx_http_es_mint_conf_t  *mcf;

    r = m->request;
    mcf = m->mcf;
    elcf = ngx_http_get_module_loc_conf(r, ngx_http_embed_session_module);
    ctx = ngx_http_es_get_ctx(r, 0);

    if (elcf->store) {
        if (mcf->ticket) {
            m->ttl = ttl;
            ngx_http_es_count(mints);

            ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                          "embed_session mint: one-time session %V for API "
                          "key \"%V\", %T s", &ctx->minted_jti, &m->key->id,
                          mcf->ticket);
            return NGX_OK;
        }
    }

    if (ngx_http_es_json_text(r->pool, claims, &value) != NGX_OK) {
        return NGX_ERROR;
    }

    rc = ngx_http_es_mint_signed(r, mcf, 0, value.data, value.len,
                                 &ctx->minted);
    if (rc != NGX_OK) {
        return rc;
    }

    if (mcf->renew) {

        /* the same claims, living as long as the session may */

        if (ngx_http_es_json_set(claims, (u_char *) "exp", 3,
                                 ngx_http_es_json_new_integer(
                                     now + mcf->lifetime))
            != 0
            || ngx_http_es_json_text(r->pool, claims, &value) != NGX_OK)
        {
            return NGX_ERROR;
        }

        rc = ngx_http_es_mint_signed(r, mcf, 1, value.data, value.len,
                                     &ctx->renew);
        if (rc != NGX_OK) {
            return rc;
        }
    }

    ngx_http_es_count(mints);

    m->ttl = ttl;

    o = m->origins.elts;

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "embed_session mint: session %V for API key \"%V\", "
                  "%T s, origin \"%V\"%s", &ctx->minted_jti, &m->key->id,
                  ttl, m->origins.nelts ? ngx_http_es_log_text(r->pool, &o[0])
                                        : &elcf->origin_claim,
                  m->origins.nelts > 1 ? " and more" : "");

    return NGX_OK;
}


/*
 * The lifetime: requested, or the default for a field's value, or the
 * location's; no token outlives its session
 */

static time_t
ngx_http_es_mint_lifetime(ngx_http_es_mint_t *m)
{
    time_t                    ttl;
    ngx_uint_t                i;
    ngx_http_es_ttl_if_t     *ti;
    ngx_http_es_loc_conf_t   *elcf;
    ngx_http_es_mint_conf_t  *mcf;

    mcf = m->mcf;
    elcf = ngx_http_get_module_loc_conf(m->request,
                                        ngx_http_embed_session_module);

    ttl = mcf->ttl;

    if (mcf->ttl_field != -1 && m->values[mcf->ttl_field]) {
        ttl = (time_t) ngx_http_es_json_integer(m->values[mcf->ttl_field]);

    } else if (mcf->ttl_ifs) {
        ti = mcf->ttl_ifs->elts;

        for (i = 0; i < mcf->ttl_ifs->nelts; i++) {
            if (m->values[ti[i].field]
                && ngx_http_es_mint_value_is(m->values[ti[i].field],
                                             &ti[i].value))
            {
                ttl = ti[i].ttl;
                break;
            }
        }
    }

    if (elcf->store && !mcf->ticket && ttl > mcf->lifetime) {
        ttl = mcf->lifetime;
    }

    return ttl;
}


/*
 * A random session id, as a version 4 UUID: raw into id (the store's
 * key), as text into the context's jti (the session's too, "sid")
 */

static ngx_int_t
ngx_http_es_mint_id(ngx_http_es_mint_t *m, u_char *id)
{
    ngx_http_es_ctx_t   *ctx;
    ngx_http_request_t  *r;

    r = m->request;
    ctx = ngx_http_es_get_ctx(r, 0);

    if (ngx_http_es_jws_random(id, NGX_HTTP_ES_ID_LEN) != NGX_HTTP_ES_JWS_OK)
    {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "embed_session mint: the random generator failed");
        return ngx_http_es_error(r, NGX_HTTP_ES_MINT_FAILED);
    }

    id[6] = (id[6] & 0x0f) | 0x40;
    id[8] = (id[8] & 0x3f) | 0x80;

    ctx->minted_jti.data = ngx_pnalloc(r->pool, NGX_HTTP_ES_ID_TEXT_LEN);
    if (ctx->minted_jti.data == NULL) {
        return NGX_ERROR;
    }

    ctx->minted_jti.len = ngx_http_es_id_text(ctx->minted_jti.data, id)
                          - ctx->minted_jti.data;

    return NGX_OK;
}


/*
 * The claims: what the module writes (iss, aud, the times, the ids, the
 * origins), then the fields' claims and the embed_session_mint_claim
 * lines; *claims is kept by m->owned
 */

static ngx_int_t
ngx_http_es_mint_claims_tree(ngx_http_es_mint_t *m, time_t now, time_t ttl,
    ngx_http_es_json_t **claims)
{
    ngx_uint_t                 i;
    ngx_str_t                 *jti;
    ngx_http_es_json_t        *c, *origins;
    ngx_http_request_t        *r;
    ngx_http_es_field_t       *f;
    ngx_http_es_loc_conf_t    *elcf;
    ngx_http_es_mint_conf_t   *mcf;
    ngx_http_es_mint_claim_t  *mc;

    r = m->request;
    mcf = m->mcf;
    elcf = ngx_http_get_module_loc_conf(r, ngx_http_embed_session_module);
    jti = &ngx_http_es_get_ctx(r, 0)->minted_jti;

    c = ngx_http_es_json_object();
    if (c == NULL || ngx_http_es_json_append(m->owned, c) != 0) {
        return NGX_ERROR;
    }

    *claims = c;

    if ((elcf->issuer.len
         && ngx_http_es_json_set(c, (u_char *) "iss", 3,
                                 ngx_http_es_mint_text(&elcf->issuer)) != 0)
        || (elcf->audience.len
            && ngx_http_es_json_set(c, (u_char *) "aud", 3,
                                    ngx_http_es_mint_text(&elcf->audience))
               != 0)
        || (!mcf->ticket
            && (ngx_http_es_json_set(c, (u_char *) "iat", 3,
                                     ngx_http_es_json_new_integer(now)) != 0
                || ngx_http_es_json_set(c, (u_char *) "exp", 3,
                                        ngx_http_es_json_new_integer(
                                            now + ttl))
                   != 0))
        || ngx_http_es_json_set(c, (u_char *) "jti", 3,
                                ngx_http_es_json_new_ascii(jti->data,
                                                           jti->len))
           != 0
        || (elcf->store
            && ngx_http_es_json_set(c, (u_char *) "sid", 3,
                                    ngx_http_es_json_new_ascii(jti->data,
                                                               jti->len))
               != 0))
    {
        return NGX_ERROR;
    }

    if (mcf->origins != NGX_HTTP_ES_MINT_ORIGINS_OFF) {
        origins = ngx_http_es_mint_strings(&m->origins);

        if (ngx_http_es_mint_set(c, &elcf->origin_claim, origins) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    f = mcf->fields.elts;

    for (i = 0; i < mcf->fields.nelts; i++) {
        if (f[i].claim.len && m->values[i]
            && ngx_http_es_mint_set(c, &f[i].claim,
                                    ngx_http_es_json_ref(m->values[i]))
               != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    if (mcf->claims == NULL) {
        return NGX_OK;
    }

    mc = mcf->claims->elts;

    for (i = 0; i < mcf->claims->nelts; i++) {
        if (m->claims[i].len == 0) {
            continue;
        }

        if (ngx_http_es_mint_set(c, &mc[i].name,
                                 ngx_http_es_mint_text(&m->claims[i]))
            != NGX_OK)
        {
            ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                          "embed_session mint: claim \"%V\" could not "
                          "be set (out of memory, or a part of its name "
                          "is not an object)", &mc[i].name);
            return ngx_http_es_error(r, NGX_HTTP_ES_MINT_FAILED);
        }
    }

    return NGX_OK;
}


/*
 * The verifier's caps on claims (rule 11), on what would be signed: a token
 * that every verify location refuses is not minted.  A ticket's claims get
 * "iat" and "exp" at the exchange.
 */

static ngx_int_t
ngx_http_es_mint_fits(ngx_http_es_mint_t *m, ngx_http_es_json_t *claims)
{
    size_t  members, max;

    members = 0;
    max = NGX_HTTP_ES_JWS_MAX_MEMBERS - (m->mcf->ticket ? 2 : 0);

    if (ngx_http_es_json_limits(claims, 1, NGX_HTTP_ES_JWS_MAX_DEPTH, max,
                                &members))
    {
        return NGX_OK;
    }

    ngx_log_error(NGX_LOG_INFO, m->request->connection->log, 0,
                  "embed_session mint: the claims would be deeper or larger "
                  "than a token may carry");

    if (ngx_http_es_mint_detail(m, NULL, "the token's claims would nest "
                                "deeper than %d levels or hold more than %d "
                                "members and items in all, which the "
                                "verifier refuses",
                                NGX_HTTP_ES_JWS_MAX_DEPTH,
                                NGX_HTTP_ES_JWS_MAX_MEMBERS)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_es_error_details(m->request,
                                     NGX_HTTP_ES_VALIDATION_FAILED,
                                     &m->details);
}


/*
 * With a store, every session is a record there before its token exists:
 * a full zone mints nothing.  A one-time ticket keeps the claims instead,
 * without iat and exp, which the exchange adds.
 */

static ngx_int_t
ngx_http_es_mint_store(ngx_http_es_mint_t *m, ngx_http_es_json_t *claims,
    u_char *id, time_t now, time_t ttl)
{
    size_t                    len;
    ngx_int_t                 rc;
    ngx_str_t                 payload;
    ngx_http_request_t       *r;
    ngx_http_es_loc_conf_t   *elcf;
    ngx_http_es_main_conf_t  *emcf;
    ngx_http_es_mint_conf_t  *mcf;
    ngx_http_es_mint_wait_t  *w;
    ngx_http_es_store_rec_t   rec;

    r = m->request;
    mcf = m->mcf;
    elcf = ngx_http_get_module_loc_conf(r, ngx_http_embed_session_module);
    emcf = ngx_http_get_module_main_conf(r, ngx_http_embed_session_module);

    ngx_memzero(&rec, sizeof(ngx_http_es_store_rec_t));

    ngx_memcpy(rec.id, id, NGX_HTTP_ES_ID_LEN);
    ngx_memcpy(rec.gen, id, NGX_HTTP_ES_ID_LEN);
    ngx_http_es_owner(rec.owner, &m->key->owner);

    ngx_str_null(&payload);

    if (mcf->ticket) {
        if (ngx_http_es_json_text(r->pool, claims, &payload) != NGX_OK) {
            return NGX_ERROR;
        }

        if (payload.len > NGX_HTTP_ES_TICKET_MAX) {
            ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                          "embed_session mint: the ticket's claims take "
                          "%uz bytes, more than %d", payload.len,
                          NGX_HTTP_ES_TICKET_MAX);
            return ngx_http_es_error(r, NGX_HTTP_ES_BODY_TOO_LARGE);
        }

        /* the token the exchange signs: these claims with "iat" and "exp" */

        len = ngx_http_es_jws_compact_length(mcf->key, mcf->header.len,
                                             payload.len
                                             + NGX_HTTP_ES_MINT_TIMES_LEN);

        if (len > NGX_HTTP_ES_JWS_MAX_TOKEN) {
            ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                          "embed_session mint: the ticket's token would take "
                          "%uz bytes, more than the %d a token may have",
                          len, NGX_HTTP_ES_JWS_MAX_TOKEN);
            return ngx_http_es_error(r, NGX_HTTP_ES_BODY_TOO_LARGE);
        }

        rec.flags = NGX_HTTP_ES_STORE_TICKET;
        rec.end = now + mcf->ticket;

        /* an expired ticket is told apart from an unknown one a while */

        rec.expires = rec.end + mcf->ticket + emcf->leeway;
        rec.ttl = ttl;
        rec.payload_len = payload.len;

    } else {
        rec.end = now + mcf->lifetime;
        rec.expires = rec.end + emcf->leeway;
        rec.iat = now;
        rec.exp = now + ttl;
    }

    if (elcf->store->backend) {

        /* the quota counts what this node knows of: the feed brings all */

        rc = ngx_http_es_store_room(elcf->store, rec.owner);

        if (rc != NGX_OK) {
            return ngx_http_es_mint_added(m, rc);
        }

        w = ngx_pcalloc(r->pool, sizeof(ngx_http_es_mint_wait_t));
        if (w == NULL) {
            return NGX_ERROR;
        }

        w->m = m;
        w->rec = rec;
        w->claims = claims;
        w->now = now;
        w->ttl = ttl;
        w->ask.op = NGX_HTTP_ES_STORE_ADD;
        w->ask.rec = &w->rec;
        w->ask.payload = payload.data;
        w->ask.done = ngx_http_es_mint_stored;
        w->ask.data = w;

        return ngx_http_es_store_ask_request(r, elcf->store, &w->ask);
    }

    rc = ngx_http_es_store_add(elcf->store, &rec, payload.data,
                               r->connection->log);

    return ngx_http_es_mint_added(m, rc);
}


/* what the store answered: NGX_OK, or the request is answered */

static ngx_int_t
ngx_http_es_mint_added(ngx_http_es_mint_t *m, ngx_int_t rc)
{
    ngx_http_request_t      *r;
    ngx_http_es_loc_conf_t  *elcf;

    r = m->request;
    elcf = ngx_http_get_module_loc_conf(r, ngx_http_embed_session_module);

    if (rc == NGX_AGAIN) {
        return ngx_http_es_error(r, NGX_HTTP_ES_STORE_FULL);
    }

    if (rc == NGX_BUSY) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "embed_session mint: API key \"%V\" has %ui live "
                      "records in store zone \"%V\" already (per_key=)",
                      &m->key->id, elcf->store->per_key,
                      &elcf->store->name);
        return ngx_http_es_error(r, NGX_HTTP_ES_SESSION_QUOTA);
    }

    if (rc != NGX_OK) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "embed_session mint: session id collision");
        return ngx_http_es_error(r, NGX_HTTP_ES_MINT_FAILED);
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "embed_session: mint: stored in zone \"%V\"%s",
                   &elcf->store->name, m->mcf->ticket ? ", a ticket" : "");

    return NGX_OK;
}


/* one compact token of the location's key: a session or a renew token */

ngx_int_t
ngx_http_es_mint_signed(ngx_http_request_t *r, ngx_http_es_mint_conf_t *mcf,
    ngx_uint_t renew, u_char *payload, size_t len, ngx_str_t *out)
{
    ngx_str_t  *header;

    header = renew ? &mcf->renew_header : &mcf->header;

    /* a token the verifier would refuse is not minted */

    out->len = ngx_http_es_jws_compact_length(mcf->key, header->len, len);

    if (out->len > NGX_HTTP_ES_JWS_MAX_TOKEN) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "embed_session mint: the token would take %uz bytes, "
                      "more than the %d a token may have", out->len,
                      NGX_HTTP_ES_JWS_MAX_TOKEN);
        return ngx_http_es_error(r, NGX_HTTP_ES_BODY_TOO_LARGE);
    }

    out->data = ngx_pnalloc(r->pool, out->len);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    if (ngx_http_es_jws_sign_compact(mcf->key, header->data, header->len,
                                     payload, len, out->data, &out->len)
        != NGX_HTTP_ES_JWS_OK)
    {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "embed_session mint: signing failed");
        return ngx_http_es_error(r, NGX_HTTP_ES_MINT_FAILED);
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "embed_session: mint: %s token signed, %uz bytes",
                   renew ? "renew" : "session", out->len);

    return NGX_OK;
}


/* the answer of a refresh or an exchange: what the context holds */

ngx_int_t
ngx_http_es_mint_answer(ngx_http_request_t *r, ngx_http_es_mint_conf_t *mcf,
    time_t ttl)
{
    ngx_http_es_mint_t  m;

    ngx_memzero(&m, sizeof(ngx_http_es_mint_t));

    m.request = r;
    m.mcf = mcf;
    m.ttl = ttl;

    if (ngx_array_init(&m.origins, r->pool, 1, sizeof(ngx_str_t)) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_es_mint_respond(&m);
}


/*
 * The response: each output's value rendered as JSON text, then written
 * along the tree of output paths built at configuration time (members in
 * the order of their first line; an object none of whose values is
 * present is left out, as an absent field is).  The one JSON body not
 * built as a json.h tree (CONTRIBUTING.md): the shape is compiled once,
 * and a tree made per request cost 8% of a mint.
 */

static ngx_int_t
ngx_http_es_mint_respond(ngx_http_es_mint_t *m)
{
    u_char                   *p, *pass;
    size_t                    len;
    ngx_str_t                *text, value;
    ngx_uint_t                i;
    ngx_http_request_t       *r;
    ngx_http_es_output_t     *o;
    ngx_http_es_mint_conf_t  *mcf;

    r = m->request;
    mcf = m->mcf;

    text = ngx_pcalloc(r->pool, mcf->outputs->nelts * sizeof(ngx_str_t));
    pass = ngx_pnalloc(r->pool, mcf->outputs->nelts);

    if (text == NULL || pass == NULL
        || ngx_http_es_mint_conds(m, pass) != NGX_OK)
    {
        return NGX_ERROR;
    }

    o = mcf->outputs->elts;

    for (i = 0; i < mcf->outputs->nelts; i++) {

        /* the group's slot: taken by an earlier line, or not this one's */

        if (text[o[i].group].len || !pass[i]) {
            continue;
        }

        if (ngx_http_es_mint_out_text(m, &o[i], &text[o[i].group])
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    len = ngx_http_es_mint_out_size(mcf->out_root, text);

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    value.data = p;
    value.len = ngx_http_es_mint_out_write(p, mcf->out_root, text) - p;

    return ngx_http_es_send_json(r, mcf->status, value.data, value.len);
}


/* one output's value as JSON text into t; t stays empty: absent */

static ngx_int_t
ngx_http_es_mint_out_text(ngx_http_es_mint_t *m, ngx_http_es_output_t *o,
    ngx_str_t *t)
{
    u_char              *p;
    size_t               len;
    ngx_tm_t             tm;
    ngx_str_t            value;
    ngx_http_es_ctx_t   *ctx;
    ngx_http_request_t  *r;

    r = m->request;
    ctx = ngx_http_es_get_ctx(r, 0);

    switch (o->type) {

    case NGX_HTTP_ES_OUT_TOKEN:
        value = ctx->minted;
        break;

    case NGX_HTTP_ES_OUT_SESSION_ID:
        value = ctx->minted_sid.len ? ctx->minted_sid : ctx->minted_jti;
        break;

    case NGX_HTTP_ES_OUT_RENEW_TOKEN:
        value = ctx->renew;

        if (value.len == 0) {
            return NGX_OK;
        }

        break;

    case NGX_HTTP_ES_OUT_EXPIRES_AT:
        p = ngx_pnalloc(r->pool, sizeof("\"1970-01-01T00:00:00.000Z\""));
        if (p == NULL) {
            return NGX_ERROR;
        }

        ngx_gmtime(ctx->minted_exp, &tm);

        t->data = p;
        t->len = ngx_sprintf(p, "\"%4d-%02d-%02dT%02d:%02d:%02d"
                             ".000Z\"", tm.ngx_tm_year,
                             tm.ngx_tm_mon, tm.ngx_tm_mday,
                             tm.ngx_tm_hour, tm.ngx_tm_min,
                             tm.ngx_tm_sec)
                 - p;
        return NGX_OK;

    case NGX_HTTP_ES_OUT_EXPIRES_IN:
        p = ngx_pnalloc(r->pool, NGX_TIME_T_LEN);
        if (p == NULL) {
            return NGX_ERROR;
        }

        t->data = p;
        t->len = ngx_sprintf(p, "%T", m->ttl) - p;
        return NGX_OK;

    case NGX_HTTP_ES_OUT_ORIGINS:
        return ngx_http_es_mint_origins_text(m, t);

    case NGX_HTTP_ES_OUT_FIELD:
        if (m->values && m->values[o->field]
            && ngx_http_es_json_text(r->pool, m->values[o->field], t)
               != NGX_OK)
        {
            return NGX_ERROR;
        }

        return NGX_OK;

    default: /* NGX_HTTP_ES_OUT_VALUE */
        if (ngx_http_complex_value(r, o->value, &value) != NGX_OK) {
            return NGX_ERROR;
        }

        len = ngx_http_es_json_quote(value.data, value.len, NULL, 0);

        if (len == 0) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "embed_session mint: the output \"%V\" is not "
                          "valid UTF-8", &o->path);
            return NGX_ERROR;
        }

        p = ngx_pnalloc(r->pool, len);
        if (p == NULL) {
            return NGX_ERROR;
        }

        t->data = p;
        t->len = ngx_http_es_json_quote(value.data, value.len, p, len);
        return NGX_OK;
    }

    /* the module's own text: base64url, a UUID, no escaping */

    p = ngx_pnalloc(r->pool, value.len + 2);
    if (p == NULL) {
        return NGX_ERROR;
    }

    t->data = p;
    *p++ = '"';
    p = ngx_cpymem(p, value.data, value.len);
    *p++ = '"';
    t->len = p - t->data;

    return NGX_OK;
}


/* the origins of the token, normalised: they need no escaping */

static ngx_int_t
ngx_http_es_mint_origins_text(ngx_http_es_mint_t *m, ngx_str_t *t)
{
    u_char      *p;
    size_t       len;
    ngx_str_t   *origin;
    ngx_uint_t   k;

    origin = m->origins.elts;
    len = 2;

    for (k = 0; k < m->origins.nelts; k++) {
        len += origin[k].len + 3;
    }

    p = ngx_pnalloc(m->request->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    t->data = p;
    *p++ = '[';

    for (k = 0; k < m->origins.nelts; k++) {
        if (k) {
            *p++ = ',';
        }

        *p++ = '"';
        p = ngx_cpymem(p, origin[k].data, origin[k].len);
        *p++ = '"';
    }

    *p++ = ']';
    t->len = p - t->data;

    return NGX_OK;
}


/*
 * The conditions of the output lines: if= compares a request field (its
 * default included), if_claim= a claim of the token the answer carries,
 * read back from that token (a mint, a refresh, an exchange alike).  An
 * absent field or claim, or an answer without a token (a one-time
 * ticket), holds no condition.
 */

static ngx_int_t
ngx_http_es_mint_conds(ngx_http_es_mint_t *m, u_char *pass)
{
    u_char                *dot, *last, *buf;
    size_t                 len;
    ngx_uint_t             i, read;
    ngx_http_es_ctx_t     *ctx;
    ngx_http_es_json_t    *claims, *v;
    ngx_http_request_t    *r;
    ngx_http_es_output_t  *o;
    char                   err[160];

    r = m->request;
    ctx = ngx_http_es_get_ctx(r, 0);
    o = m->mcf->outputs->elts;
    claims = NULL;
    read = 0;

    for (i = 0; i < m->mcf->outputs->nelts; i++) {
        pass[i] = 1;

        if (o[i].cond.len == 0) {
            continue;
        }

        if (o[i].cond_field != -1) {
            v = m->values ? m->values[o[i].cond_field] : NULL;
            pass[i] = v && ngx_http_es_mint_value_is(v, &o[i].cond_value);
            continue;
        }

        if (!read && ctx && ctx->minted.len) {
            read = 1;

            /* the payload segment of the token just signed */

            last = ctx->minted.data + ctx->minted.len;
            dot = ngx_strlchr(ctx->minted.data, last, '.');
            last = dot ? ngx_strlchr(dot + 1, last, '.') : NULL;

            if (last == NULL) {
                return NGX_ERROR;
            }

            buf = ngx_pnalloc(r->pool, (last - dot) * 3 / 4 + 3);
            if (buf == NULL) {
                return NGX_ERROR;
            }

            if (ngx_http_es_jws_b64_decode(buf, &len, dot + 1,
                                           last - dot - 1)
                != NGX_HTTP_ES_JWS_OK)
            {
                return NGX_ERROR;
            }

            claims = ngx_http_es_json_parse(buf, len, err, sizeof(err));
            if (claims == NULL) {
                ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                              "embed_session mint: the claims just signed "
                              "do not parse: %s", err);
                return NGX_ERROR;
            }
        }

        v = claims ? ngx_http_es_mint_get(claims, &o[i].cond_path) : NULL;
        pass[i] = v && ngx_http_es_mint_value_is(v, &o[i].cond_value);
    }

    ngx_http_es_json_free(claims);

    return NGX_OK;
}


/* a member by its dotted path, NULL: absent */

static ngx_http_es_json_t *
ngx_http_es_mint_get(ngx_http_es_json_t *obj, ngx_str_t *path)
{
    u_char  *p, *dot, *end;

    p = path->data;
    end = p + path->len;

    for ( ;; ) {
        if (obj == NULL
            || ngx_http_es_json_type(obj) != NGX_HTTP_ES_JSON_OBJECT)
        {
            return NULL;
        }

        dot = ngx_strlchr(p, end, '.');

        obj = ngx_http_es_json_get(obj, p, (dot ? dot : end) - p);

        if (dot == NULL) {
            return obj;
        }

        p = dot + 1;
    }
}


/* 0: nothing of the node is present (the root is always written) */

static size_t
ngx_http_es_mint_out_size(ngx_http_es_out_node_t *node, ngx_str_t *text)
{
    size_t                   len, n;
    ngx_uint_t               i, k;
    ngx_http_es_out_node_t  *child;

    if (node->output != -1) {
        n = text[node->output].len;
        return n ? node->key.len + n : 0;
    }

    len = node->key.len + 2;
    child = node->children.elts;

    for (i = 0, k = 0; i < node->children.nelts; i++) {
        n = ngx_http_es_mint_out_size(&child[i], text);

        if (n) {
            len += n + (k++ ? 1 : 0);
        }
    }

    return (k || node->key.len == 0) ? len : 0;
}


static u_char *
ngx_http_es_mint_out_write(u_char *p, ngx_http_es_out_node_t *node,
    ngx_str_t *text)
{
    ngx_uint_t               i, k;
    ngx_http_es_out_node_t  *child;

    p = ngx_cpymem(p, node->key.data, node->key.len);

    if (node->output != -1) {
        return ngx_cpymem(p, text[node->output].data,
                          text[node->output].len);
    }

    *p++ = '{';
    child = node->children.elts;

    for (i = 0, k = 0; i < node->children.nelts; i++) {
        if (ngx_http_es_mint_out_size(&child[i], text) == 0) {
            continue;
        }

        if (k++) {
            *p++ = ',';
        }

        p = ngx_http_es_mint_out_write(p, &child[i], text);
    }

    *p++ = '}';

    return p;
}


/* set() releases v on failure, and a NULL v is a failure */

static ngx_int_t
ngx_http_es_mint_set(ngx_http_es_json_t *obj, ngx_str_t *path,
    ngx_http_es_json_t *v)
{
    if (v == NULL) {
        return NGX_ERROR;
    }

    return ngx_http_es_json_set(obj, path->data, path->len, v) == 0
           ? NGX_OK : NGX_ERROR;
}
