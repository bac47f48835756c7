# vim:set ft= ts=4 sw=4 et fdm=marker:

# API keys on Redis (embed_session_api_keys ... backend= nodes=
# backend_key=): a regenerate or a revoke made on one node is made on
# every node.  Two "nodes" in one nginx, against a real redis-server
# (t/lib/EmbedSessionRedis.pm's): API key zones a and b, each with its own
# key file (a.keys, b.keys: the same keys, t/lib/EmbedSessionLifecycle.pm's),
# share backend_key= on the same Redis the way two nginx would.  Locations
# /Z/api (the key checked in front of proxy_pass), /Z/regenerate,
# /Z/revoke, and, for sessions, a store zone sZ with /Z/mint and /Z/app (a
# verify location) for each node Z.  Each block's request is a status
# scrape; its flow (::flow) makes the requests while nginx runs and reads
# the key files and Redis back.
#
#   1  regenerate on A: the new key works on A and B, the old one is
#      refused on both; both files hold the new hash, not the old one; the
#      hash {es:KEY}:keys holds "G LOOKUP HASH"
#   2  revoke on B: refused on A and B; both files say status=revoked; a
#      session minted on A with the key is refused after
#   3  two regenerates with the same old credential, on A then on B: the
#      second is 401 API_KEY_INVALID, the first's key keeps working; and a
#      regenerate whose credential is no longer the last one on Redis (a
#      change in the hash this node has not read) is refused by the script
#   4  an admin key revokes another key on A: refused on B; a customer key
#      may not (403, nothing published)
#   5  Redis unreachable: regenerate and revoke 503 STORE_UNAVAILABLE with
#      Retry-After: 1, the key files unchanged, the old key still works
#   6  a node that starts after the change (TEST 1's backend_key, key files
#      with the old credential, the stream deleted so that only the hash
#      has it): the old credential refused, the files rewritten
#   7  entries written on the stream by hand: an ID the nodes do not have
#      (warn), a change this module did not write (error), an entry without
#      its fields (error); nothing changes, and a later regenerate still
#      reaches the other node
#   8  a key with an id credential regenerated on B: both new credentials
#      work on A, the old ones are refused; the hash holds "G LOOKUP HASH
#      ID_LOOKUP ID_HASH"
#   9  a node that starts after a revoke (TEST 2's backend_key): the key
#      refused there, its files say status=revoked
#  10  a running node whose stream position is lost (the stream replaced
#      and the connections killed, in one transaction, with a change put
#      in the hash only): the hash read in full again, the change made
#
# With one nginx, the session stores of both nodes are this nginx's: a
# revoke made on B ends the key's sessions in every store of the process
# at once, so TEST 2 shows that a session minted on A ends, not which of
# the two paths ended it (t/200's live blocks and t/301 cover the local
# one).
#
# Every block but TESTs 6 and 9 has a backend_key of its own (k1 ... k10),
# so that the changes of one block are not in the hash another starts
# with; TESTs 6 and 9 use TEST 1's and TEST 2's on purpose (TEST 6 the key
# TEST 1 made), so the blocks run in order.  The feed is asynchronous: where
# a change made on one node must reach the other, the flow asks again for up
# to 2 s.  That is a wait, not a timing assertion: what is asserted is the
# answer it ends with.  The node that makes a change may find it made already
# by its own feed (the entry read back before the request's worker made it):
# it is made once, by whichever comes first, so the "a change read from
# backend" line is only asserted for the other node.
#
# Run: prove -v t/540-redis-apikeys.t (with TEST_NGINX_BINARY and
# TEST_NGINX_ES_MODULE set, see t/README.md).

use FindBin;
use lib "$FindBin::Bin/lib";
use EmbedSessionTest;
use EmbedSessionMint;
use EmbedSessionLifecycle;
use EmbedSessionRedis qw(redis_start free_port redis_cmd);

use Digest::SHA qw(sha256_hex);
use IO::Socket::INET ();
use Time::HiRes ();

# a server, stateful flows: once each, in order
repeat_each(1);
no_shuffle();

# a master and two workers, as in production: the request that makes a
# change and the feed's reader (the first worker) are not always the same
# process, and the workers (user root under Test::Nginx as root) write
# the key files
my $WORKERS = 2;
master_on();
workers($WORKERS);

my $redis = redis_start();

$ENV{TEST_NGINX_REDIS_PORT} = $redis->{port};

# nobody listens there
$ENV{TEST_NGINX_REDIS_ABSENT} = free_port();

# how long a change made on one node may take to reach the other
my $FEED_WAIT = 2;

my $DIR = $ENV{TEST_NGINX_HTML_DIR};

# --- the configuration ----------------------------------------------------

# API key zones a and b on the Redis "main" (or "gone", where nobody
# listens), sharing backend_key=BK; store zones sa and sb

sub http_conf {
    my ($bk, $server) = @_;
    $server //= 'main';
    my $port = $server eq 'main' ? '$TEST_NGINX_REDIS_PORT'
                                 : '$TEST_NGINX_REDIS_ABSENT';

    return "    embed_session_redis  $server  server=127.0.0.1:$port;\n"
        . join('', map { <<"_EOC_" } qw(a b));
    embed_session_api_keys  zone=$_:1m file=$DIR/$_.keys
                            backend=$server nodes=2 backend_key=$bk;
    embed_session_store_zone  zone=s$_:1m;
_EOC_
}

sub node_conf {
    my ($z) = @_;

    return <<"_EOC_";
    location = /$z/api {
        embed_session_api_key  $z;
        embed_session_api_key_from  bearer id_header=x-api-key-id;
        proxy_set_header  X-Key-Id  \$embed_session_api_key_id;
        proxy_pass  http://127.0.0.1:\$TEST_NGINX_SERVER_PORT/backend;
    }

    location = /$z/regenerate {
        embed_session_api_key             $z;
        embed_session_api_key_regenerate  on;
    }

    location = /$z/revoke {
        embed_session_api_key         $z;
        embed_session_api_key_revoke  on;
    }

    location = /$z/mint {
        embed_session_store    s$z;
        embed_session_api_key  $z;
        embed_session_mint     on;
$FIELDS
        embed_session_mint_ttl  60 max=300;
$OUTPUTS
    }

    location = /$z/app {
        embed_session_store   s$z;
        embed_session_verify  on;
        proxy_pass  http://127.0.0.1:\$TEST_NGINX_SERVER_PORT/backend;
    }
_EOC_
}

our $SERVER_AB = <<"_EOC_" . node_conf('a') . node_conf('b');
    embed_session_keys      \$TEST_NGINX_ES_DATA/keys/hs256.jwks;
    embed_session_issuer    $ISS;
    embed_session_audience  $AUD;

    location = /backend {
        return 200 "ok \$http_x_key_id\\n";
    }

    location = /status {
        embed_session_status;
    }
_EOC_

# every block: both nodes' key files written afresh (the same keys), the
# two-node server (Test::Nginx runs the block preprocessors last
# registered first: these come before EmbedSessionLifecycle's)

block_defaults(
    config     => $SERVER_AB,
    user_files => [['a.keys', $KEY_FILE], ['b.keys', $KEY_FILE]],
);

# TEST 8: a key with an id credential (id_key=), in a key file of its own
# block

our %IDK = (key => 'lc_Idkey005' . ('k' x 32),
            id  => 'lcid_Idkey005' . ('i' x 32));

our $KEY_FILE_ID = $KEY_FILE . 'idk key=' . stored($IDK{key})
    . ' id_key=' . stored($IDK{id}) . " scope=customer tenant=idk\n";

# --- helpers --------------------------------------------------------------

# Redis is up for this nginx: embed_session_redis_up{server=...} 1 and a
# connection for each worker (10 s at most)

sub ready {
    my ($server) = @_;
    my $up = "embed_session_redis_up{server=\"$server\"}";
    my $connects = "embed_session_redis_connects_total{server=\"$server\"}";
    my $until = Time::HiRes::time() + 10;
    my $ok;

    for (;;) {
        my $m = metrics();
        $ok = ($m->{$up} // '') eq '1' && ($m->{$connects} // 0) >= $WORKERS;
        last if $ok || Time::HiRes::time() >= $until;
        Time::HiRes::sleep(0.05);
    }

    return "redis $server up: " . yn($ok);
}

sub bearer {
    my ($raw) = @_;
    return { Authorization => 'Bearer ' . ($raw // '') };
}

# a raw key at /Z/api: "200 ok ID" or "STATUS CODE"

sub api {
    my ($z, $raw) = @_;
    my $res = http('GET', "/$z/api", bearer($raw));
    return $res->{status} == 200 ? '200 ' . body_of($res) : st($res);
}

# the same once its answer is WANT, or the last answer after $FEED_WAIT

sub api_after {
    my ($z, $raw, $want) = @_;
    my $until = Time::HiRes::time() + $FEED_WAIT;
    my $got;

    for (;;) {
        $got = api($z, $raw);
        last if $got eq $want || Time::HiRes::time() >= $until;
        Time::HiRes::sleep(0.05);
    }

    return $got;
}

sub at_after {
    my ($token, $path, $want) = @_;
    my $until = Time::HiRes::time() + $FEED_WAIT;
    my $got;

    for (;;) {
        $got = at($token, $path);
        last if $got eq $want || Time::HiRes::time() >= $until;
        Time::HiRes::sleep(0.05);
    }

    return $got;
}

sub regenerate {
    my ($z, $raw) = @_;
    return http('POST', "/$z/regenerate", bearer($raw), '');
}

sub revoke_key {
    my ($z, $raw, $id) = @_;
    return http('POST', "/$z/revoke",
                { %{ bearer($raw) }, 'Content-Type' => 'application/json' },
                defined $id ? $JSON->encode({ id => $id }) : '');
}

# the new raw key of a regenerate's answer (undef unless it is one)

sub new_of {
    my ($res, $id) = @_;
    my $j = ref $res->{json} eq 'HASH' ? $res->{json} : {};
    return $res->{status} == 200 && same($j->{id}, $id)
           && ($j->{apiKey} // '') =~ /\Alc_[A-Za-z0-9]{40}\z/
           ? $j->{apiKey} : undef;
}

sub st_ra {
    my ($res) = @_;
    return st($res) . ', Retry-After: '
        . ($res->{headers}{'retry-after'} // '-');
}

sub key_file {
    my ($z) = @_;
    open my $fh, '<', "$DIR/$z.keys" or return '';
    local $/;
    return scalar <$fh>;
}

# a record's line in node Z's key file

sub line_of {
    my ($z, $id) = @_;
    return (key_file($z) =~ /^(\Q$id\E .*)$/m)[0] // '';
}

# does node Z's file hold RAW's hash on ID's line

sub holds {
    my ($z, $id, $raw) = @_;
    return yn(defined $raw && index(line_of($z, $id),
                                    'key=' . stored($raw) . ' ') >= 0);
}

# the same, once it does (or not: $want 'no'), or after $FEED_WAIT

sub holds_after {
    my ($z, $id, $raw, $want) = @_;
    my $until = Time::HiRes::time() + $FEED_WAIT;
    my $got;

    for (;;) {
        $got = holds($z, $id, $raw);
        last if $got eq ($want // 'yes') || Time::HiRes::time() >= $until;
        Time::HiRes::sleep(0.05);
    }

    return $got;
}

sub revoked_in {
    my ($z, $id) = @_;
    return yn(line_of($z, $id) =~ / status=revoked(?: |$)/);
}

sub revoked_after {
    my ($z, $id) = @_;
    my $until = Time::HiRes::time() + $FEED_WAIT;
    my $got;

    for (;;) {
        $got = revoked_in($z, $id);
        last if $got eq 'yes' || Time::HiRes::time() >= $until;
        Time::HiRes::sleep(0.05);
    }

    return $got;
}

# a key's last change on Redis, its hash written as HASH(raw name) when it
# is a raw key's we know

sub last_change {
    my ($bk, $id, %raw) = @_;
    my $c = redis_cmd($redis, 'HGET', "{es:$bk}:keys", $id) // 'none';

    for my $name (sort keys %raw) {
        my ($lookup, $hex) = split /:/, stored($raw{$name});
        $c =~ s/\Q$lookup $hex\E/LOOKUP($name) HASH($name)/g;
    }

    return $c;
}

# the new key of TEST 1, for TEST 6

our $NEW1;

# --- the flows ------------------------------------------------------------

sub flow_regenerate {
    my @o = (ready('main'));

    push @o, 'acme at /a/api: ' . api('a', $KEY{acme});
    push @o, 'acme at /b/api: ' . api('b', $KEY{acme});

    my $res = regenerate('a', $KEY{acme});
    my $new = new_of($res, 'acme');
    push @o, 'regenerate on /a: ' . st($res) . ', a new key: '
        . yn(defined $new && $new ne $KEY{acme});
    push @o, 'Cache-Control: ' . ($res->{headers}{'cache-control'} // '-');

    push @o, 'the new key at /a/api: ' . api('a', $new);
    push @o, 'the new key at /b/api (once the feed has it): '
        . api_after('b', $new, '200 ok acme');
    push @o, 'the old key at /a/api: ' . api('a', $KEY{acme});
    push @o, 'the old key at /b/api: ' . api('b', $KEY{acme});

    for my $z (qw(a b)) {
        push @o, "$z.keys holds the new hash: " . holds_after($z, 'acme', $new);
        push @o, "$z.keys holds the old hash: "
            . yn(index(key_file($z), sha256_hex($KEY{acme})) >= 0);
        push @o, "$z.keys, the other lines kept: "
            . yn(join("\n", grep { !/^acme / } split /\n/, key_file($z))
                 eq join("\n", grep { !/^acme / } split /\n/, $KEY_FILE));
    }

    push @o, 'its last change on Redis: '
        . last_change('k1', 'acme', new => $new);
    push @o, 'the stream {es:k1}:kfeed: '
        . (redis_cmd($redis, 'TYPE', '{es:k1}:kfeed') // '-');
    push @o, 'other keys unchanged: ' . api('b', $KEY{other});

    # for TEST 6, a node that starts later: the change on Redis only in
    # the hash
    $NEW1 = $new;
    redis_cmd($redis, 'DEL', '{es:k1}:kfeed');

    return @o;
}

sub flow_revoke {
    my @o = (ready('main'));

    my $m = mint_ok(path => '/a/mint');
    push @o, 'a session minted with acme on /a at /a/app: '
        . at($m->{token}, '/a/app');

    my $res = revoke_key('b', $KEY{acme});
    push @o, 'revoke on /b: ' . st($res) . ' ' . body_of($res);

    push @o, 'acme at /b/api: ' . api('b', $KEY{acme});
    push @o, 'acme at /a/api (once the feed has it): '
        . api_after('a', $KEY{acme}, '401 API_KEY_REVOKED');
    push @o, 'b.keys: acme status=revoked: ' . revoked_in('b', 'acme');
    push @o, 'a.keys: acme status=revoked: ' . revoked_after('a', 'acme');
    push @o, 'a.keys: acme still holds its hash: '
        . holds('a', 'acme', $KEY{acme});
    push @o, 'the session at /a/app: '
        . at_after($m->{token}, '/a/app', '401 SESSION_REVOKED');
    push @o, 'a mint with acme on /a: ' . st(mint_req(path => '/a/mint'));
    push @o, 'its last change on Redis: ' . last_change('k2', 'acme');
    push @o, 'other at /a/api: ' . api('a', $KEY{other});

    # a revoked key cannot be regenerated, anywhere
    push @o, 'regenerate acme on /a: ' . st(regenerate('a', $KEY{acme}));
    push @o, 'its last change on Redis still: ' . last_change('k2', 'acme');

    return @o;
}

sub flow_twice {
    my @o = (ready('main'));

    my $res = regenerate('a', $KEY{acme});
    my $new = new_of($res, 'acme');
    push @o, 'regenerate on /a: ' . st($res);

    # B refuses the old credential: by its zone when the feed was first,
    # else by the script (the credential is no longer the last one)
    $res = regenerate('b', $KEY{acme});
    push @o, 'the same old credential, regenerate on /b: ' . st($res);

    push @o, "the first's new key at /a/api: " . api('a', $new);
    push @o, "the first's new key at /b/api: "
        . api_after('b', $new, '200 ok acme');
    push @o, 'the old key at /b/api: ' . api('b', $KEY{acme});
    push @o, 'b.keys holds the new hash: ' . holds_after('b', 'acme', $new);
    push @o, 'its last change on Redis: '
        . last_change('k3', 'acme', new => $new);

    # the script's check alone: a change of "other" in the hash that this
    # node has not read (no stream entry), as if made by a node whose entry
    # is still on its way; a regenerate with other's credential, still
    # valid in this node's zone, is refused by the script, and nothing
    # changes
    my $elsewhere = new_key('lc_');
    my ($lookup, $hex) = split /:/, stored($elsewhere);
    redis_cmd($redis, 'HSET', '{es:k3}:keys', 'other', "G $lookup $hex");

    push @o, 'other at /b/api: ' . api('b', $KEY{other});
    $res = regenerate('b', $KEY{other});
    push @o, 'regenerate other on /b, the hash newer: ' . st($res);
    push @o, 'other still at /b/api: ' . api('b', $KEY{other});
    push @o, 'b.keys: other unchanged: '
        . yn(line_of('b', 'other') eq ($KEY_FILE =~ /^(other .*)$/m)[0]);
    push @o, "other's last change on Redis still the other node's: "
        . last_change('k3', 'other', elsewhere => $elsewhere);

    return @o;
}

sub flow_admin {
    my @o = (ready('main'));

    # a customer key may not revoke another: nothing published
    my $res = revoke_key('b', $KEY{acme}, 'doomed');
    push @o, 'acme revokes doomed on /b: ' . st($res);
    push @o, 'doomed on Redis: ' . last_change('k4', 'doomed');

    $res = revoke_key('a', $KEY{admin}, 'doomed');
    push @o, 'admin revokes doomed on /a: ' . st($res) . ' ' . body_of($res);
    push @o, 'doomed at /a/api: ' . api('a', $KEY{doomed});
    push @o, 'doomed at /b/api (once the feed has it): '
        . api_after('b', $KEY{doomed}, '401 API_KEY_REVOKED');
    push @o, 'a.keys: doomed status=revoked: ' . revoked_in('a', 'doomed');
    push @o, 'b.keys: doomed status=revoked: ' . revoked_after('b', 'doomed');
    push @o, 'doomed on Redis: ' . last_change('k4', 'doomed');
    push @o, 'admin at /b/api: ' . api('b', $KEY{admin});
    push @o, 'acme at /b/api: ' . api('b', $KEY{acme});
    push @o, 'b.keys: admin and acme not revoked: '
        . revoked_in('b', 'admin') . ' ' . revoked_in('b', 'acme');

    return @o;
}

sub flow_unreachable {
    my @o;

    push @o, 'regenerate on /a: ' . st_ra(regenerate('a', $KEY{acme}));
    push @o, 'revoke on /b: ' . st_ra(revoke_key('b', $KEY{acme}));
    push @o, 'admin revokes other on /a: '
        . st_ra(revoke_key('a', $KEY{admin}, 'other'));
    push @o, 'a.keys unchanged: ' . yn(key_file('a') eq $KEY_FILE);
    push @o, 'b.keys unchanged: ' . yn(key_file('b') eq $KEY_FILE);
    push @o, 'acme at /a/api: ' . api('a', $KEY{acme});
    push @o, 'acme at /b/api: ' . api('b', $KEY{acme});
    push @o, 'other at /a/api: ' . api('a', $KEY{other});
    push @o, 'a mint with acme on /b: ' . st(mint_req(path => '/b/mint'));

    return @o;
}

sub flow_late_start {
    my @o = (ready('main'));

    push @o, 'the stream {es:k1}:kfeed: '
        . (redis_cmd($redis, 'TYPE', '{es:k1}:kfeed') // '-');
    push @o, "acme's last change on Redis: "
        . last_change('k1', 'acme', new => $NEW1);
    push @o, 'the old key at /a/api (once the hash is read): '
        . api_after('a', $KEY{acme}, '401 API_KEY_INVALID');
    push @o, 'the old key at /b/api: '
        . api_after('b', $KEY{acme}, '401 API_KEY_INVALID');
    push @o, "TEST 1's new key at /a/api: " . api('a', $NEW1);
    push @o, "TEST 1's new key at /b/api: " . api('b', $NEW1);

    for my $z (qw(a b)) {
        push @o, "$z.keys rewritten, the new hash: "
            . holds_after($z, 'acme', $NEW1);
        push @o, "$z.keys holds the old hash: "
            . yn(index(key_file($z), sha256_hex($KEY{acme})) >= 0);
    }

    push @o, 'other at /a/api: ' . api('a', $KEY{other});

    return @o;
}

sub flow_garbage {
    my @o = (ready('main'));
    my $feed = '{es:k7}:kfeed';

    # the feed runs: a regenerate on A reaches B
    my $other = new_of(regenerate('a', $KEY{other}), 'other');
    push @o, 'regenerate other on /a, at /b/api: '
        . api_after('b', $other, '200 ok other');

    # entries no node wrote
    push @o, 'XADD i nosuchid c R: '
        . (redis_cmd($redis, 'XADD', $feed, '*', 'i', 'nosuchid', 'c', 'R')
           =~ /^\d+-\d+$/ ? 'added' : 'failed');
    push @o, 'XADD i doomed c XYZ: '
        . (redis_cmd($redis, 'XADD', $feed, '*', 'i', 'doomed', 'c', 'XYZ')
           =~ /^\d+-\d+$/ ? 'added' : 'failed');
    push @o, 'XADD i doomed c "G lc_x nothex": '
        . (redis_cmd($redis, 'XADD', $feed, '*', 'i', 'doomed',
                     'c', 'G lc_x nothex') =~ /^\d+-\d+$/
           ? 'added' : 'failed');
    push @o, 'XADD x y: '
        . (redis_cmd($redis, 'XADD', $feed, '*', 'x', 'y')
           =~ /^\d+-\d+$/ ? 'added' : 'failed');

    # a later regenerate still propagates (after the entries above: once
    # B has it, B has read them)
    my $res = regenerate('a', $KEY{acme});
    my $new = new_of($res, 'acme');
    push @o, 'regenerate acme on /a: ' . st($res);
    push @o, 'the new key at /b/api (once the feed has it): '
        . api_after('b', $new, '200 ok acme');
    push @o, 'the old key at /b/api: ' . api('b', $KEY{acme});

    # nothing else changed
    for my $z (qw(a b)) {
        push @o, "doomed at /$z/api: " . api($z, $KEY{doomed});
        push @o, "$z.keys: the doomed, admin lines unchanged: "
            . yn(line_of($z, 'doomed') eq ($KEY_FILE =~ /^(doomed .*)$/m)[0]
                 && line_of($z, 'admin') eq ($KEY_FILE =~ /^(admin .*)$/m)[0]);
        push @o, "$z.keys: no nosuchid: " . yn(key_file($z) !~ /nosuchid/);
        push @o, "$z.keys: other and acme regenerated: "
            . holds_after($z, 'other', $other) . ' '
            . holds_after($z, 'acme', $new);
    }

    push @o, 'nosuchid, doomed on Redis: ' . last_change('k7', 'nosuchid')
        . ', ' . last_change('k7', 'doomed');

    return @o;
}

sub api_id {
    my ($z, $raw) = @_;
    my $res = http('GET', "/$z/api", { 'X-Api-Key-Id' => $raw // '' });
    return $res->{status} == 200 ? '200 ' . body_of($res) : st($res);
}

sub api_id_after {
    my ($z, $raw, $want) = @_;
    my $until = Time::HiRes::time() + $FEED_WAIT;
    my $got;

    for (;;) {
        $got = api_id($z, $raw);
        last if $got eq $want || Time::HiRes::time() >= $until;
        Time::HiRes::sleep(0.05);
    }

    return $got;
}

sub flow_id_key {
    my @o = (ready('main'));

    push @o, 'idk by its id credential at /a/api: ' . api_id('a', $IDK{id});

    my $res = regenerate('b', $IDK{key});
    my $j = ref $res->{json} eq 'HASH' ? $res->{json} : {};
    my ($new, $new_id) = ($j->{apiKey}, $j->{apiKeyId});
    push @o, 'regenerate idk on /b: ' . st($res) . ', a new key and id: '
        . yn(($new // '') =~ /\Alc_[A-Za-z0-9]{40}\z/
             && ($new_id // '') =~ /\Alcid_[A-Za-z0-9]{40}\z/);

    push @o, 'the new key at /a/api (once the feed has it): '
        . api_after('a', $new, '200 ok idk');
    push @o, 'the new id credential at /a/api: ' . api_id('a', $new_id);
    push @o, 'the new id credential at /b/api: ' . api_id('b', $new_id);
    push @o, 'the old key at /a/api: ' . api('a', $IDK{key});
    push @o, 'the old id credential at /a/api: '
        . api_id_after('a', $IDK{id}, '401 API_KEY_INVALID');
    push @o, 'the old id credential at /b/api: ' . api_id('b', $IDK{id});

    for my $z (qw(a b)) {
        push @o, "$z.keys: the new key= and id_key=: "
            . holds_after($z, 'idk', $new) . ' '
            . yn(index(line_of($z, 'idk'), 'id_key=' . stored($new_id // ''))
                 >= 0);
    }

    push @o, 'its last change on Redis: '
        . last_change('k8', 'idk', new => $new, new_id => $new_id);

    return @o;
}

# a node that starts after a revoke (TEST 2's backend_key k2, "R" in the
# hash and its entry on the stream), its key files with the key active

sub flow_late_revoke {
    my @o = (ready('main'));

    push @o, "acme's last change on Redis: " . last_change('k2', 'acme');
    push @o, 'acme at /a/api (once the hash is read): '
        . api_after('a', $KEY{acme}, '401 API_KEY_REVOKED');
    push @o, 'acme at /b/api: '
        . api_after('b', $KEY{acme}, '401 API_KEY_REVOKED');
    push @o, 'a.keys: acme status=revoked: ' . revoked_after('a', 'acme');
    push @o, 'b.keys: acme status=revoked: ' . revoked_after('b', 'acme');
    push @o, 'other at /b/api: ' . api('b', $KEY{other});

    return @o;
}

# commands sent at once on one connection (a pipeline), their replies

sub redis_pipeline {
    my (@cmds) = @_;

    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                  PeerPort => $redis->{port}, Timeout => 5)
        or die "redis_pipeline: $!\n";

    my $req = '';

    for my $c (@cmds) {
        $req .= '*' . @$c . "\r\n";
        $req .= '$' . length($_) . "\r\n$_\r\n" for @$c;
    }

    print {$s} $req;

    my @r = map { EmbedSessionRedis::resp_read($s) } @cmds;
    close $s;
    return @r;
}

# a running node whose stream position is lost: in one transaction, a
# change put in the hash only, the stream deleted and one entry added
# (after the node's position), and the nodes' connections killed, so that
# the feed, once connected again, finds a stream that starts after its
# position and reads the hash in full

sub flow_lost {
    my @o = (ready('main'));
    my $bk = 'k10';

    my $other = new_of(regenerate('a', $KEY{other}), 'other');
    push @o, 'regenerate other on /a, at /b/api: '
        . api_after('b', $other, '200 ok other');

    my @r = redis_pipeline(
        ['MULTI'],
        ['HSET', "{es:$bk}:keys", 'acme', 'R'],
        ['DEL', "{es:$bk}:kfeed"],
        ['XADD', "{es:$bk}:kfeed", '*', 'i', 'nosuchid', 'c', 'R'],
        ['CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes'],
        ['EXEC']);
    push @o, 'the transaction: ' . (ref $r[-1] eq 'ARRAY'
                                    ? scalar(@{ $r[-1] }) . ' replies'
                                    : $r[-1] // '-');

    push @o, ready('main');
    push @o, 'acme at /a/api (once the hash is read again): '
        . api_after('a', $KEY{acme}, '401 API_KEY_REVOKED');
    push @o, 'acme at /b/api: '
        . api_after('b', $KEY{acme}, '401 API_KEY_REVOKED');
    push @o, 'a.keys: acme status=revoked: ' . revoked_after('a', 'acme');
    push @o, 'b.keys: acme status=revoked: ' . revoked_after('b', 'acme');
    push @o, 'other, regenerated before, at /a/api: ' . api('a', $other);

    return @o;
}

run_tests();

Test::More::done_testing();

__DATA__

=== TEST 1: regenerate on A: the new key works on A and B, the old one is refused on both, both key files hold the new hash only
--- http_config eval: ::http_conf('k1')
--- request
GET /status
--- response_body_filters eval
::flow(\&::flow_regenerate)
--- response_body
redis main up: yes
acme at /a/api: 200 ok acme
acme at /b/api: 200 ok acme
regenerate on /a: 200, a new key: yes
Cache-Control: no-store
the new key at /a/api: 200 ok acme
the new key at /b/api (once the feed has it): 200 ok acme
the old key at /a/api: 401 API_KEY_INVALID
the old key at /b/api: 401 API_KEY_INVALID
a.keys holds the new hash: yes
a.keys holds the old hash: no
a.keys, the other lines kept: yes
b.keys holds the new hash: yes
b.keys holds the old hash: no
b.keys, the other lines kept: yes
its last change on Redis: G LOOKUP(new) HASH(new)
the stream {es:k1}:kfeed: stream
other keys unchanged: 200 ok other
--- error_log
embed_session api keys "b": API key "acme" regenerated, a change read from backend "main"
--- no_error_log
[error]



=== TEST 2: revoke on B: refused on A and B, both files say status=revoked, a session minted on A before is refused after
--- http_config eval: ::http_conf('k2')
--- request
GET /status
--- response_body_filters eval
::flow(\&::flow_revoke)
--- response_body
redis main up: yes
a session minted with acme on /a at /a/app: 200
revoke on /b: 200 {"id":"acme","status":"revoked"}
acme at /b/api: 401 API_KEY_REVOKED
acme at /a/api (once the feed has it): 401 API_KEY_REVOKED
b.keys: acme status=revoked: yes
a.keys: acme status=revoked: yes
a.keys: acme still holds its hash: yes
the session at /a/app: 401 SESSION_REVOKED
a mint with acme on /a: 401 API_KEY_REVOKED
its last change on Redis: R
other at /a/api: 200 ok other
regenerate acme on /a: 401 API_KEY_REVOKED
its last change on Redis still: R
--- error_log
embed_session api keys "a": API key "acme" revoked, a change read from backend "main"
--- no_error_log
[error]



=== TEST 3: two regenerates with the same old credential, on A then on B: the second 401 API_KEY_INVALID, the first's key works on both; a hash newer than the node's zone refuses a regenerate
--- http_config eval: ::http_conf('k3')
--- request
GET /status
--- response_body_filters eval
::flow(\&::flow_twice)
--- response_body
redis main up: yes
regenerate on /a: 200
the same old credential, regenerate on /b: 401 API_KEY_INVALID
the first's new key at /a/api: 200 ok acme
the first's new key at /b/api: 200 ok acme
the old key at /b/api: 401 API_KEY_INVALID
b.keys holds the new hash: yes
its last change on Redis: G LOOKUP(new) HASH(new)
other at /b/api: 200 ok other
regenerate other on /b, the hash newer: 401 API_KEY_INVALID
other still at /b/api: 200 ok other
b.keys: other unchanged: yes
other's last change on Redis still the other node's: G LOOKUP(elsewhere) HASH(elsewhere)
--- error_log
changed meanwhile on another node, key
--- no_error_log
[error]



=== TEST 4: an admin key revokes another key on A: refused on B, both files say so; a customer key may not
--- http_config eval: ::http_conf('k4')
--- request
GET /status
--- response_body_filters eval
::flow(\&::flow_admin)
--- response_body
redis main up: yes
acme revokes doomed on /b: 403 SCOPE_NOT_GRANTED
doomed on Redis: none
admin revokes doomed on /a: 200 {"id":"doomed","status":"revoked"}
doomed at /a/api: 401 API_KEY_REVOKED
doomed at /b/api (once the feed has it): 401 API_KEY_REVOKED
a.keys: doomed status=revoked: yes
b.keys: doomed status=revoked: yes
doomed on Redis: R
admin at /b/api: 200 ok admin
acme at /b/api: 200 ok acme
b.keys: admin and acme not revoked: no no
--- error_log
embed_session api keys "b": API key "doomed" revoked, a change read from backend "main"
--- no_error_log
[error]



=== TEST 5: Redis unreachable: regenerate and revoke 503 STORE_UNAVAILABLE with Retry-After: 1, the key files unchanged, the old key still works
--- http_config eval: ::http_conf('k5', 'gone')
--- request
GET /status
--- response_body_filters eval
::flow(\&::flow_unreachable)
--- response_body
regenerate on /a: 503 STORE_UNAVAILABLE, Retry-After: 1
revoke on /b: 503 STORE_UNAVAILABLE, Retry-After: 1
admin revokes other on /a: 503 STORE_UNAVAILABLE, Retry-After: 1
a.keys unchanged: yes
b.keys unchanged: yes
acme at /a/api: 200 ok acme
acme at /b/api: 200 ok acme
other at /a/api: 200 ok other
a mint with acme on /b: 201
--- error_log
embed_session: API key "acme" not regenerated: the backend cannot be reached
embed_session: API key "acme" not revoked: the backend cannot be reached
embed_session: API key "other" not revoked: the backend cannot be reached
--- no_error_log
[alert]
[crit]



=== TEST 6: a node that starts after the change (TEST 1's, in the hash only) with the old credential in its files: refused after start, the files rewritten
--- http_config eval: ::http_conf('k1')
--- request
GET /status
--- response_body_filters eval
::flow(\&::flow_late_start)
--- response_body
redis main up: yes
the stream {es:k1}:kfeed: none
acme's last change on Redis: G LOOKUP(new) HASH(new)
the old key at /a/api (once the hash is read): 401 API_KEY_INVALID
the old key at /b/api: 401 API_KEY_INVALID
TEST 1's new key at /a/api: 200 ok acme
TEST 1's new key at /b/api: 200 ok acme
a.keys rewritten, the new hash: yes
a.keys holds the old hash: no
b.keys rewritten, the new hash: yes
b.keys holds the old hash: no
other at /a/api: 200 ok other
--- error_log
embed_session api keys "a": API key "acme" regenerated, a change read from backend "main"
embed_session api keys "b": API key "acme" regenerated, a change read from backend "main"
--- no_error_log
[error]



=== TEST 7: entries no node wrote on the stream: an ID the nodes do not have (warn), changes this module did not write (error); nothing changes, and a later regenerate still reaches B
--- http_config eval: ::http_conf('k7')
--- request
GET /status
--- response_body_filters eval
::flow(\&::flow_garbage)
--- response_body
redis main up: yes
regenerate other on /a, at /b/api: 200 ok other
XADD i nosuchid c R: added
XADD i doomed c XYZ: added
XADD i doomed c "G lc_x nothex": added
XADD x y: added
regenerate acme on /a: 200
the new key at /b/api (once the feed has it): 200 ok acme
the old key at /b/api: 401 API_KEY_INVALID
doomed at /a/api: 200 ok doomed
a.keys: the doomed, admin lines unchanged: yes
a.keys: no nosuchid: yes
a.keys: other and acme regenerated: yes yes
doomed at /b/api: 200 ok doomed
b.keys: the doomed, admin lines unchanged: yes
b.keys: no nosuchid: yes
b.keys: other and acme regenerated: yes yes
nosuchid, doomed on Redis: none, none
--- error_log eval
[
qr/\[warn\].*embed_session api keys "a": API key "nosuchid" revoked on backend "main" could not be changed here \(not in ".*a\.keys"/,
qr/\[warn\].*embed_session api keys "b": API key "nosuchid" revoked on backend "main" could not be changed here \(not in ".*b\.keys"/,
qr/\[error\].*embed_session api keys "b": a change of key "doomed" this module did not write: skipped/,
qr/\[error\].*embed_session api keys "b": an entry of "\{es:k7\}:kfeed" this module did not write: skipped/,
'embed_session api keys "b": API key "acme" regenerated, a change read from backend "main"',
]
--- no_error_log
[alert]
[crit]



=== TEST 8: a key with an id credential regenerated on B: both new credentials work on A, the old ones are refused on both, the hash holds both new hashes
--- http_config eval: ::http_conf('k8')
--- user_files eval
[['a.keys', $::KEY_FILE_ID], ['b.keys', $::KEY_FILE_ID]]
--- request
GET /status
--- response_body_filters eval
::flow(\&::flow_id_key)
--- response_body
redis main up: yes
idk by its id credential at /a/api: 200 ok idk
regenerate idk on /b: 200, a new key and id: yes
the new key at /a/api (once the feed has it): 200 ok idk
the new id credential at /a/api: 200 ok idk
the new id credential at /b/api: 200 ok idk
the old key at /a/api: 401 API_KEY_INVALID
the old id credential at /a/api: 401 API_KEY_INVALID
the old id credential at /b/api: 401 API_KEY_INVALID
a.keys: the new key= and id_key=: yes yes
b.keys: the new key= and id_key=: yes yes
its last change on Redis: G LOOKUP(new) HASH(new) LOOKUP(new_id) HASH(new_id)
--- error_log
embed_session api keys "a": API key "idk" regenerated, a change read from backend "main"
--- no_error_log
[error]



=== TEST 9: a node that starts after a revoke (TEST 2's): the key refused there after start, its files rewritten with status=revoked
--- http_config eval: ::http_conf('k2')
--- request
GET /status
--- response_body_filters eval
::flow(\&::flow_late_revoke)
--- response_body
redis main up: yes
acme's last change on Redis: R
acme at /a/api (once the hash is read): 401 API_KEY_REVOKED
acme at /b/api: 401 API_KEY_REVOKED
a.keys: acme status=revoked: yes
b.keys: acme status=revoked: yes
other at /b/api: 200 ok other
--- error_log
embed_session api keys "a": API key "acme" revoked, a change read from backend "main"
embed_session api keys "b": API key "acme" revoked, a change read from backend "main"
--- no_error_log
[error]



=== TEST 10: a running node whose stream position is lost: the hash read in full again, a change only the hash holds made on both nodes
--- http_config eval: ::http_conf('k10')
--- request
GET /status
--- response_body_filters eval
::flow(\&::flow_lost)
--- response_body
redis main up: yes
regenerate other on /a, at /b/api: 200 ok other
the transaction: 4 replies
redis main up: yes
acme at /a/api (once the hash is read again): 401 API_KEY_REVOKED
acme at /b/api: 401 API_KEY_REVOKED
a.keys: acme status=revoked: yes
b.keys: acme status=revoked: yes
other, regenerated before, at /a/api: 200 ok other
--- error_log eval
[
qr/\[warn\].*embed_session api keys "a": the stream "\{es:k10\}:kfeed" no longer holds what came after/,
qr/\[warn\].*embed_session api keys "b": the stream "\{es:k10\}:kfeed" no longer holds what came after/,
'embed_session api keys "a": API key "acme" revoked, a change read from backend "main"',
'embed_session api keys "b": API key "acme" revoked, a change read from backend "main"',
]
--- no_error_log
[alert]
[crit]
