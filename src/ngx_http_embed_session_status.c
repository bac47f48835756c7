
/*
 * Copyright (C) The ngx_http_embed_session_module authors
 *
 * embed_session_status: counters of every worker (kept in a small shared
 * zone, so they survive reloads), the numbers of every store zone and the
 * counters of every Redis server, in the Prometheus text format.
 */


#include "ngx_http_embed_session_module.h"
#include "ngx_http_embed_session_redis.h"
#include "ngx_http_embed_session_response.h"
#include "ngx_http_embed_session_status.h"
#include "ngx_http_embed_session_store.h"


#define NGX_HTTP_ES_METRICS_ZONE      "embed_session_metrics"


typedef struct {
    char                       *name;
    char                       *help;
    size_t                      offset;
} ngx_http_es_counter_t;


typedef struct {
    char                       *name;
    char                       *label;
    char                       *type;
    char                       *help;
    size_t                      offset;
} ngx_http_es_gauge_t;


static ngx_int_t ngx_http_es_metrics_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);


ngx_http_es_metrics_t  *ngx_http_es_metrics;

static ngx_uint_t       ngx_http_es_metrics_tag;    /* its zone's own tag */


static ngx_http_es_counter_t  ngx_http_es_counters[] = {

    { "mints_total", "Session tokens and one-time tickets minted.",
      offsetof(ngx_http_es_metrics_t, mints) },

    { "verifications_total", "Session tokens that passed every check.",
      offsetof(ngx_http_es_metrics_t, verifications) },

    { "refreshes_total", "Sessions refreshed (repeats in the grace window "
      "included).", offsetof(ngx_http_es_metrics_t, refreshes) },

    { "refresh_reuse_total", "Replaced tokens presented again: the session "
      "was revoked.", offsetof(ngx_http_es_metrics_t, reuses) },

    { "revocations_total", "Sessions revoked by session id.",
      offsetof(ngx_http_es_metrics_t, revocations) },

    { "exchanges_total", "One-time tickets exchanged for their token.",
      offsetof(ngx_http_es_metrics_t, exchanges) },

    { NULL, NULL, 0 }
};


/* the numbers of a store zone, all size_t or ngx_uint_t */

#define ngx_http_es_stat(f)  offsetof(ngx_http_es_store_stats_t, f)

static ngx_http_es_gauge_t  ngx_http_es_gauges[] = {

    { "store_bytes_used", "", "gauge", "Bytes of the zone in use (pages).",
      ngx_http_es_stat(used) },

    { "store_bytes_free", "", "gauge", "Bytes of the zone free (pages).",
      ngx_http_es_stat(free) },

    { "store_entries", ",kind=\"session\"", "gauge",
      "Records in the zone: sessions (revoked ones included), pending "
      "tickets, revoked sessions.", ngx_http_es_stat(sessions) },

    { "store_entries", ",kind=\"ticket\"", NULL, NULL,
      ngx_http_es_stat(tickets) },

    { "store_entries", ",kind=\"revoked\"", NULL, NULL,
      ngx_http_es_stat(revoked) },

    { "store_full_total", "", "counter",
      "Records refused because the zone was full.", ngx_http_es_stat(full) },

    { "store_quota_total", "", "counter",
      "Records refused because the API key had per_key= records.",
      ngx_http_es_stat(quota) },

    { "state_generation", "", "gauge",
      "The generation of the state file last written or read.",
      ngx_http_es_stat(generation) },

    { "state_unwritten", "", "gauge",
      "Changes of the zone that no state file holds yet.",
      ngx_http_es_stat(unwritten) },

    { "state_losses_total", "", "counter",
      "Starts that found the state file missing, older than the epoch, "
      "or not whole.", ngx_http_es_stat(losses) },

    { "state_writes_total", "", "counter", "State file snapshots written.",
      ngx_http_es_stat(writes) },

    { "state_write_failures_total", "", "counter",
      "State file snapshots that failed.", ngx_http_es_stat(write_failures) },

    { "store_feed_synced", "", "gauge",
      "1 when the zone has read every record of its backend (backend=), "
      "and follows its feed.", ngx_http_es_stat(synced) },

    { "store_feed_age_ms", "", "gauge",
      "Milliseconds since the backend's feed last answered (backend=).",
      ngx_http_es_stat(feed_age) },

    { "store_backend_calls_total", "", "counter",
      "Scripts run on the backend for changes (backend=): one per change, "
      "one more each time the zone's copy was not current.",
      ngx_http_es_stat(calls) },

    { "store_backend_conflicts_total", "", "counter",
      "Changes decided again because the zone's copy was not current.",
      ngx_http_es_stat(conflicts) },

    { "store_invariant_ok", "", "gauge",
      "1 when a walk of the zone finds its tree, queue and counters "
      "consistent.", ngx_http_es_stat(ok) },

    { NULL, NULL, NULL, NULL, 0 }
};


/* the counters of a Redis server (embed_session_redis), by name */

#define ngx_http_es_redis_stat(f)  offsetof(ngx_http_es_redis_stats_t, f)

static ngx_http_es_gauge_t  ngx_http_es_redis_gauges[] = {

    { "redis_up", "", "gauge", "1 when the last connection a worker made "
      "to the server answered PING, 0 since one failed.",
      ngx_http_es_redis_stat(up) },

    { "redis_connects_total", "", "counter",
      "Connections made that answered AUTH, SELECT and PING.",
      ngx_http_es_redis_stat(connects) },

    { "redis_connect_failures_total", "", "counter",
      "Connections that failed before they were up.",
      ngx_http_es_redis_stat(failures) },

    { "redis_commands_total", "", "counter",
      "Commands written to the server, the handshake's included.",
      ngx_http_es_redis_stat(commands) },

    { "redis_timeouts_total", "", "counter",
      "Connections and commands that timed out (connect_timeout=, "
      "timeout=).", ngx_http_es_redis_stat(timeouts) },

    { "redis_protocol_errors_total", "", "counter",
      "Replies that were not RESP2, of the wrong type, or too large.",
      ngx_http_es_redis_stat(protocol_errors) },

    { NULL, NULL, NULL, NULL, 0 }
};


static u_char *ngx_http_es_status_redis(u_char *p, ngx_array_t *servers,
    ngx_http_es_metrics_t *metrics);


char *
ngx_http_es_status(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_str_t                  name;
    ngx_http_es_main_conf_t   *emcf;
    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_es_status_handler;

    emcf = ngx_http_conf_get_module_main_conf(cf,
                                              ngx_http_embed_session_module);

    if (emcf->metrics) {
        return NGX_CONF_OK;
    }

    ngx_str_set(&name, NGX_HTTP_ES_METRICS_ZONE);

    emcf->metrics = ngx_shared_memory_add(cf, &name, 8 * ngx_pagesize,
                                          &ngx_http_es_metrics_tag);
    if (emcf->metrics == NULL) {
        return NGX_CONF_ERROR;
    }

    emcf->metrics->init = ngx_http_es_metrics_init_zone;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_es_metrics_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_slab_pool_t  *shpool;

    if (data) {
        shm_zone->data = data;
        return NGX_OK;
    }

    shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        shm_zone->data = shpool->data;
        return NGX_OK;
    }

    shm_zone->data = ngx_slab_calloc(shpool, sizeof(ngx_http_es_metrics_t));
    if (shm_zone->data == NULL) {
        return NGX_ERROR;
    }

    shpool->data = shm_zone->data;

    return NGX_OK;
}


ngx_int_t
ngx_http_es_status_handler(ngx_http_request_t *r)
{
    u_char                      *p;
    size_t                       size;
    ngx_int_t                    rc;
    ngx_buf_t                   *b;
    ngx_uint_t                   i, k;
    ngx_chain_t                  out;
    ngx_array_t                 *stores;
    ngx_atomic_t                *a;
    ngx_http_es_store_t        **store;
    ngx_http_es_main_conf_t     *emcf;
    ngx_http_es_metrics_t       *metrics;
    ngx_http_es_store_stats_t   *st;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        if (ngx_http_es_header(r, "Allow", "GET, HEAD") == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    emcf = ngx_http_get_module_main_conf(r, ngx_http_embed_session_module);
    stores = emcf->stores;
    metrics = emcf->metrics->data;

    size = 4096 + NGX_HTTP_ES_NCODES * 128;

    if (stores) {
        store = stores->elts;

        for (i = 0; i < stores->nelts; i++) {
            size += 16 * (128 + store[i]->name.len) + 2048;
        }
    }

    if (emcf->redis) {
        size += 1024 + emcf->redis->nelts * 6
                       * (64 + NGX_HTTP_ES_REDIS_NAME_MAX + NGX_ATOMIC_T_LEN);
    }

    b = ngx_create_temp_buf(r->pool, size);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = b->last;

    for (k = 0; ngx_http_es_counters[k].name; k++) {
        a = (ngx_atomic_t *) ((u_char *) metrics
                              + ngx_http_es_counters[k].offset);

        p = ngx_sprintf(p, "# HELP embed_session_%s %s\n"
                        "# TYPE embed_session_%s counter\n"
                        "embed_session_%s %uA\n",
                        ngx_http_es_counters[k].name,
                        ngx_http_es_counters[k].help,
                        ngx_http_es_counters[k].name,
                        ngx_http_es_counters[k].name, *a);
    }

    p = ngx_cpymem(p, "# HELP embed_session_rejections_total Requests "
                   "answered with an error, by code.\n"
                   "# TYPE embed_session_rejections_total counter\n",
                   sizeof("# HELP embed_session_rejections_total Requests "
                          "answered with an error, by code.\n"
                          "# TYPE embed_session_rejections_total counter\n")
                   - 1);

    for (k = 1; k < NGX_HTTP_ES_NCODES; k++) {
        p = ngx_sprintf(p, "embed_session_rejections_total{code=\"%V\"} "
                        "%uA\n", ngx_http_es_code_name(k),
                        metrics->rejections[k]);
    }

    /* per store zone: each metric's lines together, as the format asks */

    if (stores) {
        store = stores->elts;

        st = ngx_palloc(r->pool,
                        stores->nelts * sizeof(ngx_http_es_store_stats_t));
        if (st == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        for (i = 0; i < stores->nelts; i++) {
            ngx_http_es_store_stats(store[i], &st[i]);
        }

        for (k = 0; ngx_http_es_gauges[k].name; k++) {

            if (ngx_http_es_gauges[k].help) {
                p = ngx_sprintf(p, "# HELP embed_session_%s %s\n"
                                "# TYPE embed_session_%s %s\n",
                                ngx_http_es_gauges[k].name,
                                ngx_http_es_gauges[k].help,
                                ngx_http_es_gauges[k].name,
                                ngx_http_es_gauges[k].type);
            }

            for (i = 0; i < stores->nelts; i++) {
                p = ngx_sprintf(p, "embed_session_%s{zone=\"%V\"%s} %uz\n",
                                ngx_http_es_gauges[k].name, &store[i]->name,
                                ngx_http_es_gauges[k].label,
                                *(size_t *) ((u_char *) &st[i]
                                             + ngx_http_es_gauges[k].offset));
            }
        }
    }

    if (emcf->redis) {
        p = ngx_http_es_status_redis(p, emcf->redis, metrics);
    }

    b->last = p;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = b->last - b->pos;
    ngx_str_set(&r->headers_out.content_type,
                "text/plain; version=0.0.4; charset=utf-8");
    r->headers_out.content_type_len = sizeof("text/plain") - 1;

    if (ngx_http_es_header(r, "Cache-Control", "no-store") == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


/* per Redis server, each metric's lines together */

static u_char *
ngx_http_es_status_redis(u_char *p, ngx_array_t *servers,
    ngx_http_es_metrics_t *metrics)
{
    ngx_uint_t                  i, k;
    ngx_atomic_uint_t           v;
    ngx_http_es_redis_t       **rd;
    ngx_http_es_redis_stats_t  *st;

    rd = servers->elts;

    for (k = 0; ngx_http_es_redis_gauges[k].name; k++) {
        p = ngx_sprintf(p, "# HELP embed_session_%s %s\n"
                        "# TYPE embed_session_%s %s\n",
                        ngx_http_es_redis_gauges[k].name,
                        ngx_http_es_redis_gauges[k].help,
                        ngx_http_es_redis_gauges[k].name,
                        ngx_http_es_redis_gauges[k].type);

        for (i = 0; i < servers->nelts; i++) {
            st = ngx_http_es_redis_stats(metrics, &rd[i]->name);

            v = st ? *(ngx_atomic_t *) ((u_char *) st
                                        + ngx_http_es_redis_gauges[k].offset)
                   : 0;

            p = ngx_sprintf(p, "embed_session_%s{server=\"%V\"} %uA\n",
                            ngx_http_es_redis_gauges[k].name,
                            &rd[i]->name, v);
        }
    }

    return p;
}
