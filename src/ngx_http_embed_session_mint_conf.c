
/*
 * Copyright (C) The ngx_http_embed_session_module authors
 *
 * The mint configuration: the directives of a mint location other than the
 * schema's, their defaults and cross-checks at merge time, the signing key,
 * the JOSE header and the tree of the answer's output paths.
 */


#include "ngx_http_embed_session_module.h"
#include "ngx_http_embed_session_json.h"
#include "ngx_http_embed_session_jws.h"
#include "ngx_http_embed_session_mint.h"
#include "ngx_http_embed_session_response.h"


static char *ngx_http_es_mint_conds_merge(ngx_conf_t *cf,
    ngx_http_es_mint_conf_t *mcf);
static char *ngx_http_es_mint_out_tree(ngx_conf_t *cf,
    ngx_http_es_mint_conf_t *mcf);
static ngx_int_t ngx_http_es_mint_reserved(ngx_conf_t *cf,
    ngx_http_es_loc_conf_t *elcf, ngx_str_t *claim);
static ngx_int_t ngx_http_es_mint_claim_fits(ngx_conf_t *cf,
    ngx_http_es_loc_conf_t *elcf, ngx_str_t *claim, ngx_http_es_field_t *f);
static char *ngx_http_es_mint_status(ngx_conf_t *cf, void *post, void *data);
static ngx_int_t ngx_http_es_mint_merge_store(ngx_conf_t *cf,
    ngx_http_es_loc_conf_t *elcf);
static ngx_int_t ngx_http_es_mint_merge_ttl(ngx_conf_t *cf,
    ngx_http_es_loc_conf_t *elcf);
static ngx_int_t ngx_http_es_mint_merge_claims(ngx_conf_t *cf,
    ngx_http_es_loc_conf_t *elcf);
static ngx_int_t ngx_http_es_mint_merge_refs(ngx_conf_t *cf,
    ngx_http_es_mint_conf_t *mcf);
static ngx_http_es_jws_key_t *ngx_http_es_mint_merge_key(ngx_conf_t *cf,
    ngx_http_es_loc_conf_t *elcf);
static ngx_int_t ngx_http_es_mint_header(ngx_conf_t *cf,
    ngx_http_es_loc_conf_t *elcf, ngx_str_t *type, ngx_str_t *header);
static ngx_http_es_json_t *ngx_http_es_mint_operator_text(ngx_str_t *s);
static ngx_uint_t ngx_http_es_mint_configured(ngx_http_es_mint_conf_t *mcf);


static ngx_str_t  ngx_http_es_renew_type = ngx_string(NGX_HTTP_ES_RENEW_TYPE);


/*
 * The values of the mint directives that nginx's slots parse: "is
 * duplicate" and the bounds are theirs (module.c, the directive table)
 */

ngx_conf_enum_t  ngx_http_es_mint_unknown_modes[] = {
    { ngx_string("reject"), 1 },
    { ngx_string("ignore"), 0 },
    { ngx_null_string, 0 }
};


ngx_conf_enum_t  ngx_http_es_mint_origins_modes[] = {
    { ngx_string("off"), NGX_HTTP_ES_MINT_ORIGINS_OFF },
    { ngx_string("body"), NGX_HTTP_ES_MINT_ORIGINS_BODY },
    { ngx_string("request"), NGX_HTTP_ES_MINT_ORIGINS_REQUEST },
    { ngx_null_string, 0 }
};


ngx_conf_num_bounds_t  ngx_http_es_mint_body_max_bounds = {
    ngx_conf_check_num_bounds, 1, 1024 * 1024
};


/* embed_session_mint_lifetime, embed_session_mint_exchange: 1s to 365d */

ngx_conf_num_bounds_t  ngx_http_es_mint_time_bounds = {
    ngx_conf_check_num_bounds, 1, 31536000
};


ngx_conf_post_t  ngx_http_es_mint_status_post = {
    ngx_http_es_mint_status
};


/* the mint part of ngx_http_es_create_loc_conf() */

void
ngx_http_es_mint_conf_init(ngx_http_es_mint_conf_t *mcf)
{
    /*
     * set by ngx_pcalloc():
     *
     *     mcf->fields = { 0 };   (an array made by the first field)
     *     mcf->kid = { 0, NULL };
     *     mcf->ttl_ifs = NULL;
     *     mcf->claims = NULL;
     *     mcf->outputs = NULL;
     *     mcf->knowns = NULL;
     */

    mcf->enable = NGX_CONF_UNSET;
    mcf->body_max = NGX_CONF_UNSET_SIZE;
    mcf->unknown_reject = NGX_CONF_UNSET_UINT;
    mcf->ttl = NGX_CONF_UNSET;
    mcf->ttl_max = NGX_CONF_UNSET;
    mcf->origins = NGX_CONF_UNSET_UINT;
    mcf->status = NGX_CONF_UNSET;
    mcf->origins_field = -1;
    mcf->ttl_field = -1;
    mcf->lifetime = NGX_CONF_UNSET;
    mcf->ticket = NGX_CONF_UNSET;
}


/* embed_session_mint_status: 201 for a mint, 200 as some callers want */

static char *
ngx_http_es_mint_status(ngx_conf_t *cf, void *post, void *data)
{
    ngx_int_t  *np = data;

    if (*np != NGX_HTTP_OK && *np != NGX_HTTP_CREATED) {
        return "takes 200 or 201";
    }

    return NGX_CONF_OK;
}


/* any mint directive in the location, other than the switch itself */

static ngx_uint_t
ngx_http_es_mint_configured(ngx_http_es_mint_conf_t *mcf)
{
    return mcf->fields.nelts || mcf->kid.data
           || mcf->body_max != NGX_CONF_UNSET_SIZE
           || mcf->unknown_reject != NGX_CONF_UNSET_UINT
           || mcf->ttl != NGX_CONF_UNSET || mcf->ttl_ifs
           || mcf->origins != NGX_CONF_UNSET_UINT
           || mcf->claims || mcf->status != NGX_CONF_UNSET
           || mcf->outputs || mcf->knowns
           || mcf->lifetime != NGX_CONF_UNSET
           || mcf->ticket != NGX_CONF_UNSET;
}


/* a refresh or an exchange location mints too, from what it is given */

char *
ngx_http_es_mint_lifecycle(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_es_loc_conf_t  *elcf = conf;

    ngx_http_es_mint_conf_t  *mcf;

    mcf = &elcf->mint;

    if (mcf->enable != NGX_CONF_UNSET) {
        return "cannot be combined with \"embed_session_mint\" or another "
               "lifecycle directive";
    }

    mcf->enable = 1;
    mcf->lifecycle = 1;

    return NGX_CONF_OK;
}


char *
ngx_http_es_mint(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_es_loc_conf_t  *elcf = conf;

    ngx_str_t                 *value;
    ngx_http_es_mint_conf_t   *mcf;
    ngx_http_core_loc_conf_t  *clcf;

    mcf = &elcf->mint;

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
ngx_http_es_mint_ttl(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_es_loc_conf_t  *elcf = conf;

    ngx_str_t                *value, s;
    ngx_http_es_mint_conf_t  *mcf;

    mcf = &elcf->mint;

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

    mcf = &elcf->mint;

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

    mcf = &elcf->mint;

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

    mcf = &elcf->mint;

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
 * At merge time: the defaults, what the location's other directives
 * allow, the claims, the output tree, names resolved, the signing key and
 * the JOSE headers.  A location without mint directives does not mint.
 */

char *
ngx_http_es_mint_merge(ngx_conf_t *cf, ngx_http_es_loc_conf_t *elcf)
{
    ngx_http_es_mint_conf_t  *mcf;

    mcf = &elcf->mint;

    if (mcf->enable == 0) {
        return NGX_CONF_OK;
    }

    if (mcf->enable == NGX_CONF_UNSET) {
        if (!ngx_http_es_mint_configured(mcf)) {
            mcf->enable = 0;
            return NGX_CONF_OK;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "embed_session_mint directives without "
                           "\"embed_session_mint on\" in the location");
        return NGX_CONF_ERROR;
    }

    ngx_conf_init_size_value(mcf->body_max, NGX_HTTP_ES_MINT_BODY_MAX);
    ngx_conf_init_uint_value(mcf->unknown_reject, 1);
    ngx_conf_init_value(mcf->ttl, 900);
    ngx_conf_init_value(mcf->ttl_max, ngx_max(3600, mcf->ttl));
    ngx_conf_init_value(mcf->status, mcf->lifecycle ? NGX_HTTP_OK
                                                    : NGX_HTTP_CREATED);
    ngx_conf_init_uint_value(mcf->origins,
                             mcf->lifecycle ? NGX_HTTP_ES_MINT_ORIGINS_OFF
                                            : NGX_HTTP_ES_MINT_ORIGINS_BODY);
    ngx_conf_init_value(mcf->lifetime, mcf->ttl_max);
    ngx_conf_init_value(mcf->ticket, 0);

    if (ngx_http_es_mint_merge_store(cf, elcf) != NGX_OK
        || ngx_http_es_mint_merge_ttl(cf, elcf) != NGX_OK
        || ngx_http_es_mint_merge_claims(cf, elcf) != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    if (mcf->outputs == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"embed_session_mint\" needs "
                           "\"embed_session_mint_output\" lines: the token "
                           "must be returned somewhere");
        return NGX_CONF_ERROR;
    }

    if (ngx_http_es_mint_conds_merge(cf, mcf) != NGX_CONF_OK
        || ngx_http_es_mint_out_tree(cf, mcf) != NGX_CONF_OK
        || ngx_http_es_mint_merge_refs(cf, mcf) != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    mcf->key = ngx_http_es_mint_merge_key(cf, elcf);
    if (mcf->key == NULL) {
        return NGX_CONF_ERROR;
    }

    if (ngx_http_es_mint_header(cf, elcf, &elcf->type, &mcf->header)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    /* the renew token's: the same, with its own type */

    if ((mcf->renew || mcf->lifecycle)
        && ngx_http_es_mint_header(cf, elcf, &ngx_http_es_renew_type,
                                   &mcf->renew_header)
           != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/*
 * What needs the store (renew tokens, tickets, refreshes, exchanges) and
 * what each kind of location can answer
 */

static ngx_int_t
ngx_http_es_mint_merge_store(ngx_conf_t *cf, ngx_http_es_loc_conf_t *elcf)
{
    ngx_uint_t                i;
    ngx_http_es_output_t     *o;
    ngx_http_es_mint_conf_t  *mcf;

    mcf = &elcf->mint;

    if ((mcf->renew || mcf->ticket || mcf->lifecycle) && elcf->store == NULL)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "renew tokens, one-time tickets, refreshes and "
                           "exchanges need \"embed_session_store\"");
        return NGX_ERROR;
    }

    if (mcf->renew && elcf->max_lifetime
        && mcf->lifetime > elcf->max_lifetime)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "renew tokens live \"embed_session_mint_lifetime"
                           "\" %T s, more than \"embed_session_max_lifetime"
                           "\" %T s: the refresh would refuse them",
                           mcf->lifetime, elcf->max_lifetime);
        return NGX_ERROR;
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
                return NGX_ERROR;
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
        return NGX_ERROR;
    }

    if (mcf->origins == NGX_HTTP_ES_MINT_ORIGINS_BODY
        && mcf->origins_field == -1)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"embed_session_mint_origins body\" needs a "
                           "field of type \"origins\"");
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* the lifetimes: none above max=, nor above what the verifier accepts */

static ngx_int_t
ngx_http_es_mint_merge_ttl(ngx_conf_t *cf, ngx_http_es_loc_conf_t *elcf)
{
    ngx_uint_t                i;
    ngx_http_es_ttl_if_t     *ti;
    ngx_http_es_mint_conf_t  *mcf;

    mcf = &elcf->mint;

    if (mcf->ttl > mcf->ttl_max) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"embed_session_mint_ttl\" %T is above its "
                           "max= %T", mcf->ttl, mcf->ttl_max);
        return NGX_ERROR;
    }

    if (elcf->max_lifetime && mcf->ttl_max > elcf->max_lifetime) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "the mint lifetime of up to %T s is above "
                           "\"embed_session_max_lifetime\" %T s: the "
                           "verifier would refuse the tokens",
                           mcf->ttl_max, elcf->max_lifetime);
        return NGX_ERROR;
    }

    if (mcf->ttl_ifs == NULL) {
        return NGX_OK;
    }

    ti = mcf->ttl_ifs->elts;

    for (i = 0; i < mcf->ttl_ifs->nelts; i++) {
        if (ti[i].ttl > mcf->ttl_max) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "an \"embed_session_mint_ttl_if\" "
                               "lifetime is above max= %T", mcf->ttl_max);
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/*
 * The claims of fields and of embed_session_mint_claim lines: none that
 * the module writes itself, none that would make every token one the
 * verifier refuses
 */

static ngx_int_t
ngx_http_es_mint_merge_claims(ngx_conf_t *cf, ngx_http_es_loc_conf_t *elcf)
{
    ngx_uint_t                 i;
    ngx_http_es_field_t       *f;
    ngx_http_es_mint_conf_t   *mcf;
    ngx_http_es_mint_claim_t  *mc;

    mcf = &elcf->mint;
    f = mcf->fields.elts;
    mc = mcf->claims ? mcf->claims->elts : NULL;

    for (i = 0; i < mcf->fields.nelts; i++) {
        if (f[i].claim.len
            && ngx_http_es_mint_reserved(cf, elcf, &f[i].claim) != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    if (mcf->claims) {
        for (i = 0; i < mcf->claims->nelts; i++) {
            if (ngx_http_es_mint_reserved(cf, elcf, &mc[i].name) != NGX_OK) {
                return NGX_ERROR;
            }
        }
    }

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
            return NGX_ERROR;
        }
    }

    if (mcf->claims) {
        for (i = 0; i < mcf->claims->nelts; i++) {
            if (ngx_http_es_mint_claim_fits(cf, elcf, &mc[i].name, NULL)
                != NGX_OK)
            {
                return NGX_ERROR;
            }
        }
    }

    return NGX_OK;
}


/* required_if= and excludes=: the fields they name, by index */

static ngx_int_t
ngx_http_es_mint_merge_refs(ngx_conf_t *cf, ngx_http_es_mint_conf_t *mcf)
{
    u_char               *colon;
    ngx_str_t             s;
    ngx_uint_t            i, n;
    ngx_http_es_field_t  *f;

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

    return NGX_OK;

bad_ref:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "field \"%V\": required_if= and excludes= must name "
                       "another declared field (required_if=PATH:VALUE, "
                       "PATH declared before)", &f[i].path);
    return NGX_ERROR;
}


/* the signing key: named, or the only private key of the location */

static ngx_http_es_jws_key_t *
ngx_http_es_mint_merge_key(ngx_conf_t *cf, ngx_http_es_loc_conf_t *elcf)
{
    size_t                   kid_len;
    ngx_str_t               *kid;
    ngx_uint_t               i;
    ngx_http_es_jws_key_t  **keys, *key;
    const unsigned char     *k;

    if (elcf->keyset == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"embed_session_mint\" needs a private key from "
                           "\"embed_session_keys\"");
        return NULL;
    }

    keys = elcf->keyset->keys.elts;
    key = NULL;
    kid = &elcf->mint.kid;

    for (i = 0; i < elcf->keyset->keys.nelts; i++) {
        if (!ngx_http_es_jws_key_can_sign(keys[i])) {
            continue;
        }

        k = ngx_http_es_jws_key_kid(keys[i], &kid_len);

        if (kid->data) {
            if (kid_len == kid->len && ngx_memcmp(k, kid->data, kid_len) == 0)
            {
                return keys[i];
            }

            continue;
        }

        if (key) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"embed_session_keys\" has several private "
                               "keys: choose one with "
                               "\"embed_session_mint_key\"");
            return NULL;
        }

        key = keys[i];
    }

    if (key) {
        return key;
    }

    if (kid->data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "no private key with kid \"%V\" in "
                           "\"embed_session_keys\"", kid);

    } else {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"embed_session_keys\" has no private key to "
                           "mint with");
    }

    return NULL;
}


/*
 * A JOSE header, fixed for the location: {"alg":..,"typ":..,"kid":..}
 * in this order, "typ" when the type is not "off", "kid" when the key has
 * one.  The type and the kid are the operator's bytes: written as they
 * are when they are not UTF-8, as the header always had them.
 */

static ngx_int_t
ngx_http_es_mint_header(ngx_conf_t *cf, ngx_http_es_loc_conf_t *elcf,
    ngx_str_t *type, ngx_str_t *header)
{
    size_t                  kid_len;
    ngx_int_t               rc;
    ngx_str_t               alg, kid;
    ngx_http_es_json_t     *json;
    ngx_http_es_jws_key_t  *key;

    key = elcf->mint.key;

    alg.data = (u_char *) ngx_http_es_jws_alg_name(
                                                ngx_http_es_jws_key_alg(key));
    alg.len = ngx_strlen(alg.data);

    kid.data = (u_char *) ngx_http_es_jws_key_kid(key, &kid_len);
    kid.len = kid_len;

    json = ngx_http_es_json_object();
    if (json == NULL) {
        return NGX_ERROR;
    }

    rc = NGX_ERROR;

    if (ngx_http_es_json_set(json, (u_char *) "alg", 3,
                             ngx_http_es_mint_operator_text(&alg))
        != 0)
    {
        goto done;
    }

    if (type->len
        && ngx_http_es_json_set(json, (u_char *) "typ", 3,
                                ngx_http_es_mint_operator_text(type))
           != 0)
    {
        goto done;
    }

    if (kid.len
        && ngx_http_es_json_set(json, (u_char *) "kid", 3,
                                ngx_http_es_mint_operator_text(&kid))
           != 0)
    {
        goto done;
    }

    rc = ngx_http_es_json_text(cf->pool, json, header);

done:

    ngx_http_es_json_free(json);

    return rc;
}


static ngx_http_es_json_t *
ngx_http_es_mint_operator_text(ngx_str_t *s)
{
    if (ngx_http_es_json_utf8(s->data, s->len)) {
        return ngx_http_es_json_new_string(s->data, s->len);
    }

    return ngx_http_es_json_new_ascii(s->data, s->len);
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

    if (elcf->mint.origins != NGX_HTTP_ES_MINT_ORIGINS_OFF) {
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

    if (elcf->mint.origins != NGX_HTTP_ES_MINT_ORIGINS_OFF
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

    node = ngx_pcalloc(cf->pool, sizeof(ngx_http_es_out_node_t));
    if (node == NULL) {
        return NGX_CONF_ERROR;
    }

    mcf->out_root = node;
    node->output = -1;

    if (ngx_array_init(&node->children, cf->pool, 4,
                       sizeof(ngx_http_es_out_node_t))
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    o = mcf->outputs->elts;

    for (i = 0; i < mcf->outputs->nelts; i++) {
        node = mcf->out_root;
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
