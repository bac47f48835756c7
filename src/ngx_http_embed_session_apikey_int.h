
/*
 * Copyright (C) The ngx_http_embed_session_module authors
 *
 * Inside the API key family, shared by apikey_conf.c, apikey_auth.c,
 * apikey_zone.c, apikey_file.c and apikey_rewrite.c only: the record and
 * its strings, the zone with the names of its file, the question a
 * request asks of the zone and the change that regenerate and revoke
 * make (apikey_zone.c); one line of the key file parsed, found and
 * edited, the load of the whole file, its rewrite and its lock
 * (apikey_file.c, apikey_rewrite.c).
 */


#ifndef _NGX_HTTP_EMBED_SESSION_APIKEY_INT_H_INCLUDED_
#define _NGX_HTTP_EMBED_SESSION_APIKEY_INT_H_INCLUDED_


#include "ngx_http_embed_session_module.h"
#include "ngx_http_embed_session_apikey.h"
#include "ngx_http_embed_session_feed.h"


/*
 * A record's strings, packed one after the other; lists are kept as their
 * comma-joined text (items cannot hold a comma), origins in normal form.
 * LOOKUP to FLAGS are in the order of the key file's fields key= to
 * flags= (apikey_file.c).  OWNER is what ngx_http_es_owner() makes the
 * owner of the key's sessions from: "ID:SERIAL", or "ID" for a record
 * without serial= (the owner every record had before serials existed).
 */

#define NGX_HTTP_ES_API_RECORD_MAX    8192  /* all strings of one record */
#define NGX_HTTP_ES_API_HASH_LEN      32    /* SHA-256 */

typedef enum {
    NGX_HTTP_ES_API_STR_ID = 0,
    NGX_HTTP_ES_API_STR_LOOKUP,
    NGX_HTTP_ES_API_STR_ID_LOOKUP,          /* empty: no id_key */
    NGX_HTTP_ES_API_STR_SCOPE,
    NGX_HTTP_ES_API_STR_TENANT,
    NGX_HTTP_ES_API_STR_RESOURCES,
    NGX_HTTP_ES_API_STR_GRANTS,
    NGX_HTTP_ES_API_STR_ORIGINS,
    NGX_HTTP_ES_API_STR_FLAGS,
    NGX_HTTP_ES_API_STR_OWNER,
    NGX_HTTP_ES_API_NSTR
} ngx_http_es_api_str_e;


typedef struct {
    u_short                         off;
    u_short                         len;
} ngx_http_es_api_span_t;


typedef struct ngx_http_es_api_sh_s  ngx_http_es_api_sh_t;

struct ngx_http_es_api_sh_s {
    ngx_rbtree_t                rbtree;
    ngx_rbtree_node_t           sentinel;
    ngx_queue_t                 queue;      /* every record */
    ngx_uint_t                  records;
    ngx_uint_t                  retired;    /* a zone of another size */
    ngx_http_es_feed_pos_t      feed;       /* backend=: the changes read */
};


/*
 * A record: one slab allocation with all its strings.  Two nodes in the
 * one rbtree, keyed by the crc32 of the key's and the id_key's LOOKUP;
 * node.data tells them apart (0: key, 1: id_key).
 */

typedef struct {
    ngx_rbtree_node_t           node;
    ngx_rbtree_node_t           id_node;
    ngx_queue_t                 queue;
    size_t                      size;

    uint64_t                    updated;    /* ms, last regenerate/revoke */
    time_t                      expires;    /* -1: never */

    ngx_uint_t                  rate;       /* 0: no limit */
    time_t                      period;
    time_t                      window;     /* start of the current one */
    ngx_uint_t                  count;      /* requests in it */

    unsigned                    revoked:1;
    unsigned                    has_id_key:1;
    unsigned                    has_serial:1;

    u_char                      hash[NGX_HTTP_ES_API_HASH_LEN];
    u_char                      id_hash[NGX_HTTP_ES_API_HASH_LEN];

    ngx_http_es_api_span_t      str[NGX_HTTP_ES_API_NSTR];
    size_t                      len;
    u_char                      data[1];
} ngx_http_es_api_rec_t;


/* how a query counts the request against the key's rate */

#define NGX_HTTP_ES_API_RATE_LOCAL    0     /* in the zone: no backend */
#define NGX_HTTP_ES_API_RATE_SHARE    1     /* in the zone, rate/nodes= */
#define NGX_HTTP_ES_API_RATE_OWED     2     /* not yet: on the backend */
#define NGX_HTTP_ES_API_RATE_WAITING  3     /* asked of the backend */
#define NGX_HTTP_ES_API_RATE_DONE     4     /* counted, rate_code says */


struct ngx_http_es_api_zone_s {
    ngx_http_es_api_sh_t       *sh;
    ngx_slab_pool_t            *shpool;
    ngx_shm_zone_t             *shm_zone;

    ngx_str_t                   file;       /* full name, NUL-terminated */
    ngx_str_t                   lock;       /* FILE.lock */
    ngx_array_t                 records;    /* ngx_http_es_api_rec_t * */
    uint64_t                    parsed;     /* ms, when the file was read */

    ngx_cycle_t                *cycle;
    ngx_http_es_api_zone_t     *old;        /* of another size, replaced */

    ngx_str_t                   end_flags;  /* end_sessions=, comma-joined */

    /* backend=: the rates counted on Redis (apikey_redis.c) */
    ngx_str_t                   backend_name;
    struct ngx_http_es_redis_s *backend;
    ngx_str_t                   backend_key; /* "{es:KEY}:rl:" */
    ngx_uint_t                  nodes;      /* for the share, Redis down */
    ngx_str_t                   keys_key;   /* "{es:KEY}:keys" */
    ngx_str_t                   feed_key;   /* "{es:KEY}:kfeed" */
    struct ngx_http_es_redis_s *feed;       /* worker 0's, for XREAD */
    u_char                     *conf_file;
    ngx_uint_t                  conf_line;

    unsigned                    declared:1;
    unsigned                    writes:1;   /* regenerate or revoke */
};


/* an ID or a LOOKUP: while parsing, for duplicates; on reload, by ID */

typedef struct {
    ngx_str_node_t              sn;
    ngx_uint_t                  line;
    ngx_http_es_api_rec_t      *rec;
} ngx_http_es_api_name_t;


#define ngx_http_es_api_str(rec, n, s)                                       \
    (s)->data = (rec)->data + (rec)->str[n].off;                             \
    (s)->len = (rec)->str[n].len


/*
 * One question to the zone, answered under its mutex in one go: find the
 * record by LOOKUP, compare the hash, check status, expiry and the deny
 * rules, count the request against the rate, and copy the record out.
 */

typedef struct {
    ngx_uint_t                      id_credential;  /* an id_key one */
    ngx_str_t                       lookup;
    u_char                          hash[NGX_HTTP_ES_API_HASH_LEN];
    ngx_array_t                    *denies;
    time_t                          now;
    ngx_uint_t                      rate_mode;  /* NGX_HTTP_ES_API_RATE_* */

    ngx_http_es_api_deny_t         *denied;
    ngx_uint_t                      rate_limit;
    ngx_uint_t                      rate_remaining;
    time_t                          rate_reset;
    time_t                          rate_period;

    ngx_http_es_api_span_t          str[NGX_HTTP_ES_API_NSTR];
    size_t                          len;
    u_char                          data[NGX_HTTP_ES_API_RECORD_MAX];
} ngx_http_es_api_query_t;


/* what regenerate and revoke change, file first, then the zone */

typedef struct {
    ngx_uint_t                      revoke;     /* else regenerate */
    ngx_uint_t                      remote;     /* another node's: by id */
    ngx_uint_t                      dry;        /* the lock and the check */
    ngx_str_t                       id;         /* the record changed */

    /* the caller's credential: it must still be valid at the change */
    ngx_uint_t                      id_credential;
    ngx_str_t                       lookup;
    u_char                          hash[NGX_HTTP_ES_API_HASH_LEN];

    /* regenerate: the new key (and id_key when the record has one) */
    ngx_str_t                       new_lookup;
    u_char                          new_hash[NGX_HTTP_ES_API_HASH_LEN];
    ngx_str_t                       new_id_lookup;
    u_char                          new_id_hash[NGX_HTTP_ES_API_HASH_LEN];

    /* out: the OWNER string of the record changed */
    ngx_str_t                       owner;
    u_char                          owner_data[NGX_HTTP_ES_API_OWNER_MAX];
} ngx_http_es_api_change_t;


/* an authenticated key; the public part first, what we need after it */

typedef struct {
    ngx_http_es_api_key_t       key;
    ngx_http_es_api_zone_t     *zone;

    ngx_uint_t                  id_credential;
    ngx_str_t                   lookup;     /* of the credential used */
    u_char                      hash[NGX_HTTP_ES_API_HASH_LEN];

    /* where it came from; stripped: it no longer is in the request */
    ngx_http_es_api_source_type_t  source;
    ngx_str_t                   header;

    ngx_str_t                   key_lookup; /* the record's */
    ngx_str_t                   id_lookup;  /* empty: no id_key */
    ngx_str_t                   flags;      /* comma-joined */
    ngx_str_t                   grants;

    /* backend=: the rate is counted on Redis (apikey_redis.c) */
    ngx_uint_t                  rate_state; /* NGX_HTTP_ES_API_RATE_* */
    ngx_int_t                   rate_code;  /* once DONE */
    time_t                      rate_period;
    unsigned                    rate_calling:1;  /* in the call to Redis */

    unsigned                    headers:1;  /* the rate headers are out */
    unsigned                    stripped:1;
} ngx_http_es_api_auth_t;


/*
 * query(): a ngx_http_es_code_t: PASSED (0) with q's record copy, or
 * API_KEY_INVALID, API_KEY_REVOKED, API_KEY_EXPIRED, DENIED (q->denied),
 * RATE_LIMITED; the record is copied for all but API_KEY_INVALID.
 * change(): PASSED, API_KEY_INVALID (the caller's credential changed
 * meanwhile), VALIDATION_FAILED (no record with that ID), or NGX_ERROR
 * (the file could not be written, or its line would not load, or a
 * reload replaced the zone: logged; the file and the zone are unchanged).
 */
ngx_int_t ngx_http_es_api_query(ngx_http_es_api_zone_t *zone,
    ngx_http_es_api_query_t *q);
ngx_int_t ngx_http_es_api_change(ngx_pool_t *pool, ngx_log_t *log,
    ngx_http_es_api_zone_t *zone, ngx_http_es_api_change_t *ch);
ngx_http_es_api_deny_t *ngx_http_es_api_deny_match(ngx_array_t *denies,
    ngx_str_t *scope, ngx_str_t *flags, ngx_str_t *grants);
/* a cycle's API key zones: it.part = NULL, then until NULL */
typedef struct {
    ngx_list_part_t            *part;
    ngx_uint_t                  i;
    ngx_shm_zone_t             *shm;        /* the zone returned */
} ngx_http_es_api_iter_t;

ngx_http_es_api_zone_t *ngx_http_es_api_zone_next(ngx_cycle_t *cycle,
    ngx_http_es_api_iter_t *it);

/* backend= (apikey_redis.c): the rate of an authenticated key, counted
 * on Redis */
ngx_int_t ngx_http_es_api_rate_gate(ngx_http_request_t *r,
    ngx_http_es_api_auth_t *auth, ngx_uint_t resume);

/* a change published (NGX_OK) or not (NGX_AGAIN): it is made, or not */
typedef void (*ngx_http_es_api_published_pt)(ngx_http_request_t *r,
    void *data, ngx_int_t rc);

ngx_int_t ngx_http_es_api_publish(ngx_http_request_t *r,
    ngx_http_es_api_zone_t *zone, ngx_http_es_api_change_t *ch,
    ngx_http_es_api_published_pt done, void *data);

/* apikey_auth.c, for apikey_manage.c: the rate after the key, and the
 * line that says why a key was refused */
ngx_int_t ngx_http_es_api_rate(ngx_http_request_t *r,
    ngx_http_es_api_key_t *key, ngx_uint_t resume);
void ngx_http_es_api_log(ngx_http_request_t *r, ngx_int_t code,
    const char *reason, ngx_str_t *what);

#define NGX_HTTP_ES_API_RESUME_NONE     0   /* it cannot wait: the share */
#define NGX_HTTP_ES_API_RESUME_PHASES   1   /* the access phase, again */
#define NGX_HTTP_ES_API_RESUME_CONTENT  2   /* the content handler, again */
ngx_int_t ngx_http_es_api_next_item(u_char **pos, u_char *last,
    ngx_str_t *item);
ngx_http_es_api_zone_t *ngx_http_es_api_zone_get(ngx_conf_t *cf,
    ngx_str_t *name);
ngx_int_t ngx_http_es_api_zone_check(ngx_conf_t *cf,
    ngx_http_es_api_zone_t *zone, ngx_uint_t writes);

/* the wall clock that records' "updated" is kept in */
uint64_t ngx_http_es_api_msec(void);


/*
 * One line of the key file, checked as "nginx -t" checks it, and the
 * change of one line that regenerate and revoke make.  Neither needs a
 * configuration, a log or a pool, so that a fuzzer can call them on any
 * bytes; the file-wide checks (unique IDs and LOOKUPs) are load()'s.
 *
 * parse_line(): the line p..last (no LF) into kl->rec, which has room
 * for NGX_HTTP_ES_KEYFILE_REC_SIZE bytes.  NGX_OK: a record; NGX_DECLINED:
 * a blank or comment line; NGX_ERROR: kl->err says why, NUL-terminated
 * in err_len bytes, and kl->entry is the ID when it was read (or a
 * stand-in when it looks like a raw key).
 *
 * find_line(): the line of the record ID in the file p..last, as the
 * rewrite finds it: NGX_OK with *line..*eol (no LF) and its number *at;
 * NGX_DECLINED: none; NGX_ERROR: a second one, on line *n.
 *
 * edit_line(): the line p..last with the change ch made (key= and id_key=
 * replaced, or status=revoked), every other byte kept.  The line must
 * parse, and be the record of ch->id; the new line is parsed again and
 * must hold the change.  As snprintf(): with out NULL or *len too small,
 * NGX_DECLINED and *len the size needed; NGX_OK and *len the length
 * written; NGX_ERROR with kl->err (kl->rec is then clobbered).
 */

#define NGX_HTTP_ES_KEYFILE_REC_SIZE                                         \
    (offsetof(ngx_http_es_api_rec_t, data) + NGX_HTTP_ES_API_RECORD_MAX)

typedef struct {
    ngx_http_es_api_rec_t      *rec;
    u_char                     *err;
    size_t                      err_len;
    ngx_str_t                   entry;
    ngx_uint_t                  field;      /* number, for messages */
} ngx_http_es_keyfile_line_t;


ngx_int_t ngx_http_es_keyfile_parse_line(ngx_http_es_keyfile_line_t *kl,
    u_char *p, u_char *last);
ngx_int_t ngx_http_es_keyfile_find_line(u_char *p, u_char *last,
    ngx_str_t *id, u_char **line, u_char **eol, ngx_uint_t *at,
    ngx_uint_t *n);
ngx_int_t ngx_http_es_keyfile_edit_line(ngx_http_es_keyfile_line_t *kl,
    u_char *p, u_char *last, ngx_http_es_api_change_t *ch, u_char *out,
    size_t *len);

/* NGX_ERROR, with the reason in kl->err (printf-style, cut to fit) */
ngx_int_t ngx_http_es_keyfile_fail(ngx_http_es_keyfile_line_t *kl,
    const char *fmt, ...);


/*
 * the key file: load() reads it into zone->records under a shared lock of
 * FILE.lock; rewrite() changes one line of it, under the exclusive lock
 * that the caller took with lock().  lock(): NGX_OK with *fd, which is
 * NGX_INVALID_FILE when reading and no change has ever been made (no
 * FILE.lock), or when the lock could not be had in time; NGX_ERROR,
 * logged at level, when FILE.lock is not a file nginx may trust (or,
 * writing, cannot be opened or locked).
 */
char *ngx_http_es_keyfile_load(ngx_conf_t *cf, ngx_http_es_api_zone_t *zone);
void ngx_http_es_keyfile_check_writable(ngx_http_es_api_zone_t *zone,
    ngx_log_t *log);
ngx_int_t ngx_http_es_keyfile_rewrite(ngx_pool_t *pool, ngx_log_t *log,
    ngx_http_es_api_zone_t *zone, ngx_http_es_api_change_t *ch);
ngx_int_t ngx_http_es_keyfile_lock(ngx_cycle_t *cycle, ngx_str_t *name,
    ngx_uint_t write, ngx_log_t *log, ngx_uint_t level, ngx_fd_t *fd);
void ngx_http_es_keyfile_unlock(ngx_fd_t fd, ngx_str_t *name,
    ngx_log_t *log);

/* PREFIX ([A-Za-z0-9_]* ending in "_", or empty) + 40 of [A-Za-z0-9] */
ngx_int_t ngx_http_es_api_is_raw_key(u_char *p, size_t len);


#endif /* _NGX_HTTP_EMBED_SESSION_APIKEY_INT_H_INCLUDED_ */
