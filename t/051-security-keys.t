# vim:set ft= ts=4 sw=4 et fdm=marker:

# Security rules of docs/security.md about keys and algorithms: 2 (alg
# confusion), 3 (sibling downgrade), 4 (kid injection), 14 (ECDSA
# malleability), 15 (Ed25519 small-order keys), 16 (MAC comparison), 17
# (encryption keys), 18 (weak HMAC secrets).  Each test is named after
# its rule.

use FindBin;
use lib "$FindBin::Bin/lib";
use EmbedSessionTest;
use EmbedSessionSecurity;

repeat_each(2);

plan 'no_plan';

use Math::BigInt;

our $P256_N = Math::BigInt->from_hex(
    'FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551');

sub p256_bytes {
    my $hex = $_[0]->as_hex;
    $hex =~ s/\A0x//;
    return pack 'H*', ('0' x (64 - length $hex)) . $hex;
}

# ECDSA malleability: (r, s) -> (r, n - s), the second valid signature

sub n_minus_s {
    my ($sig) = @_;

    my $s = Math::BigInt->from_hex(unpack 'H*', substr $sig, 32);

    return substr($sig, 0, 32) . p256_bytes($P256_N->copy->bsub($s));
}

our $ES_TOKEN = token(key => 'es256', claims => { jti => 'sess-malleable' });
our $ES_MALLEATED = resig($ES_TOKEN, \&n_minus_s);

die "n - s gave the same signature" if $ES_TOKEN eq $ES_MALLEATED;

sub pem_der {
    my ($pem) = @_;

    $pem =~ /-----BEGIN [A-Z ]+-----\s*(.*?)-----END/s
        or die "no PEM block";

    require MIME::Base64;
    return MIME::Base64::decode_base64($1);
}

sub keyfile { es_data() . "/keys/$_[0]" }

add_block_preprocessor(sub {
    my $block = shift;

    $block->run_filters unless $block->is_filtered;

    # configuration failures are expected: keep their messages out of the
    # test output (the error_log section still reads them from error.log)

    $block->set_value('suppress_stderr', 1) if defined $block->must_die;

    $block->set_value('config', <<'_EOC_')
    location /app/ {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
        root html;
    }

    location /hs384/ {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs384.jwks;
        root html;
    }

    location /es/ {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/es256.pub.jwks;
        add_header X-Jti $embed_session_jti;
        root html;
    }

    location /ed/ {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/ed25519.pub.jwks;
        root html;
    }

    location /rs/ {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/rs256.pub.jwks;
        root html;
    }

    location /ps/ {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/ps256.pub.jwks;
        root html;
    }

    location /pem/ {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/rs256.pub.pem alg=RS256;
        root html;
    }

    location /mixed/ {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/rs256.pub.jwks;
        root html;
    }

    location /rot/ {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/rotation.jwks;
        root html;
    }
_EOC_
        unless defined $block->config;

    my $files = $block->user_files // '';
    $files =~ s/\n*\z/\n/ if length $files;

    $block->set_value('user_files', $files . join '',
                      map { ">>> $_/index.html\nok\n" }
                          qw(app hs384 es ed rs ps pem mixed rot k));

    $block->set_value('request', "GET /app/\n")
        unless defined $block->request || defined $block->must_die;
});

run_tests();

__DATA__

=== TEST 1: baseline: an RS256 token is accepted by the RS256 public key
--- request
GET /rs/
--- more_headers eval
::h(::token(key => 'rs256'))
--- response_body
ok
--- no_error_log
[error]



=== TEST 2: rule 2: the RS256 public key's PEM bytes used as an HS256 secret are rejected
--- request
GET /rs/
--- more_headers eval
::h(::forge(key => ::oct_key(::slurp(::keyfile('rs256.pub.pem'))),
            alg => 'HS256', header => ::hdr(kid => 'rs256-1')))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: "alg" does not match the key
--- no_error_log
[error]



=== TEST 3: rule 2: the RS256 public key's DER (SubjectPublicKeyInfo) used as an HS256 secret is rejected
--- request
GET /rs/
--- more_headers eval
::h(::forge(key => ::oct_key(::pem_der(::slurp(::keyfile('rs256.pub.pem')))),
            alg => 'HS256', header => ::hdr(kid => 'rs256-1')))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: "alg" does not match the key
--- no_error_log
[error]



=== TEST 4: rule 2: the RS256 public JWK Set file used as an HS256 secret is rejected
--- request
GET /rs/
--- more_headers eval
::h(::forge(key => ::oct_key(::slurp(::keyfile('rs256.pub.jwks'))),
            alg => 'HS256', header => ::hdr(kid => 'rs256-1')))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: "alg" does not match the key
--- no_error_log
[error]



=== TEST 5: rule 2: the RSA modulus bytes used as an HS256 secret are rejected
--- request
GET /rs/
--- more_headers eval
::h(::forge(key => ::oct_key(::b64url_decode(::key('rs256')->{n})),
            alg => 'HS256', header => ::hdr(kid => 'rs256-1')))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: "alg" does not match the key
--- no_error_log
[error]



=== TEST 6: rule 2: a PEM-loaded RS256 key (single key, token without kid) never verifies an HS256 MAC made with its PEM
--- request
GET /pem/
--- more_headers eval
::h(::forge(key => ::oct_key(::slurp(::keyfile('rs256.pub.pem'))),
            alg => 'HS256', header => ::hdr(kid => undef)))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: "alg" does not match the key
--- no_error_log
[error]



=== TEST 7: baseline: the PEM-loaded RS256 key verifies an RS256 token without kid
--- request
GET /pem/
--- more_headers eval
::h(::token(key => 'rs256', header => { kid => undef }))
--- response_body
ok
--- no_error_log
[error]



=== TEST 8: rule 2: the Ed25519 public key (32 raw bytes) used as an HS256 secret is rejected
--- request
GET /ed/
--- more_headers eval
::h(::forge(key => ::oct_key(::b64url_decode(::key('ed25519')->{x})),
            alg => 'HS256', header => ::hdr(kid => 'ed-1')))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: "alg" does not match the key
--- no_error_log
[error]



=== TEST 9: rule 2: the Ed25519 public key's PEM used as an HS256 secret is rejected
--- request
GET /ed/
--- more_headers eval
::h(::forge(key => ::oct_key(::slurp(::keyfile('ed25519.pub.pem'))),
            alg => 'HS256', header => ::hdr(kid => 'ed-1')))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: "alg" does not match the key
--- no_error_log
[error]



=== TEST 10: rule 2: the ES256 public key's PEM used as an HS256 secret is rejected
--- request
GET /es/
--- more_headers eval
::h(::forge(key => ::oct_key(::slurp(::keyfile('es256.pub.pem'))),
            alg => 'HS256', header => ::hdr(kid => 'es256-1')))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: "alg" does not match the key
--- no_error_log
[error]



=== TEST 11: baseline: a set of an HS256 and an RS256 key accepts a token of each
--- request
GET /mixed/
--- more_headers eval
::h(::token(key => 'hs256'))
--- response_body
ok
--- no_error_log
[error]



=== TEST 12: baseline: a set of an HS256 and an RS256 key accepts an RS256 token
--- request
GET /mixed/
--- more_headers eval
::h(::token(key => 'rs256'))
--- response_body
ok
--- no_error_log
[error]



=== TEST 13: rule 2: in a mixed set, an HS256 token naming the RS256 kid (MAC with its PEM) is rejected
--- request
GET /mixed/
--- more_headers eval
::h(::forge(key => ::oct_key(::slurp(::keyfile('rs256.pub.pem'))),
            alg => 'HS256', header => ::hdr(kid => 'rs256-1')))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: "alg" does not match the key
--- no_error_log
[error]



=== TEST 14: rule 2: in a mixed set, a valid RS256 signature under the HS256 key's kid is rejected
--- request
GET /mixed/
--- more_headers eval
::h(::forge(key => 'rs256', header => ::hdr(alg => 'RS256', kid => 'hs256-1')))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: "alg" does not match the key
--- no_error_log
[error]



=== TEST 15: rule 2: alg "hs256" (lowercase) is not HS256: rejected byte for byte
--- more_headers eval
::h(::forge(header => ::hdr(alg => 'hs256')))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: unsupported "alg"
--- no_error_log
[error]



=== TEST 16: rule 2: alg "HS256 " (trailing space) is rejected byte for byte
--- more_headers eval
::h(::forge(header => ::hdr(alg => 'HS256 ')))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: unsupported "alg"
--- no_error_log
[error]



=== TEST 17: rule 2: a JWK whose "alg" disagrees with alg= fails nginx -t
--- config
    location /k/ {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks alg=HS384;
        root html;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*hs256\.jwks.*hs256-1/



=== TEST 18: rule 2: a PEM key without alg= fails nginx -t
--- config
    location /k/ {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/rs256.pub.pem;
        root html;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*rs256\.pub\.pem/



=== TEST 19: rule 2: an RSA public key bound to HS256 (alg=HS256) fails nginx -t: public keys never reach HMAC
--- config
    location /k/ {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/rs256.pub.pem alg=HS256;
        root html;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*rs256\.pub\.pem/



=== TEST 20: rule 2: an Ed25519 public key bound to HS256 (alg=HS256) fails nginx -t
--- config
    location /k/ {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/ed25519.pub.pem alg=HS256;
        root html;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*ed25519\.pub\.pem/



=== TEST 21: rule 2: a key without any alg (bad-no-alg.jwks) fails nginx -t naming the file and key
--- config
    location /k/ {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/bad-no-alg.jwks;
        root html;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*bad-no-alg\.jwks.*\bnoalg\b/



=== TEST 22: rule 2: an EC key declared RS256 (bad-alg-kty.jwks) fails nginx -t naming the file and key
--- config
    location /k/ {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/bad-alg-kty.jwks;
        root html;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*bad-alg-kty\.jwks.*\bec-as-rs256\b/



=== TEST 23: rule 2: a key with alg "none" (bad-alg-none.jwks) fails nginx -t naming the file and key
--- config
    location /k/ {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/bad-alg-none.jwks;
        root html;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*bad-alg-none\.jwks.*\bnone-1\b/



=== TEST 24: rule 3: an HS256 key does not accept an HS384 token made with its secret
--- more_headers eval
::h(::forge(alg => 'HS384', header => ::hdr(alg => 'HS384')))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: "alg" does not match the key
--- no_error_log
[error]



=== TEST 25: rule 3: an HS256 key does not accept an HS512 token made with its secret
--- more_headers eval
::h(::forge(alg => 'HS512', header => ::hdr(alg => 'HS512')))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: "alg" does not match the key
--- no_error_log
[error]



=== TEST 26: baseline: the HS384 key accepts an HS384 token
--- request
GET /hs384/
--- more_headers eval
::h(::token(key => 'hs384'))
--- response_body
ok
--- no_error_log
[error]



=== TEST 27: rule 3: an HS384 key does not accept an HS256 token made with its secret
--- request
GET /hs384/
--- more_headers eval
::h(::forge(key => 'hs384', alg => 'HS256', header => ::hdr(alg => 'HS256', kid => 'hs384-1')))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: "alg" does not match the key
--- no_error_log
[error]



=== TEST 28: rule 3: an RS256 key does not accept a PS256 token signed with its private key
--- request
GET /rs/
--- more_headers eval
::h(::forge(key => 'rs256', alg => 'PS256', header => ::hdr(alg => 'PS256', kid => 'rs256-1')))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: "alg" does not match the key
--- no_error_log
[error]



=== TEST 29: rule 3: an RS256 key does not accept an RS512 token signed with its private key
--- request
GET /rs/
--- more_headers eval
::h(::forge(key => 'rs256', alg => 'RS512', header => ::hdr(alg => 'RS512', kid => 'rs256-1')))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: "alg" does not match the key
--- no_error_log
[error]



=== TEST 30: baseline: the PS256 key accepts a PS256 token
--- request
GET /ps/
--- more_headers eval
::h(::token(key => 'ps256'))
--- response_body
ok
--- no_error_log
[error]



=== TEST 31: rule 3: a PS256 key does not accept an RS256 (PKCS#1 v1.5) token signed with its private key
--- request
GET /ps/
--- more_headers eval
::h(::forge(key => 'ps256', alg => 'RS256', header => ::hdr(alg => 'RS256', kid => 'ps256-1')))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: "alg" does not match the key
--- no_error_log
[error]



=== TEST 32: rule 3: an ES256 key does not accept its own signature labelled ES384
--- request
GET /es/
--- more_headers eval
::h(::forge(key => 'es256', header => ::hdr(alg => 'ES384', kid => 'es256-1')))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: "alg" does not match the key
--- no_error_log
[error]



=== TEST 33: rule 3: an EdDSA key does not accept its own signature labelled "Ed25519"
--- request
GET /ed/
--- more_headers eval
::h(::forge(key => 'ed25519', header => ::hdr(alg => 'Ed25519', kid => 'ed-1')))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: unsupported "alg"
--- no_error_log
[error]



=== TEST 34: rule 4: kid path traversal "../../../../../../etc/passwd" is rejected
--- more_headers eval
::h(::forge(header => ::hdr(kid => '../../../../../../etc/passwd')))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: unknown "kid"
--- no_error_log
[error]
open()



=== TEST 35: rule 4: kid naming the key file itself ("../keys/hs256.jwks") is rejected
--- more_headers eval
::h(::forge(header => ::hdr(kid => '../keys/hs256.jwks')))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: unknown "kid"
--- no_error_log
[error]
open()



=== TEST 36: rule 4: kid "/dev/null" with a MAC made with an empty secret is rejected
--- more_headers eval
::h(::forge(key => ::oct_key(''), alg => 'HS256', header => ::hdr(kid => '/dev/null')))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: unknown "kid"
--- no_error_log
[error]
open()



=== TEST 37: rule 4: kid "hs256-1\u0000" (NUL after a valid kid) is rejected
--- more_headers eval
::h(::forge(header => ::hdr(kid => \'"hs256-1\u0000"')))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: header is not a JSON object
--- no_error_log
[error]



=== TEST 38: rule 4: kid "hs256-1\u0000../../etc/passwd" is rejected
--- more_headers eval
::h(::forge(header => ::hdr(kid => \'"hs256-1\u0000../../etc/passwd"')))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: header is not a JSON object
--- no_error_log
[error]



=== TEST 39: rule 4: a kid of 65 bytes is rejected
--- more_headers eval
::h(::forge(header => ::hdr(kid => 'k' x 65)))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: bad "kid"
--- no_error_log
[error]



=== TEST 40: rule 4: a huge kid (300 bytes) is rejected
--- more_headers eval
::h(::forge(header => ::hdr(kid => 'hs256-1' x 43)))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: bad "kid"
--- no_error_log
[error]



=== TEST 41: rule 4: an unknown kid is rejected although the token is signed with the only configured key (no "try every key")
--- more_headers eval
::h(::forge(header => ::hdr(kid => 'hs256-2')))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: unknown "kid"
--- no_error_log
[error]



=== TEST 42: rule 4: kid "HS256-1" (another case) is unknown and rejected
--- more_headers eval
::h(::forge(header => ::hdr(kid => 'HS256-1')))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: unknown "kid"
--- no_error_log
[error]



=== TEST 43: rule 4: kid "' OR '1'='1" is rejected
--- more_headers eval
::h(::forge(header => ::hdr(kid => q{' OR '1'='1})))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: unknown "kid"
--- no_error_log
[error]



=== TEST 44: rule 4: kid as a number is rejected
--- more_headers eval
::h(::forge(header => ::hdr(kid => \'1')))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: bad "kid"
--- no_error_log
[error]



=== TEST 45: rule 4: an empty kid is rejected
--- more_headers eval
::h(::forge(header => ::hdr(kid => '')))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: bad "kid"
--- no_error_log
[error]



=== TEST 46: baseline: a rotation set accepts the "current" key by its kid
--- request
GET /rot/
--- more_headers eval
::h(::token(key => 'rotation', kid => 'current'))
--- response_body
ok
--- no_error_log
[error]



=== TEST 47: baseline: a rotation set accepts the "previous" key by its kid
--- request
GET /rot/
--- more_headers eval
::h(::token(key => 'rotation', kid => 'previous'))
--- response_body
ok
--- no_error_log
[error]



=== TEST 48: rule 4: a token signed with "previous" but naming kid "current" is rejected (only the named key is tried)
--- request
GET /rot/
--- more_headers eval
::h(::forge(key => 'rotation', kid => 'previous', header => ::hdr(kid => 'current')))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: bad signature
--- no_error_log
[error]



=== TEST 49: rule 4: a token without kid is rejected by a set of two keys
--- request
GET /rot/
--- more_headers eval
::h(::forge(key => 'rotation', kid => 'previous', header => ::hdr(kid => undef)))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: no "kid" and several keys
--- no_error_log
[error]



=== TEST 50: baseline: a token without kid is accepted by a set of exactly one key
--- more_headers eval
::h(::forge(header => ::hdr(kid => undef)))
--- response_body
ok
--- no_error_log
[error]



=== TEST 51: rule 4: a kid over 64 bytes in a key file (bad-kid-long.jwks) fails nginx -t
--- config
    location /k/ {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/bad-kid-long.jwks;
        root html;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*bad-kid-long\.jwks/



=== TEST 52: rule 4: two keys with the same kid (bad-dup-kid.jwks) fail nginx -t naming the file and kid
--- config
    location /k/ {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/bad-dup-kid.jwks;
        root html;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*bad-dup-kid\.jwks.*\bdup\b/



=== TEST 53: rule 4: the same kid in two embed_session_keys files of one level fails nginx -t
--- config
    location /k/ {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
        root html;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*hs256-1/



=== TEST 54: rule 14: an ES256 token is accepted (jti sess-malleable)
--- request
GET /es/
--- more_headers eval
::h($::ES_TOKEN)
--- response_headers
X-Jti: sess-malleable
--- response_body
ok
--- no_error_log
[error]



=== TEST 55: rule 14: the same ES256 token with (r, n - s) verifies too (ECDSA malleability: single-use state must key on jti, never on signature bytes)
--- request
GET /es/
--- more_headers eval
::h($::ES_MALLEATED)
--- response_headers
X-Jti: sess-malleable
--- response_body
ok
--- no_error_log
[error]



=== TEST 56: rule 14: CVE-2022-21449: the ES256 signature (0, 0) is rejected
--- request
GET /es/
--- more_headers eval
::h(::resig(::token(key => 'es256'), sub { "\x00" x 64 }))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: bad signature
--- no_error_log
[error]



=== TEST 57: rule 14: the ES256 signature (r, 0) is rejected
--- request
GET /es/
--- more_headers eval
::h(::resig(::token(key => 'es256'), sub { substr($_[0], 0, 32) . "\x00" x 32 }))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: bad signature
--- no_error_log
[error]



=== TEST 58: rule 14: the ES256 signature (n, n) is rejected
--- request
GET /es/
--- more_headers eval
::h(::resig(::token(key => 'es256'), sub { ::p256_bytes($::P256_N) x 2 }))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: bad signature
--- no_error_log
[error]



=== TEST 59: rule 15: an Ed25519 key of small order (bad-ed25519-small-order.jwks) fails nginx -t naming the file and key
--- config
    location /k/ {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/bad-ed25519-small-order.jwks;
        root html;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*bad-ed25519-small-order\.jwks.*\bsmall\b/



=== TEST 60: rule 15: a non-canonical Ed25519 key (bad-ed25519-noncanonical.jwks) fails nginx -t naming the file and key
--- config
    location /k/ {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/bad-ed25519-noncanonical.jwks;
        root html;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*bad-ed25519-noncanonical\.jwks.*\bnoncanon\b/



=== TEST 61: rule 15: a non-canonical Ed25519 key, y = p + 3 (bad-ed25519-noncanonical-2.jwks), fails nginx -t
--- config
    location /k/ {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/bad-ed25519-noncanonical-2.jwks;
        root html;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*bad-ed25519-noncanonical-2\.jwks.*\bnoncanon-2\b/



=== TEST 62: rule 15: the Ed25519 point of order 2 fails nginx -t
--- user_files
>>> so2.jwk
{"kty":"OKP","crv":"Ed25519","alg":"EdDSA","kid":"order-2","x":"7P_______________________________________38"}
--- config
    location /k/ {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_HTML_DIR/so2.jwk;
        root html;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*so2\.jwk.*\border-2\b/



=== TEST 63: rule 15: an Ed25519 point of order 4 (all zero bytes) fails nginx -t
--- user_files
>>> so4.jwk
{"kty":"OKP","crv":"Ed25519","alg":"EdDSA","kid":"order-4","x":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}
--- config
    location /k/ {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_HTML_DIR/so4.jwk;
        root html;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*so4\.jwk.*\border-4\b/



=== TEST 64: rule 15: an Ed25519 point of order 8 (26e8958f...) fails nginx -t
--- user_files
>>> so8.jwk
{"kty":"OKP","crv":"Ed25519","alg":"EdDSA","kid":"order-8","x":"JuiVj8KyJ7BFw_SJ8u-Y8NXfrAXTxjM5sTgCiG1T_AU"}
--- config
    location /k/ {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_HTML_DIR/so8.jwk;
        root html;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*so8\.jwk.*\border-8\b/



=== TEST 65: rule 15: an Ed25519 point of order 8 (c7176a70...7a) fails nginx -t
--- user_files
>>> so8b.jwk
{"kty":"OKP","crv":"Ed25519","alg":"EdDSA","kid":"order-8b","x":"xxdqcD1N2E-6PAt2DRBnDyogU_osOczGTsf9d5KsA3o"}
--- config
    location /k/ {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_HTML_DIR/so8b.jwk;
        root html;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*so8b\.jwk.*\border-8b\b/



=== TEST 66: rule 15: the small-order key of ed25519-speccheck cases 0 and 1 (c7176a70...fa) fails nginx -t
--- user_files
>>> so8c.jwk
{"kty":"OKP","crv":"Ed25519","alg":"EdDSA","kid":"speccheck-0","x":"xxdqcD1N2E-6PAt2DRBnDyogU_osOczGTsf9d5KsA_o"}
--- config
    location /k/ {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_HTML_DIR/so8c.jwk;
        root html;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*so8c\.jwk.*\bspeccheck-0\b/



=== TEST 67: rule 15: a non-canonical Ed25519 encoding, y = p + 1 (eeff...7f), fails nginx -t
--- user_files
>>> nc1.jwk
{"kty":"OKP","crv":"Ed25519","alg":"EdDSA","kid":"noncanon-p1","x":"7v_______________________________________38"}
--- config
    location /k/ {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_HTML_DIR/nc1.jwk;
        root html;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*nc1\.jwk.*\bnoncanon-p1\b/



=== TEST 68: rule 15 (related): an EC point off the P-256 curve (bad-ec-offcurve.jwks) fails nginx -t
--- config
    location /k/ {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/bad-ec-offcurve.jwks;
        root html;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*bad-ec-offcurve\.jwks.*\boffcurve\b/



=== TEST 69: rule 16: an HMAC with the last bit flipped (same length) is rejected (CRYPTO_memcmp itself: verified by code review, not by this test)
--- more_headers eval
::h(::forge(sig => sub { my $s = shift; substr($s, -1) ^= "\x01"; $s }))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: bad signature
--- no_error_log
[error]



=== TEST 70: rule 16: an HMAC with the first byte changed (same length) is rejected (CRYPTO_memcmp: code review)
--- more_headers eval
::h(::forge(sig => sub { my $s = shift; substr($s, 0, 1) ^= "\x80"; $s }))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: bad signature
--- no_error_log
[error]



=== TEST 71: rule 16: an all-zero HMAC of the right length is rejected (CRYPTO_memcmp: code review)
--- more_headers eval
::h(::forge(sig => sub { "\x00" x 32 }))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: bad signature
--- no_error_log
[error]



=== TEST 72: rule 16: an HMAC of the right length made with another 32-byte secret is rejected (CRYPTO_memcmp: code review)
--- more_headers eval
::h(::forge(key => 'hs256-2', header => ::hdr(kid => 'hs256-1')))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: bad signature
--- no_error_log
[error]



=== TEST 73: rule 16: a correct HMAC prefix of a different length (31 bytes) is rejected by the length check before any comparison (CRYPTO_memcmp: code review)
--- more_headers eval
::h(::forge(sig => sub { substr $_[0], 0, 31 }))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: wrong signature length
--- no_error_log
[error]



=== TEST 74: rule 16: a longer HMAC (HS384 length, correct HS256 prefix) is rejected by the length check (CRYPTO_memcmp: code review)
--- more_headers eval
::h(::forge(sig => sub { $_[0] . ("\x00" x 16) }))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: wrong signature length
--- no_error_log
[error]



=== TEST 75: rule 17: an RSA key marked "use":"enc" (bad-use-enc.jwks) fails nginx -t naming the file and key
--- config
    location /k/ {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/bad-use-enc.jwks;
        root html;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*bad-use-enc\.jwks.*\benc-1\b/



=== TEST 76: rule 17: a key with key_ops ["encrypt"] (bad-key-ops.jwks) fails nginx -t naming the file and key
--- config
    location /k/ {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/bad-key-ops.jwks;
        root html;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*bad-key-ops\.jwks.*\bops-encrypt\b/



=== TEST 77: rule 17: an HMAC key marked "use":"enc" fails nginx -t
--- user_files
>>> enc.jwk
{"kty":"oct","alg":"HS256","kid":"oct-enc","use":"enc","k":"MFV6n8TpDjNYfaLH7BE2W4Clyu8UOV6DqM3yFzxhhqs"}
--- config
    location /k/ {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_HTML_DIR/enc.jwk;
        root html;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*enc\.jwk.*\boct-enc\b/



=== TEST 78: rule 17: a key with key_ops ["wrapKey","unwrapKey"] fails nginx -t
--- user_files
>>> wrap.jwk
{"kty":"oct","alg":"HS256","kid":"oct-wrap","key_ops":["wrapKey","unwrapKey"],"k":"MFV6n8TpDjNYfaLH7BE2W4Clyu8UOV6DqM3yFzxhhqs"}
--- config
    location /k/ {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_HTML_DIR/wrap.jwk;
        root html;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*wrap\.jwk.*\boct-wrap\b/



=== TEST 79: rule 17: control: a key marked "use":"sig" with key_ops ["sign","verify"] loads and verifies
--- user_files
>>> sig.jwk
{"kty":"oct","alg":"HS256","kid":"oct-sig","use":"sig","key_ops":["sign","verify"],"k":"MFV6n8TpDjNYfaLH7BE2W4Clyu8UOV6DqM3yFzxhhqs"}
--- config
    location /k/ {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_HTML_DIR/sig.jwk;
        root html;
    }
--- request
GET /k/
--- more_headers eval
::h(::token(key => { kty => 'oct', alg => 'HS256', kid => 'oct-sig',
                   k => 'MFV6n8TpDjNYfaLH7BE2W4Clyu8UOV6DqM3yFzxhhqs' }))
--- response_body
ok
--- no_error_log
[error]



=== TEST 80: rule 18: a 16-byte HS256 secret (bad-hs256-short.jwks) fails nginx -t naming the file and key
--- config
    location /k/ {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/bad-hs256-short.jwks;
        root html;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*bad-hs256-short\.jwks.*\bshort\b/



=== TEST 81: rule 18: a 31-byte HS256 secret fails nginx -t
--- user_files
>>> hs31.jwk
{"kty":"oct","alg":"HS256","kid":"hs-31","k":"MFV6n8TpDjNYfaLH7BE2W4Clyu8UOV6DqM3yFzxhhg"}
--- config
    location /k/ {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_HTML_DIR/hs31.jwk;
        root html;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*hs31\.jwk.*\bhs-31\b/



=== TEST 82: rule 18: a 47-byte HS384 secret fails nginx -t
--- user_files
>>> hs47.jwk
{"kty":"oct","alg":"HS384","kid":"hs-47","k":"MFV6n8TpDjNYfaLH7BE2W4Clyu8UOV6DqM3yFzxhhqvQ9Ro_ZImu0_gdQmeMsdY"}
--- config
    location /k/ {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_HTML_DIR/hs47.jwk;
        root html;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*hs47\.jwk.*\bhs-47\b/



=== TEST 83: rule 18: a 63-byte HS512 secret fails nginx -t
--- user_files
>>> hs63.jwk
{"kty":"oct","alg":"HS512","kid":"hs-63","k":"MFV6n8TpDjNYfaLH7BE2W4Clyu8UOV6DqM3yFzxhhqvQ9Ro_ZImu0_gdQmeMsdb7IEVqj7TZ_iNIbZK33AEm"}
--- config
    location /k/ {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_HTML_DIR/hs63.jwk;
        root html;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*hs63\.jwk.*\bhs-63\b/



=== TEST 84: rule 18: an empty HS256 secret fails nginx -t
--- user_files
>>> hs0.jwk
{"kty":"oct","alg":"HS256","kid":"hs-0","k":""}
--- config
    location /k/ {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_HTML_DIR/hs0.jwk;
        root html;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*hs0\.jwk.*\bhs-0\b/



=== TEST 85: rule 18: control: a 32-byte HS256 secret (the minimum) loads and verifies
--- user_files
>>> hs32.jwk
{"kty":"oct","alg":"HS256","kid":"hs-32","k":"MFV6n8TpDjNYfaLH7BE2W4Clyu8UOV6DqM3yFzxhhqs"}
--- config
    location /k/ {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_HTML_DIR/hs32.jwk;
        root html;
    }
--- request
GET /k/
--- more_headers eval
::h(::token(key => { kty => 'oct', alg => 'HS256', kid => 'hs-32',
                   k => 'MFV6n8TpDjNYfaLH7BE2W4Clyu8UOV6DqM3yFzxhhqs' }))
--- response_body
ok
--- no_error_log
[error]



=== TEST 86: rule 18 (related): an RSA modulus of 1024 bits (bad-rsa-1024.jwks) fails nginx -t
--- config
    location /k/ {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/bad-rsa-1024.jwks;
        root html;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*bad-rsa-1024\.jwks.*\bweak-rsa\b/
