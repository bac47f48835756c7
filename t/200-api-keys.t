# API keys: the key file and its errors (file, line, entry, field named;
# a raw key never quoted back), authentication from every source, the
# refusals (wrong, revoked, expired, two credentials, no_bearer), deny
# rules, the rate limit headers and 429, and then, with an nginx of our
# own after the blocks, regenerate and revoke (the file rewritten with
# every other line kept) and a reload with a bad file keeping the keys.
#
# Blocks change the key file and the zone: repeat_each(1), and every block
# writes the file afresh.

use FindBin;
use lib "$FindBin::Bin/lib";
use EmbedSessionTest;

use Digest::SHA qw(sha256_hex);

repeat_each(1);
no_shuffle();

# raw keys: PREFIX + 40 of [A-Za-z0-9]

our $K1 = 'ps_Ab3dEf9h' . ('x' x 32);          # scope=number flags=beta
our $K2 = 'ps_Zz3dEf9h' . ('y' x 32);          # scope=admin, has id_key
our $I2 = 'psid_Qq3dEf9h' . ('z' x 32);        # k2's id credential
our $K3 = 'ps_Rv3dEf9h' . ('r' x 32);          # revoked
our $K4 = 'ps_Ex3dEf9h' . ('e' x 32);          # expired
our $K5 = 'ck_live_Rt3dEf9h' . ('t' x 32);     # rate=2/h

# LOOKUP:HEX64, what the key file holds

sub stored {
    my ($raw) = @_;
    my ($prefix) = $raw =~ /\A(.*_)/ ? $1 : '';
    return $prefix . substr($raw, length $prefix, 8) . ':' . sha256_hex($raw);
}

our $KEYS = <<"_EOK_";
# API keys for the tests
k1 key=${\ stored($K1)} scope=number tenant=acme flags=beta,x grants=read
k2  key=${\ stored($K2)} id_key=${\ stored($I2)} scope=admin

  # revoked and expired ones
k3 key=${\ stored($K3)} status=revoked
k4 key=${\ stored($K4)} expires=1000
k5 key=${\ stored($K5)} rate=2/h origins=https://A.example:443
_EOK_

sub keys_file {
    my ($text) = @_;
    return [['keys.txt', $text // $KEYS]];
}

# a key file with one more line (or only that line)

sub with_line {
    my ($line, $alone) = @_;
    return keys_file(($alone ? "# one line\n" : $KEYS) . "$line\n");
}

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

add_block_preprocessor(sub {
    my $block = shift;

    if (!defined $block->http_config) {
        $block->set_value('http_config', <<'_EOC_');
    embed_session_api_keys zone=z:1m file=$TEST_NGINX_HTML_DIR/keys.txt;
_EOC_
    }

    if (!defined $block->config) {
        $block->set_value('config', <<'_EOC_');
    location /api {
        embed_session_api_key z;
        embed_session_api_key_from bearer header=x-api-key
                                   id_header=x-api-key-id;
        proxy_set_header X-Key-Id $embed_session_api_key_id;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/echo;
    }

    location /echo {
        return 200 "ok $http_x_key_id\n";
    }
_EOC_
    }

    if (!defined $block->user_files) {
        $block->set_value('user_files', keys_file());
    }

    if (!defined $block->request) {
        $block->set_value('request', "GET /api\n");
    }
});

run_tests();

api_keys_live();

Test::More::done_testing();


# regenerate, revoke and reload, on an nginx of our own ####################

sub api_keys_live {
    require HTTP::Tiny;
    require File::Path;

    my $bin = $ENV{TEST_NGINX_BINARY} // 'nginx';
    my $prefix = server_root() . '-live';
    my $port = $Test::Nginx::Util::ServerPort + 1;
    my $url = "http://127.0.0.1:$port";

    File::Path::remove_tree($prefix);
    File::Path::make_path("$prefix/conf", "$prefix/logs");

    put("$prefix/conf/keys.txt", $KEYS);
    put("$prefix/conf/nginx.conf", <<"_EOC_");
@{[ EmbedSessionTest::es_load_module() ]}error_log logs/error.log info;
pid logs/nginx.pid;
worker_processes 2;
events { worker_connections 64; }
${\ ($> == 0 ? 'user root;' : '')}

http {
    access_log off;
    embed_session_api_keys zone=live:1m file=keys.txt;

    server {
        listen 127.0.0.1:$port;

        embed_session_api_key live;
        embed_session_api_key_from bearer header=x-api-key
                                   id_header=x-api-key-id;

        location /api {
            proxy_set_header X-Key-Id \$embed_session_api_key_id;
            proxy_pass http://127.0.0.1:$port/echo;
        }

        location /echo {
            embed_session_api_key off;
            return 200 "ok \$http_x_key_id\\n";
        }

        location = /regenerate {
            embed_session_api_key_regenerate on;
        }

        location = /revoke {
            embed_session_api_key_revoke on;
        }
    }
}
_EOC_

    system($bin, '-p', "$prefix/", '-c', 'conf/nginx.conf') == 0
        or return Test::More::fail("live: nginx did not start");

    my $ua = HTTP::Tiny->new(timeout => 5);

    my $get = sub {
        my ($path, %h) = @_;
        for (1 .. 50) {
            my $res = $ua->get("$url$path", { headers => \%h });
            return $res unless $res->{status} == 599;
            select undef, undef, undef, 0.1;
        }
    };

    my $post = sub {
        my ($path, $body, %h) = @_;
        return $ua->post("$url$path", { headers => \%h,
                                        content => $body // '' });
    };

    my $r = $get->('/api', 'x-api-key' => $K2);
    Test::More::is($r->{content}, "ok k2\n", 'live: k2 authenticates');

    # regenerate: the old key refused at once, the new ones work

    $r = $post->('/regenerate', '', 'x-api-key' => $K2);
    Test::More::is($r->{status}, 200, 'live: regenerate 200');
    Test::More::is($r->{headers}{'cache-control'}, 'no-store',
                   'live: regenerate no-store');

    my ($id, $new, $new_id) = $r->{content}
        =~ /\A\{"id":"(k2)","apiKey":"(ps_[A-Za-z0-9]{40})","apiKeyId":"(psid_[A-Za-z0-9]{40})"\}\z/;

    Test::More::ok(defined $new_id, 'live: regenerate body')
        or Test::More::diag($r->{content});

    $r = $get->('/api', 'x-api-key' => $K2);
    Test::More::is($r->{status}, 401, 'live: old key refused');
    $r = $get->('/api', 'x-api-key-id' => $I2);
    Test::More::is($r->{status}, 401, 'live: old id credential refused');

    for (1 .. 4) {      # both workers, most likely
        $r = $get->('/api', 'x-api-key' => $new // '');
        Test::More::is($r->{content}, "ok k2\n", "live: new key works #$_");
    }

    $r = $get->('/api', 'x-api-key-id' => $new_id // '');
    Test::More::is($r->{content}, "ok k2\n", 'live: new id credential works');

    my $file = get("$prefix/conf/keys.txt");
    my $want = $KEYS;
    my ($k2_line) = $want =~ /^(k2 .*)$/m;
    (my $k2_new = $k2_line) =~ s{key=\S+ id_key=\S+}{
        'key=' . stored($new // '') . ' id_key=' . stored($new_id // '')}e;
    $want =~ s/^k2 .*$/$k2_new/m;
    Test::More::is($file, $want,
                   'live: file rewritten, other lines and comments kept');

    Test::More::unlike(get("$prefix/logs/error.log"), qr/\Q$new\E/,
                       'live: the new key is not logged')
        if defined $new;

    # revoke: k1 revokes itself; k1 may not revoke k5, k2 (admin) may

    $r = $post->('/revoke', '{"id":"k5"}', 'Authorization' => "Bearer $K1");
    Test::More::is($r->{status}, 403, 'live: revoke another key, not admin');

    $r = $post->('/revoke', '', 'Authorization' => "Bearer $K1");
    Test::More::is($r->{content}, '{"id":"k1","status":"revoked"}',
                   'live: revoke self');

    $r = $get->('/api', 'Authorization' => "Bearer $K1");
    Test::More::like($r->{content}, qr/API_KEY_REVOKED/,
                     'live: revoked key refused');

    $r = $post->('/revoke', '{"id":"k5"}', 'x-api-key' => $new // '');
    Test::More::is($r->{content}, '{"id":"k5","status":"revoked"}',
                   'live: admin revokes another key');

    $r = $post->('/revoke', '{"id":"nope"}', 'x-api-key' => $new // '');
    Test::More::like($r->{content},
                     qr/"VALIDATION_FAILED".*"path":"id","message":"no such key"/,
                     'live: revoke of an unknown ID');

    $file = get("$prefix/conf/keys.txt");
    Test::More::like($file, qr/^k1 .* grants=read status=revoked$/m,
                     'live: status=revoked added to k1');
    Test::More::like($file, qr/^k5 .*origins=https:\/\/A.example:443 status=revoked$/m,
                     'live: status=revoked added to k5');

    # a reload with a bad file fails and keeps the keys

    put("$prefix/conf/keys.txt", $file . "k6 key=$K1\n");
    kill 'HUP', pid($prefix);
    sleep 1;

    Test::More::like(get("$prefix/logs/error.log"),
                     qr/\[emerg\].*keys\.txt", line \d+, entry "k6": key=: looks like a raw key/,
                     'live: bad file on reload is reported');

    $r = $get->('/api', 'x-api-key' => $new // '');
    Test::More::is($r->{content}, "ok k2\n", 'live: keys kept after a '
                                             . 'failed reload');

    # a good reload: the records come from the file, revocations stay

    put("$prefix/conf/keys.txt", $file);
    kill 'HUP', pid($prefix);
    sleep 1;

    $r = $get->('/api', 'x-api-key' => $new // '');
    Test::More::is($r->{content}, "ok k2\n", 'live: new key after reload');
    $r = $get->('/api', 'x-api-key' => $K5);
    Test::More::like($r->{content}, qr/API_KEY_REVOKED/,
                     'live: revoked after reload');

    Test::More::unlike(get("$prefix/logs/error.log"),
                       qr/\[(?:alert|crit)\]|exited on signal|\Q$K1\E|\Q$K2\E/,
                       'live: no alert, crash or raw key in the log');

    kill 'QUIT', pid($prefix);
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

sub pid {
    my ($prefix) = @_;
    my $pid = get("$prefix/logs/nginx.pid");
    chomp $pid;
    return $pid;
}

__DATA__

=== TEST 1: bearer credential
--- more_headers eval
"Authorization: Bearer $main::K1"
--- response_body
ok k1
--- no_error_log
[error]



=== TEST 2: the Bearer scheme is case-insensitive
--- more_headers eval
"Authorization: bEARER $main::K1"
--- response_body
ok k1
--- no_error_log
[error]



=== TEST 3: header=NAME: the raw key
--- more_headers eval
"X-Api-Key: $main::K2"
--- response_body
ok k2
--- no_error_log
[error]



=== TEST 4: id_header=NAME: the id credential
--- more_headers eval
"X-Api-Key-Id: $main::I2"
--- response_body
ok k2
--- no_error_log
[error]



=== TEST 5: another Authorization scheme is not a credential
--- more_headers eval
"Authorization: Basic dXNlcjpwYXNz\nX-Api-Key: $main::K1"
--- response_body
ok k1
--- no_error_log
[error]



=== TEST 6: no credential
--- error_code: 401
--- response_body chomp
{"error":"API key required","code":"API_KEY_REQUIRED"}
--- error_log
API_KEY_REQUIRED: no API key



=== TEST 7: wrong key with a known LOOKUP: only the LOOKUP is logged
--- more_headers eval
"X-Api-Key: ps_Ab3dEf9h" . ('w' x 32)
--- error_code: 401
--- response_body chomp
{"error":"API key invalid","code":"API_KEY_INVALID"}
--- error_log
API_KEY_INVALID: unknown API key "ps_Ab3dEf9h"
--- no_error_log eval
qr/\[(?:info|warn|error)\].*wwwwwwww/



=== TEST 8: malformed: 39 random characters, no lookup is done
--- more_headers eval
"X-Api-Key: ps_Ab3dEf9h" . ('x' x 31)
--- error_code: 401
--- error_log
API_KEY_INVALID: malformed API key



=== TEST 9: malformed: a character outside [A-Za-z0-9_]
--- more_headers eval
"X-Api-Key: ps_Ab3dEf9h" . ('x' x 31) . '-'
--- error_code: 401
--- error_log
API_KEY_INVALID: malformed API key



=== TEST 10: the id credential where the key belongs
--- more_headers eval
"X-Api-Key: $main::I2"
--- error_code: 401
--- response_body chomp
{"error":"API key invalid","code":"API_KEY_INVALID"}



=== TEST 11: revoked
--- more_headers eval
"X-Api-Key: $main::K3"
--- error_code: 401
--- response_body chomp
{"error":"API key revoked","code":"API_KEY_REVOKED"}
--- error_log
API_KEY_REVOKED: revoked key "k3"



=== TEST 12: expired
--- more_headers eval
"X-Api-Key: $main::K4"
--- error_code: 401
--- response_body chomp
{"error":"API key expired","code":"API_KEY_EXPIRED"}
--- error_log
API_KEY_EXPIRED: expired key "k4"



=== TEST 13: two credentials (key and id credential) are refused
--- more_headers eval
"X-Api-Key: $main::K2\nX-Api-Key-Id: $main::I2"
--- error_code: 401
--- response_body chomp
{"error":"API key invalid","code":"API_KEY_INVALID"}
--- error_log
more than one API key credential



=== TEST 14: two credentials (bearer and header) are refused
--- more_headers eval
"Authorization: Bearer $main::K1\nX-Api-Key: $main::K1"
--- error_code: 401
--- error_log
more than one API key credential



=== TEST 15: a repeated header is refused
--- more_headers eval
"X-Api-Key: $main::K1\nX-Api-Key: $main::K1"
--- error_code: 401
--- error_log
more than one API key credential



=== TEST 16: Bearer with two tokens
--- more_headers eval
"Authorization: Bearer $main::K1 x"
--- error_code: 401
--- error_log
malformed Authorization: Bearer



=== TEST 17: no_bearer: a Bearer header is refused even with a good key
--- config
    location = /t {
        embed_session_api_key z;
        embed_session_api_key_from header=x-api-key no_bearer;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/echo;
    }

    location /echo {
        return 200 "ok\n";
    }
--- request
GET /t
--- more_headers eval
"X-Api-Key: $main::K1\nAuthorization: Bearer $main::K2"
--- error_code: 401
--- response_body chomp
{"error":"Authorization: Bearer is not accepted","code":"BEARER_NOT_ALLOWED"}



=== TEST 18: the default source is bearer only
--- config
    location = /t {
        embed_session_api_key z;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/echo;
    }

    location /echo {
        return 200 "ok\n";
    }
--- request
GET /t
--- more_headers eval
"X-Api-Key: $main::K1"
--- error_code: 401
--- response_body chomp
{"error":"API key required","code":"API_KEY_REQUIRED"}



=== TEST 19: deny rules: the first that matches answers; !scope
--- config
    location = /t {
        embed_session_api_key z;
        embed_session_api_key_from header=x-api-key;
        embed_session_api_key_deny !scope=admin 403 ADMIN_ONLY "admins only";
        embed_session_api_key_deny flag=beta 451 BETA;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/echo;
    }

    location /echo {
        return 200 "ok\n";
    }
--- request eval
["GET /t", "GET /t"]
--- more_headers eval
["X-Api-Key: $main::K1", "X-Api-Key: $main::K2"]
--- error_code eval
[403, 200]
--- response_body eval
['{"error":"admins only","code":"ADMIN_ONLY"}', "ok\n"]



=== TEST 20: a denial is logged with the key's ID
--- config
    location = /t {
        embed_session_api_key z;
        embed_session_api_key_from header=x-api-key;
        embed_session_api_key_deny flag=beta 451 BETA;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/echo;
    }

    location /echo {
        return 200 "ok\n";
    }
--- request
GET /t
--- more_headers eval
"X-Api-Key: $main::K1"
--- error_code: 451
--- error_log
DENIED: denied, key "k1"



=== TEST 21: deny rules: flag, !grant
--- config
    location = /t {
        embed_session_api_key z;
        embed_session_api_key_from header=x-api-key;
        embed_session_api_key_deny flag=beta 451 BETA;
        embed_session_api_key_deny !grant=read 403 NO_READ;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/echo;
    }

    location /echo {
        return 200 "ok\n";
    }
--- request eval
["GET /t", "GET /t"]
--- more_headers eval
["X-Api-Key: $main::K1", "X-Api-Key: $main::K5"]
--- error_code eval
[451, 403]
--- response_body eval
['{"error":"BETA","code":"BETA"}', '{"error":"NO_READ","code":"NO_READ"}']



=== TEST 22: rate limit: headers on every response, then 429
--- request eval
["GET /api", "GET /api", "GET /api"]
--- more_headers eval
"X-Api-Key: $main::K5"
--- error_code eval
[200, 200, 429]
--- raw_response_headers_like eval
[qr/X-RateLimit-Limit: 2\r\nX-RateLimit-Remaining: 1\r\nX-RateLimit-Reset: \d+\r\n/,
 qr/X-RateLimit-Limit: 2\r\nX-RateLimit-Remaining: 0\r\nX-RateLimit-Reset: \d+\r\n(?!Retry-After)/,
 qr/X-RateLimit-Limit: 2\r\nX-RateLimit-Remaining: 0\r\nX-RateLimit-Reset: \d+\r\nRetry-After: \d+\r\n/]
--- response_body eval
["ok k5\n", "ok k5\n", '{"error":"Too many requests","code":"RATE_LIMITED"}']



=== TEST 23: no rate, no rate headers
--- more_headers eval
"X-Api-Key: $main::K1"
--- response_body
ok k1
--- raw_response_headers_unlike: X-RateLimit
--- no_error_log
[error]



=== TEST 24: regenerate and revoke accept POST only
--- config
    location = /regenerate {
        embed_session_api_key z;
        embed_session_api_key_regenerate on;
    }

    location = /revoke {
        embed_session_api_key z;
        embed_session_api_key_revoke on;
    }
--- request eval
["GET /regenerate", "GET /revoke"]
--- error_code eval
[405, 405]
--- response_headers eval
["Allow: POST", "Allow: POST"]
--- no_error_log
[error]
[alert]



=== TEST 25: revoke: invalid JSON, unknown member, body too large
--- config
    location = /revoke {
        embed_session_api_key z;
        embed_session_api_key_revoke on;
    }
--- request eval
["POST /revoke\n{\"id\":", "POST /revoke\n{\"x\":1}",
 "POST /revoke\n{\"id\":\"" . ('a' x 5000) . "\"}"]
--- more_headers eval
"Authorization: Bearer $main::K1"
--- error_code eval
[400, 400, 413]
--- response_body eval
['{"error":"Request body is not valid JSON","code":"INVALID_JSON"}',
 '{"error":"Validation error","code":"VALIDATION_FAILED","details":[{"path":"x","message":"unknown member"}]}',
 '{"error":"Request body too large","code":"BODY_TOO_LARGE"}']
--- no_error_log
[alert]



=== TEST 26: key file: an unknown field
--- user_files eval
::with_line("k6 key=" . ::stored('ps_Nw3dEf9h' . ('n' x 32)) . " color=red")
--- must_die
--- error_log eval
qr/\[emerg\].*embed_session_api_keys: ".*keys\.txt", line 9, entry "k6": unknown field "color"/



=== TEST 27: key file: not NAME=VALUE
--- user_files eval
::with_line("k6 key=" . ::stored('ps_Nw3dEf9h' . ('n' x 32)) . " admin")
--- must_die
--- error_log eval
qr/\[emerg\].*keys\.txt", line 9, entry "k6": field 2 is not NAME=VALUE/



=== TEST 28: key file: duplicate ID
--- user_files eval
::with_line("k2 key=" . ::stored('ps_Nw3dEf9h' . ('n' x 32)))
--- must_die
--- error_log eval
qr/\[emerg\].*keys\.txt", line 9, entry "k2": duplicate ID \(first on line 3\)/



=== TEST 29: key file: duplicate LOOKUP
--- user_files eval
::with_line("k6 key=ps_Ab3dEf9h:" . ('0' x 64))
--- must_die
--- error_log eval
qr/\[emerg\].*keys\.txt", line 9, entry "k6": key=: duplicate LOOKUP "ps_Ab3dEf9h" \(also on line 2\)/



=== TEST 30: key file: a raw key in key= is refused and not quoted
--- user_files eval
::with_line("k6 key=ps_Nw3dEf9h" . ('n' x 32))
--- must_die
--- error_log eval
qr/\[emerg\].*keys\.txt", line 9, entry "k6": key=: looks like a raw key; store its hash/
--- no_error_log
nnnnnnnn



=== TEST 31: key file: a raw key alone in a line
--- user_files eval
::with_line("k6 ps_Nw3dEf9h" . ('n' x 32))
--- must_die
--- error_log eval
qr/\[emerg\].*line 9, entry "k6": field 1 looks like a raw key; store its hash/
--- no_error_log
nnnnnnnn



=== TEST 32: key file: key= not LOOKUP:HEX64 (uppercase hex)
--- user_files eval
::with_line("k6 key=ps_Nw3dEf9h:" . ('A' x 64))
--- must_die
--- error_log eval
qr/\[emerg\].*line 9, entry "k6": key=: not LOOKUP:HEX64/



=== TEST 33: key file: bad origin (a path)
--- user_files eval
::with_line("k6 key=" . ::stored('ps_Nw3dEf9h' . ('n' x 32))
            . " origins=https://a.example,https://b.example/app")
--- must_die
--- error_log eval
qr/\[emerg\].*line 9, entry "k6": origins=: "https:\/\/b.example\/app" is not an origin/



=== TEST 34: key file: bad rate
--- user_files eval
::with_line("k6 key=" . ::stored('ps_Nw3dEf9h' . ('n' x 32)) . " rate=10/d")
--- must_die
--- error_log eval
qr/\[emerg\].*line 9, entry "k6": rate=10\/d: not N\/s, N\/m or N\/h/



=== TEST 35: key file: bad status
--- user_files eval
::with_line("k6 key=" . ::stored('ps_Nw3dEf9h' . ('n' x 32)) . " status=paused")
--- must_die
--- error_log eval
qr/\[emerg\].*line 9, entry "k6": status=paused: not "active" or "revoked"/



=== TEST 36: key file: bad expires
--- user_files eval
::with_line("k6 key=" . ::stored('ps_Nw3dEf9h' . ('n' x 32)) . " expires=soon")
--- must_die
--- error_log eval
qr/\[emerg\].*line 9, entry "k6": expires=soon: not Unix seconds/



=== TEST 37: key file: no key= field
--- user_files eval
::with_line("k6 scope=admin", 1)
--- must_die
--- error_log eval
qr/\[emerg\].*line 2, entry "k6": no key= field/



=== TEST 38: key file: a carriage return
--- user_files eval
::keys_file("k6 key=" . ::stored('ps_Nw3dEf9h' . ('n' x 32)) . "\r\n")
--- must_die
--- error_log eval
qr/\[emerg\].*keys\.txt", line 1: carriage return in the line/



=== TEST 39: the zone is too small for the file
--- http_config
    embed_session_api_keys zone=z:32k file=$TEST_NGINX_HTML_DIR/keys.txt;
--- user_files eval
::keys_file(CORE::join '', map {
    "key$_ key=" . ::stored(sprintf('ps_%08d', $_) . ('n' x 32))
    . " resources=" . CORE::join(',', map { "resource-$_" } 1 .. 20) . "\n"
} 1 .. 300)
--- must_die
--- error_log eval
qr/\[emerg\].*zone "z" is too small for the 300 records of ".*keys\.txt"/



=== TEST 40: a zone that embed_session_api_keys does not declare
--- config
    location /api {
        embed_session_api_key nope;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*API key zone "nope" is not declared by "embed_session_api_keys"/



=== TEST 41: regenerate needs a zone
--- config
    location /regenerate {
        embed_session_api_key_regenerate on;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*"embed_session_api_key_regenerate" needs "embed_session_api_key"/



=== TEST 42: bearer and no_bearer together
--- config
    location /api {
        embed_session_api_key z;
        embed_session_api_key_from bearer no_bearer;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*has both "bearer" and "no_bearer"/
