/*
 * Copyright (C) The ngx_http_embed_session_module authors
 *
 * fuzz_jwks: key loading.  Keys are read at configuration time, but a bad
 * key file must fail "nginx -t" with a message, never crash it.
 *
 * Input framing: byte 0 selects the configured alg= (byte % 12: 0 and 11
 * are none, 1..10 the algs in ngx_http_es_jws_alg_t order); byte 1 bit 0
 * adds kid=, of 6 + (byte 1 >> 1) % 59 bytes (6 to 64, the lengths the
 * module's directive parser lets through; 6 is "fz-kid"); the rest is the
 * key file, given both to jwks_parse() and to pem_parse().
 *
 * Every key handed over is inspected (alg, kid, sig length), a private key
 * signs a message and the signature must have the advertised length, then
 * the harness frees the keys it owns: on success and on failure alike, as
 * the API says the handler owns each key it is given.
 */


#include "fuzz_common.h"


#define FZ_MAX_KEYS  512


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


typedef struct {
    ngx_http_es_jws_alg_t    alg;
    size_t                   kid;       /* kid= length, 0: none */
    size_t                   nkeys;
    ngx_http_es_jws_key_t   *keys[FZ_MAX_KEYS];
} fz_jwks_t;


static const unsigned char  fz_msg[] = "eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjF9";


static const unsigned char  fz_kid[] =
    "fz-kid-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTU";


static void
fz_inspect_key(ngx_http_es_jws_key_t *key, ngx_http_es_jws_alg_t want,
    size_t want_kid)
{
    int                     rc;
    size_t                  len, slen, i;
    uint64_t                sum;
    unsigned char          *sig;
    const unsigned char    *kid;
    ngx_http_es_jws_alg_t   alg;

    alg = ngx_http_es_jws_key_alg(key);
    fz_assert(alg > NGX_HTTP_ES_JWS_ALG_UNKNOWN && alg < FZ_NALGS);

    /* a configured alg binds the key: a JWK may not name another */

    fz_assert(want == NGX_HTTP_ES_JWS_ALG_UNKNOWN || alg == want);

    len = (size_t) -1;
    kid = ngx_http_es_jws_key_kid(key, &len);

    fz_assert(len <= NGX_HTTP_ES_JWS_MAX_KID);
    fz_assert(kid != NULL || len == 0);

    for (sum = 0, i = 0; i < len; i++) {
        sum += kid[i];
    }

    (void) sum;

    /* kid= names the key, and only a key that has no "kid" of its own */

    if (want_kid) {
        fz_assert(len == want_kid && memcmp(kid, fz_kid, len) == 0);
    }

    slen = ngx_http_es_jws_key_sig_length(key);
    fz_assert(slen > 0 && slen <= NGX_HTTP_ES_JWS_MAX_SIG);

    if (!ngx_http_es_jws_key_can_sign(key)) {
        return;
    }

    sig = malloc(slen);
    fz_assert(sig != NULL);

    len = 0;
    rc = ngx_http_es_jws_sign(key, fz_msg, sizeof(fz_msg) - 1, sig, &len);

    if (rc == NGX_HTTP_ES_JWS_OK) {
        fz_assert(len == slen);

        /*
         * a key whose private half does not match its public half fails
         * here; that is a configuration check, not a crash, so it is not
         * asserted
         */

        (void) ngx_http_es_jws_verify(key, fz_msg, sizeof(fz_msg) - 1,
                                      sig, len);
    }

    free(sig);
}


static int
fz_jwks_handler(void *data, ngx_http_es_jws_key_t *key)
{
    fz_jwks_t  *j;

    j = data;

    fz_assert(key != NULL);
    fz_assert(j->nkeys < FZ_MAX_KEYS);

    j->keys[j->nkeys++] = key;

    fz_inspect_key(key, j->alg, j->kid);

    return NGX_HTTP_ES_JWS_OK;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                     rc;
    size_t                  i, len, elen;
    fz_jwks_t              *j;
    unsigned char          *buf;
    ngx_http_es_jws_key_t  *key;
    char                    err[256];

    if (size < 2) {
        return 0;
    }

    j = calloc(1, sizeof(fz_jwks_t));
    fz_assert(j != NULL);

    j->alg = (ngx_http_es_jws_alg_t) (data[0] % 12 == 11 ? 0 : data[0] % 12);
    j->kid = (data[1] & 1) ? 6 + (size_t) (data[1] >> 1) % 59 : 0;

    len = size - 2;
    buf = fz_dup(data + 2, len);

    /* the error buffer is filled with a canary to check termination */

    memset(err, 'Z', sizeof(err));
    elen = sizeof(err) - 8;

    rc = ngx_http_es_jws_jwks_parse(buf, len, j->alg,
                                    j->kid ? fz_kid : NULL, j->kid,
                                    fz_jwks_handler, j, err, elen);

    fz_assert(rc == NGX_HTTP_ES_JWS_OK || rc == NGX_HTTP_ES_JWS_INVALID
              || rc == NGX_HTTP_ES_JWS_ERROR);

    if (rc != NGX_HTTP_ES_JWS_OK) {
        fz_assert(memchr(err, '\0', elen) != NULL);
        fz_assert(err[elen] == 'Z');

    } else {
        fz_assert(j->nkeys > 0);
    }

    for (i = 0; i < j->nkeys; i++) {
        ngx_http_es_jws_key_free(j->keys[i]);
    }

    /* the same bytes as a PEM key file */

    memset(err, 'Z', sizeof(err));
    key = NULL;

    rc = ngx_http_es_jws_pem_parse(buf, len, j->alg,
                                   j->kid ? fz_kid : NULL, j->kid,
                                   &key, err, elen);

    fz_assert(rc == NGX_HTTP_ES_JWS_OK || rc == NGX_HTTP_ES_JWS_INVALID
              || rc == NGX_HTTP_ES_JWS_ERROR);

    if (rc == NGX_HTTP_ES_JWS_OK) {
        fz_assert(key != NULL);
        fz_inspect_key(key, j->alg, j->kid);
        ngx_http_es_jws_key_free(key);

    } else {
        fz_assert(memchr(err, '\0', elen) != NULL);
        fz_assert(err[elen] == 'Z');
    }

    free(buf);
    free(j);

    return 0;
}
