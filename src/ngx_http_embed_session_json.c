
/*
 * Copyright (C) The ngx_http_embed_session_module authors
 *
 * An ngx_http_es_json_t is a jansson json_t; only this file and the JWS
 * codec know that.
 */


#include <stdio.h>
#include <string.h>
#include <jansson.h>
#include "ngx_http_embed_session_json.h"


#define ngx_http_es_j(json)   ((json_t *) (json))

/* a byte a log line shows as it is */
#define ngx_http_es_json_plain(c)                                            \
    ((c) >= 0x20 && (c) < 0x7f && (c) != '"' && (c) != '\\')


ngx_http_es_json_t *
ngx_http_es_json_parse(const unsigned char *buf, size_t len, char *err,
    size_t err_len)
{
    int            n;
    char           text[JSON_ERROR_TEXT_LENGTH + 64];
    json_t        *root;
    size_t         members;
    json_error_t   jerr;

    root = json_loadb((const char *) buf, len,
                      JSON_REJECT_DUPLICATES|JSON_DECODE_ANY, &jerr);

    if (root == NULL) {
        n = snprintf(text, sizeof(text), "line %d, column %d: %s",
                     jerr.line, jerr.column, jerr.text);
        goto failed;
    }

    members = 0;

    if (!ngx_http_es_json_limits((ngx_http_es_json_t *) root, 1,
                                 NGX_HTTP_ES_JSON_MAX_DEPTH,
                                 NGX_HTTP_ES_JSON_MAX_MEMBERS, &members))
    {
        n = snprintf(text, sizeof(text), "nested deeper than %d or more "
                     "than %d members", NGX_HTTP_ES_JSON_MAX_DEPTH,
                     NGX_HTTP_ES_JSON_MAX_MEMBERS);
        json_decref(root);
        goto failed;
    }

    return (ngx_http_es_json_t *) root;

failed:

    if (n < 0) {
        n = 0;

    } else if ((size_t) n >= sizeof(text)) {
        n = sizeof(text) - 1;
    }

    /* jansson quotes the input: a client's bytes go to logs escaped */

    (void) ngx_http_es_json_printable((unsigned char *) err, err_len,
                                      (unsigned char *) text, n);

    return NULL;
}


int
ngx_http_es_json_limits(const ngx_http_es_json_t *json, int depth,
    int max_depth, size_t max_members, size_t *members)
{
    size_t       i;
    json_t      *j, *v;
    const char  *name;

    if (depth > max_depth) {
        return 0;
    }

    j = ngx_http_es_j(json);

    if (json_is_object(j)) {
        *members += json_object_size(j);

        if (*members > max_members) {
            return 0;
        }

        json_object_foreach(j, name, v) {
            if (!ngx_http_es_json_limits((ngx_http_es_json_t *) v, depth + 1,
                                         max_depth, max_members, members))
            {
                return 0;
            }
        }

    } else if (json_is_array(j)) {
        *members += json_array_size(j);

        if (*members > max_members) {
            return 0;
        }

        json_array_foreach(j, i, v) {
            if (!ngx_http_es_json_limits((ngx_http_es_json_t *) v, depth + 1,
                                         max_depth, max_members, members))
            {
                return 0;
            }
        }
    }

    return 1;
}


ngx_http_es_json_t *
ngx_http_es_json_ref(ngx_http_es_json_t *json)
{
    return (ngx_http_es_json_t *) json_incref(ngx_http_es_j(json));
}


void
ngx_http_es_json_free(ngx_http_es_json_t *json)
{
    json_decref(ngx_http_es_j(json));
}


ngx_http_es_json_type_t
ngx_http_es_json_type(const ngx_http_es_json_t *json)
{
    switch (json_typeof(ngx_http_es_j(json))) {

    case JSON_OBJECT:
        return NGX_HTTP_ES_JSON_OBJECT;

    case JSON_ARRAY:
        return NGX_HTTP_ES_JSON_ARRAY;

    case JSON_STRING:
        return NGX_HTTP_ES_JSON_STRING;

    case JSON_INTEGER:
        return NGX_HTTP_ES_JSON_INTEGER;

    case JSON_REAL:
        return NGX_HTTP_ES_JSON_REAL;

    case JSON_TRUE:
    case JSON_FALSE:
        return NGX_HTTP_ES_JSON_BOOLEAN;

    default:
        return NGX_HTTP_ES_JSON_NULL;
    }
}


ngx_http_es_json_t *
ngx_http_es_json_get(const ngx_http_es_json_t *object,
    const unsigned char *name, size_t len)
{
    char  key[256];

    if (len >= sizeof(key) || memchr(name, '\0', len) != NULL) {
        return NULL;
    }

    memcpy(key, name, len);
    key[len] = '\0';

    return (ngx_http_es_json_t *) json_object_get(ngx_http_es_j(object), key);
}


size_t
ngx_http_es_json_size(const ngx_http_es_json_t *json)
{
    json_t  *j;

    j = ngx_http_es_j(json);

    return json_is_object(j) ? json_object_size(j) : json_array_size(j);
}


ngx_http_es_json_t *
ngx_http_es_json_at(const ngx_http_es_json_t *array, size_t i)
{
    return (ngx_http_es_json_t *) json_array_get(ngx_http_es_j(array), i);
}


const unsigned char *
ngx_http_es_json_string(const ngx_http_es_json_t *json, size_t *len)
{
    json_t  *j;

    j = ngx_http_es_j(json);

    if (!json_is_string(j)) {
        *len = 0;
        return NULL;
    }

    *len = json_string_length(j);

    return (const unsigned char *) json_string_value(j);
}


int64_t
ngx_http_es_json_integer(const ngx_http_es_json_t *json)
{
    return (int64_t) json_integer_value(ngx_http_es_j(json));
}


int
ngx_http_es_json_true(const ngx_http_es_json_t *json)
{
    return json_is_true(ngx_http_es_j(json));
}


void *
ngx_http_es_json_iter(const ngx_http_es_json_t *object)
{
    return json_object_iter(ngx_http_es_j(object));
}


void *
ngx_http_es_json_iter_next(const ngx_http_es_json_t *object, void *iter)
{
    return json_object_iter_next(ngx_http_es_j(object), iter);
}


const unsigned char *
ngx_http_es_json_iter_key(void *iter, size_t *len)
{
    const char  *key;

    key = json_object_iter_key(iter);
    *len = strlen(key);

    return (const unsigned char *) key;
}


ngx_http_es_json_t *
ngx_http_es_json_iter_value(void *iter)
{
    return (ngx_http_es_json_t *) json_object_iter_value(iter);
}


ngx_http_es_json_t *
ngx_http_es_json_object(void)
{
    return (ngx_http_es_json_t *) json_object();
}


ngx_http_es_json_t *
ngx_http_es_json_array(void)
{
    return (ngx_http_es_json_t *) json_array();
}


ngx_http_es_json_t *
ngx_http_es_json_new_string(const unsigned char *s, size_t len)
{
    if (len == 0) {
        s = (const unsigned char *) "";     /* an empty string may be NULL */
    }

    return (ngx_http_es_json_t *) json_stringn((const char *) s, len);
}


ngx_http_es_json_t *
ngx_http_es_json_new_ascii(const unsigned char *s, size_t len)
{
    if (len == 0) {
        s = (const unsigned char *) "";
    }

    return (ngx_http_es_json_t *) json_stringn_nocheck((const char *) s, len);
}


ngx_http_es_json_t *
ngx_http_es_json_new_integer(int64_t value)
{
    return (ngx_http_es_json_t *) json_integer((json_int_t) value);
}


ngx_http_es_json_t *
ngx_http_es_json_new_boolean(int value)
{
    return (ngx_http_es_json_t *) json_boolean(value);
}


int
ngx_http_es_json_set(ngx_http_es_json_t *object, const unsigned char *path,
    size_t len, ngx_http_es_json_t *value)
{
    char                  key[256];
    size_t                n;
    json_t               *obj, *next;
    const unsigned char  *p, *dot, *end;

    end = path + len;

    /* every part non-empty, shorter than key[], no NUL: checked first */

    for (p = path; p <= end; p = dot + 1) {
        dot = memchr(p, '.', end - p);
        n = (dot ? dot : end) - p;

        if (n == 0 || n >= sizeof(key) || memchr(p, '\0', n) != NULL) {
            goto failed;
        }

        if (dot == NULL) {
            break;
        }
    }

    obj = ngx_http_es_j(object);

    for ( ;; ) {
        dot = memchr(path, '.', end - path);
        n = (dot ? dot : end) - path;

        if (!json_is_object(obj)) {
            goto failed;
        }

        memcpy(key, path, n);
        key[n] = '\0';

        if (dot == NULL) {
            return json_object_set_new(obj, key, ngx_http_es_j(value)) == 0
                   ? 0 : -1;
        }

        next = json_object_get(obj, key);

        if (next == NULL) {
            next = json_object();

            if (json_object_set_new(obj, key, next) != 0) {
                goto failed;
            }
        }

        obj = next;
        path = dot + 1;
    }

failed:

    json_decref(ngx_http_es_j(value));

    return -1;
}


int
ngx_http_es_json_update(ngx_http_es_json_t *object,
    const ngx_http_es_json_t *from)
{
    return json_object_update(ngx_http_es_j(object),
                              ngx_http_es_j(from))
           == 0 ? 0 : -1;
}


int
ngx_http_es_json_append(ngx_http_es_json_t *array, ngx_http_es_json_t *value)
{
    return json_array_append_new(ngx_http_es_j(array), ngx_http_es_j(value))
           == 0 ? 0 : -1;
}


/*
 * Serialization: compact, members in document order, strings escaped as
 * jansson escapes them (quote, backslash, control characters; UTF-8 as
 * is).  jansson's json_dump_callback() calls back for every few bytes: it
 * cost about half of all a mint does.
 */

typedef struct {
    unsigned char  *p;
    unsigned char  *end;
    size_t          len;
} ngx_http_es_json_out_t;


static void
ngx_http_es_json_put(ngx_http_es_json_out_t *out, const void *s, size_t n)
{
    if (out->p && (size_t) (out->end - out->p) >= n) {
        memcpy(out->p, s, n);
        out->p += n;

    } else {
        out->p = NULL;
    }

    out->len += n;
}


static void
ngx_http_es_json_put_string(ngx_http_es_json_out_t *out,
    const unsigned char *s, size_t n)
{
    unsigned char         c, esc[6];
    const unsigned char  *run, *last;

    static const char  hex[] = "0123456789ABCDEF";

    /* 1: the byte is written escaped (control characters, '"', '\\') */

    static const unsigned char  escaped[256] = {
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
        0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0
    };

    ngx_http_es_json_put(out, "\"", 1);

    last = s + n;
    run = s;

    for ( /* void */ ; s < last; s++) {
        c = *s;

        if (!escaped[c]) {
            continue;
        }

        ngx_http_es_json_put(out, run, s - run);
        run = s + 1;

        esc[0] = '\\';
        esc[1] = c;

        switch (c) {

        case '"':
        case '\\':
            break;

        case '\b':
            esc[1] = 'b';
            break;

        case '\f':
            esc[1] = 'f';
            break;

        case '\n':
            esc[1] = 'n';
            break;

        case '\r':
            esc[1] = 'r';
            break;

        case '\t':
            esc[1] = 't';
            break;

        default:
            esc[1] = 'u';
            esc[2] = '0';
            esc[3] = '0';
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 0xf];
            ngx_http_es_json_put(out, esc, 6);
            continue;
        }

        ngx_http_es_json_put(out, esc, 2);
    }

    ngx_http_es_json_put(out, run, s - run);
    ngx_http_es_json_put(out, "\"", 1);
}


static int
ngx_http_es_json_itoa(char *buf, json_int_t v)
{
    int                 n, i;
    char                tmp[24];
    unsigned long long  u;

    n = 0;
    u = (v < 0) ? 0ULL - (unsigned long long) v : (unsigned long long) v;

    do {
        tmp[n++] = (char) ('0' + u % 10);
        u /= 10;
    } while (u);

    i = 0;

    if (v < 0) {
        buf[i++] = '-';
    }

    while (n) {
        buf[i++] = tmp[--n];
    }

    buf[i] = '\0';

    return i;
}


static int
ngx_http_es_json_put_value(ngx_http_es_json_out_t *out, json_t *j)
{
    int          n;
    char         num[40], *e, *d;
    size_t       i;
    void        *it;
    json_t      *v;
    const char  *key;

    switch (json_typeof(j)) {

    case JSON_OBJECT:
        ngx_http_es_json_put(out, "{", 1);

        for (it = json_object_iter(j), i = 0;
             it;
             it = json_object_iter_next(j, it), i++)
        {
            if (i) {
                ngx_http_es_json_put(out, ",", 1);
            }

            key = json_object_iter_key(it);
            ngx_http_es_json_put_string(out, (const unsigned char *) key,
                                        strlen(key));
            ngx_http_es_json_put(out, ":", 1);

            if (ngx_http_es_json_put_value(out, json_object_iter_value(it))
                != 0)
            {
                return -1;
            }
        }

        ngx_http_es_json_put(out, "}", 1);
        return 0;

    case JSON_ARRAY:
        ngx_http_es_json_put(out, "[", 1);

        json_array_foreach(j, i, v) {
            if (i) {
                ngx_http_es_json_put(out, ",", 1);
            }

            if (ngx_http_es_json_put_value(out, v) != 0) {
                return -1;
            }
        }

        ngx_http_es_json_put(out, "]", 1);
        return 0;

    case JSON_STRING:
        ngx_http_es_json_put_string(out, (const unsigned char *)
                                             json_string_value(j),
                                    json_string_length(j));
        return 0;

    case JSON_INTEGER:
        n = ngx_http_es_json_itoa(num, json_integer_value(j));
        break;

    case JSON_REAL:

        /* as jansson writes it: 17 digits, and a real stays a real */

        n = snprintf(num, sizeof(num) - 2, "%.17g", json_real_value(j));

        if (n <= 0 || n >= (int) sizeof(num) - 2) {
            return -1;
        }

        if (strspn(num, "-0123456789") == (size_t) n) {
            num[n++] = '.';
            num[n++] = '0';
            break;
        }

        /* the exponent without "+" and leading zeros: "1e+022" is "1e22" */

        e = strchr(num, 'e');

        if (e) {
            e++;
            d = e;

            if (*e == '-') {
                d = ++e;
            }

            if (*e == '+') {
                e++;
            }

            while (*e == '0' && e[1] != '\0') {
                e++;
            }

            memmove(d, e, strlen(e) + 1);
            n = (int) strlen(num);
        }

        break;

    case JSON_TRUE:
        ngx_http_es_json_put(out, "true", 4);
        return 0;

    case JSON_FALSE:
        ngx_http_es_json_put(out, "false", 5);
        return 0;

    default:
        ngx_http_es_json_put(out, "null", 4);
        return 0;
    }

    if (n <= 0 || n >= (int) sizeof(num)) {
        return -1;
    }

    ngx_http_es_json_put(out, num, n);

    return 0;
}


size_t
ngx_http_es_json_dump(const ngx_http_es_json_t *json, unsigned char *buf,
    size_t size)
{
    ngx_http_es_json_out_t  out;

    out.p = buf;
    out.end = buf ? buf + size : NULL;
    out.len = 0;

    if (ngx_http_es_json_put_value(&out, ngx_http_es_j(json)) != 0) {
        return 0;
    }

    return out.len;
}


size_t
ngx_http_es_json_quote(const unsigned char *s, size_t len,
    unsigned char *dst, size_t size)
{
    ngx_http_es_json_out_t  out;

    if (!ngx_http_es_json_utf8(s, len)) {
        return 0;
    }

    out.p = dst;
    out.end = dst ? dst + size : NULL;
    out.len = 0;

    ngx_http_es_json_put_string(&out, s, len);

    return out.len;
}


/* well-formed UTF-8 (RFC 3629): no overlong forms, surrogates or > U+10FFFF */

int
ngx_http_es_json_utf8(const unsigned char *s, size_t len)
{
    size_t               n, i;
    uint32_t             c, min;
    const unsigned char  *last;

    last = s + len;

    while (s < last) {
        c = *s++;

        if (c < 0x80) {
            continue;
        }

        if (c >= 0xc2 && c <= 0xdf) {
            n = 1;
            c &= 0x1f;
            min = 0x80;

        } else if (c >= 0xe0 && c <= 0xef) {
            n = 2;
            c &= 0x0f;
            min = 0x800;

        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 3;
            c &= 0x07;
            min = 0x10000;

        } else {
            return 0;
        }

        if ((size_t) (last - s) < n) {
            return 0;
        }

        for (i = 0; i < n; i++) {
            if ((s[i] & 0xc0) != 0x80) {
                return 0;
            }

            c = (c << 6) | (s[i] & 0x3f);
        }

        s += n;

        if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) {
            return 0;
        }
    }

    return 1;
}


size_t
ngx_http_es_json_printable(unsigned char *dst, size_t size,
    const unsigned char *s, size_t len)
{
    size_t          i, n, need, room;
    unsigned char   c;

    static const char  hex[] = "0123456789ABCDEF";

    if (size == 0) {
        return 0;
    }

    need = 0;

    for (i = 0; i < len; i++) {
        c = s[i];
        need += ngx_http_es_json_plain(c) ? 1 : 4;
    }

    /* all of it, or as much as leaves room for "..." */

    room = size - 1;

    if (need > room) {
        room = (room > 3) ? room - 3 : 0;
    }

    n = 0;

    for (i = 0; i < len; i++) {
        c = s[i];

        if (ngx_http_es_json_plain(c)) {
            if (n + 1 > room) {
                break;
            }

            dst[n++] = c;
            continue;
        }

        if (n + 4 > room) {
            break;
        }

        dst[n++] = '\\';
        dst[n++] = 'x';
        dst[n++] = hex[c >> 4];
        dst[n++] = hex[c & 0x0f];
    }

    if (i < len) {
        for (i = 0; i < 3 && n < size - 1; i++) {
            dst[n++] = '.';
        }
    }

    dst[n] = '\0';

    return n;
}
