# vim:set ft= ts=4 sw=4 et fdm=marker:

# Security rules 24 and 25 of docs/security.md: claims forwarded to the
# upstream never carry CR, LF, NUL or other control characters, a client's
# copy of a forwarded header never survives, and a token that arrives in
# the query string reaches neither the upstream ($embed_session_args) nor
# the logs ($embed_session_request_line).

use FindBin;
use lib "$FindBin::Bin/lib";
use EmbedSessionTest;
use EmbedSessionSecurity;

repeat_each(2);

plan 'no_plan';

# a token with a fixed jti, so that the backend's echo is exact

sub tk {
    return token(claims => { jti => 'sess-1', @_ });
}

# a token for the query-string tests, made once: the error log is searched
# for its signature

our $QT = token(claims => { jti => 'sess-q' });
our $QT_SIG = (split /\./, $QT)[2];

# a token whose signature does not verify

our $QT_BAD = $QT =~ s/.\z/$& eq 'A' ? 'Q' : 'A'/er;

add_block_preprocessor(sub {
    my $block = shift;

    $block->run_filters unless $block->is_filtered;

    $block->set_value('config', <<'_EOC_')
    location /app/ {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;

        proxy_set_header X-Sub $embed_session_sub;
        proxy_set_header X-Tenant $embed_session_tenant;
        proxy_set_header X-Role $embed_session_claim_role;
        proxy_set_header X-Jti $embed_session_jti;

        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }

    location /backend {
        return 200 "sub=[$http_x_sub] tenant=[$http_x_tenant] role=[$http_x_role] jti=[$http_x_jti] injected=[$http_x_injected]\n";
    }

    location /q/ {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
        embed_session_token $arg_session_token;

        add_header X-Logged $embed_session_request_line always;
        access_log logs/redacted.log redacted;

        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/echo-args?$embed_session_args;
    }

    location /echo-args {
        return 200 "args=[$args]\n";
    }

    location /vars/ {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;

        add_header X-Sub "[$embed_session_sub]" always;
        add_header X-Error "[$embed_session_error]" always;
        add_header X-Origins "[$embed_session_origins]" always;
        root html;
    }

    location = /readlog {
        default_type text/plain;
        alias logs/redacted.log;
    }
_EOC_
        unless defined $block->config;

    $block->set_value('http_config', <<'_EOC_')
    log_format redacted "$embed_session_request_line";
_EOC_
        unless defined $block->http_config;

    $block->set_value('user_files', ">>> vars/index.html\nok\n")
        unless defined $block->user_files;

    $block->set_value('request', "GET /app/\n")
        unless defined $block->request;
});

run_tests();

__DATA__

=== TEST 1: rule 24: baseline: the verified claims reach the upstream through proxy_set_header
--- more_headers eval
::h(::tk(tenant => 'acme', role => 'editor'))
--- response_body
sub=[user-1] tenant=[acme] role=[editor] jti=[sess-1] injected=[]
--- no_error_log
[error]



=== TEST 2: rule 24: a client-sent X-Sub is replaced by the token's sub
--- more_headers eval
::h(::tk()) . "\nX-Sub: admin\nX-Tenant: other\nX-Role: owner"
--- response_body
sub=[user-1] tenant=[] role=[] jti=[sess-1] injected=[]
--- no_error_log
[error]



=== TEST 3: rule 24: a sub with CR LF and an injected header line never reaches the upstream (the variable is empty)
--- more_headers eval
::h(::tk(sub => "user-1\r\nX-Injected: yes"))
--- response_body
sub=[] tenant=[] role=[] jti=[sess-1] injected=[]
--- error_log
has control characters, left empty
--- no_error_log
[error]



=== TEST 4: rule 24: with a CR LF sub, a client-sent X-Sub does not survive either
--- more_headers eval
::h(::tk(sub => "user-1\r\nX-Injected: yes")) . "\nX-Sub: admin"
--- response_body
sub=[] tenant=[] role=[] jti=[sess-1] injected=[]
--- no_error_log
[error]



=== TEST 5: rule 24: a sub with a bare LF is not forwarded
--- more_headers eval
::h(::tk(sub => "user-1\nX-Injected: yes"))
--- response_body
sub=[] tenant=[] role=[] jti=[sess-1] injected=[]
--- no_error_log
[error]



=== TEST 6: rule 24: a sub with a bare CR is not forwarded
--- more_headers eval
::h(::tk(sub => "user-1\rX-Injected: yes"))
--- response_body
sub=[] tenant=[] role=[] jti=[sess-1] injected=[]
--- no_error_log
[error]



=== TEST 7: rule 24: a sub with "\u0000" is rejected as a whole (never JSON_ALLOW_NUL)
--- more_headers eval
::h(::tk(sub => "user-1\x00admin"))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: payload is not a JSON object
--- no_error_log
[error]



=== TEST 8: rule 24: a sub with a control character (U+0001) is not forwarded
--- more_headers eval
::h(::tk(sub => "user-1\x01"))
--- response_body
sub=[] tenant=[] role=[] jti=[sess-1] injected=[]
--- no_error_log
[error]



=== TEST 9: rule 24: a sub with U+001F is not forwarded
--- more_headers eval
::h(::tk(sub => "user\x1f1"))
--- response_body
sub=[] tenant=[] role=[] jti=[sess-1] injected=[]
--- no_error_log
[error]



=== TEST 10: rule 24: a sub with DEL (U+007F) is not forwarded
--- more_headers eval
::h(::tk(sub => "user-1\x7f"))
--- response_body
sub=[] tenant=[] role=[] jti=[sess-1] injected=[]
--- no_error_log
[error]



=== TEST 11: rule 24: a sub with a tab (a control character) is not forwarded
--- more_headers eval
::h(::tk(sub => "user\t1"))
--- response_body
sub=[] tenant=[] role=[] jti=[sess-1] injected=[]
--- no_error_log
[error]



=== TEST 12: rule 24: a tenant claim with CR LF is not forwarded, the clean sub still is
--- more_headers eval
::h(::tk(tenant => "acme\r\nX-Injected: yes"))
--- response_body
sub=[user-1] tenant=[] role=[] jti=[sess-1] injected=[]
--- no_error_log
[error]



=== TEST 13: rule 24: $embed_session_claim_role with CR LF is not forwarded
--- more_headers eval
::h(::tk(role => "editor\r\nX-Injected: yes"))
--- response_body
sub=[user-1] tenant=[] role=[] jti=[sess-1] injected=[]
--- no_error_log
[error]



=== TEST 14: rule 24: an array claim holding a CR LF string is not forwarded
--- more_headers eval
::h(::tk(role => ['editor', "viewer\r\nX-Injected: yes"]))
--- response_body
sub=[user-1] tenant=[] role=[] jti=[sess-1] injected=[]
--- no_error_log
[error]



=== TEST 15: rule 24: a jti with CR LF is not forwarded
--- more_headers eval
::h(::token(claims => { jti => "sess-1\r\nX-Injected: yes" }))
--- response_body
sub=[user-1] tenant=[] role=[] jti=[] injected=[]
--- no_error_log
[error]



=== TEST 16: rule 24: a request with a forged token never reaches the upstream, whatever X-Sub it sends
--- more_headers eval
::h(::resig(::tk(), sub { "\x00" x 32 })) . "\nX-Sub: admin"
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- no_error_log
[error]
injected=



=== TEST 17: rule 24: control: the claim variables of a token that passed every check are set
--- request
GET /vars/
--- more_headers eval
::h(::tk())
--- response_headers
X-Sub: [user-1]
X-Error: []
--- response_body
ok
--- no_error_log
[error]



=== TEST 18: rule 24: a validly signed token that fails the origin check exposes no claims
--- request
GET /vars/
--- more_headers eval
::h(::tk(), 'https://evil.example.net')
--- error_code: 403
--- response_headers
X-Sub: []
X-Error: [ORIGIN_NOT_ALLOWED]
--- response_body_like: "code":"ORIGIN_NOT_ALLOWED"
--- no_error_log
[error]



=== TEST 19: rule 24: a validly signed but expired token exposes no claims
--- request
GET /vars/
--- more_headers eval
::h(::token(claims => { exp => time - 3600, iat => time - 4000 }))
--- error_code: 401
--- response_headers
X-Sub: []
X-Error: [SESSION_EXPIRED]
--- response_body_like: "code":"SESSION_EXPIRED"
--- no_error_log
[error]



=== TEST 20: rule 24: a validly signed token of the wrong typ exposes no claims
--- request
GET /vars/
--- more_headers eval
::h(::token(header => { typ => 'embed-renew+jwt' }))
--- error_code: 401
--- response_headers
X-Sub: []
X-Error: [SESSION_INVALID]
--- response_body_like: "code":"SESSION_INVALID"
--- no_error_log
[error]



=== TEST 21: rule 24: $embed_session_origins shows only well-formed origins: a CR LF element never reaches a header
--- request
GET /vars/
--- more_headers eval
::h(::tk(origins => ['https://app.example.com',
                     "https://x.example.com\r\nSet-Cookie: injected=1"]))
--- response_headers
X-Origins: [https://app.example.com]
Set-Cookie:
--- response_body
ok
--- no_error_log
[error]



=== TEST 22: rule 25: a token in the middle of the query is stripped before the upstream, other arguments kept
--- request eval
"GET /q/?a=1&session_token=$::QT&b=2"
--- more_headers
Origin: https://app.example.com
--- response_body
args=[a=1&b=2]
--- response_headers
X-Logged: GET /q/?a=1&session_token=[redacted]&b=2 HTTP/1.1
--- no_error_log
[error]



=== TEST 23: rule 25: a token as the first argument is stripped
--- request eval
"GET /q/?session_token=$::QT&a=1"
--- more_headers
Origin: https://app.example.com
--- response_body
args=[a=1]
--- response_headers
X-Logged: GET /q/?session_token=[redacted]&a=1 HTTP/1.1
--- no_error_log
[error]



=== TEST 24: rule 25: a token as the last argument is stripped
--- request eval
"GET /q/?a=1&session_token=$::QT"
--- more_headers
Origin: https://app.example.com
--- response_body
args=[a=1]
--- response_headers
X-Logged: GET /q/?a=1&session_token=[redacted] HTTP/1.1
--- no_error_log
[error]



=== TEST 25: rule 25: a token as the only argument leaves no arguments
--- request eval
"GET /q/?session_token=$::QT"
--- more_headers
Origin: https://app.example.com
--- response_body
args=[]
--- response_headers
X-Logged: GET /q/?session_token=[redacted] HTTP/1.1
--- no_error_log
[error]



=== TEST 26: rule 25: arguments whose names only contain the token's name are kept
--- request eval
"GET /q/?xsession_token=keep&session_token=$::QT&session_token_x=keep2"
--- more_headers
Origin: https://app.example.com
--- response_body
args=[xsession_token=keep&session_token_x=keep2]
--- response_headers
X-Logged: GET /q/?xsession_token=keep&session_token=[redacted]&session_token_x=keep2 HTTP/1.1
--- no_error_log
[error]



=== TEST 27: rule 25: every copy of the token argument is stripped and redacted
--- request eval
"GET /q/?session_token=$::QT&a=1&session_token=$::QT_BAD"
--- more_headers
Origin: https://app.example.com
--- response_body
args=[a=1]
--- response_headers
X-Logged: GET /q/?session_token=[redacted]&a=1&session_token=[redacted] HTTP/1.1
--- no_error_log
[error]



=== TEST 28: rule 25: the token argument in another case (SESSION_TOKEN, which $arg_session_token reads too) is stripped
--- request eval
"GET /q/?a=1&SESSION_TOKEN=$::QT"
--- more_headers
Origin: https://app.example.com
--- response_body
args=[a=1]
--- response_headers
X-Logged: GET /q/?a=1&SESSION_TOKEN=[redacted] HTTP/1.1
--- no_error_log
[error]



=== TEST 29: rule 25: a rejected query token is redacted too, and never logged
--- request eval
"GET /q/?a=1&session_token=$::QT_BAD"
--- more_headers
Origin: https://app.example.com
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- response_headers
X-Logged: GET /q/?a=1&session_token=[redacted] HTTP/1.1
--- error_log
SESSION_INVALID: bad signature
--- no_error_log eval
[qr/\[(?:info|notice|warn|error|crit|alert|emerg)\].*\Q$::QT_SIG\E/, '[error]']



=== TEST 30: rule 25: an access log written with $embed_session_request_line holds no token
--- request eval
["GET /q/?x=1&session_token=$::QT", "GET /readlog"]
--- more_headers
Origin: https://app.example.com
--- response_body_like eval
[qr/\Aargs=\[x=1\]\n\z/, qr{\A(?:GET /q/\?x=1&session_token=\[redacted\] HTTP/1\.1\n)+\z}]
--- no_error_log eval
[qr/\[(?:info|notice|warn|error|crit|alert|emerg)\].*\Q$::QT_SIG\E/, '[error]']
