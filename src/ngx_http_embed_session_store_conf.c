
/*
 * Copyright (C) The ngx_http_embed_session_module authors
 *
 * The embed_session_store_zone directive: its parameters, checked, and the
 * names of the state file and its companions, made once.
 */


#include "ngx_http_embed_session_module.h"
#include "ngx_http_embed_session_keyset.h"
#include "ngx_http_embed_session_redis.h"
#include "ngx_http_embed_session_state.h"
#include "ngx_http_embed_session_store.h"


/* the directive's parameters, as written */

typedef struct {
    ngx_str_t                   name;
    ssize_t                     size;
    ngx_str_t                   state;
    ngx_str_t                   key;
    ngx_str_t                   epoch;
    ngx_int_t                   sync;
    ngx_int_t                   per_key;
    ngx_uint_t                  errors;
    ngx_uint_t                  loss;
    ngx_str_t                   backend;
    ngx_str_t                   backend_key;
    ngx_int_t                   stale;
} ngx_http_es_store_params_t;


static char *ngx_http_es_store_params(ngx_conf_t *cf,
    ngx_http_es_store_params_t *sp);
static char *ngx_http_es_store_key(ngx_conf_t *cf, ngx_http_es_store_t *store,
    ngx_str_t *key);
static char *ngx_http_es_epoch_names(ngx_conf_t *cf,
    ngx_http_es_store_t *store, ngx_str_t *epoch);
static char *ngx_http_es_state_names(ngx_conf_t *cf,
    ngx_http_es_store_t *store, ngx_str_t *state);
static char *ngx_http_es_state_dir(ngx_conf_t *cf,
    ngx_http_es_store_t *store);
static char *ngx_http_es_state_unique(ngx_conf_t *cf,
    ngx_http_es_main_conf_t *emcf, ngx_http_es_store_t *store);


/*
 * embed_session_store_zone zone=NAME:SIZE [state=FILE] [sync=TIME]
 *     [state_key=FILE] [state_epoch=FILE] [state_errors=stop|start]
 *     [state_loss=revoke|keep] [per_key=N] [backend=NAME]
 *     [backend_key=KEY] [stale=TIME]
 */

char *
ngx_http_es_store_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_es_main_conf_t *emcf = conf;

    ngx_http_es_store_t         *store, **sp;
    ngx_http_es_store_params_t   params;

    if (ngx_http_es_store_params(cf, &params) != NGX_CONF_OK) {
        return NGX_CONF_ERROR;
    }

    if (params.name.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" must have the \"zone=NAME:SIZE\" "
                           "parameter", &cmd->name);
        return NGX_CONF_ERROR;
    }

    store = ngx_http_es_store_get(cf, &params.name);
    if (store == NULL) {
        return NGX_CONF_ERROR;
    }

    if (store->shm_zone->data != store) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "zone \"%V\" is declared twice", &params.name);
        return NGX_CONF_ERROR;
    }

    if (store->shm_zone->shm.size) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "zone \"%V\" is declared twice", &params.name);
        return NGX_CONF_ERROR;
    }

    if (params.key.len) {
        if (params.state.len == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"state_key=\" without \"state=\"");
            return NGX_CONF_ERROR;
        }

        if (ngx_http_es_store_key(cf, store, &params.key) != NGX_CONF_OK) {
            return NGX_CONF_ERROR;
        }
    }

    if (params.epoch.len && params.state.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"state_epoch=\" without \"state=\"");
        return NGX_CONF_ERROR;
    }

    store->shm_zone->shm.size = params.size;
    store->shm_zone->init = ngx_http_es_store_init_zone;
    store->sync = params.sync;
    store->state_errors = params.errors;
    store->state_loss = params.loss;
    store->per_key = params.per_key;
    store->stale = params.stale;

    if (params.backend_key.len && params.backend.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"backend_key=\" without \"backend=\"");
        return NGX_CONF_ERROR;
    }

    if (params.backend.len) {

        /* found by its name once the http block is read: store_redis.c */

        store->backend_name = params.backend;
        store->backend_key = params.backend_key.len ? params.backend_key
                                                    : params.name;
        store->conf_file = cf->conf_file->file.name.data;
        store->conf_line = cf->conf_file->line;
    }

    if (params.epoch.len
        && ngx_http_es_epoch_names(cf, store, &params.epoch) != NGX_CONF_OK)
    {
        return NGX_CONF_ERROR;
    }

    if (params.state.len) {
        if (ngx_http_es_state_names(cf, store, &params.state) != NGX_CONF_OK
            || ngx_http_es_state_dir(cf, store) != NGX_CONF_OK
            || ngx_http_es_state_unique(cf, emcf, store) != NGX_CONF_OK)
        {
            return NGX_CONF_ERROR;
        }
    }

    sp = ngx_http_es_conf_push(cf, &emcf->stores,
                               sizeof(ngx_http_es_store_t *));
    if (sp == NULL) {
        return NGX_CONF_ERROR;
    }

    *sp = store;

    return NGX_CONF_OK;
}


/* the parameters into sp, with their defaults; checked one by one */

static char *
ngx_http_es_store_params(ngx_conf_t *cf, ngx_http_es_store_params_t *sp)
{
    u_char      *p;
    ngx_str_t   *value, s;
    ngx_uint_t   i;

    value = cf->args->elts;

    ngx_memzero(sp, sizeof(ngx_http_es_store_params_t));

    sp->sync = 1000;
    sp->stale = 10000;
    sp->errors = NGX_HTTP_ES_STATE_STOP;
    sp->loss = NGX_HTTP_ES_LOSS_REVOKE;

    for (i = 1; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "zone=", 5) == 0) {
            sp->name.data = value[i].data + 5;
            p = (u_char *) ngx_strchr(sp->name.data, ':');

            if (p == NULL) {
                goto invalid;
            }

            sp->name.len = p - sp->name.data;

            s.data = p + 1;
            s.len = value[i].data + value[i].len - s.data;

            sp->size = ngx_parse_size(&s);

            if (sp->name.len == 0 || sp->size == NGX_ERROR) {
                goto invalid;
            }

            if (sp->size < (ssize_t) (8 * ngx_pagesize)) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "zone \"%V\" is too small: at least %uz",
                                   &sp->name, 8 * ngx_pagesize);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "state=", 6) == 0) {
            sp->state.data = value[i].data + 6;
            sp->state.len = value[i].len - 6;

            if (sp->state.len == 0) {
                goto invalid;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "backend=", 8) == 0) {
            sp->backend.data = value[i].data + 8;
            sp->backend.len = value[i].len - 8;

            if (sp->backend.len == 0) {
                goto invalid;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "backend_key=", 12) == 0) {
            sp->backend_key.data = value[i].data + 12;
            sp->backend_key.len = value[i].len - 12;

            /* it goes inside the keys' hash tag, "{es:KEY}" */

            if (ngx_http_es_redis_name_ok(&sp->backend_key) != NGX_OK) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid \"%V\": 1 to 64 letters, "
                                   "digits, \"_\", \"-\" or \".\"",
                                   &value[i]);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "stale=", 6) == 0) {
            s.data = value[i].data + 6;
            s.len = value[i].len - 6;

            sp->stale = ngx_parse_time(&s, 0);

            if (sp->stale == NGX_ERROR || sp->stale < 100
                || sp->stale > 3600000)
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid \"%V\": from 100ms to 1h",
                                   &value[i]);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "sync=", 5) == 0) {
            s.data = value[i].data + 5;
            s.len = value[i].len - 5;

            sp->sync = ngx_parse_time(&s, 0);

            if (sp->sync == NGX_ERROR || sp->sync < 10
                || sp->sync > 3600000)
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid \"%V\": from 10ms to 1h",
                                   &value[i]);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "state_key=", 10) == 0) {
            sp->key.data = value[i].data + 10;
            sp->key.len = value[i].len - 10;

            if (sp->key.len == 0) {
                goto invalid;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "state_epoch=", 12) == 0) {
            sp->epoch.data = value[i].data + 12;
            sp->epoch.len = value[i].len - 12;

            if (sp->epoch.len == 0) {
                goto invalid;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "per_key=", 8) == 0) {
            sp->per_key = ngx_atoi(value[i].data + 8, value[i].len - 8);

            if (sp->per_key == NGX_ERROR || sp->per_key == 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid \"%V\": a number of records, "
                                   "at least 1", &value[i]);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strcmp(value[i].data, "state_loss=revoke") == 0) {
            sp->loss = NGX_HTTP_ES_LOSS_REVOKE;
            continue;
        }

        if (ngx_strcmp(value[i].data, "state_loss=keep") == 0) {
            sp->loss = NGX_HTTP_ES_LOSS_KEEP;
            continue;
        }

        if (ngx_strcmp(value[i].data, "state_errors=stop") == 0) {
            sp->errors = NGX_HTTP_ES_STATE_STOP;
            continue;
        }

        if (ngx_strcmp(value[i].data, "state_errors=start") == 0) {
            sp->errors = NGX_HTTP_ES_STATE_START;
            continue;
        }

        goto invalid;
    }

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid parameter \"%V\"",
                       &value[i]);
    return NGX_CONF_ERROR;
}


/* state_key=: an HS256 JWK of at least 32 bytes, as embed_session_keys */

static char *
ngx_http_es_store_key(ngx_conf_t *cf, ngx_http_es_store_t *store,
    ngx_str_t *key)
{
    ngx_http_es_keyset_t  keys;

    if (ngx_array_init(&keys.keys, cf->pool, 1,
                       sizeof(ngx_http_es_jws_key_t *))
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    if (ngx_http_es_keys_load(cf, &keys, key, NGX_HTTP_ES_JWS_HS256, NULL)
        != NGX_CONF_OK)
    {
        return NGX_CONF_ERROR;
    }

    if (keys.keys.nelts != 1) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"state_key=%V\" must hold exactly one key", key);
        return NGX_CONF_ERROR;
    }

    store->key = ((ngx_http_es_jws_key_t **) keys.keys.elts)[0];

    return NGX_CONF_OK;
}


/* state_epoch=: the full name and EPOCH.tmp, in one allocation */

static char *
ngx_http_es_epoch_names(ngx_conf_t *cf, ngx_http_es_store_t *store,
    ngx_str_t *epoch)
{
    u_char  *p;

    if (ngx_conf_full_name(cf->cycle, epoch, 0) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    store->epoch.len = epoch->len;
    store->epoch.data = ngx_pnalloc(cf->pool, 2 * epoch->len + 16);
    if (store->epoch.data == NULL) {
        return NGX_CONF_ERROR;
    }

    p = ngx_cpymem(store->epoch.data, epoch->data, epoch->len);
    *p++ = '\0';

    store->epoch_tmp.data = p;
    store->epoch_tmp.len = ngx_sprintf(p, "%V.tmp%Z", epoch) - p - 1;

    return NGX_CONF_OK;
}


/*
 * state=: the full name and its companions STATE.tmp, STATE.lock and
 * STATE.corrupt, NUL-terminated, in one allocation
 */

static char *
ngx_http_es_state_names(ngx_conf_t *cf, ngx_http_es_store_t *store,
    ngx_str_t *state)
{
    u_char  *p;

    if (ngx_conf_full_name(cf->cycle, state, 0) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    store->state.len = state->len;
    store->state.data = ngx_pnalloc(cf->pool, 4 * (state->len + 16));
    if (store->state.data == NULL) {
        return NGX_CONF_ERROR;
    }

    p = store->state.data;

    (void) ngx_cpystrn(p, state->data, state->len + 1);
    p += state->len + 1;

    store->state_tmp.data = p;
    store->state_tmp.len = ngx_sprintf(p, "%V.tmp%Z", state) - p - 1;
    p += store->state_tmp.len + 1;

    store->state_lock.data = p;
    store->state_lock.len = ngx_sprintf(p, "%V.lock%Z", state) - p - 1;
    p += store->state_lock.len + 1;

    store->state_bad.data = p;
    store->state_bad.len = ngx_sprintf(p, "%V.corrupt%Z", state) - p - 1;

    return NGX_CONF_OK;
}


/* a typo in the path fails now, not at the first snapshot */

static char *
ngx_http_es_state_dir(ngx_conf_t *cf, ngx_http_es_store_t *store)
{
    u_char           *p;
    ngx_int_t         rc;
    ngx_file_info_t   fi;

    p = store->state.data + store->state.len;

    while (p > store->state.data && *(p - 1) != '/') {
        p--;
    }

    if (p > store->state.data + 1) {
        *(p - 1) = '\0';
        rc = ngx_file_info(store->state.data, &fi);
        *(p - 1) = '/';

        if (rc == NGX_FILE_ERROR || !ngx_is_dir(&fi)) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf,
                               rc == NGX_FILE_ERROR ? ngx_errno : 0,
                               "the directory of state file \"%V\" "
                               "does not exist", &store->state);
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}


/* two zones in one file would each take in the other's records */

static char *
ngx_http_es_state_unique(ngx_conf_t *cf, ngx_http_es_main_conf_t *emcf,
    ngx_http_es_store_t *store)
{
    ngx_uint_t             i;
    ngx_http_es_store_t  **sp;

    if (emcf->stores == NULL) {
        return NGX_CONF_OK;
    }

    sp = emcf->stores->elts;

    for (i = 0; i < emcf->stores->nelts; i++) {
        if (sp[i]->state.len == store->state.len
            && ngx_strcmp(sp[i]->state.data, store->state.data) == 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "zones \"%V\" and \"%V\" have the same "
                               "state file \"%V\"", &sp[i]->name,
                               &store->name, &store->state);
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}
