
/*
 * Copyright (C) The ngx_http_embed_session_module authors
 *
 * The session store zone and its state file.
 *
 * Every record is one fixed-size slab allocation (a ticket's claims are a
 * second one), in an rbtree by id and in a queue ordered by expiry (one
 * for revoked records, one for the others), and counted for the API key
 * that made it.  A record is never evicted before it expires: when the
 * zone is full, what would need a new record is refused, and what is
 * stored keeps working.
 * Inside the mutex only rbtree, queue and slab work is done; records are
 * built in full before they are linked.
 *
 * The state file is a snapshot: a header (the generation, a counter that
 * every write raises, and "since"), the records, each with its length and
 * CRC32, and a trailer over the whole file: an HMAC-SHA256 with a
 * state_key, a CRC32 without.  One worker writes it when something
 * changed (every "sync"), every process once more when it exits; always as
 * FILE.tmp, fsync, rename, fsync of the directory, under an fcntl lock of
 * FILE.lock.  A writer first merges what the file holds (a union: revoked
 * stays revoked, the later rotation wins), so that two generations of
 * nginx, as in a binary upgrade, or the two zones of a reload that changed
 * the size, never lose each other's changes.
 *
 * What a signed file cannot show by itself is that it is the latest: an
 * older copy, or no file at all, is as well signed as the last one.  The
 * zone knows the generation it wrote last, across reloads; across
 * restarts the master keeps it in the epoch file (state_epoch=), where the
 * workers cannot write.  A file that is older than that, missing, or not
 * whole is a loss: what it lost (a revocation, an exchange, a rotation)
 * can no longer be vouched for, and state_loss= says what that costs.
 */


#include "ngx_http_embed_session_module.h"
#include "ngx_http_embed_session_apikeys.h"
#include "ngx_http_embed_session_jws.h"
#include "ngx_http_embed_session_store.h"


#define NGX_HTTP_ES_STATE_MAGIC      "ESSTATE2"
#define NGX_HTTP_ES_STATE_MAGIC_V1   "ESSTATE1"
#define NGX_HTTP_ES_STATE_HEADER     48
#define NGX_HTTP_ES_STATE_HEADER_V1  16
#define NGX_HTTP_ES_STATE_REC_V1     120     /* without "horizon" */
#define NGX_HTTP_ES_STATE_MAC_LEN    32
#define NGX_HTTP_ES_STATE_SIGNED     0x01    /* header flags */

/* a file larger than its zone by this factor cannot be one of ours */
#define NGX_HTTP_ES_STATE_GROWTH     16
#define NGX_HTTP_ES_STATE_MAX        (1024 * 1024 * 1024)

/*
 * The bytes checked while looking for a record after a broken length, per
 * byte of the file: a crafted file costs a bounded multiple of a read
 */
#define NGX_HTTP_ES_STATE_RESYNC     8

/* records moved into their place in a queue, at most this far from the
 * tail; further, a revoked record waits behind the tail */
#define NGX_HTTP_ES_STORE_SCAN       64

#define NGX_HTTP_ES_EPOCH_MAGIC      "ESEPOCH1 "


struct ngx_http_es_store_sh_s {
    ngx_rbtree_t                rbtree;
    ngx_rbtree_node_t           sentinel;
    ngx_rbtree_t                owners;     /* records of each API key */
    ngx_rbtree_node_t           owners_sentinel;
    ngx_queue_t                 expiry;     /* earliest first */
    ngx_queue_t                 revoked_q;  /* the same, of revoked records */
    ngx_uint_t                  sessions;
    ngx_uint_t                  tickets;
    ngx_uint_t                  revoked;
    size_t                      payload;
    uint64_t                    generation; /* of the last file read or
                                               written */
    time_t                      since;      /* unknown sessions of before
                                               it: refused */
    ngx_atomic_t                changes;    /* under the mutex */
    ngx_atomic_t                persisted;
    ngx_atomic_t                full;
    ngx_atomic_t                quota;
    ngx_atomic_t                losses;
    ngx_atomic_t                writes;
    ngx_atomic_t                write_failures;
    time_t                      alerted;
};


typedef struct {
    ngx_rbtree_node_t           node;
    ngx_queue_t                 queue;
    u_char                     *payload;
    ngx_atomic_uint_t           revoked;    /* sh->changes, when it was */
    ngx_http_es_store_rec_t     rec;
} ngx_http_es_store_node_t;


/* the records of one API key (its owner id), for per_key= */

typedef struct {
    ngx_rbtree_node_t           node;
    ngx_uint_t                  records;
    u_char                      owner[NGX_HTTP_ES_OWNER_LEN];
} ngx_http_es_store_owner_t;


/* a state file, as its header and trailer describe it */

typedef struct {
    u_char                     *start;      /* the first record */
    u_char                     *end;        /* past the last one */
    ngx_uint_t                  version;    /* 1, 2 */
    ngx_uint_t                  mac;        /* records carry an HMAC */
    ngx_uint_t                  whole;      /* the trailer is right */
    size_t                      rsize;      /* of a record, in the file */
    uint64_t                    generation;
    time_t                      since;
    uint32_t                    count;
} ngx_http_es_state_file_t;


/* a record of the state file that this zone could not take in */

typedef struct {
    ngx_http_es_store_rec_t     rec;
    u_char                     *payload;
} ngx_http_es_state_carry_t;


static ngx_int_t ngx_http_es_store_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static ngx_int_t ngx_http_es_store_copy_old(ngx_http_es_store_t *store,
    ngx_uint_t *copied);
static ngx_int_t ngx_http_es_store_load(ngx_http_es_store_t *store,
    ngx_uint_t copied, ngx_log_t *log);
static void ngx_http_es_store_lost(ngx_http_es_store_t *store,
    const char *why, ngx_log_t *log);
static ngx_int_t ngx_http_es_state_open(ngx_http_es_store_t *store,
    u_char *buf, size_t len, ngx_http_es_state_file_t *sf, ngx_log_t *log,
    ngx_uint_t level);
static ngx_int_t ngx_http_es_state_parse(ngx_http_es_store_t *store,
    ngx_http_es_state_file_t *sf, ngx_array_t *carry, ngx_log_t *log,
    ngx_uint_t level);
static ngx_int_t ngx_http_es_store_persist(ngx_http_es_store_t *store,
    ngx_uint_t dirty, ngx_log_t *log);
static ngx_int_t ngx_http_es_state_take(ngx_http_es_store_t *store,
    ngx_str_t *file, ngx_array_t *carry, uint64_t *generation,
    ngx_uint_t *dirty, ngx_log_t *log);
static u_char *ngx_http_es_state_build(ngx_http_es_store_t *store,
    ngx_array_t *carry, uint64_t generation, ngx_uint_t *changes,
    size_t *len, ngx_log_t *log);
static u_char *ngx_http_es_state_copy_locked(ngx_http_es_store_t *store,
    u_char *p, u_char *last, uint32_t *count, ngx_uint_t *grew);
static u_char *ngx_http_es_state_put(ngx_http_es_store_t *store, u_char *p,
    ngx_http_es_store_rec_t *rec, u_char *payload);
static ngx_uint_t ngx_http_es_state_changed(ngx_http_es_store_t *store);
static void ngx_http_es_state_seen(ngx_http_es_store_t *store);
static ngx_int_t ngx_http_es_state_record(ngx_http_es_store_t *store,
    ngx_http_es_state_file_t *sf, u_char *p, ngx_http_es_store_rec_t *rec,
    size_t *stride, const char **why);
static u_char *ngx_http_es_state_resync(ngx_http_es_store_t *store,
    ngx_http_es_state_file_t *sf, u_char *declined, u_char *p,
    size_t *budget);
static ngx_int_t ngx_http_es_state_read(ngx_http_es_store_t *store,
    ngx_str_t *buf, ngx_log_t *log);
static ngx_int_t ngx_http_es_state_write(ngx_http_es_store_t *store,
    ngx_str_t *name, ngx_str_t *tmp, u_char *buf, size_t len,
    ngx_log_t *log);
static ngx_fd_t ngx_http_es_state_lock(ngx_http_es_store_t *store,
    ngx_log_t *log);
static void ngx_http_es_state_unlock(ngx_http_es_store_t *store,
    ngx_fd_t fd, ngx_log_t *log);
static ngx_int_t ngx_http_es_epoch_read(ngx_http_es_store_t *store,
    ngx_log_t *log);
static ngx_int_t ngx_http_es_epoch_parse(ngx_http_es_store_t *store,
    uint64_t *gen, ngx_log_t *log);
static ngx_int_t ngx_http_es_store_dir_safe(ngx_str_t *name, ngx_uid_t uid,
    ngx_gid_t gid);
static void ngx_http_es_epoch_write(ngx_http_es_store_t *store,
    ngx_log_t *log);
static void ngx_http_es_store_timer(ngx_event_t *ev);
static void ngx_http_es_store_rbtree_insert(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel);
static void ngx_http_es_store_owner_insert(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel);
static ngx_http_es_store_node_t *ngx_http_es_store_lookup(
    ngx_http_es_store_sh_t *sh, u_char *id, time_t now);
static ngx_http_es_store_owner_t *ngx_http_es_store_owner_locked(
    ngx_http_es_store_t *store, u_char *owner, ngx_uint_t create);
static ngx_int_t ngx_http_es_store_merge_locked(ngx_http_es_store_t *store,
    ngx_http_es_store_rec_t *rec, u_char *payload, time_t now);
static ngx_http_es_store_node_t *ngx_http_es_store_alloc_locked(
    ngx_http_es_store_t *store, ngx_http_es_store_rec_t *rec,
    u_char *payload, time_t now);
static void ngx_http_es_store_link(ngx_http_es_store_t *store,
    ngx_http_es_store_node_t *n);
static void ngx_http_es_store_queue(ngx_http_es_store_sh_t *sh,
    ngx_http_es_store_node_t *n);
static void ngx_http_es_store_revoke_locked(ngx_http_es_store_t *store,
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


/*
 * embed_session_store_zone zone=NAME:SIZE [state=FILE] [sync=TIME]
 *     [state_key=FILE] [state_epoch=FILE] [state_errors=stop|start]
 *     [state_loss=revoke|keep] [per_key=N]
 */

char *
ngx_http_es_store_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_es_main_conf_t *emcf = conf;

    u_char                *p;
    ssize_t                size;
    ngx_str_t             *value, name, s, state;
    ngx_int_t              sync, per_key;
    ngx_int_t              rc;
    ngx_str_t              key, epoch;
    ngx_uint_t             i, errors, loss;
    ngx_file_info_t        fi;
    ngx_http_es_keyset_t   keys;
    ngx_http_es_store_t   *store, **sp;

    value = cf->args->elts;

    size = 0;
    ngx_str_null(&name);
    ngx_str_null(&state);
    ngx_str_null(&key);
    ngx_str_null(&epoch);
    sync = 1000;
    per_key = 0;
    errors = NGX_HTTP_ES_STATE_STOP;
    loss = NGX_HTTP_ES_LOSS_REVOKE;

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

        if (ngx_strncmp(value[i].data, "state_epoch=", 12) == 0) {
            epoch.data = value[i].data + 12;
            epoch.len = value[i].len - 12;

            if (epoch.len == 0) {
                goto invalid;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "per_key=", 8) == 0) {
            per_key = ngx_atoi(value[i].data + 8, value[i].len - 8);

            if (per_key == NGX_ERROR || per_key == 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid \"%V\": a number of records, "
                                   "at least 1", &value[i]);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strcmp(value[i].data, "state_loss=revoke") == 0) {
            loss = NGX_HTTP_ES_LOSS_REVOKE;
            continue;
        }

        if (ngx_strcmp(value[i].data, "state_loss=keep") == 0) {
            loss = NGX_HTTP_ES_LOSS_KEEP;
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

    if (epoch.len && state.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"state_epoch=\" without \"state=\"");
        return NGX_CONF_ERROR;
    }

    store->shm_zone->shm.size = size;
    store->shm_zone->init = ngx_http_es_store_init_zone;
    store->sync = sync;
    store->state_errors = errors;
    store->state_loss = loss;
    store->per_key = per_key;

    if (epoch.len) {
        if (ngx_conf_full_name(cf->cycle, &epoch, 0) != NGX_OK) {
            return NGX_CONF_ERROR;
        }

        store->epoch.len = epoch.len;
        store->epoch.data = ngx_pnalloc(cf->pool, 2 * epoch.len + 16);
        if (store->epoch.data == NULL) {
            return NGX_CONF_ERROR;
        }

        p = ngx_cpymem(store->epoch.data, epoch.data, epoch.len);
        *p++ = '\0';

        store->epoch_tmp.data = p;
        store->epoch_tmp.len = ngx_sprintf(p, "%V.tmp%Z", &epoch) - p - 1;
    }

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

    size_t                     len;
    ngx_uint_t                 copied;
    ngx_http_es_store_t       *store;
    ngx_http_es_store_sh_t    *sh;
    ngx_http_es_main_conf_t   *emcf;

    store = shm_zone->data;

    emcf = ngx_http_cycle_get_module_main_conf(store->cycle,
                                               ngx_http_embed_session_module);
    store->leeway = emcf->leeway;

    if (store->epoch.len
        && ngx_http_es_epoch_read(store, store->cycle->log) != NGX_OK)
    {
        return NGX_ERROR;
    }

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
    ngx_rbtree_init(&sh->owners, &sh->owners_sentinel,
                    ngx_http_es_store_owner_insert);
    ngx_queue_init(&sh->expiry);
    ngx_queue_init(&sh->revoked_q);

    len = sizeof(" in embed_session_store_zone \"\"") + shm_zone->shm.name.len;

    store->shpool->log_ctx = ngx_slab_alloc(store->shpool, len);
    if (store->shpool->log_ctx == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(store->shpool->log_ctx,
                " in embed_session_store_zone \"%V\"%Z",
                &shm_zone->shm.name);

    /* a reload that changed the size: what the old zone holds, first */

    if (ngx_http_es_store_copy_old(store, &copied) != NGX_OK) {
        return NGX_ERROR;
    }

    if (store->state.len) {
        return ngx_http_es_store_load(store, copied, store->cycle->log);
    }

    return NGX_OK;
}


/* copied: there was an old zone, so what it held is all here */

static ngx_int_t
ngx_http_es_store_copy_old(ngx_http_es_store_t *store, ngx_uint_t *copied)
{
    time_t                     now;
    ngx_uint_t                 i, n, lost, level, pass, revoked;
    ngx_queue_t               *q, *queue;
    ngx_list_part_t           *part;
    ngx_shm_zone_t            *zone;
    ngx_http_es_store_t       *old;
    ngx_http_es_store_node_t  *node;

    *copied = 0;

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

    *copied = 1;

    now = ngx_time();
    n = 0;
    lost = 0;
    revoked = 0;

    ngx_shmtx_lock(&old->shpool->mutex);
    ngx_shmtx_lock(&store->shpool->mutex);

    /* revoked sessions first: none of them may be left behind */

    for (pass = 0; pass < 2; pass++) {

        queue = pass ? &old->sh->expiry : &old->sh->revoked_q;

        for (q = ngx_queue_head(queue);
             q != ngx_queue_sentinel(queue);
             q = ngx_queue_next(q))
        {
            node = ngx_queue_data(q, ngx_http_es_store_node_t, queue);

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

    store->sh->generation = old->sh->generation;
    store->sh->since = old->sh->since;
    store->sh->losses = old->sh->losses;
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


/*
 * The state file, when the zone is made: start, restart, upgrade, resize.
 * After a reload that resized the zone, the old zone's records are all
 * here: a file older than them adds nothing and is written over.  Without
 * an old zone, the file is all there is, and it must be the latest and
 * whole, else the state is lost.
 */

static ngx_int_t
ngx_http_es_store_load(ngx_http_es_store_t *store, ngx_uint_t copied,
    ngx_log_t *log)
{
    time_t                     now;
    uint64_t                   high;
    ngx_int_t                  rc;
    ngx_str_t                  buf;
    ngx_uint_t                 level, start;
    const char                *lost;
    ngx_http_es_state_file_t   sf;

    start = (store->state_errors == NGX_HTTP_ES_STATE_START);
    level = start ? NGX_LOG_ALERT : NGX_LOG_EMERG;

    /* the latest generation that this zone, or the epoch, knows of */

    high = copied ? store->sh->generation : store->epoch_gen;

    lost = NULL;
    ngx_str_null(&buf);

    rc = ngx_http_es_state_read(store, &buf, log);

    if (rc == NGX_DECLINED) {

        if (high == 0) {
            ngx_log_error(NGX_LOG_NOTICE, log, 0,
                          "embed_session_store_zone \"%V\": no state file "
                          "\"%V\" yet, starting empty", &store->name,
                          &store->state);
            return NGX_OK;
        }

        if (copied) {
            ngx_log_error(NGX_LOG_ALERT, log, 0,
                          "embed_session_store_zone \"%V\": state file "
                          "\"%V\" is missing, the zone's records are "
                          "written anew", &store->name, &store->state);
            store->sh->changes++;
            return NGX_OK;
        }

        ngx_log_error(level, log, 0,
                      "embed_session_store_zone \"%V\": state file \"%V\" "
                      "is missing, and the epoch file \"%V\" says that "
                      "generation %uL of it was written", &store->name,
                      &store->state, &store->epoch, high);
        lost = "the state file is missing";
        goto lost;
    }

    if (rc != NGX_OK) {
        if (copied) {
            return start ? NGX_OK : NGX_ERROR;
        }

        lost = "the state file cannot be read";
        goto lost;
    }

    rc = ngx_http_es_state_open(store, buf.data, buf.len, &sf, log, level);

    if (rc == NGX_OK
        && ((sf.version == 1 && high)
            || (sf.whole && sf.generation < high)))
    {
        if (copied) {
            level = NGX_LOG_ALERT;
        }

        ngx_log_error(level, log, 0,
                      "embed_session_store_zone \"%V\": state file \"%V\" "
                      "is an older copy: generation %uL, %uL was written "
                      "since", &store->name, &store->state, sf.generation,
                      high);

        if (copied) {
            ngx_free(buf.data);
            store->sh->changes++;
            return NGX_OK;
        }

        lost = "the state file was rolled back";
        rc = NGX_DECLINED;
    }

    if (rc == NGX_OK) {
        rc = ngx_http_es_state_parse(store, &sf, NULL, log, level);

        if (rc == NGX_OK && !sf.whole) {
            rc = NGX_DECLINED;
        }

    } else if (rc == NGX_DECLINED && lost && start) {

        /* the records of an older copy are genuine: take them all the same */

        (void) ngx_http_es_state_parse(store, &sf, NULL, log, level);
    }

    if (rc == NGX_ERROR) {
        ngx_free(buf.data);
        return NGX_ERROR;
    }

    if (rc == NGX_OK) {
        now = ngx_time();

        store->sh->generation = ngx_max(store->sh->generation,
                                        ngx_max(sf.generation, high));

        if (sf.since > store->sh->since) {
            store->sh->since = ngx_min(sf.since, now + 1);
        }

        ngx_free(buf.data);
        ngx_http_es_state_seen(store);

        return NGX_OK;
    }

    ngx_free(buf.data);

    if (lost == NULL) {
        lost = "the state file is damaged";
    }

    if (!start) {
        goto lost;
    }

    /* keep the file for the operator; a new one is written soon */

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

lost:

    if (copied) {
        /* the old zone's records are complete: nothing was lost */
        store->sh->changes++;
        return start ? NGX_OK : NGX_ERROR;
    }

    if (!start) {
        ngx_log_error(NGX_LOG_EMERG, log, 0,
                      "embed_session_store_zone \"%V\": %s: restore the "
                      "latest \"%V\", or set state_errors=start to start "
                      "with what is left (state_loss=%s)", &store->name,
                      lost, &store->state,
                      store->state_loss == NGX_HTTP_ES_LOSS_KEEP
                      ? "keep" : "revoke");
        return NGX_ERROR;
    }

    /* a new file, soon: the damaged one was moved away, or is not ours */

    store->sh->generation = ngx_max(store->sh->generation, high);
    store->sh->changes++;

    ngx_http_es_store_lost(store, lost, log);

    return NGX_OK;
}


/*
 * What the zone holds no longer vouches for the sessions before the loss:
 * a revocation, an exchange or a rotation of theirs may be what went.
 * state_loss=revoke ends them all, those the zone knows (revoked) and
 * those it does not ("since": a token of a store whose session the zone
 * does not know and that was issued before now is refused).
 */

static void
ngx_http_es_store_lost(ngx_http_es_store_t *store, const char *why,
    ngx_log_t *log)
{
    time_t                     now;
    ngx_uint_t                 n;
    ngx_queue_t               *q, *next;
    ngx_http_es_store_sh_t    *sh;
    ngx_http_es_store_node_t  *node;

    sh = store->sh;
    now = ngx_time();

    (void) ngx_atomic_fetch_add(&sh->losses, 1);

    if (store->state_loss == NGX_HTTP_ES_LOSS_KEEP) {
        ngx_log_error(NGX_LOG_ALERT, log, 0,
                      "embed_session_store_zone \"%V\": %s; the sessions "
                      "it lost are taken as unknown (state_loss=keep)",
                      &store->name, why);
        return;
    }

    n = 0;

    ngx_shmtx_lock(&store->shpool->mutex);

    for (q = ngx_queue_head(&sh->expiry);
         q != ngx_queue_sentinel(&sh->expiry);
         q = next)
    {
        next = ngx_queue_next(q);
        node = ngx_queue_data(q, ngx_http_es_store_node_t, queue);

        ngx_http_es_store_revoke_locked(store, node);
        n++;
    }

    sh->since = now + 1;
    sh->changes++;

    ngx_shmtx_unlock(&store->shpool->mutex);

    ngx_log_error(NGX_LOG_ALERT, log, 0,
                  "embed_session_store_zone \"%V\": %s; every session and "
                  "ticket from before it is revoked (state_loss=revoke): "
                  "%ui records, and tokens of sessions it does not know "
                  "issued before %T", &store->name, why, n, sh->since);
}


/*
 * The header and the trailer: which records there are, and whether the
 * file is whole.  NGX_DECLINED: no record of it can be used.
 */

static ngx_int_t
ngx_http_es_state_open(ngx_http_es_store_t *store, u_char *buf, size_t len,
    ngx_http_es_state_file_t *sf, ngx_log_t *log, ngx_uint_t level)
{
    u_char      md[NGX_HTTP_ES_STATE_MAC_LEN];
    size_t      header, trailer, mdlen;
    int64_t     since;
    uint32_t    rsize, flags, crc;
    const char  *why;

    ngx_memzero(sf, sizeof(ngx_http_es_state_file_t));

    if (len >= 8 && ngx_memcmp(buf, NGX_HTTP_ES_STATE_MAGIC, 8) == 0) {
        sf->version = 2;
        header = NGX_HTTP_ES_STATE_HEADER;
        sf->rsize = sizeof(ngx_http_es_store_rec_t);

    } else if (len >= 8
               && ngx_memcmp(buf, NGX_HTTP_ES_STATE_MAGIC_V1, 8) == 0)
    {
        sf->version = 1;
        header = NGX_HTTP_ES_STATE_HEADER_V1;
        sf->rsize = NGX_HTTP_ES_STATE_REC_V1;

    } else {
        header = 0;
    }

    if (header == 0 || len < header) {
        why = (header == 0
               && (len == 0 || len >= 8
                   || ngx_memcmp(buf, NGX_HTTP_ES_STATE_MAGIC, len) != 0))
              ? "not a state file" : "truncated in its header";

        ngx_log_error(level, log, 0,
                      "embed_session_store_zone \"%V\": state file \"%V\" "
                      "is %s: no record kept", &store->name, &store->state,
                      why);
        return NGX_DECLINED;
    }

    ngx_memcpy(&rsize, buf + 8, 4);
    ngx_memcpy(&flags, buf + 12, 4);

    if (rsize != sf->rsize) {
        ngx_log_error(level, log, 0,
                      "embed_session_store_zone \"%V\": state file \"%V\" "
                      "has records of %uD bytes, this build %uz: no record "
                      "kept", &store->name, &store->state, rsize,
                      sf->rsize);
        return NGX_DECLINED;
    }

    sf->mac = (flags & NGX_HTTP_ES_STATE_SIGNED) ? 1 : 0;

    if (sf->mac != (store->key != NULL)) {
        ngx_log_error(level, log, 0,
                      "embed_session_store_zone \"%V\": state file \"%V\" "
                      "%s: no record kept", &store->name, &store->state,
                      sf->mac ? "is signed, and the zone has no state_key"
                              : "is not signed with the zone's state_key");
        return NGX_DECLINED;
    }

    sf->start = buf + header;
    sf->end = buf + len;

    if (sf->version == 1) {
        /* a file of the release before: nothing says that it is whole */
        sf->whole = 1;
        return NGX_OK;
    }

    ngx_memcpy(&sf->generation, buf + 16, 8);
    ngx_memcpy(&since, buf + 24, 8);
    ngx_memcpy(&sf->count, buf + 32, 4);

    sf->since = (since > 0 && since < NGX_MAX_TIME_T_VALUE) ? since : 0;

    trailer = sf->mac ? NGX_HTTP_ES_STATE_MAC_LEN : 4;

    if (len - header < trailer) {
        ngx_log_error(level, log, 0,
                      "embed_session_store_zone \"%V\": state file \"%V\" "
                      "is truncated: no trailer", &store->name,
                      &store->state);
        return NGX_OK;
    }

    sf->end = buf + len - trailer;

    /* the whole file, header and records, under one MAC or checksum */

    if (sf->mac) {
        sf->whole = ngx_http_es_jws_sign(store->key, buf, sf->end - buf, md,
                                         &mdlen)
                    == NGX_HTTP_ES_JWS_OK
                    && mdlen == NGX_HTTP_ES_STATE_MAC_LEN
                    && ngx_http_es_jws_memeq(md, sf->end, mdlen);

    } else {
        ngx_memcpy(&crc, sf->end, 4);
        sf->whole = (ngx_crc32_long(buf, sf->end - buf) == crc);
    }

    if (!sf->whole) {
        ngx_log_error(level, log, 0,
                      "embed_session_store_zone \"%V\": state file \"%V\" "
                      "is not whole: its trailer %s", &store->name,
                      &store->state,
                      sf->mac ? "is not an HMAC of it under the state_key"
                              : "does not match its checksum");
    }

    return NGX_OK;
}


/*
 * Reads the records of sf into the zone; a record the zone cannot take is
 * added to carry (when given) to be written out again.  NGX_DECLINED:
 * damaged, and what could be read was kept; sf->whole is cleared when the
 * records are not what the header counts.
 */

static ngx_int_t
ngx_http_es_state_parse(ngx_http_es_store_t *store,
    ngx_http_es_state_file_t *sf, ngx_array_t *carry, ngx_log_t *log,
    ngx_uint_t level)
{
    u_char                     *p, *last, *next, *declined, *buf;
    size_t                      stride, budget;
    time_t                      now;
    ngx_int_t                   rc;
    ngx_uint_t                  n, kept, bad, full, lost, pass;
    const char                 *why;
    ngx_http_es_store_rec_t     rec;
    ngx_http_es_state_carry_t  *c;

    now = ngx_time();
    last = sf->end;
    buf = sf->start - (sf->version == 1 ? NGX_HTTP_ES_STATE_HEADER_V1
                                        : NGX_HTTP_ES_STATE_HEADER);

    /*
     * Revoked sessions first: if the zone cannot hold everything, what it
     * cannot hold must not be a revocation.  The main pass below reports
     * what is wrong with the file.
     */

    lost = 0;
    declined = NULL;
    budget = NGX_HTTP_ES_STATE_RESYNC * (size_t) (last - buf) + 65536;

    for (p = sf->start; p < last; p += stride) {

        rc = ngx_http_es_state_record(store, sf, p, &rec, &stride, &why);

        if (rc == NGX_ERROR) {
            next = ngx_http_es_state_resync(store, sf, declined, p,
                                            &budget);
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
                                            p + 8 + sf->rsize, now);
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
    budget = NGX_HTTP_ES_STATE_RESYNC * (size_t) (last - buf) + 65536;

    for (p = sf->start; p < last; p += stride) {
        n++;

        rc = ngx_http_es_state_record(store, sf, p, &rec, &stride, &why);

        if (rc == NGX_ERROR) {

            /*
             * The next place where a whole, valid record starts: after
             * the last record that was bad, whose length may have been
             * the wrong one, or after this one
             */

            next = ngx_http_es_state_resync(store, sf, declined, p,
                                            &budget);

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

            ngx_memzero(&rec, sizeof(ngx_http_es_store_rec_t));
            ngx_memcpy(&rec, p + 8, sf->rsize);

            if (rec.expires <= now || rec.expires > now + 31536000) {
                rec.expires = now + 86400;
            }

            ngx_memzero(rec.gen, NGX_HTTP_ES_ID_LEN);
            ngx_memzero(rec.prev, NGX_HTTP_ES_ID_LEN);
            rec.end = rec.expires;
            rec.horizon = rec.expires;
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
                                            p + 8 + sf->rsize, now);
        ngx_shmtx_unlock(&store->shpool->mutex);

        if (rc == NGX_OK) {
            kept++;
            continue;
        }

        full++;

        if (carry) {
            c = ngx_array_push(carry);
            if (c == NULL) {
                return NGX_ERROR;
            }

            c->rec = rec;
            c->payload = p + 8 + sf->rsize;
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

    /* a file cut between records, or with records taken out, is not whole */

    pass = (sf->version == 1 || n == sf->count);

    if (sf->whole && !pass) {
        ngx_log_error(level, log, 0,
                      "embed_session_store_zone \"%V\": state file \"%V\" "
                      "holds %ui records, its header says %uD",
                      &store->name, &store->state, n, sf->count);
        sf->whole = 0;
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
ngx_http_es_state_record(ngx_http_es_store_t *store,
    ngx_http_es_state_file_t *sf, u_char *p, ngx_http_es_store_rec_t *rec,
    size_t *stride, const char **why)
{
    u_char    md[NGX_HTTP_ES_STATE_MAC_LEN];
    u_char   *last;
    size_t    maclen, mdlen;
    uint32_t  rlen, crc;

    last = sf->end;
    maclen = sf->mac ? NGX_HTTP_ES_STATE_MAC_LEN : 0;

    if (last - p < 8) {
        *why = "truncated";
        return NGX_ERROR;
    }

    ngx_memcpy(&rlen, p, 4);
    ngx_memcpy(&crc, p + 4, 4);

    if (rlen < sf->rsize || rlen > sf->rsize + NGX_HTTP_ES_TICKET_MAX) {
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

    if (sf->mac) {
        if (ngx_http_es_jws_sign(store->key, p, 8 + rlen, md, &mdlen)
            != NGX_HTTP_ES_JWS_OK
            || mdlen != NGX_HTTP_ES_STATE_MAC_LEN
            || !ngx_http_es_jws_memeq(md, p + 8 + rlen, mdlen))
        {
            *why = "not signed with the state_key";
            return NGX_DECLINED;
        }
    }

    ngx_memzero(rec, sizeof(ngx_http_es_store_rec_t));
    ngx_memcpy(rec, p + 8, sf->rsize);

    if (rec->payload_len != rlen - sf->rsize
        || (rec->payload_len && !(rec->flags & NGX_HTTP_ES_STORE_TICKET)))
    {
        *why = "inconsistent";
        return NGX_DECLINED;
    }

    if (sf->version == 1) {
        /* no token of a session outlives its end; a ticket has none */

        rec->horizon = ((rec->flags & NGX_HTTP_ES_STORE_TICKET)
                        && !(rec->flags & NGX_HTTP_ES_STORE_EXCHANGED))
                       ? 0 : rec->end;
    }

    return NGX_OK;
}


/*
 * After a broken length at p: where the next valid record starts, or the
 * end.  Every position tried costs a checksum of up to a record's length,
 * so the search stops when its budget (bytes checked) is spent.
 *
 * The search starts after the damaged record just before p (declined),
 * when there is one, whose length may have been the wrong one: that
 * record was checked whole once, and the walk after the search reads its
 * bytes again, so they count.  Uncounted, a file of damaged records that
 * each hold a valid one and end at a broken length had each of its bytes
 * checked some sixty times, whatever the budget.
 */

static u_char *
ngx_http_es_state_resync(ngx_http_es_store_t *store,
    ngx_http_es_state_file_t *sf, u_char *declined, u_char *p,
    size_t *budget)
{
    size_t                    stride;
    uint32_t                  rlen;
    const char               *why;
    ngx_http_es_store_rec_t   rec;

    if (declined) {
        *budget -= ngx_min(*budget, (size_t) (p - declined));
        p = declined;
    }

    for (p++; sf->end - p >= 8; p++) {

        ngx_memcpy(&rlen, p, 4);

        if (rlen < sf->rsize || rlen > sf->rsize + NGX_HTTP_ES_TICKET_MAX) {
            continue;
        }

        if (*budget < rlen) {
            return sf->end;
        }

        *budget -= rlen;

        if (ngx_http_es_state_record(store, sf, p, &rec, &stride, &why)
            == NGX_OK)
        {
            return p;
        }
    }

    return sf->end;
}


/* NGX_DECLINED: no file; buf is ngx_alloc()ed */

static ngx_int_t
ngx_http_es_state_read(ngx_http_es_store_t *store, ngx_str_t *buf,
    ngx_log_t *log)
{
    off_t            max;
    ssize_t          n;
    ngx_fd_t         fd;
    ngx_err_t        err;
    ngx_file_info_t  fi;

    /*
     * Never a link, never a FIFO or a device that would hold the master in
     * open() or read(): the directory is the workers'
     */

    fd = ngx_open_file(store->state.data,
                       NGX_FILE_RDONLY|NGX_FILE_NONBLOCK|O_NOFOLLOW,
                       NGX_FILE_OPEN, 0);

    if (fd == NGX_INVALID_FILE) {
        err = ngx_errno;

        if (err == NGX_ENOENT) {
            return NGX_DECLINED;
        }

        ngx_log_error(NGX_LOG_EMERG, log, err,
                      "embed_session_store_zone \"%V\": "
                      ngx_open_file_n " \"%V\" failed%s", &store->name,
                      &store->state,
                      err == NGX_ELOOP ? " (a symbolic link)" : "");
        return NGX_ERROR;
    }

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR) {
        ngx_log_error(NGX_LOG_EMERG, log, ngx_errno,
                      ngx_fd_info_n " \"%V\" failed", &store->state);
        goto failed;
    }

    if (!ngx_is_file(&fi)) {
        ngx_log_error(NGX_LOG_EMERG, log, 0,
                      "embed_session_store_zone \"%V\": state file \"%V\" "
                      "is not a regular file", &store->name, &store->state);
        goto failed;
    }

    /* records the zone could not hold are kept: a file may outgrow it */

    max = (off_t) ngx_min((size_t) NGX_HTTP_ES_STATE_MAX,
                          NGX_HTTP_ES_STATE_GROWTH
                          * store->shm_zone->shm.size + 1024 * 1024);

    if (ngx_file_size(&fi) > max) {
        ngx_log_error(NGX_LOG_EMERG, log, 0,
                      "embed_session_store_zone \"%V\": state file \"%V\" "
                      "is larger than %O bytes, more than the zone could "
                      "have written", &store->name, &store->state, max);
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
 * zone (and the records of the file it could not take) as a new file of
 * the next generation.
 */

static ngx_int_t
ngx_http_es_store_persist(ngx_http_es_store_t *store, ngx_uint_t dirty,
    ngx_log_t *log)
{
    u_char                  *buf;
    size_t                   len;
    uint64_t                 generation;
    ngx_fd_t                 lfd;
    ngx_int_t                rc;
    ngx_str_t                file;
    ngx_uint_t               changes;
    ngx_pool_t              *pool;
    ngx_array_t              carry;
    ngx_http_es_store_sh_t  *sh;

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
    ngx_str_null(&file);
    rc = NGX_ERROR;
    generation = sh->generation;

    if (ngx_array_init(&carry, pool, 1, sizeof(ngx_http_es_state_carry_t))
        != NGX_OK)
    {
        goto done;
    }

    rc = ngx_http_es_state_take(store, &file, &carry, &generation, &dirty,
                                log);

    if (rc != NGX_OK || !dirty) {
        if (rc == NGX_OK) {
            ngx_http_es_state_seen(store);
        }

        goto done;
    }

    buf = ngx_http_es_state_build(store, &carry, generation + 1, &changes,
                                  &len, log);
    if (buf == NULL) {
        rc = NGX_ERROR;
        goto done;
    }

    rc = ngx_http_es_state_write(store, &store->state, &store->state_tmp,
                                 buf, len, log);

    if (rc == NGX_OK) {
        ngx_http_es_state_seen(store);

        (void) ngx_atomic_fetch_add(&sh->writes, 1);

        /* monotonic: a slower writer never undoes a newer one's mark */

        ngx_shmtx_lock(&store->shpool->mutex);

        if (generation + 1 > sh->generation) {
            sh->generation = generation + 1;
        }

        if ((ngx_int_t) (changes - sh->persisted) > 0) {
            sh->persisted = changes;
        }

        ngx_shmtx_unlock(&store->shpool->mutex);
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


/*
 * What the file holds now, whoever wrote it, into the zone; a damaged
 * file is kept aside before it is replaced (dirty: a new file must be
 * written).  A file older than what this zone wrote was put there by
 * someone else: the zone holds more than it does, and writes over it.
 * generation: the highest that the file or the zone knows.
 */

static ngx_int_t
ngx_http_es_state_take(ngx_http_es_store_t *store, ngx_str_t *file,
    ngx_array_t *carry, uint64_t *generation, ngx_uint_t *dirty,
    ngx_log_t *log)
{
    ngx_int_t                  rc;
    ngx_http_es_store_sh_t    *sh;
    ngx_http_es_state_file_t   sf;

    sh = store->sh;

    rc = ngx_http_es_state_read(store, file, log);

    if (rc == NGX_DECLINED) {
        if (sh->generation) {
            ngx_log_error(NGX_LOG_ALERT, log, 0,
                          "embed_session_store_zone \"%V\": state file "
                          "\"%V\" was removed: written anew", &store->name,
                          &store->state);
            *dirty = 1;
        }

        return NGX_OK;
    }

    if (rc != NGX_OK) {
        return NGX_ERROR;
    }

    rc = ngx_http_es_state_open(store, file->data, file->len, &sf, log,
                                NGX_LOG_ALERT);

    if (rc == NGX_OK
        && ((sf.version == 1 && sh->generation)
            || (sf.whole && sf.generation < sh->generation)))
    {
        ngx_log_error(NGX_LOG_ALERT, log, 0,
                      "embed_session_store_zone \"%V\": state file \"%V\" "
                      "was replaced by an older copy (generation %uL, this "
                      "zone wrote %uL): written over", &store->name,
                      &store->state, sf.generation, sh->generation);
        *dirty = 1;
        return NGX_OK;
    }

    if (rc == NGX_OK) {
        rc = ngx_http_es_state_parse(store, &sf, carry, log, NGX_LOG_ALERT);

        if (rc == NGX_ERROR) {
            return NGX_ERROR;
        }

        if (rc == NGX_OK && !sf.whole) {
            rc = NGX_DECLINED;
        }
    }

    if (rc == NGX_OK) {
        *generation = ngx_max(*generation, sf.generation);

        ngx_shmtx_lock(&store->shpool->mutex);

        if (sf.since > sh->since) {
            sh->since = ngx_min(sf.since, ngx_time() + 1);
        }

        ngx_shmtx_unlock(&store->shpool->mutex);

        return NGX_OK;
    }

    if (ngx_rename_file(store->state.data, store->state_bad.data)
        == NGX_FILE_ERROR)
    {
        ngx_log_error(NGX_LOG_ALERT, log, ngx_errno,
                      ngx_rename_file_n " \"%V\" to \"%V\" failed",
                      &store->state, &store->state_bad);
        return NGX_ERROR;
    }

    ngx_log_error(NGX_LOG_ALERT, log, 0,
                  "embed_session_store_zone \"%V\": the damaged state file "
                  "is kept as \"%V\"", &store->name, &store->state_bad);

    *dirty = 1;

    return NGX_OK;
}


/*
 * The bytes of a new file of this generation: the zone's records, copied
 * under the mutex, the carried ones, and the header and trailer (ngx_alloc
 * ()ed; changes: what of the zone it holds).
 */

static u_char *
ngx_http_es_state_build(ngx_http_es_store_t *store, ngx_array_t *carry,
    uint64_t generation, ngx_uint_t *changes, size_t *len, ngx_log_t *log)
{
    u_char                     *buf, *p, *end;
    size_t                      size, zsize, stride, mdlen;
    int64_t                     since, now;
    uint32_t                    count, crc, u;
    ngx_uint_t                  i, grew;
    ngx_http_es_store_sh_t     *sh;
    ngx_http_es_state_carry_t  *c;

    sh = store->sh;
    stride = 8 + sizeof(ngx_http_es_store_rec_t)
             + (store->key ? NGX_HTTP_ES_STATE_MAC_LEN : 0);

    ngx_shmtx_lock(&store->shpool->mutex);
    size = (sh->sessions + sh->tickets) * stride + sh->payload;
    ngx_shmtx_unlock(&store->shpool->mutex);

    size += 64 * stride + 4 * NGX_HTTP_ES_TICKET_MAX;

    /* counters that a killed worker left wrong do not size it: the zone */

    zsize = (size_t) (store->shpool->end - store->shpool->start);

    if (size > zsize + 65536) {
        size = zsize + 65536;
    }

    c = carry->elts;

    for (i = 0; i < carry->nelts; i++) {
        size += stride + c[i].rec.payload_len;
    }

    size += NGX_HTTP_ES_STATE_HEADER + NGX_HTTP_ES_STATE_MAC_LEN;

    buf = ngx_alloc(size, log);
    if (buf == NULL) {
        return NULL;
    }

    p = buf + NGX_HTTP_ES_STATE_HEADER;
    count = 0;

    ngx_shmtx_lock(&store->shpool->mutex);

    *changes = sh->changes;
    since = sh->since;

    end = ngx_http_es_state_copy_locked(store, p,
                                        buf + size
                                        - NGX_HTTP_ES_STATE_MAC_LEN,
                                        &count, &grew);

    ngx_shmtx_unlock(&store->shpool->mutex);

    if (grew) {
        ngx_log_error(NGX_LOG_ALERT, log, 0,
                      "embed_session_store_zone \"%V\": the zone grew while "
                      "its snapshot was taken, writing it again soon",
                      &store->name);
        (*changes)--;
    }

    /* checksums and signatures outside the mutex */

    while (p && p < end) {
        p = ngx_http_es_state_put(store, p, NULL, NULL);
    }

    /* the records of the file that the zone could not hold */

    for (i = 0; i < carry->nelts && p; i++) {
        p = ngx_http_es_state_put(store, p, &c[i].rec, c[i].payload);
        count++;
    }

    if (p == NULL) {
        goto failed;
    }

    /* the header, and the trailer over it all: the file is one */

    now = ngx_time();

    end = ngx_cpymem(buf, NGX_HTTP_ES_STATE_MAGIC, 8);
    u = sizeof(ngx_http_es_store_rec_t);
    end = ngx_cpymem(end, &u, 4);
    u = store->key ? NGX_HTTP_ES_STATE_SIGNED : 0;
    end = ngx_cpymem(end, &u, 4);
    end = ngx_cpymem(end, &generation, 8);
    end = ngx_cpymem(end, &since, 8);
    end = ngx_cpymem(end, &count, 4);
    u = 0;
    end = ngx_cpymem(end, &u, 4);
    (void) ngx_cpymem(end, &now, 8);

    if (store->key) {
        if (ngx_http_es_jws_sign(store->key, buf, p - buf, p, &mdlen)
            != NGX_HTTP_ES_JWS_OK
            || mdlen != NGX_HTTP_ES_STATE_MAC_LEN)
        {
            goto failed;
        }

        p += NGX_HTTP_ES_STATE_MAC_LEN;

    } else {
        crc = ngx_crc32_long(buf, p - buf);
        p = ngx_cpymem(p, &crc, 4);
    }

    *len = p - buf;

    return buf;

failed:

    ngx_log_error(NGX_LOG_ALERT, log, 0,
                  "embed_session_store_zone \"%V\": signing the state file "
                  "failed", &store->name);

    ngx_free(buf);

    return NULL;
}


/*
 * The zone's records from p on, each at its place with its length (the
 * checksum and signature come later), up to last; revoked ones first, so
 * that if the zone grew past last (grew), it is not those that are left
 * out.  Returns where the records end.
 */

static u_char *
ngx_http_es_state_copy_locked(ngx_http_es_store_t *store, u_char *p,
    u_char *last, uint32_t *count, ngx_uint_t *grew)
{
    size_t                     maclen;
    uint32_t                   rlen;
    ngx_uint_t                 k;
    ngx_queue_t               *q, *queues[2];
    ngx_http_es_store_node_t  *n;

    maclen = store->key ? NGX_HTTP_ES_STATE_MAC_LEN : 0;
    *grew = 0;

    queues[0] = &store->sh->revoked_q;
    queues[1] = &store->sh->expiry;

    for (k = 0; k < 2; k++) {

        for (q = ngx_queue_head(queues[k]);
             q != ngx_queue_sentinel(queues[k]);
             q = ngx_queue_next(q))
        {
            n = ngx_queue_data(q, ngx_http_es_store_node_t, queue);

            rlen = sizeof(ngx_http_es_store_rec_t) + n->rec.payload_len;

            if ((size_t) (last - p) < 8 + rlen + maclen) {
                *grew = 1;
                return p;
            }

            ngx_memcpy(p, &rlen, 4);
            ngx_memcpy(p + 8, &n->rec, sizeof(ngx_http_es_store_rec_t));

            if (n->rec.payload_len) {
                ngx_memcpy(p + 8 + sizeof(ngx_http_es_store_rec_t),
                           n->payload, n->rec.payload_len);
            }

            p += 8 + rlen + maclen;
            (*count)++;
        }
    }

    return p;
}


/*
 * A record's length, CRC32 and HMAC, at p: of the record copied there
 * (rec NULL), or of rec and its payload, written there.  NULL: the
 * signature failed.
 */

static u_char *
ngx_http_es_state_put(ngx_http_es_store_t *store, u_char *p,
    ngx_http_es_store_rec_t *rec, u_char *payload)
{
    size_t    mdlen;
    uint32_t  rlen, crc;

    if (rec) {
        rlen = sizeof(ngx_http_es_store_rec_t) + rec->payload_len;
        ngx_memcpy(p, &rlen, 4);
        ngx_memcpy(p + 8, rec, sizeof(ngx_http_es_store_rec_t));

        if (rec->payload_len) {
            ngx_memcpy(p + 8 + sizeof(ngx_http_es_store_rec_t), payload,
                       rec->payload_len);
        }

    } else {
        ngx_memcpy(&rlen, p, 4);
    }

    crc = ngx_crc32_long(p + 8, rlen);
    ngx_memcpy(p + 4, &crc, 4);

    if (store->key == NULL) {
        return p + 8 + rlen;
    }

    if (ngx_http_es_jws_sign(store->key, p, 8 + rlen, p + 8 + rlen, &mdlen)
        != NGX_HTTP_ES_JWS_OK
        || mdlen != NGX_HTTP_ES_STATE_MAC_LEN)
    {
        return NULL;
    }

    return p + 8 + rlen + NGX_HTTP_ES_STATE_MAC_LEN;
}


/*
 * A file replaced as a whole: a new temporary file (never one that is
 * there: a link planted by another), fsync, rename, fsync of the
 * directory.
 */

static ngx_int_t
ngx_http_es_state_write(ngx_http_es_store_t *store, ngx_str_t *name,
    ngx_str_t *tmp, u_char *buf, size_t len, ngx_log_t *log)
{
    u_char    *p;
    ssize_t    n;
    ngx_fd_t   fd, dfd;

    if (ngx_delete_file(tmp->data) == NGX_FILE_ERROR
        && ngx_errno != NGX_ENOENT)
    {
        ngx_log_error(NGX_LOG_ERR, log, ngx_errno,
                      "embed_session_store_zone \"%V\": "
                      ngx_delete_file_n " \"%V\" failed", &store->name,
                      tmp);
        return NGX_ERROR;
    }

    fd = ngx_open_file(tmp->data, NGX_FILE_WRONLY|O_NOFOLLOW,
                       NGX_FILE_CREATE_OR_OPEN|O_EXCL, S_IRUSR|S_IWUSR);

    if (fd == NGX_INVALID_FILE) {
        ngx_log_error(NGX_LOG_ERR, log, ngx_errno,
                      "embed_session_store_zone \"%V\": "
                      ngx_open_file_n " \"%V\" failed", &store->name,
                      tmp);
        return NGX_ERROR;
    }

    n = ngx_write_fd(fd, buf, len);

    if (n != (ssize_t) len) {
        goto failed;
    }

    if (fsync(fd) == -1) {
        goto failed;
    }

    if (ngx_close_file(fd) == NGX_FILE_ERROR) {
        fd = NGX_INVALID_FILE;
        goto failed;
    }

    if (ngx_rename_file(tmp->data, name->data) == NGX_FILE_ERROR) {
        ngx_log_error(NGX_LOG_ERR, log, ngx_errno,
                      "embed_session_store_zone \"%V\": "
                      ngx_rename_file_n " \"%V\" to \"%V\" failed",
                      &store->name, tmp, name);
        (void) ngx_delete_file(tmp->data);
        return NGX_ERROR;
    }

    /* the rename itself, durable: fsync of the directory */

    p = name->data + name->len;

    while (p > name->data && *(p - 1) != '/') {
        p--;
    }

    if (p > name->data) {
        *(p - 1) = '\0';
        dfd = ngx_open_file(name->data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
        *(p - 1) = '/';

        if (dfd != NGX_INVALID_FILE) {
            (void) fsync(dfd);
            (void) ngx_close_file(dfd);
        }
    }

    return NGX_OK;

failed:

    ngx_log_error(NGX_LOG_ERR, log, ngx_errno,
                  "embed_session_store_zone \"%V\": writing \"%V\" failed",
                  &store->name, tmp);

    if (fd != NGX_INVALID_FILE) {
        (void) ngx_close_file(fd);
    }

    (void) ngx_delete_file(tmp->data);

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


/*
 * The epoch file (state_epoch=): the generation of the state file last
 * known to the master, kept where the workers cannot write, so that a
 * start can tell the latest state file from an older copy of it or from
 * none.  The master writes it, as root, when it starts, reloads and exits;
 * its directory must therefore be one that the workers cannot write to
 * (else a planted link would make a root write theirs, and the epoch
 * theirs to roll back).
 */

static ngx_int_t
ngx_http_es_epoch_read(ngx_http_es_store_t *store, ngx_log_t *log)
{
    ngx_uid_t  uid;
    ngx_gid_t  gid;

    store->epoch_gen = 0;

    if (ngx_http_es_workers(store->cycle, &uid, &gid) != NGX_OK
        || uid == geteuid())
    {
        ngx_log_error(NGX_LOG_EMERG, log, 0,
                      "embed_session_store_zone \"%V\": state_epoch=\"%V\" "
                      "needs worker processes that run as another user "
                      "than the master (the \"user\" directive)",
                      &store->name, &store->epoch);
        return NGX_ERROR;
    }

    if (ngx_http_es_store_dir_safe(&store->epoch, uid, gid) != NGX_OK) {
        ngx_log_error(NGX_LOG_EMERG, log, 0,
                      "embed_session_store_zone \"%V\": the directory of "
                      "state_epoch=\"%V\" must exist, and the worker "
                      "processes must not be able to write to it",
                      &store->name, &store->epoch);
        return NGX_ERROR;
    }

    return ngx_http_es_epoch_parse(store, &store->epoch_gen, log)
           == NGX_ERROR ? NGX_ERROR : NGX_OK;
}


/* NGX_OK, NGX_DECLINED: no epoch file yet (gen 0), NGX_ERROR: logged */

static ngx_int_t
ngx_http_es_epoch_parse(ngx_http_es_store_t *store, uint64_t *gen,
    ngx_log_t *log)
{
    u_char           *p, *last, buf[64];
    ssize_t           n;
    uint64_t          v, d;
    ngx_fd_t          fd;
    ngx_err_t         err;
    ngx_file_info_t   fi;

    *gen = 0;

    fd = ngx_open_file(store->epoch.data,
                       NGX_FILE_RDONLY|NGX_FILE_NONBLOCK|O_NOFOLLOW,
                       NGX_FILE_OPEN, 0);

    if (fd == NGX_INVALID_FILE) {
        err = ngx_errno;

        if (err == NGX_ENOENT) {
            return NGX_DECLINED;
        }

        ngx_log_error(NGX_LOG_EMERG, log, err,
                      "embed_session_store_zone \"%V\": "
                      ngx_open_file_n " \"%V\" failed", &store->name,
                      &store->epoch);
        return NGX_ERROR;
    }

    n = -1;

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR || !ngx_is_file(&fi)
        || fi.st_uid != geteuid() || (fi.st_mode & (S_IWGRP|S_IWOTH)))
    {
        ngx_log_error(NGX_LOG_EMERG, log, 0,
                      "embed_session_store_zone \"%V\": \"%V\" must be a "
                      "regular file of the master's user that no one else "
                      "can write", &store->name, &store->epoch);

    } else {
        n = ngx_read_fd(fd, buf, sizeof(buf));
    }

    ngx_close_file(fd);

    if (n == -1) {
        return NGX_ERROR;
    }

    /* "ESEPOCH1 <generation>\n" */

    p = buf + sizeof(NGX_HTTP_ES_EPOCH_MAGIC) - 1;
    last = buf + n;
    v = 0;

    if ((size_t) n < sizeof(NGX_HTTP_ES_EPOCH_MAGIC) + 1
        || ngx_memcmp(buf, NGX_HTTP_ES_EPOCH_MAGIC,
                      sizeof(NGX_HTTP_ES_EPOCH_MAGIC) - 1) != 0
        || *p < '0' || *p > '9')
    {
        goto invalid;
    }

    for ( /* void */ ; p < last && *p >= '0' && *p <= '9'; p++) {
        d = *p - '0';

        if (v > ((uint64_t) -1 - d) / 10) {
            goto invalid;
        }

        v = v * 10 + d;
    }

    if (last - p != 1 || *p != '\n') {
        goto invalid;
    }

    *gen = v;

    return NGX_OK;

invalid:

    ngx_log_error(NGX_LOG_EMERG, log, 0,
                  "embed_session_store_zone \"%V\": \"%V\" is not an epoch "
                  "file (\"" NGX_HTTP_ES_EPOCH_MAGIC "GENERATION\")",
                  &store->name, &store->epoch);

    return NGX_ERROR;
}


/* NGX_OK: the directory of name exists and uid/gid cannot write to it */

static ngx_int_t
ngx_http_es_store_dir_safe(ngx_str_t *name, ngx_uid_t uid, ngx_gid_t gid)
{
    u_char           *p;
    ngx_int_t         rc;
    ngx_file_info_t   fi;

    p = name->data + name->len;

    while (p > name->data && *(p - 1) != '/') {
        p--;
    }

    if (p == name->data) {
        return NGX_ERROR;
    }

    if (p == name->data + 1) {
        rc = ngx_file_info("/", &fi);

    } else {
        *(p - 1) = '\0';
        rc = ngx_file_info(name->data, &fi);
        *(p - 1) = '/';
    }

    if (rc == NGX_FILE_ERROR || !ngx_is_dir(&fi)) {
        return NGX_ERROR;
    }

    return ngx_http_es_writable(&fi, uid, gid) ? NGX_ERROR : NGX_OK;
}


/*
 * Monotonic: only a generation above the file's replaces it, read again
 * now, as another master (a binary upgrade) may have written it since
 */

static void
ngx_http_es_epoch_write(ngx_http_es_store_t *store, ngx_log_t *log)
{
    u_char    *p, buf[64];
    uint64_t   gen, cur;

    if (store->epoch.len == 0 || store->sh == NULL) {
        return;
    }

    gen = store->sh->generation;

    if (gen <= store->epoch_gen
        || ngx_http_es_epoch_parse(store, &cur, log) == NGX_ERROR)
    {
        return;
    }

    if (gen <= cur) {
        store->epoch_gen = cur;
        return;
    }

    p = ngx_sprintf(buf, NGX_HTTP_ES_EPOCH_MAGIC "%uL\n", gen);

    if (ngx_http_es_state_write(store, &store->epoch, &store->epoch_tmp, buf,
                                p - buf, log)
        == NGX_OK)
    {
        store->epoch_gen = gen;
    }
}


/* the master, once a configuration is in place: start and reload */

ngx_int_t
ngx_http_es_store_init_module(ngx_cycle_t *cycle)
{
    ngx_uint_t             i;
    ngx_array_t           *stores;
    ngx_http_es_store_t  **store;

    stores = ngx_http_es_stores(cycle);

    if (stores == NULL || ngx_test_config) {
        return NGX_OK;
    }

    store = stores->elts;

    for (i = 0; i < stores->nelts; i++) {
        ngx_http_es_epoch_write(store[i], cycle->log);
    }

    return NGX_OK;
}


/* the master, when it exits: the workers have written their last */

void
ngx_http_es_store_exit_master(ngx_cycle_t *cycle)
{
    (void) ngx_http_es_store_init_module(cycle);
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

/*
 * NGX_OK: passes (or not known here), NGX_DECLINED: revoked, NGX_BUSY:
 * replaced by a refresh, NGX_ABORT: not known here, and issued before the
 * zone lost state (state_loss=revoke)
 */

ngx_int_t
ngx_http_es_store_check(ngx_http_es_store_t *store, u_char *sid,
    u_char *jti, time_t iat)
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

    } else if (iat < store->sh->since) {
        rc = NGX_ABORT;
    }

    ngx_shmtx_unlock(&store->shpool->mutex);

    return rc;
}


/*
 * NGX_OK, NGX_AGAIN: the zone is full, NGX_BUSY: the owner has per_key=
 * records already, NGX_DECLINED: the id exists
 */

ngx_int_t
ngx_http_es_store_add(ngx_http_es_store_t *store,
    ngx_http_es_store_rec_t *rec, u_char *payload, ngx_log_t *log)
{
    time_t                      now;
    ngx_int_t                   rc;
    ngx_http_es_store_node_t   *n;
    ngx_http_es_store_owner_t  *o;

    now = ngx_time();

    /* the first token's exp: a revoked session is kept at least that long */

    rec->horizon = ngx_max(rec->horizon, rec->exp);

    ngx_shmtx_lock(&store->shpool->mutex);

    if (store->per_key) {
        o = ngx_http_es_store_owner_locked(store, rec->owner, 0);

        if (o && o->records >= store->per_key) {
            (void) ngx_http_es_store_expire_locked(store, now);

            o = ngx_http_es_store_owner_locked(store, rec->owner, 0);

            if (o && o->records >= store->per_key) {
                store->sh->quota++;
                rc = NGX_BUSY;
                goto done;
            }
        }
    }

    if (ngx_http_es_store_lookup(store->sh, rec->id, 0)) {
        rc = NGX_DECLINED;

    } else {
        n = ngx_http_es_store_alloc_locked(store, rec, payload, now);

        if (n) {
            ngx_http_es_store_link(store, n);
            store->sh->changes++;
            rc = NGX_OK;

        } else {
            rc = NGX_AGAIN;
        }
    }

done:

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
        rec->horizon = ngx_max(rec->horizon, rec->exp);
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

        ngx_http_es_store_revoke_locked(store, n);

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
            ngx_http_es_store_revoke_locked(store, n);
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
    ngx_queue_t               *q, *next;
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

        /* revoked records are in the other queue already */

        for (q = ngx_queue_head(&store[i]->sh->expiry);
             q != ngx_queue_sentinel(&store[i]->sh->expiry);
             q = next)
        {
            next = ngx_queue_next(q);
            n = ngx_queue_data(q, ngx_http_es_store_node_t, queue);

            if (ngx_memcmp(n->rec.owner, owner, NGX_HTTP_ES_OWNER_LEN) != 0)
            {
                continue;
            }

            ngx_http_es_store_revoke_locked(store[i], n);
            count++;
        }

        if (count) {
            store[i]->sh->changes++;
        }

        ngx_shmtx_unlock(&store[i]->shpool->mutex);
    }

    return count;
}


/*
 * a ticket, exactly once: its claims are copied out to payload; with an
 * owner, only the API key that minted it may (another's is unknown)
 */

ngx_http_es_exchange_rc_t
ngx_http_es_store_exchange(ngx_http_es_store_t *store, u_char *id,
    u_char *owner, time_t now, time_t leeway, u_char *payload,
    ngx_http_es_store_rec_t *rec)
{
    u_char                     *claims;
    ngx_http_es_store_sh_t     *sh;
    ngx_http_es_store_node_t   *n;
    ngx_http_es_exchange_rc_t   rc;

    sh = store->sh;

    ngx_shmtx_lock(&store->shpool->mutex);

    n = ngx_http_es_store_lookup(sh, id, now);

    if (n == NULL || !(n->rec.flags & NGX_HTTP_ES_STORE_TICKET)
        || (n->rec.flags & NGX_HTTP_ES_STORE_REVOKED)
        || (owner
            && ngx_memcmp(n->rec.owner, owner, NGX_HTTP_ES_OWNER_LEN) != 0))
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
        n->rec.horizon = n->rec.exp;

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
 * the queues and one over each tree: as many records in the queues as in
 * the tree, each keyed by its id and in the queue of its kind, the queues
 * in expiry order, the counters adding up, and each API key's count that
 * of its records.  A worker killed half-way through a change would show
 * here.
 */

void
ngx_http_es_store_stats(ngx_http_es_store_t *store,
    ngx_http_es_store_stats_t *st)
{
    time_t                      prev;
    size_t                      payload;
    ngx_uint_t                  k, queued, sessions, tickets, revoked, ok;
    ngx_uint_t                  owned, counted;
    ngx_queue_t                *q, *queues[2];
    ngx_rbtree_node_t          *node;
    ngx_http_es_store_sh_t     *sh;
    ngx_http_es_store_node_t   *n;
    ngx_http_es_store_owner_t  *o;

    sh = store->sh;
    ok = 1;
    queued = 0;
    sessions = 0;
    tickets = 0;
    revoked = 0;
    payload = 0;

    queues[0] = &sh->expiry;
    queues[1] = &sh->revoked_q;

    ngx_shmtx_lock(&store->shpool->mutex);

    for (k = 0; k < 2; k++) {
        prev = 0;

        for (q = ngx_queue_head(queues[k]);
             q != ngx_queue_sentinel(queues[k]);
             q = ngx_queue_next(q))
        {
            n = ngx_queue_data(q, ngx_http_es_store_node_t, queue);

            if (n->rec.expires < prev
                || (n->payload == NULL) != (n->rec.payload_len == 0)
                || !(n->rec.flags & NGX_HTTP_ES_STORE_REVOKED) != !k)
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
    }

    if (sessions != sh->sessions || tickets != sh->tickets
        || revoked != sh->revoked || payload != sh->payload)
    {
        ok = 0;
    }

    /* and nothing in the tree that the queues do not hold */

    counted = queued;

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

    /* every record counted for its API key, and no key with none */

    owned = 0;

    if (sh->owners.root != sh->owners.sentinel) {
        for (node = ngx_rbtree_min(sh->owners.root, sh->owners.sentinel);
             node;
             node = ngx_rbtree_next(&sh->owners, node))
        {
            o = (ngx_http_es_store_owner_t *) node;

            if (o->records == 0) {
                ok = 0;
            }

            owned += o->records;
        }
    }

    if (owned != counted) {
        ok = 0;
    }

    st->sessions = sh->sessions;
    st->tickets = sh->tickets;
    st->revoked = sh->revoked;
    st->size = store->shpool->end - store->shpool->start;
    st->free = store->shpool->pfree * ngx_pagesize;
    st->used = st->size - st->free;
    st->generation = (ngx_uint_t) sh->generation;
    st->unwritten = (store->state.len && sh->changes != sh->persisted)
                    ? (ngx_uint_t) (sh->changes - sh->persisted) : 0;

    ngx_shmtx_unlock(&store->shpool->mutex);

    st->full = sh->full;
    st->quota = sh->quota;
    st->losses = sh->losses;
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


static void
ngx_http_es_store_owner_insert(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel)
{
    ngx_rbtree_node_t          **p;
    ngx_http_es_store_owner_t   *o, *t;

    for ( ;; ) {

        if (node->key != temp->key) {
            p = (node->key < temp->key) ? &temp->left : &temp->right;

        } else {
            o = (ngx_http_es_store_owner_t *) node;
            t = (ngx_http_es_store_owner_t *) temp;

            p = ngx_memcmp(o->owner, t->owner, NGX_HTTP_ES_OWNER_LEN) < 0
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


/* the records of an API key; create: a new one when it has none */

static ngx_http_es_store_owner_t *
ngx_http_es_store_owner_locked(ngx_http_es_store_t *store, u_char *owner,
    ngx_uint_t create)
{
    ngx_int_t                   rc;
    ngx_rbtree_key_t            key;
    ngx_rbtree_node_t          *node, *sentinel;
    ngx_http_es_store_owner_t  *o;

    ngx_memcpy(&key, owner, ngx_min(sizeof(ngx_rbtree_key_t),
                                    NGX_HTTP_ES_OWNER_LEN));

    node = store->sh->owners.root;
    sentinel = store->sh->owners.sentinel;

    while (node != sentinel) {

        if (key != node->key) {
            node = (key < node->key) ? node->left : node->right;
            continue;
        }

        o = (ngx_http_es_store_owner_t *) node;

        rc = ngx_memcmp(owner, o->owner, NGX_HTTP_ES_OWNER_LEN);

        if (rc == 0) {
            return o;
        }

        node = rc < 0 ? node->left : node->right;
    }

    if (!create) {
        return NULL;
    }

    o = ngx_slab_alloc_locked(store->shpool,
                              sizeof(ngx_http_es_store_owner_t));
    if (o == NULL) {
        return NULL;
    }

    o->node.key = key;
    o->records = 0;
    ngx_memcpy(o->owner, owner, NGX_HTTP_ES_OWNER_LEN);

    ngx_rbtree_insert(&store->sh->owners, &o->node);

    return o;
}


/* a record from the state file or an old zone: a union with what is here */

static ngx_int_t
ngx_http_es_store_merge_locked(ngx_http_es_store_t *store,
    ngx_http_es_store_rec_t *rec, u_char *payload, time_t now)
{
    u_char                    *claims;
    time_t                     expires;
    ngx_uint_t                 revoked, revoke;
    ngx_http_es_store_sh_t    *sh;
    ngx_http_es_store_node_t  *n;

    sh = store->sh;

    if (rec->expires <= now) {

        /*
         * Revoked, and its last token has expired: nothing to keep, but
         * a record that is live here must not outlive the revocation (the
         * other zone forgot the session once it had written it revoked)
         */

        if (rec->flags & NGX_HTTP_ES_STORE_REVOKED) {
            n = ngx_http_es_store_lookup(sh, rec->id, 0);

            if (n && !(n->rec.flags & NGX_HTTP_ES_STORE_REVOKED)) {
                n->rec.horizon = ngx_max(n->rec.horizon, rec->horizon);
                ngx_http_es_store_revoke_locked(store, n);
            }
        }

        return NGX_OK;
    }

    n = ngx_http_es_store_lookup(sh, rec->id, 0);

    if (n == NULL) {
        n = ngx_http_es_store_alloc_locked(store, rec, payload, now);
        if (n == NULL) {
            return NGX_AGAIN;
        }

        ngx_http_es_store_link(store, n);
        return NGX_OK;
    }

    revoked = n->rec.flags & NGX_HTTP_ES_STORE_REVOKED;

    ngx_http_es_store_count(sh, &n->rec, -1);

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

    revoke = rec->flags & NGX_HTTP_ES_STORE_REVOKED;

    if ((rec->seq == n->rec.seq && rec->seq
         && ngx_memcmp(rec->gen, n->rec.gen, NGX_HTTP_ES_ID_LEN) != 0)
        || ((rec->flags & n->rec.flags & NGX_HTTP_ES_STORE_EXCHANGED)
            && rec->iat != n->rec.iat))
    {
        revoke = 1;
    }

    if (rec->seq > n->rec.seq) {
        ngx_memcpy(n->rec.gen, rec->gen, NGX_HTTP_ES_ID_LEN);
        ngx_memcpy(n->rec.prev, rec->prev, NGX_HTTP_ES_ID_LEN);
        n->rec.rotated = rec->rotated;
        n->rec.iat = rec->iat;
        n->rec.exp = rec->exp;
        n->rec.seq = rec->seq;
    }

    n->rec.horizon = ngx_max(n->rec.horizon, rec->horizon);

    ngx_http_es_store_count(sh, &n->rec, 1);

    /*
     * A revoked record goes once its last token has expired: the other
     * side may have issued a later one than those it knew of (a rotation
     * in the other zone), and the record must stay until that one has
     * expired too, else the token is taken for one of an unknown session
     */

    expires = revoked ? ngx_min(rec->expires,
                                n->rec.horizon + store->leeway)
                      : rec->expires;

    if (expires > n->rec.expires) {
        n->rec.expires = expires;
        ngx_queue_remove(&n->queue);
        ngx_http_es_store_queue(sh, n);
    }

    if (revoke && !revoked) {
        ngx_http_es_store_revoke_locked(store, n);
    }

    return NGX_OK;
}


/* a record built in full, not yet linked; NULL: the zone is full */

static ngx_http_es_store_node_t *
ngx_http_es_store_alloc_locked(ngx_http_es_store_t *store,
    ngx_http_es_store_rec_t *rec, u_char *payload, time_t now)
{
    ngx_uint_t                  tries;
    ngx_http_es_store_node_t   *n;
    ngx_http_es_store_owner_t  *o;

    n = NULL;
    o = NULL;

    for (tries = 0; tries < 2; tries++) {

        if (tries) {
            if (ngx_http_es_store_expire_locked(store, now) == 0) {
                break;
            }

            /*
             * The records that expired may have been the last ones of
             * this owner, and its node went with them
             */

            o = NULL;
        }

        if (o == NULL) {
            o = ngx_http_es_store_owner_locked(store, rec->owner, 1);
            if (o == NULL) {
                continue;
            }
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

    if (o == NULL || n == NULL || (rec->payload_len && n->payload == NULL)) {
        if (n) {
            ngx_slab_free_locked(store->shpool, n);
        }

        if (o && o->records == 0) {
            ngx_rbtree_delete(&store->sh->owners, &o->node);
            ngx_slab_free_locked(store->shpool, o);
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


/* the owner's node exists: alloc_locked() made sure */

static void
ngx_http_es_store_link(ngx_http_es_store_t *store,
    ngx_http_es_store_node_t *n)
{
    ngx_http_es_store_sh_t     *sh;
    ngx_http_es_store_owner_t  *o;

    sh = store->sh;

    o = ngx_http_es_store_owner_locked(store, n->rec.owner, 0);
    o->records++;

    if (n->rec.flags & NGX_HTTP_ES_STORE_REVOKED) {
        n->rec.expires = ngx_min(n->rec.expires,
                                 n->rec.horizon + store->leeway);
        n->revoked = sh->changes;
    }

    ngx_rbtree_insert(&sh->rbtree, &n->node);
    ngx_http_es_store_queue(sh, n);
    ngx_http_es_store_count(sh, &n->rec, 1);
    sh->payload += n->rec.payload_len;
}


/*
 * In expiry order, from the tail: records mostly come in that order.  A
 * revoked record's expiry is earlier than its neighbours' often, as it
 * can go once its last token has expired; it is looked for a place at
 * most SCAN records from the tail, and else waits at the tail: a record
 * never goes before its time, it may stay past it.
 */

static void
ngx_http_es_store_queue(ngx_http_es_store_sh_t *sh,
    ngx_http_es_store_node_t *n)
{
    ngx_uint_t                 scan;
    ngx_queue_t               *q, *queue;
    ngx_http_es_store_node_t  *t;

    queue = (n->rec.flags & NGX_HTTP_ES_STORE_REVOKED) ? &sh->revoked_q
                                                       : &sh->expiry;
    scan = 0;

    for (q = ngx_queue_last(queue);
         q != ngx_queue_sentinel(queue);
         q = ngx_queue_prev(q))
    {
        t = ngx_queue_data(q, ngx_http_es_store_node_t, queue);

        if (t->rec.expires <= n->rec.expires) {
            break;
        }

        if (queue == &sh->revoked_q && ++scan == NGX_HTTP_ES_STORE_SCAN) {
            q = ngx_queue_last(queue);
            t = ngx_queue_data(q, ngx_http_es_store_node_t, queue);
            n->rec.expires = t->rec.expires;
            break;
        }
    }

    ngx_queue_insert_after(q, &n->queue);
}


/*
 * Revoked: kept while a token of it can be presented, that is until the
 * latest exp of its tokens plus the leeway, in the queue of revoked
 * records, and until a snapshot holds it revoked (expire_locked()).  A
 * renew token lives longer, but nothing takes it without the record.
 */

static void
ngx_http_es_store_revoke_locked(ngx_http_es_store_t *store,
    ngx_http_es_store_node_t *n)
{
    ngx_http_es_store_sh_t  *sh;

    if (n->rec.flags & NGX_HTTP_ES_STORE_REVOKED) {
        return;
    }

    sh = store->sh;

    ngx_queue_remove(&n->queue);

    ngx_http_es_store_count(sh, &n->rec, -1);
    n->rec.flags |= NGX_HTTP_ES_STORE_REVOKED;
    ngx_http_es_store_count(sh, &n->rec, 1);

    n->rec.expires = ngx_min(n->rec.expires, n->rec.horizon + store->leeway);
    n->revoked = sh->changes;

    ngx_http_es_store_queue(sh, n);
}


static void
ngx_http_es_store_free_locked(ngx_http_es_store_t *store,
    ngx_http_es_store_node_t *n)
{
    ngx_http_es_store_sh_t     *sh;
    ngx_http_es_store_owner_t  *o;

    sh = store->sh;

    ngx_http_es_store_count(sh, &n->rec, -1);
    sh->payload -= n->rec.payload_len;

    ngx_queue_remove(&n->queue);
    ngx_rbtree_delete(&sh->rbtree, &n->node);

    o = ngx_http_es_store_owner_locked(store, n->rec.owner, 0);

    if (o && --o->records == 0) {
        ngx_rbtree_delete(&sh->owners, &o->node);
        ngx_slab_free_locked(store->shpool, o);
    }

    if (n->payload) {
        ngx_slab_free_locked(store->shpool, n->payload);
    }

    ngx_slab_free_locked(store->shpool, n);
}


static ngx_uint_t
ngx_http_es_store_expire_locked(ngx_http_es_store_t *store, time_t now)
{
    ngx_uint_t                 k, freed;
    ngx_queue_t               *q, *queues[2];
    ngx_http_es_store_node_t  *n;

    freed = 0;

    queues[0] = &store->sh->expiry;
    queues[1] = &store->sh->revoked_q;

    for (k = 0; k < 2; k++) {

        while (!ngx_queue_empty(queues[k])) {
            q = ngx_queue_head(queues[k]);
            n = ngx_queue_data(q, ngx_http_es_store_node_t, queue);

            if (n->rec.expires > now) {
                break;
            }

            /*
             * A revocation that no state file holds yet: the file holds
             * the record as it was, and the next writer, merging the file
             * in, would bring it back to life, renew token and all
             */

            if (k == 1 && store->state.len
                && (ngx_atomic_int_t) (store->sh->persisted - n->revoked)
                   <= 0)
            {
                break;
            }

            ngx_http_es_store_free_locked(store, n);
            freed++;
        }
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
