
/*
 * Copyright (C) The ngx_http_embed_session_module authors
 *
 * Tokens in URLs: arguments stripped, the request line masked
 * (url_token.c).
 */


#ifndef _NGX_HTTP_EMBED_SESSION_URL_TOKEN_H_INCLUDED_
#define _NGX_HTTP_EMBED_SESSION_URL_TOKEN_H_INCLUDED_


#include "ngx_http_embed_session_module.h"


ngx_int_t ngx_http_es_strip_args(ngx_http_request_t *r,
    ngx_array_t *token_args, ngx_str_t *args, ngx_str_t *out,
    ngx_uint_t redact);
ngx_int_t ngx_http_es_mask_request_line(ngx_http_request_t *r,
    ngx_array_t *token_args, ngx_str_t *line);


#endif /* _NGX_HTTP_EMBED_SESSION_URL_TOKEN_H_INCLUDED_ */
