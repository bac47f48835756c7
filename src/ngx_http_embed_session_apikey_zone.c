
/*
 * Copyright (C) The ngx_http_embed_session_module authors
 *
 * The API key store: the shared memory zone that holds the records of the
 * key file (apikey_file.c) for every worker; the lookup of a credential with
 * its rate limit; and the changes regenerate and revoke make, written to
 * the file first and to the zone after.
 *
 * Only the master adds or frees records (when a cycle starts); workers
 * change a record in place under the zone mutex.  The file is rewritten
 * under a POSIX lock on FILE.lock, which the master takes shared while it
 * reads the file, so that a reload and a change are ordered, and again
 * while it takes the changes over from a zone that a reload replaces by
 * one of another size.  The sessions of keys that are gone end in
 * apikey_end.c.
 */


#include "ngx_http_embed_session_module.h"
#include "ngx_http_embed_session_apikey.h"
#include "ngx_http_embed_session_apikey_int.h"
#include "ngx_http_embed_session_jws.h"


static ngx_int_t ngx_http_es_api_zone_param(ngx_conf_t *cf,
    ngx_str_t *value, ngx_str_t *name, ssize_t *size);
static ngx_int_t ngx_http_es_api_end_param(ngx_conf_t *cf, ngx_str_t *value,
    ngx_str_t *ends);
static ngx_int_t ngx_http_es_api_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static ngx_http_es_api_zone_t *ngx_http_es_api_old_zone(
    ngx_shm_zone_t *shm_zone);
static ngx_int_t ngx_http_es_api_build(ngx_http_es_api_zone_t *zone,
    ngx_uint_t reuse, ngx_log_t *log);
static ngx_rbtree_t *ngx_http_es_api_index(ngx_pool_t *pool,
    ngx_http_es_api_sh_t *sh);
static ngx_http_es_api_rec_t *ngx_http_es_api_by_id(ngx_rbtree_t *ids,
    ngx_http_es_api_rec_t *rec);
static void ngx_http_es_api_takeover(ngx_http_es_api_zone_t *zone,
    ngx_http_es_api_zone_t *ozone, ngx_log_t *log);
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
static void ngx_http_es_api_apply(ngx_log_t *log,
    ngx_http_es_api_zone_t *zone, ngx_http_es_api_change_t *ch);
static ngx_uint_t ngx_http_es_api_regenerated(ngx_http_es_api_rec_t *rec,
    ngx_http_es_api_change_t *ch);
static void ngx_http_es_api_relink(ngx_http_es_api_sh_t *sh,
    ngx_http_es_api_rec_t *rec, ngx_uint_t id, ngx_str_t *lookup,
    u_char *hash);


/* configuration ********************************************************/

/*
 * embed_session_api_keys zone=NAME:SIZE file=PATH [end_sessions=F,...]
 *     [backend=NAME nodes=N [backend_key=KEY]];
 */

char *
ngx_http_es_api_keys_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ssize_t                   size;
    ngx_int_t                 nodes;
    ngx_str_t                *value, name, file, ends, backend, backend_key;
    ngx_uint_t                i;
    ngx_shm_zone_t           *shm_zone;
    ngx_http_es_api_zone_t   *zone;
    ngx_http_es_main_conf_t  *emcf;

    value = cf->args->elts;

    size = 0;
    nodes = 0;
    ngx_str_null(&name);
    ngx_str_null(&file);
    ngx_str_null(&ends);
    ngx_str_null(&backend);
    ngx_str_null(&backend_key);

    for (i = 1; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "zone=", 5) == 0) {
            if (ngx_http_es_api_zone_param(cf, &value[i], &name, &size)
                != NGX_OK)
            {
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "file=", 5) == 0 && value[i].len > 5) {
            file.data = value[i].data + 5;
            file.len = value[i].len - 5;
            continue;
        }

        if (ngx_strncmp(value[i].data, "backend=", 8) == 0
            && value[i].len > 8)
        {
            backend.data = value[i].data + 8;
            backend.len = value[i].len - 8;
            continue;
        }

        if (ngx_strncmp(value[i].data, "backend_key=", 12) == 0) {
            backend_key.data = value[i].data + 12;
            backend_key.len = value[i].len - 12;
            continue;
        }

        if (ngx_strncmp(value[i].data, "nodes=", 6) == 0) {
            nodes = ngx_atoi(value[i].data + 6, value[i].len - 6);

            if (nodes == NGX_ERROR || nodes < 1 || nodes > 1000) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid \"%V\": a number of nodes, 1 to "
                                   "1000", &value[i]);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "end_sessions=", 13) == 0) {
            if (ngx_http_es_api_end_param(cf, &value[i], &ends) != NGX_OK) {
                return NGX_CONF_ERROR;
            }

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
    zone->end_flags = ends;

    /* backend=: found by its name once the http block is read */

    if ((backend_key.len || nodes) && backend.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"backend_key=\" and \"nodes=\" need "
                           "\"backend=\"");
        return NGX_CONF_ERROR;
    }

    if (backend.len && nodes == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"backend=\" needs \"nodes=N\": the nodes that "
                           "share the rates, each of which counts 1/N of a "
                           "rate when Redis cannot be reached");
        return NGX_CONF_ERROR;
    }

    zone->backend_name = backend;
    zone->backend_key = backend_key.len ? backend_key : name;
    zone->nodes = nodes;
    zone->conf_file = cf->conf_file->file.name.data;
    zone->conf_line = cf->conf_file->line;

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

    return ngx_http_es_keyfile_load(cf, zone);
}


/* a cycle's API key zones, one after the other; NULL past the last */

ngx_http_es_api_zone_t *
ngx_http_es_api_zone_next(ngx_cycle_t *cycle, ngx_http_es_api_iter_t *it)
{
    ngx_shm_zone_t  *shm;

    if (it->part == NULL) {
        it->part = &cycle->shared_memory.part;
        it->i = 0;
    }

    for ( ;; ) {
        if (it->i >= it->part->nelts) {
            if (it->part->next == NULL) {
                return NULL;
            }

            it->part = it->part->next;
            it->i = 0;
            continue;
        }

        shm = it->part->elts;
        shm = &shm[it->i++];

        if (shm->init == ngx_http_es_api_init_zone) {
            it->shm = shm;
            return shm->data;
        }
    }
}


/* zone=NAME:SIZE */

static ngx_int_t
ngx_http_es_api_zone_param(ngx_conf_t *cf, ngx_str_t *value, ngx_str_t *name,
    ssize_t *size)
{
    u_char     *p;
    ngx_str_t   s;

    name->data = value->data + 5;

    p = (u_char *) ngx_strchr(name->data, ':');

    if (p == NULL || p == name->data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid zone \"%V\": use zone=NAME:SIZE", value);
        return NGX_ERROR;
    }

    name->len = p - name->data;

    s.data = p + 1;
    s.len = value->data + value->len - s.data;

    *size = ngx_parse_size(&s);

    if (*size == NGX_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid zone size \"%V\"", value);
        return NGX_ERROR;
    }

    if (*size < (ssize_t) (8 * ngx_pagesize)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "zone \"%V\" is too small: at least %uz",
                           value, 8 * ngx_pagesize);
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * end_sessions=F,...: the flags that end a key's sessions as its
 * revocation does, checked where revoked keys are, on every start and
 * reload
 */

static ngx_int_t
ngx_http_es_api_end_param(ngx_conf_t *cf, ngx_str_t *value, ngx_str_t *ends)
{
    u_char     *p, *last;
    ngx_str_t   item;

    ends->data = value->data + 13;
    ends->len = value->len - 13;

    ngx_str_null(&item);

    p = ends->data;
    last = p + ends->len;

    while (ngx_http_es_api_next_item(&p, last, &item) == NGX_OK) {
        if (item.len == 0) {
            break;
        }
    }

    if (ends->len == 0 || item.len == 0 || last[-1] == ',') {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\": use "
                           "end_sessions=FLAG[,FLAG...]", value);
        return NGX_ERROR;
    }

    return NGX_OK;
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


/* the zone *************************************************************/

/*
 * The limit_req recipe: a zone of the same name and size is taken over on
 * reload, and its records are rebuilt from the file just read.  A zone
 * whose size changed is new: the changes made in the old one are taken
 * over once the new cycle is committed, ngx_http_es_api_init_module().
 */

static ngx_int_t
ngx_http_es_api_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_es_api_zone_t  *ozone = data;

    size_t                   len;
    ngx_http_es_api_zone_t  *zone;

    zone = shm_zone->data;

    if (zone->writes) {
        ngx_http_es_keyfile_check_writable(zone, shm_zone->shm.log);
    }

    if (ozone) {
        zone->sh = ozone->sh;
        zone->shpool = ozone->shpool;

        return ngx_http_es_api_build(zone, 1, shm_zone->shm.log);
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
    zone->sh->retired = 0;

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

    zone->old = ngx_http_es_api_old_zone(shm_zone);

    return ngx_http_es_api_build(zone, 0, shm_zone->shm.log);
}


/*
 * The zone of this name in the cycle being replaced, when the reload
 * changed its size: its memory stays mapped in the master until the new
 * cycle is committed.
 */

static ngx_http_es_api_zone_t *
ngx_http_es_api_old_zone(ngx_shm_zone_t *shm_zone)
{
    ngx_uint_t               i;
    ngx_cycle_t             *old;
    ngx_shm_zone_t          *oshm;
    ngx_list_part_t         *part;
    ngx_http_es_api_zone_t  *zone;

    zone = shm_zone->data;
    old = zone->cycle->old_cycle;

    if (old == NULL || ngx_is_init_cycle(old)) {
        return NULL;
    }

    part = &old->shared_memory.part;
    oshm = part->elts;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                return NULL;
            }

            part = part->next;
            oshm = part->elts;
            i = 0;
        }

        if (oshm[i].init == ngx_http_es_api_init_zone
            && oshm[i].tag == shm_zone->tag
            && oshm[i].shm.name.len == shm_zone->shm.name.len
            && ngx_strncmp(oshm[i].shm.name.data, shm_zone->shm.name.data,
                           shm_zone->shm.name.len)
               == 0
            && oshm[i].data)
        {
            zone = oshm[i].data;
            return zone->sh ? zone : NULL;
        }
    }
}


/*
 * The records of the file replace those in the zone.  The new ones are
 * allocated next to the old ones first, so that a zone too small fails
 * the start or reload with the old keys intact; then, under the mutex,
 * the rate counters and the changes workers made since the file was read
 * are carried over (reuse: the zone is the old cycle's) and the trees are
 * swapped, so that workers of the old cycle never see a half-built tree.
 */

static ngx_int_t
ngx_http_es_api_build(ngx_http_es_api_zone_t *zone, ngx_uint_t reuse,
    ngx_log_t *log)
{
    ngx_uint_t                i, n;
    ngx_pool_t               *pool;
    ngx_queue_t              *q;
    ngx_rbtree_t             *ids;
    ngx_slab_pool_t          *shpool;
    ngx_http_es_api_sh_t     *sh;
    ngx_http_es_api_rec_t   **recs, **news, *rec, *old;

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

    ids = reuse ? ngx_http_es_api_index(pool, sh) : NULL;

    if (reuse && ids == NULL) {
        for (i = 0; i < n; i++) {
            ngx_slab_free(shpool, news[i]);
        }

        goto failed;
    }

    ngx_shmtx_lock(&shpool->mutex);

    for (i = 0; reuse && i < n; i++) {
        rec = news[i];
        old = ngx_http_es_api_by_id(ids, rec);

        if (old == NULL) {
            continue;
        }

        if (old->updated >= zone->parsed) {
            /* changed by a worker after the file was read */
            ngx_http_es_api_carry(rec, old);
        }

        rec->window = old->window;
        rec->count = old->count;
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
 * The records of a zone by ID.  Only the master adds or removes records,
 * so the master indexes them without the mutex; what workers change in
 * them is read under it.
 */

static ngx_rbtree_t *
ngx_http_es_api_index(ngx_pool_t *pool, ngx_http_es_api_sh_t *sh)
{
    ngx_queue_t             *q;
    ngx_rbtree_t            *ids;
    ngx_rbtree_node_t       *sentinel;
    ngx_http_es_api_rec_t   *rec;
    ngx_http_es_api_name_t  *name;

    ids = ngx_palloc(pool, sizeof(ngx_rbtree_t));
    sentinel = ngx_palloc(pool, sizeof(ngx_rbtree_node_t));

    if (ids == NULL || sentinel == NULL) {
        return NULL;
    }

    ngx_rbtree_init(ids, sentinel, ngx_str_rbtree_insert_value);

    for (q = ngx_queue_head(&sh->queue);
         q != ngx_queue_sentinel(&sh->queue);
         q = ngx_queue_next(q))
    {
        rec = ngx_queue_data(q, ngx_http_es_api_rec_t, queue);

        name = ngx_palloc(pool, sizeof(ngx_http_es_api_name_t));
        if (name == NULL) {
            return NULL;
        }

        ngx_http_es_api_str(rec, NGX_HTTP_ES_API_STR_ID, &name->sn.str);
        name->sn.node.key = ngx_crc32_long(name->sn.str.data,
                                           name->sn.str.len);
        name->rec = rec;

        ngx_rbtree_insert(ids, &name->sn.node);
    }

    return ids;
}


static ngx_http_es_api_rec_t *
ngx_http_es_api_by_id(ngx_rbtree_t *ids, ngx_http_es_api_rec_t *rec)
{
    ngx_str_t                id;
    ngx_http_es_api_name_t  *name;

    ngx_http_es_api_str(rec, NGX_HTTP_ES_API_STR_ID, &id);

    name = (ngx_http_es_api_name_t *)
               ngx_str_rbtree_lookup(ids, &id,
                                     ngx_crc32_long(id.data, id.len));

    return name ? name->rec : NULL;
}


/*
 * The new cycle is committed: the zones whose size a reload changed take
 * over what workers changed in the old zones since the file was read, and
 * the old zones are retired, so that a worker of the old cycle, still
 * serving, refuses a change that the new zone would not see.  Under the
 * shared lock of FILE.lock, every change is either wholly before (taken
 * over) or wholly after (refused).  Called in the master, never fails.
 */

ngx_int_t
ngx_http_es_api_init_module(ngx_cycle_t *cycle)
{
    ngx_http_es_api_iter_t   it;
    ngx_http_es_api_zone_t  *zone;

    it.part = NULL;

    while ((zone = ngx_http_es_api_zone_next(cycle, &it)) != NULL) {

        if (zone->old) {
            ngx_http_es_api_takeover(zone, zone->old, cycle->log);
            zone->old = NULL;
        }
    }

    return NGX_OK;
}


static void
ngx_http_es_api_takeover(ngx_http_es_api_zone_t *zone,
    ngx_http_es_api_zone_t *ozone, ngx_log_t *log)
{
    ngx_fd_t                 lfd;
    ngx_uint_t               carried;
    ngx_pool_t              *pool;
    ngx_queue_t             *q;
    ngx_rbtree_t            *ids;
    ngx_http_es_api_sh_t    *sh;
    ngx_http_es_api_rec_t   *rec, *old;

    sh = zone->sh;
    carried = 0;

    pool = ngx_create_pool(NGX_DEFAULT_POOL_SIZE, log);

    ids = pool ? ngx_http_es_api_index(pool, ozone->sh) : NULL;

    if (ngx_http_es_keyfile_lock(zone->cycle, &zone->lock, 0, log,
                                 NGX_LOG_ALERT, &lfd)
        != NGX_OK)
    {
        lfd = NGX_INVALID_FILE;
    }

    ngx_shmtx_lock(&ozone->shpool->mutex);
    ngx_shmtx_lock(&zone->shpool->mutex);

    for (q = ngx_queue_head(&sh->queue);
         ids && q != ngx_queue_sentinel(&sh->queue);
         q = ngx_queue_next(q))
    {
        rec = ngx_queue_data(q, ngx_http_es_api_rec_t, queue);
        old = ngx_http_es_api_by_id(ids, rec);

        if (old == NULL) {
            continue;
        }

        rec->window = old->window;
        rec->count = old->count;

        if (old->updated < zone->parsed) {
            continue;
        }

        /* the lookups may change: out of the tree meanwhile */

        ngx_rbtree_delete(&sh->rbtree, &rec->node);

        if (rec->has_id_key) {
            ngx_rbtree_delete(&sh->rbtree, &rec->id_node);
        }

        ngx_http_es_api_carry(rec, old);

        ngx_rbtree_insert(&sh->rbtree, &rec->node);

        if (rec->has_id_key) {
            ngx_rbtree_insert(&sh->rbtree, &rec->id_node);
        }

        carried++;
    }

    ozone->sh->retired = 1;

    ngx_shmtx_unlock(&zone->shpool->mutex);
    ngx_shmtx_unlock(&ozone->shpool->mutex);

    if (lfd != NGX_INVALID_FILE) {
        ngx_http_es_keyfile_unlock(lfd, &zone->lock, log);
    }

    if (ids == NULL) {
        /* fail closed: what cannot be carried is refused from now on */
        ngx_log_error(NGX_LOG_ALERT, log, 0,
                      "embed_session_api_keys: zone \"%V\": changes made "
                      "during the reload could not be taken over; they take "
                      "effect on the next reload", &zone->shm_zone->shm.name);
    }

    if (carried) {
        ngx_log_error(NGX_LOG_NOTICE, log, 0,
                      "embed_session_api_keys: zone \"%V\": %ui changes "
                      "made during the reload taken over",
                      &zone->shm_zone->shm.name, carried);
    }

    if (pool) {
        ngx_destroy_pool(pool);
    }
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
    ngx_uint_t              limit;
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

    if (rec->rate && q->rate_mode == NGX_HTTP_ES_API_RATE_OWED) {

        /* counted on the backend (apikey_redis.c): the rate is all here */

        q->rate_limit = rec->rate;
        q->rate_remaining = rec->rate;
        q->rate_period = rec->period;
        q->rate_reset = q->now - q->now % rec->period + rec->period;

    } else if (rec->rate) {

        /* the backend cannot be reached: this node's share, never more */

        limit = (q->rate_mode == NGX_HTTP_ES_API_RATE_SHARE)
                ? (rec->rate + zone->nodes - 1) / zone->nodes : rec->rate;

        window = q->now - q->now % rec->period;

        if (window > rec->window) {
            rec->window = window;
            rec->count = 0;
        }

        if (code == NGX_HTTP_ES_PASSED) {
            if (rec->count >= limit) {
                code = NGX_HTTP_ES_RATE_LIMITED;

            } else {
                rec->count++;
            }
        }

        q->rate_limit = limit;
        q->rate_remaining = limit - ngx_min(rec->count, limit);
        q->rate_reset = rec->window + rec->period;
        q->rate_period = rec->period;

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
    u_char                  *p, *last;
    ngx_str_t               *list, item;
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

            while (ngx_http_es_api_next_item(&p, last, &item) == NGX_OK) {
                if (item.len == d[i].value.len
                    && ngx_memcmp(item.data, d[i].value.data, item.len) == 0)
                {
                    match = 1;
                    break;
                }
            }
        }

        if (match != d[i].negate) {
            return &d[i];
        }
    }

    return NULL;
}


/* the item of a comma-joined list at *pos, and *pos past it */

ngx_int_t
ngx_http_es_api_next_item(u_char **pos, u_char *last, ngx_str_t *item)
{
    u_char  *p, *comma;

    p = *pos;

    if (p >= last) {
        return NGX_DONE;
    }

    comma = ngx_strlchr(p, last, ',');
    if (comma == NULL) {
        comma = last;
    }

    item->data = p;
    item->len = comma - p;

    *pos = comma + 1;

    return NGX_OK;
}


/* changes: the file first, then the zone ********************************/

/*
 * Under the lock of FILE.lock, which orders this change against other
 * workers and against the master reading the file: check that the
 * caller's credential still holds, rewrite the file, change the zone.
 * When the file cannot be written, the zone is left alone.
 */

ngx_int_t
ngx_http_es_api_change(ngx_pool_t *pool, ngx_log_t *log,
    ngx_http_es_api_zone_t *zone, ngx_http_es_api_change_t *ch)
{
    ngx_fd_t   fd;
    ngx_int_t  rc;

    if (ngx_http_es_keyfile_lock((ngx_cycle_t *) ngx_cycle, &zone->lock, 1,
                                 log, NGX_LOG_ERR, &fd)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    rc = ngx_http_es_api_check(zone, ch);

    if (rc == NGX_DECLINED) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "embed_session_api_keys: zone \"%V\" was replaced by "
                      "a reload that changed its size: \"%V\" not changed, "
                      "the request may be repeated", &zone->shm_zone->shm.name,
                      &ch->id);
        rc = NGX_ERROR;
    }

    if (rc == NGX_HTTP_ES_PASSED && !ch->dry) {
        rc = ngx_http_es_keyfile_rewrite(pool, log, zone, ch);

        if (rc == NGX_OK) {
            ngx_http_es_api_apply(log, zone, ch);
            rc = NGX_HTTP_ES_PASSED;

        } else {
            rc = NGX_ERROR;
        }
    }

    ngx_http_es_keyfile_unlock(fd, &zone->lock, log);

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


/*
 * NGX_DECLINED: the zone is retired, the new cycle's zone would not see
 * the change (ngx_http_es_api_init_module())
 */

static ngx_int_t
ngx_http_es_api_check(ngx_http_es_api_zone_t *zone,
    ngx_http_es_api_change_t *ch)
{
    ngx_int_t               rc;
    ngx_str_t               id, s;
    ngx_http_es_api_rec_t  *rec;

    ngx_shmtx_lock(&zone->shpool->mutex);

    if (zone->sh->retired) {
        rc = NGX_DECLINED;
        goto done;
    }

    rc = NGX_HTTP_ES_PASSED;

    /* another node's change (apikey_redis.c): by ID, done once */

    rec = ch->remote ? ngx_http_es_api_find_id(zone->sh, &ch->id)
                     : ngx_http_es_api_caller(zone->sh, ch);

    if (rec == NULL) {
        rc = NGX_HTTP_ES_API_KEY_INVALID;
        goto done;
    }

    if (ch->remote) {
        if (ch->revoke ? rec->revoked
                       : ngx_http_es_api_regenerated(rec, ch))
        {
            rc = NGX_DONE;
            goto done;
        }

        if (ch->revoke) {
            goto done;
        }

        goto prefixes;
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

prefixes:

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
ngx_http_es_api_apply(ngx_log_t *log, ngx_http_es_api_zone_t *zone,
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

    rec = ch->remote ? ngx_http_es_api_find_id(zone->sh, &ch->id)
                     : ngx_http_es_api_caller(zone->sh, ch);

    if (rec && !ch->remote) {
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

        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "embed_session_api_keys: entry \"%V\" changed in "
                      "\"%V\" but no longer in zone \"%V\"", &ch->id,
                      &zone->file, &zone->shm_zone->shm.name);
        return;
    }

    /* whose sessions end with a revoked key */

    ngx_http_es_api_str(rec, NGX_HTTP_ES_API_STR_OWNER, &ch->owner);

    if (ch->owner.len <= NGX_HTTP_ES_API_OWNER_MAX) {
        ngx_memcpy(ch->owner_data, ch->owner.data, ch->owner.len);
        ch->owner.data = ch->owner_data;

    } else {
        ngx_str_null(&ch->owner);
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
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "embed_session_api_keys: entry \"%V\" changed under "
                      "a reload: its new key works after the next reload",
                      &ch->id);
    }
}


/* with the mutex held: the record has the new credentials already */

static ngx_uint_t
ngx_http_es_api_regenerated(ngx_http_es_api_rec_t *rec,
    ngx_http_es_api_change_t *ch)
{
    ngx_str_t  s;

    ngx_http_es_api_str(rec, NGX_HTTP_ES_API_STR_LOOKUP, &s);

    if (s.len != ch->new_lookup.len
        || ngx_memcmp(s.data, ch->new_lookup.data, s.len) != 0
        || ngx_memcmp(rec->hash, ch->new_hash, NGX_HTTP_ES_API_HASH_LEN) != 0)
    {
        return 0;
    }

    if (!rec->has_id_key) {
        return 1;
    }

    ngx_http_es_api_str(rec, NGX_HTTP_ES_API_STR_ID_LOOKUP, &s);

    return s.len == ch->new_id_lookup.len
           && ngx_memcmp(s.data, ch->new_id_lookup.data, s.len) == 0
           && ngx_memcmp(rec->id_hash, ch->new_id_hash,
                         NGX_HTTP_ES_API_HASH_LEN) == 0;
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


/* wall clock in ms: compared between processes, so not the cached time */

uint64_t
ngx_http_es_api_msec(void)
{
    struct timeval  tv;

    ngx_gettimeofday(&tv);

    return (uint64_t) tv.tv_sec * 1000 + tv.tv_usec / 1000;
}
