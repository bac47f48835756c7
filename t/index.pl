#!/usr/bin/env perl

# t/index.pl: writes t/README.md, the index of the test files: how they are
# numbered, what each one tests, and for every directive of the module's
# command table and every variable, the test files that use it.
#
#   t/index.pl            print t/README.md
#   t/index.pl --write    write it
#   t/index.pl --check    exit 1 (and say so) when t/README.md is not what
#                         it would write
#
# A test file uses a directive when its name stands in it not after a "$";
# a variable, when "$name" does (for the claim_ prefix, "$embed_session_
# claim_" followed by a name).  A file's text includes the t/lib modules it
# loads and the conf-examples/NAME.conf files that it, or a module it
# loads, plays with use_example() or example_config(): a seed file tests
# the example as shipped.

use strict;
use warnings;

use FindBin;

my $t = $FindBin::Bin;
my $top = "$t/..";
my $readme = "$t/README.md";

my ($mode) = @ARGV;

die "usage: t/index.pl [--write|--check]\n"
    if defined $mode && $mode !~ /\A--(?:write|check)\z/;

sub slurp {
    my ($path) = @_;

    open my $fh, '<', $path or die "$path: $!\n";
    local $/;
    return scalar <$fh>;
}

# the directives: ngx_http_es_commands[] of the module's main file

my $module = slurp("$top/src/ngx_http_embed_session_module.c");

my ($table) = $module
    =~ /ngx_command_t\s+ngx_http_es_commands\[\]\s*=\s*\{(.*?)ngx_null_command/s
    or die "no command table in src/ngx_http_embed_session_module.c\n";

my @directives = $table =~ /\{\s*ngx_string\("(embed_session_\w+)"\)/g;

die "no directives in the command table\n" unless @directives;

# the variables: every ngx_http_variable_t table of src/*.c; a name given
# by a macro (the prefix variable) is looked up among the #defines

my (@variables, %prefix, %define);

for my $c (sort glob "$top/src/*.c") {
    my $text = slurp($c);

    %define = (%define, $text =~ /^#define\s+(\w+)\s+"([^"]*)"/mg);

    while ($text =~ /ngx_http_variable_t\s+\w+\[\]\s*=\s*\{(.*?)\n\};/sg) {
        my $vars = $1;

        while ($vars =~ /\{\s*ngx_string\((?:"([^"]+)"|(\w+))\)(.*?)\}/sg) {
            my ($name, $macro, $rest) = ($1, $2, $3);

            $name //= $define{$macro}
                // die "$c: no #define of $macro\n";

            push @variables, $name;
            $prefix{$name} = 1 if $rest =~ /NGX_HTTP_VAR_PREFIX/;
        }
    }
}

die "no variables in src/*.c\n" unless @variables;

# the test files, each with the modules and examples it plays

my @files = map { s{.*/}{}r } sort glob "$t/*.t";
my (%text, %about);

sub with_parts {
    my ($text, $seen) = @_;

    my $all = $text;

    for my $m ($text =~ /^use\s+(EmbedSession\w*)\b/mg) {
        my $pm = "$t/lib/$m.pm";
        next if $seen->{$pm}++ || !-f $pm;
        $all .= with_parts(slurp($pm), $seen);
    }

    for my $e ($text =~ /\b(?:use_example|example_config)\(\s*'([\w-]+)'/g) {
        my $conf = "$top/conf-examples/$e.conf";
        next if $seen->{$conf}++;
        $all .= slurp($conf);
    }

    return $all;
}

for my $f (@files) {
    my $text = slurp("$t/$f");

    $text{$f} = with_parts($text, {});

    # the first sentence of the file's opening comment

    my ($comment) = $text =~ /\A(?:#!.*\n)?(?:# vim:.*\n\s*)?((?:#.*\n)+)/;
    my $first = join ' ', map { s/^#\s?//r } split /\n/, $comment // '';
    $first =~ s/\s+/ /g;
    $first =~ s/^\s+//;
    $first =~ s/(?<=\S)\.\s+(?=[A-Z(]).*//s;
    $first =~ s/\.?\s*\z//;
    $first =~ s/\A(.{0,160}\S)\s.*\z/$1 .../s if length $first > 170;
    $about{$f} = $first;
}

sub users {
    my ($re) = @_;
    return join ', ', map { "`$_`" } grep { $text{$_} =~ $re } @files;
}

# the page

my $out = <<'_EOT_';
# The tests

Written by `t/index.pl --write` (do not edit by hand: change the test
files, or the script, and run it again; `t/index.pl --check` says whether
this page is current).

Test::Nginx files `t/NNN-topic.t`, one feature a file, each block
`=== TEST N: title` named after the rule it defends.  Run them with the
module built (`tools/setup dynamic`):

    prove t/120-keys-algorithms.t    # one file
    prove -j2 -r t/                  # the whole suite

## Numbering

| numbers | what |
| --- | --- |
| 0xx | loading the module (001) and security: each rule of the security list an attacker would try (050-059) |
| 1xx | verifying tokens: directives, token sources, keys, claims, origin, require, variables, errors |
| 2xx | minting: API keys, the seed contracts played on their conf-examples (210-213 Pilot Status, 220 browser channel, 230 CraftKit, 240 Cube), request bodies and choices |
| 3xx | the session lifecycle and the store: refresh, revoke, exchange, status, durability, reloads, the state file, quotas |
| 4xx | browsers: frames, CORS, fetch metadata, cookies, URL tokens |
| 5xx | Redis: the connection to each server (500), with workers and a reload (501), against a real redis-server and fake ones; the session store on Redis (510); API key rates counted on Redis for several nodes (520); Redis Sentinel and a failover (530) |

Files of one topic split by sub-feature take neighbouring numbers
(120-122 keys, 210-213 Pilot Status, 300-302 lifecycle).  Helpers shared by
several files are modules in `t/lib/`: `EmbedSessionTest.pm` (every file:
the module loaded, fixture keys, tokens), `EmbedSessionSecurity.pm`
(050-054: tokens forged byte by byte), `EmbedSessionMint.pm` (the mint
files), `EmbedSessionPilotStatus.pm` (210-213), `EmbedSessionLifecycle.pm`
(300-302), `EmbedSessionExample.pm` (conf-examples as shipped),
`EmbedSessionLive.pm` and `EmbedSessionState.pm` (the store's live nginx
and state files), `EmbedSessionRedis.pm` (5xx: redis-server on a free
port, fake servers that answer badly), `EmbedSessionSentinel.pm` (530: a
master, its replica and redis-sentinel; a small RESP client).  `t/data/` holds the fixture keys, `t/unit/` the codec's
unit tests, `t/browser/` the Chromium runs.

## Files

| file | tests |
| --- | --- |
_EOT_

$out .= "| `$_` | $about{$_} |\n" for @files;

$out .= <<'_EOT_';

## Directives

Each directive of the command table (`src/ngx_http_embed_session_module.c`)
and the test files that name it, in their own text or in the t/lib modules
and conf-examples they load (a seed file plays its example as shipped, so
it lists every directive of the example).

| directive | test files |
| --- | --- |
_EOT_

my @missing;

for my $d (@directives) {
    my $u = users(qr/(?<![\$\w])\Q$d\E\b/);
    push @missing, $d unless length $u;
    $out .= "| `$d` | " . ($u || '(none)') . " |\n";
}

$out .= <<'_EOT_';

## Variables

Each variable of the module (`src/ngx_http_embed_session_variables.c`) and
the test files that name it, counted the same way.

| variable | test files |
| --- | --- |
_EOT_

for my $v (@variables) {
    my $re = $prefix{$v} ? qr/\$\{?\Q$v\E\w/ : qr/\$\{?\Q$v\E\b/;
    my $u = users($re);
    my $name = $prefix{$v} ? "\$${v}NAME" : "\$$v";
    push @missing, $name unless length $u;
    $out .= "| `$name` | " . ($u || '(none)') . " |\n";
}

if (@missing) {
    $out .= "\nNo test file uses: " . join(', ', map { "`$_`" } @missing)
            . ".\n";
}

if (!defined $mode) {
    print $out;

} elsif ($mode eq '--write') {
    open my $fh, '>', $readme or die "$readme: $!\n";
    print {$fh} $out;
    close $fh or die "$readme: $!\n";

} elsif (!-f $readme || slurp($readme) ne $out) {
    print STDERR "t/README.md is not current: run t/index.pl --write\n";
    exit 1;
}
