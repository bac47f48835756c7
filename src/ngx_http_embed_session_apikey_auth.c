
/*
 * Copyright (C) The ngx_http_embed_session_module authors
 *
 * API key authentication of a request: the credential and where it comes
 * from, the checks of docs/security.md rule 23 in the order of the spec,
 * the deny rules, the rate limit headers; the access phase guard; and the
 * key management content handlers, regenerate and revoke.  The directives
 * that configure it are apikey_conf.c's.
 */


#include "ngx_http_embed_session_module.h"
#include "ngx_http_embed_session_apikey.h"
#include "ngx_http_embed_session_apikey_int.h"
#include "ngx_http_embed_session_browser.h"
#include "ngx_http_embed_session_json.h"
#include "ngx_http_embed_session_jws.h"
#include "ngx_http_embed_session_response.h"
#include "ngx_http_embed_session_store.h"


#define NGX_HTTP_ES_API_BODY_MAX      4096


static ngx_int_t ngx_http_es_api_redirected(ngx_http_request_t *r,
    ngx_http_es_api_conf_t *conf, ngx_http_es_ctx_t *ctx,
    ngx_http_es_api_key_t **key);
static size_t ngx_http_es_api_prefix(ngx_str_t *cred);
static ngx_int_t ngx_http_es_api_rate(ngx_http_request_t *r,
    ngx_http_es_api_key_t *key, ngx_uint_t resume);
static ngx_int_t ngx_http_es_api_again(ngx_http_request_t *r,
    ngx_http_es_api_conf_t *conf, ngx_http_es_api_auth_t *auth);
static ngx_uint_t ngx_http_es_api_reads(ngx_http_es_api_conf_t *conf,
    ngx_http_es_api_auth_t *auth);
static ngx_int_t ngx_http_es_api_credential(ngx_http_request_t *r,
    ngx_http_es_api_conf_t *conf, ngx_str_t *cred, ngx_uint_t *id,
    ngx_http_es_api_source_t **used, const char **reason);
static ngx_uint_t ngx_http_es_api_is_source(ngx_http_es_api_conf_t *conf,
    ngx_table_elt_t *h);
static ngx_int_t ngx_http_es_api_strip(ngx_http_request_t *r,
    ngx_http_es_api_conf_t *conf, ngx_http_es_api_auth_t *auth);
static ngx_uint_t ngx_http_es_api_drop(ngx_http_request_t *r,
    ngx_table_elt_t *h, void *data);
static ngx_http_es_api_auth_t *ngx_http_es_api_auth(ngx_http_request_t *r,
    ngx_http_es_api_conf_t *conf, ngx_http_es_api_query_t *q);
static ngx_int_t ngx_http_es_api_list(ngx_http_request_t *r, ngx_array_t *a,
    ngx_str_t *list);
static void ngx_http_es_api_log(ngx_http_request_t *r, ngx_int_t code,
    const char *reason, ngx_str_t *what);
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


/* a location without embed_session_api_key_from reads bearer only */

static ngx_http_es_api_source_t  ngx_http_es_api_bearer_only = {
    NGX_HTTP_ES_API_SOURCE_BEARER, ngx_null_string, 0
};


static ngx_inline ngx_http_es_api_source_t *
ngx_http_es_api_sources(ngx_http_es_api_conf_t *conf, ngx_uint_t *n)
{
    if (conf->sources == NULL) {
        *n = 1;
        return &ngx_http_es_api_bearer_only;
    }

    *n = conf->sources->nelts;

    return conf->sources->elts;
}


/* authentication *******************************************************/

ngx_int_t
ngx_http_es_api_authenticate(ngx_http_request_t *r,
    ngx_http_es_api_conf_t *conf, ngx_http_es_api_key_t **key)
{
    size_t                     prefix;
    ngx_int_t                  code;
    ngx_str_t                  cred, id;
    ngx_uint_t                 id_credential;
    const char                *reason;
    ngx_http_es_ctx_t         *ctx;
    ngx_http_es_api_auth_t    *auth;
    ngx_http_es_api_query_t    q;
    ngx_http_es_api_source_t  *src;

    *key = NULL;

    ctx = ngx_http_es_get_ctx(r, 1);
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    if (ctx->api_key) {
        code = ngx_http_es_api_redirected(r, conf, ctx, key);

        if (code != NGX_DECLINED) {
            return code;
        }
    }

    ngx_str_null(&cred);

    code = ngx_http_es_api_credential(r, conf, &cred, &id_credential, &src,
                                      &reason);
    if (code != NGX_HTTP_ES_PASSED) {
        ngx_http_es_api_log(r, code, reason, NULL);
        return code;
    }

    /* the shape first: PREFIX + 40 of [A-Za-z0-9]; no lookup otherwise */

    prefix = ngx_http_es_api_prefix(&cred);

    if (cred.len > NGX_HTTP_ES_API_KEY_MAX
        || cred.len - prefix != NGX_HTTP_ES_API_KEY_RANDOM)
    {
        ngx_http_es_api_log(r, NGX_HTTP_ES_API_KEY_INVALID,
                            "malformed API key", NULL);
        return NGX_HTTP_ES_API_KEY_INVALID;
    }

    q.id_credential = id_credential;
    q.lookup.data = cred.data;
    q.lookup.len = prefix + NGX_HTTP_ES_API_KEY_LOOKUP;
    q.denies = conf->denies;
    q.now = ngx_time();
    q.denied = NULL;
    q.rate_mode = conf->zone->backend ? NGX_HTTP_ES_API_RATE_OWED
                                      : NGX_HTTP_ES_API_RATE_LOCAL;

    /* hashed outside the zone mutex */

    if (ngx_http_es_jws_sha256(cred.data, cred.len, q.hash)
        != NGX_HTTP_ES_JWS_OK)
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "embed_session: SHA-256 failed");
        return NGX_ERROR;
    }

    code = ngx_http_es_api_query(conf->zone, &q);

    if (code == NGX_HTTP_ES_API_KEY_INVALID) {
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "embed_session: API key lookup \"%V\": no match",
                       &q.lookup);

        /* the LOOKUP is not secret: it is what the key file holds */
        ngx_http_es_api_log(r, code, "unknown API key", &q.lookup);
        return code;
    }

    id.data = q.data + q.str[NGX_HTTP_ES_API_STR_ID].off;
    id.len = q.str[NGX_HTTP_ES_API_STR_ID].len;

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "embed_session: API key lookup \"%V\": found, id \"%V\", "
                   "%s", &q.lookup, &id,
                   code == NGX_HTTP_ES_API_KEY_REVOKED ? "revoked"
                   : code == NGX_HTTP_ES_API_KEY_EXPIRED ? "expired"
                   : "valid");

    if (code == NGX_HTTP_ES_API_KEY_REVOKED) {
        ngx_http_es_api_log(r, code, "revoked key", &id);
        return code;
    }

    if (code == NGX_HTTP_ES_API_KEY_EXPIRED) {
        ngx_http_es_api_log(r, code, "expired key", &id);
        return code;
    }

    auth = ngx_http_es_api_auth(r, conf, &q);
    if (auth == NULL) {
        return NGX_ERROR;
    }

    auth->source = src->type;
    auth->header = src->header;

    if (q.rate_mode == NGX_HTTP_ES_API_RATE_OWED && q.rate_limit) {
        auth->rate_state = NGX_HTTP_ES_API_RATE_OWED;
        auth->rate_period = q.rate_period;
    }

    *key = &auth->key;

    if (code == NGX_HTTP_ES_DENIED) {
        ngx_http_es_api_log(r, code, "denied, key", &auth->key.id);
        return code;
    }

    if (code == NGX_HTTP_ES_RATE_LIMITED) {
        ngx_http_es_api_log(r, code, "rate limit reached, key",
                            &auth->key.id);
        return code;
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "embed_session: API key \"%V\" authenticated",
                   &auth->key.id);

    ctx->api_key = &auth->key;

    return NGX_OK;
}


/*
 * After an internal redirect the key has been counted once already: it
 * stands if this location takes the credential as it came (its own
 * sources and no_bearer), and then only its deny rules are checked.
 * NGX_OK with *key, DENIED with *key, a code of again(), or NGX_DECLINED:
 * authenticate anew.
 */

static ngx_int_t
ngx_http_es_api_redirected(ngx_http_request_t *r,
    ngx_http_es_api_conf_t *conf, ngx_http_es_ctx_t *ctx,
    ngx_http_es_api_key_t **key)
{
    ngx_int_t                code;
    ngx_http_es_api_auth_t  *auth;

    auth = (ngx_http_es_api_auth_t *) ctx->api_key;

    code = (auth->zone == conf->zone)
           ? ngx_http_es_api_again(r, conf, auth) : NGX_DECLINED;

    if (code != NGX_OK) {
        ctx->api_key = NULL;
        return code;
    }

    *key = &auth->key;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "embed_session: API key \"%V\" from before an "
                   "internal redirect", &auth->key.id);

    auth->key.denied = conf->denies
                       ? ngx_http_es_api_deny_match(conf->denies,
                                                    &auth->key.scope,
                                                    &auth->flags,
                                                    &auth->grants)
                       : NULL;

    if (auth->key.denied) {
        ngx_http_es_api_log(r, NGX_HTTP_ES_DENIED, "denied, key",
                            &auth->key.id);
        return NGX_HTTP_ES_DENIED;
    }

    return NGX_OK;
}


/*
 * The length of a credential's PREFIX (up to its last "_") when it is
 * made of [A-Za-z0-9_] only and not too long; else its whole length.
 */

static size_t
ngx_http_es_api_prefix(ngx_str_t *cred)
{
    size_t  i, prefix;

    if (cred->len > NGX_HTTP_ES_API_KEY_MAX) {
        return 0;
    }

    prefix = 0;

    for (i = 0; i < cred->len; i++) {
        if (cred->data[i] == '_') {
            prefix = i + 1;

        } else if (!isalnum(cred->data[i])) {
            return cred->len;
        }
    }

    return prefix;
}


/*
 * Exactly one credential: none is API_KEY_REQUIRED, two (of different
 * sources, or one header repeated) API_KEY_INVALID; no secret is chosen
 * between.
 */

static ngx_int_t
ngx_http_es_api_credential(ngx_http_request_t *r,
    ngx_http_es_api_conf_t *conf, ngx_str_t *cred, ngx_uint_t *id,
    ngx_http_es_api_source_t **used, const char **reason)
{
    u_char                    *p, *last;
    ngx_uint_t                 i, j, n, nsources, bad;
    ngx_list_part_t           *part;
    ngx_table_elt_t           *h;
    ngx_http_es_api_source_t  *src, *bearer;

    src = ngx_http_es_api_sources(conf, &nsources);

    bearer = NULL;

    for (j = 0; j < nsources; j++) {
        if (src[j].type == NGX_HTTP_ES_API_SOURCE_BEARER) {
            bearer = &src[j];
        }
    }

    *used = NULL;

    n = 0;
    bad = 0;
    *id = 0;

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

        if (h[i].key.len == sizeof("authorization") - 1
            && ngx_strncmp(h[i].lowcase_key, "authorization",
                           sizeof("authorization") - 1) == 0)
        {
            p = h[i].value.data;
            last = p + h[i].value.len;

            /* another scheme (Basic, ...) is not ours */

            if (last - p < 6 || ngx_strncasecmp(p, (u_char *) "bearer", 6)
                || (last - p > 6 && p[6] != ' ' && p[6] != '\t'))
            {
                continue;
            }

            if (conf->no_bearer) {
                *reason = "Authorization: Bearer sent";
                return NGX_HTTP_ES_BEARER_NOT_ALLOWED;
            }

            if (bearer == NULL) {
                continue;
            }

            n++;
            *used = bearer;

            /* "Bearer" SP token, the token without white space */

            if (last - p < 8 || p[6] != ' '
                || ngx_strlchr(p + 7, last, ' ')
                || ngx_strlchr(p + 7, last, '\t'))
            {
                bad = 1;
            }

            cred->data = p + 7;
            cred->len = (last - p > 7) ? (size_t) (last - p - 7) : 0;
            *id = 0;

            continue;
        }

        for (j = 0; j < nsources; j++) {
            if (src[j].type == NGX_HTTP_ES_API_SOURCE_BEARER
                || h[i].hash != src[j].hash
                || h[i].key.len != src[j].header.len
                || ngx_strncmp(h[i].lowcase_key, src[j].header.data,
                               src[j].header.len) != 0)
            {
                continue;
            }

            n++;
            *cred = h[i].value;
            *id = (src[j].type == NGX_HTTP_ES_API_SOURCE_ID_HEADER);
            *used = &src[j];
            break;
        }
    }

    if (n == 0) {
        *reason = "no API key";
        return NGX_HTTP_ES_API_KEY_REQUIRED;
    }

    if (n > 1) {
        *reason = "more than one API key credential";
        return NGX_HTTP_ES_API_KEY_INVALID;
    }

    if (bad) {
        *reason = "malformed Authorization: Bearer";
        return NGX_HTTP_ES_API_KEY_INVALID;
    }

    return NGX_HTTP_ES_PASSED;
}


/*
 * After an internal redirect: the key authenticated before stands only if
 * this location takes the credential it came with, as it would take it
 * in a request of its own: from one of its sources, alone, not a bearer
 * where no_bearer.  NGX_OK: it stands; NGX_DECLINED: another credential,
 * to authenticate afresh; else the code, logged.  A credential stripped
 * on the way (embed_session_api_key_strip) counts where it was.
 */

static ngx_int_t
ngx_http_es_api_again(ngx_http_request_t *r, ngx_http_es_api_conf_t *conf,
    ngx_http_es_api_auth_t *auth)
{
    u_char                     hash[NGX_HTTP_ES_API_HASH_LEN];
    ngx_int_t                  code;
    ngx_str_t                  cred;
    ngx_uint_t                 id;
    const char                *reason;
    ngx_http_es_api_source_t  *src;

    ngx_str_null(&cred);
    reason = NULL;

    code = ngx_http_es_api_credential(r, conf, &cred, &id, &src, &reason);

    if (auth->stripped) {

        if (auth->source == NGX_HTTP_ES_API_SOURCE_BEARER && conf->no_bearer) {
            code = NGX_HTTP_ES_BEARER_NOT_ALLOWED;
            reason = "Authorization: Bearer sent";
        }

        if (!ngx_http_es_api_reads(conf, auth)) {
            if (code == NGX_HTTP_ES_PASSED) {
                return NGX_DECLINED;
            }

            ngx_http_es_api_log(r, code, reason, NULL);
            return code;
        }

        if (code == NGX_HTTP_ES_API_KEY_REQUIRED) {
            return NGX_OK;
        }

        if (code == NGX_HTTP_ES_PASSED) {
            code = NGX_HTTP_ES_API_KEY_INVALID;
            reason = "more than one API key credential";
        }

        ngx_http_es_api_log(r, code, reason, NULL);
        return code;
    }

    if (code != NGX_HTTP_ES_PASSED) {
        ngx_http_es_api_log(r, code, reason, NULL);
        return code;
    }

    if (id != auth->id_credential) {
        return NGX_DECLINED;
    }

    if (ngx_http_es_jws_sha256(cred.data, cred.len, hash)
        != NGX_HTTP_ES_JWS_OK)
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "embed_session: SHA-256 failed");
        return NGX_ERROR;
    }

    if (!ngx_http_es_jws_memeq(hash, auth->hash, NGX_HTTP_ES_API_HASH_LEN)) {
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/* the location reads the source the credential came from */

static ngx_uint_t
ngx_http_es_api_reads(ngx_http_es_api_conf_t *conf,
    ngx_http_es_api_auth_t *auth)
{
    ngx_uint_t                 i, n;
    ngx_http_es_api_source_t  *src;

    src = ngx_http_es_api_sources(conf, &n);

    for (i = 0; i < n; i++) {
        if (src[i].type != auth->source) {
            continue;
        }

        if (src[i].type == NGX_HTTP_ES_API_SOURCE_BEARER
            || (src[i].header.len == auth->header.len
                && ngx_strncmp(src[i].header.data, auth->header.data,
                               auth->header.len)
                   == 0))
        {
            return 1;
        }
    }

    return 0;
}


/* a header this location reads a credential from */

static ngx_uint_t
ngx_http_es_api_is_source(ngx_http_es_api_conf_t *conf, ngx_table_elt_t *h)
{
    u_char                    *p;
    size_t                     len;
    ngx_uint_t                 i, n;
    ngx_http_es_api_source_t  *src;

    src = ngx_http_es_api_sources(conf, &n);

    for (i = 0; i < n; i++) {

        if (src[i].type == NGX_HTTP_ES_API_SOURCE_BEARER) {

            if (h->key.len != sizeof("authorization") - 1
                || ngx_strncmp(h->lowcase_key, "authorization",
                               sizeof("authorization") - 1) != 0)
            {
                continue;
            }

            /* the Bearer scheme only: Basic and others are not keys */

            p = h->value.data;
            len = h->value.len;

            if (len >= 6 && ngx_strncasecmp(p, (u_char *) "bearer", 6) == 0
                && (len == 6 || p[6] == ' ' || p[6] == '\t'))
            {
                return 1;
            }

            continue;
        }

        if (h->key.len == src[i].header.len
            && ngx_strncmp(h->lowcase_key, src[i].header.data,
                           src[i].header.len) == 0)
        {
            return 1;
        }
    }

    return 0;
}


/*
 * embed_session_api_key_strip: the headers this location reads keys from
 * leave the request, so that no upstream (and none of its logs) sees a
 * key.  nginx has no way to take a header out of the request: the list
 * is made anew without them; $http_authorization reads the pointer.
 */

static ngx_int_t
ngx_http_es_api_strip(ngx_http_request_t *r, ngx_http_es_api_conf_t *conf,
    ngx_http_es_api_auth_t *auth)
{
    ngx_int_t  dropped;

    dropped = ngx_http_es_headers_drop(r, ngx_http_es_api_drop, conf, 0);

    if (dropped == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (dropped == 0) {
        return NGX_OK;
    }

    auth->stripped = 1;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "embed_session: API key headers stripped: %i", dropped);

    return NGX_OK;
}


static ngx_uint_t
ngx_http_es_api_drop(ngx_http_request_t *r, ngx_table_elt_t *h, void *data)
{
    if (!ngx_http_es_api_is_source(data, h)) {
        return 0;
    }

    if (r->headers_in.authorization == h) {
        r->headers_in.authorization = NULL;
    }

    return 1;
}


/* the key in the request's pool, from the copy taken under the mutex */

static ngx_http_es_api_auth_t *
ngx_http_es_api_auth(ngx_http_request_t *r, ngx_http_es_api_conf_t *conf,
    ngx_http_es_api_query_t *q)
{
    u_char                  *data;
    ngx_str_t                list;
    ngx_http_es_api_key_t   *key;
    ngx_http_es_api_auth_t  *auth;

    auth = ngx_pcalloc(r->pool, sizeof(ngx_http_es_api_auth_t));
    if (auth == NULL) {
        return NULL;
    }

    data = ngx_pnalloc(r->pool, q->len);
    if (data == NULL) {
        return NULL;
    }

    ngx_memcpy(data, q->data, q->len);

#define ngx_http_es_api_copy_str(n, s)                                       \
    (s)->data = data + q->str[n].off;                                        \
    (s)->len = q->str[n].len

    key = &auth->key;

    ngx_http_es_api_copy_str(NGX_HTTP_ES_API_STR_ID, &key->id);
    ngx_http_es_api_copy_str(NGX_HTTP_ES_API_STR_OWNER, &key->owner);
    ngx_http_es_api_copy_str(NGX_HTTP_ES_API_STR_SCOPE, &key->scope);
    ngx_http_es_api_copy_str(NGX_HTTP_ES_API_STR_TENANT, &key->tenant);
    ngx_http_es_api_copy_str(NGX_HTTP_ES_API_STR_LOOKUP, &auth->key_lookup);
    ngx_http_es_api_copy_str(NGX_HTTP_ES_API_STR_ID_LOOKUP, &auth->id_lookup);
    ngx_http_es_api_copy_str(NGX_HTTP_ES_API_STR_FLAGS, &auth->flags);
    ngx_http_es_api_copy_str(NGX_HTTP_ES_API_STR_GRANTS, &auth->grants);

    ngx_http_es_api_copy_str(NGX_HTTP_ES_API_STR_RESOURCES, &list);
    if (ngx_http_es_api_list(r, &key->resources, &list) != NGX_OK) {
        return NULL;
    }

    ngx_http_es_api_copy_str(NGX_HTTP_ES_API_STR_ORIGINS, &list);
    if (ngx_http_es_api_list(r, &key->origins, &list) != NGX_OK) {
        return NULL;
    }

#undef ngx_http_es_api_copy_str

    if (ngx_http_es_api_list(r, &key->grants, &auth->grants) != NGX_OK
        || ngx_http_es_api_list(r, &key->flags, &auth->flags) != NGX_OK)
    {
        return NULL;
    }

    key->rate_limit = q->rate_limit;
    key->rate_remaining = q->rate_remaining;
    key->rate_reset = q->rate_reset;
    key->denied = q->denied;

    auth->zone = conf->zone;
    auth->id_credential = q->id_credential;
    auth->lookup = q->lookup;
    ngx_memcpy(auth->hash, q->hash, NGX_HTTP_ES_API_HASH_LEN);

    return auth;
}


/* "a,b,c" into an array of ngx_str_t pointing into it */

static ngx_int_t
ngx_http_es_api_list(ngx_http_request_t *r, ngx_array_t *a, ngx_str_t *list)
{
    u_char     *p, *last;
    ngx_str_t  *s, item;
    ngx_uint_t  n;

    n = 1;

    for (p = list->data, last = p + list->len; p < last; p++) {
        if (*p == ',') {
            n++;
        }
    }

    if (ngx_array_init(a, r->pool, n, sizeof(ngx_str_t)) != NGX_OK) {
        return NGX_ERROR;
    }

    p = list->data;
    last = p + list->len;

    while (ngx_http_es_api_next_item(&p, last, &item) == NGX_OK) {
        s = ngx_array_push(a);
        if (s == NULL) {
            return NGX_ERROR;
        }

        *s = item;
    }

    return NGX_OK;
}


/* a client's failure, at info: the key's ID or LOOKUP, never the key */

static void
ngx_http_es_api_log(ngx_http_request_t *r, ngx_int_t code,
    const char *reason, ngx_str_t *what)
{
    if (what) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "embed_session: %V: %s \"%V\"",
                      ngx_http_es_code_name(code), reason,
                      ngx_http_es_log_text(r->pool, what));

    } else {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "embed_session: %V: %s",
                      ngx_http_es_code_name(code), reason);
    }
}


ngx_int_t
ngx_http_es_api_rate_headers(ngx_http_request_t *r,
    ngx_http_es_api_key_t *key, ngx_uint_t limited)
{
    u_char                  *p, *limit, *remaining, *reset, *after;
    time_t                   retry;
    ngx_http_es_api_auth_t  *auth;

    auth = (ngx_http_es_api_auth_t *) key;

    /* once per request: an internal redirect keeps the headers */

    if (key->rate_limit == 0 || auth->headers) {
        return NGX_OK;
    }

    p = ngx_pnalloc(r->pool, 4 * (NGX_TIME_T_LEN + 1));
    if (p == NULL) {
        return NGX_ERROR;
    }

    /* each value is NUL-terminated for ngx_http_es_header() */

    limit = p;
    remaining = ngx_sprintf(limit, "%ui%Z", key->rate_limit);
    reset = ngx_sprintf(remaining, "%ui%Z", key->rate_remaining);
    after = ngx_sprintf(reset, "%T%Z", key->rate_reset);

    retry = key->rate_reset - ngx_time();
    (void) ngx_sprintf(after, "%T%Z", retry > 0 ? retry : (time_t) 1);

    if (ngx_http_es_header(r, "X-RateLimit-Limit", (char *) limit) == NULL
        || ngx_http_es_header(r, "X-RateLimit-Remaining", (char *) remaining)
           == NULL
        || ngx_http_es_header(r, "X-RateLimit-Reset", (char *) reset) == NULL
        || (limited
            && ngx_http_es_header(r, "Retry-After", (char *) after) == NULL))
    {
        return NGX_ERROR;
    }

    auth->headers = 1;

    return NGX_OK;
}


/* the access phase guard ***********************************************/

ngx_int_t
ngx_http_es_api_access_handler(ngx_http_request_t *r)
{
    ngx_int_t                rc;
    ngx_http_es_api_key_t   *key;
    ngx_http_es_loc_conf_t  *elcf;

    elcf = ngx_http_get_module_loc_conf(r, ngx_http_embed_session_module);

    /* the content handlers authenticate themselves */

    if (elcf->api.zone == NULL || elcf->mint.enable
        || elcf->api.regenerate || elcf->api.revoke)
    {
        return NGX_DECLINED;
    }

    /* on the browser channel, a browser brings a session token instead */

    if (elcf->browser_channel && ngx_http_es_from_browser(r)) {
        return NGX_DECLINED;
    }

    rc = ngx_http_es_api_authenticate(r, &elcf->api, &key);

    if (rc == NGX_OK) {
        rc = ngx_http_es_api_rate(r, key, NGX_HTTP_ES_API_RESUME_PHASES);

        if (rc == NGX_AGAIN) {
            return NGX_AGAIN;
        }
    }

    if (rc == NGX_OK && elcf->api.strip
        && ngx_http_es_api_strip(r, &elcf->api,
                                 (ngx_http_es_api_auth_t *) key)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_es_api_answer(r, rc, key);
}


/*
 * NGX_OK to go on; else what the handler returns: NGX_DONE when the error
 * response went out, or the status when an error_page takes over
 */

ngx_int_t
ngx_http_es_api_answer(ngx_http_request_t *r, ngx_int_t rc,
    ngx_http_es_api_key_t *key)
{
    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (key
        && ngx_http_es_api_rate_headers(r, key,
                                        rc == NGX_HTTP_ES_RATE_LIMITED)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc == NGX_OK) {
        return NGX_OK;
    }

    if (rc == NGX_HTTP_ES_DENIED) {
        return ngx_http_es_error_denied(r, key->denied);
    }

    return ngx_http_es_error(r, rc);
}


/*
 * With backend=, the key's rate is counted after the key is found:
 * NGX_OK, NGX_AGAIN (the request goes on as resume says), or a code
 */

static ngx_int_t
ngx_http_es_api_rate(ngx_http_request_t *r, ngx_http_es_api_key_t *key,
    ngx_uint_t resume)
{
    ngx_int_t  rc;

    rc = ngx_http_es_api_rate_gate(r, (ngx_http_es_api_auth_t *) key, resume);

    if (rc == NGX_HTTP_ES_RATE_LIMITED) {
        ngx_http_es_api_log(r, rc, "rate limit reached, key", &key->id);
    }

    return rc;
}


/* key management *******************************************************/

/*
 * The content handlers answer with ngx_http_es_error() or _send_json(),
 * which finalize the request and return NGX_DONE, after which
 * ngx_http_core_content_phase() finalizes it once more: meanwhile the
 * handler holds a reference of its own, as a request body being read does.
 */

ngx_int_t
ngx_http_es_api_content_auth(ngx_http_request_t *r,
    ngx_http_es_api_conf_t *conf)
{
    ngx_int_t               rc;
    ngx_http_es_api_key_t  *key;

    key = NULL;

    rc = ngx_http_es_api_authenticate(r, conf, &key);

    r->main->count++;

    if (rc == NGX_OK) {
        rc = ngx_http_es_api_rate(r, key, NGX_HTTP_ES_API_RESUME_CONTENT);

        if (rc == NGX_AGAIN) {
            return NGX_DONE;    /* the handler runs again with the count */
        }
    }

    rc = ngx_http_es_api_answer(r, rc, key);

    if (rc != NGX_DONE) {
        r->main->count--;
    }

    return rc;
}


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
    u_char                    *body, *p;
    size_t                     len;
    ngx_int_t                  rc;
    ngx_str_t                  raw, raw_id, *wipe;
    ngx_pool_cleanup_t        *cln;
    ngx_http_es_api_key_t     *key;
    ngx_http_es_api_auth_t    *auth;
    ngx_http_es_loc_conf_t    *elcf;
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

    /* the file first: a restart never brings the old key back */

    rc = ngx_http_es_api_change(r->pool, r->connection->log, auth->zone,
                                &ch);

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
          + key->id.len + raw.len + raw_id.len;

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

    p = ngx_sprintf(body, "{\"id\":\"%V\",\"apiKey\":\"%V\"", &key->id, &raw);

    if (raw_id.len) {
        p = ngx_sprintf(p, ",\"apiKeyId\":\"%V\"", &raw_id);
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
    u_char                     owner[NGX_HTTP_ES_OWNER_LEN];
    ngx_int_t                  rc;
    ngx_str_t                  data, id;
    ngx_uint_t                 n;
    ngx_http_es_ctx_t         *ctx;
    ngx_http_es_api_key_t     *key;
    ngx_http_es_api_auth_t    *auth;
    ngx_http_es_api_change_t   ch;

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

    rc = ngx_http_es_api_change(r->pool, r->connection->log, auth->zone,
                                &ch);

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

    if (ch.owner.len) {
        ngx_http_es_owner(owner, &ch.owner);
        n = ngx_http_es_store_revoke_owner((ngx_cycle_t *) ngx_cycle, owner);
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "embed_session: API key \"%V\" revoked by \"%V\", "
                  "and %ui of its sessions", &id, &key->id, n);

    return ngx_http_es_api_revoked_answer(r, &id);
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
