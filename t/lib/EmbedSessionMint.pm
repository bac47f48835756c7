package EmbedSessionMint;

# Helpers of the mint tests (the seed contracts t/210 .. t/240 and
# t/250-mint-bodies.t): API keys and their key-file records, requests to
# the running nginx, the "--- json_check" section, the error log, ISO 8601
# times, the mint location of a conf-examples file and block defaults.
#
#   use FindBin;
#   use lib "$FindBin::Bin/lib";
#   use EmbedSessionTest;
#   use EmbedSessionMint;
#
# Load it after EmbedSessionTest (which puts tools/lib on @INC).  Loading
# it registers the "--- json_check" response body check.

use strict;
use warnings;
use Crypt::JWT qw(decode_jwt);
use Digest::SHA qw(sha256_hex);
use Exporter qw(import);
use HTTP::Tiny;
use JSON::PP ();
use POSIX qw(strftime);
use Test::More ();
use Test::Nginx::Socket ();
use Time::Local qw(timegm);

our @EXPORT = qw(new_key stored http decode_token iso iso_ok iso_time
                 read_log not_logged verify_at example_location
                 example_block block_defaults);

# "--- ... eval" sections run in package Test::Base::Filter:
# make the helpers callable there without a package prefix

{
    no strict 'refs';

    for my $name (@EXPORT) {
        *{"Test::Base::Filter::$name"} = \&{$name};
    }
}


# API keys ###################################################################
#
# Raw keys: PREFIX + 40 of [A-Za-z0-9].  The file stores LOOKUP:HEX64 only.
# EmbedSession::ApiKey when it loads, else the same computation with
# Digest::SHA.

my $have_apikey = eval {
    require EmbedSession::ApiKey;
    EmbedSession::ApiKey->can('generate_key')
        && EmbedSession::ApiKey->can('record_hash');
};

sub new_key ($) {
    my ($prefix) = @_;

    return EmbedSession::ApiKey::generate_key($prefix) if $have_apikey;

    my @c = ('A' .. 'Z', 'a' .. 'z', '0' .. '9');
    return $prefix . join '', map { $c[int rand @c] } 1 .. 40;
}

# the key= (or id_key=) field of a record for a raw key

sub stored ($) {
    my ($raw) = @_;

    return EmbedSession::ApiKey::record_hash($raw) if $have_apikey;

    $raw =~ /^(.*_)?([A-Za-z0-9]{40})$/ or die "bad raw key\n";
    return ($1 // '') . substr($2, 0, 8) . ':' . sha256_hex($raw);
}


# requests ###################################################################

# a request while nginx runs, from inside a check; {json} is the decoded
# body when it is JSON

sub http ($$;$$) {
    my ($method, $path, $headers, $content) = @_;

    my $res = HTTP::Tiny->new(timeout => 30)->request(
        $method, 'http://127.0.0.1:' . Test::Nginx::Util::server_port() . $path,
        { headers => $headers // {},
          defined $content ? (content => $content) : () });

    $res->{json} = eval { JSON::PP->new->decode($res->{content}) };

    return $res;
}

# a token on the module's verifier (GET /verify): "STATUS claims" or
# "STATUS CODE", the token's jti written as jti_as
#
#   verify_at($token, origin => ORIGIN, jti => JTI, jti_as => '<sessionId>')

sub verify_at ($@) {
    my ($token, %o) = @_;

    my $res = http('GET', '/verify',
                   { 'X-Session-Token' => $token,
                     defined $o{origin} ? (Origin => $o{origin}) : () });

    my $body = $res->{content} // '';
    chomp $body;
    if ($res->{status} != 200) {
        $body = $body =~ /"code":"([^"]+)"/ ? $1 : $body;
    }
    $body =~ s/\Q$o{jti}\E/$o{jti_as}/g if defined $o{jti} && $o{jti} ne '';
    return "$res->{status} $body";
}


# checks #####################################################################
#
# "--- json_check eval": a sub (or an array of them, one per pipelined
# request, undef to skip one) called with the decoded body and the test
# name.  The body must be JSON.

Test::Nginx::Socket::add_response_body_check(sub {
    my ($block, $body, $req_idx, $repeated_req_idx, $dry_run) = @_;

    my $checks = $block->json_check;

    return unless defined $checks;

    my $check = ref $checks eq 'ARRAY' ? $checks->[$req_idx] : $checks;

    return unless $check;

    my $name = $block->name . " - json_check (req $req_idx)";

    SKIP: {
        Test::More::skip("$name - skipped: $dry_run", 1) if $dry_run;

        my $doc = eval { JSON::PP->new->decode($body) };

        Test::More::ok(ref $doc eq 'HASH', "$name - body is a JSON object")
            or Test::More::diag("body: $body");

        $check->($doc, $name) if ref $doc eq 'HASH';
    }
});

# decode_token($jws, $name, key => KEY, alg => ALG, iss => ISS, aud => AUD):
# the header and the claims as Crypt::JWT verifies them (one test)

sub decode_token ($$@) {
    my ($jws, $name, %v) = @_;

    my ($h, $c) = eval {
        decode_jwt(token => $jws, key => $v{key}, decode_header => 1,
                   accepted_alg => [$v{alg}], verify_exp => 1,
                   verify_iss => $v{iss}, verify_aud => $v{aud});
    };

    Test::More::ok(ref $c eq 'HASH', "$name - Crypt::JWT verifies the token")
        or Test::More::diag("decode_jwt: $@");

    return ($h // {}, $c // {});
}

# ISO 8601 UTC with milliseconds: iso(TIME) writes one, iso_time(STRING)
# reads one back (undef when it is not one); iso_ok(STRING, TIME, NAME)
# tests one, the milliseconds optional

sub iso ($) {
    my ($t) = @_;
    return strftime('%Y-%m-%dT%H:%M:%S.000Z', gmtime $t);
}

sub iso_time ($) {
    my ($s) = @_;

    return undef unless ($s // '')
        =~ /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)\.000Z$/;

    return timegm($6, $5, $4, $3, $2 - 1, $1);
}

sub iso_ok ($$$) {
    my ($s, $exp, $name) = @_;

    my $want = strftime('%Y-%m-%dT%H:%M:%S', gmtime $exp);

    Test::More::like($s // '', qr/\A\Q$want\E(?:\.000)?Z\z/,
                     "$name - expiresAt is exp ($want), ISO 8601 UTC");
}


# the error log ##############################################################

# the error log without nginx's own debug entries (a --with-debug build
# logs every request header and the response headers at level debug, some
# over several lines): what the module logs

sub read_log () {
    open my $fh, '<', $Test::Nginx::Util::ErrLogFile or return '';
    my ($out, $debug) = ('', 0);

    while (my $line = <$fh>) {
        $debug = $line =~ /\[debug\]/ if $line =~ m{^\d{4}/\d\d/\d\d };
        $out .= $line unless $debug;
    }

    return $out;
}

# a --- no_error_log pattern: SECRET on a line that is not a debug line

sub not_logged ($) {
    my ($secret) = @_;
    return qr/^(?!.*\[debug\]).*\Q$secret\E/;
}


# configuration ##############################################################

# the block "location = URI { ... }" of a conf-examples file, without
# comments and blank lines

sub example_location ($$) {
    my ($file, $uri) = @_;

    return _example_block($file, "location = $uri {", "location = $uri");
}

# the same for a block named by its whole opening line, up to and with
# its "{": example_block(FILE, 'location ~ ^/v1/items/([^/]+)$ {')

sub example_block ($$) {
    my ($file, $head) = @_;

    (my $name = $head) =~ s/\s*\{\s*\z//;

    return _example_block($file, $head, $name);
}

sub _example_block {
    my ($file, $head, $name) = @_;

    open my $fh, '<', $file or die "$file: $!\n";
    my $text = do { local $/; <$fh> };
    close $fh;

    # comments hold braces of their own
    $text =~ s/(^|[ \t])#[^\n]*/$1/mg;

    my $start = index $text, $head;
    die "$file: no \"$name\"\n" if $start < 0;

    # quoted strings hold braces too: "pattern=...{3,34}..."
    my ($depth, $quote) = (0, '');
    for my $i ($start .. length($text) - 1) {
        my $c = substr $text, $i, 1;
        if ($quote) {
            $quote = '' if $c eq $quote;
            next;
        }
        if ($c eq '"' || $c eq "'") {
            $quote = $c;
            next;
        }
        $depth++ if $c eq '{';
        if ($c eq '}' && --$depth == 0) {
            my $loc = substr $text, $start, $i - $start + 1;
            $loc =~ s/^[ \t]*\n//mg;
            return $loc;
        }
    }

    die "$file: unbalanced braces\n";
}

# block_defaults(http_config => ..., config => ..., ...): a block
# preprocessor that gives every block without one of these sections the
# value given

sub block_defaults (@) {
    my (%defaults) = @_;

    Test::Nginx::Util::add_block_preprocessor(sub {
        my $block = shift;

        for my $section (sort keys %defaults) {
            $block->set_value($section, $defaults{$section})
                unless defined $block->$section;
        }
    });
}

1;
