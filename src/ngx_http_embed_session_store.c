
/*
 * Copyright (C) The ngx_http_embed_session_module authors
 *
 * The session store zone and its state file.
 *
 * Every record is one fixed-size slab allocation (a ticket's claims are a
 * second one), in an rbtree by id and in a queue ordered by expiry.  A
 * record is never evicted before it expires: when the zone is full, what
 * would need a new record is refused, and what is stored keeps working.
 * Inside the mutex only rbtree, queue and slab work is done; records are
 * built in full before they are linked.
 *
 * The state file is a snapshot: a header, then records, each with its
 * length and CRC32.  One worker writes it when something changed (every
 * "sync"), every process once more when it exits; always as FILE.tmp,
 * fsync, rename, fsync of the directory, under an fcntl lock of FILE.lock.
 * A writer first merges what the file holds (a union: revoked stays
 * revoked, the later rotation wins), so that two generations of nginx, as
 * in a binary upgrade, or the two zones of a reload that changed the size,
 * never lose each other's changes.
 */


#include "ngx_http_embed_session_module.h"


#define NGX_HTTP_ES_STATE_MAGIC      "ESSTATE1"
#define NGX_HTTP_ES_STATE_HEADER     16
#define NGX_HTTP_ES_STATE_MAX        (1024 * 1024 * 1024)
#define NGX_HTTP_ES_STATE_MAC_LEN    32
#define NGX_HTTP_ES_STATE_SIGNED     0x01    /* header flags */


struct ngx_http_es_store_sh_s {
    ngx_rbtree_t                rbtree;
    ngx_rbtree_node_t           sentinel;
    ngx_queue_t                 expiry;     /* earliest first */
    ngx_uint_t                  sessions;
    ngx_uint_t                  tickets;
    ngx_uint_t                  revoked;
    size_t                      payload;
    ngx_atomic_t                changes;    /* under the mutex */
    ngx_atomic_t                persisted;
    ngx_atomic_t                full;
    ngx_atomic_t                writes;
    ngx_atomic_t                write_failures;
    time_t                      alerted;
};


typedef struct {
    ngx_rbtree_node_t           node;
    ngx_queue_t                 queue;
    u_char                     *payload;
    ngx_http_es_store_rec_t     rec;
} ngx_http_es_store_node_t;


/* a record of the state file that this zone could not take in */

typedef struct {
    u_char                     *data;
    size_t                      len;
} ngx_http_es_state_span_t;


static ngx_int_t ngx_http_es_store_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static ngx_int_t ngx_http_es_store_copy_old(ngx_http_es_store_t *store);
static ngx_int_t ngx_http_es_store_load(ngx_http_es_store_t *store,
    ngx_log_t *log);
static ngx_int_t ngx_http_es_state_parse(ngx_http_es_store_t *store,
    u_char *buf, size_t len, ngx_array_t *carry, ngx_log_t *log,
    ngx_uint_t level);
static ngx_int_t ngx_http_es_store_persist(ngx_http_es_store_t *store,
    ngx_uint_t dirty, ngx_log_t *log);
static ngx_uint_t ngx_http_es_state_changed(ngx_http_es_store_t *store);
static void ngx_http_es_state_seen(ngx_http_es_store_t *store);
static ngx_int_t ngx_http_es_state_record(ngx_http_es_store_t *store,
    u_char *p, u_char *last, ngx_uint_t mac, ngx_http_es_store_rec_t *rec,
    size_t *stride, const char **why);
static u_char *ngx_http_es_state_resync(ngx_http_es_store_t *store,
    u_char *p, u_char *last, ngx_uint_t mac);
static ngx_int_t ngx_http_es_state_read(ngx_http_es_store_t *store,
    ngx_str_t *buf, ngx_log_t *log);
static ngx_int_t ngx_http_es_state_write(ngx_http_es_store_t *store,
    u_char *buf, size_t len, ngx_array_t *carry, ngx_log_t *log);
static ngx_fd_t ngx_http_es_state_lock(ngx_http_es_store_t *store,
    ngx_log_t *log);
static void ngx_http_es_state_unlock(ngx_http_es_store_t *store,
    ngx_fd_t fd, ngx_log_t *log);
static void ngx_http_es_store_timer(ngx_event_t *ev);
static void ngx_http_es_store_rbtree_insert(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel);
static ngx_http_es_store_node_t *ngx_http_es_store_lookup(
    ngx_http_es_store_sh_t *sh, u_char *id, time_t now);
static ngx_int_t ngx_http_es_store_merge_locked(ngx_http_es_store_t *store,
    ngx_http_es_store_rec_t *rec, u_char *payload, time_t now);
static ngx_http_es_store_node_t *ngx_http_es_store_alloc_locked(
    ngx_http_es_store_t *store, ngx_http_es_store_rec_t *rec,
    u_char *payload, time_t now);
static void ngx_http_es_store_link(ngx_http_es_store_sh_t *sh,
    ngx_http_es_store_node_t *n);
static void ngx_http_es_store_queue(ngx_http_es_store_sh_t *sh,
    ngx_http_es_store_node_t *n);
static void ngx_http_es_store_free_locked(ngx_http_es_store_t *store,
    ngx_http_es_store_node_t *n);
static ngx_uint_t ngx_http_es_store_expire_locked(ngx_http_es_store_t *store,
    time_t now);
static void ngx_http_es_store_count(ngx_http_es_store_sh_t *sh,
    ngx_http_es_store_rec_t *rec, ngx_int_t n);
static void ngx_http_es_store_full(ngx_http_es_store_t *store,
    ngx_log_t *log);
static ngx_array_t *ngx_http_es_stores(ngx_cycle_t *cycle);


/*
 * The tag of store zones: a zone of another kind of this module (API keys,
 * counters) that takes a store's name and size in a reload is not reused.
 */
static ngx_uint_t        ngx_http_es_store_tag;

static ngx_event_t       ngx_http_es_store_event;
static ngx_msec_t        ngx_http_es_store_sync;
static ngx_connection_t  ngx_http_es_store_dumb;   /* the event's "data" */


/* embed_session_store_zone zone=NAME:SIZE [state=FILE] [sync=TIME]
 *                          [state_errors=stop|start] */

char *
ngx_http_es_store_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_es_main_conf_t *emcf = conf;

    u_char                *p;
    ssize_t                size;
    ngx_str_t             *value, name, s, state;
    ngx_int_t              sync;
    ngx_int_t              rc;
    ngx_str_t              key;
    ngx_uint_t             i, errors;
    ngx_file_info_t        fi;
    ngx_http_es_keyset_t   keys;
    ngx_http_es_store_t   *store, **sp;

    value = cf->args->elts;

    size = 0;
    ngx_str_null(&name);
    ngx_str_null(&state);
    ngx_str_null(&key);
    sync = 1000;
    errors = NGX_HTTP_ES_STATE_STOP;

    for (i = 1; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "zone=", 5) == 0) {
            name.data = value[i].data + 5;
            p = (u_char *) ngx_strchr(name.data, ':');

            if (p == NULL) {
                goto invalid;
            }

            name.len = p - name.data;

            s.data = p + 1;
            s.len = value[i].data + value[i].len - s.data;

            size = ngx_parse_size(&s);

            if (name.len == 0 || size == NGX_ERROR) {
                goto invalid;
            }

            if (size < (ssize_t) (8 * ngx_pagesize)) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "zone \"%V\" is too small: at least %uz",
                                   &name, 8 * ngx_pagesize);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "state=", 6) == 0) {
            state.data = value[i].data + 6;
            state.len = value[i].len - 6;

            if (state.len == 0) {
                goto invalid;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "sync=", 5) == 0) {
            s.data = value[i].data + 5;
            s.len = value[i].len - 5;

            sync = ngx_parse_time(&s, 0);

            if (sync == NGX_ERROR || sync < 10 || sync > 3600000) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid \"%V\": from 10ms to 1h",
                                   &value[i]);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "state_key=", 10) == 0) {
            key.data = value[i].data + 10;
            key.len = value[i].len - 10;

            if (key.len == 0) {
                goto invalid;
            }

            continue;
        }

        if (ngx_strcmp(value[i].data, "state_errors=stop") == 0) {
            errors = NGX_HTTP_ES_STATE_STOP;
            continue;
        }

        if (ngx_strcmp(value[i].data, "state_errors=start") == 0) {
            errors = NGX_HTTP_ES_STATE_START;
            continue;
        }

        goto invalid;
    }

    if (name.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" must have the \"zone=NAME:SIZE\" "
                           "parameter", &cmd->name);
        return NGX_CONF_ERROR;
    }

    store = ngx_http_es_store_get(cf, &name);
    if (store == NULL) {
        return NGX_CONF_ERROR;
    }

    if (store->shm_zone->data != store) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "zone \"%V\" is declared twice", &name);
        return NGX_CONF_ERROR;
    }

    if (store->shm_zone->shm.size) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "zone \"%V\" is declared twice", &name);
        return NGX_CONF_ERROR;
    }

    if (key.len) {
        if (state.len == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"state_key=\" without \"state=\"");
            return NGX_CONF_ERROR;
        }

        /* an HS256 JWK of at least 32 bytes, as embed_session_keys reads */

        if (ngx_array_init(&keys.keys, cf->pool, 1,
                           sizeof(ngx_http_es_jws_key_t *))
            != NGX_OK)
        {
            return NGX_CONF_ERROR;
        }

        if (ngx_http_es_keys_load(cf, &keys, &key, NGX_HTTP_ES_JWS_HS256,
                                  NULL)
            != NGX_CONF_OK)
        {
            return NGX_CONF_ERROR;
        }

        if (keys.keys.nelts != 1) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"state_key=%V\" must hold exactly one key",
                               &key);
            return NGX_CONF_ERROR;
        }

        store->key = ((ngx_http_es_jws_key_t **) keys.keys.elts)[0];
    }

    store->shm_zone->shm.size = size;
    store->shm_zone->init = ngx_http_es_store_init_zone;
    store->sync = sync;
    store->state_errors = errors;

    if (state.len) {
        if (ngx_conf_full_name(cf->cycle, &state, 0) != NGX_OK) {
            return NGX_CONF_ERROR;
        }

        store->state.len = state.len;
        store->state.data = ngx_pnalloc(cf->pool, 4 * (state.len + 16));
        if (store->state.data == NULL) {
            return NGX_CONF_ERROR;
        }

        p = store->state.data;

        (void) ngx_cpystrn(p, state.data, state.len + 1);
        p += state.len + 1;

        store->state_tmp.data = p;
        store->state_tmp.len = ngx_sprintf(p, "%V.tmp%Z", &state) - p - 1;
        p += store->state_tmp.len + 1;

        store->state_lock.data = p;
        store->state_lock.len = ngx_sprintf(p, "%V.lock%Z", &state) - p - 1;
        p += store->state_lock.len + 1;

        store->state_bad.data = p;
        store->state_bad.len = ngx_sprintf(p, "%V.corrupt%Z", &state)
                               - p - 1;

        /* a typo in the path fails now, not at the first snapshot */

        p = store->state.data + store->state.len;

        while (p > store->state.data && *(p - 1) != '/') {
            p--;
        }

        if (p > store->state.data + 1) {
            *(p - 1) = '\0';
            rc = ngx_file_info(store->state.data, &fi);
            *(p - 1) = '/';

            if (rc == NGX_FILE_ERROR || !ngx_is_dir(&fi)) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf,
                                   rc == NGX_FILE_ERROR ? ngx_errno : 0,
                                   "the directory of state file \"%V\" "
                                   "does not exist", &store->state);
                return NGX_CONF_ERROR;
            }
        }
    }

    /* two zones in one file would each take in the other's records */

    if (store->state.len && emcf->stores) {
        sp = emcf->stores->elts;

        for (i = 0; i < emcf->stores->nelts; i++) {
            if (sp[i]->state.len == store->state.len
                && ngx_strcmp(sp[i]->state.data, store->state.data) == 0)
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "zones \"%V\" and \"%V\" have the same "
                                   "state file \"%V\"", &sp[i]->name,
                                   &name, &store->state);
                return NGX_CONF_ERROR;
            }
        }
    }

    sp = ngx_http_es_conf_push(cf, &emcf->stores,
                               sizeof(ngx_http_es_store_t *));
    if (sp == NULL) {
        return NGX_CONF_ERROR;
    }

    *sp = store;

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid parameter \"%V\"",
                       &value[i]);
    return NGX_CONF_ERROR;
}


/* the store of a name, declared before or after its first use */

ngx_http_es_store_t *
ngx_http_es_store_get(ngx_conf_t *cf, ngx_str_t *name)
{
    ngx_shm_zone_t       *shm_zone;
    ngx_http_es_store_t  *store;

    shm_zone = ngx_shared_memory_add(cf, name, 0, &ngx_http_es_store_tag);
    if (shm_zone == NULL) {
        return NULL;
    }

    if (shm_zone->data) {
        store = shm_zone->data;

        if (store->shm_zone != shm_zone
            || (shm_zone->init && shm_zone->init
                                  != ngx_http_es_store_init_zone))
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "zone \"%V\" is not a session store zone",
                               name);
            return NULL;
        }

        return store;
    }

    store = ngx_pcalloc(cf->pool, sizeof(ngx_http_es_store_t));
    if (store == NULL) {
        return NULL;
    }

    store->shm_zone = shm_zone;
    store->name = shm_zone->shm.name;
    store->cycle = cf->cycle;

    shm_zone->data = store;

    return store;
}


static ngx_int_t
ngx_http_es_store_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_es_store_t *ostore = data;

    size_t                   len;
    ngx_http_es_store_t     *store;
    ngx_http_es_store_sh_t  *sh;

    store = shm_zone->data;

    if (ostore) {
        store->sh = ostore->sh;
        store->shpool = ostore->shpool;
        return NGX_OK;
    }

    store->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        store->sh = store->shpool->data;
        return NGX_OK;
    }

    sh = ngx_slab_alloc(store->shpool, sizeof(ngx_http_es_store_sh_t));
    if (sh == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(sh, sizeof(ngx_http_es_store_sh_t));

    store->sh = sh;
    store->shpool->data = sh;
    store->shpool->log_nomem = 0;

    ngx_rbtree_init(&sh->rbtree, &sh->sentinel,
                    ngx_http_es_store_rbtree_insert);
    ngx_queue_init(&sh->expiry);

    len = sizeof(" in embed_session_store_zone \"\"") + shm_zone->shm.name.len;

    store->shpool->log_ctx = ngx_slab_alloc(store->shpool, len);
    if (store->shpool->log_ctx == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(store->shpool->log_ctx,
                " in embed_session_store_zone \"%V\"%Z",
                &shm_zone->shm.name);

    /* a reload that changed the size: what the old zone holds, first */

    if (ngx_http_es_store_copy_old(store) != NGX_OK) {
        return NGX_ERROR;
    }

    if (store->state.len) {
        return ngx_http_es_store_load(store, store->cycle->log);
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_es_store_copy_old(ngx_http_es_store_t *store)
{
    time_t                     now;
    ngx_uint_t                 i, n, lost, level, pass, revoked;
    ngx_queue_t               *q;
    ngx_list_part_t           *part;
    ngx_shm_zone_t            *zone;
    ngx_http_es_store_t       *old;
    ngx_http_es_store_node_t  *node;

    if (store->cycle->old_cycle == NULL
        || store->cycle->old_cycle->shared_memory.part.elts == NULL)
    {
        return NGX_OK;
    }

    part = &store->cycle->old_cycle->shared_memory.part;
    zone = part->elts;
    old = NULL;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            zone = part->elts;
            i = 0;
        }

        if (zone[i].tag == &ngx_http_es_store_tag
            && zone[i].init == ngx_http_es_store_init_zone
            && zone[i].shm.name.len == store->name.len
            && ngx_strncmp(zone[i].shm.name.data, store->name.data,
                           store->name.len) == 0)
        {
            old = zone[i].data;
            break;
        }
    }

    if (old == NULL || old->sh == NULL) {
        return NGX_OK;
    }

    now = ngx_time();
    n = 0;
    lost = 0;
    revoked = 0;

    ngx_shmtx_lock(&old->shpool->mutex);
    ngx_shmtx_lock(&store->shpool->mutex);

    /* revoked sessions first: none of them may be left behind */

    for (pass = 0; pass < 2; pass++) {

        for (q = ngx_queue_head(&old->sh->expiry);
             q != ngx_queue_sentinel(&old->sh->expiry);
             q = ngx_queue_next(q))
        {
            node = ngx_queue_data(q, ngx_http_es_store_node_t, queue);

            if ((pass == 0) != !!(node->rec.flags & NGX_HTTP_ES_STORE_REVOKED))
            {
                continue;
            }

            if (ngx_http_es_store_merge_locked(store, &node->rec,
                                               node->payload, now)
                == NGX_OK)
            {
                n++;

            } else {
                lost++;
                revoked += (pass == 0);
            }
        }
    }

    store->sh->changes++;

    ngx_shmtx_unlock(&store->shpool->mutex);
    ngx_shmtx_unlock(&old->shpool->mutex);

    if (revoked) {
        ngx_log_error(NGX_LOG_EMERG, store->cycle->log, 0,
                      "embed_session_store_zone \"%V\": %ui revoked "
                      "sessions of the zone before the reload do not fit "
                      "in the new size: make it larger", &store->name,
                      revoked);
        return NGX_ERROR;
    }

    level = lost ? NGX_LOG_ALERT : NGX_LOG_NOTICE;

    ngx_log_error(level, store->cycle->log, 0,
                  "embed_session_store_zone \"%V\": %ui records carried "
                  "over from the zone before the reload%s", &store->name, n,
                  lost ? ", some did not fit: make the zone larger" : "");

    return NGX_OK;
}


/* the state file, when the zone is made: start, restart, upgrade, resize */

static ngx_int_t
ngx_http_es_store_load(ngx_http_es_store_t *store, ngx_log_t *log)
{
    ngx_int_t        rc;
    ngx_str_t        buf;
    ngx_uint_t       level;

    rc = ngx_http_es_state_read(store, &buf, log);

    if (rc == NGX_DECLINED) {
        ngx_log_error(NGX_LOG_NOTICE, log, 0,
                      "embed_session_store_zone \"%V\": no state file "
                      "\"%V\" yet, starting empty", &store->name,
                      &store->state);
        return NGX_OK;
    }

    if (rc != NGX_OK) {
        return store->state_errors == NGX_HTTP_ES_STATE_START ? NGX_OK
                                                              : NGX_ERROR;
    }

    level = store->state_errors == NGX_HTTP_ES_STATE_START ? NGX_LOG_ALERT
                                                           : NGX_LOG_EMERG;

    rc = ngx_http_es_state_parse(store, buf.data, buf.len, NULL, log, level);

    ngx_free(buf.data);

    if (rc == NGX_OK) {
        ngx_http_es_state_seen(store);
        return NGX_OK;
    }

    if (store->state_errors != NGX_HTTP_ES_STATE_START) {
        ngx_log_error(NGX_LOG_EMERG, log, 0,
                      "embed_session_store_zone \"%V\": fix or move away "
                      "\"%V\", or set state_errors=start to start with the "
                      "intact records", &store->name, &store->state);
        return NGX_ERROR;
    }

    /* keep the damaged file for the operator; a new one is written soon */

    if (!ngx_test_config) {
        if (ngx_rename_file(store->state.data, store->state_bad.data)
            == NGX_FILE_ERROR)
        {
            ngx_log_error(NGX_LOG_ALERT, log, ngx_errno,
                          ngx_rename_file_n " \"%V\" to \"%V\" failed",
                          &store->state, &store->state_bad);

        } else {
            ngx_log_error(NGX_LOG_ALERT, log, 0,
                          "embed_session_store_zone \"%V\": the damaged "
                          "state file is kept as \"%V\"", &store->name,
                          &store->state_bad);
        }
    }

    store->sh->changes++;

    return NGX_OK;
}


/*
 * Reads records into the zone; a record the zone cannot take is added to
 * carry (when given) to be written out again.  NGX_DECLINED: damaged, and
 * what could be read was kept.
 */

static ngx_int_t
ngx_http_es_state_parse(ngx_http_es_store_t *store, u_char *buf, size_t len,
    ngx_array_t *carry, ngx_log_t *log, ngx_uint_t level)
{
    u_char                    *p, *last, *next, *declined;
    size_t                     stride;
    time_t                     now;
    uint32_t                   rsize, flags;
    ngx_int_t                  rc;
    ngx_uint_t                 n, kept, bad, full, lost, mac;
    const char                *why;
    ngx_http_es_store_rec_t    rec;
    ngx_http_es_state_span_t  *span;

    if (len < NGX_HTTP_ES_STATE_HEADER
        || ngx_memcmp(buf, NGX_HTTP_ES_STATE_MAGIC, 8) != 0)
    {
        ngx_log_error(level, log, 0,
                      "embed_session_store_zone \"%V\": state file \"%V\" "
                      "is %s: no record kept", &store->name, &store->state,
                      len < NGX_HTTP_ES_STATE_HEADER && len
                      && ngx_memcmp(buf, NGX_HTTP_ES_STATE_MAGIC,
                                    ngx_min(len, 8)) == 0
                      ? "truncated in its header" : "not a state file");
        return NGX_DECLINED;
    }

    ngx_memcpy(&rsize, buf + 8, 4);
    ngx_memcpy(&flags, buf + 12, 4);

    if (rsize != sizeof(ngx_http_es_store_rec_t)) {
        ngx_log_error(level, log, 0,
                      "embed_session_store_zone \"%V\": state file \"%V\" "
                      "has records of %uD bytes, this build %uz: no record "
                      "kept", &store->name, &store->state, rsize,
                      sizeof(ngx_http_es_store_rec_t));
        return NGX_DECLINED;
    }

    mac = (flags & NGX_HTTP_ES_STATE_SIGNED) ? 1 : 0;

    if (mac != (store->key != NULL)) {
        ngx_log_error(level, log, 0,
                      "embed_session_store_zone \"%V\": state file \"%V\" "
                      "%s: no record kept", &store->name, &store->state,
                      mac ? "is signed, and the zone has no state_key"
                          : "is not signed with the zone's state_key");
        return NGX_DECLINED;
    }

    now = ngx_time();
    last = buf + len;

    /*
     * Revoked sessions first: if the zone cannot hold everything, what it
     * cannot hold must not be a revocation.  The main pass below reports
     * what is wrong with the file.
     */

    lost = 0;
    declined = NULL;

    for (p = buf + NGX_HTTP_ES_STATE_HEADER; p < last; p += stride) {

        rc = ngx_http_es_state_record(store, p, last, mac, &rec, &stride,
                                      &why);
        if (rc == NGX_ERROR) {
            next = ngx_http_es_state_resync(store, declined ? declined : p,
                                            last, mac);
            declined = NULL;
            p = next;
            stride = 0;
            continue;
        }

        declined = (rc == NGX_DECLINED) ? p : NULL;

        if (rc != NGX_OK || !(rec.flags & NGX_HTTP_ES_STORE_REVOKED)) {
            continue;
        }

        ngx_shmtx_lock(&store->shpool->mutex);
        rc = ngx_http_es_store_merge_locked(store, &rec,
                                            p + 8 + sizeof(rec), now);
        ngx_shmtx_unlock(&store->shpool->mutex);

        if (rc != NGX_OK) {
            lost++;
        }
    }

    if (lost && carry == NULL) {
        ngx_log_error(level, log, 0,
                      "embed_session_store_zone \"%V\": %ui revoked "
                      "sessions of state file \"%V\" do not fit in the "
                      "zone: make it larger", &store->name, lost,
                      &store->state);
        return NGX_DECLINED;
    }

    n = 0;
    kept = 0;
    bad = 0;
    full = 0;
    why = NULL;
    declined = NULL;

    for (p = buf + NGX_HTTP_ES_STATE_HEADER; p < last; p += stride) {
        n++;

        rc = ngx_http_es_state_record(store, p, last, mac, &rec, &stride,
                                      &why);
        if (rc == NGX_ERROR) {

            /*
             * The next place where a whole, valid record starts: after
             * the last record that was bad, whose length may have been
             * the wrong one, or after this one
             */

            next = ngx_http_es_state_resync(store, declined ? declined : p,
                                            last, mac);

            if (next == last) {
                break;
            }

            ngx_log_error(level, log, 0,
                          "embed_session_store_zone \"%V\": state file "
                          "\"%V\": record %ui at offset %uz: %s, the next "
                          "valid record is at offset %uz", &store->name,
                          &store->state, n, (size_t) (p - buf), why,
                          (size_t) (next - buf));
            bad++;
            why = NULL;
            declined = NULL;
            p = next;
            stride = 0;
            continue;
        }

        declined = (rc == NGX_DECLINED) ? p : NULL;

        if (rc == NGX_DECLINED) {
            ngx_log_error(level, log, 0,
                          "embed_session_store_zone \"%V\": state file "
                          "\"%V\": record %ui at offset %uz: %s, skipped, "
                          "and the session it names revoked", &store->name,
                          &store->state, n, (size_t) (p - buf), why);
            bad++;
            why = NULL;

            /*
             * It may have been a revocation: whatever id it names is
             * revoked, for its expiry if that is believable, else a day
             */

            ngx_memcpy(&rec, p + 8, sizeof(ngx_http_es_store_rec_t));

            if (rec.expires <= now || rec.expires > now + 31536000) {
                rec.expires = now + 86400;
            }

            ngx_memzero(rec.gen, NGX_HTTP_ES_ID_LEN);
            ngx_memzero(rec.prev, NGX_HTTP_ES_ID_LEN);
            rec.end = rec.expires;
            rec.seq = 0;
            rec.ttl = 0;
            rec.flags = NGX_HTTP_ES_STORE_REVOKED;
            rec.payload_len = 0;

            ngx_shmtx_lock(&store->shpool->mutex);
            (void) ngx_http_es_store_merge_locked(store, &rec, NULL, now);
            ngx_shmtx_unlock(&store->shpool->mutex);

            continue;
        }

        ngx_shmtx_lock(&store->shpool->mutex);
        rc = ngx_http_es_store_merge_locked(store, &rec,
                                            p + 8 + sizeof(rec), now);
        ngx_shmtx_unlock(&store->shpool->mutex);

        if (rc == NGX_OK) {
            kept++;
            continue;
        }

        full++;

        if (carry) {
            span = ngx_array_push(carry);
            if (span == NULL) {
                return NGX_ERROR;
            }

            span->data = p;
            span->len = stride;
        }
    }

    if (why) {
        ngx_log_error(level, log, 0,
                      "embed_session_store_zone \"%V\": state file \"%V\": "
                      "record %ui at offset %uz: %s; %ui intact records kept",
                      &store->name, &store->state, n, (size_t) (p - buf),
                      why, kept);
        return NGX_DECLINED;
    }

    if (full) {
        ngx_log_error(NGX_LOG_ALERT, log, 0,
                      "embed_session_store_zone \"%V\": %ui records of "
                      "state file \"%V\" do not fit in the zone%s",
                      &store->name, full, &store->state,
                      carry ? ", kept in the file" : "");
    }

    if (bad) {
        ngx_log_error(level, log, 0,
                      "embed_session_store_zone \"%V\": state file \"%V\": "
                      "%ui damaged record(s), %ui intact records kept",
                      &store->name, &store->state, bad, kept);
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/*
 * One record at p: its length, its CRC32, the record and a ticket's
 * claims, and with a state_key, an HMAC-SHA256 of all that.  NGX_OK,
 * NGX_DECLINED (this one is bad: skipped), NGX_ERROR (no record can be
 * found after it); why says what is wrong.
 */

static ngx_int_t
ngx_http_es_state_record(ngx_http_es_store_t *store, u_char *p, u_char *last,
    ngx_uint_t mac, ngx_http_es_store_rec_t *rec, size_t *stride,
    const char **why)
{
    u_char    md[NGX_HTTP_ES_STATE_MAC_LEN];
    size_t    maclen, mdlen;
    uint32_t  rlen, crc;

    maclen = mac ? NGX_HTTP_ES_STATE_MAC_LEN : 0;

    if (last - p < 8) {
        *why = "truncated";
        return NGX_ERROR;
    }

    ngx_memcpy(&rlen, p, 4);
    ngx_memcpy(&crc, p + 4, 4);

    if (rlen < sizeof(ngx_http_es_store_rec_t)
        || rlen > sizeof(ngx_http_es_store_rec_t) + NGX_HTTP_ES_TICKET_MAX)
    {
        *why = "impossible length";
        return NGX_ERROR;
    }

    if ((size_t) (last - p - 8) < rlen + maclen) {
        *why = "truncated";
        return NGX_ERROR;
    }

    *stride = 8 + rlen + maclen;

    if (ngx_crc32_long(p + 8, rlen) != crc) {
        *why = "checksum mismatch";
        return NGX_DECLINED;
    }

    if (mac) {
        if (ngx_http_es_jws_sign(store->key, p, 8 + rlen, md, &mdlen)
            != NGX_HTTP_ES_JWS_OK
            || mdlen != NGX_HTTP_ES_STATE_MAC_LEN
            || !ngx_http_es_jws_memeq(md, p + 8 + rlen, mdlen))
        {
            *why = "not signed with the state_key";
            return NGX_DECLINED;
        }
    }

    ngx_memcpy(rec, p + 8, sizeof(ngx_http_es_store_rec_t));

    if (rec->payload_len != rlen - sizeof(ngx_http_es_store_rec_t)
        || (rec->payload_len && !(rec->flags & NGX_HTTP_ES_STORE_TICKET)))
    {
        *why = "inconsistent";
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/* after a broken length: where the next valid record starts, or last */

static u_char *
ngx_http_es_state_resync(ngx_http_es_store_t *store, u_char *p, u_char *last,
    ngx_uint_t mac)
{
    size_t                    stride;
    const char               *why;
    ngx_http_es_store_rec_t   rec;

    for (p++; last - p >= 8; p++) {
        if (ngx_http_es_state_record(store, p, last, mac, &rec, &stride, &why)
            == NGX_OK)
        {
            return p;
        }
    }

    return last;
}


/* NGX_DECLINED: no file; buf is ngx_alloc()ed */

static ngx_int_t
ngx_http_es_state_read(ngx_http_es_store_t *store, ngx_str_t *buf,
    ngx_log_t *log)
{
    ssize_t          n;
    ngx_fd_t         fd;
    ngx_err_t        err;
    ngx_file_info_t  fi;

    fd = ngx_open_file(store->state.data, NGX_FILE_RDONLY|O_NOFOLLOW,
                       NGX_FILE_OPEN, 0);

    if (fd == NGX_INVALID_FILE) {
        err = ngx_errno;

        if (err == NGX_ENOENT) {
            return NGX_DECLINED;
        }

        ngx_log_error(NGX_LOG_EMERG, log, err,
                      "embed_session_store_zone \"%V\": "
                      ngx_open_file_n " \"%V\" failed", &store->name,
                      &store->state);
        return NGX_ERROR;
    }

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR) {
        ngx_log_error(NGX_LOG_EMERG, log, ngx_errno,
                      ngx_fd_info_n " \"%V\" failed", &store->state);
        goto failed;
    }

    if (ngx_file_size(&fi) > NGX_HTTP_ES_STATE_MAX) {
        ngx_log_error(NGX_LOG_EMERG, log, 0,
                      "embed_session_store_zone \"%V\": state file \"%V\" "
                      "is larger than %d bytes", &store->name, &store->state,
                      NGX_HTTP_ES_STATE_MAX);
        goto failed;
    }

    buf->len = ngx_file_size(&fi);
    buf->data = ngx_alloc(buf->len + 1, log);
    if (buf->data == NULL) {
        goto failed;
    }

    n = ngx_read_fd(fd, buf->data, buf->len);

    if (n == -1 || (size_t) n != buf->len) {
        ngx_log_error(NGX_LOG_EMERG, log, ngx_errno,
                      ngx_read_fd_n " \"%V\" failed", &store->state);
        ngx_free(buf->data);
        goto failed;
    }

    ngx_close_file(fd);

    return NGX_OK;

failed:

    ngx_close_file(fd);

    return NGX_ERROR;
}


/*
 * A snapshot: merge what the file holds into the zone, then write the
 * zone (and the records of the file it could not take) as a new file.
 */

static ngx_int_t
ngx_http_es_store_persist(ngx_http_es_store_t *store, ngx_uint_t dirty,
    ngx_log_t *log)
{
    u_char                    *buf, *p, *last;
    size_t                     size, zsize, maclen, mdlen;
    uint32_t                   rlen, crc;
    ngx_fd_t                   lfd;
    ngx_int_t                  rc;
    ngx_str_t                  file;
    ngx_uint_t                 changes;
    ngx_pool_t                *pool;
    ngx_array_t                carry;
    ngx_queue_t               *q;
    ngx_http_es_store_sh_t    *sh;
    ngx_http_es_store_node_t  *n;

    sh = store->sh;

    pool = ngx_create_pool(1024, log);
    if (pool == NULL) {
        (void) ngx_atomic_fetch_add(&sh->write_failures, 1);
        return NGX_ERROR;
    }

    lfd = ngx_http_es_state_lock(store, log);
    if (lfd == NGX_INVALID_FILE) {
        (void) ngx_atomic_fetch_add(&sh->write_failures, 1);
        ngx_destroy_pool(pool);
        return NGX_ERROR;
    }

    buf = NULL;
    file.data = NULL;
    rc = NGX_ERROR;

    if (ngx_array_init(&carry, pool, 1, sizeof(ngx_http_es_state_span_t))
        != NGX_OK)
    {
        goto done;
    }

    /*
     * What the file holds now, whoever wrote it, into the zone; a damaged
     * file is kept aside before it is replaced
     */

    rc = ngx_http_es_state_read(store, &file, log);

    if (rc == NGX_OK) {
        rc = ngx_http_es_state_parse(store, file.data, file.len, &carry, log,
                                     NGX_LOG_ALERT);

        if (rc == NGX_ERROR) {
            goto done;
        }

        if (rc == NGX_DECLINED) {
            if (ngx_rename_file(store->state.data, store->state_bad.data)
                == NGX_FILE_ERROR)
            {
                ngx_log_error(NGX_LOG_ALERT, log, ngx_errno,
                              ngx_rename_file_n " \"%V\" to \"%V\" failed",
                              &store->state, &store->state_bad);
                rc = NGX_ERROR;
                goto done;
            }

            ngx_log_error(NGX_LOG_ALERT, log, 0,
                          "embed_session_store_zone \"%V\": the damaged "
                          "state file is kept as \"%V\"", &store->name,
                          &store->state_bad);

            dirty = 1;
        }

    } else if (rc == NGX_ERROR) {
        goto done;
    }

    rc = NGX_OK;

    if (!dirty) {
        ngx_http_es_state_seen(store);
        goto done;
    }

    maclen = store->key ? NGX_HTTP_ES_STATE_MAC_LEN : 0;

    ngx_shmtx_lock(&store->shpool->mutex);
    size = NGX_HTTP_ES_STATE_HEADER
           + (sh->sessions + sh->tickets)
             * (8 + sizeof(ngx_http_es_store_rec_t) + maclen)
           + sh->payload;
    ngx_shmtx_unlock(&store->shpool->mutex);

    size += 64 * (8 + sizeof(ngx_http_es_store_rec_t) + maclen)
            + 4 * NGX_HTTP_ES_TICKET_MAX;

    /* counters that a killed worker left wrong do not size it: the zone */

    zsize = (size_t) (store->shpool->end - store->shpool->start);

    if (size > zsize + 65536) {
        size = zsize + 65536;
    }

    buf = ngx_alloc(size, log);
    if (buf == NULL) {
        rc = NGX_ERROR;
        goto done;
    }

    p = ngx_cpymem(buf, NGX_HTTP_ES_STATE_MAGIC, 8);
    rlen = sizeof(ngx_http_es_store_rec_t);
    p = ngx_cpymem(p, &rlen, 4);
    rlen = store->key ? NGX_HTTP_ES_STATE_SIGNED : 0;
    p = ngx_cpymem(p, &rlen, 4);

    last = buf + size;

    ngx_shmtx_lock(&store->shpool->mutex);

    changes = sh->changes;

    for (q = ngx_queue_head(&sh->expiry);
         q != ngx_queue_sentinel(&sh->expiry);
         q = ngx_queue_next(q))
    {
        n = ngx_queue_data(q, ngx_http_es_store_node_t, queue);

        rlen = sizeof(ngx_http_es_store_rec_t) + n->rec.payload_len;

        if ((size_t) (last - p) < 8 + rlen + maclen) {
            break;
        }

        ngx_memcpy(p + 8, &n->rec, sizeof(ngx_http_es_store_rec_t));

        if (n->rec.payload_len) {
            ngx_memcpy(p + 8 + sizeof(ngx_http_es_store_rec_t), n->payload,
                       n->rec.payload_len);
        }

        ngx_memcpy(p, &rlen, 4);
        p += 8 + rlen + maclen;
    }

    ngx_shmtx_unlock(&store->shpool->mutex);

    if (q != ngx_queue_sentinel(&sh->expiry)) {
        ngx_log_error(NGX_LOG_ALERT, log, 0,
                      "embed_session_store_zone \"%V\": the zone grew while "
                      "its snapshot was taken, writing it again soon",
                      &store->name);
        changes--;
    }

    /* checksums and signatures outside the mutex */

    for (last = p, p = buf + NGX_HTTP_ES_STATE_HEADER; p < last; /* void */)
    {
        ngx_memcpy(&rlen, p, 4);
        crc = ngx_crc32_long(p + 8, rlen);
        ngx_memcpy(p + 4, &crc, 4);

        if (store->key
            && (ngx_http_es_jws_sign(store->key, p, 8 + rlen, p + 8 + rlen,
                                     &mdlen)
                != NGX_HTTP_ES_JWS_OK
                || mdlen != NGX_HTTP_ES_STATE_MAC_LEN))
        {
            ngx_log_error(NGX_LOG_ALERT, log, 0,
                          "embed_session_store_zone \"%V\": signing a "
                          "record failed", &store->name);
            rc = NGX_ERROR;
            goto done;
        }

        p += 8 + rlen + maclen;
    }

    rc = ngx_http_es_state_write(store, buf, last - buf, &carry, log);

    if (rc == NGX_OK) {
        (void) ngx_atomic_fetch_add(&sh->writes, 1);

        /* monotonic: a slower writer never undoes a newer one's mark */

        if ((ngx_int_t) (changes - sh->persisted) > 0) {
            sh->persisted = changes;
        }
    }

done:

    if (rc != NGX_OK) {
        (void) ngx_atomic_fetch_add(&sh->write_failures, 1);
    }

    if (buf) {
        ngx_free(buf);
    }

    if (file.data) {
        ngx_free(file.data);
    }

    ngx_http_es_state_unlock(store, lfd, log);
    ngx_destroy_pool(pool);

    return rc;
}


static ngx_int_t
ngx_http_es_state_write(ngx_http_es_store_t *store, u_char *buf, size_t len,
    ngx_array_t *carry, ngx_log_t *log)
{
    u_char                    *p;
    ssize_t                    n;
    ngx_fd_t                   fd, dfd;
    ngx_uint_t                 i;
    ngx_http_es_state_span_t  *span;

    /* a new file, never one that is there (a link planted by another) */

    if (ngx_delete_file(store->state_tmp.data) == NGX_FILE_ERROR
        && ngx_errno != NGX_ENOENT)
    {
        ngx_log_error(NGX_LOG_ERR, log, ngx_errno,
                      "embed_session_store_zone \"%V\": "
                      ngx_delete_file_n " \"%V\" failed", &store->name,
                      &store->state_tmp);
        return NGX_ERROR;
    }

    fd = ngx_open_file(store->state_tmp.data, NGX_FILE_WRONLY|O_NOFOLLOW,
                       NGX_FILE_CREATE_OR_OPEN|O_EXCL, S_IRUSR|S_IWUSR);

    if (fd == NGX_INVALID_FILE) {
        ngx_log_error(NGX_LOG_ERR, log, ngx_errno,
                      "embed_session_store_zone \"%V\": "
                      ngx_open_file_n " \"%V\" failed", &store->name,
                      &store->state_tmp);
        return NGX_ERROR;
    }

    n = ngx_write_fd(fd, buf, len);

    if (n != (ssize_t) len) {
        goto failed;
    }

    span = carry->elts;

    for (i = 0; i < carry->nelts; i++) {
        n = ngx_write_fd(fd, span[i].data, span[i].len);

        if (n != (ssize_t) span[i].len) {
            goto failed;
        }
    }

    if (fsync(fd) == -1) {
        goto failed;
    }

    if (ngx_close_file(fd) == NGX_FILE_ERROR) {
        fd = NGX_INVALID_FILE;
        goto failed;
    }

    if (ngx_rename_file(store->state_tmp.data, store->state.data)
        == NGX_FILE_ERROR)
    {
        ngx_log_error(NGX_LOG_ERR, log, ngx_errno,
                      "embed_session_store_zone \"%V\": "
                      ngx_rename_file_n " \"%V\" to \"%V\" failed",
                      &store->name, &store->state_tmp, &store->state);
        (void) ngx_delete_file(store->state_tmp.data);
        return NGX_ERROR;
    }

    /* the rename itself, durable: fsync of the directory */

    p = store->state.data + store->state.len;

    while (p > store->state.data && *(p - 1) != '/') {
        p--;
    }

    if (p > store->state.data) {
        *(p - 1) = '\0';
        dfd = ngx_open_file(store->state.data, NGX_FILE_RDONLY,
                            NGX_FILE_OPEN, 0);
        *(p - 1) = '/';

        if (dfd != NGX_INVALID_FILE) {
            (void) fsync(dfd);
            (void) ngx_close_file(dfd);
        }
    }

    ngx_http_es_state_seen(store);

    return NGX_OK;

failed:

    ngx_log_error(NGX_LOG_ERR, log, ngx_errno,
                  "embed_session_store_zone \"%V\": writing \"%V\" failed",
                  &store->name, &store->state_tmp);

    if (fd != NGX_INVALID_FILE) {
        (void) ngx_close_file(fd);
    }

    (void) ngx_delete_file(store->state_tmp.data);

    return NGX_ERROR;
}


static ngx_fd_t
ngx_http_es_state_lock(ngx_http_es_store_t *store, ngx_log_t *log)
{
    ngx_fd_t      fd;
    struct flock  fl;

    fd = ngx_open_file(store->state_lock.data, NGX_FILE_RDWR|O_NOFOLLOW,
                       NGX_FILE_CREATE_OR_OPEN, S_IRUSR|S_IWUSR);

    if (fd == NGX_INVALID_FILE) {
        ngx_log_error(NGX_LOG_ERR, log, ngx_errno,
                      "embed_session_store_zone \"%V\": "
                      ngx_open_file_n " \"%V\" failed", &store->name,
                      &store->state_lock);
        return NGX_INVALID_FILE;
    }

    ngx_memzero(&fl, sizeof(struct flock));
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;

    while (fcntl(fd, F_SETLKW, &fl) == -1) {
        if (ngx_errno == NGX_EINTR) {
            continue;
        }

        ngx_log_error(NGX_LOG_ERR, log, ngx_errno,
                      "embed_session_store_zone \"%V\": fcntl(F_SETLKW) "
                      "\"%V\" failed", &store->name, &store->state_lock);
        (void) ngx_close_file(fd);
        return NGX_INVALID_FILE;
    }

    return fd;
}


static void
ngx_http_es_state_unlock(ngx_http_es_store_t *store, ngx_fd_t fd,
    ngx_log_t *log)
{
    /* closing the file releases the lock */

    if (fd != NGX_INVALID_FILE && ngx_close_file(fd) == NGX_FILE_ERROR) {
        ngx_log_error(NGX_LOG_ALERT, log, ngx_errno,
                      ngx_close_file_n " \"%V\" failed", &store->state_lock);
    }
}


/*
 * Has the file changed since this process read or wrote it?  Inode, size
 * and the modification time to the nanosecond: a rename reuses inodes, and
 * records have one size.  Only what is taken in, and when, depends on it:
 * every write reads the file first.
 */

static ngx_uint_t
ngx_http_es_state_changed(ngx_http_es_store_t *store)
{
    ngx_file_info_t  fi;

    if (ngx_file_info(store->state.data, &fi) == NGX_FILE_ERROR) {
        return 0;
    }

    return ngx_file_uniq(&fi) != store->file_uniq
           || ngx_file_size(&fi) != store->file_size
           || fi.st_mtim.tv_sec != store->file_mtime
           || fi.st_mtim.tv_nsec != store->file_mtime_ns;
}


static void
ngx_http_es_state_seen(ngx_http_es_store_t *store)
{
    ngx_file_info_t  fi;

    if (ngx_file_info(store->state.data, &fi) == NGX_FILE_ERROR) {
        return;
    }

    store->file_uniq = ngx_file_uniq(&fi);
    store->file_size = ngx_file_size(&fi);
    store->file_mtime = fi.st_mtim.tv_sec;
    store->file_mtime_ns = fi.st_mtim.tv_nsec;
}


/* processes */

static ngx_array_t *
ngx_http_es_stores(ngx_cycle_t *cycle)
{
    ngx_http_es_main_conf_t  *emcf;

    emcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_embed_session_module);

    if (emcf == NULL || emcf->stores == NULL) {
        return NULL;
    }

    return emcf->stores;
}


ngx_int_t
ngx_http_es_store_init_process(ngx_cycle_t *cycle)
{
    ngx_msec_t             sync;
    ngx_uint_t             i;
    ngx_array_t           *stores;
    ngx_http_es_store_t  **store;

    stores = ngx_http_es_stores(cycle);

    if (stores == NULL
        || (ngx_process == NGX_PROCESS_WORKER && ngx_worker != 0)
        || (ngx_process != NGX_PROCESS_WORKER
            && ngx_process != NGX_PROCESS_SINGLE))
    {
        return NGX_OK;
    }

    /* one worker sweeps and writes, at the shortest sync of the stores */

    store = stores->elts;
    sync = store[0]->sync;

    for (i = 1; i < stores->nelts; i++) {
        sync = ngx_min(sync, store[i]->sync);
    }

    ngx_http_es_store_sync = sync;
    ngx_http_es_store_dumb.fd = (ngx_socket_t) -1;

    ngx_http_es_store_event.handler = ngx_http_es_store_timer;
    ngx_http_es_store_event.log = cycle->log;
    ngx_http_es_store_event.data = &ngx_http_es_store_dumb;
    ngx_http_es_store_event.cancelable = 1;

    /*
     * soon after the start: a worker respawned after a crash writes what
     * changed at once, however often it is killed
     */

    ngx_add_timer(&ngx_http_es_store_event, 10);

    ngx_http_es_api_end_revoked(cycle);

    return NGX_OK;
}


static void
ngx_http_es_store_timer(ngx_event_t *ev)
{
    time_t                 now;
    ngx_uint_t             i, dirty;
    ngx_array_t           *stores;
    ngx_http_es_store_t  **store, *s;

    stores = ngx_http_es_stores((ngx_cycle_t *) ngx_cycle);

    /* on while the worker exits too: the timer is cancelable */

    if (stores == NULL) {
        return;
    }

    now = ngx_time();
    store = stores->elts;

    for (i = 0; i < stores->nelts; i++) {
        s = store[i];

        ngx_shmtx_lock(&s->shpool->mutex);
        (void) ngx_http_es_store_expire_locked(s, now);
        ngx_shmtx_unlock(&s->shpool->mutex);

        if (s->state.len == 0) {
            continue;
        }

        /* after a failure, tries again after 1, 2, 4 ... 64 s */

        if (s->retry > ngx_current_msec) {
            continue;
        }

        /*
         * A change here is written; a change of the file by another
         * writer (the other zone of a reload that changed the size, the
         * other nginx of a binary upgrade) is only taken in
         */

        dirty = (s->sh->changes != s->sh->persisted);

        if (dirty || ngx_http_es_state_changed(s)) {
            if (ngx_http_es_store_persist(s, dirty, ev->log) == NGX_OK) {
                if (s->backoff) {
                    ngx_log_error(NGX_LOG_NOTICE, ev->log, 0,
                                  "embed_session_store_zone \"%V\": "
                                  "state file \"%V\" written again",
                                  &s->name, &s->state);
                }

                s->backoff = 0;
                s->retry = 0;

            } else {
                s->backoff = s->backoff ? ngx_min(s->backoff * 2, 64000)
                                        : 1000;
                s->retry = ngx_current_msec + s->backoff;
            }
        }
    }

    ngx_add_timer(ev, ngx_http_es_store_sync);
}


/*
 * Every worker, when it exits: what changed is written once more.  Never
 * the master: it runs as root, in a directory that the workers can write
 * to, where a planted link would make its write root's.  A worker that
 * was killed is respawned, and writes 10 ms after its start.
 */

void
ngx_http_es_store_exit(ngx_cycle_t *cycle)
{
    ngx_uint_t             i;
    ngx_array_t           *stores;
    ngx_http_es_store_t  **store;

    stores = ngx_http_es_stores(cycle);

    if (stores == NULL) {
        return;
    }

    store = stores->elts;

    for (i = 0; i < stores->nelts; i++) {
        if (store[i]->state.len && store[i]->sh
            && store[i]->sh->changes != store[i]->sh->persisted)
        {
            (void) ngx_http_es_store_persist(store[i], 1, cycle->log);
        }
    }
}


/* ids: UUIDs in lower-case canonical form, as the module makes them */

ngx_int_t
ngx_http_es_id_parse(u_char *id, u_char *text, size_t len)
{
    u_char      c, v;
    ngx_uint_t  i, k;

    if (len != 36) {
        return NGX_ERROR;
    }

    for (i = 0, k = 0; i < 36; i++) {
        c = text[i];

        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-') {
                return NGX_ERROR;
            }

            continue;
        }

        if (c >= '0' && c <= '9') {
            v = c - '0';

        } else if (c >= 'a' && c <= 'f') {
            v = c - 'a' + 10;

        } else {
            return NGX_ERROR;
        }

        if (k & 1) {
            id[k / 2] |= v;

        } else {
            id[k / 2] = v << 4;
        }

        k++;
    }

    return NGX_OK;
}


u_char *
ngx_http_es_id_text(u_char *p, u_char *id)
{
    ngx_uint_t  i;

    for (i = 0; i < NGX_HTTP_ES_ID_LEN; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) {
            *p++ = '-';
        }

        p = ngx_hex_dump(p, &id[i], 1);
    }

    return p;
}


/*
 * The owner of an API key's sessions: SHA-256 of the key record's OWNER
 * string, cut.  That is "ID:SERIAL", a serial made once per key that its
 * regenerations keep: a key keeps its sessions, and an ID given again to
 * another key does not inherit them.  A record without serial= gives its
 * ID alone, the owner every key had before.
 */

void
ngx_http_es_owner(u_char *owner, ngx_str_t *key_owner)
{
    u_char  md[NGX_HTTP_ES_JWS_SHA256_LEN];

    if (ngx_http_es_jws_sha256(key_owner->data, key_owner->len, md)
        != NGX_HTTP_ES_JWS_OK)
    {
        /* an owner no key has: the request's key owns nothing here */
        ngx_memset(owner, 0xff, NGX_HTTP_ES_OWNER_LEN);
        return;
    }

    ngx_memcpy(owner, md, NGX_HTTP_ES_OWNER_LEN);
}


/*
 * What requests ask: each one question answered under the mutex.
 */

/* NGX_OK: passes (or not known here), NGX_DECLINED: revoked,
 * NGX_BUSY: replaced by a refresh */

ngx_int_t
ngx_http_es_store_check(ngx_http_es_store_t *store, u_char *sid,
    u_char *jti)
{
    ngx_int_t                  rc;
    ngx_http_es_store_node_t  *n;

    rc = NGX_OK;

    ngx_shmtx_lock(&store->shpool->mutex);

    n = ngx_http_es_store_lookup(store->sh, sid, ngx_time());

    if (n) {
        if (n->rec.flags & NGX_HTTP_ES_STORE_REVOKED) {
            rc = NGX_DECLINED;

        } else if (ngx_memcmp(n->rec.gen, jti, NGX_HTTP_ES_ID_LEN) != 0
                   && (!(n->rec.flags & NGX_HTTP_ES_STORE_TICKET)
                       || (n->rec.flags & NGX_HTTP_ES_STORE_EXCHANGED)))
        {
            rc = NGX_BUSY;
        }
    }

    ngx_shmtx_unlock(&store->shpool->mutex);

    return rc;
}


/* NGX_OK, NGX_AGAIN: the zone is full, NGX_DECLINED: the id exists */

ngx_int_t
ngx_http_es_store_add(ngx_http_es_store_t *store,
    ngx_http_es_store_rec_t *rec, u_char *payload, ngx_log_t *log)
{
    time_t                     now;
    ngx_int_t                  rc;
    ngx_http_es_store_node_t  *n;

    now = ngx_time();

    ngx_shmtx_lock(&store->shpool->mutex);

    if (ngx_http_es_store_lookup(store->sh, rec->id, 0)) {
        rc = NGX_DECLINED;

    } else {
        n = ngx_http_es_store_alloc_locked(store, rec, payload, now);

        if (n) {
            ngx_http_es_store_link(store->sh, n);
            store->sh->changes++;
            rc = NGX_OK;

        } else {
            rc = NGX_AGAIN;
        }
    }

    ngx_shmtx_unlock(&store->shpool->mutex);

    if (rc == NGX_AGAIN) {
        ngx_http_es_store_full(store, log);
    }

    return rc;
}


ngx_http_es_rotate_rc_t
ngx_http_es_store_rotate(ngx_http_es_store_t *store, ngx_http_es_rotate_t *rot)
{
    ngx_http_es_rotate_rc_t    rc;
    ngx_http_es_store_rec_t   *rec;
    ngx_http_es_store_node_t  *n;

    ngx_shmtx_lock(&store->shpool->mutex);

    n = ngx_http_es_store_lookup(store->sh, rot->sid, rot->now);

    if (n == NULL
        || ((n->rec.flags & NGX_HTTP_ES_STORE_TICKET)
            && !(n->rec.flags & NGX_HTTP_ES_STORE_EXCHANGED))
        || (rot->has_owner
            && ngx_memcmp(n->rec.owner, rot->owner, NGX_HTTP_ES_OWNER_LEN)
               != 0))
    {
        rc = NGX_HTTP_ES_FAMILY_UNKNOWN;
        goto done;
    }

    rec = &n->rec;

    if (rec->flags & NGX_HTTP_ES_STORE_REVOKED) {
        rc = NGX_HTTP_ES_FAMILY_REVOKED;
        goto done;
    }

    if (ngx_memcmp(rec->gen, rot->jti, NGX_HTTP_ES_ID_LEN) == 0) {

        if (rot->now >= rec->end) {
            rc = NGX_HTTP_ES_FAMILY_ENDED;
            goto done;
        }

        ngx_memcpy(rec->prev, rec->gen, NGX_HTTP_ES_ID_LEN);
        ngx_memcpy(rec->gen, rot->next, NGX_HTTP_ES_ID_LEN);
        rec->rotated = rot->now;
        rec->iat = rot->now;
        rec->exp = ngx_min(rot->now + rot->ttl, rec->end);
        rec->seq++;

        store->sh->changes++;
        rc = NGX_HTTP_ES_ROTATED;

    } else if (rec->seq && rot->grace
               && ngx_memcmp(rec->prev, rot->jti, NGX_HTTP_ES_ID_LEN) == 0
               && rot->now - rec->rotated <= rot->grace)
    {
        rc = NGX_HTTP_ES_REPEATED;

    } else {
        /* a replaced generation presented again: the family is stolen */

        ngx_http_es_store_count(store->sh, rec, -1);
        rec->flags |= NGX_HTTP_ES_STORE_REVOKED;
        ngx_http_es_store_count(store->sh, rec, 1);

        store->sh->changes++;
        rc = NGX_HTTP_ES_REUSED;
        goto done;
    }

    ngx_memcpy(rot->gen, rec->gen, NGX_HTTP_ES_ID_LEN);
    rot->iat = rec->iat;
    rot->exp = rec->exp;
    rot->end = rec->end;

done:

    ngx_shmtx_unlock(&store->shpool->mutex);

    return rc;
}


/* NGX_DECLINED: unknown, or not the owner's (owner NULL: any) */

ngx_int_t
ngx_http_es_store_revoke(ngx_http_es_store_t *store, u_char *sid,
    u_char *owner)
{
    ngx_int_t                  rc;
    ngx_http_es_store_node_t  *n;

    rc = NGX_DECLINED;

    ngx_shmtx_lock(&store->shpool->mutex);

    n = ngx_http_es_store_lookup(store->sh, sid, ngx_time());

    if (n && (owner == NULL
              || ngx_memcmp(n->rec.owner, owner, NGX_HTTP_ES_OWNER_LEN) == 0))
    {
        if (!(n->rec.flags & NGX_HTTP_ES_STORE_REVOKED)) {
            ngx_http_es_store_count(store->sh, &n->rec, -1);
            n->rec.flags |= NGX_HTTP_ES_STORE_REVOKED;
            ngx_http_es_store_count(store->sh, &n->rec, 1);
            store->sh->changes++;
        }

        rc = NGX_OK;
    }

    ngx_shmtx_unlock(&store->shpool->mutex);

    return rc;
}


/* an API key revoked: every family it minted, in every store */

ngx_uint_t
ngx_http_es_store_revoke_owner(ngx_cycle_t *cycle, u_char *owner)
{
    ngx_uint_t                 i, count;
    ngx_queue_t               *q;
    ngx_array_t               *stores;
    ngx_http_es_store_t      **store;
    ngx_http_es_store_node_t  *n;

    stores = ngx_http_es_stores(cycle);

    if (stores == NULL) {
        return 0;
    }

    count = 0;
    store = stores->elts;

    for (i = 0; i < stores->nelts; i++) {
        ngx_shmtx_lock(&store[i]->shpool->mutex);

        for (q = ngx_queue_head(&store[i]->sh->expiry);
             q != ngx_queue_sentinel(&store[i]->sh->expiry);
             q = ngx_queue_next(q))
        {
            n = ngx_queue_data(q, ngx_http_es_store_node_t, queue);

            if ((n->rec.flags & NGX_HTTP_ES_STORE_REVOKED)
                || ngx_memcmp(n->rec.owner, owner, NGX_HTTP_ES_OWNER_LEN)
                   != 0)
            {
                continue;
            }

            ngx_http_es_store_count(store[i]->sh, &n->rec, -1);
            n->rec.flags |= NGX_HTTP_ES_STORE_REVOKED;
            ngx_http_es_store_count(store[i]->sh, &n->rec, 1);
            count++;
        }

        if (count) {
            store[i]->sh->changes++;
        }

        ngx_shmtx_unlock(&store[i]->shpool->mutex);
    }

    return count;
}


/* a ticket, exactly once: its claims are copied out to payload */

ngx_http_es_exchange_rc_t
ngx_http_es_store_exchange(ngx_http_es_store_t *store, u_char *id,
    time_t now, time_t leeway, u_char *payload, ngx_http_es_store_rec_t *rec)
{
    u_char                     *claims;
    ngx_http_es_store_sh_t     *sh;
    ngx_http_es_store_node_t   *n;
    ngx_http_es_exchange_rc_t   rc;

    sh = store->sh;

    ngx_shmtx_lock(&store->shpool->mutex);

    n = ngx_http_es_store_lookup(sh, id, now);

    if (n == NULL || !(n->rec.flags & NGX_HTTP_ES_STORE_TICKET)
        || (n->rec.flags & NGX_HTTP_ES_STORE_REVOKED))
    {
        rc = NGX_HTTP_ES_TICKET_UNKNOWN;

    } else if (n->rec.flags & NGX_HTTP_ES_STORE_EXCHANGED) {
        rc = NGX_HTTP_ES_TICKET_USED;

    } else if (now >= n->rec.end) {
        rc = NGX_HTTP_ES_TICKET_EXPIRED;

    } else {
        ngx_memcpy(payload, n->payload, n->rec.payload_len);

        *rec = n->rec;

        /*
         * The ticket becomes the session it was exchanged for: used first,
         * its claims freed last, so that a worker killed half-way leaves
         * at worst memory that is not freed
         */

        ngx_http_es_store_count(sh, &n->rec, -1);
        n->rec.flags |= NGX_HTTP_ES_STORE_EXCHANGED;

        claims = n->payload;
        n->payload = NULL;
        sh->payload -= n->rec.payload_len;
        n->rec.payload_len = 0;

        ngx_slab_free_locked(store->shpool, claims);

        ngx_memcpy(n->rec.gen, n->rec.id, NGX_HTTP_ES_ID_LEN);
        n->rec.iat = now;
        n->rec.exp = now + n->rec.ttl;
        n->rec.end = n->rec.exp;

        if (n->rec.exp + leeway > n->rec.expires) {
            n->rec.expires = n->rec.exp + leeway;
            ngx_queue_remove(&n->queue);
            ngx_http_es_store_queue(sh, n);
        }

        ngx_http_es_store_count(sh, &n->rec, 1);
        sh->changes++;

        rec->iat = n->rec.iat;
        rec->exp = n->rec.exp;

        rc = NGX_HTTP_ES_TICKET_OK;
    }

    ngx_shmtx_unlock(&store->shpool->mutex);

    return rc;
}


/*
 * The numbers of the status page, and the invariant check, one pass over
 * the queue and one over the tree: as many records in both, each keyed by
 * its id, the queue in expiry order, and the counters add up.  A worker
 * killed half-way through a change would show here.
 */

void
ngx_http_es_store_stats(ngx_http_es_store_t *store,
    ngx_http_es_store_stats_t *st)
{
    time_t                     prev;
    size_t                     payload;
    ngx_uint_t                 queued, sessions, tickets, revoked, ok;
    ngx_queue_t               *q;
    ngx_rbtree_node_t         *node;
    ngx_http_es_store_sh_t    *sh;
    ngx_http_es_store_node_t  *n;

    sh = store->sh;
    ok = 1;
    queued = 0;
    sessions = 0;
    tickets = 0;
    revoked = 0;
    payload = 0;
    prev = 0;

    ngx_shmtx_lock(&store->shpool->mutex);

    for (q = ngx_queue_head(&sh->expiry);
         q != ngx_queue_sentinel(&sh->expiry);
         q = ngx_queue_next(q))
    {
        n = ngx_queue_data(q, ngx_http_es_store_node_t, queue);

        if (n->rec.expires < prev
            || (n->payload == NULL) != (n->rec.payload_len == 0))
        {
            ok = 0;
        }

        prev = n->rec.expires;
        queued++;
        payload += n->rec.payload_len;

        if ((n->rec.flags & NGX_HTTP_ES_STORE_TICKET)
            && !(n->rec.flags & NGX_HTTP_ES_STORE_EXCHANGED))
        {
            tickets++;

        } else {
            sessions++;
        }

        if (n->rec.flags & NGX_HTTP_ES_STORE_REVOKED) {
            revoked++;
        }
    }

    if (sessions != sh->sessions || tickets != sh->tickets
        || revoked != sh->revoked || payload != sh->payload)
    {
        ok = 0;
    }

    /* and nothing in the tree that the queue does not hold */

    if (sh->rbtree.root != sh->rbtree.sentinel) {
        for (node = ngx_rbtree_min(sh->rbtree.root, sh->rbtree.sentinel);
             node;
             node = ngx_rbtree_next(&sh->rbtree, node))
        {
            n = (ngx_http_es_store_node_t *) node;

            if (ngx_memcmp(&node->key, n->rec.id, sizeof(ngx_rbtree_key_t))
                != 0)
            {
                ok = 0;
            }

            queued--;
        }
    }

    if (queued != 0) {
        ok = 0;
    }

    st->sessions = sh->sessions;
    st->tickets = sh->tickets;
    st->revoked = sh->revoked;
    st->size = store->shpool->end - store->shpool->start;
    st->free = store->shpool->pfree * ngx_pagesize;
    st->used = st->size - st->free;

    ngx_shmtx_unlock(&store->shpool->mutex);

    st->full = sh->full;
    st->writes = sh->writes;
    st->write_failures = sh->write_failures;
    st->ok = ok;
}


/* the zone's own work, under its mutex */

static void
ngx_http_es_store_rbtree_insert(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel)
{
    ngx_rbtree_node_t         **p;
    ngx_http_es_store_node_t   *n, *t;

    for ( ;; ) {

        if (node->key < temp->key) {
            p = &temp->left;

        } else if (node->key > temp->key) {
            p = &temp->right;

        } else {
            n = (ngx_http_es_store_node_t *) node;
            t = (ngx_http_es_store_node_t *) temp;

            p = ngx_memcmp(n->rec.id, t->rec.id, NGX_HTTP_ES_ID_LEN) < 0
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


/* now 0: expired records too */

static ngx_http_es_store_node_t *
ngx_http_es_store_lookup(ngx_http_es_store_sh_t *sh, u_char *id, time_t now)
{
    ngx_int_t                  rc;
    ngx_rbtree_key_t           key;
    ngx_rbtree_node_t         *node, *sentinel;
    ngx_http_es_store_node_t  *n;

    ngx_memcpy(&key, id, sizeof(ngx_rbtree_key_t));

    node = sh->rbtree.root;
    sentinel = sh->rbtree.sentinel;

    while (node != sentinel) {

        if (key < node->key) {
            node = node->left;
            continue;
        }

        if (key > node->key) {
            node = node->right;
            continue;
        }

        n = (ngx_http_es_store_node_t *) node;

        rc = ngx_memcmp(id, n->rec.id, NGX_HTTP_ES_ID_LEN);

        if (rc == 0) {
            return (now && n->rec.expires <= now) ? NULL : n;
        }

        node = rc < 0 ? node->left : node->right;
    }

    return NULL;
}


/* a record from the state file or an old zone: a union with what is here */

static ngx_int_t
ngx_http_es_store_merge_locked(ngx_http_es_store_t *store,
    ngx_http_es_store_rec_t *rec, u_char *payload, time_t now)
{
    u_char                    *claims;
    ngx_http_es_store_sh_t    *sh;
    ngx_http_es_store_node_t  *n;

    if (rec->expires <= now) {
        return NGX_OK;
    }

    sh = store->sh;
    n = ngx_http_es_store_lookup(sh, rec->id, 0);

    if (n == NULL) {
        n = ngx_http_es_store_alloc_locked(store, rec, payload, now);
        if (n == NULL) {
            return NGX_AGAIN;
        }

        ngx_http_es_store_link(sh, n);
        return NGX_OK;
    }

    ngx_http_es_store_count(sh, &n->rec, -1);

    n->rec.flags |= rec->flags & NGX_HTTP_ES_STORE_REVOKED;

    if ((rec->flags & NGX_HTTP_ES_STORE_EXCHANGED)
        && !(n->rec.flags & NGX_HTTP_ES_STORE_EXCHANGED))
    {
        n->rec.flags |= NGX_HTTP_ES_STORE_EXCHANGED;

        if (n->payload) {
            claims = n->payload;
            n->payload = NULL;
            sh->payload -= n->rec.payload_len;
            n->rec.payload_len = 0;

            ngx_slab_free_locked(store->shpool, claims);
        }

        ngx_memcpy(n->rec.gen, rec->gen, NGX_HTTP_ES_ID_LEN);
        n->rec.iat = rec->iat;
        n->rec.exp = rec->exp;
        n->rec.end = rec->end;
    }

    /*
     * Two zones side by side (a reload that changed the size, a binary
     * upgrade) that both rotated the same generation, or both exchanged
     * the same ticket: one of them answered a reuse.  Fail closed.
     */

    if ((rec->seq == n->rec.seq && rec->seq
         && ngx_memcmp(rec->gen, n->rec.gen, NGX_HTTP_ES_ID_LEN) != 0)
        || ((rec->flags & n->rec.flags & NGX_HTTP_ES_STORE_EXCHANGED)
            && rec->iat != n->rec.iat))
    {
        n->rec.flags |= NGX_HTTP_ES_STORE_REVOKED;
    }

    if (rec->seq > n->rec.seq) {
        ngx_memcpy(n->rec.gen, rec->gen, NGX_HTTP_ES_ID_LEN);
        ngx_memcpy(n->rec.prev, rec->prev, NGX_HTTP_ES_ID_LEN);
        n->rec.rotated = rec->rotated;
        n->rec.iat = rec->iat;
        n->rec.exp = rec->exp;
        n->rec.seq = rec->seq;
    }

    ngx_http_es_store_count(sh, &n->rec, 1);

    if (rec->expires > n->rec.expires) {
        n->rec.expires = rec->expires;
        ngx_queue_remove(&n->queue);
        ngx_http_es_store_queue(sh, n);
    }

    return NGX_OK;
}


/* a record built in full, not yet linked; NULL: the zone is full */

static ngx_http_es_store_node_t *
ngx_http_es_store_alloc_locked(ngx_http_es_store_t *store,
    ngx_http_es_store_rec_t *rec, u_char *payload, time_t now)
{
    ngx_uint_t                 tries;
    ngx_http_es_store_node_t  *n;

    n = NULL;

    for (tries = 0; tries < 2; tries++) {

        if (tries && ngx_http_es_store_expire_locked(store, now) == 0) {
            break;
        }

        if (n == NULL) {
            n = ngx_slab_alloc_locked(store->shpool,
                                      sizeof(ngx_http_es_store_node_t));
            if (n == NULL) {
                continue;
            }

            n->payload = NULL;
        }

        if (rec->payload_len) {
            n->payload = ngx_slab_alloc_locked(store->shpool,
                                               rec->payload_len);
            if (n->payload == NULL) {
                continue;
            }
        }

        break;
    }

    if (n == NULL || (rec->payload_len && n->payload == NULL)) {
        if (n) {
            ngx_slab_free_locked(store->shpool, n);
        }

        store->sh->full++;
        return NULL;
    }

    n->rec = *rec;

    if (rec->payload_len) {
        ngx_memcpy(n->payload, payload, rec->payload_len);
    }

    ngx_memcpy(&n->node.key, rec->id, sizeof(ngx_rbtree_key_t));

    return n;
}


static void
ngx_http_es_store_link(ngx_http_es_store_sh_t *sh, ngx_http_es_store_node_t *n)
{
    ngx_rbtree_insert(&sh->rbtree, &n->node);
    ngx_http_es_store_queue(sh, n);
    ngx_http_es_store_count(sh, &n->rec, 1);
    sh->payload += n->rec.payload_len;
}


/* in expiry order, from the tail: records mostly come in that order */

static void
ngx_http_es_store_queue(ngx_http_es_store_sh_t *sh,
    ngx_http_es_store_node_t *n)
{
    ngx_queue_t               *q;
    ngx_http_es_store_node_t  *t;

    for (q = ngx_queue_last(&sh->expiry);
         q != ngx_queue_sentinel(&sh->expiry);
         q = ngx_queue_prev(q))
    {
        t = ngx_queue_data(q, ngx_http_es_store_node_t, queue);

        if (t->rec.expires <= n->rec.expires) {
            break;
        }
    }

    ngx_queue_insert_after(q, &n->queue);
}


static void
ngx_http_es_store_free_locked(ngx_http_es_store_t *store,
    ngx_http_es_store_node_t *n)
{
    ngx_http_es_store_sh_t  *sh;

    sh = store->sh;

    ngx_http_es_store_count(sh, &n->rec, -1);
    sh->payload -= n->rec.payload_len;

    ngx_queue_remove(&n->queue);
    ngx_rbtree_delete(&sh->rbtree, &n->node);

    if (n->payload) {
        ngx_slab_free_locked(store->shpool, n->payload);
    }

    ngx_slab_free_locked(store->shpool, n);
}


static ngx_uint_t
ngx_http_es_store_expire_locked(ngx_http_es_store_t *store, time_t now)
{
    ngx_uint_t                 freed;
    ngx_queue_t               *q;
    ngx_http_es_store_node_t  *n;

    freed = 0;

    while (!ngx_queue_empty(&store->sh->expiry)) {
        q = ngx_queue_head(&store->sh->expiry);
        n = ngx_queue_data(q, ngx_http_es_store_node_t, queue);

        if (n->rec.expires > now) {
            break;
        }

        ngx_http_es_store_free_locked(store, n);
        freed++;
    }

    return freed;
}


static void
ngx_http_es_store_count(ngx_http_es_store_sh_t *sh,
    ngx_http_es_store_rec_t *rec, ngx_int_t n)
{
    if ((rec->flags & NGX_HTTP_ES_STORE_TICKET)
        && !(rec->flags & NGX_HTTP_ES_STORE_EXCHANGED))
    {
        sh->tickets += n;

    } else {
        sh->sessions += n;
    }

    if (rec->flags & NGX_HTTP_ES_STORE_REVOKED) {
        sh->revoked += n;
    }
}


/* at alert, at most once a second, from no matter which worker */

static void
ngx_http_es_store_full(ngx_http_es_store_t *store, ngx_log_t *log)
{
    time_t  now;

    now = ngx_time();

    ngx_shmtx_lock(&store->shpool->mutex);

    if (store->sh->alerted == now) {
        ngx_shmtx_unlock(&store->shpool->mutex);
        return;
    }

    store->sh->alerted = now;

    ngx_shmtx_unlock(&store->shpool->mutex);

    ngx_log_error(NGX_LOG_ALERT, log, 0,
                  "embed_session_store_zone \"%V\" is full: new sessions, "
                  "tickets and mints are refused until records expire; "
                  "revocations are still enforced", &store->name);
}
