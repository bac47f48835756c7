
/*
 * Copyright (C) The ngx_http_embed_session_module authors
 *
 * Browsers: framing, fetch metadata, CORS, the browser channel
 * (browser.c).
 */


#ifndef _NGX_HTTP_EMBED_SESSION_BROWSER_H_INCLUDED_
#define _NGX_HTTP_EMBED_SESSION_BROWSER_H_INCLUDED_


#include "ngx_http_embed_session_module.h"


char *ngx_http_es_list(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
char *ngx_http_es_browser_merge(ngx_conf_t *cf, ngx_http_es_loc_conf_t *prev,
    ngx_http_es_loc_conf_t *conf);
ngx_int_t ngx_http_es_browser_init(ngx_conf_t *cf);
ngx_int_t ngx_http_es_from_browser(ngx_http_request_t *r);


#endif /* _NGX_HTTP_EMBED_SESSION_BROWSER_H_INCLUDED_ */
