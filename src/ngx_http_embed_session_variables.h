
/*
 * Copyright (C) The ngx_http_embed_session_module authors
 *
 * The module's variables (variables.c).
 */


#ifndef _NGX_HTTP_EMBED_SESSION_VARIABLES_H_INCLUDED_
#define _NGX_HTTP_EMBED_SESSION_VARIABLES_H_INCLUDED_


#include "ngx_http_embed_session_module.h"


ngx_int_t ngx_http_es_add_variables(ngx_conf_t *cf);


#endif /* _NGX_HTTP_EMBED_SESSION_VARIABLES_H_INCLUDED_ */
