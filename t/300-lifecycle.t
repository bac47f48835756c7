# The session lifecycle: the store zone, refresh with renew tokens, revoke,
# the one-time exchange and the status location.
#
#   mint with a store    the token carries jti and sid; renew_token output
#                        (typ embed-renew+jwt, the same claims, exp = the
#                        family's absolute end)
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
#   revoke               owner, another key, admin=, id=$1 with DELETE,
#                        unknown and missing ids, an API key's revocation
#   exchange             generate a ticket, exchange it once (409 after),
#                        unknown, malformed, expired (410), missing member
#   zone full            503 STORE_FULL with Retry-After, refresh and revoke
#                        still work, the alert at most once a second (rule 21)
#   status               Prometheus text; the counters move; the invariant
#                        walk says 1
#
# Flows of several requests are driven from the block's check, as the seed
# files do (t/230): the block's request is the first step (a mint, a
# generate, a status scrape), its --- response_body_filters sub makes the
# following requests with http() while nginx runs and returns one line per
# step, compared with --- response_body.  Every flow starts from a fresh
# mint, so blocks do not depend on each other; the sleeps (1 to 3 s) are
# only for expiry.
#
# HS256 (t/data/keys/hs256.jwks) signs: a deterministic algorithm, so the
# grace-window repeat can be compared byte for byte (rule 14: the state is
# keyed by jti, never by signature bytes).

use FindBin;
use lib "$FindBin::Bin/lib";
use EmbedSessionTest;
use EmbedSessionMint;

use Crypt::JWT qw(decode_jwt);
use JSON::PP ();
use Time::HiRes ();

# stateful flows with sleeps: once each
repeat_each(1);
no_shuffle();

our $JSON = JSON::PP->new->canonical->allow_nonref;

our $ORIGIN = 'https://app.example.com';
our $ISS = 'https://lifecycle.example';
our $AUD = 'lifecycle-embed';
our $HS = jwk('hs256');
our $UUID = qr/\A[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\z/;

# --- API keys: "lc_" + 40 characters, stored as LOOKUP:SHA256-HEX -----------

our %KEY = (
    acme   => 'lc_Acme0001VazhQ6Hehob7V1krgHXcd3YHP197FbSC',
    other  => 'lc_Other002c2zTOcrlR9jezkZAB4p8OAgVGIhQL25T',
    admin  => 'lc_Admin003T7kGVNjjzo3bHaMjkXaphDidNGsQubO9',
    doomed => 'lc_Doomed04OFDcc5cjfjbSGojlwmgJhtEeCy8Bho29',
    # right lookup, wrong secret part
    wrong  => 'lc_Acme0001XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX',
);

our $KEY_FILE = join '', map { "$_\n" }
    '# lifecycle test keys',
    'acme key=' . stored($KEY{acme}) . ' scope=customer tenant=acme',
    'other key=' . stored($KEY{other}) . ' scope=customer tenant=other',
    'admin key=' . stored($KEY{admin}) . ' scope=admin tenant=ops',
    'doomed key=' . stored($KEY{doomed}) . ' scope=customer tenant=doomed';

sub auth {
    my ($name) = @_;
    return "Authorization: Bearer $KEY{$name}\nContent-Type: application/json";
}

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

# the key file is written by --- user_files into the html directory

our $HTTP = <<"_EOC_";
    embed_session_api_keys    zone=lc_keys:1m
                              file=$ENV{TEST_NGINX_HTML_DIR}/lifecycle.keys;
    embed_session_store_zone  zone=sessions:1m;
_EOC_

# the zone-full block: the smallest zone nginx makes (8 pages)

our $HTTP_TINY = <<"_EOC_";
    embed_session_api_keys    zone=lc_keys:1m
                              file=$ENV{TEST_NGINX_HTML_DIR}/lifecycle.keys;
    embed_session_store_zone  zone=tiny:32k;
_EOC_

# --- the server --------------------------------------------------------------

our $FIELDS = <<'_EOC_';
        embed_session_field  user            string   required claim=sub;
        embed_session_field  allowedOrigins  origins  required;
        embed_session_field  ttlSeconds      integer  ttl;
_EOC_

our $OUTPUTS = <<'_EOC_';
        embed_session_mint_output  token        token;
        embed_session_mint_output  renew_token  renew_token;
        embed_session_mint_output  session_id   session_id;
        embed_session_mint_output  expires_at   expires_at;
        embed_session_mint_output  expires_in   expires_in;
_EOC_

our $SERVER = <<"_EOC_";
    embed_session_keys      \$TEST_NGINX_ES_DATA/keys/hs256.jwks;
    embed_session_issuer    $ISS;
    embed_session_audience  $AUD;
    embed_session_store     sessions;

    # tokens of 60 s, sessions of 300 s (the absolute lifetime defaults to
    # the ttl max); status 201 (the mint's default)
    location = /mint {
        embed_session_api_key  lc_keys;
        embed_session_mint     on;
$FIELDS
        embed_session_mint_ttl  60 max=300;
$OUTPUTS
    }

    # an absolute lifetime of 2 s
    location = /mint-short {
        embed_session_api_key  lc_keys;
        embed_session_mint     on;
$FIELDS
        embed_session_mint_ttl       2 max=2;
        embed_session_mint_lifetime  2s;
$OUTPUTS
    }

    # Cube's generate: a one-time ticket, its id as sessionId
    location = /generate {
        embed_session_api_key  lc_keys;
        embed_session_mint     on;
$FIELDS
        embed_session_mint_ttl       60 max=300;
        embed_session_mint_claim     tenant  \$embed_session_api_key_tenant;
        embed_session_mint_exchange  5m;
        embed_session_mint_status    200;
        embed_session_mint_output    sessionId  session_id;
    }

    location = /generate-short {
        embed_session_api_key  lc_keys;
        embed_session_mint     on;
$FIELDS
        embed_session_mint_ttl       60 max=300;
        embed_session_mint_exchange  1s;
        embed_session_mint_status    200;
        embed_session_mint_output    sessionId  session_id;
    }

    location = /exchange {
        embed_session_exchange;
        embed_session_mint_output  token       token;
        embed_session_mint_output  session_id  session_id;
        embed_session_mint_output  expires_at  expires_at;
        embed_session_mint_output  expires_in  expires_in;
    }

    location = /exchange-key {
        embed_session_api_key   lc_keys;
        embed_session_exchange  body=ticket;
        embed_session_mint_output  token  token;
    }

    # the backend's refresh: renew token in the body, the family's API key
    location = /refresh {
        embed_session_api_key  lc_keys;
        embed_session_refresh  renew  body=renew_token;
        embed_session_mint_ttl  60 max=300;
        # the customer's backend calls it, server to server: no Origin.
        # The verifier's origin checks apply to a refresh as configured,
        # and the default (embed_session_origin_absent deny) would refuse
        # it with 403 ORIGIN_NOT_ALLOWED
        embed_session_origin_absent  allow;
$OUTPUTS
    }

    location = /refresh-grace1 {
        embed_session_api_key  lc_keys;
        embed_session_refresh  renew  body=renew_token  grace=1s;
        embed_session_mint_ttl  60 max=300;
        embed_session_origin_absent  allow;
$OUTPUTS
    }

    location = /refresh-grace0 {
        embed_session_api_key  lc_keys;
        embed_session_refresh  renew  body=renew_token  grace=0;
        embed_session_mint_ttl  60 max=300;
        embed_session_origin_absent  allow;
$OUTPUTS
    }

    # Pilot's browser refresh: the session token from X-Session-Token, no
    # API key, the origin checked
    location = /session/refresh {
        embed_session_refresh  session;
        embed_session_mint_ttl  60 max=300;
        embed_session_mint_output  token      token;
        embed_session_mint_output  expiresAt  expires_at;
        embed_session_mint_output  expiresIn  expires_in;
    }

    location = /revoke {
        embed_session_api_key  lc_keys;
        embed_session_revoke;
    }

    location = /admin/revoke {
        embed_session_api_key  lc_keys;
        embed_session_revoke   admin=admin;
    }

    location ~ ^/sessions/([^/]+)\$ {
        embed_session_api_key  lc_keys;
        embed_session_revoke   id=\$1;
    }

    location = /apikey/revoke {
        embed_session_api_key         lc_keys;
        embed_session_api_key_revoke  on;
    }

    location = /verify {
        embed_session_verify  on;
        proxy_set_header  X-Claims  "sub=\$embed_session_sub jti=\$embed_session_jti sid=\$embed_session_claim_sid";
        proxy_pass  http://127.0.0.1:\$TEST_NGINX_SERVER_PORT/backend;
    }

    location = /verify-typ-off {
        embed_session_verify  on;
        embed_session_type    off;
        proxy_set_header  X-Claims  "sub=\$embed_session_sub";
        proxy_pass  http://127.0.0.1:\$TEST_NGINX_SERVER_PORT/backend;
    }

    location = /backend {
        return 200 "\$http_x_claims\\n";
    }

    location = /status {
        embed_session_status;
    }
_EOC_

(our $SERVER_TINY = $SERVER) =~ s/embed_session_store     sessions;/embed_session_store     tiny;/
    or die "no store line in \$SERVER\n";

# the capacity block: sessions of 5 s, records gone as soon as they end

(our $SERVER_SHORT = $SERVER_TINY)
    =~ s/(location = \/mint \{.*?embed_session_mint_ttl  60 max=300;)/$1
        embed_session_mint_lifetime  5s;/s
    or die "no mint location in \$SERVER_TINY\n";

# a record outlives its session by the largest leeway of the configuration
$SERVER_SHORT = "    embed_session_leeway  0;\n$SERVER_SHORT";

our $MINT_BODY = '{"user":"u-1","allowedOrigins":["https://app.example.com"]}';

# --- requests ----------------------------------------------------------------

sub yn { return $_[0] ? 'yes' : 'no' }

sub same {
    my ($x, $y) = @_;
    return defined $x && defined $y && $x eq $y;
}

sub is_uuid { return (($_[0] // '') =~ $UUID) ? 1 : 0 }

# "STATUS" for a success, "STATUS CODE" for an error

sub st {
    my ($res) = @_;
    my $code = ref $res->{json} eq 'HASH' ? $res->{json}{code} : undef;
    return $res->{status}
           . ($res->{status} >= 400 && defined $code ? " $code" : '');
}

sub body_of {
    my ($res) = @_;
    my $b = $res->{content} // '';
    $b =~ s/\n\z//;
    return $b;
}

sub post {
    my ($path, $key, $body, %h) = @_;

    return http('POST', $path,
                { 'Content-Type' => 'application/json',
                  defined $key ? (Authorization => "Bearer $KEY{$key}") : (),
                  %h },
                ref $body ? $JSON->encode($body) : $body);
}

sub mint_req {
    my (%o) = @_;
    return post($o{path} // '/mint', $o{key} // 'acme', $o{body} // $MINT_BODY);
}

# a minted session: the decoded answer ({} when the mint failed)

sub mint_ok {
    my $res = mint_req(@_);
    return $res->{status} == 201 && ref $res->{json} eq 'HASH'
           ? $res->{json} : {};
}

sub refresh {
    my ($renew, %o) = @_;
    return post($o{path} // '/refresh', exists $o{key} ? $o{key} : 'acme',
                { renew_token => $renew // '' });
}

sub session_refresh {
    my ($token, %h) = @_;
    return http('POST', '/session/refresh',
                { 'X-Session-Token' => $token // '', Origin => $ORIGIN, %h },
                '');
}

sub revoke {
    my ($id, $key, $path) = @_;
    return post($path // '/revoke', $key, { session_id => $id });
}

sub exchange {
    my ($id) = @_;
    return post('/exchange', undef, { sessionId => $id });
}

# a token at a verify location: "200" or "STATUS CODE"

sub at {
    my ($token, $path) = @_;
    return st(http('GET', $path // '/verify',
                   { 'X-Session-Token' => $token // '', Origin => $ORIGIN }));
}

# the header and the claims, not verified

sub jose {
    my ($jws) = @_;
    my ($h, $p) = split /\./, $jws // '';
    return ((eval { $JSON->decode(b64url_decode($h // '')) } || {}),
            (eval { $JSON->decode(b64url_decode($p // '')) } || {}));
}

# what Crypt::JWT says of a token: signature, exp, iss, aud

sub crypt_jwt {
    my ($jws) = @_;
    my $c = eval {
        decode_jwt(token => $jws, key => { %$HS }, accepted_alg => ['HS256'],
                   verify_exp => 1, verify_iss => $ISS, verify_aud => $AUD);
    };
    return ref $c eq 'HASH' ? 'verifies' : "fails ($@)";
}

sub describe {
    my ($what, $jws) = @_;
    my ($h) = jose($jws);
    return "$what: typ=" . ($h->{typ} // '-') . ' kid=' . ($h->{kid} // '-')
           . ', Crypt::JWT ' . crypt_jwt($jws);
}

sub iso_is {
    my ($s, $exp) = @_;
    my $t = iso_time($s);
    return defined $t && defined $exp && $t == $exp ? 'exp'
           : 'bad (' . ($s // 'none') . ')';
}

sub fields {
    my ($r) = @_;
    return 'fields: ' . join ' ', sort keys %{ $r // {} };
}

# the claims a client sees, without the ones that change with every token;
# origins written as a list whatever its JSON shape

sub stable_claims {
    my ($c) = @_;
    my %c = %$c;
    delete @c{qw(iat exp jti sid iss aud)};
    $c{origins} = join ' ', @{ $c{origins} } if ref $c{origins} eq 'ARRAY';
    return $JSON->encode(\%c);
}

# a token signed with the server's key, as if minted elsewhere:
# tok(claims, typ => 'embed-renew+jwt')

sub tok {
    my (%o) = @_;
    my $typ = delete $o{typ};
    my $ttl = delete $o{ttl};
    return token(key => 'hs256', claims => { iss => $ISS, aud => $AUD, %o },
                 defined $ttl ? (ttl => $ttl) : (),
                 defined $typ ? (header => { typ => $typ }) : ());
}

sub new_uuid {
    my @h = map { sprintf '%04x', int rand 65536 } 1 .. 8;
    $h[3] = sprintf '4%03x', hex($h[3]) & 0xfff;
    $h[4] = sprintf '%04x', (hex($h[4]) & 0x3fff) | 0x8000;
    return "$h[0]$h[1]-$h[2]-$h[3]-$h[4]-$h[5]$h[6]$h[7]";
}

# the status location's samples: name{labels sorted} => value, and
# "_bad" => the first line that is not Prometheus text

sub metrics {
    my $res = http('GET', '/status');
    my %m;

    for my $line (split /\n/, $res->{content} // '') {
        next if $line =~ /^#|^\s*$/;

        if ($line =~ /^(embed_session_[a-z_]+)(?:\{([^{}]*)\})? (-?[0-9][0-9.e+]*)$/) {
            my ($name, $labels, $v) = ($1, $2, $3);
            my @l = sort map { s/^\s+|\s+$//gr } split /,/, $labels // '';
            $m{ @l ? "$name\{" . join(',', @l) . '}' : $name } = $v;

        } else {
            $m{_bad} //= $line;
        }
    }

    return \%m;
}

sub delta {
    my ($before, $after, $name) = @_;
    return 'missing' unless defined $before->{$name} && defined $after->{$name};
    my $d = $after->{$name} - $before->{$name};
    return $d >= 0 ? "+$d" : $d;
}

# a flow: the check sub gets the first answer (decoded when it is JSON) and
# returns its lines

sub flow {
    my ($code) = @_;

    return sub {
        my ($body) = @_;
        my $r = eval { JSON::PP->new->decode($body) } // $body;
        my @out = eval { $code->($r) };
        push @out, "died: $@" if $@;
        return join '', map { "$_\n" } @out;
    };
}


# --- the flows -----------------------------------------------------------------

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

# status: the counters move

sub flow_status {
    my ($text) = @_;
    my @o;
    my @scrapes;
    my $z = 'zone="sessions"';

    my $s0 = metrics();
    push @scrapes, $s0;

    push @o, 'Prometheus text: ' . (defined $s0->{_bad} ? "no ($s0->{_bad})" : 'yes');

    my @missing = grep { !defined $s0->{"embed_session_$_"} }
        qw(mints_total verifications_total refreshes_total
           refresh_reuse_total revocations_total exchanges_total),
        map({ "$_\{$z}" }
            qw(state_writes_total state_write_failures_total
               store_full_total store_bytes_used store_bytes_free
               store_invariant_ok)),
        map({ "store_entries{kind=\"$_\",$z}" } qw(session ticket revoked)),
        map({ "rejections_total{code=\"$_\"}" }
            qw(SESSION_REQUIRED SESSION_INVALID SESSION_EXPIRED
               SESSION_REVOKED ORIGIN_NOT_ALLOWED));
    push @o, 'missing: ' . (@missing ? "@missing" : 'none');
    push @o, 'store_invariant_ok: '
        . ($s0->{"embed_session_store_invariant_ok{$z}"} // '-');

    my $m = mint_ok();
    my $s1 = metrics();
    push @scrapes, $s1;
    push @o, 'mint: mints_total ' . delta($s0, $s1, 'embed_session_mints_total')
        . ', sessions ' . delta($s0, $s1,
                                "embed_session_store_entries{kind=\"session\",$z}");

    at($m->{token});
    my $s2 = metrics();
    push @scrapes, $s2;
    push @o, 'verify: verifications_total '
        . delta($s1, $s2, 'embed_session_verifications_total');

    at($m->{renew_token});
    my $s3 = metrics();
    push @scrapes, $s3;
    push @o, 'renew token at /verify: SESSION_INVALID '
        . delta($s2, $s3,
                'embed_session_rejections_total{code="SESSION_INVALID"}');

    my $res = refresh($m->{renew_token});
    my $new = ref $res->{json} eq 'HASH' ? $res->{json} : {};
    my $s4 = metrics();
    push @scrapes, $s4;
    push @o, 'refresh: refreshes_total '
        . delta($s3, $s4, 'embed_session_refreshes_total');

    at($m->{token});
    my $s5 = metrics();
    push @scrapes, $s5;
    push @o, 'old token at /verify: SESSION_REVOKED '
        . delta($s4, $s5,
                'embed_session_rejections_total{code="SESSION_REVOKED"}');

    revoke($m->{session_id}, 'acme');
    my $s6 = metrics();
    push @scrapes, $s6;
    push @o, 'revoke: revocations_total '
        . delta($s5, $s6, 'embed_session_revocations_total')
        . ', revoked entries '
        . delta($s5, $s6, "embed_session_store_entries{kind=\"revoked\",$z}");

    my $n = mint_ok();
    my $r1 = refresh($n->{renew_token});
    my $r1j = ref $r1->{json} eq 'HASH' ? $r1->{json} : {};
    refresh($r1j->{renew_token});
    my $s7a = metrics();
    refresh($n->{renew_token});
    my $s7 = metrics();
    push @scrapes, $s7a, $s7;
    push @o, 'theft: refresh_reuse_total '
        . delta($s7a, $s7, 'embed_session_refresh_reuse_total');

    my $g = post('/generate', 'acme', $MINT_BODY);
    my $s8 = metrics();
    push @scrapes, $s8;
    push @o, 'generate: tickets '
        . delta($s7, $s8, "embed_session_store_entries{kind=\"ticket\",$z}");

    exchange(ref $g->{json} eq 'HASH' ? $g->{json}{sessionId} : '');
    my $s9 = metrics();
    push @scrapes, $s9;
    push @o, 'exchange: exchanges_total '
        . delta($s8, $s9, 'embed_session_exchanges_total');

    push @o, 'store_invariant_ok at every scrape: '
        . join ' ', map { $_->{"embed_session_store_invariant_ok{$z}"} // '-' }
                        @scrapes;
    push @o, 'store_full_total: '
        . ($s9->{"embed_session_store_full_total{$z}"} // '-');
    push @o, 'state_writes_total (no state=): '
        . ($s9->{"embed_session_state_writes_total{$z}"} // '-');

    return @o;
}

# the zone full: mint until 503

sub flow_full {
    my ($m) = @_;
    my @o;
    my ($n, $res, $second) = (1);

    for (1 .. 5000) {
        $res = mint_req();
        last if $res->{status} != 201;
        $second //= $res->{json};
        $n++;
    }

    push @o, 'mints before the zone was full: '
        . ($n >= 10 ? 'at least 10' : $n);
    push @o, 'full: ' . st($res);
    push @o, 'Retry-After: ' . ($res->{headers}{'retry-after'} // '-');
    push @o, 'body: ' . body_of($res);
    push @o, 'again: ' . st(mint_req());
    push @o, 'generate (a ticket): ' . st(post('/generate', 'acme', $MINT_BODY));

    $res = refresh($m->{renew_token});
    push @o, 'refresh of the first session: ' . st($res);
    push @o, 'its new token at /verify: '
        . at(ref $res->{json} eq 'HASH' ? $res->{json}{token} : '');
    push @o, 'its old token at /verify: ' . at($m->{token});

    $second //= {};
    push @o, 'revoke of the second session: '
        . st(revoke($second->{session_id} // '', 'acme'));
    push @o, 'its token at /verify: ' . at($second->{token});

    # 1.5 s more of refused mints: the alert at most once a second
    my $until = Time::HiRes::time() + 1.5;
    my %seen;
    while (Time::HiRes::time() < $until) {
        $seen{ st(mint_req()) }++;
        Time::HiRes::sleep(0.05);
    }
    push @o, 'mints for 1.5 s more: ' . join ', ', sort keys %seen;

    my $s = metrics();
    my $z = 'zone="tiny"';
    push @o, 'store_full_total > 0: '
        . yn(($s->{"embed_session_store_full_total{$z}"} // 0) > 0);
    push @o, 'sessions > 0: '
        . yn(($s->{"embed_session_store_entries{kind=\"session\",$z}"} // 0) > 0);
    push @o, 'store_invariant_ok: '
        . ($s->{"embed_session_store_invariant_ok{$z}"} // '-');

    return @o;
}

# capacity returns when records expire, without a restart: fill the zone,
# wait past the sessions' end, mint again

sub flow_capacity {
    my ($m) = @_;
    my ($n, $res) = (1);

    for (1 .. 5000) {
        $res = mint_req();
        last if $res->{status} != 201;
        $n++;
    }

    my @o = ('full after: ' . ($n >= 10 ? 'at least 10' : $n),
             'then: ' . st($res));

    # every session ends 5 s after its mint: wait that long after the last

    Time::HiRes::sleep(6);

    my $ok = 0;
    for (1 .. 10) {
        $ok++ if mint_req()->{status} == 201;
    }

    push @o, "after the sessions ended, of 10 mints: $ok minted";

    my $s = metrics();
    push @o, 'store_invariant_ok: '
        . ($s->{'embed_session_store_invariant_ok{zone="tiny"}'} // '-');

    return @o;
}

block_defaults(
    http_config  => $HTTP,
    config       => $SERVER,
    user_files   => [['lifecycle.keys', $KEY_FILE]],
    more_headers => auth('acme'),
    no_error_log => "[error]\n[alert]\n",
);

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



=== TEST 17: revoke: the owner's key (again: 200 again), not another key's, admin=, DELETE with id=$1, 405 for GET
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



=== TEST 18: revoke: unknown and malformed ids are 404 SESSION_NOT_FOUND
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



=== TEST 19: revoke: a missing id is 400 VALIDATION_FAILED with its path
--- request
POST /revoke
{}
--- error_code: 400
--- response_body_like chomp
^\{"error":"[^"]+","code":"VALIDATION_FAILED","details":\[\{"path":"session_id","message":"[^"]+"\}\]\}$



=== TEST 20: revoke: the API key is required
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



=== TEST 21: revoke: POST and DELETE only (GET)
--- request
GET /revoke
--- error_code: 405
--- response_headers
Allow: POST, DELETE
--- response_body_like chomp
^\{"error":"[^"]+","code":"METHOD_NOT_ALLOWED"\}\n?$



=== TEST 22: revoke: POST and DELETE only (PUT)
--- request
PUT /revoke
{}
--- error_code: 405
--- response_headers
Allow: POST, DELETE
--- response_body_like chomp
^\{"error":"[^"]+","code":"METHOD_NOT_ALLOWED"\}\n?$



=== TEST 23: revoking an API key revokes every session it minted
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



=== TEST 24: exchange: generate stores a ticket (no token in the answer), exchanged exactly once for a token that is a family like any other
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



=== TEST 25: exchange: an expired ticket is 410 EXCHANGE_EXPIRED
--- request eval
"POST /generate-short\n$::MINT_BODY"
--- error_code: 200
--- response_body_filters eval
::flow(\&::flow_exchange_expired)
--- response_body
exchange 2 s after a 1 s ticket: 410 EXCHANGE_EXPIRED
body: {"error":"The embed session has expired","code":"EXCHANGE_EXPIRED"}



=== TEST 26: exchange: unknown and malformed ids are 404 EXCHANGE_NOT_FOUND
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



=== TEST 27: exchange: a missing member is 400 VALIDATION_FAILED; POST only
--- pipelined_requests eval
["POST /exchange\n{}", "GET /exchange"]
--- more_headers
Content-Type: application/json
--- error_code eval
[400, 405]
--- response_body_like eval
['^\{"error":"[^"]+","code":"VALIDATION_FAILED","details":\[\{"path":"sessionId","message":"[^"]+"\}\]\}\n?$',
 '^\{"error":"[^"]+","code":"METHOD_NOT_ALLOWED"\}\n?$']



=== TEST 28: exchange: with embed_session_api_key the key is required
--- request eval
"POST /exchange-key\n{\"ticket\":\"" . ::new_uuid() . "\"}"
--- more_headers
Content-Type: application/json
--- error_code: 401
--- response_body_like chomp
^\{"error":"[^"]+","code":"API_KEY_REQUIRED"\}\n?$



=== TEST 29: status: Prometheus text; mints, verifications, rejections, refreshes, revocations, theft, tickets and exchanges counted; the invariant walk holds
--- request
GET /status
--- error_code: 200
--- response_headers_like
Content-Type: ^text/plain; version=0\.0\.4(?:; charset=utf-8)?$
--- response_body_filters eval
::flow(\&::flow_status)
--- response_body
Prometheus text: yes
missing: none
store_invariant_ok: 1
mint: mints_total +1, sessions +1
verify: verifications_total +1
renew token at /verify: SESSION_INVALID +1
refresh: refreshes_total +1
old token at /verify: SESSION_REVOKED +1
revoke: revocations_total +1, revoked entries +1
theft: refresh_reuse_total +1
generate: tickets +1
exchange: exchanges_total +1
store_invariant_ok at every scrape: 1 1 1 1 1 1 1 1 1 1 1
store_full_total: 0
state_writes_total (no state=): 0



=== TEST 30: status: HEAD
--- request
HEAD /status
--- error_code: 200
--- response_headers_like
Content-Type: ^text/plain; version=0\.0\.4(?:; charset=utf-8)?$
--- response_body_like: ^$



=== TEST 31: status: no POST
--- request
POST /status
{}
--- error_code: 405



=== TEST 32: zone full: 503 STORE_FULL with Retry-After, nothing minted; refresh and revoke still work; the alert at most once a second
--- http_config eval
$::HTTP_TINY
--- config eval
$::SERVER_TINY
--- request eval
"POST /mint\n$::MINT_BODY"
--- error_code: 201
--- response_body_filters eval
::flow(\&::flow_full)
--- response_body
mints before the zone was full: at least 10
full: 503 STORE_FULL
Retry-After: 1
body: {"error":"Session storage is full, retry later","code":"STORE_FULL"}
again: 503 STORE_FULL
generate (a ticket): 503 STORE_FULL
refresh of the first session: 200
its new token at /verify: 200
its old token at /verify: 401 SESSION_REVOKED
revoke of the second session: 200
its token at /verify: 401 SESSION_REVOKED
mints for 1.5 s more: 503 STORE_FULL
store_full_total > 0: yes
sessions > 0: yes
store_invariant_ok: 1
--- error_log eval
qr/\[alert\] .*"tiny" is full: /
--- grep_error_log eval
qr/^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d \[alert\] [^\n]*"tiny" is full/
--- grep_error_log_out eval
qr/\A(?:(\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d) [^\n]*\n(?!\1 ))+\z/
--- no_error_log
[error]
[crit]



=== TEST 33: nginx -t: a mint that stores a ticket cannot answer with the token
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



=== TEST 34: nginx -t: a renew_token output needs a store
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



=== TEST 35: zone full, then capacity comes back when the sessions end (5 s lifetime, no leeway), without a restart
--- http_config eval
$::HTTP_TINY
--- config eval
$::SERVER_SHORT
--- request eval
"POST /mint\n$::MINT_BODY"
--- error_code: 201
--- response_body_filters eval
::flow(\&::flow_capacity)
--- response_body
full after: at least 10
then: 503 STORE_FULL
after the sessions ended, of 10 mints: 10 minted
store_invariant_ok: 1
--- error_log eval
qr/\[alert\] .*"tiny" is full: /
--- no_error_log
[error]
[crit]
