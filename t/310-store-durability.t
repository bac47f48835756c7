# Store durability (issue 4; docs/security.md rule 21: a revocation is
# never lost on reload, restart, or reload with a changed zone size).
#
# First the configuration errors of embed_session_store_zone and
# embed_session_store, as Test::Nginx blocks (nginx -t must fail).
#
# Then, on an nginx of our own (master process, 2 workers, a private prefix
# under the servroot, port TEST_NGINX_PORT + 1), every event a store zone
# must survive, each checked with state made before it: a revoked session,
# a session token refreshed away, a consumed renew token, a used exchange
# ticket, a pending exchange ticket (exchangeable exactly once after the
# event) and a current renew token that still refreshes:
#
#   1. nginx -s reload (kill -HUP) with the same zone size: the zone is
#      reused;
#   2. a reload that changes the zone size (conf edited, kill -HUP): the
#      new zone takes the old zone's records and the state file's (the
#      sync timer has written it before the reload);
#   3. a full stop (kill -QUIT, wait for the master to exit) and a start,
#      with no wait for the sync timer before the stop (the exit writes);
#   then, as a control, a start without the state file forgets the
#   revocations (so the checks above were not vacuous);
#   4. corrupt state files (truncated in the middle of a record, one
#      flipped byte in a record, not a state file at all): with the
#      default state_errors=stop, nginx -t and a start fail naming the
#      file, the record and the offset; with state_errors=start nginx
#      starts with the records before the bad one, logs, and keeps the bad
#      file as PATH.corrupt;
#   5. a missing state file (first start) is fine; a state directory the
#      workers cannot write is logged at the first snapshot and counted in
#      embed_session_state_write_failures_total;
#   6. a binary upgrade (USR2, WINCH, QUIT of the old master) is not
#      tested here: see the skip at the end.
#
# Then a second nginx of our own (prefix servroot-signed, port
# TEST_NGINX_PORT + 2) with state_key= (an HS256 JWK made by
# tools/embed-session-keys genkey): every record of the state file is
# followed by an HMAC-SHA256 of its length, CRC and body, header flag 1.
#
#   7. the signed file: the flag, the records 32 bytes longer, each HMAC
#      checked here with the key; everything of 1.-3. survives a stop and
#      start and a reload with a new size;
#   8. a signed file and a zone without state_key, an unsigned file and a
#      zone with one, a file signed with another key: refused (nginx -t
#      and start), with state_errors=start logged and kept as
#      PATH.corrupt; the same records unsigned are fine without a key;
#   9. forged records with a correct CRC32: a ticket of our own claims
#      appended with a wrong HMAC (zeros, another key) or none, the
#      pending ticket's claims replaced, a revoked session's flag
#      cleared: with state_errors=stop nginx -t and the start fail naming
#      the record and the offset; with state_errors=start the forged
#      ticket is not exchangeable, the intact records hold, and the
#      session a rejected record names is revoked as a precaution; as the
#      control, the same forged ticket with an HMAC under the state_key is
#      taken (so the HMAC is what refuses the others).
#
# The configuration errors of state_key= are blocks: without state=, a
# short secret, a file that does not exist, not one HS256 key.
#
# Keys: HS256 (t/data/keys/hs256.jwks), one API key of our own.  The
# refresh location has grace=0, so a replaced renew token is reuse at once;
# the consumed renew token checked across events is two generations old,
# which is reuse whatever the grace.

use FindBin;
use lib "$FindBin::Bin/lib";
use EmbedSessionTest;
use EmbedSessionMint;
use EmbedSessionState;
use EmbedSessionLive;

use Compress::Zlib ();
use Digest::SHA ();
use File::Path ();
use HTTP::Tiny;
use JSON::PP ();
use Time::HiRes ();

repeat_each(1);
no_shuffle();

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

block_defaults(
    http_config => <<'_EOC_',
    embed_session_api_keys    zone=keys:1m file=$TEST_NGINX_HTML_DIR/store.api-keys;
    embed_session_store_zone  zone=sessions:1m;
_EOC_
    config     => server_conf('$TEST_NGINX_SERVER_PORT'),
    user_files => [['store.api-keys', $KEY_FILE]],
    request    => "GET /status\n",
);

run_tests();

store_live();

signed_live();

Test::More::done_testing();


# one session in two records, as two zones side by side write them (a
# reload that changed the zone's size, a binary upgrade): the first zone
# revoked it when its last token had expired; the second rotated it since,
# and issued a later token (then revoked it too, or not).  The record they
# merge into is revoked, and kept until that later token has expired: it
# used to go with the first zone's last token, and the later token was then
# taken for one of a session the zone does not know (found by
# fuzz/fuzz_state).

sub merge_ids {
    return (pack('H*', '5e55104e00004000800000000000aaaa'),
            pack('H*', '5e55104e00004000800000000000bbbb'));
}

sub merge_state {
    my ($revoked) = @_;
    my ($sid, $jti) = merge_ids();
    my $now = time;

    my $first = record_body(id => $sid, flags => $F_REVOKED,
                            expires => $now + 3600, end => $now + 3600,
                            iat => $now - 900, exp => $now - 600);

    my $second = record_body(id => $sid, gen => $jti, prev => $sid,
                             seq => 1,
                             rotated => $now - 10,
                             flags => $revoked ? $F_REVOKED : 0,
                             expires => $now + 3600, end => $now + 3600,
                             iat => $now - 10, exp => $now + 300);

    return state_file(records => [ state_rec($first), state_rec($second) ]);
}

# the other way round: the first record live, the second revoked after
# its last token expired, so that its own expiry has passed too (a zone
# writes such a record before it lets it go): it still ends the session
# (it was taken for nothing: the zone kept the session live)

sub merge_state_expired {
    my ($sid, $jti) = merge_ids();
    my $now = time;

    my $live = record_body(id => $sid, gen => $jti, prev => $sid, seq => 1,
                           rotated => $now - 10,
                           expires => $now + 3600, end => $now + 3600,
                           iat => $now - 10, exp => $now + 300);

    my $revoked = record_body(id => $sid, flags => $F_REVOKED,
                              expires => $now - 570, end => $now + 3600,
                              iat => $now - 900, exp => $now - 600);

    return state_file(records => [ state_rec($live), state_rec($revoked) ]);
}

sub merge_token {
    my ($sid, $jti) = merge_ids();
    my $now = time;

    return token(claims => { sid => uuid_text($sid), jti => uuid_text($jti),
                             iat => $now - 10, exp => $now + 300 });
}


# the live nginx ##############################################################

sub store_live {
    $BIN = $ENV{TEST_NGINX_BINARY} // 'nginx';
    $PREFIX = server_root() . '-store';
    $PORT = server_port() + 1;
    $URL = "http://127.0.0.1:$PORT";
    $STATE_DIR = "$PREFIX/state";
    $STATE = "$STATE_DIR/sessions.state";

    File::Path::remove_tree($PREFIX);
    File::Path::make_path("$PREFIX/conf", "$PREFIX/logs", $STATE_DIR);
    put("$PREFIX/conf/keys.txt", $KEY_FILE);

    # 5. first start: no state file yet ----------------------------------

    write_conf(size => '1m');

    Test::More::ok(!-e $STATE, 'first start: there is no state file');

    my $mark = log_size();

    start_nginx('first start without a state file')
        or return Test::More::fail('live: nginx did not start, the rest '
                                   . 'cannot run');

    Test::More::unlike(log_since($mark), qr/\[(?:emerg|alert|crit|error)\]/,
                       'first start: a missing state file is not an error');
    invariant_ok('first start');

    # this file's refresh location has grace=0 ("0 disables"): the
    # replaced renew token presented again at once is reuse

    my $g0 = mint('grace');
    my $g1 = refresh_ok($g0, 'grace=0: refresh');
    Test::More::is(outcome(refresh($g0)), '401 RENEW_TOKEN_REUSED',
                   'grace=0: the replaced renew token at once is reuse, '
                   . 'not the successor again');

    my $set1 = make_set('set1');

    # 1. reload, same zone size: the zone is reused ------------------------

    $mark = log_size();

    reload_nginx('reload with the same zone size')
        or return Test::More::fail('live: reload failed, the rest cannot run');

    check_fresh($set1, 'reload, same size');
    invariant_ok('reload, same size');
    no_trouble($mark, 'reload, same size');

    my $set2 = make_set('set2');

    wait_snapshot('before the reload with a new zone size');

    Test::More::ok(-s $STATE, 'the sync timer wrote the state file');

    # 2. reload with a changed zone size: the new zone reads the file ------

    write_conf(size => '2m');
    $mark = log_size();

    reload_nginx('reload with a changed zone size (1m -> 2m)')
        or return Test::More::fail('live: reload failed, the rest cannot run');

    my $st = status();
    my $used = metric($st, 'store_bytes_used', 'zone="sessions"');
    my $free = metric($st, 'store_bytes_free', 'zone="sessions"');

    Test::More::cmp_ok(($used // 0) + ($free // 0), '>', 1024 * 1024,
                       'reload, new size: the zone really is a new, larger '
                       . 'one (bytes used + free > 1m)')
        or Test::More::diag("used: " . ($used // 'none')
                            . ", free: " . ($free // 'none'));

    check_old($set1, 'reload, new size');
    check_fresh($set2, 'reload, new size');
    invariant_ok('reload, new size');
    no_trouble($mark, 'reload, new size');

    # 3. stop and start, the stop right after the changes: the exit writes -

    my $set3 = make_set('set3');

    $mark = log_size();

    stop_nginx('stop (QUIT) right after changes')
        or return Test::More::fail('live: nginx did not stop');

    Test::More::ok(-s $STATE, 'stop: the state file is there');

    start_nginx('start again with state=')
        or return Test::More::fail('live: nginx did not start again');

    check_old($set1, 'restart');
    check_old($set2, 'restart');
    check_fresh($set3, 'restart');
    invariant_ok('restart');
    no_trouble($mark, 'restart');

    # control: a start without the state file forgets (the sid is unknown
    # to the zone and passes), so the checks above were not vacuous

    stop_nginx('stop before the control') or return;
    unlink $STATE;
    unlink "$STATE.corrupt";
    $mark = log_size();

    start_nginx('start without the state file') or return;

    Test::More::unlike(log_since($mark), qr/\[(?:emerg|alert|crit|error)\]/,
                       'control: a start without the state file is no error');

    Test::More::is(verify($set1->{A}{token}), '200',
                   'control: without the state file a revoked token of set1 '
                   . 'passes again (the zone forgot it)');

    # 4. corrupt state files ---------------------------------------------

    corrupt_files();

    # 5. an unwritable state directory ------------------------------------

    unwritable_dir();

    # 6. binary upgrade ---------------------------------------------------

    SKIP: {
        Test::More::skip('binary upgrade (kill -USR2, the new master reads '
                         . 'the state file written by the old generation, '
                         . 'WINCH, QUIT of the old master; both generations '
                         . 'merge their snapshots) needs a second binary and '
                         . 'its timing: not tested here', 1);
    }

    stop_nginx('the end');

    my $log = get("$PREFIX/logs/error.log");

    Test::More::unlike($log, qr/exited on signal|segmentation fault/i,
                       'live: no worker crashed in the whole run');
    Test::More::unlike($log, qr/\Q$RAW\E/, 'live: the API key is never logged');
}


# the sets of state ###########################################################
#
# make_set(TAG) builds, and checks once:
#   A  a minted session, revoked
#   B  a session refreshed twice (B0 -> B1 -> B2); B0's renew token is
#      two generations old: consumed whatever the grace window
#   D  a session refreshed once (D0 -> D1); D1's renew token is current
#   T  an exchange ticket, pending
#   U  an exchange ticket, exchanged

sub make_set {
    my ($tag) = @_;
    my %s = (tag => $tag);

    $s{A} = mint("$tag-A");
    my $r = call('POST', '/revoke', { session_id => $s{A}{session_id} },
                 auth());
    Test::More::is(outcome($r), '200', "$tag: revoke A");
    Test::More::is($r->{content},
                   '{"session_id":"' . $s{A}{session_id} . '","revoked":true}',
                   "$tag: the revoke answer");
    Test::More::is(verify($s{A}{token}), '401 SESSION_REVOKED',
                   "$tag: A is revoked");

    $s{B0} = mint("$tag-B");
    $s{B1} = refresh_ok($s{B0}, "$tag: refresh B");
    $s{B2} = refresh_ok($s{B1}, "$tag: refresh B again");
    Test::More::is(verify($s{B0}{token}), '401 SESSION_REVOKED',
                   "$tag: B's first token is refused after the refreshes");
    Test::More::is(verify($s{B1}{token}), '401 SESSION_REVOKED',
                   "$tag: B's second token too");
    Test::More::is(verify($s{B2}{token}), '200',
                   "$tag: B's third token passes");

    $s{D0} = mint("$tag-D");
    $s{D1} = refresh_ok($s{D0}, "$tag: refresh D");

    $s{T} = generate("$tag-T");

    $s{U} = generate("$tag-U");
    Test::More::is(outcome(exchange($s{U})), '200', "$tag: exchange U");
    Test::More::is(outcome(exchange($s{U})), '409 EXCHANGE_USED',
                   "$tag: U cannot be exchanged twice");

    return \%s;
}

# the first check of a set after an event: also the destructive ones

sub check_fresh {
    my ($s, $when) = @_;
    my $tag = $s->{tag};
    my $w = "$when: $tag";

    Test::More::is(verify($s->{A}{token}), '401 SESSION_REVOKED',
                   "$w: the revoked session stays revoked");
    Test::More::is(verify($s->{B0}{token}), '401 SESSION_REVOKED',
                   "$w: a token refreshed away stays refused");
    Test::More::is(verify($s->{B1}{token}), '401 SESSION_REVOKED',
                   "$w: ... and the next one too");
    Test::More::is(verify($s->{B2}{token}), '200',
                   "$w: the current generation still passes");
    Test::More::is(outcome(exchange($s->{U})), '409 EXCHANGE_USED',
                   "$w: a used ticket stays used");

    my $r = exchange($s->{T});
    Test::More::is(outcome($r), '200',
                   "$w: the pending ticket can be exchanged");
    $s->{T_token} = ref $r->{json} eq 'HASH' ? $r->{json}{token} // '' : '';
    Test::More::is(verify($s->{T_token}), '200',
                   "$w: the exchanged token passes");
    Test::More::is(outcome(exchange($s->{T})), '409 EXCHANGE_USED',
                   "$w: ... and only once");

    Test::More::is(outcome(refresh($s->{B0})), '401 RENEW_TOKEN_REUSED',
                   "$w: a consumed renew token stays consumed");
    Test::More::is(verify($s->{B2}{token}), '401 SESSION_REVOKED',
                   "$w: ... and its reuse revoked the family");

    $s->{D2} = refresh_ok($s->{D1}, "$w: the current renew token still "
                                    . "refreshes");
    Test::More::is(verify($s->{D1}{token}), '401 SESSION_REVOKED',
                   "$w: ... its old session token is refused");
    Test::More::is(verify($s->{D2}{token}), '200',
                   "$w: ... and the new one passes");
}

# a set already checked once: everything it ended with still holds

sub check_old {
    my ($s, $when) = @_;
    my $w = "$when: $s->{tag}";

    Test::More::is(verify($s->{A}{token}), '401 SESSION_REVOKED',
                   "$w: the revoked session stays revoked");
    Test::More::is(verify($s->{B2}{token}), '401 SESSION_REVOKED',
                   "$w: the family revoked for renew-token reuse stays "
                   . "revoked");
    Test::More::is(outcome(refresh($s->{B2})), '401 SESSION_REVOKED',
                   "$w: ... and cannot be refreshed");
    Test::More::is(outcome(exchange($s->{U})), '409 EXCHANGE_USED',
                   "$w: a used ticket stays used");
    Test::More::is(outcome(exchange($s->{T})), '409 EXCHANGE_USED',
                   "$w: the ticket exchanged after the previous event "
                   . "stays used");
    Test::More::is(verify($s->{T_token} // ''), '200',
                   "$w: its token still passes");
    Test::More::is(verify($s->{D1}{token}), '401 SESSION_REVOKED',
                   "$w: a token refreshed away stays refused");
    Test::More::is(verify($s->{D2}{token}), '200',
                   "$w: the current generation still passes");
}


# 4. corrupt state files ######################################################

sub corrupt_files {

    # a state file of known content: three revoked sessions, three live
    # ones and a pending ticket; the stop writes it

    my (@revoked, @live);

    push @revoked, mint("corrupt-C$_") for 1 .. 3;
    push @live, mint("corrupt-E$_") for 1 .. 3;
    my $ticket = generate('corrupt-T');

    for my $c (@revoked) {
        Test::More::is(outcome(call('POST', '/revoke',
                                    { session_id => $c->{session_id} },
                                    auth())),
                       '200', 'corrupt: revoke ' . $c->{session_id});
    }

    stop_nginx('corrupt: stop to write the state file') or return;

    my $good = get($STATE);

    # where each id is: as text or as its 16 bytes

    my %at;

    for my $id ((map { $_->{session_id} } @revoked, @live), $ticket) {
        my $pos = index $good, $id;

        if ($pos < 0) {
            (my $hex = $id) =~ s/-//g;
            $pos = index $good, pack('H*', $hex);
        }

        $at{$id} = $pos if $pos >= 0;
    }

    Test::More::is(scalar keys %at, 7,
                   'corrupt: every id can be found in the state file')
        or Test::More::diag('found: ' . join ' ', sort keys %at);

    return unless keys %at >= 2;

    # the bad record: the last one in the file; the revocations before it
    # must survive

    my ($victim) = sort { $at{$b} <=> $at{$a} } keys %at;
    my @kept = grep { defined $at{$_->{session_id}}
                      && $at{$_->{session_id}} < $at{$victim} } @revoked;

    Test::More::ok(@kept >= 1, 'corrupt: a revocation is stored before the '
                               . 'record that will be damaged');

    # the records (t/lib/EmbedSessionState.pm), numbered from 1, offsets
    # from the start of the file; len with the 8 bytes of length and CRC

    my $f = state_parse($good, 0);
    my @recs = map { { n => $_->{n}, offset => $_->{offset},
                       len => 8 + $_->{len} } } @{ $f ? $f->{recs} : [] };

    my ($bad) = grep { $_->{offset} <= $at{$victim}
                       && $at{$victim} < $_->{offset} + $_->{len} } @recs;

    Test::More::ok($bad && $recs[-1] == $bad,
                   'corrupt: the state file is a header and records, the '
                   . 'last record holds the last id')
        or return;

    my ($n, $off) = ($bad->{n}, $bad->{offset});

    my $flip = $good;
    substr($flip, $at{$victim} + 2, 1) ^= "\x01";

    # name, bytes, the line that tells what is wrong, the count kept

    my @variants = (
        [ 'truncated in the middle of a record',
          substr($good, 0, $at{$victim} + 4),
          qr/\Q$STATE\E.*\brecord $n\b.*\boffset $off\b.*truncat/,
          $n - 1 ],
        [ 'a flipped byte in a record',
          $flip,
          qr/\Q$STATE\E.*\brecord $n\b.*\boffset $off\b.*(?:checksum|crc)/i,
          @recs - 1 ],
        [ 'not a state file',
          "this is not a state file\n" x 20,
          qr/\Q$STATE\E.*not a state file/,
          0 ],
    );

    for my $v (@variants) {
        my ($what, $bytes, $line, $count) = @$v;
        my $w = "corrupt ($what)";
        my $is_garbage = $what eq 'not a state file';
        my $kept = $count ? qr/\b$count (?:intact )?records? kept/
                          : qr/\bno records? kept/;

        # state_errors=stop (the default): nginx -t and the start fail

        put($STATE, $bytes);
        unlink "$STATE.corrupt";
        write_conf(size => '1m');

        my $mark = log_size();
        my ($rc, $out) = run_nginx('-t');
        $out .= log_since($mark);

        Test::More::isnt($rc, 0, "$w: nginx -t fails");
        Test::More::like($out, qr/\[emerg\].*$line/,
                         "$w: nginx -t names the file, "
                         . ($is_garbage ? '' : "record $n, offset $off, ")
                         . 'what is wrong')
            or Test::More::diag($out);
        Test::More::like($out, $kept,
                         "$w: nginx -t says how many records were intact");

        Test::More::ok(get($STATE) eq $bytes && !-e "$STATE.corrupt",
                       "$w: nginx -t leaves the file alone");

        $mark = log_size();
        ($rc, $out) = run_nginx();
        $out .= log_since($mark);

        Test::More::isnt($rc, 0, "$w: the start fails");
        Test::More::like($out, qr/\[emerg\].*$line/,
                         "$w: the start names the file and what is wrong");

        if (my $pid = running_pid()) {
            $MASTER = $pid;
            stop_nginx("$w: stop the nginx that should not have started");
        }

        Test::More::ok(get($STATE) eq $bytes && !-e "$STATE.corrupt",
                       "$w: the failed start leaves the file alone");

        # state_errors=start: starts with the intact records

        write_conf(size => '1m', state_errors => 'start');
        $mark = log_size();

        start_nginx("$w: state_errors=start") or next;

        my $log = log_since($mark);

        Test::More::like($log, $line,
                         "$w: the problem is logged: the file, "
                         . ($is_garbage ? '' : "record $n, offset $off, ")
                         . 'what is wrong');
        Test::More::like($log, $kept,
                         "$w: ... and how many records were kept");

        Test::More::ok(-e "$STATE.corrupt", "$w: the bad file is kept as "
                                            . "PATH.corrupt");
        Test::More::ok((-e "$STATE.corrupt" ? get("$STATE.corrupt") : '')
                       eq $bytes,
                       "$w: ... with the bad bytes");

        if (!$is_garbage) {
            for my $c (@kept) {
                Test::More::is(verify($c->{token}), '401 SESSION_REVOKED',
                               "$w: a revocation before the bad record "
                               . "still holds");
            }
        }

        invariant_ok($w);

        # the next snapshot is a good file: a start with state_errors=stop

        stop_nginx("$w: stop") or next;
        write_conf(size => '1m');
        $mark = log_size();

        start_nginx("$w: restart with state_errors=stop on the new "
                    . "snapshot") or next;

        Test::More::unlike(log_since($mark), qr/\[(?:emerg|alert|crit)\]/,
                           "$w: the new snapshot reads back cleanly");

        if (!$is_garbage) {
            for my $c (@kept) {
                Test::More::is(verify($c->{token}), '401 SESSION_REVOKED',
                               "$w: the kept revocation is in the new "
                               . "snapshot");
            }
        }

        stop_nginx("$w: stop");
    }

    unlink "$STATE.corrupt";
}


# 5. an unwritable state directory ############################################

sub unwritable_dir {
    my $dir = "$PREFIX/ro";

    stop_nginx('unwritable: stop first');

    File::Path::remove_tree($dir);
    File::Path::make_path($dir);

    # root bypasses the permission bits: the workers run as nobody, the
    # directory belongs to root; otherwise the directory is read-only

    my $user = '';

    if ($> == 0) {
        chmod 0755, $dir;
        $user = 'user nobody nogroup;';

    } else {
        chmod 0555, $dir;
    }

    write_conf(size => '1m', state => "$dir/sessions.state",
               user => $user);

    my $mark = log_size();

    if (!start_nginx('unwritable: start')) {
        chmod 0755, $dir;
        return;
    }

    my $f0 = metric(status(), 'state_write_failures_total', 'zone="sessions"');

    Test::More::ok(defined $f0,
                   'unwritable: status has embed_session_state_write_failures_total');

    my $s = mint('unwritable');

    my $f = $f0;
    for (1 .. 100) {
        $f = metric(status(), 'state_write_failures_total', 'zone="sessions"');
        last if defined $f && defined $f0 && $f > $f0;
        Time::HiRes::sleep(0.05);
    }

    Test::More::cmp_ok($f // 0, '>', $f0 // 0,
                       'unwritable: the write failures counter goes up');

    my $log = log_since($mark);

    Test::More::like($log,
                     qr/\[(?:emerg|alert|crit|error|warn)\][^\n]*\Q$dir\E/,
                     'unwritable: the failed snapshot is logged with the path');
    Test::More::like($log, qr/\Q$dir\E[^\n]*(?:Permission denied|Read-only)/,
                     'unwritable: ... and the reason');

    Test::More::is(verify($s->{token}), '200',
                   'unwritable: nginx keeps serving');

    stop_nginx('unwritable: stop');
    chmod 0755, $dir;
}


# 7.-9. a signed state file (state_key=) #######################################

our ($STATE_KEY, $K);

sub signed_live {
    $PREFIX = server_root() . '-signed';
    $PORT = server_port() + 2;
    $URL = "http://127.0.0.1:$PORT";
    $STATE_DIR = "$PREFIX/state";
    $STATE = "$STATE_DIR/sessions.state";

    File::Path::remove_tree($PREFIX);
    File::Path::make_path("$PREFIX/conf", "$PREFIX/logs", $STATE_DIR);
    put("$PREFIX/conf/keys.txt", $KEY_FILE);

    # the state key, made as the documentation says

    my $tool = "$FindBin::Bin/../tools/embed-session-keys";
    my $out = `\Q$^X\E \Q$tool\E genkey --alg HS256 --kid state --out \Q$PREFIX/conf\E 2>&1`;

    $STATE_KEY = "$PREFIX/conf/state.jwks";

    Test::More::ok($? == 0 && -s $STATE_KEY,
                   'signed: tools/embed-session-keys genkey --alg HS256 '
                   . '--kid state makes the state key')
        or Test::More::diag($out);

    my $jwk = eval { load_jwks($STATE_KEY)->[0] } // {};
    $K = b64url_decode($jwk->{k} // '');

    Test::More::cmp_ok(length $K, '>=', 32,
                       'signed: the state key is a secret of 32 bytes or more')
        or return;

    # 7. signed: restart, reload with a new size ----------------------------

    write_conf(size => '1m', state_key => $STATE_KEY);

    my $mark = log_size();

    start_nginx('signed: first start with state_key=')
        or return Test::More::fail('signed: nginx did not start, the rest '
                                   . 'cannot run');

    Test::More::unlike(log_since($mark), qr/\[(?:emerg|alert|crit|error)\]/,
                       'signed: state_key= and no state file yet: no error');

    my $set1 = make_set('signed1');

    stop_nginx('signed: stop right after changes (the exit writes)')
        or return;

    signed_file_ok(get($STATE), 'signed: the snapshot written at exit',
                   revoked => [ $set1->{A}{session_id} ],
                   pending => [ $set1->{T} ]);

    $mark = log_size();

    start_nginx('signed: start again on the signed file') or return;

    check_fresh($set1, 'signed restart');
    invariant_ok('signed restart');
    no_trouble($mark, 'signed restart');

    my $set2 = make_set('signed2');

    wait_snapshot('signed: before the reload with a new zone size');

    signed_file_ok(get($STATE), 'signed: the snapshot of the sync timer',
                   revoked => [ map { $_->{A}{session_id} } $set1, $set2 ],
                   pending => [ $set2->{T} ]);

    write_conf(size => '2m', state_key => $STATE_KEY);
    $mark = log_size();

    reload_nginx('signed: reload with a changed zone size (1m -> 2m)')
        or return;

    check_old($set1, 'signed reload, new size');
    check_fresh($set2, 'signed reload, new size');
    invariant_ok('signed reload, new size');
    no_trouble($mark, 'signed reload, new size');

    stop_nginx('signed: stop') or return;

    write_conf(size => '1m', state_key => $STATE_KEY);
    $mark = log_size();

    start_nginx('signed: start after the reload') or return;

    check_old($set1, 'signed, second restart');
    check_old($set2, 'signed, second restart');
    invariant_ok('signed, second restart');
    no_trouble($mark, 'signed, second restart');

    stop_nginx('signed: stop before the key checks') or return;

    # 8. signed and unsigned files, zones with and without the key ----------

    my $signed = get($STATE);
    my $sf = state_parse($signed, 32, $K);

    return Test::More::fail('signed: the last snapshot is a signed file')
        unless $sf;

    my $recs = $sf->{recs};

    # the same records without their HMACs, header flag 0, a CRC32 trailer

    my $unsigned = state_file(records => [ map { state_rec($_->{body}) }
                                           @$recs ],
                              generation => $sf->{generation},
                              written => $sf->{written});

    Test::More::is(length($signed) - length($unsigned), 32 * @$recs + 28,
                   'signed: the records of the signed file are 32 bytes '
                   . 'longer than unsigned ones, its trailer 28');

    key_mismatch('a signed file, a zone without state_key', $signed, undef,
                 qr/state file "\Q$STATE\E" is signed, and the zone has no state_key/);

    key_mismatch('an unsigned file, a zone with state_key', $unsigned,
                 $STATE_KEY,
                 qr/state file "\Q$STATE\E" is not signed with the zone's state_key/);

    # a key rotated without care: every record fails its HMAC

    my $other = "$PREFIX/conf/other.jwks";
    put($other, get("$ENV{TEST_NGINX_ES_DATA}/keys/hs256-2.jwks"));

    key_mismatch('a file signed with another key', $signed, $other,
                 qr/state file "\Q$STATE\E": record 1 at offset $HEADER: not signed with the state_key/,
                 qr/\b${\ scalar @$recs} damaged record\(s\), 0 intact records kept/);

    # control: the records without HMACs, read by a zone without a key

    put($STATE, $unsigned);
    unlink "$STATE.corrupt";
    write_conf(size => '1m');
    $mark = log_size();

    if (start_nginx('unsigned control: the same records unsigned, a zone '
                    . 'without state_key'))
    {
        Test::More::unlike(log_since($mark),
                           qr/\[(?:emerg|alert|crit|error)\]/,
                           'unsigned control: read without a complaint');

        for my $s ($set1, $set2) {
            Test::More::is(verify($s->{A}{token}), '401 SESSION_REVOKED',
                           "unsigned control: $s->{tag}: the revocation "
                           . 'holds');
        }

        mint('unsigned control');

        stop_nginx('unsigned control: stop');

        my $file = get($STATE);
        my $uf = state_parse($file, 0);

        Test::More::ok($uf && $uf->{flags} == 0 && @{ $uf->{recs} }
                       && $uf->{whole},
                       'unsigned control: the zone without a key writes an '
                       . 'unsigned file (flag 0, no HMACs, a CRC32 '
                       . 'trailer)');

        key_mismatch('the unsigned file nginx wrote, a zone with state_key',
                     $file, $STATE_KEY,
                     qr/state file "\Q$STATE\E" is not signed with the zone's state_key/);
    }

    # 9. forged records ----------------------------------------------------

    forged_records();

    stop_nginx('signed: the end');

    my $log = get("$PREFIX/logs/error.log");

    Test::More::unlike($log, qr/exited on signal|segmentation fault/i,
                       'signed: no worker crashed in the whole run');
    Test::More::unlike($log, qr/\Q$RAW\E/,
                       'signed: the API key is never logged');
    Test::More::unlike($log, qr/\Q$jwk->{k}\E/,
                       'signed: the state key is never logged');
}

# a signed file as it should be: header flag 1, each record's length field
# plus 8 plus 32 to the end of the file, CRC32 and HMAC-SHA256 (of length,
# CRC and body, under the state key) right; the ids of REVOKED are revoked
# sessions, those of PENDING pending tickets

sub signed_file_ok {
    my ($bytes, $w, %o) = @_;

    my $f = state_parse($bytes, 32, $K);

    Test::More::ok(defined $f && $f->{version} == 2,
                   "$w: a header and records of length + CRC + body + "
                   . "32 bytes, to the trailer")
        or return;

    my $recs = $f->{recs};

    Test::More::is($f->{flags}, 1, "$w: the header's flags are 1 (signed)");
    Test::More::ok($f->{whole}, "$w: the trailer is the HMAC-SHA256 of the "
                                . 'file under the state key');
    Test::More::is($f->{count}, scalar @$recs,
                   "$w: the header counts the records");
    Test::More::cmp_ok($f->{generation}, '>', 0,
                       "$w: the header has a generation");

    Test::More::ok(@$recs > 0, "$w: it has records");

    my @bad_crc = grep { Compress::Zlib::crc32($_->{body}) != $_->{crc} }
                  @$recs;
    my @bad_mac = grep {
        Digest::SHA::hmac_sha256(substr($bytes, $_->{offset}, 8 + $_->{len}),
                                 $K) ne $_->{mac}
    } @$recs;

    Test::More::is(scalar @bad_crc, 0, "$w: every CRC32 is right");
    Test::More::is(scalar @bad_mac, 0,
                   "$w: every record's last 32 bytes are the HMAC-SHA256 "
                   . "of its length, CRC and body under the state key")
        or Test::More::diag('wrong: records '
                            . join ' ', map { $_->{n} } @bad_mac);

    my %by = map { uuid_text($_->{id}) => $_ } @$recs;

    for my $id (@{ $o{revoked} // [] }) {
        Test::More::ok($by{$id} && ($by{$id}{flags} & $F_REVOKED),
                       "$w: $id is a revoked session");
    }

    for my $id (@{ $o{pending} // [] }) {
        Test::More::ok($by{$id} && $by{$id}{flags} == $F_TICKET
                       && length $by{$id}{payload},
                       "$w: $id is a pending ticket with its claims");
    }

    return $recs;
}

# a state file's header, records, and zone configurations that do not
# agree on the key: nginx -t and the start fail with state_errors=stop;
# with state_errors=start nginx starts, logs the line and keeps the file
# as PATH.corrupt

sub key_mismatch {
    my ($what, $bytes, $key, $line, $kept) = @_;

    $kept //= qr/no record kept/;

    my $w = "key mismatch ($what)";

    refused($w, $bytes, $line, state_key => $key);

    write_conf(size => '1m', state_key => $key, state_errors => 'start');
    my $mark = log_size();

    start_nginx("$w: state_errors=start") or return;

    my $log = log_since($mark);

    Test::More::like($log, qr/\[alert\].*$line/,
                     "$w: state_errors=start: logged");
    Test::More::like($log, $kept, "$w: ... no record kept");
    Test::More::ok(-e "$STATE.corrupt" && get("$STATE.corrupt") eq $bytes,
                   "$w: state_errors=start: the file is kept as "
                   . "PATH.corrupt");
    invariant_ok($w);

    stop_nginx("$w: stop");
    unlink "$STATE.corrupt";
}

# with state_errors=stop: nginx -t and the start fail with LINE at emerg,
# and leave the file alone

sub refused {
    my ($w, $bytes, $line, %conf) = @_;

    put($STATE, $bytes);
    unlink "$STATE.corrupt";
    write_conf(size => '1m', %conf);

    my $mark = log_size();
    my ($rc, $out) = run_nginx('-t');
    $out .= log_since($mark);

    my $all = $out;

    Test::More::isnt($rc, 0, "$w: nginx -t fails");
    Test::More::like($out, qr/\[emerg\].*$line/, "$w: nginx -t says why")
        or Test::More::diag($out);

    Test::More::ok(get($STATE) eq $bytes && !-e "$STATE.corrupt",
                   "$w: nginx -t leaves the file alone");

    $mark = log_size();
    ($rc, $out) = run_nginx();
    $out .= log_since($mark);

    $all .= $out;

    Test::More::isnt($rc, 0, "$w: the start fails");
    Test::More::like($out, qr/\[emerg\].*$line/, "$w: the start says why")
        or Test::More::diag($out);

    if (my $pid = running_pid()) {
        $MASTER = $pid;
        stop_nginx("$w: stop the nginx that should not have started");
    }

    Test::More::ok(get($STATE) eq $bytes && !-e "$STATE.corrupt",
                   "$w: the failed start leaves the file alone");

    return $all;
}

# 9. records with a right CRC32 and a wrong, missing or stale HMAC

sub forged_records {
    my $w0 = 'forged';

    unlink $STATE, "$STATE.corrupt";
    write_conf(size => '1m', state_key => $STATE_KEY);

    start_nginx("$w0: start with no state file") or return;

    my @rev = map { mint("forged-R$_") } 1 .. 2;
    my $live = mint('forged-L');
    my $ticket = generate('forged-T');

    for my $s (@rev) {
        Test::More::is(outcome(call('POST', '/revoke',
                                    { session_id => $s->{session_id} },
                                    auth())),
                       '200', "$w0: revoke $s->{session_id}");
    }

    stop_nginx("$w0: stop to write the state file") or return;

    my $good = get($STATE);

    my $recs = signed_file_ok($good, "$w0: the file",
                              revoked => [ map { $_->{session_id} } @rev ],
                              pending => [ $ticket ])
        or return;

    my %by = map { uuid_text($_->{id}) => $_ } @$recs;
    my ($r1, $trec) = ($by{ $rev[0]{session_id} }, $by{$ticket});

    return Test::More::fail("$w0: the records to forge are in the file")
        unless $r1 && $trec;

    Test::More::like($trec->{payload}, qr/"sub":"forged-T"/,
                     "$w0: the ticket's record holds its claims as JSON");

    # a ticket of our own: a new id, our claims, the right CRC

    my $fid = random_id();
    my $fid_text = uuid_text($fid);

    (my $claims = $trec->{payload})
        =~ s/"sub":"forged-T"/"sub":"forged-admin","role":"admin"/;

    my $forged = rec_body($trec->{body}, id => $fid, payload => $claims);

    # the pending ticket, its claims changed, the HMAC it had

    my $replaced_body = rec_body($trec->{body}, payload => $claims);
    my $replaced = substr($good, 0, $trec->{offset})
                   . state_rec($replaced_body, mac => $trec->{mac})
                   . substr($good, $trec->{offset} + 8 + $trec->{len} + 32);

    # a revoked session, not revoked any more, the HMAC it had

    my $unrevoked_body = $r1->{body};
    substr($unrevoked_body, $REC_FLAGS, 2)
        = pack 'S', $r1->{flags} & ~$F_REVOKED;

    my $unrevoked = substr($good, 0, $r1->{offset})
                    . state_rec($unrevoked_body, mac => $r1->{mac})
                    . substr($good, $r1->{offset} + 8 + $r1->{len} + 32);

    # a ticket of ours without an HMAC, in front of the last record: the
    # last record's first 32 bytes are taken for its HMAC, and what
    # follows no longer lines up

    my $last = $recs->[-1];
    my $inserted = substr($good, 0, $last->{offset}) . state_rec($forged)
                   . substr($good, $last->{offset});

    my $other = Digest::SHA::sha256('not the state key');

    # appended: after the last record, before the trailer, which no
    # longer matches (only the key could make one that does)

    my $end = length($good) - 32;
    my $append = sub { substr($good, 0, $end) . shift . substr($good, $end) };

    my ($n, $off) = (@$recs + 1, $end);
    my $not_signed = 'not signed with the state_key';

    # what, bytes, the record, its offset, what is wrong, how many records
    # are intact, the ticket that must not be exchangeable, the ids whose
    # records are lost (skipped, or after the damage)

    my @variants = (
        [ 'a ticket of our claims appended, its HMAC all zeros',
          $append->(state_rec($forged, mac => "\0" x 32)),
          $n, $off, $not_signed, scalar @$recs, $fid_text, [] ],
        [ 'a ticket of our claims appended, its HMAC under another key',
          $append->(state_rec($forged, key => $other)),
          $n, $off, $not_signed, scalar @$recs, $fid_text, [] ],
        [ 'a ticket of our claims appended without an HMAC',
          $append->(state_rec($forged)),
          $n, $off, 'truncated', scalar @$recs, $fid_text, [] ],
        # the forged record's missing HMAC shifts what follows: the parser
        # finds the next valid record again, so only the forgery is lost
        [ 'a ticket of our claims without an HMAC before the last record',
          $inserted,
          $last->{n}, $last->{offset}, $not_signed, scalar @$recs,
          $fid_text, [] ],
        [ "the pending ticket's claims replaced, the HMAC stale",
          $replaced,
          $trec->{n}, $trec->{offset}, $not_signed, @$recs - 1, $ticket,
          [ $ticket ] ],
        [ "a revoked session's flag cleared, the HMAC stale",
          $unrevoked,
          $r1->{n}, $r1->{offset}, $not_signed, @$recs - 1, undef,
          [ $rev[0]{session_id} ] ],
    );

    for my $v (@variants) {
        my ($what, $bytes, $rn, $roff, $why, $kept, $tid, $lost) = @$v;
        my $w = "forged ($what)";
        my %lost = map { $_ => 1 } @$lost;

        # the record there: its length, a right CRC32 of its body

        my ($len, $crc) = unpack 'LL', substr($bytes, $roff, 8);

        Test::More::ok($len >= $RSIZE && $roff + 8 + $len <= length $bytes
                       && Compress::Zlib::crc32(substr($bytes, $roff + 8,
                                                       $len)) == $crc,
                       "$w: the record's CRC32 is right");

        my $line = qr/state file "\Q$STATE\E": record $rn at offset $roff: \Q$why\E/;

        my $out = refused($w, $bytes, $line, state_key => $STATE_KEY);

        Test::More::like($out, qr/\b$kept intact records kept/,
                         "$w: $kept intact records, it says");

        # state_errors=start: the intact records, not the forged one; the
        # file is not whole, and state_loss=keep keeps what it holds (the
        # default, revoke, is t/325's)

        write_conf(size => '1m', state_key => $STATE_KEY,
                   state_errors => 'start', state_loss => 'keep');
        my $mark = log_size();

        start_nginx("$w: state_errors=start") or next;

        my $log = log_since($mark);

        Test::More::like($log, qr/\[alert\].*$line/,
                         "$w: state_errors=start: the record is logged, "
                         . 'with its number and offset');
        Test::More::like($log, qr/\b$kept intact records kept/,
                         "$w: ... and $kept intact records kept");
        Test::More::ok(-e "$STATE.corrupt"
                       && get("$STATE.corrupt") eq $bytes,
                       "$w: the file is kept as PATH.corrupt");

        if (defined $tid) {
            Test::More::is(outcome(exchange($tid)), '404 EXCHANGE_NOT_FOUND',
                           "$w: the forged ticket cannot be exchanged");
        }

        for my $s (@rev, $live) {
            my $id = $s->{session_id};

            if ($lost{$id}) {
                # its record was not trusted: the session it names is
                # revoked as a precaution, whatever the record said
                Test::More::is(verify($s->{token}), '401 SESSION_REVOKED',
                               "$w: a session whose record was not kept ("
                               . ($s == $live ? 'live' : 'revoked')
                               . ') is revoked as a precaution');
                next;
            }

            Test::More::is(verify($s->{token}),
                           $s == $live ? '200' : '401 SESSION_REVOKED',
                           "$w: an intact "
                           . ($s == $live ? 'live session passes'
                                          : 'revocation holds'));
        }

        if ($lost{$ticket}) {
            Test::More::is(outcome(exchange($ticket)),
                           '404 EXCHANGE_NOT_FOUND',
                           "$w: the ticket whose record was not kept "
                           . 'cannot be exchanged');

        } else {
            my $r = exchange($ticket);
            Test::More::is(outcome($r), '200',
                           "$w: the intact pending ticket is exchanged");
            Test::More::is(verify(ref $r->{json} eq 'HASH'
                                  ? $r->{json}{token} : ''), '200',
                           "$w: ... and its token passes");
        }

        invariant_ok($w);

        stop_nginx("$w: stop") or next;

        my $new = get($STATE);

        signed_file_ok($new, "$w: the new snapshot");

        # at most the forged id, as a revoked session without claims: a
        # record that fails its HMAC is revoked as a precaution
        Test::More::ok(index($new, 'forged-admin') < 0,
                       "$w: the new snapshot has nothing of the forgery's "
                       . 'claims');
    }

    unlink "$STATE.corrupt";

    # control: the same ticket with the right HMAC is taken

    my $w = 'forged (control: our ticket with an HMAC under the state_key)';
    my $gf = state_parse($good, 32, $K);
    my $bytes = state_file(records => [ (map { substr($good, $_->{offset},
                                                      8 + $_->{len} + 32) }
                                         @$recs),
                                        state_rec($forged, key => $K) ],
                           key => $K, generation => $gf->{generation} + 1);

    put($STATE, $bytes);
    write_conf(size => '1m', state_key => $STATE_KEY);

    my $mark = log_size();
    my ($rc, $out) = run_nginx('-t');

    Test::More::is($rc, 0, "$w: nginx -t passes") or Test::More::diag($out);

    start_nginx("$w: start") or return;

    Test::More::unlike(log_since($mark), qr/\[(?:emerg|alert|crit|error)\]/,
                       "$w: read without a complaint");

    my $r = exchange($fid_text);

    Test::More::is(outcome($r), '200', "$w: the ticket is exchanged");

    my $tok = ref $r->{json} eq 'HASH' ? $r->{json}{token} // '' : '';
    my $claims_out = eval {
        JSON::PP->new->decode(b64url_decode((split /\./, $tok)[1]))
    } // {};

    Test::More::is($claims_out->{sub}, 'forged-admin',
                   "$w: ... for a token with our claims");

    for my $s (@rev) {
        Test::More::is(verify($s->{token}), '401 SESSION_REVOKED',
                       "$w: the revocations hold");
    }

    stop_nginx("$w: stop");
}

__DATA__

=== TEST 1: a store zone with state=, sync=100ms and state_errors=start; the state file does not exist yet
--- http_config
    embed_session_api_keys    zone=keys:1m file=$TEST_NGINX_HTML_DIR/store.api-keys;
    embed_session_store_zone  zone=sessions:1m state=$TEST_NGINX_HTML_DIR/sessions.state sync=100ms state_errors=start;
--- response_body_like
(?m)^embed_session_store_invariant_ok\{zone="sessions"\} 1$
--- no_error_log
[error]



=== TEST 2: state_errors=stop spelled out, sync=1s
--- http_config
    embed_session_api_keys    zone=keys:1m file=$TEST_NGINX_HTML_DIR/store.api-keys;
    embed_session_store_zone  zone=sessions:1m state=$TEST_NGINX_HTML_DIR/sessions.state sync=1s state_errors=stop;
--- response_body_like
(?m)^embed_session_state_write_failures_total\{zone="sessions"\} 0$
--- no_error_log
[error]



=== TEST 3: embed_session_store names a store zone that is not declared
--- config
    embed_session_keys   $TEST_NGINX_ES_DATA/keys/hs256.jwks;

    location = /verify {
        embed_session_verify  on;
        embed_session_store   nope;
        return 200;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*embed_session_store nope.*no "embed_session_store_zone zone=nope:SIZE"/



=== TEST 4: zone= without a size
--- http_config
    embed_session_api_keys    zone=keys:1m file=$TEST_NGINX_HTML_DIR/store.api-keys;
    embed_session_store_zone  zone=sessions;
--- must_die
--- error_log eval
qr/\[emerg\].*zone=sessions/



=== TEST 5: zone= with a size that is not a size
--- http_config
    embed_session_api_keys    zone=keys:1m file=$TEST_NGINX_HTML_DIR/store.api-keys;
    embed_session_store_zone  zone=sessions:lots;
--- must_die
--- error_log eval
qr/\[emerg\].*lots/



=== TEST 6: zone= without a name
--- http_config
    embed_session_api_keys    zone=keys:1m file=$TEST_NGINX_HTML_DIR/store.api-keys;
    embed_session_store_zone  zone=:1m;
--- must_die
--- error_log eval
qr/\[emerg\].*zone=:1m/



=== TEST 7: no zone= at all
--- http_config
    embed_session_api_keys    zone=keys:1m file=$TEST_NGINX_HTML_DIR/store.api-keys;
    embed_session_store_zone  state=$TEST_NGINX_HTML_DIR/sessions.state;
--- must_die
--- error_log eval
qr/\[emerg\].*zone/



=== TEST 8: state= in a directory that does not exist
--- http_config
    embed_session_api_keys    zone=keys:1m file=$TEST_NGINX_HTML_DIR/store.api-keys;
    embed_session_store_zone  zone=sessions:1m state=$TEST_NGINX_HTML_DIR/no-such-dir/sessions.state;
--- must_die
--- error_log eval
qr/\[emerg\].*no-such-dir/



=== TEST 9: sync= that is not a time
--- http_config
    embed_session_api_keys    zone=keys:1m file=$TEST_NGINX_HTML_DIR/store.api-keys;
    embed_session_store_zone  zone=sessions:1m state=$TEST_NGINX_HTML_DIR/sessions.state sync=often;
--- must_die
--- error_log eval
qr/\[emerg\].*sync=often/



=== TEST 10: state_errors= neither stop nor start
--- http_config
    embed_session_api_keys    zone=keys:1m file=$TEST_NGINX_HTML_DIR/store.api-keys;
    embed_session_store_zone  zone=sessions:1m state=$TEST_NGINX_HTML_DIR/sessions.state state_errors=ignore;
--- must_die
--- error_log eval
qr/\[emerg\].*state_errors=ignore/



=== TEST 11: an unknown parameter
--- http_config
    embed_session_api_keys    zone=keys:1m file=$TEST_NGINX_HTML_DIR/store.api-keys;
    embed_session_store_zone  zone=sessions:1m evict=lru;
--- must_die
--- error_log eval
qr/\[emerg\].*evict=lru/



=== TEST 12: embed_session_store_zone is an http-level directive
--- config
    embed_session_store_zone  zone=other:1m;

    location = /status {
        embed_session_status;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*"embed_session_store_zone" directive is not allowed here/



=== TEST 13: state_key= with an HS256 key of 32 bytes: the zone starts
--- http_config
    embed_session_api_keys    zone=keys:1m file=$TEST_NGINX_HTML_DIR/store.api-keys;
    embed_session_store_zone  zone=sessions:1m state=$TEST_NGINX_HTML_DIR/sessions.state sync=100ms state_key=$TEST_NGINX_ES_DATA/keys/hs256-2.jwks;
--- response_body_like
(?m)^embed_session_store_invariant_ok\{zone="sessions"\} 1$
--- no_error_log
[error]



=== TEST 14: state_key= without state=
--- http_config
    embed_session_api_keys    zone=keys:1m file=$TEST_NGINX_HTML_DIR/store.api-keys;
    embed_session_store_zone  zone=sessions:1m state_key=$TEST_NGINX_ES_DATA/keys/hs256-2.jwks;
--- must_die
--- error_log eval
qr/\[emerg\].*"state_key=" without "state="/



=== TEST 15: state_key= with an HS256 secret of 16 bytes
--- http_config
    embed_session_api_keys    zone=keys:1m file=$TEST_NGINX_HTML_DIR/store.api-keys;
    embed_session_store_zone  zone=sessions:1m state=$TEST_NGINX_HTML_DIR/sessions.state state_key=$TEST_NGINX_ES_DATA/keys/bad-hs256-short.jwks;
--- must_die
--- error_log eval
qr/\[emerg\].*bad-hs256-short\.jwks.*HS256 secret of 16 bytes, must be at least 32/



=== TEST 16: state_key= names a file that does not exist
--- http_config
    embed_session_api_keys    zone=keys:1m file=$TEST_NGINX_HTML_DIR/store.api-keys;
    embed_session_store_zone  zone=sessions:1m state=$TEST_NGINX_HTML_DIR/sessions.state state_key=$TEST_NGINX_HTML_DIR/no-such-state-key.jwks;
--- must_die
--- error_log eval
qr/\[emerg\].*"[^"]*no-such-state-key\.jwks" failed/



=== TEST 17: state_key= with an HS384 key: not HS256
--- http_config
    embed_session_api_keys    zone=keys:1m file=$TEST_NGINX_HTML_DIR/store.api-keys;
    embed_session_store_zone  zone=sessions:1m state=$TEST_NGINX_HTML_DIR/sessions.state state_key=$TEST_NGINX_ES_DATA/keys/hs384.jwks;
--- must_die
--- error_log eval
qr/\[emerg\].*hs384\.jwks.*differs from alg=HS256/



=== TEST 18: state_key= with an Ed25519 key: not HS256
--- http_config
    embed_session_api_keys    zone=keys:1m file=$TEST_NGINX_HTML_DIR/store.api-keys;
    embed_session_store_zone  zone=sessions:1m state=$TEST_NGINX_HTML_DIR/sessions.state state_key=$TEST_NGINX_ES_DATA/keys/ed25519.jwks;
--- must_die
--- error_log eval
qr/\[emerg\].*ed25519\.jwks.*differs from alg=HS256/



=== TEST 19: state_key= with two keys
--- http_config
    embed_session_api_keys    zone=keys:1m file=$TEST_NGINX_HTML_DIR/store.api-keys;
    embed_session_store_zone  zone=sessions:1m state=$TEST_NGINX_HTML_DIR/sessions.state state_key=$TEST_NGINX_ES_DATA/keys/rotation.jwks;
--- must_die
--- error_log eval
qr/\[emerg\].*"state_key=[^"]*rotation\.jwks" must hold exactly one key/



=== TEST 20: an empty state_key=
--- http_config
    embed_session_api_keys    zone=keys:1m file=$TEST_NGINX_HTML_DIR/store.api-keys;
    embed_session_store_zone  zone=sessions:1m state=$TEST_NGINX_HTML_DIR/sessions.state state_key=;
--- must_die
--- error_log eval
qr/\[emerg\].*invalid parameter "state_key="/



=== TEST 21: one session in two records, revoked in the first with its tokens expired, rotated in the second: revoked till the later token expires
--- http_config
    embed_session_api_keys    zone=keys:1m file=$TEST_NGINX_HTML_DIR/store.api-keys;
    embed_session_store_zone  zone=sessions:1m state=$TEST_NGINX_HTML_DIR/merge.state;
--- user_files eval
[['store.api-keys', $main::KEY_FILE], ['merge.state', main::merge_state(0)]]
--- more_headers eval
"X-Session-Token: " . main::merge_token() . "\nOrigin: $main::ORIGIN"
--- request
GET /verify
--- error_code: 401
--- response_body_like: "SESSION_REVOKED"



=== TEST 22: the same, revoked in the second record too
--- http_config
    embed_session_api_keys    zone=keys:1m file=$TEST_NGINX_HTML_DIR/store.api-keys;
    embed_session_store_zone  zone=sessions:1m state=$TEST_NGINX_HTML_DIR/merge.state;
--- user_files eval
[['store.api-keys', $main::KEY_FILE], ['merge.state', main::merge_state(1)]]
--- more_headers eval
"X-Session-Token: " . main::merge_token() . "\nOrigin: $main::ORIGIN"
--- request
GET /verify
--- error_code: 401
--- response_body_like: "SESSION_REVOKED"



=== TEST 23: one session in two records, live in the first, revoked in the second when its tokens had expired (its record's expiry past): revoked
--- http_config
    embed_session_api_keys    zone=keys:1m file=$TEST_NGINX_HTML_DIR/store.api-keys;
    embed_session_store_zone  zone=sessions:1m state=$TEST_NGINX_HTML_DIR/merge.state;
--- user_files eval
[['store.api-keys', $main::KEY_FILE], ['merge.state', main::merge_state_expired()]]
--- more_headers eval
"X-Session-Token: " . main::merge_token() . "\nOrigin: $main::ORIGIN"
--- request
GET /verify
--- error_code: 401
--- response_body_like: "SESSION_REVOKED"
