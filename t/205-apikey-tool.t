# tools/embed-session-apikey and EmbedSession::ApiKey: making keys, the key
# file, and its rewrites.  Plain Test::More, no nginx.
#
#   prove -Ilib -It/lib t/205-apikey-tool.t

use strict;
use warnings;

use Cwd qw(abs_path);
use Digest::SHA qw(sha256_hex);
use File::Basename qw(dirname);
use File::Temp qw(tempdir);
use POSIX qw(WNOHANG);
use Test::More;
use Time::HiRes qw(sleep);

my $top;

BEGIN {
    $top = abs_path(dirname(__FILE__) . '/..');
    unshift @INC, "$top/tools/lib";
}

use EmbedSession::ApiKey qw(generate_key generate_serial lookup_of
                            record_hash is_raw_key parse_file parse_text
                            format_record normalize_origin parse_expires
                            edit_line check_field
                            lock_file unlock_file lock_holder);

my $TOOL = "$top/tools/embed-session-apikey";
my $dir = tempdir(CLEANUP => 1);
my $n_run = 0;

umask 022;

# (exit status, stdout, stderr) of the tool run with ARGS, STDIN as input

sub run {
    my ($stdin, @args) = @_;

    my $base = "$dir/run" . ++$n_run;

    open my $in, '>', "$base.in" or die;
    print {$in} $stdin // '';
    close $in;

    my $pid = fork // die "fork: $!";

    if (!$pid) {
        open STDIN, '<', "$base.in" or die;
        open STDOUT, '>', "$base.out" or die;
        open STDERR, '>', "$base.err" or die;
        exec $^X, $TOOL, @args or die "exec: $!";
    }

    waitpid $pid, 0;

    return ($? >> 8, slurp("$base.out"), slurp("$base.err"));
}

sub slurp {
    my ($path) = @_;

    open my $fh, '<:raw', $path or die "$path: $!";
    local $/;
    my $d = <$fh>;
    return $d // '';
}

sub spew {
    my ($path, $text) = @_;

    open my $fh, '>:raw', $path or die "$path: $!";
    print {$fh} $text;
    close $fh;
}

sub mode { return (stat $_[0])[2] & 07777 }

my $hex0 = '0' x 64;


# the library ##############################################################

{
    my $raw = generate_key('ps_');

    like($raw, qr/\Aps_[A-Za-z0-9]{40}\z/, 'generate_key: shape');
    is(lookup_of($raw), substr($raw, 0, 11), 'lookup_of: prefix + 8');
    is(record_hash($raw), substr($raw, 0, 11) . ':' . sha256_hex($raw),
       'record_hash: LOOKUP:sha256 hex of the whole key');
    like(generate_key(''), qr/\A[A-Za-z0-9]{40}\z/, 'empty prefix');
    is(lookup_of('ck_live_' . 'A' x 40), 'ck_live_AAAAAAAA',
       'prefix up to the last "_"');
    ok(!defined lookup_of('ps_' . 'A' x 39), 'lookup_of: 39 chars');
    ok(!defined lookup_of('ps-' . 'A' x 40), 'lookup_of: "-" in prefix');
    ok(!eval { generate_key('ps'); 1 }, 'generate_key: prefix without "_"');

    my %seen;
    $seen{$_}++ for map { split //, generate_key('') } 1 .. 60;
    is(scalar keys %seen, 62, 'all 62 characters occur');

    is(normalize_origin('HTTPS://A.Example:443'), 'https://a.example',
       'origin normalised');
    is(normalize_origin('http://a.example:8080'), 'http://a.example:8080',
       'origin with port');
    ok(!defined normalize_origin($_), "origin refused: $_")
        for 'https://a.example/', 'ftp://a.example', 'https://*.a.example',
            'https://u@a.example', 'null', 'https://a.example:0443',
            'https://a..example';

    is(parse_expires('2030-01-01T00:00:00Z'), 1893456000, 'ISO 8601');
    is(parse_expires('2030-01-01T00:00:00.500+00:00'), 1893456000,
       'ISO 8601, fraction, +00:00');
    is(parse_expires('2030-01-01'), 1893456000, 'date alone');
    is(parse_expires('1893456000'), 1893456000, 'Unix seconds');
    ok(!eval { parse_expires('2030-02-30'); 1 }, 'no such date');

    is(edit_line("a\tkey=x  scope=y ", 'status', 'revoked'),
       "a\tkey=x  scope=y status=revoked ", 'edit_line: added');
    is(edit_line("a\tkey=x  scope=y", 'key', 'z'), "a\tkey=z  scope=y",
       'edit_line: replaced in place');

    my $line = format_record({ id => 'k1', key => "ps_abcdefgh:$hex0",
                               scope => 'admin', grants => [qw(a b)],
                               status => 'active', expires => 5 });
    is($line, "k1 key=ps_abcdefgh:$hex0 scope=admin grants=a,b expires=5",
       'format_record');

    my $p = parse_text("# c\n\n$line\n", 'f');
    is_deeply($p->{errors}, [], 'parse_text: no errors');
    is($p->{records}[0]{line}, 3, 'record line number');
    is_deeply($p->{records}[0]{grants}, [qw(a b)], 'list field');
    is($p->{records}[0]{status}, 'active', 'status defaults to active');

    # serial=: what the owner of the key's sessions is made from

    my $serial = generate_serial();
    like($serial, qr/\A[0-9a-f]{32}\z/, 'generate_serial: 32 hex digits');
    isnt(generate_serial(), $serial, 'generate_serial: another each time');
    ok(!defined check_field('serial', $serial), 'check_field: serial');
    like(check_field('serial', $_), qr/32 lowercase hex/,
         "check_field: serial \"$_\" refused")
        for uc($serial), substr($serial, 1), "${serial}0", 'x' x 32;

    $line = format_record({ id => 'k2', key => "ps_abcdefgh:$hex0",
                            serial => $serial, scope => 'admin' });
    is($line, "k2 key=ps_abcdefgh:$hex0 scope=admin serial=$serial",
       'format_record: serial= last');
    is(parse_text("$line\n", 'f')->{records}[0]{serial}, $serial,
       'parse_text: serial');
}


# create ###################################################################

my $file = "$dir/keys";
my ($raw, $raw_id);

{
    my ($rc, $out, $err) = run(undef, 'create', '--file', $file,
        '--id', 'ci-1', '--prefix', 'ps_', '--id-prefix', 'psid_',
        '--scope', 'number', '--tenant', 'acme', '--resources', 'r1,r2',
        '--grants', 'g1', '--origins', 'HTTPS://A.example:443,http://b.example:8080',
        '--flags', 'f1', '--rate', '60/m', '--expires', '2030-01-01T00:00:00Z');

    is($rc, 0, 'create: exit 0') or diag $err;
    ($raw) = $out =~ /^api key: (\S+)$/m;
    ($raw_id) = $out =~ /^key id:\s+(\S+)$/m;

    like($raw, qr/\Aps_[A-Za-z0-9]{40}\z/, 'create: raw key shape');
    like($raw_id, qr/\Apsid_[A-Za-z0-9]{40}\z/, 'create: key id shape');
    like($out, qr/not stored anywhere/, 'create: says it is not stored');

    my $want = 'ci-1 key=' . substr($raw, 0, 11) . ':' . sha256_hex($raw)
        . ' id_key=' . substr($raw_id, 0, 13) . ':' . sha256_hex($raw_id)
        . ' scope=number tenant=acme resources=r1,r2 grants=g1'
        . ' origins=https://a.example,http://b.example:8080 flags=f1'
        . " rate=60/m expires=1893456000 serial=";

    like(slurp($file), qr/\A\Q$want\E[0-9a-f]{32}\n\z/,
         'create: the record line, a serial last');
    is(mode($file), 0600, 'create: new file mode 0600');
    ok(-e "$file.lock", 'create: lock file');
    unlike(slurp($file), qr/\Q$raw\E|\Q$raw_id\E/, 'no raw key in the file');
    is_deeply([ glob "$dir/keys.tmp.*" ], [], 'no temporary file left');
}

# a second key, into a file with comments, odd spacing and mode 0640

my $head = "# API keys\n  # indented comment\n\n";
my $other = "other\tkey=ab_cdefghij:$hex0    scope=admin   status=active\n";
my $tail = "# trailing comment, no newline";

spew($file, $head . slurp($file) . $other . $tail);
chmod 0640, $file;

{
    my ($rc, $out, $err) = run(undef, 'create', '--file', $file,
                               '--id', 'web', '--prefix', '', '--rate', '5/s');

    is($rc, 0, 'create #2: exit 0') or diag $err;
    my ($k) = $out =~ /^api key: (\S+)$/m;
    like($k, qr/\A[A-Za-z0-9]{40}\z/, 'create #2: no prefix');
    unlike($out, qr/^key id:/m, 'create #2: no key id');

    my $text = slurp($file);
    is(substr($text, 0, length $head), $head, 'create #2: head kept');
    like($text, qr/\Q$other$tail\E\nweb key=\Q@{[ record_hash($k) ]}\E rate=5\/s serial=[0-9a-f]{32}\n\z/,
         'create #2: appended after a newline, the rest kept');

    my @serials = $text =~ /serial=([0-9a-f]{32})/g;
    is(scalar @serials, 2, 'create #2: a serial each');
    isnt($serials[0], $serials[1], 'create #2: serials differ');
    is(mode($file), 0640, 'create #2: mode kept');
}

my $before = slurp($file);

{
    my ($rc, $out, $err) = run(undef, 'create', '--file', $file,
                               '--id', 'ci-1', '--prefix', 'ps_');

    is($rc, 1, 'duplicate ID: exit 1');
    like($err, qr/\Q$file\E:4: a key with ID "ci-1" exists/,
         'duplicate ID: file, line and ID');
    is($out, '', 'duplicate ID: no key printed');
    is(slurp($file), $before, 'duplicate ID: file unchanged');
}

# bad fields: [ options, the field the message names ]

for my $t (
    [ [ '--id', 'a b' ],                        qr/--id "a b"/ ],
    [ [ '--id', 'x' x 65 ],                     qr/--id "x{65}": .*64/ ],
    [ [ '--prefix', 'ps' ],                     qr/--prefix "ps": .*"_"/ ],
    [ [ '--prefix', 'p-s_' ],                   qr/--prefix "p-s_"/ ],
    [ [ '--id-prefix', 'psid' ],                qr/--id-prefix "psid"/ ],
    [ [ '--scope', 'Admin' ],                   qr/--scope "Admin"/ ],
    [ [ '--tenant', 'a b' ],                    qr/--tenant "a b"/ ],
    [ [ '--resources', 'a,,b' ],                qr/--resources "a,,b": empty item/ ],
    [ [ '--grants', 'x/y' ],                    qr/--grants "x\/y": "x\/y"/ ],
    [ [ '--flags', '' ],                        qr/--flags "": empty/ ],
    [ [ '--origins', 'https://a.example/' ],    qr/--origins .*not an origin/ ],
    [ [ '--origins', 'ftp://a.example' ],       qr/--origins .*not an origin/ ],
    [ [ '--origins', 'https://*.a.example' ],   qr/--origins .*not an origin/ ],
    [ [ '--rate', '0/m' ],                      qr/--rate "0\/m"/ ],
    [ [ '--rate', '5/d' ],                      qr/--rate "5\/d"/ ],
    [ [ '--expires', '2030-13-01' ],            qr/--expires "2030-13-01"/ ],
    [ [ '--expires', 'tomorrow' ],              qr/--expires "tomorrow"/ ],
    [ [ '--expires', '2030-01-01T00:00:00+02:00' ], qr/--expires .*UTC/ ],
) {
    my ($opts, $re) = @$t;
    my %o = ('--id' => 'new', '--prefix' => 'ps_', @$opts);

    my ($rc, $out, $err) = run(undef, 'create', '--file', $file, %o);

    is($rc, 1, "bad field @$opts: exit 1");
    like($err, $re, "bad field @$opts: message names it");
    is($out, '', "bad field @$opts: no key printed");
}

is(slurp($file), $before, 'bad fields: file unchanged');

{
    my ($rc, undef, $err) = run(undef, 'create', '--file', $file,
                                '--prefix', 'ps_');
    is($rc, 2, 'missing --id: exit 2');
    like($err, qr/--id is required.*Usage:/s, 'missing --id: usage');

    ($rc) = run(undef, 'frobnicate');
    is($rc, 2, 'unknown command: exit 2');

    my $out;
    ($rc, $out) = run(undef, 'create', '--help');
    is($rc, 0, 'create --help: exit 0');
    like($out, qr/\AUsage: embed-session-apikey create/, 'create --help');
}


# hash #####################################################################

{
    my ($rc, $out, $err) = run("$raw\n", 'hash');

    is($rc, 0, 'hash: exit 0') or diag $err;
    is($out, record_hash($raw) . "\n", 'hash: LOOKUP:HEX');
    ok(index(slurp($file), 'key=' . record_hash($raw) . ' ') >= 0,
       'hash: the value create stored');

    ($rc, $out) = run("$raw_id", 'hash', '--prefix-check=psid_');
    is($out, record_hash($raw_id) . "\n", 'hash --prefix-check=psid_');

    ($rc, $out, $err) = run("$raw_id\n", 'hash', '--prefix-check=ps_');
    is($rc, 1, 'hash: wrong prefix refused');
    like($err, qr/prefix is "psid_", not "ps_"/, 'hash: wrong prefix named');

    ($rc, $out, $err) = run(('A' x 40) . "\n", 'hash', '--prefix-check');
    is($rc, 1, 'hash --prefix-check: key without prefix refused');

    ($rc, $out, $err) = run("ps_short\n", 'hash');
    is($rc, 1, 'hash: not a key');
    like($err, qr/not a raw API key/, 'hash: not a key, message');
    unlike($err, qr/ps_short/, 'hash: the input is not echoed');

    ($rc, $out, $err) = run('', 'hash');
    is($rc, 1, 'hash: empty input');
}


# list #####################################################################

{
    my ($rc, $out, $err) = run(undef, 'list', '--file', $file);

    is($rc, 0, 'list: exit 0') or diag $err;

    my @l = split /\n/, $out;

    is(scalar @l, 4, 'list: header and 3 keys');
    like($l[0], qr/\AID\s+LOOKUP\s+SCOPE\s+TENANT\s+STATUS\s+EXPIRES\z/,
         'list: header');
    like($l[1], qr/\Aci-1\s+\Q@{[ substr $raw, 0, 11 ]}\E\s+number\s+acme\s+
                   active\s+2030-01-01T00:00:00Z\z/x, 'list: ci-1');
    like($l[2], qr/\Aother\s+ab_cdefghij\s+admin\s+-\s+active\s+-\z/,
         'list: other');
    like($l[3], qr/\Aweb\s+/, 'list: web');
    unlike($out, qr/[0-9a-f]{64}/, 'list: no hashes');
}


# revoke ###################################################################

{
    my ($rc, $out, $err) = run(undef, 'revoke', '--file', $file,
                               '--id', 'ci-1');

    is($rc, 0, 'revoke: exit 0') or diag $err;
    like($out, qr/ci-1: revoked/, 'revoke: says so');

    my $want = $before =~ s/^(ci-1 .*)$/$1 status=revoked/mr;
    is(slurp($file), $want, 'revoke: status added, the rest byte-identical');
    is(mode($file), 0640, 'revoke: mode kept');

    ($rc, $out) = run(undef, 'revoke', '--file', $file, '--id', 'ci-1');
    is($rc, 0, 'revoke again: exit 0');
    like($out, qr/already revoked/, 'revoke again: already revoked');
    is(slurp($file), $want, 'revoke again: file unchanged');

    ($rc, $out) = run(undef, 'revoke', '--file', $file, '--id', 'other');
    is(slurp($file), $want =~ s/status=active/status=revoked/r,
       'revoke: status=active replaced in place');

    ($rc, $out, $err) = run(undef, 'revoke', '--file', $file, '--id', 'nope');
    is($rc, 1, 'revoke unknown ID: exit 1');
    like($err, qr/no key with ID "nope"/, 'revoke unknown ID: message');

    ($rc, $out) = run(undef, 'list', '--file', $file);
    like($out, qr/^ci-1\s.*\srevoked\s/m, 'list: revoked');

    ($rc, $out, $err) = run(undef, 'rotate', '--file', $file, '--id', 'ci-1');
    is($rc, 1, 'rotate a revoked key: exit 1');
    like($err, qr/:4: key "ci-1" is revoked/, 'rotate a revoked key: message');
}


# rotate ###################################################################

my $rfile = "$dir/rotate";
my $rhead = "# rotate test\n\n   # indented\n";
my $r_other = "a key=ab_cdefghij:$hex0\tscope=x\n";
my $r_tail = "\n# last\n";

{
    my ($rc, $out) = run(undef, 'create', '--file', $rfile, '--id', 'rot',
                         '--prefix', 'ck_live_', '--id-prefix', 'ck_id_',
                         '--scope', 'tenant');
    my ($old) = $out =~ /^api key: (\S+)$/m;
    my ($old_id) = $out =~ /^key id:\s+(\S+)$/m;

    # spacing of the record changed by hand: kept by the rotation
    my $line = slurp($rfile);
    $line =~ s/ /\t /;
    $line =~ s/ scope/   scope/;
    spew($rfile, $rhead . $r_other . $line . $r_tail);

    my $err;
    ($rc, $out, $err) = run(undef, 'rotate', '--file', $rfile, '--id', 'rot');

    is($rc, 0, 'rotate: exit 0') or diag $err;

    my ($new) = $out =~ /^api key: (\S+)$/m;
    my ($new_id) = $out =~ /^key id:\s+(\S+)$/m;

    like($new, qr/\Ack_live_[A-Za-z0-9]{40}\z/, 'rotate: same prefix');
    like($new_id, qr/\Ack_id_[A-Za-z0-9]{40}\z/, 'rotate: id, same prefix');
    isnt($new, $old, 'rotate: a new key');
    like($out, qr/not stored anywhere/, 'rotate: says it is not stored');

    my $text = slurp($rfile);

    unlike($text, qr/\Q@{[ sha256_hex($old) ]}\E/, 'rotate: old hash gone');
    unlike($text, qr/\Q@{[ sha256_hex($old_id) ]}\E/,
           'rotate: old id hash gone');

    my $want = $line;
    $want =~ s/key=\S+/'key=' . record_hash($new)/e;
    $want =~ s/id_key=\S+/'id_key=' . record_hash($new_id)/e;

    is($text, $rhead . $r_other . $want . $r_tail,
       'rotate: hashes replaced, every other byte kept');
    like($want, qr/ serial=[0-9a-f]{32}$/m, 'rotate: the serial kept');

    ($rc, $out) = run("$new\n", 'hash');
    ok(index($text, $out =~ s/\n//r) >= 0, 'rotate: hash of the new key');
}


# check ####################################################################

{
    my ($rc, $out, $err) = run(undef, 'check', '--file', $file);

    is($rc, 0, 'check good file: exit 0') or diag $err;
    is($out, "ok: 3 keys (2 revoked, 1 without serial)\n",
       'check good file: ok: N keys');
    like($err, qr/note: no serial= on line 5: the sessions of such a key belong to its ID/,
         'check good file: a note on the record without serial=');

    my $bad = "$dir/bad";
    spew($bad, <<"EOT");
# broken
good key=ps_abcdefgh:$hex0
good key=ps_bcdefghi:$hex0
s1 key=ps_cdefghij:$hex0 scope=Admin
r1 key=ps_0123456789012345678901234567890123456789
o1 key=ps_defghijk:$hex0 origins=https://a.example/
x1 key=ps_efghijkl:$hex0 color=red
t1 key=ps_fghijklm:$hex0 rate=10/d
e1 key=ps_ghijklmn:$hex0 expires=2030-01-01
n1 scope=x
l1 key=ps_abcdefgh:$hex0
z1 key=ps_hijklmno:$hex0 serial=XYZ
EOT

    ($rc, $out, $err) = run(undef, 'check', '--file', $bad);

    is($rc, 1, 'check broken file: exit 1');
    is($out, '', 'check broken file: no "ok"');

    for my $t ([ 3, 'good', qr/duplicate ID \(first on line 2\)/ ],
               [ 4, 's1', qr/scope=Admin/ ],
               [ 5, 'r1', qr/looks like a raw key, store its hash/ ],
               [ 6, 'o1', qr/origins=.*not an origin/ ],
               [ 7, 'x1', qr/unknown field "color"/ ],
               [ 8, 't1', qr/rate=10\/d/ ],
               [ 9, 'e1', qr/expires=2030-01-01/ ],
               [ 10, 'n1', qr/no key= field/ ],
               [ 11, 'l1', qr/duplicate LOOKUP "ps_abcdefgh" .*line 2/ ],
               [ 12, 'z1', qr/serial=XYZ: not 32 lowercase hex digits/ ])
    {
        my ($n, $id, $re) = @$t;
        like($err, qr/^\Q$bad\E:$n: entry "$id": .*$re/m,
             "check: line $n, entry $id named");
    }

    unlike($err, qr/0123456789012345678901234567890123456789/,
           'check: a raw key is not echoed');
    like($err, qr/^\Q$bad\E: 10 errors$/m, 'check: error count');

    eval { parse_file($bad) };
    like($@, qr/\A\Q$bad\E:3: /, 'parse_file dies with FILE:LINE');

    ($rc, $out, $err) = run(undef, 'create', '--file', $bad, '--id', 'z',
                            '--prefix', 'ps_');
    is($rc, 1, 'create into a broken file: exit 1');
    like($err, qr/\Q$bad\E:4: entry "s1"/, 'create: names file:line');
    like($err, qr/not changed/, 'create: file not changed');

    ($rc, $out, $err) = run(undef, 'check', '--file', "$dir/missing");
    is($rc, 1, 'check a missing file: exit 1');
}


# the lock: POSIX record locks on FILE.lock ###############################

{
    my $lock = lock_file($file);

    my $pid = fork // die;

    if (!$pid) {
        exit(lock_holder($file) == getppid() ? 0 : 1);
    }

    waitpid $pid, 0;
    is($? >> 8, 0, 'lock: another process sees our fcntl lock and pid');

    my $before = slurp($file);

    $pid = fork // die;

    if (!$pid) {
        open STDOUT, '>', '/dev/null';
        open STDERR, '>', '/dev/null';
        exec $^X, $TOOL, 'revoke', '--file', $file, '--id', 'web';
    }

    sleep 0.3;

    is(waitpid($pid, WNOHANG), 0, 'lock: the tool waits for the lock');
    is(slurp($file), $before, 'lock: file unchanged while locked');

    unlock_file($lock);
    waitpid $pid, 0;

    is($? >> 8, 0, 'lock: the tool went on once unlocked');
    like(slurp($file), qr/^web .*status=revoked$/m, 'lock: then revoked');
    is(lock_holder($file), 0, 'lock: released');
}

is_deeply([ glob "$dir/*.tmp.*" ], [], 'no temporary files left');

done_testing();
