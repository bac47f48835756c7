# embed_session_keys: every algorithm with a valid token (private keys
# sign, the public JWK Set and PEM files verify), key selection by kid and
# rotation, algorithm binding, and the configuration errors of key files.

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

# a JWK file written into the html directory for one block

sub jwk_file {
    my ($name, $jwk) = @_;
    return [[$name, JSON::PP->new->canonical->encode($jwk)]];
}

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

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



=== TEST 18: a PEM key without kid= verifies a token without kid
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/es256.pub.pem alg=ES256;
    }
--- user_files
>>> t
ok
--- more_headers eval
"X-Session-Token: " . ::token(key => 'es256', header => { kid => undef })
. "\nOrigin: https://app.example.com"
--- request
GET /t
--- response_body
ok
--- no_error_log
[error]



=== TEST 19: a PEM key without kid=: a token with a kid is an unknown kid
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/es256.pub.pem alg=ES256;
    }
--- user_files
>>> t
ok
--- more_headers eval
"X-Session-Token: " . ::token(key => 'es256')
. "\nOrigin: https://app.example.com"
--- request
GET /t
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- no_error_log
[error]



=== TEST 20: a PEM key with kid=: a token with another kid fails
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/es256.pub.pem alg=ES256 kid=other;
    }
--- user_files
>>> t
ok
--- more_headers eval
"X-Session-Token: " . ::token(key => 'es256')
. "\nOrigin: https://app.example.com"
--- request
GET /t
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- no_error_log
[error]



=== TEST 21: rotation: tokens with kid "current" and "previous" both pass
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/rotation.jwks;
        proxy_set_header X-Kid $embed_session_kid;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }

    location /backend {
        return 200 "kid=$http_x_kid\n";
    }
--- pipelined_requests eval
["GET /t", "GET /t"]
--- more_headers eval
["X-Session-Token: " . ::token(key => 'rotation', kid => 'current')
 . "\nOrigin: https://app.example.com",
 "X-Session-Token: " . ::token(key => 'rotation', kid => 'previous')
 . "\nOrigin: https://app.example.com"]
--- response_body eval
["kid=current\n", "kid=previous\n"]
--- no_error_log
[error]



=== TEST 22: rotation: an unknown kid fails
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/rotation.jwks;
    }
--- user_files
>>> t
ok
--- more_headers eval
"X-Session-Token: "
. ::token(key => 'rotation', kid => 'current', header => { kid => 'next' })
. "\nOrigin: https://app.example.com"
--- request
GET /t
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer error="invalid_token"
--- response_body_like: "code":"SESSION_INVALID"
--- error_log eval
qr/\[info\].*(?i:kid)/
--- no_error_log
[error]



=== TEST 23: rotation: a token without kid fails when the set has 2 keys
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/rotation.jwks;
    }
--- user_files
>>> t
ok
--- more_headers eval
"X-Session-Token: "
. ::token(key => 'rotation', kid => 'current', header => { kid => undef })
. "\nOrigin: https://app.example.com"
--- request
GET /t
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log eval
qr/\[info\].*(?i:kid)/
--- no_error_log
[error]



=== TEST 24: a token without kid passes when the set has 1 key
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
        proxy_set_header X-Kid $embed_session_kid;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }

    location /backend {
        return 200 "kid=$http_x_kid\n";
    }
--- more_headers eval
"X-Session-Token: " . ::token(key => 'hs256', header => { kid => undef })
. "\nOrigin: https://app.example.com"
--- request
GET /t
--- response_body
kid=hs256-1
--- no_error_log
[error]



=== TEST 25: a token with a known kid but signed by another key fails
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/rotation.jwks;
    }
--- user_files
>>> t
ok
--- more_headers eval
"X-Session-Token: "
. ::token(key => 'rotation', kid => 'previous', header => { kid => 'current' })
. "\nOrigin: https://app.example.com"
--- request
GET /t
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- no_error_log
[error]



=== TEST 26: several embed_session_keys at one level form one set
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256-2.jwks;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/ed25519.pub.jwks;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/es256.pub.pem alg=ES256 kid=es256-1;
    }
--- user_files
>>> t
ok
--- pipelined_requests eval
["GET /t", "GET /t", "GET /t", "GET /t"]
--- more_headers eval
["X-Session-Token: " . ::token(key => 'hs256')
 . "\nOrigin: https://app.example.com",
 "X-Session-Token: " . ::token(key => 'hs256-2')
 . "\nOrigin: https://app.example.com",
 "X-Session-Token: " . ::token(key => 'ed25519')
 . "\nOrigin: https://app.example.com",
 "X-Session-Token: " . ::token(key => 'es256')
 . "\nOrigin: https://app.example.com"]
--- response_body eval
["ok\n", "ok\n", "ok\n", "ok\n"]
--- no_error_log
[error]



=== TEST 27: a set of several keys: a token without kid fails
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256-2.jwks;
    }
--- user_files
>>> t
ok
--- more_headers eval
"X-Session-Token: " . ::token(key => 'hs256', header => { kid => undef })
. "\nOrigin: https://app.example.com"
--- request
GET /t
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- no_error_log
[error]



=== TEST 28: a token of a key that is not in the set fails
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/ed25519.pub.jwks;
    }
--- user_files
>>> t
ok
--- more_headers eval
"X-Session-Token: " . ::token(key => 'ed25519-2')
. "\nOrigin: https://app.example.com"
--- request
GET /t
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- no_error_log
[error]



=== TEST 29: a token signed by another key under the set's kid fails
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/ed25519.pub.jwks;
    }
--- user_files
>>> t
ok
--- more_headers eval
"X-Session-Token: " . ::token(key => 'ed25519-2', header => { kid => 'ed-1' })
. "\nOrigin: https://app.example.com"
--- request
GET /t
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- no_error_log
[error]



=== TEST 30: sibling downgrade: an HS256 key does not accept HS384
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



=== TEST 31: sibling downgrade: an RS256 key does not accept PS256
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



=== TEST 32: alg in the header differs from the key's (signature of the key)
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



=== TEST 33: algorithm confusion: the RSA public key as an HMAC secret
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



=== TEST 34: algorithm confusion: the Ed25519 public JWK "x" as an HMAC secret
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



=== TEST 35: alg "none" (any case) and a missing or non-string alg fail
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



=== TEST 36: ES256: a DER-encoded signature fails
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



=== TEST 37: a truncated or empty signature fails
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



=== TEST 38: a single JWK without kid named by kid=
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_HTML_DIR/single.jwk kid=single-1;
        proxy_set_header X-Kid $embed_session_kid;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }

    location /backend {
        return 200 "kid=$http_x_kid\n";
    }
--- user_files eval
::jwk_file('single.jwk', { map { $_ => ::jwk('hs256')->{$_} } qw(kty k alg use) })
--- more_headers eval
"X-Session-Token: "
. ::token(key => { %{ ::jwk('hs256') }, kid => 'single-1' })
. "\nOrigin: https://app.example.com"
--- request
GET /t
--- response_body
kid=single-1
--- no_error_log
[error]



=== TEST 39: a single JWK without "alg" bound by alg=
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_HTML_DIR/single.jwk alg=HS256;
        proxy_set_header X-Kid $embed_session_kid;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }

    location /backend {
        return 200 "kid=$http_x_kid\n";
    }
--- user_files eval
::jwk_file('single.jwk', { map { $_ => ::jwk('hs256')->{$_} } qw(kty k kid) })
--- more_headers eval
"X-Session-Token: " . ::token(key => 'hs256')
. "\nOrigin: https://app.example.com"
--- request
GET /t
--- response_body
kid=hs256-1
--- no_error_log
[error]



=== TEST 40: a single JWK without "alg" and without alg= fails
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_HTML_DIR/single.jwk;
    }
--- user_files eval
::jwk_file('single.jwk', { map { $_ => ::jwk('hs256')->{$_} } qw(kty k kid) })
--- request
GET /t
--- must_die
--- error_log eval
qr/\[emerg\](?=.*single\.jwk)(?=.*alg)/



=== TEST 41: a JWK whose "alg" disagrees with alg= fails
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks alg=HS384;
    }
--- request
GET /t
--- must_die
--- error_log eval
qr/\[emerg\](?=.*hs256\.jwks)(?=.*(?:"hs256-1"|key #\d))(?=.*HS384)/



=== TEST 42: missing file
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/no-such-file.jwks;
    }
--- request
GET /t
--- must_die
--- error_log eval
qr/\[emerg\].*no-such-file\.jwks/



=== TEST 43: bad alg= value
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/es256.pub.pem alg=ES999;
    }
--- request
GET /t
--- must_die
--- error_log eval
qr/\[emerg\].*ES999/



=== TEST 44: alg= is matched byte for byte (lowercase fails)
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks alg=hs256;
    }
--- request
GET /t
--- must_die
--- error_log eval
qr/\[emerg\].*hs256/



=== TEST 45: alg=none fails
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks alg=none;
    }
--- request
GET /t
--- must_die
--- error_log eval
qr/\[emerg\].*none/



=== TEST 46: PEM without alg= fails
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/es256.pub.pem kid=es256-1;
    }
--- request
GET /t
--- must_die
--- error_log eval
qr/\[emerg\](?=.*es256\.pub\.pem)(?=.*alg)/



=== TEST 47: private PEM without alg= fails
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/rs256.pem;
    }
--- request
GET /t
--- must_die
--- error_log eval
qr/\[emerg\](?=.*rs256\.pem)(?=.*alg)/



=== TEST 48: PEM with an alg that does not fit the key fails
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/es256.pub.pem alg=RS256 kid=es256-1;
    }
--- request
GET /t
--- must_die
--- error_log eval
qr/\[emerg\](?=.*es256\.pub\.pem)(?=.*RS256)/



=== TEST 49: PEM with an EC curve that does not fit the alg fails
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/es384.pub.pem alg=ES256;
    }
--- request
GET /t
--- must_die
--- error_log eval
qr/\[emerg\](?=.*es384\.pub\.pem)/



=== TEST 50: unknown parameter fails
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks use=sig;
    }
--- request
GET /t
--- must_die
--- error_log eval
qr/\[emerg\].*use=sig/



=== TEST 51: kid= over 64 bytes fails
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/es256.pub.pem alg=ES256 kid=kid-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx;
    }
--- request
GET /t
--- must_die
--- error_log eval
qr/\[emerg\].*kid.*(?i:long|64)/



=== TEST 52: the same kid from two files of one level fails
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/es256.pub.jwks;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/es256.pub.pem alg=ES256 kid=es256-1;
    }
--- request
GET /t
--- must_die
--- error_log eval
qr/\[emerg\](?=.*es256-1)/



=== TEST 53: the same file twice in one level fails (duplicate kid)
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }
--- request
GET /t
--- must_die
--- error_log eval
qr/\[emerg\](?=.*hs256-1)/



=== TEST 54: the same kid at two levels is no duplicate
--- http_config
    embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }
--- user_files
>>> t
ok
--- more_headers eval
"X-Session-Token: " . ::token(key => 'hs256')
. "\nOrigin: https://app.example.com"
--- request
GET /t
--- response_body
ok
--- no_error_log
[error]



=== TEST 55: bad-syntax.jwks fails with the file named
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/bad-syntax.jwks;
    }
--- request
GET /t
--- must_die
--- error_log eval
qr/\[emerg\](?=.*bad-syntax\.jwks)(?=.*(?i:json|syntax|parse|invalid))/



=== TEST 71: bad-syntax.jwks: the message quotes no key material
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/bad-syntax.jwks;
    }
--- request
GET /t
--- must_die
--- error_log eval
qr/\[emerg\].*bad-syntax\.jwks/
--- no_error_log eval
my $text = ::slurp(::es_data() . '/keys/bad-syntax.jwks');
my ($k) = $text =~ /"k"\s*:\s*"([A-Za-z0-9_-]+)/;
my $any = join '|', map { quotemeta substr($k, $_, 6) } 0 .. length($k) - 6;
qr/$any/



=== TEST 56: bad-empty.jwks fails with the file named
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/bad-empty.jwks;
    }
--- request
GET /t
--- must_die
--- error_log eval
qr/\[emerg\](?=.*bad-empty\.jwks)(?=.*(?i:empty|no key))/



=== TEST 57: bad-hs256-short.jwks fails with the file and the key named
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/bad-hs256-short.jwks;
    }
--- request
GET /t
--- must_die
--- error_log eval
qr/\[emerg\](?=.*\Qbad-hs256-short.jwks\E)(?=.*(?:"short|key #\d))(?=.*(?i:short|bytes|length|32))/



=== TEST 58: bad-use-enc.jwks fails with the file and the key named
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/bad-use-enc.jwks;
    }
--- request
GET /t
--- must_die
--- error_log eval
qr/\[emerg\](?=.*\Qbad-use-enc.jwks\E)(?=.*(?:"enc\-1|key #\d))(?=.*(?i:enc|use))/



=== TEST 59: bad-key-ops.jwks fails with the file and the key named
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/bad-key-ops.jwks;
    }
--- request
GET /t
--- must_die
--- error_log eval
qr/\[emerg\](?=.*\Qbad-key-ops.jwks\E)(?=.*(?:"ops\-encrypt|key #\d))(?=.*key_ops)/



=== TEST 60: bad-ed25519-small-order.jwks fails with the file and the key named
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/bad-ed25519-small-order.jwks;
    }
--- request
GET /t
--- must_die
--- error_log eval
qr/\[emerg\](?=.*\Qbad-ed25519-small-order.jwks\E)(?=.*(?:"small|key #\d))(?=.*(?i:small|order))/



=== TEST 61: bad-ed25519-noncanonical.jwks fails with the file and the key named
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/bad-ed25519-noncanonical.jwks;
    }
--- request
GET /t
--- must_die
--- error_log eval
qr/\[emerg\](?=.*\Qbad-ed25519-noncanonical.jwks\E)(?=.*(?:"noncanon|key #\d))(?=.*(?i:canonical))/



=== TEST 62: bad-ed25519-noncanonical-2.jwks fails with the file and the key named
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/bad-ed25519-noncanonical-2.jwks;
    }
--- request
GET /t
--- must_die
--- error_log eval
qr/\[emerg\](?=.*\Qbad-ed25519-noncanonical-2.jwks\E)(?=.*(?:"noncanon\-2|key #\d))(?=.*(?i:canonical))/



=== TEST 63: bad-rsa-1024.jwks fails with the file and the key named
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/bad-rsa-1024.jwks;
    }
--- request
GET /t
--- must_die
--- error_log eval
qr/\[emerg\](?=.*\Qbad-rsa-1024.jwks\E)(?=.*(?:"weak\-rsa|key #\d))(?=.*(?i:2048|1024|modulus|bits))/



=== TEST 64: bad-no-alg.jwks fails with the file and the key named
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/bad-no-alg.jwks;
    }
--- request
GET /t
--- must_die
--- error_log eval
qr/\[emerg\](?=.*\Qbad-no-alg.jwks\E)(?=.*(?:"noalg|key #\d))(?=.*(?i:alg))/



=== TEST 65: bad-alg-kty.jwks fails with the file and the key named
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/bad-alg-kty.jwks;
    }
--- request
GET /t
--- must_die
--- error_log eval
qr/\[emerg\](?=.*\Qbad-alg-kty.jwks\E)(?=.*(?:"ec\-as\-rs256|key #\d))(?=.*(?i:kty|crv|fit|match))/



=== TEST 66: bad-dup-kid.jwks fails with the file and the key named
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/bad-dup-kid.jwks;
    }
--- request
GET /t
--- must_die
--- error_log eval
qr/\[emerg\](?=.*\Qbad-dup-kid.jwks\E)(?=.*(?:"dup|key #\d))(?=.*(?i:dup|same|twice|already))/



=== TEST 67: bad-kid-long.jwks fails with the file and the key named
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/bad-kid-long.jwks;
    }
--- request
GET /t
--- must_die
--- error_log eval
qr/\[emerg\](?=.*\Qbad-kid-long.jwks\E)(?=.*(?:"kid\-x|key #\d))(?=.*(?i:long|64))/



=== TEST 68: bad-ec-offcurve.jwks fails with the file and the key named
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/bad-ec-offcurve.jwks;
    }
--- request
GET /t
--- must_die
--- error_log eval
qr/\[emerg\](?=.*\Qbad-ec-offcurve.jwks\E)(?=.*(?:"offcurve|key #\d))(?=.*(?i:curve))/



=== TEST 69: bad-alg-none.jwks fails with the file and the key named
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/bad-alg-none.jwks;
    }
--- request
GET /t
--- must_die
--- error_log eval
qr/\[emerg\](?=.*\Qbad-alg-none.jwks\E)(?=.*(?:"none\-1|key #\d))(?=.*(?i:alg|none))/



=== TEST 70: a token verified in one location is checked again in another
--- config
    location /a {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }

    location /b {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256-2.jwks;
    }

    location /c {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/rotation.jwks;
    }

    location /d {
        embed_session_verify on;
        embed_session_issuer https://issuer.example.com;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }
--- user_files
>>> a
ok
>>> b
ok
>>> c
ok
>>> d
ok
--- pipelined_requests eval
["GET /a", "GET /b", "GET /c", "GET /d", "GET /a"]
--- more_headers eval
"X-Session-Token: " . ::token(key => 'hs256')
. "\nOrigin: https://app.example.com"
--- error_code eval
[200, 401, 401, 401, 200]
--- response_body_like eval
["^ok\n\$", ('"code":"SESSION_INVALID"') x 3, "^ok\n\$"]
--- no_error_log
[error]



=== TEST 72: an RSA private key whose "d" is another key's fails nginx -t
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/bad-rsa-wrong-d.jwks;
    }
--- request
GET /t
--- must_die
--- error_log eval
qr/\[emerg\](?=.*\Qbad-rsa-wrong-d.jwks\E)(?=.*"wrong-d")(?=.*private key does not match)/
