
/*
 * Copyright (C) The ngx_http_embed_session_module authors
 *
 * What goes upstream: the URL-token exchange, claim headers, the token
 * stripped (upstream.c).
 */


#ifndef _NGX_HTTP_EMBED_SESSION_UPSTREAM_H_INCLUDED_
#define _NGX_HTTP_EMBED_SESSION_UPSTREAM_H_INCLUDED_


#include "ngx_http_embed_session_module.h"


char *ngx_http_es_cookie(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
char *ngx_http_es_claim_header(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_es_upstream_merge(ngx_conf_t *cf,
    ngx_http_es_loc_conf_t *prev, ngx_http_es_loc_conf_t *conf);
ngx_int_t ngx_http_es_upstream_headers(ngx_http_request_t *r,
    ngx_http_es_loc_conf_t *elcf, ngx_http_es_ctx_t *ctx, ngx_str_t *token);
ngx_int_t ngx_http_es_exchange_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_es_request_line_handler(ngx_http_request_t *r);


#endif /* _NGX_HTTP_EMBED_SESSION_UPSTREAM_H_INCLUDED_ */
