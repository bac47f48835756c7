/*
 * Copyright (C) The ngx_http_embed_session_module authors
 *
 * fuzz_state: the session store's state file, read into a real zone.
 *
 * Byte 0 chooses the zone, the rest is the file:
 *
 *   bit 0      signed: the zone has a state_key (the HS256 test key)
 *   bits 1-2   the zone's size: 8 (the least the directive takes), 10, 16
 *              or 64 pages
 *   bit 3      a carry array, as a writer that merges the file passes one
 *              (ngx_http_es_state_take()); else none, as a start
 *              (ngx_http_es_store_load())
 *   bit 4      a leeway of 60 s, else none
 *   bit 5      a zone that read the file an hour before (at FZ_NOW - 3600)
 *              and has written it since, as a writer at its next sync:
 *              its records that expired in that hour can go when the zone
 *              needs room, revoked ones too (a snapshot holds them)
 *
 * An nginx-linked harness (fuzz/README.md): it includes the store's
 * sources (the zone, the state file, its format) for their static
 * functions and links nginx and the rest of the module.  A
 * slab pool is made on a page-aligned buffer as nginx makes a shared zone,
 * the store's trees and queues in it as ngx_http_es_store_init_zone()
 * does; ngx_http_es_state_open() and ngx_http_es_state_parse() read the
 * file.  Every log message is formatted (the log writes nowhere), the
 * slab allocator's own alerts abort, the clock is fixed at FZ_NOW
 * (fuzz_nginx.h).  FZ_TRACE=1 in the environment: what each input did, on
 * stderr.
 *
 * The oracles (abort() when broken):
 *
 * - a model of the format, written from its description (the comment at
 *   the top of ngx_http_embed_session_state_format.c,
 *   t/lib/EmbedSessionState.pm), with its own CRC32 and OpenSSL's HMAC:
 *   open() answers as the model, with the same header fields and
 *   "whole"; the model walks the records as the store must
 *   (after a broken length, the next valid record within the budget of
 *   NGX_HTTP_ES_STATE_RESYNC bytes checked per byte), and parse() must
 *   give its verdict: damaged exactly when the model met a damaged record,
 *   "whole" cleared exactly when the count differs;
 * - the zone's invariant walk, ngx_http_es_store_stats().ok, and after
 *   every record is freed no owner left, counters at 0, every slab page
 *   and every chunk of each size back;
 * - every record the model accepted is in the zone, or in carry, unless it
 *   expired or the zone was full, and kept at least as long as it says
 *   (its expiry; revoked, its last token's plus the leeway, if earlier); a
 *   record alone with its id is there field for field, with its claims;
 *   ids of several records have the highest seq and horizon, are
 *   exchanged if one was, revoked if one was; the id that a damaged
 *   record names is revoked, for a day or its believable expiry (unless
 *   the zone was full); a revoked record whose own expiry has passed
 *   revokes the live record of its id that came before it; a start (no
 *   carry) that could not take a revoked record says the file is damaged;
 *   carry holds only records of the file, as they are in it; and nothing
 *   is in the zone that no record names;
 * - bounded work: the bytes given to CRC32 and HMAC-SHA256, open() at most
 *   the file, parse() at most, per pass, the file plus twice the search's
 *   budget (doubled with a state_key: a record's HMAC is checked after its
 *   CRC32);
 * - a round trip: when the file is accepted as whole, the zone written out
 *   by ngx_http_es_state_build() (the workers' code) is read back, whole,
 *   into a fresh zone, with the same records (ids, flags, generations,
 *   every field) in the zone or carried, the same generation, "since" and
 *   count.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "fuzz_common.h"
#include "fuzz_nginx.h"
#include "ngx_http_embed_session_module.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


/*
 * The store's hashing, counted: the names are taken over before the
 * store's sources are read, so that every call they make comes here.
 */

static size_t  fz_hashed;


static uint32_t
fz_crc32_long(u_char *p, size_t len)
{
    fz_hashed += len;

    return ngx_crc32_long(p, len);
}


static int
fz_jws_sign(ngx_http_es_jws_key_t *key, const unsigned char *in, size_t len,
    unsigned char *sig, size_t *sig_len)
{
    fz_hashed += len;

    return ngx_http_es_jws_sign(key, in, len, sig, sig_len);
}


#define ngx_crc32_long        fz_crc32_long
#define ngx_http_es_jws_sign  fz_jws_sign

#include "../src/ngx_http_embed_session_store.c"
#include "../src/ngx_http_embed_session_state.c"
#include "../src/ngx_http_embed_session_state_format.c"

#undef ngx_crc32_long
#undef ngx_http_es_jws_sign


#define FZ_RSIZE       sizeof(ngx_http_es_store_rec_t)
#define FZ_MAC_LEN     32
#define FZ_YEAR        31536000

static const ngx_uint_t  fz_pages[4] = { 8, 10, 16, 64 };


typedef struct {
    ngx_shm_zone_t              shm_zone;
    ngx_http_es_store_t         store;
    fz_slab_mark_t              mark;       /* in use once made */
} fz_zone_t;


/* a record as the model reads it */

typedef struct {
    size_t                      off;
    ngx_int_t                   rc;         /* NGX_OK, NGX_DECLINED */
    ngx_http_es_store_rec_t     rec;        /* declined: the id it names */
    u_char                     *payload;
} fz_rec_t;


typedef struct {
    ngx_int_t                   open;       /* open()'s answer */
    ngx_uint_t                  version;
    ngx_uint_t                  mac;
    ngx_uint_t                  whole;
    size_t                      rsize;
    size_t                      start;
    size_t                      end;
    uint64_t                    generation;
    time_t                      since;
    uint32_t                    count;

    ngx_uint_t                  n;          /* places a record was read */
    ngx_uint_t                  bad;        /* damaged, skipped or not */
    ngx_uint_t                  broken;     /* none found after one */

    fz_rec_t                   *recs;
    size_t                      nrecs;
    size_t                      nalloc;
} fz_model_t;


/* a record of a zone or of carry, for the round trip */

typedef struct {
    ngx_http_es_store_rec_t    *rec;
    u_char                     *payload;
} fz_ent_t;


static ngx_http_es_jws_key_t   *fz_state_key;
static uint32_t                 fz_crc_table[256];
static int                      fz_ready;
static int                      fz_trace;   /* FZ_TRACE=1 in the env */


static void
fz_setup(void)
{
    uint32_t    c;
    ngx_uint_t  i, k;

    if (fz_ready) {
        return;
    }

    fz_nginx_setup();

    fz_load_keys();
    fz_state_key = fz_keys[NGX_HTTP_ES_JWS_HS256];

    fz_trace = (getenv("FZ_TRACE") != NULL);

    /* the model's CRC32 (IEEE 802.3, reflected), its own table */

    for (i = 0; i < 256; i++) {
        c = (uint32_t) i;

        for (k = 0; k < 8; k++) {
            c = (c & 1) ? 0xedb88320 ^ (c >> 1) : c >> 1;
        }

        fz_crc_table[i] = c;
    }

    fz_ready = 1;
}


static uint32_t
fz_crc32(const u_char *p, size_t len)
{
    uint32_t  crc;

    crc = 0xffffffff;

    while (len--) {
        crc = fz_crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
    }

    return crc ^ 0xffffffff;
}


static int
fz_hmac_ok(const u_char *p, size_t len, const u_char *mac)
{
    u_char        md[EVP_MAX_MD_SIZE];
    unsigned int  mdlen;

    fz_assert(HMAC(EVP_sha256(), fz_hs_secret, sizeof(fz_hs_secret), p, len,
                   md, &mdlen)
              != NULL);
    fz_assert(mdlen == FZ_MAC_LEN);

    return memcmp(md, mac, FZ_MAC_LEN) == 0;
}


/* the model: the header and the trailer */

static void
fz_model_open(fz_model_t *m, const u_char *buf, size_t len, ngx_uint_t mac)
{
    size_t    header, trailer;
    int64_t   since;
    uint32_t  rsize, flags, crc;

    ngx_memzero(m, sizeof(fz_model_t));
    m->open = NGX_DECLINED;

    if (len >= 8 && memcmp(buf, "ESSTATE2", 8) == 0) {
        m->version = 2;
        header = 48;
        m->rsize = 128;

    } else if (len >= 8 && memcmp(buf, "ESSTATE1", 8) == 0) {
        m->version = 1;
        header = 16;
        m->rsize = 120;

    } else {
        return;
    }

    if (len < header) {
        return;
    }

    memcpy(&rsize, buf + 8, 4);
    memcpy(&flags, buf + 12, 4);

    if (rsize != m->rsize || (flags & 1) != mac) {
        return;
    }

    m->open = NGX_OK;
    m->mac = mac;
    m->start = header;
    m->end = len;

    if (m->version == 1) {
        m->whole = 1;
        return;
    }

    memcpy(&m->generation, buf + 16, 8);
    memcpy(&since, buf + 24, 8);
    memcpy(&m->count, buf + 32, 4);

    m->since = (since > 0 && since < NGX_MAX_TIME_T_VALUE) ? since : 0;

    trailer = mac ? FZ_MAC_LEN : 4;

    if (len - header < trailer) {
        return;
    }

    m->end = len - trailer;

    if (mac) {
        m->whole = fz_hmac_ok(buf, m->end, buf + m->end);

    } else {
        memcpy(&crc, buf + m->end, 4);
        m->whole = (fz_crc32(buf, m->end) == crc);
    }
}


/* one record at p: NGX_OK, NGX_DECLINED (skipped), NGX_ERROR (lost) */

static ngx_int_t
fz_model_record(fz_model_t *m, const u_char *buf, size_t p, size_t *stride,
    ngx_http_es_store_rec_t *rec)
{
    size_t    maclen;
    uint32_t  rlen, crc;

    maclen = m->mac ? FZ_MAC_LEN : 0;

    if (m->end - p < 8) {
        return NGX_ERROR;
    }

    memcpy(&rlen, buf + p, 4);
    memcpy(&crc, buf + p + 4, 4);

    if (rlen < m->rsize || rlen - m->rsize > NGX_HTTP_ES_TICKET_MAX) {
        return NGX_ERROR;
    }

    if (m->end - p - 8 < (size_t) rlen + maclen) {
        return NGX_ERROR;
    }

    *stride = 8 + (size_t) rlen + maclen;

    if (fz_crc32(buf + p + 8, rlen) != crc) {
        return NGX_DECLINED;
    }

    if (m->mac && !fz_hmac_ok(buf + p, 8 + (size_t) rlen, buf + p + 8 + rlen))
    {
        return NGX_DECLINED;
    }

    memset(rec, 0, sizeof(ngx_http_es_store_rec_t));
    memcpy(rec, buf + p + 8, m->rsize);

    if (rec->payload_len != rlen - m->rsize
        || (rec->payload_len && !(rec->flags & NGX_HTTP_ES_STORE_TICKET)))
    {
        return NGX_DECLINED;
    }

    if (m->version == 1) {
        /* the release before: a session's tokens end with it, no ticket's */

        rec->horizon = ((rec->flags & NGX_HTTP_ES_STORE_TICKET)
                        && !(rec->flags & NGX_HTTP_ES_STORE_EXCHANGED))
                       ? 0 : rec->end;
    }

    return NGX_OK;
}


/*
 * After a broken length at p: the next valid record within the budget,
 * searched for after the damaged record before p when there is one (its
 * bytes, checked once, count)
 */

static size_t
fz_model_resync(fz_model_t *m, const u_char *buf, size_t declined, size_t p,
    size_t *budget)
{
    size_t                   stride;
    uint32_t                 rlen;
    ngx_http_es_store_rec_t  rec;

    if (declined) {
        *budget -= ngx_min(*budget, p - declined);
        p = declined;
    }

    for (p++; p + 8 <= m->end; p++) {
        memcpy(&rlen, buf + p, 4);

        if (rlen < m->rsize || rlen - m->rsize > NGX_HTTP_ES_TICKET_MAX) {
            continue;
        }

        if (*budget < rlen) {
            return m->end;
        }

        *budget -= rlen;

        if (fz_model_record(m, buf, p, &stride, &rec) == NGX_OK) {
            return p;
        }
    }

    return m->end;
}


static void
fz_model_add(fz_model_t *m, const u_char *buf, size_t p, ngx_int_t rc,
    ngx_http_es_store_rec_t *rec)
{
    fz_rec_t  *r;

    if (m->nrecs == m->nalloc) {
        m->nalloc = m->nalloc ? 2 * m->nalloc : 64;
        m->recs = realloc(m->recs, m->nalloc * sizeof(fz_rec_t));
        fz_assert(m->recs != NULL);
    }

    r = &m->recs[m->nrecs++];

    r->off = p;
    r->rc = rc;
    r->payload = (u_char *) buf + p + 8 + m->rsize;

    if (rc == NGX_OK) {
        r->rec = *rec;
        return;
    }

    /* a damaged record: the id and the expiry that it names */

    memset(&r->rec, 0, sizeof(ngx_http_es_store_rec_t));
    memcpy(&r->rec, buf + p + 8, m->rsize);
}


/* the walk of the records, as parse() must make it */

static void
fz_model_walk(fz_model_t *m, const u_char *buf)
{
    size_t                   p, next, stride, budget, declined;
    ngx_int_t                rc;
    ngx_http_es_store_rec_t  rec;

    declined = 0;
    stride = 0;
    budget = NGX_HTTP_ES_STATE_RESYNC * m->end + 65536;

    for (p = m->start; p < m->end; p += stride) {
        m->n++;

        rc = fz_model_record(m, buf, p, &stride, &rec);

        if (rc == NGX_ERROR) {
            next = fz_model_resync(m, buf, declined, p, &budget);

            if (next == m->end) {
                m->broken = 1;
                return;
            }

            m->bad++;
            declined = 0;
            p = next;
            stride = 0;
            continue;
        }

        declined = (rc == NGX_DECLINED) ? p : 0;

        if (rc == NGX_DECLINED) {
            m->bad++;
        }

        fz_model_add(m, buf, p, rc, &rec);
    }
}


static void
fz_zone_init(fz_zone_t *z, ngx_uint_t pages, ngx_http_es_jws_key_t *key,
    time_t leeway)
{
    size_t                   len;
    ngx_slab_pool_t         *sp;
    ngx_http_es_store_sh_t  *sh;

    ngx_memzero(z, sizeof(fz_zone_t));

    sp = fz_slab_pool_create(pages);

    z->shm_zone.shm.addr = (u_char *) sp;
    z->shm_zone.shm.size = pages * ngx_pagesize;
    ngx_str_set(&z->shm_zone.shm.name, "fz");
    z->shm_zone.data = &z->store;

    /* ngx_http_es_store_init_zone(), a new zone */

    sh = ngx_slab_alloc(sp, sizeof(ngx_http_es_store_sh_t));
    fz_assert(sh != NULL);

    ngx_memzero(sh, sizeof(ngx_http_es_store_sh_t));

    sp->data = sh;
    sp->log_nomem = 0;

    ngx_rbtree_init(&sh->rbtree, &sh->sentinel,
                    ngx_http_es_store_rbtree_insert);
    ngx_rbtree_init(&sh->owners, &sh->owners_sentinel,
                    ngx_http_es_store_owner_insert);
    ngx_queue_init(&sh->expiry);
    ngx_queue_init(&sh->revoked_q);

    len = sizeof(" in embed_session_store_zone \"\"")
          + z->shm_zone.shm.name.len;

    sp->log_ctx = ngx_slab_alloc(sp, len);
    fz_assert(sp->log_ctx != NULL);

    ngx_sprintf(sp->log_ctx, " in embed_session_store_zone \"%V\"%Z",
                &z->shm_zone.shm.name);

    z->store.sh = sh;
    z->store.shpool = sp;
    z->store.shm_zone = &z->shm_zone;
    z->store.name = z->shm_zone.shm.name;
    ngx_str_set(&z->store.state, "/fuzz/state/fz.state");
    z->store.key = key;
    z->store.leeway = leeway;
    z->store.cycle = &fz_nginx_cycle;

    fz_slab_mark(sp, &z->mark);
}


/* the invariant walk, and the counters against the trees */

static void
fz_zone_check(fz_zone_t *z)
{
    ngx_http_es_store_stats_t  st;

    ngx_memzero(&st, sizeof(ngx_http_es_store_stats_t));

    ngx_http_es_store_stats(&z->store, &st);

    fz_assert(st.ok == 1);
    fz_assert(st.used + st.free == st.size);
}


/* every record freed: no owner left, the counters at 0, every page back */

static void
fz_zone_free(fz_zone_t *z)
{
    ngx_queue_t               *q;
    ngx_slab_pool_t           *sp;
    ngx_http_es_store_sh_t    *sh;
    ngx_http_es_store_node_t  *n;

    sh = z->store.sh;
    sp = z->store.shpool;

    ngx_shmtx_lock(&sp->mutex);

    while (!ngx_queue_empty(&sh->expiry)) {
        q = ngx_queue_head(&sh->expiry);
        n = ngx_queue_data(q, ngx_http_es_store_node_t, queue);
        ngx_http_es_store_free_locked(&z->store, n);
    }

    while (!ngx_queue_empty(&sh->revoked_q)) {
        q = ngx_queue_head(&sh->revoked_q);
        n = ngx_queue_data(q, ngx_http_es_store_node_t, queue);
        ngx_http_es_store_free_locked(&z->store, n);
    }

    ngx_shmtx_unlock(&sp->mutex);

    fz_assert(sh->rbtree.root == sh->rbtree.sentinel);
    fz_assert(sh->owners.root == sh->owners.sentinel);
    fz_assert(sh->sessions == 0 && sh->tickets == 0 && sh->revoked == 0);
    fz_assert(sh->payload == 0);

    fz_slab_pool_free(sp, &z->mark);
}


static ngx_http_es_store_node_t *
fz_lookup(fz_zone_t *z, u_char *id)
{
    return ngx_http_es_store_lookup(z->store.sh, id, 0);
}


/* every field but the expiry */

static int
fz_same_but_expires(ngx_http_es_store_rec_t *a, ngx_http_es_store_rec_t *b)
{
    size_t  end;

    end = offsetof(ngx_http_es_store_rec_t, end);

    return memcmp(a, b, offsetof(ngx_http_es_store_rec_t, expires)) == 0
           && memcmp((u_char *) a + end, (u_char *) b + end, FZ_RSIZE - end)
              == 0;
}


static ngx_http_es_state_carry_t *
fz_carried(ngx_array_t *carry, ngx_http_es_store_rec_t *rec)
{
    ngx_uint_t                  i;
    ngx_http_es_state_carry_t  *c;

    if (carry == NULL) {
        return NULL;
    }

    c = carry->elts;

    for (i = 0; i < carry->nelts; i++) {
        if (memcmp(&c[i].rec, rec, FZ_RSIZE) == 0) {
            return &c[i];
        }
    }

    return NULL;
}


/* what the file's records must have left in the zone */

static void
fz_check_records(fz_model_t *m, fz_zone_t *z, ngx_array_t *carry,
    ngx_uint_t before, ngx_int_t parsed)
{
    time_t                      now, since, leeway, keep;
    size_t                      i, j, ok, declined, ended;
    uint16_t                    or_flags;
    uint32_t                    seq;
    int64_t                     horizon;
    ngx_uint_t                  full, found;
    ngx_rbtree_node_t          *node;
    ngx_http_es_store_sh_t     *sh;
    ngx_http_es_store_rec_t    *r;
    ngx_http_es_store_node_t   *n;
    ngx_http_es_state_carry_t  *c;

    sh = z->store.sh;
    now = (time_t) FZ_NOW;
    leeway = z->store.leeway;
    full = sh->full;

    /* the records merged in: those that had not expired when read */
    since = before ? now - 3600 : now;

    /* carry holds records of the file, as they are in it */

    if (carry) {
        c = carry->elts;

        for (i = 0; i < carry->nelts; i++) {
            for (j = 0; j < m->nrecs; j++) {
                if (m->recs[j].rc == NGX_OK
                    && memcmp(&m->recs[j].rec, &c[i].rec, FZ_RSIZE) == 0
                    && c[i].payload == m->recs[j].payload)
                {
                    break;
                }
            }

            fz_assert(j < m->nrecs);
            fz_assert(c[i].rec.expires > now);
        }
    }

    for (i = 0; i < m->nrecs; i++) {
        r = &m->recs[i].rec;
        n = fz_lookup(z, r->id);

        /*
         * How long the zone must keep what the record says: a record of
         * the file till its expiry, a revoked one till its last token's
         * (horizon) after the leeway, if that is earlier; whatever a
         * damaged record names, revoked, till a believable expiry of its,
         * else a day
         */

        if (m->recs[i].rc == NGX_OK) {
            keep = ngx_min(r->expires, r->horizon + leeway);

        } else {
            keep = r->expires;

            if (keep <= now || keep > now + FZ_YEAR) {
                keep = now + 86400;
            }
        }

        if (fz_trace) {
            fprintf(stderr, "fuzz_state: record at %zu: %s, id %02x%02x%02x"
                    "%02x, flags %u, expires %+" PRId64 ", horizon %+"
                    PRId64 ", payload %u, %s\n", m->recs[i].off,
                    m->recs[i].rc == NGX_OK ? "ok" : "damaged",
                    r->id[0], r->id[1], r->id[2], r->id[3],
                    (unsigned) r->flags, (int64_t) (r->expires - now),
                    (int64_t) (r->horizon - now), (unsigned) r->payload_len,
                    n ? "in the zone" : fz_carried(carry, r) ? "carried"
                                                             : "absent");
        }

        if (m->recs[i].rc == NGX_OK && r->expires <= now) {

            /*
             * Nothing to keep; but revoked, it still ends a live record
             * of its id that came before it (a zone writes such a record
             * before it lets it go, and the other zone holds the session)
             */

            if ((r->flags & NGX_HTTP_ES_STORE_REVOKED) && n && !full) {
                for (j = 0; j < i; j++) {
                    if (m->recs[j].rc == NGX_OK
                        && m->recs[j].rec.expires > now
                        && memcmp(m->recs[j].rec.id, r->id,
                                  NGX_HTTP_ES_ID_LEN) == 0)
                    {
                        fz_assert(n->rec.flags & NGX_HTTP_ES_STORE_REVOKED);
                        break;
                    }
                }
            }

            continue;
        }

        if (n == NULL) {

            /*
             * Not in the zone: carried, refused by a full zone, or gone
             * with the records expire_locked() frees, once kept as long
             * as the record says.  The revocation that a damaged record
             * names is not carried: a full zone drops it.
             */

            if (m->recs[i].rc == NGX_OK) {
                fz_assert(fz_carried(carry, r) != NULL
                          || (carry == NULL && full)
                          || keep <= now);

                /* a start never drops a revocation without a word */

                if (carry == NULL && keep > now
                    && (r->flags & NGX_HTTP_ES_STORE_REVOKED))
                {
                    fz_assert(parsed == NGX_DECLINED);
                }

            } else {
                fz_assert(full);
            }

            continue;
        }

        /*
         * Revoked in the file: revoked in the zone.  So is the id that a
         * damaged record names, unless the zone was full when that record
         * came, and a record of the id came later, and found room (after
         * records expired, or an exchange freed claims): the revocation
         * that may have been is not carried, nor tried again.  And in a
         * zone that read the file before, a revoked record that expired
         * may go to make room, and a live one of its id come after it.
         */

        if (m->recs[i].rc == NGX_OK
            && (r->flags & NGX_HTTP_ES_STORE_REVOKED))
        {
            fz_assert((n->rec.flags & NGX_HTTP_ES_STORE_REVOKED)
                      || (before && full));
        }

        if (m->recs[i].rc == NGX_DECLINED) {
            fz_assert((n->rec.flags & NGX_HTTP_ES_STORE_REVOKED) || full);
        }

        /* the others of its id */

        ok = 0;
        declined = 0;
        ended = 0;
        or_flags = 0;
        seq = 0;
        horizon = 0;

        for (j = 0; j < m->nrecs; j++) {
            if (memcmp(m->recs[j].rec.id, r->id, NGX_HTTP_ES_ID_LEN) != 0) {
                continue;
            }

            if (m->recs[j].rc == NGX_DECLINED) {
                declined++;
                continue;
            }

            if (m->recs[j].rec.expires <= since) {
                /* an expired revocation may still end the record */
                ended += (m->recs[j].rec.flags & NGX_HTTP_ES_STORE_REVOKED)
                         ? 1 : 0;
                continue;
            }

            ok++;
            or_flags |= m->recs[j].rec.flags;
            seq = ngx_max(seq, m->recs[j].rec.seq);
            horizon = ngx_max(horizon, m->recs[j].rec.horizon);
        }

        if (full && ok + declined > 1) {
            /* the first of its id may have been refused, or carried */
            continue;
        }

        fz_assert(n->rec.expires >= keep);

        if (m->recs[i].rc == NGX_DECLINED || declined || ended) {
            continue;
        }

        if (ok > 1) {
            fz_assert(n->rec.seq == seq);
            fz_assert(n->rec.horizon == horizon);
            fz_assert((n->rec.flags & NGX_HTTP_ES_STORE_EXCHANGED)
                      == (or_flags & NGX_HTTP_ES_STORE_EXCHANGED));
            continue;
        }

        /* alone with its id: as it is in the file, field for field */

        if (n->rec.flags & NGX_HTTP_ES_STORE_REVOKED) {
            fz_assert(fz_same_but_expires(r, &n->rec));

        } else {
            fz_assert(memcmp(r, &n->rec, FZ_RSIZE) == 0);
        }

        fz_assert((n->payload != NULL) == (r->payload_len != 0));

        if (r->payload_len) {
            fz_assert(memcmp(n->payload, m->recs[i].payload, r->payload_len)
                      == 0);
        }
    }

    /* and nothing in the zone that no record of the file names */

    if (sh->rbtree.root == sh->rbtree.sentinel) {
        return;
    }

    for (node = ngx_rbtree_min(sh->rbtree.root, sh->rbtree.sentinel);
         node;
         node = ngx_rbtree_next(&sh->rbtree, node))
    {
        n = (ngx_http_es_store_node_t *) node;
        found = 0;

        for (j = 0; j < m->nrecs; j++) {
            if (memcmp(m->recs[j].rec.id, n->rec.id, NGX_HTTP_ES_ID_LEN)
                == 0)
            {
                found = 1;
                break;
            }
        }

        fz_assert(found);
    }
}


/* the records of a zone and of carry, for the round trip */

static size_t
fz_entries(fz_zone_t *z, ngx_array_t *carry, fz_ent_t **out)
{
    size_t                      n, i;
    fz_ent_t                   *e;
    ngx_rbtree_node_t          *node;
    ngx_http_es_store_sh_t     *sh;
    ngx_http_es_store_node_t   *sn;
    ngx_http_es_state_carry_t  *c;

    sh = z->store.sh;

    n = sh->sessions + sh->tickets + carry->nelts;

    e = malloc((n ? n : 1) * sizeof(fz_ent_t));
    fz_assert(e != NULL);

    i = 0;

    if (sh->rbtree.root != sh->rbtree.sentinel) {
        for (node = ngx_rbtree_min(sh->rbtree.root, sh->rbtree.sentinel);
             node;
             node = ngx_rbtree_next(&sh->rbtree, node))
        {
            sn = (ngx_http_es_store_node_t *) node;

            fz_assert(i < n);
            e[i].rec = &sn->rec;
            e[i].payload = sn->payload;
            i++;
        }
    }

    c = carry->elts;

    for (n = 0; n < carry->nelts; n++) {
        e[i].rec = &c[n].rec;
        e[i].payload = c[n].payload;
        i++;
    }

    *out = e;

    return i;
}


/* the live records (not expired) of a, each in b; alone, field for field */

static void
fz_same_records(fz_ent_t *a, size_t na, fz_ent_t *b, size_t nb)
{
    size_t  i, j, k, ka, kb, at;

    for (i = 0; i < na; i++) {

        if (a[i].rec->expires <= (time_t) FZ_NOW) {
            continue;
        }

        ka = 0;

        for (k = 0; k < na; k++) {
            if (memcmp(a[k].rec->id, a[i].rec->id, NGX_HTTP_ES_ID_LEN) == 0) {
                ka++;
            }
        }

        kb = 0;
        at = 0;

        for (j = 0; j < nb; j++) {
            if (memcmp(b[j].rec->id, a[i].rec->id, NGX_HTTP_ES_ID_LEN) == 0) {
                kb++;
                at = j;
            }
        }

        fz_assert(kb > 0);

        if (ka > 1 || kb > 1) {
            continue;
        }

        /*
         * A revoked record's expiry is its last token's in a zone, but a
         * queue may keep it past that (NGX_HTTP_ES_STORE_SCAN), and so may
         * the file: read back, it is that of its last token again
         */

        fz_assert(fz_same_but_expires(a[i].rec, b[at].rec));
        fz_assert(a[i].rec->expires == b[at].rec->expires
                  || (a[i].rec->flags & NGX_HTTP_ES_STORE_REVOKED));

        if (a[i].rec->payload_len) {
            fz_assert(memcmp(a[i].payload, b[at].payload,
                             a[i].rec->payload_len)
                      == 0);
        }
    }
}


/*
 * The zone as the workers write it, read back into a fresh zone of the
 * same size: whole, with the same records
 */

static void
fz_round_trip(fz_zone_t *z, ngx_array_t *carry, ngx_http_es_state_file_t *sf,
    ngx_pool_t *pool, ngx_uint_t pages)
{
    u_char                    *file;
    size_t                     len, na, nb;
    uint32_t                   written;
    uint64_t                   generation;
    fz_ent_t                  *a, *b;
    ngx_int_t                  rc;
    fz_zone_t                  z2;
    ngx_uint_t                 changes;
    ngx_array_t               *carry2;
    ngx_http_es_state_file_t   sf2;

    /* as a start takes the file's "since" (ngx_http_es_store_load()) */

    if (sf->since > z->store.sh->since) {
        z->store.sh->since = ngx_min(sf->since, (time_t) FZ_NOW + 1);
    }

    generation = sf->generation + 1;

    file = ngx_http_es_state_build(&z->store, carry, generation, &changes,
                                   &len, &fz_nginx_log);
    fz_assert(file != NULL);

    na = fz_entries(z, carry, &a);

    memcpy(&written, file + 32, 4);

    fz_zone_init(&z2, pages, z->store.key, z->store.leeway);

    carry2 = ngx_array_create(pool, 4, sizeof(ngx_http_es_state_carry_t));
    fz_assert(carry2 != NULL);

    rc = ngx_http_es_state_open(&z2.store, file, len, &sf2, &fz_nginx_log,
                                NGX_LOG_ALERT);
    fz_assert(rc == NGX_OK);
    fz_assert(sf2.version == 2 && sf2.whole);
    fz_assert(sf2.generation == generation);
    fz_assert(sf2.since == z->store.sh->since);
    fz_assert(sf2.count == written && written == na);

    rc = ngx_http_es_state_parse(&z2.store, &sf2, carry2, &fz_nginx_log,
                                 NGX_LOG_ALERT);
    fz_assert(rc == NGX_OK);
    fz_assert(sf2.whole);

    fz_zone_check(&z2);

    /* what one zone holds, or carried, the other does, and back */

    nb = fz_entries(&z2, carry2, &b);

    fz_same_records(a, na, b, nb);
    fz_same_records(b, nb, a, na);

    /* a clean zone takes all that a used one of its size held */

    if (carry->nelts == 0) {
        fz_assert(carry2->nelts == 0 && z2.store.sh->full == 0);
    }

    free(a);
    free(b);
    ngx_free(file);

    fz_zone_free(&z2);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char                    *buf;
    size_t                     len, bound, search;
    time_t                     leeway;
    ngx_int_t                  rc;
    fz_zone_t                  z;
    fz_model_t                 m;
    ngx_uint_t                 opt, pages;
    ngx_pool_t                *pool;
    ngx_array_t               *carry, empty;
    ngx_http_es_jws_key_t     *key;
    ngx_http_es_state_file_t   sf;

    if (size < 1) {
        return 0;
    }

    fz_setup();
    fz_nginx_clock();

    opt = data[0];
    len = size - 1;
    buf = fz_dup(data + 1, len);

    key = (opt & 0x01) ? fz_state_key : NULL;
    pages = fz_pages[(opt >> 1) & 3];
    leeway = (opt & 0x10) ? 60 : 0;

    fz_model_open(&m, buf, len, key != NULL);

    if (m.open == NGX_OK) {
        fz_model_walk(&m, buf);
    }

    fz_zone_init(&z, pages, key, leeway);

    pool = ngx_create_pool(4096, &fz_nginx_log);
    fz_assert(pool != NULL);

    carry = NULL;

    if (opt & 0x08) {
        carry = ngx_array_create(pool, 4, sizeof(ngx_http_es_state_carry_t));
        fz_assert(carry != NULL);
    }

    /* the header and the trailer: one pass over the file at most */

    fz_hashed = 0;

    rc = ngx_http_es_state_open(&z.store, buf, len, &sf, &fz_nginx_log,
                                NGX_LOG_ALERT);

    fz_assert(fz_hashed <= len);
    fz_assert(rc == m.open);

    if (rc != NGX_OK) {
        goto done;
    }

    fz_assert(sf.version == m.version && sf.mac == m.mac);
    fz_assert(sf.whole == m.whole && sf.rsize == m.rsize);
    fz_assert(sf.start == buf + m.start && sf.end == buf + m.end);
    fz_assert(sf.generation == m.generation && sf.since == m.since);
    fz_assert(sf.count == m.count);

    if (opt & 0x20) {
        ((ngx_time_t *) ngx_cached_time)->sec = (time_t) FZ_NOW - 3600;

        (void) ngx_http_es_state_parse(&z.store, &sf, NULL, &fz_nginx_log,
                                       NGX_LOG_ALERT);

        z.store.sh->changes++;
        z.store.sh->persisted = z.store.sh->changes;

        fz_nginx_clock();
        fz_zone_check(&z);
    }

    fz_hashed = 0;

    rc = ngx_http_es_state_parse(&z.store, &sf, carry, &fz_nginx_log,
                                 NGX_LOG_ALERT);

    /*
     * The work: per pass the walk of the file, the search after broken
     * lengths and the record it found read once more; with a state_key
     * the HMAC of a record whose CRC32 matched
     */

    search = NGX_HTTP_ES_STATE_RESYNC * m.end + 65536;
    bound = m.end + 2 * search + 2 * (8 + FZ_RSIZE + NGX_HTTP_ES_TICKET_MAX);
    bound = 2 * bound * (m.mac ? 33 : 16) / 16;

    if (fz_hashed > bound) {
        fprintf(stderr, "fuzz_state: parse() hashed %zu bytes of a file of "
                "%zu, the bound is %zu\n", fz_hashed, len, bound);
        abort();
    }

    fz_zone_check(&z);

    if (m.bad || m.broken) {
        fz_assert(rc == NGX_DECLINED);

    } else if (rc == NGX_DECLINED) {
        /* revoked records that did not fit, and nowhere to carry them */
        fz_assert(carry == NULL && z.store.sh->full);

    } else {
        fz_assert(rc == NGX_OK);
        fz_assert(sf.whole == (m.whole && (m.version == 1 || m.n == m.count)));
    }

    if (fz_trace) {
        fprintf(stderr, "fuzz_state: v%u%s, %zu bytes, zone %u pages%s: "
                "parse %d, whole %u, places %u, records %zu, bad %u%s; "
                "zone %u+%u (%u revoked), full %u, carried %u; hashed %zu "
                "of %zu\n", (unsigned) m.version, m.mac ? " signed" : "",
                len, (unsigned) pages, carry ? ", carry" : "", (int) rc,
                (unsigned) sf.whole, (unsigned) m.n, m.nrecs,
                (unsigned) m.bad, m.broken ? ", broken" : "",
                (unsigned) z.store.sh->sessions,
                (unsigned) z.store.sh->tickets,
                (unsigned) z.store.sh->revoked,
                (unsigned) z.store.sh->full,
                carry ? (unsigned) carry->nelts : 0, fz_hashed, bound);
    }

    fz_check_records(&m, &z, carry, opt & 0x20, rc);

    if (rc == NGX_OK && sf.whole) {
        if (carry == NULL) {
            fz_assert(ngx_array_init(&empty, pool, 1,
                                     sizeof(ngx_http_es_state_carry_t))
                      == NGX_OK);
            carry = &empty;
        }

        fz_round_trip(&z, carry, &sf, pool, pages);
    }

done:

    fz_zone_free(&z);
    ngx_destroy_pool(pool);

    free(m.recs);
    free(buf);

    return 0;
}
