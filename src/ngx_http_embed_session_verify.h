
/*
 * Copyright (C) The ngx_http_embed_session_module authors
 *
 * The access phase: the token found, verified and published (verify.c).
 */


#ifndef _NGX_HTTP_EMBED_SESSION_VERIFY_H_INCLUDED_
#define _NGX_HTTP_EMBED_SESSION_VERIFY_H_INCLUDED_


#include "ngx_http_embed_session_module.h"


ngx_int_t ngx_http_es_verify_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_es_token_source(ngx_http_request_t *r,
    ngx_http_es_loc_conf_t *elcf, ngx_str_t *data, ngx_uint_t *kind);
ngx_http_es_code_t ngx_http_es_verify_token(ngx_http_request_t *r,
    ngx_http_es_loc_conf_t *elcf, ngx_str_t *data, ngx_str_t *type,
    ngx_http_es_candidate_t *cand);
ngx_int_t ngx_http_es_publish(ngx_http_request_t *r, ngx_http_es_ctx_t *ctx,
    ngx_http_es_code_t code, ngx_http_es_candidate_t *cand);
ngx_int_t ngx_http_es_token_ids(ngx_http_es_jws_claims_t *claims,
    u_char *sid, u_char *jti);

/* the directives of a verifying location */
char *ngx_http_es_token(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_es_source_kind(ngx_conf_t *cf, ngx_array_t *kinds,
    ngx_str_t *value);
char *ngx_http_es_keys(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_es_type(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_es_cache_size(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_es_require(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_es_claim_path(ngx_conf_t *cf, void *post, void *data);


#endif /* _NGX_HTTP_EMBED_SESSION_VERIFY_H_INCLUDED_ */
