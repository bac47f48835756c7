
/*
 * Copyright (C) The ngx_http_embed_session_module authors
 *
 * The API key store: the key file, read with the configuration; the
 * shared memory zone that holds its records for every worker; the lookup
 * of a credential with its rate limit; and the changes regenerate and
 * revoke make, written to the file first and to the zone after.
 *
 * Only the master adds or frees records (when a cycle starts); workers
 * change a record in place under the zone mutex.  The file is rewritten
 * under a POSIX lock on FILE.lock, which the master takes shared while it
 * reads the file, so that a reload and a change are ordered.
 */


#include "ngx_http_embed_session_module.h"


#define NGX_HTTP_ES_API_ID_MAX        64
#define NGX_HTTP_ES_API_SCOPE_MAX     32
#define NGX_HTTP_ES_API_ITEM_MAX      128
#define NGX_HTTP_ES_API_PREFIX_MAX                                           \
    (NGX_HTTP_ES_API_KEY_MAX - NGX_HTTP_ES_API_KEY_RANDOM)

/* a lock is held for the few milliseconds of one rewrite */
#define NGX_HTTP_ES_API_LOCK_TRIES    100       /* of 10 ms each */
#define NGX_HTTP_ES_API_READ_TRIES    500


typedef enum {
    NGX_HTTP_ES_API_F_KEY = 0,
    NGX_HTTP_ES_API_F_ID_KEY,
    NGX_HTTP_ES_API_F_SCOPE,
    NGX_HTTP_ES_API_F_TENANT,
    NGX_HTTP_ES_API_F_RESOURCES,
    NGX_HTTP_ES_API_F_GRANTS,
    NGX_HTTP_ES_API_F_ORIGINS,
    NGX_HTTP_ES_API_F_FLAGS,
    NGX_HTTP_ES_API_F_RATE,
    NGX_HTTP_ES_API_F_STATUS,
    NGX_HTTP_ES_API_F_EXPIRES,
    NGX_HTTP_ES_API_NFIELDS
} ngx_http_es_api_field_e;


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

    u_char                      hash[NGX_HTTP_ES_API_HASH_LEN];
    u_char                      id_hash[NGX_HTTP_ES_API_HASH_LEN];

    ngx_http_es_api_span_t      str[NGX_HTTP_ES_API_NSTR];
    size_t                      len;
    u_char                      data[1];
} ngx_http_es_api_rec_t;


typedef struct {
    ngx_rbtree_t                rbtree;
    ngx_rbtree_node_t           sentinel;
    ngx_queue_t                 queue;
    ngx_uint_t                  records;
} ngx_http_es_api_sh_t;


struct ngx_http_es_api_zone_s {
    ngx_http_es_api_sh_t       *sh;
    ngx_slab_pool_t            *shpool;
    ngx_shm_zone_t             *shm_zone;

    ngx_str_t                   file;       /* full name, NUL-terminated */
    ngx_str_t                   lock;       /* FILE.lock */
    ngx_array_t                 records;    /* ngx_http_es_api_rec_t * */
    uint64_t                    parsed;     /* ms, when the file was read */

    ngx_cycle_t                *cycle;

    unsigned                    declared:1;
    unsigned                    writes:1;   /* regenerate or revoke */
};


/* an ID or a LOOKUP seen while parsing, for duplicates */

typedef struct {
    ngx_str_node_t              sn;
    ngx_uint_t                  line;
    ngx_http_es_api_rec_t      *rec;
} ngx_http_es_api_name_t;


typedef struct {
    ngx_conf_t                 *cf;
    ngx_http_es_api_zone_t     *zone;
    ngx_uint_t                  line;
    ngx_str_t                   entry;
    ngx_uint_t                  field;      /* number, for messages */

    ngx_rbtree_t                ids;
    ngx_rbtree_node_t           ids_sentinel;
    ngx_rbtree_t                lookups;
    ngx_rbtree_node_t           lookups_sentinel;

    ngx_http_es_api_rec_t      *rec;        /* the one being built */
} ngx_http_es_api_parse_t;


static void ngx_http_es_api_check_writable(ngx_http_es_api_zone_t *zone,
    ngx_log_t *log);
static ngx_uint_t ngx_http_es_api_writable(ngx_file_info_t *fi,
    ngx_uid_t uid, ngx_gid_t gid);
static char *ngx_http_es_api_read(ngx_conf_t *cf,
    ngx_http_es_api_zone_t *zone);
static char *ngx_http_es_api_parse(ngx_http_es_api_parse_t *ps, u_char *p,
    u_char *last);
static char *ngx_http_es_api_parse_line(ngx_http_es_api_parse_t *ps,
    u_char *p, u_char *last);
static char *ngx_http_es_api_parse_field(ngx_http_es_api_parse_t *ps,
    ngx_uint_t field, ngx_str_t *name, ngx_str_t *value);
static char *ngx_http_es_api_parse_key(ngx_http_es_api_parse_t *ps,
    ngx_uint_t field, ngx_str_t *name, ngx_str_t *value);
static char *ngx_http_es_api_parse_list(ngx_http_es_api_parse_t *ps,
    ngx_uint_t field, ngx_str_t *name, ngx_str_t *value);
static char *ngx_http_es_api_parse_done(ngx_http_es_api_parse_t *ps,
    ngx_uint_t seen);
static char *ngx_http_es_api_unique(ngx_http_es_api_parse_t *ps,
    ngx_rbtree_t *tree, ngx_str_t *name, const char *what);
static char *ngx_http_es_api_error(ngx_http_es_api_parse_t *ps,
    const char *fmt, ...);
static ngx_int_t ngx_http_es_api_put(ngx_http_es_api_rec_t *rec,
    ngx_uint_t n, u_char *p, size_t len);
static ngx_int_t ngx_http_es_api_is_item(ngx_str_t *s, size_t max);
static ngx_int_t ngx_http_es_api_hex(u_char *dst, u_char *src);

static ngx_int_t ngx_http_es_api_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static ngx_int_t ngx_http_es_api_build(ngx_http_es_api_zone_t *zone,
    ngx_log_t *log);
static void ngx_http_es_api_carry(ngx_http_es_api_rec_t *rec,
    ngx_http_es_api_rec_t *old);
static void ngx_http_es_api_rbtree_insert(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel);
static ngx_http_es_api_rec_t *ngx_http_es_api_find(ngx_http_es_api_sh_t *sh,
    ngx_str_t *lookup, ngx_uint_t id_credential);
static ngx_http_es_api_rec_t *ngx_http_es_api_find_id(
    ngx_http_es_api_sh_t *sh, ngx_str_t *id);
static ngx_http_es_api_rec_t *ngx_http_es_api_caller(
    ngx_http_es_api_sh_t *sh, ngx_http_es_api_change_t *ch);
static ngx_int_t ngx_http_es_api_check(ngx_http_es_api_zone_t *zone,
    ngx_http_es_api_change_t *ch);
static void ngx_http_es_api_apply(ngx_http_request_t *r,
    ngx_http_es_api_zone_t *zone, ngx_http_es_api_change_t *ch);
static void ngx_http_es_api_relink(ngx_http_es_api_sh_t *sh,
    ngx_http_es_api_rec_t *rec, ngx_uint_t id, ngx_str_t *lookup,
    u_char *hash);
static ngx_int_t ngx_http_es_api_rewrite(ngx_http_request_t *r,
    ngx_http_es_api_zone_t *zone, ngx_http_es_api_change_t *ch);
static u_char *ngx_http_es_api_edit_line(u_char *out, u_char *p,
    u_char *last, ngx_http_es_api_change_t *ch);
static u_char *ngx_http_es_api_field(u_char *out, char *name,
    ngx_str_t *lookup, u_char *hash);
static ngx_int_t ngx_http_es_api_write(ngx_http_request_t *r,
    ngx_http_es_api_zone_t *zone, u_char *buf, size_t len,
    ngx_file_info_t *fi);
static ngx_fd_t ngx_http_es_api_lock(ngx_str_t *name, ngx_uint_t write,
    ngx_uint_t tries, ngx_log_t *log);
static void ngx_http_es_api_unlock(ngx_fd_t fd, ngx_str_t *name,
    ngx_log_t *log);
static uint64_t ngx_http_es_api_msec(void);

#define ngx_http_es_api_str(rec, n, s)                                       \
    (s)->data = (rec)->data + (rec)->str[n].off;                             \
    (s)->len = (rec)->str[n].len


static ngx_str_t  ngx_http_es_api_fields[] = {
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
    ngx_string("expires")
};


/* the record string a list field goes to */

static ngx_uint_t  ngx_http_es_api_field_str[] = {
    NGX_HTTP_ES_API_STR_LOOKUP,
    NGX_HTTP_ES_API_STR_ID_LOOKUP,
    NGX_HTTP_ES_API_STR_SCOPE,
    NGX_HTTP_ES_API_STR_TENANT,
    NGX_HTTP_ES_API_STR_RESOURCES,
    NGX_HTTP_ES_API_STR_GRANTS,
    NGX_HTTP_ES_API_STR_ORIGINS,
    NGX_HTTP_ES_API_STR_FLAGS,
    0, 0, 0
};


/* configuration ********************************************************/

/* embed_session_api_keys zone=NAME:SIZE file=PATH; */

char *
ngx_http_es_api_keys_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    u_char                   *p;
    ssize_t                   size;
    ngx_str_t                *value, name, file, s;
    ngx_uint_t                i;
    ngx_shm_zone_t           *shm_zone;
    ngx_http_es_api_zone_t   *zone;
    ngx_http_es_main_conf_t  *emcf;

    value = cf->args->elts;

    size = 0;
    ngx_str_null(&name);
    ngx_str_null(&file);

    for (i = 1; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "zone=", 5) == 0) {

            name.data = value[i].data + 5;

            p = (u_char *) ngx_strchr(name.data, ':');

            if (p == NULL || p == name.data) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid zone \"%V\": use zone=NAME:SIZE",
                                   &value[i]);
                return NGX_CONF_ERROR;
            }

            name.len = p - name.data;

            s.data = p + 1;
            s.len = value[i].data + value[i].len - s.data;

            size = ngx_parse_size(&s);

            if (size == NGX_ERROR) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid zone size \"%V\"", &value[i]);
                return NGX_CONF_ERROR;
            }

            if (size < (ssize_t) (8 * ngx_pagesize)) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "zone \"%V\" is too small: at least %uz",
                                   &value[i], 8 * ngx_pagesize);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "file=", 5) == 0 && value[i].len > 5) {
            file.data = value[i].data + 5;
            file.len = value[i].len - 5;
            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\"", &value[i]);
        return NGX_CONF_ERROR;
    }

    if (name.len == 0 || file.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" needs zone=NAME:SIZE and file=PATH",
                           &cmd->name);
        return NGX_CONF_ERROR;
    }

    shm_zone = ngx_shared_memory_add(cf, &name, size,
                                     &ngx_http_embed_session_module);
    if (shm_zone == NULL) {
        return NGX_CONF_ERROR;
    }

    zone = ngx_http_es_api_zone_get(cf, &name);
    if (zone == NULL) {
        return NGX_CONF_ERROR;
    }

    if (zone->declared) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "duplicate zone \"%V\"", &name);
        return NGX_CONF_ERROR;
    }

    zone->declared = 1;
    zone->cycle = cf->cycle;

    /* relative to the configuration prefix, as ssl_certificate */

    if (ngx_conf_full_name(cf->cycle, &file, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    zone->file.len = file.len;
    zone->file.data = ngx_pnalloc(cf->pool, file.len + 1);
    if (zone->file.data == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_cpystrn(zone->file.data, file.data, file.len + 1);

    zone->lock.len = file.len + sizeof(".lock") - 1;
    zone->lock.data = ngx_pnalloc(cf->pool, zone->lock.len + 1);
    if (zone->lock.data == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_sprintf(zone->lock.data, "%V.lock%Z", &file);

    emcf = ngx_http_conf_get_module_main_conf(cf,
                                              ngx_http_embed_session_module);
    emcf->api = 1;

    return ngx_http_es_api_read(cf, zone);
}


/*
 * The zone of that name: embed_session_api_key may name a zone before
 * embed_session_api_keys declares it, as limit_req does.
 */

ngx_http_es_api_zone_t *
ngx_http_es_api_zone_get(ngx_conf_t *cf, ngx_str_t *name)
{
    ngx_shm_zone_t          *shm_zone;
    ngx_http_es_api_zone_t  *zone;

    shm_zone = ngx_shared_memory_add(cf, name, 0,
                                     &ngx_http_embed_session_module);
    if (shm_zone == NULL) {
        return NULL;
    }

    if (shm_zone->data) {
        return shm_zone->data;
    }

    zone = ngx_pcalloc(cf->pool, sizeof(ngx_http_es_api_zone_t));
    if (zone == NULL) {
        return NULL;
    }

    if (ngx_array_init(&zone->records, cf->pool, 16,
                       sizeof(ngx_http_es_api_rec_t *))
        != NGX_OK)
    {
        return NULL;
    }

    zone->shm_zone = shm_zone;

    shm_zone->init = ngx_http_es_api_init_zone;
    shm_zone->data = zone;

    return zone;
}


/*
 * At merge time: the zone must have been declared.  A location that
 * writes to the file has the workers' access checked when the zone is
 * initialised, once the "user" directive is known wherever it stands.
 */

ngx_int_t
ngx_http_es_api_zone_check(ngx_conf_t *cf, ngx_http_es_api_zone_t *zone,
    ngx_uint_t writes)
{
    if (!zone->declared) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "API key zone \"%V\" is not declared by "
                           "\"embed_session_api_keys\"",
                           &zone->shm_zone->shm.name);
        return NGX_ERROR;
    }

    if (writes) {
        zone->writes = 1;
    }

    return NGX_OK;
}


/*
 * Only a warning: the requests that change keys would fail with
 * KEY_STORE_FAILED when the workers' user cannot create FILE.tmp.PID
 * next to the file, rename it, or lock FILE.lock.
 */

static void
ngx_http_es_api_check_writable(ngx_http_es_api_zone_t *zone, ngx_log_t *log)
{
    u_char           *p, dir[NGX_MAX_PATH];
    size_t            len;
    ngx_uid_t         uid;
    ngx_gid_t         gid;
    struct passwd    *pwd;
    ngx_file_info_t   fi;
    ngx_core_conf_t  *ccf;

    if (geteuid() != 0) {
        uid = geteuid();
        gid = getegid();

    } else {
        ccf = (ngx_core_conf_t *) ngx_get_conf(zone->cycle->conf_ctx,
                                               ngx_core_module);

        if (ccf->user != (ngx_uid_t) NGX_CONF_UNSET_UINT) {
            uid = ccf->user;
            gid = ccf->group;

        } else {
            pwd = getpwnam(NGX_USER);
            if (pwd == NULL) {
                return;
            }

            uid = pwd->pw_uid;
            gid = pwd->pw_gid;
        }

        if (uid == 0) {
            return;
        }
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
        && !ngx_http_es_api_writable(&fi, uid, gid))
    {
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "embed_session_api_keys: the directory \"%s\" of "
                      "\"%V\" is not writable by the worker processes "
                      "(uid %d): key regeneration and revocation will fail",
                      dir, &zone->file, (int) uid);
        return;
    }

    if (ngx_file_info(zone->lock.data, &fi) != NGX_FILE_ERROR
        && !ngx_http_es_api_writable(&fi, uid, gid))
    {
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "embed_session_api_keys: the lock file \"%V\" is not "
                      "writable by the worker processes (uid %d): key "
                      "regeneration and revocation will fail",
                      &zone->lock, (int) uid);
    }
}


/* by the mode bits alone: supplementary groups and ACLs are not seen */

static ngx_uint_t
ngx_http_es_api_writable(ngx_file_info_t *fi, ngx_uid_t uid, ngx_gid_t gid)
{
    if (fi->st_uid == uid) {
        return (fi->st_mode & S_IWUSR) != 0;
    }

    if (fi->st_gid == gid) {
        return (fi->st_mode & S_IWGRP) != 0;
    }

    return (fi->st_mode & S_IWOTH) != 0;
}


/* the key file, read under a shared lock so a rewrite is seen whole */

static char *
ngx_http_es_api_read(ngx_conf_t *cf, ngx_http_es_api_zone_t *zone)
{
    char                     *rv;
    u_char                   *buf;
    size_t                    size;
    ssize_t                   n;
    ngx_fd_t                  fd, lfd;
    ngx_file_info_t           fi;
    ngx_http_es_api_parse_t   ps;

    lfd = ngx_http_es_api_lock(&zone->lock, 0, NGX_HTTP_ES_API_READ_TRIES,
                               cf->log);

    rv = NGX_CONF_ERROR;
    buf = NULL;

    fd = ngx_open_file(zone->file.data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "embed_session_api_keys: " ngx_open_file_n
                           " \"%V\" failed", &zone->file);
        goto unlock;
    }

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "embed_session_api_keys: " ngx_fd_info_n
                           " \"%V\" failed", &zone->file);
        goto done;
    }

    size = (size_t) ngx_file_size(&fi);

    if (size > NGX_HTTP_ES_KEY_FILE_MAX) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "embed_session_api_keys: \"%V\" is larger than "
                           "%uz bytes", &zone->file,
                           (size_t) NGX_HTTP_ES_KEY_FILE_MAX);
        goto done;
    }

    buf = ngx_pnalloc(cf->temp_pool, size + 1);
    if (buf == NULL) {
        goto done;
    }

    n = ngx_read_fd(fd, buf, size);

    if (n == -1) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "embed_session_api_keys: " ngx_read_fd_n
                           " \"%V\" failed", &zone->file);
        goto done;
    }

    if ((size_t) n != size) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "embed_session_api_keys: " ngx_read_fd_n
                           " \"%V\" returned only %z bytes instead of %uz",
                           &zone->file, n, size);
        goto done;
    }

    /* later than any change the file holds: see ngx_http_es_api_carry() */

    zone->parsed = ngx_http_es_api_msec();

    ngx_memzero(&ps, sizeof(ngx_http_es_api_parse_t));

    ps.cf = cf;
    ps.zone = zone;

    rv = ngx_http_es_api_parse(&ps, buf, buf + size);

done:

    if (ngx_close_file(fd) == NGX_FILE_ERROR) {
        ngx_conf_log_error(NGX_LOG_ALERT, cf, ngx_errno,
                           ngx_close_file_n " \"%V\" failed", &zone->file);
    }

unlock:

    if (lfd != NGX_INVALID_FILE) {
        ngx_http_es_api_unlock(lfd, &zone->lock, cf->log);
    }

    return rv;
}


static char *
ngx_http_es_api_parse(ngx_http_es_api_parse_t *ps, u_char *p, u_char *last)
{
    char    *rv;
    u_char  *eol;

    ngx_rbtree_init(&ps->ids, &ps->ids_sentinel, ngx_str_rbtree_insert_value);
    ngx_rbtree_init(&ps->lookups, &ps->lookups_sentinel,
                    ngx_str_rbtree_insert_value);

    ps->rec = ngx_palloc(ps->cf->temp_pool,
                         offsetof(ngx_http_es_api_rec_t, data)
                         + NGX_HTTP_ES_API_RECORD_MAX);
    if (ps->rec == NULL) {
        return NGX_CONF_ERROR;
    }

    while (p < last) {
        ps->line++;

        eol = ngx_strlchr(p, last, LF);
        if (eol == NULL) {
            eol = last;
        }

        rv = ngx_http_es_api_parse_line(ps, p, eol);
        if (rv != NGX_CONF_OK) {
            return rv;
        }

        p = eol + 1;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_es_api_parse_line(ngx_http_es_api_parse_t *ps, u_char *p,
    u_char *last)
{
    char                   *rv;
    u_char                 *q, *start, *eq;
    ngx_str_t               id, name, value;
    ngx_uint_t              i, seen;
    ngx_http_es_api_rec_t  *rec;

    ngx_str_null(&ps->entry);

    for (q = p; q < last; q++) {
        if (*q == CR) {
            return ngx_http_es_api_error(ps, "carriage return in the line "
                                         "(save the file with Unix line "
                                         "ends)");
        }

        if ((*q < 0x20 && *q != '\t') || *q >= 0x7f) {
            return ngx_http_es_api_error(ps, "control or non-ASCII "
                                         "character");
        }
    }

    while (p < last && (*p == ' ' || *p == '\t')) {
        p++;
    }

    if (p == last || *p == '#') {
        return NGX_CONF_OK;
    }

    id.data = p;

    while (p < last && *p != ' ' && *p != '\t') {
        p++;
    }

    id.len = p - id.data;

    if (id.len > NGX_HTTP_ES_API_ID_MAX) {
        return ngx_http_es_api_error(ps, "invalid ID: use letters, digits, "
                                     "\".\", \"_\", \"-\", 1 to 64 "
                                     "characters");
    }

    for (i = 0; i < id.len; i++) {
        if (!(isalnum(id.data[i]) || id.data[i] == '_'
              || id.data[i] == '.' || id.data[i] == '-'))
        {
            return ngx_http_es_api_error(ps, "invalid ID: use letters, "
                                         "digits, \".\", \"_\", \"-\", 1 "
                                         "to 64 characters");
        }
    }

    /* a raw key pasted as the ID is never quoted back */

    if (ngx_http_es_api_is_raw_key(id.data, id.len)) {
        ngx_str_set(&ps->entry, "(not shown: looks like a raw key)");

    } else {
        ps->entry = id;
    }

    rec = ps->rec;
    ngx_memzero(rec, offsetof(ngx_http_es_api_rec_t, data));
    rec->expires = -1;

    (void) ngx_http_es_api_put(rec, NGX_HTTP_ES_API_STR_ID, id.data, id.len);

    seen = 0;
    ps->field = 0;

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

        ps->field++;

        eq = ngx_strlchr(start, p, '=');

        if (eq == NULL) {
            if (ngx_http_es_api_is_raw_key(start, p - start)) {
                return ngx_http_es_api_error(ps, "field %ui looks like a raw "
                                             "key; store its hash "
                                             "(key=LOOKUP:HEX64)", ps->field);
            }

            return ngx_http_es_api_error(ps, "field %ui is not NAME=VALUE",
                                         ps->field);
        }

        name.data = start;
        name.len = eq - start;
        value.data = eq + 1;
        value.len = p - value.data;

        for (i = 0; i < NGX_HTTP_ES_API_NFIELDS; i++) {
            if (name.len == ngx_http_es_api_fields[i].len
                && ngx_strncmp(name.data, ngx_http_es_api_fields[i].data,
                               name.len) == 0)
            {
                break;
            }
        }

        if (i == NGX_HTTP_ES_API_NFIELDS) {
            if (ngx_http_es_api_is_item(&name, 32) != NGX_OK) {
                return ngx_http_es_api_error(ps, "field %ui is not "
                                             "NAME=VALUE", ps->field);
            }

            return ngx_http_es_api_error(ps, "unknown field \"%V\" (known: "
                                         "key id_key scope tenant resources "
                                         "grants origins flags rate status "
                                         "expires)", &name);
        }

        if (seen & (1 << i)) {
            return ngx_http_es_api_error(ps, "field \"%V\" given twice",
                                         &name);
        }

        seen |= 1 << i;

        if (value.len == 0) {
            return ngx_http_es_api_error(ps, "%V=: empty value", &name);
        }

        rv = ngx_http_es_api_parse_field(ps, i, &name, &value);
        if (rv != NGX_CONF_OK) {
            return rv;
        }
    }

    return ngx_http_es_api_parse_done(ps, seen);
}


static char *
ngx_http_es_api_parse_field(ngx_http_es_api_parse_t *ps, ngx_uint_t field,
    ngx_str_t *name, ngx_str_t *value)
{
    u_char                 *p, *last;
    ngx_int_t               n;
    ngx_uint_t              i;
    ngx_http_es_api_rec_t  *rec;

    rec = ps->rec;

    switch (field) {

    case NGX_HTTP_ES_API_F_KEY:
    case NGX_HTTP_ES_API_F_ID_KEY:
        return ngx_http_es_api_parse_key(ps, field, name, value);

    case NGX_HTTP_ES_API_F_SCOPE:

        for (i = 0; i < value->len; i++) {
            if (!((value->data[i] >= 'a' && value->data[i] <= 'z')
                  || (value->data[i] >= '0' && value->data[i] <= '9')
                  || value->data[i] == '_' || value->data[i] == '-'))
            {
                break;
            }
        }

        if (i < value->len || value->len > NGX_HTTP_ES_API_SCOPE_MAX) {
            return ngx_http_es_api_error(ps, "scope=: use lowercase letters, "
                                         "digits, \"_\", \"-\", 1 to 32 "
                                         "characters");
        }

        break;

    case NGX_HTTP_ES_API_F_TENANT:

        if (ngx_http_es_api_is_item(value, NGX_HTTP_ES_API_ITEM_MAX)
            != NGX_OK)
        {
            return ngx_http_es_api_error(ps, "tenant=: use letters, digits, "
                                         "\"_\", \".\", \":\", \"-\", 1 to "
                                         "128 characters");
        }

        break;

    case NGX_HTTP_ES_API_F_RESOURCES:
    case NGX_HTTP_ES_API_F_GRANTS:
    case NGX_HTTP_ES_API_F_ORIGINS:
    case NGX_HTTP_ES_API_F_FLAGS:
        return ngx_http_es_api_parse_list(ps, field, name, value);

    case NGX_HTTP_ES_API_F_RATE:

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
            return ngx_http_es_api_error(ps, "rate=%V: not N/s, N/m or N/h "
                                         "with N from 1 to 999999999",
                                         value);
        }

        rec->rate = n;
        rec->period = (p[1] == 's') ? 1 : (p[1] == 'm') ? 60 : 3600;

        return NGX_CONF_OK;

    case NGX_HTTP_ES_API_F_STATUS:

        if (value->len == 6 && ngx_strncmp(value->data, "active", 6) == 0) {
            rec->revoked = 0;

        } else if (value->len == 7
                   && ngx_strncmp(value->data, "revoked", 7) == 0)
        {
            rec->revoked = 1;

        } else {
            return ngx_http_es_api_error(ps, "status=%V: not \"active\" or "
                                         "\"revoked\"", value);
        }

        return NGX_CONF_OK;

    default: /* NGX_HTTP_ES_API_F_EXPIRES */

        n = (value->len <= 12) ? ngx_atotm(value->data, value->len)
                               : NGX_ERROR;

        if (n == NGX_ERROR) {
            return ngx_http_es_api_error(ps, "expires=%V: not Unix seconds "
                                         "(an integer)", value);
        }

        rec->expires = (time_t) n;

        return NGX_CONF_OK;
    }

    if (ngx_http_es_api_put(rec, ngx_http_es_api_field_str[field],
                            value->data, value->len)
        != NGX_OK)
    {
        return ngx_http_es_api_error(ps, "record longer than %d bytes",
                                     NGX_HTTP_ES_API_RECORD_MAX);
    }

    return NGX_CONF_OK;
}


/* key=LOOKUP:HEX64, id_key=LOOKUP:HEX64; never quoted in a message */

static char *
ngx_http_es_api_parse_key(ngx_http_es_api_parse_t *ps, ngx_uint_t field,
    ngx_str_t *name, ngx_str_t *value)
{
    u_char                 *colon;
    size_t                  i, prefix;
    ngx_str_t               lookup;
    ngx_http_es_api_rec_t  *rec;

    rec = ps->rec;

    colon = ngx_strlchr(value->data, value->data + value->len, ':');

    if (ngx_http_es_api_is_raw_key(value->data, value->len)
        || (colon && ngx_http_es_api_is_raw_key(value->data,
                                                colon - value->data)))
    {
        return ngx_http_es_api_error(ps, "%V=: looks like a raw key; store "
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

    if (prefix > NGX_HTTP_ES_API_PREFIX_MAX
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

    if (ngx_http_es_api_hex(field == NGX_HTTP_ES_API_F_KEY
                            ? rec->hash : rec->id_hash,
                            colon + 1)
        != NGX_OK)
    {
        goto invalid;
    }

    if (field == NGX_HTTP_ES_API_F_ID_KEY) {
        rec->has_id_key = 1;
    }

    if (ngx_http_es_api_put(rec, ngx_http_es_api_field_str[field],
                            lookup.data, lookup.len)
        != NGX_OK)
    {
        return ngx_http_es_api_error(ps, "record longer than %d bytes",
                                     NGX_HTTP_ES_API_RECORD_MAX);
    }

    return NGX_CONF_OK;

invalid:

    return ngx_http_es_api_error(ps, "%V=: not LOOKUP:HEX64 (PREFIX + 8 of "
                                 "[A-Za-z0-9], \":\", 64 lowercase hex "
                                 "digits)", name);
}


/* resources, grants, flags: items; origins: normalised origins */

static char *
ngx_http_es_api_parse_list(ngx_http_es_api_parse_t *ps, ngx_uint_t field,
    ngx_str_t *name, ngx_str_t *value)
{
    u_char                 *p, *last, *comma, *start;
    size_t                  len;
    ngx_str_t               item;
    ngx_http_es_api_rec_t  *rec;

    rec = ps->rec;
    start = rec->data + rec->len;

    p = value->data;
    last = p + value->len;

    for ( ;; ) {
        comma = ngx_strlchr(p, last, ',');

        item.data = p;
        item.len = (comma ? comma : last) - p;

        if (item.len == 0) {
            return ngx_http_es_api_error(ps, "%V=: empty item (commas must "
                                         "separate items)", name);
        }

        /* the item and a comma must fit; origins only get shorter */

        if (rec->len + item.len + 1 > NGX_HTTP_ES_API_RECORD_MAX) {
            return ngx_http_es_api_error(ps, "record longer than %d bytes",
                                         NGX_HTTP_ES_API_RECORD_MAX);
        }

        if (field == NGX_HTTP_ES_API_F_ORIGINS) {

            if (ngx_http_es_origin_normalize(rec->data + rec->len, &len,
                                             item.data, item.len, 0)
                != NGX_OK)
            {
                if (ngx_http_es_api_is_raw_key(item.data, item.len)) {
                    ngx_str_set(&item, "(not shown)");
                }

                return ngx_http_es_api_error(ps, "origins=: \"%V\" is not "
                                             "an origin (http or https://"
                                             "host[:port], no path, no "
                                             "trailing slash, no wildcard)",
                                             &item);
            }

            rec->len += len;

        } else {

            if (ngx_http_es_api_is_item(&item, NGX_HTTP_ES_API_ITEM_MAX)
                != NGX_OK)
            {
                if (ngx_http_es_api_is_raw_key(item.data, item.len)) {
                    ngx_str_set(&item, "(not shown)");
                }

                return ngx_http_es_api_error(ps, "%V=: \"%V\": use letters, "
                                             "digits, \"_\", \".\", \":\", "
                                             "\"-\", 1 to 128 characters",
                                             name, &item);
            }

            rec->len = ngx_cpymem(rec->data + rec->len, item.data, item.len)
                       - rec->data;
        }

        if (comma == NULL) {
            break;
        }

        rec->data[rec->len++] = ',';
        p = comma + 1;
    }

    rec->str[ngx_http_es_api_field_str[field]].off = start - rec->data;
    rec->str[ngx_http_es_api_field_str[field]].len =
                                              rec->data + rec->len - start;

    return NGX_CONF_OK;
}


static char *
ngx_http_es_api_parse_done(ngx_http_es_api_parse_t *ps, ngx_uint_t seen)
{
    char                   *rv;
    size_t                  size;
    ngx_str_t               s;
    ngx_http_es_api_rec_t  *rec, **recp;

    rec = ps->rec;

    if (!(seen & (1 << NGX_HTTP_ES_API_F_KEY))) {
        return ngx_http_es_api_error(ps, "no key= field");
    }

    ngx_http_es_api_str(rec, NGX_HTTP_ES_API_STR_ID, &s);

    rv = ngx_http_es_api_unique(ps, &ps->ids, &s, "duplicate ID");
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    ngx_http_es_api_str(rec, NGX_HTTP_ES_API_STR_LOOKUP, &s);

    rv = ngx_http_es_api_unique(ps, &ps->lookups, &s, "key=: duplicate");
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    if (rec->has_id_key) {
        ngx_http_es_api_str(rec, NGX_HTTP_ES_API_STR_ID_LOOKUP, &s);

        rv = ngx_http_es_api_unique(ps, &ps->lookups, &s,
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
ngx_http_es_api_unique(ngx_http_es_api_parse_t *ps, ngx_rbtree_t *tree,
    ngx_str_t *name, const char *what)
{
    uint32_t                 hash;
    ngx_http_es_api_name_t  *n;

    hash = ngx_crc32_long(name->data, name->len);

    n = (ngx_http_es_api_name_t *) ngx_str_rbtree_lookup(tree, name, hash);

    if (n) {
        if (tree == &ps->ids) {
            return ngx_http_es_api_error(ps, "%s (first on line %ui)", what,
                                         n->line);
        }

        return ngx_http_es_api_error(ps, "%s LOOKUP \"%V\" (also on line "
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
ngx_http_es_api_error(ngx_http_es_api_parse_t *ps, const char *fmt, ...)
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


static ngx_int_t
ngx_http_es_api_put(ngx_http_es_api_rec_t *rec, ngx_uint_t n, u_char *p,
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
ngx_http_es_api_is_item(ngx_str_t *s, size_t max)
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
ngx_http_es_api_hex(u_char *dst, u_char *src)
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


/* the zone *************************************************************/

/*
 * The limit_req recipe: a zone of the same name and size is taken over on
 * reload, and its records are rebuilt from the file just read.
 */

static ngx_int_t
ngx_http_es_api_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_es_api_zone_t  *ozone = data;

    size_t                   len;
    ngx_http_es_api_zone_t  *zone;

    zone = shm_zone->data;

    if (zone->writes) {
        ngx_http_es_api_check_writable(zone, shm_zone->shm.log);
    }

    if (ozone) {
        zone->sh = ozone->sh;
        zone->shpool = ozone->shpool;

        return ngx_http_es_api_build(zone, shm_zone->shm.log);
    }

    zone->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        zone->sh = zone->shpool->data;
        return NGX_OK;
    }

    zone->sh = ngx_slab_alloc(zone->shpool, sizeof(ngx_http_es_api_sh_t));
    if (zone->sh == NULL) {
        return NGX_ERROR;
    }

    zone->shpool->data = zone->sh;

    ngx_rbtree_init(&zone->sh->rbtree, &zone->sh->sentinel,
                    ngx_http_es_api_rbtree_insert);
    ngx_queue_init(&zone->sh->queue);
    zone->sh->records = 0;

    len = sizeof(" in embed_session_api_keys zone \"\"")
          + shm_zone->shm.name.len;

    zone->shpool->log_ctx = ngx_slab_alloc(zone->shpool, len);
    if (zone->shpool->log_ctx == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(zone->shpool->log_ctx,
                " in embed_session_api_keys zone \"%V\"%Z",
                &shm_zone->shm.name);

    zone->shpool->log_nomem = 0;

    return ngx_http_es_api_build(zone, shm_zone->shm.log);
}


/*
 * The records of the file replace those in the zone.  The new ones are
 * allocated next to the old ones first, so that a zone too small fails
 * the start or reload with the old keys intact; then, under the mutex,
 * the rate counters and the changes workers made since the file was read
 * are carried over and the trees are swapped, so that workers of the old
 * cycle never see a half-built tree.
 */

static ngx_int_t
ngx_http_es_api_build(ngx_http_es_api_zone_t *zone, ngx_log_t *log)
{
    ngx_str_t                 id;
    ngx_uint_t                i, n;
    ngx_pool_t               *pool;
    ngx_queue_t              *q;
    ngx_rbtree_t              ids;
    ngx_slab_pool_t          *shpool;
    ngx_rbtree_node_t         sentinel;
    ngx_http_es_api_sh_t     *sh;
    ngx_http_es_api_rec_t   **recs, **news, *rec;
    ngx_http_es_api_name_t   *name;

    sh = zone->sh;
    shpool = zone->shpool;

    n = zone->records.nelts;
    recs = zone->records.elts;

    pool = ngx_create_pool(NGX_DEFAULT_POOL_SIZE, log);
    if (pool == NULL) {
        return NGX_ERROR;
    }

    news = ngx_palloc(pool, (n + 1) * sizeof(ngx_http_es_api_rec_t *));
    if (news == NULL) {
        goto failed;
    }

    for (i = 0; i < n; i++) {
        news[i] = ngx_slab_alloc(shpool, recs[i]->size);

        if (news[i] == NULL) {
            while (i--) {
                ngx_slab_free(shpool, news[i]);
            }

            ngx_log_error(NGX_LOG_EMERG, log, 0,
                          "embed_session_api_keys: zone \"%V\" is too small "
                          "for the %ui records of \"%V\"%s",
                          &zone->shm_zone->shm.name, n, &zone->file,
                          sh->records ? " next to the old ones (a reload "
                                        "needs room for both)" : "");
            goto failed;
        }

        ngx_memcpy(news[i], recs[i], recs[i]->size);
    }

    /*
     * only the master adds or removes records, so the old ones can be
     * indexed by ID without the mutex; what workers change in them is
     * read under it
     */

    ngx_rbtree_init(&ids, &sentinel, ngx_str_rbtree_insert_value);

    for (q = ngx_queue_head(&sh->queue);
         q != ngx_queue_sentinel(&sh->queue);
         q = ngx_queue_next(q))
    {
        rec = ngx_queue_data(q, ngx_http_es_api_rec_t, queue);

        name = ngx_palloc(pool, sizeof(ngx_http_es_api_name_t));
        if (name == NULL) {
            for (i = 0; i < n; i++) {
                ngx_slab_free(shpool, news[i]);
            }

            goto failed;
        }

        ngx_http_es_api_str(rec, NGX_HTTP_ES_API_STR_ID, &name->sn.str);
        name->sn.node.key = ngx_crc32_long(name->sn.str.data,
                                           name->sn.str.len);
        name->rec = rec;

        ngx_rbtree_insert(&ids, &name->sn.node);
    }

    ngx_shmtx_lock(&shpool->mutex);

    for (i = 0; i < n; i++) {
        rec = news[i];

        ngx_http_es_api_str(rec, NGX_HTTP_ES_API_STR_ID, &id);

        name = (ngx_http_es_api_name_t *)
                   ngx_str_rbtree_lookup(&ids, &id,
                                         ngx_crc32_long(id.data, id.len));

        if (name && name->rec->updated >= zone->parsed) {
            /* changed by a worker after the file was read */
            ngx_http_es_api_carry(rec, name->rec);
        }

        if (name) {
            rec->window = name->rec->window;
            rec->count = name->rec->count;
        }
    }

    while (!ngx_queue_empty(&sh->queue)) {
        q = ngx_queue_head(&sh->queue);
        ngx_queue_remove(q);

        ngx_slab_free_locked(shpool,
                             ngx_queue_data(q, ngx_http_es_api_rec_t, queue));
    }

    ngx_rbtree_init(&sh->rbtree, &sh->sentinel,
                    ngx_http_es_api_rbtree_insert);

    for (i = 0; i < n; i++) {
        rec = news[i];

        ngx_queue_insert_tail(&sh->queue, &rec->queue);
        ngx_rbtree_insert(&sh->rbtree, &rec->node);

        if (rec->has_id_key) {
            ngx_rbtree_insert(&sh->rbtree, &rec->id_node);
        }
    }

    sh->records = n;

    ngx_shmtx_unlock(&shpool->mutex);

    ngx_destroy_pool(pool);

    return NGX_OK;

failed:

    ngx_destroy_pool(pool);

    return NGX_ERROR;
}


/*
 * A revocation is never lost.  A regenerated key replaces the file's when
 * the LOOKUP has the same length (the same prefix): otherwise the
 * operator changed the key in the file, and the file wins.
 */

static void
ngx_http_es_api_carry(ngx_http_es_api_rec_t *rec, ngx_http_es_api_rec_t *old)
{
    ngx_http_es_api_span_t  *s, *o;

    rec->updated = old->updated;

    if (old->revoked) {
        rec->revoked = 1;
    }

    s = &rec->str[NGX_HTTP_ES_API_STR_LOOKUP];
    o = &old->str[NGX_HTTP_ES_API_STR_LOOKUP];

    if (s->len == o->len) {
        ngx_memcpy(rec->data + s->off, old->data + o->off, s->len);
        ngx_memcpy(rec->hash, old->hash, NGX_HTTP_ES_API_HASH_LEN);
        rec->node.key = old->node.key;
    }

    s = &rec->str[NGX_HTTP_ES_API_STR_ID_LOOKUP];
    o = &old->str[NGX_HTTP_ES_API_STR_ID_LOOKUP];

    if (rec->has_id_key && old->has_id_key && s->len == o->len) {
        ngx_memcpy(rec->data + s->off, old->data + o->off, s->len);
        ngx_memcpy(rec->id_hash, old->id_hash, NGX_HTTP_ES_API_HASH_LEN);
        rec->id_node.key = old->id_node.key;
    }
}


#define ngx_http_es_api_node_rec(n)                                          \
    ((n)->data                                                               \
     ? (ngx_http_es_api_rec_t *) ((u_char *) (n)                             \
                               - offsetof(ngx_http_es_api_rec_t, id_node))   \
     : (ngx_http_es_api_rec_t *) ((u_char *) (n)                             \
                               - offsetof(ngx_http_es_api_rec_t, node)))

#define ngx_http_es_api_node_lookup(n, rec, s)                               \
    ngx_http_es_api_str(rec, (n)->data ? NGX_HTTP_ES_API_STR_ID_LOOKUP       \
                                       : NGX_HTTP_ES_API_STR_LOOKUP, s)


static void
ngx_http_es_api_rbtree_insert(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel)
{
    ngx_str_t               a, b;
    ngx_rbtree_node_t     **p;
    ngx_http_es_api_rec_t  *rec;

    for ( ;; ) {

        if (node->key < temp->key) {
            p = &temp->left;

        } else if (node->key > temp->key) {
            p = &temp->right;

        } else {
            rec = ngx_http_es_api_node_rec(node);
            ngx_http_es_api_node_lookup(node, rec, &a);

            rec = ngx_http_es_api_node_rec(temp);
            ngx_http_es_api_node_lookup(temp, rec, &b);

            p = (ngx_memn2cmp(a.data, b.data, a.len, b.len) < 0)
                ? &temp->left : &temp->right;
        }

        if (*p == sentinel) {
            break;
        }

        temp = *p;
    }

    *p = node;
    node->parent = temp;
    node->left = sentinel;
    node->right = sentinel;
    ngx_rbt_red(node);
}


/* with the mutex held: the record whose key (or id_key) has this LOOKUP */

static ngx_http_es_api_rec_t *
ngx_http_es_api_find(ngx_http_es_api_sh_t *sh, ngx_str_t *lookup,
    ngx_uint_t id_credential)
{
    uint32_t                hash;
    ngx_int_t               rc;
    ngx_str_t               s;
    ngx_rbtree_node_t      *node, *sentinel;
    ngx_http_es_api_rec_t  *rec;

    hash = ngx_crc32_short(lookup->data, lookup->len);

    node = sh->rbtree.root;
    sentinel = sh->rbtree.sentinel;

    while (node != sentinel) {

        if (hash < node->key) {
            node = node->left;
            continue;
        }

        if (hash > node->key) {
            node = node->right;
            continue;
        }

        rec = ngx_http_es_api_node_rec(node);
        ngx_http_es_api_node_lookup(node, rec, &s);

        rc = ngx_memn2cmp(lookup->data, s.data, lookup->len, s.len);

        if (rc == 0) {
            /* a key presented where an id_key belongs, or the reverse */
            return ((ngx_uint_t) node->data == id_credential) ? rec : NULL;
        }

        node = (rc < 0) ? node->left : node->right;
    }

    return NULL;
}


/* with the mutex held; only revocation by an admin key asks by ID */

static ngx_http_es_api_rec_t *
ngx_http_es_api_find_id(ngx_http_es_api_sh_t *sh, ngx_str_t *id)
{
    ngx_str_t               s;
    ngx_queue_t            *q;
    ngx_http_es_api_rec_t  *rec;

    for (q = ngx_queue_head(&sh->queue);
         q != ngx_queue_sentinel(&sh->queue);
         q = ngx_queue_next(q))
    {
        rec = ngx_queue_data(q, ngx_http_es_api_rec_t, queue);

        ngx_http_es_api_str(rec, NGX_HTTP_ES_API_STR_ID, &s);

        if (s.len == id->len && ngx_memcmp(s.data, id->data, s.len) == 0) {
            return rec;
        }
    }

    return NULL;
}


ngx_int_t
ngx_http_es_api_query(ngx_http_es_api_zone_t *zone,
    ngx_http_es_api_query_t *q)
{
    time_t                  window;
    ngx_int_t               code;
    ngx_str_t               scope, flags, grants;
    ngx_slab_pool_t        *shpool;
    ngx_http_es_api_rec_t  *rec;

    shpool = zone->shpool;

    ngx_shmtx_lock(&shpool->mutex);

    rec = ngx_http_es_api_find(zone->sh, &q->lookup, q->id_credential);

    if (rec == NULL
        || !ngx_http_es_jws_memeq(q->id_credential ? rec->id_hash
                                                   : rec->hash,
                                  q->hash, NGX_HTTP_ES_API_HASH_LEN))
    {
        ngx_shmtx_unlock(&shpool->mutex);
        return NGX_HTTP_ES_API_KEY_INVALID;
    }

    /* the strings are copied before anything else can answer */

    ngx_memcpy(q->str, rec->str, sizeof(q->str));
    ngx_memcpy(q->data, rec->data, rec->len);
    q->len = rec->len;

    code = NGX_HTTP_ES_PASSED;

    if (rec->revoked) {
        code = NGX_HTTP_ES_API_KEY_REVOKED;

    } else if (rec->expires != -1 && rec->expires <= q->now) {
        code = NGX_HTTP_ES_API_KEY_EXPIRED;

    } else if (q->denies) {
        ngx_http_es_api_str(q, NGX_HTTP_ES_API_STR_SCOPE, &scope);
        ngx_http_es_api_str(q, NGX_HTTP_ES_API_STR_FLAGS, &flags);
        ngx_http_es_api_str(q, NGX_HTTP_ES_API_STR_GRANTS, &grants);

        q->denied = ngx_http_es_api_deny_match(q->denies, &scope, &flags,
                                               &grants);
        if (q->denied) {
            code = NGX_HTTP_ES_DENIED;
        }
    }

    /*
     * a fixed window per key, shared by all workers; a worker whose
     * cached time lags behind counts into the newer window
     */

    if (rec->rate) {
        window = q->now - q->now % rec->period;

        if (window > rec->window) {
            rec->window = window;
            rec->count = 0;
        }

        if (code == NGX_HTTP_ES_PASSED) {
            if (rec->count >= rec->rate) {
                code = NGX_HTTP_ES_RATE_LIMITED;

            } else {
                rec->count++;
            }
        }

        q->rate_limit = rec->rate;
        q->rate_remaining = rec->rate - rec->count;
        q->rate_reset = rec->window + rec->period;

    } else {
        q->rate_limit = 0;
    }

    ngx_shmtx_unlock(&shpool->mutex);

    return code;
}


/* the first rule whose condition holds; lists are comma-joined */

ngx_http_es_api_deny_t *
ngx_http_es_api_deny_match(ngx_array_t *denies, ngx_str_t *scope,
    ngx_str_t *flags, ngx_str_t *grants)
{
    u_char                  *p, *last, *comma;
    ngx_str_t               *list;
    ngx_uint_t               i, match;
    ngx_http_es_api_deny_t  *d;

    d = denies->elts;

    for (i = 0; i < denies->nelts; i++) {

        if (d[i].type == NGX_HTTP_ES_API_COND_SCOPE) {
            match = (scope->len == d[i].value.len
                     && ngx_memcmp(scope->data, d[i].value.data, scope->len)
                        == 0);

        } else {
            list = (d[i].type == NGX_HTTP_ES_API_COND_FLAG) ? flags : grants;

            match = 0;
            p = list->data;
            last = p + list->len;

            while (p < last) {
                comma = ngx_strlchr(p, last, ',');
                if (comma == NULL) {
                    comma = last;
                }

                if ((size_t) (comma - p) == d[i].value.len
                    && ngx_memcmp(p, d[i].value.data, d[i].value.len) == 0)
                {
                    match = 1;
                    break;
                }

                p = comma + 1;
            }
        }

        if (match != d[i].negate) {
            return &d[i];
        }
    }

    return NULL;
}


/* changes: the file first, then the zone ********************************/

/*
 * Under the lock of FILE.lock, which orders this change against other
 * workers and against the master reading the file: check that the
 * caller's credential still holds, rewrite the file, change the zone.
 * When the file cannot be written, the zone is left alone.
 */

ngx_int_t
ngx_http_es_api_change(ngx_http_request_t *r, ngx_http_es_api_zone_t *zone,
    ngx_http_es_api_change_t *ch)
{
    ngx_fd_t   fd;
    ngx_int_t  rc;

    fd = ngx_http_es_api_lock(&zone->lock, 1, NGX_HTTP_ES_API_LOCK_TRIES,
                              r->connection->log);
    if (fd == NGX_INVALID_FILE) {
        return NGX_ERROR;
    }

    rc = ngx_http_es_api_check(zone, ch);

    if (rc == NGX_HTTP_ES_PASSED) {
        rc = ngx_http_es_api_rewrite(r, zone, ch);

        if (rc == NGX_OK) {
            ngx_http_es_api_apply(r, zone, ch);
            rc = NGX_HTTP_ES_PASSED;

        } else {
            rc = NGX_ERROR;
        }
    }

    ngx_http_es_api_unlock(fd, &zone->lock, r->connection->log);

    return rc;
}


/* with the mutex held: the caller's record, if its credential holds */

static ngx_http_es_api_rec_t *
ngx_http_es_api_caller(ngx_http_es_api_sh_t *sh, ngx_http_es_api_change_t *ch)
{
    ngx_http_es_api_rec_t  *rec;

    rec = ngx_http_es_api_find(sh, &ch->lookup, ch->id_credential);

    if (rec == NULL
        || rec->revoked
        || !ngx_http_es_jws_memeq(ch->id_credential ? rec->id_hash
                                                    : rec->hash,
                                  ch->hash, NGX_HTTP_ES_API_HASH_LEN))
    {
        return NULL;
    }

    return rec;
}


static ngx_int_t
ngx_http_es_api_check(ngx_http_es_api_zone_t *zone,
    ngx_http_es_api_change_t *ch)
{
    ngx_int_t               rc;
    ngx_str_t               id, s;
    ngx_http_es_api_rec_t  *rec;

    ngx_shmtx_lock(&zone->shpool->mutex);

    rc = NGX_HTTP_ES_PASSED;

    rec = ngx_http_es_api_caller(zone->sh, ch);

    if (rec == NULL) {
        rc = NGX_HTTP_ES_API_KEY_INVALID;
        goto done;
    }

    ngx_http_es_api_str(rec, NGX_HTTP_ES_API_STR_ID, &id);

    if (id.len != ch->id.len || ngx_memcmp(id.data, ch->id.data, id.len)) {

        if (!ch->revoke) {
            rc = NGX_HTTP_ES_API_KEY_INVALID;

        } else if (ngx_http_es_api_find_id(zone->sh, &ch->id) == NULL) {
            rc = NGX_HTTP_ES_VALIDATION_FAILED;
        }

        goto done;
    }

    if (ch->revoke) {
        goto done;
    }

    /* the new credentials were made for the prefixes the record has */

    ngx_http_es_api_str(rec, NGX_HTTP_ES_API_STR_LOOKUP, &s);

    if (s.len != ch->new_lookup.len
        || ngx_memcmp(s.data, ch->new_lookup.data,
                      s.len - NGX_HTTP_ES_API_KEY_LOOKUP)
           != 0
        || rec->has_id_key != (ch->new_id_lookup.len != 0))
    {
        rc = NGX_HTTP_ES_API_KEY_INVALID;
        goto done;
    }

    if (rec->has_id_key) {
        ngx_http_es_api_str(rec, NGX_HTTP_ES_API_STR_ID_LOOKUP, &s);

        if (s.len != ch->new_id_lookup.len
            || ngx_memcmp(s.data, ch->new_id_lookup.data,
                          s.len - NGX_HTTP_ES_API_KEY_LOOKUP)
               != 0)
        {
            rc = NGX_HTTP_ES_API_KEY_INVALID;
        }
    }

done:

    ngx_shmtx_unlock(&zone->shpool->mutex);

    return rc;
}


/*
 * The file holds the change now.  Between the check and here only a
 * reload can have rebuilt the record, from the file as it was before (the
 * master reads it under the lock we hold).
 */

static void
ngx_http_es_api_apply(ngx_http_request_t *r, ngx_http_es_api_zone_t *zone,
    ngx_http_es_api_change_t *ch)
{
    uint64_t                now;
    ngx_str_t               id;
    ngx_uint_t              mismatch;
    ngx_slab_pool_t        *shpool;
    ngx_http_es_api_rec_t  *rec;

    shpool = zone->shpool;
    now = ngx_http_es_api_msec();
    mismatch = 0;

    ngx_shmtx_lock(&shpool->mutex);

    rec = ngx_http_es_api_caller(zone->sh, ch);

    if (rec) {
        ngx_http_es_api_str(rec, NGX_HTTP_ES_API_STR_ID, &id);

        if (id.len != ch->id.len
            || ngx_memcmp(id.data, ch->id.data, id.len) != 0)
        {
            rec = ch->revoke ? ngx_http_es_api_find_id(zone->sh, &ch->id)
                             : NULL;
        }
    }

    if (rec == NULL) {
        ngx_shmtx_unlock(&shpool->mutex);

        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "embed_session_api_keys: entry \"%V\" changed in "
                      "\"%V\" but no longer in zone \"%V\"", &ch->id,
                      &zone->file, &zone->shm_zone->shm.name);
        return;
    }

    if (ch->revoke) {
        rec->revoked = 1;

    } else {
        if (rec->str[NGX_HTTP_ES_API_STR_LOOKUP].len == ch->new_lookup.len) {
            ngx_http_es_api_relink(zone->sh, rec, 0, &ch->new_lookup,
                                   ch->new_hash);

        } else {
            /* cannot happen: fail closed, the new key works after reload */
            ngx_memzero(rec->hash, NGX_HTTP_ES_API_HASH_LEN);
            mismatch = 1;
        }

        if (rec->has_id_key) {
            if (rec->str[NGX_HTTP_ES_API_STR_ID_LOOKUP].len
                == ch->new_id_lookup.len)
            {
                ngx_http_es_api_relink(zone->sh, rec, 1, &ch->new_id_lookup,
                                       ch->new_id_hash);

            } else {
                ngx_memzero(rec->id_hash, NGX_HTTP_ES_API_HASH_LEN);
                mismatch = 1;
            }
        }
    }

    rec->updated = now;

    ngx_shmtx_unlock(&shpool->mutex);

    if (mismatch) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "embed_session_api_keys: entry \"%V\" changed under "
                      "a reload: its new key works after the next reload",
                      &ch->id);
    }
}


/* unlink, change, link: the node is never in the tree half-changed */

static void
ngx_http_es_api_relink(ngx_http_es_api_sh_t *sh, ngx_http_es_api_rec_t *rec,
    ngx_uint_t id, ngx_str_t *lookup, u_char *hash)
{
    ngx_rbtree_node_t       *node;
    ngx_http_es_api_span_t  *s;

    node = id ? &rec->id_node : &rec->node;
    s = &rec->str[id ? NGX_HTTP_ES_API_STR_ID_LOOKUP
                     : NGX_HTTP_ES_API_STR_LOOKUP];

    ngx_rbtree_delete(&sh->rbtree, node);

    ngx_memcpy(rec->data + s->off, lookup->data, lookup->len);
    ngx_memcpy(id ? rec->id_hash : rec->hash, hash, NGX_HTTP_ES_API_HASH_LEN);
    node->key = ngx_crc32_short(lookup->data, lookup->len);

    ngx_rbtree_insert(&sh->rbtree, node);
}


/*
 * The file with the line of ch->id changed and every other byte kept;
 * NGX_DECLINED when the ID is not in the file.
 */

static ngx_int_t
ngx_http_es_api_rewrite(ngx_http_request_t *r, ngx_http_es_api_zone_t *zone,
    ngx_http_es_api_change_t *ch)
{
    u_char           *buf, *out, *p, *q, *last, *eol, *o;
    size_t            size;
    ssize_t           n;
    ngx_fd_t          fd;
    ngx_int_t         rc;
    ngx_log_t        *log;
    ngx_file_info_t   fi;

    log = r->connection->log;

    fd = ngx_open_file(zone->file.data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        ngx_log_error(NGX_LOG_ERR, log, ngx_errno,
                      "embed_session_api_keys: " ngx_open_file_n
                      " \"%V\" failed", &zone->file);
        return NGX_ERROR;
    }

    rc = NGX_ERROR;
    buf = NULL;
    size = 0;

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR) {
        ngx_log_error(NGX_LOG_ERR, log, ngx_errno,
                      "embed_session_api_keys: " ngx_fd_info_n
                      " \"%V\" failed", &zone->file);
        goto done;
    }

    size = (size_t) ngx_file_size(&fi);

    if (size > NGX_HTTP_ES_KEY_FILE_MAX) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "embed_session_api_keys: \"%V\" is larger than %uz "
                      "bytes", &zone->file, (size_t) NGX_HTTP_ES_KEY_FILE_MAX);
        goto done;
    }

    /* room for the line to grow by a status= or an id_key= field */

    buf = ngx_pnalloc(r->pool, 2 * size + 2 * NGX_HTTP_ES_API_KEY_MAX + 256);
    if (buf == NULL) {
        goto done;
    }

    n = ngx_read_fd(fd, buf, size);

    if (n == -1) {
        ngx_log_error(NGX_LOG_ERR, log, ngx_errno,
                      "embed_session_api_keys: " ngx_read_fd_n
                      " \"%V\" failed", &zone->file);
        goto done;
    }

    if ((size_t) n != size) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "embed_session_api_keys: " ngx_read_fd_n " \"%V\" "
                      "returned only %z bytes instead of %uz", &zone->file,
                      n, size);
        goto done;
    }

    last = buf + size;
    out = last;

    for (p = buf; p < last; p = eol + 1) {
        eol = ngx_strlchr(p, last, LF);
        if (eol == NULL) {
            eol = last;
        }

        for (q = p; q < eol && (*q == ' ' || *q == '\t'); q++) {
            /* void */
        }

        if ((size_t) (eol - q) <= ch->id.len
            || ngx_memcmp(q, ch->id.data, ch->id.len) != 0
            || (q[ch->id.len] != ' ' && q[ch->id.len] != '\t'))
        {
            continue;
        }

        o = ngx_cpymem(out, buf, p - buf);
        o = ngx_http_es_api_edit_line(o, p, eol, ch);
        o = ngx_cpymem(o, eol, last - eol);

        if ((size_t) (o - out) > NGX_HTTP_ES_KEY_FILE_MAX) {
            ngx_log_error(NGX_LOG_ERR, log, 0,
                          "embed_session_api_keys: \"%V\" would grow "
                          "larger than %uz bytes", &zone->file,
                          (size_t) NGX_HTTP_ES_KEY_FILE_MAX);
            goto done;
        }

        rc = ngx_http_es_api_write(r, zone, out, o - out, &fi);
        goto done;
    }

    ngx_log_error(NGX_LOG_ERR, log, 0,
                  "embed_session_api_keys: entry \"%V\" is no longer in "
                  "\"%V\"", &ch->id, &zone->file);

done:

    if (ngx_close_file(fd) == NGX_FILE_ERROR) {
        ngx_log_error(NGX_LOG_ALERT, log, ngx_errno,
                      ngx_close_file_n " \"%V\" failed", &zone->file);
    }

    return rc;
}


/*
 * The line with key=/id_key= or status= replaced, the white space and
 * every other field as they were; a missing field is added at the end.
 */

static u_char *
ngx_http_es_api_edit_line(u_char *out, u_char *p, u_char *last,
    ngx_http_es_api_change_t *ch)
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

        out = ngx_cpymem(out, ws, p - ws);
        ws = last;

        start = p;

        while (p < last && *p != ' ' && *p != '\t') {
            p++;
        }

        len = p - start;

        if (!ch->revoke && len > 4 && ngx_strncmp(start, "key=", 4) == 0) {
            out = ngx_http_es_api_field(out, "key=", &ch->new_lookup,
                                        ch->new_hash);
            key = 1;
            continue;
        }

        if (!ch->revoke && ch->new_id_lookup.len && len > 7
            && ngx_strncmp(start, "id_key=", 7) == 0)
        {
            out = ngx_http_es_api_field(out, "id_key=", &ch->new_id_lookup,
                                        ch->new_id_hash);
            id_key = 1;
            continue;
        }

        if (ch->revoke && len > 7 && ngx_strncmp(start, "status=", 7) == 0) {
            out = ngx_cpymem(out, "status=revoked", 14);
            status = 1;
            continue;
        }

        out = ngx_cpymem(out, start, len);
    }

    if (ch->revoke) {
        if (!status) {
            out = ngx_cpymem(out, " status=revoked", 15);
        }

    } else {
        if (!key) {
            out = ngx_http_es_api_field(out, " key=", &ch->new_lookup,
                                        ch->new_hash);
        }

        if (ch->new_id_lookup.len && !id_key) {
            out = ngx_http_es_api_field(out, " id_key=", &ch->new_id_lookup,
                                        ch->new_id_hash);
        }
    }

    /* the trailing white space, if any */

    return ngx_cpymem(out, ws, last - ws);
}


/* NAME=LOOKUP:HEX64 */

static u_char *
ngx_http_es_api_field(u_char *out, char *name, ngx_str_t *lookup,
    u_char *hash)
{
    out = ngx_cpymem(out, name, ngx_strlen(name));
    out = ngx_cpymem(out, lookup->data, lookup->len);
    *out++ = ':';

    return ngx_hex_dump(out, hash, NGX_HTTP_ES_API_HASH_LEN);
}


/*
 * FILE.tmp.PID, written and synced, with the mode (and, for root, the
 * owner) of FILE, renamed over FILE; then the directory is synced.
 */

static ngx_int_t
ngx_http_es_api_write(ngx_http_request_t *r, ngx_http_es_api_zone_t *zone,
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
 * then only if the lock file exists and can be opened: no change has
 * happened otherwise).  A bounded wait: the lock is held only for the
 * time of a rewrite.
 */

static ngx_fd_t
ngx_http_es_api_lock(ngx_str_t *name, ngx_uint_t write, ngx_uint_t tries,
    ngx_log_t *log)
{
    ngx_fd_t      fd;
    ngx_err_t     err;
    ngx_uint_t    i;
    struct flock  fl;

    if (write) {
        fd = ngx_open_file(name->data, NGX_FILE_RDWR, NGX_FILE_CREATE_OR_OPEN,
                           S_IRUSR|S_IWUSR);
        if (fd == NGX_INVALID_FILE) {
            ngx_log_error(NGX_LOG_ERR, log, ngx_errno,
                          "embed_session_api_keys: " ngx_open_file_n
                          " \"%V\" failed", name);
            return NGX_INVALID_FILE;
        }

    } else {
        fd = ngx_open_file(name->data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
        if (fd == NGX_INVALID_FILE) {
            return NGX_INVALID_FILE;
        }
    }

    for (i = 0; /* void */ ; i++) {

        ngx_memzero(&fl, sizeof(struct flock));
        fl.l_type = write ? F_WRLCK : F_RDLCK;
        fl.l_whence = SEEK_SET;

        if (fcntl(fd, F_SETLK, &fl) != -1) {
            return fd;
        }

        err = ngx_errno;

        if ((err != NGX_EAGAIN && err != NGX_EACCES) || i == tries) {
            break;
        }

        ngx_msleep(10);
    }

    if (write) {
        ngx_log_error(NGX_LOG_ERR, log, err,
                      "embed_session_api_keys: fcntl() lock \"%V\" failed",
                      name);

    } else {
        ngx_log_error(NGX_LOG_WARN, log, err,
                      "embed_session_api_keys: fcntl() lock \"%V\" failed, "
                      "reading the key file without it", name);
    }

    (void) ngx_close_file(fd);

    return NGX_INVALID_FILE;
}


static void
ngx_http_es_api_unlock(ngx_fd_t fd, ngx_str_t *name, ngx_log_t *log)
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


/* wall clock in ms: compared between processes, so not the cached time */

static uint64_t
ngx_http_es_api_msec(void)
{
    struct timeval  tv;

    ngx_gettimeofday(&tv);

    return (uint64_t) tv.tv_sec * 1000 + tv.tv_usec / 1000;
}
