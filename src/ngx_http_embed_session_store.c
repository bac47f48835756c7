
/*
 * Copyright (C) The ngx_http_embed_session_module authors
 *
 * The session store zone: its records, their ids, and what requests ask.
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
 * The zone's directive is in ngx_http_embed_session_store_conf.c, its
 * state file in ngx_http_embed_session_state.c (reading and writing) and
 * ngx_http_embed_session_state_format.c (the bytes).
 */


#include "ngx_http_embed_session_module.h"
#include "ngx_http_embed_session_jws.h"
#include "ngx_http_embed_session_store.h"
#include "ngx_http_embed_session_state.h"


/* records moved into their place in a queue, at most this far from the
 * tail; further, a revoked record waits behind the tail */
#define NGX_HTTP_ES_STORE_SCAN       64


static ngx_int_t ngx_http_es_store_copy_old(ngx_http_es_store_t *store,
    ngx_uint_t *copied);
static void ngx_http_es_store_rbtree_insert(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel);
static void ngx_http_es_store_owner_insert(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel);
static ngx_int_t ngx_http_es_store_merge_node_locked(
    ngx_http_es_store_t *store, ngx_http_es_store_rec_t *rec,
    u_char *payload, time_t now, ngx_http_es_store_node_t **np);
static ngx_http_es_store_node_t *ngx_http_es_store_lookup(
    ngx_http_es_store_sh_t *sh, u_char *id, time_t now);
static ngx_http_es_store_owner_t *ngx_http_es_store_owner_locked(
    ngx_http_es_store_t *store, u_char *owner, ngx_uint_t create);
static ngx_http_es_store_node_t *ngx_http_es_store_alloc_locked(
    ngx_http_es_store_t *store, ngx_http_es_store_rec_t *rec,
    u_char *payload, time_t now);
static void ngx_http_es_store_link(ngx_http_es_store_t *store,
    ngx_http_es_store_node_t *n);
static void ngx_http_es_store_queue(ngx_http_es_store_sh_t *sh,
    ngx_http_es_store_node_t *n);
static void ngx_http_es_store_free_locked(ngx_http_es_store_t *store,
    ngx_http_es_store_node_t *n);
static void ngx_http_es_store_count(ngx_http_es_store_sh_t *sh,
    ngx_http_es_store_rec_t *rec, ngx_int_t n);
static void ngx_http_es_store_full(ngx_http_es_store_t *store,
    ngx_log_t *log);
static ngx_int_t ngx_http_es_store_room_locked(ngx_http_es_store_t *store,
    u_char *owner, time_t now);


/*
 * The tag of store zones: a zone of another kind of this module (API keys,
 * counters) that takes a store's name and size in a reload is not reused.
 */
static ngx_uint_t  ngx_http_es_store_tag;


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


ngx_int_t
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


/* the stores of a cycle: NULL when it has none */

ngx_array_t *
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


/* ids: UUIDs in lower-case canonical form, as the module makes them */

ngx_int_t
ngx_http_es_id_parse(u_char *id, u_char *text, size_t len)
{
    ngx_uint_t  i, k, n;

    if (len != NGX_HTTP_ES_ID_TEXT_LEN) {
        return NGX_ERROR;
    }

    /* 8-4-4-4-12 hex digits */

    for (i = 0, k = 0; i < NGX_HTTP_ES_ID_TEXT_LEN; i += n + 1, k += n / 2) {
        n = (i == 0) ? 8 : (i == 24) ? 12 : 4;

        if ((i && text[i - 1] != '-')
            || ngx_http_es_unhex(id + k, text + i, n / 2) != NGX_OK)
        {
            return NGX_ERROR;
        }
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
 * zone lost state (state_loss=revoke), NGX_AGAIN: the backend's feed is
 * older than stale=, NGX_DONE: with a backend, a generation not known
 * here issued in the same second as the one known: another node's refresh
 * the feed may not have brought yet, or an older generation
 */

ngx_int_t
ngx_http_es_store_check(ngx_http_es_store_t *store, u_char *sid,
    u_char *jti, time_t iat)
{
    ngx_int_t                  rc;
    ngx_http_es_store_node_t  *n;

    /*
     * With a backend, the zone is a copy that the feed keeps: trusted
     * while the feed answered within stale=
     */

    /*
     * signed: the feed's worker may have seen it after this worker's
     * cached time
     */

    if (store->backend
        && (!store->sh->feed.synced
            || (ngx_msec_int_t) (ngx_current_msec - store->sh->feed.seen)
               > (ngx_msec_int_t) store->stale))
    {
        return NGX_AGAIN;
    }

    rc = NGX_OK;

    ngx_shmtx_lock(&store->shpool->mutex);

    n = ngx_http_es_store_lookup(store->sh, sid, ngx_time());

    if (n) {
        if (n->rec.flags & NGX_HTTP_ES_STORE_REVOKED) {
            rc = NGX_DECLINED;

        } else if (ngx_memcmp(n->rec.gen, jti, NGX_HTTP_ES_ID_LEN) != 0
                   && (!(n->rec.flags & NGX_HTTP_ES_STORE_TICKET)
                       || (n->rec.flags & NGX_HTTP_ES_STORE_EXCHANGED))
                   && !(store->backend && iat > n->rec.iat))
        {
            /*
             * With a backend, a generation issued after the one known
             * here is another node's refresh the feed has not brought yet;
             * one of the same second (iat is in seconds) may be, unless it
             * is the generation known to be replaced
             */

            rc = (store->backend && iat == n->rec.iat
                  && ngx_memcmp(n->rec.prev, jti, NGX_HTTP_ES_ID_LEN) != 0)
                 ? NGX_DONE : NGX_BUSY;
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

    now = ngx_time();

    /* the first token's exp: a revoked session is kept at least that long */

    rec->horizon = ngx_max(rec->horizon, rec->exp);

    ngx_shmtx_lock(&store->shpool->mutex);

    if (ngx_http_es_store_room_locked(store, rec->owner, now) != NGX_OK) {
        rc = NGX_BUSY;
        goto done;
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
    ngx_http_es_store_node_t  *n;

    ngx_shmtx_lock(&store->shpool->mutex);

    n = ngx_http_es_store_lookup(store->sh, rot->sid, rot->now);

    rc = ngx_http_es_store_rotate_rec(n ? &n->rec : NULL, rot);

    if (rc == NGX_HTTP_ES_ROTATED) {
        store->sh->changes++;

    } else if (rc == NGX_HTTP_ES_REUSED) {
        ngx_http_es_store_revoke_locked(store, n);
        store->sh->changes++;
    }

    ngx_shmtx_unlock(&store->shpool->mutex);

    return rc;
}


/*
 * A rotation decided on a record, changed in place when ROTATED; on
 * REUSED, the caller revokes the family
 */

ngx_http_es_rotate_rc_t
ngx_http_es_store_rotate_rec(ngx_http_es_store_rec_t *rec,
    ngx_http_es_rotate_t *rot)
{
    ngx_http_es_rotate_rc_t  rc;

    if (rec == NULL
        || ((rec->flags & NGX_HTTP_ES_STORE_TICKET)
            && !(rec->flags & NGX_HTTP_ES_STORE_EXCHANGED))
        || (rot->has_owner && !ngx_http_es_store_owns(rec, rot->owner)))
    {
        return NGX_HTTP_ES_FAMILY_UNKNOWN;
    }

    if (rec->flags & NGX_HTTP_ES_STORE_REVOKED) {
        return NGX_HTTP_ES_FAMILY_REVOKED;
    }

    if (ngx_memcmp(rec->gen, rot->jti, NGX_HTTP_ES_ID_LEN) == 0) {

        if (rot->now >= rec->end) {
            return NGX_HTTP_ES_FAMILY_ENDED;
        }

        ngx_memcpy(rec->prev, rec->gen, NGX_HTTP_ES_ID_LEN);
        ngx_memcpy(rec->gen, rot->next, NGX_HTTP_ES_ID_LEN);
        rec->rotated = rot->now;
        rec->iat = rot->now;
        rec->exp = ngx_min(rot->now + rot->ttl, rec->end);
        rec->horizon = ngx_max(rec->horizon, rec->exp);
        rec->seq++;

        rc = NGX_HTTP_ES_ROTATED;

    } else if (rec->seq && rot->grace
               && ngx_memcmp(rec->prev, rot->jti, NGX_HTTP_ES_ID_LEN) == 0
               && rot->now - rec->rotated <= rot->grace)
    {
        rc = NGX_HTTP_ES_REPEATED;

    } else {
        /* a replaced generation presented again: the family is stolen */

        return NGX_HTTP_ES_REUSED;
    }

    ngx_memcpy(rot->gen, rec->gen, NGX_HTTP_ES_ID_LEN);
    rot->iat = rec->iat;
    rot->exp = rec->exp;
    rot->end = rec->end;

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

    if (n && ngx_http_es_store_owns(&n->rec, owner)) {
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
    size_t                      len;
    ngx_uint_t                  requeue;
    ngx_http_es_store_sh_t     *sh;
    ngx_http_es_store_rec_t     copy;
    ngx_http_es_store_node_t   *n;
    ngx_http_es_exchange_rc_t   rc;

    sh = store->sh;

    ngx_shmtx_lock(&store->shpool->mutex);

    n = ngx_http_es_store_lookup(sh, id, now);

    if (n) {
        copy = n->rec;
    }

    rc = ngx_http_es_store_exchange_rec(n ? &copy : NULL, owner, now, leeway);

    if (rc == NGX_HTTP_ES_TICKET_OK) {
        ngx_memcpy(payload, n->payload, n->rec.payload_len);

        *rec = n->rec;
        rec->iat = copy.iat;
        rec->exp = copy.exp;

        /*
         * The ticket becomes the session it was exchanged for: used first,
         * its claims freed last, so that a worker killed half-way leaves
         * at worst memory that is not freed
         */

        claims = n->payload;
        len = n->rec.payload_len;
        requeue = (copy.expires != n->rec.expires);

        ngx_http_es_store_count(sh, &n->rec, -1);

        if (requeue) {
            ngx_queue_remove(&n->queue);
        }

        n->rec = copy;
        n->payload = NULL;

        if (requeue) {
            ngx_http_es_store_queue(sh, n);
        }

        ngx_http_es_store_count(sh, &n->rec, 1);

        sh->payload -= len;
        ngx_slab_free_locked(store->shpool, claims);

        sh->changes++;
    }

    ngx_shmtx_unlock(&store->shpool->mutex);

    return rc;
}


/* an exchange decided on a record, changed in place when TICKET_OK */

ngx_http_es_exchange_rc_t
ngx_http_es_store_exchange_rec(ngx_http_es_store_rec_t *rec, u_char *owner,
    time_t now, time_t leeway)
{
    if (rec == NULL || !(rec->flags & NGX_HTTP_ES_STORE_TICKET)
        || (rec->flags & NGX_HTTP_ES_STORE_REVOKED)
        || !ngx_http_es_store_owns(rec, owner))
    {
        return NGX_HTTP_ES_TICKET_UNKNOWN;
    }

    if (rec->flags & NGX_HTTP_ES_STORE_EXCHANGED) {
        return NGX_HTTP_ES_TICKET_USED;
    }

    if (now >= rec->end) {
        return NGX_HTTP_ES_TICKET_EXPIRED;
    }

    rec->flags |= NGX_HTTP_ES_STORE_EXCHANGED;
    rec->payload_len = 0;

    ngx_memcpy(rec->gen, rec->id, NGX_HTTP_ES_ID_LEN);
    rec->iat = now;
    rec->exp = now + rec->ttl;
    rec->end = rec->exp;
    rec->horizon = rec->exp;
    rec->expires = ngx_max(rec->expires, rec->exp + leeway);

    return NGX_HTTP_ES_TICKET_OK;
}


/* a revocation decided on a record: what revoke_locked() does to it */

void
ngx_http_es_store_revoke_rec(ngx_http_es_store_rec_t *rec, time_t leeway)
{
    if (!(rec->flags & NGX_HTTP_ES_STORE_REVOKED)) {
        rec->flags |= NGX_HTTP_ES_STORE_REVOKED;
        rec->expires = ngx_min(rec->expires, rec->horizon + leeway);
    }
}


/* owner NULL: anybody's */

ngx_int_t
ngx_http_es_store_owns(ngx_http_es_store_rec_t *rec, u_char *owner)
{
    return owner == NULL
           || ngx_memcmp(rec->owner, owner, NGX_HTTP_ES_OWNER_LEN) == 0;
}


/* the zone's copy of a record, its claims into payload (TICKET_MAX) */

ngx_int_t
ngx_http_es_store_read(ngx_http_es_store_t *store, u_char *id,
    ngx_http_es_store_rec_t *rec, u_char *payload, uint32_t *version)
{
    ngx_int_t                  rc;
    ngx_http_es_store_node_t  *n;

    rc = NGX_DECLINED;

    ngx_shmtx_lock(&store->shpool->mutex);

    n = ngx_http_es_store_lookup(store->sh, id, 0);

    if (n) {
        *rec = n->rec;
        *version = n->version;

        if (n->rec.payload_len) {
            ngx_memcpy(payload, n->payload, n->rec.payload_len);
        }

        rc = NGX_OK;
    }

    ngx_shmtx_unlock(&store->shpool->mutex);

    return rc;
}


/*
 * A record as the backend has it, at a version, merged into the zone:
 * the merge of a state file, which keeps what is later of both
 * (revocations, exchanges, rotations); NGX_AGAIN: the zone is full
 */

ngx_int_t
ngx_http_es_store_apply(ngx_http_es_store_t *store,
    ngx_http_es_store_rec_t *rec, u_char *payload, uint32_t version,
    ngx_log_t *log)
{
    ngx_int_t                  rc;
    ngx_http_es_store_node_t  *n;

    ngx_shmtx_lock(&store->shpool->mutex);

    rc = ngx_http_es_store_merge_node_locked(store, rec, payload, ngx_time(),
                                             &n);

    if (rc == NGX_OK) {
        if (n && version > n->version) {
            n->version = version;
        }

        store->sh->changes++;
    }

    ngx_shmtx_unlock(&store->shpool->mutex);

    if (rc == NGX_AGAIN) {
        ngx_http_es_store_full(store, log);
    }

    return rc;
}


/* NGX_OK: the owner may have one more record (per_key=), else NGX_BUSY */

ngx_int_t
ngx_http_es_store_room(ngx_http_es_store_t *store, u_char *owner)
{
    ngx_int_t  rc;

    ngx_shmtx_lock(&store->shpool->mutex);

    rc = ngx_http_es_store_room_locked(store, owner, ngx_time());

    ngx_shmtx_unlock(&store->shpool->mutex);

    return rc;
}


static ngx_int_t
ngx_http_es_store_room_locked(ngx_http_es_store_t *store, u_char *owner,
    time_t now)
{
    ngx_http_es_store_owner_t  *o;

    if (store->per_key == 0) {
        return NGX_OK;
    }

    o = ngx_http_es_store_owner_locked(store, owner, 0);

    if (o && o->records >= store->per_key) {
        (void) ngx_http_es_store_expire_locked(store, now);

        o = ngx_http_es_store_owner_locked(store, owner, 0);

        if (o && o->records >= store->per_key) {
            store->sh->quota++;
            return NGX_BUSY;
        }
    }

    return NGX_OK;
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
    ngx_msec_int_t              age;
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
    st->synced = 0;
    st->feed_age = 0;
    st->calls = 0;
    st->conflicts = 0;

    if (store->backend) {
        st->synced = sh->feed.synced;
        age = (ngx_msec_int_t) (ngx_current_msec - sh->feed.seen);
        st->feed_age = (sh->feed.seen && age > 0) ? (ngx_uint_t) age : 0;
        st->calls = sh->calls;
        st->conflicts = sh->conflicts;
    }
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

ngx_int_t
ngx_http_es_store_merge_locked(ngx_http_es_store_t *store,
    ngx_http_es_store_rec_t *rec, u_char *payload, time_t now)
{
    ngx_http_es_store_node_t  *n;

    return ngx_http_es_store_merge_node_locked(store, rec, payload, now, &n);
}


/* the same, and the zone's record it made or changed (NULL: none) */

static ngx_int_t
ngx_http_es_store_merge_node_locked(ngx_http_es_store_t *store,
    ngx_http_es_store_rec_t *rec, u_char *payload, time_t now,
    ngx_http_es_store_node_t **np)
{
    u_char                    *claims;
    time_t                     expires;
    ngx_uint_t                 revoked, revoke;
    ngx_http_es_store_sh_t    *sh;
    ngx_http_es_store_node_t  *n;

    sh = store->sh;
    *np = NULL;

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

            *np = n;
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
        *np = n;
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

    *np = n;

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
            n->version = 0;
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

void
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


ngx_uint_t
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
