
/*
 * Copyright (C) The ngx_http_embed_session_module authors
 *
 * API key zones on Redis (embed_session_api_keys ... backend=): the rates
 * counted once for every node, and the keys' changes (regenerate, revoke)
 * made on one node and followed by all.
 *
 * Rates: one counter per key and window for every node, so that a key's
 * rate= holds across them.  The window is Redis's clock's, so that the
 * nodes agree on it and on X-RateLimit-Reset.
 * A request waits for the count (one round trip, after the key is found
 * in the zone), then goes on where it stopped: the access phase again, or
 * the content handler again, which find the key authenticated and the
 * rate counted (ngx_http_es_api_redirected()).  When Redis cannot be
 * reached, the request is counted in the zone against this node's share
 * of the rate, rate/nodes=, never more.
 *
 * Changes: a regenerate or a revoke is published first ({es:KEY}:keys, a
 * hash of each key's last change, and the stream {es:KEY}:kfeed), then
 * made in the node's key file and zone; Redis that cannot be reached is a
 * 503, and nothing changes.  Worker 0 of every node follows the stream
 * (feed.c) and makes each change in its own key file and zone, once: a
 * revoked key is refused there, a regenerated one's old credential too,
 * within the feed's delay.  A node that never read the changes, or whose
 * position the stream lost, reads the hash first.
 */


#include "ngx_http_embed_session_module.h"
#include "ngx_http_embed_session_apikey.h"
#include "ngx_http_embed_session_apikey_int.h"
#include "ngx_http_embed_session_feed.h"
#include "ngx_http_embed_session_redis.h"
#include "ngx_http_embed_session_store.h"


/*
 * What a command sent for a request holds first: the request, NULL once
 * it went before the answer (its pool's cleanup says so)
 */

typedef struct {
    ngx_http_request_t         *request;
    ngx_pool_cleanup_t         *cln;
} ngx_http_es_api_for_t;


typedef struct {
    ngx_http_es_api_for_t       f;
    ngx_http_es_api_auth_t     *auth;
    ngx_uint_t                  resume;
} ngx_http_es_api_wait_t;


static void *ngx_http_es_api_for_new(ngx_http_request_t *r, size_t size);
static ngx_http_request_t *ngx_http_es_api_for_done(void *p);
static void ngx_http_es_api_for_cleanup(void *data);
static void ngx_http_es_api_counted(ngx_http_es_redis_reply_t *reply,
    void *data);
static ngx_int_t ngx_http_es_api_share(ngx_http_request_t *r,
    ngx_http_es_api_auth_t *auth);
static ngx_int_t ngx_http_es_api_rate_code(ngx_http_es_api_auth_t *auth);
static void ngx_http_es_api_published(ngx_http_es_redis_reply_t *reply,
    void *data);
static void ngx_http_es_api_sync(ngx_http_es_feed_t *feed);
static void ngx_http_es_api_synced(ngx_http_es_redis_reply_t *reply,
    void *data);
static void ngx_http_es_api_entry(ngx_http_es_feed_t *feed,
    ngx_http_es_redis_reply_t *fields);
static void ngx_http_es_api_follow(ngx_http_es_feed_t *feed, ngx_str_t *id,
    ngx_str_t *text);


/* a change on its way to Redis */

typedef struct {
    ngx_http_es_api_for_t       f;
    ngx_http_es_api_published_pt  done;
    void                       *data;
} ngx_http_es_api_publish_t;


/*
 * KEYS the keys' hash, the stream; ARGV the key's ID, its change ("R",
 * "G LOOKUP HASH [ID_LOOKUP ID_HASH]"), the stream's length, the time
 * after which the node no longer waits (ms, Redis's clock), and for a
 * regenerate the hash of the credential it was asked with, which must be
 * the key's last one.  The entry's id; 0: too late, -1: the key changed
 * meanwhile on another node; nothing changed.
 */

static ngx_http_es_redis_script_t  ngx_http_es_api_publish_script = {
    ngx_string(
    "local t = redis.call('TIME')\n"
    "if t[1] * 1000 + math.floor(t[2] / 1000) > tonumber(ARGV[4]) then\n"
    "  return 0\n"
    "end\n"
    "if ARGV[5] ~= '' then\n"
    "  local cur = redis.call('HGET', KEYS[1], ARGV[1])\n"
    "  if cur and (cur == 'R' or not string.find(cur, ARGV[5], 1, true))\n"
    "  then\n"
    "    return -1\n"
    "  end\n"
    "end\n"
    "redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])\n"
    "return redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], '*',\n"
    "                  'i', ARGV[1], 'c', ARGV[2])\n"),
    { 0 }
};


/*
 * KEYS the key's counter (a hash: the window's start, and its count);
 * ARGV the rate, the period (s), and the time after which the node no
 * longer waits (ms, Redis's clock).  {1 or 0 (refused), count, window};
 * {-1, 0, 0}: too late, not counted (the node counted it in its share).
 */

static ngx_http_es_redis_script_t  ngx_http_es_api_rate_script = {
    ngx_string(
    "local t = redis.call('TIME')\n"
    "if t[1] * 1000 + math.floor(t[2] / 1000) > tonumber(ARGV[3]) then\n"
    "  return {-1, 0, 0}\n"
    "end\n"
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
    "return {1, n, w}\n"),
    { 0 }
};


/* after the http block: every backend= found by its name */

char *
ngx_http_es_api_backends(ngx_conf_t *cf)
{
    u_char                   *p;
    ngx_http_es_api_iter_t    it;
    ngx_http_es_api_zone_t   *zone;
    ngx_http_es_main_conf_t  *emcf;

    emcf = ngx_http_conf_get_module_main_conf(cf,
                                              ngx_http_embed_session_module);

    it.part = NULL;

    while ((zone = ngx_http_es_api_zone_next(cf->cycle, &it)) != NULL) {

        if (zone->backend_name.len == 0 || zone->backend) {
            continue;
        }

        zone->backend = ngx_http_es_redis_find(emcf, &zone->backend_name);

        if (zone->backend == NULL) {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "embed_session_api_keys \"%V\": \"backend=%V\" "
                          "names no embed_session_redis in %s:%ui",
                          &it.shm->shm.name, &zone->backend_name,
                          zone->conf_file, zone->conf_line);
            return NGX_CONF_ERROR;
        }

        if (ngx_http_es_redis_name_ok(&zone->backend_key) != NGX_OK) {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "embed_session_api_keys \"%V\": invalid "
                          "\"backend_key=%V\": 1 to 64 letters, digits, "
                          "\"_\", \"-\" or \".\" in %s:%ui",
                          &it.shm->shm.name, &zone->backend_key,
                          zone->conf_file, zone->conf_line);
            return NGX_CONF_ERROR;
        }

        p = ngx_pnalloc(cf->pool, 3 * (zone->backend_key.len + 16));
        if (p == NULL) {
            return NGX_CONF_ERROR;
        }

        zone->keys_key.data = p;
        zone->keys_key.len = ngx_sprintf(p, "{es:%V}:keys",
                                         &zone->backend_key) - p;
        p += zone->keys_key.len;

        zone->feed_key.data = p;
        zone->feed_key.len = ngx_sprintf(p, "{es:%V}:kfeed",
                                         &zone->backend_key) - p;
        p += zone->feed_key.len;

        zone->backend_key.len = ngx_sprintf(p, "{es:%V}:rl:",
                                            &zone->backend_key) - p;
        zone->backend_key.data = p;

        if (ngx_http_es_redis_script(&ngx_http_es_api_rate_script) != NGX_OK
            || ngx_http_es_redis_script(&ngx_http_es_api_publish_script)
               != NGX_OK)
        {
            return NGX_CONF_ERROR;
        }

        zone->feed = ngx_http_es_feed_conf(cf, zone->backend,
                                           &it.shm->shm.name, 1000);
        if (zone->feed == NULL) {
            return NGX_CONF_ERROR;
        }
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
    ngx_str_t                argv[7];
    ngx_http_es_api_zone_t  *zone;
    ngx_http_es_api_wait_t  *w;
    u_char                   rate[NGX_INT_T_LEN], period[NGX_TIME_T_LEN];
    u_char                   deadline[NGX_INT64_LEN];

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
    if (key == NULL) {
        return NGX_ERROR;
    }

    w = ngx_http_es_api_for_new(r, sizeof(ngx_http_es_api_wait_t));
    if (w == NULL) {
        return NGX_ERROR;
    }

    w->auth = auth;
    w->resume = resume;

    ngx_str_set(&argv[0], "EVALSHA");
    argv[1].data = ngx_http_es_api_rate_script.sha;
    argv[1].len = sizeof(ngx_http_es_api_rate_script.sha);
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

    /* not after the node gives up on it (redis.c) */

    argv[6].data = deadline;
    argv[6].len = ngx_sprintf(deadline, "%L",
                              ngx_http_es_redis_deadline(zone->backend))
                  - deadline;

    auth->rate_state = NGX_HTTP_ES_API_RATE_WAITING;
    auth->rate_calling = 1;

    rc = ngx_http_es_redis_call(zone->backend, 7, argv,
                                NGX_HTTP_ES_REDIS_ARRAY,
                                ngx_http_es_api_counted, w);

    auth->rate_calling = 0;

    if (rc != NGX_OK) {
        auth->rate_state = NGX_HTTP_ES_API_RATE_OWED;
        (void) ngx_http_es_api_for_done(w);

        return ngx_http_es_api_share(r, auth);
    }

    /* the answer may have come already: a write that failed says DOWN */

    return (auth->rate_state == NGX_HTTP_ES_API_RATE_WAITING)
           ? NGX_AGAIN : ngx_http_es_api_rate_code(auth);
}


/* a waiter whose cleanup forgets the request if it goes first */

static void *
ngx_http_es_api_for_new(ngx_http_request_t *r, size_t size)
{
    ngx_http_es_api_for_t  *f;

    f = ngx_alloc(size, r->connection->log);
    if (f == NULL) {
        return NULL;
    }

    f->cln = ngx_pool_cleanup_add(r->pool, 0);
    if (f->cln == NULL) {
        ngx_free(f);
        return NULL;
    }

    f->request = r;
    f->cln->handler = ngx_http_es_api_for_cleanup;
    f->cln->data = f;

    return f;
}


/* the waiter freed: its request, or NULL if it went meanwhile */

static ngx_http_request_t *
ngx_http_es_api_for_done(void *p)
{
    ngx_http_es_api_for_t *f = p;

    ngx_http_request_t  *r;

    r = f->request;

    if (r) {
        f->cln->handler = NULL;
    }

    ngx_free(f);

    return r;
}


static void
ngx_http_es_api_for_cleanup(void *data)
{
    ngx_http_es_api_for_t *f = data;

    f->request = NULL;
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

    auth = w->auth;
    resume = w->resume;

    r = ngx_http_es_api_for_done(w);

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
                             |NGX_HTTP_ES_REDIS_DOWN))
            && !(reply->type == NGX_HTTP_ES_REDIS_ARRAY && reply->nelts == 3
                 && e[0]->type == NGX_HTTP_ES_REDIS_INTEGER
                 && e[0]->integer == -1))
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


/*
 * A change published before it is made: NGX_OK (done() is called, unless
 * the request went first), NGX_AGAIN (Redis cannot be reached), NGX_ERROR
 */

ngx_int_t
ngx_http_es_api_publish(ngx_http_request_t *r, ngx_http_es_api_zone_t *zone,
    ngx_http_es_api_change_t *ch, ngx_http_es_api_published_pt done,
    void *data)
{
    u_char                     *p;
    ngx_str_t                   argv[10], change;
    ngx_http_es_api_publish_t  *pub;
    u_char                      deadline[NGX_INT64_LEN];
    u_char                      caller[2 * NGX_HTTP_ES_API_HASH_LEN];

    if (!ngx_http_es_redis_is_up(zone->backend)) {
        return NGX_AGAIN;
    }

    /* "R", or "G " LOOKUP " " HASH [" " ID_LOOKUP " " ID_HASH] */

    p = ngx_pnalloc(r->pool, sizeof("G    ") - 1 + ch->new_lookup.len
                             + ch->new_id_lookup.len
                             + 4 * NGX_HTTP_ES_API_HASH_LEN);
    if (p == NULL) {
        return NGX_ERROR;
    }

    change.data = p;

    if (ch->revoke) {
        *p++ = 'R';

    } else {
        p = ngx_sprintf(p, "G %V ", &ch->new_lookup);
        p = ngx_hex_dump(p, ch->new_hash, NGX_HTTP_ES_API_HASH_LEN);

        if (ch->new_id_lookup.len) {
            p = ngx_sprintf(p, " %V ", &ch->new_id_lookup);
            p = ngx_hex_dump(p, ch->new_id_hash, NGX_HTTP_ES_API_HASH_LEN);
        }
    }

    change.len = p - change.data;

    pub = ngx_http_es_api_for_new(r, sizeof(ngx_http_es_api_publish_t));
    if (pub == NULL) {
        return NGX_ERROR;
    }

    pub->done = done;
    pub->data = data;

    ngx_str_set(&argv[0], "EVALSHA");
    argv[1].data = ngx_http_es_api_publish_script.sha;
    argv[1].len = sizeof(ngx_http_es_api_publish_script.sha);
    ngx_str_set(&argv[2], "2");
    argv[3] = zone->keys_key;
    argv[4] = zone->feed_key;
    argv[5] = ch->id;
    argv[6] = change;
    ngx_str_set(&argv[7], NGX_HTTP_ES_FEED_KEEP);

    /* not after the node gives up on it (redis.c) */

    argv[8].data = deadline;
    argv[8].len = ngx_sprintf(deadline, "%L",
                              ngx_http_es_redis_deadline(zone->backend))
                  - deadline;

    argv[9].data = caller;
    argv[9].len = 0;

    if (!ch->revoke) {
        argv[9].len = ngx_hex_dump(caller, ch->hash, NGX_HTTP_ES_API_HASH_LEN)
                      - caller;
    }

    if (ngx_http_es_redis_call(zone->backend, 10, argv,
                               NGX_HTTP_ES_REDIS_STRING
                               |NGX_HTTP_ES_REDIS_INTEGER,
                               ngx_http_es_api_published, pub)
        != NGX_OK)
    {
        (void) ngx_http_es_api_for_done(pub);
        return NGX_AGAIN;
    }

    return NGX_OK;
}


/* the entry's id: published; anything else, the change is not made */

static void
ngx_http_es_api_published(ngx_http_es_redis_reply_t *reply, void *data)
{
    ngx_http_es_api_publish_t *pub = data;

    void                          *arg;
    ngx_int_t                      rc;
    ngx_connection_t              *c;
    ngx_http_request_t            *r;
    ngx_http_es_api_published_pt   done;

    done = pub->done;
    arg = pub->data;

    r = ngx_http_es_api_for_done(pub);

    if (r == NULL) {
        return;
    }

    rc = NGX_OK;

    if (reply->type != NGX_HTTP_ES_REDIS_STRING) {
        rc = NGX_AGAIN;

        if (reply->type == NGX_HTTP_ES_REDIS_ERROR) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "embed_session_api_keys: the backend refused the "
                          "change: %V", &reply->str);

        } else if (reply->type == NGX_HTTP_ES_REDIS_INTEGER
                   && reply->integer == -1)
        {
            rc = NGX_DECLINED;

        } else if (reply->type == NGX_HTTP_ES_REDIS_INTEGER) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "embed_session_api_keys: the backend ran the "
                          "change too late, and made none");
        }
    }

    c = r->connection;

    done(r, arg, rc);

    ngx_http_run_posted_requests(c);
}


/* worker 0 follows each zone's changes */

ngx_int_t
ngx_http_es_api_feed_init(ngx_cycle_t *cycle)
{
    ngx_http_es_feed_t      *feed;
    ngx_http_es_api_iter_t   it;
    ngx_http_es_api_zone_t  *zone;

    if ((ngx_process != NGX_PROCESS_WORKER || ngx_worker != 0)
        && ngx_process != NGX_PROCESS_SINGLE)
    {
        return NGX_OK;
    }

    it.part = NULL;

    while ((zone = ngx_http_es_api_zone_next(cycle, &it)) != NULL) {

        if (zone->feed == NULL) {
            continue;
        }

        feed = ngx_http_es_feed_init(cycle, zone->feed, 1000);
        if (feed == NULL) {
            return NGX_ERROR;
        }

        feed->key = zone->feed_key;
        feed->pos = &zone->sh->feed;
        feed->sync = ngx_http_es_api_sync;
        feed->apply = ngx_http_es_api_entry;
        feed->data = zone;

        feed->what.len = sizeof("api keys \"\"") - 1 + it.shm->shm.name.len;
        feed->what.data = ngx_pnalloc(cycle->pool, feed->what.len);
        if (feed->what.data == NULL) {
            return NGX_ERROR;
        }

        ngx_sprintf(feed->what.data, "api keys \"%V\"", &it.shm->shm.name);
    }

    return NGX_OK;
}


/* the full read: each key's last change */

static void
ngx_http_es_api_sync(ngx_http_es_feed_t *feed)
{
    ngx_str_t                argv[2];
    ngx_http_es_api_zone_t  *zone;

    zone = feed->data;

    ngx_str_set(&argv[0], "HGETALL");
    argv[1] = zone->keys_key;

    ngx_http_es_feed_call(feed, 2, argv, NGX_HTTP_ES_REDIS_ARRAY,
                          ngx_http_es_api_synced);
}


static void
ngx_http_es_api_synced(ngx_http_es_redis_reply_t *reply, void *data)
{
    ngx_http_es_feed_t *feed = data;

    ngx_uint_t  i;

    if (ngx_http_es_feed_reply(feed, reply, "HGETALL") != NGX_OK) {
        return;
    }

    for (i = 0; i + 1 < reply->nelts; i += 2) {
        if (reply->elts[i]->type != NGX_HTTP_ES_REDIS_STRING
            || reply->elts[i + 1]->type != NGX_HTTP_ES_REDIS_STRING)
        {
            ngx_http_es_feed_wrong(feed, "HGETALL");
            return;
        }

        ngx_http_es_api_follow(feed, &reply->elts[i]->str,
                               &reply->elts[i + 1]->str);
    }

    ngx_http_es_feed_synced(feed);
}


/* an entry of the stream: {"i", ID, "c", change} */

static void
ngx_http_es_api_entry(ngx_http_es_feed_t *feed,
    ngx_http_es_redis_reply_t *fields)
{
    if (fields->nelts == 4
        && fields->elts[1]->type == NGX_HTTP_ES_REDIS_STRING
        && fields->elts[3]->type == NGX_HTTP_ES_REDIS_STRING)
    {
        ngx_http_es_api_follow(feed, &fields->elts[1]->str,
                               &fields->elts[3]->str);
        return;
    }

    ngx_log_error(NGX_LOG_ERR, feed->retry.log, 0,
                  "embed_session %V: an entry of \"%V\" this module did "
                  "not write: skipped", &feed->what, &feed->key);
}


/*
 * Another node's change (or this node's, again), made here once: in the
 * key file and the zone, and a revoked key's sessions ended in this
 * node's stores
 */

static void
ngx_http_es_api_follow(ngx_http_es_feed_t *feed, ngx_str_t *id,
    ngx_str_t *text)
{
    u_char                    *p, *last;
    u_char                     owner[NGX_HTTP_ES_OWNER_LEN];
    ngx_int_t                  rc;
    ngx_str_t                  f[4];
    ngx_uint_t                 n, k;
    ngx_pool_t                *pool;
    ngx_http_es_api_zone_t    *zone;
    ngx_http_es_api_change_t   ch;

    zone = feed->data;

    ngx_memzero(&ch, sizeof(ngx_http_es_api_change_t));

    ch.remote = 1;
    ch.id = *id;

    /* "R", or "G" and two or four words */

    p = text->data;
    last = p + text->len;
    n = 0;

    while (p < last && n < 5) {
        for (k = 0; p + k < last && p[k] != ' '; k++) { /* void */ }

        if (n > 0) {
            f[n - 1].data = p;
            f[n - 1].len = k;
        }

        n++;
        p += k + 1;
    }

    if (text->len == 1 && text->data[0] == 'R') {
        ch.revoke = 1;

    } else if (text->len > 2 && text->data[0] == 'G' && text->data[1] == ' '
               && (n == 3 || n == 5) && p >= last
               && f[1].len == 2 * NGX_HTTP_ES_API_HASH_LEN
               && ngx_http_es_unhex(ch.new_hash, f[1].data,
                                    NGX_HTTP_ES_API_HASH_LEN) == NGX_OK
               && (n == 3
                   || (f[3].len == 2 * NGX_HTTP_ES_API_HASH_LEN
                       && ngx_http_es_unhex(ch.new_id_hash, f[3].data,
                                            NGX_HTTP_ES_API_HASH_LEN)
                          == NGX_OK)))
    {
        ch.new_lookup = f[0];

        if (n == 5) {
            ch.new_id_lookup = f[2];
        }

    } else {
        ngx_log_error(NGX_LOG_ERR, feed->retry.log, 0,
                      "embed_session %V: a change of key \"%V\" this module "
                      "did not write: skipped", &feed->what, id);
        return;
    }

    pool = ngx_create_pool(NGX_DEFAULT_POOL_SIZE, feed->retry.log);
    if (pool == NULL) {
        return;
    }

    rc = ngx_http_es_api_change(pool, feed->retry.log, zone, &ch);

    if (rc == NGX_HTTP_ES_PASSED) {
        ngx_log_error(NGX_LOG_NOTICE, feed->retry.log, 0,
                      "embed_session %V: API key \"%V\" %s, a change "
                      "read from backend \"%V\"", &feed->what, id,
                      ch.revoke ? "revoked" : "regenerated",
                      &zone->backend->name);

        if (ch.revoke && ch.owner.len) {
            ngx_http_es_owner(owner, &ch.owner);
            (void) ngx_http_es_store_revoke_owner(
                                    (ngx_cycle_t *) ngx_cycle, owner);
        }

    } else if (rc != NGX_DONE) {
        ngx_log_error(NGX_LOG_WARN, feed->retry.log, 0,
                      "embed_session %V: API key \"%V\" %s on backend "
                      "\"%V\" could not be changed here (not in \"%V\", "
                      "or the file cannot be written)", &feed->what, id,
                      ch.revoke ? "revoked" : "regenerated",
                      &zone->backend->name, &zone->file);
    }

    ngx_destroy_pool(pool);
}
