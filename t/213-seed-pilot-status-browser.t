# Seed contract: Pilot Status (shared/seeds 000 "Create embed session" and
# 001 "API Authentication"), served by configuration alone; the browser side
# over HTTP.
#
# CORS preflights and Access-Control-Allow-Origin on the refresh and the
# embed API, the iframe document's URL exchange, and the iframe's own API
# calls (/embed/api/: the partitioned cookie as the credential, same-origin
# fetches only, the old cookie refused after a refresh).
# t/browser/pilot.mjs plays the same flow in Chromium.  The mint's schema is
# in 210-seed-pilot-status-mint.t, the API keys in
# 211-seed-pilot-status-keys.t, the refresh in
# 212-seed-pilot-status-refresh.t.
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

=== TEST 1: the SDK's preflights, before any token: OPTIONS on the refresh and on the embed API is 204 with the page's origin, the methods and X-Session-Token allowed
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



=== TEST 2: the preflights refuse what the SDK does not send: the refresh other than POST, a header outside the list, Origin null; none carries Access-Control-Allow-Origin
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



=== TEST 3: the refresh from the page: its answer carries Access-Control-Allow-Origin for the page's origin (the new token is readable), and so do the module's errors for it (the code is readable); another origin's refusal names that origin only
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



=== TEST 4: the embed API from the page: Access-Control-Allow-Origin for the token's origin on the answer, the application gets the session, never the token; another origin reads its refusal's code
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



=== TEST 5: the iframe document: /embed/chat?session=TOKEN is exchanged for a cookie (302 to /embed/chat, no-store), the redirected load brings the cookie and is served, framed only by the session's origins; the application sees neither token nor cookie
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



=== TEST 6: the iframe document is for a frame of its own surface: a top-level visit is 403 FETCH_NOT_ALLOWED (no cookie), a chat session cannot open /embed/connect, a connect session opens it; a refresh revokes the cookie's token
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



=== TEST 7: the iframe's own API: the chat document calls /embed/api/... same-origin with the cookie of the exchange; the application gets /embed/..., the session and the tenant, never the cookie; a POST with the document's own Origin passes
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



=== TEST 8: the iframe's API refuses the same cookie from anything but its own document: Sec-Fetch-Site cross-site (the embedding page's credentialed fetch), same-site, none (a top-level visit) or absent, and a load that is not a fetch, 403 FETCH_NOT_ALLOWED without Access-Control-Allow-Origin; nothing reaches the application
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



=== TEST 9: a refresh replaces the cookie's token: the frame's calls with the old cookie are 401 SESSION_REVOKED, the cookie of the new token's exchange passes with the same session
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
