
/*
 * Copyright (C) The ngx_http_embed_session_module authors
 *
 * The session store: a shared memory zone of fixed-size records, one per
 * session family (a session and the tokens its refreshes made) or one-time
 * ticket, kept until they expire and never evicted before, and written to
 * a state file so that they survive restarts.
 */


#ifndef _NGX_HTTP_EMBED_SESSION_STORE_H_INCLUDED_
#define _NGX_HTTP_EMBED_SESSION_STORE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_embed_session_jws.h"


#define NGX_HTTP_ES_ID_LEN            16    /* a UUID, raw */
#define NGX_HTTP_ES_ID_TEXT_LEN       36    /* a UUID as text, with '-' */
#define NGX_HTTP_ES_OWNER_LEN         8     /* SHA-256 of a key's OWNER, cut */
#define NGX_HTTP_ES_TICKET_MAX        8192  /* a ticket's claims, bytes */

#define NGX_HTTP_ES_STORE_REVOKED     0x01
#define NGX_HTTP_ES_STORE_TICKET      0x02  /* a one-time ticket ... */
#define NGX_HTTP_ES_STORE_EXCHANGED   0x04  /* ... that was exchanged */

#define NGX_HTTP_ES_STATE_STOP        0
#define NGX_HTTP_ES_STATE_START       1

/* state_loss=: what a lost state file costs the sessions it held */
#define NGX_HTTP_ES_LOSS_REVOKE       0
#define NGX_HTTP_ES_LOSS_KEEP         1


/* what a record holds, in memory and in the state file */

typedef struct {
    u_char                      id[NGX_HTTP_ES_ID_LEN];   /* sid, ticket */
    u_char                      gen[NGX_HTTP_ES_ID_LEN];  /* current jti */
    u_char                      prev[NGX_HTTP_ES_ID_LEN]; /* replaced jti */
    u_char                      owner[NGX_HTTP_ES_OWNER_LEN];
    int64_t                     expires;    /* the record goes, not before */
    int64_t                     end;        /* absolute end of the session */
    int64_t                     rotated;    /* when prev was replaced */
    int64_t                     iat;        /* of the current generation */
    int64_t                     exp;
    int64_t                     ttl;        /* a ticket's token lifetime */
    uint32_t                    seq;        /* rotations so far */
    uint16_t                    flags;
    uint16_t                    reserved;
    uint32_t                    payload_len;
    uint32_t                    reserved2;
    int64_t                     horizon;    /* the latest exp of a token */
} ngx_http_es_store_rec_t;


typedef struct ngx_http_es_store_sh_s  ngx_http_es_store_sh_t;
struct ngx_http_es_feed_s;
struct ngx_http_es_redis_s;


typedef struct ngx_http_es_store_s {
    ngx_http_es_store_sh_t     *sh;
    ngx_slab_pool_t            *shpool;
    ngx_shm_zone_t             *shm_zone;
    ngx_str_t                   name;

    ngx_str_t                   state;      /* full name, NUL-terminated */
    ngx_str_t                   state_tmp;  /* STATE.tmp */
    ngx_str_t                   state_lock; /* STATE.lock */
    ngx_str_t                   state_bad;  /* STATE.corrupt */
    ngx_str_t                   epoch;      /* state_epoch=, NUL-terminated */
    ngx_str_t                   epoch_tmp;  /* EPOCH.tmp */
    ngx_msec_t                  sync;
    ngx_uint_t                  state_errors;
    ngx_uint_t                  state_loss;
    ngx_uint_t                  per_key;    /* records an owner may have */
    time_t                      leeway;     /* the largest of the config */
    ngx_http_es_jws_key_t      *key;        /* state_key=, HS256 */
    uint64_t                    epoch_gen;  /* what the epoch file holds */

    ngx_cycle_t                *cycle;

    /* backend=: the truth on Redis, this zone its copy (store_redis.c) */
    ngx_str_t                   backend_name;
    struct ngx_http_es_redis_s *backend;
    struct ngx_http_es_redis_s *feed;       /* worker 0's, for XREAD */
    ngx_str_t                   backend_key; /* "{es:KEY}:r:" */
    ngx_str_t                   feed_key;   /* "{es:KEY}:feed" */
    ngx_msec_t                  stale;
    u_char                     *conf_file;  /* of the directive, for */
    ngx_uint_t                  conf_line;  /* what init_main_conf says */
    struct ngx_http_es_feed_s  *feed_state; /* in worker 0 */
    time_t                      complained[2];  /* the last errors logged:
                                               unreachable, stale */

    /* this process's view of the file: changed by another writer? */
    ngx_file_uniq_t             file_uniq;
    time_t                      file_mtime;
    long                        file_mtime_ns;
    off_t                       file_size;
    ngx_msec_t                  retry;      /* after a failed write */
    ngx_msec_t                  backoff;

    unsigned                    used:1;
} ngx_http_es_store_t;


/* a refresh: the question, and what the zone answers */

typedef enum {
    NGX_HTTP_ES_ROTATED = 0,    /* a new generation */
    NGX_HTTP_ES_REPEATED,       /* the same successor, within grace */
    NGX_HTTP_ES_REUSED,         /* theft: the family is now revoked */
    NGX_HTTP_ES_FAMILY_REVOKED,
    NGX_HTTP_ES_FAMILY_UNKNOWN,
    NGX_HTTP_ES_FAMILY_ENDED
} ngx_http_es_rotate_rc_t;


typedef struct {
    u_char                      sid[NGX_HTTP_ES_ID_LEN];
    u_char                      jti[NGX_HTTP_ES_ID_LEN];  /* presented */
    u_char                      next[NGX_HTTP_ES_ID_LEN]; /* if rotated */
    u_char                      owner[NGX_HTTP_ES_OWNER_LEN];
    unsigned                    has_owner:1;
    time_t                      now;
    time_t                      ttl;
    time_t                      grace;

    /* out: the generation to issue */
    u_char                      gen[NGX_HTTP_ES_ID_LEN];
    time_t                      iat;
    time_t                      exp;
    time_t                      end;
} ngx_http_es_rotate_t;


typedef enum {
    NGX_HTTP_ES_TICKET_OK = 0,
    NGX_HTTP_ES_TICKET_UNKNOWN,
    NGX_HTTP_ES_TICKET_USED,
    NGX_HTTP_ES_TICKET_EXPIRED
} ngx_http_es_exchange_rc_t;


typedef struct {
    ngx_uint_t                  sessions;
    ngx_uint_t                  tickets;
    ngx_uint_t                  revoked;
    size_t                      used;
    size_t                      free;
    size_t                      size;
    ngx_uint_t                  full;       /* refusals, zone full */
    ngx_uint_t                  writes;
    ngx_uint_t                  write_failures;
    ngx_uint_t                  generation; /* of the last state file */
    ngx_uint_t                  unwritten;  /* changes not in it yet */
    ngx_uint_t                  losses;     /* state lost, at start */
    ngx_uint_t                  quota;      /* refusals, per_key= */
    ngx_uint_t                  ok;         /* the invariant walk passed */
    ngx_uint_t                  synced;     /* backend=: its feed */
    ngx_uint_t                  feed_age;   /* ms */
    ngx_uint_t                  calls;
    ngx_uint_t                  conflicts;
} ngx_http_es_store_stats_t;


/*
 * A question to a zone with backend=, answered by Redis first: op, its
 * inputs, and the answer in rc, as the zone's own function would return
 * it (an ngx_http_es_rotate_rc_t, ...).  done is called once, unless the
 * pool given with the question was destroyed first: NGX_OK (answered),
 * NGX_AGAIN (Redis could not be reached in time), NGX_ERROR (Redis holds
 * a damaged record, or no memory).
 */

#define NGX_HTTP_ES_STORE_ADD         1     /* rec, payload: NGX_OK, ... */
#define NGX_HTTP_ES_STORE_ROTATE      2     /* rot */
#define NGX_HTTP_ES_STORE_REVOKE      3     /* id, owner */
#define NGX_HTTP_ES_STORE_EXCHANGE    4     /* id, owner, now; rec, payload */

typedef void (*ngx_http_es_store_done_pt)(void *data, ngx_int_t rc);

typedef struct {
    ngx_uint_t                  op;
    u_char                      id[NGX_HTTP_ES_ID_LEN];
    u_char                      owner[NGX_HTTP_ES_OWNER_LEN];
    unsigned                    has_owner:1;
    time_t                      now;
    ngx_http_es_rotate_t       *rot;
    ngx_http_es_store_rec_t    *rec;
    u_char                     *payload;
    ngx_int_t                   rc;
    ngx_http_es_store_done_pt   done;
    void                       *data;
} ngx_http_es_store_ask_t;


/* configuration */
char *ngx_http_es_store_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
ngx_http_es_store_t *ngx_http_es_store_get(ngx_conf_t *cf, ngx_str_t *name);

/* processes: the sync timer in one worker, a last write at exit; the
 * master keeps the epoch file */
ngx_int_t ngx_http_es_store_init_module(ngx_cycle_t *cycle);
ngx_int_t ngx_http_es_store_init_process(ngx_cycle_t *cycle);
ngx_uint_t ngx_http_es_store_sweeps(ngx_cycle_t *cycle);
void ngx_http_es_store_exit(ngx_cycle_t *cycle);
void ngx_http_es_store_exit_master(ngx_cycle_t *cycle);

/* ids */
ngx_int_t ngx_http_es_id_parse(u_char *id, u_char *text, size_t len);
u_char *ngx_http_es_id_text(u_char *p, u_char *id);
void ngx_http_es_owner(u_char *owner, ngx_str_t *key_owner);

/* what requests ask */
ngx_int_t ngx_http_es_store_check(ngx_http_es_store_t *store, u_char *sid,
    u_char *jti, time_t iat);
ngx_int_t ngx_http_es_store_add(ngx_http_es_store_t *store,
    ngx_http_es_store_rec_t *rec, u_char *payload, ngx_log_t *log);
ngx_http_es_rotate_rc_t ngx_http_es_store_rotate(ngx_http_es_store_t *store,
    ngx_http_es_rotate_t *rot);
ngx_int_t ngx_http_es_store_room(ngx_http_es_store_t *store, u_char *owner);
ngx_int_t ngx_http_es_store_revoke(ngx_http_es_store_t *store, u_char *sid,
    u_char *owner);
ngx_uint_t ngx_http_es_store_revoke_owner(ngx_cycle_t *cycle, u_char *owner);
ngx_http_es_exchange_rc_t ngx_http_es_store_exchange(
    ngx_http_es_store_t *store, u_char *id, u_char *owner, time_t now,
    time_t leeway, u_char *payload, ngx_http_es_store_rec_t *rec);
void ngx_http_es_store_stats(ngx_http_es_store_t *store,
    ngx_http_es_store_stats_t *st);

/* the same, with backend= (store_redis.c): NGX_OK, the answer will come;
 * NGX_AGAIN: Redis cannot be reached; NGX_ERROR */
ngx_int_t ngx_http_es_store_ask(ngx_http_es_store_t *store,
    ngx_http_es_store_ask_t *ask, ngx_pool_t *pool, ngx_log_t *log);
#define NGX_HTTP_ES_STORE_UNREACHABLE  0
#define NGX_HTTP_ES_STORE_STALE        1

ngx_int_t ngx_http_es_store_ask_request(struct ngx_http_request_s *r,
    ngx_http_es_store_t *store, ngx_http_es_store_ask_t *ask);
ngx_uint_t ngx_http_es_store_complain(ngx_http_es_store_t *store,
    ngx_uint_t what);
char *ngx_http_es_store_backends(ngx_conf_t *cf, ngx_array_t *stores);
ngx_int_t ngx_http_es_store_feed_init(ngx_cycle_t *cycle);


#endif /* _NGX_HTTP_EMBED_SESSION_STORE_H_INCLUDED_ */
