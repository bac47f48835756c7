# Seed 004, Cube "Generate an embed session"
# (POST /api/v1/embed/generate-session), served by conf-examples/cube.conf
# as shipped: every block but the --- no_example one runs that file, with
# only its ports and key paths changed (t/lib/EmbedSessionExample.pm); the
# example's upstream "cube" is a stub server of the blocks' http_config
# that echoes what reached it.  Admin-only Bearer key, 403 when embedding
# is not enabled, GenerateSessionDTO with its null-able members and the
# embedTenantName pattern.  The seed's own cURL body fails its own pattern
# ("<string>"), so it is played twice: as documented (400, one detail) and
# with a real tenant name (200).  The 200 carries the sessionId only, a
# one-time ticket: POST /api/v1/embed/session/token (the example's exchange
# location) trades it once for the token, which verifies with Crypt::JWT
# and on the example's /embed/ location; a second exchange is 409, an
# unknown sessionId 404, an expired one 410.  The exchange runs from the
# blocks' response_body_filters with http() while nginx runs.
#
# Where the seed is ambiguous the example says which reading it takes, and
# blocks 16-19 send both forms a client may: deploymentId as the number of
# the schema and example (123) or as the string of its digits ("123"),
# both taken, the token's claim the number either way, and what is not a
# whole number refused (123.0, "+123", ...); ephemeralTtlSeconds likewise,
# or null, and it is a claim, not the token's lifetime.

use FindBin;
use lib "$FindBin::Bin/lib";
use EmbedSessionTest;
use EmbedSessionMint;
use EmbedSessionExample;

use Crypt::JWT qw(decode_jwt);
use JSON::PP ();

repeat_each(2);
no_shuffle();

our $JSON = JSON::PP->new->canonical->allow_nonref;

# --- API keys: "cube_" + 40 characters, stored as LOOKUP:SHA256-HEX ---------

our %KEY = (
    admin   => 'cube_AdminKey9NEOKBib74VBxG5tzEu2FFJFVlJAMEQN',
    member  => 'cube_MemberKyJ5Zv7RC0Y15Jg2eWB3pE2KXPL7qcGeNd',
    noembed => 'cube_NoEmbedKa1KeZTJh6TWOjg3ELFODFe96eTOhVzS7',
    unknown => 'cube_Unknown0Mkq8I99yH04UiLMsCDK0amBnPa5mSNK3',
);

our $KEY_FILE = join '', map { "$_\n" }
    '# Cube keys (test)',
    'acme-admin key=' . stored($KEY{admin})
        . ' scope=admin tenant=acme flags=embed',
    'acme-member key=' . stored($KEY{member})
        . ' scope=member tenant=acme flags=embed',
    'beta-admin key=' . stored($KEY{noembed})
        . ' scope=admin tenant=beta';

sub auth {
    my ($name) = @_;
    return "Authorization: Bearer $KEY{$name}\nContent-Type: application/json";
}

# --- conf-examples/cube.conf as shipped -----------------------------------
#
# The signing key is the fixture t/data/keys/ed25519.jwks (kid ed-1), the
# key file the block's own.  The state file (logs/cube.state) is the
# example's: Test::Nginx empties logs/ before every block.

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

our %FILES = (
    'keys/demo.jwks' => '$TEST_NGINX_ES_DATA/keys/ed25519.jwks',
    'keys/cube.keys' => '$TEST_NGINX_HTML_DIR/cube.api-keys',
);

use_example('cube', files => \%FILES);

our $UPSTREAM = example_port(9000);

# the example's upstream "cube", behind /embed/: what reached it

our $STUB = <<"_EOC_";
    server {
        listen  127.0.0.1:$UPSTREAM;

        location / {
            return 200 "sub=\$http_x_embed_user tenant=\$http_x_embed_tenant token=\$http_x_session_token auth=\$http_authorization\\n";
        }
    }
_EOC_

# Block 14 only (--- no_example): the example with its 5 minute tickets
# made 2 seconds, so that a ticket expires within the test; the same file
# through example_config(), that one line changed.

our ($MAIN_2S, $HTTP_2S) = example_config('cube', files => \%FILES);

$HTTP_2S =~ s/embed_session_mint_exchange\s+5m;/embed_session_mint_exchange  2s;/
    or die "no \"embed_session_mint_exchange 5m\" in the example\n";

# --- checks on responses ----------------------------------------------------

our $PUB = jwk('ed25519.pub');

# a token on the example's /embed/ location: "200 what the upstream saw",
# or "STATUS CODE"

sub embed_at {
    my ($token) = @_;

    my $res = http('GET', '/embed/dashboards/1',
                   { 'X-Session-Token' => $token });

    my $body = $res->{content} // '';
    chomp $body;

    if ($res->{status} != 200) {
        $body = $body =~ /"code":"([^"]+)"/ ? $1 : $body;
    }

    return "$res->{status} $body";
}

# POST /api/v1/embed/session/token while nginx runs: the exchange of a
# sessionId (a reference is sent as JSON, a string as it is)

our $EXCHANGE_URI = '/api/v1/embed/session/token';

sub exchange {
    my ($doc) = @_;

    $doc = { sessionId => $doc } if defined $doc && !ref $doc;

    return http('POST', $EXCHANGE_URI,
                { 'Content-Type' => 'application/json' },
                ref $doc ? $JSON->encode($doc) : $doc);
}

sub exchange_raw {
    my ($text) = @_;
    return http('POST', $EXCHANGE_URI,
                { 'Content-Type' => 'application/json' }, $text);
}

# "STATUS ok" for a 200, else "STATUS CODE" (with the detail paths)

sub outcome {
    my ($res) = @_;
    my $j = $res->{json};

    return "$res->{status} ok" if $res->{status} == 200;
    return "$res->{status} $res->{content}" unless ref $j eq 'HASH';

    my $out = "$res->{status} " . ($j->{code} // '-');
    $out .= ' (details: '
            . join(' ', map { $_->{path} // '?' } @{ $j->{details} }) . ')'
        if ref $j->{details} eq 'ARRAY';

    return $out;
}

# the generate's 200, then the exchange of its sessionId and the token

sub check_minted {
    my ($body) = @_;
    my @out;

    my $r = eval { $JSON->decode($body) }
        or return "not JSON: $body\n";

    push @out, 'fields: ' . join ' ', sort keys %$r;
    push @out, 'sessionId: '
        . (($r->{sessionId} // '') =~ /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/
           ? 'uuid v4' : 'bad');

    my $t0 = time;
    my $x = exchange($r->{sessionId});
    my $xr = $x->{json} // {};

    push @out, 'exchange: ' . outcome($x);
    push @out, 'exchange fields: ' . join ' ', sort keys %$xr;
    push @out, 'exchange Content-Type: '
        . ($x->{headers}{'content-type'} // '');
    push @out, 'exchange Cache-Control: '
        . ($x->{headers}{'cache-control'} // '');

    my $token = $xr->{token} // '';

    my ($h, $c) = eval {
        decode_jwt(token => $token, key => { %$PUB }, decode_header => 1,
                   accepted_alg => 'EdDSA', verify_exp => 1, verify_iat => 1,
                   verify_iss => 'https://cubecloud.dev',
                   verify_aud => 'cube-embed');
    };

    if (!$c) {
        return join "\n", @out, "Crypt::JWT: $@", '';
    }

    push @out, "Crypt::JWT: alg=$h->{alg} kid=$h->{kid} typ=$h->{typ}";
    push @out, 'lifetime: ' . ($c->{exp} - $c->{iat});
    push @out, 'iat: ' . ($c->{iat} >= $t0 - 1 && $c->{iat} <= time + 1
                          ? 'the exchange' : "bad ($c->{iat})");
    push @out, 'jti = sessionId: '
        . ($c->{jti} eq ($r->{sessionId} // '') ? 'yes' : 'no');
    push @out, 'sid = sessionId: '
        . (($c->{sid} // '') eq ($r->{sessionId} // '') ? 'yes' : 'no');

    my $t = iso_time($xr->{expiresAt});
    push @out, 'expiresAt: '
        . (defined $t && $t == $c->{exp} ? 'exp' : "bad ($xr->{expiresAt})");
    push @out, 'expiresIn: '
        . (($xr->{expiresIn} // -1) == $c->{exp} - $c->{iat}
           ? 'exp - iat' : "bad ($xr->{expiresIn})");

    my %seen = %$c;
    delete @seen{qw(iat exp jti sid iss aud)};
    push @out, 'claims: ' . $JSON->encode(\%seen);

    push @out, 'module: ' . embed_at($token);

    my ($hd, $pl, $sig) = split /\./, $token;
    my $claims = $JSON->decode(b64url_decode($pl));
    $claims->{deployment_id} = 124;
    push @out, 'module, payload changed: '
        . embed_at(join '.', $hd, b64url_encode($JSON->encode($claims)),
                   $sig);

    push @out, 'exchange again: ' . outcome(exchange($r->{sessionId}));
    push @out, 'module, after the second exchange: ' . embed_at($token);

    my $log = read_log();
    push @out, 'log holds the token: '
        . (index($log, $sig) >= 0 ? 'yes' : 'no');
    push @out, 'log holds the key: '
        . (index($log, substr($KEY{admin}, 13)) >= 0 ? 'yes' : 'no');

    return join "\n", @out, '';
}

# the exchange's errors beside a sessionId that was never exchanged: it
# still is, once, afterwards

sub check_exchange_errors {
    my ($body) = @_;
    my @out;

    my $r = eval { $JSON->decode($body) }
        or return "not JSON: $body\n";
    my $id = $r->{sessionId} // '';

    push @out, 'unknown sessionId: '
        . outcome(exchange('9b2f6c1e-3d4a-4e5b-8c7d-0a1b2c3d4e5f'));
    push @out, 'not a sessionId: ' . outcome(exchange('<string>'));
    push @out, 'the sessionId in capitals: ' . outcome(exchange(uc $id));
    push @out, 'no sessionId: ' . outcome(exchange({}));
    push @out, 'another member: ' . outcome(exchange({ session_id => $id }));
    push @out, 'not JSON: ' . outcome(exchange_raw('{"sessionId":'));

    my $get = http('GET', "$EXCHANGE_URI?sessionId=$id");
    push @out, 'GET: ' . outcome($get) . ', Allow: '
        . ($get->{headers}{allow} // '-');

    push @out, 'module, the sessionId as a token: ' . embed_at($id);

    push @out, 'the sessionId, once: ' . outcome(exchange($id));
    push @out, 'the sessionId, twice: ' . outcome(exchange($id));

    return join "\n", @out, '';
}

# a ticket of the example's generate with its 5 minutes made 2 seconds:
# exchanged after 3 seconds (an expired ticket answers 410 for as long
# again, then 404 like an unknown one)

sub check_expired {
    my ($body) = @_;

    my $r = eval { $JSON->decode($body) }
        or return "not JSON: $body\n";

    sleep 3;

    return 'after 3 seconds: ' . outcome(exchange($r->{sessionId})) . "\n";
}

# the token's lifetime counts from the exchange, not from the generate

sub check_late {
    my ($body) = @_;

    my $r = eval { $JSON->decode($body) }
        or return "not JSON: $body\n";

    my $t0 = time;
    sleep 2;

    my $x = exchange($r->{sessionId});
    my ($h, $c) = eval {
        decode_jwt(token => $x->{json}{token} // '', key => { %$PUB },
                   decode_header => 1, accepted_alg => 'EdDSA',
                   verify_exp => 1);
    };

    return "exchange: " . outcome($x) . ", $@\n" unless $c;

    return join "\n", 'exchange: ' . outcome($x),
        'iat: ' . ($c->{iat} >= $t0 + 2 ? 'the exchange' : 'the generate'),
        'lifetime: ' . ($c->{exp} - $c->{iat}),
        'expiresIn: ' . ($x->{json}{expiresIn} // '-'), '';
}

sub check_error {
    my ($body) = @_;

    my $r = eval { $JSON->decode($body) }
        or return "not JSON: $body\n";

    my @keys = sort keys %$r;
    my $out = "keys: @keys\ncode: " . ($r->{code} // '-') . "\n";

    if ($r->{details}) {
        $out .= 'details: '
            . join(' ', sort map { $_->{path} // '?' } @{ $r->{details} })
            . "\n";
    }

    return $out;
}

# the ambiguous members as the token carries them (JSON, so that 123 and
# "123" differ), and its lifetime: the generate's answer exchanged

sub check_claims {
    my ($body) = @_;

    my $r = eval { $JSON->decode($body) }
        or return "not JSON: $body\n";

    my $x = exchange($r->{sessionId});
    my $c = eval {
        decode_jwt(token => $x->{json}{token} // '', key => { %$PUB },
                   accepted_alg => 'EdDSA', verify_exp => 1);
    };

    return 'exchange: ' . outcome($x) . ", $@\n" unless $c;

    return join '', map { "$_\n" }
        map({ "$_: " . (exists $c->{$_} ? $JSON->encode($c->{$_}) : '-') }
            qw(deployment_id ephemeral ephemeral_ttl)),
        'lifetime: ' . ($c->{exp} - $c->{iat});
}

# a 400's code and each detail as "path: message"

sub check_detail {
    my ($body) = @_;

    my $r = eval { $JSON->decode($body) }
        or return "not JSON: $body\n";

    return join '', map { "$_\n" } $r->{code} // '-',
        map { ($_->{path} // '?') . ': ' . ($_->{message} // '?') }
            @{ $r->{details} // [] };
}

# the request body of the seed's cURL example (--data), byte for byte

our $CURL_BODY = <<'_EOB_';
{
  "deploymentId": 123,
  "creatorMode": true,
  "email": "<string>",
  "embedTenantName": "<string>",
  "embedTheme": {
    "analyticsChat": {
      "backgroundColor": "<string>",
      "chatInput": {
        "backgroundColor": "<string>",
        "borderColor": "<string>"
      }
    },
    "chat": {
      "inputColor": "<string>"
    },
    "font": "<string>",
    "primaryColor": "<string>"
  },
  "ephemeralTtlSeconds": 123,
  "externalId": "<string>",
  "groupDefinitions": [
    {
      "name": "<string>",
      "description": "<string>"
    }
  ],
  "groups": [
    "<string>"
  ],
  "internalId": "<string>",
  "isEphemeral": true,
  "publicDashboardId": "<string>",
  "roles": [
    "<string>"
  ],
  "securityContext": {},
  "userAttributeDefinitions": [
    {
      "name": "<string>",
      "defaultValue": "<string>",
      "description": "<string>",
      "displayName": "<string>"
    }
  ],
  "userAttributes": [
    {
      "name": "<string>",
      "value": "<string>"
    }
  ],
  "userProfile": {
    "displayName": "<string>",
    "picture": "<string>"
  }
}
_EOB_
chomp $CURL_BODY;

# the same with a tenant name its pattern accepts
(our $CURL_BODY_NAMED = $CURL_BODY)
    =~ s/"embedTenantName": "<string>"/"embedTenantName": "acme-eu"/
    or die "embedTenantName not in the cURL body\n";

our $URI = '/api/v1/embed/generate-session';

sub body {
    my (@more) = @_;
    return "POST $URI\n{" . join(',', '"deploymentId":7', @more) . "}";
}

our $OK = "keys: sessionId\ncode: -\n";

sub bad {
    return "keys: code details error\ncode: VALIDATION_FAILED\ndetails: @_\n";
}

add_block_preprocessor(sub {
    my $block = shift;

    $block->set_value('http_config', ($block->http_config // '') . $STUB)
        unless defined $block->no_example;
});

block_defaults(
    user_files   => [['cube.api-keys', $KEY_FILE]],
    more_headers => auth('admin'),
    no_error_log => "[error]\n",
);

run_tests();

Test::More::done_testing();

__DATA__

=== TEST 1: the seed's cURL example as documented: 400, its "<string>" fails embedTenantName's pattern, nothing else
--- request eval
"POST $::URI\n$::CURL_BODY"
--- error_code: 400
--- response_body_filters eval
\&::check_error
--- response_body eval
::bad('embedTenantName')



=== TEST 2: the seed's cURL example with a real embedTenantName: 200 {"sessionId"}, exchanged once for the token, verified twice
--- request eval
"POST $::URI\n$::CURL_BODY_NAMED"
--- error_code: 200
--- response_headers
Content-Type: application/json
--- response_body_filters eval
\&::check_minted
--- response_body
fields: sessionId
sessionId: uuid v4
exchange: 200 ok
exchange fields: expiresAt expiresIn token
exchange Content-Type: application/json
exchange Cache-Control: no-store
Crypt::JWT: alg=EdDSA kid=ed-1 typ=embed-session+jwt
lifetime: 900
iat: the exchange
jti = sessionId: yes
sid = sessionId: yes
expiresAt: exp
expiresIn: exp - iat
claims: {"creator_mode":true,"dashboard":"<string>","deployment_id":123,"email":"<string>","embed_tenant":"acme-eu","ephemeral":true,"ephemeral_ttl":123,"group_definitions":[{"description":"<string>","name":"<string>"}],"groups":["<string>"],"internal_id":"<string>","profile":{"displayName":"<string>","picture":"<string>"},"roles":["<string>"],"security_context":{},"sub":"<string>","tenant":"acme","theme":{"analyticsChat":{"backgroundColor":"<string>","chatInput":{"backgroundColor":"<string>","borderColor":"<string>"}},"chat":{"inputColor":"<string>"},"font":"<string>","primaryColor":"<string>"},"user_attribute_definitions":[{"defaultValue":"<string>","description":"<string>","displayName":"<string>","name":"<string>"}],"user_attributes":[{"name":"<string>","value":"<string>"}]}
module: 200 sub=<string> tenant=acme token= auth=
module, payload changed: 401 SESSION_INVALID
exchange again: 409 EXCHANGE_USED
module, after the second exchange: 200 sub=<string> tenant=acme token= auth=
log holds the token: no
log holds the key: no



=== TEST 3: only deploymentId is required
--- request eval
::body()
--- error_code: 200
--- response_body_filters eval
\&::check_minted
--- response_body
fields: sessionId
sessionId: uuid v4
exchange: 200 ok
exchange fields: expiresAt expiresIn token
exchange Content-Type: application/json
exchange Cache-Control: no-store
Crypt::JWT: alg=EdDSA kid=ed-1 typ=embed-session+jwt
lifetime: 900
iat: the exchange
jti = sessionId: yes
sid = sessionId: yes
expiresAt: exp
expiresIn: exp - iat
claims: {"deployment_id":7,"tenant":"acme"}
module: 200 sub= tenant=acme token= auth=
module, payload changed: 401 SESSION_INVALID
exchange again: 409 EXCHANGE_USED
module, after the second exchange: 200 sub= tenant=acme token= auth=
log holds the token: no
log holds the key: no



=== TEST 4: every null-able member may be null, and is then absent from the token
--- request eval
::body(map { "\"$_\":null" } qw(creatorMode email embedTenantName
       ephemeralTtlSeconds externalId groupDefinitions groups internalId
       isEphemeral publicDashboardId roles userAttributeDefinitions
       userAttributes))
--- error_code: 200
--- response_body_filters eval
\&::check_minted
--- response_body
fields: sessionId
sessionId: uuid v4
exchange: 200 ok
exchange fields: expiresAt expiresIn token
exchange Content-Type: application/json
exchange Cache-Control: no-store
Crypt::JWT: alg=EdDSA kid=ed-1 typ=embed-session+jwt
lifetime: 900
iat: the exchange
jti = sessionId: yes
sid = sessionId: yes
expiresAt: exp
expiresIn: exp - iat
claims: {"deployment_id":7,"tenant":"acme"}
module: 200 sub= tenant=acme token= auth=
module, payload changed: 401 SESSION_INVALID
exchange again: 409 EXCHANGE_USED
module, after the second exchange: 200 sub= tenant=acme token= auth=
log holds the token: no
log holds the key: no



=== TEST 5: deploymentId: required, a whole number, not null
--- pipelined_requests eval
["POST $::URI\n{}",
 "POST $::URI\n{\"deploymentId\":\"12a\"}",
 "POST $::URI\n{\"deploymentId\":1.5}",
 "POST $::URI\n{\"deploymentId\":null}",
 "POST $::URI\n{\"deploymentId\":true}",
 "POST $::URI\n{\"deploymentId\":0}"]
--- error_code eval
[(400) x 6]
--- response_body_filters eval
\&::check_error
--- response_body eval
[(::bad('deploymentId')) x 6]



=== TEST 6: embedTenantName: ^[a-z][a-z0-9-]{3,34}[a-z0-9]$
--- pipelined_requests eval
[map { ::body("\"embedTenantName\":\"$_\"") }
 'acme', 'acmee', 'a' . ('b' x 34) . 'c', 'a' . ('b' x 35) . 'c',
 'Acme-eu', '1acme', 'acme-', 'acme_eu', 'ac-m-e', "acme-eu\\n", ' acme-eu']
--- error_code eval
[400, 200, 200, 400, 400, 400, 400, 400, 200, 400, 400]
--- response_body_filters eval
\&::check_error
--- response_body eval
[::bad('embedTenantName'), $::OK, $::OK, (::bad('embedTenantName')) x 5,
 $::OK, (::bad('embedTenantName')) x 2]



=== TEST 7: member types: strings, booleans, arrays, objects
--- pipelined_requests eval
[::body('"groups":["sales",1]'),
 ::body('"roles":"admin"'),
 ::body('"creatorMode":"true"'),
 ::body('"isEphemeral":1'),
 ::body('"email":42'),
 ::body('"userAttributes":{}'),
 ::body('"groupDefinitions":"x"'),
 ::body('"embedTheme":[]'),
 ::body('"securityContext":null'),
 ::body('"userProfile":null'),
 ::body('"ephemeralTtlSeconds":"sixty"'),
 ::body('"groups":[]', '"roles":["viewer","editor"]', '"securityContext":{"region":"eu","ids":[1,2]}')]
--- error_code eval
[(400) x 11, 200]
--- response_body_filters eval
\&::check_error
--- response_body eval
[::bad('groups[1]'), ::bad('roles'), ::bad('creatorMode'),
 ::bad('isEphemeral'), ::bad('email'), ::bad('userAttributes'),
 ::bad('groupDefinitions'), ::bad('embedTheme'), ::bad('securityContext'),
 ::bad('userProfile'), ::bad('ephemeralTtlSeconds'), $::OK]



=== TEST 8: unknown members are refused; two problems, two details
--- pipelined_requests eval
[::body('"tenantId":"acme"'),
 "POST $::URI\n{\"deploymentId\":\"x\",\"embedTenantName\":\"X\"}"]
--- error_code eval
[400, 400]
--- response_body_filters eval
\&::check_error
--- response_body eval
[::bad('tenantId'), ::bad('deploymentId embedTenantName')]



=== TEST 9: admin only: a key without scope=admin gets 403
--- more_headers eval
::auth('member')
--- request eval
"POST $::URI\n$::CURL_BODY_NAMED"
--- error_code: 403
--- response_body_like chomp
^\{"error":"[^"]+","code":"FORBIDDEN"\}\n?$



=== TEST 10: embedding not enabled for the tenant: 403
--- more_headers eval
::auth('noembed')
--- request eval
"POST $::URI\n$::CURL_BODY_NAMED"
--- error_code: 403
--- response_body_like chomp
^\{"error":"Embedding is not enabled for this tenant","code":"EMBED_DISABLED"\}\n?$



=== TEST 11: no key, an unknown key, a key in the wrong header: 401
--- pipelined_requests eval
[("POST $::URI\n$::CURL_BODY_NAMED") x 3]
--- more_headers eval
["Content-Type: application/json",
 ::auth('unknown'),
 "X-Api-Key: $::KEY{admin}"]
--- error_code eval
[401, 401, 401]
--- response_body_like eval
['"code":"API_KEY_REQUIRED"', '"code":"API_KEY_INVALID"',
 '"code":"API_KEY_REQUIRED"']
--- no_error_log eval
["[error]", ::not_logged(substr($::KEY{unknown}, 13)),
 ::not_logged(substr($::KEY{admin}, 13))]



=== TEST 12: GET: 405, Allow: POST
--- request
GET /api/v1/embed/generate-session
--- error_code: 405
--- response_headers
Allow: POST
--- response_body_like chomp
^\{"error":"[^"]+","code":"METHOD_NOT_ALLOWED"\}\n?$



=== TEST 13: the exchange's errors: 404 EXCHANGE_NOT_FOUND for an unknown or malformed sessionId, 400 without one, POST only; then the ticket is exchanged once, 409 EXCHANGE_USED the second time
--- request eval
::body()
--- error_code: 200
--- response_body_filters eval
\&::check_exchange_errors
--- response_body
unknown sessionId: 404 EXCHANGE_NOT_FOUND
not a sessionId: 404 EXCHANGE_NOT_FOUND
the sessionId in capitals: 404 EXCHANGE_NOT_FOUND
no sessionId: 400 VALIDATION_FAILED (details: sessionId)
another member: 400 VALIDATION_FAILED (details: sessionId)
not JSON: 400 INVALID_JSON
GET: 405 METHOD_NOT_ALLOWED, Allow: POST
module, the sessionId as a token: 401 SESSION_INVALID
the sessionId, once: 200 ok
the sessionId, twice: 409 EXCHANGE_USED



=== TEST 14: a ticket not exchanged in time: 410 EXCHANGE_EXPIRED (no_example: the example with 2 second tickets instead of 5 minutes, nothing else changed)
--- no_example
--- main_config eval
$::MAIN_2S
--- http_config eval
$::HTTP_2S . $::STUB
--- config
# the example's servers
--- request eval
::body()
--- error_code: 200
--- response_body_filters eval
\&::check_expired
--- response_body
after 3 seconds: 410 EXCHANGE_EXPIRED



=== TEST 15: the token's 15 minutes count from the exchange, not from the generate
--- request eval
::body()
--- error_code: 200
--- response_body_filters eval
\&::check_late
--- response_body
exchange: 200 ok
iat: the exchange
lifetime: 900
expiresIn: 900



=== TEST 16: deploymentId as the schema's number (123) or as the string of its digits ("123"): 200 both, and the token's deployment_id is the JSON number 123
--- pipelined_requests eval
["POST $::URI\n{\"deploymentId\":123}",
 "POST $::URI\n{\"deploymentId\":\"123\"}"]
--- error_code eval
[200, 200]
--- response_body_filters eval
\&::check_claims
--- response_body eval
[("deployment_id: 123\nephemeral: -\nephemeral_ttl: -\nlifetime: 900\n") x 2]



=== TEST 17: deploymentId that is not a whole number, as a number or in a string (123.0, 1.5, "123.0", "+123", " 123", "1e2"): 400 VALIDATION_FAILED at deploymentId
--- pipelined_requests eval
[map { "POST $::URI\n{\"deploymentId\":$_}" }
     '123.0', '1.5', '"123.0"', '"+123"', '" 123"', '"1e2"']
--- error_code eval
[(400) x 6]
--- response_body_filters eval
\&::check_detail
--- response_body eval
[("VALIDATION_FAILED\ndeploymentId: must be an integer\n") x 2,
 ("VALIDATION_FAILED\ndeploymentId: must be an integer (or a string of its decimal digits)\n") x 4]



=== TEST 18: ephemeralTtlSeconds in whole seconds, as a number or a string of digits, or null: the claim ephemeral_ttl (or none); the token's lifetime stays 15 minutes whatever it says
--- pipelined_requests eval
[::body('"ephemeralTtlSeconds":60', '"isEphemeral":true'),
 ::body('"ephemeralTtlSeconds":"60"', '"isEphemeral":true'),
 ::body('"ephemeralTtlSeconds":null'),
 ::body('"ephemeralTtlSeconds":86400')]
--- error_code eval
[200, 200, 200, 200]
--- response_body_filters eval
\&::check_claims
--- response_body eval
[("deployment_id: 7\nephemeral: true\nephemeral_ttl: 60\nlifetime: 900\n") x 2,
 "deployment_id: 7\nephemeral: -\nephemeral_ttl: -\nlifetime: 900\n",
 "deployment_id: 7\nephemeral: -\nephemeral_ttl: 86400\nlifetime: 900\n"]



=== TEST 19: ephemeralTtlSeconds not whole seconds of at least 1 (0, "0", 1.5, "sixty"): 400 VALIDATION_FAILED with its own message
--- pipelined_requests eval
[::body('"ephemeralTtlSeconds":0'),
 ::body('"ephemeralTtlSeconds":"0"'),
 ::body('"ephemeralTtlSeconds":1.5'),
 ::body('"ephemeralTtlSeconds":"sixty"')]
--- error_code eval
[400, 400, 400, 400]
--- response_body_filters eval
\&::check_detail
--- response_body eval
[("VALIDATION_FAILED\nephemeralTtlSeconds: must be at least 1\n") x 2,
 "VALIDATION_FAILED\nephemeralTtlSeconds: must be an integer\n",
 "VALIDATION_FAILED\nephemeralTtlSeconds: must be an integer (or a string of its decimal digits)\n"]
