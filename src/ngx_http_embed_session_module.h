
/*
 * Copyright (C) The ngx_http_embed_session_module authors
 */


#ifndef _NGX_HTTP_EMBED_SESSION_MODULE_H_INCLUDED_
#define _NGX_HTTP_EMBED_SESSION_MODULE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_embed_session_jws.h"
#include "ngx_http_embed_session_json.h"


#define NGX_HTTP_ES_KEY_FILE_MAX      (1024 * 1024)
#define NGX_HTTP_ES_CACHE_TOKEN_MAX   2048
#define NGX_HTTP_ES_RENEW_TYPE        "embed-renew+jwt"
#define NGX_HTTP_ES_LOG_TEXT_MAX      256   /* of a client's string, logged */

#define NGX_HTTP_ES_ORIGIN_ABSENT_DENY   0
#define NGX_HTTP_ES_ORIGIN_ABSENT_ALLOW  1

#define NGX_HTTP_ES_ERROR_FLAT        0
#define NGX_HTTP_ES_ERROR_NESTED      1

#define NGX_HTTP_ES_FRAME_OFF         0
#define NGX_HTTP_ES_FRAME_REPLACE     1
#define NGX_HTTP_ES_FRAME_MERGE       2

/* what a token source reads: $http_NAME, $cookie_NAME, $arg_NAME, ... */

#define NGX_HTTP_ES_SOURCE_OTHER      0
#define NGX_HTTP_ES_SOURCE_HEADER     1
#define NGX_HTTP_ES_SOURCE_COOKIE     2
#define NGX_HTTP_ES_SOURCE_ARG        3
#define NGX_HTTP_ES_SOURCE_BEARER     4


/* error codes: an index into ngx_http_es_errors[] */

typedef enum {
    NGX_HTTP_ES_PASSED = 0,
    NGX_HTTP_ES_SESSION_REQUIRED,
    NGX_HTTP_ES_SESSION_INVALID,
    NGX_HTTP_ES_SESSION_EXPIRED,
    NGX_HTTP_ES_ORIGIN_NOT_ALLOWED,
    NGX_HTTP_ES_SCOPE_NOT_GRANTED,
    NGX_HTTP_ES_API_KEY_REQUIRED,
    NGX_HTTP_ES_API_KEY_INVALID,
    NGX_HTTP_ES_API_KEY_REVOKED,
    NGX_HTTP_ES_API_KEY_EXPIRED,
    NGX_HTTP_ES_BEARER_NOT_ALLOWED,
    NGX_HTTP_ES_RATE_LIMITED,
    NGX_HTTP_ES_INVALID_JSON,
    NGX_HTTP_ES_VALIDATION_FAILED,
    NGX_HTTP_ES_BODY_TOO_LARGE,
    NGX_HTTP_ES_METHOD_NOT_ALLOWED,
    NGX_HTTP_ES_MINT_FAILED,
    NGX_HTTP_ES_KEY_STORE_FAILED,
    NGX_HTTP_ES_SESSION_REVOKED,
    NGX_HTTP_ES_SESSION_NOT_FOUND,
    NGX_HTTP_ES_RENEW_TOKEN_REUSED,
    NGX_HTTP_ES_EXCHANGE_NOT_FOUND,
    NGX_HTTP_ES_EXCHANGE_USED,
    NGX_HTTP_ES_EXCHANGE_EXPIRED,
    NGX_HTTP_ES_STORE_FULL,
    NGX_HTTP_ES_SESSION_QUOTA,      /* per_key= of the store zone */
    NGX_HTTP_ES_FETCH_NOT_ALLOWED,
    NGX_HTTP_ES_PREFLIGHT_REFUSED,
    NGX_HTTP_ES_DENIED,             /* by embed_session_api_key_deny */
    NGX_HTTP_ES_STORE_UNAVAILABLE,  /* backend= cannot be reached */
    NGX_HTTP_ES_NCODES
} ngx_http_es_code_t;


/*
 * The counters of a named Redis server (embed_session_redis), in the
 * status zone: every worker adds to them, and a server keeps its slot,
 * found by name, across reloads.  Slots are never given back: a master
 * counts at most NGX_HTTP_ES_REDIS_SLOTS names in its life.
 */

#define NGX_HTTP_ES_REDIS_SLOTS       32
#define NGX_HTTP_ES_REDIS_NAME_MAX    64

typedef struct {
    ngx_atomic_t                connects;   /* made and answering PING */
    ngx_atomic_t                failures;   /* attempts that never got up */
    ngx_atomic_t                commands;   /* written, handshake included */
    ngx_atomic_t                timeouts;
    ngx_atomic_t                protocol_errors;
    ngx_atomic_t                up;         /* the last state: 1 up, 0 down */
    ngx_atomic_t                len;        /* of name; 0: a free slot */
    u_char                      name[NGX_HTTP_ES_REDIS_NAME_MAX];
} ngx_http_es_redis_stats_t;


/* what the status location reports: counters in a shared zone */

typedef struct {
    ngx_atomic_t                mints;
    ngx_atomic_t                verifications;
    ngx_atomic_t                refreshes;
    ngx_atomic_t                reuses;
    ngx_atomic_t                revocations;
    ngx_atomic_t                exchanges;
    ngx_atomic_t                rejections[NGX_HTTP_ES_NCODES];
    ngx_http_es_redis_stats_t   redis[NGX_HTTP_ES_REDIS_SLOTS];
} ngx_http_es_metrics_t;


extern ngx_http_es_metrics_t  *ngx_http_es_metrics;

#define ngx_http_es_count(name)                                              \
    do {                                                                     \
        if (ngx_http_es_metrics) {                                           \
            (void) ngx_atomic_fetch_add(&ngx_http_es_metrics->name, 1);      \
        }                                                                    \
    } while (0)


/* one problem found in a request body: "allowedOrigins[2]", "not an origin" */

typedef struct {
    ngx_str_t                   path;
    ngx_str_t                   message;
} ngx_http_es_detail_t;


typedef struct {
    ngx_array_t                 keys;       /* ngx_http_es_jws_key_t * */
} ngx_http_es_keyset_t;


typedef struct {
    ngx_str_t                   claim;
    ngx_http_complex_value_t    value;
} ngx_http_es_require_t;


/*
 * API keys: the part of the location configuration that is theirs, its
 * deny rules, and the key a request authenticated with (the context's);
 * the rest is ngx_http_embed_session_apikey.h's
 */

typedef struct ngx_http_es_api_zone_s  ngx_http_es_api_zone_t;


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


/* an authenticated key, copied out of the zone into the request's pool */

typedef struct {
    ngx_str_t                       id;
    ngx_str_t                       owner;      /* "ID:SERIAL", or "ID" */
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


typedef struct {
    ngx_http_es_api_zone_t     *zone;       /* NULL: off */
    ngx_array_t                *sources;    /* ngx_http_es_api_source_t */
    ngx_flag_t                  no_bearer;
    ngx_array_t                *denies;     /* ngx_http_es_api_deny_t */
    ngx_flag_t                  regenerate;
    ngx_flag_t                  revoke;
    ngx_flag_t                  strip;      /* the credential headers */
} ngx_http_es_api_conf_t;


/* embed_session_error_code CODE STATUS NEWCODE ["message"] */

typedef struct {
    ngx_http_es_code_t          code;
    ngx_uint_t                  status;
    ngx_str_t                   name;
    ngx_str_t                   message;
} ngx_http_es_error_code_t;


/*
 * embed_session_mint and the directives of its location: the request
 * body's schema, the token, the answer (src/ngx_http_embed_session_mint.h
 * holds the types of the lists)
 */

#define NGX_HTTP_ES_MINT_ORIGINS_OFF      0
#define NGX_HTTP_ES_MINT_ORIGINS_BODY     1
#define NGX_HTTP_ES_MINT_ORIGINS_REQUEST  2

typedef struct ngx_http_es_out_node_s  ngx_http_es_out_node_t;

typedef struct {
    ngx_flag_t                  enable;     /* 1 after merge: this mints */
    ngx_array_t                 fields;     /* ngx_http_es_field_t */
    ngx_str_t                   kid;
    ngx_http_es_jws_key_t      *key;
    ngx_str_t                   header;     /* the JOSE header, JSON */
    size_t                      body_max;
    ngx_uint_t                  unknown_reject;
    time_t                      ttl;
    time_t                      ttl_max;
    ngx_array_t                *ttl_ifs;    /* ngx_http_es_ttl_if_t */
    ngx_uint_t                  origins;
    ngx_int_t                   origins_field;
    ngx_int_t                   ttl_field;
    ngx_array_t                *claims;     /* ngx_http_es_mint_claim_t */
    ngx_int_t                   status;
    ngx_array_t                *outputs;    /* ngx_http_es_output_t */
    ngx_http_es_out_node_t     *out_root;
    ngx_array_t                *knowns;     /* ngx_http_es_known_t */

    time_t                      lifetime;   /* absolute, of a session */
    time_t                      ticket;     /* a one-time ticket's TTL */
    ngx_str_t                   renew_header;
    unsigned                    renew:1;    /* a renew_token output */
    unsigned                    lifecycle:1;    /* refresh, exchange */
} ngx_http_es_mint_conf_t;


typedef struct {
    ngx_uint_t                  kind;
    ngx_str_t                   name;       /* lowercase */
} ngx_http_es_source_t;


/* a list directive: values, and the same as one header value "A, B" */

#define NGX_HTTP_ES_LIST_ABSENT       0x01  /* "absent": no header is fine */
#define NGX_HTTP_ES_LIST_ANY          0x02  /* "any" well-formed origin */

/* what a list holds: the post field of its directive */

#define NGX_HTTP_ES_LIST_DEST         1     /* Sec-Fetch-Dest values */
#define NGX_HTTP_ES_LIST_SITE         2     /* Sec-Fetch-Site values */
#define NGX_HTTP_ES_LIST_ORIGINS      3
#define NGX_HTTP_ES_LIST_METHODS      4
#define NGX_HTTP_ES_LIST_HEADERS      5
#define NGX_HTTP_ES_LIST_EXPOSE       6

typedef struct {
    ngx_array_t                *values;     /* ngx_str_t; NULL: off */
    ngx_str_t                   text;
    ngx_uint_t                  flags;
} ngx_http_es_list_t;


/* embed_session_claim_header NAME CLAIM */

typedef struct {
    ngx_str_t                   name;
    ngx_str_t                   lowcase;
    ngx_uint_t                  hash;
    ngx_str_t                   claim;
} ngx_http_es_claim_header_t;


#define NGX_HTTP_ES_REFRESH_RENEW     1
#define NGX_HTTP_ES_REFRESH_SESSION   2
#define NGX_HTTP_ES_REVOKE            3
#define NGX_HTTP_ES_EXCHANGE          4


/* embed_session_refresh, embed_session_revoke, embed_session_exchange */

typedef struct {
    ngx_uint_t                  mode;
    ngx_str_t                   member;     /* of the JSON body */
    ngx_http_complex_value_t   *id;         /* revoke id= */
    ngx_str_t                   admin;      /* revoke admin= scope */
    time_t                      grace;
    time_t                      ttl;        /* from the mint directives */
    time_t                      lifetime;
} ngx_http_es_life_conf_t;


typedef struct {
    ngx_array_t                *default_sources;
    ngx_array_t                *default_kinds;  /* ngx_http_es_source_t */
    ngx_flag_t                  verify;     /* some location verifies */
    ngx_uint_t                  cache;      /* entries, 0: off */
    ngx_flag_t                  api;        /* some API key zone exists */
    ngx_array_t                *stores;     /* ngx_http_es_store_t * */
    time_t                      leeway;     /* the largest of any level */
    ngx_shm_zone_t             *metrics;    /* embed_session_status */
    ngx_flag_t                  browser;    /* framing, fetch or CORS */
    ngx_flag_t                  exchange;   /* some URL-token exchange */
    ngx_array_t                *token_args; /* of every level: ngx_str_t */
    ngx_array_t                *redis;      /* ngx_http_es_redis_t *; redis.h */
} ngx_http_es_main_conf_t;


/* a token whose signature verified, and what the later checks need */

typedef struct {
    ngx_http_es_jws_claims_t   *claims;
    ngx_http_es_jws_times_t     times;
    size_t                      kid_len;
    size_t                      typ_len;
    unsigned                    has_typ:1;
    u_char                      kid[NGX_HTTP_ES_JWS_MAX_KID];
    u_char                      typ[NGX_HTTP_ES_JWS_MAX_TYP];
} ngx_http_es_token_t;


/*
 * A token under verification: what the checks found, kept apart from the
 * request's context until every check passed (ngx_http_es_publish)
 */

typedef struct {
    ngx_http_es_token_t         token;      /* holds a claims reference */
    ngx_str_t                   origin;     /* the request origin matched */
    const char                 *reason;     /* why it failed */
    unsigned                    feed:1;     /* the feed may change that */
} ngx_http_es_candidate_t;


typedef struct {
    ngx_flag_t                  verify;

    ngx_array_t                *sources;    /* ngx_http_complex_value_t */
    ngx_array_t                *source_kinds;   /* ngx_http_es_source_t */
    ngx_array_t                *token_args; /* ngx_str_t, from $arg_NAME */
    ngx_http_es_keyset_t       *keyset;

    time_t                      leeway;
    time_t                      max_lifetime;

    ngx_str_t                   issuer;
    ngx_str_t                   audience;
    ngx_str_t                   type;       /* empty: "off" */

    ngx_flag_t                  origin;
    ngx_flag_t                  origin_referer;
    ngx_uint_t                  origin_absent;
    ngx_str_t                   origin_claim;

    ngx_array_t                *requires;   /* ngx_http_es_require_t */

    ngx_uint_t                  error_format;
    ngx_array_t                *error_codes;    /* ngx_http_es_error_code_t */
    ngx_str_t                   error_details;  /* empty: "off" */

    ngx_http_es_api_conf_t      api;
    ngx_http_es_mint_conf_t     mint;       /* .enable: a mint location */
    struct ngx_http_es_store_s *store;      /* NULL: off; store.h */
    ngx_http_es_life_conf_t    *life;       /* NULL: none here */
    char                       *allow;      /* methods, for 405 */

    /* browsers: framing, fetch metadata, CORS, the browser channel */
    ngx_uint_t                  frame_ancestors;
    ngx_http_es_list_t          fetch_dest;
    ngx_http_es_list_t          fetch_site;
    ngx_http_es_list_t          cors;       /* normalized origins */
    ngx_http_es_list_t          cors_methods;
    ngx_http_es_list_t          cors_headers;   /* values in lowercase */
    ngx_http_es_list_t          cors_expose;
    ngx_flag_t                  cors_credentials;
    time_t                      cors_max_age;
    ngx_flag_t                  browser_channel;

    /* what goes upstream: URL tokens, claim headers, the token itself */
    ngx_str_t                   cookie_name;
    ngx_str_t                   cookie_attrs;
    ngx_flag_t                  url_exchange;
    ngx_array_t                *claim_headers;  /* ngx_http_es_claim_header_t */
    ngx_flag_t                  strip_token;
} ngx_http_es_loc_conf_t;


/* per request; kept across internal redirects through a pool cleanup */

typedef struct {
    ngx_http_es_jws_claims_t   *claims;     /* set once all checks passed */
    ngx_str_t                   kid;
    ngx_str_t                   origin;
    ngx_http_es_code_t          code;
    const char                 *reason;
    ngx_str_t                   error;      /* the code answered with */

    ngx_http_es_api_key_t      *api_key;    /* authenticated API key */
    ngx_str_t                   minted;     /* the token a mint returned */
    ngx_str_t                   minted_jti;
    ngx_str_t                   minted_sid;
    ngx_str_t                   renew;      /* the renew token minted */
    time_t                      minted_exp;

    ngx_str_t                   token;      /* stripped from the request */
    ngx_str_t                   exchange;   /* a URL token to trade */
    ngx_msec_t                  feed_until; /* verification waits till */
    unsigned                    feed_wait:1;
    unsigned                    answered:1; /* the module's error went out */
} ngx_http_es_ctx_t;


/* the hub, module.c: configuration helpers */
void *ngx_http_es_conf_push(ngx_conf_t *cf, ngx_array_t **a, size_t size);
ngx_int_t ngx_http_es_conf_status(ngx_conf_t *cf, ngx_str_t *value);
ngx_int_t ngx_http_es_workers(ngx_cycle_t *cycle, ngx_uid_t *uid,
    ngx_gid_t *gid);
ngx_uint_t ngx_http_es_writable(ngx_file_info_t *fi, ngx_uid_t uid,
    ngx_gid_t gid);
ngx_int_t ngx_http_es_phase_handler(ngx_conf_t *cf, ngx_http_phases phase,
    ngx_http_handler_pt handler, ngx_uint_t front);

ngx_int_t ngx_http_es_unhex(u_char *dst, u_char *src, size_t n);

/* the request's context */
ngx_http_es_ctx_t *ngx_http_es_get_ctx(ngx_http_request_t *r,
    ngx_uint_t create);
void ngx_http_es_ctx_clear(ngx_http_es_ctx_t *ctx);
void ngx_http_es_ctx_refuse(ngx_http_es_ctx_t *ctx, ngx_http_es_code_t code);

/* requests */
typedef ngx_uint_t (*ngx_http_es_header_drop_pt)(ngx_http_request_t *r,
    ngx_table_elt_t *h, void *data);

ngx_int_t ngx_http_es_headers_drop(ngx_http_request_t *r,
    ngx_http_es_header_drop_pt drop, void *data, ngx_uint_t room);


extern ngx_module_t  ngx_http_embed_session_module;


#endif /* _NGX_HTTP_EMBED_SESSION_MODULE_H_INCLUDED_ */
