
/*
 * Copyright (C) The ngx_http_embed_session_module authors
 *
 * The compact JWS codec: base64url, signatures, the compact serialization
 * and claims, and the SHA-256 and random bytes the module needs elsewhere.
 * Keys come from ngx_http_embed_session_jwk.c.  The order of checks
 * follows docs/security.md: size cap, exactly three segments, strict
 * decoding and parsing of the small header, key and alg selection (by the
 * caller), exact signature length, signature, and only then the payload.
 */


/*
 * HMAC runs on the SHA-2 functions themselves: copying a digest state is a
 * structure assignment there, while EVP_MD_CTX_copy_ex() allocates a new
 * provider context on every call.  nginx suppresses the deprecation
 * warnings of these functions in the same way.
 */
#define OPENSSL_SUPPRESS_DEPRECATED

#include <stdio.h>
#include <string.h>
#include <inttypes.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>

#include "ngx_http_embed_session_jws.h"
#include "ngx_http_embed_session_jws_int.h"
#include "ngx_http_embed_session_json.h"


static const ngx_http_es_jws_alg_desc_t  ngx_http_es_jws_algs[] = {
    { NULL, 0, NULL, 0, 0, NULL, NULL, 0 },
    { "HS256", NGX_HTTP_ES_KIND_HMAC, "SHA256", 32, 64, NULL, NULL, 0 },
    { "HS384", NGX_HTTP_ES_KIND_HMAC, "SHA384", 48, 128, NULL, NULL, 0 },
    { "HS512", NGX_HTTP_ES_KIND_HMAC, "SHA512", 64, 128, NULL, NULL, 0 },
    { "EdDSA", NGX_HTTP_ES_KIND_EDDSA, NULL, 0, 0, NULL, "Ed25519", 32 },
    { "ES256", NGX_HTTP_ES_KIND_ECDSA, "SHA256", 0, 0, "prime256v1", "P-256",
      32 },
    { "ES384", NGX_HTTP_ES_KIND_ECDSA, "SHA384", 0, 0, "secp384r1", "P-384",
      48 },
    { "RS256", NGX_HTTP_ES_KIND_RSA, "SHA256", 0, 0, NULL, NULL, 0 },
    { "RS384", NGX_HTTP_ES_KIND_RSA, "SHA384", 0, 0, NULL, NULL, 0 },
    { "RS512", NGX_HTTP_ES_KIND_RSA, "SHA512", 0, 0, NULL, NULL, 0 },
    { "PS256", NGX_HTTP_ES_KIND_RSA_PSS, "SHA256", 0, 0, NULL, NULL, 0 }
};

#define NGX_HTTP_ES_JWS_NALGS                                                 \
    (sizeof(ngx_http_es_jws_algs) / sizeof(ngx_http_es_jws_algs[0]))


struct ngx_http_es_jws_claims_s {
    json_t                   *root;
    unsigned                  refs;
};


#define NGX_HTTP_ES_MAX_PAYLOAD                                               \
    (NGX_HTTP_ES_JWS_MAX_TOKEN / 4 * 3)


static int ngx_http_es_jws_eddsa_sign(ngx_http_es_jws_key_t *key,
    const unsigned char *in, size_t len, unsigned char *sig,
    size_t *sig_len);
static int ngx_http_es_jws_sha_finish(ngx_http_es_jws_key_t *key,
    ngx_http_es_jws_sha_t *c, const unsigned char *in, size_t len,
    unsigned char *md);
static int ngx_http_es_jws_hmac(ngx_http_es_jws_key_t *key,
    const unsigned char *in, size_t len, unsigned char *mac);
static const char *ngx_http_es_jws_header_member(ngx_http_es_jws_t *jws,
    const char *name, json_t *v);
static json_t *ngx_http_es_jws_claim_find(ngx_http_es_jws_claims_t *claims,
    const unsigned char *path, size_t len);


/* base64url */

static const unsigned char  ngx_http_es_b64_enc[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* 0x80 marks bytes outside the base64url alphabet */

static const unsigned char  ngx_http_es_b64_dec[256] = {
    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
    0x80, 0x80, 0x80, 0x80, 0x80,   62, 0x80, 0x80,
      52,   53,   54,   55,   56,   57,   58,   59,
      60,   61, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
    0x80,    0,    1,    2,    3,    4,    5,    6,
       7,    8,    9,   10,   11,   12,   13,   14,
      15,   16,   17,   18,   19,   20,   21,   22,
      23,   24,   25, 0x80, 0x80, 0x80, 0x80,   63,
    0x80,   26,   27,   28,   29,   30,   31,   32,
      33,   34,   35,   36,   37,   38,   39,   40,
      41,   42,   43,   44,   45,   46,   47,   48,
      49,   50,   51, 0x80, 0x80, 0x80, 0x80, 0x80,
    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80
};


size_t
ngx_http_es_jws_b64_encoded_length(size_t len)
{
    return len / 3 * 4 + (len % 3 ? len % 3 + 1 : 0);
}


size_t
ngx_http_es_jws_b64_encode(unsigned char *dst, const unsigned char *src,
    size_t len)
{
    unsigned char  *d;

    d = dst;

    while (len > 2) {
        *d++ = ngx_http_es_b64_enc[(src[0] >> 2) & 0x3f];
        *d++ = ngx_http_es_b64_enc[((src[0] & 3) << 4) | (src[1] >> 4)];
        *d++ = ngx_http_es_b64_enc[((src[1] & 0x0f) << 2) | (src[2] >> 6)];
        *d++ = ngx_http_es_b64_enc[src[2] & 0x3f];

        src += 3;
        len -= 3;
    }

    if (len) {
        *d++ = ngx_http_es_b64_enc[(src[0] >> 2) & 0x3f];

        if (len == 1) {
            *d++ = ngx_http_es_b64_enc[(src[0] & 3) << 4];

        } else {
            *d++ = ngx_http_es_b64_enc[((src[0] & 3) << 4) | (src[1] >> 4)];
            *d++ = ngx_http_es_b64_enc[(src[1] & 0x0f) << 2];
        }
    }

    return d - dst;
}


int
ngx_http_es_jws_b64_decode(unsigned char *dst, size_t *dst_len,
    const unsigned char *src, size_t len)
{
    size_t          i, tail;
    unsigned char  *d, c[4];

    /* a lone trailing character can carry no whole byte */

    tail = len % 4;
    if (tail == 1) {
        return NGX_HTTP_ES_JWS_INVALID;
    }

    d = dst;

    for (i = 0; i + 4 <= len; i += 4) {
        c[0] = ngx_http_es_b64_dec[src[i]];
        c[1] = ngx_http_es_b64_dec[src[i + 1]];
        c[2] = ngx_http_es_b64_dec[src[i + 2]];
        c[3] = ngx_http_es_b64_dec[src[i + 3]];

        if ((c[0] | c[1] | c[2] | c[3]) & 0x80) {
            return NGX_HTTP_ES_JWS_INVALID;
        }

        *d++ = (unsigned char) (c[0] << 2 | c[1] >> 4);
        *d++ = (unsigned char) (c[1] << 4 | c[2] >> 2);
        *d++ = (unsigned char) (c[2] << 6 | c[3]);
    }

    if (tail) {
        c[0] = ngx_http_es_b64_dec[src[i]];
        c[1] = ngx_http_es_b64_dec[src[i + 1]];
        c[2] = (tail == 3) ? ngx_http_es_b64_dec[src[i + 2]] : 0;

        if ((c[0] | c[1] | c[2]) & 0x80) {
            return NGX_HTTP_ES_JWS_INVALID;
        }

        /*
         * the unused low bits of the last character must be zero, or two
         * encodings would decode to the same bytes
         */

        if (tail == 2) {
            if (c[1] & 0x0f) {
                return NGX_HTTP_ES_JWS_INVALID;
            }

            *d++ = (unsigned char) (c[0] << 2 | c[1] >> 4);

        } else {
            if (c[2] & 0x03) {
                return NGX_HTTP_ES_JWS_INVALID;
            }

            *d++ = (unsigned char) (c[0] << 2 | c[1] >> 4);
            *d++ = (unsigned char) (c[1] << 4 | c[2] >> 2);
        }
    }

    *dst_len = d - dst;

    return NGX_HTTP_ES_JWS_OK;
}


/* algorithms */

ngx_http_es_jws_alg_t
ngx_http_es_jws_alg(const unsigned char *name, size_t len)
{
    size_t  i;

    for (i = 1; i < NGX_HTTP_ES_JWS_NALGS; i++) {
        if (len == strlen(ngx_http_es_jws_algs[i].name)
            && memcmp(name, ngx_http_es_jws_algs[i].name, len) == 0)
        {
            return (ngx_http_es_jws_alg_t) i;
        }
    }

    return NGX_HTTP_ES_JWS_ALG_UNKNOWN;
}


const char *
ngx_http_es_jws_alg_name(ngx_http_es_jws_alg_t alg)
{
    if (alg <= NGX_HTTP_ES_JWS_ALG_UNKNOWN || alg >= NGX_HTTP_ES_JWS_NALGS) {
        return "unknown";
    }

    return ngx_http_es_jws_algs[alg].name;
}


const ngx_http_es_jws_alg_desc_t *
ngx_http_es_jws_alg_desc(ngx_http_es_jws_alg_t alg)
{
    return &ngx_http_es_jws_algs[alg];
}


/* signatures */

int
ngx_http_es_jws_sha_absorb(ngx_http_es_jws_key_t *key,
    ngx_http_es_jws_sha_t *c, const unsigned char *block)
{
    switch (key->desc->hash_len) {

    case 32:
        return SHA256_Init(&c->sha256) == 1
               && SHA256_Update(&c->sha256, block, key->desc->block) == 1;

    case 48:
        return SHA384_Init(&c->sha512) == 1
               && SHA384_Update(&c->sha512, block, key->desc->block) == 1;

    default:
        return SHA512_Init(&c->sha512) == 1
               && SHA512_Update(&c->sha512, block, key->desc->block) == 1;
    }
}


/* the last step of one of the two hashes: state c (a copy) takes in */

static int
ngx_http_es_jws_sha_finish(ngx_http_es_jws_key_t *key,
    ngx_http_es_jws_sha_t *c, const unsigned char *in, size_t len,
    unsigned char *md)
{
    switch (key->desc->hash_len) {

    case 32:
        return SHA256_Update(&c->sha256, in, len) == 1
               && SHA256_Final(md, &c->sha256) == 1;

    case 48:
        return SHA384_Update(&c->sha512, in, len) == 1
               && SHA384_Final(md, &c->sha512) == 1;

    default:
        return SHA512_Update(&c->sha512, in, len) == 1
               && SHA512_Final(md, &c->sha512) == 1;
    }
}


static int
ngx_http_es_jws_hmac(ngx_http_es_jws_key_t *key, const unsigned char *in,
    size_t len, unsigned char *mac)
{
    int                     rc;
    unsigned char           inner[SHA512_DIGEST_LENGTH];
    ngx_http_es_jws_sha_t   c;

    c = key->ipad;
    rc = ngx_http_es_jws_sha_finish(key, &c, in, len, inner);

    c = key->opad;
    rc = rc && ngx_http_es_jws_sha_finish(key, &c, inner,
                                          key->desc->hash_len, mac);

    OPENSSL_cleanse(inner, sizeof(inner));
    OPENSSL_cleanse(&c, sizeof(c));

    return rc ? NGX_HTTP_ES_JWS_OK : NGX_HTTP_ES_JWS_ERROR;
}


static int
ngx_http_es_jws_pss(EVP_PKEY_CTX *pctx, ngx_http_es_jws_key_t *key)
{
    if (key->desc->kind != NGX_HTTP_ES_KIND_RSA_PSS) {
        return 1;
    }

    return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1
           && EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST)
              == 1
           && EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, key->md) == 1;
}


/*
 * Ed25519 signs in one shot, and setting a context up (fetching the
 * algorithm from the provider) costs about half as much as signing: the
 * context is kept.  A library that refuses a finalized context again gets
 * a fresh one.
 */

static int
ngx_http_es_jws_eddsa_sign(ngx_http_es_jws_key_t *key,
    const unsigned char *in, size_t len, unsigned char *sig, size_t *sig_len)
{
    int     i;
    size_t  n;

    for (i = 0; i < 2; i++) {

        if (key->sign_ctx == NULL) {
            key->sign_ctx = EVP_MD_CTX_new();

            if (key->sign_ctx == NULL
                || EVP_DigestSignInit(key->sign_ctx, NULL, NULL, NULL,
                                      key->pkey)
                   != 1)
            {
                break;
            }
        }

        n = key->sig_len;

        if (EVP_DigestSign(key->sign_ctx, sig, &n, in, len) == 1
            && n == key->sig_len)
        {
            *sig_len = n;
            return NGX_HTTP_ES_JWS_OK;
        }

        EVP_MD_CTX_free(key->sign_ctx);
        key->sign_ctx = NULL;
        ERR_clear_error();
    }

    EVP_MD_CTX_free(key->sign_ctx);
    key->sign_ctx = NULL;
    ERR_clear_error();

    return NGX_HTTP_ES_JWS_ERROR;
}


int
ngx_http_es_jws_sign(ngx_http_es_jws_key_t *key, const unsigned char *in,
    size_t len, unsigned char *sig, size_t *sig_len)
{
    int             rc;
    size_t          n;
    EVP_MD_CTX     *ctx;
    ECDSA_SIG      *es;
    EVP_PKEY_CTX   *pctx;
    const BIGNUM   *r, *s;
    unsigned char   der[NGX_HTTP_ES_JWS_MAX_SIG + 16];
    const unsigned char  *p;

    if (!key->can_sign) {
        return NGX_HTTP_ES_JWS_ERROR;
    }

    if (key->desc->kind == NGX_HTTP_ES_KIND_HMAC) {
        *sig_len = key->sig_len;
        return ngx_http_es_jws_hmac(key, in, len, sig);
    }

    if (key->desc->kind == NGX_HTTP_ES_KIND_EDDSA) {
        return ngx_http_es_jws_eddsa_sign(key, in, len, sig, sig_len);
    }

    ctx = EVP_MD_CTX_new();
    if (ctx == NULL) {
        return NGX_HTTP_ES_JWS_ERROR;
    }

    rc = NGX_HTTP_ES_JWS_ERROR;
    pctx = NULL;

    if (EVP_DigestSignInit(ctx, &pctx, key->md, NULL, key->pkey) != 1
        || !ngx_http_es_jws_pss(pctx, key))
    {
        goto done;
    }

    if (key->desc->kind != NGX_HTTP_ES_KIND_ECDSA) {
        n = key->sig_len;

        if (EVP_DigestSign(ctx, sig, &n, in, len) == 1 && n == key->sig_len) {
            *sig_len = n;
            rc = NGX_HTTP_ES_JWS_OK;
        }

        goto done;
    }

    /* ECDSA: DER from OpenSSL, r || s in JWS */

    n = sizeof(der);

    if (EVP_DigestSign(ctx, der, &n, in, len) != 1) {
        goto done;
    }

    p = der;
    es = d2i_ECDSA_SIG(NULL, &p, (long) n);
    if (es == NULL) {
        goto done;
    }

    ECDSA_SIG_get0(es, &r, &s);

    if (BN_bn2binpad(r, sig, (int) key->desc->coord) > 0
        && BN_bn2binpad(s, sig + key->desc->coord, (int) key->desc->coord)
           > 0)
    {
        *sig_len = key->sig_len;
        rc = NGX_HTTP_ES_JWS_OK;
    }

    ECDSA_SIG_free(es);

done:

    EVP_MD_CTX_free(ctx);
    ERR_clear_error();

    return rc;
}


int
ngx_http_es_jws_verify(ngx_http_es_jws_key_t *key, const unsigned char *in,
    size_t len, const unsigned char *sig, size_t sig_len)
{
    int             rc, n;
    EVP_MD_CTX     *ctx;
    ECDSA_SIG      *es;
    BIGNUM         *r, *s;
    EVP_PKEY_CTX   *pctx;
    unsigned char   mac[EVP_MAX_MD_SIZE], der[NGX_HTTP_ES_JWS_MAX_SIG + 16];
    unsigned char  *p;

    /* the length is public: only the bytes are compared in constant time */

    if (sig_len != key->sig_len) {
        return NGX_HTTP_ES_JWS_INVALID;
    }

    if (key->desc->kind == NGX_HTTP_ES_KIND_HMAC) {
        if (ngx_http_es_jws_hmac(key, in, len, mac) != NGX_HTTP_ES_JWS_OK) {
            return NGX_HTTP_ES_JWS_ERROR;
        }

        rc = CRYPTO_memcmp(mac, sig, sig_len) == 0
             ? NGX_HTTP_ES_JWS_OK : NGX_HTTP_ES_JWS_INVALID;

        OPENSSL_cleanse(mac, sizeof(mac));

        return rc;
    }

    ctx = EVP_MD_CTX_new();
    if (ctx == NULL) {
        return NGX_HTTP_ES_JWS_ERROR;
    }

    rc = NGX_HTTP_ES_JWS_ERROR;
    pctx = NULL;

    if (EVP_DigestVerifyInit(ctx, &pctx, key->md, NULL, key->pkey) != 1
        || !ngx_http_es_jws_pss(pctx, key))
    {
        goto done;
    }

    if (key->desc->kind == NGX_HTTP_ES_KIND_ECDSA) {

        /* r || s of exactly the coordinate length each, never DER */

        es = ECDSA_SIG_new();
        r = BN_bin2bn(sig, (int) key->desc->coord, NULL);
        s = BN_bin2bn(sig + key->desc->coord, (int) key->desc->coord, NULL);

        if (es == NULL || r == NULL || s == NULL
            || ECDSA_SIG_set0(es, r, s) != 1)
        {
            ECDSA_SIG_free(es);
            BN_free(r);
            BN_free(s);
            goto done;
        }

        p = der;
        n = i2d_ECDSA_SIG(es, &p);
        ECDSA_SIG_free(es);

        if (n <= 0) {
            goto done;
        }

        sig = der;
        sig_len = (size_t) n;
    }

    rc = EVP_DigestVerify(ctx, sig, sig_len, in, len) == 1
         ? NGX_HTTP_ES_JWS_OK : NGX_HTTP_ES_JWS_INVALID;

done:

    EVP_MD_CTX_free(ctx);
    ERR_clear_error();

    return rc;
}


/* compact serialization */

int
ngx_http_es_jws_parse(ngx_http_es_jws_t *jws, const unsigned char *token,
    size_t len, const char **reason)
{
    size_t          i, dots[2], nd, hlen;
    json_t         *root, *v;
    const char     *name;
    unsigned char   header[NGX_HTTP_ES_JWS_MAX_HEADER];

    if (len > NGX_HTTP_ES_JWS_MAX_TOKEN) {
        *reason = "token too large";
        return NGX_HTTP_ES_JWS_INVALID;
    }

    /* exactly two dots, counted while scanning */

    nd = 0;

    for (i = 0; i < len; i++) {
        if (token[i] == '.') {
            if (nd == 2) {
                *reason = "more than three segments";
                return NGX_HTTP_ES_JWS_INVALID;
            }

            dots[nd++] = i;
        }
    }

    if (nd != 2) {
        *reason = "not three segments";
        return NGX_HTTP_ES_JWS_INVALID;
    }

    if (dots[0] == 0 || dots[1] == dots[0] + 1 || dots[1] + 1 == len) {
        *reason = "empty segment";
        return NGX_HTTP_ES_JWS_INVALID;
    }

    if (dots[0] > ngx_http_es_jws_b64_encoded_length(sizeof(header))) {
        *reason = "header too large";
        return NGX_HTTP_ES_JWS_INVALID;
    }

    if (ngx_http_es_jws_b64_decode(header, &hlen, token, dots[0])
        != NGX_HTTP_ES_JWS_OK)
    {
        *reason = "header is not strict base64url";
        return NGX_HTTP_ES_JWS_INVALID;
    }

    memset(jws, 0, sizeof(ngx_http_es_jws_t));

    jws->token = token;
    jws->signing_input_len = dots[1];
    jws->payload = token + dots[0] + 1;
    jws->payload_len = dots[1] - dots[0] - 1;
    jws->sig = token + dots[1] + 1;
    jws->sig_len = len - dots[1] - 1;

    /* jansson rejects "\u0000" in strings unless JSON_ALLOW_NUL is given */

    root = json_loadb((const char *) header, hlen, JSON_REJECT_DUPLICATES,
                      NULL);

    if (root == NULL || !json_is_object(root)) {
        *reason = "header is not a JSON object";
        json_decref(root);
        return NGX_HTTP_ES_JWS_INVALID;
    }

    *reason = NULL;

    json_object_foreach(root, name, v) {
        *reason = ngx_http_es_jws_header_member(jws, name, v);

        if (*reason) {
            break;
        }
    }

    json_decref(root);

    if (*reason) {
        return NGX_HTTP_ES_JWS_INVALID;
    }

    if (jws->alg == NGX_HTTP_ES_JWS_ALG_UNKNOWN) {
        *reason = "no \"alg\"";
        return NGX_HTTP_ES_JWS_INVALID;
    }

    return NGX_HTTP_ES_JWS_OK;
}


/* one member of the protected header: NULL, or why the token is refused */

static const char *
ngx_http_es_jws_header_member(ngx_http_es_jws_t *jws, const char *name,
    json_t *v)
{
    if (strcmp(name, "alg") == 0) {
        if (!json_is_string(v)) {
            return "\"alg\" is not a string";
        }

        /* "none", in any case, is no algorithm of ours */

        jws->alg = ngx_http_es_jws_alg(
                       (const unsigned char *) json_string_value(v),
                       json_string_length(v));

        if (jws->alg == NGX_HTTP_ES_JWS_ALG_UNKNOWN) {
            return "unsupported \"alg\"";
        }

    } else if (strcmp(name, "kid") == 0) {
        if (!json_is_string(v) || json_string_length(v) == 0
            || json_string_length(v) > NGX_HTTP_ES_JWS_MAX_KID)
        {
            return "bad \"kid\"";
        }

        jws->kid_len = json_string_length(v);
        memcpy(jws->kid, json_string_value(v), jws->kid_len);
        jws->has_kid = 1;

    } else if (strcmp(name, "typ") == 0) {
        if (!json_is_string(v)
            || json_string_length(v) > NGX_HTTP_ES_JWS_MAX_TYP)
        {
            return "bad \"typ\"";
        }

        jws->typ_len = json_string_length(v);
        memcpy(jws->typ, json_string_value(v), jws->typ_len);
        jws->has_typ = 1;

    } else if (strcmp(name, "crit") == 0 || strcmp(name, "b64") == 0) {

        /* we implement no extensions; b64 would change the input */

        return "\"crit\" or \"b64\" header";

    } else if (strcmp(name, "jku") == 0 || strcmp(name, "jwk") == 0
               || strcmp(name, "x5u") == 0 || strcmp(name, "x5c") == 0)
    {
        /* keys come from the configuration, never from the token */

        return "key-carrying header";

    } else if (strcmp(name, "enc") == 0 || strcmp(name, "zip") == 0) {
        return "JWE header";
    }

    return NULL;
}


int
ngx_http_es_jws_check(const ngx_http_es_jws_t *jws,
    ngx_http_es_jws_key_t *key, const char **reason)
{
    int            rc;
    size_t         len;
    unsigned char  sig[NGX_HTTP_ES_JWS_MAX_SIG];

    /* the key's alg is fixed at load time: no confusion, no downgrade */

    if (jws->alg != key->alg) {
        *reason = "\"alg\" does not match the key";
        return NGX_HTTP_ES_JWS_INVALID;
    }

    if (jws->sig_len != ngx_http_es_jws_b64_encoded_length(key->sig_len)) {
        *reason = "wrong signature length";
        return NGX_HTTP_ES_JWS_INVALID;
    }

    if (ngx_http_es_jws_b64_decode(sig, &len, jws->sig, jws->sig_len)
        != NGX_HTTP_ES_JWS_OK)
    {
        *reason = "signature is not strict base64url";
        return NGX_HTTP_ES_JWS_INVALID;
    }

    rc = ngx_http_es_jws_verify(key, jws->token, jws->signing_input_len,
                                sig, len);

    if (rc == NGX_HTTP_ES_JWS_INVALID) {
        *reason = "bad signature";

    } else if (rc == NGX_HTTP_ES_JWS_ERROR) {
        *reason = "signature verification failed";
    }

    return rc;
}


/* claims */


int
ngx_http_es_jws_claims_parse(ngx_http_es_jws_claims_t **claims,
    const ngx_http_es_jws_t *jws, const char **reason)
{
    size_t          len, members, i;
    json_t         *root, *v;
    json_int_t      t;
    unsigned char   buf[NGX_HTTP_ES_MAX_PAYLOAD];

    static const char  *times[] = { "exp", "nbf", "iat" };
    static const char  *strings[] = { "iss", "sub", "jti" };

    if (ngx_http_es_jws_b64_decode(buf, &len, jws->payload, jws->payload_len)
        != NGX_HTTP_ES_JWS_OK)
    {
        *reason = "payload is not strict base64url";
        return NGX_HTTP_ES_JWS_INVALID;
    }

    root = json_loadb((const char *) buf, len, JSON_REJECT_DUPLICATES, NULL);

    if (root == NULL || !json_is_object(root)) {
        *reason = "payload is not a JSON object";
        goto invalid;
    }

    members = 0;

    if (!ngx_http_es_json_limits((ngx_http_es_json_t *) root, 1,
                                 NGX_HTTP_ES_JWS_MAX_DEPTH,
                                 NGX_HTTP_ES_JWS_MAX_MEMBERS, &members))
    {
        *reason = "payload too deep or too large";
        goto invalid;
    }

    for (i = 0; i < 3; i++) {
        v = json_object_get(root, times[i]);

        if (v == NULL) {
            continue;
        }

        /* integers only: no strings, reals, booleans or negatives */

        t = json_is_integer(v) ? json_integer_value(v) : -1;

        if (t < 0 || t > NGX_HTTP_ES_JWS_MAX_TIME) {
            *reason = "bad time claim";
            goto invalid;
        }
    }

    for (i = 0; i < 3; i++) {
        v = json_object_get(root, strings[i]);

        if (v != NULL && !json_is_string(v)) {
            *reason = "bad string claim";
            goto invalid;
        }
    }

    v = json_object_get(root, "aud");

    if (v != NULL && !json_is_string(v)) {
        if (!json_is_array(v)) {
            *reason = "bad \"aud\"";
            goto invalid;
        }

        for (i = 0; i < json_array_size(v); i++) {
            if (!json_is_string(json_array_get(v, i))) {
                *reason = "bad \"aud\"";
                goto invalid;
            }
        }
    }

    *claims = malloc(sizeof(ngx_http_es_jws_claims_t));
    if (*claims == NULL) {
        json_decref(root);
        *reason = "out of memory";
        return NGX_HTTP_ES_JWS_ERROR;
    }

    (*claims)->root = root;
    (*claims)->refs = 1;

    return NGX_HTTP_ES_JWS_OK;

invalid:

    json_decref(root);

    return NGX_HTTP_ES_JWS_INVALID;
}


ngx_http_es_jws_claims_t *
ngx_http_es_jws_claims_ref(ngx_http_es_jws_claims_t *claims)
{
    claims->refs++;
    return claims;
}


void
ngx_http_es_jws_claims_free(ngx_http_es_jws_claims_t *claims)
{
    if (claims && --claims->refs == 0) {
        json_decref(claims->root);
        free(claims);
    }
}


void
ngx_http_es_jws_claims_times(ngx_http_es_jws_claims_t *claims,
    ngx_http_es_jws_times_t *t)
{
    json_t  *v;

    /* the types and ranges were checked by claims_parse() */

    v = json_object_get(claims->root, "exp");
    t->exp = v ? json_integer_value(v) : -1;

    v = json_object_get(claims->root, "nbf");
    t->nbf = v ? json_integer_value(v) : -1;

    v = json_object_get(claims->root, "iat");
    t->iat = v ? json_integer_value(v) : -1;
}


int
ngx_http_es_jws_claims_check_time(ngx_http_es_jws_claims_t *claims,
    const ngx_http_es_jws_time_t *tp, const char **reason)
{
    ngx_http_es_jws_times_t  t;

    ngx_http_es_jws_claims_times(claims, &t);

    return ngx_http_es_jws_check_times(&t, tp, reason);
}


int
ngx_http_es_jws_check_times(const ngx_http_es_jws_times_t *t,
    const ngx_http_es_jws_time_t *tp, const char **reason)
{
    int64_t  exp, nbf, iat;

    exp = t->exp;
    nbf = t->nbf;
    iat = t->iat;

    if (exp == -1) {
        *reason = "no \"exp\"";
        return NGX_HTTP_ES_JWS_INVALID;
    }

    if (tp->now - tp->leeway >= exp) {
        *reason = "expired";
        return NGX_HTTP_ES_JWS_EXPIRED;
    }

    if (nbf != -1 && tp->now + tp->leeway < nbf) {
        *reason = "not yet valid (\"nbf\")";
        return NGX_HTTP_ES_JWS_INVALID;
    }

    if (iat != -1 && tp->now + tp->leeway < iat) {
        *reason = "issued in the future (\"iat\")";
        return NGX_HTTP_ES_JWS_INVALID;
    }

    if (tp->max_lifetime
        && exp - (iat != -1 ? iat : tp->now) > tp->max_lifetime)
    {
        *reason = "lifetime too long";
        return NGX_HTTP_ES_JWS_INVALID;
    }

    return NGX_HTTP_ES_JWS_OK;
}


static json_t *
ngx_http_es_jws_claim_find(ngx_http_es_jws_claims_t *claims,
    const unsigned char *path, size_t len)
{
    size_t           n;
    json_t          *v;
    const unsigned  char  *p, *last, *dot;
    char             name[128];

    v = claims->root;
    p = path;
    last = path + len;

    while (v != NULL) {
        dot = memchr(p, '.', last - p);
        n = (dot ? dot : last) - p;

        if (n == 0 || n >= sizeof(name) || !json_is_object(v)) {
            return NULL;
        }

        memcpy(name, p, n);
        name[n] = '\0';

        v = json_object_get(v, name);

        if (dot == NULL) {
            return v;
        }

        p = dot + 1;
    }

    return NULL;
}


int
ngx_http_es_jws_claim_int(ngx_http_es_jws_claims_t *claims,
    const unsigned char *path, size_t len, int64_t *value)
{
    json_t  *v;

    v = ngx_http_es_jws_claim_find(claims, path, len);

    if (v == NULL) {
        return NGX_HTTP_ES_JWS_ABSENT;
    }

    if (!json_is_integer(v)) {
        return NGX_HTTP_ES_JWS_INVALID;
    }

    *value = json_integer_value(v);

    return NGX_HTTP_ES_JWS_OK;
}


/* a scalar as text into buf (at least 32 bytes), or -1 */

static int
ngx_http_es_jws_scalar(json_t *v, const char **s, size_t *len, char *buf,
    size_t size)
{
    switch (json_typeof(v)) {

    case JSON_STRING:
        *s = json_string_value(v);
        *len = json_string_length(v);
        return 0;

    case JSON_INTEGER:
        *len = (size_t) snprintf(buf, size, "%" JSON_INTEGER_FORMAT,
                                 json_integer_value(v));
        *s = buf;
        return 0;

    case JSON_REAL:
        *len = (size_t) snprintf(buf, size, "%.17g", json_real_value(v));
        *s = buf;
        return 0;

    case JSON_TRUE:
        *s = "true";
        *len = 4;
        return 0;

    case JSON_FALSE:
        *s = "false";
        *len = 5;
        return 0;

    default:
        return -1;
    }
}


size_t
ngx_http_es_jws_claim_text(ngx_http_es_jws_claims_t *claims,
    const unsigned char *path, size_t len, unsigned char *dst, size_t size)
{
    size_t       i, n, total;
    json_t      *v, *e;
    const char  *s;
    char         num[48];

    v = ngx_http_es_jws_claim_find(claims, path, len);

    if (v == NULL || json_is_null(v)) {
        return 0;
    }

    if (ngx_http_es_jws_scalar(v, &s, &n, num, sizeof(num)) == 0) {
        if (dst) {
            memcpy(dst, s, n < size ? n : size);
        }

        return n;
    }

    if (json_is_array(v)) {
        total = 0;

        json_array_foreach(v, i, e) {
            if (ngx_http_es_jws_scalar(e, &s, &n, num, sizeof(num)) != 0) {
                goto dump;
            }
        }

        json_array_foreach(v, i, e) {
            (void) ngx_http_es_jws_scalar(e, &s, &n, num, sizeof(num));

            if (i && dst && total < size) {
                dst[total] = ',';
            }

            total += (i != 0);

            if (dst && total < size) {
                memcpy(dst + total, s, n < size - total ? n : size - total);
            }

            total += n;
        }

        return total;
    }

dump:

    n = json_dumpb(v, dst ? (char *) dst : NULL, dst ? size : 0,
                   JSON_COMPACT | JSON_ENCODE_ANY);

    return n;
}


int
ngx_http_es_jws_claim_strings(ngx_http_es_jws_claims_t *claims,
    const unsigned char *path, size_t len, ngx_http_es_jws_string_pt handler,
    void *data)
{
    int      rc;
    size_t   i;
    json_t  *v, *e;

    v = ngx_http_es_jws_claim_find(claims, path, len);

    if (v == NULL) {
        return NGX_HTTP_ES_JWS_ABSENT;
    }

    if (json_is_string(v)) {
        return handler(data, (const unsigned char *) json_string_value(v),
                       json_string_length(v));
    }

    if (!json_is_array(v)) {
        return NGX_HTTP_ES_JWS_INVALID;
    }

    json_array_foreach(v, i, e) {
        if (!json_is_string(e)) {
            return NGX_HTTP_ES_JWS_INVALID;
        }
    }

    json_array_foreach(v, i, e) {
        rc = handler(data, (const unsigned char *) json_string_value(e),
                     json_string_length(e));

        if (rc != NGX_HTTP_ES_JWS_OK) {
            return rc;
        }
    }

    return NGX_HTTP_ES_JWS_OK;
}


static int
ngx_http_es_jws_scalar_eq(json_t *v, const unsigned char *s, size_t slen)
{
    size_t       n;
    const char  *t;
    char         num[48];

    /* reals are not compared: their text form is not unique */

    if (json_is_real(v)
        || ngx_http_es_jws_scalar(v, &t, &n, num, sizeof(num)) != 0)
    {
        return 0;
    }

    return n == slen && memcmp(t, s, n) == 0;
}


int
ngx_http_es_jws_claim_match(ngx_http_es_jws_claims_t *claims,
    const unsigned char *path, size_t len, const unsigned char *s,
    size_t slen)
{
    size_t   i;
    json_t  *v, *e;

    v = ngx_http_es_jws_claim_find(claims, path, len);

    if (v == NULL) {
        return NGX_HTTP_ES_JWS_ABSENT;
    }

    if (slen == 0) {
        return NGX_HTTP_ES_JWS_INVALID;
    }

    if (json_is_array(v)) {
        json_array_foreach(v, i, e) {
            if (ngx_http_es_jws_scalar_eq(e, s, slen)) {
                return NGX_HTTP_ES_JWS_OK;
            }
        }

        return NGX_HTTP_ES_JWS_INVALID;
    }

    return ngx_http_es_jws_scalar_eq(v, s, slen)
           ? NGX_HTTP_ES_JWS_OK : NGX_HTTP_ES_JWS_INVALID;
}


/* minting */

size_t
ngx_http_es_jws_compact_length(ngx_http_es_jws_key_t *key, size_t header_len,
    size_t payload_len)
{
    return ngx_http_es_jws_b64_encoded_length(header_len) + 1
           + ngx_http_es_jws_b64_encoded_length(payload_len) + 1
           + ngx_http_es_jws_b64_encoded_length(key->sig_len);
}


int
ngx_http_es_jws_sign_compact(ngx_http_es_jws_key_t *key,
    const unsigned char *header, size_t header_len,
    const unsigned char *payload, size_t payload_len, unsigned char *out,
    size_t *out_len)
{
    int             rc;
    size_t          n, sig_len;
    unsigned char  *p;
    unsigned char   sig[NGX_HTTP_ES_JWS_MAX_SIG];

    p = out;
    p += ngx_http_es_jws_b64_encode(p, header, header_len);
    *p++ = '.';
    p += ngx_http_es_jws_b64_encode(p, payload, payload_len);

    n = p - out;

    rc = ngx_http_es_jws_sign(key, out, n, sig, &sig_len);
    if (rc != NGX_HTTP_ES_JWS_OK) {
        return rc;
    }

    *p++ = '.';
    p += ngx_http_es_jws_b64_encode(p, sig, sig_len);

    OPENSSL_cleanse(sig, sizeof(sig));

    *out_len = p - out;

    return NGX_HTTP_ES_JWS_OK;
}


/*
 * The digest and the random bytes of every API key check and every mint:
 * a fetched SHA-256 and a reused context, and random bytes drawn from
 * OpenSSL in blocks.  A block must never be shared by processes: each
 * worker calls random_reset() when it starts.  The blocks are kept as one
 * of the changes that halved a mint's cost (docs/performance.md).
 */

static EVP_MD      *ngx_http_es_jws_sha256_md;
static EVP_MD_CTX  *ngx_http_es_jws_sha256_ctx;


int
ngx_http_es_jws_sha256(const unsigned char *in, size_t len,
    unsigned char *out)
{
    unsigned int   n;
    EVP_MD        *md;
    EVP_MD_CTX    *ctx;

    md = ngx_http_es_jws_sha256_md;
    ctx = ngx_http_es_jws_sha256_ctx;

    if (md == NULL) {
        md = EVP_MD_fetch(NULL, "SHA256", NULL);
        ctx = EVP_MD_CTX_new();

        if (md == NULL || ctx == NULL) {
            EVP_MD_free(md);
            EVP_MD_CTX_free(ctx);
            ERR_clear_error();
            return NGX_HTTP_ES_JWS_ERROR;
        }

        ngx_http_es_jws_sha256_md = md;
        ngx_http_es_jws_sha256_ctx = ctx;
    }

    if (EVP_DigestInit_ex2(ctx, md, NULL) != 1
        || EVP_DigestUpdate(ctx, in, len) != 1
        || EVP_DigestFinal_ex(ctx, out, &n) != 1)
    {
        ERR_clear_error();
        return NGX_HTTP_ES_JWS_ERROR;
    }

    return NGX_HTTP_ES_JWS_OK;
}


#define NGX_HTTP_ES_JWS_RANDOM_BLOCK  512


static size_t         ngx_http_es_jws_random_left;
static unsigned char  ngx_http_es_jws_random_block[
                          NGX_HTTP_ES_JWS_RANDOM_BLOCK];


void
ngx_http_es_jws_random_reset(void)
{
    OPENSSL_cleanse(ngx_http_es_jws_random_block,
                    sizeof(ngx_http_es_jws_random_block));
    ngx_http_es_jws_random_left = 0;
}


/* what the process keeps for SHA-256 and random bytes, when it exits */

void
ngx_http_es_jws_done(void)
{
    EVP_MD_CTX_free(ngx_http_es_jws_sha256_ctx);
    EVP_MD_free(ngx_http_es_jws_sha256_md);

    ngx_http_es_jws_sha256_ctx = NULL;
    ngx_http_es_jws_sha256_md = NULL;

    ngx_http_es_jws_random_reset();
}


int
ngx_http_es_jws_random(unsigned char *buf, size_t len)
{
    size_t          *left;
    unsigned char   *block;

    left = &ngx_http_es_jws_random_left;
    block = ngx_http_es_jws_random_block;

    if (len > NGX_HTTP_ES_JWS_RANDOM_BLOCK / 4) {
        if (RAND_bytes(buf, (int) len) != 1) {
            ERR_clear_error();
            return NGX_HTTP_ES_JWS_ERROR;
        }

        return NGX_HTTP_ES_JWS_OK;
    }

    if (*left < len) {
        if (RAND_bytes(block, NGX_HTTP_ES_JWS_RANDOM_BLOCK) != 1) {
            ERR_clear_error();
            *left = 0;
            return NGX_HTTP_ES_JWS_ERROR;
        }

        *left = NGX_HTTP_ES_JWS_RANDOM_BLOCK;
    }

    /* bytes handed out are wiped from the block */

    block += NGX_HTTP_ES_JWS_RANDOM_BLOCK - *left;

    memcpy(buf, block, len);
    OPENSSL_cleanse(block, len);
    *left -= len;

    return NGX_HTTP_ES_JWS_OK;
}


/* constant time for equal lengths; 1 when equal */

int
ngx_http_es_jws_memeq(const void *a, const void *b, size_t len)
{
    return CRYPTO_memcmp(a, b, len) == 0;
}
