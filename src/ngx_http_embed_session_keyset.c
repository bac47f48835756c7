
/*
 * Copyright (C) The ngx_http_embed_session_module authors
 *
 * Signing and verification keys: files read at configuration time into a
 * key set per configuration level, looked up by kid.
 */


#include "ngx_http_embed_session_module.h"
#include "ngx_http_embed_session_file.h"
#include "ngx_http_embed_session_jws.h"
#include "ngx_http_embed_session_keyset.h"


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
    u_char                  *p, *last;
    ngx_str_t                name, buf;
    ngx_http_es_jws_key_t   *key;
    ngx_http_es_keys_ctx_t   ctx;
    char                     err[NGX_MAX_ERROR_STR];

    name = *file;

    if (ngx_conf_full_name(cf->cycle, &name, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if (ngx_http_es_file_read(cf, NULL, NULL, "", &name,
                              NGX_HTTP_ES_KEY_FILE_MAX, &buf, NULL)
        == NGX_ERROR)
    {
        return NGX_CONF_ERROR;
    }

    rv = NGX_CONF_ERROR;

    /* a file too large (NGX_DECLINED) leaves buf empty */

    if (buf.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "key file \"%s\" is empty or larger than %uz "
                           "bytes", name.data,
                           (size_t) NGX_HTTP_ES_KEY_FILE_MAX);
        goto done;
    }

    for (p = buf.data, last = buf.data + buf.len; p < last; p++) {
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

    if (buf.data) {
        /* the file may hold secrets */
        ngx_explicit_memzero(buf.data, buf.len);
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
