# Seed contract: Pilot Status (shared/seeds 000 "Create embed session" and
# 001 "API Authentication"), served by configuration alone; the API keys.
#
# The credentials x-api-key or x-api-key-id (never Authorization: Bearer), 401
# "Unauthorized", 429 "Too many requests" with the rate limit headers, the
# scope table for both key kinds over every endpoint family the seed names
# (TENANT_SCOPE_NOT_ALLOWED with the seed's body, NUMBER_SCOPE_NOT_ALLOWED)
# and POST /v1/api-keys/regenerate.  The mint's schema is in
# 210-seed-pilot-status-mint.t, the refresh in
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

=== TEST 1: 401 Unauthorized: no key
--- request eval
mint()
--- more_headers
Content-Type: application/json
--- error_code: 401
--- response_body_like chomp
^\{"error":"Unauthorized","code":"API_KEY_REQUIRED"\}\n?$
--- json_check eval
sub { ::flat_error(@_, 'API_KEY_REQUIRED', 'Unauthorized') }



=== TEST 2: 401 Unauthorized: unknown key, garbage, a key id in x-api-key, a raw key in x-api-key-id
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



=== TEST 3: 401: both x-api-key and x-api-key-id at once
--- request eval
mint()
--- more_headers eval
key('num-a') . "\n" . keyid('num-a') . "\nContent-Type: application/json"
--- error_code: 401
--- json_check eval
sub { ::flat_error(@_, 'API_KEY_INVALID', 'Unauthorized') }



=== TEST 4: 401: Authorization: Bearer is never accepted, not even with x-api-key
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



=== TEST 5: 401: a revoked key, an expired key
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



=== TEST 6: 429 Too many requests, with the rate limit headers on every response
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



=== TEST 7: 429: Retry-After and X-RateLimit-Reset agree with the window
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



=== TEST 8: number-scoped endpoint: a number key passes, the key never reaches the upstream
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



=== TEST 9: number-scoped endpoint with the tenant key: 403 TENANT_SCOPE_NOT_ALLOWED, the seed's body
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



=== TEST 10: tenant-only endpoint: the tenant key passes, a number key gets 403 NUMBER_SCOPE_NOT_ALLOWED
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



=== TEST 11: guarded endpoints without a key: 401 Unauthorized
--- pipelined_requests eval
["GET /v1/messages/msg_abc", "GET /v1/numbers"]
--- more_headers eval
["", ""]
--- error_code eval
[401, 401]
--- json_check eval
[(sub { ::flat_error(@_, 'API_KEY_REQUIRED', 'Unauthorized') }) x 2]



=== TEST 12: POST /v1/api-keys/regenerate: the new key once, the old key and key id then 401, the file rewritten
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



=== TEST 13: regenerate with the key id as the credential works the same
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



=== TEST 14: regenerate: a key without id_key gets no apiKeyId; the tenant key is refused; no key: 401
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



=== TEST 15: regenerate is POST only
--- request
GET /v1/api-keys/regenerate
--- more_headers eval
key('num-a')
--- error_code: 405
--- response_headers
Allow: POST



=== TEST 16: the tenant key on every number-scoped family the seed names (messages send, status, cancel, groups, newsletters, templates, analytics, media) and the ones it reaches beside them (message-status, contacts, webhooks, api-keys): 403 with the seed's body, byte for byte (the module's answer: nothing reaches the application)
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



=== TEST 17: the same families with the key id of the tenant key: 403 TENANT_SCOPE_NOT_ALLOWED
--- pipelined_requests eval
["GET /v1/webhooks", "GET /v1/contacts/c1", "GET /v1/message-status/m1"]
--- more_headers eval
[(keyid('tenant')) x 3]
--- error_code eval
[403, 403, 403]
--- json_check eval
[(sub { ::flat_error(@_, 'TENANT_SCOPE_NOT_ALLOWED',
                     'This endpoint requires a number-scoped API key') }) x 3]



=== TEST 18: a number key on the same families: each reaches the application, which learns the key's id, scope and tenant and never the key
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



=== TEST 19: the tenant key on /v1/numbers/* (create, list, get, delete, connect, status) and /v1/remote-pairing/*: each reaches the application
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



=== TEST 20: a number key on /v1/numbers/* and /v1/remote-pairing/*: 403 NUMBER_SCOPE_NOT_ALLOWED
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
