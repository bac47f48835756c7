
/*
 * Copyright (C) The ngx_http_embed_session_module authors
 *
 * The API key file, as the rest of the family sees it: one line parsed
 * (apikey_file.c), found and edited (apikey_rewrite.c), the load of the
 * whole file into a zone's records, the rewrite of one line, the lock.
 * The record and the zone are ngx_http_embed_session_apikey_zone.h's.
 */


#ifndef _NGX_HTTP_EMBED_SESSION_APIKEY_FILE_H_INCLUDED_
#define _NGX_HTTP_EMBED_SESSION_APIKEY_FILE_H_INCLUDED_


#include "ngx_http_embed_session_module.h"
#include "ngx_http_embed_session_apikey_zone.h"


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
ngx_int_t ngx_http_es_keyfile_rewrite(ngx_http_request_t *r,
    ngx_http_es_api_zone_t *zone, ngx_http_es_api_change_t *ch);
ngx_int_t ngx_http_es_keyfile_lock(ngx_cycle_t *cycle, ngx_str_t *name,
    ngx_uint_t write, ngx_log_t *log, ngx_uint_t level, ngx_fd_t *fd);
void ngx_http_es_keyfile_unlock(ngx_fd_t fd, ngx_str_t *name,
    ngx_log_t *log);

/* PREFIX ([A-Za-z0-9_]* ending in "_", or empty) + 40 of [A-Za-z0-9] */
ngx_int_t ngx_http_es_api_is_raw_key(u_char *p, size_t len);


#endif /* _NGX_HTTP_EMBED_SESSION_APIKEY_FILE_H_INCLUDED_ */
