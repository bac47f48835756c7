
/*
 * Copyright (C) The ngx_http_embed_session_module authors
 *
 * API keys, as the rest of the module sees them: the directives, the
 * sources of a credential, the authentication of a request, the access
 * phase guard, the key management handlers and the master's work on the
 * zones.  The family: apikey_conf.c (the directives of a location),
 * apikey_auth.c (requests), apikey_zone.c (the shared zone),
 * apikey_file.c and apikey_rewrite.c (the key file); what they share
 * among themselves only is apikey_int.h's.  The API key part of the
 * location configuration (ngx_http_es_api_conf_t), its deny rules and
 * the key a request authenticated with are in the module's header, as
 * the location configuration and the request's context hold them.
 */


#ifndef _NGX_HTTP_EMBED_SESSION_APIKEY_H_INCLUDED_
#define _NGX_HTTP_EMBED_SESSION_APIKEY_H_INCLUDED_


#include "ngx_http_embed_session_module.h"


#define NGX_HTTP_ES_API_KEY_RANDOM    40    /* [A-Za-z0-9] after the prefix */
#define NGX_HTTP_ES_API_KEY_LOOKUP    8     /* of them, in the lookup part */
#define NGX_HTTP_ES_API_KEY_MAX       256   /* longest credential accepted */
#define NGX_HTTP_ES_API_OWNER_MAX     128   /* "ID:SERIAL", at most 97 */


/* where a credential comes from */

typedef enum {
    NGX_HTTP_ES_API_SOURCE_BEARER = 0,
    NGX_HTTP_ES_API_SOURCE_HEADER,        /* the raw key */
    NGX_HTTP_ES_API_SOURCE_ID_HEADER      /* the key id credential */
} ngx_http_es_api_source_type_t;


typedef struct {
    ngx_http_es_api_source_type_t   type;
    ngx_str_t                       header;     /* lowercase */
    ngx_uint_t                      hash;
} ngx_http_es_api_source_t;


/* configuration */
char *ngx_http_es_api_keys_zone(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_es_api_key_zone(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_es_api_key_from(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_es_api_key_deny(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
void ngx_http_es_api_conf_init(ngx_http_es_api_conf_t *conf);
char *ngx_http_es_api_conf_merge(ngx_conf_t *cf, ngx_http_es_api_conf_t *prev,
    ngx_http_es_api_conf_t *conf);

/*
 * requests: authenticate() returns NGX_OK with *key set, a code of
 * ngx_http_es_code_t (API_KEY_*, BEARER_NOT_ALLOWED, RATE_LIMITED, or
 * DENIED with key->denied set; with these two *key is set too, for the
 * rate headers), or NGX_ERROR
 */
ngx_int_t ngx_http_es_api_authenticate(ngx_http_request_t *r,
    ngx_http_es_api_conf_t *conf, ngx_http_es_api_key_t **key);
ngx_int_t ngx_http_es_api_rate_headers(ngx_http_request_t *r,
    ngx_http_es_api_key_t *key, ngx_uint_t limited);

/*
 * the answer to authenticate()'s result: NGX_OK to go on, or what an
 * access handler returns (NGX_DONE once an error went out, or a status
 * that an error_page takes over); rate-limit headers either way
 */
ngx_int_t ngx_http_es_api_answer(ngx_http_request_t *r, ngx_int_t rc,
    ngx_http_es_api_key_t *key);

/* the access phase guard and the key management content handlers */
ngx_int_t ngx_http_es_api_access_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_es_api_content_auth(ngx_http_request_t *r,
    ngx_http_es_api_conf_t *conf);
ngx_int_t ngx_http_es_api_regenerate_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_es_api_revoke_handler(ngx_http_request_t *r);

/* the store's timer: the sessions of keys revoked in the file end */
void ngx_http_es_api_end_revoked(ngx_cycle_t *cycle);

/* the master, once a cycle is committed: zones a reload resized */
ngx_int_t ngx_http_es_api_init_module(ngx_cycle_t *cycle);

/* backend= of the zones, found by name once the http block is read; the
 * changes of other nodes followed by worker 0 */
char *ngx_http_es_api_backends(ngx_conf_t *cf);
ngx_int_t ngx_http_es_api_feed_init(ngx_cycle_t *cycle);


#endif /* _NGX_HTTP_EMBED_SESSION_APIKEY_H_INCLUDED_ */
