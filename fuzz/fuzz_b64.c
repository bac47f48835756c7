/*
 * Copyright (C) The ngx_http_embed_session_module authors
 *
 * fuzz_b64: the base64url codec and the alg names.
 *
 * - decode(input): when accepted, encoding the result must give back
 *   exactly the input (the strict-decoder rule), and the decoded length
 *   must fit the documented len * 3 / 4 buffer;
 * - encode(input) must use only the base64url alphabet, no padding, have
 *   the advertised length, and decode back to the input;
 * - alg(input): a name that is recognised must be the exact name
 *   alg_name() gives for it ("hs256" is not HS256).
 */


#include "fuzz_common.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


static int
fz_b64url_char(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
           || (c >= '0' && c <= '9') || c == '-' || c == '_';
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                     rc;
    size_t                  i, n, elen, dlen;
    const char             *name;
    unsigned char          *in, *dec, *enc, *back;
    ngx_http_es_jws_alg_t   alg;

    in = fz_dup(data, size);

    /* decode, then re-encode */

    dlen = size * 3 / 4;
    dec = malloc(dlen ? dlen : 1);
    fz_assert(dec != NULL);

    n = (size_t) -1;
    rc = ngx_http_es_jws_b64_decode(dec, &n, in, size);
    fz_assert(rc == NGX_HTTP_ES_JWS_OK || rc == NGX_HTTP_ES_JWS_INVALID);

    if (rc == NGX_HTTP_ES_JWS_OK) {
        fz_assert(n <= dlen);

        elen = ngx_http_es_jws_b64_encoded_length(n);
        enc = malloc(elen ? elen : 1);
        fz_assert(enc != NULL);

        i = ngx_http_es_jws_b64_encode(enc, dec, n);
        fz_assert(i <= elen);
        fz_assert(i == size && memcmp(enc, in, size) == 0);

        free(enc);
    }

    free(dec);

    /* encode, then decode */

    elen = ngx_http_es_jws_b64_encoded_length(size);
    fz_assert(elen == size / 3 * 4 + (size % 3 ? size % 3 + 1 : 0));

    enc = malloc(elen ? elen : 1);
    fz_assert(enc != NULL);

    n = ngx_http_es_jws_b64_encode(enc, in, size);
    fz_assert(n == elen);

    for (i = 0; i < n; i++) {
        fz_assert(fz_b64url_char(enc[i]));
    }

    dlen = n * 3 / 4;
    back = malloc(dlen ? dlen : 1);
    fz_assert(back != NULL);

    i = (size_t) -1;
    rc = ngx_http_es_jws_b64_decode(back, &i, enc, n);
    fz_assert(rc == NGX_HTTP_ES_JWS_OK);
    fz_assert(i == size && memcmp(back, in, size) == 0);

    free(back);
    free(enc);

    /* alg names are matched byte for byte */

    alg = ngx_http_es_jws_alg(in, size);

    if (alg != NGX_HTTP_ES_JWS_ALG_UNKNOWN) {
        fz_assert(alg < FZ_NALGS);

        name = ngx_http_es_jws_alg_name(alg);
        fz_assert(name != NULL);
        fz_assert(strlen(name) == size && memcmp(name, in, size) == 0);
    }

    free(in);

    return 0;
}
