
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
#include "ngx_http_embed_session_redis.h"
#include "ngx_http_embed_session_store.h"
#include "ngx_http_embed_session_state.h"


#define NGX_HTTP_ES_BACKEND_VLEN      8         /* the version, hex */
#define NGX_HTTP_ES_BACKEND_MAGIC     "ESR1"
#define NGX_HTTP_ES_BACKEND_HEAD      (NGX_HTTP_ES_BACKEND_VLEN + 4)
#define NGX_HTTP_ES_BACKEND_TRIES     8         /* decisions, at most */
#define NGX_HTTP_ES_FEED_KEEP         "100000"  /* entries of the stream */
#define NGX_HTTP_ES_FEED_COUNT        "512"     /* entries of one read */
#define NGX_HTTP_ES_FEED_SCAN         100       /* keys of one SCAN */
#define NGX_HTTP_ES_FEED_RETRY        1000      /* after an error, ms */


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


struct ngx_http_es_store_feed_s {
    ngx_http_es_store_t        *store;
    ngx_event_t                 retry;
    ngx_uint_t                  busy;       /* a command is out */
    ngx_uint_t                  resync;     /* reading every record */
    ngx_uint_t                  checked;    /* the position, once up */
    ngx_msec_t                  block;
    u_char                      mark[NGX_HTTP_ES_FEED_ID_MAX];
    size_t                      mark_len;
    u_char                      cursor[NGX_INT64_LEN + 1];
    size_t                      cursor_len;
    u_char                      block_text[NGX_INT_T_LEN];
    size_t                      block_len;
};


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

static void ngx_http_es_feed_up(void *data);
static void ngx_http_es_feed_retry(ngx_event_t *ev);
static void ngx_http_es_feed_next(ngx_http_es_store_feed_t *feed);
static void ngx_http_es_feed_call(ngx_http_es_store_feed_t *feed,
    ngx_uint_t argc, ngx_str_t *argv, ngx_uint_t expect,
    ngx_http_es_redis_handler_pt handler);
static ngx_int_t ngx_http_es_feed_failed(ngx_http_es_store_feed_t *feed,
    ngx_http_es_redis_reply_t *reply, const char *what);
static void ngx_http_es_feed_mark(ngx_http_es_redis_reply_t *reply,
    void *data);
static void ngx_http_es_feed_first(ngx_http_es_redis_reply_t *reply,
    void *data);
static void ngx_http_es_feed_scanned(ngx_http_es_redis_reply_t *reply,
    void *data);
static void ngx_http_es_feed_records(ngx_http_es_redis_reply_t *reply,
    void *data);
static void ngx_http_es_feed_read(ngx_http_es_redis_reply_t *reply,
    void *data);
static void ngx_http_es_feed_wrong(ngx_http_es_store_feed_t *feed,
    const char *what);
static void ngx_http_es_feed_apply(ngx_http_es_store_feed_t *feed,
    ngx_str_t *value);
static ngx_int_t ngx_http_es_feed_id_cmp(u_char *a, size_t alen, u_char *b,
    size_t blen);


/*
 * The script: KEYS record, feed; ARGV the version decided on, the value
 * without its version ("": the decision writes nothing, and only needs
 * the version to be current), when the record goes (ms), the stream's
 * length, and the time after which the node no longer waits (ms, Redis's
 * clock): a change is not made for a node that gave up on it.
 * {1, version}, {0, the current value, "" when none}, or {2}: too late.
 */

static ngx_str_t  ngx_http_es_backend_script = ngx_string(
    "local t = redis.call('TIME')\n"
    "if t[1] * 1000 + math.floor(t[2] / 1000) > tonumber(ARGV[5]) then\n"
    "  return {2}\n"
    "end\n"
    "local cur = redis.call('GET', KEYS[1])\n"
    "local v = '00000000'\n"
    "if cur then v = string.sub(cur, 1, 8) end\n"
    "if v ~= ARGV[1] then return {0, cur or ''} end\n"
    "if ARGV[2] == '' then return {1, v} end\n"
    "local n = string.format('%08x', tonumber(v, 16) + 1)\n"
    "local val = n .. ARGV[2]\n"
    "redis.call('SET', KEYS[1], val, 'PXAT', ARGV[3])\n"
    "redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[4], '*', 'r', val)\n"
    "return {1, n}\n");


/* configuration: after the http block, every backend= found by its name */

char *
ngx_http_es_store_backends(ngx_conf_t *cf, ngx_array_t *stores)
{
    u_char                    *p;
    ngx_uint_t                 i;
    ngx_str_t                  name;
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

        name.len = store->backend->name.len + sizeof(":feed:") - 1
                   + store->name.len;
        name.data = ngx_pnalloc(cf->pool, name.len);
        if (name.data == NULL) {
            return NGX_CONF_ERROR;
        }

        ngx_sprintf(name.data, "%V:feed:%V", &store->backend->name,
                    &store->name);

        store->feed = ngx_http_es_redis_dedicated(cf, emcf, store->backend,
                                                  &name, 0,
                                                  ngx_min(1000,
                                                          store->stale / 4));
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
    ngx_http_es_store_op_t  *op;

    if (!ngx_http_es_redis_is_up(store->backend)) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
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

    op->exists = (ngx_http_es_store_read(store, id, &op->base, op->payload,
                                         &op->version)
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
    ngx_time_t           *tp;
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
        len = 4 + sizeof(ngx_http_es_store_rec_t) + op->rec.payload_len;

        op->value = ngx_alloc(len, op->log);
        if (op->value == NULL) {
            return NGX_ERROR;
        }

        p = ngx_cpymem(op->value, NGX_HTTP_ES_BACKEND_MAGIC, 4);
        p = ngx_cpymem(p, &op->rec, sizeof(ngx_http_es_store_rec_t));

        if (op->rec.payload_len) {
            p = ngx_cpymem(p, payload, op->rec.payload_len);
        }

        op->value_len = p - op->value;
    }

    /* a record that is already over is kept a second */

    pxat = (int64_t) ngx_max(op->rec.expires, ngx_time() + 1) * 1000;

    /* EVAL: Redis keeps the script compiled, by its digest */

    ngx_str_set(&argv[0], "EVAL");
    argv[1] = ngx_http_es_backend_script;

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

    /* a margin before the node's own timer, for the answer's way back */

    tp = ngx_timeofday();

    argv[9].data = deadline;
    argv[9].len = ngx_sprintf(deadline, "%L",
                              (int64_t) tp->sec * 1000 + tp->msec
                              + store->backend->timeout * 3 / 4)
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

    uint32_t                   version;
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

    if (reply->nelts != 2 || e[0]->type != NGX_HTTP_ES_REDIS_INTEGER
        || e[1]->type != NGX_HTTP_ES_REDIS_STRING)
    {
        goto damaged;
    }

    v = &e[1]->str;

    if (e[0]->integer == 1) {
        if (v->len != NGX_HTTP_ES_BACKEND_VLEN) {
            goto damaged;
        }

        rc = ngx_hextoi(v->data, v->len);
        if (rc == NGX_ERROR) {
            goto damaged;
        }

        version = (uint32_t) rc;

        if (op->wrote) {
            rc = ngx_http_es_store_apply(store, &op->rec,
                                         (op->ask
                                          && op->ask->op
                                             == NGX_HTTP_ES_STORE_ADD)
                                         ? op->ask->payload : op->payload,
                                         version, op->log);

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


/*
 * The feed, in worker 0: started each time its connection is up, and
 * read without a pause while it is
 */

ngx_int_t
ngx_http_es_store_feed_init(ngx_cycle_t *cycle)
{
    ngx_uint_t                  i;
    ngx_array_t                *stores;
    ngx_http_es_store_t       **sp;
    ngx_http_es_store_feed_t   *feed;

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

        feed = ngx_pcalloc(cycle->pool, sizeof(ngx_http_es_store_feed_t));
        if (feed == NULL) {
            return NGX_ERROR;
        }

        feed->store = sp[i];
        feed->block = ngx_max(ngx_min(1000, sp[i]->stale / 4), 10);
        feed->block_len = ngx_sprintf(feed->block_text, "%M", feed->block)
                          - feed->block_text;

        feed->retry.handler = ngx_http_es_feed_retry;
        feed->retry.data = feed;
        feed->retry.log = cycle->log;
        feed->retry.cancelable = 1;

        sp[i]->feed_state = feed;
        sp[i]->feed->up = ngx_http_es_feed_up;
        sp[i]->feed->up_data = feed;
    }

    return NGX_OK;
}


static void
ngx_http_es_feed_up(void *data)
{
    ngx_http_es_store_feed_t *feed = data;

    if (!feed->busy) {
        ngx_http_es_feed_next(feed);
    }
}


static void
ngx_http_es_feed_retry(ngx_event_t *ev)
{
    ngx_http_es_store_feed_t *feed = ev->data;

    if (!feed->busy && ngx_http_es_redis_is_up(feed->store->feed)) {
        ngx_http_es_feed_next(feed);
    }
}


/*
 * What to ask next: the records, when the zone never read them or the
 * stream lost its position; else what was added since the position
 */

static void
ngx_http_es_feed_next(ngx_http_es_store_feed_t *feed)
{
    ngx_str_t                argv[10];
    ngx_http_es_store_t     *store;
    ngx_http_es_store_sh_t  *sh;
    u_char                   match[NGX_HTTP_ES_ID_LEN * 2 + 64];

    store = feed->store;
    sh = store->sh;

    /* a worker on its way out asks nothing more: its connection drains */

    if (ngx_exiting || ngx_terminate || ngx_quit) {
        return;
    }

    if (!sh->synced && !feed->resync) {

        /* the stream's last entry first: the records are read after it */

        feed->resync = 1;
        feed->cursor_len = 0;

        ngx_str_set(&argv[0], "XREVRANGE");
        argv[1] = store->feed_key;
        ngx_str_set(&argv[2], "+");
        ngx_str_set(&argv[3], "-");
        ngx_str_set(&argv[4], "COUNT");
        ngx_str_set(&argv[5], "1");

        ngx_http_es_feed_call(feed, 6, argv, NGX_HTTP_ES_REDIS_ARRAY,
                              ngx_http_es_feed_mark);
        return;
    }

    if (feed->resync) {
        ngx_str_set(&argv[0], "SCAN");
        argv[1].data = feed->cursor;
        argv[1].len = feed->cursor_len;

        if (feed->cursor_len == 0) {
            ngx_str_set(&argv[1], "0");
        }

        ngx_str_set(&argv[2], "MATCH");
        argv[3].data = match;
        argv[3].len = ngx_sprintf(match, "%V*", &store->backend_key) - match;
        ngx_str_set(&argv[4], "COUNT");
        argv[5].data = (u_char *) "100";
        argv[5].len = 3;

        ngx_http_es_feed_call(feed, 6, argv, NGX_HTTP_ES_REDIS_ARRAY,
                              ngx_http_es_feed_scanned);
        return;
    }

    if (!feed->checked) {

        /* after a reconnect: is the position still in the stream? */

        feed->checked = 1;

        ngx_str_set(&argv[0], "XRANGE");
        argv[1] = store->feed_key;
        ngx_str_set(&argv[2], "-");
        ngx_str_set(&argv[3], "+");
        ngx_str_set(&argv[4], "COUNT");
        ngx_str_set(&argv[5], "1");

        ngx_http_es_feed_call(feed, 6, argv, NGX_HTTP_ES_REDIS_ARRAY,
                              ngx_http_es_feed_first);
        return;
    }

    ngx_str_set(&argv[0], "XREAD");
    ngx_str_set(&argv[1], "COUNT");
    ngx_str_set(&argv[2], NGX_HTTP_ES_FEED_COUNT);
    ngx_str_set(&argv[3], "BLOCK");
    argv[4].data = feed->block_text;
    argv[4].len = feed->block_len;
    ngx_str_set(&argv[5], "STREAMS");
    argv[6] = store->feed_key;
    argv[7].data = sh->feed_id;
    argv[7].len = sh->feed_id_len;

    ngx_http_es_feed_call(feed, 8, argv,
                          NGX_HTTP_ES_REDIS_ARRAY|NGX_HTTP_ES_REDIS_NIL,
                          ngx_http_es_feed_read);
}


static void
ngx_http_es_feed_call(ngx_http_es_store_feed_t *feed, ngx_uint_t argc,
    ngx_str_t *argv, ngx_uint_t expect, ngx_http_es_redis_handler_pt handler)
{
    ngx_int_t  rc;

    rc = ngx_http_es_redis_call(feed->store->feed, argc, argv, expect,
                                handler, feed);

    if (rc == NGX_OK) {
        feed->busy = 1;
        return;
    }

    /* not up: the next connection starts it again; else a while later */

    if (rc == NGX_ERROR && !feed->retry.timer_set) {
        ngx_add_timer(&feed->retry, NGX_HTTP_ES_FEED_RETRY);
    }
}


/* NGX_OK: the reply may be read; else the feed waits for what comes */

static ngx_int_t
ngx_http_es_feed_failed(ngx_http_es_store_feed_t *feed,
    ngx_http_es_redis_reply_t *reply, const char *what)
{
    feed->busy = 0;

    if (reply->type & (NGX_HTTP_ES_REDIS_TIMEOUT|NGX_HTTP_ES_REDIS_DOWN)) {

        /* logged where the connection closed; it starts again when up */

        feed->resync = 0;
        feed->checked = 0;
        return NGX_ERROR;
    }

    if (reply->type != NGX_HTTP_ES_REDIS_ERROR) {
        return NGX_OK;
    }

    ngx_log_error(NGX_LOG_ERR, feed->retry.log, 0,
                  "embed_session store \"%V\": backend \"%V\" refused %s: "
                  "%V", &feed->store->name, &feed->store->backend->name,
                  what, &reply->str);

    feed->resync = 0;
    feed->checked = 0;

    if (!feed->retry.timer_set) {
        ngx_add_timer(&feed->retry, NGX_HTTP_ES_FEED_RETRY);
    }

    return NGX_ERROR;
}


/* the last entry of the stream, where the feed goes on after the records */

static void
ngx_http_es_feed_mark(ngx_http_es_redis_reply_t *reply, void *data)
{
    ngx_http_es_store_feed_t *feed = data;

    ngx_http_es_redis_reply_t  *entry;

    if (ngx_http_es_feed_failed(feed, reply, "XREVRANGE") != NGX_OK) {
        return;
    }

    feed->mark_len = 3;
    ngx_memcpy(feed->mark, "0-0", 3);

    if (reply->nelts) {
        entry = reply->elts[0];

        if (entry->type != NGX_HTTP_ES_REDIS_ARRAY || entry->nelts != 2
            || entry->elts[0]->type != NGX_HTTP_ES_REDIS_STRING
            || entry->elts[0]->str.len >= NGX_HTTP_ES_FEED_ID_MAX)
        {
            ngx_log_error(NGX_LOG_ERR, feed->retry.log, 0,
                          "embed_session store \"%V\": the stream \"%V\" "
                          "holds an entry this module did not write",
                          &feed->store->name, &feed->store->feed_key);

        } else {
            feed->mark_len = entry->elts[0]->str.len;
            ngx_memcpy(feed->mark, entry->elts[0]->str.data, feed->mark_len);
        }
    }

    ngx_http_es_feed_next(feed);
}


/* after a reconnect: a stream that starts after the position lost some */

static void
ngx_http_es_feed_first(ngx_http_es_redis_reply_t *reply, void *data)
{
    ngx_http_es_store_feed_t *feed = data;

    ngx_str_t                  *id;
    ngx_http_es_store_sh_t     *sh;
    ngx_http_es_redis_reply_t  *entry;

    if (ngx_http_es_feed_failed(feed, reply, "XRANGE") != NGX_OK) {
        return;
    }

    sh = feed->store->sh;

    if (reply->nelts) {
        entry = reply->elts[0];

        if (entry->type == NGX_HTTP_ES_REDIS_ARRAY && entry->nelts == 2
            && entry->elts[0]->type == NGX_HTTP_ES_REDIS_STRING)
        {
            id = &entry->elts[0]->str;

            if (ngx_http_es_feed_id_cmp(id->data, id->len, sh->feed_id,
                                        sh->feed_id_len)
                > 0)
            {
                ngx_log_error(NGX_LOG_WARN, feed->retry.log, 0,
                              "embed_session store \"%V\": the stream "
                              "\"%V\" no longer holds what came after %*s: "
                              "every record is read again",
                              &feed->store->name, &feed->store->feed_key,
                              sh->feed_id_len, sh->feed_id);
                sh->synced = 0;
            }
        }
    }

    ngx_http_es_feed_next(feed);
}


/* a SCAN's keys, read with MGET */

static void
ngx_http_es_feed_scanned(ngx_http_es_redis_reply_t *reply, void *data)
{
    ngx_http_es_store_feed_t *feed = data;

    ngx_uint_t                  i;
    ngx_str_t                   argv[NGX_HTTP_ES_FEED_SCAN + 1];
    ngx_http_es_redis_reply_t  *cursor, *keys;

    if (ngx_http_es_feed_failed(feed, reply, "SCAN") != NGX_OK) {
        return;
    }

    if (reply->nelts != 2
        || (cursor = reply->elts[0])->type != NGX_HTTP_ES_REDIS_STRING
        || cursor->str.len == 0 || cursor->str.len > NGX_INT64_LEN
        || (keys = reply->elts[1])->type != NGX_HTTP_ES_REDIS_ARRAY
        || keys->nelts > NGX_HTTP_ES_FEED_SCAN)
    {
        ngx_http_es_feed_wrong(feed, "SCAN");
        return;
    }

    feed->cursor_len = cursor->str.len;
    ngx_memcpy(feed->cursor, cursor->str.data, cursor->str.len);

    if (keys->nelts == 0) {
        ngx_http_es_feed_records(NULL, feed);
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
                          NGX_HTTP_ES_REDIS_ARRAY, ngx_http_es_feed_records);
}


/* MGET's values into the zone; the last SCAN: the stream from the mark */

static void
ngx_http_es_feed_records(ngx_http_es_redis_reply_t *reply, void *data)
{
    ngx_http_es_store_feed_t *feed = data;

    ngx_uint_t               i;
    ngx_http_es_store_sh_t  *sh;

    if (reply) {
        if (ngx_http_es_feed_failed(feed, reply, "MGET") != NGX_OK) {
            return;
        }

        for (i = 0; i < reply->nelts; i++) {
            if (reply->elts[i]->type == NGX_HTTP_ES_REDIS_STRING) {
                ngx_http_es_feed_apply(feed, &reply->elts[i]->str);
            }
        }
    }

    if (feed->cursor_len != 1 || feed->cursor[0] != '0') {
        ngx_http_es_feed_next(feed);
        return;
    }

    sh = feed->store->sh;

    ngx_memcpy(sh->feed_id, feed->mark, feed->mark_len);
    sh->feed_id_len = feed->mark_len;
    sh->feed_seen = ngx_current_msec;
    ngx_memory_barrier();
    sh->synced = 1;

    feed->resync = 0;
    feed->checked = 1;

    ngx_log_error(NGX_LOG_INFO, feed->retry.log, 0,
                  "embed_session store \"%V\": every record of backend "
                  "\"%V\" read", &feed->store->name,
                  &feed->store->backend->name);

    ngx_http_es_feed_next(feed);
}


/* XREAD: nil, nothing in BLOCK ms; else {{key, {{id, {"r", value}}...}}} */

static void
ngx_http_es_feed_read(ngx_http_es_redis_reply_t *reply, void *data)
{
    ngx_http_es_store_feed_t *feed = data;

    ngx_uint_t                  i;
    ngx_str_t                  *id;
    ngx_http_es_store_sh_t     *sh;
    ngx_http_es_redis_reply_t  *stream, *entries, *entry, *fields;

    if (ngx_http_es_feed_failed(feed, reply, "XREAD") != NGX_OK) {
        return;
    }

    sh = feed->store->sh;

    if (reply->type == NGX_HTTP_ES_REDIS_ARRAY) {
        if (reply->nelts != 1
            || (stream = reply->elts[0])->type != NGX_HTTP_ES_REDIS_ARRAY
            || stream->nelts != 2
            || (entries = stream->elts[1])->type != NGX_HTTP_ES_REDIS_ARRAY)
        {
            goto wrong;
        }

        for (i = 0; i < entries->nelts; i++) {
            entry = entries->elts[i];

            if (entry->type != NGX_HTTP_ES_REDIS_ARRAY || entry->nelts != 2
                || entry->elts[0]->type != NGX_HTTP_ES_REDIS_STRING
                || entry->elts[0]->str.len >= NGX_HTTP_ES_FEED_ID_MAX
                || (fields = entry->elts[1])->type != NGX_HTTP_ES_REDIS_ARRAY)
            {
                goto wrong;
            }

            if (fields->nelts == 2
                && fields->elts[1]->type == NGX_HTTP_ES_REDIS_STRING)
            {
                ngx_http_es_feed_apply(feed, &fields->elts[1]->str);
            }

            id = &entry->elts[0]->str;

            ngx_memcpy(sh->feed_id, id->data, id->len);
            sh->feed_id_len = id->len;
        }
    }

    sh->feed_seen = ngx_current_msec;

    ngx_http_es_feed_next(feed);
    return;

wrong:

    ngx_http_es_feed_wrong(feed, "XREAD");
}


/* a reply of a shape this module does not send for: later, from the top */

static void
ngx_http_es_feed_wrong(ngx_http_es_store_feed_t *feed, const char *what)
{
    ngx_log_error(NGX_LOG_ERR, feed->retry.log, 0,
                  "embed_session store \"%V\": backend \"%V\" answered %s "
                  "wrongly", &feed->store->name,
                  &feed->store->backend->name, what);

    feed->resync = 0;
    feed->checked = 0;

    if (!feed->retry.timer_set) {
        ngx_add_timer(&feed->retry, NGX_HTTP_ES_FEED_RETRY);
    }
}


static void
ngx_http_es_feed_apply(ngx_http_es_store_feed_t *feed, ngx_str_t *value)
{
    u_char                   *payload;
    uint32_t                  version;
    ngx_http_es_store_rec_t   rec;

    if (ngx_http_es_backend_decode(value, &rec, &payload, &version)
        != NGX_OK)
    {
        ngx_log_error(NGX_LOG_ERR, feed->retry.log, 0,
                      "embed_session store \"%V\": backend \"%V\" holds a "
                      "damaged record: skipped", &feed->store->name,
                      &feed->store->backend->name);
        return;
    }

    (void) ngx_http_es_store_apply(feed->store, &rec, payload, version,
                                   feed->retry.log);
}


/* stream ids, "MS-SEQ": -1, 0, 1 */

static ngx_int_t
ngx_http_es_feed_id_cmp(u_char *a, size_t alen, u_char *b, size_t blen)
{
    u_char    *ad, *bd;
    uint64_t   am, as, bm, bs;

    ad = ngx_strlchr(a, a + alen, '-');
    bd = ngx_strlchr(b, b + blen, '-');

    if (ad == NULL || bd == NULL) {
        return 1;
    }

    am = ngx_atoof(a, ad - a);
    as = ngx_atoof(ad + 1, a + alen - ad - 1);
    bm = ngx_atoof(b, bd - b);
    bs = ngx_atoof(bd + 1, b + blen - bd - 1);

    if (am != bm) {
        return am < bm ? -1 : 1;
    }

    return (as == bs) ? 0 : (as < bs ? -1 : 1);
}
