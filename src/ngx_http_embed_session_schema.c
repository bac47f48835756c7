
/*
 * Copyright (C) The ngx_http_embed_session_module authors
 *
 * The mint request body's schema: embed_session_field, its parsing at
 * configuration time and the validation of a body against the fields of
 * the location (types, bounds, enums, patterns, formats, defaults,
 * required_if= and excludes=, unknown members).
 */


#include "ngx_http_embed_session_module.h"
#include "ngx_http_embed_session_json.h"
#include "ngx_http_embed_session_mint.h"
#include "ngx_http_embed_session_origin.h"


#define NGX_HTTP_ES_FORMAT_EMAIL      1
#define NGX_HTTP_ES_FORMAT_URL        2


/*
 * embed_session_field PATH TYPE [OPTION ...]: the options, each a word
 * ("required") or a name and a value ("min=1"); a parser returns NGX_OK,
 * NGX_ERROR when it logged why, or NGX_DECLINED for an invalid option
 */

typedef ngx_int_t (*ngx_http_es_field_parse_pt)(ngx_conf_t *cf,
    ngx_http_es_mint_conf_t *mcf, ngx_http_es_field_t *f, ngx_str_t *v);

typedef struct {
    ngx_str_t                   name;       /* "min=": a value follows */
    ngx_http_es_field_parse_pt  parse;
} ngx_http_es_field_option_t;


static ngx_int_t ngx_http_es_mint_field(ngx_http_es_mint_t *m, ngx_uint_t i);
static ngx_int_t ngx_http_es_mint_unstring(ngx_http_es_mint_t *m,
    ngx_uint_t i, ngx_http_es_json_t *parent, ngx_http_es_json_t **v);
static ngx_int_t ngx_http_es_mint_check(ngx_http_es_mint_t *m,
    ngx_http_es_field_t *f, ngx_http_es_json_t *v);
static ngx_int_t ngx_http_es_mint_array(ngx_http_es_mint_t *m,
    ngx_http_es_field_t *f, ngx_http_es_json_t *v);
static ngx_int_t ngx_http_es_mint_string(ngx_http_es_mint_t *m,
    ngx_http_es_field_t *f, ngx_str_t *path, ngx_http_es_json_t *v);
static ngx_int_t ngx_http_es_mint_origin(ngx_http_es_mint_t *m,
    ngx_str_t *path, ngx_http_es_json_t *v);
static ngx_int_t ngx_http_es_mint_unknown(ngx_http_es_mint_t *m,
    ngx_int_t parent, ngx_http_es_json_t *obj);
static ngx_http_es_json_t *ngx_http_es_mint_default(ngx_http_es_field_t *f);

static ngx_http_es_field_t *ngx_http_es_field_add(ngx_conf_t *cf,
    ngx_http_es_mint_conf_t *mcf, ngx_str_t *path);
static ngx_int_t ngx_http_es_field_required(ngx_conf_t *cf,
    ngx_http_es_mint_conf_t *mcf, ngx_http_es_field_t *f, ngx_str_t *v);
static ngx_int_t ngx_http_es_field_null(ngx_conf_t *cf,
    ngx_http_es_mint_conf_t *mcf, ngx_http_es_field_t *f, ngx_str_t *v);
static ngx_int_t ngx_http_es_field_ttl(ngx_conf_t *cf,
    ngx_http_es_mint_conf_t *mcf, ngx_http_es_field_t *f, ngx_str_t *v);
static ngx_int_t ngx_http_es_field_stringified(ngx_conf_t *cf,
    ngx_http_es_mint_conf_t *mcf, ngx_http_es_field_t *f, ngx_str_t *v);
static ngx_int_t ngx_http_es_field_resource(ngx_conf_t *cf,
    ngx_http_es_mint_conf_t *mcf, ngx_http_es_field_t *f, ngx_str_t *v);
static ngx_int_t ngx_http_es_field_min(ngx_conf_t *cf,
    ngx_http_es_mint_conf_t *mcf, ngx_http_es_field_t *f, ngx_str_t *v);
static ngx_int_t ngx_http_es_field_max(ngx_conf_t *cf,
    ngx_http_es_mint_conf_t *mcf, ngx_http_es_field_t *f, ngx_str_t *v);
static ngx_int_t ngx_http_es_field_enum(ngx_conf_t *cf,
    ngx_http_es_mint_conf_t *mcf, ngx_http_es_field_t *f, ngx_str_t *v);
static ngx_int_t ngx_http_es_field_pattern(ngx_conf_t *cf,
    ngx_http_es_mint_conf_t *mcf, ngx_http_es_field_t *f, ngx_str_t *v);
static ngx_int_t ngx_http_es_field_format(ngx_conf_t *cf,
    ngx_http_es_mint_conf_t *mcf, ngx_http_es_field_t *f, ngx_str_t *v);
static ngx_int_t ngx_http_es_field_default(ngx_conf_t *cf,
    ngx_http_es_mint_conf_t *mcf, ngx_http_es_field_t *f, ngx_str_t *v);
static ngx_int_t ngx_http_es_field_claim(ngx_conf_t *cf,
    ngx_http_es_mint_conf_t *mcf, ngx_http_es_field_t *f, ngx_str_t *v);
static ngx_int_t ngx_http_es_field_required_if(ngx_conf_t *cf,
    ngx_http_es_mint_conf_t *mcf, ngx_http_es_field_t *f, ngx_str_t *v);
static ngx_int_t ngx_http_es_field_excludes(ngx_conf_t *cf,
    ngx_http_es_mint_conf_t *mcf, ngx_http_es_field_t *f, ngx_str_t *v);
static char *ngx_http_es_field_consistent(ngx_conf_t *cf,
    ngx_http_es_field_t *f);
static ngx_int_t ngx_http_es_field_default_fits(ngx_conf_t *cf,
    ngx_http_es_field_t *f);


ngx_str_t  ngx_http_es_field_types[] = {
    ngx_string("string"),
    ngx_string("integer"),
    ngx_string("number"),
    ngx_string("boolean"),
    ngx_string("object"),
    ngx_string("array"),
    ngx_string("strings"),
    ngx_string("origins"),
    ngx_null_string
};


/* the schema */

ngx_int_t
ngx_http_es_mint_validate(ngx_http_es_mint_t *m)
{
    ngx_uint_t            i;
    ngx_http_es_field_t  *f;

    if (ngx_http_es_json_type(m->root) != NGX_HTTP_ES_JSON_OBJECT) {
        return ngx_http_es_mint_detail(m, NULL, "must be a JSON object");
    }

    if (m->mcf->unknown_reject
        && ngx_http_es_mint_unknown(m, -1, m->root) != NGX_OK)
    {
        return NGX_ERROR;
    }

    f = m->mcf->fields.elts;

    for (i = 0; i < m->mcf->fields.nelts; i++) {
        if (ngx_http_es_mint_field(m, i) != NGX_OK) {
            return NGX_ERROR;
        }

        ngx_log_debug3(NGX_LOG_DEBUG_HTTP, m->request->connection->log, 0,
                       "embed_session: mint: field %ui \"%V\" checked, %s",
                       i, &f[i].path, m->values[i] ? "present" : "absent");

        if (f[i].has_children && m->values[i] && m->mcf->unknown_reject
            && ngx_http_es_json_type(m->values[i]) == NGX_HTTP_ES_JSON_OBJECT
            && ngx_http_es_mint_unknown(m, i, m->values[i]) != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_es_mint_field(ngx_http_es_mint_t *m, ngx_uint_t i)
{
    ngx_http_es_json_t   *parent, *v, *other;
    ngx_http_es_field_t  *f, *fields;

    fields = m->mcf->fields.elts;
    f = &fields[i];

    parent = (f->parent == -1) ? m->root : m->values[f->parent];

    if (parent == NULL
        || ngx_http_es_json_type(parent) != NGX_HTTP_ES_JSON_OBJECT)
    {
        return NGX_OK;
    }

    v = ngx_http_es_json_get(parent, f->name.data, f->name.len);

    if (v && ngx_http_es_json_type(v) == NGX_HTTP_ES_JSON_NULL
        && f->nullable)
    {
        v = NULL;
    }

    if (v == NULL) {

        if (f->required) {
            return ngx_http_es_mint_detail(m, &f->path, "is required");
        }

        other = (f->required_if_field == -1)
                ? NULL : m->values[f->required_if_field];

        /* a key bound to resources asks for them all by saying nothing */

        if (f->resource && m->key->resources.nelts) {
            v = ngx_http_es_mint_strings(&m->key->resources);

        } else if (other
                   && ngx_http_es_mint_value_is(other, &f->required_if_value))
        {
            return ngx_http_es_mint_detail(m, &f->path,
                                           "is required when %V is %V",
                                           &fields[f->required_if_field].path,
                                           &f->required_if_value);

        } else if (f->has_default) {
            v = ngx_http_es_mint_default(f);

        } else {
            return NGX_OK;
        }

        if (v == NULL || ngx_http_es_json_append(m->owned, v) != 0) {
            return NGX_ERROR;
        }

        m->values[i] = v;

        /* the default is part of its object: echoes and claims show it */

        if (ngx_http_es_json_set(parent, f->name.data, f->name.len,
                                 ngx_http_es_json_ref(v))
            != 0)
        {
            return NGX_ERROR;
        }

        return NGX_OK;
    }

    if (f->excludes_field != -1 && m->values[f->excludes_field]) {
        return ngx_http_es_mint_detail(m, &f->path,
                                       "cannot be sent together with %V",
                                       &fields[f->excludes_field].path);
    }

    if (f->stringified
        && ngx_http_es_json_type(v) == NGX_HTTP_ES_JSON_STRING)
    {
        if (ngx_http_es_mint_unstring(m, i, parent, &v) != NGX_OK) {
            return NGX_ERROR;
        }

        if (v == NULL) {
            return NGX_OK;      /* a detail says why */
        }
    }

    if (ngx_http_es_mint_check(m, f, v) != NGX_OK) {
        return NGX_ERROR;
    }

    m->values[i] = v;

    return NGX_OK;
}


/*
 * "stringified": an integer sent as the string of its decimal digits
 * ("900"), an array sent as the string of its JSON text ("[\"a\"]"), as
 * schemas that type such fields "string" describe them.  The value decoded
 * takes the string's place in its object, so that the checks, the claims
 * and the echoes see what an unquoted value would have given.  A string
 * that holds no such value: a detail, and *v is NULL.
 */

static ngx_int_t
ngx_http_es_mint_unstring(ngx_http_es_mint_t *m, ngx_uint_t i,
    ngx_http_es_json_t *parent, ngx_http_es_json_t **v)
{
    u_char                *p, *last;
    char                   err[128];
    int64_t                n;
    ngx_str_t              s;
    ngx_uint_t             neg;
    ngx_http_es_json_t    *d;
    ngx_http_es_field_t   *f;

    f = (ngx_http_es_field_t *) m->mcf->fields.elts + i;

    s.data = (u_char *) ngx_http_es_json_string(*v, &s.len);

    if (f->type == NGX_HTTP_ES_FIELD_INTEGER) {

        /* JSON's integer syntax: -?(0|[1-9][0-9]*), within int64 */

        p = s.data;
        last = s.data + s.len;
        neg = (p < last && *p == '-');
        p += neg;

        if (p == last || (*p == '0' && last - p > 1) || last - p > 18) {
            goto not_integer;
        }

        for (n = 0; p < last; p++) {
            if (*p < '0' || *p > '9') {
                goto not_integer;
            }

            n = n * 10 + (*p - '0');
        }

        d = ngx_http_es_json_new_integer(neg ? -n : n);

    } else {
        d = ngx_http_es_json_parse(s.data, s.len, err, sizeof(err));

        if (d && ngx_http_es_json_type(d) != NGX_HTTP_ES_JSON_ARRAY) {
            ngx_http_es_json_free(d);
            d = NULL;
        }

        if (d == NULL) {
            *v = NULL;
            return ngx_http_es_mint_detail(m, &f->path, "must be an array "
                                           "(or a string holding one in "
                                           "JSON)");
        }
    }

    if (d == NULL || ngx_http_es_json_append(m->owned, d) != 0) {
        return NGX_ERROR;
    }

    if (ngx_http_es_json_set(parent, f->name.data, f->name.len,
                             ngx_http_es_json_ref(d))
        != 0)
    {
        return NGX_ERROR;
    }

    *v = d;

    return NGX_OK;

not_integer:

    *v = NULL;

    return ngx_http_es_mint_detail(m, &f->path, "must be an integer (or a "
                                   "string of its decimal digits)");
}


static ngx_int_t
ngx_http_es_mint_check(ngx_http_es_mint_t *m, ngx_http_es_field_t *f,
    ngx_http_es_json_t *v)
{
    int64_t                   value;
    ngx_http_es_json_type_t   type;

    type = ngx_http_es_json_type(v);

    switch (f->type) {

    case NGX_HTTP_ES_FIELD_STRING:
        if (type != NGX_HTTP_ES_JSON_STRING) {
            return ngx_http_es_mint_detail(m, &f->path, "must be a string");
        }

        return ngx_http_es_mint_string(m, f, &f->path, v);

    case NGX_HTTP_ES_FIELD_INTEGER:
        if (type != NGX_HTTP_ES_JSON_INTEGER) {
            return ngx_http_es_mint_detail(m, &f->path,
                                           "must be an integer");
        }

        value = ngx_http_es_json_integer(v);

        if (f->has_min && value < f->min) {
            return ngx_http_es_mint_detail(m, &f->path,
                                           "must be at least %i", f->min);
        }

        if (f->has_max && value > f->max) {
            return ngx_http_es_mint_detail(m, &f->path,
                                           "must be at most %i", f->max);
        }

        if (f->ttl && value <= 0) {
            return ngx_http_es_mint_detail(m, &f->path, "must be positive");
        }

        if (f->ttl && value > m->mcf->ttl_max) {
            return ngx_http_es_mint_detail(m, &f->path,
                                           "must be at most %T",
                                           m->mcf->ttl_max);
        }

        return NGX_OK;

    case NGX_HTTP_ES_FIELD_NUMBER:
        if (type != NGX_HTTP_ES_JSON_INTEGER && type != NGX_HTTP_ES_JSON_REAL)
        {
            return ngx_http_es_mint_detail(m, &f->path, "must be a number");
        }

        return NGX_OK;

    case NGX_HTTP_ES_FIELD_BOOLEAN:
        if (type != NGX_HTTP_ES_JSON_BOOLEAN) {
            return ngx_http_es_mint_detail(m, &f->path, "must be a boolean");
        }

        return NGX_OK;

    case NGX_HTTP_ES_FIELD_OBJECT:
        if (type != NGX_HTTP_ES_JSON_OBJECT) {
            return ngx_http_es_mint_detail(m, &f->path,
                                           "must be an object");
        }

        return NGX_OK;

    default: /* the array types */
        break;
    }

    if (type != NGX_HTTP_ES_JSON_ARRAY) {
        return ngx_http_es_mint_detail(m, &f->path, "must be an array");
    }

    return ngx_http_es_mint_array(m, f, v);
}


/* an array field: its size, and the items of "strings" and "origins" */

static ngx_int_t
ngx_http_es_mint_array(ngx_http_es_mint_t *m, ngx_http_es_field_t *f,
    ngx_http_es_json_t *v)
{
    size_t               n, i;
    ngx_str_t            path, *item;
    ngx_uint_t           count;
    ngx_http_es_json_t  *e;

    n = ngx_http_es_json_size(v);

    if (f->has_min && (ngx_int_t) n < f->min) {
        return ngx_http_es_mint_detail(m, &f->path,
                                       "must have at least %i item(s)",
                                       f->min);
    }

    if (f->has_max && (ngx_int_t) n > f->max) {
        return ngx_http_es_mint_detail(m, &f->path,
                                       "must have at most %i item(s)",
                                       f->max);
    }

    if (f->type == NGX_HTTP_ES_FIELD_ARRAY) {
        return NGX_OK;
    }

    count = m->details.nelts;

    for (i = 0; i < n; i++) {
        e = ngx_http_es_json_at(v, i);

        path.len = f->path.len + NGX_SIZE_T_LEN + 2;
        path.data = ngx_pnalloc(m->request->pool, path.len);
        if (path.data == NULL) {
            return NGX_ERROR;
        }

        path.len = ngx_sprintf(path.data, "%V[%uz]", &f->path, i)
                   - path.data;

        if (ngx_http_es_json_type(e) != NGX_HTTP_ES_JSON_STRING) {
            if (ngx_http_es_mint_detail(m, &path, "must be a string")
                != NGX_OK)
            {
                return NGX_ERROR;
            }

            continue;
        }

        if (f->type == NGX_HTTP_ES_FIELD_ORIGINS) {
            if (ngx_http_es_mint_origin(m, &path, e) != NGX_OK) {
                return NGX_ERROR;
            }

            continue;
        }

        if (ngx_http_es_mint_string(m, f, &path, e) != NGX_OK) {
            return NGX_ERROR;
        }

        if (f->resource && m->key->resources.nelts
            && m->details.nelts == count)
        {
            item = ngx_palloc(m->request->pool, sizeof(ngx_str_t));
            if (item == NULL) {
                return NGX_ERROR;
            }

            item->data = (u_char *) ngx_http_es_json_string(e, &item->len);

            if (!ngx_http_es_str_in(&m->key->resources, item)) {
                m->scope_denied = 1;
            }
        }
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_es_mint_string(ngx_http_es_mint_t *m, ngx_http_es_field_t *f,
    ngx_str_t *path, ngx_http_es_json_t *v)
{
#if (NGX_PCRE)
    int         captures[3];
#endif
    u_char     *at, *dot, *p, *last;
    size_t      chars;
    ngx_str_t   s;

    s.data = (u_char *) ngx_http_es_json_string(v, &s.len);

    /* the array types count items with min and max, not characters */

    if (f->type == NGX_HTTP_ES_FIELD_STRING) {
        chars = ngx_utf8_length(s.data, s.len);

        if (f->has_min && (ngx_int_t) chars < f->min) {
            return ngx_http_es_mint_detail(m, path,
                                           "must be at least %i "
                                           "character(s)", f->min);
        }

        if (f->has_max && (ngx_int_t) chars > f->max) {
            return ngx_http_es_mint_detail(m, path,
                                           "must be at most %i "
                                           "character(s)", f->max);
        }

    } else if (s.len == 0) {
        return ngx_http_es_mint_detail(m, path, "must not be empty");
    }

    if (f->enums && !ngx_http_es_str_in(f->enums, &s)) {
        return ngx_http_es_mint_detail(m, path, "must be one of the "
                                       "allowed values");
    }

#if (NGX_PCRE)

    /*
     * PCRE's "$" also matches before a final newline: a pattern that ends
     * with "$" must match up to the end of the string
     */

    if (f->pattern
        && (ngx_regex_exec(f->pattern, &s, captures, 3) < 0
            || (f->pattern_end && (size_t) captures[1] != s.len)))
    {
        return ngx_http_es_mint_detail(m, path, "does not match the "
                                       "pattern");
    }

#endif

    last = s.data + s.len;

    for (p = s.data; p < last; p++) {
        if (f->format && (*p <= ' ' || *p == 0x7f)) {
            goto bad_format;
        }
    }

    switch (f->format) {

    case NGX_HTTP_ES_FORMAT_EMAIL:
        at = ngx_strlchr(s.data, last, '@');

        if (s.len > 254 || at == NULL || at == s.data
            || ngx_strlchr(at + 1, last, '@') != NULL)
        {
            goto bad_format;
        }

        dot = ngx_strlchr(at + 1, last, '.');

        if (dot == NULL || dot == at + 1 || dot + 1 >= last
            || last[-1] == '.')
        {
            goto bad_format;
        }

        break;

    case NGX_HTTP_ES_FORMAT_URL:
        if (s.len > 2048) {
            goto bad_format;
        }

        if (s.len > 8 && ngx_strncasecmp(s.data, (u_char *) "https://", 8)
                         == 0)
        {
            p = s.data + 8;

        } else if (s.len > 7
                   && ngx_strncasecmp(s.data, (u_char *) "http://", 7) == 0)
        {
            p = s.data + 7;

        } else {
            goto bad_format;
        }

        if (*p == '/' || *p == '?' || *p == '#' || *p == '@') {
            goto bad_format;
        }

        break;

    default:
        break;
    }

    return NGX_OK;

bad_format:

    return ngx_http_es_mint_detail(m, path, "must be a valid %s",
                                   f->format == NGX_HTTP_ES_FORMAT_EMAIL
                                   ? "email address" : "http(s) URL");
}


static ngx_int_t
ngx_http_es_mint_origin(ngx_http_es_mint_t *m, ngx_str_t *path,
    ngx_http_es_json_t *v)
{
    ngx_str_t   s, *o;

    s.data = (u_char *) ngx_http_es_json_string(v, &s.len);

    o = ngx_array_push(&m->origins);
    if (o == NULL) {
        return NGX_ERROR;
    }

    o->data = ngx_pnalloc(m->request->pool, s.len + 1);
    if (o->data == NULL) {
        return NGX_ERROR;
    }

    if (s.len > 255 /* scheme, host name and port */
        || ngx_http_es_origin_normalize(o->data, &o->len, s.data, s.len, 0)
           != NGX_OK)
    {
        m->origins.nelts--;

        return ngx_http_es_mint_detail(m, path, "must be an exact origin "
                                       "(scheme://host[:port])");
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_es_mint_unknown(ngx_http_es_mint_t *m, ngx_int_t parent,
    ngx_http_es_json_t *obj)
{
    void                 *it;
    size_t                len;
    ngx_str_t             name, path;
    ngx_uint_t            i, found;
    ngx_http_es_field_t  *f;
    const unsigned char  *key;

    f = m->mcf->fields.elts;

    for (it = ngx_http_es_json_iter(obj);
         it;
         it = ngx_http_es_json_iter_next(obj, it))
    {
        key = ngx_http_es_json_iter_key(it, &len);

        found = 0;

        for (i = 0; i < m->mcf->fields.nelts; i++) {
            if (f[i].parent == parent && f[i].name.len == len
                && ngx_strncmp(f[i].name.data, key, len) == 0)
            {
                found = 1;
                break;
            }
        }

        if (found) {
            continue;
        }

        name.data = (u_char *) key;
        name.len = len;

        if (parent == -1) {
            path = name;

        } else {
            path.len = f[parent].path.len + 1 + len;
            path.data = ngx_pnalloc(m->request->pool, path.len);
            if (path.data == NULL) {
                return NGX_ERROR;
            }

            ngx_sprintf(path.data, "%V.%V", &f[parent].path, &name);
        }

        if (ngx_http_es_mint_detail(m, &path, "is not allowed") != NGX_OK) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_es_mint_detail(ngx_http_es_mint_t *m, ngx_str_t *path,
    char *fmt, ...)
{
    u_char                 buf[256], *p;
    va_list                args;
    ngx_http_es_detail_t  *d;

    if (m->details.nelts >= NGX_HTTP_ES_MINT_DETAILS_MAX) {
        return NGX_OK;
    }

    d = ngx_array_push(&m->details);
    if (d == NULL) {
        return NGX_ERROR;
    }

    if (path) {
        d->path = *path;

    } else {
        ngx_str_null(&d->path);
    }

    va_start(args, fmt);
    p = ngx_vslprintf(buf, buf + sizeof(buf), fmt, args);
    va_end(args);

    d->message.len = p - buf;
    d->message.data = buf;

    d->message.data = ngx_pstrdup(m->request->pool, &d->message);
    if (d->message.data == NULL) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* a field's value as configuration text: a string, an integer, a boolean */

ngx_int_t
ngx_http_es_mint_value_is(ngx_http_es_json_t *v, ngx_str_t *s)
{
    u_char     buf[NGX_INT64_LEN + 1];
    ngx_str_t  text;

    switch (ngx_http_es_json_type(v)) {

    case NGX_HTTP_ES_JSON_STRING:
        text.data = (u_char *) ngx_http_es_json_string(v, &text.len);
        break;

    case NGX_HTTP_ES_JSON_INTEGER:
        text.data = buf;
        text.len = ngx_sprintf(buf, "%L", ngx_http_es_json_integer(v)) - buf;
        break;

    case NGX_HTTP_ES_JSON_BOOLEAN:
        if (ngx_http_es_json_true(v)) {
            ngx_str_set(&text, "true");

        } else {
            ngx_str_set(&text, "false");
        }

        break;

    default:
        return 0;
    }

    return text.len == s->len && ngx_strncmp(text.data, s->data, s->len) == 0;
}


ngx_http_es_json_t *
ngx_http_es_mint_strings(ngx_array_t *a)
{
    ngx_str_t           *s;
    ngx_uint_t           i;
    ngx_http_es_json_t  *arr, *v;

    arr = ngx_http_es_json_array();
    if (arr == NULL) {
        return NULL;
    }

    s = a->elts;

    for (i = 0; i < a->nelts; i++) {
        v = ngx_http_es_mint_text(&s[i]);

        if (v == NULL || ngx_http_es_json_append(arr, v) != 0) {
            ngx_http_es_json_free(arr);
            return NULL;
        }
    }

    return arr;
}


static ngx_http_es_json_t *
ngx_http_es_mint_default(ngx_http_es_field_t *f)
{
    switch (f->type) {

    case NGX_HTTP_ES_FIELD_INTEGER:
    case NGX_HTTP_ES_FIELD_NUMBER:
        return ngx_http_es_json_new_integer(ngx_atoi(f->deflt.data,
                                                     f->deflt.len));

    case NGX_HTTP_ES_FIELD_BOOLEAN:
        return ngx_http_es_json_new_boolean(f->deflt.len == 4);

    case NGX_HTTP_ES_FIELD_OBJECT:
        return ngx_http_es_json_object();

    default:
        return ngx_http_es_mint_text(&f->deflt);
    }
}


ngx_http_es_json_t *
ngx_http_es_mint_text(ngx_str_t *s)
{
    return ngx_http_es_json_new_string(s->data, s->len);
}


ngx_int_t
ngx_http_es_str_in(ngx_array_t *a, ngx_str_t *s)
{
    ngx_str_t   *e;
    ngx_uint_t   i;

    e = a->elts;

    for (i = 0; i < a->nelts; i++) {
        if (e[i].len == s->len && ngx_strncmp(e[i].data, s->data, s->len) == 0)
        {
            return 1;
        }
    }

    return 0;
}


ngx_int_t
ngx_http_es_mint_field_index(ngx_http_es_mint_conf_t *mcf, ngx_str_t *path)
{
    ngx_uint_t            i;
    ngx_http_es_field_t  *f;

    f = mcf->fields.elts;

    for (i = 0; i < mcf->fields.nelts; i++) {
        if (f[i].path.len == path->len
            && ngx_strncmp(f[i].path.data, path->data, path->len) == 0)
        {
            return i;
        }
    }

    return -1;
}


static ngx_http_es_field_option_t  ngx_http_es_field_options[] = {
    { ngx_string("required"), ngx_http_es_field_required },
    { ngx_string("null"), ngx_http_es_field_null },
    { ngx_string("ttl"), ngx_http_es_field_ttl },
    { ngx_string("stringified"), ngx_http_es_field_stringified },
    { ngx_string("resource"), ngx_http_es_field_resource },
    { ngx_string("min="), ngx_http_es_field_min },
    { ngx_string("max="), ngx_http_es_field_max },
    { ngx_string("enum="), ngx_http_es_field_enum },
    { ngx_string("pattern="), ngx_http_es_field_pattern },
    { ngx_string("format="), ngx_http_es_field_format },
    { ngx_string("default="), ngx_http_es_field_default },
    { ngx_string("claim="), ngx_http_es_field_claim },
    { ngx_string("required_if="), ngx_http_es_field_required_if },
    { ngx_string("excludes="), ngx_http_es_field_excludes },
    { ngx_null_string, NULL }
};


char *
ngx_http_es_mint_field_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_es_loc_conf_t  *elcf = conf;

    ngx_str_t                   *value, v;
    ngx_int_t                    rc;
    ngx_uint_t                   i, k;
    ngx_http_es_field_t         *f;
    ngx_http_es_mint_conf_t     *mcf;
    ngx_http_es_field_option_t  *o;

    mcf = &elcf->mint;

    value = cf->args->elts;

    f = ngx_http_es_field_add(cf, mcf, &value[1]);
    if (f == NULL) {
        return NGX_CONF_ERROR;
    }

    for (i = 0; ngx_http_es_field_types[i].len; i++) {
        if (ngx_strcmp(value[2].data, ngx_http_es_field_types[i].data) == 0)
        {
            break;
        }
    }

    if (ngx_http_es_field_types[i].len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "field \"%V\": unknown type \"%V\"", &value[1],
                           &value[2]);
        return NGX_CONF_ERROR;
    }

    f->type = i;

    if (f->type == NGX_HTTP_ES_FIELD_ORIGINS) {
        if (mcf->origins_field != -1) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "field \"%V\": only one field may have the "
                               "type \"origins\"", &value[1]);
            return NGX_CONF_ERROR;
        }

        mcf->origins_field = mcf->fields.nelts - 1;
        f->has_min = 1;
        f->min = 1;
        f->has_max = 1;
        f->max = 20;
    }

    for (i = 3; i < cf->args->nelts; i++) {
        rc = NGX_DECLINED;

        for (o = ngx_http_es_field_options; o->name.len; o++) {
            if (o->name.data[o->name.len - 1] != '=') {
                if (ngx_strcmp(value[i].data, o->name.data) != 0) {
                    continue;
                }

                ngx_str_null(&v);

            } else {
                k = o->name.len;

                if (value[i].len <= k
                    || ngx_strncmp(value[i].data, o->name.data, k) != 0)
                {
                    continue;
                }

                v.data = value[i].data + k;
                v.len = value[i].len - k;
            }

            rc = o->parse(cf, mcf, f, &v);
            break;
        }

        if (rc == NGX_ERROR) {
            return NGX_CONF_ERROR;
        }

        if (rc == NGX_DECLINED) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "field \"%V\": invalid option \"%V\"",
                               &value[1], &value[i]);
            return NGX_CONF_ERROR;
        }
    }

    return ngx_http_es_field_consistent(cf, f);
}


/* a new field of the location, under its parent object if it has one */

static ngx_http_es_field_t *
ngx_http_es_field_add(ngx_conf_t *cf, ngx_http_es_mint_conf_t *mcf,
    ngx_str_t *path)
{
    u_char               *dot;
    ngx_int_t             p;
    ngx_str_t             parent;
    ngx_uint_t            k;
    ngx_http_es_field_t  *f, *fields;

    if (path->len == 0 || path->len > 200
        || path->data[0] == '.' || path->data[path->len - 1] == '.'
        || ngx_strlchr(path->data, path->data + path->len, '[')
        || ngx_strstrn(path->data, "..", 2 - 1))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid field path \"%V\"",
                           path);
        return NULL;
    }

    if (ngx_http_es_mint_field_index(mcf, path) != -1) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "field \"%V\" is declared twice", path);
        return NULL;
    }

    if (mcf->fields.elts == NULL
        && ngx_array_init(&mcf->fields, cf->pool, 8,
                          sizeof(ngx_http_es_field_t))
           != NGX_OK)
    {
        return NULL;
    }

    f = ngx_array_push(&mcf->fields);
    if (f == NULL) {
        return NULL;
    }

    ngx_memzero(f, sizeof(ngx_http_es_field_t));

    f->path = *path;
    f->parent = -1;
    f->required_if_field = -1;
    f->excludes_field = -1;

    dot = NULL;
    for (k = path->len; k > 0; k--) {
        if (path->data[k - 1] == '.') {
            dot = &path->data[k - 1];
            break;
        }
    }

    if (dot == NULL) {
        f->name = *path;
        return f;
    }

    parent.data = path->data;
    parent.len = dot - path->data;

    p = ngx_http_es_mint_field_index(mcf, &parent);

    fields = mcf->fields.elts;

    if (p == -1 || fields[p].type != NGX_HTTP_ES_FIELD_OBJECT) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "field \"%V\" needs \"%V\" declared before "
                           "it as an object", path, &parent);
        return NULL;
    }

    fields[p].has_children = 1;

    f->parent = p;
    f->name.data = dot + 1;
    f->name.len = path->data + path->len - (dot + 1);

    return f;
}


static ngx_int_t
ngx_http_es_field_required(ngx_conf_t *cf, ngx_http_es_mint_conf_t *mcf,
    ngx_http_es_field_t *f, ngx_str_t *v)
{
    f->required = 1;
    return NGX_OK;
}


static ngx_int_t
ngx_http_es_field_null(ngx_conf_t *cf, ngx_http_es_mint_conf_t *mcf,
    ngx_http_es_field_t *f, ngx_str_t *v)
{
    f->nullable = 1;
    return NGX_OK;
}


static ngx_int_t
ngx_http_es_field_ttl(ngx_conf_t *cf, ngx_http_es_mint_conf_t *mcf,
    ngx_http_es_field_t *f, ngx_str_t *v)
{
    if (f->type != NGX_HTTP_ES_FIELD_INTEGER || mcf->ttl_field != -1) {
        return NGX_DECLINED;
    }

    f->ttl = 1;
    mcf->ttl_field = mcf->fields.nelts - 1;

    return NGX_OK;
}


static ngx_int_t
ngx_http_es_field_stringified(ngx_conf_t *cf, ngx_http_es_mint_conf_t *mcf,
    ngx_http_es_field_t *f, ngx_str_t *v)
{
    if (f->type != NGX_HTTP_ES_FIELD_INTEGER
        && f->type != NGX_HTTP_ES_FIELD_ARRAY
        && f->type != NGX_HTTP_ES_FIELD_STRINGS
        && f->type != NGX_HTTP_ES_FIELD_ORIGINS)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "field \"%V\": \"stringified\" is for "
                           "integer and array fields", &f->path);
        return NGX_ERROR;
    }

    f->stringified = 1;

    return NGX_OK;
}


static ngx_int_t
ngx_http_es_field_resource(ngx_conf_t *cf, ngx_http_es_mint_conf_t *mcf,
    ngx_http_es_field_t *f, ngx_str_t *v)
{
    if (f->type != NGX_HTTP_ES_FIELD_STRINGS) {
        return NGX_DECLINED;
    }

    f->resource = 1;

    return NGX_OK;
}


static ngx_int_t
ngx_http_es_field_min(ngx_conf_t *cf, ngx_http_es_mint_conf_t *mcf,
    ngx_http_es_field_t *f, ngx_str_t *v)
{
    ngx_int_t  n;

    n = ngx_atoi(v->data, v->len);
    if (n == NGX_ERROR) {
        return NGX_DECLINED;
    }

    f->has_min = 1;
    f->min = n;

    return NGX_OK;
}


static ngx_int_t
ngx_http_es_field_max(ngx_conf_t *cf, ngx_http_es_mint_conf_t *mcf,
    ngx_http_es_field_t *f, ngx_str_t *v)
{
    ngx_int_t  n;

    n = ngx_atoi(v->data, v->len);
    if (n == NGX_ERROR) {
        return NGX_DECLINED;
    }

    f->has_max = 1;
    f->max = n;

    return NGX_OK;
}


/* enum=A|B|C: no empty value */

static ngx_int_t
ngx_http_es_field_enum(ngx_conf_t *cf, ngx_http_es_mint_conf_t *mcf,
    ngx_http_es_field_t *f, ngx_str_t *v)
{
    u_char     *bar;
    ngx_str_t   s, *e;

    f->enums = ngx_array_create(cf->pool, 4, sizeof(ngx_str_t));
    if (f->enums == NULL) {
        return NGX_ERROR;
    }

    s = *v;

    while (s.len) {
        e = ngx_array_push(f->enums);
        if (e == NULL) {
            return NGX_ERROR;
        }

        e->data = s.data;
        bar = ngx_strlchr(s.data, s.data + s.len, '|');
        e->len = (bar ? bar : s.data + s.len) - s.data;

        if (e->len == 0) {
            goto invalid;
        }

        s.len -= e->len + (bar ? 1 : 0);
        s.data += e->len + (bar ? 1 : 0);

        if (bar && s.len == 0) {
            goto invalid;
        }
    }

    return NGX_OK;

invalid:

    /* the rest of the list, from the empty value on */

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "field \"%V\": invalid option \"%V\"", &f->path, &s);
    return NGX_ERROR;
}


static ngx_int_t
ngx_http_es_field_pattern(ngx_conf_t *cf, ngx_http_es_mint_conf_t *mcf,
    ngx_http_es_field_t *f, ngx_str_t *v)
{
#if (NGX_PCRE)
    size_t               n;
    u_char               errstr[NGX_MAX_CONF_ERRSTR];
    ngx_regex_compile_t  rc;

    ngx_memzero(&rc, sizeof(ngx_regex_compile_t));

    rc.pattern = *v;
    rc.pool = cf->pool;
    rc.err.len = NGX_MAX_CONF_ERRSTR;
    rc.err.data = errstr;

    if (ngx_regex_compile(&rc) != NGX_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "field \"%V\": %V",
                           &f->path, &rc.err);
        return NGX_ERROR;
    }

    f->pattern = rc.regex;

    /* "...$", not "...\\$" */

    n = rc.pattern.len;
    f->pattern_end = (rc.pattern.data[n - 1] == '$'
                      && (n < 2 || rc.pattern.data[n - 2] != '\\'));

    return NGX_OK;
#else
    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "field \"%V\": \"pattern=\" requires PCRE "
                       "library, and nginx was built without it",
                       &f->path);
    return NGX_ERROR;
#endif
}


static ngx_int_t
ngx_http_es_field_format(ngx_conf_t *cf, ngx_http_es_mint_conf_t *mcf,
    ngx_http_es_field_t *f, ngx_str_t *v)
{
    if (v->len == 5 && ngx_strncmp(v->data, "email", 5) == 0) {
        f->format = NGX_HTTP_ES_FORMAT_EMAIL;
        return NGX_OK;
    }

    if (v->len == 3 && ngx_strncmp(v->data, "url", 3) == 0) {
        f->format = NGX_HTTP_ES_FORMAT_URL;
        return NGX_OK;
    }

    return NGX_DECLINED;
}


/* default=VALUE, checked against the type when all options are read */

static ngx_int_t
ngx_http_es_field_default(ngx_conf_t *cf, ngx_http_es_mint_conf_t *mcf,
    ngx_http_es_field_t *f, ngx_str_t *v)
{
    f->deflt = *v;
    f->has_default = 1;

    return NGX_OK;
}


static ngx_int_t
ngx_http_es_field_claim(ngx_conf_t *cf, ngx_http_es_mint_conf_t *mcf,
    ngx_http_es_field_t *f, ngx_str_t *v)
{
    f->claim = *v;
    return NGX_OK;
}


/* required_if= and excludes= name fields resolved at merge time */

static ngx_int_t
ngx_http_es_field_required_if(ngx_conf_t *cf, ngx_http_es_mint_conf_t *mcf,
    ngx_http_es_field_t *f, ngx_str_t *v)
{
    f->required_if = *v;
    return NGX_OK;
}


static ngx_int_t
ngx_http_es_field_excludes(ngx_conf_t *cf, ngx_http_es_mint_conf_t *mcf,
    ngx_http_es_field_t *f, ngx_str_t *v)
{
    f->excludes = *v;
    return NGX_OK;
}


/* the options of a field together: its default, what applies to its type */

static char *
ngx_http_es_field_consistent(ngx_conf_t *cf, ngx_http_es_field_t *f)
{
    if (f->has_default && ngx_http_es_field_default_fits(cf, f) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if (f->required && (f->has_default || f->required_if.len)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "field \"%V\": \"required\" with a default or "
                           "required_if= means nothing", &f->path);
        return NGX_CONF_ERROR;
    }

    if ((f->enums || f->pattern || f->format)
        && f->type != NGX_HTTP_ES_FIELD_STRING
        && f->type != NGX_HTTP_ES_FIELD_STRINGS)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "field \"%V\": enum=, pattern= and format= are for "
                           "strings", &f->path);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_es_field_default_fits(ngx_conf_t *cf, ngx_http_es_field_t *f)
{
    switch (f->type) {

    case NGX_HTTP_ES_FIELD_INTEGER:
    case NGX_HTTP_ES_FIELD_NUMBER:
        if (ngx_atoi(f->deflt.data, f->deflt.len) == NGX_ERROR) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "field \"%V\": default is not an integer",
                               &f->path);
            return NGX_ERROR;
        }

        return NGX_OK;

    case NGX_HTTP_ES_FIELD_BOOLEAN:
        if (ngx_strcmp(f->deflt.data, "true") != 0
            && ngx_strcmp(f->deflt.data, "false") != 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "field \"%V\": default is not true or "
                               "false", &f->path);
            return NGX_ERROR;
        }

        return NGX_OK;

    case NGX_HTTP_ES_FIELD_STRING:
        if (f->enums && !ngx_http_es_str_in(f->enums, &f->deflt)) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "field \"%V\": default is not one of "
                               "its enum values", &f->path);
            return NGX_ERROR;
        }

        return NGX_OK;

    case NGX_HTTP_ES_FIELD_OBJECT:
        if (ngx_strcmp(f->deflt.data, "{}") != 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "field \"%V\": an object's default can "
                               "only be {}, its members' defaults fill "
                               "it", &f->path);
            return NGX_ERROR;
        }

        return NGX_OK;

    default:
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "field \"%V\": only a string, an integer, a "
                           "boolean or an object can have a default",
                           &f->path);
        return NGX_ERROR;
    }
}
