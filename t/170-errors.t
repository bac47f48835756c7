# Error responses: every code with its status, WWW-Authenticate and JSON
# body in both formats; error_page takes over the body; with "satisfy any"
# the module only returns the status; the reason is logged at info, the
# token never.

use FindBin;
use lib "$FindBin::Bin/lib";
use EmbedSessionTest;

repeat_each(2);
no_shuffle();

our $EXPIRED = token(claims => { iat => time - 900, exp => time - 600 });
our $FORGED = token(key => 'hs256-2', header => { kid => 'hs256-1' });

sub hdr {
    my ($jws, $origin) = @_;
    return "X-Session-Token: $jws\nOrigin: "
           . ($origin // 'https://app.example.com');
}

# the signature part of a token: what must never reach the log

sub sig_of {
    my ($jws) = @_;
    return (split /\./, $jws)[2];
}

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

add_block_preprocessor(sub {
    my $block = shift;

    if (!defined $block->config) {
        $block->set_value('config', <<'_EOC_');
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
        embed_session_require tenant acme;
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

=== TEST 1: SESSION_REQUIRED, flat
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer
Content-Type: application/json
--- response_body_like chomp
^\{"error":"[^"]+","code":"SESSION_REQUIRED"\}\n?$
--- error_log eval
qr/\[info\].*SESSION_REQUIRED/



=== TEST 2: SESSION_INVALID, flat
--- more_headers eval
::hdr($::FORGED)
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer error="invalid_token"
Content-Type: application/json
--- response_body_like chomp
^\{"error":"[^"]+","code":"SESSION_INVALID"\}\n?$
--- error_log eval
qr/\[info\].*SESSION_INVALID/



=== TEST 3: SESSION_EXPIRED, flat (the README example)
--- more_headers eval
::hdr($::EXPIRED)
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer error="invalid_token"
Content-Type: application/json
--- response_body_like chomp
^\{"error":"Session token expired","code":"SESSION_EXPIRED"\}\n?$
--- error_log eval
qr/\[info\].*SESSION_EXPIRED/



=== TEST 4: ORIGIN_NOT_ALLOWED, flat, no WWW-Authenticate
--- more_headers eval
::hdr(::token(claims => { tenant => 'acme' }), 'https://evil.example.com')
--- error_code: 403
--- response_headers
!WWW-Authenticate
Content-Type: application/json
--- response_body_like chomp
^\{"error":"[^"]+","code":"ORIGIN_NOT_ALLOWED"\}\n?$
--- error_log eval
qr/\[info\].*ORIGIN_NOT_ALLOWED/



=== TEST 5: SCOPE_NOT_GRANTED, flat
--- more_headers eval
::hdr(::token(claims => { tenant => 'other' }))
--- error_code: 403
--- response_headers
WWW-Authenticate: Bearer error="insufficient_scope"
Content-Type: application/json
--- response_body_like chomp
^\{"error":"[^"]+","code":"SCOPE_NOT_GRANTED"\}\n?$
--- error_log eval
qr/\[info\].*SCOPE_NOT_GRANTED/



=== TEST 6: all codes, nested
--- config
    location /t {
        embed_session_verify on;
        embed_session_error_format nested;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
        embed_session_require tenant acme;
    }
--- pipelined_requests eval
[("GET /t") x 5]
--- more_headers eval
["Origin: https://app.example.com",
 ::hdr($::FORGED),
 ::hdr($::EXPIRED),
 ::hdr(::token(claims => { tenant => 'acme' }), 'https://evil.example.com'),
 ::hdr(::token(claims => { tenant => 'other' }))]
--- error_code eval
[401, 401, 401, 403, 403]
--- response_body_like eval
['^\{"error":\{"code":"SESSION_REQUIRED","message":"[^"]+"\}\}\n?$',
 '^\{"error":\{"code":"SESSION_INVALID","message":"[^"]+"\}\}\n?$',
 '^\{"error":\{"code":"SESSION_EXPIRED",'
 . '"message":"Session token expired"\}\}\n?$',
 '^\{"error":\{"code":"ORIGIN_NOT_ALLOWED","message":"[^"]+"\}\}\n?$',
 '^\{"error":\{"code":"SCOPE_NOT_GRANTED","message":"[^"]+"\}\}\n?$']



=== TEST 7: nested: the README example for SESSION_EXPIRED
--- config
    location /t {
        embed_session_verify on;
        embed_session_error_format nested;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }
--- more_headers eval
::hdr($::EXPIRED)
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer error="invalid_token"
Content-Type: application/json
--- response_body_like chomp
^\{"error":\{"code":"SESSION_EXPIRED","message":"Session token expired"\}\}\n?$



=== TEST 8: the error body is valid JSON in both formats
--- config
    location /flat {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }

    location /nested {
        embed_session_verify on;
        embed_session_error_format nested;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }
--- user_files
>>> flat
ok
>>> nested
ok
--- pipelined_requests eval
["GET /flat", "GET /nested"]
--- error_code eval
[401, 401]
--- response_body_like eval
['^\s*\{.*\}\s*$', '^\s*\{.*\}\s*$']



=== TEST 9: malformed tokens are SESSION_INVALID
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }
--- pipelined_requests eval
[("GET /t") x 9]
--- more_headers eval
[map { ::hdr($_) }
 'abc',
 'a.b',
 'a.b.c.d',
 '..',
 'eyJhbGciOiJIUzI1NiJ9..sig',
 ::token() . '=',
 ::token() =~ s/\./+./r,
 ::token(raw_payload => 'not json'),
 ::token(raw_header => '{"alg":"HS256","alg":"HS256","kid":"hs256-1",'
                       . '"typ":"embed-session+jwt"}')]
--- error_code eval
[(401) x 9]
--- response_body_like eval
[('"code":"SESSION_INVALID"') x 9]



=== TEST 10: a token over 8 KiB is SESSION_INVALID
--- config
    large_client_header_buffers 4 32k;

    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }
--- more_headers eval
::hdr(::token(claims => { pad => 'x' x 9000 }))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"



=== TEST 11: error_page 401 takes over the body, variables stay set
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
        error_page 401 /err401;
    }

    location = /err401 {
        internal;
        return 401 "custom error=$embed_session_error\n";
    }
--- more_headers eval
::hdr($::EXPIRED)
--- error_code: 401
--- response_body
custom error=SESSION_EXPIRED



=== TEST 12: error_page 401 for SESSION_REQUIRED to a static file
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
        error_page 401 /401.html;
    }
--- user_files
>>> t
ok
>>> 401.html
<p>please sign in</p>
--- error_code: 401
--- response_body
<p>please sign in</p>



=== TEST 13: error_page 403 for ORIGIN_NOT_ALLOWED, variables stay set
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
        error_page 403 /err403;
    }

    location = /err403 {
        internal;
        return 403 "denied error=$embed_session_error reason=[$embed_session_reason]\n";
    }
--- more_headers eval
::hdr(::token(), 'https://evil.example.com')
--- error_code: 403
--- response_body_like chomp
^denied error=ORIGIN_NOT_ALLOWED reason=\[.+\]\n$



=== TEST 14: error_page 403 for SCOPE_NOT_GRANTED
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
        embed_session_require tenant acme;
        error_page 403 /err403;
    }

    location = /err403 {
        internal;
        return 403 "denied error=$embed_session_error\n";
    }
--- more_headers eval
::hdr(::token(claims => { tenant => 'other' }))
--- error_code: 403
--- response_body
denied error=SCOPE_NOT_GRANTED



=== TEST 15: error_page for another status does not change the JSON body
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
        error_page 403 /err403;
    }

    location = /err403 {
        internal;
        return 403 "denied\n";
    }
--- more_headers eval
::hdr($::EXPIRED)
--- error_code: 401
--- response_headers
Content-Type: application/json
--- response_body_like: "code":"SESSION_EXPIRED"



=== TEST 16: error_page inherited from the server level
--- config
    error_page 401 /err401;

    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }

    location = /err401 {
        internal;
        return 401 "custom error=$embed_session_error\n";
    }
--- more_headers eval
::hdr($::FORGED)
--- error_code: 401
--- response_body
custom error=SESSION_INVALID



=== TEST 17: satisfy any: another access module allows the request
--- config
    location /t {
        satisfy any;
        allow 127.0.0.1;
        deny all;
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }
--- pipelined_requests eval
[("GET /t") x 3]
--- more_headers eval
["", ::hdr($::FORGED), ::hdr($::EXPIRED)]
--- response_body eval
[("ok\n") x 3]



=== TEST 18: satisfy any: a valid token allows the request
--- config
    location /t {
        satisfy any;
        deny all;
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }
--- more_headers eval
::hdr(::token())
--- response_body
ok



=== TEST 19: satisfy any: everything denies: only the status
--- config
    location /t {
        satisfy any;
        deny all;
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
        add_header X-Error "[$embed_session_error]" always;
    }
--- pipelined_requests eval
[("GET /t") x 2]
--- more_headers eval
["", ::hdr($::EXPIRED)]
--- error_code eval
[401, 401]
--- response_headers eval
["X-Error: [SESSION_REQUIRED]", "X-Error: [SESSION_EXPIRED]"]
--- response_body_like eval
[("401 Authorization Required") x 2]



=== TEST 20: satisfy any: the status goes to error_page
--- config
    location /t {
        satisfy any;
        deny all;
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
        error_page 401 /err401;
    }

    location = /err401 {
        internal;
        return 401 "custom error=$embed_session_error\n";
    }
--- more_headers eval
::hdr($::FORGED)
--- error_code: 401
--- response_body
custom error=SESSION_INVALID



=== TEST 21: satisfy all (default): the module answers after allow passes
--- config
    location /t {
        allow 127.0.0.1;
        deny all;
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }
--- more_headers eval
::hdr($::FORGED)
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"



=== TEST 22: the reason is logged at info level, the token never
--- log_level: info
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }
--- more_headers eval
::hdr($::EXPIRED)
--- error_code: 401
--- error_log eval
qr/\[info\] .*embed_session.*SESSION_EXPIRED/
--- no_error_log eval
["[error]", ::sig_of($::EXPIRED), (split /\./, $::EXPIRED)[1]]



=== TEST 23: a forged token is never logged either
--- log_level: info
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }
--- more_headers eval
::hdr($::FORGED)
--- error_code: 401
--- error_log eval
qr/\[info\] .*SESSION_INVALID/
--- no_error_log eval
["[error]", ::sig_of($::FORGED), (split /\./, $::FORGED)[1]]



=== TEST 24: a rejection logs nothing at warn or above
--- log_level: info
--- more_headers eval
::hdr($::FORGED)
--- error_code: 401
--- no_error_log
[error]
[warn]



=== TEST 25: HEAD: status and headers without a body
--- request
HEAD /t
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer
Content-Type: application/json
--- response_body



=== TEST 26: subrequests are not checked
--- config
    location /page {
        ssi on;
        ssi_types text/plain;
    }

    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }
--- user_files
>>> t
inner
>>> page
before <!--# include virtual="/t" --> after
--- request
GET /page
--- response_body
before inner
 after
