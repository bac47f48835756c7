
/*
 * Copyright (C) The ngx_http_embed_session_module authors
 *
 * The status page and the counters behind it (status.c).
 */


#ifndef _NGX_HTTP_EMBED_SESSION_STATUS_H_INCLUDED_
#define _NGX_HTTP_EMBED_SESSION_STATUS_H_INCLUDED_


#include "ngx_http_embed_session_module.h"


ngx_int_t ngx_http_es_status_handler(ngx_http_request_t *r);
char *ngx_http_es_status(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);


#endif /* _NGX_HTTP_EMBED_SESSION_STATUS_H_INCLUDED_ */
