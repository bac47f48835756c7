# vim:set ft= ts=4 sw=4 et fdm=marker:

# Security review H1: the module's response-header filter is in nginx's
# filter chain whatever the build (--add-dynamic-module and load_module,
# or --add-module), so an upstream that sends hostile framing and CORS
# headers never has the last word:
#
#   * frame-ancestors from the token's origins replaces the upstream's
#     X-Frame-Options and Content-Security-Policy (or merges with it);
#   * the upstream's Access-Control-* headers are removed, the module's
#     Access-Control-Allow-Origin and Vary: Origin are added;
#   * the module's own 401 and 403 carry frame-ancestors 'none';
#   * add_header in the location comes after the module (README
#     "Framing"): its headers are neither removed nor rewritten;
#   * a 304 made by nginx's not_modified filter still gets the module's
#     headers.
#
# The upstream is the review's reproduction: it sends
# "Access-Control-Allow-Origin: *", "X-Frame-Options: ALLOWALL" and
# "Content-Security-Policy: default-src 'self'; frame-ancestors *".
# Under tools/test --ci this file also runs against a static build
# (build/static, TEST_NGINX_ES_MODULE empty), where the filter was missing
# before the fix.

use FindBin;
use lib "$FindBin::Bin/lib";
use EmbedSessionTest;

repeat_each(2);
no_shuffle();

plan 'no_plan';

# sections are evaluated just before their block runs: tokens are fresh

filters_delay();

our $APP  = 'https://app.example.com';
our $EVIL = 'https://evil.example.com';

# the request headers of token $t (none when undef) from origin $o

sub h {
    my ($t, $o) = @_;

    return join "\n", (defined $t ? "X-Session-Token: $t" : ()),
                      "Origin: " . ($o // $APP);
}

# a regex that matches when header $name occurs exactly $n times

sub count_of {
    my ($name, $n) = @_;
    my $h = '\r\n' . quotemeta($name) . ':';
    return "(?is)\\A(?:(?!$h).)*" . ("$h(?:(?!$h).)*" x $n) . '\z';
}

# a regex that matches when the raw headers hold the lines @l in this order
# (other lines may come between them)

sub in_order {
    my (@l) = @_;
    return '(?s)\r\n' . join('\r\n(?:.*\r\n)?', map { quotemeta } @l)
           . '\r\n';
}

# a section whose eval failed holds the error text: stop rather than let a
# test pass for the wrong reason

add_block_preprocessor(sub {
    my $block = shift;

    $block->run_filters unless $block->is_filtered;

    for my $s (qw(more_headers response_headers raw_response_headers_like
                  raw_response_headers_unlike)) {
        my $v = $block->$s;
        next unless defined $v;

        for my $x (ref $v eq 'ARRAY' ? @$v : $v) {
            die "TEST \"" . $block->name . "\": $s: eval failed: $x\n"
                if defined $x && !ref $x
                   && $x =~ /\bat \S+ line \d+\.?$/m;
        }
    }

    if (!defined $block->no_error_log && !defined $block->must_die) {
        $block->set_value('no_error_log', "[error]\n");
    }
});

# the hostile upstream of every block

our $UPSTREAM = <<'_EOC_';
    location /backend {
        add_header Access-Control-Allow-Origin "*" always;
        add_header X-Frame-Options ALLOWALL always;
        add_header Content-Security-Policy "default-src 'self'; frame-ancestors *" always;
        return 200 "backend\n";
    }
_EOC_

run_tests();

__DATA__

=== TEST 1: H1 reproduction: replace + cors any: the upstream's framing and CORS headers give way to the module's
--- config eval
<<'_EOC_' . $::UPSTREAM
    embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;

    location /t {
        embed_session_verify on;
        embed_session_frame_ancestors replace;
        embed_session_cors any;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }
_EOC_
--- request
GET /t
--- more_headers eval
::h(::token())
--- response_body
backend
--- response_headers
Content-Security-Policy: frame-ancestors https://app.example.com
Access-Control-Allow-Origin: https://app.example.com
Vary: Origin
!X-Frame-Options
--- raw_response_headers_like eval
::count_of('Access-Control-Allow-Origin', 1)



=== TEST 2: H1: merge: the upstream's policy is kept without its frame-ancestors, the module's is beside it
--- config eval
<<'_EOC_' . $::UPSTREAM
    embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;

    location /t {
        embed_session_verify on;
        embed_session_frame_ancestors merge;
        embed_session_cors any;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }
_EOC_
--- request
GET /t
--- more_headers eval
::h(::token())
--- response_body
backend
--- raw_response_headers_like eval
::in_order("Content-Security-Policy: default-src 'self'",
           "Content-Security-Policy: frame-ancestors https://app.example.com")
--- raw_response_headers_unlike eval
'(?i)frame-ancestors \*|X-Frame-Options|Access-Control-Allow-Origin: \*'
--- response_headers
Access-Control-Allow-Origin: https://app.example.com
Vary: Origin



=== TEST 3: H1: the module's own 401 (no token, a bad token) and 403 (another origin) carry frame-ancestors 'none'
--- config eval
<<'_EOC_' . $::UPSTREAM
    embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;

    location /t {
        embed_session_verify on;
        embed_session_frame_ancestors replace;
        embed_session_cors any;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }
_EOC_
--- pipelined_requests eval
[("GET /t") x 3]
--- more_headers eval
[::h(undef),
 ::h(::token(key => 'hs256-2', header => { kid => 'hs256-1' })),
 ::h(::token(), $::EVIL)]
--- error_code eval
[401, 401, 403]
--- response_body_like eval
['"code":"SESSION_REQUIRED"', '"code":"SESSION_INVALID"',
 '"code":"ORIGIN_NOT_ALLOWED"']
--- response_headers eval
["Content-Security-Policy: frame-ancestors 'none'\nAccess-Control-Allow-Origin: https://app.example.com\nVary: Origin",
 "Content-Security-Policy: frame-ancestors 'none'\nAccess-Control-Allow-Origin: https://app.example.com\nVary: Origin",
 "Content-Security-Policy: frame-ancestors 'none'\nAccess-Control-Allow-Origin: https://evil.example.com\nVary: Origin"]



=== TEST 4: H1: a location that does not verify: frame-ancestors 'none', the upstream's ACAO removed, none for an origin not listed
--- config eval
<<'_EOC_' . $::UPSTREAM
    location /t {
        embed_session_frame_ancestors replace;
        embed_session_cors https://app.example.com;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }
_EOC_
--- pipelined_requests eval
[("GET /t") x 2]
--- more_headers eval
[::h(undef), ::h(undef, $::EVIL)]
--- response_body eval
["backend\n", "backend\n"]
--- response_headers eval
["Content-Security-Policy: frame-ancestors 'none'\nAccess-Control-Allow-Origin: https://app.example.com\nVary: Origin\n!X-Frame-Options",
 "Content-Security-Policy: frame-ancestors 'none'\n!Access-Control-Allow-Origin\nVary: Origin\n!X-Frame-Options"]



=== TEST 5: add_header in the location comes after the module: its headers stay, the upstream's are still replaced
--- config eval
<<'_EOC_' . $::UPSTREAM
    embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;

    location /t {
        embed_session_verify on;
        embed_session_frame_ancestors replace;
        embed_session_cors any;
        add_header X-Frame-Options SAMEORIGIN always;
        add_header Content-Security-Policy "script-src 'self'" always;
        add_header X-Operator yes always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }
_EOC_
--- pipelined_requests eval
[("GET /t") x 2]
--- more_headers eval
[::h(::token()), ::h(undef)]
--- error_code eval
[200, 401]
--- response_body_like eval
['^backend$', '"code":"SESSION_REQUIRED"']
--- raw_response_headers_like eval
[::in_order("Content-Security-Policy: frame-ancestors https://app.example.com",
            "X-Frame-Options: SAMEORIGIN",
            "Content-Security-Policy: script-src 'self'"),
 ::in_order("Content-Security-Policy: frame-ancestors 'none'",
            "X-Frame-Options: SAMEORIGIN",
            "Content-Security-Policy: script-src 'self'")]
--- raw_response_headers_unlike eval
['(?i)ALLOWALL|frame-ancestors \*|Access-Control-Allow-Origin: \*',
 '(?i)ALLOWALL|frame-ancestors \*|Access-Control-Allow-Origin: \*']
--- response_headers eval
["Access-Control-Allow-Origin: https://app.example.com\nX-Operator: yes",
 "Access-Control-Allow-Origin: https://app.example.com\nX-Operator: yes"]



=== TEST 6: add_header with a variable of the module sees the verified claims, whatever the filter order
--- config eval
<<'_EOC_' . $::UPSTREAM
    embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;

    location /t {
        embed_session_verify on;
        embed_session_frame_ancestors replace;
        add_header X-Sub "[$embed_session_sub]" always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }
_EOC_
--- request
GET /t
--- more_headers eval
::h(::token(claims => { sub => 'user-55' }))
--- response_body
backend
--- response_headers
X-Sub: [user-55]
Content-Security-Policy: frame-ancestors https://app.example.com
!X-Frame-Options



=== TEST 7: a 304 made by nginx's not_modified filter still carries the module's headers
--- config
    embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;

    location /t {
        embed_session_verify on;
        embed_session_frame_ancestors replace;
        embed_session_cors any;
        if_modified_since before;
    }
--- user_files
>>> t
ok
--- request
GET /t
--- more_headers eval
::h(::token()) . "\nIf-Modified-Since: Fri, 01 Jan 2100 00:00:00 GMT"
--- error_code: 304
--- response_headers
Content-Security-Policy: frame-ancestors https://app.example.com
Access-Control-Allow-Origin: https://app.example.com
Vary: Origin
