# vim:set ft= ts=4 sw=4 et fdm=marker:

# embed_session_api_keys backend=NAME nodes=N: a key's rate= counted on
# Redis once for every zone (node) that shares backend_key=, against a real
# redis-server (t/lib/EmbedSessionRedis.pm).  One nginx plays two nodes:
# the zones "a" and "b", each with its own key file holding the same key
# (rate=5/m), both backend=main nodes=2 backend_key=shared.
#
#   one budget           requests alternating between /a/api and /b/api
#                        (access phase, in front of proxy_pass): exactly
#                        the rate let in, then 429 RATE_LIMITED with
#                        Retry-After; X-RateLimit-Remaining goes down across
#                        both zones, X-RateLimit-Reset is the same on every
#                        answer (the end of Redis's minute); the counter
#                        {es:shared}:rl:ID holds the count
#   mint                 a mint (content handler) counts in the same budget
#   no rate=             a key without rate= is never limited, has no
#                        X-RateLimit headers and no counter on Redis
#   waiting              pipelined keep-alive requests, each waiting for
#                        its count, answered in order; a POST body proxied
#                        once the access phase has waited
#   unreachable          nobody listens on the backend's port: each zone
#                        lets in its share, ceil(rate/nodes) (3 of 5 with
#                        nodes=2, 2 of 5 with nodes=3), then 429, and
#                        X-RateLimit-Limit says the share
#   timeout              a backend paused (SIGSTOP) while up: the count
#                        waits timeout=, then the share is counted; every
#                        request is answered; resumed (SIGCONT), the key is
#                        counted on Redis again, against the whole rate
#   wrong type           a counter Redis refuses to count (WRONGTYPE): an
#                        error logged, the share counted, the connection
#                        kept
#   key management       regenerate and revoke count against the share
#                        (the same count for both), never on Redis; the
#                        new key is counted on Redis in between
#   nginx -t             backend= without nodes=, nodes= without backend=,
#                        backend= naming no embed_session_redis (the zone
#                        named), nodes=0
#
# The windows are minutes of the clock (Redis's, on this machine): a flow
# that would start in the last seconds of a minute waits for the next one,
# so that its requests fall in one window.

use FindBin;
use lib "$FindBin::Bin/lib";
use EmbedSessionTest;
use EmbedSessionMint;
use EmbedSessionRedis;
use EmbedSessionSentinel qw(redis_cmd);

use IO::Socket::INET ();
use Time::HiRes ();

# the rate windows and a paused server: once each, in order
repeat_each(1);
no_shuffle();

my $redis = redis_start();
my $paused = redis_start();

$ENV{TEST_NGINX_REDIS_PORT} = $redis->{port};
$ENV{TEST_NGINX_REDIS_PAUSED_PORT} = $paused->{port};
$ENV{TEST_NGINX_REDIS_ABSENT} = free_port();
$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

# keys: k1 with rate=5/m, free without rate=, k50 with rate=50/m; the
# same in every key file

our %KEY = (k1 => new_key('rl_'), free => new_key('rl_'),
            k50 => new_key('rl_'));

our $KEYS = "# rate tests\n"
    . "k1 key=" . stored($KEY{k1}) . " scope=customer rate=5/m\n"
    . "free key=" . stored($KEY{free}) . " scope=customer\n"
    . "k50 key=" . stored($KEY{k50}) . " scope=customer rate=50/m\n";

our $HTTP = <<'_EOC_';
    embed_session_redis main server=127.0.0.1:$TEST_NGINX_REDIS_PORT;

    embed_session_api_keys zone=a:1m file=$TEST_NGINX_HTML_DIR/a.keys
                           backend=main nodes=2 backend_key=shared;
    embed_session_api_keys zone=b:1m file=$TEST_NGINX_HTML_DIR/b.keys
                           backend=main nodes=2 backend_key=shared;
_EOC_

# nobody listens on the port of "gone"

our $HTTP_GONE = <<'_EOC_';
    embed_session_redis gone server=127.0.0.1:$TEST_NGINX_REDIS_ABSENT
                             connect_timeout=200ms timeout=200ms;

    embed_session_api_keys zone=c:1m file=$TEST_NGINX_HTML_DIR/c.keys
                           backend=gone nodes=2;
    embed_session_api_keys zone=d:1m file=$TEST_NGINX_HTML_DIR/d.keys
                           backend=gone nodes=3;
_EOC_

# "paused" stops answering (SIGSTOP) in the middle of the block

our $HTTP_PAUSED = <<'_EOC_';
    embed_session_redis paused server=127.0.0.1:$TEST_NGINX_REDIS_PAUSED_PORT
                               timeout=300ms;

    embed_session_api_keys zone=p:1m file=$TEST_NGINX_HTML_DIR/p.keys
                           backend=paused nodes=2;
_EOC_

sub api_location {
    my ($zone) = @_;

    return <<"_EOC_";
    location = /$zone/api {
        embed_session_api_key  $zone;
        proxy_set_header  X-Key-Id  \$embed_session_api_key_id;
        proxy_pass  http://127.0.0.1:\$TEST_NGINX_SERVER_PORT/backend;
    }
_EOC_
}

sub mint_location {
    my ($zone) = @_;

    return <<"_EOC_";
    location = /$zone/mint {
        embed_session_api_key  $zone;
        embed_session_mint     on;
        embed_session_field  user            string   required claim=sub;
        embed_session_field  allowedOrigins  origins  required;
        embed_session_mint_ttl     60 max=300;
        embed_session_mint_output  token       token;
        embed_session_mint_output  expires_in  expires_in;
    }
_EOC_
}

our $SERVER = <<'_EOC_'
    embed_session_keys      $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    embed_session_issuer    https://rate.example;
    embed_session_audience  rate-embed;

    location = /backend {
        return 200 "ok $http_x_key_id\n";
    }

    location = /hello {
        return 200 "hello\n";
    }

    location = /status {
        embed_session_status;
    }

    location = /a/regenerate {
        embed_session_api_key             a;
        embed_session_api_key_regenerate  on;
    }

    location = /a/revoke {
        embed_session_api_key         a;
        embed_session_api_key_revoke  on;
    }

    # a POST body proxied once the access phase has waited for the count
    location = /a/proxied {
        embed_session_api_key  a;
        proxy_pass  http://127.0.0.1:$TEST_NGINX_SERVER_PORT/b/mint;
    }
_EOC_
    . join '', map { api_location($_), mint_location($_) } qw(a b);

our $SERVER_GONE = $SERVER . api_location('c') . api_location('d');
our $SERVER_PAUSED = $SERVER . api_location('p');

add_block_preprocessor(sub {
    my $block = shift;

    $block->set_value('http_config', $HTTP)
        unless defined $block->http_config;
    $block->set_value('config', $SERVER) unless defined $block->config;
    $block->set_value('user_files',
                      [map { ["$_.keys", $KEYS] } qw(a b c d p)])
        unless defined $block->user_files;
    $block->set_value('request', "GET /hello\n")
        unless defined $block->request;
});

# --- requests ----------------------------------------------------------------

my $MINT_BODY = '{"user":"u-1","allowedOrigins":["https://app.example.com"]}';

# the last answers' X-RateLimit-Reset and Retry-After

our (@RESET, @RETRY);

# one request with a key: "PATH STATUS[ CODE], limit L, remaining R" (or
# "no rate headers"); a 429 says whether Retry-After came

sub call {
    my ($path, $key) = @_;

    my $res = $path =~ m{/api\z}
        ? http('GET', $path, { Authorization => "Bearer $KEY{$key}" })
        : http('POST', $path, { Authorization => "Bearer $KEY{$key}",
                                'Content-Type' => 'application/json' },
               $path =~ m{/mint\z} ? $MINT_BODY : '');

    my $h = $res->{headers};
    my $line = "$path $res->{status}";

    if (ref $res->{json} eq 'HASH' && defined $res->{json}{code}) {
        $line .= " $res->{json}{code}";

    } elsif ($res->{status} == 200 && $path =~ m{/api\z}) {
        (my $b = $res->{content} // '') =~ s/\n\z//;
        $line .= " ($b)";
    }

    if (defined $h->{'x-ratelimit-limit'}) {
        $line .= ", limit $h->{'x-ratelimit-limit'}, remaining "
            . ($h->{'x-ratelimit-remaining'} // '-');
        push @RESET, $h->{'x-ratelimit-reset'} // '-';

    } elsif (!grep { /^x-ratelimit/ } keys %$h) {
        $line .= ', no rate headers';
    }

    if ($res->{status} == 429) {
        my $ra = $h->{'retry-after'};
        push @RETRY, $ra // '-';
        $line .= ', Retry-After ' . (defined $ra ? 'yes' : 'no');
    }

    return $line;
}

# the end of the current minute, once there are at least 10 s left in it

sub fresh_window {
    my $left = 60 - Time::HiRes::time() % 60;
    Time::HiRes::sleep($left + 0.2) if $left < 10;
    my $now = time;
    return $now - $now % 60 + 60;
}

sub resets_are {
    my ($end) = @_;
    my %seen = map { $_ => 1 } @RESET;
    return 'X-RateLimit-Reset: '
        . (!@RESET ? 'none'
           : keys %seen == 1 && $RESET[0] eq $end
           ? 'the same on every answer, the end of the minute'
           : "not so (@RESET, the minute ends at $end)");
}

sub retry_after_ok {
    my @bad = grep { $_ !~ /\A\d+\z/ || $_ < 1 || $_ > 60 } @RETRY;
    return 'Retry-After within the minute: '
        . (!@RETRY ? 'none' : @bad ? "no (@RETRY)" : 'yes');
}

# the counter on Redis: "n COUNT" (the window's count), or "none"

sub counter {
    my ($port, $key) = @_;
    my $r = redis_cmd($port, 'HGETALL', $key);
    return 'none' unless ref $r eq 'ARRAY' && @$r;
    my %h = @$r;
    return "n $h{n}";
}

# a flow: Redis emptied, a fresh window, then the block's own steps, one
# line each

sub flow {
    my ($code) = @_;

    return sub {
        @RESET = ();
        @RETRY = ();
        redis_cmd($redis->{port}, 'FLUSHALL');
        my $end = fresh_window();
        my @o = eval { $code->($end) };
        push @o, "died: $@" if $@;
        return join '', map { "$_\n" } @o;
    };
}

sub flow_one_budget {
    my ($end) = @_;
    my @o;

    wait_metric('up', 'main', 1);

    push @o, call($_ % 2 ? '/b/api' : '/a/api', 'k1') for 0 .. 6;
    push @o, resets_are($end), retry_after_ok(),
        '{es:shared}:rl:k1: ' . counter($redis->{port}, '{es:shared}:rl:k1');

    return @o;
}

sub flow_mint {
    my ($end) = @_;
    my @o;

    wait_metric('up', 'main', 1);

    push @o, call($_, 'k1')
        for qw(/a/api /b/mint /a/mint /b/api /b/mint /a/mint /b/api);
    push @o, resets_are($end), retry_after_ok(),
        '{es:shared}:rl:k1: ' . counter($redis->{port}, '{es:shared}:rl:k1');

    return @o;
}

sub flow_free {
    my @o;

    wait_metric('up', 'main', 1);

    my @paths = map { $_ % 2 ? '/b/api' : '/a/api' } 0 .. 9;
    push @paths, qw(/a/mint /b/mint);

    my %seen;
    $seen{ call($_, 'free') =~ s/ \(ok free\)//r }++ for @paths;
    push @o, map { "$_: $seen{$_}" } sort keys %seen;
    push @o, '{es:shared}:rl:free: '
        . counter($redis->{port}, '{es:shared}:rl:free');

    return @o;
}

sub flow_gone {
    my ($end) = @_;
    my @o;

    my $m = wait_metric('connect_failures_total', 'gone', 1);
    push @o, 'gone up: ' . sample($m, 'up', 'gone');

    push @o, call('/c/api', 'k1') for 1 .. 4;
    push @o, call('/d/api', 'k1') for 1 .. 3;
    push @o, resets_are($end), retry_after_ok();

    return @o;
}

sub flow_paused {
    my ($end) = @_;
    my @o;

    my $m = wait_metric('up', 'paused', 1);
    push @o, 'paused up before: ' . sample($m, 'up', 'paused');

    kill 'STOP', $paused->{pid};
    push @o, call('/p/api', 'k1') for 1 .. 4;
    kill 'CONT', $paused->{pid};

    $m = metrics();
    push @o, 'timeouts >= 1: '
        . (sample($m, 'timeouts_total', 'paused') >= 1 ? 'yes' : 'no');
    push @o, resets_are($end), retry_after_ok();

    # back: counted on Redis again, against the whole rate (the count that
    # timed out may have reached Redis once it resumed: 3 or 4 remain)

    $m = wait_metric('up', 'paused', 1);
    push @o, 'paused up after SIGCONT: ' . sample($m, 'up', 'paused');

    my $line = call('/p/api', 'k1');
    $line =~ s/remaining [34]\z/remaining 3 or 4/;
    push @o, $line;

    return @o;
}

# keep-alive requests pipelined on one connection, each waiting for its
# count in the access phase; then a POST whose body is proxied after the
# wait, to a mint that parses it (counted again there)

sub flow_waiting {
    my @o;

    wait_metric('up', 'main', 1);

    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
        PeerPort => Test::Nginx::Util::server_port(), Timeout => 10)
        or die "connect: $!\n";

    my @req = map {
        "GET /$_/api HTTP/1.1\r\nHost: localhost\r\n"
        . "Authorization: Bearer $KEY{k50}\r\n\r\n"
    } qw(a b a b);
    $req[-1] =~ s/\r\n\r\n\z/\r\nConnection: close\r\n\r\n/;

    print $s @req;
    my $all = do { local $/; <$s> } // '';
    close $s;

    push @o, 'pipelined: ' . join(' ', $all =~ m{^HTTP/1\.1 (\d+)}mg)
        . ', remaining ' . join(' ', $all =~ m{^X-RateLimit-Remaining: (\d+)}mg);

    my $res = http('POST', '/a/proxied',
                   { Authorization => "Bearer $KEY{k50}",
                     'Content-Type' => 'application/json' }, $MINT_BODY);
    push @o, "/a/proxied $res->{status}, expires_in "
        . (ref $res->{json} eq 'HASH' ? $res->{json}{expires_in} // '-' : '-');
    push @o, '{es:shared}:rl:k50: '
        . counter($redis->{port}, '{es:shared}:rl:k50');

    return @o;
}

sub flow_wrongtype {
    my @o;

    wait_metric('up', 'main', 1);
    redis_cmd($redis->{port}, 'SET', '{es:shared}:rl:k1', 'not a hash');

    push @o, call($_ % 2 ? '/b/api' : '/a/api', 'k1') for 0 .. 3;

    my $m = metrics();
    push @o, 'main up: ' . sample($m, 'up', 'main') . ', connects '
        . sample($m, 'connects_total', 'main');

    return @o;
}

sub flow_key_management {
    my @o;

    wait_metric('up', 'main', 1);

    my $res = http('POST', '/a/regenerate',
                   { Authorization => "Bearer $KEY{k1}" }, '');
    my $h = $res->{headers};
    push @o, "/a/regenerate $res->{status}, limit "
        . ($h->{'x-ratelimit-limit'} // '-') . ', remaining '
        . ($h->{'x-ratelimit-remaining'} // '-');
    push @o, '{es:shared}:rl:k1 after it: '
        . counter($redis->{port}, '{es:shared}:rl:k1');

    my $new = ref $res->{json} eq 'HASH' ? $res->{json}{apiKey} : undef;
    local $KEY{k1} = $new // 'none';
    push @o, call('/a/api', 'k1');
    push @o, '{es:shared}:rl:k1 after /a/api: '
        . counter($redis->{port}, '{es:shared}:rl:k1');

    $res = http('POST', '/a/revoke', { Authorization => "Bearer $KEY{k1}" },
                '');
    $h = $res->{headers};
    push @o, "/a/revoke $res->{status}, limit "
        . ($h->{'x-ratelimit-limit'} // '-') . ', remaining '
        . ($h->{'x-ratelimit-remaining'} // '-');
    push @o, '{es:shared}:rl:k1 after it: '
        . counter($redis->{port}, '{es:shared}:rl:k1');
    push @o, call('/a/api', 'k1');

    return @o;
}

run_tests();

Test::More::done_testing();

__DATA__

=== TEST 1: one budget for two zones: exactly the rate let in across /a and /b, then 429 with Retry-After; Remaining goes down across both, Reset the same
--- response_body_filters eval
::flow(\&::flow_one_budget)
--- response_body
/a/api 200 (ok k1), limit 5, remaining 4
/b/api 200 (ok k1), limit 5, remaining 3
/a/api 200 (ok k1), limit 5, remaining 2
/b/api 200 (ok k1), limit 5, remaining 1
/a/api 200 (ok k1), limit 5, remaining 0
/b/api 429 RATE_LIMITED, limit 5, remaining 0, Retry-After yes
/a/api 429 RATE_LIMITED, limit 5, remaining 0, Retry-After yes
X-RateLimit-Reset: the same on every answer, the end of the minute
Retry-After within the minute: yes
{es:shared}:rl:k1: n 5
--- no_error_log
[error]
[alert]



=== TEST 2: a mint counts in the same budget as the API, on both zones
--- response_body_filters eval
::flow(\&::flow_mint)
--- response_body
/a/api 200 (ok k1), limit 5, remaining 4
/b/mint 201, limit 5, remaining 3
/a/mint 201, limit 5, remaining 2
/b/api 200 (ok k1), limit 5, remaining 1
/b/mint 201, limit 5, remaining 0
/a/mint 429 RATE_LIMITED, limit 5, remaining 0, Retry-After yes
/b/api 429 RATE_LIMITED, limit 5, remaining 0, Retry-After yes
X-RateLimit-Reset: the same on every answer, the end of the minute
Retry-After within the minute: yes
{es:shared}:rl:k1: n 5
--- no_error_log
[error]
[alert]



=== TEST 3: a key without rate= is never limited, has no X-RateLimit headers and no counter on Redis
--- response_body_filters eval
::flow(\&::flow_free)
--- response_body
/a/api 200, no rate headers: 5
/a/mint 201, no rate headers: 1
/b/api 200, no rate headers: 5
/b/mint 201, no rate headers: 1
{es:shared}:rl:free: none
--- no_error_log
[error]
[alert]



=== TEST 4: waiting for the count loses nothing: pipelined keep-alive requests answered in order, a POST body proxied after the wait
--- response_body_filters eval
::flow(\&::flow_waiting)
--- response_body
pipelined: 200 200 200 200, remaining 49 48 47 46
/a/proxied 201, expires_in 60
{es:shared}:rl:k50: n 6
--- no_error_log
[error]
[alert]



=== TEST 5: Redis unreachable: each zone lets in its share, ceil(rate/nodes), then 429; X-RateLimit-Limit says the share
--- http_config eval
$::HTTP . $::HTTP_GONE
--- config eval
$::SERVER_GONE
--- response_body_filters eval
::flow(\&::flow_gone)
--- response_body
gone up: 0
/c/api 200 (ok k1), limit 3, remaining 2
/c/api 200 (ok k1), limit 3, remaining 1
/c/api 200 (ok k1), limit 3, remaining 0
/c/api 429 RATE_LIMITED, limit 3, remaining 0, Retry-After yes
/d/api 200 (ok k1), limit 2, remaining 1
/d/api 200 (ok k1), limit 2, remaining 0
/d/api 429 RATE_LIMITED, limit 2, remaining 0, Retry-After yes
X-RateLimit-Reset: the same on every answer, the end of the minute
Retry-After within the minute: yes
--- error_log eval
qr/connect\(\) failed \(111: Connection refused\), embed_session_redis "gone"/
--- no_error_log
[alert]



=== TEST 6: Redis paused while up: the count waits timeout=, then the share; every request answered; once it resumes, counted on Redis again
--- http_config eval
$::HTTP . $::HTTP_PAUSED
--- config eval
$::SERVER_PAUSED
--- response_body_filters eval
::flow(\&::flow_paused)
--- response_body
paused up before: 1
/p/api 200 (ok k1), limit 3, remaining 2
/p/api 200 (ok k1), limit 3, remaining 1
/p/api 200 (ok k1), limit 3, remaining 0
/p/api 429 RATE_LIMITED, limit 3, remaining 0, Retry-After yes
timeouts >= 1: yes
X-RateLimit-Reset: the same on every answer, the end of the minute
Retry-After within the minute: yes
paused up after SIGCONT: 1
/p/api 200 (ok k1), limit 5, remaining 3 or 4
--- error_log eval
qr/no reply within 300ms, embed_session_redis "paused"/
--- no_error_log
[alert]



=== TEST 7: a counter Redis refuses to count (WRONGTYPE): logged, the share counted in each zone; the connection stays up
--- response_body_filters eval
::flow(\&::flow_wrongtype)
--- response_body
/a/api 200 (ok k1), limit 3, remaining 2
/b/api 200 (ok k1), limit 3, remaining 2
/a/api 200 (ok k1), limit 3, remaining 1
/b/api 200 (ok k1), limit 3, remaining 1
main up: 1, connects 1
--- error_log
embed_session_api_keys: backend "main" answered the rate's count wrongly: WRONGTYPE
--- no_error_log
[alert]
[crit]



=== TEST 8: regenerate and revoke count against the share, never on Redis; the new key is counted on Redis between them
--- response_body_filters eval
::flow(\&::flow_key_management)
--- response_body
/a/regenerate 200, limit 3, remaining 2
{es:shared}:rl:k1 after it: none
/a/api 200 (ok k1), limit 5, remaining 4
{es:shared}:rl:k1 after /a/api: n 1
/a/revoke 200, limit 3, remaining 1
{es:shared}:rl:k1 after it: n 1
/a/api 401 API_KEY_REVOKED, no rate headers
--- no_error_log
[error]
[alert]



=== TEST 9: nginx -t: backend= without nodes=
--- http_config
    embed_session_redis main server=127.0.0.1:$TEST_NGINX_REDIS_PORT;
    embed_session_api_keys zone=a:1m file=$TEST_NGINX_HTML_DIR/a.keys
                           backend=main;
--- config
--- must_die
--- error_log
"backend=" needs "nodes=N"



=== TEST 10: nginx -t: nodes= without backend=
--- http_config
    embed_session_api_keys zone=a:1m file=$TEST_NGINX_HTML_DIR/a.keys
                           nodes=2;
--- config
--- must_die
--- error_log
"backend_key=" and "nodes=" need "backend="



=== TEST 11: nginx -t: backend= naming no embed_session_redis: the zone named
--- http_config
    embed_session_redis main server=127.0.0.1:$TEST_NGINX_REDIS_PORT;
    embed_session_api_keys zone=a:1m file=$TEST_NGINX_HTML_DIR/a.keys
                           backend=other nodes=2;
--- config
--- must_die
--- error_log
embed_session_api_keys "a": "backend=other" names no embed_session_redis



=== TEST 12: nginx -t: nodes=0
--- http_config
    embed_session_redis main server=127.0.0.1:$TEST_NGINX_REDIS_PORT;
    embed_session_api_keys zone=a:1m file=$TEST_NGINX_HTML_DIR/a.keys
                           backend=main nodes=0;
--- config
--- must_die
--- error_log
invalid "nodes=0": a number of nodes, 1 to 1000
