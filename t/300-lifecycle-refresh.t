# vim:set ft= ts=4 sw=4 et fdm=marker:

# The session lifecycle: mint, verify and refresh with the store zone.  The
# server, the keys and the request helpers are
# t/lib/EmbedSessionLifecycle.pm; revoke and exchange are in
# 301-lifecycle-revoke-exchange.t, the status location and a full zone in
# 302-lifecycle-status.t.
#
#   mint with a store    the token carries jti and sid; renew_token output
#                        (typ embed-renew+jwt, the same claims, exp = the
#                        family's absolute end); it needs a store (nginx -t)
#   verify with a store  revoked family and refreshed-away generation: 401
#                        SESSION_REVOKED; a renew token is never a session
#                        token, not even with "embed_session_type off"
#                        (rule 19); a sid the zone does not know passes
#   refresh renew        rotation, the same successor byte for byte within
#                        the grace, theft (an older generation, or the
#                        previous one after the grace) revokes the family
#                        (rule 20), the absolute lifetime, the family's own
#                        API key only
#   refresh session      Pilot style: the session token from X-Session-Token,
#                        no API key, origin checked

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

# mint: the session token and the renew token

sub flow_mint {
    my ($m) = @_;
    my @o;
    my ($th, $tc) = jose($m->{token});
    my ($rh, $rc) = jose($m->{renew_token});

    push @o, fields($m);
    push @o, describe('token', $m->{token});
    push @o, describe('renew token', $m->{renew_token});
    push @o, 'jti: ' . (is_uuid($tc->{jti}) ? 'uuid v4' : 'bad');
    push @o, 'sid = jti = session_id: '
        . yn(same($tc->{sid}, $tc->{jti}) && same($tc->{jti}, $m->{session_id}));

    my %a = %$tc;
    my %b = %$rc;
    delete $a{exp};
    delete $b{exp};
    push @o, 'renew token: the same claims, exp apart: '
        . yn($JSON->encode(\%a) eq $JSON->encode(\%b));
    push @o, 'token lifetime: ' . (($tc->{exp} // 0) - ($tc->{iat} // 0));
    push @o, 'renew token exp: iat + ' . (($rc->{exp} // 0) - ($tc->{iat} // 0));
    push @o, 'expires_at: ' . iso_is($m->{expires_at}, $tc->{exp});
    push @o, 'expires_in: ' . ($m->{expires_in} // '-');
    push @o, 'claims: ' . stable_claims($tc);
    push @o, 'token at /verify: ' . at($m->{token});
    push @o, 'token at /verify-typ-off: ' . at($m->{token}, '/verify-typ-off');
    push @o, 'renew token at /verify: ' . at($m->{renew_token});
    push @o, 'renew token at /verify-typ-off: '
        . at($m->{renew_token}, '/verify-typ-off');
    push @o, 'renew token at /session/refresh: '
        . st(session_refresh($m->{renew_token}));

    return @o;
}

# refresh, renew mode: rotation, the grace repeat, theft of an older
# generation

sub flow_rotation {
    my ($m) = @_;
    my @o;
    my ($t0, $r0) = @$m{qw(token renew_token)};
    my (undef, $c0) = jose($t0);
    my (undef, $rc0) = jose($r0);

    my $res = refresh($r0);
    my $a = ref $res->{json} eq 'HASH' ? $res->{json} : {};
    my ($t1, $r1) = @$a{qw(token renew_token)};
    my (undef, $c1) = jose($t1);
    my (undef, $rc1) = jose($r1);

    push @o, 'refresh: ' . st($res);
    push @o, fields($a);
    push @o, 'Cache-Control: ' . ($res->{headers}{'cache-control'} // '-');
    push @o, describe('new token', $t1);
    push @o, describe('new renew token', $r1);
    push @o, 'new jti: '
        . (is_uuid($c1->{jti}) && !same($c1->{jti}, $c0->{jti})
           ? 'uuid v4, not the old one' : 'bad');
    push @o, 'sid unchanged, = session_id: '
        . yn(same($c1->{sid}, $c0->{sid}) && same($a->{session_id}, $c0->{sid}));
    push @o, 'new renew token: the same jti and sid: '
        . yn(same($rc1->{jti}, $c1->{jti}) && same($rc1->{sid}, $c1->{sid}));
    push @o, 'new token lifetime: ' . (($c1->{exp} // 0) - ($c1->{iat} // 0));
    push @o, 'new renew token exp: '
        . (same($rc1->{exp}, $rc0->{exp}) ? 'the absolute end, unchanged'
           : 'changed');
    push @o, 'claims kept: '
        . yn(stable_claims($c1) eq stable_claims($c0));
    push @o, 'expires_at: ' . iso_is($a->{expires_at}, $c1->{exp});
    push @o, 'new token at /verify: ' . at($t1);
    push @o, 'old token at /verify: ' . at($t0);

    # the answer was lost, the client tries again: the same successor

    $res = refresh($r0);
    my $b = ref $res->{json} eq 'HASH' ? $res->{json} : {};
    push @o, 'old renew token again, within the grace: ' . st($res);
    push @o, 'the same token, byte for byte: ' . yn(same($b->{token}, $t1));
    push @o, 'the same renew token, byte for byte: '
        . yn(same($b->{renew_token}, $r1));
    push @o, 'the same session_id and expires_at: '
        . yn(same($b->{session_id}, $a->{session_id})
             && same($b->{expires_at}, $a->{expires_at}));
    push @o, 'new token at /verify: ' . at($t1);

    $res = refresh($r1);
    my $c = ref $res->{json} eq 'HASH' ? $res->{json} : {};
    push @o, 'refresh with the new renew token: ' . st($res);
    push @o, 'third token at /verify: ' . at($c->{token});
    push @o, 'second token at /verify: ' . at($t1);

    # the first renew token, two generations old: theft

    $res = refresh($r0);
    push @o, 'first renew token, two generations old: ' . st($res);
    push @o, 'body: ' . body_of($res);
    push @o, 'third token at /verify: ' . at($c->{token});
    push @o, 'third renew token: ' . st(refresh($c->{renew_token}));
    push @o, 'second renew token: ' . st(refresh($r1));
    push @o, 'first token at /verify: ' . at($t0);

    return @o;
}

# the previous generation after the grace (1 s): theft

sub flow_after_grace {
    my ($m) = @_;
    my @o;

    my $res = refresh($m->{renew_token}, path => '/refresh-grace1');
    my $a = ref $res->{json} eq 'HASH' ? $res->{json} : {};
    push @o, 'refresh: ' . st($res);

    sleep 2;

    $res = refresh($m->{renew_token}, path => '/refresh-grace1');
    push @o, 'old renew token 2 s later: ' . st($res);
    push @o, 'body: ' . body_of($res);
    push @o, 'new token at /verify: ' . at($a->{token});
    push @o, 'new renew token: '
        . st(refresh($a->{renew_token}, path => '/refresh-grace1'));
    push @o, 'new token at /session/refresh: '
        . st(session_refresh($a->{token}));

    return @o;
}

# grace=0: no repeat at all

sub flow_grace0 {
    my ($m) = @_;
    my @o;

    my $res = refresh($m->{renew_token}, path => '/refresh-grace0');
    my $a = ref $res->{json} eq 'HASH' ? $res->{json} : {};
    push @o, 'refresh: ' . st($res);
    push @o, 'old renew token at once: '
        . st(refresh($m->{renew_token}, path => '/refresh-grace0'));
    push @o, 'new token at /verify: ' . at($a->{token});
    push @o, 'new renew token: '
        . st(refresh($a->{renew_token}, path => '/refresh-grace0'));

    return @o;
}

# the absolute lifetime (2 s): a refresh never goes beyond it

sub flow_lifetime {
    my ($m) = @_;
    my @o;
    my (undef, $c0) = jose($m->{token});
    my (undef, $rc0) = jose($m->{renew_token});
    my $end = ($c0->{iat} // 0) + 2;

    push @o, 'token exp: iat + ' . (($c0->{exp} // 0) - ($c0->{iat} // 0));
    push @o, 'renew token exp: iat + '
        . (($rc0->{exp} // 0) - ($c0->{iat} // 0));

    my $res = refresh($m->{renew_token});
    my $a = ref $res->{json} eq 'HASH' ? $res->{json} : {};
    my (undef, $c1) = jose($a->{token});
    my (undef, $rc1) = jose($a->{renew_token});

    push @o, 'refresh (ttl 60): ' . st($res);
    push @o, 'new token exp not beyond the mint + 2 s: '
        . yn(defined $c1->{exp} && $c1->{exp} <= $end);
    push @o, 'expires_at not beyond the mint + 2 s: '
        . yn((iso_time($a->{expires_at}) // 9e9) <= $end);
    push @o, 'expires_in at most 2: '
        . yn(defined $a->{expires_in} && $a->{expires_in} <= 2);
    push @o, 'new renew token exp: '
        . (same($rc1->{exp}, $end) ? 'the absolute end' : 'bad');

    Time::HiRes::sleep(0.2) while time < $end + 1;

    push @o, 'past the absolute end, refresh: '
        . st(refresh($a->{renew_token}));

    return @o;
}

# refresh: only with the family's own API key

sub flow_owner {
    my ($m) = @_;
    my @o;
    my $r0 = $m->{renew_token};

    my $res = refresh($r0, key => 'other');
    push @o, 'another key: ' . st($res);
    push @o, 'body: ' . body_of($res);
    push @o, 'an admin key: ' . st(refresh($r0, key => 'admin'));
    push @o, 'no key: ' . st(refresh($r0, key => undef));
    push @o, 'a wrong key: ' . st(refresh($r0, key => 'wrong'));
    push @o, 'the session token in place of the renew token: '
        . st(refresh($m->{token}));
    push @o, 'the owner: ' . st(refresh($r0));

    return @o;
}

# refresh, session mode (Pilot)

sub flow_session {
    my ($m) = @_;
    my @o;
    my $t0 = $m->{token};
    my (undef, $c0) = jose($t0);

    my $res = session_refresh($t0);
    my $a = ref $res->{json} eq 'HASH' ? $res->{json} : {};
    my (undef, $c1) = jose($a->{token});

    push @o, 'refresh with X-Session-Token, no API key: ' . st($res);
    push @o, fields($a);
    push @o, describe('new token', $a->{token});
    push @o, 'the same sid, a new jti: '
        . yn(same($c1->{sid}, $c0->{sid}) && is_uuid($c1->{jti})
             && !same($c1->{jti}, $c0->{jti}));
    push @o, 'new token lifetime: ' . (($c1->{exp} // 0) - ($c1->{iat} // 0));
    push @o, 'expiresAt: ' . iso_is($a->{expiresAt}, $c1->{exp});
    push @o, 'expiresIn: ' . ($a->{expiresIn} // '-');
    push @o, 'new token at /verify: ' . at($a->{token});
    push @o, 'old token at /verify: ' . at($t0);

    $res = session_refresh($t0);
    push @o, 'old token again, within the grace: ' . st($res)
        . ', the same token: '
        . yn(ref $res->{json} eq 'HASH' && same($res->{json}{token}, $a->{token}));

    push @o, 'the renew token: ' . st(session_refresh($m->{renew_token}));
    push @o, 'new token from another origin: '
        . st(session_refresh($a->{token}, Origin => 'https://evil.example.com'));
    push @o, 'no token: '
        . st(http('POST', '/session/refresh', { Origin => $ORIGIN }, ''));

    $res = session_refresh($a->{token});
    push @o, 'new token: ' . st($res);
    push @o, 'its successor at /verify: '
        . at(ref $res->{json} eq 'HASH' ? $res->{json}{token} : '');

    return @o;
}

run_tests();

Test::More::done_testing();

__DATA__

=== TEST 1: mint with a store: jti and sid, the renew token (typ embed-renew+jwt, the absolute end), never accepted as a session token
--- request eval
"POST /mint\n$::MINT_BODY"
--- error_code: 201
--- response_body_filters eval
::flow(\&::flow_mint)
--- response_body
fields: expires_at expires_in renew_token session_id token
token: typ=embed-session+jwt kid=hs256-1, Crypt::JWT verifies
renew token: typ=embed-renew+jwt kid=hs256-1, Crypt::JWT verifies
jti: uuid v4
sid = jti = session_id: yes
renew token: the same claims, exp apart: yes
token lifetime: 60
renew token exp: iat + 300
expires_at: exp
expires_in: 60
claims: {"origins":"https://app.example.com","sub":"u-1"}
token at /verify: 200
token at /verify-typ-off: 200
renew token at /verify: 401 SESSION_INVALID
renew token at /verify-typ-off: 401 SESSION_INVALID
renew token at /session/refresh: 401 SESSION_INVALID
--- error_log
wrong "typ"



=== TEST 2: verify with a store: tokens the zone does not know (minted elsewhere, with and without sid) pass
--- pipelined_requests eval
["GET /verify", "GET /verify"]
--- more_headers eval
["X-Session-Token: " . ::tok(sid => 'elsewhere-1', jti => 'elsewhere-1')
     . "\nOrigin: https://app.example.com",
 "X-Session-Token: " . ::tok(sid => undef, jti => 'elsewhere-2')
     . "\nOrigin: https://app.example.com"]
--- error_code eval
[200, 200]
--- response_body eval
["sub=user-1 jti=elsewhere-1 sid=elsewhere-1\n",
 "sub=user-1 jti=elsewhere-2 sid=\n"]



=== TEST 3: a renew-typ token minted elsewhere is refused as a session token
--- request
GET /verify
--- more_headers eval
"X-Session-Token: " . ::tok(sid => 'elsewhere-3', jti => 'elsewhere-3',
                            typ => 'embed-renew+jwt')
    . "\nOrigin: https://app.example.com"
--- error_code: 401
--- response_body_like chomp
^\{"error":"[^"]+","code":"SESSION_INVALID"\}\n?$
--- error_log
wrong "typ"



=== TEST 4: a renew-typ token minted elsewhere is refused as a session token with embed_session_type off too (SESSION_INVALID, reason wrong "typ")
--- request
GET /verify-typ-off
--- more_headers eval
"X-Session-Token: " . ::tok(sid => 'elsewhere-4', jti => 'elsewhere-4',
                            typ => 'embed-renew+jwt')
    . "\nOrigin: https://app.example.com"
--- error_code: 401
--- response_body_like chomp
^\{"error":"[^"]+","code":"SESSION_INVALID"\}\n?$
--- error_log
wrong "typ"



=== TEST 5: refresh, renew mode: a new generation, the old session token refused, the grace repeat byte for byte, theft of an older generation revokes the family
--- request eval
"POST /mint\n$::MINT_BODY"
--- error_code: 201
--- response_body_filters eval
::flow(\&::flow_rotation)
--- response_body
refresh: 200
fields: expires_at expires_in renew_token session_id token
Cache-Control: no-store
new token: typ=embed-session+jwt kid=hs256-1, Crypt::JWT verifies
new renew token: typ=embed-renew+jwt kid=hs256-1, Crypt::JWT verifies
new jti: uuid v4, not the old one
sid unchanged, = session_id: yes
new renew token: the same jti and sid: yes
new token lifetime: 60
new renew token exp: the absolute end, unchanged
claims kept: yes
expires_at: exp
new token at /verify: 200
old token at /verify: 401 SESSION_REVOKED
old renew token again, within the grace: 200
the same token, byte for byte: yes
the same renew token, byte for byte: yes
the same session_id and expires_at: yes
new token at /verify: 200
refresh with the new renew token: 200
third token at /verify: 200
second token at /verify: 401 SESSION_REVOKED
first renew token, two generations old: 401 RENEW_TOKEN_REUSED
body: {"error":"The renew token was already used; the session has been revoked","code":"RENEW_TOKEN_REUSED"}
third token at /verify: 401 SESSION_REVOKED
third renew token: 401 SESSION_REVOKED
second renew token: 401 SESSION_REVOKED
first token at /verify: 401 SESSION_REVOKED
--- error_log
session replaced by a refresh
session revoked



=== TEST 6: refresh: the previous renew token after the grace (grace=1s) is theft: 401 RENEW_TOKEN_REUSED, the family revoked
--- request eval
"POST /mint\n$::MINT_BODY"
--- error_code: 201
--- response_body_filters eval
::flow(\&::flow_after_grace)
--- response_body
refresh: 200
old renew token 2 s later: 401 RENEW_TOKEN_REUSED
body: {"error":"The renew token was already used; the session has been revoked","code":"RENEW_TOKEN_REUSED"}
new token at /verify: 401 SESSION_REVOKED
new renew token: 401 SESSION_REVOKED
new token at /session/refresh: 401 SESSION_REVOKED
--- error_log
session revoked



=== TEST 7: refresh: grace=0 disables the repeat
--- request eval
"POST /mint\n$::MINT_BODY"
--- error_code: 201
--- response_body_filters eval
::flow(\&::flow_grace0)
--- response_body
refresh: 200
old renew token at once: 401 RENEW_TOKEN_REUSED
new token at /verify: 401 SESSION_REVOKED
new renew token: 401 SESSION_REVOKED



=== TEST 8: refresh: the absolute lifetime caps every new token; past it, 401 SESSION_EXPIRED
--- request eval
"POST /mint-short\n$::MINT_BODY"
--- error_code: 201
--- response_body_filters eval
::flow(\&::flow_lifetime)
--- response_body
token exp: iat + 2
renew token exp: iat + 2
refresh (ttl 60): 200
new token exp not beyond the mint + 2 s: yes
expires_at not beyond the mint + 2 s: yes
expires_in at most 2: yes
new renew token exp: the absolute end
past the absolute end, refresh: 401 SESSION_EXPIRED



=== TEST 9: refresh: only the API key that minted the family (404 SESSION_NOT_FOUND otherwise); a session token is not a renew token
--- request eval
"POST /mint\n$::MINT_BODY"
--- error_code: 201
--- response_body_filters eval
::flow(\&::flow_owner)
--- response_body
another key: 404 SESSION_NOT_FOUND
body: {"error":"No such session","code":"SESSION_NOT_FOUND"}
an admin key: 404 SESSION_NOT_FOUND
no key: 401 API_KEY_REQUIRED
a wrong key: 401 API_KEY_INVALID
the session token in place of the renew token: 401 SESSION_INVALID
the owner: 200



=== TEST 10: refresh: POST only
--- request
GET /refresh
--- error_code: 405
--- response_headers
Allow: POST
--- response_body_like chomp
^\{"error":"[^"]+","code":"METHOD_NOT_ALLOWED"\}\n?$



=== TEST 11: refresh: no renew token in the body: 401 SESSION_REQUIRED
--- request
POST /refresh
{}
--- error_code: 401
--- response_body_like chomp
^\{"error":"[^"]+","code":"SESSION_REQUIRED"\}\n?$



=== TEST 12: refresh: a session token (typ embed-session+jwt) is not a renew token
--- request eval
"POST /refresh\n{\"renew_token\":\""
    . ::tok(sid => 'x-1', jti => 'x-1') . "\"}"
--- error_code: 401
--- response_body_like chomp
^\{"error":"[^"]+","code":"SESSION_INVALID"\}\n?$
--- error_log
wrong "typ"



=== TEST 13: refresh: not a token, another key's token, an expired one
--- pipelined_requests eval
["POST /refresh\n{\"renew_token\":\"not.a.token\"}",
 "POST /refresh\n{\"renew_token\":\""
     . token(key => 'hs256-2', claims => { iss => $::ISS, aud => $::AUD,
                                           sid => 'x-2', jti => 'x-2' },
             header => { typ => 'embed-renew+jwt' }) . "\"}",
 "POST /refresh\n{\"renew_token\":\""
     . ::tok(sid => 'x-3', jti => 'x-3', typ => 'embed-renew+jwt',
             iat => time - 400, exp => time - 200) . "\"}"]
--- error_code eval
[401, 401, 401]
--- response_body_like eval
['^\{"error":"[^"]+","code":"SESSION_INVALID"\}\n?$',
 '^\{"error":"[^"]+","code":"SESSION_INVALID"\}\n?$',
 '^\{"error":"[^"]+","code":"SESSION_EXPIRED"\}\n?$']



=== TEST 14: refresh: a valid renew token of a family the zone does not know: 404 SESSION_NOT_FOUND
--- request eval
"POST /refresh\n{\"renew_token\":\""
    . ::tok(sid => ::new_uuid(), jti => ::new_uuid(), typ => 'embed-renew+jwt')
    . "\"}"
--- error_code: 404
--- response_body chomp
{"error":"No such session","code":"SESSION_NOT_FOUND"}



=== TEST 15: refresh, session mode (Pilot): the token from X-Session-Token, no API key; the old token refused, the grace repeat, origin checked
--- request eval
"POST /mint\n$::MINT_BODY"
--- error_code: 201
--- response_body_filters eval
::flow(\&::flow_session)
--- response_body
refresh with X-Session-Token, no API key: 200
fields: expiresAt expiresIn token
new token: typ=embed-session+jwt kid=hs256-1, Crypt::JWT verifies
the same sid, a new jti: yes
new token lifetime: 60
expiresAt: exp
expiresIn: 60
new token at /verify: 200
old token at /verify: 401 SESSION_REVOKED
old token again, within the grace: 200, the same token: yes
the renew token: 401 SESSION_INVALID
new token from another origin: 403 ORIGIN_NOT_ALLOWED
no token: 401 SESSION_REQUIRED
new token: 200
its successor at /verify: 200
--- error_log
session replaced by a refresh



=== TEST 16: refresh, session mode: POST only
--- request
GET /session/refresh
--- more_headers
Origin: https://app.example.com
--- error_code: 405
--- response_body_like chomp
^\{"error":"[^"]+","code":"METHOD_NOT_ALLOWED"\}\n?$



=== TEST 17: nginx -t: a renew_token output needs a store
--- config
    embed_session_keys      $TEST_NGINX_ES_DATA/keys/hs256.jwks;

    location = /mint {
        embed_session_api_key  lc_keys;
        embed_session_mint     on;
        embed_session_store    off;
        embed_session_field    user            string   required claim=sub;
        embed_session_field    allowedOrigins  origins  required;
        embed_session_mint_output  token        token;
        embed_session_mint_output  renew_token  renew_token;
    }
--- must_die
--- error_log eval
qr/\[emerg\]/
