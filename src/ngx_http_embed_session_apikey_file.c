
/*
 * Copyright (C) The ngx_http_embed_session_module authors
 *
 * The API key file, read: one record a line, checked field by field as
 * "nginx -t" checks it, with "file, line, entry" in every message and no
 * raw key ever quoted; then the checks across lines (unique IDs and
 * LOOKUPs) and the records kept for the zone.  The master reads the file
 * under a shared lock of FILE.lock (apikey_rewrite.c), so that a rewrite
 * is seen whole; the file is opened as file.c opens the files nginx may
 * trust with keys.  Changing the file is apikey_rewrite.c's.
 */


#include "ngx_http_embed_session_module.h"
#include "ngx_http_embed_session_apikey.h"
#include "ngx_http_embed_session_apikey_int.h"
#include "ngx_http_embed_session_file.h"
#include "ngx_http_embed_session_origin.h"


#define NGX_HTTP_ES_KEYFILE_ID_MAX        64
#define NGX_HTTP_ES_KEYFILE_SCOPE_MAX     32
#define NGX_HTTP_ES_KEYFILE_ITEM_MAX      128
#define NGX_HTTP_ES_KEYFILE_SERIAL_LEN    32        /* hex digits */
#define NGX_HTTP_ES_KEYFILE_PREFIX_MAX                                       \
    (NGX_HTTP_ES_API_KEY_MAX - NGX_HTTP_ES_API_KEY_RANDOM)


/*
 * The fields of a line; key to flags go to the record strings LOOKUP to
 * FLAGS, which are in the same order: ngx_http_es_keyfile_str().
 */

typedef enum {
    NGX_HTTP_ES_KEYFILE_F_KEY = 0,
    NGX_HTTP_ES_KEYFILE_F_ID_KEY,
    NGX_HTTP_ES_KEYFILE_F_SCOPE,
    NGX_HTTP_ES_KEYFILE_F_TENANT,
    NGX_HTTP_ES_KEYFILE_F_RESOURCES,
    NGX_HTTP_ES_KEYFILE_F_GRANTS,
    NGX_HTTP_ES_KEYFILE_F_ORIGINS,
    NGX_HTTP_ES_KEYFILE_F_FLAGS,
    NGX_HTTP_ES_KEYFILE_F_RATE,
    NGX_HTTP_ES_KEYFILE_F_STATUS,
    NGX_HTTP_ES_KEYFILE_F_EXPIRES,
    NGX_HTTP_ES_KEYFILE_F_SERIAL,
    NGX_HTTP_ES_KEYFILE_NFIELDS
} ngx_http_es_keyfile_field_e;

#define ngx_http_es_keyfile_str(field)                                       \
    (NGX_HTTP_ES_API_STR_LOOKUP + (field) - NGX_HTTP_ES_KEYFILE_F_KEY)


/* the whole file: what one line cannot know */

typedef struct {
    ngx_conf_t                 *cf;
    ngx_http_es_api_zone_t     *zone;
    ngx_uint_t                  line;
    ngx_str_t                   entry;

    ngx_rbtree_t                ids;
    ngx_rbtree_node_t           ids_sentinel;
    ngx_rbtree_t                lookups;
    ngx_rbtree_node_t           lookups_sentinel;

    ngx_http_es_api_rec_t      *rec;        /* the one being built */
} ngx_http_es_keyfile_parse_t;


static char *ngx_http_es_keyfile_parse(ngx_http_es_keyfile_parse_t *ps,
    u_char *p, u_char *last);
static ngx_int_t ngx_http_es_keyfile_parse_id(ngx_http_es_keyfile_line_t *kl,
    ngx_str_t *id);
static ngx_uint_t ngx_http_es_keyfile_field(ngx_str_t *name);
static ngx_int_t ngx_http_es_keyfile_parse_field(
    ngx_http_es_keyfile_line_t *kl, ngx_uint_t field, ngx_str_t *name,
    ngx_str_t *value);
static ngx_int_t ngx_http_es_keyfile_parse_key(ngx_http_es_keyfile_line_t *kl,
    ngx_uint_t field, ngx_str_t *name, ngx_str_t *value);
static ngx_int_t ngx_http_es_keyfile_parse_list(
    ngx_http_es_keyfile_line_t *kl, ngx_uint_t field, ngx_str_t *name,
    ngx_str_t *value);
static ngx_int_t ngx_http_es_keyfile_owner(ngx_http_es_keyfile_line_t *kl,
    ngx_str_t *id, ngx_str_t *serial);
static char *ngx_http_es_keyfile_parse_done(ngx_http_es_keyfile_parse_t *ps);
static char *ngx_http_es_keyfile_unique(ngx_http_es_keyfile_parse_t *ps,
    ngx_rbtree_t *tree, ngx_str_t *name, const char *what);
static char *ngx_http_es_keyfile_error(ngx_http_es_keyfile_parse_t *ps,
    const char *fmt, ...);
static ngx_int_t ngx_http_es_keyfile_put(ngx_http_es_api_rec_t *rec,
    ngx_uint_t n, u_char *p, size_t len);
static ngx_int_t ngx_http_es_keyfile_is_item(ngx_str_t *s, size_t max);
static ngx_str_t *ngx_http_es_keyfile_shown(ngx_str_t *value);


static ngx_str_t  ngx_http_es_keyfile_fields[] = {
    ngx_string("key"),
    ngx_string("id_key"),
    ngx_string("scope"),
    ngx_string("tenant"),
    ngx_string("resources"),
    ngx_string("grants"),
    ngx_string("origins"),
    ngx_string("flags"),
    ngx_string("rate"),
    ngx_string("status"),
    ngx_string("expires"),
    ngx_string("serial")
};


/* reading the key file *************************************************/

/* the key file, read under a shared lock so a rewrite is seen whole */

char *
ngx_http_es_keyfile_load(ngx_conf_t *cf, ngx_http_es_api_zone_t *zone)
{
    char                         *rv;
    ngx_fd_t                      lfd;
    ngx_int_t                     rc;
    ngx_str_t                     buf;
    ngx_http_es_keyfile_parse_t   ps;

    if (ngx_http_es_keyfile_lock(cf->cycle, &zone->lock, 0, cf->log,
                                 NGX_LOG_EMERG, &lfd)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    rv = NGX_CONF_ERROR;

    rc = ngx_http_es_file_read(cf, NULL, NULL, "embed_session_api_keys: ",
                               &zone->file, NGX_HTTP_ES_KEY_FILE_MAX,
                               &buf, NULL);

    if (rc == NGX_DECLINED) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "embed_session_api_keys: \"%V\" is larger than "
                           "%uz bytes", &zone->file,
                           (size_t) NGX_HTTP_ES_KEY_FILE_MAX);
    }

    if (rc != NGX_OK) {
        goto unlock;
    }

    /* later than any change the file holds: see ngx_http_es_api_carry() */

    zone->parsed = ngx_http_es_api_msec();

    ngx_memzero(&ps, sizeof(ngx_http_es_keyfile_parse_t));

    ps.cf = cf;
    ps.zone = zone;

    rv = ngx_http_es_keyfile_parse(&ps, buf.data, buf.data + buf.len);

unlock:

    if (lfd != NGX_INVALID_FILE) {
        ngx_http_es_keyfile_unlock(lfd, &zone->lock, cf->log);
    }

    return rv;
}


static char *
ngx_http_es_keyfile_parse(ngx_http_es_keyfile_parse_t *ps, u_char *p,
    u_char *last)
{
    u_char                      *eol, err[NGX_MAX_CONF_ERRSTR];
    ngx_int_t                    rc;
    ngx_http_es_keyfile_line_t   kl;

    ngx_rbtree_init(&ps->ids, &ps->ids_sentinel, ngx_str_rbtree_insert_value);
    ngx_rbtree_init(&ps->lookups, &ps->lookups_sentinel,
                    ngx_str_rbtree_insert_value);

    ps->rec = ngx_palloc(ps->cf->temp_pool, NGX_HTTP_ES_KEYFILE_REC_SIZE);
    if (ps->rec == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(&kl, sizeof(ngx_http_es_keyfile_line_t));

    kl.rec = ps->rec;
    kl.err = err;
    kl.err_len = sizeof(err);

    while (p < last) {
        ps->line++;

        eol = ngx_strlchr(p, last, LF);
        if (eol == NULL) {
            eol = last;
        }

        rc = ngx_http_es_keyfile_parse_line(&kl, p, eol);

        ps->entry = kl.entry;

        if (rc == NGX_ERROR) {
            return ngx_http_es_keyfile_error(ps, "%s", err);
        }

        if (rc == NGX_OK) {
            if (ngx_http_es_keyfile_parse_done(ps) != NGX_CONF_OK) {
                return NGX_CONF_ERROR;
            }
        }

        p = eol + 1;
    }

    return NGX_CONF_OK;
}


/* one line: the checks of "nginx -t" that need no other line */

ngx_int_t
ngx_http_es_keyfile_parse_line(ngx_http_es_keyfile_line_t *kl, u_char *p,
    u_char *last)
{
    u_char                 *q, *start, *eq;
    ngx_int_t               rc;
    ngx_str_t               id, name, value, serial;
    ngx_uint_t              i, seen;
    ngx_http_es_api_rec_t  *rec;

    ngx_str_null(&kl->entry);

    for (q = p; q < last; q++) {
        if (*q == CR) {
            return ngx_http_es_keyfile_fail(kl, "carriage return in the line "
                                            "(save the file with Unix line "
                                            "ends)");
        }

        if ((*q < 0x20 && *q != '\t') || *q >= 0x7f) {
            return ngx_http_es_keyfile_fail(kl, "control or non-ASCII "
                                            "character");
        }
    }

    while (p < last && (*p == ' ' || *p == '\t')) {
        p++;
    }

    if (p == last || *p == '#') {
        return NGX_DECLINED;
    }

    id.data = p;

    while (p < last && *p != ' ' && *p != '\t') {
        p++;
    }

    id.len = p - id.data;

    if (ngx_http_es_keyfile_parse_id(kl, &id) != NGX_OK) {
        return NGX_ERROR;
    }

    rec = kl->rec;
    ngx_memzero(rec, offsetof(ngx_http_es_api_rec_t, data));
    rec->expires = -1;

    (void) ngx_http_es_keyfile_put(rec, NGX_HTTP_ES_API_STR_ID, id.data,
                                   id.len);

    ngx_str_null(&serial);
    seen = 0;
    kl->field = 0;

    for ( ;; ) {
        while (p < last && (*p == ' ' || *p == '\t')) {
            p++;
        }

        if (p == last) {
            break;
        }

        start = p;

        while (p < last && *p != ' ' && *p != '\t') {
            p++;
        }

        kl->field++;

        eq = ngx_strlchr(start, p, '=');

        if (eq == NULL) {
            if (ngx_http_es_api_is_raw_key(start, p - start)) {
                return ngx_http_es_keyfile_fail(kl, "field %ui looks like a "
                                                "raw key; store its hash "
                                                "(key=LOOKUP:HEX64)",
                                                kl->field);
            }

            return ngx_http_es_keyfile_fail(kl, "field %ui is not NAME=VALUE",
                                            kl->field);
        }

        name.data = start;
        name.len = eq - start;
        value.data = eq + 1;
        value.len = p - value.data;

        i = ngx_http_es_keyfile_field(&name);

        if (i == NGX_HTTP_ES_KEYFILE_NFIELDS) {
            if (ngx_http_es_keyfile_is_item(&name, 32) != NGX_OK) {
                return ngx_http_es_keyfile_fail(kl, "field %ui is not "
                                                "NAME=VALUE", kl->field);
            }

            return ngx_http_es_keyfile_fail(kl, "unknown field \"%V\" "
                                            "(known: key id_key scope tenant "
                                            "resources grants origins flags "
                                            "rate status expires serial)",
                                            &name);
        }

        if (seen & (1 << i)) {
            return ngx_http_es_keyfile_fail(kl, "field \"%V\" given twice",
                                            &name);
        }

        seen |= 1 << i;

        if (value.len == 0) {
            return ngx_http_es_keyfile_fail(kl, "%V=: empty value", &name);
        }

        rc = ngx_http_es_keyfile_parse_field(kl, i, &name, &value);
        if (rc != NGX_OK) {
            return rc;
        }

        if (i == NGX_HTTP_ES_KEYFILE_F_SERIAL) {
            serial = value;
        }
    }

    if (!(seen & (1 << NGX_HTTP_ES_KEYFILE_F_KEY))) {
        return ngx_http_es_keyfile_fail(kl, "no key= field");
    }

    return ngx_http_es_keyfile_owner(kl, &id, &serial);
}


/* the ID: [A-Za-z0-9_.-]{1,64}; kl->entry is it, or a stand-in */

static ngx_int_t
ngx_http_es_keyfile_parse_id(ngx_http_es_keyfile_line_t *kl, ngx_str_t *id)
{
    size_t  i;

    if (id->len > NGX_HTTP_ES_KEYFILE_ID_MAX) {
        return ngx_http_es_keyfile_fail(kl, "invalid ID: use letters, digits, "
                                        "\".\", \"_\", \"-\", 1 to 64 "
                                        "characters");
    }

    for (i = 0; i < id->len; i++) {
        if (!(isalnum(id->data[i]) || id->data[i] == '_'
              || id->data[i] == '.' || id->data[i] == '-'))
        {
            return ngx_http_es_keyfile_fail(kl, "invalid ID: use letters, "
                                            "digits, \".\", \"_\", \"-\", 1 "
                                            "to 64 characters");
        }
    }

    /* a raw key pasted as the ID is never quoted back */

    if (ngx_http_es_api_is_raw_key(id->data, id->len)) {
        ngx_str_set(&kl->entry, "(not shown: looks like a raw key)");

    } else {
        kl->entry = *id;
    }

    return NGX_OK;
}


/* the field of that name, or NGX_HTTP_ES_KEYFILE_NFIELDS */

static ngx_uint_t
ngx_http_es_keyfile_field(ngx_str_t *name)
{
    ngx_uint_t  i;

    for (i = 0; i < NGX_HTTP_ES_KEYFILE_NFIELDS; i++) {
        if (name->len == ngx_http_es_keyfile_fields[i].len
            && ngx_strncmp(name->data, ngx_http_es_keyfile_fields[i].data,
                           name->len) == 0)
        {
            break;
        }
    }

    return i;
}


static ngx_int_t
ngx_http_es_keyfile_parse_field(ngx_http_es_keyfile_line_t *kl,
    ngx_uint_t field, ngx_str_t *name, ngx_str_t *value)
{
    u_char                 *p, *last;
    ngx_int_t               n;
    ngx_uint_t              i;
    ngx_http_es_api_rec_t  *rec;

    rec = kl->rec;

    switch (field) {

    case NGX_HTTP_ES_KEYFILE_F_KEY:
    case NGX_HTTP_ES_KEYFILE_F_ID_KEY:
        return ngx_http_es_keyfile_parse_key(kl, field, name, value);

    case NGX_HTTP_ES_KEYFILE_F_SCOPE:

        for (i = 0; i < value->len; i++) {
            if (!((value->data[i] >= 'a' && value->data[i] <= 'z')
                  || (value->data[i] >= '0' && value->data[i] <= '9')
                  || value->data[i] == '_' || value->data[i] == '-'))
            {
                break;
            }
        }

        if (i < value->len || value->len > NGX_HTTP_ES_KEYFILE_SCOPE_MAX) {
            return ngx_http_es_keyfile_fail(kl, "scope=: use lowercase "
                                            "letters, digits, \"_\", \"-\", "
                                            "1 to 32 characters");
        }

        break;

    case NGX_HTTP_ES_KEYFILE_F_TENANT:

        if (ngx_http_es_keyfile_is_item(value, NGX_HTTP_ES_KEYFILE_ITEM_MAX)
            != NGX_OK)
        {
            return ngx_http_es_keyfile_fail(kl, "tenant=: use letters, "
                                            "digits, \"_\", \".\", \":\", "
                                            "\"-\", 1 to 128 characters");
        }

        break;

    case NGX_HTTP_ES_KEYFILE_F_RESOURCES:
    case NGX_HTTP_ES_KEYFILE_F_GRANTS:
    case NGX_HTTP_ES_KEYFILE_F_ORIGINS:
    case NGX_HTTP_ES_KEYFILE_F_FLAGS:
        return ngx_http_es_keyfile_parse_list(kl, field, name, value);

    case NGX_HTTP_ES_KEYFILE_F_RATE:

        p = value->data;
        last = p + value->len;

        while (p < last && *p >= '0' && *p <= '9') {
            p++;
        }

        n = ngx_atoi(value->data, p - value->data);

        if (n < 1 || p - value->data > 9 || value->data[0] == '0'
            || last - p != 2 || p[0] != '/'
            || (p[1] != 's' && p[1] != 'm' && p[1] != 'h'))
        {
            return ngx_http_es_keyfile_fail(kl, "rate=%V: not N/s, N/m or N/h "
                                            "with N from 1 to 999999999",
                                            ngx_http_es_keyfile_shown(value));
        }

        rec->rate = n;
        rec->period = (p[1] == 's') ? 1 : (p[1] == 'm') ? 60 : 3600;

        return NGX_OK;

    case NGX_HTTP_ES_KEYFILE_F_STATUS:

        if (value->len == 6 && ngx_strncmp(value->data, "active", 6) == 0) {
            rec->revoked = 0;

        } else if (value->len == 7
                   && ngx_strncmp(value->data, "revoked", 7) == 0)
        {
            rec->revoked = 1;

        } else {
            return ngx_http_es_keyfile_fail(kl, "status=%V: not \"active\" or "
                                            "\"revoked\"",
                                            ngx_http_es_keyfile_shown(value));
        }

        return NGX_OK;

    case NGX_HTTP_ES_KEYFILE_F_SERIAL:

        /* not a secret, but never quoted: it could be anything pasted */

        for (i = 0; i < value->len; i++) {
            if (!((value->data[i] >= '0' && value->data[i] <= '9')
                  || (value->data[i] >= 'a' && value->data[i] <= 'f')))
            {
                break;
            }
        }

        if (i < value->len || value->len != NGX_HTTP_ES_KEYFILE_SERIAL_LEN) {
            return ngx_http_es_keyfile_fail(kl, "serial=: not 32 lowercase "
                                            "hex digits");
        }

        rec->has_serial = 1;

        return NGX_OK;

    default: /* NGX_HTTP_ES_KEYFILE_F_EXPIRES */

        n = (value->len <= 12) ? ngx_atotm(value->data, value->len)
                               : NGX_ERROR;

        if (n == NGX_ERROR) {
            return ngx_http_es_keyfile_fail(kl, "expires=%V: not Unix seconds "
                                            "(an integer)",
                                            ngx_http_es_keyfile_shown(value));
        }

        rec->expires = (time_t) n;

        return NGX_OK;
    }

    if (ngx_http_es_keyfile_put(rec, ngx_http_es_keyfile_str(field),
                                value->data, value->len)
        != NGX_OK)
    {
        return ngx_http_es_keyfile_fail(kl, "record longer than %d bytes",
                                        NGX_HTTP_ES_API_RECORD_MAX);
    }

    return NGX_OK;
}


/* key=LOOKUP:HEX64, id_key=LOOKUP:HEX64; never quoted in a message */

static ngx_int_t
ngx_http_es_keyfile_parse_key(ngx_http_es_keyfile_line_t *kl,
    ngx_uint_t field, ngx_str_t *name, ngx_str_t *value)
{
    u_char                 *colon;
    size_t                  i, prefix;
    ngx_str_t               lookup;
    ngx_http_es_api_rec_t  *rec;

    rec = kl->rec;

    colon = ngx_strlchr(value->data, value->data + value->len, ':');

    if (ngx_http_es_api_is_raw_key(value->data, value->len)
        || (colon && ngx_http_es_api_is_raw_key(value->data,
                                                colon - value->data)))
    {
        return ngx_http_es_keyfile_fail(kl, "%V=: looks like a raw key; store "
                                        "its hash (LOOKUP:HEX64)", name);
    }

    if (colon == NULL) {
        goto invalid;
    }

    lookup.data = value->data;
    lookup.len = colon - value->data;

    if (lookup.len < NGX_HTTP_ES_API_KEY_LOOKUP
        || value->len - lookup.len - 1 != 2 * NGX_HTTP_ES_API_HASH_LEN)
    {
        goto invalid;
    }

    prefix = lookup.len - NGX_HTTP_ES_API_KEY_LOOKUP;

    if (prefix > NGX_HTTP_ES_KEYFILE_PREFIX_MAX
        || (prefix && lookup.data[prefix - 1] != '_'))
    {
        goto invalid;
    }

    for (i = 0; i < lookup.len; i++) {
        if (!isalnum(lookup.data[i])
            && (i >= prefix || lookup.data[i] != '_'))
        {
            goto invalid;
        }
    }

    if (ngx_http_es_unhex(field == NGX_HTTP_ES_KEYFILE_F_KEY
                          ? rec->hash : rec->id_hash,
                          colon + 1, NGX_HTTP_ES_API_HASH_LEN)
        != NGX_OK)
    {
        goto invalid;
    }

    if (field == NGX_HTTP_ES_KEYFILE_F_ID_KEY) {
        rec->has_id_key = 1;
    }

    if (ngx_http_es_keyfile_put(rec, ngx_http_es_keyfile_str(field),
                                lookup.data, lookup.len)
        != NGX_OK)
    {
        return ngx_http_es_keyfile_fail(kl, "record longer than %d bytes",
                                        NGX_HTTP_ES_API_RECORD_MAX);
    }

    return NGX_OK;

invalid:

    return ngx_http_es_keyfile_fail(kl, "%V=: not LOOKUP:HEX64 (PREFIX + 8 of "
                                    "[A-Za-z0-9], \":\", 64 lowercase hex "
                                    "digits)", name);
}


/* resources, grants, flags: items; origins: normalised origins */

static ngx_int_t
ngx_http_es_keyfile_parse_list(ngx_http_es_keyfile_line_t *kl,
    ngx_uint_t field, ngx_str_t *name, ngx_str_t *value)
{
    u_char                 *p, *last, *comma, *start;
    size_t                  len;
    ngx_int_t               rc;
    ngx_str_t               item;
    ngx_http_es_api_rec_t  *rec;

    rec = kl->rec;
    start = rec->data + rec->len;

    p = value->data;
    last = p + value->len;

    for ( ;; ) {
        comma = ngx_strlchr(p, last, ',');

        item.data = p;
        item.len = (comma ? comma : last) - p;

        if (item.len == 0) {
            return ngx_http_es_keyfile_fail(kl, "%V=: empty item (commas must "
                                            "separate items)", name);
        }

        /* the item and a comma must fit; origins only get shorter */

        if (rec->len + item.len + 1 > NGX_HTTP_ES_API_RECORD_MAX) {
            return ngx_http_es_keyfile_fail(kl, "record longer than %d bytes",
                                            NGX_HTTP_ES_API_RECORD_MAX);
        }

        if (field == NGX_HTTP_ES_KEYFILE_F_ORIGINS) {
            rc = ngx_http_es_origin_normalize(rec->data + rec->len, &len,
                                              item.data, item.len, 0);

        } else {
            rc = ngx_http_es_keyfile_is_item(&item,
                                             NGX_HTTP_ES_KEYFILE_ITEM_MAX);
            len = item.len;

            if (rc == NGX_OK) {
                ngx_memcpy(rec->data + rec->len, item.data, len);
            }
        }

        if (rc != NGX_OK) {
            if (ngx_http_es_api_is_raw_key(item.data, item.len)) {
                ngx_str_set(&item, "(not shown)");
            }

            if (field == NGX_HTTP_ES_KEYFILE_F_ORIGINS) {
                return ngx_http_es_keyfile_fail(kl, "origins=: \"%V\" is not "
                                                "an origin (http or https://"
                                                "host[:port], no path, no "
                                                "trailing slash, no wildcard)",
                                                &item);
            }

            return ngx_http_es_keyfile_fail(kl, "%V=: \"%V\": use "
                                            "letters, digits, \"_\", \".\", "
                                            "\":\", \"-\", 1 to 128 "
                                            "characters", name, &item);
        }

        rec->len += len;

        if (comma == NULL) {
            break;
        }

        rec->data[rec->len++] = ',';
        p = comma + 1;
    }

    rec->str[ngx_http_es_keyfile_str(field)].off = start - rec->data;
    rec->str[ngx_http_es_keyfile_str(field)].len =
                                              rec->data + rec->len - start;

    return NGX_OK;
}


/*
 * OWNER: "ID:SERIAL".  An ID alone for a record without serial=: the
 * owner all records had before serial= existed, so that their sessions
 * stay theirs across an upgrade (and a reused ID takes them over, as it
 * did).  An ID has no ":", so the two forms never meet.
 */

static ngx_int_t
ngx_http_es_keyfile_owner(ngx_http_es_keyfile_line_t *kl, ngx_str_t *id,
    ngx_str_t *serial)
{
    u_char                 *p;
    size_t                  len;
    ngx_http_es_api_rec_t  *rec;

    rec = kl->rec;

    len = id->len + (serial->len ? 1 + serial->len : 0);

    if (rec->len + len > NGX_HTTP_ES_API_RECORD_MAX) {
        return ngx_http_es_keyfile_fail(kl, "record longer than %d bytes",
                                        NGX_HTTP_ES_API_RECORD_MAX);
    }

    rec->str[NGX_HTTP_ES_API_STR_OWNER].off = (u_short) rec->len;
    rec->str[NGX_HTTP_ES_API_STR_OWNER].len = (u_short) len;

    p = ngx_cpymem(rec->data + rec->len, id->data, id->len);

    if (serial->len) {
        *p++ = ':';
        ngx_memcpy(p, serial->data, serial->len);
    }

    rec->len += len;

    return NGX_OK;
}


/* the checks across lines, and the record kept for the zone */

static char *
ngx_http_es_keyfile_parse_done(ngx_http_es_keyfile_parse_t *ps)
{
    char                   *rv;
    size_t                  size;
    ngx_str_t               s;
    ngx_http_es_api_rec_t  *rec, **recp;

    rec = ps->rec;

    ngx_http_es_api_str(rec, NGX_HTTP_ES_API_STR_ID, &s);

    rv = ngx_http_es_keyfile_unique(ps, &ps->ids, &s, "duplicate ID");
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    ngx_http_es_api_str(rec, NGX_HTTP_ES_API_STR_LOOKUP, &s);

    rv = ngx_http_es_keyfile_unique(ps, &ps->lookups, &s, "key=: duplicate");
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    if (rec->has_id_key) {
        ngx_http_es_api_str(rec, NGX_HTTP_ES_API_STR_ID_LOOKUP, &s);

        rv = ngx_http_es_keyfile_unique(ps, &ps->lookups, &s,
                                        "id_key=: duplicate");
        if (rv != NGX_CONF_OK) {
            return rv;
        }
    }

    size = offsetof(ngx_http_es_api_rec_t, data) + rec->len;

    recp = ngx_array_push(&ps->zone->records);
    if (recp == NULL) {
        return NGX_CONF_ERROR;
    }

    *recp = ngx_palloc(ps->cf->pool, size);
    if (*recp == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memcpy(*recp, rec, size);
    rec = *recp;

    rec->size = size;

    ngx_http_es_api_str(rec, NGX_HTTP_ES_API_STR_LOOKUP, &s);
    rec->node.key = ngx_crc32_short(s.data, s.len);
    rec->node.data = 0;

    ngx_http_es_api_str(rec, NGX_HTTP_ES_API_STR_ID_LOOKUP, &s);
    rec->id_node.key = ngx_crc32_short(s.data, s.len);
    rec->id_node.data = 1;

    return NGX_CONF_OK;
}


/* name must be new in the tree; the tree then remembers it */

static char *
ngx_http_es_keyfile_unique(ngx_http_es_keyfile_parse_t *ps, ngx_rbtree_t *tree,
    ngx_str_t *name, const char *what)
{
    uint32_t                 hash;
    ngx_http_es_api_name_t  *n;

    hash = ngx_crc32_long(name->data, name->len);

    n = (ngx_http_es_api_name_t *) ngx_str_rbtree_lookup(tree, name, hash);

    if (n) {
        if (tree == &ps->ids) {
            return ngx_http_es_keyfile_error(ps, "%s (first on line %ui)", what,
                                             n->line);
        }

        return ngx_http_es_keyfile_error(ps, "%s LOOKUP \"%V\" (also on line "
                                         "%ui)", what, name, n->line);
    }

    n = ngx_palloc(ps->cf->temp_pool, sizeof(ngx_http_es_api_name_t));
    if (n == NULL) {
        return NGX_CONF_ERROR;
    }

    n->sn.node.key = hash;
    n->sn.str.len = name->len;
    n->sn.str.data = ngx_pnalloc(ps->cf->temp_pool, name->len);
    if (n->sn.str.data == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memcpy(n->sn.str.data, name->data, name->len);
    n->line = ps->line;

    ngx_rbtree_insert(tree, &n->sn.node);

    return NGX_CONF_OK;
}


/* "embed_session_api_keys: "FILE", line N, entry "ID": ..." */

static char *
ngx_http_es_keyfile_error(ngx_http_es_keyfile_parse_t *ps, const char *fmt, ...)
{
    u_char   *p, buf[NGX_MAX_CONF_ERRSTR];
    va_list   args;

    va_start(args, fmt);
    p = ngx_vslprintf(buf, buf + sizeof(buf), fmt, args);
    va_end(args);

    if (ps->entry.len) {
        ngx_conf_log_error(NGX_LOG_EMERG, ps->cf, 0,
                           "embed_session_api_keys: \"%V\", line %ui, "
                           "entry \"%V\": %*s", &ps->zone->file, ps->line,
                           &ps->entry, (size_t) (p - buf), buf);

    } else {
        ngx_conf_log_error(NGX_LOG_EMERG, ps->cf, 0,
                           "embed_session_api_keys: \"%V\", line %ui: %*s",
                           &ps->zone->file, ps->line, (size_t) (p - buf),
                           buf);
    }

    return NGX_CONF_ERROR;
}


/* the reason of a line's failure, NUL-terminated in kl->err */

ngx_int_t
ngx_http_es_keyfile_fail(ngx_http_es_keyfile_line_t *kl, const char *fmt,
    ...)
{
    u_char   *p;
    va_list   args;

    if (kl->err_len == 0) {
        return NGX_ERROR;
    }

    va_start(args, fmt);
    p = ngx_vslprintf(kl->err, kl->err + kl->err_len - 1, fmt, args);
    va_end(args);

    *p = '\0';

    return NGX_ERROR;
}


static ngx_int_t
ngx_http_es_keyfile_put(ngx_http_es_api_rec_t *rec, ngx_uint_t n, u_char *p,
    size_t len)
{
    if (rec->len + len > NGX_HTTP_ES_API_RECORD_MAX) {
        return NGX_ERROR;
    }

    rec->str[n].off = (u_short) rec->len;
    rec->str[n].len = (u_short) len;

    ngx_memcpy(rec->data + rec->len, p, len);
    rec->len += len;

    return NGX_OK;
}


/* [A-Za-z0-9_.:-]{1,max} */

static ngx_int_t
ngx_http_es_keyfile_is_item(ngx_str_t *s, size_t max)
{
    size_t  i;

    if (s->len == 0 || s->len > max) {
        return NGX_DECLINED;
    }

    for (i = 0; i < s->len; i++) {
        if (!isalnum(s->data[i]) && s->data[i] != '_' && s->data[i] != '.'
            && s->data[i] != ':' && s->data[i] != '-')
        {
            return NGX_DECLINED;
        }
    }

    return NGX_OK;
}


/* a value quoted in a message, unless it looks like a raw key */

static ngx_str_t *
ngx_http_es_keyfile_shown(ngx_str_t *value)
{
    static ngx_str_t  hidden = ngx_string("(not shown: looks like a raw key)");

    if (ngx_http_es_api_is_raw_key(value->data, value->len)) {
        return &hidden;
    }

    return value;
}


/* PREFIX ([A-Za-z0-9_]* ending in "_", or empty) + 40 of [A-Za-z0-9] */

ngx_int_t
ngx_http_es_api_is_raw_key(u_char *p, size_t len)
{
    size_t  i, random;

    if (len < NGX_HTTP_ES_API_KEY_RANDOM || len > NGX_HTTP_ES_API_KEY_MAX) {
        return 0;
    }

    random = 0;

    for (i = 0; i < len; i++) {
        if (p[i] == '_') {
            random = 0;
            continue;
        }

        if (!isalnum(p[i])) {
            return 0;
        }

        random++;
    }

    return random == NGX_HTTP_ES_API_KEY_RANDOM;
}
