
/*
 * Copyright (C) The ngx_http_embed_session_module authors
 *
 * API key authentication of a request: the credential and where it comes
 * from, the checks of docs/security.md rule 23 in the order of the spec,
 * the deny rules, the rate limit headers; the access phase guard; and the
 * key management content handlers, regenerate and revoke.
 */


#include "ngx_http_embed_session_module.h"


#define NGX_HTTP_ES_API_BODY_MAX      4096


/* an authenticated key; the public part first, what we need after it */

typedef struct {
    ngx_http_es_api_key_t       key;
    ngx_http_es_api_zone_t     *zone;

    ngx_uint_t                  id_credential;
    ngx_str_t                   lookup;     /* of the credential used */
    u_char                      hash[NGX_HTTP_ES_API_HASH_LEN];

    /* where it came from; stripped: it no longer is in the request */
    ngx_http_es_api_source_type_t  source;
    ngx_str_t                   header;

    ngx_str_t                   key_lookup; /* the record's */
    ngx_str_t                   id_lookup;  /* empty: no id_key */
    ngx_str_t                   flags;      /* comma-joined */
    ngx_str_t                   grants;

    unsigned                    headers:1;  /* the rate headers are out */
    unsigned                    stripped:1;
} ngx_http_es_api_auth_t;


static ngx_int_t ngx_http_es_api_again(ngx_http_request_t *r,
    ngx_http_es_api_conf_t *conf, ngx_http_es_api_auth_t *auth);
static ngx_uint_t ngx_http_es_api_reads(ngx_http_es_api_conf_t *conf,
    ngx_http_es_api_auth_t *auth);
static ngx_int_t ngx_http_es_api_credential(ngx_http_request_t *r,
    ngx_http_es_api_conf_t *conf, ngx_str_t *cred, ngx_uint_t *id,
    ngx_http_es_api_source_t **used, const char **reason);
static ngx_uint_t ngx_http_es_api_is_source(ngx_http_es_api_conf_t *conf,
    ngx_table_elt_t *h);
static ngx_int_t ngx_http_es_api_strip(ngx_http_request_t *r,
    ngx_http_es_api_conf_t *conf, ngx_http_es_api_auth_t *auth);
static ngx_uint_t ngx_http_es_api_drop(ngx_http_request_t *r,
    ngx_table_elt_t *h, void *data);
static ngx_http_es_api_auth_t *ngx_http_es_api_auth(ngx_http_request_t *r,
    ngx_http_es_api_conf_t *conf, ngx_http_es_api_query_t *q);
static ngx_int_t ngx_http_es_api_list(ngx_http_request_t *r, ngx_array_t *a,
    ngx_str_t *list);
static void ngx_http_es_api_log(ngx_http_request_t *r, ngx_int_t code,
    const char *reason, ngx_str_t *what);
static ngx_int_t ngx_http_es_api_generate(ngx_http_request_t *r,
    ngx_str_t *old_lookup, ngx_str_t *raw, ngx_str_t *lookup, u_char *hash);
static ngx_int_t ngx_http_es_api_regenerate(ngx_http_request_t *r);
static void ngx_http_es_api_wipe(void *data);
static void ngx_http_es_api_revoke_body(ngx_http_request_t *r);
static ngx_int_t ngx_http_es_api_revoke(ngx_http_request_t *r);
static ngx_int_t ngx_http_es_api_revoke_target(ngx_http_request_t *r,
    ngx_str_t *body, ngx_str_t *id);
static ngx_int_t ngx_http_es_api_detail(ngx_http_request_t *r,
    ngx_http_es_code_t code, char *path, size_t len, char *message);
static ngx_int_t ngx_http_es_api_is_id(u_char *p, size_t len);


static u_char  ngx_http_es_api_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";


/* a location without embed_session_api_key_from reads bearer only */

static ngx_http_es_api_source_t  ngx_http_es_api_bearer_only = {
    NGX_HTTP_ES_API_SOURCE_BEARER, ngx_null_string, 0
};


static ngx_inline ngx_http_es_api_source_t *
ngx_http_es_api_sources(ngx_http_es_api_conf_t *conf, ngx_uint_t *n)
{
    if (conf->sources == NULL) {
        *n = 1;
        return &ngx_http_es_api_bearer_only;
    }

    *n = conf->sources->nelts;

    return conf->sources->elts;
}


/* configuration ********************************************************/

void
ngx_http_es_api_conf_init(ngx_http_es_api_conf_t *conf)
{
    conf->zone = NGX_CONF_UNSET_PTR;
    conf->sources = NGX_CONF_UNSET_PTR;
    conf->no_bearer = NGX_CONF_UNSET;
    conf->denies = NGX_CONF_UNSET_PTR;
    conf->regenerate = NGX_CONF_UNSET;
    conf->revoke = NGX_CONF_UNSET;
    conf->strip = NGX_CONF_UNSET;
}


char *
ngx_http_es_api_conf_merge(ngx_conf_t *cf, ngx_http_es_api_conf_t *prev,
    ngx_http_es_api_conf_t *conf)
{
    ngx_uint_t                 writes;
    ngx_http_core_loc_conf_t  *clcf;

    ngx_conf_merge_ptr_value(conf->zone, prev->zone, NULL);

    if (conf->sources == NGX_CONF_UNSET_PTR) {
        conf->sources = prev->sources;
        conf->no_bearer = prev->no_bearer;
    }

    if (conf->sources == NGX_CONF_UNSET_PTR) {
        conf->sources = NULL;           /* bearer */
        conf->no_bearer = 0;
    }

    ngx_conf_merge_ptr_value(conf->denies, prev->denies, NULL);
    ngx_conf_merge_value(conf->strip, prev->strip, 0);

    /* content handlers, not inherited (as proxy_pass is not) */

    if (conf->regenerate == NGX_CONF_UNSET) {
        conf->regenerate = 0;
    }

    if (conf->revoke == NGX_CONF_UNSET) {
        conf->revoke = 0;
    }

    writes = conf->regenerate || conf->revoke;

    if (conf->regenerate && conf->revoke) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"embed_session_api_key_regenerate\" and "
                           "\"embed_session_api_key_revoke\" cannot both be "
                           "on in one location");
        return NGX_CONF_ERROR;
    }

    if (writes && conf->zone == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"embed_session_api_key_%s\" needs "
                           "\"embed_session_api_key\"",
                           conf->regenerate ? "regenerate" : "revoke");
        return NGX_CONF_ERROR;
    }

    if (conf->zone
        && ngx_http_es_api_zone_check(cf, conf->zone, writes) != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    if (writes) {
        clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
        clcf->handler = conf->regenerate
                        ? ngx_http_es_api_regenerate_handler
                        : ngx_http_es_api_revoke_handler;
    }

    return NGX_CONF_OK;
}


/* embed_session_api_key NAME | off; */

char *
ngx_http_es_api_key_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_es_api_conf_t *api = &((ngx_http_es_loc_conf_t *) conf)->api;

    ngx_str_t  *value;

    if (api->zone != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "off") == 0) {
        api->zone = NULL;
        return NGX_CONF_OK;
    }

    api->zone = ngx_http_es_api_zone_get(cf, &value[1]);
    if (api->zone == NULL) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* embed_session_api_key_from bearer | header=NAME | id_header=NAME ...; */

char *
ngx_http_es_api_key_from(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_es_api_conf_t *api = &((ngx_http_es_loc_conf_t *) conf)->api;

    size_t                     skip;
    ngx_str_t                 *value, name;
    ngx_uint_t                 i, j, bearer;
    ngx_http_es_api_source_t  *src, *s;

    if (api->sources != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    api->sources = ngx_array_create(cf->pool, cf->args->nelts,
                                    sizeof(ngx_http_es_api_source_t));
    if (api->sources == NULL) {
        return NGX_CONF_ERROR;
    }

    api->no_bearer = 0;
    bearer = 0;

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {

        if (ngx_strcmp(value[i].data, "no_bearer") == 0) {
            api->no_bearer = 1;
            continue;
        }

        src = ngx_array_push(api->sources);
        if (src == NULL) {
            return NGX_CONF_ERROR;
        }

        ngx_memzero(src, sizeof(ngx_http_es_api_source_t));

        if (ngx_strcmp(value[i].data, "bearer") == 0) {
            if (bearer++) {
                return "has \"bearer\" twice";
            }

            src->type = NGX_HTTP_ES_API_SOURCE_BEARER;
            continue;
        }

        if (ngx_strncmp(value[i].data, "header=", 7) == 0) {
            src->type = NGX_HTTP_ES_API_SOURCE_HEADER;
            skip = 7;

        } else if (ngx_strncmp(value[i].data, "id_header=", 10) == 0) {
            src->type = NGX_HTTP_ES_API_SOURCE_ID_HEADER;
            skip = 10;

        } else {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid source \"%V\": bearer, header=NAME, "
                               "id_header=NAME or no_bearer", &value[i]);
            return NGX_CONF_ERROR;
        }

        name.data = value[i].data + skip;
        name.len = value[i].len - skip;

        if (name.len == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid source \"%V\": no header name",
                               &value[i]);
            return NGX_CONF_ERROR;
        }

        src->header.data = ngx_pnalloc(cf->pool, name.len);
        if (src->header.data == NULL) {
            return NGX_CONF_ERROR;
        }

        src->header.len = name.len;

        for (j = 0; j < name.len; j++) {
            if (!isalnum(name.data[j]) && name.data[j] != '-'
                && name.data[j] != '_')
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid header name in \"%V\"",
                                   &value[i]);
                return NGX_CONF_ERROR;
            }

            src->header.data[j] = ngx_tolower(name.data[j]);
        }

        if (src->header.len == sizeof("authorization") - 1
            && ngx_strncmp(src->header.data, "authorization",
                           src->header.len) == 0)
        {
            return "cannot read Authorization as a header: use \"bearer\"";
        }

        src->hash = ngx_hash_key(src->header.data, src->header.len);

        s = api->sources->elts;

        for (j = 0; j + 1 < api->sources->nelts; j++) {
            if (s[j].header.len == src->header.len
                && ngx_strncmp(s[j].header.data, src->header.data,
                               src->header.len) == 0)
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "header \"%V\" is given twice",
                                   &src->header);
                return NGX_CONF_ERROR;
            }
        }
    }

    if (bearer && api->no_bearer) {
        return "has both \"bearer\" and \"no_bearer\"";
    }

    if (api->sources->nelts == 0) {
        return "needs a source besides \"no_bearer\"";
    }

    return NGX_CONF_OK;
}


/* embed_session_api_key_deny COND STATUS CODE ["message"]; */

char *
ngx_http_es_api_key_deny(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_es_api_conf_t *api = &((ngx_http_es_loc_conf_t *) conf)->api;

    size_t                   max;
    ngx_int_t                status;
    ngx_str_t               *value, cond;
    ngx_uint_t               i;
    ngx_http_es_api_deny_t  *d;

    value = cf->args->elts;

    d = ngx_http_es_conf_push(cf, &api->denies,
                              sizeof(ngx_http_es_api_deny_t));
    if (d == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(d, sizeof(ngx_http_es_api_deny_t));

    cond = value[1];

    if (cond.len && cond.data[0] == '!') {
        d->negate = 1;
        cond.data++;
        cond.len--;
    }

    if (ngx_strncmp(cond.data, "scope=", 6) == 0) {
        d->type = NGX_HTTP_ES_API_COND_SCOPE;
        d->value.data = cond.data + 6;
        d->value.len = cond.len - 6;
        max = 32;

    } else if (ngx_strncmp(cond.data, "flag=", 5) == 0) {
        d->type = NGX_HTTP_ES_API_COND_FLAG;
        d->value.data = cond.data + 5;
        d->value.len = cond.len - 5;
        max = 128;

    } else if (ngx_strncmp(cond.data, "grant=", 6) == 0) {
        d->type = NGX_HTTP_ES_API_COND_GRANT;
        d->value.data = cond.data + 6;
        d->value.len = cond.len - 6;
        max = 128;

    } else {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid condition \"%V\": scope=S, flag=F or "
                           "grant=G, each may be negated with \"!\"",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    if (d->value.len == 0 || d->value.len > max) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid condition \"%V\": empty or too long",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    for (i = 0; i < d->value.len; i++) {
        if (!isalnum(d->value.data[i]) && d->value.data[i] != '_'
            && d->value.data[i] != '-' && d->value.data[i] != '.'
            && d->value.data[i] != ':')
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid condition \"%V\": letters, digits, "
                               "\"_\", \".\", \":\", \"-\"", &value[1]);
            return NGX_CONF_ERROR;
        }
    }

    status = ngx_atoi(value[2].data, value[2].len);

    if (status < 400 || status > 599) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid status \"%V\": 400 to 599", &value[2]);
        return NGX_CONF_ERROR;
    }

    d->status = status;

    if (value[3].len == 0 || value[3].len > 64) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid code \"%V\"", &value[3]);
        return NGX_CONF_ERROR;
    }

    for (i = 0; i < value[3].len; i++) {
        if (!isalnum(value[3].data[i]) && value[3].data[i] != '_'
            && value[3].data[i] != '-' && value[3].data[i] != '.')
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid code \"%V\": letters, digits, "
                               "\"_\", \".\", \"-\"", &value[3]);
            return NGX_CONF_ERROR;
        }
    }

    d->code = value[3];

    if (cf->args->nelts == 5) {
        d->message = value[4];
    }

    return NGX_CONF_OK;
}


/* authentication *******************************************************/

ngx_int_t
ngx_http_es_api_authenticate(ngx_http_request_t *r,
    ngx_http_es_api_conf_t *conf, ngx_http_es_api_key_t **key)
{
    size_t                     i, prefix;
    ngx_int_t                  code;
    ngx_str_t                  cred, id;
    ngx_uint_t                 id_credential;
    const char                *reason;
    ngx_http_es_ctx_t         *ctx;
    ngx_http_es_api_auth_t    *auth;
    ngx_http_es_api_query_t    q;
    ngx_http_es_api_source_t  *src;

    *key = NULL;

    ctx = ngx_http_es_get_ctx(r, 1);
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    /*
     * after an internal redirect the key has been counted once already:
     * it stands if this location takes the credential as it came (its own
     * sources and no_bearer), and then only its deny rules are checked
     */

    if (ctx->api_key) {
        auth = (ngx_http_es_api_auth_t *) ctx->api_key;

        code = (auth->zone == conf->zone)
               ? ngx_http_es_api_again(r, conf, auth) : NGX_DECLINED;

        if (code != NGX_OK && code != NGX_DECLINED) {
            ctx->api_key = NULL;
            return code;
        }

        if (code == NGX_OK) {
            *key = &auth->key;

            ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                           "embed_session: API key \"%V\" from before an "
                           "internal redirect", &auth->key.id);

            auth->key.denied = conf->denies
                               ? ngx_http_es_api_deny_match(conf->denies,
                                                  &auth->key.scope,
                                                  &auth->flags, &auth->grants)
                               : NULL;

            if (auth->key.denied) {
                ngx_http_es_api_log(r, NGX_HTTP_ES_DENIED, "denied, key",
                                    &auth->key.id);
                return NGX_HTTP_ES_DENIED;
            }

            return NGX_OK;
        }

        ctx->api_key = NULL;
    }

    ngx_str_null(&cred);

    code = ngx_http_es_api_credential(r, conf, &cred, &id_credential, &src,
                                      &reason);
    if (code != NGX_HTTP_ES_PASSED) {
        ngx_http_es_api_log(r, code, reason, NULL);
        return code;
    }

    /* the shape first: PREFIX + 40 of [A-Za-z0-9]; no lookup otherwise */

    prefix = 0;

    if (cred.len <= NGX_HTTP_ES_API_KEY_MAX) {
        for (i = 0; i < cred.len; i++) {
            if (cred.data[i] == '_') {
                prefix = i + 1;

            } else if (!isalnum(cred.data[i])) {
                break;
            }
        }

        if (i < cred.len) {
            prefix = cred.len;
        }
    }

    if (cred.len > NGX_HTTP_ES_API_KEY_MAX
        || cred.len - prefix != NGX_HTTP_ES_API_KEY_RANDOM)
    {
        ngx_http_es_api_log(r, NGX_HTTP_ES_API_KEY_INVALID,
                            "malformed API key", NULL);
        return NGX_HTTP_ES_API_KEY_INVALID;
    }

    q.id_credential = id_credential;
    q.lookup.data = cred.data;
    q.lookup.len = prefix + NGX_HTTP_ES_API_KEY_LOOKUP;
    q.denies = conf->denies;
    q.now = ngx_time();
    q.denied = NULL;

    /* hashed outside the zone mutex */

    if (ngx_http_es_jws_sha256(cred.data, cred.len, q.hash)
        != NGX_HTTP_ES_JWS_OK)
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "embed_session: SHA-256 failed");
        return NGX_ERROR;
    }

    code = ngx_http_es_api_query(conf->zone, &q);

    if (code == NGX_HTTP_ES_API_KEY_INVALID) {
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "embed_session: API key lookup \"%V\": no match",
                       &q.lookup);

        /* the LOOKUP is not secret: it is what the key file holds */
        ngx_http_es_api_log(r, code, "unknown API key", &q.lookup);
        return code;
    }

    id.data = q.data + q.str[NGX_HTTP_ES_API_STR_ID].off;
    id.len = q.str[NGX_HTTP_ES_API_STR_ID].len;

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "embed_session: API key lookup \"%V\": found, id \"%V\", "
                   "%s", &q.lookup, &id,
                   code == NGX_HTTP_ES_API_KEY_REVOKED ? "revoked"
                   : code == NGX_HTTP_ES_API_KEY_EXPIRED ? "expired"
                   : "valid");

    if (code == NGX_HTTP_ES_API_KEY_REVOKED) {
        ngx_http_es_api_log(r, code, "revoked key", &id);
        return code;
    }

    if (code == NGX_HTTP_ES_API_KEY_EXPIRED) {
        ngx_http_es_api_log(r, code, "expired key", &id);
        return code;
    }

    auth = ngx_http_es_api_auth(r, conf, &q);
    if (auth == NULL) {
        return NGX_ERROR;
    }

    auth->source = src->type;
    auth->header = src->header;

    *key = &auth->key;

    if (code == NGX_HTTP_ES_DENIED) {
        ngx_http_es_api_log(r, code, "denied, key", &auth->key.id);
        return code;
    }

    if (code == NGX_HTTP_ES_RATE_LIMITED) {
        ngx_http_es_api_log(r, code, "rate limit reached, key",
                            &auth->key.id);
        return code;
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "embed_session: API key \"%V\" authenticated",
                   &auth->key.id);

    ctx->api_key = &auth->key;

    return NGX_OK;
}


/*
 * Exactly one credential: none is API_KEY_REQUIRED, two (of different
 * sources, or one header repeated) API_KEY_INVALID; no secret is chosen
 * between.
 */

static ngx_int_t
ngx_http_es_api_credential(ngx_http_request_t *r,
    ngx_http_es_api_conf_t *conf, ngx_str_t *cred, ngx_uint_t *id,
    ngx_http_es_api_source_t **used, const char **reason)
{
    u_char                    *p, *last;
    ngx_uint_t                 i, j, n, nsources, bad;
    ngx_list_part_t           *part;
    ngx_table_elt_t           *h;
    ngx_http_es_api_source_t  *src, *bearer;

    src = ngx_http_es_api_sources(conf, &nsources);

    bearer = NULL;

    for (j = 0; j < nsources; j++) {
        if (src[j].type == NGX_HTTP_ES_API_SOURCE_BEARER) {
            bearer = &src[j];
        }
    }

    *used = NULL;

    n = 0;
    bad = 0;
    *id = 0;

    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len == sizeof("authorization") - 1
            && ngx_strncmp(h[i].lowcase_key, "authorization",
                           sizeof("authorization") - 1) == 0)
        {
            p = h[i].value.data;
            last = p + h[i].value.len;

            /* another scheme (Basic, ...) is not ours */

            if (last - p < 6 || ngx_strncasecmp(p, (u_char *) "bearer", 6)
                || (last - p > 6 && p[6] != ' ' && p[6] != '\t'))
            {
                continue;
            }

            if (conf->no_bearer) {
                *reason = "Authorization: Bearer sent";
                return NGX_HTTP_ES_BEARER_NOT_ALLOWED;
            }

            if (bearer == NULL) {
                continue;
            }

            n++;
            *used = bearer;

            /* "Bearer" SP token, the token without white space */

            if (last - p < 8 || p[6] != ' '
                || ngx_strlchr(p + 7, last, ' ')
                || ngx_strlchr(p + 7, last, '\t'))
            {
                bad = 1;
            }

            cred->data = p + 7;
            cred->len = (last - p > 7) ? (size_t) (last - p - 7) : 0;
            *id = 0;

            continue;
        }

        for (j = 0; j < nsources; j++) {
            if (src[j].type == NGX_HTTP_ES_API_SOURCE_BEARER
                || h[i].hash != src[j].hash
                || h[i].key.len != src[j].header.len
                || ngx_strncmp(h[i].lowcase_key, src[j].header.data,
                               src[j].header.len) != 0)
            {
                continue;
            }

            n++;
            *cred = h[i].value;
            *id = (src[j].type == NGX_HTTP_ES_API_SOURCE_ID_HEADER);
            *used = &src[j];
            break;
        }
    }

    if (n == 0) {
        *reason = "no API key";
        return NGX_HTTP_ES_API_KEY_REQUIRED;
    }

    if (n > 1) {
        *reason = "more than one API key credential";
        return NGX_HTTP_ES_API_KEY_INVALID;
    }

    if (bad) {
        *reason = "malformed Authorization: Bearer";
        return NGX_HTTP_ES_API_KEY_INVALID;
    }

    return NGX_HTTP_ES_PASSED;
}


/*
 * After an internal redirect: the key authenticated before stands only if
 * this location takes the credential it came with, as it would take it
 * in a request of its own: from one of its sources, alone, not a bearer
 * where no_bearer.  NGX_OK: it stands; NGX_DECLINED: another credential,
 * to authenticate afresh; else the code, logged.  A credential stripped
 * on the way (embed_session_api_key_strip) counts where it was.
 */

static ngx_int_t
ngx_http_es_api_again(ngx_http_request_t *r, ngx_http_es_api_conf_t *conf,
    ngx_http_es_api_auth_t *auth)
{
    u_char                     hash[NGX_HTTP_ES_API_HASH_LEN];
    ngx_int_t                  code;
    ngx_str_t                  cred;
    ngx_uint_t                 id;
    const char                *reason;
    ngx_http_es_api_source_t  *src;

    ngx_str_null(&cred);
    reason = NULL;

    code = ngx_http_es_api_credential(r, conf, &cred, &id, &src, &reason);

    if (auth->stripped) {

        if (auth->source == NGX_HTTP_ES_API_SOURCE_BEARER && conf->no_bearer) {
            code = NGX_HTTP_ES_BEARER_NOT_ALLOWED;
            reason = "Authorization: Bearer sent";
        }

        if (!ngx_http_es_api_reads(conf, auth)) {
            if (code == NGX_HTTP_ES_PASSED) {
                return NGX_DECLINED;
            }

            ngx_http_es_api_log(r, code, reason, NULL);
            return code;
        }

        if (code == NGX_HTTP_ES_API_KEY_REQUIRED) {
            return NGX_OK;
        }

        if (code == NGX_HTTP_ES_PASSED) {
            code = NGX_HTTP_ES_API_KEY_INVALID;
            reason = "more than one API key credential";
        }

        ngx_http_es_api_log(r, code, reason, NULL);
        return code;
    }

    if (code != NGX_HTTP_ES_PASSED) {
        ngx_http_es_api_log(r, code, reason, NULL);
        return code;
    }

    if (id != auth->id_credential) {
        return NGX_DECLINED;
    }

    if (ngx_http_es_jws_sha256(cred.data, cred.len, hash)
        != NGX_HTTP_ES_JWS_OK)
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "embed_session: SHA-256 failed");
        return NGX_ERROR;
    }

    if (!ngx_http_es_jws_memeq(hash, auth->hash, NGX_HTTP_ES_API_HASH_LEN)) {
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/* the location reads the source the credential came from */

static ngx_uint_t
ngx_http_es_api_reads(ngx_http_es_api_conf_t *conf,
    ngx_http_es_api_auth_t *auth)
{
    ngx_uint_t                 i, n;
    ngx_http_es_api_source_t  *src;

    src = ngx_http_es_api_sources(conf, &n);

    for (i = 0; i < n; i++) {
        if (src[i].type != auth->source) {
            continue;
        }

        if (src[i].type == NGX_HTTP_ES_API_SOURCE_BEARER
            || (src[i].header.len == auth->header.len
                && ngx_strncmp(src[i].header.data, auth->header.data,
                               auth->header.len)
                   == 0))
        {
            return 1;
        }
    }

    return 0;
}


/* a header this location reads a credential from */

static ngx_uint_t
ngx_http_es_api_is_source(ngx_http_es_api_conf_t *conf, ngx_table_elt_t *h)
{
    u_char                    *p;
    size_t                     len;
    ngx_uint_t                 i, n;
    ngx_http_es_api_source_t  *src;

    src = ngx_http_es_api_sources(conf, &n);

    for (i = 0; i < n; i++) {

        if (src[i].type == NGX_HTTP_ES_API_SOURCE_BEARER) {

            if (h->key.len != sizeof("authorization") - 1
                || ngx_strncmp(h->lowcase_key, "authorization",
                               sizeof("authorization") - 1) != 0)
            {
                continue;
            }

            /* the Bearer scheme only: Basic and others are not keys */

            p = h->value.data;
            len = h->value.len;

            if (len >= 6 && ngx_strncasecmp(p, (u_char *) "bearer", 6) == 0
                && (len == 6 || p[6] == ' ' || p[6] == '\t'))
            {
                return 1;
            }

            continue;
        }

        if (h->key.len == src[i].header.len
            && ngx_strncmp(h->lowcase_key, src[i].header.data,
                           src[i].header.len) == 0)
        {
            return 1;
        }
    }

    return 0;
}


/*
 * embed_session_api_key_strip: the headers this location reads keys from
 * leave the request, so that no upstream (and none of its logs) sees a
 * key.  nginx has no way to take a header out of the request: the list
 * is made anew without them; $http_authorization reads the pointer.
 */

static ngx_int_t
ngx_http_es_api_strip(ngx_http_request_t *r, ngx_http_es_api_conf_t *conf,
    ngx_http_es_api_auth_t *auth)
{
    ngx_int_t  dropped;

    dropped = ngx_http_es_headers_drop(r, ngx_http_es_api_drop, conf, 0);

    if (dropped == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (dropped == 0) {
        return NGX_OK;
    }

    auth->stripped = 1;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "embed_session: API key headers stripped: %i", dropped);

    return NGX_OK;
}


static ngx_uint_t
ngx_http_es_api_drop(ngx_http_request_t *r, ngx_table_elt_t *h, void *data)
{
    if (!ngx_http_es_api_is_source(data, h)) {
        return 0;
    }

    if (r->headers_in.authorization == h) {
        r->headers_in.authorization = NULL;
    }

    return 1;
}


/* the key in the request's pool, from the copy taken under the mutex */

static ngx_http_es_api_auth_t *
ngx_http_es_api_auth(ngx_http_request_t *r, ngx_http_es_api_conf_t *conf,
    ngx_http_es_api_query_t *q)
{
    u_char                  *data;
    ngx_str_t                list;
    ngx_http_es_api_key_t   *key;
    ngx_http_es_api_auth_t  *auth;

    auth = ngx_pcalloc(r->pool, sizeof(ngx_http_es_api_auth_t));
    if (auth == NULL) {
        return NULL;
    }

    data = ngx_pnalloc(r->pool, q->len);
    if (data == NULL) {
        return NULL;
    }

    ngx_memcpy(data, q->data, q->len);

#define ngx_http_es_api_copy_str(n, s)                                       \
    (s)->data = data + q->str[n].off;                                        \
    (s)->len = q->str[n].len

    key = &auth->key;

    ngx_http_es_api_copy_str(NGX_HTTP_ES_API_STR_ID, &key->id);
    ngx_http_es_api_copy_str(NGX_HTTP_ES_API_STR_OWNER, &key->owner);
    ngx_http_es_api_copy_str(NGX_HTTP_ES_API_STR_SCOPE, &key->scope);
    ngx_http_es_api_copy_str(NGX_HTTP_ES_API_STR_TENANT, &key->tenant);
    ngx_http_es_api_copy_str(NGX_HTTP_ES_API_STR_LOOKUP, &auth->key_lookup);
    ngx_http_es_api_copy_str(NGX_HTTP_ES_API_STR_ID_LOOKUP, &auth->id_lookup);
    ngx_http_es_api_copy_str(NGX_HTTP_ES_API_STR_FLAGS, &auth->flags);
    ngx_http_es_api_copy_str(NGX_HTTP_ES_API_STR_GRANTS, &auth->grants);

    ngx_http_es_api_copy_str(NGX_HTTP_ES_API_STR_RESOURCES, &list);
    if (ngx_http_es_api_list(r, &key->resources, &list) != NGX_OK) {
        return NULL;
    }

    ngx_http_es_api_copy_str(NGX_HTTP_ES_API_STR_ORIGINS, &list);
    if (ngx_http_es_api_list(r, &key->origins, &list) != NGX_OK) {
        return NULL;
    }

#undef ngx_http_es_api_copy_str

    if (ngx_http_es_api_list(r, &key->grants, &auth->grants) != NGX_OK
        || ngx_http_es_api_list(r, &key->flags, &auth->flags) != NGX_OK)
    {
        return NULL;
    }

    key->rate_limit = q->rate_limit;
    key->rate_remaining = q->rate_remaining;
    key->rate_reset = q->rate_reset;
    key->denied = q->denied;

    auth->zone = conf->zone;
    auth->id_credential = q->id_credential;
    auth->lookup = q->lookup;
    ngx_memcpy(auth->hash, q->hash, NGX_HTTP_ES_API_HASH_LEN);

    return auth;
}


/* "a,b,c" into an array of ngx_str_t pointing into it */

static ngx_int_t
ngx_http_es_api_list(ngx_http_request_t *r, ngx_array_t *a, ngx_str_t *list)
{
    u_char     *p, *last;
    ngx_str_t  *s, item;
    ngx_uint_t  n;

    n = 1;

    for (p = list->data, last = p + list->len; p < last; p++) {
        if (*p == ',') {
            n++;
        }
    }

    if (ngx_array_init(a, r->pool, n, sizeof(ngx_str_t)) != NGX_OK) {
        return NGX_ERROR;
    }

    p = list->data;
    last = p + list->len;

    while (ngx_http_es_api_next_item(&p, last, &item) == NGX_OK) {
        s = ngx_array_push(a);
        if (s == NULL) {
            return NGX_ERROR;
        }

        *s = item;
    }

    return NGX_OK;
}


/* a client's failure, at info: the key's ID or LOOKUP, never the key */

static void
ngx_http_es_api_log(ngx_http_request_t *r, ngx_int_t code,
    const char *reason, ngx_str_t *what)
{
    if (what) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "embed_session: %V: %s \"%V\"",
                      ngx_http_es_code_name(code), reason,
                      ngx_http_es_log_text(r->pool, what));

    } else {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "embed_session: %V: %s",
                      ngx_http_es_code_name(code), reason);
    }
}


ngx_int_t
ngx_http_es_api_rate_headers(ngx_http_request_t *r,
    ngx_http_es_api_key_t *key, ngx_uint_t limited)
{
    u_char                  *p, *limit, *remaining, *reset, *after;
    time_t                   retry;
    ngx_http_es_api_auth_t  *auth;

    auth = (ngx_http_es_api_auth_t *) key;

    /* once per request: an internal redirect keeps the headers */

    if (key->rate_limit == 0 || auth->headers) {
        return NGX_OK;
    }

    p = ngx_pnalloc(r->pool, 4 * (NGX_TIME_T_LEN + 1));
    if (p == NULL) {
        return NGX_ERROR;
    }

    /* each value is NUL-terminated for ngx_http_es_header() */

    limit = p;
    remaining = ngx_sprintf(limit, "%ui%Z", key->rate_limit);
    reset = ngx_sprintf(remaining, "%ui%Z", key->rate_remaining);
    after = ngx_sprintf(reset, "%T%Z", key->rate_reset);

    retry = key->rate_reset - ngx_time();
    (void) ngx_sprintf(after, "%T%Z", retry > 0 ? retry : (time_t) 1);

    if (ngx_http_es_header(r, "X-RateLimit-Limit", (char *) limit) == NULL
        || ngx_http_es_header(r, "X-RateLimit-Remaining", (char *) remaining)
           == NULL
        || ngx_http_es_header(r, "X-RateLimit-Reset", (char *) reset) == NULL
        || (limited
            && ngx_http_es_header(r, "Retry-After", (char *) after) == NULL))
    {
        return NGX_ERROR;
    }

    auth->headers = 1;

    return NGX_OK;
}


/* the access phase guard ***********************************************/

ngx_int_t
ngx_http_es_api_access_handler(ngx_http_request_t *r)
{
    ngx_int_t                rc;
    ngx_http_es_api_key_t   *key;
    ngx_http_es_loc_conf_t  *elcf;

    elcf = ngx_http_get_module_loc_conf(r, ngx_http_embed_session_module);

    /* the content handlers authenticate themselves */

    if (elcf->api.zone == NULL || elcf->mint.enable
        || elcf->api.regenerate || elcf->api.revoke)
    {
        return NGX_DECLINED;
    }

    /* on the browser channel, a browser brings a session token instead */

    if (elcf->browser_channel && ngx_http_es_from_browser(r)) {
        return NGX_DECLINED;
    }

    rc = ngx_http_es_api_authenticate(r, &elcf->api, &key);

    if (rc == NGX_OK && elcf->api.strip
        && ngx_http_es_api_strip(r, &elcf->api,
                                 (ngx_http_es_api_auth_t *) key)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_es_api_answer(r, rc, key);
}


/*
 * NGX_OK to go on; else what the handler returns: NGX_DONE when the error
 * response went out, or the status when an error_page takes over
 */

ngx_int_t
ngx_http_es_api_answer(ngx_http_request_t *r, ngx_int_t rc,
    ngx_http_es_api_key_t *key)
{
    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (key
        && ngx_http_es_api_rate_headers(r, key,
                                        rc == NGX_HTTP_ES_RATE_LIMITED)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc == NGX_OK) {
        return NGX_OK;
    }

    if (rc == NGX_HTTP_ES_DENIED) {
        return ngx_http_es_error_denied(r, key->denied);
    }

    return ngx_http_es_error(r, rc);
}


/* key management *******************************************************/

/*
 * The content handlers answer with ngx_http_es_error() or _send_json(),
 * which finalize the request and return NGX_DONE, after which
 * ngx_http_core_content_phase() finalizes it once more: meanwhile the
 * handler holds a reference of its own, as a request body being read does.
 */

ngx_int_t
ngx_http_es_api_content_auth(ngx_http_request_t *r,
    ngx_http_es_api_conf_t *conf)
{
    ngx_int_t               rc;
    ngx_http_es_api_key_t  *key;

    key = NULL;

    rc = ngx_http_es_api_authenticate(r, conf, &key);

    r->main->count++;

    rc = ngx_http_es_api_answer(r, rc, key);

    if (rc != NGX_DONE) {
        r->main->count--;
    }

    return rc;
}


ngx_int_t
ngx_http_es_api_regenerate_handler(ngx_http_request_t *r)
{
    ngx_int_t  rc;

    r->main->count++;

    rc = ngx_http_es_api_regenerate(r);

    if (rc != NGX_DONE) {
        r->main->count--;
    }

    return rc;
}


static ngx_int_t
ngx_http_es_api_regenerate(ngx_http_request_t *r)
{
    u_char                    *body, *p;
    size_t                     len;
    ngx_int_t                  rc;
    ngx_str_t                  raw, raw_id, *wipe;
    ngx_pool_cleanup_t        *cln;
    ngx_http_es_api_key_t     *key;
    ngx_http_es_api_auth_t    *auth;
    ngx_http_es_loc_conf_t    *elcf;
    ngx_http_es_api_change_t   ch;

    if (r->method != NGX_HTTP_POST) {
        return ngx_http_es_error(r, NGX_HTTP_ES_METHOD_NOT_ALLOWED);
    }

    /* the new keys and the body that carries them, wiped with the pool */

    cln = ngx_pool_cleanup_add(r->pool, 3 * sizeof(ngx_str_t));
    if (cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    wipe = cln->data;
    ngx_memzero(wipe, 3 * sizeof(ngx_str_t));
    cln->handler = ngx_http_es_api_wipe;

    elcf = ngx_http_get_module_loc_conf(r, ngx_http_embed_session_module);

    rc = ngx_http_es_api_authenticate(r, &elcf->api, &key);

    rc = ngx_http_es_api_answer(r, rc, key);
    if (rc != NGX_OK) {
        return rc;
    }

    auth = (ngx_http_es_api_auth_t *) key;

    ngx_memzero(&ch, sizeof(ngx_http_es_api_change_t));

    ch.id = key->id;
    ch.id_credential = auth->id_credential;
    ch.lookup = auth->lookup;
    ngx_memcpy(ch.hash, auth->hash, NGX_HTTP_ES_API_HASH_LEN);

    ngx_str_null(&raw_id);

    if (ngx_http_es_api_generate(r, &auth->key_lookup, &raw, &ch.new_lookup,
                                 ch.new_hash)
        != NGX_OK
        || (auth->id_lookup.len
            && ngx_http_es_api_generate(r, &auth->id_lookup, &raw_id,
                                        &ch.new_id_lookup, ch.new_id_hash)
               != NGX_OK))
    {
        return ngx_http_es_error(r, NGX_HTTP_ES_KEY_STORE_FAILED);
    }

    wipe[0] = raw;
    wipe[1] = raw_id;

    /* the file first: a restart never brings the old key back */

    rc = ngx_http_es_api_change(r, auth->zone, &ch);

    if (rc != NGX_HTTP_ES_PASSED) {
        if (rc == NGX_ERROR) {
            return ngx_http_es_error(r, NGX_HTTP_ES_KEY_STORE_FAILED);
        }

        ngx_http_es_api_log(r, rc, "changed meanwhile, key", &key->id);

        return ngx_http_es_error(r, rc);
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "embed_session: API key \"%V\" regenerated", &key->id);

    len = sizeof("{\"id\":\"\",\"apiKey\":\"\",\"apiKeyId\":\"\"}") - 1
          + key->id.len + raw.len + raw_id.len;

    body = ngx_pnalloc(r->pool, len);
    if (body == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    wipe[2].data = body;
    wipe[2].len = len;

    /* an ID and a key need no JSON escaping: see the key file's syntax */

    p = ngx_sprintf(body, "{\"id\":\"%V\",\"apiKey\":\"%V\"", &key->id, &raw);

    if (raw_id.len) {
        p = ngx_sprintf(p, ",\"apiKeyId\":\"%V\"", &raw_id);
    }

    *p++ = '}';

    return ngx_http_es_send_json(r, NGX_HTTP_OK, body, p - body);
}


static void
ngx_http_es_api_wipe(void *data)
{
    ngx_str_t  *s = data;

    ngx_uint_t  i;

    for (i = 0; i < 3; i++) {
        if (s[i].len) {
            ngx_explicit_memzero(s[i].data, s[i].len);
        }
    }
}


/*
 * A new credential with the prefix of the old one: 40 characters of
 * [A-Za-z0-9] by rejection sampling (bytes 248..255 are dropped, so that
 * byte % 62 is uniform).
 */

static ngx_int_t
ngx_http_es_api_generate(ngx_http_request_t *r, ngx_str_t *old_lookup,
    ngx_str_t *raw, ngx_str_t *lookup, u_char *hash)
{
    u_char      buf[64];
    size_t      prefix;
    ngx_uint_t  i, n;

    prefix = old_lookup->len - NGX_HTTP_ES_API_KEY_LOOKUP;

    raw->len = prefix + NGX_HTTP_ES_API_KEY_RANDOM;
    raw->data = ngx_pnalloc(r->pool, raw->len);
    if (raw->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(raw->data, old_lookup->data, prefix);

    n = 0;

    while (n < NGX_HTTP_ES_API_KEY_RANDOM) {

        if (ngx_http_es_jws_random(buf, sizeof(buf)) != NGX_HTTP_ES_JWS_OK) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "embed_session: random bytes failed");
            ngx_explicit_memzero(raw->data, raw->len);
            return NGX_ERROR;
        }

        for (i = 0; i < sizeof(buf) && n < NGX_HTTP_ES_API_KEY_RANDOM; i++) {
            if (buf[i] < 248) {
                raw->data[prefix + n++] = ngx_http_es_api_alphabet[buf[i] % 62];
            }
        }
    }

    ngx_explicit_memzero(buf, sizeof(buf));

    lookup->data = raw->data;
    lookup->len = prefix + NGX_HTTP_ES_API_KEY_LOOKUP;

    if (ngx_http_es_jws_sha256(raw->data, raw->len, hash)
        != NGX_HTTP_ES_JWS_OK)
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "embed_session: SHA-256 failed");
        ngx_explicit_memzero(raw->data, raw->len);
        return NGX_ERROR;
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_es_api_revoke_handler(ngx_http_request_t *r)
{
    ngx_int_t                rc;
    ngx_http_es_api_key_t   *key;
    ngx_http_es_loc_conf_t  *elcf;

    r->main->count++;

    if (r->method != NGX_HTTP_POST) {
        rc = ngx_http_es_error(r, NGX_HTTP_ES_METHOD_NOT_ALLOWED);

    } else {
        elcf = ngx_http_get_module_loc_conf(r, ngx_http_embed_session_module);

        rc = ngx_http_es_api_authenticate(r, &elcf->api, &key);
        rc = ngx_http_es_api_answer(r, rc, key);

        if (rc == NGX_OK
            && r->headers_in.content_length_n > NGX_HTTP_ES_API_BODY_MAX)
        {
            rc = ngx_http_es_error(r, NGX_HTTP_ES_BODY_TOO_LARGE);
        }
    }

    if (rc != NGX_OK) {
        if (rc != NGX_DONE) {
            r->main->count--;
        }

        return rc;
    }

    /* the body being read holds the reference from here on */

    r->main->count--;

    rc = ngx_http_read_client_request_body(r, ngx_http_es_api_revoke_body);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


static void
ngx_http_es_api_revoke_body(ngx_http_request_t *r)
{
    ngx_http_es_finalize(r, ngx_http_es_api_revoke(r));
}


static ngx_int_t
ngx_http_es_api_revoke(ngx_http_request_t *r)
{
    u_char                    *body, *p, owner[NGX_HTTP_ES_OWNER_LEN];
    ngx_int_t                  rc;
    ngx_str_t                  data, id;
    ngx_uint_t                 n;
    ngx_http_es_ctx_t         *ctx;
    ngx_http_es_api_key_t     *key;
    ngx_http_es_api_auth_t    *auth;
    ngx_http_es_api_change_t   ch;

    ctx = ngx_http_es_get_ctx(r, 0);

    if (ctx == NULL || ctx->api_key == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    key = ctx->api_key;
    auth = (ngx_http_es_api_auth_t *) key;

    rc = ngx_http_es_read_body(r, NGX_HTTP_ES_API_BODY_MAX, &data);

    if (rc == NGX_DECLINED) {
        return ngx_http_es_error(r, NGX_HTTP_ES_BODY_TOO_LARGE);
    }

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_es_api_revoke_target(r, &data, &id);
    if (rc != NGX_OK) {
        return rc;
    }

    if (id.len == 0) {
        id = key->id;
    }

    /* another key than one's own: an admin key only */

    if ((id.len != key->id.len || ngx_memcmp(id.data, key->id.data, id.len))
        && (key->scope.len != 5
            || ngx_strncmp(key->scope.data, "admin", 5) != 0))
    {
        ngx_http_es_api_log(r, NGX_HTTP_ES_SCOPE_NOT_GRANTED,
                            "revoking another key needs scope admin, key",
                            &key->id);
        return ngx_http_es_error(r, NGX_HTTP_ES_SCOPE_NOT_GRANTED);
    }

    ngx_memzero(&ch, sizeof(ngx_http_es_api_change_t));

    ch.revoke = 1;
    ch.id = id;
    ch.id_credential = auth->id_credential;
    ch.lookup = auth->lookup;
    ngx_memcpy(ch.hash, auth->hash, NGX_HTTP_ES_API_HASH_LEN);

    rc = ngx_http_es_api_change(r, auth->zone, &ch);

    if (rc == NGX_ERROR) {
        return ngx_http_es_error(r, NGX_HTTP_ES_KEY_STORE_FAILED);
    }

    if (rc == NGX_HTTP_ES_VALIDATION_FAILED) {
        ngx_http_es_api_log(r, rc, "no such key", &id);
        return ngx_http_es_api_detail(r, NGX_HTTP_ES_VALIDATION_FAILED,
                                      "id", 2, "no such key");
    }

    if (rc != NGX_HTTP_ES_PASSED) {
        ngx_http_es_api_log(r, rc, "changed meanwhile, key", &key->id);
        return ngx_http_es_error(r, rc);
    }

    /* its sessions end with it: the owner is the record's, as changed */

    n = 0;

    if (ch.owner.len) {
        ngx_http_es_owner(owner, &ch.owner);
        n = ngx_http_es_store_revoke_owner((ngx_cycle_t *) ngx_cycle, owner);
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "embed_session: API key \"%V\" revoked by \"%V\", "
                  "and %ui of its sessions", &id, &key->id, n);

    body = ngx_pnalloc(r->pool, sizeof("{\"id\":\"\",\"status\":\"revoked\"}")
                                + id.len);
    if (body == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_sprintf(body, "{\"id\":\"%V\",\"status\":\"revoked\"}", &id);

    return ngx_http_es_send_json(r, NGX_HTTP_OK, body, p - body);
}


/*
 * The body: empty or {} (the calling key), or {"id": "ID"}; id->len is 0
 * for the calling key.  NGX_OK, or what the handler returns.
 */

static ngx_int_t
ngx_http_es_api_revoke_target(ngx_http_request_t *r, ngx_str_t *body,
    ngx_str_t *id)
{
    u_char               *p, *last;
    void                 *it;
    size_t                len;
    ngx_int_t             rc;
    const u_char         *s;
    ngx_http_es_json_t   *json, *v;
    char                  err[128];

    ngx_str_null(id);

    p = body->data;
    last = p + body->len;

    while (p < last && (*p == ' ' || *p == '\t' || *p == CR || *p == LF)) {
        p++;
    }

    if (p == last) {
        return NGX_OK;
    }

    json = ngx_http_es_json_parse(p, last - p, err, sizeof(err));

    if (json == NULL) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "embed_session: INVALID_JSON: %s", err);
        return ngx_http_es_error(r, NGX_HTTP_ES_INVALID_JSON);
    }

    rc = NGX_OK;

    if (ngx_http_es_json_type(json) != NGX_HTTP_ES_JSON_OBJECT) {
        rc = ngx_http_es_api_detail(r, NGX_HTTP_ES_VALIDATION_FAILED, "", 0,
                                    "must be an object");
        goto done;
    }

    for (it = ngx_http_es_json_iter(json);
         it;
         it = ngx_http_es_json_iter_next(json, it))
    {
        s = ngx_http_es_json_iter_key(it, &len);

        if (len != 2 || ngx_strncmp(s, "id", 2) != 0) {

            /* the name is echoed only when it is a plain one */

            if (!ngx_http_es_api_is_id((u_char *) s, len)) {
                len = 0;
            }

            rc = ngx_http_es_api_detail(r, NGX_HTTP_ES_VALIDATION_FAILED,
                                        (char *) s, len, "unknown member");
            goto done;
        }

        v = ngx_http_es_json_iter_value(it);

        s = (ngx_http_es_json_type(v) == NGX_HTTP_ES_JSON_STRING)
            ? ngx_http_es_json_string(v, &len) : NULL;

        if (s == NULL || !ngx_http_es_api_is_id((u_char *) s, len)) {
            rc = ngx_http_es_api_detail(r, NGX_HTTP_ES_VALIDATION_FAILED,
                                        "id", 2, "must be a key ID");
            goto done;
        }

        id->data = ngx_pnalloc(r->pool, len);
        if (id->data == NULL) {
            rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
            goto done;
        }

        ngx_memcpy(id->data, s, len);
        id->len = len;
    }

done:

    ngx_http_es_json_free(json);

    return rc;
}


static ngx_int_t
ngx_http_es_api_detail(ngx_http_request_t *r, ngx_http_es_code_t code,
    char *path, size_t len, char *message)
{
    ngx_array_t           *details;
    ngx_http_es_detail_t  *d;

    details = ngx_array_create(r->pool, 1, sizeof(ngx_http_es_detail_t));
    if (details == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    d = ngx_array_push(details);
    if (d == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* the path may come from the body: copied, it outlives the document */

    d->path.data = ngx_pnalloc(r->pool, len + 1);
    if (d->path.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_memcpy(d->path.data, path, len);
    d->path.len = len;

    d->message.data = (u_char *) message;
    d->message.len = ngx_strlen(message);

    return ngx_http_es_error_details(r, code, details);
}


/* [A-Za-z0-9_.-]{1,64}, as in the key file */

static ngx_int_t
ngx_http_es_api_is_id(u_char *p, size_t len)
{
    size_t  i;

    if (len == 0 || len > 64) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (!isalnum(p[i]) && p[i] != '_' && p[i] != '.' && p[i] != '-') {
            return 0;
        }
    }

    return 1;
}
