
/*
 * Copyright (C) The ngx_http_embed_session_module authors
 *
 * A session store on Redis (embed_session_store_zone ... backend=NAME):
 * Redis holds the truth, shared by every node, and the zone a copy of it.
 *
 * Every change is decided here, by the zone's own rules (store.c's
 * *_rec() functions), on the record as Redis has it, and written there by
 * one script that sets it only if its version is still the one the
 * decision was made on (compare and set), and appends it to the zone's
 * feed, a stream, in the same step.  A node that decided on an old copy
 * gets the current record back and decides again: one round trip when the
 * copy was current, two when it was not.  Then the zone's copy is updated.
 *
 * Worker 0 of each node reads the feed on a connection of its own (XREAD
 * BLOCK) into the zone, so that verification reads the zone only, with no
 * round trip; the feed's position is kept in the zone, so that a reload
 * or a reconnect goes on where it was.  A zone that never read the
 * records, or whose position the stream no longer holds, reads them all
 * first (SCAN and MGET).  The zone is trusted for verification while the
 * feed answered within stale= (store.c's check).
 *
 * The record's value: its version (8 hex digits), "ESR1", the record's
 * bytes as the state file has them, and a ticket's claims.
 * Keys: "{es:KEY}:r:" and the id in hex, and "{es:KEY}:feed": one hash
 * tag, so that a Redis Cluster keeps a store in one slot.
 */


#include "ngx_http_embed_session_module.h"
#include "ngx_http_embed_session_feed.h"
#include "ngx_http_embed_session_redis.h"
#include "ngx_http_embed_session_response.h"
#include "ngx_http_embed_session_store.h"
#include "ngx_http_embed_session_state.h"


#define NGX_HTTP_ES_BACKEND_VLEN      8         /* the version, hex */
#define NGX_HTTP_ES_BACKEND_MAGIC     "ESR1"
#define NGX_HTTP_ES_BACKEND_HEAD      (NGX_HTTP_ES_BACKEND_VLEN + 4)
#define NGX_HTTP_ES_BACKEND_TRIES     8         /* decisions, at most */
#define NGX_HTTP_ES_FEED_SCAN         100       /* keys of one SCAN */


typedef struct {
    ngx_http_es_store_t        *store;
    ngx_http_es_store_ask_t    *ask;        /* NULL: nobody waits */
    ngx_pool_cleanup_t         *cln;
    ngx_log_t                  *log;
    uint32_t                    version;    /* the base's, on Redis */
    ngx_uint_t                  tries;
    ngx_uint_t                  exists;
    ngx_uint_t                  wrote;
    ngx_http_es_store_rec_t     base;
    ngx_http_es_store_rec_t     rec;        /* what is written */
    u_char                     *value;
    size_t                      value_len;
    u_char                      payload[NGX_HTTP_ES_TICKET_MAX];
} ngx_http_es_store_op_t;




static void ngx_http_es_store_op_cleanup(void *data);
static ngx_int_t ngx_http_es_store_op_decide(ngx_http_es_store_op_t *op);
static ngx_int_t ngx_http_es_store_op_send(ngx_http_es_store_op_t *op);
static void ngx_http_es_store_op_reply(ngx_http_es_redis_reply_t *reply,
    void *data);
static ngx_int_t ngx_http_es_store_op_conflict(ngx_http_es_store_op_t *op,
    ngx_str_t *value);
static void ngx_http_es_store_op_done(ngx_http_es_store_op_t *op,
    ngx_int_t rc);
static ngx_int_t ngx_http_es_backend_decode(ngx_str_t *value,
    ngx_http_es_store_rec_t *rec, u_char **payload, uint32_t *version);
static u_char *ngx_http_es_backend_key(u_char *buf, ngx_http_es_store_t *store,
    u_char *id);

static void ngx_http_es_store_sync(ngx_http_es_feed_t *feed);
static void ngx_http_es_store_scanned(ngx_http_es_redis_reply_t *reply,
    void *data);
static void ngx_http_es_store_records(ngx_http_es_redis_reply_t *reply,
    void *data);
static void ngx_http_es_store_entry(ngx_http_es_feed_t *feed,
    ngx_http_es_redis_reply_t *fields);
static void ngx_http_es_store_merge(ngx_http_es_feed_t *feed,
    ngx_str_t *value);


/*
 * The script: KEYS record, feed; ARGV the version decided on, the value
 * with the next version first ("": the decision writes nothing, and only
 * needs the version to be current), when the record goes (ms), the
 * stream's length, and the time after which the node no longer waits
 * (ms, Redis's clock): a change is not made for a node that gave up on
 * it.  {1}: made (or current), {0, the current value, "" when none}, or
 * {2}: too late.  The node makes the value, so that the script only
 * compares and writes; version 0 is a record Redis does not have (a
 * record written is 1 or more): SET NX is the comparison.
 */

static ngx_http_es_redis_script_t  ngx_http_es_backend_script = {
    ngx_string(
    "local t = redis.call('TIME')\n"
    "if t[1] * 1000 + math.floor(t[2] / 1000) > tonumber(ARGV[5]) then\n"
    "  return {2}\n"
    "end\n"
    "if ARGV[1] == '00000000' and ARGV[2] ~= '' then\n"
    "  if not redis.call('SET', KEYS[1], ARGV[2], 'NX', 'PXAT', ARGV[3])"
    " then\n"
    "    return {0, redis.call('GET', KEYS[1])}\n"
    "  end\n"
    "else\n"
    "  local cur = redis.call('GET', KEYS[1])\n"
    "  local v = '00000000'\n"
    "  if cur then v = string.sub(cur, 1, 8) end\n"
    "  if v ~= ARGV[1] then return {0, cur or ''} end\n"
    "  if ARGV[2] == '' then return {1} end\n"
    "  redis.call('SET', KEYS[1], ARGV[2], 'PXAT', ARGV[3])\n"
    "end\n"
    "redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[4], '*', 'r', "
    "ARGV[2])\n"
    "return {1}\n"),
    { 0 }
};


/* the full read of a store: SCAN's cursor */

typedef struct {
    ngx_http_es_store_t        *store;
    u_char                      cursor[NGX_INT64_LEN + 1];
    size_t                      cursor_len;
} ngx_http_es_store_sync_t;


/* how long an XREAD waits: an empty answer says the copy is current */

#define ngx_http_es_store_block(store)                                       \
    ngx_max(ngx_min(1000, (store)->stale / 4), 10)


/* configuration: after the http block, every backend= found by its name */

char *
ngx_http_es_store_backends(ngx_conf_t *cf, ngx_array_t *stores)
{
    u_char                    *p;
    ngx_uint_t                 i;
    ngx_http_es_store_t      **sp, *store;
    ngx_http_es_main_conf_t   *emcf;

    if (stores == NULL) {
        return NGX_CONF_OK;
    }

    emcf = ngx_http_conf_get_module_main_conf(cf,
                                              ngx_http_embed_session_module);

    sp = stores->elts;

    for (i = 0; i < stores->nelts; i++) {
        store = sp[i];

        if (store->backend_name.len == 0) {
            continue;
        }

        store->backend = ngx_http_es_redis_find(emcf, &store->backend_name);

        if (store->backend == NULL) {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "embed_session_store_zone \"%V\": \"backend=%V\" "
                          "names no embed_session_redis in %s:%ui",
                          &store->name, &store->backend_name,
                          store->conf_file, store->conf_line);
            return NGX_CONF_ERROR;
        }

        /* "{es:KEY}:r:" and "{es:KEY}:feed" */

        p = ngx_pnalloc(cf->pool, 2 * (store->backend_key.len + 16));
        if (p == NULL) {
            return NGX_CONF_ERROR;
        }

        store->feed_key.data = p;
        store->feed_key.len = ngx_sprintf(p, "{es:%V}:feed",
                                          &store->backend_key) - p;
        p += store->feed_key.len;

        store->backend_key.len = ngx_sprintf(p, "{es:%V}:r:",
                                             &store->backend_key) - p;
        store->backend_key.data = p;

        if (ngx_http_es_redis_script(&ngx_http_es_backend_script) != NGX_OK) {
            return NGX_CONF_ERROR;
        }

        store->feed = ngx_http_es_feed_conf(cf, store->backend, &store->name,
                                            ngx_http_es_store_block(store));
        if (store->feed == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}


/* a question: the zone's copy decided on first */

ngx_int_t
ngx_http_es_store_ask(ngx_http_es_store_t *store,
    ngx_http_es_store_ask_t *ask, ngx_pool_t *pool, ngx_log_t *log)
{
    u_char                  *id;
    ngx_uint_t               level;
    ngx_http_es_store_op_t  *op;

    if (!ngx_http_es_redis_is_up(store->backend)) {

        /* a variable: ngx_log_error() evaluates its level twice */

        level = ngx_http_es_store_complain(store,
                                           NGX_HTTP_ES_STORE_UNREACHABLE);

        ngx_log_error(level, log, 0,
                      "embed_session store \"%V\": backend \"%V\" is not "
                      "connected", &store->name, &store->backend->name);
        return NGX_AGAIN;
    }

    op = ngx_alloc(sizeof(ngx_http_es_store_op_t), log);
    if (op == NULL) {
        return NGX_ERROR;
    }

    op->cln = ngx_pool_cleanup_add(pool, 0);
    if (op->cln == NULL) {
        ngx_free(op);
        return NGX_ERROR;
    }

    op->cln->handler = ngx_http_es_store_op_cleanup;
    op->cln->data = op;

    op->store = store;
    op->ask = ask;
    op->log = log;
    op->tries = 0;
    op->value = NULL;

    id = (ask->op == NGX_HTTP_ES_STORE_ADD) ? ask->rec->id
         : (ask->op == NGX_HTTP_ES_STORE_ROTATE) ? ask->rot->sid : ask->id;

    /*
     * a new session's id is random, 128 bits: the zone is not asked for
     * it, and Redis answers the record should it have one after all
     */

    op->exists = (ask->op != NGX_HTTP_ES_STORE_ADD
                  && ngx_http_es_store_read(store, id, &op->base,
                                            op->payload, &op->version)
                     == NGX_OK);

    if (!op->exists) {
        ngx_memzero(&op->base, sizeof(ngx_http_es_store_rec_t));
        ngx_memcpy(op->base.id, id, NGX_HTTP_ES_ID_LEN);
        op->version = 0;
    }

    if (ngx_http_es_store_op_send(op) != NGX_OK) {
        op->cln->handler = NULL;
        ngx_free(op->value);
        ngx_free(op);
        return NGX_AGAIN;
    }

    return NGX_OK;
}


/*
 * A request's question: NGX_DONE, the request waits for ask->done();
 * else what the handler returns, a 503 answered now, or NGX_ERROR
 */

ngx_int_t
ngx_http_es_store_ask_request(ngx_http_request_t *r,
    ngx_http_es_store_t *store, ngx_http_es_store_ask_t *ask)
{
    ngx_int_t  rc;

    rc = ngx_http_es_store_ask(store, ask, r->pool, r->connection->log);

    if (rc == NGX_AGAIN) {
        return ngx_http_es_error(r, NGX_HTTP_ES_STORE_UNAVAILABLE);
    }

    /* NGX_OK: the request is Redis's to finish, maybe done already */

    return (rc == NGX_OK) ? NGX_DONE : NGX_ERROR;
}


/*
 * The level of a line saying the backend cannot be used: error once a
 * second in a process, info else (an outage answers every request 503,
 * and the connection's own lines say why)
 */

ngx_uint_t
ngx_http_es_store_complain(ngx_http_es_store_t *store, ngx_uint_t what)
{
    if (store->complained[what] == ngx_time()) {
        return NGX_LOG_INFO;
    }

    store->complained[what] = ngx_time();

    return NGX_LOG_ERR;
}


/* the request went before the answer: it is not given */

static void
ngx_http_es_store_op_cleanup(void *data)
{
    ngx_http_es_store_op_t *op = data;

    op->ask = NULL;
    op->cln = NULL;
    op->log = op->store->cycle->log;
}


/* the decision on the base, and the script that makes it so */

static ngx_int_t
ngx_http_es_store_op_send(ngx_http_es_store_op_t *op)
{
    u_char               *p, *payload;
    size_t                len;
    int64_t               pxat;
    ngx_int_t             rc;
    ngx_str_t             argv[10];
    ngx_http_es_store_t  *store;
    u_char                key[NGX_HTTP_ES_ID_LEN * 2 + 64];
    u_char                version[NGX_HTTP_ES_BACKEND_VLEN + 1];
    u_char                expires[NGX_INT64_LEN + 1];
    u_char                deadline[NGX_INT64_LEN + 1];

    store = op->store;

    rc = ngx_http_es_store_op_decide(op);
    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    ngx_free(op->value);
    op->value = NULL;
    op->value_len = 0;
    op->wrote = (rc == NGX_OK);

    if (op->wrote) {
        payload = (op->ask->op == NGX_HTTP_ES_STORE_ADD) ? op->ask->payload
                                                         : op->payload;
        len = NGX_HTTP_ES_BACKEND_HEAD + sizeof(ngx_http_es_store_rec_t)
              + op->rec.payload_len;

        op->value = ngx_alloc(len, op->log);
        if (op->value == NULL) {
            return NGX_ERROR;
        }

        p = ngx_sprintf(op->value, "%08xD", op->version + 1);
        p = ngx_cpymem(p, NGX_HTTP_ES_BACKEND_MAGIC, 4);
        p = ngx_cpymem(p, &op->rec, sizeof(ngx_http_es_store_rec_t));

        if (op->rec.payload_len) {
            p = ngx_cpymem(p, payload, op->rec.payload_len);
        }

        op->value_len = p - op->value;
    }

    /* a record that is already over is kept a second */

    pxat = (int64_t) ngx_max(op->rec.expires, ngx_time() + 1) * 1000;

    /* the script, loaded on the connection when it was made */

    ngx_str_set(&argv[0], "EVALSHA");
    argv[1].data = ngx_http_es_backend_script.sha;
    argv[1].len = sizeof(ngx_http_es_backend_script.sha);

    ngx_str_set(&argv[2], "2");     /* keys */

    argv[3].data = key;
    argv[3].len = ngx_http_es_backend_key(key, store, op->base.id) - key;
    argv[4] = store->feed_key;

    argv[5].data = version;
    argv[5].len = ngx_sprintf(version, "%08xD", op->version) - version;

    argv[6].data = op->value;
    argv[6].len = op->value_len;

    if (argv[6].data == NULL) {
        ngx_str_set(&argv[6], "");
    }

    argv[7].data = expires;
    argv[7].len = ngx_sprintf(expires, "%L", pxat) - expires;

    ngx_str_set(&argv[8], NGX_HTTP_ES_FEED_KEEP);

    /* not after the node gives up on it (redis.c) */

    argv[9].data = deadline;
    argv[9].len = ngx_sprintf(deadline, "%L",
                               ngx_http_es_redis_deadline(store->backend))
                  - deadline;

    rc = ngx_http_es_redis_call(store->backend, 10, argv,
                                NGX_HTTP_ES_REDIS_ARRAY,
                                ngx_http_es_store_op_reply, op);

    if (rc == NGX_OK) {
        (void) ngx_atomic_fetch_add(&store->sh->calls, 1);
    }

    return (rc == NGX_OK) ? NGX_OK : NGX_ERROR;
}


/*
 * The zone's rules on a copy of the base: NGX_OK, write op->rec;
 * NGX_DECLINED, nothing to write; the answer in op->ask
 */

static ngx_int_t
ngx_http_es_store_op_decide(ngx_http_es_store_op_t *op)
{
    time_t                    now;
    ngx_http_es_store_rec_t  *rec;
    ngx_http_es_store_ask_t  *ask;

    ask = op->ask;
    now = ngx_time();

    op->rec = op->base;

    /* as the zone's lookups: a record past its expiry is none */

    rec = (op->exists && op->base.expires > now) ? &op->rec : NULL;

    switch (ask->op) {

    case NGX_HTTP_ES_STORE_ADD:
        if (rec) {
            ask->rc = NGX_DECLINED;
            return NGX_DECLINED;
        }

        op->rec = *ask->rec;
        op->rec.horizon = ngx_max(op->rec.horizon, op->rec.exp);
        ask->rc = NGX_OK;
        return NGX_OK;

    case NGX_HTTP_ES_STORE_ROTATE:
        ask->rc = ngx_http_es_store_rotate_rec(rec, ask->rot);

        if (ask->rc == NGX_HTTP_ES_REUSED) {
            ngx_http_es_store_revoke_rec(rec, op->store->leeway);
        }

        return (ask->rc == NGX_HTTP_ES_ROTATED
                || ask->rc == NGX_HTTP_ES_REUSED) ? NGX_OK : NGX_DECLINED;

    case NGX_HTTP_ES_STORE_REVOKE:
        if (rec == NULL
            || !ngx_http_es_store_owns(rec, ask->has_owner ? ask->owner
                                                            : NULL))
        {
            ask->rc = NGX_DECLINED;
            return NGX_DECLINED;
        }

        ask->rc = NGX_OK;

        if (rec->flags & NGX_HTTP_ES_STORE_REVOKED) {
            return NGX_DECLINED;
        }

        ngx_http_es_store_revoke_rec(rec, op->store->leeway);
        return NGX_OK;

    default: /* NGX_HTTP_ES_STORE_EXCHANGE */
        if (rec) {
            *ask->rec = *rec;
            ngx_memcpy(ask->payload, op->payload, rec->payload_len);
        }

        ask->rc = ngx_http_es_store_exchange_rec(rec,
                                                 ask->has_owner ? ask->owner
                                                                : NULL,
                                                 ask->now,
                                                 op->store->leeway);

        if (ask->rc != NGX_HTTP_ES_TICKET_OK) {
            return NGX_DECLINED;
        }

        ask->rec->iat = rec->iat;
        ask->rec->exp = rec->exp;

        return NGX_OK;
    }
}


static void
ngx_http_es_store_op_reply(ngx_http_es_redis_reply_t *reply, void *data)
{
    ngx_http_es_store_op_t *op = data;

    ngx_int_t                  rc;
    ngx_str_t                 *v;
    ngx_http_es_store_t       *store;
    ngx_http_es_redis_reply_t **e;

    store = op->store;

    if (reply->type & (NGX_HTTP_ES_REDIS_TIMEOUT|NGX_HTTP_ES_REDIS_DOWN)) {
        ngx_log_error(NGX_LOG_ERR, op->log, 0,
                      "embed_session store \"%V\": backend \"%V\" %s",
                      &store->name, &store->backend->name,
                      reply->type == NGX_HTTP_ES_REDIS_TIMEOUT
                      ? "did not answer in time" : "was lost");
        ngx_http_es_store_op_done(op, NGX_AGAIN);
        return;
    }

    if (reply->type == NGX_HTTP_ES_REDIS_ERROR) {
        ngx_log_error(NGX_LOG_ERR, op->log, 0,
                      "embed_session store \"%V\": backend \"%V\" refused "
                      "the change: %V", &store->name, &store->backend->name,
                      &reply->str);
        ngx_http_es_store_op_done(op, NGX_ERROR);
        return;
    }

    e = reply->elts;

    if (reply->nelts == 1 && e[0]->type == NGX_HTTP_ES_REDIS_INTEGER
        && e[0]->integer == 2)
    {
        ngx_log_error(NGX_LOG_ERR, op->log, 0,
                      "embed_session store \"%V\": backend \"%V\" ran the "
                      "change too late, and made none", &store->name,
                      &store->backend->name);
        ngx_http_es_store_op_done(op, NGX_AGAIN);
        return;
    }

    if (reply->nelts == 1 && e[0]->type == NGX_HTTP_ES_REDIS_INTEGER
        && e[0]->integer == 1)
    {
        if (op->wrote) {

            /* what was written, the claims included: the request may be gone */

            rc = ngx_http_es_store_apply(store, &op->rec,
                                         op->value + NGX_HTTP_ES_BACKEND_HEAD
                                         + sizeof(ngx_http_es_store_rec_t),
                                         op->version + 1, op->log);

            if (rc == NGX_AGAIN && op->ask
                && op->ask->op == NGX_HTTP_ES_STORE_ADD)
            {
                /* a session the zone cannot hold is not minted */
                op->ask->rc = NGX_AGAIN;
            }
        }

        ngx_http_es_store_op_done(op, NGX_OK);
        return;
    }

    if (reply->nelts != 2 || e[0]->type != NGX_HTTP_ES_REDIS_INTEGER
        || e[0]->integer != 0 || e[1]->type != NGX_HTTP_ES_REDIS_STRING)
    {
        goto damaged;
    }

    v = &e[1]->str;

    /* the base was not current: the current record, decided on again */

    if (op->ask == NULL) {
        ngx_http_es_store_op_done(op, NGX_AGAIN);
        return;
    }

    if (++op->tries >= NGX_HTTP_ES_BACKEND_TRIES) {
        ngx_log_error(NGX_LOG_ERR, op->log, 0,
                      "embed_session store \"%V\": the record changed on "
                      "backend \"%V\" %ui times while it was decided on",
                      &store->name, &store->backend->name, op->tries);
        ngx_http_es_store_op_done(op, NGX_AGAIN);
        return;
    }

    (void) ngx_atomic_fetch_add(&store->sh->conflicts, 1);

    if (ngx_http_es_store_op_conflict(op, v) != NGX_OK) {
        goto damaged;
    }

    if (ngx_http_es_store_op_send(op) != NGX_OK) {
        ngx_http_es_store_op_done(op, NGX_AGAIN);
    }

    return;

damaged:

    ngx_log_error(NGX_LOG_ERR, op->log, 0,
                  "embed_session store \"%V\": backend \"%V\" holds a "
                  "damaged record, or answered the script wrongly",
                  &store->name, &store->backend->name);

    ngx_http_es_store_op_done(op, NGX_ERROR);
}


/*
 * The record Redis has (none: the zone's copy, written again, as after a
 * Redis that lost its data), merged into the zone, which may know more:
 * a revocation of its own
 */

static ngx_int_t
ngx_http_es_store_op_conflict(ngx_http_es_store_op_t *op, ngx_str_t *value)
{
    u_char                   *payload;
    uint32_t                  version, local;
    ngx_http_es_store_rec_t   rec;

    if (value->len == 0) {
        op->version = 0;
        return NGX_OK;
    }

    if (ngx_http_es_backend_decode(value, &rec, &payload, &version) != NGX_OK
        || ngx_memcmp(rec.id, op->base.id, NGX_HTTP_ES_ID_LEN) != 0)
    {
        return NGX_ERROR;
    }

    op->version = version;

    if (ngx_http_es_store_apply(op->store, &rec, payload, version, op->log)
        == NGX_OK
        && ngx_http_es_store_read(op->store, rec.id, &op->base, op->payload,
                                  &local)
           == NGX_OK)
    {
        op->exists = 1;
        return NGX_OK;
    }

    /* the zone is full: Redis's record alone */

    op->base = rec;
    op->exists = 1;
    ngx_memcpy(op->payload, payload, rec.payload_len);

    return NGX_OK;
}


static void
ngx_http_es_store_op_done(ngx_http_es_store_op_t *op, ngx_int_t rc)
{
    ngx_http_es_store_ask_t  *ask;

    ask = op->ask;

    if (op->cln) {
        op->cln->handler = NULL;
    }

    ngx_free(op->value);
    ngx_free(op);

    if (ask) {
        ask->done(ask->data, rc);
    }
}


/* a value: NGX_OK, or NGX_ERROR when it is not one this module wrote */

static ngx_int_t
ngx_http_es_backend_decode(ngx_str_t *value, ngx_http_es_store_rec_t *rec,
    u_char **payload, uint32_t *version)
{
    u_char     *p;
    ngx_int_t   v;

    if (value->len < NGX_HTTP_ES_BACKEND_HEAD
                     + sizeof(ngx_http_es_store_rec_t))
    {
        return NGX_ERROR;
    }

    v = ngx_hextoi(value->data, NGX_HTTP_ES_BACKEND_VLEN);

    p = value->data + NGX_HTTP_ES_BACKEND_VLEN;

    if (v == NGX_ERROR || ngx_memcmp(p, NGX_HTTP_ES_BACKEND_MAGIC, 4) != 0) {
        return NGX_ERROR;
    }

    ngx_memcpy(rec, p + 4, sizeof(ngx_http_es_store_rec_t));

    if (rec->payload_len > NGX_HTTP_ES_TICKET_MAX
        || value->len != NGX_HTTP_ES_BACKEND_HEAD
                         + sizeof(ngx_http_es_store_rec_t) + rec->payload_len
        || (rec->flags & ~(NGX_HTTP_ES_STORE_REVOKED|NGX_HTTP_ES_STORE_TICKET
                           |NGX_HTTP_ES_STORE_EXCHANGED)))
    {
        return NGX_ERROR;
    }

    *payload = p + 4 + sizeof(ngx_http_es_store_rec_t);
    *version = (uint32_t) v;

    return NGX_OK;
}


static u_char *
ngx_http_es_backend_key(u_char *buf, ngx_http_es_store_t *store, u_char *id)
{
    buf = ngx_cpymem(buf, store->backend_key.data, store->backend_key.len);
    return ngx_hex_dump(buf, id, NGX_HTTP_ES_ID_LEN);
}


/* worker 0 reads each store's feed */

ngx_int_t
ngx_http_es_store_feed_init(ngx_cycle_t *cycle)
{
    ngx_uint_t                 i;
    ngx_array_t               *stores;
    ngx_http_es_feed_t        *feed;
    ngx_http_es_store_t      **sp;
    ngx_http_es_store_sync_t  *sync;

    if ((ngx_process != NGX_PROCESS_WORKER || ngx_worker != 0)
        && ngx_process != NGX_PROCESS_SINGLE)
    {
        return NGX_OK;
    }

    stores = ngx_http_es_stores(cycle);

    if (stores == NULL) {
        return NGX_OK;
    }

    sp = stores->elts;

    for (i = 0; i < stores->nelts; i++) {
        if (sp[i]->feed == NULL) {
            continue;
        }

        feed = ngx_http_es_feed_init(cycle, sp[i]->feed,
                                     ngx_http_es_store_block(sp[i]));
        sync = ngx_pcalloc(cycle->pool, sizeof(ngx_http_es_store_sync_t));

        if (feed == NULL || sync == NULL) {
            return NGX_ERROR;
        }

        sync->store = sp[i];

        feed->key = sp[i]->feed_key;
        feed->pos = &sp[i]->sh->feed;
        feed->sync = ngx_http_es_store_sync;
        feed->apply = ngx_http_es_store_entry;
        feed->data = sync;

        feed->what.len = sizeof("store \"\"") - 1 + sp[i]->name.len;
        feed->what.data = ngx_pnalloc(cycle->pool, feed->what.len);
        if (feed->what.data == NULL) {
            return NGX_ERROR;
        }

        ngx_sprintf(feed->what.data, "store \"%V\"", &sp[i]->name);

        sp[i]->feed_state = feed;
    }

    return NGX_OK;
}


/* the full read: every record, SCAN and MGET */

static void
ngx_http_es_store_sync(ngx_http_es_feed_t *feed)
{
    ngx_str_t                  argv[6];
    ngx_http_es_store_sync_t  *sync;
    u_char                     match[NGX_HTTP_ES_ID_LEN * 2 + 64];

    sync = feed->data;

    ngx_str_set(&argv[0], "SCAN");
    argv[1].data = sync->cursor;
    argv[1].len = sync->cursor_len;

    if (feed->resync == 1) {
        feed->resync = 2;       /* the first SCAN of this read */
        ngx_str_set(&argv[1], "0");
    }

    ngx_str_set(&argv[2], "MATCH");
    argv[3].data = match;
    argv[3].len = ngx_sprintf(match, "%V*", &sync->store->backend_key)
                  - match;
    ngx_str_set(&argv[4], "COUNT");
    ngx_str_set(&argv[5], "100");

    ngx_http_es_feed_call(feed, 6, argv, NGX_HTTP_ES_REDIS_ARRAY,
                          ngx_http_es_store_scanned);
}


static void
ngx_http_es_store_scanned(ngx_http_es_redis_reply_t *reply, void *data)
{
    ngx_http_es_feed_t *feed = data;

    ngx_uint_t                  i;
    ngx_str_t                   argv[NGX_HTTP_ES_FEED_SCAN + 1];
    ngx_http_es_store_sync_t   *sync;
    ngx_http_es_redis_reply_t  *cursor, *keys;

    if (ngx_http_es_feed_reply(feed, reply, "SCAN") != NGX_OK) {
        return;
    }

    sync = feed->data;

    if (reply->nelts != 2
        || (cursor = reply->elts[0])->type != NGX_HTTP_ES_REDIS_STRING
        || cursor->str.len == 0 || cursor->str.len > NGX_INT64_LEN
        || (keys = reply->elts[1])->type != NGX_HTTP_ES_REDIS_ARRAY
        || keys->nelts > NGX_HTTP_ES_FEED_SCAN)
    {
        ngx_http_es_feed_wrong(feed, "SCAN");
        return;
    }

    sync->cursor_len = cursor->str.len;
    ngx_memcpy(sync->cursor, cursor->str.data, cursor->str.len);

    if (keys->nelts == 0) {
        ngx_http_es_store_records(NULL, feed);
        return;
    }

    ngx_str_set(&argv[0], "MGET");

    for (i = 0; i < keys->nelts; i++) {
        if (keys->elts[i]->type != NGX_HTTP_ES_REDIS_STRING) {
            ngx_http_es_feed_wrong(feed, "SCAN");
            return;
        }

        argv[1 + i] = keys->elts[i]->str;
    }

    /* the command is formatted, the keys copied, before the call returns */

    ngx_http_es_feed_call(feed, 1 + keys->nelts, argv,
                          NGX_HTTP_ES_REDIS_ARRAY, ngx_http_es_store_records);
}


/* MGET's values into the zone; after the last SCAN, the feed goes on */

static void
ngx_http_es_store_records(ngx_http_es_redis_reply_t *reply, void *data)
{
    ngx_http_es_feed_t *feed = data;

    ngx_uint_t                 i;
    ngx_http_es_store_sync_t  *sync;

    if (reply) {
        if (ngx_http_es_feed_reply(feed, reply, "MGET") != NGX_OK) {
            return;
        }

        for (i = 0; i < reply->nelts; i++) {
            if (reply->elts[i]->type == NGX_HTTP_ES_REDIS_STRING) {
                ngx_http_es_store_merge(feed, &reply->elts[i]->str);
            }
        }
    }

    sync = feed->data;

    if (sync->cursor_len == 1 && sync->cursor[0] == '0') {
        ngx_http_es_feed_synced(feed);
        return;
    }

    ngx_http_es_store_sync(feed);
}


/* an entry of the stream: {"r", value} */

static void
ngx_http_es_store_entry(ngx_http_es_feed_t *feed,
    ngx_http_es_redis_reply_t *fields)
{
    if (fields->nelts == 2
        && fields->elts[1]->type == NGX_HTTP_ES_REDIS_STRING)
    {
        ngx_http_es_store_merge(feed, &fields->elts[1]->str);
    }
}


static void
ngx_http_es_store_merge(ngx_http_es_feed_t *feed, ngx_str_t *value)
{
    u_char                    *payload;
    uint32_t                   version;
    ngx_http_es_store_t       *store;
    ngx_http_es_store_rec_t    rec;
    ngx_http_es_store_sync_t  *sync;

    sync = feed->data;
    store = sync->store;

    if (ngx_http_es_backend_decode(value, &rec, &payload, &version)
        != NGX_OK)
    {
        ngx_log_error(NGX_LOG_ERR, feed->retry.log, 0,
                      "embed_session store \"%V\": backend \"%V\" holds a "
                      "damaged record: skipped", &store->name,
                      &store->backend->name);
        return;
    }

    (void) ngx_http_es_store_apply(store, &rec, payload, version,
                                   feed->retry.log);
}
