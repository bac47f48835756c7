# vim:set ft= ts=4 sw=4 et fdm=marker:

# embed_session_keys, key selection: a PEM key with and without kid=, kid
# selection and rotation, sets of several keys (from several directives of
# one level too), tokens of keys outside the set, and a set per location.
# The algorithms are in 120-keys-algorithms.t, the configuration errors of
# key files in 122-keys-config.t.

use FindBin;
use lib "$FindBin::Bin/lib";
use EmbedSessionTest;

repeat_each(2);
no_shuffle();

run_tests();

Test::More::done_testing();

__DATA__

=== TEST 1: a PEM key without kid= verifies a token without kid
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/es256.pub.pem alg=ES256;
    }
--- user_files
>>> t
ok
--- more_headers eval
"X-Session-Token: " . ::token(key => 'es256', header => { kid => undef })
. "\nOrigin: https://app.example.com"
--- request
GET /t
--- response_body
ok
--- no_error_log
[error]



=== TEST 2: a PEM key without kid=: a token with a kid is an unknown kid
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/es256.pub.pem alg=ES256;
    }
--- user_files
>>> t
ok
--- more_headers eval
"X-Session-Token: " . ::token(key => 'es256')
. "\nOrigin: https://app.example.com"
--- request
GET /t
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- no_error_log
[error]



=== TEST 3: a PEM key with kid=: a token with another kid fails
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/es256.pub.pem alg=ES256 kid=other;
    }
--- user_files
>>> t
ok
--- more_headers eval
"X-Session-Token: " . ::token(key => 'es256')
. "\nOrigin: https://app.example.com"
--- request
GET /t
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- no_error_log
[error]



=== TEST 4: rotation: tokens with kid "current" and "previous" both pass
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/rotation.jwks;
        proxy_set_header X-Kid $embed_session_kid;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }

    location /backend {
        return 200 "kid=$http_x_kid\n";
    }
--- pipelined_requests eval
["GET /t", "GET /t"]
--- more_headers eval
["X-Session-Token: " . ::token(key => 'rotation', kid => 'current')
 . "\nOrigin: https://app.example.com",
 "X-Session-Token: " . ::token(key => 'rotation', kid => 'previous')
 . "\nOrigin: https://app.example.com"]
--- response_body eval
["kid=current\n", "kid=previous\n"]
--- no_error_log
[error]



=== TEST 5: rotation: an unknown kid fails
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/rotation.jwks;
    }
--- user_files
>>> t
ok
--- more_headers eval
"X-Session-Token: "
. ::token(key => 'rotation', kid => 'current', header => { kid => 'next' })
. "\nOrigin: https://app.example.com"
--- request
GET /t
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer error="invalid_token"
--- response_body_like: "code":"SESSION_INVALID"
--- error_log eval
qr/\[info\].*(?i:kid)/
--- no_error_log
[error]



=== TEST 6: rotation: a token without kid fails when the set has 2 keys
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/rotation.jwks;
    }
--- user_files
>>> t
ok
--- more_headers eval
"X-Session-Token: "
. ::token(key => 'rotation', kid => 'current', header => { kid => undef })
. "\nOrigin: https://app.example.com"
--- request
GET /t
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log eval
qr/\[info\].*(?i:kid)/
--- no_error_log
[error]



=== TEST 7: a token without kid passes when the set has 1 key
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
        proxy_set_header X-Kid $embed_session_kid;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }

    location /backend {
        return 200 "kid=$http_x_kid\n";
    }
--- more_headers eval
"X-Session-Token: " . ::token(key => 'hs256', header => { kid => undef })
. "\nOrigin: https://app.example.com"
--- request
GET /t
--- response_body
kid=hs256-1
--- no_error_log
[error]



=== TEST 8: a token with a known kid but signed by another key fails
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/rotation.jwks;
    }
--- user_files
>>> t
ok
--- more_headers eval
"X-Session-Token: "
. ::token(key => 'rotation', kid => 'previous', header => { kid => 'current' })
. "\nOrigin: https://app.example.com"
--- request
GET /t
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- no_error_log
[error]



=== TEST 9: several embed_session_keys at one level form one set
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256-2.jwks;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/ed25519.pub.jwks;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/es256.pub.pem alg=ES256 kid=es256-1;
    }
--- user_files
>>> t
ok
--- pipelined_requests eval
["GET /t", "GET /t", "GET /t", "GET /t"]
--- more_headers eval
["X-Session-Token: " . ::token(key => 'hs256')
 . "\nOrigin: https://app.example.com",
 "X-Session-Token: " . ::token(key => 'hs256-2')
 . "\nOrigin: https://app.example.com",
 "X-Session-Token: " . ::token(key => 'ed25519')
 . "\nOrigin: https://app.example.com",
 "X-Session-Token: " . ::token(key => 'es256')
 . "\nOrigin: https://app.example.com"]
--- response_body eval
["ok\n", "ok\n", "ok\n", "ok\n"]
--- no_error_log
[error]



=== TEST 10: a set of several keys: a token without kid fails
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256-2.jwks;
    }
--- user_files
>>> t
ok
--- more_headers eval
"X-Session-Token: " . ::token(key => 'hs256', header => { kid => undef })
. "\nOrigin: https://app.example.com"
--- request
GET /t
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- no_error_log
[error]



=== TEST 11: a token of a key that is not in the set fails
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/ed25519.pub.jwks;
    }
--- user_files
>>> t
ok
--- more_headers eval
"X-Session-Token: " . ::token(key => 'ed25519-2')
. "\nOrigin: https://app.example.com"
--- request
GET /t
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- no_error_log
[error]



=== TEST 12: a token signed by another key under the set's kid fails
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/ed25519.pub.jwks;
    }
--- user_files
>>> t
ok
--- more_headers eval
"X-Session-Token: " . ::token(key => 'ed25519-2', header => { kid => 'ed-1' })
. "\nOrigin: https://app.example.com"
--- request
GET /t
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- no_error_log
[error]



=== TEST 13: a token verified in one location is checked again in another
--- config
    location /a {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }

    location /b {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256-2.jwks;
    }

    location /c {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/rotation.jwks;
    }

    location /d {
        embed_session_verify on;
        embed_session_issuer https://issuer.example.com;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }
--- user_files
>>> a
ok
>>> b
ok
>>> c
ok
>>> d
ok
--- pipelined_requests eval
["GET /a", "GET /b", "GET /c", "GET /d", "GET /a"]
--- more_headers eval
"X-Session-Token: " . ::token(key => 'hs256')
. "\nOrigin: https://app.example.com"
--- error_code eval
[200, 401, 401, 401, 200]
--- response_body_like eval
["^ok\n\$", ('"code":"SESSION_INVALID"') x 3, "^ok\n\$"]
--- no_error_log
[error]
