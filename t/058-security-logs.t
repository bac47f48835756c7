# vim:set ft= ts=4 sw=4 et fdm=marker:

# What a client sends, in logs and upstream headers (security review of
# f2a3823, items L3, L4, I3 and two suspected issues):
#
#   log text     every string a client sent reaches the error log escaped
#                ("\xNN" for CR, LF, quotes, backslashes, control and
#                non-ASCII bytes) and cut to 256 bytes: JSON member names
#                in a mint body's details, jansson's messages (L3)
#   request line a URL token in a request line that nginx refuses itself
#                (a space or a tab in the query, a control byte, "%00" in
#                the path, an invalid method, HTTP/9.9, no protocol) is
#                "[redacted]" in $request and $embed_session_request_line
#                of the access log (L4)
#   claim header with underscores_in_headers on (or ignore_invalid_headers
#                off), X_Embed_Sub, X-Embed_Sub and x_embed-sub never
#                reach the upstream beside the module's X-Embed-Sub (I3)
#   mint claim   an embed_session_mint_claim value from the request that is
#                not UTF-8 is 400 VALIDATION_FAILED naming the claim, logged
#                at info; a constant one fails nginx -t; every 500
#                MINT_FAILED has a log line at alert
#   rsa sizes    JWKs of 3072- and 4096-bit RSA keys load and verify; more
#                than 4096 bits is refused
#
# Tests named "control:" pass before and after the fixes; every other one
# fails on f2a3823.

use FindBin;
use lib "$FindBin::Bin/lib";
use EmbedSessionTest;
use EmbedSessionMint;

repeat_each(2);
no_shuffle();

plan 'no_plan';

filters_delay();

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

our $RAW = 'ms_LogsTest0123456789abcdefghijklmnopqrstuv';

our $KEY_FILE = "k1 key=" . stored($RAW) . " scope=tenant tenant=t1\n";

our $AUTH = "Authorization: Bearer $RAW\nContent-Type: application/json";

our $O1 = '"allowedOrigins":["https://app.example.com"]';

# a URL token: the error log must never hold its signature

our $T;
our $SIG;

# an error log line that is an access log line (log_format acc below)

sub acc {
    my ($line, $status) = @_;

    my $re = quotemeta $line;
    return qr/^ACCESS req="$re" esl="$re" $status$/;
}

add_block_preprocessor(sub {
    my $block = shift;

    $T = token();
    $SIG = (split /\./, $T)[2];

    $block->run_filters unless $block->is_filtered;

    for my $s (qw(more_headers request raw_request error_log
                  no_error_log)) {
        my $v = $block->$s;
        next unless defined $v;

        for my $x (ref $v eq 'ARRAY' ? @$v : $v) {
            die "TEST \"" . $block->name . "\": $s: eval failed: $x\n"
                if defined $x && !ref $x
                   && $x =~ /\bat \S+ line \d+\.?$/m;
        }
    }

    if (!defined $block->http_config) {
        $block->set_value('http_config', <<"_EOC_");
    embed_session_api_keys zone=log_keys:1m
                           file=$ENV{TEST_NGINX_HTML_DIR}/log.api-keys;

    log_format acc 'ACCESS req="\$request" esl="\$embed_session_request_line" \$status';

    server {
        listen unix:$ENV{TEST_NGINX_HTML_DIR}/backend.sock;
        underscores_in_headers on;

        location / {
            return 200 "sub=[\$http_x_embed_sub] tok=[\$http_x_session_token]\\n";
        }
    }
_EOC_
    }

    if (!defined $block->user_files) {
        $block->set_value('user_files', [['log.api-keys', $KEY_FILE]]);
    }
});

run_tests();

__DATA__

=== TEST 1: L3: CR and LF in a member name of a mint body reach the error log escaped, on the line of the mint
--- config
    location = /mint {
        embed_session_api_key  log_keys;
        embed_session_keys     $TEST_NGINX_ES_DATA/keys/ed25519.jwks;
        embed_session_mint     on;
        embed_session_field    allowedOrigins  origins  required;
        embed_session_mint_output  token  token;
    }
--- log_level: info
--- request eval
"POST /mint\n{$::O1,\"u\\r\\nser: injected\":1}"
--- more_headers eval
$::AUTH
--- error_code: 400
--- response_body_like chomp
"code":"VALIDATION_FAILED".*"path":"u\\r\\nser: injected"
--- error_log eval
qr/the first: u\\x0D\\x0Aser: injected is not allowed, client: /
--- no_error_log eval
[qr/^ser: injected/, qr/\r/, '[error]']



=== TEST 2: L3: quotes, backslashes, control and non-ASCII bytes of a member name are escaped; a quoted value cannot end early
--- config
    location = /mint {
        embed_session_api_key  log_keys;
        embed_session_keys     $TEST_NGINX_ES_DATA/keys/ed25519.jwks;
        embed_session_mint     on;
        embed_session_field    allowedOrigins  origins  required;
        embed_session_mint_output  token  token;
    }
--- log_level: info
--- request eval
"POST /mint\n{$::O1,\"a\\\"b\\\\c\\u00e9\\u0001\\u001b[31m\":1}"
--- more_headers eval
$::AUTH
--- error_code: 400
--- error_log eval
qr/the first: a\\x22b\\x5Cc\\xC3\\xA9\\x01\\x1B\[31m is not allowed, client: /
--- no_error_log eval
[qr/\x1b/, qr/a"b/, qr/\xc3\xa9/, '[error]']



=== TEST 3: L3: a member name of 1,000 bytes is cut to 256 in the log, "..." marking the cut
--- config
    location = /mint {
        embed_session_api_key  log_keys;
        embed_session_keys     $TEST_NGINX_ES_DATA/keys/ed25519.jwks;
        embed_session_mint     on;
        embed_session_field    allowedOrigins  origins  required;
        embed_session_mint_output  token  token;
    }
--- log_level: info
--- request eval
"POST /mint\n{$::O1,\"" . ('n' x 1000) . "\":1}"
--- more_headers eval
$::AUTH
--- error_code: 400
--- error_log eval
qr/the first: n{253}\.\.\. is not allowed, client: /
--- no_error_log eval
[qr/n{254}/, '[error]']



=== TEST 4: L3: what jansson quotes of an invalid body is escaped, not replaced
--- config
    location = /mint {
        embed_session_api_key  log_keys;
        embed_session_keys     $TEST_NGINX_ES_DATA/keys/ed25519.jwks;
        embed_session_mint     on;
        embed_session_field    allowedOrigins  origins  required;
        embed_session_mint_output  token  token;
    }
--- log_level: info
--- request eval
"POST /mint\n{\"a\":\"Jos\xc3\xa9\x01\"}"
--- more_headers eval
$::AUTH
--- error_code: 400
--- response_body_like chomp
"code":"INVALID_JSON"
--- error_log eval
qr/invalid JSON body: line 1, column \d+: control character 0x1 near '\\x22Jos\\xC3\\xA9', client: /
--- no_error_log eval
[qr/\xc3\xa9/, '[error]']



=== TEST 5: L4: a space in the query: nginx refuses the line (400), the access log masks every token argument after it
--- config
    access_log logs/error.log acc;

    location /u/ {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
        embed_session_token $http_x_session_token $arg_session;
        return 200;
    }
--- log_level: warn
--- raw_request eval
"GET /u/x?a=1 2&session=$::T&b=3&Session=$::T HTTP/1.1\r
Host: localhost\r
Connection: close\r
\r
"
--- error_code: 400
--- error_log eval
::acc('GET /u/x?a=1 2&session=[redacted]&b=3&Session=[redacted] HTTP/1.1',
      400)
--- no_error_log eval
[$::SIG]



=== TEST 6: L4: a tab in the query
--- config
    access_log logs/error.log acc;

    location /u/ {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
        embed_session_token $arg_session;
        return 200;
    }
--- log_level: warn
--- raw_request eval
"GET /u/x?a=1\t2&session=$::T HTTP/1.1\r
Host: localhost\r
Connection: close\r
\r
"
--- error_code: 400
--- error_log eval
qr/^ACCESS req="GET \/u\/x\?a=1\\x092&session=\[redacted\] HTTP\/1\.1" esl="GET \/u\/x\?a=1\\x092&session=\[redacted\] HTTP\/1\.1" 400$/
--- no_error_log eval
[$::SIG]



=== TEST 7: L4: a control byte in the query, the token before it
--- config
    access_log logs/error.log acc;

    location /u/ {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
        embed_session_token $arg_session;
        return 200;
    }
--- log_level: warn
--- raw_request eval
"GET /u/x?session=$::T&b=\x01 HTTP/1.1\r
Host: localhost\r
Connection: close\r
\r
"
--- error_code: 400
--- error_log eval
qr/^ACCESS req="GET \/u\/x\?session=\[redacted\]&b=\\x01 HTTP\/1\.1" esl="GET \/u\/x\?session=\[redacted\]&b=\\x01 HTTP\/1\.1" 400$/
--- no_error_log eval
[$::SIG]



=== TEST 8: L4: "%00" in the path: a line nginx parsed, then refused (no $args)
--- config
    access_log logs/error.log acc;

    location /u/ {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
        embed_session_token $arg_session;
        return 200;
    }
--- log_level: warn
--- raw_request eval
"GET /u/%00?session=$::T HTTP/1.1\r
Host: localhost\r
Connection: close\r
\r
"
--- error_code: 400
--- error_log eval
::acc('GET /u/%00?session=[redacted] HTTP/1.1', 400)
--- no_error_log eval
[$::SIG]



=== TEST 9: L4: an invalid method
--- config
    access_log logs/error.log acc;

    location /u/ {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
        embed_session_token $arg_session;
        return 200;
    }
--- log_level: warn
--- raw_request eval
"G\@T /u/x?session=$::T HTTP/1.1\r
Host: localhost\r
Connection: close\r
\r
"
--- error_code: 400
--- error_log eval
::acc('G@T /u/x?session=[redacted] HTTP/1.1', 400)
--- no_error_log eval
[$::SIG]



=== TEST 10: L4: HTTP/9.9 (505)
--- config
    access_log logs/error.log acc;

    location /u/ {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
        embed_session_token $arg_session;
        return 200;
    }
--- log_level: warn
--- raw_request eval
"GET /u/x?session=$::T HTTP/9.9\r
Host: localhost\r
Connection: close\r
\r
"
--- error_code: 505
--- error_log eval
::acc('GET /u/x?session=[redacted] HTTP/9.9', 505)
--- no_error_log eval
[$::SIG]



=== TEST 11: L4: no protocol after the arguments: they run to the end of the line
--- config
    access_log logs/error.log acc;

    location /u/ {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
        embed_session_token $arg_session;
        return 200;
    }
--- log_level: warn
--- raw_request eval
"GET /u/x?session=$::T HTTP/1.1x\r
Host: localhost\r
Connection: close\r
\r
"
--- error_code: 400
--- error_log eval
::acc('GET /u/x?session=[redacted]', 400)
--- no_error_log eval
[$::SIG]



=== TEST 12: L4: with the error log at info, nginx has set $request from the refused line itself: the access log masks it all the same
--- config
    access_log logs/error.log acc;

    location /u/ {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
        embed_session_token $arg_session;
        return 200;
    }
--- log_level: info
--- raw_request eval
"GET /u/x?a=1 2&session=$::T HTTP/1.1\r
Host: localhost\r
Connection: close\r
\r
"
--- error_code: 400
--- error_log eval
::acc('GET /u/x?a=1 2&session=[redacted] HTTP/1.1', 400)
--- no_error_log eval
[qr/^ACCESS .*\Q$::SIG\E/]



=== TEST 13: control: a line nginx accepts is masked as before, and the protocol is kept
--- config
    access_log logs/error.log acc;

    location /u/ {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
        embed_session_token $arg_session;
        embed_session_origin_absent allow;
        return 200;
    }
--- log_level: warn
--- raw_request eval
"GET /u/x?session=$::T&a=1 HTTP/1.1\r
Host: localhost\r
Connection: close\r
\r
"
--- error_code: 200
--- error_log eval
::acc('GET /u/x?session=[redacted]&a=1 HTTP/1.1', 200)
--- no_error_log eval
[$::SIG]



=== TEST 14: I3: underscores_in_headers on: X_Embed_Sub, X-Embed_Sub and x_embed-sub never reach the upstream beside X-Embed-Sub
--- config
    underscores_in_headers on;

    location /c/ {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
        embed_session_claim_header X-Embed-Sub sub;
        embed_session_strip_token on;
        proxy_pass http://unix:$TEST_NGINX_HTML_DIR/backend.sock;
    }
--- more_headers eval
"X-Session-Token: $::T\nOrigin: https://app.example.com\n"
. "X_Embed_Sub: forged1\nX-Embed_Sub: forged2\nx_embed-sub: forged3\n"
. "X-EMBED-SUB: forged4"
--- request
GET /c/x
--- response_body
sub=[user-1] tok=[]
--- no_error_log
[error]



=== TEST 15: I3: a request that fails verification loses the variants too (error_page may still proxy it)
--- config
    underscores_in_headers on;

    location /c/ {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
        embed_session_claim_header X-Embed-Sub sub;
        error_page 401 = @up;
    }

    location @up {
        proxy_pass http://unix:$TEST_NGINX_HTML_DIR/backend.sock;
    }
--- more_headers
X_Embed_Sub: forged1
X-Embed_Sub: forged2
--- request
GET /c/x
--- response_body
sub=[] tok=[]
--- no_error_log
[error]



=== TEST 16: I3: ignore_invalid_headers off passes X_Embed_Sub without underscores_in_headers: dropped as well
--- config
    ignore_invalid_headers off;

    location /c/ {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
        embed_session_claim_header X-Embed-Sub sub;
        embed_session_strip_token on;
        proxy_pass http://unix:$TEST_NGINX_HTML_DIR/backend.sock;
    }
--- more_headers eval
"X-Session-Token: $::T\nOrigin: https://app.example.com\n"
. "X_Embed_Sub: forged1"
--- request
GET /c/x
--- response_body
sub=[user-1] tok=[]
--- no_error_log
[error]



=== TEST 17: control: the token's own header is stripped with underscores too (X_Session_Token is what $http_x_session_token reads)
--- config
    underscores_in_headers on;

    location /c/ {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
        embed_session_strip_token on;
        proxy_pass http://unix:$TEST_NGINX_HTML_DIR/backend.sock;
    }
--- more_headers eval
"X_Session_Token: $::T\nOrigin: https://app.example.com"
--- request
GET /c/x
--- response_body
sub=[] tok=[]
--- no_error_log
[error]



=== TEST 18: mint claim: a value from the request that is not UTF-8 is 400 VALIDATION_FAILED naming the claim, logged at info, escaped
--- config
    location = /mint {
        embed_session_api_key  log_keys;
        embed_session_keys     $TEST_NGINX_ES_DATA/keys/ed25519.jwks;
        embed_session_mint     on;
        embed_session_field    allowedOrigins  origins  required;
        embed_session_mint_claim   name  $http_x_user;
        embed_session_mint_output  token  token;
        add_header  X-Minted-Jti  $embed_session_minted_jti  always;
    }
--- log_level: info
--- request eval
"POST /mint\n{$::O1}"
--- more_headers eval
"$::AUTH\nX-User: ab\xff\xfe\r"
--- error_code: 400
--- response_headers
X-Minted-Jti:
--- response_body_like chomp
"code":"VALIDATION_FAILED".*"path":"name","message":"is not valid UTF-8
--- error_log eval
qr/\[info\] .*the value of claim "name" is not valid UTF-8: "ab\\xFF\\xFE", client: /
--- no_error_log eval
[qr/\xff/, '[error]', '[alert]']



=== TEST 19: control: a UTF-8 value from the request goes into the token
--- config
    location = /mint {
        embed_session_api_key  log_keys;
        embed_session_keys     $TEST_NGINX_ES_DATA/keys/ed25519.jwks;
        embed_session_mint     on;
        embed_session_field    allowedOrigins  origins  required;
        embed_session_mint_claim   name  $http_x_user;
        embed_session_mint_output  token  token;
    }

    location = /show {
        embed_session_verify  on;
        embed_session_keys    $TEST_NGINX_ES_DATA/keys/ed25519.pub.jwks;
        embed_session_origin_absent allow;
        embed_session_strip_token on;
        proxy_set_header X-Embed-Sub $embed_session_claim_name;
        proxy_pass http://unix:$TEST_NGINX_HTML_DIR/backend.sock;
    }
--- request eval
"POST /mint\n{$::O1}"
--- more_headers eval
"$::AUTH\nX-User: Jos\xc3\xa9"
--- error_code: 201
--- response_body_filters eval
sub {
    my $t = (JSON::PP->new->decode($_[0]))->{token};
    my $res = http('GET', '/show', { 'X-Session-Token' => $t });
    return $res->{status} . ' ' . $res->{content};
}
--- response_body eval
"200 sub=[Jos\xc3\xa9] tok=[]\n"
--- no_error_log
[error]



=== TEST 20: mint claim: a constant value that is not UTF-8 fails nginx -t
--- config eval
"location = /mint {
    embed_session_api_key  log_keys;
    embed_session_keys     \$TEST_NGINX_ES_DATA/keys/ed25519.jwks;
    embed_session_mint     on;
    embed_session_field    allowedOrigins  origins  required;
    embed_session_mint_claim   plan  \"gold\xff\";
    embed_session_mint_output  token  token;
}"
--- must_die
--- error_log eval
qr/\[emerg\] .*the value of claim "plan" is not valid UTF-8/



=== TEST 21: mint: every 500 MINT_FAILED has a line at alert (a claim that cannot be set: a field's string is in its way)
--- config
    location = /mint {
        embed_session_api_key  log_keys;
        embed_session_keys     $TEST_NGINX_ES_DATA/keys/ed25519.jwks;
        embed_session_mint     on;
        embed_session_field    allowedOrigins  origins  required;
        embed_session_field    user  string  required  claim=user;
        embed_session_mint_claim   user.name  $http_x_user;
        embed_session_mint_output  token  token;
    }
--- request eval
"POST /mint\n{$::O1,\"user\":\"u1\"}"
--- more_headers eval
"$::AUTH\nX-User: bob"
--- error_code: 500
--- response_body_like chomp
"code":"MINT_FAILED"
--- error_log eval
qr/\[alert\] .*embed_session mint: claim "user\.name" could not be set/



=== TEST 22: rsa sizes: a 4096-bit RSA public JWK loads, and a token signed with its private key passes
--- config
    location /r/ {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/rs256-4096.pub.jwks;
        embed_session_strip_token on;
        proxy_set_header X-Embed-Sub "$embed_session_sub $embed_session_kid";
        proxy_pass http://unix:$TEST_NGINX_HTML_DIR/backend.sock;
    }
--- request
GET /r/x
--- more_headers eval
"X-Session-Token: " . token(key => 'rs256-4096')
. "\nOrigin: https://app.example.com"
--- response_body
sub=[user-1 rs4096-1] tok=[]
--- no_error_log
[error]



=== TEST 23: rsa sizes: 3072 and 4096 bits, private JWKs in one location, and a token of each passes
--- config
    location /r/ {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/rs256-3072.jwks;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/rs256-4096.jwks;
        embed_session_strip_token on;
        proxy_set_header X-Embed-Sub $embed_session_kid;
        proxy_pass http://unix:$TEST_NGINX_HTML_DIR/backend.sock;
    }
--- pipelined_requests eval
["GET /r/a", "GET /r/b"]
--- more_headers eval
["X-Session-Token: " . token(key => 'rs256-3072')
 . "\nOrigin: https://app.example.com",
 "X-Session-Token: " . token(key => 'rs256-4096')
 . "\nOrigin: https://app.example.com"]
--- response_body eval
["sub=[rs3072-1] tok=[]\n", "sub=[rs4096-1] tok=[]\n"]
--- no_error_log
[error]



=== TEST 24: control: an RSA key of more than 4096 bits (4098) fails nginx -t
--- config
    location /r/ {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/bad-rsa-4098.jwks;
        return 200;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*bad-rsa-4098\.jwks.*\bbig-rsa\b/
