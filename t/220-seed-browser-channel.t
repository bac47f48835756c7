# Seed contract: the browser channel (shared/seeds 002 "Create a session
# token (browser channel)"), served by conf-examples/browser-channel.conf
# as shipped: every block but the --- no_example ones runs that file,
# with only its ports and key paths changed (t/lib/EmbedSessionExample.pm);
# the example's upstream is a stub server of the blocks' http_config that
# echoes what reached it.
#
# POST /api/v1/sessions with "Authorization: Bearer <API key>" from a
# browser mints a one-hour session token bound to the key and to the
# calling Origin: 201 {"data":{"sessionToken","expiresAt","expiresIn"}};
# errors in the nested envelope {"error":{"code","message","details"}}: 401
# API_KEY_REQUIRED / INVALID / REVOKED / EXPIRED, 403 ORIGIN_NOT_ALLOWED,
# SCOPE_NOT_GRANTED, TENANT_SUSPENDED, SUBSCRIPTION_CANCELLED,
# SUBSCRIPTION_PAST_DUE, MODULE_NOT_ENABLED, 429 RATE_LIMITED with
# Retry-After and X-RateLimit-*.  The write endpoints then take the token
# in X-Session-Token from that origin only (SESSION_REQUIRED / INVALID /
# EXPIRED, ORIGIN_NOT_ALLOWED from another origin), while a server without
# Origin uses its API key ("server-to-server callers do not need
# sessions": embed_session_browser_channel).  CORS is the module's.
#
# Sessions are bound to their key (issue 12, item 7): a key revoked through
# the example's revoke endpoint, or in the key file with a reload, or
# given tenant_suspended or subscription_cancelled with a reload, loses
# its sessions at once (401 SESSION_INVALID "Session revoked"), and no
# other key's.  The reloads are SIGHUP to the master (master_on), the key
# file changed as an operator would (tools/embed-session-apikey revoke;
# the flags by an edit of the line).
#
# expiresAt: the seed's example has no milliseconds, the other seeds do;
# the example answers with them, and a test reads both forms as a client's
# RFC 3339 parser does.
#
# Every minted token is decoded and its signature checked by an independent
# implementation (Crypt::JWT), and a Crypt::JWT token passes the verifier.
# Key state changes (the rate window), so every request is sent once
# (repeat_each 1); every block starts a fresh nginx with a fresh key file.

use FindBin;
use lib "$FindBin::Bin/lib";
use EmbedSessionTest;
use EmbedSessionMint;
use EmbedSessionExample;

use Crypt::JWT qw(encode_jwt);
use JSON::PP ();
use Time::HiRes ();
use Time::Local qw(timegm);

repeat_each(1);
no_shuffle();

# the reloads of the key file need a master and its workers
master_on();

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

our $JSON = JSON::PP->new->canonical;

our $ISS = 'https://demo.yourapp.com';
our $AUD = 'browser-channel';
our $APP = 'https://app.example.com';
our $ADMIN = 'https://admin.example.com';
our $EVIL = 'https://evil.example.com';


# API keys ###################################################################
#
# Raw keys: ck_live_ + 40 of [A-Za-z0-9], sent as "Authorization: Bearer",
# made and stored by new_key() and stored() of EmbedSessionMint.

# a key in good standing: the sessions grant, the sessions module enabled

my $GOOD = 'grants=sessions:create flags=module:sessions';

our %K;

my @RECORDS = (
    ['live',        "scope=browser tenant=t_1 $GOOD origins=$APP,$ADMIN"],
    ['any-origin',  "scope=browser tenant=t_1 $GOOD"],
    ['revoked',     "scope=browser tenant=t_1 $GOOD origins=$APP "
                    . 'status=revoked'],
    ['expired',     "scope=browser tenant=t_1 $GOOD origins=$APP "
                    . 'expires=' . (time - 60)],
    ['suspended',   "scope=browser tenant=t_2 grants=sessions:create "
                    . "flags=module:sessions,tenant_suspended origins=$APP"],
    ['cancelled',   "scope=browser tenant=t_3 grants=sessions:create "
                    . "flags=module:sessions,subscription_cancelled "
                    . "origins=$APP"],
    ['past-due',    "scope=browser tenant=t_4 grants=sessions:create "
                    . "flags=subscription_past_due,module:sessions "
                    . "origins=$APP"],
    ['no-module',   "scope=browser tenant=t_5 grants=sessions:create "
                    . "origins=$APP"],
    ['no-scope',    "scope=browser tenant=t_6 grants=contacts:read "
                    . "flags=module:sessions origins=$APP"],
    ['rate',        "scope=browser tenant=t_1 $GOOD origins=$APP "
                    . 'rate=2/h'],

    # keys in good standing whose account a block changes (item 7)
    ['to-suspend',  "scope=browser tenant=t_7 $GOOD origins=$APP"],
    ['to-cancel',   "scope=browser tenant=t_8 $GOOD origins=$APP"],
    ['to-past-due', "scope=browser tenant=t_9 $GOOD origins=$APP"],
    ['bystander',   "scope=browser tenant=t_10 $GOOD origins=$APP"],
);

our $KEYS = "# browser channel API keys.  Made by t/220-seed-browser-channel.t\n";

for my $r (@RECORDS) {
    my ($id, $rest) = @$r;

    $K{$id} = new_key('ck_live_');
    $KEYS .= "$id key=" . stored($K{$id}) . " $rest\n";
}

our $UNKNOWN = new_key('ck_live_');

# request headers: the key as a bearer credential, and an Origin

sub bearer {
    my ($id, $origin) = @_;

    return "Authorization: Bearer $K{$id}"
           . (defined $origin ? "\nOrigin: $origin" : '');
}

{
    no strict 'refs';

    for my $name (qw(bearer)) {
        *{"Test::Base::Filter::$name"} = \&{$name};
    }
}


# checks #####################################################################
#
# "--- json_check eval" is EmbedSessionMint's.

# {"error":{"code","message"[,"details":[{"path","message"}]]}}

sub nested_error {
    my ($j, $name, $code, $details) = @_;

    Test::More::is(CORE::join(',', keys %$j), 'error',
                   "$name - only \"error\" at the top");

    my $e = $j->{error};

    Test::More::ok(ref $e eq 'HASH', "$name - error is an object") or return;
    Test::More::is($e->{code}, $code, "$name - error.code");
    Test::More::ok(defined $e->{message} && !ref $e->{message}
                   && length $e->{message}, "$name - error.message");

    my @extra = grep { !/\A(?:code|message|details)\z/ } keys %$e;
    Test::More::is("@extra", '', "$name - only code, message, details");

    Test::More::ok(!defined $e->{details} || ref $e->{details} eq 'ARRAY',
                   "$name - details, when present, an array");

    return unless $details;

    my @paths = map { $_->{path} } @{ $e->{details} // [] };

    for my $p (ref $details ? @$details : $details) {
        Test::More::ok((grep { defined && $_ eq $p } @paths),
                       "$name - details has path \"$p\"")
            or Test::More::diag("paths: @paths");
    }

    for my $d (@{ $e->{details} // [] }) {
        Test::More::ok(defined $d->{message} && length $d->{message},
                       "$name - details[].message");
    }
}

# the public half of t/data/keys/ed25519.jwks, for Crypt::JWT

our $PUB = do { my %k = %{ jwk('ed25519') }; delete $k{d}; \%k };

# the 201 body and the token behind it; returns the token

sub minted {
    my ($j, $name, %e) = @_;

    Test::More::is(CORE::join(',', keys %$j), 'data',
                   "$name - only \"data\" at the top");

    my $d = $j->{data} // {};

    Test::More::is(CORE::join(',', sort keys %$d),
                   'expiresAt,expiresIn,sessionToken',
                   "$name - data has sessionToken, expiresAt (and the "
                   . "example's expiresIn)");

    my $t = $d->{sessionToken} // '';

    return $t unless length $t;

    my ($h, $c) = decode_token($t, $name, key => $PUB, alg => 'EdDSA',
                               iss => $ISS, aud => $AUD);

    Test::More::is_deeply($h, { alg => 'EdDSA', kid => 'ed-1',
                                typ => 'embed-session+jwt' },
                          "$name - JOSE header");
    Test::More::is($c->{iss}, $ISS, "$name - iss");
    Test::More::is($c->{aud}, $AUD, "$name - aud");
    Test::More::ok(defined $c->{iat} && abs($c->{iat} - time) <= 5,
                   "$name - iat is now");
    Test::More::is(($c->{exp} // 0) - ($c->{iat} // 0), 3600,
                   "$name - one hour");
    Test::More::like($c->{jti} // '',
                     qr/\A[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\z/,
                     "$name - jti is a UUID v4");
    Test::More::is_deeply($c->{origins}, [$e{origin}],
                          "$name - bound to the calling origin");
    Test::More::is($c->{sub}, $e{key}, "$name - sub is the key id");
    Test::More::is($c->{tenant}, $e{tenant} // 't_1', "$name - tenant");
    Test::More::is($c->{sid}, $c->{jti},
                   "$name - a session of the store (sid, its first jti)");

    # the one form the example answers: UTC, with milliseconds
    Test::More::like($d->{expiresAt} // '',
                     qr/\A\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z\z/,
                     "$name - expiresAt is YYYY-MM-DDTHH:MM:SS.000Z");
    Test::More::is(rfc3339($d->{expiresAt}), $c->{exp} // 0,
                   "$name - expiresAt, read as RFC 3339, is exp");
    Test::More::is($d->{expiresIn}, ($c->{exp} // 0) - ($c->{iat} // 0),
                   "$name - expiresIn is exp - iat");

    return $t;
}

# A client's reading of an RFC 3339 date-time (section 5.6: a fraction of
# any length, Z or an offset): the Unix time, whole seconds, or undef.
# What the seed's date-time allows a server to send, with or without
# milliseconds.

sub rfc3339 {
    my ($s) = @_;

    return undef unless ($s // '') =~ /\A(\d{4})-(\d\d)-(\d\d)[Tt](\d\d):(\d\d):(\d\d)(?:\.\d+)?(?:([Zz])|([+-])(\d\d):(\d\d))\z/;

    my $t = eval { timegm($6, $5, $4, $3, $2 - 1, $1) };
    return undef unless defined $t;

    $t -= ($8 eq '+' ? 1 : -1) * ($9 * 3600 + $10 * 60) unless $7;

    return $t;
}

# the minted token on the verifier: from its origin it passes, from
# another (even one the key lists) 403 ORIGIN_NOT_ALLOWED

sub use_token {
    my ($t, $name, $origin, $other) = @_;

    my $r = http('POST', '/api/v1/contacts',
                 { 'x-session-token' => $t, origin => $origin,
                   'content-type' => 'application/json' }, '{}');

    Test::More::is($r->{status}, 200, "$name - token from $origin: 200");
    Test::More::like($r->{content}, qr/^key=\S+ tenant=\S+ origin=\Q$origin\E token= auth=$/,
                     "$name - verified claims upstream, token stripped");

    $r = http('POST', '/api/v1/contacts',
              { 'x-session-token' => $t, origin => $other,
                'content-type' => 'application/json' }, '{}');

    Test::More::is($r->{status}, 403, "$name - token from $other: 403");
    nested_error($r->{json} // {}, "$name - from $other",
                 'ORIGIN_NOT_ALLOWED');

    $r = http('POST', '/api/v1/contacts', { origin => $origin }, '{}');
    Test::More::is($r->{status}, 401, "$name - no token: 401");
    nested_error($r->{json} // {}, "$name - no token", 'SESSION_REQUIRED');

    my @s = split /\./, $t;
    my $sig = b64url_decode($s[2] // '');
    substr($sig, 0, 1) = chr(ord(substr($sig, 0, 1)) ^ 1) if length $sig;
    my $bad = "$s[0].$s[1]." . b64url_encode($sig);

    $r = http('POST', '/api/v1/contacts',
              { 'x-session-token' => $bad, origin => $origin }, '{}');
    Test::More::is($r->{status}, 401, "$name - tampered token: 401");
    nested_error($r->{json} // {}, "$name - tampered", 'SESSION_INVALID');

    $r = http('POST', '/api/v1/contacts',
              { 'authorization' => "Bearer $t", origin => $origin }, '{}');
    Test::More::is($r->{status}, 401,
                   "$name - the token as a bearer credential: 401");
}

# a token made by Crypt::JWT with the private fixture key

sub ind_token {
    my (%claims) = @_;
    my $now = time;

    return encode_jwt(
        alg => 'EdDSA', key => { %{ jwk('ed25519') } },
        extra_headers => { kid => 'ed-1', typ => 'embed-session+jwt' },
        payload => { iss => $ISS, aud => $AUD, sub => 'live',
                     tenant => 't_1', iat => $now, exp => $now + 3600,
                     jti => 'ind-' . $now, origins => [$APP], %claims });
}

{
    no strict 'refs';

    for my $name (qw(minted nested_error use_token ind_token rfc3339)) {
        *{"Test::Base::Filter::$name"} = \&{$name};
    }
}


# sessions and their key (item 7) ##########################################
#
# A write request with a session token: "STATUS CODE message" or "200" and
# the key the upstream saw.

sub write_with {
    my ($t, $origin) = @_;

    my $r = http('POST', '/api/v1/contacts',
                 { 'x-session-token' => $t, origin => $origin // $APP,
                   'content-type' => 'application/json' }, '{}');

    return outcome($r);
}

sub outcome {
    my ($r) = @_;

    if ($r->{status} == 200 || $r->{status} == 201) {
        my $k = $r->{content} =~ /^key=(\S*)/ ? " key=$1" : '';
        return "$r->{status}$k";
    }

    my $e = ref $r->{json} eq 'HASH' ? $r->{json}{error} // {} : {};

    return "$r->{status} " . ($e->{code} // '-')
           . (defined $e->{message} ? " \"$e->{message}\"" : '');
}

# a new session of a key, from an origin: its token ('' when none)

sub mint {
    my ($id, $origin) = @_;

    my $r = http('POST', '/api/v1/sessions',
                 { authorization => "Bearer $K{$id}",
                   origin => $origin // $APP });

    return ref $r->{json} eq 'HASH' ? $r->{json}{data}{sessionToken} // ''
                                    : '';
}

# the key as a server uses it (no Origin), and a mint with it

sub server_call {
    my ($id) = @_;

    return outcome(http('POST', '/api/v1/contacts',
                        { authorization => "Bearer $K{$id}",
                          'content-type' => 'application/json' }, '{}'));
}

sub mint_call {
    my ($id) = @_;

    return outcome(http('POST', '/api/v1/sessions',
                        { authorization => "Bearer $K{$id}",
                          origin => $APP }));
}

# the key file as nginx reads it, and the master's pid

sub key_file () { "$ENV{TEST_NGINX_HTML_DIR}/browser-channel.keys" }

sub master_pid {
    open my $fh, '<', $Test::Nginx::Util::PidFile or return undef;
    my $pid = <$fh>;
    chomp $pid if defined $pid;
    return $pid;
}

# the record of ID with a flag added, as a billing system would write it

sub add_flag {
    my ($id, $flag) = @_;

    my $f = key_file();
    open my $in, '<', $f or die "$f: $!\n";
    my $text = do { local $/; <$in> };
    close $in;

    $text =~ s/^(\Q$id\E key=\S+.*?\bflags=)(\S+)/$1$2,$flag/m
        or die "no flags= in the record of $id\n";

    open my $out, '>', "$f.new" or die "$f.new: $!\n";
    print $out $text;
    close $out or die "$f.new: $!\n";
    rename "$f.new", $f or die "$f: $!\n";
}

# the flag of ID taken away again

sub drop_flag {
    my ($id, $flag) = @_;

    my $f = key_file();
    open my $in, '<', $f or die "$f: $!\n";
    my $text = do { local $/; <$in> };
    close $in;

    $text =~ s/^(\Q$id\E key=\S+.*?\bflags=\S*?),\Q$flag\E\b/$1/m
        or die "no flag $flag in the record of $id\n";

    open my $out, '>', "$f.new" or die "$f.new: $!\n";
    print $out $text;
    close $out or die "$f.new: $!\n";
    rename "$f.new", $f or die "$f: $!\n";
}

# SIGHUP, then ask with CODE until the answer starts with WANT (the
# reload has had its effect), for at most 20 seconds: the last answer

sub reload_until {
    my ($want, $code) = @_;

    my $pid = master_pid() or return 'no master';
    kill 'HUP', $pid or return "HUP: $!";

    return poll_until($want, $code);
}

# the same without a signal: a change that the same reload makes next

sub poll_until {
    my ($want, $code) = @_;

    my $out;

    for (1 .. 200) {
        $out = $code->();
        last if index($out, $want) == 0;
        Time::HiRes::sleep(0.1);
    }

    return $out;
}

# the flows of the blocks: a line per step, the first session minted by
# the block's request

sub first_token {
    my ($body) = @_;

    my $j = eval { JSON::PP->new->decode($body) } // {};

    return $j->{data}{sessionToken} // '';
}

sub revoke_by_api {
    my ($body) = @_;
    my @o;

    my $live = first_token($body);
    my $live2 = mint('live', $ADMIN);
    my $other = mint('bystander');

    push @o, "live: " . write_with($live),
             "live, from its other origin: " . write_with($live2, $ADMIN),
             "bystander: " . write_with($other);

    my $r = http('POST', '/api/v1/api-keys/revoke',
                 { authorization => "Bearer $K{live}" });
    push @o, "revoke live: $r->{status} $r->{content}";

    push @o, "live: " . write_with($live),
             "live, from its other origin: " . write_with($live2, $ADMIN),
             "bystander: " . write_with($other),
             "live as a server: " . server_call('live'),
             "live mints: " . mint_call('live'),
             "bystander mints: " . mint_call('bystander');

    return join '', map { "$_\n" } @o;
}

sub revoke_in_file {
    my ($body) = @_;
    my @o;

    my $live = first_token($body);
    my $other = mint('bystander');

    push @o, "live: " . write_with($live),
             "bystander: " . write_with($other);

    my $rc = system($^X, "$FindBin::Bin/../tools/embed-session-apikey",
                    'revoke', '--file', key_file(), '--id', 'live');
    push @o, "embed-session-apikey revoke: exit " . ($rc >> 8);

    push @o, "after the reload, live: "
             . reload_until('401', sub { write_with($live) }),
             "bystander: " . write_with($other),
             "live as a server: " . server_call('live'),
             "live mints: " . mint_call('live');

    return join '', map { "$_\n" } @o;
}

sub suspend_in_file {
    my ($body) = @_;
    my @o;

    my %t = map { $_ => mint($_) }
                qw(to-suspend to-cancel to-past-due bystander);

    push @o, map { "$_: " . write_with($t{$_}) } sort keys %t;

    add_flag('to-suspend', 'tenant_suspended');
    add_flag('to-cancel', 'subscription_cancelled');
    add_flag('to-past-due', 'subscription_past_due');

    push @o, "after the reload, to-suspend: "
             . reload_until('401', sub { write_with($t{'to-suspend'}) });
    push @o, "to-cancel: "
             . poll_until('401', sub { write_with($t{'to-cancel'}) });
    push @o, map { "$_: " . write_with($t{$_}) } qw(to-past-due bystander);
    push @o, map { "$_ mints: " . mint_call($_) }
                 qw(to-suspend to-cancel to-past-due bystander);
    push @o, map { "$_ server to server: " . server_call($_) }
                 qw(to-suspend to-cancel to-past-due bystander);

    # the suspension lifted: new sessions, the ended one stays ended

    drop_flag('to-suspend', 'tenant_suspended');

    push @o, "lifted, after the reload, to-suspend mints: "
             . reload_until('201', sub { mint_call('to-suspend') }),
             "its ended session: " . write_with($t{'to-suspend'}),
             "a new one: " . write_with(mint('to-suspend'));

    return join '', map { "$_\n" } @o;
}

{
    no strict 'refs';

    for my $name (qw(write_with outcome mint server_call mint_call
                     add_flag drop_flag reload_until poll_until revoke_by_api
                     revoke_in_file suspend_in_file))
    {
        *{"Test::Base::Filter::$name"} = \&{$name};
    }
}


# configuration ##############################################################
#
# conf-examples/browser-channel.conf as shipped: the signing key is the
# fixture t/data/keys/ed25519.jwks (kid ed-1), the key file the block's
# own; the upstream "app" (127.0.0.1:9000 in the file) is a stub server
# that echoes the headers the example sets.

use_example('browser-channel', files => {
    'keys/demo.jwks' => '$TEST_NGINX_ES_DATA/keys/ed25519.jwks',
    'keys/browser-channel.keys' =>
        '$TEST_NGINX_HTML_DIR/browser-channel.keys',
});

our $UPSTREAM = example_port(9000);

our $STUB = <<"_EOC_";
    # the example's upstream "app": what reached it
    server {
        listen  127.0.0.1:$UPSTREAM;

        location / {
            return 200 "key=\$http_x_embed_key tenant=\$http_x_embed_tenant origin=\$http_x_embed_origin token=\$http_x_session_token auth=\$http_authorization\\n";
        }
    }
_EOC_

add_block_preprocessor(sub {
    my $block = shift;

    return if defined $block->no_example;

    $block->set_value('http_config', ($block->http_config // '') . $STUB);

    $block->set_value('user_files', ">>> browser-channel.keys\n$KEYS"
                                    . ($block->user_files // ''));

    if (!defined $block->request && !defined $block->pipelined_requests) {
        $block->set_value('request', "POST /api/v1/sessions\n{}");
    }

    if (!defined $block->more_headers) {
        $block->set_value('more_headers', bearer('live', $APP)
                                          . "\nContent-Type: application/json");
    }

    if (!defined $block->no_error_log && !defined $block->error_log) {
        $block->set_value('no_error_log', "[error]\n");
    }
});

run_tests();

Test::More::done_testing();

__DATA__

=== TEST 1: the seed's request (an empty JSON body): 201 {"data":{"sessionToken","expiresAt","expiresIn"}}, one hour, bound to the Origin, expiresAt with milliseconds
--- error_code: 201
--- response_headers
Content-Type: application/json
--- response_body_like chomp
^\{"data":\{"sessionToken":"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+","expiresAt":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z","expiresIn":3600\}\}\n?$
--- json_check eval
sub { ::minted(@_, key => 'live', origin => 'https://app.example.com') }
--- no_error_log
[error]



=== TEST 2: the minted token passes the write endpoint with X-Session-Token from its origin only
--- error_code: 201
--- json_check eval
sub {
    my $t = ::minted(@_, key => 'live', origin => 'https://app.example.com')
        or return;
    ::use_token($t, $_[1], 'https://app.example.com',
                'https://admin.example.com');
}
--- no_error_log
[error]



=== TEST 3: minted from the key's other origin: bound to that one
--- more_headers eval
bearer('live', 'https://admin.example.com')
--- error_code: 201
--- json_check eval
sub {
    my $t = ::minted(@_, key => 'live', origin => 'https://admin.example.com')
        or return;
    ::use_token($t, $_[1], 'https://admin.example.com',
                'https://app.example.com');
}
--- no_error_log
[error]



=== TEST 4: a key that lists no origins: any calling origin, and the token is bound to it
--- more_headers eval
bearer('any-origin', 'http://localhost:5173')
--- error_code: 201
--- json_check eval
sub {
    my $t = ::minted(@_, key => 'any-origin', origin => 'http://localhost:5173')
        or return;
    ::use_token($t, $_[1], 'http://localhost:5173', 'https://app.example.com');
}
--- no_error_log
[error]



=== TEST 5: the seed's curl exactly: POST without a body is the same request
--- request
POST /api/v1/sessions
--- more_headers eval
bearer('live', 'https://app.example.com')
--- error_code: 201
--- json_check eval
sub { ::minted(@_, key => 'live', origin => 'https://app.example.com') }
--- no_error_log
[error]



=== TEST 6: 403 ORIGIN_NOT_ALLOWED: another origin, no Origin, "null", an origin with a path
--- pipelined_requests eval
[("POST /api/v1/sessions\n{}") x 4]
--- more_headers eval
[bearer('live', 'https://evil.example.com'), bearer('live'),
 bearer('live', 'null'), bearer('live', 'https://app.example.com/x')]
--- error_code eval
[403, 403, 403, 403]
--- response_headers eval
[("Content-Type: application/json") x 4]
--- json_check eval
[(sub { ::nested_error(@_, 'ORIGIN_NOT_ALLOWED') }) x 4]



=== TEST 7: 401 API_KEY_REQUIRED: no Authorization, another scheme
--- pipelined_requests eval
[("POST /api/v1/sessions\n{}") x 2]
--- more_headers eval
["Origin: https://app.example.com",
 "Authorization: Basic dXNlcjpwYXNz\nOrigin: https://app.example.com"]
--- error_code eval
[401, 401]
--- response_body_like eval
[('^\{"error":\{"code":"API_KEY_REQUIRED","message":"[^"]+"(?:,"details":\[\])?\}\}\n?$') x 2]
--- json_check eval
[(sub { ::nested_error(@_, 'API_KEY_REQUIRED') }) x 2]



=== TEST 8: 401 API_KEY_INVALID: an unknown key, garbage, a key one character off
--- pipelined_requests eval
[("POST /api/v1/sessions\n{}") x 3]
--- more_headers eval
["Authorization: Bearer $::UNKNOWN\nOrigin: https://app.example.com",
 "Authorization: Bearer not-a-key\nOrigin: https://app.example.com",
 "Authorization: Bearer " . substr($::K{live}, 0, -1)
 . (substr($::K{live}, -1) eq 'A' ? 'B' : 'A')
 . "\nOrigin: https://app.example.com"]
--- error_code eval
[401, 401, 401]
--- json_check eval
[(sub { ::nested_error(@_, 'API_KEY_INVALID') }) x 3]



=== TEST 9: 401 API_KEY_REVOKED, API_KEY_EXPIRED
--- pipelined_requests eval
[("POST /api/v1/sessions\n{}") x 2]
--- more_headers eval
[bearer('revoked', 'https://app.example.com'),
 bearer('expired', 'https://app.example.com')]
--- error_code eval
[401, 401]
--- json_check eval
[sub { ::nested_error(@_, 'API_KEY_REVOKED') },
 sub { ::nested_error(@_, 'API_KEY_EXPIRED') }]



=== TEST 10: 403 account issues: TENANT_SUSPENDED, SUBSCRIPTION_CANCELLED, SUBSCRIPTION_PAST_DUE, MODULE_NOT_ENABLED
--- pipelined_requests eval
[("POST /api/v1/sessions\n{}") x 4]
--- more_headers eval
[map { bearer($_, 'https://app.example.com') }
     qw(suspended cancelled past-due no-module)]
--- error_code eval
[403, 403, 403, 403]
--- response_body_like eval
['^\{"error":\{"code":"TENANT_SUSPENDED","message":"Tenant suspended"',
 '^\{"error":\{"code":"SUBSCRIPTION_CANCELLED","message":"Subscription cancelled"',
 '^\{"error":\{"code":"SUBSCRIPTION_PAST_DUE","message":"Subscription past due"',
 '^\{"error":\{"code":"MODULE_NOT_ENABLED","message":"Module not enabled"']
--- json_check eval
[sub { ::nested_error(@_, 'TENANT_SUSPENDED') },
 sub { ::nested_error(@_, 'SUBSCRIPTION_CANCELLED') },
 sub { ::nested_error(@_, 'SUBSCRIPTION_PAST_DUE') },
 sub { ::nested_error(@_, 'MODULE_NOT_ENABLED') }]



=== TEST 11: 403 SCOPE_NOT_GRANTED: a key without the sessions grant
--- more_headers eval
bearer('no-scope', 'https://app.example.com')
--- error_code: 403
--- json_check eval
sub { ::nested_error(@_, 'SCOPE_NOT_GRANTED') }



=== TEST 12: account checks come before the origin check
--- more_headers eval
bearer('suspended', 'https://evil.example.com')
--- error_code: 403
--- json_check eval
sub { ::nested_error(@_, 'TENANT_SUSPENDED') }



=== TEST 13: 429 RATE_LIMITED with Retry-After; X-RateLimit-* on every response of the key
--- pipelined_requests eval
[("POST /api/v1/sessions\n{}") x 4]
--- more_headers eval
[bearer('rate', 'https://app.example.com'),
 bearer('rate', 'https://evil.example.com'),
 bearer('rate', 'https://app.example.com'),
 bearer('rate', 'https://app.example.com')]
--- error_code eval
[201, 403, 429, 429]
--- response_headers_like eval
["X-RateLimit-Limit: 2\nX-RateLimit-Remaining: 1\nX-RateLimit-Reset: \\d{10}",
 "X-RateLimit-Limit: 2\nX-RateLimit-Remaining: 0\nX-RateLimit-Reset: \\d{10}",
 "X-RateLimit-Limit: 2\nX-RateLimit-Remaining: 0\nX-RateLimit-Reset: \\d{10}\nRetry-After: \\d+",
 "X-RateLimit-Limit: 2\nX-RateLimit-Remaining: 0\nX-RateLimit-Reset: \\d{10}\nRetry-After: \\d+"]
--- json_check eval
[sub { ::minted(@_, key => 'rate', origin => 'https://app.example.com') },
 sub { ::nested_error(@_, 'ORIGIN_NOT_ALLOWED') },
 sub { ::nested_error(@_, 'RATE_LIMITED') },
 sub {
     my ($j, $name) = @_;
     ::nested_error($j, $name, 'RATE_LIMITED');
     my $r = ::http('POST', '/api/v1/sessions',
                    { authorization => "Bearer $::K{rate}",
                      origin => 'https://app.example.com' });
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
     ::Test::More::is($r->{headers}{'access-control-expose-headers'},
                      'Retry-After, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset',
                      "$name - the browser may read them");
 }]
--- no_error_log
[error]



=== TEST 14: a key without a rate has no X-RateLimit-* headers
--- error_code: 201
--- response_headers
!X-RateLimit-Limit
!X-RateLimit-Remaining
!X-RateLimit-Reset
!Retry-After
--- no_error_log
[error]



=== TEST 15: a body with members: 400 VALIDATION_FAILED with details; not JSON: 400 INVALID_JSON
--- pipelined_requests eval
["POST /api/v1/sessions\n{\"origins\":[\"https://evil.example.com\"]}",
 "POST /api/v1/sessions\n{\"ttl\":"]
--- more_headers eval
[(bearer('live', 'https://app.example.com')
  . "\nContent-Type: application/json") x 2]
--- error_code eval
[400, 400]
--- response_body_like eval
['^\{"error":\{"code":"VALIDATION_FAILED","message":"[^"]+","details":\[\{"path":"origins","message":"[^"]+"\}\]\}\}\n?$',
 '^\{"error":\{"code":"INVALID_JSON","message":"[^"]+"']
--- json_check eval
[sub { ::nested_error(@_, 'VALIDATION_FAILED', 'origins') },
 sub { ::nested_error(@_, 'INVALID_JSON') }]



=== TEST 16: GET /api/v1/sessions: 405, Allow: POST
--- request
GET /api/v1/sessions
--- error_code: 405
--- response_headers
Allow: POST
--- json_check eval
sub { ::nested_error(@_, 'METHOD_NOT_ALLOWED') }



=== TEST 17: CORS preflight of the mint request
--- request
OPTIONS /api/v1/sessions
--- more_headers
Origin: https://app.example.com
Access-Control-Request-Method: POST
Access-Control-Request-Headers: authorization
--- error_code: 204
--- response_headers
Access-Control-Allow-Origin: https://app.example.com
Access-Control-Allow-Methods: POST
Access-Control-Allow-Headers: Authorization, Content-Type
--- no_error_log
[error]



=== TEST 18: the write endpoint: a Crypt::JWT token passes; expired, none, another origin, another typ fail
--- pipelined_requests eval
[("POST /api/v1/contacts\n{}") x 5]
--- more_headers eval
["X-Session-Token: " . ind_token() . "\nOrigin: https://app.example.com",
 "X-Session-Token: " . ind_token(iat => time - 7200, exp => time - 3600)
 . "\nOrigin: https://app.example.com",
 "Origin: https://app.example.com",
 "X-Session-Token: " . ind_token() . "\nOrigin: https://evil.example.com",
 "X-Session-Token: " . Crypt::JWT::encode_jwt(
     alg => 'EdDSA', key => { %{ EmbedSessionTest::jwk('ed25519') } },
     extra_headers => { kid => 'ed-1', typ => 'JWT' },
     payload => { iss => 'https://demo.yourapp.com', aud => 'browser-channel',
                  iat => time, exp => time + 600,
                  origins => ['https://app.example.com'] })
 . "\nOrigin: https://app.example.com"]
--- error_code eval
[200, 401, 401, 403, 401]
--- response_body_like eval
['^key=live tenant=t_1 origin=https://app.example.com token= auth=$',
 '^\{"error":\{"code":"SESSION_EXPIRED",',
 '^\{"error":\{"code":"SESSION_REQUIRED",',
 '^\{"error":\{"code":"ORIGIN_NOT_ALLOWED",',
 '^\{"error":\{"code":"SESSION_INVALID",']
--- json_check eval
[undef,
 sub { ::nested_error(@_, 'SESSION_EXPIRED') },
 sub { ::nested_error(@_, 'SESSION_REQUIRED') },
 sub { ::nested_error(@_, 'ORIGIN_NOT_ALLOWED') },
 sub { ::nested_error(@_, 'SESSION_INVALID') }]



=== TEST 19: an API key is not a session: the write endpoint refuses it
--- request
POST /api/v1/contacts
{}
--- more_headers eval
"X-Session-Token: $::K{live}\nOrigin: https://app.example.com"
--- error_code: 401
--- json_check eval
sub { ::nested_error(@_, 'SESSION_INVALID') }



=== TEST 20: the browser channel: a server's API key without Origin passes; from a browser the API key is not enough
--- pipelined_requests eval
[("POST /api/v1/contacts\n{}") x 5]
--- more_headers eval
[bearer('live'),
 bearer('live', 'https://app.example.com'),
 bearer('live') . "\nSec-Fetch-Site: same-origin",
 "Content-Type: application/json",
 bearer('revoked')]
--- error_code eval
[200, 401, 401, 401, 401]
--- response_body_like eval
['^key=live tenant=t_1 origin= token= auth=$',
 '^\{"error":\{"code":"SESSION_REQUIRED",',
 '^\{"error":\{"code":"SESSION_REQUIRED",',
 '^\{"error":\{"code":"API_KEY_REQUIRED",',
 '^\{"error":\{"code":"API_KEY_REVOKED",']
--- no_error_log
[error]



=== TEST 21: the page reads its new token: Access-Control-Allow-Origin for its origin, and for the module's errors
--- pipelined_requests eval
[("POST /api/v1/sessions\n{}") x 2]
--- more_headers eval
[bearer('live', 'https://app.example.com'),
 bearer('live', 'https://evil.example.com')]
--- error_code eval
[201, 403]
--- response_headers eval
["Access-Control-Allow-Origin: https://app.example.com\nVary: Origin\n"
 . "Access-Control-Expose-Headers: Retry-After, X-RateLimit-Limit, "
 . "X-RateLimit-Remaining, X-RateLimit-Reset",
 "Access-Control-Allow-Origin: https://evil.example.com\nVary: Origin"]
--- no_error_log
[error]



=== TEST 22: preflight of a write endpoint at the edge: X-Session-Token allowed
--- request
OPTIONS /api/v1/contacts
--- more_headers
Origin: https://app.example.com
Access-Control-Request-Method: POST
Access-Control-Request-Headers: content-type,x-session-token
--- error_code: 204
--- response_headers
Access-Control-Allow-Origin: https://app.example.com
Access-Control-Allow-Headers: X-Session-Token, Content-Type
--- response_body_like: ^$
--- no_error_log
[error]



=== TEST 23: preflight of a write endpoint: Authorization is not among its headers
--- request
OPTIONS /api/v1/contacts
--- more_headers
Origin: https://app.example.com
Access-Control-Request-Method: POST
Access-Control-Request-Headers: authorization
--- error_code: 403
--- response_headers
Access-Control-Allow-Origin:
--- json_check eval
sub { ::nested_error(@_, 'PREFLIGHT_REFUSED') }



=== TEST 24: expiresAt: the example writes milliseconds (UTC); an RFC 3339 reader takes the seed's form and this one alike, and the one sent is exp
--- error_code: 201
--- json_check eval
sub {
    my ($j, $name) = @_;
    ::minted($j, $name, key => 'live', origin => 'https://app.example.com');
    ::Test::More::is(::rfc3339('2026-04-15T12:00:00Z'), 1776254400,
                     "$name - the seed's example, without milliseconds");
    ::Test::More::is(::rfc3339('2026-04-15T12:00:00.000Z'), 1776254400,
                     "$name - the example's form, the same instant");
}
--- no_error_log
[error]



=== TEST 25: a key revoked through the example's revoke endpoint: its sessions refused at once, another key's not
--- error_code: 201
--- response_body_filters eval
\&::revoke_by_api
--- response_body
live: 200 key=live
live, from its other origin: 200 key=live
bystander: 200 key=bystander
revoke live: 200 {"id":"live","status":"revoked"}
live: 401 SESSION_INVALID "Session revoked"
live, from its other origin: 401 SESSION_INVALID "Session revoked"
bystander: 200 key=bystander
live as a server: 401 API_KEY_REVOKED "API key revoked"
live mints: 401 API_KEY_REVOKED "API key revoked"
bystander mints: 201
--- error_log
API key "live" revoked by "live", and 2 of its sessions
--- no_error_log
[error]



=== TEST 26: a key revoked in the key file (tools/embed-session-apikey revoke) and a reload: its sessions refused, another key's not
--- error_code: 201
--- response_body_filters eval
\&::revoke_in_file
--- response_body
live: 200 key=live
bystander: 200 key=bystander
embed-session-apikey revoke: exit 0
after the reload, live: 401 SESSION_INVALID "Session revoked"
bystander: 200 key=bystander
live as a server: 401 API_KEY_REVOKED "API key revoked"
live mints: 401 API_KEY_REVOKED "API key revoked"
--- error_log
1 sessions of revoked API key "live" ended
--- no_error_log
[error]



=== TEST 27: a key given tenant_suspended or subscription_cancelled and a reload: its sessions refused (end_sessions=), its server calls 403; subscription_past_due and other keys keep theirs; lifting the suspension brings new sessions, not the ended one
--- error_code: 201
--- response_body_filters eval
\&::suspend_in_file
--- response_body
bystander: 200 key=bystander
to-cancel: 200 key=to-cancel
to-past-due: 200 key=to-past-due
to-suspend: 200 key=to-suspend
after the reload, to-suspend: 401 SESSION_INVALID "Session revoked"
to-cancel: 401 SESSION_INVALID "Session revoked"
to-past-due: 200 key=to-past-due
bystander: 200 key=bystander
to-suspend mints: 403 TENANT_SUSPENDED "Tenant suspended"
to-cancel mints: 403 SUBSCRIPTION_CANCELLED "Subscription cancelled"
to-past-due mints: 403 SUBSCRIPTION_PAST_DUE "Subscription past due"
bystander mints: 201
to-suspend server to server: 403 TENANT_SUSPENDED "Tenant suspended"
to-cancel server to server: 403 SUBSCRIPTION_CANCELLED "Subscription cancelled"
to-past-due server to server: 200 key=to-past-due
bystander server to server: 200 key=bystander
lifted, after the reload, to-suspend mints: 201
its ended session: 401 SESSION_INVALID "Session revoked"
a new one: 200 key=to-suspend
--- error_log
1 sessions of API key "to-suspend" ended: a flag of end_sessions="tenant_suspended,subscription_cancelled"
1 sessions of API key "to-cancel" ended: a flag of end_sessions="tenant_suspended,subscription_cancelled"
--- no_error_log
[error]



=== TEST 28: end_sessions= with an empty flag fails nginx -t, naming the parameter (no_example: a configuration of its own, for the bad value)
--- no_example
--- http_config
    embed_session_api_keys  zone=bad_keys:1m
        file=$TEST_NGINX_ES_DATA/keys/browser-channel.keys
        end_sessions=tenant_suspended,;
--- config
--- suppress_stderr
--- must_die
--- error_log eval
qr/\[emerg\] \d+#\d+: invalid parameter "end_sessions=tenant_suspended,": use end_sessions=FLAG\[,FLAG\.\.\.\] in \S+nginx\.conf:\d+/
