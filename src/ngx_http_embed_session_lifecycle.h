
/*
 * Copyright (C) The ngx_http_embed_session_module authors
 *
 * The lifecycle endpoints: refresh, revoke, exchange, and the store a
 * location uses (lifecycle.c).
 */


#ifndef _NGX_HTTP_EMBED_SESSION_LIFECYCLE_H_INCLUDED_
#define _NGX_HTTP_EMBED_SESSION_LIFECYCLE_H_INCLUDED_


#include "ngx_http_embed_session_module.h"


char *ngx_http_es_life_refresh(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_es_life_revoke(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_es_life_exchange(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_es_life_merge(ngx_conf_t *cf, ngx_http_es_loc_conf_t *elcf);
char *ngx_http_es_store(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
ngx_int_t ngx_http_es_life_handler(ngx_http_request_t *r);


#endif /* _NGX_HTTP_EMBED_SESSION_LIFECYCLE_H_INCLUDED_ */
