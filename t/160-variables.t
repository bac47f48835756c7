# The $embed_session_* variables: values after a verified token, and empty
# claim variables whenever verification failed.

use FindBin;
use lib "$FindBin::Bin/lib";
use EmbedSessionTest;

repeat_each(2);
no_shuffle();

our $EXP = time + 600;

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

add_block_preprocessor(sub {
    my $block = shift;

    if (!defined $block->request && !defined $block->pipelined_requests) {
        $block->set_value('request', "GET /t\n");
    }

    if (!defined $block->no_error_log) {
        $block->set_value('no_error_log', "[error]\n");
    }
});

run_tests();

Test::More::done_testing();

__DATA__

=== TEST 1: sub, jti, tenant, exp, kid through a proxied backend
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
        proxy_set_header X-Sub $embed_session_sub;
        proxy_set_header X-Jti $embed_session_jti;
        proxy_set_header X-Tenant $embed_session_tenant;
        proxy_set_header X-Exp $embed_session_exp;
        proxy_set_header X-Kid $embed_session_kid;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }

    location /backend {
        return 200 "sub=$http_x_sub jti=$http_x_jti tenant=$http_x_tenant exp=$http_x_exp kid=$http_x_kid\n";
    }
--- more_headers eval
"X-Session-Token: "
. ::token(claims => { sub => 'user-42', jti => 'sess-abc', tenant => 'acme',
                      exp => $::EXP })
. "\nOrigin: https://app.example.com"
--- response_body eval
"sub=user-42 jti=sess-abc tenant=acme exp=$::EXP kid=hs256-1\n"



=== TEST 2: origins (space separated) and the matched origin
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
        proxy_set_header X-Origins $embed_session_origins;
        proxy_set_header X-Origin $embed_session_origin;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }

    location /backend {
        return 200 "origins=[$http_x_origins] origin=[$http_x_origin]\n";
    }
--- more_headers eval
"X-Session-Token: "
. ::token(claims => { origins => ['https://a.example.com',
                                  'https://app.example.com',
                                  'http://localhost:3000'] })
. "\nOrigin: https://app.example.com"
--- response_body
origins=[https://a.example.com https://app.example.com http://localhost:3000] origin=[https://app.example.com]



=== TEST 3: origins from a string claim and another claim name
--- config
    location /t {
        embed_session_verify on;
        embed_session_origin_claim allowed;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
        proxy_set_header X-Origins $embed_session_origins;
        proxy_set_header X-Origin $embed_session_origin;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }

    location /backend {
        return 200 "origins=[$http_x_origins] origin=[$http_x_origin]\n";
    }
--- more_headers eval
"X-Session-Token: "
. ::token(claims => { origins => undef, allowed => 'https://app.example.com' })
. "\nOrigin: https://app.example.com"
--- response_body
origins=[https://app.example.com] origin=[https://app.example.com]



=== TEST 4: the matched origin from the Referer
--- config
    location /t {
        embed_session_verify on;
        embed_session_origin_referer on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
        proxy_set_header X-Origin $embed_session_origin;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }

    location /backend {
        return 200 "origin=[$http_x_origin]\n";
    }
--- more_headers eval
"X-Session-Token: " . ::token()
. "\nReferer: https://app.example.com/embed?doc=1"
--- response_body
origin=[https://app.example.com]



=== TEST 5: $embed_session_kid names the key that verified
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/rotation.jwks;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/es256.pub.jwks;
        proxy_set_header X-Kid $embed_session_kid;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }

    location /backend {
        return 200 "kid=$http_x_kid\n";
    }
--- pipelined_requests eval
[("GET /t") x 3]
--- more_headers eval
[map { "X-Session-Token: $_\nOrigin: https://app.example.com" }
 ::token(key => 'rotation', kid => 'current'),
 ::token(key => 'rotation', kid => 'previous'),
 ::token(key => 'es256')]
--- response_body eval
["kid=current\n", "kid=previous\n", "kid=es256-1\n"]



=== TEST 6: $embed_session_claim_NAME: strings, numbers, booleans
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
        proxy_set_header X-Role $embed_session_claim_role;
        proxy_set_header X-Level $embed_session_claim_level;
        proxy_set_header X-Admin $embed_session_claim_admin;
        proxy_set_header X-Sub $embed_session_claim_sub;
        proxy_set_header X-User-Id $embed_session_claim_user_id;
        proxy_set_header X-Missing $embed_session_claim_missing;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }

    location /backend {
        return 200 "role=$http_x_role level=$http_x_level admin=$http_x_admin sub=$http_x_sub user_id=$http_x_user_id missing=[$http_x_missing]\n";
    }
--- more_headers eval
"X-Session-Token: "
. ::token(claims => { role => 'editor', level => 3, admin => \0,
                      user_id => 'u-77' })
. "\nOrigin: https://app.example.com"
--- response_body
role=editor level=3 admin=false sub=user-1 user_id=u-77 missing=[]



=== TEST 7: $embed_session_claim_NAME: an array of strings as text
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
        add_header X-Roles "[$embed_session_claim_roles]" always;
    }
--- user_files
>>> t
ok
--- more_headers eval
"X-Session-Token: "
. ::token(claims => { roles => ['viewer', 'editor'] })
. "\nOrigin: https://app.example.com"
--- response_body
ok
--- response_headers_like
X-Roles: \[viewer.editor\]



=== TEST 8: $embed_session_error and $embed_session_reason empty on success
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
        add_header X-Error "[$embed_session_error]" always;
        add_header X-Reason "[$embed_session_reason]" always;
        add_header X-Sub "[$embed_session_sub]" always;
    }
--- user_files
>>> t
ok
--- more_headers eval
"X-Session-Token: " . ::token() . "\nOrigin: https://app.example.com"
--- response_body
ok
--- response_headers
X-Error: []
X-Reason: []
X-Sub: [user-1]



=== TEST 9: no token: error SESSION_REQUIRED, claim variables empty
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
        add_header X-Error "[$embed_session_error]" always;
        add_header X-Sub "[$embed_session_sub]" always;
    }
--- user_files
>>> t
ok
--- error_code: 401
--- response_headers
X-Error: [SESSION_REQUIRED]
X-Sub: []



=== TEST 10: expired (signature valid): claim variables empty
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
        add_header X-Error "[$embed_session_error]" always;
        add_header X-Reason "[$embed_session_reason]" always;
        add_header X-Sub "[$embed_session_sub]" always;
        add_header X-Jti "[$embed_session_jti]" always;
        add_header X-Tenant "[$embed_session_tenant]" always;
        add_header X-Exp "[$embed_session_exp]" always;
        add_header X-Origins "[$embed_session_origins]" always;
        add_header X-Origin "[$embed_session_origin]" always;
        add_header X-Claim "[$embed_session_claim_role]" always;
    }
--- user_files
>>> t
ok
--- more_headers eval
"X-Session-Token: "
. ::token(claims => { iat => time - 900, exp => time - 600,
                      tenant => 'acme', role => 'admin' })
. "\nOrigin: https://app.example.com"
--- error_code: 401
--- response_headers
X-Error: [SESSION_EXPIRED]
X-Sub: []
X-Jti: []
X-Tenant: []
X-Exp: []
X-Origins: []
X-Origin: []
X-Claim: []
--- response_headers_like
X-Reason: \[.+\]



=== TEST 11: bad signature: claim variables empty, reason set
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
        add_header X-Error "[$embed_session_error]" always;
        add_header X-Reason "[$embed_session_reason]" always;
        add_header X-Sub "[$embed_session_sub]" always;
        add_header X-Claim "[$embed_session_claim_role]" always;
    }
--- user_files
>>> t
ok
--- more_headers eval
"X-Session-Token: "
. ::token(key => 'hs256-2', header => { kid => 'hs256-1' },
          claims => { role => 'admin' })
. "\nOrigin: https://app.example.com"
--- error_code: 401
--- response_headers
X-Error: [SESSION_INVALID]
X-Sub: []
X-Claim: []
--- response_headers_like
X-Reason: \[.+\]



=== TEST 12: wrong origin: claim variables empty
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
        add_header X-Error "[$embed_session_error]" always;
        add_header X-Sub "[$embed_session_sub]" always;
        add_header X-Origin "[$embed_session_origin]" always;
        add_header X-Tenant "[$embed_session_tenant]" always;
    }
--- user_files
>>> t
ok
--- more_headers eval
"X-Session-Token: " . ::token(claims => { tenant => 'acme' })
. "\nOrigin: https://evil.example.com"
--- error_code: 403
--- response_headers
X-Error: [ORIGIN_NOT_ALLOWED]
X-Sub: []
X-Origin: []
X-Tenant: []



=== TEST 13: require not met: claim variables empty
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
        embed_session_require tenant acme;
        add_header X-Error "[$embed_session_error]" always;
        add_header X-Sub "[$embed_session_sub]" always;
        add_header X-Tenant "[$embed_session_tenant]" always;
        add_header X-Claim "[$embed_session_claim_tenant]" always;
    }
--- user_files
>>> t
ok
--- more_headers eval
"X-Session-Token: " . ::token(claims => { tenant => 'other' })
. "\nOrigin: https://app.example.com"
--- error_code: 403
--- response_headers
X-Error: [SCOPE_NOT_GRANTED]
X-Sub: []
X-Tenant: []
X-Claim: []



=== TEST 14: wrong issuer: claim variables empty
--- config
    location /t {
        embed_session_verify on;
        embed_session_issuer https://issuer.example.com;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
        add_header X-Error "[$embed_session_error]" always;
        add_header X-Sub "[$embed_session_sub]" always;
        add_header X-Kid "[$embed_session_kid]" always;
    }
--- user_files
>>> t
ok
--- more_headers eval
"X-Session-Token: " . ::token(claims => { iss => 'https://other.example.com' })
. "\nOrigin: https://app.example.com"
--- error_code: 401
--- response_headers
X-Error: [SESSION_INVALID]
X-Sub: []



=== TEST 15: $embed_session_bearer
--- config
    location = /t {
        return 200 "[$embed_session_bearer]\n";
    }
--- pipelined_requests eval
[("GET /t") x 3]
--- more_headers eval
["Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig",
 "Authorization: Basic dXNlcjpwYXNzd29yZA==",
 "X-Session-Token: abc"]
--- response_body eval
["[eyJhbGciOiJIUzI1NiJ9.e30.sig]\n", "[]\n", "[]\n"]



=== TEST 16: variables in the access log of a passed request ("-": empty)
--- http_config
    log_format es '$embed_session_sub|$embed_session_jti|$embed_session_error';
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
        access_log logs/es.log es;
        proxy_set_header X-Sub $embed_session_sub;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }

    location /backend {
        return 200 "sub=$http_x_sub\n";
    }

    location = /log {
        alias logs/es.log;
    }
--- pipelined_requests eval
["GET /t", "GET /log"]
--- more_headers eval
["X-Session-Token: " . ::token(claims => { jti => 'sess-log' })
 . "\nOrigin: https://app.example.com", ""]
--- response_body_like eval
["^sub=user-1\n\$", "(?:^|\n)user-1\\|sess-log\\|-\n\$"]



=== TEST 17: the error and reason in the access log of a rejected request
--- http_config
    log_format es '[$embed_session_error] [$embed_session_sub] $status';
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
        access_log logs/es.log es;
    }

    location = /log {
        alias logs/es.log;
    }
--- user_files
>>> t
ok
--- pipelined_requests eval
["GET /t", "GET /log"]
--- more_headers eval
["X-Session-Token: " . ::token(claims => { iat => time - 900, exp => time - 600 })
 . "\nOrigin: https://app.example.com", ""]
--- error_code eval
[401, 200]
--- response_body_like eval
['"code":"SESSION_EXPIRED"', "(?:^|\n)\\[SESSION_EXPIRED\\] \\[-\\] 401\n\$"]



=== TEST 18: claim values are not taken from request headers
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
"X-Session-Token: " . ::token(claims => { sub => 'real' })
. "\nX-Sub: forged\nOrigin: https://app.example.com"
--- response_body
sub=real



=== TEST 19: $embed_session_origin is the normalised request origin
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
        add_header X-Origin "[$embed_session_origin]" always;
    }
--- user_files
>>> t
ok
--- more_headers eval
"X-Session-Token: " . ::token() . "\nOrigin: HTTPS://App.Example.com:443"
--- response_body
ok
--- response_headers
X-Origin: [https://app.example.com]



=== TEST 20: $embed_session_origin is empty when the origin check is off
--- config
    location /t {
        embed_session_verify on;
        embed_session_origin off;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
        add_header X-Origin "[$embed_session_origin]" always;
        add_header X-Sub "[$embed_session_sub]" always;
    }
--- user_files
>>> t
ok
--- more_headers eval
"X-Session-Token: " . ::token() . "\nOrigin: https://app.example.com"
--- response_body
ok
--- response_headers
X-Origin: []
X-Sub: [user-1]



=== TEST 21: a claim with control characters leaves its variable empty
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
        proxy_set_header X-Sub $embed_session_sub;
        proxy_set_header X-Role $embed_session_claim_role;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }

    location /backend {
        return 200 "sub=[$http_x_sub] role=[$http_x_role]\n";
    }
--- more_headers eval
"X-Session-Token: "
. ::token(claims => { sub => "user-1\r\nX-Admin: 1", role => "ed\titor" })
. "\nOrigin: https://app.example.com"
--- response_body
sub=[] role=[]



=== TEST 22: a claim with NUL is refused (jansson without JSON_ALLOW_NUL)
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }
--- user_files
>>> t
ok
--- more_headers eval
"X-Session-Token: " . ::token(claims => { role => "ed\x00itor" })
. "\nOrigin: https://app.example.com"
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"



=== TEST 23: $embed_session_args: the token argument removed for the upstream
--- config
    location /t {
        embed_session_verify on;
        embed_session_token $http_x_session_token $arg_token;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend?$embed_session_args;
    }

    location /backend {
        return 200 "args=[$args]\n";
    }
--- pipelined_requests eval
my $t = ::token();
["GET /t?a=1&token=$t&b=2", "GET /t?token=$t", "GET /t?token=$t&b=2",
 "GET /t?a=1&token=$t"]
--- more_headers
Origin: https://app.example.com
--- response_body eval
["args=[a=1&b=2]\n", "args=[]\n", "args=[b=2]\n", "args=[a=1]\n"]



=== TEST 24: $embed_session_args: several argument sources, others kept
--- config
    location /t {
        embed_session_verify on;
        embed_session_token $arg_t $arg_token;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend?$embed_session_args;
    }

    location /backend {
        return 200 "args=[$args]\n";
    }
--- request eval
my $t = ::token();
"GET /t?t=$t&tokens=1&token=x&xtoken=2&mytoken=3"
--- more_headers
Origin: https://app.example.com
--- response_body
args=[tokens=1&xtoken=2&mytoken=3]



=== TEST 25: $embed_session_args: the arguments as they are without $arg sources
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend?$embed_session_args;
    }

    location /backend {
        return 200 "args=[$args]\n";
    }
--- request
GET /t?a=1&token=abc&b=2
--- more_headers eval
"X-Session-Token: " . ::token() . "\nOrigin: https://app.example.com"
--- response_body
args=[a=1&token=abc&b=2]



=== TEST 26: $embed_session_request_line: the token value redacted in the log
--- http_config
    log_format es '$embed_session_request_line $status';
--- config
    location /t {
        embed_session_verify on;
        embed_session_token $arg_token;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
        access_log logs/es.log es;
    }

    location = /log {
        alias logs/es.log;
    }
--- user_files
>>> t
ok
--- pipelined_requests eval
my $t = ::token();
["GET /t?a=1&token=$t&b=2", "GET /t?token=forged.token.value", "GET /log"]
--- more_headers
Origin: https://app.example.com
--- error_code eval
[200, 401, 200]
--- response_body_like eval
["^ok\n\$", '"code":"SESSION_INVALID"',
 "GET /t\\?a=1&token=\\[redacted\\]&b=2 HTTP/1\\.1 200\n"
 . "GET /t\\?token=\\[redacted\\] HTTP/1\\.1 401\n\$"]



=== TEST 27: $embed_session_request_line: unchanged without a token argument
--- http_config
    log_format es '$embed_session_request_line';
--- config
    location /t {
        embed_session_verify on;
        embed_session_token $arg_token;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
        access_log logs/es.log es;
    }

    location = /log {
        alias logs/es.log;
    }
--- user_files
>>> t
ok
--- pipelined_requests eval
["GET /t?a=1&tokens=2", "GET /log"]
--- error_code eval
[401, 200]
--- response_body_like eval
['"code":"SESSION_REQUIRED"', "(?:^|\n)GET /t\\?a=1&tokens=2 HTTP/1\\.1\n\$"]
