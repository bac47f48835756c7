# vim:set ft= ts=4 sw=4 et fdm=marker:

# embed_session_keys, the algorithms: every algorithm with a valid token
# (private keys sign, the public JWK Set and PEM files verify), a changed
# payload refused, and the algorithm binding (sibling downgrade, algorithm
# confusion, alg "none", DER and truncated signatures).  Key selection is
# in 121-keys-selection.t, the configuration errors of key files in
# 122-keys-config.t.

use FindBin;
use lib "$FindBin::Bin/lib";
use EmbedSessionTest;

repeat_each(2);
no_shuffle();

# the token with one claim changed and the signature kept

sub tamper_payload {
    my ($jws) = @_;

    my ($h, $p, $s) = split /\./, $jws;
    my $claims = JSON::PP->new->decode(b64url_decode($p));

    $claims->{sub} = 'admin';

    return join '.', $h, b64url_encode(JSON::PP->new->canonical
                                               ->encode($claims)), $s;
}

# an ES256 token with its r || s signature re-encoded as DER

sub der_signature {
    my ($jws) = @_;

    my ($h, $p, $s) = split /\./, $jws;
    my $sig = b64url_decode($s);
    my @int;

    for my $v (substr($sig, 0, 32), substr($sig, 32)) {
        $v =~ s/\A\x00+//;
        $v = "\x00$v" if ord($v) & 0x80;
        push @int, "\x02" . chr(length $v) . $v;
    }

    my $der = join '', @int;

    return "$h.$p." . b64url_encode("\x30" . chr(length $der) . $der);
}

run_tests();

Test::More::done_testing();

__DATA__

=== TEST 1: HS256: the JWK Set verifies a token its key signed
--- config
    location /jwks {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }

    location /alg {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks alg=HS256;
    }
--- user_files
>>> jwks
ok
>>> alg
ok
--- more_headers eval
"X-Session-Token: " . ::token(key => 'hs256')
. "\nOrigin: https://app.example.com"
--- pipelined_requests eval
["GET /jwks", "GET /alg"]
--- response_body eval
["ok\n", "ok\n"]
--- no_error_log
[error]



=== TEST 2: HS384: the JWK Set verifies a token its key signed
--- config
    location /jwks {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs384.jwks;
    }

    location /alg {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs384.jwks alg=HS384;
    }
--- user_files
>>> jwks
ok
>>> alg
ok
--- more_headers eval
"X-Session-Token: " . ::token(key => 'hs384')
. "\nOrigin: https://app.example.com"
--- pipelined_requests eval
["GET /jwks", "GET /alg"]
--- response_body eval
["ok\n", "ok\n"]
--- no_error_log
[error]



=== TEST 3: HS512: the JWK Set verifies a token its key signed
--- config
    location /jwks {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs512.jwks;
    }

    location /alg {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs512.jwks alg=HS512;
    }
--- user_files
>>> jwks
ok
>>> alg
ok
--- more_headers eval
"X-Session-Token: " . ::token(key => 'hs512')
. "\nOrigin: https://app.example.com"
--- pipelined_requests eval
["GET /jwks", "GET /alg"]
--- response_body eval
["ok\n", "ok\n"]
--- no_error_log
[error]



=== TEST 4: EdDSA: public JWK Set, public PEM and private files verify
--- config
    location /pub-jwks {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/ed25519.pub.jwks;
    }

    location /pub-pem {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/ed25519.pub.pem alg=EdDSA kid=ed-1;
    }

    location /priv-jwks {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/ed25519.jwks;
    }

    location /priv-pem {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/ed25519.pem alg=EdDSA kid=ed-1;
    }
--- user_files
>>> pub-jwks
ok
>>> pub-pem
ok
>>> priv-jwks
ok
>>> priv-pem
ok
--- more_headers eval
"X-Session-Token: " . ::token(key => 'ed25519')
. "\nOrigin: https://app.example.com"
--- pipelined_requests eval
["GET /pub-jwks", "GET /pub-pem", "GET /priv-jwks", "GET /priv-pem"]
--- response_body eval
["ok\n", "ok\n", "ok\n", "ok\n"]
--- no_error_log
[error]



=== TEST 5: EdDSA: a token with a changed payload fails
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/ed25519.pub.jwks;
    }
--- user_files
>>> t
ok
--- more_headers eval
"X-Session-Token: " . ::tamper_payload(::token(key => 'ed25519'))
. "\nOrigin: https://app.example.com"
--- request
GET /t
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log eval
qr/\[info\].*(?i:signature)/
--- no_error_log
[error]



=== TEST 6: ES256: public JWK Set, public PEM and private files verify
--- config
    location /pub-jwks {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/es256.pub.jwks;
    }

    location /pub-pem {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/es256.pub.pem alg=ES256 kid=es256-1;
    }

    location /priv-jwks {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/es256.jwks;
    }

    location /priv-pem {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/es256.pem alg=ES256 kid=es256-1;
    }
--- user_files
>>> pub-jwks
ok
>>> pub-pem
ok
>>> priv-jwks
ok
>>> priv-pem
ok
--- more_headers eval
"X-Session-Token: " . ::token(key => 'es256')
. "\nOrigin: https://app.example.com"
--- pipelined_requests eval
["GET /pub-jwks", "GET /pub-pem", "GET /priv-jwks", "GET /priv-pem"]
--- response_body eval
["ok\n", "ok\n", "ok\n", "ok\n"]
--- no_error_log
[error]



=== TEST 7: ES256: a token with a changed payload fails
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/es256.pub.jwks;
    }
--- user_files
>>> t
ok
--- more_headers eval
"X-Session-Token: " . ::tamper_payload(::token(key => 'es256'))
. "\nOrigin: https://app.example.com"
--- request
GET /t
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log eval
qr/\[info\].*(?i:signature)/
--- no_error_log
[error]



=== TEST 8: ES384: public JWK Set, public PEM and private files verify
--- config
    location /pub-jwks {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/es384.pub.jwks;
    }

    location /pub-pem {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/es384.pub.pem alg=ES384 kid=es384-1;
    }

    location /priv-jwks {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/es384.jwks;
    }

    location /priv-pem {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/es384.pem alg=ES384 kid=es384-1;
    }
--- user_files
>>> pub-jwks
ok
>>> pub-pem
ok
>>> priv-jwks
ok
>>> priv-pem
ok
--- more_headers eval
"X-Session-Token: " . ::token(key => 'es384')
. "\nOrigin: https://app.example.com"
--- pipelined_requests eval
["GET /pub-jwks", "GET /pub-pem", "GET /priv-jwks", "GET /priv-pem"]
--- response_body eval
["ok\n", "ok\n", "ok\n", "ok\n"]
--- no_error_log
[error]



=== TEST 9: ES384: a token with a changed payload fails
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/es384.pub.jwks;
    }
--- user_files
>>> t
ok
--- more_headers eval
"X-Session-Token: " . ::tamper_payload(::token(key => 'es384'))
. "\nOrigin: https://app.example.com"
--- request
GET /t
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log eval
qr/\[info\].*(?i:signature)/
--- no_error_log
[error]



=== TEST 10: RS256: public JWK Set, public PEM and private files verify
--- config
    location /pub-jwks {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/rs256.pub.jwks;
    }

    location /pub-pem {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/rs256.pub.pem alg=RS256 kid=rs256-1;
    }

    location /priv-jwks {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/rs256.jwks;
    }

    location /priv-pem {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/rs256.pem alg=RS256 kid=rs256-1;
    }
--- user_files
>>> pub-jwks
ok
>>> pub-pem
ok
>>> priv-jwks
ok
>>> priv-pem
ok
--- more_headers eval
"X-Session-Token: " . ::token(key => 'rs256')
. "\nOrigin: https://app.example.com"
--- pipelined_requests eval
["GET /pub-jwks", "GET /pub-pem", "GET /priv-jwks", "GET /priv-pem"]
--- response_body eval
["ok\n", "ok\n", "ok\n", "ok\n"]
--- no_error_log
[error]



=== TEST 11: RS256: a token with a changed payload fails
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/rs256.pub.jwks;
    }
--- user_files
>>> t
ok
--- more_headers eval
"X-Session-Token: " . ::tamper_payload(::token(key => 'rs256'))
. "\nOrigin: https://app.example.com"
--- request
GET /t
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log eval
qr/\[info\].*(?i:signature)/
--- no_error_log
[error]



=== TEST 12: RS384: public JWK Set, public PEM and private files verify
--- config
    location /pub-jwks {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/rs384.pub.jwks;
    }

    location /pub-pem {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/rs384.pub.pem alg=RS384 kid=rs384-1;
    }

    location /priv-jwks {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/rs384.jwks;
    }

    location /priv-pem {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/rs384.pem alg=RS384 kid=rs384-1;
    }
--- user_files
>>> pub-jwks
ok
>>> pub-pem
ok
>>> priv-jwks
ok
>>> priv-pem
ok
--- more_headers eval
"X-Session-Token: " . ::token(key => 'rs384')
. "\nOrigin: https://app.example.com"
--- pipelined_requests eval
["GET /pub-jwks", "GET /pub-pem", "GET /priv-jwks", "GET /priv-pem"]
--- response_body eval
["ok\n", "ok\n", "ok\n", "ok\n"]
--- no_error_log
[error]



=== TEST 13: RS384: a token with a changed payload fails
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/rs384.pub.jwks;
    }
--- user_files
>>> t
ok
--- more_headers eval
"X-Session-Token: " . ::tamper_payload(::token(key => 'rs384'))
. "\nOrigin: https://app.example.com"
--- request
GET /t
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log eval
qr/\[info\].*(?i:signature)/
--- no_error_log
[error]



=== TEST 14: RS512: public JWK Set, public PEM and private files verify
--- config
    location /pub-jwks {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/rs512.pub.jwks;
    }

    location /pub-pem {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/rs512.pub.pem alg=RS512 kid=rs512-1;
    }

    location /priv-jwks {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/rs512.jwks;
    }

    location /priv-pem {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/rs512.pem alg=RS512 kid=rs512-1;
    }
--- user_files
>>> pub-jwks
ok
>>> pub-pem
ok
>>> priv-jwks
ok
>>> priv-pem
ok
--- more_headers eval
"X-Session-Token: " . ::token(key => 'rs512')
. "\nOrigin: https://app.example.com"
--- pipelined_requests eval
["GET /pub-jwks", "GET /pub-pem", "GET /priv-jwks", "GET /priv-pem"]
--- response_body eval
["ok\n", "ok\n", "ok\n", "ok\n"]
--- no_error_log
[error]



=== TEST 15: RS512: a token with a changed payload fails
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/rs512.pub.jwks;
    }
--- user_files
>>> t
ok
--- more_headers eval
"X-Session-Token: " . ::tamper_payload(::token(key => 'rs512'))
. "\nOrigin: https://app.example.com"
--- request
GET /t
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log eval
qr/\[info\].*(?i:signature)/
--- no_error_log
[error]



=== TEST 16: PS256: public JWK Set, public PEM and private files verify
--- config
    location /pub-jwks {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/ps256.pub.jwks;
    }

    location /pub-pem {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/ps256.pub.pem alg=PS256 kid=ps256-1;
    }

    location /priv-jwks {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/ps256.jwks;
    }

    location /priv-pem {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/ps256.pem alg=PS256 kid=ps256-1;
    }
--- user_files
>>> pub-jwks
ok
>>> pub-pem
ok
>>> priv-jwks
ok
>>> priv-pem
ok
--- more_headers eval
"X-Session-Token: " . ::token(key => 'ps256')
. "\nOrigin: https://app.example.com"
--- pipelined_requests eval
["GET /pub-jwks", "GET /pub-pem", "GET /priv-jwks", "GET /priv-pem"]
--- response_body eval
["ok\n", "ok\n", "ok\n", "ok\n"]
--- no_error_log
[error]



=== TEST 17: PS256: a token with a changed payload fails
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/ps256.pub.jwks;
    }
--- user_files
>>> t
ok
--- more_headers eval
"X-Session-Token: " . ::tamper_payload(::token(key => 'ps256'))
. "\nOrigin: https://app.example.com"
--- request
GET /t
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log eval
qr/\[info\].*(?i:signature)/
--- no_error_log
[error]



=== TEST 18: sibling downgrade: an HS256 key does not accept HS384
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }
--- user_files
>>> t
ok
--- more_headers eval
"X-Session-Token: " . ::token(key => { %{ ::jwk('hs256') }, alg => 'HS384' })
. "\nOrigin: https://app.example.com"
--- request
GET /t
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- no_error_log
[error]



=== TEST 19: sibling downgrade: an RS256 key does not accept PS256
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/rs256.pub.jwks;
    }
--- user_files
>>> t
ok
--- more_headers eval
"X-Session-Token: " . ::token(key => { %{ ::jwk('rs256') }, alg => 'PS256' })
. "\nOrigin: https://app.example.com"
--- request
GET /t
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- no_error_log
[error]



=== TEST 20: alg in the header differs from the key's (signature of the key)
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/es256.pub.jwks;
    }
--- user_files
>>> t
ok
--- more_headers eval
"X-Session-Token: " . ::token(key => 'es256', header => { alg => 'ES384' })
. "\nOrigin: https://app.example.com"
--- request
GET /t
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- no_error_log
[error]



=== TEST 21: algorithm confusion: the RSA public key as an HMAC secret
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/rs256.pub.pem alg=RS256 kid=rs256-1;
    }
--- user_files
>>> t
ok
--- more_headers eval
"X-Session-Token: "
. ::token(key => { kty => 'oct', alg => 'HS256', kid => 'rs256-1',
                   k => ::b64url_encode(::slurp(::es_data()
                                                . '/keys/rs256.pub.pem')) })
. "\nOrigin: https://app.example.com"
--- request
GET /t
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- no_error_log
[error]



=== TEST 22: algorithm confusion: the Ed25519 public JWK "x" as an HMAC secret
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/ed25519.pub.jwks;
    }
--- user_files
>>> t
ok
--- more_headers eval
"X-Session-Token: "
. ::token(key => { kty => 'oct', alg => 'HS256', kid => 'ed-1',
                   k => ::jwk('ed25519.pub')->{x} })
. "\nOrigin: https://app.example.com"
--- request
GET /t
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- no_error_log
[error]



=== TEST 23: alg "none" (any case) and a missing or non-string alg fail
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }
--- user_files
>>> t
ok
--- pipelined_requests eval
["GET /t", "GET /t", "GET /t", "GET /t", "GET /t", "GET /t"]
--- more_headers eval
[map { "X-Session-Token: $_\nOrigin: https://app.example.com" }
 ::token(key => { alg => 'none', kid => 'hs256-1' }),
 ::token(key => { alg => 'none', kid => 'hs256-1' }, header => { alg => 'None' }),
 ::token(key => { alg => 'none', kid => 'hs256-1' }, header => { alg => 'NONE' }),
 ::token(key => 'hs256', header => { alg => 'none' }),
 ::token(key => 'hs256', header => { alg => undef }),
 ::token(key => 'hs256', header => { alg => 256 })]
--- error_code eval
[401, 401, 401, 401, 401, 401]
--- response_body_like eval
[('"code":"SESSION_INVALID"') x 6]
--- no_error_log
[error]



=== TEST 24: ES256: a DER-encoded signature fails
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/es256.pub.jwks;
    }
--- user_files
>>> t
ok
--- more_headers eval
"X-Session-Token: " . ::der_signature(::token(key => 'es256'))
. "\nOrigin: https://app.example.com"
--- request
GET /t
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- no_error_log
[error]



=== TEST 25: a truncated or empty signature fails
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }
--- user_files
>>> t
ok
--- pipelined_requests eval
["GET /t", "GET /t"]
--- more_headers eval
[map { "X-Session-Token: $_\nOrigin: https://app.example.com" }
 ::token(key => 'hs256') =~ s/\.[^.]+\z/./r,
 ::token(key => 'hs256') =~ s/...\z//r]
--- error_code eval
[401, 401]
--- response_body_like eval
[('"code":"SESSION_INVALID"') x 2]
--- no_error_log
[error]
