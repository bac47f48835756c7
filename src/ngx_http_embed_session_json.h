
/*
 * Copyright (C) The ngx_http_embed_session_module authors
 *
 * JSON documents for request and response bodies: the codec's other half.
 * Like the JWS codec it includes no nginx header, and with it it is the
 * only code that sees jansson types; the rest of the module holds a
 * document through the opaque ngx_http_es_json_t.
 */


#ifndef _NGX_HTTP_EMBED_SESSION_JSON_H_INCLUDED_
#define _NGX_HTTP_EMBED_SESSION_JSON_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>


/* a scalar in an array in an object is at depth 3 */
#define NGX_HTTP_ES_JSON_MAX_DEPTH    16
#define NGX_HTTP_ES_JSON_MAX_MEMBERS  1024   /* members and items in all */


typedef enum {
    NGX_HTTP_ES_JSON_OBJECT = 0,
    NGX_HTTP_ES_JSON_ARRAY,
    NGX_HTTP_ES_JSON_STRING,
    NGX_HTTP_ES_JSON_INTEGER,
    NGX_HTTP_ES_JSON_REAL,
    NGX_HTTP_ES_JSON_BOOLEAN,
    NGX_HTTP_ES_JSON_NULL
} ngx_http_es_json_type_t;


typedef struct ngx_http_es_json_s  ngx_http_es_json_t;


/*
 * parse(): one JSON value from buf, nothing after it but white space.
 * Rejected: invalid JSON or UTF-8, NUL in strings, duplicate member names,
 * nesting deeper than MAX_DEPTH, more than MAX_MEMBERS in all.  get() and
 * set() take names of up to 255 bytes, without NUL.
 * Returns NULL with a message in err ("line 1, column 7: ...").
 */
ngx_http_es_json_t *ngx_http_es_json_parse(const unsigned char *buf,
    size_t len, char *err, size_t err_len);

/*
 * limits(): 1 when json nests no deeper than max_depth (json itself is at
 * depth) and holds at most max_members members and elements in all
 */
int ngx_http_es_json_limits(const ngx_http_es_json_t *json, int depth,
    int max_depth, size_t max_members, size_t *members);

/* reference counting; free(NULL) is allowed */
ngx_http_es_json_t *ngx_http_es_json_ref(ngx_http_es_json_t *json);
void ngx_http_es_json_free(ngx_http_es_json_t *json);

/* reading: every accessor returns borrowed references or copies */
ngx_http_es_json_type_t ngx_http_es_json_type(const ngx_http_es_json_t *json);
ngx_http_es_json_t *ngx_http_es_json_get(const ngx_http_es_json_t *object,
    const unsigned char *name, size_t len);
size_t ngx_http_es_json_size(const ngx_http_es_json_t *json);
ngx_http_es_json_t *ngx_http_es_json_at(const ngx_http_es_json_t *array,
    size_t i);
const unsigned char *ngx_http_es_json_string(const ngx_http_es_json_t *json,
    size_t *len);
int64_t ngx_http_es_json_integer(const ngx_http_es_json_t *json);
int ngx_http_es_json_true(const ngx_http_es_json_t *json);

/* the members of an object, in document order */
void *ngx_http_es_json_iter(const ngx_http_es_json_t *object);
void *ngx_http_es_json_iter_next(const ngx_http_es_json_t *object,
    void *iter);
const unsigned char *ngx_http_es_json_iter_key(void *iter, size_t *len);
ngx_http_es_json_t *ngx_http_es_json_iter_value(void *iter);

/* building: new values have one reference, set and append take it over */
ngx_http_es_json_t *ngx_http_es_json_object(void);
ngx_http_es_json_t *ngx_http_es_json_array(void);
ngx_http_es_json_t *ngx_http_es_json_new_string(const unsigned char *s,
    size_t len);                                    /* NULL: not UTF-8 */
/* for text the module made itself: printable ASCII, not checked again */
ngx_http_es_json_t *ngx_http_es_json_new_ascii(const unsigned char *s,
    size_t len);
ngx_http_es_json_t *ngx_http_es_json_new_integer(int64_t value);
ngx_http_es_json_t *ngx_http_es_json_new_boolean(int value);

/*
 * set(): a dotted path ("data.sessionToken") creates the objects on the
 * way; returns 0, or -1 for an invalid path (an empty part, a part of 256
 * bytes or more, NUL), a part of the path that is not an object, or memory
 * failure; value is released then as well.  An invalid path changes
 * nothing; a memory failure may leave empty objects on the way.
 */
int ngx_http_es_json_set(ngx_http_es_json_t *object,
    const unsigned char *path, size_t len, ngx_http_es_json_t *value);
/*
 * update(): the members of the object from, in its order, set in object
 * by their names as they are (no dotted path); 0, or -1
 */
int ngx_http_es_json_update(ngx_http_es_json_t *object,
    const ngx_http_es_json_t *from);
int ngx_http_es_json_append(ngx_http_es_json_t *array,
    ngx_http_es_json_t *value);

/*
 * compact serialization, members in the order they were added; returns the
 * length, and writes it to buf only if size is enough; 0 on failure
 */
size_t ngx_http_es_json_dump(const ngx_http_es_json_t *json,
    unsigned char *buf, size_t size);

/*
 * a JSON string literal for s, quotes included; dst as for dump(); 0 when
 * s is not well-formed UTF-8
 */
size_t ngx_http_es_json_quote(const unsigned char *s, size_t len,
    unsigned char *dst, size_t size);
int ngx_http_es_json_utf8(const unsigned char *s, size_t len);

/*
 * printable(): s as a log line may show it, for what a client sent:
 * printable ASCII as it is, every other byte, '"' and '\\' as "\xNN", so
 * that nothing ends a line or a quoted value; into dst at most size - 1
 * bytes and a NUL, an escape never cut, "..." in place of what did not
 * fit.  Returns the length written, without the NUL.
 */
size_t ngx_http_es_json_printable(unsigned char *dst, size_t size,
    const unsigned char *s, size_t len);


#endif /* _NGX_HTTP_EMBED_SESSION_JSON_H_INCLUDED_ */
