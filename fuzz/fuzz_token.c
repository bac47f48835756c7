/*
 * Copyright (C) The ngx_http_embed_session_module authors
 *
 * fuzz_token: the input is a raw token, as a client sends it.
 *
 * The verifier's order: parse() (size cap, segments, header), then check()
 * with the key of the token's alg from a fixed set (HS256, EdDSA, ES256,
 * RS256), and, only when the signature verified, claims_parse(),
 * check_time() with a fixed clock and the claim accessors.  Keys of every
 * other alg are tried too and must be refused, and a token that passes
 * check() must also verify with OpenSSL called directly on the harness's
 * own copy of the key (fz_indep_verify()).  Valid seed tokens signed
 * with these keys (fuzz/corpus/fuzz_token) take the fuzzer into the claims
 * code; mutations of them exercise the rejections.
 */


#include "fuzz_common.h"


int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void) argc;
    (void) argv;

    fz_load_keys();

    return 0;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                 rc;
    const char         *reason;
    unsigned char      *token;
    ngx_http_es_jws_t   jws;

    fz_load_keys();

    /* an exact-size heap copy: an over-read by one byte is an ASan report */

    token = fz_dup(data, size);

    memset(&jws, 0xa5, sizeof(jws));
    reason = NULL;

    rc = ngx_http_es_jws_parse(&jws, token, size, &reason);

    fz_assert(rc == NGX_HTTP_ES_JWS_OK || rc == NGX_HTTP_ES_JWS_INVALID);
    fz_check_reason(rc, reason);

    if (rc == NGX_HTTP_ES_JWS_OK) {
        fz_check_parsed(&jws, token, size);
        (void) fz_verify_parsed(&jws);
    }

    free(token);

    return 0;
}
