# Tokens signed by an independent implementation, Crypt::JWT (Debian's
# libcrypt-jwt-perl), with the private fixture keys verify; their tampered
# variants (payload changed, a signature byte flipped, the header alg
# swapped) fail.

use FindBin;
use lib "$FindBin::Bin/lib";
use EmbedSessionTest;

use Crypt::JWT qw(encode_jwt);
use JSON::PP ();

repeat_each(2);
no_shuffle();

# the alg each token's header is switched to in the "alg swapped" variant

my %SWAP = (
    HS256 => 'HS384', HS384 => 'HS256', HS512 => 'HS256',
    EdDSA => 'ES256', ES256 => 'ES384', ES384 => 'ES256',
    RS256 => 'PS256', RS384 => 'RS256', RS512 => 'RS256',
    PS256 => 'RS256',
);

# $IND{name}{valid | payload | sig | alg}

our %IND;

sub segments {
    my ($jws) = @_;
    return map { b64url_decode($_) } split /\./, $jws;
}

sub join_segments {
    return join '.', map { b64url_encode($_) } @_;
}

for my $name (qw(hs256 hs384 hs512 ed25519 es256 es384 rs256 rs384 rs512
                 ps256))
{
    my $jwk = jwk($name);
    my $alg = $jwk->{alg};
    my $key = $jwk->{kty} eq 'oct' ? b64url_decode($jwk->{k}) : { %$jwk };
    my $now = time;

    my $jws = encode_jwt(
        alg => $alg,
        key => $key,
        extra_headers => { kid => $jwk->{kid}, typ => 'embed-session+jwt' },
        payload => {
            sub => 'independent-' . $name,
            iat => $now,
            exp => $now + 600,
            jti => "ind-$name-$now",
            origins => ['https://app.example.com'],
        },
    );

    my ($h, $p, $s) = segments($jws);
    my $json = JSON::PP->new->canonical;

    my $claims = $json->decode($p);
    $claims->{sub} = 'admin';
    my $payload = $json->encode($claims);

    my $flipped = $s;
    my $i = int(length($s) / 2);
    substr($flipped, $i, 1) = chr(ord(substr($s, $i, 1)) ^ 0x01);

    my $header = $json->decode($h);
    $header->{alg} = $SWAP{$alg};

    $IND{$name} = {
        valid => $jws,
        payload => join_segments($h, $payload, $s),
        sig => join_segments($h, $p, $flipped),
        alg => join_segments($json->encode($header), $p, $s),
    };
}

sub hdr {
    my ($jws) = @_;
    return "X-Session-Token: $jws\nOrigin: https://app.example.com";
}

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

run_tests();

Test::More::done_testing();

__DATA__

=== TEST 1: HS256: a Crypt::JWT token verifies
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
        proxy_set_header X-Sub $embed_session_sub;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }

    location /backend {
        return 200 "sub=$http_x_sub\n";
    }
--- pipelined_requests eval
["GET /t"]
--- more_headers eval
[::hdr($::IND{hs256}{valid})]
--- response_body eval
["sub=independent-hs256\n"]
--- no_error_log
[error]



=== TEST 2: HS256: tampered Crypt::JWT tokens fail
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }
--- user_files
>>> t
ok
--- pipelined_requests eval
[("GET /t") x 3]
--- more_headers eval
[map { ::hdr($::IND{hs256}{$_}) } qw(payload sig alg)]
--- error_code eval
[401, 401, 401]
--- response_body_like eval
[('"code":"SESSION_INVALID"') x 3]
--- no_error_log
[error]



=== TEST 3: HS384: a Crypt::JWT token verifies
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs384.jwks;
        proxy_set_header X-Sub $embed_session_sub;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }

    location /backend {
        return 200 "sub=$http_x_sub\n";
    }
--- pipelined_requests eval
["GET /t"]
--- more_headers eval
[::hdr($::IND{hs384}{valid})]
--- response_body eval
["sub=independent-hs384\n"]
--- no_error_log
[error]



=== TEST 4: HS384: tampered Crypt::JWT tokens fail
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs384.jwks;
    }
--- user_files
>>> t
ok
--- pipelined_requests eval
[("GET /t") x 3]
--- more_headers eval
[map { ::hdr($::IND{hs384}{$_}) } qw(payload sig alg)]
--- error_code eval
[401, 401, 401]
--- response_body_like eval
[('"code":"SESSION_INVALID"') x 3]
--- no_error_log
[error]



=== TEST 5: HS512: a Crypt::JWT token verifies
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs512.jwks;
        proxy_set_header X-Sub $embed_session_sub;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }

    location /backend {
        return 200 "sub=$http_x_sub\n";
    }
--- pipelined_requests eval
["GET /t"]
--- more_headers eval
[::hdr($::IND{hs512}{valid})]
--- response_body eval
["sub=independent-hs512\n"]
--- no_error_log
[error]



=== TEST 6: HS512: tampered Crypt::JWT tokens fail
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs512.jwks;
    }
--- user_files
>>> t
ok
--- pipelined_requests eval
[("GET /t") x 3]
--- more_headers eval
[map { ::hdr($::IND{hs512}{$_}) } qw(payload sig alg)]
--- error_code eval
[401, 401, 401]
--- response_body_like eval
[('"code":"SESSION_INVALID"') x 3]
--- no_error_log
[error]



=== TEST 7: EdDSA: a Crypt::JWT token verifies
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/ed25519.pub.jwks;
        proxy_set_header X-Sub $embed_session_sub;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }

    location /pem {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/ed25519.pub.pem alg=EdDSA kid=ed-1;
        proxy_set_header X-Sub $embed_session_sub;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }

    location /backend {
        return 200 "sub=$http_x_sub\n";
    }
--- pipelined_requests eval
["GET /t", "GET /pem"]
--- more_headers eval
[(::hdr($::IND{ed25519}{valid})) x 2]
--- response_body eval
["sub=independent-ed25519\n", "sub=independent-ed25519\n"]
--- no_error_log
[error]



=== TEST 8: EdDSA: tampered Crypt::JWT tokens fail
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/ed25519.pub.jwks;
    }
--- user_files
>>> t
ok
--- pipelined_requests eval
[("GET /t") x 3]
--- more_headers eval
[map { ::hdr($::IND{ed25519}{$_}) } qw(payload sig alg)]
--- error_code eval
[401, 401, 401]
--- response_body_like eval
[('"code":"SESSION_INVALID"') x 3]
--- no_error_log
[error]



=== TEST 9: ES256: a Crypt::JWT token verifies
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/es256.pub.jwks;
        proxy_set_header X-Sub $embed_session_sub;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }

    location /pem {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/es256.pub.pem alg=ES256 kid=es256-1;
        proxy_set_header X-Sub $embed_session_sub;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }

    location /backend {
        return 200 "sub=$http_x_sub\n";
    }
--- pipelined_requests eval
["GET /t", "GET /pem"]
--- more_headers eval
[(::hdr($::IND{es256}{valid})) x 2]
--- response_body eval
["sub=independent-es256\n", "sub=independent-es256\n"]
--- no_error_log
[error]



=== TEST 10: ES256: tampered Crypt::JWT tokens fail
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/es256.pub.jwks;
    }
--- user_files
>>> t
ok
--- pipelined_requests eval
[("GET /t") x 3]
--- more_headers eval
[map { ::hdr($::IND{es256}{$_}) } qw(payload sig alg)]
--- error_code eval
[401, 401, 401]
--- response_body_like eval
[('"code":"SESSION_INVALID"') x 3]
--- no_error_log
[error]



=== TEST 11: ES384: a Crypt::JWT token verifies
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/es384.pub.jwks;
        proxy_set_header X-Sub $embed_session_sub;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }

    location /pem {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/es384.pub.pem alg=ES384 kid=es384-1;
        proxy_set_header X-Sub $embed_session_sub;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }

    location /backend {
        return 200 "sub=$http_x_sub\n";
    }
--- pipelined_requests eval
["GET /t", "GET /pem"]
--- more_headers eval
[(::hdr($::IND{es384}{valid})) x 2]
--- response_body eval
["sub=independent-es384\n", "sub=independent-es384\n"]
--- no_error_log
[error]



=== TEST 12: ES384: tampered Crypt::JWT tokens fail
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/es384.pub.jwks;
    }
--- user_files
>>> t
ok
--- pipelined_requests eval
[("GET /t") x 3]
--- more_headers eval
[map { ::hdr($::IND{es384}{$_}) } qw(payload sig alg)]
--- error_code eval
[401, 401, 401]
--- response_body_like eval
[('"code":"SESSION_INVALID"') x 3]
--- no_error_log
[error]



=== TEST 13: RS256: a Crypt::JWT token verifies
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/rs256.pub.jwks;
        proxy_set_header X-Sub $embed_session_sub;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }

    location /pem {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/rs256.pub.pem alg=RS256 kid=rs256-1;
        proxy_set_header X-Sub $embed_session_sub;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }

    location /backend {
        return 200 "sub=$http_x_sub\n";
    }
--- pipelined_requests eval
["GET /t", "GET /pem"]
--- more_headers eval
[(::hdr($::IND{rs256}{valid})) x 2]
--- response_body eval
["sub=independent-rs256\n", "sub=independent-rs256\n"]
--- no_error_log
[error]



=== TEST 14: RS256: tampered Crypt::JWT tokens fail
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/rs256.pub.jwks;
    }
--- user_files
>>> t
ok
--- pipelined_requests eval
[("GET /t") x 3]
--- more_headers eval
[map { ::hdr($::IND{rs256}{$_}) } qw(payload sig alg)]
--- error_code eval
[401, 401, 401]
--- response_body_like eval
[('"code":"SESSION_INVALID"') x 3]
--- no_error_log
[error]



=== TEST 15: RS384: a Crypt::JWT token verifies
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/rs384.pub.jwks;
        proxy_set_header X-Sub $embed_session_sub;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }

    location /pem {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/rs384.pub.pem alg=RS384 kid=rs384-1;
        proxy_set_header X-Sub $embed_session_sub;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }

    location /backend {
        return 200 "sub=$http_x_sub\n";
    }
--- pipelined_requests eval
["GET /t", "GET /pem"]
--- more_headers eval
[(::hdr($::IND{rs384}{valid})) x 2]
--- response_body eval
["sub=independent-rs384\n", "sub=independent-rs384\n"]
--- no_error_log
[error]



=== TEST 16: RS384: tampered Crypt::JWT tokens fail
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/rs384.pub.jwks;
    }
--- user_files
>>> t
ok
--- pipelined_requests eval
[("GET /t") x 3]
--- more_headers eval
[map { ::hdr($::IND{rs384}{$_}) } qw(payload sig alg)]
--- error_code eval
[401, 401, 401]
--- response_body_like eval
[('"code":"SESSION_INVALID"') x 3]
--- no_error_log
[error]



=== TEST 17: RS512: a Crypt::JWT token verifies
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/rs512.pub.jwks;
        proxy_set_header X-Sub $embed_session_sub;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }

    location /pem {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/rs512.pub.pem alg=RS512 kid=rs512-1;
        proxy_set_header X-Sub $embed_session_sub;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }

    location /backend {
        return 200 "sub=$http_x_sub\n";
    }
--- pipelined_requests eval
["GET /t", "GET /pem"]
--- more_headers eval
[(::hdr($::IND{rs512}{valid})) x 2]
--- response_body eval
["sub=independent-rs512\n", "sub=independent-rs512\n"]
--- no_error_log
[error]



=== TEST 18: RS512: tampered Crypt::JWT tokens fail
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/rs512.pub.jwks;
    }
--- user_files
>>> t
ok
--- pipelined_requests eval
[("GET /t") x 3]
--- more_headers eval
[map { ::hdr($::IND{rs512}{$_}) } qw(payload sig alg)]
--- error_code eval
[401, 401, 401]
--- response_body_like eval
[('"code":"SESSION_INVALID"') x 3]
--- no_error_log
[error]



=== TEST 19: PS256: a Crypt::JWT token verifies
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/ps256.pub.jwks;
        proxy_set_header X-Sub $embed_session_sub;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }

    location /pem {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/ps256.pub.pem alg=PS256 kid=ps256-1;
        proxy_set_header X-Sub $embed_session_sub;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }

    location /backend {
        return 200 "sub=$http_x_sub\n";
    }
--- pipelined_requests eval
["GET /t", "GET /pem"]
--- more_headers eval
[(::hdr($::IND{ps256}{valid})) x 2]
--- response_body eval
["sub=independent-ps256\n", "sub=independent-ps256\n"]
--- no_error_log
[error]



=== TEST 20: PS256: tampered Crypt::JWT tokens fail
--- config
    location /t {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/ps256.pub.jwks;
    }
--- user_files
>>> t
ok
--- pipelined_requests eval
[("GET /t") x 3]
--- more_headers eval
[map { ::hdr($::IND{ps256}{$_}) } qw(payload sig alg)]
--- error_code eval
[401, 401, 401]
--- response_body_like eval
[('"code":"SESSION_INVALID"') x 3]
--- no_error_log
[error]
