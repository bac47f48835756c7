
/*
 * Copyright (C) The ngx_http_embed_session_module authors
 *
 * API key rates counted on Redis (embed_session_api_keys ... backend=):
 * one counter per key and window for every node, so that a key's rate=
 * holds across them.  The window is Redis's clock's, so that the nodes
 * agree on it and on X-RateLimit-Reset.
 *
 * A request waits for the count (one round trip, after the key is found
 * in the zone), then goes on where it stopped: the access phase again, or
 * the content handler again, which find the key authenticated and the
 * rate counted (ngx_http_es_api_redirected()).  When Redis cannot be
 * reached, the request is counted in the zone against this node's share
 * of the rate, rate/nodes=, never more.
 */


#include "ngx_http_embed_session_module.h"
#include "ngx_http_embed_session_apikey.h"
#include "ngx_http_embed_session_apikey_int.h"
#include "ngx_http_embed_session_redis.h"


typedef struct {
    ngx_http_request_t         *request;    /* NULL: it went meanwhile */
    ngx_http_es_api_auth_t     *auth;
    ngx_uint_t                  resume;
    ngx_pool_cleanup_t         *cln;
} ngx_http_es_api_wait_t;


static void ngx_http_es_api_wait_cleanup(void *data);
static void ngx_http_es_api_counted(ngx_http_es_redis_reply_t *reply,
    void *data);
static ngx_int_t ngx_http_es_api_share(ngx_http_request_t *r,
    ngx_http_es_api_auth_t *auth);
static ngx_int_t ngx_http_es_api_rate_code(ngx_http_es_api_auth_t *auth);


/*
 * KEYS the key's counter (a hash: the window's start, and its count);
 * ARGV the rate and the period (s).  {1 or 0 (refused), count, window}.
 */

static ngx_str_t  ngx_http_es_api_rate_script = ngx_string(
    "local t = redis.call('TIME')\n"
    "local now = tonumber(t[1])\n"
    "local period = tonumber(ARGV[2])\n"
    "local w = now - now % period\n"
    "local v = redis.call('HMGET', KEYS[1], 'w', 'n')\n"
    "local n = 0\n"
    "if tonumber(v[1]) == w then n = tonumber(v[2]) or 0 end\n"
    "if n >= tonumber(ARGV[1]) then return {0, n, w} end\n"
    "n = n + 1\n"
    "redis.call('HSET', KEYS[1], 'w', w, 'n', n)\n"
    "redis.call('EXPIREAT', KEYS[1], w + period + 1)\n"
    "return {1, n, w}\n");


/* after the http block: every backend= found by its name */

char *
ngx_http_es_api_backends(ngx_conf_t *cf)
{
    u_char                   *p;
    ngx_uint_t                i;
    ngx_list_part_t          *part;
    ngx_shm_zone_t           *shm;
    ngx_http_es_api_zone_t   *zone;
    ngx_http_es_main_conf_t  *emcf;

    emcf = ngx_http_conf_get_module_main_conf(cf,
                                              ngx_http_embed_session_module);

    part = &cf->cycle->shared_memory.part;
    shm = part->elts;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            shm = part->elts;
            i = 0;
        }

        zone = ngx_http_es_api_zone_of(&shm[i]);

        if (zone == NULL || zone->backend_name.len == 0 || zone->backend) {
            continue;
        }

        zone->backend = ngx_http_es_redis_find(emcf, &zone->backend_name);

        if (zone->backend == NULL) {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "embed_session_api_keys \"%V\": \"backend=%V\" "
                          "names no embed_session_redis in %s:%ui",
                          &shm[i].shm.name, &zone->backend_name,
                          zone->conf_file, zone->conf_line);
            return NGX_CONF_ERROR;
        }

        if (ngx_http_es_redis_name_ok(&zone->backend_key) != NGX_OK) {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "embed_session_api_keys \"%V\": invalid "
                          "\"backend_key=%V\": 1 to 64 letters, digits, "
                          "\"_\", \"-\" or \".\" in %s:%ui",
                          &shm[i].shm.name, &zone->backend_key,
                          zone->conf_file, zone->conf_line);
            return NGX_CONF_ERROR;
        }

        p = ngx_pnalloc(cf->pool, zone->backend_key.len + 16);
        if (p == NULL) {
            return NGX_CONF_ERROR;
        }

        zone->backend_key.len = ngx_sprintf(p, "{es:%V}:rl:",
                                            &zone->backend_key) - p;
        zone->backend_key.data = p;
    }

    return NGX_CONF_OK;
}


/*
 * NGX_OK: the rate lets the request in; NGX_AGAIN: Redis is asked, and
 * the request goes on (resume) once it answers; else a code
 * (RATE_LIMITED, or what the zone says of the key now)
 */

ngx_int_t
ngx_http_es_api_rate_gate(ngx_http_request_t *r,
    ngx_http_es_api_auth_t *auth, ngx_uint_t resume)
{
    u_char                  *key;
    ngx_int_t                rc;
    ngx_str_t                argv[6];
    ngx_http_es_api_zone_t  *zone;
    ngx_http_es_api_wait_t  *w;
    u_char                   rate[NGX_INT_T_LEN], period[NGX_TIME_T_LEN];

    switch (auth->rate_state) {

    case NGX_HTTP_ES_API_RATE_OWED:
        break;

    case NGX_HTTP_ES_API_RATE_WAITING:
        return NGX_AGAIN;

    case NGX_HTTP_ES_API_RATE_DONE:
        return ngx_http_es_api_rate_code(auth);

    default: /* counted by the zone's query */
        return NGX_OK;
    }

    zone = auth->zone;

    if (resume == NGX_HTTP_ES_API_RESUME_NONE
        || !ngx_http_es_redis_is_up(zone->backend))
    {
        return ngx_http_es_api_share(r, auth);
    }

    key = ngx_pnalloc(r->pool, zone->backend_key.len + auth->key.id.len);
    w = ngx_alloc(sizeof(ngx_http_es_api_wait_t), r->connection->log);

    if (key == NULL || w == NULL) {
        ngx_free(w);
        return NGX_ERROR;
    }

    w->cln = ngx_pool_cleanup_add(r->pool, 0);
    if (w->cln == NULL) {
        ngx_free(w);
        return NGX_ERROR;
    }

    w->request = r;
    w->auth = auth;
    w->resume = resume;
    w->cln->handler = ngx_http_es_api_wait_cleanup;
    w->cln->data = w;

    ngx_str_set(&argv[0], "EVAL");
    argv[1] = ngx_http_es_api_rate_script;
    ngx_str_set(&argv[2], "1");

    argv[3].data = key;
    argv[3].len = ngx_cpymem(ngx_cpymem(key, zone->backend_key.data,
                                        zone->backend_key.len),
                             auth->key.id.data, auth->key.id.len)
                  - key;

    argv[4].data = rate;
    argv[4].len = ngx_sprintf(rate, "%ui", auth->key.rate_limit) - rate;
    argv[5].data = period;
    argv[5].len = ngx_sprintf(period, "%T", auth->rate_period) - period;

    auth->rate_state = NGX_HTTP_ES_API_RATE_WAITING;
    auth->rate_calling = 1;

    rc = ngx_http_es_redis_call(zone->backend, 6, argv,
                                NGX_HTTP_ES_REDIS_ARRAY,
                                ngx_http_es_api_counted, w);

    auth->rate_calling = 0;

    if (rc != NGX_OK) {
        auth->rate_state = NGX_HTTP_ES_API_RATE_OWED;
        w->cln->handler = NULL;
        ngx_free(w);

        return ngx_http_es_api_share(r, auth);
    }

    /* the answer may have come already: a write that failed says DOWN */

    return (auth->rate_state == NGX_HTTP_ES_API_RATE_WAITING)
           ? NGX_AGAIN : ngx_http_es_api_rate_code(auth);
}


static void
ngx_http_es_api_wait_cleanup(void *data)
{
    ngx_http_es_api_wait_t *w = data;

    w->request = NULL;
}


/* Redis's count; the request goes on where it stopped */

static void
ngx_http_es_api_counted(ngx_http_es_redis_reply_t *reply, void *data)
{
    ngx_http_es_api_wait_t *w = data;

    ngx_uint_t                   resume, sync;
    ngx_connection_t            *c;
    ngx_http_request_t          *r;
    ngx_http_es_api_key_t       *key;
    ngx_http_es_api_auth_t      *auth;
    ngx_http_es_redis_reply_t  **e;

    r = w->request;
    auth = w->auth;
    resume = w->resume;

    if (r) {
        w->cln->handler = NULL;
    }

    ngx_free(w);

    if (r == NULL) {
        return;
    }

    key = &auth->key;
    e = reply->elts;

    /* called from within the gate: it answers, nothing to resume */

    sync = auth->rate_calling;

    if (reply->type == NGX_HTTP_ES_REDIS_ARRAY && reply->nelts == 3
        && e[0]->type == NGX_HTTP_ES_REDIS_INTEGER
        && e[1]->type == NGX_HTTP_ES_REDIS_INTEGER
        && e[2]->type == NGX_HTTP_ES_REDIS_INTEGER
        && e[1]->integer >= 0 && e[2]->integer > 0)
    {
        key->rate_remaining = (e[1]->integer >= (int64_t) key->rate_limit)
                              ? 0 : key->rate_limit - e[1]->integer;
        key->rate_reset = (time_t) e[2]->integer + auth->rate_period;

        auth->rate_code = e[0]->integer ? NGX_HTTP_ES_PASSED
                                        : NGX_HTTP_ES_RATE_LIMITED;
        auth->rate_state = NGX_HTTP_ES_API_RATE_DONE;

        ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "embed_session: API key \"%V\": %L of the rate "
                       "used on the backend%s", &key->id, e[1]->integer,
                       e[0]->integer ? "" : ", refused");

    } else {
        if (!(reply->type & (NGX_HTTP_ES_REDIS_TIMEOUT
                             |NGX_HTTP_ES_REDIS_DOWN)))
        {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "embed_session_api_keys: backend \"%V\" answered "
                          "the rate's count wrongly%s%V",
                          &auth->zone->backend->name,
                          reply->type == NGX_HTTP_ES_REDIS_ERROR ? ": " : "",
                          reply->type == NGX_HTTP_ES_REDIS_ERROR
                          ? &reply->str : &auth->zone->backend_name);
        }

        auth->rate_state = NGX_HTTP_ES_API_RATE_OWED;
        (void) ngx_http_es_api_share(r, auth);
    }

    if (sync) {
        return;
    }

    c = r->connection;

    if (resume == NGX_HTTP_ES_API_RESUME_PHASES) {
        ngx_http_core_run_phases(r);

    } else {
        ngx_http_finalize_request(r, r->content_handler(r));
    }

    ngx_http_run_posted_requests(c);
}


/* Redis cannot be reached: counted in the zone, against rate/nodes= */

static ngx_int_t
ngx_http_es_api_share(ngx_http_request_t *r, ngx_http_es_api_auth_t *auth)
{
    ngx_int_t                 code;
    ngx_http_es_api_query_t  *q;

    q = ngx_palloc(r->pool, sizeof(ngx_http_es_api_query_t));
    if (q == NULL) {
        return NGX_ERROR;
    }

    q->id_credential = auth->id_credential;
    q->lookup = auth->lookup;
    ngx_memcpy(q->hash, auth->hash, NGX_HTTP_ES_API_HASH_LEN);
    q->denies = NULL;
    q->now = ngx_time();
    q->rate_mode = NGX_HTTP_ES_API_RATE_SHARE;
    q->denied = NULL;

    code = ngx_http_es_api_query(auth->zone, q);

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "embed_session: API key \"%V\": counted against this "
                   "node's share, %ui", &auth->key.id, q->rate_limit);

    auth->key.rate_limit = q->rate_limit;
    auth->key.rate_remaining = q->rate_remaining;
    auth->key.rate_reset = q->rate_reset;

    auth->rate_code = code;
    auth->rate_state = NGX_HTTP_ES_API_RATE_DONE;

    return ngx_http_es_api_rate_code(auth);
}


static ngx_int_t
ngx_http_es_api_rate_code(ngx_http_es_api_auth_t *auth)
{
    return (auth->rate_code == NGX_HTTP_ES_PASSED) ? NGX_OK
                                                    : auth->rate_code;
}
