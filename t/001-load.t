# The module loads, "nginx -t" accepts minimal configurations with it, and
# a location without embed_session directives behaves as plain nginx.

use FindBin;
use lib "$FindBin::Bin/lib";
use EmbedSessionTest;

use File::Temp qw(tempdir);

repeat_each(2);
no_shuffle();

# "nginx -t" on a configuration written to a private prefix: returns the
# exit status and the output.

sub nginx_t {
    my ($http) = @_;

    my $bin = $ENV{TEST_NGINX_BINARY} || 'nginx';
    my $dir = tempdir('es-load-XXXXXX', TMPDIR => 1, CLEANUP => 1);
    my $load = es_load_module();

    mkdir "$dir/$_" or die "mkdir $dir/$_: $!\n" for qw(logs conf);

    open my $fh, '>', "$dir/conf/nginx.conf" or die "$dir: $!\n";
    print {$fh} <<"_EOC_";
${load}error_log logs/error.log;
pid logs/nginx.pid;
events { worker_connections 16; }
http {
$http
}
_EOC_
    close $fh;

    my $out = `$bin -p $dir/ -c conf/nginx.conf -t 2>&1`;

    return ($? >> 8, $out);
}

my $data = es_data();

my ($rc, $out) = nginx_t(<<"_EOC_");
    server {
        listen 127.0.0.1:1;
        location / { }
    }
_EOC_

is($rc, 0, 'nginx -t: module loaded, no directives');
like($out, qr/test is successful/, 'nginx -t: test is successful');

($rc, $out) = nginx_t(<<"_EOC_");
    embed_session_keys $data/keys/hs256.jwks;
    server {
        listen 127.0.0.1:1;
        location /embed {
            embed_session_verify on;
        }
    }
_EOC_

is($rc, 0, 'nginx -t: minimal verifying configuration');
like($out, qr/test is successful/, 'nginx -t: verifying configuration ok');

($rc, $out) = nginx_t(<<"_EOC_");
    server {
        listen 127.0.0.1:1;
        location / {
            embed_session_verify maybe;
        }
    }
_EOC_

isnt($rc, 0, 'nginx -t: a bad value fails');
like($out, qr/embed_session_verify/, 'nginx -t: the message names it');

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

run_tests();

Test::More::done_testing();

__DATA__

=== TEST 1: the module loads; a location without directives works
--- config
    location = /t {
        return 200 "ok\n";
    }
--- request
GET /t
--- response_body
ok
--- no_error_log
[error]



=== TEST 2: a static file without directives, any token passes
--- config
    location /t {
    }
--- user_files
>>> t
ok
--- more_headers
X-Session-Token: not.a.token
Authorization: Bearer garbage
--- request
GET /t
--- response_body
ok
--- response_headers
!WWW-Authenticate
--- no_error_log
[error]



=== TEST 3: verification off at location level overrides server level
--- config
    embed_session_verify on;
    embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;

    location /t {
        embed_session_verify off;
    }
--- user_files
>>> t
ok
--- more_headers
X-Session-Token: not.a.token
--- request
GET /t
--- response_body
ok
--- response_headers
!WWW-Authenticate
--- no_error_log
[error]



=== TEST 4: a protected sibling location does not affect an open one
--- config
    location /protected {
        embed_session_verify on;
        embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    }

    location /t {
    }
--- user_files
>>> t
ok
>>> protected
secret
--- pipelined_requests eval
["GET /t", "GET /protected", "GET /t"]
--- error_code eval
[200, 401, 200]
--- response_body_like eval
["^ok\n\$", "SESSION_REQUIRED", "^ok\n\$"]
--- no_error_log
[error]



=== TEST 5: variables are empty where nothing is verified
--- config
    location = /t {
        return 200 "[$embed_session_sub][$embed_session_error][$embed_session_kid]\n";
    }
--- more_headers eval
"X-Session-Token: " . ::token()
--- request
GET /t
--- response_body
[][][]
--- no_error_log
[error]



=== TEST 6: the module in http context with no server using it
--- http_config
    embed_session_keys $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    embed_session_leeway 10s;
--- config
    location /t {
    }
--- user_files
>>> t
ok
--- request
GET /t
--- response_body
ok
--- no_error_log
[error]
