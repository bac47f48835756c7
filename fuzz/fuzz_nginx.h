/*
 * Copyright (C) The ngx_http_embed_session_module authors
 *
 * Shared by the nginx-linked harnesses (fuzz/README.md, "Harnesses that
 * link nginx"): what nginx's main() and ngx_init_cycle() would have set up
 * that the module's parsers use, without a cycle or a configuration.
 *
 * - the page size and the slab allocator's sizes (ngx_os_init());
 * - the clock, fixed at FZ_NOW (fz_nginx_clock(), before every input);
 * - ngx_pid, for the shared memory mutex;
 * - ngx_cycle, with a log for the code that logs to ngx_cycle->log (the
 *   slab allocator): anything at warn or above there aborts, as the slab
 *   allocator's alerts (a bad free, a busy page) are bugs of its callers;
 * - fz_nginx_log, for the code under test: every message is formatted in
 *   full, at every level (the format strings meet hostile data), and goes
 *   nowhere; nothing is written to stderr either;
 * - fz_slab_pool_create(): a slab pool on a page-aligned heap buffer, as
 *   ngx_init_zone_pool() makes one on a shared zone; fz_slab_mark() notes
 *   what is in use once the caller made its own structures, and
 *   fz_slab_pool_free() checks that exactly that is in use again, pages
 *   and chunks of each size (a leak in the zone), and frees the pool
 *   (inline: a harness without a zone, fuzz_keyfile, uses none of them).
 *
 * Include it after <ngx_config.h> and <ngx_core.h>.
 */


#ifndef _FUZZ_NGINX_H_INCLUDED_
#define _FUZZ_NGINX_H_INCLUDED_


#include <stdio.h>
#include <stdlib.h>


#ifndef FZ_NOW
#define FZ_NOW         1700000000LL    /* 2023-11-14T22:13:20Z */
#endif


#define fz_nginx_assert(expr)                                                 \
    do {                                                                      \
        if (!(expr)) {                                                        \
            fprintf(stderr, "%s:%d: invariant failed: %s\n",                  \
                    __FILE__, __LINE__, #expr);                               \
            abort();                                                          \
        }                                                                     \
    } while (0)


#define FZ_SLAB_SLOTS  16


typedef struct {
    ngx_uint_t          pfree;
    ngx_uint_t          used[FZ_SLAB_SLOTS];    /* chunks of each size */
} fz_slab_mark_t;


static ngx_log_t        fz_nginx_log;
static ngx_log_t        fz_nginx_cycle_log;
static ngx_open_file_t  fz_nginx_log_file;
static ngx_cycle_t      fz_nginx_cycle;
static size_t           fz_nginx_logged;     /* bytes formatted */
static int              fz_nginx_ready;


static void
fz_nginx_log_writer(ngx_log_t *log, ngx_uint_t level, u_char *buf,
    size_t len)
{
    fz_nginx_assert(len > 0 && len <= NGX_MAX_ERROR_STR);
    fz_nginx_assert(buf[len - 1] == LF);

    fz_nginx_logged += len;
}


static void
fz_nginx_cycle_writer(ngx_log_t *log, ngx_uint_t level, u_char *buf,
    size_t len)
{
    fprintf(stderr, "fuzz: logged to ngx_cycle->log: %.*s", (int) len, buf);
    abort();
}


static void
fz_nginx_clock(void)
{
    ((ngx_time_t *) ngx_cached_time)->sec = (time_t) FZ_NOW;
}


/* once per process */

static void
fz_nginx_setup(void)
{
    ngx_uint_t  n;

    if (fz_nginx_ready) {
        return;
    }

    ngx_pagesize = getpagesize();

    for (n = ngx_pagesize; n >>= 1; ngx_pagesize_shift++) {
        /* void */
    }

    ngx_slab_sizes_init();
    ngx_time_init();
    fz_nginx_clock();

    ngx_pid = getpid();
    ngx_use_stderr = 0;

    fz_nginx_log_file.fd = NGX_INVALID_FILE;

    fz_nginx_log.log_level = NGX_LOG_DEBUG_ALL;
    fz_nginx_log.file = &fz_nginx_log_file;
    fz_nginx_log.writer = fz_nginx_log_writer;

    fz_nginx_cycle_log.log_level = NGX_LOG_WARN;
    fz_nginx_cycle_log.file = &fz_nginx_log_file;
    fz_nginx_cycle_log.writer = fz_nginx_cycle_writer;

    fz_nginx_cycle.log = &fz_nginx_cycle_log;
    ngx_cycle = &fz_nginx_cycle;

    fz_nginx_ready = 1;
}


/*
 * A slab pool of pages pages, as a new shared zone: the memory is not
 * zeroed (nothing may count on it but the pool's header, which nginx's
 * fresh mapping has at 0)
 */

static ngx_inline ngx_slab_pool_t *
fz_slab_pool_create(ngx_uint_t pages)
{
    size_t            size;
    u_char           *addr;
    ngx_slab_pool_t  *sp;

    size = pages * ngx_pagesize;

    fz_nginx_assert(posix_memalign((void **) &addr, ngx_pagesize, size)
                    == 0);

    memset(addr, 0xa5, size);
    memset(addr, 0, sizeof(ngx_slab_pool_t));

    /* ngx_init_zone_pool() */

    sp = (ngx_slab_pool_t *) addr;
    sp->end = addr + size;
    sp->min_shift = 3;
    sp->addr = addr;

    fz_nginx_assert(ngx_shmtx_create(&sp->mutex, &sp->lock, NULL) == NGX_OK);

    ngx_slab_init(sp);

    return sp;
}


static ngx_inline void
fz_slab_mark(ngx_slab_pool_t *sp, fz_slab_mark_t *mark)
{
    ngx_uint_t  i, n;

    n = ngx_pagesize_shift - sp->min_shift;
    fz_nginx_assert(n <= FZ_SLAB_SLOTS);

    ngx_memzero(mark, sizeof(fz_slab_mark_t));

    mark->pfree = sp->pfree;

    for (i = 0; i < n; i++) {
        mark->used[i] = sp->stats[i].used;
    }
}


static ngx_inline void
fz_slab_pool_free(ngx_slab_pool_t *sp, fz_slab_mark_t *mark)
{
    fz_slab_mark_t  now;

    fz_slab_mark(sp, &now);

    if (ngx_memcmp(&now, mark, sizeof(fz_slab_mark_t)) != 0) {
        fprintf(stderr, "fuzz: the zone leaks: %lu free pages, %lu before\n",
                (unsigned long) now.pfree, (unsigned long) mark->pfree);
        abort();
    }

    ngx_shmtx_destroy(&sp->mutex);

    free(sp->addr);
}


#endif /* _FUZZ_NGINX_H_INCLUDED_ */
