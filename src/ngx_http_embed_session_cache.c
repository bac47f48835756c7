
/*
 * Copyright (C) The ngx_http_embed_session_module authors
 *
 * A per-worker cache of verified tokens.  Sessions send the same token with
 * every request; a hit skips the signature and the payload parser and
 * nothing else: time, typ, audience, origin and claim checks still run on
 * every request.  A hit needs the exact token bytes and the same key set
 * that verified it, so a changed byte or another location's keys always
 * take the full path.  Failures are never cached.
 */


#include "ngx_http_embed_session_module.h"
#include "ngx_http_embed_session_cache.h"
#include "ngx_http_embed_session_jws.h"


typedef struct {
    u_char                    *data;       /* the token, NULL: empty slot */
    size_t                     len;
    ngx_http_es_keyset_t      *keyset;
    ngx_http_es_token_t        token;
} ngx_http_es_cache_entry_t;


/* per worker process: filled in by requests, never part of configuration */

static ngx_http_es_cache_entry_t  *ngx_http_es_cache;
static ngx_uint_t                  ngx_http_es_cache_mask;


ngx_int_t
ngx_http_es_cache_init(ngx_cycle_t *cycle, ngx_uint_t size)
{
    ngx_uint_t  n;

    if (size == 0) {
        return NGX_OK;
    }

    for (n = 1; n < size; n <<= 1) { /* void */ }

    ngx_http_es_cache = ngx_calloc(n * sizeof(ngx_http_es_cache_entry_t),
                                   cycle->log);
    if (ngx_http_es_cache == NULL) {
        return NGX_ERROR;
    }

    ngx_http_es_cache_mask = n - 1;

    return NGX_OK;
}


static void
ngx_http_es_cache_clear(ngx_http_es_cache_entry_t *e)
{
    if (e->data) {
        ngx_free(e->data);
        ngx_http_es_jws_claims_free(e->token.claims);
        e->data = NULL;
    }
}


void
ngx_http_es_cache_done(void)
{
    ngx_uint_t  i;

    if (ngx_http_es_cache == NULL) {
        return;
    }

    for (i = 0; i <= ngx_http_es_cache_mask; i++) {
        ngx_http_es_cache_clear(&ngx_http_es_cache[i]);
    }

    ngx_free(ngx_http_es_cache);
    ngx_http_es_cache = NULL;
}


/*
 * The slot comes from the end of the token, the signature: uniformly
 * random for honest tokens.  It only picks the slot; whether an entry is
 * a hit is decided by comparing all the bytes.
 */

static ngx_http_es_cache_entry_t *
ngx_http_es_cache_slot(ngx_str_t *token)
{
    size_t  n;

    n = ngx_min(token->len, 32);

    return &ngx_http_es_cache[ngx_murmur_hash2(token->data + token->len - n, n)
                              & ngx_http_es_cache_mask];
}


/*
 * A cached token is another session's secret: compare in constant time,
 * or the time to a mismatch would tell an attacker how much of it he got
 * right.  Only the length may leak.
 */

static ngx_uint_t
ngx_http_es_cache_equal(const u_char *a, const u_char *b, size_t n)
{
    uint64_t  x, y, d;

    /* eight bytes at a time: every byte is looked at, whatever differs */

    d = 0;

    for ( /* void */ ; n >= 8; n -= 8, a += 8, b += 8) {
        ngx_memcpy(&x, a, 8);
        ngx_memcpy(&y, b, 8);
        d |= x ^ y;
    }

    while (n--) {
        d |= *a++ ^ *b++;
    }

    return d == 0;
}


/* on a hit, token is filled in and holds a reference to the claims */

ngx_int_t
ngx_http_es_cache_get(ngx_http_es_keyset_t *keyset, ngx_str_t *data,
    ngx_http_es_token_t *token)
{
    ngx_http_es_cache_entry_t  *e;

    if (ngx_http_es_cache == NULL) {
        return NGX_DECLINED;
    }

    e = ngx_http_es_cache_slot(data);

    if (e->data == NULL || e->keyset != keyset || e->len != data->len
        || !ngx_http_es_cache_equal(e->data, data->data, data->len))
    {
        return NGX_DECLINED;
    }

    *token = e->token;
    token->claims = ngx_http_es_jws_claims_ref(e->token.claims);

    return NGX_OK;
}


void
ngx_http_es_cache_put(ngx_http_es_keyset_t *keyset, ngx_str_t *data,
    ngx_http_es_token_t *token, ngx_log_t *log)
{
    u_char                     *p;
    ngx_http_es_cache_entry_t  *e;

    if (ngx_http_es_cache == NULL || data->len > NGX_HTTP_ES_CACHE_TOKEN_MAX) {
        return;
    }

    p = ngx_alloc(data->len, log);
    if (p == NULL) {
        return;
    }

    e = ngx_http_es_cache_slot(data);

    ngx_http_es_cache_clear(e);

    ngx_memcpy(p, data->data, data->len);

    e->data = p;
    e->len = data->len;
    e->keyset = keyset;
    e->token = *token;
    e->token.claims = ngx_http_es_jws_claims_ref(token->claims);
}
