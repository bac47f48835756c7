
/*
 * Copyright (C) The ngx_http_embed_session_module authors
 *
 * A feed (feed.c): a Redis stream of the changes every node makes to a
 * shared thing (a session store, an API key zone), read by one worker of
 * each node into its shared memory, on a connection of its own (XREAD
 * BLOCK).  Its position is kept in shared memory, so that a reload or a
 * reconnect goes on where it was; a feed that never read the thing in
 * full, or whose position the stream no longer holds, reads it in full
 * first (its owner's sync()), then the stream from where it stood
 * before.
 */


#ifndef _NGX_HTTP_EMBED_SESSION_FEED_H_INCLUDED_
#define _NGX_HTTP_EMBED_SESSION_FEED_H_INCLUDED_


#include "ngx_http_embed_session_module.h"
#include "ngx_http_embed_session_redis.h"


#define NGX_HTTP_ES_FEED_ID_MAX       48    /* a stream entry's id, text */
#define NGX_HTTP_ES_FEED_KEEP         "100000"  /* entries of a stream */


/* where a feed stands: in shared memory, for every worker */

typedef struct {
    ngx_msec_t                  seen;       /* its last answer, 0: none */
    ngx_uint_t                  synced;     /* the thing was read in full */
    size_t                      id_len;
    u_char                      id[NGX_HTTP_ES_FEED_ID_MAX];
} ngx_http_es_feed_pos_t;


typedef struct ngx_http_es_feed_s  ngx_http_es_feed_t;

/* the full read: it ends with ngx_http_es_feed_synced() */
typedef void (*ngx_http_es_feed_sync_pt)(ngx_http_es_feed_t *feed);

/* an entry: its fields, an array of field and value */
typedef void (*ngx_http_es_feed_apply_pt)(ngx_http_es_feed_t *feed,
    ngx_http_es_redis_reply_t *fields);


struct ngx_http_es_feed_s {
    ngx_http_es_redis_t        *rd;         /* its own connection */
    ngx_str_t                   key;        /* the stream */
    ngx_str_t                   what;       /* 'store "a"', for the logs */
    ngx_http_es_feed_pos_t     *pos;
    ngx_http_es_feed_sync_pt    sync;
    ngx_http_es_feed_apply_pt   apply;
    void                       *data;

    ngx_event_t                 retry;
    ngx_uint_t                  busy;       /* a command is out */
    ngx_uint_t                  resync;     /* in the full read */
    ngx_uint_t                  checked;    /* the position, once up */
    u_char                      mark[NGX_HTTP_ES_FEED_ID_MAX];
    size_t                      mark_len;
    u_char                      block[NGX_INT_T_LEN];
    size_t                      block_len;
};


/*
 * The feed's connection, taken from rd for worker 0 (at configuration:
 * rd's name, ":feed:" and name), and its read started there once it is
 * up (init_process, before the connections are made)
 */
ngx_http_es_redis_t *ngx_http_es_feed_conf(ngx_conf_t *cf,
    ngx_http_es_redis_t *rd, ngx_str_t *name, ngx_msec_t block);
ngx_http_es_feed_t *ngx_http_es_feed_init(ngx_cycle_t *cycle,
    ngx_http_es_redis_t *rd, ngx_msec_t block);

/* for sync(): a command on the feed's connection, the reply checked */
void ngx_http_es_feed_call(ngx_http_es_feed_t *feed, ngx_uint_t argc,
    ngx_str_t *argv, ngx_uint_t expect, ngx_http_es_redis_handler_pt handler);
ngx_int_t ngx_http_es_feed_reply(ngx_http_es_feed_t *feed,
    ngx_http_es_redis_reply_t *reply, const char *what);
void ngx_http_es_feed_wrong(ngx_http_es_feed_t *feed, const char *what);
void ngx_http_es_feed_synced(ngx_http_es_feed_t *feed);


#endif /* _NGX_HTTP_EMBED_SESSION_FEED_H_INCLUDED_ */
