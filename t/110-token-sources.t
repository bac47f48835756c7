# embed_session_token: where the token comes from.  The default is the
# X-Session-Token header; $embed_session_bearer gives the credentials of an
# "Authorization: Bearer" header; the first source that is not empty wins.

use FindBin;
use lib "$FindBin::Bin/lib";
use EmbedSessionTest;

repeat_each(2);
no_shuffle();

# a token whose sub tells which source it came from

sub tok {
    my ($sub) = @_;
    return token(claims => { sub => $sub });
}

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

run_tests();

Test::More::done_testing();

__DATA__

=== TEST 1: default source: the X-Session-Token header
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
        proxy_set_header X-Sub $embed_session_sub;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }

    location /backend {
        return 200 "sub=$http_x_sub\n";
    }
--- more_headers eval
"X-Session-Token: " . ::tok('from-header')
. "\nOrigin: https://app.example.com"
--- request
GET /t
--- response_body
sub=from-header
--- no_error_log
[error]



=== TEST 2: no token at all: 401 SESSION_REQUIRED
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }
--- user_files
>>> t
ok
--- more_headers
Origin: https://app.example.com
--- request
GET /t
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer
Content-Type: application/json
--- response_body_like: "code":"SESSION_REQUIRED"
--- no_error_log
[error]



=== TEST 3: the default source does not read Authorization: Bearer
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }
--- user_files
>>> t
ok
--- more_headers eval
"Authorization: Bearer " . ::tok('from-bearer')
. "\nOrigin: https://app.example.com"
--- request
GET /t
--- error_code: 401
--- response_body_like: "code":"SESSION_REQUIRED"
--- no_error_log
[error]



=== TEST 4: the default source does not read a cookie or an argument
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }
--- user_files
>>> t
ok
--- more_headers eval
"Cookie: embed_session=" . ::tok('from-cookie')
. "\nOrigin: https://app.example.com"
--- request eval
"GET /t?token=" . ::tok('from-arg')
--- error_code: 401
--- response_body_like: "code":"SESSION_REQUIRED"
--- no_error_log
[error]



=== TEST 5: $embed_session_bearer: Authorization: Bearer
--- config
    location /t {
        embed_session_verify on;
        embed_session_token $embed_session_bearer;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
        proxy_set_header X-Sub $embed_session_sub;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }

    location /backend {
        return 200 "sub=$http_x_sub\n";
    }
--- more_headers eval
"Authorization: Bearer " . ::tok('from-bearer')
. "\nOrigin: https://app.example.com"
--- request
GET /t
--- response_body
sub=from-bearer
--- no_error_log
[error]



=== TEST 6: $embed_session_bearer: Authorization: Basic is no token
--- config
    location /t {
        embed_session_verify on;
        embed_session_token $embed_session_bearer;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }
--- user_files
>>> t
ok
--- more_headers
Authorization: Basic dXNlcjpwYXNzd29yZA==
Origin: https://app.example.com
--- request
GET /t
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer
--- response_body_like: "code":"SESSION_REQUIRED"
--- no_error_log
[error]



=== TEST 7: $embed_session_bearer: Basic credentials that look like a token
--- config
    location /t {
        embed_session_verify on;
        embed_session_token $embed_session_bearer;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }
--- user_files
>>> t
ok
--- more_headers eval
"Authorization: Basic " . ::tok('from-basic')
. "\nOrigin: https://app.example.com"
--- request
GET /t
--- error_code: 401
--- response_body_like: "code":"SESSION_REQUIRED"
--- no_error_log
[error]



=== TEST 8: $embed_session_bearer: the value, and empty for Basic
--- config
    location = /t {
        return 200 "[$embed_session_bearer]\n";
    }
--- pipelined_requests eval
["GET /t", "GET /t", "GET /t"]
--- more_headers eval
["Authorization: Bearer abc.def.ghi",
 "Authorization: Basic dXNlcjpwYXNzd29yZA==",
 ""]
--- response_body eval
["[abc.def.ghi]\n", "[]\n", "[]\n"]
--- no_error_log
[error]



=== TEST 9: $embed_session_bearer: "Bearer" without credentials
--- config
    location /t {
        embed_session_verify on;
        embed_session_token $embed_session_bearer;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }
--- user_files
>>> t
ok
--- more_headers
Authorization: Bearer
Origin: https://app.example.com
--- request
GET /t
--- error_code: 401
--- response_body_like: "code":"SESSION_REQUIRED"
--- no_error_log
[error]



=== TEST 10: a cookie as the source
--- config
    location /t {
        embed_session_verify on;
        embed_session_token $cookie_embed_session;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
        proxy_set_header X-Sub $embed_session_sub;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }

    location /backend {
        return 200 "sub=$http_x_sub\n";
    }
--- more_headers eval
"Cookie: theme=dark; embed_session=" . ::tok('from-cookie') . "; lang=en"
. "\nOrigin: https://app.example.com"
--- request
GET /t
--- response_body
sub=from-cookie
--- no_error_log
[error]



=== TEST 11: a query argument as the source
--- config
    location /t {
        embed_session_verify on;
        embed_session_token $arg_token;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
        proxy_set_header X-Sub $embed_session_sub;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }

    location /backend {
        return 200 "sub=$http_x_sub\n";
    }
--- more_headers
Origin: https://app.example.com
--- request eval
"GET /t?view=1&token=" . ::tok('from-arg') . "&x=y"
--- response_body
sub=from-arg
--- no_error_log
[error]



=== TEST 12: several sources: the first (header) wins
--- config
    location /t {
        embed_session_verify on;
        embed_session_token $http_x_session_token $embed_session_bearer
                            $cookie_embed_session $arg_token;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
        proxy_set_header X-Sub $embed_session_sub;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }

    location /backend {
        return 200 "sub=$http_x_sub\n";
    }
--- more_headers eval
"X-Session-Token: " . ::tok('from-header')
. "\nAuthorization: Bearer " . ::tok('from-bearer')
. "\nCookie: embed_session=" . ::tok('from-cookie')
. "\nOrigin: https://app.example.com"
--- request eval
"GET /t?token=" . ::tok('from-arg')
--- response_body
sub=from-header
--- no_error_log
[error]



=== TEST 13: several sources: header absent, bearer wins
--- config
    location /t {
        embed_session_verify on;
        embed_session_token $http_x_session_token $embed_session_bearer
                            $cookie_embed_session $arg_token;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
        proxy_set_header X-Sub $embed_session_sub;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }

    location /backend {
        return 200 "sub=$http_x_sub\n";
    }
--- more_headers eval
"Authorization: Bearer " . ::tok('from-bearer')
. "\nCookie: embed_session=" . ::tok('from-cookie')
. "\nOrigin: https://app.example.com"
--- request eval
"GET /t?token=" . ::tok('from-arg')
--- response_body
sub=from-bearer
--- no_error_log
[error]



=== TEST 14: several sources: Basic is skipped, the cookie wins
--- config
    location /t {
        embed_session_verify on;
        embed_session_token $http_x_session_token $embed_session_bearer
                            $cookie_embed_session $arg_token;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
        proxy_set_header X-Sub $embed_session_sub;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }

    location /backend {
        return 200 "sub=$http_x_sub\n";
    }
--- more_headers eval
"Authorization: Basic dXNlcjpwYXNzd29yZA=="
. "\nCookie: embed_session=" . ::tok('from-cookie')
. "\nOrigin: https://app.example.com"
--- request eval
"GET /t?token=" . ::tok('from-arg')
--- response_body
sub=from-cookie
--- no_error_log
[error]



=== TEST 15: several sources: only the last one present
--- config
    location /t {
        embed_session_verify on;
        embed_session_token $http_x_session_token $embed_session_bearer
                            $cookie_embed_session $arg_token;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
        proxy_set_header X-Sub $embed_session_sub;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }

    location /backend {
        return 200 "sub=$http_x_sub\n";
    }
--- more_headers
Cookie: other=1
Origin: https://app.example.com
--- request eval
"GET /t?token=" . ::tok('from-arg')
--- response_body
sub=from-arg
--- no_error_log
[error]



=== TEST 16: several sources: an empty value is skipped
--- config
    location /t {
        embed_session_verify on;
        embed_session_token $arg_token $cookie_embed_session;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
        proxy_set_header X-Sub $embed_session_sub;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }

    location /backend {
        return 200 "sub=$http_x_sub\n";
    }
--- more_headers eval
"Cookie: embed_session=" . ::tok('from-cookie')
. "\nOrigin: https://app.example.com"
--- request
GET /t?token=&a=1
--- response_body
sub=from-cookie
--- no_error_log
[error]



=== TEST 17: several sources: the first non-empty is used even if invalid
--- config
    location /t {
        embed_session_verify on;
        embed_session_token $http_x_session_token $cookie_embed_session;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }
--- user_files
>>> t
ok
--- more_headers eval
"X-Session-Token: garbage"
. "\nCookie: embed_session=" . ::tok('from-cookie')
. "\nOrigin: https://app.example.com"
--- request
GET /t
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer error="invalid_token"
--- response_body_like: "code":"SESSION_INVALID"
--- no_error_log
[error]



=== TEST 18: several sources: none present
--- config
    location /t {
        embed_session_verify on;
        embed_session_token $http_x_session_token $embed_session_bearer
                            $cookie_embed_session $arg_token;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }
--- user_files
>>> t
ok
--- more_headers
Cookie: other=1
Authorization: Basic dXNlcjpwYXNzd29yZA==
Origin: https://app.example.com
--- request
GET /t?other=2
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer
--- response_body_like: "code":"SESSION_REQUIRED"
--- no_error_log
[error]



=== TEST 19: a source made of a variable and text
--- config
    location /t {
        embed_session_verify on;
        embed_session_token "$arg_h.$arg_p.$arg_s";
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
        proxy_set_header X-Sub $embed_session_sub;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }

    location /backend {
        return 200 "sub=$http_x_sub\n";
    }
--- more_headers
Origin: https://app.example.com
--- request eval
my ($h, $p, $s) = split /\./, ::tok('from-parts');
"GET /t?h=$h&p=$p&s=$s"
--- response_body
sub=from-parts
--- no_error_log
[error]



=== TEST 20: $embed_session_bearer: the scheme is case-insensitive (RFC 7235)
--- config
    location = /t {
        return 200 "[$embed_session_bearer]\n";
    }
--- pipelined_requests eval
[("GET /t") x 2]
--- more_headers eval
["Authorization: bearer abc.def.ghi", "Authorization: BEARER abc.def.ghi"]
--- response_body eval
["[abc.def.ghi]\n", "[abc.def.ghi]\n"]
--- no_error_log
[error]
