#!/usr/bin/perl
# GET /metrics after known traffic: the exposition passes promtool's
# check and the Python client's parser, every family is one group with
# its HELP and TYPE, and the counters equal the traffic sent: hooks that
# deliver, one that fails (a transient and a permanent answer), one held
# and one whose receiver holds its answers, so that records are in
# flight; each hook's records in exactly one state, as status says too.
use strict;
use warnings;
use lib 't/lib';
use SpooldTest;
use HTTP::Tiny;
use Test::More;

my $GOOD = 5;		# requests answered 200, of three records each
my $TOKEN = 'metrics-secret';

my $rcv = start_receiver();
# 400 for the poison record, 503 for any other.
my $bad = start_receiver('-m', 'poison:400', '-s', '503');
# Answers nothing for a minute: its records stay in flight.
my $slow = start_receiver('-d', '60000');
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

[hook.failing]
url = "$bad->{url}/failing"
types = ["TransientFailure"]
batch_size = 1
retry_interval = "1h"
max_retry_interval = "2h"

[hook.held]
url = "$rcv->{url}/held"
types = ["Expiration"]

[hook.slow]
url = "$slow->{url}/slow"
types = ["AdminBounce"]
batch_size = 1
EOT
start_spoold($s);
my ($hst) = spoolctl($s, undef, 'hold', 'held');
is($hst, 0, 'spoolctl hold held');

my %auth = (Authorization => "Bearer $TOKEN");
my $n = 0;
for (1 .. $GOOD) {
	my $body = join("\n", map { kumo_record($n++, $_) }
	    qw(Delivery Reception Bounce));
	my $r = post($s, '/log', 'application/x-ndjson', $body, %auth);
	is($r->{status}, 200, "good request $_: 200");
}
my $t0 = time;
for my $recs ([kumo_record($n++, 'TransientFailure'),
    kumo_record($n++, 'TransientFailure') =~ s/bounce-/poison-/r],
    [map { kumo_record($n++, 'Expiration') } 1 .. 3],
    [map { kumo_record($n++, 'AdminBounce') } 1 .. 3]) {
	my $r = post($s, '/log', 'application/x-ndjson', join("\n", @$recs),
	    %auth);
	is($r->{status}, 200, 'the failing, held or slow hook\'s records: '
	    . '200');
}

sub request {
	my ($method, $path, $ctype, $body, %hdr) = @_;
	$hdr{'Content-Type'} = $ctype if defined $ctype;
	my $r = HTTP::Tiny->new(timeout => 10)->request($method,
	    $s->{url} . $path, { headers => \%hdr,
	    defined $body ? (content => $body) : () });
	return $r->{status};
}

my %sent = (200 => $GOOD + 3);
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
# Labels sorted by name, values as numbers, as the Python side has them.
sub samples {
	my ($text) = @_;
	my %v;
	for my $l (split /\n/, $text) {
		next if $l =~ /^#/;
		next unless $l =~ /^([^{ ]+)(?:\{(.*)\})? (\S+)$/;
		my ($name, $labels, $val) = ($1, $2, $3);
		my %l = ($labels // '') =~ /(\w+)="((?:[^"\\]|\\.)*)"/g;
		my $k = join(',', map { "$_=\"$l{$_}\"" } sort keys %l);
		$v{$k eq '' ? $name : "$name\{$k}"} = $val + 0;
	}
	return \%v;
}

my $scrape;
my $done = wait_until(sub {
	$scrape = get($s, '/metrics');
	my $v = samples($scrape->{content} // '');
	my $in = sub { $v->{"spoold_hook_records{hook=\"$_[0]\","
	    . "state=\"in_flight\"}"} // -1 };
	return ($v->{'spoold_hook_delivered_total{hook="deliveries"}'} // 0)
	    == $GOOD && ($v->{'spoold_hook_delivered_total{hook="x.y-z_9"}'}
	    // 0) == 2 * $GOOD && $in->('x.y-z_9') == 0 &&
	    $in->('deliveries') == 0 && $in->('failing') == 0 &&
	    $in->('slow') == 3 && ($v->{'spoold_hook_outcomes_total{'
	    . 'hook="failing",outcome="permanent"}'} // 0) == 1 &&
	    ($v->{'spoold_hook_outcomes_total{hook="failing",'
	    . 'outcome="transient"}'} // 0) == 1;
}, 60);
ok($done, 'every record delivered, failed, held or in flight, as '
    . '/metrics says');
# One more, so that nothing changes between the scrape and the checks.
$scrape = get($s, '/metrics');
is($scrape->{status}, 200, 'GET /metrics: 200');
is($scrape->{headers}{'content-type'},
    'text/plain; version=0.0.4; charset=utf-8', 'Content-Type of the format');
my $text = $scrape->{content} // '';
my $v = samples($text);
my $elapsed = time - $t0;
my $status = json_decode((spoolctl($s, undef, '--json', 'status'))[1]);

my @families = qw(spoold_ingest_requests_total spoold_ingest_refusals_total
    spoold_ingest_records_total spoold_ingest_request_duration_seconds
    spoold_ingest_connections spoold_ingest_connections_refused_total
    spoold_ingest_connections_timed_out_total spoold_commits_total
    spoold_commit_jobs_total spoold_commit_duration_seconds
    spoold_spool_bytes spoold_hook_records
    spoold_hook_oldest_record_age_seconds spoold_hook_outcomes_total
    spoold_hook_delivered_total spoold_hook_failed_total
    spoold_hook_answers_total spoold_hook_request_duration_seconds
    spoold_hook_workers spoold_hook_connections_opened_total
    spoold_hook_throttled_seconds_total spoold_hook_throttle_warnings_total);

# Each family: HELP, then TYPE, then its samples, and never again.
my (@order, %seen, @bad);
my ($cur, $pos) = ('', 0);
for my $l (split /\n/, $text) {
	my ($kind, $name);
	if ($l =~ /^# (HELP|TYPE) (\S+)/) {
		($kind, $name) = ($1, $2);
	} elsif ($l =~ /^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]/) {
		($kind, $name) = ('sample', $1 =~ s/_(bucket|sum|count)$//r);
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
is($v->{'spoold_ingest_records_total{result="queued"}'}, 2 * $GOOD + 8,
    'records queued: the Delivery and Reception ones, and the 8 others');
is($v->{'spoold_ingest_records_total{result="discarded"}'}, $GOOD,
    'records discarded: the Bounce ones');
is($v->{'spoold_commit_jobs_total{kind="ingest"}'}, $GOOD + 3,
    'ingest jobs committed: the requests answered 200');
cmp_ok($v->{'spoold_commit_jobs_total{kind="outcomes"}'} // 0, '>=', 1,
    'outcome jobs committed');
cmp_ok($v->{'spoold_commits_total'} // 0, '>=', 2, 'group commits');
my %refused = (bad_record => 1, unauthorized => 1, not_found => 2,
    method => 2, too_large => 1, media_type => 1);
for my $why (qw(bad_request bad_record unauthorized not_found method
    media_type too_large timeout spool_full io_error stopping internal
    connections)) {
	is($v->{"spoold_ingest_refusals_total{reason=\"$why\"}"},
	    $refused{$why} // 0, "refusals $why: " . ($refused{$why} // 0));
}
my $answered = 0;
$answered += $_ for values %sent;
is($v->{'spoold_ingest_request_duration_seconds_count'}, $answered,
    "ingest latency: $answered requests");
is($v->{'spoold_ingest_request_duration_seconds_bucket{le="+Inf"}'},
    $answered, 'ingest latency: all in +Inf');
is($v->{'spoold_commit_duration_seconds_count'}, $v->{spoold_commits_total},
    'commit latency: one per group commit');

# Each hook: records by state, outcomes, answers by class, requests.
my %want = (
	deliveries => { delivered => $GOOD },
	'x.y-z_9' => { delivered => 2 * $GOOD },
	failing => { deferred => 1, dead => 1, transient => 1,
	    permanent => 1, failed => 1, '4xx' => 1, '5xx' => 1 },
	held => { held => 3 },
	slow => { in_flight => 3 },
);
for my $h (sort keys %want) {
	my $w = $want{$h};
	my $l = "hook=\"$h\"";
	my $sum = 0;
	for my $st (qw(ready deferred in_flight held dead)) {
		my $got = $v->{"spoold_hook_records{$l,state=\"$st\"}"};
		is($got, $w->{$st} // 0, "$h: $st " . ($w->{$st} // 0));
		$sum += $got // 0;
		my $key = $st eq 'held' ? 'held_records' : $st;
		is($status->{hooks}{$h}{$key}, $got, "$h: status says $key "
		    . ($got // 'nothing') . ' too');
	}
	my $stored = 0;
	$stored += $w->{$_} // 0 for qw(deferred in_flight held dead);
	is($sum, $stored, "$h: the five states sum to the $stored stored");
	is($v->{"spoold_hook_delivered_total{$l}"}, $w->{delivered} // 0,
	    "$h: delivered since the spool was made");
	is($v->{"spoold_hook_failed_total{$l}"}, $w->{failed} // 0,
	    "$h: failed since the spool was made");
	for my $o (qw(delivered transient permanent expired)) {
		is($v->{"spoold_hook_outcomes_total{$l,outcome=\"$o\"}"},
		    $w->{$o} // 0, "$h: outcome $o " . ($w->{$o} // 0));
	}
	my $requests = $v->{"spoold_hook_request_duration_seconds_count{$l}"};
	my $classes = 0;
	for my $c (qw(2xx 3xx 4xx 5xx other none)) {
		my $got = $v->{"spoold_hook_answers_total{class=\"$c\",$l}"};
		$classes += $got // 0;
		next if $c eq '2xx' && $w->{delivered};
		is($got, $w->{$c} // 0, "$h: answers $c " . ($w->{$c} // 0));
	}
	is($classes, $requests, "$h: one answer for each request timed");
	if ($w->{delivered}) {
		cmp_ok($v->{"spoold_hook_answers_total{class=\"2xx\",$l}"},
		    '>=', 1, "$h: 2xx answers");
	}
	is($v->{"spoold_hook_request_duration_seconds_bucket{$l,le=\"+Inf\"}"},
	    $requests, "$h: every request in +Inf");
	my $age = $v->{"spoold_hook_oldest_record_age_seconds{$l}"};
	if ($w->{held} || $w->{in_flight} || $w->{deferred}) {
		ok($age > 0 && $age <= $elapsed + 1, "$h: the oldest queued "
		    . "record's age, $age s, since it was posted");
	} else {
		is($age, 0, "$h: none queued, oldest age 0");
	}
	is($status->{hooks}{$h}{oldest_age_ms} / 1000 >= $age ? 1 : 0, 1,
	    "$h: status's oldest age taken later, no less");
}
is($status->{hooks}{held}{held}, JSON::PP::true, 'status: held is held');
is($status->{hooks}{failing}{held}, JSON::PP::false,
    'status: failing is not');
is($v->{'spoold_hook_connections_opened_total{hook="failing"}'},
    receiver_stats($bad)->{connections}, 'failing: connections opened, '
    . 'as its receiver counts them');
is($v->{'spoold_hook_connections_opened_total{hook="slow"}'}, 0,
    'slow: no answer yet, so no connection reported');
cmp_ok($v->{'spoold_hook_workers{hook="slow"}'}, '>=', 1,
    'slow: its workers run');

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
			$pv{$k eq '' ? $name : "$name\{$k}"} = $val + 0;
		}
	}
	is_deeply(\%pv, $v, 'Python: the same samples and values');
}

stop_receiver($_) for $rcv, $bad, $slow;
is(stop_spoold($s), 0, 'spoold stops cleanly');
done_testing();
