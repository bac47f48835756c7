package EmbedSessionLive;

# An nginx of a test's own, with a session store: a master, two workers,
# its own prefix and port, started, reloaded and stopped by signals as an
# operator would; the server of t/310 (mint, tickets, exchange, refresh,
# revoke, verify, status against the store "sessions"), and requests to
# it.  For the tests of the store's durability (t/310, t/325, t/330).
#
# The caller sets $BIN, $PREFIX, $PORT, $URL (and $STATE, $STATE_DIR);
# $MASTER is the running master's pid, stopped at the end whatever
# happened.

use strict;
use warnings;

use Exporter 'import';
use HTTP::Tiny;
use JSON::PP ();
use Time::HiRes ();
use Test::More ();

use EmbedSessionMint qw(stored);

our @EXPORT = qw(
    $JSON $ORIGIN $RAW $KEY_FILE $BIN $PREFIX $PORT $URL $STATE_DIR $STATE
    $MASTER
    server_conf random_id uuid_text auth call outcome verify mint generate
    exchange refresh refresh_ok status metric invariant_ok wait_snapshot
    write_conf run_nginx start_nginx reload_nginx stop_nginx running_pid
    proc_stat alive worker_pids log_size log_since no_trouble put get
);

our $JSON = JSON::PP->new->canonical;

our $ORIGIN = 'https://app.example.com';

# the API key that mints and revokes (and its record)

our $RAW = 'st_' . 'Dur4bleK' . ('q' x 32);

our $KEY_FILE = "# store durability\n"
                . "k1 key=" . stored($RAW) . " scope=tenant tenant=t1\n";

# the server of every block and of the live nginx: mint, exchange tickets,
# refresh, revoke, verify and status against the store "sessions".
# PORT is the server's own port (for /verify -> /backend).

sub server_conf {
    my ($port) = @_;

    my $conf = <<'_EOC_';
        embed_session_keys   DATA/keys/hs256.jwks;
        embed_session_store  sessions;

        location = /mint {
            embed_session_api_key  keys;
            embed_session_mint     on;

            embed_session_field  sub             string   required claim=sub;
            embed_session_field  allowedOrigins  origins  required;

            embed_session_mint_ttl       300 max=3600;
            embed_session_mint_lifetime  1h;

            embed_session_mint_output  token        token;
            embed_session_mint_output  renew_token  renew_token;
            embed_session_mint_output  session_id   session_id;
        }

        location = /generate {
            embed_session_api_key  keys;
            embed_session_mint     on;

            embed_session_field  sub             string   required claim=sub;
            embed_session_field  allowedOrigins  origins  required;

            embed_session_mint_ttl       300 max=3600;
            embed_session_mint_exchange  10m;

            embed_session_mint_output  sessionId  session_id;
        }

        location = /exchange {
            embed_session_exchange;

            embed_session_mint_output  token       token;
            embed_session_mint_output  session_id  session_id;
            embed_session_mint_output  expires_in  expires_in;
        }

        location = /refresh {
            embed_session_refresh  renew  body=renew_token  grace=0;
            embed_session_mint_ttl  300 max=3600;

            embed_session_mint_output  token        token;
            embed_session_mint_output  renew_token  renew_token;
            embed_session_mint_output  session_id   session_id;
            embed_session_mint_output  expires_in   expires_in;
        }

        location = /revoke {
            embed_session_api_key  keys;
            embed_session_revoke;
        }

        location = /verify {
            embed_session_verify  on;
            proxy_set_header  X-Sid  $embed_session_claim_sid;
            proxy_pass  http://127.0.0.1:PORT/backend;
        }

        location = /backend {
            return 200 "ok $http_x_sid\n";
        }

        location = /status {
            embed_session_status;
        }
_EOC_

    $conf =~ s/\bDATA\b/$ENV{TEST_NGINX_ES_DATA}/g;
    $conf =~ s/\bPORT\b/$port/g;

    return $conf;
}


our ($BIN, $PREFIX, $PORT, $URL, $STATE_DIR, $STATE, $MASTER);

END {
    # never leave our nginx behind, whatever happened
    stop_nginx() if $MASTER;
}


sub random_id {
    my @b = map { int rand 256 } 1 .. 16;

    $b[6] = ($b[6] & 0x0f) | 0x40;
    $b[8] = ($b[8] & 0x3f) | 0x80;

    return pack 'C*', @b;
}

sub uuid_text {
    my $h = unpack 'H*', shift;
    return join '-', substr($h, 0, 8), substr($h, 8, 4), substr($h, 12, 4),
                     substr($h, 16, 4), substr($h, 20);
}


# requests ####################################################################

sub auth {
    return (Authorization => "Bearer $RAW");
}

sub call {
    my ($method, $path, $body, %h) = @_;

    # a new connection each time: no keep-alive ties a request to a worker
    # that a reload is retiring

    my $res = HTTP::Tiny->new(timeout => 10, keep_alive => 0)->request(
        $method, "$URL$path",
        { headers => { Origin => $ORIGIN,
                       defined $body
                           ? ('Content-Type' => 'application/json') : (),
                       %h },
          defined $body
              ? (content => ref $body ? $JSON->encode($body) : $body) : () });

    $res->{json} = eval { JSON::PP->new->decode($res->{content}) };

    return $res;
}

# "STATUS" or "STATUS CODE"

sub outcome {
    my ($res) = @_;

    my $code = ref $res->{json} eq 'HASH' ? $res->{json}{code} : undef;
    $code = $code->{code} if ref $code eq 'HASH';

    return $res->{status} . (defined $code && $res->{status} != 200
                             && $res->{status} != 201 ? " $code" : '');
}

sub verify {
    my ($token) = @_;
    return outcome(call('GET', '/verify', undef,
                        'X-Session-Token' => $token // ''));
}

sub mint {
    my ($who) = @_;

    my $r = call('POST', '/mint',
                 { sub => $who, allowedOrigins => [$ORIGIN] }, auth());

    my $j = ref $r->{json} eq 'HASH' ? $r->{json} : {};

    Test::More::ok($r->{status} =~ /^20[01]$/ && $j->{token}
                   && $j->{renew_token} && $j->{session_id},
                   "mint $who")
        or Test::More::diag("$r->{status} $r->{content}");

    return { token => $j->{token} // '', renew_token => $j->{renew_token}
             // '', session_id => $j->{session_id} // '' };
}

sub generate {
    my ($who) = @_;

    my $r = call('POST', '/generate',
                 { sub => $who, allowedOrigins => [$ORIGIN] }, auth());

    my $id = ref $r->{json} eq 'HASH' ? $r->{json}{sessionId} : undef;

    Test::More::ok($r->{status} =~ /^20[01]$/ && defined $id,
                   "generate a ticket for $who")
        or Test::More::diag("$r->{status} $r->{content}");

    return $id // '';
}

sub exchange {
    my ($id) = @_;
    return call('POST', '/exchange', { sessionId => $id });
}

sub refresh {
    my ($s) = @_;
    return call('POST', '/refresh', { renew_token => $s->{renew_token} });
}

sub refresh_ok {
    my ($s, $name) = @_;

    my $r = refresh($s);
    my $j = ref $r->{json} eq 'HASH' ? $r->{json} : {};

    Test::More::ok($r->{status} == 200 && $j->{token} && $j->{renew_token}
                   && ($j->{session_id} // '') eq $s->{session_id},
                   $name)
        or Test::More::diag("$r->{status} $r->{content}");

    return { token => $j->{token} // '', renew_token => $j->{renew_token}
             // '', session_id => $j->{session_id} // '' };
}

sub status {
    my $r = call('GET', '/status');
    return $r->{status} == 200 ? $r->{content} : '';
}

# a sample's value: embed_session_NAME{...LABEL...} VALUE

sub metric {
    my ($text, $name, $label) = @_;

    for my $line (split /\n/, $text // '') {
        next if $line =~ /^#/;
        next unless $line =~ /^embed_session_\Q$name\E(?:\{([^}]*)\})?\s+(\S+)/;
        my ($labels, $v) = ($1 // '', $2);
        next if defined $label && index($labels, $label) < 0;
        return $v + 0;
    }

    return undef;
}

sub invariant_ok {
    my ($when) = @_;

    Test::More::is(metric(status(), 'store_invariant_ok', 'zone="sessions"'),
                   1, "$when: store_invariant_ok is 1");
}

# changes were made: wait for the sync timer's next snapshot (and a little
# more, in case that write began before the last change)

sub wait_snapshot {
    my ($when) = @_;

    # every change written: whether the timer wrote before this call or
    # after it (a count of writes taken now may already include the one
    # that was awaited, on a loaded machine)

    my $u;

    for (1 .. 400) {
        $u = metric(status(), 'state_unwritten', 'zone="sessions"');
        last if defined $u && $u == 0;
        Time::HiRes::sleep(0.05);
    }

    Test::More::ok(defined $u && $u == 0,
                   "$when: embed_session_state_unwritten is 0 (the sync "
                   . "timer wrote every change)");
}


# the nginx process ###########################################################

# conf/nginx.conf: size => ZONE SIZE, state => PATH, state_errors => MODE,
# state_key => FILE, state_loss => MODE, state_epoch => FILE,
# per_key => N, zone => more parameters, user => "user ...;", http =>
# more of the http block, locations => more of the server

sub write_conf {
    my (%o) = @_;

    my $state = $o{state} // $STATE;
    my $errors = $o{state_errors} ? " state_errors=$o{state_errors}" : '';
    $errors .= " state_key=$o{state_key}" if $o{state_key};
    $errors .= " state_loss=$o{state_loss}" if $o{state_loss};
    $errors .= " state_epoch=$o{state_epoch}" if $o{state_epoch};
    $errors .= " per_key=$o{per_key}" if $o{per_key};
    $errors .= " $o{zone}" if $o{zone};
    my $user = $o{user} // ($> == 0 ? 'user root;' : '');
    my $http = $o{http} // '';
    my $tail = server_conf($PORT) . ($o{locations} // '') . "    }\n}\n";

    put("$PREFIX/conf/nginx.conf", <<"_EOC_" . $tail);
@{[ EmbedSessionTest::es_load_module() ]}error_log logs/error.log info;
pid logs/nginx.pid;
master_process on;
daemon on;
worker_processes 2;
$user
events { worker_connections 64; }

http {
    access_log off;

    embed_session_api_keys    zone=keys:1m file=$PREFIX/conf/keys.txt;
    embed_session_store_zone  zone=sessions:$o{size} state=$state sync=100ms$errors;
$http

    server {
        listen 127.0.0.1:$PORT;
_EOC_
}

# (exit code, stdout and stderr) of the nginx binary with our prefix

sub run_nginx {
    my (@args) = @_;

    my $cmd = join ' ', map { quotemeta } $BIN, '-p', "$PREFIX/",
                                          '-c', 'conf/nginx.conf', @args;
    my $out = `$cmd 2>&1`;

    return ($? >> 8, $out);
}

sub start_nginx {
    my ($name) = @_;

    my ($rc, $out) = run_nginx();

    if ($rc != 0) {
        Test::More::fail("$name: nginx starts");
        Test::More::diag($out);
        return 0;
    }

    # ready when /status answers

    for (1 .. 200) {
        $MASTER = running_pid();
        my $r = $MASTER ? call('GET', '/status') : { status => 0 };

        if ($r->{status} == 200) {
            Test::More::pass("$name: nginx starts");
            return 1;
        }

        Time::HiRes::sleep(0.05);
    }

    Test::More::fail("$name: nginx starts (no answer on /status)");
    return 0;
}

# HUP, then wait until the workers are all new ones

sub reload_nginx {
    my ($name) = @_;

    my %old = map { $_ => 1 } worker_pids($MASTER);

    kill 'HUP', $MASTER;

    for (1 .. 400) {
        my @w = worker_pids($MASTER);

        if (@w == 2 && !grep { $old{$_} } @w) {
            Test::More::pass("$name: new workers");
            return 1;
        }

        Time::HiRes::sleep(0.05);
    }

    Test::More::fail("$name: new workers");
    Test::More::diag(log_since(0) =~ /((?:.*\n){0,10})\z/ ? $1 : '');
    return 0;
}

sub stop_nginx {
    my ($name) = @_;

    my $pid = $MASTER;

    return 1 unless $pid && alive($pid);

    kill 'QUIT', $pid;

    for (1 .. 400) {
        if (!alive($pid)) {
            Test::More::pass("$name: nginx stops") if defined $name;
            $MASTER = undef;
            return 1;
        }

        Time::HiRes::sleep(0.05);
    }

    Test::More::fail("$name: nginx stops") if defined $name;

    # our own master, by its pid: make sure it goes
    kill 'TERM', $pid;
    Time::HiRes::sleep(1);
    kill 'KILL', $pid if alive($pid);
    $MASTER = undef;

    return 0;
}

# the master's pid from the pid file, when it runs

sub running_pid {
    my $file = "$PREFIX/logs/nginx.pid";
    return undef unless -e $file;

    my $pid = get($file);
    chomp $pid;

    return $pid =~ /^\d+$/ && alive($pid) ? $pid : undef;
}

# state and parent of a process, from /proc

sub proc_stat {
    my ($pid) = @_;

    open my $fh, '<', "/proc/$pid/stat" or return;
    my $line = <$fh>;
    close $fh;

    return $line =~ /\)\s+(\S)\s+(\d+)/ ? ($1, $2) : ();
}

sub alive {
    my ($pid) = @_;

    return 0 unless $pid && kill 0, $pid;

    my ($state) = proc_stat($pid);

    # the master is not our child: once it exits it may stay a zombie
    return defined $state && $state ne 'Z';
}

sub worker_pids {
    my ($master) = @_;
    my @w;

    opendir my $dh, '/proc' or return;

    for my $pid (grep { /^\d+$/ } readdir $dh) {
        my ($state, $ppid) = proc_stat($pid);
        push @w, $pid if defined $ppid && $ppid == $master && $state ne 'Z';
    }

    return sort { $a <=> $b } @w;
}


# the error log ###############################################################

sub log_size {
    return -s "$PREFIX/logs/error.log" // 0;
}

sub log_since {
    my ($mark) = @_;

    my $log = -e "$PREFIX/logs/error.log" ? get("$PREFIX/logs/error.log") : '';
    return substr $log, $mark // 0;
}

sub no_trouble {
    my ($mark, $when) = @_;

    Test::More::unlike(log_since($mark),
                       qr/\[(?:emerg|alert|crit)\]|exited on signal/,
                       "$when: nothing at crit or above in the log");
}


# files #######################################################################

sub put {
    my ($path, $text) = @_;

    open my $fh, '>', $path or die "$path: $!\n";
    binmode $fh;
    print {$fh} $text;
    close $fh or die "$path: $!\n";
}

sub get {
    my ($path) = @_;

    open my $fh, '<', $path or die "$path: $!\n";
    binmode $fh;
    local $/;

    return scalar <$fh>;
}


1;
