
/*
 * Copyright (C) The ngx_http_embed_session_module authors
 *
 * Error responses: a status, a stable code, a JSON body in the envelope the
 * operator chose, and WWW-Authenticate as RFC 6750 asks.
 */


#include "ngx_http_embed_session_module.h"


typedef struct {
    ngx_str_t     code;
    ngx_str_t     message;
    ngx_uint_t    status;
    ngx_str_t     authenticate;
} ngx_http_es_error_t;


static ngx_http_es_error_t  ngx_http_es_errors[] = {

    { ngx_null_string, ngx_null_string, 0, ngx_null_string },

    { ngx_string("SESSION_REQUIRED"),
      ngx_string("Session token required"),
      NGX_HTTP_UNAUTHORIZED,
      ngx_string("Bearer") },

    { ngx_string("SESSION_INVALID"),
      ngx_string("Session token invalid"),
      NGX_HTTP_UNAUTHORIZED,
      ngx_string("Bearer error=\"invalid_token\"") },

    { ngx_string("SESSION_EXPIRED"),
      ngx_string("Session token expired"),
      NGX_HTTP_UNAUTHORIZED,
      ngx_string("Bearer error=\"invalid_token\"") },

    { ngx_string("ORIGIN_NOT_ALLOWED"),
      ngx_string("Origin not allowed"),
      NGX_HTTP_FORBIDDEN,
      ngx_null_string },

    { ngx_string("SCOPE_NOT_GRANTED"),
      ngx_string("Scope not granted"),
      NGX_HTTP_FORBIDDEN,
      ngx_string("Bearer error=\"insufficient_scope\"") }
};


static ngx_str_t  ngx_http_es_json_type = ngx_string("application/json");


ngx_str_t *
ngx_http_es_code_name(ngx_http_es_code_t code)
{
    return &ngx_http_es_errors[code].code;
}


static ngx_uint_t
ngx_http_es_has_error_page(ngx_http_request_t *r, ngx_uint_t status)
{
    ngx_uint_t                 i;
    ngx_http_err_page_t       *err_page;
    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    if (r->error_page || clcf->error_pages == NULL || r->uri_changes == 0) {
        return 0;
    }

    err_page = clcf->error_pages->elts;

    for (i = 0; i < clcf->error_pages->nelts; i++) {
        if ((ngx_uint_t) err_page[i].status == status) {
            return 1;
        }
    }

    return 0;
}


ngx_int_t
ngx_http_es_error(ngx_http_request_t *r, ngx_http_es_code_t code)
{
    u_char                    *p;
    size_t                     len;
    ngx_int_t                  rc;
    ngx_buf_t                 *b;
    ngx_chain_t                out;
    ngx_table_elt_t           *h;
    ngx_http_es_error_t       *err;
    ngx_http_es_loc_conf_t    *elcf;
    ngx_http_core_loc_conf_t  *clcf;

    err = &ngx_http_es_errors[code];

    if (err->authenticate.len) {
        h = ngx_list_push(&r->headers_out.headers);
        if (h == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        h->hash = 1;
#if (nginx_version >= 1023000)
        h->next = NULL;
#endif
        ngx_str_set(&h->key, "WWW-Authenticate");
        h->value = err->authenticate;

        r->headers_out.www_authenticate = h;
    }

    /*
     * with "satisfy any" another access module may still allow the
     * request, and an error_page for the status takes over the body: in
     * both cases nginx finalizes with the status alone
     */

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    if (clcf->satisfy == NGX_HTTP_SATISFY_ANY
        || ngx_http_es_has_error_page(r, err->status))
    {
        return err->status;
    }

    elcf = ngx_http_get_module_loc_conf(r, ngx_http_embed_session_module);

    if (elcf->error_format == NGX_HTTP_ES_ERROR_NESTED) {
        len = sizeof("{\"error\":{\"code\":\"\",\"message\":\"\"}}") - 1;

    } else {
        len = sizeof("{\"error\":\"\",\"code\":\"\"}") - 1;
    }

    len += err->code.len + err->message.len;

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->pos = p;

    if (elcf->error_format == NGX_HTTP_ES_ERROR_NESTED) {
        p = ngx_sprintf(p, "{\"error\":{\"code\":\"%V\",\"message\":\"%V\"}}",
                        &err->code, &err->message);

    } else {
        p = ngx_sprintf(p, "{\"error\":\"%V\",\"code\":\"%V\"}",
                        &err->message, &err->code);
    }

    b->last = p;
    b->memory = 1;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    r->headers_out.status = err->status;
    r->headers_out.content_type = ngx_http_es_json_type;
    r->headers_out.content_type_len = ngx_http_es_json_type.len;
    r->headers_out.content_type_lowcase = NULL;
    r->headers_out.content_length_n = len;

    rc = ngx_http_send_header(r);

    if (rc != NGX_ERROR && rc <= NGX_OK && !r->header_only) {
        rc = ngx_http_output_filter(r, &out);
    }

    /*
     * the response is on its way: finalize here and tell the access phase
     * that the request is taken care of
     */

    ngx_http_finalize_request(r, rc);

    return NGX_DONE;
}
