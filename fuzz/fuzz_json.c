/*
 * Copyright (C) The ngx_http_embed_session_module authors
 *
 * fuzz_json: the JSON documents of src/ngx_http_embed_session_json.c (the
 * minting request bodies, the claims and the responses).  The input is
 * used whole, twice: as a body for parse() and as a string for quote().
 *
 * - parse(input), accepted: the document is within the limits (limits()
 *   at depth 1 with MAX_DEPTH / MAX_MEMBERS, and the harness's own count
 *   of depth and members, which limits() must agree with to the unit);
 *   no object has two members of the same name; every string and member
 *   name is UTF-8 (the harness's own strict check) without NUL; dump()
 *   with size 0 gives the length, into a buffer of exactly that length
 *   the same length, and into one byte less at most that many bytes;
 *   the dump is compact (no white space outside strings, no raw control
 *   character) and parses again to a document that dumps to the same
 *   bytes; a second reference (ref()) outlives free() of the first;
 * - the accessors agree with each other: type, size, at() within and past
 *   the end, iter()/iter_next() give size() members in the order get()
 *   finds them, iter_key() lengths, string(), integer() and true() match
 *   the dump of the value, quote() of a string value is its dump;
 * - the building API copies the document (object, array, new_string,
 *   new_integer, new_boolean; set() with dotted paths made of the names,
 *   which creates the objects on the way, append()): without reals and
 *   nulls, and when every name can be a path part (not empty, no '.',
 *   under 256 bytes), the copy dumps to the same bytes as the original;
 *   set() through a member that is not an object, on a value that is not
 *   an object, or with an empty path part returns -1, releases the value
 *   (LeakSanitizer) and leaves the document as it was;
 * - parse(input), rejected: err is a non-empty NUL-terminated message
 *   inside err_len (160 bytes, as the module, and 8) as a log may show a
 *   client's bytes (printable ASCII without '"'; the 8-byte one is the
 *   same message cut: 4 bytes and "..."), and the rejection
 *   has a documented reason: jansson itself with JSON_DECODE_ANY |
 *   JSON_REJECT_DUPLICATES refuses the text, or the document is deeper or
 *   larger than the limits; and what it accepts, jansson with those flags
 *   accepts as the same document (duplicate names, which jansson's tables
 *   would hide, are caught in the text this way);
 * - quote(input) and new_string(input) succeed exactly when the input is
 *   UTF-8; the quoted text is a JSON string literal, written within the
 *   advertised length; without NUL it parses (parse() takes any value at
 *   the root) to a string equal to the input, with a NUL in it parse()
 *   must refuse it;
 * - printable(input), the log text of a client's bytes: printable ASCII
 *   without '"', every other byte, '"' and '\\' as "\xNN" and no other
 *   escape, so that it decodes to exactly the input; into a smaller
 *   buffer (1, 8, 17 bytes, exact size) the same text cut before an
 *   escape, with "..." after it, NUL-terminated inside the buffer.
 */


#include "fuzz_common.h"
#include "ngx_http_embed_session_json.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


#define FZ_ERR_LEN   160                  /* the module's err[] in mint.c */
#define FZ_KEY_MAX   255                  /* get() and set() take names
                                             shorter than 256 bytes */

typedef ngx_http_es_json_t  fz_json_t;


/*
 * Classes of inputs, made visible as coverage: the code that tells them
 * apart is jansson's, which is not instrumented, so without this the
 * -merge=1 of the corpus would keep no duplicate name, no overflowing
 * integer, no document at the limits.  One distinct branch per class.
 */

#define FZ_CLASS_LIMITS_DEPTH    20    /* rejected: deeper than the limit */
#define FZ_CLASS_LIMITS_MEMBERS  21    /* rejected: too many members */
#define FZ_CLASS_INT64           22    /* an integer past 32 bits */
#define FZ_CLASS_AT_DEPTH        23    /* accepted at MAX_DEPTH exactly */
#define FZ_CLASS_AT_MEMBERS      24    /* accepted at MAX_MEMBERS exactly */
#define FZ_CLASS_REAL            25
#define FZ_CLASS_NULL            26
#define FZ_CLASS_BAD_NAME        27    /* a name that is not a path part */
#define FZ_CLASS_COPY            28    /* a copy compared */
#define FZ_CLASS_QUOTE_NUL       29
#define FZ_CLASS_QUOTE_NOT_UTF8  30
#define FZ_CLASS_ESCAPED_NAME    31    /* a name written with a \u escape */
#define FZ_CLASS_DUP_IN_LIMITS   19    /* a duplicate, else within limits */

static volatile unsigned  fz_classes[32];


static void __attribute__((noinline))
fz_class(unsigned c)
{
    switch (c) {
    case 0: fz_classes[0]++; break;
    case 1: fz_classes[1]++; break;
    case 2: fz_classes[2]++; break;
    case 3: fz_classes[3]++; break;
    case 4: fz_classes[4]++; break;
    case 5: fz_classes[5]++; break;
    case 6: fz_classes[6]++; break;
    case 7: fz_classes[7]++; break;
    case 8: fz_classes[8]++; break;
    case 9: fz_classes[9]++; break;
    case 10: fz_classes[10]++; break;
    case 11: fz_classes[11]++; break;
    case 12: fz_classes[12]++; break;
    case 13: fz_classes[13]++; break;
    case 14: fz_classes[14]++; break;
    case 15: fz_classes[15]++; break;
    case 16: fz_classes[16]++; break;
    case 17: fz_classes[17]++; break;
    case 19: fz_classes[19]++; break;
    case 20: fz_classes[20]++; break;
    case 21: fz_classes[21]++; break;
    case 22: fz_classes[22]++; break;
    case 23: fz_classes[23]++; break;
    case 24: fz_classes[24]++; break;
    case 25: fz_classes[25]++; break;
    case 26: fz_classes[26]++; break;
    case 27: fz_classes[27]++; break;
    case 28: fz_classes[28]++; break;
    case 29: fz_classes[29]++; break;
    case 30: fz_classes[30]++; break;
    case 31: fz_classes[31]++; break;
    default: fz_classes[18]++; break;
    }
}


typedef struct {
    int         depth;      /* deepest value, the root at 1 */
    size_t      members;    /* members and elements in all */
    unsigned    reals;
    unsigned    nulls;
    unsigned    bad_names;  /* names that cannot be a path part */
} fz_stats_t;


/*
 * Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing past
 * U+10FFFF.  *nul is set when a NUL byte is seen.
 */

static int
fz_utf8(const unsigned char *s, size_t len, int *nul)
{
    size_t    i, n, k;
    uint32_t  c, min;

    *nul = 0;

    for (i = 0; i < len; /* void */ ) {
        c = s[i];

        if (c < 0x80) {
            if (c == 0) {
                *nul = 1;
            }

            i++;
            continue;
        }

        if (c >= 0xc2 && c <= 0xdf) {
            n = 1; c &= 0x1f; min = 0x80;

        } else if (c >= 0xe0 && c <= 0xef) {
            n = 2; c &= 0x0f; min = 0x800;

        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 3; c &= 0x07; min = 0x10000;

        } else {
            return 0;
        }

        if (len - i - 1 < n) {
            return 0;
        }

        for (k = 1; k <= n; k++) {
            if ((s[i + k] & 0xc0) != 0x80) {
                return 0;
            }

            c = (c << 6) | (s[i + k] & 0x3f);
        }

        if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) {
            return 0;
        }

        i += n + 1;
    }

    return 1;
}


/*
 * dump() as the module calls it: the length first, then into a heap
 * buffer of exactly that length (ASan sees one byte too many); one byte
 * less must get the same length back and no write past it.
 */

static unsigned char *
fz_dump(const fz_json_t *json, size_t *len)
{
    size_t          n, m;
    unsigned char  *buf, *shorter;

    n = ngx_http_es_json_dump(json, NULL, 0);
    fz_assert(n > 0);

    buf = malloc(n);
    fz_assert(buf != NULL);

    m = ngx_http_es_json_dump(json, buf, n);
    fz_assert(m == n);

    shorter = malloc(n - 1 ? n - 1 : 1);
    fz_assert(shorter != NULL);

    m = ngx_http_es_json_dump(json, shorter, n - 1);
    fz_assert(m == n);

    free(shorter);

    *len = n;

    return buf;
}


/* compact JSON text: no white space outside strings, no raw controls */

static void
fz_check_compact(const unsigned char *p, size_t len)
{
    int     in, nul;
    size_t  i;

    fz_assert(fz_utf8(p, len, &nul) && !nul);

    in = 0;

    for (i = 0; i < len; i++) {
        fz_assert(p[i] >= 0x20);

        if (in) {
            if (p[i] == '\\') {
                fz_assert(i + 1 < len);
                i++;

            } else if (p[i] == '"') {
                in = 0;
            }

            continue;
        }

        fz_assert(p[i] != ' ');

        if (p[i] == '"') {
            in = 1;
        }
    }

    fz_assert(!in);
}


static int
fz_name_cmp(const void *a, const void *b)
{
    const unsigned char  *x, *y;
    size_t                lx, ly;
    int                   rc;

    x = *(const unsigned char **) a;
    y = *(const unsigned char **) b;
    lx = strlen((const char *) x);
    ly = strlen((const char *) y);

    rc = memcmp(x, y, lx < ly ? lx : ly);

    return rc ? rc : (lx > ly) - (lx < ly);
}


static void fz_walk(const fz_json_t *json, int depth, fz_stats_t *st);


static void
fz_walk_object(const fz_json_t *obj, int depth, fz_stats_t *st)
{
    int                    nul;
    void                  *it;
    size_t                 n, i, len;
    fz_json_t             *v;
    const unsigned char   *key, **names;

    n = ngx_http_es_json_size(obj);
    st->members += n;

    names = malloc((n ? n : 1) * sizeof(*names));
    fz_assert(names != NULL);

    i = 0;

    for (it = ngx_http_es_json_iter(obj);
         it != NULL;
         it = ngx_http_es_json_iter_next(obj, it))
    {
        fz_assert(i < n);

        key = ngx_http_es_json_iter_key(it, &len);
        v = ngx_http_es_json_iter_value(it);

        fz_assert(key != NULL && v != NULL);
        fz_assert(strlen((const char *) key) == len);
        fz_assert(fz_utf8(key, len, &nul) && !nul);

        if (len == 0 || len > FZ_KEY_MAX || memchr(key, '.', len) != NULL) {
            st->bad_names++;
        }

        /* get() finds the member iter() gives, when it can take the name */

        if (len <= FZ_KEY_MAX) {
            fz_assert(ngx_http_es_json_get(obj, key, len) == v);

        } else {
            fz_assert(ngx_http_es_json_get(obj, key, len) == NULL
                      || ngx_http_es_json_get(obj, key, len) == v);
        }

        /* a name with a NUL in it is not a name */

        if (len > 0 && len < FZ_KEY_MAX) {
            unsigned char  k2[FZ_KEY_MAX + 1];

            memcpy(k2, key, len);
            k2[len] = '\0';
            fz_assert(ngx_http_es_json_get(obj, k2, len + 1) == NULL);
        }

        names[i++] = key;

        fz_walk(v, depth + 1, st);
    }

    fz_assert(i == n);

    /* no two members of one name */

    qsort(names, n, sizeof(*names), fz_name_cmp);

    for (i = 1; i < n; i++) {
        fz_assert(fz_name_cmp(&names[i - 1], &names[i]) != 0);
    }

    free(names);

    /* accessors of other types give nothing */

    fz_assert(ngx_http_es_json_at(obj, 0) == NULL);
    fz_assert(ngx_http_es_json_string(obj, &len) == NULL && len == 0);
}


static void
fz_walk_array(const fz_json_t *arr, int depth, fz_stats_t *st)
{
    size_t      n, i, len;
    fz_json_t  *v;

    n = ngx_http_es_json_size(arr);
    st->members += n;

    for (i = 0; i < n; i++) {
        v = ngx_http_es_json_at(arr, i);
        fz_assert(v != NULL);

        fz_walk(v, depth + 1, st);
    }

    fz_assert(ngx_http_es_json_at(arr, n) == NULL);
    fz_assert(ngx_http_es_json_at(arr, (size_t) -1) == NULL);
    fz_assert(ngx_http_es_json_iter(arr) == NULL);
    fz_assert(ngx_http_es_json_get(arr, (const unsigned char *) "a", 1)
              == NULL);
    fz_assert(ngx_http_es_json_string(arr, &len) == NULL && len == 0);
}


static void
fz_walk(const fz_json_t *json, int depth, fz_stats_t *st)
{
    int                   nul;
    char                  dec[32];
    size_t                len, n, q;
    int64_t               i;
    unsigned char        *d, *qb;
    const unsigned char  *s;

    fz_assert(json != NULL);

    if (depth > st->depth) {
        st->depth = depth;
    }

    switch (ngx_http_es_json_type(json)) {

    case NGX_HTTP_ES_JSON_OBJECT:
        fz_walk_object(json, depth, st);
        return;

    case NGX_HTTP_ES_JSON_ARRAY:
        fz_walk_array(json, depth, st);
        return;

    case NGX_HTTP_ES_JSON_STRING:
        s = ngx_http_es_json_string(json, &len);
        fz_assert(s != NULL);
        fz_assert(fz_utf8(s, len, &nul) && !nul);

        /* quote() of the text is the dump of the value */

        d = fz_dump(json, &n);

        q = ngx_http_es_json_quote(s, len, NULL, 0);
        fz_assert(q == n);

        qb = malloc(q);
        fz_assert(qb != NULL);
        fz_assert(ngx_http_es_json_quote(s, len, qb, q) == q);
        fz_assert(memcmp(qb, d, n) == 0);

        free(qb);
        free(d);
        break;

    case NGX_HTTP_ES_JSON_INTEGER:
        i = ngx_http_es_json_integer(json);

        if (i > INT32_MAX || i < INT32_MIN) {
            fz_class(FZ_CLASS_INT64);
        }

        d = fz_dump(json, &n);
        snprintf(dec, sizeof(dec), "%" PRId64, i);
        fz_assert(n == strlen(dec) && memcmp(d, dec, n) == 0);
        free(d);
        break;

    case NGX_HTTP_ES_JSON_REAL:
        st->reals++;

        d = fz_dump(json, &n);
        fz_assert(memchr(d, '.', n) || memchr(d, 'e', n)
                  || memchr(d, 'E', n));
        free(d);
        break;

    case NGX_HTTP_ES_JSON_BOOLEAN:
        d = fz_dump(json, &n);

        if (ngx_http_es_json_true(json)) {
            fz_assert(ngx_http_es_json_true(json) == 1);
            fz_assert(n == 4 && memcmp(d, "true", 4) == 0);

        } else {
            fz_assert(n == 5 && memcmp(d, "false", 5) == 0);
        }

        free(d);
        break;

    case NGX_HTTP_ES_JSON_NULL:
        st->nulls++;

        d = fz_dump(json, &n);
        fz_assert(n == 4 && memcmp(d, "null", 4) == 0);
        fz_assert(!ngx_http_es_json_true(json));
        free(d);
        break;

    default:
        fz_assert(0);
    }

    /* scalars have no members */

    fz_assert(ngx_http_es_json_size(json) == 0);
    fz_assert(ngx_http_es_json_at(json, 0) == NULL);
    fz_assert(ngx_http_es_json_iter(json) == NULL);
    fz_assert(ngx_http_es_json_get(json, (const unsigned char *) "a", 1)
              == NULL);
}


/*
 * The copy, made with the building API only.  Returns NULL for what it
 * cannot build (reals, nulls); *complete is cleared whenever something is
 * left out.  The members of an object are set() from the object that
 * holds them with the dotted path of their names: objects with members
 * are created by set() on the way, empty ones explicitly.
 */

static fz_json_t *fz_copy(const fz_json_t *src, int *complete);


static void
fz_copy_members(const fz_json_t *src, fz_json_t *root,
    const unsigned char *prefix, size_t plen, int *complete)
{
    void                 *it;
    size_t                len, n;
    fz_json_t            *v, *c;
    unsigned char        *path;
    const unsigned char  *key;

    for (it = ngx_http_es_json_iter(src);
         it != NULL;
         it = ngx_http_es_json_iter_next(src, it))
    {
        key = ngx_http_es_json_iter_key(it, &len);
        v = ngx_http_es_json_iter_value(it);

        if (len == 0 || len > FZ_KEY_MAX || memchr(key, '.', len) != NULL) {
            *complete = 0;
            continue;
        }

        path = malloc(plen + 1 + len);
        fz_assert(path != NULL);

        n = 0;

        if (plen) {
            memcpy(path, prefix, plen);
            path[plen] = '.';
            n = plen + 1;
        }

        memcpy(path + n, key, len);
        n += len;

        if (ngx_http_es_json_type(v) == NGX_HTTP_ES_JSON_OBJECT
            && ngx_http_es_json_size(v) > 0)
        {
            fz_copy_members(v, root, path, n, complete);

        } else {
            c = fz_copy(v, complete);

            if (c != NULL) {
                fz_assert(ngx_http_es_json_set(root, path, n, c) == 0);
            }
        }

        free(path);
    }
}


static fz_json_t *
fz_copy(const fz_json_t *src, int *complete)
{
    size_t                len, i, n;
    fz_json_t            *c, *e;
    const unsigned char  *s;

    switch (ngx_http_es_json_type(src)) {

    case NGX_HTTP_ES_JSON_OBJECT:
        c = ngx_http_es_json_object();
        fz_assert(c != NULL);
        fz_copy_members(src, c, NULL, 0, complete);
        return c;

    case NGX_HTTP_ES_JSON_ARRAY:
        c = ngx_http_es_json_array();
        fz_assert(c != NULL);

        n = ngx_http_es_json_size(src);

        for (i = 0; i < n; i++) {
            e = fz_copy(ngx_http_es_json_at(src, i), complete);

            if (e != NULL) {
                fz_assert(ngx_http_es_json_append(c, e) == 0);
            }
        }

        return c;

    case NGX_HTTP_ES_JSON_STRING:
        s = ngx_http_es_json_string(src, &len);
        c = ngx_http_es_json_new_string(s, len);
        fz_assert(c != NULL);
        return c;

    case NGX_HTTP_ES_JSON_INTEGER:
        c = ngx_http_es_json_new_integer(ngx_http_es_json_integer(src));
        fz_assert(c != NULL);
        return c;

    case NGX_HTTP_ES_JSON_BOOLEAN:
        c = ngx_http_es_json_new_boolean(ngx_http_es_json_true(src));
        fz_assert(c != NULL);
        return c;

    default:
        *complete = 0;
        return NULL;
    }
}


/*
 * The first member, in document order, that is not an object and is
 * reached through names that can be path parts: its dotted path, or 0.
 */

static size_t
fz_find_leaf(const fz_json_t *obj, unsigned char *path, size_t plen,
    size_t cap)
{
    void                 *it;
    size_t                len, n;
    fz_json_t            *v;
    const unsigned char  *key;

    for (it = ngx_http_es_json_iter(obj);
         it != NULL;
         it = ngx_http_es_json_iter_next(obj, it))
    {
        key = ngx_http_es_json_iter_key(it, &len);
        v = ngx_http_es_json_iter_value(it);

        if (len == 0 || len > FZ_KEY_MAX || memchr(key, '.', len) != NULL
            || plen + 1 + len > cap)
        {
            continue;
        }

        n = plen;

        if (n) {
            path[n++] = '.';
        }

        memcpy(path + n, key, len);
        n += len;

        if (ngx_http_es_json_type(v) != NGX_HTTP_ES_JSON_OBJECT) {
            return n;
        }

        n = fz_find_leaf(v, path, n, cap);

        if (n) {
            return n;
        }
    }

    return 0;
}


/* a set() that must fail: -1, the value released, the document unchanged */

static void
fz_set_fails(fz_json_t *doc, const unsigned char *path, size_t len,
    fz_json_t *value)
{
    size_t          n, m;
    unsigned char  *before, *after;

    before = fz_dump(doc, &n);

    fz_assert(ngx_http_es_json_set(doc, path, len, value) == -1);

    after = fz_dump(doc, &m);
    fz_assert(m == n && memcmp(before, after, n) == 0);

    free(after);
    free(before);
}


static void
fz_check_set_failures(fz_json_t *copy)
{
    size_t          n, cap;
    unsigned char  *path;

    if (ngx_http_es_json_type(copy) != NGX_HTTP_ES_JSON_OBJECT) {

        /* set() needs an object, append() an array */

        fz_set_fails(copy, (const unsigned char *) "x", 1,
                     ngx_http_es_json_new_integer(1));

        if (ngx_http_es_json_type(copy) != NGX_HTTP_ES_JSON_ARRAY) {
            fz_assert(ngx_http_es_json_append(copy,
                                        ngx_http_es_json_new_integer(1))
                      == -1);
        }

        return;
    }

    fz_assert(ngx_http_es_json_append(copy, ngx_http_es_json_new_integer(1))
              == -1);

    /* an empty path or an empty first part creates nothing */

    fz_set_fails(copy, (const unsigned char *) "", 0,
                 ngx_http_es_json_new_integer(-1));
    fz_set_fails(copy, (const unsigned char *) ".x", 2,
                 ngx_http_es_json_new_string((const unsigned char *) "v", 1));

    /* through a member that is not an object */

    cap = FZ_KEY_MAX * 4 + 16;
    path = malloc(cap + 8);
    fz_assert(path != NULL);

    n = fz_find_leaf(copy, path, 0, cap);

    if (n) {
        memcpy(path + n, ".x", 2);
        fz_set_fails(copy, path, n + 2, ngx_http_es_json_new_integer(7));

        memcpy(path + n, ".x.y", 4);
        fz_set_fails(copy, path, n + 4,
                     ngx_http_es_json_new_string((const unsigned char *) "v",
                                                 1));

        memcpy(path + n, ".", 1);
        fz_set_fails(copy, path, n + 1, ngx_http_es_json_object());
    }

    free(path);
}


/* the checks of a document parse() accepted */

static void
fz_check_document(fz_json_t *doc)
{
    int             complete;
    char            err[FZ_ERR_LEN];
    size_t          n, n2, n3, members;
    fz_json_t      *ref, *again, *copy;
    fz_stats_t      st;
    unsigned char  *d, *d2, *d3;

    /* the walk runs on a second reference, the first one dropped */

    ref = ngx_http_es_json_ref(doc);
    fz_assert(ref == doc);
    ngx_http_es_json_free(doc);

    memset(&st, 0, sizeof(st));
    fz_walk(ref, 1, &st);

    /* the limits, by limits() and by the walk, which must agree */

    members = 0;
    fz_assert(ngx_http_es_json_limits(ref, 1, NGX_HTTP_ES_JSON_MAX_DEPTH,
                                      NGX_HTTP_ES_JSON_MAX_MEMBERS, &members)
              == 1);
    fz_assert(members == st.members);

    fz_assert(st.depth >= 1 && st.depth <= NGX_HTTP_ES_JSON_MAX_DEPTH);
    fz_assert(st.members <= NGX_HTTP_ES_JSON_MAX_MEMBERS);

    if (st.depth == NGX_HTTP_ES_JSON_MAX_DEPTH) {
        fz_class(FZ_CLASS_AT_DEPTH);
    }

    if (st.members == NGX_HTTP_ES_JSON_MAX_MEMBERS) {
        fz_class(FZ_CLASS_AT_MEMBERS);
    }

    if (st.reals) {
        fz_class(FZ_CLASS_REAL);
    }

    if (st.nulls) {
        fz_class(FZ_CLASS_NULL);
    }

    if (st.bad_names) {
        fz_class(FZ_CLASS_BAD_NAME);
    }

    members = 0;
    fz_assert(ngx_http_es_json_limits(ref, 1, st.depth, st.members, &members)
              == 1);

    members = 0;
    fz_assert(ngx_http_es_json_limits(ref, 2, st.depth, st.members, &members)
              == 0);

    if (st.members > 0) {
        members = 0;
        fz_assert(ngx_http_es_json_limits(ref, 1, st.depth, st.members - 1,
                                          &members)
                  == 0);
    }

    /* dump, parse the dump, dump again: the same bytes */

    d = fz_dump(ref, &n);
    fz_check_compact(d, n);

    err[0] = '\0';
    again = ngx_http_es_json_parse(d, n, err, sizeof(err));

    if (again == NULL) {
        fprintf(stderr, "the dump does not parse again: %s\n", err);
        fz_assert(again != NULL);
    }

    fz_assert(ngx_http_es_json_type(again) == ngx_http_es_json_type(ref));

    d2 = fz_dump(again, &n2);
    fz_assert(n2 == n && memcmp(d2, d, n) == 0);
    free(d2);

    ngx_http_es_json_free(again);

    /* the copy made with the building API */

    complete = 1;
    copy = fz_copy(ref, &complete);

    if (copy != NULL) {
        d3 = fz_dump(copy, &n3);

        if (complete) {
            fz_assert(st.reals == 0 && st.nulls == 0 && st.bad_names == 0);
            fz_class(FZ_CLASS_COPY);

            if (n3 != n || memcmp(d3, d, n) != 0) {
                fprintf(stderr, "copy:     %.*s\noriginal: %.*s\n",
                        (int) n3, d3, (int) n, d);
                fz_assert(n3 == n && memcmp(d3, d, n) == 0);
            }

        } else {
            fz_assert(st.reals || st.nulls || st.bad_names);
        }

        free(d3);

        fz_check_set_failures(copy);

        ngx_http_es_json_free(copy);

    } else {
        fz_assert(!complete && (st.reals || st.nulls));
    }

    free(d);
    ngx_http_es_json_free(ref);
}


static int
fz_has_escape(const unsigned char *p, size_t len)
{
    size_t  i;

    for (i = 0; i + 1 < len; i++) {
        if (p[i] == '\\' && p[i + 1] == 'u') {
            return 1;
        }
    }

    return 0;
}


/*
 * The reasons a rejection may have: jansson refuses the text (invalid
 * JSON or UTF-8, NUL, a duplicate name, trailing bytes), or the document
 * is out of the limits, which the harness counts itself.
 */

static void
fz_check_rejection(const unsigned char *input, size_t size)
{
    json_t        *j;
    fz_stats_t     st;
    json_error_t   jerr;

    j = json_loadb((const char *) input, size,
                   JSON_DECODE_ANY|JSON_REJECT_DUPLICATES, &jerr);

    if (j == NULL) {
        fz_class(json_error_code(&jerr));

        if (json_error_code(&jerr) != json_error_duplicate_key) {
            return;
        }

        if (fz_has_escape(input, size)) {
            fz_class(FZ_CLASS_ESCAPED_NAME);
        }

        /* a duplicate the limits alone would not refuse */

        j = json_loadb((const char *) input, size, JSON_DECODE_ANY, NULL);

        if (j != NULL) {
            memset(&st, 0, sizeof(st));
            fz_walk((fz_json_t *) j, 1, &st);

            if (st.depth <= NGX_HTTP_ES_JSON_MAX_DEPTH
                && st.members <= NGX_HTTP_ES_JSON_MAX_MEMBERS)
            {
                fz_class(FZ_CLASS_DUP_IN_LIMITS);
            }

            json_decref(j);
        }

        return;
    }

    memset(&st, 0, sizeof(st));
    fz_walk((fz_json_t *) j, 1, &st);

    fz_assert(st.depth > NGX_HTTP_ES_JSON_MAX_DEPTH
              || st.members > NGX_HTTP_ES_JSON_MAX_MEMBERS);

    fz_class(st.depth > NGX_HTTP_ES_JSON_MAX_DEPTH ? FZ_CLASS_LIMITS_DEPTH
                                                   : FZ_CLASS_LIMITS_MEMBERS);

    json_decref(j);
}


static void
fz_check_err(const char *err, size_t len)
{
    const char  *nul, *p;

    nul = memchr(err, '\0', len);
    fz_assert(nul != NULL);
    fz_assert(nul > err);

    for (p = err; p < nul; p++) {
        fz_assert(*p >= 0x20 && *p < 0x7f && *p != '"');
    }
}


static int
fz_hex(int c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }

    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }

    return -1;
}


/* printable() text decoded back, up to its end: the bytes it shows */

static size_t
fz_unprintable(const unsigned char *t, size_t len, unsigned char *out)
{
    size_t  i, n;
    int     hi, lo, c;

    n = 0;

    for (i = 0; i < len; i++) {
        fz_assert(t[i] >= 0x20 && t[i] < 0x7f && t[i] != '"');

        if (t[i] != '\\') {
            out[n++] = t[i];
            continue;
        }

        fz_assert(i + 3 < len && t[i + 1] == 'x');

        hi = fz_hex(t[i + 2]);
        lo = fz_hex(t[i + 3]);
        fz_assert(hi >= 0 && lo >= 0);

        /* only what must be escaped is */

        c = hi << 4 | lo;
        fz_assert(c < 0x20 || c >= 0x7f || c == '"' || c == '\\');

        out[n++] = (unsigned char) c;
        i += 3;
    }

    return n;
}


static void
fz_check_printable(const unsigned char *in, size_t size)
{
    size_t          full, len, n, cut, dots, k;
    unsigned char  *text, *small, *back;

    static const size_t  sizes[] = { 1, 8, 17 };

    full = 4 * size + 1;
    text = malloc(full);
    back = malloc(size + 1);
    fz_assert(text != NULL && back != NULL);

    len = ngx_http_es_json_printable(text, full, in, size);
    fz_assert(len < full && text[len] == '\0');

    n = fz_unprintable(text, len, back);
    fz_assert(n == size && memcmp(back, in, size) == 0);

    for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        small = malloc(sizes[k]);
        fz_assert(small != NULL);

        n = ngx_http_es_json_printable(small, sizes[k], in, size);
        fz_assert(n < sizes[k] && small[n] == '\0');

        if (len < sizes[k]) {
            fz_assert(n == len && memcmp(small, text, len) == 0);

        } else {
            /*
             * as much of the text as leaves room for "...", never half an
             * escape, then the dots (fewer when the buffer is tiny)
             */

            dots = (sizes[k] - 1 < 3) ? sizes[k] - 1 : 3;
            fz_assert(n >= dots && memcmp(small + n - dots, "...", dots) == 0);

            n -= dots;
            cut = sizes[k] - 1 - dots;

            fz_assert(n <= cut && memcmp(small, text, n) == 0);
            fz_assert(n + (text[n] == '\\' ? 4 : 1) > cut);
            (void) fz_unprintable(small, n, back);
        }

        free(small);
    }

    free(back);
    free(text);
}


/*
 * What parse() accepts, jansson itself accepts with JSON_DECODE_ANY |
 * JSON_REJECT_DUPLICATES and without JSON_ALLOW_NUL, as the same document:
 * the duplicate names jansson's tables would hide (the last one wins) are
 * seen in the text this way.
 */

static void
fz_check_accepted(const unsigned char *input, size_t size,
    const fz_json_t *doc)
{
    char           *s;
    size_t          n, m;
    json_t         *j;
    unsigned char  *d;

    j = json_loadb((const char *) input, size,
                   JSON_DECODE_ANY|JSON_REJECT_DUPLICATES, NULL);
    fz_assert(j != NULL);

    s = json_dumps(j, JSON_COMPACT|JSON_ENCODE_ANY);
    fz_assert(s != NULL);

    d = fz_dump(doc, &n);
    m = strlen(s);
    fz_assert(m == n && memcmp(s, d, n) == 0);

    free(d);
    free(s);
    json_decref(j);
}


/* quote() and new_string() of the raw input */

static void
fz_check_quote(const unsigned char *in, size_t size)
{
    int                   utf8, nul;
    char                  err[FZ_ERR_LEN];
    size_t                n, m, len;
    fz_json_t            *s, *back;
    unsigned char        *q, *shorter;
    const unsigned char  *v;

    utf8 = fz_utf8(in, size, &nul);

    s = ngx_http_es_json_new_string(in, size);
    fz_assert((s != NULL) == utf8);
    ngx_http_es_json_free(s);

    n = ngx_http_es_json_quote(in, size, NULL, 0);

    if (!utf8) {
        fz_class(FZ_CLASS_QUOTE_NOT_UTF8);
        fz_assert(n == 0);
        return;
    }

    if (nul) {
        fz_class(FZ_CLASS_QUOTE_NUL);
    }

    fz_assert(n >= 2 + size);

    q = malloc(n);
    fz_assert(q != NULL);

    m = ngx_http_es_json_quote(in, size, q, n);
    fz_assert(m == n);

    shorter = malloc(n - 1);
    fz_assert(shorter != NULL);
    fz_assert(ngx_http_es_json_quote(in, size, shorter, n - 1) == n);
    free(shorter);

    fz_assert(q[0] == '"' && q[n - 1] == '"');
    fz_check_compact(q, n);

    back = ngx_http_es_json_parse(q, n, err, sizeof(err));

    if (nul) {
        fz_assert(back == NULL);
        fz_check_err(err, sizeof(err));

    } else {
        fz_assert(back != NULL);
        fz_assert(ngx_http_es_json_type(back) == NGX_HTTP_ES_JSON_STRING);

        v = ngx_http_es_json_string(back, &len);
        fz_assert(v != NULL && len == size && memcmp(v, in, size) == 0);

        ngx_http_es_json_free(back);
    }

    free(q);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char           *err, *small;
    fz_json_t      *doc;
    unsigned char  *in;

    in = fz_dup(data, size);

    /* exact-size error buffers: ASan sees a write past err_len */

    err = malloc(FZ_ERR_LEN);
    fz_assert(err != NULL);
    memset(err, 0xaa, FZ_ERR_LEN);

    doc = ngx_http_es_json_parse(in, size, err, FZ_ERR_LEN);

    if (doc != NULL) {
        fz_check_accepted(in, size, doc);
        fz_check_document(doc);

    } else {
        fz_check_err(err, FZ_ERR_LEN);

        small = malloc(8);
        fz_assert(small != NULL);
        memset(small, 0xaa, 8);

        fz_assert(ngx_http_es_json_parse(in, size, small, 8) == NULL);
        fz_check_err(small, 8);
        fz_assert(strlen(small) == 7 && memcmp(small, err, 4) == 0
                  && memcmp(small + 4, "...", 3) == 0);

        free(small);

        fz_check_rejection(in, size);
    }

    free(err);

    fz_check_quote(in, size);
    fz_check_printable(in, size);

    free(in);

    return 0;
}
