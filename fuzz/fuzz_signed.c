/*
 * Copyright (C) The ngx_http_embed_session_module authors
 *
 * fuzz_signed: a structured harness that gets past the signature, so that
 * the fuzzer reaches the claims code.  The harness signs what it builds
 * with the HS256 test key and runs the whole verify pipeline: parse(),
 * check(), claims_parse(), check_time() with a fixed clock, and the claim
 * accessors on several paths, dotted ones included.
 *
 * Input framing: byte 0 is the mode, the rest is the data.
 *
 *   mode % 4 == 0  raw: data is "header JSON" 0x00 "payload JSON" (with no
 *                  0x00, data is the header and the payload is a fixed
 *                  valid one).  Both are base64url-encoded as they are.
 *   mode % 4 == 1  canonical header (mode / 4 % 4 picks one of the four
 *                  below), data is the payload JSON text.
 *   mode % 4 == 2  canonical header, and a payload the harness writes
 *                  itself from the data (see fz_structured()).
 *   mode % 4 == 3  as 1, then the token is damaged after signing
 *                  (mode / 16 % 5: a flipped bit in each signature byte in
 *                  turn, signature one byte short, one byte long, empty,
 *                  or payload changed).
 *
 * Invariants (abort() when broken):
 *
 *   - a token whose header is byte for byte one of the canonical headers
 *     the harness wrote, signed with the key, within the size cap, and with
 *     a non-empty payload passes parse() and check() (modes 0, 1, 2);
 *   - in mode 2 the payload is well formed too, so claims_parse() passes,
 *     check_time() gives OK or EXPIRED exactly as the harness chose the
 *     times, every accessor returns the value the harness wrote, and
 *     check_times() holds each limit to the second (fz_time_bounds());
 *   - a damaged token never passes check() (mode 3);
 *   - whatever passes check() also verifies with OpenSSL called directly
 *     (fz_indep_verify()).
 */


#include "fuzz_common.h"


int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


static const char  *fz_canon[4] = {
    "{\"alg\":\"HS256\",\"kid\":\"fz-hs256\"}",
    "{\"alg\":\"HS256\",\"kid\":\"fz-hs256\",\"typ\":\"JWT\"}",
    "{\"typ\":\"embed-session+jwt\",\"kid\":\"fz-hs256\",\"alg\":\"HS256\"}",
    "{\"alg\":\"HS256\"}"
};


static const char  fz_fixed_payload[] =
    "{\"sub\":\"fz\",\"exp\":1700000600,\"iat\":1700000000}";


typedef struct {
    unsigned char  *data;
    size_t          len;
    size_t          size;
} fz_buf_t;


static void
fz_buf_add(fz_buf_t *b, const void *p, size_t len)
{
    unsigned char  *n;

    if (b->len + len > b->size) {
        b->size = (b->len + len) * 2 + 64;
        n = realloc(b->data, b->size);
        fz_assert(n != NULL);
        b->data = n;
    }

    if (len) {
        memcpy(b->data + b->len, p, len);
        b->len += len;
    }
}


static void
fz_buf_str(fz_buf_t *b, const char *s)
{
    fz_buf_add(b, s, strlen(s));
}


static void
fz_buf_b64(fz_buf_t *b, const unsigned char *p, size_t len)
{
    size_t          n;
    unsigned char  *e;

    e = malloc(ngx_http_es_jws_b64_encoded_length(len) + 1);
    fz_assert(e != NULL);

    n = ngx_http_es_jws_b64_encode(e, p, len);
    fz_buf_add(b, e, n);

    free(e);
}


/*
 * Builds header.payload.signature.  damage: 0 none, 1 flip bit "bit" of
 * the signature, 2 signature one byte short, 3 one byte long, 4 empty,
 * 5 the payload signed is not the payload sent.
 */

static void
fz_make_token(fz_buf_t *t, const unsigned char *h, size_t hlen,
    const unsigned char *p, size_t plen, int damage, unsigned bit)
{
    int                     rc;
    size_t                  slen, sig_len;
    unsigned char          *sig, *p2;
    ngx_http_es_jws_key_t  *key;

    key = fz_keys[NGX_HTTP_ES_JWS_HS256];

    t->len = 0;
    fz_buf_b64(t, h, hlen);
    fz_buf_add(t, ".", 1);
    fz_buf_b64(t, p, plen);

    slen = ngx_http_es_jws_key_sig_length(key);
    fz_assert(slen == 32);

    sig = malloc(slen + 1);
    fz_assert(sig != NULL);

    sig_len = 0;
    rc = ngx_http_es_jws_sign(key, t->data, t->len, sig, &sig_len);
    fz_assert(rc == NGX_HTTP_ES_JWS_OK && sig_len == slen);

    switch (damage) {

    case 1:
        sig[bit / 8 % slen] ^= 1 << (bit % 8);
        break;

    case 2:
        sig_len--;
        break;

    case 3:
        sig[sig_len++] = (unsigned char) bit;
        break;

    case 4:
        sig_len = 0;
        break;

    case 5:
        /* send another payload under the same signature */
        p2 = fz_dup(p, plen);
        p2[bit % plen] ^= 1;

        t->len = 0;
        fz_buf_b64(t, h, hlen);
        fz_buf_add(t, ".", 1);
        fz_buf_b64(t, p2, plen);

        free(p2);
        break;
    }

    fz_buf_add(t, ".", 1);
    fz_buf_b64(t, sig, sig_len);

    free(sig);
}


static int
fz_is_canon(const unsigned char *h, size_t len)
{
    int  i;

    for (i = 0; i < 4; i++) {
        if (strlen(fz_canon[i]) == len && memcmp(fz_canon[i], h, len) == 0) {
            return 1;
        }
    }

    return 0;
}


/*
 * parse() and check() on a token the harness made; with "valid" set, both
 * must pass.  Returns a heap copy of the token for the claims stage
 * (claims may point into it), or NULL.
 */

static unsigned char *
fz_parse_check(fz_buf_t *t, ngx_http_es_jws_t *jws, int valid, int damaged)
{
    int             rc;
    const char     *reason;
    unsigned char  *token;

    token = fz_dup(t->data, t->len);

    reason = NULL;
    rc = ngx_http_es_jws_parse(jws, token, t->len, &reason);
    fz_check_reason(rc, reason);

    if (valid && rc != NGX_HTTP_ES_JWS_OK) {
        fprintf(stderr, "fuzz: parse() rejected a valid token: %s\n", reason);
        abort();
    }

    if (rc != NGX_HTTP_ES_JWS_OK) {
        free(token);
        return NULL;
    }

    fz_check_parsed(jws, token, t->len);

    reason = NULL;
    rc = ngx_http_es_jws_check(jws, fz_keys[NGX_HTTP_ES_JWS_HS256], &reason);
    fz_check_reason(rc, reason);

    if (valid && rc != NGX_HTTP_ES_JWS_OK) {
        fprintf(stderr, "fuzz: check() rejected a valid token: %s\n", reason);
        abort();
    }

    if (damaged && rc == NGX_HTTP_ES_JWS_OK) {
        fprintf(stderr, "fuzz: check() accepted a damaged token\n");
        abort();
    }

    if (rc == NGX_HTTP_ES_JWS_OK) {
        fz_assert(fz_indep_verify(jws));
    }

    if (rc != NGX_HTTP_ES_JWS_OK) {
        free(token);
        return NULL;
    }

    return token;
}


/* the pipeline with no expectations beyond "valid passes parse + check" */

static void
fz_pipeline(fz_buf_t *t, int valid, int damaged)
{
    int                        rc;
    const char                *reason;
    unsigned char             *token;
    ngx_http_es_jws_t          jws;
    ngx_http_es_jws_claims_t  *claims;

    token = fz_parse_check(t, &jws, valid, damaged);
    if (token == NULL) {
        return;
    }

    claims = NULL;
    reason = NULL;
    rc = ngx_http_es_jws_claims_parse(&claims, &jws, &reason);
    fz_check_reason(rc, reason);

    if (rc == NGX_HTTP_ES_JWS_OK) {
        fz_assert(claims != NULL);
        fz_walk_claims(claims);
        ngx_http_es_jws_claims_free(claims);
    }

    free(token);
}


/*
 * Mode 2.  Data: 8 bytes n (int64, little endian), 2 bytes a, 2 bytes b,
 * 1 byte flags, then up to four strings separated by 0x00: sub, aud[0],
 * aud[1], perm.publish.  Flags: bits 0-1 the times (0: iat in the last
 * hour, exp in the next; 1: exp passed but within the leeway; 2: expired
 * beyond the leeway; 3: no iat, exp in the next hour), bit 2 adds nbf,
 * bit 3 makes aud a single string, bits 4-5 pick the header.
 *
 * Strings are written as JSON with every byte under 0x20 or over 0x7f as
 * \u00XX, so any bytes make valid JSON; the harness computes the UTF-8 it
 * expects back.
 */

typedef struct {
    fz_buf_t   json;     /* escaped, in quotes */
    fz_buf_t   text;     /* what the accessors must return */
} fz_str_t;


static void
fz_escape(fz_str_t *s, const unsigned char *p, size_t len)
{
    size_t         i;
    unsigned char  c, u[2];
    char           e[8];

    fz_buf_add(&s->json, "\"", 1);

    for (i = 0; i < len; i++) {
        c = p[i];

        if (c == '"' || c == '\\') {
            e[0] = '\\';
            e[1] = (char) c;
            fz_buf_add(&s->json, e, 2);
            fz_buf_add(&s->text, &c, 1);

        } else if (c < 0x20 || c > 0x7f) {
            snprintf(e, sizeof(e), "\\u%04x", c);
            fz_buf_add(&s->json, e, 6);

            if (c < 0x80) {
                fz_buf_add(&s->text, &c, 1);

            } else {
                u[0] = (unsigned char) (0xc0 | (c >> 6));
                u[1] = (unsigned char) (0x80 | (c & 0x3f));
                fz_buf_add(&s->text, u, 2);
            }

        } else {
            fz_buf_add(&s->json, &c, 1);
            fz_buf_add(&s->text, &c, 1);
        }
    }

    fz_buf_add(&s->json, "\"", 1);
}


typedef struct {
    fz_str_t   *aud;
    unsigned    calls;
} fz_aud_t;


static int
fz_aud_handler(void *data, const unsigned char *s, size_t len)
{
    fz_aud_t  *a;

    a = data;

    fz_assert(a->calls < 2);
    fz_assert(len == a->aud[a->calls].text.len);
    fz_assert(len == 0 || memcmp(s, a->aud[a->calls].text.data, len) == 0);

    a->calls++;

    return NGX_HTTP_ES_JWS_OK;
}


static void
fz_expect_text(ngx_http_es_jws_claims_t *claims, const char *path,
    const unsigned char *want, size_t len)
{
    size_t          n;
    unsigned char  *buf;

    n = ngx_http_es_jws_claim_text(claims, (const unsigned char *) path,
                                   strlen(path), NULL, 0);
    fz_assert(n == len);

    buf = malloc(len ? len : 1);
    fz_assert(buf != NULL);

    n = ngx_http_es_jws_claim_text(claims, (const unsigned char *) path,
                                   strlen(path), buf, len);
    fz_assert(n == len);
    fz_assert(len == 0 || memcmp(buf, want, len) == 0);

    free(buf);
}


static void
fz_expect_match(ngx_http_es_jws_claims_t *claims, const char *path,
    const unsigned char *s, size_t len, int want)
{
    int             rc;
    unsigned char  *d;

    /* an empty string matches nothing, not even an empty claim */

    if (len == 0 && want == NGX_HTTP_ES_JWS_OK) {
        want = NGX_HTTP_ES_JWS_INVALID;
    }

    d = fz_dup(s, len);
    rc = ngx_http_es_jws_claim_match(claims, (const unsigned char *) path,
                                     strlen(path), d, len);
    free(d);

    if (rc != want) {
        fprintf(stderr, "fuzz: claim_match(%s) gave %d, expected %d\n",
                path, rc, want);
        abort();
    }
}


/*
 * The time policy one second either side of each limit, on times built
 * here: whatever the payload, these must hold (the leeway and the maximum
 * lifetime are the configured ones, not a second more or less).
 */

static void
fz_times(int64_t exp, int64_t nbf, int64_t iat, int want)
{
    int                      rc;
    const char              *reason;
    ngx_http_es_jws_time_t   tp;
    ngx_http_es_jws_times_t  t;

    tp.now = FZ_NOW;
    tp.leeway = FZ_LEEWAY;
    tp.max_lifetime = FZ_LIFETIME;

    t.exp = exp;
    t.nbf = nbf;
    t.iat = iat;

    reason = NULL;
    rc = ngx_http_es_jws_check_times(&t, &tp, &reason);

    if (rc != want) {
        fprintf(stderr, "fuzz: check_times(exp %" PRId64 ", nbf %" PRId64
                ", iat %" PRId64 ") gave %d, expected %d\n",
                exp, nbf, iat, rc, want);
        abort();
    }
}


static void
fz_time_bounds(void)
{
    int64_t  n, l;

    n = FZ_NOW;
    l = FZ_LEEWAY;

    fz_times(n - l + 1, -1, -1, NGX_HTTP_ES_JWS_OK);
    fz_times(n - l - 1, -1, -1, NGX_HTTP_ES_JWS_EXPIRED);
    fz_times(-1, -1, -1, NGX_HTTP_ES_JWS_INVALID);

    fz_times(n + 60, n + l - 1, -1, NGX_HTTP_ES_JWS_OK);
    fz_times(n + 60, n + l + 1, -1, NGX_HTTP_ES_JWS_INVALID);
    fz_times(n + 60, -1, n + l - 1, NGX_HTTP_ES_JWS_OK);
    fz_times(n + 60, -1, n + l + 1, NGX_HTTP_ES_JWS_INVALID);

    fz_times(n + FZ_LIFETIME - 1, -1, n, NGX_HTTP_ES_JWS_OK);
    fz_times(n + FZ_LIFETIME + 1, -1, n, NGX_HTTP_ES_JWS_INVALID);
    fz_times(n + FZ_LIFETIME - 1, -1, -1, NGX_HTTP_ES_JWS_OK);
    fz_times(n + FZ_LIFETIME + 1, -1, -1, NGX_HTTP_ES_JWS_INVALID);
}


static void
fz_structured(const unsigned char *d, size_t len, unsigned mode)
{
    int                        rc, i, hdr;
    char                       num[160], dec[32];
    size_t                     k, n;
    int64_t                    nv, v, exp, iat;
    unsigned                   a, b, flags, tv;
    fz_aud_t                   au;
    fz_buf_t                   payload, tok, joined;
    fz_str_t                   str[4];
    const char                *reason, *h;
    unsigned char             *token;
    ngx_http_es_jws_t          jws;
    const unsigned char       *p, *end, *z;
    ngx_http_es_jws_claims_t  *claims;
    ngx_http_es_jws_time_t     tp;

    (void) mode;

    if (len < 13) {
        return;
    }

    nv = 0;
    for (i = 7; i >= 0; i--) {
        nv = (int64_t) (((uint64_t) nv << 8) | d[i]);
    }

    a = d[8] | (unsigned) d[9] << 8;
    b = d[10] | (unsigned) d[11] << 8;
    flags = d[12];

    tv = flags & 3;
    hdr = (flags >> 4) & 3;

    switch (tv) {

    case 0:
        iat = FZ_NOW - (a % 3600);
        exp = FZ_NOW + 1 + (b % 3600);
        break;

    case 1:
        iat = FZ_NOW - 600 - (a % 3600);
        exp = FZ_NOW - (b % FZ_LEEWAY);
        break;

    case 2:
        exp = FZ_NOW - FZ_LEEWAY - 1 - (b % 100000);
        iat = exp - 600;
        break;

    default: /* 3 */
        iat = -1;
        exp = FZ_NOW + 1 + (b % 3600);
        break;
    }

    memset(str, 0, sizeof(str));

    p = d + 13;
    end = d + len;

    for (i = 0; i < 4; i++) {
        z = memchr(p, '\0', end - p);
        n = z ? (size_t) (z - p) : (size_t) (end - p);

        fz_escape(&str[i], p, n);

        p += n;
        if (p < end) {
            p++;
        }
    }

    memset(&payload, 0, sizeof(payload));

    fz_buf_str(&payload, "{\"sub\":");
    fz_buf_add(&payload, str[0].json.data, str[0].json.len);

    fz_buf_str(&payload, (flags & 8) ? ",\"aud\":" : ",\"aud\":[");
    fz_buf_add(&payload, str[1].json.data, str[1].json.len);

    if (!(flags & 8)) {
        fz_buf_str(&payload, ",");
        fz_buf_add(&payload, str[2].json.data, str[2].json.len);
        fz_buf_str(&payload, "]");
    }

    snprintf(num, sizeof(num), ",\"exp\":%" PRId64, exp);
    fz_buf_str(&payload, num);

    if (iat >= 0) {
        snprintf(num, sizeof(num), ",\"iat\":%" PRId64, iat);
        fz_buf_str(&payload, num);
    }

    if (flags & 4) {
        snprintf(num, sizeof(num), ",\"nbf\":%" PRId64,
                 iat >= 0 ? iat : (int64_t) (FZ_NOW - 10));
        fz_buf_str(&payload, num);
    }

    snprintf(num, sizeof(num), ",\"n\":%" PRId64 ",\"perm\":{\"publish\":",
             nv);
    fz_buf_str(&payload, num);
    fz_buf_add(&payload, str[3].json.data, str[3].json.len);
    fz_buf_str(&payload, "}}");

    h = fz_canon[hdr];

    memset(&tok, 0, sizeof(tok));
    fz_make_token(&tok, (const unsigned char *) h, strlen(h),
                  payload.data, payload.len, 0, 0);

    if (tok.len > NGX_HTTP_ES_JWS_MAX_TOKEN) {
        /* too large: only "no crash" is expected */
        fz_pipeline(&tok, 0, 0);
        goto done;
    }

    token = fz_parse_check(&tok, &jws, 1, 0);

    claims = NULL;
    reason = NULL;
    rc = ngx_http_es_jws_claims_parse(&claims, &jws, &reason);

    if (rc != NGX_HTTP_ES_JWS_OK) {
        fprintf(stderr, "fuzz: claims_parse() rejected \"%.*s\": %s\n",
                (int) payload.len, payload.data, reason ? reason : "(null)");
        abort();
    }

    /* times */

    tp.now = FZ_NOW;
    tp.leeway = FZ_LEEWAY;
    tp.max_lifetime = FZ_LIFETIME;

    reason = NULL;
    rc = ngx_http_es_jws_claims_check_time(claims, &tp, &reason);

    if (rc != (tv == 2 ? NGX_HTTP_ES_JWS_EXPIRED : NGX_HTTP_ES_JWS_OK)) {
        fprintf(stderr, "fuzz: check_time() gave %d (%s) on \"%.*s\"\n",
                rc, reason ? reason : "", (int) payload.len, payload.data);
        abort();
    }

    v = 0;
    fz_assert(ngx_http_es_jws_claim_int(claims, (const unsigned char *) "exp",
                                        3, &v) == NGX_HTTP_ES_JWS_OK);
    fz_assert(v == exp);

    fz_time_bounds();

    /* sub: a string */

    fz_expect_text(claims, "sub", str[0].text.data, str[0].text.len);
    fz_expect_match(claims, "sub", str[0].text.data, str[0].text.len,
                    NGX_HTTP_ES_JWS_OK);
    fz_assert(ngx_http_es_jws_claim_int(claims, (const unsigned char *) "sub",
                                        3, &v) == NGX_HTTP_ES_JWS_INVALID);

    /* aud: one string or an array of two */

    memset(&au, 0, sizeof(au));
    au.aud = &str[1];

    rc = ngx_http_es_jws_claim_strings(claims, (const unsigned char *) "aud",
                                       3, fz_aud_handler, &au);
    fz_assert(rc == NGX_HTTP_ES_JWS_OK);
    fz_assert(au.calls == ((flags & 8) ? 1 : 2));

    memset(&joined, 0, sizeof(joined));
    fz_buf_add(&joined, str[1].text.data, str[1].text.len);

    if (!(flags & 8)) {
        fz_buf_add(&joined, ",", 1);
        fz_buf_add(&joined, str[2].text.data, str[2].text.len);
    }

    fz_expect_text(claims, "aud", joined.data, joined.len);
    free(joined.data);

    fz_expect_match(claims, "aud", str[1].text.data, str[1].text.len,
                    NGX_HTTP_ES_JWS_OK);

    if (!(flags & 8)) {
        fz_expect_match(claims, "aud", str[2].text.data, str[2].text.len,
                        NGX_HTTP_ES_JWS_OK);
    }

    /* n: any int64 */

    v = 0;
    fz_assert(ngx_http_es_jws_claim_int(claims, (const unsigned char *) "n",
                                        1, &v) == NGX_HTTP_ES_JWS_OK);
    fz_assert(v == nv);

    snprintf(dec, sizeof(dec), "%" PRId64, nv);
    fz_expect_text(claims, "n", (unsigned char *) dec, strlen(dec));
    fz_expect_match(claims, "n", (unsigned char *) dec, strlen(dec),
                    NGX_HTTP_ES_JWS_OK);
    fz_assert(ngx_http_es_jws_claim_strings(claims,
                                            (const unsigned char *) "n", 1,
                                            fz_aud_handler, &au)
              == NGX_HTTP_ES_JWS_INVALID);

    /* a dotted path */

    fz_expect_text(claims, "perm.publish", str[3].text.data, str[3].text.len);
    fz_expect_match(claims, "perm.publish", str[3].text.data,
                    str[3].text.len, NGX_HTTP_ES_JWS_OK);

    /* absent claims */

    fz_assert(ngx_http_es_jws_claim_int(claims, (const unsigned char *) "nope",
                                        4, &v) == NGX_HTTP_ES_JWS_ABSENT);
    fz_expect_text(claims, "nope", NULL, 0);
    fz_expect_text(claims, "perm.nope", NULL, 0);
    fz_expect_match(claims, "nope", (unsigned char *) "x", 1,
                    NGX_HTTP_ES_JWS_ABSENT);
    fz_assert(ngx_http_es_jws_claim_strings(claims,
                                            (const unsigned char *) "nope", 4,
                                            fz_aud_handler, &au)
              == NGX_HTTP_ES_JWS_ABSENT);

    /* and the generic walk */

    fz_walk_claims(claims);

    ngx_http_es_jws_claims_free(claims);
    free(token);

done:

    for (k = 0; k < 4; k++) {
        free(str[k].json.data);
        free(str[k].text.data);
    }

    free(payload.data);
    free(tok.data);
}


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
    int                   valid, damage;
    size_t                hlen, plen, k;
    unsigned              mode, bit;
    fz_buf_t              tok;
    const char           *h;
    const unsigned char  *d, *z, *hp, *pp;

    fz_load_keys();

    if (size < 1) {
        return 0;
    }

    mode = data[0];
    d = data + 1;
    size--;

    if (mode % 4 == 2) {
        fz_structured(d, size, mode);
        return 0;
    }

    memset(&tok, 0, sizeof(tok));
    h = fz_canon[mode / 4 % 4];

    if (mode % 4 == 0) {
        z = memchr(d, '\0', size);

        if (z) {
            hp = d;
            hlen = z - d;
            pp = z + 1;
            plen = size - hlen - 1;

        } else {
            hp = d;
            hlen = size;
            pp = (const unsigned char *) fz_fixed_payload;
            plen = sizeof(fz_fixed_payload) - 1;
        }

    } else {
        hp = (const unsigned char *) h;
        hlen = strlen(h);
        pp = d;
        plen = size;
    }

    damage = 0;
    bit = 0;

    if (mode % 4 == 3) {
        damage = 1 + (int) (mode / 16 % 5);

        /* the bit to flip: from the payload, so the fuzzer varies it */
        for (bit = 0, k = 0; k < plen; k++) {
            bit = bit * 31 + pp[k];
        }

        if (damage == 5 && plen == 0) {
            damage = 1;
        }
    }

    if (damage == 1) {

        /* one flipped bit in each byte of the signature in turn */

        for (k = 0; k < 32; k++) {
            fz_make_token(&tok, hp, hlen, pp, plen, 1,
                          (unsigned) k * 8 + bit % 8);
            fz_pipeline(&tok, 0, 1);
        }

        free(tok.data);

        return 0;
    }

    fz_make_token(&tok, hp, hlen, pp, plen, damage, bit);

    valid = damage == 0 && fz_is_canon(hp, hlen) && plen > 0
            && tok.len <= NGX_HTTP_ES_JWS_MAX_TOKEN;

    fz_pipeline(&tok, valid, damage != 0);

    free(tok.data);

    return 0;
}
