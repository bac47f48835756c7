
/*
 * Copyright (C) The ngx_http_embed_session_module authors
 *
 * The codec's one look into a TLS connection: whether the peer's
 * certificate chain verified (embed_session_redis tls=on).  nginx makes
 * the connection and the handshake (ngx_ssl_*), and checks the name; the
 * verification's result is OpenSSL's to tell, and only the codec sees
 * OpenSSL's types.
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
