package EmbedSession::ApiKey;

# API keys for ngx_http_embed_session_module: generating raw keys, the
# "LOOKUP:HEX64" form stored in the key file, and reading, checking and
# rewriting that file.  Used by tools/embed-session-apikey and by tests.
#
# Core Perl only (Digest::SHA, Fcntl, IO::Handle, Time::Local).
#
#   use EmbedSession::ApiKey qw(generate_key record_hash parse_file);
#
#   my $raw = generate_key('ps_');          # ps_ + 40 of [A-Za-z0-9]
#   my $stored = record_hash($raw);         # ps_Ab3dEf9h:<sha256 hex>
#   my $records = parse_file('keys.txt');   # dies with "FILE:LINE: ..."
#
# The file (one record per line; "#" comments and blank lines ignored):
#
#   ID key=LOOKUP:HEX64 [id_key=LOOKUP:HEX64] [scope=S] [tenant=T]
#      [resources=a,b] [grants=a,b] [origins=o1,o2] [flags=a,b]
#      [rate=N/s|N/m|N/h] [status=active|revoked] [expires=UNIX]
#      [serial=HEX32]
#
# serial= is made once per key (generate_serial) and never changes: the
# module makes the owner of a key's sessions from "ID:SERIAL", so that a
# rotated key keeps its sessions and a new key given an old ID does not
# inherit them.
#
# Raw keys are never part of an error message.

use strict;
use warnings;

use Carp qw(croak);
use Config;
use Digest::SHA qw(sha256_hex);
use Exporter qw(import);
use Fcntl qw(F_SETLKW F_GETLK F_WRLCK F_UNLCK SEEK_SET O_RDWR O_CREAT
             O_WRONLY O_EXCL);
use File::Basename qw(dirname);
use IO::Handle ();
use Time::Local qw(timegm_modern);

our $VERSION = '0.1';

our @EXPORT_OK = qw(
    generate_key generate_serial lookup_of prefix_of record_hash is_raw_key
    parse_file parse_text format_record
    check_field normalize_origin parse_expires
    lock_file unlock_file lock_holder write_file_atomic
    split_fields edit_line
    @FIELDS
);

our %EXPORT_TAGS = (all => \@EXPORT_OK);

our $RANDOM = 40;           # NGX_HTTP_ES_API_KEY_RANDOM
our $LOOKUP = 8;            # NGX_HTTP_ES_API_KEY_LOOKUP
our $MAX = 256;             # NGX_HTTP_ES_API_KEY_MAX: longest credential
our $PREFIX_MAX = $MAX - $RANDOM;

our $URANDOM = '/dev/urandom';

# the fields of a record after the ID, in the order format_record writes
# them

our @FIELDS = qw(key id_key scope tenant resources grants origins flags
                 rate status expires serial);

my %LIST = map { $_ => 1 } qw(resources grants origins flags);

my @ALNUM = ('A' .. 'Z', 'a' .. 'z', '0' .. '9');

my $ID_RE = qr/[A-Za-z0-9_.-]{1,64}/;
my $PREFIX_RE = qr/(?:[A-Za-z0-9_]*_)?/;
my $ITEM_RE = qr/[A-Za-z0-9_.:-]{1,128}/;


# keys #####################################################################

sub _random_bytes {
    my ($n) = @_;

    open my $fh, '<:raw', $URANDOM or die "$URANDOM: cannot open: $!\n";

    my $buf = '';

    while (length $buf < $n) {
        my $got = read $fh, $buf, $n - length $buf, length $buf;
        die "$URANDOM: read: $!\n" unless defined $got;
        die "$URANDOM: unexpected end of file\n" if $got == 0;
    }

    close $fh;

    return $buf;
}

# PREFIX + 40 characters of [A-Za-z0-9].  Rejection sampling: bytes
# 248..255 are dropped, so that "byte % 62" is uniform (248 = 4 * 62).

sub generate_key {
    my ($prefix) = @_;

    $prefix //= '';

    croak "prefix \"$prefix\": " . _prefix_error()
        if defined _check_prefix($prefix);

    my $out = '';

    while (length $out < $RANDOM) {
        for my $b (unpack 'C*', _random_bytes(64)) {
            next if $b >= 248;
            $out .= $ALNUM[$b % 62];
            last if length $out == $RANDOM;
        }
    }

    return $prefix . $out;
}

# serial=: 128 random bits, 32 lowercase hex digits

sub generate_serial {
    return unpack 'H*', _random_bytes(16);
}

sub _prefix_error {
    return "letters, digits and \"_\", ending in \"_\" (or empty), at most "
           . "$PREFIX_MAX characters";
}

sub _check_prefix {
    my ($p) = @_;

    return _prefix_error()
        unless $p =~ /\A$PREFIX_RE\z/ && length $p <= $PREFIX_MAX;

    return undef;
}

# a raw key: PREFIX (everything up to and including the last "_") and
# exactly 40 of [A-Za-z0-9]

sub is_raw_key {
    my ($raw) = @_;

    return 0 unless defined $raw && length $raw <= $MAX;
    return $raw =~ /\A$PREFIX_RE[A-Za-z0-9]{$RANDOM}\z/ ? 1 : 0;
}

sub prefix_of {
    my ($key) = @_;

    return undef unless defined $key;
    return $key =~ /\A(.*_)/s ? $1 : '';
}

# LOOKUP = PREFIX + the first 8 random characters; undef for something that
# is not a raw key

sub lookup_of {
    my ($raw) = @_;

    return undef unless is_raw_key($raw);

    my $prefix = prefix_of($raw);

    return $prefix . substr($raw, length $prefix, $LOOKUP);
}

# "LOOKUP:HEX64", what the key file stores for a raw key

sub record_hash {
    my ($raw) = @_;

    croak 'record_hash: not a raw API key (PREFIX + 40 of [A-Za-z0-9])'
        unless is_raw_key($raw);

    return lookup_of($raw) . ':' . sha256_hex($raw);
}


# fields ###################################################################

# Normal form of an origin, as the module's ngx_http_es_origin_normalize()
# gives it: lowercase http or https scheme and host, the port only when it
# is not the scheme's default.  undef when the origin is not acceptable.

sub normalize_origin {
    my ($o) = @_;

    return undef unless defined $o;

    my ($scheme, $rest) = $o =~ m{\A(https?)://(.+)\z}si or return undef;

    $scheme = lc $scheme;

    my ($host, $port);

    if ($rest =~ /\A(\[[0-9A-Fa-f:.]+\])(?::(.*))?\z/s) {
        ($host, $port) = (lc $1, $2);

    } elsif ($rest =~ /\A([A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*)(?::(.*))?\z/s) {
        ($host, $port) = (lc $1, $2);

    } else {
        return undef;
    }

    my $out = "$scheme://$host";

    if (defined $port) {
        return undef unless $port =~ /\A[1-9][0-9]{0,4}\z/ && $port <= 65535;
        $out .= ":$port"
            unless $port == ($scheme eq 'https' ? 443 : 80);
    }

    return $out;
}

# "2026-06-26", "2026-06-26T15:15Z", "2026-06-26T15:15:00Z",
# "2026-06-26T15:15:00.000Z", "+00:00" for "Z", or Unix seconds.  Returns
# Unix seconds, or dies with the reason.

sub parse_expires {
    my ($v) = @_;

    die "empty\n" unless defined $v && $v ne '';

    return $v + 0 if $v =~ /\A[0-9]{1,12}\z/;

    my ($y, $mo, $d, $h, $mi, $s, $frac, $zone) = $v =~ m{
        \A ([0-9]{4}) - ([0-9]{2}) - ([0-9]{2})
        (?: [T ] ([0-9]{2}) : ([0-9]{2}) (?: : ([0-9]{2}) (\.[0-9]+)? )?
            ( Z | [+-][0-9]{2}:?[0-9]{2} ) )?
        \z }x
        or die "not Unix seconds nor an ISO 8601 date "
               . "(2026-06-26T15:15:00Z)\n";

    if (defined $zone && $zone ne 'Z' && $zone !~ /\A[+-]00:?00\z/) {
        die "give the time in UTC (\"Z\"), not $zone\n";
    }

    $h //= 0;
    $mi //= 0;
    $s //= 0;

    die "no such date or time\n"
        if $mo < 1 || $mo > 12 || $d < 1 || $h > 23 || $mi > 59 || $s > 59;

    my $t = eval { timegm_modern($s, $mi, $h, $d, $mo - 1, $y) };

    die "no such date\n" unless defined $t;
    die "before 1970\n" if $t < 0;

    return $t;
}

# undef when VALUE is fine for the field NAME, else the reason; origins are
# checked here, normalize_origin() gives their stored form

sub check_field {
    my ($name, $v) = @_;

    return _check_prefix($v // '') if $name eq 'prefix';

    return 'empty value' if !defined $v || $v eq '';

    if ($name eq 'id') {
        return 'use letters, digits, ".", "_", "-", 1 to 64 characters'
            unless $v =~ /\A$ID_RE\z/;

    } elsif ($name eq 'key' || $name eq 'id_key') {
        return 'looks like a raw key, store its hash (LOOKUP:HEX64, see '
               . '"embed-session-apikey hash")'
            if is_raw_key($v);

        return 'not LOOKUP:HEX64 (PREFIX + 8 of [A-Za-z0-9], ":", 64 '
               . 'lowercase hex digits)'
            unless $v =~ /\A$PREFIX_RE[A-Za-z0-9]{$LOOKUP}:[0-9a-f]{64}\z/
                   && length(prefix_of($v)) <= $PREFIX_MAX;

    } elsif ($name eq 'scope') {
        return 'use lowercase letters, digits, "_", "-", 1 to 32 characters'
            unless $v =~ /\A[a-z0-9_-]{1,32}\z/;

    } elsif ($name eq 'tenant') {
        return 'use letters, digits, "_", ".", ":", "-", 1 to 128 '
               . 'characters'
            unless $v =~ /\A$ITEM_RE\z/;

    } elsif ($LIST{$name}) {
        my @items = split /,/, $v, -1;

        for my $i (0 .. $#items) {
            my $it = $items[$i];

            return 'empty item (commas must separate items)' if $it eq '';

            if ($name eq 'origins') {
                my $n = normalize_origin($it);

                return "\"$it\": not an origin (http or https://host"
                       . "[:port], no path, no trailing slash, no wildcard)"
                    unless defined $n;

            } else {
                return "\"$it\": use letters, digits, \"_\", \".\", \":\", "
                       . '"-", 1 to 128 characters'
                    unless $it =~ /\A$ITEM_RE\z/;
            }
        }

    } elsif ($name eq 'rate') {
        return 'not N/s, N/m or N/h with N from 1 to 999999999'
            unless $v =~ m{\A[1-9][0-9]{0,8}/[smh]\z};

    } elsif ($name eq 'status') {
        return 'not "active" or "revoked"'
            unless $v eq 'active' || $v eq 'revoked';

    } elsif ($name eq 'expires') {
        return 'not Unix seconds (an integer)'
            unless $v =~ /\A[0-9]{1,12}\z/;

    } elsif ($name eq 'serial') {
        return 'not 32 lowercase hex digits'
            unless $v =~ /\A[0-9a-f]{32}\z/;

    } else {
        return 'unknown field (known: ' . join(' ', @FIELDS) . ')';
    }

    return undef;
}


# the file #################################################################

# a line cut into fields and the white space between them, so that one
# field can be changed and the rest kept byte for byte

sub split_fields {
    my ($line) = @_;

    return split /([ \t]+)/, $line, -1;
}

# LINE (without its end of line) with the field NAME set to VALUE (added at
# the end when absent) or, with VALUE undef, removed

sub edit_line {
    my ($line, $name, $value) = @_;

    my @p = split_fields($line);

    for my $i (0 .. $#p) {
        next unless $p[$i] =~ /\A\Q$name\E=/;

        if (defined $value) {
            $p[$i] = "$name=$value";
        } else {
            # the field and the white space in front of it
            splice @p, $i - 1, 2;
        }

        return join '', @p;
    }

    return $line unless defined $value;

    my $last = $#p;
    $last-- while $last > 0 && $p[$last] =~ /\A[ \t]*\z/;
    splice @p, $last + 1, 0, ' ', "$name=$value";

    return join '', @p;
}

# Parses the text of a key file.  Returns a hash:
#   records  [ { line, id, key, id_key, scope, ..., status } ], in order
#   lines    [ the physical lines, each with its end of line ]
#   errors   [ "NAME:LINE: entry \"ID\": ..." ]
# Lists (resources grants origins flags) are array references; origins
# are given in normal form (the text in the file in origins_text).

sub parse_text {
    my ($text, $name) = @_;

    $name //= '(text)';

    my @lines = $text =~ /([^\n]*\n|[^\n]+\z)/g;
    my (@records, @errors, %id_line, %lookup_line);

    for my $n (1 .. @lines) {
        my $line = $lines[$n - 1];
        $line =~ s/\n\z//;

        next if $line =~ /\A[ \t]*(?:#.*)?\z/s;

        my $where = "$name:$n";

        if ($line =~ /\r/) {
            push @errors, "$where: carriage return in the line (save the "
                          . 'file with Unix line ends)';
            next;
        }

        if ($line =~ /[^\x20-\x7e\t]/) {
            push @errors, "$where: control or non-ASCII character";
            next;
        }

        my @tok = grep { $_ ne '' && !/\A[ \t]+\z/ } split_fields($line);
        my $id = shift @tok;

        if (defined(my $e = check_field('id', $id))) {
            my $shown = length $id > 70 ? substr($id, 0, 64) . '...' : $id;
            push @errors, "$where: ID \"$shown\": $e";
            next;
        }

        my $entry = "$where: entry \"$id\"";
        my %r = (line => $n, id => $id);
        my $bad = 0;
        my $raw_seen = 0;

        if (defined $id_line{$id}) {
            push @errors, "$entry: duplicate ID (first on line "
                          . "$id_line{$id})";
            $bad = 1;
        }

        for my $t (@tok) {
            my ($f, $v) = $t =~ /\A([A-Za-z0-9_]+)=(.*)\z/s;

            if (!defined $f) {
                $raw_seen ||= is_raw_key($t);

                my $e = is_raw_key($t)
                        ? 'a raw key instead of key=LOOKUP:HEX64: looks like '
                          . 'a raw key, store its hash'
                        : "\"$t\" is not NAME=VALUE";
                push @errors, "$entry: $e";
                $bad = 1;
                next;
            }

            if (!grep { $_ eq $f } @FIELDS) {
                push @errors, "$entry: unknown field \"$f\" (known: "
                              . join(' ', @FIELDS) . ')';
                $bad = 1;
                next;
            }

            if (exists $r{$f}) {
                push @errors, "$entry: field $f given twice";
                $bad = 1;
                next;
            }

            if (defined(my $e = check_field($f, $v))) {
                # a raw key is never quoted back
                my $shown = ($f eq 'key' || $f eq 'id_key') ? '' : "=$v";
                push @errors, "$entry: $f$shown: $e";
                $bad = 1;
                $r{$f} = undef;
                next;
            }

            if ($LIST{$f}) {
                my @items = split /,/, $v;

                if ($f eq 'origins') {
                    $r{origins_text} = $v;
                    @items = map { normalize_origin($_) } @items;
                }

                $r{$f} = \@items;

            } else {
                $r{$f} = $v;
            }
        }

        if (!exists $r{key} && !$raw_seen) {
            push @errors, "$entry: no key= field";
            $bad = 1;
        }

        for my $f (qw(key id_key)) {
            next unless defined $r{$f};

            my ($lookup) = split /:/, $r{$f};

            if (defined $lookup_line{$lookup}) {
                push @errors, "$entry: $f: duplicate LOOKUP \"$lookup\" "
                              . "(also on line $lookup_line{$lookup})";
                $bad = 1;
            } else {
                $lookup_line{$lookup} = $n;
            }
        }

        $id_line{$id} //= $n;

        next if $bad;

        $r{status} //= 'active';
        push @records, \%r;
    }

    return { records => \@records, lines => \@lines, errors => \@errors };
}

# The records of the key file PATH (see parse_text); dies with every error
# found, one per line, "PATH:LINE: ...".  In list context also the parse
# (records, lines, errors).

sub parse_file {
    my ($path) = @_;

    my $p = parse_text(_slurp($path), $path);

    die join("\n", @{ $p->{errors} }) . "\n" if @{ $p->{errors} };

    return wantarray ? ($p->{records}, $p) : $p->{records};
}

sub _slurp {
    my ($path) = @_;

    open my $fh, '<:raw', $path or die "$path: cannot open: $!\n";
    local $/;
    my $data = <$fh>;
    die "$path: read: $!\n" unless defined $data || eof $fh;
    close $fh;

    return $data // '';
}

# one record line, without end of line, fields in @FIELDS order; lists
# may be array references or comma separated text; status "active" is
# left out (it is the default)

sub format_record {
    my ($r) = @_;

    croak 'format_record: no id' unless defined $r->{id};
    croak 'format_record: no key' unless defined $r->{key};

    my @out = ($r->{id});

    for my $f (@FIELDS) {
        my $v = $r->{$f};
        next unless defined $v;

        $v = join ',', @$v if ref $v eq 'ARRAY';
        next if $LIST{$f} && $v eq '';
        next if $f eq 'status' && $v eq 'active';

        my $e = check_field($f, $v);
        croak "format_record: $f: $e" if defined $e;

        push @out, "$f=$v";
    }

    return join ' ', @out;
}


# locking and writing ######################################################

# POSIX record locks (fcntl F_SETLKW), as the module's ngx_lock_fd() takes
# them: flock() locks do not see those on Linux.  struct flock is packed by
# hand on 64-bit Linux (x86_64, aarch64: short l_type, short l_whence,
# off_t l_start, off_t l_len, pid_t l_pid; 32 bytes); elsewhere
# File::FcntlLock (Debian: libfile-fcntllock-perl) is needed.

my $PACK_FLOCK = $^O eq 'linux' && ($Config{ivsize} // 0) == 8
                 && ($Config{archname} // '') =~ /\A(?:x86_64|aarch64)/;

sub _flock_struct {
    my ($type) = @_;

    return pack 's s x4 q q l x4', $type, SEEK_SET, 0, 0, 0;
}

sub _fcntl_lock {
    my ($fh, $cmd, $type) = @_;

    if ($PACK_FLOCK) {
        my $fl = _flock_struct($type);
        my $rc = fcntl $fh, $cmd, $fl;

        return undef unless $rc;

        my ($t, undef, undef, undef, $pid) = unpack 's s x4 q q l x4', $fl;

        return { type => $t, pid => $pid };
    }

    require File::FcntlLock;

    my $fl = File::FcntlLock->new(l_type => $type, l_whence => SEEK_SET,
                                  l_start => 0, l_len => 0);

    $fl->lock($fh, $cmd) or do { $! = $fl->lock_errno; return undef };

    return { type => $fl->l_type, pid => $fl->l_pid };
}

# Locks PATH.lock (created, mode 0600, when missing), waiting up to
# TIMEOUT seconds (default 30).  Returns the handle that holds the lock:
# keep it, the lock goes with it (unlock_file, or closing it).

sub lock_file {
    my ($path, $timeout) = @_;

    my $lock = "$path.lock";

    my $new = !-e $lock;

    sysopen my $fh, $lock, O_RDWR | O_CREAT, 0600
        or die "$lock: cannot open: $!\n";

    # nginx workers take this lock too: a lock file that root creates
    # belongs to the key file's owner, as the key file does

    if ($new && $> == 0 && (my @st = stat $path)) {
        chown $st[4], $st[5], $lock;
    }

    my $ok;

    {
        local $SIG{ALRM} = sub { die "timeout\n" };
        alarm($timeout // 30);

        $ok = eval { _fcntl_lock($fh, F_SETLKW, F_WRLCK) };
        my $err = $@;
        alarm 0;

        die "$lock: still locked by another process after "
            . ($timeout // 30) . "s (nginx, or another "
            . "embed-session-apikey?)\n"
            if $err eq "timeout\n";
        die $err if $err;
    }

    die "$lock: cannot lock: $!\n" unless $ok;

    return $fh;
}

sub unlock_file {
    my ($fh) = @_;

    _fcntl_lock($fh, F_SETLKW, F_UNLCK);
    close $fh;

    return;
}

# who holds a write lock on PATH.lock: the pid, or 0 (for tests)

sub lock_holder {
    my ($path) = @_;

    open my $fh, '+<', "$path.lock" or return 0;

    my $r = _fcntl_lock($fh, F_GETLK, F_WRLCK) or die "F_GETLK: $!\n";

    return $r->{type} == F_UNLCK ? 0 : $r->{pid};
}

# Replaces PATH by CONTENT: PATH.tmp.PID written and synced, renamed over
# PATH, the directory synced.  The mode (and, for root, the owner) of an
# existing PATH are kept; a new one gets MODE (default 0600).  Call with
# the lock held.

sub write_file_atomic {
    my ($path, $content, $mode) = @_;

    my @st = stat $path;

    $mode = @st ? $st[2] & 07777 : $mode // 0600;

    my $tmp = "$path.tmp.$$";

    unlink $tmp;

    sysopen my $fh, $tmp, O_WRONLY | O_CREAT | O_EXCL, 0600
        or die "$tmp: cannot create: $!\n";

    my $ok = eval {
        binmode $fh;
        print {$fh} $content or die "$tmp: write: $!\n";
        $fh->flush or die "$tmp: write: $!\n";
        $fh->sync or die "$tmp: fsync: $!\n";
        chmod $mode, $tmp or die "$tmp: chmod: $!\n";

        if (@st && $> == 0) {
            chown $st[4], $st[5], $tmp or die "$tmp: chown: $!\n";
        }

        close $fh or die "$tmp: write: $!\n";
        rename $tmp, $path or die "$path: cannot rename $tmp to it: $!\n";
        1;
    };

    if (!$ok) {
        my $err = $@;
        close $fh;
        unlink $tmp;
        die $err;
    }

    my $dir = dirname($path);

    if (open my $dh, '<', $dir) {
        $dh->sync or die "$dir: fsync: $!\n";
        close $dh;
    } else {
        die "$dir: cannot open to fsync: $!\n";
    }

    return;
}

1;
