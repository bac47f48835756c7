
/*
 * Copyright (C) The ngx_http_embed_session_module authors
 *
 * The key management content handlers: regenerate (a new credential for
 * the caller's key) and revoke (the caller's key, or any with scope
 * admin).  Each change is made in the key file first, then in the zone
 * (apikey_zone.c); with backend=, it is published on Redis before, for
 * every node (apikey_redis.c).
 */


#include "ngx_http_embed_session_module.h"
#include "ngx_http_embed_session_apikey.h"
#include "ngx_http_embed_session_apikey_int.h"
#include "ngx_http_embed_session_json.h"
#include "ngx_http_embed_session_jws.h"
#include "ngx_http_embed_session_response.h"
#include "ngx_http_embed_session_store.h"


#define NGX_HTTP_ES_API_BODY_MAX      4096


/* a regenerate waiting for Redis: the change and the new keys */

typedef struct {
    ngx_http_es_api_change_t    ch;
    ngx_str_t                   raw;
    ngx_str_t                   raw_id;
    ngx_str_t                  *wipe;
} ngx_http_es_api_regen_t;


static void ngx_http_es_api_regen_done(ngx_http_request_t *r, void *data,
    ngx_int_t rc);
static ngx_int_t ngx_http_es_api_regenerated(ngx_http_request_t *r,
    ngx_http_es_api_change_t *ch, ngx_str_t *raw, ngx_str_t *raw_id,
    ngx_str_t *wipe);
static void ngx_http_es_api_revoke_done(ngx_http_request_t *r, void *data,
    ngx_int_t rc);
static ngx_int_t ngx_http_es_api_revoked(ngx_http_request_t *r,
    ngx_http_es_api_change_t *ch);
static ngx_int_t ngx_http_es_api_publish_change(ngx_http_request_t *r,
    ngx_http_es_api_auth_t *auth, ngx_http_es_api_change_t *ch,
    ngx_http_es_api_published_pt done, void *data);
static ngx_int_t ngx_http_es_api_unpublished(ngx_http_request_t *r,
    ngx_http_es_api_change_t *ch, ngx_int_t rc);
static ngx_int_t ngx_http_es_api_change_here(ngx_http_request_t *r,
    ngx_http_es_api_auth_t *auth, ngx_http_es_api_change_t *ch);
static ngx_int_t ngx_http_es_api_generate(ngx_http_request_t *r,
    ngx_str_t *old_lookup, ngx_str_t *raw, ngx_str_t *lookup, u_char *hash);
static ngx_int_t ngx_http_es_api_regenerate(ngx_http_request_t *r);
static void ngx_http_es_api_wipe(void *data);
static void ngx_http_es_api_revoke_body(ngx_http_request_t *r);
static ngx_int_t ngx_http_es_api_revoke(ngx_http_request_t *r);
static ngx_int_t ngx_http_es_api_revoke_target(ngx_http_request_t *r,
    ngx_str_t *body, ngx_str_t *id);
static ngx_int_t ngx_http_es_api_revoked_answer(ngx_http_request_t *r,
    ngx_str_t *id);
static ngx_int_t ngx_http_es_api_detail(ngx_http_request_t *r,
    ngx_http_es_code_t code, char *path, size_t len, char *message);
static ngx_int_t ngx_http_es_api_is_id(u_char *p, size_t len);

static u_char  ngx_http_es_api_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";


ngx_int_t
ngx_http_es_api_regenerate_handler(ngx_http_request_t *r)
{
    ngx_int_t  rc;

    r->main->count++;

    rc = ngx_http_es_api_regenerate(r);

    if (rc != NGX_DONE) {
        r->main->count--;
    }

    return rc;
}


static ngx_int_t
ngx_http_es_api_regenerate(ngx_http_request_t *r)
{
    ngx_int_t                  rc;
    ngx_str_t                  raw, raw_id, *wipe;
    ngx_pool_cleanup_t        *cln;
    ngx_http_es_api_key_t     *key;
    ngx_http_es_api_auth_t    *auth;
    ngx_http_es_loc_conf_t    *elcf;
    ngx_http_es_api_regen_t   *regen;
    ngx_http_es_api_change_t   ch;

    if (r->method != NGX_HTTP_POST) {
        return ngx_http_es_error(r, NGX_HTTP_ES_METHOD_NOT_ALLOWED);
    }

    /* the new keys and the body that carries them, wiped with the pool */

    cln = ngx_pool_cleanup_add(r->pool, 3 * sizeof(ngx_str_t));
    if (cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    wipe = cln->data;
    ngx_memzero(wipe, 3 * sizeof(ngx_str_t));
    cln->handler = ngx_http_es_api_wipe;

    elcf = ngx_http_get_module_loc_conf(r, ngx_http_embed_session_module);

    rc = ngx_http_es_api_authenticate(r, &elcf->api, &key);

    if (rc == NGX_OK) {
        rc = ngx_http_es_api_rate(r, key, NGX_HTTP_ES_API_RESUME_NONE);
    }

    rc = ngx_http_es_api_answer(r, rc, key);
    if (rc != NGX_OK) {
        return rc;
    }

    auth = (ngx_http_es_api_auth_t *) key;

    ngx_memzero(&ch, sizeof(ngx_http_es_api_change_t));

    ch.id = key->id;
    ch.id_credential = auth->id_credential;
    ch.lookup = auth->lookup;
    ngx_memcpy(ch.hash, auth->hash, NGX_HTTP_ES_API_HASH_LEN);

    ngx_str_null(&raw_id);

    if (ngx_http_es_api_generate(r, &auth->key_lookup, &raw, &ch.new_lookup,
                                 ch.new_hash)
        != NGX_OK
        || (auth->id_lookup.len
            && ngx_http_es_api_generate(r, &auth->id_lookup, &raw_id,
                                        &ch.new_id_lookup, ch.new_id_hash)
               != NGX_OK))
    {
        return ngx_http_es_error(r, NGX_HTTP_ES_KEY_STORE_FAILED);
    }

    wipe[0] = raw;
    wipe[1] = raw_id;

    /* backend=: the change published first, for every node */

    if (auth->zone->backend) {
        regen = ngx_palloc(r->pool, sizeof(ngx_http_es_api_regen_t));
        if (regen == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        regen->ch = ch;
        regen->raw = raw;
        regen->raw_id = raw_id;
        regen->wipe = wipe;

        return ngx_http_es_api_publish_change(r, auth, &regen->ch,
                                              ngx_http_es_api_regen_done,
                                              regen);
    }

    return ngx_http_es_api_regenerated(r, &ch, &raw, &raw_id, wipe);
}


static void
ngx_http_es_api_regen_done(ngx_http_request_t *r, void *data, ngx_int_t rc)
{
    ngx_http_es_api_regen_t *regen = data;

    if (rc == NGX_OK) {
        rc = ngx_http_es_api_regenerated(r, &regen->ch, &regen->raw,
                                         &regen->raw_id, regen->wipe);

    } else {
        rc = ngx_http_es_api_unpublished(r, &regen->ch, rc);
    }

    ngx_http_es_finalize(r, rc);
}


/* the file first: a restart never brings the old key back */

static ngx_int_t
ngx_http_es_api_regenerated(ngx_http_request_t *r,
    ngx_http_es_api_change_t *ch, ngx_str_t *raw, ngx_str_t *raw_id,
    ngx_str_t *wipe)
{
    u_char                  *body, *p;
    size_t                   len;
    ngx_int_t                rc;
    ngx_http_es_api_key_t   *key;
    ngx_http_es_api_auth_t  *auth;

    key = ngx_http_es_get_ctx(r, 0)->api_key;
    auth = (ngx_http_es_api_auth_t *) key;

    rc = ngx_http_es_api_change_here(r, auth, ch);

    if (rc != NGX_HTTP_ES_PASSED) {
        if (rc == NGX_ERROR) {
            return ngx_http_es_error(r, NGX_HTTP_ES_KEY_STORE_FAILED);
        }

        ngx_http_es_api_log(r, rc, "changed meanwhile, key", &key->id);

        return ngx_http_es_error(r, rc);
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "embed_session: API key \"%V\" regenerated", &key->id);

    len = sizeof("{\"id\":\"\",\"apiKey\":\"\",\"apiKeyId\":\"\"}") - 1
          + key->id.len + raw->len + raw_id->len;

    body = ngx_pnalloc(r->pool, len);
    if (body == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    wipe[2].data = body;
    wipe[2].len = len;

    /*
     * An ID and a key need no JSON escaping: see the key file's syntax.
     * Written here rather than as a json.h tree, which would copy the new
     * keys into memory that is freed without being wiped.
     */

    p = ngx_sprintf(body, "{\"id\":\"%V\",\"apiKey\":\"%V\"", &key->id, raw);

    if (raw_id->len) {
        p = ngx_sprintf(p, ",\"apiKeyId\":\"%V\"", raw_id);
    }

    *p++ = '}';

    return ngx_http_es_send_json(r, NGX_HTTP_OK, body, p - body);
}


static void
ngx_http_es_api_wipe(void *data)
{
    ngx_str_t  *s = data;

    ngx_uint_t  i;

    for (i = 0; i < 3; i++) {
        if (s[i].len) {
            ngx_explicit_memzero(s[i].data, s[i].len);
        }
    }
}


/*
 * A new credential with the prefix of the old one: 40 characters of
 * [A-Za-z0-9] by rejection sampling (bytes 248..255 are dropped, so that
 * byte % 62 is uniform).
 */

static ngx_int_t
ngx_http_es_api_generate(ngx_http_request_t *r, ngx_str_t *old_lookup,
    ngx_str_t *raw, ngx_str_t *lookup, u_char *hash)
{
    u_char      buf[64];
    size_t      prefix;
    ngx_uint_t  i, n;

    prefix = old_lookup->len - NGX_HTTP_ES_API_KEY_LOOKUP;

    raw->len = prefix + NGX_HTTP_ES_API_KEY_RANDOM;
    raw->data = ngx_pnalloc(r->pool, raw->len);
    if (raw->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(raw->data, old_lookup->data, prefix);

    n = 0;

    while (n < NGX_HTTP_ES_API_KEY_RANDOM) {

        if (ngx_http_es_jws_random(buf, sizeof(buf)) != NGX_HTTP_ES_JWS_OK) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "embed_session: random bytes failed");
            ngx_explicit_memzero(raw->data, raw->len);
            return NGX_ERROR;
        }

        for (i = 0; i < sizeof(buf) && n < NGX_HTTP_ES_API_KEY_RANDOM; i++) {
            if (buf[i] < 248) {
                raw->data[prefix + n++] = ngx_http_es_api_alphabet[buf[i] % 62];
            }
        }
    }

    ngx_explicit_memzero(buf, sizeof(buf));

    lookup->data = raw->data;
    lookup->len = prefix + NGX_HTTP_ES_API_KEY_LOOKUP;

    if (ngx_http_es_jws_sha256(raw->data, raw->len, hash)
        != NGX_HTTP_ES_JWS_OK)
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "embed_session: SHA-256 failed");
        ngx_explicit_memzero(raw->data, raw->len);
        return NGX_ERROR;
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_es_api_revoke_handler(ngx_http_request_t *r)
{
    ngx_int_t                rc;
    ngx_http_es_api_key_t   *key;
    ngx_http_es_loc_conf_t  *elcf;

    r->main->count++;

    if (r->method != NGX_HTTP_POST) {
        rc = ngx_http_es_error(r, NGX_HTTP_ES_METHOD_NOT_ALLOWED);

    } else {
        elcf = ngx_http_get_module_loc_conf(r, ngx_http_embed_session_module);

        rc = ngx_http_es_api_authenticate(r, &elcf->api, &key);

        if (rc == NGX_OK) {
            rc = ngx_http_es_api_rate(r, key, NGX_HTTP_ES_API_RESUME_NONE);
        }

        rc = ngx_http_es_api_answer(r, rc, key);

        if (rc == NGX_OK
            && r->headers_in.content_length_n > NGX_HTTP_ES_API_BODY_MAX)
        {
            rc = ngx_http_es_error(r, NGX_HTTP_ES_BODY_TOO_LARGE);
        }
    }

    if (rc != NGX_OK) {
        if (rc != NGX_DONE) {
            r->main->count--;
        }

        return rc;
    }

    /* the body being read holds the reference from here on */

    r->main->count--;

    rc = ngx_http_read_client_request_body(r, ngx_http_es_api_revoke_body);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


static void
ngx_http_es_api_revoke_body(ngx_http_request_t *r)
{
    ngx_http_es_finalize(r, ngx_http_es_api_revoke(r));
}


static ngx_int_t
ngx_http_es_api_revoke(ngx_http_request_t *r)
{
    ngx_int_t                  rc;
    ngx_str_t                  data, id;
    ngx_http_es_ctx_t         *ctx;
    ngx_http_es_api_key_t     *key;
    ngx_http_es_api_auth_t    *auth;
    ngx_http_es_api_change_t   ch, *pch;

    ctx = ngx_http_es_get_ctx(r, 0);

    if (ctx == NULL || ctx->api_key == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    key = ctx->api_key;
    auth = (ngx_http_es_api_auth_t *) key;

    rc = ngx_http_es_read_body(r, NGX_HTTP_ES_API_BODY_MAX, &data);

    if (rc == NGX_DECLINED) {
        return ngx_http_es_error(r, NGX_HTTP_ES_BODY_TOO_LARGE);
    }

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_es_api_revoke_target(r, &data, &id);
    if (rc != NGX_OK) {
        return rc;
    }

    if (id.len == 0) {
        id = key->id;
    }

    /* another key than one's own: an admin key only */

    if ((id.len != key->id.len || ngx_memcmp(id.data, key->id.data, id.len))
        && (key->scope.len != 5
            || ngx_strncmp(key->scope.data, "admin", 5) != 0))
    {
        ngx_http_es_api_log(r, NGX_HTTP_ES_SCOPE_NOT_GRANTED,
                            "revoking another key needs scope admin, key",
                            &key->id);
        return ngx_http_es_error(r, NGX_HTTP_ES_SCOPE_NOT_GRANTED);
    }

    ngx_memzero(&ch, sizeof(ngx_http_es_api_change_t));

    ch.revoke = 1;
    ch.id = id;
    ch.id_credential = auth->id_credential;
    ch.lookup = auth->lookup;
    ngx_memcpy(ch.hash, auth->hash, NGX_HTTP_ES_API_HASH_LEN);

    /* backend=: the change published first, for every node */

    if (auth->zone->backend) {
        pch = ngx_palloc(r->pool, sizeof(ngx_http_es_api_change_t));
        if (pch == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        *pch = ch;

        return ngx_http_es_api_publish_change(r, auth, pch,
                                              ngx_http_es_api_revoke_done,
                                              pch);
    }

    return ngx_http_es_api_revoked(r, &ch);
}


static void
ngx_http_es_api_revoke_done(ngx_http_request_t *r, void *data, ngx_int_t rc)
{
    ngx_http_es_api_change_t *ch = data;

    ngx_http_es_finalize(r, rc == NGX_OK
                            ? ngx_http_es_api_revoked(r, ch)
                            : ngx_http_es_api_unpublished(r, ch, rc));
}


static ngx_int_t
ngx_http_es_api_revoked(ngx_http_request_t *r, ngx_http_es_api_change_t *ch)
{
    u_char                  owner[NGX_HTTP_ES_OWNER_LEN];
    ngx_int_t               rc;
    ngx_str_t               id;
    ngx_uint_t              n;
    ngx_http_es_api_key_t  *key;
    ngx_http_es_api_auth_t *auth;

    key = ngx_http_es_get_ctx(r, 0)->api_key;
    auth = (ngx_http_es_api_auth_t *) key;
    id = ch->id;

    rc = ngx_http_es_api_change_here(r, auth, ch);

    if (rc == NGX_ERROR) {
        return ngx_http_es_error(r, NGX_HTTP_ES_KEY_STORE_FAILED);
    }

    if (rc == NGX_HTTP_ES_VALIDATION_FAILED) {
        ngx_http_es_api_log(r, rc, "no such key", &id);
        return ngx_http_es_api_detail(r, NGX_HTTP_ES_VALIDATION_FAILED,
                                      "id", 2, "no such key");
    }

    if (rc != NGX_HTTP_ES_PASSED) {
        ngx_http_es_api_log(r, rc, "changed meanwhile, key", &key->id);
        return ngx_http_es_error(r, rc);
    }

    /* its sessions end with it: the owner is the record's, as changed */

    n = 0;

    if (ch->owner.len) {
        ngx_http_es_owner(owner, &ch->owner);
        n = ngx_http_es_store_revoke_owner((ngx_cycle_t *) ngx_cycle, owner);
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "embed_session: API key \"%V\" revoked by \"%V\", "
                  "and %ui of its sessions", &id, &key->id, n);

    return ngx_http_es_api_revoked_answer(r, &id);
}


/*
 * backend=: a change published before it is made here; Redis that cannot
 * be reached (or changed the key meanwhile): the change is not made
 */

static ngx_int_t
ngx_http_es_api_publish_change(ngx_http_request_t *r,
    ngx_http_es_api_auth_t *auth, ngx_http_es_api_change_t *ch,
    ngx_http_es_api_published_pt done, void *data)
{
    ngx_int_t  rc;

    /*
     * what would refuse the change here refuses it before it is
     * published: a key changed meanwhile, a key file that cannot be
     * locked (a change every other node makes, and this one cannot, is
     * what must not happen)
     */

    ch->dry = 1;

    rc = ngx_http_es_api_change(r->pool, r->connection->log, auth->zone, ch);

    ch->dry = 0;

    if (rc != NGX_HTTP_ES_PASSED) {
        if (rc == NGX_ERROR) {
            return ngx_http_es_error(r, NGX_HTTP_ES_KEY_STORE_FAILED);
        }

        if (rc == NGX_HTTP_ES_VALIDATION_FAILED) {
            ngx_http_es_api_log(r, rc, "no such key", &ch->id);
            return ngx_http_es_api_detail(r, NGX_HTTP_ES_VALIDATION_FAILED,
                                          "id", 2, "no such key");
        }

        ngx_http_es_api_log(r, rc, "changed meanwhile, key", &ch->id);

        return ngx_http_es_error(r, rc);
    }

    rc = ngx_http_es_api_publish(r, auth->zone, ch, done, data);

    if (rc == NGX_OK) {
        return NGX_DONE;
    }

    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_es_api_unpublished(r, ch, rc);
}


/*
 * The change made in this node's key file and zone.  Once published, it
 * is Redis's to judge, and this node's feed may have made it already: it
 * is made by ID, once.
 */

static ngx_int_t
ngx_http_es_api_change_here(ngx_http_request_t *r,
    ngx_http_es_api_auth_t *auth, ngx_http_es_api_change_t *ch)
{
    ngx_int_t  rc;

    ch->remote = (auth->zone->backend != NULL);

    rc = ngx_http_es_api_change(r->pool, r->connection->log, auth->zone, ch);

    return (rc == NGX_DONE) ? NGX_HTTP_ES_PASSED : rc;
}


static ngx_int_t
ngx_http_es_api_unpublished(ngx_http_request_t *r,
    ngx_http_es_api_change_t *ch, ngx_int_t rc)
{
    ngx_http_es_api_key_t  *key;

    key = ngx_http_es_get_ctx(r, 0)->api_key;

    if (rc == NGX_DECLINED) {
        ngx_http_es_api_log(r, NGX_HTTP_ES_API_KEY_INVALID,
                            "changed meanwhile on another node, key",
                            &key->id);
        return ngx_http_es_error(r, NGX_HTTP_ES_API_KEY_INVALID);
    }

    ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                  "embed_session: API key \"%V\" not %s: the backend "
                  "cannot be reached", &ch->id,
                  ch->revoke ? "revoked" : "regenerated");

    return ngx_http_es_error(r, NGX_HTTP_ES_STORE_UNAVAILABLE);
}


/* {"id":"ID","status":"revoked"}; an ID is printable ASCII (is_id()) */

static ngx_int_t
ngx_http_es_api_revoked_answer(ngx_http_request_t *r, ngx_str_t *id)
{
    ngx_int_t            rc;
    ngx_str_t            text;
    ngx_http_es_json_t  *json;

    json = ngx_http_es_json_object();
    if (json == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = NGX_HTTP_INTERNAL_SERVER_ERROR;

    if (ngx_http_es_json_set(json, (u_char *) "id", 2,
                             ngx_http_es_json_new_ascii(id->data, id->len))
        == 0
        && ngx_http_es_json_set(json, (u_char *) "status", 6,
                                ngx_http_es_json_new_ascii(
                                    (u_char *) "revoked", 7))
           == 0
        && ngx_http_es_json_text(r->pool, json, &text) == NGX_OK)
    {
        rc = ngx_http_es_send_json(r, NGX_HTTP_OK, text.data, text.len);
    }

    ngx_http_es_json_free(json);

    return rc;
}


/*
 * The body: empty or {} (the calling key), or {"id": "ID"}; id->len is 0
 * for the calling key.  NGX_OK, or what the handler returns.
 */

static ngx_int_t
ngx_http_es_api_revoke_target(ngx_http_request_t *r, ngx_str_t *body,
    ngx_str_t *id)
{
    u_char               *p, *last;
    void                 *it;
    size_t                len;
    ngx_int_t             rc;
    const u_char         *s;
    ngx_http_es_json_t   *json, *v;
    char                  err[128];

    ngx_str_null(id);

    p = body->data;
    last = p + body->len;

    while (p < last && (*p == ' ' || *p == '\t' || *p == CR || *p == LF)) {
        p++;
    }

    if (p == last) {
        return NGX_OK;
    }

    json = ngx_http_es_json_parse(p, last - p, err, sizeof(err));

    if (json == NULL) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "embed_session: INVALID_JSON: %s", err);
        return ngx_http_es_error(r, NGX_HTTP_ES_INVALID_JSON);
    }

    rc = NGX_OK;

    if (ngx_http_es_json_type(json) != NGX_HTTP_ES_JSON_OBJECT) {
        rc = ngx_http_es_api_detail(r, NGX_HTTP_ES_VALIDATION_FAILED, "", 0,
                                    "must be an object");
        goto done;
    }

    for (it = ngx_http_es_json_iter(json);
         it;
         it = ngx_http_es_json_iter_next(json, it))
    {
        s = ngx_http_es_json_iter_key(it, &len);

        if (len != 2 || ngx_strncmp(s, "id", 2) != 0) {

            /* the name is echoed only when it is a plain one */

            if (!ngx_http_es_api_is_id((u_char *) s, len)) {
                len = 0;
            }

            rc = ngx_http_es_api_detail(r, NGX_HTTP_ES_VALIDATION_FAILED,
                                        (char *) s, len, "unknown member");
            goto done;
        }

        v = ngx_http_es_json_iter_value(it);

        s = (ngx_http_es_json_type(v) == NGX_HTTP_ES_JSON_STRING)
            ? ngx_http_es_json_string(v, &len) : NULL;

        if (s == NULL || !ngx_http_es_api_is_id((u_char *) s, len)) {
            rc = ngx_http_es_api_detail(r, NGX_HTTP_ES_VALIDATION_FAILED,
                                        "id", 2, "must be a key ID");
            goto done;
        }

        id->data = ngx_pnalloc(r->pool, len);
        if (id->data == NULL) {
            rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
            goto done;
        }

        ngx_memcpy(id->data, s, len);
        id->len = len;
    }

done:

    ngx_http_es_json_free(json);

    return rc;
}


static ngx_int_t
ngx_http_es_api_detail(ngx_http_request_t *r, ngx_http_es_code_t code,
    char *path, size_t len, char *message)
{
    ngx_array_t           *details;
    ngx_http_es_detail_t  *d;

    details = ngx_array_create(r->pool, 1, sizeof(ngx_http_es_detail_t));
    if (details == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    d = ngx_array_push(details);
    if (d == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* the path may come from the body: copied, it outlives the document */

    d->path.data = ngx_pnalloc(r->pool, len + 1);
    if (d->path.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_memcpy(d->path.data, path, len);
    d->path.len = len;

    d->message.data = (u_char *) message;
    d->message.len = ngx_strlen(message);

    return ngx_http_es_error_details(r, code, details);
}


/* [A-Za-z0-9_.-]{1,64}, as in the key file */

static ngx_int_t
ngx_http_es_api_is_id(u_char *p, size_t len)
{
    size_t  i;

    if (len == 0 || len > 64) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (!isalnum(p[i]) && p[i] != '_' && p[i] != '.' && p[i] != '-') {
            return 0;
        }
    }

    return 1;
}
