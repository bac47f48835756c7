# vim:set ft= ts=4 sw=4 et fdm=marker:

# embed_session_redis tls=on: TLS to Redis, against a real redis-server (or
# $ES_REDIS_SERVER, valkey-server) listening with TLS only, its
# certificates made at the start of the file by t/lib/EmbedSessionTls.pm (a
# throwaway CA, a second CA that signed nothing here, the server's
# certificate for DNS:redis.test and IP:127.0.0.1, a client certificate).
# Two servers: one with --tls-auth-clients no, one with yes.  What is
# asserted is the status page's embed_session_redis_* samples and the
# error log.
#
#   up                   tls_trusted_certificate= the CA and
#                        tls_name=redis.test; tls_verify=off without a CA;
#                        a client certificate for tls-auth-clients yes
#   store                a store zone with backend= on the TLS server: a
#                        mint and a refresh, the successor verified and
#                        the old token refused
#   never up             a name the certificate does not hold, a CA that
#                        did not sign it, no TLS to the TLS port (the
#                        worker answers meanwhile), no client certificate
#                        for tls-auth-clients yes: failures counted and
#                        tried again, the reason logged
#   nginx -t             tls_verify=on without tls_trusted_certificate=,
#                        tls_trusted_certificate= without tls_name=,
#                        tls_certificate= without tls_certificate_key=, a
#                        tls_...= parameter without tls=on, tls=maybe, a
#                        CA file that does not exist
#
# Run it as any t/ file (prove -v t/550-redis-tls.t), and with
# ES_REDIS_SERVER=valkey-server for Valkey: a server program built without
# TLS skips the file, saying so.

use FindBin;
use lib "$FindBin::Bin/lib";
use EmbedSessionTest;
use EmbedSessionMint;
use EmbedSessionLifecycle;
use EmbedSessionRedis qw(free_port wait_metric sample);
use EmbedSessionTls;

use HTTP::Tiny ();
use Time::HiRes ();

# servers and waits: once each
repeat_each(1);
no_shuffle();

# a master and two workers: each worker makes its own connection
my $WORKERS = 2;
master_on();
workers($WORKERS);

my $pki = tls_certs();
my $redis = tls_redis_start($pki, auth_clients => 'no');
my $auth_redis = tls_redis_start($pki, auth_clients => 'yes');

$ENV{TEST_NGINX_TLS_DIR} = $pki->{dir};
$ENV{TEST_NGINX_TLS_PORT} = $redis->{port};
$ENV{TEST_NGINX_TLS_AUTH_PORT} = $auth_redis->{port};

# the samples of servers that must come up: "NAME: up U, connect failures F"

sub flow_up {
    my @names = @_;

    return sub {
        my $m;
        $m = wait_metric('up', $_, 1) for @names;
        $m = EmbedSessionRedis::metrics();
        return join '', map {
            "$_: up " . sample($m, 'up', $_) . ', connect failures '
            . sample($m, 'connect_failures_total', $_) . "\n"
        } @names;
    };
}

# servers that must never come up: failures counted and tried again (at
# least 2), and /hello answered meanwhile

sub flow_down {
    my @names = @_;

    return sub {
        wait_metric('connect_failures_total', $_, 2) for @names;
        my $res = HTTP::Tiny->new(timeout => 10)->get(
            'http://127.0.0.1:' . Test::Nginx::Util::server_port()
            . '/hello');
        my $m = EmbedSessionRedis::metrics();

        return join '', map { "$_\n" }
            (map {
                my $f = sample($m, 'connect_failures_total', $_);
                "$_: connect failures >= 2: "
                . ($f ne '-' && $f >= 2 ? 'yes' : "no ($f)")
                . ', up ' . sample($m, 'up', $_)
                . ', connects ' . sample($m, 'connects_total', $_)
            } @names),
            'hello: ' . $res->{status} . ' '
            . (($res->{content} // '') =~ s/\n\z//r);
    };
}

# the store on the TLS server: Redis up, the zone's copy read, then a
# mint, a refresh, the successor verified, the old token refused

sub ready {
    my ($server, $zone) = @_;
    my @want = ("embed_session_redis_up{server=\"$server\"}",
                "embed_session_store_feed_synced{zone=\"$zone\"}");
    my $until = Time::HiRes::time() + 10;
    my @missing;

    for (;;) {
        my $m = metrics();
        @missing = grep { ($m->{$_} // '') ne '1' } @want;
        last if !@missing || Time::HiRes::time() >= $until;
        Time::HiRes::sleep(0.05);
    }

    return "redis $server up, zone $zone synced: "
        . (@missing ? "no (@missing)" : 'yes');
}

sub flow_store {
    my @o = (ready('tls', 'sessions'));

    my $res = mint_req();
    my $m = ref $res->{json} eq 'HASH' ? $res->{json} : {};
    push @o, 'mint: ' . st($res);
    push @o, 'token at /verify: ' . at($m->{token});

    $res = refresh($m->{renew_token});
    my $n = ref $res->{json} eq 'HASH' ? $res->{json} : {};
    push @o, 'refresh: ' . st($res);
    push @o, 'the same session: ' . yn(same($n->{session_id}, $m->{session_id}));
    push @o, 'successor at /verify: ' . at($n->{token});
    push @o, 'old token at /verify: ' . at($m->{token});

    $res = refresh($n->{renew_token});
    push @o, 'the successor\'s renew token: ' . st($res);

    return @o;
}

# the lifecycle's server (t/lib/EmbedSessionLifecycle.pm), its store zone
# on the TLS server

# under valgrind (tools/test's valgrind stage) a TLS handshake takes
# longer than the default connect_timeout=1s

$ENV{TEST_NGINX_TLS_SLOW} = $ENV{TEST_NGINX_USE_VALGRIND}
                            ? 'connect_timeout=20s timeout=10s'
                            : 'connect_timeout=1s';

(my $HTTP_STORE = $HTTP) =~ s/zone=sessions:1m;/zone=sessions:1m backend=tls;/
    or die "no store zone in \$HTTP\n";

our $HTTP_TLS_STORE = <<'_EOC_' . $HTTP_STORE;
    embed_session_redis  tls  server=127.0.0.1:$TEST_NGINX_TLS_PORT tls=on
                         $TEST_NGINX_TLS_SLOW
                         tls_trusted_certificate=$TEST_NGINX_TLS_DIR/ca.crt
                         tls_name=redis.test;
_EOC_

run_tests();

Test::More::done_testing();

__DATA__

=== TEST 1: up: tls=on, the certificate verified against tls_trusted_certificate= and tls_name=redis.test
--- http_config
    embed_session_redis  good  server=127.0.0.1:$TEST_NGINX_TLS_PORT tls=on
                         $TEST_NGINX_TLS_SLOW
                         tls_trusted_certificate=$TEST_NGINX_TLS_DIR/ca.crt
                         tls_name=redis.test;
--- config
    location = /status {
        embed_session_status;
    }
--- request
GET /status
--- response_body_filters eval
::flow_up(qw(good))
--- response_body
good: up 1, connect failures 0
--- no_error_log
[error]
[alert]
[crit]



=== TEST 2: store: a store zone with backend= on the TLS server: mint, verify, refresh, the old token refused
--- http_config eval
$::HTTP_TLS_STORE
--- request
GET /status
--- response_body_filters eval
::flow(\&::flow_store)
--- response_body
redis tls up, zone sessions synced: yes
mint: 201
token at /verify: 200
refresh: 200
the same session: yes
successor at /verify: 200
old token at /verify: 401 SESSION_REVOKED
the successor's renew token: 200
--- no_error_log
[error]
[alert]
[crit]



=== TEST 3: never up: tls_name= a name the certificate does not hold
--- http_config
    embed_session_redis  other  server=127.0.0.1:$TEST_NGINX_TLS_PORT tls=on
                         $TEST_NGINX_TLS_SLOW
                         tls_trusted_certificate=$TEST_NGINX_TLS_DIR/ca.crt
                         tls_name=other.test;
--- config
    location = /status {
        embed_session_status;
    }
    location = /hello {
        return 200 "hello\n";
    }
--- request
GET /status
--- response_body_filters eval
::flow_down(qw(other))
--- response_body
other: connect failures >= 2: yes, up 0, connects 0
hello: 200 hello
--- error_log eval
[qr/the server's certificate does not hold the name "other\.test" \(tls_name=\)[^\n]*embed_session_redis "other"/]
--- no_error_log
[alert]
[crit]



=== TEST 4: never up: tls_trusted_certificate= a CA that did not sign the server's certificate
--- http_config
    embed_session_redis  stranger  server=127.0.0.1:$TEST_NGINX_TLS_PORT tls=on
                         $TEST_NGINX_TLS_SLOW
                         tls_trusted_certificate=$TEST_NGINX_TLS_DIR/other-ca.crt
                         tls_name=redis.test;
--- config
    location = /status {
        embed_session_status;
    }
    location = /hello {
        return 200 "hello\n";
    }
--- request
GET /status
--- response_body_filters eval
::flow_down(qw(stranger))
--- response_body
stranger: connect failures >= 2: yes, up 0, connects 0
hello: 200 hello
--- error_log eval
[qr/the server's certificate did not verify: \((?:19:self-signed certificate in certificate chain|20:unable to get local issuer certificate)\)[^\n]*embed_session_redis "stranger"/]
--- no_error_log
[alert]
[crit]



=== TEST 5: up: tls_verify=off, without a CA
--- http_config
    embed_session_redis  noverify  server=127.0.0.1:$TEST_NGINX_TLS_PORT
                         tls=on tls_verify=off;
--- config
    location = /status {
        embed_session_status;
    }
--- request
GET /status
--- response_body_filters eval
::flow_up(qw(noverify))
--- response_body
noverify: up 1, connect failures 0
--- no_error_log
[error]
[alert]
[crit]



=== TEST 6: never up: no TLS to the TLS port, and the worker answers meanwhile
--- http_config
    embed_session_redis  plain  server=127.0.0.1:$TEST_NGINX_TLS_PORT;
--- config
    location = /status {
        embed_session_status;
    }
    location = /hello {
        return 200 "hello\n";
    }
--- request
GET /status
--- response_body_filters eval
::flow_down(qw(plain))
--- response_body
plain: connect failures >= 2: yes, up 0, connects 0
hello: 200 hello
--- error_log eval
[qr/(?:the server closed the connection|recv\(\) failed \(104: Connection reset by peer\))[^\n]*embed_session_redis "plain"/,
 qr/connection down, next try in \d+ms, embed_session_redis "plain"/]
--- no_error_log
[alert]
[crit]



=== TEST 7: never up: tls-auth-clients yes, no client certificate
--- http_config
    embed_session_redis  nocert  server=127.0.0.1:$TEST_NGINX_TLS_AUTH_PORT tls=on
                         $TEST_NGINX_TLS_SLOW
                         tls_trusted_certificate=$TEST_NGINX_TLS_DIR/ca.crt
                         tls_name=redis.test;
--- config
    location = /status {
        embed_session_status;
    }
    location = /hello {
        return 200 "hello\n";
    }
--- request
GET /status
--- response_body_filters eval
::flow_down(qw(nocert))
--- response_body
nocert: connect failures >= 2: yes, up 0, connects 0
hello: 200 hello
--- error_log eval
[qr/(?:SSL_read\(\) failed \([^\n]*certificate required|SSL_(?:read|write)\(\) failed \(104: Connection reset by peer\)|the server closed the connection)[^\n]*embed_session_redis "nocert"/,
 qr/connection down, next try in \d+ms, embed_session_redis "nocert"/]
--- no_error_log
[alert]



=== TEST 8: up: tls-auth-clients yes, with tls_certificate= and tls_certificate_key=
--- http_config
    embed_session_redis  withcert  server=127.0.0.1:$TEST_NGINX_TLS_AUTH_PORT tls=on
                         $TEST_NGINX_TLS_SLOW
                         tls_trusted_certificate=$TEST_NGINX_TLS_DIR/ca.crt
                         tls_name=redis.test
                         tls_certificate=$TEST_NGINX_TLS_DIR/client.crt
                         tls_certificate_key=$TEST_NGINX_TLS_DIR/client.key;
--- config
    location = /status {
        embed_session_status;
    }
--- request
GET /status
--- response_body_filters eval
::flow_up(qw(withcert))
--- response_body
withcert: up 1, connect failures 0
--- no_error_log
[error]
[alert]
[crit]



=== TEST 9: nginx -t: tls_verify=on (the default) without tls_trusted_certificate=
--- http_config
    embed_session_redis  main  server=127.0.0.1:$TEST_NGINX_TLS_PORT tls=on
                         $TEST_NGINX_TLS_SLOW
                         tls_name=redis.test;
--- config
--- request
GET /t
--- must_die
--- error_log
"tls_verify=on" needs "tls_trusted_certificate=" (or "tls_verify=off")
--- no_error_log
[alert]



=== TEST 10: nginx -t: tls_trusted_certificate= without tls_name=
--- http_config
    embed_session_redis  main  server=127.0.0.1:$TEST_NGINX_TLS_PORT tls=on
                         $TEST_NGINX_TLS_SLOW
                         tls_trusted_certificate=$TEST_NGINX_TLS_DIR/ca.crt;
--- config
--- request
GET /t
--- must_die
--- error_log
"tls_verify=on" needs "tls_name=": the name the server's certificate must hold
--- no_error_log
[alert]



=== TEST 11: nginx -t: tls_certificate= without tls_certificate_key=
--- http_config
    embed_session_redis  main  server=127.0.0.1:$TEST_NGINX_TLS_AUTH_PORT tls=on
                         $TEST_NGINX_TLS_SLOW
                         tls_trusted_certificate=$TEST_NGINX_TLS_DIR/ca.crt
                         tls_name=redis.test
                         tls_certificate=$TEST_NGINX_TLS_DIR/client.crt;
--- config
--- request
GET /t
--- must_die
--- error_log
"tls_certificate=" and "tls_certificate_key=" go together
--- no_error_log
[alert]



=== TEST 12: nginx -t: a tls_...= parameter without tls=on
--- http_config
    embed_session_redis  main  server=127.0.0.1:$TEST_NGINX_TLS_PORT
                         tls_name=redis.test;
--- config
--- request
GET /t
--- must_die
--- error_log
a "tls_...=" parameter without "tls=on"
--- no_error_log
[alert]



=== TEST 13: nginx -t: tls=maybe
--- http_config
    embed_session_redis  main  server=127.0.0.1:$TEST_NGINX_TLS_PORT tls=maybe;
--- config
--- request
GET /t
--- must_die
--- error_log
invalid parameter "tls=maybe"
--- no_error_log
[alert]



=== TEST 14: nginx -t: tls_trusted_certificate= a file that does not exist
--- http_config
    embed_session_redis  main  server=127.0.0.1:$TEST_NGINX_TLS_PORT tls=on
                         $TEST_NGINX_TLS_SLOW
                         tls_trusted_certificate=$TEST_NGINX_TLS_DIR/absent.crt
                         tls_name=redis.test;
--- config
--- request
GET /t
--- must_die
--- error_log eval
qr/\[emerg\] .*SSL_CTX_load_verify_locations\("[^"]*absent\.crt"\) failed/
--- no_error_log
[alert]
