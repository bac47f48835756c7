
/*
 * Copyright (C) The ngx_http_embed_session_module authors
 *
 * Signing and verification keys: files read at configuration time into a
 * key set per configuration level, looked up by kid.
 */


#include "ngx_http_embed_session_module.h"


typedef struct {
    ngx_conf_t                *cf;
    ngx_http_es_keyset_t      *set;
    ngx_str_t                 *file;
    unsigned                   reported:1;
} ngx_http_es_keys_ctx_t;


static int ngx_http_es_keys_add(void *data, ngx_http_es_jws_key_t *key);
static void ngx_http_es_keys_cleanup(void *data);


char *
ngx_http_es_keys_load(ngx_conf_t *cf, ngx_http_es_keyset_t *set,
    ngx_str_t *file, ngx_http_es_jws_alg_t alg, ngx_str_t *kid)
{
    int                      rc;
    char                    *rv;
    u_char                  *buf, *p, *last;
    size_t                   size;
    ssize_t                  n;
    ngx_fd_t                 fd;
    ngx_str_t                name;
    ngx_file_info_t          fi;
    ngx_http_es_jws_key_t   *key;
    ngx_http_es_keys_ctx_t   ctx;
    char                     err[NGX_MAX_ERROR_STR];

    name = *file;

    if (ngx_conf_full_name(cf->cycle, &name, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    fd = ngx_open_file(name.data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_open_file_n " \"%s\" failed", name.data);
        return NGX_CONF_ERROR;
    }

    rv = NGX_CONF_ERROR;
    buf = NULL;
    size = 0;

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_fd_info_n " \"%s\" failed", name.data);
        goto done;
    }

    size = (size_t) ngx_file_size(&fi);

    if (size == 0 || size > NGX_HTTP_ES_KEY_FILE_MAX) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "key file \"%s\" is empty or larger than %uz "
                           "bytes", name.data,
                           (size_t) NGX_HTTP_ES_KEY_FILE_MAX);
        goto done;
    }

    buf = ngx_pnalloc(cf->temp_pool, size);
    if (buf == NULL) {
        goto done;
    }

    n = ngx_read_fd(fd, buf, size);

    if (n == -1) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_read_fd_n " \"%s\" failed", name.data);
        goto done;
    }

    if ((size_t) n != size) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           ngx_read_fd_n " \"%s\" returned only %z bytes "
                           "instead of %uz", name.data, n, size);
        goto done;
    }

    for (p = buf, last = buf + size; p < last; p++) {
        if (*p != ' ' && *p != '\t' && *p != CR && *p != LF) {
            break;
        }
    }

    ctx.cf = cf;
    ctx.set = set;
    ctx.file = &name;
    ctx.reported = 0;

    err[0] = '\0';

    if (p < last && *p == '{') {
        rc = ngx_http_es_jws_jwks_parse(p, last - p, alg,
                                        kid ? kid->data : NULL,
                                        kid ? kid->len : 0,
                                        ngx_http_es_keys_add, &ctx,
                                        err, sizeof(err));

    } else if ((size_t) (last - p) > sizeof("-----BEGIN ") - 1
               && ngx_strncmp(p, "-----BEGIN ", sizeof("-----BEGIN ") - 1)
                  == 0)
    {
        rc = ngx_http_es_jws_pem_parse(p, last - p, alg,
                                       kid ? kid->data : NULL,
                                       kid ? kid->len : 0,
                                       &key, err, sizeof(err));

        if (rc == NGX_HTTP_ES_JWS_OK) {
            rc = ngx_http_es_keys_add(&ctx, key);
        }

    } else {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "key file \"%s\" is neither a JWK Set, a JWK "
                           "nor a PEM key", name.data);
        goto done;
    }

    if (rc != NGX_HTTP_ES_JWS_OK) {
        if (!ctx.reported) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid key file \"%s\": %s", name.data, err);
        }

        goto done;
    }

    rv = NGX_CONF_OK;

done:

    if (buf) {
        /* the file may hold secrets */
        ngx_explicit_memzero(buf, size);
    }

    if (ngx_close_file(fd) == NGX_FILE_ERROR) {
        ngx_conf_log_error(NGX_LOG_ALERT, cf, ngx_errno,
                           ngx_close_file_n " \"%s\" failed", name.data);
    }

    return rv;
}


static int
ngx_http_es_keys_add(void *data, ngx_http_es_jws_key_t *key)
{
    ngx_http_es_keys_ctx_t *ctx = data;

    size_t                   len, klen;
    u_char                  *kid;
    ngx_uint_t               i;
    ngx_pool_cleanup_t      *cln;
    ngx_http_es_jws_key_t  **k;

    cln = ngx_pool_cleanup_add(ctx->cf->pool, 0);
    if (cln == NULL) {
        ngx_http_es_jws_key_free(key);
        return NGX_HTTP_ES_JWS_ERROR;
    }

    cln->handler = ngx_http_es_keys_cleanup;
    cln->data = key;

    kid = (u_char *) ngx_http_es_jws_key_kid(key, &len);

    /*
     * a token names its key by kid: in a set of several keys every key
     * needs a kid of its own, or one of them could never be selected
     */

    k = ctx->set->keys.elts;

    for (i = 0; i < ctx->set->keys.nelts; i++) {
        (void) ngx_http_es_jws_key_kid(k[i], &klen);

        if (len == 0 || klen == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, ctx->cf, 0,
                               "invalid key file \"%s\": a key without "
                               "\"kid\" in a set of several keys",
                               ctx->file->data);
            ctx->reported = 1;
            return NGX_HTTP_ES_JWS_INVALID;
        }
    }

    if (ngx_http_es_keys_find(ctx->set, kid, len) != NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, ctx->cf, 0,
                           "invalid key file \"%s\": duplicate kid \"%*s\" "
                           "in the key set", ctx->file->data, len, kid);
        ctx->reported = 1;
        return NGX_HTTP_ES_JWS_INVALID;
    }

    k = ngx_array_push(&ctx->set->keys);
    if (k == NULL) {
        return NGX_HTTP_ES_JWS_ERROR;
    }

    *k = key;

    return NGX_HTTP_ES_JWS_OK;
}


static void
ngx_http_es_keys_cleanup(void *data)
{
    ngx_http_es_jws_key_free(data);
}


ngx_http_es_jws_key_t *
ngx_http_es_keys_find(ngx_http_es_keyset_t *set, u_char *kid, size_t len)
{
    size_t                   klen;
    ngx_uint_t               i;
    const unsigned char     *k;
    ngx_http_es_jws_key_t  **keys;

    keys = set->keys.elts;

    for (i = 0; i < set->keys.nelts; i++) {
        k = ngx_http_es_jws_key_kid(keys[i], &klen);

        if (klen == len && ngx_memcmp(k, kid, len) == 0) {
            return keys[i];
        }
    }

    return NULL;
}
