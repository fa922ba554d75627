#!/usr/bin/perl
# Every shaping key, seen from the receiver: concurrent connections never
# above connection_limit, requests per connection never above
# max_deliveries_per_connection, new connections within
# max_connection_rate, records within max_message_rate, batches held for
# min_batch_size up to max_batch_latency, a tiny max_ready still
# delivers everything, and idle workers go after idle_timeout.
use strict;
use warnings;
use lib 't/lib';
use SpooldTest;
use Test::More;
use Time::HiRes qw(time);

sub run_hook {
	my ($hook_toml, $n, $rargs, $secs) = @_;
	my $rcv = start_receiver(@{$rargs // []});
	my $s = new_spool(hooks => "[hook.h]\nurl = \"$rcv->{url}/h\"\n$hook_toml");
	start_spoold($s);
	my @recs = map { kumo_record($_) } 1 .. $n;
	my $t0 = time;
	my $r = post($s, '/log', 'application/x-ndjson', join("\n", @recs));
	die "ingest failed" unless $r->{status} == 200;
	my $st = wait_status($s, 'h', sub { ($_[0]{delivered} // 0) >= $n }, $secs // 60);
	my $took = time - $t0;
	my $stats = receiver_stats($rcv);
	my $reqs = receiver_requests($rcv);
	my $got = receiver_records($rcv);
	stop_spoold($s);
	stop_receiver($rcv);
	my %want = map { canon($_) => 1 } @recs;
	my %seen = map { $_ => 1 } @$got;
	my $missing = grep { !$seen{$_} } keys %want;
	return { status => $st, stats => $stats, reqs => $reqs, took => $took,
	    missing => $missing, n => $n };
}

# Most records in any window of ms milliseconds, by arrival time.
sub peak_in_window {
	my ($times, $ms) = @_;
	my @t = sort { $a <=> $b } @$times;
	my ($best, $j) = (0, 0);
	for my $i (0 .. $#t) {
		$j++ while $t[$i] - $t[$j] >= $ms;
		$best = $i - $j + 1 if $i - $j + 1 > $best;
	}
	return $best;
}

my $x = run_hook("connection_limit = 3\n", 60, ['-d', '100']);
is($x->{status}{delivered}, 60, 'connection_limit: all delivered');
is($x->{missing}, 0, 'connection_limit: nothing missing');
ok($x->{stats}{max_open} <= 3, "never more than 3 connections at once ($x->{stats}{max_open})");
is($x->{stats}{max_open}, 3, 'a backlog opens all 3');

$x = run_hook("max_deliveries_per_connection = 4\nconnection_limit = 2\n", 40);
is($x->{missing}, 0, 'max_deliveries_per_connection: nothing missing');
ok($x->{stats}{max_requests_per_connection} <= 4,
    "at most 4 requests per connection ($x->{stats}{max_requests_per_connection})");
ok($x->{stats}{connections} >= 10, "so at least 10 connections ($x->{stats}{connections})");

$x = run_hook("max_deliveries_per_connection = 3\nbatch_size = 2\nconnection_limit = 1\n", 30);
is($x->{missing}, 0, 'batched max_deliveries_per_connection: nothing missing');
my %per;
for my $q (@{$x->{reqs}}) {
	$per{$q->{conn}} += scalar @{JSON::PP->new->decode(Encode::encode_utf8(
	    $q->{body} =~ /^\[/ ? $q->{body} : "[$q->{body}]"))};
}
my ($most) = sort { $b <=> $a } values %per;
ok($most <= 3, "at most 3 records per connection with batches ($most)");

$x = run_hook("max_connection_rate = \"4/s\"\nmax_deliveries_per_connection = 1\nconnection_limit = 4\n", 16);
is($x->{missing}, 0, 'max_connection_rate: nothing missing');
my $peak = peak_in_window($x->{stats}{connection_times_ms}, 1000);
# As for records below: a little room for bunching; unlimited, all 16
# would come within a second.
ok($peak <= 10, "about burst 4 + 4/s new connections in any second ($peak)");
ok($x->{took} >= 2.5, sprintf('16 connections at 4/s take time (%.1f s)', $x->{took}));

$x = run_hook("max_message_rate = \"10/s\"\nconnection_limit = 4\n", 40);
is($x->{missing}, 0, 'max_message_rate: nothing missing');
$peak = peak_in_window([ map { $_->{ms} } @{$x->{reqs}} ], 1000);
# Arrivals may bunch by a few hundred ms on a loaded machine; without the
# limit all 40 would arrive within a second.
ok($peak <= 24, "about burst 10 + 10/s records in any second ($peak)");
ok($x->{took} >= 2.5, sprintf('40 records at 10/s take time (%.1f s)', $x->{took}));

$x = run_hook("batch_size = 10\nmin_batch_size = 10\nmax_batch_latency = \"400ms\"\nconnection_limit = 1\n", 25);
is($x->{missing}, 0, 'min_batch_size: nothing missing');
my @sizes = map { scalar @{JSON::PP->new->decode(Encode::encode_utf8($_->{body}))} }
    sort { $a->{ms} <=> $b->{ms} } @{$x->{reqs}};
is_deeply(\@sizes, [10, 10, 5], 'batches of 10, 10, then the rest after the latency');

$x = run_hook("max_ready = 3\nconnection_limit = 2\n", 50);
is($x->{missing}, 0, 'max_ready = 3 still delivers all 50');

# Workers go after idle_timeout; the receiver sees their connections close.
my $rcv = start_receiver();
my $s = new_spool(hooks => "[hook.h]\nurl = \"$rcv->{url}/h\"\nidle_timeout = \"300ms\"\nconnection_limit = 2\n");
start_spoold($s);
post($s, '/log', 'application/x-ndjson', join("\n", map { kumo_record($_) } 1 .. 10));
my $st = wait_status($s, 'h', sub { ($_[0]{delivered} // 0) >= 10 }, 30);
is($st->{delivered}, 10, 'idle_timeout: delivered');
$st = wait_status($s, 'h', sub { ($_[0]{workers} // 1) == 0 }, 10);
is($st->{workers}, 0, 'idle workers exit after idle_timeout');
ok(wait_until(sub { receiver_stats($rcv)->{open} == 0 }, 10),
    'and their connections are closed');
stop_spoold($s);
stop_receiver($rcv);

done_testing();
