
/*
 * Copyright (C) The ngx_http_embed_session_module authors
 *
 * Redis servers: in each worker one connection per named server (the
 * embed_session_redis directive is redis_conf.c's), made and driven by
 * nginx's own event loop (ngx_event_connect_peer, timers), never
 * blocking.  Commands wait in
 * a queue with a callback each and one timer for the oldest; a connection
 * is declared up once AUTH, SELECT and PING have answered, is asked PING
 * again whenever it has been idle for ping=, and is closed and made
 * again, with a growing delay, on a timeout or a bad reply.
 * hiredis is used for RESP2 only: its reply reader, fed the bytes this
 * file reads, and its command formatter; this is the one file that
 * includes it (tools/check-includes).
 */


#include "ngx_http_embed_session_module.h"
#include "ngx_http_embed_session_jws.h"
#include "ngx_http_embed_session_redis.h"

#include <ngx_sha1.h>

#if (NGX_HAVE_HIREDIS)
#include <hiredis/hiredis.h>
#endif


/*
 * The largest reply: its strings and elements counted as they are read,
 * and the bytes of an element not read whole yet.  A reply over it is a
 * protocol error, so that a server (or whatever answers on its port)
 * cannot make a worker allocate without end.
 */
#define NGX_HTTP_ES_REDIS_REPLY_MAX   (1024 * 1024)
#define NGX_HTTP_ES_REDIS_ELTS_MAX    65536

/*
 * The delay before a new connection: doubled after each failure, and up
 * to a quarter of it taken off at random
 */
#define NGX_HTTP_ES_REDIS_BACKOFF_MIN 200
#define NGX_HTTP_ES_REDIS_BACKOFF_MAX 5000

/*
 * The commands of one pass of the event loop are written together, from
 * a buffer of this size: one write, and one read on the server's side
 */
#define NGX_HTTP_ES_REDIS_OUT_SIZE    16384


#if (NGX_HAVE_HIREDIS)

/* a connection's state */

#define NGX_HTTP_ES_REDIS_OFF         0     /* waiting for the next try */
#define NGX_HTTP_ES_REDIS_CONNECTING  1     /* connect() in progress */
#define NGX_HTTP_ES_REDIS_HANDSHAKE   2     /* AUTH, SELECT, PING sent */
#define NGX_HTTP_ES_REDIS_UP          3

/* the handshake's commands not answered yet, answered in this order */

#define NGX_HTTP_ES_REDIS_AUTH        0x01
#define NGX_HTTP_ES_REDIS_SELECT      0x02
#define NGX_HTTP_ES_REDIS_PING        0x04
#define NGX_HTTP_ES_REDIS_ROLE        0x08      /* sentinel=: a master? */
#define NGX_HTTP_ES_REDIS_SCRIPTS     0x10      /* SCRIPT LOAD, each */

#define NGX_HTTP_ES_REDIS_SCRIPTS_MAX 8


typedef struct {
    ngx_queue_t                     queue;
    ngx_http_es_redis_handler_pt    handler;
    void                           *data;
    char                           *out;        /* hiredis's, formatted */
    size_t                          len;
    size_t                          sent;
    ngx_msec_t                      deadline;
    ngx_uint_t                      expect;
} ngx_http_es_redis_cmd_t;


struct ngx_http_es_redis_conn_s {
    ngx_http_es_redis_t            *conf;
    ngx_peer_connection_t           peer;
    redisReader                    *reader;
    ngx_uint_t                      state;
    ngx_uint_t                      handshake;
    ngx_queue_t                     unsent;     /* not written whole yet */
    ngx_queue_t                     sent;       /* waiting for a reply */
    ngx_queue_t                     free;
    ngx_uint_t                      waiting;    /* unsent and sent */
    u_char                         *out;        /* commands being written */
    size_t                          out_pos;
    size_t                          out_len;
    ngx_event_t                     timer;      /* connect, oldest command */
    ngx_event_t                     retry;
    ngx_event_t                     ping;       /* while up and idle */
    ngx_msec_t                      backoff;
    size_t                          reply_size; /* of the reply being read */
    ngx_uint_t                      too_large;  /* it went over the cap */
    ngx_http_es_redis_stats_t      *stats;      /* NULL: no status zone */
    ngx_http_es_redis_stats_t       local;      /* counted there instead */
    ngx_log_t                       log;        /* names the server */

    ngx_uint_t                      loading;    /* SCRIPT LOADs unanswered */

    /* sentinel=: the sentinel asked next, and the master it named */
    ngx_uint_t                      sentinel;
    ngx_uint_t                      asking;     /* connected to a sentinel */
    ngx_uint_t                      found;      /* master_addr is current */
    ngx_addr_t                      master_addr;
    u_char                          master_sa[NGX_SOCKADDRLEN];
    u_char                          master_text[NGX_SOCKADDR_STRLEN];
};


static void ngx_http_es_redis_connect(ngx_http_es_redis_conn_t *conn);
static void ngx_http_es_redis_connected(ngx_http_es_redis_conn_t *conn);
static void ngx_http_es_redis_handshake(ngx_http_es_redis_reply_t *reply,
    void *data);
static void ngx_http_es_redis_sentinel(ngx_http_es_redis_reply_t *reply,
    void *data);
static void ngx_http_es_redis_wake(ngx_http_es_redis_conn_t *conn);
#if (NGX_SSL)
static void ngx_http_es_redis_tls(ngx_http_es_redis_conn_t *conn);
static void ngx_http_es_redis_tls_done(ngx_connection_t *c);
#endif
static void ngx_http_es_redis_ping_handler(ngx_event_t *ev);
static void ngx_http_es_redis_ping_done(ngx_http_es_redis_reply_t *reply,
    void *data);
static ngx_int_t ngx_http_es_redis_pong(ngx_http_es_redis_conn_t *conn,
    ngx_http_es_redis_reply_t *reply);
static void ngx_http_es_redis_refused(ngx_http_es_redis_conn_t *conn,
    const char *name, ngx_http_es_redis_reply_t *reply);
static void ngx_http_es_redis_close(ngx_http_es_redis_conn_t *conn,
    ngx_uint_t oldest, ngx_uint_t retry);
static void ngx_http_es_redis_fail(ngx_http_es_redis_conn_t *conn,
    ngx_uint_t oldest);
static void ngx_http_es_redis_retry_handler(ngx_event_t *ev);
static void ngx_http_es_redis_timer_handler(ngx_event_t *ev);
static void ngx_http_es_redis_write_handler(ngx_event_t *wev);
static void ngx_http_es_redis_read_handler(ngx_event_t *rev);
static ngx_int_t ngx_http_es_redis_test_connect(ngx_connection_t *c);
static ngx_int_t ngx_http_es_redis_push(ngx_http_es_redis_conn_t *conn,
    ngx_uint_t argc, ngx_str_t *argv, ngx_uint_t expect,
    ngx_http_es_redis_handler_pt handler, void *data);
static ngx_int_t ngx_http_es_redis_send(ngx_http_es_redis_conn_t *conn);
static void ngx_http_es_redis_fill(ngx_http_es_redis_conn_t *conn);
static ngx_int_t ngx_http_es_redis_replies(ngx_http_es_redis_conn_t *conn);
static ngx_int_t ngx_http_es_redis_dispatch(ngx_http_es_redis_conn_t *conn,
    ngx_http_es_redis_reply_t *reply);
static void ngx_http_es_redis_arm(ngx_http_es_redis_conn_t *conn);
static void ngx_http_es_redis_protocol(ngx_http_es_redis_conn_t *conn,
    const char *what, ngx_str_t *text);
static u_char *ngx_http_es_redis_log_handler(ngx_log_t *log, u_char *buf,
    size_t len);
static const char *ngx_http_es_redis_type_name(ngx_uint_t type);
static ngx_uint_t ngx_http_es_redis_holds(ngx_str_t *text,
    ngx_str_t *secret);

static void *ngx_http_es_redis_reply_new(const redisReadTask *task,
    ngx_uint_t type, size_t extra);
static void *ngx_http_es_redis_string(const redisReadTask *task, char *str,
    size_t len);
static void *ngx_http_es_redis_array(const redisReadTask *task,
    int elements);
static void *ngx_http_es_redis_integer(const redisReadTask *task,
    long long value);
static void *ngx_http_es_redis_nil(const redisReadTask *task);
static void ngx_http_es_redis_reply_free(void *obj);


/* hiredis's reader builds replies of our own type, counted as they grow */

static redisReplyObjectFunctions  ngx_http_es_redis_functions = {
    ngx_http_es_redis_string,
    ngx_http_es_redis_array,
    ngx_http_es_redis_integer,
    ngx_http_es_redis_nil,
    ngx_http_es_redis_reply_free
};

/* the scripts loaded on every connection, run by their digest */

static ngx_http_es_redis_script_t  *ngx_http_es_redis_scripts[
                                                NGX_HTTP_ES_REDIS_SCRIPTS_MAX];
static ngx_uint_t                   ngx_http_es_redis_nscripts;

static ngx_http_es_redis_reply_t  ngx_http_es_redis_timeout_reply = {
    NGX_HTTP_ES_REDIS_TIMEOUT, ngx_null_string, 0, 0, NULL
};

static ngx_http_es_redis_reply_t  ngx_http_es_redis_down_reply = {
    NGX_HTTP_ES_REDIS_DOWN, ngx_null_string, 0, 0, NULL
};

#endif /* NGX_HAVE_HIREDIS */


#if (NGX_HAVE_HIREDIS)

/* the slot of a name, taken when it has none */

static ngx_http_es_redis_stats_t *
ngx_http_es_redis_slot(ngx_http_es_main_conf_t *emcf, ngx_str_t *name)
{
    ngx_uint_t                  i;
    ngx_slab_pool_t            *shpool;
    ngx_http_es_metrics_t      *metrics;
    ngx_http_es_redis_stats_t  *st;

    if (emcf->metrics == NULL || emcf->metrics->data == NULL) {
        return NULL;
    }

    metrics = emcf->metrics->data;
    shpool = (ngx_slab_pool_t *) emcf->metrics->shm.addr;

    ngx_shmtx_lock(&shpool->mutex);

    st = ngx_http_es_redis_stats(metrics, name);

    for (i = 0; st == NULL && i < NGX_HTTP_ES_REDIS_SLOTS; i++) {
        if (metrics->redis[i].len == 0) {
            st = &metrics->redis[i];
            ngx_memcpy(st->name, name->data, name->len);
            ngx_memory_barrier();
            st->len = name->len;
        }
    }

    ngx_shmtx_unlock(&shpool->mutex);

    return st;
}


ngx_int_t
ngx_http_es_redis_init_process(ngx_cycle_t *cycle)
{
    ngx_uint_t                 i;
    ngx_http_es_redis_t      **rdp;
    ngx_http_es_main_conf_t   *emcf;
    ngx_http_es_redis_conn_t  *conn;

    if (ngx_process != NGX_PROCESS_WORKER
        && ngx_process != NGX_PROCESS_SINGLE)
    {
        return NGX_OK;
    }

    emcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_embed_session_module);

    if (emcf == NULL || emcf->redis == NULL) {
        return NGX_OK;
    }

    rdp = emcf->redis->elts;

    for (i = 0; i < emcf->redis->nelts; i++) {
        if (rdp[i]->worker != -1
            && ngx_process == NGX_PROCESS_WORKER
            && rdp[i]->worker != (ngx_int_t) ngx_worker)
        {
            continue;
        }

        conn = ngx_pcalloc(cycle->pool, sizeof(ngx_http_es_redis_conn_t));
        if (conn == NULL) {
            return NGX_ERROR;
        }

        conn->conf = rdp[i];
        rdp[i]->conn = conn;

        conn->out = ngx_palloc(cycle->pool, NGX_HTTP_ES_REDIS_OUT_SIZE);
        if (conn->out == NULL) {
            return NGX_ERROR;
        }

        ngx_queue_init(&conn->unsent);
        ngx_queue_init(&conn->sent);
        ngx_queue_init(&conn->free);

        conn->log = *cycle->log;
        conn->log.handler = ngx_http_es_redis_log_handler;
        conn->log.data = conn;

        conn->timer.handler = ngx_http_es_redis_timer_handler;
        conn->timer.data = conn;
        conn->timer.log = &conn->log;
        conn->timer.cancelable = 1;

        conn->retry.handler = ngx_http_es_redis_retry_handler;
        conn->retry.data = conn;
        conn->retry.log = &conn->log;
        conn->retry.cancelable = 1;

        conn->ping.handler = ngx_http_es_redis_ping_handler;
        conn->ping.data = conn;
        conn->ping.log = &conn->log;
        conn->ping.cancelable = 1;

        conn->backoff = NGX_HTTP_ES_REDIS_BACKOFF_MIN;

        conn->stats = ngx_http_es_redis_slot(emcf, &rdp[i]->name);
        if (conn->stats == NULL) {
            conn->stats = &conn->local;
        }

        ngx_http_es_redis_connect(conn);
    }

    return NGX_OK;
}


void
ngx_http_es_redis_exit_process(ngx_cycle_t *cycle)
{
    ngx_uint_t                 i;
    ngx_http_es_redis_t      **rdp;
    ngx_http_es_main_conf_t   *emcf;

    emcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_embed_session_module);

    if (emcf == NULL || emcf->redis == NULL) {
        return;
    }

    rdp = emcf->redis->elts;

    for (i = 0; i < emcf->redis->nelts; i++) {
        if (rdp[i]->conn) {
            ngx_http_es_redis_close(rdp[i]->conn, NGX_HTTP_ES_REDIS_DOWN, 0);
        }
    }
}


static void
ngx_http_es_redis_connect(ngx_http_es_redis_conn_t *conn)
{
    ngx_int_t              rc;
    ngx_addr_t            *addr;
    ngx_connection_t      *c;
    ngx_http_es_redis_t   *rd;

    rd = conn->conf;

    ngx_memzero(&conn->peer, sizeof(ngx_peer_connection_t));

    conn->peer.sockaddr = rd->addr.sockaddr;
    conn->peer.socklen = rd->addr.socklen;
    conn->peer.name = &rd->server;

    /* sentinel=: the master a sentinel named, else a sentinel to ask */

    conn->asking = 0;

    if (rd->sentinels && conn->found) {
        conn->peer.sockaddr = conn->master_addr.sockaddr;
        conn->peer.socklen = conn->master_addr.socklen;
        conn->peer.name = &conn->master_addr.name;

    } else if (rd->sentinels) {
        addr = rd->sentinels->elts;
        addr = &addr[conn->sentinel % rd->sentinels->nelts];

        conn->asking = 1;
        conn->peer.sockaddr = addr->sockaddr;
        conn->peer.socklen = addr->socklen;
        conn->peer.name = &addr->name;
    }
    conn->peer.get = ngx_event_get_peer;
    conn->peer.log = &conn->log;
    conn->peer.log_error = NGX_ERROR_ERR;

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, &conn->log, 0,
                   "embed_session redis: connect");

    rc = ngx_event_connect_peer(&conn->peer);

    if (rc == NGX_ERROR || rc == NGX_BUSY || rc == NGX_DECLINED) {
        conn->peer.connection = NULL;
        ngx_http_es_redis_fail(conn, NGX_HTTP_ES_REDIS_DOWN);
        return;
    }

    c = conn->peer.connection;

    c->data = conn;
    c->read->handler = ngx_http_es_redis_read_handler;
    c->write->handler = ngx_http_es_redis_write_handler;
    c->log = &conn->log;
    c->read->log = c->log;
    c->write->log = c->log;
    c->idle = 1;        /* closed at a graceful exit when nothing waits */

    conn->reader = redisReaderCreateWithFunctions(&ngx_http_es_redis_functions);
    if (conn->reader == NULL) {
        ngx_log_error(NGX_LOG_ALERT, &conn->log, 0,
                      "redisReaderCreateWithFunctions() failed");
        ngx_http_es_redis_fail(conn, NGX_HTTP_ES_REDIS_DOWN);
        return;
    }

    conn->reader->privdata = conn;
    conn->reply_size = 0;
    conn->too_large = 0;

    if (rc == NGX_AGAIN) {
        conn->state = NGX_HTTP_ES_REDIS_CONNECTING;
        ngx_add_timer(&conn->timer, rd->connect_timeout);
        return;
    }

    ngx_http_es_redis_connected(conn);
}


/* connected: AUTH, SELECT and PING, and the answer to PING says up */

static void
ngx_http_es_redis_connected(ngx_http_es_redis_conn_t *conn)
{
    ngx_str_t              argv[3];
    ngx_uint_t             n;
    ngx_http_es_redis_t   *rd;
    u_char                 db[NGX_INT_T_LEN];

    rd = conn->conf;

#if (NGX_SSL)

    /* tls=on: TLS first, and the commands once it is up */

    if (rd->ssl && conn->peer.connection->ssl == NULL) {
        ngx_http_es_redis_tls(conn);
        return;
    }

#endif

    conn->state = NGX_HTTP_ES_REDIS_HANDSHAKE;
    conn->handshake = NGX_HTTP_ES_REDIS_PING;

    if (conn->timer.timer_set) {
        ngx_del_timer(&conn->timer);
    }

    if (conn->asking) {

        /* sentinel_password_file=: AUTH first, answered by the handshake */

        if (rd->sentinel_password.len) {
            ngx_str_set(&argv[0], "AUTH");
            n = 1;

            if (rd->sentinel_user.len) {
                argv[n++] = rd->sentinel_user;
            }

            argv[n++] = rd->sentinel_password;
            conn->handshake |= NGX_HTTP_ES_REDIS_AUTH;

            if (ngx_http_es_redis_push(conn, n, argv,
                                       NGX_HTTP_ES_REDIS_STATUS,
                                       ngx_http_es_redis_handshake, conn)
                != NGX_OK)
            {
                goto failed;
            }
        }

        ngx_str_set(&argv[0], "SENTINEL");
        ngx_str_set(&argv[1], "get-master-addr-by-name");
        argv[2] = rd->master;

        if (ngx_http_es_redis_push(conn, 3, argv,
                                   NGX_HTTP_ES_REDIS_ARRAY
                                   |NGX_HTTP_ES_REDIS_NIL,
                                   ngx_http_es_redis_sentinel, conn)
            != NGX_OK
            || ngx_http_es_redis_send(conn) != NGX_OK)
        {
            goto failed;
        }

        return;
    }

    if (rd->password.len) {
        ngx_str_set(&argv[0], "AUTH");
        n = 1;

        if (rd->user.len) {
            argv[n++] = rd->user;
        }

        argv[n++] = rd->password;
        conn->handshake |= NGX_HTTP_ES_REDIS_AUTH;

        if (ngx_http_es_redis_push(conn, n, argv, NGX_HTTP_ES_REDIS_STATUS,
                                   ngx_http_es_redis_handshake, conn)
            != NGX_OK)
        {
            goto failed;
        }
    }

    if (rd->db) {
        ngx_str_set(&argv[0], "SELECT");
        argv[1].data = db;
        argv[1].len = ngx_sprintf(db, "%ui", rd->db) - db;
        conn->handshake |= NGX_HTTP_ES_REDIS_SELECT;

        if (ngx_http_es_redis_push(conn, 2, argv, NGX_HTTP_ES_REDIS_STATUS,
                                   ngx_http_es_redis_handshake, conn)
            != NGX_OK)
        {
            goto failed;
        }
    }

    /* the scripts, so that commands may run them by their digest */

    ngx_str_set(&argv[0], "SCRIPT");
    ngx_str_set(&argv[1], "LOAD");

    conn->loading = ngx_http_es_redis_nscripts;

    if (conn->loading) {
        conn->handshake |= NGX_HTTP_ES_REDIS_SCRIPTS;
    }

    for (n = 0; n < ngx_http_es_redis_nscripts; n++) {
        argv[2] = ngx_http_es_redis_scripts[n]->text;

        if (ngx_http_es_redis_push(conn, 3, argv, NGX_HTTP_ES_REDIS_STRING,
                                   ngx_http_es_redis_handshake, conn)
            != NGX_OK)
        {
            goto failed;
        }
    }

    /* a sentinel may name an old master for a while: it must say so */

    if (rd->sentinels) {
        ngx_str_set(&argv[0], "ROLE");
        conn->handshake |= NGX_HTTP_ES_REDIS_ROLE;

        if (ngx_http_es_redis_push(conn, 1, argv, NGX_HTTP_ES_REDIS_ARRAY,
                                   ngx_http_es_redis_handshake, conn)
            != NGX_OK)
        {
            goto failed;
        }
    }

    ngx_str_set(&argv[0], "PING");

    if (ngx_http_es_redis_push(conn, 1, argv, NGX_HTTP_ES_REDIS_STATUS,
                               ngx_http_es_redis_handshake, conn)
        != NGX_OK)
    {
        goto failed;
    }

    if (ngx_http_es_redis_send(conn) != NGX_OK) {
        goto failed;
    }

    return;

failed:

    ngx_http_es_redis_fail(conn, NGX_HTTP_ES_REDIS_DOWN);
}


#if (NGX_SSL)

/* the TLS handshake, under connect_timeout= */

static void
ngx_http_es_redis_tls(ngx_http_es_redis_conn_t *conn)
{
    ngx_int_t          rc;
    ngx_connection_t  *c;

    c = conn->peer.connection;

    /* the TLS connection's memory: a pool of the connection's own */

    c->pool = ngx_create_pool(512, &conn->log);
    if (c->pool == NULL) {
        ngx_http_es_redis_fail(conn, NGX_HTTP_ES_REDIS_DOWN);
        return;
    }

    if (ngx_ssl_create_connection(conn->conf->ssl, c,
                                  NGX_SSL_BUFFER|NGX_SSL_CLIENT)
        != NGX_OK)
    {
        ngx_http_es_redis_fail(conn, NGX_HTTP_ES_REDIS_DOWN);
        return;
    }

    c->sendfile = 0;

    /* the name, for a server or a proxy that serves several (SNI) */

    if (conn->conf->tls_name.len
        && ngx_http_es_jws_tls_name(c->ssl->connection,
                                    (const char *) conn->conf->tls_name.data)
           != 0)
    {
        ngx_log_error(NGX_LOG_ERR, &conn->log, 0,
                      "the TLS name \"%V\" could not be set",
                      &conn->conf->tls_name);
        ngx_http_es_redis_fail(conn, NGX_HTTP_ES_REDIS_DOWN);
        return;
    }

    rc = ngx_ssl_handshake(c);

    if (rc == NGX_AGAIN) {
        if (!conn->timer.timer_set) {
            ngx_add_timer(&conn->timer, conn->conf->connect_timeout);
        }

        c->ssl->handler = ngx_http_es_redis_tls_done;
        return;
    }

    ngx_http_es_redis_tls_done(c);
}


/* the chain verified and the name held (tls_verify=on), then the commands */

static void
ngx_http_es_redis_tls_done(ngx_connection_t *c)
{
    long                       rc;
    const char                *err;
    ngx_http_es_redis_t       *rd;
    ngx_http_es_redis_conn_t  *conn;

    conn = c->data;
    rd = conn->conf;

    if (!c->ssl->handshaked) {
        ngx_log_error(NGX_LOG_ERR, &conn->log, 0, "the TLS handshake failed");
        ngx_http_es_redis_fail(conn, NGX_HTTP_ES_REDIS_DOWN);
        return;
    }

    if (rd->tls_verify) {
        rc = ngx_http_es_jws_tls_verified(c->ssl->connection, &err);

        if (rc != 0) {
            ngx_log_error(NGX_LOG_ERR, &conn->log, 0,
                          "the server's certificate did not verify: "
                          "(%l:%s)", rc, err);
            ngx_http_es_redis_fail(conn, NGX_HTTP_ES_REDIS_DOWN);
            return;
        }

        if (ngx_ssl_check_host(c, &rd->tls_name) != NGX_OK) {
            ngx_log_error(NGX_LOG_ERR, &conn->log, 0,
                          "the server's certificate does not hold the name "
                          "\"%V\" (tls_name=)", &rd->tls_name);
            ngx_http_es_redis_fail(conn, NGX_HTTP_ES_REDIS_DOWN);
            return;
        }
    }

    c->read->handler = ngx_http_es_redis_read_handler;
    c->write->handler = ngx_http_es_redis_write_handler;

    ngx_http_es_redis_connected(conn);
}

#endif


/* the answers to AUTH, SELECT and PING, in the order they were sent */

static void
ngx_http_es_redis_handshake(ngx_http_es_redis_reply_t *reply, void *data)
{
    ngx_http_es_redis_conn_t *conn = data;

    ngx_uint_t   step;
    const char  *name;

    if (reply->type & (NGX_HTTP_ES_REDIS_TIMEOUT|NGX_HTTP_ES_REDIS_DOWN)) {
        return;     /* logged and counted where the connection closed */
    }

    if (conn->handshake & NGX_HTTP_ES_REDIS_AUTH) {
        step = NGX_HTTP_ES_REDIS_AUTH;
        name = "AUTH";

    } else if (conn->handshake & NGX_HTTP_ES_REDIS_SELECT) {
        step = NGX_HTTP_ES_REDIS_SELECT;
        name = "SELECT";

    } else if (conn->handshake & NGX_HTTP_ES_REDIS_SCRIPTS) {
        step = NGX_HTTP_ES_REDIS_SCRIPTS;
        name = "SCRIPT LOAD";

    } else if (conn->handshake & NGX_HTTP_ES_REDIS_ROLE) {
        step = NGX_HTTP_ES_REDIS_ROLE;
        name = "ROLE";

    } else {
        step = NGX_HTTP_ES_REDIS_PING;
        name = "PING";
    }

    if (step != NGX_HTTP_ES_REDIS_SCRIPTS || --conn->loading == 0) {
        conn->handshake &= ~step;
    }

    if (reply->type == NGX_HTTP_ES_REDIS_ERROR) {
        ngx_http_es_redis_refused(conn, name, reply);
        return;
    }

    if (step == NGX_HTTP_ES_REDIS_SCRIPTS) {
        return;     /* the digest is known: it is the script's SHA-1 */
    }

    if (step == NGX_HTTP_ES_REDIS_ROLE
        && (reply->nelts == 0
            || reply->elts[0]->type != NGX_HTTP_ES_REDIS_STRING
            || reply->elts[0]->str.len != 6
            || ngx_strncmp(reply->elts[0]->str.data, "master", 6) != 0))
    {
        ngx_log_error(NGX_LOG_ERR, &conn->log, 0,
                      "the server the sentinels named is not a master "
                      "(yet): asking them again");
        ngx_http_es_redis_fail(conn, NGX_HTTP_ES_REDIS_DOWN);
        return;
    }

    if (step != NGX_HTTP_ES_REDIS_PING
        || ngx_http_es_redis_pong(conn, reply) != NGX_OK)
    {
        return;
    }

    conn->state = NGX_HTTP_ES_REDIS_UP;
    conn->backoff = NGX_HTTP_ES_REDIS_BACKOFF_MIN;

    (void) ngx_atomic_fetch_add(&conn->stats->connects, 1);
    conn->stats->up = 1;

    ngx_add_timer(&conn->ping, conn->conf->ping);

    ngx_log_error(NGX_LOG_INFO, &conn->log, 0, "connection up");

    ngx_http_es_redis_wake(conn);

    if (conn->conf->up) {
        conn->conf->up(conn->conf->up_data);
    }
}


/*
 * A server that answers again: the worker's other connections to it that
 * wait out their delay (a feed's, say) try at once
 */

static void
ngx_http_es_redis_wake(ngx_http_es_redis_conn_t *conn)
{
    ngx_uint_t                 i;
    ngx_http_es_redis_t      **rdp, *origin;
    ngx_http_es_main_conf_t   *emcf;
    ngx_http_es_redis_conn_t  *other;

    emcf = ngx_http_cycle_get_module_main_conf(ngx_cycle,
                                               ngx_http_embed_session_module);

    origin = conn->conf->origin ? conn->conf->origin : conn->conf;
    rdp = emcf->redis->elts;

    for (i = 0; i < emcf->redis->nelts; i++) {
        other = rdp[i]->conn;

        if (other == NULL || other == conn
            || (rdp[i]->origin ? rdp[i]->origin : rdp[i]) != origin
            || other->state != NGX_HTTP_ES_REDIS_OFF
            || !other->retry.timer_set)
        {
            continue;
        }

        other->backoff = NGX_HTTP_ES_REDIS_BACKOFF_MIN;

        ngx_del_timer(&other->retry);
        ngx_add_timer(&other->retry, 1);
    }
}


/* an idle connection that is up is asked PING every ping= */

static void
ngx_http_es_redis_ping_handler(ngx_event_t *ev)
{
    ngx_http_es_redis_conn_t *conn = ev->data;

    ngx_str_t  argv[1];

    if (conn->state != NGX_HTTP_ES_REDIS_UP) {
        return;
    }

    if (conn->waiting == 0) {
        ngx_str_set(&argv[0], "PING");

        if (ngx_http_es_redis_call(conn->conf, 1, argv,
                                   NGX_HTTP_ES_REDIS_STATUS,
                                   ngx_http_es_redis_ping_done, conn)
            == NGX_ERROR)
        {
            ngx_http_es_redis_fail(conn, NGX_HTTP_ES_REDIS_DOWN);
            return;
        }
    }

    if (conn->state == NGX_HTTP_ES_REDIS_UP) {
        ngx_add_timer(&conn->ping, conn->conf->ping);
    }
}


static void
ngx_http_es_redis_ping_done(ngx_http_es_redis_reply_t *reply, void *data)
{
    ngx_http_es_redis_conn_t *conn = data;

    if (reply->type & (NGX_HTTP_ES_REDIS_TIMEOUT|NGX_HTTP_ES_REDIS_DOWN)) {
        return;
    }

    if (reply->type == NGX_HTTP_ES_REDIS_ERROR) {
        ngx_http_es_redis_refused(conn, "PING", reply);
        return;
    }

    (void) ngx_http_es_redis_pong(conn, reply);
}


/* "+PONG", or the connection closed as a protocol error */

static ngx_int_t
ngx_http_es_redis_pong(ngx_http_es_redis_conn_t *conn,
    ngx_http_es_redis_reply_t *reply)
{
    if (reply->str.len == 4 && ngx_strncmp(reply->str.data, "PONG", 4) == 0)
    {
        return NGX_OK;
    }

    ngx_http_es_redis_protocol(conn, "PING answered", &reply->str);

    return NGX_ERROR;
}


/* an error reply to one of our own commands: logged, the connection goes */

static void
ngx_http_es_redis_refused(ngx_http_es_redis_conn_t *conn, const char *name,
    ngx_http_es_redis_reply_t *reply)
{
    ngx_str_t  text;

    text = reply->str;
    text.len = ngx_min(text.len, NGX_HTTP_ES_LOG_TEXT_MAX);

    /* a server's message that would repeat the password is not shown */

    if (ngx_http_es_redis_holds(&reply->str, &conn->conf->password)
        || ngx_http_es_redis_holds(&reply->str,
                                   &conn->conf->sentinel_password))
    {
        ngx_str_set(&text, "(not shown: it holds the password)");
    }

    ngx_log_error(NGX_LOG_ERR, &conn->log, 0,
                  "the server refused %s: \"%V\"", name, &text);

    ngx_http_es_redis_fail(conn, NGX_HTTP_ES_REDIS_DOWN);
}


/*
 * A connection that failed before or after it was up: counted, closed,
 * and tried again later.  The oldest command's callback gets oldest
 * (TIMEOUT or DOWN), the others DOWN.
 */

static void
ngx_http_es_redis_fail(ngx_http_es_redis_conn_t *conn, ngx_uint_t oldest)
{
    if (conn->state != NGX_HTTP_ES_REDIS_UP) {
        (void) ngx_atomic_fetch_add(&conn->stats->failures, 1);
    }

    ngx_http_es_redis_close(conn, oldest, 1);
}


static void
ngx_http_es_redis_close(ngx_http_es_redis_conn_t *conn, ngx_uint_t oldest,
    ngx_uint_t retry)
{
    ngx_msec_t                  delay;
    ngx_pool_t                 *pool;
    ngx_queue_t                 failed, *q;
    ngx_http_es_redis_cmd_t    *cmd;
    ngx_http_es_redis_reply_t  *reply;

    conn->state = NGX_HTTP_ES_REDIS_OFF;
    conn->handshake = 0;

    /* sentinel=: the master is asked for again; a failed sentinel, next */

    if (retry && conn->conf->sentinels) {
        conn->sentinel += conn->asking;
        conn->found = 0;
    }

    /*
     * the last state is a failure's: a worker that exits (a reload) says
     * nothing of the server, and the new workers may already be up on it
     */

    if (retry) {
        conn->stats->up = 0;
    }

    if (conn->peer.connection) {

        pool = conn->peer.connection->pool;

#if (NGX_SSL)
        if (conn->peer.connection->ssl) {
            conn->peer.connection->ssl->no_wait_shutdown = 1;
            (void) ngx_ssl_shutdown(conn->peer.connection);
        }
#endif

        ngx_close_connection(conn->peer.connection);
        conn->peer.connection = NULL;

        if (pool) {
            ngx_destroy_pool(pool);
        }
    }

    if (conn->reader) {
        redisReaderFree(conn->reader);
        conn->reader = NULL;
    }

    /* what the old connection did not write: the commands fail below */

    ngx_explicit_memzero(conn->out, conn->out_len);
    conn->out_pos = 0;
    conn->out_len = 0;

    if (conn->timer.timer_set) {
        ngx_del_timer(&conn->timer);
    }

    if (conn->ping.timer_set) {
        ngx_del_timer(&conn->ping);
    }

    if (retry && !ngx_exiting && !ngx_terminate && !ngx_quit) {
        /* up to a quarter less, at random: workers do not retry together */

        delay = conn->backoff - ngx_random() % (conn->backoff / 4 + 1);
        conn->backoff = ngx_min(conn->backoff * 2,
                                NGX_HTTP_ES_REDIS_BACKOFF_MAX);

        ngx_log_error(NGX_LOG_ERR, &conn->log, 0,
                      "connection down, next try in %Mms", delay);

        ngx_add_timer(&conn->retry, delay);

    } else if (conn->retry.timer_set) {
        ngx_del_timer(&conn->retry);
    }

    /* the callbacks may send again: they find the connection off */

    ngx_queue_init(&failed);
    ngx_queue_add(&failed, &conn->sent);
    ngx_queue_add(&failed, &conn->unsent);
    ngx_queue_init(&conn->sent);
    ngx_queue_init(&conn->unsent);
    conn->waiting = 0;

    reply = (oldest == NGX_HTTP_ES_REDIS_TIMEOUT)
            ? &ngx_http_es_redis_timeout_reply
            : &ngx_http_es_redis_down_reply;

    while (!ngx_queue_empty(&failed)) {
        q = ngx_queue_head(&failed);
        ngx_queue_remove(q);
        cmd = ngx_queue_data(q, ngx_http_es_redis_cmd_t, queue);

        if (cmd->out) {
            ngx_explicit_memzero(cmd->out, cmd->len);
            redisFreeCommand(cmd->out);
            cmd->out = NULL;
        }

        ngx_queue_insert_tail(&conn->free, q);

        cmd->handler(reply, cmd->data);
        reply = &ngx_http_es_redis_down_reply;
    }
}


static void
ngx_http_es_redis_retry_handler(ngx_event_t *ev)
{
    ngx_http_es_redis_conn_t *conn = ev->data;

    if (ngx_exiting || ngx_terminate || ngx_quit) {
        return;
    }

    ngx_http_es_redis_connect(conn);
}


/* connect_timeout= while connecting, timeout= for the oldest command */

static void
ngx_http_es_redis_timer_handler(ngx_event_t *ev)
{
    ngx_http_es_redis_conn_t *conn = ev->data;

    (void) ngx_atomic_fetch_add(&conn->stats->timeouts, 1);

    if (conn->state == NGX_HTTP_ES_REDIS_CONNECTING) {
        ngx_log_error(NGX_LOG_ERR, &conn->log, NGX_ETIMEDOUT,
                      "connect() timed out after %Mms",
                      conn->conf->connect_timeout);

    } else {
        ngx_log_error(NGX_LOG_ERR, &conn->log, 0,
                      "no reply within %Mms%s", conn->conf->timeout,
                      conn->state == NGX_HTTP_ES_REDIS_UP
                      ? "" : " to the handshake");
    }

    ngx_http_es_redis_fail(conn, NGX_HTTP_ES_REDIS_TIMEOUT);
}


static void
ngx_http_es_redis_write_handler(ngx_event_t *wev)
{
    ngx_connection_t          *c;
    ngx_http_es_redis_conn_t  *conn;

    c = wev->data;
    conn = c->data;

    if (conn->state == NGX_HTTP_ES_REDIS_CONNECTING) {
        if (ngx_http_es_redis_test_connect(c) != NGX_OK) {
            ngx_http_es_redis_fail(conn, NGX_HTTP_ES_REDIS_DOWN);
            return;
        }

        ngx_http_es_redis_connected(conn);
        return;
    }

    if (ngx_http_es_redis_send(conn) != NGX_OK) {
        ngx_http_es_redis_fail(conn, NGX_HTTP_ES_REDIS_DOWN);
    }
}


static ngx_int_t
ngx_http_es_redis_test_connect(ngx_connection_t *c)
{
    int        err;
    socklen_t  len;

    err = 0;
    len = sizeof(int);

    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, (void *) &err, &len) == -1) {
        err = ngx_socket_errno;
    }

    if (err) {
        (void) ngx_connection_error(c, err, "connect() failed");
        return NGX_ERROR;
    }

    return NGX_OK;
}


static void
ngx_http_es_redis_read_handler(ngx_event_t *rev)
{
    ssize_t                    n;
    ngx_connection_t          *c;
    ngx_http_es_redis_conn_t  *conn;
    u_char                     buf[16384];

    c = rev->data;
    conn = c->data;

    if (c->close) {

        /* a graceful exit: closed now if nothing waits, else once drained */

        if (conn->waiting == 0) {
            ngx_http_es_redis_close(conn, NGX_HTTP_ES_REDIS_DOWN, 0);
            return;
        }

        c->close = 0;
    }

    if (conn->state == NGX_HTTP_ES_REDIS_CONNECTING) {
        ngx_http_es_redis_write_handler(c->write);
        return;
    }

    for ( ;; ) {
        n = c->recv(c, buf, sizeof(buf));

        if (n == NGX_AGAIN) {
            break;
        }

        if (n == 0) {

            /*
             * half a reply: bytes not taken yet, or an array with some
             * of its elements (hiredis 0.14 leaves ridx at 0, not -1,
             * after a GetReply that found nothing more)
             */

            if (conn->reader->len > conn->reader->pos
                || conn->reader->ridx > 0)
            {
                ngx_http_es_redis_protocol(conn, "the server closed the "
                                           "connection in the middle of a "
                                           "reply", NULL);
                return;
            }

            ngx_log_error(NGX_LOG_ERR, &conn->log, 0,
                          "the server closed the connection");
            ngx_http_es_redis_fail(conn, NGX_HTTP_ES_REDIS_DOWN);
            return;
        }

        if (n == NGX_ERROR) {
            ngx_http_es_redis_fail(conn, NGX_HTTP_ES_REDIS_DOWN);
            return;
        }

        if (redisReaderFeed(conn->reader, (char *) buf, n) != REDIS_OK) {
            ngx_http_es_redis_protocol(conn, "the reader failed", NULL);
            return;
        }

        if (ngx_http_es_redis_replies(conn) != NGX_OK) {
            return;
        }
    }

    if (ngx_handle_read_event(rev, 0) != NGX_OK) {
        ngx_http_es_redis_fail(conn, NGX_HTTP_ES_REDIS_DOWN);
        return;
    }

    if (ngx_exiting && conn->waiting == 0) {
        ngx_http_es_redis_close(conn, NGX_HTTP_ES_REDIS_DOWN, 0);
    }
}


/*
 * The replies the bytes read so far complete, each to the oldest command;
 * NGX_OK, or NGX_ERROR once the connection is closed.
 */

static ngx_int_t
ngx_http_es_redis_replies(ngx_http_es_redis_conn_t *conn)
{
    void         *obj;
    size_t        pending;
    ngx_str_t     text;
    redisReader  *reader;

    for ( ;; ) {
        reader = conn->reader;
        obj = NULL;

        if (redisReaderGetReply(reader, &obj) != REDIS_OK) {
            if (conn->too_large) {
                ngx_http_es_redis_protocol(conn, "a reply over the size "
                                           "limit", NULL);
                return NGX_ERROR;
            }

            text.data = (u_char *) reader->errstr;
            text.len = ngx_strlen(reader->errstr);

            ngx_http_es_redis_protocol(conn, "the reader failed", &text);
            return NGX_ERROR;
        }

        if (obj == NULL) {
            break;
        }

        conn->reply_size = 0;

        if (ngx_http_es_redis_dispatch(conn, obj) != NGX_OK) {
            return NGX_ERROR;
        }

        if (conn->state == NGX_HTTP_ES_REDIS_OFF) {
            return NGX_ERROR;       /* a callback closed the connection */
        }
    }

    /* what the reader holds of an element it could not finish */

    pending = reader->len - reader->pos;

    if (pending + conn->reply_size > NGX_HTTP_ES_REDIS_REPLY_MAX) {
        ngx_http_es_redis_protocol(conn, "a reply over the size limit",
                                   NULL);
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* a reply to the oldest command that waits for one */

static ngx_int_t
ngx_http_es_redis_dispatch(ngx_http_es_redis_conn_t *conn,
    ngx_http_es_redis_reply_t *reply)
{
    ngx_str_t                 text;
    ngx_queue_t              *q;
    ngx_http_es_redis_cmd_t  *cmd;

    if (ngx_queue_empty(&conn->sent)) {
        ngx_http_es_redis_reply_free(reply);
        ngx_http_es_redis_protocol(conn, "a reply to no command", NULL);
        return NGX_ERROR;
    }

    q = ngx_queue_head(&conn->sent);
    cmd = ngx_queue_data(q, ngx_http_es_redis_cmd_t, queue);

    if (!(reply->type & (cmd->expect|NGX_HTTP_ES_REDIS_ERROR))) {
        text.data = (u_char *) ngx_http_es_redis_type_name(reply->type);
        text.len = ngx_strlen(text.data);

        ngx_http_es_redis_reply_free(reply);
        ngx_http_es_redis_protocol(conn, "a reply of the wrong type", &text);
        return NGX_ERROR;
    }

    ngx_queue_remove(q);
    ngx_queue_insert_tail(&conn->free, q);
    conn->waiting--;

    ngx_http_es_redis_arm(conn);

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, &conn->log, 0,
                   "embed_session redis: a reply of type %s",
                   ngx_http_es_redis_type_name(reply->type));

    cmd->handler(reply, cmd->data);

    /*
     * a master that became a replica: made again, the sentinels asked; a
     * server that forgot the scripts (SCRIPT FLUSH, a restart behind a
     * proxy): made again, the scripts loaded
     */

    if (reply->type == NGX_HTTP_ES_REDIS_ERROR
        && reply->str.len >= 8
        && (ngx_strncmp(reply->str.data, "READONLY", 8) == 0
            || ngx_strncmp(reply->str.data, "NOSCRIPT", 8) == 0)
        && conn->state == NGX_HTTP_ES_REDIS_UP)
    {
        ngx_log_error(NGX_LOG_ERR, &conn->log, 0,
                      "the server %s: connecting again",
                      reply->str.data[0] == 'R' ? "is read-only now"
                                                : "forgot the scripts");
        ngx_http_es_redis_reply_free(reply);
        ngx_http_es_redis_fail(conn, NGX_HTTP_ES_REDIS_DOWN);
        return NGX_OK;
    }

    ngx_http_es_redis_reply_free(reply);

    return NGX_OK;
}


/*
 * A sentinel's answer: the master's address, connected to at once (from
 * a timer: the sentinel's connection is closed under its own reader)
 */

static void
ngx_http_es_redis_sentinel(ngx_http_es_redis_reply_t *reply, void *data)
{
    ngx_http_es_redis_conn_t *conn = data;

    size_t                      len;
    ngx_int_t                   port;
    ngx_addr_t                  addr;
    ngx_pool_t                 *pool;
    ngx_http_es_redis_reply_t  *ip, *pt;

    if (reply->type & (NGX_HTTP_ES_REDIS_TIMEOUT|NGX_HTTP_ES_REDIS_DOWN)) {
        return;
    }

    if (reply->type == NGX_HTTP_ES_REDIS_ERROR) {
        ngx_http_es_redis_refused(conn, "SENTINEL get-master-addr-by-name",
                                  reply);
        return;
    }

    if (reply->type == NGX_HTTP_ES_REDIS_NIL) {
        ngx_log_error(NGX_LOG_ERR, &conn->log, 0,
                      "the sentinel knows no master \"%V\"",
                      &conn->conf->master);
        ngx_http_es_redis_fail(conn, NGX_HTTP_ES_REDIS_DOWN);
        return;
    }

    if (reply->nelts != 2
        || (ip = reply->elts[0])->type != NGX_HTTP_ES_REDIS_STRING
        || (pt = reply->elts[1])->type != NGX_HTTP_ES_REDIS_STRING
        || (port = ngx_atoi(pt->str.data, pt->str.len)) < 1 || port > 65535)
    {
        ngx_http_es_redis_protocol(conn, "a sentinel's answer of the wrong "
                                   "shape", NULL);
        return;
    }

    pool = ngx_create_pool(512, &conn->log);
    if (pool == NULL) {
        ngx_http_es_redis_fail(conn, NGX_HTTP_ES_REDIS_DOWN);
        return;
    }

    if (ngx_parse_addr(pool, &addr, ip->str.data, ip->str.len) != NGX_OK
        || addr.socklen > NGX_SOCKADDRLEN)
    {
        ngx_destroy_pool(pool);
        ngx_http_es_redis_protocol(conn, "a sentinel's answer that is not "
                                   "an address", &ip->str);
        return;
    }

    ngx_memcpy(conn->master_sa, addr.sockaddr, addr.socklen);
    conn->master_addr.sockaddr = (struct sockaddr *) conn->master_sa;
    conn->master_addr.socklen = addr.socklen;
    ngx_inet_set_port(conn->master_addr.sockaddr, (in_port_t) port);

    ngx_destroy_pool(pool);

    len = ngx_sock_ntop(conn->master_addr.sockaddr, conn->master_addr.socklen,
                        conn->master_text, NGX_SOCKADDR_STRLEN, 1);
    conn->master_addr.name.data = conn->master_text;
    conn->master_addr.name.len = len;

    ngx_log_error(NGX_LOG_INFO, &conn->log, 0,
                  "the sentinels name %V as the master \"%V\"",
                  &conn->master_addr.name, &conn->conf->master);

    conn->found = 1;

    ngx_http_es_redis_close(conn, NGX_HTTP_ES_REDIS_DOWN, 0);
    ngx_add_timer(&conn->retry, 1);
}


/* the timer of the oldest command that waits, or none */

static void
ngx_http_es_redis_arm(ngx_http_es_redis_conn_t *conn)
{
    ngx_queue_t              *q;
    ngx_msec_int_t            left;
    ngx_http_es_redis_cmd_t  *cmd;

    if (conn->state == NGX_HTTP_ES_REDIS_CONNECTING) {
        return;
    }

    if (!ngx_queue_empty(&conn->sent)) {
        q = ngx_queue_head(&conn->sent);

    } else if (!ngx_queue_empty(&conn->unsent)) {
        q = ngx_queue_head(&conn->unsent);

    } else {
        if (conn->timer.timer_set) {
            ngx_del_timer(&conn->timer);
        }

        return;
    }

    cmd = ngx_queue_data(q, ngx_http_es_redis_cmd_t, queue);
    left = (ngx_msec_int_t) (cmd->deadline - ngx_current_msec);

    ngx_add_timer(&conn->timer, left > 0 ? (ngx_msec_t) left : 1);
}


/* a reply that cannot be trusted: the connection goes */

static void
ngx_http_es_redis_protocol(ngx_http_es_redis_conn_t *conn, const char *what,
    ngx_str_t *text)
{
    ngx_str_t  t;

    (void) ngx_atomic_fetch_add(&conn->stats->protocol_errors, 1);

    if (text) {
        t = *text;
        t.len = ngx_min(t.len, NGX_HTTP_ES_LOG_TEXT_MAX);

        ngx_log_error(NGX_LOG_ERR, &conn->log, 0,
                      "protocol error: %s: \"%V\"", what, &t);

    } else {
        ngx_log_error(NGX_LOG_ERR, &conn->log, 0,
                      "protocol error: %s", what);
    }

    ngx_http_es_redis_fail(conn, NGX_HTTP_ES_REDIS_DOWN);
}


ngx_uint_t
ngx_http_es_redis_is_up(ngx_http_es_redis_t *rd)
{
    return rd->conn && rd->conn->state == NGX_HTTP_ES_REDIS_UP;
}


/*
 * A script every connection loads, run with EVALSHA and its digest
 * (SHA-1, in hex); at configuration, before the workers connect
 */

ngx_int_t
ngx_http_es_redis_script(ngx_http_es_redis_script_t *script)
{
    ngx_uint_t  i;
    ngx_sha1_t  sha1;
    u_char      md[20];

    for (i = 0; i < ngx_http_es_redis_nscripts; i++) {
        if (ngx_http_es_redis_scripts[i] == script) {
            return NGX_OK;
        }
    }

    if (ngx_http_es_redis_nscripts == NGX_HTTP_ES_REDIS_SCRIPTS_MAX) {
        return NGX_ERROR;
    }

    ngx_sha1_init(&sha1);
    ngx_sha1_update(&sha1, script->text.data, script->text.len);
    ngx_sha1_final(md, &sha1);

    ngx_hex_dump(script->sha, md, 20);

    ngx_http_es_redis_scripts[ngx_http_es_redis_nscripts++] = script;

    return NGX_OK;
}


/*
 * The wall-clock time (ms) after which a command sent now must not act:
 * when the node gives up on it (ngx_http_es_redis_left()), less a
 * quarter for the answer's way back.  Read from the clock, not the
 * cached time, which lags when the event loop is busy
 */

int64_t
ngx_http_es_redis_deadline(ngx_http_es_redis_t *rd)
{
    struct timeval  tv;

    ngx_gettimeofday(&tv);

    return (int64_t) tv.tv_sec * 1000 + tv.tv_usec / 1000
           + ngx_http_es_redis_left(rd) * 3 / 4;
}


/*
 * How long a command sent now may wait: its own timeout=, or less when
 * an older command's expires first, which closes the connection and fails
 * every command on it
 */

ngx_msec_t
ngx_http_es_redis_left(ngx_http_es_redis_t *rd)
{
    ngx_queue_t              *q;
    ngx_msec_int_t            left;
    ngx_http_es_redis_conn_t *conn;
    ngx_http_es_redis_cmd_t  *cmd;

    conn = rd->conn;

    if (conn == NULL) {
        return 0;
    }

    q = !ngx_queue_empty(&conn->sent) ? ngx_queue_head(&conn->sent)
        : !ngx_queue_empty(&conn->unsent) ? ngx_queue_head(&conn->unsent)
        : NULL;

    if (q == NULL) {
        return rd->timeout;
    }

    cmd = ngx_queue_data(q, ngx_http_es_redis_cmd_t, queue);
    left = (ngx_msec_int_t) (cmd->deadline - ngx_current_msec);

    return left > 0 ? (ngx_msec_t) left : 0;
}


ngx_int_t
ngx_http_es_redis_call(ngx_http_es_redis_t *rd, ngx_uint_t argc,
    ngx_str_t *argv, ngx_uint_t expect, ngx_http_es_redis_handler_pt handler,
    void *data)
{
    ngx_event_t               *wev;
    ngx_http_es_redis_conn_t  *conn;

    conn = rd->conn;

    if (conn == NULL || conn->state != NGX_HTTP_ES_REDIS_UP) {
        return NGX_DECLINED;
    }

    if (conn->waiting >= NGX_HTTP_ES_REDIS_QUEUE_MAX) {
        return NGX_DECLINED;
    }

    if (ngx_http_es_redis_push(conn, argc, argv, expect, handler, data)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    /*
     * written once the events of this pass of the event loop are handled,
     * with the other commands they made: the write handler, posted
     */

    wev = conn->peer.connection->write;

    if (!wev->posted) {
        ngx_post_event(wev, &ngx_posted_events);
    }

    return NGX_OK;
}


/* a command formatted and queued, its deadline set */

static ngx_int_t
ngx_http_es_redis_push(ngx_http_es_redis_conn_t *conn, ngx_uint_t argc,
    ngx_str_t *argv, ngx_uint_t expect, ngx_http_es_redis_handler_pt handler,
    void *data)
{
    int                       len;
    char                     *out;
    ngx_uint_t                i;
    ngx_queue_t              *q;
    ngx_http_es_redis_cmd_t  *cmd;
    size_t                    lens[NGX_HTTP_ES_REDIS_ARGS_MAX];
    const char               *args[NGX_HTTP_ES_REDIS_ARGS_MAX];

    if (argc == 0 || argc > NGX_HTTP_ES_REDIS_ARGS_MAX) {
        ngx_log_error(NGX_LOG_ALERT, &conn->log, 0,
                      "a command of %ui arguments", argc);
        return NGX_ERROR;
    }

    for (i = 0; i < argc; i++) {
        args[i] = (const char *) argv[i].data;
        lens[i] = argv[i].len;
    }

    len = redisFormatCommandArgv(&out, (int) argc, args, lens);

    if (len < 0) {
        ngx_log_error(NGX_LOG_ALERT, &conn->log, 0,
                      "redisFormatCommandArgv() failed");
        return NGX_ERROR;
    }

    if (!ngx_queue_empty(&conn->free)) {
        q = ngx_queue_head(&conn->free);
        ngx_queue_remove(q);
        cmd = ngx_queue_data(q, ngx_http_es_redis_cmd_t, queue);

    } else {
        cmd = ngx_palloc(ngx_cycle->pool, sizeof(ngx_http_es_redis_cmd_t));
        if (cmd == NULL) {
            ngx_explicit_memzero(out, len);
            redisFreeCommand(out);
            return NGX_ERROR;
        }
    }

    cmd->handler = handler;
    cmd->data = data;
    cmd->out = out;
    cmd->len = len;
    cmd->sent = 0;
    cmd->expect = expect;
    cmd->deadline = ngx_current_msec + conn->conf->timeout;

    ngx_queue_insert_tail(&conn->unsent, &cmd->queue);
    conn->waiting++;

    if (!conn->timer.timer_set) {
        ngx_add_timer(&conn->timer, conn->conf->timeout);
    }

    return NGX_OK;
}


/*
 * The queued commands written, as far as the socket takes them: copied
 * into the connection's buffer, which is written whole before it is
 * filled again, and wiped once written (AUTH's password)
 */

static ngx_int_t
ngx_http_es_redis_send(ngx_http_es_redis_conn_t *conn)
{
    ssize_t            n;
    ngx_connection_t  *c;

    c = conn->peer.connection;

    for ( ;; ) {

        if (conn->out_pos == conn->out_len) {
            ngx_explicit_memzero(conn->out, conn->out_len);
            conn->out_pos = 0;
            conn->out_len = 0;

            ngx_http_es_redis_fill(conn);

            if (conn->out_len == 0) {
                break;
            }
        }

        n = c->send(c, conn->out + conn->out_pos,
                    conn->out_len - conn->out_pos);

        if (n == NGX_ERROR) {
            return NGX_ERROR;
        }

        if (n == NGX_AGAIN) {
            break;
        }

        conn->out_pos += n;
    }

    if (ngx_handle_write_event(c->write, 0) != NGX_OK) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * The buffer filled from the queue: a command copied whole waits for its
 * reply from then on (it precedes in the stream every command after it)
 */

static void
ngx_http_es_redis_fill(ngx_http_es_redis_conn_t *conn)
{
    size_t                    n;
    ngx_queue_t              *q;
    ngx_http_es_redis_cmd_t  *cmd;

    while (!ngx_queue_empty(&conn->unsent)
           && conn->out_len < NGX_HTTP_ES_REDIS_OUT_SIZE)
    {
        q = ngx_queue_head(&conn->unsent);
        cmd = ngx_queue_data(q, ngx_http_es_redis_cmd_t, queue);

        n = ngx_min(cmd->len - cmd->sent,
                    NGX_HTTP_ES_REDIS_OUT_SIZE - conn->out_len);

        ngx_memcpy(conn->out + conn->out_len, cmd->out + cmd->sent, n);
        conn->out_len += n;
        cmd->sent += n;

        if (cmd->sent < cmd->len) {
            break;
        }

        ngx_explicit_memzero(cmd->out, cmd->len);
        redisFreeCommand(cmd->out);
        cmd->out = NULL;

        ngx_queue_remove(q);
        ngx_queue_insert_tail(&conn->sent, q);

        (void) ngx_atomic_fetch_add(&conn->stats->commands, 1);
    }
}


/* every line logged about a connection names its server */

static u_char *
ngx_http_es_redis_log_handler(ngx_log_t *log, u_char *buf, size_t len)
{
    ngx_http_es_redis_conn_t *conn = log->data;

    return ngx_snprintf(buf, len, ", embed_session_redis \"%V\" at %V",
                        &conn->conf->name,
                        conn->peer.name ? conn->peer.name
                                        : &conn->conf->server);
}


static const char *
ngx_http_es_redis_type_name(ngx_uint_t type)
{
    switch (type) {

    case NGX_HTTP_ES_REDIS_STRING:
        return "bulk string";

    case NGX_HTTP_ES_REDIS_ARRAY:
        return "array";

    case NGX_HTTP_ES_REDIS_INTEGER:
        return "integer";

    case NGX_HTTP_ES_REDIS_NIL:
        return "nil";

    case NGX_HTTP_ES_REDIS_STATUS:
        return "status";

    default: /* NGX_HTTP_ES_REDIS_ERROR */
        return "error";
    }
}


/* whether text holds secret (a password never goes to a log) */

static ngx_uint_t
ngx_http_es_redis_holds(ngx_str_t *text, ngx_str_t *secret)
{
    u_char  *p, *last;

    if (secret->len == 0 || secret->len > text->len) {
        return 0;
    }

    last = text->data + text->len - secret->len;

    for (p = text->data; p <= last; p++) {
        if (ngx_memcmp(p, secret->data, secret->len) == 0) {
            return 1;
        }
    }

    return 0;
}


/*
 * hiredis's object functions: a reply of our type, put in its parent
 * array, and counted against NGX_HTTP_ES_REDIS_REPLY_MAX (NULL past it,
 * which the reader reports as an error).
 */

static void *
ngx_http_es_redis_reply_new(const redisReadTask *task, ngx_uint_t type,
    size_t extra)
{
    ngx_http_es_redis_conn_t   *conn;
    ngx_http_es_redis_reply_t  *reply, *parent;

    conn = task->privdata;

    if (task->parent == NULL) {
        conn->reply_size = 0;
    }

    conn->reply_size += sizeof(ngx_http_es_redis_reply_t) + extra;

    if (conn->reply_size > NGX_HTTP_ES_REDIS_REPLY_MAX) {
        conn->too_large = 1;
        return NULL;
    }

    reply = ngx_alloc(sizeof(ngx_http_es_redis_reply_t) + extra, &conn->log);
    if (reply == NULL) {
        return NULL;
    }

    ngx_memzero(reply, sizeof(ngx_http_es_redis_reply_t));
    reply->type = type;

    if (task->parent) {
        parent = task->parent->obj;
        parent->elts[task->idx] = reply;
    }

    return reply;
}


static void *
ngx_http_es_redis_string(const redisReadTask *task, char *str, size_t len)
{
    ngx_uint_t                  type;
    ngx_http_es_redis_reply_t  *reply;

    switch (task->type) {

    case REDIS_REPLY_ERROR:
        type = NGX_HTTP_ES_REDIS_ERROR;
        break;

    case REDIS_REPLY_STATUS:
        type = NGX_HTTP_ES_REDIS_STATUS;
        break;

    default: /* REDIS_REPLY_STRING */
        type = NGX_HTTP_ES_REDIS_STRING;
        break;
    }

    reply = ngx_http_es_redis_reply_new(task, type, len + 1);
    if (reply == NULL) {
        return NULL;
    }

    reply->str.data = (u_char *) &reply[1];
    reply->str.len = len;
    *ngx_cpymem(reply->str.data, str, len) = '\0';

    return reply;
}


static void *
ngx_http_es_redis_array(const redisReadTask *task, int elements)
{
    size_t                      size;
    ngx_http_es_redis_conn_t   *conn;
    ngx_http_es_redis_reply_t  *reply;

    if (elements < 0 || elements > NGX_HTTP_ES_REDIS_ELTS_MAX) {
        conn = task->privdata;
        conn->too_large = 1;
        return NULL;
    }

    size = elements * sizeof(ngx_http_es_redis_reply_t *);

    reply = ngx_http_es_redis_reply_new(task, NGX_HTTP_ES_REDIS_ARRAY, size);
    if (reply == NULL) {
        return NULL;
    }

    reply->elts = (ngx_http_es_redis_reply_t **) &reply[1];
    reply->nelts = elements;
    ngx_memzero(reply->elts, size);

    return reply;
}


static void *
ngx_http_es_redis_integer(const redisReadTask *task, long long value)
{
    ngx_http_es_redis_reply_t  *reply;

    reply = ngx_http_es_redis_reply_new(task, NGX_HTTP_ES_REDIS_INTEGER, 0);
    if (reply == NULL) {
        return NULL;
    }

    reply->integer = value;

    return reply;
}


static void *
ngx_http_es_redis_nil(const redisReadTask *task)
{
    return ngx_http_es_redis_reply_new(task, NGX_HTTP_ES_REDIS_NIL, 0);
}


static void
ngx_http_es_redis_reply_free(void *obj)
{
    ngx_http_es_redis_reply_t *reply = obj;

    ngx_uint_t  i;

    if (reply == NULL) {
        return;
    }

    for (i = 0; i < reply->nelts; i++) {
        ngx_http_es_redis_reply_free(reply->elts[i]);
    }

    ngx_free(reply);
}


#else /* !NGX_HAVE_HIREDIS: the directive refuses, nothing runs */


ngx_int_t
ngx_http_es_redis_init_process(ngx_cycle_t *cycle)
{
    return NGX_OK;
}


void
ngx_http_es_redis_exit_process(ngx_cycle_t *cycle)
{
}


ngx_uint_t
ngx_http_es_redis_is_up(ngx_http_es_redis_t *rd)
{
    return 0;
}


ngx_int_t
ngx_http_es_redis_call(ngx_http_es_redis_t *rd, ngx_uint_t argc,
    ngx_str_t *argv, ngx_uint_t expect, ngx_http_es_redis_handler_pt handler,
    void *data)
{
    return NGX_DECLINED;
}


ngx_msec_t
ngx_http_es_redis_left(ngx_http_es_redis_t *rd)
{
    return 0;
}


int64_t
ngx_http_es_redis_deadline(ngx_http_es_redis_t *rd)
{
    return 0;
}


ngx_int_t
ngx_http_es_redis_script(ngx_http_es_redis_script_t *script)
{
    return NGX_OK;
}


#endif /* NGX_HAVE_HIREDIS */
