package EmbedSessionRedis;

# A real Redis for the t/5NN files, and fake ones that answer badly.
#
#   use FindBin;
#   use lib "$FindBin::Bin/lib";
#   use EmbedSessionTest;
#   use EmbedSessionRedis;
#
#   my $redis = redis_start();      # skip_all when redis-server is absent
#   my $port = fake_start('silent');
#
# redis_start() runs redis-server (or $ENV{ES_REDIS_SERVER}, valkey-server)
# on a free port of 127.0.0.1 and on a unix
# socket, in a directory of its own (no snapshot, no append-only file),
# with the user "es" whose password is $REDIS_PASSWORD besides the
# password-less default user (with requirepass => 1: the default user's
# password is $REDIS_PASSWORD, and there is no "es"), and writes the
# password files the blocks
# name: DIR/password (the right one), DIR/password.wrong and
# DIR/password.empty (an empty first line).  It returns
# { port, dir, socket, pid }.  fake_start(MODE) runs a small server that
# reads a command and then, by MODE:
#
#   truncated   "$10\r\nabc", then closes the connection
#   integer     ":1\r\n", a reply of the wrong type to PING
#   badbyte     "%1\r\n", a type byte RESP2 does not have
#   hugebulk    "$100000000\r\n" and 2 MB of the bulk string
#   hugearray   "*100000000\r\n", an array header of 100 million elements
#   silent      nothing, ever
#
# Every server started here is stopped when the test file ends, by its
# process id.  metrics() reads the status location (/status) of the nginx
# under test; wait_metric() polls it until a sample has a value.
#
# redis_cmd($redis, 'SET', $key, 'garbage') sends one command to a server
# redis_start() started (its default user, no password) on a connection of
# its own and returns the reply: a string for a status or a bulk string
# (undef for a null one), a number, an array reference, or "-" and the
# message for an error.

use strict;
use warnings;
use Exporter 'import';

use File::Temp qw(tempdir);
use HTTP::Tiny ();
use IO::Socket::INET ();
use POSIX ();
use Test::More ();
use Time::HiRes ();
use Test::Nginx::Util ();

our @EXPORT = qw($REDIS_PASSWORD redis_start fake_start free_port metrics
                 wait_metric sample redis_cmd);

our $REDIS_PASSWORD = 'Es-r3dis-pw-7f3a9c';

my @pids;

# a TCP port of 127.0.0.1 nobody listens on (for a moment):
# below 1988, where Test::Nginx's random ports (TEST_NGINX_RANDOMIZE)
# never are, so that a server started here cannot take the port of the
# nginx of a test file running beside it (prove -j); each test file from
# a place of its own in 1100-1979 (by its pid), upwards

my $next_port = 1100 + ($$ * 7) % 880;

sub free_port {
    for (1 .. 880) {
        my $port = $next_port;

        $next_port = ($next_port >= 1979) ? 1100 : $next_port + 1;

        my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1',
                                      LocalPort => $port, ReuseAddr => 1)
            or next;
        close $s;
        return $port;
    }

    die "free_port: no free port between 1100 and 1979\n";
}

sub wait_port {
    my ($port, $what) = @_;

    for (1 .. 100) {
        my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                      PeerPort => $port);
        if ($s) {
            close $s;
            return;
        }
        Time::HiRes::sleep(0.05);
    }

    die "$what on port $port did not start\n";
}

sub spawn {
    my ($code) = @_;
    my $pid = fork // die "fork: $!\n";

    if ($pid == 0) {
        $code->();
        POSIX::_exit(0);
    }

    push @pids, $pid;
    return $pid;
}

# the server's program: redis-server, or ES_REDIS_SERVER (valkey-server:
# tools/test's valkey stage runs the t/5NN files on it)

our $ENGINE = $ENV{ES_REDIS_SERVER} || 'redis-server';

sub redis_start {
    my (%o) = @_;
    my $bin = (grep { -x "$_/$ENGINE" } split /:/,
               "$ENV{PATH}:/usr/bin:/usr/sbin")[0];

    if (!defined $bin) {
        Test::More::plan(skip_all => "$ENGINE is not installed "
                         . '(tools/setup installs it: redis-server from '
                         . 'bookworm, valkey-server from bookworm-backports)');
    }

    my $dir = tempdir('es-redis-XXXXXX', TMPDIR => 1, CLEANUP => 1);
    chmod 0755, $dir;
    my $port = free_port();
    my $socket = "$dir/redis.sock";

    for (['password', "$REDIS_PASSWORD\n"],
         ['password.wrong', "not-the-one\n"],
         ['password.empty', "\nsecond line\n"])
    {
        open my $fh, '>', "$dir/$_->[0]" or die "$dir/$_->[0]: $!\n";
        print $fh $_->[1];
        close $fh;
        chmod 0600, "$dir/$_->[0]";
    }

    my @args = ('--port', $port, '--bind', '127.0.0.1', '--dir', $dir,
                '--unixsocket', $socket, '--unixsocketperm', '777',
                '--save', '', '--appendonly', 'no', '--daemonize', 'no',
                '--logfile', "$dir/redis.log",
                $o{requirepass}
                ? ('--requirepass', $REDIS_PASSWORD)
                : ('--user', 'es', 'on', ">$REDIS_PASSWORD", '~*', '&*',
                   '+@all'));

    my $pid = spawn(sub { exec "$bin/$ENGINE", @args });
    wait_port($port, $ENGINE);

    return { port => $port, dir => $dir, socket => $socket, pid => $pid };
}

my %answer = (
    truncated => "\$10\r\nabc",
    integer   => ":1\r\n",
    badbyte   => "%1\r\n",
    hugebulk  => "\$100000000\r\n" . ('x' x (2 * 1024 * 1024)),
    hugearray => "*100000000\r\n",
    silent    => '',
);

sub fake_start {
    my ($mode) = @_;
    my $answer = $answer{$mode} // die "fake_start: no mode \"$mode\"\n";

    my $l = IO::Socket::INET->new(Listen => 16, LocalAddr => '127.0.0.1',
                                  LocalPort => 0, ReuseAddr => 1)
        or die "fake_start: $!\n";
    my $port = $l->sockport;

    spawn(sub {
        $SIG{CHLD} = 'IGNORE';

        while (my $c = $l->accept) {
            my $pid = fork;
            next if !defined $pid;

            if ($pid == 0) {
                my $buf;
                sysread $c, $buf, 4096;
                syswrite $c, $answer if length $answer;

                if ($mode eq 'truncated') {
                    close $c;
                } else {
                    # keep the connection until nginx closes it
                    1 while sysread $c, $buf, 4096;
                }

                POSIX::_exit(0);
            }

            close $c;
        }
    });

    close $l;
    return $port;
}

# the status page's samples: name{labels} => value

sub metrics {
    my $res = HTTP::Tiny->new(timeout => 10)->get(
        'http://127.0.0.1:' . Test::Nginx::Util::server_port() . '/status');
    my %m;

    for my $line (split /\n/, $res->{content} // '') {
        next if $line =~ /^#/;
        $m{$1} = $2 if $line =~ /^embed_session_(redis_\S+) (\d+)$/;
    }

    return \%m;
}

sub sample {
    my ($m, $metric, $server) = @_;
    return $m->{"redis_$metric\{server=\"$server\"}"} // '-';
}

# polls until the sample reaches at least the value (10 s at most); the
# last samples read

sub wait_metric {
    my ($metric, $server, $value) = @_;
    my $m;

    for (1 .. 200) {
        $m = metrics();
        my $v = sample($m, $metric, $server);
        last if $v ne '-' && $v >= $value;
        Time::HiRes::sleep(0.05);
    }

    return $m;
}

# one command, its reply (RESP2)

sub redis_cmd {
    my ($redis, @args) = @_;

    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                  PeerPort => $redis->{port}, Timeout => 5)
        or die "redis_cmd: $!\n";

    my $req = '*' . @args . "\r\n";
    $req .= '$' . length($_) . "\r\n$_\r\n" for @args;
    print {$s} $req;

    my $reply = resp_read($s);
    close $s;
    return $reply;
}

sub resp_read {
    my ($s) = @_;
    my $line = <$s> // die "redis_cmd: the server closed the connection\n";
    $line =~ s/\r\n\z//;
    my ($type, $rest) = (substr($line, 0, 1), substr($line, 1));

    return $rest if $type eq '+';
    return "-$rest" if $type eq '-';
    return 0 + $rest if $type eq ':';

    if ($type eq '$') {
        return undef if $rest < 0;
        my $buf = '';
        read($s, $buf, $rest + 2) == $rest + 2
            or die "redis_cmd: a bulk string cut short\n";
        return substr $buf, 0, $rest;
    }

    if ($type eq '*') {
        return undef if $rest < 0;
        return [map { resp_read($s) } 1 .. $rest];
    }

    die "redis_cmd: not RESP2: \"$line\"\n";
}

# waitpid sets $?, the file's exit status: a fake server ends by SIGTERM
# (15), and Test::More would report "exited with 15" for a file whose tests
# all passed

END {
    local $?;

    for my $pid (@pids) {
        kill 'TERM', $pid;
        waitpid $pid, 0;
    }
}

1;
