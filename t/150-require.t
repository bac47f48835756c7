# embed_session_require: a claim (or a dotted path) must equal a value or
# be an array holding it; values may contain variables; an empty value
# never matches; all requires must hold.  Failure: 403 SCOPE_NOT_GRANTED.

use FindBin;
use lib "$FindBin::Bin/lib";
use EmbedSessionTest;

repeat_each(2);
no_shuffle();

# request headers with a token carrying these claims

sub claims {
    my (%c) = @_;
    return "X-Session-Token: " . token(claims => \%c)
           . "\nOrigin: https://app.example.com";
}

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

add_block_preprocessor(sub {
    my $block = shift;

    if (!defined $block->user_files) {
        $block->set_value('user_files', ">>> t\nok\n");
    }

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

=== TEST 1: a string claim equal to the value passes
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
        embed_session_require tenant acme;
    }
--- more_headers eval
::claims(tenant => 'acme')
--- response_body
ok



=== TEST 2: a string claim not equal: 403 SCOPE_NOT_GRANTED
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
        embed_session_require tenant acme;
    }
--- more_headers eval
::claims(tenant => 'other')
--- error_code: 403
--- response_headers
WWW-Authenticate: Bearer error="insufficient_scope"
Content-Type: application/json
--- response_body_like chomp
^\{"error":"[^"]+","code":"SCOPE_NOT_GRANTED"\}\n?$
--- error_log eval
qr/\[info\].*SCOPE_NOT_GRANTED.*claim/



=== TEST 3: string comparison is exact
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
        embed_session_require tenant acme;
    }
--- pipelined_requests eval
[("GET /t") x 5]
--- more_headers eval
[::claims(tenant => 'ACME'),
 ::claims(tenant => 'acme '),
 ::claims(tenant => 'acmecorp'),
 ::claims(tenant => 'acm'),
 ::claims(tenant => undef)]
--- error_code eval
[(403) x 5]
--- response_body_like eval
[('"code":"SCOPE_NOT_GRANTED"') x 5]



=== TEST 4: array membership
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
        embed_session_require roles editor;
    }
--- pipelined_requests eval
[("GET /t") x 5]
--- more_headers eval
[::claims(roles => ['viewer', 'editor']),
 ::claims(roles => ['editor']),
 ::claims(roles => ['viewer', 'admin']),
 ::claims(roles => []),
 ::claims(roles => ['viewer,editor'])]
--- error_code eval
[200, 200, 403, 403, 403]
--- response_body_like eval
["^ok\n\$", "^ok\n\$", ('"code":"SCOPE_NOT_GRANTED"') x 3]



=== TEST 5: dotted path: permissions.publish true
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
        embed_session_require permissions.publish true;
    }
--- pipelined_requests eval
[("GET /t") x 6]
--- more_headers eval
[::claims(permissions => { publish => \1, view => \1 }),
 ::claims(permissions => { publish => \0 }),
 ::claims(permissions => { view => \1 }),
 ::claims(permissions => undef),
 ::claims(permissions => 'publish'),
 ::claims('permissions.publish' => \1)]
--- error_code eval
[200, 403, 403, 403, 403, 403]
--- response_body_like eval
["^ok\n\$", ('"code":"SCOPE_NOT_GRANTED"') x 5]



=== TEST 6: dotted path: false
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
        embed_session_require permissions.publish false;
    }
--- pipelined_requests eval
[("GET /t") x 3]
--- more_headers eval
[::claims(permissions => { publish => \0 }),
 ::claims(permissions => { publish => \1 }),
 ::claims(permissions => {})]
--- error_code eval
[200, 403, 403]
--- response_body_like eval
["^ok\n\$", ('"code":"SCOPE_NOT_GRANTED"') x 2]



=== TEST 7: dotted path: several levels and arrays at the end
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
        embed_session_require org.team.roles publisher;
    }
--- pipelined_requests eval
[("GET /t") x 2]
--- more_headers eval
[::claims(org => { team => { roles => ['viewer', 'publisher'] } }),
 ::claims(org => { team => { roles => ['viewer'] } })]
--- error_code eval
[200, 403]
--- response_body_like eval
["^ok\n\$", '"code":"SCOPE_NOT_GRANTED"']



=== TEST 8: an integer in decimal
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
        embed_session_require level 3;
    }
--- pipelined_requests eval
[("GET /t") x 5]
--- more_headers eval
[::claims(level => 3),
 ::claims(level => [1, 3]),
 ::claims(level => 4),
 ::claims(level => 30),
 ::claims(level => \1)]
--- error_code eval
[200, 200, 403, 403, 403]
--- response_body_like eval
["^ok\n\$", "^ok\n\$", ('"code":"SCOPE_NOT_GRANTED"') x 3]



=== TEST 9: the value from a variable ($arg_tenant)
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
        embed_session_require tenant $arg_tenant;
    }
--- pipelined_requests eval
["GET /t?tenant=acme", "GET /t?tenant=other", "GET /t?tenant=ACME"]
--- more_headers eval
::claims(tenant => 'acme')
--- error_code eval
[200, 403, 403]
--- response_body_like eval
["^ok\n\$", ('"code":"SCOPE_NOT_GRANTED"') x 2]



=== TEST 10: a value with text and a variable
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
        embed_session_require scopes "docs:$arg_doc";
    }
--- pipelined_requests eval
["GET /t?doc=42", "GET /t?doc=43"]
--- more_headers eval
::claims(scopes => ['docs:41', 'docs:42'])
--- error_code eval
[200, 403]
--- response_body_like eval
["^ok\n\$", '"code":"SCOPE_NOT_GRANTED"']



=== TEST 11: an empty variable never matches, not even an empty claim
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
        embed_session_require tenant $arg_tenant;
    }
--- pipelined_requests eval
["GET /t", "GET /t?tenant=", "GET /t", "GET /t?tenant="]
--- more_headers eval
[::claims(tenant => ''),
 ::claims(tenant => ''),
 ::claims(tenant => ['']),
 ::claims(tenant => undef)]
--- error_code eval
[(403) x 4]
--- response_body_like eval
[('"code":"SCOPE_NOT_GRANTED"') x 4]



=== TEST 12: several requires: all must hold
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
        embed_session_require tenant acme;
        embed_session_require roles admin;
        embed_session_require permissions.publish true;
    }
--- pipelined_requests eval
[("GET /t") x 4]
--- more_headers eval
[::claims(tenant => 'acme', roles => ['admin'],
          permissions => { publish => \1 }),
 ::claims(tenant => 'other', roles => ['admin'],
          permissions => { publish => \1 }),
 ::claims(tenant => 'acme', roles => ['viewer'],
          permissions => { publish => \1 }),
 ::claims(tenant => 'acme', roles => ['admin'],
          permissions => { publish => \0 })]
--- error_code eval
[200, 403, 403, 403]
--- response_body_like eval
["^ok\n\$", ('"code":"SCOPE_NOT_GRANTED"') x 3]



=== TEST 13: two requires of the same claim: both values needed
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
        embed_session_require roles editor;
        embed_session_require roles publisher;
    }
--- pipelined_requests eval
[("GET /t") x 2]
--- more_headers eval
[::claims(roles => ['editor', 'publisher']),
 ::claims(roles => ['editor'])]
--- error_code eval
[200, 403]
--- response_body_like eval
["^ok\n\$", '"code":"SCOPE_NOT_GRANTED"']



=== TEST 14: nested error format
--- config
    location /t {
        embed_session_verify on;
        embed_session_error_format nested;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
        embed_session_require tenant acme;
    }
--- more_headers eval
::claims(tenant => 'other')
--- error_code: 403
--- response_headers
WWW-Authenticate: Bearer error="insufficient_scope"
--- response_body_like chomp
^\{"error":\{"code":"SCOPE_NOT_GRANTED","message":"[^"]+"\}\}\n?$



=== TEST 15: an invalid token is 401, not 403
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
        embed_session_require tenant acme;
    }
--- more_headers eval
"X-Session-Token: "
. ::token(key => 'hs256-2', header => { kid => 'hs256-1' },
          claims => { tenant => 'acme' })
. "\nOrigin: https://app.example.com"
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"



=== TEST 16: a require on a location without verification does nothing
--- config
    location /t {
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
        embed_session_require tenant acme;
    }
--- request
GET /t
--- response_body
ok
