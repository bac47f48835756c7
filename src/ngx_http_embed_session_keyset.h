
/*
 * Copyright (C) The ngx_http_embed_session_module authors
 *
 * Key sets (keyset.c): the signing and verification keys of a
 * configuration level, read from key files, looked up by kid.
 */


#ifndef _NGX_HTTP_EMBED_SESSION_KEYSET_H_INCLUDED_
#define _NGX_HTTP_EMBED_SESSION_KEYSET_H_INCLUDED_


#include "ngx_http_embed_session_module.h"


char *ngx_http_es_keys_load(ngx_conf_t *cf, ngx_http_es_keyset_t *set,
    ngx_str_t *file, ngx_http_es_jws_alg_t alg, ngx_str_t *kid);
ngx_http_es_jws_key_t *ngx_http_es_keys_find(ngx_http_es_keyset_t *set,
    u_char *kid, size_t len);


#endif /* _NGX_HTTP_EMBED_SESSION_KEYSET_H_INCLUDED_ */
