
/*
 * Copyright (C) The ngx_http_embed_session_module authors
 *
 * Key import for the JWS codec: JWK, JWK Set and PEM keys become
 * ngx_http_es_jws_key_t, each bound to one alg.  Every JWK member is
 * checked before any key material is used: "use" and "key_ops", "alg"
 * against the configured alg, "kid", the key type against the alg, the
 * parameter lengths, the point or modulus, and for a private key that it
 * matches its public half (docs/security.md).  Like the rest of the codec
 * it includes no nginx header.
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include "ngx_http_embed_session_jws.h"
#include "ngx_http_embed_session_jws_int.h"


#define NGX_HTTP_ES_RSA_MIN_BITS   2048
#define NGX_HTTP_ES_RSA_MAX_BITS   4096
#define NGX_HTTP_ES_MAX_PARAM      512   /* decoded JWK parameter */


/* a JWK "kty" and the function that loads a key of that type */

typedef struct {
    const char               *kty;
    int                     (*load)(ngx_http_es_jws_key_t *key, json_t *jwk,
                                    char *err, size_t err_len);
} ngx_http_es_jws_kty_t;


static int ngx_http_es_jws_jwk_ec(ngx_http_es_jws_key_t *key, json_t *jwk,
    char *err, size_t err_len);
static int ngx_http_es_jws_jwk_rsa(ngx_http_es_jws_key_t *key, json_t *jwk,
    char *err, size_t err_len);
static int ngx_http_es_jws_jwk_okp(ngx_http_es_jws_key_t *key, json_t *jwk,
    char *err, size_t err_len);
static int ngx_http_es_jws_jwk_oct(ngx_http_es_jws_key_t *key, json_t *jwk,
    char *err, size_t err_len);
static int ngx_http_es_jws_jwk_pkey(ngx_http_es_jws_key_t *key,
    EVP_PKEY *pkey, int priv, char *err, size_t err_len);
static int ngx_http_es_jws_hmac_init(ngx_http_es_jws_key_t *key,
    const unsigned char *secret, size_t len, char *err, size_t err_len);
static int ngx_http_es_jws_key_load(json_t *jwk, ngx_http_es_jws_alg_t alg,
    const unsigned char *kid, size_t kid_len, ngx_http_es_jws_key_t **keyp,
    char *err, size_t err_len);
static int ngx_http_es_jws_jwk_use(json_t *jwk, char *err, size_t err_len);
static int ngx_http_es_jws_jwk_alg(json_t *jwk, ngx_http_es_jws_alg_t *alg,
    char *err, size_t err_len);
static int ngx_http_es_jws_jwk_kid(json_t *jwk, const unsigned char **kid,
    size_t *kid_len, char *err, size_t err_len);
static int ngx_http_es_jws_key_init(ngx_http_es_jws_key_t *key,
    char *err, size_t err_len);
static int ngx_http_es_jws_key_pair(ngx_http_es_jws_key_t *key,
    char *err, size_t err_len);
static int ngx_http_es_jws_pem_fits(EVP_PKEY *pkey,
    const ngx_http_es_jws_alg_desc_t *desc, char *err, size_t err_len);
static int ngx_http_es_jws_ed25519_weak(const unsigned char *pk);


/* indexed by ngx_http_es_jws_kind_t, the kind of the key's alg */

static const ngx_http_es_jws_kty_t  ngx_http_es_jws_ktys[] = {
    { NULL, NULL },
    { "oct", ngx_http_es_jws_jwk_oct },           /* HMAC */
    { "OKP", ngx_http_es_jws_jwk_okp },           /* EdDSA */
    { "EC", ngx_http_es_jws_jwk_ec },             /* ECDSA */
    { "RSA", ngx_http_es_jws_jwk_rsa },           /* RSA */
    { "RSA", ngx_http_es_jws_jwk_rsa }            /* RSA-PSS */
};


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


/*
 * The loaders of the four key types: each reads the members of its "kty"
 * into key, whose alg the JWK was found to fit.
 */

static int
ngx_http_es_jws_jwk_ec(ngx_http_es_jws_key_t *key, json_t *jwk, char *err,
    size_t err_len)
{
    int              rc, priv;
    size_t           xl, yl, dl;
    BIGNUM          *bn;
    EVP_PKEY        *pkey;
    OSSL_PARAM_BLD  *bld;
    unsigned char    pub[1 + 2 * 48], x[NGX_HTTP_ES_MAX_PARAM],
                     y[NGX_HTTP_ES_MAX_PARAM], d[NGX_HTTP_ES_MAX_PARAM];
    const ngx_http_es_jws_alg_desc_t  *desc;

    desc = key->desc;

    if (ngx_http_es_jws_b64_param(jwk, "x", x, &xl, 1, err, err_len)
        != NGX_HTTP_ES_JWS_OK
        || ngx_http_es_jws_b64_param(jwk, "y", y, &yl, 1, err, err_len)
           != NGX_HTTP_ES_JWS_OK)
    {
        return NGX_HTTP_ES_JWS_INVALID;
    }

    rc = ngx_http_es_jws_b64_param(jwk, "d", d, &dl, 0, err, err_len);
    if (rc == NGX_HTTP_ES_JWS_INVALID) {
        return NGX_HTTP_ES_JWS_INVALID;
    }

    if (xl != desc->coord || yl != desc->coord
        || (rc == NGX_HTTP_ES_JWS_OK && dl != desc->coord))
    {
        snprintf(err, err_len, "%s coordinates must be %zu bytes long",
                 desc->crv, desc->coord);
        return NGX_HTTP_ES_JWS_INVALID;
    }

    pub[0] = 0x04;
    memcpy(pub + 1, x, xl);
    memcpy(pub + 1 + xl, y, yl);

    priv = (rc == NGX_HTTP_ES_JWS_OK);

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

    if (priv) {
        bn = BN_secure_new();
        if (bn == NULL || BN_bin2bn(d, (int) dl, bn) == NULL
            || OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, bn) != 1)
        {
            goto done;
        }
    }

    pkey = ngx_http_es_jws_fromdata("EC", bld, priv);

    if (pkey != NULL && !ngx_http_es_jws_check_pkey(pkey, priv)) {
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

    return ngx_http_es_jws_jwk_pkey(key, pkey, priv, err, err_len);
}


static int
ngx_http_es_jws_jwk_rsa(ngx_http_es_jws_key_t *key, json_t *jwk, char *err,
    size_t err_len)
{
    int              rc, i, priv;
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
    priv = 0;

    bld = OSSL_PARAM_BLD_new();
    if (bld == NULL) {
        snprintf(err, err_len, "out of memory");
        return NGX_HTTP_ES_JWS_INVALID;
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
            priv = 1;
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

    pkey = ngx_http_es_jws_fromdata("RSA", bld, priv);

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

    return ngx_http_es_jws_jwk_pkey(key, pkey, priv, err, err_len);
}


static int
ngx_http_es_jws_jwk_okp(ngx_http_es_jws_key_t *key, json_t *jwk, char *err,
    size_t err_len)
{
    int             rc, priv;
    size_t          xl, dl, pl;
    EVP_PKEY       *pkey;
    unsigned char   x[NGX_HTTP_ES_MAX_PARAM], d[NGX_HTTP_ES_MAX_PARAM],
                    pub[32];

    if (ngx_http_es_jws_b64_param(jwk, "x", x, &xl, 1, err, err_len)
        != NGX_HTTP_ES_JWS_OK)
    {
        return NGX_HTTP_ES_JWS_INVALID;
    }

    rc = ngx_http_es_jws_b64_param(jwk, "d", d, &dl, 0, err, err_len);
    if (rc == NGX_HTTP_ES_JWS_INVALID) {
        return NGX_HTTP_ES_JWS_INVALID;
    }

    priv = (rc == NGX_HTTP_ES_JWS_OK);

    if (xl != 32 || (priv && dl != 32)) {
        snprintf(err, err_len, "Ed25519 keys are 32 bytes long");
        return NGX_HTTP_ES_JWS_INVALID;
    }

    if (ngx_http_es_jws_ed25519_weak(x)) {
        snprintf(err, err_len, "Ed25519 public key of small order or in "
                 "non-canonical encoding");
        return NGX_HTTP_ES_JWS_INVALID;
    }

    if (!priv) {
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
            return NGX_HTTP_ES_JWS_INVALID;
        }
    }

    if (pkey == NULL) {
        snprintf(err, err_len, "not a valid Ed25519 key");
    }

    return ngx_http_es_jws_jwk_pkey(key, pkey, priv, err, err_len);
}


static int
ngx_http_es_jws_jwk_oct(ngx_http_es_jws_key_t *key, json_t *jwk, char *err,
    size_t err_len)
{
    int            rc;
    size_t         len;
    unsigned char  secret[NGX_HTTP_ES_MAX_PARAM];

    rc = ngx_http_es_jws_b64_param(jwk, "k", secret, &len, 1, err, err_len);

    if (rc == NGX_HTTP_ES_JWS_OK) {
        rc = ngx_http_es_jws_key_init(key, err, err_len);
    }

    if (rc == NGX_HTTP_ES_JWS_OK) {
        rc = ngx_http_es_jws_hmac_init(key, secret, len, err, err_len);
    }

    OPENSSL_cleanse(secret, sizeof(secret));

    return rc;
}


/*
 * The last step of an EC, RSA or OKP key: the key takes pkey (NULL when
 * the loader failed, err is set), and a private key must match its public
 * half.
 */

static int
ngx_http_es_jws_jwk_pkey(ngx_http_es_jws_key_t *key, EVP_PKEY *pkey,
    int priv, char *err, size_t err_len)
{
    int  rc;

    if (pkey == NULL) {
        return NGX_HTTP_ES_JWS_INVALID;
    }

    key->pkey = pkey;
    key->can_sign = priv;

    rc = ngx_http_es_jws_key_init(key, err, err_len);

    if (rc == NGX_HTTP_ES_JWS_OK && priv) {
        rc = ngx_http_es_jws_key_pair(key, err, err_len);
    }

    return rc;
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
    int                     rc;
    json_t                 *v;
    const char             *kty, *crv;
    ngx_http_es_jws_key_t  *key;
    const ngx_http_es_jws_kty_t  *type;

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

    if (ngx_http_es_jws_jwk_use(jwk, err, err_len) != NGX_HTTP_ES_JWS_OK
        || ngx_http_es_jws_jwk_alg(jwk, &alg, err, err_len)
           != NGX_HTTP_ES_JWS_OK
        || ngx_http_es_jws_jwk_kid(jwk, &kid, &kid_len, err, err_len)
           != NGX_HTTP_ES_JWS_OK)
    {
        return NGX_HTTP_ES_JWS_INVALID;
    }

    key = calloc(1, sizeof(ngx_http_es_jws_key_t));
    if (key == NULL) {
        snprintf(err, err_len, "out of memory");
        return NGX_HTTP_ES_JWS_ERROR;
    }

    key->alg = alg;
    key->desc = ngx_http_es_jws_alg_desc(alg);

    if (kid != NULL) {
        memcpy(key->kid, kid, kid_len);
        key->kid_len = kid_len;
    }

    /* the key type of the alg, and the curve of EdDSA and ECDSA */

    type = &ngx_http_es_jws_ktys[key->desc->kind];

    v = json_object_get(jwk, "crv");
    crv = json_is_string(v) ? json_string_value(v) : "";

    if (strcmp(kty, type->kty) != 0
        || (key->desc->crv != NULL && strcmp(crv, key->desc->crv) != 0))
    {
        snprintf(err, err_len, "key type \"%s\" does not fit alg %s", kty,
                 key->desc->name);
        ngx_http_es_jws_key_free(key);
        return NGX_HTTP_ES_JWS_INVALID;
    }

    rc = type->load(key, jwk, err, err_len);

    if (rc != NGX_HTTP_ES_JWS_OK) {
        ngx_http_es_jws_key_free(key);
        ERR_clear_error();
        return rc;
    }

    *keyp = key;

    return NGX_HTTP_ES_JWS_OK;
}


/* "use" and "key_ops", when present, must allow signatures */

static int
ngx_http_es_jws_jwk_use(json_t *jwk, char *err, size_t err_len)
{
    int      sig;
    size_t   i;
    json_t  *v, *op;

    v = json_object_get(jwk, "use");
    if (v != NULL && (!json_is_string(v)
                      || strcmp(json_string_value(v), "sig") != 0))
    {
        snprintf(err, err_len, "key is not for signatures (\"use\")");
        return NGX_HTTP_ES_JWS_INVALID;
    }

    v = json_object_get(jwk, "key_ops");
    if (v == NULL) {
        return NGX_HTTP_ES_JWS_OK;
    }

    sig = 0;

    if (json_is_array(v)) {
        for (i = 0; i < json_array_size(v); i++) {
            op = json_array_get(v, i);

            if (json_is_string(op)
                && (strcmp(json_string_value(op), "sign") == 0
                    || strcmp(json_string_value(op), "verify") == 0))
            {
                sig = 1;
            }
        }
    }

    if (!sig) {
        snprintf(err, err_len, "key is not for signatures (\"key_ops\")");
        return NGX_HTTP_ES_JWS_INVALID;
    }

    return NGX_HTTP_ES_JWS_OK;
}


/*
 * The alg the key is bound to: its "alg", which must equal the configured
 * alg when there is one, or else the configured alg.
 */

static int
ngx_http_es_jws_jwk_alg(json_t *jwk, ngx_http_es_jws_alg_t *alg, char *err,
    size_t err_len)
{
    json_t                 *v;
    ngx_http_es_jws_alg_t   jalg;

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

        if (*alg != NGX_HTTP_ES_JWS_ALG_UNKNOWN && *alg != jalg) {
            snprintf(err, err_len, "\"alg\" \"%s\" differs from alg=%s",
                     json_string_value(v), ngx_http_es_jws_alg_name(*alg));
            return NGX_HTTP_ES_JWS_INVALID;
        }

        *alg = jalg;
    }

    if (*alg == NGX_HTTP_ES_JWS_ALG_UNKNOWN) {
        snprintf(err, err_len, "no \"alg\": every key must be bound to one "
                 "algorithm (set \"alg\" or alg=)");
        return NGX_HTTP_ES_JWS_INVALID;
    }

    return NGX_HTTP_ES_JWS_OK;
}


/* the key's "kid", or the configured kid= for a key without one */

static int
ngx_http_es_jws_jwk_kid(json_t *jwk, const unsigned char **kid,
    size_t *kid_len, char *err, size_t err_len)
{
    json_t  *v;

    v = json_object_get(jwk, "kid");
    if (v == NULL) {
        return NGX_HTTP_ES_JWS_OK;
    }

    if (!json_is_string(v) || json_string_length(v) == 0
        || json_string_length(v) > NGX_HTTP_ES_JWS_MAX_KID)
    {
        snprintf(err, err_len, "\"kid\" must be a string of 1 to %d "
                 "bytes", NGX_HTTP_ES_JWS_MAX_KID);
        return NGX_HTTP_ES_JWS_INVALID;
    }

    if (*kid != NULL) {
        snprintf(err, err_len, "kid= given for a key that has a \"kid\"");
        return NGX_HTTP_ES_JWS_INVALID;
    }

    *kid = (const unsigned char *) json_string_value(v);
    *kid_len = json_string_length(v);

    return NGX_HTTP_ES_JWS_OK;
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
    int                     priv;
    BIO                    *bio;
    EVP_PKEY               *pkey;
    ngx_http_es_jws_key_t  *key;
    const ngx_http_es_jws_alg_desc_t  *desc;

    if (alg == NGX_HTTP_ES_JWS_ALG_UNKNOWN) {
        snprintf(err, err_len, "a PEM key needs alg=");
        return NGX_HTTP_ES_JWS_INVALID;
    }

    desc = ngx_http_es_jws_alg_desc(alg);

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

    if (ngx_http_es_jws_pem_fits(pkey, desc, err, err_len)
        != NGX_HTTP_ES_JWS_OK)
    {
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


/*
 * A PEM key must be of the alg's type and curve; an Ed25519 key must not
 * be weak, an RSA modulus must be within the bounds of a JWK's.
 */

static int
ngx_http_es_jws_pem_fits(EVP_PKEY *pkey,
    const ngx_http_es_jws_alg_desc_t *desc, char *err, size_t err_len)
{
    int            ok;
    char           group[32];
    size_t         pl;
    unsigned char  pub[32];

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
                return NGX_HTTP_ES_JWS_INVALID;
            }

            ok = 1;
        }

        break;
    }

    ERR_clear_error();

    if (!ok) {
        snprintf(err, err_len, "the PEM key does not fit alg=%s", desc->name);
        return NGX_HTTP_ES_JWS_INVALID;
    }

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
