
/*
 * Copyright (C) The ngx_http_embed_session_module authors
 *
 * The verified-token cache: per worker, keyed by the token's bytes
 * (cache.c).
 */


#ifndef _NGX_HTTP_EMBED_SESSION_CACHE_H_INCLUDED_
#define _NGX_HTTP_EMBED_SESSION_CACHE_H_INCLUDED_


#include "ngx_http_embed_session_module.h"


ngx_int_t ngx_http_es_cache_init(ngx_cycle_t *cycle, ngx_uint_t size);
void ngx_http_es_cache_done(void);
ngx_int_t ngx_http_es_cache_get(ngx_http_es_keyset_t *keyset,
    ngx_str_t *data, ngx_http_es_token_t *token);
void ngx_http_es_cache_put(ngx_http_es_keyset_t *keyset, ngx_str_t *data,
    ngx_http_es_token_t *token, ngx_log_t *log);


#endif /* _NGX_HTTP_EMBED_SESSION_CACHE_H_INCLUDED_ */
