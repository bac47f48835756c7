# Seed 003, CraftKit "Create an embed session" (POST /v1/embed/sessions),
# served by the mint location of conf-examples/craftkit.conf: the location
# block is read from that file, so the example and these tests cannot drift
# apart.  The documented cURL request gets the documented 200; the EdDSA
# token it carries verifies with Crypt::JWT and with the module's own
# verifier (same keys); every error of CraftKit's table that configuration
# can produce has its code; the key never reaches the log (rule 23).

use FindBin;
use lib "$FindBin::Bin/lib";
use EmbedSessionTest;
use EmbedSessionMint;

use Crypt::JWT qw(decode_jwt);
use JSON::PP ();

repeat_each(2);
no_shuffle();

our $JSON = JSON::PP->new->canonical->allow_nonref;

# --- API keys: "ck_live_" + 40 characters, stored as LOOKUP:SHA256-HEX -----

our %KEY = (
    acme    => 'ck_live_AcmeEmbdUSjW4gfC1i8Cb5MHmWpGhe9Z53ksAgFo',
    noembed => 'ck_live_NoEmbedXqcGeNdj5Zv7RC0Y15Jg2eWB3pE2KXPL7',
    revoked => 'ck_live_RevokedXwGZk6gBQpzjtUK2GFsc3nZcMlooT9C3j',
    expired => 'ck_live_ExpiredXjg3ELFODFe96eTOhVzS7a1KeZTJh6TWO',
    # right lookup, wrong secret part
    wrong   => 'ck_live_AcmeEmbdXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX',
    # a lookup that is not in the file
    unknown => 'ck_live_Unknown0BnPa5mSNK3Mkq8I99yH04UiLMsCDK0am',
);

our $KEY_FILE = join '', map { "$_\n" }
    '# CraftKit project keys (test)',
    'acme key=' . stored($KEY{acme})
        . ' tenant=prj_acme flags=embed',
    'noembed key=' . stored($KEY{noembed}) . ' tenant=prj_plain',
    'revoked key=' . stored($KEY{revoked})
        . ' tenant=prj_old flags=embed status=revoked',
    'expired key=' . stored($KEY{expired})
        . ' tenant=prj_gone flags=embed expires=1000000000';

sub auth {
    my ($name) = @_;
    return "Authorization: Bearer $KEY{$name}\nContent-Type: application/json";
}

# --- the mint location of conf-examples/craftkit.conf -----------------------

our $MINT = example_location("$FindBin::Bin/../conf-examples/craftkit.conf",
                            '/v1/embed/sessions');

# the server around it: the example's zone name, issuer and audience; the
# fixture Ed25519 key instead of the generated demo key; /verify is the
# module's own verifier with the same keys, as embed.craftkit.dev would
# verify (the token's origins: https://embed.craftkit.dev)

our $SERVER = <<"_EOC_";
    # tokens up to the verifier's own cap (8 KiB) fit in a request header
    large_client_header_buffers  4 16k;

    embed_session_keys  \$TEST_NGINX_ES_DATA/keys/ed25519.jwks;
    embed_session_issuer    https://api.craftkit.dev;
    embed_session_audience  embed.craftkit.dev;

    $MINT

    location = /verify {
        embed_session_verify        on;
        embed_session_max_lifetime  4h;
        proxy_set_header  X-Claims  "sub=\$embed_session_sub tenant=\$embed_session_tenant jti=\$embed_session_jti mode=\$embed_session_claim_mode project=\$embed_session_claim_project";
        proxy_pass  http://127.0.0.1:\$TEST_NGINX_SERVER_PORT/backend;
    }

    location = /backend {
        return 200 "\$http_x_claims\\n";
    }
_EOC_

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

# the key file is written by --- user_files into the html directory
our $HTTP = "embed_session_api_keys zone=craftkit_keys:1m "
            . "file=$ENV{TEST_NGINX_HTML_DIR}/craftkit.api-keys;\n";

# --- checks on responses ----------------------------------------------------

our $PUB = jwk('ed25519.pub');

# a request to /verify: "STATUS claims" or "STATUS CODE", the token's jti
# written as <session_id>

sub verify_with_module {
    my ($token, $origin, $jti) = @_;

    return verify_at($token, origin => $origin // 'https://embed.craftkit.dev',
                     jti => $jti, jti_as => '<session_id>');
}

# the 200 of a mint, as lines to compare with --- response_body

sub check_minted {
    my ($body) = @_;
    my @out;

    my $r = eval { $JSON->decode($body) }
        or return "not JSON: $body\n";

    push @out, 'fields: ' . join ' ', sort keys %$r;

    my $token = $r->{session_token} // '';

    push @out, 'session_id: '
        . ($r->{session_id} =~ /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/
           ? 'uuid v4' : "bad ($r->{session_id})");

    push @out, 'iframe_url: '
        . ($r->{iframe_url} eq
           "https://embed.craftkit.dev/embed/builder?session_token=$token"
           ? 'builder + session_token' : "bad ($r->{iframe_url})");

    my ($h, $c) = eval {
        decode_jwt(token => $token, key => { %$PUB }, decode_header => 1,
                   accepted_alg => 'EdDSA', verify_exp => 1, verify_iat => 1,
                   verify_iss => 'https://api.craftkit.dev',
                   verify_aud => 'embed.craftkit.dev');
    };

    if (!$c) {
        return join "\n", @out, "Crypt::JWT: $@", '';
    }

    push @out, "Crypt::JWT: alg=$h->{alg} kid=$h->{kid} typ=$h->{typ}";
    push @out, 'lifetime: ' . ($c->{exp} - $c->{iat});
    push @out, 'jti = session_id: '
        . ($c->{jti} eq $r->{session_id} ? 'yes' : 'no');

    my $exp_iso = '';
    my $t = iso_time($r->{expires_at});
    if (defined $t) {
        $exp_iso = $t == $c->{exp} ? 'exp' : "exp" . ($t - $c->{exp});
    }
    push @out, "expires_at: ISO 8601 = " . ($exp_iso || "bad ($r->{expires_at})");
    push @out, 'expires_in: '
        . (($r->{expires_in} // -1) == $c->{exp} - $c->{iat}
           ? 'exp - iat' : "bad ($r->{expires_in})");

    my %seen = %$c;
    delete @seen{qw(iat exp jti iss aud)};
    push @out, 'claims: ' . $JSON->encode(\%seen);

    push @out, 'module: ' . verify_with_module($token, undef, $c->{jti});
    push @out, 'module, other origin: '
        . verify_with_module($token, 'https://evil.example.com');

    my ($hd, $pl, $sig) = split /\./, $token;
    my $claims = $JSON->decode(b64url_decode($pl));
    $claims->{tenant} = 'org_evil';
    push @out, 'module, payload changed: '
        . verify_with_module(join '.', $hd,
                             b64url_encode($JSON->encode($claims)), $sig);

    # rule 23: neither the key nor the token is logged
    my $log = read_log();
    push @out, 'log holds the token: '
        . (index($log, $sig) >= 0 ? 'yes' : 'no');
    push @out, 'log holds the key: '
        . (index($log, substr($KEY{acme}, 16)) >= 0 ? 'yes' : 'no');

    return join "\n", @out, '';
}

# a mint near the token size cap: refused, or a token the module verifies

sub check_size {
    my ($body) = @_;

    my $r = eval { $JSON->decode($body) }
        or return "not JSON: $body\n";

    return "refused: $r->{code}\n" if defined $r->{code};

    my $token = $r->{session_token} // '';
    my $size = length($token) <= 8192 ? 'at most 8 KiB' : 'over 8 KiB';
    my ($status) = split / /, verify_with_module($token);

    return "minted, $size, module: $status\n";
}

# an error: "STATUS-less" summary "code, issue paths"

sub check_error {
    my ($body) = @_;

    my $r = eval { $JSON->decode($body) }
        or return "not JSON: $body\n";

    my @keys = sort keys %$r;
    my $out = "keys: @keys\ncode: " . ($r->{code} // '-') . "\n";

    if ($r->{issues}) {
        $out .= 'issues: '
            . join(' ', sort map { $_->{path} // '?' } @{ $r->{issues} })
            . "\n";
        $out .= "issue messages: "
            . ((grep { !defined $_->{message} || $_->{message} eq '' }
                @{ $r->{issues} }) ? 'missing' : 'all set') . "\n";
    }

    return $out;
}

# the request body of the seed's cURL example, byte for byte

our $CURL_BODY = <<'_EOB_';
{
    "tenant": { "externalId": "org_123", "displayName": "Acme Corp" },
    "actor":  { "externalId": "usr_456", "displayName": "Jane Smith", "email": "jane@acme.com" },
    "scope":  { "mode": "edit", "templateExternalId": "invoice" },
    "catalogRef": { "name": "my-catalog" },
    "permissions": { "publish": true, "saveDraft": true }
  }
_EOB_
chomp $CURL_BODY;

our $MIN = '"tenant":{"externalId":"org_1","displayName":"Org"},'
           . '"actor":{"externalId":"usr_1"}';

sub body {
    my (@more) = @_;
    return "POST /v1/embed/sessions\n{" . join(',', $MIN, @more) . "}";
}

# the same without the actor

sub body2 {
    my (@more) = @_;
    return "POST /v1/embed/sessions\n{"
           . join(',', '"tenant":{"externalId":"org_1","displayName":"Org"}',
                  @more)
           . "}";
}

block_defaults(
    http_config  => $HTTP,
    config       => $SERVER,
    user_files   => [['craftkit.api-keys', $KEY_FILE]],
    more_headers => auth('acme'),
    no_error_log => "[error]\n",
);

run_tests();

Test::More::done_testing();

__DATA__

=== TEST 1: the seed's cURL example: 200 with the documented fields, a token that Crypt::JWT and the module verify
--- request eval
"POST /v1/embed/sessions\n$::CURL_BODY"
--- error_code: 200
--- response_headers
Content-Type: application/json
--- response_body_filters eval
\&::check_minted
--- response_body
fields: expires_at expires_in iframe_url session_id session_token
session_id: uuid v4
iframe_url: builder + session_token
Crypt::JWT: alg=EdDSA kid=ed-1 typ=embed-session+jwt
lifetime: 14400
jti = session_id: yes
expires_at: ISO 8601 = exp
expires_in: exp - iat
claims: {"catalog":{"name":"my-catalog"},"email":"jane@acme.com","mode":"edit","name":"Jane Smith","origins":"https://embed.craftkit.dev","permissions":{"publish":true,"saveDraft":true},"project":"prj_acme","sub":"usr_456","template":"invoice","tenant":"org_123","tenant_name":"Acme Corp"}
module: 200 sub=usr_456 tenant=org_123 jti=<session_id> mode=edit project=prj_acme
module, other origin: 403 ORIGIN_NOT_ALLOWED
module, payload changed: 401 SESSION_INVALID
log holds the token: no
log holds the key: no



=== TEST 2: the smallest body: scope defaults to { mode: 'edit' }
--- request eval
::body()
--- error_code: 200
--- response_body_filters eval
\&::check_minted
--- response_body
fields: expires_at expires_in iframe_url session_id session_token
session_id: uuid v4
iframe_url: builder + session_token
Crypt::JWT: alg=EdDSA kid=ed-1 typ=embed-session+jwt
lifetime: 14400
jti = session_id: yes
expires_at: ISO 8601 = exp
expires_in: exp - iat
claims: {"mode":"edit","origins":"https://embed.craftkit.dev","project":"prj_acme","sub":"usr_1","tenant":"org_1","tenant_name":"Org"}
module: 200 sub=usr_1 tenant=org_1 jti=<session_id> mode=edit project=prj_acme
module, other origin: 403 ORIGIN_NOT_ALLOWED
module, payload changed: 401 SESSION_INVALID
log holds the token: no
log holds the key: no



=== TEST 3: every documented member at once, fill mode
--- request eval
::body('"scope":{"mode":"fill","templateExternalId":"t1","initialName":"New form"}',
       '"variableCatalog":{"variables":[{"key":"customer.name"}]}',
       '"permissions":{"submitForm":true}',
       '"permissionsPreset":"reviewer"',
       '"branding":{"primaryColor":"#123456"}',
       '"appearance":{"baseTheme":"dark"}',
       '"callbacks":{"onCloseUrl":"https://partner.example/close"}',
       '"limits":{"maxPublishes":5}',
       '"form":{"showPreview":true}')
--- error_code: 200
--- response_body_filters eval
\&::check_minted
--- response_body
fields: expires_at expires_in iframe_url session_id session_token
session_id: uuid v4
iframe_url: builder + session_token
Crypt::JWT: alg=EdDSA kid=ed-1 typ=embed-session+jwt
lifetime: 14400
jti = session_id: yes
expires_at: ISO 8601 = exp
expires_in: exp - iat
claims: {"appearance":{"baseTheme":"dark"},"branding":{"primaryColor":"#123456"},"callbacks":{"onCloseUrl":"https://partner.example/close"},"form":{"showPreview":true},"initial_name":"New form","limits":{"maxPublishes":5},"mode":"fill","origins":"https://embed.craftkit.dev","permissions":{"submitForm":true},"permissions_preset":"reviewer","project":"prj_acme","sub":"usr_1","template":"t1","tenant":"org_1","tenant_name":"Org","variable_catalog":{"variables":[{"key":"customer.name"}]}}
module: 200 sub=usr_1 tenant=org_1 jti=<session_id> mode=fill project=prj_acme
module, other origin: 403 ORIGIN_NOT_ALLOWED
module, payload changed: 401 SESSION_INVALID
log holds the token: no
log holds the key: no



=== TEST 4: 401 missing_authorization: no Authorization header
--- more_headers
Content-Type: application/json
--- request eval
"POST /v1/embed/sessions\n$::CURL_BODY"
--- error_code: 401
--- response_body_like chomp
^\{"error":"[^"]+","code":"missing_authorization"\}\n?$



=== TEST 5: 401 missing_authorization: not a Bearer credential
--- more_headers eval
"Authorization: Basic " . MIME::Base64::encode_base64("u:$::KEY{acme}", '')
--- request eval
"POST /v1/embed/sessions\n$::CURL_BODY"
--- error_code: 401
--- response_body_like chomp
^\{"error":"[^"]+","code":"missing_authorization"\}\n?$



=== TEST 6: 401 invalid_credentials: unknown key, wrong secret, revoked, expired, embed not enabled, not a key
--- pipelined_requests eval
[("POST /v1/embed/sessions\n$::CURL_BODY") x 6]
--- more_headers eval
[(map { ::auth($_) } qw(unknown wrong revoked expired noembed)),
 "Authorization: Bearer not-a-key\nContent-Type: application/json"]
--- error_code eval
[401, 401, 401, 401, 401, 401]
--- response_body_like eval
[('^\{"error":"[^"]+","code":"invalid_credentials"\}\n?$') x 6]
--- no_error_log eval
["[error]",
 map { ::not_logged(substr($::KEY{$_}, 16)) }
     qw(unknown wrong revoked expired noembed)]



=== TEST 7: 400 invalid_json
--- pipelined_requests eval
["POST /v1/embed/sessions\n{\"tenant\": {\"externalId\": \"org_123\"",
 "POST /v1/embed/sessions\n{'tenant': {}}",
 "POST /v1/embed/sessions\n{\"tenant\":{},}"]
--- error_code eval
[400, 400, 400]
--- response_body_like eval
[('^\{"error":"[^"]+","code":"invalid_json"\}\n?$') x 3]



=== TEST 8: 422 invalid_request: the details array is called "issues"
--- request eval
"POST /v1/embed/sessions\n{\"tenant\":{\"externalId\":\"org_1\",\"displayName\":\"Org\"}}"
--- error_code: 422
--- response_body_filters eval
\&::check_error
--- response_body
keys: code error issues
code: invalid_request
issues: actor
issue messages: all set



=== TEST 9: 422: tenant and actor bounds (1..160, 1..200, <=200)
--- pipelined_requests eval
["POST /v1/embed/sessions\n{\"tenant\":{\"externalId\":\"\",\"displayName\":\"\"},\"actor\":{\"externalId\":\"\"}}",
 "POST /v1/embed/sessions\n{\"tenant\":{\"externalId\":\"" . ('x' x 161)
     . "\",\"displayName\":\"" . ('y' x 201) . "\"},\"actor\":{\"externalId\":\""
     . ('z' x 161) . "\",\"displayName\":\"" . ('w' x 201) . "\"}}",
 "POST /v1/embed/sessions\n{\"tenant\":{\"externalId\":\"" . ('x' x 160)
     . "\",\"displayName\":\"" . ('y' x 200) . "\"},\"actor\":{\"externalId\":\""
     . ('z' x 160) . "\",\"displayName\":\"" . ('w' x 200) . "\"}}",
 "POST /v1/embed/sessions\n{\"tenant\":{},\"actor\":{}}"]
--- error_code eval
[422, 422, 200, 422]
--- response_body_filters eval
\&::check_error
--- response_body eval
["keys: code error issues\ncode: invalid_request\nissues: actor.externalId tenant.displayName tenant.externalId\nissue messages: all set\n",
 "keys: code error issues\ncode: invalid_request\nissues: actor.displayName actor.externalId tenant.displayName tenant.externalId\nissue messages: all set\n",
 "keys: expires_at expires_in iframe_url session_id session_token\ncode: -\n",
 "keys: code error issues\ncode: invalid_request\nissues: actor.externalId tenant.displayName tenant.externalId\nissue messages: all set\n"]



=== TEST 10: 422: lengths count characters, not bytes
--- request eval
"POST /v1/embed/sessions\n{\"tenant\":{\"externalId\":\"" . ("\xc3\xa9" x 160)
    . "\",\"displayName\":\"Org\"},\"actor\":{\"externalId\":\"u\"}}"
--- error_code: 200
--- response_body_like chomp
"session_token":"



=== TEST 11: 422: actor.email and actor.avatarUrl are validated
--- pipelined_requests eval
[::body2('"actor":{"externalId":"u","email":"not-an-email"}'),
 ::body2('"actor":{"externalId":"u","email":"jane@"}'),
 ::body2('"actor":{"externalId":"u","avatarUrl":"not a url"}'),
 ::body2('"actor":{"externalId":"u","avatarUrl":"javascript:alert(1)"}'),
 ::body2('"actor":{"externalId":"u","email":"jane@acme.com","avatarUrl":"https://cdn.acme.com/j.png"}')]
--- error_code eval
[422, 422, 422, 422, 200]
--- response_body_filters eval
\&::check_error
--- response_body eval
["keys: code error issues\ncode: invalid_request\nissues: actor.email\nissue messages: all set\n",
 "keys: code error issues\ncode: invalid_request\nissues: actor.email\nissue messages: all set\n",
 "keys: code error issues\ncode: invalid_request\nissues: actor.avatarUrl\nissue messages: all set\n",
 "keys: code error issues\ncode: invalid_request\nissues: actor.avatarUrl\nissue messages: all set\n",
 "keys: expires_at expires_in iframe_url session_id session_token\ncode: -\n"]



=== TEST 12: 422: scope.mode is one of edit, create, view, fill; templateExternalId <= 200
--- pipelined_requests eval
[::body('"scope":{"mode":"delete"}'),
 ::body('"scope":{"mode":"EDIT"}'),
 ::body('"scope":{"templateExternalId":"' . ('t' x 201) . '"}'),
 ::body('"scope":{"mode":"create","initialName":"x"}'),
 ::body('"scope":{"mode":"view","templateExternalId":"' . ('t' x 200) . '"}')]
--- error_code eval
[422, 422, 422, 200, 200]
--- response_body_filters eval
\&::check_error
--- response_body eval
["keys: code error issues\ncode: invalid_request\nissues: scope.mode\nissue messages: all set\n",
 "keys: code error issues\ncode: invalid_request\nissues: scope.mode\nissue messages: all set\n",
 "keys: code error issues\ncode: invalid_request\nissues: scope.templateExternalId\nissue messages: all set\n",
 "keys: expires_at expires_in iframe_url session_id session_token\ncode: -\n",
 "keys: expires_at expires_in iframe_url session_id session_token\ncode: -\n"]



=== TEST 13: 422: variableCatalog and catalogRef together; catalogRef.name required, 1..120; version a number
--- pipelined_requests eval
[::body('"variableCatalog":{}', '"catalogRef":{"name":"c"}'),
 ::body('"catalogRef":{}'),
 ::body('"catalogRef":{"name":""}'),
 ::body('"catalogRef":{"name":"' . ('c' x 121) . '"}'),
 ::body('"catalogRef":{"name":"c","version":"3"}'),
 ::body('"catalogRef":{"name":"' . ('c' x 120) . '","version":3}'),
 ::body('"variableCatalog":{"anything":[1,2,3]}')]
--- error_code eval
[422, 422, 422, 422, 422, 200, 200]
--- response_body_filters eval
\&::check_error
--- response_body eval
["keys: code error issues\ncode: invalid_request\nissues: catalogRef\nissue messages: all set\n",
 "keys: code error issues\ncode: invalid_request\nissues: catalogRef.name\nissue messages: all set\n",
 "keys: code error issues\ncode: invalid_request\nissues: catalogRef.name\nissue messages: all set\n",
 "keys: code error issues\ncode: invalid_request\nissues: catalogRef.name\nissue messages: all set\n",
 "keys: code error issues\ncode: invalid_request\nissues: catalogRef.version\nissue messages: all set\n",
 "keys: expires_at expires_in iframe_url session_id session_token\ncode: -\n",
 "keys: expires_at expires_in iframe_url session_id session_token\ncode: -\n"]



=== TEST 14: 422: permissionsPreset <= 60; the override objects must be objects
--- pipelined_requests eval
[::body('"permissionsPreset":"' . ('p' x 61) . '"'),
 ::body('"permissions":true'),
 ::body('"branding":"dark"'),
 ::body('"appearance":[]'),
 ::body('"callbacks":null'),
 ::body('"limits":5'),
 ::body('"form":"x"'),
 ::body('"permissionsPreset":"' . ('p' x 60) . '"')]
--- error_code eval
[422, 422, 422, 422, 422, 422, 422, 200]
--- response_body_filters eval
\&::check_error
--- response_body eval
[(map { "keys: code error issues\ncode: invalid_request\nissues: $_\nissue messages: all set\n" }
  qw(permissionsPreset permissions branding appearance callbacks limits form)),
 "keys: expires_at expires_in iframe_url session_id session_token\ncode: -\n"]



=== TEST 15: 422: unknown members are refused in the root and in declared objects, not in the opaque ones
--- pipelined_requests eval
[::body('"project":"p1"'),
 "POST /v1/embed/sessions\n{\"tenant\":{\"externalId\":\"o\",\"displayName\":\"O\",\"plan\":\"pro\"},\"actor\":{\"externalId\":\"u\",\"role\":\"admin\"}}",
 ::body('"permissions":{"anything":{"deep":[true]}}')]
--- error_code eval
[422, 422, 200]
--- response_body_filters eval
\&::check_error
--- response_body eval
["keys: code error issues\ncode: invalid_request\nissues: project\nissue messages: all set\n",
 "keys: code error issues\ncode: invalid_request\nissues: actor.role tenant.plan\nissue messages: all set\n",
 "keys: expires_at expires_in iframe_url session_id session_token\ncode: -\n"]



=== TEST 16: 405 for GET, with Allow: POST
--- request
GET /v1/embed/sessions
--- error_code: 405
--- response_headers
Allow: POST
--- response_body_like chomp
^\{"error":"[^"]+","code":"method_not_allowed"\}\n?$



=== TEST 17: the example's renames hold for every code it renames, flat envelope
--- pipelined_requests eval
["POST /v1/embed/sessions\n{\"tenant\":",
 ::body2('"actor":{"externalId":"u","email":"x"}')]
--- error_code eval
[400, 422]
--- response_body_like eval
['^\{"error":"Request body is not valid JSON","code":"invalid_json"\}\n?$',
 '^\{"error":"Invalid request","code":"invalid_request","issues":\[\{"path":"actor\.email","message":"[^"]+"\}\]\}\n?$']



=== TEST 18: the example's 5k body cap keeps every token under the verifier's 8 KiB: the largest body mints a token the module verifies
--- pipelined_requests eval
[map { ::body('"variableCatalog":{"v":"' . ('x' x $_) . '"}') }
     5120 - length(::body('"variableCatalog":{"v":""}')) + length("POST /v1/embed/sessions\n"),
     5121 - length(::body('"variableCatalog":{"v":""}')) + length("POST /v1/embed/sessions\n")]
--- error_code eval
[200, 413]
--- response_body_filters eval
\&::check_size
--- response_body eval
["minted, at most 8 KiB, module: 200\n",
 "refused: payload_too_large\n"]
