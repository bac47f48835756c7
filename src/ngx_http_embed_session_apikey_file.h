
/*
 * Copyright (C) The ngx_http_embed_session_module authors
 *
 * Between the API key zone (apikeys.c) and the key file (keyfile.c): the
 * record both build and keep, the zone with the names of its file, and
 * what each side asks of the other.
 */


#ifndef _NGX_HTTP_EMBED_SESSION_APIKEY_FILE_H_INCLUDED_
#define _NGX_HTTP_EMBED_SESSION_APIKEY_FILE_H_INCLUDED_


#include "ngx_http_embed_session_module.h"


typedef struct ngx_http_es_api_sh_s  ngx_http_es_api_sh_t;


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
ngx_int_t ngx_http_es_keyfile_rewrite(ngx_http_request_t *r,
    ngx_http_es_api_zone_t *zone, ngx_http_es_api_change_t *ch);
ngx_int_t ngx_http_es_keyfile_lock(ngx_cycle_t *cycle, ngx_str_t *name,
    ngx_uint_t write, ngx_log_t *log, ngx_uint_t level, ngx_fd_t *fd);
void ngx_http_es_keyfile_unlock(ngx_fd_t fd, ngx_str_t *name,
    ngx_log_t *log);

/* the zone: the wall clock that records' "updated" is kept in */
uint64_t ngx_http_es_api_msec(void);


#endif /* _NGX_HTTP_EMBED_SESSION_APIKEY_FILE_H_INCLUDED_ */
