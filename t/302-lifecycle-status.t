# vim:set ft= ts=4 sw=4 et fdm=marker:

# The session lifecycle: the status location and a full zone.  The server,
# the keys and the request helpers are t/lib/EmbedSessionLifecycle.pm;
# mint, verify and refresh are in 300-lifecycle-refresh.t, revoke and
# exchange in 301-lifecycle-revoke-exchange.t.
#
#   status               Prometheus text; the counters move; the invariant
#                        walk says 1
#   zone full            503 STORE_FULL with Retry-After, refresh and revoke
#                        still work, the alert at most once a second (rule
#                        21); capacity comes back when the sessions end

use FindBin;
use lib "$FindBin::Bin/lib";
use EmbedSessionTest;
use EmbedSessionMint;
use EmbedSessionLifecycle;

use JSON::PP ();
use Time::HiRes ();

# stateful flows with sleeps: once each
repeat_each(1);
no_shuffle();

# status: the counters move

sub flow_status {
    my ($text) = @_;
    my @o;
    my @scrapes;
    my $z = 'zone="sessions"';

    my $s0 = metrics();
    push @scrapes, $s0;

    push @o, 'Prometheus text: ' . (defined $s0->{_bad} ? "no ($s0->{_bad})" : 'yes');

    my @missing = grep { !defined $s0->{"embed_session_$_"} }
        qw(mints_total verifications_total refreshes_total
           refresh_reuse_total revocations_total exchanges_total),
        map({ "$_\{$z}" }
            qw(state_writes_total state_write_failures_total
               store_full_total store_bytes_used store_bytes_free
               store_invariant_ok)),
        map({ "store_entries{kind=\"$_\",$z}" } qw(session ticket revoked)),
        map({ "rejections_total{code=\"$_\"}" }
            qw(SESSION_REQUIRED SESSION_INVALID SESSION_EXPIRED
               SESSION_REVOKED ORIGIN_NOT_ALLOWED));
    push @o, 'missing: ' . (@missing ? "@missing" : 'none');
    push @o, 'store_invariant_ok: '
        . ($s0->{"embed_session_store_invariant_ok{$z}"} // '-');

    my $m = mint_ok();
    my $s1 = metrics();
    push @scrapes, $s1;
    push @o, 'mint: mints_total ' . delta($s0, $s1, 'embed_session_mints_total')
        . ', sessions ' . delta($s0, $s1,
                                "embed_session_store_entries{kind=\"session\",$z}");

    at($m->{token});
    my $s2 = metrics();
    push @scrapes, $s2;
    push @o, 'verify: verifications_total '
        . delta($s1, $s2, 'embed_session_verifications_total');

    at($m->{renew_token});
    my $s3 = metrics();
    push @scrapes, $s3;
    push @o, 'renew token at /verify: SESSION_INVALID '
        . delta($s2, $s3,
                'embed_session_rejections_total{code="SESSION_INVALID"}');

    my $res = refresh($m->{renew_token});
    my $new = ref $res->{json} eq 'HASH' ? $res->{json} : {};
    my $s4 = metrics();
    push @scrapes, $s4;
    push @o, 'refresh: refreshes_total '
        . delta($s3, $s4, 'embed_session_refreshes_total');

    at($m->{token});
    my $s5 = metrics();
    push @scrapes, $s5;
    push @o, 'old token at /verify: SESSION_REVOKED '
        . delta($s4, $s5,
                'embed_session_rejections_total{code="SESSION_REVOKED"}');

    revoke($m->{session_id}, 'acme');
    my $s6 = metrics();
    push @scrapes, $s6;
    push @o, 'revoke: revocations_total '
        . delta($s5, $s6, 'embed_session_revocations_total')
        . ', revoked entries '
        . delta($s5, $s6, "embed_session_store_entries{kind=\"revoked\",$z}");

    my $n = mint_ok();
    my $r1 = refresh($n->{renew_token});
    my $r1j = ref $r1->{json} eq 'HASH' ? $r1->{json} : {};
    refresh($r1j->{renew_token});
    my $s7a = metrics();
    refresh($n->{renew_token});
    my $s7 = metrics();
    push @scrapes, $s7a, $s7;
    push @o, 'theft: refresh_reuse_total '
        . delta($s7a, $s7, 'embed_session_refresh_reuse_total');

    my $g = post('/generate', 'acme', $MINT_BODY);
    my $s8 = metrics();
    push @scrapes, $s8;
    push @o, 'generate: tickets '
        . delta($s7, $s8, "embed_session_store_entries{kind=\"ticket\",$z}");

    exchange(ref $g->{json} eq 'HASH' ? $g->{json}{sessionId} : '');
    my $s9 = metrics();
    push @scrapes, $s9;
    push @o, 'exchange: exchanges_total '
        . delta($s8, $s9, 'embed_session_exchanges_total');

    push @o, 'store_invariant_ok at every scrape: '
        . join ' ', map { $_->{"embed_session_store_invariant_ok{$z}"} // '-' }
                        @scrapes;
    push @o, 'store_full_total: '
        . ($s9->{"embed_session_store_full_total{$z}"} // '-');
    push @o, 'state_writes_total (no state=): '
        . ($s9->{"embed_session_state_writes_total{$z}"} // '-');

    return @o;
}

# the zone full: mint until 503

sub flow_full {
    my ($m) = @_;
    my @o;
    my ($n, $res, $second) = (1);

    for (1 .. 5000) {
        $res = mint_req();
        last if $res->{status} != 201;
        $second //= $res->{json};
        $n++;
    }

    push @o, 'mints before the zone was full: '
        . ($n >= 10 ? 'at least 10' : $n);
    push @o, 'full: ' . st($res);
    push @o, 'Retry-After: ' . ($res->{headers}{'retry-after'} // '-');
    push @o, 'body: ' . body_of($res);
    push @o, 'again: ' . st(mint_req());
    push @o, 'generate (a ticket): ' . st(post('/generate', 'acme', $MINT_BODY));

    $res = refresh($m->{renew_token});
    push @o, 'refresh of the first session: ' . st($res);
    push @o, 'its new token at /verify: '
        . at(ref $res->{json} eq 'HASH' ? $res->{json}{token} : '');
    push @o, 'its old token at /verify: ' . at($m->{token});

    $second //= {};
    push @o, 'revoke of the second session: '
        . st(revoke($second->{session_id} // '', 'acme'));
    push @o, 'its token at /verify: ' . at($second->{token});

    # 1.5 s more of refused mints: the alert at most once a second
    my $until = Time::HiRes::time() + 1.5;
    my %seen;
    while (Time::HiRes::time() < $until) {
        $seen{ st(mint_req()) }++;
        Time::HiRes::sleep(0.05);
    }
    push @o, 'mints for 1.5 s more: ' . join ', ', sort keys %seen;

    my $s = metrics();
    my $z = 'zone="tiny"';
    push @o, 'store_full_total > 0: '
        . yn(($s->{"embed_session_store_full_total{$z}"} // 0) > 0);
    push @o, 'sessions > 0: '
        . yn(($s->{"embed_session_store_entries{kind=\"session\",$z}"} // 0) > 0);
    push @o, 'store_invariant_ok: '
        . ($s->{"embed_session_store_invariant_ok{$z}"} // '-');

    return @o;
}

# capacity returns when records expire, without a restart: fill the zone,
# wait past the sessions' end, mint again

sub flow_capacity {
    my ($m) = @_;
    my ($n, $res) = (1);

    for (1 .. 5000) {
        $res = mint_req();
        last if $res->{status} != 201;
        $n++;
    }

    my @o = ('full after: ' . ($n >= 10 ? 'at least 10' : $n),
             'then: ' . st($res));

    # every session ends 5 s after its mint: wait that long after the last

    Time::HiRes::sleep(6);

    my $ok = 0;
    for (1 .. 10) {
        $ok++ if mint_req()->{status} == 201;
    }

    push @o, "after the sessions ended, of 10 mints: $ok minted";

    my $s = metrics();
    push @o, 'store_invariant_ok: '
        . ($s->{'embed_session_store_invariant_ok{zone="tiny"}'} // '-');

    return @o;
}

run_tests();

Test::More::done_testing();

__DATA__

=== TEST 1: status: Prometheus text; mints, verifications, rejections, refreshes, revocations, theft, tickets and exchanges counted; the invariant walk holds
--- request
GET /status
--- error_code: 200
--- response_headers_like
Content-Type: ^text/plain; version=0\.0\.4(?:; charset=utf-8)?$
--- response_body_filters eval
::flow(\&::flow_status)
--- response_body
Prometheus text: yes
missing: none
store_invariant_ok: 1
mint: mints_total +1, sessions +1
verify: verifications_total +1
renew token at /verify: SESSION_INVALID +1
refresh: refreshes_total +1
old token at /verify: SESSION_REVOKED +1
revoke: revocations_total +1, revoked entries +1
theft: refresh_reuse_total +1
generate: tickets +1
exchange: exchanges_total +1
store_invariant_ok at every scrape: 1 1 1 1 1 1 1 1 1 1 1
store_full_total: 0
state_writes_total (no state=): 0



=== TEST 2: status: HEAD
--- request
HEAD /status
--- error_code: 200
--- response_headers_like
Content-Type: ^text/plain; version=0\.0\.4(?:; charset=utf-8)?$
--- response_body_like: ^$



=== TEST 3: status: no POST
--- request
POST /status
{}
--- error_code: 405



=== TEST 4: zone full: 503 STORE_FULL with Retry-After, nothing minted; refresh and revoke still work; the alert at most once a second
--- http_config eval
$::HTTP_TINY
--- config eval
$::SERVER_TINY
--- request eval
"POST /mint\n$::MINT_BODY"
--- error_code: 201
--- response_body_filters eval
::flow(\&::flow_full)
--- response_body
mints before the zone was full: at least 10
full: 503 STORE_FULL
Retry-After: 1
body: {"error":"Session storage is full, retry later","code":"STORE_FULL"}
again: 503 STORE_FULL
generate (a ticket): 503 STORE_FULL
refresh of the first session: 200
its new token at /verify: 200
its old token at /verify: 401 SESSION_REVOKED
revoke of the second session: 200
its token at /verify: 401 SESSION_REVOKED
mints for 1.5 s more: 503 STORE_FULL
store_full_total > 0: yes
sessions > 0: yes
store_invariant_ok: 1
--- error_log eval
qr/\[alert\] .*"tiny" is full: /
--- grep_error_log eval
qr/^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d \[alert\] [^\n]*"tiny" is full/
--- grep_error_log_out eval
qr/\A(?:(\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d) [^\n]*\n(?!\1 ))+\z/
--- no_error_log
[error]
[crit]



=== TEST 5: zone full, then capacity comes back when the sessions end (5 s lifetime, no leeway), without a restart
--- http_config eval
$::HTTP_TINY
--- config eval
$::SERVER_SHORT
--- request eval
"POST /mint\n$::MINT_BODY"
--- error_code: 201
--- response_body_filters eval
::flow(\&::flow_capacity)
--- response_body
full after: at least 10
then: 503 STORE_FULL
after the sessions ended, of 10 mints: 10 minted
store_invariant_ok: 1
--- error_log eval
qr/\[alert\] .*"tiny" is full: /
--- no_error_log
[error]
[crit]
