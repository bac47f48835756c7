
/*
 * Copyright (C) The ngx_http_embed_session_module authors
 *
 * The hub: the module's directive table and its context (create, merge
 * and the checks across levels), the phase handlers it installs, the
 * process hooks, the request's context, and the few helpers every family
 * shares.  A directive's handler lives with the feature it configures;
 * what nginx's own slots parse is parsed here, into the location's
 * configuration (module.h).  CONTRIBUTING.md has the map of the others.
 */


#include "ngx_http_embed_session_module.h"
#include "ngx_http_embed_session_apikey.h"
#include "ngx_http_embed_session_browser.h"
#include "ngx_http_embed_session_cache.h"
#include "ngx_http_embed_session_jws.h"
#include "ngx_http_embed_session_lifecycle.h"
#include "ngx_http_embed_session_mint.h"
#include "ngx_http_embed_session_redis.h"
#include "ngx_http_embed_session_response.h"
#include "ngx_http_embed_session_status.h"
#include "ngx_http_embed_session_store.h"
#include "ngx_http_embed_session_upstream.h"
#include "ngx_http_embed_session_variables.h"
#include "ngx_http_embed_session_verify.h"


/*
 * The context of a request lives in a pool cleanup, and subrequests share
 * the main request's pool: the cleanup says whose context it is.
 */

typedef struct {
    ngx_http_es_ctx_t          ctx;        /* first: the cleanup's data */
    ngx_http_request_t        *request;
} ngx_http_es_ctx_cln_t;


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

static void ngx_http_es_ctx_cleanup(void *data);


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
      NGX_HTTP_MAIN_CONF|NGX_CONF_2MORE,
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
      ngx_http_es_life_refresh,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("embed_session_revoke"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS|NGX_CONF_TAKE12,
      ngx_http_es_life_revoke,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("embed_session_exchange"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS|NGX_CONF_TAKE1,
      ngx_http_es_life_exchange,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("embed_session_redis"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_es_redis,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
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

    /* backend= of the zones: the servers, declared before or after */

    if (ngx_http_es_api_backends(cf) != NGX_CONF_OK) {
        return NGX_CONF_ERROR;
    }

    return ngx_http_es_store_backends(cf, emcf->stores);
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

    if (emcf->api
        && ngx_http_es_phase_handler(cf, NGX_HTTP_ACCESS_PHASE,
                                     ngx_http_es_api_access_handler, 0)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (emcf->verify
        && ngx_http_es_phase_handler(cf, NGX_HTTP_ACCESS_PHASE,
                                     ngx_http_es_verify_handler, 0)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (emcf->exchange
        && ngx_http_es_phase_handler(cf, NGX_HTTP_PRECONTENT_PHASE,
                                     ngx_http_es_exchange_handler, 0)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (emcf->token_args) {

        if (ngx_http_es_phase_handler(cf, NGX_HTTP_POST_READ_PHASE,
                                      ngx_http_es_request_line_handler, 0)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        if (ngx_http_es_phase_handler(cf, NGX_HTTP_LOG_PHASE,
                                      ngx_http_es_request_line_handler, 1)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
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

    /* the worker that sweeps the stores ends the revoked API keys' sessions */

    if (ngx_http_es_store_sweeps(cycle)) {
        ngx_http_es_api_end_revoked(cycle);
    }

    emcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_embed_session_module);

    /* the counters of this cycle's zone, if it has one */

    ngx_http_es_metrics = (emcf && emcf->metrics) ? emcf->metrics->data
                                                  : NULL;

    /* the stores' feeds, started by their connections, in worker 0 */

    if (ngx_http_es_store_feed_init(cycle) != NGX_OK
        || ngx_http_es_api_feed_init(cycle) != NGX_OK)
    {
        return NGX_ERROR;
    }

    /* this worker's connections to the Redis servers, counted there */

    if (ngx_http_es_redis_init_process(cycle) != NGX_OK) {
        return NGX_ERROR;
    }

    if (emcf == NULL || !emcf->verify) {
        return NGX_OK;
    }

    return ngx_http_es_cache_init(cycle, emcf->cache);
}


static void
ngx_http_es_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_es_redis_exit_process(cycle);
    ngx_http_es_store_exit(cycle);
    ngx_http_es_cache_done();
    ngx_http_es_jws_done();
}


static void
ngx_http_es_exit_master(ngx_cycle_t *cycle)
{
    ngx_http_es_store_exit_master(cycle);
}


/*
 * The context lives in a pool cleanup as well, so that it survives the
 * internal redirects that clear r->ctx (try_files, error_page, named
 * locations), as the realip module does.
 */

ngx_http_es_ctx_t *
ngx_http_es_get_ctx(ngx_http_request_t *r, ngx_uint_t create)
{
    ngx_pool_cleanup_t     *cln;
    ngx_http_es_ctx_t      *ctx;
    ngx_http_es_ctx_cln_t  *c;

    ctx = ngx_http_get_module_ctx(r, ngx_http_embed_session_module);

    /*
     * a subrequest shares the pool, never the main request's context: a
     * subrequest's context, made after the main request's and so found
     * first, is not this request's
     */

    if (ctx == NULL && r == r->main && (r->internal || r->filter_finalize)) {

        for (cln = r->pool->cleanup; cln; cln = cln->next) {
            if (cln->handler != ngx_http_es_ctx_cleanup) {
                continue;
            }

            c = cln->data;

            if (c->request == r) {
                ctx = &c->ctx;
                break;
            }
        }

        if (ctx) {
            ngx_http_set_ctx(r, ctx, ngx_http_embed_session_module);
        }
    }

    if (ctx || !create) {
        return ctx;
    }

    cln = ngx_pool_cleanup_add(r->pool, sizeof(ngx_http_es_ctx_cln_t));
    if (cln == NULL) {
        return NULL;
    }

    c = cln->data;
    ngx_memzero(c, sizeof(ngx_http_es_ctx_cln_t));

    c->request = r;
    ctx = &c->ctx;

    cln->handler = ngx_http_es_ctx_cleanup;

    ngx_http_set_ctx(r, ctx, ngx_http_embed_session_module);

    return ctx;
}


/* a context made ready for another check: after an internal redirect */

void
ngx_http_es_ctx_clear(ngx_http_es_ctx_t *ctx)
{
    if (ctx->claims) {
        ngx_http_es_jws_claims_free(ctx->claims);
        ctx->claims = NULL;
    }

    ngx_str_null(&ctx->kid);
    ngx_str_null(&ctx->origin);
    ngx_str_null(&ctx->error);
    ngx_str_null(&ctx->exchange);
}


static void
ngx_http_es_ctx_cleanup(void *data)
{
    ngx_http_es_ctx_t *ctx = data;

    ngx_http_es_jws_claims_free(ctx->claims);
}


/*
 * A request refused, by whatever check: whatever claims an earlier check
 * gave the context go, and the code says why.  Claims in a context whose
 * code is not PASSED would reach variables, upstream headers and
 * frame-ancestors.
 */

void
ngx_http_es_ctx_refuse(ngx_http_es_ctx_t *ctx, ngx_http_es_code_t code)
{
    if (ctx->claims) {
        ngx_http_es_jws_claims_free(ctx->claims);
        ctx->claims = NULL;
    }

    ngx_str_null(&ctx->kid);
    ngx_str_null(&ctx->origin);

    ctx->code = code;
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


/* the status of an error answer a directive names: 400 to 599 */

ngx_int_t
ngx_http_es_conf_status(ngx_conf_t *cf, ngx_str_t *value)
{
    ngx_int_t  status;

    status = ngx_atoi(value->data, value->len);

    if (status < 400 || status > 599) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid status \"%V\": 400 to 599", value);
        return NGX_ERROR;
    }

    return status;
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


/*
 * n bytes from 2 * n lowercase hex digits, as the module writes them
 * (ids, key hashes); NGX_ERROR on anything else
 */

ngx_int_t
ngx_http_es_unhex(u_char *dst, u_char *src, size_t n)
{
    u_char      c, v;
    ngx_uint_t  i;

    for (i = 0; i < 2 * n; i++) {
        c = src[i];

        if (c >= '0' && c <= '9') {
            v = c - '0';

        } else if (c >= 'a' && c <= 'f') {
            v = c - 'a' + 10;

        } else {
            return NGX_ERROR;
        }

        if (i & 1) {
            dst[i / 2] |= v;

        } else {
            dst[i / 2] = (u_char) (v << 4);
        }
    }

    return NGX_OK;
}
