# The state file as hostile input: a valid file (sessions, revoked ones,
# pending tickets with claims; unsigned and signed with a state_key) is
# damaged in many ways - a byte changed anywhere, cut anywhere, bytes
# inserted or removed, records swapped - and read by "nginx -t", which
# reads it as a start does.  Every run must end with a verdict, never a
# crash: exit 0 with the file intact, or exit 1 with an [emerg] naming the
# file (state_errors=stop); with state_errors=start always exit 0.  The
# mutations come from a fixed seed, so a failure can be replayed.
#
#   ES_STATE_MUTATIONS=N   how many (default 500, each read four ways;
#                          a fifth of them for the ESSTATE1 file)
#   ES_STATE_VALGRIND=1    each nginx -t under valgrind (slow)

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use lib "$FindBin::Bin/../tools/lib";

use Compress::Zlib ();
use Digest::SHA qw(hmac_sha256);
use File::Path qw(make_path remove_tree);
use File::Temp qw(tempdir);
use POSIX qw(WIFSIGNALED WTERMSIG);
use Test::More;
use EmbedSession::Token qw(load_jwks b64url_decode);
use EmbedSessionState;

my $top = "$FindBin::Bin/..";
my $nginx = $ENV{TEST_NGINX_BINARY} // "$top/build/nginx/sbin/nginx";
my $so = $ENV{TEST_NGINX_ES_MODULE}
         // "$top/build/nginx/modules/ngx_http_embed_session_module.so";
my $data = $ENV{TEST_NGINX_ES_DATA} // "$FindBin::Bin/data";
my $N = $ENV{ES_STATE_MUTATIONS} // 500;

# ES_STATE_VALGRIND=1: every nginx -t under valgrind, a memory error fails
my $vg = $ENV{ES_STATE_VALGRIND}
         ? 'valgrind -q --error-exitcode=99 --leak-check=no ' : '';

plan skip_all => "no nginx at $nginx" unless -x $nginx && ($so eq '' || -f $so);

my $dir = tempdir(CLEANUP => 1);
make_path("$dir/conf", "$dir/logs", "$dir/state");

my $keyfile = "$data/keys/hs256.jwks";
my $secret = b64url_decode(load_jwks($keyfile)->[0]{k});

my $now = time;

# twelve records: sessions, revoked ones (every third), pending tickets
# with claims (every fourth); flags 1 revoked, 2 ticket

sub state_bytes {
    my ($key, $version) = @_;
    my @recs;

    for my $i (1 .. 12) {
        my $id = pack('NNNN', $i, 0x51a7e000, $i * 17, 0x0badcafe);

        push @recs, state_rec(
            record_body(id => $id, version => $version,
                        flags => ($i % 3 == 0 ? 1 : 0)
                                 | ($i % 4 == 0 ? 2 : 0),
                        $i % 4 == 0
                        ? (payload => '{"jti":"x","sub":"u-' . $i
                                      . '","groups":["a","b"]}',
                           ttl => 600, horizon => 0)
                        : ()),
            key => $key);
    }

    return state_file(records => \@recs, key => $key,
                      signed => $key ? 1 : 0, version => $version,
                      generation => 7);
}

sub conf {
    my (%o) = @_;

    # an empty TEST_NGINX_ES_MODULE: the module is built into nginx

    my $load = $so eq '' ? '' : "load_module $so;";

    open my $fh, '>', "$dir/conf/nginx.conf" or die;
    print $fh <<"_EOC_";
$load
error_log logs/error.log;
pid logs/nginx.pid;
events {}
http {
    embed_session_store_zone  zone=s:@{[ $o{size} // '1m' ]} state=$dir/state/s.state
                              state_errors=$o{errors}
                              @{[ $o{key} ? "state_key=$keyfile" : '' ]};
    server { listen 127.0.0.1:1; }
}
_EOC_
    close $fh;
}

# nginx -t on BYTES: (exit code, signal, output)

sub check {
    my ($bytes) = @_;

    open my $fh, '>:raw', "$dir/state/s.state" or die;
    print $fh $bytes;
    close $fh;

    my $out = `$vg$nginx -p $dir/ -c conf/nginx.conf -t 2>&1`;
    my $st = $?;

    return (WIFSIGNALED($st) ? 0 : $st >> 8,
            WIFSIGNALED($st) ? WTERMSIG($st) : 0, $out);
}

# the mutations, from a fixed seed

srand(20261123);

sub mutate {
    my ($s) = @_;
    my $len = length $s;
    my $kind = int rand 6;
    my $at = int rand $len;

    if ($kind == 0) {                   # one byte changed
        substr($s, $at, 1) = chr((ord(substr($s, $at, 1)) + 1 + int rand 255)
                                 % 256);
        return ("byte $at changed", $s);
    }

    if ($kind == 1) {                   # cut
        return ("cut at $at", substr($s, 0, $at));
    }

    if ($kind == 2) {                   # bytes inserted
        my $k = 1 + int rand 40;
        substr($s, $at, 0) = join '', map { chr int rand 256 } 1 .. $k;
        return ("$k bytes inserted at $at", $s);
    }

    if ($kind == 3) {                   # bytes removed
        my $k = 1 + int rand 40;
        substr($s, $at, $k) = '';
        return ("$k bytes removed at $at", $s);
    }

    if ($kind == 4) {                   # a length field made huge or small
        my $v1 = $s =~ /\AESSTATE1/;
        my $off = $v1 ? 16 : $HEADER;
        for (1 .. int rand 4) {
            last if $off + 4 > $len;
            $off += 8 + unpack('L', substr($s, $off, 4))
                    + ($s =~ /\AESSTATE.{5}\x01/s ? 32 : 0);
        }
        return ('nothing: the length is past the end', $s)
            if $off + 4 > $len;
        substr($s, $off, 4) = pack('L', (0, 1, 127, 129, 8319, 0xffffffff)
                                        [int rand 6]);
        return ("the length at $off changed", $s);
    }

    # a block of the file repeated
    my $k = 1 + int rand 200;
    substr($s, $at, 0) = substr($s, $at, $k);
    return ("$k bytes repeated at $at", $s);
}

# the format of this release, unsigned and signed; the one of the release
# before (read once, when a new build starts on an old file), signed

for my $v ([0, 2], [1, 2], [1, 1]) {
    my ($signed, $version) = @$v;
    my $key = $signed ? $secret : undef;
    my $name = ($signed ? 'signed' : 'unsigned')
               . ($version == 1 ? ', ESSTATE1' : '');
    my $good = state_bytes($key, $version);
    my $n = $version == 1 ? int($N / 5) : $N;

    conf(errors => 'stop', key => $signed);

    my ($rc, $sig, $out) = check($good);
    is("$rc/$sig", '0/0', "$name: the intact file passes nginx -t")
        or diag($out);

    my (%verdict, @bad);

    for my $i (1 .. $n) {
        my ($what, $bytes) = mutate($good);

        for my $errors ('stop', 'start') {
            conf(errors => $errors, key => $signed);

            ($rc, $sig, $out) = check($bytes);

            if ($sig) {
                push @bad, "$what ($errors): signal $sig";
                next;
            }

            if ($errors eq 'start') {
                push @bad, "$what (start): exit $rc:\n$out" if $rc != 0;
                next;
            }

            if ($rc == 0) {
                # nothing damaged that matters: the same records as before
                $verdict{passed}++;

            } elsif ($rc == 1 && $out =~ /\[emerg\] .*state file "[^"]*s\.state"/) {
                $verdict{refused}++;

            } else {
                push @bad, "$what (stop): exit $rc without a reason:\n$out";
            }
        }
    }

    is(scalar @bad, 0, "$name: $n mutations, each answered (refused "
                       . ($verdict{refused} // 0) . ', passed '
                       . ($verdict{passed} // 0) . '), no crash')
        or diag(join "\n", @bad[0 .. ($#bad < 4 ? $#bad : 4)]);

    ok(($verdict{refused} // 0) > $n / 2,
       "$name: most mutations are refused with state_errors=stop");
}

# A file of damaged records of the longest length, each with a valid record
# inside it and a broken length where it ends: the search after each broken
# length goes back into the damaged record, and the walk reads it again.
# Those bytes count against the search's budget (8 bytes checked per byte
# of the file): the walk gives up well before the end of the file.  It used
# to read the file to its end, each byte some sixty times: 8.7 s for a
# 16 MiB file, that a 1m zone allows (found by fuzz/fuzz_state; the input
# is in fuzz/crashers/fuzz_state/).

{
    conf(errors => 'stop', key => 0);

    my $ok = state_rec(record_body(id => pack('NNNN', 80, 1, 2, 3)));
    my $junk = join '', map { pack('LL', 8204, 0) . $ok } 1 .. 29127;
    my $bytes = state_file(records => [ $junk ]);

    my ($rc, $sig, $out) = check($bytes);
    is("$rc/$sig", '1/0', 'damaged records that each hold a valid one, '
                          . '4 MiB: refused');

    my ($at) = $out =~ /record \d+ at offset (\d+): [^,;]+; \d+ intact/;
    ok(defined $at && $at < length($bytes) / 4,
       'the walk gives up within its budget: at offset ' . ($at // '-')
       . ' of ' . length $bytes);
}

# The smallest zone (8 pages), full when the last record comes: that
# record's API key (its owner) has one other record, revoked with its
# tokens expired, which the zone keeps until it needs the room.  To make
# room, the zone frees it, and with it the owner's node that the new record
# was to be counted in: nginx -t died of a NULL pointer (SIGSEGV) where the
# new record was linked, and so did the master at a start, or a worker that
# minted a session for a key whose records had just expired (found by
# fuzz/fuzz_state).

{
    conf(errors => 'stop', key => 0, size => '32k');

    my $id = sub { pack 'NNNN', $_[0], 0x0e5e0000, 0, 1 };
    my %r = (expires => $now + 3600, end => $now + 3600, iat => $now - 60,
             exp => $now + 840);
    my @recs;

    push @recs, state_rec(record_body(%r, id => $id->(1), owner => 'owner-X',
                                      flags => $F_REVOKED,
                                      iat => $now - 900, exp => $now - 600));

    push @recs, map {
        state_rec(record_body(%r, id => $id->(100 + $_),
                              owner => sprintf('own-%04d', $_)))
    } 1 .. 11;

    push @recs, map {
        state_rec(record_body(%r, id => $id->(200 + $_), owner => 'owner-T',
                              flags => $F_TICKET, horizon => 0,
                              payload => 'x' x 3000))
    } 1 .. 4;

    push @recs, state_rec(record_body(%r, id => $id->(2),
                                      owner => 'owner-X'));

    my ($rc, $sig, $out) = check(state_file(records => \@recs));
    is("$rc/$sig", '0/0', 'a full zone frees the last record of an owner '
                          . 'to take a new one of it: nginx -t passes')
        or diag($out);
}

done_testing();
