
/*
 * Copyright (C) The ngx_http_embed_session_module authors
 *
 * API keys in a location: embed_session_api_key (the zone),
 * embed_session_api_key_from (where the credential comes from) and
 * embed_session_api_key_deny (the deny rules), and the merge of the API
 * key part of the location configuration, which checks the zone against
 * what the location does with it.
 */


#include "ngx_http_embed_session_module.h"
#include "ngx_http_embed_session_apikey.h"
#include "ngx_http_embed_session_apikey_int.h"


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

    status = ngx_http_es_conf_status(cf, &value[2]);

    if (status == NGX_ERROR) {
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
