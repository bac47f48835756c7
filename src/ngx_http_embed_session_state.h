
/*
 * Copyright (C) The ngx_http_embed_session_module authors
 *
 * The session store's insides, shared by its files and by no other: the
 * zone's shared memory (ngx_http_embed_session_store.c), its directive
 * (_store_conf.c), its state file (_state.c, when it is read and
 * written; _state_format.c, its bytes), and its backend (_store_redis.c:
 * Redis, and the feed of its changes).  The store's API is
 * ngx_http_embed_session_store.h.
 */


#ifndef _NGX_HTTP_EMBED_SESSION_STATE_H_INCLUDED_
#define _NGX_HTTP_EMBED_SESSION_STATE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_embed_session_feed.h"
#include "ngx_http_embed_session_store.h"


struct ngx_http_es_store_sh_s {
    ngx_rbtree_t                rbtree;
    ngx_rbtree_node_t           sentinel;
    ngx_rbtree_t                owners;     /* records of each API key */
    ngx_rbtree_node_t           owners_sentinel;
    ngx_queue_t                 expiry;     /* earliest first */
    ngx_queue_t                 revoked_q;  /* the same, of revoked records */
    ngx_uint_t                  sessions;
    ngx_uint_t                  tickets;
    ngx_uint_t                  revoked;
    size_t                      payload;
    uint64_t                    generation; /* of the last file read or
                                               written */
    time_t                      since;      /* unknown sessions of before
                                               it: refused */
    ngx_atomic_t                changes;    /* under the mutex */
    ngx_atomic_t                persisted;
    ngx_atomic_t                full;
    ngx_atomic_t                quota;
    ngx_atomic_t                losses;
    ngx_atomic_t                writes;
    ngx_atomic_t                write_failures;
    time_t                      alerted;

    /* backend=: the feed as worker 0 read it (store_redis.c) */
    ngx_http_es_feed_pos_t      feed;
    ngx_atomic_t                calls;      /* scripts run */
    ngx_atomic_t                conflicts;  /* decided again */
};


typedef struct {
    ngx_rbtree_node_t           node;
    ngx_queue_t                 queue;
    u_char                     *payload;
    ngx_atomic_uint_t           revoked;    /* sh->changes, when it was */
    uint32_t                    version;    /* on the backend, last seen */
    ngx_http_es_store_rec_t     rec;
} ngx_http_es_store_node_t;


/* the records of one API key (its owner id), for per_key= */

typedef struct {
    ngx_rbtree_node_t           node;
    ngx_uint_t                  records;
    u_char                      owner[NGX_HTTP_ES_OWNER_LEN];
} ngx_http_es_store_owner_t;


/* a state file, as its header and trailer describe it */

typedef struct {
    u_char                     *start;      /* the first record */
    u_char                     *end;        /* past the last one */
    ngx_uint_t                  version;    /* 1, 2 */
    ngx_uint_t                  mac;        /* records carry an HMAC */
    ngx_uint_t                  whole;      /* the trailer is right */
    size_t                      rsize;      /* of a record, in the file */
    uint64_t                    generation;
    time_t                      since;
    uint32_t                    count;
} ngx_http_es_state_file_t;


/* a record of the state file that this zone could not take in */

typedef struct {
    ngx_http_es_store_rec_t     rec;
    u_char                     *payload;
} ngx_http_es_state_carry_t;


/* the zone (store.c): its stores, its making, its records under the mutex */
ngx_array_t *ngx_http_es_stores(ngx_cycle_t *cycle);
ngx_int_t ngx_http_es_store_init_zone(ngx_shm_zone_t *shm_zone, void *data);
ngx_int_t ngx_http_es_store_merge_locked(ngx_http_es_store_t *store,
    ngx_http_es_store_rec_t *rec, u_char *payload, time_t now);
void ngx_http_es_store_revoke_locked(ngx_http_es_store_t *store,
    ngx_http_es_store_node_t *n);
ngx_uint_t ngx_http_es_store_expire_locked(ngx_http_es_store_t *store,
    time_t now);

/* the questions, decided on a copy of a record (NULL: none), for the
 * backend (store_redis.c) as for the zone */
ngx_http_es_rotate_rc_t ngx_http_es_store_rotate_rec(
    ngx_http_es_store_rec_t *rec, ngx_http_es_rotate_t *rot);
ngx_http_es_exchange_rc_t ngx_http_es_store_exchange_rec(
    ngx_http_es_store_rec_t *rec, u_char *owner, time_t now, time_t leeway);
void ngx_http_es_store_revoke_rec(ngx_http_es_store_rec_t *rec,
    time_t leeway);
ngx_int_t ngx_http_es_store_owns(ngx_http_es_store_rec_t *rec, u_char *owner);

/* the zone's copy of a record: read (NGX_DECLINED: none), and a record
 * from the backend merged in */
ngx_int_t ngx_http_es_store_read(ngx_http_es_store_t *store, u_char *id,
    ngx_http_es_store_rec_t *rec, u_char *payload, uint32_t *version);
ngx_int_t ngx_http_es_store_apply(ngx_http_es_store_t *store,
    ngx_http_es_store_rec_t *rec, u_char *payload, uint32_t version,
    ngx_log_t *log);

/* the state file (state.c): what a new zone reads */
ngx_int_t ngx_http_es_store_load(ngx_http_es_store_t *store,
    ngx_uint_t copied, ngx_log_t *log);
ngx_int_t ngx_http_es_epoch_read(ngx_http_es_store_t *store, ngx_log_t *log);

/* its bytes (state_format.c) */
ngx_int_t ngx_http_es_state_open(ngx_http_es_store_t *store, u_char *buf,
    size_t len, ngx_http_es_state_file_t *sf, ngx_log_t *log,
    ngx_uint_t level);
ngx_int_t ngx_http_es_state_parse(ngx_http_es_store_t *store,
    ngx_http_es_state_file_t *sf, ngx_array_t *carry, ngx_log_t *log,
    ngx_uint_t level);
u_char *ngx_http_es_state_build(ngx_http_es_store_t *store,
    ngx_array_t *carry, uint64_t generation, ngx_uint_t *changes,
    size_t *len, ngx_log_t *log);


#endif /* _NGX_HTTP_EMBED_SESSION_STATE_H_INCLUDED_ */
