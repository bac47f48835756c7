# Seed contract: Pilot Status (shared/seeds 000 "Create embed session" and
# 001 "API Authentication"), served by configuration alone:
# conf-examples/pilot-status.conf as shipped (t/lib/EmbedSessionExample.pm:
# only ports, key paths and the lines Test::Nginx writes itself change),
# with an echo server as its application.
#
# Plays the seed's documented requests: POST /v1/embed/sessions with
# x-api-key or x-api-key-id (never Authorization: Bearer), the schema rules
# (surface chat|connect, allowedOrigins 1..20 exact origins, ttlSeconds up
# to 3600 with 900 chat / 1800 connect defaults, whatsappNumberIds limited
# to a number key's own number and required for a tenant key on chat,
# brandingOverride), both forms a client may send where the schema and
# the example disagree (ttlSeconds 900 or "900", arrays or a JSON array in
# a string), the 201 body, the flat error envelope {error, code},
# 401 "Unauthorized", 400 "Validation error", 429 "Too many requests",
# the scope table for both key kinds over every endpoint family the seed
# names (TENANT_SCOPE_NOT_ALLOWED with the seed's body,
# NUMBER_SCOPE_NOT_ALLOWED) and POST /v1/api-keys/regenerate; the seed's
# "Refresh via POST /api/public/embed/refresh": the session token from the
# browser (X-Session-Token, an allowed Origin, no API key) for the next
# one, the replaced token refused, never past the session's hour; and the
# browser side over HTTP: CORS preflights and Access-Control-Allow-Origin
# on the refresh and the embed API, the iframe document's URL exchange,
# and the iframe's own API calls (/embed/api/: the partitioned cookie as
# the credential, same-origin fetches only, the old cookie refused after a
# refresh).  t/browser/pilot.mjs plays the same flow in Chromium.
#
# Every minted token is decoded and its signature checked by an independent
# implementation (Crypt::JWT).  Key state changes (regeneration, the rate
# window), so every request is sent once (repeat_each 1); every block
# starts a fresh nginx with a fresh key file.

use FindBin;
use lib "$FindBin::Bin/lib";
use EmbedSessionTest;
use EmbedSessionMint;
use EmbedSessionExample;

use JSON::PP ();

repeat_each(1);
no_shuffle();

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

our $JSON = JSON::PP->new->canonical;

our $ISS = 'https://pilotstatus.com.br';
our $AUD = 'pilot-status-embed';
our $ORIGIN = 'https://app.tenant.com';
our $NUM_A = 'num_01HZXAAAA';
our $NUM_B = 'num_01HZXBBBB';


# API keys ###################################################################
#
# Raw keys: ps_ + 40 of [A-Za-z0-9] (x-api-key), psid_ + 40 (x-api-key-id),
# made and stored by new_key() and stored() of EmbedSessionMint.

# id => [fields after key= and id_key=], has an id_key

our %K;

my @RECORDS = (
    ['num-a',      1, "scope=number tenant=t_acme resources=$NUM_A"],
    ['num-b',      0, "scope=number tenant=t_acme resources=$NUM_B"],
    ['tenant',     1, 'scope=tenant tenant=t_acme'],
    ['num-rate',   0, "scope=number tenant=t_acme resources=$NUM_A "
                      . 'rate=3/h'],
    ['num-revoked', 0, "scope=number tenant=t_acme resources=$NUM_A "
                      . 'status=revoked'],
    ['num-expired', 0, "scope=number tenant=t_acme resources=$NUM_A "
                      . 'expires=' . (time - 3600)],
);

our $KEYS = "# Pilot Status API keys: number-scoped (one per WhatsApp number)\n"
            . "# and the tenant's singleton.  Made by t/210-seed-pilot-status.t\n"
            . "\n";

for my $r (@RECORDS) {
    my ($id, $with_id, $rest) = @$r;

    $K{$id}{key} = new_key('ps_');
    $K{$id}{id} = new_key('psid_') if $with_id;

    $KEYS .= "$id key=" . stored($K{$id}{key})
             . ($with_id ? ' id_key=' . stored($K{$id}{id}) : '')
             . " $rest\n";

    $KEYS .= "\n# the tenant key: /v1/numbers/* and /v1/remote-pairing/*\n"
        if $id eq 'num-b';
}

# a key of the right shape that is in no record

our $UNKNOWN = new_key('ps_');

sub key   { "x-api-key: $K{$_[0]}{key}" }
sub keyid { "x-api-key-id: $K{$_[0]}{id}" }

# "--- more_headers eval" and "--- request eval" run in Test::Base::Filter

{
    no strict 'refs';

    for my $name (qw(key keyid body mint)) {
        *{"Test::Base::Filter::$name"} = \&{$name};
    }
}


# requests ###################################################################

sub body {
    my ($doc) = @_;
    return ref $doc ? $JSON->encode($doc) : $doc;
}

# the seed's example request, with members replaced or removed (undef)

sub mint {
    my (%o) = @_;

    my %doc = (
        surface => 'chat',
        whatsappNumberIds => [$NUM_A],
        allowedOrigins => [$ORIGIN],
        ttlSeconds => 900,
    );

    while (my ($k, $v) = each %o) {
        if (defined $v) {
            $doc{$k} = $v;
        } else {
            delete $doc{$k};
        }
    }

    return "POST /v1/embed/sessions\n" . $JSON->encode(\%doc);
}


# checks #####################################################################
#
# "--- json_check eval" is EmbedSessionMint's.

# {"error": MESSAGE, "code": CODE} (+ details)

sub flat_error {
    my ($j, $name, $code, $message, $details) = @_;

    Test::More::is($j->{code}, $code, "$name - code");
    Test::More::is($j->{error}, $message, "$name - error");

    my @extra = grep { !/\A(?:error|code|details)\z/ } keys %$j;
    Test::More::is("@extra", '', "$name - only error, code, details");

    return unless $details;

    my $got = $j->{details};

    Test::More::ok(ref $got eq 'ARRAY' && @$got, "$name - details")
        or return;

    my @paths = map { $_->{path} } @$got;

    for my $p (ref $details ? @$details : $details) {
        Test::More::ok((grep { defined && $_ eq $p } @paths),
                       "$name - details has path \"$p\"")
            or Test::More::diag("paths: @paths");
    }

    for my $d (@$got) {
        Test::More::ok(defined $d->{message} && !ref $d->{message}
                       && length $d->{message},
                       "$name - details[].message for "
                       . ($d->{path} // '(none)'));
    }
}

# the HS256 secret of t/data/keys/hs256.jwks, for Crypt::JWT

our $SECRET = b64url_decode(jwk('hs256')->{k});

# the 201 body of the seed and the token behind it
#
#   key: the record id; surface; numbers: the expected whatsappNumberIds
#   (undef: absent from body and token); origins; ttl; branding

sub minted {
    my ($j, $name, %e) = @_;

    my @members = (qw(token surface allowedOrigins expiresAt expiresIn),
                   defined $e{numbers} ? 'whatsappNumberIds' : ());

    Test::More::is(CORE::join(',', sort keys %$j), join(',', sort @members),
                   "$name - members of the 201 body");

    Test::More::like($j->{token} // '',
                     qr/\A[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\z/,
                     "$name - token is a compact JWS");

    return unless defined $j->{token};

    my ($h, $c) = decode_token($j->{token} // '', $name, key => $SECRET,
                               alg => 'HS256', iss => $ISS, aud => $AUD);

    Test::More::is_deeply($h, { alg => 'HS256', kid => 'hs256-1',
                                typ => 'embed-session+jwt' },
                          "$name - JOSE header");

    Test::More::is($c->{iss}, $ISS, "$name - iss");
    Test::More::is($c->{aud}, $AUD, "$name - aud");
    Test::More::ok(defined $c->{iat} && abs($c->{iat} - time) <= 5,
                   "$name - iat is now");
    Test::More::is(($c->{exp} // 0) - ($c->{iat} // 0), $e{ttl},
                   "$name - exp - iat = $e{ttl}");
    Test::More::like($c->{jti} // '',
                     qr/\A[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\z/,
                     "$name - jti is a UUID v4");
    Test::More::is_deeply($c->{origins}, $e{origins}, "$name - origins claim");
    Test::More::is($c->{surface}, $e{surface}, "$name - surface claim");
    Test::More::is_deeply($c->{whatsappNumberIds}, $e{numbers},
                          "$name - whatsappNumberIds claim");
    Test::More::is_deeply($c->{branding}, $e{branding},
                          "$name - branding claim");
    Test::More::is($c->{tenant}, 't_acme', "$name - tenant claim");
    Test::More::is($c->{api_key_id}, $e{key}, "$name - api_key_id claim");

    Test::More::is($j->{surface}, $e{surface}, "$name - surface echoed");
    Test::More::is_deeply($j->{whatsappNumberIds}, $e{numbers},
                          "$name - whatsappNumberIds echoed");
    Test::More::is_deeply($j->{allowedOrigins}, $e{origins},
                          "$name - allowedOrigins echoed");
    Test::More::is($j->{expiresAt}, iso($c->{exp} // 0),
                   "$name - expiresAt is exp, ISO 8601 with milliseconds");
    Test::More::is($j->{expiresIn}, $e{ttl}, "$name - expiresIn");

    return $c;
}

{
    no strict 'refs';

    for my $name (qw(minted flat_error)) {
        *{"Test::Base::Filter::$name"} = \&{$name};
    }
}


# the session lifecycle ######################################################
#
# POST /api/public/embed/refresh as the embed SDK sends it: the session
# token in X-Session-Token, the page's Origin (undef: none), no API key

our $REFRESH_URI = '/api/public/embed/refresh';

sub refresh {
    my ($token, $origin) = @_;

    $origin = $ORIGIN if @_ < 2;

    return http('POST', $REFRESH_URI,
                { defined $token ? ('x-session-token' => $token) : (),
                  defined $origin ? (origin => $origin) : () });
}

# a call of the embed API (the SDK's, with X-Session-Token) from the
# allowed origin

our $EMBED_API = '/embed/chat/conversations';

sub embed {
    my ($token) = @_;

    return http('GET', $EMBED_API,
                { 'x-session-token' => $token, origin => $ORIGIN });
}

# "STATUS CODE", or "STATUS ok" for a 2xx

sub outcome {
    my ($res) = @_;

    return "$res->{status} ok" if $res->{status} =~ /^2/;
    return "$res->{status} " . ($res->{json}{code} // $res->{content});
}

# the claims of a token (signature checked), or {}

sub claims_of {
    my ($jws) = @_;

    my (undef, $c) = eval {
        Crypt::JWT::decode_jwt(token => $jws // '', key => $SECRET,
                               decode_header => 1, accepted_alg => ['HS256'],
                               verify_exp => 0);
    };

    return $c // {};
}

# a token signed with the fixture secret as the mint signs them: the claims
# of $c with those given replaced, the header's typ optional

sub forged {
    my ($c, $typ, %claims) = @_;

    return sign_token(key => jwk('hs256'),
                      header => { typ => $typ // 'embed-session+jwt' },
                      claims => { %$c, %claims });
}

# a refresh: 200 and the mint's shape, a token of the same session that
# replaces the one sent; returns the new token's claims
#
#   refreshed($res, $name, ttl => SECONDS, from => the old token's claims)

sub refreshed {
    my ($res, $name, %e) = @_;

    Test::More::is($res->{status}, 200, "$name - refresh: 200")
        or Test::More::diag($res->{content});
    Test::More::like($res->{content} // '',
        qr/\A\{"token":"[^"]+","expiresAt":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z","expiresIn":\d+\}\n?\z/,
        "$name - refresh: the mint's members, in order");
    Test::More::like($res->{headers}{'content-type'} // '',
                     qr{\Aapplication/json}, "$name - refresh: JSON");

    my $j = $res->{json} // {};

    my ($h, $c) = decode_token($j->{token} // '', "$name - refresh",
                               key => $SECRET, alg => 'HS256', iss => $ISS,
                               aud => $AUD);

    Test::More::is_deeply($h, { alg => 'HS256', kid => 'hs256-1',
                                typ => 'embed-session+jwt' },
                          "$name - refresh: JOSE header");

    my $old = $e{from};

    Test::More::like($c->{jti} // '',
                     qr/\A[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\z/,
                     "$name - refresh: jti is a UUID v4");
    Test::More::isnt($c->{jti}, $old->{jti}, "$name - refresh: a new jti");
    Test::More::ok(defined $c->{sid} && $c->{sid} eq ($old->{sid} // ''),
                   "$name - refresh: the same sid");
    Test::More::ok(defined $c->{iat} && abs($c->{iat} - time) <= 5,
                   "$name - refresh: iat is now");
    Test::More::is($c->{exp} - $c->{iat}, $e{ttl},
                   "$name - refresh: exp - iat = $e{ttl}")
        if defined $e{ttl};

    my %a = %$old;
    my %b = %$c;
    delete @a{qw(iat exp jti)};
    delete @b{qw(iat exp jti)};
    Test::More::is_deeply(\%b, \%a,
                          "$name - refresh: the other claims are the mint's");

    Test::More::is($j->{expiresAt}, iso($c->{exp} // 0),
                   "$name - refresh: expiresAt is exp");
    Test::More::is($j->{expiresIn}, ($c->{exp} // 0) - ($c->{iat} // 0),
                   "$name - refresh: expiresIn is exp - iat");

    return $c;
}

# a request without following redirects (the URL exchange's 302)

sub raw {
    my ($method, $path, $headers, $content) = @_;

    my $res = HTTP::Tiny->new(timeout => 30, max_redirect => 0)->request(
        $method, 'http://127.0.0.1:' . Test::Nginx::Util::server_port()
                 . $path,
        { headers => $headers // {},
          defined $content ? (content => $content) : () });

    $res->{json} = eval { JSON::PP->new->decode($res->{content}) };

    return $res;
}

# a CORS preflight as Chromium sends it for a call with X-Session-Token

sub preflight {
    my ($path, $method, $origin) = @_;

    return raw('OPTIONS', $path,
               { origin => $origin // $ORIGIN,
                 'access-control-request-method' => $method,
                 'access-control-request-headers'
                     => 'content-type,x-session-token' });
}

# the iframe's document request: no Origin, the host page as Referer

sub frame {
    my ($path, %h) = @_;

    return raw('GET', $path, { 'sec-fetch-dest' => 'iframe',
                               'sec-fetch-site' => 'cross-site',
                               referer => "$ORIGIN/inbox", %h });
}

# a call of the iframe's own API (/embed/api/...) as the chat document in
# the frame makes it with fetch(): same-origin, the document as Referer,
# the partitioned cookie; a header given as undef is not sent

our $FRAME_API = '/embed/api/chat/conversations';

sub inframe {
    my ($method, $path, $cookie, %h) = @_;

    my $self = 'http://127.0.0.1:' . Test::Nginx::Util::server_port();
    my %headers = ('sec-fetch-site' => 'same-origin',
                   'sec-fetch-dest' => 'empty',
                   referer => "$self/embed/chat",
                   defined $cookie ? (cookie => $cookie) : (),
                   $method eq 'POST' ? (origin => $self) : (),
                   %h);

    delete @headers{grep { !defined $headers{$_} } keys %headers};

    return raw($method, $path, \%headers,
               $method eq 'POST' ? '{"text":"hi"}' : undef);
}

{
    no strict 'refs';

    for my $name (qw(refresh embed outcome claims_of forged refreshed raw
                     preflight frame inframe))
    {
        *{"Test::Base::Filter::$name"} = \&{$name};
    }
}


# configuration ##############################################################
#
# conf-examples/pilot-status.conf as shipped (EmbedSessionExample): only its
# ports, the two key files and the main-level lines Test::Nginx writes
# change.  The application behind it (upstream pilot_api, 127.0.0.1:9000 in
# the file) is a server of each block's http_config that echoes what
# reached it: the URI, the headers the example sets, and the ones that must
# not arrive (the API key, the session token, the cookie).

our %FILES = (
    'keys/hs256.jwks'        => '$TEST_NGINX_ES_DATA/keys/hs256.jwks',
    'keys/pilot-status.keys' => '$TEST_NGINX_HTML_DIR/pilot.keys',
);

use_example('pilot-status', files => \%FILES);

our $UPSTREAM_PORT = example_port(9000);

our $UPSTREAM = <<"_EOC_";
    # the application (pilot_api): an echo
    server {
        listen  127.0.0.1:$UPSTREAM_PORT;

        location / {
            default_type  text/plain;
            return 200 "uri=\$request_uri key=\$http_x_pilot_key_id scope=\$http_x_pilot_key_scope tenant=\$http_x_pilot_tenant x-api-key=\$http_x_api_key x-api-key-id=\$http_x_api_key_id session=\$http_x_embed_session token=\$http_x_session_token authorization=\$http_authorization cookie=\$http_cookie embed-tenant=\$http_x_embed_tenant\\n";
        }
    }
_EOC_

# TEST 45 only: the example with the session's hour made 8 seconds and its
# tokens 4 (a session's end may not come before its longest token's; wide
# enough for a run under valgrind), since no test waits an hour.  Every
# other line is the example's.

our ($MAIN_8S, $HTTP_8S) = example_config('pilot-status', files => \%FILES);

$HTTP_8S =~ s/embed_session_mint_lifetime\s+1h;/embed_session_mint_lifetime  8s;/
    or die "no \"embed_session_mint_lifetime 1h\" in the example\n";
$HTTP_8S =~ s/embed_session_mint_ttl\s+900 max=3600;/embed_session_mint_ttl  4 max=8;/g == 2
    or die "not two \"embed_session_mint_ttl 900 max=3600\" in the example\n";
$HTTP_8S =~ s/(embed_session_mint_ttl_if\s+surface\s+\w+\s+)\d+;/${1}4;/g == 2
    or die "not two \"embed_session_mint_ttl_if\" in the example\n";

add_block_preprocessor(sub {
    my $block = shift;

    if (defined $block->short_session) {
        $block->set_value('main_config',
                          ($block->main_config // '') . $MAIN_8S);
        $block->set_value('http_config', $HTTP_8S);
        $block->set_value('config', "# the example's servers\n");
    }

    $block->set_value('http_config',
                      ($block->http_config // '') . $UPSTREAM);

    $block->set_value('user_files', ">>> pilot.keys\n$KEYS"
                                    . ($block->user_files // ''));

    if (!defined $block->more_headers) {
        $block->set_value('more_headers',
                          key('num-a') . "\nContent-Type: application/json");
    }

    if (!defined $block->no_error_log && !defined $block->error_log) {
        $block->set_value('no_error_log', "[error]\n");
    }
});

run_tests();

Test::More::done_testing();

__DATA__

=== TEST 1: the seed's example request with x-api-key: 201 and its body
--- request eval
mint()
--- error_code: 201
--- response_headers
Content-Type: application/json
--- response_body_like chomp
^\{"token":"[^"]+","surface":"chat","whatsappNumberIds":\["num_01HZXAAAA"\],"allowedOrigins":\["https://app.tenant.com"\],"expiresAt":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z","expiresIn":900\}\n?$
--- json_check eval
sub { ::minted(@_, key => 'num-a', surface => 'chat', ttl => 900,
               numbers => ['num_01HZXAAAA'],
               origins => ['https://app.tenant.com']) }
--- no_error_log
[error]



=== TEST 2: the same request with x-api-key-id
--- request eval
mint()
--- more_headers eval
keyid('num-a') . "\nContent-Type: application/json"
--- error_code: 201
--- json_check eval
sub { ::minted(@_, key => 'num-a', surface => 'chat', ttl => 900,
               numbers => ['num_01HZXAAAA'],
               origins => ['https://app.tenant.com']) }
--- no_error_log
[error]



=== TEST 3: surface connect: default TTL 1800 (exp - iat, expiresIn)
--- request eval
mint(surface => 'connect', ttlSeconds => undef)
--- error_code: 201
--- json_check eval
sub { ::minted(@_, key => 'num-a', surface => 'connect', ttl => 1800,
               numbers => ['num_01HZXAAAA'],
               origins => ['https://app.tenant.com']) }
--- no_error_log
[error]



=== TEST 4: surface chat without ttlSeconds: default TTL 900
--- request eval
mint(ttlSeconds => undef)
--- error_code: 201
--- json_check eval
sub { ::minted(@_, key => 'num-a', surface => 'chat', ttl => 900,
               numbers => ['num_01HZXAAAA'],
               origins => ['https://app.tenant.com']) }
--- no_error_log
[error]



=== TEST 5: ttlSeconds 600 and 3600 (the maximum) are the token's lifetime
--- pipelined_requests eval
[mint(ttlSeconds => 600), mint(surface => 'connect', ttlSeconds => 3600)]
--- error_code eval
[201, 201]
--- json_check eval
[sub { ::minted(@_, key => 'num-a', surface => 'chat', ttl => 600,
                numbers => ['num_01HZXAAAA'],
                origins => ['https://app.tenant.com']) },
 sub { ::minted(@_, key => 'num-a', surface => 'connect', ttl => 3600,
                numbers => ['num_01HZXAAAA'],
                origins => ['https://app.tenant.com']) }]
--- no_error_log
[error]



=== TEST 6: ttlSeconds above 3600, 0, negative: 400 Validation error
--- pipelined_requests eval
[mint(ttlSeconds => 3601), mint(ttlSeconds => 0), mint(ttlSeconds => -5),
 mint(surface => 'connect', ttlSeconds => 86400)]
--- error_code eval
[400, 400, 400, 400]
--- json_check eval
[(sub { ::flat_error(@_, 'VALIDATION_FAILED', 'Validation error',
                     'ttlSeconds') }) x 4]



=== TEST 7: ttlSeconds as a string of digits (the schema's type, its example '900'): the same lifetime as the number the request example sends
--- pipelined_requests eval
[mint(ttlSeconds => '900'), mint(ttlSeconds => 900),
 mint(surface => 'connect', ttlSeconds => '3600')]
--- error_code eval
[201, 201, 201]
--- json_check eval
[(sub { ::minted(@_, key => 'num-a', surface => 'chat', ttl => 900,
                 numbers => ['num_01HZXAAAA'],
                 origins => ['https://app.tenant.com']) }) x 2,
 sub { ::minted(@_, key => 'num-a', surface => 'connect', ttl => 3600,
                numbers => ['num_01HZXAAAA'],
                origins => ['https://app.tenant.com']) }]
--- no_error_log
[error]



=== TEST 8: surface missing, not in the enum, not a string
--- pipelined_requests eval
[mint(surface => undef), mint(surface => 'widget'), mint(surface => 'Chat'),
 mint(surface => 1)]
--- error_code eval
[400, 400, 400, 400]
--- response_body_like eval
[('^\{"error":"Validation error","code":"VALIDATION_FAILED","details":\[') x 4]
--- json_check eval
[(sub { ::flat_error(@_, 'VALIDATION_FAILED', 'Validation error',
                     'surface') }) x 4]



=== TEST 9: allowedOrigins missing, empty, 21 origins: 400
--- pipelined_requests eval
[mint(allowedOrigins => undef), mint(allowedOrigins => []),
 mint(allowedOrigins => [map { "https://app$_.tenant.com" } 1 .. 21])]
--- error_code eval
[400, 400, 400]
--- json_check eval
[(sub { ::flat_error(@_, 'VALIDATION_FAILED', 'Validation error',
                     'allowedOrigins') }) x 3]



=== TEST 10: allowedOrigins of 20 origins: 201, all in the token
--- request eval
mint(allowedOrigins => [map { "https://app$_.tenant.com" } 1 .. 20])
--- error_code: 201
--- json_check eval
sub { ::minted(@_, key => 'num-a', surface => 'chat', ttl => 900,
               numbers => ['num_01HZXAAAA'],
               origins => [map { "https://app$_.tenant.com" } 1 .. 20]) }
--- no_error_log
[error]



=== TEST 11: allowedOrigins: "null", a path, a wildcard, userinfo, a query: 400 naming the element
--- pipelined_requests eval
[mint(allowedOrigins => ['null']),
 mint(allowedOrigins => ['https://app.tenant.com', 'https://app.tenant.com/app']),
 mint(allowedOrigins => ['https://a.tenant.com', 'https://b.tenant.com',
                         'https://c.tenant.com', 'https://*.tenant.com']),
 mint(allowedOrigins => ['https://user@app.tenant.com']),
 mint(allowedOrigins => ['https://app.tenant.com?x=1']),
 mint(allowedOrigins => ['app.tenant.com']),
 mint(allowedOrigins => [42])]
--- error_code eval
[(400) x 7]
--- json_check eval
[sub { ::flat_error(@_, 'VALIDATION_FAILED', 'Validation error',
                    'allowedOrigins[0]') },
 sub { ::flat_error(@_, 'VALIDATION_FAILED', 'Validation error',
                    'allowedOrigins[1]') },
 sub { ::flat_error(@_, 'VALIDATION_FAILED', 'Validation error',
                    'allowedOrigins[3]') },
 (sub { ::flat_error(@_, 'VALIDATION_FAILED', 'Validation error',
                     'allowedOrigins[0]') }) x 4]



=== TEST 12: allowedOrigins as a bare origin string, not an array in JSON: refused (both forms the seed shows are arrays)
--- request eval
mint(allowedOrigins => 'https://app.tenant.com')
--- error_code: 400
--- json_check eval
sub { ::flat_error(@_, 'VALIDATION_FAILED', 'Validation error',
                   'allowedOrigins') }



=== TEST 13: allowedOrigins are normalised (case, default port)
--- request eval
mint(allowedOrigins => ['HTTPS://App.Tenant.COM:443', 'http://localhost:3000'])
--- error_code: 201
--- json_check eval
sub { ::minted(@_, key => 'num-a', surface => 'chat', ttl => 900,
               numbers => ['num_01HZXAAAA'],
               origins => ['https://app.tenant.com',
                           'http://localhost:3000']) }
--- no_error_log
[error]



=== TEST 14: a number key without whatsappNumberIds: its own number
--- request eval
mint(whatsappNumberIds => undef)
--- error_code: 201
--- json_check eval
sub { ::minted(@_, key => 'num-a', surface => 'chat', ttl => 900,
               numbers => ['num_01HZXAAAA'],
               origins => ['https://app.tenant.com']) }
--- no_error_log
[error]



=== TEST 15: a number key with another key's number: 403 SCOPE_NOT_GRANTED
--- pipelined_requests eval
[mint(whatsappNumberIds => ['num_01HZXBBBB']),
 mint(whatsappNumberIds => ['num_01HZXAAAA', 'num_01HZXBBBB'])]
--- error_code eval
[403, 403]
--- response_headers eval
["Content-Type: application/json", "Content-Type: application/json"]
--- json_check eval
[(sub { ::Test::More::is($_[0]{code}, 'SCOPE_NOT_GRANTED', "$_[1] - code");
        ::Test::More::ok(!ref $_[0]{error} && length $_[0]{error},
                         "$_[1] - error message") }) x 2]



=== TEST 16: the tenant key on chat with whatsappNumberIds: any of its numbers
--- request eval
mint(whatsappNumberIds => ['num_01HZXAAAA', 'num_01HZXBBBB'])
--- more_headers eval
key('tenant') . "\nContent-Type: application/json"
--- error_code: 201
--- json_check eval
sub { ::minted(@_, key => 'tenant', surface => 'chat', ttl => 900,
               numbers => ['num_01HZXAAAA', 'num_01HZXBBBB'],
               origins => ['https://app.tenant.com']) }
--- no_error_log
[error]



=== TEST 17: the tenant key on chat without whatsappNumberIds: 400 (required for a tenant key)
--- request eval
mint(whatsappNumberIds => undef)
--- more_headers eval
key('tenant') . "\nContent-Type: application/json"
--- error_code: 400
--- json_check eval
sub { ::flat_error(@_, 'VALIDATION_FAILED', 'Validation error',
                   'whatsappNumberIds') }



=== TEST 18: the tenant key on connect without whatsappNumberIds: 201, none in the token
--- request eval
mint(surface => 'connect', whatsappNumberIds => undef, ttlSeconds => undef)
--- more_headers eval
key('tenant') . "\nContent-Type: application/json"
--- error_code: 201
--- json_check eval
sub { ::minted(@_, key => 'tenant', surface => 'connect', ttl => 1800,
               numbers => undef,
               origins => ['https://app.tenant.com']) }
--- no_error_log
[error]



=== TEST 19: whatsappNumberIds of the wrong type: 400
--- pipelined_requests eval
[mint(whatsappNumberIds => 'num_01HZXAAAA'),
 mint(whatsappNumberIds => [1])]
--- error_code eval
[400, 400]
--- json_check eval
[sub { ::flat_error(@_, 'VALIDATION_FAILED', 'Validation error',
                    'whatsappNumberIds') },
 sub { ::flat_error(@_, 'VALIDATION_FAILED', 'Validation error',
                    'whatsappNumberIds[0]') }]



=== TEST 20: brandingOverride becomes the branding claim; null is no override
--- pipelined_requests eval
[mint(brandingOverride => { title => 'Acme support',
                            logoUrl => 'https://cdn.tenant.com/logo.png',
                            colors => { primary => '#0a84ff' } }),
 mint(brandingOverride => JSON::PP::null())]
--- error_code eval
[201, 201]
--- json_check eval
[sub { ::minted(@_, key => 'num-a', surface => 'chat', ttl => 900,
                numbers => ['num_01HZXAAAA'],
                origins => ['https://app.tenant.com'],
                branding => { title => 'Acme support',
                              logoUrl => 'https://cdn.tenant.com/logo.png',
                              colors => { primary => '#0a84ff' } }) },
 sub { ::minted(@_, key => 'num-a', surface => 'chat', ttl => 900,
                numbers => ['num_01HZXAAAA'],
                origins => ['https://app.tenant.com']) }]
--- no_error_log
[error]



=== TEST 21: brandingOverride not an object: 400
--- pipelined_requests eval
[mint(brandingOverride => 'acme'), mint(brandingOverride => ['x'])]
--- error_code eval
[400, 400]
--- json_check eval
[(sub { ::flat_error(@_, 'VALIDATION_FAILED', 'Validation error',
                     'brandingOverride') }) x 2]



=== TEST 22: members the schema does not name are ignored (OpenAPI: additional properties allowed)
--- request eval
mint(locale => 'pt-BR')
--- error_code: 201
--- json_check eval
sub { ::minted(@_, key => 'num-a', surface => 'chat', ttl => 900,
               numbers => ['num_01HZXAAAA'],
               origins => ['https://app.tenant.com']) }
--- no_error_log
[error]



=== TEST 23: a body that is not JSON, or not an object: 400 Validation error
--- pipelined_requests eval
["POST /v1/embed/sessions\n{\"surface\":", "POST /v1/embed/sessions\n[]",
 "POST /v1/embed/sessions\n"]
--- error_code eval
[400, 400, 400]
--- json_check eval
[(sub { ::Test::More::is($_[0]{error}, 'Validation error', "$_[1] - error");
       ::Test::More::like($_[0]{code}, qr/\A(?:INVALID_JSON|VALIDATION_FAILED)\z/,
                          "$_[1] - code") }) x 3]



=== TEST 24: 401 Unauthorized: no key
--- request eval
mint()
--- more_headers
Content-Type: application/json
--- error_code: 401
--- response_body_like chomp
^\{"error":"Unauthorized","code":"API_KEY_REQUIRED"\}\n?$
--- json_check eval
sub { ::flat_error(@_, 'API_KEY_REQUIRED', 'Unauthorized') }



=== TEST 25: 401 Unauthorized: unknown key, garbage, a key id in x-api-key, a raw key in x-api-key-id
--- pipelined_requests eval
[(mint()) x 4]
--- more_headers eval
["x-api-key: $::UNKNOWN\nContent-Type: application/json",
 "x-api-key: ps_notakey\nContent-Type: application/json",
 "x-api-key: $::K{'num-a'}{id}\nContent-Type: application/json",
 "x-api-key-id: $::K{'num-a'}{key}\nContent-Type: application/json"]
--- error_code eval
[401, 401, 401, 401]
--- json_check eval
[(sub { ::flat_error(@_, 'API_KEY_INVALID', 'Unauthorized') }) x 4]



=== TEST 26: 401: both x-api-key and x-api-key-id at once
--- request eval
mint()
--- more_headers eval
key('num-a') . "\n" . keyid('num-a') . "\nContent-Type: application/json"
--- error_code: 401
--- json_check eval
sub { ::flat_error(@_, 'API_KEY_INVALID', 'Unauthorized') }



=== TEST 27: 401: Authorization: Bearer is never accepted, not even with x-api-key
--- pipelined_requests eval
[mint(), mint()]
--- more_headers eval
["Authorization: Bearer $::K{'num-a'}{key}\nContent-Type: application/json",
 "Authorization: Bearer $::K{'num-a'}{key}\n" . key('num-a')
 . "\nContent-Type: application/json"]
--- error_code eval
[401, 401]
--- json_check eval
[(sub { ::flat_error(@_, 'BEARER_NOT_ALLOWED', 'Unauthorized') }) x 2]



=== TEST 28: 401: a revoked key, an expired key
--- pipelined_requests eval
[mint(), mint()]
--- more_headers eval
[key('num-revoked') . "\nContent-Type: application/json",
 key('num-expired') . "\nContent-Type: application/json"]
--- error_code eval
[401, 401]
--- json_check eval
[sub { ::flat_error(@_, 'API_KEY_REVOKED', 'Unauthorized') },
 sub { ::flat_error(@_, 'API_KEY_EXPIRED', 'Unauthorized') }]



=== TEST 29: 429 Too many requests, with the rate limit headers on every response
--- pipelined_requests eval
[(mint()) x 4]
--- more_headers eval
[(key('num-rate') . "\nContent-Type: application/json") x 4]
--- error_code eval
[201, 201, 201, 429]
--- response_headers_like eval
["X-RateLimit-Limit: 3\nX-RateLimit-Remaining: 2\nX-RateLimit-Reset: \\d{10}",
 "X-RateLimit-Limit: 3\nX-RateLimit-Remaining: 1\nX-RateLimit-Reset: \\d{10}",
 "X-RateLimit-Limit: 3\nX-RateLimit-Remaining: 0\nX-RateLimit-Reset: \\d{10}",
 "X-RateLimit-Limit: 3\nX-RateLimit-Remaining: 0\nX-RateLimit-Reset: \\d{10}\nRetry-After: \\d+"]
--- json_check eval
[undef, undef, undef,
 sub { ::flat_error(@_, 'RATE_LIMITED', 'Too many requests') }]
--- no_error_log
[error]



=== TEST 30: 429: Retry-After and X-RateLimit-Reset agree with the window
--- pipelined_requests eval
[(mint()) x 4]
--- more_headers eval
[(key('num-rate') . "\nContent-Type: application/json") x 4]
--- error_code eval
[201, 201, 201, 429]
--- json_check eval
[undef, undef, undef,
 sub {
     my ($j, $name) = @_;
     my $r = ::http('POST', '/v1/embed/sessions',
                    { 'x-api-key' => $::K{'num-rate'}{key},
                      'content-type' => 'application/json' },
                    '{"surface":"chat","allowedOrigins":["https://app.tenant.com"]}');
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
 }]



=== TEST 31: the mint endpoint is POST only
--- request
GET /v1/embed/sessions
--- error_code: 405
--- response_headers
Allow: POST
--- json_check eval
sub { ::Test::More::is($_[0]{code}, 'METHOD_NOT_ALLOWED', "$_[1] - code") }



=== TEST 32: number-scoped endpoint: a number key passes, the key never reaches the upstream
--- request
POST /v1/messages/send
{"to":"+5511999999999","text":"hi"}
--- more_headers eval
key('num-a') . "\nContent-Type: application/json"
--- error_code: 200
--- response_body
uri=/v1/messages/send key=num-a scope=number tenant=t_acme x-api-key= x-api-key-id= session= token= authorization= cookie= embed-tenant=
--- no_error_log
[error]



=== TEST 33: number-scoped endpoint with the tenant key: 403 TENANT_SCOPE_NOT_ALLOWED, the seed's body
--- pipelined_requests eval
["POST /v1/messages/send\n{}", "GET /v1/messages/msg_abc"]
--- more_headers eval
[key('tenant') . "\nContent-Type: application/json",
 keyid('tenant')]
--- error_code eval
[403, 403]
--- response_body_like eval
[('^\{"error":"This endpoint requires a number-scoped API key","code":"TENANT_SCOPE_NOT_ALLOWED"\}\n?$') x 2]
--- json_check eval
[(sub { ::flat_error(@_, 'TENANT_SCOPE_NOT_ALLOWED',
                     'This endpoint requires a number-scoped API key') }) x 2]



=== TEST 34: tenant-only endpoint: the tenant key passes, a number key gets 403 NUMBER_SCOPE_NOT_ALLOWED
--- pipelined_requests eval
["GET /v1/numbers", "GET /v1/numbers/num_01HZXAAAA/status"]
--- more_headers eval
[key('tenant'), key('num-a')]
--- error_code eval
[200, 403]
--- response_body_like eval
['^uri=/v1/numbers key=tenant scope=tenant tenant=t_acme x-api-key= x-api-key-id= ',
 '^\{"error":"[^"]+","code":"NUMBER_SCOPE_NOT_ALLOWED"\}\n?$']
--- json_check eval
[undef,
 sub { ::flat_error(@_, 'NUMBER_SCOPE_NOT_ALLOWED',
                    'This endpoint requires a tenant-scoped API key') }]



=== TEST 35: guarded endpoints without a key: 401 Unauthorized
--- pipelined_requests eval
["GET /v1/messages/msg_abc", "GET /v1/numbers"]
--- more_headers eval
["", ""]
--- error_code eval
[401, 401]
--- json_check eval
[(sub { ::flat_error(@_, 'API_KEY_REQUIRED', 'Unauthorized') }) x 2]



=== TEST 36: POST /v1/api-keys/regenerate: the new key once, the old key and key id then 401, the file rewritten
--- request
POST /v1/api-keys/regenerate
--- more_headers eval
key('num-a')
--- error_code: 200
--- response_headers
Content-Type: application/json
--- json_check eval
sub {
    my ($j, $name) = @_;
    my $old = $::K{'num-a'};

    Test::More::is(CORE::join(',', sort keys %$j), 'apiKey,apiKeyId,id',
                    "$name - members");
    Test::More::is($j->{id}, 'num-a', "$name - id");
    Test::More::like($j->{apiKey} // '', qr/\Aps_[A-Za-z0-9]{40}\z/,
                      "$name - apiKey: ps_ + 40");
    Test::More::like($j->{apiKeyId} // '', qr/\Apsid_[A-Za-z0-9]{40}\z/,
                      "$name - apiKeyId: psid_ + 40");
    Test::More::isnt($j->{apiKey}, $old->{key}, "$name - a new key");

    my $mint = '{"surface":"chat","whatsappNumberIds":["num_01HZXAAAA"],'
               . '"allowedOrigins":["https://app.tenant.com"]}';
    my %json = ('content-type' => 'application/json');

    for my $c (['x-api-key', $old->{key}, 'old key'],
               ['x-api-key-id', $old->{id}, 'old key id'])
    {
        my $r = ::http('POST', '/v1/embed/sessions',
                       { $c->[0] => $c->[1], %json }, $mint);
        Test::More::is($r->{status}, 401, "$name - $c->[2]: 401");
        Test::More::is($r->{json}{error}, 'Unauthorized',
                        "$name - $c->[2]: Unauthorized");
        Test::More::is($r->{json}{code}, 'API_KEY_INVALID',
                        "$name - $c->[2]: API_KEY_INVALID");
    }

    for my $c (['x-api-key', $j->{apiKey}, 'new key'],
               ['x-api-key-id', $j->{apiKeyId}, 'new key id'])
    {
        my $r = ::http('POST', '/v1/embed/sessions',
                       { $c->[0] => $c->[1], %json }, $mint);
        Test::More::is($r->{status}, 201, "$name - $c->[2]: 201");
        Test::More::is_deeply($r->{json}{whatsappNumberIds},
                               ['num_01HZXAAAA'],
                               "$name - $c->[2]: the same number");
    }

    my $r = ::http('POST', '/v1/api-keys/regenerate',
                   { 'x-api-key' => $old->{key} });
    Test::More::is($r->{status}, 401,
                    "$name - regenerate again with the old key: 401");

    # the file: the num-a line has the new hashes, every other line
    # (comments and blank lines too) is what it was

    my $path = "$ENV{TEST_NGINX_HTML_DIR}/pilot.keys";
    open my $fh, '<', $path or die "$path: $!";
    my @now = <$fh>;
    close $fh;
    my @was = split /^/m, $::KEYS;

    Test::More::is(scalar @now, scalar @was, "$name - same line count");

    for my $i (0 .. $#was) {
        if ($was[$i] =~ /\Anum-a /) {
            my $line = $now[$i] // '';
            Test::More::like($line, qr/\Anum-a /, "$name - num-a line in place");
            Test::More::ok(index($line, 'key=' . ::stored($j->{apiKey})) >= 0,
                            "$name - key= is the new key's LOOKUP:HEX");
            Test::More::ok(index($line, 'id_key=' . ::stored($j->{apiKeyId})) >= 0,
                            "$name - id_key= is the new key id's LOOKUP:HEX");
            Test::More::ok(index($line, $j->{apiKey}) < 0,
                            "$name - no raw key in the file");
            Test::More::like($line, qr/ scope=number tenant=t_acme resources=num_01HZXAAAA\n\z/,
                              "$name - the other fields kept");
        } else {
            Test::More::is($now[$i], $was[$i], "$name - line " . ($i + 1) . " kept");
        }
    }
}
--- no_error_log
[error]



=== TEST 37: regenerate with the key id as the credential works the same
--- request
POST /v1/api-keys/regenerate
--- more_headers eval
keyid('num-a')
--- error_code: 200
--- json_check eval
sub {
    my ($j, $name) = @_;
    ::Test::More::is($j->{id}, 'num-a', "$name - id");
    ::Test::More::like($j->{apiKey} // '', qr/\Aps_[A-Za-z0-9]{40}\z/,
                       "$name - apiKey");
    my $r = ::http('GET', '/v1/messages/msg_abc',
                   { 'x-api-key-id' => $::K{'num-a'}{id} });
    ::Test::More::is($r->{status}, 401, "$name - old key id: 401");
    $r = ::http('GET', '/v1/messages/msg_abc', { 'x-api-key' => $j->{apiKey} });
    ::Test::More::is($r->{status}, 200, "$name - new key: 200");
}
--- no_error_log
[error]



=== TEST 38: regenerate: a key without id_key gets no apiKeyId; the tenant key is refused; no key: 401
--- pipelined_requests eval
[("POST /v1/api-keys/regenerate") x 3]
--- more_headers eval
[key('num-b'), key('tenant'), ""]
--- error_code eval
[200, 403, 401]
--- json_check eval
[sub { ::Test::More::is(CORE::join(',', sort keys %{$_[0]}), 'apiKey,id',
                        "$_[1] - id and apiKey only") },
 sub { ::flat_error(@_, 'TENANT_SCOPE_NOT_ALLOWED',
                    'This endpoint requires a number-scoped API key') },
 sub { ::flat_error(@_, 'API_KEY_REQUIRED', 'Unauthorized') }]



=== TEST 39: regenerate is POST only
--- request
GET /v1/api-keys/regenerate
--- more_headers eval
key('num-a')
--- error_code: 405
--- response_headers
Allow: POST



=== TEST 40: the minted token opens the embed from an allowed origin, not from another
--- request eval
mint(allowedOrigins => ['https://app.tenant.com'])
--- error_code: 201
--- json_check eval
sub {
    my ($j, $name) = @_;
    my $t = $j->{token} // '';
    my $r = ::http('GET', $::EMBED_API,
                   { 'x-session-token' => $t, origin => 'https://app.tenant.com' });
    ::Test::More::is($r->{status}, 200, "$name - allowed origin: 200");
    $r = ::http('GET', $::EMBED_API,
                { 'x-session-token' => $t, origin => 'https://evil.example.com' });
    ::Test::More::is($r->{status}, 403, "$name - other origin: 403");
    ::Test::More::is($r->{json}{code}, 'ORIGIN_NOT_ALLOWED',
                     "$name - other origin: ORIGIN_NOT_ALLOWED");
}
--- no_error_log
[error]



=== TEST 41: POST /api/public/embed/refresh with the session token from an allowed origin: 200 and the mint's shape, the next token of the same session; the replaced token is refused by the embed
--- request eval
mint()
--- error_code: 201
--- json_check eval
sub {
    my ($j, $name) = @_;
    my $c0 = ::claims_of($j->{token});

    ::Test::More::like($c0->{sid} // '', qr/\A[0-9a-f-]{36}\z/,
                       "$name - the minted token has a sid");
    ::Test::More::is($c0->{sid}, $c0->{jti}, "$name - sid = jti at the mint");

    my $r = ::refresh($j->{token});
    my $c1 = ::refreshed($r, "$name (1)", ttl => 900, from => $c0);

    ::Test::More::is(::outcome(::embed($r->{json}{token})), '200 ok',
                     "$name - the embed: the new token passes");
    ::Test::More::is(::outcome(::embed($j->{token})), '401 SESSION_REVOKED',
                     "$name - the embed: the minted token is refused");
    ::Test::More::is(::outcome(::refresh($r->{json}{token})), '200 ok',
                     "$name - the new token refreshes in turn");
    ::Test::More::is(::outcome(::embed($r->{json}{token})),
                     '401 SESSION_REVOKED',
                     "$name - ... and is then refused");
}
--- no_error_log
[error]



=== TEST 42: the refresh checks the origin as the embed does: another origin, or none, is 403 ORIGIN_NOT_ALLOWED and changes nothing; every allowedOrigin may refresh
--- request eval
mint(allowedOrigins => ['https://app.tenant.com', 'https://admin.tenant.com'])
--- error_code: 201
--- json_check eval
sub {
    my ($j, $name) = @_;
    my $t = $j->{token};

    ::Test::More::is(::outcome(::refresh($t, 'https://evil.example.com')),
                     '403 ORIGIN_NOT_ALLOWED', "$name - another origin");
    ::Test::More::is(::outcome(::refresh($t, 'https://app.tenant.com.evil.com')),
                     '403 ORIGIN_NOT_ALLOWED', "$name - a lookalike origin");
    ::Test::More::is(::outcome(::refresh($t, 'null')),
                     '403 ORIGIN_NOT_ALLOWED', "$name - Origin: null");
    ::Test::More::is(::outcome(::refresh($t, undef)),
                     '403 ORIGIN_NOT_ALLOWED', "$name - no Origin");
    ::Test::More::is(::outcome(::embed($t)), '200 ok',
                     "$name - the token still opens the embed");

    my $r = ::refresh($t, 'https://admin.tenant.com');
    ::refreshed($r, "$name (admin origin)", ttl => 900,
                from => ::claims_of($t));
}
--- no_error_log
[error]



=== TEST 43: refresh errors: no token 401 SESSION_REQUIRED; malformed, altered, a renew-type token 401 SESSION_INVALID; expired 401 SESSION_EXPIRED; a session the store does not know 404 SESSION_NOT_FOUND; POST only
--- request eval
mint()
--- error_code: 201
--- json_check eval
sub {
    my ($j, $name) = @_;
    my $t = $j->{token};
    my $c = ::claims_of($t);
    my $now = time;

    my ($hd, $pl, $sig) = split /\./, $t;
    my $doc = JSON::PP->new->decode(::b64url_decode($pl));
    $doc->{whatsappNumberIds} = ['num_01HZXBBBB'];
    my $altered = CORE::join '.', $hd,
        ::b64url_encode(JSON::PP->new->encode($doc)), $sig;

    my @cases = (
        ['no token', undef, '401 SESSION_REQUIRED'],
        ['not a token', 'eyJhbGciOiJIUzI1NiJ9.e30.x', '401 SESSION_INVALID'],
        ['payload altered', $altered, '401 SESSION_INVALID'],
        ['typ embed-renew+jwt', ::forged($c, 'embed-renew+jwt'),
         '401 SESSION_INVALID'],
        ['expired', ::forged($c, undef, iat => $now - 3000,
                             exp => $now - 600),
         '401 SESSION_EXPIRED'],
        ['unknown session',
         ::forged($c, undef, sid => 'c2d3e4f5-a6b7-4c8d-9e0f-1a2b3c4d5e6f',
                  jti => 'c2d3e4f5-a6b7-4c8d-9e0f-1a2b3c4d5e6f'),
         '404 SESSION_NOT_FOUND'],
    );

    for my $case (@cases) {
        my ($what, $token, $want) = @$case;
        ::Test::More::is(::outcome(::refresh($token)), $want,
                         "$name - $what");
    }

    my $get = ::http('GET', $::REFRESH_URI,
                     { 'x-session-token' => $t, origin => $::ORIGIN });
    ::Test::More::is(::outcome($get), '405 METHOD_NOT_ALLOWED', "$name - GET");
    ::Test::More::is($get->{headers}{allow}, 'POST', "$name - GET: Allow");

    ::refreshed(::refresh($t), "$name - after all that", ttl => 900,
                from => $c);
}
--- no_error_log
[error]



=== TEST 44: a replaced token sent again: at once, the same new token (a retry); an older one revokes the session, 401 RENEW_TOKEN_REUSED, and every token of it is refused
--- request eval
mint()
--- error_code: 201
--- json_check eval
sub {
    my ($j, $name) = @_;
    my $t0 = $j->{token};

    my $r1 = ::refresh($t0);
    ::Test::More::is(::outcome($r1), '200 ok', "$name - refresh 1");

    my $again = ::refresh($t0);
    ::Test::More::is(::outcome($again), '200 ok', "$name - refresh 1 again");
    ::Test::More::is($again->{json}{token}, $r1->{json}{token},
                     "$name - refresh 1 again: the same token");

    my $r2 = ::refresh($r1->{json}{token});
    ::Test::More::is(::outcome($r2), '200 ok', "$name - refresh 2");

    ::Test::More::is(::outcome(::refresh($t0)), '401 RENEW_TOKEN_REUSED',
                     "$name - the minted token again");
    ::Test::More::is(::outcome(::refresh($r2->{json}{token})),
                     '401 SESSION_REVOKED',
                     "$name - the newest token cannot refresh");
    ::Test::More::is(::outcome(::embed($r2->{json}{token})),
                     '401 SESSION_REVOKED',
                     "$name - the newest token cannot open the embed");
}



=== TEST 45: never past the session's end (the example's hour made 8 seconds, its tokens 4): a refresh is capped at it, and refused after it, 401 SESSION_EXPIRED
--- no_example
the example with an 8 second session and 4 second tokens ($HTTP_8S): no
test waits the example's hour
--- short_session
--- request eval
mint(ttlSeconds => undef)
--- error_code: 201
--- json_check eval
sub {
    my ($j, $name) = @_;
    my $c0 = ::claims_of($j->{token});

    ::Test::More::is($c0->{exp} - $c0->{iat}, 4, "$name - a 4 second token");

    sleep 5;

    my $r = ::refresh($j->{token});
    my $c1 = ::refreshed($r, $name, from => $c0);
    ::Test::More::is($c1->{exp}, $c0->{iat} + 8,
                     "$name - the new token ends with the session");
    ::Test::More::ok($r->{json}{expiresIn} < 4,
                     "$name - expiresIn: less than the 4 seconds");

    sleep 4;

    ::Test::More::is(::outcome(::refresh($r->{json}{token})),
                     '401 SESSION_EXPIRED', "$name - after the end");
}
--- no_error_log
[error]



=== TEST 46: the tenant key on every number-scoped family the seed names (messages send, status, cancel, groups, newsletters, templates, analytics, media) and the ones it reaches beside them (message-status, contacts, webhooks, api-keys): 403 with the seed's body, byte for byte (the module's answer: nothing reaches the application)
--- pipelined_requests eval
["POST /v1/messages/send\n{}", "GET /v1/messages/msg_abc",
 "POST /v1/messages/msg_abc/cancel\n{}", "GET /v1/message-status/m1",
 "GET /v1/groups", "POST /v1/groups/g1/participants\n{}",
 "GET /v1/newsletters", "GET /v1/templates", "GET /v1/analytics/messages",
 "POST /v1/media\n{}", "GET /v1/contacts/c1", "GET /v1/webhooks",
 "POST /v1/webhooks\n{}", "POST /v1/api-keys\n{}", "GET /v1/",
 "GET /v1/numbersx"]
--- more_headers eval
[(key('tenant') . "\nContent-Type: application/json") x 16]
--- error_code eval
[(403) x 16]
--- response_body eval
[('{"error":"This endpoint requires a number-scoped API key","code":"TENANT_SCOPE_NOT_ALLOWED"}') x 16]



=== TEST 47: the same families with the key id of the tenant key: 403 TENANT_SCOPE_NOT_ALLOWED
--- pipelined_requests eval
["GET /v1/webhooks", "GET /v1/contacts/c1", "GET /v1/message-status/m1"]
--- more_headers eval
[(keyid('tenant')) x 3]
--- error_code eval
[403, 403, 403]
--- json_check eval
[(sub { ::flat_error(@_, 'TENANT_SCOPE_NOT_ALLOWED',
                     'This endpoint requires a number-scoped API key') }) x 3]



=== TEST 48: a number key on the same families: each reaches the application, which learns the key's id, scope and tenant and never the key
--- pipelined_requests eval
["POST /v1/messages/send\n{}", "GET /v1/messages/msg_abc",
 "POST /v1/messages/msg_abc/cancel\n{}", "GET /v1/message-status/m1",
 "GET /v1/groups", "POST /v1/groups/g1/participants\n{}",
 "GET /v1/newsletters", "GET /v1/templates", "GET /v1/analytics/messages",
 "POST /v1/media\n{}", "GET /v1/contacts/c1", "GET /v1/webhooks",
 "POST /v1/webhooks\n{}"]
--- more_headers eval
[(key('num-a') . "\nContent-Type: application/json") x 13]
--- error_code eval
[(200) x 13]
--- response_body eval
[map { "uri=$_ key=num-a scope=number tenant=t_acme x-api-key= x-api-key-id= session= token= authorization= cookie= embed-tenant=\n" }
 qw(/v1/messages/send /v1/messages/msg_abc /v1/messages/msg_abc/cancel
    /v1/message-status/m1 /v1/groups /v1/groups/g1/participants
    /v1/newsletters /v1/templates /v1/analytics/messages /v1/media
    /v1/contacts/c1 /v1/webhooks /v1/webhooks)]
--- no_error_log
[error]



=== TEST 49: the tenant key on /v1/numbers/* (create, list, get, delete, connect, status) and /v1/remote-pairing/*: each reaches the application
--- pipelined_requests eval
["POST /v1/numbers\n{}", "GET /v1/numbers", "GET /v1/numbers/num_01HZXAAAA",
 "DELETE /v1/numbers/num_01HZXAAAA", "POST /v1/numbers/num_01HZXAAAA/connect\n{}",
 "GET /v1/numbers/num_01HZXAAAA/status", "POST /v1/remote-pairing\n{}",
 "GET /v1/remote-pairing/rp_1"]
--- more_headers eval
[(key('tenant') . "\nContent-Type: application/json") x 8]
--- error_code eval
[(200) x 8]
--- response_body eval
[map { "uri=$_ key=tenant scope=tenant tenant=t_acme x-api-key= x-api-key-id= session= token= authorization= cookie= embed-tenant=\n" }
 qw(/v1/numbers /v1/numbers /v1/numbers/num_01HZXAAAA
    /v1/numbers/num_01HZXAAAA /v1/numbers/num_01HZXAAAA/connect
    /v1/numbers/num_01HZXAAAA/status /v1/remote-pairing
    /v1/remote-pairing/rp_1)]
--- no_error_log
[error]



=== TEST 50: a number key on /v1/numbers/* and /v1/remote-pairing/*: 403 NUMBER_SCOPE_NOT_ALLOWED
--- pipelined_requests eval
["POST /v1/numbers\n{}", "GET /v1/numbers/num_01HZXAAAA",
 "DELETE /v1/numbers/num_01HZXAAAA", "POST /v1/remote-pairing\n{}",
 "GET /v1/remote-pairing/rp_1"]
--- more_headers eval
[(key('num-a') . "\nContent-Type: application/json") x 5]
--- error_code eval
[(403) x 5]
--- json_check eval
[(sub { ::flat_error(@_, 'NUMBER_SCOPE_NOT_ALLOWED',
                     'This endpoint requires a tenant-scoped API key') }) x 5]



=== TEST 51: ttlSeconds strings that are not an integer within the limits: 400 naming ttlSeconds
--- pipelined_requests eval
[map { mint(ttlSeconds => $_) }
 '3601', '0', '-5', 'abc', '9e2', ' 900', '900 ', '0900', '+900', '', '900.0',
 '99999999999999999999']
--- error_code eval
[(400) x 12]
--- json_check eval
[(sub { ::flat_error(@_, 'VALIDATION_FAILED', 'Validation error',
                     'ttlSeconds') }) x 12]



=== TEST 52: allowedOrigins and whatsappNumberIds as a JSON array in a string (the schema's examples '["https://app.tenant.com"]', '["num_01HZX..."]'): 201, the body and the token hold the arrays, as for the request example's form
--- pipelined_requests eval
[mint(allowedOrigins => '["https://app.tenant.com"]',
      whatsappNumberIds => '["num_01HZXAAAA"]', ttlSeconds => '900'),
 mint(allowedOrigins => '["HTTPS://App.Tenant.COM:443","http://localhost:3000"]'),
 mint(allowedOrigins => ['https://app.tenant.com'],
      whatsappNumberIds => ['num_01HZXAAAA'], ttlSeconds => 900)]
--- error_code eval
[201, 201, 201]
--- json_check eval
[(sub { ::minted(@_, key => 'num-a', surface => 'chat', ttl => 900,
                 numbers => ['num_01HZXAAAA'],
                 origins => ['https://app.tenant.com']) }),
 sub { ::minted(@_, key => 'num-a', surface => 'chat', ttl => 900,
                numbers => ['num_01HZXAAAA'],
                origins => ['https://app.tenant.com',
                            'http://localhost:3000']) },
 sub { ::minted(@_, key => 'num-a', surface => 'chat', ttl => 900,
                numbers => ['num_01HZXAAAA'],
                origins => ['https://app.tenant.com']) }]
--- no_error_log
[error]



=== TEST 53: the tenant key names its numbers in a JSON array in a string: 201 with the numbers
--- request eval
mint(whatsappNumberIds => '["num_01HZXAAAA","num_01HZXBBBB"]')
--- more_headers eval
key('tenant') . "\nContent-Type: application/json"
--- error_code: 201
--- json_check eval
sub { ::minted(@_, key => 'tenant', surface => 'chat', ttl => 900,
               numbers => ['num_01HZXAAAA', 'num_01HZXBBBB'],
               origins => ['https://app.tenant.com']) }
--- no_error_log
[error]



=== TEST 54: an array in a string is checked as the array: its items, its size, the key's numbers; a string that holds no JSON array is 400
--- pipelined_requests eval
[mint(allowedOrigins => '["https://app.tenant.com","https://app.tenant.com/app"]'),
 mint(allowedOrigins => '[]'),
 mint(allowedOrigins => '[42]'),
 mint(allowedOrigins => '["https://app.tenant.com"'),
 mint(allowedOrigins => '{"origin":"https://app.tenant.com"}'),
 mint(allowedOrigins => '"https://app.tenant.com"'),
 mint(whatsappNumberIds => '["num_01HZXBBBB"]'),
 mint(whatsappNumberIds => 'num_01HZXAAAA')]
--- error_code eval
[400, 400, 400, 400, 400, 400, 403, 400]
--- json_check eval
[sub { ::flat_error(@_, 'VALIDATION_FAILED', 'Validation error',
                    'allowedOrigins[1]') },
 (sub { ::flat_error(@_, 'VALIDATION_FAILED', 'Validation error',
                     'allowedOrigins') }),
 sub { ::flat_error(@_, 'VALIDATION_FAILED', 'Validation error',
                    'allowedOrigins[0]') },
 (sub { ::flat_error(@_, 'VALIDATION_FAILED', 'Validation error',
                     'allowedOrigins') }) x 3,
 sub { ::Test::More::is($_[0]{code}, 'SCOPE_NOT_GRANTED', "$_[1] - code") },
 sub { ::flat_error(@_, 'VALIDATION_FAILED', 'Validation error',
                    'whatsappNumberIds') }]



=== TEST 55: "stringified" is for integer and array fields: on a string field nginx -t names the file, the line and the field
--- no_example
a configuration the example must not hold: the negative case of nginx -t
--- http_config
    embed_session_api_keys zone=pilot:1m file=$TEST_NGINX_HTML_DIR/pilot.keys;
--- config
    location = /v1/embed/sessions {
        embed_session_keys     $TEST_NGINX_ES_DATA/keys/hs256.jwks;
        embed_session_api_key  pilot;
        embed_session_mint     on;
        embed_session_field    surface  string  stringified;
        embed_session_mint_output  token  token;
    }
--- must_die
--- suppress_stderr
--- error_log eval
qr/\[emerg\] .*field "surface": "stringified" is for integer and array fields in \S+nginx\.conf:\d+/



=== TEST 56: the SDK's preflights, before any token: OPTIONS on the refresh and on the embed API is 204 with the page's origin, the methods and X-Session-Token allowed
--- request eval
mint()
--- error_code: 201
--- json_check eval
sub {
    my ($j, $name) = @_;

    for my $c ([$::REFRESH_URI, 'POST', 'POST'],
               [$::EMBED_API, 'GET', 'GET, HEAD, POST, PUT, PATCH, DELETE'])
    {
        my ($path, $method, $methods) = @$c;
        my $r = ::preflight($path, $method);
        my $h = $r->{headers};

        ::Test::More::is($r->{status}, 204, "$name - $path: 204");
        ::Test::More::is($h->{'access-control-allow-origin'}, $::ORIGIN,
                         "$name - $path: Access-Control-Allow-Origin");
        ::Test::More::is($h->{'access-control-allow-methods'}, $methods,
                         "$name - $path: Access-Control-Allow-Methods");
        ::Test::More::like($h->{'access-control-allow-headers'} // '',
                           qr/(?:^|, ?)X-Session-Token(?:,|$)/i,
                           "$name - $path: X-Session-Token allowed");
        ::Test::More::like($h->{'access-control-allow-headers'} // '',
                           qr/(?:^|, ?)Content-Type(?:,|$)/i,
                           "$name - $path: Content-Type allowed");
        ::Test::More::ok(($h->{'access-control-max-age'} // 0) > 0,
                         "$name - $path: Access-Control-Max-Age");
        ::Test::More::is($r->{content} // '', '', "$name - $path: no body");
    }
}
--- no_error_log
[error]



=== TEST 57: the preflights refuse what the SDK does not send: the refresh other than POST, a header outside the list, Origin null; none carries Access-Control-Allow-Origin
--- request eval
mint()
--- error_code: 201
--- json_check eval
sub {
    my ($j, $name) = @_;

    my @cases = (
        ['refresh GET', ::preflight($::REFRESH_URI, 'GET'),
         '403 PREFLIGHT_REFUSED'],
        ['origin null', ::preflight($::EMBED_API, 'GET', 'null'),
         '403 ORIGIN_NOT_ALLOWED'],
        ['a header outside the list',
         ::raw('OPTIONS', $::EMBED_API,
               { origin => $::ORIGIN,
                 'access-control-request-method' => 'GET',
                 'access-control-request-headers' => 'x-api-key' }),
         '403 PREFLIGHT_REFUSED'],
    );

    for my $c (@cases) {
        my ($what, $r, $want) = @$c;
        ::Test::More::is(::outcome($r), $want, "$name - $what");
        ::Test::More::is($r->{headers}{'access-control-allow-origin'}, undef,
                         "$name - $what: no Access-Control-Allow-Origin");
    }
}



=== TEST 58: the refresh from the page: its answer carries Access-Control-Allow-Origin for the page's origin (the new token is readable), and so do the module's errors for it (the code is readable); another origin's refusal names that origin only
--- request eval
mint(allowedOrigins => ['https://app.tenant.com', 'https://admin.tenant.com'])
--- error_code: 201
--- json_check eval
sub {
    my ($j, $name) = @_;
    my $t = $j->{token};

    my $r = ::refresh($t, 'https://admin.tenant.com');
    ::Test::More::is(::outcome($r), '200 ok', "$name - refresh");
    ::Test::More::is($r->{headers}{'access-control-allow-origin'},
                     'https://admin.tenant.com',
                     "$name - refresh: Access-Control-Allow-Origin");
    ::Test::More::like($r->{headers}{vary} // '', qr/\bOrigin\b/,
                       "$name - refresh: Vary: Origin");
    ::Test::More::like($r->{headers}{'cache-control'} // '', qr/no-store/,
                       "$name - refresh: Cache-Control: no-store");

    my $again = ::refresh($t, 'https://app.tenant.com');
    ::Test::More::is(::outcome($again), '200 ok',
                     "$name - a retry from the other allowed origin");
    ::Test::More::is($again->{headers}{'access-control-allow-origin'},
                     'https://app.tenant.com',
                     "$name - the retry: Access-Control-Allow-Origin");

    my $e = ::refresh('eyJhbGciOiJIUzI1NiJ9.e30.x', 'https://app.tenant.com');
    ::Test::More::is(::outcome($e), '401 SESSION_INVALID',
                     "$name - a bad token");
    ::Test::More::is($e->{headers}{'access-control-allow-origin'},
                     'https://app.tenant.com',
                     "$name - a bad token: Access-Control-Allow-Origin");

    my $x = ::refresh($r->{json}{token}, 'https://evil.example.com');
    ::Test::More::is(::outcome($x), '403 ORIGIN_NOT_ALLOWED',
                     "$name - another origin");
    ::Test::More::isnt($x->{headers}{'access-control-allow-origin'} // '',
                       'https://app.tenant.com',
                       "$name - another origin: not the session's origin");
}
--- no_error_log
[error]



=== TEST 59: the embed API from the page: Access-Control-Allow-Origin for the token's origin on the answer, the application gets the session, never the token; another origin reads its refusal's code
--- request eval
mint()
--- error_code: 201
--- json_check eval
sub {
    my ($j, $name) = @_;
    my $c = ::claims_of($j->{token});

    my $r = ::embed($j->{token});
    ::Test::More::is(::outcome($r), '200 ok', "$name - the call");
    ::Test::More::is($r->{headers}{'access-control-allow-origin'}, $::ORIGIN,
                     "$name - Access-Control-Allow-Origin");
    ::Test::More::like($r->{headers}{'access-control-expose-headers'} // '',
                       qr/Retry-After/i,
                       "$name - Access-Control-Expose-Headers");
    ::Test::More::is($r->{content},
                     "uri=$::EMBED_API key= scope= tenant= x-api-key= "
                     . "x-api-key-id= session=$c->{sid} token= "
                     . "authorization= cookie= embed-tenant=t_acme\n",
                     "$name - what reached the application");

    my $b = ::http('GET', $::EMBED_API,
                   { authorization => "Bearer $j->{token}",
                     origin => $::ORIGIN });
    ::Test::More::is(::outcome($b), '200 ok', "$name - as a Bearer token");

    my $x = ::http('GET', $::EMBED_API,
                   { 'x-session-token' => $j->{token},
                     origin => 'https://evil.example.com' });
    ::Test::More::is(::outcome($x), '403 ORIGIN_NOT_ALLOWED',
                     "$name - another origin");
    ::Test::More::is($x->{headers}{'access-control-allow-origin'},
                     'https://evil.example.com',
                     "$name - another origin reads the code");
}
--- no_error_log
[error]



=== TEST 60: the iframe document: /embed/chat?session=TOKEN is exchanged for a cookie (302 to /embed/chat, no-store), the redirected load brings the cookie and is served, framed only by the session's origins; the application sees neither token nor cookie
--- request eval
mint(allowedOrigins => ['https://app.tenant.com', 'https://admin.tenant.com'])
--- error_code: 201
--- json_check eval
sub {
    my ($j, $name) = @_;
    my $t = $j->{token};
    my $c = ::claims_of($t);

    my $r = ::frame("/embed/chat?session=$t");
    ::Test::More::is($r->{status}, 302, "$name - the exchange: 302");
    ::Test::More::like($r->{headers}{location} // '',
                       qr{\A(?:http://127\.0\.0\.1:\d+)?/embed/chat\z},
                       "$name - Location: the same URL without the token");
    ::Test::More::like($r->{headers}{'cache-control'} // '', qr/no-store/,
                       "$name - Cache-Control: no-store");

    my $sc = $r->{headers}{'set-cookie'} // '';
    ::Test::More::ok(index($sc, "pilot_embed=$t; ") == 0,
                     "$name - Set-Cookie: pilot_embed=<the token>");

    my ($age) = $sc =~ /; Max-Age=(\d+)/;
    ::Test::More::ok(defined $age && $age >= 890 && $age <= 900 + 30,
                     "$name - Max-Age: what the token has left");

    for my $a ('Path=/', 'HttpOnly', 'Secure', 'SameSite=None',
               'Partitioned')
    {
        ::Test::More::like($sc, qr/; \Q$a\E(?:;|$)/, "$name - $a");
    }

    my $doc = ::frame('/embed/chat', cookie => "pilot_embed=$t");
    ::Test::More::is(::outcome($doc), '200 ok', "$name - the document");
    ::Test::More::is($doc->{headers}{'content-security-policy'},
                     'frame-ancestors https://app.tenant.com '
                     . 'https://admin.tenant.com',
                     "$name - frame-ancestors: the session's origins");
    ::Test::More::is($doc->{content},
                     "uri=/embed/chat key= scope= tenant= x-api-key= "
                     . "x-api-key-id= session=$c->{sid} token= "
                     . "authorization= cookie= embed-tenant=t_acme\n",
                     "$name - what reached the application");

    my $bad = ::frame('/embed/chat?session=eyJhbGciOiJIUzI1NiJ9.e30.x');
    ::Test::More::is(::outcome($bad), '401 SESSION_INVALID',
                     "$name - a bad token in the URL");
    ::Test::More::is($bad->{headers}{'set-cookie'}, undef,
                     "$name - a bad token: no cookie");
    ::Test::More::is($bad->{headers}{'content-security-policy'},
                     "frame-ancestors 'none'",
                     "$name - a bad token: frame-ancestors 'none'");

    ::Test::More::is(::outcome(::frame('/embed/chat')), '401 SESSION_REQUIRED',
                     "$name - neither URL token nor cookie");
}
--- no_error_log
[error]



=== TEST 61: the iframe document is for a frame of its own surface: a top-level visit is 403 FETCH_NOT_ALLOWED (no cookie), a chat session cannot open /embed/connect, a connect session opens it; a refresh revokes the cookie's token
--- request eval
mint()
--- error_code: 201
--- json_check eval
sub {
    my ($j, $name) = @_;
    my $t = $j->{token};

    my $top = ::frame("/embed/chat?session=$t", 'sec-fetch-dest' => 'document');
    ::Test::More::is(::outcome($top), '403 FETCH_NOT_ALLOWED',
                     "$name - a top-level visit");
    ::Test::More::is($top->{headers}{'set-cookie'}, undef,
                     "$name - a top-level visit: no cookie");

    ::Test::More::is(::outcome(::frame("/embed/connect?session=$t")),
                     '403 SCOPE_NOT_GRANTED',
                     "$name - a chat session on /embed/connect");

    my $m = ::http('POST', '/v1/embed/sessions',
                   { 'x-api-key' => $::K{'num-a'}{key},
                     'content-type' => 'application/json' },
                   '{"surface":"connect","allowedOrigins":'
                   . '["https://app.tenant.com"]}');
    ::Test::More::is($m->{status}, 201, "$name - a connect session");
    ::Test::More::is(::frame("/embed/connect?session=$m->{json}{token}")
                         ->{status},
                     302, "$name - a connect session on /embed/connect");

    ::Test::More::is(::outcome(::frame('/embed/chat',
                                       cookie => "pilot_embed=$t")),
                     '200 ok', "$name - the cookie before a refresh");

    my $r = ::refresh($t);
    ::Test::More::is(::outcome($r), '200 ok', "$name - refresh");
    ::Test::More::is(::outcome(::frame('/embed/chat',
                                       cookie => "pilot_embed=$t")),
                     '401 SESSION_REVOKED',
                     "$name - the cookie's token after the refresh");
    ::Test::More::is(::frame("/embed/chat?session=$r->{json}{token}",
                             cookie => "pilot_embed=$t")->{status},
                     302, "$name - the new token in the URL wins over the "
                          . "cookie");
}
--- no_error_log
[error]



=== TEST 62: the iframe's own API: the chat document calls /embed/api/... same-origin with the cookie of the exchange; the application gets /embed/..., the session and the tenant, never the cookie; a POST with the document's own Origin passes
--- request eval
mint()
--- error_code: 201
--- json_check eval
sub {
    my ($j, $name) = @_;
    my $t = $j->{token};
    my $c = ::claims_of($t);
    my $echo = "key= scope= tenant= x-api-key= x-api-key-id= "
               . "session=$c->{sid} token= authorization=";

    my $r = ::inframe('GET', $::FRAME_API, "pilot_embed=$t");
    ::Test::More::is(::outcome($r), '200 ok', "$name - GET with the cookie");
    ::Test::More::is($r->{content},
                     "uri=/embed/chat/conversations $echo cookie= "
                     . "embed-tenant=t_acme\n",
                     "$name - what reached the application");
    ::Test::More::is($r->{headers}{'access-control-allow-origin'}, undef,
                     "$name - no Access-Control-Allow-Origin: same-origin");

    my $p = ::inframe('POST', '/embed/api/chat/messages',
                      "theme=dark; pilot_embed=$t",
                      'content-type' => 'application/json');
    ::Test::More::is(::outcome($p), '200 ok',
                     "$name - POST with Origin: the embed's own origin");
    ::Test::More::is($p->{content},
                     "uri=/embed/chat/messages $echo cookie=theme=dark "
                     . "embed-tenant=t_acme\n",
                     "$name - POST: the other cookies reach the application");

    ::Test::More::is(::outcome(::inframe('GET', $::FRAME_API, undef)),
                     '401 SESSION_REQUIRED', "$name - no cookie");
    ::Test::More::is(::outcome(::inframe('GET', $::FRAME_API, undef,
                                         'x-session-token' => $t)),
                     '401 SESSION_REQUIRED',
                     "$name - X-Session-Token is not a source here");
    my $bad = 'pilot_embed=eyJhbGciOiJIUzI1NiJ9.e30.x';
    ::Test::More::is(::outcome(::inframe('GET', $::FRAME_API, $bad)),
                     '401 SESSION_INVALID',
                     "$name - a bad token in the cookie");

    my $page = ::embed($t);
    ::Test::More::is(::outcome($page), '200 ok',
                     "$name - the page's X-Session-Token call as before");
}
--- no_error_log
[error]



=== TEST 63: the iframe's API refuses the same cookie from anything but its own document: Sec-Fetch-Site cross-site (the embedding page's credentialed fetch), same-site, none (a top-level visit) or absent, and a load that is not a fetch, 403 FETCH_NOT_ALLOWED without Access-Control-Allow-Origin; nothing reaches the application
--- request eval
mint()
--- error_code: 201
--- json_check eval
sub {
    my ($j, $name) = @_;
    my $cookie = "pilot_embed=$j->{token}";

    for my $case (['cross-site, from the embedding page',
                   'sec-fetch-site' => 'cross-site', origin => $::ORIGIN,
                   referer => "$::ORIGIN/inbox"],
                  ['cross-site, from another site',
                   'sec-fetch-site' => 'cross-site',
                   origin => 'https://evil.example.com',
                   referer => 'https://evil.example.com/'],
                  ['same-site', 'sec-fetch-site' => 'same-site',
                   origin => 'http://127.0.0.1:1'],
                  ['none (a top-level visit)', 'sec-fetch-site' => 'none',
                   'sec-fetch-dest' => 'document', referer => undef],
                  ['Sec-Fetch-Site absent', 'sec-fetch-site' => undef,
                   'sec-fetch-dest' => undef],
                  ['same-origin, but as an iframe',
                   'sec-fetch-dest' => 'iframe'],
                  ['same-origin, but as a script',
                   'sec-fetch-dest' => 'script'],
                  ['two Sec-Fetch-Site headers',
                   'sec-fetch-site' => ['same-origin', 'cross-site']])
    {
        my ($what, %h) = @$case;

        for my $m ('GET', 'POST') {
            my $r = ::inframe($m, $::FRAME_API, $cookie, %h);
            ::Test::More::is(::outcome($r), '403 FETCH_NOT_ALLOWED',
                             "$name - $m, $what");
            ::Test::More::is($r->{headers}{'access-control-allow-origin'},
                             undef,
                             "$name - $m, $what: no "
                             . "Access-Control-Allow-Origin");
            ::Test::More::unlike($r->{content} // '', qr/uri=/,
                                 "$name - $m, $what: not the application's");
        }
    }

    my $o = ::preflight($::FRAME_API, 'GET');
    ::Test::More::is(::outcome($o), '403 FETCH_NOT_ALLOWED',
                     "$name - no preflight is answered (cross-site)");
    ::Test::More::is($o->{headers}{'access-control-allow-origin'}, undef,
                     "$name - the preflight: no Access-Control-Allow-Origin");

    ::Test::More::is(::outcome(::inframe('GET', $::FRAME_API, $cookie)),
                     '200 ok', "$name - the same cookie from the document");
}
--- no_error_log
[error]



=== TEST 64: a refresh replaces the cookie's token: the frame's calls with the old cookie are 401 SESSION_REVOKED, the cookie of the new token's exchange passes with the same session
--- request eval
mint()
--- error_code: 201
--- json_check eval
sub {
    my ($j, $name) = @_;
    my $t = $j->{token};
    my $c = ::claims_of($t);

    ::Test::More::is(::outcome(::inframe('GET', $::FRAME_API,
                                         "pilot_embed=$t")),
                     '200 ok', "$name - the cookie before the refresh");

    my $r = ::refresh($t);
    ::Test::More::is(::outcome($r), '200 ok', "$name - refresh");
    my $t2 = $r->{json}{token} // '';

    for my $m ('GET', 'POST') {
        ::Test::More::is(::outcome(::inframe($m, $::FRAME_API,
                                             "pilot_embed=$t")),
                         '401 SESSION_REVOKED',
                         "$name - $m with the old cookie");
    }

    my $x = ::frame("/embed/chat?session=$t2", cookie => "pilot_embed=$t");
    ::Test::More::is($x->{status}, 302, "$name - the iframe mounted again");
    my ($new) = ($x->{headers}{'set-cookie'} // '') =~ /^pilot_embed=([^;]+)/;
    ::Test::More::is($new, $t2, "$name - the new cookie holds the new token");

    my $ok = ::inframe('GET', $::FRAME_API, "pilot_embed=" . ($new // ''));
    ::Test::More::is(::outcome($ok), '200 ok', "$name - the new cookie");
    ::Test::More::like($ok->{content} // '',
                       qr/ session=\Q$c->{sid}\E /,
                       "$name - the same session");
}
--- no_error_log
[error]
