# vim:set ft= ts=4 sw=4 et fdm=marker:

# The store zone's Redis backend (issue 14, slice 2): two "nodes" in one
# nginx, against a real redis-server (t/lib/EmbedSessionRedis.pm's).  Store
# zones a and b share backend_key=shared on the same Redis, so they share
# one store the way two nginx would: locations /a/... use zone a (node A),
# /b/... zone b (node B).  The API keys, the mint fields and outputs and
# the request helpers are t/lib/EmbedSessionLifecycle.pm's (as in
# 300-lifecycle-refresh.t and 301-lifecycle-revoke-exchange.t); each block's
# request is a status scrape, and its flow (::flow) makes the requests
# while nginx runs.
#
#   across nodes         a refresh on B of a session minted on A; single
#                        use across nodes (grace=0: reuse on B revokes the
#                        family on both); the grace repeat on both nodes
#                        gives one successor, byte for byte; a revocation
#                        on A reaches B through the feed (one script per
#                        change when the copy is current); a generation a
#                        node does not know: accepted when issued after the
#                        known one, else refused; a copy out of date: the
#                        change decided again (two scripts); a one-time
#                        ticket exchanged once; one renew token presented
#                        20 times at once on both nodes: one successor
#   Redis unreachable    nobody listening: mint, refresh, revoke, exchange
#                        503 STORE_UNAVAILABLE with Retry-After: 1, and
#                        verification too (the store never read); a server
#                        paused (SIGSTOP) during a refresh: 503 after
#                        timeout=, nothing changed, the same renew token
#                        refreshes once after SIGCONT; paused longer than
#                        stale=: verification 503 until it resumes
#   damaged record       garbage in {es:shared}:r:<id>: that session's
#                        refresh 503, the zone named in the log, the other
#                        sessions unharmed
#   lost record          a record Redis no longer has: the refresh writes
#                        the zone's copy again, rotated (version 1)
#   same second          a generation B does not know yet, of the same
#                        second as the one it knows: B waits for the feed
#                        (up to 100 ms); the generation known replaced is
#                        refused at once
#   nginx -t             backend= naming no embed_session_redis, stale= not
#                        a time or out of range, backend_key= without
#                        backend= or not a name; backend= may name a server
#                        declared later (backend= without hiredis is 500's
#                        concern)
#
# The feed is asynchronous: where a change made on one node must reach the
# other, the flow asks again for up to 2 s.  That is a wait, not a timing
# assertion: what is asserted is the answer it ends with.

use FindBin;
use lib "$FindBin::Bin/lib";
use EmbedSessionTest;
use EmbedSessionMint;
use EmbedSessionLifecycle;
use EmbedSessionRedis qw(redis_start free_port redis_cmd);

use IO::Socket::INET ();
use Time::HiRes ();

# servers, stateful flows and sleeps: once each
repeat_each(1);
no_shuffle();

# a master and two workers, as in production: a request and the feed's
# reader (the first worker) are not always the same process
my $WORKERS = 2;
master_on();
workers($WORKERS);

my $redis = redis_start();

$ENV{TEST_NGINX_REDIS_PORT} = $redis->{port};

# nobody listens there
$ENV{TEST_NGINX_REDIS_ABSENT} = free_port();

# one to pause (SIGSTOP)
my $paused = redis_start();
$ENV{TEST_NGINX_REDIS_PAUSED_PORT} = $paused->{port};

# how long a change made on one node may take to reach the other's copy
my $FEED_WAIT = 2;

# --- the configuration ----------------------------------------------------

# the http level: the lifecycle's API keys, the Redis servers and the
# zones named (a and b on "main", sharing backend_key=shared; "down" on a
# server nobody listens on; "p" and "q", with stale=1s, on the one that
# gets paused)

my %ZONE = (
    a    => 'zone=a:1m backend=main backend_key=shared',
    b    => 'zone=b:1m backend=main backend_key=shared',
    down => 'zone=down:1m backend=gone stale=1s',
    p    => 'zone=p:1m backend=slow',
    q    => 'zone=q:1m backend=slow stale=1s',
);

# under valgrind (tools/test's valgrind stage) nginx runs many times
# slower, and the default timeout=500ms would make a busy worker's
# commands miss their deadline

my %REDIS = (
    main => 'server=127.0.0.1:$TEST_NGINX_REDIS_PORT'
            . ($ENV{TEST_NGINX_USE_VALGRIND} ? ' timeout=5s' : ''),
    gone => 'server=127.0.0.1:$TEST_NGINX_REDIS_ABSENT',
    slow => 'server=127.0.0.1:$TEST_NGINX_REDIS_PAUSED_PORT timeout=300ms',
);

sub http_conf {
    my @zones = @_;
    my %servers = map { $ZONE{$_} =~ /backend=(\w+)/ ? ($1 => 1) : () }
                      @zones;

    return "    embed_session_api_keys  zone=lc_keys:1m\n"
        . "                            file=$ENV{TEST_NGINX_HTML_DIR}/"
        . "lifecycle.keys;\n"
        . join('', map { "    embed_session_redis  $_ $REDIS{$_};\n" }
                   sort keys %servers)
        . join('', map { "    embed_session_store_zone  $ZONE{$_};\n" }
                   @zones);
}

# the locations of one node: /Z/mint, /Z/generate (a one-time ticket),
# /Z/exchange, /Z/refresh (single use: grace=0), /Z/refresh-grace
# (grace=10s), /Z/revoke and /Z/app (a verify location), each with
# "embed_session_store Z"

sub node_conf {
    my ($z) = @_;

    return <<"_EOC_";
    location = /$z/mint {
        embed_session_store    $z;
        embed_session_api_key  lc_keys;
        embed_session_mint     on;
$FIELDS
        embed_session_mint_ttl  60 max=300;
$OUTPUTS
    }

    location = /$z/generate {
        embed_session_store    $z;
        embed_session_api_key  lc_keys;
        embed_session_mint     on;
$FIELDS
        embed_session_mint_ttl       60 max=300;
        embed_session_mint_exchange  5m;
        embed_session_mint_status    200;
        embed_session_mint_output    sessionId  session_id;
    }

    location = /$z/exchange {
        embed_session_store     $z;
        embed_session_exchange;
        embed_session_mint_output  token       token;
        embed_session_mint_output  session_id  session_id;
    }

    location = /$z/refresh {
        embed_session_store    $z;
        embed_session_api_key  lc_keys;
        embed_session_refresh  renew  body=renew_token  grace=0;
        embed_session_mint_ttl  60 max=300;
        embed_session_origin_absent  allow;
$OUTPUTS
    }

    location = /$z/refresh-grace {
        embed_session_store    $z;
        embed_session_api_key  lc_keys;
        embed_session_refresh  renew  body=renew_token  grace=10s;
        embed_session_mint_ttl  60 max=300;
        embed_session_origin_absent  allow;
$OUTPUTS
    }

    location = /$z/revoke {
        embed_session_store    $z;
        embed_session_api_key  lc_keys;
        embed_session_revoke;
    }

    location = /$z/app {
        embed_session_store   $z;
        embed_session_verify  on;
        proxy_pass  http://127.0.0.1:\$TEST_NGINX_SERVER_PORT/backend;
    }
_EOC_
}

sub server_conf {
    my @zones = @_;

    return <<"_EOC_" . join('', map { node_conf($_) } @zones);
    embed_session_keys      \$TEST_NGINX_ES_DATA/keys/hs256.jwks;
    embed_session_issuer    $ISS;
    embed_session_audience  $AUD;

    location = /backend {
        return 200 "ok\\n";
    }

    location = /status {
        embed_session_status;
    }
_EOC_
}

# the "down" zone's mint and verify with the nested error format

our $DOWN_NESTED = <<"_EOC_";
    location = /down/mint-nested {
        embed_session_store         down;
        embed_session_error_format  nested;
        embed_session_api_key       lc_keys;
        embed_session_mint          on;
$FIELDS
        embed_session_mint_ttl  60 max=300;
$OUTPUTS
    }

    location = /down/app-nested {
        embed_session_store         down;
        embed_session_error_format  nested;
        embed_session_verify        on;
        proxy_pass  http://127.0.0.1:\$TEST_NGINX_SERVER_PORT/backend;
    }
_EOC_

our $HTTP_AB = http_conf(qw(a b));
our $SERVER_AB = server_conf(qw(a b));

# blocks without their own configuration get nodes a and b in place of the
# lifecycle's single-zone server (Test::Nginx runs the block preprocessors
# last registered first: these defaults come before
# EmbedSessionLifecycle's)

block_defaults(http_config => $HTTP_AB, config => $SERVER_AB);

# --- helpers --------------------------------------------------------------

# Redis is up for this nginx and the zones have read their store (until
# the first full read, verification answers 503 STORE_UNAVAILABLE): the
# status page says embed_session_redis_up{server=SERVER} 1, a connection
# for each worker, and embed_session_store_feed_synced{zone=Z} 1 (10 s at
# most)

sub ready {
    my ($server, @zones) = @_;
    my $connects = "embed_session_redis_connects_total{server=\"$server\"}";
    my @want = ("embed_session_redis_up{server=\"$server\"}",
                map { "embed_session_store_feed_synced{zone=\"$_\"}" }
                    @zones);
    my $until = Time::HiRes::time() + 10;
    my @missing;

    for (;;) {
        my $m = metrics();
        @missing = grep { ($m->{$_} // '') ne '1' } @want;
        push @missing, $connects if ($m->{$connects} // 0) < $WORKERS;
        last if !@missing || Time::HiRes::time() >= $until;
        Time::HiRes::sleep(0.05);
    }

    return "redis $server up, zones synced (@zones): "
        . (@missing ? "no (@missing)" : 'yes');
}

# the JSON answer of a request ({} when it is not JSON)

sub js {
    my ($res) = @_;
    return ref $res->{json} eq 'HASH' ? $res->{json} : {};
}

# "STATUS CODE, Retry-After: N" for an answer that must say when to retry

sub st_ra {
    my ($res) = @_;
    return st($res) . ', Retry-After: '
        . ($res->{headers}{'retry-after'} // '-');
}

# a token at /Z/app once its answer is WANT, or the last answer after
# $FEED_WAIT seconds (the feed is asynchronous)

sub at_after {
    my ($token, $path, $want, $wait) = @_;
    my $until = Time::HiRes::time() + ($wait // $FEED_WAIT);
    my $got;

    for (;;) {
        $got = at($token, $path);
        last if $got eq $want || Time::HiRes::time() >= $until;
        Time::HiRes::sleep(0.05);
    }

    return $got;
}

sub exchange_at {
    my ($z, $id) = @_;
    return post("/$z/exchange", undef, { sessionId => $id // '' });
}

# a session's record key on Redis: {es:KEY}:r:<its id, 32 hex digits>

sub record_key {
    my ($backend_key, $id) = @_;
    (my $hex = lc($id // '')) =~ s/-//g;
    return "{es:$backend_key}:r:$hex";
}

# the scripts a server has run (EVAL and EVALSHA calls), from INFO

sub scripts_run {
    my ($server) = @_;
    my $info = redis_cmd($server, 'INFO', 'commandstats') // '';
    my $n = 0;
    $n += $1 while $info =~ /^cmdstat_eval(?:sha)?:calls=(\d+)/mg;
    return $n;
}

# a refresh on /a: its answer, then the lines "refresh on /a: STATUS" and
# the scripts zone a ran for it and how many of them it decided again

sub refresh_counted {
    my ($renew) = @_;
    my $calls = 'embed_session_store_backend_calls_total{zone="a"}';
    my $conflicts = 'embed_session_store_backend_conflicts_total{zone="a"}';
    my $m0 = metrics();
    my $res = refresh($renew, path => '/a/refresh');
    my $m1 = metrics();
    return ($res, 'refresh on /a: ' . st($res),
            'scripts run: ' . delta($m0, $m1, $calls)
            . ', decided again: ' . delta($m0, $m1, $conflicts));
}

# a renew token (or a session token) of a session no store knows, signed
# with the server's key

sub stranger {
    my (%o) = @_;
    my $id = new_uuid();
    return tok(sid => $id, jti => $id, %o);
}

# --- the flows ------------------------------------------------------------

# a session minted on A, refreshed on B

sub flow_refresh_across {
    my @o = (ready('main', qw(a b)));

    my $res = mint_req(path => '/a/mint');
    my $m = js($res);
    my (undef, $c0) = jose($m->{token});
    push @o, 'mint on /a: ' . st($res);

    my $key = record_key('shared', $m->{session_id});
    push @o, 'its record on Redis, {es:shared}:r:<32 hex>: '
        . yn(redis_cmd($redis, 'EXISTS', $key));
    push @o, 'the feed on Redis, {es:shared}:feed: '
        . (redis_cmd($redis, 'TYPE', '{es:shared}:feed') // '-');

    $res = refresh($m->{renew_token}, path => '/b/refresh');
    my $n = js($res);
    my (undef, $c1) = jose($n->{token});
    push @o, 'its renew token on /b/refresh: ' . st($res);
    push @o, 'the successor: a new jti, the same sid: '
        . yn(is_uuid($c1->{jti}) && !same($c1->{jti}, $c0->{jti})
             && same($c1->{sid}, $c0->{sid}));
    push @o, 'successor at /b/app: ' . at($n->{token}, '/b/app');
    push @o, 'successor at /a/app (newer than A knows): '
        . at($n->{token}, '/a/app');
    push @o, 'old token at /b/app: ' . at($m->{token}, '/b/app');
    push @o, 'old token at /a/app (once the feed has it): '
        . at_after($m->{token}, '/a/app', '401 SESSION_REVOKED');
    push @o, 'successor at /a/app, after the feed: '
        . at($n->{token}, '/a/app');

    $res = refresh($n->{renew_token}, path => '/a/refresh');
    push @o, 'the successor\'s renew token on /a/refresh: ' . st($res);
    push @o, 'its successor at /b/app: ' . at(js($res)->{token}, '/b/app');

    return @o;
}

# grace=0: the renew token used on A, then on B

sub flow_single_use {
    my @o = (ready('main', qw(a b)));

    my $m = mint_ok(path => '/a/mint');
    my $res = refresh($m->{renew_token}, path => '/a/refresh');
    my $n = js($res);
    push @o, 'refresh on /a: ' . st($res);

    $res = refresh($m->{renew_token}, path => '/b/refresh');
    push @o, 'the same renew token on /b: ' . st($res);
    push @o, 'body: ' . body_of($res);
    push @o, 'successor at /b/app: ' . at($n->{token}, '/b/app');
    push @o, 'successor at /a/app (once the feed has it): '
        . at_after($n->{token}, '/a/app', '401 SESSION_REVOKED');
    push @o, 'successor\'s renew token on /a/refresh: '
        . st(refresh($n->{renew_token}, path => '/a/refresh'));
    push @o, 'successor\'s renew token on /b/refresh: '
        . st(refresh($n->{renew_token}, path => '/b/refresh'));

    return @o;
}

# grace=10s: the renew token used on A, then on B

sub flow_grace {
    my @o = (ready('main', qw(a b)));

    my $m = mint_ok(path => '/a/mint');
    my $res = refresh($m->{renew_token}, path => '/a/refresh-grace');
    my $x = js($res);
    my (undef, $cx) = jose($x->{token});
    my (undef, $rx) = jose($x->{renew_token});
    push @o, 'refresh on /a: ' . st($res);

    $res = refresh($m->{renew_token}, path => '/b/refresh-grace');
    my $y = js($res);
    my (undef, $cy) = jose($y->{token});
    my (undef, $ry) = jose($y->{renew_token});
    push @o, 'the same renew token on /b, within the grace: ' . st($res);
    push @o, 'the same successor jti: '
        . yn(is_uuid($cx->{jti}) && same($cx->{jti}, $cy->{jti}));
    push @o, 'the same successor renew token jti: '
        . yn(same($rx->{jti}, $ry->{jti}) && same($rx->{jti}, $cx->{jti}));
    push @o, 'the same sid: ' . yn(same($cx->{sid}, $cy->{sid}));
    push @o, 'the same token and renew token, byte for byte: '
        . yn(same($x->{token}, $y->{token})
             && same($x->{renew_token}, $y->{renew_token}));
    push @o, 'successor (from /a) at /a/app: ' . at($x->{token}, '/a/app');
    push @o, 'successor (from /b) at /b/app: ' . at($y->{token}, '/b/app');
    push @o, 'successor (from /b) at /a/app: ' . at($y->{token}, '/a/app');
    push @o, 'old token at /b/app: ' . at($m->{token}, '/b/app');

    $res = refresh($y->{renew_token}, path => '/b/refresh-grace');
    push @o, 'the successor\'s renew token on /b: ' . st($res);
    push @o, 'a third generation: '
        . yn(!same((jose(js($res)->{token}))[1]->{jti}, $cx->{jti}));

    return @o;
}

# a revocation on A reaches B

sub flow_revoke {
    my @o = (ready('main', qw(a b)));

    my $calls = 'embed_session_store_backend_calls_total{zone="a"}';
    my $conflicts = 'embed_session_store_backend_conflicts_total{zone="a"}';
    my $m0 = metrics();
    my $m = mint_ok(path => '/a/mint');
    my $id = $m->{session_id} // '';
    my $m1 = metrics();
    push @o, 'mint on /a, scripts run: ' . delta($m0, $m1, $calls);
    push @o, 'token at /b/app: ' . at($m->{token}, '/b/app');

    my $res = revoke($id, 'acme', '/a/revoke');
    my $m2 = metrics();
    push @o, 'revoke on /a: ' . st($res) . ' '
        . (body_of($res) =~ s/\Q$id\E/<A>/gr);
    push @o, 'revoke on /a (its copy current), scripts run: '
        . delta($m1, $m2, $calls) . ', decided again: '
        . delta($m1, $m2, $conflicts);
    push @o, 'token at /a/app: ' . at($m->{token}, '/a/app');
    push @o, 'token at /b/app (once the feed has it): '
        . at_after($m->{token}, '/b/app', '401 SESSION_REVOKED');
    push @o, 'renew token on /b/refresh: '
        . st(refresh($m->{renew_token}, path => '/b/refresh'));

    return @o;
}

# tokens of a known session with a jti no node issued, signed with the
# server's key: issued after the generation the nodes know, taken for
# another node's refresh the feed has not brought yet (accepted); issued
# at the same time or before, a replaced generation (refused)

sub flow_unknown_generation {
    my @o = (ready('main', qw(a b)));

    my $m = mint_ok(path => '/a/mint');
    my $sid = $m->{session_id} // '';
    my (undef, $c) = jose($m->{token});
    my $iat = $c->{iat} // 0;
    my %gen = map {
        my $t = $iat + $_;
        ($_ => tok(sid => $sid, jti => new_uuid(), iat => $t,
                   exp => $t + 60));
    } (-5, 0, 1);

    # B learns the session from the feed (until then any token of it
    # passes there, as a session B does not know)
    push @o, 'B has the mint (once the feed has it): '
        . at_after($gen{-5}, '/b/app', '401 SESSION_REVOKED');

    # a second later than the mint, so that a refresh's iat is later too
    Time::HiRes::sleep(0.1) while time < $iat + 1;

    for my $z (qw(a b)) {
        push @o, "iat 5 s before the known generation, at /$z/app: "
            . at($gen{-5}, "/$z/app");
        push @o, "iat of the known generation, at /$z/app: "
            . at($gen{0}, "/$z/app");
        push @o, "iat 1 s after the known generation, at /$z/app: "
            . at($gen{1}, "/$z/app");
    }

    my $res = refresh($m->{renew_token}, path => '/b/refresh');
    push @o, 'a refresh on /b: ' . st($res);
    push @o, 'the token 1 s after the first generation, at /b/app: '
        . at($gen{1}, '/b/app');
    push @o, 'the token 1 s after the first generation, at /a/app (once '
        . 'the feed has the refresh): '
        . at_after($gen{1}, '/a/app', '401 SESSION_REVOKED');

    return @o;
}

# a node's copy out of date: the record's version raised on Redis behind
# the nodes' backs (docs/redis.md: the value starts with its version, 8 hex
# digits), so that the refresh on A is decided again on Redis's record

sub flow_out_of_date {
    my @o = (ready('main', qw(a b)));

    my $m = mint_ok(path => '/a/mint');
    my $key = record_key('shared', $m->{session_id});
    my $v = redis_cmd($redis, 'GET', $key) // '';
    my $version = hex substr $v, 0, 8;
    push @o, 'its record on Redis: ' . yn($v =~ /\A[0-9a-f]{8}/);
    push @o, 'its version raised on Redis: '
        . redis_cmd($redis, 'SET', $key,
                    sprintf('%08x', $version + 1) . substr($v, 8), 'KEEPTTL');

    my ($res, @lines) = refresh_counted($m->{renew_token});
    push @o, @lines;
    push @o, 'the version on Redis after it: +'
        . (hex(substr(redis_cmd($redis, 'GET', $key) // '', 0, 8))
           - $version);
    push @o, 'successor at /b/app: ' . at(js($res)->{token}, '/b/app');
    push @o, 'old token at /a/app: ' . at($m->{token}, '/a/app');

    return @o;
}

# a one-time ticket generated on A, exchanged on B, then on A

sub flow_exchange {
    my @o = (ready('main', qw(a b)));

    my $res = post('/a/generate', 'acme', $MINT_BODY);
    my $id = js($res)->{sessionId} // '';
    push @o, 'generate on /a: ' . st($res);

    $res = exchange_at('b', $id);
    my $x = js($res);
    push @o, 'exchange on /b: ' . st($res);
    push @o, 'session_id = the ticket: ' . yn(same($x->{session_id}, $id));
    push @o, 'token at /b/app: ' . at($x->{token}, '/b/app');
    push @o, 'token at /a/app: ' . at($x->{token}, '/a/app');

    $res = exchange_at('a', $id);
    push @o, 'exchange again on /a: ' . st($res);
    push @o, 'body: ' . body_of($res);
    push @o, 'exchange again on /b: ' . st(exchange_at('b', $id));

    return @o;
}

# nobody listens on the zone's server

sub flow_unreachable {
    my @o = (ready('main', 'a'));

    push @o, 'mint on /down: ' . st_ra(mint_req(path => '/down/mint'));
    push @o, 'refresh on /down: '
        . st_ra(refresh(stranger(typ => 'embed-renew+jwt'),
                        path => '/down/refresh'));
    push @o, 'revoke on /down: '
        . st_ra(revoke(new_uuid(), 'acme', '/down/revoke'));
    push @o, 'generate on /down: '
        . st_ra(post('/down/generate', 'acme', $MINT_BODY));
    push @o, 'exchange on /down: ' . st_ra(exchange_at('down', new_uuid()));

    # the store never read: the copy is not trusted (older than stale=1s
    # 1 s after the start at the latest)
    my $t = stranger();
    at_after($t, '/down/app', '503 STORE_UNAVAILABLE', 3);
    push @o, 'a token at /down/app, the store never read: '
        . st_ra(http('GET', '/down/app',
                     { 'X-Session-Token' => $t, Origin => $ORIGIN }));

    push @o, 'body: ' . body_of(mint_req(path => '/down/mint'));
    push @o, 'body, nested: ' . body_of(mint_req(path => '/down/mint-nested'));
    push @o, 'verify body, nested: '
        . body_of(http('GET', '/down/app-nested',
                       { 'X-Session-Token' => $t, Origin => $ORIGIN }));

    push @o, 'meanwhile, mint on /a (another server): '
        . st(mint_req(path => '/a/mint'));

    return @o;
}

# the zone's server paused (SIGSTOP) during a refresh

sub flow_paused {
    my @o = (ready('slow', 'p'));

    my $m = mint_ok(path => '/p/mint');
    my $key = record_key('p', $m->{session_id});
    my $before = redis_cmd($paused, 'GET', $key);
    push @o, 'mint on /p, its record on Redis: ' . yn(defined $before);

    my $scripts = scripts_run($paused);
    kill 'STOP', $paused->{pid};
    my $res = refresh($m->{renew_token}, path => '/p/refresh');
    push @o, 'refresh while Redis is paused: ' . st_ra($res);
    push @o, 'token at /p/app: ' . at($m->{token}, '/p/app');
    kill 'CONT', $paused->{pid};

    # the server runs what it had received while paused: the refresh's
    # script, past the node's deadline (docs/redis.md: it then does
    # nothing)
    Time::HiRes::sleep(0.3);
    my $after = redis_cmd($paused, 'GET', $key);
    push @o, 'the refresh\'s script ran on Redis after SIGCONT: '
        . yn(scripts_run($paused) > $scripts);
    push @o, 'its record on Redis unchanged: '
        . yn(defined $before && defined $after && $before eq $after);

    # until the connection is made again the refresh may answer 503 (and
    # change nothing): ask again
    my $until = Time::HiRes::time() + 5;
    do {
        $res = refresh($m->{renew_token}, path => '/p/refresh');
        Time::HiRes::sleep(0.1) if $res->{status} == 503;
    } while ($res->{status} == 503 && Time::HiRes::time() < $until);

    push @o, 'the same renew token after SIGCONT: ' . st($res);
    push @o, 'successor at /p/app: ' . at(js($res)->{token}, '/p/app');
    push @o, 'the same renew token once more (grace=0): '
        . st(refresh($m->{renew_token}, path => '/p/refresh'));

    return @o;
}

# a zone that had read its store loses Redis (SIGSTOP): verification
# until the feed is older than stale=1s, then 503; back after SIGCONT

sub flow_stale {
    my @o = (ready('slow', 'q'));

    my $m = mint_ok(path => '/q/mint');
    push @o, 'token at /q/app: ' . at($m->{token}, '/q/app');

    kill 'STOP', $paused->{pid};
    at_after($m->{token}, '/q/app', '503 STORE_UNAVAILABLE', 5);
    push @o, 'Redis paused, token at /q/app once the feed is older than '
        . 'stale=1s: '
        . st_ra(http('GET', '/q/app',
                     { 'X-Session-Token' => $m->{token}, Origin => $ORIGIN }));
    kill 'CONT', $paused->{pid};

    push @o, 'Redis back, token at /q/app: '
        . at_after($m->{token}, '/q/app', '200', 5);

    return @o;
}

# requests sent together on connections of their own, then their answers
# read: [PATH, BODY] each, with acme's API key; {status, json} each

sub together {
    my (@reqs) = @_;
    my @socks;

    for my $r (@reqs) {
        my ($path, $body) = @$r;
        my $s = IO::Socket::INET->new(
            PeerAddr => '127.0.0.1',
            PeerPort => Test::Nginx::Util::server_port()) or die "$!\n";
        push @socks, $s;
        print {$s} "POST $path HTTP/1.0\r\nHost: localhost\r\n"
            . "Authorization: Bearer $KEY{acme}\r\n"
            . "Content-Type: application/json\r\n"
            . 'Content-Length: ' . length($body) . "\r\n\r\n$body";
    }

    return map {
        my $raw = do { local $/; readline $_ } // '';
        close $_;
        my ($status) = $raw =~ m{\AHTTP/1\.\d (\d{3})};
        my ($body) = $raw =~ /\r\n\r\n(.*)\z/s;
        { status => $status // 0,
          json => eval { $JSON->decode($body // '') } };
    } @socks;
}

# "STATUS CODE: count, ..." of answers

sub tally {
    my %n;
    $n{ st($_) }++ for @_;
    return join ', ', map { "$_: $n{$_}" } sort keys %n;
}

# one renew token presented 20 times at once, 10 times on each node

sub flow_race {
    my @o = (ready('main', qw(a b)));

    my $m = mint_ok(path => '/a/mint');
    my $body = $JSON->encode({ renew_token => $m->{renew_token} });
    my @res = together(map { [($_ % 2 ? '/a' : '/b') . '/refresh-grace',
                              $body] } 1 .. 20);
    my %jti = map { ((jose(js($_)->{token}))[1]->{jti} // '-') => 1 } @res;
    push @o, 'grace=10s, 20 at once: ' . tally(@res);
    push @o, 'successors: ' . keys %jti;

    $m = mint_ok(path => '/a/mint');
    $body = $JSON->encode({ renew_token => $m->{renew_token} });
    @res = together(map { [($_ % 2 ? '/a' : '/b') . '/refresh', $body] }
                    1 .. 20);
    my @won = grep { $_->{status} == 200 } @res;
    push @o, 'grace=0, 20 at once, 200: ' . @won;
    push @o, 'the others refused (401 RENEW_TOKEN_REUSED or '
        . 'SESSION_REVOKED): '
        . grep({ st($_) =~ /^401 (?:RENEW_TOKEN_REUSED|SESSION_REVOKED)$/ }
               @res);
    push @o, 'the winner\'s token at /a/app: '
        . at_after(js($won[0])->{token}, '/a/app', '401 SESSION_REVOKED');
    push @o, 'the winner\'s token at /b/app: '
        . at_after(js($won[0])->{token}, '/b/app', '401 SESSION_REVOKED');

    return @o;
}

# garbage in a session's record

sub flow_damaged {
    my @o = (ready('main', qw(a b)));

    my $m = mint_ok(path => '/a/mint');
    my $other = mint_ok(path => '/a/mint');
    my $key = record_key('shared', $m->{session_id});

    push @o, 'its record on Redis: ' . yn(redis_cmd($redis, 'EXISTS', $key));
    push @o, 'SET it to garbage: '
        . redis_cmd($redis, 'SET', $key, "garbage\x00\xff{not a record");

    push @o, 'its refresh on /a: '
        . st_ra(refresh($m->{renew_token}, path => '/a/refresh'));
    push @o, 'its refresh on /b: '
        . st_ra(refresh($m->{renew_token}, path => '/b/refresh'));

    my $res = refresh($other->{renew_token}, path => '/a/refresh');
    push @o, 'another session\'s refresh on /a: ' . st($res);
    push @o, 'its successor at /b/app: ' . at(js($res)->{token}, '/b/app');
    push @o, 'its successor\'s refresh on /b: '
        . st(refresh(js($res)->{renew_token}, path => '/b/refresh'));
    push @o, 'a new session on /b: ' . st(mint_req(path => '/b/mint'));

    # the garbage goes: the next blocks' nginx read the whole store first
    redis_cmd($redis, 'DEL', $key);

    return @o;
}

# a record Redis lost (DEL, as after a restart without persistence): the
# refresh finds none there, and writes the zone's copy, rotated, as a new
# record (version 1, the script's SET NX)

sub flow_lost {
    my @o = (ready('main', qw(a b)));

    my $m = mint_ok(path => '/a/mint');
    my $key = record_key('shared', $m->{session_id});
    push @o, 'its record deleted on Redis: ' . redis_cmd($redis, 'DEL', $key);

    my ($res, @lines) = refresh_counted($m->{renew_token});
    push @o, @lines;
    push @o, 'its version on Redis: '
        . substr(redis_cmd($redis, 'GET', $key) // '', 0, 8);
    push @o, 'successor at /b/app: '
        . at_after(js($res)->{token}, '/b/app', '200');
    push @o, 'the same renew token on /b: '
        . st(refresh($m->{renew_token}, path => '/b/refresh'));

    return @o;
}

# a token at PATH sent now, its answer read once DURING has run (the
# request may be waiting for the feed meanwhile): "STATUS[ CODE]"

sub at_while {
    my ($token, $path, $during) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                  PeerPort => Test::Nginx::Util::server_port(),
                                  Timeout => 10)
        or return "connect: $!";
    print $s "GET $path HTTP/1.0\r\nHost: localhost\r\n"
        . "X-Session-Token: $token\r\nOrigin: $ORIGIN\r\n\r\n";
    $during->();
    my $res = do { local $/; <$s> } // '';
    my ($status) = $res =~ m{\AHTTP/1\.[01] (\d+)};
    my ($code) = $res =~ /"code":"([^"]+)"/;
    return ($status // 'none') . (($status // 0) >= 400 && $code ? " $code" : '');
}

# another node's refresh in the same second as the generation B knows
# (iat is in seconds), on its way through the feed: the record's next
# version (a new gen, the old one its prev, the same iat) is written on
# Redis by hand and added to the stream 30 ms after the token was sent to
# B, which waits for the feed and lets it through.  The generation known
# replaced is refused at once; one of the same second that no node issued
# is refused once the wait is over (100 ms).

sub flow_same_second {
    my @o = (ready('main', qw(a b)));

    my $m = mint_ok(path => '/a/mint');
    my $sid = $m->{session_id} // '';
    my (undef, $c) = jose($m->{token});
    my $iat = $c->{iat} // 0;
    my $old = tok(sid => $sid, jti => new_uuid(), iat => $iat - 5,
                  exp => $iat + 60);
    push @o, 'B has the mint (once the feed has it): '
        . at_after($old, '/b/app', '401 SESSION_REVOKED');

    # the value: version (8 hex digits), "ESR1", then the record: id, gen
    # and prev (16 bytes each), ... (docs/redis.md, store.h)
    my $key = record_key('shared', $sid);
    my $v = redis_cmd($redis, 'GET', $key) // '';
    my $jti = new_uuid();
    (my $hex = $jti) =~ s/-//g;
    my $next = sprintf('%08x', hex(substr($v, 0, 8)) + 1) . 'ESR1'
        . substr($v, 12, 16) . pack('H*', $hex) . substr($v, 28, 16)
        . substr($v, 60);
    my $seq = unpack('V', substr($next, 12 + 48 + 8 + 48, 4));
    substr($next, 12 + 48 + 8 + 48, 4) = pack('V', $seq + 1);
    my $token = tok(sid => $sid, jti => $jti, iat => $iat, exp => $iat + 60);

    push @o, 'the next generation, same iat, at /b/app while the feed '
        . 'brings it: ' . at_while($token, '/b/app', sub {
            Time::HiRes::sleep(0.03);
            redis_cmd($redis, 'SET', $key, $next, 'KEEPTTL');
            redis_cmd($redis, 'XADD', '{es:shared}:feed', '*', 'r', $next);
        });
    push @o, 'the same at /a/app: ' . at_after($token, '/a/app', '200');
    push @o, 'the first generation at /b/app: ' . at($m->{token}, '/b/app');
    push @o, 'a generation of the same second no node issued, at /b/app: '
        . at(tok(sid => $sid, jti => new_uuid(), iat => $iat,
                 exp => $iat + 60), '/b/app');

    return @o;
}

run_tests();

Test::More::done_testing();

__DATA__

=== TEST 1: across nodes: minted on A, refreshed on B with its renew token; the successor works on both, the old token refused on both
--- request
GET /status
--- response_body_filters eval
::flow(\&::flow_refresh_across)
--- response_body
redis main up, zones synced (a b): yes
mint on /a: 201
its record on Redis, {es:shared}:r:<32 hex>: yes
the feed on Redis, {es:shared}:feed: stream
its renew token on /b/refresh: 200
the successor: a new jti, the same sid: yes
successor at /b/app: 200
successor at /a/app (newer than A knows): 200
old token at /b/app: 401 SESSION_REVOKED
old token at /a/app (once the feed has it): 401 SESSION_REVOKED
successor at /a/app, after the feed: 200
the successor's renew token on /a/refresh: 200
its successor at /b/app: 200
--- error_log
embed_session refresh: session
--- no_error_log
[error]



=== TEST 2: single use across nodes (grace=0): refreshed on A, the same renew token on B is 401 RENEW_TOKEN_REUSED, and the session is refused on both
--- request
GET /status
--- response_body_filters eval
::flow(\&::flow_single_use)
--- response_body
redis main up, zones synced (a b): yes
refresh on /a: 200
the same renew token on /b: 401 RENEW_TOKEN_REUSED
body: {"error":"The renew token was already used; the session has been revoked","code":"RENEW_TOKEN_REUSED"}
successor at /b/app: 401 SESSION_REVOKED
successor at /a/app (once the feed has it): 401 SESSION_REVOKED
successor's renew token on /a/refresh: 401 SESSION_REVOKED
successor's renew token on /b/refresh: 401 SESSION_REVOKED
--- error_log
was presented again: the session is revoked
--- no_error_log
[error]



=== TEST 3: the grace window across nodes: the same renew token on A then on B within grace=10s: both 200, one successor (the same jti)
--- request
GET /status
--- response_body_filters eval
::flow(\&::flow_grace)
--- response_body
redis main up, zones synced (a b): yes
refresh on /a: 200
the same renew token on /b, within the grace: 200
the same successor jti: yes
the same successor renew token jti: yes
the same sid: yes
the same token and renew token, byte for byte: yes
successor (from /a) at /a/app: 200
successor (from /b) at /b/app: 200
successor (from /b) at /a/app: 200
old token at /b/app: 401 SESSION_REVOKED
the successor's renew token on /b: 200
a third generation: yes
--- error_log
again, within the grace window
--- no_error_log
[error]



=== TEST 4: a revocation on A reaches B through the feed: the token refused at /b/app, its renew token on /b
--- request
GET /status
--- response_body_filters eval
::flow(\&::flow_revoke)
--- response_body
redis main up, zones synced (a b): yes
mint on /a, scripts run: +1
token at /b/app: 200
revoke on /a: 200 {"session_id":"<A>","revoked":true}
revoke on /a (its copy current), scripts run: +1, decided again: +0
token at /a/app: 401 SESSION_REVOKED
token at /b/app (once the feed has it): 401 SESSION_REVOKED
renew token on /b/refresh: 401 SESSION_REVOKED
--- error_log
revoked by API key "acme"
--- no_error_log
[error]



=== TEST 5: a generation no node issued (signed with the server's key): accepted when issued after the generation the node knows (another node's refresh not fed yet), refused when issued at the same time or before
--- request
GET /status
--- response_body_filters eval
::flow(\&::flow_unknown_generation)
--- response_body
redis main up, zones synced (a b): yes
B has the mint (once the feed has it): 401 SESSION_REVOKED
iat 5 s before the known generation, at /a/app: 401 SESSION_REVOKED
iat of the known generation, at /a/app: 401 SESSION_REVOKED
iat 1 s after the known generation, at /a/app: 200
iat 5 s before the known generation, at /b/app: 401 SESSION_REVOKED
iat of the known generation, at /b/app: 401 SESSION_REVOKED
iat 1 s after the known generation, at /b/app: 200
a refresh on /b: 200
the token 1 s after the first generation, at /b/app: 401 SESSION_REVOKED
the token 1 s after the first generation, at /a/app (once the feed has the refresh): 401 SESSION_REVOKED
--- error_log
session replaced by a refresh
--- no_error_log
[error]



=== TEST 6: a node's copy out of date (the version raised on Redis): the refresh is decided again on Redis's record, two scripts
--- request
GET /status
--- response_body_filters eval
::flow(\&::flow_out_of_date)
--- response_body
redis main up, zones synced (a b): yes
its record on Redis: yes
its version raised on Redis: OK
refresh on /a: 200
scripts run: +2, decided again: +1
the version on Redis after it: +2
successor at /b/app: 200
old token at /a/app: 401 SESSION_REVOKED
--- error_log
embed_session refresh: session
--- no_error_log
[error]



=== TEST 7: a one-time ticket across nodes: generated on A, exchanged on B (200), exchanged again on A: 409 EXCHANGE_USED
--- request
GET /status
--- response_body_filters eval
::flow(\&::flow_exchange)
--- response_body
redis main up, zones synced (a b): yes
generate on /a: 200
exchange on /b: 200
session_id = the ticket: yes
token at /b/app: 200
token at /a/app: 200
exchange again on /a: 409 EXCHANGE_USED
body: {"error":"The embed session has already been exchanged","code":"EXCHANGE_USED"}
exchange again on /b: 409 EXCHANGE_USED
--- error_log eval
[qr/embed_session exchange: session [0-9a-f-]{36} exchanged/,
 qr/embed_session exchange: session [0-9a-f-]{36} was exchanged before/]
--- no_error_log
[error]



=== TEST 8: one renew token presented 20 times at once, 10 on each node: with grace=10s all 200 with one successor; with grace=0 one 200, the others refused and the session revoked on both
--- request
GET /status
--- response_body_filters eval
::flow(\&::flow_race)
--- response_body
redis main up, zones synced (a b): yes
grace=10s, 20 at once: 200: 20
successors: 1
grace=0, 20 at once, 200: 1
the others refused (401 RENEW_TOKEN_REUSED or SESSION_REVOKED): 19
the winner's token at /a/app: 401 SESSION_REVOKED
the winner's token at /b/app: 401 SESSION_REVOKED
--- error_log
was presented again: the session is revoked
--- no_error_log
[error]



=== TEST 9: Redis unreachable: mint, refresh, revoke, generate, exchange answer 503 STORE_UNAVAILABLE with Retry-After: 1; verification too (the store never read: the copy is not trusted); another zone's server unharmed
--- http_config eval
::http_conf(qw(a down))
--- config eval
::server_conf(qw(a down)) . $::DOWN_NESTED
--- request
GET /status
--- response_body_filters eval
::flow(\&::flow_unreachable)
--- response_body
redis main up, zones synced (a): yes
mint on /down: 503 STORE_UNAVAILABLE, Retry-After: 1
refresh on /down: 503 STORE_UNAVAILABLE, Retry-After: 1
revoke on /down: 503 STORE_UNAVAILABLE, Retry-After: 1
generate on /down: 503 STORE_UNAVAILABLE, Retry-After: 1
exchange on /down: 503 STORE_UNAVAILABLE, Retry-After: 1
a token at /down/app, the store never read: 503 STORE_UNAVAILABLE, Retry-After: 1
body: {"error":"Session storage cannot be reached, retry later","code":"STORE_UNAVAILABLE"}
body, nested: {"error":{"code":"STORE_UNAVAILABLE","message":"Session storage cannot be reached, retry later"}}
verify body, nested: {"error":{"code":"STORE_UNAVAILABLE","message":"Session storage cannot be reached, retry later"}}
meanwhile, mint on /a (another server): 201
--- error_log eval
[qr/connect\(\) failed \(111: Connection refused\), embed_session_redis "gone"/,
 qr/\[error\].*embed_session store "down": backend "gone" is not connected/,
 qr/\[error\].*embed_session: store "down": its copy of backend "gone" is older than stale=/]
--- no_error_log
[alert]



=== TEST 10: Redis paused (SIGSTOP) during a refresh: 503 STORE_UNAVAILABLE after timeout=, nothing changed; after SIGCONT the same renew token refreshes, once
--- http_config eval
::http_conf(qw(p))
--- config eval
::server_conf(qw(p))
--- request
GET /status
--- response_body_filters eval
::flow(\&::flow_paused)
--- response_body
redis slow up, zones synced (p): yes
mint on /p, its record on Redis: yes
refresh while Redis is paused: 503 STORE_UNAVAILABLE, Retry-After: 1
token at /p/app: 200
the refresh's script ran on Redis after SIGCONT: yes
its record on Redis unchanged: yes
the same renew token after SIGCONT: 200
successor at /p/app: 200
the same renew token once more (grace=0): 401 RENEW_TOKEN_REUSED
--- error_log eval
[qr/no reply within 300ms, embed_session_redis "slow"/,
 qr/\[error\].*embed_session store "p": backend "slow" did not answer in time/]
--- no_error_log
[alert]



=== TEST 11: stale=: a zone that had read its store loses Redis (SIGSTOP): its tokens get 503 STORE_UNAVAILABLE once the feed is older than stale=1s, and pass again once Redis is back
--- http_config eval
::http_conf(qw(q))
--- config eval
::server_conf(qw(q))
--- request
GET /status
--- response_body_filters eval
::flow(\&::flow_stale)
--- response_body
redis slow up, zones synced (q): yes
token at /q/app: 200
Redis paused, token at /q/app once the feed is older than stale=1s: 503 STORE_UNAVAILABLE, Retry-After: 1
Redis back, token at /q/app: 200
--- error_log eval
qr/\[error\].*embed_session: store "q": its copy of backend "slow" is older than stale=/
--- no_error_log
[alert]



=== TEST 12: a damaged record on Redis: that session's refresh is 503 STORE_UNAVAILABLE on both nodes, the zone named in the log; other sessions keep working
--- request
GET /status
--- response_body_filters eval
::flow(\&::flow_damaged)
--- response_body
redis main up, zones synced (a b): yes
its record on Redis: yes
SET it to garbage: OK
its refresh on /a: 503 STORE_UNAVAILABLE, Retry-After: 1
its refresh on /b: 503 STORE_UNAVAILABLE, Retry-After: 1
another session's refresh on /a: 200
its successor at /b/app: 200
its successor's refresh on /b: 200
a new session on /b: 201
--- error_log eval
[qr/\[error\].*embed_session store "a": backend "main" holds a damaged record/,
 qr/\[error\].*embed_session store "b": backend "main" holds a damaged record/]
--- no_error_log
[alert]



=== TEST 13: nginx -t: backend= names no embed_session_redis
--- http_config
    embed_session_redis       main server=127.0.0.1:$TEST_NGINX_REDIS_PORT;
    embed_session_store_zone  zone=a:1m backend=nowhere;
--- config
    location = /t {
        return 200;
    }
--- request
GET /t
--- must_die
--- error_log eval
qr/\[emerg\] .*embed_session_store_zone "a": "backend=nowhere" names no embed_session_redis in \S+nginx\.conf:\d+/



=== TEST 14: nginx -t: stale= not a time
--- http_config
    embed_session_redis       main server=127.0.0.1:$TEST_NGINX_REDIS_PORT;
    embed_session_store_zone  zone=a:1m backend=main stale=soon;
--- config
    location = /t {
        return 200;
    }
--- request
GET /t
--- must_die
--- error_log
invalid "stale=soon": from 100ms to 1h



=== TEST 15: nginx -t: stale= out of range (100ms to 1h)
--- http_config
    embed_session_redis       main server=127.0.0.1:$TEST_NGINX_REDIS_PORT;
    embed_session_store_zone  zone=a:1m backend=main stale=50ms;
--- config
    location = /t {
        return 200;
    }
--- request
GET /t
--- must_die
--- error_log
invalid "stale=50ms": from 100ms to 1h



=== TEST 16: nginx -t: backend_key= without backend=
--- http_config
    embed_session_store_zone  zone=a:1m backend_key=shared;
--- config
    location = /t {
        return 200;
    }
--- request
GET /t
--- must_die
--- error_log
"backend_key=" without "backend="



=== TEST 17: nginx -t: backend_key= with a character the key's hash tag cannot hold
--- http_config
    embed_session_redis       main server=127.0.0.1:$TEST_NGINX_REDIS_PORT;
    embed_session_store_zone  zone=a:1m backend=main backend_key=sh}ared;
--- config
    location = /t {
        return 200;
    }
--- request
GET /t
--- must_die
--- error_log
invalid "backend_key=sh}ared": 1 to 64 letters, digits, "_", "-" or "."



=== TEST 18: backend= may name an embed_session_redis declared after the zone
--- http_config
    embed_session_store_zone  zone=a:1m backend=later;
    embed_session_redis       later server=127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location = /t {
        return 200 "ok\n";
    }
--- request
GET /t
--- response_body
ok
--- no_error_log
[error]
[emerg]



=== TEST 19: a record Redis lost (DEL): the refresh on A writes the zone's copy again and rotates it (version 1: it starts again), two scripts; the successor works on B, the spent renew token is refused there
--- request
GET /status
--- response_body_filters eval
::flow(\&::flow_lost)
--- response_body
redis main up, zones synced (a b): yes
its record deleted on Redis: 1
refresh on /a: 200
scripts run: +2, decided again: +1
its version on Redis: 00000001
successor at /b/app: 200
the same renew token on /b: 401 RENEW_TOKEN_REUSED
--- error_log
embed_session refresh: session
--- no_error_log
[error]



=== TEST 20: another node's refresh in the same second as the generation B knows: B waits for the feed and lets the new token through; the replaced generation is refused at once, an unknown one of the same second after the wait
--- request
GET /status
--- response_body_filters eval
::flow(\&::flow_same_second)
--- response_body
redis main up, zones synced (a b): yes
B has the mint (once the feed has it): 401 SESSION_REVOKED
the next generation, same iat, at /b/app while the feed brings it: 200
the same at /a/app: 200
the first generation at /b/app: 401 SESSION_REVOKED
a generation of the same second no node issued, at /b/app: 401 SESSION_REVOKED
--- error_log
session replaced by a refresh (the feed waited for)
--- no_error_log
[error]
