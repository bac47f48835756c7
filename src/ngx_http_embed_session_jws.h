
/*
 * Copyright (C) The ngx_http_embed_session_module authors
 *
 * The compact JWS codec: base64url, JOSE header and claims parsing, key
 * loading, signing and verification.  This is the only part of the module
 * that sees OpenSSL and jansson types, and it includes no nginx header, so
 * that it can be unit-tested and fuzzed on its own.  Keys are loaded in
 * ngx_http_embed_session_jwk.c, the rest is ngx_http_embed_session_jws.c;
 * the two share ngx_http_embed_session_jws_int.h.
 */


#ifndef _NGX_HTTP_EMBED_SESSION_JWS_H_INCLUDED_
#define _NGX_HTTP_EMBED_SESSION_JWS_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>


#define NGX_HTTP_ES_JWS_OK            0
#define NGX_HTTP_ES_JWS_INVALID      -1    /* bad input: the client's fault */
#define NGX_HTTP_ES_JWS_EXPIRED      -2    /* well formed, past exp */
#define NGX_HTTP_ES_JWS_ERROR        -3    /* memory or library failure */
#define NGX_HTTP_ES_JWS_ABSENT       -4    /* claim not present */

#define NGX_HTTP_ES_JWS_MAX_TOKEN     8192
#define NGX_HTTP_ES_JWS_MAX_HEADER    512  /* decoded header bytes */
#define NGX_HTTP_ES_JWS_MAX_KID       64
#define NGX_HTTP_ES_JWS_MAX_TYP       64
#define NGX_HTTP_ES_JWS_MAX_SIG       512  /* RSA-4096 */
#define NGX_HTTP_ES_JWS_MAX_DEPTH     16
#define NGX_HTTP_ES_JWS_MAX_MEMBERS   256

/* the largest NumericDate: 9999-12-31T23:59:59Z */
#define NGX_HTTP_ES_JWS_MAX_TIME      253402300799LL


typedef enum {
    NGX_HTTP_ES_JWS_ALG_UNKNOWN = 0,
    NGX_HTTP_ES_JWS_HS256,
    NGX_HTTP_ES_JWS_HS384,
    NGX_HTTP_ES_JWS_HS512,
    NGX_HTTP_ES_JWS_EDDSA,
    NGX_HTTP_ES_JWS_ES256,
    NGX_HTTP_ES_JWS_ES384,
    NGX_HTTP_ES_JWS_RS256,
    NGX_HTTP_ES_JWS_RS384,
    NGX_HTTP_ES_JWS_RS512,
    NGX_HTTP_ES_JWS_PS256
} ngx_http_es_jws_alg_t;


typedef struct ngx_http_es_jws_key_s     ngx_http_es_jws_key_t;
typedef struct ngx_http_es_jws_claims_s  ngx_http_es_jws_claims_t;


/* a compact JWS split into its parts; points into the caller's token */

typedef struct {
    const unsigned char     *token;
    size_t                   signing_input_len;  /* "header.payload" */

    const unsigned char     *payload;            /* base64url */
    size_t                   payload_len;
    const unsigned char     *sig;                /* base64url */
    size_t                   sig_len;

    ngx_http_es_jws_alg_t    alg;

    size_t                   kid_len;
    size_t                   typ_len;
    unsigned                 has_kid:1;
    unsigned                 has_typ:1;

    unsigned char            kid[NGX_HTTP_ES_JWS_MAX_KID];
    unsigned char            typ[NGX_HTTP_ES_JWS_MAX_TYP];
} ngx_http_es_jws_t;


/* time policy for ngx_http_es_jws_claims_check_time() */

typedef struct {
    int64_t                  now;
    int64_t                  leeway;        /* seconds, applied to exp, nbf */
    int64_t                  max_lifetime;  /* seconds, 0: no limit */
} ngx_http_es_jws_time_t;


/* registered times of a token, -1 when absent */

typedef struct {
    int64_t                  exp;
    int64_t                  nbf;
    int64_t                  iat;
} ngx_http_es_jws_times_t;


typedef int (*ngx_http_es_jws_key_pt)(void *data, ngx_http_es_jws_key_t *key);
typedef int (*ngx_http_es_jws_string_pt)(void *data, const unsigned char *s,
    size_t len);


/*
 * base64url without padding (RFC 4648, section 5).  The decoder is strict:
 * it accepts only input that re-encodes to the same bytes (no padding, no
 * white space, no "+" or "/", zero unused bits).  dst must hold
 * len * 3 / 4 bytes.
 */
size_t ngx_http_es_jws_b64_encoded_length(size_t len);
size_t ngx_http_es_jws_b64_encode(unsigned char *dst,
    const unsigned char *src, size_t len);
int ngx_http_es_jws_b64_decode(unsigned char *dst, size_t *dst_len,
    const unsigned char *src, size_t len);

/* "alg" names are matched byte for byte: "hs256" is not HS256 */
ngx_http_es_jws_alg_t ngx_http_es_jws_alg(const unsigned char *name,
    size_t len);
const char *ngx_http_es_jws_alg_name(ngx_http_es_jws_alg_t alg);


/*
 * Keys.  Every key is bound to exactly one alg when it is loaded.
 *
 * ngx_http_es_jws_jwks_parse() reads a JWK Set ({"keys": [...]}) or a single
 * JWK and calls handler once for each key, which then owns it.  alg, when
 * not UNKNOWN, is the alg the operator configured: a key without "alg" takes
 * it, a key with a different "alg" is an error.  kid, when given, names a
 * single key that has no "kid".  On error, err holds a message that names
 * the key ("key #2 (kid \"a\"): ...") and the function returns INVALID.
 *
 * ngx_http_es_jws_pem_parse() reads one PEM public or private key.
 */
int ngx_http_es_jws_jwks_parse(const unsigned char *buf, size_t len,
    ngx_http_es_jws_alg_t alg, const unsigned char *kid, size_t kid_len,
    ngx_http_es_jws_key_pt handler, void *data, char *err, size_t err_len);
int ngx_http_es_jws_pem_parse(const unsigned char *buf, size_t len,
    ngx_http_es_jws_alg_t alg, const unsigned char *kid, size_t kid_len,
    ngx_http_es_jws_key_t **key, char *err, size_t err_len);
void ngx_http_es_jws_key_free(ngx_http_es_jws_key_t *key);

ngx_http_es_jws_alg_t ngx_http_es_jws_key_alg(const ngx_http_es_jws_key_t *key);
const unsigned char *ngx_http_es_jws_key_kid(const ngx_http_es_jws_key_t *key,
    size_t *len);
int ngx_http_es_jws_key_can_sign(const ngx_http_es_jws_key_t *key);
size_t ngx_http_es_jws_key_sig_length(const ngx_http_es_jws_key_t *key);


/*
 * Raw signatures over arbitrary bytes, in JWS form (ECDSA as r || s).
 * sig must hold ngx_http_es_jws_key_sig_length() bytes.
 */
int ngx_http_es_jws_sign(ngx_http_es_jws_key_t *key, const unsigned char *in,
    size_t len, unsigned char *sig, size_t *sig_len);
int ngx_http_es_jws_verify(ngx_http_es_jws_key_t *key,
    const unsigned char *in, size_t len, const unsigned char *sig,
    size_t sig_len);


/*
 * Compact serialization.  parse() checks the size cap, the three segments,
 * and decodes and checks the protected header; it does no key work.
 * check() verifies the signature with key, whose alg must equal the
 * token's.  reason is set to a static string on failure.
 */
int ngx_http_es_jws_parse(ngx_http_es_jws_t *jws, const unsigned char *token,
    size_t len, const char **reason);
int ngx_http_es_jws_check(const ngx_http_es_jws_t *jws,
    ngx_http_es_jws_key_t *key, const char **reason);


/*
 * Claims: parsed only after check() succeeded.  Registered claims are type
 * checked at parse time: exp, nbf, iat are integers in 0..MAX_TIME; iss,
 * sub, jti are strings; aud is a string or an array of strings.
 */
int ngx_http_es_jws_claims_parse(ngx_http_es_jws_claims_t **claims,
    const ngx_http_es_jws_t *jws, const char **reason);

/* claims are reference counted: free() drops one reference */
ngx_http_es_jws_claims_t *ngx_http_es_jws_claims_ref(
    ngx_http_es_jws_claims_t *claims);
void ngx_http_es_jws_claims_free(ngx_http_es_jws_claims_t *claims);

/*
 * OK, INVALID (no exp, nbf or iat in the future, lifetime too long),
 * EXPIRED.  check_times() does the same on times taken out before.
 */
int ngx_http_es_jws_claims_check_time(ngx_http_es_jws_claims_t *claims,
    const ngx_http_es_jws_time_t *tp, const char **reason);
void ngx_http_es_jws_claims_times(ngx_http_es_jws_claims_t *claims,
    ngx_http_es_jws_times_t *t);
int ngx_http_es_jws_check_times(const ngx_http_es_jws_times_t *t,
    const ngx_http_es_jws_time_t *tp, const char **reason);

/*
 * Claim lookups by a dotted path ("permissions.publish").
 *
 * claim_int(): OK, ABSENT, or INVALID when the value is not an integer.
 * claim_text(): the value as text, returns its length (0 when absent or
 *   null); strings as they are, numbers in decimal, true/false, arrays of
 *   scalars joined with ",", anything else as compact JSON; writes it to
 *   dst when dst is not NULL and size is at least that length (with a
 *   smaller size, what dst holds is unspecified).
 * claim_strings(): calls handler for a string, or for each element of an
 *   array of strings; returns OK, ABSENT, INVALID (another type) or the
 *   handler's non-zero return.
 * claim_match(): OK when the value equals s (string, integer in decimal,
 *   true/false) or is an array with an element that does; else INVALID
 *   or ABSENT.  An empty s never matches, not even "".
 *
 * Paths come from the configuration and are compared up to a NUL.
 */
int ngx_http_es_jws_claim_int(ngx_http_es_jws_claims_t *claims,
    const unsigned char *path, size_t len, int64_t *value);
size_t ngx_http_es_jws_claim_text(ngx_http_es_jws_claims_t *claims,
    const unsigned char *path, size_t len, unsigned char *dst, size_t size);
int ngx_http_es_jws_claim_strings(ngx_http_es_jws_claims_t *claims,
    const unsigned char *path, size_t len, ngx_http_es_jws_string_pt handler,
    void *data);
int ngx_http_es_jws_claim_match(ngx_http_es_jws_claims_t *claims,
    const unsigned char *path, size_t len, const unsigned char *s,
    size_t slen);


/*
 * Minting.  sign_compact() writes "header.payload.signature" for the
 * serialized JSON header and payload given; out must hold
 * ngx_http_es_jws_compact_length() bytes, *out_len is set.
 */
size_t ngx_http_es_jws_compact_length(ngx_http_es_jws_key_t *key,
    size_t header_len, size_t payload_len);
int ngx_http_es_jws_sign_compact(ngx_http_es_jws_key_t *key,
    const unsigned char *header, size_t header_len,
    const unsigned char *payload, size_t payload_len, unsigned char *out,
    size_t *out_len);


/* SHA-256 and the CSPRNG, for API keys and session ids */
#define NGX_HTTP_ES_JWS_SHA256_LEN    32

/*
 * tls.c: the verification of a TLS connection's peer (an SSL *): 0 when
 * the chain verified, else OpenSSL's code, its text in *err; and the name
 * sent in the handshake (SNI), NUL-terminated: 0, or -1
 */
long ngx_http_es_jws_tls_verified(void *ssl, const char **err);
int ngx_http_es_jws_tls_name(void *ssl, const char *name);

int ngx_http_es_jws_sha256(const unsigned char *in, size_t len,
    unsigned char *out);
int ngx_http_es_jws_random(unsigned char *buf, size_t len);
void ngx_http_es_jws_random_reset(void);    /* in every new process */
void ngx_http_es_jws_done(void);            /* when a process exits */
int ngx_http_es_jws_memeq(const void *a, const void *b, size_t len);


#endif /* _NGX_HTTP_EMBED_SESSION_JWS_H_INCLUDED_ */
