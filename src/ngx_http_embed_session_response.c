
/*
 * Copyright (C) The ngx_http_embed_session_module authors
 *
 * Error responses: a status, a stable code, a JSON body in the envelope the
 * operator chose, and WWW-Authenticate as RFC 6750 asks; and what the error
 * log may show of what a client sent.
 */


#include "ngx_http_embed_session_module.h"
#include "ngx_http_embed_session_json.h"
#include "ngx_http_embed_session_response.h"


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
      ngx_string("Bearer error=\"insufficient_scope\"") },

    { ngx_string("API_KEY_REQUIRED"),
      ngx_string("API key required"),
      NGX_HTTP_UNAUTHORIZED,
      ngx_null_string },

    { ngx_string("API_KEY_INVALID"),
      ngx_string("API key invalid"),
      NGX_HTTP_UNAUTHORIZED,
      ngx_null_string },

    { ngx_string("API_KEY_REVOKED"),
      ngx_string("API key revoked"),
      NGX_HTTP_UNAUTHORIZED,
      ngx_null_string },

    { ngx_string("API_KEY_EXPIRED"),
      ngx_string("API key expired"),
      NGX_HTTP_UNAUTHORIZED,
      ngx_null_string },

    { ngx_string("BEARER_NOT_ALLOWED"),
      ngx_string("Authorization: Bearer is not accepted"),
      NGX_HTTP_UNAUTHORIZED,
      ngx_null_string },

    { ngx_string("RATE_LIMITED"),
      ngx_string("Too many requests"),
      NGX_HTTP_TOO_MANY_REQUESTS,
      ngx_null_string },

    { ngx_string("INVALID_JSON"),
      ngx_string("Request body is not valid JSON"),
      NGX_HTTP_BAD_REQUEST,
      ngx_null_string },

    { ngx_string("VALIDATION_FAILED"),
      ngx_string("Validation error"),
      NGX_HTTP_BAD_REQUEST,
      ngx_null_string },

    { ngx_string("BODY_TOO_LARGE"),
      ngx_string("Request body too large"),
      NGX_HTTP_REQUEST_ENTITY_TOO_LARGE,
      ngx_null_string },

    { ngx_string("METHOD_NOT_ALLOWED"),
      ngx_string("Method not allowed"),
      NGX_HTTP_NOT_ALLOWED,
      ngx_null_string },

    { ngx_string("MINT_FAILED"),
      ngx_string("Could not mint a session"),
      NGX_HTTP_INTERNAL_SERVER_ERROR,
      ngx_null_string },

    { ngx_string("KEY_STORE_FAILED"),
      ngx_string("Could not store the key change"),
      NGX_HTTP_INTERNAL_SERVER_ERROR,
      ngx_null_string },

    { ngx_string("SESSION_REVOKED"),
      ngx_string("The session has been revoked"),
      NGX_HTTP_UNAUTHORIZED,
      ngx_string("Bearer error=\"invalid_token\"") },

    { ngx_string("SESSION_NOT_FOUND"),
      ngx_string("No such session"),
      NGX_HTTP_NOT_FOUND,
      ngx_null_string },

    { ngx_string("RENEW_TOKEN_REUSED"),
      ngx_string("The renew token was already used; the session has been "
                 "revoked"),
      NGX_HTTP_UNAUTHORIZED,
      ngx_string("Bearer error=\"invalid_token\"") },

    { ngx_string("EXCHANGE_NOT_FOUND"),
      ngx_string("No such embed session"),
      NGX_HTTP_NOT_FOUND,
      ngx_null_string },

    { ngx_string("EXCHANGE_USED"),
      ngx_string("The embed session has already been exchanged"),
      NGX_HTTP_CONFLICT,
      ngx_null_string },

    { ngx_string("EXCHANGE_EXPIRED"),
      ngx_string("The embed session has expired"),
      410,
      ngx_null_string },

    { ngx_string("STORE_FULL"),
      ngx_string("Session storage is full, retry later"),
      NGX_HTTP_SERVICE_UNAVAILABLE,
      ngx_null_string },

    { ngx_string("SESSION_QUOTA_EXCEEDED"),
      ngx_string("Too many live sessions for this API key"),
      NGX_HTTP_TOO_MANY_REQUESTS,
      ngx_null_string },

    { ngx_string("FETCH_NOT_ALLOWED"),
      ngx_string("Request not allowed for this destination"),
      NGX_HTTP_FORBIDDEN,
      ngx_null_string },

    { ngx_string("PREFLIGHT_REFUSED"),
      ngx_string("Method or header not allowed"),
      NGX_HTTP_FORBIDDEN,
      ngx_null_string },

    { ngx_string("DENIED"),
      ngx_string("Denied"),
      NGX_HTTP_FORBIDDEN,
      ngx_null_string },

    { ngx_string("STORE_UNAVAILABLE"),
      ngx_string("Session storage cannot be reached, retry later"),
      NGX_HTTP_SERVICE_UNAVAILABLE,
      ngx_null_string }
};


static ngx_str_t  ngx_http_es_content_type = ngx_string("application/json");


static ngx_int_t ngx_http_es_answer(ngx_http_request_t *r,
    ngx_http_es_code_t code, ngx_http_es_error_t *err, ngx_array_t *details);
static ngx_int_t ngx_http_es_envelope(ngx_pool_t *pool,
    ngx_http_es_error_t *err, ngx_uint_t nested, ngx_str_t *name,
    ngx_array_t *details, ngx_str_t *body);
static ngx_int_t ngx_http_es_send(ngx_http_request_t *r, ngx_uint_t status,
    u_char *body, size_t len);


ngx_str_t *
ngx_http_es_code_name(ngx_http_es_code_t code)
{
    return &ngx_http_es_errors[code].code;
}


ngx_int_t
ngx_http_es_code_by_name(ngx_str_t *name)
{
    ngx_uint_t  i;

    for (i = 1; i < sizeof(ngx_http_es_errors) / sizeof(ngx_http_es_error_t);
         i++)
    {
        if (name->len == ngx_http_es_errors[i].code.len
            && ngx_strncmp(name->data, ngx_http_es_errors[i].code.data,
                           name->len) == 0)
        {
            return i;
        }
    }

    return NGX_ERROR;
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
    return ngx_http_es_error_details(r, code, NULL);
}


ngx_int_t
ngx_http_es_error_details(ngx_http_request_t *r, ngx_http_es_code_t code,
    ngx_array_t *details)
{
    ngx_uint_t                 i;
    ngx_http_es_error_t        err;
    ngx_http_es_loc_conf_t    *elcf;
    ngx_http_es_error_code_t  *ec;

    err = ngx_http_es_errors[code];

    elcf = ngx_http_get_module_loc_conf(r, ngx_http_embed_session_module);

    if (elcf->error_codes) {
        ec = elcf->error_codes->elts;

        for (i = 0; i < elcf->error_codes->nelts; i++) {
            if (ec[i].code == code) {
                err.status = ec[i].status;
                err.code = ec[i].name;

                if (ec[i].message.len) {
                    err.message = ec[i].message;
                }

                break;
            }
        }
    }

    ngx_http_es_count(rejections[code]);

    if (code == NGX_HTTP_ES_METHOD_NOT_ALLOWED
        && ngx_http_es_header(r, "Allow", elcf->allow ? elcf->allow : "POST")
           == NULL)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if ((code == NGX_HTTP_ES_STORE_FULL
         || code == NGX_HTTP_ES_STORE_UNAVAILABLE)
        && ngx_http_es_header(r, "Retry-After", "1") == NULL)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_es_answer(r, code, &err, details);
}


/*
 * An error answered by a content handler itself, not from a request body
 * handler: the answer finalizes the request, and the content phase
 * finalizes it again with what the handler returns, hence the reference.
 */

ngx_int_t
ngx_http_es_content_error(ngx_http_request_t *r, ngx_http_es_code_t code,
    ngx_http_es_api_deny_t *deny)
{
    ngx_int_t  rc;

    r->main->count++;

    rc = (code == NGX_HTTP_ES_DENIED) ? ngx_http_es_error_denied(r, deny)
                                      : ngx_http_es_error(r, code);

    if (rc != NGX_DONE) {
        r->main->count--;
    }

    return rc;
}


ngx_int_t
ngx_http_es_error_denied(ngx_http_request_t *r, ngx_http_es_api_deny_t *deny)
{
    ngx_http_es_error_t  err;

    err.code = deny->code;
    err.message = deny->message.len ? deny->message : deny->code;
    err.status = deny->status;
    ngx_str_null(&err.authenticate);

    return ngx_http_es_answer(r, NGX_HTTP_ES_DENIED, &err, NULL);
}


/*
 * Every string a client sent goes to the error log through this, and only
 * through this: printable ASCII as it is, any other byte, '"' and '\\' as
 * "\xNN" (no CR or LF can start a line of its own, no quote can end a
 * quoted value early), cut at NGX_HTTP_ES_LOG_TEXT_MAX bytes.  Never NULL,
 * so that a log call can use it in place of the string.
 */

ngx_str_t *
ngx_http_es_log_text(ngx_pool_t *pool, ngx_str_t *s)
{
    size_t      size;
    ngx_str_t  *text;

    static ngx_str_t  nomem = ngx_string("[no memory]");

    size = (s->len > NGX_HTTP_ES_LOG_TEXT_MAX / 4)
           ? NGX_HTTP_ES_LOG_TEXT_MAX : s->len * 4;

    text = ngx_palloc(pool, sizeof(ngx_str_t) + size + 1);
    if (text == NULL) {
        return &nomem;
    }

    text->data = (u_char *) (text + 1);
    text->len = ngx_http_es_json_printable(text->data, size + 1, s->data,
                                           s->len);

    return text;
}


/* name and value are NUL-terminated and live as long as the request */

ngx_table_elt_t *
ngx_http_es_header(ngx_http_request_t *r, char *name, char *value)
{
    ngx_str_t  v;

    v.data = (u_char *) value;
    v.len = ngx_strlen(value);

    return ngx_http_es_header_str(r, name, &v);
}


ngx_table_elt_t *
ngx_http_es_header_str(ngx_http_request_t *r, char *name, ngx_str_t *value)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NULL;
    }

    h->hash = 1;
#if (nginx_version >= 1023000)
    h->next = NULL;
#endif
    h->key.data = (u_char *) name;
    h->key.len = ngx_strlen(name);
    h->value = *value;

    return h;
}


static ngx_int_t
ngx_http_es_answer(ngx_http_request_t *r, ngx_http_es_code_t code,
    ngx_http_es_error_t *err, ngx_array_t *details)
{
    ngx_str_t                   body;
    ngx_uint_t                  nested;
    ngx_table_elt_t            *h;
    ngx_http_es_ctx_t          *ctx;
    ngx_http_es_loc_conf_t     *elcf;
    ngx_http_core_loc_conf_t   *clcf;
    ngx_http_core_main_conf_t  *cmcf;

    /* for $embed_session_error, as the client sees it */

    ctx = ngx_http_es_get_ctx(r, 1);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->error = err->code;

    /*
     * a refused request carries no claims, whichever check refused it:
     * not to an error_page's upstream, nor to the answer's headers
     */

    ngx_http_es_ctx_refuse(ctx, code);

    if (err->authenticate.len) {
        h = ngx_http_es_header(r, "WWW-Authenticate",
                               (char *) err->authenticate.data);
        if (h == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        r->headers_out.www_authenticate = h;
    }

    /*
     * with "satisfy any" another access module may still allow the
     * request, and an error_page for the status takes over the body: in
     * both cases nginx finalizes with the status alone
     */

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    cmcf = ngx_http_get_module_main_conf(r, ngx_http_core_module);

    if ((clcf->satisfy == NGX_HTTP_SATISFY_ANY
         && cmcf->phase_engine.handlers[r->phase_handler].checker
            == ngx_http_core_access_phase)
        || ngx_http_es_has_error_page(r, err->status))
    {
        return err->status;
    }

    elcf = ngx_http_get_module_loc_conf(r, ngx_http_embed_session_module);

    nested = (elcf->error_format == NGX_HTTP_ES_ERROR_NESTED);

    if (details == NULL || details->nelts == 0
        || elcf->error_details.len == 0)
    {
        details = NULL;
    }

    if (ngx_http_es_envelope(r->pool, err, nested, &elcf->error_details,
                             details, &body)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* this very response is the module's: CORS may let the page read it */

    ctx->answered = 1;

    return ngx_http_es_send(r, err->status, body.data, body.len);
}


/*
 * {"error":{"code":C,"message":M,"details":[...]}} nested, or
 * {"error":M,"code":C,"details":[...]} flat.  Codes and messages are the
 * module's or the configuration's, paths and messages of details the
 * module's or those of a body that parsed as JSON: written as they are.
 */

static ngx_int_t
ngx_http_es_envelope(ngx_pool_t *pool, ngx_http_es_error_t *err,
    ngx_uint_t nested, ngx_str_t *name, ngx_array_t *details,
    ngx_str_t *body)
{
    u_char                *path;
    ngx_int_t              rc;
    ngx_uint_t             i;
    ngx_http_es_json_t    *json, *list, *item;
    ngx_http_es_detail_t  *d;

    json = ngx_http_es_json_object();
    if (json == NULL) {
        return NGX_ERROR;
    }

    rc = NGX_ERROR;

    if (nested) {
        if (ngx_http_es_json_set(json, (u_char *) "error.code", 10,
                                 ngx_http_es_json_new_ascii(err->code.data,
                                                            err->code.len))
            != 0
            || ngx_http_es_json_set(json, (u_char *) "error.message", 13,
                                    ngx_http_es_json_new_ascii(
                                        err->message.data, err->message.len))
               != 0)
        {
            goto done;
        }

    } else {
        if (ngx_http_es_json_set(json, (u_char *) "error", 5,
                                 ngx_http_es_json_new_ascii(
                                     err->message.data, err->message.len))
            != 0
            || ngx_http_es_json_set(json, (u_char *) "code", 4,
                                    ngx_http_es_json_new_ascii(
                                        err->code.data, err->code.len))
               != 0)
        {
            goto done;
        }
    }

    if (details) {
        list = ngx_http_es_json_array();

        /* "error.details" or "details" */

        path = ngx_pnalloc(pool, sizeof("error.") - 1 + name->len);
        if (path == NULL) {
            ngx_http_es_json_free(list);
            goto done;
        }

        ngx_memcpy(ngx_cpymem(path, "error.", 6), name->data, name->len);

        if (ngx_http_es_json_set(json, nested ? path : path + 6,
                                 name->len + (nested ? 6 : 0), list)
            != 0)
        {
            goto done;
        }

        d = details->elts;

        for (i = 0; i < details->nelts; i++) {
            item = ngx_http_es_json_object();

            if (ngx_http_es_json_append(list, item) != 0
                || ngx_http_es_json_set(item, (u_char *) "path", 4,
                                        ngx_http_es_json_new_ascii(
                                            d[i].path.data, d[i].path.len))
                   != 0
                || ngx_http_es_json_set(item, (u_char *) "message", 7,
                                        ngx_http_es_json_new_ascii(
                                            d[i].message.data,
                                            d[i].message.len))
                   != 0)
            {
                goto done;
            }
        }
    }

    rc = ngx_http_es_json_text(pool, json, body);

done:

    ngx_http_es_json_free(json);

    return rc;
}


/*
 * The text of a JSON document the module built, in the pool: one pass into
 * a buffer that is usually large enough, two otherwise.  Every JSON body
 * and claims set the module writes goes through here.
 */

ngx_int_t
ngx_http_es_json_text(ngx_pool_t *pool, ngx_http_es_json_t *json,
    ngx_str_t *out)
{
    size_t   size;
    u_char  *p;

    size = 1024;

    for ( ;; ) {
        p = ngx_pnalloc(pool, size);
        if (p == NULL) {
            return NGX_ERROR;
        }

        out->len = ngx_http_es_json_dump(json, p, size);
        out->data = p;

        if (out->len == 0) {
            return NGX_ERROR;
        }

        if (out->len <= size) {
            return NGX_OK;
        }

        size = out->len;
    }
}


ngx_int_t
ngx_http_es_send_json(ngx_http_request_t *r, ngx_uint_t status, u_char *body,
    size_t len)
{
    if (ngx_http_es_header(r, "Cache-Control", "no-store") == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_es_send(r, status, body, len);
}


static ngx_int_t
ngx_http_es_send(ngx_http_request_t *r, ngx_uint_t status, u_char *body,
    size_t len)
{
    ngx_int_t     rc;
    ngx_buf_t    *b;
    ngx_chain_t   out;

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->pos = body;
    b->last = body + len;
    b->memory = 1;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    r->headers_out.status = status;
    r->headers_out.content_type = ngx_http_es_content_type;
    r->headers_out.content_type_len = ngx_http_es_content_type.len;
    r->headers_out.content_type_lowcase = NULL;
    r->headers_out.content_length_n = len;

    rc = ngx_http_send_header(r);

    if (rc != NGX_ERROR && rc <= NGX_OK && !r->header_only) {
        rc = ngx_http_output_filter(r, &out);
    }

    /*
     * the response is on its way: finalize here and tell the caller (the
     * access phase, or a content handler) that the request is taken care of
     */

    ngx_http_finalize_request(r, rc);

    return NGX_DONE;
}


/*
 * a status and the headers set before, no body: 204, 302; the caller has
 * discarded the request body before it set the first header
 */

ngx_int_t
ngx_http_es_send_empty(ngx_http_request_t *r, ngx_uint_t status)
{
    ngx_int_t  rc;

    r->headers_out.status = status;
    r->headers_out.content_length_n = 0;
    r->header_only = 1;

    rc = ngx_http_send_header(r);

    ngx_http_finalize_request(r, rc);

    return NGX_DONE;
}


/* at the end of a request body handler */

void
ngx_http_es_finalize(ngx_http_request_t *r, ngx_int_t rc)
{
    if (rc != NGX_DONE) {
        ngx_http_finalize_request(r, rc);
    }
}


/*
 * the request body, read before, in one piece: in memory, or read from
 * its temporary file (at most max bytes, which the caller checked)
 */

ngx_int_t
ngx_http_es_read_body(ngx_http_request_t *r, size_t max, ngx_str_t *body)
{
    u_char       *p;
    size_t        len, size;
    ssize_t       n;
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    ngx_str_null(body);

    if (r->request_body == NULL || r->request_body->bufs == NULL) {
        return NGX_OK;
    }

    len = 0;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        b = cl->buf;
        len += b->in_file ? (size_t) (b->file_last - b->file_pos)
                          : (size_t) (b->last - b->pos);

        if (len > max) {
            return NGX_DECLINED;
        }
    }

    if (len == 0) {
        return NGX_OK;
    }

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    body->data = p;
    body->len = len;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        b = cl->buf;

        if (!b->in_file) {
            p = ngx_cpymem(p, b->pos, b->last - b->pos);
            continue;
        }

        size = (size_t) (b->file_last - b->file_pos);

        n = ngx_read_file(b->file, p, size, b->file_pos);

        if (n != (ssize_t) size) {
            return NGX_ERROR;
        }

        p += size;
    }

    return NGX_OK;
}


char *
ngx_http_es_error_code(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_es_loc_conf_t *elcf = conf;

    ngx_int_t                  code, status;
    ngx_str_t                 *value;
    ngx_uint_t                 i;
    ngx_http_es_error_code_t  *ec;

    value = cf->args->elts;

    code = ngx_http_es_code_by_name(&value[1]);
    if (code == NGX_ERROR || code == NGX_HTTP_ES_DENIED) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "unknown error code \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    status = ngx_http_es_conf_status(cf, &value[2]);
    if (status == NGX_ERROR) {
        return NGX_CONF_ERROR;
    }

    for (i = 0; i < value[3].len; i++) {
        if (value[3].data[i] < 0x21 || value[3].data[i] > 0x7e
            || value[3].data[i] == '"' || value[3].data[i] == '\\')
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid code \"%V\"", &value[3]);
            return NGX_CONF_ERROR;
        }
    }

    if (value[3].len == 0 || value[3].len > 64) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid code \"%V\"", &value[3]);
        return NGX_CONF_ERROR;
    }

    if (elcf->error_codes != NGX_CONF_UNSET_PTR) {
        ec = elcf->error_codes->elts;

        for (i = 0; i < elcf->error_codes->nelts; i++) {
            if (ec[i].code == (ngx_http_es_code_t) code) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "error code \"%V\" is renamed twice",
                                   &value[1]);
                return NGX_CONF_ERROR;
            }
        }
    }

    ec = ngx_http_es_conf_push(cf, &elcf->error_codes,
                               sizeof(ngx_http_es_error_code_t));
    if (ec == NULL) {
        return NGX_CONF_ERROR;
    }

    ec->code = code;
    ec->status = status;
    ec->name = value[3];

    if (cf->args->nelts == 5) {
        ec->message = value[4];

    } else {
        ngx_str_null(&ec->message);
    }

    return NGX_CONF_OK;
}


char *
ngx_http_es_error_details_name(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_es_loc_conf_t *elcf = conf;

    u_char       c;
    ngx_str_t   *value;
    ngx_uint_t   i;

    if (elcf->error_details.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "off") == 0) {
        elcf->error_details.len = 0;
        elcf->error_details.data = (u_char *) "";
        return NGX_CONF_OK;
    }

    for (i = 0; i < value[1].len; i++) {
        c = value[1].data[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9') || c == '_'))
        {
            return "takes a name of letters, digits and \"_\", or \"off\"";
        }
    }

    if (value[1].len == 0 || value[1].len > 32) {
        return "takes a name of 1 to 32 characters, or \"off\"";
    }

    elcf->error_details = value[1];

    return NGX_CONF_OK;
}
