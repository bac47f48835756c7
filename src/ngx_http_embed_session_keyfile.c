
/*
 * Copyright (C) The ngx_http_embed_session_module authors
 *
 * The API key file: read with the configuration, one record a line,
 * checked field by field with "file, line, entry" in every message; and
 * rewritten for the changes regenerate and revoke make: one line edited,
 * written to FILE.tmp.PID, synced and renamed over the file.  Both under
 * a POSIX lock on FILE.lock: shared while the master reads, exclusive for
 * a change.  Also the reading of a whole key file of limited size, which
 * the verifier's key files share, and the rule of which files nginx may
 * trust with keys.
 */


#include "ngx_http_embed_session_module.h"
#include "ngx_http_embed_session_apikeys.h"
#include "ngx_http_embed_session_keyfile.h"
#include "ngx_http_embed_session_origin.h"


#define NGX_HTTP_ES_KEYFILE_ID_MAX        64
#define NGX_HTTP_ES_KEYFILE_SCOPE_MAX     32
#define NGX_HTTP_ES_KEYFILE_ITEM_MAX      128
#define NGX_HTTP_ES_KEYFILE_SERIAL_LEN    32        /* hex digits */
#define NGX_HTTP_ES_KEYFILE_PREFIX_MAX                                       \
    (NGX_HTTP_ES_API_KEY_MAX - NGX_HTTP_ES_API_KEY_RANDOM)

/* a lock is held for the few milliseconds of one rewrite */
#define NGX_HTTP_ES_KEYFILE_LOCK_TRIES    100       /* of 10 ms each */
#define NGX_HTTP_ES_KEYFILE_READ_TRIES    500

/* how ngx_http_es_keyfile_open() opens */
#define NGX_HTTP_ES_KEYFILE_WRITE         0x01      /* read-write, create */
#define NGX_HTTP_ES_KEYFILE_MAY_MISS      0x02      /* absent: NGX_DECLINED */
#define NGX_HTTP_ES_KEYFILE_LOCKFILE      0x04      /* for messages */


/*
 * The fields of a line; key to flags go to the record strings LOOKUP to
 * FLAGS, which are in the same order: ngx_http_es_keyfile_str().
 */

typedef enum {
    NGX_HTTP_ES_KEYFILE_F_KEY = 0,
    NGX_HTTP_ES_KEYFILE_F_ID_KEY,
    NGX_HTTP_ES_KEYFILE_F_SCOPE,
    NGX_HTTP_ES_KEYFILE_F_TENANT,
    NGX_HTTP_ES_KEYFILE_F_RESOURCES,
    NGX_HTTP_ES_KEYFILE_F_GRANTS,
    NGX_HTTP_ES_KEYFILE_F_ORIGINS,
    NGX_HTTP_ES_KEYFILE_F_FLAGS,
    NGX_HTTP_ES_KEYFILE_F_RATE,
    NGX_HTTP_ES_KEYFILE_F_STATUS,
    NGX_HTTP_ES_KEYFILE_F_EXPIRES,
    NGX_HTTP_ES_KEYFILE_F_SERIAL,
    NGX_HTTP_ES_KEYFILE_NFIELDS
} ngx_http_es_keyfile_field_e;

#define ngx_http_es_keyfile_str(field)                                       \
    (NGX_HTTP_ES_API_STR_LOOKUP + (field) - NGX_HTTP_ES_KEYFILE_F_KEY)


/* the whole file: what one line cannot know */

typedef struct {
    ngx_conf_t                 *cf;
    ngx_http_es_api_zone_t     *zone;
    ngx_uint_t                  line;
    ngx_str_t                   entry;

    ngx_rbtree_t                ids;
    ngx_rbtree_node_t           ids_sentinel;
    ngx_rbtree_t                lookups;
    ngx_rbtree_node_t           lookups_sentinel;

    ngx_http_es_api_rec_t      *rec;        /* the one being built */
} ngx_http_es_keyfile_parse_t;


/* where edit_line() writes: with pos NULL it only counts */

typedef struct {
    u_char                     *pos;
    u_char                     *end;
    size_t                      len;
    ngx_uint_t                  overflow;
} ngx_http_es_keyfile_out_t;


static ngx_int_t ngx_http_es_keyfile_open(ngx_cycle_t *cycle, ngx_conf_t *cf,
    ngx_log_t *log, ngx_uint_t level, const char *who, ngx_str_t *name,
    ngx_uint_t flags, ngx_fd_t *fdp, ngx_file_info_t *fi);
static const char *ngx_http_es_keyfile_trusted(ngx_cycle_t *cycle,
    ngx_file_info_t *fi, ngx_uint_t *details);
static void ngx_http_es_keyfile_log(ngx_conf_t *cf, ngx_log_t *log,
    ngx_uint_t level, ngx_err_t err, const char *fmt, ...);
static char *ngx_http_es_keyfile_parse(ngx_http_es_keyfile_parse_t *ps,
    u_char *p, u_char *last);
static ngx_int_t ngx_http_es_keyfile_parse_field(
    ngx_http_es_keyfile_line_t *kl, ngx_uint_t field, ngx_str_t *name,
    ngx_str_t *value);
static ngx_int_t ngx_http_es_keyfile_parse_key(ngx_http_es_keyfile_line_t *kl,
    ngx_uint_t field, ngx_str_t *name, ngx_str_t *value);
static ngx_int_t ngx_http_es_keyfile_parse_list(
    ngx_http_es_keyfile_line_t *kl, ngx_uint_t field, ngx_str_t *name,
    ngx_str_t *value);
static ngx_int_t ngx_http_es_keyfile_owner(ngx_http_es_keyfile_line_t *kl,
    ngx_str_t *id, ngx_str_t *serial);
static char *ngx_http_es_keyfile_parse_done(ngx_http_es_keyfile_parse_t *ps);
static char *ngx_http_es_keyfile_unique(ngx_http_es_keyfile_parse_t *ps,
    ngx_rbtree_t *tree, ngx_str_t *name, const char *what);
static char *ngx_http_es_keyfile_error(ngx_http_es_keyfile_parse_t *ps,
    const char *fmt, ...);
static ngx_int_t ngx_http_es_keyfile_fail(ngx_http_es_keyfile_line_t *kl,
    const char *fmt, ...);
static ngx_int_t ngx_http_es_keyfile_put(ngx_http_es_api_rec_t *rec,
    ngx_uint_t n, u_char *p, size_t len);
static ngx_int_t ngx_http_es_keyfile_is_item(ngx_str_t *s, size_t max);
static ngx_str_t *ngx_http_es_keyfile_shown(ngx_str_t *value);
static ngx_int_t ngx_http_es_keyfile_hex(u_char *dst, u_char *src);
static ngx_int_t ngx_http_es_keyfile_edited(ngx_http_es_keyfile_line_t *kl,
    ngx_http_es_api_change_t *ch);
static void ngx_http_es_keyfile_edit(ngx_http_es_keyfile_out_t *o,
    u_char *p, u_char *last, ngx_http_es_api_change_t *ch);
static void ngx_http_es_keyfile_out(ngx_http_es_keyfile_out_t *o, void *p,
    size_t len);
static void ngx_http_es_keyfile_out_key(ngx_http_es_keyfile_out_t *o,
    char *name, ngx_str_t *lookup, u_char *hash);
static ngx_int_t ngx_http_es_keyfile_write(ngx_http_request_t *r,
    ngx_http_es_api_zone_t *zone, u_char *buf, size_t len,
    ngx_file_info_t *fi);


static ngx_str_t  ngx_http_es_keyfile_fields[] = {
    ngx_string("key"),
    ngx_string("id_key"),
    ngx_string("scope"),
    ngx_string("tenant"),
    ngx_string("resources"),
    ngx_string("grants"),
    ngx_string("origins"),
    ngx_string("flags"),
    ngx_string("rate"),
    ngx_string("status"),
    ngx_string("expires"),
    ngx_string("serial")
};


/* reading the key file *************************************************/

/* the key file, read under a shared lock so a rewrite is seen whole */

char *
ngx_http_es_keyfile_load(ngx_conf_t *cf, ngx_http_es_api_zone_t *zone)
{
    char                         *rv;
    ngx_fd_t                      lfd;
    ngx_int_t                     rc;
    ngx_str_t                     buf;
    ngx_http_es_keyfile_parse_t   ps;

    if (ngx_http_es_keyfile_lock(cf->cycle, &zone->lock, 0, cf->log,
                                 NGX_LOG_EMERG, &lfd)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    rv = NGX_CONF_ERROR;

    rc = ngx_http_es_keyfile_read(cf, NULL, "embed_session_api_keys: ",
                                  &zone->file, NGX_HTTP_ES_KEY_FILE_MAX,
                                  &buf, NULL);

    if (rc == NGX_DECLINED) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "embed_session_api_keys: \"%V\" is larger than "
                           "%uz bytes", &zone->file,
                           (size_t) NGX_HTTP_ES_KEY_FILE_MAX);
    }

    if (rc != NGX_OK) {
        goto unlock;
    }

    /* later than any change the file holds: see ngx_http_es_api_carry() */

    zone->parsed = ngx_http_es_api_msec();

    ngx_memzero(&ps, sizeof(ngx_http_es_keyfile_parse_t));

    ps.cf = cf;
    ps.zone = zone;

    rv = ngx_http_es_keyfile_parse(&ps, buf.data, buf.data + buf.len);

unlock:

    if (lfd != NGX_INVALID_FILE) {
        ngx_http_es_keyfile_unlock(lfd, &zone->lock, cf->log);
    }

    return rv;
}


/*
 * With cf, errors are those of the directive being read (emerg, with its
 * place in the configuration), else errors of the request r.  The buffer
 * is wiped when the read fails: a key file may hold secrets.
 */

ngx_int_t
ngx_http_es_keyfile_read(ngx_conf_t *cf, ngx_http_request_t *r,
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
        log = r->connection->log;
        pool = r->pool;
        level = NGX_LOG_ERR;
        cycle = (ngx_cycle_t *) ngx_cycle;
    }

    if (fi == NULL) {
        fi = &info;
    }

    ngx_str_null(buf);

    if (ngx_http_es_keyfile_open(cycle, cf, log, level, who, name, 0, &fd,
                                 fi)
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
        ngx_http_es_keyfile_log(cf, log, level, ngx_errno,
                                "%s" ngx_read_fd_n " \"%V\" failed",
                                who, name);
        goto done;
    }

    if ((size_t) n != size) {
        ngx_http_es_keyfile_log(cf, log, level, 0,
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
        ngx_http_es_keyfile_log(cf, log, NGX_LOG_ALERT, ngx_errno,
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

static ngx_int_t
ngx_http_es_keyfile_open(ngx_cycle_t *cycle, ngx_conf_t *cf, ngx_log_t *log,
    ngx_uint_t level, const char *who, ngx_str_t *name, ngx_uint_t flags,
    ngx_fd_t *fdp, ngx_file_info_t *fi)
{
    int          mode, create, access;
    char        *what;
    ngx_fd_t     fd;
    ngx_err_t    err;
    ngx_uint_t   details;
    const char  *why;

    what = (flags & NGX_HTTP_ES_KEYFILE_LOCKFILE) ? "lock file" : "key file";

    *fdp = NGX_INVALID_FILE;

    if (ngx_link_info(name->data, fi) == NGX_FILE_ERROR) {

        if (ngx_errno == NGX_ENOENT
            && (flags & NGX_HTTP_ES_KEYFILE_MAY_MISS))
        {
            return NGX_DECLINED;
        }

        /* the open() below fails alike, or makes a lock file */

    } else {
        why = ngx_http_es_keyfile_trusted(cycle, fi, &details);

        if (why) {
            goto untrusted;
        }
    }

    if (flags & NGX_HTTP_ES_KEYFILE_WRITE) {
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

        if (err == NGX_ENOENT && (flags & NGX_HTTP_ES_KEYFILE_MAY_MISS)) {
            return NGX_DECLINED;
        }

        /* Linux says ELOOP for a symbolic link and O_NOFOLLOW, BSD EMLINK */

        if (err == NGX_ELOOP || err == EMLINK) {
            why = "is a symbolic link: name the file itself";
            details = 0;
            goto untrusted;
        }

        ngx_http_es_keyfile_log(cf, log, level, err,
                                "%s" ngx_open_file_n " \"%V\" failed",
                                who, name);
        return NGX_ERROR;
    }

    if (ngx_fd_info(fd, fi) == NGX_FILE_ERROR) {
        ngx_http_es_keyfile_log(cf, log, level, ngx_errno,
                                "%s" ngx_fd_info_n " \"%V\" failed",
                                who, name);
        goto failed;
    }

    why = ngx_http_es_keyfile_trusted(cycle, fi, &details);

    if (why) {
        (void) ngx_close_file(fd);
        goto untrusted;
    }

    /* a regular file: reads never wait anyway, but say so */

    if (ngx_blocking(fd) == -1) {
        ngx_http_es_keyfile_log(cf, log, level, ngx_errno,
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

        ngx_http_es_keyfile_log(cf, log, level, 0,
                                "%s%s \"%V\" %s (owner uid %d, group gid %d, "
                                "mode %ui%ui%ui%ui)", who, what, name, why,
                                (int) fi->st_uid, (int) fi->st_gid,
                                (ngx_uint_t) (fi->st_mode >> 9) & 7,
                                (ngx_uint_t) (fi->st_mode >> 6) & 7,
                                (ngx_uint_t) (fi->st_mode >> 3) & 7,
                                (ngx_uint_t) fi->st_mode & 7);

    } else {
        ngx_http_es_keyfile_log(cf, log, level, 0, "%s%s \"%V\" %s",
                                who, what, name, why);
    }

    return NGX_ERROR;
}


/* NULL, or why nginx may not trust the file: see above */

static const char *
ngx_http_es_keyfile_trusted(ngx_cycle_t *cycle, ngx_file_info_t *fi,
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
ngx_http_es_keyfile_log(ngx_conf_t *cf, ngx_log_t *log, ngx_uint_t level,
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


static char *
ngx_http_es_keyfile_parse(ngx_http_es_keyfile_parse_t *ps, u_char *p,
    u_char *last)
{
    u_char                      *eol, err[NGX_MAX_CONF_ERRSTR];
    ngx_int_t                    rc;
    ngx_http_es_keyfile_line_t   kl;

    ngx_rbtree_init(&ps->ids, &ps->ids_sentinel, ngx_str_rbtree_insert_value);
    ngx_rbtree_init(&ps->lookups, &ps->lookups_sentinel,
                    ngx_str_rbtree_insert_value);

    ps->rec = ngx_palloc(ps->cf->temp_pool, NGX_HTTP_ES_KEYFILE_REC_SIZE);
    if (ps->rec == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(&kl, sizeof(ngx_http_es_keyfile_line_t));

    kl.rec = ps->rec;
    kl.err = err;
    kl.err_len = sizeof(err);

    while (p < last) {
        ps->line++;

        eol = ngx_strlchr(p, last, LF);
        if (eol == NULL) {
            eol = last;
        }

        rc = ngx_http_es_keyfile_parse_line(&kl, p, eol);

        ps->entry = kl.entry;

        if (rc == NGX_ERROR) {
            return ngx_http_es_keyfile_error(ps, "%s", err);
        }

        if (rc == NGX_OK) {
            if (ngx_http_es_keyfile_parse_done(ps) != NGX_CONF_OK) {
                return NGX_CONF_ERROR;
            }
        }

        p = eol + 1;
    }

    return NGX_CONF_OK;
}


/* one line: the checks of "nginx -t" that need no other line */

ngx_int_t
ngx_http_es_keyfile_parse_line(ngx_http_es_keyfile_line_t *kl, u_char *p,
    u_char *last)
{
    u_char                 *q, *start, *eq;
    ngx_int_t               rc;
    ngx_str_t               id, name, value, serial;
    ngx_uint_t              i, seen;
    ngx_http_es_api_rec_t  *rec;

    ngx_str_null(&kl->entry);

    for (q = p; q < last; q++) {
        if (*q == CR) {
            return ngx_http_es_keyfile_fail(kl, "carriage return in the line "
                                            "(save the file with Unix line "
                                            "ends)");
        }

        if ((*q < 0x20 && *q != '\t') || *q >= 0x7f) {
            return ngx_http_es_keyfile_fail(kl, "control or non-ASCII "
                                            "character");
        }
    }

    while (p < last && (*p == ' ' || *p == '\t')) {
        p++;
    }

    if (p == last || *p == '#') {
        return NGX_DECLINED;
    }

    id.data = p;

    while (p < last && *p != ' ' && *p != '\t') {
        p++;
    }

    id.len = p - id.data;

    if (id.len > NGX_HTTP_ES_KEYFILE_ID_MAX) {
        return ngx_http_es_keyfile_fail(kl, "invalid ID: use letters, digits, "
                                        "\".\", \"_\", \"-\", 1 to 64 "
                                        "characters");
    }

    for (i = 0; i < id.len; i++) {
        if (!(isalnum(id.data[i]) || id.data[i] == '_'
              || id.data[i] == '.' || id.data[i] == '-'))
        {
            return ngx_http_es_keyfile_fail(kl, "invalid ID: use letters, "
                                            "digits, \".\", \"_\", \"-\", 1 "
                                            "to 64 characters");
        }
    }

    /* a raw key pasted as the ID is never quoted back */

    if (ngx_http_es_api_is_raw_key(id.data, id.len)) {
        ngx_str_set(&kl->entry, "(not shown: looks like a raw key)");

    } else {
        kl->entry = id;
    }

    rec = kl->rec;
    ngx_memzero(rec, offsetof(ngx_http_es_api_rec_t, data));
    rec->expires = -1;

    (void) ngx_http_es_keyfile_put(rec, NGX_HTTP_ES_API_STR_ID, id.data,
                                   id.len);

    ngx_str_null(&serial);
    seen = 0;
    kl->field = 0;

    for ( ;; ) {
        while (p < last && (*p == ' ' || *p == '\t')) {
            p++;
        }

        if (p == last) {
            break;
        }

        start = p;

        while (p < last && *p != ' ' && *p != '\t') {
            p++;
        }

        kl->field++;

        eq = ngx_strlchr(start, p, '=');

        if (eq == NULL) {
            if (ngx_http_es_api_is_raw_key(start, p - start)) {
                return ngx_http_es_keyfile_fail(kl, "field %ui looks like a "
                                                "raw key; store its hash "
                                                "(key=LOOKUP:HEX64)",
                                                kl->field);
            }

            return ngx_http_es_keyfile_fail(kl, "field %ui is not NAME=VALUE",
                                            kl->field);
        }

        name.data = start;
        name.len = eq - start;
        value.data = eq + 1;
        value.len = p - value.data;

        for (i = 0; i < NGX_HTTP_ES_KEYFILE_NFIELDS; i++) {
            if (name.len == ngx_http_es_keyfile_fields[i].len
                && ngx_strncmp(name.data, ngx_http_es_keyfile_fields[i].data,
                               name.len) == 0)
            {
                break;
            }
        }

        if (i == NGX_HTTP_ES_KEYFILE_NFIELDS) {
            if (ngx_http_es_keyfile_is_item(&name, 32) != NGX_OK) {
                return ngx_http_es_keyfile_fail(kl, "field %ui is not "
                                                "NAME=VALUE", kl->field);
            }

            return ngx_http_es_keyfile_fail(kl, "unknown field \"%V\" "
                                            "(known: key id_key scope tenant "
                                            "resources grants origins flags "
                                            "rate status expires serial)",
                                            &name);
        }

        if (seen & (1 << i)) {
            return ngx_http_es_keyfile_fail(kl, "field \"%V\" given twice",
                                            &name);
        }

        seen |= 1 << i;

        if (value.len == 0) {
            return ngx_http_es_keyfile_fail(kl, "%V=: empty value", &name);
        }

        rc = ngx_http_es_keyfile_parse_field(kl, i, &name, &value);
        if (rc != NGX_OK) {
            return rc;
        }

        if (i == NGX_HTTP_ES_KEYFILE_F_SERIAL) {
            serial = value;
        }
    }

    if (!(seen & (1 << NGX_HTTP_ES_KEYFILE_F_KEY))) {
        return ngx_http_es_keyfile_fail(kl, "no key= field");
    }

    return ngx_http_es_keyfile_owner(kl, &id, &serial);
}


static ngx_int_t
ngx_http_es_keyfile_parse_field(ngx_http_es_keyfile_line_t *kl,
    ngx_uint_t field, ngx_str_t *name, ngx_str_t *value)
{
    u_char                 *p, *last;
    ngx_int_t               n;
    ngx_uint_t              i;
    ngx_http_es_api_rec_t  *rec;

    rec = kl->rec;

    switch (field) {

    case NGX_HTTP_ES_KEYFILE_F_KEY:
    case NGX_HTTP_ES_KEYFILE_F_ID_KEY:
        return ngx_http_es_keyfile_parse_key(kl, field, name, value);

    case NGX_HTTP_ES_KEYFILE_F_SCOPE:

        for (i = 0; i < value->len; i++) {
            if (!((value->data[i] >= 'a' && value->data[i] <= 'z')
                  || (value->data[i] >= '0' && value->data[i] <= '9')
                  || value->data[i] == '_' || value->data[i] == '-'))
            {
                break;
            }
        }

        if (i < value->len || value->len > NGX_HTTP_ES_KEYFILE_SCOPE_MAX) {
            return ngx_http_es_keyfile_fail(kl, "scope=: use lowercase "
                                            "letters, digits, \"_\", \"-\", "
                                            "1 to 32 characters");
        }

        break;

    case NGX_HTTP_ES_KEYFILE_F_TENANT:

        if (ngx_http_es_keyfile_is_item(value, NGX_HTTP_ES_KEYFILE_ITEM_MAX)
            != NGX_OK)
        {
            return ngx_http_es_keyfile_fail(kl, "tenant=: use letters, "
                                            "digits, \"_\", \".\", \":\", "
                                            "\"-\", 1 to 128 characters");
        }

        break;

    case NGX_HTTP_ES_KEYFILE_F_RESOURCES:
    case NGX_HTTP_ES_KEYFILE_F_GRANTS:
    case NGX_HTTP_ES_KEYFILE_F_ORIGINS:
    case NGX_HTTP_ES_KEYFILE_F_FLAGS:
        return ngx_http_es_keyfile_parse_list(kl, field, name, value);

    case NGX_HTTP_ES_KEYFILE_F_RATE:

        p = value->data;
        last = p + value->len;

        while (p < last && *p >= '0' && *p <= '9') {
            p++;
        }

        n = ngx_atoi(value->data, p - value->data);

        if (n < 1 || p - value->data > 9 || value->data[0] == '0'
            || last - p != 2 || p[0] != '/'
            || (p[1] != 's' && p[1] != 'm' && p[1] != 'h'))
        {
            return ngx_http_es_keyfile_fail(kl, "rate=%V: not N/s, N/m or N/h "
                                            "with N from 1 to 999999999",
                                            ngx_http_es_keyfile_shown(value));
        }

        rec->rate = n;
        rec->period = (p[1] == 's') ? 1 : (p[1] == 'm') ? 60 : 3600;

        return NGX_OK;

    case NGX_HTTP_ES_KEYFILE_F_STATUS:

        if (value->len == 6 && ngx_strncmp(value->data, "active", 6) == 0) {
            rec->revoked = 0;

        } else if (value->len == 7
                   && ngx_strncmp(value->data, "revoked", 7) == 0)
        {
            rec->revoked = 1;

        } else {
            return ngx_http_es_keyfile_fail(kl, "status=%V: not \"active\" or "
                                            "\"revoked\"",
                                            ngx_http_es_keyfile_shown(value));
        }

        return NGX_OK;

    case NGX_HTTP_ES_KEYFILE_F_SERIAL:

        /* not a secret, but never quoted: it could be anything pasted */

        for (i = 0; i < value->len; i++) {
            if (!((value->data[i] >= '0' && value->data[i] <= '9')
                  || (value->data[i] >= 'a' && value->data[i] <= 'f')))
            {
                break;
            }
        }

        if (i < value->len || value->len != NGX_HTTP_ES_KEYFILE_SERIAL_LEN) {
            return ngx_http_es_keyfile_fail(kl, "serial=: not 32 lowercase "
                                            "hex digits");
        }

        rec->has_serial = 1;

        return NGX_OK;

    default: /* NGX_HTTP_ES_KEYFILE_F_EXPIRES */

        n = (value->len <= 12) ? ngx_atotm(value->data, value->len)
                               : NGX_ERROR;

        if (n == NGX_ERROR) {
            return ngx_http_es_keyfile_fail(kl, "expires=%V: not Unix seconds "
                                            "(an integer)",
                                            ngx_http_es_keyfile_shown(value));
        }

        rec->expires = (time_t) n;

        return NGX_OK;
    }

    if (ngx_http_es_keyfile_put(rec, ngx_http_es_keyfile_str(field),
                                value->data, value->len)
        != NGX_OK)
    {
        return ngx_http_es_keyfile_fail(kl, "record longer than %d bytes",
                                        NGX_HTTP_ES_API_RECORD_MAX);
    }

    return NGX_OK;
}


/* key=LOOKUP:HEX64, id_key=LOOKUP:HEX64; never quoted in a message */

static ngx_int_t
ngx_http_es_keyfile_parse_key(ngx_http_es_keyfile_line_t *kl,
    ngx_uint_t field, ngx_str_t *name, ngx_str_t *value)
{
    u_char                 *colon;
    size_t                  i, prefix;
    ngx_str_t               lookup;
    ngx_http_es_api_rec_t  *rec;

    rec = kl->rec;

    colon = ngx_strlchr(value->data, value->data + value->len, ':');

    if (ngx_http_es_api_is_raw_key(value->data, value->len)
        || (colon && ngx_http_es_api_is_raw_key(value->data,
                                                colon - value->data)))
    {
        return ngx_http_es_keyfile_fail(kl, "%V=: looks like a raw key; store "
                                        "its hash (LOOKUP:HEX64)", name);
    }

    if (colon == NULL) {
        goto invalid;
    }

    lookup.data = value->data;
    lookup.len = colon - value->data;

    if (lookup.len < NGX_HTTP_ES_API_KEY_LOOKUP
        || value->len - lookup.len - 1 != 2 * NGX_HTTP_ES_API_HASH_LEN)
    {
        goto invalid;
    }

    prefix = lookup.len - NGX_HTTP_ES_API_KEY_LOOKUP;

    if (prefix > NGX_HTTP_ES_KEYFILE_PREFIX_MAX
        || (prefix && lookup.data[prefix - 1] != '_'))
    {
        goto invalid;
    }

    for (i = 0; i < lookup.len; i++) {
        if (!isalnum(lookup.data[i])
            && (i >= prefix || lookup.data[i] != '_'))
        {
            goto invalid;
        }
    }

    if (ngx_http_es_keyfile_hex(field == NGX_HTTP_ES_KEYFILE_F_KEY
                                ? rec->hash : rec->id_hash,
                                colon + 1)
        != NGX_OK)
    {
        goto invalid;
    }

    if (field == NGX_HTTP_ES_KEYFILE_F_ID_KEY) {
        rec->has_id_key = 1;
    }

    if (ngx_http_es_keyfile_put(rec, ngx_http_es_keyfile_str(field),
                                lookup.data, lookup.len)
        != NGX_OK)
    {
        return ngx_http_es_keyfile_fail(kl, "record longer than %d bytes",
                                        NGX_HTTP_ES_API_RECORD_MAX);
    }

    return NGX_OK;

invalid:

    return ngx_http_es_keyfile_fail(kl, "%V=: not LOOKUP:HEX64 (PREFIX + 8 of "
                                    "[A-Za-z0-9], \":\", 64 lowercase hex "
                                    "digits)", name);
}


/* resources, grants, flags: items; origins: normalised origins */

static ngx_int_t
ngx_http_es_keyfile_parse_list(ngx_http_es_keyfile_line_t *kl,
    ngx_uint_t field, ngx_str_t *name, ngx_str_t *value)
{
    u_char                 *p, *last, *comma, *start;
    size_t                  len;
    ngx_int_t               rc;
    ngx_str_t               item;
    ngx_http_es_api_rec_t  *rec;

    rec = kl->rec;
    start = rec->data + rec->len;

    p = value->data;
    last = p + value->len;

    for ( ;; ) {
        comma = ngx_strlchr(p, last, ',');

        item.data = p;
        item.len = (comma ? comma : last) - p;

        if (item.len == 0) {
            return ngx_http_es_keyfile_fail(kl, "%V=: empty item (commas must "
                                            "separate items)", name);
        }

        /* the item and a comma must fit; origins only get shorter */

        if (rec->len + item.len + 1 > NGX_HTTP_ES_API_RECORD_MAX) {
            return ngx_http_es_keyfile_fail(kl, "record longer than %d bytes",
                                            NGX_HTTP_ES_API_RECORD_MAX);
        }

        if (field == NGX_HTTP_ES_KEYFILE_F_ORIGINS) {
            rc = ngx_http_es_origin_normalize(rec->data + rec->len, &len,
                                              item.data, item.len, 0);

        } else {
            rc = ngx_http_es_keyfile_is_item(&item,
                                             NGX_HTTP_ES_KEYFILE_ITEM_MAX);
            len = item.len;

            if (rc == NGX_OK) {
                ngx_memcpy(rec->data + rec->len, item.data, len);
            }
        }

        if (rc != NGX_OK) {
            if (ngx_http_es_api_is_raw_key(item.data, item.len)) {
                ngx_str_set(&item, "(not shown)");
            }

            if (field == NGX_HTTP_ES_KEYFILE_F_ORIGINS) {
                return ngx_http_es_keyfile_fail(kl, "origins=: \"%V\" is not "
                                                "an origin (http or https://"
                                                "host[:port], no path, no "
                                                "trailing slash, no wildcard)",
                                                &item);
            }

            return ngx_http_es_keyfile_fail(kl, "%V=: \"%V\": use "
                                            "letters, digits, \"_\", \".\", "
                                            "\":\", \"-\", 1 to 128 "
                                            "characters", name, &item);
        }

        rec->len += len;

        if (comma == NULL) {
            break;
        }

        rec->data[rec->len++] = ',';
        p = comma + 1;
    }

    rec->str[ngx_http_es_keyfile_str(field)].off = start - rec->data;
    rec->str[ngx_http_es_keyfile_str(field)].len =
                                              rec->data + rec->len - start;

    return NGX_OK;
}


/*
 * OWNER: "ID:SERIAL".  An ID alone for a record without serial=: the
 * owner all records had before serial= existed, so that their sessions
 * stay theirs across an upgrade (and a reused ID takes them over, as it
 * did).  An ID has no ":", so the two forms never meet.
 */

static ngx_int_t
ngx_http_es_keyfile_owner(ngx_http_es_keyfile_line_t *kl, ngx_str_t *id,
    ngx_str_t *serial)
{
    u_char                 *p;
    size_t                  len;
    ngx_http_es_api_rec_t  *rec;

    rec = kl->rec;

    len = id->len + (serial->len ? 1 + serial->len : 0);

    if (rec->len + len > NGX_HTTP_ES_API_RECORD_MAX) {
        return ngx_http_es_keyfile_fail(kl, "record longer than %d bytes",
                                        NGX_HTTP_ES_API_RECORD_MAX);
    }

    rec->str[NGX_HTTP_ES_API_STR_OWNER].off = (u_short) rec->len;
    rec->str[NGX_HTTP_ES_API_STR_OWNER].len = (u_short) len;

    p = ngx_cpymem(rec->data + rec->len, id->data, id->len);

    if (serial->len) {
        *p++ = ':';
        ngx_memcpy(p, serial->data, serial->len);
    }

    rec->len += len;

    return NGX_OK;
}


/* the checks across lines, and the record kept for the zone */

static char *
ngx_http_es_keyfile_parse_done(ngx_http_es_keyfile_parse_t *ps)
{
    char                   *rv;
    size_t                  size;
    ngx_str_t               s;
    ngx_http_es_api_rec_t  *rec, **recp;

    rec = ps->rec;

    ngx_http_es_api_str(rec, NGX_HTTP_ES_API_STR_ID, &s);

    rv = ngx_http_es_keyfile_unique(ps, &ps->ids, &s, "duplicate ID");
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    ngx_http_es_api_str(rec, NGX_HTTP_ES_API_STR_LOOKUP, &s);

    rv = ngx_http_es_keyfile_unique(ps, &ps->lookups, &s, "key=: duplicate");
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    if (rec->has_id_key) {
        ngx_http_es_api_str(rec, NGX_HTTP_ES_API_STR_ID_LOOKUP, &s);

        rv = ngx_http_es_keyfile_unique(ps, &ps->lookups, &s,
                                        "id_key=: duplicate");
        if (rv != NGX_CONF_OK) {
            return rv;
        }
    }

    size = offsetof(ngx_http_es_api_rec_t, data) + rec->len;

    recp = ngx_array_push(&ps->zone->records);
    if (recp == NULL) {
        return NGX_CONF_ERROR;
    }

    *recp = ngx_palloc(ps->cf->pool, size);
    if (*recp == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memcpy(*recp, rec, size);
    rec = *recp;

    rec->size = size;

    ngx_http_es_api_str(rec, NGX_HTTP_ES_API_STR_LOOKUP, &s);
    rec->node.key = ngx_crc32_short(s.data, s.len);
    rec->node.data = 0;

    ngx_http_es_api_str(rec, NGX_HTTP_ES_API_STR_ID_LOOKUP, &s);
    rec->id_node.key = ngx_crc32_short(s.data, s.len);
    rec->id_node.data = 1;

    return NGX_CONF_OK;
}


/* name must be new in the tree; the tree then remembers it */

static char *
ngx_http_es_keyfile_unique(ngx_http_es_keyfile_parse_t *ps, ngx_rbtree_t *tree,
    ngx_str_t *name, const char *what)
{
    uint32_t                 hash;
    ngx_http_es_api_name_t  *n;

    hash = ngx_crc32_long(name->data, name->len);

    n = (ngx_http_es_api_name_t *) ngx_str_rbtree_lookup(tree, name, hash);

    if (n) {
        if (tree == &ps->ids) {
            return ngx_http_es_keyfile_error(ps, "%s (first on line %ui)", what,
                                             n->line);
        }

        return ngx_http_es_keyfile_error(ps, "%s LOOKUP \"%V\" (also on line "
                                         "%ui)", what, name, n->line);
    }

    n = ngx_palloc(ps->cf->temp_pool, sizeof(ngx_http_es_api_name_t));
    if (n == NULL) {
        return NGX_CONF_ERROR;
    }

    n->sn.node.key = hash;
    n->sn.str.len = name->len;
    n->sn.str.data = ngx_pnalloc(ps->cf->temp_pool, name->len);
    if (n->sn.str.data == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memcpy(n->sn.str.data, name->data, name->len);
    n->line = ps->line;

    ngx_rbtree_insert(tree, &n->sn.node);

    return NGX_CONF_OK;
}


/* "embed_session_api_keys: "FILE", line N, entry "ID": ..." */

static char *
ngx_http_es_keyfile_error(ngx_http_es_keyfile_parse_t *ps, const char *fmt, ...)
{
    u_char   *p, buf[NGX_MAX_CONF_ERRSTR];
    va_list   args;

    va_start(args, fmt);
    p = ngx_vslprintf(buf, buf + sizeof(buf), fmt, args);
    va_end(args);

    if (ps->entry.len) {
        ngx_conf_log_error(NGX_LOG_EMERG, ps->cf, 0,
                           "embed_session_api_keys: \"%V\", line %ui, "
                           "entry \"%V\": %*s", &ps->zone->file, ps->line,
                           &ps->entry, (size_t) (p - buf), buf);

    } else {
        ngx_conf_log_error(NGX_LOG_EMERG, ps->cf, 0,
                           "embed_session_api_keys: \"%V\", line %ui: %*s",
                           &ps->zone->file, ps->line, (size_t) (p - buf),
                           buf);
    }

    return NGX_CONF_ERROR;
}


/* the reason of a line's failure, NUL-terminated in kl->err */

static ngx_int_t
ngx_http_es_keyfile_fail(ngx_http_es_keyfile_line_t *kl, const char *fmt,
    ...)
{
    u_char   *p;
    va_list   args;

    if (kl->err_len == 0) {
        return NGX_ERROR;
    }

    va_start(args, fmt);
    p = ngx_vslprintf(kl->err, kl->err + kl->err_len - 1, fmt, args);
    va_end(args);

    *p = '\0';

    return NGX_ERROR;
}


static ngx_int_t
ngx_http_es_keyfile_put(ngx_http_es_api_rec_t *rec, ngx_uint_t n, u_char *p,
    size_t len)
{
    if (rec->len + len > NGX_HTTP_ES_API_RECORD_MAX) {
        return NGX_ERROR;
    }

    rec->str[n].off = (u_short) rec->len;
    rec->str[n].len = (u_short) len;

    ngx_memcpy(rec->data + rec->len, p, len);
    rec->len += len;

    return NGX_OK;
}


/* [A-Za-z0-9_.:-]{1,max} */

static ngx_int_t
ngx_http_es_keyfile_is_item(ngx_str_t *s, size_t max)
{
    size_t  i;

    if (s->len == 0 || s->len > max) {
        return NGX_DECLINED;
    }

    for (i = 0; i < s->len; i++) {
        if (!isalnum(s->data[i]) && s->data[i] != '_' && s->data[i] != '.'
            && s->data[i] != ':' && s->data[i] != '-')
        {
            return NGX_DECLINED;
        }
    }

    return NGX_OK;
}


/* a value quoted in a message, unless it looks like a raw key */

static ngx_str_t *
ngx_http_es_keyfile_shown(ngx_str_t *value)
{
    static ngx_str_t  hidden = ngx_string("(not shown: looks like a raw key)");

    if (ngx_http_es_api_is_raw_key(value->data, value->len)) {
        return &hidden;
    }

    return value;
}


/* PREFIX ([A-Za-z0-9_]* ending in "_", or empty) + 40 of [A-Za-z0-9] */

ngx_int_t
ngx_http_es_api_is_raw_key(u_char *p, size_t len)
{
    size_t  i, random;

    if (len < NGX_HTTP_ES_API_KEY_RANDOM || len > NGX_HTTP_ES_API_KEY_MAX) {
        return 0;
    }

    random = 0;

    for (i = 0; i < len; i++) {
        if (p[i] == '_') {
            random = 0;
            continue;
        }

        if (!isalnum(p[i])) {
            return 0;
        }

        random++;
    }

    return random == NGX_HTTP_ES_API_KEY_RANDOM;
}


/* 64 lowercase hex digits */

static ngx_int_t
ngx_http_es_keyfile_hex(u_char *dst, u_char *src)
{
    u_char      c, v;
    ngx_uint_t  i;

    for (i = 0; i < 2 * NGX_HTTP_ES_API_HASH_LEN; i++) {
        c = src[i];

        if (c >= '0' && c <= '9') {
            v = c - '0';

        } else if (c >= 'a' && c <= 'f') {
            v = c - 'a' + 10;

        } else {
            return NGX_ERROR;
        }

        if (i & 1) {
            dst[i / 2] |= v;

        } else {
            dst[i / 2] = (u_char) (v << 4);
        }
    }

    return NGX_OK;
}


/* changing the key file ************************************************/

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
ngx_http_es_keyfile_rewrite(ngx_http_request_t *r,
    ngx_http_es_api_zone_t *zone, ngx_http_es_api_change_t *ch)
{
    u_char                      *out, *last, *eol, *line, *o;
    u_char                       err[NGX_MAX_CONF_ERRSTR];
    size_t                       len;
    ngx_int_t                    rc;
    ngx_str_t                    buf;
    ngx_log_t                   *log;
    ngx_uint_t                   n, at;
    ngx_file_info_t              fi;
    ngx_http_es_keyfile_line_t   kl;

    log = r->connection->log;

    rc = ngx_http_es_keyfile_read(NULL, r, "embed_session_api_keys: ",
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

    kl.rec = ngx_palloc(r->pool, NGX_HTTP_ES_KEYFILE_REC_SIZE);
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
        out = ngx_pnalloc(r->pool, (line - buf.data) + len + (last - eol));
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

    return ngx_http_es_keyfile_write(r, zone, out, o - out, &fi);
}


/* the line of the record ID: see keyfile.h */

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


/* one line changed: see keyfile.h */

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
ngx_http_es_keyfile_write(ngx_http_request_t *r, ngx_http_es_api_zone_t *zone,
    u_char *buf, size_t len, ngx_file_info_t *fi)
{
    u_char     *tmp, *p;
    ssize_t     n;
    ngx_fd_t    fd;
    ngx_err_t   err;
    ngx_log_t  *log;

    log = r->connection->log;

    tmp = ngx_pnalloc(r->pool, zone->file.len + sizeof(".tmp.")
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
        tmp = ngx_pnalloc(r->pool, p - zone->file.data + 1);
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

    rc = ngx_http_es_keyfile_open(cycle, NULL, log, level,
                                  "embed_session_api_keys: ", name,
                                  NGX_HTTP_ES_KEYFILE_LOCKFILE
                                  | (write ? NGX_HTTP_ES_KEYFILE_WRITE
                                           : NGX_HTTP_ES_KEYFILE_MAY_MISS),
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
