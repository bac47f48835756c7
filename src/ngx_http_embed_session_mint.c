
/*
 * Copyright (C) The ngx_http_embed_session_module authors
 *
 * Minting: a content handler that authenticates an API key, validates the
 * request body against the schema of the configuration, and answers with a
 * signed session token in the response shape of the configuration.
 */


#include "ngx_http_embed_session_module.h"
#include "ngx_http_embed_session_apikey.h"
#include "ngx_http_embed_session_file.h"
#include "ngx_http_embed_session_json.h"
#include "ngx_http_embed_session_jws.h"
#include "ngx_http_embed_session_origin.h"
#include "ngx_http_embed_session_response.h"
#include "ngx_http_embed_session_store.h"


#define NGX_HTTP_ES_MINT_DETAILS_MAX  32
#define NGX_HTTP_ES_MINT_BODY_MAX     (16 * 1024)

/* "iat":N,"exp":N, with times of at most 12 digits (9999-12-31) */
#define NGX_HTTP_ES_MINT_TIMES_LEN                                            \
    (sizeof("\"iat\":,\"exp\":,") - 1 + 2 * (sizeof("253402300799") - 1))


typedef enum {
    NGX_HTTP_ES_FIELD_STRING = 0,
    NGX_HTTP_ES_FIELD_INTEGER,
    NGX_HTTP_ES_FIELD_NUMBER,
    NGX_HTTP_ES_FIELD_BOOLEAN,
    NGX_HTTP_ES_FIELD_OBJECT,
    NGX_HTTP_ES_FIELD_ARRAY,
    NGX_HTTP_ES_FIELD_STRINGS,
    NGX_HTTP_ES_FIELD_ORIGINS
} ngx_http_es_field_type_t;


#define NGX_HTTP_ES_FORMAT_EMAIL      1
#define NGX_HTTP_ES_FORMAT_URL        2

#define NGX_HTTP_ES_MINT_ORIGINS_OFF      0
#define NGX_HTTP_ES_MINT_ORIGINS_BODY     1
#define NGX_HTTP_ES_MINT_ORIGINS_REQUEST  2


typedef struct {
    ngx_str_t                   path;       /* "tenant.externalId" */
    ngx_str_t                   name;       /* "externalId" */
    ngx_int_t                   parent;     /* index, -1: the root */
    ngx_http_es_field_type_t    type;

    ngx_int_t                   min;
    ngx_int_t                   max;
    ngx_array_t                *enums;      /* ngx_str_t */
#if (NGX_PCRE)
    ngx_regex_t                *pattern;
#else
    void                       *pattern;    /* NULL: pattern= needs PCRE */
#endif
    ngx_uint_t                  format;
    ngx_str_t                   deflt;
    ngx_str_t                   claim;

    ngx_str_t                   required_if;        /* PATH:VALUE */
    ngx_int_t                   required_if_field;
    ngx_str_t                   required_if_value;
    ngx_str_t                   excludes;
    ngx_int_t                   excludes_field;

    unsigned                    required:1;
    unsigned                    nullable:1;
    unsigned                    has_min:1;
    unsigned                    has_max:1;
    unsigned                    has_default:1;
    unsigned                    has_children:1;
    unsigned                    ttl:1;
    unsigned                    resource:1;
    unsigned                    pattern_end:1;
    unsigned                    stringified:1;
} ngx_http_es_field_t;


typedef struct {
    ngx_int_t                   field;
    ngx_str_t                   value;
    time_t                      ttl;
} ngx_http_es_ttl_if_t;


typedef struct {
    ngx_str_t                   name;
    ngx_http_complex_value_t    value;
} ngx_http_es_mint_claim_t;


typedef enum {
    NGX_HTTP_ES_OUT_TOKEN = 0,
    NGX_HTTP_ES_OUT_EXPIRES_AT,
    NGX_HTTP_ES_OUT_EXPIRES_IN,
    NGX_HTTP_ES_OUT_SESSION_ID,
    NGX_HTTP_ES_OUT_ORIGINS,
    NGX_HTTP_ES_OUT_FIELD,
    NGX_HTTP_ES_OUT_VALUE,
    NGX_HTTP_ES_OUT_RENEW_TOKEN
} ngx_http_es_out_type_t;


/*
 * One embed_session_mint_output line.  Lines of the same path make one
 * member: the first whose condition holds (and whose value is present)
 * answers, in the slot of the group's first line.
 */

typedef struct {
    ngx_str_t                   path;
    ngx_http_es_out_type_t      type;
    ngx_str_t                   field_path;
    ngx_int_t                   field;
    ngx_http_complex_value_t   *value;
    ngx_str_t                   cond;       /* "if=PATH:VALUE", empty: none */
    ngx_str_t                   cond_path;
    ngx_str_t                   cond_value;
    ngx_int_t                   cond_field; /* if=: a field, -1: if_claim= */
    ngx_uint_t                  group;      /* the first line of its path */
} ngx_http_es_output_t;


/*
 * embed_session_field_known PATH file=FILE|values=A|B [per=VALUE]
 * STATUS CODE ["message"]: the known values, sorted; with per= each is
 * "OWNER\nVALUE"
 */

typedef struct {
    ngx_str_t                   value;
    ngx_uint_t                  line;
} ngx_http_es_known_value_t;


typedef struct {
    ngx_str_t                   path;
    ngx_int_t                   field;
    ngx_str_t                   source;     /* the file, or "values=" */
    ngx_array_t                 values;     /* ngx_http_es_known_value_t */
    ngx_http_complex_value_t   *per;
    ngx_http_es_api_deny_t      deny;       /* status, code, message */
} ngx_http_es_known_t;


typedef struct ngx_http_es_out_node_s  ngx_http_es_out_node_t;

struct ngx_http_es_out_node_s {
    ngx_str_t                   key;        /* "\"name\":", empty: root */
    ngx_str_t                   name;
    ngx_int_t                   output;     /* index, -1: an object */
    ngx_array_t                 children;   /* ngx_http_es_out_node_t */
};


struct ngx_http_es_mint_conf_s {
    ngx_flag_t                  enable;
    ngx_array_t                 fields;     /* ngx_http_es_field_t */
    ngx_str_t                   kid;
    ngx_http_es_jws_key_t      *key;
    ngx_str_t                   header;     /* the JOSE header, JSON */
    size_t                      body_max;
    ngx_flag_t                  unknown_reject;
    time_t                      ttl;
    time_t                      ttl_max;
    ngx_array_t                *ttl_ifs;    /* ngx_http_es_ttl_if_t */
    ngx_uint_t                  origins;
    ngx_int_t                   origins_field;
    ngx_int_t                   ttl_field;
    ngx_array_t                *claims;     /* ngx_http_es_mint_claim_t */
    ngx_uint_t                  status;
    ngx_array_t                *outputs;    /* ngx_http_es_output_t */
    ngx_http_es_out_node_t      out_root;
    ngx_array_t                *knowns;     /* ngx_http_es_known_t */

    time_t                      lifetime;   /* absolute, of a session */
    time_t                      ticket;     /* a one-time ticket's TTL */
    ngx_str_t                   renew_header;
    unsigned                    renew:1;    /* a renew_token output */
    unsigned                    lifecycle:1;    /* refresh, exchange */
};


/* what one mint request collects on its way */

typedef struct {
    ngx_http_request_t         *request;
    ngx_http_es_mint_conf_t    *mcf;
    ngx_http_es_api_key_t      *key;
    ngx_http_es_json_t         *root;
    ngx_http_es_json_t         *owned;      /* an array keeping made values */
    ngx_http_es_json_t        **values;     /* per field, NULL: absent */
    ngx_str_t                  *claims;     /* per embed_session_mint_claim */
    ngx_array_t                 details;    /* ngx_http_es_detail_t */
    ngx_array_t                 origins;    /* ngx_str_t */
    ngx_uint_t                  scope_denied;
    time_t                      ttl;
} ngx_http_es_mint_t;


static void ngx_http_es_mint_body(ngx_http_request_t *r);
static ngx_int_t ngx_http_es_mint_request(ngx_http_request_t *r,
    ngx_http_es_mint_t *m);
static void ngx_http_es_mint_cleanup(void *data);
static ngx_int_t ngx_http_es_mint_validate(ngx_http_es_mint_t *m);
static ngx_int_t ngx_http_es_mint_field(ngx_http_es_mint_t *m, ngx_uint_t i);
static ngx_int_t ngx_http_es_mint_unstring(ngx_http_es_mint_t *m,
    ngx_uint_t i, ngx_http_es_json_t *parent, ngx_http_es_json_t **v);
static ngx_int_t ngx_http_es_mint_check(ngx_http_es_mint_t *m,
    ngx_http_es_field_t *f, ngx_http_es_json_t *v);
static ngx_int_t ngx_http_es_mint_string(ngx_http_es_mint_t *m,
    ngx_http_es_field_t *f, ngx_str_t *path, ngx_http_es_json_t *v);
static ngx_int_t ngx_http_es_mint_origin(ngx_http_es_mint_t *m,
    ngx_str_t *path, ngx_http_es_json_t *v);
static ngx_int_t ngx_http_es_mint_unknown(ngx_http_es_mint_t *m,
    ngx_int_t parent, ngx_http_es_json_t *obj);
static ngx_int_t ngx_http_es_mint_detail(ngx_http_es_mint_t *m,
    ngx_str_t *path, char *fmt, ...);
static ngx_int_t ngx_http_es_mint_value_is(ngx_http_es_json_t *v,
    ngx_str_t *s);
static ngx_int_t ngx_http_es_mint_claims(ngx_http_es_mint_t *m);
static ngx_int_t ngx_http_es_mint_authorize(ngx_http_es_mint_t *m);
static ngx_int_t ngx_http_es_mint_sign(ngx_http_es_mint_t *m);
static ngx_int_t ngx_http_es_mint_fits(ngx_http_es_mint_t *m,
    ngx_http_es_json_t *claims);
static ngx_int_t ngx_http_es_mint_store(ngx_http_es_mint_t *m,
    ngx_http_es_json_t *claims, u_char *id, time_t now, time_t ttl);
static ngx_int_t ngx_http_es_mint_known(ngx_http_es_mint_t *m);
static ngx_int_t ngx_http_es_mint_respond(ngx_http_es_mint_t *m);
static ngx_int_t ngx_http_es_mint_conds(ngx_http_es_mint_t *m, u_char *pass);
static ngx_http_es_json_t *ngx_http_es_mint_get(ngx_http_es_json_t *obj,
    ngx_str_t *path);
static char *ngx_http_es_mint_conds_merge(ngx_conf_t *cf,
    ngx_http_es_mint_conf_t *mcf);
static char *ngx_http_es_known_add(ngx_conf_t *cf, ngx_http_es_known_t *k,
    ngx_str_t *item, ngx_uint_t line);
static char *ngx_http_es_known_file(ngx_conf_t *cf, ngx_http_es_known_t *k);
static int ngx_libc_cdecl ngx_http_es_known_cmp(const void *a, const void *b);
static size_t ngx_http_es_mint_out_size(ngx_http_es_out_node_t *node,
    ngx_str_t *text);
static u_char *ngx_http_es_mint_out_write(u_char *p,
    ngx_http_es_out_node_t *node, ngx_str_t *text);
static char *ngx_http_es_mint_out_tree(ngx_conf_t *cf,
    ngx_http_es_mint_conf_t *mcf);
static ngx_http_es_json_t *ngx_http_es_mint_strings(ngx_array_t *a);
static ngx_http_es_json_t *ngx_http_es_mint_default(ngx_http_es_field_t *f);
static ngx_int_t ngx_http_es_mint_set(ngx_http_es_json_t *obj, ngx_str_t *path,
    ngx_http_es_json_t *v);
static ngx_http_es_json_t *ngx_http_es_mint_text(ngx_str_t *s);
static ngx_int_t ngx_http_es_str_in(ngx_array_t *a, ngx_str_t *s);
static ngx_http_es_mint_conf_t *ngx_http_es_mint_conf(ngx_conf_t *cf,
    ngx_http_es_loc_conf_t *elcf);
static ngx_int_t ngx_http_es_mint_field_index(ngx_http_es_mint_conf_t *mcf,
    ngx_str_t *path);
static ngx_int_t ngx_http_es_mint_reserved(ngx_conf_t *cf,
    ngx_http_es_loc_conf_t *elcf, ngx_str_t *claim);
static ngx_int_t ngx_http_es_mint_claim_fits(ngx_conf_t *cf,
    ngx_http_es_loc_conf_t *elcf, ngx_str_t *claim, ngx_http_es_field_t *f);


static ngx_str_t  ngx_http_es_field_types[] = {
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


/* the handler */

ngx_int_t
ngx_http_es_mint_handler(ngx_http_request_t *r)
{
    ngx_int_t                rc;
    ngx_http_es_loc_conf_t  *elcf;

    elcf = ngx_http_get_module_loc_conf(r, ngx_http_embed_session_module);

    if (r->method != NGX_HTTP_POST) {
        return ngx_http_es_content_error(r, NGX_HTTP_ES_METHOD_NOT_ALLOWED,
                                         NULL);
    }

    rc = ngx_http_es_api_content_auth(r, &elcf->api);
    if (rc != NGX_OK) {
        return rc;
    }

    if (r->headers_in.content_length_n > (off_t) elcf->mint->body_max) {
        return ngx_http_es_content_error(r, NGX_HTTP_ES_BODY_TOO_LARGE,
                                         NULL);
    }

    r->request_body_in_single_buf = 1;

    rc = ngx_http_read_client_request_body(r, ngx_http_es_mint_body);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


static void
ngx_http_es_mint_body(ngx_http_request_t *r)
{
    ngx_int_t                rc;
    ngx_http_es_mint_t      *m;
    ngx_pool_cleanup_t      *cln;
    ngx_http_es_ctx_t       *ctx;
    ngx_http_es_loc_conf_t  *elcf;

    elcf = ngx_http_get_module_loc_conf(r, ngx_http_embed_session_module);
    ctx = ngx_http_es_get_ctx(r, 0);

    m = ngx_pcalloc(r->pool, sizeof(ngx_http_es_mint_t));
    cln = ngx_pool_cleanup_add(r->pool, 0);

    if (m == NULL || cln == NULL || ctx == NULL || ctx->api_key == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    cln->handler = ngx_http_es_mint_cleanup;
    cln->data = m;

    m->request = r;
    m->mcf = elcf->mint;
    m->key = ctx->api_key;

    rc = ngx_http_es_mint_request(r, m);

    if (rc == NGX_ERROR) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "embed_session mint: minting failed (out of memory, "
                      "or an internal error)");
        rc = ngx_http_es_error(r, NGX_HTTP_ES_MINT_FAILED);
    }

    ngx_http_es_finalize(r, rc);
}


static void
ngx_http_es_mint_cleanup(void *data)
{
    ngx_http_es_mint_t  *m = data;

    ngx_http_es_json_free(m->root);
    ngx_http_es_json_free(m->owned);
}


static ngx_int_t
ngx_http_es_mint_request(ngx_http_request_t *r, ngx_http_es_mint_t *m)
{
    ngx_int_t              rc;
    ngx_str_t              body;
    ngx_http_es_detail_t  *d;
    char                   err[160];

    rc = ngx_http_es_read_body(r, m->mcf->body_max, &body);

    if (rc == NGX_DECLINED) {
        return ngx_http_es_error(r, NGX_HTTP_ES_BODY_TOO_LARGE);
    }

    if (rc != NGX_OK) {
        return NGX_ERROR;
    }

    /* no body at all is an empty object: the schema says what is missing */

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "embed_session: mint: body read, %uz bytes", body.len);

    if (body.len == 0) {
        ngx_str_set(&body, "{}");
    }

    m->root = ngx_http_es_json_parse(body.data, body.len, err, sizeof(err));

    if (m->root == NULL) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "embed_session mint: invalid JSON body: %s", err);
        return ngx_http_es_error(r, NGX_HTTP_ES_INVALID_JSON);
    }

    m->owned = ngx_http_es_json_array();
    m->values = ngx_pcalloc(r->pool, m->mcf->fields.nelts
                                     * sizeof(ngx_http_es_json_t *));

    if (m->owned == NULL || m->values == NULL
        || ngx_array_init(&m->details, r->pool, 4,
                          sizeof(ngx_http_es_detail_t))
           != NGX_OK
        || ngx_array_init(&m->origins, r->pool, 4, sizeof(ngx_str_t))
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    rc = ngx_http_es_mint_validate(m);
    if (rc != NGX_OK) {
        return rc;
    }

    if (m->mcf->claims && ngx_http_es_mint_claims(m) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "embed_session: mint: body checked, %ui problem(s)",
                   m->details.nelts);

    if (m->details.nelts) {
        d = m->details.elts;

        /* a path may hold a member name from the body, any bytes */

        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "embed_session mint: %ui problem(s) in the body, "
                      "the first: %V %V", m->details.nelts,
                      ngx_http_es_log_text(r->pool, &d->path), &d->message);

        return ngx_http_es_error_details(r, NGX_HTTP_ES_VALIDATION_FAILED,
                                         &m->details);
    }

    if (m->mcf->knowns) {
        rc = ngx_http_es_mint_known(m);
        if (rc != NGX_OK) {
            return rc;
        }
    }

    rc = ngx_http_es_mint_authorize(m);
    if (rc != NGX_OK) {
        return rc;
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "embed_session: mint: authorized for API key \"%V\"",
                   &m->key->id);

    rc = ngx_http_es_mint_sign(m);
    if (rc != NGX_OK) {
        return rc;
    }

    return ngx_http_es_mint_respond(m);
}


/* the schema */

static ngx_int_t
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
    size_t                    n, i;
    int64_t                   value;
    ngx_str_t                 path, *item;
    ngx_uint_t                count;
    ngx_http_es_json_t       *e;
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


static ngx_int_t
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

static ngx_int_t
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


/*
 * embed_session_mint_claim values, with the body: a constant one was
 * checked by nginx -t; one read from the request ($http_..., $arg_...)
 * that is not UTF-8 cannot go into a token, and that is the caller's
 * error, not the server's
 */

static ngx_int_t
ngx_http_es_mint_claims(ngx_http_es_mint_t *m)
{
    ngx_uint_t                 i;
    ngx_http_request_t        *r;
    ngx_http_es_mint_claim_t  *mc;

    r = m->request;
    mc = m->mcf->claims->elts;

    m->claims = ngx_pcalloc(r->pool,
                            m->mcf->claims->nelts * sizeof(ngx_str_t));
    if (m->claims == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < m->mcf->claims->nelts; i++) {
        if (ngx_http_complex_value(r, &mc[i].value, &m->claims[i])
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        if (ngx_http_es_json_utf8(m->claims[i].data, m->claims[i].len)) {
            continue;
        }

        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "embed_session mint: the value of claim \"%V\" is "
                      "not valid UTF-8: \"%V\"", &mc[i].name,
                      ngx_http_es_log_text(r->pool, &m->claims[i]));

        if (ngx_http_es_mint_detail(m, &mc[i].name, "is not valid UTF-8 "
                                    "(a value from the request)")
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/*
 * embed_session_field_known: a field's value must be one the configuration
 * lists (for the value of per=, the API key's tenant say); any other is
 * answered with the directive's status and code.  A valid body only: the
 * schema's problems come first.
 */

static ngx_int_t
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


/* what the key may mint: origins, resources */

static ngx_int_t
ngx_http_es_mint_authorize(ngx_http_es_mint_t *m)
{
    ngx_int_t            rc;
    ngx_str_t           *o, origin;
    ngx_uint_t           i;
    ngx_http_request_t  *r;

    r = m->request;

    if (m->mcf->origins == NGX_HTTP_ES_MINT_ORIGINS_REQUEST) {
        rc = ngx_http_es_origin_get(r, 0, &origin);

        if (rc != NGX_OK) {
            ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                          "embed_session mint: %s Origin header",
                          rc == NGX_DECLINED ? "no" : "an invalid or a "
                          "repeated");
            return ngx_http_es_error(r, NGX_HTTP_ES_ORIGIN_NOT_ALLOWED);
        }

        o = ngx_array_push(&m->origins);
        if (o == NULL) {
            return NGX_ERROR;
        }

        *o = origin;
    }

    if (m->key->origins.nelts) {
        o = m->origins.elts;

        for (i = 0; i < m->origins.nelts; i++) {
            if (!ngx_http_es_str_in(&m->key->origins, &o[i])) {
                ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                              "embed_session mint: origin \"%V\" is not "
                              "one of API key \"%V\"'s",
                              ngx_http_es_log_text(r->pool, &o[i]),
                              &m->key->id);
                return ngx_http_es_error(r, NGX_HTTP_ES_ORIGIN_NOT_ALLOWED);
            }
        }
    }

    if (m->scope_denied) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "embed_session mint: a requested resource is not "
                      "API key \"%V\"'s", &m->key->id);
        return ngx_http_es_error(r, NGX_HTTP_ES_SCOPE_NOT_GRANTED);
    }

    return NGX_OK;
}


/* the token */

static ngx_int_t
ngx_http_es_mint_sign(ngx_http_es_mint_t *m)
{
    u_char                    *p, uuid[37], rnd[16];
    time_t                     now, ttl;
    ngx_int_t                  rc;
    ngx_str_t                  value, *o;
    ngx_uint_t                 i;
    ngx_http_es_ctx_t         *ctx;
    ngx_http_es_json_t        *claims, *origins;
    ngx_http_request_t        *r;
    ngx_http_es_ttl_if_t      *ti;
    ngx_http_es_field_t       *f;
    ngx_http_es_loc_conf_t    *elcf;
    ngx_http_es_mint_conf_t   *mcf;
    ngx_http_es_mint_claim_t  *mc;

    r = m->request;
    mcf = m->mcf;
    elcf = ngx_http_get_module_loc_conf(r, ngx_http_embed_session_module);
    ctx = ngx_http_es_get_ctx(r, 0);

    /* the lifetime: requested, or the default for a field's value */

    ttl = mcf->ttl;

    if (mcf->ttl_field != -1 && m->values[mcf->ttl_field]) {
        ttl = (time_t) ngx_http_es_json_integer(m->values[mcf->ttl_field]);

    } else if (mcf->ttl_ifs) {
        ti = mcf->ttl_ifs->elts;

        for (i = 0; i < mcf->ttl_ifs->nelts; i++) {
            if (m->values[ti[i].field]
                && ngx_http_es_mint_value_is(m->values[ti[i].field],
                                             &ti[i].value))
            {
                ttl = ti[i].ttl;
                break;
            }
        }
    }

    /* no token outlives its session */

    if (elcf->store && !mcf->ticket && ttl > mcf->lifetime) {
        ttl = mcf->lifetime;
    }

    /* a random session id, as a version 4 UUID */

    if (ngx_http_es_jws_random(rnd, sizeof(rnd)) != NGX_HTTP_ES_JWS_OK) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "embed_session mint: the random generator failed");
        return ngx_http_es_error(r, NGX_HTTP_ES_MINT_FAILED);
    }

    rnd[6] = (rnd[6] & 0x0f) | 0x40;
    rnd[8] = (rnd[8] & 0x3f) | 0x80;

    p = uuid;
    for (i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) {
            *p++ = '-';
        }

        p = ngx_hex_dump(p, &rnd[i], 1);
    }

    now = ngx_time();

    claims = ngx_http_es_json_object();
    if (claims == NULL || ngx_http_es_json_append(m->owned, claims) != 0) {
        return NGX_ERROR;
    }

    ctx->minted_jti.len = 36;
    ctx->minted_jti.data = ngx_pnalloc(r->pool, 36);
    if (ctx->minted_jti.data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(ctx->minted_jti.data, uuid, 36);
    ctx->minted_exp = now + ttl;

    /* a token bound to the caller's own Origin: CORS may let it read this */

    if (mcf->origins == NGX_HTTP_ES_MINT_ORIGINS_REQUEST) {
        o = m->origins.elts;
        ctx->origin = o[0];
    }

    if ((elcf->issuer.len
         && ngx_http_es_json_set(claims, (u_char *) "iss", 3,
                                 ngx_http_es_mint_text(&elcf->issuer)) != 0)
        || (elcf->audience.len
            && ngx_http_es_json_set(claims, (u_char *) "aud", 3,
                                    ngx_http_es_mint_text(&elcf->audience))
               != 0)
        || (!mcf->ticket
            && (ngx_http_es_json_set(claims, (u_char *) "iat", 3,
                                     ngx_http_es_json_new_integer(now)) != 0
                || ngx_http_es_json_set(claims, (u_char *) "exp", 3,
                                        ngx_http_es_json_new_integer(
                                            now + ttl))
                   != 0))
        || ngx_http_es_json_set(claims, (u_char *) "jti", 3,
                                ngx_http_es_json_new_ascii(
                                    ctx->minted_jti.data,
                                    ctx->minted_jti.len))
           != 0
        || (elcf->store
            && ngx_http_es_json_set(claims, (u_char *) "sid", 3,
                                    ngx_http_es_json_new_ascii(
                                        ctx->minted_jti.data,
                                        ctx->minted_jti.len))
               != 0))
    {
        return NGX_ERROR;
    }

    if (mcf->origins != NGX_HTTP_ES_MINT_ORIGINS_OFF) {
        origins = ngx_http_es_mint_strings(&m->origins);

        if (ngx_http_es_mint_set(claims, &elcf->origin_claim, origins)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    f = mcf->fields.elts;

    for (i = 0; i < mcf->fields.nelts; i++) {
        if (f[i].claim.len && m->values[i]
            && ngx_http_es_mint_set(claims, &f[i].claim,
                                    ngx_http_es_json_ref(m->values[i]))
               != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    if (mcf->claims) {
        mc = mcf->claims->elts;

        for (i = 0; i < mcf->claims->nelts; i++) {
            if (m->claims[i].len == 0) {
                continue;
            }

            if (ngx_http_es_mint_set(claims, &mc[i].name,
                                     ngx_http_es_mint_text(&m->claims[i]))
                != NGX_OK)
            {
                ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                              "embed_session mint: claim \"%V\" could not "
                              "be set (out of memory, or a part of its name "
                              "is not an object)", &mc[i].name);
                return ngx_http_es_error(r, NGX_HTTP_ES_MINT_FAILED);
            }
        }
    }

    rc = ngx_http_es_mint_fits(m, claims);
    if (rc != NGX_OK) {
        return rc;
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "embed_session: mint: claims built, jti %V, ttl %T",
                   &ctx->minted_jti, ttl);

    if (elcf->store) {
        rc = ngx_http_es_mint_store(m, claims, rnd, now, ttl);
        if (rc != NGX_OK) {
            return rc;
        }

        if (mcf->ticket) {
            m->ttl = ttl;
            ngx_http_es_count(mints);

            ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                          "embed_session mint: one-time session %V for API "
                          "key \"%V\", %T s", &ctx->minted_jti, &m->key->id,
                          mcf->ticket);
            return NGX_OK;
        }
    }

    if (ngx_http_es_json_text(r->pool, claims, &value) != NGX_OK) {
        return NGX_ERROR;
    }

    rc = ngx_http_es_mint_signed(r, mcf, 0, value.data, value.len,
                                 &ctx->minted);
    if (rc != NGX_OK) {
        return rc;
    }

    if (mcf->renew) {

        /* the same claims, living as long as the session may */

        if (ngx_http_es_json_set(claims, (u_char *) "exp", 3,
                                 ngx_http_es_json_new_integer(
                                     now + mcf->lifetime))
            != 0
            || ngx_http_es_json_text(r->pool, claims, &value) != NGX_OK)
        {
            return NGX_ERROR;
        }

        rc = ngx_http_es_mint_signed(r, mcf, 1, value.data, value.len,
                                     &ctx->renew);
        if (rc != NGX_OK) {
            return rc;
        }
    }

    ngx_http_es_count(mints);

    m->ttl = ttl;

    o = m->origins.elts;

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "embed_session mint: session %V for API key \"%V\", "
                  "%T s, origin \"%V\"%s", &ctx->minted_jti, &m->key->id,
                  ttl, m->origins.nelts ? ngx_http_es_log_text(r->pool, &o[0])
                                        : &elcf->origin_claim,
                  m->origins.nelts > 1 ? " and more" : "");

    return NGX_OK;
}


/*
 * The verifier's caps on claims (rule 11), on what would be signed: a token
 * that every verify location refuses is not minted.  A ticket's claims get
 * "iat" and "exp" at the exchange.
 */

static ngx_int_t
ngx_http_es_mint_fits(ngx_http_es_mint_t *m, ngx_http_es_json_t *claims)
{
    size_t  members, max;

    members = 0;
    max = NGX_HTTP_ES_JWS_MAX_MEMBERS - (m->mcf->ticket ? 2 : 0);

    if (ngx_http_es_json_limits(claims, 1, NGX_HTTP_ES_JWS_MAX_DEPTH, max,
                                &members))
    {
        return NGX_OK;
    }

    ngx_log_error(NGX_LOG_INFO, m->request->connection->log, 0,
                  "embed_session mint: the claims would be deeper or larger "
                  "than a token may carry");

    if (ngx_http_es_mint_detail(m, NULL, "the token's claims would nest "
                                "deeper than %d levels or hold more than %d "
                                "members and items in all, which the "
                                "verifier refuses",
                                NGX_HTTP_ES_JWS_MAX_DEPTH,
                                NGX_HTTP_ES_JWS_MAX_MEMBERS)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_es_error_details(m->request,
                                     NGX_HTTP_ES_VALIDATION_FAILED,
                                     &m->details);
}


/*
 * With a store, every session is a record there before its token exists:
 * a full zone mints nothing.  A one-time ticket keeps the claims instead,
 * without iat and exp, which the exchange adds.
 */

static ngx_int_t
ngx_http_es_mint_store(ngx_http_es_mint_t *m, ngx_http_es_json_t *claims,
    u_char *id, time_t now, time_t ttl)
{
    size_t                    len;
    ngx_int_t                 rc;
    ngx_str_t                 payload;
    ngx_http_request_t       *r;
    ngx_http_es_loc_conf_t   *elcf;
    ngx_http_es_main_conf_t  *emcf;
    ngx_http_es_mint_conf_t  *mcf;
    ngx_http_es_store_rec_t   rec;

    r = m->request;
    mcf = m->mcf;
    elcf = ngx_http_get_module_loc_conf(r, ngx_http_embed_session_module);
    emcf = ngx_http_get_module_main_conf(r, ngx_http_embed_session_module);

    ngx_memzero(&rec, sizeof(ngx_http_es_store_rec_t));

    ngx_memcpy(rec.id, id, NGX_HTTP_ES_ID_LEN);
    ngx_memcpy(rec.gen, id, NGX_HTTP_ES_ID_LEN);
    ngx_http_es_owner(rec.owner, &m->key->owner);

    ngx_str_null(&payload);

    if (mcf->ticket) {
        if (ngx_http_es_json_text(r->pool, claims, &payload) != NGX_OK) {
            return NGX_ERROR;
        }

        if (payload.len > NGX_HTTP_ES_TICKET_MAX) {
            ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                          "embed_session mint: the ticket's claims take "
                          "%uz bytes, more than %d", payload.len,
                          NGX_HTTP_ES_TICKET_MAX);
            return ngx_http_es_error(r, NGX_HTTP_ES_BODY_TOO_LARGE);
        }

        /* the token the exchange signs: these claims with "iat" and "exp" */

        len = ngx_http_es_jws_compact_length(mcf->key, mcf->header.len,
                                             payload.len
                                             + NGX_HTTP_ES_MINT_TIMES_LEN);

        if (len > NGX_HTTP_ES_JWS_MAX_TOKEN) {
            ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                          "embed_session mint: the ticket's token would take "
                          "%uz bytes, more than the %d a token may have",
                          len, NGX_HTTP_ES_JWS_MAX_TOKEN);
            return ngx_http_es_error(r, NGX_HTTP_ES_BODY_TOO_LARGE);
        }

        rec.flags = NGX_HTTP_ES_STORE_TICKET;
        rec.end = now + mcf->ticket;

        /* an expired ticket is told apart from an unknown one a while */

        rec.expires = rec.end + mcf->ticket + emcf->leeway;
        rec.ttl = ttl;
        rec.payload_len = payload.len;

    } else {
        rec.end = now + mcf->lifetime;
        rec.expires = rec.end + emcf->leeway;
        rec.iat = now;
        rec.exp = now + ttl;
    }

    rc = ngx_http_es_store_add(elcf->store, &rec, payload.data,
                               r->connection->log);

    if (rc == NGX_AGAIN) {
        return ngx_http_es_error(r, NGX_HTTP_ES_STORE_FULL);
    }

    if (rc == NGX_BUSY) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "embed_session mint: API key \"%V\" has %ui live "
                      "records in store zone \"%V\" already (per_key=)",
                      &m->key->id, elcf->store->per_key,
                      &elcf->store->name);
        return ngx_http_es_error(r, NGX_HTTP_ES_SESSION_QUOTA);
    }

    if (rc != NGX_OK) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "embed_session mint: session id collision");
        return ngx_http_es_error(r, NGX_HTTP_ES_MINT_FAILED);
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "embed_session: mint: stored in zone \"%V\"%s",
                   &elcf->store->name, mcf->ticket ? ", a ticket" : "");

    return NGX_OK;
}


/* one compact token of the location's key: a session or a renew token */

ngx_int_t
ngx_http_es_mint_signed(ngx_http_request_t *r, ngx_http_es_mint_conf_t *mcf,
    ngx_uint_t renew, u_char *payload, size_t len, ngx_str_t *out)
{
    ngx_str_t  *header;

    header = renew ? &mcf->renew_header : &mcf->header;

    /* a token the verifier would refuse is not minted */

    out->len = ngx_http_es_jws_compact_length(mcf->key, header->len, len);

    if (out->len > NGX_HTTP_ES_JWS_MAX_TOKEN) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "embed_session mint: the token would take %uz bytes, "
                      "more than the %d a token may have", out->len,
                      NGX_HTTP_ES_JWS_MAX_TOKEN);
        return ngx_http_es_error(r, NGX_HTTP_ES_BODY_TOO_LARGE);
    }

    out->data = ngx_pnalloc(r->pool, out->len);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    if (ngx_http_es_jws_sign_compact(mcf->key, header->data, header->len,
                                     payload, len, out->data, &out->len)
        != NGX_HTTP_ES_JWS_OK)
    {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "embed_session mint: signing failed");
        return ngx_http_es_error(r, NGX_HTTP_ES_MINT_FAILED);
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "embed_session: mint: %s token signed, %uz bytes",
                   renew ? "renew" : "session", out->len);

    return NGX_OK;
}


/* the answer of a refresh or an exchange: what the context holds */

ngx_int_t
ngx_http_es_mint_answer(ngx_http_request_t *r, ngx_http_es_mint_conf_t *mcf,
    time_t ttl)
{
    ngx_http_es_mint_t  m;

    ngx_memzero(&m, sizeof(ngx_http_es_mint_t));

    m.request = r;
    m.mcf = mcf;
    m.ttl = ttl;

    if (ngx_array_init(&m.origins, r->pool, 1, sizeof(ngx_str_t)) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_es_mint_respond(&m);
}


/*
 * The response: each output's value rendered as JSON text, then written
 * along the tree of output paths built at configuration time (members in
 * the order of their first line; an object none of whose values is
 * present is left out, as an absent field is).
 */

static ngx_int_t
ngx_http_es_mint_respond(ngx_http_es_mint_t *m)
{
    u_char                   *p, *pass;
    size_t                    len;
    ngx_tm_t                  tm;
    ngx_str_t                *text, *t, value, *origin;
    ngx_uint_t                i, k;
    ngx_http_es_ctx_t        *ctx;
    ngx_http_request_t       *r;
    ngx_http_es_output_t     *o;
    ngx_http_es_mint_conf_t  *mcf;

    r = m->request;
    mcf = m->mcf;
    ctx = ngx_http_es_get_ctx(r, 0);

    text = ngx_pcalloc(r->pool, mcf->outputs->nelts * sizeof(ngx_str_t));
    pass = ngx_pnalloc(r->pool, mcf->outputs->nelts);

    if (text == NULL || pass == NULL
        || ngx_http_es_mint_conds(m, pass) != NGX_OK)
    {
        return NGX_ERROR;
    }

    o = mcf->outputs->elts;

    for (i = 0; i < mcf->outputs->nelts; i++) {

        /* the group's slot: taken by an earlier line, or not this one's */

        t = &text[o[i].group];

        if (t->len || !pass[i]) {
            continue;
        }

        switch (o[i].type) {

        case NGX_HTTP_ES_OUT_TOKEN:
            value = ctx->minted;
            break;

        case NGX_HTTP_ES_OUT_SESSION_ID:
            value = ctx->minted_sid.len ? ctx->minted_sid : ctx->minted_jti;
            break;

        case NGX_HTTP_ES_OUT_RENEW_TOKEN:
            value = ctx->renew;

            if (value.len == 0) {
                continue;
            }

            break;

        case NGX_HTTP_ES_OUT_EXPIRES_AT:
            p = ngx_pnalloc(r->pool, sizeof("\"1970-01-01T00:00:00.000Z\""));
            if (p == NULL) {
                return NGX_ERROR;
            }

            ngx_gmtime(ctx->minted_exp, &tm);

            t->data = p;
            t->len = ngx_sprintf(p, "\"%4d-%02d-%02dT%02d:%02d:%02d"
                                 ".000Z\"", tm.ngx_tm_year,
                                 tm.ngx_tm_mon, tm.ngx_tm_mday,
                                 tm.ngx_tm_hour, tm.ngx_tm_min,
                                 tm.ngx_tm_sec)
                     - p;
            continue;

        case NGX_HTTP_ES_OUT_EXPIRES_IN:
            p = ngx_pnalloc(r->pool, NGX_TIME_T_LEN);
            if (p == NULL) {
                return NGX_ERROR;
            }

            t->data = p;
            t->len = ngx_sprintf(p, "%T", m->ttl) - p;
            continue;

        case NGX_HTTP_ES_OUT_ORIGINS:

            /* normalised origins need no escaping */

            origin = m->origins.elts;
            len = 2;

            for (k = 0; k < m->origins.nelts; k++) {
                len += origin[k].len + 3;
            }

            p = ngx_pnalloc(r->pool, len);
            if (p == NULL) {
                return NGX_ERROR;
            }

            t->data = p;
            *p++ = '[';

            for (k = 0; k < m->origins.nelts; k++) {
                if (k) {
                    *p++ = ',';
                }

                *p++ = '"';
                p = ngx_cpymem(p, origin[k].data, origin[k].len);
                *p++ = '"';
            }

            *p++ = ']';
            t->len = p - t->data;
            continue;

        case NGX_HTTP_ES_OUT_FIELD:
            if (m->values && m->values[o[i].field]
                && ngx_http_es_json_text(r->pool, m->values[o[i].field], t)
                   != NGX_OK)
            {
                return NGX_ERROR;
            }

            continue;

        default: /* NGX_HTTP_ES_OUT_VALUE */
            if (ngx_http_complex_value(r, o[i].value, &value) != NGX_OK) {
                return NGX_ERROR;
            }

            len = ngx_http_es_json_quote(value.data, value.len, NULL, 0);

            if (len == 0) {
                ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                              "embed_session mint: the output \"%V\" is not "
                              "valid UTF-8", &o[i].path);
                return NGX_ERROR;
            }

            p = ngx_pnalloc(r->pool, len);
            if (p == NULL) {
                return NGX_ERROR;
            }

            t->data = p;
            t->len = ngx_http_es_json_quote(value.data, value.len, p, len);
            continue;
        }

        /* the module's own text: base64url, a UUID, no escaping */

        p = ngx_pnalloc(r->pool, value.len + 2);
        if (p == NULL) {
            return NGX_ERROR;
        }

        t->data = p;
        *p++ = '"';
        p = ngx_cpymem(p, value.data, value.len);
        *p++ = '"';
        t->len = p - t->data;
    }

    len = ngx_http_es_mint_out_size(&mcf->out_root, text);

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    value.data = p;
    value.len = ngx_http_es_mint_out_write(p, &mcf->out_root, text) - p;

    return ngx_http_es_send_json(r, mcf->status, value.data, value.len);
}


/*
 * The conditions of the output lines: if= compares a request field (its
 * default included), if_claim= a claim of the token the answer carries,
 * read back from that token (a mint, a refresh, an exchange alike).  An
 * absent field or claim, or an answer without a token (a one-time
 * ticket), holds no condition.
 */

static ngx_int_t
ngx_http_es_mint_conds(ngx_http_es_mint_t *m, u_char *pass)
{
    u_char                *dot, *last, *buf;
    size_t                 len;
    ngx_uint_t             i, read;
    ngx_http_es_ctx_t     *ctx;
    ngx_http_es_json_t    *claims, *v;
    ngx_http_request_t    *r;
    ngx_http_es_output_t  *o;
    char                   err[160];

    r = m->request;
    ctx = ngx_http_es_get_ctx(r, 0);
    o = m->mcf->outputs->elts;
    claims = NULL;
    read = 0;

    for (i = 0; i < m->mcf->outputs->nelts; i++) {
        pass[i] = 1;

        if (o[i].cond.len == 0) {
            continue;
        }

        if (o[i].cond_field != -1) {
            v = m->values ? m->values[o[i].cond_field] : NULL;
            pass[i] = v && ngx_http_es_mint_value_is(v, &o[i].cond_value);
            continue;
        }

        if (!read && ctx && ctx->minted.len) {
            read = 1;

            /* the payload segment of the token just signed */

            last = ctx->minted.data + ctx->minted.len;
            dot = ngx_strlchr(ctx->minted.data, last, '.');
            last = dot ? ngx_strlchr(dot + 1, last, '.') : NULL;

            if (last == NULL) {
                return NGX_ERROR;
            }

            buf = ngx_pnalloc(r->pool, (last - dot) * 3 / 4 + 3);
            if (buf == NULL) {
                return NGX_ERROR;
            }

            if (ngx_http_es_jws_b64_decode(buf, &len, dot + 1,
                                           last - dot - 1)
                != NGX_HTTP_ES_JWS_OK)
            {
                return NGX_ERROR;
            }

            claims = ngx_http_es_json_parse(buf, len, err, sizeof(err));
            if (claims == NULL) {
                ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                              "embed_session mint: the claims just signed "
                              "do not parse: %s", err);
                return NGX_ERROR;
            }
        }

        v = claims ? ngx_http_es_mint_get(claims, &o[i].cond_path) : NULL;
        pass[i] = v && ngx_http_es_mint_value_is(v, &o[i].cond_value);
    }

    ngx_http_es_json_free(claims);

    return NGX_OK;
}


/* a member by its dotted path, NULL: absent */

static ngx_http_es_json_t *
ngx_http_es_mint_get(ngx_http_es_json_t *obj, ngx_str_t *path)
{
    u_char  *p, *dot, *end;

    p = path->data;
    end = p + path->len;

    for ( ;; ) {
        if (obj == NULL
            || ngx_http_es_json_type(obj) != NGX_HTTP_ES_JSON_OBJECT)
        {
            return NULL;
        }

        dot = ngx_strlchr(p, end, '.');

        obj = ngx_http_es_json_get(obj, p, (dot ? dot : end) - p);

        if (dot == NULL) {
            return obj;
        }

        p = dot + 1;
    }
}


/* 0: nothing of the node is present (the root is always written) */

static size_t
ngx_http_es_mint_out_size(ngx_http_es_out_node_t *node, ngx_str_t *text)
{
    size_t                   len, n;
    ngx_uint_t               i, k;
    ngx_http_es_out_node_t  *child;

    if (node->output != -1) {
        n = text[node->output].len;
        return n ? node->key.len + n : 0;
    }

    len = node->key.len + 2;
    child = node->children.elts;

    for (i = 0, k = 0; i < node->children.nelts; i++) {
        n = ngx_http_es_mint_out_size(&child[i], text);

        if (n) {
            len += n + (k++ ? 1 : 0);
        }
    }

    return (k || node->key.len == 0) ? len : 0;
}


static u_char *
ngx_http_es_mint_out_write(u_char *p, ngx_http_es_out_node_t *node,
    ngx_str_t *text)
{
    ngx_uint_t               i, k;
    ngx_http_es_out_node_t  *child;

    p = ngx_cpymem(p, node->key.data, node->key.len);

    if (node->output != -1) {
        return ngx_cpymem(p, text[node->output].data,
                          text[node->output].len);
    }

    *p++ = '{';
    child = node->children.elts;

    for (i = 0, k = 0; i < node->children.nelts; i++) {
        if (ngx_http_es_mint_out_size(&child[i], text) == 0) {
            continue;
        }

        if (k++) {
            *p++ = ',';
        }

        p = ngx_http_es_mint_out_write(p, &child[i], text);
    }

    *p++ = '}';

    return p;
}


static ngx_http_es_json_t *
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


/* set() releases v on failure, and a NULL v is a failure */

static ngx_int_t
ngx_http_es_mint_set(ngx_http_es_json_t *obj, ngx_str_t *path,
    ngx_http_es_json_t *v)
{
    if (v == NULL) {
        return NGX_ERROR;
    }

    return ngx_http_es_json_set(obj, path->data, path->len, v) == 0
           ? NGX_OK : NGX_ERROR;
}


static ngx_http_es_json_t *
ngx_http_es_mint_text(ngx_str_t *s)
{
    return ngx_http_es_json_new_string(s->data, s->len);
}


static ngx_int_t
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


/* configuration */

static ngx_http_es_mint_conf_t *
ngx_http_es_mint_conf(ngx_conf_t *cf, ngx_http_es_loc_conf_t *elcf)
{
    ngx_http_es_mint_conf_t  *mcf;

    if (elcf->mint) {
        return elcf->mint;
    }

    mcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_es_mint_conf_t));
    if (mcf == NULL) {
        return NULL;
    }

    if (ngx_array_init(&mcf->fields, cf->pool, 8, sizeof(ngx_http_es_field_t))
        != NGX_OK)
    {
        return NULL;
    }

    mcf->enable = NGX_CONF_UNSET;
    mcf->body_max = NGX_CONF_UNSET_SIZE;
    mcf->unknown_reject = NGX_CONF_UNSET;
    mcf->ttl = NGX_CONF_UNSET;
    mcf->ttl_max = NGX_CONF_UNSET;
    mcf->origins = NGX_CONF_UNSET_UINT;
    mcf->status = NGX_CONF_UNSET_UINT;
    mcf->origins_field = -1;
    mcf->ttl_field = -1;
    mcf->lifetime = NGX_CONF_UNSET;
    mcf->ticket = NGX_CONF_UNSET;

    elcf->mint = mcf;

    return mcf;
}


/* a refresh or an exchange location mints too, from what it is given */

char *
ngx_http_es_mint_lifecycle(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_es_loc_conf_t  *elcf = conf;

    ngx_http_es_mint_conf_t  *mcf;

    mcf = ngx_http_es_mint_conf(cf, elcf);
    if (mcf == NULL) {
        return NGX_CONF_ERROR;
    }

    if (mcf->enable != NGX_CONF_UNSET) {
        return "cannot be combined with \"embed_session_mint\" or another "
               "lifecycle directive";
    }

    mcf->enable = 1;
    mcf->lifecycle = 1;

    return NGX_CONF_OK;
}


static ngx_int_t
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


char *
ngx_http_es_mint(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_es_loc_conf_t  *elcf = conf;

    ngx_str_t                 *value;
    ngx_http_es_mint_conf_t   *mcf;
    ngx_http_core_loc_conf_t  *clcf;

    mcf = ngx_http_es_mint_conf(cf, elcf);
    if (mcf == NULL) {
        return NGX_CONF_ERROR;
    }

    if (mcf->enable != NGX_CONF_UNSET) {
        return mcf->lifecycle ? "cannot be combined with a lifecycle "
                                "directive"
                              : "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "on") == 0) {
        mcf->enable = 1;

    } else if (ngx_strcmp(value[1].data, "off") == 0) {
        mcf->enable = 0;
        return NGX_CONF_OK;

    } else {
        return "takes \"on\" or \"off\"";
    }

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_es_mint_handler;

    return NGX_CONF_OK;
}


char *
ngx_http_es_mint_field_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_es_loc_conf_t  *elcf = conf;

    u_char                    *dot;
    ngx_str_t                 *value, s, parent, *e;
    ngx_int_t                  n, p;
    ngx_uint_t                 i, k;
    ngx_http_es_field_t       *f, *fields;
    ngx_http_es_mint_conf_t   *mcf;
#if (NGX_PCRE)
    u_char                     errstr[NGX_MAX_CONF_ERRSTR];
    ngx_regex_compile_t        rc;
#endif

    mcf = ngx_http_es_mint_conf(cf, elcf);
    if (mcf == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;

    if (value[1].len == 0 || value[1].len > 200
        || value[1].data[0] == '.' || value[1].data[value[1].len - 1] == '.'
        || ngx_strlchr(value[1].data, value[1].data + value[1].len, '[')
        || ngx_strstrn(value[1].data, "..", 2 - 1))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid field path \"%V\"",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    if (ngx_http_es_mint_field_index(mcf, &value[1]) != -1) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "field \"%V\" is declared twice", &value[1]);
        return NGX_CONF_ERROR;
    }

    f = ngx_array_push(&mcf->fields);
    if (f == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(f, sizeof(ngx_http_es_field_t));

    f->path = value[1];
    f->parent = -1;
    f->required_if_field = -1;
    f->excludes_field = -1;

    dot = NULL;
    for (k = value[1].len; k > 0; k--) {
        if (value[1].data[k - 1] == '.') {
            dot = &value[1].data[k - 1];
            break;
        }
    }

    if (dot) {
        parent.data = value[1].data;
        parent.len = dot - value[1].data;

        p = ngx_http_es_mint_field_index(mcf, &parent);

        fields = mcf->fields.elts;

        if (p == -1 || fields[p].type != NGX_HTTP_ES_FIELD_OBJECT) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "field \"%V\" needs \"%V\" declared before "
                               "it as an object", &value[1], &parent);
            return NGX_CONF_ERROR;
        }

        fields[p].has_children = 1;
        f = &fields[mcf->fields.nelts - 1];

        f->parent = p;
        f->name.data = dot + 1;
        f->name.len = value[1].data + value[1].len - (dot + 1);

    } else {
        f->name = value[1];
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
        s = value[i];

        if (ngx_strcmp(s.data, "required") == 0) {
            f->required = 1;
            continue;
        }

        if (ngx_strcmp(s.data, "null") == 0) {
            f->nullable = 1;
            continue;
        }

        if (ngx_strcmp(s.data, "ttl") == 0) {
            if (f->type != NGX_HTTP_ES_FIELD_INTEGER
                || mcf->ttl_field != -1)
            {
                goto invalid;
            }

            f->ttl = 1;
            mcf->ttl_field = mcf->fields.nelts - 1;
            continue;
        }

        if (ngx_strcmp(s.data, "stringified") == 0) {
            if (f->type != NGX_HTTP_ES_FIELD_INTEGER
                && f->type != NGX_HTTP_ES_FIELD_ARRAY
                && f->type != NGX_HTTP_ES_FIELD_STRINGS
                && f->type != NGX_HTTP_ES_FIELD_ORIGINS)
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "field \"%V\": \"stringified\" is for "
                                   "integer and array fields", &value[1]);
                return NGX_CONF_ERROR;
            }

            f->stringified = 1;
            continue;
        }

        if (ngx_strcmp(s.data, "resource") == 0) {
            if (f->type != NGX_HTTP_ES_FIELD_STRINGS) {
                goto invalid;
            }

            f->resource = 1;
            continue;
        }

        if (s.len > 4 && ngx_strncmp(s.data, "min=", 4) == 0) {
            n = ngx_atoi(s.data + 4, s.len - 4);
            if (n == NGX_ERROR) {
                goto invalid;
            }

            f->has_min = 1;
            f->min = n;
            continue;
        }

        if (s.len > 4 && ngx_strncmp(s.data, "max=", 4) == 0) {
            n = ngx_atoi(s.data + 4, s.len - 4);
            if (n == NGX_ERROR) {
                goto invalid;
            }

            f->has_max = 1;
            f->max = n;
            continue;
        }

        if (s.len > 5 && ngx_strncmp(s.data, "enum=", 5) == 0) {
            f->enums = ngx_array_create(cf->pool, 4, sizeof(ngx_str_t));
            if (f->enums == NULL) {
                return NGX_CONF_ERROR;
            }

            s.data += 5;
            s.len -= 5;

            while (s.len) {
                e = ngx_array_push(f->enums);
                if (e == NULL) {
                    return NGX_CONF_ERROR;
                }

                e->data = s.data;
                dot = ngx_strlchr(s.data, s.data + s.len, '|');
                e->len = (dot ? dot : s.data + s.len) - s.data;

                if (e->len == 0) {
                    goto invalid;
                }

                s.len -= e->len + (dot ? 1 : 0);
                s.data += e->len + (dot ? 1 : 0);

                if (dot && s.len == 0) {
                    goto invalid;
                }
            }

            continue;
        }

        if (s.len > 8 && ngx_strncmp(s.data, "pattern=", 8) == 0) {
#if (NGX_PCRE)
            ngx_memzero(&rc, sizeof(ngx_regex_compile_t));

            rc.pattern.data = s.data + 8;
            rc.pattern.len = s.len - 8;
            rc.pool = cf->pool;
            rc.err.len = NGX_MAX_CONF_ERRSTR;
            rc.err.data = errstr;

            if (ngx_regex_compile(&rc) != NGX_OK) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "field \"%V\": %V",
                                   &value[1], &rc.err);
                return NGX_CONF_ERROR;
            }

            f->pattern = rc.regex;

            /* "...$", not "...\\$" */

            n = rc.pattern.len;
            f->pattern_end = (rc.pattern.data[n - 1] == '$'
                              && (n < 2 || rc.pattern.data[n - 2] != '\\'));
            continue;
#else
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "field \"%V\": \"pattern=\" requires PCRE "
                               "library, and nginx was built without it",
                               &value[1]);
            return NGX_CONF_ERROR;
#endif
        }

        if (ngx_strcmp(s.data, "format=email") == 0) {
            f->format = NGX_HTTP_ES_FORMAT_EMAIL;
            continue;
        }

        if (ngx_strcmp(s.data, "format=url") == 0) {
            f->format = NGX_HTTP_ES_FORMAT_URL;
            continue;
        }

        if (s.len > 8 && ngx_strncmp(s.data, "default=", 8) == 0) {
            f->deflt.data = s.data + 8;
            f->deflt.len = s.len - 8;
            f->has_default = 1;
            continue;
        }

        if (s.len > 6 && ngx_strncmp(s.data, "claim=", 6) == 0) {
            f->claim.data = s.data + 6;
            f->claim.len = s.len - 6;
            continue;
        }

        if (s.len > 12 && ngx_strncmp(s.data, "required_if=", 12) == 0) {
            f->required_if.data = s.data + 12;
            f->required_if.len = s.len - 12;
            continue;
        }

        if (s.len > 9 && ngx_strncmp(s.data, "excludes=", 9) == 0) {
            f->excludes.data = s.data + 9;
            f->excludes.len = s.len - 9;
            continue;
        }

        goto invalid;
    }

    if (f->has_default) {
        switch (f->type) {

        case NGX_HTTP_ES_FIELD_INTEGER:
        case NGX_HTTP_ES_FIELD_NUMBER:
            if (ngx_atoi(f->deflt.data, f->deflt.len) == NGX_ERROR) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "field \"%V\": default is not an integer",
                                   &value[1]);
                return NGX_CONF_ERROR;
            }

            break;

        case NGX_HTTP_ES_FIELD_BOOLEAN:
            if (ngx_strcmp(f->deflt.data, "true") != 0
                && ngx_strcmp(f->deflt.data, "false") != 0)
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "field \"%V\": default is not true or "
                                   "false", &value[1]);
                return NGX_CONF_ERROR;
            }

            break;

        case NGX_HTTP_ES_FIELD_STRING:
            if (f->enums && !ngx_http_es_str_in(f->enums, &f->deflt)) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "field \"%V\": default is not one of "
                                   "its enum values", &value[1]);
                return NGX_CONF_ERROR;
            }

            break;

        case NGX_HTTP_ES_FIELD_OBJECT:
            if (ngx_strcmp(f->deflt.data, "{}") != 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "field \"%V\": an object's default can "
                                   "only be {}, its members' defaults fill "
                                   "it", &value[1]);
                return NGX_CONF_ERROR;
            }

            break;

        default:
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "field \"%V\": only a string, an integer, a "
                               "boolean or an object can have a default",
                               &value[1]);
            return NGX_CONF_ERROR;
        }
    }

    if (f->required && (f->has_default || f->required_if.len)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "field \"%V\": \"required\" with a default or "
                           "required_if= means nothing", &value[1]);
        return NGX_CONF_ERROR;
    }

    if ((f->enums || f->pattern || f->format)
        && f->type != NGX_HTTP_ES_FIELD_STRING
        && f->type != NGX_HTTP_ES_FIELD_STRINGS)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "field \"%V\": enum=, pattern= and format= are for "
                           "strings", &value[1]);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "field \"%V\": invalid option \"%V\"", &value[1], &s);
    return NGX_CONF_ERROR;
}


char *
ngx_http_es_mint_ttl(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_es_loc_conf_t  *elcf = conf;

    ngx_str_t                *value, s;
    ngx_http_es_mint_conf_t  *mcf;

    mcf = ngx_http_es_mint_conf(cf, elcf);
    if (mcf == NULL) {
        return NGX_CONF_ERROR;
    }

    if (mcf->ttl != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;

    mcf->ttl = ngx_parse_time(&value[1], 1);
    if (mcf->ttl == (time_t) NGX_ERROR || mcf->ttl == 0) {
        return "has an invalid lifetime";
    }

    if (cf->args->nelts == 3) {
        if (value[2].len <= 4 || ngx_strncmp(value[2].data, "max=", 4) != 0) {
            return "takes \"max=\" as its second parameter";
        }

        s.data = value[2].data + 4;
        s.len = value[2].len - 4;

        mcf->ttl_max = ngx_parse_time(&s, 1);
        if (mcf->ttl_max == (time_t) NGX_ERROR || mcf->ttl_max == 0) {
            return "has an invalid max=";
        }
    }

    return NGX_CONF_OK;
}


char *
ngx_http_es_mint_ttl_if(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_es_loc_conf_t  *elcf = conf;

    ngx_str_t                *value;
    ngx_http_es_ttl_if_t     *ti;
    ngx_http_es_mint_conf_t  *mcf;

    mcf = ngx_http_es_mint_conf(cf, elcf);
    if (mcf == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;

    ti = ngx_http_es_conf_push(cf, &mcf->ttl_ifs,
                               sizeof(ngx_http_es_ttl_if_t));
    if (ti == NULL) {
        return NGX_CONF_ERROR;
    }

    ti->field = ngx_http_es_mint_field_index(mcf, &value[1]);
    if (ti->field == -1) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "field \"%V\" is not declared before",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    ti->value = value[2];

    ti->ttl = ngx_parse_time(&value[3], 1);
    if (ti->ttl == (time_t) NGX_ERROR || ti->ttl == 0) {
        return "has an invalid lifetime";
    }

    return NGX_CONF_OK;
}


char *
ngx_http_es_mint_claim(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_es_loc_conf_t  *elcf = conf;

    ngx_str_t                         *value;
    ngx_http_es_mint_conf_t           *mcf;
    ngx_http_es_mint_claim_t          *mc;
    ngx_http_compile_complex_value_t   ccv;

    mcf = ngx_http_es_mint_conf(cf, elcf);
    if (mcf == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;

    mc = ngx_http_es_conf_push(cf, &mcf->claims,
                               sizeof(ngx_http_es_mint_claim_t));
    if (mc == NULL) {
        return NGX_CONF_ERROR;
    }

    mc->name = value[1];

    ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

    ccv.cf = cf;
    ccv.value = &value[2];
    ccv.complex_value = &mc->value;

    if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    /* a constant is checked here; what variables give, per request */

    if (mc->value.lengths == NULL
        && !ngx_http_es_json_utf8(value[2].data, value[2].len))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "the value of claim \"%V\" is not valid UTF-8",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


char *
ngx_http_es_mint_output(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_es_loc_conf_t  *elcf = conf;

    u_char                            *colon;
    ngx_str_t                         *value, s;
    ngx_http_es_output_t              *o;
    ngx_http_es_mint_conf_t           *mcf;
    ngx_http_compile_complex_value_t   ccv;

    mcf = ngx_http_es_mint_conf(cf, elcf);
    if (mcf == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;

    o = ngx_http_es_conf_push(cf, &mcf->outputs,
                              sizeof(ngx_http_es_output_t));
    if (o == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(o, sizeof(ngx_http_es_output_t));

    o->path = value[1];
    o->field = -1;
    o->cond_field = -1;
    o->group = mcf->outputs->nelts - 1;

    /* if=FIELD:VALUE, if_claim=CLAIM:VALUE: resolved at merge time */

    if (cf->args->nelts == 4) {
        s = value[3];

        if (s.len > 3 && ngx_strncmp(s.data, "if=", 3) == 0) {
            o->cond_path.data = s.data + 3;

        } else if (s.len > 9 && ngx_strncmp(s.data, "if_claim=", 9) == 0) {
            o->cond_path.data = s.data + 9;

        } else {
            goto bad_cond;
        }

        colon = ngx_strlchr(o->cond_path.data, s.data + s.len, ':');

        if (colon == NULL || colon == o->cond_path.data) {
            goto bad_cond;
        }

        o->cond = s;
        o->cond_path.len = colon - o->cond_path.data;
        o->cond_value.data = colon + 1;
        o->cond_value.len = s.data + s.len - colon - 1;
    }

    s = value[2];

    if (ngx_strcmp(s.data, "token") == 0) {
        o->type = NGX_HTTP_ES_OUT_TOKEN;

    } else if (ngx_strcmp(s.data, "expires_at") == 0) {
        o->type = NGX_HTTP_ES_OUT_EXPIRES_AT;

    } else if (ngx_strcmp(s.data, "expires_in") == 0) {
        o->type = NGX_HTTP_ES_OUT_EXPIRES_IN;

    } else if (ngx_strcmp(s.data, "session_id") == 0) {
        o->type = NGX_HTTP_ES_OUT_SESSION_ID;

    } else if (ngx_strcmp(s.data, "origins") == 0) {
        o->type = NGX_HTTP_ES_OUT_ORIGINS;

    } else if (ngx_strcmp(s.data, "renew_token") == 0) {
        o->type = NGX_HTTP_ES_OUT_RENEW_TOKEN;
        mcf->renew = 1;

    } else if (s.len > 6 && ngx_strncmp(s.data, "field=", 6) == 0) {
        o->type = NGX_HTTP_ES_OUT_FIELD;
        o->field_path.data = s.data + 6;
        o->field_path.len = s.len - 6;

        o->field = ngx_http_es_mint_field_index(mcf, &o->field_path);
        if (o->field == -1) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "field \"%V\" is not declared before",
                               &o->field_path);
            return NGX_CONF_ERROR;
        }

    } else if (s.len > 6 && ngx_strncmp(s.data, "value=", 6) == 0) {
        o->type = NGX_HTTP_ES_OUT_VALUE;

        o->value = ngx_palloc(cf->pool, sizeof(ngx_http_complex_value_t));
        if (o->value == NULL) {
            return NGX_CONF_ERROR;
        }

        s.data += 6;
        s.len -= 6;

        ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

        ccv.cf = cf;
        ccv.value = &s;
        ccv.complex_value = o->value;

        if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
            return NGX_CONF_ERROR;
        }

    } else {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid output value \"%V\": token, renew_token, "
                           "expires_at, expires_in, session_id, origins, "
                           "field=PATH or value=TEMPLATE", &s);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;

bad_cond:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid condition \"%V\": if=FIELD:VALUE (a request "
                       "field) or if_claim=CLAIM:VALUE (a claim of the "
                       "token)", &value[3]);
    return NGX_CONF_ERROR;
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

    u_char                            *p, *bar, *end;
    ngx_int_t                          status;
    ngx_str_t                         *value, s, item;
    ngx_uint_t                         i, n;
    ngx_http_es_field_t               *f;
    ngx_http_es_known_t               *k;
    ngx_http_es_known_value_t         *kv;
    ngx_http_es_mint_conf_t           *mcf;
    ngx_http_compile_complex_value_t   ccv;

    mcf = ngx_http_es_mint_conf(cf, elcf);
    if (mcf == NULL) {
        return NGX_CONF_ERROR;
    }

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

    status = ngx_atoi(value[i].data, value[i].len);

    if (status < 400 || status > 599) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid status \"%V\": 400 to 599", &value[i]);
        return NGX_CONF_ERROR;
    }

    k->deny.status = status;
    i++;

    if (value[i].len == 0 || value[i].len > 64) {
        goto bad_code;
    }

    for (p = value[i].data; p < value[i].data + value[i].len; p++) {
        if (!isalnum(*p) && *p != '_' && *p != '-' && *p != '.') {
            goto bad_code;
        }
    }

    k->deny.code = value[i];

    if (i + 1 < n) {
        k->deny.message = value[i + 1];
    }

    /* the values */

    if (value[2].len > 5 && ngx_strncmp(value[2].data, "file=", 5) == 0) {
        k->source.data = value[2].data + 5;
        k->source.len = value[2].len - 5;

        if (ngx_conf_full_name(cf->cycle, &k->source, 1) != NGX_OK) {
            return NGX_CONF_ERROR;
        }

        if (ngx_http_es_known_file(cf, k) != NGX_CONF_OK) {
            return NGX_CONF_ERROR;
        }

    } else if (value[2].len > 7
               && ngx_strncmp(value[2].data, "values=", 7) == 0)
    {
        ngx_str_set(&k->source, "values=");

        p = value[2].data + 7;
        end = value[2].data + value[2].len;

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
                break;
            }

            p = bar + 1;
        }

    } else {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid \"%V\": file=FILE or values=A|B|C",
                           &value[2]);
        return NGX_CONF_ERROR;
    }

    /* sorted, for a binary search; a value listed twice is a mistake */

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

bad_code:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid code \"%V\": 1 to 64 letters, digits, "
                       "\"_\", \".\", \"-\"", &value[i]);
    return NGX_CONF_ERROR;
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

    rc = ngx_http_es_file_read(cf, NULL, "", &name,
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


static ngx_conf_enum_t  ngx_http_es_mint_origins_modes[] = {
    { ngx_string("off"), NGX_HTTP_ES_MINT_ORIGINS_OFF },
    { ngx_string("body"), NGX_HTTP_ES_MINT_ORIGINS_BODY },
    { ngx_string("request"), NGX_HTTP_ES_MINT_ORIGINS_REQUEST },
    { ngx_null_string, 0 }
};


char *
ngx_http_es_mint_option(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_es_loc_conf_t  *elcf = conf;

    time_t                   *tp;
    ngx_int_t                 n;
    ngx_str_t                *value;
    ngx_uint_t                i, *slot;
    ngx_conf_enum_t          *e;
    ngx_http_es_mint_conf_t  *mcf;

    mcf = ngx_http_es_mint_conf(cf, elcf);
    if (mcf == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;

    switch (cmd->offset) {

    case 0: /* embed_session_mint_key */
        if (mcf->kid.data) {
            return "is duplicate";
        }

        mcf->kid = value[1];
        return NGX_CONF_OK;

    case 1: /* embed_session_mint_body_max */
        if (mcf->body_max != NGX_CONF_UNSET_SIZE) {
            return "is duplicate";
        }

        mcf->body_max = ngx_parse_size(&value[1]);
        if (mcf->body_max == (size_t) NGX_ERROR || mcf->body_max == 0
            || mcf->body_max > 1024 * 1024)
        {
            return "takes a size from 1 to 1m";
        }

        return NGX_CONF_OK;

    case 2: /* embed_session_mint_unknown */
        if (mcf->unknown_reject != NGX_CONF_UNSET) {
            return "is duplicate";
        }

        if (ngx_strcmp(value[1].data, "reject") == 0) {
            mcf->unknown_reject = 1;

        } else if (ngx_strcmp(value[1].data, "ignore") == 0) {
            mcf->unknown_reject = 0;

        } else {
            return "takes \"reject\" or \"ignore\"";
        }

        return NGX_CONF_OK;

    case 3: /* embed_session_mint_status */
        if (mcf->status != NGX_CONF_UNSET_UINT) {
            return "is duplicate";
        }

        n = ngx_atoi(value[1].data, value[1].len);
        if (n != NGX_HTTP_OK && n != NGX_HTTP_CREATED) {
            return "takes 200 or 201";
        }

        mcf->status = n;
        return NGX_CONF_OK;

    case 5: /* embed_session_mint_lifetime */
    case 6: /* embed_session_mint_exchange */
        tp = (cmd->offset == 5) ? &mcf->lifetime : &mcf->ticket;

        if (*tp != NGX_CONF_UNSET) {
            return "is duplicate";
        }

        *tp = ngx_parse_time(&value[1], 1);

        if (*tp == (time_t) NGX_ERROR || *tp < 1 || *tp > 31536000) {
            return "takes a time from 1s to 365d";
        }

        return NGX_CONF_OK;

    default: /* embed_session_mint_origins */
        slot = &mcf->origins;

        if (*slot != NGX_CONF_UNSET_UINT) {
            return "is duplicate";
        }

        e = ngx_http_es_mint_origins_modes;

        for (i = 0; e[i].name.len; i++) {
            if (e[i].name.len == value[1].len
                && ngx_strcmp(e[i].name.data, value[1].data) == 0)
            {
                *slot = e[i].value;
                return NGX_CONF_OK;
            }
        }

        return "takes \"body\", \"request\" or \"off\"";
    }
}


/* at merge time: defaults, names resolved, the signing key, the header */

char *
ngx_http_es_mint_merge(ngx_conf_t *cf, ngx_http_es_loc_conf_t *elcf)
{
    u_char                   *p, *colon;
    size_t                    len, kid_len;
    ngx_str_t                 s, *kid;
    ngx_uint_t                i, n;
    ngx_http_es_field_t      *f;
    ngx_http_es_output_t     *o;
    ngx_http_es_jws_key_t   **keys, *key;
    ngx_http_es_mint_conf_t  *mcf;
    const unsigned char      *k;

    mcf = elcf->mint;

    if (mcf->enable == 0) {
        elcf->mint = NULL;
        return NGX_CONF_OK;
    }

    if (mcf->enable == NGX_CONF_UNSET) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "embed_session_mint directives without "
                           "\"embed_session_mint on\" in the location");
        return NGX_CONF_ERROR;
    }

    ngx_conf_init_size_value(mcf->body_max, NGX_HTTP_ES_MINT_BODY_MAX);
    ngx_conf_init_value(mcf->unknown_reject, 1);
    ngx_conf_init_value(mcf->ttl, 900);
    ngx_conf_init_value(mcf->ttl_max, ngx_max(3600, mcf->ttl));
    ngx_conf_init_uint_value(mcf->status, mcf->lifecycle ? NGX_HTTP_OK
                                                         : NGX_HTTP_CREATED);
    ngx_conf_init_uint_value(mcf->origins,
                             mcf->lifecycle ? NGX_HTTP_ES_MINT_ORIGINS_OFF
                                            : NGX_HTTP_ES_MINT_ORIGINS_BODY);
    ngx_conf_init_value(mcf->lifetime, mcf->ttl_max);
    ngx_conf_init_value(mcf->ticket, 0);

    if ((mcf->renew || mcf->ticket || mcf->lifecycle) && elcf->store == NULL)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "renew tokens, one-time tickets, refreshes and "
                           "exchanges need \"embed_session_store\"");
        return NGX_CONF_ERROR;
    }

    if (mcf->renew && elcf->max_lifetime
        && mcf->lifetime > elcf->max_lifetime)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "renew tokens live \"embed_session_mint_lifetime"
                           "\" %T s, more than \"embed_session_max_lifetime"
                           "\" %T s: the refresh would refuse them",
                           mcf->lifetime, elcf->max_lifetime);
        return NGX_CONF_ERROR;
    }

    if (mcf->outputs && (mcf->ticket || mcf->lifecycle)) {
        o = mcf->outputs->elts;

        for (i = 0; i < mcf->outputs->nelts; i++) {
            if ((mcf->ticket
                 && (o[i].type == NGX_HTTP_ES_OUT_TOKEN
                     || o[i].type == NGX_HTTP_ES_OUT_RENEW_TOKEN))
                || (mcf->lifecycle
                    && (o[i].type == NGX_HTTP_ES_OUT_FIELD
                        || o[i].type == NGX_HTTP_ES_OUT_ORIGINS)))
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "\"embed_session_mint_output %V\" is "
                                   "not available here: %s", &o[i].path,
                                   mcf->ticket ? "a one-time ticket returns "
                                   "its id, the exchange returns the token"
                                   : "a refresh or an exchange has no body "
                                   "fields or origins of its own");
                return NGX_CONF_ERROR;
            }
        }
    }

    if (mcf->lifecycle) {
        elcf->life->ttl = mcf->ttl;
        elcf->life->lifetime = mcf->lifetime;
    }

    if (elcf->api.zone == NULL && !mcf->lifecycle) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"embed_session_mint\" needs "
                           "\"embed_session_api_key\"");
        return NGX_CONF_ERROR;
    }

    if (mcf->origins == NGX_HTTP_ES_MINT_ORIGINS_BODY
        && mcf->origins_field == -1)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"embed_session_mint_origins body\" needs a "
                           "field of type \"origins\"");
        return NGX_CONF_ERROR;
    }

    if (mcf->ttl > mcf->ttl_max) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"embed_session_mint_ttl\" %T is above its "
                           "max= %T", mcf->ttl, mcf->ttl_max);
        return NGX_CONF_ERROR;
    }

    if (elcf->max_lifetime && mcf->ttl_max > elcf->max_lifetime) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "the mint lifetime of up to %T s is above "
                           "\"embed_session_max_lifetime\" %T s: the "
                           "verifier would refuse the tokens",
                           mcf->ttl_max, elcf->max_lifetime);
        return NGX_CONF_ERROR;
    }

    if (mcf->ttl_ifs) {
        for (i = 0; i < mcf->ttl_ifs->nelts; i++) {
            if (((ngx_http_es_ttl_if_t *) mcf->ttl_ifs->elts)[i].ttl
                > mcf->ttl_max)
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "an \"embed_session_mint_ttl_if\" "
                                   "lifetime is above max= %T",
                                   mcf->ttl_max);
                return NGX_CONF_ERROR;
            }
        }
    }

    /* what the module writes, neither a field nor a claim line may */

    f = mcf->fields.elts;

    for (i = 0; i < mcf->fields.nelts; i++) {
        if (f[i].claim.len
            && ngx_http_es_mint_reserved(cf, elcf, &f[i].claim) != NGX_OK)
        {
            return NGX_CONF_ERROR;
        }
    }

    if (mcf->claims) {
        for (i = 0; i < mcf->claims->nelts; i++) {
            if (ngx_http_es_mint_reserved(cf, elcf,
                    &((ngx_http_es_mint_claim_t *) mcf->claims->elts)[i].name)
                != NGX_OK)
            {
                return NGX_CONF_ERROR;
            }
        }
    }

    /* and what would make every such token one the verifier refuses */

    for (i = 0; i < mcf->fields.nelts; i++) {
        if ((f[i].claim.len
             && ngx_http_es_mint_claim_fits(cf, elcf, &f[i].claim, &f[i])
                != NGX_OK)
            || ((ngx_int_t) i == mcf->origins_field
                && mcf->origins == NGX_HTTP_ES_MINT_ORIGINS_BODY
                && ngx_http_es_mint_claim_fits(cf, elcf, &elcf->origin_claim,
                                               &f[i])
                   != NGX_OK))
        {
            return NGX_CONF_ERROR;
        }
    }

    if (mcf->claims) {
        for (i = 0; i < mcf->claims->nelts; i++) {
            if (ngx_http_es_mint_claim_fits(cf, elcf,
                    &((ngx_http_es_mint_claim_t *) mcf->claims->elts)[i].name,
                    NULL)
                != NGX_OK)
            {
                return NGX_CONF_ERROR;
            }
        }
    }

    if (mcf->outputs == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"embed_session_mint\" needs "
                           "\"embed_session_mint_output\" lines: the token "
                           "must be returned somewhere");
        return NGX_CONF_ERROR;
    }

    if (ngx_http_es_mint_conds_merge(cf, mcf) != NGX_CONF_OK
        || ngx_http_es_mint_out_tree(cf, mcf) != NGX_CONF_OK)
    {
        return NGX_CONF_ERROR;
    }

    f = mcf->fields.elts;

    for (i = 0; i < mcf->fields.nelts; i++) {
        if (f[i].required_if.len) {
            colon = ngx_strlchr(f[i].required_if.data,
                                f[i].required_if.data + f[i].required_if.len,
                                ':');
            if (colon == NULL) {
                goto bad_ref;
            }

            s.data = f[i].required_if.data;
            s.len = colon - s.data;

            f[i].required_if_field = ngx_http_es_mint_field_index(mcf, &s);
            f[i].required_if_value.data = colon + 1;
            f[i].required_if_value.len = f[i].required_if.data
                                         + f[i].required_if.len - colon - 1;

            if (f[i].required_if_field == -1
                || (ngx_uint_t) f[i].required_if_field >= i)
            {
                goto bad_ref;
            }
        }

        if (f[i].excludes.len) {
            f[i].excludes_field = ngx_http_es_mint_field_index(mcf,
                                                               &f[i].excludes);

            if (f[i].excludes_field == -1
                || (ngx_uint_t) f[i].excludes_field == i)
            {
                goto bad_ref;
            }

            /* the check runs at the later of the two */

            if ((ngx_uint_t) f[i].excludes_field > i) {
                n = f[i].excludes_field;
                f[n].excludes_field = i;
                f[i].excludes_field = -1;
            }
        }
    }

    /* the signing key: named, or the only private key of the location */

    if (elcf->keyset == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"embed_session_mint\" needs a private key from "
                           "\"embed_session_keys\"");
        return NGX_CONF_ERROR;
    }

    keys = elcf->keyset->keys.elts;
    key = NULL;
    kid = &mcf->kid;

    for (i = 0; i < elcf->keyset->keys.nelts; i++) {
        if (!ngx_http_es_jws_key_can_sign(keys[i])) {
            continue;
        }

        k = ngx_http_es_jws_key_kid(keys[i], &kid_len);

        if (kid->data) {
            if (kid_len == kid->len && ngx_memcmp(k, kid->data, kid_len) == 0)
            {
                key = keys[i];
                break;
            }

            continue;
        }

        if (key) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"embed_session_keys\" has several private "
                               "keys: choose one with "
                               "\"embed_session_mint_key\"");
            return NGX_CONF_ERROR;
        }

        key = keys[i];
    }

    if (key == NULL) {
        if (kid->data) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "no private key with kid \"%V\" in "
                               "\"embed_session_keys\"", kid);

        } else {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"embed_session_keys\" has no private key to "
                               "mint with");
        }

        return NGX_CONF_ERROR;
    }

    mcf->key = key;

    /* {"alg":"..","typ":"..","kid":".."}, fixed for the location */

    k = ngx_http_es_jws_key_kid(key, &kid_len);

    len = sizeof("{\"alg\":\"\",\"typ\":\"\",\"kid\":\"\"}") + 16
          + 6 * (elcf->type.len + kid_len);

    p = ngx_pnalloc(cf->pool, len);
    if (p == NULL) {
        return NGX_CONF_ERROR;
    }

    mcf->header.data = p;

    p = ngx_sprintf(p, "{\"alg\":\"%s\"", ngx_http_es_jws_alg_name(
                                             ngx_http_es_jws_key_alg(key)));

    if (elcf->type.len) {
        p = ngx_cpymem(p, ",\"typ\":\"", 8);
        p = (u_char *) ngx_escape_json(p, elcf->type.data, elcf->type.len);
        *p++ = '"';
    }

    if (kid_len) {
        p = ngx_cpymem(p, ",\"kid\":\"", 8);
        p = (u_char *) ngx_escape_json(p, (u_char *) k, kid_len);
        *p++ = '"';
    }

    *p++ = '}';

    mcf->header.len = p - mcf->header.data;

    /* the renew token's: the same, with its own type */

    if (mcf->renew || mcf->lifecycle) {
        p = ngx_pnalloc(cf->pool, len + sizeof(NGX_HTTP_ES_RENEW_TYPE));
        if (p == NULL) {
            return NGX_CONF_ERROR;
        }

        mcf->renew_header.data = p;

        p = ngx_sprintf(p, "{\"alg\":\"%s\",\"typ\":\"%s\"",
                        ngx_http_es_jws_alg_name(ngx_http_es_jws_key_alg(key)),
                        NGX_HTTP_ES_RENEW_TYPE);

        if (kid_len) {
            p = ngx_cpymem(p, ",\"kid\":\"", 8);
            p = (u_char *) ngx_escape_json(p, (u_char *) k, kid_len);
            *p++ = '"';
        }

        *p++ = '}';

        mcf->renew_header.len = p - mcf->renew_header.data;
    }

    return NGX_CONF_OK;

bad_ref:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "field \"%V\": required_if= and excludes= must name "
                       "another declared field (required_if=PATH:VALUE, "
                       "PATH declared before)", &f[i].path);
    return NGX_CONF_ERROR;
}


/*
 * A claim the module sets itself: the registered times and ids, "sid",
 * and the origins claim when the mint writes origins.  Taking one from the
 * body would let a caller choose its own expiry, or a session id nobody
 * can revoke.
 */

static ngx_int_t
ngx_http_es_mint_reserved(ngx_conf_t *cf, ngx_http_es_loc_conf_t *elcf,
    ngx_str_t *claim)
{
    u_char      *dot;
    ngx_str_t    top, otop;
    ngx_uint_t   i;

    static ngx_str_t  reserved[] = {
        ngx_string("iss"), ngx_string("aud"), ngx_string("iat"),
        ngx_string("exp"), ngx_string("nbf"), ngx_string("jti"),
        ngx_string("sid"), ngx_null_string
    };

    top = *claim;
    dot = ngx_strlchr(top.data, top.data + top.len, '.');
    if (dot) {
        top.len = dot - top.data;
    }

    for (i = 0; reserved[i].len; i++) {
        if (top.len == reserved[i].len
            && ngx_strncmp(top.data, reserved[i].data, top.len) == 0)
        {
            goto reserved;
        }
    }

    if (elcf->mint->origins != NGX_HTTP_ES_MINT_ORIGINS_OFF) {
        otop = elcf->origin_claim;
        dot = ngx_strlchr(otop.data, otop.data + otop.len, '.');
        if (dot) {
            otop.len = dot - otop.data;
        }

        if (top.len == otop.len
            && ngx_strncmp(top.data, otop.data, top.len) == 0)
        {
            goto reserved;
        }
    }

    return NGX_OK;

reserved:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "the claim \"%V\" is set by the module, not by a "
                       "field or an \"embed_session_mint_claim\"", claim);
    return NGX_ERROR;
}


/*
 * A claim from a field (f) or an embed_session_mint_claim line (f NULL)
 * that every token would carry in a shape the verifier refuses: a "sub"
 * that is not a string, a value nested deeper than the verifier parses, or
 * an array whose max= items, with the members the module always writes,
 * are more than a token's claims may hold.
 */

static ngx_int_t
ngx_http_es_mint_claim_fits(ngx_conf_t *cf, ngx_http_es_loc_conf_t *elcf,
    ngx_str_t *claim, ngx_http_es_field_t *f)
{
    u_char      *p, *last, buf[320];
    ngx_str_t    what;
    ngx_uint_t   parts, oparts, depth, members, array;

    what.data = buf;
    what.len = (f ? ngx_snprintf(buf, sizeof(buf), "field \"%V\"", &f->path)
                  : ngx_snprintf(buf, sizeof(buf),
                                 "\"embed_session_mint_claim %V\"", claim))
               - buf;

    parts = 1;
    last = claim->data + claim->len;

    for (p = claim->data; p < last; p++) {
        if (*p == '.') {
            parts++;
        }
    }

    array = f && (f->type == NGX_HTTP_ES_FIELD_ARRAY
                  || f->type == NGX_HTTP_ES_FIELD_STRINGS
                  || f->type == NGX_HTTP_ES_FIELD_ORIGINS);

    if ((claim->len == 3 || (claim->len > 3 && claim->data[3] == '.'))
        && ngx_strncmp(claim->data, "sub", 3) == 0
        && (claim->len != 3 || (f && f->type != NGX_HTTP_ES_FIELD_STRING)))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "%V: the claim \"%V\" is not a string, and the "
                           "verifier refuses a token whose \"sub\" is not",
                           &what, claim);
        return NGX_ERROR;
    }

    /* the root object is at depth 1, a value at the end of the path below */

    depth = parts + 1 + (array ? 1 : 0);

    if (depth > NGX_HTTP_ES_JWS_MAX_DEPTH) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "%V: the claim \"%V\" nests %ui levels deep, more "
                           "than the %d the verifier accepts", &what, claim,
                           depth, NGX_HTTP_ES_JWS_MAX_DEPTH);
        return NGX_ERROR;
    }

    if (!array || !f->has_max) {
        return NGX_OK;
    }

    /* iat, exp, jti, and what the location adds, at the least */

    members = 3 + (elcf->store ? 1 : 0) + (elcf->issuer.len ? 1 : 0)
              + (elcf->audience.len ? 1 : 0) + parts + f->max;

    if (elcf->mint->origins != NGX_HTTP_ES_MINT_ORIGINS_OFF
        && !(claim->len == elcf->origin_claim.len
             && ngx_strncmp(claim->data, elcf->origin_claim.data,
                            claim->len) == 0))
    {
        oparts = 1;
        last = elcf->origin_claim.data + elcf->origin_claim.len;

        for (p = elcf->origin_claim.data; p < last; p++) {
            if (*p == '.') {
                oparts++;
            }
        }

        members += oparts + 1;
    }

    if (members > NGX_HTTP_ES_JWS_MAX_MEMBERS) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "%V: max=%i items in the claim \"%V\", with the "
                           "claims the module writes, make at least %ui "
                           "members and items, more than the %d the verifier "
                           "accepts", &what, f->max, claim, members,
                           NGX_HTTP_ES_JWS_MAX_MEMBERS);
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * The output lines' conditions: if= names a field of this location (a
 * string, an integer or a boolean), if_claim= a claim of the token in the
 * answer (not in a ticket's answer, which has none)
 */

static char *
ngx_http_es_mint_conds_merge(ngx_conf_t *cf, ngx_http_es_mint_conf_t *mcf)
{
    ngx_uint_t             i;
    ngx_http_es_field_t   *f;
    ngx_http_es_output_t  *o;

    o = mcf->outputs->elts;
    f = mcf->fields.elts;

    for (i = 0; i < mcf->outputs->nelts; i++) {

        if (o[i].cond.len == 0) {
            continue;
        }

        if (o[i].cond.data[2] != '=') {     /* if_claim= */

            if (mcf->ticket) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "\"embed_session_mint_output %V ... %V\": "
                                   "a one-time ticket's answer carries no "
                                   "token to read a claim from",
                                   &o[i].path, &o[i].cond);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (mcf->lifecycle) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"embed_session_mint_output %V ... %V\": a "
                               "refresh or an exchange has no request fields "
                               "of its own: use if_claim=CLAIM:VALUE",
                               &o[i].path, &o[i].cond);
            return NGX_CONF_ERROR;
        }

        o[i].cond_field = ngx_http_es_mint_field_index(mcf, &o[i].cond_path);

        if (o[i].cond_field == -1) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"embed_session_mint_output %V ... %V\": "
                               "\"%V\" is not a field declared with "
                               "\"embed_session_field\" in this location",
                               &o[i].path, &o[i].cond, &o[i].cond_path);
            return NGX_CONF_ERROR;
        }

        switch (f[o[i].cond_field].type) {

        case NGX_HTTP_ES_FIELD_STRING:
        case NGX_HTTP_ES_FIELD_INTEGER:
        case NGX_HTTP_ES_FIELD_BOOLEAN:
            break;

        default:
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"embed_session_mint_output %V ... %V\": "
                               "field \"%V\" is of type \"%V\": a condition "
                               "compares a string, an integer or a boolean",
                               &o[i].path, &o[i].cond, &o[i].cond_path,
                               &ngx_http_es_field_types[
                                   f[o[i].cond_field].type]);
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}


/* the tree of output paths: "data.sessionToken" is a member of "data" */

static char *
ngx_http_es_mint_out_tree(ngx_conf_t *cf, ngx_http_es_mint_conf_t *mcf)
{
    u_char                  *dot, *end, *p;
    ngx_int_t                g;
    ngx_str_t                name;
    ngx_uint_t               i, j, k, prev;
    ngx_http_es_output_t    *o;
    ngx_http_es_out_node_t  *node, *child;

    node = &mcf->out_root;
    node->output = -1;

    if (ngx_array_init(&node->children, cf->pool, 4,
                       sizeof(ngx_http_es_out_node_t))
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    o = mcf->outputs->elts;

    for (i = 0; i < mcf->outputs->nelts; i++) {
        node = &mcf->out_root;
        p = o[i].path.data;
        end = p + o[i].path.len;

        for ( ;; ) {
            dot = ngx_strlchr(p, end, '.');
            name.data = p;
            name.len = (dot ? dot : end) - p;

            if (name.len == 0 || node->output != -1) {
                goto conflict;
            }

            child = node->children.elts;

            for (k = 0; k < node->children.nelts; k++) {
                if (child[k].name.len == name.len
                    && ngx_strncmp(child[k].name.data, name.data, name.len)
                       == 0)
                {
                    break;
                }
            }

            if (k == node->children.nelts) {
                child = ngx_array_push(&node->children);
                if (child == NULL) {
                    return NGX_CONF_ERROR;
                }

                ngx_memzero(child, sizeof(ngx_http_es_out_node_t));

                child->name = name;
                child->output = -1;

                child->key.len = ngx_http_es_json_quote(name.data, name.len,
                                                        NULL, 0);
                if (child->key.len == 0) {
                    goto conflict;
                }

                child->key.data = ngx_pnalloc(cf->pool, child->key.len + 1);
                if (child->key.data == NULL) {
                    return NGX_CONF_ERROR;
                }

                (void) ngx_http_es_json_quote(name.data, name.len,
                                              child->key.data,
                                              child->key.len);
                child->key.data[child->key.len++] = ':';

                if (dot
                    && ngx_array_init(&child->children, cf->pool, 4,
                                      sizeof(ngx_http_es_out_node_t))
                       != NGX_OK)
                {
                    return NGX_CONF_ERROR;
                }

            } else {
                child = &child[k];

                /*
                 * the same member again: one more choice, after lines
                 * that all have a condition (else it is never reached)
                 */

                if (dot == NULL && child->output != -1) {
                    g = child->output;
                    prev = g;

                    for (j = g + 1; j < i; j++) {
                        if (o[j].group == (ngx_uint_t) g) {
                            prev = j;
                        }
                    }

                    if (o[prev].cond.len == 0) {
                        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                           "\"embed_session_mint_output "
                                           "%V\" is given again after a line "
                                           "without if= or if_claim=, which "
                                           "always answers", &o[i].path);
                        return NGX_CONF_ERROR;
                    }

                    o[i].group = g;
                    break;
                }

                /* a member given twice, or both a value and an object */

                if (dot == NULL || child->output != -1) {
                    goto conflict;
                }
            }

            node = child;

            if (dot == NULL) {
                node->output = i;
                break;
            }

            p = dot + 1;
        }
    }

    return NGX_CONF_OK;

conflict:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "\"embed_session_mint_output %V\" clashes with another "
                       "output, or is not a valid path", &o[i].path);
    return NGX_CONF_ERROR;
}
