# Origin binding: embed_session_origin, embed_session_origin_claim,
# embed_session_origin_referer, embed_session_origin_absent, and the
# normalisation of the request origin.

use FindBin;
use lib "$FindBin::Bin/lib";
use EmbedSessionTest;

repeat_each(2);
no_shuffle();

# a token whose origins claim is $origins (a string or an array)

sub tok {
    my ($origins) = @_;

    return token() unless defined $origins;
    return token(claims => { origins => $origins });
}

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

add_block_preprocessor(sub {
    my $block = shift;

    if (!defined $block->config) {
        $block->set_value('config', <<'_EOC_');
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }
_EOC_
    }

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

=== TEST 1: default on: the Origin in the token passes
--- more_headers eval
"X-Session-Token: " . ::tok() . "\nOrigin: https://app.example.com"
--- response_body
ok



=== TEST 2: default on: another Origin is 403 ORIGIN_NOT_ALLOWED
--- more_headers eval
"X-Session-Token: " . ::tok() . "\nOrigin: https://evil.example.com"
--- error_code: 403
--- response_headers
!WWW-Authenticate
Content-Type: application/json
--- response_body_like chomp
^\{"error":"[^"]+","code":"ORIGIN_NOT_ALLOWED"\}\n?$
--- error_log eval
qr/\[info\].*(?i:origin)/



=== TEST 3: default on, absent deny: no Origin is 403
--- more_headers eval
"X-Session-Token: " . ::tok()
--- error_code: 403
--- response_headers
!WWW-Authenticate
--- response_body_like: "code":"ORIGIN_NOT_ALLOWED"
--- error_log eval
qr/\[info\].*(?i:origin)/



=== TEST 4: origin off: any Origin and none pass
--- config
    location /t {
        embed_session_verify on;
        embed_session_origin off;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }
--- pipelined_requests eval
[("GET /t") x 4]
--- more_headers eval
["X-Session-Token: " . ::tok() . "\nOrigin: https://evil.example.com",
 "X-Session-Token: " . ::tok(),
 "X-Session-Token: " . ::tok() . "\nOrigin: null",
 "X-Session-Token: " . ::token(claims => { origins => undef })]
--- response_body eval
[("ok\n") x 4]



=== TEST 5: absent allow: no Origin passes
--- config
    location /t {
        embed_session_verify on;
        embed_session_origin_absent allow;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }
--- more_headers eval
"X-Session-Token: " . ::tok()
--- response_body
ok



=== TEST 6: absent allow: a wrong Origin still fails
--- config
    location /t {
        embed_session_verify on;
        embed_session_origin_absent allow;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }
--- more_headers eval
"X-Session-Token: " . ::tok() . "\nOrigin: https://evil.example.com"
--- error_code: 403
--- response_body_like: "code":"ORIGIN_NOT_ALLOWED"



=== TEST 7: absent allow: a malformed Origin is not "absent"
--- config
    location /t {
        embed_session_verify on;
        embed_session_origin_absent allow;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }
--- pipelined_requests eval
[("GET /t") x 2]
--- more_headers eval
["X-Session-Token: " . ::tok() . "\nOrigin: null",
 "X-Session-Token: " . ::tok() . "\nOrigin: not an origin"]
--- error_code eval
[403, 403]
--- response_body_like eval
[('"code":"ORIGIN_NOT_ALLOWED"') x 2]



=== TEST 8: referer on: the origin of the Referer is used without Origin
--- config
    location /t {
        embed_session_verify on;
        embed_session_origin_referer on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }
--- pipelined_requests eval
[("GET /t") x 3]
--- more_headers eval
["X-Session-Token: " . ::tok()
 . "\nReferer: https://app.example.com/embed/page?x=1#frag",
 "X-Session-Token: " . ::tok()
 . "\nReferer: https://app.example.com/",
 "X-Session-Token: " . ::tok()
 . "\nReferer: https://APP.example.com:443/x"]
--- response_body eval
[("ok\n") x 3]



=== TEST 9: referer on: a Referer of another origin fails
--- config
    location /t {
        embed_session_verify on;
        embed_session_origin_referer on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }
--- pipelined_requests eval
[("GET /t") x 3]
--- more_headers eval
["X-Session-Token: " . ::tok()
 . "\nReferer: https://evil.example.com/https://app.example.com/",
 "X-Session-Token: " . ::tok()
 . "\nReferer: https://app.example.com.evil.example.com/",
 "X-Session-Token: " . ::tok()
 . "\nReferer: http://app.example.com/"]
--- error_code eval
[403, 403, 403]
--- response_body_like eval
[('"code":"ORIGIN_NOT_ALLOWED"') x 3]



=== TEST 10: referer on: an Origin header takes precedence over Referer
--- config
    location /t {
        embed_session_verify on;
        embed_session_origin_referer on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }
--- more_headers eval
"X-Session-Token: " . ::tok()
. "\nOrigin: https://evil.example.com"
. "\nReferer: https://app.example.com/page"
--- error_code: 403
--- response_body_like: "code":"ORIGIN_NOT_ALLOWED"



=== TEST 11: referer off (default): Referer alone is no origin
--- more_headers eval
"X-Session-Token: " . ::tok()
. "\nReferer: https://app.example.com/page"
--- error_code: 403
--- response_body_like: "code":"ORIGIN_NOT_ALLOWED"



=== TEST 12: referer on, absent deny: neither Origin nor Referer fails
--- config
    location /t {
        embed_session_verify on;
        embed_session_origin_referer on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }
--- more_headers eval
"X-Session-Token: " . ::tok()
--- error_code: 403
--- response_body_like: "code":"ORIGIN_NOT_ALLOWED"



=== TEST 13: referer on, absent allow: neither Origin nor Referer passes
--- config
    location /t {
        embed_session_verify on;
        embed_session_origin_referer on;
        embed_session_origin_absent allow;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }
--- more_headers eval
"X-Session-Token: " . ::tok()
--- response_body
ok



=== TEST 14: origin claim: a string
--- more_headers eval
"X-Session-Token: " . ::tok('https://app.example.com')
. "\nOrigin: https://app.example.com"
--- response_body
ok



=== TEST 15: origin claim: an array with several origins
--- pipelined_requests eval
[("GET /t") x 3]
--- more_headers eval
[map { "X-Session-Token: "
       . ::tok(['https://a.example.com', 'https://app.example.com:8443',
                'http://localhost:3000'])
       . "\nOrigin: $_" }
 'https://a.example.com', 'https://app.example.com:8443',
 'http://localhost:3000']
--- response_body eval
[("ok\n") x 3]



=== TEST 16: origin claim: missing, empty, of another type fails
--- pipelined_requests eval
[("GET /t") x 4]
--- more_headers eval
[map { "X-Session-Token: " . ::token(claims => { origins => $_ })
       . "\nOrigin: https://app.example.com" }
 undef, [], '', { 'https://app.example.com' => 1 }]
--- error_code eval
[(403) x 4]
--- response_body_like eval
[('"code":"ORIGIN_NOT_ALLOWED"') x 4]



=== TEST 17: embed_session_origin_claim: another claim name
--- config
    location /t {
        embed_session_verify on;
        embed_session_origin_claim allowed_origins;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }
--- pipelined_requests eval
[("GET /t") x 3]
--- more_headers eval
["X-Session-Token: "
 . ::token(claims => { origins => undef,
                       allowed_origins => ['https://app.example.com'] })
 . "\nOrigin: https://app.example.com",
 "X-Session-Token: "
 . ::token(claims => { origins => undef,
                       allowed_origins => 'https://app.example.com' })
 . "\nOrigin: https://app.example.com",
 "X-Session-Token: " . ::tok()
 . "\nOrigin: https://app.example.com"]
--- error_code eval
[200, 200, 403]
--- response_body_like eval
["^ok\n\$", "^ok\n\$", '"code":"ORIGIN_NOT_ALLOWED"']



=== TEST 18: normalisation: default ports, case
--- pipelined_requests eval
[("GET /t") x 4]
--- more_headers eval
["X-Session-Token: " . ::tok() . "\nOrigin: https://app.example.com:443",
 "X-Session-Token: " . ::tok() . "\nOrigin: HTTPS://APP.EXAMPLE.COM",
 "X-Session-Token: " . ::tok() . "\nOrigin: https://App.Example.Com:443",
 "X-Session-Token: " . ::tok('http://app.example.com')
 . "\nOrigin: http://app.example.com:80"]
--- response_body eval
[("ok\n") x 4]



=== TEST 19: normalisation: other ports and schemes do not match
--- pipelined_requests eval
[("GET /t") x 4]
--- more_headers eval
["X-Session-Token: " . ::tok() . "\nOrigin: https://app.example.com:8443",
 "X-Session-Token: " . ::tok() . "\nOrigin: http://app.example.com",
 "X-Session-Token: " . ::tok() . "\nOrigin: https://app.example.com:80",
 "X-Session-Token: " . ::tok('http://app.example.com')
 . "\nOrigin: http://app.example.com:443"]
--- error_code eval
[(403) x 4]
--- response_body_like eval
[('"code":"ORIGIN_NOT_ALLOWED"') x 4]



=== TEST 20: never match: null, userinfo, path, query, fragment, trailing dot
--- pipelined_requests eval
[("GET /t") x 8]
--- more_headers eval
[map { "X-Session-Token: " . ::tok() . "\nOrigin: $_" }
 'null',
 'https://user@app.example.com',
 'https://user:pw@app.example.com',
 'https://app.example.com/',
 'https://app.example.com/path',
 'https://app.example.com?x=1',
 'https://app.example.com#f',
 'https://app.example.com.']
--- error_code eval
[(403) x 8]
--- response_body_like eval
[('"code":"ORIGIN_NOT_ALLOWED"') x 8]



=== TEST 21: never match: the same strings in the claim
--- pipelined_requests eval
[("GET /t") x 4]
--- more_headers eval
[map { "X-Session-Token: " . ::tok([$_->[0]]) . "\nOrigin: $_->[1]" }
 ['null', 'null'],
 ['https://app.example.com.', 'https://app.example.com.'],
 ['https://user@app.example.com', 'https://user@app.example.com'],
 ['https://app.example.com/', 'https://app.example.com/']]
--- error_code eval
[(403) x 4]
--- response_body_like eval
[('"code":"ORIGIN_NOT_ALLOWED"') x 4]



=== TEST 22: never match: wildcards in the claim
--- pipelined_requests eval
[("GET /t") x 3]
--- more_headers eval
["X-Session-Token: " . ::tok(['https://*.example.com'])
 . "\nOrigin: https://app.example.com",
 "X-Session-Token: " . ::tok(['*'])
 . "\nOrigin: https://app.example.com",
 "X-Session-Token: " . ::tok(['https://*.example.com'])
 . "\nOrigin: https://*.example.com"]
--- error_code eval
[(403) x 3]
--- response_body_like eval
[('"code":"ORIGIN_NOT_ALLOWED"') x 3]



=== TEST 23: never match: unknown schemes
--- pipelined_requests eval
[("GET /t") x 3]
--- more_headers eval
[map { "X-Session-Token: " . ::tok([$_]) . "\nOrigin: $_" }
 'ftp://app.example.com', 'file://app.example.com',
 'chrome-extension://abcdefghijklmnop']
--- error_code eval
[(403) x 3]
--- response_body_like eval
[('"code":"ORIGIN_NOT_ALLOWED"') x 3]



=== TEST 24: never match: two Origin headers
--- more_headers eval
"X-Session-Token: " . ::tok()
. "\nOrigin: https://app.example.com"
. "\nOrigin: https://app.example.com"
--- error_code: 403
--- response_body_like: "code":"ORIGIN_NOT_ALLOWED"



=== TEST 25: no prefix or suffix matching
--- pipelined_requests eval
[("GET /t") x 3]
--- more_headers eval
[map { "X-Session-Token: " . ::tok() . "\nOrigin: $_" }
 'https://app.example.com.evil.com',
 'https://evilapp.example.com',
 'https://app.example.co']
--- error_code eval
[(403) x 3]
--- response_body_like eval
[('"code":"ORIGIN_NOT_ALLOWED"') x 3]



=== TEST 26: the signature is checked before the origin
--- more_headers eval
"X-Session-Token: " . ::token(key => 'hs256-2', header => { kid => 'hs256-1' })
. "\nOrigin: https://evil.example.com"
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"



=== TEST 27: an IP address with a port matches exactly
--- more_headers eval
"X-Session-Token: " . ::tok(['http://127.0.0.1:8080'])
. "\nOrigin: http://127.0.0.1:8080"
--- response_body
ok
