#!/usr/bin/perl
# GET /metrics after known traffic: the exposition passes promtool's
# check and the Python client's parser, every family is one group with
# its HELP and TYPE, and the counters equal the traffic sent.
use strict;
use warnings;
use lib 't/lib';
use SpooldTest;
use HTTP::Tiny;
use Test::More;

my $GOOD = 5;		# requests answered 200, of three records each
my $TOKEN = 'metrics-secret';

my $rcv = start_receiver();
# Both hooks take Delivery records; only "x.y-z_9" takes Reception too,
# and neither takes Bounce, which is discarded.
my $s = new_spool(conf => qq(max_request_size = "4KiB"\n) .
    qq(ingest_token = "$TOKEN"), hooks => <<"EOT");
[hook.deliveries]
url = "$rcv->{url}/deliveries"
types = ["Delivery"]

[hook."x.y-z_9"]
url = "$rcv->{url}/both"
types = ["Delivery", "Reception"]
batch_size = 4
EOT
start_spoold($s);

my %auth = (Authorization => "Bearer $TOKEN");
my $n = 0;
for (1 .. $GOOD) {
	my $body = join("\n", map { kumo_record($n++, $_) }
	    qw(Delivery Reception Bounce));
	my $r = post($s, '/log', 'application/x-ndjson', $body, %auth);
	is($r->{status}, 200, "good request $_: 200");
}

sub request {
	my ($method, $path, $ctype, $body, %hdr) = @_;
	$hdr{'Content-Type'} = $ctype if defined $ctype;
	my $r = HTTP::Tiny->new(timeout => 10)->request($method,
	    $s->{url} . $path, { headers => \%hdr,
	    defined $body ? (content => $body) : () });
	return $r->{status};
}

my %sent = (200 => $GOOD);
my @refused = (
	[400, 'POST', '/log', 'application/json', '{"type":', %auth],
	[401, 'POST', '/log', 'application/json', kumo_record($n)],
	[404, 'GET', '/nowhere'],
	[404, 'POST', '/nowhere', 'application/json', '{}'],
	[405, 'GET', '/log'],
	[405, 'POST', '/metrics', 'application/json', '{}'],
	[413, 'POST', '/log', 'application/json', 'x' x 5000, %auth],
	[415, 'POST', '/log', 'text/plain', kumo_record($n), %auth],
);
for my $q (@refused) {
	my ($want, @req) = @$q;
	is(request(@req), $want, "$req[0] $req[1]: $want");
	$sent{$want}++;
}

# The figures of a scrape: "name{labels}" => value, by a parser of the
# text format's sample lines only.
sub samples {
	my ($text) = @_;
	my %v;
	for my $l (split /\n/, $text) {
		next if $l =~ /^#/;
		$v{$1} = $2 if $l =~ /^(\S+(?:\{.*\})?) (\S+)$/;
	}
	return \%v;
}

my $scrape;
my $done = wait_until(sub {
	$scrape = get($s, '/metrics');
	my $v = samples($scrape->{content} // '');
	return ($v->{'spoold_hook_delivered_total{hook="deliveries"}'} // 0)
	    == $GOOD && ($v->{'spoold_hook_delivered_total{hook="x.y-z_9"}'}
	    // 0) == 2 * $GOOD &&
	    ($v->{'spoold_hook_in_flight_records{hook="x.y-z_9"}'} // 1) ==
	    0 && ($v->{'spoold_hook_in_flight_records{hook="deliveries"}'} //
	    1) == 0;
}, 60);
ok($done, 'every record delivered, as /metrics says');
# One more, so that nothing changes between the scrape and the checks.
$scrape = get($s, '/metrics');
is($scrape->{status}, 200, 'GET /metrics: 200');
is($scrape->{headers}{'content-type'},
    'text/plain; version=0.0.4; charset=utf-8', 'Content-Type of the format');
my $text = $scrape->{content} // '';
my $v = samples($text);

my @families = qw(spoold_ingest_requests_total spoold_ingest_records_total
    spoold_ingest_connections spoold_ingest_connections_refused_total
    spoold_ingest_connections_timed_out_total spoold_commits_total spoold_commit_jobs_total spoold_commit_seconds_total
    spoold_spool_bytes spoold_hook_records spoold_hook_in_flight_records
    spoold_hook_workers spoold_hook_delivered_total
    spoold_hook_failed_total);

# Each family: HELP, then TYPE, then its samples, and never again.
my (@order, %seen, @bad);
my ($cur, $pos) = ('', 0);
for my $l (split /\n/, $text) {
	my ($kind, $name);
	if ($l =~ /^# (HELP|TYPE) (\S+)/) {
		($kind, $name) = ($1, $2);
	} elsif ($l =~ /^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]/) {
		($kind, $name) = ('sample', $1);
	} else {
		push @bad, "not a line of the format: $l";
		next;
	}
	if ($name ne $cur) {
		push @bad, "$name met again" if $seen{$name}++;
		push @order, $name;
		($cur, $pos) = ($name, 0);
	}
	my $want = $pos == 0 ? 'HELP' : $pos == 1 ? 'TYPE' : 'sample';
	push @bad, "$name: $kind where its $want belongs" if $kind ne $want;
	$pos++;
}
is_deeply(\@bad, [], 'each family is one group: HELP, TYPE, samples');
is_deeply([sort @order], [sort @families], 'every family, once');

for my $c (sort keys %sent) {
	is($v->{"spoold_ingest_requests_total{code=\"$c\"}"}, $sent{$c},
	    "answers $c counted: $sent{$c}");
}
for my $c (qw(500 503 other)) {
	is($v->{"spoold_ingest_requests_total{code=\"$c\"}"}, 0,
	    "answers $c: none");
}
is($v->{'spoold_ingest_records_total{result="queued"}'}, 2 * $GOOD,
    'records queued: the Delivery and Reception ones');
is($v->{'spoold_ingest_records_total{result="discarded"}'}, $GOOD,
    'records discarded: the Bounce ones');
is($v->{'spoold_commit_jobs_total{kind="ingest"}'}, $GOOD,
    'ingest jobs committed: the requests answered 200');
cmp_ok($v->{'spoold_commit_jobs_total{kind="outcomes"}'} // 0, '>=', 1,
    'outcome jobs committed');
cmp_ok($v->{'spoold_commits_total'} // 0, '>=', 2, 'group commits');
for my $h (['deliveries', $GOOD], ['x.y-z_9', 2 * $GOOD]) {
	my ($name, $want) = @$h;
	is($v->{"spoold_hook_delivered_total{hook=\"$name\"}"}, $want,
	    "$name: $want delivered");
	is($v->{"spoold_hook_failed_total{hook=\"$name\"}"}, 0,
	    "$name: none failed");
	for my $st (qw(ready deferred dead)) {
		is($v->{"spoold_hook_records{hook=\"$name\",state=\"$st\"}"},
		    0, "$name: none $st");
	}
}

my $dir = $s->{dir};
spew("$dir/metrics.txt", $text);

SKIP: {
	my ($st) = run_cmd(undef, 'sh', '-c', 'command -v promtool');
	skip('promtool is not installed (Debian package prometheus)', 2)
	    if $st != 0;
	my ($rc, $out, $err) = run_cmd($text, 'promtool', 'check', 'metrics');
	is($rc, 0, 'promtool check metrics: exit 0');
	is(($out // '') . ($err // ''), '', 'promtool check metrics: no '
	    . 'problems');
}

# The Python client's parser: the families it makes, their types and
# help, and the value of every sample, as JSON.
my $py = <<'EOT';
import json, sys
from prometheus_client.parser import text_string_to_metric_families
out = []
for f in text_string_to_metric_families(sys.stdin.read()):
    out.append({"name": f.name, "type": f.type, "help": f.documentation,
        "samples": [[s.name, s.labels, s.value] for s in f.samples]})
print(json.dumps(out))
EOT
spew("$dir/parse.py", $py);
my $python;
for my $p ('/usr/bin/python3', 'python3') {
	my ($st) = run_cmd(undef, $p, '-c', 'import prometheus_client');
	if ($st == 0) {
		$python = $p;
		last;
	}
}
SKIP: {
	skip('the Python prometheus_client is not installed (Debian '
	    . 'package python3-prometheus-client)', 5) unless $python;
	my ($rc, $out, $err) = run_cmd($text, $python, "$dir/parse.py");
	is($rc, 0, 'the Python parser takes the exposition') or
	    diag($err);
	my $fams = json_decode($out // '') // [];
	my %names;
	$names{$_->{name}}++ for @$fams;
	my @twice = grep { $names{$_} > 1 } sort keys %names;
	is_deeply(\@twice, [], 'Python: no family met twice');
	# It names a counter's family without the _total.
	is_deeply([sort keys %names],
	    [sort map { s/_total$//r } @families], 'Python: every family');
	is_deeply([grep { $_->{help} eq '' || $_->{type} eq 'unknown' }
	    @$fams], [], 'Python: every family has a HELP and a TYPE');
	my %pv;
	for my $f (@$fams) {
		for my $sm (@{$f->{samples}}) {
			my ($name, $l, $val) = @$sm;
			my $k = join(',', map { "$_=\"$l->{$_}\"" }
			    sort keys %$l);
			$pv{$k eq '' ? $name : "$name\{$k}"} = $val;
		}
	}
	is_deeply(\%pv, $v, 'Python: the same samples and values');
}

stop_receiver($rcv);
is(stop_spoold($s), 0, 'spoold stops cleanly');
done_testing();
