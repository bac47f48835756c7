
/*
 * Copyright (C) The ngx_http_embed_session_module authors
 *
 * The codec's two looks into a TLS connection (embed_session_redis
 * tls=on): the name the client asks for (SNI), and whether the peer's
 * certificate chain verified.  nginx makes the connection and the
 * handshake (ngx_ssl_*), and checks the name; these two are OpenSSL's to
 * set and to tell, and only the codec sees OpenSSL's types.
 */


#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "ngx_http_embed_session_jws.h"


long
ngx_http_es_jws_tls_verified(void *ssl, const char **err)
{
    long  rc;

    rc = SSL_get_verify_result((SSL *) ssl);

    *err = (rc == X509_V_OK) ? "" : X509_verify_cert_error_string(rc);

    return rc;
}


/* SNI: name NUL-terminated; 0 when OpenSSL took it */

int
ngx_http_es_jws_tls_name(void *ssl, const char *name)
{
    return SSL_set_tlsext_host_name((SSL *) ssl, name) == 1 ? 0 : -1;
}
