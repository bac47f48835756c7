# Seed contract: Pilot Status (shared/seeds 000 "Create embed session" and
# 001 "API Authentication"), served by configuration alone; the session.
#
# The minted token opens the embed API from an allowed origin, and the
# seed's "Refresh via POST /api/public/embed/refresh": the session token
# from the browser (X-Session-Token, an allowed Origin, no API key) for the
# next one, the replaced token refused, never past the session's hour.
# The mint's schema is in 210-seed-pilot-status-mint.t, the API keys in
# 211-seed-pilot-status-keys.t, the browser side in
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

=== TEST 1: the minted token opens the embed from an allowed origin, not from another
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



=== TEST 2: POST /api/public/embed/refresh with the session token from an allowed origin: 200 and the mint's shape, the next token of the same session; the replaced token is refused by the embed
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



=== TEST 3: the refresh checks the origin as the embed does: another origin, or none, is 403 ORIGIN_NOT_ALLOWED and changes nothing; every allowedOrigin may refresh
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



=== TEST 4: refresh errors: no token 401 SESSION_REQUIRED; malformed, altered, a renew-type token 401 SESSION_INVALID; expired 401 SESSION_EXPIRED; a session the store does not know 404 SESSION_NOT_FOUND; POST only
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



=== TEST 5: a replaced token sent again: at once, the same new token (a retry); an older one revokes the session, 401 RENEW_TOKEN_REUSED, and every token of it is refused
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



=== TEST 6: never past the session's end (the example's hour made 8 seconds, its tokens 4): a refresh is capped at it, and refused after it, 401 SESSION_EXPIRED
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
