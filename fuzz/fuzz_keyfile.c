/*
 * Copyright (C) The ngx_http_embed_session_module authors
 *
 * fuzz_keyfile: the API key file: its lines and its load
 * (src/ngx_http_embed_session_apikey_file.c), and the rewrite of one line
 * that regenerate and revoke make (..._apikey_rewrite.c), with the open
 * and read of the files nginx trusts (src/ngx_http_embed_session_file.c).
 *
 * Four bytes choose the change, the rest is the key file:
 *
 *   byte 0  bit 0      revoke, else regenerate
 *           bit 1      regenerate an id_key credential too
 *           bits 2-3   the new key's prefix: 0 that of the line's key= (as
 *                      the module makes it), 1 none, 2 a made one of byte
 *                      2's length (at most 216), 3 that of the line's
 *                      id_key=
 *           bits 4-5   the same for the new id_key's prefix
 *           bits 6-7   the error buffer: 1024 bytes (the module's), 1, 24
 *                      or 0
 *   byte 1  bits 0-5   the ID changed: the first word of the Nth line that
 *                      begins with one (after blanks, a "#" and blanks), N
 *                      modulo their number; "fz-absent" when none
 *           bits 6-7   that many characters cut off its end (a prefix of
 *                      another ID)
 *   byte 2  the length of the made prefix
 *   byte 3  the seed of the new credentials' 8 characters and hashes
 *
 * An nginx-linked harness (fuzz/README.md): it includes the key file's
 * sources for their static functions.  Each input goes through:
 *
 * - ngx_http_es_keyfile_parse_line() on every line, the record in a heap
 *   buffer of exactly NGX_HTTP_ES_KEYFILE_REC_SIZE bytes;
 * - ngx_http_es_keyfile_edit_line() on every line, with the line's own ID
 *   (no buffer, a buffer of the length it asked for, a larger one, one a
 *   byte short) and with the one chosen, when it is another (no buffer,
 *   and one);
 * - ngx_http_es_keyfile_parse(), the load (what load() runs once the file
 *   is read), with a configuration that logs into the harness;
 * - ngx_http_es_keyfile_find_line() with the chosen ID;
 * - ngx_http_es_keyfile_rewrite() itself, on a real file in a directory of
 *   the harness's own (under /dev/shm when there is one), with a request
 *   that is a pool and a log; then the load of the file it wrote.
 *
 * Two functions are taken over in the key file's sources (the three
 * above) before they are included: geteuid() says "not root", so that
 * the checks of the files nginx trusts stop at "a regular file, not
 * writable by others" (the harness made them; those checks are t/056's)
 * and no fchown() is made; fsync() only checks its descriptor
 * (durability is not the subject, and a disk would make it slow).
 * ngx_strlchr() is counted: the bytes the key file's code searches, for
 * the bound on its work.
 *
 * The oracles (abort() when broken), against a model of the format written
 * from its description (docs/minting.md "API key files", the header's
 * comments), not from the code:
 *
 * - parse_line(): the model's verdict (record, blank or comment, error);
 *   an error's reason NUL-terminated inside err_len, nothing written past
 *   it, nothing written at all on success; kl->entry the ID once it was
 *   read (a stand-in for one that looks like a raw key), kl->field the
 *   field the model failed on; the reason quotes nothing of the failing
 *   field that looks like a raw key (the whole field, its value, a list's
 *   item, the LOOKUP part of a key): the line with each such piece
 *   replaced by a look-alike (the same classes of characters) fails with
 *   the same reason, byte for byte; a record's header is byte for byte
 *   the expected one (hashes, flags, rate and period, expiry, zeros
 *   elsewhere), its strings lie inside its data, packed, without overlap,
 *   and equal the model's: ID, LOOKUPs, scope, tenant, lists, origins in
 *   normal form, OWNER "ID" or "ID:SERIAL"; at most 8192 bytes;
 * - edit_line(): a line that is not a record of the ID is never edited
 *   (NGX_ERROR, whatever the buffer, nothing written); otherwise with no
 *   buffer NGX_DECLINED and the length of the model's new line (the
 *   line with key=/id_key= replaced, or status=revoked, a missing field
 *   after the last one, every other byte kept); a buffer of that length
 *   gets exactly the model's line (a larger one: nothing past it), or
 *   NGX_ERROR when the model says the new line would not load; a byte
 *   short: NGX_DECLINED, the length needed, nothing written; the record
 *   left in kl->rec is the new line's;
 * - the load: accepted exactly when the model accepts every line and
 *   finds no ID, and no LOOKUP among key= and id_key=, twice; refused with
 *   one message that names the first bad line (and the line it repeats),
 *   its entry, and quotes no raw key; accepted: every record, in order,
 *   as parse_line() gives it, with its size and its tree keys (CRC32 of
 *   the LOOKUPs, the harness's own);
 * - find_line(): absent, one line, or the first two lines whose first
 *   word is the ID, as the harness's own scan finds them;
 * - rewrite(): NGX_OK exactly when the ID is on one line and the model
 *   edits that line; the file then is every byte before the line, the
 *   model's new line, every byte after it; its mode kept, it and its
 *   directory synced, no temporary file left; refused: the file as it
 *   was, and a message with the line (or "no longer in"); the new file
 *   loads as the model says, and when the old one loaded and no new
 *   LOOKUP is one of another record, it loads with the same IDs;
 * - bounded work: the bytes searched, per line at most twice the line,
 *   the load at most three times the file, the rewrite at most nine
 *   times it (plus the new line).
 *
 * FZ_TRACE=1 in the environment: what each input did, on stderr.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "fuzz_nginx.h"
#include "ngx_http_embed_session_module.h"
#include "ngx_http_embed_session_apikey_int.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


#define fz_assert  fz_nginx_assert


/* the key file's code, with what is taken over (see above) */

static size_t      fz_scanned;
static ngx_uint_t  fz_synced;


static u_char *
fz_strlchr(u_char *p, u_char *last, u_char c)
{
    u_char  *q;

    q = ngx_strlchr(p, last, c);

    fz_scanned += (q ? q + 1 : last) - p;

    return q;
}


static uid_t
fz_geteuid(void)
{
    return 1;
}


static int
fz_fsync(int fd)
{
    fz_assert(fcntl(fd, F_GETFD) != -1);

    fz_synced++;

    return 0;
}


#define ngx_strlchr  fz_strlchr
#define geteuid      fz_geteuid
#define fsync        fz_fsync

#include "../src/ngx_http_embed_session_file.c"
#include "../src/ngx_http_embed_session_apikey_file.c"
#include "../src/ngx_http_embed_session_apikey_rewrite.c"

#undef ngx_strlchr
#undef geteuid
#undef fsync


/* the format, from docs/minting.md "API key files" */

#define FZ_REC_MAX     NGX_HTTP_ES_API_RECORD_MAX      /* 8192 */
#define FZ_HASH_LEN    NGX_HTTP_ES_API_HASH_LEN        /* 32 */
#define FZ_ID_MAX      64
#define FZ_SCOPE_MAX   32
#define FZ_ITEM_MAX    128
#define FZ_SERIAL_LEN  32
#define FZ_RANDOM      40
#define FZ_LOOKUP      8
#define FZ_KEY_MAX     256
#define FZ_PREFIX_MAX  (FZ_KEY_MAX - FZ_RANDOM)         /* 216 */
#define FZ_ERR_LEN     NGX_MAX_CONF_ERRSTR
#define FZ_CANARY      16
#define FZ_GROWTH      1024     /* a new line is at most this much longer */

#define FZ_STAND_IN    "(not shown: looks like a raw key)"

enum {
    FZ_F_KEY = 0,
    FZ_F_ID_KEY,
    FZ_F_SCOPE,
    FZ_F_TENANT,
    FZ_F_RESOURCES,
    FZ_F_GRANTS,
    FZ_F_ORIGINS,
    FZ_F_FLAGS,
    FZ_F_RATE,
    FZ_F_STATUS,
    FZ_F_EXPIRES,
    FZ_F_SERIAL,
    FZ_NFIELDS
};

static const char  *fz_fields[FZ_NFIELDS] = {
    "key", "id_key", "scope", "tenant", "resources", "grants", "origins",
    "flags", "rate", "status", "expires", "serial"
};

/* the record string of each field that has one, else -1 */

static const int  fz_field_str[FZ_NFIELDS] = {
    NGX_HTTP_ES_API_STR_LOOKUP, NGX_HTTP_ES_API_STR_ID_LOOKUP,
    NGX_HTTP_ES_API_STR_SCOPE, NGX_HTTP_ES_API_STR_TENANT,
    NGX_HTTP_ES_API_STR_RESOURCES, NGX_HTTP_ES_API_STR_GRANTS,
    NGX_HTTP_ES_API_STR_ORIGINS, NGX_HTTP_ES_API_STR_FLAGS, -1, -1, -1, -1
};

static const size_t  fz_err_lens[4] = { FZ_ERR_LEN, 1, 24, 0 };


/* what the model reads of one line */

typedef struct {
    ngx_int_t                   rc;         /* OK, DECLINED, ERROR */
    ngx_uint_t                  id_read;    /* an error names the entry */
    ngx_uint_t                  field;      /* fields read (the failing) */
    ngx_int_t                   fail;       /* the failing field, or -1 */
    ngx_str_t                   token;      /* the failing field's text */

    ngx_str_t                   str[NGX_HTTP_ES_API_NSTR];
    ngx_str_t                   serial;
    u_char                      hash[FZ_HASH_LEN];
    u_char                      id_hash[FZ_HASH_LEN];
    ngx_uint_t                  has_id_key;
    ngx_uint_t                  has_serial;
    ngx_uint_t                  revoked;
    ngx_uint_t                  rate;
    time_t                      period;
    time_t                      expires;

    size_t                      len;        /* the record's strings */
    u_char                     *pos;        /* in buf */
    u_char                      buf[FZ_REC_MAX];    /* origins, OWNER */
} fz_line_t;


/* a record line of a file, for the checks across lines */

typedef struct {
    ngx_uint_t                  line;
    u_char                     *start;
    u_char                     *end;
    ngx_str_t                   id;
    ngx_str_t                   lookup;
    ngx_str_t                   id_lookup;  /* empty: none */
} fz_rec_t;


/* the model's load of a whole file */

enum {
    FZ_LOAD_OK = 0,
    FZ_LOAD_LINE,           /* a line that is not valid */
    FZ_LOAD_ID,             /* an ID twice */
    FZ_LOAD_KEY,            /* key='s LOOKUP seen before */
    FZ_LOAD_ID_KEY          /* id_key='s LOOKUP seen before */
};

typedef struct {
    ngx_uint_t                  rc;
    ngx_uint_t                  line;       /* the failing line */
    ngx_uint_t                  other;      /* the line it repeats */
    u_char                     *start;      /* of the failing line */
    u_char                     *end;
    fz_rec_t                   *recs;
    ngx_uint_t                  nrecs;
    ngx_uint_t                  nalloc;
} fz_load_t;


/* a line of a file as the harness's own scan finds it */

typedef struct {
    ngx_uint_t                  n;
    u_char                     *start;
    u_char                     *end;
} fz_found_t;


static fz_line_t        fz_m;           /* a line */
static fz_line_t        fz_m2;          /* its new line */
static fz_line_t        fz_m3;          /* the load's */
static uint32_t         fz_crc_table[256];
static uint32_t         fz_rand_state;
static ngx_log_t        fz_capture_log;
static u_char           fz_logged[NGX_MAX_ERROR_STR + 1];
static size_t           fz_logged_len;
static ngx_uint_t       fz_logged_n;
static char             fz_dir[256];
static char             fz_path[300];
static char             fz_tmp_path[400];
static ngx_str_t        fz_file;
static int              fz_ready;
static int              fz_trace;       /* FZ_TRACE=1 in the env */

static u_char           fz_new_lookup[FZ_KEY_MAX];
static u_char           fz_new_id_lookup[FZ_KEY_MAX];


/* the log that the load and the rewrite write to: the last message kept */

static void
fz_capture_writer(ngx_log_t *log, ngx_uint_t level, u_char *buf, size_t len)
{
    fz_assert(len > 0 && len <= NGX_MAX_ERROR_STR);
    fz_assert(buf[len - 1] == LF);

    ngx_memcpy(fz_logged, buf, len);
    fz_logged[len] = '\0';
    fz_logged_len = len;
    fz_logged_n++;
}


static void
fz_capture_clear(void)
{
    fz_logged[0] = '\0';
    fz_logged_len = 0;
    fz_logged_n = 0;
}


static void
fz_cleanup(void)
{
    (void) unlink(fz_path);
    (void) unlink(fz_tmp_path);
    (void) rmdir(fz_dir);
}


static void
fz_setup(void)
{
    uint32_t     c;
    ngx_uint_t   i, k;
    const char  *tmp;
    struct stat  st;

    if (fz_ready) {
        return;
    }

    fz_nginx_setup();

    fz_trace = (getenv("FZ_TRACE") != NULL);

    fz_capture_log.log_level = NGX_LOG_DEBUG_ALL;
    fz_capture_log.file = fz_nginx_log.file;
    fz_capture_log.writer = fz_capture_writer;

    /* the harness's own CRC32 (IEEE 802.3, reflected) */

    for (i = 0; i < 256; i++) {
        c = (uint32_t) i;

        for (k = 0; k < 8; k++) {
            c = (c & 1) ? 0xedb88320 ^ (c >> 1) : c >> 1;
        }

        fz_crc_table[i] = c;
    }

    /* the key file's directory: in memory when possible */

    if (stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode)
        && access("/dev/shm", W_OK) == 0)
    {
        tmp = "/dev/shm";

    } else {
        tmp = getenv("TMPDIR");

        if (tmp == NULL || *tmp == '\0') {
            tmp = "/tmp";
        }
    }

    fz_assert(snprintf(fz_dir, sizeof(fz_dir), "%s/fuzz_keyfile.XXXXXX", tmp)
              < (int) sizeof(fz_dir));
    fz_assert(mkdtemp(fz_dir) != NULL);

    snprintf(fz_path, sizeof(fz_path), "%s/fz.keys", fz_dir);
    snprintf(fz_tmp_path, sizeof(fz_tmp_path), "%s.tmp.%ld", fz_path,
             (long) ngx_pid);

    fz_file.data = (u_char *) fz_path;
    fz_file.len = strlen(fz_path);

    atexit(fz_cleanup);

    fz_ready = 1;
}


static uint32_t
fz_crc32(const u_char *p, size_t len)
{
    uint32_t  crc;

    crc = 0xffffffff;

    while (len--) {
        crc = fz_crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
    }

    return crc ^ 0xffffffff;
}


static u_char
fz_rand(void)
{
    uint32_t  x;

    x = fz_rand_state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    fz_rand_state = x;

    return (u_char) (x >> 24);
}


static u_char *
fz_dup(const u_char *p, size_t len)
{
    u_char  *q;

    q = malloc(len ? len : 1);
    fz_assert(q != NULL);

    if (len) {
        memcpy(q, p, len);
    }

    return q;
}


static int
fz_str_eq(ngx_str_t *a, ngx_str_t *b)
{
    return a->len == b->len
           && (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}


/* character classes ******************************************************/

static int
fz_blank(u_char c)
{
    return c == ' ' || c == '\t';
}


static int
fz_alnum(u_char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
           || (c >= '0' && c <= '9');
}


static int
fz_digit(u_char c)
{
    return c >= '0' && c <= '9';
}


static int
fz_hexdigit(u_char c)
{
    return fz_digit(c) || (c >= 'a' && c <= 'f');
}


/* [A-Za-z0-9_.-]{1,64} */

static int
fz_is_id(u_char *p, size_t len)
{
    size_t  i;

    if (len == 0 || len > FZ_ID_MAX) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (!fz_alnum(p[i]) && p[i] != '_' && p[i] != '.' && p[i] != '-') {
            return 0;
        }
    }

    return 1;
}


/* [A-Za-z0-9_.:-]{1,max} */

static int
fz_is_item(u_char *p, size_t len, size_t max)
{
    size_t  i;

    if (len == 0 || len > max) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (!fz_alnum(p[i]) && p[i] != '_' && p[i] != '.' && p[i] != ':'
            && p[i] != '-')
        {
            return 0;
        }
    }

    return 1;
}


/* a raw key: ([A-Za-z0-9_]*_)?[A-Za-z0-9]{40}, at most 256 characters */

static int
fz_is_raw(u_char *p, size_t len)
{
    size_t  i, tail;

    if (len < FZ_RANDOM || len > FZ_KEY_MAX) {
        return 0;
    }

    tail = 0;

    for (i = 0; i < len; i++) {
        if (p[i] == '_') {
            tail = 0;

        } else if (fz_alnum(p[i])) {
            tail++;

        } else {
            return 0;
        }
    }

    return tail == FZ_RANDOM;
}


/* a key's prefix: ([A-Za-z0-9_]*_)?, at most 216 characters */

static int
fz_is_prefix(u_char *p, size_t len)
{
    size_t  i;

    if (len > FZ_PREFIX_MAX || (len && p[len - 1] != '_')) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (!fz_alnum(p[i]) && p[i] != '_') {
            return 0;
        }
    }

    return 1;
}


/* the model of one line **************************************************/

/* scheme://host[:port] in normal form into dst (at most len bytes) */

static int
fz_model_origin(u_char *dst, size_t *n, u_char *src, size_t len)
{
    u_char      *d, *p, *last, c;
    size_t       i, hlen, plen;
    ngx_uint_t   port, def;

    d = dst;
    last = src + len;

    if (len > 7 && ngx_strncasecmp(src, (u_char *) "http://", 7) == 0) {
        d = ngx_cpymem(d, "http://", 7);
        p = src + 7;
        def = 80;

    } else if (len > 8 && ngx_strncasecmp(src, (u_char *) "https://", 8) == 0)
    {
        d = ngx_cpymem(d, "https://", 8);
        p = src + 8;
        def = 443;

    } else {
        return 0;
    }

    if (p == last) {
        return 0;
    }

    if (*p == '[') {
        /* [hex, ":" and "."], not empty */

        for (hlen = 1; p + hlen < last && p[hlen] != ']'; hlen++) {
            /* void */
        }

        if (p + hlen == last || hlen == 1) {
            return 0;
        }

        *d++ = '[';

        for (i = 1; i < hlen; i++) {
            c = p[i];

            if (c >= 'A' && c <= 'Z') {
                c += 'a' - 'A';
            }

            if (!fz_hexdigit(c) && c != ':' && c != '.') {
                return 0;
            }

            *d++ = c;
        }

        *d++ = ']';
        p += hlen + 1;

    } else {
        /* labels of [A-Za-z0-9_-] between dots */

        for (hlen = 0; p + hlen < last && p[hlen] != ':'; hlen++) {
            c = p[hlen];

            if (c == '.') {
                if (hlen == 0 || p[hlen - 1] == '.') {
                    return 0;
                }

            } else if (!fz_alnum(c) && c != '_' && c != '-') {
                return 0;
            }

            *d++ = (c >= 'A' && c <= 'Z') ? c + 'a' - 'A' : c;
        }

        if (hlen == 0 || p[hlen - 1] == '.') {
            return 0;
        }

        p += hlen;
    }

    if (p < last) {
        /* ":" and 1 to 65535 without a leading zero */

        if (*p != ':') {
            return 0;
        }

        p++;
        plen = last - p;

        if (plen == 0 || plen > 5 || *p == '0') {
            return 0;
        }

        port = 0;

        for (i = 0; i < plen; i++) {
            if (!fz_digit(p[i])) {
                return 0;
            }

            port = port * 10 + p[i] - '0';
        }

        if (port > 65535) {
            return 0;
        }

        if (port != def) {
            *d++ = ':';
            d = ngx_cpymem(d, p, plen);
        }
    }

    *n = d - dst;

    return 1;
}


/* key=, id_key=: LOOKUP:HEX64 */

static ngx_int_t
fz_model_key(fz_line_t *m, ngx_uint_t f, ngx_str_t *v)
{
    u_char  *colon, *hash;
    size_t   i, prefix;

    colon = memchr(v->data, ':', v->len);

    if (fz_is_raw(v->data, v->len)
        || (colon && fz_is_raw(v->data, colon - v->data)))
    {
        return NGX_ERROR;
    }

    if (colon == NULL) {
        return NGX_ERROR;
    }

    i = colon - v->data;

    if (i < FZ_LOOKUP || v->len - i - 1 != 2 * FZ_HASH_LEN) {
        return NGX_ERROR;
    }

    prefix = i - FZ_LOOKUP;

    if (!fz_is_prefix(v->data, prefix)) {
        return NGX_ERROR;
    }

    for (i = prefix; i < prefix + FZ_LOOKUP; i++) {
        if (!fz_alnum(v->data[i])) {
            return NGX_ERROR;
        }
    }

    hash = (f == FZ_F_KEY) ? m->hash : m->id_hash;

    for (i = 0; i < 2 * FZ_HASH_LEN; i++) {
        if (!fz_hexdigit(colon[1 + i])) {
            return NGX_ERROR;
        }

        hash[i / 2] = (u_char) (hash[i / 2] << 4)
                      | (u_char) (fz_digit(colon[1 + i])
                                  ? colon[1 + i] - '0'
                                  : colon[1 + i] - 'a' + 10);
    }

    m->str[fz_field_str[f]].data = v->data;
    m->str[fz_field_str[f]].len = colon - v->data;

    m->len += colon - v->data;

    if (f == FZ_F_ID_KEY) {
        m->has_id_key = 1;
    }

    return m->len <= FZ_REC_MAX ? NGX_OK : NGX_ERROR;
}


/* resources, grants, flags: items; origins: origins in normal form */

static ngx_int_t
fz_model_list(fz_line_t *m, ngx_uint_t f, ngx_str_t *v)
{
    u_char  *p, *last, *comma, *start;
    size_t   n, len;

    p = v->data;
    last = p + v->len;
    start = m->pos;

    for ( ;; ) {
        comma = memchr(p, ',', last - p);
        len = (comma ? comma : last) - p;

        if (len == 0) {
            return NGX_ERROR;
        }

        /*
         * As the code bounds its writes: an item and a comma must fit
         * where its stored form goes (an origin's may be shorter)
         */

        if (m->len + len + 1 > FZ_REC_MAX) {
            return NGX_ERROR;
        }

        if (f == FZ_F_ORIGINS) {
            if (!fz_model_origin(m->pos, &n, p, len)) {
                return NGX_ERROR;
            }

            m->pos += n;
            m->len += n;

        } else {
            if (!fz_is_item(p, len, FZ_ITEM_MAX)) {
                return NGX_ERROR;
            }

            m->len += len;
        }

        if (comma == NULL) {
            break;
        }

        if (f == FZ_F_ORIGINS) {
            *m->pos++ = ',';
        }

        m->len++;
        p = comma + 1;
    }

    if (f == FZ_F_ORIGINS) {
        m->str[NGX_HTTP_ES_API_STR_ORIGINS].data = start;
        m->str[NGX_HTTP_ES_API_STR_ORIGINS].len = m->pos - start;

    } else {
        m->str[fz_field_str[f]] = *v;
    }

    return NGX_OK;
}


static ngx_int_t
fz_model_field(fz_line_t *m, ngx_uint_t f, ngx_str_t *v)
{
    size_t      i, d;
    ngx_uint_t  n;
    uint64_t    t;

    switch (f) {

    case FZ_F_KEY:
    case FZ_F_ID_KEY:
        return fz_model_key(m, f, v);

    case FZ_F_SCOPE:

        if (v->len > FZ_SCOPE_MAX) {
            return NGX_ERROR;
        }

        for (i = 0; i < v->len; i++) {
            if (!((v->data[i] >= 'a' && v->data[i] <= 'z')
                  || fz_digit(v->data[i])
                  || v->data[i] == '_' || v->data[i] == '-'))
            {
                return NGX_ERROR;
            }
        }

        break;

    case FZ_F_TENANT:

        if (!fz_is_item(v->data, v->len, FZ_ITEM_MAX)) {
            return NGX_ERROR;
        }

        break;

    case FZ_F_RESOURCES:
    case FZ_F_GRANTS:
    case FZ_F_ORIGINS:
    case FZ_F_FLAGS:
        return fz_model_list(m, f, v);

    case FZ_F_RATE:

        /* [1-9][0-9]{0,8}/[smh] */

        for (d = 0; d < v->len && fz_digit(v->data[d]); d++) {
            /* void */
        }

        if (d == 0 || d > 9 || v->data[0] == '0' || v->len != d + 2
            || v->data[d] != '/')
        {
            return NGX_ERROR;
        }

        n = 0;

        for (i = 0; i < d; i++) {
            n = n * 10 + v->data[i] - '0';
        }

        switch (v->data[d + 1]) {
        case 's':
            m->period = 1;
            break;
        case 'm':
            m->period = 60;
            break;
        case 'h':
            m->period = 3600;
            break;
        default:
            return NGX_ERROR;
        }

        m->rate = n;

        return NGX_OK;

    case FZ_F_STATUS:

        if (v->len == 6 && memcmp(v->data, "active", 6) == 0) {
            m->revoked = 0;

        } else if (v->len == 7 && memcmp(v->data, "revoked", 7) == 0) {
            m->revoked = 1;

        } else {
            return NGX_ERROR;
        }

        return NGX_OK;

    case FZ_F_EXPIRES:

        /* Unix seconds, 1 to 12 digits */

        if (v->len > 12) {
            return NGX_ERROR;
        }

        t = 0;

        for (i = 0; i < v->len; i++) {
            if (!fz_digit(v->data[i])) {
                return NGX_ERROR;
            }

            t = t * 10 + v->data[i] - '0';
        }

        m->expires = (time_t) t;

        return NGX_OK;

    default: /* FZ_F_SERIAL */

        if (v->len != FZ_SERIAL_LEN) {
            return NGX_ERROR;
        }

        for (i = 0; i < v->len; i++) {
            if (!fz_hexdigit(v->data[i])) {
                return NGX_ERROR;
            }
        }

        m->has_serial = 1;
        m->serial = *v;

        return NGX_OK;
    }

    /* scope, tenant: the value, stored */

    m->str[fz_field_str[f]] = *v;
    m->len += v->len;

    return m->len <= FZ_REC_MAX ? NGX_OK : NGX_ERROR;
}


static void
fz_model_line(fz_line_t *m, u_char *p, u_char *last)
{
    u_char      *q, *t, *eq;
    size_t       n;
    ngx_str_t    name, value, id;
    ngx_uint_t   f, seen;

    ngx_memzero(m, offsetof(fz_line_t, buf));

    m->rc = NGX_ERROR;
    m->fail = -1;
    m->expires = -1;
    m->pos = m->buf;

    /* printable ASCII and tabs, no CR: a comment line too */

    for (q = p; q < last; q++) {
        if (*q == '\r' || (*q < 0x20 && *q != '\t') || *q > 0x7e) {
            return;
        }
    }

    while (p < last && fz_blank(*p)) {
        p++;
    }

    if (p == last || *p == '#') {
        m->rc = NGX_DECLINED;
        return;
    }

    for (t = p; p < last && !fz_blank(*p); p++) {
        /* void */
    }

    if (!fz_is_id(t, p - t)) {
        return;
    }

    id.data = t;
    id.len = p - t;

    m->id_read = 1;
    m->str[NGX_HTTP_ES_API_STR_ID] = id;
    m->len = id.len;

    seen = 0;

    for ( ;; ) {
        while (p < last && fz_blank(*p)) {
            p++;
        }

        if (p == last) {
            break;
        }

        for (t = p; p < last && !fz_blank(*p); p++) {
            /* void */
        }

        m->field++;
        m->token.data = t;
        m->token.len = p - t;

        eq = memchr(t, '=', p - t);

        if (eq == NULL) {
            return;
        }

        name.data = t;
        name.len = eq - t;
        value.data = eq + 1;
        value.len = p - eq - 1;

        for (f = 0; f < FZ_NFIELDS; f++) {
            if (name.len == strlen(fz_fields[f])
                && memcmp(name.data, fz_fields[f], name.len) == 0)
            {
                break;
            }
        }

        if (f == FZ_NFIELDS || (seen & (1 << f)) || value.len == 0) {
            return;
        }

        seen |= 1 << f;
        m->fail = f;

        if (fz_model_field(m, f, &value) != NGX_OK) {
            return;
        }

        m->fail = -1;
    }

    ngx_str_null(&m->token);

    if (!(seen & (1 << FZ_F_KEY))) {
        return;
    }

    /* OWNER: "ID:SERIAL", or "ID" */

    n = id.len + (m->has_serial ? 1 + FZ_SERIAL_LEN : 0);

    if (m->len + n > FZ_REC_MAX) {
        return;
    }

    m->str[NGX_HTTP_ES_API_STR_OWNER].data = m->pos;
    m->str[NGX_HTTP_ES_API_STR_OWNER].len = n;

    m->pos = ngx_cpymem(m->pos, id.data, id.len);

    if (m->has_serial) {
        *m->pos++ = ':';
        m->pos = ngx_cpymem(m->pos, m->serial.data, m->serial.len);
    }

    m->len += n;
    m->rc = NGX_OK;
}


/* the record parse_line() made, against the model */

static void
fz_check_rec(ngx_http_es_api_rec_t *rec, fz_line_t *m, ngx_uint_t loaded)
{
    size_t                  sum;
    ngx_uint_t              i, j;
    ngx_http_es_api_span_t *a, *b;
    ngx_http_es_api_rec_t   e;

    fz_assert(rec->len <= FZ_REC_MAX);
    fz_assert(rec->len == m->len);

    /* the strings: inside the data, packed, apart, as the model's */

    sum = 0;

    for (i = 0; i < NGX_HTTP_ES_API_NSTR; i++) {
        a = &rec->str[i];

        fz_assert((size_t) a->off + a->len <= rec->len);
        fz_assert(a->len == m->str[i].len);
        fz_assert(a->len == 0
                  || memcmp(rec->data + a->off, m->str[i].data, a->len) == 0);

        sum += a->len;

        for (j = 0; j < i; j++) {
            b = &rec->str[j];

            fz_assert(a->len == 0 || b->len == 0
                      || a->off + a->len <= b->off
                      || b->off + b->len <= a->off);
        }
    }

    fz_assert(sum == rec->len);

    /* the header, byte for byte: what the line says, zeros elsewhere */

    ngx_memzero(&e, offsetof(ngx_http_es_api_rec_t, data));

    e.expires = m->expires;
    e.rate = m->rate;
    e.period = m->period;
    e.revoked = m->revoked;
    e.has_id_key = m->has_id_key;
    e.has_serial = m->has_serial;
    ngx_memcpy(e.hash, m->hash, FZ_HASH_LEN);

    if (m->has_id_key) {
        ngx_memcpy(e.id_hash, m->id_hash, FZ_HASH_LEN);
    }

    ngx_memcpy(e.str, rec->str, sizeof(e.str));
    e.len = rec->len;

    /* one the load keeps: its size and tree keys, the CRC32 of LOOKUPs */

    if (loaded) {
        e.size = offsetof(ngx_http_es_api_rec_t, data) + rec->len;
        e.node.key = fz_crc32(m->str[NGX_HTTP_ES_API_STR_LOOKUP].data,
                              m->str[NGX_HTTP_ES_API_STR_LOOKUP].len);
        e.id_node.key = fz_crc32(m->str[NGX_HTTP_ES_API_STR_ID_LOOKUP].data,
                                 m->str[NGX_HTTP_ES_API_STR_ID_LOOKUP].len);
        e.id_node.data = 1;
    }

    fz_assert(memcmp(&e, rec, offsetof(ngx_http_es_api_rec_t, data)) == 0);
}


/* kl->entry: the ID once read, or the stand-in for one like a raw key */

static void
fz_check_entry(ngx_http_es_keyfile_line_t *kl, fz_line_t *m)
{
    ngx_str_t  *id;

    if (!m->id_read) {
        fz_assert(kl->entry.len == 0);
        return;
    }

    id = &m->str[NGX_HTTP_ES_API_STR_ID];

    if (fz_is_raw(id->data, id->len)) {
        fz_assert(kl->entry.len == sizeof(FZ_STAND_IN) - 1
                  && memcmp(kl->entry.data, FZ_STAND_IN, kl->entry.len)
                     == 0);

    } else {
        fz_assert(fz_str_eq(&kl->entry, id));
    }
}


/* an error buffer of err_len bytes, and a canary after it */

static u_char *
fz_err_new(size_t err_len)
{
    u_char  *err;

    err = malloc(err_len + FZ_CANARY);
    fz_assert(err != NULL);

    memset(err, 0xa5, err_len + FZ_CANARY);

    return err;
}


static int
fz_untouched(u_char *p, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        if (p[i] != 0xa5) {
            return 0;
        }
    }

    return 1;
}


/* the reason of an error: inside err_len, NUL-terminated, not empty */

static void
fz_check_err(u_char *err, size_t err_len, ngx_int_t rc)
{
    fz_assert(fz_untouched(err + err_len, FZ_CANARY));

    if (rc != NGX_ERROR) {
        fz_assert(fz_untouched(err, err_len));
        return;
    }

    if (err_len == 0) {
        return;
    }

    fz_assert(memchr(err, '\0', err_len) != NULL);
    fz_assert(err_len == 1 || err[0] != '\0');
}


static ngx_http_es_api_rec_t *
fz_rec_new(void)
{
    ngx_http_es_api_rec_t  *rec;

    rec = malloc(NGX_HTTP_ES_KEYFILE_REC_SIZE);
    fz_assert(rec != NULL);

    memset(rec, 0xa5, NGX_HTTP_ES_KEYFILE_REC_SIZE);

    return rec;
}


/* the change ***********************************************************/

/*
 * The prefix of a line's credential NAME= (what comes before its last 8
 * characters ahead of ":"), if it is one the module could have made a
 * key for; else none
 */

static void
fz_line_prefix(u_char *p, u_char *last, const char *name, ngx_str_t *prefix)
{
    u_char  *t, *colon;
    size_t   n, len;

    ngx_str_null(prefix);

    n = strlen(name);

    while (p < last) {
        while (p < last && fz_blank(*p)) {
            p++;
        }

        for (t = p; p < last && !fz_blank(*p); p++) {
            /* void */
        }

        if ((size_t) (p - t) <= n + 1 || memcmp(t, name, n) != 0
            || t[n] != '=')
        {
            continue;
        }

        t += n + 1;
        colon = memchr(t, ':', p - t);
        len = (colon ? colon : p) - t;

        if (len >= FZ_LOOKUP && fz_is_prefix(t, len - FZ_LOOKUP)) {
            prefix->data = t;
            prefix->len = len - FZ_LOOKUP;
        }

        return;
    }
}


/* a new credential's LOOKUP and hash, of the prefix chosen by how */

static void
fz_new_credential(u_char *buf, ngx_str_t *lookup, u_char *hash,
    ngx_uint_t how, ngx_uint_t made, u_char *line, u_char *eol)
{
    size_t     i;
    ngx_str_t  prefix;

    static const char  alnum[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

    switch (how) {

    case 1:
        lookup->len = 0;
        break;

    case 2:
        lookup->len = made % (FZ_PREFIX_MAX + 1);

        for (i = 0; i < lookup->len; i++) {
            buf[i] = (fz_rand() % 8 == 0) ? '_' : alnum[fz_rand() % 62];
        }

        if (lookup->len) {
            buf[lookup->len - 1] = '_';
        }

        break;

    default:
        fz_line_prefix(line, eol, how ? "id_key" : "key", &prefix);
        lookup->len = prefix.len;

        if (prefix.len) {
            ngx_memcpy(buf, prefix.data, prefix.len);
        }

        break;
    }

    for (i = 0; i < FZ_LOOKUP; i++) {
        buf[lookup->len + i] = alnum[fz_rand() % 62];
    }

    lookup->data = buf;
    lookup->len += FZ_LOOKUP;

    for (i = 0; i < FZ_HASH_LEN; i++) {
        hash[i] = fz_rand();
    }
}


/* the change the options make for the record of id on this line */

static void
fz_make_change(ngx_http_es_api_change_t *ch, ngx_uint_t opt, u_char made,
    u_char seed, ngx_str_t *id, u_char *line, u_char *eol)
{
    ngx_memzero(ch, sizeof(ngx_http_es_api_change_t));

    ch->id = *id;
    ch->revoke = opt & 0x01;

    if (ch->revoke) {
        return;
    }

    fz_rand_state = 0x9e3779b9u * ((uint32_t) seed + 1);

    fz_new_credential(fz_new_lookup, &ch->new_lookup, ch->new_hash,
                      (opt >> 2) & 3, made, line, eol);

    if (opt & 0x02) {
        fz_new_credential(fz_new_id_lookup, &ch->new_id_lookup,
                          ch->new_id_hash, (opt >> 4) & 3, made / 3 + 7,
                          line, eol);
    }
}


/* the model of the new line: see edit_line() in apikey_int.h */

static size_t
fz_model_cred(u_char *o, const char *name, ngx_str_t *lookup, u_char *hash)
{
    u_char  *p;

    p = ngx_cpymem(o, name, strlen(name));
    p = ngx_cpymem(p, lookup->data, lookup->len);
    *p++ = ':';
    p = ngx_hex_dump(p, hash, FZ_HASH_LEN);

    return p - o;
}


static size_t
fz_model_edit(u_char *o, u_char *p, u_char *last,
    ngx_http_es_api_change_t *ch)
{
    u_char      *start, *t, *eq;
    ngx_str_t    name;
    ngx_uint_t   key, id_key, status;

    start = o;
    key = 0;
    id_key = 0;
    status = 0;

    for ( ;; ) {
        for (t = p; p < last && fz_blank(*p); p++) {
            /* void */
        }

        if (p == last) {
            /* the new fields after the last one, then the blanks */
            break;
        }

        o = ngx_cpymem(o, t, p - t);

        for (t = p; p < last && !fz_blank(*p); p++) {
            /* void */
        }

        eq = memchr(t, '=', p - t);
        name.data = t;
        name.len = eq ? (size_t) (eq - t) : 0;

        if (!ch->revoke && name.len == 3 && memcmp(t, "key", 3) == 0) {
            o += fz_model_cred(o, "key=", &ch->new_lookup, ch->new_hash);
            key = 1;

        } else if (!ch->revoke && ch->new_id_lookup.len && name.len == 6
                   && memcmp(t, "id_key", 6) == 0)
        {
            o += fz_model_cred(o, "id_key=", &ch->new_id_lookup,
                               ch->new_id_hash);
            id_key = 1;

        } else if (ch->revoke && name.len == 6
                   && memcmp(t, "status", 6) == 0)
        {
            o = ngx_cpymem(o, "status=revoked", 14);
            status = 1;

        } else {
            o = ngx_cpymem(o, t, p - t);
        }
    }

    if (ch->revoke) {
        if (!status) {
            o = ngx_cpymem(o, " status=revoked", 15);
        }

    } else {
        if (!key) {
            o += fz_model_cred(o, " key=", &ch->new_lookup, ch->new_hash);
        }

        if (ch->new_id_lookup.len && !id_key) {
            o += fz_model_cred(o, " id_key=", &ch->new_id_lookup,
                               ch->new_id_hash);
        }
    }

    o = ngx_cpymem(o, t, last - t);

    return o - start;
}


/* the new line's record holds the change */

static int
fz_model_holds(fz_line_t *m, ngx_http_es_api_change_t *ch)
{
    if (m->rc != NGX_OK) {
        return 0;
    }

    if (ch->revoke) {
        return m->revoked;
    }

    if (!fz_str_eq(&m->str[NGX_HTTP_ES_API_STR_LOOKUP], &ch->new_lookup)
        || memcmp(m->hash, ch->new_hash, FZ_HASH_LEN) != 0)
    {
        return 0;
    }

    if (ch->new_id_lookup.len == 0) {
        return 1;
    }

    return m->has_id_key
           && fz_str_eq(&m->str[NGX_HTTP_ES_API_STR_ID_LOOKUP],
                        &ch->new_id_lookup)
           && memcmp(m->id_hash, ch->new_id_hash, FZ_HASH_LEN) == 0;
}


/*
 * What edit_line() must do with the line (its model m) and ch: NGX_OK
 * with the new line in e (*elen), NGX_ERROR when the new line would not
 * load (*elen its length, which the measure gives), NGX_DECLINED when the
 * line is not a record of ch->id (never edited)
 */

static ngx_int_t
fz_model_change(fz_line_t *m, u_char *p, u_char *last,
    ngx_http_es_api_change_t *ch, u_char *e, size_t *elen)
{
    if (m->rc != NGX_OK
        || !fz_str_eq(&m->str[NGX_HTTP_ES_API_STR_ID], &ch->id))
    {
        return NGX_DECLINED;
    }

    *elen = fz_model_edit(e, p, last, ch);

    fz_assert(*elen <= (size_t) (last - p) + FZ_GROWTH);

    fz_model_line(&fz_m2, e, e + *elen);

    return fz_model_holds(&fz_m2, ch) ? NGX_OK : NGX_ERROR;
}


/* one line ***************************************************************/

static ngx_int_t
fz_parse_line(ngx_http_es_keyfile_line_t *kl, u_char *p, u_char *last)
{
    ngx_int_t  rc;

    fz_scanned = 0;

    rc = ngx_http_es_keyfile_parse_line(kl, p, last);

    fz_assert(rc == NGX_OK || rc == NGX_DECLINED || rc == NGX_ERROR);
    fz_assert(fz_scanned <= 2 * (size_t) (last - p) + 2);

    return rc;
}


/*
 * A raw key's look-alike: each character moved within its class (a-f,
 * g-z, A-Z, 1-9; "0" and "_" stay), so that every check of the line
 * takes the same way
 */

static void
fz_rotate(u_char *p, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        if (p[i] >= 'a' && p[i] <= 'f') {
            p[i] = 'a' + (p[i] - 'a' + 1) % 6;

        } else if (p[i] >= 'g' && p[i] <= 'z') {
            p[i] = 'g' + (p[i] - 'g' + 1) % 20;

        } else if (p[i] >= 'A' && p[i] <= 'Z') {
            p[i] = 'A' + (p[i] - 'A' + 1) % 26;

        } else if (p[i] >= '1' && p[i] <= '9') {
            p[i] = '1' + (p[i] - '1' + 1) % 9;
        }
    }
}


/*
 * In the copy q of the line p, each piece of the failing field that looks
 * like a raw key, at the grain the module promises not to quote one (the
 * field without "=", its value, a list's item, a key's LOOKUP part),
 * replaced by a look-alike; 0 when there is none
 */

static ngx_uint_t
fz_hide(fz_line_t *m, u_char *p, u_char *q)
{
    u_char      *t, *last, *eq, *comma, *colon;
    ngx_uint_t   n;

    if (m->token.len == 0) {
        return 0;
    }

    t = q + (m->token.data - p);
    last = t + m->token.len;
    n = 0;

    eq = memchr(t, '=', last - t);

    if (eq == NULL) {
        if (fz_is_raw(t, last - t)) {
            fz_rotate(t, last - t);
            n++;
        }

        return n;
    }

    t = eq + 1;

    if (fz_is_raw(t, last - t)) {
        fz_rotate(t, last - t);
        return 1;
    }

    if (m->fail == FZ_F_KEY || m->fail == FZ_F_ID_KEY) {
        colon = memchr(t, ':', last - t);

        if (colon && fz_is_raw(t, colon - t)) {
            fz_rotate(t, colon - t);
            n++;
        }

        return n;
    }

    if (m->fail != FZ_F_RESOURCES && m->fail != FZ_F_GRANTS
        && m->fail != FZ_F_ORIGINS && m->fail != FZ_F_FLAGS)
    {
        return 0;
    }

    for ( ;; ) {
        comma = memchr(t, ',', last - t);

        if (comma == NULL) {
            comma = last;
        }

        if (fz_is_raw(t, comma - t)) {
            fz_rotate(t, comma - t);
            n++;
        }

        if (comma == last) {
            return n;
        }

        t = comma + 1;
    }
}


/*
 * The reason err of a line the model failed quotes no raw key: the line
 * with them replaced by look-alikes fails with the same reason
 */

static void
fz_check_hidden(fz_line_t *m, u_char *p, u_char *last, u_char *err,
    size_t err_len)
{
    u_char                      *q, *err2;
    ngx_int_t                    rc;
    ngx_http_es_keyfile_line_t   kl;

    q = fz_dup(p, last - p);

    if (fz_hide(m, p, q) == 0) {
        free(q);
        return;
    }

    err2 = fz_err_new(err_len);

    ngx_memzero(&kl, sizeof(ngx_http_es_keyfile_line_t));
    kl.rec = fz_rec_new();
    kl.err = err2;
    kl.err_len = err_len;

    rc = fz_parse_line(&kl, q, q + (last - p));

    fz_assert(rc == NGX_ERROR);

    if (strcmp((char *) err, (char *) err2) != 0) {
        fprintf(stderr, "fuzz_keyfile: a raw key quoted: \"%s\", with a "
                "look-alike: \"%s\"\n", err, err2);
        abort();
    }

    free(kl.rec);
    free(err2);
    free(q);
}


/* edit_line(), its work bounded */

static ngx_int_t
fz_edit(ngx_http_es_keyfile_line_t *kl, u_char *p, u_char *last,
    ngx_http_es_api_change_t *ch, u_char *out, size_t *len)
{
    ngx_int_t  rc;

    fz_scanned = 0;

    rc = ngx_http_es_keyfile_edit_line(kl, p, last, ch, out, len);

    fz_assert(rc == NGX_OK || rc == NGX_DECLINED || rc == NGX_ERROR);
    fz_assert(fz_scanned <= 4 * (size_t) (last - p) + 2 * FZ_GROWTH);

    return rc;
}


/*
 * edit_line() on the line, for ch: every buffer, against the model; with
 * full, all of them, else the measure and one buffer
 */

static void
fz_check_edit(u_char *p, u_char *last, ngx_http_es_api_change_t *ch,
    size_t err_len, ngx_uint_t full)
{
    u_char                      *e, *out, *err;
    size_t                       elen, len;
    ngx_int_t                    rc, want;
    ngx_http_es_keyfile_line_t   kl;

    fz_model_line(&fz_m, p, last);

    e = malloc((last - p) + FZ_GROWTH);
    fz_assert(e != NULL);

    elen = 0;
    want = fz_model_change(&fz_m, p, last, ch, e, &elen);

    err = fz_err_new(err_len);

    ngx_memzero(&kl, sizeof(ngx_http_es_keyfile_line_t));
    kl.rec = fz_rec_new();
    kl.err = err;
    kl.err_len = err_len;

    /* the measure */

    len = 0;
    rc = fz_edit(&kl, p, last, ch, NULL, &len);

    fz_check_err(err, err_len, rc);

    if (fz_trace) {
        fprintf(stderr, "fuzz_keyfile:   edit %s \"%.*s\": %d, %zu "
                "(model %d, %zu)\n", ch->revoke ? "revoke" : "regenerate",
                (int) ch->id.len, ch->id.data, (int) rc, len, (int) want,
                elen);
    }

    if (want == NGX_DECLINED) {

        /* never edited, whatever the buffer */

        fz_assert(rc == NGX_ERROR);

        out = fz_err_new(64);
        len = 64;
        memset(err, 0xa5, err_len + FZ_CANARY);

        rc = fz_edit(&kl, p, last, ch, out, &len);

        fz_assert(rc == NGX_ERROR);
        fz_assert(fz_untouched(out, 64 + FZ_CANARY));
        fz_check_err(err, err_len, rc);

        free(out);
        goto done;
    }

    fz_assert(rc == NGX_DECLINED);
    fz_assert(len == elen);

    /* a buffer of that length, and no more: ASan sees a write past it */

    out = malloc(elen);
    fz_assert(out != NULL);
    memset(out, 0xa5, elen);
    memset(err, 0xa5, err_len + FZ_CANARY);

    len = elen;
    rc = fz_edit(&kl, p, last, ch, out, &len);

    fz_check_err(err, err_len, rc);
    fz_assert(rc == want);

    if (rc == NGX_OK) {
        fz_assert(len == elen);
        fz_assert(memcmp(out, e, elen) == 0);

        /* kl->rec is the new line's record */

        fz_model_line(&fz_m2, e, e + elen);
        fz_check_rec(kl.rec, &fz_m2, 0);
    }

    free(out);

    if (!full) {
        goto done;
    }

    /* a larger one: the same bytes, nothing past them */

    out = fz_err_new(elen + FZ_CANARY);
    memset(err, 0xa5, err_len + FZ_CANARY);

    len = elen + FZ_CANARY;
    rc = fz_edit(&kl, p, last, ch, out, &len);

    fz_check_err(err, err_len, rc);
    fz_assert(rc == want);
    fz_assert(fz_untouched(out + elen, 2 * FZ_CANARY));

    if (rc == NGX_OK) {
        fz_assert(len == elen);
        fz_assert(memcmp(out, e, elen) == 0);
    }

    free(out);

    /* a byte short: the length needed, nothing written */

    out = malloc(elen - 1 ? elen - 1 : 1);
    fz_assert(out != NULL);
    memset(out, 0xa5, elen - 1);
    memset(err, 0xa5, err_len + FZ_CANARY);

    len = elen - 1;
    rc = fz_edit(&kl, p, last, ch, out, &len);

    fz_check_err(err, err_len, rc);
    fz_assert(rc == NGX_DECLINED);
    fz_assert(len == elen);
    fz_assert(fz_untouched(out, elen - 1));

    free(out);

done:

    free(kl.rec);
    free(err);
    free(e);
}


/* parse_line() on one line, then edit_line() */

static void
fz_check_line(u_char *p, u_char *last, ngx_uint_t opt, u_char made,
    u_char seed, ngx_str_t *chosen)
{
    u_char                      *err, *q;
    size_t                       err_len;
    ngx_int_t                    rc;
    ngx_str_t                    id;
    ngx_http_es_keyfile_line_t   kl;
    ngx_http_es_api_change_t     ch;

    err_len = fz_err_lens[opt >> 6];
    err = fz_err_new(err_len);

    ngx_memzero(&kl, sizeof(ngx_http_es_keyfile_line_t));
    kl.rec = fz_rec_new();
    kl.err = err;
    kl.err_len = err_len;
    kl.field = 12345;

    fz_model_line(&fz_m, p, last);

    rc = fz_parse_line(&kl, p, last);

    if (fz_trace) {
        fprintf(stderr, "fuzz_keyfile: line of %zu bytes: %d (model %d, "
                "field %u), %s\n", (size_t) (last - p), (int) rc,
                (int) fz_m.rc, (unsigned) fz_m.field,
                rc == NGX_ERROR && err_len ? (char *) err : "");
    }

    fz_assert(rc == fz_m.rc);

    fz_check_err(err, err_len, rc);

    fz_check_entry(&kl, &fz_m);

    if (fz_m.id_read) {
        fz_assert(kl.field == fz_m.field);
    }

    if (rc == NGX_ERROR && err_len) {
        fz_check_hidden(&fz_m, p, last, err, err_len);
    }

    if (rc == NGX_OK) {
        fz_check_rec(kl.rec, &fz_m, 0);
    }

    free(kl.rec);
    free(err);

    /* the line's own ID: the edit it makes, fully */

    for (q = p; q < last && fz_blank(*q); q++) {
        /* void */
    }

    for (id.data = q; q < last && !fz_blank(*q); q++) {
        /* void */
    }

    id.len = q - id.data;

    if (!fz_is_id(id.data, id.len)) {
        id = *chosen;
    }

    fz_make_change(&ch, opt, made, seed, &id, p, last);
    fz_check_edit(p, last, &ch, err_len, 1);

    /* the ID chosen, when it is another: never edited */

    if (!fz_str_eq(&id, chosen)) {
        fz_make_change(&ch, opt, made, seed, chosen, p, last);
        fz_check_edit(p, last, &ch, err_len, 0);
    }
}


/* the load ***************************************************************/

static void
fz_load_add(fz_load_t *ld, ngx_uint_t n, u_char *p, u_char *last,
    fz_line_t *m)
{
    fz_rec_t  *r;

    if (ld->nrecs == ld->nalloc) {
        ld->nalloc = ld->nalloc ? 2 * ld->nalloc : 16;
        ld->recs = realloc(ld->recs, ld->nalloc * sizeof(fz_rec_t));
        fz_assert(ld->recs != NULL);
    }

    r = &ld->recs[ld->nrecs++];

    r->line = n;
    r->start = p;
    r->end = last;
    r->id = m->str[NGX_HTTP_ES_API_STR_ID];
    r->lookup = m->str[NGX_HTTP_ES_API_STR_LOOKUP];
    r->id_lookup = m->str[NGX_HTTP_ES_API_STR_ID_LOOKUP];
}


/* a LOOKUP of the records so far: the line it is on, else 0 */

static ngx_uint_t
fz_load_lookup(fz_load_t *ld, ngx_str_t *s)
{
    ngx_uint_t  i;

    for (i = 0; i < ld->nrecs; i++) {
        if (fz_str_eq(&ld->recs[i].lookup, s)
            || (ld->recs[i].id_lookup.len
                && fz_str_eq(&ld->recs[i].id_lookup, s)))
        {
            return ld->recs[i].line;
        }
    }

    return 0;
}


/* the model's load: every line, then IDs and LOOKUPs once each */

static void
fz_model_load(fz_load_t *ld, u_char *p, u_char *last)
{
    u_char      *eol;
    ngx_str_t   *s;
    ngx_uint_t   n, i, at;
    fz_line_t   *m;

    ngx_memzero(ld, sizeof(fz_load_t));

    m = &fz_m3;

    for (n = 1; p < last; p = eol + 1, n++) {
        eol = memchr(p, '\n', last - p);

        if (eol == NULL) {
            eol = last;
        }

        fz_model_line(m, p, eol);

        ld->line = n;
        ld->start = p;
        ld->end = eol;

        if (m->rc == NGX_ERROR) {
            ld->rc = FZ_LOAD_LINE;
            return;
        }

        if (m->rc == NGX_DECLINED) {
            continue;
        }

        for (i = 0; i < ld->nrecs; i++) {
            if (fz_str_eq(&ld->recs[i].id, &m->str[NGX_HTTP_ES_API_STR_ID])) {
                ld->rc = FZ_LOAD_ID;
                ld->other = ld->recs[i].line;
                return;
            }
        }

        s = &m->str[NGX_HTTP_ES_API_STR_LOOKUP];
        at = fz_load_lookup(ld, s);

        if (at) {
            ld->rc = FZ_LOAD_KEY;
            ld->other = at;
            return;
        }

        if (m->has_id_key) {
            s = &m->str[NGX_HTTP_ES_API_STR_ID_LOOKUP];
            at = fz_load_lookup(ld, s);

            if (at == 0
                && fz_str_eq(s, &m->str[NGX_HTTP_ES_API_STR_LOOKUP]))
            {
                at = n;
            }

            if (at) {
                ld->rc = FZ_LOAD_ID_KEY;
                ld->other = at;
                return;
            }
        }

        fz_load_add(ld, n, p, eol, m);
    }

    ld->rc = FZ_LOAD_OK;
}


/* the load of a file by the module, against the model's */

static void
fz_check_load(u_char *buf, size_t len, fz_load_t *ld, const char *what)
{
    u_char                       *p, want[128];
    char                         *rv;
    ngx_uint_t                    i;
    ngx_conf_t                    cf;
    ngx_pool_t                   *pool;
    fz_line_t                    *m;
    ngx_http_es_api_zone_t        zone;
    ngx_http_es_api_rec_t        *rec, **recs;
    ngx_http_es_keyfile_parse_t   ps;

    fz_model_load(ld, buf, buf + len);

    pool = ngx_create_pool(NGX_MIN_POOL_SIZE, &fz_nginx_log);
    fz_assert(pool != NULL);

    ngx_memzero(&cf, sizeof(ngx_conf_t));
    cf.pool = pool;
    cf.temp_pool = pool;
    cf.log = &fz_capture_log;
    cf.cycle = &fz_nginx_cycle;

    ngx_memzero(&zone, sizeof(ngx_http_es_api_zone_t));
    zone.file = fz_file;

    fz_assert(ngx_array_init(&zone.records, pool, 4,
                             sizeof(ngx_http_es_api_rec_t *))
              == NGX_OK);

    ngx_memzero(&ps, sizeof(ngx_http_es_keyfile_parse_t));
    ps.cf = &cf;
    ps.zone = &zone;

    fz_capture_clear();
    fz_scanned = 0;

    rv = ngx_http_es_keyfile_parse(&ps, buf, buf + len);

    if (fz_trace) {
        fprintf(stderr, "fuzz_keyfile: load %s: %s (model %u, line %u, "
                "other %u, records %u) %s", what,
                rv == NGX_CONF_OK ? "ok" : "refused", (unsigned) ld->rc,
                (unsigned) ld->line, (unsigned) ld->other,
                (unsigned) ld->nrecs, fz_logged_n ? (char *) fz_logged
                                                  : "\n");
    }

    fz_assert(fz_scanned <= 3 * len);
    fz_assert((rv == NGX_CONF_OK) == (ld->rc == FZ_LOAD_OK));

    if (rv != NGX_CONF_OK) {

        /* one message: the file, the line, the entry, the line repeated */

        fz_assert(fz_logged_n == 1);

        m = &fz_m3;
        fz_model_line(m, ld->start, ld->end);

        p = ngx_snprintf(want, sizeof(want), "\"%V\", line %ui%s", &fz_file,
                         ld->line, m->id_read ? ", entry \"" : ": ");
        fz_assert(ngx_strlcasestrn(fz_logged, fz_logged + fz_logged_len,
                                   want, p - want - 1)
                  != NULL);

        if (ld->rc != FZ_LOAD_LINE) {
            p = ngx_snprintf(want, sizeof(want), "%s%ui)",
                             ld->rc == FZ_LOAD_ID ? "duplicate ID (first on "
                                                    "line "
                             : ld->rc == FZ_LOAD_KEY ? " (also on line "
                                                     : " (also on line ",
                             ld->other);
            fz_assert(ngx_strlcasestrn(fz_logged, fz_logged + fz_logged_len,
                                       want, p - want - 1)
                      != NULL);

            if (ld->rc != FZ_LOAD_ID) {
                p = (u_char *) (ld->rc == FZ_LOAD_KEY ? ": key=: duplicate"
                                                      : ": id_key=: "
                                                        "duplicate");
                fz_assert(ngx_strlcasestrn(fz_logged,
                                           fz_logged + fz_logged_len, p,
                                           ngx_strlen(p) - 1)
                          != NULL);
            }

        }

        goto done;
    }

    fz_assert(fz_logged_n == 0);
    fz_assert(zone.records.nelts == ld->nrecs);

    recs = zone.records.elts;

    for (i = 0; i < ld->nrecs; i++) {
        rec = recs[i];

        fz_model_line(&fz_m3, ld->recs[i].start, ld->recs[i].end);
        fz_assert(fz_m3.rc == NGX_OK);

        fz_check_rec(rec, &fz_m3, 1);
    }

done:

    ngx_destroy_pool(pool);
}


/* the file and its rewrite ***********************************************/

static void
fz_write_file(u_char *buf, size_t len)
{
    int  fd;

    (void) unlink(fz_path);

    fd = open(fz_path, O_WRONLY|O_CREAT|O_EXCL, 0600);
    fz_assert(fd != -1);
    fz_assert(write(fd, buf, len) == (ssize_t) len);
    fz_assert(close(fd) == 0);
}


static u_char *
fz_read_file(size_t *len, mode_t *mode)
{
    int          fd;
    u_char      *buf;
    struct stat  st;

    fd = open(fz_path, O_RDONLY);
    fz_assert(fd != -1);
    fz_assert(fstat(fd, &st) == 0);

    buf = malloc(st.st_size ? st.st_size : 1);
    fz_assert(buf != NULL);

    fz_assert(read(fd, buf, st.st_size) == st.st_size);
    fz_assert(close(fd) == 0);

    *len = st.st_size;
    *mode = st.st_mode;

    return buf;
}


/* the lines whose first word is id, as the harness reads the file */

static ngx_uint_t
fz_scan(u_char *p, u_char *last, ngx_str_t *id, fz_found_t *found)
{
    u_char      *eol, *t, *q;
    ngx_uint_t   n, k;

    k = 0;

    for (n = 1; p < last; p = eol + 1, n++) {
        eol = memchr(p, '\n', last - p);

        if (eol == NULL) {
            eol = last;
        }

        for (t = p; t < eol && fz_blank(*t); t++) {
            /* void */
        }

        for (q = t; q < eol && !fz_blank(*q); q++) {
            /* void */
        }

        if ((size_t) (q - t) != id->len || memcmp(t, id->data, id->len) != 0)
        {
            continue;
        }

        if (k < 2) {
            found[k].n = n;
            found[k].start = p;
            found[k].end = eol;
        }

        k++;
    }

    return k;
}


/* the ID the input chose: see the top */

static void
fz_choose(u_char *p, u_char *last, u_char sel, ngx_str_t *id)
{
    u_char      *eol, *t, *q;
    ngx_uint_t   pass, n, k;

    n = 0;
    k = 0;

    for (pass = 0; pass < 2; pass++) {

        if (pass == 1) {
            if (n == 0) {
                break;
            }

            k = (sel & 0x3f) % n;
            n = 0;
        }

        for (t = p; t < last; t = eol + 1) {
            eol = memchr(t, '\n', last - t);

            if (eol == NULL) {
                eol = last;
            }

            for (q = t; q < eol && fz_blank(*q); q++) {
                /* void */
            }

            if (q < eol && *q == '#') {
                for (q++; q < eol && fz_blank(*q); q++) {
                    /* void */
                }
            }

            for (id->data = q; q < eol && !fz_blank(*q); q++) {
                /* void */
            }

            id->len = q - id->data;

            if (!fz_is_id(id->data, id->len)) {
                continue;
            }

            if (pass == 1 && n == k) {
                if (id->len > (ngx_uint_t) (sel >> 6)) {
                    id->len -= sel >> 6;
                }

                return;
            }

            n++;
        }
    }

    ngx_str_set(id, "fz-absent");
}


/* find_line() against the harness's scan */

static ngx_uint_t
fz_check_find(u_char *buf, size_t len, ngx_str_t *id, fz_found_t *found)
{
    u_char      *line, *eol;
    ngx_int_t    rc;
    ngx_uint_t   k, at, n;

    k = fz_scan(buf, buf + len, id, found);

    fz_scanned = 0;

    rc = ngx_http_es_keyfile_find_line(buf, buf + len, id, &line, &eol, &at,
                                       &n);

    if (fz_trace) {
        fprintf(stderr, "fuzz_keyfile: find \"%.*s\": %d, line %u, second "
                "%u (scan: %u)\n", (int) id->len, id->data, (int) rc,
                (unsigned) at, (unsigned) n, (unsigned) k);
    }

    fz_assert(fz_scanned <= len);

    if (k == 0) {
        fz_assert(rc == NGX_DECLINED);
        fz_assert(line == NULL && at == 0);

    } else if (k == 1) {
        fz_assert(rc == NGX_OK);
        fz_assert(line == found[0].start && eol == found[0].end);
        fz_assert(at == found[0].n);

    } else {
        fz_assert(rc == NGX_ERROR);
        fz_assert(at == found[0].n && n == found[1].n);
    }

    return k;
}


/* a new LOOKUP that another record of the file has, or the other one */

static int
fz_collides(fz_load_t *ld, ngx_http_es_api_change_t *ch, fz_line_t *nm)
{
    ngx_uint_t  i;
    ngx_str_t  *id, *key, *id_key;

    id = &nm->str[NGX_HTTP_ES_API_STR_ID];
    key = &nm->str[NGX_HTTP_ES_API_STR_LOOKUP];
    id_key = &nm->str[NGX_HTTP_ES_API_STR_ID_LOOKUP];

    if (nm->has_id_key && fz_str_eq(key, id_key)) {
        return 1;
    }

    for (i = 0; i < ld->nrecs; i++) {
        if (fz_str_eq(&ld->recs[i].id, id)) {
            continue;
        }

        if (fz_str_eq(&ld->recs[i].lookup, key)
            || fz_str_eq(&ld->recs[i].id_lookup, key)
            || (nm->has_id_key
                && (fz_str_eq(&ld->recs[i].lookup, id_key)
                    || fz_str_eq(&ld->recs[i].id_lookup, id_key))))
        {
            return 1;
        }
    }

    return 0;
}


/* the whole rewrite, through the file */

static void
fz_check_rewrite(u_char *buf, size_t len, ngx_str_t *id, ngx_uint_t opt,
    u_char made, u_char seed, fz_load_t *old)
{
    u_char                    *nbuf, *e, *p, want[256];
    size_t                     nlen, elen;
    mode_t                     mode;
    ngx_int_t                  rc, expect;
    ngx_uint_t                 k, i;
    fz_load_t                  ld;
    fz_found_t                 found[2];
    ngx_pool_t                *pool;
    struct stat                st;
    ngx_http_es_api_zone_t     zone;
    ngx_http_es_api_change_t   ch;

    k = fz_check_find(buf, len, id, found);

    e = NULL;
    elen = 0;
    expect = NGX_ERROR;

    if (k == 1) {
        fz_make_change(&ch, opt, made, seed, id, found[0].start,
                       found[0].end);

        e = malloc((found[0].end - found[0].start) + FZ_GROWTH);
        fz_assert(e != NULL);

        fz_model_line(&fz_m, found[0].start, found[0].end);

        expect = fz_model_change(&fz_m, found[0].start, found[0].end, &ch,
                                 e, &elen);

        if (expect != NGX_OK) {
            expect = NGX_ERROR;
        }

    } else {
        fz_make_change(&ch, opt, made, seed, id, NULL, NULL);
    }

    fz_write_file(buf, len);

    /* a pool, and a log that the checks read */

    pool = ngx_create_pool(NGX_MIN_POOL_SIZE, &fz_nginx_log);
    fz_assert(pool != NULL);

    ngx_memzero(&zone, sizeof(ngx_http_es_api_zone_t));
    zone.file = fz_file;

    fz_capture_clear();
    fz_scanned = 0;
    fz_synced = 0;

    rc = ngx_http_es_keyfile_rewrite(pool, &fz_capture_log, &zone, &ch);

    ngx_destroy_pool(pool);

    if (fz_trace) {
        fprintf(stderr, "fuzz_keyfile: rewrite %s \"%.*s\": %d (model %d) "
                "%s", ch.revoke ? "revoke" : "regenerate", (int) id->len,
                id->data, (int) rc, (int) expect,
                fz_logged_n ? (char *) fz_logged : "\n");
    }

    fz_assert(rc == expect);
    fz_assert(fz_scanned <= 9 * len + 2 * FZ_GROWTH);

    nbuf = fz_read_file(&nlen, &mode);

    fz_assert(lstat(fz_tmp_path, &st) == -1 && errno == ENOENT);
    fz_assert((mode & 07777) == 0600);

    if (rc != NGX_OK) {

        /* the file as it was; why, and where */

        fz_assert(nlen == len && memcmp(nbuf, buf, len) == 0);
        fz_assert(fz_logged_n == 1);

        if (k == 0) {
            p = ngx_snprintf(want, sizeof(want), "entry \"%V\" is no "
                             "longer in \"%V\"", id, &fz_file);

        } else if (k > 1) {
            p = ngx_snprintf(want, sizeof(want), "\"%V\", line %ui, entry "
                             "\"%V\": duplicate ID (first on line %ui)",
                             &fz_file, found[1].n, id, found[0].n);

        } else {
            p = ngx_snprintf(want, sizeof(want), "\"%V\", line %ui%s",
                             &fz_file, found[0].n,
                             fz_m.id_read ? ", entry \"" : ": ");
        }

        fz_assert(ngx_strlcasestrn(fz_logged, fz_logged + fz_logged_len,
                                   want, p - want - 1)
                  != NULL);

        goto done;
    }

    /* every byte before the line, the new line, every byte after it */

    fz_assert(fz_logged_n == 0);
    fz_assert(fz_synced == 2);

    fz_assert(nlen == len - (found[0].end - found[0].start) + elen);
    fz_assert(memcmp(nbuf, buf, found[0].start - buf) == 0);
    fz_assert(memcmp(nbuf + (found[0].start - buf), e, elen) == 0);
    fz_assert(memcmp(nbuf + (found[0].start - buf) + elen, found[0].end,
                     buf + len - found[0].end)
              == 0);

    /* the new file loads as the model says; as the old one, if it can */

    fz_check_load(nbuf, nlen, &ld, "after the rewrite");

    fz_model_line(&fz_m2, e, e + elen);

    if (old->rc == FZ_LOAD_OK && !fz_collides(old, &ch, &fz_m2)) {
        fz_assert(ld.rc == FZ_LOAD_OK);
    }

    if (old->rc == FZ_LOAD_OK && ld.rc == FZ_LOAD_OK) {
        fz_assert(ld.nrecs == old->nrecs);

        for (i = 0; i < ld.nrecs; i++) {
            fz_assert(fz_str_eq(&ld.recs[i].id, &old->recs[i].id));
        }
    }

    free(ld.recs);

done:

    free(nbuf);
    free(e);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char     *buf, *p, *last, *eol;
    size_t      len;
    ngx_str_t   chosen;
    fz_load_t   ld;
    ngx_uint_t  opt;

    if (size < 4) {
        return 0;
    }

    fz_setup();
    fz_nginx_clock();

    opt = data[0];
    len = size - 4;
    buf = fz_dup(data + 4, len);
    last = buf + len;

    fz_choose(buf, last, data[1], &chosen);

    if (fz_trace) {
        fprintf(stderr, "fuzz_keyfile: %zu bytes, option 0x%02x, ID \"%.*s\""
                "\n", len, (unsigned) opt, (int) chosen.len, chosen.data);
    }

    /* every line, alone */

    for (p = buf; p < last; p = eol + 1) {
        eol = memchr(p, '\n', last - p);

        if (eol == NULL) {
            eol = last;
        }

        fz_check_line(p, eol, opt, data[2], data[3], &chosen);
    }

    /* the file, loaded; then the line of the ID changed in it */

    fz_check_load(buf, len, &ld, "");

    fz_check_rewrite(buf, len, &chosen, opt, data[2], data[3], &ld);

    free(ld.recs);
    free(buf);

    return 0;
}
