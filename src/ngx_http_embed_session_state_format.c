
/*
 * Copyright (C) The ngx_http_embed_session_module authors
 *
 * The bytes of the session store's state file: a file read into the zone,
 * and the zone made into a file.
 *
 * A header (the generation, a counter that every write raises, and
 * "since"), the records, each with its length and CRC32, and a trailer
 * over the whole file: an HMAC-SHA256 with a state_key, a CRC32 without.
 * When and how a file is read and written is
 * ngx_http_embed_session_state.c's.
 */


#include "ngx_http_embed_session_module.h"
#include "ngx_http_embed_session_jws.h"
#include "ngx_http_embed_session_store.h"
#include "ngx_http_embed_session_state.h"


#define NGX_HTTP_ES_STATE_MAGIC      "ESSTATE2"
#define NGX_HTTP_ES_STATE_MAGIC_V1   "ESSTATE1"
#define NGX_HTTP_ES_STATE_HEADER     48
#define NGX_HTTP_ES_STATE_HEADER_V1  16
#define NGX_HTTP_ES_STATE_REC_V1     120     /* without "horizon" */
#define NGX_HTTP_ES_STATE_MAC_LEN    32
#define NGX_HTTP_ES_STATE_SIGNED     0x01    /* header flags */

/*
 * The bytes checked while looking for a record after a broken length, per
 * byte of the file: a crafted file costs a bounded multiple of a read
 */
#define NGX_HTTP_ES_STATE_RESYNC     8


static ngx_uint_t ngx_http_es_state_revoked(ngx_http_es_store_t *store,
    ngx_http_es_state_file_t *sf, time_t now);
static void ngx_http_es_state_damaged(ngx_http_es_store_t *store,
    ngx_http_es_state_file_t *sf, u_char *p, time_t now);
static ngx_int_t ngx_http_es_state_record(ngx_http_es_store_t *store,
    ngx_http_es_state_file_t *sf, u_char *p, ngx_http_es_store_rec_t *rec,
    size_t *stride, const char **why);
static u_char *ngx_http_es_state_resync(ngx_http_es_store_t *store,
    ngx_http_es_state_file_t *sf, u_char *declined, u_char *p,
    size_t *budget);
static u_char *ngx_http_es_state_copy_locked(ngx_http_es_store_t *store,
    u_char *p, u_char *last, uint32_t *count, ngx_uint_t *grew);
static u_char *ngx_http_es_state_put(ngx_http_es_store_t *store, u_char *p,
    ngx_http_es_store_rec_t *rec, u_char *payload);


/*
 * The header and the trailer: which records there are, and whether the
 * file is whole.  NGX_DECLINED: no record of it can be used.
 */

ngx_int_t
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

ngx_int_t
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

    /* revoked sessions first, then every record */

    lost = ngx_http_es_state_revoked(store, sf, now);

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

            ngx_http_es_state_damaged(store, sf, p, now);

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
 * Revoked sessions first: if the zone cannot hold everything, what it
 * cannot hold must not be a revocation.  The main pass of
 * ngx_http_es_state_parse() reports what is wrong with the file.  Returns
 * the revoked records that the zone could not take.
 */

static ngx_uint_t
ngx_http_es_state_revoked(ngx_http_es_store_t *store,
    ngx_http_es_state_file_t *sf, time_t now)
{
    u_char                   *p, *last, *next, *declined, *buf;
    size_t                    stride, budget;
    ngx_int_t                 rc;
    ngx_uint_t                lost;
    const char               *why;
    ngx_http_es_store_rec_t   rec;

    last = sf->end;
    buf = sf->start - (sf->version == 1 ? NGX_HTTP_ES_STATE_HEADER_V1
                                        : NGX_HTTP_ES_STATE_HEADER);

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

    return lost;
}


/*
 * A damaged record at p may have been a revocation: whatever id it names
 * is revoked, for its expiry if that is believable, else a day
 */

static void
ngx_http_es_state_damaged(ngx_http_es_store_t *store,
    ngx_http_es_state_file_t *sf, u_char *p, time_t now)
{
    ngx_http_es_store_rec_t  rec;

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


/*
 * The bytes of a new file of this generation: the zone's records, copied
 * under the mutex, the carried ones, and the header and trailer (ngx_alloc
 * ()ed; changes: what of the zone it holds).
 */

u_char *
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
