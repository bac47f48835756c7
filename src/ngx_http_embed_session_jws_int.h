
/*
 * Copyright (C) The ngx_http_embed_session_module authors
 *
 * The codec's own types, shared by its two halves: the algorithm
 * descriptors and the key, which ngx_http_embed_session_jwk.c builds from
 * a JWK or PEM and ngx_http_embed_session_jws.c signs and verifies with.
 * Only these two files include it; the rest of the module sees the key
 * through ngx_http_embed_session_jws.h as an opaque type.
 */


#ifndef _NGX_HTTP_EMBED_SESSION_JWS_INT_H_INCLUDED_
#define _NGX_HTTP_EMBED_SESSION_JWS_INT_H_INCLUDED_


#include <openssl/opensslv.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "ngx_http_embed_session_jws.h"


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


/* the descriptor of a known alg (not UNKNOWN) */
const ngx_http_es_jws_alg_desc_t *ngx_http_es_jws_alg_desc(
    ngx_http_es_jws_alg_t alg);

/* HMAC: starts state c with one padded block of the secret */
int ngx_http_es_jws_sha_absorb(ngx_http_es_jws_key_t *key,
    ngx_http_es_jws_sha_t *c, const unsigned char *block);


#endif /* _NGX_HTTP_EMBED_SESSION_JWS_INT_H_INCLUDED_ */
