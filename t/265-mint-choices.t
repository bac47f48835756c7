# The mint's answer chosen by the request, and a field's known values:
#
#   embed_session_mint_output PATH VALUE if=FIELD:VALUE | if_claim=CLAIM:VALUE
#       lines of one path are alternatives, the first whose condition holds
#       answers (a string, an integer or a boolean field, its default
#       included; a claim of the token in the answer, on a mint and on a
#       refresh); none: the member is left out; nginx -t names what is
#       wrong with a condition
#   embed_session_field_known PATH file=FILE | values=A|B [per=VALUE]
#       STATUS CODE ["message"]
#       a string field's value must be listed, for the value of per= (the
#       API key's tenant) when it is given; nginx -t names the file and
#       line of a bad value
#
# and the grace window of a refresh bound to the API key that minted the
# session: within it another key's request gets 404 SESSION_NOT_FOUND and
# no successor, and the session is not revoked for it.

use FindBin;
use lib "$FindBin::Bin/lib";
use EmbedSessionTest;
use EmbedSessionMint;

use JSON::PP ();

repeat_each(2);
no_shuffle();

our $JSON = JSON::PP->new->canonical->allow_nonref;

our %RAW = (
    a => 'mc_ChoiceA0123456789abcdefghijklmnopqrstuvw',
    b => 'mc_ChoiceB0123456789abcdefghijklmnopqrstuvw',
    n => 'mc_ChoiceN0123456789abcdefghijklmnopqrstuvw',
);

our $KEY_FILE = join '',
    "ka key=" . stored($RAW{a}) . " tenant=t1\n",
    "kb key=" . stored($RAW{b}) . " tenant=t2\n",
    "kn key=" . stored($RAW{n}) . "\n";

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

our $HTTP = "embed_session_api_keys zone=mc_keys:1m "
            . "file=$ENV{TEST_NGINX_HTML_DIR}/mc.api-keys;\n"
            . "embed_session_store_zone zone=mc_sessions:1m;\n";

sub auth {
    my ($k) = @_;
    return "Authorization: Bearer $RAW{$k}\nContent-Type: application/json";
}

# the conditional outputs of a mint location

our $CHOICES = <<'_EOC_';
    location = /mint {
        embed_session_api_key  mc_keys;
        embed_session_keys     $TEST_NGINX_ES_DATA/keys/ed25519.jwks;
        embed_session_mint     on;
        embed_session_mint_origins  off;

        embed_session_field  sub    string   required claim=sub;
        embed_session_field  opts   object   "default={}";
        embed_session_field  opts.mode   string  enum=a|b|c default=a
                                         claim=mode;
        embed_session_field  opts.level  integer;
        embed_session_field  opts.beta   boolean;

        embed_session_mint_claim  tier  $http_x_tier;

        # by a string field (its default counts), first match wins
        embed_session_mint_output  route  "value=/b/$embed_session_minted_jti"
                                          if=opts.mode:b;
        embed_session_mint_output  route  "value=/b-again"  if=opts.mode:b;
        embed_session_mint_output  route  "value=/c"  if=opts.mode:c;
        embed_session_mint_output  route  "value=/default";

        # by an integer, a boolean; no line holds: no member
        embed_session_mint_output  level  "value=high"  if=opts.level:3;
        embed_session_mint_output  beta   "value=on"    if=opts.beta:true;
        embed_session_mint_output  beta   "value=off"   if=opts.beta:false;

        # by a claim of the token: one from embed_session_mint_claim
        embed_session_mint_output  plan.name  "value=gold"  if_claim=tier:1;
        embed_session_mint_output  plan.name  "value=basic";

        # an absent value falls through to the next line of its path
        embed_session_mint_output  echo  field=opts.level  if=opts.beta:true;
        embed_session_mint_output  echo  "value=none";

        embed_session_mint_output  token  token;
    }
_EOC_

# the known values

our $KNOWN = <<'_EOC_';
    location = /known {
        embed_session_api_key  mc_keys;
        embed_session_keys     $TEST_NGINX_ES_DATA/keys/ed25519.jwks;
        embed_session_mint     on;
        embed_session_mint_origins  off;

        embed_session_field  sub      string  required claim=sub;
        embed_session_field  color    string  claim=color;
        embed_session_field  ref      object;
        embed_session_field  ref.name string  required claim=ref;
        embed_session_field  shape    string  claim=shape;

        embed_session_field_known  color  "values=red|green|dark blue"
                                   422  unknown_color;
        embed_session_field_known  ref.name
                                   file=$TEST_NGINX_HTML_DIR/refs.txt
                                   per=$embed_session_api_key_tenant
                                   404  ref_not_found  "No such ref";
        embed_session_field_known  shape  "values=t1:square|t2:circle"
                                   per=$embed_session_api_key_tenant
                                   409  shape_unknown;

        embed_session_mint_output  token  token;
    }
_EOC_

our $REFS = <<'_EOF_';
# TENANT  NAME
t1  alpha
t1  beta gamma
t2	delta
_EOF_

# a mint location and a refresh location with a grace window

our $GRACE = <<'_EOC_';
    embed_session_keys   $TEST_NGINX_ES_DATA/keys/ed25519.jwks;
    embed_session_store  mc_sessions;

    location = /mint {
        embed_session_api_key  mc_keys;
        embed_session_mint     on;
        embed_session_mint_origins  off;
        embed_session_field  sub  string  required claim=sub;
        embed_session_field  mode string  claim=mode;
        embed_session_mint_output  session_id   session_id;
        embed_session_mint_output  token        token;
        embed_session_mint_output  renew_token  renew_token;
    }

    location = /refresh {
        embed_session_api_key  mc_keys;
        embed_session_origin   off;
        embed_session_refresh  renew  body=renew_token  grace=60s;
        embed_session_mint_output  token        token;
        embed_session_mint_output  renew_token  renew_token;
        embed_session_mint_output  route  "value=form"  if_claim=mode:fill;
        embed_session_mint_output  route  "value=builder";
    }

    location = /check {
        embed_session_verify  on;
        embed_session_origin  off;
        return 200 "ok $embed_session_sub\n";
    }
_EOC_

# the members of an answer, or its code

sub summary {
    my ($body) = @_;

    my $r = eval { $JSON->decode($body) };
    return "not JSON: $body\n" unless ref $r eq 'HASH';

    if (defined $r->{code}) {
        my $out = "code: $r->{code}";
        $out .= " ($r->{error})" if defined $r->{error}
                                    && $r->{error} ne $r->{code};
        $out .= ' details: ' . join ' ', map { $_->{path} } @{ $r->{details} }
            if ref $r->{details} eq 'ARRAY';
        return "$out\n";
    }

    # as written, members in the order of their first line

    (my $out = $body) =~ s/,?"token":"[^"]*"//;
    $out =~ s/\{,/{/;
    $out =~ s/"\/b\/[0-9a-f-]{36}"/"\/b\/<jti>"/;
    $out =~ s/\n?\z/\n/;

    return $out;
}

sub grace_api {
    my ($path, $key, $doc) = @_;

    return http('POST', $path,
                { Authorization => "Bearer $RAW{$key}",
                  'Content-Type' => 'application/json' },
                $JSON->encode($doc));
}

sub outcome {
    my ($res) = @_;

    return "$res->{status} " . ($res->{json}{code} // 'ok')
           . (defined $res->{json}{token} ? ', a token' : ', no token');
}

sub check_grace {
    my ($body) = @_;
    my @out;

    my $m = eval { $JSON->decode($body) } or return "not JSON: $body\n";

    my $r1 = grace_api('/refresh', 'a', { renew_token => $m->{renew_token} });
    push @out, 'refresh, the minting key: ' . outcome($r1)
               . ", route $r1->{json}{route}";

    my $stolen = grace_api('/refresh', 'b',
                           { renew_token => $m->{renew_token} });
    push @out, 'the same renew token, another key, within grace: '
               . outcome($stolen);
    push @out, 'the body holds a token: '
               . ($stolen->{content} =~ /eyJ/ ? 'yes' : 'no');

    my $again = grace_api('/refresh', 'a',
                          { renew_token => $m->{renew_token} });
    push @out, 'the same renew token, the minting key, within grace: '
               . outcome($again);
    push @out, 'the same successor: '
               . (($again->{json}{token} // '') eq ($r1->{json}{token} // '-')
                  ? 'yes' : 'no');

    my $check = http('GET', '/check',
                     { 'X-Session-Token' => $r1->{json}{token} });
    push @out, 'the successor verifies: ' . $check->{status};

    my $next = grace_api('/refresh', 'a',
                         { renew_token => $r1->{json}{renew_token} });
    push @out, "the successor's renew token: " . outcome($next)
               . ", route $next->{json}{route}";

    return join "\n", @out, '';
}

block_defaults(
    http_config  => $HTTP,
    user_files   => [['mc.api-keys', $KEY_FILE], ['refs.txt', $REFS]],
    more_headers => auth('a'),
    no_error_log => "[error]\n",
);

run_tests();

Test::More::done_testing();

__DATA__

=== TEST 1: if=: the first line of a path whose condition holds answers; the default of a field counts; no line holds: no member
--- config eval
$::CHOICES
--- pipelined_requests eval
["POST /mint\n{\"sub\":\"u\"}",
 "POST /mint\n{\"sub\":\"u\",\"opts\":{\"mode\":\"b\"}}",
 "POST /mint\n{\"sub\":\"u\",\"opts\":{\"mode\":\"c\",\"level\":3}}",
 "POST /mint\n{\"sub\":\"u\",\"opts\":{\"level\":4,\"beta\":true}}",
 "POST /mint\n{\"sub\":\"u\",\"opts\":{\"beta\":false}}"]
--- error_code eval
[201, 201, 201, 201, 201]
--- response_body_filters eval
\&::summary
--- response_body eval
["{\"route\":\"/default\",\"plan\":{\"name\":\"basic\"},\"echo\":\"none\"}\n",
 "{\"route\":\"/b/<jti>\",\"plan\":{\"name\":\"basic\"},\"echo\":\"none\"}\n",
 "{\"route\":\"/c\",\"level\":\"high\",\"plan\":{\"name\":\"basic\"},\"echo\":\"none\"}\n",
 "{\"route\":\"/default\",\"beta\":\"on\",\"plan\":{\"name\":\"basic\"},\"echo\":4}\n",
 "{\"route\":\"/default\",\"beta\":\"off\",\"plan\":{\"name\":\"basic\"},\"echo\":\"none\"}\n"]



=== TEST 2: if_claim=: a claim of the token minted (here one of embed_session_mint_claim)
--- config eval
$::CHOICES
--- more_headers eval
::auth('a') . "\nX-Tier: 1"
--- request
POST /mint
{"sub":"u"}
--- error_code: 201
--- response_body_filters eval
\&::summary
--- response_body
{"route":"/default","plan":{"name":"gold"},"echo":"none"}



=== TEST 3: if=: a value that only looks alike does not hold (case, type)
--- config eval
$::CHOICES
--- pipelined_requests eval
["POST /mint\n{\"sub\":\"u\",\"opts\":{\"beta\":true,\"level\":30}}",
 "POST /mint\n{\"sub\":\"u\",\"opts\":{\"level\":-3}}"]
--- error_code eval
[201, 201]
--- response_body_filters eval
\&::summary
--- response_body eval
["{\"route\":\"/default\",\"beta\":\"on\",\"plan\":{\"name\":\"basic\"},\"echo\":30}\n",
 "{\"route\":\"/default\",\"plan\":{\"name\":\"basic\"},\"echo\":\"none\"}\n"]



=== TEST 4: nginx -t: if= naming a field that is not declared
--- config
    location = /mint {
        embed_session_api_key  mc_keys;
        embed_session_keys     $TEST_NGINX_ES_DATA/keys/ed25519.jwks;
        embed_session_mint     on;
        embed_session_mint_origins  off;
        embed_session_field  scope       object;
        embed_session_field  scope.mode  string;
        embed_session_mint_output  url  "value=/form"  if=scope.mood:fill;
        embed_session_mint_output  url  "value=/builder";
        embed_session_mint_output  token  token;
    }
--- must_die
--- error_log
"embed_session_mint_output url ... if=scope.mood:fill": "scope.mood" is not a field declared with "embed_session_field" in this location



=== TEST 5: nginx -t: if= in a refresh location, which has no request fields
--- config
    embed_session_keys   $TEST_NGINX_ES_DATA/keys/ed25519.jwks;
    embed_session_store  mc_sessions;
    location = /refresh {
        embed_session_refresh  renew  body=renew_token;
        embed_session_mint_output  url  "value=/form"  if=mode:fill;
        embed_session_mint_output  token  token;
    }
--- must_die
--- error_log
"embed_session_mint_output url ... if=mode:fill": a refresh or an exchange has no request fields of its own: use if_claim=CLAIM:VALUE



=== TEST 6: nginx -t: a line of the same path after one without a condition
--- config
    location = /mint {
        embed_session_api_key  mc_keys;
        embed_session_keys     $TEST_NGINX_ES_DATA/keys/ed25519.jwks;
        embed_session_mint     on;
        embed_session_mint_origins  off;
        embed_session_field  mode  string;
        embed_session_mint_output  url  "value=/builder";
        embed_session_mint_output  url  "value=/form"  if=mode:fill;
        embed_session_mint_output  token  token;
    }
--- must_die
--- error_log
"embed_session_mint_output url" is given again after a line without if= or if_claim=, which always answers



=== TEST 7: nginx -t: a condition that is not PATH:VALUE, or on an object field
--- config
    location = /mint {
        embed_session_api_key  mc_keys;
        embed_session_keys     $TEST_NGINX_ES_DATA/keys/ed25519.jwks;
        embed_session_mint     on;
        embed_session_mint_origins  off;
        embed_session_field  mode  string;
        embed_session_mint_output  url  "value=/form"  when=mode:fill;
        embed_session_mint_output  token  token;
    }
--- must_die
--- error_log
invalid condition "when=mode:fill": if=FIELD:VALUE (a request field) or if_claim=CLAIM:VALUE (a claim of the token)



=== TEST 8: nginx -t: a condition on an object field
--- config
    location = /mint {
        embed_session_api_key  mc_keys;
        embed_session_keys     $TEST_NGINX_ES_DATA/keys/ed25519.jwks;
        embed_session_mint     on;
        embed_session_mint_origins  off;
        embed_session_field  opts  object;
        embed_session_mint_output  url  "value=/form"  if=opts:x;
        embed_session_mint_output  token  token;
    }
--- must_die
--- error_log
field "opts" is of type "object": a condition compares a string, an integer or a boolean



=== TEST 9: known values: inline, from a file per tenant, inline per tenant; each unknown one with its own status, code and message
--- config eval
$::KNOWN
--- pipelined_requests eval
["POST /known\n{\"sub\":\"u\",\"ref\":{\"name\":\"alpha\"},\"color\":\"dark blue\",\"shape\":\"square\"}",
 "POST /known\n{\"sub\":\"u\",\"ref\":{\"name\":\"beta gamma\"}}",
 "POST /known\n{\"sub\":\"u\",\"ref\":{\"name\":\"alpha\"},\"color\":\"blue\"}",
 "POST /known\n{\"sub\":\"u\",\"ref\":{\"name\":\"delta\"}}",
 "POST /known\n{\"sub\":\"u\",\"ref\":{\"name\":\"Alpha\"}}",
 "POST /known\n{\"sub\":\"u\",\"ref\":{\"name\":\"alpha\"},\"shape\":\"circle\"}",
 "POST /known\n{\"sub\":\"u\",\"ref\":{\"name\":\"delta\"},\"shape\":\"circle\"}",
 "POST /known\n{\"sub\":\"u\",\"ref\":{\"name\":\"alpha\"}}"]
--- more_headers eval
[(::auth('a')) x 6, ::auth('b'), ::auth('n')]
--- error_code eval
[201, 201, 422, 404, 404, 409, 201, 404]
--- response_body_filters eval
\&::summary
--- response_body eval
["{}\n", "{}\n",
 "code: unknown_color\n",
 "code: ref_not_found (No such ref)\n",
 "code: ref_not_found (No such ref)\n",
 "code: shape_unknown\n",
 "{}\n",
 "code: ref_not_found (No such ref)\n"]



=== TEST 10: known values: the schema's problems come first; an absent field is not checked
--- config eval
$::KNOWN
--- pipelined_requests eval
["POST /known\n{\"sub\":\"u\",\"ref\":{\"name\":\"nope\"},\"color\":5}",
 "POST /known\n{\"sub\":\"u\",\"ref\":{}}",
 "POST /known\n{\"sub\":\"u\"}"]
--- error_code eval
[400, 400, 201]
--- response_body_filters eval
\&::summary
--- response_body eval
["code: VALIDATION_FAILED (Validation error) details: color\n",
 "code: VALIDATION_FAILED (Validation error) details: ref.name\n",
 "{}\n"]



=== TEST 11: known values: a file's value with a control character, named by file and line
--- config eval
$::KNOWN
--- user_files eval
[['mc.api-keys', $::KEY_FILE], ['refs.txt', "t1 alpha\n\n# x\nt1 be\x01ta\n"]]
--- must_die
--- error_log eval
qr/\[emerg\].*refs\.txt:4: a value must be valid UTF-8 without control characters/



=== TEST 12: known values: a file's value that is not UTF-8
--- config eval
$::KNOWN
--- user_files eval
[['mc.api-keys', $::KEY_FILE], ['refs.txt', "t1 alpha\nt1 \xc3\x28\n"]]
--- must_die
--- error_log eval
qr/\[emerg\].*refs\.txt:2: a value must be valid UTF-8 without control characters/



=== TEST 13: known values: a file with no values, a missing file
--- config eval
$::KNOWN
--- user_files eval
[['mc.api-keys', $::KEY_FILE], ['refs.txt', "# nothing yet\n\n"]]
--- must_die
--- error_log eval
qr/\[emerg\].*refs\.txt" lists no values/



=== TEST 14: known values: a missing file
--- config eval
(my $c = $::KNOWN) =~ s/refs\.txt/no-such-refs.txt/;
$c
--- must_die
--- error_log eval
qr/\[emerg\].*no-such-refs\.txt/



=== TEST 15: known values: the field must be declared before, and a string
--- config
    location = /known {
        embed_session_api_key  mc_keys;
        embed_session_keys     $TEST_NGINX_ES_DATA/keys/ed25519.jwks;
        embed_session_mint     on;
        embed_session_mint_origins  off;
        embed_session_field_known  color  values=red  422  unknown_color;
        embed_session_field  color  string;
        embed_session_mint_output  token  token;
    }
--- must_die
--- error_log
field "color" is not declared before



=== TEST 16: known values: not a string field
--- config
    location = /known {
        embed_session_api_key  mc_keys;
        embed_session_keys     $TEST_NGINX_ES_DATA/keys/ed25519.jwks;
        embed_session_mint     on;
        embed_session_mint_origins  off;
        embed_session_field  count  integer;
        embed_session_field_known  count  values=1|2  422  unknown_count;
        embed_session_mint_output  token  token;
    }
--- must_die
--- error_log
field "count" is not of type "string": known values are strings



=== TEST 17: known values: a value listed twice inline; OWNER:VALUE with per=; status and code
--- config
    location = /known {
        embed_session_api_key  mc_keys;
        embed_session_keys     $TEST_NGINX_ES_DATA/keys/ed25519.jwks;
        embed_session_mint     on;
        embed_session_mint_origins  off;
        embed_session_field  color  string;
        embed_session_field_known  color  values=red|blue|red  422  unknown;
        embed_session_mint_output  token  token;
    }
--- must_die
--- error_log
"red" is listed twice



=== TEST 18: known values: per= with an inline value that is not OWNER:VALUE
--- config
    location = /known {
        embed_session_api_key  mc_keys;
        embed_session_keys     $TEST_NGINX_ES_DATA/keys/ed25519.jwks;
        embed_session_mint     on;
        embed_session_mint_origins  off;
        embed_session_field  color  string;
        embed_session_field_known  color  values=t1:red|blue
                                   per=$embed_session_api_key_tenant
                                   422  unknown;
        embed_session_mint_output  token  token;
    }
--- must_die
--- error_log
invalid value "blue": with per=, each is OWNER:VALUE



=== TEST 19: known values: a code with a space
--- config
    location = /known {
        embed_session_api_key  mc_keys;
        embed_session_keys     $TEST_NGINX_ES_DATA/keys/ed25519.jwks;
        embed_session_mint     on;
        embed_session_mint_origins  off;
        embed_session_field  color  string;
        embed_session_field  shape  string;
        embed_session_field_known  shape  values=x  422  "bad code";
        embed_session_field_known  color  values=red  302  unknown;
        embed_session_mint_output  token  token;
    }
--- must_die
--- error_log
invalid code "bad code": 1 to 64 letters, digits, "_", ".", "-"



=== TEST 20: a grace window answers only the API key that minted the session: another key gets 404 and no successor, and the session is not revoked for it; the route follows the token's mode claim
--- config eval
$::GRACE
--- request
POST /mint
{"sub":"u1","mode":"fill"}
--- error_code: 201
--- response_body_filters eval
\&::check_grace
--- response_body
refresh, the minting key: 200 ok, a token, route form
the same renew token, another key, within grace: 404 SESSION_NOT_FOUND, no token
the body holds a token: no
the same renew token, the minting key, within grace: 200 ok, a token
the same successor: yes
the successor verifies: 200
the successor's renew token: 200 ok, a token, route form
