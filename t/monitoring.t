#!/usr/bin/perl
# etc/'s monitoring: the Prometheus alert rules pass promtool's check and
# their unit tests (each alert fires on a made-up series), and the
# Grafana dashboard is JSON whose every query names only series a
# running spoold exposes.
use strict;
use warnings;
use lib 't/lib';
use SpooldTest;
use Test::More;

my $RULES = 'etc/prometheus-alerts.yml';
my $RULES_TEST = 't/data/prometheus-alerts.test.yml';
my $DASHBOARD = 'etc/grafana-dashboard.json';

my ($st) = run_cmd(undef, 'sh', '-c', 'command -v promtool');
SKIP: {
	skip('promtool is not installed (Debian package prometheus)', 2)
	    if $st != 0;
	my ($rc, $out, $err) = run_cmd(undef, 'promtool', 'check', 'rules',
	    $RULES);
	is($rc, 0, "promtool check rules $RULES: exit 0") or
	    diag($out, $err);
	($rc, $out, $err) = run_cmd(undef, 'promtool', 'test', 'rules',
	    $RULES_TEST);
	is($rc, 0, 'promtool test rules: every alert fires as its test says')
	    or diag($out, $err);
}

my $dash = json_decode(slurp($DASHBOARD) // '');
ok(ref $dash eq 'HASH', "$DASHBOARD is a JSON object");
is($dash->{__inputs}[0]{name}, 'DS_PROMETHEUS',
    'the data source is an input of the import');

# Every PromQL query: the panels' targets and the variables' queries.
my @exprs;
for my $p (@{$dash->{panels} // []}) {
	push @exprs, map { $_->{expr} } @{$p->{targets} // []};
}
for my $v (@{$dash->{templating}{list} // []}) {
	push @exprs, $v->{query}{query} if ref $v->{query} eq 'HASH';
}
cmp_ok(scalar @exprs, '>=', 10, 'the dashboard has its queries');
my @titles = map { $_->{title} } @{$dash->{panels} // []};
for my $want ('Backlog by state', 'Oldest queued record', 'Delivery rate',
    'Failures by class', 'Delivery latency', 'Ingest latency',
    'Spool use') {
	ok((grep { $_ eq $want } @titles), "a panel: $want");
}
ok((grep { /histogram_quantile\(0\.99, .*spoold_hook_request_duration_seconds_bucket/ }
    @exprs), 'delivery latency quantiles from the histogram');

# The series a running spoold exposes.
my $rcv = start_receiver();
my $s = new_spool(hooks => <<"EOT");
[hook.h]
url = "$rcv->{url}/h"
EOT
# With a log source, whose series exist only when one is configured.
mkdir("$s->{dir}/logs") or die;
spew($s->{conf}, slurp($s->{conf}) .
    "[source.kumo]\ndirectory = \"$s->{dir}/logs\"\n");
start_spoold($s);
my $text = get($s, '/metrics')->{content} // '';
my %emitted;
for my $l (split /\n/, $text) {
	$emitted{$1} = 1 if $l =~ /^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]/;
}
cmp_ok(scalar keys %emitted, '>=', 20, 'spoold exposes its series');

my %named;
$named{$_} = 1 for map { /\b(spoold_[a-z0-9_]+)/g } @exprs;
is_deeply([grep { !$emitted{$_} } sort keys %named], [],
    'the dashboard names only series spoold exposes');

my %alerting;
$alerting{$_} = 1 for (slurp($RULES) // '') =~ /\b(spoold_[a-z0-9_]+)/g;
cmp_ok(scalar keys %alerting, '>=', 4, 'the alert rules name series');
is_deeply([grep { !$emitted{$_} } sort keys %alerting], [],
    'the alert rules name only series spoold exposes');

stop_receiver($rcv);
is(stop_spoold($s), 0, 'spoold stops cleanly');
done_testing();
