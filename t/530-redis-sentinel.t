# vim:set ft= ts=4 sw=4 et fdm=marker:

# embed_session_redis sentinel=IP:PORT master=NAME: the master found
# through Redis Sentinel and followed through a failover, with a session
# store on it (backend=).  A real master, its replica (--replicaof) and one
# redis-sentinel run on free ports (t/lib/EmbedSessionSentinel.pm).
#
#   up on the master     the sentinel names the master (logged), the
#                        connection is up (embed_session_redis_up), a mint
#                        and a refresh of its renew token work
#   failover             the master killed (kill -9) in the middle of the
#                        block: a mint gets 503 STORE_UNAVAILABLE while no
#                        master answers, then 201 again once the sentinel
#                        has promoted the replica (polled, 15 s at most);
#                        the log names the replica's port as the master,
#                        and a refresh works on it
#   read-only master     the master turned replica (REPLICAOF) under
#                        nginx: the write refused with READONLY gets 503
#                        and makes the connection ask the sentinel again,
#                        ROLE refuses the replica it names, and once it is
#                        a master again (REPLICAOF NO ONE) a mint works
#   two sentinels        the first sentinel= does not answer: the next one
#                        is asked
#   unknown master       master=nope, which the sentinel does not know:
#                        logged, never up, a mint gets 503
#                        STORE_UNAVAILABLE
#   sentinel password    a sentinel with requirepass (another master,
#                        watched as "g"): sentinel_password_file= (and
#                        sentinel_user=default) is sent with AUTH and the
#                        master found; a wrong one or none is refused by
#                        the sentinel, logged, never up
#   nginx -t             sentinel= without master=, master= without
#                        sentinel=, server= with sentinel=,
#                        sentinel_password_file= without sentinel=,
#                        sentinel_user= without sentinel_password_file=
#
# The blocks run in order: the failover block leaves the replica as the
# master.

use FindBin;
use lib "$FindBin::Bin/lib";
use EmbedSessionTest;
use EmbedSessionMint;
use EmbedSessionRedis;
use EmbedSessionSentinel;

use JSON::PP ();
use Time::HiRes ();

# servers killed and promoted: once each, in order
repeat_each(1);
no_shuffle();

my $s = sentinel_start();

$ENV{TEST_NGINX_SENTINEL_PORT} = $s->{sentinel};
$ENV{TEST_NGINX_MASTER_PORT} = $s->{master};
$ENV{TEST_NGINX_REPLICA_PORT} = $s->{replica};
$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();
$ENV{TEST_NGINX_SENTINEL_ABSENT} = free_port();

# a sentinel that wants a password, and its own master
my $g = guarded_sentinel_start('s3ntinel-pw');
$ENV{TEST_NGINX_GUARDED_PORT} = $g->{sentinel};
$ENV{TEST_NGINX_GUARDED_MASTER_PORT} = $g->{master};

# the guarded sentinel's configuration, with or without a password file
sub guarded_http {
    my ($params) = @_;
    return $::HTTP =~ s/sentinel=\S+\s+master=m/sentinel=127.0.0.1:\$TEST_NGINX_GUARDED_PORT master=g $params/r;
}

our $KEY = new_key('st_');
our $KEYS = "# sentinel tests\nacme key=" . stored($KEY)
    . " scope=customer tenant=acme\n";

our $HTTP = <<'_EOC_';
    embed_session_redis main sentinel=127.0.0.1:$TEST_NGINX_SENTINEL_PORT
                             master=m timeout=500ms;

    embed_session_api_keys    zone=keys:1m
                              file=$TEST_NGINX_HTML_DIR/sentinel.keys;
    embed_session_store_zone  zone=sessions:1m backend=main;
_EOC_

our $OUTPUTS = <<'_EOC_';
        embed_session_mint_output  token        token;
        embed_session_mint_output  renew_token  renew_token;
        embed_session_mint_output  session_id   session_id;
_EOC_

our $SERVER = <<"_EOC_";
    embed_session_keys      \$TEST_NGINX_ES_DATA/keys/hs256.jwks;
    embed_session_issuer    https://sentinel.example;
    embed_session_audience  sentinel-embed;
    embed_session_store     sessions;

    location = /mint {
        embed_session_api_key  keys;
        embed_session_mint     on;
        embed_session_field  user            string   required claim=sub;
        embed_session_field  allowedOrigins  origins  required;
        embed_session_mint_ttl  60 max=300;
$OUTPUTS
    }

    location = /refresh {
        embed_session_api_key  keys;
        embed_session_refresh  renew  body=renew_token;
        embed_session_mint_ttl  60 max=300;
        embed_session_origin_absent  allow;
$OUTPUTS
    }

    location = /hello {
        return 200 "hello\\n";
    }

    location = /status {
        embed_session_status;
    }
_EOC_

add_block_preprocessor(sub {
    my $block = shift;

    $block->set_value('http_config', $HTTP)
        unless defined $block->http_config;
    $block->set_value('config', $SERVER) unless defined $block->config;
    $block->set_value('user_files', [['sentinel.keys', $KEYS]])
        unless defined $block->user_files;
    $block->set_value('request', "GET /hello\n")
        unless defined $block->request;
});

# --- requests ----------------------------------------------------------------

my $MINT_BODY = '{"user":"u-1","allowedOrigins":["https://app.example.com"]}';

sub post {
    my ($path, $body) = @_;
    return http('POST', $path, { Authorization => "Bearer $KEY",
                                 'Content-Type' => 'application/json' },
                $body);
}

# "STATUS[ CODE]", and the decoded answer

sub st {
    my ($res) = @_;
    my $code = ref $res->{json} eq 'HASH' ? $res->{json}{code} : undef;
    return $res->{status} . (defined $code ? " $code" : '');
}

sub mint {
    my $res = post('/mint', $MINT_BODY);
    return ($res, ref $res->{json} eq 'HASH' ? $res->{json} : {});
}

sub refresh {
    my ($renew) = @_;
    return post('/refresh', JSON::PP->new->encode(
                    { renew_token => $renew // '' }));
}

# a mint, then a refresh of its renew token

sub mint_and_refresh {
    my ($what) = @_;
    my ($res, $m) = mint();
    my $r = refresh($m->{renew_token});
    return "$what: mint " . st($res) . ', refresh ' . st($r)
        . (ref $r->{json} eq 'HASH' && defined $r->{json}{token}
           && defined $m->{token} && $r->{json}{token} ne $m->{token}
           ? ', a new token' : ', no new token');
}

sub flow {
    my ($code) = @_;

    return sub {
        my @o = eval { $code->() };
        push @o, "died: $@" if $@;
        return join '', map { "$_\n" } @o;
    };
}

sub flow_up {
    my $m = wait_metric('up', 'main', 1);
    return ('up: ' . sample($m, 'up', 'main'),
            mint_and_refresh('on the master'));
}

sub flow_failover {
    my @o;

    my $m = wait_metric('up', 'main', 1);
    push @o, 'up: ' . sample($m, 'up', 'main'),
        mint_and_refresh('before');

    push @o, 'master killed: ' . (kill_master($s) ? 'yes' : 'no');

    my ($res) = mint();
    push @o, 'a mint at once: ' . st($res) . ', Retry-After '
        . ($res->{headers}{'retry-after'} // '-');

    # the sentinel sees the master down after 500 ms, then promotes the
    # replica; the connection follows it

    my $t0 = time;
    do {
        Time::HiRes::sleep(0.2);
        ($res) = mint();
    } until $res->{status} == 201 || time - $t0 > 15;

    push @o, 'a mint within 15 s: ' . st($res);

    $m = wait_metric('up', 'main', 1);
    push @o, 'up: ' . sample($m, 'up', 'main'),
        mint_and_refresh('after'),
        'the sentinel names the replica: '
        . (join(':', @{ redis_cmd($s->{sentinel}, 'SENTINEL',
                                  'get-master-addr-by-name', 'm') // [] })
           eq "127.0.0.1:$s->{replica}" ? 'yes' : 'no');

    return @o;
}

# the master the sentinel names turned into a replica (of a port nobody
# listens on) while nginx is connected to it, then back

sub flow_readonly {
    my @o;

    my $m = wait_metric('up', 'main', 1);
    push @o, 'up: ' . sample($m, 'up', 'main'),
        mint_and_refresh('before');

    my $addr = redis_cmd($s->{sentinel}, 'SENTINEL',
                         'get-master-addr-by-name', 'm');
    my $port = ref $addr eq 'ARRAY' ? $addr->[1] : 0;

    push @o, 'the master turned replica: '
        . (redis_cmd($port, 'REPLICAOF', '127.0.0.1', free_port()) // '-');

    my ($res) = mint();
    push @o, 'a mint: ' . st($res);

    $m = wait_metric('connect_failures_total', 'main', 2);
    push @o, 'while it is a replica: up ' . sample($m, 'up', 'main');

    push @o, 'the replica turned master: '
        . (redis_cmd($port, 'REPLICAOF', 'NO', 'ONE') // '-');

    my $t0 = time;
    do {
        Time::HiRes::sleep(0.2);
        ($res) = mint();
    } until $res->{status} == 201 || time - $t0 > 15;

    push @o, 'a mint within 15 s: ' . st($res);

    return @o;
}

# up through a sentinel (the second one asked, the one with a password):
# a mint and a refresh work

sub flow_up_through {
    my ($what) = @_;

    return sub {
        my $m = wait_metric('up', 'main', 1);
        return ('up: ' . sample($m, 'up', 'main'), mint_and_refresh($what));
    };
}

sub flow_nope {
    my $m = wait_metric('connect_failures_total', 'main', 1);
    my ($res) = mint();
    return ('connect failures >= 1: '
            . (sample($m, 'connect_failures_total', 'main') >= 1
               ? 'yes' : 'no'),
            'up: ' . sample($m, 'up', 'main'),
            'mint: ' . st($res) . ', Retry-After '
            . ($res->{headers}{'retry-after'} // '-'));
}

# the guarded sentinel, without its password: never up

sub flow_guarded_refused {
    my $m = wait_metric('connect_failures_total', 'main', 1);
    my ($res) = mint();
    return ('up: ' . sample($m, 'up', 'main'),
            'mint: ' . st($res));
}

run_tests();

Test::More::done_testing();

__DATA__

=== TEST 1: up on the master the sentinel names: logged, embed_session_redis_up 1, a mint and a refresh work
--- response_body_filters eval
::flow(\&::flow_up)
--- response_body
up: 1
on the master: mint 201, refresh 200, a new token
--- error_log eval
qr/the sentinels name 127\.0\.0\.1:$ENV{TEST_NGINX_MASTER_PORT} as the master "m"/
--- no_error_log
[error]
[alert]



=== TEST 2: failover: the master killed, 503 while no master answers, then the promoted replica: mint and refresh work, the log names it
--- response_body_filters eval
::flow(\&::flow_failover)
--- response_body
up: 1
before: mint 201, refresh 200, a new token
master killed: yes
a mint at once: 503 STORE_UNAVAILABLE, Retry-After 1
a mint within 15 s: 201
up: 1
after: mint 201, refresh 200, a new token
the sentinel names the replica: yes
--- error_log eval
qr/the sentinels name 127\.0\.0\.1:$ENV{TEST_NGINX_REPLICA_PORT} as the master "m"/
--- no_error_log
[alert]
[crit]



=== TEST 3: the master turns replica under nginx: a write refused with READONLY makes the connection ask the sentinel again, ROLE refuses the replica, and the master is followed back
--- response_body_filters eval
::flow(\&::flow_readonly)
--- response_body
up: 1
before: mint 201, refresh 200, a new token
the master turned replica: OK
a mint: 503 STORE_UNAVAILABLE
while it is a replica: up 0
the replica turned master: OK
a mint within 15 s: 201
--- error_log
the server is read-only now: connecting again
the server the sentinels named is not a master (yet): asking them again
--- no_error_log
[alert]
[crit]



=== TEST 4: the first sentinel= does not answer: the next one is asked, and names the master
--- http_config eval
$::HTTP =~ s/sentinel=(\S+)/sentinel=127.0.0.1:\$TEST_NGINX_SENTINEL_ABSENT sentinel=$1/r
--- response_body_filters eval
::flow(::flow_up_through('through the second sentinel'))
--- response_body
up: 1
through the second sentinel: mint 201, refresh 200, a new token
--- error_log eval
[qr/connect\(\) failed \(111: Connection refused\), embed_session_redis "main" at 127\.0\.0\.1:$ENV{TEST_NGINX_SENTINEL_ABSENT}/,
 qr/the sentinels name 127\.0\.0\.1:$ENV{TEST_NGINX_REPLICA_PORT} as the master "m"/]
--- no_error_log
[alert]
[crit]



=== TEST 5: a master the sentinel does not know: logged, never up, a mint gets 503 STORE_UNAVAILABLE
--- http_config eval
$::HTTP =~ s/master=m /master=nope /r
--- response_body_filters eval
::flow(\&::flow_nope)
--- response_body
connect failures >= 1: yes
up: 0
mint: 503 STORE_UNAVAILABLE, Retry-After 1
--- error_log
the sentinel knows no master "nope"
--- no_error_log
[alert]



=== TEST 6: nginx -t: sentinel= without master=
--- http_config
    embed_session_redis main sentinel=127.0.0.1:$TEST_NGINX_SENTINEL_PORT;
--- config
--- must_die
--- error_log
"sentinel=" and "master=" go together



=== TEST 7: nginx -t: master= without sentinel=
--- http_config
    embed_session_redis main master=m;
--- config
--- must_die
--- error_log
"sentinel=" and "master=" go together



=== TEST 8: nginx -t: server= with sentinel=
--- http_config
    embed_session_redis main server=127.0.0.1:$TEST_NGINX_MASTER_PORT
                             sentinel=127.0.0.1:$TEST_NGINX_SENTINEL_PORT
                             master=m;
--- config
--- must_die
--- error_log
"server=" with "sentinel=" or "master=": the sentinels name the server



=== TEST 9: a sentinel that asks for a password: sentinel_password_file= and sentinel_user= sent with AUTH, the master found, a mint and a refresh work
--- http_config eval
::guarded_http('sentinel_user=default sentinel_password_file=$TEST_NGINX_HTML_DIR/sentinel.pw')
--- user_files eval
[['sentinel.keys', $::KEYS], ['sentinel.pw', "s3ntinel-pw\n"]]
--- response_body_filters eval
::flow(::flow_up_through('through the guarded sentinel'))
--- response_body
up: 1
through the guarded sentinel: mint 201, refresh 200, a new token
--- error_log eval
qr/the sentinels name 127\.0\.0\.1:$ENV{TEST_NGINX_GUARDED_MASTER_PORT} as the master "g"/
--- no_error_log
[error]
s3ntinel-pw



=== TEST 10: a sentinel that asks for a password, given a wrong one: AUTH refused, logged without the password, never up
--- http_config eval
::guarded_http('sentinel_password_file=$TEST_NGINX_HTML_DIR/sentinel.pw')
--- user_files eval
[['sentinel.keys', $::KEYS], ['sentinel.pw', "wrong-pw\n"]]
--- response_body_filters eval
::flow(\&::flow_guarded_refused)
--- response_body
up: 0
mint: 503 STORE_UNAVAILABLE
--- error_log eval
qr/the server refused AUTH: .*embed_session_redis "main" at 127\.0\.0\.1:$ENV{TEST_NGINX_GUARDED_PORT}/
--- no_error_log
wrong-pw
[alert]



=== TEST 11: a sentinel that asks for a password, given none: the question refused (NOAUTH), logged, never up
--- http_config eval
::guarded_http('')
--- response_body_filters eval
::flow(\&::flow_guarded_refused)
--- response_body
up: 0
mint: 503 STORE_UNAVAILABLE
--- error_log
NOAUTH
--- no_error_log
[alert]



=== TEST 12: nginx -t: sentinel_password_file= without sentinel=
--- http_config
    embed_session_redis main server=127.0.0.1:$TEST_NGINX_MASTER_PORT
                             sentinel_password_file=sentinel.pw;
--- config
--- must_die
--- error_log
"sentinel_user=" or "sentinel_password_file=" without "sentinel="



=== TEST 13: nginx -t: sentinel_user= without sentinel_password_file=
--- http_config
    embed_session_redis main sentinel=127.0.0.1:$TEST_NGINX_SENTINEL_PORT
                             master=m sentinel_user=app;
--- config
--- must_die
--- error_log
"sentinel_user=" without "sentinel_password_file="
