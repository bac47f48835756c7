
/*
 * Copyright (C) The ngx_http_embed_session_module authors
 *
 * The access phase: find the token, check it in the order of
 * docs/security.md and either let the request through with its claims or
 * answer it; and the directives of a verifying location that need more
 * than a slot (embed_session_token, _keys, _type, _require, _cache).
 */


#include "ngx_http_embed_session_module.h"
#include "ngx_http_embed_session_browser.h"
#include "ngx_http_embed_session_cache.h"
#include "ngx_http_embed_session_jws.h"
#include "ngx_http_embed_session_keyset.h"
#include "ngx_http_embed_session_origin.h"
#include "ngx_http_embed_session_response.h"
#include "ngx_http_embed_session_store.h"
#include "ngx_http_embed_session_upstream.h"
#include "ngx_http_embed_session_verify.h"


/*
 * With a backend, how long a verification waits for the feed to bring a
 * generation not known here that was issued in the same second as the one
 * known (ms), and how often it looks again
 */
#define NGX_HTTP_ES_FEED_WAIT         100
#define NGX_HTTP_ES_FEED_POLL         5


typedef struct {
    ngx_http_request_t        *r;
    ngx_str_t                 *origin;
} ngx_http_es_origin_match_t;


static ngx_http_es_code_t ngx_http_es_verify(ngx_http_request_t *r,
    ngx_http_es_loc_conf_t *elcf, ngx_str_t *data,
    ngx_http_es_candidate_t *cand);
static ngx_http_es_code_t ngx_http_es_verify_store(ngx_http_request_t *r,
    ngx_http_es_loc_conf_t *elcf, ngx_http_es_candidate_t *cand);
static ngx_int_t ngx_http_es_verify_wait(ngx_http_request_t *r,
    ngx_http_es_ctx_t *ctx);
static void ngx_http_es_verify_waited(ngx_http_request_t *r);
static ngx_int_t ngx_http_es_verify_signature(ngx_http_request_t *r,
    ngx_http_es_loc_conf_t *elcf, ngx_str_t *data,
    ngx_http_es_candidate_t *cand);
static ngx_http_es_code_t ngx_http_es_check_claims(ngx_http_request_t *r,
    ngx_http_es_loc_conf_t *elcf, ngx_http_es_candidate_t *cand);
static const char *ngx_http_es_require_reason(ngx_http_request_t *r,
    ngx_str_t *claim);
static int ngx_http_es_origin_match(void *data, const unsigned char *s,
    size_t len);


ngx_int_t
ngx_http_es_verify_handler(ngx_http_request_t *r)
{
    ngx_int_t                 rc;
    ngx_str_t                 data;
    ngx_uint_t                kind;
    ngx_http_es_ctx_t        *ctx;
    ngx_http_es_code_t        code;
    ngx_http_es_candidate_t   cand;
    ngx_http_es_loc_conf_t   *elcf;

    elcf = ngx_http_get_module_loc_conf(r, ngx_http_embed_session_module);

    if (!elcf->verify) {
        return NGX_DECLINED;
    }

    /*
     * on the browser channel, a server brings an API key instead; the
     * client's copies of the claim headers go all the same
     */

    if (elcf->browser_channel && !ngx_http_es_from_browser(r)) {
        return (ngx_http_es_upstream_headers(r, elcf, NULL, NULL) == NGX_OK)
               ? NGX_DECLINED : NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx = ngx_http_es_get_ctx(r, 1);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* a location reached by an internal redirect checks on its own terms */

    ngx_http_es_ctx_clear(ctx);
    ctx->reason = NULL;

    if (ngx_http_es_token_source(r, elcf, &data, &kind) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    code = ngx_http_es_verify(r, elcf, &data, &cand);

    if (cand.feed) {
        rc = ngx_http_es_verify_wait(r, ctx);

        if (rc != NGX_DECLINED) {
            ngx_http_es_jws_claims_free(cand.token.claims);
            return (rc == NGX_AGAIN) ? NGX_AGAIN
                                     : NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        cand.reason = "session replaced by a refresh (the feed waited for)";
    }

    if (ngx_http_es_publish(r, ctx, code, &cand) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (code == NGX_HTTP_ES_PASSED) {

        rc = ngx_http_es_upstream_headers(r, elcf, ctx, &data);

        if (rc == NGX_OK) {

            /* once a request: an internal redirect checks again, uncounted */

            if (!r->internal) {
                ngx_http_es_count(verifications);
            }

            /* traded for a cookie once every access check passed */

            if (elcf->url_exchange && kind == NGX_HTTP_ES_SOURCE_ARG) {
                ctx->exchange = data;
            }

            return NGX_OK;
        }

        if (rc == NGX_ERROR) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        /* claims unfit for the upstream's headers: nothing of them stays */

        code = NGX_HTTP_ES_SESSION_INVALID;
        ngx_http_es_ctx_refuse(ctx, code);
    }

    if (ngx_http_es_upstream_headers(r, elcf, ctx, NULL) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ctx->reason == NULL) {
        /* a failure of our own, already logged */
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "embed_session: %V: %s",
                  ngx_http_es_code_name(code), ctx->reason);

    return ngx_http_es_error(r, code);
}


static ngx_http_es_code_t
ngx_http_es_verify(ngx_http_request_t *r, ngx_http_es_loc_conf_t *elcf,
    ngx_str_t *data, ngx_http_es_candidate_t *cand)
{
    ngx_http_es_code_t  code;

    if (data->len == 0) {
        ngx_memzero(cand, sizeof(ngx_http_es_candidate_t));
        cand->reason = "no token";
        return NGX_HTTP_ES_SESSION_REQUIRED;
    }

    code = ngx_http_es_verify_token(r, elcf, data, &elcf->type, cand);

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "embed_session: token %s%s",
                   code == NGX_HTTP_ES_PASSED ? "verified" : "refused: ",
                   code == NGX_HTTP_ES_PASSED ? ""
                   : cand->reason ? cand->reason : "an internal error");

    if (code != NGX_HTTP_ES_PASSED || elcf->store == NULL) {
        return code;
    }

    return ngx_http_es_verify_store(r, elcf, cand);
}


/*
 * The first non-empty of the location's token sources, and what kind of
 * source it is; empty: none.  A token stripped from the request before an
 * internal redirect is still this request's token.
 */

ngx_int_t
ngx_http_es_token_source(ngx_http_request_t *r, ngx_http_es_loc_conf_t *elcf,
    ngx_str_t *data, ngx_uint_t *kind)
{
    ngx_uint_t                 i;
    ngx_http_es_ctx_t         *ctx;
    ngx_http_es_source_t      *src;
    ngx_http_complex_value_t  *cv;

    ngx_str_null(data);
    *kind = NGX_HTTP_ES_SOURCE_OTHER;

    cv = elcf->sources->elts;
    src = elcf->source_kinds->elts;

    for (i = 0; i < elcf->sources->nelts; i++) {
        if (ngx_http_complex_value(r, &cv[i], data) != NGX_OK) {
            return NGX_ERROR;
        }

        if (data->len) {
            *kind = src[i].kind;

            ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                           "embed_session: token from \"%V\"",
                           &cv[i].value);
            return NGX_OK;
        }
    }

    ctx = ngx_http_es_get_ctx(r, 0);

    if (ctx && ctx->token.len) {
        *data = ctx->token;
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "embed_session: %s", data->len
                   ? "token from before an internal redirect" : "no token");

    return NGX_OK;
}


/*
 * A token against a type: the session type of the location, or the renew
 * type at a refresh.  A renew token is never a session token, even where
 * the type is not checked.
 *
 * Everything found out goes into the candidate, never into the request's
 * context: the claims of a token become the request's only through
 * ngx_http_es_publish(), once the caller's last check passed.  Whatever
 * the outcome, the candidate holds the claims' reference, if any, until
 * publish() takes it over or drops it.
 */

ngx_http_es_code_t
ngx_http_es_verify_token(ngx_http_request_t *r, ngx_http_es_loc_conf_t *elcf,
    ngx_str_t *data, ngx_str_t *type, ngx_http_es_candidate_t *cand)
{
    ngx_http_es_token_t  *token;

    ngx_memzero(cand, sizeof(ngx_http_es_candidate_t));

    token = &cand->token;

    if (ngx_http_es_cache_get(elcf->keyset, data, token) == NGX_OK) {
        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "embed_session: cache hit");

    } else {
        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "embed_session: cache miss");

        if (ngx_http_es_verify_signature(r, elcf, data, cand) != NGX_OK) {
            return NGX_HTTP_ES_SESSION_INVALID;
        }

        ngx_http_es_cache_put(elcf->keyset, data, token,
                              r->connection->log);
    }

    if (type->len
        && (!token->has_typ || token->typ_len != type->len
            || ngx_memcmp(token->typ, type->data, token->typ_len) != 0))
    {
        cand->reason = "wrong \"typ\"";
        return NGX_HTTP_ES_SESSION_INVALID;
    }

    if (type->len == 0 && token->has_typ
        && token->typ_len == sizeof(NGX_HTTP_ES_RENEW_TYPE) - 1
        && ngx_memcmp(token->typ, NGX_HTTP_ES_RENEW_TYPE,
                      token->typ_len) == 0)
    {
        cand->reason = "wrong \"typ\"";
        return NGX_HTTP_ES_SESSION_INVALID;
    }

    return ngx_http_es_check_claims(r, elcf, cand);
}


/*
 * The one place where claims become the request's: a token that passed
 * every check its caller makes (the store's included) gives the context
 * its claims, kid and origin; any other outcome leaves the context with
 * none of them and with the code of the failure.  The candidate's
 * reference to the claims is taken over or released: the caller has
 * nothing left to free.
 */

ngx_int_t
ngx_http_es_publish(ngx_http_request_t *r, ngx_http_es_ctx_t *ctx,
    ngx_http_es_code_t code, ngx_http_es_candidate_t *cand)
{
    ngx_http_es_token_t  *token;

    token = &cand->token;

    ngx_http_es_ctx_refuse(ctx, code);
    ctx->reason = cand->reason;

    if (code != NGX_HTTP_ES_PASSED) {
        ngx_http_es_jws_claims_free(token->claims);
        token->claims = NULL;
        return NGX_OK;
    }

    if (token->kid_len) {
        ctx->kid.data = ngx_pnalloc(r->pool, token->kid_len);
        if (ctx->kid.data == NULL) {
            ngx_http_es_jws_claims_free(token->claims);
            token->claims = NULL;
            ctx->code = NGX_HTTP_ES_SESSION_INVALID;
            return NGX_ERROR;
        }

        ngx_memcpy(ctx->kid.data, token->kid, token->kid_len);
        ctx->kid.len = token->kid_len;
    }

    ctx->origin = cand->origin;
    ctx->claims = token->claims;
    token->claims = NULL;

    return NGX_OK;
}


/* last, as docs/security.md orders: only a verified token reaches the zone */

static ngx_http_es_code_t
ngx_http_es_verify_store(ngx_http_request_t *r, ngx_http_es_loc_conf_t *elcf,
    ngx_http_es_candidate_t *cand)
{
    u_char      sid[NGX_HTTP_ES_ID_LEN], jti[NGX_HTTP_ES_ID_LEN];
    ngx_int_t   rc;
    ngx_uint_t  level;

    /* a token without our ids was not minted by a store: nothing to ask */

    if (ngx_http_es_token_ids(cand->token.claims, sid, jti) != NGX_OK) {
        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "embed_session: store: no sid and jti, not asked");
        return NGX_HTTP_ES_PASSED;
    }

    rc = ngx_http_es_store_check(elcf->store, sid, jti,
                                 cand->token.times.iat);

#if (NGX_DEBUG)
    {
    u_char  text[NGX_HTTP_ES_ID_TEXT_LEN];

    ngx_http_es_id_text(text, sid);

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "embed_session: store: sid %*s %s",
                   (size_t) NGX_HTTP_ES_ID_TEXT_LEN, text,
                   rc == NGX_DECLINED ? "revoked"
                   : rc == NGX_BUSY ? "replaced by a refresh"
                   : rc == NGX_ABORT ? "issued before the state was lost"
                   : rc == NGX_AGAIN ? "the backend's feed is stale"
                   : rc == NGX_DONE ? "a generation the feed may bring"
                   : "not revoked");
    }
#endif

    if (rc == NGX_DECLINED) {
        cand->reason = "session revoked";
        return NGX_HTTP_ES_SESSION_REVOKED;
    }

    if (rc == NGX_BUSY) {
        cand->reason = "session replaced by a refresh";
        return NGX_HTTP_ES_SESSION_REVOKED;
    }

    if (rc == NGX_DONE) {
        cand->reason = "session replaced by a refresh";
        cand->feed = 1;
        return NGX_HTTP_ES_SESSION_REVOKED;
    }

    if (rc == NGX_ABORT) {
        cand->reason = "session issued before the store lost state";
        return NGX_HTTP_ES_SESSION_REVOKED;
    }

    if (rc == NGX_AGAIN) {
        /* a variable: ngx_log_error() evaluates its level twice */

        level = ngx_http_es_store_complain(elcf->store,
                                           NGX_HTTP_ES_STORE_STALE);

        ngx_log_error(level, r->connection->log, 0,
                      "embed_session: store \"%V\": its copy of backend "
                      "\"%V\" is older than stale=", &elcf->store->name,
                      &elcf->store->backend_name);
        cand->reason = "the session store's copy is stale";
        return NGX_HTTP_ES_STORE_UNAVAILABLE;
    }

    return NGX_HTTP_ES_PASSED;
}


/*
 * A generation of the same second as the one the zone knows, and not the
 * one it knows replaced: another node's refresh, most likely, that the
 * feed brings within milliseconds.  The access phase runs again every
 * NGX_HTTP_ES_FEED_POLL ms (the request's write event, as limit_req's
 * delay) until the zone knows it or NGX_HTTP_ES_FEED_WAIT ms have passed.
 * NGX_AGAIN: waiting; NGX_DECLINED: waited enough, refused.
 */

static ngx_int_t
ngx_http_es_verify_wait(ngx_http_request_t *r, ngx_http_es_ctx_t *ctx)
{
    ngx_msec_int_t  left;

    if (!ctx->feed_wait) {
        ctx->feed_wait = 1;
        ctx->feed_until = ngx_current_msec + NGX_HTTP_ES_FEED_WAIT;
    }

    left = (ngx_msec_int_t) (ctx->feed_until - ngx_current_msec);

    if (left <= 0) {
        return NGX_DECLINED;
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "embed_session: store: waiting for the feed, %M ms left",
                   left);

    if (ngx_handle_read_event(r->connection->read, 0) != NGX_OK) {
        return NGX_ERROR;
    }

    r->read_event_handler = ngx_http_test_reading;
    r->write_event_handler = ngx_http_es_verify_waited;

    r->connection->write->delayed = 1;
    ngx_add_timer(r->connection->write,
                  ngx_min((ngx_msec_t) left, NGX_HTTP_ES_FEED_POLL));

    return NGX_AGAIN;
}


static void
ngx_http_es_verify_waited(ngx_http_request_t *r)
{
    ngx_event_t  *wev;

    wev = r->connection->write;

    if (wev->delayed) {

        /* the connection became writable: the timer still runs */

        if (ngx_handle_write_event(wev, 0) != NGX_OK) {
            ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        }

        return;
    }

    if (ngx_handle_read_event(r->connection->read, 0) != NGX_OK) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    r->read_event_handler = ngx_http_block_reading;
    r->write_event_handler = ngx_http_core_run_phases;

    ngx_http_core_run_phases(r);
}


/* "sid" and "jti" as the store keeps them; NGX_DECLINED: not ours */

ngx_int_t
ngx_http_es_token_ids(ngx_http_es_jws_claims_t *claims, u_char *sid,
    u_char *jti)
{
    u_char  buf[40];
    size_t  n;

    n = ngx_http_es_jws_claim_text(claims, (u_char *) "sid", 3, buf,
                                   sizeof(buf));

    if (ngx_http_es_id_parse(sid, buf, n) != NGX_OK) {
        return NGX_DECLINED;
    }

    n = ngx_http_es_jws_claim_text(claims, (u_char *) "jti", 3, buf,
                                   sizeof(buf));

    if (ngx_http_es_id_parse(jti, buf, n) != NGX_OK) {
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/*
 * Size cap, segments and header, then the key the kid names, the exact
 * signature, and only then the payload: no key, no claims parser.
 */

static ngx_int_t
ngx_http_es_verify_signature(ngx_http_request_t *r,
    ngx_http_es_loc_conf_t *elcf, ngx_str_t *data,
    ngx_http_es_candidate_t *cand)
{
    int                     rc;
    const u_char           *kid;
    ngx_http_es_jws_t       jws;
    ngx_http_es_token_t    *token;
    ngx_http_es_jws_key_t  *key, **keys;

    token = &cand->token;

    if (ngx_http_es_jws_parse(&jws, data->data, data->len, &cand->reason)
        != NGX_HTTP_ES_JWS_OK)
    {
        return NGX_DECLINED;
    }

    /* the kid only selects from the configured keys; never "try them all" */

    if (jws.has_kid) {
        key = ngx_http_es_keys_find(elcf->keyset, jws.kid, jws.kid_len);

        if (key == NULL) {
#if (NGX_DEBUG)
            {
            ngx_str_t  name;

            name.len = jws.kid_len;
            name.data = (u_char *) jws.kid;

            ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                           "embed_session: kid \"%V\" not found",
                           ngx_http_es_log_text(r->pool, &name));
            }
#endif
            cand->reason = "unknown \"kid\"";
            return NGX_DECLINED;
        }

        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "embed_session: kid \"%*s\" key found",
                       jws.kid_len, jws.kid);

    } else if (elcf->keyset->keys.nelts == 1) {
        keys = elcf->keyset->keys.elts;
        key = keys[0];

        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "embed_session: no kid, the one key");

    } else {
        cand->reason = "no \"kid\" and several keys";
        return NGX_DECLINED;
    }

    rc = ngx_http_es_jws_check(&jws, key, &cand->reason);

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "embed_session: signature %s",
                   rc == NGX_HTTP_ES_JWS_OK ? "verified" : "not verified");

    if (rc == NGX_HTTP_ES_JWS_OK) {
        rc = ngx_http_es_jws_claims_parse(&token->claims, &jws, &cand->reason);
    }

    if (rc != NGX_HTTP_ES_JWS_OK) {
        if (rc == NGX_HTTP_ES_JWS_ERROR) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "embed_session: %s", cand->reason);
            cand->reason = NULL;
        }

        return NGX_DECLINED;
    }

    ngx_http_es_jws_claims_times(token->claims, &token->times);

    /* the kid of the key that verified: a token may have named none */

    kid = ngx_http_es_jws_key_kid(key, &token->kid_len);
    ngx_memcpy(token->kid, kid, token->kid_len);

    token->has_typ = jws.has_typ;
    token->typ_len = jws.typ_len;
    ngx_memcpy(token->typ, jws.typ, jws.typ_len);

    return NGX_OK;
}


static ngx_http_es_code_t
ngx_http_es_check_claims(ngx_http_request_t *r, ngx_http_es_loc_conf_t *elcf,
    ngx_http_es_candidate_t *cand)
{
    int                          rc;
    ngx_http_es_jws_claims_t    *claims;
    ngx_int_t                    orc;
    ngx_str_t                    value, origin;
    ngx_uint_t                   i;
    ngx_http_es_require_t       *req;
    ngx_http_es_jws_time_t       tp;
    ngx_http_es_token_t         *token;
    ngx_http_es_origin_match_t   m;

    token = &cand->token;
    claims = token->claims;

    tp.now = ngx_time();
    tp.leeway = elcf->leeway;
    tp.max_lifetime = elcf->max_lifetime;

    rc = ngx_http_es_jws_check_times(&token->times, &tp, &cand->reason);

    if (rc == NGX_HTTP_ES_JWS_EXPIRED) {
        return NGX_HTTP_ES_SESSION_EXPIRED;
    }

    if (rc != NGX_HTTP_ES_JWS_OK) {
        return NGX_HTTP_ES_SESSION_INVALID;
    }

    if (elcf->issuer.len
        && ngx_http_es_jws_claim_match(claims, (u_char *) "iss", 3,
                                       elcf->issuer.data, elcf->issuer.len)
           != NGX_HTTP_ES_JWS_OK)
    {
        cand->reason = "wrong \"iss\"";
        return NGX_HTTP_ES_SESSION_INVALID;
    }

    if (elcf->audience.len
        && ngx_http_es_jws_claim_match(claims, (u_char *) "aud", 3,
                                       elcf->audience.data,
                                       elcf->audience.len)
           != NGX_HTTP_ES_JWS_OK)
    {
        cand->reason = "wrong \"aud\"";
        return NGX_HTTP_ES_SESSION_INVALID;
    }

    if (elcf->origin) {
        orc = ngx_http_es_origin_get(r, elcf->origin_referer, &origin);

        if (orc == NGX_ERROR) {
            cand->reason = "unusable origin";
            return NGX_HTTP_ES_ORIGIN_NOT_ALLOWED;
        }

        if (orc == NGX_DECLINED) {
            if (elcf->origin_absent == NGX_HTTP_ES_ORIGIN_ABSENT_DENY) {
                cand->reason = "no origin";
                return NGX_HTTP_ES_ORIGIN_NOT_ALLOWED;
            }

        } else {
            m.r = r;
            m.origin = &origin;

            rc = ngx_http_es_jws_claim_strings(claims,
                                               elcf->origin_claim.data,
                                               elcf->origin_claim.len,
                                               ngx_http_es_origin_match, &m);
            if (rc != 1) {
                cand->reason = "origin not in the token";
                return NGX_HTTP_ES_ORIGIN_NOT_ALLOWED;
            }

            cand->origin = origin;
        }
    }

    if (elcf->requires) {
        req = elcf->requires->elts;

        for (i = 0; i < elcf->requires->nelts; i++) {
            if (ngx_http_complex_value(r, &req[i].value, &value) != NGX_OK) {
                cand->reason = NULL;
                return NGX_HTTP_ES_SCOPE_NOT_GRANTED;
            }

            if (ngx_http_es_jws_claim_match(claims, req[i].claim.data,
                                            req[i].claim.len, value.data,
                                            value.len)
                != NGX_HTTP_ES_JWS_OK)
            {
                cand->reason = ngx_http_es_require_reason(r, &req[i].claim);
                return NGX_HTTP_ES_SCOPE_NOT_GRANTED;
            }
        }
    }

    return NGX_HTTP_ES_PASSED;
}


/* names the claim, from the configuration: never a value of the token */

static const char *
ngx_http_es_require_reason(ngx_http_request_t *r, ngx_str_t *claim)
{
    u_char  *p;

    p = ngx_pnalloc(r->pool, claim->len + sizeof("claim \"\" not granted"));
    if (p == NULL) {
        return "a required claim is not granted";
    }

    ngx_sprintf(p, "claim \"%V\" not granted%Z", claim);

    return (const char *) p;
}


/* 1 stops the walk over the token's origins: a match */

static int
ngx_http_es_origin_match(void *data, const unsigned char *s, size_t len)
{
    ngx_http_es_origin_match_t *m = data;

    u_char  buf[256];
    size_t  n;

    /* the request origin is in normal form, and so is what we mint */

    if (len == m->origin->len && ngx_memcmp(s, m->origin->data, len) == 0) {
        return 1;
    }

    if (len > sizeof(buf)) {
        return 0;
    }

    if (ngx_http_es_origin_normalize(buf, &n, (u_char *) s, len, 0) != NGX_OK)
    {
        return 0;
    }

    return n == m->origin->len && ngx_memcmp(buf, m->origin->data, n) == 0;
}


char *
ngx_http_es_token(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_es_loc_conf_t *elcf = conf;

    ngx_str_t                         *value, *arg;
    ngx_http_es_source_t              *src;
    ngx_http_es_main_conf_t           *emcf;
    ngx_uint_t                         i;
    ngx_http_complex_value_t          *cv;
    ngx_http_compile_complex_value_t   ccv;

    if (elcf->sources != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    elcf->sources = ngx_array_create(cf->pool, cf->args->nelts - 1,
                                     sizeof(ngx_http_complex_value_t));
    if (elcf->sources == NULL) {
        return NGX_CONF_ERROR;
    }

    elcf->token_args = ngx_array_create(cf->pool, 1, sizeof(ngx_str_t));
    if (elcf->token_args == NULL) {
        return NGX_CONF_ERROR;
    }

    elcf->source_kinds = ngx_array_create(cf->pool, cf->args->nelts - 1,
                                          sizeof(ngx_http_es_source_t));
    if (elcf->source_kinds == NULL) {
        return NGX_CONF_ERROR;
    }

    emcf = ngx_http_conf_get_module_main_conf(cf,
                                              ngx_http_embed_session_module);

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {

        if (value[i].len == 0) {
            return "has an empty source";
        }

        cv = ngx_array_push(elcf->sources);
        if (cv == NULL) {
            return NGX_CONF_ERROR;
        }

        ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

        ccv.cf = cf;
        ccv.value = &value[i];
        ccv.complex_value = cv;

        if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
            return NGX_CONF_ERROR;
        }

        if (ngx_http_es_source_kind(cf, elcf->source_kinds, &value[i])
            != NGX_OK)
        {
            return NGX_CONF_ERROR;
        }

        /*
         * a token read from a query argument is remembered, so that
         * $embed_session_args and $embed_session_request_line can leave
         * it out of what goes upstream and into logs; and every level's,
         * for the request line in logs
         */

        src = elcf->source_kinds->elts;
        src += elcf->source_kinds->nelts - 1;

        if (src->kind == NGX_HTTP_ES_SOURCE_ARG) {
            arg = ngx_array_push(elcf->token_args);
            if (arg == NULL) {
                return NGX_CONF_ERROR;
            }

            *arg = src->name;

            arg = ngx_http_es_conf_push(cf, &emcf->token_args,
                                        sizeof(ngx_str_t));
            if (arg == NULL) {
                return NGX_CONF_ERROR;
            }

            *arg = src->name;
        }
    }

    return NGX_CONF_OK;
}


/*
 * What a source reads, for embed_session_strip_token and the URL-token
 * exchange: a source that is exactly one variable of a request header, a
 * cookie or a query argument, or $embed_session_bearer.
 */

ngx_int_t
ngx_http_es_source_kind(ngx_conf_t *cf, ngx_array_t *kinds, ngx_str_t *value)
{
    u_char                *p;
    ngx_str_t              plain;
    ngx_uint_t             i;
    ngx_http_es_source_t  *src;

    static struct {
        ngx_str_t   prefix;
        ngx_uint_t  kind;
    } prefixes[] = {
        { ngx_string("$http_"), NGX_HTTP_ES_SOURCE_HEADER },
        { ngx_string("$cookie_"), NGX_HTTP_ES_SOURCE_COOKIE },
        { ngx_string("$arg_"), NGX_HTTP_ES_SOURCE_ARG },
        { ngx_string("$embed_session_bearer"), NGX_HTTP_ES_SOURCE_BEARER }
    };

    src = ngx_array_push(kinds);
    if (src == NULL) {
        return NGX_ERROR;
    }

    src->kind = NGX_HTTP_ES_SOURCE_OTHER;
    ngx_str_null(&src->name);

    /* "${arg_token}" is "$arg_token" */

    if (value->len > 3 && value->data[0] == '$' && value->data[1] == '{'
        && value->data[value->len - 1] == '}')
    {
        p = ngx_pnalloc(cf->pool, value->len - 2);
        if (p == NULL) {
            return NGX_ERROR;
        }

        p[0] = '$';
        ngx_memcpy(p + 1, value->data + 2, value->len - 3);

        plain.data = p;
        plain.len = value->len - 2;
        value = &plain;
    }

    for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {

        if (value->len < prefixes[i].prefix.len
            || ngx_strncasecmp(value->data, prefixes[i].prefix.data,
                               prefixes[i].prefix.len) != 0)
        {
            continue;
        }

        src->name.len = value->len - prefixes[i].prefix.len;

        if (prefixes[i].kind == NGX_HTTP_ES_SOURCE_BEARER) {
            if (src->name.len == 0) {
                src->kind = NGX_HTTP_ES_SOURCE_BEARER;
            }

            break;
        }

        /* one variable and nothing else: "$http_a$arg_b" reads neither */

        for (p = value->data + prefixes[i].prefix.len;
             p < value->data + value->len;
             p++)
        {
            if (*p == '$' || *p == '{' || *p == '}') {
                return NGX_OK;
            }
        }

        if (src->name.len == 0) {
            return NGX_OK;
        }

        src->name.data = ngx_pnalloc(cf->pool, src->name.len);
        if (src->name.data == NULL) {
            return NGX_ERROR;
        }

        ngx_strlow(src->name.data, value->data + prefixes[i].prefix.len,
                   src->name.len);

        src->kind = prefixes[i].kind;
        break;
    }

    return NGX_OK;
}


char *
ngx_http_es_keys(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_es_loc_conf_t *elcf = conf;

    ngx_str_t              *value, kid, *kidp;
    ngx_uint_t              i;
    ngx_http_es_jws_alg_t   alg;

    value = cf->args->elts;

    alg = NGX_HTTP_ES_JWS_ALG_UNKNOWN;
    kidp = NULL;

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "alg=", 4) == 0) {
            alg = ngx_http_es_jws_alg(value[i].data + 4, value[i].len - 4);

            if (alg == NGX_HTTP_ES_JWS_ALG_UNKNOWN) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "unsupported algorithm \"%V\"", &value[i]);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "kid=", 4) == 0) {
            kid.data = value[i].data + 4;
            kid.len = value[i].len - 4;

            if (kid.len == 0 || kid.len > NGX_HTTP_ES_JWS_MAX_KID) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "kid= of key file \"%V\" must be 1 to %d "
                                   "bytes long", &value[1],
                                   NGX_HTTP_ES_JWS_MAX_KID);
                return NGX_CONF_ERROR;
            }

            kidp = &kid;
            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\"", &value[i]);
        return NGX_CONF_ERROR;
    }

    if (elcf->keyset == NGX_CONF_UNSET_PTR) {
        elcf->keyset = ngx_pcalloc(cf->pool, sizeof(ngx_http_es_keyset_t));
        if (elcf->keyset == NULL) {
            return NGX_CONF_ERROR;
        }

        if (ngx_array_init(&elcf->keyset->keys, cf->pool, 2,
                           sizeof(ngx_http_es_jws_key_t *))
            != NGX_OK)
        {
            return NGX_CONF_ERROR;
        }
    }

    return ngx_http_es_keys_load(cf, elcf->keyset, &value[1], alg, kidp);
}


char *
ngx_http_es_type(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_es_loc_conf_t *elcf = conf;

    ngx_str_t  *value, s;

    if (elcf->type.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "off") == 0) {
        ngx_str_set(&elcf->type, "");
        return NGX_CONF_OK;
    }

    if (value[1].len == 0 || value[1].len > NGX_HTTP_ES_JWS_MAX_TYP) {
        return "must be 1 to 64 bytes long";
    }

    /*
     * the session type is what verify locations accept and what the mint
     * signs as a session: the renew type there would make renew tokens,
     * which live as long as the session, session tokens (rule 19).  Media
     * types compare without case and may omit "application/" (RFC 7515)
     */

    s = value[1];

    if (s.len > sizeof("application/") - 1
        && ngx_strncasecmp(s.data, (u_char *) "application/",
                           sizeof("application/") - 1) == 0)
    {
        s.data += sizeof("application/") - 1;
        s.len -= sizeof("application/") - 1;
    }

    if (s.len == sizeof(NGX_HTTP_ES_RENEW_TYPE) - 1
        && ngx_strncasecmp(s.data, (u_char *) NGX_HTTP_ES_RENEW_TYPE, s.len)
           == 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"embed_session_type %V\" is the type of renew "
                           "tokens: a renew token would pass as a session "
                           "token", &value[1]);
        return NGX_CONF_ERROR;
    }

    elcf->type = value[1];

    return NGX_CONF_OK;
}


char *
ngx_http_es_require(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_es_loc_conf_t *elcf = conf;

    char                              *rv;
    ngx_str_t                         *value;
    ngx_http_es_require_t             *req;
    ngx_http_compile_complex_value_t   ccv;

    value = cf->args->elts;

    rv = ngx_http_es_claim_path(cf, NULL, &value[1]);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    if (value[2].len == 0) {
        return "has an empty value";
    }

    if (elcf->requires == NGX_CONF_UNSET_PTR) {
        elcf->requires = ngx_array_create(cf->pool, 2,
                                          sizeof(ngx_http_es_require_t));
        if (elcf->requires == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    req = ngx_array_push(elcf->requires);
    if (req == NULL) {
        return NGX_CONF_ERROR;
    }

    req->claim = value[1];

    ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

    ccv.cf = cf;
    ccv.value = &value[2];
    ccv.complex_value = &req->value;

    if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


char *
ngx_http_es_cache_size(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_es_main_conf_t *emcf = conf;

    ngx_int_t   n;
    ngx_str_t  *value;

    if (emcf->cache != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "off") == 0) {
        emcf->cache = 0;
        return NGX_CONF_OK;
    }

    n = ngx_atoi(value[1].data, value[1].len);

    if (n < 1 || n > 1048576) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid cache size \"%V\": a number of entries "
                           "from 1 to 1048576, or \"off\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    emcf->cache = n;

    return NGX_CONF_OK;
}


/* a claim name or a dotted path of names, as the codec looks them up */

char *
ngx_http_es_claim_path(ngx_conf_t *cf, void *post, void *data)
{
    ngx_str_t  *path = data;

    u_char  *p, *last, *dot;

    p = path->data;
    last = p + path->len;

    if (path->len == 0) {
        return "has an empty claim name";
    }

    while (p <= last) {
        dot = ngx_strlchr(p, last, '.');
        if (dot == NULL) {
            dot = last;
        }

        if (dot == p || dot - p > 127) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid claim path \"%V\"", path);
            return NGX_CONF_ERROR;
        }

        p = dot + 1;
    }

    return NGX_CONF_OK;
}
