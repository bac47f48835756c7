
/*
 * Copyright (C) The ngx_http_embed_session_module authors
 *
 * Reading a file that nginx may trust with keys: the API key file and its
 * lock file, a verifier's key files, the mint's signing key.  The rule of
 * which files those are (a regular file of a trusted owner and mode,
 * never a symbolic link, a FIFO or a device), the open that keeps to it,
 * and the bounded read of a whole file into a buffer that is wiped when
 * the read fails.
 */


#include "ngx_http_embed_session_module.h"
#include "ngx_http_embed_session_file.h"


static const char *ngx_http_es_file_trusted(ngx_cycle_t *cycle,
    ngx_file_info_t *fi, ngx_uint_t *details);
static void ngx_http_es_file_log(ngx_conf_t *cf, ngx_log_t *log,
    ngx_uint_t level, ngx_err_t err, const char *fmt, ...);


/*
 * With cf, errors are those of the directive being read (emerg, with its
 * place in the configuration), else errors of the request r.  The buffer
 * is wiped when the read fails: a key file may hold secrets.
 */

ngx_int_t
ngx_http_es_file_read(ngx_conf_t *cf, ngx_pool_t *rpool, ngx_log_t *rlog,
    const char *who, ngx_str_t *name, size_t max, ngx_str_t *buf,
    ngx_file_info_t *fi)
{
    u_char           *p;
    size_t            size;
    ssize_t           n;
    ngx_fd_t          fd;
    ngx_int_t         rc;
    ngx_log_t        *log;
    ngx_uint_t        level;
    ngx_pool_t       *pool;
    ngx_cycle_t      *cycle;
    ngx_file_info_t   info;

    if (cf) {
        log = cf->log;
        pool = cf->temp_pool;
        level = NGX_LOG_EMERG;
        cycle = cf->cycle;

    } else {
        log = rlog;
        pool = rpool;
        level = NGX_LOG_ERR;
        cycle = (ngx_cycle_t *) ngx_cycle;
    }

    if (fi == NULL) {
        fi = &info;
    }

    ngx_str_null(buf);

    if (ngx_http_es_file_open(cycle, cf, log, level, who, name, 0, &fd, fi)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    rc = NGX_ERROR;
    p = NULL;
    size = 0;

    /* the size of a regular file: what is read is bounded by it */

    if (ngx_file_size(fi) > (off_t) max) {
        rc = NGX_DECLINED;
        goto done;
    }

    size = (size_t) ngx_file_size(fi);

    p = ngx_pnalloc(pool, size + 1);
    if (p == NULL) {
        goto done;
    }

    n = ngx_read_fd(fd, p, size);

    if (n == -1) {
        ngx_http_es_file_log(cf, log, level, ngx_errno,
                             "%s" ngx_read_fd_n " \"%V\" failed",
                             who, name);
        goto done;
    }

    if ((size_t) n != size) {
        ngx_http_es_file_log(cf, log, level, 0,
                             "%s" ngx_read_fd_n " \"%V\" returned only "
                             "%z bytes instead of %uz", who, name, n,
                             size);
        goto done;
    }

    buf->data = p;
    buf->len = size;

    rc = NGX_OK;

done:

    if (rc != NGX_OK && p) {
        ngx_explicit_memzero(p, size);
    }

    if (ngx_close_file(fd) == NGX_FILE_ERROR) {
        ngx_http_es_file_log(cf, log, NGX_LOG_ALERT, ngx_errno,
                             ngx_close_file_n " \"%V\" failed", name);
    }

    return rc;
}


/*
 * A file that nginx may trust with keys.  The master reads key files as
 * root, and the API key file's directory must be writable by the workers'
 * user (regenerate and revoke rename a new file into it): whoever runs
 * as that user must not be able to make the master read another file, or
 * hang it.  So a key file (and FILE.lock) is a regular file, never a
 * symbolic link (the last component: O_NOFOLLOW), a FIFO (whose open
 * would block "nginx -t"), a device or a directory; nothing but its owner
 * and root may write it; and with the master running as root, it belongs
 * to root or to the workers' user, has one link (a hard link can name
 * any file), and only root's group or the workers' may write it.
 *
 * The type is checked before the open, so that a device is never opened,
 * and again on the descriptor, which is what was read.  NGX_OK with *fdp
 * and *fi; NGX_DECLINED when the file is absent and may be; NGX_ERROR,
 * logged.
 */

ngx_int_t
ngx_http_es_file_open(ngx_cycle_t *cycle, ngx_conf_t *cf, ngx_log_t *log,
    ngx_uint_t level, const char *who, ngx_str_t *name, ngx_uint_t flags,
    ngx_fd_t *fdp, ngx_file_info_t *fi)
{
    int          mode, create, access;
    char        *what;
    ngx_fd_t     fd;
    ngx_err_t    err;
    ngx_uint_t   details;
    const char  *why;

    what = (flags & NGX_HTTP_ES_FILE_LOCKFILE) ? "lock file" : "key file";

    *fdp = NGX_INVALID_FILE;

    if (ngx_link_info(name->data, fi) == NGX_FILE_ERROR) {

        if (ngx_errno == NGX_ENOENT
            && (flags & NGX_HTTP_ES_FILE_MAY_MISS))
        {
            return NGX_DECLINED;
        }

        /* the open() below fails alike, or makes a lock file */

    } else {
        why = ngx_http_es_file_trusted(cycle, fi, &details);

        if (why) {
            goto untrusted;
        }
    }

    if (flags & NGX_HTTP_ES_FILE_WRITE) {
        mode = NGX_FILE_RDWR;
        create = NGX_FILE_CREATE_OR_OPEN;
        access = S_IRUSR|S_IWUSR;

    } else {
        mode = NGX_FILE_RDONLY;
        create = NGX_FILE_OPEN;
        access = 0;
    }

    fd = ngx_open_file(name->data, mode|NGX_FILE_NONBLOCK|O_NOFOLLOW|O_NOCTTY,
                       create, access);

    if (fd == NGX_INVALID_FILE) {
        err = ngx_errno;

        if (err == NGX_ENOENT && (flags & NGX_HTTP_ES_FILE_MAY_MISS)) {
            return NGX_DECLINED;
        }

        /* Linux says ELOOP for a symbolic link and O_NOFOLLOW, BSD EMLINK */

        if (err == NGX_ELOOP || err == EMLINK) {
            why = "is a symbolic link: name the file itself";
            details = 0;
            goto untrusted;
        }

        ngx_http_es_file_log(cf, log, level, err,
                             "%s" ngx_open_file_n " \"%V\" failed",
                             who, name);
        return NGX_ERROR;
    }

    if (ngx_fd_info(fd, fi) == NGX_FILE_ERROR) {
        ngx_http_es_file_log(cf, log, level, ngx_errno,
                             "%s" ngx_fd_info_n " \"%V\" failed",
                             who, name);
        goto failed;
    }

    why = ngx_http_es_file_trusted(cycle, fi, &details);

    if (why) {
        (void) ngx_close_file(fd);
        goto untrusted;
    }

    /* a regular file: reads never wait anyway, but say so */

    if (ngx_blocking(fd) == -1) {
        ngx_http_es_file_log(cf, log, level, ngx_errno,
                             "%s" ngx_blocking_n " \"%V\" failed",
                             who, name);
        goto failed;
    }

    *fdp = fd;

    return NGX_OK;

failed:

    (void) ngx_close_file(fd);

    return NGX_ERROR;

untrusted:

    if (details) {
        /* the mode in octal, which ngx_sprintf() does not write */

        ngx_http_es_file_log(cf, log, level, 0,
                             "%s%s \"%V\" %s (owner uid %d, group gid %d, "
                             "mode %ui%ui%ui%ui)", who, what, name, why,
                             (int) fi->st_uid, (int) fi->st_gid,
                             (ngx_uint_t) (fi->st_mode >> 9) & 7,
                             (ngx_uint_t) (fi->st_mode >> 6) & 7,
                             (ngx_uint_t) (fi->st_mode >> 3) & 7,
                             (ngx_uint_t) fi->st_mode & 7);

    } else {
        ngx_http_es_file_log(cf, log, level, 0, "%s%s \"%V\" %s",
                             who, what, name, why);
    }

    return NGX_ERROR;
}


/* NULL, or why nginx may not trust the file: see above */

static const char *
ngx_http_es_file_trusted(ngx_cycle_t *cycle, ngx_file_info_t *fi,
    ngx_uint_t *details)
{
    ngx_uid_t  uid;
    ngx_gid_t  gid;
    ngx_int_t  known;

    *details = 0;

    if (S_ISLNK(fi->st_mode)) {
        return "is a symbolic link: name the file itself";
    }

    if (!S_ISREG(fi->st_mode)) {
        return "is not a regular file";
    }

    *details = 1;

    if (fi->st_mode & S_IWOTH) {
        return "is writable by other users";
    }

    /* not root: the master reads nothing the workers could not */

    if (geteuid() != 0) {
        return NULL;
    }

    known = (ngx_http_es_workers(cycle, &uid, &gid) == NGX_OK);

    if (fi->st_uid != 0 && !(known && fi->st_uid == uid)) {
        return "belongs to neither root nor the workers' user";
    }

    if ((fi->st_mode & S_IWGRP)
        && fi->st_gid != 0 && !(known && fi->st_gid == gid))
    {
        return "is writable by a group other than root's and the workers'";
    }

    if (fi->st_nlink != 1) {
        return "has more than one hard link";
    }

    return NULL;
}


static void
ngx_http_es_file_log(ngx_conf_t *cf, ngx_log_t *log, ngx_uint_t level,
    ngx_err_t err, const char *fmt, ...)
{
    u_char   *p, buf[NGX_MAX_ERROR_STR];
    va_list   args;

    va_start(args, fmt);
    p = ngx_vslprintf(buf, buf + sizeof(buf), fmt, args);
    va_end(args);

    if (cf) {
        ngx_conf_log_error(level, cf, err, "%*s", (size_t) (p - buf), buf);

    } else {
        ngx_log_error(level, log, err, "%*s", (size_t) (p - buf), buf);
    }
}
