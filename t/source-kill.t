#!/usr/bin/perl
# Exactly once into the spool: spoold is killed with SIGKILL at random
# moments, many times, while the writer keeps writing and rotating
# segments. Every record written is then in the spool once, none missing
# and none twice; delivered afterwards, each reaches the receiver.
use strict;
use warnings;
use lib 't/lib';
use SpooldTest;
use Segments;
use Test::More;
use Time::HiRes qw(sleep time);

my $CYCLES = $ENV{SOURCE_KILL_CYCLES} // 25;

my $s = new_spool(hooks => "[hook.h]\nurl = \"http://127.0.0.1:9/h\"\n" .
    "retry_interval = \"1h\"\nmax_retry_interval = \"1h\"\n");
my $logs = "$s->{dir}/logs";
mkdir($logs) or die;
my $base = slurp($s->{conf});
spew($s->{conf}, $base . "[source.kumo]\ndirectory = \"$logs\"\n");

sub records {
	my ($st, $out) = spoolctl($s, undef, '--json', 'status');
	return ((json_decode($out // '') // {})->{sources}{kumo} // {})->{records}
	    // 0;
}

my $w = start_writer($logs, rate => 4000, size => 150_000, flush => 1);
srand($ENV{SOURCE_KILL_SEED} // $$);
my ($last, $progressed) = (0, 0);
for my $c (1 .. $CYCLES) {
	start_spoold($s);
	my $n = 0;
	$progressed++ if wait_until(sub { ($n = records()) > $last }, 10);
	$last = $n;
	# The moment is random on purpose: mid-batch, mid-commit, between.
	sleep(rand(0.3));
	kill_spoold($s);
}
is($progressed, $CYCLES, "$CYCLES SIGKILL cycles, each after the source read on");
is(stop_writer($w), 0, 'the writer stops, closing its segment');
my ($wrote) = map { /^wrote (\d+) records in (\d+) segments$/ ? $1 : () }
    writer_lines($w);
my $segs = () = segments($logs);
ok(defined $wrote && $wrote > 0, "it wrote $wrote records in $segs segments");

start_spoold($s);
ok(wait_until(sub { records() == $wrote }, 60), 'after the last restart the source has read them all');
is(records(), $wrote, "the source counts $wrote records");
is(stop_spoold($s), 0, 'spoold stops');
my @ids = map { /"id":"([^"]*)"/ ? $1 : '?' } @{spooldump($s)->{records}};
my %n;
$n{$_}++ for @ids;
is(scalar(grep { $n{$_} > 1 } keys %n), 0, 'no record is in the spool twice');
is(scalar(grep { !$n{"r$_"} } 1 .. $wrote), 0, 'none is missing');
is(scalar @ids, $wrote, "exactly $wrote records spooled");

# Delivered now: each record reaches the receiver.
my $rcv = start_receiver();
$base =~ s{http://127\.0\.0\.1:9/h}{$rcv->{url}/h};
$base =~ s/retry_interval = "1h"\nmax_retry_interval = "1h"\n/batch_size = 500\n/;
spew($s->{conf}, $base . "[source.kumo]\ndirectory = \"$logs\"\n");
start_spoold($s);
my ($rc) = spoolctl($s, undef, 'flush');
is($rc, 0, 'deferred records made due');
my $st = wait_status($s, 'h', sub { ($_[0]{delivered} // 0) >= $wrote }, 120);
is($st->{delivered}, $wrote, 'all delivered');
my %got;
$got{$_}++ for map { /"id":"([^"]*)"/ ? $1 : () } @{receiver_records($rcv)};
is(scalar(grep { !$got{"r$_"} } 1 .. $wrote), 0, 'the receiver has every record');
is(scalar(grep { $got{$_} > 1 } keys %got), 0, 'each once');
is(stop_spoold($s), 0, 'spoold stops');
stop_receiver($rcv);
done_testing();
