package EmbedSessionTest;

# Test::Nginx::Socket with the module loaded into every block and helpers
# that sign tokens with the fixture keys in t/data/keys.
#
#   use FindBin;
#   use lib "$FindBin::Bin/lib";
#   use EmbedSessionTest;
#
# Every block gets "load_module $TEST_NGINX_ES_MODULE;" in front of its
# main_config.  An empty TEST_NGINX_ES_MODULE means that the module is
# built into TEST_NGINX_BINARY (--add-module): no load_module then, and
# es_load_module() is the line a configuration written by hand puts in
# front ("" or "load_module ...;\n").  Configurations name fixture files
# as $TEST_NGINX_ES_DATA/keys/hs256.jwks.

use strict;
use warnings;
use Cwd qw(abs_path);
use File::Basename qw(dirname);

my $t_dir;
my $top;

BEGIN {
    $t_dir = abs_path(dirname(__FILE__) . '/..');
    $top = abs_path("$t_dir/..");
    unshift @INC, "$top/tools/lib";

    $ENV{TEST_NGINX_ES_DATA} //= "$t_dir/data";
    $ENV{TEST_NGINX_ES_MODULE} //=
        "$top/build/nginx/modules/ngx_http_embed_session_module.so";
    $ENV{TEST_NGINX_BINARY} //= "$top/build/nginx/sbin/nginx"
        if -x "$top/build/nginx/sbin/nginx";
}

use Test::Nginx::Socket -Base;
use EmbedSession::Token qw(load_jwks sign_token b64url_encode
                           b64url_decode);

our @EXPORT = qw(token jwk b64url_encode b64url_decode sign_token
                 load_jwks es_data es_load_module slurp);

# "--- more_headers eval" sections run in package Test::Base::Filter:
# make the helpers callable there without a package prefix

{
    no strict 'refs';

    for my $name (@EXPORT) {
        *{"Test::Base::Filter::$name"} = \&{$name};
    }
}

sub es_load_module () {
    my $so = $ENV{TEST_NGINX_ES_MODULE};

    return $so eq '' ? '' : "load_module $so;\n";
}

add_block_preprocessor(sub {
    my $block = shift;
    my $main = $block->main_config // '';

    $block->set_value('main_config', es_load_module() . $main);
});

sub es_data () { $ENV{TEST_NGINX_ES_DATA} }

# the bytes of a file

sub slurp ($) {
    my ($path) = @_;

    open my $fh, '<:raw', $path or die "$path: $!\n";
    local $/;
    return scalar <$fh>;
}

# jwk('hs256') is the first key of t/data/keys/hs256.jwks,
# jwk('rotation', 'previous') the key with that kid.

sub jwk ($;$) {
    my ($name, $kid) = @_;
    my $keys = load_jwks(es_data() . "/keys/$name.jwks");

    for my $k (@$keys) {
        return $k if !defined $kid || (($k->{kid} // '') eq $kid);
    }

    die "no key \"" . ($kid // '') . "\" in $name.jwks\n";
}

# token(key => 'hs256', claims => {...}, header => {...}, ttl => 300)
#
# Default claims: sub, iat, exp (now + ttl), jti and
# origins ["https://app.example.com"]; a claim given as undef is removed.
# header, raw_header and raw_payload are passed to sign_token().

sub token (@) {
    my %o = @_;
    my $now = time;
    my $ttl = $o{ttl} // 300;
    my $key = ref $o{key} ? $o{key} : jwk($o{key} // 'hs256', $o{kid});

    my %claims = (
        sub     => 'user-1',
        iat     => $now,
        exp     => $now + $ttl,
        jti     => sprintf('sess-%08x%08x', int(rand(2**32)),
                           int(rand(2**32))),
        origins => ['https://app.example.com'],
    );

    while (my ($k, $v) = each %{ $o{claims} // {} }) {
        if (defined $v) {
            $claims{$k} = $v;

        } else {
            delete $claims{$k};
        }
    }

    return sign_token(key => $key, claims => \%claims,
                      map { exists $o{$_} ? ($_ => $o{$_}) : () }
                          qw(header raw_header raw_payload));
}

1;
