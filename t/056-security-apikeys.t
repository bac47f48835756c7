# Security review (2026-12-06), API keys: the regression tests of the
# findings about the key file, the key zone and key authentication.
#
#   live 1-2    L1: a key line with repeated key= or status= fields is
#               not rewritten (500 KEY_STORE_FAILED, file and zone as
#               they were), where it overflowed the heap
#   live 3-6    files nginx trusts with keys: a FIFO fails "nginx -t" at
#               once (it hung), symbolic links, other users' files, o+w,
#               g+w for another group, hard links
#   TEST 1-3,   a session's owner is the key's serial, not its ID: a
#   live 7      reused ID inherits nothing, a regenerated key keeps its
#               sessions; serial= in the key file
#   live 8-9    a change made while a reload resizes the key zone: taken
#               over (it was lost until the next reload); once the new
#               cycle runs, an old worker refuses a change the new zone
#               would not see
#   TEST 4-7    after an internal redirect the new location's
#               embed_session_api_key_from applies (bearer, no_bearer,
#               another header)
#   TEST 8-11   embed_session_api_key_strip keeps keys from the upstream
#   TEST 12-14  a raw key pasted into rate=, status= or expires= is not
#               quoted back by "nginx -t" (fuzz_keyfile found it: those
#               three quoted their value, whatever it was)
#
# The live parts run an nginx of their own (reloads, files changed
# between requests, "nginx -t" with a timeout); each waits for what it
# needs (the new workers, the master blocked at a point), never a time.

use FindBin;
use lib "$FindBin::Bin/lib";
use EmbedSessionTest;

use Digest::SHA qw(sha256_hex);
use File::Path ();
use HTTP::Tiny;
use IO::Socket::INET;
use POSIX qw(mkfifo);

repeat_each(1);
no_shuffle();

# raw keys: PREFIX + 40 of [A-Za-z0-9]

our $K1 = 'sk_Acme0001' . ('a' x 32);           # acme
our $K2 = 'sk_Glbx0002' . ('g' x 32);           # globex
our $I2 = 'skid_Glbi0002' . ('h' x 32);         # globex's id credential

sub stored {
    my ($raw) = @_;
    my ($prefix) = $raw =~ /\A(.*_)/ ? $1 : '';
    return $prefix . substr($raw, length $prefix, 8) . ':' . sha256_hex($raw);
}

our $KEYS = <<"_EOK_";
# API keys of t/056
acme key=${\ stored($K1)} scope=customer tenant=acme
globex key=${\ stored($K2)} id_key=${\ stored($I2)} scope=customer
_EOK_

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

our $BIN = $ENV{TEST_NGINX_BINARY} // 'nginx';
our $ROOT = $> == 0;

add_block_preprocessor(sub {
    my $block = shift;

    if (!defined $block->http_config) {
        $block->set_value('http_config', <<'_EOC_');
    embed_session_api_keys zone=z:1m file=$TEST_NGINX_HTML_DIR/keys.txt;
_EOC_
    }

    if (!defined $block->user_files) {
        $block->set_value('user_files', [['keys.txt', $KEYS]]);
    }
});

run_tests();

live_rewrite_refused();
live_trusted_files();
live_owner_serial();
live_resize_takes_over();
live_resize_retires();

Test::More::done_testing();


# an nginx of our own ######################################################

sub free_port {
    my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1',
                                  LocalPort => 0, Proto => 'tcp')
        or die "no free port: $!\n";
    my $port = $s->sockport;
    close $s;
    return $port;
}

# a prefix with conf/ and logs/, the key file conf/keys.txt

sub live_new {
    my ($name, $keys) = @_;

    my $l = { prefix => server_root() . "-live-$name", port => free_port() };

    File::Path::remove_tree($l->{prefix});
    File::Path::make_path("$l->{prefix}/conf", "$l->{prefix}/logs");

    put("$l->{prefix}/conf/keys.txt", $keys // $KEYS);
    put("$l->{prefix}/conf/pause.conf", "");

    return $l;
}

# conf/nginx.conf: GET /gen answers the generation, so that a reload is
# seen done when the new workers answer

sub live_conf {
    my ($l, %o) = @_;

    my $zone = $o{zone} // '1m';
    my $gen = $o{gen} // 1;
    my $port = $l->{port};
    my $http = $o{http} // '';
    my $server = $o{server} // '';
    my $user = $o{user} ? "user $o{user};" : $ROOT ? 'user root;' : '';

    put("$l->{prefix}/conf/nginx.conf", <<"_EOC_");
@{[ EmbedSessionTest::es_load_module() ]}error_log logs/error.log info;
pid logs/nginx.pid;
worker_processes 2;
events { worker_connections 64; }
$user

http {
    access_log off;
    embed_session_api_keys zone=live:$zone file=keys.txt;
    include pause.conf;
$http

    server {
        listen 127.0.0.1:$port;

        embed_session_api_key_from bearer header=x-api-key
                                   id_header=x-api-key-id;

        location = /gen {
            return 200 "$gen";
        }

        location /api {
            embed_session_api_key live;
            proxy_set_header X-Key-Id \$embed_session_api_key_id;
            proxy_pass http://127.0.0.1:$port/echo;
        }

        location /echo {
            return 200 "ok \$http_x_key_id\\n";
        }

        location = /regenerate {
            embed_session_api_key live;
            embed_session_api_key_regenerate on;
        }

        location = /revoke {
            embed_session_api_key live;
            embed_session_api_key_revoke on;
        }
$server
    }
}
_EOC_
}

sub live_start {
    my ($l, %o) = @_;

    live_conf($l, %o);

    system($BIN, '-p', "$l->{prefix}/", '-c', 'conf/nginx.conf') == 0
        or return 0;

    return wait_for(sub { (live_get($l, '/gen')->{content} // '') eq
                          ($o{gen} // 1) });
}

sub live_req {
    my ($l, $method, $path, $body, %h) = @_;

    return HTTP::Tiny->new(timeout => 10)->request(
        $method, "http://127.0.0.1:$l->{port}$path",
        { headers => \%h, defined $body ? (content => $body) : () });
}

sub live_get { my ($l, $path, %h) = @_; live_req($l, 'GET', $path, undef, %h) }

sub live_post {
    my ($l, $path, $body, %h) = @_;
    return live_req($l, 'POST', $path, $body // '', %h);
}

sub live_pid {
    my ($l) = @_;
    my $pid = eval { get("$l->{prefix}/logs/nginx.pid") } // '';
    chomp $pid;
    return $pid;
}

# a reload to generation GEN (the configuration written before), done when
# the new workers answer

sub live_reload {
    my ($l, $gen) = @_;

    kill 'HUP', live_pid($l);

    return wait_for(sub { (live_get($l, '/gen')->{content} // '') eq $gen });
}

sub live_stop {
    my ($l) = @_;
    my $pid = live_pid($l);

    return unless $pid;

    kill 'QUIT', $pid;
    wait_for(sub { !kill 0, $pid });
}

sub live_log {
    my ($l) = @_;
    return eval { get("$l->{prefix}/logs/error.log") } // '';
}

# polls COND for up to 20 s; what it waits for is named by the caller

sub wait_for {
    my ($cond) = @_;

    for (1 .. 200) {
        return 1 if $cond->();
        select undef, undef, undef, 0.1;
    }

    return 0;
}

sub put {
    my ($path, $text) = @_;
    open my $fh, '>', $path or die "$path: $!\n";
    print {$fh} $text;
    close $fh;
}

sub get {
    my ($path) = @_;
    open my $fh, '<', $path or die "$path: $!\n";
    local $/;
    return scalar <$fh>;
}


# live 1-2: L1, a line that would not load is not rewritten ################

sub live_rewrite_refused {
    my $l = live_new('rewrite');

    live_start($l) or return Test::More::fail('live 1: nginx started');

    my $r = live_get($l, '/api', 'x-api-key' => $K1);
    Test::More::is($r->{content}, "ok acme\n", 'live 1: acme authenticates');

    # key= 400 times more on acme's line: the rewrite wrote each as a new
    # key of 80 bytes into 768 bytes of room

    my $file = get("$l->{prefix}/conf/keys.txt");
    (my $bad = $file) =~ s/^(acme .*)$/$1 . (' key=x' x 400)/me;
    put("$l->{prefix}/conf/keys.txt", $bad);

    $r = live_post($l, '/regenerate', '', 'x-api-key' => $K1);
    Test::More::is($r->{status}, 500, 'live 1: regenerate refused: 500');
    Test::More::like($r->{content}, qr/"code":"KEY_STORE_FAILED"/,
                     'live 1: KEY_STORE_FAILED');
    Test::More::is(get("$l->{prefix}/conf/keys.txt"), $bad,
                   'live 1: the key file is not changed');

    $r = live_get($l, '/api', 'x-api-key' => $K1);
    Test::More::is($r->{content}, "ok acme\n",
                   'live 1: the zone is not changed: the key still works');

    Test::More::like(live_log($l),
                     qr/\[error\].*keys\.txt", line 2, entry "acme": field "key" given twice: the key file is not changed/,
                     'live 1: logged with file, line, entry and reason');

    # status=x 130 times: revoke wrote "status=revoked" for each

    ($bad = $file) =~ s/^(acme .*)$/$1 . (' status=x' x 130)/me;
    put("$l->{prefix}/conf/keys.txt", $bad);

    $r = live_post($l, '/revoke', '', 'x-api-key' => $K1);
    Test::More::is($r->{status}, 500, 'live 2: revoke refused: 500');
    Test::More::is(get("$l->{prefix}/conf/keys.txt"), $bad,
                   'live 2: the key file is not changed');

    $r = live_get($l, '/api', 'x-api-key' => $K1);
    Test::More::is($r->{content}, "ok acme\n",
                   'live 2: not revoked in the zone');

    # the file fixed: the same requests work, every other byte kept

    put("$l->{prefix}/conf/keys.txt", $file);

    $r = live_post($l, '/revoke', '', 'x-api-key' => $K1);
    Test::More::is($r->{content}, '{"id":"acme","status":"revoked"}',
                   'live 2: with the line fixed, revoke works');
    (my $want = $file) =~ s/^(acme .*)$/$1 status=revoked/m;
    Test::More::is(get("$l->{prefix}/conf/keys.txt"), $want,
                   'live 2: status=revoked added, the rest kept');

    Test::More::unlike(live_log($l), qr/exited on signal|\[alert\]/,
                       'live 1-2: no crash, no alert');

    live_stop($l);
}


# live 3-6: the files nginx trusts with keys ################################

# "nginx -t" of a configuration with the key file, a lock file and a JWKS
# (all under conf/): (exit code, output); killed after 10 s

sub nginx_t {
    my ($l, %o) = @_;

    live_conf($l, %o);

    my $out = `timeout 10 $BIN -t -p $l->{prefix}/ -c conf/nginx.conf 2>&1`;

    return ($? >> 8, $out);
}

sub live_trusted_files {
    my $l = live_new('files');
    my $conf = "$l->{prefix}/conf";
    my $jwks = "$ENV{TEST_NGINX_ES_DATA}/keys/hs256.jwks";
    my $with_keys = "embed_session_keys $conf/edge.jwks;";
    my ($rc, $out);

    put("$conf/edge.jwks", get($jwks));

    ($rc, $out) = nginx_t($l, http => $with_keys);
    Test::More::is($rc, 0, 'live 3: the files as they should be pass')
        or Test::More::diag($out);

    # a FIFO: the master hung in open() for ever

    for my $f ('keys.txt', 'keys.txt.lock', 'edge.jwks') {
        my $keep = -e "$conf/$f" ? get("$conf/$f") : undef;

        unlink "$conf/$f";
        mkfifo("$conf/$f", 0600) or die "mkfifo: $!\n";

        ($rc, $out) = nginx_t($l, http => $with_keys);
        Test::More::is($rc, 1, "live 3: a FIFO as $f fails nginx -t at once");
        Test::More::like($out, qr/\Q$conf\/$f\E" is not a regular file/,
                         "live 3: a FIFO as $f is named");

        unlink "$conf/$f";
        put("$conf/$f", $keep) if defined $keep;
    }

    # symbolic links: the workers' user could point them anywhere

    for my $f ('keys.txt', 'keys.txt.lock', 'edge.jwks') {
        my $keep = -e "$conf/$f" ? get("$conf/$f") : '';

        put("$conf/$f.real", $keep);
        unlink "$conf/$f";
        symlink("$conf/$f.real", "$conf/$f") or die "symlink: $!\n";

        ($rc, $out) = nginx_t($l, http => $with_keys);
        Test::More::is($rc, 1, "live 4: a symbolic link as $f fails");
        Test::More::like($out,
                         qr/\Q$conf\/$f\E" is a symbolic link: name the file itself/,
                         "live 4: a symbolic link as $f is named");

        unlink "$conf/$f";
        rename("$conf/$f.real", "$conf/$f") or die "rename: $!\n";
        unlink "$conf/$f" if $f eq 'keys.txt.lock';
    }

    # writable by anyone

    chmod 0666, "$conf/keys.txt";
    ($rc, $out) = nginx_t($l, http => $with_keys);
    Test::More::like($out,
                     qr/key file "\Q$conf\E\/keys\.txt" is writable by other users \(owner uid \d+, group gid \d+, mode 0666\)/,
                     'live 5: a key file writable by others fails');
    chmod 0644, "$conf/keys.txt";

    chmod 0646, "$conf/edge.jwks";
    ($rc, $out) = nginx_t($l, http => $with_keys);
    Test::More::like($out,
                     qr/key file "\Q$conf\E\/edge\.jwks" is writable by other users/,
                     'live 5: a JWKS writable by others fails');
    chmod 0644, "$conf/edge.jwks";

    SKIP: {
        Test::More::skip('live 6: owners: not root', 8) unless $ROOT;

        # the workers' user may own the API key file: it writes it

        my ($nobody, $gid) = (getpwnam('nobody'))[2, 3];
        my $group = getgrgid($gid);

        chown $nobody, 0, "$conf/keys.txt";
        ($rc, $out) = nginx_t($l, http => $with_keys,
                              user => "nobody $group");
        Test::More::is($rc, 0, "live 6: owned by the workers' user: passes")
            or Test::More::diag($out);

        chown 4242, 0, "$conf/keys.txt";
        ($rc, $out) = nginx_t($l, http => $with_keys);
        Test::More::like($out,
                         qr/keys\.txt" belongs to neither root nor the workers' user \(owner uid 4242/,
                         "live 6: another user's key file fails");
        chown 0, 0, "$conf/keys.txt";

        chown 4242, 0, "$conf/edge.jwks";
        ($rc, $out) = nginx_t($l, http => $with_keys);
        Test::More::like($out, qr/edge\.jwks" belongs to neither root/,
                         "live 6: another user's JWKS fails");
        chown 0, 0, "$conf/edge.jwks";

        chown 0, 4242, "$conf/keys.txt";
        chmod 0664, "$conf/keys.txt";
        ($rc, $out) = nginx_t($l, http => $with_keys);
        Test::More::like($out,
                         qr/keys\.txt" is writable by a group other than root's and the workers' \(owner uid 0, group gid 4242, mode 0664\)/,
                         'live 6: writable by another group fails');

        chown 0, 0, "$conf/keys.txt";
        ($rc, $out) = nginx_t($l, http => $with_keys);
        Test::More::is($rc, 0, "live 6: writable by root's group passes")
            or Test::More::diag($out);
        chmod 0644, "$conf/keys.txt";

        link("$conf/keys.txt", "$conf/keys.link") or die "link: $!\n";
        ($rc, $out) = nginx_t($l, http => $with_keys);
        Test::More::like($out, qr/keys\.txt" has more than one hard link/,
                         'live 6: a hard link fails');
        unlink "$conf/keys.link";

        put("$conf/keys.txt.lock", '');
        chown 4242, 0, "$conf/keys.txt.lock";
        ($rc, $out) = nginx_t($l, http => $with_keys);
        Test::More::like($out,
                         qr/lock file "\Q$conf\E\/keys\.txt\.lock" belongs to neither root/,
                         "live 6: another user's lock file fails");
        unlink "$conf/keys.txt.lock";

        ($rc, $out) = nginx_t($l, http => $with_keys);
        Test::More::is($rc, 0, 'live 6: and all is well again')
            or Test::More::diag($out);
    }
}


# live 7: the owner of a session is the key's serial, not its ID ###########

sub live_owner_serial {
    my $serial_a = 'a' x 32;
    my $K4 = 'sk_Lgcy0004' . ('l' x 32);    # legacy, no serial
    my $K5 = 'sk_Lgcy0005' . ('m' x 32);    # legacy again

    my $keys = "acme key=${\ stored($K1)} serial=$serial_a\n"
               . "legacy key=${\ stored($K4)}\n";

    my $l = live_new('owner', $keys);
    my $port = $l->{port};

    my %o = (
        http => <<"_EOC_",
    embed_session_store_zone zone=sessions:1m;
_EOC_
        server => <<"_EOC_",
        embed_session_keys $ENV{TEST_NGINX_ES_DATA}/keys/hs256.jwks;
        embed_session_store sessions;

        location = /mint {
            embed_session_api_key live;
            embed_session_mint on;
            embed_session_field user string required claim=sub;
            embed_session_field allowedOrigins origins required;
            embed_session_mint_ttl 60 max=300;
            embed_session_mint_output session_id session_id;
            embed_session_mint_output renew_token renew_token;
        }

        location = /session/revoke {
            embed_session_api_key live;
            embed_session_revoke;
        }

        location = /refresh {
            embed_session_api_key live;
            embed_session_refresh renew body=renew_token;
            embed_session_origin_absent allow;
            embed_session_mint_ttl 60 max=300;
            embed_session_mint_output session_id session_id;
        }
_EOC_
    );

    live_start($l, %o) or return Test::More::fail('live 7: nginx started');

    my $mint = sub {
        my ($key) = @_;
        my $r = live_post($l, '/mint',
                          '{"user":"u","allowedOrigins":'
                          . '["https://app.example.com"]}',
                          'x-api-key' => $key);
        my ($sid) = ($r->{content} // '') =~ /"session_id":"([^"]+)"/;
        my ($renew) = ($r->{content} // '') =~ /"renew_token":"([^"]+)"/;
        return ($sid // 'none', $renew // 'none');
    };

    my $revoke = sub {
        my ($sid, $key) = @_;
        return live_post($l, '/session/revoke', "{\"session_id\":\"$sid\"}",
                         'x-api-key' => $key)->{status};
    };

    # a regenerated key keeps its sessions, and its serial

    my ($s1, $renew1) = $mint->($K1);
    my ($s2) = $mint->($K1);
    my ($l1) = $mint->($K4);

    my $r = live_post($l, '/regenerate', '', 'x-api-key' => $K1);
    my ($new) = ($r->{content} // '') =~ /"apiKey":"(sk_\w+)"/;
    $new //= 'none';

    Test::More::like(get("$l->{prefix}/conf/keys.txt"),
                     qr/^acme key=sk_\w{8}:[0-9a-f]{64} serial=$serial_a$/m,
                     'live 7: regenerate keeps serial=');

    Test::More::is($revoke->($s1, $new), 200,
                   'live 7: the regenerated key revokes its session');

    # acme is deleted, and the ID given to another customer by the tool,
    # which writes a new serial; the legacy ID, without serial, likewise

    put("$l->{prefix}/conf/keys.txt", "legacy key=${\ stored($K5)}\n");

    my $out = `$^X $FindBin::Bin/../tools/embed-session-apikey create --file $l->{prefix}/conf/keys.txt --id acme --prefix sk_`;
    my ($K3) = $out =~ /^api key: (sk_\w+)$/m;
    $K3 //= 'none';

    Test::More::like(get("$l->{prefix}/conf/keys.txt"),
                     qr/^acme key=\S+ serial=(?!$serial_a)[0-9a-f]{32}$/m,
                     'live 7: the tool made acme again, with a new serial');

    live_conf($l, %o, gen => 2);
    Test::More::ok(live_reload($l, 2), 'live 7: reloaded');

    Test::More::is($revoke->($s2, $K3), 404,
                   "live 7: the ID's new key cannot revoke the old "
                   . "customer's session");

    $r = live_post($l, '/refresh', "{\"renew_token\":\"$renew1\"}",
                   'x-api-key' => $K3);
    Test::More::is($r->{status}, 404,
                   "live 7: nor refresh it");

    Test::More::is($revoke->($l1, $K5), 200,
                   'live 7: a record without serial= is owned by its ID, '
                   . 'as before');

    Test::More::unlike(live_log($l), qr/exited on signal|\[alert\]/,
                       'live 7: no crash, no alert');

    live_stop($l);
}


# live 8-9: changes while a reload resizes the zone ########################

# the master blocked in the open() of conf/pause.conf, a FIFO, which a
# reload includes after reading the key file

sub master_paused {
    my ($pid) = @_;

    my $wchan = eval { get("/proc/$pid/wchan") } // '';

    return $wchan =~ /fifo|partner|pipe/;
}

sub live_resize_takes_over {
    SKIP: {
        Test::More::skip('live 8: no /proc/PID/wchan to see the master wait',
                         1)
            unless -r "/proc/$$/wchan";

        live_resize_paused();
    }
}

sub live_resize_paused {
    my $l = live_new('resize');

    live_start($l) or return Test::More::fail('live 8: nginx started');

    my $r = live_get($l, '/api', 'x-api-key' => $K1);
    Test::More::is($r->{content}, "ok acme\n", 'live 8: acme authenticates');

    # the reload: another zone size, and a pause after the file is read

    my $pid = live_pid($l);

    live_conf($l, zone => '2m', gen => 2);
    unlink "$l->{prefix}/conf/pause.conf";
    mkfifo("$l->{prefix}/conf/pause.conf", 0600) or die "mkfifo: $!\n";

    kill 'HUP', $pid;

    Test::More::ok(wait_for(sub { master_paused($pid) }),
                   'live 8: the master read the key file and waits')
        or return live_stop($l);

    # the old workers serve meanwhile: acme is revoked, globex regenerated

    $r = live_post($l, '/revoke', '', 'x-api-key' => $K1);
    Test::More::is($r->{content}, '{"id":"acme","status":"revoked"}',
                   'live 8: acme revoked during the reload');

    $r = live_post($l, '/regenerate', '', 'x-api-key' => $K2);
    my ($new, $new_id) = ($r->{content} // '')
        =~ /"apiKey":"(sk_\w+)","apiKeyId":"(skid_\w+)"/;
    Test::More::ok(defined $new_id, 'live 8: globex regenerated during the '
                                    . 'reload');

    # the master goes on: a writer opens the FIFO, and closes it

    open my $fifo, '>', "$l->{prefix}/conf/pause.conf" or die "fifo: $!\n";
    close $fifo;

    Test::More::ok(wait_for(sub {
                       (live_get($l, '/gen')->{content} // '') eq '2' }),
                   'live 8: the new workers answer');

    $r = live_get($l, '/api', 'x-api-key' => $K1);
    Test::More::like($r->{content}, qr/"code":"API_KEY_REVOKED"/,
                     'live 8: the revocation is taken over');

    $r = live_get($l, '/api', 'x-api-key' => $K2);
    Test::More::is($r->{status}, 401, 'live 8: the old globex key is refused');

    $r = live_get($l, '/api', 'x-api-key' => $new // 'none');
    Test::More::is($r->{content}, "ok globex\n",
                   'live 8: the new globex key works');

    $r = live_get($l, '/api', 'x-api-key-id' => $new_id // 'none');
    Test::More::is($r->{content}, "ok globex\n",
                   'live 8: the new globex key id works');

    Test::More::like(live_log($l), qr/zone "live": 2 changes made during the reload taken over/,
                     'live 8: the take-over is logged');

    Test::More::unlike(live_log($l), qr/exited on signal|\[alert\]/,
                       'live 8: no crash, no alert');

    live_stop($l);
}

# A worker of the old cycle can still change a key after the reload: a
# revoke whose body comes once the new workers run.  Its answer and the
# new workers must agree: revoked (200) and refused, or 500 and unchanged.

sub live_resize_retires {
    my $l = live_new('retire');

    live_start($l) or return Test::More::fail('live 9: nginx started');

    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$l->{port}",
                                  Proto => 'tcp')
        or die "connect: $!\n";

    print {$s} "POST /revoke HTTP/1.0\r\nHost: live\r\nX-Api-Key: $K1\r\n"
               . "Content-Length: 2\r\n\r\n";

    # the request has been authenticated by an old worker, which waits for
    # the body; the reload resizes the zone

    live_conf($l, zone => '2m', gen => 2);

    Test::More::ok(live_reload($l, 2), 'live 9: the new workers answer');

    print {$s} "{}";

    my $answer = do { local $/; <$s> } // '';
    close $s;

    my ($status) = $answer =~ m{\AHTTP/1\.\d (\d+)};
    my $r = live_get($l, '/api', 'x-api-key' => $K1);

    if (($status // 0) == 200) {
        Test::More::like($r->{content}, qr/API_KEY_REVOKED/,
                         'live 9: revoked by an old worker: refused by the '
                         . 'new ones');

    } else {
        Test::More::is($status, 500, 'live 9: the old worker refuses: 500');
        Test::More::like($answer, qr/"code":"KEY_STORE_FAILED"/,
                         'live 9: KEY_STORE_FAILED');
        Test::More::is($r->{content}, "ok acme\n",
                       'live 9: and the key is unchanged');
        Test::More::is(get("$l->{prefix}/conf/keys.txt"), $KEYS,
                       'live 9: and so is the file');
        Test::More::like(live_log($l),
                         qr/\[error\].*zone "live" was replaced by a reload that changed its size: "acme" not changed/,
                         'live 9: the refusal is logged');
    }

    live_stop($l);
}

__DATA__

=== TEST 1: key file: serial= must be 32 lowercase hex digits
--- config
    location /api {
        embed_session_api_key z;
    }
--- user_files eval
[['keys.txt', "acme key=" . ::stored($::K1) . " serial=ABCDEF\n"]]
--- must_die
--- error_log eval
qr/\[emerg\].*keys\.txt", line 1, entry "acme": serial=: not 32 lowercase hex digits/



=== TEST 2: key file: serial= given twice
--- config
    location /api {
        embed_session_api_key z;
    }
--- user_files eval
[['keys.txt', "acme key=" . ::stored($::K1) . " serial=" . ('0' x 32)
              . " serial=" . ('1' x 32) . "\n"]]
--- must_die
--- error_log eval
qr/\[emerg\].*keys\.txt", line 1, entry "acme": field "serial" given twice/



=== TEST 3: key file: a record with serial= loads
--- config
    location /api {
        embed_session_api_key z;
        proxy_set_header X-Key-Id $embed_session_api_key_id;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/echo;
    }

    location /echo {
        return 200 "ok $http_x_key_id\n";
    }
--- user_files eval
[['keys.txt', "acme key=" . ::stored($::K1) . " serial=" . ('0f' x 16)
              . " scope=customer\n"]]
--- request
GET /api
--- more_headers eval
"Authorization: Bearer $main::K1"
--- response_body
ok acme
--- no_error_log
[error]



=== TEST 4: after an internal redirect, a bearer key meets no_bearer
--- config
    location /a {
        embed_session_api_key z;
        try_files /nonexistent @b;
    }

    location @b {
        rewrite ^ /echo break;
        embed_session_api_key z;
        embed_session_api_key_from header=x-api-key no_bearer;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT;
    }

    location /echo {
        return 200 "ok\n";
    }
--- request
GET /a
--- more_headers eval
"Authorization: Bearer $main::K1"
--- error_code: 401
--- response_body_like: "code":"BEARER_NOT_ALLOWED"
--- error_log
BEARER_NOT_ALLOWED: Authorization: Bearer sent



=== TEST 5: after an internal redirect, a key from a header the new location does not read
--- config
    location /a {
        embed_session_api_key z;
        embed_session_api_key_from header=x-api-key;
        try_files /nonexistent @b;
    }

    location @b {
        rewrite ^ /echo break;
        embed_session_api_key z;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT;
    }

    location /echo {
        return 200 "ok\n";
    }
--- request
GET /a
--- more_headers eval
"X-Api-Key: $main::K1"
--- error_code: 401
--- response_body_like: "code":"API_KEY_REQUIRED"



=== TEST 6: after an internal redirect, the credential the new location reads is the one that counts
--- config
    location /a {
        embed_session_api_key z;
        try_files /nonexistent @b;
    }

    location @b {
        rewrite ^ /echo break;
        embed_session_api_key z;
        embed_session_api_key_from header=x-api-key;
        proxy_set_header X-Key-Id $embed_session_api_key_id;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT;
    }

    location /echo {
        return 200 "ok $http_x_key_id\n";
    }
--- request
GET /a
--- more_headers eval
"Authorization: Bearer $main::K1\nX-Api-Key: $main::K2"
--- response_body
ok globex
--- no_error_log
[error]



=== TEST 7: after an internal redirect, the same policy: the key stands, counted once
--- config
    location /a {
        embed_session_api_key z;
        embed_session_api_key_from bearer header=x-api-key;
        try_files /nonexistent @b;
    }

    location @b {
        rewrite ^ /echo break;
        embed_session_api_key z;
        embed_session_api_key_from header=x-api-key bearer;
        proxy_set_header X-Key-Id $embed_session_api_key_id;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT;
    }

    location /echo {
        return 200 "ok $http_x_key_id\n";
    }
--- request
GET /a
--- more_headers eval
"X-Api-Key: $main::K1"
--- response_body
ok acme
--- no_error_log
[error]



=== TEST 8: embed_session_api_key_strip: no key reaches the upstream, from any source
--- config
    location /api {
        embed_session_api_key z;
        embed_session_api_key_from bearer header=x-api-key
                                   id_header=x-api-key-id;
        embed_session_api_key_strip on;
        proxy_set_header X-Seen "[$http_authorization]";
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/echo;
    }

    location /echo {
        return 200 "a=[$http_authorization] k=[$http_x_api_key] i=[$http_x_api_key_id] o=[$http_x_other] seen=$http_x_seen\n";
    }
--- pipelined_requests eval
["GET /api", "GET /api", "GET /api"]
--- more_headers eval
["Authorization: Bearer $main::K1\nX-Other: kept",
 "X-Api-Key: $main::K1\nX-Other: kept",
 "X-Api-Key-Id: $main::I2\nX-Other: kept"]
--- response_body eval
["a=[] k=[] i=[] o=[kept] seen=[]\n",
 "a=[] k=[] i=[] o=[kept] seen=[]\n",
 "a=[] k=[] i=[] o=[kept] seen=[]\n"]
--- no_error_log
[error]



=== TEST 9: embed_session_api_key_strip: another Authorization scheme is not a key and stays
--- config
    location /api {
        embed_session_api_key z;
        embed_session_api_key_from bearer header=x-api-key;
        embed_session_api_key_strip on;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/echo;
    }

    location /echo {
        return 200 "a=[$http_authorization] k=[$http_x_api_key]\n";
    }
--- request
GET /api
--- more_headers eval
"Authorization: Basic dXNlcjpwYXNz\nX-Api-Key: $main::K1"
--- response_body
a=[Basic dXNlcjpwYXNz] k=[]
--- no_error_log
[error]



=== TEST 10: embed_session_api_key_strip is off by default: the upstream sees the key
--- config
    location /api {
        embed_session_api_key z;
        embed_session_api_key_from header=x-api-key;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/echo;
    }

    location /echo {
        return 200 "k=[$http_x_api_key]\n";
    }
--- request
GET /api
--- more_headers eval
"X-Api-Key: $main::K1"
--- response_body eval
"k=[$main::K1]\n"
--- no_error_log
[error]



=== TEST 11: a stripped key still counts after an internal redirect, where it came from
--- config
    location /a {
        embed_session_api_key z;
        embed_session_api_key_strip on;
        try_files /nonexistent @b;
    }

    location @b {
        rewrite ^ /echo break;
        embed_session_api_key z;
        proxy_set_header X-Key-Id $embed_session_api_key_id;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT;
    }

    location /c {
        embed_session_api_key z;
        embed_session_api_key_strip on;
        try_files /nonexistent @d;
    }

    location @d {
        rewrite ^ /echo break;
        embed_session_api_key z;
        embed_session_api_key_from header=x-api-key no_bearer;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT;
    }

    location /echo {
        return 200 "ok $http_x_key_id a=[$http_authorization]\n";
    }
--- pipelined_requests eval
["GET /a", "GET /c"]
--- more_headers eval
["Authorization: Bearer $main::K1", "Authorization: Bearer $main::K1"]
--- error_code eval
[200, 401]
--- response_body_like eval
["\\Aok acme a=\\[\\]\\n\\z", '"code":"BEARER_NOT_ALLOWED"']



=== TEST 12: key file: a raw key pasted into rate= is not quoted back
--- config
    location /api {
        embed_session_api_key z;
    }
--- user_files eval
[['keys.txt', "acme key=" . ::stored($::K1) . " rate=$::K2\n"]]
--- must_die
--- error_log eval
qr/\[emerg\].*keys\.txt", line 1, entry "acme": rate=\(not shown: looks like a raw key\): not N\/s, N\/m or N\/h with N from 1 to 999999999/
--- no_error_log eval
qr/\Q$::K2\E/



=== TEST 13: key file: a raw key pasted into status= is not quoted back
--- config
    location /api {
        embed_session_api_key z;
    }
--- user_files eval
[['keys.txt', "acme key=" . ::stored($::K1) . " status=$::K2\n"]]
--- must_die
--- error_log eval
qr/\[emerg\].*keys\.txt", line 1, entry "acme": status=\(not shown: looks like a raw key\): not "active" or "revoked"/
--- no_error_log eval
qr/\Q$::K2\E/



=== TEST 14: key file: a raw key pasted into expires= is not quoted back
--- config
    location /api {
        embed_session_api_key z;
    }
--- user_files eval
[['keys.txt', "acme key=" . ::stored($::K1) . " expires=$::K2\n"]]
--- must_die
--- error_log eval
qr/\[emerg\].*keys\.txt", line 1, entry "acme": expires=\(not shown: looks like a raw key\): not Unix seconds \(an integer\)/
--- no_error_log eval
qr/\Q$::K2\E/
