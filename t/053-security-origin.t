# vim:set ft= ts=4 sw=4 et fdm=marker:

# Security rule 22 of docs/security.md: origin check bypass.  The
# request's Origin must equal one of the token's origins after
# normalisation (lowercase scheme and host, default port removed); null,
# several Origin headers, userinfo, paths, trailing dots, other schemes,
# prefix/suffix tricks and wildcards never match.

use FindBin;
use lib "$FindBin::Bin/lib";
use EmbedSessionTest;
use EmbedSessionSecurity;

repeat_each(2);

plan 'no_plan';

# the request headers for the default token, one with these origins, or
# ('-') one without an origins claim, sent with the given Origin lines

sub with_origin {
    my ($origins, @origin) = @_;

    my %o = !defined $origins ? ()
          : $origins eq '-'     ? (claims => { origins => undef })
          :                       (claims => { origins => $origins });
    my $h = "X-Session-Token: " . token(%o);

    $h .= "\nOrigin: $_" for @origin;

    return $h;
}

add_block_preprocessor(sub {
    my $block = shift;

    $block->run_filters unless $block->is_filtered;

    $block->set_value('config', <<'_EOC_')
    location /app/ {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
        add_header X-Origin "[$embed_session_origin]";
        root html;
    }

    location /ref/ {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
        embed_session_origin_referer on;
        root html;
    }

    location /absent/ {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
        embed_session_origin_absent allow;
        root html;
    }
_EOC_
        unless defined $block->config;

    $block->set_value('user_files', join '',
                      map { ">>> $_/index.html\nok\n" } qw(app ref absent))
        unless defined $block->user_files;

    $block->set_value('request', "GET /app/\n")
        unless defined $block->request;
});

run_tests();

__DATA__

=== TEST 1: rule 22: baseline: the exact origin of the token matches
--- more_headers eval
::with_origin(undef, 'https://app.example.com')
--- response_headers
X-Origin: [https://app.example.com]
--- response_body
ok
--- no_error_log
[error]



=== TEST 2: rule 22: the default port is normalised away (https://app.example.com:443 matches)
--- more_headers eval
::with_origin(undef, 'https://app.example.com:443')
--- response_headers
X-Origin: [https://app.example.com]
--- response_body
ok
--- no_error_log
[error]



=== TEST 3: rule 22: an uppercase scheme and host match (HTTPS://APP.EXAMPLE.COM)
--- more_headers eval
::with_origin(undef, 'HTTPS://APP.EXAMPLE.COM')
--- response_headers
X-Origin: [https://app.example.com]
--- response_body
ok
--- no_error_log
[error]



=== TEST 4: rule 22: a mixed-case host with the default port matches
--- more_headers eval
::with_origin(undef, 'https://App.Example.Com:443')
--- response_headers
X-Origin: [https://app.example.com]
--- response_body
ok
--- no_error_log
[error]



=== TEST 5: rule 22: the token's origins are normalised the same way (claim HTTPS://APP.EXAMPLE.COM:443)
--- more_headers eval
::with_origin(['HTTPS://APP.EXAMPLE.COM:443'], 'https://app.example.com')
--- response_headers
X-Origin: [https://app.example.com]
--- response_body
ok
--- no_error_log
[error]



=== TEST 6: rule 22: an origins claim given as one string matches
--- more_headers eval
::with_origin('https://app.example.com', 'https://app.example.com')
--- response_headers
X-Origin: [https://app.example.com]
--- response_body
ok
--- no_error_log
[error]



=== TEST 7: rule 22: the second of several allowed origins matches
--- more_headers eval
::with_origin(['https://one.example.org', 'https://app.example.com'], 'https://app.example.com')
--- response_headers
X-Origin: [https://app.example.com]
--- response_body
ok
--- no_error_log
[error]



=== TEST 8: rule 22: a non-default port matches only itself (https://app.example.com:8443)
--- more_headers eval
::with_origin(['https://app.example.com:8443'], 'https://app.example.com:8443')
--- response_headers
X-Origin: [https://app.example.com:8443]
--- response_body
ok
--- no_error_log
[error]



=== TEST 9: rule 22: the origin without the token's non-default port is rejected
--- more_headers eval
::with_origin(['https://app.example.com:8443'], 'https://app.example.com')
--- error_code: 403
--- response_body_like: "code":"ORIGIN_NOT_ALLOWED"
--- error_log
ORIGIN_NOT_ALLOWED: origin not in the token
--- no_error_log
[error]



=== TEST 10: rule 22: Origin "null" is rejected
--- more_headers eval
::with_origin(undef, 'null')
--- error_code: 403
--- response_body_like: "code":"ORIGIN_NOT_ALLOWED"
--- error_log
ORIGIN_NOT_ALLOWED: unusable origin
--- no_error_log
[error]



=== TEST 11: rule 22: a token listing "null" does not match Origin "null"
--- more_headers eval
::with_origin(['null'], 'null')
--- error_code: 403
--- response_body_like: "code":"ORIGIN_NOT_ALLOWED"
--- error_log
ORIGIN_NOT_ALLOWED: 
--- no_error_log
[error]



=== TEST 12: rule 22: two Origin headers (both the allowed origin) are rejected
--- more_headers eval
::with_origin(undef, 'https://app.example.com', 'https://app.example.com')
--- error_code: 403
--- response_body_like: "code":"ORIGIN_NOT_ALLOWED"
--- error_log
ORIGIN_NOT_ALLOWED: unusable origin
--- no_error_log
[error]



=== TEST 13: rule 22: two Origin headers (an evil one first) are rejected
--- more_headers eval
::with_origin(undef, 'https://evil.example.net', 'https://app.example.com')
--- error_code: 403
--- response_body_like: "code":"ORIGIN_NOT_ALLOWED"
--- error_log
ORIGIN_NOT_ALLOWED: unusable origin
--- no_error_log
[error]



=== TEST 14: rule 22: a trailing dot on the host is rejected
--- more_headers eval
::with_origin(undef, 'https://app.example.com.')
--- error_code: 403
--- response_body_like: "code":"ORIGIN_NOT_ALLOWED"
--- error_log
ORIGIN_NOT_ALLOWED: 
--- no_error_log
[error]



=== TEST 15: rule 22: a trailing dot in the token's origin never matches
--- more_headers eval
::with_origin(['https://app.example.com.'], 'https://app.example.com')
--- error_code: 403
--- response_body_like: "code":"ORIGIN_NOT_ALLOWED"
--- error_log
ORIGIN_NOT_ALLOWED: 
--- no_error_log
[error]



=== TEST 16: rule 22: userinfo before the host is rejected
--- more_headers eval
::with_origin(undef, 'https://user@app.example.com')
--- error_code: 403
--- response_body_like: "code":"ORIGIN_NOT_ALLOWED"
--- error_log
ORIGIN_NOT_ALLOWED: 
--- no_error_log
[error]



=== TEST 17: rule 22: userinfo with a password is rejected
--- more_headers eval
::with_origin(undef, 'https://user:pass@app.example.com')
--- error_code: 403
--- response_body_like: "code":"ORIGIN_NOT_ALLOWED"
--- error_log
ORIGIN_NOT_ALLOWED: 
--- no_error_log
[error]



=== TEST 18: rule 22: the allowed origin as userinfo of another host is rejected
--- more_headers eval
::with_origin(undef, 'https://app.example.com@evil.example.net')
--- error_code: 403
--- response_body_like: "code":"ORIGIN_NOT_ALLOWED"
--- error_log
ORIGIN_NOT_ALLOWED: 
--- no_error_log
[error]



=== TEST 19: rule 22: a backslash before "@" is rejected
--- more_headers eval
::with_origin(undef, 'https://app.example.com\\@evil.example.net')
--- error_code: 403
--- response_body_like: "code":"ORIGIN_NOT_ALLOWED"
--- error_log
ORIGIN_NOT_ALLOWED: 
--- no_error_log
[error]



=== TEST 20: rule 22: a trailing slash (a path) is rejected
--- more_headers eval
::with_origin(undef, 'https://app.example.com/')
--- error_code: 403
--- response_body_like: "code":"ORIGIN_NOT_ALLOWED"
--- error_log
ORIGIN_NOT_ALLOWED: 
--- no_error_log
[error]



=== TEST 21: rule 22: a path is rejected
--- more_headers eval
::with_origin(undef, 'https://app.example.com/embed')
--- error_code: 403
--- response_body_like: "code":"ORIGIN_NOT_ALLOWED"
--- error_log
ORIGIN_NOT_ALLOWED: 
--- no_error_log
[error]



=== TEST 22: rule 22: a query string is rejected
--- more_headers eval
::with_origin(undef, 'https://app.example.com?x=1')
--- error_code: 403
--- response_body_like: "code":"ORIGIN_NOT_ALLOWED"
--- error_log
ORIGIN_NOT_ALLOWED: 
--- no_error_log
[error]



=== TEST 23: rule 22: a fragment is rejected
--- more_headers eval
::with_origin(undef, 'https://app.example.com#x')
--- error_code: 403
--- response_body_like: "code":"ORIGIN_NOT_ALLOWED"
--- error_log
ORIGIN_NOT_ALLOWED: 
--- no_error_log
[error]



=== TEST 24: rule 22: a token origin with a trailing slash never matches
--- more_headers eval
::with_origin(['https://app.example.com/'], 'https://app.example.com')
--- error_code: 403
--- response_body_like: "code":"ORIGIN_NOT_ALLOWED"
--- error_log
ORIGIN_NOT_ALLOWED: 
--- no_error_log
[error]



=== TEST 25: rule 22: prefix trick: https://app.example.com.evil.net is rejected
--- more_headers eval
::with_origin(undef, 'https://app.example.com.evil.net')
--- error_code: 403
--- response_body_like: "code":"ORIGIN_NOT_ALLOWED"
--- error_log
ORIGIN_NOT_ALLOWED: origin not in the token
--- no_error_log
[error]



=== TEST 26: rule 22: suffix trick: https://evil-app.example.com is rejected
--- more_headers eval
::with_origin(undef, 'https://evil-app.example.com')
--- error_code: 403
--- response_body_like: "code":"ORIGIN_NOT_ALLOWED"
--- error_log
ORIGIN_NOT_ALLOWED: origin not in the token
--- no_error_log
[error]



=== TEST 27: rule 22: suffix trick: https://evilapp.example.com is rejected
--- more_headers eval
::with_origin(undef, 'https://evilapp.example.com')
--- error_code: 403
--- response_body_like: "code":"ORIGIN_NOT_ALLOWED"
--- error_log
ORIGIN_NOT_ALLOWED: origin not in the token
--- no_error_log
[error]



=== TEST 28: rule 22: a subdomain of the allowed host is rejected
--- more_headers eval
::with_origin(undef, 'https://x.app.example.com')
--- error_code: 403
--- response_body_like: "code":"ORIGIN_NOT_ALLOWED"
--- error_log
ORIGIN_NOT_ALLOWED: origin not in the token
--- no_error_log
[error]



=== TEST 29: rule 22: the parent domain is rejected
--- more_headers eval
::with_origin(undef, 'https://example.com')
--- error_code: 403
--- response_body_like: "code":"ORIGIN_NOT_ALLOWED"
--- error_log
ORIGIN_NOT_ALLOWED: origin not in the token
--- no_error_log
[error]



=== TEST 30: rule 22: http instead of https is rejected
--- more_headers eval
::with_origin(undef, 'http://app.example.com')
--- error_code: 403
--- response_body_like: "code":"ORIGIN_NOT_ALLOWED"
--- error_log
ORIGIN_NOT_ALLOWED: origin not in the token
--- no_error_log
[error]



=== TEST 31: rule 22: http with port 443 is not https
--- more_headers eval
::with_origin(undef, 'http://app.example.com:443')
--- error_code: 403
--- response_body_like: "code":"ORIGIN_NOT_ALLOWED"
--- error_log
ORIGIN_NOT_ALLOWED: 
--- no_error_log
[error]



=== TEST 32: rule 22: https with port 80 is rejected
--- more_headers eval
::with_origin(undef, 'https://app.example.com:80')
--- error_code: 403
--- response_body_like: "code":"ORIGIN_NOT_ALLOWED"
--- error_log
ORIGIN_NOT_ALLOWED: 
--- no_error_log
[error]



=== TEST 33: rule 22: a port with a leading zero (:0443) is rejected
--- more_headers eval
::with_origin(undef, 'https://app.example.com:0443')
--- error_code: 403
--- response_body_like: "code":"ORIGIN_NOT_ALLOWED"
--- error_log
ORIGIN_NOT_ALLOWED: 
--- no_error_log
[error]



=== TEST 34: rule 22: an empty port ("https://app.example.com:") is rejected
--- more_headers eval
::with_origin(undef, 'https://app.example.com:')
--- error_code: 403
--- response_body_like: "code":"ORIGIN_NOT_ALLOWED"
--- error_log
ORIGIN_NOT_ALLOWED: 
--- no_error_log
[error]



=== TEST 35: rule 22: another scheme (wss) is rejected
--- more_headers eval
::with_origin(undef, 'wss://app.example.com')
--- error_code: 403
--- response_body_like: "code":"ORIGIN_NOT_ALLOWED"
--- error_log
ORIGIN_NOT_ALLOWED: 
--- no_error_log
[error]



=== TEST 36: rule 22: an unknown scheme (ftp) is rejected
--- more_headers eval
::with_origin(undef, 'ftp://app.example.com')
--- error_code: 403
--- response_body_like: "code":"ORIGIN_NOT_ALLOWED"
--- error_log
ORIGIN_NOT_ALLOWED: 
--- no_error_log
[error]



=== TEST 37: rule 22: a percent-encoded host is rejected
--- more_headers eval
::with_origin(undef, 'https://app%2eexample.com')
--- error_code: 403
--- response_body_like: "code":"ORIGIN_NOT_ALLOWED"
--- error_log
ORIGIN_NOT_ALLOWED: 
--- no_error_log
[error]



=== TEST 38: rule 22: a wildcard claim "https://*.example.com" never matches
--- more_headers eval
::with_origin(['https://*.example.com'], 'https://app.example.com')
--- error_code: 403
--- response_body_like: "code":"ORIGIN_NOT_ALLOWED"
--- error_log
ORIGIN_NOT_ALLOWED: origin not in the token
--- no_error_log
[error]



=== TEST 39: rule 22: a wildcard claim "*" never matches
--- more_headers eval
::with_origin(['*'], 'https://app.example.com')
--- error_code: 403
--- response_body_like: "code":"ORIGIN_NOT_ALLOWED"
--- error_log
ORIGIN_NOT_ALLOWED: origin not in the token
--- no_error_log
[error]



=== TEST 40: rule 22: a wildcard claim "https://*" never matches
--- more_headers eval
::with_origin(['https://*'], 'https://app.example.com')
--- error_code: 403
--- response_body_like: "code":"ORIGIN_NOT_ALLOWED"
--- error_log
ORIGIN_NOT_ALLOWED: origin not in the token
--- no_error_log
[error]



=== TEST 41: rule 22: a token without an origins claim matches no origin
--- more_headers eval
::with_origin('-', 'https://app.example.com')
--- error_code: 403
--- response_body_like: "code":"ORIGIN_NOT_ALLOWED"
--- error_log
ORIGIN_NOT_ALLOWED: 
--- no_error_log
[error]



=== TEST 42: rule 22: a request without Origin is rejected by default (embed_session_origin_absent deny)
--- more_headers eval
::with_origin(undef)
--- error_code: 403
--- response_body_like: "code":"ORIGIN_NOT_ALLOWED"
--- error_log
ORIGIN_NOT_ALLOWED: no origin
--- no_error_log
[error]



=== TEST 43: rule 22: the Referer is not used unless embed_session_origin_referer is on
--- more_headers eval
::with_origin(undef) . "\nReferer: https://app.example.com/embed"
--- error_code: 403
--- response_body_like: "code":"ORIGIN_NOT_ALLOWED"
--- error_log
ORIGIN_NOT_ALLOWED: no origin
--- no_error_log
[error]



=== TEST 44: rule 22: control: with embed_session_origin_referer on, the Referer's origin (path cut off) matches
--- request
GET /ref/
--- more_headers eval
::with_origin(undef) . "\nReferer: https://app.example.com/embed?x=1#top"
--- response_body
ok
--- no_error_log
[error]



=== TEST 45: rule 22: a Referer on a prefix-trick host is rejected
--- request
GET /ref/
--- more_headers eval
::with_origin(undef) . "\nReferer: https://app.example.com.evil.net/embed"
--- error_code: 403
--- response_body_like: "code":"ORIGIN_NOT_ALLOWED"
--- no_error_log
[error]



=== TEST 46: rule 22: a Referer with userinfo is rejected
--- request
GET /ref/
--- more_headers eval
::with_origin(undef) . "\nReferer: https://user\@app.example.com/embed"
--- error_code: 403
--- response_body_like: "code":"ORIGIN_NOT_ALLOWED"
--- no_error_log
[error]



=== TEST 47: rule 22: an Origin, when present, wins over the Referer
--- request
GET /ref/
--- more_headers eval
::with_origin(undef, 'https://evil.example.net') . "\nReferer: https://app.example.com/embed"
--- error_code: 403
--- response_body_like: "code":"ORIGIN_NOT_ALLOWED"
--- no_error_log
[error]



=== TEST 48: rule 22: control: embed_session_origin_absent allow accepts a request without Origin
--- request
GET /absent/
--- more_headers eval
::with_origin(undef)
--- response_body
ok
--- no_error_log
[error]



=== TEST 49: rule 22: embed_session_origin_absent allow still rejects a wrong Origin
--- request
GET /absent/
--- more_headers eval
::with_origin(undef, 'https://evil.example.net')
--- error_code: 403
--- response_body_like: "code":"ORIGIN_NOT_ALLOWED"
--- error_log
ORIGIN_NOT_ALLOWED: origin not in the token
--- no_error_log
[error]



=== TEST 50: rule 22: embed_session_origin_absent allow still rejects Origin "null"
--- request
GET /absent/
--- more_headers eval
::with_origin(undef, 'null')
--- error_code: 403
--- response_body_like: "code":"ORIGIN_NOT_ALLOWED"
--- error_log
ORIGIN_NOT_ALLOWED: unusable origin
--- no_error_log
[error]

