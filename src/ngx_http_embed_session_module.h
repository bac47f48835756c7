
/*
 * Copyright (C) The ngx_http_embed_session_module authors
 */


#ifndef _NGX_HTTP_EMBED_SESSION_MODULE_H_INCLUDED_
#define _NGX_HTTP_EMBED_SESSION_MODULE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_embed_session_jws.h"
#include "ngx_http_embed_session_json.h"
#include "ngx_http_embed_session_apikeys.h"


#define NGX_HTTP_ES_KEY_FILE_MAX      (1024 * 1024)
#define NGX_HTTP_ES_CACHE_TOKEN_MAX   2048

#define NGX_HTTP_ES_ORIGIN_ABSENT_DENY   0
#define NGX_HTTP_ES_ORIGIN_ABSENT_ALLOW  1

#define NGX_HTTP_ES_ERROR_FLAT        0
#define NGX_HTTP_ES_ERROR_NESTED      1


/* error codes: an index into ngx_http_es_errors[] */

typedef enum {
    NGX_HTTP_ES_PASSED = 0,
    NGX_HTTP_ES_SESSION_REQUIRED,
    NGX_HTTP_ES_SESSION_INVALID,
    NGX_HTTP_ES_SESSION_EXPIRED,
    NGX_HTTP_ES_ORIGIN_NOT_ALLOWED,
    NGX_HTTP_ES_SCOPE_NOT_GRANTED,
    NGX_HTTP_ES_API_KEY_REQUIRED,
    NGX_HTTP_ES_API_KEY_INVALID,
    NGX_HTTP_ES_API_KEY_REVOKED,
    NGX_HTTP_ES_API_KEY_EXPIRED,
    NGX_HTTP_ES_BEARER_NOT_ALLOWED,
    NGX_HTTP_ES_RATE_LIMITED,
    NGX_HTTP_ES_INVALID_JSON,
    NGX_HTTP_ES_VALIDATION_FAILED,
    NGX_HTTP_ES_BODY_TOO_LARGE,
    NGX_HTTP_ES_METHOD_NOT_ALLOWED,
    NGX_HTTP_ES_MINT_FAILED,
    NGX_HTTP_ES_KEY_STORE_FAILED,
    NGX_HTTP_ES_DENIED              /* by embed_session_api_key_deny */
} ngx_http_es_code_t;


/* one problem found in a request body: "allowedOrigins[2]", "not an origin" */

typedef struct {
    ngx_str_t                   path;
    ngx_str_t                   message;
} ngx_http_es_detail_t;


typedef struct {
    ngx_array_t                 keys;       /* ngx_http_es_jws_key_t * */
} ngx_http_es_keyset_t;


typedef struct {
    ngx_str_t                   claim;
    ngx_http_complex_value_t    value;
} ngx_http_es_require_t;


/* embed_session_error_code CODE STATUS NEWCODE ["message"] */

typedef struct {
    ngx_http_es_code_t          code;
    ngx_uint_t                  status;
    ngx_str_t                   name;
    ngx_str_t                   message;
} ngx_http_es_error_code_t;


typedef struct ngx_http_es_mint_conf_s  ngx_http_es_mint_conf_t;


typedef struct {
    ngx_array_t                *default_sources;
    ngx_flag_t                  verify;     /* some location verifies */
    ngx_uint_t                  cache;      /* entries, 0: off */
    ngx_flag_t                  api;        /* some API key zone exists */
} ngx_http_es_main_conf_t;


/* a token whose signature verified, and what the later checks need */

typedef struct {
    ngx_http_es_jws_claims_t   *claims;
    ngx_http_es_jws_times_t     times;
    size_t                      kid_len;
    size_t                      typ_len;
    unsigned                    has_typ:1;
    u_char                      kid[NGX_HTTP_ES_JWS_MAX_KID];
    u_char                      typ[NGX_HTTP_ES_JWS_MAX_TYP];
} ngx_http_es_token_t;


typedef struct {
    ngx_flag_t                  verify;

    ngx_array_t                *sources;    /* ngx_http_complex_value_t */
    ngx_array_t                *token_args; /* ngx_str_t, from $arg_NAME */
    ngx_http_es_keyset_t       *keyset;

    time_t                      leeway;
    time_t                      max_lifetime;

    ngx_str_t                   issuer;
    ngx_str_t                   audience;
    ngx_str_t                   type;       /* empty: "off" */

    ngx_flag_t                  origin;
    ngx_flag_t                  origin_referer;
    ngx_uint_t                  origin_absent;
    ngx_str_t                   origin_claim;

    ngx_array_t                *requires;   /* ngx_http_es_require_t */

    ngx_uint_t                  error_format;
    ngx_array_t                *error_codes;    /* ngx_http_es_error_code_t */
    ngx_str_t                   error_details;  /* empty: "off" */

    ngx_http_es_api_conf_t      api;
    ngx_http_es_mint_conf_t    *mint;       /* NULL: not a mint location */
} ngx_http_es_loc_conf_t;


/* per request; kept across internal redirects through a pool cleanup */

typedef struct {
    ngx_http_es_jws_claims_t   *claims;     /* set once all checks passed */
    ngx_str_t                   kid;
    ngx_str_t                   origin;
    ngx_http_es_code_t          code;
    const char                 *reason;
    ngx_str_t                   error;      /* the code answered with */

    ngx_http_es_api_key_t      *api_key;    /* authenticated API key */
    ngx_str_t                   minted;     /* the token a mint returned */
    ngx_str_t                   minted_jti;
    time_t                      minted_exp;
} ngx_http_es_ctx_t;


/* configuration */
void *ngx_http_es_conf_push(ngx_conf_t *cf, ngx_array_t **a, size_t size);

/* keys */
char *ngx_http_es_keys_load(ngx_conf_t *cf, ngx_http_es_keyset_t *set,
    ngx_str_t *file, ngx_http_es_jws_alg_t alg, ngx_str_t *kid);
ngx_http_es_jws_key_t *ngx_http_es_keys_find(ngx_http_es_keyset_t *set,
    u_char *kid, size_t len);

/* verified-token cache, per worker */
ngx_int_t ngx_http_es_cache_init(ngx_cycle_t *cycle, ngx_uint_t size);
void ngx_http_es_cache_done(void);
ngx_int_t ngx_http_es_cache_get(ngx_http_es_keyset_t *keyset,
    ngx_str_t *data, ngx_http_es_token_t *token);
void ngx_http_es_cache_put(ngx_http_es_keyset_t *keyset, ngx_str_t *data,
    ngx_http_es_token_t *token, ngx_log_t *log);

/* origin */
ngx_int_t ngx_http_es_origin_normalize(u_char *dst, size_t *dst_len,
    u_char *src, size_t len, ngx_uint_t referer);
ngx_int_t ngx_http_es_origin_get(ngx_http_request_t *r, ngx_flag_t referer,
    ngx_str_t *origin);

/* access phase */
ngx_int_t ngx_http_es_verify_handler(ngx_http_request_t *r);
ngx_http_es_ctx_t *ngx_http_es_get_ctx(ngx_http_request_t *r,
    ngx_uint_t create);

/* responses */
ngx_int_t ngx_http_es_error(ngx_http_request_t *r, ngx_http_es_code_t code);
ngx_int_t ngx_http_es_error_details(ngx_http_request_t *r,
    ngx_http_es_code_t code, ngx_array_t *details);
ngx_int_t ngx_http_es_error_denied(ngx_http_request_t *r,
    ngx_http_es_api_deny_t *deny);
ngx_int_t ngx_http_es_content_error(ngx_http_request_t *r,
    ngx_http_es_code_t code, ngx_http_es_api_deny_t *deny);
ngx_int_t ngx_http_es_send_json(ngx_http_request_t *r, ngx_uint_t status,
    u_char *body, size_t len);
ngx_table_elt_t *ngx_http_es_header(ngx_http_request_t *r, char *name,
    char *value);
void ngx_http_es_finalize(ngx_http_request_t *r, ngx_int_t rc);
ngx_int_t ngx_http_es_read_body(ngx_http_request_t *r, size_t max,
    ngx_str_t *body);
ngx_str_t *ngx_http_es_code_name(ngx_http_es_code_t code);
ngx_int_t ngx_http_es_code_by_name(ngx_str_t *name);

/* minting */
ngx_int_t ngx_http_es_mint_handler(ngx_http_request_t *r);
char *ngx_http_es_mint(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
char *ngx_http_es_mint_option(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_es_mint_field_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_es_mint_ttl(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
char *ngx_http_es_mint_ttl_if(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_es_mint_claim(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
char *ngx_http_es_mint_output(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_es_mint_merge(ngx_conf_t *cf, ngx_http_es_loc_conf_t *elcf);

/* variables */
ngx_int_t ngx_http_es_add_variables(ngx_conf_t *cf);


extern ngx_module_t  ngx_http_embed_session_module;


#endif /* _NGX_HTTP_EMBED_SESSION_MODULE_H_INCLUDED_ */
