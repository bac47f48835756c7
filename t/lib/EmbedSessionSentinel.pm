package EmbedSessionSentinel;

# A Redis master, its replica and a Redis Sentinel watching them, for
# t/530-redis-sentinel.t, and a small RESP client (redis_cmd) that t/520
# and t/530 use to look at a server.
#
#   use FindBin;
#   use lib "$FindBin::Bin/lib";
#   use EmbedSessionTest;
#   use EmbedSessionRedis;          # free_port, metrics, wait_metric
#   use EmbedSessionSentinel;
#
#   my $s = sentinel_start();       # skip_all when a program is absent
#   # { master => PORT, replica => PORT, sentinel => PORT,
#   #   pids => { master, replica, sentinel }, dir => DIR, name => 'm' }
#   my $reply = redis_cmd($s->{sentinel}, 'SENTINEL',
#                         'get-master-addr-by-name', 'm');
#
# sentinel_start() runs, on free ports of 127.0.0.1 and in a directory of
# its own (no snapshot, no append-only file): redis-server as the master,
# redis-server --replicaof the master, and redis-sentinel with a
# configuration file written there (valkey-server and valkey-sentinel when
# ES_REDIS_SERVER=valkey-server, as for EmbedSessionRedis.pm):
#
#   sentinel monitor m 127.0.0.1 MASTER 1
#   sentinel down-after-milliseconds m 500
#   sentinel failover-timeout m 2000
#
# It returns once the replica is in sync and the sentinel knows it (a
# sentinel that does not know the replica cannot promote it), so that a
# test may kill the master (kill_master) and wait for the failover.
# Every process started here is stopped when the test file ends, by its
# process id.
#
# guarded_sentinel_start(PASSWORD) runs another master and a sentinel
# that asks for PASSWORD (requirepass), watching it as "g".
#
# redis_cmd(PORT, ARGS...) sends one command and returns its reply: a
# string (simple, bulk or an error as "ERR: ..."), an integer, undef (nil)
# or an array reference; undef also when nothing answers.

use strict;
use warnings;
use Exporter 'import';

use File::Temp qw(tempdir);
use IO::Socket::INET ();
use POSIX ();
use Test::More ();
use Time::HiRes ();

use EmbedSessionRedis qw(free_port);

our @EXPORT = qw(sentinel_start guarded_sentinel_start redis_cmd
                 kill_master);

my @pids;
my $parent = $$;

sub program {
    my ($name) = @_;

    my ($bin) = grep { -x "$_/$name" } split /:/,
                "$ENV{PATH}:/usr/bin:/usr/sbin";

    return "$bin/$name" if defined $bin;

    Test::More::plan(skip_all => "$name is not installed (tools/setup "
                     . "installs it: apt-get install redis-server "
                     . "redis-sentinel, or valkey-server)");
}

sub spawn {
    my (@cmd) = @_;
    my $pid = fork // die "fork: $!\n";

    if ($pid == 0) {
        { exec @cmd }
        POSIX::_exit(127);
    }

    push @pids, $pid;
    return $pid;
}

# one command, one reply (RESP2), on a connection of its own

sub redis_cmd {
    my ($port, @args) = @_;

    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                  Timeout => 2)
        or return undef;

    $s->autoflush(1);
    print $s '*' . @args . "\r\n",
        map { '$' . length($_) . "\r\n$_\r\n" } @args;

    my $reply = eval { read_reply($s) };
    close $s;
    return $reply;
}

sub read_reply {
    my ($s) = @_;

    my $line = <$s>;
    die "no reply\n" unless defined $line;
    $line =~ s/\r\n\z//;

    my ($type, $rest) = (substr($line, 0, 1), substr($line, 1));

    return $rest if $type eq '+';
    return "ERR: $rest" if $type eq '-';
    return $rest + 0 if $type eq ':';

    if ($type eq '$') {
        return undef if $rest < 0;
        my $buf = '';
        while (length $buf < $rest + 2) {
            my $n = read $s, $buf, $rest + 2 - length $buf, length $buf;
            die "cut short\n" unless $n;
        }
        return substr $buf, 0, $rest;
    }

    if ($type eq '*') {
        return undef if $rest < 0;
        return [ map { read_reply($s) } 1 .. $rest ];
    }

    die "not RESP2: $line\n";
}

# polls a condition (a sub returning true) every 50 ms, for $secs at most

sub poll {
    my ($secs, $cond) = @_;

    for (1 .. $secs * 20) {
        return 1 if $cond->();
        Time::HiRes::sleep(0.05);
    }

    return $cond->();
}

# "field:value" lines of INFO SECTION as a hash

sub info {
    my ($port, $section) = @_;
    my $text = redis_cmd($port, 'INFO', $section) // '';
    return { map { /^([^:]+):(.*?)\r?$/ ? ($1 => $2) : () }
             split /\n/, $text };
}

# a sentinel's reply of field, value, field, value ... as a hash

sub pairs {
    my ($list) = @_;
    return {} unless ref $list eq 'ARRAY';
    my %h = @$list;
    return \%h;
}

# the server and sentinel programs: redis-server and redis-sentinel, or,
# with ES_REDIS_SERVER=valkey-server (tools/test's valkey stage),
# valkey-server and valkey-sentinel

sub programs {
    my $engine = $EmbedSessionRedis::ENGINE // 'redis-server';
    (my $sentinel_engine = $engine) =~ s/-server\z/-sentinel/;
    return (program($engine), program($sentinel_engine));
}

# a server on PORT in DIR (no snapshot, no append-only file), up; its pid

sub server_start {
    my ($server, $port, $dir, @args) = @_;

    my $pid = spawn($server,
        '--port', $port, '--bind', '127.0.0.1',
        '--dir', $dir, '--save', '', '--appendonly', 'no',
        '--daemonize', 'no', '--logfile', "$dir/redis.log", @args);

    poll(5, sub { (redis_cmd($port, 'PING') // '') eq 'PONG' })
        or die "redis-server on port $port did not start\n";

    return $pid;
}

# a sentinel on PORT with a configuration file of its own in DIR (it
# rewrites the file) holding LINES; its pid

sub sentinel_spawn {
    my ($sentinel, $port, $dir, @lines) = @_;

    my $conf = "$dir/sentinel.conf";
    open my $fh, '>', $conf or die "$conf: $!\n";
    print $fh map { "$_\n" } "port $port", 'bind 127.0.0.1',
        'daemonize no', "dir $dir", "logfile $dir/sentinel.log", @lines;
    close $fh;

    return spawn($sentinel, $conf);
}

sub sentinel_start {
    my ($server, $sentinel) = programs();

    my $dir = tempdir('es-sentinel-XXXXXX', TMPDIR => 1, CLEANUP => 1);
    my %port = map { $_ => free_port() } qw(master replica sentinel);
    my %pid;

    for my $role (qw(master replica)) {
        mkdir "$dir/$role" or die "$dir/$role: $!\n";

        $pid{$role} = server_start($server, $port{$role}, "$dir/$role",
            # the replica's first sync at once, not after 5 s
            '--repl-diskless-sync-delay', '0',
            $role eq 'replica'
            ? ('--replicaof', '127.0.0.1', $port{master}) : ());
    }

    poll(10, sub {
        (info($port{replica}, 'replication')->{master_link_status} // '')
            eq 'up'
    }) or die "the replica on port $port{replica} did not sync\n";

    $pid{sentinel} = sentinel_spawn($sentinel, $port{sentinel}, $dir,
        "sentinel monitor m 127.0.0.1 $port{master} 1",
        'sentinel down-after-milliseconds m 500',
        'sentinel failover-timeout m 2000');

    # the sentinel knows the replica, in sync, before anyone kills the
    # master

    poll(15, sub {
        my $r = redis_cmd($port{sentinel}, 'SENTINEL', 'replicas', 'm');
        return 0 unless ref $r eq 'ARRAY';
        for my $e (@$r) {
            my $h = pairs($e);
            return 1 if ($h->{port} // '') eq $port{replica}
                        && ($h->{flags} // '') eq 'slave'
                        && ($h->{'master-link-status'} // '') eq 'ok';
        }
        return 0;
    }) or die "the sentinel on port $port{sentinel} does not know the "
              . "replica on port $port{replica}\n";

    return { master => $port{master}, replica => $port{replica},
             sentinel => $port{sentinel}, pids => \%pid, dir => $dir,
             name => 'm' };
}

# A sentinel that asks its clients for a password (requirepass), watching
# a master of its own under the name "g" (no replica: nothing fails over),
# in a directory of its own: { master => PORT, sentinel => PORT, name =>
# 'g' }

sub guarded_sentinel_start {
    my ($password) = @_;
    my ($server, $sentinel) = programs();

    my $dir = tempdir('es-guarded-XXXXXX', TMPDIR => 1, CLEANUP => 1);
    my %port = map { $_ => free_port() } qw(master sentinel);

    server_start($server, $port{master}, $dir);
    sentinel_spawn($sentinel, $port{sentinel}, $dir,
                   "requirepass $password",
                   "sentinel monitor g 127.0.0.1 $port{master} 1");

    # up: it answers, if only to say that it wants the password

    poll(5, sub { defined redis_cmd($port{sentinel}, 'PING') })
        or die "the sentinel on port $port{sentinel} did not start\n";

    return { master => $port{master}, sentinel => $port{sentinel},
             name => 'g' };
}

# kill -9 the master; true once it is gone

sub kill_master {
    my ($s) = @_;
    my $pid = $s->{pids}{master};

    return 0 unless kill 'KILL', $pid;
    waitpid $pid, 0;
    @pids = grep { $_ != $pid } @pids;
    return 1;
}

END {
    # not in a process forked from this one
    return if $$ != $parent;

    for my $pid (@pids) {
        kill 'TERM', $pid;
        waitpid $pid, 0;
    }
}

1;
