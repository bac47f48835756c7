# vim:set ft= ts=4 sw=4 et fdm=marker:

# The session lifecycle: revoke and exchange.  The server, the keys and the
# request helpers are t/lib/EmbedSessionLifecycle.pm; mint, verify and
# refresh are in 300-lifecycle-refresh.t, the status location and a full
# zone in 302-lifecycle-status.t.
#
#   revoke               owner, another key, admin=, id=$1 with DELETE,
#                        unknown and missing ids, an API key's revocation
#   exchange             generate a ticket, exchange it once (409 after),
#                        unknown, malformed, expired (410), missing member;
#                        a ticket's mint cannot answer with the token
#                        (nginx -t)

use FindBin;
use lib "$FindBin::Bin/lib";
use EmbedSessionTest;
use EmbedSessionMint;
use EmbedSessionLifecycle;

use JSON::PP ();
use Time::HiRes ();

# stateful flows with sleeps: once each
repeat_each(1);
no_shuffle();

# revoke: the owner, another key, admin=, id=$1 with DELETE

sub flow_revoke {
    my ($m) = @_;
    my @o;
    my $A = $m->{session_id} // '';

    push @o, 'another key: ' . st(revoke($A, 'other'));
    push @o, 'an admin key where admin= is not set: ' . st(revoke($A, 'admin'));
    push @o, 'token at /verify: ' . at($m->{token});

    my $res = revoke($A, 'acme');
    push @o, 'the owner: ' . st($res) . ' ' . (body_of($res) =~ s/\Q$A\E/<A>/gr);
    push @o, 'token at /verify: ' . at($m->{token});
    push @o, 'renew token at /refresh: ' . st(refresh($m->{renew_token}));
    push @o, 'token at /session/refresh: ' . st(session_refresh($m->{token}));

    $res = revoke($A, 'acme');
    push @o, 'the owner again: ' . st($res) . ' '
        . (body_of($res) =~ s/\Q$A\E/<A>/gr);

    my $B = mint_ok();
    my $bid = $B->{session_id} // '';
    $res = revoke($bid, 'admin', '/admin/revoke');
    push @o, 'an admin key with admin=admin: ' . st($res) . ' '
        . (body_of($res) =~ s/\Q$bid\E/<B>/gr);
    push @o, 'B at /verify: ' . at($B->{token});

    my $C = mint_ok();
    my $cid = $C->{session_id} // '';
    push @o, 'another key at /admin/revoke: '
        . st(revoke($cid, 'other', '/admin/revoke'));
    push @o, 'C at /verify: ' . at($C->{token});

    my %owner = (Authorization => "Bearer $KEY{acme}");
    $res = http('DELETE', "/sessions/$cid", \%owner);
    push @o, 'DELETE /sessions/<C>: ' . st($res) . ' '
        . (body_of($res) =~ s/\Q$cid\E/<C>/gr);
    push @o, 'C at /verify: ' . at($C->{token});
    push @o, 'C renew token at /refresh: ' . st(refresh($C->{renew_token}));
    push @o, 'DELETE /sessions/<C> again: '
        . st(http('DELETE', "/sessions/$cid", \%owner));
    push @o, 'GET /sessions/<C>: ' . st(http('GET', "/sessions/$cid", \%owner));
    push @o, 'DELETE /sessions/<unknown>: '
        . st(http('DELETE', '/sessions/' . new_uuid(), \%owner));
    push @o, 'DELETE /sessions/not-a-uuid: '
        . st(http('DELETE', '/sessions/not-a-uuid', \%owner));

    return @o;
}

# revoking an API key revokes the sessions it minted

sub flow_key_revoked {
    my ($m) = @_;
    my @o;

    my $other = mint_ok();
    push @o, 'a session of acme: ' . ($other->{token} ? 'minted' : 'none');

    my $res = post('/apikey/revoke', 'doomed', '');
    push @o, 'revoke the API key "doomed": ' . st($res);
    push @o, 'its session token at /verify: ' . at($m->{token});
    push @o, 'its session token at /session/refresh: '
        . st(session_refresh($m->{token}));
    push @o, 'its renew token at /refresh, its own (revoked) key: '
        . st(refresh($m->{renew_token}, key => 'doomed'));
    push @o, 'its renew token at /refresh, another key: '
        . st(refresh($m->{renew_token}));
    push @o, 'the acme session at /verify: ' . at($other->{token});

    return @o;
}

# exchange: generate, exchange once

sub flow_exchange {
    my ($g) = @_;
    my @o;
    my $id = $g->{sessionId} // '';
    my $t = time;

    push @o, fields($g);
    push @o, 'sessionId: ' . (is_uuid($id) ? 'uuid v4' : 'bad');

    # a second later: the token's time counts from the exchange
    Time::HiRes::sleep(0.1) while time < $t + 1;

    my $res = exchange($id);
    my $x = ref $res->{json} eq 'HASH' ? $res->{json} : {};
    my (undef, $c) = jose($x->{token});

    push @o, 'exchange: ' . st($res);
    push @o, fields($x);
    push @o, 'Cache-Control: ' . ($res->{headers}{'cache-control'} // '-');
    push @o, describe('token', $x->{token});
    push @o, 'jti = sid = session_id = the ticket id: '
        . yn(same($c->{jti}, $id) && same($c->{sid}, $id)
             && same($x->{session_id}, $id));
    push @o, 'iat: the exchange, not the generate: '
        . yn(($c->{iat} // 0) >= $t + 1);
    push @o, 'lifetime (ttlSeconds at generate): '
        . (($c->{exp} // 0) - ($c->{iat} // 0));
    push @o, 'expires_in: ' . ($x->{expires_in} // '-');
    push @o, 'expires_at: ' . iso_is($x->{expires_at}, $c->{exp});
    push @o, 'claims: ' . stable_claims($c);
    push @o, 'token at /verify: ' . at($x->{token});

    $res = exchange($id);
    push @o, 'exchange again: ' . st($res);
    push @o, 'body: ' . body_of($res);

    push @o, 'revoke by its id, the generating key: '
        . st(revoke($id, 'acme'));
    push @o, 'token at /verify: ' . at($x->{token});

    return @o;
}

sub flow_exchange_expired {
    my ($g) = @_;
    my @o;

    sleep 2;

    my $res = exchange($g->{sessionId} // '');
    push @o, 'exchange 2 s after a 1 s ticket: ' . st($res);
    push @o, 'body: ' . body_of($res);

    return @o;
}

run_tests();

Test::More::done_testing();

__DATA__

=== TEST 1: revoke: the owner's key (again: 200 again), not another key's, admin=, DELETE with id=$1, 405 for GET
--- request eval
"POST /mint\n$::MINT_BODY"
--- error_code: 201
--- response_body_filters eval
::flow(\&::flow_revoke)
--- response_body
another key: 404 SESSION_NOT_FOUND
an admin key where admin= is not set: 404 SESSION_NOT_FOUND
token at /verify: 200
the owner: 200 {"session_id":"<A>","revoked":true}
token at /verify: 401 SESSION_REVOKED
renew token at /refresh: 401 SESSION_REVOKED
token at /session/refresh: 401 SESSION_REVOKED
the owner again: 200 {"session_id":"<A>","revoked":true}
an admin key with admin=admin: 200 {"session_id":"<B>","revoked":true}
B at /verify: 401 SESSION_REVOKED
another key at /admin/revoke: 404 SESSION_NOT_FOUND
C at /verify: 200
DELETE /sessions/<C>: 200 {"session_id":"<C>","revoked":true}
C at /verify: 401 SESSION_REVOKED
C renew token at /refresh: 401 SESSION_REVOKED
DELETE /sessions/<C> again: 200
GET /sessions/<C>: 405 METHOD_NOT_ALLOWED
DELETE /sessions/<unknown>: 404 SESSION_NOT_FOUND
DELETE /sessions/not-a-uuid: 404 SESSION_NOT_FOUND
--- error_log
session revoked



=== TEST 2: revoke: unknown and malformed ids are 404 SESSION_NOT_FOUND
--- pipelined_requests eval
["POST /revoke\n{\"session_id\":\"" . ::new_uuid() . "\"}",
 "POST /revoke\n{\"session_id\":\"not-a-session\"}",
 "POST /admin/revoke\n{\"session_id\":\"" . ::new_uuid() . "\"}"]
--- more_headers eval
[::auth('acme'), ::auth('acme'), ::auth('admin')]
--- error_code eval
[404, 404, 404]
--- response_body eval
[('{"error":"No such session","code":"SESSION_NOT_FOUND"}') x 3]



=== TEST 3: revoke: a missing id is 400 VALIDATION_FAILED with its path
--- request
POST /revoke
{}
--- error_code: 400
--- response_body_like chomp
^\{"error":"[^"]+","code":"VALIDATION_FAILED","details":\[\{"path":"session_id","message":"[^"]+"\}\]\}$



=== TEST 4: revoke: the API key is required
--- pipelined_requests eval
["POST /revoke\n{\"session_id\":\"" . ::new_uuid() . "\"}",
 "POST /revoke\n{\"session_id\":\"" . ::new_uuid() . "\"}"]
--- more_headers eval
["Content-Type: application/json", ::auth('wrong')]
--- error_code eval
[401, 401]
--- response_body_like eval
['^\{"error":"[^"]+","code":"API_KEY_REQUIRED"\}\n?$',
 '^\{"error":"[^"]+","code":"API_KEY_INVALID"\}\n?$']



=== TEST 5: revoke: POST and DELETE only (GET)
--- request
GET /revoke
--- error_code: 405
--- response_headers
Allow: POST, DELETE
--- response_body_like chomp
^\{"error":"[^"]+","code":"METHOD_NOT_ALLOWED"\}\n?$



=== TEST 6: revoke: POST and DELETE only (PUT)
--- request
PUT /revoke
{}
--- error_code: 405
--- response_headers
Allow: POST, DELETE
--- response_body_like chomp
^\{"error":"[^"]+","code":"METHOD_NOT_ALLOWED"\}\n?$



=== TEST 7: revoking an API key revokes every session it minted
--- more_headers eval
::auth('doomed')
--- request eval
"POST /mint\n$::MINT_BODY"
--- error_code: 201
--- response_body_filters eval
::flow(\&::flow_key_revoked)
--- response_body
a session of acme: minted
revoke the API key "doomed": 200
its session token at /verify: 401 SESSION_REVOKED
its session token at /session/refresh: 401 SESSION_REVOKED
its renew token at /refresh, its own (revoked) key: 401 API_KEY_REVOKED
its renew token at /refresh, another key: 404 SESSION_NOT_FOUND
the acme session at /verify: 200



=== TEST 8: exchange: generate stores a ticket (no token in the answer), exchanged exactly once for a token that is a family like any other
--- request
POST /generate
{"user":"u-1","allowedOrigins":["https://app.example.com"],"ttlSeconds":120}
--- error_code: 200
--- response_body_filters eval
::flow(\&::flow_exchange)
--- response_body
fields: sessionId
sessionId: uuid v4
exchange: 200
fields: expires_at expires_in session_id token
Cache-Control: no-store
token: typ=embed-session+jwt kid=hs256-1, Crypt::JWT verifies
jti = sid = session_id = the ticket id: yes
iat: the exchange, not the generate: yes
lifetime (ttlSeconds at generate): 120
expires_in: 120
expires_at: exp
claims: {"origins":"https://app.example.com","sub":"u-1","tenant":"acme"}
token at /verify: 200
exchange again: 409 EXCHANGE_USED
body: {"error":"The embed session has already been exchanged","code":"EXCHANGE_USED"}
revoke by its id, the generating key: 200
token at /verify: 401 SESSION_REVOKED



=== TEST 9: exchange: an expired ticket is 410 EXCHANGE_EXPIRED
--- request eval
"POST /generate-short\n$::MINT_BODY"
--- error_code: 200
--- response_body_filters eval
::flow(\&::flow_exchange_expired)
--- response_body
exchange 2 s after a 1 s ticket: 410 EXCHANGE_EXPIRED
body: {"error":"The embed session has expired","code":"EXCHANGE_EXPIRED"}



=== TEST 10: exchange: unknown and malformed ids are 404 EXCHANGE_NOT_FOUND
--- pipelined_requests eval
["POST /exchange\n{\"sessionId\":\"" . ::new_uuid() . "\"}",
 "POST /exchange\n{\"sessionId\":\"not-a-ticket\"}",
 "POST /exchange\n{\"sessionId\":\"" . ::new_uuid() . "x\"}"]
--- more_headers
Content-Type: application/json
--- error_code eval
[404, 404, 404]
--- response_body eval
[('{"error":"No such embed session","code":"EXCHANGE_NOT_FOUND"}') x 3]



=== TEST 11: exchange: a missing member is 400 VALIDATION_FAILED; POST only
--- pipelined_requests eval
["POST /exchange\n{}", "GET /exchange"]
--- more_headers
Content-Type: application/json
--- error_code eval
[400, 405]
--- response_body_like eval
['^\{"error":"[^"]+","code":"VALIDATION_FAILED","details":\[\{"path":"sessionId","message":"[^"]+"\}\]\}\n?$',
 '^\{"error":"[^"]+","code":"METHOD_NOT_ALLOWED"\}\n?$']



=== TEST 12: exchange: with embed_session_api_key the key is required
--- request eval
"POST /exchange-key\n{\"ticket\":\"" . ::new_uuid() . "\"}"
--- more_headers
Content-Type: application/json
--- error_code: 401
--- response_body_like chomp
^\{"error":"[^"]+","code":"API_KEY_REQUIRED"\}\n?$



=== TEST 13: nginx -t: a mint that stores a ticket cannot answer with the token
--- config
    embed_session_keys      $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    embed_session_store     sessions;

    location = /generate {
        embed_session_api_key  lc_keys;
        embed_session_mint     on;
        embed_session_field    user            string   required claim=sub;
        embed_session_field    allowedOrigins  origins  required;
        embed_session_mint_exchange  5m;
        embed_session_mint_output    sessionId  session_id;
        embed_session_mint_output    token      token;
    }
--- must_die
--- error_log eval
qr/\[emerg\]/
