
/*
 * Copyright (C) The ngx_http_embed_session_module authors
 */


#include "ngx_http_embed_session_module.h"
#include "ngx_http_embed_session_mint.h"


static void *ngx_http_es_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_es_init_main_conf(ngx_conf_t *cf, void *conf);
static void *ngx_http_es_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_es_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static ngx_int_t ngx_http_es_preconfiguration(ngx_conf_t *cf);
static ngx_int_t ngx_http_es_postconfiguration(ngx_conf_t *cf);
static ngx_int_t ngx_http_es_init_module(ngx_cycle_t *cycle);
static ngx_int_t ngx_http_es_init_process(ngx_cycle_t *cycle);
static void ngx_http_es_exit_master(ngx_cycle_t *cycle);
static void ngx_http_es_exit_process(ngx_cycle_t *cycle);

static char *ngx_http_es_token(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_int_t ngx_http_es_source_kind(ngx_conf_t *cf, ngx_array_t *kinds,
    ngx_str_t *value);
static char *ngx_http_es_keys(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_es_type(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_es_cache_size(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_es_require(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_es_claim_path(ngx_conf_t *cf, void *post, void *data);
static char *ngx_http_es_error_code(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_es_error_details_name(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);


static ngx_conf_enum_t  ngx_http_es_origin_absent[] = {
    { ngx_string("deny"), NGX_HTTP_ES_ORIGIN_ABSENT_DENY },
    { ngx_string("allow"), NGX_HTTP_ES_ORIGIN_ABSENT_ALLOW },
    { ngx_null_string, 0 }
};


static ngx_conf_enum_t  ngx_http_es_error_formats[] = {
    { ngx_string("flat"), NGX_HTTP_ES_ERROR_FLAT },
    { ngx_string("nested"), NGX_HTTP_ES_ERROR_NESTED },
    { ngx_null_string, 0 }
};


static ngx_conf_enum_t  ngx_http_es_frame_modes[] = {
    { ngx_string("off"), NGX_HTTP_ES_FRAME_OFF },
    { ngx_string("replace"), NGX_HTTP_ES_FRAME_REPLACE },
    { ngx_string("merge"), NGX_HTTP_ES_FRAME_MERGE },
    { ngx_null_string, 0 }
};


static ngx_conf_post_t  ngx_http_es_claim_path_post = {
    ngx_http_es_claim_path
};


#define NGX_HTTP_ES_CONF                                                      \
    (NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF)


static ngx_command_t  ngx_http_es_commands[] = {

    { ngx_string("embed_session_verify"),
      NGX_HTTP_ES_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_es_loc_conf_t, verify),
      NULL },

    { ngx_string("embed_session_token"),
      NGX_HTTP_ES_CONF|NGX_CONF_1MORE,
      ngx_http_es_token,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("embed_session_keys"),
      NGX_HTTP_ES_CONF|NGX_CONF_TAKE123,
      ngx_http_es_keys,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("embed_session_leeway"),
      NGX_HTTP_ES_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_es_loc_conf_t, leeway),
      NULL },

    { ngx_string("embed_session_max_lifetime"),
      NGX_HTTP_ES_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_es_loc_conf_t, max_lifetime),
      NULL },

    { ngx_string("embed_session_issuer"),
      NGX_HTTP_ES_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_es_loc_conf_t, issuer),
      NULL },

    { ngx_string("embed_session_audience"),
      NGX_HTTP_ES_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_es_loc_conf_t, audience),
      NULL },

    { ngx_string("embed_session_type"),
      NGX_HTTP_ES_CONF|NGX_CONF_TAKE1,
      ngx_http_es_type,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("embed_session_origin"),
      NGX_HTTP_ES_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_es_loc_conf_t, origin),
      NULL },

    { ngx_string("embed_session_origin_claim"),
      NGX_HTTP_ES_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_es_loc_conf_t, origin_claim),
      &ngx_http_es_claim_path_post },

    { ngx_string("embed_session_origin_referer"),
      NGX_HTTP_ES_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_es_loc_conf_t, origin_referer),
      NULL },

    { ngx_string("embed_session_origin_absent"),
      NGX_HTTP_ES_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_es_loc_conf_t, origin_absent),
      &ngx_http_es_origin_absent },

    { ngx_string("embed_session_require"),
      NGX_HTTP_ES_CONF|NGX_CONF_TAKE2,
      ngx_http_es_require,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("embed_session_error_format"),
      NGX_HTTP_ES_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_es_loc_conf_t, error_format),
      &ngx_http_es_error_formats },

    { ngx_string("embed_session_error_code"),
      NGX_HTTP_ES_CONF|NGX_CONF_TAKE3|NGX_CONF_TAKE4,
      ngx_http_es_error_code,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("embed_session_error_details"),
      NGX_HTTP_ES_CONF|NGX_CONF_TAKE1,
      ngx_http_es_error_details_name,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("embed_session_cache"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_es_cache_size,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    /* API keys */

    { ngx_string("embed_session_api_keys"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE23,
      ngx_http_es_api_keys_zone,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("embed_session_api_key"),
      NGX_HTTP_ES_CONF|NGX_CONF_TAKE1,
      ngx_http_es_api_key_zone,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("embed_session_api_key_from"),
      NGX_HTTP_ES_CONF|NGX_CONF_1MORE,
      ngx_http_es_api_key_from,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("embed_session_api_key_deny"),
      NGX_HTTP_ES_CONF|NGX_CONF_TAKE3|NGX_CONF_TAKE4,
      ngx_http_es_api_key_deny,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("embed_session_api_key_strip"),
      NGX_HTTP_ES_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_es_loc_conf_t, api.strip),
      NULL },

    { ngx_string("embed_session_api_key_regenerate"),
      NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_es_loc_conf_t, api.regenerate),
      NULL },

    { ngx_string("embed_session_api_key_revoke"),
      NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_es_loc_conf_t, api.revoke),
      NULL },

    /* minting */

    { ngx_string("embed_session_mint"),
      NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_es_mint,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("embed_session_mint_key"),
      NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_es_loc_conf_t, mint.kid),
      NULL },

    { ngx_string("embed_session_mint_body_max"),
      NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_es_loc_conf_t, mint.body_max),
      &ngx_http_es_mint_body_max_bounds },

    { ngx_string("embed_session_mint_unknown"),
      NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_es_loc_conf_t, mint.unknown_reject),
      &ngx_http_es_mint_unknown_modes },

    { ngx_string("embed_session_mint_status"),
      NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_es_loc_conf_t, mint.status),
      &ngx_http_es_mint_status_post },

    { ngx_string("embed_session_mint_origins"),
      NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_es_loc_conf_t, mint.origins),
      &ngx_http_es_mint_origins_modes },

    { ngx_string("embed_session_field"),
      NGX_HTTP_LOC_CONF|NGX_CONF_2MORE,
      ngx_http_es_mint_field_directive,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("embed_session_field_known"),
      NGX_HTTP_LOC_CONF|NGX_CONF_2MORE,
      ngx_http_es_mint_known_directive,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("embed_session_mint_ttl"),
      NGX_HTTP_LOC_CONF|NGX_CONF_TAKE12,
      ngx_http_es_mint_ttl,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("embed_session_mint_ttl_if"),
      NGX_HTTP_LOC_CONF|NGX_CONF_TAKE3,
      ngx_http_es_mint_ttl_if,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("embed_session_mint_claim"),
      NGX_HTTP_LOC_CONF|NGX_CONF_TAKE2,
      ngx_http_es_mint_claim,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("embed_session_mint_output"),
      NGX_HTTP_LOC_CONF|NGX_CONF_TAKE23,
      ngx_http_es_mint_output,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    /* the session lifecycle */

    { ngx_string("embed_session_store_zone"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_es_store_zone,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("embed_session_store"),
      NGX_HTTP_ES_CONF|NGX_CONF_TAKE1,
      ngx_http_es_store,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("embed_session_mint_lifetime"),
      NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_es_loc_conf_t, mint.lifetime),
      &ngx_http_es_mint_time_bounds },

    { ngx_string("embed_session_mint_exchange"),
      NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_es_loc_conf_t, mint.ticket),
      &ngx_http_es_mint_time_bounds },

    { ngx_string("embed_session_refresh"),
      NGX_HTTP_LOC_CONF|NGX_CONF_TAKE123,
      ngx_http_es_life,
      NGX_HTTP_LOC_CONF_OFFSET,
      NGX_HTTP_ES_REFRESH_RENEW,
      NULL },

    { ngx_string("embed_session_revoke"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS|NGX_CONF_TAKE12,
      ngx_http_es_life,
      NGX_HTTP_LOC_CONF_OFFSET,
      NGX_HTTP_ES_REVOKE,
      NULL },

    { ngx_string("embed_session_exchange"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS|NGX_CONF_TAKE1,
      ngx_http_es_life,
      NGX_HTTP_LOC_CONF_OFFSET,
      NGX_HTTP_ES_EXCHANGE,
      NULL },

    { ngx_string("embed_session_status"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_es_status,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("embed_session_frame_ancestors"),
      NGX_HTTP_ES_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_es_loc_conf_t, frame_ancestors),
      &ngx_http_es_frame_modes },

    { ngx_string("embed_session_fetch_dest"),
      NGX_HTTP_ES_CONF|NGX_CONF_1MORE,
      ngx_http_es_list,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_es_loc_conf_t, fetch_dest),
      (void *) NGX_HTTP_ES_LIST_DEST },

    { ngx_string("embed_session_fetch_site"),
      NGX_HTTP_ES_CONF|NGX_CONF_1MORE,
      ngx_http_es_list,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_es_loc_conf_t, fetch_site),
      (void *) NGX_HTTP_ES_LIST_SITE },

    { ngx_string("embed_session_cors"),
      NGX_HTTP_ES_CONF|NGX_CONF_1MORE,
      ngx_http_es_list,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_es_loc_conf_t, cors),
      (void *) NGX_HTTP_ES_LIST_ORIGINS },

    { ngx_string("embed_session_cors_methods"),
      NGX_HTTP_ES_CONF|NGX_CONF_1MORE,
      ngx_http_es_list,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_es_loc_conf_t, cors_methods),
      (void *) NGX_HTTP_ES_LIST_METHODS },

    { ngx_string("embed_session_cors_headers"),
      NGX_HTTP_ES_CONF|NGX_CONF_1MORE,
      ngx_http_es_list,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_es_loc_conf_t, cors_headers),
      (void *) NGX_HTTP_ES_LIST_HEADERS },

    { ngx_string("embed_session_cors_expose"),
      NGX_HTTP_ES_CONF|NGX_CONF_1MORE,
      ngx_http_es_list,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_es_loc_conf_t, cors_expose),
      (void *) NGX_HTTP_ES_LIST_EXPOSE },

    { ngx_string("embed_session_cors_credentials"),
      NGX_HTTP_ES_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_es_loc_conf_t, cors_credentials),
      NULL },

    { ngx_string("embed_session_cors_max_age"),
      NGX_HTTP_ES_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_es_loc_conf_t, cors_max_age),
      NULL },

    { ngx_string("embed_session_browser_channel"),
      NGX_HTTP_ES_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_es_loc_conf_t, browser_channel),
      NULL },

    { ngx_string("embed_session_cookie"),
      NGX_HTTP_ES_CONF|NGX_CONF_TAKE12,
      ngx_http_es_cookie,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("embed_session_url_exchange"),
      NGX_HTTP_ES_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_es_loc_conf_t, url_exchange),
      NULL },

    { ngx_string("embed_session_claim_header"),
      NGX_HTTP_ES_CONF|NGX_CONF_TAKE2,
      ngx_http_es_claim_header,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("embed_session_strip_token"),
      NGX_HTTP_ES_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_es_loc_conf_t, strip_token),
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_embed_session_module_ctx = {
    ngx_http_es_preconfiguration,          /* preconfiguration */
    ngx_http_es_postconfiguration,         /* postconfiguration */

    ngx_http_es_create_main_conf,          /* create main configuration */
    ngx_http_es_init_main_conf,            /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_es_create_loc_conf,           /* create location configuration */
    ngx_http_es_merge_loc_conf             /* merge location configuration */
};


ngx_module_t  ngx_http_embed_session_module = {
    NGX_MODULE_V1,
    &ngx_http_embed_session_module_ctx,    /* module context */
    ngx_http_es_commands,                  /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    ngx_http_es_init_module,               /* init module */
    ngx_http_es_init_process,              /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_es_exit_process,              /* exit process */
    ngx_http_es_exit_master,               /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_str_t  ngx_http_es_default_source =
    ngx_string("$http_x_session_token");
static ngx_str_t  ngx_http_es_default_type = ngx_string("embed-session+jwt");
static ngx_str_t  ngx_http_es_default_origin_claim = ngx_string("origins");
static ngx_str_t  ngx_http_es_default_details = ngx_string("details");


static void *
ngx_http_es_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_es_main_conf_t  *emcf;

    emcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_es_main_conf_t));
    if (emcf == NULL) {
        return NULL;
    }

    emcf->cache = NGX_CONF_UNSET_UINT;

    return emcf;
}


static char *
ngx_http_es_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_es_main_conf_t *emcf = conf;

    ngx_conf_init_uint_value(emcf->cache, 1024);

    return NGX_CONF_OK;
}


static void *
ngx_http_es_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_es_loc_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_es_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     conf->issuer = { 0, NULL };
     *     conf->audience = { 0, NULL };
     *     conf->type = { 0, NULL };
     *     conf->origin_claim = { 0, NULL };
     */

    conf->verify = NGX_CONF_UNSET;
    conf->sources = NGX_CONF_UNSET_PTR;
    conf->token_args = NGX_CONF_UNSET_PTR;
    conf->keyset = NGX_CONF_UNSET_PTR;
    conf->leeway = NGX_CONF_UNSET;
    conf->max_lifetime = NGX_CONF_UNSET;
    conf->origin = NGX_CONF_UNSET;
    conf->origin_referer = NGX_CONF_UNSET;
    conf->origin_absent = NGX_CONF_UNSET_UINT;
    conf->requires = NGX_CONF_UNSET_PTR;
    conf->error_format = NGX_CONF_UNSET_UINT;
    conf->error_codes = NGX_CONF_UNSET_PTR;

    conf->store = NGX_CONF_UNSET_PTR;

    conf->frame_ancestors = NGX_CONF_UNSET_UINT;
    conf->fetch_dest.values = NGX_CONF_UNSET_PTR;
    conf->fetch_site.values = NGX_CONF_UNSET_PTR;
    conf->cors.values = NGX_CONF_UNSET_PTR;
    conf->cors_methods.values = NGX_CONF_UNSET_PTR;
    conf->cors_headers.values = NGX_CONF_UNSET_PTR;
    conf->cors_expose.values = NGX_CONF_UNSET_PTR;
    conf->cors_credentials = NGX_CONF_UNSET;
    conf->cors_max_age = NGX_CONF_UNSET;
    conf->browser_channel = NGX_CONF_UNSET;

    conf->url_exchange = NGX_CONF_UNSET;
    conf->claim_headers = NGX_CONF_UNSET_PTR;
    conf->strip_token = NGX_CONF_UNSET;

    ngx_http_es_api_conf_init(&conf->api);
    ngx_http_es_mint_conf_init(&conf->mint);

    return conf;
}


static char *
ngx_http_es_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_es_loc_conf_t *prev = parent;
    ngx_http_es_loc_conf_t *conf = child;

    ngx_http_es_main_conf_t           *emcf;
    ngx_http_complex_value_t          *cv;
    ngx_http_compile_complex_value_t   ccv;

    ngx_conf_merge_value(conf->verify, prev->verify, 0);

    if (conf->sources == NGX_CONF_UNSET_PTR) {
        conf->sources = prev->sources;
        conf->source_kinds = prev->source_kinds;
        conf->token_args = prev->token_args;
    }

    if (conf->sources == NGX_CONF_UNSET_PTR) {
        emcf = ngx_http_conf_get_module_main_conf(cf,
                                                ngx_http_embed_session_module);

        if (emcf->default_sources == NULL) {
            emcf->default_sources = ngx_array_create(cf->pool, 1,
                                            sizeof(ngx_http_complex_value_t));
            if (emcf->default_sources == NULL) {
                return NGX_CONF_ERROR;
            }

            cv = ngx_array_push(emcf->default_sources);
            if (cv == NULL) {
                return NGX_CONF_ERROR;
            }

            ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

            ccv.cf = cf;
            ccv.value = &ngx_http_es_default_source;
            ccv.complex_value = cv;

            if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
                return NGX_CONF_ERROR;
            }

            emcf->default_kinds = ngx_array_create(cf->pool, 1,
                                                sizeof(ngx_http_es_source_t));
            if (emcf->default_kinds == NULL
                || ngx_http_es_source_kind(cf, emcf->default_kinds,
                                           &ngx_http_es_default_source)
                   != NGX_OK)
            {
                return NGX_CONF_ERROR;
            }
        }

        conf->sources = emcf->default_sources;
        conf->source_kinds = emcf->default_kinds;
        conf->token_args = NULL;
    }

    ngx_conf_merge_ptr_value(conf->keyset, prev->keyset, NULL);
    ngx_conf_merge_sec_value(conf->leeway, prev->leeway, 30);

    /* a session's record outlives its tokens wherever they are checked */

    emcf = ngx_http_conf_get_module_main_conf(cf,
                                              ngx_http_embed_session_module);
    if (conf->leeway > emcf->leeway) {
        emcf->leeway = conf->leeway;
    }
    ngx_conf_merge_sec_value(conf->max_lifetime, prev->max_lifetime, 86400);
    ngx_conf_merge_str_value(conf->issuer, prev->issuer, "");
    ngx_conf_merge_str_value(conf->audience, prev->audience, "");

    if (conf->type.data == NULL) {
        conf->type = prev->type.data ? prev->type : ngx_http_es_default_type;
    }

    ngx_conf_merge_value(conf->origin, prev->origin, 1);
    ngx_conf_merge_value(conf->origin_referer, prev->origin_referer, 0);
    ngx_conf_merge_uint_value(conf->origin_absent, prev->origin_absent,
                              NGX_HTTP_ES_ORIGIN_ABSENT_DENY);

    if (conf->origin_claim.data == NULL) {
        conf->origin_claim = prev->origin_claim.data
                             ? prev->origin_claim
                             : ngx_http_es_default_origin_claim;
    }

    ngx_conf_merge_ptr_value(conf->requires, prev->requires, NULL);
    ngx_conf_merge_uint_value(conf->error_format, prev->error_format,
                              NGX_HTTP_ES_ERROR_FLAT);
    ngx_conf_merge_ptr_value(conf->error_codes, prev->error_codes, NULL);

    if (conf->error_details.data == NULL) {
        conf->error_details = prev->error_details.data
                              ? prev->error_details
                              : ngx_http_es_default_details;
    }

    if (ngx_http_es_api_conf_merge(cf, &prev->api, &conf->api)
        != NGX_CONF_OK)
    {
        return NGX_CONF_ERROR;
    }

    ngx_conf_merge_ptr_value(conf->store, prev->store, NULL);

    if (ngx_http_es_life_merge(cf, conf) != NGX_CONF_OK) {
        return NGX_CONF_ERROR;
    }

    if (ngx_http_es_mint_merge(cf, conf) != NGX_CONF_OK) {
        return NGX_CONF_ERROR;
    }

    if (ngx_http_es_browser_merge(cf, prev, conf) != NGX_CONF_OK) {
        return NGX_CONF_ERROR;
    }

    if (ngx_http_es_upstream_merge(cf, prev, conf) != NGX_CONF_OK) {
        return NGX_CONF_ERROR;
    }

    if (conf->verify) {
        if (conf->keyset == NULL) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"embed_session_verify\" is on but no "
                               "\"embed_session_keys\" are configured");
            return NGX_CONF_ERROR;
        }

        emcf = ngx_http_conf_get_module_main_conf(cf,
                                                ngx_http_embed_session_module);
        emcf->verify = 1;
    }

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_es_preconfiguration(ngx_conf_t *cf)
{
    return ngx_http_es_add_variables(cf);
}


static ngx_int_t
ngx_http_es_postconfiguration(ngx_conf_t *cf)
{
    ngx_http_es_main_conf_t  *emcf;

    /* servers without verification or API keys pay nothing, not a call */

    emcf = ngx_http_conf_get_module_main_conf(cf,
                                              ngx_http_embed_session_module);

    /*
     * the request line is masked as soon as it is read, and again before
     * the access log (first in the log phase) for a request that ended
     * before the post-read phase (a header too large, a timeout)
     */

    if ((emcf->api
         && ngx_http_es_phase_handler(cf, NGX_HTTP_ACCESS_PHASE,
                                      ngx_http_es_api_access_handler, 0)
            != NGX_OK)
        || (emcf->verify
            && ngx_http_es_phase_handler(cf, NGX_HTTP_ACCESS_PHASE,
                                         ngx_http_es_verify_handler, 0)
               != NGX_OK)
        || (emcf->exchange
            && ngx_http_es_phase_handler(cf, NGX_HTTP_PRECONTENT_PHASE,
                                         ngx_http_es_exchange_handler, 0)
               != NGX_OK)
        || (emcf->token_args
            && (ngx_http_es_phase_handler(cf, NGX_HTTP_POST_READ_PHASE,
                                          ngx_http_es_request_line_handler,
                                          0)
                   != NGX_OK
                || ngx_http_es_phase_handler(cf, NGX_HTTP_LOG_PHASE,
                                            ngx_http_es_request_line_handler,
                                            1)
                   != NGX_OK)))
    {
        return NGX_ERROR;
    }

    if (emcf->browser) {
        return ngx_http_es_browser_init(cf);
    }

    return NGX_OK;
}


/*
 * A phase handler at the end of the phase's array, or at its front: the
 * phase engine runs an array from its end, the log phase from its front.
 */

ngx_int_t
ngx_http_es_phase_handler(ngx_conf_t *cf, ngx_http_phases phase,
    ngx_http_handler_pt handler, ngx_uint_t front)
{
    ngx_array_t                *a;
    ngx_http_handler_pt        *h;
    ngx_http_core_main_conf_t  *cmcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    a = &cmcf->phases[phase].handlers;

    h = ngx_array_push(a);
    if (h == NULL) {
        return NGX_ERROR;
    }

    if (front) {
        h = a->elts;
        ngx_memmove(&h[1], &h[0], (a->nelts - 1) * sizeof(*h));
    }

    *h = handler;

    return NGX_OK;
}


/*
 * The master, with a new configuration in place: API key changes carried
 * over from a zone that a reload resized, the stores' epochs
 */

static ngx_int_t
ngx_http_es_init_module(ngx_cycle_t *cycle)
{
    if (ngx_http_es_api_init_module(cycle) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_es_store_init_module(cycle);
}


static ngx_int_t
ngx_http_es_init_process(ngx_cycle_t *cycle)
{
    ngx_http_es_main_conf_t  *emcf;

    /* random bytes drawn before fork() are never a worker's */

    ngx_http_es_jws_random_reset();

    if (ngx_http_es_store_init_process(cycle) != NGX_OK) {
        return NGX_ERROR;
    }

    emcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_embed_session_module);

    /* the counters of this cycle's zone, if it has one */

    ngx_http_es_metrics = (emcf && emcf->metrics) ? emcf->metrics->data
                                                  : NULL;

    if (emcf == NULL || !emcf->verify) {
        return NGX_OK;
    }

    return ngx_http_es_cache_init(cycle, emcf->cache);
}


static void
ngx_http_es_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_es_store_exit(cycle);
    ngx_http_es_cache_done();
    ngx_http_es_jws_done();
}


static void
ngx_http_es_exit_master(ngx_cycle_t *cycle)
{
    ngx_http_es_store_exit_master(cycle);
}



static char *
ngx_http_es_token(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_es_loc_conf_t *elcf = conf;

    ngx_str_t                         *value, *arg;
    ngx_http_es_source_t              *src;
    ngx_http_es_main_conf_t           *emcf;
    ngx_uint_t                         i;
    ngx_http_complex_value_t          *cv;
    ngx_http_compile_complex_value_t   ccv;

    if (elcf->sources != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    elcf->sources = ngx_array_create(cf->pool, cf->args->nelts - 1,
                                     sizeof(ngx_http_complex_value_t));
    if (elcf->sources == NULL) {
        return NGX_CONF_ERROR;
    }

    elcf->token_args = ngx_array_create(cf->pool, 1, sizeof(ngx_str_t));
    if (elcf->token_args == NULL) {
        return NGX_CONF_ERROR;
    }

    elcf->source_kinds = ngx_array_create(cf->pool, cf->args->nelts - 1,
                                          sizeof(ngx_http_es_source_t));
    if (elcf->source_kinds == NULL) {
        return NGX_CONF_ERROR;
    }

    emcf = ngx_http_conf_get_module_main_conf(cf,
                                              ngx_http_embed_session_module);

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {

        if (value[i].len == 0) {
            return "has an empty source";
        }

        cv = ngx_array_push(elcf->sources);
        if (cv == NULL) {
            return NGX_CONF_ERROR;
        }

        ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

        ccv.cf = cf;
        ccv.value = &value[i];
        ccv.complex_value = cv;

        if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
            return NGX_CONF_ERROR;
        }

        if (ngx_http_es_source_kind(cf, elcf->source_kinds, &value[i])
            != NGX_OK)
        {
            return NGX_CONF_ERROR;
        }

        /*
         * a token read from a query argument is remembered, so that
         * $embed_session_args and $embed_session_request_line can leave
         * it out of what goes upstream and into logs; and every level's,
         * for the request line in logs
         */

        src = elcf->source_kinds->elts;
        src += elcf->source_kinds->nelts - 1;

        if (src->kind == NGX_HTTP_ES_SOURCE_ARG) {
            arg = ngx_array_push(elcf->token_args);
            if (arg == NULL) {
                return NGX_CONF_ERROR;
            }

            *arg = src->name;

            arg = ngx_http_es_conf_push(cf, &emcf->token_args,
                                        sizeof(ngx_str_t));
            if (arg == NULL) {
                return NGX_CONF_ERROR;
            }

            *arg = src->name;
        }
    }

    return NGX_CONF_OK;
}


/*
 * What a source reads, for embed_session_strip_token and the URL-token
 * exchange: a source that is exactly one variable of a request header, a
 * cookie or a query argument, or $embed_session_bearer.
 */

static ngx_int_t
ngx_http_es_source_kind(ngx_conf_t *cf, ngx_array_t *kinds, ngx_str_t *value)
{
    u_char                *p;
    ngx_str_t              plain;
    ngx_uint_t             i;
    ngx_http_es_source_t  *src;

    static struct {
        ngx_str_t   prefix;
        ngx_uint_t  kind;
    } prefixes[] = {
        { ngx_string("$http_"), NGX_HTTP_ES_SOURCE_HEADER },
        { ngx_string("$cookie_"), NGX_HTTP_ES_SOURCE_COOKIE },
        { ngx_string("$arg_"), NGX_HTTP_ES_SOURCE_ARG },
        { ngx_string("$embed_session_bearer"), NGX_HTTP_ES_SOURCE_BEARER }
    };

    src = ngx_array_push(kinds);
    if (src == NULL) {
        return NGX_ERROR;
    }

    src->kind = NGX_HTTP_ES_SOURCE_OTHER;
    ngx_str_null(&src->name);

    /* "${arg_token}" is "$arg_token" */

    if (value->len > 3 && value->data[0] == '$' && value->data[1] == '{'
        && value->data[value->len - 1] == '}')
    {
        p = ngx_pnalloc(cf->pool, value->len - 2);
        if (p == NULL) {
            return NGX_ERROR;
        }

        p[0] = '$';
        ngx_memcpy(p + 1, value->data + 2, value->len - 3);

        plain.data = p;
        plain.len = value->len - 2;
        value = &plain;
    }

    for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {

        if (value->len < prefixes[i].prefix.len
            || ngx_strncasecmp(value->data, prefixes[i].prefix.data,
                               prefixes[i].prefix.len) != 0)
        {
            continue;
        }

        src->name.len = value->len - prefixes[i].prefix.len;

        if (prefixes[i].kind == NGX_HTTP_ES_SOURCE_BEARER) {
            if (src->name.len == 0) {
                src->kind = NGX_HTTP_ES_SOURCE_BEARER;
            }

            break;
        }

        /* one variable and nothing else: "$http_a$arg_b" reads neither */

        for (p = value->data + prefixes[i].prefix.len;
             p < value->data + value->len;
             p++)
        {
            if (*p == '$' || *p == '{' || *p == '}') {
                return NGX_OK;
            }
        }

        if (src->name.len == 0) {
            return NGX_OK;
        }

        src->name.data = ngx_pnalloc(cf->pool, src->name.len);
        if (src->name.data == NULL) {
            return NGX_ERROR;
        }

        ngx_strlow(src->name.data, value->data + prefixes[i].prefix.len,
                   src->name.len);

        src->kind = prefixes[i].kind;
        break;
    }

    return NGX_OK;
}


static char *
ngx_http_es_keys(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_es_loc_conf_t *elcf = conf;

    ngx_str_t              *value, kid, *kidp;
    ngx_uint_t              i;
    ngx_http_es_jws_alg_t   alg;

    value = cf->args->elts;

    alg = NGX_HTTP_ES_JWS_ALG_UNKNOWN;
    kidp = NULL;

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "alg=", 4) == 0) {
            alg = ngx_http_es_jws_alg(value[i].data + 4, value[i].len - 4);

            if (alg == NGX_HTTP_ES_JWS_ALG_UNKNOWN) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "unsupported algorithm \"%V\"", &value[i]);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "kid=", 4) == 0) {
            kid.data = value[i].data + 4;
            kid.len = value[i].len - 4;

            if (kid.len == 0 || kid.len > NGX_HTTP_ES_JWS_MAX_KID) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "kid= of key file \"%V\" must be 1 to %d "
                                   "bytes long", &value[1],
                                   NGX_HTTP_ES_JWS_MAX_KID);
                return NGX_CONF_ERROR;
            }

            kidp = &kid;
            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\"", &value[i]);
        return NGX_CONF_ERROR;
    }

    if (elcf->keyset == NGX_CONF_UNSET_PTR) {
        elcf->keyset = ngx_pcalloc(cf->pool, sizeof(ngx_http_es_keyset_t));
        if (elcf->keyset == NULL) {
            return NGX_CONF_ERROR;
        }

        if (ngx_array_init(&elcf->keyset->keys, cf->pool, 2,
                           sizeof(ngx_http_es_jws_key_t *))
            != NGX_OK)
        {
            return NGX_CONF_ERROR;
        }
    }

    return ngx_http_es_keys_load(cf, elcf->keyset, &value[1], alg, kidp);
}


static char *
ngx_http_es_type(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_es_loc_conf_t *elcf = conf;

    ngx_str_t  *value, s;

    if (elcf->type.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "off") == 0) {
        ngx_str_set(&elcf->type, "");
        return NGX_CONF_OK;
    }

    if (value[1].len == 0 || value[1].len > NGX_HTTP_ES_JWS_MAX_TYP) {
        return "must be 1 to 64 bytes long";
    }

    /*
     * the session type is what verify locations accept and what the mint
     * signs as a session: the renew type there would make renew tokens,
     * which live as long as the session, session tokens (rule 19).  Media
     * types compare without case and may omit "application/" (RFC 7515)
     */

    s = value[1];

    if (s.len > sizeof("application/") - 1
        && ngx_strncasecmp(s.data, (u_char *) "application/",
                           sizeof("application/") - 1) == 0)
    {
        s.data += sizeof("application/") - 1;
        s.len -= sizeof("application/") - 1;
    }

    if (s.len == sizeof(NGX_HTTP_ES_RENEW_TYPE) - 1
        && ngx_strncasecmp(s.data, (u_char *) NGX_HTTP_ES_RENEW_TYPE, s.len)
           == 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"embed_session_type %V\" is the type of renew "
                           "tokens: a renew token would pass as a session "
                           "token", &value[1]);
        return NGX_CONF_ERROR;
    }

    elcf->type = value[1];

    return NGX_CONF_OK;
}


static char *
ngx_http_es_require(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_es_loc_conf_t *elcf = conf;

    char                              *rv;
    ngx_str_t                         *value;
    ngx_http_es_require_t             *req;
    ngx_http_compile_complex_value_t   ccv;

    value = cf->args->elts;

    rv = ngx_http_es_claim_path(cf, NULL, &value[1]);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    if (value[2].len == 0) {
        return "has an empty value";
    }

    if (elcf->requires == NGX_CONF_UNSET_PTR) {
        elcf->requires = ngx_array_create(cf->pool, 2,
                                          sizeof(ngx_http_es_require_t));
        if (elcf->requires == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    req = ngx_array_push(elcf->requires);
    if (req == NULL) {
        return NGX_CONF_ERROR;
    }

    req->claim = value[1];

    ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

    ccv.cf = cf;
    ccv.value = &value[2];
    ccv.complex_value = &req->value;

    if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_es_cache_size(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_es_main_conf_t *emcf = conf;

    ngx_int_t   n;
    ngx_str_t  *value;

    if (emcf->cache != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "off") == 0) {
        emcf->cache = 0;
        return NGX_CONF_OK;
    }

    n = ngx_atoi(value[1].data, value[1].len);

    if (n < 1 || n > 1048576) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid cache size \"%V\": a number of entries "
                           "from 1 to 1048576, or \"off\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    emcf->cache = n;

    return NGX_CONF_OK;
}


/* a claim name or a dotted path of names, as the codec looks them up */

static char *
ngx_http_es_claim_path(ngx_conf_t *cf, void *post, void *data)
{
    ngx_str_t  *path = data;

    u_char  *p, *last, *dot;

    p = path->data;
    last = p + path->len;

    if (path->len == 0) {
        return "has an empty claim name";
    }

    while (p <= last) {
        dot = ngx_strlchr(p, last, '.');
        if (dot == NULL) {
            dot = last;
        }

        if (dot == p || dot - p > 127) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid claim path \"%V\"", path);
            return NGX_CONF_ERROR;
        }

        p = dot + 1;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_es_error_code(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_es_loc_conf_t *elcf = conf;

    ngx_int_t                  code, status;
    ngx_str_t                 *value;
    ngx_uint_t                 i;
    ngx_http_es_error_code_t  *ec;

    value = cf->args->elts;

    code = ngx_http_es_code_by_name(&value[1]);
    if (code == NGX_ERROR || code == NGX_HTTP_ES_DENIED) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "unknown error code \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    status = ngx_atoi(value[2].data, value[2].len);
    if (status < 400 || status > 599) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid status \"%V\": 400 to 599", &value[2]);
        return NGX_CONF_ERROR;
    }

    for (i = 0; i < value[3].len; i++) {
        if (value[3].data[i] < 0x21 || value[3].data[i] > 0x7e
            || value[3].data[i] == '"' || value[3].data[i] == '\\')
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid code \"%V\"", &value[3]);
            return NGX_CONF_ERROR;
        }
    }

    if (value[3].len == 0 || value[3].len > 64) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid code \"%V\"", &value[3]);
        return NGX_CONF_ERROR;
    }

    if (elcf->error_codes != NGX_CONF_UNSET_PTR) {
        ec = elcf->error_codes->elts;

        for (i = 0; i < elcf->error_codes->nelts; i++) {
            if (ec[i].code == (ngx_http_es_code_t) code) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "error code \"%V\" is renamed twice",
                                   &value[1]);
                return NGX_CONF_ERROR;
            }
        }
    }

    ec = ngx_http_es_conf_push(cf, &elcf->error_codes,
                               sizeof(ngx_http_es_error_code_t));
    if (ec == NULL) {
        return NGX_CONF_ERROR;
    }

    ec->code = code;
    ec->status = status;
    ec->name = value[3];

    if (cf->args->nelts == 5) {
        ec->message = value[4];

    } else {
        ngx_str_null(&ec->message);
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_es_error_details_name(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_es_loc_conf_t *elcf = conf;

    u_char       c;
    ngx_str_t   *value;
    ngx_uint_t   i;

    if (elcf->error_details.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "off") == 0) {
        elcf->error_details.len = 0;
        elcf->error_details.data = (u_char *) "";
        return NGX_CONF_OK;
    }

    for (i = 0; i < value[1].len; i++) {
        c = value[1].data[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9') || c == '_'))
        {
            return "takes a name of letters, digits and \"_\", or \"off\"";
        }
    }

    if (value[1].len == 0 || value[1].len > 32) {
        return "takes a name of 1 to 32 characters, or \"off\"";
    }

    elcf->error_details = value[1];

    return NGX_CONF_OK;
}


/* an element more in a list directive's array, made on first use */

void *
ngx_http_es_conf_push(ngx_conf_t *cf, ngx_array_t **a, size_t size)
{
    if (*a == NULL || *a == NGX_CONF_UNSET_PTR) {
        *a = ngx_array_create(cf->pool, 4, size);
        if (*a == NULL) {
            return NULL;
        }
    }

    return ngx_array_push(*a);
}


/*
 * The user and group of the worker processes: the master's own when it
 * does not run as root; else "user", or nginx's default when it is not
 * given (or not read yet: it belongs before "http")
 */

ngx_int_t
ngx_http_es_workers(ngx_cycle_t *cycle, ngx_uid_t *uid, ngx_gid_t *gid)
{
    struct group     *grp;
    struct passwd    *pwd;
    ngx_core_conf_t  *ccf;

    if (geteuid() != 0) {
        *uid = geteuid();
        *gid = getegid();
        return NGX_OK;
    }

    ccf = (ngx_core_conf_t *) ngx_get_conf(cycle->conf_ctx, ngx_core_module);

    if (ccf && ccf->user != (ngx_uid_t) NGX_CONF_UNSET_UINT) {
        *uid = ccf->user;
        *gid = ccf->group;
        return NGX_OK;
    }

    pwd = getpwnam(NGX_USER);
    if (pwd == NULL) {
        return NGX_DECLINED;
    }

    grp = getgrnam(NGX_GROUP);

    *uid = pwd->pw_uid;
    *gid = grp ? grp->gr_gid : pwd->pw_gid;

    return NGX_OK;
}


/* by the mode bits alone: supplementary groups and ACLs are not seen */

ngx_uint_t
ngx_http_es_writable(ngx_file_info_t *fi, ngx_uid_t uid, ngx_gid_t gid)
{
    if (fi->st_uid == uid) {
        return (fi->st_mode & S_IWUSR) != 0;
    }

    if (fi->st_gid == gid) {
        return (fi->st_mode & S_IWGRP) != 0;
    }

    return (fi->st_mode & S_IWOTH) != 0;
}


/*
 * nginx has no way to take a header out of the request: when one has to
 * go, the list is made anew without the headers that "drop" names, with
 * room for "room" more (the named pointers of headers_in keep their
 * elements, which stay valid for the request).  Returns how many went, or
 * NGX_ERROR.
 */

ngx_int_t
ngx_http_es_headers_drop(ngx_http_request_t *r,
    ngx_http_es_header_drop_pt drop, void *data, ngx_uint_t room)
{
    ngx_int_t         dropped;
    ngx_uint_t        i, n;
    ngx_list_t        headers;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h, *copy;

    n = 0;
    dropped = 0;

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

        n++;
        dropped += drop(r, &h[i], data);
    }

    if (dropped == 0) {
        return 0;
    }

    if (ngx_list_init(&headers, r->pool, n + room, sizeof(ngx_table_elt_t))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

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

        if (drop(r, &h[i], data)) {
            continue;
        }

        copy = ngx_list_push(&headers);
        if (copy == NULL) {
            return NGX_ERROR;
        }

        *copy = h[i];
    }

    /* one part: "last" must point into the request, not this frame */

    r->headers_in.headers = headers;
    r->headers_in.headers.last = &r->headers_in.headers.part;

    return dropped;
}
