
/*
 * Copyright (C) The ngx_http_embed_session_module authors
 *
 * The session store's state file: when it is read and written, by whom,
 * and how safely.
 *
 * The state file is a snapshot of the zone (its bytes are
 * ngx_http_embed_session_state_format.c's).  One worker writes it when
 * something changed (every "sync"), every process once more when it
 * exits; always as FILE.tmp, fsync, rename, fsync of the directory, under
 * an fcntl lock of FILE.lock.  A writer first merges what the file holds
 * (a union: revoked stays revoked, the later rotation wins), so that two
 * generations of nginx, as in a binary upgrade, or the two zones of a
 * reload that changed the size, never lose each other's changes.
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
#include "ngx_http_embed_session_store.h"
#include "ngx_http_embed_session_state.h"


/* a file larger than its zone by this factor cannot be one of ours */
#define NGX_HTTP_ES_STATE_GROWTH     16
#define NGX_HTTP_ES_STATE_MAX        (1024 * 1024 * 1024)

#define NGX_HTTP_ES_EPOCH_MAGIC      "ESEPOCH1 "


static ngx_int_t ngx_http_es_store_missing(ngx_http_es_store_t *store,
    ngx_uint_t copied, uint64_t high, ngx_uint_t level, ngx_log_t *log);
static void ngx_http_es_state_keep_bad(ngx_http_es_store_t *store,
    ngx_log_t *log);
static ngx_int_t ngx_http_es_store_loss(ngx_http_es_store_t *store,
    ngx_uint_t copied, uint64_t high, const char *why, ngx_log_t *log);
static void ngx_http_es_store_lost(ngx_http_es_store_t *store,
    const char *why, ngx_log_t *log);
static ngx_int_t ngx_http_es_state_read(ngx_http_es_store_t *store,
    ngx_str_t *buf, ngx_log_t *log);
static ngx_int_t ngx_http_es_store_persist(ngx_http_es_store_t *store,
    ngx_uint_t dirty, ngx_log_t *log);
static void ngx_http_es_state_written(ngx_http_es_store_t *store,
    uint64_t generation, ngx_uint_t changes);
static ngx_int_t ngx_http_es_state_take(ngx_http_es_store_t *store,
    ngx_str_t *file, ngx_array_t *carry, uint64_t *generation,
    ngx_uint_t *dirty, ngx_log_t *log);
static ngx_int_t ngx_http_es_state_write(ngx_http_es_store_t *store,
    ngx_str_t *name, ngx_str_t *tmp, u_char *buf, size_t len,
    ngx_log_t *log);
static ngx_fd_t ngx_http_es_state_lock(ngx_http_es_store_t *store,
    ngx_log_t *log);
static void ngx_http_es_state_unlock(ngx_http_es_store_t *store,
    ngx_fd_t fd, ngx_log_t *log);
static ngx_uint_t ngx_http_es_state_changed(ngx_http_es_store_t *store);
static void ngx_http_es_state_seen(ngx_http_es_store_t *store);
static ngx_int_t ngx_http_es_epoch_parse(ngx_http_es_store_t *store,
    uint64_t *gen, ngx_log_t *log);
static ngx_int_t ngx_http_es_store_dir_safe(ngx_str_t *name, ngx_uid_t uid,
    ngx_gid_t gid);
static void ngx_http_es_epoch_write(ngx_http_es_store_t *store,
    ngx_log_t *log);
static void ngx_http_es_store_timer(ngx_event_t *ev);


static ngx_event_t       ngx_http_es_store_event;
static ngx_msec_t        ngx_http_es_store_sync;
static ngx_connection_t  ngx_http_es_store_dumb;   /* the event's "data" */


/*
 * The state file, when the zone is made: start, restart, upgrade, resize.
 * After a reload that resized the zone, the old zone's records are all
 * here: a file older than them adds nothing and is written over.  Without
 * an old zone, the file is all there is, and it must be the latest and
 * whole, else the state is lost.
 */

ngx_int_t
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
        if (ngx_http_es_store_missing(store, copied, high, level, log)
            == NGX_OK)
        {
            return NGX_OK;
        }

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

    if (start) {
        ngx_http_es_state_keep_bad(store, log);
    }

lost:

    return ngx_http_es_store_loss(store, copied, high, lost, log);
}


/*
 * No state file: NGX_OK, a zone that starts empty or writes its records
 * anew; NGX_DECLINED, the epoch says there was one (logged)
 */

static ngx_int_t
ngx_http_es_store_missing(ngx_http_es_store_t *store, ngx_uint_t copied,
    uint64_t high, ngx_uint_t level, ngx_log_t *log)
{
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

    return NGX_DECLINED;
}


/* a damaged file at a start: kept for the operator, a new one comes soon */

static void
ngx_http_es_state_keep_bad(ngx_http_es_store_t *store, ngx_log_t *log)
{
    if (ngx_test_config) {
        return;
    }

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


/*
 * The state file was lost (why): the start stops (state_errors=stop), or
 * goes on with what is left, at the price state_loss= says
 */

static ngx_int_t
ngx_http_es_store_loss(ngx_http_es_store_t *store, ngx_uint_t copied,
    uint64_t high, const char *why, ngx_log_t *log)
{
    ngx_uint_t  start;

    start = (store->state_errors == NGX_HTTP_ES_STATE_START);

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
                      why, &store->state,
                      store->state_loss == NGX_HTTP_ES_LOSS_KEEP
                      ? "keep" : "revoke");
        return NGX_ERROR;
    }

    /* a new file, soon: the damaged one was moved away, or is not ours */

    store->sh->generation = ngx_max(store->sh->generation, high);
    store->sh->changes++;

    ngx_http_es_store_lost(store, why, log);

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
        ngx_http_es_state_written(store, generation + 1, changes);
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
 * A new file of this generation, holding the zone's changes up to this
 * count, is in place.  Monotonic: a slower writer never undoes a newer
 * one's mark.
 */

static void
ngx_http_es_state_written(ngx_http_es_store_t *store, uint64_t generation,
    ngx_uint_t changes)
{
    ngx_http_es_store_sh_t  *sh;

    sh = store->sh;

    ngx_http_es_state_seen(store);

    (void) ngx_atomic_fetch_add(&sh->writes, 1);

    ngx_shmtx_lock(&store->shpool->mutex);

    if (generation > sh->generation) {
        sh->generation = generation;
    }

    if ((ngx_int_t) (changes - sh->persisted) > 0) {
        sh->persisted = changes;
    }

    ngx_shmtx_unlock(&store->shpool->mutex);
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

ngx_int_t
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


/* this process sweeps the stores and writes their state files: one does */

ngx_uint_t
ngx_http_es_store_sweeps(ngx_cycle_t *cycle)
{
    if (ngx_http_es_stores(cycle) == NULL) {
        return 0;
    }

    if (ngx_process == NGX_PROCESS_WORKER) {
        return ngx_worker == 0;
    }

    return ngx_process == NGX_PROCESS_SINGLE;
}


ngx_int_t
ngx_http_es_store_init_process(ngx_cycle_t *cycle)
{
    ngx_msec_t             sync;
    ngx_uint_t             i;
    ngx_array_t           *stores;
    ngx_http_es_store_t  **store;

    if (!ngx_http_es_store_sweeps(cycle)) {
        return NGX_OK;
    }

    /* one worker sweeps and writes, at the shortest sync of the stores */

    stores = ngx_http_es_stores(cycle);
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
