package EmbedSessionSecurity;

# Helpers of the t/05x-security-*.t files that forge tokens byte by byte,
# once for all of them.
#
#   use FindBin;
#   use lib "$FindBin::Bin/lib";
#   use EmbedSessionTest;
#   use EmbedSessionSecurity;
#
# Loading it also makes the file delay its filters, so that sections are
# evaluated just before their block runs and time-dependent tokens are
# fresh, sets TEST_NGINX_HTML_DIR, and adds a preprocessor that stops a
# block whose "eval" section failed (see below).  Test::Base evaluates
# "eval" sections in its own package: call the helpers there as
# ::name(...).
#
#   hdr(%m), pl(%m)   the JSON text of the default header / claims with the
#                     members %m replaced: a Perl value is encoded, \'raw'
#                     is inserted as it is, undef removes the member
#   forge(%o)         a compact JWS over the exact segments: header, payload
#                     (JSON text), key (fixture name or JWK), kid, alg (the
#                     signing alg), edit (changes the base64url segments
#                     before signing), sig (changes the signature bytes),
#                     sig64 (changes the encoded signature)
#   key($k, $kid)     $k itself if it is a JWK, else the fixture key named
#                     $k (default hs256) with that kid
#   oct_key($bytes)   an HMAC "key" made of arbitrary bytes
#   resig($t, $f)     $t with its signature bytes passed through $f
#   h($t, $origin)    the request headers for token $t from $origin or the
#                     default origin
#
# (slurp($path), the bytes of a file, is EmbedSessionTest's.)

use strict;
use warnings;
use Exporter 'import';

use EmbedSessionTest ();
use EmbedSession::Token qw(sign_raw canonical_json b64url_encode
                           b64url_decode);
use Test::Base ();
use Test::Nginx::Util ();

our @EXPORT = qw(hdr pl key oct_key forge resig h);

Test::Base::filters_delay();

$ENV{TEST_NGINX_HTML_DIR} ||= Test::Nginx::Util::html_dir();

my $TYP = 'embed-session+jwt';
my $ORIGIN = 'https://app.example.com';

sub members {
    my ($def, %m) = @_;

    my %r = map { $_ => canonical_json($def->{$_}) } keys %$def;

    while (my ($k, $v) = each %m) {
        if (!defined $v) {
            delete $r{$k};

        } elsif (ref $v eq 'SCALAR') {
            $r{$k} = $$v;

        } else {
            $r{$k} = canonical_json($v);
        }
    }

    return '{' . join(',', map { qq("$_":$r{$_}) } sort keys %r) . '}';
}

sub hdr {
    return members({ alg => 'HS256', kid => 'hs256-1', typ => $TYP }, @_);
}

sub pl {
    my $now = time;

    return members({ sub => 'user-1', iat => $now, exp => $now + 3600,
                     jti => sprintf('sess-%08x', int rand 2**32),
                     origins => [$ORIGIN] }, @_);
}

sub key {
    my ($key, $kid) = @_;
    return ref $key ? $key : EmbedSessionTest::jwk($key // 'hs256', $kid);
}

# an HMAC "key" made of arbitrary bytes, to forge with attacker secrets

sub oct_key {
    return { kty => 'oct', k => b64url_encode($_[0]) };
}

sub forge {
    my (%o) = @_;

    my $key = key($o{key}, $o{kid});
    my $alg = $o{alg} // $key->{alg};

    my $header = $o{header}
                 // hdr(alg => $alg, kid => $key->{kid} // undef);

    my $h = b64url_encode($header);
    my $p = b64url_encode($o{payload} // pl());

    ($h, $p) = $o{edit}->($h, $p) if $o{edit};

    my $input = "$h.$p";
    my $sig = sign_raw(key => $key, input => $input, alg => $alg);

    $sig = $o{sig}->($sig) if $o{sig};

    my $s = b64url_encode($sig);
    $s = $o{sig64}->($s) if $o{sig64};

    return "$input.$s";
}

sub resig {
    my ($t, $f) = @_;

    my ($h, $p, $s) = split /\./, $t, -1;

    return "$h.$p." . b64url_encode($f->(b64url_decode($s)));
}

sub h {
    my ($t, $origin) = @_;
    return "X-Session-Token: $t\nOrigin: " . ($origin // $ORIGIN);
}

# A section whose eval failed holds the error text instead of a token and

# would make a rejection test pass for the wrong reason: stop instead.

Test::Nginx::Util::add_block_preprocessor(sub {
    my $block = shift;

    for my $s (qw(more_headers request response_body_like error_log
                  no_error_log)) {
        my $v = $block->$s;
        next unless defined $v;

        for my $x (ref $v eq 'ARRAY' ? @$v : $v) {
            die "TEST \"" . $block->name . "\": $s: eval failed: $x\n"
                if !ref $x && ($x =~ /\bat \S+ line \d+\.?$/m
                               || $s eq 'more_headers'
                                  && grep { !/\A[A-Za-z0-9-]+:/ }
                                          grep { length } split /\n/, $x);
        }
    }
});

1;
