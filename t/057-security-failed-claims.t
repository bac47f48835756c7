# vim:set ft= ts=4 sw=4 et fdm=marker:

# Claims of a token that failed a check never reach the request: review
# item M2 (a refresh kept the claims of a refused token in $embed_session_*,
# in frame-ancestors, and, through error_page, in an upstream's headers),
# and the rest of the class.
#
#   for each path         verify, refresh renew, refresh session, revoke
#                         and exchange (these two with embed_session_verify
#                         on, the only way claims come there)
#   each failure          bad typ, expired, wrong origin, a require that
#                         fails, revoked or replaced in the store, another
#                         API key
#   two ways to look      the answer's own headers (add_header ... always,
#                         frame-ancestors), and error_page = @up: what an
#                         upstream behind the fallback receives
#
# Also here: a refresh location that verifies too (the claims of its access
# phase were lost, not freed: run the file under valgrind), the context of
# the main request after an internal redirect when a subrequest made one
# too, embed_session_type embed-renew+jwt refused at configuration time,
# and tickets exchanged only with the key that minted them (review L2).
#
# Flows of several requests are driven from the block's check, as in
# t/300-lifecycle-*.t: the block's request is the first step (a mint), its
# --- response_body_filters sub makes the following requests with http()
# and returns one line per step.

use FindBin;
use lib "$FindBin::Bin/lib";
use EmbedSessionTest;
use EmbedSessionMint;

use JSON::PP ();

repeat_each(1);
no_shuffle();

our $JSON = JSON::PP->new->canonical->allow_nonref;

our $ORIGIN = 'https://app.example.com';
our $EVIL = 'https://evil.example';
our $UNKNOWN = '00000000-0000-4000-8000-000000000000';

our %KEY = (
    acme  => 'fc_Acme0001VazhQ6Hehob7V1krgHXcd3YHP197FbSC',
    other => 'fc_Other002c2zTOcrlR9jezkZAB4p8OAgVGIhQL25T',
);

our $KEY_FILE = join '', map { "$_\n" }
    'acme key=' . stored($KEY{acme}) . ' scope=customer tenant=acme',
    'other key=' . stored($KEY{other}) . ' scope=customer tenant=other';

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

our $HTTP = <<"_EOC_";
    embed_session_api_keys    zone=fc_keys:1m
                              file=$ENV{TEST_NGINX_HTML_DIR}/fc.keys;
    embed_session_store_zone  zone=fc_sessions:1m;
_EOC_

# every claim variable in one value: "none" when all are empty

our $CLAIMS = 'sub=$embed_session_sub|tenant=$embed_session_tenant'
    . '|jti=$embed_session_jti|exp=$embed_session_exp'
    . '|kid=$embed_session_kid|origin=$embed_session_origin'
    . '|origins=$embed_session_origins|sid=$embed_session_claim_sid';

# each probed location twice: NAME shows what its own answer carries,
# NAME-fb falls back to an upstream on any error status

sub twice {
    my ($name, $body) = @_;

    return <<"_EOC_";
    location = $name {
$body
        add_header  X-Claims  "$CLAIMS" always;
        add_header  X-Error   "\$embed_session_error" always;
    }

    location = $name-fb {
$body
        error_page  401 403 404 409 410 = \@up;
    }
_EOC_
}

our $OUTPUTS = <<'_EOC_';
        embed_session_mint_output  token        token;
        embed_session_mint_output  renew_token  renew_token;
        embed_session_mint_output  session_id   session_id;
_EOC_

our $SERVER = <<"_EOC_";
    embed_session_keys             \$TEST_NGINX_ES_DATA/keys/hs256.jwks;
    embed_session_store            fc_sessions;
    embed_session_frame_ancestors  replace;

    location = /mint {
        embed_session_api_key  fc_keys;
        embed_session_mint     on;
        embed_session_field    user            string   required claim=sub;
        embed_session_field    allowedOrigins  origins  required;
        embed_session_mint_claim  tenant  \$embed_session_api_key_tenant;
        embed_session_mint_ttl  60 max=300;
$OUTPUTS
    }

    location = /generate {
        embed_session_api_key  fc_keys;
        embed_session_mint     on;
        embed_session_field    user            string   required claim=sub;
        embed_session_field    allowedOrigins  origins  required;
        embed_session_mint_claim     tenant  \$embed_session_api_key_tenant;
        embed_session_mint_ttl       60 max=300;
        embed_session_mint_exchange  5m;
        embed_session_mint_status    200;
        embed_session_mint_output    sessionId  session_id;
    }

    location = /revoke {
        embed_session_api_key  fc_keys;
        embed_session_revoke;
    }

@{[ twice('/v', <<"_EOB_") ]}
        embed_session_verify  on;
        proxy_set_header      X-Claims  "$CLAIMS";
        proxy_pass  http://127.0.0.1:\$TEST_NGINX_SERVER_PORT/backend;
_EOB_

@{[ twice('/v-require', <<"_EOB_") ]}
        embed_session_verify   on;
        embed_session_require  tenant  nobody;
        proxy_pass  http://127.0.0.1:\$TEST_NGINX_SERVER_PORT/backend;
_EOB_

@{[ twice('/refresh', <<"_EOB_") ]}
        embed_session_api_key  fc_keys;
        embed_session_refresh  renew  body=renew_token  grace=0;
$OUTPUTS
_EOB_

@{[ twice('/refresh-require', <<"_EOB_") ]}
        embed_session_api_key  fc_keys;
        embed_session_refresh  renew  body=renew_token  grace=0;
        embed_session_require  tenant  nobody;
$OUTPUTS
_EOB_

@{[ twice('/srefresh', <<"_EOB_") ]}
        embed_session_refresh  session  grace=0;
$OUTPUTS
_EOB_

@{[ twice('/srefresh-require', <<"_EOB_") ]}
        embed_session_refresh  session  grace=0;
        embed_session_require  tenant  nobody;
$OUTPUTS
_EOB_

@{[ twice('/srefresh-key', <<"_EOB_") ]}
        embed_session_api_key  fc_keys;
        embed_session_refresh  session  grace=0;
$OUTPUTS
_EOB_

@{[ twice('/srefresh-v', <<"_EOB_") ]}
        embed_session_verify   on;
        embed_session_api_key  fc_keys;
        embed_session_refresh  session  grace=0;
$OUTPUTS
_EOB_

@{[ twice('/revoke-v', <<'_EOB_') ]}
        embed_session_verify   on;
        embed_session_api_key  fc_keys;
        embed_session_revoke;
_EOB_

@{[ twice('/exchange-v', <<'_EOB_') ]}
        embed_session_verify    on;
        embed_session_api_key   fc_keys;
        embed_session_exchange;
        embed_session_mint_output  token  token;
_EOB_

    location = /exchange {
        embed_session_api_key   fc_keys;
        embed_session_exchange;
        embed_session_mint_output  token  token;
    }

    location = /exchange-nokey {
        embed_session_exchange;
        embed_session_mint_output  token  token;
    }

    location \@up {
        rewrite  ^  /backend  break;
        proxy_set_header  X-Claims  "$CLAIMS";
        proxy_pass  http://127.0.0.1:\$TEST_NGINX_SERVER_PORT;
    }

    location = /backend {
        return 200 "\$http_x_claims";
    }

    # a subrequest into a content handler (mirror), then an internal
    # redirect of the main request (the upstream's 404 to error_page): the
    # fallback must see the main request's context, not the subrequest's
    location = /sub/main {
        embed_session_verify    on;
        mirror                  /sub/refresh;
        proxy_intercept_errors  on;
        error_page              404 = \@sub_fallback;
        proxy_pass  http://127.0.0.1:\$TEST_NGINX_SERVER_PORT/sub/missing;
    }

    location = /sub/missing {
        return 404;
    }

    location = /sub/refresh {
        embed_session_refresh     session;
        embed_session_error_code  METHOD_NOT_ALLOWED 405 SUBREQUEST_REFUSED;
$OUTPUTS
    }

    location \@sub_fallback {
        return 200 "sub=\$embed_session_sub error=\$embed_session_error\\n";
    }
_EOC_

our $MINT_BODY = '{"user":"u-1","allowedOrigins":["https://app.example.com"]}';


# --- requests ----------------------------------------------------------------

sub st {
    my ($res) = @_;
    my $code = ref $res->{json} eq 'HASH' ? $res->{json}{code} : undef;
    return $res->{status}
           . ($res->{status} >= 400 && defined $code ? " $code" : '');
}

sub post {
    my ($path, $key, $body, %h) = @_;

    return http('POST', $path,
                { 'Content-Type' => 'application/json', Origin => $ORIGIN,
                  defined $key ? (Authorization => "Bearer $KEY{$key}") : (),
                  %h },
                ref $body ? $JSON->encode($body) : $body);
}

sub mint {
    my $res = post('/mint', 'acme', $MINT_BODY);
    return ref $res->{json} eq 'HASH' ? $res->{json} : {};
}

sub ticket {
    my ($key) = @_;
    my $res = post('/generate', $key // 'acme', $MINT_BODY);
    return ref $res->{json} eq 'HASH' ? $res->{json}{sessionId} // '' : '';
}

# "none" when every claim variable was empty

sub shown {
    my ($v) = @_;
    return '-' unless defined $v;
    return 'none' if $v !~ /=[^|]/;
    $v =~ s/\b(jti|exp|sid)=[^|]+/$1=*/g;
    return $v;
}

sub frame {
    my ($res) = @_;
    my $csp = $res->{headers}{'content-security-policy'} // '-';
    return $csp =~ /frame-ancestors ([^;]*)/ ? $1 : $csp;
}

# one failure, both ways: "STATUS CODE; claims: ...; frame-ancestors: ...;
# upstream got: ..."

sub probe {
    my ($method, $path, $headers, $body) = @_;

    my $res = http($method, $path, $headers, $body);
    my $fb = http($method, "$path-fb", $headers, $body);

    return st($res) . '; claims: ' . shown($res->{headers}{'x-claims'})
        . '; frame-ancestors: ' . frame($res)
        . '; upstream got: '
        . ($fb->{status} == 200 ? shown($fb->{content}) : "($fb->{status})");
}

# tokens signed with the server's key, as the mint would

sub tok {
    my (%o) = @_;
    my $typ = delete $o{typ};
    return token(key => 'hs256', claims => { tenant => 'acme', %o },
                 defined $typ ? (header => { typ => $typ }) : ());
}

sub expired {
    my (%o) = @_;
    my $now = time;
    return tok(iat => $now - 600, exp => $now - 300, %o);
}

sub th {
    my ($token, %h) = @_;
    return { 'X-Session-Token' => $token // '', Origin => $ORIGIN, %h };
}

sub flow {
    my ($code) = @_;

    return sub {
        my ($body) = @_;
        my $r = eval { JSON::PP->new->decode($body) } // $body;
        my @out = eval { $code->($r) };
        push @out, "died: $@" if $@;
        return join "", map { "$_\n" } @out;
    };
}


# --- the flows -----------------------------------------------------------------

sub flow_verify {
    my ($m) = @_;
    my @o;
    my $t = $m->{token};

    push @o, 'valid: ' . probe('GET', '/v', th($t));
    push @o, 'bad typ: ' . probe('GET', '/v', th(tok(typ => 'x')));
    push @o, 'expired: ' . probe('GET', '/v', th(expired()));
    push @o, 'wrong origin: ' . probe('GET', '/v', th($t, Origin => $::EVIL));
    push @o, 'require fails: ' . probe('GET', '/v-require', th($t));

    my $r = mint();
    post('/srefresh', undef, '', 'X-Session-Token' => $r->{token},
         Origin => $ORIGIN);
    push @o, 'replaced by a refresh: ' . probe('GET', '/v', th($r->{token}));

    post('/revoke', 'acme', { session_id => $m->{session_id} });
    push @o, 'revoked: ' . probe('GET', '/v', th($t));

    return @o;
}

sub flow_refresh_renew {
    my ($m) = @_;
    my @o;
    my $auth = { 'Content-Type' => 'application/json', Origin => $ORIGIN,
                 Authorization => "Bearer $KEY{acme}" };
    my $b = sub { $JSON->encode({ renew_token => $_[0] }) };

    push @o, 'bad typ (a session token): '
        . probe('POST', '/refresh', $auth, $b->($m->{token}));
    push @o, 'expired: ' . probe('POST', '/refresh', $auth,
        $b->(expired(typ => 'embed-renew+jwt', sid => $m->{session_id},
                     jti => $m->{session_id})));
    push @o, 'wrong origin: '
        . probe('POST', '/refresh', { %$auth, Origin => $::EVIL },
                $b->($m->{renew_token}));
    push @o, 'require fails: '
        . probe('POST', '/refresh-require', $auth, $b->($m->{renew_token}));
    push @o, 'another API key: '
        . probe('POST', '/refresh',
                { %$auth, Authorization => "Bearer $KEY{other}" },
                $b->($m->{renew_token}));

    # the first refresh rotates; the renew token again is a reuse (grace=0)
    # and revokes the session; again, it is revoked

    my $r = mint();
    my $ok = post('/refresh', 'acme', { renew_token => $r->{renew_token} });
    push @o, 'refresh: ' . st($ok) . '; claims: '
        . shown($ok->{headers}{'x-claims'});

    my $res = http('POST', '/refresh', $auth, $b->($r->{renew_token}));
    push @o, 'replaced, presented again: ' . st($res) . '; claims: '
        . shown($res->{headers}{'x-claims'}) . '; frame-ancestors: '
        . frame($res);
    push @o, 'revoked: '
        . probe('POST', '/refresh', $auth, $b->($r->{renew_token}));

    return @o;
}

sub flow_refresh_session {
    my ($m) = @_;
    my @o;
    my $t = $m->{token};
    my $key = { Authorization => "Bearer $KEY{other}" };

    push @o, 'bad typ (a renew token): '
        . probe('POST', '/srefresh', th($m->{renew_token}), '');
    push @o, 'expired: ' . probe('POST', '/srefresh', th(expired()), '');
    push @o, 'wrong origin: '
        . probe('POST', '/srefresh', th($t, Origin => $::EVIL), '');
    push @o, 'require fails: '
        . probe('POST', '/srefresh-require', th($t), '');
    push @o, 'another API key: '
        . probe('POST', '/srefresh-key', th($t, %$key), '');

    my $r = mint();
    my $ok = http('POST', '/srefresh', th($r->{token}), '');
    push @o, 'refresh: ' . st($ok) . '; claims: '
        . shown($ok->{headers}{'x-claims'});

    my $res = http('POST', '/srefresh', th($r->{token}), '');
    push @o, 'replaced, presented again: ' . st($res) . '; claims: '
        . shown($res->{headers}{'x-claims'}) . '; frame-ancestors: '
        . frame($res);
    push @o, 'revoked: ' . probe('POST', '/srefresh', th($r->{token}), '');

    return @o;
}

# revoke and exchange verify the session token in the access phase: a
# refused operation keeps none of its claims

sub flow_revoke_exchange {
    my ($m) = @_;
    my @o;
    my $t = $m->{token};
    my %json = ('Content-Type' => 'application/json');
    my %acme = (%json, Authorization => "Bearer $KEY{acme}");
    my %other = (%json, Authorization => "Bearer $KEY{other}");

    push @o, 'revoke, bad typ: '
        . probe('POST', '/revoke-v', th(tok(typ => 'x'), %acme),
                $JSON->encode({ session_id => $m->{session_id} }));
    push @o, 'revoke, another API key\'s session: '
        . probe('POST', '/revoke-v', th($t, %other),
                $JSON->encode({ session_id => $m->{session_id} }));
    push @o, 'revoke, an unknown session: '
        . probe('POST', '/revoke-v', th($t, %acme),
                $JSON->encode({ session_id => $::UNKNOWN }));

    my $id = ticket();
    push @o, 'exchange, expired token: '
        . probe('POST', '/exchange-v', th(expired(), %acme),
                $JSON->encode({ sessionId => $id }));
    push @o, 'exchange, another API key\'s ticket: '
        . probe('POST', '/exchange-v', th($t, %other),
                $JSON->encode({ sessionId => $id }));

    my $x = post('/exchange', 'acme', { sessionId => $id });
    push @o, 'exchange: ' . st($x);
    push @o, 'exchange, used: '
        . probe('POST', '/exchange-v', th($t, %acme),
                $JSON->encode({ sessionId => $id }));

    return @o;
}

# a refresh location that verifies too: the access phase's claims go when
# the refresh replaces them (under valgrind: nothing lost)

sub flow_verify_and_refresh {
    my ($m) = @_;
    my @o;
    my %acme = (Authorization => "Bearer $KEY{acme}");

    my $res = http('POST', '/srefresh-v', th($m->{token}, %acme), '');
    push @o, 'refresh: ' . st($res) . '; claims: '
        . shown($res->{headers}{'x-claims'});

    my $n = $res->{json}{token} // '';
    $res = http('POST', '/srefresh-v',
                th($n, Authorization => "Bearer $KEY{other}"), '');
    push @o, 'another API key: ' . st($res) . '; claims: '
        . shown($res->{headers}{'x-claims'});

    $res = http('POST', '/srefresh-v', th($n, %acme), '');
    push @o, 'the owner: ' . st($res);

    return @o;
}

# L2: a ticket is exchanged only with the key that minted it

sub flow_exchange_owner {
    my ($m) = @_;
    my @o;
    my $id = ticket();

    my $res = post('/exchange', 'other', { sessionId => $id });
    push @o, 'another API key: ' . st($res);
    push @o, 'body: ' . ($res->{content} // '');
    push @o, 'another API key, an unknown ticket: '
        . st(post('/exchange', 'other', { sessionId => $::UNKNOWN }));

    $res = post('/exchange', 'acme', { sessionId => $id });
    my (undef, $c) = split /\./, ($res->{json}{token} // '');
    $c = eval { $JSON->decode(b64url_decode($c // '')) } // {};
    push @o, 'the minting key: ' . st($res) . ', tenant '
        . ($c->{tenant} // '-');
    push @o, 'another API key, used: '
        . st(post('/exchange', 'other', { sessionId => $id }));
    push @o, 'the minting key, used: '
        . st(post('/exchange', 'acme', { sessionId => $id }));

    # where the exchange authenticates no key, the ticket id alone does

    push @o, 'no API key on the location: '
        . st(post('/exchange-nokey', undef, { sessionId => ticket('other') }));

    return @o;
}

add_block_preprocessor(sub {
    my $block = shift;

    # configuration failures are expected: keep their messages out of the
    # test output (the error_log section still reads them from error.log)

    $block->set_value('suppress_stderr', 1) if defined $block->must_die;
});

block_defaults(
    http_config  => $HTTP,
    config       => $SERVER,
    user_files   => [['fc.keys', $KEY_FILE]],
    more_headers => "Authorization: Bearer $KEY{acme}\n"
                    . "Content-Type: application/json",
    no_error_log => "[error]\n[alert]\n",
);

run_tests();

Test::More::done_testing();

__DATA__

=== TEST 1: verify location: every failure leaves the claim variables empty, frame-ancestors without the token's origins, and an error_page upstream without the claims
--- request eval
"POST /mint\n$::MINT_BODY"
--- error_code: 201
--- response_body_filters eval
::flow(\&::flow_verify)
--- response_body
valid: 200; claims: sub=u-1|tenant=acme|jti=*|exp=*|kid=hs256-1|origin=https://app.example.com|origins=https://app.example.com|sid=*; frame-ancestors: https://app.example.com; upstream got: sub=u-1|tenant=acme|jti=*|exp=*|kid=hs256-1|origin=https://app.example.com|origins=https://app.example.com|sid=*
bad typ: 401 SESSION_INVALID; claims: none; frame-ancestors: 'none'; upstream got: none
expired: 401 SESSION_EXPIRED; claims: none; frame-ancestors: 'none'; upstream got: none
wrong origin: 403 ORIGIN_NOT_ALLOWED; claims: none; frame-ancestors: 'none'; upstream got: none
require fails: 403 SCOPE_NOT_GRANTED; claims: none; frame-ancestors: 'none'; upstream got: none
replaced by a refresh: 401 SESSION_REVOKED; claims: none; frame-ancestors: 'none'; upstream got: none
revoked: 401 SESSION_REVOKED; claims: none; frame-ancestors: 'none'; upstream got: none



=== TEST 2: refresh renew: no failure leaves claims, whichever check refused the renew token (review M2)
--- request eval
"POST /mint\n$::MINT_BODY"
--- error_code: 201
--- response_body_filters eval
::flow(\&::flow_refresh_renew)
--- response_body
bad typ (a session token): 401 SESSION_INVALID; claims: none; frame-ancestors: 'none'; upstream got: none
expired: 401 SESSION_EXPIRED; claims: none; frame-ancestors: 'none'; upstream got: none
wrong origin: 403 ORIGIN_NOT_ALLOWED; claims: none; frame-ancestors: 'none'; upstream got: none
require fails: 403 SCOPE_NOT_GRANTED; claims: none; frame-ancestors: 'none'; upstream got: none
another API key: 404 SESSION_NOT_FOUND; claims: none; frame-ancestors: 'none'; upstream got: none
refresh: 200; claims: none
replaced, presented again: 401 RENEW_TOKEN_REUSED; claims: none; frame-ancestors: 'none'
revoked: 401 SESSION_REVOKED; claims: none; frame-ancestors: 'none'; upstream got: none



=== TEST 3: refresh session: no failure leaves claims; the review's reproduction (wrong origin, error_page 403 = @up) among them
--- request eval
"POST /mint\n$::MINT_BODY"
--- error_code: 201
--- response_body_filters eval
::flow(\&::flow_refresh_session)
--- response_body
bad typ (a renew token): 401 SESSION_INVALID; claims: none; frame-ancestors: 'none'; upstream got: none
expired: 401 SESSION_EXPIRED; claims: none; frame-ancestors: 'none'; upstream got: none
wrong origin: 403 ORIGIN_NOT_ALLOWED; claims: none; frame-ancestors: 'none'; upstream got: none
require fails: 403 SCOPE_NOT_GRANTED; claims: none; frame-ancestors: 'none'; upstream got: none
another API key: 404 SESSION_NOT_FOUND; claims: none; frame-ancestors: 'none'; upstream got: none
refresh: 200; claims: none
replaced, presented again: 401 RENEW_TOKEN_REUSED; claims: none; frame-ancestors: 'none'
revoked: 401 SESSION_REVOKED; claims: none; frame-ancestors: 'none'; upstream got: none



=== TEST 4: revoke and exchange locations that verify: a refused operation keeps none of the access phase's claims
--- request eval
"POST /mint\n$::MINT_BODY"
--- error_code: 201
--- response_body_filters eval
::flow(\&::flow_revoke_exchange)
--- response_body
revoke, bad typ: 401 SESSION_INVALID; claims: none; frame-ancestors: 'none'; upstream got: none
revoke, another API key's session: 404 SESSION_NOT_FOUND; claims: none; frame-ancestors: 'none'; upstream got: none
revoke, an unknown session: 404 SESSION_NOT_FOUND; claims: none; frame-ancestors: 'none'; upstream got: none
exchange, expired token: 401 SESSION_EXPIRED; claims: none; frame-ancestors: 'none'; upstream got: none
exchange, another API key's ticket: 404 EXCHANGE_NOT_FOUND; claims: none; frame-ancestors: 'none'; upstream got: none
exchange: 200
exchange, used: 409 EXCHANGE_USED; claims: none; frame-ancestors: 'none'; upstream got: none



=== TEST 5: a refresh location that verifies too: the access phase's claims are released, never shown (valgrind: nothing lost)
--- request eval
"POST /mint\n$::MINT_BODY"
--- error_code: 201
--- response_body_filters eval
::flow(\&::flow_verify_and_refresh)
--- response_body
refresh: 200; claims: none
another API key: 404 SESSION_NOT_FOUND; claims: none
the owner: 200



=== TEST 6: a subrequest's context is not the main request's after an internal redirect
--- request
GET /sub/main
--- more_headers eval
"X-Session-Token: " . ::tok() . "\nOrigin: https://app.example.com"
--- response_body
sub=user-1 error=



=== TEST 7: L2: a ticket is exchanged only with the API key that minted it; another key gets 404 EXCHANGE_NOT_FOUND, as for an unknown ticket
--- request eval
"POST /mint\n$::MINT_BODY"
--- error_code: 201
--- response_body_filters eval
::flow(\&::flow_exchange_owner)
--- response_body
another API key: 404 EXCHANGE_NOT_FOUND
body: {"error":"No such embed session","code":"EXCHANGE_NOT_FOUND"}
another API key, an unknown ticket: 404 EXCHANGE_NOT_FOUND
the minting key: 200, tenant acme
another API key, used: 404 EXCHANGE_NOT_FOUND
the minting key, used: 409 EXCHANGE_USED
no API key on the location: 200



=== TEST 8: embed_session_type embed-renew+jwt in a verify location fails nginx -t: renew tokens would pass as session tokens
--- config
    location /t {
        embed_session_verify  on;
        embed_session_keys    $TEST_NGINX_ES_DATA/keys/hs256.jwks;
        embed_session_type    embed-renew+jwt;
    }
--- must_die
--- error_log
"embed_session_type embed-renew+jwt" is the type of renew tokens: a renew token would pass as a session token



=== TEST 9: embed_session_type application/Embed-Renew+JWT (the same media type) at the server level fails nginx -t
--- config
    embed_session_type  application/Embed-Renew+JWT;

    location /t {
        embed_session_verify  on;
        embed_session_keys    $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }
--- must_die
--- error_log
"embed_session_type application/Embed-Renew+JWT" is the type of renew tokens
