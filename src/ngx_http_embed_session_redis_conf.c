
/*
 * Copyright (C) The ngx_http_embed_session_module authors
 *
 * The embed_session_redis directive: a named server's address, database,
 * credentials and timeouts, checked at configuration time (the password
 * read from its file and wiped with the configuration), and the status
 * zone's counters of a server found by its name.  The connections
 * themselves are redis.c's.
 */


#include "ngx_http_embed_session_module.h"
#include "ngx_http_embed_session_file.h"
#include "ngx_http_embed_session_redis.h"


#define NGX_HTTP_ES_REDIS_PORT        6379
#define NGX_HTTP_ES_REDIS_SENTINEL_PORT  26379
#define NGX_HTTP_ES_REDIS_PASSWORD_MAX  4096    /* password_file= bytes */


/* the TLS parameters of the directive, as written */

typedef struct {
    ngx_uint_t                  on;
    ngx_str_t                   trusted;
    ngx_str_t                   certificate;
    ngx_str_t                   key;
} ngx_http_es_redis_tls_t;


static char *ngx_http_es_redis_invalid(ngx_conf_t *cf, ngx_str_t *value);
static char *ngx_http_es_redis_tls(ngx_conf_t *cf, ngx_http_es_redis_t *rd,
    ngx_http_es_redis_tls_t *tls);
static char *ngx_http_es_redis_param(ngx_conf_t *cf, ngx_http_es_redis_t *rd,
    ngx_str_t *value, ngx_str_t *files, ngx_http_es_redis_tls_t *tls);
static char *ngx_http_es_redis_server(ngx_conf_t *cf, ngx_http_es_redis_t *rd,
    ngx_str_t *value);
static char *ngx_http_es_redis_password(ngx_conf_t *cf, const char *param,
    ngx_str_t *file, ngx_str_t *password);
static void ngx_http_es_redis_password_wipe(void *data);
static char *ngx_http_es_redis_sentinel(ngx_conf_t *cf,
    ngx_http_es_redis_t *rd, ngx_str_t *value);


/*
 * embed_session_redis NAME [server=HOST:PORT|unix:PATH] [db=N] [user=NAME]
 *     [password_file=PATH] [connect_timeout=TIME] [timeout=TIME] [ping=TIME]
 *     [sentinel=ADDR ... master=NAME [sentinel_user=NAME]
 *     [sentinel_password_file=PATH]] [tls=on ...]
 */

char *
ngx_http_es_redis(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_es_main_conf_t *emcf = conf;

    ngx_str_t                *value, files[2], addr;
    ngx_uint_t                i;
    ngx_http_es_redis_t      *rd, **rdp;
    ngx_http_es_redis_tls_t   tls;

#if !(NGX_HAVE_HIREDIS)

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "\"%V\": the embed_session module was built without "
                       "hiredis: apt-get install libhiredis-dev and rebuild",
                       &cmd->name);
    return NGX_CONF_ERROR;

#endif

    value = cf->args->elts;

    if (ngx_http_es_redis_name_ok(&value[1]) != NGX_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid name \"%V\": 1 to %d letters, digits, "
                           "\"_\", \"-\" or \".\"", &value[1],
                           NGX_HTTP_ES_REDIS_NAME_MAX);
        return NGX_CONF_ERROR;
    }

    if (ngx_http_es_redis_find(emcf, &value[1])) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" is declared twice", &value[1]);
        return NGX_CONF_ERROR;
    }

    rd = ngx_pcalloc(cf->pool, sizeof(ngx_http_es_redis_t));
    if (rd == NULL) {
        return NGX_CONF_ERROR;
    }

    rd->name = value[1];
    rd->connect_timeout = NGX_CONF_UNSET_MSEC;
    rd->timeout = NGX_CONF_UNSET_MSEC;
    rd->ping = NGX_CONF_UNSET_MSEC;
    rd->db = NGX_CONF_UNSET_UINT;
    rd->worker = -1;
    rd->tls_verify = 1;
    ngx_str_null(&files[0]);       /* password_file= */
    ngx_str_null(&files[1]);       /* sentinel_password_file= */
    ngx_memzero(&tls, sizeof(ngx_http_es_redis_tls_t));

    for (i = 2; i < cf->args->nelts; i++) {
        if (ngx_http_es_redis_param(cf, rd, &value[i], files, &tls)
            != NGX_CONF_OK)
        {
            return NGX_CONF_ERROR;
        }
    }

    if (rd->sentinels || rd->master.len) {
        if (rd->server.len) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"server=\" with \"sentinel=\" or "
                               "\"master=\": the sentinels name the server");
            return NGX_CONF_ERROR;
        }

        if (rd->sentinels == NULL || rd->master.len == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"sentinel=\" and \"master=\" go together");
            return NGX_CONF_ERROR;
        }

        rd->server.len = sizeof("sentinels of ") - 1 + rd->master.len;
        rd->server.data = ngx_pnalloc(cf->pool, rd->server.len);
        if (rd->server.data == NULL) {
            return NGX_CONF_ERROR;
        }

        ngx_sprintf(rd->server.data, "sentinels of %V", &rd->master);
    }

    if (rd->server.len == 0) {
        ngx_str_set(&addr, "127.0.0.1:6379");

        if (ngx_http_es_redis_server(cf, rd, &addr) != NGX_CONF_OK) {
            return NGX_CONF_ERROR;
        }
    }

    if (rd->user.len && files[0].len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"user=\" without \"password_file=\"");
        return NGX_CONF_ERROR;
    }

    if ((rd->sentinel_user.len || files[1].len) && rd->sentinels == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"sentinel_user=\" or "
                           "\"sentinel_password_file=\" without "
                           "\"sentinel=\"");
        return NGX_CONF_ERROR;
    }

    if (rd->sentinel_user.len && files[1].len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"sentinel_user=\" without "
                           "\"sentinel_password_file=\"");
        return NGX_CONF_ERROR;
    }

    if (files[0].len
        && ngx_http_es_redis_password(cf, "password_file", &files[0],
                                      &rd->password)
           != NGX_CONF_OK)
    {
        return NGX_CONF_ERROR;
    }

    if (files[1].len
        && ngx_http_es_redis_password(cf, "sentinel_password_file",
                                      &files[1], &rd->sentinel_password)
           != NGX_CONF_OK)
    {
        return NGX_CONF_ERROR;
    }

    if (tls.on) {
        if (ngx_http_es_redis_tls(cf, rd, &tls) != NGX_CONF_OK) {
            return NGX_CONF_ERROR;
        }

    } else if (tls.trusted.len || tls.certificate.len || tls.key.len
               || rd->tls_name.len)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "a \"tls_...=\" parameter without \"tls=on\"");
        return NGX_CONF_ERROR;
    }

    ngx_conf_init_msec_value(rd->connect_timeout, 1000);
    ngx_conf_init_msec_value(rd->timeout, 500);
    ngx_conf_init_msec_value(rd->ping, 5000);
    ngx_conf_init_uint_value(rd->db, 0);

    rdp = ngx_http_es_conf_push(cf, &emcf->redis,
                                sizeof(ngx_http_es_redis_t *));
    if (rdp == NULL) {
        return NGX_CONF_ERROR;
    }

    *rdp = rd;

    return NGX_CONF_OK;
}



/* sentinel=IP[:PORT], one for each sentinel (26379 by default) */

static char *
ngx_http_es_redis_sentinel(ngx_conf_t *cf, ngx_http_es_redis_t *rd,
    ngx_str_t *value)
{
    ngx_addr_t  *addr;

    addr = ngx_http_es_conf_push(cf, &rd->sentinels, sizeof(ngx_addr_t));
    if (addr == NULL) {
        return NGX_CONF_ERROR;
    }

    if (ngx_parse_addr_port(cf->pool, addr, value->data, value->len)
        != NGX_OK)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"sentinel=\": \"%V\" is not an IP address with "
                           "an optional port (names are not resolved)",
                           value);
        return NGX_CONF_ERROR;
    }

    if (ngx_inet_get_port(addr->sockaddr) == 0) {
        ngx_inet_set_port(addr->sockaddr, NGX_HTTP_ES_REDIS_SENTINEL_PORT);
    }

    addr->name.data = ngx_pnalloc(cf->pool, NGX_SOCKADDR_STRLEN);
    if (addr->name.data == NULL) {
        return NGX_CONF_ERROR;
    }

    addr->name.len = ngx_sock_ntop(addr->sockaddr, addr->socklen,
                                   addr->name.data, NGX_SOCKADDR_STRLEN, 1);

    return NGX_CONF_OK;
}


/* a server by its name, or NULL */

ngx_http_es_redis_t *
ngx_http_es_redis_find(ngx_http_es_main_conf_t *emcf, ngx_str_t *name)
{
    ngx_uint_t             i;
    ngx_http_es_redis_t  **rdp;

    if (emcf->redis == NULL) {
        return NULL;
    }

    rdp = emcf->redis->elts;

    for (i = 0; i < emcf->redis->nelts; i++) {
        if (rdp[i]->name.len == name->len
            && ngx_strncmp(rdp[i]->name.data, name->data, name->len) == 0)
        {
            return rdp[i];
        }
    }

    return NULL;
}


ngx_http_es_redis_t *
ngx_http_es_redis_dedicated(ngx_conf_t *cf, ngx_http_es_main_conf_t *emcf,
    ngx_http_es_redis_t *rd, ngx_str_t *name, ngx_int_t worker,
    ngx_msec_t extra)
{
    ngx_http_es_redis_t  *copy, **rdp;

    if (name->len > NGX_HTTP_ES_REDIS_NAME_MAX) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "the name \"%V\" takes more than %d bytes",
                           name, NGX_HTTP_ES_REDIS_NAME_MAX);
        return NULL;
    }

    copy = ngx_palloc(cf->pool, sizeof(ngx_http_es_redis_t));
    if (copy == NULL) {
        return NULL;
    }

    *copy = *rd;

    copy->name = *name;
    copy->origin = rd;
    copy->worker = worker;
    copy->timeout = rd->timeout + extra;
    copy->up = NULL;
    copy->up_data = NULL;
    copy->conn = NULL;

    rdp = ngx_http_es_conf_push(cf, &emcf->redis,
                                sizeof(ngx_http_es_redis_t *));
    if (rdp == NULL) {
        return NULL;
    }

    *rdp = copy;

    return copy;
}

static char *
ngx_http_es_redis_param(ngx_conf_t *cf, ngx_http_es_redis_t *rd,
    ngx_str_t *value, ngx_str_t *files, ngx_http_es_redis_tls_t *tls)
{
    u_char      *p;
    ngx_str_t    v;
    ngx_int_t    n;
    ngx_msec_t  *ms;

    p = ngx_strlchr(value->data, value->data + value->len, '=');

    if (p == NULL) {
        goto invalid;
    }

    v.data = p + 1;
    v.len = value->data + value->len - v.data;

#define ngx_http_es_param_is(s)                                              \
    ((size_t) (p - value->data) == sizeof(s) - 1                             \
     && ngx_strncmp(value->data, s, sizeof(s) - 1) == 0)

    if (ngx_http_es_param_is("server")) {
        return ngx_http_es_redis_server(cf, rd, &v);
    }

    if (ngx_http_es_param_is("sentinel")) {
        return ngx_http_es_redis_sentinel(cf, rd, &v);
    }

    if (ngx_http_es_param_is("master")) {
        if (ngx_http_es_redis_name_ok(&v) != NGX_OK) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"master=\": invalid name \"%V\"", &v);
            return NGX_CONF_ERROR;
        }

        rd->master = v;
        return NGX_CONF_OK;
    }

    if (ngx_http_es_param_is("tls")
        || ngx_http_es_param_is("tls_verify"))
    {
        if (v.len == 2 && ngx_strncmp(v.data, "on", 2) == 0) {
            n = 1;

        } else if (v.len == 3 && ngx_strncmp(v.data, "off", 3) == 0) {
            n = 0;

        } else {
            goto invalid;
        }

        if (p - value->data == 3) {
            tls->on = n;

        } else {
            rd->tls_verify = n;
        }

        return NGX_CONF_OK;
    }

    if (ngx_http_es_param_is("tls_name")) {
        if (v.len == 0) {
            goto invalid;
        }

        /* NUL-terminated, for the handshake's name (SNI) */

        rd->tls_name.data = ngx_pnalloc(cf->pool, v.len + 1);
        if (rd->tls_name.data == NULL) {
            return NGX_CONF_ERROR;
        }

        (void) ngx_cpystrn(rd->tls_name.data, v.data, v.len + 1);
        rd->tls_name.len = v.len;
        return NGX_CONF_OK;
    }

    if (ngx_http_es_param_is("tls_trusted_certificate")) {
        tls->trusted = v;
        return v.len ? NGX_CONF_OK : ngx_http_es_redis_invalid(cf, value);
    }

    if (ngx_http_es_param_is("tls_certificate")) {
        tls->certificate = v;
        return v.len ? NGX_CONF_OK : ngx_http_es_redis_invalid(cf, value);
    }

    if (ngx_http_es_param_is("tls_certificate_key")) {
        tls->key = v;
        return v.len ? NGX_CONF_OK : ngx_http_es_redis_invalid(cf, value);
    }

    if (ngx_http_es_param_is("db")) {
        n = ngx_atoi(v.data, v.len);

        if (n == NGX_ERROR || n > 65535) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"db=\": invalid database \"%V\", "
                               "0 to 65535", &v);
            return NGX_CONF_ERROR;
        }

        rd->db = n;
        return NGX_CONF_OK;
    }

    if (ngx_http_es_param_is("user")
        || ngx_http_es_param_is("sentinel_user"))
    {
        if (v.len == 0 || ngx_strlchr(v.data, v.data + v.len, ' ')) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"%*s=\": invalid user name \"%V\"",
                               p - value->data, value->data, &v);
            return NGX_CONF_ERROR;
        }

        if (value->data[0] == 's') {
            rd->sentinel_user = v;

        } else {
            rd->user = v;
        }

        return NGX_CONF_OK;
    }

    if (ngx_http_es_param_is("password_file")
        || ngx_http_es_param_is("sentinel_password_file"))
    {
        if (v.len == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"%*s=\" names no file",
                               p - value->data, value->data);
            return NGX_CONF_ERROR;
        }

        files[value->data[0] == 's'] = v;
        return NGX_CONF_OK;
    }

    if (ngx_http_es_param_is("connect_timeout")) {
        ms = &rd->connect_timeout;

    } else if (ngx_http_es_param_is("timeout")) {
        ms = &rd->timeout;

    } else if (ngx_http_es_param_is("ping")) {
        ms = &rd->ping;

    } else {
        goto invalid;
    }

#undef ngx_http_es_param_is

    *ms = ngx_parse_time(&v, 0);

    if (*ms == (ngx_msec_t) NGX_ERROR || *ms == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%*s=\": invalid time \"%V\"",
                           p - value->data, value->data, &v);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;

invalid:

    return ngx_http_es_redis_invalid(cf, value);
}


static char *
ngx_http_es_redis_invalid(ngx_conf_t *cf, ngx_str_t *value)
{
    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid parameter \"%V\"", value);
    return NGX_CONF_ERROR;
}


/*
 * tls=on: a client context, the trusted certificates for tls_verify=on
 * (the default), which needs tls_name=, and a client certificate if one
 * is given
 */

static char *
ngx_http_es_redis_tls(ngx_conf_t *cf, ngx_http_es_redis_t *rd,
    ngx_http_es_redis_tls_t *tls)
{
#if (NGX_SSL)
    ngx_pool_cleanup_t  *cln;

    if (tls->trusted.len && rd->tls_verify && rd->tls_name.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"tls_verify=on\" needs \"tls_name=\": the "
                           "name the server's certificate must hold");
        return NGX_CONF_ERROR;
    }

    if (rd->tls_verify && tls->trusted.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"tls_verify=on\" needs "
                           "\"tls_trusted_certificate=\" (or "
                           "\"tls_verify=off\")");
        return NGX_CONF_ERROR;
    }

    if ((tls->certificate.len == 0) != (tls->key.len == 0)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"tls_certificate=\" and "
                           "\"tls_certificate_key=\" go together");
        return NGX_CONF_ERROR;
    }

    rd->ssl = ngx_pcalloc(cf->pool, sizeof(ngx_ssl_t));
    if (rd->ssl == NULL) {
        return NGX_CONF_ERROR;
    }

    rd->ssl->log = cf->log;

    if (ngx_ssl_create(rd->ssl, NGX_SSL_TLSv1_2|NGX_SSL_TLSv1_3, NULL)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        ngx_ssl_cleanup_ctx(rd->ssl);
        return NGX_CONF_ERROR;
    }

    cln->handler = ngx_ssl_cleanup_ctx;
    cln->data = rd->ssl;

    if (tls->trusted.len
        && ngx_ssl_trusted_certificate(cf, rd->ssl, &tls->trusted, 4)
           != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    if (tls->certificate.len
        && ngx_ssl_certificate(cf, rd->ssl, &tls->certificate, &tls->key,
                               NULL)
           != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;

#else

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "\"tls=on\": nginx was built without SSL "
                       "(--with-http_ssl_module)");
    return NGX_CONF_ERROR;

#endif
}


/*
 * An address, never a name: a name would be resolved here, blocking, and
 * once for the life of the configuration.  "unix:PATH", "IPV4[:PORT]",
 * "[IPV6][:PORT]"; the port is 6379 unless given.
 */

static char *
ngx_http_es_redis_server(ngx_conf_t *cf, ngx_http_es_redis_t *rd,
    ngx_str_t *value)
{
    ngx_url_t   u;
    ngx_int_t   rc;

    if (value->len > 5 && ngx_strncmp(value->data, "unix:", 5) == 0) {
        ngx_memzero(&u, sizeof(ngx_url_t));

        u.url = *value;
        u.no_resolve = 1;

        if (ngx_parse_url(cf->pool, &u) != NGX_OK || u.naddrs == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"server=\": %s in \"%V\"",
                               u.err ? u.err : "no socket", value);
            return NGX_CONF_ERROR;
        }

        rd->addr = u.addrs[0];
        rd->server = *value;
        return NGX_CONF_OK;
    }

    rc = ngx_parse_addr_port(cf->pool, &rd->addr, value->data, value->len);

    if (rc != NGX_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"server=\": \"%V\" is not an IP address with "
                           "an optional port, or unix:PATH (names are not "
                           "resolved)", value);
        return NGX_CONF_ERROR;
    }

    if (ngx_inet_get_port(rd->addr.sockaddr) == 0) {
        ngx_inet_set_port(rd->addr.sockaddr, NGX_HTTP_ES_REDIS_PORT);
    }

    rd->server.data = ngx_pnalloc(cf->pool, NGX_SOCKADDR_STRLEN);
    if (rd->server.data == NULL) {
        return NGX_CONF_ERROR;
    }

    rd->server.len = ngx_sock_ntop(rd->addr.sockaddr, rd->addr.socklen,
                                   rd->server.data, NGX_SOCKADDR_STRLEN, 1);
    rd->addr.name = rd->server;

    return NGX_CONF_OK;
}


/*
 * A password: the file's first line, read now (the master may be the
 * only process that can read it) with the module's trusted-file rules;
 * never logged, and the file's bytes wiped once copied.
 */

static char *
ngx_http_es_redis_password(ngx_conf_t *cf, const char *param,
    ngx_str_t *file, ngx_str_t *password)
{
    size_t               len;
    ngx_str_t            buf;
    ngx_int_t            rc;
    ngx_pool_cleanup_t  *cln;

    if (ngx_conf_full_name(cf->cycle, file, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    rc = ngx_http_es_file_read(cf, NULL, NULL, "embed_session_redis: ", file,
                               NGX_HTTP_ES_REDIS_PASSWORD_MAX, &buf, NULL);

    if (rc == NGX_DECLINED) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%s=\": \"%V\" is larger than %d bytes",
                           param, file, NGX_HTTP_ES_REDIS_PASSWORD_MAX);
        return NGX_CONF_ERROR;
    }

    if (rc != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    len = 0;

    while (len < buf.len && buf.data[len] != LF && buf.data[len] != CR) {
        len++;
    }

    if (len == 0) {
        ngx_explicit_memzero(buf.data, buf.len);
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%s=\": \"%V\" holds no password on its "
                           "first line", param, file);
        return NGX_CONF_ERROR;
    }

    /* the copy is wiped when the configuration goes (a reload, the exit) */

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        ngx_explicit_memzero(buf.data, buf.len);
        return NGX_CONF_ERROR;
    }

    password->data = ngx_pnalloc(cf->pool, len);
    if (password->data == NULL) {
        ngx_explicit_memzero(buf.data, buf.len);
        return NGX_CONF_ERROR;
    }

    ngx_memcpy(password->data, buf.data, len);
    password->len = len;

    cln->handler = ngx_http_es_redis_password_wipe;
    cln->data = password;

    ngx_explicit_memzero(buf.data, buf.len);

    return NGX_CONF_OK;
}


static void
ngx_http_es_redis_password_wipe(void *data)
{
    ngx_str_t *password = data;

    ngx_explicit_memzero(password->data, password->len);
}


/* a name that is safe in a log line and a Prometheus label */

ngx_int_t
ngx_http_es_redis_name_ok(ngx_str_t *name)
{
    u_char  *p, *last;

    if (name->len == 0 || name->len > NGX_HTTP_ES_REDIS_NAME_MAX) {
        return NGX_ERROR;
    }

    last = name->data + name->len;

    for (p = name->data; p < last; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')
              || (*p >= '0' && *p <= '9')
              || *p == '_' || *p == '-' || *p == '.'))
        {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/* the status zone's slot of a name: read without a lock, set under it */

ngx_http_es_redis_stats_t *
ngx_http_es_redis_stats(ngx_http_es_metrics_t *metrics, ngx_str_t *name)
{
    ngx_uint_t                  i;
    ngx_http_es_redis_stats_t  *st;

    if (metrics == NULL) {
        return NULL;
    }

    for (i = 0; i < NGX_HTTP_ES_REDIS_SLOTS; i++) {
        st = &metrics->redis[i];

        if (st->len == name->len
            && ngx_strncmp(st->name, name->data, name->len) == 0)
        {
            return st;
        }
    }

    return NULL;
}
