
/*
 * Copyright (C) The ngx_http_embed_session_module authors
 *
 * API keys: the key file (keyfile.c), the shared memory zone that holds
 * its records (apikeys.c), and the authentication of a request by one of
 * them (auth.c).
 */


#ifndef _NGX_HTTP_EMBED_SESSION_APIKEY_H_INCLUDED_
#define _NGX_HTTP_EMBED_SESSION_APIKEY_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


#define NGX_HTTP_ES_API_KEY_RANDOM    40    /* [A-Za-z0-9] after the prefix */
#define NGX_HTTP_ES_API_KEY_LOOKUP    8     /* of them, in the lookup part */
#define NGX_HTTP_ES_API_KEY_MAX       256   /* longest credential accepted */
#define NGX_HTTP_ES_API_OWNER_MAX     128   /* "ID:SERIAL", at most 97 */


typedef struct ngx_http_es_api_zone_s  ngx_http_es_api_zone_t;


/* where a credential comes from */

typedef enum {
    NGX_HTTP_ES_API_SOURCE_BEARER = 0,
    NGX_HTTP_ES_API_SOURCE_HEADER,        /* the raw key */
    NGX_HTTP_ES_API_SOURCE_ID_HEADER      /* the key id credential */
} ngx_http_es_api_source_type_t;


typedef struct {
    ngx_http_es_api_source_type_t   type;
    ngx_str_t                       header;     /* lowercase */
    ngx_uint_t                      hash;
} ngx_http_es_api_source_t;


/* embed_session_api_key_deny COND STATUS CODE ["message"] */

typedef enum {
    NGX_HTTP_ES_API_COND_SCOPE = 0,
    NGX_HTTP_ES_API_COND_FLAG,
    NGX_HTTP_ES_API_COND_GRANT
} ngx_http_es_api_cond_type_t;


typedef struct {
    ngx_http_es_api_cond_type_t     type;
    ngx_uint_t                      negate;     /* "!scope=" */
    ngx_str_t                       value;
    ngx_uint_t                      status;
    ngx_str_t                       code;
    ngx_str_t                       message;
} ngx_http_es_api_deny_t;


/* the part of the location configuration that belongs to API keys */

typedef struct {
    ngx_http_es_api_zone_t         *zone;       /* NULL: off */
    ngx_array_t                    *sources;    /* ngx_http_es_api_source_t */
    ngx_flag_t                      no_bearer;
    ngx_array_t                    *denies;     /* ngx_http_es_api_deny_t */
    ngx_flag_t                      regenerate;
    ngx_flag_t                      revoke;
    ngx_flag_t                      strip;      /* the credential headers */
} ngx_http_es_api_conf_t;


/* an authenticated key, copied out of the zone into the request's pool */

typedef struct {
    ngx_str_t                       id;
    ngx_str_t                       owner;      /* STR_OWNER, below */
    ngx_str_t                       scope;
    ngx_str_t                       tenant;
    ngx_array_t                     resources;  /* ngx_str_t */
    ngx_array_t                     grants;     /* ngx_str_t */
    ngx_array_t                     origins;    /* ngx_str_t, normalised */
    ngx_array_t                     flags;      /* ngx_str_t */

    ngx_uint_t                      rate_limit;     /* 0: no limit */
    ngx_uint_t                      rate_remaining;
    time_t                          rate_reset;     /* Unix time */

    ngx_http_es_api_deny_t         *denied;     /* the rule that answered */
} ngx_http_es_api_key_t;


/*
 * Between the key store (apikeys.c) and the request code (auth.c).
 *
 * A record's strings, packed one after the other; lists are kept as their
 * comma-joined text (items cannot hold a comma), origins in normal form.
 * LOOKUP to FLAGS are in the order of the key file's fields key= to
 * flags= (keyfile.c).  OWNER is what ngx_http_es_owner() makes the owner
 * of the key's sessions from: "ID:SERIAL", or "ID" for a record without
 * serial= (the owner every record had before serials existed).
 */

#define NGX_HTTP_ES_API_RECORD_MAX    8192  /* all strings of one record */
#define NGX_HTTP_ES_API_HASH_LEN      32    /* SHA-256 */

typedef enum {
    NGX_HTTP_ES_API_STR_ID = 0,
    NGX_HTTP_ES_API_STR_LOOKUP,
    NGX_HTTP_ES_API_STR_ID_LOOKUP,          /* empty: no id_key */
    NGX_HTTP_ES_API_STR_SCOPE,
    NGX_HTTP_ES_API_STR_TENANT,
    NGX_HTTP_ES_API_STR_RESOURCES,
    NGX_HTTP_ES_API_STR_GRANTS,
    NGX_HTTP_ES_API_STR_ORIGINS,
    NGX_HTTP_ES_API_STR_FLAGS,
    NGX_HTTP_ES_API_STR_OWNER,
    NGX_HTTP_ES_API_NSTR
} ngx_http_es_api_str_e;


typedef struct {
    u_short                         off;
    u_short                         len;
} ngx_http_es_api_span_t;


/*
 * One question to the zone, answered under its mutex in one go: find the
 * record by LOOKUP, compare the hash, check status, expiry and the deny
 * rules, count the request against the rate, and copy the record out.
 */

typedef struct {
    ngx_uint_t                      id_credential;  /* an id_key one */
    ngx_str_t                       lookup;
    u_char                          hash[NGX_HTTP_ES_API_HASH_LEN];
    ngx_array_t                    *denies;
    time_t                          now;

    ngx_http_es_api_deny_t         *denied;
    ngx_uint_t                      rate_limit;
    ngx_uint_t                      rate_remaining;
    time_t                          rate_reset;

    ngx_http_es_api_span_t          str[NGX_HTTP_ES_API_NSTR];
    size_t                          len;
    u_char                          data[NGX_HTTP_ES_API_RECORD_MAX];
} ngx_http_es_api_query_t;


/* what regenerate and revoke change, file first, then the zone */

typedef struct {
    ngx_uint_t                      revoke;     /* else regenerate */
    ngx_str_t                       id;         /* the record changed */

    /* the caller's credential: it must still be valid at the change */
    ngx_uint_t                      id_credential;
    ngx_str_t                       lookup;
    u_char                          hash[NGX_HTTP_ES_API_HASH_LEN];

    /* regenerate: the new key (and id_key when the record has one) */
    ngx_str_t                       new_lookup;
    u_char                          new_hash[NGX_HTTP_ES_API_HASH_LEN];
    ngx_str_t                       new_id_lookup;
    u_char                          new_id_hash[NGX_HTTP_ES_API_HASH_LEN];

    /* out: the OWNER string of the record changed */
    ngx_str_t                       owner;
    u_char                          owner_data[NGX_HTTP_ES_API_OWNER_MAX];
} ngx_http_es_api_change_t;


/*
 * query(): a ngx_http_es_code_t: PASSED (0) with q's record copy, or
 * API_KEY_INVALID, API_KEY_REVOKED, API_KEY_EXPIRED, DENIED (q->denied),
 * RATE_LIMITED; the record is copied for all but API_KEY_INVALID.
 * change(): PASSED, API_KEY_INVALID (the caller's credential changed
 * meanwhile), VALIDATION_FAILED (no record with that ID), or NGX_ERROR
 * (the file could not be written, or its line would not load, or a
 * reload replaced the zone: logged; the file and the zone are unchanged).
 */
ngx_int_t ngx_http_es_api_query(ngx_http_es_api_zone_t *zone,
    ngx_http_es_api_query_t *q);
ngx_int_t ngx_http_es_api_change(ngx_http_request_t *r,
    ngx_http_es_api_zone_t *zone, ngx_http_es_api_change_t *ch);
ngx_http_es_api_deny_t *ngx_http_es_api_deny_match(ngx_array_t *denies,
    ngx_str_t *scope, ngx_str_t *flags, ngx_str_t *grants);
ngx_int_t ngx_http_es_api_next_item(u_char **pos, u_char *last,
    ngx_str_t *item);
ngx_int_t ngx_http_es_api_is_raw_key(u_char *p, size_t len);
ngx_http_es_api_zone_t *ngx_http_es_api_zone_get(ngx_conf_t *cf,
    ngx_str_t *name);
ngx_int_t ngx_http_es_api_zone_check(ngx_conf_t *cf,
    ngx_http_es_api_zone_t *zone, ngx_uint_t writes);


/*
 * A whole key file of at most max bytes (the API key file, or a verifier's
 * key file), read at configuration time with cf or for a request with r;
 * NGX_DECLINED, not logged, when it is larger.  Other errors are logged,
 * who ("" or "directive: ") before the message.  The file must be one
 * nginx may trust (keyfile.c, ngx_http_es_keyfile_open()): a regular
 * file, not a symbolic link, of a trusted owner and mode.
 */
ngx_int_t ngx_http_es_keyfile_read(ngx_conf_t *cf, ngx_http_request_t *r,
    const char *who, ngx_str_t *name, size_t max, ngx_str_t *buf,
    ngx_file_info_t *fi);


/* configuration */
char *ngx_http_es_api_keys_zone(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_es_api_key_zone(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_es_api_key_from(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_es_api_key_deny(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
void ngx_http_es_api_conf_init(ngx_http_es_api_conf_t *conf);
char *ngx_http_es_api_conf_merge(ngx_conf_t *cf, ngx_http_es_api_conf_t *prev,
    ngx_http_es_api_conf_t *conf);

/*
 * requests: authenticate() returns NGX_OK with *key set, a code of
 * ngx_http_es_code_t (API_KEY_*, BEARER_NOT_ALLOWED, RATE_LIMITED, or
 * DENIED with key->denied set; with these two *key is set too, for the
 * rate headers), or NGX_ERROR
 */
ngx_int_t ngx_http_es_api_authenticate(ngx_http_request_t *r,
    ngx_http_es_api_conf_t *conf, ngx_http_es_api_key_t **key);
ngx_int_t ngx_http_es_api_rate_headers(ngx_http_request_t *r,
    ngx_http_es_api_key_t *key, ngx_uint_t limited);

/*
 * the answer to authenticate()'s result: NGX_OK to go on, or what an
 * access handler returns (NGX_DONE once an error went out, or a status
 * that an error_page takes over); rate-limit headers either way
 */
ngx_int_t ngx_http_es_api_answer(ngx_http_request_t *r, ngx_int_t rc,
    ngx_http_es_api_key_t *key);

/* the access phase guard and the key management content handlers */
ngx_int_t ngx_http_es_api_access_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_es_api_content_auth(ngx_http_request_t *r,
    ngx_http_es_api_conf_t *conf);
ngx_int_t ngx_http_es_api_regenerate_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_es_api_revoke_handler(ngx_http_request_t *r);
void ngx_http_es_api_end_revoked(ngx_cycle_t *cycle);

/* the master, once a cycle is committed: zones a reload resized */
ngx_int_t ngx_http_es_api_init_module(ngx_cycle_t *cycle);


#endif /* _NGX_HTTP_EMBED_SESSION_APIKEY_H_INCLUDED_ */
