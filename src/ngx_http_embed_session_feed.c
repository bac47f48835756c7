
/*
 * Copyright (C) The ngx_http_embed_session_module authors
 *
 * Feeds: a Redis stream of changes, read into shared memory by worker 0
 * (see ngx_http_embed_session_feed.h).  The reader is a loop of one
 * command at a time on the feed's own connection: the stream's last
 * entry and the owner's full read when the position is not good, then
 * XREAD BLOCK from the position, again and again; every answer, an empty
 * one included, says the feed is current (pos->seen).
 */


#include "ngx_http_embed_session_module.h"
#include "ngx_http_embed_session_feed.h"
#include "ngx_http_embed_session_redis.h"


#define NGX_HTTP_ES_FEED_COUNT        "512"     /* entries of one read */
#define NGX_HTTP_ES_FEED_RETRY        1000      /* after an error, ms */


static void ngx_http_es_feed_up(void *data);
static void ngx_http_es_feed_retry(ngx_event_t *ev);
static void ngx_http_es_feed_next(ngx_http_es_feed_t *feed);
static void ngx_http_es_feed_mark(ngx_http_es_redis_reply_t *reply,
    void *data);
static void ngx_http_es_feed_first(ngx_http_es_redis_reply_t *reply,
    void *data);
static void ngx_http_es_feed_read(ngx_http_es_redis_reply_t *reply,
    void *data);
static ngx_int_t ngx_http_es_feed_id_cmp(u_char *a, size_t alen, u_char *b,
    size_t blen);


ngx_http_es_redis_t *
ngx_http_es_feed_conf(ngx_conf_t *cf, ngx_http_es_redis_t *rd,
    ngx_str_t *name, ngx_msec_t block)
{
    ngx_str_t                 full;
    ngx_http_es_main_conf_t  *emcf;

    emcf = ngx_http_conf_get_module_main_conf(cf,
                                              ngx_http_embed_session_module);

    full.len = rd->name.len + sizeof(":feed:") - 1 + name->len;
    full.data = ngx_pnalloc(cf->pool, full.len);
    if (full.data == NULL) {
        return NULL;
    }

    ngx_sprintf(full.data, "%V:feed:%V", &rd->name, name);

    return ngx_http_es_redis_dedicated(cf, emcf, rd, &full, 0, block);
}


ngx_http_es_feed_t *
ngx_http_es_feed_init(ngx_cycle_t *cycle, ngx_http_es_redis_t *rd,
    ngx_msec_t block)
{
    ngx_http_es_feed_t  *feed;

    feed = ngx_pcalloc(cycle->pool, sizeof(ngx_http_es_feed_t));
    if (feed == NULL) {
        return NULL;
    }

    feed->rd = rd;
    feed->block_len = ngx_sprintf(feed->block, "%M", block) - feed->block;

    feed->retry.handler = ngx_http_es_feed_retry;
    feed->retry.data = feed;
    feed->retry.log = cycle->log;
    feed->retry.cancelable = 1;

    rd->up = ngx_http_es_feed_up;
    rd->up_data = feed;

    return feed;
}


static void
ngx_http_es_feed_up(void *data)
{
    ngx_http_es_feed_t *feed = data;

    if (!feed->busy) {
        ngx_http_es_feed_next(feed);
    }
}


static void
ngx_http_es_feed_retry(ngx_event_t *ev)
{
    ngx_http_es_feed_t *feed = ev->data;

    if (!feed->busy && ngx_http_es_redis_is_up(feed->rd)) {
        ngx_http_es_feed_next(feed);
    }
}


/*
 * What to ask next: the full read, when the thing was never read or the
 * stream lost the position (after the stream's last entry, where the feed
 * goes on); else what was added since the position
 */

static void
ngx_http_es_feed_next(ngx_http_es_feed_t *feed)
{
    ngx_str_t  argv[8];

    /* a worker on its way out asks nothing more: its connection drains */

    if (ngx_exiting || ngx_terminate || ngx_quit) {
        return;
    }

    if (!feed->pos->synced) {
        feed->resync = 1;

        ngx_str_set(&argv[0], "XREVRANGE");
        argv[1] = feed->key;
        ngx_str_set(&argv[2], "+");
        ngx_str_set(&argv[3], "-");
        ngx_str_set(&argv[4], "COUNT");
        ngx_str_set(&argv[5], "1");

        ngx_http_es_feed_call(feed, 6, argv, NGX_HTTP_ES_REDIS_ARRAY,
                              ngx_http_es_feed_mark);
        return;
    }

    if (!feed->checked) {

        /* after a reconnect: is the position still in the stream? */

        feed->checked = 1;

        ngx_str_set(&argv[0], "XRANGE");
        argv[1] = feed->key;
        ngx_str_set(&argv[2], "-");
        ngx_str_set(&argv[3], "+");
        ngx_str_set(&argv[4], "COUNT");
        ngx_str_set(&argv[5], "1");

        ngx_http_es_feed_call(feed, 6, argv, NGX_HTTP_ES_REDIS_ARRAY,
                              ngx_http_es_feed_first);
        return;
    }

    ngx_str_set(&argv[0], "XREAD");
    ngx_str_set(&argv[1], "COUNT");
    ngx_str_set(&argv[2], NGX_HTTP_ES_FEED_COUNT);
    ngx_str_set(&argv[3], "BLOCK");
    argv[4].data = feed->block;
    argv[4].len = feed->block_len;
    ngx_str_set(&argv[5], "STREAMS");
    argv[6] = feed->key;
    argv[7].data = feed->pos->id;
    argv[7].len = feed->pos->id_len;

    ngx_http_es_feed_call(feed, 8, argv,
                          NGX_HTTP_ES_REDIS_ARRAY|NGX_HTTP_ES_REDIS_NIL,
                          ngx_http_es_feed_read);
}


void
ngx_http_es_feed_call(ngx_http_es_feed_t *feed, ngx_uint_t argc,
    ngx_str_t *argv, ngx_uint_t expect, ngx_http_es_redis_handler_pt handler)
{
    ngx_int_t  rc;

    rc = ngx_http_es_redis_call(feed->rd, argc, argv, expect, handler, feed);

    if (rc == NGX_OK) {
        feed->busy = 1;
        return;
    }

    /* not up: the next connection starts it again; else a while later */

    feed->resync = 0;

    if (rc == NGX_ERROR && !feed->retry.timer_set) {
        ngx_add_timer(&feed->retry, NGX_HTTP_ES_FEED_RETRY);
    }
}


/* NGX_OK: the reply may be read; else the feed waits for what comes */

ngx_int_t
ngx_http_es_feed_reply(ngx_http_es_feed_t *feed,
    ngx_http_es_redis_reply_t *reply, const char *what)
{
    feed->busy = 0;

    if (reply->type & (NGX_HTTP_ES_REDIS_TIMEOUT|NGX_HTTP_ES_REDIS_DOWN)) {

        /* logged where the connection closed; it starts again when up */

        feed->resync = 0;
        feed->checked = 0;
        return NGX_ERROR;
    }

    if (reply->type != NGX_HTTP_ES_REDIS_ERROR) {
        return NGX_OK;
    }

    ngx_log_error(NGX_LOG_ERR, feed->retry.log, 0,
                  "embed_session %V: backend \"%V\" refused %s: %V",
                  &feed->what, &feed->rd->name, what, &reply->str);

    feed->resync = 0;
    feed->checked = 0;

    if (!feed->retry.timer_set) {
        ngx_add_timer(&feed->retry, NGX_HTTP_ES_FEED_RETRY);
    }

    return NGX_ERROR;
}


/* a reply of a shape this module does not send for: later, from the top */

void
ngx_http_es_feed_wrong(ngx_http_es_feed_t *feed, const char *what)
{
    ngx_log_error(NGX_LOG_ERR, feed->retry.log, 0,
                  "embed_session %V: backend \"%V\" answered %s wrongly",
                  &feed->what, &feed->rd->name, what);

    feed->busy = 0;
    feed->resync = 0;
    feed->checked = 0;

    if (!feed->retry.timer_set) {
        ngx_add_timer(&feed->retry, NGX_HTTP_ES_FEED_RETRY);
    }
}


/* the stream's last entry: the owner reads in full, the feed goes on here */

static void
ngx_http_es_feed_mark(ngx_http_es_redis_reply_t *reply, void *data)
{
    ngx_http_es_feed_t *feed = data;

    ngx_http_es_redis_reply_t  *entry;

    if (ngx_http_es_feed_reply(feed, reply, "XREVRANGE") != NGX_OK) {
        return;
    }

    feed->mark_len = 3;
    ngx_memcpy(feed->mark, "0-0", 3);

    if (reply->nelts) {
        entry = reply->elts[0];

        if (entry->type != NGX_HTTP_ES_REDIS_ARRAY || entry->nelts != 2
            || entry->elts[0]->type != NGX_HTTP_ES_REDIS_STRING
            || entry->elts[0]->str.len >= NGX_HTTP_ES_FEED_ID_MAX)
        {
            ngx_http_es_feed_wrong(feed, "XREVRANGE");
            return;
        }

        feed->mark_len = entry->elts[0]->str.len;
        ngx_memcpy(feed->mark, entry->elts[0]->str.data, feed->mark_len);
    }

    feed->sync(feed);
}


/* the owner's full read is done: the stream from the mark */

void
ngx_http_es_feed_synced(ngx_http_es_feed_t *feed)
{
    ngx_http_es_feed_pos_t  *pos;

    pos = feed->pos;

    ngx_memcpy(pos->id, feed->mark, feed->mark_len);
    pos->id_len = feed->mark_len;
    pos->seen = ngx_current_msec;
    ngx_memory_barrier();
    pos->synced = 1;

    feed->resync = 0;
    feed->checked = 1;

    ngx_log_error(NGX_LOG_INFO, feed->retry.log, 0,
                  "embed_session %V: read in full from backend \"%V\"",
                  &feed->what, &feed->rd->name);

    ngx_http_es_feed_next(feed);
}


/* after a reconnect: a stream that starts after the position lost some */

static void
ngx_http_es_feed_first(ngx_http_es_redis_reply_t *reply, void *data)
{
    ngx_http_es_feed_t *feed = data;

    ngx_str_t                  *id;
    ngx_http_es_feed_pos_t     *pos;
    ngx_http_es_redis_reply_t  *entry;

    if (ngx_http_es_feed_reply(feed, reply, "XRANGE") != NGX_OK) {
        return;
    }

    pos = feed->pos;

    if (reply->nelts) {
        entry = reply->elts[0];

        if (entry->type == NGX_HTTP_ES_REDIS_ARRAY && entry->nelts == 2
            && entry->elts[0]->type == NGX_HTTP_ES_REDIS_STRING)
        {
            id = &entry->elts[0]->str;

            if (ngx_http_es_feed_id_cmp(id->data, id->len, pos->id,
                                        pos->id_len)
                > 0)
            {
                ngx_log_error(NGX_LOG_WARN, feed->retry.log, 0,
                              "embed_session %V: the stream \"%V\" no "
                              "longer holds what came after %*s: it is "
                              "read in full again", &feed->what, &feed->key,
                              pos->id_len, pos->id);
                pos->synced = 0;
            }
        }
    }

    ngx_http_es_feed_next(feed);
}


/* XREAD: nil, nothing in BLOCK ms; else {{key, {{id, {fields}}...}}} */

static void
ngx_http_es_feed_read(ngx_http_es_redis_reply_t *reply, void *data)
{
    ngx_http_es_feed_t *feed = data;

    ngx_uint_t                  i;
    ngx_str_t                  *id;
    ngx_http_es_feed_pos_t     *pos;
    ngx_http_es_redis_reply_t  *stream, *entries, *entry, *fields;

    if (ngx_http_es_feed_reply(feed, reply, "XREAD") != NGX_OK) {
        return;
    }

    pos = feed->pos;

    if (reply->type == NGX_HTTP_ES_REDIS_ARRAY) {
        if (reply->nelts != 1
            || (stream = reply->elts[0])->type != NGX_HTTP_ES_REDIS_ARRAY
            || stream->nelts != 2
            || (entries = stream->elts[1])->type != NGX_HTTP_ES_REDIS_ARRAY)
        {
            ngx_http_es_feed_wrong(feed, "XREAD");
            return;
        }

        for (i = 0; i < entries->nelts; i++) {
            entry = entries->elts[i];

            if (entry->type != NGX_HTTP_ES_REDIS_ARRAY || entry->nelts != 2
                || entry->elts[0]->type != NGX_HTTP_ES_REDIS_STRING
                || entry->elts[0]->str.len >= NGX_HTTP_ES_FEED_ID_MAX
                || (fields = entry->elts[1])->type != NGX_HTTP_ES_REDIS_ARRAY)
            {
                ngx_http_es_feed_wrong(feed, "XREAD");
                return;
            }

            feed->apply(feed, fields);

            id = &entry->elts[0]->str;

            ngx_memcpy(pos->id, id->data, id->len);
            pos->id_len = id->len;
        }
    }

    pos->seen = ngx_current_msec;

    ngx_http_es_feed_next(feed);
}


/* stream ids, "MS-SEQ": -1, 0, 1 */

static ngx_int_t
ngx_http_es_feed_id_cmp(u_char *a, size_t alen, u_char *b, size_t blen)
{
    u_char    *ad, *bd;
    uint64_t   am, as, bm, bs;

    ad = ngx_strlchr(a, a + alen, '-');
    bd = ngx_strlchr(b, b + blen, '-');

    if (ad == NULL || bd == NULL) {
        return 1;
    }

    am = ngx_atoof(a, ad - a);
    as = ngx_atoof(ad + 1, a + alen - ad - 1);
    bm = ngx_atoof(b, bd - b);
    bs = ngx_atoof(bd + 1, b + blen - bd - 1);

    if (am != bm) {
        return am < bm ? -1 : 1;
    }

    return (as == bs) ? 0 : (as < bs ? -1 : 1);
}
