# One API key cannot fill the session store for every tenant (security
# review, suspected item "one API key can fill the store"): per_key=N of
# embed_session_store_zone caps the live records (sessions, revoked ones
# included, and tickets) of each API key; past it the mint answers 429
# SESSION_QUOTA_EXCEEDED and every other key mints on.  And what
# revocation makes useless goes early: a revoked session's record stays
# only while one of its tokens can still be presented (its latest exp plus
# the leeway), not until its absolute end, so a revoked key's sessions
# give their room back within a token's lifetime; but not before a
# snapshot of the state file holds the revocation: the file holds the
# session live until then, and a writer merges the file in.
#
# On an nginx of our own (t/lib/EmbedSessionLive.pm): two API keys, a
# mint with a 2-second token in a 1-hour session, leeway 1s.

use FindBin;
use lib "$FindBin::Bin/lib";
use EmbedSessionTest;
use EmbedSessionMint;
use EmbedSessionLive;

use File::Path ();
use Time::HiRes ();

repeat_each(1);
no_shuffle();

our $RAW2 = 'st_' . 'Qu0taKey' . ('r' x 32);

my $SHORT = <<'_EOC_';

        location = /mint-short {
            embed_session_api_key  keys;
            embed_session_mint     on;

            embed_session_field  sub             string   required claim=sub;
            embed_session_field  allowedOrigins  origins  required;

            embed_session_mint_ttl       2 max=2;
            embed_session_mint_lifetime  1h;
            embed_session_max_lifetime   1h;

            embed_session_mint_output  token        token;
            embed_session_mint_output  renew_token  renew_token;
            embed_session_mint_output  session_id   session_id;
        }
_EOC_

quota_live();

Test::More::done_testing();


sub other {
    return (Authorization => "Bearer $RAW2");
}

sub mint_as {
    my ($path, $who, @auth) = @_;

    return call('POST', $path, { sub => $who, allowedOrigins => [$ORIGIN] },
                @auth);
}

sub entries {
    my ($kind) = @_;
    return metric(status(), 'store_entries', "kind=\"$kind\"");
}

sub quota_live {
    $BIN = $ENV{TEST_NGINX_BINARY} // 'nginx';
    $PREFIX = Test::Nginx::Util::server_root() . '-quota';
    $PORT = Test::Nginx::Util::server_port() + 4;
    $URL = "http://127.0.0.1:$PORT";
    $STATE_DIR = "$PREFIX/state";
    $STATE = "$STATE_DIR/sessions.state";

    File::Path::remove_tree($PREFIX);
    File::Path::make_path("$PREFIX/conf", "$PREFIX/logs", $STATE_DIR);
    put("$PREFIX/conf/keys.txt",
        $KEY_FILE . "k2 key=" . stored($RAW2) . " scope=tenant tenant=t2\n");

    my %conf = (size => '1m', per_key => 3, http => 'embed_session_leeway 1s;',
                locations => $SHORT);

    write_conf(%conf);
    start_nginx('quota: start') or return;

    my @s = map { mint("quota-$_") } 1 .. 3;

    my $r = mint_as('/mint', 'quota-4', auth());
    Test::More::is(outcome($r), '429 SESSION_QUOTA_EXCEEDED',
                   'quota: the fourth live session of one key is refused');

    Test::More::is(outcome(call('POST', '/generate',
                                { sub => 'quota-t',
                                  allowedOrigins => [$ORIGIN] }, auth())),
                   '429 SESSION_QUOTA_EXCEEDED',
                   'quota: so is a ticket: it takes a record too');

    Test::More::is(outcome(mint_as('/mint', 'other-1', other())), '201',
                   'quota: another key mints on');

    Test::More::is(verify($s[0]{token}), '200',
                   'quota: the sessions within the quota pass');

    Test::More::is(outcome(call('POST', '/revoke',
                                { session_id => $s[0]{session_id} },
                                auth())),
                   '200', 'quota: revoke one of them');

    Test::More::is(outcome(mint_as('/mint', 'quota-5', auth())),
                   '429 SESSION_QUOTA_EXCEEDED',
                   'quota: a revoked session counts while its token could '
                   . 'be presented');

    Test::More::is(metric(status(), 'store_quota_total', 'zone="sessions"'),
                   3, 'quota: embed_session_store_quota_total counts the '
                      . 'refusals');
    invariant_ok('quota');

    # a restart: the counts come back from the state file

    stop_nginx('quota: stop') or return;
    start_nginx('quota: start again') or return;

    Test::More::is(outcome(mint_as('/mint', 'quota-6', auth())),
                   '429 SESSION_QUOTA_EXCEEDED',
                   'quota: still full for that key after a restart');
    Test::More::is(outcome(mint_as('/mint', 'other-2', other())), '201',
                   'quota: ... and not for the other');
    invariant_ok('quota, after a restart');

    stop_nginx('quota: stop again') or return;

    early_free(%conf);

    late_revoke(%conf);
}

# a revoked session's record goes once its last token has expired (2 s
# plus the leeway of 1 s), an hour before the session's end

sub early_free {
    my (%conf) = @_;

    my $w = 'early free';

    unlink $STATE;
    write_conf(%conf, per_key => 2);
    start_nginx("$w: start") or return;

    my @s;

    for my $i (1 .. 2) {
        my $r = mint_as('/mint-short', "short-$i", auth());
        Test::More::is(outcome($r), '201', "$w: mint a 2-second token");
        push @s, ref $r->{json} eq 'HASH' ? $r->{json} : {};
    }

    for my $s (@s) {
        Test::More::is(outcome(call('POST', '/revoke',
                                    { session_id => $s->{session_id} // '' },
                                    auth())),
                       '200', "$w: revoke it");
    }

    Test::More::is(entries('revoked'), 2, "$w: two revoked records");
    Test::More::is(outcome(mint_as('/mint-short', 'short-3', auth())),
                   '429 SESSION_QUOTA_EXCEEDED',
                   "$w: the key is at its quota");

    my $n;

    for (1 .. 200) {
        $n = entries('revoked');
        last if defined $n && $n == 0;
        Time::HiRes::sleep(0.05);
    }

    Test::More::is($n, 0, "$w: the revoked records go once their tokens "
                          . 'have expired, not at the session\'s end');

    Test::More::is(verify($s[0]{token}), '401 SESSION_EXPIRED',
                   "$w: the revoked session's token is refused (expired)");
    Test::More::is(outcome(call('POST', '/refresh',
                                { renew_token => $s[0]{renew_token} })),
                   '404 SESSION_NOT_FOUND',
                   "$w: its renew token, which lives an hour, refreshes "
                   . 'nothing');

    Test::More::is(outcome(mint_as('/mint-short', 'short-4', auth())), '201',
                   "$w: the key mints again");
    invariant_ok($w);

    stop_nginx("$w: stop");
}


# a session revoked when its last token had expired already: its record
# may go at once, its tokens being of no use, but not before a snapshot
# holds it revoked.  The state file written before holds it live, and the
# sync timer merges the file into the zone before it writes the next one:
# the record came back to life, and the renew token, which lives an hour,
# refreshed the session (200) after the revocation (found by
# fuzz/fuzz_state)

sub late_revoke {
    my (%conf) = @_;

    my $w = 'late revoke';

    unlink $STATE;
    write_conf(%conf, per_key => 10);
    start_nginx("$w: start") or return;

    my $r = mint_as('/mint-short', 'late-1', auth());
    Test::More::is(outcome($r), '201', "$w: mint a 2-second token");
    my $s = ref $r->{json} eq 'HASH' ? $r->{json} : {};

    wait_snapshot("$w: the session is in the state file");

    # the token's 2 s and the leeway's 1 s
    Time::HiRes::sleep(3.5);

    Test::More::is(outcome(call('POST', '/revoke',
                                { session_id => $s->{session_id} // '' },
                                auth())),
                   '200', "$w: revoke it, its token expired");

    wait_snapshot("$w: a snapshot after the revocation");

    Test::More::is(outcome(call('POST', '/refresh',
                                { renew_token => $s->{renew_token} })),
                   '404 SESSION_NOT_FOUND',
                   "$w: its renew token refreshes nothing");

    my $n;

    for (1 .. 200) {
        $n = entries('revoked');
        last if defined $n && $n == 0;
        Time::HiRes::sleep(0.05);
    }

    Test::More::is($n, 0, "$w: the revoked record goes, once a snapshot "
                          . 'holds it');

    Test::More::is(outcome(call('POST', '/refresh',
                                { renew_token => $s->{renew_token} })),
                   '404 SESSION_NOT_FOUND',
                   "$w: ... and the renew token still refreshes nothing");
    invariant_ok($w);

    stop_nginx("$w: stop");
}
