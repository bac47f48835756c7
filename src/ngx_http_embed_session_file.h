
/*
 * Copyright (C) The ngx_http_embed_session_module authors
 *
 * Files nginx may trust with keys (file.c): the open that checks them,
 * and the read of a whole one.
 */


#ifndef _NGX_HTTP_EMBED_SESSION_FILE_H_INCLUDED_
#define _NGX_HTTP_EMBED_SESSION_FILE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


/* how ngx_http_es_file_open() opens */
#define NGX_HTTP_ES_FILE_WRITE        0x01      /* read-write, create */
#define NGX_HTTP_ES_FILE_MAY_MISS     0x02      /* absent: NGX_DECLINED */
#define NGX_HTTP_ES_FILE_LOCKFILE     0x04      /* "lock file" in messages */


/*
 * A whole key file of at most max bytes (the API key file, a verifier's
 * key file, the mint's signing key), read at configuration time with cf
 * or for a request with r; NGX_DECLINED, not logged, when it is larger.
 * Other errors are logged, who ("" or "directive: ") before the message.
 * The file must be one nginx may trust (ngx_http_es_file_open()).
 */
ngx_int_t ngx_http_es_file_read(ngx_conf_t *cf, ngx_pool_t *pool,
    ngx_log_t *log, const char *who, ngx_str_t *name, size_t max,
    ngx_str_t *buf, ngx_file_info_t *fi);

/*
 * open(): a regular file, not a symbolic link, of a trusted owner and
 * mode (file.c says which); NGX_OK with *fdp and *fi, NGX_DECLINED when
 * the file is absent and flags allow it, NGX_ERROR, logged at level (as
 * the directive being read when cf is given)
 */
ngx_int_t ngx_http_es_file_open(ngx_cycle_t *cycle, ngx_conf_t *cf,
    ngx_log_t *log, ngx_uint_t level, const char *who, ngx_str_t *name,
    ngx_uint_t flags, ngx_fd_t *fdp, ngx_file_info_t *fi);


#endif /* _NGX_HTTP_EMBED_SESSION_FILE_H_INCLUDED_ */
