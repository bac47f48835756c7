# Claims: exp (required), leeway on exp, nbf and iat, max_lifetime, iss
# and aud, and the JOSE header typ.

use FindBin;
use lib "$FindBin::Bin/lib";
use EmbedSessionTest;

repeat_each(2);

# Every token of the file is made when it starts: the blocks whose result
# depends on the clock come first, with margins of minutes.

no_shuffle();

# request headers carrying a token with these claims (undef removes one)

sub claims {
    my (%c) = @_;
    return hdr(token(claims => \%c));
}

sub hdr {
    my ($jws) = @_;
    return "X-Session-Token: $jws\nOrigin: https://app.example.com";
}

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

add_block_preprocessor(sub {
    my $block = shift;

    # "a cached token still expires" needs a token made when it runs, and
    # a single round: the module caches verified tokens per worker

    if ($block->name =~ /a cached token still expires/) {
        my $jws = token(claims => { iat => time, exp => time + 2 });

        $block->set_value('more_headers', [hdr($jws), '', hdr($jws)]);
        $block->set_value('user_files', ">>> t\nok\n>>> slow\n"
                                        . ('x' x 1400) . "\n");
        repeat_each(1);

    } else {
        repeat_each(2);
    }

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

=== TEST 1: leeway 1h: expired 30 minutes ago passes
--- config
    location /t {
        embed_session_verify on;
        embed_session_leeway 1h;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }
--- more_headers eval
::claims(iat => time - 1860, exp => time - 1800)
--- response_body
ok



=== TEST 2: leeway 1h: expired 90 minutes ago fails
--- config
    location /t {
        embed_session_verify on;
        embed_session_leeway 1h;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }
--- more_headers eval
::claims(iat => time - 5460, exp => time - 5400)
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer error="invalid_token"
--- response_body_like chomp
^\{"error":"Session token expired","code":"SESSION_EXPIRED"\}\n?$
--- error_log eval
qr/\[info\].*(?i:expired)/



=== TEST 3: leeway 1h: nbf 30 minutes ahead passes
--- config
    location /t {
        embed_session_verify on;
        embed_session_leeway 1h;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }
--- more_headers eval
::claims(nbf => time + 1800)
--- response_body
ok



=== TEST 4: leeway 1h: nbf 90 minutes ahead fails
--- config
    location /t {
        embed_session_verify on;
        embed_session_leeway 1h;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }
--- more_headers eval
::claims(nbf => time + 5400, exp => time + 7200)
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer error="invalid_token"
--- response_body_like: "code":"SESSION_INVALID"
--- error_log eval
qr/\[info\].*nbf/



=== TEST 5: leeway 1h: iat 30 minutes ahead passes
--- config
    location /t {
        embed_session_verify on;
        embed_session_leeway 1h;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }
--- more_headers eval
::claims(iat => time + 1800, exp => time + 2400)
--- response_body
ok



=== TEST 6: leeway 1h: iat 90 minutes ahead fails
--- config
    location /t {
        embed_session_verify on;
        embed_session_leeway 1h;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }
--- more_headers eval
::claims(iat => time + 5400, exp => time + 6000)
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log eval
qr/\[info\].*iat/



=== TEST 7: default leeway: nbf 10 seconds ahead passes
--- more_headers eval
::claims(nbf => time + 10)
--- response_body
ok



=== TEST 8: default leeway: nbf 10 minutes ahead fails
--- more_headers eval
::claims(nbf => time + 600, exp => time + 900)
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"



=== TEST 9: default leeway: iat 10 seconds ahead passes
--- more_headers eval
::claims(iat => time + 10)
--- response_body
ok



=== TEST 10: default leeway: iat 10 minutes ahead fails
--- more_headers eval
::claims(iat => time + 600, exp => time + 900)
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"



=== TEST 11: max_lifetime 10m without iat: exp 20 minutes ahead fails
--- config
    location /t {
        embed_session_verify on;
        embed_session_max_lifetime 10m;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }
--- more_headers eval
::claims(iat => undef, exp => time + 1200)
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log eval
qr/\[info\].*(?i:lifetime|long)/



=== TEST 12: max_lifetime 10m without iat: exp 9 minutes ahead passes
--- config
    location /t {
        embed_session_verify on;
        embed_session_max_lifetime 10m;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }
--- more_headers eval
::claims(iat => undef, exp => time + 540)
--- response_body
ok



=== TEST 13: leeway 0: a token that expired a minute ago fails
--- config
    location /t {
        embed_session_verify on;
        embed_session_leeway 0;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }
--- more_headers eval
::claims(iat => time - 120, exp => time - 60)
--- error_code: 401
--- response_body_like: "code":"SESSION_EXPIRED"



=== TEST 14: expired 10 minutes ago: 401 SESSION_EXPIRED
--- more_headers eval
::claims(iat => time - 900, exp => time - 600)
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer error="invalid_token"
Content-Type: application/json
--- response_body_like chomp
^\{"error":"Session token expired","code":"SESSION_EXPIRED"\}\n?$
--- error_log eval
qr/\[info\].*(?i:expired)/



=== TEST 15: exp is required
--- more_headers eval
::claims(exp => undef)
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer error="invalid_token"
--- response_body_like: "code":"SESSION_INVALID"
--- error_log eval
qr/\[info\].*exp/



=== TEST 16: exp is required even with max_lifetime 0
--- config
    location /t {
        embed_session_verify on;
        embed_session_max_lifetime 0;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }
--- more_headers eval
::claims(exp => undef)
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"



=== TEST 17: exp, nbf, iat must be integers
--- pipelined_requests eval
[("GET /t") x 6]
--- more_headers eval
[::claims(exp => "" . (time + 300)),
 ::claims(exp => time + 300.5),
 ::claims(exp => \1),
 ::claims(exp => -1),
 ::claims(nbf => "" . (time - 10)),
 ::claims(iat => [time])]
--- error_code eval
[(401) x 6]
--- response_body_like eval
[('"code":"SESSION_(?:INVALID|EXPIRED)"') x 6]



=== TEST 18: nbf in the past passes
--- more_headers eval
::claims(nbf => time - 60)
--- response_body
ok



=== TEST 19: max_lifetime 10m: exp - iat of 9 minutes passes
--- config
    location /t {
        embed_session_verify on;
        embed_session_max_lifetime 10m;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }
--- more_headers eval
::hdr(::token(ttl => 540))
--- response_body
ok



=== TEST 20: max_lifetime 10m: exp - iat of 11 minutes fails
--- config
    location /t {
        embed_session_verify on;
        embed_session_max_lifetime 10m;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }
--- more_headers eval
::hdr(::token(ttl => 660))
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer error="invalid_token"
--- response_body_like: "code":"SESSION_INVALID"
--- error_log eval
qr/\[info\].*(?i:lifetime|long)/



=== TEST 21: max_lifetime 10m: issued long ago, expiring soon, still too long
--- config
    location /t {
        embed_session_verify on;
        embed_session_max_lifetime 10m;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }
--- more_headers eval
::claims(iat => time - 3000, exp => time + 300)
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"



=== TEST 22: max_lifetime 0: no limit
--- config
    location /t {
        embed_session_verify on;
        embed_session_max_lifetime 0;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }
--- pipelined_requests eval
["GET /t", "GET /t"]
--- more_headers eval
[::hdr(::token(ttl => 365 * 86400)),
 ::claims(iat => undef, exp => time + 365 * 86400)]
--- response_body eval
["ok\n", "ok\n"]



=== TEST 23: issuer: exact match passes
--- config
    location /t {
        embed_session_verify on;
        embed_session_issuer https://issuer.example.com;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }
--- more_headers eval
::claims(iss => 'https://issuer.example.com')
--- response_body
ok



=== TEST 24: issuer: other, missing, different case, prefix, suffix fail
--- config
    location /t {
        embed_session_verify on;
        embed_session_issuer https://issuer.example.com;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }
--- pipelined_requests eval
[("GET /t") x 6]
--- more_headers eval
[::claims(iss => 'https://other.example.com'),
 ::claims(iss => undef),
 ::claims(iss => 'https://ISSUER.example.com'),
 ::claims(iss => 'https://issuer.example.co'),
 ::claims(iss => 'https://issuer.example.com/'),
 ::claims(iss => ['https://issuer.example.com'])]
--- error_code eval
[(401) x 6]
--- response_body_like eval
[('"code":"SESSION_INVALID"') x 6]



=== TEST 25: issuer: a wrong iss is logged
--- config
    location /t {
        embed_session_verify on;
        embed_session_issuer https://issuer.example.com;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }
--- more_headers eval
::claims(iss => 'https://other.example.com')
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log eval
qr/\[info\].*iss/



=== TEST 26: no issuer configured: iss is not checked
--- more_headers eval
::claims(iss => 'https://anyone.example.com')
--- response_body
ok



=== TEST 27: audience: string equal and array holding it pass
--- config
    location /t {
        embed_session_verify on;
        embed_session_audience embed-api;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }
--- pipelined_requests eval
[("GET /t") x 3]
--- more_headers eval
[::claims(aud => 'embed-api'),
 ::claims(aud => ['other-api', 'embed-api']),
 ::claims(aud => ['embed-api'])]
--- response_body eval
[("ok\n") x 3]



=== TEST 28: audience: other, missing, array without it, prefix fail
--- config
    location /t {
        embed_session_verify on;
        embed_session_audience embed-api;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }
--- pipelined_requests eval
[("GET /t") x 6]
--- more_headers eval
[::claims(aud => 'other-api'),
 ::claims(aud => undef),
 ::claims(aud => ['other-api', 'third-api']),
 ::claims(aud => []),
 ::claims(aud => 'embed-api-v2'),
 ::claims(aud => 'Embed-API')]
--- error_code eval
[(401) x 6]
--- response_body_like eval
[('"code":"SESSION_INVALID"') x 6]



=== TEST 29: audience: a wrong aud is logged
--- config
    location /t {
        embed_session_verify on;
        embed_session_audience embed-api;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }
--- more_headers eval
::claims(aud => ['other-api'])
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log eval
qr/\[info\].*aud/



=== TEST 30: issuer and audience both configured
--- config
    location /t {
        embed_session_verify on;
        embed_session_issuer https://issuer.example.com;
        embed_session_audience embed-api;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }
--- pipelined_requests eval
[("GET /t") x 3]
--- more_headers eval
[::claims(iss => 'https://issuer.example.com', aud => 'embed-api'),
 ::claims(iss => 'https://issuer.example.com', aud => 'other'),
 ::claims(iss => 'https://other.example.com', aud => 'embed-api')]
--- error_code eval
[200, 401, 401]
--- response_body_like eval
["^ok\n\$", '"code":"SESSION_INVALID"', '"code":"SESSION_INVALID"']



=== TEST 31: typ: the default embed-session+jwt passes
--- more_headers eval
::hdr(::token(header => { typ => 'embed-session+jwt' }))
--- response_body
ok



=== TEST 32: typ: other, missing, renew, different case fail by default
--- pipelined_requests eval
[("GET /t") x 5]
--- more_headers eval
[::hdr(::token(header => { typ => 'JWT' })),
 ::hdr(::token(header => { typ => undef })),
 ::hdr(::token(header => { typ => 'embed-other+jwt' })),
 ::hdr(::token(header => { typ => 'Embed-Session+JWT' })),
 ::hdr(::token(header => { typ => 'embed-session+jwt ' }))]
--- error_code eval
[(401) x 5]
--- response_body_like eval
[('"code":"SESSION_INVALID"') x 5]



=== TEST 33: typ: a wrong typ is logged
--- more_headers eval
::hdr(::token(header => { typ => 'JWT' }))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log eval
qr/\[info\].*typ/



=== TEST 34: typ: a custom type passes, the default one fails
--- config
    location /t {
        embed_session_verify on;
        embed_session_type embed-other+jwt;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }
--- pipelined_requests eval
[("GET /t") x 3]
--- more_headers eval
[::hdr(::token(header => { typ => 'embed-other+jwt' })),
 ::hdr(::token()),
 ::hdr(::token(header => { typ => undef }))]
--- error_code eval
[200, 401, 401]
--- response_body_like eval
["^ok\n\$", '"code":"SESSION_INVALID"', '"code":"SESSION_INVALID"']



=== TEST 35: typ off: with or without typ passes
--- config
    location /t {
        embed_session_verify on;
        embed_session_type off;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }
--- pipelined_requests eval
[("GET /t") x 3]
--- more_headers eval
[::hdr(::token(header => { typ => undef })),
 ::hdr(::token(header => { typ => 'JWT' })),
 ::hdr(::token())]
--- response_body eval
[("ok\n") x 3]



=== TEST 36: a valid token with all registered claims passes
--- config
    location /t {
        embed_session_verify on;
        embed_session_issuer https://issuer.example.com;
        embed_session_audience embed-api;
        embed_session_max_lifetime 1h;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }
--- more_headers eval
::claims(iss => 'https://issuer.example.com', aud => ['embed-api'],
         nbf => time - 5, iat => time - 5, exp => time + 600)
--- response_body
ok



=== TEST 37: the signature is checked before the claims
--- more_headers eval
my ($h, $p, $s) = split /\./, ::token(claims => { exp => time - 600 });
my ($h2, $p2, $s2) = split /\./, ::token(key => 'hs256-2');
::hdr("$h.$p.$s2")
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"



=== TEST 38: a cached token still expires
--- skip_eval: 9: $ENV{TEST_NGINX_USE_VALGRIND}
--- config
    location /t {
        embed_session_verify on;
        embed_session_leeway 0;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }

    # about 4 seconds: the first 1k at once, the rest at 150 bytes/s

    location /slow {
        limit_rate_after 1k;
        limit_rate 150;
    }
--- timeout: 15
--- pipelined_requests eval
["GET /t", "GET /slow", "GET /t"]
--- error_code eval
[200, 200, 401]
--- response_body_like eval
["^ok\n\$", "^x{1400}\n\$", '"code":"SESSION_EXPIRED"']
