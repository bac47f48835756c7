# The session store across "nginx -s reload", run as Test::Nginx runs a
# file with TEST_NGINX_USE_HUP: one nginx for the whole file, each block's
# configuration loaded with SIGHUP.  Block 1 makes the state (a revoked
# session, a session refreshed with grace=0, a live one, a pending ticket);
# block 2 reloads with the same zone size (nginx reuses the zone), block 3
# with another size (the new zone copies the old one).  No state file: the
# zone alone must carry everything.

use FindBin;
use lib "$FindBin::Bin/lib";
use EmbedSessionTest;
use EmbedSessionMint;

use JSON::PP ();

use_hup();
repeat_each(1);
no_shuffle();

our $KEY = 'rl_Reload01VazhQ6Hehob7V1krgHXcd3YHP197FbSC';
our $KEY_FILE = 'acme key=' . stored($KEY) . " scope=customer\n";
our $ORIGIN = 'https://app.example.com';

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

sub http_config {
    my ($size) = @_;

    return <<"_EOC_";
    embed_session_api_keys    zone=rl_keys:1m
                              file=$ENV{TEST_NGINX_HTML_DIR}/reload.keys;
    embed_session_store_zone  zone=rl_sessions:$size;
_EOC_
}

our $SERVER = <<'_EOC_';
    embed_session_keys   $TEST_NGINX_ES_DATA/keys/hs256.jwks;
    embed_session_store  rl_sessions;

    location = /mint {
        embed_session_api_key       rl_keys;
        embed_session_mint          on;
        embed_session_field         user  string required claim=sub;
        embed_session_mint_origins  request;
        embed_session_mint_ttl      300;
        embed_session_mint_output   token        token;
        embed_session_mint_output   renew_token  renew_token;
        embed_session_mint_output   session_id   session_id;
    }

    location = /generate {
        embed_session_api_key        rl_keys;
        embed_session_mint           on;
        embed_session_field          user  string required claim=sub;
        embed_session_mint_origins   request;
        embed_session_mint_exchange  5m;
        embed_session_mint_output    sessionId  session_id;
    }

    location = /refresh {
        embed_session_api_key  rl_keys;
        embed_session_origin   off;
        embed_session_refresh  renew body=renew_token grace=0;
        embed_session_mint_output  token        token;
        embed_session_mint_output  renew_token  renew_token;
    }

    location = /revoke {
        embed_session_api_key  rl_keys;
        embed_session_revoke;
    }

    location = /exchange {
        embed_session_exchange;
        embed_session_mint_output  token  token;
    }

    location = /verify {
        embed_session_verify  on;
        try_files  /nonexistent  @ok;
    }

    location @ok {
        return 200 "ok\n";
    }

    location = /status {
        embed_session_status;
    }
_EOC_

# what block 1 made, for the blocks after the reloads
our %S;

sub post {
    my ($path, $body, $key) = @_;

    return http('POST', $path,
                { 'Content-Type' => 'application/json', Origin => $ORIGIN,
                  $key ? (Authorization => "Bearer $KEY") : () },
                JSON::PP->new->encode($body));
}

sub code {
    my ($res) = @_;
    my $c = ref $res->{json} eq 'HASH' ? $res->{json}{code} : undef;
    return $res->{status} . (defined $c ? " $c" : '');
}

sub at {
    my ($token) = @_;
    return code(http('GET', '/verify',
                     { 'X-Session-Token' => $token, Origin => $ORIGIN }));
}

sub master_pid {
    open my $fh, '<', $Test::Nginx::Util::PidFile
        or return 'no pid file';
    my $pid = <$fh>;
    chomp $pid;
    return $pid;
}

sub status {
    my %m;
    for (split /\n/, http('GET', '/status')->{content} // '') {
        $m{$1} = $2 if /^(embed_session_\S+) (\d+)$/;
    }
    return \%m;
}

# block 1: the state

sub make_state {
    my ($first) = @_;
    my @o;

    my $a = post('/mint', { user => 'a' }, 1)->{json};
    push @o, 'revoke a: ' . code(post('/revoke',
                                      { session_id => $a->{session_id} }, 1));

    my $b = post('/mint', { user => 'b' }, 1)->{json};
    my $r = post('/refresh', { renew_token => $b->{renew_token} }, 1);
    push @o, 'refresh b: ' . code($r);

    $S{a} = $a->{token};
    $S{b0} = $b->{token};
    $S{b_renew0} = $b->{renew_token};
    $S{b1} = $r->{json}{token};
    $S{c} = $first->{token};
    $S{ticket} = post('/generate', { user => 't' }, 1)->{json}{sessionId};
    $S{pid} = master_pid();

    push @o, 'ticket: ' . ($S{ticket} =~ /^[0-9a-f-]{36}\z/ ? 'yes' : 'no');
    push @o, "a: " . at($S{a});
    push @o, "b before its refresh: " . at($S{b0});
    push @o, "b after: " . at($S{b1});
    push @o, "c: " . at($S{c});

    return @o;
}

# blocks 2 and 3: the state after a reload

sub check_state {
    my @o;
    my $s = status();

    my $pid = master_pid();
    push @o, 'the same master: '
        . ($pid =~ /^\d+\z/ && $pid eq $S{pid} ? 'yes' : "no ($pid, $S{pid})");
    my $bytes = ($s->{'embed_session_store_bytes_used{zone="rl_sessions"}'} // 0)
                + ($s->{'embed_session_store_bytes_free{zone="rl_sessions"}'} // 0);

    # the pages of the zone, less the slab pool's own: within 64 KiB
    push @o, 'zone MiB: ' . int(($bytes + 65536) / 1048576);
    push @o, 'invariant: '
        . ($s->{'embed_session_store_invariant_ok{zone="rl_sessions"}'} // '-');
    push @o, "a (revoked): " . at($S{a});
    push @o, "b's replaced token: " . at($S{b0});
    push @o, "b's current token: " . at($S{b1});
    push @o, "c: " . at($S{c});

    return @o;
}

sub flow {
    my ($code) = @_;

    return sub {
        my ($body) = @_;
        my $r = eval { JSON::PP->new->decode($body) } // {};
        my @out = eval { $code->($r) };
        push @out, "died: $@" if $@;
        return join '', map { "$_\n" } @out;
    };
}

add_block_preprocessor(sub {
    my $block = shift;

    $block->set_value('config', $SERVER) unless defined $block->config;
    $block->set_value('user_files', [['reload.keys', $KEY_FILE]])
        unless defined $block->user_files;
    $block->set_value('no_error_log', "[error]\n[alert]\n[crit]\n")
        unless defined $block->no_error_log;
});

run_tests();

Test::More::done_testing();

__DATA__

=== TEST 1: the state before the reloads: a revoked session, a refreshed one, a live one, a pending ticket
--- http_config eval
::http_config('1m')
--- request
POST /mint
{"user":"c"}
--- more_headers eval
"Authorization: Bearer $::KEY\nContent-Type: application/json\nOrigin: $::ORIGIN"
--- error_code: 201
--- response_body_filters eval
::flow(\&::make_state)
--- response_body
revoke a: 200
refresh b: 200
ticket: yes
a: 401 SESSION_REVOKED
b before its refresh: 401 SESSION_REVOKED
b after: 200
c: 200



=== TEST 2: reload, same zone size: the zone is reused; the replaced renew token is reuse and revokes b; the ticket exchanges once
--- http_config eval
::http_config('1m')
--- request
GET /status
--- response_body_filters eval
::flow(sub {
    my @o = ('the replaced renew token: '
             . ::code(::post('/refresh', { renew_token => $::S{b_renew0} }, 1)),
             ::check_state());
    push @o, 'exchange: ' . ::code(::post('/exchange', { sessionId => $::S{ticket} }));
    push @o, 'again: ' . ::code(::post('/exchange', { sessionId => $::S{ticket} }));
    @o;
})
--- response_body
the replaced renew token: 401 RENEW_TOKEN_REUSED
the same master: yes
zone MiB: 1
invariant: 1
a (revoked): 401 SESSION_REVOKED
b's replaced token: 401 SESSION_REVOKED
b's current token: 401 SESSION_REVOKED
c: 200
exchange: 200
again: 409 EXCHANGE_USED



=== TEST 3: reload with another zone size: a new zone, the old one's records copied in
--- http_config eval
::http_config('2m')
--- request
GET /status
--- response_body_filters eval
::flow(sub {
    my @o = ::check_state();
    push @o, 'ticket again: ' . ::code(::post('/exchange', { sessionId => $::S{ticket} }));
    @o;
})
--- response_body
the same master: yes
zone MiB: 2
invariant: 1
a (revoked): 401 SESSION_REVOKED
b's replaced token: 401 SESSION_REVOKED
b's current token: 401 SESSION_REVOKED
c: 200
ticket again: 409 EXCHANGE_USED
--- error_log
records carried over from the zone before the reload
