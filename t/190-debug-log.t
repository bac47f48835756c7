# vim:set ft= ts=4 sw=4 et fdm=marker:

# Debug logging (issue 13 item 5): with nginx built --with-debug and the
# error log at level debug (or debug_connection), the module traces each
# step of a request: the token source chosen, cache miss then hit, the kid
# and its key, the signature, the token's verdict, the store's verdict,
# API-key lookups, each mint step, a refresh, a revoke, a preflight, the
# URL exchange.  Never a secret:
# no line of the module holds a raw API key or a token (nginx core's own
# debug lines do print request headers, a secret among them: that is the
# debug log's nature, and why it is for test machines).
#
# Skipped when the nginx binary was built without --with-debug (the
# ngx_log_debug lines compile away); tools/test runs it in its "debug"
# stage against build/debug (tools/setup debug).

use FindBin;
use lib "$FindBin::Bin/lib";
use EmbedSessionTest;
use EmbedSessionMint;
use EmbedSessionLifecycle;

BEGIN {
    my $bin = $ENV{TEST_NGINX_BINARY} || 'nginx';
    my $v = `$bin -V 2>&1`;

    if ($v !~ /--with-debug\b/) {
        Test::More::plan(skip_all => "$bin was built without --with-debug");
    }
}

repeat_each(1);
no_shuffle();
log_level('debug');

# a token of hs256.jwks (kid hs256-1), its signature, and one of an
# unknown kid

our $TOK = token(claims => { sub => 'debug-user' });
our $SIG = (split /\./, $TOK)[2];
our $TOK_NOKID = token(claims => { sub => 'debug-user' },
                       header => { kid => 'no-such-kid' });

# a line of the module's that holds S (nginx core's debug lines print the
# request headers, the token's among them)

sub ours_with {
    my ($s) = @_;
    return qr/embed_session[^\n]*\Q$s\E/;
}

# the module's debug lines of the error log so far, their text only

sub debug_lines {
    open my $fh, '<', $Test::Nginx::Util::ErrLogFile or return ();
    my @l;

    while (my $line = <$fh>) {
        push @l, $1 if $line =~ /\[debug\] .*?(embed_session: .*)$/;
    }

    return @l;
}

# whether a module line contains S

sub logged {
    my ($s) = @_;
    return (grep { index($_, $s) >= 0 } debug_lines()) ? 'yes' : 'no';
}

# the token of TEST 1 once more, then the module's debug lines

sub flow_cache {
    my @o;

    push @o, 'the same token again: '
        . st(http('GET', '/t', { 'X-My-Token' => $TOK,
                                 Origin => 'https://app.example.com' }));
    push @o, debug_lines();

    return @o;
}

# a mint, the token verified twice, a refresh, a revoke, the token again:
# what the module's debug lines say at each step

sub flow_trace {
    my ($m) = @_;
    my @o;
    my ($token, $renew, $sid) = @$m{qw(token renew_token session_id)};
    my $tsig = (split /\./, $token // '')[2] // 'none';
    my $rsig = (split /\./, $renew // '')[2] // 'none';

    push @o, 'token at /verify: ' . at($token);
    push @o, 'token at /verify again: ' . at($token);
    push @o, 'store: sid not revoked: '
        . logged("embed_session: store: sid $sid not revoked");
    push @o, 'refresh: ' . st(refresh($renew));
    push @o, 'refresh: store: sid renewed: '
        . logged("embed_session: refresh: store: sid $sid renewed");
    push @o, 'revoke: ' . st(revoke($sid, 'acme'));
    push @o, 'revoke: store: sid revoked: '
        . logged("embed_session: revoke: store: sid $sid revoked");
    push @o, 'token at /verify after the revoke: ' . at($token);
    push @o, 'store: sid revoked: '
        . logged("embed_session: store: sid $sid revoked");

    # never a secret in a line of the module's
    push @o, 'raw API key in a module line: ' . logged($KEY{acme});
    push @o, 'token signature in a module line: ' . logged($tsig);
    push @o, 'renew token signature in a module line: ' . logged($rsig);

    return @o;
}

run_tests();

Test::More::done_testing();

__DATA__

=== TEST 1: verify: the token source chosen, the kid and its key, cache miss then hit
--- http_config
    # the verifier alone: no API keys, no store
--- config
    location = /t {
        embed_session_verify  on;
        embed_session_keys    $TEST_NGINX_ES_DATA/keys/hs256.jwks;
        embed_session_token   $cookie_session $http_x_my_token;
    }
--- user_files
>>> t
ok
--- more_headers eval
"X-My-Token: $::TOK\nOrigin: https://app.example.com"
--- request
GET /t
--- response_body_filters eval
::flow(\&::flow_cache)
--- response_body
the same token again: 200
embed_session: token from "$http_x_my_token"
embed_session: cache miss
embed_session: kid "hs256-1" key found
embed_session: signature verified
embed_session: token verified
embed_session: token from "$http_x_my_token"
embed_session: cache hit
embed_session: token verified
--- no_error_log eval
["[error]", ::ours_with($::SIG)]



=== TEST 2: verify: an unknown kid
--- http_config
    # the verifier alone: no API keys, no store
--- config
    location = /t {
        embed_session_verify  on;
        embed_session_keys    $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }
--- user_files
>>> t
ok
--- more_headers eval
"X-Session-Token: $::TOK_NOKID\nOrigin: https://app.example.com"
--- request
GET /t
--- error_code: 401
--- grep_error_log eval
qr/\[debug\] .*?\Kembed_session: .*/
--- grep_error_log_out
embed_session: token from "$http_x_session_token"
embed_session: cache miss
embed_session: kid "no-such-kid" not found
embed_session: token refused: unknown "kid"
--- no_error_log
[error]



=== TEST 3: verify: no token
--- http_config
    # the verifier alone: no API keys, no store
--- config
    location = /t {
        embed_session_verify  on;
        embed_session_keys    $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }
--- user_files
>>> t
ok
--- more_headers
Origin: https://app.example.com
--- request
GET /t
--- error_code: 401
--- grep_error_log eval
qr/\[debug\] .*?\Kembed_session: .*/
--- grep_error_log_out
embed_session: no token
--- no_error_log
[error]



=== TEST 4: mint: the API-key lookup and each mint step, the raw key never in a line of the module's
--- request eval
"POST /mint\n$::MINT_BODY"
--- error_code: 201
--- grep_error_log eval
qr/embed_session: (?:API key lookup .*|mint: (?!claims).*|mint: claims built)/
--- grep_error_log_out
embed_session: API key lookup "lc_Acme0001": found, id "acme", valid
embed_session: mint: body read, 59 bytes
embed_session: mint: field 0 "user" checked, present
embed_session: mint: field 1 "allowedOrigins" checked, present
embed_session: mint: field 2 "ttlSeconds" checked, absent
embed_session: mint: body checked, 0 problem(s)
embed_session: mint: authorized for API key "acme"
embed_session: mint: claims built
embed_session: mint: stored in zone "sessions"
embed_session: mint: session token signed, 432 bytes
embed_session: mint: renew token signed, 430 bytes
--- no_error_log eval
["[error]", "[alert]", ::ours_with($::KEY{acme})]



=== TEST 5: an API-key lookup without a match: the lookup, never the key
--- request eval
"POST /mint\n$::MINT_BODY"
--- more_headers eval
"Authorization: Bearer lc_Nobody01ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ\nContent-Type: application/json"
--- error_code: 401
--- error_log
embed_session: API key lookup "lc_Nobody01": no match
--- no_error_log eval
["[error]", ::ours_with('lc_Nobody01ZZZZ')]



=== TEST 6: the store's verdicts: a token verified, refreshed, revoked, verified again
--- request eval
"POST /mint\n$::MINT_BODY"
--- error_code: 201
--- response_body_filters eval
::flow(\&::flow_trace)
--- response_body
token at /verify: 200
token at /verify again: 200
store: sid not revoked: yes
refresh: 200
refresh: store: sid renewed: yes
revoke: 200
revoke: store: sid revoked: yes
token at /verify after the revoke: 401 SESSION_REVOKED
store: sid revoked: yes
raw API key in a module line: no
token signature in a module line: no
renew token signature in a module line: no
--- error_log
embed_session: cache miss
embed_session: cache hit



=== TEST 7: browsers: a preflight answered
--- http_config
    # the verifier alone: no API keys, no store
--- config
    location = /p {
        embed_session_verify  on;
        embed_session_keys    $TEST_NGINX_ES_DATA/keys/hs256.jwks;
        embed_session_cors    https://app.example.com;
    }
--- request
OPTIONS /p
--- more_headers
Origin: https://app.example.com
Access-Control-Request-Method: GET
Access-Control-Request-Headers: X-Session-Token
--- error_code: 204
--- grep_error_log eval
qr/\[debug\] .*?\Kembed_session: .*/
--- grep_error_log_out
embed_session: preflight answered: origin "https://app.example.com", method "GET"
--- no_error_log
[error]



=== TEST 8: browsers: a token from the URL traded for a cookie
--- http_config
    # the verifier alone: no API keys, no store
--- config
    location /u/ {
        embed_session_verify        on;
        embed_session_keys          $TEST_NGINX_ES_DATA/keys/hs256.jwks;
        embed_session_token         $arg_token $cookie_es;
        embed_session_cookie        es;
        embed_session_url_exchange  on;
        # the exchange answers first: nothing reaches this
        proxy_pass  http://127.0.0.1:1;
    }
--- request eval
"GET /u/page?token=$::TOK"
--- more_headers
Origin: https://app.example.com
--- error_code: 302
--- grep_error_log eval
qr/\[debug\] .*?\Kembed_session: (?:token from|url exchange).*/
--- grep_error_log_out
embed_session: token from "$arg_token"
embed_session: url exchange: token from the URL traded for cookie "es"
--- no_error_log eval
["[error]", ::ours_with($::SIG)]
