# The state file as a whole (security review M1, docs/security.md rule 21):
# with state_key= each record is signed, and so is the file, header and
# record count included; with state_epoch= the master keeps the generation
# of the last file in a place the workers cannot write.  Whoever can write
# the state directory (the workers' user) cannot then bring a revocation or
# a spent ticket back by
#
#   (a) deleting the state file,
#   (b) restoring an older, correctly signed copy of it,
#   (c) cutting a record out of it,
#
# while nginx is stopped: each is a loss of state, refused with the default
# state_errors=stop (nginx -t and the start fail, naming what is wrong);
# with state_errors=start, state_loss=revoke (the default) ends every
# session and ticket from before the loss, those the zone knows and those
# it does not; state_loss=keep keeps what is left.  While nginx runs, the
# zone is the judge: an older copy put in place is written over.
#
# Then the state file and the epoch file as hostile input (review L5): a
# FIFO, a link, a file that would take the master's CPU for minutes.
#
# The workers run as nobody (the test runs as root): the state directory
# is theirs, the epoch's is root's.  Blocks first: the configuration
# errors of state_epoch=, state_loss= and per_key=.

use FindBin;
use lib "$FindBin::Bin/lib";
use EmbedSessionTest;
use EmbedSessionMint;
use EmbedSessionState;
use EmbedSessionLive;

use File::Path ();
use POSIX ();
use Time::HiRes ();

repeat_each(1);
no_shuffle();

plan skip_all => 'needs root: the workers run as another user'
    unless $> == 0;

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

# the blocks' workers too (Test::Nginx would make them root's)

$Test::Nginx::Util::WorkerUser = 'nobody nogroup';

block_defaults(
    http_config => <<'_EOC_',
    embed_session_api_keys    zone=keys:1m file=$TEST_NGINX_HTML_DIR/store.api-keys;
_EOC_
    config     => server_conf('$TEST_NGINX_SERVER_PORT'),
    user_files => [['store.api-keys', $KEY_FILE]],
    request    => "GET /status\n",
);

run_tests();

rollback_live();

Test::More::done_testing();


our ($STATE_KEY, $EPOCH, $EPOCH_DIR, $NOBODY, $NOGROUP);

# the files of the state directory belong to the workers' user, as they
# would after the workers wrote them

sub put_state {
    my ($bytes) = @_;

    put($STATE, $bytes);
    chown $NOBODY, $NOGROUP, $STATE;
}

# state_errors=stop: nginx -t and the start fail, with LINE at emerg, and
# the file is left alone

sub refused_start {
    my ($w, $line, %conf) = @_;

    my $before = -e $STATE ? get($STATE) : undef;

    write_conf(%conf);

    my $mark = log_size();
    my ($rc, $out) = run_nginx('-t');
    $out .= log_since($mark);

    Test::More::isnt($rc, 0, "$w: nginx -t fails");
    Test::More::like($out, qr/\[emerg\].*$line/, "$w: nginx -t says why")
        or Test::More::diag($out);

    $mark = log_size();
    ($rc, $out) = run_nginx();
    $out .= log_since($mark);

    Test::More::isnt($rc, 0, "$w: the start fails");
    Test::More::like($out, qr/\[emerg\].*$line/, "$w: the start says why");

    if (my $pid = running_pid()) {
        $MASTER = $pid;
        stop_nginx("$w: stop the nginx that should not have started");
    }

    Test::More::is(-e $STATE ? get($STATE) : undef, $before,
                   "$w: the state file is left as it was");
}

sub epoch_of {
    return -e $EPOCH && get($EPOCH) =~ /\AESEPOCH1 (\d+)\n\z/ ? $1 : undef;
}

sub rollback_live {
    $BIN = $ENV{TEST_NGINX_BINARY} // 'nginx';
    $PREFIX = server_root() . '-rollback';
    $PORT = server_port() + 3;
    $URL = "http://127.0.0.1:$PORT";
    $STATE_DIR = "$PREFIX/state";
    $STATE = "$STATE_DIR/sessions.state";
    $EPOCH_DIR = "$PREFIX/epoch";
    $EPOCH = "$EPOCH_DIR/sessions.epoch";

    ($NOBODY, $NOGROUP) = ((getpwnam 'nobody')[2], (getgrnam 'nogroup')[2]);

    File::Path::remove_tree($PREFIX);
    File::Path::make_path("$PREFIX/conf", "$PREFIX/logs", $STATE_DIR,
                          $EPOCH_DIR);
    chown $NOBODY, $NOGROUP, $STATE_DIR;
    chmod 0755, $EPOCH_DIR;
    put("$PREFIX/conf/keys.txt", $KEY_FILE);

    my $tool = "$FindBin::Bin/../tools/embed-session-keys";
    my $out = `\Q$^X\E \Q$tool\E genkey --alg HS256 --kid state --out \Q$PREFIX/conf\E 2>&1`;

    $STATE_KEY = "$PREFIX/conf/state.jwks";
    my $K = b64url_decode(load_jwks($STATE_KEY)->[0]{k});

    my %conf = (size => '1m', state_key => $STATE_KEY, state_epoch => $EPOCH,
                user => 'user nobody nogroup;');

    # the state before and after: a session revoked (R), one live (L), a
    # ticket exchanged (X) and one pending (P)

    write_conf(%conf);
    start_nginx('rollback: first start') or return;

    my $R = mint('rollback-R');
    my $L = mint('rollback-L');
    my $X = generate('rollback-X');
    my $P = generate('rollback-P');

    wait_snapshot('rollback: the state before');
    my $before = get($STATE);

    Test::More::is(outcome(call('POST', '/revoke',
                                { session_id => $R->{session_id} }, auth())),
                   '200', 'rollback: revoke R');
    Test::More::is(outcome(exchange($X)), '200', 'rollback: exchange X');
    Test::More::is(outcome(exchange($X)), '409 EXCHANGE_USED',
                   'rollback: X is spent');
    Test::More::is(verify($R->{token}), '401 SESSION_REVOKED',
                   'rollback: R is refused');

    stop_nginx('rollback: stop') or return;

    my $after = get($STATE);
    my $fa = state_parse($after, 32, $K);
    my $fb = state_parse($before, 32, $K);

    Test::More::ok($fa && $fa->{whole} && $fb && $fb->{whole},
                   'rollback: both copies are whole, signed files');
    Test::More::cmp_ok($fb->{generation}, '<', $fa->{generation},
                       'rollback: the later copy has a higher generation');
    Test::More::is(epoch_of(), $fa->{generation},
                   'rollback: the epoch file holds the generation of the '
                   . 'last state file');

    my @st = stat $EPOCH;
    Test::More::ok(@st && $st[4] == 0 && !($st[2] & 022),
                   'rollback: the epoch file is root\'s, and no one else '
                   . 'can write it');

    # each way to lose state: the bytes of the state file (undef: none),
    # and what nginx says

    my @recs = grep { uuid_text($_->{id}) ne $R->{session_id} }
               @{ $fa->{recs} };
    my $cut = substr($after, 0, $HEADER)
              . join('', map { substr($after, $_->{offset},
                                      8 + $_->{len} + 32) } @recs)
              . $fa->{trailer};

    my $gen = $fa->{generation};

    my @ways = (
        [ '(a) the state file deleted', undef,
          qr/state file "\Q$STATE\E" is missing, and the epoch file "\Q$EPOCH\E" says that generation $gen of it was written/ ],
        [ '(b) an older copy, correctly signed', $before,
          qr/state file "\Q$STATE\E" is an older copy: generation $fb->{generation}, $gen was written since/ ],
        [ '(c) the revoked session\'s record cut out', $cut,
          qr/state file "\Q$STATE\E" is not whole/ ],
    );

    for my $way (@ways) {
        my ($what, $bytes, $line) = @$way;
        my $w = "rollback $what";

        Test::More::ok(@recs == @{ $fa->{recs} } - 1, "$w: R had a record")
            if defined $bytes && $bytes eq $cut;

        if (defined $bytes) {
            put_state($bytes);

        } else {
            unlink $STATE;
        }

        refused_start($w, $line, %conf);

        # state_errors=start, state_loss=revoke (the default)

        write_conf(%conf, state_errors => 'start');
        my $mark = log_size();

        start_nginx("$w: state_errors=start") or next;

        Test::More::like(log_since($mark),
                         qr/\[alert\].*every session and ticket from before it is revoked \(state_loss=revoke\)/,
                         "$w: the loss is logged, and what it costs");

        Test::More::is(verify($R->{token}), '401 SESSION_REVOKED',
                       "$w: the revoked session stays refused");
        Test::More::is(verify($L->{token}), '401 SESSION_REVOKED',
                       "$w: a session from before the loss is refused");
        Test::More::is(outcome(exchange($X)), '404 EXCHANGE_NOT_FOUND',
                       "$w: the spent ticket is not exchanged again");
        Test::More::is(outcome(exchange($P)), '404 EXCHANGE_NOT_FOUND',
                       "$w: nor a pending one from before the loss");
        Test::More::like(outcome(refresh($L)),
                         qr/^(?:401 SESSION_REVOKED|404 SESSION_NOT_FOUND)$/,
                         "$w: nor refreshed");

        my $new = mint("$w: new");
        Test::More::is(verify($new->{token}), '200',
                       "$w: a session minted after the loss passes");

        my $st = status();
        Test::More::is(metric($st, 'state_losses_total', 'zone="sessions"'),
                       1, "$w: embed_session_state_losses_total is 1");
        invariant_ok($w);

        stop_nginx("$w: stop") or next;

        # what the loss cost is in the next file: a start without
        # state_errors=start reads it cleanly and keeps refusing

        $mark = log_size();
        write_conf(%conf);
        start_nginx("$w: the next start, state_errors=stop") or next;

        Test::More::unlike(log_since($mark), qr/\[(?:emerg|alert)\]/,
                           "$w: the file written after the loss reads "
                           . "back cleanly");
        Test::More::is(verify($L->{token}), '401 SESSION_REVOKED',
                       "$w: ... and still refuses what came before");
        Test::More::is(verify($new->{token}), '200',
                       "$w: ... and passes what came after");

        stop_nginx("$w: stop again");

        put_state($after);
        put($EPOCH, "ESEPOCH1 $gen\n");
    }

    # state_loss=keep: what the zone holds stays, what it lost is unknown

    unlink $STATE;
    write_conf(%conf, state_errors => 'start', state_loss => 'keep');
    my $mark = log_size();

    if (start_nginx('rollback, state_loss=keep: start without the file')) {
        Test::More::like(log_since($mark),
                         qr/\[alert\].*the sessions it lost are taken as unknown \(state_loss=keep\)/,
                         'rollback, state_loss=keep: the loss is logged');
        Test::More::is(verify($L->{token}), '200',
                       'rollback, state_loss=keep: a session the zone lost '
                       . 'passes as unknown (what keep means)');
        stop_nginx('rollback, state_loss=keep: stop');
    }

    # the workers as root could write the epoch file themselves

    write_conf(%conf, user => 'user root;');
    my (undef, $tout) = run_nginx('-t');
    Test::More::like($tout, qr/\[emerg\].*state_epoch="\Q$EPOCH\E" needs worker processes that run as another user than the master/,
                     'state_epoch= with workers that run as root: refused');

    running_rollback(%conf);
    hostile_files(%conf);
}

# while nginx runs, the zone knows better than any file

sub running_rollback {
    my (%conf) = @_;

    my $w = 'rollback while running';

    unlink $STATE, $EPOCH;
    write_conf(%conf);
    start_nginx("$w: start") or return;

    my $S = mint('running-S');
    wait_snapshot("$w: a snapshot with S live");
    my $old = get($STATE);

    Test::More::is(outcome(call('POST', '/revoke',
                                { session_id => $S->{session_id} }, auth())),
                   '200', "$w: revoke S");
    wait_snapshot("$w: a snapshot with S revoked");

    my $mark = log_size();
    put_state($old);

    # the next sweep finds the file changed, and older than the zone's

    my $seen;
    for (1 .. 100) {
        $seen = log_since($mark) =~ /was replaced by an older copy .*written over/;
        last if $seen;
        Time::HiRes::sleep(0.05);
    }

    Test::More::ok($seen, "$w: the older copy is found, and written over");
    Test::More::is(verify($S->{token}), '401 SESSION_REVOKED',
                   "$w: S stays revoked");

    stop_nginx("$w: stop") or return;

    write_conf(%conf);
    start_nginx("$w: start on the file written over") or return;
    Test::More::is(verify($S->{token}), '401 SESSION_REVOKED',
                   "$w: S is revoked after a restart too");
    stop_nginx("$w: stop again");
}

# L5: nothing at the state or epoch path holds or floods the master

sub hostile_files {
    my (%conf) = @_;

    my $timeout = sub {
        my ($w, @args) = @_;
        my ($rc, $out) = run_nginx_timeout(60, @args);
        Test::More::isnt($rc, 124, "$w: nginx -t ends (not killed after "
                                   . '60 s)');
        return ($rc, $out);
    };

    # a FIFO: open() would wait for a writer for ever

    unlink $STATE, $EPOCH;
    POSIX::mkfifo($STATE, 0600);
    write_conf(%conf);

    my ($rc, $out) = $timeout->('a FIFO at state=', '-t');
    Test::More::like($out, qr/\[emerg\].*state file "\Q$STATE\E" is not a regular file/,
                     'a FIFO at state=: refused, named');
    unlink $STATE;

    POSIX::mkfifo($EPOCH, 0600);
    ($rc, $out) = $timeout->('a FIFO at state_epoch=', '-t');
    Test::More::like($out, qr/\[emerg\].*"\Q$EPOCH\E" must be a regular file/,
                     'a FIFO at state_epoch=: refused, named');
    unlink $EPOCH;

    # a link: never followed

    symlink "$PREFIX/conf/keys.txt", $STATE;
    ($rc, $out) = $timeout->('a link at state=', '-t');
    Test::More::like($out, qr/\[emerg\].*\Q$STATE\E.*a symbolic link/,
                     'a link at state=: refused, named');
    unlink $STATE;

    # a file that sends the search for the next record after a broken
    # length round every byte (4 MiB cost 18.8 s of CPU before; 16 MiB
    # here, in a zone large enough to allow such a file)

    my $junk = "\x80\x10\x00\x00" x (4 * 1024 * 1024);
    put_state('ESSTATE2' . pack('L L Q q L L q', $RSIZE, 1, 1, 0, 1, 0, 0)
              . pack('L', 0xffffffff) . $junk);

    write_conf(%conf, size => '32m');
    ($rc, $out) = $timeout->('a 16 MiB file of broken lengths', '-t');
    Test::More::like($out, qr/\[emerg\].*\Q$STATE\E/,
                     'a 16 MiB file of broken lengths: refused, named');

    unlink $STATE;
}

sub run_nginx_timeout {
    my ($secs, @args) = @_;

    my $cmd = join ' ', 'timeout', $secs,
                        map { quotemeta } $BIN, '-p', "$PREFIX/",
                                          '-c', 'conf/nginx.conf', @args;
    my $out = `$cmd 2>&1`;

    return ($? >> 8, $out);
}

__DATA__

=== TEST 1: state_epoch= without state=
--- http_config
    embed_session_api_keys    zone=keys:1m file=$TEST_NGINX_HTML_DIR/store.api-keys;
    embed_session_store_zone  zone=sessions:1m state_epoch=$TEST_NGINX_HTML_DIR/s.epoch;
--- must_die
--- error_log eval
qr/\[emerg\].*"state_epoch=" without "state="/



=== TEST 2: state_epoch= in a directory that the workers can write to
--- http_config
    embed_session_api_keys    zone=keys:1m file=$TEST_NGINX_HTML_DIR/store.api-keys;
    embed_session_store_zone  zone=sessions:1m state=$TEST_NGINX_HTML_DIR/s.state state_epoch=/tmp/s.epoch;
--- must_die
--- error_log eval
qr/\[emerg\].*the directory of state_epoch="\/tmp\/s\.epoch" must exist, and the worker processes must not be able to write to it/



=== TEST 3: an epoch file that is not one
--- http_config
    embed_session_api_keys    zone=keys:1m file=$TEST_NGINX_HTML_DIR/store.api-keys;
    embed_session_store_zone  zone=sessions:1m state=$TEST_NGINX_HTML_DIR/s.state state_epoch=$TEST_NGINX_HTML_DIR/s.epoch;
--- user_files eval
[['store.api-keys', $main::KEY_FILE], ['s.epoch', "ESEPOCH1 12x\n"]]
--- must_die
--- error_log eval
qr/\[emerg\].*"[^"]*s\.epoch" is not an epoch file/



=== TEST 4: state_loss= takes revoke or keep
--- http_config
    embed_session_api_keys    zone=keys:1m file=$TEST_NGINX_HTML_DIR/store.api-keys;
    embed_session_store_zone  zone=sessions:1m state=$TEST_NGINX_HTML_DIR/s.state state_loss=forget;
--- must_die
--- error_log eval
qr/\[emerg\].*invalid parameter "state_loss=forget"/



=== TEST 5: per_key= is a number of records, at least 1
--- http_config
    embed_session_api_keys    zone=keys:1m file=$TEST_NGINX_HTML_DIR/store.api-keys;
    embed_session_store_zone  zone=sessions:1m per_key=0;
--- must_die
--- error_log eval
qr/\[emerg\].*invalid "per_key=0": a number of records, at least 1/



=== TEST 6: state_loss=keep, state_epoch= and per_key= together, no epoch file yet
--- http_config
    embed_session_api_keys    zone=keys:1m file=$TEST_NGINX_HTML_DIR/store.api-keys;
    embed_session_store_zone  zone=sessions:1m state=$TEST_NGINX_HTML_DIR/s.state state_epoch=$TEST_NGINX_HTML_DIR/s.epoch state_loss=keep per_key=100;
--- response_body_like
(?m)^embed_session_state_losses_total\{zone="sessions"\} 0$
--- no_error_log
[error]
