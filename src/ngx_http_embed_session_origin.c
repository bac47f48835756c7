
/*
 * Copyright (C) The ngx_http_embed_session_module authors
 *
 * Origins: "scheme://host[:port]" in one normal form, so that the request's
 * origin and a token's allowed origins are compared byte for byte.  No
 * prefix, suffix or wildcard matching ever happens.
 */


#include "ngx_http_embed_session_module.h"
#include "ngx_http_embed_session_origin.h"


/* host name bytes, lowercased; 0: not allowed in a host name */

static const u_char  ngx_http_es_host_chars[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, '-', '.', 0,
    '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 0, 0, 0, 0, 0, 0,
    0, 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n',
    'o', 'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', 0, 0, 0, 0,
    '_',
    0, 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n',
    'o', 'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', 0, 0, 0, 0, 0
};


/*
 * Normal form: lowercase scheme ("http" or "https") and host, the port only
 * when it is not the scheme's default.  Rejected: other schemes, "null",
 * userinfo, empty or dotted-out hosts ("a..b", ".a", "a."), characters
 * outside a host name, ports with leading zeros or out of range, and
 * anything after the authority (unless referer is set: a Referer's path,
 * query and fragment are cut off).  dst must hold len bytes.
 */

ngx_int_t
ngx_http_es_origin_normalize(u_char *dst, size_t *dst_len, u_char *src,
    size_t len, ngx_uint_t referer)
{
    u_char      c, *p, *q, *last, *d;
    ngx_int_t   n;
    ngx_uint_t  dot, default_port;

    p = src;
    last = src + len;
    d = dst;

    if (len > 7 && ngx_strncasecmp(p, (u_char *) "http://", 7) == 0) {
        d = ngx_cpymem(d, "http://", 7);
        p += 7;
        default_port = 80;

    } else if (len > 8 && ngx_strncasecmp(p, (u_char *) "https://", 8) == 0) {
        d = ngx_cpymem(d, "https://", 8);
        p += 8;
        default_port = 443;

    } else {
        return NGX_DECLINED;
    }

    if (referer) {
        for (q = p; q < last; q++) {
            if (*q == '/' || *q == '?' || *q == '#') {
                last = q;
                break;
            }
        }
    }

    if (p == last) {
        return NGX_DECLINED;
    }

    if (*p == '[') {

        /* an IPv6 literal */

        *d++ = *p++;
        q = p;

        while (p < last && *p != ']') {
            c = ngx_tolower(*p);

            if ((c < '0' || c > '9') && (c < 'a' || c > 'f')
                && c != ':' && c != '.')
            {
                return NGX_DECLINED;
            }

            *d++ = c;
            p++;
        }

        if (p == last || p == q) {
            return NGX_DECLINED;
        }

        *d++ = *p++;

    } else {
        dot = 1;

        while (p < last && *p != ':') {
            c = ngx_http_es_host_chars[*p++];

            if (c == '.') {
                if (dot) {
                    return NGX_DECLINED;
                }

                dot = 1;

            } else if (c) {
                dot = 0;

            } else {
                /* userinfo, percent-encoding, wildcards, paths, spaces */
                return NGX_DECLINED;
            }

            *d++ = c;
        }

        /* an empty host or a trailing dot */

        if (dot) {
            return NGX_DECLINED;
        }
    }

    if (p < last) {
        if (*p++ != ':' || p == last || *p == '0' || last - p > 5) {
            return NGX_DECLINED;
        }

        n = ngx_atoi(p, last - p);

        if (n < 1 || n > 65535) {
            return NGX_DECLINED;
        }

        if ((ngx_uint_t) n != default_port) {
            *d++ = ':';
            d = ngx_cpymem(d, p, last - p);
        }
    }

    *dst_len = d - dst;

    return NGX_OK;
}


/*
 * The request's origin: the Origin header, or, when allowed and there is
 * no Origin, the origin of the Referer.  NGX_DECLINED: neither is present;
 * NGX_ERROR: present but not usable (several headers, malformed, "null").
 */

ngx_int_t
ngx_http_es_origin_get(ngx_http_request_t *r, ngx_flag_t referer,
    ngx_str_t *origin)
{
    ngx_int_t   rc;
    ngx_str_t   value;
    ngx_uint_t  from_referer;

    static ngx_str_t  origin_name = ngx_string("origin");
    static ngx_str_t  referer_name = ngx_string("referer");

    from_referer = 0;

    rc = ngx_http_es_header_in(r, &origin_name, &value);

    if (rc == NGX_DECLINED && referer) {
        rc = ngx_http_es_header_in(r, &referer_name, &value);
        from_referer = 1;
    }

    if (rc != NGX_OK) {
        return rc;
    }

    origin->data = ngx_pnalloc(r->pool, value.len);
    if (origin->data == NULL) {
        return NGX_ERROR;
    }

    if (ngx_http_es_origin_normalize(origin->data, &origin->len, value.data,
                                     value.len, from_referer)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * Exactly one header of this name (given in lowercase): a second one is
 * never chosen between.  nginx has hashed every header's lowercase name
 * while parsing it.
 */

ngx_int_t
ngx_http_es_header_in(ngx_http_request_t *r, ngx_str_t *name,
    ngx_str_t *value)
{
    ngx_uint_t        i, n, hash;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    hash = ngx_hash_key(name->data, name->len);

    n = 0;
    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].hash == hash && h[i].key.len == name->len
            && ngx_memcmp(h[i].lowcase_key, name->data, name->len) == 0)
        {
            *value = h[i].value;
            n++;
        }
    }

    if (n == 0) {
        return NGX_DECLINED;
    }

    return (n == 1) ? NGX_OK : NGX_ERROR;
}
