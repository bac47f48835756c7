
/*
 * Copyright (C) The ngx_http_embed_session_module authors
 *
 * The mint family: the content handler that answers with a signed session
 * token (mint.c), the request body's schema, embed_session_field
 * (schema.c), the known values of embed_session_field_known (known.c), and
 * the mint directives with their merge (mint_conf.c).  Their internal
 * types and the prototypes they share; ngx_http_es_mint_conf_t itself is
 * in the location configuration (module.h).
 */


#ifndef _NGX_HTTP_EMBED_SESSION_MINT_H_INCLUDED_
#define _NGX_HTTP_EMBED_SESSION_MINT_H_INCLUDED_


#include "ngx_http_embed_session_module.h"


#define NGX_HTTP_ES_MINT_DETAILS_MAX  32
#define NGX_HTTP_ES_MINT_BODY_MAX     (16 * 1024)


typedef enum {
    NGX_HTTP_ES_FIELD_STRING = 0,
    NGX_HTTP_ES_FIELD_INTEGER,
    NGX_HTTP_ES_FIELD_NUMBER,
    NGX_HTTP_ES_FIELD_BOOLEAN,
    NGX_HTTP_ES_FIELD_OBJECT,
    NGX_HTTP_ES_FIELD_ARRAY,
    NGX_HTTP_ES_FIELD_STRINGS,
    NGX_HTTP_ES_FIELD_ORIGINS
} ngx_http_es_field_type_t;


typedef struct {
    ngx_str_t                   path;       /* "tenant.externalId" */
    ngx_str_t                   name;       /* "externalId" */
    ngx_int_t                   parent;     /* index, -1: the root */
    ngx_http_es_field_type_t    type;

    ngx_int_t                   min;
    ngx_int_t                   max;
    ngx_array_t                *enums;      /* ngx_str_t */
#if (NGX_PCRE)
    ngx_regex_t                *pattern;
#else
    void                       *pattern;    /* NULL: pattern= needs PCRE */
#endif
    ngx_uint_t                  format;
    ngx_str_t                   deflt;
    ngx_str_t                   claim;

    ngx_str_t                   required_if;        /* PATH:VALUE */
    ngx_int_t                   required_if_field;
    ngx_str_t                   required_if_value;
    ngx_str_t                   excludes;
    ngx_int_t                   excludes_field;

    unsigned                    required:1;
    unsigned                    nullable:1;
    unsigned                    has_min:1;
    unsigned                    has_max:1;
    unsigned                    has_default:1;
    unsigned                    has_children:1;
    unsigned                    ttl:1;
    unsigned                    resource:1;
    unsigned                    pattern_end:1;
    unsigned                    stringified:1;
} ngx_http_es_field_t;


typedef struct {
    ngx_int_t                   field;
    ngx_str_t                   value;
    time_t                      ttl;
} ngx_http_es_ttl_if_t;


typedef struct {
    ngx_str_t                   name;
    ngx_http_complex_value_t    value;
} ngx_http_es_mint_claim_t;


typedef enum {
    NGX_HTTP_ES_OUT_TOKEN = 0,
    NGX_HTTP_ES_OUT_EXPIRES_AT,
    NGX_HTTP_ES_OUT_EXPIRES_IN,
    NGX_HTTP_ES_OUT_SESSION_ID,
    NGX_HTTP_ES_OUT_ORIGINS,
    NGX_HTTP_ES_OUT_FIELD,
    NGX_HTTP_ES_OUT_VALUE,
    NGX_HTTP_ES_OUT_RENEW_TOKEN
} ngx_http_es_out_type_t;


/*
 * One embed_session_mint_output line.  Lines of the same path make one
 * member: the first whose condition holds (and whose value is present)
 * answers, in the slot of the group's first line.
 */

typedef struct {
    ngx_str_t                   path;
    ngx_http_es_out_type_t      type;
    ngx_str_t                   field_path;
    ngx_int_t                   field;
    ngx_http_complex_value_t   *value;
    ngx_str_t                   cond;       /* "if=PATH:VALUE", empty: none */
    ngx_str_t                   cond_path;
    ngx_str_t                   cond_value;
    ngx_int_t                   cond_field; /* if=: a field, -1: if_claim= */
    ngx_uint_t                  group;      /* the first line of its path */
} ngx_http_es_output_t;


/*
 * embed_session_field_known PATH file=FILE|values=A|B [per=VALUE]
 * STATUS CODE ["message"]: the known values, sorted; with per= each is
 * "OWNER\nVALUE"
 */

typedef struct {
    ngx_str_t                   value;
    ngx_uint_t                  line;
} ngx_http_es_known_value_t;


typedef struct {
    ngx_str_t                   path;
    ngx_int_t                   field;
    ngx_str_t                   source;     /* the file, or "values=" */
    ngx_array_t                 values;     /* ngx_http_es_known_value_t */
    ngx_http_complex_value_t   *per;
    ngx_http_es_api_deny_t      deny;       /* status, code, message */
} ngx_http_es_known_t;


struct ngx_http_es_out_node_s {
    ngx_str_t                   key;        /* "\"name\":", empty: root */
    ngx_str_t                   name;
    ngx_int_t                   output;     /* index, -1: an object */
    ngx_array_t                 children;   /* ngx_http_es_out_node_t */
};


/* what one mint request collects on its way */

typedef struct {
    ngx_http_request_t         *request;
    ngx_http_es_mint_conf_t    *mcf;
    ngx_http_es_api_key_t      *key;
    ngx_http_es_json_t         *root;
    ngx_http_es_json_t         *owned;      /* an array keeping made values */
    ngx_http_es_json_t        **values;     /* per field, NULL: absent */
    ngx_str_t                  *claims;     /* per embed_session_mint_claim */
    ngx_array_t                 details;    /* ngx_http_es_detail_t */
    ngx_array_t                 origins;    /* ngx_str_t */
    ngx_uint_t                  scope_denied;
    time_t                      ttl;
} ngx_http_es_mint_t;


/* the handler and the answer: mint.c */
ngx_int_t ngx_http_es_mint_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_es_mint_signed(ngx_http_request_t *r,
    ngx_http_es_mint_conf_t *mcf, ngx_uint_t renew, u_char *payload,
    size_t len, ngx_str_t *out);
ngx_int_t ngx_http_es_mint_answer(ngx_http_request_t *r,
    ngx_http_es_mint_conf_t *mcf, time_t ttl);

/* the schema: schema.c */
char *ngx_http_es_mint_field_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_es_mint_validate(ngx_http_es_mint_t *m);
ngx_int_t ngx_http_es_mint_detail(ngx_http_es_mint_t *m, ngx_str_t *path,
    char *fmt, ...);
ngx_int_t ngx_http_es_mint_value_is(ngx_http_es_json_t *v, ngx_str_t *s);
ngx_http_es_json_t *ngx_http_es_mint_strings(ngx_array_t *a);
ngx_http_es_json_t *ngx_http_es_mint_text(ngx_str_t *s);
ngx_int_t ngx_http_es_str_in(ngx_array_t *a, ngx_str_t *s);
ngx_int_t ngx_http_es_mint_field_index(ngx_http_es_mint_conf_t *mcf,
    ngx_str_t *path);

/* the known values: known.c */
char *ngx_http_es_mint_known_directive(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_es_mint_known(ngx_http_es_mint_t *m);

/* the directives and their merge: mint_conf.c */
void ngx_http_es_mint_conf_init(ngx_http_es_mint_conf_t *mcf);
char *ngx_http_es_mint(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
char *ngx_http_es_mint_ttl(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
char *ngx_http_es_mint_ttl_if(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_es_mint_claim(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
char *ngx_http_es_mint_output(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_es_mint_lifecycle(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_es_mint_merge(ngx_conf_t *cf, ngx_http_es_loc_conf_t *elcf);


/* the names of the field types; the posts of the mint directives' slots */
extern ngx_str_t                ngx_http_es_field_types[];  /* by type */
extern ngx_conf_post_t          ngx_http_es_mint_status_post;
extern ngx_conf_num_bounds_t    ngx_http_es_mint_body_max_bounds;
extern ngx_conf_num_bounds_t    ngx_http_es_mint_time_bounds;
extern ngx_conf_enum_t          ngx_http_es_mint_unknown_modes[];
extern ngx_conf_enum_t          ngx_http_es_mint_origins_modes[];


#endif /* _NGX_HTTP_EMBED_SESSION_MINT_H_INCLUDED_ */
