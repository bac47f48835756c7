package EmbedSessionExample;

# A conf-example as shipped, for Test::Nginx: conf-examples/NAME.conf read
# as it is in the tree, with only what a test machine must change:
#
#   - ports: every 127.0.0.1:PORT of the file (listen, upstream server,
#     proxy_pass), the first listen's as $TEST_NGINX_SERVER_PORT, the
#     others as $TEST_NGINX_RAND_PORT_1, _2, ... in their order of first
#     appearance (example_port(PORT) says which);
#   - files: the paths given in files => { 'keys/x.keys' => PATH }, each
#     of which must appear in the file as a whole word;
#   - what Test::Nginx writes itself: the main level's load_module of the
#     module (EmbedSessionTest adds the test build's), worker_processes,
#     error_log, pid and events {}; and at the http level default_type and
#     keepalive_timeout.
#
# Everything else, every location, directive and comment, is the file's:
# the http block's body becomes the http_config of every block (before the
# block's own http_config, where a test puts the stub upstream), the rest of
# the main level its main_config.  A block with "--- no_example" is left
# alone.
#
#   use EmbedSessionExample;
#   use_example('pilot-status', files => {
#       'keys/hs256.jwks' => '$TEST_NGINX_ES_DATA/keys/hs256.jwks',
#       'keys/pilot-status.keys' => '$TEST_NGINX_HTML_DIR/pilot.keys' });
#   my $upstream = example_port(9000);    # '$TEST_NGINX_RAND_PORT_1'

use strict;
use warnings;

use Exporter 'import';
use File::Basename ();
use File::Spec ();
use Test::Nginx::Socket ();

our @EXPORT = qw(use_example example_config example_port example_file);

our %PORTS;

my $ROOT = File::Spec->rel2abs(File::Basename::dirname(__FILE__) . '/../..');

sub example_file ($) {
    my ($name) = @_;

    return "$ROOT/conf-examples/$name.conf";
}

# the closing brace of the block opened on the line $i (the file's layout:
# braces in code, never in strings or comments that matter here)

sub block_end {
    my ($lines, $i) = @_;

    my $depth = 0;

    for my $j ($i .. $#$lines) {
        (my $code = $lines->[$j]) =~ s/#.*//;
        $depth += () = $code =~ /\{/g;
        $depth -= () = $code =~ /\}/g;
        return $j if $depth == 0;
    }

    die "unbalanced braces from line " . ($i + 1) . "\n";
}

sub example_config ($%) {
    my ($name, %opt) = @_;

    my $file = example_file($name);

    open my $fh, '<', $file or die "$file: $!\n";
    my $text = do { local $/; <$fh> };
    close $fh;

    # ports, in order of first appearance, the first listen's first

    my @order;
    my %seen;

    if ($text =~ /^\s*listen\s+127\.0\.0\.1:(\d+)/m) {
        push @order, $1;
        $seen{$1} = 1;
    }

    while ($text =~ /127\.0\.0\.1:(\d+)/g) {
        push @order, $1 unless $seen{$1}++;
    }

    %PORTS = ();

    for my $k (0 .. $#order) {
        $PORTS{$order[$k]} = $k == 0 ? '$TEST_NGINX_SERVER_PORT'
                                     : '$TEST_NGINX_RAND_PORT_' . $k;
    }

    $text =~ s/127\.0\.0\.1:(\d+)/127.0.0.1:$PORTS{$1}/g;

    for my $from (sort keys %{ $opt{files} // {} }) {
        my $to = $opt{files}{$from};
        my $n = $text =~ s/(?<![\w\/.-])\Q$from\E(?![\w\/.-])/$to/g;
        die "$file: \"$from\" is not in the file\n" unless $n;
    }

    my @lines = split /\n/, $text;
    my (@main, @http);
    my $i = 0;

    while ($i <= $#lines) {
        my $l = $lines[$i];

        if ($l =~ /^http\s*\{/) {
            my $end = block_end(\@lines, $i);
            push @http, @lines[$i + 1 .. $end - 1];
            $i = $end + 1;
            next;
        }

        if ($l =~ /^events\s*\{/) {
            $i = block_end(\@lines, $i) + 1;
            next;
        }

        if ($l =~ /^(?:worker_processes|error_log|pid)\s/
            || $l =~ /^load_module\s+\S*ngx_http_embed_session_module\.so;/)
        {
            $i++;
            next;
        }

        push @main, $l;
        $i++;
    }

    @http = grep { !/^    (?:default_type|keepalive_timeout)\s/ } @http;

    return (join("\n", @main) . "\n", join("\n", @http) . "\n");
}

sub example_port ($) {
    my ($port) = @_;

    die "port $port is not in the example\n" unless exists $PORTS{$port};

    return $PORTS{$port};
}

sub use_example ($%) {
    my ($name, %opt) = @_;

    my ($main, $http) = example_config($name, %opt);

    Test::Nginx::Socket::add_block_preprocessor(sub {
        my ($block) = @_;

        return if defined $block->no_example;

        $block->set_value('main_config',
                          $main . ($block->main_config // ''));
        $block->set_value('http_config',
                          $http . ($block->http_config // ''));

        # Test::Nginx's own server stays (on every address of the port);
        # the example's, on 127.0.0.1, takes the requests
        $block->set_value('config', "# the example's servers\n")
            unless defined $block->config;
    });
}

1;
