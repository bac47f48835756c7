
/*
 * Copyright (C) The ngx_http_embed_session_module authors
 *
 * The API key file, changed: the line of one record edited for the change
 * regenerate or revoke makes, every other byte kept, the new line parsed
 * again as a reload would; the file written to FILE.tmp.PID, synced and
 * renamed over the file.  All under a POSIX lock on FILE.lock, exclusive
 * for a change and shared while the master reads the file.
 */


#include "ngx_http_embed_session_module.h"
#include "ngx_http_embed_session_apikey.h"
#include "ngx_http_embed_session_apikey_int.h"
#include "ngx_http_embed_session_file.h"


/* a lock is held for the few milliseconds of one rewrite */
#define NGX_HTTP_ES_KEYFILE_LOCK_TRIES    100       /* of 10 ms each */
#define NGX_HTTP_ES_KEYFILE_READ_TRIES    500


/* where edit_line() writes: with pos NULL it only counts */

typedef struct {
    u_char                     *pos;
    u_char                     *end;
    size_t                      len;
    ngx_uint_t                  overflow;
} ngx_http_es_keyfile_out_t;


static ngx_int_t ngx_http_es_keyfile_edited(ngx_http_es_keyfile_line_t *kl,
    ngx_http_es_api_change_t *ch);
static void ngx_http_es_keyfile_edit(ngx_http_es_keyfile_out_t *o,
    u_char *p, u_char *last, ngx_http_es_api_change_t *ch);
static void ngx_http_es_keyfile_out(ngx_http_es_keyfile_out_t *o, void *p,
    size_t len);
static void ngx_http_es_keyfile_out_key(ngx_http_es_keyfile_out_t *o,
    char *name, ngx_str_t *lookup, u_char *hash);
static ngx_int_t ngx_http_es_keyfile_write(ngx_pool_t *pool, ngx_log_t *log,
    ngx_http_es_api_zone_t *zone, u_char *buf, size_t len,
    ngx_file_info_t *fi);


/*
 * Only a warning: the requests that change keys would fail with
 * KEY_STORE_FAILED when the workers' user cannot create FILE.tmp.PID
 * next to the file, rename it, or lock FILE.lock.
 */

void
ngx_http_es_keyfile_check_writable(ngx_http_es_api_zone_t *zone,
    ngx_log_t *log)
{
    u_char           *p, dir[NGX_MAX_PATH];
    size_t            len;
    ngx_uid_t         uid;
    ngx_gid_t         gid;
    ngx_file_info_t   fi;

    if (ngx_http_es_workers(zone->cycle, &uid, &gid) != NGX_OK
        || uid == 0)
    {
        return;
    }

    p = zone->file.data + zone->file.len;

    while (p > zone->file.data && p[-1] != '/') {
        p--;
    }

    len = (p > zone->file.data + 1) ? (size_t) (p - 1 - zone->file.data) : 1;

    if (len >= NGX_MAX_PATH) {
        return;
    }

    ngx_cpystrn(dir, zone->file.data, len + 1);

    if (ngx_file_info(dir, &fi) != NGX_FILE_ERROR
        && !ngx_http_es_writable(&fi, uid, gid))
    {
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "embed_session_api_keys: the directory \"%s\" of "
                      "\"%V\" is not writable by the worker processes "
                      "(uid %d): key regeneration and revocation will fail",
                      dir, &zone->file, (int) uid);
        return;
    }

    if (ngx_file_info(zone->lock.data, &fi) != NGX_FILE_ERROR
        && !ngx_http_es_writable(&fi, uid, gid))
    {
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "embed_session_api_keys: the lock file \"%V\" is not "
                      "writable by the worker processes (uid %d): key "
                      "regeneration and revocation will fail",
                      &zone->lock, (int) uid);
    }
}


/*
 * The file with the line of ch->id changed and every other byte kept;
 * NGX_ERROR, logged, when it cannot be: the ID is not in the file, or
 * twice, or its line would not load (the file may have been edited since
 * the last reload).  Then the file is not touched.
 */

ngx_int_t
ngx_http_es_keyfile_rewrite(ngx_pool_t *pool, ngx_log_t *log,
    ngx_http_es_api_zone_t *zone, ngx_http_es_api_change_t *ch)
{
    u_char                      *out, *last, *eol, *line, *o;
    u_char                       err[NGX_MAX_CONF_ERRSTR];
    size_t                       len;
    ngx_int_t                    rc;
    ngx_str_t                    buf;
    ngx_uint_t                   n, at;
    ngx_file_info_t              fi;
    ngx_http_es_keyfile_line_t   kl;

    rc = ngx_http_es_file_read(NULL, pool, log, "embed_session_api_keys: ",
                               &zone->file, NGX_HTTP_ES_KEY_FILE_MAX,
                               &buf, &fi);

    if (rc == NGX_DECLINED) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "embed_session_api_keys: \"%V\" is larger than %uz "
                      "bytes", &zone->file, (size_t) NGX_HTTP_ES_KEY_FILE_MAX);
    }

    if (rc != NGX_OK) {
        return NGX_ERROR;
    }

    last = buf.data + buf.len;

    rc = ngx_http_es_keyfile_find_line(buf.data, last, &ch->id, &line, &eol,
                                       &at, &n);

    if (rc == NGX_DECLINED) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "embed_session_api_keys: entry \"%V\" is no longer in "
                      "\"%V\"", &ch->id, &zone->file);
        return NGX_ERROR;
    }

    if (rc == NGX_ERROR) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "embed_session_api_keys: \"%V\", line %ui, entry "
                      "\"%V\": duplicate ID (first on line %ui): the key "
                      "file is not changed", &zone->file, n, &ch->id, at);
        return NGX_ERROR;
    }

    /* the line checked as a reload would, then sized, then written */

    kl.rec = ngx_palloc(pool, NGX_HTTP_ES_KEYFILE_REC_SIZE);
    if (kl.rec == NULL) {
        return NGX_ERROR;
    }

    kl.err = err;
    kl.err_len = sizeof(err);

    ngx_cpystrn(err, (u_char *) "cannot be changed", sizeof(err));

    out = NULL;
    o = NULL;
    len = 0;

    rc = ngx_http_es_keyfile_edit_line(&kl, line, eol, ch, NULL, &len);

    if (rc == NGX_DECLINED) {
        out = ngx_pnalloc(pool, (line - buf.data) + len + (last - eol));
        if (out == NULL) {
            return NGX_ERROR;
        }

        o = ngx_cpymem(out, buf.data, line - buf.data);

        rc = ngx_http_es_keyfile_edit_line(&kl, line, eol, ch, o, &len);

        if (rc == NGX_OK) {
            o = ngx_cpymem(o + len, eol, last - eol);
        }
    }

    if (rc != NGX_OK) {
        if (kl.entry.len) {
            ngx_log_error(NGX_LOG_ERR, log, 0,
                          "embed_session_api_keys: \"%V\", line %ui, entry "
                          "\"%V\": %s: the key file is not changed",
                          &zone->file, at, &kl.entry, err);

        } else {
            ngx_log_error(NGX_LOG_ERR, log, 0,
                          "embed_session_api_keys: \"%V\", line %ui: %s: the "
                          "key file is not changed", &zone->file, at, err);
        }

        return NGX_ERROR;
    }

    if ((size_t) (o - out) > NGX_HTTP_ES_KEY_FILE_MAX) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "embed_session_api_keys: \"%V\" would grow "
                      "larger than %uz bytes", &zone->file,
                      (size_t) NGX_HTTP_ES_KEY_FILE_MAX);
        return NGX_ERROR;
    }

    return ngx_http_es_keyfile_write(pool, log, zone, out, o - out, &fi);
}


/* the line of the record ID: see apikey_int.h */

ngx_int_t
ngx_http_es_keyfile_find_line(u_char *p, u_char *last, ngx_str_t *id,
    u_char **line, u_char **eol, ngx_uint_t *at, ngx_uint_t *n)
{
    u_char  *q, *o;

    *line = NULL;
    *at = 0;

    for (*n = 1; p < last; p = q + 1, (*n)++) {
        q = ngx_strlchr(p, last, LF);
        if (q == NULL) {
            q = last;
        }

        for (o = p; o < q && (*o == ' ' || *o == '\t'); o++) {
            /* void */
        }

        if ((size_t) (q - o) < id->len
            || ngx_memcmp(o, id->data, id->len) != 0
            || (o + id->len < q && o[id->len] != ' ' && o[id->len] != '\t'))
        {
            continue;
        }

        /* a second one would fail the next reload */

        if (*line) {
            return NGX_ERROR;
        }

        *line = p;
        *eol = q;
        *at = *n;
    }

    return *line ? NGX_OK : NGX_DECLINED;
}


/* one line changed: see apikey_int.h */

ngx_int_t
ngx_http_es_keyfile_edit_line(ngx_http_es_keyfile_line_t *kl, u_char *p,
    u_char *last, ngx_http_es_api_change_t *ch, u_char *out, size_t *len)
{
    u_char                      reason[NGX_MAX_CONF_ERRSTR];
    ngx_int_t                   rc;
    ngx_str_t                   id;
    ngx_http_es_keyfile_out_t   o;

    rc = ngx_http_es_keyfile_parse_line(kl, p, last);

    if (rc == NGX_DECLINED) {
        return ngx_http_es_keyfile_fail(kl, "not a record");
    }

    if (rc != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_http_es_api_str(kl->rec, NGX_HTTP_ES_API_STR_ID, &id);

    if (id.len != ch->id.len || ngx_memcmp(id.data, ch->id.data, id.len)) {
        return ngx_http_es_keyfile_fail(kl, "not the record of \"%V\"",
                                        &ch->id);
    }

    /*
     * A line that loads has each field once; the size is still counted
     * by the walk that writes, and the writes are bounded by it.
     */

    ngx_memzero(&o, sizeof(ngx_http_es_keyfile_out_t));

    ngx_http_es_keyfile_edit(&o, p, last, ch);

    if (out == NULL || *len < o.len) {
        *len = o.len;
        return NGX_DECLINED;
    }

    o.pos = out;
    o.end = out + *len;
    o.len = 0;

    ngx_http_es_keyfile_edit(&o, p, last, ch);

    if (o.overflow) {
        return ngx_http_es_keyfile_fail(kl, "the line changed while it was "
                                        "written");
    }

    *len = o.len;

    /* what is written must load, and hold the change */

    rc = ngx_http_es_keyfile_parse_line(kl, out, out + o.len);

    if (rc != NGX_OK) {

        /* without room for a reason, fail() wrote none to copy */

        if (kl->err_len == 0) {
            return NGX_ERROR;
        }

        if (rc == NGX_DECLINED) {
            ngx_cpystrn(reason, (u_char *) "not a record", sizeof(reason));

        } else {
            ngx_cpystrn(reason, kl->err, sizeof(reason));
        }

        return ngx_http_es_keyfile_fail(kl, "the changed line would not "
                                        "load: %s", reason);
    }

    if (ngx_http_es_keyfile_edited(kl, ch) != NGX_OK) {
        return ngx_http_es_keyfile_fail(kl, "the changed line does not hold "
                                        "the change");
    }

    return NGX_OK;
}


/* the record parsed from a changed line holds the change */

static ngx_int_t
ngx_http_es_keyfile_edited(ngx_http_es_keyfile_line_t *kl,
    ngx_http_es_api_change_t *ch)
{
    ngx_str_t               s;
    ngx_http_es_api_rec_t  *rec;

    rec = kl->rec;

    ngx_http_es_api_str(rec, NGX_HTTP_ES_API_STR_ID, &s);

    if (s.len != ch->id.len || ngx_memcmp(s.data, ch->id.data, s.len)) {
        return NGX_ERROR;
    }

    if (ch->revoke) {
        return rec->revoked ? NGX_OK : NGX_ERROR;
    }

    ngx_http_es_api_str(rec, NGX_HTTP_ES_API_STR_LOOKUP, &s);

    if (s.len != ch->new_lookup.len
        || ngx_memcmp(s.data, ch->new_lookup.data, s.len) != 0
        || ngx_memcmp(rec->hash, ch->new_hash, NGX_HTTP_ES_API_HASH_LEN) != 0)
    {
        return NGX_ERROR;
    }

    if (ch->new_id_lookup.len == 0) {
        return NGX_OK;
    }

    ngx_http_es_api_str(rec, NGX_HTTP_ES_API_STR_ID_LOOKUP, &s);

    if (!rec->has_id_key
        || s.len != ch->new_id_lookup.len
        || ngx_memcmp(s.data, ch->new_id_lookup.data, s.len) != 0
        || ngx_memcmp(rec->id_hash, ch->new_id_hash, NGX_HTTP_ES_API_HASH_LEN)
           != 0)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * The line with key=/id_key= or status= replaced, the white space and
 * every other field as they were; a missing field is added at the end.
 */

static void
ngx_http_es_keyfile_edit(ngx_http_es_keyfile_out_t *o, u_char *p,
    u_char *last, ngx_http_es_api_change_t *ch)
{
    u_char      *start, *ws;
    size_t       len;
    ngx_uint_t   key, id_key, status;

    key = 0;
    id_key = 0;
    status = 0;
    ws = p;

    while (p < last) {
        ws = p;

        while (p < last && (*p == ' ' || *p == '\t')) {
            p++;
        }

        if (p == last) {
            break;
        }

        ngx_http_es_keyfile_out(o, ws, p - ws);
        ws = last;

        start = p;

        while (p < last && *p != ' ' && *p != '\t') {
            p++;
        }

        len = p - start;

        if (!ch->revoke && len > 4 && ngx_strncmp(start, "key=", 4) == 0) {
            ngx_http_es_keyfile_out_key(o, "key=", &ch->new_lookup,
                                        ch->new_hash);
            key = 1;
            continue;
        }

        if (!ch->revoke && ch->new_id_lookup.len && len > 7
            && ngx_strncmp(start, "id_key=", 7) == 0)
        {
            ngx_http_es_keyfile_out_key(o, "id_key=", &ch->new_id_lookup,
                                        ch->new_id_hash);
            id_key = 1;
            continue;
        }

        if (ch->revoke && len > 7 && ngx_strncmp(start, "status=", 7) == 0) {
            ngx_http_es_keyfile_out(o, "status=revoked", 14);
            status = 1;
            continue;
        }

        ngx_http_es_keyfile_out(o, start, len);
    }

    if (ch->revoke) {
        if (!status) {
            ngx_http_es_keyfile_out(o, " status=revoked", 15);
        }

    } else {
        if (!key) {
            ngx_http_es_keyfile_out_key(o, " key=", &ch->new_lookup,
                                        ch->new_hash);
        }

        if (ch->new_id_lookup.len && !id_key) {
            ngx_http_es_keyfile_out_key(o, " id_key=", &ch->new_id_lookup,
                                        ch->new_id_hash);
        }
    }

    /* the trailing white space, if any */

    ngx_http_es_keyfile_out(o, ws, last - ws);
}


/* counted always, written while it fits */

static void
ngx_http_es_keyfile_out(ngx_http_es_keyfile_out_t *o, void *p, size_t len)
{
    o->len += len;

    if (o->pos == NULL) {
        return;
    }

    if ((size_t) (o->end - o->pos) < len) {
        o->pos = NULL;
        o->overflow = 1;
        return;
    }

    o->pos = ngx_cpymem(o->pos, p, len);
}


/* NAME=LOOKUP:HEX64 */

static void
ngx_http_es_keyfile_out_key(ngx_http_es_keyfile_out_t *o, char *name,
    ngx_str_t *lookup, u_char *hash)
{
    u_char  hex[2 * NGX_HTTP_ES_API_HASH_LEN];

    ngx_http_es_keyfile_out(o, name, ngx_strlen(name));
    ngx_http_es_keyfile_out(o, lookup->data, lookup->len);
    ngx_http_es_keyfile_out(o, ":", 1);

    (void) ngx_hex_dump(hex, hash, NGX_HTTP_ES_API_HASH_LEN);

    ngx_http_es_keyfile_out(o, hex, sizeof(hex));
}


/*
 * FILE.tmp.PID, written and synced, with the mode (and, for root, the
 * owner) of FILE, renamed over FILE; then the directory is synced.
 */

static ngx_int_t
ngx_http_es_keyfile_write(ngx_pool_t *pool, ngx_log_t *log,
    ngx_http_es_api_zone_t *zone, u_char *buf, size_t len,
    ngx_file_info_t *fi)
{
    u_char     *tmp, *p;
    ssize_t     n;
    ngx_fd_t    fd;
    ngx_err_t   err;

    tmp = ngx_pnalloc(pool, zone->file.len + sizeof(".tmp.")
                               + NGX_INT64_LEN);
    if (tmp == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(tmp, "%V.tmp.%P%Z", &zone->file, ngx_pid);

    (void) ngx_delete_file(tmp);

    fd = ngx_open_file(tmp, NGX_FILE_WRONLY, NGX_FILE_CREATE_OR_OPEN|O_EXCL,
                       S_IRUSR|S_IWUSR);
    if (fd == NGX_INVALID_FILE) {
        ngx_log_error(NGX_LOG_ERR, log, ngx_errno,
                      "embed_session_api_keys: " ngx_open_file_n
                      " \"%s\" failed", tmp);
        return NGX_ERROR;
    }

    for (p = buf; p < buf + len; p += n) {
        n = ngx_write_fd(fd, p, buf + len - p);

        if (n == -1) {
            err = ngx_errno;

            if (err == NGX_EINTR) {
                n = 0;
                continue;
            }

            ngx_log_error(NGX_LOG_ERR, log, err,
                          "embed_session_api_keys: " ngx_write_fd_n
                          " \"%s\" failed", tmp);
            goto failed;
        }
    }

    if (fchmod(fd, ngx_file_access(fi)) == -1) {
        ngx_log_error(NGX_LOG_ERR, log, ngx_errno,
                      "embed_session_api_keys: fchmod() \"%s\" failed", tmp);
        goto failed;
    }

    if (geteuid() == 0 && fchown(fd, fi->st_uid, fi->st_gid) == -1) {
        ngx_log_error(NGX_LOG_ERR, log, ngx_errno,
                      "embed_session_api_keys: fchown() \"%s\" failed", tmp);
        goto failed;
    }

    if (fsync(fd) == -1) {
        ngx_log_error(NGX_LOG_ERR, log, ngx_errno,
                      "embed_session_api_keys: fsync() \"%s\" failed", tmp);
        goto failed;
    }

    if (ngx_close_file(fd) == NGX_FILE_ERROR) {
        ngx_log_error(NGX_LOG_ERR, log, ngx_errno,
                      "embed_session_api_keys: " ngx_close_file_n
                      " \"%s\" failed", tmp);
        fd = NGX_INVALID_FILE;
        goto failed;
    }

    fd = NGX_INVALID_FILE;

    if (ngx_rename_file(tmp, zone->file.data) == NGX_FILE_ERROR) {
        ngx_log_error(NGX_LOG_ERR, log, ngx_errno,
                      "embed_session_api_keys: " ngx_rename_file_n
                      " \"%s\" to \"%V\" failed", tmp, &zone->file);
        goto failed;
    }

    /* the rename is the change: a directory not synced is only logged */

    for (p = zone->file.data + zone->file.len; p > zone->file.data; p--) {
        if (p[-1] == '/') {
            break;
        }
    }

    if (p > zone->file.data) {
        tmp = ngx_pnalloc(pool, p - zone->file.data + 1);
        if (tmp == NULL) {
            return NGX_OK;
        }

        ngx_cpystrn(tmp, zone->file.data, p - zone->file.data + 1);

        fd = ngx_open_file(tmp, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);

        if (fd == NGX_INVALID_FILE || fsync(fd) == -1) {
            ngx_log_error(NGX_LOG_ERR, log, ngx_errno,
                          "embed_session_api_keys: fsync() of the directory "
                          "\"%s\" failed", tmp);
        }

        if (fd != NGX_INVALID_FILE) {
            (void) ngx_close_file(fd);
        }
    }

    return NGX_OK;

failed:

    if (fd != NGX_INVALID_FILE) {
        (void) ngx_close_file(fd);
    }

    (void) ngx_delete_file(tmp);

    return NGX_ERROR;
}


/*
 * FILE.lock: exclusive for a change, shared for reading the file (and
 * then only if the lock file exists: no change has happened otherwise).
 * A bounded wait: the lock is held only for the time of a rewrite.  The
 * lock file must be one nginx may trust, as the key file: it lies in a
 * directory the workers' user can write.
 */

ngx_int_t
ngx_http_es_keyfile_lock(ngx_cycle_t *cycle, ngx_str_t *name,
    ngx_uint_t write, ngx_log_t *log, ngx_uint_t level, ngx_fd_t *fdp)
{
    ngx_fd_t          fd;
    ngx_err_t         err;
    ngx_int_t         rc;
    ngx_uint_t        i, tries;
    struct flock      fl;
    ngx_file_info_t   fi;

    *fdp = NGX_INVALID_FILE;

    tries = write ? NGX_HTTP_ES_KEYFILE_LOCK_TRIES
                  : NGX_HTTP_ES_KEYFILE_READ_TRIES;

    rc = ngx_http_es_file_open(cycle, NULL, log, level,
                               "embed_session_api_keys: ", name,
                               NGX_HTTP_ES_FILE_LOCKFILE
                               | (write ? NGX_HTTP_ES_FILE_WRITE
                                        : NGX_HTTP_ES_FILE_MAY_MISS),
                               &fd, &fi);

    if (rc == NGX_DECLINED) {
        return NGX_OK;
    }

    if (rc != NGX_OK) {
        return NGX_ERROR;
    }

    for (i = 0; /* void */ ; i++) {

        ngx_memzero(&fl, sizeof(struct flock));
        fl.l_type = write ? F_WRLCK : F_RDLCK;
        fl.l_whence = SEEK_SET;

        if (fcntl(fd, F_SETLK, &fl) != -1) {
            *fdp = fd;
            return NGX_OK;
        }

        err = ngx_errno;

        if ((err != NGX_EAGAIN && err != NGX_EACCES) || i == tries) {
            break;
        }

        ngx_msleep(10);
    }

    (void) ngx_close_file(fd);

    if (write) {
        ngx_log_error(level, log, err,
                      "embed_session_api_keys: fcntl() lock \"%V\" failed",
                      name);
        return NGX_ERROR;
    }

    ngx_log_error(NGX_LOG_WARN, log, err,
                  "embed_session_api_keys: fcntl() lock \"%V\" failed, "
                  "reading the key file without it", name);

    return NGX_OK;
}


void
ngx_http_es_keyfile_unlock(ngx_fd_t fd, ngx_str_t *name, ngx_log_t *log)
{
    if (ngx_unlock_fd(fd) != 0) {
        ngx_log_error(NGX_LOG_ALERT, log, ngx_errno,
                      "embed_session_api_keys: fcntl() unlock \"%V\" failed",
                      name);
    }

    if (ngx_close_file(fd) == NGX_FILE_ERROR) {
        ngx_log_error(NGX_LOG_ALERT, log, ngx_errno,
                      ngx_close_file_n " \"%V\" failed", name);
    }
}
