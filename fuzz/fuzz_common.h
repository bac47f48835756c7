/*
 * Copyright (C) The ngx_http_embed_session_module authors
 *
 * Shared by the libFuzzer harnesses: the fixed test keys, loaded once,
 * the fixed clock, and the claims walk that every harness runs after a
 * token verified.  Test keys only: they sign nothing outside fuzz/.
 */


#ifndef _FUZZ_COMMON_H_INCLUDED_
#define _FUZZ_COMMON_H_INCLUDED_


#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <inttypes.h>

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include "ngx_http_embed_session_jws.h"


#define FZ_NOW         1700000000LL    /* 2023-11-14T22:13:20Z */
#define FZ_LEEWAY      30
#define FZ_LIFETIME    86400
#define FZ_NALGS       (NGX_HTTP_ES_JWS_PS256 + 1)


#define fz_assert(expr)                                                       \
    do {                                                                      \
        if (!(expr)) {                                                        \
            fprintf(stderr, "%s:%d: invariant failed: %s\n",                  \
                    __FILE__, __LINE__, #expr);                               \
            abort();                                                          \
        }                                                                     \
    } while (0)


/*
 * The test key set: HS256, EdDSA (Ed25519), ES256 (P-256), RS256
 * (RSA-2048), private JWKs made once with openssl genpkey / openssl rand.
 * fuzz/mkseeds reads this literal to sign the seed tokens.
 */

static const char  fz_jwks[] =
    "{\"keys\":["
    "{\"kty\":\"oct\",\"kid\":\"fz-hs256\",\"alg\":\"HS256\",\"k\":\"v5c-Of"
    "qdoQ8-yl4kYRYH8z2YsxMnvdWQWSYXiUxvT_g\"},"
    "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"kid\":\"fz-eddsa\",\"alg\":\"Ed"
    "DSA\",\"x\":\"SNOTtEn3JDoLnI0BTRtMWFQnBh22fboIoQzSj7NkzLk\",\"d\":\"Vb"
    "DbY5Nh14__tdcvGJJqd9m209hskjcDuTidDO2me3I\"},"
    "{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"fz-es256\",\"alg\":\"ES256"
    "\",\"x\":\"jg_8EtQU7fflR-qjhhFS8DOV_-B1dkZGzEJOj4WbUUg\",\"y\":\"kPTmr"
    "WJmt2SmvgxvjiGcB3b_JlFB_LWuNi3_gutsVIQ\",\"d\":\"RiMiQS-azZNB-feRrMagS"
    "c0KzaI1EO_GTU_BgTjqVwc\"},"
    "{\"kty\":\"RSA\",\"kid\":\"fz-rs256\",\"alg\":\"RS256\",\"n\":\"s-QpPi"
    "5Z-SNuy2bDY-awvg0yQwGzxAe3UVt64Ybxbn-WaVvl9mipeWI_d3qZHKQDzTNfTdAlOK5l"
    "AiVPCNPW6w0VIEu6zj4bM01yM3NQ_xFd8Cf7MzPGMOXvn330teP6Si7mxSvsu3-igFONSp"
    "p16_G1elL2-CCQFraXnK6H4x1oz2SnwZj1BKaBpNJ75KwuurLcG_M8MP0-8DGRz6DRSJJX"
    "leEvkIAFLKZB7YnAZ4dIGYsaURt18av65xuayRxLRCDwR60BezbHr7ZOA50Arc2Ows8BuS"
    "pCvOyp4COCpWOuxo83S9-qjQjasdKf_RMoJLYNDqPwseywgZFwPYS-dw\",\"e\":\"AQA"
    "B\",\"d\":\"F_KdTPJVtvVxF_HXvBJnX_2YvdPZrxSJ4nJHswNIW7nvd5oszHdVbFvYcB"
    "rpjCcHfIdEvjKh6eBJgRYfZeDxoPvuXozGUxNwgo1iURgeZb5Vn5Vq-v9--F573mMhsx8k"
    "4EBLJ194FePhaaz1x8M1RJI6YwztZM3M8MEhANI5M9IqLQLXZLQLOHHsC5TmG1WCA4TaG3"
    "MzJ1W-7F6N3lMibzcCOhWoXS8ttJdBUcztS1-6F6YimfJtkQ011YnMKrWarQPnzt0ClGIj"
    "6zbYV0t6ZynCdjzvr1qxzhEfuemQFfpmQ2-HMEb4-96gxqSKe0y0icS2kiMtg3BQsxNUNm"
    "130Q\",\"p\":\"-UHxGJW_N8ah5-HlAIF0f6AiehWa-qZ84jCjIwIgF5bhdFf4lo_KoiV"
    "jFh7OB2tGC8MLKS8Bn8LCCpt5hqSMXj6f4iheNqtrukajnnA4_eiguIkNLEM-DuYJB0m7Q"
    "924kx7YEPAc5kLzJ1uMsJqLEUpselNgX98XhI9btdM9KGc\",\"q\":\"uMHfHhkaONG1x"
    "Zlo0XycN2ZNI_iLcPUt-aedCdpXFJ3i52ffOWT027TxVktJH0AYK_BhcpNvolmdKr0cqpF"
    "Xl2GnABpxNnzZhiymEoedafbVM4kLRB4xEKZfimD3O2eDT_LWuAkoEIp5VEnHUWEeH36v2"
    "gndmHbCroYvHh0tL3E\",\"dp\":\"4EMhPgJ1giR4RZ6sINFY1P9qJbfMsdoboJMsJHJk"
    "F3VMMhZ4dla3dT34Mc3Thz9QTYLWRt6hMnHTjiGmrKreFGl6BsxVQBDpozatPf8wd9rWyF"
    "GfBYUWj-cOln0TPRN_XvcwZcTz64SvK2kmYzsZBpyUj1b27itWCJHHbQe7Dd8\",\"dq\""
    ":\"A1z8G8cnNAuVPICbaNzU1ylUlCgNGcRMzvOfJzPDTAvHuqCobpoI3wr_Lav3K8t15S7"
    "eB0Dp0lHBS6rfn7c_mfDcImNY1j4Vk5yydTnkwq4MmYCQJPBLwlrU-GbleT5cJJNuFzGLe"
    "imbJc6mAzQ6YSZkOxrc3s6iopystOahEPE\",\"qi\":\"8pa2X-PJrZwa4vhjX-j--8tk"
    "TEp3zECBHlceC_2f5rxGYDyQAfCn8kCOxSmNEZhFt456nIAmxnHwy1FlNAHIiNGNKlZXCb"
    "GL9LRYw1WJ0VkDOlmJZ5BIFwiKwoW0vaQolJbaFMqKvNgzywQWmunWV1jjnnhB5dzkrh4z"
    "0MS1koc\"}"
    "]}";


/*
 * The same keys once more, for the harnesses' own verification (the
 * oracle below): public keys as PEM, the HMAC secret as bytes.
 */

static const char  fz_ed_pub[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MCowBQYDK2VwAyEASNOTtEn3JDoLnI0BTRtMWFQnBh22fboIoQzSj7NkzLk=\n"
    "-----END PUBLIC KEY-----\n";

static const char  fz_es_pub[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEjg/8EtQU7fflR+qjhhFS8DOV/+B1\n"
    "dkZGzEJOj4WbUUiQ9OatYma3ZKa+DG+OIZwHdv8mUUH8ta42Lf+C62xUhA==\n"
    "-----END PUBLIC KEY-----\n";

static const char  fz_rs_pub[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAs+QpPi5Z+SNuy2bDY+aw\n"
    "vg0yQwGzxAe3UVt64Ybxbn+WaVvl9mipeWI/d3qZHKQDzTNfTdAlOK5lAiVPCNPW\n"
    "6w0VIEu6zj4bM01yM3NQ/xFd8Cf7MzPGMOXvn330teP6Si7mxSvsu3+igFONSpp1\n"
    "6/G1elL2+CCQFraXnK6H4x1oz2SnwZj1BKaBpNJ75KwuurLcG/M8MP0+8DGRz6DR\n"
    "SJJXleEvkIAFLKZB7YnAZ4dIGYsaURt18av65xuayRxLRCDwR60BezbHr7ZOA50A\n"
    "rc2Ows8BuSpCvOyp4COCpWOuxo83S9+qjQjasdKf/RMoJLYNDqPwseywgZFwPYS+\n"
    "dwIDAQAB\n"
    "-----END PUBLIC KEY-----\n";

static const unsigned char  fz_hs_secret[32] = {
    0xbf, 0x97, 0x3e, 0x39, 0xfa, 0x9d, 0xa1, 0x0f,
    0x3e, 0xca, 0x5e, 0x24, 0x61, 0x16, 0x07, 0xf3,
    0x3d, 0x98, 0xb3, 0x13, 0x27, 0xbd, 0xd5, 0x90,
    0x59, 0x26, 0x17, 0x89, 0x4c, 0x6f, 0x4f, 0xf8
};


static ngx_http_es_jws_key_t  *fz_keys[FZ_NALGS];
static int                     fz_keys_loaded;


static inline int
fz_key_handler(void *data, ngx_http_es_jws_key_t *key)
{
    ngx_http_es_jws_alg_t  alg;

    (void) data;

    alg = ngx_http_es_jws_key_alg(key);

    fz_assert(alg > NGX_HTTP_ES_JWS_ALG_UNKNOWN && alg < FZ_NALGS);
    fz_assert(fz_keys[alg] == NULL);

    fz_keys[alg] = key;

    return NGX_HTTP_ES_JWS_OK;
}


/* loads the key set once; keys live as long as the process */

static inline void
fz_load_keys(void)
{
    char  err[256];

    if (fz_keys_loaded) {
        return;
    }

    err[0] = '\0';

    if (ngx_http_es_jws_jwks_parse((const unsigned char *) fz_jwks,
                                   sizeof(fz_jwks) - 1,
                                   NGX_HTTP_ES_JWS_ALG_UNKNOWN, NULL, 0,
                                   fz_key_handler, NULL, err, sizeof(err))
        != NGX_HTTP_ES_JWS_OK)
    {
        fprintf(stderr, "fuzz: loading the test keys failed: %s\n", err);
        abort();
    }

    if (fz_keys[NGX_HTTP_ES_JWS_HS256] == NULL
        || fz_keys[NGX_HTTP_ES_JWS_EDDSA] == NULL
        || fz_keys[NGX_HTTP_ES_JWS_ES256] == NULL
        || fz_keys[NGX_HTTP_ES_JWS_RS256] == NULL)
    {
        fprintf(stderr, "fuzz: a test key is missing\n");
        abort();
    }

    fz_keys_loaded = 1;
}


/*
 * The oracle: a signature that check() accepted must also verify with
 * OpenSSL called directly, with the harness's own copy of the key and its
 * own base64url decoding: no forged token may pass check().
 */

static EVP_PKEY  *fz_pub[FZ_NALGS];


static inline EVP_PKEY *
fz_pem_pub(const char *pem)
{
    BIO       *b;
    EVP_PKEY  *k;

    b = BIO_new_mem_buf(pem, -1);
    fz_assert(b != NULL);

    k = PEM_read_bio_PUBKEY(b, NULL, NULL, NULL);
    fz_assert(k != NULL);

    BIO_free(b);

    return k;
}


/* lenient base64url (no padding): what the codec does strictly */

static inline size_t
fz_unb64(unsigned char *dst, const unsigned char *src, size_t len)
{
    int       v;
    size_t    i, n, bits;
    uint32_t  acc;

    acc = 0;
    bits = 0;
    n = 0;

    for (i = 0; i < len; i++) {
        if (src[i] >= 'A' && src[i] <= 'Z') {
            v = src[i] - 'A';
        } else if (src[i] >= 'a' && src[i] <= 'z') {
            v = src[i] - 'a' + 26;
        } else if (src[i] >= '0' && src[i] <= '9') {
            v = src[i] - '0' + 52;
        } else if (src[i] == '-') {
            v = 62;
        } else if (src[i] == '_') {
            v = 63;
        } else {
            return (size_t) -1;
        }

        acc = (acc << 6) | (uint32_t) v;
        bits += 6;

        if (bits >= 8) {
            bits -= 8;
            dst[n++] = (unsigned char) (acc >> bits);
        }
    }

    return n;
}


static inline int
fz_indep_verify(const ngx_http_es_jws_t *jws)
{
    int             ok;
    size_t          n, dlen;
    EVP_PKEY       *pk;
    ECDSA_SIG      *es;
    EVP_MD_CTX     *ctx;
    const EVP_MD   *md;
    BIGNUM         *r, *s;
    unsigned char   sig[NGX_HTTP_ES_JWS_MAX_SIG + 8], der[128], *p;
    unsigned char   mac[EVP_MAX_MD_SIZE];
    unsigned int    maclen;

    if (jws->sig_len > ngx_http_es_jws_b64_encoded_length(sizeof(sig) - 8)) {
        return 0;
    }

    n = fz_unb64(sig, jws->sig, jws->sig_len);
    if (n == (size_t) -1) {
        return 0;
    }

    if (jws->alg == NGX_HTTP_ES_JWS_HS256) {
        if (n != 32
            || HMAC(EVP_sha256(), fz_hs_secret, sizeof(fz_hs_secret),
                    jws->token, jws->signing_input_len, mac, &maclen)
               == NULL)
        {
            return 0;
        }

        return maclen == 32 && CRYPTO_memcmp(mac, sig, 32) == 0;
    }

    if (fz_pub[NGX_HTTP_ES_JWS_EDDSA] == NULL) {
        fz_pub[NGX_HTTP_ES_JWS_EDDSA] = fz_pem_pub(fz_ed_pub);
        fz_pub[NGX_HTTP_ES_JWS_ES256] = fz_pem_pub(fz_es_pub);
        fz_pub[NGX_HTTP_ES_JWS_RS256] = fz_pem_pub(fz_rs_pub);
    }

    pk = fz_pub[jws->alg];
    if (pk == NULL) {
        return 0;
    }

    md = (jws->alg == NGX_HTTP_ES_JWS_EDDSA) ? NULL : EVP_sha256();
    p = sig;
    dlen = n;

    if (jws->alg == NGX_HTTP_ES_JWS_ES256) {
        if (n != 64) {
            return 0;
        }

        es = ECDSA_SIG_new();
        r = BN_bin2bn(sig, 32, NULL);
        s = BN_bin2bn(sig + 32, 32, NULL);
        fz_assert(es != NULL && r != NULL && s != NULL);
        fz_assert(ECDSA_SIG_set0(es, r, s) == 1);

        p = der;
        dlen = (size_t) i2d_ECDSA_SIG(es, &p);
        ECDSA_SIG_free(es);
        p = der;
    }

    ctx = EVP_MD_CTX_new();
    fz_assert(ctx != NULL);

    ok = EVP_DigestVerifyInit(ctx, NULL, md, NULL, pk) == 1
         && EVP_DigestVerify(ctx, p, dlen, jws->token,
                             jws->signing_input_len) == 1;

    EVP_MD_CTX_free(ctx);

    return ok;
}


/* a heap copy of exactly len bytes, so that ASan sees any over-read */

static inline unsigned char *
fz_dup(const void *p, size_t len)
{
    unsigned char  *q;

    q = malloc(len ? len : 1);
    fz_assert(q != NULL);

    if (len) {
        memcpy(q, p, len);
    }

    return q;
}


/* a failing call must leave a printable reason: nginx logs it with %s */

static inline void
fz_check_reason(int rc, const char *reason)
{
    if (rc != NGX_HTTP_ES_JWS_OK) {
        fz_assert(reason != NULL);
        fz_assert(strlen(reason) < 1024);
    }
}


/*
 * The header rules, checked on the header the harness decodes itself:
 * a header that parse() accepted is a JSON object whose "alg" is byte for
 * byte the name of the alg parse() reports, whose kid and typ are the
 * ones reported, and that has none of the members the module refuses
 * (crit, b64, jku, jwk, x5u, x5c, enc, zip).
 */

static inline void
fz_check_header(const ngx_http_es_jws_t *jws, const unsigned char *token)
{
    size_t          hlen, n;
    json_t         *root, *v;
    const char     *name;
    unsigned char  *h;

    static const char  *refused[] = {
        "crit", "b64", "jku", "jwk", "x5u", "x5c", "enc", "zip", NULL
    };

    hlen = jws->payload - token - 1;
    h = malloc(hlen + 1);
    fz_assert(h != NULL);

    n = fz_unb64(h, token, hlen);
    fz_assert(n != (size_t) -1 && n <= NGX_HTTP_ES_JWS_MAX_HEADER);

    root = json_loadb((const char *) h, n, 0, NULL);
    fz_assert(json_is_object(root));

    v = json_object_get(root, "alg");
    name = ngx_http_es_jws_alg_name(jws->alg);
    fz_assert(json_is_string(v));
    fz_assert(json_string_length(v) == strlen(name)
              && memcmp(json_string_value(v), name, strlen(name)) == 0);

    v = json_object_get(root, "kid");
    fz_assert((v != NULL) == jws->has_kid);

    if (v) {
        fz_assert(json_is_string(v) && json_string_length(v) == jws->kid_len
                  && memcmp(json_string_value(v), jws->kid, jws->kid_len)
                     == 0);
    }

    v = json_object_get(root, "typ");
    fz_assert((v != NULL) == jws->has_typ);

    if (v) {
        fz_assert(json_is_string(v) && json_string_length(v) == jws->typ_len
                  && memcmp(json_string_value(v), jws->typ, jws->typ_len)
                     == 0);
    }

    for (n = 0; refused[n]; n++) {
        fz_assert(json_object_get(root, refused[n]) == NULL);
    }

    json_decref(root);
    free(h);
}


/* checks invariants of a token that parse() accepted */

static inline void
fz_check_parsed(const ngx_http_es_jws_t *jws, const unsigned char *token,
    size_t len)
{
    size_t  i, dots;

    fz_assert(len <= NGX_HTTP_ES_JWS_MAX_TOKEN);
    fz_assert(jws->alg > NGX_HTTP_ES_JWS_ALG_UNKNOWN
              && jws->alg < FZ_NALGS);
    fz_assert(ngx_http_es_jws_alg_name(jws->alg) != NULL);

    fz_assert(!jws->has_kid || jws->kid_len <= NGX_HTTP_ES_JWS_MAX_KID);
    fz_assert(!jws->has_typ || jws->typ_len <= NGX_HTTP_ES_JWS_MAX_TYP);

    /* exactly two dots, non-empty header and payload */

    for (dots = 0, i = 0; i < len; i++) {
        if (token[i] == '.') {
            dots++;
        }
    }

    fz_assert(dots == 2);
    fz_assert(jws->signing_input_len > 0 && jws->signing_input_len < len);
    fz_assert(token[jws->signing_input_len] == '.');
    fz_assert(jws->payload > token
              && jws->payload + jws->payload_len
                 == token + jws->signing_input_len);
    fz_assert(jws->payload_len > 0);
    fz_assert(jws->sig == token + jws->signing_input_len + 1);
    fz_assert(jws->sig_len == len - jws->signing_input_len - 1);

    fz_check_header(jws, token);
}


typedef struct {
    unsigned    calls;
    unsigned    stop_at;
    uint64_t    sum;
} fz_strings_t;


static inline int
fz_strings_handler(void *data, const unsigned char *s, size_t len)
{
    size_t         i;
    fz_strings_t  *st;

    st = data;

    /* touch every byte: ASan checks the range */

    for (i = 0; i < len; i++) {
        st->sum += s[i];
    }

    if (++st->calls == st->stop_at) {
        return 7;
    }

    return NGX_HTTP_ES_JWS_OK;
}


/*
 * Runs every accessor on one path.  Checks what the API promises whatever
 * the claims are: claim_text() gives the same length every time and writes
 * no more than size bytes (the buffers are exactly that large), a handler's
 * non-zero return comes back from claim_strings(), a claim_int() that
 * succeeded matches the decimal text.
 */

static inline void
fz_walk_path(ngx_http_es_jws_claims_t *claims, const char *cpath, size_t plen)
{
    int             rc, rc2;
    size_t          n, m;
    int64_t         v;
    fz_strings_t    st;
    unsigned char  *path, *buf, *half;
    char            dec[32];

    path = fz_dup(cpath, plen);

    v = 0;
    rc = ngx_http_es_jws_claim_int(claims, path, plen, &v);
    fz_assert(rc == NGX_HTTP_ES_JWS_OK || rc == NGX_HTTP_ES_JWS_ABSENT
              || rc == NGX_HTTP_ES_JWS_INVALID);

    n = ngx_http_es_jws_claim_text(claims, path, plen, NULL, 0);
    fz_assert(n < 1024 * 1024);

    buf = malloc(n ? n : 1);
    fz_assert(buf != NULL);

    m = ngx_http_es_jws_claim_text(claims, path, plen, buf, n);
    fz_assert(m == n);

    if (rc == NGX_HTTP_ES_JWS_OK) {
        snprintf(dec, sizeof(dec), "%" PRId64, v);
        fz_assert(n == strlen(dec) && memcmp(buf, dec, n) == 0);

        rc2 = ngx_http_es_jws_claim_match(claims, path, plen,
                                          (unsigned char *) dec, n);
        fz_assert(rc2 == NGX_HTTP_ES_JWS_OK);
    }

    if (rc == NGX_HTTP_ES_JWS_ABSENT) {
        fz_assert(n == 0);
    }

    if (n > 1) {

        /*
         * a short buffer gets the first bytes of the text, for values
         * written as JSON perhaps fewer than fit (jansson's json_dumpb()
         * skips a chunk that does not fit whole), and nothing else: the
         * buffer is first filled with bytes that differ from the text to
         * tell what was written
         */

        half = malloc(n / 2);
        fz_assert(half != NULL);

        for (m = 0; m < n / 2; m++) {
            half[m] = buf[m] ^ 0xff;
        }

        m = ngx_http_es_jws_claim_text(claims, path, plen, half, n / 2);
        fz_assert(m == n);

        for (m = 0; m < n / 2 && half[m] == buf[m]; m++) {
            /* the prefix written */
        }

        for ( /* void */ ; m < n / 2; m++) {
            fz_assert(half[m] == (buf[m] ^ 0xff));
        }

        free(half);
    }

    /* whatever the value, matching must not crash */

    (void) ngx_http_es_jws_claim_match(claims, path, plen, buf, n);
    (void) ngx_http_es_jws_claim_match(claims, path, plen,
                                       (unsigned char *) "", 0);
    (void) ngx_http_es_jws_claim_match(claims, path, plen,
                                       (unsigned char *) "true", 4);

    free(buf);

    memset(&st, 0, sizeof(st));
    rc = ngx_http_es_jws_claim_strings(claims, path, plen,
                                       fz_strings_handler, &st);
    fz_assert(rc == NGX_HTTP_ES_JWS_OK || rc == NGX_HTTP_ES_JWS_ABSENT
              || rc == NGX_HTTP_ES_JWS_INVALID);

    if (st.calls > 1) {
        st.calls = 0;
        st.stop_at = 2;

        rc = ngx_http_es_jws_claim_strings(claims, path, plen,
                                           fz_strings_handler, &st);
        fz_assert(rc == 7 && st.calls == 2);
    }

    free(path);
}


static const char  *fz_paths[] = {
    "sub", "iss", "aud", "exp", "nbf", "iat", "jti", "typ", "origin",
    "permissions", "permissions.publish", "permissions.subscribe",
    "perm.publish", "a.b", "a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r", "n",
    "", ".", "..", "a.", ".a", "a..b", "sub.x", "aud.0",
    NULL
};


static const char  fz_long_path[] =
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa."
    "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb."
    "ccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc."
    "ddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd";


/* a registered time: -1 when absent, else the integer claim_int() sees */

static inline void
fz_check_time_claim(ngx_http_es_jws_claims_t *claims, const char *name,
    int64_t value)
{
    int      rc;
    int64_t  v;

    v = -1;
    rc = ngx_http_es_jws_claim_int(claims, (const unsigned char *) name,
                                   strlen(name), &v);

    if (rc == NGX_HTTP_ES_JWS_ABSENT) {
        fz_assert(value == -1);

    } else {
        fz_assert(rc == NGX_HTTP_ES_JWS_OK && v == value);
        fz_assert(v >= 0 && v <= NGX_HTTP_ES_JWS_MAX_TIME);
    }
}


static inline void
fz_walk_claims(ngx_http_es_jws_claims_t *claims)
{
    int                      rc;
    const char             **p, *reason;
    ngx_http_es_jws_time_t   tp;
    ngx_http_es_jws_times_t  t;

    tp.now = FZ_NOW;
    tp.leeway = FZ_LEEWAY;
    tp.max_lifetime = FZ_LIFETIME;

    reason = NULL;
    rc = ngx_http_es_jws_claims_check_time(claims, &tp, &reason);
    fz_assert(rc == NGX_HTTP_ES_JWS_OK || rc == NGX_HTTP_ES_JWS_INVALID
              || rc == NGX_HTTP_ES_JWS_EXPIRED);
    fz_check_reason(rc, reason);

    /* the times taken out give the same verdict (the token cache) */

    ngx_http_es_jws_claims_times(claims, &t);

    fz_check_time_claim(claims, "exp", t.exp);
    fz_check_time_claim(claims, "nbf", t.nbf);
    fz_check_time_claim(claims, "iat", t.iat);

    reason = NULL;
    fz_assert(ngx_http_es_jws_check_times(&t, &tp, &reason) == rc);
    fz_check_reason(rc, reason);

    tp.leeway = 0;
    tp.max_lifetime = 0;

    reason = NULL;
    rc = ngx_http_es_jws_claims_check_time(claims, &tp, &reason);
    fz_check_reason(rc, reason);

    reason = NULL;
    fz_assert(ngx_http_es_jws_check_times(&t, &tp, &reason) == rc);

    for (p = fz_paths; *p; p++) {
        fz_walk_path(claims, *p, strlen(*p));
    }

    /* a path with a NUL in it, and one longer than any sane claim name */

    fz_walk_path(claims, "sub\0x", 5);
    fz_walk_path(claims, fz_long_path, sizeof(fz_long_path) - 1);
}


/*
 * The verifier's path after parse(): check with the token's key, and
 * claims only when the signature verified.  Keys of other algs must be
 * refused whatever the token says.  Returns the check() result.
 */

static inline int
fz_verify_parsed(const ngx_http_es_jws_t *jws)
{
    int                        rc, a;
    const char                *reason;
    ngx_http_es_jws_claims_t  *claims, *ref;

    for (a = 1; a < FZ_NALGS; a++) {
        if (fz_keys[a] == NULL || (ngx_http_es_jws_alg_t) a == jws->alg) {
            continue;
        }

        reason = NULL;
        rc = ngx_http_es_jws_check(jws, fz_keys[a], &reason);
        fz_assert(rc != NGX_HTTP_ES_JWS_OK);
        fz_check_reason(rc, reason);
    }

    if (fz_keys[jws->alg] == NULL) {
        return NGX_HTTP_ES_JWS_INVALID;
    }

    reason = NULL;
    rc = ngx_http_es_jws_check(jws, fz_keys[jws->alg], &reason);
    fz_check_reason(rc, reason);

    if (rc != NGX_HTTP_ES_JWS_OK) {
        return rc;
    }

    fz_assert(fz_indep_verify(jws));

    claims = NULL;
    reason = NULL;
    rc = ngx_http_es_jws_claims_parse(&claims, jws, &reason);
    fz_check_reason(rc, reason);

    if (rc == NGX_HTTP_ES_JWS_OK) {
        fz_assert(claims != NULL);

        /* claims are reference counted: the walk uses a second reference */

        ref = ngx_http_es_jws_claims_ref(claims);
        fz_assert(ref == claims);

        ngx_http_es_jws_claims_free(claims);
        fz_walk_claims(ref);
        ngx_http_es_jws_claims_free(ref);
    }

    return NGX_HTTP_ES_JWS_OK;
}


#endif /* _FUZZ_COMMON_H_INCLUDED_ */
