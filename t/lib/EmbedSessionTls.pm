package EmbedSessionTls;

# Throwaway certificates and a TLS-only Redis for t/550-redis-tls.t.
#
#   use FindBin;
#   use lib "$FindBin::Bin/lib";
#   use EmbedSessionTest;
#   use EmbedSessionTls;
#
#   my $pki = tls_certs();            # skip_all when openssl is absent
#   my $redis = tls_redis_start($pki, auth_clients => 'no');
#
# tls_certs() makes, with the openssl command, in a directory of its own
# (removed when the file ends) and with EC P-256 keys:
#
#   ca.crt, ca.key           the CA the servers' and the client's
#                            certificates are signed by
#   other-ca.crt             a second CA, that signed nothing here
#   srv.crt, srv.key         the server's certificate: CN redis.test,
#                            subjectAltName DNS:redis.test, IP:127.0.0.1
#   client.crt, client.key   a client certificate (CN es-client)
#
# and returns { dir => DIR }.  Its own small openssl configuration is
# used, so the system's openssl.cnf changes nothing.
#
# tls_redis_start($pki, auth_clients => 'no' | 'yes') runs redis-server (or
# $ENV{ES_REDIS_SERVER}, as t/lib/EmbedSessionRedis.pm does) with TLS only
# (--port 0, --tls-port on a free port of 127.0.0.1), in a directory of its
# own, without snapshots or an append-only file, and returns
# { port, dir, pid }.  When the program is absent, or was built without
# TLS (it does not start with --tls-port), the file is skipped with the
# reason.  Every server started here is stopped when the file ends, by its
# process id.

use strict;
use warnings;
use Exporter 'import';

use File::Temp qw(tempdir);
use IO::Socket::INET ();
use POSIX ();
use Test::More ();
use Time::HiRes ();

use EmbedSessionRedis qw(free_port);

our @EXPORT = qw(tls_certs tls_redis_start);

my @pids;

my $CNF = <<'_EOC_';
[req]
distinguished_name = dn
prompt = no

[dn]
CN = unused

[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash

[srv]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:redis.test, IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid

[client]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
_EOC_

sub openssl {
    my ($dir, @args) = @_;
    my $out = `cd '$dir' && openssl @args 2>&1`;
    die "openssl @args: $out\n" if $?;
}

sub tls_certs {
    if (system('openssl version >/dev/null 2>&1') != 0) {
        Test::More::plan(skip_all => 'the openssl command is not installed');
    }

    my $dir = tempdir('es-tls-XXXXXX', TMPDIR => 1, CLEANUP => 1);
    chmod 0755, $dir;

    open my $fh, '>', "$dir/openssl.cnf" or die "$dir/openssl.cnf: $!\n";
    print $fh $CNF;
    close $fh;

    my $key = '-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes';
    my $cnf = '-config openssl.cnf';

    # the two CAs: self-signed

    for my $ca (qw(ca other-ca)) {
        openssl($dir, "req -x509 $cnf $key -keyout $ca.key -out $ca.crt"
                      . " -days 2 -subj /CN=es-test-$ca -extensions ca");
    }

    # the server's and the client's certificates, signed by ca

    my $serial = 1;

    for ([srv => 'redis.test'], [client => 'es-client']) {
        my ($name, $cn) = @$_;
        openssl($dir, "req -new $cnf $key -keyout $name.key -out $name.csr"
                      . " -subj /CN=$cn");
        openssl($dir, "x509 -req -in $name.csr -CA ca.crt -CAkey ca.key"
                      . ' -set_serial ' . $serial++ . " -days 2"
                      . " -extfile openssl.cnf -extensions $name"
                      . " -out $name.crt");
    }

    chmod 0644, glob "$dir/*.crt";
    chmod 0600, glob "$dir/*.key";

    return { dir => $dir };
}

sub tls_redis_start {
    my ($pki, %o) = @_;
    my $engine = $ENV{ES_REDIS_SERVER} || 'redis-server';
    my $bin = (grep { -x "$_/$engine" } split /:/,
               "$ENV{PATH}:/usr/bin:/usr/sbin")[0];

    if (!defined $bin) {
        Test::More::plan(skip_all => "$engine is not installed "
                         . '(tools/setup installs it: redis-server from '
                         . 'bookworm, valkey-server from bookworm-backports)');
    }

    my $dir = tempdir('es-redis-tls-XXXXXX', TMPDIR => 1, CLEANUP => 1);
    chmod 0755, $dir;
    my $port = free_port();
    my $c = $pki->{dir};

    my @args = ('--port', '0', '--tls-port', $port, '--bind', '127.0.0.1',
                '--tls-cert-file', "$c/srv.crt",
                '--tls-key-file', "$c/srv.key",
                '--tls-ca-cert-file', "$c/ca.crt",
                '--tls-auth-clients', $o{auth_clients} // 'no',
                '--dir', $dir, '--save', '', '--appendonly', 'no',
                '--daemonize', 'no', '--logfile', "$dir/redis.log");

    my $pid = fork // die "fork: $!\n";

    if ($pid == 0) {
        # what it says before its log file is open: a refused directive
        open STDOUT, '>', "$dir/stderr" or POSIX::_exit(127);
        open STDERR, '>&', \*STDOUT or POSIX::_exit(127);
        exec("$bin/$engine", @args) or POSIX::_exit(127);
    }

    for (1 .. 100) {
        my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                      PeerPort => $port);
        if ($s) {
            close $s;
            push @pids, $pid;
            return { port => $port, dir => $dir, pid => $pid };
        }

        if (waitpid($pid, POSIX::WNOHANG()) == $pid) {
            last;
        }

        Time::HiRes::sleep(0.05);
    }

    # it did not start: built without TLS ("Bad directive"), most likely

    kill 'TERM', $pid;
    waitpid $pid, 0;

    my $why = '';

    for my $f ("$dir/stderr", "$dir/redis.log") {
        if (open my $log, '<', $f) {
            local $/;
            $why .= <$log> // '';
        }
    }

    $why = 'it said nothing' if $why !~ /\S/;

    $why =~ s/\s+/ /g;
    $why = substr $why, -200 if length $why > 200;

    Test::More::plan(skip_all => "$engine does not start with TLS"
                     . " (--tls-port): $why");
}

# waitpid sets $?, the file's exit status (see EmbedSessionRedis.pm)

END {
    local $?;

    for my $pid (@pids) {
        kill 'TERM', $pid;
        waitpid $pid, 0;
    }
}

1;
