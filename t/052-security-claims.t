# vim:set ft= ts=4 sw=4 et fdm=marker:

# Security rules of docs/security.md about the claims: 10 (duplicate
# members in the payload), 11 (payload depth, members, NUL), 12 (types of
# exp/nbf/iat), 13 (clock skew and lifetime), 19 (token substitution: typ,
# audience, issuer, origin).  Each test is named after its rule.

use FindBin;
use lib "$FindBin::Bin/lib";
use EmbedSessionTest;
use EmbedSessionSecurity;

repeat_each(2);

plan 'no_plan';

# the default claims with raw JSON members put in front (duplicates)

sub pl_dup {
    my ($raw, %m) = @_;
    return '{' . $raw . ',' . substr(pl(%m), 1);
}

sub nested {
    my ($depth) = @_;
    return \(('[' x $depth) . (']' x $depth));
}

my $AUD = { aud => 'https://api.example.com',
            iss => 'https://issuer.example.com' };

sub aud_claims { return { %$AUD, @_ } }

add_block_preprocessor(sub {
    my $block = shift;

    $block->run_filters unless $block->is_filtered;

    $block->set_value('config', <<'_EOC_')
    location /app/ {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
        root html;
    }

    location /aud/ {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
        embed_session_audience https://api.example.com;
        embed_session_issuer https://issuer.example.com;
        root html;
    }

    location /other/ {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
        embed_session_type embed-other+jwt;
        root html;
    }

    location /typoff/ {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
        embed_session_type off;
        root html;
    }

    location /leeway0/ {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
        embed_session_leeway 0;
        root html;
    }

    location /life0/ {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
        embed_session_max_lifetime 0;
        root html;
    }

    location /life1h/ {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
        embed_session_max_lifetime 1h;
        root html;
    }
_EOC_
        unless defined $block->config;

    $block->set_value('user_files', join '',
                      map { ">>> $_/index.html\nok\n" }
                          qw(app aud other typoff leeway0 life0 life1h))
        unless defined $block->user_files;

    $block->set_value('request', "GET /app/\n")
        unless defined $block->request;
});

run_tests();

__DATA__

=== TEST 1: baseline: a hand-built token with the default claims is accepted
--- more_headers eval
::h(::forge())
--- response_body
ok
--- no_error_log
[error]



=== TEST 2: rule 10: "sub" twice in the payload is rejected
--- more_headers eval
::h(::forge(payload => ::pl_dup('"sub":"admin"')))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: payload is not a JSON object
--- no_error_log
[error]



=== TEST 3: rule 10: "exp" twice (an expired one shadowed by a valid one) is rejected
--- more_headers eval
::h(::forge(payload => ::pl_dup('"exp":1000')))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: payload is not a JSON object
--- no_error_log
[error]



=== TEST 4: rule 10: an escaped duplicate "\u0065xp" in the payload is rejected
--- more_headers eval
::h(::forge(payload => ::pl_dup('"\u0065xp":1000')))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: payload is not a JSON object
--- no_error_log
[error]



=== TEST 5: rule 10: "origins" twice (an attacker's origin first) is rejected
--- more_headers eval
::h(::forge(payload => ::pl_dup('"origins":["https://evil.example.net"]')))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: payload is not a JSON object
--- no_error_log
[error]



=== TEST 6: rule 10: a duplicate key inside a nested claim object is rejected
--- more_headers eval
::h(::forge(payload => ::pl(permissions => \'{"publish":false,"publish":true}')))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: payload is not a JSON object
--- no_error_log
[error]



=== TEST 7: baseline: a claim nested 5 levels deep is accepted
--- more_headers eval
::h(::forge(payload => ::pl(deep => ::nested(5))))
--- response_body
ok
--- no_error_log
[error]



=== TEST 8: rule 11: a claim nested 64 levels deep is rejected
--- more_headers eval
::h(::forge(payload => ::pl(deep => ::nested(64))))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: payload too deep or too large
--- no_error_log
[error]



=== TEST 9: rule 11: a claim nested 2000 levels deep is rejected without harm
--- more_headers eval
::h(::forge(payload => ::pl(deep => ::nested(2000))))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- no_error_log
[error]
[alert]



=== TEST 10: rule 11: a payload of 300 members is rejected
--- more_headers eval
::h(::forge(payload => ::pl(map { ("c$_" => 1) } 1 .. 300)))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: payload too deep or too large
--- no_error_log
[error]



=== TEST 11: rule 11: an array claim of 1000 elements is rejected
--- more_headers eval
::h(::forge(payload => ::pl(list => [ (0) x 1000 ])))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: payload too deep or too large
--- no_error_log
[error]



=== TEST 12: rule 11: "\u0000" inside a claim string is rejected (never JSON_ALLOW_NUL)
--- more_headers eval
::h(::forge(payload => ::pl(sub => \'"user-1\u0000admin"')))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: payload is not a JSON object
--- no_error_log
[error]



=== TEST 13: rule 11: "\u0000" inside a claim name is rejected
--- more_headers eval
::h(::forge(payload => ::pl_dup('"ro\u0000le":"admin"')))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: payload is not a JSON object
--- no_error_log
[error]



=== TEST 14: rule 11: invalid UTF-8 in a claim string is rejected
--- more_headers eval
::h(::forge(payload => ::pl(sub => \qq("user-\xff\xfe"))))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: payload is not a JSON object
--- no_error_log
[error]



=== TEST 15: rule 11: a lone UTF-16 surrogate "\ud800" in a claim string is rejected
--- more_headers eval
::h(::forge(payload => ::pl(sub => \'"user-\ud800"')))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: payload is not a JSON object
--- no_error_log
[error]



=== TEST 16: rule 11: a payload that is a JSON array is rejected
--- more_headers eval
::h(::forge(payload => '[{"exp":' . (time + 300) . '}]'))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: payload is not a JSON object
--- no_error_log
[error]



=== TEST 17: rule 12: exp as a string is rejected
--- more_headers eval
::h(::forge(payload => ::pl(exp => '' . (time + 300))))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: bad time claim
--- no_error_log
[error]



=== TEST 18: rule 12: exp as a real (NNN.0) is rejected
--- more_headers eval
::h(::forge(payload => ::pl(exp => \ sprintf('%d.0', time + 300))))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: bad time claim
--- no_error_log
[error]



=== TEST 19: rule 12: exp with an exponent (NNNe0) is rejected
--- more_headers eval
::h(::forge(payload => ::pl(exp => \ sprintf('%de0', time + 300))))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: bad time claim
--- no_error_log
[error]



=== TEST 20: rule 12: exp true is rejected
--- more_headers eval
::h(::forge(payload => ::pl(exp => \'true')))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: bad time claim
--- no_error_log
[error]



=== TEST 21: rule 12: exp null is rejected
--- more_headers eval
::h(::forge(payload => ::pl(exp => \'null')))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: bad time claim
--- no_error_log
[error]



=== TEST 22: rule 12: exp as an array is rejected
--- more_headers eval
::h(::forge(payload => ::pl(exp => [time + 300])))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: bad time claim
--- no_error_log
[error]



=== TEST 23: rule 12: a negative exp is malformed (SESSION_INVALID, not SESSION_EXPIRED)
--- more_headers eval
::h(::forge(payload => ::pl(exp => -1)))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: bad time claim
--- no_error_log
[error]



=== TEST 24: rule 12: exp 253402300800 (one past 9999-12-31T23:59:59Z) is rejected even with no lifetime limit
--- request
GET /life0/
--- more_headers eval
::h(::forge(payload => ::pl(exp => 253402300800)))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: bad time claim
--- no_error_log
[error]



=== TEST 25: rule 12: control: exp 253402300799 (the largest NumericDate) is accepted with no lifetime limit
--- request
GET /life0/
--- more_headers eval
::h(::forge(payload => ::pl(exp => 253402300799)))
--- response_body
ok
--- no_error_log
[error]



=== TEST 26: rule 12: exp 2^63 (beyond int64) is rejected
--- more_headers eval
::h(::forge(payload => ::pl(exp => \'9223372036854775808')))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- no_error_log
[error]



=== TEST 27: rule 12: exp 0 is in range and expired (SESSION_EXPIRED)
--- more_headers eval
::h(::forge(payload => ::pl(exp => 0, iat => undef)))
--- error_code: 401
--- response_body_like: "code":"SESSION_EXPIRED"
--- error_log
SESSION_EXPIRED: expired
--- no_error_log
[error]



=== TEST 28: rule 12: a token without exp is rejected
--- more_headers eval
::h(::forge(payload => ::pl(exp => undef)))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: no "exp"
--- no_error_log
[error]



=== TEST 29: rule 12: nbf as a string is rejected
--- more_headers eval
::h(::forge(payload => ::pl(nbf => '' . (time - 10))))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: bad time claim
--- no_error_log
[error]



=== TEST 30: rule 12: nbf as a real is rejected
--- more_headers eval
::h(::forge(payload => ::pl(nbf => \ sprintf('%d.5', time - 10))))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: bad time claim
--- no_error_log
[error]



=== TEST 31: rule 12: nbf false is rejected
--- more_headers eval
::h(::forge(payload => ::pl(nbf => \'false')))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: bad time claim
--- no_error_log
[error]



=== TEST 32: rule 12: a negative nbf is rejected
--- more_headers eval
::h(::forge(payload => ::pl(nbf => -1)))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: bad time claim
--- no_error_log
[error]



=== TEST 33: rule 12: iat as a string is rejected
--- more_headers eval
::h(::forge(payload => ::pl(iat => '' . time)))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: bad time claim
--- no_error_log
[error]



=== TEST 34: rule 12: iat as a real is rejected
--- more_headers eval
::h(::forge(payload => ::pl(iat => \ sprintf('%d.0', time))))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: bad time claim
--- no_error_log
[error]



=== TEST 35: rule 12: iat true is rejected
--- more_headers eval
::h(::forge(payload => ::pl(iat => \'true')))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: bad time claim
--- no_error_log
[error]



=== TEST 36: rule 12: a negative iat is rejected
--- more_headers eval
::h(::forge(payload => ::pl(iat => -86400)))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: bad time claim
--- no_error_log
[error]



=== TEST 37: rule 12: a huge iat (1e15) is rejected
--- more_headers eval
::h(::forge(payload => ::pl(iat => 1000000000000000)))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: bad time claim
--- no_error_log
[error]



=== TEST 38: rule 12: "sub" as a number is rejected
--- more_headers eval
::h(::forge(payload => ::pl(sub => 42)))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: bad string claim
--- no_error_log
[error]



=== TEST 39: rule 12: "aud" as a number is rejected
--- more_headers eval
::h(::forge(payload => ::pl(aud => 42)))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: bad "aud"
--- no_error_log
[error]



=== TEST 40: rule 13: a token expired 10 s ago is accepted within the default leeway
--- more_headers eval
::h(::forge(payload => ::pl(exp => time - 10, iat => time - 100)))
--- response_body
ok
--- no_error_log
[error]



=== TEST 41: rule 13: the default leeway is at most 60 s: a token expired 61 s ago is rejected
--- more_headers eval
::h(::forge(payload => ::pl(exp => time - 61, iat => time - 200)))
--- error_code: 401
--- response_body_like: "code":"SESSION_EXPIRED"
--- error_log
SESSION_EXPIRED: expired
--- no_error_log
[error]



=== TEST 42: rule 13: with embed_session_leeway 0 a token expired 10 s ago is rejected
--- request
GET /leeway0/
--- more_headers eval
::h(::forge(payload => ::pl(exp => time - 10, iat => time - 100)))
--- error_code: 401
--- response_body_like: "code":"SESSION_EXPIRED"
--- error_log
SESSION_EXPIRED: expired
--- no_error_log
[error]



=== TEST 43: rule 13: the expired answer carries WWW-Authenticate with error="invalid_token"
--- more_headers eval
::h(::forge(payload => ::pl(exp => time - 3600, iat => time - 4000)))
--- error_code: 401
--- response_headers_like
WWW-Authenticate: Bearer.*error="invalid_token"
--- response_body_like: "code":"SESSION_EXPIRED"
--- no_error_log
[error]



=== TEST 44: rule 13: nbf 10 s in the future is accepted within the default leeway
--- more_headers eval
::h(::forge(payload => ::pl(nbf => time + 10)))
--- response_body
ok
--- no_error_log
[error]



=== TEST 45: rule 13: nbf 120 s in the future is rejected
--- more_headers eval
::h(::forge(payload => ::pl(nbf => time + 120)))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: not yet valid
--- no_error_log
[error]



=== TEST 46: rule 13: with embed_session_leeway 0, nbf 10 s in the future is rejected
--- request
GET /leeway0/
--- more_headers eval
::h(::forge(payload => ::pl(nbf => time + 10)))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: not yet valid
--- no_error_log
[error]



=== TEST 47: rule 13: iat 10 s in the future is accepted within the default leeway
--- more_headers eval
::h(::forge(payload => ::pl(iat => time + 10)))
--- response_body
ok
--- no_error_log
[error]



=== TEST 48: rule 13: iat 120 s in the future is rejected
--- more_headers eval
::h(::forge(payload => ::pl(iat => time + 120)))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: issued in the future
--- no_error_log
[error]



=== TEST 49: rule 13: a lifetime of two days exceeds the default maximum of one day
--- more_headers eval
::h(::forge(payload => ::pl(exp => time + 2 * 86400)))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: lifetime too long
--- no_error_log
[error]



=== TEST 50: rule 13: control: a lifetime just under one day is accepted
--- more_headers eval
::h(::forge(payload => ::pl(exp => time + 86000)))
--- response_body
ok
--- no_error_log
[error]



=== TEST 51: rule 13: without iat, exp two days ahead exceeds the maximum lifetime
--- more_headers eval
::h(::forge(payload => ::pl(exp => time + 2 * 86400, iat => undef)))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: lifetime too long
--- no_error_log
[error]



=== TEST 52: rule 13: a back-dated iat (two days ago) with a near exp exceeds the maximum lifetime
--- more_headers eval
::h(::forge(payload => ::pl(iat => time - 2 * 86400)))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: lifetime too long
--- no_error_log
[error]



=== TEST 53: rule 13: with embed_session_max_lifetime 1h a two-hour token is rejected
--- request
GET /life1h/
--- more_headers eval
::h(::forge(payload => ::pl(exp => time + 7200)))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: lifetime too long
--- no_error_log
[error]



=== TEST 54: rule 13: with embed_session_max_lifetime 1h a 30-minute token is accepted
--- request
GET /life1h/
--- more_headers eval
::h(::forge(payload => ::pl(exp => time + 1800)))
--- response_body
ok
--- no_error_log
[error]



=== TEST 55: rule 13: embed_session_max_lifetime 0 turns the lifetime check off (30-day token accepted)
--- request
GET /life0/
--- more_headers eval
::h(::forge(payload => ::pl(exp => time + 30 * 86400)))
--- response_body
ok
--- no_error_log
[error]



=== TEST 56: rule 19: a renew token (typ "embed-renew+jwt") is rejected where a session token is expected
--- more_headers eval
::h(::token(header => { typ => 'embed-renew+jwt' }))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: wrong "typ"
--- no_error_log
[error]



=== TEST 57: rule 19: a token without typ is rejected by default
--- more_headers eval
::h(::token(header => { typ => undef }))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: wrong "typ"
--- no_error_log
[error]



=== TEST 58: rule 19: typ "JWT" is rejected
--- more_headers eval
::h(::token(header => { typ => 'JWT' }))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: wrong "typ"
--- no_error_log
[error]



=== TEST 59: rule 19: typ "Embed-Session+JWT" is rejected (compared byte for byte)
--- more_headers eval
::h(::token(header => { typ => 'Embed-Session+JWT' }))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: wrong "typ"
--- no_error_log
[error]



=== TEST 60: rule 19: typ "embed-session+jwt " (trailing space) is rejected
--- more_headers eval
::h(::token(header => { typ => 'embed-session+jwt ' }))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: wrong "typ"
--- no_error_log
[error]



=== TEST 61: rule 19: typ as an array holding the right type is rejected
--- more_headers eval
::h(::token(header => { typ => ['embed-session+jwt'] }))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- no_error_log
[error]



=== TEST 62: rule 19: control: a location expecting another type accepts it
--- request
GET /other/
--- more_headers eval
::h(::token(header => { typ => 'embed-other+jwt' }))
--- response_body
ok
--- no_error_log
[error]



=== TEST 63: rule 19: a location expecting another type rejects a session token
--- request
GET /other/
--- more_headers eval
::h(::token())
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: wrong "typ"
--- no_error_log
[error]



=== TEST 64: rule 19: control: embed_session_type off accepts a token without typ
--- request
GET /typoff/
--- more_headers eval
::h(::token(header => { typ => undef }))
--- response_body
ok
--- no_error_log
[error]



=== TEST 65: rule 19: control: the configured audience and issuer are accepted
--- request
GET /aud/
--- more_headers eval
::h(::token(claims => ::aud_claims()))
--- response_body
ok
--- no_error_log
[error]



=== TEST 66: rule 19: a token for another audience is rejected
--- request
GET /aud/
--- more_headers eval
::h(::token(claims => ::aud_claims(aud => 'https://other.example.com')))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: wrong "aud"
--- no_error_log
[error]



=== TEST 67: rule 19: control: an aud array holding the configured audience is accepted
--- request
GET /aud/
--- more_headers eval
::h(::token(claims => ::aud_claims(aud => ['https://other.example.com', 'https://api.example.com'])))
--- response_body
ok
--- no_error_log
[error]



=== TEST 68: rule 19: an aud array without the configured audience is rejected
--- request
GET /aud/
--- more_headers eval
::h(::token(claims => ::aud_claims(aud => ['https://other.example.com', 'https://api.example.com.evil.net'])))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: wrong "aud"
--- no_error_log
[error]



=== TEST 69: rule 19: an aud that extends the configured audience (prefix match) is rejected
--- request
GET /aud/
--- more_headers eval
::h(::token(claims => ::aud_claims(aud => 'https://api.example.com.evil.net')))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: wrong "aud"
--- no_error_log
[error]



=== TEST 70: rule 19: an aud that is a prefix of the configured audience is rejected
--- request
GET /aud/
--- more_headers eval
::h(::token(claims => ::aud_claims(aud => 'https://api.example.co')))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: wrong "aud"
--- no_error_log
[error]



=== TEST 71: rule 19: a token without aud is rejected where an audience is configured
--- request
GET /aud/
--- more_headers eval
::h(::token(claims => ::aud_claims(aud => undef)))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: wrong "aud"
--- no_error_log
[error]



=== TEST 72: rule 19: a token from another issuer is rejected
--- request
GET /aud/
--- more_headers eval
::h(::token(claims => ::aud_claims(iss => 'https://issuer.example.com.evil.net')))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: wrong "iss"
--- no_error_log
[error]



=== TEST 73: rule 19: a token without iss is rejected where an issuer is configured
--- request
GET /aud/
--- more_headers eval
::h(::token(claims => ::aud_claims(iss => undef)))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: wrong "iss"
--- no_error_log
[error]



=== TEST 74: rule 19: iss as an array holding the issuer is rejected (iss must equal the string)
--- request
GET /aud/
--- more_headers eval
::h(::token(claims => ::aud_claims(iss => ['https://issuer.example.com'])))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- no_error_log
[error]



=== TEST 75: rule 19: a token issued for another origin is rejected with 403 ORIGIN_NOT_ALLOWED
--- more_headers eval
::h(::token(claims => { origins => ['https://other.example.net'] }))
--- error_code: 403
--- response_body_like: "code":"ORIGIN_NOT_ALLOWED"
--- error_log
ORIGIN_NOT_ALLOWED: origin not in the token
--- no_error_log
[error]
