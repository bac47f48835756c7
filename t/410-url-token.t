# Tokens in URLs and upstream hygiene (issue 5, sections 4 and 5):
#
#   url_exchange     embed_session_url_exchange, embed_session_cookie: a
#                    GET/HEAD whose token came from a $arg_ source and passed
#                    gets 302, an empty body, Set-Cookie NAME=TOKEN;
#                    Max-Age=exp-now; ATTRIBUTES (default or custom),
#                    Location without the token args (the others in order,
#                    no "?" when none is left), Cache-Control: no-store
#                    (and no Referrer-Policy); a failing URL token is
#                    answered as usual and sets no cookie; POST, a header
#                    token and a cookie token are not exchanged; the
#                    redirected request passes with the cookie
#   nginx -t         url_exchange without a cookie, without its $cookie_
#                    source or a $arg_ source; Max-Age / Expires in the
#                    attributes; a bad cookie name
#   logs             $embed_session_request_line and $embed_session_args of
#                    exchanged and refused URL tokens in an access log
#   claim_header     embed_session_claim_header: the client's copies removed
#                    (also when verification fails), strings, numbers,
#                    booleans, arrays joined with ", ", dotted paths, a
#                    missing claim adds nothing, control characters are 401
#                    SESSION_INVALID naming the claim and never its value;
#                    forbidden header names refused by nginx -t
#   strip_token      embed_session_strip_token: header, cookie (the others
#                    kept), args (proxy_pass with and without a URI), the
#                    bearer; try_files and error_page to a named location
#                    verify again without the token in the request
#
# The upstream is a second server in the same configuration, on a unix
# socket, that echoes what it received.

use FindBin;
use lib "$FindBin::Bin/lib";
use EmbedSessionTest;
use EmbedSessionMint;

use HTTP::Tiny;

repeat_each(2);
no_shuffle();

plan 'no_plan';

# sections are evaluated just before their block runs: tokens are fresh
# even when the file runs slowly (valgrind)

filters_delay();

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

our $APP = 'https://app.example.com';

# every block gets a fresh $T (1000 s of life, for the Max-Age checks)

our $T;

# a token whose signature does not verify

sub tampered {
    my ($t) = @_;
    return $t =~ s/.\z/$& eq 'A' ? 'Q' : 'A'/er;
}

sub expired {
    return token(claims => { iat => time - 900, exp => time - 600 });
}

# "Set-Cookie: NAME=$T; Max-Age=N; ATTRIBUTES" as a response_headers_like
# line: N within 100 s below 1000

sub set_cookie {
    my ($name, $attrs) = @_;

    $attrs //= 'Path=/; HttpOnly; Secure; SameSite=None; Partitioned';

    return "Set-Cookie: \Q$name=$T\E; Max-Age=(?:9\\d\\d|1000); \Q$attrs\E";
}

# a Location header line: absolute (absolute_redirect) or not

sub location {
    my ($uri) = @_;
    return "Location: (?:http://[^/]+)?\Q$uri\E";
}

# the exchange, then the redirect followed with the cookie it set, as a
# browser does: one line per step

sub follow {
    my ($first_body) = @_;

    my $base = 'http://127.0.0.1:' . Test::Nginx::Util::server_port();
    my $ua = HTTP::Tiny->new(max_redirect => 0, timeout => 30);
    my @out = ('first: [' . $first_body . ']');

    my $res = $ua->get("$base/u/page?a=1&token=$T&b=2",
                       { headers => { Origin => $APP } });

    my $cookie = $res->{headers}{'set-cookie'} // '';
    my $loc = $res->{headers}{location} // '';

    my ($value) = $cookie =~ /\Aes=([^;]+);/;

    push @out, "exchange: $res->{status}";
    push @out, 'cookie: '
        . (defined $value && $value eq $T ? 'the token' : "[$cookie]");

    $loc =~ s{\Ahttps?://[^/]+}{};
    push @out, "location: $loc";

    $res = $ua->get("$base$loc",
                    { headers => { Origin => $APP,
                                   Cookie => 'es=' . ($value // '') } });

    (my $body = $res->{content} // '') =~ s/\Q$T\E/<T>/g;
    push @out, "follow: $res->{status} $body";

    return join "\n", @out;
}

# a section whose eval failed holds the error text: stop rather than let a
# rejection test pass for the wrong reason

add_block_preprocessor(sub {
    my $block = shift;

    $T = token(ttl => 1000);

    $block->run_filters unless $block->is_filtered;

    for my $s (qw(more_headers request pipelined_requests response_body
                  response_body_like response_headers_like
                  raw_response_headers_like error_log no_error_log)) {
        my $v = $block->$s;
        next unless defined $v;

        for my $x (ref $v eq 'ARRAY' ? @$v : $v) {
            die "TEST \"" . $block->name . "\": $s: eval failed: $x\n"
                if defined $x && !ref $x
                   && $x =~ /\bat \S+ line \d+\.?$/m;
        }
    }

    if (!defined $block->http_config) {
        $block->set_value('http_config', <<'_EOC_');
    log_format es '$embed_session_request_line|$embed_session_args|$status';
    log_format req '$request';

    server {
        listen unix:$TEST_NGINX_HTML_DIR/backend.sock;

        location / {
            return 200 "m=$request_method uri=[$request_uri] tok=[$http_x_session_token] cookie=[$http_cookie] auth=[$http_authorization] other=[$http_x_other]\n";
        }

        location /c/ {
            return 200 "sub=[$http_x_embed_sub] roles=[$http_x_embed_roles] level=[$http_x_embed_level] admin=[$http_x_embed_admin] plan=[$http_x_embed_plan] missing=[$http_x_embed_missing]\n";
        }
    }
_EOC_
    }

    if (!defined $block->config) {
        $block->set_value('config', <<'_EOC_');
    embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;

    location /u/ {
        embed_session_verify on;
        embed_session_token $http_x_session_token $arg_token $cookie_es;
        embed_session_cookie es;
        embed_session_url_exchange on;
        proxy_pass http://unix:$TEST_NGINX_HTML_DIR/backend.sock;
    }
_EOC_
    }

    if (!defined $block->user_files) {
        $block->set_value('user_files', ">>> t\nok\n");
    }

    if (!defined $block->more_headers && !defined $block->pipelined_requests) {
        $block->set_value('more_headers', "Origin: $APP\n");
    }

    if (!defined $block->no_error_log && !defined $block->must_die) {
        $block->set_value('no_error_log', "[error]\n");
    }
});

run_tests();

__DATA__

=== TEST 1: url exchange: 302, empty body, the cookie with the default attributes and Max-Age = exp - now, Location without the token, no-store
--- request eval
"GET /u/page?a=1&token=$::T&b=2&c=3"
--- error_code: 302
--- response_body eval
""
--- response_headers_like eval
join "\n", ::set_cookie('es'), ::location('/u/page?a=1&b=2&c=3'),
           'Cache-Control: no-store'



=== TEST 2: url exchange: Location with no "?" when nothing is left; look-alike args kept in order; every token arg removed
--- pipelined_requests eval
["GET /u/page?token=$::T",
 "GET /u/?token=$::T",
 "GET /u/page?tokens=1&token=$::T&mytoken=2&token_x=3&xtoken=4",
 "GET /u/page?token=$::T&a=1&token=$::T",
 "GET /u/page?z=9&y=8&token=$::T&x=&w"]
--- more_headers eval
[("Origin: $::APP") x 5]
--- error_code eval
[(302) x 5]
--- response_body eval
[("") x 5]
--- response_headers_like eval
[map { ::set_cookie('es') . "\n" . ::location($_) . "\nCache-Control: no-store" }
 '/u/page', '/u/', '/u/page?tokens=1&mytoken=2&token_x=3&xtoken=4',
 '/u/page?a=1', '/u/page?z=9&y=8&x=&w']



=== TEST 3: url exchange: Location keeps the path as sent (encoded, never decoded) and drops the token arg in any case
--- pipelined_requests eval
["GET /u/a%2Fb%20c?token=$::T&d=%2F",
 "GET /u/x%0d%0aX-Injected:%20yes?token=$::T",
 "GET /u/page?a=1&TOKEN=$::T",
 "GET /u/page?Token=$::T&b=2"]
--- more_headers eval
[("Origin: $::APP") x 4]
--- error_code eval
[(302) x 4]
--- response_headers_like eval
[map { ::set_cookie('es') . "\n" . ::location($_) }
 '/u/a%2Fb%20c?d=%2F', '/u/x%0d%0aX-Injected:%20yes', '/u/page?a=1',
 '/u/page?b=2']
--- raw_response_headers_unlike eval
[('(?i)\r\nX-Injected') x 4]



=== TEST 4: url exchange with two $arg_ sources: both args removed
--- config
    embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;

    location /v/ {
        embed_session_verify on;
        embed_session_token $arg_t $arg_token $cookie_es;
        embed_session_cookie es;
        embed_session_url_exchange on;
        proxy_pass http://unix:$TEST_NGINX_HTML_DIR/backend.sock;
    }
--- request eval
"GET /v/x?x=1&t=$::T&token=junk&y=2"
--- error_code: 302
--- response_headers_like eval
::set_cookie('es') . "\n" . ::location('/v/x?x=1&y=2')



=== TEST 5: url exchange: HEAD is exchanged too
--- request eval
"HEAD /u/page?token=$::T&a=1"
--- error_code: 302
--- response_body eval
""
--- response_headers_like eval
::set_cookie('es') . "\n" . ::location('/u/page?a=1')



=== TEST 6: url exchange: attributes of one's own replace the default entirely
--- config
    embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;

    location /u/ {
        embed_session_verify on;
        embed_session_token $arg_token $cookie_sess;
        embed_session_cookie sess "Path=/u/; Secure; SameSite=Lax";
        embed_session_url_exchange on;
        proxy_pass http://unix:$TEST_NGINX_HTML_DIR/backend.sock;
    }
--- request eval
"GET /u/page?token=$::T"
--- error_code: 302
--- response_headers_like eval
::set_cookie('sess', 'Path=/u/; Secure; SameSite=Lax') . "\n"
. ::location('/u/page')



=== TEST 7: url exchange: the iframe navigation's origin from the Referer
--- config
    embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;

    location /u/ {
        embed_session_verify on;
        embed_session_origin_referer on;
        embed_session_token $http_x_session_token $arg_token $cookie_es;
        embed_session_cookie es;
        embed_session_url_exchange on;
        proxy_pass http://unix:$TEST_NGINX_HTML_DIR/backend.sock;
    }
--- request eval
"GET /u/embed?token=$::T&lang=en"
--- more_headers
Referer: https://app.example.com/customer/page?x=1
Sec-Fetch-Dest: iframe
--- error_code: 302
--- response_headers_like eval
::set_cookie('es') . "\n" . ::location('/u/embed?lang=en')



=== TEST 8: url exchange: a failing URL token is answered as usual, without cookie or Location
--- pipelined_requests eval
["GET /u/page?a=1&token=" . ::expired(),
 "GET /u/page?a=1&token=" . ::tampered($::T),
 "GET /u/page?a=1&token=$::T",
 "GET /u/page?a=1&token=$::T"]
--- more_headers eval
["Origin: $::APP", "Origin: $::APP", "Origin: https://evil.example.com", ""]
--- error_code eval
[401, 401, 403, 403]
--- response_body_like eval
['"code":"SESSION_EXPIRED"', '"code":"SESSION_INVALID"',
 '"code":"ORIGIN_NOT_ALLOWED"', '"code":"ORIGIN_NOT_ALLOWED"']
--- raw_response_headers_unlike eval
[('(?i)\r\n(?:Set-Cookie|Location):') x 4]



=== TEST 9: not exchanged: POST and PUT with a URL token, a header token beside a URL token, a cookie token
--- pipelined_requests eval
["POST /u/page?token=$::T",
 "PUT /u/page?token=$::T",
 "GET /u/page?token=junk&a=1",
 "GET /u/page?a=1"]
--- more_headers eval
["Origin: $::APP", "Origin: $::APP",
 "Origin: $::APP\nX-Session-Token: $::T",
 "Origin: $::APP\nCookie: es=$::T"]
--- error_code eval
[200, 200, 200, 200]
--- response_body eval
["m=POST uri=[/u/page?token=$::T] tok=[] cookie=[] auth=[] other=[]\n",
 "m=PUT uri=[/u/page?token=$::T] tok=[] cookie=[] auth=[] other=[]\n",
 "m=GET uri=[/u/page?token=junk&a=1] tok=[$::T] cookie=[] auth=[] other=[]\n",
 "m=GET uri=[/u/page?a=1] tok=[] cookie=[es=$::T] auth=[] other=[]\n"]
--- raw_response_headers_unlike eval
[('(?i)\r\n(?:Set-Cookie|Location):') x 4]



=== TEST 10: url exchange: the redirect followed with the cookie it set passes
--- request eval
"GET /u/start?token=$::T"
--- error_code: 302
--- response_body_filters eval
\&::follow
--- response_body
first: []
exchange: 302
cookie: the token
location: /u/page?a=1&b=2
follow: 200 m=GET uri=[/u/page?a=1&b=2] tok=[] cookie=[es=<T>] auth=[] other=[]



=== TEST 11: nginx -t: url_exchange without embed_session_cookie
--- config
    embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;

    location /u/ {
        embed_session_verify on;
        embed_session_token $arg_token $cookie_es;
        embed_session_url_exchange on;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*embed_session_url_exchange.*embed_session_cookie/



=== TEST 12: nginx -t: url_exchange without the cookie among the token sources
--- config
    embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;

    location /u/ {
        embed_session_verify on;
        embed_session_token $arg_token $cookie_other;
        embed_session_cookie es;
        embed_session_url_exchange on;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*embed_session_url_exchange.*\$cookie_/



=== TEST 13: nginx -t: url_exchange without a $arg_ token source
--- config
    embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;

    location /u/ {
        embed_session_verify on;
        embed_session_token $http_x_session_token $cookie_es;
        embed_session_cookie es;
        embed_session_url_exchange on;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*embed_session_url_exchange.*\$arg_/



=== TEST 14: nginx -t: cookie attributes with Max-Age
--- config
    location /u/ {
        embed_session_cookie es "Path=/; Secure; Max-Age=60";
    }
--- must_die
--- error_log eval
qr/\[emerg\].*Max-Age/i



=== TEST 15: nginx -t: cookie attributes with Expires (any case)
--- config
    location /u/ {
        embed_session_cookie es "Path=/; expires=Thu, 01 Jan 2099 00:00:00 GMT";
    }
--- must_die
--- error_log eval
qr/\[emerg\].*expires/i



=== TEST 16: nginx -t: a cookie name that is not a token
--- config
    location /u/ {
        embed_session_cookie "es;x";
    }
--- must_die
--- error_log eval
qr/\[emerg\].*es;x/



=== TEST 17: nginx -t: a cookie name with "="
--- config
    location /u/ {
        embed_session_cookie "es=x";
    }
--- must_die
--- error_log eval
qr/\[emerg\].*es=x/



=== TEST 18: the access log: $embed_session_request_line and $embed_session_args of an exchanged and a refused URL token
--- config
    embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;

    location /u/ {
        embed_session_verify on;
        embed_session_token $http_x_session_token $arg_token $cookie_es;
        embed_session_cookie es;
        embed_session_url_exchange on;
        access_log logs/es.log es;
        proxy_pass http://unix:$TEST_NGINX_HTML_DIR/backend.sock;
    }

    location = /log {
        default_type text/plain;
        alias logs/es.log;
    }
--- pipelined_requests eval
["GET /u/page?a=1&token=$::T&b=2", "GET /u/page?token=" . ::tampered($::T) . "&c=3",
 "GET /u/page?TOKEN=$::T&d=4", "GET /log"]
--- more_headers eval
[("Origin: $::APP") x 3, ""]
--- error_code eval
[302, 401, 302, 200]
--- response_body_like eval
['^$', '"code":"SESSION_INVALID"', '^$',
 '(?s)\A(?!.*' . quotemeta((split /\./, $::T)[2]) . ')'
 . '(?:.*\n)?GET /u/page\?a=1&token=\[redacted\]&b=2 HTTP/1\.1\|a=1&b=2\|302\n'
 . 'GET /u/page\?token=\[redacted\]&c=3 HTTP/1\.1\|c=3\|401\n'
 . 'GET /u/page\?TOKEN=\[redacted\]&d=4 HTTP/1\.1\|d=4\|302\n\z']



=== TEST 19: claim_header: the claim values upstream (string, array, number, boolean, dotted path), the client's copies removed, a missing claim adds nothing
--- config
    embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;

    location /c/ {
        embed_session_verify on;
        embed_session_claim_header X-Embed-Sub sub;
        embed_session_claim_header X-Embed-Roles roles;
        embed_session_claim_header X-Embed-Level level;
        embed_session_claim_header X-Embed-Admin admin;
        embed_session_claim_header X-Embed-Plan org.plan;
        embed_session_claim_header X-Embed-Missing missing;
        proxy_pass http://unix:$TEST_NGINX_HTML_DIR/backend.sock;
    }
--- request
GET /c/x
--- more_headers eval
"X-Session-Token: "
. ::token(claims => { roles => ['viewer', 'editor'], level => 3,
                      admin => \1, org => { plan => 'pro' } })
. "\nOrigin: $::APP\nX-Embed-Sub: forged\nx-embed-roles: forged"
. "\nX-EMBED-MISSING: forged\nX-Embed-Level: 99"
--- response_body
sub=[user-1] roles=[viewer,editor] level=[3] admin=[true] plan=[pro] missing=[]



=== TEST 20: claim_header: more values (false, a large integer, a one-item array); two client copies removed
--- config
    embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;

    location /c/ {
        embed_session_verify on;
        embed_session_claim_header X-Embed-Sub sub;
        embed_session_claim_header X-Embed-Roles roles;
        embed_session_claim_header X-Embed-Level level;
        embed_session_claim_header X-Embed-Admin admin;
        proxy_pass http://unix:$TEST_NGINX_HTML_DIR/backend.sock;
    }
--- request
GET /c/x
--- more_headers eval
"X-Session-Token: "
. ::token(claims => { sub => 'u-2', roles => ['owner'],
                      level => 1234567890123, admin => \0 })
. "\nOrigin: $::APP\nX-Embed-Admin: true\nX-Embed-Admin: true"
--- response_body
sub=[u-2] roles=[owner] level=[1234567890123] admin=[false] plan=[] missing=[]



=== TEST 21: claim_header: the client's copies are removed also when verification fails (an error_page to a proxying named location)
--- config
    embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;

    location /c/ {
        embed_session_verify on;
        embed_session_claim_header X-Embed-Sub sub;
        embed_session_claim_header X-Embed-Plan org.plan;
        error_page 401 403 = @anonymous;
        proxy_pass http://unix:$TEST_NGINX_HTML_DIR/backend.sock;
    }

    location @anonymous {
        proxy_pass http://unix:$TEST_NGINX_HTML_DIR/backend.sock;
    }
--- pipelined_requests eval
["GET /c/x", "GET /c/x", "GET /c/x"]
--- more_headers eval
["Origin: $::APP\nX-Embed-Sub: forged\nX-Embed-Plan: forged\nX-Embed-Level: kept",
 "Origin: $::APP\nX-Session-Token: " . ::expired() . "\nX-Embed-Sub: forged",
 "Origin: https://evil.example.com\nX-Session-Token: $::T\nx-embed-plan: forged"]
--- response_body eval
["sub=[] roles=[] level=[kept] admin=[] plan=[] missing=[]\n",
 "sub=[] roles=[] level=[] admin=[] plan=[] missing=[]\n",
 "sub=[] roles=[] level=[] admin=[] plan=[] missing=[]\n"]



=== TEST 22: claim_header: control characters in a forwarded claim are 401 SESSION_INVALID; in a claim that is not forwarded they are not
--- config
    embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;

    location /c/ {
        embed_session_verify on;
        embed_session_claim_header X-Embed-Sub role;
        embed_session_claim_header X-Embed-Roles roles;
        proxy_pass http://unix:$TEST_NGINX_HTML_DIR/backend.sock;
    }
--- pipelined_requests eval
[("GET /c/x") x 7]
--- more_headers eval
[map { "Origin: $::APP\nX-Session-Token: " . ::token(claims => $_) }
 { role => "ed\nitor" }, { role => "ed\r\nX-Injected: 1" },
 { role => "ed\x01itor" }, { role => "ed\x7fitor" }, { role => "ed\titor" },
 { role => 'editor', roles => ['a', "b\rc"] },
 { role => 'editor', roles => ['a'], other => "x\ny\x01" }]
--- error_code eval
[(401) x 6, 200]
--- response_body_like eval
[('^\{"error":"[^"]+","code":"SESSION_INVALID"\}\n?$') x 6,
 '^sub=\[editor\] roles=\[a\] ']



=== TEST 23: claim_header: the log names the claim, never its value
--- config
    embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;

    location /c/ {
        embed_session_verify on;
        embed_session_claim_header X-Embed-Sub role;
        proxy_pass http://unix:$TEST_NGINX_HTML_DIR/backend.sock;
    }
--- request
GET /c/x
--- more_headers eval
"Origin: $::APP\nX-Session-Token: "
. ::token(claims => { role => "MARK3R-VALUE\x01tail" })
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log eval
qr/\[info\].*SESSION_INVALID.*\brole\b/
--- no_error_log eval
[qr/^(?!.*\[debug\]).*MARK3R/m, '[error]']



=== TEST 24: claim_header: an array item with a control character: the log names the array claim
--- config
    embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;

    location /c/ {
        embed_session_verify on;
        embed_session_claim_header X-Embed-Roles roles;
        proxy_pass http://unix:$TEST_NGINX_HTML_DIR/backend.sock;
    }
--- request
GET /c/x
--- more_headers eval
"Origin: $::APP\nX-Session-Token: "
. ::token(claims => { roles => ['viewer', "MARK3R-VALUE\ntail"] })
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log eval
qr/\[info\].*SESSION_INVALID.*\broles\b/
--- no_error_log eval
[qr/^(?!.*\[debug\]).*MARK3R/m, '[error]']



=== TEST 25: nginx -t: claim_header Host
--- config
    location /c/ {
        embed_session_claim_header Host sub;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*"?Host"?/



=== TEST 26: nginx -t: claim_header cookie (any case)
--- config
    location /c/ {
        embed_session_claim_header cookie sub;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*cookie/i



=== TEST 27: nginx -t: claim_header Authorization
--- config
    location /c/ {
        embed_session_claim_header Authorization sub;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*Authorization/



=== TEST 28: nginx -t: claim_header Proxy-Authorization (Proxy-*)
--- config
    location /c/ {
        embed_session_claim_header Proxy-Authorization sub;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*Proxy-Authorization/



=== TEST 29: nginx -t: claim_header Content-Length
--- config
    location /c/ {
        embed_session_claim_header Content-Length sub;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*Content-Length/



=== TEST 30: nginx -t: claim_header Transfer-Encoding
--- config
    location /c/ {
        embed_session_claim_header Transfer-Encoding sub;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*Transfer-Encoding/



=== TEST 31: nginx -t: claim_header Connection
--- config
    location /c/ {
        embed_session_claim_header Connection sub;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*Connection/



=== TEST 32: nginx -t: claim_header with the token's own header
--- config
    embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;

    location /c/ {
        embed_session_verify on;
        embed_session_claim_header X-Session-Token sub;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*X-Session-Token/i



=== TEST 33: nginx -t: claim_header with a name that is not a header token
--- config
    location /c/ {
        embed_session_claim_header "X-Embed:Sub" sub;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*X-Embed:Sub/



=== TEST 34: strip_token off (the default): the upstream sees every token carrier
--- config
    embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;

    location /s/ {
        embed_session_verify on;
        embed_session_token $http_x_session_token $cookie_es $arg_token
                            $embed_session_bearer;
        proxy_pass http://unix:$TEST_NGINX_HTML_DIR/backend.sock;
    }
--- pipelined_requests eval
["GET /s/x", "GET /s/x", "GET /s/x?a=1&token=$::T&b=2", "GET /s/x"]
--- more_headers eval
["Origin: $::APP\nX-Session-Token: $::T",
 "Origin: $::APP\nCookie: a=1; es=$::T; b=2",
 "Origin: $::APP",
 "Origin: $::APP\nAuthorization: Bearer $::T"]
--- response_body eval
["m=GET uri=[/s/x] tok=[$::T] cookie=[] auth=[] other=[]\n",
 "m=GET uri=[/s/x] tok=[] cookie=[a=1; es=$::T; b=2] auth=[] other=[]\n",
 "m=GET uri=[/s/x?a=1&token=$::T&b=2] tok=[] cookie=[] auth=[] other=[]\n",
 "m=GET uri=[/s/x] tok=[] cookie=[] auth=[Bearer $::T] other=[]\n"]



=== TEST 35: strip_token: header, cookie among others, arg, bearer removed; the rest kept (proxy_pass without a URI)
--- config
    embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;

    location /s/ {
        embed_session_verify on;
        embed_session_token $http_x_session_token $cookie_es $arg_token
                            $embed_session_bearer;
        embed_session_strip_token on;
        proxy_pass http://unix:$TEST_NGINX_HTML_DIR/backend.sock;
    }
--- pipelined_requests eval
["GET /s/x", "GET /s/x", "GET /s/x", "GET /s/x?a=1&token=$::T&b=2",
 "GET /s/x?token=$::T", "GET /s/x?tokens=1"]
--- more_headers eval
["Origin: $::APP\nX-Session-Token: $::T\nX-Other: kept",
 "Origin: $::APP\nCookie: a=1; es=$::T; b=2; xes=3",
 "Origin: $::APP\nCookie: es=$::T",
 "Origin: $::APP",
 "Origin: $::APP",
 "Origin: $::APP\nAuthorization: Bearer $::T"]
--- response_body eval
["m=GET uri=[/s/x] tok=[] cookie=[] auth=[] other=[kept]\n",
 "m=GET uri=[/s/x] tok=[] cookie=[a=1; b=2; xes=3] auth=[] other=[]\n",
 "m=GET uri=[/s/x] tok=[] cookie=[] auth=[] other=[]\n",
 "m=GET uri=[/s/x?a=1&b=2] tok=[] cookie=[] auth=[] other=[]\n",
 "m=GET uri=[/s/x] tok=[] cookie=[] auth=[] other=[]\n",
 "m=GET uri=[/s/x?tokens=1] tok=[] cookie=[] auth=[] other=[]\n"]



=== TEST 36: strip_token: the carriers in another case (arg, cookie name, bearer scheme) and a doubled cookie
--- config
    embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;

    location /s/ {
        embed_session_verify on;
        embed_session_token $cookie_es $arg_token $embed_session_bearer;
        embed_session_strip_token on;
        proxy_pass http://unix:$TEST_NGINX_HTML_DIR/backend.sock;
    }
--- pipelined_requests eval
["GET /s/x?TOKEN=$::T&c=1", "GET /s/x?c=2", "GET /s/x?c=3", "GET /s/x?c=4"]
--- more_headers eval
["Origin: $::APP",
 "Origin: $::APP\nCookie: a=1; ES=$::T; b=2",
 "Origin: $::APP\nCookie: a=1; es=$::T; es=$::T",
 "Origin: $::APP\nAuthorization: bearer $::T"]
--- response_body eval
["m=GET uri=[/s/x?c=1] tok=[] cookie=[] auth=[] other=[]\n",
 "m=GET uri=[/s/x?c=2] tok=[] cookie=[a=1; b=2] auth=[] other=[]\n",
 "m=GET uri=[/s/x?c=3] tok=[] cookie=[a=1] auth=[] other=[]\n",
 "m=GET uri=[/s/x?c=4] tok=[] cookie=[] auth=[] other=[]\n"]



=== TEST 37: strip_token: only the token arg changes: the path goes upstream as sent, as it does when the token is not in the args
--- config
    embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;

    location /s/ {
        embed_session_verify on;
        embed_session_token $cookie_es $arg_token;
        embed_session_strip_token on;
        proxy_pass http://unix:$TEST_NGINX_HTML_DIR/backend.sock;
    }
--- pipelined_requests eval
["GET /s/a%2Fb/..%2Fc?k=1", "GET /s/a%2Fb/..%2Fc?token=$::T&k=1",
 "GET /s//x?token=$::T"]
--- more_headers eval
["Origin: $::APP\nCookie: es=$::T", "Origin: $::APP", "Origin: $::APP"]
--- response_body eval
["m=GET uri=[/s/a%2Fb/..%2Fc?k=1] tok=[] cookie=[] auth=[] other=[]\n",
 "m=GET uri=[/s/a%2Fb/..%2Fc?k=1] tok=[] cookie=[] auth=[] other=[]\n",
 "m=GET uri=[/s//x] tok=[] cookie=[] auth=[] other=[]\n"]



=== TEST 38: strip_token: proxy_pass with a URI; every source's carrier removed, not only the one that gave the token; Authorization kept without the bearer source
--- config
    embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;

    location /w/ {
        embed_session_verify on;
        embed_session_token $http_x_session_token $cookie_es $arg_token
                            $embed_session_bearer;
        embed_session_strip_token on;
        proxy_pass http://unix:$TEST_NGINX_HTML_DIR/backend.sock:/up/;
    }

    location /nb/ {
        embed_session_verify on;
        embed_session_token $http_x_session_token;
        embed_session_strip_token on;
        proxy_pass http://unix:$TEST_NGINX_HTML_DIR/backend.sock;
    }
--- pipelined_requests eval
["GET /w/x?token=$::T&c=3", "GET /w/x?z=1&token=stale",
 "GET /nb/x?token=kept"]
--- more_headers eval
["Origin: $::APP",
 "Origin: $::APP\nX-Session-Token: $::T\nCookie: es=stale; a=1\nAuthorization: Bearer stale",
 "Origin: $::APP\nX-Session-Token: $::T\nAuthorization: Basic dXNlcjpwYXNz\nCookie: es=kept"]
--- response_body eval
["m=GET uri=[/up/x?c=3] tok=[] cookie=[] auth=[] other=[]\n",
 "m=GET uri=[/up/x?z=1] tok=[] cookie=[a=1] auth=[] other=[]\n",
 "m=GET uri=[/nb/x?token=kept] tok=[] cookie=[es=kept] auth=[Basic dXNlcjpwYXNz] other=[]\n"]



=== TEST 39: strip_token: try_files to a named location verifies the same token again without it in the request
--- config
    embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    embed_session_token $arg_token $http_x_session_token;
    embed_session_strip_token on;

    location /tf/ {
        embed_session_verify on;
        try_files /nonexistent @up;
    }

    location @up {
        embed_session_verify on;
        proxy_set_header X-Other $embed_session_sub;
        proxy_pass http://unix:$TEST_NGINX_HTML_DIR/backend.sock;
    }
--- pipelined_requests eval
["GET /tf/x?a=1&token=$::T", "GET /tf/x?a=2", "GET /tf/x?a=3"]
--- more_headers eval
["Origin: $::APP", "Origin: $::APP\nX-Session-Token: $::T", "Origin: $::APP"]
--- error_code eval
[200, 200, 401]
--- response_body_like eval
['^m=GET uri=\[/tf/x\?a=1\] tok=\[\] cookie=\[\] auth=\[\] other=\[user-1\]$',
 '^m=GET uri=\[/tf/x\?a=2\] tok=\[\] cookie=\[\] auth=\[\] other=\[user-1\]$',
 '"code":"SESSION_REQUIRED"']



=== TEST 40: strip_token: error_page to a named location verifies the same token again without it in the request
--- config
    embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    embed_session_token $http_x_session_token $cookie_es;
    embed_session_strip_token on;

    location /ep/ {
        embed_session_verify on;
        root html/none;
        log_not_found off;
        error_page 404 = @up;
    }

    location @up {
        embed_session_verify on;
        proxy_set_header X-Other $embed_session_sub;
        proxy_pass http://unix:$TEST_NGINX_HTML_DIR/backend.sock;
    }
--- pipelined_requests eval
["GET /ep/x", "GET /ep/x"]
--- more_headers eval
["Origin: $::APP\nX-Session-Token: $::T",
 "Origin: $::APP\nCookie: a=1; es=$::T"]
--- response_body eval
["m=GET uri=[/ep/x] tok=[] cookie=[] auth=[] other=[user-1]\n",
 "m=GET uri=[/ep/x] tok=[] cookie=[a=1] auth=[] other=[user-1]\n"]



=== TEST 41: no access log holds a URL token: $request says [redacted], for every level's $arg_ sources
--- config
    embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;

    location /u/ {
        embed_session_verify on;
        embed_session_token $http_x_session_token $arg_token $cookie_es;
        access_log logs/req.log req;
        proxy_pass http://unix:$TEST_NGINX_HTML_DIR/backend.sock;
    }

    location /other/ {
        embed_session_verify on;
        embed_session_token $arg_t;
        access_log logs/req.log req;
        proxy_pass http://unix:$TEST_NGINX_HTML_DIR/backend.sock;
    }

    location = /log {
        default_type text/plain;
        alias logs/req.log;
    }
--- pipelined_requests eval
["GET /u/page?a=1&token=$::T",
 "GET /other/x?token=$::T&t=$::T",
 "GET /log"]
--- more_headers eval
["Origin: https://evil.example.com", "Origin: https://evil.example.com", ""]
--- error_code eval
[403, 403, 200]
--- response_body_like eval
['"code":"ORIGIN_NOT_ALLOWED"', '"code":"ORIGIN_NOT_ALLOWED"',
 '(?s)\A(?!.*' . quotemeta((split /\./, $::T)[2]) . ')'
 . '(?:.*\n)?GET /u/page\?a=1&token=\[redacted\] HTTP/1\.1\n'
 . 'GET /other/x\?token=\[redacted\]&t=\[redacted\] HTTP/1\.1\n\z']



=== TEST 42: no error log line holds a URL token: the "request:" nginx adds says [redacted]
--- config
    embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;

    location /u/ {
        embed_session_verify on;
        embed_session_token $http_x_session_token $arg_token $cookie_es;
        proxy_pass http://unix:$TEST_NGINX_HTML_DIR/backend.sock;
    }
--- log_level: info
--- request eval
"GET /u/page?a=1&token=$::T&b=2"
--- more_headers
Origin: https://evil.example.com
--- error_code: 403
--- error_log eval
qr{ORIGIN_NOT_ALLOWED: origin not in the token, .*request: "GET /u/page\?a=1&token=\[redacted\]&b=2 HTTP/1\.1"}
--- no_error_log eval
[(split /\./, $::T)[2], '[error]']



=== TEST 43: a stripped token argument leaves $request_uri too, after a rewrite and with try_files (REQUEST_URI of FastCGI)
--- config
    embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;

    location /rw/ {
        rewrite ^/rw/(.*)$ /v/$1 last;
    }

    location /v/ {
        embed_session_verify on;
        embed_session_origin_absent allow;
        embed_session_token $http_x_session_token $arg_token;
        embed_session_strip_token on;
        try_files /nonexistent @show;
    }

    location @show {
        return 200 "request_uri=$request_uri args=$args\n";
    }
--- pipelined_requests eval
["GET /rw/p?a=1&token=$::T&b=2", "GET /v/x?token=$::T&c=3"]
--- error_code eval
[200, 200]
--- response_body eval
["request_uri=/rw/p?a=1&b=2 args=a=1&b=2\n",
 "request_uri=/v/x?c=3 args=c=3\n"]
--- no_error_log
[error]



=== TEST 44: $ARG_token and ${arg_t} are token arguments as well: exchanged without the token in Location
--- config
    embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;

    location /upper/ {
        embed_session_verify on;
        embed_session_origin_absent allow;
        embed_session_token $ARG_token $cookie_es;
        embed_session_cookie es;
        embed_session_url_exchange on;
        proxy_pass http://unix:$TEST_NGINX_HTML_DIR/backend.sock;
    }

    location /braces/ {
        embed_session_verify on;
        embed_session_origin_absent allow;
        embed_session_token ${arg_t} $cookie_es;
        embed_session_cookie es;
        embed_session_url_exchange on;
        proxy_pass http://unix:$TEST_NGINX_HTML_DIR/backend.sock;
    }
--- pipelined_requests eval
["GET /upper/p?token=$::T&a=1", "GET /braces/p?t=$::T&b=2"]
--- error_code eval
[302, 302]
--- response_headers_like eval
[::location('/upper/p?a=1'), ::location('/braces/p?b=2')]
--- no_error_log
[error]



=== TEST 45: a request that ends before its headers are read logs no token either ($request masked before the access log)
--- config
    large_client_header_buffers 4 1k;

    embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;

    access_log logs/error.log req;

    location /u/ {
        embed_session_verify on;
        embed_session_token $http_x_session_token $arg_token;
        proxy_pass http://unix:$TEST_NGINX_HTML_DIR/backend.sock;
    }
--- log_level: warn
--- request eval
"GET /u/page?a=1&token=$::T"
--- more_headers eval
"X-Big: " . ('x' x 1500)
--- error_code: 400
--- error_log
GET /u/page?a=1&token=[redacted] HTTP/1.1
--- no_error_log eval
[(split /\./, $::T)[2]]
