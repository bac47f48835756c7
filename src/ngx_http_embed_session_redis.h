
/*
 * Copyright (C) The ngx_http_embed_session_module authors
 *
 * Redis servers (redis.c): the embed_session_redis directive, one
 * connection per named server in each worker, and commands sent on it
 * with a callback each.  Only this family sees hiredis: redis.c uses its
 * reply reader and its command formatter, never its networking, and the
 * rest of the module sees replies as ngx_http_es_redis_reply_t.
 */


#ifndef _NGX_HTTP_EMBED_SESSION_REDIS_H_INCLUDED_
#define _NGX_HTTP_EMBED_SESSION_REDIS_H_INCLUDED_


#include "ngx_http_embed_session_module.h"


/* what a reply is: RESP2's five types, and the two a callback may get */

#define NGX_HTTP_ES_REDIS_STRING      0x0001    /* a bulk string */
#define NGX_HTTP_ES_REDIS_ARRAY       0x0002
#define NGX_HTTP_ES_REDIS_INTEGER     0x0004
#define NGX_HTTP_ES_REDIS_NIL         0x0008
#define NGX_HTTP_ES_REDIS_STATUS      0x0010    /* "+OK" */
#define NGX_HTTP_ES_REDIS_ERROR       0x0020    /* "-ERR ...": always allowed */
#define NGX_HTTP_ES_REDIS_TIMEOUT     0x0100    /* no reply within timeout= */
#define NGX_HTTP_ES_REDIS_DOWN        0x0200    /* the connection was lost */

#define NGX_HTTP_ES_REDIS_ARGS_MAX    128       /* of one command */
#define NGX_HTTP_ES_REDIS_QUEUE_MAX   1024      /* commands waiting */


typedef struct ngx_http_es_redis_reply_s  ngx_http_es_redis_reply_t;

struct ngx_http_es_redis_reply_s {
    ngx_uint_t                  type;
    ngx_str_t                   str;        /* STRING, STATUS, ERROR */
    int64_t                     integer;
    ngx_uint_t                  nelts;      /* ARRAY */
    ngx_http_es_redis_reply_t **elts;
};


/*
 * The callback of a command: called once, with the reply, an error reply
 * from the server, or a reply of type TIMEOUT or DOWN.  The reply is the
 * caller's only during the call.
 */
typedef void (*ngx_http_es_redis_handler_pt)(ngx_http_es_redis_reply_t *reply,
    void *data);


/* a Lua script: its text, and its digest once registered */

typedef struct {
    ngx_str_t                   text;
    u_char                      sha[40];
} ngx_http_es_redis_script_t;


/* this worker's connection to a server: redis.c's own */
typedef struct ngx_http_es_redis_conn_s  ngx_http_es_redis_conn_t;


/* embed_session_redis NAME ...: a server, as configured */

typedef struct ngx_http_es_redis_s {
    ngx_str_t                   name;
    ngx_str_t                   server;     /* as written, for the logs */
    ngx_addr_t                  addr;
    ngx_array_t                *sentinels;  /* ngx_addr_t; NULL: server= */
    ngx_str_t                   master;     /* the sentinels' name of it */
    ngx_uint_t                  db;
    ngx_str_t                   user;       /* empty: "default" */
    ngx_str_t                   password;   /* of password_file=; secret */
    ngx_str_t                   sentinel_user;      /* empty: "default" */
    ngx_str_t                   sentinel_password;  /* secret */
    ngx_msec_t                  connect_timeout;
    ngx_msec_t                  timeout;
    ngx_msec_t                  ping;       /* an idle connection's PING */
#if (NGX_SSL)
    ngx_ssl_t                  *ssl;        /* tls=on */
#endif
    ngx_uint_t                  tls_verify;
    ngx_str_t                   tls_name;   /* the certificate must hold */
    ngx_int_t                   worker;     /* -1: in every worker; else
                                               in this one only */
    struct ngx_http_es_redis_s *origin;     /* a dedicated one's server */
    void                      (*up)(void *data);  /* each time it is up */
    void                       *up_data;
    ngx_http_es_redis_conn_t   *conn;       /* in a worker */
} ngx_http_es_redis_t;


char *ngx_http_es_redis(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
/* 1 to NAME_MAX letters, digits, "_", "-" or ".": NGX_OK */
ngx_int_t ngx_http_es_redis_name_ok(ngx_str_t *name);
ngx_http_es_redis_t *ngx_http_es_redis_find(ngx_http_es_main_conf_t *emcf,
    ngx_str_t *name);

/*
 * A connection of its own to rd's server, named NAME on the status page,
 * in one worker only, whose commands may wait timeout= plus extra (for a
 * command that blocks on the server, as XREAD BLOCK)
 */
ngx_http_es_redis_t *ngx_http_es_redis_dedicated(ngx_conf_t *cf,
    ngx_http_es_main_conf_t *emcf, ngx_http_es_redis_t *rd, ngx_str_t *name,
    ngx_int_t worker, ngx_msec_t extra);

/* a script loaded on every connection (SCRIPT LOAD when it is made), so
 * that EVALSHA and script->sha run it; at configuration */
ngx_int_t ngx_http_es_redis_script(ngx_http_es_redis_script_t *script);

ngx_int_t ngx_http_es_redis_init_process(ngx_cycle_t *cycle);
void ngx_http_es_redis_exit_process(ngx_cycle_t *cycle);

/*
 * Sends a command (argc arguments, the first its name) on the worker's
 * connection to the server.  NGX_OK: handler will be called once, with
 * a reply of a type in expect (or ERROR), or TIMEOUT, or DOWN (DOWN
 * possibly before this returns, when the write fails); a reply of
 * another type is a protocol error, which closes the connection.
 * NGX_DECLINED: the connection is not up, or too many commands wait; the
 * handler is not called.  NGX_ERROR: no memory, or too many arguments.
 */
ngx_int_t ngx_http_es_redis_call(ngx_http_es_redis_t *rd, ngx_uint_t argc,
    ngx_str_t *argv, ngx_uint_t expect, ngx_http_es_redis_handler_pt handler,
    void *data);

/* whether the worker's connection to the server is up; how long a
 * command sent now may wait before it fails (ms); the wall-clock time
 * (ms) a script told of it must not act after */
ngx_uint_t ngx_http_es_redis_is_up(ngx_http_es_redis_t *rd);
ngx_msec_t ngx_http_es_redis_left(ngx_http_es_redis_t *rd);
int64_t ngx_http_es_redis_deadline(ngx_http_es_redis_t *rd);

/* the status zone's counters of a server, found by its name, or NULL */
ngx_http_es_redis_stats_t *ngx_http_es_redis_stats(
    ngx_http_es_metrics_t *metrics, ngx_str_t *name);


#endif /* _NGX_HTTP_EMBED_SESSION_REDIS_H_INCLUDED_ */
