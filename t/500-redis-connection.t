# vim:set ft= ts=4 sw=4 et fdm=marker:

# embed_session_redis: each worker's connection to a named Redis server,
# against a real redis-server started on a free port (and fake servers that
# answer badly), seen through the status page's embed_session_redis_*
# samples.  The servers are t/lib/EmbedSessionRedis.pm's.
#
#   up                   TCP and unix socket, db= (SELECT), AUTH with a
#                        user and the right password, AUTH with the
#                        password alone (requirepass): up, one connect, the
#                        handshake's commands counted
#   down                 a wrong password (AUTH refused, the server named,
#                        no password in the log), no password where one is
#                        required (PING refused), nobody listening (tried
#                        again and again)
#   bad replies          truncated, of the wrong type, not RESP2, a huge
#                        bulk string, a huge array: a protocol error each,
#                        the server named
#   silence              a server that never answers: the timeout counted,
#                        and the worker answers other requests meanwhile;
#                        a server paused while up (SIGSTOP): the idle PING
#                        times out, and the connection is made again once
#                        it resumes (SIGCONT)
#   nginx -t             every parameter's refusal names the parameter

use FindBin;
use lib "$FindBin::Bin/lib";
use EmbedSessionTest;
use EmbedSessionRedis;

use Time::HiRes ();

# servers and sleeps: once each
repeat_each(1);
no_shuffle();

my $redis = redis_start();

$ENV{TEST_NGINX_REDIS_PORT} = $redis->{port};
$ENV{TEST_NGINX_REDIS_DIR} = $redis->{dir};
$ENV{TEST_NGINX_REDIS_ABSENT} = free_port();

# the default user with a password (requirepass): AUTH without a user
my $pw_redis = redis_start(requirepass => 1);
$ENV{TEST_NGINX_REDIS_PW_PORT} = $pw_redis->{port};

# one to pause (SIGSTOP) and resume (SIGCONT)
my $paused_redis = redis_start();
$ENV{TEST_NGINX_REDIS_PAUSED_PORT} = $paused_redis->{port};

for my $mode (qw(truncated integer badbyte hugebulk hugearray silent)) {
    $ENV{'TEST_NGINX_FAKE_' . uc $mode} = fake_start($mode);
}

# the samples of each server: "NAME: up U, connects C, failures F, ..."

sub servers {
    my ($m, @names) = @_;

    return map {
        my $n = $_;
        "$n: " . join ', ', map { "$_ " . sample($m, $_, $n) }
            qw(up connects_total connect_failures_total commands_total
               timeouts_total protocol_errors_total);
    } @names;
}

sub at_least {
    my ($m, $metric, $server, $value) = @_;
    my $v = sample($m, $metric, $server);
    return "$server $metric >= $value: "
        . ($v ne '-' && $v >= $value ? 'yes' : "no ($v)");
}

sub flow_up {
    my @names = @_;

    return sub {
        wait_metric('up', $_, 1) for @names;
        return join '', map { "$_\n" } servers(metrics(), @names);
    };
}

# failures counted (and retried: at least 2), never up

sub flow_down {
    my ($metric, $count, @names) = @_;

    return sub {
        my $m;
        $m = wait_metric($metric, $_, $count) for @names;
        $m = metrics();
        return join '', map { "$_\n" }
            (map { at_least($m, $metric, $_, $count) } @names),
            (map { "$_ up " . sample($m, 'up', $_) . ', connects '
                   . sample($m, 'connects_total', $_) } @names);
    };
}

# a server that never answers: another location answers at once while
# the handshake waits, then the timeout is counted

sub flow_silent {
    return \&silent;
}

sub silent {
    my $t0 = Time::HiRes::time();
    my $res = HTTP::Tiny->new(timeout => 10)->get(
        'http://127.0.0.1:' . Test::Nginx::Util::server_port() . '/hello');
    my $took = Time::HiRes::time() - $t0;

    my $m = wait_metric('timeouts_total', 'silent', 1);

    return join '', map { "$_\n" }
        'hello: ' . $res->{status} . ' ' . (($res->{content} // '') =~ s/\n\z//r),
        'hello answered within 1 s: ' . ($took < 1 ? 'yes' : "no ($took s)"),
        at_least($m, 'timeouts_total', 'silent', 1),
        at_least($m, 'connect_failures_total', 'silent', 1),
        'silent up ' . sample($m, 'up', 'silent');
}

# a server paused while up: the idle PING times out, the connection goes
# down and is tried again until the server resumes

sub flow_paused {
    return \&paused;
}

sub paused {
    my @o;
    my $m = wait_metric('up', 'paused', 1);
    push @o, 'before: up ' . sample($m, 'up', 'paused');

    kill 'STOP', $paused_redis->{pid};
    $m = wait_metric('timeouts_total', 'paused', 1);
    Time::HiRes::sleep(0.5);
    $m = metrics();
    push @o, at_least($m, 'timeouts_total', 'paused', 1),
        'paused: up ' . sample($m, 'up', 'paused');

    kill 'CONT', $paused_redis->{pid};
    $m = wait_metric('connects_total', 'paused', 2);
    $m = wait_metric('up', 'paused', 1);
    push @o, at_least($m, 'connects_total', 'paused', 2),
        'resumed: up ' . sample($m, 'up', 'paused');

    return join '', map { "$_\n" } @o;
}

run_tests();

Test::More::done_testing();

__DATA__

=== TEST 1: up: TCP, unix socket and db=: one connect each, PING (and SELECT) counted
--- http_config
    embed_session_redis plain server=127.0.0.1:$TEST_NGINX_REDIS_PORT;
    embed_session_redis unix server=unix:$TEST_NGINX_REDIS_DIR/redis.sock;
    embed_session_redis db3 server=127.0.0.1:$TEST_NGINX_REDIS_PORT db=3
                            connect_timeout=2s timeout=1s;
--- config
    location = /status {
        embed_session_status;
    }
--- request
GET /status
--- response_body_filters eval
::flow_up(qw(plain unix db3))
--- response_body
plain: up 1, connects_total 1, connect_failures_total 0, commands_total 1, timeouts_total 0, protocol_errors_total 0
unix: up 1, connects_total 1, connect_failures_total 0, commands_total 1, timeouts_total 0, protocol_errors_total 0
db3: up 1, connects_total 1, connect_failures_total 0, commands_total 2, timeouts_total 0, protocol_errors_total 0
--- no_error_log
[error]
[crit]



=== TEST 2: up: AUTH with user= and the right password (AUTH, PING), never logged
--- http_config
    embed_session_redis authed server=127.0.0.1:$TEST_NGINX_REDIS_PORT
                               user=es
                               password_file=$TEST_NGINX_REDIS_DIR/password;
--- config
    location = /status {
        embed_session_status;
    }
--- request
GET /status
--- response_body_filters eval
::flow_up(qw(authed))
--- response_body
authed: up 1, connects_total 1, connect_failures_total 0, commands_total 2, timeouts_total 0, protocol_errors_total 0
--- no_error_log eval
["[error]", $EmbedSessionRedis::REDIS_PASSWORD]



=== TEST 3: up: AUTH with the password alone, to a server with requirepass
--- http_config
    embed_session_redis pwonly server=127.0.0.1:$TEST_NGINX_REDIS_PW_PORT
                               password_file=$TEST_NGINX_REDIS_DIR/password;
--- config
    location = /status {
        embed_session_status;
    }
--- request
GET /status
--- response_body_filters eval
::flow_up(qw(pwonly))
--- response_body
pwonly: up 1, connects_total 1, connect_failures_total 0, commands_total 2, timeouts_total 0, protocol_errors_total 0
--- no_error_log eval
["[error]", $EmbedSessionRedis::REDIS_PASSWORD]



=== TEST 4: down: a wrong password: AUTH refused, tried again, the server named, no password logged
--- http_config
    embed_session_redis wrongpw server=127.0.0.1:$TEST_NGINX_REDIS_PORT
                                user=es
                                password_file=$TEST_NGINX_REDIS_DIR/password.wrong;
--- config
    location = /status {
        embed_session_status;
    }
--- request
GET /status
--- response_body_filters eval
::flow_down('connect_failures_total', 2, 'wrongpw')
--- response_body
wrongpw connect_failures_total >= 2: yes
wrongpw up 0, connects 0
--- error_log eval
[qr/the server refused AUTH: "WRONGPASS [^"]*", embed_session_redis "wrongpw" at 127\.0\.0\.1:\d+/,
 qr/connection down, next try in \d+ms, embed_session_redis "wrongpw"/]
--- no_error_log eval
["not-the-one", $EmbedSessionRedis::REDIS_PASSWORD]



=== TEST 5: down: no password for a server with requirepass: PING refused (NOAUTH), the server named
--- http_config
    embed_session_redis nopw server=127.0.0.1:$TEST_NGINX_REDIS_PW_PORT;
--- config
    location = /status {
        embed_session_status;
    }
--- request
GET /status
--- response_body_filters eval
::flow_down('connect_failures_total', 2, 'nopw')
--- response_body
nopw connect_failures_total >= 2: yes
nopw up 0, connects 0
--- error_log eval
qr/the server refused PING: "NOAUTH [^"]*", embed_session_redis "nopw" at 127\.0\.0\.1:\d+/



=== TEST 6: down: nobody listening: refused, tried again with a delay, never up
--- http_config
    embed_session_redis absent server=127.0.0.1:$TEST_NGINX_REDIS_ABSENT;
--- config
    location = /status {
        embed_session_status;
    }
--- request
GET /status
--- response_body_filters eval
::flow_down('connect_failures_total', 3, 'absent')
--- response_body
absent connect_failures_total >= 3: yes
absent up 0, connects 0
--- error_log eval
[qr/connect\(\) failed \(111: Connection refused\), embed_session_redis "absent" at 127\.0\.0\.1:\d+/,
 qr/connection down, next try in \d+ms, embed_session_redis "absent"/]



=== TEST 7: bad replies: truncated, wrong type, not RESP2, huge bulk string, huge array: protocol errors, the server named
--- http_config
    embed_session_redis truncated server=127.0.0.1:$TEST_NGINX_FAKE_TRUNCATED;
    embed_session_redis integer server=127.0.0.1:$TEST_NGINX_FAKE_INTEGER;
    embed_session_redis badbyte server=127.0.0.1:$TEST_NGINX_FAKE_BADBYTE;
    embed_session_redis hugebulk server=127.0.0.1:$TEST_NGINX_FAKE_HUGEBULK;
    embed_session_redis hugearray server=127.0.0.1:$TEST_NGINX_FAKE_HUGEARRAY;
--- config
    location = /status {
        embed_session_status;
    }
--- request
GET /status
--- response_body_filters eval
::flow_down('protocol_errors_total', 1,
            qw(truncated integer badbyte hugebulk hugearray))
--- response_body
truncated protocol_errors_total >= 1: yes
integer protocol_errors_total >= 1: yes
badbyte protocol_errors_total >= 1: yes
hugebulk protocol_errors_total >= 1: yes
hugearray protocol_errors_total >= 1: yes
truncated up 0, connects 0
integer up 0, connects 0
badbyte up 0, connects 0
hugebulk up 0, connects 0
hugearray up 0, connects 0
--- error_log eval
[qr/protocol error: the server closed the connection in the middle of a reply, embed_session_redis "truncated" at /,
 qr/protocol error: a reply of the wrong type: "integer", embed_session_redis "integer" at /,
 qr/protocol error: the reader failed: "Protocol error, got "%" as reply type byte", embed_session_redis "badbyte" at /,
 qr/protocol error: a reply over the size limit, embed_session_redis "hugebulk" at /,
 qr/protocol error: a reply over the size limit, embed_session_redis "hugearray" at /]



=== TEST 8: silence: the handshake times out (counted) while the worker answers other requests at once
--- http_config
    embed_session_redis silent server=127.0.0.1:$TEST_NGINX_FAKE_SILENT
                               timeout=1500ms;
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
::flow_silent()
--- response_body
hello: 200 hello
hello answered within 1 s: yes
silent timeouts_total >= 1: yes
silent connect_failures_total >= 1: yes
silent up 0
--- error_log eval
qr/no reply within 1500ms to the handshake, embed_session_redis "silent" at 127\.0\.0\.1:\d+/



=== TEST 9: a server paused while up: the idle PING times out, down, tried again, up once it resumes
--- http_config
    embed_session_redis paused server=127.0.0.1:$TEST_NGINX_REDIS_PAUSED_PORT
                               ping=200ms timeout=300ms;
--- config
    location = /status {
        embed_session_status;
    }
--- request
GET /status
--- response_body_filters eval
::flow_paused()
--- response_body
before: up 1
paused timeouts_total >= 1: yes
paused: up 0
paused connects_total >= 2: yes
resumed: up 1
--- error_log eval
[qr/no reply within 300ms, embed_session_redis "paused" at 127\.0\.0\.1:\d+/,
 qr/connection up, embed_session_redis "paused"/]



=== TEST 10: without embed_session_status the connections are made all the same
--- http_config
    embed_session_redis plain server=127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
    location = /t {
        return 200 "ok\n";
    }
--- request
GET /t
--- wait: 0.5
--- response_body
ok
--- error_log
connection up, embed_session_redis "plain" at 127.0.0.1:
--- no_error_log
[error]



=== TEST 11: nginx -t: an invalid name
--- http_config
    embed_session_redis "a b" server=127.0.0.1:6379;
--- config
--- request
GET /t
--- must_die
--- error_log
invalid name "a b": 1 to 64 letters, digits, "_", "-" or "."



=== TEST 12: nginx -t: a name declared twice
--- http_config
    embed_session_redis main;
    embed_session_redis main server=127.0.0.1:6380;
--- config
--- request
GET /t
--- must_die
--- error_log
"main" is declared twice



=== TEST 13: nginx -t: server= a name, not an address
--- http_config
    embed_session_redis main server=localhost:6379;
--- config
--- request
GET /t
--- must_die
--- error_log
"server=": "localhost:6379" is not an IP address with an optional port, or unix:PATH (names are not resolved)



=== TEST 14: nginx -t: server= a port out of range
--- http_config
    embed_session_redis main server=127.0.0.1:70000;
--- config
--- request
GET /t
--- must_die
--- error_log
"server=": "127.0.0.1:70000" is not an IP address



=== TEST 15: nginx -t: db= not a number
--- http_config
    embed_session_redis main db=one;
--- config
--- request
GET /t
--- must_die
--- error_log
"db=": invalid database "one", 0 to 65535



=== TEST 16: nginx -t: timeout= not a time
--- http_config
    embed_session_redis main timeout=soon;
--- config
--- request
GET /t
--- must_die
--- error_log
"timeout=": invalid time "soon"



=== TEST 17: nginx -t: connect_timeout=0
--- http_config
    embed_session_redis main connect_timeout=0;
--- config
--- request
GET /t
--- must_die
--- error_log
"connect_timeout=": invalid time "0"



=== TEST 18: nginx -t: ping= not a time
--- http_config
    embed_session_redis main ping=often;
--- config
--- request
GET /t
--- must_die
--- error_log
"ping=": invalid time "often"



=== TEST 19: nginx -t: user= without password_file=
--- http_config
    embed_session_redis main user=es;
--- config
--- request
GET /t
--- must_die
--- error_log
"user=" without "password_file="



=== TEST 20: nginx -t: password_file= a file that does not exist
--- http_config
    embed_session_redis main password_file=$TEST_NGINX_REDIS_DIR/nothing;
--- config
--- request
GET /t
--- must_die
--- error_log eval
qr/embed_session_redis: open\(\) ".*\/nothing" failed/



=== TEST 21: nginx -t: password_file= an empty first line
--- http_config
    embed_session_redis main password_file=$TEST_NGINX_REDIS_DIR/password.empty;
--- config
--- request
GET /t
--- must_die
--- error_log eval
qr/"password_file=": ".*\/password\.empty" holds no password on its first line/



=== TEST 22: nginx -t: an unknown parameter
--- http_config
    embed_session_redis main servers=127.0.0.1;
--- config
--- request
GET /t
--- must_die
--- error_log
invalid parameter "servers=127.0.0.1"



=== TEST 23: nginx -t: not in a server block
--- config
    embed_session_redis main;
--- request
GET /t
--- must_die
--- error_log
"embed_session_redis" directive is not allowed here
