# Every directive of README.md: its values, its default, inheritance from
# http to server to location, and its configuration errors.  Keys and their
# errors are in 120-keys-algorithms.t, 121-keys-selection.t and
# 122-keys-config.t; claim semantics in 130-claims.t.

use FindBin;
use lib "$FindBin::Bin/lib";
use EmbedSessionTest;

repeat_each(2);

# The time-sensitive blocks come first: every token of this file is made
# when the file starts.

no_shuffle();

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

run_tests();

Test::More::done_testing();

__DATA__

=== TEST 1: default leeway 30s: expired 10 seconds ago passes
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }
--- user_files
>>> t
ok
--- more_headers eval
"X-Session-Token: "
. ::token(claims => { iat => time - 70, exp => time - 10 })
. "\nOrigin: https://app.example.com"
--- request
GET /t
--- response_body
ok
--- no_error_log
[error]



=== TEST 2: default leeway 30s: expired 90 seconds ago fails
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }
--- user_files
>>> t
ok
--- more_headers eval
"X-Session-Token: "
. ::token(claims => { iat => time - 150, exp => time - 90 })
. "\nOrigin: https://app.example.com"
--- request
GET /t
--- error_code: 401
--- response_body_like chomp
^\{"error":"Session token expired","code":"SESSION_EXPIRED"\}\n?$
--- no_error_log
[error]



=== TEST 3: embed_session_leeway inherited from http
--- http_config
    embed_session_leeway 1h;
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }
--- user_files
>>> t
ok
--- more_headers eval
"X-Session-Token: "
. ::token(claims => { iat => time - 1860, exp => time - 1800 })
. "\nOrigin: https://app.example.com"
--- request
GET /t
--- response_body
ok
--- no_error_log
[error]



=== TEST 4: embed_session_leeway inherited from server
--- config
    embed_session_leeway 1h;

    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }
--- user_files
>>> t
ok
--- more_headers eval
"X-Session-Token: "
. ::token(claims => { iat => time - 1860, exp => time - 1800 })
. "\nOrigin: https://app.example.com"
--- request
GET /t
--- response_body
ok
--- no_error_log
[error]



=== TEST 5: embed_session_leeway redefined in location (0s)
--- http_config
    embed_session_leeway 1h;
--- config
    location /t {
        embed_session_verify on;
        embed_session_leeway 0s;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }
--- user_files
>>> t
ok
--- more_headers eval
"X-Session-Token: "
. ::token(claims => { iat => time - 1260, exp => time - 1200 })
. "\nOrigin: https://app.example.com"
--- request
GET /t
--- error_code: 401
--- response_body_like: "code":"SESSION_EXPIRED"
--- no_error_log
[error]



=== TEST 6: default max_lifetime 1d: a lifetime of 1d - 10m passes
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }
--- user_files
>>> t
ok
--- more_headers eval
"X-Session-Token: " . ::token(ttl => 86400 - 600)
. "\nOrigin: https://app.example.com"
--- request
GET /t
--- response_body
ok
--- no_error_log
[error]



=== TEST 7: default max_lifetime 1d: a lifetime of 1d + 10m fails
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }
--- user_files
>>> t
ok
--- more_headers eval
"X-Session-Token: " . ::token(ttl => 86400 + 600)
. "\nOrigin: https://app.example.com"
--- request
GET /t
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- no_error_log
[error]



=== TEST 8: embed_session_max_lifetime inherited from http
--- http_config
    embed_session_max_lifetime 1h;
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }
--- user_files
>>> t
ok
--- more_headers eval
"X-Session-Token: " . ::token(ttl => 7200)
. "\nOrigin: https://app.example.com"
--- request
GET /t
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- no_error_log
[error]



=== TEST 9: embed_session_max_lifetime 0 in location overrides http
--- http_config
    embed_session_max_lifetime 1h;
--- config
    location /t {
        embed_session_verify on;
        embed_session_max_lifetime 0;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }
--- user_files
>>> t
ok
--- more_headers eval
"X-Session-Token: " . ::token(ttl => 30 * 86400)
. "\nOrigin: https://app.example.com"
--- request
GET /t
--- response_body
ok
--- no_error_log
[error]



=== TEST 10: embed_session_verify is off by default
--- config
    location /t {
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }
--- user_files
>>> t
ok
--- request
GET /t
--- response_body
ok
--- no_error_log
[error]



=== TEST 11: embed_session_verify on inherited from http
--- http_config
    embed_session_verify on;
    embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
--- config
    location /t {
    }
--- user_files
>>> t
ok
--- request
GET /t
--- error_code: 401
--- response_body_like: "code":"SESSION_REQUIRED"
--- no_error_log
[error]



=== TEST 12: embed_session_verify on inherited from server
--- config
    embed_session_verify on;
    embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;

    location /t {
    }
--- user_files
>>> t
ok
--- request
GET /t
--- error_code: 401
--- response_body_like: "code":"SESSION_REQUIRED"
--- no_error_log
[error]



=== TEST 13: embed_session_verify off in server overrides http
--- http_config
    embed_session_verify on;
    embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
--- config
    embed_session_verify off;

    location /t {
    }
--- user_files
>>> t
ok
--- request
GET /t
--- response_body
ok
--- no_error_log
[error]



=== TEST 14: embed_session_verify on in location overrides server off
--- http_config
    embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
--- config
    embed_session_verify off;

    location /t {
        embed_session_verify on;
    }
--- user_files
>>> t
ok
--- pipelined_requests eval
["GET /t", "GET /t"]
--- more_headers eval
["", "X-Session-Token: " . ::token() . "\nOrigin: https://app.example.com"]
--- error_code eval
[401, 200]
--- response_body_like eval
['"code":"SESSION_REQUIRED"', "^ok\n\$"]
--- no_error_log
[error]



=== TEST 15: embed_session_verify: invalid value
--- config
    location /t {
        embed_session_verify yes;
    }
--- request
GET /t
--- must_die
--- error_log
invalid value "yes" in "embed_session_verify" directive



=== TEST 16: embed_session_verify: duplicate
--- config
    location /t {
        embed_session_verify on;
        embed_session_verify off;
    }
--- request
GET /t
--- must_die
--- error_log
"embed_session_verify" directive is duplicate



=== TEST 17: embed_session_verify: no argument
--- config
    location /t {
        embed_session_verify;
    }
--- request
GET /t
--- must_die
--- error_log
invalid number of arguments in "embed_session_verify" directive



=== TEST 18: embed_session_token default: the X-Session-Token header
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }
--- user_files
>>> t
ok
--- more_headers eval
"X-Session-Token: " . ::token() . "\nOrigin: https://app.example.com"
--- request
GET /t
--- response_body
ok
--- no_error_log
[error]



=== TEST 19: embed_session_token inherited from http replaces the default
--- http_config
    embed_session_token $arg_token;
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }
--- user_files
>>> t
ok
--- more_headers eval
"X-Session-Token: " . ::token() . "\nOrigin: https://app.example.com"
--- pipelined_requests eval
["GET /t", "GET /t?token=" . ::token()]
--- error_code eval
[401, 200]
--- response_body_like eval
['"code":"SESSION_REQUIRED"', "^ok\n\$"]
--- no_error_log
[error]



=== TEST 20: embed_session_token redefined in location over server
--- config
    embed_session_token $arg_token;

    location /t {
        embed_session_verify on;
        embed_session_token $cookie_es;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }
--- user_files
>>> t
ok
--- more_headers eval
"Cookie: es=" . ::token() . "\nOrigin: https://app.example.com"
--- request eval
"GET /t?token=invalid"
--- response_body
ok
--- no_error_log
[error]



=== TEST 21: embed_session_token: no argument
--- config
    location /t {
        embed_session_token;
    }
--- request
GET /t
--- must_die
--- error_log
invalid number of arguments in "embed_session_token" directive



=== TEST 22: embed_session_keys inherited from http through server
--- http_config
    embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
--- config
    location /t {
        embed_session_verify on;
    }
--- user_files
>>> t
ok
--- more_headers eval
"X-Session-Token: " . ::token() . "\nOrigin: https://app.example.com"
--- request
GET /t
--- response_body
ok
--- no_error_log
[error]



=== TEST 23: embed_session_keys in location replace the http set
--- http_config
    embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256-2.jwks;
    }
--- user_files
>>> t
ok
--- pipelined_requests eval
["GET /t", "GET /t"]
--- more_headers eval
["X-Session-Token: " . ::token(key => 'hs256')
 . "\nOrigin: https://app.example.com",
 "X-Session-Token: " . ::token(key => 'hs256-2')
 . "\nOrigin: https://app.example.com"]
--- error_code eval
[401, 200]
--- response_body_like eval
['"code":"SESSION_INVALID"', "^ok\n\$"]
--- no_error_log
[error]



=== TEST 24: embed_session_keys in server replace the http set
--- http_config
    embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
--- config
    embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256-2.jwks;

    location /t {
        embed_session_verify on;
    }
--- user_files
>>> t
ok
--- pipelined_requests eval
["GET /t", "GET /t"]
--- more_headers eval
["X-Session-Token: " . ::token(key => 'hs256')
 . "\nOrigin: https://app.example.com",
 "X-Session-Token: " . ::token(key => 'hs256-2')
 . "\nOrigin: https://app.example.com"]
--- error_code eval
[401, 200]
--- response_body_like eval
['"code":"SESSION_INVALID"', "^ok\n\$"]
--- no_error_log
[error]



=== TEST 25: embed_session_keys: no argument
--- config
    location /t {
        embed_session_keys;
    }
--- request
GET /t
--- must_die
--- error_log
invalid number of arguments in "embed_session_keys" directive



=== TEST 26: embed_session_issuer inherited from http
--- http_config
    embed_session_issuer https://issuer.example.com;
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }
--- user_files
>>> t
ok
--- pipelined_requests eval
["GET /t", "GET /t"]
--- more_headers eval
["X-Session-Token: " . ::token(claims => { iss => 'https://other.example.com' })
 . "\nOrigin: https://app.example.com",
 "X-Session-Token: " . ::token(claims => { iss => 'https://issuer.example.com' })
 . "\nOrigin: https://app.example.com"]
--- error_code eval
[401, 200]
--- response_body_like eval
['"code":"SESSION_INVALID"', "^ok\n\$"]
--- no_error_log
[error]



=== TEST 27: embed_session_issuer redefined in location
--- http_config
    embed_session_issuer https://issuer.example.com;
--- config
    embed_session_issuer https://server.example.com;

    location /t {
        embed_session_verify on;
        embed_session_issuer https://location.example.com;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }
--- user_files
>>> t
ok
--- pipelined_requests eval
["GET /t", "GET /t"]
--- more_headers eval
["X-Session-Token: " . ::token(claims => { iss => 'https://server.example.com' })
 . "\nOrigin: https://app.example.com",
 "X-Session-Token: " . ::token(claims => { iss => 'https://location.example.com' })
 . "\nOrigin: https://app.example.com"]
--- error_code eval
[401, 200]
--- response_body_like eval
['"code":"SESSION_INVALID"', "^ok\n\$"]
--- no_error_log
[error]



=== TEST 28: embed_session_issuer: no argument
--- config
    location /t {
        embed_session_issuer;
    }
--- request
GET /t
--- must_die
--- error_log
invalid number of arguments in "embed_session_issuer" directive



=== TEST 29: embed_session_audience inherited from server
--- config
    embed_session_audience embed-api;

    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }
--- user_files
>>> t
ok
--- pipelined_requests eval
["GET /t", "GET /t"]
--- more_headers eval
["X-Session-Token: " . ::token(claims => { aud => 'other-api' })
 . "\nOrigin: https://app.example.com",
 "X-Session-Token: " . ::token(claims => { aud => 'embed-api' })
 . "\nOrigin: https://app.example.com"]
--- error_code eval
[401, 200]
--- response_body_like eval
['"code":"SESSION_INVALID"', "^ok\n\$"]
--- no_error_log
[error]



=== TEST 30: embed_session_audience redefined in location
--- http_config
    embed_session_audience embed-api;
--- config
    location /t {
        embed_session_verify on;
        embed_session_audience other-api;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }
--- user_files
>>> t
ok
--- pipelined_requests eval
["GET /t", "GET /t"]
--- more_headers eval
["X-Session-Token: " . ::token(claims => { aud => 'embed-api' })
 . "\nOrigin: https://app.example.com",
 "X-Session-Token: " . ::token(claims => { aud => 'other-api' })
 . "\nOrigin: https://app.example.com"]
--- error_code eval
[401, 200]
--- response_body_like eval
['"code":"SESSION_INVALID"', "^ok\n\$"]
--- no_error_log
[error]



=== TEST 31: embed_session_audience: too many arguments
--- config
    location /t {
        embed_session_audience a b;
    }
--- request
GET /t
--- must_die
--- error_log
invalid number of arguments in "embed_session_audience" directive



=== TEST 32: embed_session_type default is embed-session+jwt
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }
--- user_files
>>> t
ok
--- pipelined_requests eval
["GET /t", "GET /t"]
--- more_headers eval
["X-Session-Token: " . ::token(header => { typ => 'embed-other+jwt' })
 . "\nOrigin: https://app.example.com",
 "X-Session-Token: " . ::token(header => { typ => 'embed-session+jwt' })
 . "\nOrigin: https://app.example.com"]
--- error_code eval
[401, 200]
--- response_body_like eval
['"code":"SESSION_INVALID"', "^ok\n\$"]
--- no_error_log
[error]



=== TEST 33: embed_session_type off inherited from http
--- http_config
    embed_session_type off;
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }
--- user_files
>>> t
ok
--- more_headers eval
"X-Session-Token: " . ::token(header => { typ => undef })
. "\nOrigin: https://app.example.com"
--- request
GET /t
--- response_body
ok
--- no_error_log
[error]



=== TEST 34: embed_session_type redefined in location
--- http_config
    embed_session_type off;
--- config
    embed_session_type embed-session+jwt;

    location /t {
        embed_session_verify on;
        embed_session_type embed-other+jwt;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }
--- user_files
>>> t
ok
--- pipelined_requests eval
["GET /t", "GET /t"]
--- more_headers eval
["X-Session-Token: " . ::token()
 . "\nOrigin: https://app.example.com",
 "X-Session-Token: " . ::token(header => { typ => 'embed-other+jwt' })
 . "\nOrigin: https://app.example.com"]
--- error_code eval
[401, 200]
--- response_body_like eval
['"code":"SESSION_INVALID"', "^ok\n\$"]
--- no_error_log
[error]



=== TEST 35: embed_session_type: no argument
--- config
    location /t {
        embed_session_type;
    }
--- request
GET /t
--- must_die
--- error_log
invalid number of arguments in "embed_session_type" directive



=== TEST 36: embed_session_origin on by default: no Origin is denied
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }
--- user_files
>>> t
ok
--- more_headers eval
"X-Session-Token: " . ::token()
--- request
GET /t
--- error_code: 403
--- response_body_like: "code":"ORIGIN_NOT_ALLOWED"
--- no_error_log
[error]



=== TEST 37: embed_session_origin off inherited from http
--- http_config
    embed_session_origin off;
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }
--- user_files
>>> t
ok
--- more_headers eval
"X-Session-Token: " . ::token() . "\nOrigin: https://evil.example.com"
--- request
GET /t
--- response_body
ok
--- no_error_log
[error]



=== TEST 38: embed_session_origin on in location overrides server off
--- config
    embed_session_origin off;

    location /t {
        embed_session_verify on;
        embed_session_origin on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }
--- user_files
>>> t
ok
--- more_headers eval
"X-Session-Token: " . ::token() . "\nOrigin: https://evil.example.com"
--- request
GET /t
--- error_code: 403
--- response_body_like: "code":"ORIGIN_NOT_ALLOWED"
--- no_error_log
[error]



=== TEST 39: embed_session_origin: invalid value
--- config
    location /t {
        embed_session_origin strict;
    }
--- request
GET /t
--- must_die
--- error_log
invalid value "strict" in "embed_session_origin" directive



=== TEST 40: embed_session_origin_claim inherited from server
--- config
    embed_session_origin_claim allowed;

    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }
--- user_files
>>> t
ok
--- pipelined_requests eval
["GET /t", "GET /t"]
--- more_headers eval
["X-Session-Token: " . ::token()
 . "\nOrigin: https://app.example.com",
 "X-Session-Token: "
 . ::token(claims => { origins => undef,
                       allowed => ['https://app.example.com'] })
 . "\nOrigin: https://app.example.com"]
--- error_code eval
[403, 200]
--- response_body_like eval
['"code":"ORIGIN_NOT_ALLOWED"', "^ok\n\$"]
--- no_error_log
[error]



=== TEST 41: embed_session_origin_claim redefined in location
--- http_config
    embed_session_origin_claim allowed;
--- config
    location /t {
        embed_session_verify on;
        embed_session_origin_claim origins;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }
--- user_files
>>> t
ok
--- more_headers eval
"X-Session-Token: " . ::token() . "\nOrigin: https://app.example.com"
--- request
GET /t
--- response_body
ok
--- no_error_log
[error]



=== TEST 42: embed_session_origin_claim: no argument
--- config
    location /t {
        embed_session_origin_claim;
    }
--- request
GET /t
--- must_die
--- error_log
invalid number of arguments in "embed_session_origin_claim" directive



=== TEST 43: embed_session_origin_referer off by default
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }
--- user_files
>>> t
ok
--- more_headers eval
"X-Session-Token: " . ::token()
. "\nReferer: https://app.example.com/page"
--- request
GET /t
--- error_code: 403
--- response_body_like: "code":"ORIGIN_NOT_ALLOWED"
--- no_error_log
[error]



=== TEST 44: embed_session_origin_referer on inherited from http
--- http_config
    embed_session_origin_referer on;
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }
--- user_files
>>> t
ok
--- more_headers eval
"X-Session-Token: " . ::token()
. "\nReferer: https://app.example.com/page"
--- request
GET /t
--- response_body
ok
--- no_error_log
[error]



=== TEST 45: embed_session_origin_referer off in location overrides server
--- config
    embed_session_origin_referer on;

    location /t {
        embed_session_verify on;
        embed_session_origin_referer off;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }
--- user_files
>>> t
ok
--- more_headers eval
"X-Session-Token: " . ::token()
. "\nReferer: https://app.example.com/page"
--- request
GET /t
--- error_code: 403
--- response_body_like: "code":"ORIGIN_NOT_ALLOWED"
--- no_error_log
[error]



=== TEST 46: embed_session_origin_referer: invalid value
--- config
    location /t {
        embed_session_origin_referer always;
    }
--- request
GET /t
--- must_die
--- error_log
invalid value "always" in "embed_session_origin_referer" directive



=== TEST 47: embed_session_origin_absent allow inherited from server
--- config
    embed_session_origin_absent allow;

    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }
--- user_files
>>> t
ok
--- more_headers eval
"X-Session-Token: " . ::token()
--- request
GET /t
--- response_body
ok
--- no_error_log
[error]



=== TEST 48: embed_session_origin_absent deny in location overrides http allow
--- http_config
    embed_session_origin_absent allow;
--- config
    location /t {
        embed_session_verify on;
        embed_session_origin_absent deny;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }
--- user_files
>>> t
ok
--- more_headers eval
"X-Session-Token: " . ::token()
--- request
GET /t
--- error_code: 403
--- response_body_like: "code":"ORIGIN_NOT_ALLOWED"
--- no_error_log
[error]



=== TEST 49: embed_session_origin_absent: invalid value
--- config
    location /t {
        embed_session_origin_absent maybe;
    }
--- request
GET /t
--- must_die
--- error_log
invalid value "maybe"



=== TEST 50: embed_session_require inherited from http
--- http_config
    embed_session_require tenant acme;
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }
--- user_files
>>> t
ok
--- pipelined_requests eval
["GET /t", "GET /t"]
--- more_headers eval
["X-Session-Token: " . ::token(claims => { tenant => 'other' })
 . "\nOrigin: https://app.example.com",
 "X-Session-Token: " . ::token(claims => { tenant => 'acme' })
 . "\nOrigin: https://app.example.com"]
--- error_code eval
[403, 200]
--- response_body_like eval
['"code":"SCOPE_NOT_GRANTED"', "^ok\n\$"]
--- no_error_log
[error]



=== TEST 51: embed_session_require in location replaces the http ones
--- http_config
    embed_session_require tenant acme;
--- config
    location /t {
        embed_session_verify on;
        embed_session_require role admin;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }
--- user_files
>>> t
ok
--- pipelined_requests eval
["GET /t", "GET /t"]
--- more_headers eval
["X-Session-Token: " . ::token(claims => { tenant => 'acme', role => 'viewer' })
 . "\nOrigin: https://app.example.com",
 "X-Session-Token: " . ::token(claims => { tenant => 'other', role => 'admin' })
 . "\nOrigin: https://app.example.com"]
--- error_code eval
[403, 200]
--- response_body_like eval
['"code":"SCOPE_NOT_GRANTED"', "^ok\n\$"]
--- no_error_log
[error]



=== TEST 52: embed_session_require: one argument
--- config
    location /t {
        embed_session_require tenant;
    }
--- request
GET /t
--- must_die
--- error_log
invalid number of arguments in "embed_session_require" directive



=== TEST 53: embed_session_error_format flat by default
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }
--- user_files
>>> t
ok
--- request
GET /t
--- error_code: 401
--- response_headers
Content-Type: application/json
--- response_body_like chomp
^\{"error":"[^"]+","code":"SESSION_REQUIRED"\}\n?$
--- no_error_log
[error]



=== TEST 54: embed_session_error_format nested inherited from http
--- http_config
    embed_session_error_format nested;
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }
--- user_files
>>> t
ok
--- request
GET /t
--- error_code: 401
--- response_headers
Content-Type: application/json
--- response_body_like chomp
^\{"error":\{"code":"SESSION_REQUIRED","message":"[^"]+"\}\}\n?$
--- no_error_log
[error]



=== TEST 55: embed_session_error_format flat in location overrides server
--- config
    embed_session_error_format nested;

    location /t {
        embed_session_verify on;
        embed_session_error_format flat;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }
--- user_files
>>> t
ok
--- request
GET /t
--- error_code: 401
--- response_body_like chomp
^\{"error":"[^"]+","code":"SESSION_REQUIRED"\}\n?$
--- no_error_log
[error]



=== TEST 56: embed_session_error_format: invalid value
--- config
    location /t {
        embed_session_error_format xml;
    }
--- request
GET /t
--- must_die
--- error_log
invalid value "xml"



=== TEST 57: embed_session_leeway: bad time
--- config
    location /t {
        embed_session_leeway soon;
    }
--- request
GET /t
--- must_die
--- error_log eval
qr/"embed_session_leeway" directive invalid value|invalid value "soon"/



=== TEST 58: embed_session_leeway: negative time
--- config
    location /t {
        embed_session_leeway -5s;
    }
--- request
GET /t
--- must_die
--- error_log eval
qr/"embed_session_leeway" directive invalid value|invalid value "-5s"/



=== TEST 59: embed_session_max_lifetime: bad time
--- config
    location /t {
        embed_session_max_lifetime 1 day;
    }
--- request
GET /t
--- must_die
--- error_log eval
qr/invalid number of arguments in "embed_session_max_lifetime" directive/



=== TEST 60: embed_session_max_lifetime: bad time unit
--- config
    location /t {
        embed_session_max_lifetime 1x;
    }
--- request
GET /t
--- must_die
--- error_log eval
qr/"embed_session_max_lifetime" directive invalid value|invalid value "1x"/



=== TEST 61: all directives in http, server and location together
--- http_config
    embed_session_verify off;
    embed_session_token $http_x_session_token;
    embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    embed_session_leeway 30s;
    embed_session_max_lifetime 1d;
    embed_session_issuer https://issuer.example.com;
    embed_session_audience embed-api;
    embed_session_type embed-session+jwt;
    embed_session_origin on;
    embed_session_origin_claim origins;
    embed_session_origin_referer off;
    embed_session_origin_absent deny;
    embed_session_require tenant acme;
    embed_session_error_format flat;
--- config
    embed_session_verify on;
    embed_session_token $http_x_session_token $cookie_es;
    embed_session_leeway 1m;
    embed_session_max_lifetime 2h;
    embed_session_issuer https://issuer.example.com;
    embed_session_audience embed-api;
    embed_session_type embed-session+jwt;
    embed_session_origin on;
    embed_session_origin_claim origins;
    embed_session_origin_referer on;
    embed_session_origin_absent deny;
    embed_session_require tenant acme;
    embed_session_error_format nested;

    location /t {
        embed_session_verify on;
        embed_session_token $cookie_es $http_x_session_token;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256-2.jwks;
        embed_session_leeway 2m;
        embed_session_max_lifetime 1h;
        embed_session_issuer https://issuer.example.com;
        embed_session_audience embed-api;
        embed_session_type embed-session+jwt;
        embed_session_origin on;
        embed_session_origin_claim origins;
        embed_session_origin_referer on;
        embed_session_origin_absent deny;
        embed_session_require tenant acme;
        embed_session_require role admin;
        embed_session_error_format flat;
    }
--- user_files
>>> t
ok
--- more_headers eval
"Cookie: es="
. ::token(key => 'hs256-2',
          claims => { iss => 'https://issuer.example.com', aud => 'embed-api',
                      tenant => 'acme', role => 'admin' })
. "\nReferer: https://app.example.com/embed"
--- request
GET /t
--- response_body
ok
--- no_error_log
[error]



=== TEST 62: embed_session_verify on without any embed_session_keys fails
--- config
    location /t {
        embed_session_verify on;
    }
--- request
GET /t
--- must_die
--- error_log
"embed_session_verify" is on but no "embed_session_keys" are configured



=== TEST 63: embed_session_cache off: tokens are still verified
--- http_config
    embed_session_cache off;
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }
--- user_files
>>> t
ok
--- pipelined_requests eval
["GET /t", "GET /t", "GET /t"]
--- more_headers eval
my $t = ::token();
["X-Session-Token: $t\nOrigin: https://app.example.com",
 "X-Session-Token: $t\nOrigin: https://app.example.com",
 "X-Session-Token: " . ($t =~ s/.\z/$& eq 'A' ? 'B' : 'A'/er)
 . "\nOrigin: https://app.example.com"]
--- error_code eval
[200, 200, 401]
--- response_body_like eval
["^ok\n\$", "^ok\n\$", '"code":"SESSION_INVALID"']
--- no_error_log
[error]



=== TEST 64: embed_session_cache with a number of entries
--- http_config
    embed_session_cache 16;
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }
--- user_files
>>> t
ok
--- pipelined_requests eval
[("GET /t") x 4]
--- more_headers eval
my $t = ::token();
[("X-Session-Token: $t\nOrigin: https://app.example.com") x 2,
 "X-Session-Token: $t\nOrigin: https://evil.example.com",
 "X-Session-Token: $t"]
--- error_code eval
[200, 200, 403, 403]
--- response_body_like eval
["^ok\n\$", "^ok\n\$", ('"code":"ORIGIN_NOT_ALLOWED"') x 2]
--- no_error_log
[error]



=== TEST 65: embed_session_cache default: a cached token still meets require
--- config
    location /a {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }

    location /b {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
        embed_session_require tenant acme;
    }
--- user_files
>>> a
ok
>>> b
ok
--- pipelined_requests eval
["GET /a", "GET /b", "GET /a"]
--- more_headers eval
"X-Session-Token: " . ::token(claims => { tenant => 'other' })
. "\nOrigin: https://app.example.com"
--- error_code eval
[200, 403, 200]
--- response_body_like eval
["^ok\n\$", '"code":"SCOPE_NOT_GRANTED"', "^ok\n\$"]
--- no_error_log
[error]



=== TEST 66: embed_session_cache: a token over 2048 bytes still verifies
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }
--- user_files
>>> t
ok
--- pipelined_requests eval
["GET /t", "GET /t"]
--- more_headers eval
"X-Session-Token: " . ::token(claims => { pad => 'x' x 3000 })
. "\nOrigin: https://app.example.com"
--- response_body eval
["ok\n", "ok\n"]
--- no_error_log
[error]



=== TEST 67: embed_session_cache: only in http
--- config
    embed_session_cache 16;

    location /t {
    }
--- request
GET /t
--- must_die
--- error_log
"embed_session_cache" directive is not allowed here



=== TEST 68: embed_session_cache: invalid value
--- http_config
    embed_session_cache lots;
--- config
    location /t {
    }
--- request
GET /t
--- must_die
--- error_log
invalid cache size "lots"



=== TEST 69: embed_session_cache: duplicate
--- http_config
    embed_session_cache 16;
    embed_session_cache 32;
--- config
    location /t {
    }
--- request
GET /t
--- must_die
--- error_log
"embed_session_cache" directive is duplicate
