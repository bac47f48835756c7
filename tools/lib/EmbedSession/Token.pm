package EmbedSession::Token;

# Compact JWS helpers for the embed session tools and tests.
#
# Core Perl only (JSON::PP, MIME::Base64, Digest::SHA, File::Temp) plus the
# openssl command line (OpenSSL 3.0) for the asymmetric algorithms.
#
#   use EmbedSession::Token qw(load_jwks sign_token);
#
#   my ($key) = @{ load_jwks('t/data/keys/es256.jwks') };
#   my $jws = sign_token(key => $key, claims => { sub => 'u1', exp => $t });
#
# Claims and headers are encoded as canonical JSON (sorted keys, compact).
# A Perl value created as a number is encoded as a JSON number, one created
# as a string as a JSON string ("exp" => "1700000000" gives a string, on
# purpose), JSON::PP::true/false, \1 and \0 as booleans.  Strings are Perl
# character strings and come out UTF-8 encoded.
#
# Secrets: private keys are handed to openssl only through 0600 files in a
# private 0700 temporary directory, removed after each call; error messages
# never quote key material.

use strict;
use warnings;

use Carp qw(croak);
use Digest::SHA qw(hmac_sha256 hmac_sha384 hmac_sha512 sha256_hex);
use Exporter qw(import);
use File::Temp qw(tempdir);
use JSON::PP ();
use MIME::Base64 qw(encode_base64 decode_base64);
use POSIX ();
use Scalar::Util qw(blessed);

our $VERSION = '0.1';

our @EXPORT_OK = qw(
    b64url_encode b64url_decode
    canonical_json decode_json_text
    load_jwks public_jwk jwk_to_pem pem_to_jwk
    sign_token sign_raw verify_raw verify_token decode_token
    keygen alg_info random_hex
);

our %EXPORT_TAGS = (all => \@EXPORT_OK);

our $OPENSSL = $ENV{OPENSSL} // 'openssl';

my $TYP = 'embed-session+jwt';

# alg => [ kty, hash/curve, signature bytes (0 = modulus length) ]

my %ALG = (
    HS256 => { kty => 'oct', hash => 'sha256', secret => 32 },
    HS384 => { kty => 'oct', hash => 'sha384', secret => 48 },
    HS512 => { kty => 'oct', hash => 'sha512', secret => 64 },
    EdDSA => { kty => 'OKP', crv => 'Ed25519', size => 32, sig => 64 },
    ES256 => { kty => 'EC', crv => 'P-256', hash => 'sha256', size => 32,
               sig => 64 },
    ES384 => { kty => 'EC', crv => 'P-384', hash => 'sha384', size => 48,
               sig => 96 },
    RS256 => { kty => 'RSA', hash => 'sha256' },
    RS384 => { kty => 'RSA', hash => 'sha384' },
    RS512 => { kty => 'RSA', hash => 'sha512' },
    PS256 => { kty => 'RSA', hash => 'sha256', pss => 32 },
);

my %HMAC = (
    HS256 => \&hmac_sha256,
    HS384 => \&hmac_sha384,
    HS512 => \&hmac_sha512,
);

# DER object identifiers (content bytes with tag and length)

my $OID_ED25519 = "\x06\x03\x2b\x65\x70";
my $OID_EC      = "\x06\x07\x2a\x86\x48\xce\x3d\x02\x01";
my $OID_RSA     = "\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x01\x01";

my %CURVE_OID = (
    'P-256' => "\x06\x08\x2a\x86\x48\xce\x3d\x03\x01\x07",
    'P-384' => "\x06\x05\x2b\x81\x04\x00\x22",
);

my %OID_CURVE = reverse %CURVE_OID;

my %CURVE_SIZE = ('P-256' => 32, 'P-384' => 48);

my @RSA_PRIV = qw(n e d p q dp dq qi);

sub alg_info {
    my ($alg) = @_;

    return undef unless defined $alg && $ALG{$alg};
    return { %{ $ALG{$alg} } };
}


# base64url ################################################################

sub b64url_encode {
    my ($bytes) = @_;

    croak 'b64url_encode: undefined input' unless defined $bytes;
    croak 'b64url_encode: wide character (encode to bytes first)'
        unless utf8::downgrade(my $copy = $bytes, 1);

    my $s = encode_base64($copy, '');
    $s =~ tr{+/}{-_};
    $s =~ s/=+\z//;

    return $s;
}

# Strict: only the base64url alphabet, no padding, no whitespace, and the
# unused bits of the last character must be zero (anything accepted
# re-encodes to the same text).

sub b64url_decode {
    my ($str) = @_;

    croak 'b64url_decode: undefined input' unless defined $str;
    croak 'b64url_decode: invalid base64url'
        if $str =~ /[^A-Za-z0-9_-]/ || length($str) % 4 == 1;

    (my $b = $str) =~ tr{-_}{+/};
    $b .= '=' x ((4 - length($b) % 4) % 4);

    my $bytes = decode_base64($b);

    croak 'b64url_decode: non-canonical base64url (unused bits set)'
        if b64url_encode($bytes) ne $str;

    return $bytes;
}


# JSON #####################################################################

sub _is_bool {
    my ($v) = @_;

    return 1 if blessed($v) && $v->isa('JSON::PP::Boolean');

    if (defined &builtin::is_bool) {
        no warnings;
        return 1 if !ref $v && builtin::is_bool($v);
    }

    return 0;
}

sub _created_as_number {
    my ($v) = @_;

    if (defined &builtin::created_as_number) {
        no warnings;
        return builtin::created_as_number($v);
    }

    require B;
    my $f = B::svref_2object(\$v)->FLAGS;

    return ($f & (B::SVf_IOK() | B::SVf_NOK())) && !($f & B::SVf_POK());
}

sub _json_number {
    my ($v) = @_;

    require B;
    my $f = B::svref_2object(\$v)->FLAGS;

    if ($f & B::SVf_IOK()) {
        return "$v";
    }

    croak 'canonical_json: cannot encode inf or nan'
        if $v != $v || $v * 0 != 0;

    # an integral double prints as an integer, exactly (Perl's default
    # "%.15g" would turn 2**53 into 9.00719925474099e+15)

    return sprintf('%.0f', $v) if $v == int($v) && abs($v) < 1e21;

    my $s = sprintf('%.17g', $v);

    for my $p (15, 16) {
        my $t = sprintf("%.${p}g", $v);
        if ($t == $v) {
            $s = $t;
            last;
        }
    }

    return $s;
}

my %ESC = (
    '"' => '\"', '\\' => '\\\\', "\n" => '\n', "\r" => '\r', "\t" => '\t',
    "\x08" => '\b', "\x0c" => '\f',
);

sub _json_string {
    my ($s) = @_;

    $s =~ s{(["\\\x00-\x1f])}{$ESC{$1} // sprintf('\\u%04x', ord $1)}ge;

    return qq("$s");
}

sub _json {
    my ($v, $indent, $level) = @_;

    return 'null' unless defined $v;
    return $v ? 'true' : 'false' if _is_bool($v);

    my $ref = ref $v;

    if (!$ref) {
        return _json_number($v) if _created_as_number($v);
        return _json_string("$v");
    }

    if ($ref eq 'SCALAR' && defined $$v && ($$v eq '1' || $$v eq '0')) {
        return $$v ? 'true' : 'false';
    }

    my ($nl, $in, $in1, $colon) = ('', '', '', ':');

    if ($indent) {
        $nl = "\n";
        $in = '  ' x $level;
        $in1 = '  ' x ($level + 1);
        $colon = ': ';
    }

    if ($ref eq 'HASH') {
        return '{}' unless %$v;
        return "{$nl"
            . join(",$nl", map { $in1 . _json_string($_) . $colon
                                 . _json($v->{$_}, $indent, $level + 1) }
                           sort keys %$v)
            . "$nl$in}";
    }

    if ($ref eq 'ARRAY') {
        return '[]' unless @$v;
        return "[$nl"
            . join(",$nl", map { $in1 . _json($_, $indent, $level + 1) }
                           @$v)
            . "$nl$in]";
    }

    croak "canonical_json: cannot encode a $ref reference";
}

# canonical_json($data [, pretty => 1]) -> UTF-8 bytes

sub canonical_json {
    my ($data, %o) = @_;

    my $text = _json($data, $o{pretty}, 0);
    utf8::encode($text);

    return $text;
}

# decode_json_text($bytes, $what) -> data; the error names $what and never
# quotes the text (it may be a secret).

sub decode_json_text {
    my ($text, $what) = @_;

    my $data = eval { JSON::PP->new->utf8->decode($text) };

    if (!defined $data && $@) {
        my $err = "$@";
        $err =~ s/,? at character offset.*//s;
        $err =~ s/ at \S+ line \d+.*//s;
        $err =~ s/\s+\z//;
        die "$what: invalid JSON: $err\n";
    }

    return $data;
}


# keys #####################################################################

# load_jwks($path) -> [ \%jwk, ... ] from a JWK Set or a single JWK

sub load_jwks {
    my ($path) = @_;

    open my $fh, '<:raw', $path or die "$path: cannot open: $!\n";
    my $text = do { local $/; <$fh> };
    close $fh;

    my $data = decode_json_text($text, $path);

    die "$path: not a JSON object\n" unless ref $data eq 'HASH';

    my $keys;

    if (exists $data->{keys}) {
        $keys = $data->{keys};
        die "$path: \"keys\" is not an array\n" unless ref $keys eq 'ARRAY';

        for my $i (0 .. $#$keys) {
            die "$path: key #$i is not a JSON object\n"
                unless ref $keys->[$i] eq 'HASH';
        }

    } elsif (exists $data->{kty}) {
        $keys = [ $data ];

    } else {
        die "$path: neither a JWK Set (\"keys\") nor a JWK (\"kty\")\n";
    }

    return $keys;
}

sub _kname {
    my ($jwk) = @_;

    return defined $jwk->{kid} ? "key \"$jwk->{kid}\"" : 'key';
}

sub _param {
    my ($jwk, $name, $size) = @_;

    my $v = $jwk->{$name};

    croak _kname($jwk) . ": missing \"$name\"" unless defined $v && !ref $v;

    my $bytes = eval { b64url_decode($v) };
    croak _kname($jwk) . ": \"$name\" is not valid base64url"
        unless defined $bytes;

    if (defined $size) {
        croak _kname($jwk) . ": \"$name\" must be $size bytes, not "
                           . length($bytes)
            unless length($bytes) == $size;
    }

    return $bytes;
}

sub _is_private {
    my ($jwk) = @_;

    return defined $jwk->{kty} && $jwk->{kty} eq 'oct'
        ? defined $jwk->{k} : defined $jwk->{d};
}

# public_jwk($jwk) -> copy without private members (undef for oct keys)

sub public_jwk {
    my ($jwk) = @_;

    return undef if ($jwk->{kty} // '') eq 'oct';

    my %pub = %$jwk;
    delete @pub{qw(d p q dp dq qi oth k)};

    return \%pub;
}

# the alg a key is used with: the explicit one, else the JWK's

sub _key_alg {
    my ($jwk, $alg) = @_;

    $alg //= $jwk->{alg};

    croak _kname($jwk) . ': no "alg" (give one)' unless defined $alg;
    croak _kname($jwk) . ": unsupported alg \"$alg\"" unless $ALG{$alg};

    my $a = $ALG{$alg};
    my $kty = $jwk->{kty} // '';

    croak _kname($jwk) . ": kty \"$kty\" does not fit alg $alg"
        unless $kty eq $a->{kty};

    if ($a->{crv}) {
        my $crv = $jwk->{crv} // '';
        croak _kname($jwk) . ": crv \"$crv\" does not fit alg $alg"
            unless $crv eq $a->{crv};
    }

    return $alg;
}


# DER ######################################################################

sub _der_len {
    my ($n) = @_;

    return chr($n) if $n < 0x80;

    my $b = '';
    while ($n) {
        $b = chr($n & 0xff) . $b;
        $n >>= 8;
    }

    return chr(0x80 | length $b) . $b;
}

sub _tlv {
    my ($tag, $content) = @_;
    return chr($tag) . _der_len(length $content) . $content;
}

sub _seq  { _tlv(0x30, join '', @_) }
sub _oct  { _tlv(0x04, $_[0]) }
sub _bits { _tlv(0x03, "\x00" . $_[0]) }

# unsigned big-endian bytes -> DER INTEGER

sub _int {
    my ($bytes) = @_;

    $bytes =~ s/\A\x00+//;
    $bytes = "\x00" if $bytes eq '';
    $bytes = "\x00$bytes" if ord($bytes) & 0x80;

    return _tlv(0x02, $bytes);
}

# parse one level: -> ([tag, content], ...); dies on malformed input

sub _der_items {
    my ($der) = @_;

    my @items;
    my $pos = 0;
    my $len = length $der;

    while ($pos < $len) {
        die "malformed DER\n" if $pos + 2 > $len;

        my $tag = ord substr($der, $pos++, 1);
        my $l = ord substr($der, $pos++, 1);

        if ($l & 0x80) {
            my $n = $l & 0x7f;
            die "malformed DER\n" if $n == 0 || $n > 4 || $pos + $n > $len;
            $l = 0;
            $l = ($l << 8) | ord substr($der, $pos++, 1) for 1 .. $n;
        }

        die "malformed DER\n" if $pos + $l > $len;

        push @items, [ $tag, substr($der, $pos, $l) ];
        $pos += $l;
    }

    return @items;
}

sub _der_seq {
    my ($der) = @_;

    my @top = _der_items($der);
    die "malformed DER: expected one SEQUENCE\n"
        unless @top == 1 && $top[0][0] == 0x30;

    return _der_items($top[0][1]);
}

sub _uint {
    my ($item) = @_;

    die "malformed DER: expected INTEGER\n" unless $item && $item->[0] == 2;
    die "malformed DER: negative INTEGER\n" if ord($item->[1]) & 0x80;

    (my $b = $item->[1]) =~ s/\A\x00+//;

    return length $b ? $b : "\x00";
}

sub _pad {
    my ($bytes, $size, $what) = @_;

    $bytes =~ s/\A\x00+// if length $bytes > $size;
    die "$what is longer than $size bytes\n" if length $bytes > $size;

    return ("\x00" x ($size - length $bytes)) . $bytes;
}

sub _pem {
    my ($label, $der) = @_;
    my $b64 = encode_base64($der, '');
    $b64 =~ s/(.{1,64})/$1\n/g;

    return "-----BEGIN $label-----\n$b64-----END $label-----\n";
}

# jwk_to_pem($jwk [, public => 1]) -> PKCS#8 private or SPKI public PEM

my %PEM_CACHE;

sub jwk_to_pem {
    my ($jwk, %o) = @_;

    my $kty = $jwk->{kty} // '';
    my $public = $o{public} || !_is_private($jwk);
    my ($algid, $pub, $priv);

    if ($kty eq 'OKP') {
        croak _kname($jwk) . ': only crv Ed25519 is supported'
            unless ($jwk->{crv} // '') eq 'Ed25519';

        $algid = _seq($OID_ED25519);

        if ($public) {
            $pub = _param($jwk, 'x', 32);
        } else {
            $priv = _oct(_param($jwk, 'd', 32));
        }

    } elsif ($kty eq 'EC') {
        my $crv = $jwk->{crv} // '';
        my $size = $CURVE_SIZE{$crv}
            or croak _kname($jwk) . ": unsupported crv \"$crv\"";

        $algid = _seq($OID_EC, $CURVE_OID{$crv});
        $pub = "\x04" . _param($jwk, 'x', $size) . _param($jwk, 'y', $size);

        # SEC1 ECPrivateKey without parameters (they are in the algid)

        $priv = _seq(_int("\x01"), _oct(_param($jwk, 'd', $size)),
                     _tlv(0xa1, _bits($pub)))
            unless $public;

    } elsif ($kty eq 'RSA') {
        $algid = _seq($OID_RSA, "\x05\x00");

        if ($public) {
            $pub = _seq(map { _int(_param($jwk, $_)) } qw(n e));

        } else {
            for (@RSA_PRIV) {
                croak _kname($jwk) . ": RSA private key without \"$_\" "
                                   . '(all of n e d p q dp dq qi needed)'
                    unless defined $jwk->{$_};
            }

            $priv = _seq(_int("\x00"),
                         map { _int(_param($jwk, $_)) } @RSA_PRIV);
        }

    } else {
        croak _kname($jwk) . ": kty \"$kty\" has no PEM form";
    }

    return _pem('PUBLIC KEY', _seq($algid, _bits($pub))) if $public;

    return _pem('PRIVATE KEY', _seq(_int("\x00"), $algid, _oct($priv)));
}

# JWK members from DER structures

sub _jwk_from_spki {
    my ($der) = @_;

    my ($algid, $bits) = _der_seq($der);
    die "not a SubjectPublicKeyInfo\n"
        unless $algid && $algid->[0] == 0x30 && $bits && $bits->[0] == 3;

    my ($oid, $param) = _der_items($algid->[1]);
    my $key = substr($bits->[1], 1);
    my $oid_der = _tlv(6, $oid->[1]);

    if ($oid_der eq $OID_ED25519) {
        die "bad Ed25519 public key\n" unless length $key == 32;
        return { kty => 'OKP', crv => 'Ed25519', x => b64url_encode($key) };
    }

    if ($oid_der eq $OID_EC) {
        my $crv = $param && $OID_CURVE{ _tlv(6, $param->[1]) }
            or die "unsupported EC curve\n";
        my $size = $CURVE_SIZE{$crv};

        die "EC public key is not an uncompressed point\n"
            unless length $key == 1 + 2 * $size && ord $key == 4;

        return { kty => 'EC', crv => $crv,
                 x => b64url_encode(substr $key, 1, $size),
                 y => b64url_encode(substr $key, 1 + $size) };
    }

    if ($oid_der eq $OID_RSA) {
        my ($n, $e) = _der_seq($key);
        return { kty => 'RSA', n => b64url_encode(_uint($n)),
                 e => b64url_encode(_uint($e)) };
    }

    die "unsupported public key type\n";
}

# private members from PKCS#8, SEC1 or PKCS#1 DER

sub _jwk_private_from_der {
    my ($der) = @_;

    my @s = _der_seq($der);

    # PKCS#8: version, algid, OCTET STRING

    if (@s >= 3 && $s[0][0] == 2 && $s[1][0] == 0x30 && $s[2][0] == 4) {
        my ($oid, $param) = _der_items($s[1][1]);
        my $oid_der = _tlv(6, $oid->[1]);
        my $inner = $s[2][1];

        if ($oid_der eq $OID_ED25519) {
            my ($d) = _der_items($inner);
            die "bad Ed25519 private key\n"
                unless $d && $d->[0] == 4 && length $d->[1] == 32;
            return { kty => 'OKP', crv => 'Ed25519',
                     d => b64url_encode($d->[1]) };
        }

        if ($oid_der eq $OID_EC) {
            my $crv = $param && $OID_CURVE{ _tlv(6, $param->[1]) }
                or die "unsupported EC curve\n";
            my $jwk = _jwk_private_from_der($inner);
            $jwk->{crv} //= $crv;
            return $jwk;
        }

        return _jwk_private_from_der($inner) if $oid_der eq $OID_RSA;

        die "unsupported private key type\n";
    }

    # SEC1 ECPrivateKey: version 1, OCTET STRING d, [0] curve, [1] point

    if (@s >= 2 && $s[0][0] == 2 && $s[0][1] eq "\x01" && $s[1][0] == 4) {
        my %jwk = (kty => 'EC');

        for my $t (@s[2 .. $#s]) {
            if ($t->[0] == 0xa0) {
                my ($oid) = _der_items($t->[1]);
                $jwk{crv} = $OID_CURVE{ _tlv(6, $oid->[1]) }
                    or die "unsupported EC curve\n";
            }
        }

        $jwk{d} = $s[1][1];

        return \%jwk;
    }

    # PKCS#1 RSAPrivateKey: version 0, n e d p q dp dq qi

    if (@s >= 9 && $s[0][0] == 2 && $s[0][1] eq "\x00") {
        my %jwk = (kty => 'RSA');
        @jwk{@RSA_PRIV} = map { b64url_encode(_uint($_)) } @s[1 .. 8];
        return \%jwk;
    }

    die "unsupported private key structure\n";
}


# openssl ##################################################################

my $TMPDIR;

sub _tmpfile {
    my ($content) = @_;

    $TMPDIR //= tempdir('embed-session-XXXXXX', TMPDIR => 1, CLEANUP => 1);

    my $fh = File::Temp->new(DIR => $TMPDIR, UNLINK => 1);
    chmod 0600, $fh->filename;

    if (defined $content) {
        binmode $fh;
        print {$fh} $content or die "write: $!\n";
        close $fh or die "close: $!\n";
    }

    return $fh;
}

sub _slurp {
    my ($path) = @_;

    open my $fh, '<:raw', $path or die "$path: $!\n";
    local $/;
    my $data = <$fh>;
    close $fh;

    return $data // '';
}

# run openssl with the given arguments; -> (exit status, stderr text)

sub _openssl_run {
    my (@args) = @_;

    my $err = _tmpfile();
    my $errname = $err->filename;

    local $SIG{CHLD} = 'DEFAULT';

    my $pid = fork;
    die "fork: $!\n" unless defined $pid;

    if ($pid == 0) {
        open STDIN, '<', '/dev/null';
        open STDOUT, '>', '/dev/null';
        open STDERR, '>', $errname;
        { exec { $OPENSSL } $OPENSSL, @args };
        print STDERR "cannot run $OPENSSL: $!\n";
        POSIX::_exit(127);
    }

    waitpid $pid, 0;
    my $status = $?;

    my $text = _slurp($errname);
    $text =~ s/\s+\z//;

    return ($status, $text);
}

sub _openssl {
    my (@args) = @_;

    my ($status, $err) = _openssl_run(@args);

    if ($status != 0) {
        my @lines = grep { length } split /\n/, $err;
        splice @lines, 3 if @lines > 3;
        die "openssl $args[0] failed"
            . ($status == 127 << 8 ? " (is $OPENSSL installed?)" : '')
            . (@lines ? ': ' . join(' / ', @lines) : '') . "\n";
    }

    return;
}

# a private-key PEM for $jwk, cached in memory

sub _private_pem {
    my ($jwk) = @_;

    my $id = sha256_hex(canonical_json({
        map { defined $jwk->{$_} ? ($_ => $jwk->{$_}) : () }
            qw(kty crv d x y), @RSA_PRIV
    }));

    return $PEM_CACHE{$id} //= jwk_to_pem($jwk);
}

# pem_to_jwk($pem_text) -> JWK (private if the PEM is a private key)

sub pem_to_jwk {
    my ($pem) = @_;

    my $in = _tmpfile($pem);

    if ($pem =~ /-----BEGIN PUBLIC KEY-----/) {
        my $out = _tmpfile();
        _openssl('pkey', '-pubin', '-in', $in->filename, '-outform', 'DER',
                 '-out', $out->filename);
        return _jwk_from_spki(_slurp($out->filename));
    }

    die "not a PEM private or public key\n"
        unless $pem =~ /-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----/;

    my $priv = _tmpfile();
    my $pub = _tmpfile();

    # an empty pass phrase: an encrypted key fails instead of prompting

    _openssl('pkey', '-in', $in->filename, '-passin', 'pass:',
             '-outform', 'DER', '-out', $priv->filename);
    _openssl('pkey', '-in', $in->filename, '-passin', 'pass:', '-pubout',
             '-outform', 'DER', '-out', $pub->filename);

    my $jwk = _jwk_from_spki(_slurp($pub->filename));
    my $p = _jwk_private_from_der(_slurp($priv->filename));

    if ($jwk->{kty} eq 'EC') {
        $jwk->{d} = b64url_encode(_pad($p->{d}, $CURVE_SIZE{ $jwk->{crv} },
                                       'EC private key'));
    } elsif ($jwk->{kty} eq 'RSA') {
        $jwk->{$_} = $p->{$_} for qw(d p q dp dq qi);
    } else {
        $jwk->{d} = $p->{d};
    }

    return $jwk;
}


# signing ##################################################################

# sign_raw(key => $jwk, input => $bytes [, alg => ALG]) -> signature bytes

sub sign_raw {
    my (%o) = @_;

    my $jwk = $o{key} or croak 'sign_raw: no key';
    my $input = $o{input} // croak 'sign_raw: no input';

    utf8::downgrade($input, 1) or croak 'sign_raw: wide character in input';

    my $alg = _key_alg($jwk, $o{alg});
    my $a = $ALG{$alg};

    if ($a->{kty} eq 'oct') {
        return $HMAC{$alg}->($input, _param($jwk, 'k'));
    }

    croak _kname($jwk) . ": a public key cannot sign" unless _is_private($jwk);

    my $key = _tmpfile(_private_pem($jwk));
    my $in = _tmpfile($input);
    my $out = _tmpfile();

    if ($alg eq 'EdDSA') {
        _openssl('pkeyutl', '-sign', '-inkey', $key->filename, '-rawin',
                 '-in', $in->filename, '-out', $out->filename);

        my $sig = _slurp($out->filename);
        die "openssl gave a bad Ed25519 signature\n" unless length $sig == 64;

        return $sig;
    }

    my @opts;

    if ($a->{pss}) {
        @opts = ('-sigopt', 'rsa_padding_mode:pss',
                 '-sigopt', "rsa_pss_saltlen:$a->{pss}",
                 '-sigopt', "rsa_mgf1_md:$a->{hash}");
    }

    _openssl('dgst', "-$a->{hash}", '-sign', $key->filename, @opts,
             '-out', $out->filename, $in->filename);

    my $sig = _slurp($out->filename);

    return $sig if $a->{kty} eq 'RSA';

    # ECDSA: DER SEQUENCE { r, s } -> r || s, each left-padded

    my ($r, $s) = _der_seq($sig);

    return _pad(_uint($r), $a->{size}, 'ECDSA r')
         . _pad(_uint($s), $a->{size}, 'ECDSA s');
}

# sign_token(key => $jwk, claims => \%c, header => \%h, raw_header => $json,
#            raw_payload => $json [, alg => ALG]) -> compact JWS
#
# Header: {"alg", "kid" (when the key has one), "typ": "embed-session+jwt"}
# with %h merged in; a member given as undef is removed.  The signature is
# made with alg (default: the key's "alg"), whatever the header says, so
# tests can send a header alg that differs from the signing alg.  alg
# "none" gives an empty signature and needs no key.

sub sign_token {
    my (%o) = @_;

    my $jwk = $o{key};
    my $alg = $o{alg} // ($jwk ? $jwk->{alg} : undef);

    croak 'sign_token: no key' unless $jwk || ($alg // '') eq 'none';

    my $header_bytes;

    if (defined $o{raw_header}) {
        $header_bytes = $o{raw_header};
        utf8::encode($header_bytes) if utf8::is_utf8($header_bytes);

    } else {
        my %h = (alg => $alg, typ => $TYP);
        $h{kid} = $jwk->{kid} if $jwk && defined $jwk->{kid};

        while (my ($k, $v) = each %{ $o{header} // {} }) {
            if (defined $v) {
                $h{$k} = $v;
            } else {
                delete $h{$k};
            }
        }

        $header_bytes = canonical_json(\%h);
    }

    my $payload_bytes;

    if (defined $o{raw_payload}) {
        $payload_bytes = $o{raw_payload};
        utf8::encode($payload_bytes) if utf8::is_utf8($payload_bytes);

    } else {
        $payload_bytes = canonical_json($o{claims} // {});
    }

    my $input = b64url_encode($header_bytes) . '.'
              . b64url_encode($payload_bytes);

    return "$input." if ($alg // '') eq 'none';

    return "$input."
        . b64url_encode(sign_raw(key => $jwk, input => $input, alg => $alg));
}


# verifying (for tests of tokens minted elsewhere) #########################

sub _ct_equal {
    my ($a, $b) = @_;

    return 0 unless length $a == length $b;

    my $r = 0;
    $r |= ord(substr $a, $_, 1) ^ ord(substr $b, $_, 1) for 0 .. length($a) - 1;

    return $r == 0;
}

# verify_raw(key => $jwk, input => $bytes, signature => $bytes
#            [, alg => ALG]) -> true if the signature is valid

sub verify_raw {
    my (%o) = @_;

    my $jwk = $o{key} or croak 'verify_raw: no key';
    my $input = $o{input} // croak 'verify_raw: no input';
    my $sig = $o{signature} // croak 'verify_raw: no signature';

    my $alg = _key_alg($jwk, $o{alg});
    my $a = $ALG{$alg};

    if ($a->{kty} eq 'oct') {
        return _ct_equal($HMAC{$alg}->($input, _param($jwk, 'k')), $sig);
    }

    my $pem = jwk_to_pem($jwk, public => 1);

    if ($a->{kty} eq 'RSA') {
        (my $n = _param($jwk, 'n')) =~ s/\A\x00+//;
        return 0 unless length $sig == length $n;
    } else {
        return 0 unless length $sig == $a->{sig};
    }

    my $key = _tmpfile($pem);
    my $in = _tmpfile($input);
    my ($status, @opts);

    if ($alg eq 'EdDSA') {
        my $sf = _tmpfile($sig);
        ($status) = _openssl_run('pkeyutl', '-verify', '-pubin', '-inkey',
                                 $key->filename, '-rawin', '-in',
                                 $in->filename, '-sigfile', $sf->filename);
        return $status == 0;
    }

    if ($a->{kty} eq 'EC') {
        my $n = $a->{size};
        $sig = _seq(_int(substr $sig, 0, $n), _int(substr $sig, $n));
    }

    if ($a->{pss}) {
        @opts = ('-sigopt', 'rsa_padding_mode:pss',
                 '-sigopt', "rsa_pss_saltlen:$a->{pss}",
                 '-sigopt', "rsa_mgf1_md:$a->{hash}");
    }

    my $sf = _tmpfile($sig);

    ($status) = _openssl_run('dgst', "-$a->{hash}", '-verify',
                             $key->filename, @opts, '-signature',
                             $sf->filename, $in->filename);

    return $status == 0;
}

# decode_token($jws) -> { header => \%h, claims => \%c (undef if the
# payload is not JSON), header_raw, payload_raw, signature, input }

sub decode_token {
    my ($jws) = @_;

    croak 'decode_token: no token' unless defined $jws;

    my @seg = split /\./, $jws, -1;
    die "not a compact JWS: " . scalar(@seg) . " segments, 3 expected\n"
        unless @seg == 3;

    my %t = (input => "$seg[0].$seg[1]");

    my @name = qw(header payload signature);
    my @raw;

    for my $i (0 .. 2) {
        $raw[$i] = eval { b64url_decode($seg[$i]) };
        die "$name[$i]: " . ($@ =~ s/^b64url_decode: //r =~ s/ at .*//sr)
                          . "\n"
            unless defined $raw[$i];
    }

    @t{qw(header_raw payload_raw signature)} = @raw;

    $t{header} = decode_json_text($t{header_raw}, 'header');
    die "header: not a JSON object\n" unless ref $t{header} eq 'HASH';

    $t{claims} = eval { decode_json_text($t{payload_raw}, 'payload') };

    return \%t;
}

# verify_token(key => $jwk, token => $jws) -> \%claims; dies unless the
# header alg equals the key's alg and the signature verifies.  No claim
# checks (exp etc.) are made.

sub verify_token {
    my (%o) = @_;

    my $jwk = $o{key} or croak 'verify_token: no key';
    my $t = decode_token($o{token});
    my $alg = _key_alg($jwk, $o{alg});

    die "token alg \"" . ($t->{header}{alg} // '') . "\" is not $alg\n"
        unless defined $t->{header}{alg} && !ref $t->{header}{alg}
               && $t->{header}{alg} eq $alg;

    die "bad signature\n"
        unless verify_raw(key => $jwk, input => $t->{input},
                          signature => $t->{signature}, alg => $alg);

    die "payload: not a JSON object\n" unless ref $t->{claims} eq 'HASH';

    return $t->{claims};
}


# key generation ###########################################################

sub _random_bytes {
    my ($n) = @_;

    if (open my $fh, '<:raw', '/dev/urandom') {
        my $buf;
        my $got = read $fh, $buf, $n;
        close $fh;
        return $buf if defined $got && $got == $n;
    }

    my $out = _tmpfile();
    _openssl('rand', '-out', $out->filename, $n);
    my $buf = _slurp($out->filename);

    die "openssl rand gave " . length($buf) . " bytes, not $n\n"
        unless length $buf == $n;

    return $buf;
}

sub random_hex {
    my ($n) = @_;
    return unpack 'H*', _random_bytes($n);
}

# keygen(alg => ALG, kid => KID [, bits => N] [, bytes => N]) ->
#     ($private_jwk, $public_jwk, $private_pem, $public_pem)
# HMAC: ($private_jwk, undef, undef, undef).  bits (RSA, default 2048) and
# bytes (HMAC secret size, default the hash size) are there to make the
# deliberately weak test fixtures; the CLI refuses weak sizes.

sub keygen {
    my (%o) = @_;

    my $alg = $o{alg} // croak 'keygen: no alg';
    my $a = $ALG{$alg} or croak "keygen: unsupported alg \"$alg\"";

    my %meta = (alg => $alg, use => 'sig');
    $meta{kid} = $o{kid} if defined $o{kid};

    if ($a->{kty} eq 'oct') {
        my $jwk = { kty => 'oct', k => b64url_encode(_random_bytes(
                                           $o{bytes} // $a->{secret})),
                    %meta };
        return ($jwk, undef, undef, undef);
    }

    my @gen;

    if ($a->{kty} eq 'OKP') {
        @gen = ('-algorithm', 'ed25519');

    } elsif ($a->{kty} eq 'EC') {
        @gen = ('-algorithm', 'EC', '-pkeyopt',
                "ec_paramgen_curve:$a->{crv}");

    } else {
        my $bits = $o{bits} // 2048;
        croak "keygen: bad RSA size \"$bits\"" unless $bits =~ /\A\d+\z/;
        @gen = ('-algorithm', 'RSA', '-pkeyopt', "rsa_keygen_bits:$bits");
    }

    my $priv = _tmpfile();
    my $pub = _tmpfile();

    _openssl('genpkey', @gen, '-out', $priv->filename);
    _openssl('pkey', '-in', $priv->filename, '-pubout',
             '-out', $pub->filename);

    my $priv_pem = _slurp($priv->filename);
    my $pub_pem = _slurp($pub->filename);

    my $jwk = pem_to_jwk($priv_pem);
    my %pub_check = %{ _jwk_from_spki(_pem_der($pub_pem)) };

    for (keys %pub_check) {
        die "keygen: public key mismatch ($_)\n"
            unless $pub_check{$_} eq $jwk->{$_};
    }

    %$jwk = (%$jwk, %meta);

    return ($jwk, public_jwk($jwk), $priv_pem, $pub_pem);
}

sub _pem_der {
    my ($pem) = @_;

    $pem =~ /-----BEGIN ([A-Z ]+)-----\s*(.*?)-----END \1-----/s
        or die "no PEM block\n";

    return decode_base64($2);
}

1;
