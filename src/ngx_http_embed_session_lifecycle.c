
/*
 * Copyright (C) The ngx_http_embed_session_module authors
 *
 * The life of a session after its mint: refresh (a renew token or the
 * session token itself, rotated in place in the store), revoke (by session
 * id, by the key that minted it or an admin key) and the exchange of a
 * one-time ticket for its token.  Each decision is one step under the
 * store's mutex; everything around it (JSON, signatures) happens outside.
 * With a store on Redis (backend=), the decision is Redis's first, and
 * the request waits for it (ngx_http_es_life_ask()).
 */


#include "ngx_http_embed_session_module.h"
#include "ngx_http_embed_session_apikey.h"
#include "ngx_http_embed_session_json.h"
#include "ngx_http_embed_session_jws.h"
#include "ngx_http_embed_session_lifecycle.h"
#include "ngx_http_embed_session_mint.h"
#include "ngx_http_embed_session_response.h"
#include "ngx_http_embed_session_store.h"
#include "ngx_http_embed_session_verify.h"


#define NGX_HTTP_ES_LIFE_BODY_MAX     (16 * 1024)
#define NGX_HTTP_ES_LIFE_GRACE        10


/* a request waiting for Redis: its question, and what the answer needs */

typedef struct {
    ngx_http_es_store_ask_t     ask;
    ngx_http_request_t         *request;
    ngx_str_t                   value;      /* the token, or the id */
    ngx_http_es_rotate_t        rot;
    ngx_http_es_candidate_t     cand;
    ngx_http_es_store_rec_t     rec;
    ngx_uint_t                  admin;
} ngx_http_es_life_wait_t;


static void ngx_http_es_life_body(ngx_http_request_t *r);
static ngx_int_t ngx_http_es_life_run(ngx_http_request_t *r);
static ngx_int_t ngx_http_es_life_member(ngx_http_request_t *r,
    ngx_str_t *body, ngx_str_t *name, ngx_uint_t mode, ngx_str_t *value);
static char *ngx_http_es_life(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf, ngx_uint_t mode);
static ngx_int_t ngx_http_es_refresh(ngx_http_request_t *r,
    ngx_http_es_loc_conf_t *elcf, ngx_str_t *data);
static ngx_http_es_code_t ngx_http_es_refresh_verdict(ngx_http_request_t *r,
    ngx_http_es_rotate_rc_t rrc, ngx_http_es_rotate_t *rot,
    ngx_http_es_candidate_t *cand);
static ngx_int_t ngx_http_es_refresh_mint(ngx_http_request_t *r,
    ngx_http_es_loc_conf_t *elcf, ngx_str_t *data, ngx_http_es_rotate_t *rot);
static ngx_int_t ngx_http_es_revoke(ngx_http_request_t *r,
    ngx_http_es_loc_conf_t *elcf, ngx_str_t *id);
static ngx_int_t ngx_http_es_exchange(ngx_http_request_t *r,
    ngx_http_es_loc_conf_t *elcf, ngx_str_t *id);
static ngx_int_t ngx_http_es_exchange_claims(ngx_http_request_t *r,
    ngx_http_es_loc_conf_t *elcf, ngx_http_es_store_rec_t *rec,
    u_char *stored, ngx_str_t *payload);
static ngx_int_t ngx_http_es_life_ids(ngx_http_request_t *r, u_char *id,
    ngx_str_t *sid, ngx_str_t *jti);
static ngx_int_t ngx_http_es_life_ask(ngx_http_request_t *r,
    ngx_http_es_loc_conf_t *elcf, ngx_http_es_life_wait_t *w);
static void ngx_http_es_life_done(void *data, ngx_int_t rc);
static ngx_int_t ngx_http_es_refreshed(ngx_http_request_t *r,
    ngx_http_es_loc_conf_t *elcf, ngx_str_t *data, ngx_http_es_rotate_t *rot,
    ngx_http_es_rotate_rc_t rrc, ngx_http_es_candidate_t *cand);
static ngx_int_t ngx_http_es_revoked(ngx_http_request_t *r,
    ngx_str_t *id, u_char *sid, ngx_int_t rc, ngx_uint_t admin);
static ngx_int_t ngx_http_es_exchanged(ngx_http_request_t *r,
    ngx_http_es_loc_conf_t *elcf, ngx_str_t *id, u_char *tid,
    ngx_http_es_exchange_rc_t xrc, ngx_http_es_store_rec_t *rec,
    u_char *buf);


static ngx_str_t  ngx_http_es_renew_type = ngx_string(NGX_HTTP_ES_RENEW_TYPE);


/*
 * embed_session_refresh renew|session [body=MEMBER] [grace=TIME];
 * embed_session_revoke [body=MEMBER | id=VALUE] [admin=SCOPE];
 * embed_session_exchange [body=MEMBER];
 */

char *
ngx_http_es_life_refresh(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    return ngx_http_es_life(cf, cmd, conf, NGX_HTTP_ES_REFRESH_RENEW);
}


char *
ngx_http_es_life_revoke(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    return ngx_http_es_life(cf, cmd, conf, NGX_HTTP_ES_REVOKE);
}


char *
ngx_http_es_life_exchange(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    return ngx_http_es_life(cf, cmd, conf, NGX_HTTP_ES_EXCHANGE);
}


static char *
ngx_http_es_life(ngx_conf_t *cf, ngx_command_t *cmd, void *conf,
    ngx_uint_t mode)
{
    ngx_http_es_loc_conf_t  *elcf = conf;

    char                              *rv;
    ngx_str_t                         *value, s;
    ngx_int_t                          grace;
    ngx_uint_t                         i;
    ngx_http_es_life_conf_t           *life;
    ngx_http_core_loc_conf_t          *clcf;
    ngx_http_compile_complex_value_t   ccv;

    if (elcf->life) {
        return "is duplicate, or combined with another lifecycle directive";
    }

    life = ngx_pcalloc(cf->pool, sizeof(ngx_http_es_life_conf_t));
    if (life == NULL) {
        return NGX_CONF_ERROR;
    }

    elcf->life = life;
    life->mode = mode;
    life->grace = NGX_HTTP_ES_LIFE_GRACE;

    value = cf->args->elts;
    i = 1;

    switch (life->mode) {

    case NGX_HTTP_ES_REFRESH_RENEW:
        if (cf->args->nelts < 2) {
            return "takes \"renew\" or \"session\"";
        }

        if (ngx_strcmp(value[1].data, "session") == 0) {
            life->mode = NGX_HTTP_ES_REFRESH_SESSION;

        } else if (ngx_strcmp(value[1].data, "renew") != 0) {
            return "takes \"renew\" or \"session\" first";
        }

        i = 2;
        break;

    case NGX_HTTP_ES_REVOKE:
        ngx_str_set(&life->member, "session_id");
        break;

    default: /* NGX_HTTP_ES_EXCHANGE */
        ngx_str_set(&life->member, "sessionId");
        break;
    }

    for ( /* void */ ; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "body=", 5) == 0) {
            life->member.data = value[i].data + 5;
            life->member.len = value[i].len - 5;

            if (life->member.len == 0 || life->member.len > 255) {
                goto invalid;
            }

            continue;
        }

        if (life->mode == NGX_HTTP_ES_REFRESH_RENEW
            || life->mode == NGX_HTTP_ES_REFRESH_SESSION)
        {
            if (ngx_strncmp(value[i].data, "grace=", 6) == 0) {
                s.data = value[i].data + 6;
                s.len = value[i].len - 6;

                grace = ngx_parse_time(&s, 1);
                if (grace == NGX_ERROR || grace > 300) {
                    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                       "invalid \"%V\": 0 to 5m", &value[i]);
                    return NGX_CONF_ERROR;
                }

                life->grace = grace;
                continue;
            }
        }

        if (life->mode == NGX_HTTP_ES_REVOKE) {

            if (ngx_strncmp(value[i].data, "id=", 3) == 0
                && value[i].len > 3)
            {
                s.data = value[i].data + 3;
                s.len = value[i].len - 3;

                life->id = ngx_palloc(cf->pool,
                                      sizeof(ngx_http_complex_value_t));
                if (life->id == NULL) {
                    return NGX_CONF_ERROR;
                }

                ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

                ccv.cf = cf;
                ccv.value = &s;
                ccv.complex_value = life->id;

                if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
                    return NGX_CONF_ERROR;
                }

                continue;
            }

            if (ngx_strncmp(value[i].data, "admin=", 6) == 0
                && value[i].len > 6)
            {
                life->admin.data = value[i].data + 6;
                life->admin.len = value[i].len - 6;
                continue;
            }
        }

        goto invalid;
    }

    if (life->mode == NGX_HTTP_ES_REFRESH_RENEW
        || life->mode == NGX_HTTP_ES_REFRESH_SESSION
        || life->mode == NGX_HTTP_ES_EXCHANGE)
    {
        rv = ngx_http_es_mint_lifecycle(cf, cmd, conf);
        if (rv != NGX_CONF_OK) {
            return rv;
        }
    }

    elcf->allow = (life->mode == NGX_HTTP_ES_REVOKE) ? "POST, DELETE"
                                                     : "POST";

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_es_life_handler;

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid parameter \"%V\"",
                       &value[i]);
    return NGX_CONF_ERROR;
}


/* embed_session_store NAME | off */

char *
ngx_http_es_store(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_es_loc_conf_t  *elcf = conf;

    ngx_str_t  *value;

    if (elcf->store != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "off") == 0) {
        elcf->store = NULL;
        return NGX_CONF_OK;
    }

    elcf->store = ngx_http_es_store_get(cf, &value[1]);
    if (elcf->store == NULL) {
        return NGX_CONF_ERROR;
    }

    elcf->store->used = 1;

    return NGX_CONF_OK;
}


char *
ngx_http_es_life_merge(ngx_conf_t *cf, ngx_http_es_loc_conf_t *elcf)
{
    if (elcf->store && elcf->store->shm_zone->shm.size == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"embed_session_store %V\": no "
                           "\"embed_session_store_zone zone=%V:SIZE\"",
                           &elcf->store->name, &elcf->store->name);
        return NGX_CONF_ERROR;
    }

    if (elcf->life == NULL) {
        return NGX_CONF_OK;
    }

    if (elcf->store == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "refresh, revoke and exchange need "
                           "\"embed_session_store\"");
        return NGX_CONF_ERROR;
    }

    if (elcf->life->mode == NGX_HTTP_ES_REVOKE && elcf->api.zone == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"embed_session_revoke\" needs "
                           "\"embed_session_api_key\"");
        return NGX_CONF_ERROR;
    }

    if ((elcf->life->mode == NGX_HTTP_ES_REFRESH_RENEW
         || elcf->life->mode == NGX_HTTP_ES_REFRESH_SESSION)
        && elcf->keyset == NULL)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"embed_session_refresh\" needs "
                           "\"embed_session_keys\"");
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* the handler, for all three */

ngx_int_t
ngx_http_es_life_handler(ngx_http_request_t *r)
{
    ngx_int_t                 rc;
    ngx_http_es_loc_conf_t   *elcf;

    elcf = ngx_http_get_module_loc_conf(r, ngx_http_embed_session_module);

    if (r->method != NGX_HTTP_POST
        && !(r->method == NGX_HTTP_DELETE
             && elcf->life->mode == NGX_HTTP_ES_REVOKE))
    {
        return ngx_http_es_content_error(r, NGX_HTTP_ES_METHOD_NOT_ALLOWED,
                                         NULL);
    }

    if (elcf->api.zone) {
        rc = ngx_http_es_api_content_auth(r, &elcf->api);
        if (rc != NGX_OK) {
            return rc;
        }

    } else if (ngx_http_es_get_ctx(r, 1) == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (r->headers_in.content_length_n > NGX_HTTP_ES_LIFE_BODY_MAX) {
        return ngx_http_es_content_error(r, NGX_HTTP_ES_BODY_TOO_LARGE,
                                         NULL);
    }

    r->request_body_in_single_buf = 1;

    rc = ngx_http_read_client_request_body(r, ngx_http_es_life_body);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


static void
ngx_http_es_life_body(ngx_http_request_t *r)
{
    ngx_http_es_finalize(r, ngx_http_es_life_run(r));
}


static ngx_int_t
ngx_http_es_life_run(ngx_http_request_t *r)
{
    ngx_int_t                 rc;
    ngx_str_t                 body, value;
    ngx_uint_t                kind;
    ngx_http_es_life_conf_t  *life;
    ngx_http_es_loc_conf_t   *elcf;

    elcf = ngx_http_get_module_loc_conf(r, ngx_http_embed_session_module);
    life = elcf->life;

    ngx_str_null(&value);

    if (life->id) {
        if (ngx_http_complex_value(r, life->id, &value) != NGX_OK) {
            return NGX_ERROR;
        }

    } else if (life->member.len) {
        rc = ngx_http_es_read_body(r, NGX_HTTP_ES_LIFE_BODY_MAX, &body);

        if (rc == NGX_DECLINED) {
            return ngx_http_es_error(r, NGX_HTTP_ES_BODY_TOO_LARGE);
        }

        if (rc != NGX_OK) {
            return NGX_ERROR;
        }

        rc = ngx_http_es_life_member(r, &body, &life->member, life->mode,
                                     &value);
        if (rc != NGX_OK) {
            return rc;
        }

    } else {
        /* a refresh with the token where the location looks for tokens */

        if (ngx_http_es_token_source(r, elcf, &value, &kind) != NGX_OK) {
            return NGX_ERROR;
        }

        if (value.len == 0) {
            ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                          "embed_session refresh: no token");
            return ngx_http_es_error(r, NGX_HTTP_ES_SESSION_REQUIRED);
        }
    }

    switch (life->mode) {

    case NGX_HTTP_ES_REVOKE:
        return ngx_http_es_revoke(r, elcf, &value);

    case NGX_HTTP_ES_EXCHANGE:
        return ngx_http_es_exchange(r, elcf, &value);

    default:
        return ngx_http_es_refresh(r, elcf, &value);
    }
}


/* a string member of the body; absent or another type: 400 with details */

static ngx_int_t
ngx_http_es_life_member(ngx_http_request_t *r, ngx_str_t *body,
    ngx_str_t *name, ngx_uint_t mode, ngx_str_t *value)
{
    size_t                 len;
    char                   err[160];
    ngx_array_t            details;
    const u_char          *s;
    ngx_http_es_json_t    *root, *v;
    ngx_http_es_detail_t  *d;

    if (body->len == 0) {
        ngx_str_set(body, "{}");
    }

    root = ngx_http_es_json_parse(body->data, body->len, err, sizeof(err));

    if (root == NULL) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "embed_session: invalid JSON body: %s", err);
        return ngx_http_es_error(r, NGX_HTTP_ES_INVALID_JSON);
    }

    s = NULL;
    len = 0;

    if (ngx_http_es_json_type(root) == NGX_HTTP_ES_JSON_OBJECT) {
        v = ngx_http_es_json_get(root, name->data, name->len);

        if (v && ngx_http_es_json_type(v) == NGX_HTTP_ES_JSON_STRING) {
            s = ngx_http_es_json_string(v, &len);
        }
    }

    if (s == NULL || len == 0) {
        ngx_http_es_json_free(root);

        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "embed_session: the body has no string \"%V\"", name);

        /* a refresh without its token is a request without a session */

        if (mode == NGX_HTTP_ES_REFRESH_RENEW
            || mode == NGX_HTTP_ES_REFRESH_SESSION)
        {
            return ngx_http_es_error(r, NGX_HTTP_ES_SESSION_REQUIRED);
        }

        if (ngx_array_init(&details, r->pool, 1, sizeof(ngx_http_es_detail_t))
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        d = ngx_array_push(&details);
        if (d == NULL) {
            return NGX_ERROR;
        }

        d->path = *name;
        ngx_str_set(&d->message, "required, a non-empty string");

        return ngx_http_es_error_details(r, NGX_HTTP_ES_VALIDATION_FAILED,
                                         &details);
    }

    value->data = ngx_pnalloc(r->pool, len);
    if (value->data == NULL) {
        ngx_http_es_json_free(root);
        return NGX_ERROR;
    }

    ngx_memcpy(value->data, s, len);
    value->len = len;

    ngx_http_es_json_free(root);

    return NGX_OK;
}


/*
 * refresh: the token's checks, then the rotation in the store, then the
 * successor.  The presented token's claims never become the request's:
 * a failure publishes none, and a success replaced the token.
 */

static ngx_int_t
ngx_http_es_refresh(ngx_http_request_t *r, ngx_http_es_loc_conf_t *elcf,
    ngx_str_t *data)
{
    ngx_str_t                *type;
    ngx_http_es_ctx_t        *ctx;
    ngx_http_es_code_t        code;
    ngx_http_es_rotate_t      rot;
    ngx_http_es_rotate_rc_t   rrc;
    ngx_http_es_candidate_t   cand;
    ngx_http_es_life_wait_t  *w;

    ctx = ngx_http_es_get_ctx(r, 0);

    type = (elcf->life->mode == NGX_HTTP_ES_REFRESH_RENEW)
           ? &ngx_http_es_renew_type : &elcf->type;

    ngx_memzero(&rot, sizeof(ngx_http_es_rotate_t));

    code = ngx_http_es_verify_token(r, elcf, data, type, &cand);

    if (code == NGX_HTTP_ES_PASSED
        && ngx_http_es_token_ids(cand.token.claims, rot.sid, rot.jti)
           != NGX_OK)
    {
        cand.reason = "no session ids in the token";
        code = NGX_HTTP_ES_SESSION_INVALID;
    }

    if (code != NGX_HTTP_ES_PASSED) {
        (void) ngx_http_es_publish(r, ctx, code, &cand);

        if (ctx->reason == NULL) {
            return NGX_ERROR;
        }

        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "embed_session refresh: %V: %s",
                      ngx_http_es_code_name(code), ctx->reason);

        return ngx_http_es_error(r, code);
    }

    /* the token of the refresh is not the request's: only its origin is */

    ngx_http_es_jws_claims_free(cand.token.claims);
    cand.token.claims = NULL;

    if (ctx->api_key) {
        ngx_http_es_owner(rot.owner, &ctx->api_key->owner);
        rot.has_owner = 1;
    }

    rot.now = ngx_time();
    rot.ttl = elcf->life->ttl;
    rot.grace = elcf->life->grace;

    if (ngx_http_es_jws_random(rot.next, NGX_HTTP_ES_ID_LEN)
        != NGX_HTTP_ES_JWS_OK)
    {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "embed_session refresh: the random generator failed");
        return ngx_http_es_error(r, NGX_HTTP_ES_MINT_FAILED);
    }

    rot.next[6] = (rot.next[6] & 0x0f) | 0x40;
    rot.next[8] = (rot.next[8] & 0x3f) | 0x80;

    if (elcf->store->backend) {
        w = ngx_pcalloc(r->pool, sizeof(ngx_http_es_life_wait_t));
        if (w == NULL) {
            return NGX_ERROR;
        }

        w->value = *data;
        w->rot = rot;
        w->cand = cand;
        w->ask.op = NGX_HTTP_ES_STORE_ROTATE;
        w->ask.rot = &w->rot;

        return ngx_http_es_life_ask(r, elcf, w);
    }

    rrc = ngx_http_es_store_rotate(elcf->store, &rot);

    return ngx_http_es_refreshed(r, elcf, data, &rot, rrc, &cand);
}


/* what the store answered a refresh */

static ngx_int_t
ngx_http_es_refreshed(ngx_http_request_t *r, ngx_http_es_loc_conf_t *elcf,
    ngx_str_t *data, ngx_http_es_rotate_t *rot, ngx_http_es_rotate_rc_t rrc,
    ngx_http_es_candidate_t *cand)
{
    ngx_int_t            rc;
    ngx_http_es_ctx_t   *ctx;
    ngx_http_es_code_t   code;

    ctx = ngx_http_es_get_ctx(r, 0);

    if (ngx_http_es_life_ids(r, rot->sid, &ctx->minted_sid, NULL) != NGX_OK) {
        ngx_http_es_ctx_refuse(ctx, NGX_HTTP_ES_MINT_FAILED);
        return NGX_ERROR;
    }

    code = ngx_http_es_refresh_verdict(r, rrc, rot, cand);

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "embed_session: refresh: store: sid %V %s",
                   &ctx->minted_sid,
                   code != NGX_HTTP_ES_PASSED ? cand->reason
                   : rrc == NGX_HTTP_ES_REPEATED ? "renewed within grace"
                   : "renewed");

    if (code != NGX_HTTP_ES_PASSED) {
        (void) ngx_http_es_publish(r, ctx, code, cand);
        return ngx_http_es_error(r, code);
    }

    rc = ngx_http_es_refresh_mint(r, elcf, data, rot);

    if (rc != NGX_OK) {
        if (rc == NGX_ERROR) {
            /* a failure nobody answered: the code says so all the same */
            ngx_http_es_ctx_refuse(ctx, NGX_HTTP_ES_MINT_FAILED);
        }

        return rc;
    }

    if (ngx_http_es_publish(r, ctx, NGX_HTTP_ES_PASSED, cand) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_http_es_count(refreshes);

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "embed_session refresh: session %V, token %V%s",
                  &ctx->minted_sid, &ctx->minted_jti,
                  rrc == NGX_HTTP_ES_REPEATED ? " again, within the grace "
                                                "window" : "");

    return ngx_http_es_mint_answer(r, &elcf->mint, rot->exp - rot->now);
}


/* what the store's answer to a rotation means for the request */

static ngx_http_es_code_t
ngx_http_es_refresh_verdict(ngx_http_request_t *r,
    ngx_http_es_rotate_rc_t rrc, ngx_http_es_rotate_t *rot,
    ngx_http_es_candidate_t *cand)
{
    ngx_str_t          *sid;
    ngx_http_es_ctx_t  *ctx;

    ctx = ngx_http_es_get_ctx(r, 0);
    sid = &ctx->minted_sid;

    switch (rrc) {

    case NGX_HTTP_ES_FAMILY_UNKNOWN:
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "embed_session refresh: session %V is not in the "
                      "store%s", sid,
                      rot->has_owner ? ", or is another API key's" : "");
        cand->reason = "session not in the store";
        return NGX_HTTP_ES_SESSION_NOT_FOUND;

    case NGX_HTTP_ES_FAMILY_REVOKED:
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "embed_session refresh: session %V is revoked", sid);
        cand->reason = "session revoked";
        return NGX_HTTP_ES_SESSION_REVOKED;

    case NGX_HTTP_ES_FAMILY_ENDED:
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "embed_session refresh: session %V reached its "
                      "absolute lifetime", sid);
        cand->reason = "session ended";
        return NGX_HTTP_ES_SESSION_EXPIRED;

    case NGX_HTTP_ES_REUSED:
        ngx_http_es_count(reuses);

        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "embed_session refresh: a replaced token of session "
                      "%V was presented again: the session is revoked",
                      sid);
        cand->reason = "a replaced token presented again";
        return NGX_HTTP_ES_RENEW_TOKEN_REUSED;

    default:
        return NGX_HTTP_ES_PASSED;
    }
}


/*
 * The successor: the claims of the token presented, with the generation's
 * jti, iat and exp; the same claims give the same token again.
 */

static ngx_int_t
ngx_http_es_refresh_mint(ngx_http_request_t *r, ngx_http_es_loc_conf_t *elcf,
    ngx_str_t *data, ngx_http_es_rotate_t *rot)
{
    u_char              *dot, *last, *buf;
    size_t               len;
    ngx_int_t            rc;
    ngx_str_t            payload;
    ngx_http_es_ctx_t   *ctx;
    ngx_http_es_json_t  *claims;
    char                 err[160];

    ctx = ngx_http_es_get_ctx(r, 0);

    /* the payload segment of a token that verified */

    last = data->data + data->len;
    dot = ngx_strlchr(data->data, last, '.');
    last = dot ? ngx_strlchr(dot + 1, last, '.') : NULL;

    if (last == NULL) {
        return NGX_ERROR;
    }

    buf = ngx_pnalloc(r->pool, (last - dot) * 3 / 4 + 3);
    if (buf == NULL) {
        return NGX_ERROR;
    }

    if (ngx_http_es_jws_b64_decode(buf, &len, dot + 1, last - dot - 1)
        != NGX_HTTP_ES_JWS_OK)
    {
        return NGX_ERROR;
    }

    claims = ngx_http_es_json_parse(buf, len, err, sizeof(err));
    if (claims == NULL) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "embed_session refresh: %s", err);
        return NGX_ERROR;
    }

    rc = NGX_ERROR;

    if (ngx_http_es_life_ids(r, rot->gen, &ctx->minted_jti, NULL) != NGX_OK)
    {
        goto done;
    }

    ctx->minted_exp = rot->exp;

    if (ngx_http_es_json_set(claims, (u_char *) "iat", 3,
                             ngx_http_es_json_new_integer(rot->iat)) != 0
        || ngx_http_es_json_set(claims, (u_char *) "exp", 3,
                                ngx_http_es_json_new_integer(rot->exp)) != 0
        || ngx_http_es_json_set(claims, (u_char *) "jti", 3,
                                ngx_http_es_json_new_ascii(
                                    ctx->minted_jti.data,
                                    ctx->minted_jti.len))
           != 0
        || ngx_http_es_json_text(r->pool, claims, &payload) != NGX_OK)
    {
        goto done;
    }

    rc = ngx_http_es_mint_signed(r, &elcf->mint, 0, payload.data, payload.len,
                                 &ctx->minted);
    if (rc != NGX_OK) {
        goto done;
    }

    /* a renew token for the new generation, to the same absolute end */

    if (ngx_http_es_json_set(claims, (u_char *) "exp", 3,
                             ngx_http_es_json_new_integer(rot->end)) != 0
        || ngx_http_es_json_text(r->pool, claims, &payload) != NGX_OK)
    {
        rc = NGX_ERROR;
        goto done;
    }

    rc = ngx_http_es_mint_signed(r, &elcf->mint, 1, payload.data, payload.len,
                                 &ctx->renew);

done:

    ngx_http_es_json_free(claims);

    return rc;
}


/* revoke */

static ngx_int_t
ngx_http_es_revoke(ngx_http_request_t *r, ngx_http_es_loc_conf_t *elcf,
    ngx_str_t *id)
{
    u_char                    sid[NGX_HTTP_ES_ID_LEN];
    u_char                    owner[NGX_HTTP_ES_OWNER_LEN];
    ngx_int_t                 rc;
    ngx_uint_t                admin;
    ngx_array_t               details;
    ngx_http_es_detail_t     *d;
    ngx_http_es_ctx_t        *ctx;
    ngx_http_es_api_key_t    *key;
    ngx_http_es_life_wait_t  *w;

    ctx = ngx_http_es_get_ctx(r, 0);
    key = ctx->api_key;

    if (id->len == 0) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "embed_session revoke: no session id");

        if (ngx_array_init(&details, r->pool, 1, sizeof(ngx_http_es_detail_t))
            != NGX_OK
            || (d = ngx_array_push(&details)) == NULL)
        {
            return NGX_ERROR;
        }

        ngx_str_set(&d->path, "session_id");
        ngx_str_set(&d->message, "required, a session id");

        return ngx_http_es_error_details(r, NGX_HTTP_ES_VALIDATION_FAILED,
                                         &details);
    }

    if (ngx_http_es_id_parse(sid, id->data, id->len) != NGX_OK) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "embed_session revoke: not a session id");
        return ngx_http_es_error(r, NGX_HTTP_ES_SESSION_NOT_FOUND);
    }

    admin = elcf->life->admin.len
            && key->scope.len == elcf->life->admin.len
            && ngx_strncmp(key->scope.data, elcf->life->admin.data,
                           key->scope.len) == 0;

    ngx_http_es_owner(owner, &key->owner);

    if (elcf->store->backend) {
        w = ngx_pcalloc(r->pool, sizeof(ngx_http_es_life_wait_t));
        if (w == NULL) {
            return NGX_ERROR;
        }

        w->value = *id;
        w->admin = admin;
        w->ask.op = NGX_HTTP_ES_STORE_REVOKE;
        w->ask.has_owner = !admin;
        ngx_memcpy(w->ask.id, sid, NGX_HTTP_ES_ID_LEN);
        ngx_memcpy(w->ask.owner, owner, NGX_HTTP_ES_OWNER_LEN);

        return ngx_http_es_life_ask(r, elcf, w);
    }

    rc = ngx_http_es_store_revoke(elcf->store, sid, admin ? NULL : owner);

    return ngx_http_es_revoked(r, id, sid, rc, admin);
}


/* what the store answered a revoke */

static ngx_int_t
ngx_http_es_revoked(ngx_http_request_t *r, ngx_str_t *id, u_char *sid,
    ngx_int_t rc, ngx_uint_t admin)
{
    ngx_str_t               text;
    ngx_http_es_json_t     *json;
    ngx_http_es_api_key_t  *key;

    key = ngx_http_es_get_ctx(r, 0)->api_key;

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "embed_session: revoke: store: sid %V %s%s", id,
                   rc == NGX_OK ? "revoked" : "not found",
                   admin ? " (admin scope)" : "");

    if (rc != NGX_OK) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "embed_session revoke: session %V is not in the store, "
                      "or is not API key \"%V\"'s", id, &key->id);
        return ngx_http_es_error(r, NGX_HTTP_ES_SESSION_NOT_FOUND);
    }

    ngx_http_es_count(revocations);

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "embed_session revoke: session %V revoked by API key "
                  "\"%V\"", id, &key->id);

    if (ngx_http_es_life_ids(r, sid, &text, NULL) != NGX_OK) {
        return NGX_ERROR;
    }

    json = ngx_http_es_json_object();

    rc = (json
          && ngx_http_es_json_set(json, (u_char *) "session_id", 10,
                                  ngx_http_es_json_new_ascii(text.data,
                                                             text.len))
             == 0
          && ngx_http_es_json_set(json, (u_char *) "revoked", 7,
                                  ngx_http_es_json_new_boolean(1)) == 0)
         ? ngx_http_es_json_text(r->pool, json, &text) : NGX_ERROR;

    ngx_http_es_json_free(json);

    if (rc != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_es_send_json(r, NGX_HTTP_OK, text.data, text.len);
}


/* exchange */

static ngx_int_t
ngx_http_es_exchange(ngx_http_request_t *r, ngx_http_es_loc_conf_t *elcf,
    ngx_str_t *id)
{
    u_char                     *buf, tid[NGX_HTTP_ES_ID_LEN];
    u_char                      owner[NGX_HTTP_ES_OWNER_LEN];
    ngx_http_es_ctx_t          *ctx;
    ngx_http_es_api_key_t      *key;
    ngx_http_es_main_conf_t    *emcf;
    ngx_http_es_store_rec_t     rec;
    ngx_http_es_life_wait_t    *w;
    ngx_http_es_exchange_rc_t   xrc;

    ctx = ngx_http_es_get_ctx(r, 0);

    if (ngx_http_es_id_parse(tid, id->data, id->len) != NGX_OK) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "embed_session exchange: not a session id");
        return ngx_http_es_error(r, NGX_HTTP_ES_EXCHANGE_NOT_FOUND);
    }

    buf = ngx_pnalloc(r->pool, NGX_HTTP_ES_TICKET_MAX);
    if (buf == NULL) {
        return NGX_ERROR;
    }

    emcf = ngx_http_get_module_main_conf(r, ngx_http_embed_session_module);

    /*
     * where the location authenticates an API key, the ticket is that
     * key's or unknown, as a refresh or a revoke answers: no enumeration
     */

    key = elcf->api.zone ? ctx->api_key : NULL;

    if (key) {
        ngx_http_es_owner(owner, &key->owner);
    }

    if (elcf->store->backend) {
        w = ngx_pcalloc(r->pool, sizeof(ngx_http_es_life_wait_t));
        if (w == NULL) {
            return NGX_ERROR;
        }

        w->value = *id;
        w->ask.op = NGX_HTTP_ES_STORE_EXCHANGE;
        w->ask.has_owner = (key != NULL);
        w->ask.now = ngx_time();
        w->ask.rec = &w->rec;
        w->ask.payload = buf;
        ngx_memcpy(w->ask.id, tid, NGX_HTTP_ES_ID_LEN);

        if (key) {
            ngx_memcpy(w->ask.owner, owner, NGX_HTTP_ES_OWNER_LEN);
        }

        return ngx_http_es_life_ask(r, elcf, w);
    }

    xrc = ngx_http_es_store_exchange(elcf->store, tid, key ? owner : NULL,
                                     ngx_time(), emcf->leeway, buf, &rec);

    return ngx_http_es_exchanged(r, elcf, id, tid, xrc, &rec, buf);
}


/* what the store answered an exchange */

static ngx_int_t
ngx_http_es_exchanged(ngx_http_request_t *r, ngx_http_es_loc_conf_t *elcf,
    ngx_str_t *id, u_char *tid, ngx_http_es_exchange_rc_t xrc,
    ngx_http_es_store_rec_t *rec, u_char *buf)
{
    ngx_int_t               rc;
    ngx_str_t               payload;
    ngx_http_es_ctx_t      *ctx;
    ngx_http_es_api_key_t  *key;

    ctx = ngx_http_es_get_ctx(r, 0);
    key = elcf->api.zone ? ctx->api_key : NULL;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "embed_session: exchange: store: ticket %V %s", id,
                   xrc == NGX_HTTP_ES_TICKET_UNKNOWN ? "unknown"
                   : xrc == NGX_HTTP_ES_TICKET_USED ? "used before"
                   : xrc == NGX_HTTP_ES_TICKET_EXPIRED ? "expired"
                   : "exchanged");

    switch (xrc) {

    case NGX_HTTP_ES_TICKET_UNKNOWN:
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "embed_session exchange: session %V is unknown%s", id,
                      key ? ", or is another API key's" : "");
        return ngx_http_es_error(r, NGX_HTTP_ES_EXCHANGE_NOT_FOUND);

    case NGX_HTTP_ES_TICKET_USED:
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "embed_session exchange: session %V was exchanged "
                      "before", id);
        return ngx_http_es_error(r, NGX_HTTP_ES_EXCHANGE_USED);

    case NGX_HTTP_ES_TICKET_EXPIRED:
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "embed_session exchange: session %V has expired", id);
        return ngx_http_es_error(r, NGX_HTTP_ES_EXCHANGE_EXPIRED);

    default:
        break;
    }

    if (ngx_http_es_exchange_claims(r, elcf, rec, buf, &payload)
        != NGX_OK)
    {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "embed_session exchange: session %V holds no claims, "
                      "or a lifetime the verifier would refuse", id);
        return ngx_http_es_error(r, NGX_HTTP_ES_MINT_FAILED);
    }

    if (ngx_http_es_life_ids(r, tid, &ctx->minted_jti, &ctx->minted_sid)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    ctx->minted_exp = rec->exp;

    rc = ngx_http_es_mint_signed(r, &elcf->mint, 0, payload.data, payload.len,
                                 &ctx->minted);
    if (rc != NGX_OK) {
        return rc;
    }

    ngx_http_es_count(exchanges);

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "embed_session exchange: session %V exchanged", id);

    return ngx_http_es_mint_answer(r, &elcf->mint, rec->ttl);
}


/*
 * The claims of an exchanged session: iat and exp of the ticket, then the
 * members the mint stored, in their order
 */

static ngx_int_t
ngx_http_es_exchange_claims(ngx_http_request_t *r,
    ngx_http_es_loc_conf_t *elcf, ngx_http_es_store_rec_t *rec,
    u_char *stored, ngx_str_t *payload)
{
    char                 err[160];
    ngx_int_t            rc;
    ngx_http_es_json_t  *claims, *members;

    if (rec->payload_len < 2 || rec->ttl < 1
        || (elcf->max_lifetime && rec->ttl > elcf->max_lifetime))
    {
        return NGX_DECLINED;
    }

    members = ngx_http_es_json_parse(stored, rec->payload_len, err,
                                     sizeof(err));
    if (members == NULL) {
        return NGX_DECLINED;
    }

    rc = NGX_DECLINED;

    claims = ngx_http_es_json_object();

    if (claims
        && ngx_http_es_json_type(members) == NGX_HTTP_ES_JSON_OBJECT
        && ngx_http_es_json_set(claims, (u_char *) "iat", 3,
                                ngx_http_es_json_new_integer(rec->iat)) == 0
        && ngx_http_es_json_set(claims, (u_char *) "exp", 3,
                                ngx_http_es_json_new_integer(rec->exp)) == 0
        && ngx_http_es_json_update(claims, members) == 0)
    {
        rc = ngx_http_es_json_text(r->pool, claims, payload);
    }

    ngx_http_es_json_free(claims);
    ngx_http_es_json_free(members);

    return rc;
}


static ngx_int_t
ngx_http_es_life_ids(ngx_http_request_t *r, u_char *id, ngx_str_t *a,
    ngx_str_t *b)
{
    u_char  *p;

    p = ngx_pnalloc(r->pool, NGX_HTTP_ES_ID_TEXT_LEN);
    if (p == NULL) {
        return NGX_ERROR;
    }

    (void) ngx_http_es_id_text(p, id);

    a->data = p;
    a->len = NGX_HTTP_ES_ID_TEXT_LEN;

    if (b) {
        *b = *a;
    }

    return NGX_OK;
}


/*
 * With backend=: the question goes to Redis, and the request waits for
 * the answer (ngx_http_es_life_done()); Redis that cannot be reached now
 * is a 503 now
 */

static ngx_int_t
ngx_http_es_life_ask(ngx_http_request_t *r, ngx_http_es_loc_conf_t *elcf,
    ngx_http_es_life_wait_t *w)
{
    w->request = r;
    w->ask.done = ngx_http_es_life_done;
    w->ask.data = w;

    return ngx_http_es_store_ask_request(r, elcf->store, &w->ask);
}


static void
ngx_http_es_life_done(void *data, ngx_int_t rc)
{
    ngx_http_es_life_wait_t *w = data;

    ngx_connection_t        *c;
    ngx_http_request_t      *r;
    ngx_http_es_loc_conf_t  *elcf;

    r = w->request;
    c = r->connection;
    elcf = ngx_http_get_module_loc_conf(r, ngx_http_embed_session_module);

    if (rc != NGX_OK) {
        rc = ngx_http_es_error(r, NGX_HTTP_ES_STORE_UNAVAILABLE);

    } else {
        switch (elcf->life->mode) {

        case NGX_HTTP_ES_REVOKE:
            rc = ngx_http_es_revoked(r, &w->value, w->ask.id, w->ask.rc,
                                     w->admin);
            break;

        case NGX_HTTP_ES_EXCHANGE:
            rc = ngx_http_es_exchanged(r, elcf, &w->value, w->ask.id,
                                       w->ask.rc, &w->rec, w->ask.payload);
            break;

        default:
            rc = ngx_http_es_refreshed(r, elcf, &w->value, &w->rot,
                                       w->ask.rc, &w->cand);
        }
    }

    ngx_http_es_finalize(r, rc);
    ngx_http_run_posted_requests(c);
}
