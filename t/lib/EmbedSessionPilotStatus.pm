package EmbedSessionPilotStatus;

# The seed contract Pilot Status (shared/seeds 000 "Create embed session"
# and 001 "API Authentication") as the test files t/210 .. t/213 play it:
# conf-examples/pilot-status.conf as shipped (t/lib/EmbedSessionExample.pm:
# only ports, key paths and the lines Test::Nginx writes itself change),
# with an echo server as its application, the API key file, and the
# requests and checks of the seed.
#
#   use FindBin;
#   use lib "$FindBin::Bin/lib";
#   use EmbedSessionTest;
#   use EmbedSessionMint;
#   use EmbedSessionPilotStatus;
#
# Every minted token is decoded and its signature checked by an independent
# implementation (Crypt::JWT).  Key state changes (regeneration, the rate
# window), so the files send every request once (repeat_each 1); every
# block starts a fresh nginx with a fresh key file.  Everything below is
# exported: blocks call it as ::name and $::NAME, and the "eval" sections
# find the request and check helpers without a prefix too.

use strict;
use warnings;
use Exporter 'import';

use Crypt::JWT ();
use HTTP::Tiny;
use JSON::PP ();
use Test::Nginx::Util qw(html_dir add_block_preprocessor);

use EmbedSessionTest ();
use EmbedSessionMint;
use EmbedSessionExample;
use EmbedSession::Token qw(b64url_decode sign_token);

# EmbedSessionTest's helpers by their short names (a Test::Base class: its
# import would bring all of Test::Nginx's functions into this package)

BEGIN {
    *jwk = \&EmbedSessionTest::jwk;
}

our @EXPORT = qw(
    $JSON $ISS $AUD $ORIGIN $NUM_A $NUM_B %K $KEYS $UNKNOWN $SECRET
    $REFRESH_URI $EMBED_API $FRAME_API %FILES $UPSTREAM_PORT $UPSTREAM
    $MAIN_8S $HTTP_8S
    key keyid body mint flat_error minted refresh embed outcome claims_of
    forged refreshed raw preflight frame inframe
);

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

our $JSON = JSON::PP->new->canonical;

our $ISS = 'https://pilotstatus.com.br';
our $AUD = 'pilot-status-embed';
our $ORIGIN = 'https://app.tenant.com';
our $NUM_A = 'num_01HZXAAAA';
our $NUM_B = 'num_01HZXBBBB';


# API keys ###################################################################
#
# Raw keys: ps_ + 40 of [A-Za-z0-9] (x-api-key), psid_ + 40 (x-api-key-id),
# made and stored by new_key() and stored() of EmbedSessionMint.

# id => [fields after key= and id_key=], has an id_key

our %K;

my @RECORDS = (
    ['num-a',      1, "scope=number tenant=t_acme resources=$NUM_A"],
    ['num-b',      0, "scope=number tenant=t_acme resources=$NUM_B"],
    ['tenant',     1, 'scope=tenant tenant=t_acme'],
    ['num-rate',   0, "scope=number tenant=t_acme resources=$NUM_A "
                      . 'rate=3/h'],
    ['num-revoked', 0, "scope=number tenant=t_acme resources=$NUM_A "
                      . 'status=revoked'],
    ['num-expired', 0, "scope=number tenant=t_acme resources=$NUM_A "
                      . 'expires=' . (time - 3600)],
);

our $KEYS = "# Pilot Status API keys: number-scoped (one per WhatsApp number)\n"
            . "# and the tenant's singleton.  Made by t/lib/EmbedSessionPilotStatus.pm\n"
            . "\n";

for my $r (@RECORDS) {
    my ($id, $with_id, $rest) = @$r;

    $K{$id}{key} = new_key('ps_');
    $K{$id}{id} = new_key('psid_') if $with_id;

    $KEYS .= "$id key=" . stored($K{$id}{key})
             . ($with_id ? ' id_key=' . stored($K{$id}{id}) : '')
             . " $rest\n";

    $KEYS .= "\n# the tenant key: /v1/numbers/* and /v1/remote-pairing/*\n"
        if $id eq 'num-b';
}

# a key of the right shape that is in no record

our $UNKNOWN = new_key('ps_');

sub key   { "x-api-key: $K{$_[0]}{key}" }
sub keyid { "x-api-key-id: $K{$_[0]}{id}" }

# "--- more_headers eval" and "--- request eval" run in Test::Base::Filter

{
    no strict 'refs';

    for my $name (qw(key keyid body mint)) {
        *{"Test::Base::Filter::$name"} = \&{$name};
    }
}


# requests ###################################################################

sub body {
    my ($doc) = @_;
    return ref $doc ? $JSON->encode($doc) : $doc;
}

# the seed's example request, with members replaced or removed (undef)

sub mint {
    my (%o) = @_;

    my %doc = (
        surface => 'chat',
        whatsappNumberIds => [$NUM_A],
        allowedOrigins => [$ORIGIN],
        ttlSeconds => 900,
    );

    while (my ($k, $v) = each %o) {
        if (defined $v) {
            $doc{$k} = $v;
        } else {
            delete $doc{$k};
        }
    }

    return "POST /v1/embed/sessions\n" . $JSON->encode(\%doc);
}


# checks #####################################################################
#
# "--- json_check eval" is EmbedSessionMint's.

# {"error": MESSAGE, "code": CODE} (+ details)

sub flat_error {
    my ($j, $name, $code, $message, $details) = @_;

    Test::More::is($j->{code}, $code, "$name - code");
    Test::More::is($j->{error}, $message, "$name - error");

    my @extra = grep { !/\A(?:error|code|details)\z/ } keys %$j;
    Test::More::is("@extra", '', "$name - only error, code, details");

    return unless $details;

    my $got = $j->{details};

    Test::More::ok(ref $got eq 'ARRAY' && @$got, "$name - details")
        or return;

    my @paths = map { $_->{path} } @$got;

    for my $p (ref $details ? @$details : $details) {
        Test::More::ok((grep { defined && $_ eq $p } @paths),
                       "$name - details has path \"$p\"")
            or Test::More::diag("paths: @paths");
    }

    for my $d (@$got) {
        Test::More::ok(defined $d->{message} && !ref $d->{message}
                       && length $d->{message},
                       "$name - details[].message for "
                       . ($d->{path} // '(none)'));
    }
}

# the HS256 secret of t/data/keys/hs256.jwks, for Crypt::JWT

our $SECRET = b64url_decode(jwk('hs256')->{k});

# the 201 body of the seed and the token behind it
#
#   key: the record id; surface; numbers: the expected whatsappNumberIds
#   (undef: absent from body and token); origins; ttl; branding

sub minted {
    my ($j, $name, %e) = @_;

    my @members = (qw(token surface allowedOrigins expiresAt expiresIn),
                   defined $e{numbers} ? 'whatsappNumberIds' : ());

    Test::More::is(CORE::join(',', sort keys %$j), join(',', sort @members),
                   "$name - members of the 201 body");

    Test::More::like($j->{token} // '',
                     qr/\A[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\z/,
                     "$name - token is a compact JWS");

    return unless defined $j->{token};

    my ($h, $c) = decode_token($j->{token} // '', $name, key => $SECRET,
                               alg => 'HS256', iss => $ISS, aud => $AUD);

    Test::More::is_deeply($h, { alg => 'HS256', kid => 'hs256-1',
                                typ => 'embed-session+jwt' },
                          "$name - JOSE header");

    Test::More::is($c->{iss}, $ISS, "$name - iss");
    Test::More::is($c->{aud}, $AUD, "$name - aud");
    Test::More::ok(defined $c->{iat} && abs($c->{iat} - time) <= 5,
                   "$name - iat is now");
    Test::More::is(($c->{exp} // 0) - ($c->{iat} // 0), $e{ttl},
                   "$name - exp - iat = $e{ttl}");
    Test::More::like($c->{jti} // '',
                     qr/\A[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\z/,
                     "$name - jti is a UUID v4");
    Test::More::is_deeply($c->{origins}, $e{origins}, "$name - origins claim");
    Test::More::is($c->{surface}, $e{surface}, "$name - surface claim");
    Test::More::is_deeply($c->{whatsappNumberIds}, $e{numbers},
                          "$name - whatsappNumberIds claim");
    Test::More::is_deeply($c->{branding}, $e{branding},
                          "$name - branding claim");
    Test::More::is($c->{tenant}, 't_acme', "$name - tenant claim");
    Test::More::is($c->{api_key_id}, $e{key}, "$name - api_key_id claim");

    Test::More::is($j->{surface}, $e{surface}, "$name - surface echoed");
    Test::More::is_deeply($j->{whatsappNumberIds}, $e{numbers},
                          "$name - whatsappNumberIds echoed");
    Test::More::is_deeply($j->{allowedOrigins}, $e{origins},
                          "$name - allowedOrigins echoed");
    Test::More::is($j->{expiresAt}, iso($c->{exp} // 0),
                   "$name - expiresAt is exp, ISO 8601 with milliseconds");
    Test::More::is($j->{expiresIn}, $e{ttl}, "$name - expiresIn");

    return $c;
}

{
    no strict 'refs';

    for my $name (qw(minted flat_error)) {
        *{"Test::Base::Filter::$name"} = \&{$name};
    }
}


# the session lifecycle ######################################################
#
# POST /api/public/embed/refresh as the embed SDK sends it: the session
# token in X-Session-Token, the page's Origin (undef: none), no API key

our $REFRESH_URI = '/api/public/embed/refresh';

sub refresh {
    my ($token, $origin) = @_;

    $origin = $ORIGIN if @_ < 2;

    return http('POST', $REFRESH_URI,
                { defined $token ? ('x-session-token' => $token) : (),
                  defined $origin ? (origin => $origin) : () });
}

# a call of the embed API (the SDK's, with X-Session-Token) from the
# allowed origin

our $EMBED_API = '/embed/chat/conversations';

sub embed {
    my ($token) = @_;

    return http('GET', $EMBED_API,
                { 'x-session-token' => $token, origin => $ORIGIN });
}

# "STATUS CODE", or "STATUS ok" for a 2xx

sub outcome {
    my ($res) = @_;

    return "$res->{status} ok" if $res->{status} =~ /^2/;
    return "$res->{status} " . ($res->{json}{code} // $res->{content});
}

# the claims of a token (signature checked), or {}

sub claims_of {
    my ($jws) = @_;

    my (undef, $c) = eval {
        Crypt::JWT::decode_jwt(token => $jws // '', key => $SECRET,
                               decode_header => 1, accepted_alg => ['HS256'],
                               verify_exp => 0);
    };

    return $c // {};
}

# a token signed with the fixture secret as the mint signs them: the claims
# of $c with those given replaced, the header's typ optional

sub forged {
    my ($c, $typ, %claims) = @_;

    return sign_token(key => jwk('hs256'),
                      header => { typ => $typ // 'embed-session+jwt' },
                      claims => { %$c, %claims });
}

# a refresh: 200 and the mint's shape, a token of the same session that
# replaces the one sent; returns the new token's claims
#
#   refreshed($res, $name, ttl => SECONDS, from => the old token's claims)

sub refreshed {
    my ($res, $name, %e) = @_;

    Test::More::is($res->{status}, 200, "$name - refresh: 200")
        or Test::More::diag($res->{content});
    Test::More::like($res->{content} // '',
        qr/\A\{"token":"[^"]+","expiresAt":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z","expiresIn":\d+\}\n?\z/,
        "$name - refresh: the mint's members, in order");
    Test::More::like($res->{headers}{'content-type'} // '',
                     qr{\Aapplication/json}, "$name - refresh: JSON");

    my $j = $res->{json} // {};

    my ($h, $c) = decode_token($j->{token} // '', "$name - refresh",
                               key => $SECRET, alg => 'HS256', iss => $ISS,
                               aud => $AUD);

    Test::More::is_deeply($h, { alg => 'HS256', kid => 'hs256-1',
                                typ => 'embed-session+jwt' },
                          "$name - refresh: JOSE header");

    my $old = $e{from};

    Test::More::like($c->{jti} // '',
                     qr/\A[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\z/,
                     "$name - refresh: jti is a UUID v4");
    Test::More::isnt($c->{jti}, $old->{jti}, "$name - refresh: a new jti");
    Test::More::ok(defined $c->{sid} && $c->{sid} eq ($old->{sid} // ''),
                   "$name - refresh: the same sid");
    Test::More::ok(defined $c->{iat} && abs($c->{iat} - time) <= 5,
                   "$name - refresh: iat is now");
    Test::More::is($c->{exp} - $c->{iat}, $e{ttl},
                   "$name - refresh: exp - iat = $e{ttl}")
        if defined $e{ttl};

    my %a = %$old;
    my %b = %$c;
    delete @a{qw(iat exp jti)};
    delete @b{qw(iat exp jti)};
    Test::More::is_deeply(\%b, \%a,
                          "$name - refresh: the other claims are the mint's");

    Test::More::is($j->{expiresAt}, iso($c->{exp} // 0),
                   "$name - refresh: expiresAt is exp");
    Test::More::is($j->{expiresIn}, ($c->{exp} // 0) - ($c->{iat} // 0),
                   "$name - refresh: expiresIn is exp - iat");

    return $c;
}

# a request without following redirects (the URL exchange's 302)

sub raw {
    my ($method, $path, $headers, $content) = @_;

    my $res = HTTP::Tiny->new(timeout => 30, max_redirect => 0)->request(
        $method, 'http://127.0.0.1:' . Test::Nginx::Util::server_port()
                 . $path,
        { headers => $headers // {},
          defined $content ? (content => $content) : () });

    $res->{json} = eval { JSON::PP->new->decode($res->{content}) };

    return $res;
}

# a CORS preflight as Chromium sends it for a call with X-Session-Token

sub preflight {
    my ($path, $method, $origin) = @_;

    return raw('OPTIONS', $path,
               { origin => $origin // $ORIGIN,
                 'access-control-request-method' => $method,
                 'access-control-request-headers'
                     => 'content-type,x-session-token' });
}

# the iframe's document request: no Origin, the host page as Referer

sub frame {
    my ($path, %h) = @_;

    return raw('GET', $path, { 'sec-fetch-dest' => 'iframe',
                               'sec-fetch-site' => 'cross-site',
                               referer => "$ORIGIN/inbox", %h });
}

# a call of the iframe's own API (/embed/api/...) as the chat document in
# the frame makes it with fetch(): same-origin, the document as Referer,
# the partitioned cookie; a header given as undef is not sent

our $FRAME_API = '/embed/api/chat/conversations';

sub inframe {
    my ($method, $path, $cookie, %h) = @_;

    my $self = 'http://127.0.0.1:' . Test::Nginx::Util::server_port();
    my %headers = ('sec-fetch-site' => 'same-origin',
                   'sec-fetch-dest' => 'empty',
                   referer => "$self/embed/chat",
                   defined $cookie ? (cookie => $cookie) : (),
                   $method eq 'POST' ? (origin => $self) : (),
                   %h);

    delete @headers{grep { !defined $headers{$_} } keys %headers};

    return raw($method, $path, \%headers,
               $method eq 'POST' ? '{"text":"hi"}' : undef);
}

{
    no strict 'refs';

    for my $name (qw(refresh embed outcome claims_of forged refreshed raw
                     preflight frame inframe))
    {
        *{"Test::Base::Filter::$name"} = \&{$name};
    }
}


# configuration ##############################################################
#
# conf-examples/pilot-status.conf as shipped (EmbedSessionExample): only its
# ports, the two key files and the main-level lines Test::Nginx writes
# change.  The application behind it (upstream pilot_api, 127.0.0.1:9000 in
# the file) is a server of each block's http_config that echoes what
# reached it: the URI, the headers the example sets, and the ones that must
# not arrive (the API key, the session token, the cookie).

our %FILES = (
    'keys/hs256.jwks'        => '$TEST_NGINX_ES_DATA/keys/hs256.jwks',
    'keys/pilot-status.keys' => '$TEST_NGINX_HTML_DIR/pilot.keys',
);

use_example('pilot-status', files => \%FILES);

our $UPSTREAM_PORT = example_port(9000);

our $UPSTREAM = <<"_EOC_";
    # the application (pilot_api): an echo
    server {
        listen  127.0.0.1:$UPSTREAM_PORT;

        location / {
            default_type  text/plain;
            return 200 "uri=\$request_uri key=\$http_x_pilot_key_id scope=\$http_x_pilot_key_scope tenant=\$http_x_pilot_tenant x-api-key=\$http_x_api_key x-api-key-id=\$http_x_api_key_id session=\$http_x_embed_session token=\$http_x_session_token authorization=\$http_authorization cookie=\$http_cookie embed-tenant=\$http_x_embed_tenant\\n";
        }
    }
_EOC_

# the block with "--- short_session" only (212-seed-pilot-status-refresh.t,
# "never past the session's end"): the example with the session's hour
# made 8 seconds and its tokens 4 (a session's end may not come before its longest token's; wide
# enough for a run under valgrind), since no test waits an hour.  Every
# other line is the example's.

our ($MAIN_8S, $HTTP_8S) = example_config('pilot-status', files => \%FILES);

$HTTP_8S =~ s/embed_session_mint_lifetime\s+1h;/embed_session_mint_lifetime  8s;/
    or die "no \"embed_session_mint_lifetime 1h\" in the example\n";
$HTTP_8S =~ s/embed_session_mint_ttl\s+900 max=3600;/embed_session_mint_ttl  4 max=8;/g == 2
    or die "not two \"embed_session_mint_ttl 900 max=3600\" in the example\n";
$HTTP_8S =~ s/(embed_session_mint_ttl_if\s+surface\s+\w+\s+)\d+;/${1}4;/g == 2
    or die "not two \"embed_session_mint_ttl_if\" in the example\n";

add_block_preprocessor(sub {
    my $block = shift;

    if (defined $block->short_session) {
        $block->set_value('main_config',
                          ($block->main_config // '') . $MAIN_8S);
        $block->set_value('http_config', $HTTP_8S);
        $block->set_value('config', "# the example's servers\n");
    }

    $block->set_value('http_config',
                      ($block->http_config // '') . $UPSTREAM);

    $block->set_value('user_files', ">>> pilot.keys\n$KEYS"
                                    . ($block->user_files // ''));

    if (!defined $block->more_headers) {
        $block->set_value('more_headers',
                          key('num-a') . "\nContent-Type: application/json");
    }

    if (!defined $block->no_error_log && !defined $block->error_log) {
        $block->set_value('no_error_log', "[error]\n");
    }
});

1;
