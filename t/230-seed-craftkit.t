# Seed 003, CraftKit "Create an embed session" (POST /v1/embed/sessions),
# served by conf-examples/craftkit.conf as shipped: every block runs the
# whole file (t/lib/EmbedSessionExample.pm), with only its ports, the key
# files and the catalog file substituted, and a stub of the embed
# application on the upstream's port.  The documented cURL request gets the
# documented 200; the EdDSA token it carries verifies with Crypt::JWT and
# with the example's own embed server (embed.craftkit.dev: same keys, same
# store), and its iframe_url mounts there, at the builder or, in fill mode,
# at the form route; every error of CraftKit's table that configuration
# can produce has its code, 404 catalog_not_found per project included;
# the key never reaches the log (rule 23).
#
# The session lifecycle of the same file: the mint's single-use renew_token,
# POST /v1/embed/sessions/refresh with the same project's key (rotation; a
# renew token used a second time, even at once, revokes the session), the
# revocation of a session by its session_id (POST /v1/embed/sessions/revoke
# and DELETE /v1/embed/sessions/{id}, our choice of paths) and the embed
# server refusing what was revoked or replaced.  These blocks run several
# requests each: the mint is the block's request, the rest is sent from its
# response_body_filters with http() while nginx runs.
#
# The example's readings of the seed's ambiguities (its top comment):
# expires_at with milliseconds, catalogRef.version as 3 or 3.0.

use FindBin;
use lib "$FindBin::Bin/lib";
use EmbedSessionTest;
use EmbedSessionMint;
use EmbedSessionExample;

use Crypt::JWT qw(decode_jwt);
use HTTP::Tiny ();
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
    # another project with embed enabled
    globex  => 'ck_live_GlobexEmQd7Rz2LsVw8YpK4nTb6JcX0aFhU3eMiq',
);

our $KEY_FILE = join '', map { "$_\n" }
    '# CraftKit project keys (test)',
    'acme key=' . stored($KEY{acme})
        . ' tenant=prj_acme flags=embed',
    'noembed key=' . stored($KEY{noembed}) . ' tenant=prj_plain',
    'revoked key=' . stored($KEY{revoked})
        . ' tenant=prj_old flags=embed status=revoked',
    'expired key=' . stored($KEY{expired})
        . ' tenant=prj_gone flags=embed expires=1000000000',
    'globex key=' . stored($KEY{globex})
        . ' tenant=prj_globex flags=embed';

sub auth {
    my ($name) = @_;
    return "Authorization: Bearer $KEY{$name}\nContent-Type: application/json";
}

# --- the example as shipped ----------------------------------------------
#
# the test's key file and catalog file (written by --- user_files into the
# html directory), the fixture Ed25519 key for the generated demo key; the
# embed application behind embed.craftkit.dev is a stub that answers with
# what the embed server passes on

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

# the published catalogs of each project: tenant= of the key file

our $CATALOGS = join '', map { "$_\n" }
    '# PROJECT  CATALOG',
    'prj_acme   my-catalog',
    'prj_acme   invoices 2026',
    'prj_acme   ' . ('c' x 120),
    '',
    'prj_globex globex-catalog';

our %FILES = (files => {
    'keys/craftkit.keys' => '$TEST_NGINX_HTML_DIR/craftkit.api-keys',
    'keys/craftkit.catalogs' => '$TEST_NGINX_HTML_DIR/craftkit.catalogs',
    'keys/demo.jwks' => '$TEST_NGINX_ES_DATA/keys/ed25519.jwks',
    'keys/demo.pub.jwks' => '$TEST_NGINX_ES_DATA/keys/ed25519.pub.jwks',
});

# the upstream craftkit_embed (127.0.0.1:9000 in the file)

example_config('craftkit', %FILES);

our $UPSTREAM = example_port(9000);

our $STUB = <<"_EOC_";
    server {
        listen  127.0.0.1:$UPSTREAM;

        location / {
            return 200 "sub=\$http_x_embed_actor tenant=\$http_x_embed_tenant session=\$http_x_embed_session route=\$uri\\n";
        }
    }
_EOC_

# the embed server's port in the nginx.conf of the running block

sub embed_port {
    open my $fh, '<', $Test::Nginx::Util::ConfFile or die "conf: $!\n";
    my $conf = do { local $/; <$fh> };
    close $fh;

    $conf =~ /listen\s+127\.0\.0\.1:(\d+);\s*\n\s*server_name\s+embed\.craftkit\.dev;/
        or die "no embed.craftkit.dev server in the configuration\n";

    return $1;
}

# a GET on the embed server: "STATUS what the application saw", or
# "STATUS CODE"; the session id written as <session_id> when given

sub embed_get {
    my ($path, $headers, $sid) = @_;

    my $res = HTTP::Tiny->new(timeout => 30)->request(
        'GET', 'http://127.0.0.1:' . embed_port() . $path,
        { headers => $headers // {} });

    my $body = $res->{content} // '';
    chomp $body;

    if ($res->{status} != 200) {
        $body = $body =~ /"code":"([^"]+)"/ ? $1 : $body;
    }

    $body =~ s/\Q$sid\E/<session_id>/g if defined $sid && $sid ne '';

    return "$res->{status} $body";
}

# --- checks on responses ----------------------------------------------------

our $PUB = jwk('ed25519.pub');

# the token on the embed server's API (/api/, the token in X-Session-Token,
# from the embed's own origin unless another is given)

sub verify_with_module {
    my ($token, $origin, $sid) = @_;

    return embed_get('/api/check',
                     { 'X-Session-Token' => $token,
                       Origin => $origin // 'https://embed.craftkit.dev' },
                     $sid);
}

# an iframe_url: "https://embed.craftkit.dev/embed/ROUTE?session_token=<token>"
# when it is one, and what mounting it on the embed server gives

sub iframe_lines {
    my ($url, $token, $sid) = @_;

    $url //= '';

    (my $shown = $url) =~ s/\Q$token\E/<token>/g if $token ne '';
    my @out = ("iframe_url: $shown");

    if ($url =~ m{^https://embed\.craftkit\.dev(/[^?#]*\?[^#]*)$}) {
        push @out, 'iframe_url mounted: ' . embed_get($1, {}, $sid);
    }

    return @out;
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
    push @out, 'sid = session_id: '
        . (($c->{sid} // '') eq $r->{session_id} ? 'yes' : 'no');

    my $exp_iso = '';
    my $t = iso_time($r->{expires_at});
    if (defined $t) {
        $exp_iso = $t == $c->{exp} ? 'exp' : "exp" . ($t - $c->{exp});
    }
    push @out, "expires_at: ISO 8601 = " . ($exp_iso || "bad ($r->{expires_at})");
    push @out, 'expires_at: '
        . ($r->{expires_at} =~ /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z\z/
           ? 'YYYY-MM-DDTHH:MM:SS.000Z' : "other ($r->{expires_at})");
    push @out, 'expires_in: '
        . (($r->{expires_in} // -1) == $c->{exp} - $c->{iat}
           ? 'exp - iat' : "bad ($r->{expires_in})");

    my %seen = %$c;
    delete @seen{qw(iat exp jti sid iss aud)};
    push @out, 'claims: ' . $JSON->encode(\%seen);

    push @out, renew_lines($r->{renew_token}, $c);

    push @out, iframe_lines($r->{iframe_url}, $token, $c->{sid});
    push @out, 'module: ' . verify_with_module($token, undef, $c->{sid});
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

# the renew token of an answer beside its session token's claims $c:
# header, the same claims, exp the end of the session (a day from the
# mint), and never a session token for the module

sub renew_lines {
    my ($renew, $c, $start) = @_;
    my @out;

    $start //= $c->{iat};

    my ($h, $rc) = decode_ck($renew);

    return "renew_token: Crypt::JWT: $h" unless $rc;

    push @out, "renew_token: alg=$h->{alg} kid=$h->{kid} typ=$h->{typ}";

    my %a = %$c;
    my %b = %$rc;
    delete @a{qw(exp)};
    delete @b{qw(exp)};
    push @out, 'renew_token: the claims of the token but exp: '
        . ($JSON->encode(\%a) eq $JSON->encode(\%b) ? 'yes' : 'no');

    push @out, 'renew_token: exp - the mint: ' . ($rc->{exp} - $start);

    push @out, 'module, renew_token as a session token: '
        . verify_with_module($renew);

    return @out;
}

# a compact JWS the fixture key verifies: (header, claims), or (error)

sub decode_ck {
    my ($jws) = @_;

    my ($h, $c) = eval {
        decode_jwt(token => $jws // '', key => { %$PUB }, decode_header => 1,
                   accepted_alg => 'EdDSA', verify_exp => 1, verify_iat => 1,
                   verify_iss => 'https://api.craftkit.dev',
                   verify_aud => 'embed.craftkit.dev');
    };

    return $c ? ($h, $c) : ($@ || 'no claims');
}

# --- the session lifecycle ---------------------------------------------------

our $UUID = qr/\A[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\z/;

# a request to the API server while nginx runs, with a project's key
# (undef: none) and a body (a reference is sent as JSON, a string as it is)

sub api {
    my ($method, $path, $key, $doc) = @_;

    return http($method, $path,
                { defined $key ? (Authorization => "Bearer $KEY{$key}") : (),
                  'Content-Type' => 'application/json' },
                ref $doc ? $JSON->encode($doc) : $doc);
}

# with the key of "acme" unless one (undef: none) is given

sub refresh {
    my ($renew, $key) = @_;
    return api('POST', '/v1/embed/sessions/refresh', @_ > 1 ? $key : 'acme',
               { renew_token => $renew });
}

sub revoke {
    my ($id, $key) = @_;
    return api('POST', '/v1/embed/sessions/revoke', @_ > 1 ? $key : 'acme',
               { session_id => $id });
}

sub revoke_id {
    my ($id, $key) = @_;
    return api('DELETE', "/v1/embed/sessions/$id", @_ > 1 ? $key : 'acme');
}

# "STATUS ok" for a 200, else "STATUS CODE" (with the issue paths)

sub outcome {
    my ($res) = @_;
    my $j = $res->{json};

    return "$res->{status} ok" if $res->{status} == 200;
    return "$res->{status} $res->{content}" unless ref $j eq 'HASH';

    my $out = "$res->{status} " . ($j->{code} // '-');
    $out .= ' (issues: '
            . join(' ', map { $_->{path} // '?' } @{ $j->{issues} }) . ')'
        if ref $j->{issues} eq 'ARRAY';

    return $out;
}

# a renew token signed with the fixture key, as the module would sign one:
# claims of the mint's token $c with the given ones replaced

sub forged_renew {
    my ($c, %claims) = @_;

    return sign_token(key => jwk('ed25519'),
                      header => { typ => 'embed-renew+jwt' },
                      claims => { %$c, %claims });
}

# mint, refresh with the renew token: the new generation

sub check_refresh {
    my ($body) = @_;
    my @out;

    my $m = eval { $JSON->decode($body) } or return "not JSON: $body\n";
    my ($h0, $c0) = decode_ck($m->{session_token});
    return "the mint's token: $h0\n" unless $c0;

    my $res = refresh($m->{renew_token});
    my $r = $res->{json} // {};

    push @out, 'refresh: ' . outcome($res);
    push @out, 'fields: ' . join ' ', sort keys %$r;
    push @out, 'Content-Type: ' . ($res->{headers}{'content-type'} // '');
    push @out, 'Cache-Control: ' . ($res->{headers}{'cache-control'} // '');
    push @out, 'session_id: '
        . (($r->{session_id} // '') eq $m->{session_id}
           ? "the mint's" : "other ($r->{session_id})");

    my ($h, $c) = decode_ck($r->{session_token});
    return join "\n", @out, "Crypt::JWT: $h", '' unless $c;

    push @out, "Crypt::JWT: alg=$h->{alg} kid=$h->{kid} typ=$h->{typ}";
    push @out, 'jti: ' . ($c->{jti} =~ $UUID && $c->{jti} ne $c0->{jti}
                          ? 'a new UUID' : "bad ($c->{jti})");
    push @out, 'sid: ' . (($c->{sid} // '') eq $m->{session_id}
                          ? 'the session_id' : 'bad');
    push @out, 'lifetime: ' . ($c->{exp} - $c->{iat});

    my %a = %$c0;
    my %b = %$c;
    delete @a{qw(iat exp jti)};
    delete @b{qw(iat exp jti)};
    push @out, "other claims: "
        . ($JSON->encode(\%a) eq $JSON->encode(\%b)
           ? "the mint's" : 'changed: ' . $JSON->encode(\%b));

    push @out, iframe_lines($r->{iframe_url}, $r->{session_token},
                            $c->{sid});

    my $t = iso_time($r->{expires_at});
    push @out, 'expires_at: '
        . (defined $t && $t == $c->{exp} ? 'exp' : "bad ($r->{expires_at})");
    push @out, 'expires_in: '
        . (($r->{expires_in} // -1) == $c->{exp} - $c->{iat}
           ? 'exp - iat' : "bad ($r->{expires_in})");

    push @out, 'renew_token: '
        . (($r->{renew_token} // '') ne $m->{renew_token} ? 'a new one' : 'the same');
    push @out, renew_lines($r->{renew_token}, $c, $c0->{iat});

    push @out, 'module, the new token: '
        . verify_with_module($r->{session_token}, undef, $c->{sid});
    push @out, "module, the mint's token: "
        . verify_with_module($m->{session_token});
    push @out, 'refresh with the new renew_token: '
        . outcome(refresh($r->{renew_token}));

    my $log = read_log();
    my ($sig) = (split /\./, $r->{renew_token})[2];
    push @out, 'log holds the renew token: '
        . (index($log, $sig) >= 0 ? 'yes' : 'no');

    return join "\n", @out, '';
}

# a renew token used twice: single use, even at once.  Another project's
# key gets nothing for it and changes nothing; the owner's second use
# revokes the whole session

sub check_reuse {
    my ($body) = @_;
    my @out;

    my $m = eval { $JSON->decode($body) } or return "not JSON: $body\n";

    my $r1 = refresh($m->{renew_token});
    push @out, 'refresh 1: ' . outcome($r1);
    my ($h1, $c1) = decode_ck($r1->{json}{session_token});

    push @out, "the mint's renew_token with another project's key: "
        . outcome(refresh($m->{renew_token}, 'globex'));
    push @out, 'module, the token of refresh 1: '
        . verify_with_module($r1->{json}{session_token}, undef,
                             $m->{session_id});

    push @out, "the mint's renew_token again at once: "
        . outcome(refresh($m->{renew_token}));
    push @out, 'the renew_token of refresh 1: '
        . outcome(refresh($r1->{json}{renew_token}));
    push @out, 'module, the token of refresh 1: '
        . verify_with_module($r1->{json}{session_token});
    push @out, "module, the mint's token: "
        . verify_with_module($m->{session_token});

    return join "\n", @out, '';
}

# a fill-mode session refreshed: the form route again

sub check_refresh_fill {
    my ($body) = @_;
    my @out;

    my $m = eval { $JSON->decode($body) } or return "not JSON: $body\n";

    push @out, iframe_lines($m->{iframe_url}, $m->{session_token},
                            $m->{session_id});

    my $r = refresh($m->{renew_token});
    push @out, 'refresh: ' . outcome($r);
    push @out, iframe_lines($r->{json}{iframe_url}, $r->{json}{session_token},
                            $m->{session_id});

    return join "\n", @out, '';
}

# revoke the minted session with $how (revoke or revoke_id)

sub check_revoke {
    my ($body, $how) = @_;
    my @out;

    my $m = eval { $JSON->decode($body) } or return "not JSON: $body\n";
    my $id = $m->{session_id};

    push @out, 'module, before: '
        . verify_with_module($m->{session_token}, undef, $id);

    my $res = $how->($id);
    push @out, 'revoke: ' . outcome($res);
    (my $answer = $res->{content} // '') =~ s/\Q$id\E/<session_id>/g;
    $answer =~ s/\n\z//;
    push @out, "answer: $answer";
    push @out, 'Content-Type: ' . ($res->{headers}{'content-type'} // '');

    push @out, 'module, after: ' . verify_with_module($m->{session_token});
    push @out, 'refresh: ' . outcome(refresh($m->{renew_token}));
    push @out, 'revoke again: ' . outcome($how->($id));
    push @out, 'revoke again the other way: '
        . outcome(($how == \&revoke ? \&revoke_id : \&revoke)->($id));

    return join "\n", @out, '';
}

sub check_revoke_post { check_revoke($_[0], \&revoke) }
sub check_revoke_delete { check_revoke($_[0], \&revoke_id) }

# the revoke endpoints' errors; none of them revokes the minted session

sub check_revoke_errors {
    my ($body) = @_;
    my @out;

    my $m = eval { $JSON->decode($body) } or return "not JSON: $body\n";
    my $id = $m->{session_id};
    my $unknown = 'a7f3c2d1-0b4e-4c5a-9d8e-1f2a3b4c5d6e';

    push @out, 'POST, another project\'s key: ' . outcome(revoke($id, 'globex'));
    push @out, 'DELETE, another project\'s key: '
        . outcome(revoke_id($id, 'globex'));
    push @out, 'POST, unknown id: ' . outcome(revoke($unknown));
    push @out, 'DELETE, unknown id: ' . outcome(revoke_id($unknown));
    push @out, 'POST, not an id: ' . outcome(revoke('not-a-session'));
    push @out, 'DELETE, not an id: ' . outcome(revoke_id('not-a-session'));
    push @out, 'POST, no session_id: '
        . outcome(api('POST', '/v1/embed/sessions/revoke', 'acme', {}));
    push @out, 'POST, not JSON: '
        . outcome(api('POST', '/v1/embed/sessions/revoke', 'acme',
                      '{"session_id":'));
    push @out, 'POST, no key: ' . outcome(revoke($id, undef));
    push @out, 'DELETE, no key: ' . outcome(revoke_id($id, undef));
    push @out, 'POST, a project without embed: '
        . outcome(revoke($id, 'noembed'));
    push @out, 'POST, a revoked key: ' . outcome(revoke($id, 'revoked'));

    my $get = api('GET', '/v1/embed/sessions/revoke', 'acme');
    push @out, 'GET: ' . outcome($get) . ', Allow: '
        . ($get->{headers}{allow} // '-');

    push @out, 'module, the token: '
        . verify_with_module($m->{session_token}, undef, $m->{session_id});
    push @out, 'refresh: ' . outcome(refresh($m->{renew_token}));

    return join "\n", @out, '';
}

# the refresh endpoint's errors; none of them rotates the minted session

sub check_refresh_errors {
    my ($body) = @_;
    my @out;

    my $m = eval { $JSON->decode($body) } or return "not JSON: $body\n";
    my ($h0, $c0) = decode_ck($m->{session_token});
    return "the mint's token: $h0\n" unless $c0;

    my $path = '/v1/embed/sessions/refresh';
    my $renew = $m->{renew_token};
    my $now = time;

    push @out, 'another project\'s key: ' . outcome(refresh($renew, 'globex'));
    push @out, 'no key: ' . outcome(api('POST', $path, undef,
                                        { renew_token => $renew }));
    push @out, 'a project without embed: '
        . outcome(refresh($renew, 'noembed'));
    push @out, 'no renew_token: ' . outcome(api('POST', $path, 'acme', {}));
    push @out, 'the session token instead: '
        . outcome(refresh($m->{session_token}));
    push @out, 'not a token: ' . outcome(refresh('ert_8sR2Xq'));

    my ($hd, $pl, $sig) = split /\./, $renew;
    my $claims = $JSON->decode(b64url_decode($pl));
    $claims->{sub} = 'usr_evil';
    push @out, 'payload changed: '
        . outcome(refresh(join '.', $hd,
                          b64url_encode($JSON->encode($claims)), $sig));

    push @out, 'a session the store does not know: '
        . outcome(refresh(forged_renew($c0,
              sid => 'b1e2d3c4-5f6a-4b7c-8d9e-0f1a2b3c4d5e',
              jti => 'b1e2d3c4-5f6a-4b7c-8d9e-0f1a2b3c4d5e',
              exp => $now + 3600)));
    push @out, 'expired: '
        . outcome(refresh(forged_renew($c0, iat => $now - 7200,
                                       exp => $now - 3600)));
    push @out, 'not JSON: ' . outcome(api('POST', $path, 'acme',
                                          '{"renew_token":'));

    my $get = api('GET', $path, 'acme');
    push @out, 'GET: ' . outcome($get) . ', Allow: '
        . ($get->{headers}{allow} // '-');

    push @out, 'module, the token: '
        . verify_with_module($m->{session_token}, undef, $m->{session_id});
    push @out, 'refresh: ' . outcome(refresh($renew));

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

# a catalog check: the status and code of a mint with catalogRef, or the
# "catalog" claim as the token carries it (its JSON text)

sub check_catalog {
    my ($body) = @_;

    my $r = eval { $JSON->decode($body) } or return "not JSON: $body\n";

    if (!defined $r->{session_token}) {
        my $out = 'error ' . ($r->{code} // '-');
        $out .= ' (issues: ' . join(' ', map { $_->{path} } @{ $r->{issues} })
                . ')' if ref $r->{issues} eq 'ARRAY';
        return "$out\n";
    }

    my $payload = b64url_decode((split /\./, $r->{session_token})[1]);
    my ($catalog) = $payload =~ /"catalog":(\{[^{}]*\})/;

    return 'minted, catalog claim: ' . ($catalog // 'none') . "\n";
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
    user_files   => [['craftkit.api-keys', $KEY_FILE],
                     ['craftkit.catalogs', $CATALOGS]],
    more_headers => auth('acme'),
    no_error_log => "[error]\n",
);

use_example('craftkit', %FILES);

# the stub of the embed application beside the example's servers

add_block_preprocessor(sub {
    my ($block) = @_;

    $block->set_value('http_config', ($block->http_config // '') . $STUB)
        unless defined $block->no_example;
});

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
fields: expires_at expires_in iframe_url renew_token session_id session_token
session_id: uuid v4
Crypt::JWT: alg=EdDSA kid=ed-1 typ=embed-session+jwt
lifetime: 14400
jti = session_id: yes
sid = session_id: yes
expires_at: ISO 8601 = exp
expires_at: YYYY-MM-DDTHH:MM:SS.000Z
expires_in: exp - iat
claims: {"catalog":{"name":"my-catalog"},"email":"jane@acme.com","mode":"edit","name":"Jane Smith","origins":"https://embed.craftkit.dev","permissions":{"publish":true,"saveDraft":true},"project":"prj_acme","sub":"usr_456","template":"invoice","tenant":"org_123","tenant_name":"Acme Corp"}
renew_token: alg=EdDSA kid=ed-1 typ=embed-renew+jwt
renew_token: the claims of the token but exp: yes
renew_token: exp - the mint: 86400
module, renew_token as a session token: 401 SESSION_INVALID
iframe_url: https://embed.craftkit.dev/embed/builder?session_token=<token>
iframe_url mounted: 200 sub=usr_456 tenant=org_123 session=<session_id> route=/embed/builder
module: 200 sub=usr_456 tenant=org_123 session=<session_id> route=/api/check
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
fields: expires_at expires_in iframe_url renew_token session_id session_token
session_id: uuid v4
Crypt::JWT: alg=EdDSA kid=ed-1 typ=embed-session+jwt
lifetime: 14400
jti = session_id: yes
sid = session_id: yes
expires_at: ISO 8601 = exp
expires_at: YYYY-MM-DDTHH:MM:SS.000Z
expires_in: exp - iat
claims: {"mode":"edit","origins":"https://embed.craftkit.dev","project":"prj_acme","sub":"usr_1","tenant":"org_1","tenant_name":"Org"}
renew_token: alg=EdDSA kid=ed-1 typ=embed-renew+jwt
renew_token: the claims of the token but exp: yes
renew_token: exp - the mint: 86400
module, renew_token as a session token: 401 SESSION_INVALID
iframe_url: https://embed.craftkit.dev/embed/builder?session_token=<token>
iframe_url mounted: 200 sub=usr_1 tenant=org_1 session=<session_id> route=/embed/builder
module: 200 sub=usr_1 tenant=org_1 session=<session_id> route=/api/check
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
fields: expires_at expires_in iframe_url renew_token session_id session_token
session_id: uuid v4
Crypt::JWT: alg=EdDSA kid=ed-1 typ=embed-session+jwt
lifetime: 14400
jti = session_id: yes
sid = session_id: yes
expires_at: ISO 8601 = exp
expires_at: YYYY-MM-DDTHH:MM:SS.000Z
expires_in: exp - iat
claims: {"appearance":{"baseTheme":"dark"},"branding":{"primaryColor":"#123456"},"callbacks":{"onCloseUrl":"https://partner.example/close"},"form":{"showPreview":true},"initial_name":"New form","limits":{"maxPublishes":5},"mode":"fill","origins":"https://embed.craftkit.dev","permissions":{"submitForm":true},"permissions_preset":"reviewer","project":"prj_acme","sub":"usr_1","template":"t1","tenant":"org_1","tenant_name":"Org","variable_catalog":{"variables":[{"key":"customer.name"}]}}
renew_token: alg=EdDSA kid=ed-1 typ=embed-renew+jwt
renew_token: the claims of the token but exp: yes
renew_token: exp - the mint: 86400
module, renew_token as a session token: 401 SESSION_INVALID
iframe_url: https://embed.craftkit.dev/embed/form?session_token=<token>
iframe_url mounted: 200 sub=usr_1 tenant=org_1 session=<session_id> route=/embed/form
module: 200 sub=usr_1 tenant=org_1 session=<session_id> route=/api/check
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
 "keys: expires_at expires_in iframe_url renew_token session_id session_token\ncode: -\n",
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
 "keys: expires_at expires_in iframe_url renew_token session_id session_token\ncode: -\n"]



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
 "keys: expires_at expires_in iframe_url renew_token session_id session_token\ncode: -\n",
 "keys: expires_at expires_in iframe_url renew_token session_id session_token\ncode: -\n"]



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
 "keys: expires_at expires_in iframe_url renew_token session_id session_token\ncode: -\n",
 "keys: expires_at expires_in iframe_url renew_token session_id session_token\ncode: -\n"]



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
 "keys: expires_at expires_in iframe_url renew_token session_id session_token\ncode: -\n"]



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
 "keys: expires_at expires_in iframe_url renew_token session_id session_token\ncode: -\n"]



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



=== TEST 19: refresh with the mint's renew_token: 200, the mint's fields, the next generation of the same session; the token and renew token it replaces are refused
--- request eval
::body()
--- error_code: 200
--- response_body_filters eval
\&::check_refresh
--- response_body
refresh: 200 ok
fields: expires_at expires_in iframe_url renew_token session_id session_token
Content-Type: application/json
Cache-Control: no-store
session_id: the mint's
Crypt::JWT: alg=EdDSA kid=ed-1 typ=embed-session+jwt
jti: a new UUID
sid: the session_id
lifetime: 14400
other claims: the mint's
iframe_url: https://embed.craftkit.dev/embed/builder?session_token=<token>
iframe_url mounted: 200 sub=usr_1 tenant=org_1 session=<session_id> route=/embed/builder
expires_at: exp
expires_in: exp - iat
renew_token: a new one
renew_token: alg=EdDSA kid=ed-1 typ=embed-renew+jwt
renew_token: the claims of the token but exp: yes
renew_token: exp - the mint: 86400
module, renew_token as a session token: 401 SESSION_INVALID
module, the new token: 200 sub=usr_1 tenant=org_1 session=<session_id> route=/api/check
module, the mint's token: 401 SESSION_REVOKED
refresh with the new renew_token: 200 ok
log holds the renew token: no



=== TEST 20: a renew_token is single use: used again, even at once, it revokes the session (renew_token_reused) and every token of it is refused; another project's key gets 404 for it and changes nothing
--- request eval
::body()
--- error_code: 200
--- response_body_filters eval
\&::check_reuse
--- response_body
refresh 1: 200 ok
the mint's renew_token with another project's key: 404 session_not_found
module, the token of refresh 1: 200 sub=usr_1 tenant=org_1 session=<session_id> route=/api/check
the mint's renew_token again at once: 401 renew_token_reused
the renew_token of refresh 1: 401 session_revoked
module, the token of refresh 1: 401 SESSION_REVOKED
module, the mint's token: 401 SESSION_REVOKED



=== TEST 21: POST /v1/embed/sessions/revoke {"session_id"}: 200, then the verifier refuses the session's token and the refresh its renew token; revoking again is 200
--- request eval
::body()
--- error_code: 200
--- response_body_filters eval
\&::check_revoke_post
--- response_body
module, before: 200 sub=usr_1 tenant=org_1 session=<session_id> route=/api/check
revoke: 200 ok
answer: {"session_id":"<session_id>","revoked":true}
Content-Type: application/json
module, after: 401 SESSION_REVOKED
refresh: 401 session_revoked
revoke again: 200 ok
revoke again the other way: 200 ok



=== TEST 22: DELETE /v1/embed/sessions/{session_id}: the same
--- request eval
::body()
--- error_code: 200
--- response_body_filters eval
\&::check_revoke_delete
--- response_body
module, before: 200 sub=usr_1 tenant=org_1 session=<session_id> route=/api/check
revoke: 200 ok
answer: {"session_id":"<session_id>","revoked":true}
Content-Type: application/json
module, after: 401 SESSION_REVOKED
refresh: 401 session_revoked
revoke again: 200 ok
revoke again the other way: 200 ok



=== TEST 23: revoke errors: another project's session, an unknown or malformed id are all 404 session_not_found; no session_id 422; the key codes of the mint; POST or DELETE only; the session is untouched
--- request eval
::body()
--- error_code: 200
--- response_body_filters eval
\&::check_revoke_errors
--- response_body
POST, another project's key: 404 session_not_found
DELETE, another project's key: 404 session_not_found
POST, unknown id: 404 session_not_found
DELETE, unknown id: 404 session_not_found
POST, not an id: 404 session_not_found
DELETE, not an id: 404 session_not_found
POST, no session_id: 422 invalid_request (issues: session_id)
POST, not JSON: 400 invalid_json
POST, no key: 401 missing_authorization
DELETE, no key: 401 missing_authorization
POST, a project without embed: 401 invalid_credentials
POST, a revoked key: 401 invalid_credentials
GET: 405 method_not_allowed, Allow: POST, DELETE
module, the token: 200 sub=usr_1 tenant=org_1 session=<session_id> route=/api/check
refresh: 200 ok



=== TEST 24: refresh errors: another project's key 404 session_not_found; the key codes of the mint; no, wrong, altered renew token; an unknown session 404; an expired renew token; POST only; the session is untouched
--- request eval
::body()
--- error_code: 200
--- response_body_filters eval
\&::check_refresh_errors
--- response_body
another project's key: 404 session_not_found
no key: 401 missing_authorization
a project without embed: 401 invalid_credentials
no renew_token: 401 renew_token_required
the session token instead: 401 invalid_renew_token
not a token: 401 invalid_renew_token
payload changed: 401 invalid_renew_token
a session the store does not know: 404 session_not_found
expired: 401 session_expired
not JSON: 400 invalid_json
GET: 405 method_not_allowed, Allow: POST
module, the token: 200 sub=usr_1 tenant=org_1 session=<session_id> route=/api/check
refresh: 200 ok



=== TEST 25: fill mode: iframe_url is the form route, and stays it on a refresh (the token's "mode" claim)
--- request eval
::body('"scope":{"mode":"fill"}')
--- error_code: 200
--- response_body_filters eval
\&::check_refresh_fill
--- response_body
iframe_url: https://embed.craftkit.dev/embed/form?session_token=<token>
iframe_url mounted: 200 sub=usr_1 tenant=org_1 session=<session_id> route=/embed/form
refresh: 200 ok
iframe_url: https://embed.craftkit.dev/embed/form?session_token=<token>
iframe_url mounted: 200 sub=usr_1 tenant=org_1 session=<session_id> route=/embed/form



=== TEST 26: every mode but fill mounts the builder, create and view included
--- pipelined_requests eval
[map { ::body(qq{"scope":{"mode":"$_"}}) } qw(create view edit fill)]
--- error_code eval
[200, 200, 200, 200]
--- response_body_like eval
[('"iframe_url":"https://embed\.craftkit\.dev/embed/builder\?session_token=ey') x 3,
 '"iframe_url":"https://embed\.craftkit\.dev/embed/form\?session_token=ey']



=== TEST 27: 404 catalog_not_found: a name that is no published catalog of the key's project; the project's own names mint
--- pipelined_requests eval
[::body('"catalogRef":{"name":"no-such-catalog"}'),
 ::body('"catalogRef":{"name":"globex-catalog"}'),
 ::body('"catalogRef":{"name":"My-Catalog"}'),
 ::body('"catalogRef":{"name":"my-catalog "}'),
 ::body('"catalogRef":{"name":"my-catalog"}'),
 ::body('"catalogRef":{"name":"invoices 2026"}'),
 ::body('"catalogRef":{"name":"globex-catalog"}'),
 ::body('"catalogRef":{"name":"my-catalog"}'),
 ::body('"variableCatalog":{"v":1}')]
--- more_headers eval
[(::auth('acme')) x 6, (::auth('globex')) x 2, ::auth('acme')]
--- error_code eval
[404, 404, 404, 404, 200, 200, 200, 404, 200]
--- response_body_filters eval
\&::check_catalog
--- response_body eval
[("error catalog_not_found\n") x 4,
 "minted, catalog claim: {\"name\":\"my-catalog\"}\n",
 "minted, catalog claim: {\"name\":\"invoices 2026\"}\n",
 "minted, catalog claim: {\"name\":\"globex-catalog\"}\n",
 "error catalog_not_found\n",
 "minted, catalog claim: none\n"]



=== TEST 28: catalog_not_found has the flat envelope, and comes after the key and the schema
--- pipelined_requests eval
[::body('"catalogRef":{"name":"nope"}'),
 ::body('"catalogRef":{"name":"nope"}'),
 ::body('"catalogRef":{"name":"nope","version":"1"}'),
 ::body('"catalogRef":{"name":"nope"}')]
--- more_headers eval
[::auth('acme'), ::auth('noembed'), ::auth('acme'),
 "Content-Type: application/json"]
--- error_code eval
[404, 401, 422, 401]
--- response_body_like eval
['^\{"error":"Catalog not found","code":"catalog_not_found"\}\n?$',
 '"code":"invalid_credentials"',
 '"code":"invalid_request","issues":\[\{"path":"catalogRef\.version"',
 '"code":"missing_authorization"']



=== TEST 29: catalogRef.version "number": 3 and 3.0 are both taken, and travel as sent
--- pipelined_requests eval
[::body('"catalogRef":{"name":"my-catalog","version":3}'),
 ::body('"catalogRef":{"name":"my-catalog","version":3.0}'),
 ::body('"catalogRef":{"name":"my-catalog","version":"3"}')]
--- error_code eval
[200, 200, 422]
--- response_body_filters eval
\&::check_catalog
--- response_body eval
["minted, catalog claim: {\"name\":\"my-catalog\",\"version\":3}\n",
 "minted, catalog claim: {\"name\":\"my-catalog\",\"version\":3.0}\n",
 "error invalid_request (issues: catalogRef.version)\n"]



=== TEST 30: a bad line in the catalog file: nginx does not start, and says which file and line
--- user_files eval
[['craftkit.api-keys', $::KEY_FILE],
 ['craftkit.catalogs', "# catalogs\nprj_acme my-catalog\nprj_acme\n"]]
--- must_die
--- error_log eval
qr/\[emerg\].*craftkit\.catalogs:3: expected "OWNER VALUE" \(per= is set\)/



=== TEST 31: a catalog listed twice in the file: nginx does not start, and names both lines
--- user_files eval
[['craftkit.api-keys', $::KEY_FILE],
 ['craftkit.catalogs', "prj_acme my-catalog\nprj_acme  other\n\nprj_acme\tmy-catalog\n"]]
--- must_die
--- error_log eval
qr/\[emerg\].*craftkit\.catalogs:4: "my-catalog" is listed twice \(also on line 1\)/
