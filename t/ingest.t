#!/usr/bin/perl
# POST /log in every format and every refusal of the contract; after a
# stop the spool holds exactly the accepted records, byte for byte.
use strict;
use warnings;
use lib 't/lib';
use SpooldTest;
use POSIX ();
use Test::More;

my $s = new_spool(conf => qq(max_record_size = "2KiB"\nmax_request_size = "64KiB"),
    hooks => <<'EOT');
[hook.all]
url = "http://127.0.0.1:9/all"

[hook.deliveries]
url = "http://127.0.0.1:9/deliveries"
types = ["Delivery"]
EOT
start_spoold($s);

my @stored;		# what the spool must hold, in order
my $n = 0;
sub rec { kumo_record($n++, @_) }

my $r = get($s, '/health');
is($r->{status}, 200, 'GET /health answers 200');
is($r->{content}, "ok\n", 'GET /health says ok');

my $one = rec('Delivery');
$r = post($s, '/log', 'application/json', $one);
is($r->{status}, 200, 'one object: 200');
is_deeply($r->{json}, { accepted => 1, queued => 1, discarded => 0 },
    'one object: accepted 1, queued 1');
push @stored, $one;

my @arr = (rec(), rec('Delivery'), rec());
$r = post($s, '/log', 'application/json; charset=utf-8',
    "[ " . join(" ,\n", @arr) . " ]\n");
is($r->{status}, 200, 'array of three: 200');
is_deeply($r->{json}, { accepted => 3, queued => 3, discarded => 0 },
    'array of three: accepted 3');
push @stored, @arr;

my @nd = (rec(), rec(), rec('Delivery'));
$r = post($s, '/log', 'application/x-ndjson',
    "$nd[0]\n\n  $nd[1]  \r\n$nd[2]");
is($r->{status}, 200, 'NDJSON with a blank line and CRLF: 200');
is($r->{json}{accepted}, 3, 'NDJSON: blank lines are not records');
push @stored, @nd;

my $nd2 = rec();
$r = post($s, '/log', 'application/ndjson', "$nd2\n");
is($r->{status}, 200, 'application/ndjson is taken too');
push @stored, $nd2;

$r = post($s, '/log', 'application/json', '[]');
is_deeply($r->{json}, { accepted => 0, queued => 0, discarded => 0 },
    'an empty array accepts nothing');

my $untyped = '{"no_type":true}';
$r = post($s, '/log', 'application/json', $untyped);
is($r->{json}{queued}, 1, 'a record without a type goes to the all-types hook');
push @stored, $untyped;

# Refusals: each leaves the spool as it was.
my @refusals = (
	[ 'bad JSON', 'application/json', '{"type":"Delivery",}', 400, 0 ],
	[ 'bad third element', 'application/json',
	    '[{"a":1},{"b":2},{"c":}]', 400, 2 ],
	[ 'bad second NDJSON line', 'application/x-ndjson',
	    qq({"a":1}\n\n{"b":\n{"c":3}\n), 400, 1 ],
	[ 'invalid UTF-8', 'application/json', qq({"type":"Delivery","x":"\xc3\x28"}),
	    400, 0 ],
	[ 'overlong UTF-8', 'application/x-ndjson', qq({"a":1}\n{"x":"\xc0\xaf"}\n),
	    400, 1 ],
	[ 'array element not an object', 'application/json', '[{"a":1},2]',
	    400, 1 ],
	[ 'NDJSON line not an object', 'application/x-ndjson',
	    qq({"a":1}\n[1]\n), 400, 1 ],
	[ 'a string is not a record', 'application/json', '"x"', 400, 0 ],
	[ 'empty body', 'application/json', '', 400, 0 ],
	[ 'trailing garbage', 'application/json', '{"a":1} x', 400, 0 ],
	[ 'record over max_record_size', 'application/json',
	    '[{"a":1},{"big":"' . ('x' x 3000) . '"}]', 413, 1 ],
);
for my $t (@refusals) {
	my ($name, $ct, $body, $code, $index) = @$t;
	$r = post($s, '/log', $ct, $body);
	is($r->{status}, $code, "$name: $code");
	is($r->{json}{index}, $index, "$name: index $index");
	like($r->{json}{error} // '', qr/\S/, "$name: error says why");
}

$r = post($s, '/log', 'application/x-ndjson', ("{\"a\":1}\n" x 10000));
is($r->{status}, 413, 'request over max_request_size: 413');
like($r->{json}{error}, qr/max_request_size/, '413 names max_request_size');

$r = post($s, '/log', 'text/plain', '{"a":1}');
is($r->{status}, 415, 'text/plain: 415');
$r = post($s, '/log', undef, '{"a":1}');
is($r->{status}, 415, 'no content type: 415');

$r = get($s, '/log');
is($r->{status}, 405, 'GET /log: 405');
is($r->{headers}{allow}, 'POST', '405 says Allow: POST');
$r = get($s, '/nothing');
is($r->{status}, 404, 'unknown path: 404');

$r = get($s, '/metrics');
is($r->{status}, 200, 'GET /metrics: 200');
like($r->{content}, qr/^spoold_ingest_requests_total\{code="400"\} (\d+)$/m,
    'metrics count refused requests');
like($r->{content},
    qr/^spoold_hook_records\{hook="all",state="(ready|deferred)"\} \d+$/m,
    'metrics show the queued records of a hook');

my ($st, $out) = spoolctl($s, undef, 'status', '--json');
my $status = json_decode($out // '');
is(queued($status->{hooks}{all}), scalar @stored, 'status: all records queued');
is(queued($status->{hooks}{deliveries}),
    scalar(grep { /"type":"Delivery"/ } @stored),
    'status: the Delivery hook took only Delivery records');

is(stop_spoold($s), 0, 'SIGTERM: spoold exits 0');
my $d = spooldump($s, 'all', 'deliveries');
is_deeply($d->{records}, \@stored,
    'the spool holds exactly the accepted records, bytes as sent');
is($d->{counts}{all}[0] + $d->{counts}{all}[1], scalar @stored,
    'ready and deferred counts of the all hook');

# Records no hook takes are counted as discarded and not stored.
my $f = new_spool(hooks => <<'EOT');
[hook.bounces]
url = "http://127.0.0.1:9/b"
types = ["Bounce"]
EOT
start_spoold($f);
$r = post($f, '/log', 'application/x-ndjson',
    join("\n", kumo_record(1, 'Delivery'), kumo_record(2, 'Bounce'),
    kumo_record(3, 'Reception')));
is_deeply($r->{json}, { accepted => 3, queued => 1, discarded => 2 },
    'records no filter takes are discarded');
stop_spoold($f);
$d = spooldump($f);
is(scalar @{$d->{records}}, 1, 'discarded records are not stored');

# Bearer token.
my $t = new_spool(conf => 'ingest_token = "s3cret-token"');
start_spoold($t);
$r = post($t, '/log', 'application/json', '{"a":1}');
is($r->{status}, 401, 'no token: 401');
like($r->{headers}{'www-authenticate'} // '', qr/^Bearer/,
    '401 asks for a bearer token');
$r = post($t, '/log', 'application/json', '{"a":1}',
    Authorization => 'Bearer wrong');
is($r->{status}, 401, 'wrong token: 401');
$r = post($t, '/log', 'application/json', '{"a":1}',
    Authorization => 'Bearer s3cret-token');
is($r->{status}, 200, 'right token: 200');
stop_spoold($t);
is(scalar @{spooldump($t)->{records}}, 1, 'only the authorised record stored');

# A unix socket listener beside a TCP one.
my $u = new_spool();
$u->{listen_unix} = "$u->{dir}/ingest.sock";
SKIP: {
	skip 'curl is not installed', 2
	    unless grep { -x "$_/curl" } split /:/, $ENV{PATH} // '';
	my $port = $u->{port};
	spew($u->{conf}, slurp($u->{conf}) =~ s/^listen = .*$/listen = ["unix:$u->{listen_unix}", "127.0.0.1:$port"]/mr);
	start_spoold($u);
	my ($cst, $cout) = run_cmd(undef, 'curl', '-s', '--unix-socket',
	    $u->{listen_unix}, '-H', 'Content-Type: application/json',
	    '--data-binary', '{"via":"unix"}', 'http://localhost/log');
	is($cst, 0, 'curl over the unix socket');
	like($cout // '', qr/"accepted":1/, 'ingest over a unix socket');
	stop_spoold($u);
}

# Big requests at once: every record stored once, and no transaction takes
# two of them (a transaction stops at 2048 records; LMDB keeps the memory
# of the biggest one it ever made).
my $g = new_spool();
start_spoold($g);
# Held, the hook commits no outcomes beside the ingest.
spoolctl($g, undef, 'hold', 'h');
sub metric {
	my ($name) = @_;
	my $m = get($g, '/metrics')->{content} // '';
	return $m =~ /^\Q$name\E (\d+)$/m ? $1 : -1;
}
my ($c0, $q0) = (metric('spoold_commits_total'),
    metric('spoold_commit_jobs_total{kind="ingest"}'));
my @bigkids;
for my $p (0 .. 5) {
	my $pid = fork() // die "fork: $!";
	if ($pid == 0) {
		my @recs = map { kumo_record(100_000 * ($p + 1) + $_) } 1 .. 1500;
		my $r = eval { post($g, '/log', 'application/x-ndjson',
		    join("\n", @recs)) };
		POSIX::_exit($r && $r->{status} == 200 ? 0 : 1);
	}
	push @bigkids, $pid;
}
my $bigok = 0;
for my $pid (@bigkids) {
	waitpid($pid, 0);
	$bigok++ if $? == 0;
}
is($bigok, 6, "six concurrent requests of 1500 records: 200");
my ($c1, $q1) = (metric('spoold_commits_total'),
    metric('spoold_commit_jobs_total{kind="ingest"}'));
is($q1 - $q0, 6, "six requests committed");
is($c1 - $c0, 6, "each in a transaction of its own");
stop_spoold($g);
my %bigstored;
$bigstored{$_}++ for @{spooldump($g)->{records}};
is(scalar(keys %bigstored), 9000, "all 9000 records stored");
is(scalar(grep { $_ > 1 } values %bigstored), 0, 'none twice');

done_testing();
