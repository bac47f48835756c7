# vim:set ft= ts=4 sw=4 et fdm=marker:

# Security rules of docs/security.md about the token form and the JOSE
# header: 1 (alg none), 5 (key-carrying headers), 6 (crit), 7 (signature
# length), 8 (segments), 9 (strict base64url), 10 (duplicate header
# members), 11 (size caps).  Each test is named after its rule.

use FindBin;
use lib "$FindBin::Bin/lib";
use EmbedSessionTest;
use EmbedSessionSecurity;

use EmbedSession::Token qw(public_jwk);

repeat_each(2);

plan 'no_plan';

my $B64 = join '', 'A' .. 'Z', 'a' .. 'z', '0' .. '9', '-', '_';

# set an unused low bit in the last character of a base64url segment whose
# length is not a multiple of 4: a lenient decoder yields the same bytes

sub dirty {
    my ($s) = @_;

    die "dirty(): no unused bits in a segment of " . length($s)
        if length($s) % 4 == 0;

    my $i = index $B64, substr($s, -1);
    substr($s, -1) = substr($B64, $i | 1, 1);

    return $s;
}

# the default claims padded so that the JSON text length is 3k + $r

sub pl_mod {
    my ($r, %m) = @_;

    for my $n (1 .. 3) {
        my $p = pl(%m, pad => 'x' x $n);
        return $p if length($p) % 3 == $r;
    }

    die "pl_mod($r): impossible";
}

# claims whose base64url text holds "-" or "_"

sub pl_urlsafe {
    for my $n (0 .. 5) {
        my $p = pl(pad => ('x' x $n) . '???~~~>>>');
        return $p if b64url_encode($p) =~ /[-_]/;
    }

    die "pl_urlsafe(): impossible";
}

# forge until the encoded signature matches $re; $mk makes a fresh payload
# each time (an HMAC over the same input would never change)

sub forge_sig_like {
    my ($re, $mk) = @_;

    $mk //= \&pl;

    for (1 .. 500) {
        my $t = forge(payload => $mk->());
        return $t if (split /\./, $t)[2] =~ $re;
    }

    die "forge_sig_like(): no signature matched";
}

# a token of exactly $len bytes, padded through a claim and header spaces

sub sized {
    my ($len) = @_;

    my $base = length forge(payload => pl(pad => ''));
    my $n0 = int(($len - $base) * 3 / 4) - 6;
    $n0 = 0 if $n0 < 0;

    for my $sp (0 .. 3) {
        my $header = '{' . (' ' x $sp) . substr(hdr(), 1);

        for my $n ($n0 .. $n0 + 16) {
            my $t = forge(header => $header, payload => pl(pad => 'x' x $n));
            return $t if length $t == $len;
        }
    }

    die "sized($len): impossible";
}

# an ECDSA r || s signature as DER, the form JWS forbids

sub der_int {
    my ($b) = @_;

    $b =~ s/\A\x00+//;
    $b = "\x00" if $b eq '';
    $b = "\x00$b" if ord($b) & 0x80;

    return "\x02" . chr(length $b) . $b;
}

sub der_sig {
    my ($sig) = @_;

    my $n = length($sig) / 2;
    my $body = der_int(substr $sig, 0, $n) . der_int(substr $sig, $n);

    return "\x30" . chr(length $body) . $body;
}

sub segments {
    return split /\./, $_[0], -1;
}

add_block_preprocessor(sub {
    my $block = shift;

    $block->run_filters unless $block->is_filtered;

    $block->set_value('http_config', <<'_EOC_')
    large_client_header_buffers 4 16k;
_EOC_
        unless defined $block->http_config;

    $block->set_value('config', <<'_EOC_')
    location /app/ {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
        root html;
    }

    location /es/ {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/es256.pub.jwks;
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

    location = /evil-jwks {
        return 200 '{"keys":[]}';
    }
_EOC_
        unless defined $block->config;

    $block->set_value('user_files', <<'_EOC_')
>>> app/index.html
ok
>>> es/index.html
ok
>>> ed/index.html
ok
>>> rs/index.html
ok
_EOC_
        unless defined $block->user_files;

    $block->set_value('request', "GET /app/\n")
        unless defined $block->request || defined $block->must_die;
});

run_tests();

__DATA__

=== TEST 1: baseline: a hand-built HS256 token is accepted (the forgeries below differ from it only in the attack)
--- more_headers eval
::h(::forge())
--- response_body
ok
--- no_error_log
[error]



=== TEST 2: rule 1: alg "none" with an empty signature (the classic form) is rejected before key lookup
--- more_headers eval
::h(::forge(header => ::hdr(alg => 'none'), sig => sub { '' }))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: empty segment
--- no_error_log
[error]



=== TEST 3: rule 1: alg "none" carrying a valid HS256 MAC is rejected
--- more_headers eval
::h(::forge(header => ::hdr(alg => 'none')))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: unsupported "alg"
--- no_error_log
[error]



=== TEST 4: rule 1: alg "None" is rejected
--- more_headers eval
::h(::forge(header => ::hdr(alg => 'None')))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: unsupported "alg"
--- no_error_log
[error]



=== TEST 5: rule 1: alg "NONE" is rejected
--- more_headers eval
::h(::forge(header => ::hdr(alg => 'NONE')))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: unsupported "alg"
--- no_error_log
[error]



=== TEST 6: rule 1: alg "nOnE" without kid is rejected
--- more_headers eval
::h(::forge(header => ::hdr(alg => 'nOnE', kid => undef)))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: unsupported "alg"
--- no_error_log
[error]



=== TEST 7: rule 1: alg "none" with an unknown kid fails on the alg, before any key lookup
--- more_headers eval
::h(::forge(header => ::hdr(alg => 'none', kid => 'no-such-kid')))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: unsupported "alg"
--- no_error_log
unknown "kid"
[error]



=== TEST 8: rule 1: a header without alg is rejected
--- more_headers eval
::h(::forge(header => ::hdr(alg => undef)))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: no "alg"
--- no_error_log
[error]



=== TEST 9: rule 1: alg null is rejected
--- more_headers eval
::h(::forge(header => ::hdr(alg => \'null')))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: "alg" is not a string
--- no_error_log
[error]



=== TEST 10: rule 1: alg as a number is rejected
--- more_headers eval
::h(::forge(header => ::hdr(alg => \'256')))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: "alg" is not a string
--- no_error_log
[error]



=== TEST 11: rule 1: alg as an array ["HS256"] is rejected
--- more_headers eval
::h(::forge(header => ::hdr(alg => ['HS256'])))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: "alg" is not a string
--- no_error_log
[error]



=== TEST 12: rule 1: alg as an object is rejected
--- more_headers eval
::h(::forge(header => ::hdr(alg => { name => 'HS256' })))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: "alg" is not a string
--- no_error_log
[error]



=== TEST 13: rule 1: alg true is rejected
--- more_headers eval
::h(::forge(header => ::hdr(alg => \'true')))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: "alg" is not a string
--- no_error_log
[error]



=== TEST 14: rule 1: alg "" is rejected
--- more_headers eval
::h(::forge(header => ::hdr(alg => '')))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: unsupported "alg"
--- no_error_log
[error]



=== TEST 15: rule 5: a "jwk" header is rejected even when the token is signed with the configured key
--- more_headers eval
::h(::forge(header => ::hdr(jwk => { kty => 'oct', k => 'QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE' })))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: key-carrying header
--- no_error_log
[error]



=== TEST 16: rule 5: CVE-2018-0114: a token signed with the attacker's RSA key embedded as "jwk" is rejected
--- request
GET /rs/
--- more_headers eval
::h(::forge(key => 'rs512', alg => 'RS256',
            header => ::hdr(alg => 'RS256', kid => 'rs256-1',
                            jwk => ::public_jwk(::key('rs512')))))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: key-carrying header
--- no_error_log
[error]



=== TEST 17: rule 5: a "jku" header is rejected and nothing is fetched
--- more_headers eval
::h(::forge(header => ::hdr(jku => "http://127.0.0.1:$ENV{TEST_NGINX_SERVER_PORT}/evil-jwks")))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: key-carrying header
--- no_error_log
GET /evil-jwks
[error]



=== TEST 18: rule 5: an "x5u" header is rejected
--- more_headers eval
::h(::forge(header => ::hdr(x5u => "http://127.0.0.1:$ENV{TEST_NGINX_SERVER_PORT}/evil-jwks")))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: key-carrying header
--- no_error_log
GET /evil-jwks
[error]



=== TEST 19: rule 5: an "x5c" header is rejected
--- more_headers eval
::h(::forge(header => ::hdr(x5c => ['MIIBszCCAVmgAwIBAgIUEXAMPLEEXAMPLEEXAMPLEEXAMPLEwCgYIKoZIzj0EAwIw'])))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: key-carrying header
--- no_error_log
[error]



=== TEST 20: rule 6: "crit" naming a header member is rejected
--- more_headers eval
::h(::forge(header => ::hdr(crit => ['exp'], exp => time + 300)))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: "crit" or "b64" header
--- no_error_log
[error]



=== TEST 21: rule 6: "crit" ["b64"] with "b64": false is rejected
--- more_headers eval
::h(::forge(header => ::hdr(crit => ['b64'], b64 => \'false')))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: "crit" or "b64" header
--- no_error_log
[error]



=== TEST 22: rule 6: an empty "crit" array is rejected
--- more_headers eval
::h(::forge(header => ::hdr(crit => [])))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: "crit" or "b64" header
--- no_error_log
[error]



=== TEST 23: rule 7: HS256 with an empty signature is rejected
--- more_headers eval
::h(::forge(sig => sub { '' }))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- no_error_log
[error]



=== TEST 24: rule 7: HS256 MAC truncated to 31 bytes is rejected
--- more_headers eval
::h(::forge(sig => sub { substr $_[0], 0, 31 }))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: wrong signature length
--- no_error_log
[error]



=== TEST 25: rule 7: HS256 MAC truncated to 16 bytes is rejected
--- more_headers eval
::h(::forge(sig => sub { substr $_[0], 0, 16 }))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: wrong signature length
--- no_error_log
[error]



=== TEST 26: rule 7: HS256 MAC with one byte appended (33 bytes) is rejected
--- more_headers eval
::h(::forge(sig => sub { $_[0] . "\x00" }))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: wrong signature length
--- no_error_log
[error]



=== TEST 27: rule 7: HS256 MAC sent twice (64 bytes) is rejected
--- more_headers eval
::h(::forge(sig => sub { $_[0] x 2 }))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: wrong signature length
--- no_error_log
[error]



=== TEST 28: baseline: an ES256 token is accepted (control for the ES256 forgeries)
--- request
GET /es/
--- more_headers eval
::h(::token(key => 'es256'))
--- response_body
ok
--- no_error_log
[error]



=== TEST 29: rule 7: ES256 signature DER-encoded instead of raw r||s is rejected
--- request
GET /es/
--- more_headers eval
::h(::resig(::token(key => 'es256'), \&::der_sig))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: wrong signature length
--- no_error_log
[error]



=== TEST 30: rule 7: ES256 signature truncated to 63 bytes is rejected
--- request
GET /es/
--- more_headers eval
::h(::resig(::token(key => 'es256'), sub { substr $_[0], 0, 63 }))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: wrong signature length
--- no_error_log
[error]



=== TEST 31: rule 7: ES256 signature with a leading zero byte (65 bytes) is rejected
--- request
GET /es/
--- more_headers eval
::h(::resig(::token(key => 'es256'), sub { "\x00" . $_[0] }))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: wrong signature length
--- no_error_log
[error]



=== TEST 32: rule 7: ES256 r and s each left-padded to 33 bytes (a len/2 splitter would accept) is rejected
--- request
GET /es/
--- more_headers eval
::h(::resig(::token(key => 'es256'),
            sub { "\x00" . substr($_[0], 0, 32) . "\x00" . substr($_[0], 32) }))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: wrong signature length
--- no_error_log
[error]



=== TEST 33: rule 7: ES256 with the signature stripped is rejected
--- request
GET /es/
--- more_headers eval
::h(::resig(::token(key => 'es256'), sub { '' }))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- no_error_log
[error]



=== TEST 34: baseline: an EdDSA token is accepted (control for the Ed25519 forgeries)
--- request
GET /ed/
--- more_headers eval
::h(::token(key => 'ed25519'))
--- response_body
ok
--- no_error_log
[error]



=== TEST 35: rule 7: Ed25519 signature truncated to 63 bytes is rejected
--- request
GET /ed/
--- more_headers eval
::h(::resig(::token(key => 'ed25519'), sub { substr $_[0], 0, 63 }))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: wrong signature length
--- no_error_log
[error]



=== TEST 36: rule 7: Ed25519 signature with a byte appended (65 bytes) is rejected
--- request
GET /ed/
--- more_headers eval
::h(::resig(::token(key => 'ed25519'), sub { $_[0] . "\x00" }))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: wrong signature length
--- no_error_log
[error]



=== TEST 37: baseline: an RS256 token is accepted (control for the RS256 forgeries)
--- request
GET /rs/
--- more_headers eval
::h(::token(key => 'rs256'))
--- response_body
ok
--- no_error_log
[error]



=== TEST 38: rule 7: RS256 signature with its first byte dropped is rejected
--- request
GET /rs/
--- more_headers eval
::h(::resig(::token(key => 'rs256'), sub { substr $_[0], 1 }))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: wrong signature length
--- no_error_log
[error]



=== TEST 39: rule 7: RS256 signature with a leading zero byte (modulus length + 1) is rejected
--- request
GET /rs/
--- more_headers eval
::h(::resig(::token(key => 'rs256'), sub { "\x00" . $_[0] }))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: wrong signature length
--- no_error_log
[error]



=== TEST 40: rule 8: two segments (no signature part) are rejected
--- more_headers eval
::h(CORE::join '.', (::segments(::forge()))[0, 1])
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: not three segments
--- no_error_log
[error]



=== TEST 41: rule 8: four segments are rejected
--- more_headers eval
::h(::forge() . '.AAAA')
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: more than three segments
--- no_error_log
[error]



=== TEST 42: rule 8: a valid token with a trailing dot is rejected
--- more_headers eval
::h(::forge() . '.')
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: more than three segments
--- no_error_log
[error]



=== TEST 43: rule 8: a valid token with a leading dot is rejected
--- more_headers eval
::h('.' . ::forge())
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: more than three segments
--- no_error_log
[error]



=== TEST 44: rule 8: an empty header segment (MAC over ".payload") is rejected
--- more_headers eval
::h(::forge(edit => sub { ('', $_[1]) }))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: empty segment
--- no_error_log
[error]



=== TEST 45: rule 8: an empty payload segment (MAC over "header.") is rejected
--- more_headers eval
::h(::forge(edit => sub { ($_[0], '') }))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: empty segment
--- no_error_log
[error]



=== TEST 46: rule 8: a token of two dots only is rejected
--- more_headers
X-Session-Token: ..
Origin: https://app.example.com
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: empty segment
--- no_error_log
[error]



=== TEST 47: rule 8: flattened JWS JSON serialization is rejected
--- more_headers eval
my ($h, $p, $s) = ::segments(::forge());
::h(qq({"payload":"$p","protected":"$h","signature":"$s"}))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- no_error_log
[error]



=== TEST 48: rule 8: general JWS JSON serialization is rejected
--- more_headers eval
my ($h, $p, $s) = ::segments(::forge());
::h(qq({"payload":"$p","signatures":[{"protected":"$h","signature":"$s"}]}))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- no_error_log
[error]



=== TEST 49: rule 8: a compact JWE (five segments) is rejected
--- more_headers eval
::h(::b64url_encode(::hdr(alg => 'dir', enc => 'A256GCM')) . '..'
    . ::b64url_encode('123456789012') . '.'
    . ::b64url_encode('ciphertext') . '.'
    . ::b64url_encode('0123456789abcdef'))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: more than three segments
--- no_error_log
[error]



=== TEST 50: rule 8: a three-segment token with a JWE "enc" header is rejected
--- more_headers eval
::h(::forge(header => ::hdr(enc => 'A256GCM')))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: JWE header
--- no_error_log
[error]



=== TEST 51: rule 8: a header that is a JSON array, not an object, is rejected
--- more_headers eval
::h(::forge(header => '["HS256","hs256-1","embed-session+jwt"]'))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: header is not a JSON object
--- no_error_log
[error]



=== TEST 52: rule 8: a header with trailing bytes after the JSON object is rejected
--- more_headers eval
::h(::forge(header => ::hdr() . 'x'))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: header is not a JSON object
--- no_error_log
[error]



=== TEST 53: baseline: base64url "-" and "_" in payload and signature are accepted
--- more_headers eval
::h(::forge_sig_like(qr/[-_]/, \&::pl_urlsafe))
--- response_body
ok
--- no_error_log
[error]



=== TEST 54: baseline: JSON white space (CR LF, spaces) inside the header is accepted, the MAC covers the received bytes
--- more_headers eval
::h(::forge(header => qq({"typ":"embed-session+jwt",\r\n "alg":"HS256", "kid":"hs256-1"})))
--- response_body
ok
--- no_error_log
[error]



=== TEST 55: rule 9: "=" padding after the header segment is rejected (MAC over the padded text)
--- more_headers eval
::h(::forge(header => '{ ' . substr(::hdr(), 1),
            edit => sub { ("$_[0]==", $_[1]) }))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: header is not strict base64url
--- no_error_log
[error]



=== TEST 56: rule 9: "=" padding after the payload segment is rejected (MAC over the padded text)
--- more_headers eval
::h(::forge(payload => ::pl_mod(1), edit => sub { ($_[0], "$_[1]==") }))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: payload is not strict base64url
--- no_error_log
[error]



=== TEST 57: rule 9: "=" padding after the signature is rejected
--- more_headers eval
::h(::forge(sig64 => sub { "$_[0]=" }))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- no_error_log
[error]



=== TEST 58: rule 9: standard base64 "+" and "/" in the payload are rejected (MAC over that text)
--- more_headers eval
::h(::forge(payload => ::pl_urlsafe(),
            edit => sub { ($_[0], $_[1] =~ tr{-_}{+/}r) }))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: payload is not strict base64url
--- no_error_log
[error]



=== TEST 59: rule 9: standard base64 "+" and "/" in the signature are rejected
--- more_headers eval
my $t = ::forge_sig_like(qr/[-_]/);
$t =~ s{([^.]+)\z}{$1 =~ tr{-_}{+/}r}e;
::h($t)
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: signature is not strict base64url
--- no_error_log
[error]



=== TEST 60: rule 9: a space inside the payload segment is rejected (MAC over that text)
--- more_headers eval
::h(::forge(edit => sub { ($_[0], substr($_[1], 0, 10) . ' ' . substr($_[1], 10)) }))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: payload is not strict base64url
--- no_error_log
[error]



=== TEST 61: rule 9: a tab inside the header segment is rejected (MAC over that text)
--- more_headers eval
::h(::forge(edit => sub { (substr($_[0], 0, 10) . "\t" . substr($_[0], 10), $_[1]) }))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: header is not strict base64url
--- no_error_log
[error]



=== TEST 62: rule 9: a space inside the signature is rejected
--- more_headers eval
::h(::forge(sig64 => sub { substr($_[0], 0, 20) . ' ' . substr($_[0], 20, 22) }))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- no_error_log
[error]



=== TEST 63: rule 9: dirty unused bits in the last signature character are rejected
--- more_headers eval
::h(::forge(sig64 => \&::dirty))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: signature is not strict base64url
--- no_error_log
[error]



=== TEST 64: rule 9: dirty unused bits in the last payload character are rejected (MAC over that text)
--- more_headers eval
::h(::forge(payload => ::pl_mod(1), edit => sub { ($_[0], ::dirty($_[1])) }))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: payload is not strict base64url
--- no_error_log
[error]



=== TEST 65: rule 9: dirty unused bits in the last header character are rejected (MAC over that text)
--- more_headers eval
::h(::forge(header => '{ ' . substr(::hdr(), 1),
            edit => sub { (::dirty($_[0]), $_[1]) }))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: header is not strict base64url
--- no_error_log
[error]



=== TEST 66: rule 9: a payload segment of impossible length (4n + 1) is rejected
--- more_headers eval
::h(::forge(payload => ::pl_mod(0), edit => sub { ($_[0], "$_[1]A") }))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: payload is not strict base64url
--- no_error_log
[error]



=== TEST 67: rule 9: a character outside the alphabet ("!") in the payload is rejected
--- more_headers eval
::h(::forge(edit => sub { ($_[0], $_[1] =~ s/\A(.{8})./$1!/r) }))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: payload is not strict base64url
--- no_error_log
[error]



=== TEST 68: rule 10: "alg" twice in the header ("none", then "HS256") is rejected
--- more_headers eval
::h(::forge(header => '{"alg":"none","alg":"HS256","kid":"hs256-1","typ":"embed-session+jwt"}'))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: header is not a JSON object
--- no_error_log
[error]



=== TEST 69: rule 10: "alg" twice in the header with the same value is rejected
--- more_headers eval
::h(::forge(header => '{"alg":"HS256","alg":"HS256","kid":"hs256-1","typ":"embed-session+jwt"}'))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: header is not a JSON object
--- no_error_log
[error]



=== TEST 70: rule 10: escaped duplicate "\u0061lg" in the header is rejected
--- more_headers eval
::h(::forge(header => '{"alg":"HS256","\u0061lg":"none","kid":"hs256-1","typ":"embed-session+jwt"}'))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: header is not a JSON object
--- no_error_log
[error]



=== TEST 71: rule 10: "kid" twice in the header is rejected
--- more_headers eval
::h(::forge(header => '{"alg":"HS256","kid":"other","kid":"hs256-1","typ":"embed-session+jwt"}'))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: header is not a JSON object
--- no_error_log
[error]



=== TEST 72: rule 10: "typ" twice, one escaped ("\u0074yp"), is rejected
--- more_headers eval
::h(::forge(header => '{"alg":"HS256","kid":"hs256-1","typ":"embed-renew+jwt","\u0074yp":"embed-session+jwt"}'))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: header is not a JSON object
--- no_error_log
[error]



=== TEST 73: rule 11: a validly signed token of 8 KiB + 1 bytes is rejected before decoding
--- more_headers eval
::h(::sized(8193))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: token too large
--- no_error_log
[error]



=== TEST 74: rule 11: a validly signed token of exactly 8 KiB is accepted (the cap's boundary)
--- more_headers eval
::h(::sized(8192))
--- response_body
ok
--- no_error_log
[error]



=== TEST 75: rule 11: a header of more than 512 decoded bytes (JSON white space) is rejected
--- more_headers eval
::h(::forge(header => '{' . (' ' x 600) . substr(::hdr(), 1)))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: header too large
--- no_error_log
[error]



=== TEST 76: rule 11: "\u0000" in a header string is rejected (no JSON_ALLOW_NUL)
--- more_headers eval
::h(::forge(header => ::hdr(typ => \'"embed-session+jwt\u0000"')))
--- error_code: 401
--- response_body_like: "code":"SESSION_INVALID"
--- error_log
SESSION_INVALID: header is not a JSON object
--- no_error_log
[error]
