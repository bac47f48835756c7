# vim:set ft= ts=4 sw=4 et fdm=marker:

# embed_session_keys, the configuration: a single JWK bound by kid= and
# alg=, the parameters' errors, duplicate kids, and every bad key file of
# t/data/keys named with the file and the key in nginx -t's message.  The
# algorithms are in 120-keys-algorithms.t, key selection in
# 121-keys-selection.t.

use FindBin;
use lib "$FindBin::Bin/lib";
use EmbedSessionTest;

repeat_each(2);
no_shuffle();

# a JWK file written into the html directory for one block

sub jwk_file {
    my ($name, $jwk) = @_;
    return [[$name, JSON::PP->new->canonical->encode($jwk)]];
}

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

run_tests();

Test::More::done_testing();

__DATA__

=== TEST 1: a single JWK without kid named by kid=
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



=== TEST 2: a single JWK without "alg" bound by alg=
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



=== TEST 3: a single JWK without "alg" and without alg= fails
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



=== TEST 4: a JWK whose "alg" disagrees with alg= fails
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



=== TEST 5: missing file
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



=== TEST 6: bad alg= value
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



=== TEST 7: alg= is matched byte for byte (lowercase fails)
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



=== TEST 8: alg=none fails
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



=== TEST 9: PEM without alg= fails
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



=== TEST 10: private PEM without alg= fails
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



=== TEST 11: PEM with an alg that does not fit the key fails
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



=== TEST 12: PEM with an EC curve that does not fit the alg fails
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



=== TEST 13: unknown parameter fails
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



=== TEST 14: kid= over 64 bytes fails
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



=== TEST 15: the same kid from two files of one level fails
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



=== TEST 16: the same file twice in one level fails (duplicate kid)
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



=== TEST 17: the same kid at two levels is no duplicate
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



=== TEST 18: bad-syntax.jwks fails with the file named
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



=== TEST 19: bad-syntax.jwks: the message quotes no key material
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



=== TEST 20: bad-empty.jwks fails with the file named
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



=== TEST 21: bad-hs256-short.jwks fails with the file and the key named
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



=== TEST 22: bad-use-enc.jwks fails with the file and the key named
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



=== TEST 23: bad-key-ops.jwks fails with the file and the key named
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



=== TEST 24: bad-ed25519-small-order.jwks fails with the file and the key named
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



=== TEST 25: bad-ed25519-noncanonical.jwks fails with the file and the key named
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



=== TEST 26: bad-ed25519-noncanonical-2.jwks fails with the file and the key named
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



=== TEST 27: bad-rsa-1024.jwks fails with the file and the key named
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



=== TEST 28: bad-no-alg.jwks fails with the file and the key named
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



=== TEST 29: bad-alg-kty.jwks fails with the file and the key named
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



=== TEST 30: bad-dup-kid.jwks fails with the file and the key named
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



=== TEST 31: bad-kid-long.jwks fails with the file and the key named
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



=== TEST 32: bad-ec-offcurve.jwks fails with the file and the key named
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



=== TEST 33: bad-alg-none.jwks fails with the file and the key named
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



=== TEST 34: an RSA private key whose "d" is another key's fails nginx -t
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
