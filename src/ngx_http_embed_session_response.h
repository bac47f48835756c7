
/*
 * Copyright (C) The ngx_http_embed_session_module authors
 *
 * What the module answers: errors with their codes, JSON bodies, the
 * request body read (response.c).
 */


#ifndef _NGX_HTTP_EMBED_SESSION_RESPONSE_H_INCLUDED_
#define _NGX_HTTP_EMBED_SESSION_RESPONSE_H_INCLUDED_


#include "ngx_http_embed_session_module.h"


ngx_int_t ngx_http_es_error(ngx_http_request_t *r, ngx_http_es_code_t code);
ngx_int_t ngx_http_es_error_details(ngx_http_request_t *r,
    ngx_http_es_code_t code, ngx_array_t *details);
ngx_int_t ngx_http_es_error_denied(ngx_http_request_t *r,
    ngx_http_es_api_deny_t *deny);
ngx_int_t ngx_http_es_content_error(ngx_http_request_t *r,
    ngx_http_es_code_t code, ngx_http_es_api_deny_t *deny);
ngx_int_t ngx_http_es_send_json(ngx_http_request_t *r, ngx_uint_t status,
    u_char *body, size_t len);
ngx_int_t ngx_http_es_json_text(ngx_pool_t *pool, ngx_http_es_json_t *json,
    ngx_str_t *out);
ngx_int_t ngx_http_es_send_empty(ngx_http_request_t *r, ngx_uint_t status);
ngx_table_elt_t *ngx_http_es_header(ngx_http_request_t *r, char *name,
    char *value);
ngx_table_elt_t *ngx_http_es_header_str(ngx_http_request_t *r, char *name,
    ngx_str_t *value);
void ngx_http_es_finalize(ngx_http_request_t *r, ngx_int_t rc);
ngx_int_t ngx_http_es_read_body(ngx_http_request_t *r, size_t max,
    ngx_str_t *body);
ngx_str_t *ngx_http_es_code_name(ngx_http_es_code_t code);
ngx_str_t *ngx_http_es_log_text(ngx_pool_t *pool, ngx_str_t *s);
ngx_int_t ngx_http_es_code_by_name(ngx_str_t *name);

/* embed_session_error_code, embed_session_error_details */
char *ngx_http_es_error_code(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_es_error_details_name(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);


#endif /* _NGX_HTTP_EMBED_SESSION_RESPONSE_H_INCLUDED_ */
