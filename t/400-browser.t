# The browser-side headers and checks (issue 5, sections 1 to 3):
#
#   framing          embed_session_frame_ancestors off | replace | merge:
#                    one "Content-Security-Policy: frame-ancestors ..." built
#                    from the verified token's origins (normalised, once
#                    each, invalid entries skipped), 'none' without a
#                    verified token or a valid origin; the upstream's
#                    X-Frame-Options removed, its CSP replaced or merged
#                    (its frame-ancestors directive dropped), Report-Only
#                    never touched
#   fetch metadata   embed_session_fetch_dest / embed_session_fetch_site:
#                    lists, "absent", two headers, 403 FETCH_NOT_ALLOWED
#                    before every other check of the module
#   CORS             embed_session_cors and its lists: preflights answered
#                    (204) or refused (403 ORIGIN_NOT_ALLOWED or
#                    PREFLIGHT_REFUSED) before the API key and the token;
#                    on actual responses the upstream's CORS headers
#                    removed, Vary: Origin always, Access-Control-Allow-
#                    Origin on module errors for listed origins and on
#                    successes only with a token bound to the Origin (or,
#                    without verification, for a list that is not "any")
#   browser channel  embed_session_browser_channel: a browser (Origin or
#                    Sec-Fetch-Site) needs a session token, a server an
#                    API key
#   nginx -t         a bad CORS origin, browser_channel without api_key or
#                    verify, an unknown Sec-Fetch-Site value
#
# Test::Nginx's response_headers compares HTTP::Headers->header(NAME),
# which joins several headers of one name with ", ": an exact value there
# also says that there is one such header.  Counting and merged headers
# are checked on the raw headers.

use FindBin;
use lib "$FindBin::Bin/lib";
use EmbedSessionTest;
use EmbedSessionMint;

repeat_each(2);
no_shuffle();

plan 'no_plan';

# sections are evaluated just before their block runs: tokens are fresh
# even when the file runs slowly (valgrind)

filters_delay();

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

our $APP  = 'https://app.example.com';
our $B    = 'https://b.example.com';
our $EVIL = 'https://evil.example.com';

# an API key ("bk_" + 40 characters) and one with its lookup but another
# secret part

our $KEY   = 'bk_Browser1' . ('x' x 32);
our $WRONG = 'bk_Browser1' . ('z' x 32);

our $KEYS = "# t/400-browser.t\n"
            . 'bc-1 key=' . stored($KEY) . " scope=browser tenant=t_1\n";

# the request headers of token $t from origin $o (default $APP; '' for no
# Origin header)

sub h {
    my ($t, $o) = @_;

    $o //= $APP;

    return join "\n", (defined $t ? "X-Session-Token: $t" : ()),
                      ($o ne '' ? "Origin: $o" : ());
}

sub tk {
    return token(@_);
}

sub expired {
    return token(claims => { iat => time - 900, exp => time - 600 });
}

# a preflight's headers

sub pre {
    my ($origin, $method, $headers) = @_;

    return join "\n", "Origin: $origin",
                      "Access-Control-Request-Method: $method",
                      (defined $headers
                       ? "Access-Control-Request-Headers: $headers" : ());
}

# a regex (for raw_response_headers_like) that every pattern of @re
# matches somewhere in the raw headers

sub all_of {
    my (@re) = @_;
    return '(?is)\A' . join('', map { "(?=.*?$_)" } @re);
}

# a regex that matches when header $name occurs exactly $n times

sub count_of {
    my ($name, $n) = @_;
    my $h = '\r\n' . quotemeta($name) . ':';
    return "(?is)\\A(?:(?!$h).)*" . ("$h(?:(?!$h).)*" x $n) . '\z';
}

# a section whose eval failed holds the error text: stop rather than let a
# rejection test pass for the wrong reason

add_block_preprocessor(sub {
    my $block = shift;

    $block->run_filters unless $block->is_filtered;

    for my $s (qw(more_headers request response_body_like response_headers
                  raw_response_headers_like raw_response_headers_unlike
                  error_log no_error_log)) {
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
    embed_session_api_keys zone=bk:1m file=$TEST_NGINX_HTML_DIR/keys.txt;
_EOC_
    }

    if (!defined $block->user_files) {
        $block->set_value('user_files',
                          [['keys.txt', $KEYS], ['t', "ok\n"],
                           ['plain', "plain\n"]]);
    }

    if (!defined $block->request && !defined $block->pipelined_requests) {
        $block->set_value('request', "GET /t\n");
    }

    if (!defined $block->no_error_log && !defined $block->must_die) {
        $block->set_value('no_error_log', "[error]\n");
    }
});

run_tests();

__DATA__

=== TEST 1: frame_ancestors replace: one header from the token's origins, normalised, duplicates once, invalid entries skipped
--- config
    embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;

    location /t {
        embed_session_verify on;
        embed_session_frame_ancestors replace;
    }
--- more_headers eval
::h(::tk(claims => { origins => [
    'https://app.example.com',
    'HTTPS://Other.Example.COM:443',
    'http://localhost:8080',
    'http://plain.example:80',
    'https://app.example.com:443',
    'https://bad.example.com/path',
    '*',
    'https://*.example.com',
    'null',
    'ftp://files.example.com',
    "https://a.example.com; script-src 'unsafe-inline'",
    'https://trailing.example.com.',
    'https://user@userinfo.example.com',
    'https://other.example.com',
] }))
--- response_body
ok
--- response_headers
Content-Security-Policy: frame-ancestors https://app.example.com https://other.example.com http://localhost:8080 http://plain.example
!X-Frame-Options



=== TEST 2: frame_ancestors: the origins of embed_session_origin_claim (an array, a string)
--- config
    embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;

    location /t {
        embed_session_verify on;
        embed_session_origin_claim allowed;
        embed_session_frame_ancestors replace;
    }
--- pipelined_requests eval
[("GET /t") x 2]
--- more_headers eval
[::h(::tk(claims => { allowed => ['https://app.example.com',
                                  'https://b.example.com:8443'],
                      origins => ['https://c.example.com'] })),
 ::h(::tk(claims => { allowed => 'https://app.example.com',
                      origins => undef }))]
--- response_body eval
["ok\n", "ok\n"]
--- response_headers eval
["Content-Security-Policy: frame-ancestors https://app.example.com https://b.example.com:8443",
 "Content-Security-Policy: frame-ancestors https://app.example.com"]



=== TEST 3: frame_ancestors: 'none' without a verified token (none, expired, another origin, a location that does not verify)
--- config
    embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;

    location /t {
        embed_session_verify on;
        embed_session_frame_ancestors replace;
    }

    location /plain {
        embed_session_frame_ancestors replace;
    }
--- pipelined_requests eval
["GET /t", "GET /t", "GET /t", "GET /plain"]
--- more_headers eval
["Origin: $::APP", ::h(::expired()), ::h(::tk(), $::EVIL), ::h(::tk())]
--- error_code eval
[401, 401, 403, 200]
--- response_body_like eval
['"code":"SESSION_REQUIRED"', '"code":"SESSION_EXPIRED"',
 '"code":"ORIGIN_NOT_ALLOWED"', '^plain$']
--- response_headers eval
[("Content-Security-Policy: frame-ancestors 'none'") x 4]



=== TEST 4: frame_ancestors: 'none' for a verified token without a valid origin (origin check off)
--- config
    embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;

    location /t {
        embed_session_verify on;
        embed_session_origin off;
        embed_session_frame_ancestors replace;
    }
--- pipelined_requests eval
[("GET /t") x 3]
--- more_headers eval
[::h(::tk(claims => { origins => undef }), ''),
 ::h(::tk(claims => { origins => ['https://x.example.com/', 'null', '*'] }), ''),
 ::h(::tk(claims => { origins => ['https://x.example.com'] }), '')]
--- response_body eval
[("ok\n") x 3]
--- response_headers eval
["Content-Security-Policy: frame-ancestors 'none'",
 "Content-Security-Policy: frame-ancestors 'none'",
 "Content-Security-Policy: frame-ancestors https://x.example.com"]



=== TEST 5: frame_ancestors off (the default): the upstream's CSP and X-Frame-Options reach the client
--- config
    embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;

    location /t {
        embed_session_verify on;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }

    location /backend {
        add_header X-Frame-Options SAMEORIGIN;
        add_header Content-Security-Policy "default-src 'self'; frame-ancestors 'self'; script-src 'none'";
        add_header Content-Security-Policy "frame-ancestors https://up.example.com";
        return 200 "backend\n";
    }
--- more_headers eval
::h(::tk())
--- response_body
backend
--- response_headers
X-Frame-Options: SAMEORIGIN
Content-Security-Policy: default-src 'self'; frame-ancestors 'self'; script-src 'none', frame-ancestors https://up.example.com



=== TEST 6: frame_ancestors replace: every upstream CSP and X-Frame-Options removed, Report-Only untouched
--- config
    embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;

    location /t {
        embed_session_verify on;
        embed_session_frame_ancestors replace;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }

    location /backend {
        add_header X-Frame-Options SAMEORIGIN;
        add_header Content-Security-Policy "default-src 'self'; frame-ancestors 'self'; script-src 'none'";
        add_header Content-Security-Policy "frame-ancestors https://up.example.com";
        add_header Content-Security-Policy-Report-Only "frame-ancestors 'none'; report-uri /csp";
        return 200 "backend\n";
    }
--- more_headers eval
::h(::tk())
--- response_body
backend
--- response_headers
Content-Security-Policy: frame-ancestors https://app.example.com
Content-Security-Policy-Report-Only: frame-ancestors 'none'; report-uri /csp
!X-Frame-Options



=== TEST 7: frame_ancestors replace: any status (an upstream 404), and the module's own error
--- config
    embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;

    location /t {
        embed_session_verify on;
        embed_session_frame_ancestors replace;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend404;
    }

    location /backend404 {
        add_header X-Frame-Options DENY always;
        add_header Content-Security-Policy "frame-ancestors 'self'" always;
        return 404 "gone\n";
    }
--- pipelined_requests eval
[("GET /t") x 2]
--- more_headers eval
[::h(::tk()), ::h(::tk(key => 'hs256-2', header => { kid => 'hs256-1' }))]
--- error_code eval
[404, 401]
--- response_body_like eval
['^gone$', '"code":"SESSION_INVALID"']
--- response_headers eval
["Content-Security-Policy: frame-ancestors https://app.example.com\n!X-Frame-Options",
 "Content-Security-Policy: frame-ancestors 'none'\n!X-Frame-Options"]



=== TEST 8: frame_ancestors merge: the upstream's CSP kept without frame-ancestors, a header left empty removed, ours separate
--- config
    embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;

    location /t {
        embed_session_verify on;
        embed_session_frame_ancestors merge;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }

    location /backend {
        add_header X-Frame-Options SAMEORIGIN;
        add_header Content-Security-Policy "default-src 'self'; frame-ancestors 'self'; script-src 'none'";
        add_header Content-Security-Policy "frame-ancestors https://up.example.com";
        add_header Content-Security-Policy "object-src 'none'; frame-ancestors https://up2.example.com";
        add_header Content-Security-Policy "frame-ancestors https://up3.example.com; img-src https://img.example.com";
        add_header Content-Security-Policy-Report-Only "frame-ancestors 'none'; report-uri /csp";
        return 200 "backend\n";
    }
--- more_headers eval
::h(::tk())
--- response_body
backend
--- raw_response_headers_like eval
[::all_of(
    "\\r\\nContent-Security-Policy:[ \\t]*default-src 'self'[ \\t]*;[ \\t]*script-src 'none'[ \\t]*;?[ \\t]*\\r\\n",
    "\\r\\nContent-Security-Policy:[ \\t]*object-src 'none'[ \\t]*;?[ \\t]*\\r\\n",
    "\\r\\nContent-Security-Policy:[ \\t]*img-src https://img\\.example\\.com[ \\t]*;?[ \\t]*\\r\\n",
    "\\r\\nContent-Security-Policy: frame-ancestors https://app\\.example\\.com\\r\\n",
    "\\r\\nContent-Security-Policy-Report-Only: frame-ancestors 'none'; report-uri /csp\\r\\n",
 ) . '(?=' . ::count_of('Content-Security-Policy', 4) . ')']
--- raw_response_headers_unlike eval
['(?i)up\.example\.com|up2\.example\.com|up3\.example\.com|frame-ancestors \'self\'|X-Frame-Options']



=== TEST 9: frame_ancestors merge: directive names in any case and extra whitespace
--- config
    embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;

    location /t {
        embed_session_verify on;
        embed_session_frame_ancestors merge;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }

    location /backend {
        add_header Content-Security-Policy "Frame-Ancestors 'self'; img-src *";
        add_header Content-Security-Policy "default-src 'self' ;  FRAME-ANCESTORS   https://up.example.com  ";
        add_header Content-Security-Policy " frame-ancestors 'self' ; ";
        return 200 "backend\n";
    }
--- more_headers eval
::h(::tk())
--- response_body
backend
--- raw_response_headers_like eval
[::all_of(
    "\\r\\nContent-Security-Policy:[ \\t]*img-src \\*[ \\t]*;?[ \\t]*\\r\\n",
    "\\r\\nContent-Security-Policy:[ \\t]*default-src 'self'[ \\t]*;?[ \\t]*\\r\\n",
    "\\r\\nContent-Security-Policy: frame-ancestors https://app\\.example\\.com\\r\\n",
 ) . '(?=' . ::count_of('Content-Security-Policy', 3) . ')']
--- raw_response_headers_unlike eval
['(?i)up\.example\.com|ancestors \'self\'']



=== TEST 10: frame_ancestors merge: without upstream CSP, ours alone; on an error, 'none'; Report-Only untouched
--- config
    embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;

    location /t {
        embed_session_verify on;
        embed_session_frame_ancestors merge;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }

    location /backend {
        add_header X-Frame-Options DENY;
        add_header Content-Security-Policy-Report-Only "frame-ancestors 'self'";
        return 200 "backend\n";
    }
--- pipelined_requests eval
[("GET /t") x 2]
--- more_headers eval
[::h(::tk()), "Origin: $::APP"]
--- error_code eval
[200, 401]
--- response_headers eval
["Content-Security-Policy: frame-ancestors https://app.example.com\nContent-Security-Policy-Report-Only: frame-ancestors 'self'\n!X-Frame-Options",
 "Content-Security-Policy: frame-ancestors 'none'\n!Content-Security-Policy-Report-Only"]
--- response_body_like eval
['^backend$', '"code":"SESSION_REQUIRED"']



=== TEST 11: frame_ancestors inherited from the server level, off in a location
--- config
    embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    embed_session_frame_ancestors replace;

    location /t {
        embed_session_verify on;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }

    location /off {
        embed_session_verify on;
        embed_session_frame_ancestors off;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }

    location /backend {
        embed_session_frame_ancestors off;
        add_header X-Frame-Options DENY;
        add_header Content-Security-Policy "frame-ancestors 'self'";
        return 200 "backend\n";
    }
--- pipelined_requests eval
["GET /t", "GET /off"]
--- more_headers eval
[::h(::tk()), ::h(::tk())]
--- response_body eval
["backend\n", "backend\n"]
--- response_headers eval
["Content-Security-Policy: frame-ancestors https://app.example.com\n!X-Frame-Options",
 "Content-Security-Policy: frame-ancestors 'self'\nX-Frame-Options: DENY"]



=== TEST 12: fetch_dest: listed values pass; another value, none, two headers are 403 FETCH_NOT_ALLOWED (a location with nothing else of the module)
--- config
    location /t {
        embed_session_fetch_dest iframe document;
    }
--- pipelined_requests eval
[("GET /t") x 7]
--- more_headers eval
["Sec-Fetch-Dest: iframe",
 "Sec-Fetch-Dest: document",
 "Sec-Fetch-Dest: empty",
 "",
 "Sec-Fetch-Dest: iframe\nSec-Fetch-Dest: iframe",
 "Sec-Fetch-Dest: iframe, document",
 "Sec-Fetch-Dest: iframes"]
--- error_code eval
[200, 200, 403, 403, 403, 403, 403]
--- response_body_like eval
["^ok\$", "^ok\$",
 ('^\{"error":"[^"]+","code":"FETCH_NOT_ALLOWED"\}\n?$') x 5]



=== TEST 13: fetch_dest with absent: no header passes, a listed value passes, others are refused
--- config
    location /t {
        embed_session_fetch_dest iframe absent;
    }
--- pipelined_requests eval
[("GET /t") x 4]
--- more_headers eval
["", "Sec-Fetch-Dest: iframe", "Sec-Fetch-Dest: script",
 "Sec-Fetch-Dest: iframe\nSec-Fetch-Dest: script"]
--- error_code eval
[200, 200, 403, 403]
--- response_body_like eval
["^ok\$", "^ok\$", ('"code":"FETCH_NOT_ALLOWED"') x 2]



=== TEST 14: fetch_site same-origin same-site: cross-site, none, absent and two headers refused
--- config
    location /t {
        embed_session_fetch_site same-origin same-site;
    }
--- pipelined_requests eval
[("GET /t") x 6]
--- more_headers eval
["Sec-Fetch-Site: same-origin", "Sec-Fetch-Site: same-site",
 "Sec-Fetch-Site: cross-site", "Sec-Fetch-Site: none", "",
 "Sec-Fetch-Site: same-origin\nSec-Fetch-Site: same-origin"]
--- error_code eval
[200, 200, 403, 403, 403, 403]
--- response_body_like eval
["^ok\$", "^ok\$", ('"code":"FETCH_NOT_ALLOWED"') x 4]



=== TEST 15: fetch_site cross-site none absent: those pass, same-origin is refused; both checks at once
--- config
    location /t {
        embed_session_fetch_site cross-site none absent;
    }

    location /both {
        embed_session_fetch_site cross-site;
        embed_session_fetch_dest iframe;
        alias html/t;
    }
--- pipelined_requests eval
["GET /t", "GET /t", "GET /t", "GET /t",
 "GET /both", "GET /both", "GET /both"]
--- more_headers eval
["Sec-Fetch-Site: cross-site", "Sec-Fetch-Site: none", "",
 "Sec-Fetch-Site: same-origin",
 "Sec-Fetch-Site: cross-site\nSec-Fetch-Dest: iframe",
 "Sec-Fetch-Site: cross-site\nSec-Fetch-Dest: document",
 "Sec-Fetch-Site: same-site\nSec-Fetch-Dest: iframe"]
--- error_code eval
[200, 200, 200, 403, 200, 403, 403]
--- response_body_like eval
["^ok\$", "^ok\$", "^ok\$", '"code":"FETCH_NOT_ALLOWED"',
 "^ok\$", ('"code":"FETCH_NOT_ALLOWED"') x 2]



=== TEST 16: fetch checks come first: before the token, the API key and the preflight
--- config
    embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;

    location /t {
        embed_session_verify on;
        embed_session_fetch_dest iframe;
    }

    location /k {
        embed_session_api_key bk;
        embed_session_fetch_dest iframe;
        alias html/t;
    }

    location /p {
        embed_session_verify on;
        embed_session_cors https://app.example.com;
        embed_session_fetch_dest iframe;
        alias html/t;
    }
--- pipelined_requests eval
["GET /t", "GET /t", "GET /k", "GET /k", "OPTIONS /p", "GET /t"]
--- more_headers eval
["Origin: $::APP\nSec-Fetch-Dest: empty",
 "Origin: $::APP\nSec-Fetch-Dest: iframe",
 "Sec-Fetch-Dest: empty",
 "Sec-Fetch-Dest: iframe",
 ::pre($::APP, 'GET', 'x-session-token') . "\nSec-Fetch-Dest: empty",
 ::h(::tk()) . "\nSec-Fetch-Dest: empty"]
--- error_code eval
[403, 401, 403, 401, 403, 403]
--- response_body_like eval
['"code":"FETCH_NOT_ALLOWED"', '"code":"SESSION_REQUIRED"',
 '"code":"FETCH_NOT_ALLOWED"', '"code":"API_KEY_REQUIRED"',
 '"code":"FETCH_NOT_ALLOWED"', '"code":"FETCH_NOT_ALLOWED"']



=== TEST 17: FETCH_NOT_ALLOWED is a module error: 'none' frame-ancestors, ACAO for a listed Origin, Vary: Origin
--- config
    location /t {
        embed_session_fetch_dest iframe;
        embed_session_frame_ancestors replace;
        embed_session_cors https://app.example.com;
    }
--- pipelined_requests eval
["GET /t", "GET /t"]
--- more_headers eval
["Origin: $::APP\nSec-Fetch-Dest: empty",
 "Origin: $::EVIL\nSec-Fetch-Dest: empty"]
--- error_code eval
[403, 403]
--- response_body_like eval
[('"code":"FETCH_NOT_ALLOWED"') x 2]
--- response_headers eval
["Content-Security-Policy: frame-ancestors 'none'\nAccess-Control-Allow-Origin: https://app.example.com\nVary: Origin",
 "Content-Security-Policy: frame-ancestors 'none'\n!Access-Control-Allow-Origin\nVary: Origin"]



=== TEST 18: preflight allowed: 204, empty body, the default lists, answered before the token check
--- config
    embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;

    location /t {
        embed_session_verify on;
        embed_session_cors https://app.example.com https://b.example.com:8443;
    }

    location /k {
        embed_session_api_key bk;
        embed_session_cors https://app.example.com;
        alias html/t;
    }
--- request
OPTIONS /t
--- more_headers eval
::pre($::APP, 'PUT', 'X-Session-Token, Content-Type')
--- error_code: 204
--- response_body eval
""
--- response_headers
Access-Control-Allow-Origin: https://app.example.com
Access-Control-Allow-Methods: GET, HEAD, POST, PUT, PATCH, DELETE
Access-Control-Allow-Headers: X-Session-Token, Content-Type
Access-Control-Max-Age: 600
Vary: Origin, Access-Control-Request-Method, Access-Control-Request-Headers
!Access-Control-Allow-Credentials
!WWW-Authenticate



=== TEST 19: preflight allowed: the Origin normalised in Access-Control-Allow-Origin
--- config
    embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;

    location /t {
        embed_session_verify on;
        embed_session_cors https://app.example.com https://b.example.com:8443;
    }

    location /k {
        embed_session_api_key bk;
        embed_session_cors https://app.example.com;
        alias html/t;
    }
--- request
OPTIONS /t
--- more_headers eval
::pre('HTTPS://B.Example.COM:8443', 'GET')
--- error_code: 204
--- response_body eval
""
--- response_headers
Access-Control-Allow-Origin: https://b.example.com:8443
Access-Control-Allow-Methods: GET, HEAD, POST, PUT, PATCH, DELETE
Access-Control-Allow-Headers: X-Session-Token, Content-Type
Access-Control-Max-Age: 600
Vary: Origin, Access-Control-Request-Method, Access-Control-Request-Headers
!Access-Control-Allow-Credentials
!WWW-Authenticate



=== TEST 20: preflight allowed: answered before the API key check
--- config
    embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;

    location /t {
        embed_session_verify on;
        embed_session_cors https://app.example.com https://b.example.com:8443;
    }

    location /k {
        embed_session_api_key bk;
        embed_session_cors https://app.example.com;
        alias html/t;
    }
--- request
OPTIONS /k
--- more_headers eval
::pre($::APP, 'DELETE', 'x-session-token')
--- error_code: 204
--- response_body eval
""
--- response_headers
Access-Control-Allow-Origin: https://app.example.com
Access-Control-Allow-Methods: GET, HEAD, POST, PUT, PATCH, DELETE
Access-Control-Allow-Headers: X-Session-Token, Content-Type
Access-Control-Max-Age: 600
Vary: Origin, Access-Control-Request-Method, Access-Control-Request-Headers
!Access-Control-Allow-Credentials
!WWW-Authenticate



=== TEST 21: preflight refused for its Origin: unlisted, null, malformed, two headers, none: 403 ORIGIN_NOT_ALLOWED without ACAO
--- config
    embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;

    location /t {
        embed_session_verify on;
        embed_session_cors https://app.example.com https://b.example.com;
    }
--- pipelined_requests eval
[("OPTIONS /t") x 7]
--- more_headers eval
[::pre($::EVIL, 'GET'),
 ::pre('null', 'GET'),
 ::pre('https://app.example.com/', 'GET'),
 ::pre('http://app.example.com', 'GET'),
 ::pre('https://app.example.com.evil.example.com', 'GET'),
 ::pre($::APP, 'GET') . "\nOrigin: $::B",
 "Access-Control-Request-Method: GET"]
--- error_code eval
[(403) x 7]
--- response_body_like eval
[('^\{"error":"[^"]+","code":"ORIGIN_NOT_ALLOWED"\}\n?$') x 7]
--- response_headers eval
[("!Access-Control-Allow-Origin\n!Access-Control-Allow-Methods") x 7]



=== TEST 22: preflight methods: not listed is 403 PREFLIGHT_REFUSED without ACAO; a list of one's own
--- config
    embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;

    location /t {
        embed_session_verify on;
        embed_session_cors https://app.example.com;
    }

    location /own {
        embed_session_verify on;
        embed_session_cors https://app.example.com;
        embed_session_cors_methods GET POST;
    }
--- pipelined_requests eval
["OPTIONS /t", "OPTIONS /t", "OPTIONS /own", "OPTIONS /own", "OPTIONS /own"]
--- more_headers eval
[::pre($::APP, 'TRACE'), ::pre($::APP, 'CONNECT'),
 ::pre($::APP, 'PUT'), ::pre($::APP, 'DELETE'), ::pre($::APP, 'POST')]
--- error_code eval
[403, 403, 403, 403, 204]
--- response_body_like eval
[('^\{"error":"[^"]+","code":"PREFLIGHT_REFUSED"\}\n?$') x 4, '^$']
--- response_headers eval
[("!Access-Control-Allow-Origin\n!Access-Control-Allow-Methods") x 4,
 "Access-Control-Allow-Origin: https://app.example.com\nAccess-Control-Allow-Methods: GET, POST"]



=== TEST 23: preflight headers: a name not listed is 403 PREFLIGHT_REFUSED; accept/accept-language/content-language always allowed, case-insensitive
--- config
    embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;

    location /t {
        embed_session_verify on;
        embed_session_cors https://app.example.com;
    }

    location /own {
        embed_session_verify on;
        embed_session_cors https://app.example.com;
        embed_session_cors_headers X-Custom-Thing;
    }
--- pipelined_requests eval
["OPTIONS /t", "OPTIONS /t", "OPTIONS /own", "OPTIONS /t"]
--- more_headers eval
[::pre($::APP, 'POST', 'x-session-token, x-debug'),
 ::pre($::APP, 'GET', 'authorization'),
 ::pre($::APP, 'POST', 'x-session-token'),
 ::pre($::APP, 'POST', 'x-session-token,content-type,accept,Accept-Language,CONTENT-LANGUAGE')]
--- error_code eval
[403, 403, 403, 204]
--- response_body_like eval
[('^\{"error":"[^"]+","code":"PREFLIGHT_REFUSED"\}\n?$') x 3, '^$']
--- response_headers eval
[("!Access-Control-Allow-Origin\n!Access-Control-Allow-Headers") x 3,
 "Access-Control-Allow-Origin: https://app.example.com\nAccess-Control-Allow-Headers: X-Session-Token, Content-Type"]



=== TEST 24: preflight headers: a listed name in another case
--- config
    embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;

    location /t {
        embed_session_verify on;
        embed_session_cors https://app.example.com;
    }

    location /own {
        embed_session_verify on;
        embed_session_cors https://app.example.com;
        embed_session_cors_headers X-Custom-Thing;
    }
--- request
OPTIONS /t
--- more_headers eval
::pre($::APP, 'POST', 'X-SESSION-TOKEN')
--- error_code: 204
--- response_headers
Access-Control-Allow-Origin: https://app.example.com



=== TEST 25: preflight headers: a list of one's own
--- config
    embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;

    location /t {
        embed_session_verify on;
        embed_session_cors https://app.example.com;
    }

    location /own {
        embed_session_verify on;
        embed_session_cors https://app.example.com;
        embed_session_cors_headers X-Custom-Thing;
    }
--- request
OPTIONS /own
--- more_headers eval
::pre($::APP, 'POST', 'x-custom-thing, accept')
--- error_code: 204
--- response_headers
Access-Control-Allow-Origin: https://app.example.com
Access-Control-Allow-Headers: X-Custom-Thing



=== TEST 26: preflight with credentials on and a max-age of one hour
--- config
    embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;

    location /t {
        embed_session_verify on;
        embed_session_cors https://app.example.com;
        embed_session_cors_credentials on;
        embed_session_cors_max_age 1h;
    }
--- request
OPTIONS /t
--- more_headers eval
::pre($::APP, 'POST', 'content-type')
--- error_code: 204
--- response_body eval
""
--- response_headers
Access-Control-Allow-Origin: https://app.example.com
Access-Control-Allow-Credentials: true
Access-Control-Max-Age: 3600



=== TEST 27: preflight with any: every well-formed origin is allowed; null and malformed ones are not
--- config
    embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;

    location /t {
        embed_session_verify on;
        embed_session_cors any;
    }
--- pipelined_requests eval
[("OPTIONS /t") x 3]
--- more_headers eval
[::pre('null', 'GET'),
 ::pre('https://x.example.org/path', 'GET'),
 ::pre('https://anything.example.org', 'GET')]
--- error_code eval
[403, 403, 204]
--- response_body_like eval
[('"code":"ORIGIN_NOT_ALLOWED"') x 2, '^$']
--- response_headers eval
["!Access-Control-Allow-Origin", "!Access-Control-Allow-Origin",
 "Access-Control-Allow-Origin: https://anything.example.org"]



=== TEST 28: preflight with any: the Origin normalised
--- config
    embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;

    location /t {
        embed_session_verify on;
        embed_session_cors any;
    }
--- request
OPTIONS /t
--- more_headers eval
::pre('http://LOCALHOST:3000', 'GET')
--- error_code: 204
--- response_headers
Access-Control-Allow-Origin: http://localhost:3000



=== TEST 29: an OPTIONS without Access-Control-Request-Method is not a preflight: the normal checks
--- config
    embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;

    location /t {
        embed_session_verify on;
        embed_session_cors https://app.example.com;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }

    location /backend {
        return 200 "backend $request_method\n";
    }
--- pipelined_requests eval
[("OPTIONS /t") x 3]
--- more_headers eval
["Origin: $::APP",
 "Origin: $::APP\nAccess-Control-Request-Headers: x-session-token",
 ::h(::tk())]
--- error_code eval
[401, 401, 200]
--- response_body_like eval
['"code":"SESSION_REQUIRED"', '"code":"SESSION_REQUIRED"',
 '^backend OPTIONS$']
--- response_headers eval
[("Access-Control-Allow-Origin: https://app.example.com\n!Access-Control-Allow-Methods\n!Access-Control-Max-Age\nVary: Origin") x 3]



=== TEST 30: cors inherited from http; off in a location: a preflight there goes through the normal checks
--- http_config
    embed_session_api_keys zone=bk:1m file=$TEST_NGINX_HTML_DIR/keys.txt;
    embed_session_cors https://app.example.com;
--- config
    embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;

    location /t {
        embed_session_verify on;
    }

    location /off {
        embed_session_verify on;
        embed_session_cors off;
        alias html/t;
    }
--- pipelined_requests eval
["OPTIONS /off", "OPTIONS /t"]
--- more_headers eval
[::pre($::APP, 'GET'), ::pre($::APP, 'GET')]
--- error_code eval
[401, 204]
--- response_body_like eval
['"code":"SESSION_REQUIRED"', '^$']
--- response_headers eval
["!Access-Control-Allow-Origin\n!Vary",
 "Access-Control-Allow-Origin: https://app.example.com"]



=== TEST 31: a success with a token bound to the Origin: ACAO, the expose list, Vary: Origin; the upstream's CORS headers removed
--- config
    embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;

    location /t {
        embed_session_verify on;
        embed_session_cors https://app.example.com https://b.example.com;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }

    location /backend {
        add_header Access-Control-Allow-Origin "*";
        add_header Access-Control-Allow-Credentials true;
        add_header Access-Control-Expose-Headers X-Upstream;
        add_header Access-Control-Allow-Methods "GET, PUT";
        add_header Access-Control-Allow-Headers X-Upstream;
        add_header Access-Control-Max-Age 99;
        return 200 "backend\n";
    }
--- more_headers eval
::h(::tk(claims => { origins => [$::APP, $::B] }), $::B)
--- response_body
backend
--- response_headers
Access-Control-Allow-Origin: https://b.example.com
Vary: Origin
!Access-Control-Allow-Credentials
!Access-Control-Allow-Methods
!Access-Control-Allow-Headers
!Access-Control-Max-Age
--- raw_response_headers_like eval
[::all_of('\r\nAccess-Control-Expose-Headers: X-Session-Token,[ \t]*Retry-After\r\n')
 . '(?=' . ::count_of('Access-Control-Expose-Headers', 1) . ')']



=== TEST 32: credentials on: ACAC on a success and on an error; expose off: no Expose-Headers
--- config
    embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;

    location /t {
        embed_session_verify on;
        embed_session_cors https://app.example.com;
        embed_session_cors_credentials on;
        embed_session_cors_expose off;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }

    location /own {
        embed_session_verify on;
        embed_session_cors https://app.example.com;
        embed_session_cors_expose X-Request-Id;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }

    location /backend {
        add_header Access-Control-Expose-Headers X-Upstream;
        return 200 "backend\n";
    }
--- pipelined_requests eval
["GET /t", "GET /t", "GET /own"]
--- more_headers eval
[::h(::tk()), "Origin: $::APP", ::h(::tk())]
--- error_code eval
[200, 401, 200]
--- response_headers eval
["Access-Control-Allow-Origin: https://app.example.com\nAccess-Control-Allow-Credentials: true\n!Access-Control-Expose-Headers\nVary: Origin",
 "Access-Control-Allow-Origin: https://app.example.com\nAccess-Control-Allow-Credentials: true\n!Access-Control-Expose-Headers\nVary: Origin",
 "Access-Control-Allow-Origin: https://app.example.com\nAccess-Control-Expose-Headers: X-Request-Id\n!Access-Control-Allow-Credentials\nVary: Origin"]



=== TEST 33: a success without a token bound to the Origin has no ACAO (origin check off; no Origin with absent allow)
--- config
    embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;

    location /off {
        embed_session_verify on;
        embed_session_origin off;
        embed_session_cors https://app.example.com;
        alias html/t;
    }

    location /absent {
        embed_session_verify on;
        embed_session_origin_absent allow;
        embed_session_cors https://app.example.com;
        alias html/t;
    }
--- pipelined_requests eval
["GET /off", "GET /absent"]
--- more_headers eval
[::h(::tk()), ::h(::tk(), '')]
--- response_body eval
["ok\n", "ok\n"]
--- response_headers eval
[("!Access-Control-Allow-Origin\n!Access-Control-Expose-Headers\nVary: Origin") x 2]



=== TEST 34: module errors: ACAO for a listed Origin (normalised), none for an unlisted, null or doubled one; Vary: Origin on all, with or without Origin
--- config
    embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;

    location /t {
        embed_session_verify on;
        embed_session_cors https://app.example.com https://b.example.com;
    }
--- pipelined_requests eval
[("GET /t") x 8]
--- more_headers eval
["Origin: $::APP",
 ::h(::expired(), $::B),
 ::h(::tk(), $::B),
 ::h(::tk(), $::EVIL),
 "",
 "Origin: HTTPS://App.Example.COM:443",
 "Origin: $::APP\nOrigin: $::APP",
 "Origin: null"]
--- error_code eval
[401, 401, 403, 403, 401, 401, 401, 401]
--- response_body_like eval
['"code":"SESSION_REQUIRED"', '"code":"SESSION_EXPIRED"',
 '"code":"ORIGIN_NOT_ALLOWED"', '"code":"ORIGIN_NOT_ALLOWED"',
 ('"code":"SESSION_REQUIRED"') x 4]
--- response_headers eval
["Access-Control-Allow-Origin: https://app.example.com\nVary: Origin",
 "Access-Control-Allow-Origin: https://b.example.com\nVary: Origin",
 "Access-Control-Allow-Origin: https://b.example.com\nVary: Origin",
 "!Access-Control-Allow-Origin\nVary: Origin",
 "!Access-Control-Allow-Origin\nVary: Origin",
 "Access-Control-Allow-Origin: https://app.example.com\nVary: Origin",
 "!Access-Control-Allow-Origin\nVary: Origin",
 "!Access-Control-Allow-Origin\nVary: Origin"]



=== TEST 35: a location that does not verify: ACAO for a listed Origin unless the list is any; with any, only on a module error
--- config
    location /list {
        embed_session_cors https://app.example.com;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }

    location /any {
        embed_session_cors any;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }

    location /anykey {
        embed_session_cors any;
        embed_session_api_key bk;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }

    location /backend {
        add_header Access-Control-Allow-Origin "*";
        return 200 "backend\n";
    }
--- pipelined_requests eval
["GET /list", "GET /list", "GET /any", "GET /anykey", "GET /anykey"]
--- more_headers eval
["Origin: $::APP", "Origin: $::EVIL", "Origin: $::APP",
 "Origin: https://whatever.example.net",
 "Origin: https://whatever.example.net\nAuthorization: Bearer $::KEY"]
--- error_code eval
[200, 200, 200, 401, 200]
--- response_body_like eval
['^backend$', '^backend$', '^backend$', '"code":"API_KEY_REQUIRED"',
 '^backend$']
--- response_headers eval
["Access-Control-Allow-Origin: https://app.example.com\nVary: Origin",
 "!Access-Control-Allow-Origin\nVary: Origin",
 "!Access-Control-Allow-Origin\nVary: Origin",
 "Access-Control-Allow-Origin: https://whatever.example.net\nVary: Origin",
 "!Access-Control-Allow-Origin\nVary: Origin"]



=== TEST 36: a verifying location with any: ACAO with a bound token; any status gets Vary: Origin beside the upstream's Vary
--- config
    embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;

    location /t {
        embed_session_verify on;
        embed_session_cors any;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }

    location /e {
        embed_session_verify on;
        embed_session_cors any;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend404;
    }

    location /backend {
        return 200 "backend\n";
    }

    location /backend404 {
        add_header Vary Accept-Encoding always;
        return 404 "gone\n";
    }
--- pipelined_requests eval
["GET /t", "GET /e"]
--- more_headers eval
[::h(::tk(claims => { origins => ['https://x.example.org'] }),
      'https://x.example.org'),
 ::h(::tk())]
--- error_code eval
[200, 404]
--- raw_response_headers_like eval
['(?i)\r\nAccess-Control-Allow-Origin: https://x\.example\.org\r\n',
 ::all_of('(?i)\r\nVary:[^\r\n]*\bOrigin\b', '(?i)\r\nVary:[^\r\n]*\bAccept-Encoding\b',
          '(?i)\r\nAccess-Control-Allow-Origin: https://app\.example\.com\r\n')]



=== TEST 37: browser channel: a browser needs a token, a server an API key
--- config
    embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;

    location /t {
        embed_session_api_key bk;
        embed_session_verify on;
        embed_session_browser_channel on;
        proxy_set_header X-Sub $embed_session_sub;
        proxy_set_header X-Key $embed_session_api_key_id;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }

    location /backend {
        return 200 "sub=[$http_x_sub] key=[$http_x_key]\n";
    }
--- pipelined_requests eval
[("GET /t") x 8]
--- more_headers eval
[::h(::tk()),
 "Origin: $::APP\nAuthorization: Bearer $::KEY",
 "Authorization: Bearer $::KEY",
 "",
 ::h(::tk(), ''),
 "Sec-Fetch-Site: same-origin\nAuthorization: Bearer $::KEY",
 ::h(::tk(), $::EVIL),
 ::h(::tk(), '') . "\nSec-Fetch-Site: cross-site"]
--- error_code eval
[200, 401, 200, 401, 401, 401, 403, 403]
--- response_body_like eval
['^sub=\[user-1\] key=\[\]$',
 '"code":"SESSION_REQUIRED"',
 '^sub=\[\] key=\[bc-1\]$',
 '"code":"API_KEY_REQUIRED"',
 '"code":"API_KEY_REQUIRED"',
 '"code":"SESSION_REQUIRED"',
 '"code":"ORIGIN_NOT_ALLOWED"',
 '"code":"ORIGIN_NOT_ALLOWED"']



=== TEST 38: browser channel: the credential that is not asked for is not looked at
--- config
    embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;

    location /t {
        embed_session_api_key bk;
        embed_session_verify on;
        embed_session_browser_channel on;
        proxy_set_header X-Sub $embed_session_sub;
        proxy_set_header X-Key $embed_session_api_key_id;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }

    location /backend {
        return 200 "sub=[$http_x_sub] key=[$http_x_key]\n";
    }
--- pipelined_requests eval
[("GET /t") x 2]
--- more_headers eval
[::h(::tk()) . "\nAuthorization: Bearer $::WRONG",
 "Authorization: Bearer $::KEY\nX-Session-Token: not.a.token"]
--- error_code eval
[200, 200]
--- response_body eval
["sub=[user-1] key=[]\n", "sub=[] key=[bc-1]\n"]



=== TEST 39: browser channel with CORS: the page's preflight is answered before both checks
--- config
    embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;

    location /t {
        embed_session_api_key bk;
        embed_session_verify on;
        embed_session_browser_channel on;
        embed_session_cors https://app.example.com;
        alias html/t;
    }
--- request
OPTIONS /t
--- more_headers eval
::pre($::APP, 'POST', 'x-session-token, content-type')
--- error_code: 204
--- response_body eval
""
--- response_headers
Access-Control-Allow-Origin: https://app.example.com
Access-Control-Allow-Headers: X-Session-Token, Content-Type



=== TEST 40: browser channel off (the default): the API key and the token are both asked for
--- config
    embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;

    location /t {
        embed_session_api_key bk;
        embed_session_verify on;
        alias html/t;
    }
--- pipelined_requests eval
[("GET /t") x 3]
--- more_headers eval
[::h(::tk()),
 "Origin: $::APP\nAuthorization: Bearer $::KEY",
 ::h(::tk()) . "\nAuthorization: Bearer $::KEY"]
--- error_code eval
[401, 401, 200]
--- response_body_like eval
['"code":"API_KEY_REQUIRED"', '"code":"SESSION_REQUIRED"', '^ok$']



=== TEST 41: nginx -t: a malformed CORS origin is refused and named
--- config
    location /t {
        embed_session_cors https://app.example.com https://bad.example.com/path;
    }
--- must_die
--- error_log eval
qr{\[emerg\].*https://bad\.example\.com/path}



=== TEST 42: nginx -t: a wildcard CORS origin is refused and named
--- config
    location /t {
        embed_session_cors https://*.example.com;
    }
--- must_die
--- error_log eval
qr{\[emerg\].*https://\*\.example\.com}



=== TEST 43: nginx -t: browser_channel without embed_session_api_key
--- config
    embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;

    location /t {
        embed_session_verify on;
        embed_session_browser_channel on;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*embed_session_browser_channel.*embed_session_api_key|\[emerg\].*embed_session_api_key.*embed_session_browser_channel/



=== TEST 44: nginx -t: browser_channel without embed_session_verify
--- config
    embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;

    location /t {
        embed_session_api_key bk;
        embed_session_browser_channel on;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*embed_session_browser_channel.*embed_session_verify|\[emerg\].*embed_session_verify.*embed_session_browser_channel/



=== TEST 45: nginx -t: an unknown Sec-Fetch-Site value is refused and named
--- config
    location /t {
        embed_session_fetch_site same-origin same-host;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*same-host/



=== TEST 46: preflights are answered after limit_req: a flood of them is limited like any request
--- http_config
    embed_session_api_keys zone=bk:1m file=$TEST_NGINX_HTML_DIR/keys.txt;
    limit_req_zone $connection zone=pf:1m rate=1r/m;
--- config
    embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;

    location /t {
        limit_req zone=pf nodelay;
        limit_req_status 429;
        limit_req_log_level warn;
        embed_session_verify on;
        embed_session_cors any;
    }
--- pipelined_requests eval
["GET /t", "OPTIONS /t"]
--- more_headers eval
["Origin: $::APP", ::pre($::APP, "POST")]
--- error_code eval
[401, 429]
--- response_body_like eval
['"code":"SESSION_REQUIRED"', '429 Too Many Requests']
--- no_error_log
[error]
