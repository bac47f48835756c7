# Mint request bodies that must be refused, each with its own error, and
# nothing minted ($embed_session_minted_jti stays empty, no token in the
# body): truncated JSON, bodies over embed_session_mint_body_max (413,
# also chunked and announced by Content-Length alone), nesting deeper than
# 16, duplicate member names (also escaped: "a" and "\u0061", rule 10),
# wrong types for every field type, invalid UTF-8, NUL (rule 11), origins
# lists that break rule 22 (21 entries, "null", paths, userinfo, wildcards,
# trailing dots), empty bodies, non-object roots, methods other than POST,
# and one details entry per problem, each with its path.

use FindBin;
use lib "$FindBin::Bin/lib";
use EmbedSessionTest;
use EmbedSessionMint;

use JSON::PP ();

repeat_each(2);
no_shuffle();

our $JSON = JSON::PP->new->canonical->allow_nonref;

our $RAW = 'ms_BodyTest0123456789abcdefghijklmnopqrstuv';

our $KEY_FILE = "k1 key=" . stored($RAW) . " scope=tenant tenant=t1\n";

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

our $HTTP = "embed_session_api_keys zone=mint_keys:1m "
            . "file=$ENV{TEST_NGINX_HTML_DIR}/mint.api-keys;\n";

# one field of every type; the cap at 1k so that its edge is cheap to reach

our $CONFIG = <<'_EOC_';
    location = /mint {
        embed_session_api_key  mint_keys;
        embed_session_keys     $TEST_NGINX_ES_DATA/keys/ed25519.jwks;

        embed_session_mint           on;
        embed_session_mint_body_max  1k;

        embed_session_field  sub             string   required claim=sub;
        embed_session_field  count           integer;
        embed_session_field  ratio           number;
        embed_session_field  admin           boolean;
        embed_session_field  meta            object;
        embed_session_field  list            array;
        embed_session_field  tags            strings;
        embed_session_field  allowedOrigins  origins  required;

        embed_session_mint_output  session_id  session_id;
        embed_session_mint_output  origins     origins;
        embed_session_mint_output  token       token;

        add_header  X-Minted-Jti  $embed_session_minted_jti  always;
    }
_EOC_

our $AUTH = "Authorization: Bearer $RAW\nContent-Type: application/json";

# a valid body with extra members, as a request

our $O1 = '"allowedOrigins":["https://app.example.com"]';

sub mint {
    my (@members) = @_;
    return "POST /mint\n{" . join(',', '"sub":"u1"', @members) . "}";
}

sub raw_body {
    my ($body) = @_;
    return "POST /mint\n$body";
}

# --- response summaries -----------------------------------------------------

# "code" and the sorted detail paths, or the minted fields; and whether a
# token is anywhere in the answer

sub summary {
    my ($body) = @_;

    my $r = eval { $JSON->decode($body) };
    return "not JSON\n" unless ref $r eq 'HASH';

    my $out;

    if (defined $r->{code}) {
        $out = "code: $r->{code}\n";
        if ($r->{details}) {
            $out .= 'details: '
                . join(' ', sort map { $_->{path} // '?' } @{ $r->{details} })
                . "\n";
            $out .= "messages: missing\n"
                if grep { !defined $_->{message} || $_->{message} eq '' }
                        @{ $r->{details} };
        }

        $out .= "token in the answer\n"
            if $body =~ /eyJ[A-Za-z0-9_-]+\.eyJ/;

    } else {
        $out = 'minted: ' . join(' ', sort keys %$r) . "\n";
        $out .= 'origins: ' . join(' ', @{ $r->{origins} // [] }) . "\n";
    }

    return $out;
}

# a mint that may come close to the token size cap: refused, or a token
# that the module's verifier (/verify, the same keys) accepts

sub check_size {
    my ($body) = @_;

    my $r = eval { $JSON->decode($body) };
    return "not JSON\n" unless ref $r eq 'HASH';
    return "refused: $r->{code}\n" if defined $r->{code};

    my $token = $r->{token} // '';
    my $res = http('GET', '/verify',
                   { 'X-Session-Token' => $token,
                     'Origin' => 'https://app.example.com' });

    return 'minted, ' . (length($token) <= 8192 ? 'at most' : 'over')
           . " 8 KiB, module: $res->{status}\n";
}

our $MINTED = "minted: origins session_id token\n"
              . "origins: https://app.example.com\n";

sub code { return "code: $_[0]\n" }

sub invalid { return "code: VALIDATION_FAILED\ndetails: @_\n" }

our $BAD_JSON = code('INVALID_JSON');

# n origins

sub origins {
    my ($n) = @_;
    return '"allowedOrigins":['
           . join(',', map { "\"https://app$_.example.com\"" } 1 .. $n)
           . ']';
}

# a body of exactly $len bytes that mints

sub body_of {
    my ($len) = @_;
    my $head = '{"sub":"';
    my $tail = "\",$O1}";
    return $head . ('x' x ($len - length($head) - length($tail))) . $tail;
}

# $n containers nested, objects and arrays in turn, the outermost an object
# (or an array with $array); put in a field, the root object is one more

sub nested {
    my ($n, $array) = @_;
    my $v = '1';
    for my $i (1 .. $n) {
        $v = ($n - $i) % 2 == ($array ? 1 : 0) ? "{\"a\":$v}" : "[$v]";
    }
    return $v;
}

block_defaults(
    http_config  => $HTTP,
    config       => $CONFIG,
    user_files   => [['mint.api-keys', $KEY_FILE]],
    no_error_log => "[error]\n",
);

add_block_preprocessor(sub {
    my $block = shift;

    if (!defined $block->more_headers && !defined $block->raw_request) {
        $block->set_value('more_headers', $AUTH);
    }

    if (!defined $block->response_body_filters
        && !defined $block->response_body_like)
    {
        $block->set_value('response_body_filters', \&summary);
    }

    # pipelined requests want one --- response_headers per request

    my $pipelined = $block->pipelined_requests;
    my $headers = $block->response_headers;

    if (ref $pipelined eq 'ARRAY' && defined $headers && !ref $headers) {
        $block->set_value('response_headers',
                          [($headers) x @$pipelined]);
    }
});

run_tests();

Test::More::done_testing();

__DATA__

=== TEST 1: the baseline: a valid body mints, 201, and sets $embed_session_minted_jti
--- request eval
::mint($::O1)
--- error_code: 201
--- response_headers_like
X-Minted-Jti: ^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$
--- response_body eval
$::MINTED



=== TEST 2: truncated JSON: 400 INVALID_JSON, nothing minted
--- pipelined_requests eval
[::raw_body('{"sub":"u1",' . $::O1),
 ::raw_body('{"sub":"u1","allowedOrigins":["https://app.example.com"'),
 ::raw_body('{"sub":"u1","allowedOrigins":["https://app.exa'),
 ::raw_body('{"sub":"u'),
 ::raw_body('{"sub":'),
 ::raw_body('{'),
 ::raw_body('{"sub":"u1",' . $::O1 . '}}'),
 ::raw_body('{"sub":"u1",' . $::O1 . '} {}'),
 ::raw_body('{"sub":"u1",' . $::O1 . ',}'),
 ::raw_body("{'sub':'u1'}")]
--- error_code eval
[(400) x 10]
--- response_headers
!X-Minted-Jti
--- response_body eval
[($::BAD_JSON) x 10]



=== TEST 3: INVALID_JSON has the contract's default message, flat envelope, no details
--- request eval
::raw_body('{"sub":')
--- error_code: 400
--- response_headers
Content-Type: application/json
!X-Minted-Jti
--- response_body_like chomp
^\{"error":"Request body is not valid JSON","code":"INVALID_JSON"\}\n?$



=== TEST 4: the body cap: 1024 bytes mint, 1025 get 413 BODY_TOO_LARGE
--- pipelined_requests eval
[::raw_body(::body_of(1024)), ::raw_body(::body_of(1025)),
 ::raw_body(::body_of(4096))]
--- error_code eval
[201, 413, 413]
--- response_body eval
["minted: origins session_id token\norigins: https://app.example.com\n",
 ::code('BODY_TOO_LARGE'), ::code('BODY_TOO_LARGE')]



=== TEST 5: 413 BODY_TOO_LARGE has the default message, nothing minted
--- request eval
::raw_body(::body_of(1025))
--- error_code: 413
--- response_headers
!X-Minted-Jti
--- response_body_like chomp
^\{"error":"Request body too large","code":"BODY_TOO_LARGE"\}\n?$



=== TEST 6: 413 on Content-Length alone, before the body is read
--- http_config eval
# the answer comes at once; nginx then discards the announced body for up
# to lingering_timeout before it closes (the client never sends it: were
# the answer waiting for the body, there would be none)
$::HTTP . "lingering_timeout 1s;\n"
--- raw_request eval
"POST /mint HTTP/1.1\r
Host: localhost\r
Authorization: Bearer $::RAW\r
Content-Type: application/json\r
Content-Length: 500000\r
Connection: close\r
\r
{\"sub\":\"u1\","
--- timeout: 3
--- error_code: 413
--- response_body eval
::code('BODY_TOO_LARGE')



=== TEST 7: 413 for a chunked body over the cap
--- raw_request eval
my $chunk = '{"sub":"' . ('x' x 1100) . '",';
my $rest = '"allowedOrigins":["https://app.example.com"]}';
"POST /mint HTTP/1.1\r
Host: localhost\r
Authorization: Bearer $::RAW\r
Content-Type: application/json\r
Transfer-Encoding: chunked\r
Connection: close\r
\r
" . sprintf("%x", length $chunk) . "\r\n$chunk\r\n"
  . sprintf("%x", length $rest) . "\r\n$rest\r\n0\r\n\r\n"
--- timeout: 5
--- error_code: 413
--- response_body eval
::code('BODY_TOO_LARGE')



=== TEST 8: a chunked body under the cap mints
--- raw_request eval
my $body = '{"sub":"u1","allowedOrigins":["https://app.example.com"]}';
my ($a, $b) = (substr($body, 0, 20), substr($body, 20));
"POST /mint HTTP/1.1\r
Host: localhost\r
Authorization: Bearer $::RAW\r
Content-Type: application/json\r
Transfer-Encoding: chunked\r
Connection: close\r
\r
" . sprintf("%x", length $a) . "\r\n$a\r\n"
  . sprintf("%x", length $b) . "\r\n$b\r\n0\r\n\r\n"
--- timeout: 5
--- error_code: 201
--- response_body eval
$::MINTED



=== TEST 9: nesting: 16 levels (the innermost value counts) pass, 17 and 300 are refused as INVALID_JSON
--- pipelined_requests eval
[::mint($::O1, '"meta":' . ::nested(13)),
 ::mint($::O1, '"meta":' . ::nested(14)),
 ::mint($::O1, '"meta":' . ::nested(15)),
 ::mint($::O1, '"list":' . ::nested(15)),
 ::raw_body(('[' x 300) . (']' x 300))]
--- error_code eval
[201, 201, 400, 400, 400]
--- response_body eval
[$::MINTED, $::MINTED, ($::BAD_JSON) x 3]



=== TEST 10: duplicate member names, plain and escaped, in the root and deeper (rule 10)
--- pipelined_requests eval
[::raw_body('{"sub":"u1","sub":"u2",' . $::O1 . '}'),
 ::raw_body('{"sub":"u1","s\u0075b":"admin",' . $::O1 . '}'),
 ::raw_body('{"\u0073\u0075\u0062":"u1","sub":"admin",' . $::O1 . '}'),
 ::raw_body('{"sub":"u1",' . $::O1 . ',' . $::O1 . '}'),
 ::mint($::O1, '"meta":{"a":1,"\u0061":2}'),
 ::mint($::O1, '"list":[{"x":1,"x":1}]'),
 ::mint($::O1, '"meta":{"a":{"b":1,"b":2}}')]
--- error_code eval
[(400) x 7]
--- response_headers
!X-Minted-Jti
--- response_body eval
[($::BAD_JSON) x 7]



=== TEST 11: a string field given other types
--- pipelined_requests eval
[::raw_body('{"sub":1,' . $::O1 . '}'),
 ::raw_body('{"sub":true,' . $::O1 . '}'),
 ::raw_body('{"sub":["u1"],' . $::O1 . '}'),
 ::raw_body('{"sub":{"id":"u1"},' . $::O1 . '}'),
 ::raw_body('{"sub":null,' . $::O1 . '}')]
--- error_code eval
[(400) x 5]
--- response_headers
!X-Minted-Jti
--- response_body eval
[(::invalid('sub')) x 5]



=== TEST 12: an integer field given other types, reals included
--- pipelined_requests eval
[map { ::mint($::O1, "\"count\":$_") }
 '"1"', '1.5', '1.0', '1e2', 'true', 'null', '[1]', '{}']
--- error_code eval
[(400) x 8]
--- response_headers
!X-Minted-Jti
--- response_body eval
[(::invalid('count')) x 8]



=== TEST 13: an integer beyond 64 bits: 400, not minted (INVALID_JSON or VALIDATION_FAILED)
--- request eval
::mint($::O1, '"count":99999999999999999999999')
--- error_code: 400
--- response_headers
!X-Minted-Jti
--- response_body_like chomp
"code":"(?:INVALID_JSON|VALIDATION_FAILED)"



=== TEST 14: an integer that fits mints
--- pipelined_requests eval
[map { ::mint($::O1, "\"count\":$_") } '0', '-1', '9007199254740991']
--- error_code eval
[201, 201, 201]
--- response_body eval
[($::MINTED) x 3]



=== TEST 15: a number field takes integers and reals, nothing else
--- pipelined_requests eval
[map { ::mint($::O1, "\"ratio\":$_") }
 '0.5', '2', '-1e3', '"0.5"', 'true', 'null', '[0.5]']
--- error_code eval
[201, 201, 201, 400, 400, 400, 400]
--- response_body eval
[($::MINTED) x 3, (::invalid('ratio')) x 4]



=== TEST 16: a boolean field given other types
--- pipelined_requests eval
[map { ::mint($::O1, "\"admin\":$_") }
 '"true"', '1', '0', 'null', '[true]', 'true', 'false']
--- error_code eval
[400, 400, 400, 400, 400, 201, 201]
--- response_body eval
[(::invalid('admin')) x 5, ($::MINTED) x 2]



=== TEST 17: object and array fields given the other container, scalars and null
--- pipelined_requests eval
[(map { ::mint($::O1, "\"meta\":$_") } '[]', '"x"', '1', 'null'),
 (map { ::mint($::O1, "\"list\":$_") } '{}', '"x"', '1', 'null'),
 ::mint($::O1, '"meta":{"any":[1,"two",{"three":null}]}', '"list":[1,"a",null,{}]')]
--- error_code eval
[(400) x 8, 201]
--- response_body eval
[(::invalid('meta')) x 4, (::invalid('list')) x 4, $::MINTED]



=== TEST 18: a strings field: an array of strings only, each bad element named
--- pipelined_requests eval
[map { ::mint($::O1, "\"tags\":$_") }
 '"a"', '{"a":1}', '["a",1]', '["a",null]', '["a",["b"]]', 'null',
 '["a","b"]', '[]']
--- error_code eval
[(400) x 6, 201, 201]
--- response_body eval
[::invalid('tags'), ::invalid('tags'), ::invalid('tags[1]'),
 ::invalid('tags[1]'), ::invalid('tags[1]'), ::invalid('tags'),
 ($::MINTED) x 2]



=== TEST 19: an origins field given other types
--- pipelined_requests eval
[map { ::raw_body("{\"sub\":\"u1\",\"allowedOrigins\":$_}") }
 '"https://app.example.com"', '{"o":"https://app.example.com"}',
 '[1]', '[null]', 'null', '[["https://app.example.com"]]']
--- error_code eval
[(400) x 6]
--- response_headers
!X-Minted-Jti
--- response_body eval
[::invalid('allowedOrigins'), ::invalid('allowedOrigins'),
 ::invalid('allowedOrigins[0]'), ::invalid('allowedOrigins[0]'),
 ::invalid('allowedOrigins'), ::invalid('allowedOrigins[0]')]



=== TEST 20: invalid UTF-8 anywhere: 400 INVALID_JSON
--- pipelined_requests eval
[::raw_body("{\"sub\":\"u\xff1\",$::O1}"),
 ::raw_body("{\"sub\":\"u\xc0\xaf\",$::O1}"),
 ::raw_body("{\"sub\":\"u\xed\xa0\x80\",$::O1}"),
 ::raw_body("{\"sub\":\"u\xc3\",$::O1}"),
 ::raw_body("{\"sub\":\"u\xf4\x90\x80\x80\",$::O1}"),
 ::raw_body("{\"s\xffb\":\"u1\",$::O1}"),
 ::mint($::O1, "\"meta\":{\"k\":\"\xfe\"}"),
 ::raw_body("{\"sub\":\"u\\ud800\",$::O1}"),
 ::raw_body("{\"sub\":\"u\\udc00x\",$::O1}")]
--- error_code eval
[(400) x 9]
--- response_headers
!X-Minted-Jti
--- response_body eval
[($::BAD_JSON) x 9]



=== TEST 21: valid UTF-8 and escapes mint
--- pipelined_requests eval
[::raw_body("{\"sub\":\"J\xc3\xa9r\xc3\xb4me \xf0\x9f\x98\x80\",$::O1}"),
 ::raw_body("{\"sub\":\"\\u00e9\\ud83d\\ude00\",$::O1}")]
--- error_code eval
[201, 201]
--- response_body eval
[($::MINTED) x 2]



=== TEST 22: NUL: as an escape in a value or a name, or a raw byte (rule 11)
--- pipelined_requests eval
[::raw_body("{\"sub\":\"u1\\u0000admin\",$::O1}"),
 ::raw_body("{\"sub\":\"\\u0000\",$::O1}"),
 ::mint($::O1, "\"meta\":{\"a\\u0000b\":1}"),
 ::mint($::O1, "\"tags\":[\"a\\u0000\"]"),
 ::raw_body("{\"sub\":\"u1\x00\",$::O1}"),
 ::raw_body("{\"sub\":\"u1\",$::O1}\x00")]
--- error_code eval
[(400) x 6]
--- response_headers
!X-Minted-Jti
--- response_body eval
[($::BAD_JSON) x 6]



=== TEST 23: origins: 20 pass, 21 are refused, none neither
--- pipelined_requests eval
[::raw_body('{"sub":"u1",' . ::origins(20) . '}'),
 ::raw_body('{"sub":"u1",' . ::origins(21) . '}'),
 ::raw_body('{"sub":"u1","allowedOrigins":[]}')]
--- error_code eval
[201, 400, 400]
--- response_body eval
["minted: origins session_id token\norigins: "
     . CORE::join(' ', map { "https://app$_.example.com" } 1 .. 20) . "\n",
 ::invalid('allowedOrigins'), ::invalid('allowedOrigins')]



=== TEST 24: origins that break rule 22, each named by its index
--- pipelined_requests eval
[map { ::raw_body('{"sub":"u1","allowedOrigins":["https://a.example.com",'
                  . '"https://b.example.com","https://c.example.com",'
                  . "\"$_\"]}") }
 'null', 'NULL', 'https://d.example.com/app', 'https://d.example.com/',
 'https://user@d.example.com', 'https://user:pw@d.example.com',
 'https://*.example.com', '*', 'https://d.example.com.',
 'https://d.example.com?x=1', 'https://d.example.com#x',
 'https://d.example.com:99999', 'javascript://d.example.com',
 'file://', 'd.example.com', '', ' https://d.example.com',
 'https://d.example.com ']
--- error_code eval
[(400) x 18]
--- response_headers
!X-Minted-Jti
--- response_body eval
[(::invalid('allowedOrigins[3]')) x 18]



=== TEST 25: origins are normalised like the verifier's (case, default port)
--- pipelined_requests eval
['POST /mint
{"sub":"u1","allowedOrigins":["HTTPS://App.Example.COM:443","http://localhost:8080","http://LOCALHOST:80"]}']
--- error_code eval
[201]
--- response_body eval
["minted: origins session_id token\norigins: https://app.example.com http://localhost:8080 http://localhost\n"]



=== TEST 26: an empty body is the empty object: 400 VALIDATION_FAILED naming what is missing
--- pipelined_requests eval
["POST /mint\n", "POST /mint\n", "POST /mint\n{}"]
--- more_headers eval
["$::AUTH\nContent-Length: 0", $::AUTH, $::AUTH]
--- error_code eval
[400, 400, 400]
--- response_headers
!X-Minted-Jti
--- response_body eval
[(::invalid('allowedOrigins sub')) x 3]



=== TEST 27: a root that is not an object: 400 VALIDATION_FAILED
--- pipelined_requests eval
[map { ::raw_body($_) }
 '[{"sub":"u1","allowedOrigins":["https://app.example.com"]}]', '[]',
 '"sub"', '42', 'true', 'null']
--- error_code eval
[(400) x 6]
--- response_headers
!X-Minted-Jti
--- response_body_filters eval
sub { ($_[0] =~ /"code":"(\w+)"/)[0] . "\n" }
--- response_body eval
[("VALIDATION_FAILED\n") x 6]



=== TEST 28: GET, PUT, DELETE, PATCH: 405 METHOD_NOT_ALLOWED, Allow: POST
--- pipelined_requests eval
["GET /mint", "PUT /mint\n{}", "DELETE /mint", "PATCH /mint\n{}"]
--- error_code eval
[405, 405, 405, 405]
--- response_headers
Allow: POST
!X-Minted-Jti
--- response_body eval
[(::code('METHOD_NOT_ALLOWED')) x 4]



=== TEST 29: the key is checked before the body is read
--- more_headers
Content-Type: application/json
--- pipelined_requests eval
[::raw_body('{"sub":'), ::raw_body(::body_of(4096))]
--- error_code eval
[401, 401]
--- response_body eval
[(::code('API_KEY_REQUIRED')) x 2]



=== TEST 30: every problem at once, each with its path
--- pipelined_requests eval
[::raw_body('{}'),
 ::raw_body('{"sub":1,"count":"x"}'),
 ::raw_body('{"sub":1,"count":"x","ratio":"r","admin":"y","meta":[],"list":{},"tags":["a",2,"c",4],"allowedOrigins":["https://a.example.com","null","https://b.example.com/p"],"extra":1,"more":{}}')]
--- error_code eval
[400, 400, 400]
--- response_headers
!X-Minted-Jti
--- response_body eval
[::invalid('allowedOrigins sub'),
 ::invalid('allowedOrigins count sub'),
 ::invalid('admin allowedOrigins[1] allowedOrigins[2] count extra list meta more ratio sub tags[1] tags[3]')]



=== TEST 31: VALIDATION_FAILED: default message and the details array, flat envelope
--- request eval
::raw_body('{"sub":1,' . $::O1 . '}')
--- error_code: 400
--- response_body_like chomp
^\{"error":"Validation error","code":"VALIDATION_FAILED","details":\[\{"path":"sub","message":"[^"]+"\}\]\}\n?$



=== TEST 32: nested envelope: the details inside "error"
--- config
    location = /mint {
        embed_session_api_key  mint_keys;
        embed_session_keys     $TEST_NGINX_ES_DATA/keys/ed25519.jwks;
        embed_session_mint     on;
        embed_session_error_format  nested;
        embed_session_field  sub             string   required claim=sub;
        embed_session_field  allowedOrigins  origins  required;
        embed_session_mint_output  token  token;
    }
--- request eval
::raw_body('{"sub":1,"allowedOrigins":["null"]}')
--- error_code: 400
--- response_body_like chomp
^\{"error":\{"code":"VALIDATION_FAILED","message":"Validation error","details":\[\{"path":"(?:sub|allowedOrigins\[0\])","message":"[^"]+"\},\{"path":"(?:sub|allowedOrigins\[0\])","message":"[^"]+"\}\]\}\}\n?$



=== TEST 33: every minted token verifies: claims too large for an 8 KiB token are refused, not minted
--- config
    large_client_header_buffers  4 16k;

    location = /mint {
        embed_session_api_key  mint_keys;
        embed_session_keys     $TEST_NGINX_ES_DATA/keys/ed25519.jwks;
        embed_session_mint           on;
        embed_session_mint_body_max  16k;
        embed_session_field  sub             string   required claim=sub;
        embed_session_field  meta            object   claim=meta;
        embed_session_field  allowedOrigins  origins  required;
        embed_session_mint_output  token  token;
    }

    location = /verify {
        embed_session_verify  on;
        embed_session_keys    $TEST_NGINX_ES_DATA/keys/ed25519.jwks;
        proxy_pass  http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }

    location = /backend {
        return 200 "ok\n";
    }
--- pipelined_requests eval
[map { ::mint($::O1, '"meta":{"v":"' . ('x' x $_) . '"}') } 5500, 6000, 9000]
--- error_code eval
[201, 413, 413]
--- response_body_filters eval
\&::check_size
--- response_body eval
["minted, at most 8 KiB, module: 200\n", "refused: BODY_TOO_LARGE\n",
 "refused: BODY_TOO_LARGE\n"]
