package EmbedSessionLifecycle;

# The session lifecycle's server, API keys and requests, shared by
# t/300-lifecycle-refresh.t, t/301-lifecycle-revoke-exchange.t and
# t/302-lifecycle-status.t:
#
#   use FindBin;
#   use lib "$FindBin::Bin/lib";
#   use EmbedSessionTest;
#   use EmbedSessionMint;
#   use EmbedSessionLifecycle;
#
# Every block gets the server below ($HTTP and $SERVER: a store zone, API
# keys, mint, generate, exchange, refresh in both modes, revoke, verify and
# status locations), the key file and acme's Authorization unless it has
# its own (block_defaults).  Everything below is exported: blocks call it as
# ::name and $::NAME.
#
# Flows of several requests are driven from the block's check, as the seed
# files do (t/230): the block's request is the first step (a mint, a
# generate, a status scrape), its --- response_body_filters sub,
# ::flow(\&::flow_NAME), makes the following requests with http() while
# nginx runs and returns one line per step, compared with
# --- response_body.  The flows are in the test files.  Every flow starts
# from a fresh mint, so blocks do not depend on each other; the sleeps (1 to
# 3 s) are only for expiry.
#
# HS256 (t/data/keys/hs256.jwks) signs: a deterministic algorithm, so the
# grace-window repeat can be compared byte for byte (rule 14: the state is
# keyed by jti, never by signature bytes).

use strict;
use warnings;
use Exporter 'import';

use Crypt::JWT qw(decode_jwt);
use JSON::PP ();
use Time::HiRes ();
use Test::Nginx::Util qw(html_dir);

use EmbedSessionTest ();
use EmbedSessionMint;
use EmbedSession::Token qw(b64url_decode);

# EmbedSessionTest's helpers by their short names (a Test::Base class: its
# import would bring all of Test::Nginx's functions into this package)

BEGIN {
    *jwk = \&EmbedSessionTest::jwk;
    *token = \&EmbedSessionTest::token;
}

our @EXPORT = qw(
    $JSON $ORIGIN $ISS $AUD $HS $UUID %KEY $KEY_FILE $HTTP $HTTP_TINY $FIELDS
    $OUTPUTS $SERVER $SERVER_TINY $SERVER_SHORT $MINT_BODY
    auth yn same is_uuid st body_of post mint_req mint_ok refresh
    session_refresh revoke exchange at jose crypt_jwt describe iso_is fields
    stable_claims tok new_uuid metrics delta flow
);

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

block_defaults(
    http_config  => $HTTP,
    config       => $SERVER,
    user_files   => [['lifecycle.keys', $KEY_FILE]],
    more_headers => auth('acme'),
    no_error_log => "[error]\n[alert]\n",
);

1;
