# Seed contract: Pilot Status (shared/seeds 000 "Create embed session" and
# 001 "API Authentication"), served by configuration alone; the mint.
#
# Plays the seed's documented POST /v1/embed/sessions: the schema rules
# (surface chat|connect, allowedOrigins 1..20 exact origins, ttlSeconds up
# to 3600 with 900 chat / 1800 connect defaults, whatsappNumberIds limited
# to a number key's own number and required for a tenant key on chat,
# brandingOverride), both forms a client may send where the schema and
# the example disagree (ttlSeconds 900 or "900", arrays or a JSON array in
# a string), the 201 body, the flat error envelope {error, code} with 400
# "Validation error", POST only.  The API keys are in
# 211-seed-pilot-status-keys.t, the refresh in
# 212-seed-pilot-status-refresh.t, the browser side in
# 213-seed-pilot-status-browser.t.
#
# conf-examples/pilot-status.conf as shipped, its application, the key
# file and the seed's requests and checks are t/lib/EmbedSessionPilotStatus.pm.

use FindBin;
use lib "$FindBin::Bin/lib";
use EmbedSessionTest;
use EmbedSessionMint;
use EmbedSessionPilotStatus;

use JSON::PP ();

repeat_each(1);
no_shuffle();

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



=== TEST 24: the mint endpoint is POST only
--- request
GET /v1/embed/sessions
--- error_code: 405
--- response_headers
Allow: POST
--- json_check eval
sub { ::Test::More::is($_[0]{code}, 'METHOD_NOT_ALLOWED', "$_[1] - code") }



=== TEST 25: ttlSeconds strings that are not an integer within the limits: 400 naming ttlSeconds
--- pipelined_requests eval
[map { mint(ttlSeconds => $_) }
 '3601', '0', '-5', 'abc', '9e2', ' 900', '900 ', '0900', '+900', '', '900.0',
 '99999999999999999999']
--- error_code eval
[(400) x 12]
--- json_check eval
[(sub { ::flat_error(@_, 'VALIDATION_FAILED', 'Validation error',
                     'ttlSeconds') }) x 12]



=== TEST 26: allowedOrigins and whatsappNumberIds as a JSON array in a string (the schema's examples '["https://app.tenant.com"]', '["num_01HZX..."]'): 201, the body and the token hold the arrays, as for the request example's form
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



=== TEST 27: the tenant key names its numbers in a JSON array in a string: 201 with the numbers
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



=== TEST 28: an array in a string is checked as the array: its items, its size, the key's numbers; a string that holds no JSON array is 400
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



=== TEST 29: "stringified" is for integer and array fields: on a string field nginx -t names the file, the line and the field
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
