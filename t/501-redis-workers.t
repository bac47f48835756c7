# vim:set ft= ts=4 sw=4 et fdm=marker:

# embed_session_redis with a master and two workers: one connection per
# worker, and a reload (SIGHUP) that makes new workers connect while the
# old ones leave without saying the server is down.  The real redis-server
# is t/lib/EmbedSessionRedis.pm's; the connection itself (AUTH, bad
# replies, timeouts) is 500-redis-connection.t's.
#
#   workers              two workers, two connections, up
#   reload               new workers connect; the old ones' exit leaves
#                        embed_session_redis_up at 1; the counters survive

use FindBin;
use lib "$FindBin::Bin/lib";
use EmbedSessionTest;
use EmbedSessionRedis;

use Time::HiRes ();

repeat_each(1);
no_shuffle();

# the reload needs a master and its workers
master_on();
workers(2);

my $redis = redis_start();

$ENV{TEST_NGINX_REDIS_PORT} = $redis->{port};

sub master_pid {
    my $file = Test::Nginx::Util::server_root() . '/logs/nginx.pid';
    open my $fh, '<', $file or return;
    my $pid = <$fh>;
    close $fh;
    chomp $pid if defined $pid;
    return $pid;
}

sub flow_reload {
    return \&reload;
}

sub reload {
    my @o;

    my $m = wait_metric('connects_total', 'main', 2);
    push @o, 'connects after the start: ' . sample($m, 'connects_total', 'main'),
        'up: ' . sample($m, 'up', 'main');

    my $pid = master_pid();
    push @o, 'HUP: ' . (defined $pid && kill('HUP', $pid) ? 'sent' : 'failed');

    $m = wait_metric('connects_total', 'main', 4);
    my $v = sample($m, 'connects_total', 'main');
    push @o, 'connects after the reload >= 4: '
        . ($v ne '-' && $v >= 4 ? 'yes' : "no ($v)");

    # the old workers close their connections as they leave
    Time::HiRes::sleep(1);
    $m = metrics();
    push @o, 'up once the old workers left: ' . sample($m, 'up', 'main'),
        'connect failures: '
        . sample($m, 'connect_failures_total', 'main');

    return join '', map { "$_\n" } @o;
}

run_tests();

Test::More::done_testing();

__DATA__

=== TEST 1: two workers, a connection each; a reload: the new workers connect, the old ones leave it up
--- http_config
    embed_session_redis main server=127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location = /status {
        embed_session_status;
    }
--- request
GET /status
--- response_body_filters eval
::flow_reload()
--- response_body
connects after the start: 2
up: 1
HUP: sent
connects after the reload >= 4: yes
up once the old workers left: 1
connect failures: 0
--- no_error_log
[error]
