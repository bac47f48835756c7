
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


#endif /* _NGX_HTTP_EMBED_SESSION_VERIFY_H_INCLUDED_ */
