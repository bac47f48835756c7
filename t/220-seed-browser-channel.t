# Seed contract: the browser channel (shared/seeds 002 "Create a session
# token (browser channel)"), served by configuration alone, the
# configuration of conf-examples/browser-channel.conf with test paths.
#
# POST /api/v1/sessions with "Authorization: Bearer <API key>" from a
# browser mints a one-hour session token bound to the key and to the
# calling Origin: 201 {"data":{"sessionToken","expiresAt"}}; errors in the
# nested envelope {"error":{"code","message","details"}}: 401
# API_KEY_REQUIRED / INVALID / REVOKED / EXPIRED, 403 ORIGIN_NOT_ALLOWED,
# SCOPE_NOT_GRANTED, TENANT_SUSPENDED, SUBSCRIPTION_CANCELLED,
# SUBSCRIPTION_PAST_DUE, MODULE_NOT_ENABLED, 429 RATE_LIMITED with
# Retry-After and X-RateLimit-*.  The write endpoints then take the token
# in X-Session-Token from that origin only (SESSION_REQUIRED / INVALID /
# EXPIRED, ORIGIN_NOT_ALLOWED from another origin), while a server without
# Origin uses its API key ("server-to-server callers do not need
# sessions": embed_session_browser_channel).  CORS is the module's.
#
# Every minted token is decoded and its signature checked by an independent
# implementation (Crypt::JWT), and a Crypt::JWT token passes the verifier.
# Key state changes (the rate window), so every request is sent once
# (repeat_each 1); every block starts a fresh nginx with a fresh key file.

use FindBin;
use lib "$FindBin::Bin/lib";
use EmbedSessionTest;
use EmbedSessionMint;

use Crypt::JWT qw(encode_jwt);
use JSON::PP ();

repeat_each(1);
no_shuffle();

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

our $JSON = JSON::PP->new->canonical;

our $ISS = 'https://demo.yourapp.com';
our $AUD = 'browser-channel';
our $APP = 'https://app.example.com';
our $ADMIN = 'https://admin.example.com';
our $EVIL = 'https://evil.example.com';


# API keys ###################################################################
#
# Raw keys: ck_live_ + 40 of [A-Za-z0-9], sent as "Authorization: Bearer",
# made and stored by new_key() and stored() of EmbedSessionMint.

# a key in good standing: the sessions grant, the sessions module enabled

my $GOOD = 'grants=sessions:create flags=module:sessions';

our %K;

my @RECORDS = (
    ['live',        "scope=browser tenant=t_1 $GOOD origins=$APP,$ADMIN"],
    ['any-origin',  "scope=browser tenant=t_1 $GOOD"],
    ['revoked',     "scope=browser tenant=t_1 $GOOD origins=$APP "
                    . 'status=revoked'],
    ['expired',     "scope=browser tenant=t_1 $GOOD origins=$APP "
                    . 'expires=' . (time - 60)],
    ['suspended',   "scope=browser tenant=t_2 grants=sessions:create "
                    . "flags=module:sessions,tenant_suspended origins=$APP"],
    ['cancelled',   "scope=browser tenant=t_3 grants=sessions:create "
                    . "flags=module:sessions,subscription_cancelled "
                    . "origins=$APP"],
    ['past-due',    "scope=browser tenant=t_4 grants=sessions:create "
                    . "flags=subscription_past_due,module:sessions "
                    . "origins=$APP"],
    ['no-module',   "scope=browser tenant=t_5 grants=sessions:create "
                    . "origins=$APP"],
    ['no-scope',    "scope=browser tenant=t_6 grants=contacts:read "
                    . "flags=module:sessions origins=$APP"],
    ['rate',        "scope=browser tenant=t_1 $GOOD origins=$APP "
                    . 'rate=2/h'],
);

our $KEYS = "# browser channel API keys.  Made by t/220-seed-browser-channel.t\n";

for my $r (@RECORDS) {
    my ($id, $rest) = @$r;

    $K{$id} = new_key('ck_live_');
    $KEYS .= "$id key=" . stored($K{$id}) . " $rest\n";
}

our $UNKNOWN = new_key('ck_live_');

# request headers: the key as a bearer credential, and an Origin

sub bearer {
    my ($id, $origin) = @_;

    return "Authorization: Bearer $K{$id}"
           . (defined $origin ? "\nOrigin: $origin" : '');
}

{
    no strict 'refs';

    for my $name (qw(bearer)) {
        *{"Test::Base::Filter::$name"} = \&{$name};
    }
}


# checks #####################################################################
#
# "--- json_check eval" is EmbedSessionMint's.

# {"error":{"code","message"[,"details":[{"path","message"}]]}}

sub nested_error {
    my ($j, $name, $code, $details) = @_;

    Test::More::is(CORE::join(',', keys %$j), 'error',
                   "$name - only \"error\" at the top");

    my $e = $j->{error};

    Test::More::ok(ref $e eq 'HASH', "$name - error is an object") or return;
    Test::More::is($e->{code}, $code, "$name - error.code");
    Test::More::ok(defined $e->{message} && !ref $e->{message}
                   && length $e->{message}, "$name - error.message");

    my @extra = grep { !/\A(?:code|message|details)\z/ } keys %$e;
    Test::More::is("@extra", '', "$name - only code, message, details");

    Test::More::ok(!defined $e->{details} || ref $e->{details} eq 'ARRAY',
                   "$name - details, when present, an array");

    return unless $details;

    my @paths = map { $_->{path} } @{ $e->{details} // [] };

    for my $p (ref $details ? @$details : $details) {
        Test::More::ok((grep { defined && $_ eq $p } @paths),
                       "$name - details has path \"$p\"")
            or Test::More::diag("paths: @paths");
    }

    for my $d (@{ $e->{details} // [] }) {
        Test::More::ok(defined $d->{message} && length $d->{message},
                       "$name - details[].message");
    }
}

# the public half of t/data/keys/ed25519.jwks, for Crypt::JWT

our $PUB = do { my %k = %{ jwk('ed25519') }; delete $k{d}; \%k };

# the 201 body and the token behind it; returns the token

sub minted {
    my ($j, $name, %e) = @_;

    Test::More::is(CORE::join(',', keys %$j), 'data',
                   "$name - only \"data\" at the top");

    my $d = $j->{data} // {};

    Test::More::is(CORE::join(',', sort keys %$d), 'expiresAt,sessionToken',
                   "$name - data has sessionToken and expiresAt");

    my $t = $d->{sessionToken} // '';

    return $t unless length $t;

    my ($h, $c) = decode_token($t, $name, key => $PUB, alg => 'EdDSA',
                               iss => $ISS, aud => $AUD);

    Test::More::is_deeply($h, { alg => 'EdDSA', kid => 'ed-1',
                                typ => 'embed-session+jwt' },
                          "$name - JOSE header");
    Test::More::is($c->{iss}, $ISS, "$name - iss");
    Test::More::is($c->{aud}, $AUD, "$name - aud");
    Test::More::ok(defined $c->{iat} && abs($c->{iat} - time) <= 5,
                   "$name - iat is now");
    Test::More::is(($c->{exp} // 0) - ($c->{iat} // 0), 3600,
                   "$name - one hour");
    Test::More::like($c->{jti} // '',
                     qr/\A[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\z/,
                     "$name - jti is a UUID v4");
    Test::More::is_deeply($c->{origins}, [$e{origin}],
                          "$name - bound to the calling origin");
    Test::More::is($c->{sub}, $e{key}, "$name - sub is the key id");
    Test::More::is($c->{tenant}, $e{tenant} // 't_1', "$name - tenant");
    iso_ok($d->{expiresAt}, $c->{exp} // 0, $name);

    return $t;
}

# the minted token on the verifier: from its origin it passes, from
# another (even one the key lists) 403 ORIGIN_NOT_ALLOWED

sub use_token {
    my ($t, $name, $origin, $other) = @_;

    my $r = http('POST', '/api/v1/contacts',
                 { 'x-session-token' => $t, origin => $origin,
                   'content-type' => 'application/json' }, '{}');

    Test::More::is($r->{status}, 200, "$name - token from $origin: 200");
    Test::More::like($r->{content}, qr/^sub=\S+ tenant=\S+ origin=\Q$origin\E token=$/,
                     "$name - verified claims upstream, token stripped");

    $r = http('POST', '/api/v1/contacts',
              { 'x-session-token' => $t, origin => $other,
                'content-type' => 'application/json' }, '{}');

    Test::More::is($r->{status}, 403, "$name - token from $other: 403");
    nested_error($r->{json} // {}, "$name - from $other",
                 'ORIGIN_NOT_ALLOWED');

    $r = http('POST', '/api/v1/contacts', { origin => $origin }, '{}');
    Test::More::is($r->{status}, 401, "$name - no token: 401");
    nested_error($r->{json} // {}, "$name - no token", 'SESSION_REQUIRED');

    my @s = split /\./, $t;
    my $sig = b64url_decode($s[2] // '');
    substr($sig, 0, 1) = chr(ord(substr($sig, 0, 1)) ^ 1) if length $sig;
    my $bad = "$s[0].$s[1]." . b64url_encode($sig);

    $r = http('POST', '/api/v1/contacts',
              { 'x-session-token' => $bad, origin => $origin }, '{}');
    Test::More::is($r->{status}, 401, "$name - tampered token: 401");
    nested_error($r->{json} // {}, "$name - tampered", 'SESSION_INVALID');

    $r = http('POST', '/api/v1/contacts',
              { 'authorization' => "Bearer $t", origin => $origin }, '{}');
    Test::More::is($r->{status}, 401,
                   "$name - the token as a bearer credential: 401");
}

# a token made by Crypt::JWT with the private fixture key

sub ind_token {
    my (%claims) = @_;
    my $now = time;

    return encode_jwt(
        alg => 'EdDSA', key => { %{ jwk('ed25519') } },
        extra_headers => { kid => 'ed-1', typ => 'embed-session+jwt' },
        payload => { iss => $ISS, aud => $AUD, sub => 'live',
                     tenant => 't_1', iat => $now, exp => $now + 3600,
                     jti => 'ind-' . $now, origins => [$APP], %claims });
}

{
    no strict 'refs';

    for my $name (qw(minted nested_error use_token ind_token)) {
        *{"Test::Base::Filter::$name"} = \&{$name};
    }
}


# configuration ##############################################################
#
# What conf-examples/browser-channel.conf says, with test paths: the
# upstream is a location of this server (/backend/).

our $HTTP_CONFIG = <<'_EOC_';
    embed_session_api_keys zone=browser_channel:1m
                           file=$TEST_NGINX_HTML_DIR/browser-channel.keys;
_EOC_

our $CONFIG = <<'_EOC_';
    embed_session_keys      $TEST_NGINX_ES_DATA/keys/ed25519.jwks;
    embed_session_issuer    https://demo.yourapp.com;
    embed_session_audience  browser-channel;

    embed_session_error_format  nested;

    location = /api/v1/sessions {
        # CORS preflight: answered by the module, before the access phase
        embed_session_cors          any;
        embed_session_cors_methods  POST;
        embed_session_cors_headers  Authorization Content-Type;
        embed_session_cors_expose   Retry-After X-RateLimit-Limit
                                    X-RateLimit-Remaining X-RateLimit-Reset;

        embed_session_api_key       browser_channel;
        embed_session_api_key_from  bearer;

        embed_session_api_key_deny  flag=tenant_suspended        403 TENANT_SUSPENDED        "Tenant suspended";
        embed_session_api_key_deny  flag=subscription_cancelled  403 SUBSCRIPTION_CANCELLED  "Subscription cancelled";
        embed_session_api_key_deny  flag=subscription_past_due   403 SUBSCRIPTION_PAST_DUE   "Subscription past due";
        embed_session_api_key_deny  !flag=module:sessions        403 MODULE_NOT_ENABLED      "Module not enabled";
        embed_session_api_key_deny  !grant=sessions:create       403 SCOPE_NOT_GRANTED       "API key lacks the sessions:create scope";

        embed_session_mint          on;
        embed_session_mint_origins  request;
        embed_session_mint_unknown  reject;
        embed_session_mint_ttl      3600 max=3600;

        embed_session_mint_claim  sub     $embed_session_api_key_id;
        embed_session_mint_claim  tenant  $embed_session_api_key_tenant;

        embed_session_mint_status  201;
        embed_session_mint_output  data.sessionToken  token;
        embed_session_mint_output  data.expiresAt     expires_at;
    }

    location /api/v1/ {
        embed_session_browser_channel  on;

        embed_session_verify        on;
        embed_session_token         $http_x_session_token;
        embed_session_max_lifetime  1h;

        embed_session_api_key       browser_channel;
        embed_session_api_key_from  bearer;

        embed_session_cors          any;
        embed_session_cors_headers  X-Session-Token Content-Type;

        proxy_set_header  X-Embed-Sub      $embed_session_sub$embed_session_api_key_id;
        proxy_set_header  X-Embed-Tenant   $embed_session_tenant$embed_session_api_key_tenant;
        proxy_set_header  X-Embed-Origin   $embed_session_origin;
        proxy_set_header  X-Session-Token  "";
        proxy_pass  http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
    }

    location /backend/ {
        return 200 "sub=$http_x_embed_sub tenant=$http_x_embed_tenant origin=$http_x_embed_origin token=$http_x_session_token\n";
    }
_EOC_

add_block_preprocessor(sub {
    my $block = shift;

    $block->set_value('http_config', $HTTP_CONFIG)
        unless defined $block->http_config;

    $block->set_value('config', $CONFIG) unless defined $block->config;

    $block->set_value('user_files', ">>> browser-channel.keys\n$KEYS"
                                    . ($block->user_files // ''));

    if (!defined $block->request && !defined $block->pipelined_requests) {
        $block->set_value('request', "POST /api/v1/sessions\n{}");
    }

    if (!defined $block->more_headers) {
        $block->set_value('more_headers', bearer('live', $APP)
                                          . "\nContent-Type: application/json");
    }

    if (!defined $block->no_error_log && !defined $block->error_log) {
        $block->set_value('no_error_log', "[error]\n");
    }
});

run_tests();

Test::More::done_testing();

__DATA__

=== TEST 1: the seed's request (an empty JSON body): 201 {"data":{"sessionToken","expiresAt"}}, one hour, bound to the Origin
--- error_code: 201
--- response_headers
Content-Type: application/json
--- response_body_like chomp
^\{"data":\{"sessionToken":"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+","expiresAt":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.000)?Z"\}\}\n?$
--- json_check eval
sub { ::minted(@_, key => 'live', origin => 'https://app.example.com') }
--- no_error_log
[error]



=== TEST 2: the minted token passes the write endpoint with X-Session-Token from its origin only
--- error_code: 201
--- json_check eval
sub {
    my $t = ::minted(@_, key => 'live', origin => 'https://app.example.com')
        or return;
    ::use_token($t, $_[1], 'https://app.example.com',
                'https://admin.example.com');
}
--- no_error_log
[error]



=== TEST 3: minted from the key's other origin: bound to that one
--- more_headers eval
bearer('live', 'https://admin.example.com')
--- error_code: 201
--- json_check eval
sub {
    my $t = ::minted(@_, key => 'live', origin => 'https://admin.example.com')
        or return;
    ::use_token($t, $_[1], 'https://admin.example.com',
                'https://app.example.com');
}
--- no_error_log
[error]



=== TEST 4: a key that lists no origins: any calling origin, and the token is bound to it
--- more_headers eval
bearer('any-origin', 'http://localhost:5173')
--- error_code: 201
--- json_check eval
sub {
    my $t = ::minted(@_, key => 'any-origin', origin => 'http://localhost:5173')
        or return;
    ::use_token($t, $_[1], 'http://localhost:5173', 'https://app.example.com');
}
--- no_error_log
[error]



=== TEST 5: the seed's curl exactly: POST without a body is the same request
--- request
POST /api/v1/sessions
--- more_headers eval
bearer('live', 'https://app.example.com')
--- error_code: 201
--- json_check eval
sub { ::minted(@_, key => 'live', origin => 'https://app.example.com') }
--- no_error_log
[error]



=== TEST 6: 403 ORIGIN_NOT_ALLOWED: another origin, no Origin, "null", an origin with a path
--- pipelined_requests eval
[("POST /api/v1/sessions\n{}") x 4]
--- more_headers eval
[bearer('live', 'https://evil.example.com'), bearer('live'),
 bearer('live', 'null'), bearer('live', 'https://app.example.com/x')]
--- error_code eval
[403, 403, 403, 403]
--- response_headers eval
[("Content-Type: application/json") x 4]
--- json_check eval
[(sub { ::nested_error(@_, 'ORIGIN_NOT_ALLOWED') }) x 4]



=== TEST 7: 401 API_KEY_REQUIRED: no Authorization, another scheme
--- pipelined_requests eval
[("POST /api/v1/sessions\n{}") x 2]
--- more_headers eval
["Origin: https://app.example.com",
 "Authorization: Basic dXNlcjpwYXNz\nOrigin: https://app.example.com"]
--- error_code eval
[401, 401]
--- response_body_like eval
[('^\{"error":\{"code":"API_KEY_REQUIRED","message":"[^"]+"(?:,"details":\[\])?\}\}\n?$') x 2]
--- json_check eval
[(sub { ::nested_error(@_, 'API_KEY_REQUIRED') }) x 2]



=== TEST 8: 401 API_KEY_INVALID: an unknown key, garbage, a key one character off
--- pipelined_requests eval
[("POST /api/v1/sessions\n{}") x 3]
--- more_headers eval
["Authorization: Bearer $::UNKNOWN\nOrigin: https://app.example.com",
 "Authorization: Bearer not-a-key\nOrigin: https://app.example.com",
 "Authorization: Bearer " . substr($::K{live}, 0, -1)
 . (substr($::K{live}, -1) eq 'A' ? 'B' : 'A')
 . "\nOrigin: https://app.example.com"]
--- error_code eval
[401, 401, 401]
--- json_check eval
[(sub { ::nested_error(@_, 'API_KEY_INVALID') }) x 3]



=== TEST 9: 401 API_KEY_REVOKED, API_KEY_EXPIRED
--- pipelined_requests eval
[("POST /api/v1/sessions\n{}") x 2]
--- more_headers eval
[bearer('revoked', 'https://app.example.com'),
 bearer('expired', 'https://app.example.com')]
--- error_code eval
[401, 401]
--- json_check eval
[sub { ::nested_error(@_, 'API_KEY_REVOKED') },
 sub { ::nested_error(@_, 'API_KEY_EXPIRED') }]



=== TEST 10: 403 account issues: TENANT_SUSPENDED, SUBSCRIPTION_CANCELLED, SUBSCRIPTION_PAST_DUE, MODULE_NOT_ENABLED
--- pipelined_requests eval
[("POST /api/v1/sessions\n{}") x 4]
--- more_headers eval
[map { bearer($_, 'https://app.example.com') }
     qw(suspended cancelled past-due no-module)]
--- error_code eval
[403, 403, 403, 403]
--- response_body_like eval
['^\{"error":\{"code":"TENANT_SUSPENDED","message":"Tenant suspended"',
 '^\{"error":\{"code":"SUBSCRIPTION_CANCELLED","message":"Subscription cancelled"',
 '^\{"error":\{"code":"SUBSCRIPTION_PAST_DUE","message":"Subscription past due"',
 '^\{"error":\{"code":"MODULE_NOT_ENABLED","message":"Module not enabled"']
--- json_check eval
[sub { ::nested_error(@_, 'TENANT_SUSPENDED') },
 sub { ::nested_error(@_, 'SUBSCRIPTION_CANCELLED') },
 sub { ::nested_error(@_, 'SUBSCRIPTION_PAST_DUE') },
 sub { ::nested_error(@_, 'MODULE_NOT_ENABLED') }]



=== TEST 11: 403 SCOPE_NOT_GRANTED: a key without the sessions grant
--- more_headers eval
bearer('no-scope', 'https://app.example.com')
--- error_code: 403
--- json_check eval
sub { ::nested_error(@_, 'SCOPE_NOT_GRANTED') }



=== TEST 12: account checks come before the origin check
--- more_headers eval
bearer('suspended', 'https://evil.example.com')
--- error_code: 403
--- json_check eval
sub { ::nested_error(@_, 'TENANT_SUSPENDED') }



=== TEST 13: 429 RATE_LIMITED with Retry-After; X-RateLimit-* on every response of the key
--- pipelined_requests eval
[("POST /api/v1/sessions\n{}") x 4]
--- more_headers eval
[bearer('rate', 'https://app.example.com'),
 bearer('rate', 'https://evil.example.com'),
 bearer('rate', 'https://app.example.com'),
 bearer('rate', 'https://app.example.com')]
--- error_code eval
[201, 403, 429, 429]
--- response_headers_like eval
["X-RateLimit-Limit: 2\nX-RateLimit-Remaining: 1\nX-RateLimit-Reset: \\d{10}",
 "X-RateLimit-Limit: 2\nX-RateLimit-Remaining: 0\nX-RateLimit-Reset: \\d{10}",
 "X-RateLimit-Limit: 2\nX-RateLimit-Remaining: 0\nX-RateLimit-Reset: \\d{10}\nRetry-After: \\d+",
 "X-RateLimit-Limit: 2\nX-RateLimit-Remaining: 0\nX-RateLimit-Reset: \\d{10}\nRetry-After: \\d+"]
--- json_check eval
[sub { ::minted(@_, key => 'rate', origin => 'https://app.example.com') },
 sub { ::nested_error(@_, 'ORIGIN_NOT_ALLOWED') },
 sub { ::nested_error(@_, 'RATE_LIMITED') },
 sub {
     my ($j, $name) = @_;
     ::nested_error($j, $name, 'RATE_LIMITED');
     my $r = ::http('POST', '/api/v1/sessions',
                    { authorization => "Bearer $::K{rate}",
                      origin => 'https://app.example.com' });
     my $now = time;
     ::Test::More::is($r->{status}, 429, "$name - still 429");
     my $reset = $r->{headers}{'x-ratelimit-reset'} // 0;
     my $after = $r->{headers}{'retry-after'} // -1;
     ::Test::More::ok($reset > $now - 1 && $reset <= $now + 3600 + 1,
                      "$name - X-RateLimit-Reset ($reset) within the hour");
     ::Test::More::ok($after >= 0 && $after <= 3600,
                      "$name - Retry-After ($after) at most an hour");
     ::Test::More::ok(abs($now + $after - $reset) <= 2,
                      "$name - now + Retry-After = X-RateLimit-Reset");
     ::Test::More::is($r->{headers}{'access-control-expose-headers'},
                      'Retry-After, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset',
                      "$name - the browser may read them");
 }]
--- no_error_log
[error]



=== TEST 14: a key without a rate has no X-RateLimit-* headers
--- error_code: 201
--- response_headers
!X-RateLimit-Limit
!X-RateLimit-Remaining
!X-RateLimit-Reset
!Retry-After
--- no_error_log
[error]



=== TEST 15: a body with members: 400 VALIDATION_FAILED with details; not JSON: 400 INVALID_JSON
--- pipelined_requests eval
["POST /api/v1/sessions\n{\"origins\":[\"https://evil.example.com\"]}",
 "POST /api/v1/sessions\n{\"ttl\":"]
--- more_headers eval
[(bearer('live', 'https://app.example.com')
  . "\nContent-Type: application/json") x 2]
--- error_code eval
[400, 400]
--- response_body_like eval
['^\{"error":\{"code":"VALIDATION_FAILED","message":"[^"]+","details":\[\{"path":"origins","message":"[^"]+"\}\]\}\}\n?$',
 '^\{"error":\{"code":"INVALID_JSON","message":"[^"]+"']
--- json_check eval
[sub { ::nested_error(@_, 'VALIDATION_FAILED', 'origins') },
 sub { ::nested_error(@_, 'INVALID_JSON') }]



=== TEST 16: GET /api/v1/sessions: 405, Allow: POST
--- request
GET /api/v1/sessions
--- error_code: 405
--- response_headers
Allow: POST
--- json_check eval
sub { ::nested_error(@_, 'METHOD_NOT_ALLOWED') }



=== TEST 17: CORS preflight of the mint request
--- request
OPTIONS /api/v1/sessions
--- more_headers
Origin: https://app.example.com
Access-Control-Request-Method: POST
Access-Control-Request-Headers: authorization
--- error_code: 204
--- response_headers
Access-Control-Allow-Origin: https://app.example.com
Access-Control-Allow-Methods: POST
Access-Control-Allow-Headers: Authorization, Content-Type
--- no_error_log
[error]



=== TEST 18: the write endpoint: a Crypt::JWT token passes; expired, none, another origin, another typ fail
--- pipelined_requests eval
[("POST /api/v1/contacts\n{}") x 5]
--- more_headers eval
["X-Session-Token: " . ind_token() . "\nOrigin: https://app.example.com",
 "X-Session-Token: " . ind_token(iat => time - 7200, exp => time - 3600)
 . "\nOrigin: https://app.example.com",
 "Origin: https://app.example.com",
 "X-Session-Token: " . ind_token() . "\nOrigin: https://evil.example.com",
 "X-Session-Token: " . Crypt::JWT::encode_jwt(
     alg => 'EdDSA', key => { %{ EmbedSessionTest::jwk('ed25519') } },
     extra_headers => { kid => 'ed-1', typ => 'JWT' },
     payload => { iss => 'https://demo.yourapp.com', aud => 'browser-channel',
                  iat => time, exp => time + 600,
                  origins => ['https://app.example.com'] })
 . "\nOrigin: https://app.example.com"]
--- error_code eval
[200, 401, 401, 403, 401]
--- response_body_like eval
['^sub=live tenant=t_1 origin=https://app.example.com token=$',
 '^\{"error":\{"code":"SESSION_EXPIRED",',
 '^\{"error":\{"code":"SESSION_REQUIRED",',
 '^\{"error":\{"code":"ORIGIN_NOT_ALLOWED",',
 '^\{"error":\{"code":"SESSION_INVALID",']
--- json_check eval
[undef,
 sub { ::nested_error(@_, 'SESSION_EXPIRED') },
 sub { ::nested_error(@_, 'SESSION_REQUIRED') },
 sub { ::nested_error(@_, 'ORIGIN_NOT_ALLOWED') },
 sub { ::nested_error(@_, 'SESSION_INVALID') }]



=== TEST 19: an API key is not a session: the write endpoint refuses it
--- request
POST /api/v1/contacts
{}
--- more_headers eval
"X-Session-Token: $::K{live}\nOrigin: https://app.example.com"
--- error_code: 401
--- json_check eval
sub { ::nested_error(@_, 'SESSION_INVALID') }



=== TEST 20: the browser channel: a server's API key without Origin passes; from a browser the API key is not enough
--- pipelined_requests eval
[("POST /api/v1/contacts\n{}") x 5]
--- more_headers eval
[bearer('live'),
 bearer('live', 'https://app.example.com'),
 bearer('live') . "\nSec-Fetch-Site: same-origin",
 "Content-Type: application/json",
 bearer('revoked')]
--- error_code eval
[200, 401, 401, 401, 401]
--- response_body_like eval
['^sub=live tenant=t_1 origin= token=$',
 '^\{"error":\{"code":"SESSION_REQUIRED",',
 '^\{"error":\{"code":"SESSION_REQUIRED",',
 '^\{"error":\{"code":"API_KEY_REQUIRED",',
 '^\{"error":\{"code":"API_KEY_REVOKED",']
--- no_error_log
[error]



=== TEST 21: the page reads its new token: Access-Control-Allow-Origin for its origin, and for the module's errors
--- pipelined_requests eval
[("POST /api/v1/sessions\n{}") x 2]
--- more_headers eval
[bearer('live', 'https://app.example.com'),
 bearer('live', 'https://evil.example.com')]
--- error_code eval
[201, 403]
--- response_headers eval
["Access-Control-Allow-Origin: https://app.example.com\nVary: Origin\n"
 . "Access-Control-Expose-Headers: Retry-After, X-RateLimit-Limit, "
 . "X-RateLimit-Remaining, X-RateLimit-Reset",
 "Access-Control-Allow-Origin: https://evil.example.com\nVary: Origin"]
--- no_error_log
[error]



=== TEST 22: preflight of a write endpoint at the edge: X-Session-Token allowed
--- request
OPTIONS /api/v1/contacts
--- more_headers
Origin: https://app.example.com
Access-Control-Request-Method: POST
Access-Control-Request-Headers: content-type,x-session-token
--- error_code: 204
--- response_headers
Access-Control-Allow-Origin: https://app.example.com
Access-Control-Allow-Headers: X-Session-Token, Content-Type
--- response_body_like: ^$
--- no_error_log
[error]



=== TEST 23: preflight of a write endpoint: Authorization is not among its headers
--- request
OPTIONS /api/v1/contacts
--- more_headers
Origin: https://app.example.com
Access-Control-Request-Method: POST
Access-Control-Request-Headers: authorization
--- error_code: 403
--- response_headers
Access-Control-Allow-Origin:
--- json_check eval
sub { ::nested_error(@_, 'PREFLIGHT_REFUSED') }
