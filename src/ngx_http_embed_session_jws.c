
/*
 * Copyright (C) The ngx_http_embed_session_module authors
 *
 * The compact JWS codec.  The order of checks follows docs/security.md:
 * size cap, exactly three segments, strict decoding and parsing of the
 * small header, key and alg selection (by the caller), exact signature
 * length, signature, and only then the payload.
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
#include <openssl/opensslv.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>

#include "ngx_http_embed_session_jws.h"
#include "ngx_http_embed_session_json.h"


#if (OPENSSL_VERSION_NUMBER < 0x30000000L)
#error "the embed_session module requires OpenSSL 3.0 or later"
#endif


typedef enum {
    NGX_HTTP_ES_KIND_HMAC = 1,
    NGX_HTTP_ES_KIND_EDDSA,
    NGX_HTTP_ES_KIND_ECDSA,
    NGX_HTTP_ES_KIND_RSA,
    NGX_HTTP_ES_KIND_RSA_PSS
} ngx_http_es_jws_kind_t;


typedef struct {
    const char               *name;
    ngx_http_es_jws_kind_t    kind;
    const char               *md;        /* digest, NULL for EdDSA */
    size_t                    hash_len;  /* minimum HMAC secret length */
    size_t                    block;     /* HMAC block size */
    const char               *group;     /* EC group, JWK crv */
    const char               *crv;
    size_t                    coord;     /* EC coordinate length */
} ngx_http_es_jws_alg_desc_t;


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


typedef union {
    SHA256_CTX                sha256;
    SHA512_CTX                sha512;       /* and SHA-384 */
} ngx_http_es_jws_sha_t;


struct ngx_http_es_jws_key_s {
    ngx_http_es_jws_alg_t     alg;
    const ngx_http_es_jws_alg_desc_t  *desc;

    EVP_PKEY                 *pkey;
    EVP_MD                   *md;

    /* HMAC: digest states with the padded secret absorbed */
    ngx_http_es_jws_sha_t     ipad;
    ngx_http_es_jws_sha_t     opad;

    /* EdDSA: a signing context set up once, per process */
    EVP_MD_CTX               *sign_ctx;

    size_t                    sig_len;
    size_t                    kid_len;
    unsigned                  can_sign:1;
    unsigned char             kid[NGX_HTTP_ES_JWS_MAX_KID];
};


struct ngx_http_es_jws_claims_s {
    json_t                   *root;
    unsigned                  refs;
};


#define NGX_HTTP_ES_RSA_MIN_BITS   2048
#define NGX_HTTP_ES_RSA_MAX_BITS   4096
#define NGX_HTTP_ES_MAX_PARAM      512   /* decoded JWK parameter */
#define NGX_HTTP_ES_MAX_PAYLOAD                                               \
    (NGX_HTTP_ES_JWS_MAX_TOKEN / 4 * 3)


static int ngx_http_es_jws_eddsa_sign(ngx_http_es_jws_key_t *key,
    const unsigned char *in, size_t len, unsigned char *sig,
    size_t *sig_len);
static int ngx_http_es_jws_sha_absorb(ngx_http_es_jws_key_t *key,
    ngx_http_es_jws_sha_t *c, const unsigned char *block);
static int ngx_http_es_jws_sha_finish(ngx_http_es_jws_key_t *key,
    ngx_http_es_jws_sha_t *c, const unsigned char *in, size_t len,
    unsigned char *md);
static int ngx_http_es_jws_hmac(ngx_http_es_jws_key_t *key,
    const unsigned char *in, size_t len, unsigned char *mac);
static int ngx_http_es_jws_key_load(json_t *jwk, ngx_http_es_jws_alg_t alg,
    const unsigned char *kid, size_t kid_len, ngx_http_es_jws_key_t **keyp,
    char *err, size_t err_len);
static int ngx_http_es_jws_key_init(ngx_http_es_jws_key_t *key,
    char *err, size_t err_len);
static int ngx_http_es_jws_key_pair(ngx_http_es_jws_key_t *key,
    char *err, size_t err_len);
static int ngx_http_es_jws_ed25519_weak(const unsigned char *pk);
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


/* keys */

static int
ngx_http_es_jws_no_password(char *buf, int size, int rwflag, void *u)
{
    /* never prompt for a pass phrase from a worker or from nginx -t */
    return -1;
}


static int
ngx_http_es_jws_b64_param(json_t *jwk, const char *name, unsigned char *dst,
    size_t *len, int required, char *err, size_t err_len)
{
    json_t  *v;

    v = json_object_get(jwk, name);

    if (v == NULL) {
        if (required) {
            snprintf(err, err_len, "\"%s\" is missing", name);
            return NGX_HTTP_ES_JWS_INVALID;
        }

        *len = 0;
        return NGX_HTTP_ES_JWS_ABSENT;
    }

    /*
     * the unpadded base64url length of MAX_PARAM bytes: 683 characters
     * for the 512 bytes of a 4096-bit modulus
     */

    if (json_is_string(v)
        && json_string_length(v) > (NGX_HTTP_ES_MAX_PARAM * 4 + 2) / 3)
    {
        snprintf(err, err_len, "\"%s\" is longer than %d bytes", name,
                 NGX_HTTP_ES_MAX_PARAM);
        return NGX_HTTP_ES_JWS_INVALID;
    }

    if (!json_is_string(v)
        || ngx_http_es_jws_b64_decode(dst, len,
                                      (const unsigned char *)
                                          json_string_value(v),
                                      json_string_length(v))
           != NGX_HTTP_ES_JWS_OK)
    {
        snprintf(err, err_len, "\"%s\" is not valid base64url", name);
        return NGX_HTTP_ES_JWS_INVALID;
    }

    return NGX_HTTP_ES_JWS_OK;
}


static EVP_PKEY *
ngx_http_es_jws_fromdata(const char *type, OSSL_PARAM_BLD *bld, int priv)
{
    EVP_PKEY      *pkey;
    OSSL_PARAM    *params;
    EVP_PKEY_CTX  *ctx;

    pkey = NULL;
    ctx = NULL;

    params = OSSL_PARAM_BLD_to_param(bld);
    if (params == NULL) {
        return NULL;
    }

    ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
    if (ctx == NULL || EVP_PKEY_fromdata_init(ctx) != 1
        || EVP_PKEY_fromdata(ctx, &pkey,
                             priv ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY,
                             params)
           != 1)
    {
        pkey = NULL;
    }

    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);

    return pkey;
}


static int
ngx_http_es_jws_check_pkey(EVP_PKEY *pkey, int priv)
{
    int            rc;
    EVP_PKEY_CTX  *ctx;

    ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
    if (ctx == NULL) {
        return 0;
    }

    rc = (EVP_PKEY_public_check(ctx) == 1);

    if (rc && priv) {
        rc = (EVP_PKEY_pairwise_check(ctx) == 1);
    }

    EVP_PKEY_CTX_free(ctx);

    return rc;
}


static EVP_PKEY *
ngx_http_es_jws_jwk_ec(json_t *jwk, const ngx_http_es_jws_alg_desc_t *desc,
    int *priv, char *err, size_t err_len)
{
    int              rc;
    size_t           xl, yl, dl;
    BIGNUM          *bn;
    EVP_PKEY        *pkey;
    OSSL_PARAM_BLD  *bld;
    unsigned char    pub[1 + 2 * 48], x[NGX_HTTP_ES_MAX_PARAM],
                     y[NGX_HTTP_ES_MAX_PARAM], d[NGX_HTTP_ES_MAX_PARAM];

    if (ngx_http_es_jws_b64_param(jwk, "x", x, &xl, 1, err, err_len)
        != NGX_HTTP_ES_JWS_OK
        || ngx_http_es_jws_b64_param(jwk, "y", y, &yl, 1, err, err_len)
           != NGX_HTTP_ES_JWS_OK)
    {
        return NULL;
    }

    rc = ngx_http_es_jws_b64_param(jwk, "d", d, &dl, 0, err, err_len);
    if (rc == NGX_HTTP_ES_JWS_INVALID) {
        return NULL;
    }

    if (xl != desc->coord || yl != desc->coord
        || (rc == NGX_HTTP_ES_JWS_OK && dl != desc->coord))
    {
        snprintf(err, err_len, "%s coordinates must be %zu bytes long",
                 desc->crv, desc->coord);
        return NULL;
    }

    pub[0] = 0x04;
    memcpy(pub + 1, x, xl);
    memcpy(pub + 1 + xl, y, yl);

    *priv = (rc == NGX_HTTP_ES_JWS_OK);

    bld = OSSL_PARAM_BLD_new();
    bn = NULL;
    pkey = NULL;

    if (bld == NULL
        || OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
                                           desc->group, 0) != 1
        || OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY,
                                            pub, 1 + xl + yl) != 1)
    {
        goto done;
    }

    if (*priv) {
        bn = BN_secure_new();
        if (bn == NULL || BN_bin2bn(d, (int) dl, bn) == NULL
            || OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, bn) != 1)
        {
            goto done;
        }
    }

    pkey = ngx_http_es_jws_fromdata("EC", bld, *priv);

    if (pkey != NULL && !ngx_http_es_jws_check_pkey(pkey, *priv)) {
        EVP_PKEY_free(pkey);
        pkey = NULL;
    }

done:

    if (pkey == NULL) {
        snprintf(err, err_len, "not a valid %s key (point not on the curve "
                 "or private key does not match)", desc->crv);
    }

    OPENSSL_cleanse(d, sizeof(d));
    BN_clear_free(bn);
    OSSL_PARAM_BLD_free(bld);

    return pkey;
}


static EVP_PKEY *
ngx_http_es_jws_jwk_rsa(json_t *jwk, int *priv, char *err, size_t err_len)
{
    int              rc, i;
    size_t           len;
    BIGNUM          *bn[8];
    EVP_PKEY        *pkey;
    OSSL_PARAM_BLD  *bld;
    unsigned char    buf[NGX_HTTP_ES_MAX_PARAM];

    static const char  *names[] = {
        "n", "e", "d", "p", "q", "dp", "dq", "qi"
    };

    static const char  *params[] = {
        OSSL_PKEY_PARAM_RSA_N, OSSL_PKEY_PARAM_RSA_E, OSSL_PKEY_PARAM_RSA_D,
        OSSL_PKEY_PARAM_RSA_FACTOR1, OSSL_PKEY_PARAM_RSA_FACTOR2,
        OSSL_PKEY_PARAM_RSA_EXPONENT1, OSSL_PKEY_PARAM_RSA_EXPONENT2,
        OSSL_PKEY_PARAM_RSA_COEFFICIENT1
    };

    pkey = NULL;
    memset(bn, 0, sizeof(bn));
    *priv = 0;

    bld = OSSL_PARAM_BLD_new();
    if (bld == NULL) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }

    for (i = 0; i < 8; i++) {
        rc = ngx_http_es_jws_b64_param(jwk, names[i], buf, &len, i < 2,
                                       err, err_len);

        if (rc == NGX_HTTP_ES_JWS_INVALID) {
            goto failed;
        }

        if (rc == NGX_HTTP_ES_JWS_ABSENT) {
            if (i == 2) {
                break;
            }

            /* CRT parameters come all together or not at all */

            if (i > 2) {
                if (i > 3) {
                    snprintf(err, err_len, "incomplete RSA private key");
                    goto failed;
                }

                break;
            }

            continue;
        }

        bn[i] = (i >= 2) ? BN_secure_new() : BN_new();
        if (bn[i] == NULL || BN_bin2bn(buf, (int) len, bn[i]) == NULL
            || OSSL_PARAM_BLD_push_BN(bld, params[i], bn[i]) != 1)
        {
            snprintf(err, err_len, "out of memory");
            goto failed;
        }

        if (i == 2) {
            *priv = 1;
        }
    }

    if (BN_num_bits(bn[0]) < NGX_HTTP_ES_RSA_MIN_BITS
        || BN_num_bits(bn[0]) > NGX_HTTP_ES_RSA_MAX_BITS)
    {
        snprintf(err, err_len, "RSA modulus of %d bits, must be %d to %d",
                 BN_num_bits(bn[0]), NGX_HTTP_ES_RSA_MIN_BITS,
                 NGX_HTTP_ES_RSA_MAX_BITS);
        goto failed;
    }

    pkey = ngx_http_es_jws_fromdata("RSA", bld, *priv);

    if (pkey == NULL || !ngx_http_es_jws_check_pkey(pkey, 0)) {
        EVP_PKEY_free(pkey);
        pkey = NULL;
        snprintf(err, err_len, "not a valid RSA key");
    }

failed:

    OPENSSL_cleanse(buf, sizeof(buf));

    for (i = 0; i < 8; i++) {
        BN_clear_free(bn[i]);
    }

    OSSL_PARAM_BLD_free(bld);

    return pkey;
}


static EVP_PKEY *
ngx_http_es_jws_jwk_okp(json_t *jwk, int *priv, char *err, size_t err_len)
{
    int             rc;
    size_t          xl, dl, pl;
    EVP_PKEY       *pkey;
    unsigned char   x[NGX_HTTP_ES_MAX_PARAM], d[NGX_HTTP_ES_MAX_PARAM],
                    pub[32];

    if (ngx_http_es_jws_b64_param(jwk, "x", x, &xl, 1, err, err_len)
        != NGX_HTTP_ES_JWS_OK)
    {
        return NULL;
    }

    rc = ngx_http_es_jws_b64_param(jwk, "d", d, &dl, 0, err, err_len);
    if (rc == NGX_HTTP_ES_JWS_INVALID) {
        return NULL;
    }

    *priv = (rc == NGX_HTTP_ES_JWS_OK);

    if (xl != 32 || (*priv && dl != 32)) {
        snprintf(err, err_len, "Ed25519 keys are 32 bytes long");
        return NULL;
    }

    if (ngx_http_es_jws_ed25519_weak(x)) {
        snprintf(err, err_len, "Ed25519 public key of small order or in "
                 "non-canonical encoding");
        return NULL;
    }

    if (!*priv) {
        pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, x, 32);

    } else {
        pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, d, 32);
        OPENSSL_cleanse(d, sizeof(d));

        pl = sizeof(pub);

        if (pkey != NULL
            && (EVP_PKEY_get_raw_public_key(pkey, pub, &pl) != 1
                || pl != 32 || memcmp(pub, x, 32) != 0))
        {
            EVP_PKEY_free(pkey);
            snprintf(err, err_len, "\"x\" does not match the private key");
            return NULL;
        }
    }

    if (pkey == NULL) {
        snprintf(err, err_len, "not a valid Ed25519 key");
    }

    return pkey;
}


static int
ngx_http_es_jws_hmac_init(ngx_http_es_jws_key_t *key,
    const unsigned char *secret, size_t len, char *err, size_t err_len)
{
    size_t          i;
    unsigned int    n;
    unsigned char   k[128], pad[128];

    if (len < key->desc->hash_len) {
        snprintf(err, err_len, "%s secret of %zu bytes, must be at least %zu",
                 key->desc->name, len, key->desc->hash_len);
        return NGX_HTTP_ES_JWS_INVALID;
    }

    memset(k, 0, sizeof(k));

    if (len > key->desc->block) {
        if (EVP_Digest(secret, len, k, &n, key->md, NULL) != 1) {
            goto failed;
        }

    } else {
        memcpy(k, secret, len);
    }

    for (i = 0; i < key->desc->block; i++) {
        pad[i] = k[i] ^ 0x36;
    }

    if (!ngx_http_es_jws_sha_absorb(key, &key->ipad, pad)) {
        goto failed;
    }

    for (i = 0; i < key->desc->block; i++) {
        pad[i] = k[i] ^ 0x5c;
    }

    if (!ngx_http_es_jws_sha_absorb(key, &key->opad, pad)) {
        goto failed;
    }

    OPENSSL_cleanse(k, sizeof(k));
    OPENSSL_cleanse(pad, sizeof(pad));

    key->can_sign = 1;

    return NGX_HTTP_ES_JWS_OK;

failed:

    OPENSSL_cleanse(k, sizeof(k));
    OPENSSL_cleanse(pad, sizeof(pad));
    snprintf(err, err_len, "HMAC initialisation failed");

    return NGX_HTTP_ES_JWS_ERROR;
}


static int
ngx_http_es_jws_key_load(json_t *jwk, ngx_http_es_jws_alg_t alg,
    const unsigned char *kid, size_t kid_len, ngx_http_es_jws_key_t **keyp,
    char *err, size_t err_len)
{
    int                     rc, priv;
    size_t                  len, i;
    json_t                 *v, *op;
    const char             *kty, *crv;
    ngx_http_es_jws_key_t  *key;
    ngx_http_es_jws_alg_t   jalg;
    unsigned char           secret[NGX_HTTP_ES_MAX_PARAM];

    if (!json_is_object(jwk)) {
        snprintf(err, err_len, "not a JSON object");
        return NGX_HTTP_ES_JWS_INVALID;
    }

    v = json_object_get(jwk, "kty");
    if (!json_is_string(v)) {
        snprintf(err, err_len, "\"kty\" is missing or not a string");
        return NGX_HTTP_ES_JWS_INVALID;
    }

    kty = json_string_value(v);

    v = json_object_get(jwk, "use");
    if (v != NULL && (!json_is_string(v)
                      || strcmp(json_string_value(v), "sig") != 0))
    {
        snprintf(err, err_len, "key is not for signatures (\"use\")");
        return NGX_HTTP_ES_JWS_INVALID;
    }

    v = json_object_get(jwk, "key_ops");
    if (v != NULL) {
        rc = 0;

        if (json_is_array(v)) {
            for (i = 0; i < json_array_size(v); i++) {
                op = json_array_get(v, i);

                if (json_is_string(op)
                    && (strcmp(json_string_value(op), "sign") == 0
                        || strcmp(json_string_value(op), "verify") == 0))
                {
                    rc = 1;
                }
            }
        }

        if (!rc) {
            snprintf(err, err_len,
                     "key is not for signatures (\"key_ops\")");
            return NGX_HTTP_ES_JWS_INVALID;
        }
    }

    v = json_object_get(jwk, "alg");
    if (v != NULL) {
        if (!json_is_string(v)) {
            snprintf(err, err_len, "\"alg\" is not a string");
            return NGX_HTTP_ES_JWS_INVALID;
        }

        jalg = ngx_http_es_jws_alg((const unsigned char *) json_string_value(v),
                                   json_string_length(v));

        if (jalg == NGX_HTTP_ES_JWS_ALG_UNKNOWN) {
            snprintf(err, err_len, "unsupported \"alg\" \"%.16s\"",
                     json_string_value(v));
            return NGX_HTTP_ES_JWS_INVALID;
        }

        if (alg != NGX_HTTP_ES_JWS_ALG_UNKNOWN && alg != jalg) {
            snprintf(err, err_len, "\"alg\" \"%s\" differs from alg=%s",
                     json_string_value(v), ngx_http_es_jws_alg_name(alg));
            return NGX_HTTP_ES_JWS_INVALID;
        }

        alg = jalg;
    }

    if (alg == NGX_HTTP_ES_JWS_ALG_UNKNOWN) {
        snprintf(err, err_len, "no \"alg\": every key must be bound to one "
                 "algorithm (set \"alg\" or alg=)");
        return NGX_HTTP_ES_JWS_INVALID;
    }

    v = json_object_get(jwk, "kid");
    if (v != NULL) {
        if (!json_is_string(v) || json_string_length(v) == 0
            || json_string_length(v) > NGX_HTTP_ES_JWS_MAX_KID)
        {
            snprintf(err, err_len, "\"kid\" must be a string of 1 to %d "
                     "bytes", NGX_HTTP_ES_JWS_MAX_KID);
            return NGX_HTTP_ES_JWS_INVALID;
        }

        if (kid != NULL) {
            snprintf(err, err_len, "kid= given for a key that has a \"kid\"");
            return NGX_HTTP_ES_JWS_INVALID;
        }

        kid = (const unsigned char *) json_string_value(v);
        kid_len = json_string_length(v);
    }

    key = calloc(1, sizeof(ngx_http_es_jws_key_t));
    if (key == NULL) {
        snprintf(err, err_len, "out of memory");
        return NGX_HTTP_ES_JWS_ERROR;
    }

    key->alg = alg;
    key->desc = &ngx_http_es_jws_algs[alg];

    if (kid != NULL) {
        memcpy(key->kid, kid, kid_len);
        key->kid_len = kid_len;
    }

    rc = NGX_HTTP_ES_JWS_INVALID;
    priv = 0;

    switch (key->desc->kind) {

    case NGX_HTTP_ES_KIND_HMAC:

        if (strcmp(kty, "oct") != 0) {
            goto mismatch;
        }

        if (ngx_http_es_jws_b64_param(jwk, "k", secret, &len, 1, err,
                                      err_len)
            != NGX_HTTP_ES_JWS_OK)
        {
            break;
        }

        rc = ngx_http_es_jws_key_init(key, err, err_len);
        if (rc == NGX_HTTP_ES_JWS_OK) {
            rc = ngx_http_es_jws_hmac_init(key, secret, len, err, err_len);
        }

        OPENSSL_cleanse(secret, sizeof(secret));
        break;

    case NGX_HTTP_ES_KIND_EDDSA:

        v = json_object_get(jwk, "crv");
        crv = json_is_string(v) ? json_string_value(v) : "";

        if (strcmp(kty, "OKP") != 0 || strcmp(crv, "Ed25519") != 0) {
            goto mismatch;
        }

        key->pkey = ngx_http_es_jws_jwk_okp(jwk, &priv, err, err_len);
        break;

    case NGX_HTTP_ES_KIND_ECDSA:

        v = json_object_get(jwk, "crv");
        crv = json_is_string(v) ? json_string_value(v) : "";

        if (strcmp(kty, "EC") != 0 || strcmp(crv, key->desc->crv) != 0) {
            goto mismatch;
        }

        key->pkey = ngx_http_es_jws_jwk_ec(jwk, key->desc, &priv, err,
                                           err_len);
        break;

    default: /* RSA */

        if (strcmp(kty, "RSA") != 0) {
            goto mismatch;
        }

        key->pkey = ngx_http_es_jws_jwk_rsa(jwk, &priv, err, err_len);
        break;
    }

    if (key->desc->kind != NGX_HTTP_ES_KIND_HMAC && key->pkey != NULL) {
        key->can_sign = priv;
        rc = ngx_http_es_jws_key_init(key, err, err_len);

        if (rc == NGX_HTTP_ES_JWS_OK && priv) {
            rc = ngx_http_es_jws_key_pair(key, err, err_len);
        }
    }

    if (rc != NGX_HTTP_ES_JWS_OK) {
        ngx_http_es_jws_key_free(key);
        ERR_clear_error();
        return rc;
    }

    *keyp = key;

    return NGX_HTTP_ES_JWS_OK;

mismatch:

    snprintf(err, err_len, "key type \"%s\" does not fit alg %s", kty,
             key->desc->name);
    ngx_http_es_jws_key_free(key);

    return NGX_HTTP_ES_JWS_INVALID;
}


/*
 * A private key must sign what its public half verifies.  EC and Ed25519
 * are checked when they are built; an RSA "d" of another key would load
 * and sign tokens nobody can verify.
 */

static int
ngx_http_es_jws_key_pair(ngx_http_es_jws_key_t *key, char *err,
    size_t err_len)
{
    size_t         len;
    unsigned char  sig[NGX_HTTP_ES_JWS_MAX_SIG];

    static const unsigned char  probe[] = "embed_session key pair check";

    if (ngx_http_es_jws_sign(key, probe, sizeof(probe) - 1, sig, &len)
        != NGX_HTTP_ES_JWS_OK
        || ngx_http_es_jws_verify(key, probe, sizeof(probe) - 1, sig, len)
           != NGX_HTTP_ES_JWS_OK)
    {
        snprintf(err, err_len, "the private key does not match the public "
                 "key");
        return NGX_HTTP_ES_JWS_INVALID;
    }

    return NGX_HTTP_ES_JWS_OK;
}


/* digest and signature length, once the key material is in place */

static int
ngx_http_es_jws_key_init(ngx_http_es_jws_key_t *key, char *err,
    size_t err_len)
{
    if (key->desc->md) {
        key->md = EVP_MD_fetch(NULL, key->desc->md, NULL);
        if (key->md == NULL) {
            snprintf(err, err_len, "digest %s is not available",
                     key->desc->md);
            return NGX_HTTP_ES_JWS_ERROR;
        }
    }

    switch (key->desc->kind) {

    case NGX_HTTP_ES_KIND_HMAC:
        key->sig_len = key->desc->hash_len;
        break;

    case NGX_HTTP_ES_KIND_EDDSA:
        key->sig_len = 64;
        break;

    case NGX_HTTP_ES_KIND_ECDSA:
        key->sig_len = 2 * key->desc->coord;
        break;

    default:
        key->sig_len = (size_t) EVP_PKEY_get_size(key->pkey);
        break;
    }

    return NGX_HTTP_ES_JWS_OK;
}


static void
ngx_http_es_jws_key_name(json_t *jwk, size_t n, const unsigned char *kid,
    size_t kid_len, char *buf, size_t size)
{
    size_t       i, len, cut;
    json_t      *v;
    const char  *s;

    v = json_is_object(jwk) ? json_object_get(jwk, "kid") : NULL;

    if (json_is_string(v)) {
        s = json_string_value(v);
        len = json_string_length(v);

    } else if (kid != NULL) {
        s = (const char *) kid;
        len = kid_len;

    } else {
        snprintf(buf, size, "key #%zu", n);
        return;
    }

    cut = (len > NGX_HTTP_ES_JWS_MAX_KID);

    if (cut) {
        len = NGX_HTTP_ES_JWS_MAX_KID;
    }

    i = (size_t) snprintf(buf, size, "key #%zu (kid \"", n);

    /* the kid is operator data, but keep the message printable */

    for ( /* void */ ; len && i + 8 < size; len--, s++) {
        buf[i++] = (*s >= 0x20 && *s < 0x7f && *s != '"') ? *s : '?';
    }

    snprintf(buf + i, size - i, cut ? "...\")" : "\")");
}


int
ngx_http_es_jws_jwks_parse(const unsigned char *buf, size_t len,
    ngx_http_es_jws_alg_t alg, const unsigned char *kid, size_t kid_len,
    ngx_http_es_jws_key_pt handler, void *data, char *err, size_t err_len)
{
    int                     rc;
    size_t                  i, n;
    json_t                 *root, *keys, *jwk;
    char                   *p;
    json_error_t            jerr;
    ngx_http_es_jws_key_t  *key;
    char                    name[NGX_HTTP_ES_JWS_MAX_KID + 32], msg[256];

    if (kid_len > NGX_HTTP_ES_JWS_MAX_KID) {
        snprintf(err, err_len, "kid longer than %d bytes",
                 NGX_HTTP_ES_JWS_MAX_KID);
        return NGX_HTTP_ES_JWS_INVALID;
    }

    root = json_loadb((const char *) buf, len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL) {

        /* jansson quotes the input "near" the error: it may be a secret */

        p = strstr(jerr.text, " near ");
        if (p) {
            *p = '\0';
        }

        snprintf(err, err_len, "invalid JSON at line %d, column %d: %s",
                 jerr.line, jerr.column, jerr.text);
        return NGX_HTTP_ES_JWS_INVALID;
    }

    keys = json_object_get(root, "keys");

    if (keys != NULL) {
        if (!json_is_array(keys) || json_array_size(keys) == 0) {
            snprintf(err, err_len, "\"keys\" must be a non-empty array");
            json_decref(root);
            return NGX_HTTP_ES_JWS_INVALID;
        }

        n = json_array_size(keys);

        if (kid != NULL && n != 1) {
            snprintf(err, err_len, "kid= needs a file with a single key");
            json_decref(root);
            return NGX_HTTP_ES_JWS_INVALID;
        }

    } else {
        n = 1;
    }

    rc = NGX_HTTP_ES_JWS_OK;

    for (i = 0; i < n; i++) {
        jwk = keys ? json_array_get(keys, i) : root;

        rc = ngx_http_es_jws_key_load(jwk, alg, kid, kid_len, &key,
                                      msg, sizeof(msg));

        if (rc == NGX_HTTP_ES_JWS_OK) {
            rc = handler(data, key);

            if (rc != NGX_HTTP_ES_JWS_OK) {
                snprintf(msg, sizeof(msg), "rejected");
            }
        }

        if (rc != NGX_HTTP_ES_JWS_OK) {
            ngx_http_es_jws_key_name(jwk, i + 1, kid, kid_len, name,
                                     sizeof(name));
            snprintf(err, err_len, "%s: %s", name, msg);
            break;
        }
    }

    json_decref(root);

    return rc;
}


int
ngx_http_es_jws_pem_parse(const unsigned char *buf, size_t len,
    ngx_http_es_jws_alg_t alg, const unsigned char *kid, size_t kid_len,
    ngx_http_es_jws_key_t **keyp, char *err, size_t err_len)
{
    int                     ok, priv;
    BIO                    *bio;
    char                    group[32];
    size_t                  pl;
    EVP_PKEY               *pkey;
    unsigned char           pub[32];
    ngx_http_es_jws_key_t  *key;
    const ngx_http_es_jws_alg_desc_t  *desc;

    if (alg == NGX_HTTP_ES_JWS_ALG_UNKNOWN) {
        snprintf(err, err_len, "a PEM key needs alg=");
        return NGX_HTTP_ES_JWS_INVALID;
    }

    desc = &ngx_http_es_jws_algs[alg];

    if (desc->kind == NGX_HTTP_ES_KIND_HMAC) {
        snprintf(err, err_len, "%s secrets are loaded from a JWK (\"oct\"), "
                 "not PEM", desc->name);
        return NGX_HTTP_ES_JWS_INVALID;
    }

    if (kid_len > NGX_HTTP_ES_JWS_MAX_KID) {
        snprintf(err, err_len, "kid longer than %d bytes",
                 NGX_HTTP_ES_JWS_MAX_KID);
        return NGX_HTTP_ES_JWS_INVALID;
    }

    bio = BIO_new_mem_buf(buf, (int) len);
    if (bio == NULL) {
        snprintf(err, err_len, "out of memory");
        return NGX_HTTP_ES_JWS_ERROR;
    }

    priv = 1;
    pkey = PEM_read_bio_PrivateKey(bio, NULL, ngx_http_es_jws_no_password,
                                   NULL);

    if (pkey == NULL) {
        priv = 0;
        (void) BIO_reset(bio);
        pkey = PEM_read_bio_PUBKEY(bio, NULL, ngx_http_es_jws_no_password,
                                   NULL);
    }

    BIO_free(bio);
    ERR_clear_error();

    if (pkey == NULL) {
        snprintf(err, err_len, "no PEM public or private key found "
                 "(encrypted keys are not supported)");
        return NGX_HTTP_ES_JWS_INVALID;
    }

    ok = 0;

    switch (desc->kind) {

    case NGX_HTTP_ES_KIND_EDDSA:
        pl = sizeof(pub);

        if (EVP_PKEY_get_base_id(pkey) == EVP_PKEY_ED25519
            && EVP_PKEY_get_raw_public_key(pkey, pub, &pl) == 1)
        {
            if (ngx_http_es_jws_ed25519_weak(pub)) {
                snprintf(err, err_len, "Ed25519 public key of small order "
                         "or in non-canonical encoding");
                EVP_PKEY_free(pkey);
                return NGX_HTTP_ES_JWS_INVALID;
            }

            ok = 1;
        }

        break;

    case NGX_HTTP_ES_KIND_ECDSA:
        ok = EVP_PKEY_get_base_id(pkey) == EVP_PKEY_EC
             && EVP_PKEY_get_utf8_string_param(pkey,
                                               OSSL_PKEY_PARAM_GROUP_NAME,
                                               group, sizeof(group), NULL)
                == 1
             && strcmp(group, desc->group) == 0
             && ngx_http_es_jws_check_pkey(pkey, 0);
        break;

    default:
        if (EVP_PKEY_get_base_id(pkey) == EVP_PKEY_RSA) {
            if (EVP_PKEY_get_bits(pkey) < NGX_HTTP_ES_RSA_MIN_BITS
                || EVP_PKEY_get_bits(pkey) > NGX_HTTP_ES_RSA_MAX_BITS)
            {
                snprintf(err, err_len, "RSA modulus of %d bits, must be "
                         "%d to %d", EVP_PKEY_get_bits(pkey),
                         NGX_HTTP_ES_RSA_MIN_BITS, NGX_HTTP_ES_RSA_MAX_BITS);
                EVP_PKEY_free(pkey);
                return NGX_HTTP_ES_JWS_INVALID;
            }

            ok = 1;
        }

        break;
    }

    ERR_clear_error();

    if (!ok) {
        snprintf(err, err_len, "the PEM key does not fit alg=%s", desc->name);
        EVP_PKEY_free(pkey);
        return NGX_HTTP_ES_JWS_INVALID;
    }

    key = calloc(1, sizeof(ngx_http_es_jws_key_t));
    if (key == NULL) {
        EVP_PKEY_free(pkey);
        snprintf(err, err_len, "out of memory");
        return NGX_HTTP_ES_JWS_ERROR;
    }

    key->alg = alg;
    key->desc = desc;
    key->pkey = pkey;
    key->can_sign = priv;

    if (kid != NULL) {
        memcpy(key->kid, kid, kid_len);
        key->kid_len = kid_len;
    }

    if (ngx_http_es_jws_key_init(key, err, err_len) != NGX_HTTP_ES_JWS_OK) {
        ngx_http_es_jws_key_free(key);
        return NGX_HTTP_ES_JWS_ERROR;
    }

    *keyp = key;

    return NGX_HTTP_ES_JWS_OK;
}


void
ngx_http_es_jws_key_free(ngx_http_es_jws_key_t *key)
{
    if (key == NULL) {
        return;
    }

    EVP_PKEY_free(key->pkey);
    EVP_MD_free(key->md);
    EVP_MD_CTX_free(key->sign_ctx);

    OPENSSL_cleanse(key, sizeof(ngx_http_es_jws_key_t));
    free(key);
}


ngx_http_es_jws_alg_t
ngx_http_es_jws_key_alg(const ngx_http_es_jws_key_t *key)
{
    return key->alg;
}


const unsigned char *
ngx_http_es_jws_key_kid(const ngx_http_es_jws_key_t *key, size_t *len)
{
    *len = key->kid_len;
    return key->kid;
}


int
ngx_http_es_jws_key_can_sign(const ngx_http_es_jws_key_t *key)
{
    return key->can_sign;
}


size_t
ngx_http_es_jws_key_sig_length(const ngx_http_es_jws_key_t *key)
{
    return key->sig_len;
}


/*
 * Ed25519 public keys that make a signature check meaningless: points of
 * small order (any message verifies with a suitable signature) and
 * non-canonical encodings (y >= p).  The sign bit is ignored.
 */

static int
ngx_http_es_jws_ed25519_weak(const unsigned char *pk)
{
    int             i, j, same;
    unsigned char   c;

    static const unsigned char  small[5][32] = {
        /* y = 0, order 4 */
        { 0 },
        /* y = 1, the identity */
        { 0x01 },
        /* y = p - 1, order 2 */
        { 0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
          0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
          0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
          0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f },
        /* order 8 */
        { 0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0,
          0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98, 0xf0,
          0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39,
          0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53, 0xfc, 0x05 },
        /* order 8 */
        { 0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f,
          0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67, 0x0f,
          0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6,
          0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac, 0x03, 0x7a }
    };

    for (i = 0; i < 5; i++) {
        same = 1;

        for (j = 0; j < 32; j++) {
            c = (j == 31) ? (pk[j] & 0x7f) : pk[j];

            if (c != small[i][j]) {
                same = 0;
                break;
            }
        }

        if (same) {
            return 1;
        }
    }

    /* y >= p = 2^255 - 19 */

    if ((pk[31] & 0x7f) != 0x7f || pk[0] < 0xed) {
        return 0;
    }

    for (j = 1; j < 31; j++) {
        if (pk[j] != 0xff) {
            return 0;
        }
    }

    return 1;
}


/* signatures */

static int
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

        if (strcmp(name, "alg") == 0) {
            if (!json_is_string(v)) {
                *reason = "\"alg\" is not a string";
                break;
            }

            /* "none", in any case, is no algorithm of ours */

            jws->alg = ngx_http_es_jws_alg(
                           (const unsigned char *) json_string_value(v),
                           json_string_length(v));

            if (jws->alg == NGX_HTTP_ES_JWS_ALG_UNKNOWN) {
                *reason = "unsupported \"alg\"";
                break;
            }

        } else if (strcmp(name, "kid") == 0) {
            if (!json_is_string(v) || json_string_length(v) == 0
                || json_string_length(v) > NGX_HTTP_ES_JWS_MAX_KID)
            {
                *reason = "bad \"kid\"";
                break;
            }

            jws->kid_len = json_string_length(v);
            memcpy(jws->kid, json_string_value(v), jws->kid_len);
            jws->has_kid = 1;

        } else if (strcmp(name, "typ") == 0) {
            if (!json_is_string(v)
                || json_string_length(v) > NGX_HTTP_ES_JWS_MAX_TYP)
            {
                *reason = "bad \"typ\"";
                break;
            }

            jws->typ_len = json_string_length(v);
            memcpy(jws->typ, json_string_value(v), jws->typ_len);
            jws->has_typ = 1;

        } else if (strcmp(name, "crit") == 0 || strcmp(name, "b64") == 0) {

            /* we implement no extensions; b64 would change the input */

            *reason = "\"crit\" or \"b64\" header";
            break;

        } else if (strcmp(name, "jku") == 0 || strcmp(name, "jwk") == 0
                   || strcmp(name, "x5u") == 0 || strcmp(name, "x5c") == 0)
        {
            /* keys come from the configuration, never from the token */

            *reason = "key-carrying header";
            break;

        } else if (strcmp(name, "enc") == 0 || strcmp(name, "zip") == 0) {
            *reason = "JWE header";
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
 * worker calls random_reset() when it starts.
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
