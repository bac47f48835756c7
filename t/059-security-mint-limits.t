# vim:set ft= ts=4 sw=4 et fdm=marker:

# The mint never issues a token that its own verifier refuses (review,
# suspected: a "strings" field of 1,000 items got 201 and a token every
# verify location answered with 401).  Rule 11 caps what the verifier
# parses: claims at most 16 levels deep and 256 members and items in all,
# a token of at most 8 KiB; rule 12 wants "sub" a string.  The mint body
# has caps of its own (16 levels, 1,024 members), so the mint checks the
# claims it would sign against the verifier's:
#
#   at mint time       claims too large or too deep: 400 VALIDATION_FAILED
#                      with a detail, nothing minted; a one-time ticket
#                      whose token (its claims with iat and exp) would be
#                      over 8 KiB: 413 BODY_TOO_LARGE at the mint, not at
#                      the exchange, where the ticket would be spent
#   at nginx -t        a field whose max= items cannot fit, a claim path
#                      too deep, a "sub" that is not a string
#
# Each limit is tested at its boundary: the largest token that may be
# minted is minted and verifies, one more member or level is refused.

use FindBin;
use lib "$FindBin::Bin/lib";
use EmbedSessionTest;
use EmbedSessionMint;

use JSON::PP ();

repeat_each(1);
no_shuffle();

our $JSON = JSON::PP->new->canonical->allow_nonref;
our $ORIGIN = 'https://app.example.com';
our $KEY = 'ml_Acme0001VazhQ6Hehob7V1krgHXcd3YHP197FbSC';

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

our $HTTP = <<"_EOC_";
    embed_session_api_keys    zone=ml_keys:1m
                              file=$ENV{TEST_NGINX_HTML_DIR}/ml.keys;
    embed_session_store_zone  zone=ml_sessions:1m;
_EOC_

our $FIELDS = <<'_EOC_';
        embed_session_field  user            string   required claim=sub;
        embed_session_field  allowedOrigins  origins  required;
        embed_session_field  tags            strings  claim=tags;
        embed_session_field  meta            object   claim=x.y.meta;
        embed_session_field  note            string   claim=note;
        embed_session_mint_body_max  64k;
_EOC_

# the claims of a token minted at /mint: iat, exp, jti, origins (1 item),
# sub, then tags, meta and note as sent

our $SERVER = <<"_EOC_";
    embed_session_keys  \$TEST_NGINX_ES_DATA/keys/hs256.jwks;

    location = /mint {
        embed_session_api_key  ml_keys;
        embed_session_mint     on;
$FIELDS
        embed_session_mint_output  token  token;
    }

    location = /generate {
        embed_session_api_key  ml_keys;
        embed_session_store    ml_sessions;
        embed_session_mint     on;
$FIELDS
        embed_session_mint_exchange  5m;
        embed_session_mint_output    sessionId  session_id;
    }

    location = /exchange {
        embed_session_store        ml_sessions;
        embed_session_exchange;
        embed_session_mint_output  token  token;
    }

    location = /verify {
        embed_session_verify  on;
        proxy_pass  http://127.0.0.1:\$TEST_NGINX_SERVER_PORT/ok;
    }

    location = /ok {
        return 200 "ok";
    }
_EOC_


sub post {
    my ($path, $body) = @_;

    return http('POST', $path,
                { 'Content-Type' => 'application/json',
                  Authorization => "Bearer $KEY" },
                $JSON->encode($body));
}

sub st {
    my ($res) = @_;
    my $code = ref $res->{json} eq 'HASH' ? $res->{json}{code} : undef;
    return $res->{status}
           . ($res->{status} >= 400 && defined $code ? " $code" : '');
}

sub body {
    return { user => 'u-1', allowedOrigins => [$ORIGIN], @_ };
}

# {"a":{"a":...1}}: n objects, the innermost holding a number

sub nest {
    my ($n) = @_;
    return $n ? { a => nest($n - 1) } : 1;
}

# a mint: its status, and what /verify says of its token

sub mint {
    my ($what, %b) = @_;

    my $res = post('/mint', body(%b));
    my $out = "$what: " . st($res);

    if ($res->{status} == 201) {
        $out .= ', at /verify: '
            . verify_at($res->{json}{token} // '', origin => $ORIGIN);

    } elsif (ref $res->{json} eq 'HASH' && $res->{json}{details}) {
        my $d = $res->{json}{details};
        $out .= ', ' . join '; ', map { "\"$_->{path}\" $_->{message}" } @$d;
    }

    return $out;
}

sub ticket {
    my ($what, %b) = @_;

    my $res = post('/generate', body(%b));
    my $out = "$what: generate " . st($res);

    return $out unless $res->{status} == 201;  # the mint status default

    my $id = $res->{json}{sessionId} // '';
    my $x = post('/exchange', { sessionId => $id });
    $out .= ', exchange ' . st($x);
    $out .= ', at /verify: '
        . verify_at($x->{json}{token} // '', origin => $ORIGIN)
        if $x->{status} == 200;

    return $out;
}

sub flow {
    my ($code) = @_;

    return sub {
        my @out = eval { $code->() };
        push @out, "died: $@" if $@;
        return join '', map { "$_\n" } @out;
    };
}

add_block_preprocessor(sub {
    my $block = shift;

    $block->set_value('suppress_stderr', 1) if defined $block->must_die;

    $block->set_value('request', "GET /ok\n")
        unless defined $block->request || defined $block->must_die;
});

block_defaults(
    http_config  => $HTTP,
    config       => $SERVER,
    user_files   => [['ml.keys', 'acme key=' . stored($KEY)
                                 . " scope=customer tenant=acme\n"]],
    no_error_log => "[error]\n[alert]\n",
);

run_tests();

Test::More::done_testing();

__DATA__

=== TEST 1: rule 11: members: 256 in the claims mint a token that verifies, 257 are refused at the mint with VALIDATION_FAILED, and 1,000 items (the review's case) too
--- response_body_filters eval
::flow(sub {
    my @t = map { "t$_" } 1 .. 1000;
    return (::mint('249 tags (256 in all)', tags => [@t[0 .. 248]]),
            ::mint('250 tags (257 in all)', tags => [@t[0 .. 249]]),
            ::mint('1000 tags', tags => \@t));
})
--- response_body
249 tags (256 in all): 201, at /verify: 200 ok
250 tags (257 in all): 400 VALIDATION_FAILED, "" the token's claims would nest deeper than 16 levels or hold more than 256 members and items in all, which the verifier refuses
1000 tags: 400 VALIDATION_FAILED, "" the token's claims would nest deeper than 16 levels or hold more than 256 members and items in all, which the verifier refuses
--- error_log
embed_session mint: the claims would be deeper or larger than a token may carry



=== TEST 2: rule 11: depth: an object the body may hold but whose claim path puts it below 16 levels is refused at the mint; at 16 levels it mints and verifies
--- response_body_filters eval
::flow(sub {
    return (::mint('12 levels in meta (16 in the claims)', meta => ::nest(12)),
            ::mint('13 levels in meta (17 in the claims)', meta => ::nest(13)),
            ::mint('14 levels in meta (the body\'s most)', meta => ::nest(14)),
            ::mint('15 levels in meta (over the body\'s)', meta => ::nest(15)));
})
--- response_body
12 levels in meta (16 in the claims): 201, at /verify: 200 ok
13 levels in meta (17 in the claims): 400 VALIDATION_FAILED, "" the token's claims would nest deeper than 16 levels or hold more than 256 members and items in all, which the verifier refuses
14 levels in meta (the body's most): 400 VALIDATION_FAILED, "" the token's claims would nest deeper than 16 levels or hold more than 256 members and items in all, which the verifier refuses
15 levels in meta (over the body's): 400 INVALID_JSON



=== TEST 3: rule 11: a one-time ticket takes the members of iat and exp into account: 254 in its claims (256 once exchanged) pass, 255 are refused at the mint
--- response_body_filters eval
::flow(sub {
    my @t = map { "t$_" } 1 .. 300;
    return (::ticket('248 tags', tags => [@t[0 .. 247]]),
            ::ticket('249 tags', tags => [@t[0 .. 248]]));
})
--- response_body
248 tags: generate 201, exchange 200, at /verify: 200 ok
249 tags: generate 400 VALIDATION_FAILED



=== TEST 4: rule 11: a ticket whose token would be over 8 KiB is refused at the mint (413), not spent at the exchange; a smaller one exchanges
--- response_body_filters eval
::flow(sub {
    return (::ticket('a note of 5,000 characters', note => 'n' x 5000),
            ::ticket('a note of 6,000 characters', note => 'n' x 6000),
            ::ticket('a note of 7,000 characters', note => 'n' x 7000));
})
--- response_body
a note of 5,000 characters: generate 201, exchange 200, at /verify: 200 ok
a note of 6,000 characters: generate 413 BODY_TOO_LARGE
a note of 7,000 characters: generate 413 BODY_TOO_LARGE
--- error_log
the ticket's token would take



=== TEST 5: rule 11: a strings field whose max= items cannot fit in a token's claims fails nginx -t
--- config
    embed_session_keys  $TEST_NGINX_ES_DATA/keys/hs256.jwks;

    location = /mint {
        embed_session_api_key  ml_keys;
        embed_session_mint     on;
        embed_session_field  allowedOrigins  origins  required;
        embed_session_field  tags  strings  max=1000  claim=tags;
        embed_session_mint_output  token  token;
    }
--- must_die
--- error_log
field "tags": max=1000 items in the claim "tags", with the claims the module writes, make at least 1006 members and items, more than the 256 the verifier accepts



=== TEST 6: rule 11: the largest max= that can fit passes nginx -t, one more fails
--- config
    embed_session_keys  $TEST_NGINX_ES_DATA/keys/hs256.jwks;

    location = /mint {
        embed_session_api_key  ml_keys;
        embed_session_mint     on;
        embed_session_field  allowedOrigins  origins  required;
        embed_session_field  tags  strings  max=250  claim=tags;
        embed_session_field  more  array    max=251  claim=more;
        embed_session_mint_output  token  token;
    }
--- must_die
--- error_log
field "more": max=251 items in the claim "more", with the claims the module writes, make at least 257 members and items
--- no_error_log
field "tags"



=== TEST 7: rule 11: a claim path too deep for the verifier fails nginx -t (a field and an embed_session_mint_claim line)
--- config
    embed_session_keys  $TEST_NGINX_ES_DATA/keys/hs256.jwks;

    location = /mint {
        embed_session_api_key  ml_keys;
        embed_session_mint     on;
        embed_session_field  allowedOrigins  origins  required;
        embed_session_field  tags  strings  claim=a.b.c.d.e.f.g.h.i.j.k.l.m.n.o;
        embed_session_mint_output  token  token;
    }
--- must_die
--- error_log
field "tags": the claim "a.b.c.d.e.f.g.h.i.j.k.l.m.n.o" nests 17 levels deep, more than the 16 the verifier accepts



=== TEST 8: rule 11: a mint claim line too deep fails nginx -t; a string at depth 16 is fine
--- config
    embed_session_keys  $TEST_NGINX_ES_DATA/keys/hs256.jwks;

    location = /mint {
        embed_session_api_key  ml_keys;
        embed_session_mint     on;
        embed_session_field  allowedOrigins  origins  required;
        embed_session_field  deep  string  claim=a.b.c.d.e.f.g.h.i.j.k.l.m.n.o;
        embed_session_mint_claim  p.b.c.d.e.f.g.h.i.j.k.l.m.n.o.q  x;
        embed_session_mint_output  token  token;
    }
--- must_die
--- error_log
"embed_session_mint_claim p.b.c.d.e.f.g.h.i.j.k.l.m.n.o.q": the claim "p.b.c.d.e.f.g.h.i.j.k.l.m.n.o.q" nests 17 levels deep
--- no_error_log
field "deep"



=== TEST 9: rule 12: a field that makes "sub" anything but a string fails nginx -t
--- config
    embed_session_keys  $TEST_NGINX_ES_DATA/keys/hs256.jwks;

    location = /mint {
        embed_session_api_key  ml_keys;
        embed_session_mint     on;
        embed_session_field  allowedOrigins  origins  required;
        embed_session_field  user  integer  required claim=sub;
        embed_session_mint_output  token  token;
    }
--- must_die
--- error_log
field "user": the claim "sub" is not a string, and the verifier refuses a token whose "sub" is not



=== TEST 10: rule 12: an embed_session_mint_claim below "sub" fails nginx -t
--- config
    embed_session_keys  $TEST_NGINX_ES_DATA/keys/hs256.jwks;

    location = /mint {
        embed_session_api_key  ml_keys;
        embed_session_mint     on;
        embed_session_field  allowedOrigins  origins  required;
        embed_session_mint_claim  sub.id  $embed_session_api_key_id;
        embed_session_mint_output  token  token;
    }
--- must_die
--- error_log
"embed_session_mint_claim sub.id": the claim "sub.id" is not a string
