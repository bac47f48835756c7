
/*
 * Copyright (C) The ngx_http_embed_session_module authors
 *
 * The sessions of API keys that are gone: revoked by the key file, or
 * with a flag of the zone's end_sessions=, ended in every store once the
 * worker that sweeps the stores starts (a start or a reload).  The revoke
 * endpoint ends its key's sessions itself (apikey_auth.c).
 */


#include "ngx_http_embed_session_module.h"
#include "ngx_http_embed_session_apikey.h"
#include "ngx_http_embed_session_apikey_int.h"
#include "ngx_http_embed_session_store.h"


/* a revoked record, or one with an end_sessions= flag, copied out */

typedef struct {
    ngx_str_t                   id;
    ngx_str_t                   owner;
    ngx_uint_t                  revoked;    /* else flagged */
} ngx_http_es_api_gone_t;


static ngx_uint_t ngx_http_es_api_revoked(ngx_http_es_api_zone_t *zone,
    ngx_pool_t *pool, ngx_http_es_api_gone_t **gone);
static ngx_uint_t ngx_http_es_api_flagged(ngx_http_es_api_zone_t *zone,
    ngx_http_es_api_rec_t *rec);


/*
 * The sessions of keys that the key file revoked (a reload): ended once
 * the worker that sweeps the stores starts, as the revoke endpoint ends
 * them at once.  The records are copied out under the mutex: a second
 * reload may rebuild them in the master meanwhile.
 */

void
ngx_http_es_api_end_revoked(ngx_cycle_t *cycle)
{
    u_char                   owner[NGX_HTTP_ES_OWNER_LEN];
    ngx_uint_t               k, n, m;
    ngx_pool_t              *pool;
    ngx_http_es_api_iter_t   it;
    ngx_http_es_api_gone_t  *gone;
    ngx_http_es_api_zone_t  *zone;

    it.part = NULL;

    while ((zone = ngx_http_es_api_zone_next(cycle, &it)) != NULL) {

        pool = ngx_create_pool(NGX_DEFAULT_POOL_SIZE, cycle->log);
        if (pool == NULL) {
            return;
        }

        n = ngx_http_es_api_revoked(zone, pool, &gone);

        for (k = 0; k < n; k++) {
            ngx_http_es_owner(owner, &gone[k].owner);

            m = ngx_http_es_store_revoke_owner(cycle, owner);

            if (m && gone[k].revoked) {
                ngx_log_error(NGX_LOG_NOTICE, cycle->log, 0,
                              "embed_session: %ui sessions of revoked API "
                              "key \"%V\" ended", m, &gone[k].id);

            } else if (m) {
                ngx_log_error(NGX_LOG_NOTICE, cycle->log, 0,
                              "embed_session: %ui sessions of API key "
                              "\"%V\" ended: a flag of end_sessions=\"%V\"",
                              m, &gone[k].id, &zone->end_flags);
            }
        }

        ngx_destroy_pool(pool);
    }
}


/*
 * The IDs and owners of the revoked records and of those with a flag of
 * end_sessions=, in two passes under the mutex (no pool allocation under
 * it): the count, then the copy, of at most that many.
 */

static ngx_uint_t
ngx_http_es_api_revoked(ngx_http_es_api_zone_t *zone, ngx_pool_t *pool,
    ngx_http_es_api_gone_t **gone)
{
    u_char                  *data;
    ngx_str_t                id, owner;
    ngx_uint_t               n, max;
    ngx_queue_t             *q;
    ngx_slab_pool_t         *shpool;
    ngx_http_es_api_rec_t   *rec;
    ngx_http_es_api_gone_t  *g;

    shpool = zone->shpool;

    ngx_shmtx_lock(&shpool->mutex);

    max = 0;

    for (q = ngx_queue_head(&zone->sh->queue);
         q != ngx_queue_sentinel(&zone->sh->queue);
         q = ngx_queue_next(q))
    {
        rec = ngx_queue_data(q, ngx_http_es_api_rec_t, queue);
        max += rec->revoked || ngx_http_es_api_flagged(zone, rec);
    }

    ngx_shmtx_unlock(&shpool->mutex);

    if (max == 0) {
        return 0;
    }

    g = ngx_palloc(pool, max * sizeof(ngx_http_es_api_gone_t));
    data = ngx_pnalloc(pool, max * (NGX_HTTP_ES_API_OWNER_MAX
                                    + NGX_HTTP_ES_API_OWNER_MAX));

    if (g == NULL || data == NULL) {
        return 0;
    }

    n = 0;

    ngx_shmtx_lock(&shpool->mutex);

    for (q = ngx_queue_head(&zone->sh->queue);
         q != ngx_queue_sentinel(&zone->sh->queue) && n < max;
         q = ngx_queue_next(q))
    {
        rec = ngx_queue_data(q, ngx_http_es_api_rec_t, queue);

        if (!rec->revoked && !ngx_http_es_api_flagged(zone, rec)) {
            continue;
        }

        ngx_http_es_api_str(rec, NGX_HTTP_ES_API_STR_ID, &id);
        ngx_http_es_api_str(rec, NGX_HTTP_ES_API_STR_OWNER, &owner);

        if (id.len > NGX_HTTP_ES_API_OWNER_MAX
            || owner.len > NGX_HTTP_ES_API_OWNER_MAX)
        {
            continue;
        }

        g[n].id.data = data;
        g[n].id.len = id.len;
        data = ngx_cpymem(data, id.data, id.len);

        g[n].owner.data = data;
        g[n].owner.len = owner.len;
        data = ngx_cpymem(data, owner.data, owner.len);

        g[n].revoked = rec->revoked;

        n++;
    }

    ngx_shmtx_unlock(&shpool->mutex);

    *gone = g;

    return n;
}


/* a record whose flags= hold one of the zone's end_sessions= flags */

static ngx_uint_t
ngx_http_es_api_flagged(ngx_http_es_api_zone_t *zone,
    ngx_http_es_api_rec_t *rec)
{
    u_char     *p, *last, *e, *elast;
    ngx_str_t   flags, flag, end;

    if (zone->end_flags.len == 0) {
        return 0;
    }

    ngx_http_es_api_str(rec, NGX_HTTP_ES_API_STR_FLAGS, &flags);

    p = flags.data;
    last = p + flags.len;

    while (ngx_http_es_api_next_item(&p, last, &flag) == NGX_OK) {

        e = zone->end_flags.data;
        elast = e + zone->end_flags.len;

        while (ngx_http_es_api_next_item(&e, elast, &end) == NGX_OK) {
            if (flag.len == end.len
                && ngx_memcmp(flag.data, end.data, flag.len) == 0)
            {
                return 1;
            }
        }
    }

    return 0;
}
