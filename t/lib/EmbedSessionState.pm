package EmbedSessionState;

# The session store's state file, for the tests that read it and forge it
# (src/ngx_http_embed_session_state_format.c has the format):
#
#   header   "ESSTATE2", record size (u32), flags (u32: 1 signed),
#            generation (u64), since (i64), count (u32), 0 (u32),
#            written (i64): 48 bytes
#   records  length (u32), CRC32 of the body (u32), the body (a record of
#            RSIZE bytes and a ticket's claims), with a state_key the
#            HMAC-SHA256 of the three under the key
#   trailer  with a state_key, the HMAC-SHA256 of all that comes before;
#            without, its CRC32 (u32)
#
# The release before wrote "ESSTATE1" files: a 16-byte header (magic,
# record size 120, flags), records, no trailer.  Numbers are little-endian
# (the machine's, as nginx writes them).

use strict;
use warnings;

use Compress::Zlib ();
use Digest::SHA ();
use Exporter 'import';

our @EXPORT = qw(
    state_parse state_file state_rec rec_body record_body
    $RSIZE $HEADER $REC_FLAGS $REC_PAYLOAD_LEN $REC_EXPIRES $REC_HORIZON
    $F_REVOKED $F_TICKET $F_EXCHANGED
);

# offsets in ngx_http_es_store_rec_t (src/ngx_http_embed_session_store.h):
# id[16] gen[16] prev[16] owner[8], then expires end rotated iat exp ttl
# (int64), seq (u32), flags (u16), reserved (u16), payload_len (u32),
# reserved2 (u32), horizon (int64)

our $RSIZE = 128;
our $HEADER = 48;
our ($REC_EXPIRES, $REC_FLAGS, $REC_PAYLOAD_LEN, $REC_HORIZON)
    = (56, 108, 112, 120);
our ($F_REVOKED, $F_TICKET, $F_EXCHANGED) = (1, 2, 4);

# the parts of BYTES, a file whose records carry MACLEN bytes of HMAC:
# { version, rsize, flags, generation, since, count, written, trailer,
#   whole (the trailer is right; KEY: the HMAC under it, else the CRC32),
#   recs => [ { n, offset, len, crc, body, mac, id, flags, payload } ] }
# when the records line up to the trailer, undef otherwise

sub state_parse {
    my ($bytes, $maclen, $key) = @_;

    my %f;

    if (length $bytes >= $HEADER && substr($bytes, 0, 8) eq 'ESSTATE2') {
        @f{qw(rsize flags generation since count written)}
            = unpack 'L L Q q L x4 q', substr($bytes, 8, 40);
        $f{version} = 2;

    } elsif (length $bytes >= 16 && substr($bytes, 0, 8) eq 'ESSTATE1') {
        @f{qw(rsize flags)} = unpack 'LL', substr($bytes, 8, 8);
        $f{version} = 1;

    } else {
        return undef;
    }

    my $start = $f{version} == 2 ? $HEADER : 16;
    my $tlen = $f{version} == 1 ? 0 : $f{flags} & 1 ? 32 : 4;
    my $end = length($bytes) - $tlen;

    return undef if $end < $start;

    $f{trailer} = substr($bytes, $end);
    $f{whole} = $f{version} == 1 ? 1
                : $tlen == 32
                  ? (defined $key
                     && Digest::SHA::hmac_sha256(substr($bytes, 0, $end),
                                                 $key) eq $f{trailer})
                  : Compress::Zlib::crc32(substr($bytes, 0, $end))
                    == unpack('L', $f{trailer});

    my @recs;
    my ($p, $n) = ($start, 1);

    while ($p < $end) {
        return undef if $p + 8 > $end;

        my ($len, $crc) = unpack 'LL', substr($bytes, $p, 8);

        return undef if $len < $f{rsize} || $p + 8 + $len + $maclen > $end;

        my $body = substr($bytes, $p + 8, $len);

        push @recs, { n => $n++, offset => $p, len => $len, crc => $crc,
                      body => $body,
                      mac => substr($bytes, $p + 8 + $len, $maclen),
                      id => substr($body, 0, 16),
                      flags => unpack('S', substr($body, $REC_FLAGS, 2)),
                      payload => substr($body, $f{rsize}) };

        $p += 8 + $len + $maclen;
    }

    $f{recs} = \@recs;

    return \%f;
}

# a whole file: records => [ record bytes (state_rec) ], and
#   key => SECRET       signed: flag 1 and the trailer's HMAC under it
#   signed => 1         flag 1 without a key (trailer => the bytes)
#   trailer => BYTES    instead of the right one
#   generation, since, count (default: the number of records), written
#   version => 1        the old format: 16-byte header, no trailer

sub state_file {
    my (%o) = @_;

    my $recs = join '', @{ $o{records} // [] };
    my $signed = ($o{key} || $o{signed}) ? 1 : 0;

    if (($o{version} // 2) == 1) {
        return 'ESSTATE1' . pack('LL', 120, $signed) . $recs;
    }

    my $s = 'ESSTATE2'
            . pack('L L Q q L L q', $o{rsize} // $RSIZE, $signed,
                   $o{generation} // 1, $o{since} // 0,
                   $o{count} // scalar @{ $o{records} // [] }, 0,
                   $o{written} // time)
            . $recs;

    return $s . $o{trailer} if defined $o{trailer};

    return $s . ($o{key} ? Digest::SHA::hmac_sha256($s, $o{key})
                         : pack 'L', Compress::Zlib::crc32($s));
}

# a record: length, CRC32, body, then mac => BYTES, or the HMAC-SHA256
# under key => SECRET, or nothing

sub state_rec {
    my ($body, %o) = @_;

    my $head = pack 'LL', length $body, Compress::Zlib::crc32($body);

    my $mac = defined $o{key}
              ? Digest::SHA::hmac_sha256($head . $body, $o{key})
              : $o{mac} // '';

    return $head . $body . $mac;
}

# a record's body with id => (id and generation), payload => (a ticket's
# claims, and their length)

sub rec_body {
    my ($body, %o) = @_;

    if (defined $o{id}) {
        substr($body, 0, 16) = $o{id};
        substr($body, 16, 16) = $o{id};
    }

    if (defined $o{payload}) {
        $body = substr($body, 0, $RSIZE) . $o{payload};
        substr($body, $REC_PAYLOAD_LEN, 4) = pack 'L', length $o{payload};
    }

    return $body;
}

# a record's body from its fields: id, owner, expires, end, iat, exp, ttl,
# flags, payload, horizon (default: exp); version => 1 leaves horizon out

sub record_body {
    my (%r) = @_;

    my $now = time;
    my $payload = $r{payload} // '';
    my $exp = $r{exp} // $now + 900;

    my $body = pack('a16 a16 a16 a8 q q q q q q L S S L L',
                    $r{id}, $r{gen} // $r{id}, $r{prev} // "\0" x 16,
                    $r{owner} // "owner\0\0\0",
                    $r{expires} // $now + 3600, $r{end} // $now + 3600,
                    $r{rotated} // 0, $r{iat} // $now, $exp, $r{ttl} // 0,
                    $r{seq} // 0, $r{flags} // 0, 0, length $payload, 0);

    $body .= pack 'q', $r{horizon} // $exp unless ($r{version} // 2) == 1;

    return $body . $payload;
}

1;
