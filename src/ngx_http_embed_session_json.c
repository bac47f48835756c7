
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


ngx_http_es_json_t *
ngx_http_es_json_parse(const unsigned char *buf, size_t len, char *err,
    size_t err_len)
{
    char          *p;
    json_t        *root;
    size_t         members;
    json_error_t   jerr;

    root = json_loadb((const char *) buf, len,
                      JSON_REJECT_DUPLICATES|JSON_DECODE_ANY, &jerr);

    if (root == NULL) {
        snprintf(err, err_len, "line %d, column %d: %s",
                 jerr.line, jerr.column, jerr.text);

        /* jansson quotes the input: keep a client's bytes out of logs */

        for (p = err; *p; p++) {
            if (*p < 0x20 || *p >= 0x7f) {
                *p = '?';
            }
        }

        return NULL;
    }

    members = 0;

    if (!ngx_http_es_json_limits((ngx_http_es_json_t *) root, 1,
                                 NGX_HTTP_ES_JSON_MAX_DEPTH,
                                 NGX_HTTP_ES_JSON_MAX_MEMBERS, &members))
    {
        snprintf(err, err_len, "nested deeper than %d or more than %d "
                 "members", NGX_HTTP_ES_JSON_MAX_DEPTH,
                 NGX_HTTP_ES_JSON_MAX_MEMBERS);
        json_decref(root);
        return NULL;
    }

    return (ngx_http_es_json_t *) root;
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
    return (ngx_http_es_json_t *) json_stringn((const char *) s, len);
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
ngx_http_es_json_append(ngx_http_es_json_t *array, ngx_http_es_json_t *value)
{
    return json_array_append_new(ngx_http_es_j(array), ngx_http_es_j(value))
           == 0 ? 0 : -1;
}


typedef struct {
    unsigned char  *buf;
    size_t          size;
    size_t          len;
} ngx_http_es_json_out_t;


static int
ngx_http_es_json_write(const char *s, size_t len, void *data)
{
    ngx_http_es_json_out_t  *out = data;

    if (out->len + len <= out->size) {
        memcpy(out->buf + out->len, s, len);
    }

    out->len += len;

    return 0;
}


size_t
ngx_http_es_json_dump(const ngx_http_es_json_t *json, unsigned char *buf,
    size_t size)
{
    ngx_http_es_json_out_t  out;

    out.buf = buf;
    out.size = buf ? size : 0;
    out.len = 0;

    if (json_dump_callback(ngx_http_es_j(json), ngx_http_es_json_write, &out,
                           JSON_COMPACT|JSON_ENCODE_ANY|JSON_PRESERVE_ORDER)
        != 0)
    {
        return 0;
    }

    return out.len;
}


size_t
ngx_http_es_json_quote(const unsigned char *s, size_t len,
    unsigned char *dst, size_t size)
{
    size_t   n;
    json_t  *j;

    j = json_stringn((const char *) s, len);
    if (j == NULL) {
        return 0;
    }

    n = ngx_http_es_json_dump((ngx_http_es_json_t *) j, dst, size);

    json_decref(j);

    return n;
}
