
/*
 * Copyright (C) The ngx_http_embed_session_module authors
 *
 * Known values of a mint request body field: embed_session_field_known,
 * its list of values (inline or from a file, per API key owner or not) and
 * the check of a valid body against it.
 */


#include "ngx_http_embed_session_module.h"
#include "ngx_http_embed_session_file.h"
#include "ngx_http_embed_session_json.h"
#include "ngx_http_embed_session_mint.h"
#include "ngx_http_embed_session_response.h"


static char *ngx_http_es_known_add(ngx_conf_t *cf, ngx_http_es_known_t *k,
    ngx_str_t *item, ngx_uint_t line);
static char *ngx_http_es_known_file(ngx_conf_t *cf, ngx_http_es_known_t *k);
static int ngx_libc_cdecl ngx_http_es_known_cmp(const void *a, const void *b);
static char *ngx_http_es_known_deny(ngx_conf_t *cf, ngx_http_es_known_t *k,
    ngx_str_t *value, ngx_uint_t n);
static char *ngx_http_es_known_values(ngx_conf_t *cf, ngx_http_es_known_t *k,
    ngx_str_t *source);
static char *ngx_http_es_known_sort(ngx_conf_t *cf, ngx_http_es_known_t *k);


/*
 * embed_session_field_known: a field's value must be one the configuration
 * lists (for the value of per=, the API key's tenant say); any other is
 * answered with the directive's status and code.  A valid body only: the
 * schema's problems come first.
 */

ngx_int_t
ngx_http_es_mint_known(ngx_http_es_mint_t *m)
{
    u_char                     *p;
    ngx_int_t                   lo, hi, mid, c;
    ngx_str_t                   text, per, key;
    ngx_uint_t                  i;
    ngx_http_request_t         *r;
    ngx_http_es_known_t        *k;
    ngx_http_es_known_value_t  *kv, probe;

    r = m->request;
    k = m->mcf->knowns->elts;

    for (i = 0; i < m->mcf->knowns->nelts; i++) {

        if (m->values[k[i].field] == NULL
            || ngx_http_es_json_type(m->values[k[i].field])
               != NGX_HTTP_ES_JSON_STRING)
        {
            continue;
        }

        text.data = (u_char *) ngx_http_es_json_string(m->values[k[i].field],
                                                       &text.len);
        key = text;
        ngx_str_null(&per);

        if (k[i].per) {
            if (ngx_http_complex_value(r, k[i].per, &per) != NGX_OK) {
                return NGX_ERROR;
            }

            key.len = per.len + 1 + text.len;
            key.data = ngx_pnalloc(r->pool, key.len);
            if (key.data == NULL) {
                return NGX_ERROR;
            }

            p = ngx_cpymem(key.data, per.data, per.len);
            *p++ = LF;
            ngx_memcpy(p, text.data, text.len);
        }

        /* a binary search of the sorted values */

        probe.value = key;
        kv = k[i].values.elts;
        lo = 0;
        hi = (ngx_int_t) k[i].values.nelts - 1;
        c = -1;

        while (lo <= hi) {
            mid = lo + (hi - lo) / 2;
            c = ngx_http_es_known_cmp(&probe, &kv[mid]);

            if (c == 0) {
                break;
            }

            if (c < 0) {
                hi = mid - 1;

            } else {
                lo = mid + 1;
            }
        }

        if (c == 0) {
            continue;
        }

        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "embed_session mint: %V \"%V\" is not a known value "
                      "(%V%s%V) for API key \"%V\"", &k[i].path,
                      ngx_http_es_log_text(r->pool, &text), &k[i].source,
                      k[i].per ? ", for " : "",
                      k[i].per ? ngx_http_es_log_text(r->pool, &per) : &per,
                      &m->key->id);

        return ngx_http_es_error_denied(r, &k[i].deny);
    }

    return NGX_OK;
}


static int ngx_libc_cdecl
ngx_http_es_known_cmp(const void *a, const void *b)
{
    int                               rc;
    const ngx_http_es_known_value_t  *x, *y;

    x = a;
    y = b;

    rc = ngx_memcmp(x->value.data, y->value.data,
                    ngx_min(x->value.len, y->value.len));

    if (rc != 0) {
        return rc;
    }

    return (x->value.len < y->value.len) ? -1
                                         : (x->value.len > y->value.len);
}


/*
 * embed_session_field_known PATH file=FILE | values=A|B|C [per=VALUE]
 *                           STATUS CODE ["message"];
 */

char *
ngx_http_es_mint_known_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_es_loc_conf_t  *elcf = conf;

    ngx_str_t                         *value, s;
    ngx_uint_t                         i, n;
    ngx_http_es_field_t               *f;
    ngx_http_es_known_t               *k;
    ngx_http_es_mint_conf_t           *mcf;
    ngx_http_compile_complex_value_t   ccv;

    mcf = &elcf->mint;

    value = cf->args->elts;
    n = cf->args->nelts;

    k = ngx_http_es_conf_push(cf, &mcf->knowns, sizeof(ngx_http_es_known_t));
    if (k == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(k, sizeof(ngx_http_es_known_t));

    k->path = value[1];
    k->field = ngx_http_es_mint_field_index(mcf, &k->path);

    if (k->field == -1) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "field \"%V\" is not declared before",
                           &k->path);
        return NGX_CONF_ERROR;
    }

    f = mcf->fields.elts;

    if (f[k->field].type != NGX_HTTP_ES_FIELD_STRING) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "field \"%V\" is not of type \"string\": known "
                           "values are strings", &k->path);
        return NGX_CONF_ERROR;
    }

    if (ngx_array_init(&k->values, cf->pool, 16,
                       sizeof(ngx_http_es_known_value_t))
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    i = 3;

    if (i < n && ngx_strncmp(value[i].data, "per=", 4) == 0
        && value[i].len > 4)
    {
        s.data = value[i].data + 4;
        s.len = value[i].len - 4;

        k->per = ngx_palloc(cf->pool, sizeof(ngx_http_complex_value_t));
        if (k->per == NULL) {
            return NGX_CONF_ERROR;
        }

        ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

        ccv.cf = cf;
        ccv.value = &s;
        ccv.complex_value = k->per;

        if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
            return NGX_CONF_ERROR;
        }

        i++;
    }

    if (n - i != 2 && n - i != 3) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "takes PATH file=FILE|values=A|B [per=VALUE] "
                           "STATUS CODE [\"message\"]");
        return NGX_CONF_ERROR;
    }

    if (ngx_http_es_known_deny(cf, k, &value[i], n - i) != NGX_CONF_OK
        || ngx_http_es_known_values(cf, k, &value[2]) != NGX_CONF_OK)
    {
        return NGX_CONF_ERROR;
    }

    return ngx_http_es_known_sort(cf, k);
}


/* STATUS CODE ["message"]: the answer to a value not known */

static char *
ngx_http_es_known_deny(ngx_conf_t *cf, ngx_http_es_known_t *k,
    ngx_str_t *value, ngx_uint_t n)
{
    u_char     *p;
    ngx_int_t   status;

    status = ngx_http_es_conf_status(cf, &value[0]);
    if (status == NGX_ERROR) {
        return NGX_CONF_ERROR;
    }

    k->deny.status = status;

    if (value[1].len == 0 || value[1].len > 64) {
        goto bad_code;
    }

    for (p = value[1].data; p < value[1].data + value[1].len; p++) {
        if (!isalnum(*p) && *p != '_' && *p != '-' && *p != '.') {
            goto bad_code;
        }
    }

    k->deny.code = value[1];

    if (n > 2) {
        k->deny.message = value[2];
    }

    return NGX_CONF_OK;

bad_code:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid code \"%V\": 1 to 64 letters, digits, "
                       "\"_\", \".\", \"-\"", &value[1]);
    return NGX_CONF_ERROR;
}


/* file=FILE or values=A|B|C (with per=, values=OWNER:A|OWNER:B) */

static char *
ngx_http_es_known_values(ngx_conf_t *cf, ngx_http_es_known_t *k,
    ngx_str_t *source)
{
    u_char     *p, *bar, *end;
    ngx_str_t   item;

    if (source->len > 5 && ngx_strncmp(source->data, "file=", 5) == 0) {
        k->source.data = source->data + 5;
        k->source.len = source->len - 5;

        if (ngx_conf_full_name(cf->cycle, &k->source, 1) != NGX_OK) {
            return NGX_CONF_ERROR;
        }

        return ngx_http_es_known_file(cf, k);
    }

    if (source->len <= 7 || ngx_strncmp(source->data, "values=", 7) != 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid \"%V\": file=FILE or values=A|B|C",
                           source);
        return NGX_CONF_ERROR;
    }

    ngx_str_set(&k->source, "values=");

    p = source->data + 7;
    end = source->data + source->len;

    for ( ;; ) {
        bar = ngx_strlchr(p, end, '|');

        item.data = p;
        item.len = (bar ? bar : end) - p;

        /* per=: OWNER:VALUE, as a file's line has OWNER VALUE */

        if (k->per) {
            p = ngx_strlchr(item.data, item.data + item.len, ':');

            if (p == NULL || p == item.data
                || p == item.data + item.len - 1)
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid value \"%V\": with per=, "
                                   "each is OWNER:VALUE", &item);
                return NGX_CONF_ERROR;
            }

            *p = LF;
        }

        if (ngx_http_es_known_add(cf, k, &item, 0) != NGX_CONF_OK) {
            return NGX_CONF_ERROR;
        }

        if (bar == NULL) {
            return NGX_CONF_OK;
        }

        p = bar + 1;
    }
}


/* sorted, for a binary search; a value listed twice is a mistake */

static char *
ngx_http_es_known_sort(ngx_conf_t *cf, ngx_http_es_known_t *k)
{
    u_char                     *p;
    ngx_str_t                   item;
    ngx_uint_t                  i;
    ngx_http_es_known_value_t  *kv;

    kv = k->values.elts;

    ngx_qsort(kv, k->values.nelts, sizeof(ngx_http_es_known_value_t),
              ngx_http_es_known_cmp);

    for (i = 1; i < k->values.nelts; i++) {
        if (ngx_http_es_known_cmp(&kv[i - 1], &kv[i]) != 0) {
            continue;
        }

        item = kv[i].value;

        if (k->per) {
            p = ngx_strlchr(item.data, item.data + item.len, LF);
            item.len = item.data + item.len - p - 1;
            item.data = p + 1;
        }

        if (kv[i].line) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "%V:%ui: \"%V\" is listed twice (also on "
                               "line %ui)", &k->source,
                               ngx_max(kv[i].line, kv[i - 1].line), &item,
                               ngx_min(kv[i].line, kv[i - 1].line));

        } else {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"%V\" is listed twice", &item);
        }

        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/*
 * A file of known values: one a line, blank lines and lines starting
 * with "#" ignored, white space around a value dropped; with per=, a line
 * is "OWNER VALUE" (the owner one word, the value the rest).
 */

static char *
ngx_http_es_known_file(ngx_conf_t *cf, ngx_http_es_known_t *k)
{
    u_char     *p, *last, *eol, *sp;
    ngx_int_t   rc;
    ngx_str_t   buf, item, owner, name;
    ngx_uint_t  line;

    name = k->source;

    rc = ngx_http_es_file_read(cf, NULL, NULL, "", &name,
                               NGX_HTTP_ES_KEY_FILE_MAX, &buf, NULL);

    if (rc == NGX_ERROR) {
        return NGX_CONF_ERROR;
    }

    if (rc == NGX_DECLINED) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" is larger than %uz bytes", &name,
                           (size_t) NGX_HTTP_ES_KEY_FILE_MAX);
        return NGX_CONF_ERROR;
    }

    p = buf.data;
    last = buf.data + buf.len;

    for (line = 1; p < last; line++, p = eol + 1) {
        eol = ngx_strlchr(p, last, LF);
        if (eol == NULL) {
            eol = last;
        }

        item.data = p;
        item.len = eol - p;

        while (item.len && (item.data[0] == ' ' || item.data[0] == '\t')) {
            item.data++;
            item.len--;
        }

        while (item.len && (item.data[item.len - 1] == ' '
                            || item.data[item.len - 1] == '\t'
                            || item.data[item.len - 1] == CR))
        {
            item.len--;
        }

        if (item.len == 0 || item.data[0] == '#') {
            continue;
        }

        if (k->per) {
            sp = item.data;

            while (sp < item.data + item.len && *sp != ' ' && *sp != '\t') {
                sp++;
            }

            owner.data = item.data;
            owner.len = sp - item.data;

            while (sp < item.data + item.len && (*sp == ' ' || *sp == '\t')) {
                sp++;
            }

            if (sp == item.data + item.len) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "%V:%ui: expected \"OWNER VALUE\" (per= "
                                   "is set)", &name, line);
                return NGX_CONF_ERROR;
            }

            /* OWNER LF VALUE, in a copy of its own */

            p = ngx_pnalloc(cf->pool, item.data + item.len - sp + 1
                                      + owner.len);
            if (p == NULL) {
                return NGX_CONF_ERROR;
            }

            ngx_memcpy(p, owner.data, owner.len);
            p[owner.len] = LF;
            ngx_memcpy(p + owner.len + 1, sp, item.data + item.len - sp);

            item.len = owner.len + 1 + (item.data + item.len - sp);
            item.data = p;

        } else {
            p = ngx_pnalloc(cf->pool, item.len);
            if (p == NULL) {
                return NGX_CONF_ERROR;
            }

            ngx_memcpy(p, item.data, item.len);
            item.data = p;
        }

        if (ngx_http_es_known_add(cf, k, &item, line) != NGX_CONF_OK) {
            return NGX_CONF_ERROR;
        }
    }

    if (k->values.nelts == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" lists no values", &name);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* one value (with per=, "OWNER\nVALUE"): UTF-8, no control characters */

static char *
ngx_http_es_known_add(ngx_conf_t *cf, ngx_http_es_known_t *k,
    ngx_str_t *item, ngx_uint_t line)
{
    u_char                     *p;
    ngx_http_es_known_value_t  *kv;

    for (p = item->data; p < item->data + item->len; p++) {
        if ((*p < 0x20 && !(k->per && *p == LF)) || *p == 0x7f) {
            goto invalid;
        }
    }

    if (item->len == 0 || !ngx_http_es_json_utf8(item->data, item->len)) {
        goto invalid;
    }

    kv = ngx_array_push(&k->values);
    if (kv == NULL) {
        return NGX_CONF_ERROR;
    }

    kv->value = *item;
    kv->line = line;

    return NGX_CONF_OK;

invalid:

    if (line) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "%V:%ui: a value must be valid UTF-8 without "
                           "control characters", &k->source, line);

    } else {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "an empty value, or one that is not UTF-8 or "
                           "holds control characters, in values=");
    }

    return NGX_CONF_ERROR;
}
