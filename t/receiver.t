#!/usr/bin/perl
# The webhook receiver the delivery tests and the benchmark rely on: its
# answers (-s, -m, -a, -d), its request log, its /_stats, HTTPS with
# client certificates, and a clean exit on SIGTERM and SIGINT.
use strict;
use warnings;
use utf8;
use Encode qw(encode_utf8);
use File::Temp qw(tempdir);
use HTTP::Tiny;
use IO::Select;
use IO::Socket::INET;
use JSON::PP;
use lib 't/lib';
# The receiver run with exactly the options given, and an HTTP::Tiny with
# TCP_NODELAY.
use SpooldTest qw(run_receiver stop_receiver);
use Test::More;
use Time::HiRes qw(time sleep);

my $bin = ($ENV{SPOOLD_BUILD} // 'build') . '/t/receiver';
plan skip_all => "$bin is not built" unless -x $bin;

my $dir = tempdir(CLEANUP => 1);
my $json = JSON::PP->new->utf8;
sub client {
	return HTTP::Tiny->new(keep_alive => 1, timeout => 20,
	    agent => 'receiver-test/1');
}

sub post {
	my ($h, $r, $body, %hdr) = @_;
	return $h->post("$r->{url}/hook", { content => $body,
	    headers => { 'content-type' => 'application/json', %hdr } });
}

sub stats {
	my ($h, $r) = @_;
	my $res = $h->get("$r->{url}/_stats");
	die "GET /_stats: $res->{status}\n" unless $res->{status} == 200;
	return $json->decode($res->{content});
}

# Polls /_stats until $cond holds, for at most 10 s.
sub stats_until {
	my ($h, $r, $cond) = @_;
	my $deadline = time + 10;
	my $s = stats($h, $r);
	until ($cond->($s) || time > $deadline) {
		sleep 0.02;
		$s = stats($h, $r);
	}
	return $s;
}

sub which {
	my ($prog) = @_;
	return scalar grep { -x "$_/$prog" } split /:/, $ENV{PATH} // '';
}

# The answers of 200 POSTs on one connection.
sub statuses {
	my $r = run_receiver(@_);
	my $h = client();
	my @s = map { post($h, $r, qq({"n":$_}))->{status} } 1 .. 200;
	stop_receiver($r);
	return @s;
}

# Default: 200 "ok", whatever the path; GET elsewhere 404, PUT 405.
{
	my $r = run_receiver();
	my $h = client();
	my $res = post($h, $r, '{"a":1}');
	is($res->{status}, 200, 'default answer is 200');
	is($res->{content}, 'ok', 'with body "ok"');
	ok(!exists $res->{headers}{'retry-after'}, 'no Retry-After by default');
	$res = $h->post("$r->{url}/", { content => 'x' });
	is($res->{status}, 200, 'any path is a hook');
	is($h->get("$r->{url}/elsewhere")->{status}, 404, 'unknown GET: 404');
	$res = $h->request('PUT', "$r->{url}/hook", { content => 'x' });
	is($res->{status}, 405, 'PUT: 405');
	is(stop_receiver($r), 0, 'exits 0 on SIGTERM');
}

# -s STATUS alone answers every request with it.
{
	my $r = run_receiver('-s', '503');
	my $h = client();
	my @s = map { post($h, $r, '{}')->{status} } 1 .. 20;
	is_deeply(\@s, [(503) x 20], '-s 503 answers 503 to all');
	is(post($h, $r, '{}')->{content}, 'error 503', 'with body "error 503"');
	is(stop_receiver($r), 0, 'exits 0');
}

# -s STATUS:SHARE, drawn from a seeded PRNG.
{
	my @a = statuses('-s', '500:0.5', '-r', '7');
	my $n500 = grep { $_ == 500 } @a;
	my $n200 = grep { $_ == 200 } @a;
	ok($n500 >= 60 && $n500 <= 140, "-s 500:0.5 gave $n500 of 200 500s");
	is($n500 + $n200, 200, 'the others were 200');
	my @b = statuses('-s', '500:0.5', '-r', '7');
	is_deeply(\@b, \@a, 'the same seed repeats exactly');
	my @c = statuses('-s', '500:0.5', '-r', '8');
	ok(join(',', @c) ne join(',', @a), 'another seed differs');
	my @d = statuses('-s', '500:0.25', '-s', '429:0.25', '-r', '3');
	my %n;
	$n{$_}++ for @d;
	ok($n{500} && $n{429} && $n{200}, 'two -s rules: 500, 429 and 200 '
	    . join(' ', map { "$_:$n{$_}" } sort keys %n));
	is(scalar(keys %n), 3, 'and nothing else');
}

# -m SUBSTRING:STATUS wins over -s.
{
	my $r = run_receiver('-m', 'poison:422', '-m', 'a:b:409',
	    '-s', '503');
	my $h = client();
	is(post($h, $r, '[{"x":1},{"poison":true},{"x":2}]')->{status}, 422,
	    '-m matches a poison record inside a batch');
	is(post($h, $r, '[{"x":1},{"x":2}]')->{status}, 503,
	    'other bodies fall through to -s');
	is(post($h, $r, '{"k":"xa:by"}')->{status}, 409,
	    '-m splits at the last colon');
	is(stop_receiver($r), 0, 'exits 0');
}

# -a adds Retry-After to non-2xx answers only.
{
	my $r = run_receiver('-a', '7', '-m', 'bad:500');
	my $h = client();
	my $res = post($h, $r, '{"bad":1}');
	is($res->{status}, 500, '-m bad:500');
	is($res->{headers}{'retry-after'}, '7', '-a 7: Retry-After: 7');
	$res = post($h, $r, '{"good":1}');
	is($res->{status}, 200, 'a good record: 200');
	ok(!exists $res->{headers}{'retry-after'}, 'with no Retry-After');
	is(stop_receiver($r), 0, 'exits 0');
}

# -d delays each answer.
{
	my $r = run_receiver('-d', '300');
	my $h = client();
	my $t0 = time;
	my $res = post($h, $r, '{}');
	my $took = time - $t0;
	is($res->{status}, 200, '-d 300: 200');
	ok($took >= 0.3, sprintf('-d 300: took %.3f s', $took));
	is(stop_receiver($r), 0, 'exits 0');
}

# -o: one JSON line per POST, written before the answer leaves.
{
	my $log = "$dir/requests.log";
	my $r = run_receiver('-o', $log, '-m', 'refuse:410');
	my ($ca, $cb) = (client(), client());
	my $big = '[' . join(',', map { qq({"i":$_,"pad":") . ('x' x 90) . '"}' }
	    1 .. 30000) . ']';
	my @chunks = ('{"chunk', 'ed":', '"yes"}');
	my @sent = (
	    [$ca, encode_utf8(qq({"a":1})), 200],
	    [$ca, encode_utf8(qq({"text":"é ✓ 😀 \\" \\\\"})), 200],
	    [$cb, encode_utf8(qq({"r":1}\n{"r":2}\n)), 200],
	    [$ca, $big, 200],
	    [$ca, join('', @chunks), 200, 'chunked'],
	    [$ca, "\xff\xfe{\x00}", 200],
	    [$cb, '{"refuse":1}', 410],
	    [$ca, '', 200],
	);
	my $t0 = int(time * 1000);
	for my $s (@sent) {
		my ($h, $body, $want, $how) = @$s;
		my $content = $body;
		if (defined $how) {
			my @c = @chunks;
			$content = sub { shift @c };
		}
		my $res = post($h, $r, $content, 'x-test' => 'Vàlue');
		is($res->{status}, $want, "POST answered $want");
	}
	my $t1 = int(time * 1000) + 1;
	open(my $fh, '<', $log) or die "$log: $!";
	my @lines = <$fh>;
	close $fh;
	is(scalar @lines, scalar @sent, 'one log line per POST');
	my @want_ids = ([1, 1], [1, 2], [2, 1], [1, 3], [1, 4], [1, 5],
	    [2, 2], [1, 6]);
	for my $i (0 .. $#sent) {
		my $l = eval { $json->decode($lines[$i] // '') };
		ok($l, "log line $i is JSON") or next;
		my ($conn, $req) = @{$want_ids[$i]};
		is($l->{conn}, $conn, "line $i: conn $conn");
		is($l->{req}, $req, "line $i: req $req");
		is($l->{status}, $sent[$i][2], "line $i: status");
		ok($l->{ms} >= $t0 && $l->{ms} <= $t1, "line $i: ms in range");
		is($l->{headers}{'content-type'}, 'application/json',
		    "line $i: content-type");
		is($l->{headers}{'user-agent'}, 'receiver-test/1',
		    "line $i: user-agent");
		is($l->{headers}{'x-test'}, 'Vàlue', "line $i: lowercased x-test");
		if ($i == 5) {
			ok(!exists $l->{body}, 'not UTF-8: no "body"');
			is($l->{body_hex}, 'fffe7b007d', 'but "body_hex"');
			next;
		}
		ok(defined $l->{body} && encode_utf8($l->{body}) eq $sent[$i][1],
		    "line $i: body exact");
	}
	my $l = $json->decode($lines[4]);
	is($l->{headers}{'transfer-encoding'}, 'chunked', 'chunked body logged');
	$l = $json->decode($lines[3]);
	is($l->{headers}{'content-length'}, length $big,
	    'content-length header logged');
	is(stop_receiver($r), 0, 'exits 0');
}

# /_stats: only connections that POST count.
{
	my $r = run_receiver();
	my $sh = client();
	my $s = stats($sh, $r);
	is_deeply([@$s{qw(connections open max_open requests
	    max_requests_per_connection)}], [0, 0, 0, 0, 0], 'stats start at 0');
	is_deeply($s->{connection_times_ms}, [], 'no connection times');
	is_deeply($s->{statuses}, {}, 'no statuses');

	my @c = map { client() } 1 .. 3;
	my $t0 = int(time * 1000);
	post($c[$_], $r, qq({"c":$_})) for 0 .. 2;
	post($c[0], $r, '{}') for 1 .. 4;
	post($c[1], $r, '{}');
	$s = stats($sh, $r);
	is($s->{connections}, 3, '3 connections');
	is($s->{open}, 3, '3 open');
	is($s->{max_open}, 3, 'max_open 3');
	is($s->{requests}, 8, '8 requests');
	is($s->{max_requests_per_connection}, 5, 'max 5 on one connection');
	is_deeply($s->{statuses}, { 200 => 8 }, 'statuses: 8 200s');
	is(scalar @{$s->{connection_times_ms}}, 3, '3 connection times');
	ok(!grep({ $_ < $t0 - 1 || $_ > time * 1000 + 1 }
	    @{$s->{connection_times_ms}}), 'times are wall-clock ms');
	is(scalar @{$s->{connection_durations_ms}}, 3, '3 durations');

	@c = ();
	$s = stats_until($sh, $r, sub { $_[0]{open} == 0 });
	is($s->{open}, 0, 'all closed once the clients go');
	is($s->{max_open}, 3, 'max_open stays 3');
	is($s->{connections}, 3, '/_stats connections never counted');

	is($sh->get("$r->{url}/_reset")->{status}, 200, '/_reset');
	$s = stats($sh, $r);
	is_deeply([@$s{qw(connections open max_open requests
	    max_requests_per_connection)}], [0, 0, 0, 0, 0], 'reset to 0');
	is_deeply($s->{statuses}, {}, 'statuses reset');

	my $h = client();
	post($h, $r, '{}');
	post($sh, $r, '{}');
	$s = stats($sh, $r);
	is($s->{connections}, 2, 'a stats connection counts once it POSTs');
	is($s->{requests}, 2, '2 requests after the reset');
	is(stop_receiver($r), 0, 'exits 0 with connections open');
}

# /_stats counts the records of the POSTs answered 2xx, as ingest reads
# bodies; -L logs each record's id and arrival time.
{
	my $ids = "$dir/ids.log";
	my $r = run_receiver('-L', $ids, '-m', 'refuse:503');
	my $h = client();
	my $s = stats($h, $r);
	is_deeply([@$s{qw(records last_record_ms bad_bodies)}], [0, 0, 0],
	    'no records, no time, no bad bodies at first');
	my $nd = { 'content-type' => 'application/x-ndjson' };
	my $t0 = int(time * 1000);
	my @sent = (
	    ['{"type":"Delivery","id":"a1","meta":{"id":"inner"}}', 200],
	    ['[{"id":"b1"},{"x":{"id":"nested"}},{"no":"id"},{"id":"b4"}]', 200],
	    [qq({"id":"c1"}\n\n{"id":"c2"}\r\n  \n{"id":"c3"}\n), 200, $nd],
	    ['[]', 200],
	    ['[{"id":"r1","refuse":1}]', 503],
	    ['{"id":"bad"', 200],
	    [encode_utf8(qq({"id":"d1","s":"é ✓"})), 200],
	);
	for my $x (@sent) {
		my ($body, $want, $hdr) = @$x;
		is(post($h, $r, $body, %{$hdr // {}})->{status}, $want,
		    "POST answered $want");
	}
	my $t1 = int(time * 1000) + 1;
	$s = stats($h, $r);
	is($s->{records}, 1 + 4 + 3 + 1, 'records: an object, an array\'s '
	    . 'elements, NDJSON lines; refused and bad bodies not');
	is($s->{bad_bodies}, 1, 'one bad body');
	ok($s->{last_record_ms} >= $t0 && $s->{last_record_ms} <= $t1,
	    'last_record_ms is the wall-clock time of the last records');
	is($s->{requests}, scalar @sent, 'every POST is a request');

	open(my $fh, '<', $ids) or die "$ids: $!";
	my @lines = <$fh>;
	close $fh;
	my @got = map { (split ' ', $_)[0] } @lines;
	is_deeply(\@got, [qw(a1 b1 nested - b4 c1 c2 c3 d1)],
	    '-L: the first "id" in each record\'s text, or "-", in order');
	ok(!grep({ !/\A\S+ \d+\.\d{3}\n\z/ } @lines), '-L: "ID MS" lines');
	ok(!grep({ my $ms = (split ' ', $_)[1]; $ms < $t0 || $ms > $t1 }
	    @lines), '-L: wall-clock milliseconds');
	my %by = map { split ' ', $_ } @lines;
	is($by{b1}, $by{b4}, '-L: one time for the records of one POST');

	is($h->get("$r->{url}/_reset")->{status}, 200, '/_reset');
	$s = stats($h, $r);
	is_deeply([@$s{qw(records last_record_ms bad_bodies)}], [0, 0, 0],
	    'records, last_record_ms and bad_bodies reset');
	is(stop_receiver($r), 0, 'exits 0');
}

# SIGINT stops it cleanly too.
{
	my $r = run_receiver('-q');
	my $h = client();
	post($h, $r, '{}');
	is(stop_receiver($r, 'INT'), 0, 'exits 0 on SIGINT');
}

# HTTPS, and client certificates checked against -T.
SKIP: {
	skip 'openssl is not installed', 6 unless which('openssl');
	my $t = "$dir/tls";
	mkdir $t or die "$t: $!";
	open(my $fh, '>', "$t/x.cnf") or die "$t/x.cnf: $!";
	print $fh <<'EOT';
[req]
distinguished_name = dn
prompt = no
[dn]
CN = receiver test CA
[ca_ext]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[server_ext]
basicConstraints = CA:FALSE
subjectAltName = IP:127.0.0.1,DNS:localhost
extendedKeyUsage = serverAuth
[client_ext]
basicConstraints = CA:FALSE
extendedKeyUsage = clientAuth
EOT
	close $fh;
	my @ec = qw(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes);
	my $ok = 1;
	my $run = sub {
		$ok &&= system("openssl @_ >'$t/openssl.out' 2>&1") == 0;
	};
	$run->("req -x509 -config $t/x.cnf -extensions ca_ext @ec",
	    "-keyout $t/ca.key -out $t/ca.pem -days 2");
	my $serial = 1;
	for my $n (qw(server client)) {
		$run->("req -new -config $t/x.cnf @ec -subj /CN=$n",
		    "-keyout $t/$n.key -out $t/$n.csr");
		$serial++;
		$run->("x509 -req -in $t/$n.csr -CA $t/ca.pem -CAkey $t/ca.key",
		    "-set_serial $serial -days 2 -out $t/$n.pem",
		    "-extfile $t/x.cnf -extensions ${n}_ext");
	}
	$run->("req -x509 -config $t/x.cnf -extensions client_ext @ec",
	    "-subj /CN=rogue -keyout $t/rogue.key -out $t/rogue.pem -days 2");
	ok($ok, 'openssl made a CA, server, client and rogue certificates')
	    or diag(`cat $t/openssl.out`);
	skip 'curl is not installed', 5 unless which('curl');

	my $curl = sub {
		my ($r, @args) = @_;
		open(my $c, '-|', 'curl', '-s', '-o', '/dev/null', '-w',
		    '%{http_code}', '--max-time', '20', '--cacert', "$t/ca.pem",
		    '-H', 'Content-Type: application/json', '-d', '{"tls":1}',
		    @args, "https://127.0.0.1:$r->{port}/hook")
		    or die "curl: $!";
		my $code = <$c> // '';
		close $c;
		return $code;
	};
	my $r = run_receiver('-C', "$t/server.pem", '-K', "$t/server.key");
	is($curl->($r), '200', 'HTTPS: 200');
	stop_receiver($r);

	$r = run_receiver('-C', "$t/server.pem", '-K', "$t/server.key",
	    '-T', "$t/ca.pem");
	is($curl->($r, '--cert', "$t/client.pem", '--key', "$t/client.key"),
	    '200', '-T: a client certificate from the CA gets 200');
	is($curl->($r), '403', '-T: no client certificate gets 403');
	is($curl->($r, '--cert', "$t/rogue.pem", '--key', "$t/rogue.key"),
	    '403', '-T: a certificate from another CA gets 403');
	is(stop_receiver($r), 0, 'exits 0');
}

# -F, the benchmark's receiver: the same counting and /_stats over its own
# HTTP/1.1, keep-alive and pipelined, and -L.
{
	my $ids = "$dir/fast-ids";
	my $r = run_receiver('-F', '-L', $ids);
	my $h = client();
	my $res = post($h, $r, '{"type":"Delivery","id":"f1"}');
	is($res->{status}, 200, '-F: a POST gets 200');
	is($res->{content}, 'ok', '-F: with body "ok"');
	is(post($h, $r, '[{"id":"f2"},{"id":"f3"}]')->{status}, 200,
	    '-F: an array');
	is(post($h, $r, qq({"id":"f4"}\n{"id":"f5"}\n),
	    'content-type' => 'application/x-ndjson')->{status}, 200,
	    '-F: NDJSON');
	is(post($h, $r, '{"id":')->{status}, 200, '-F: a bad body is answered');
	is($h->get("$r->{url}/elsewhere")->{status}, 404, '-F: unknown GET: 404');
	is($h->request('PUT', "$r->{url}/hook", { content => 'x' })->{status},
	    405, '-F: PUT: 405');
	my $s = stats($h, $r);
	is($s->{records}, 5, '-F: records counted as ingest reads them');
	is($s->{bad_bodies}, 1, '-F: the bad body counted apart');
	is($s->{requests}, 4, '-F: POSTs counted');
	is($s->{connections}, 1, '-F: all on one kept connection');
	is_deeply($s->{statuses}, { 200 => 4 }, '-F: statuses');
	ok($s->{last_record_ms} > 0, '-F: last_record_ms set');

	# Two requests in one write, and the answers in order.
	my $sock = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$r->{port}",
	    Timeout => 10) or die "connect: $!";
	my $one = qq({"id":"p1"});
	my $req = "POST /h HTTP/1.1\r\nHost: x\r\nContent-Type: "
	    . "application/json\r\nContent-Length: " . length($one)
	    . "\r\n\r\n$one";
	print $sock $req . $req . "GET /_stats HTTP/1.1\r\nHost: x\r\n"
	    . "Connection: close\r\n\r\n";
	my $all = '';
	my $sel = IO::Select->new($sock);
	my $deadline = time + 10;
	while (time < $deadline && $sel->can_read($deadline - time)) {
		last unless sysread($sock, $all, 65536, length $all);
	}
	close $sock;
	my @codes = $all =~ m{HTTP/1\.1 (\d+)}g;
	is_deeply(\@codes, [200, 200, 200], '-F: pipelined, three answers');
	like($all, qr/"records":7/, '-F: the stats after both POSTs');

	# /_reset, then the id log.
	is($h->get("$r->{url}/_reset")->{status}, 200, '-F: /_reset');
	is(stats($h, $r)->{records}, 0, '-F: counts reset');
	is(stop_receiver($r), 0, '-F: exits 0 on SIGTERM');
	my @lines = split /\n/, SpooldTest::slurp($ids);
	is_deeply([map { (split / /)[0] } @lines],
	    [qw(f1 f2 f3 f4 f5 p1 p1)], '-F -L: each record\'s id, in order');

	my $bad = system("$bin -F -s 500 2>/dev/null");
	is($bad >> 8, 2, '-F with a test answer (-s) is a usage error');
}

done_testing();
