# The state file as hostile input: a valid file (sessions, revoked ones,
# pending tickets with claims; unsigned and signed with a state_key) is
# damaged in many ways - a byte changed anywhere, cut anywhere, bytes
# inserted or removed, records swapped - and read by "nginx -t", which
# reads it as a start does.  Every run must end with a verdict, never a
# crash: exit 0 with the file intact, or exit 1 with an [emerg] naming the
# file (state_errors=stop); with state_errors=start always exit 0.  The
# mutations come from a fixed seed, so a failure can be replayed.
#
#   ES_STATE_MUTATIONS=N   how many (default 500, each read four ways)
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

my $top = "$FindBin::Bin/..";
my $nginx = $ENV{TEST_NGINX_BINARY} // "$top/build/nginx/sbin/nginx";
my $so = $ENV{TEST_NGINX_ES_MODULE}
         // "$top/build/nginx/modules/ngx_http_embed_session_module.so";
my $data = $ENV{TEST_NGINX_ES_DATA} // "$FindBin::Bin/data";
my $n = $ENV{ES_STATE_MUTATIONS} // 500;

# ES_STATE_VALGRIND=1: every nginx -t under valgrind, a memory error fails
my $vg = $ENV{ES_STATE_VALGRIND}
         ? 'valgrind -q --error-exitcode=99 --leak-check=no ' : '';

plan skip_all => "no nginx at $nginx" unless -x $nginx && -f $so;

my $dir = tempdir(CLEANUP => 1);
make_path("$dir/conf", "$dir/logs", "$dir/state");

my $keyfile = "$data/keys/hs256.jwks";
my $secret = b64url_decode(load_jwks($keyfile)->[0]{k});

# the record: id, gen, prev (16 each), owner (8), expires, end, rotated,
# iat, exp, ttl (int64), seq (u32), flags, reserved (u16), payload_len,
# reserved2 (u32): 120 bytes; flags 1 revoked, 2 ticket, 4 exchanged

my $RSIZE = 120;
my $now = time;

sub record {
    my (%r) = @_;
    my $payload = $r{payload} // '';
    my $id = $r{id};

    my $rec = pack('a16 a16 a16 a8 q q q q q q L S S L L',
                   $id, $id, "\0" x 16, "owner\0\0\0",
                   $now + 3600, $now + 3600, 0, $now, $now + 900,
                   $r{ttl} // 0, 0, $r{flags} // 0, 0, length $payload, 0)
              . $payload;

    my $head = pack('LL', length $rec, Compress::Zlib::crc32($rec));

    return $head . $rec . ($r{key} ? hmac_sha256($head . $rec, $r{key}) : '');
}

sub state_file {
    my ($key) = @_;
    my $s = 'ESSTATE1' . pack('LL', $RSIZE, $key ? 1 : 0);

    for my $i (1 .. 12) {
        my $id = pack('NNNN', $i, 0x51a7e000, $i * 17, 0x0badcafe);

        $s .= record(id => $id, key => $key,
                     flags => ($i % 3 == 0 ? 1 : 0) | ($i % 4 == 0 ? 2 : 0),
                     $i % 4 == 0
                     ? (payload => '{"jti":"x","sub":"u-' . $i
                                   . '","groups":["a","b"]}',
                        ttl => 600)
                     : ());
    }

    return $s;
}

sub conf {
    my (%o) = @_;

    open my $fh, '>', "$dir/conf/nginx.conf" or die;
    print $fh <<"_EOC_";
load_module $so;
error_log logs/error.log;
pid logs/nginx.pid;
events {}
http {
    embed_session_store_zone  zone=s:1m state=$dir/state/s.state
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
        my $off = 16;
        for (1 .. int rand 4) {
            last if $off + 4 > $len;
            $off += 8 + unpack('L', substr($s, $off, 4))
                    + ($s =~ /\AESSTATE1.{4}\x01/s ? 32 : 0);
        }
        return ('nothing: the length is past the end', $s)
            if $off + 4 > $len;
        substr($s, $off, 4) = pack('L', (0, 1, 119, 121, 8311, 0xffffffff)
                                        [int rand 6]);
        return ("the length at $off changed", $s);
    }

    # a block of the file repeated
    my $k = 1 + int rand 200;
    substr($s, $at, 0) = substr($s, $at, $k);
    return ("$k bytes repeated at $at", $s);
}

for my $signed (0, 1) {
    my $key = $signed ? $secret : undef;
    my $name = $signed ? 'signed' : 'unsigned';
    my $good = state_file($key);

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

done_testing();
