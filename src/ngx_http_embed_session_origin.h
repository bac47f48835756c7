
/*
 * Copyright (C) The ngx_http_embed_session_module authors
 *
 * Origins: normalized from Origin or Referer, and a request header by
 * name (origin.c).
 */


#ifndef _NGX_HTTP_EMBED_SESSION_ORIGIN_H_INCLUDED_
#define _NGX_HTTP_EMBED_SESSION_ORIGIN_H_INCLUDED_


#include "ngx_http_embed_session_module.h"


ngx_int_t ngx_http_es_origin_normalize(u_char *dst, size_t *dst_len,
    u_char *src, size_t len, ngx_uint_t referer);
ngx_int_t ngx_http_es_origin_get(ngx_http_request_t *r, ngx_flag_t referer,
    ngx_str_t *origin);
ngx_int_t ngx_http_es_header_in(ngx_http_request_t *r, ngx_str_t *name,
    ngx_str_t *value);


#endif /* _NGX_HTTP_EMBED_SESSION_ORIGIN_H_INCLUDED_ */
