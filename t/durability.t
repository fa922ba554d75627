#!/usr/bin/perl
# SIGKILL loses nothing acknowledged: after a kill -9 right after the
# 200s, and in the middle of concurrent producers, a restarted spoold's
# spool holds every acknowledged record once, and nothing that was never
# sent.
use strict;
use warnings;
use lib 't/lib';
use SpooldTest;
use POSIX qw(:sys_wait_h);
use Test::More;

my $s = new_spool();
start_spoold($s);

# Sequential requests in every format; kill -9 right after the last 200.
my (@acked, $ok);
my $n = 0;
for my $i (1 .. 60) {
	my @recs = map { kumo_record($n++) } 1 .. 1 + $i % 7;
	my $r;
	if ($i % 3 == 0) {
		$r = post($s, '/log', 'application/x-ndjson', join("\n", @recs));
	} elsif ($i % 3 == 1) {
		$r = post($s, '/log', 'application/json', '[' . join(',', @recs) . ']');
	} else {
		@recs = ($recs[0]);
		$r = post($s, '/log', 'application/json', $recs[0]);
	}
	$ok++ if $r->{status} == 200;
	push @acked, @recs if $r->{status} == 200;
}
is($ok, 60, 'sixty requests acknowledged');
kill_spoold($s);
start_spoold($s);
my ($st, $out) = spoolctl($s, undef, '--json', 'status');
is(queued(json_decode($out)->{hooks}{h}), scalar @acked,
    'after kill -9 and restart spoolctl counts every acknowledged record');
is(stop_spoold($s), 0, 'clean stop');
my $d = spooldump($s, 'h');
is_deeply($d->{records}, \@acked,
    'the spool holds exactly the acknowledged records, in order');

# Concurrent producers, killed mid-stream.
my $c = new_spool();
start_spoold($c);
my $producers = 8;
my @kids;
for my $p (0 .. $producers - 1) {
	my $pid = fork() // die "fork: $!";
	if ($pid == 0) {
		open(my $ack, '>', "$c->{dir}/acked.$p") or POSIX::_exit(1);
		open(my $sent, '>', "$c->{dir}/sent.$p") or POSIX::_exit(1);
		$ack->autoflush(1);
		$sent->autoflush(1);
		my $k = 0;
		for my $req (1 .. 2000) {
			my @recs = map { kumo_record($p * 1_000_000 + $k++) }
			    1 .. 1 + $req % 20;
			print $sent "$_\n" for @recs;
			my $r = eval { post($c, '/log', 'application/x-ndjson',
			    join("\n", @recs)) };
			last unless $r && $r->{status} == 200;
			print $ack "$_\n" for @recs;
		}
		POSIX::_exit(0);
	}
	push @kids, $pid;
}
# Kill once a good number of requests were acknowledged, or after 20 s.
wait_until(sub {
	my $lines = 0;
	for my $p (0 .. $producers - 1) {
		my $a = slurp("$c->{dir}/acked.$p") // '';
		$lines += ($a =~ tr/\n//);
	}
	return $lines >= 3000;
}, 20);
kill_spoold($c);
for my $pid (@kids) {
	wait_until(sub { waitpid($pid, WNOHANG) != 0 }, 30) or kill('KILL', $pid);
}
my (%acked, %sent);
for my $p (0 .. $producers - 1) {
	$acked{$_}++ for split /\n/, slurp("$c->{dir}/acked.$p") // '';
	$sent{$_}++ for split /\n/, slurp("$c->{dir}/sent.$p") // '';
}
ok(scalar(keys %acked) > 0, scalar(keys %acked) . ' records acknowledged before the kill');
start_spoold($c);
is(stop_spoold($c), 0, 'restart and clean stop after kill -9');
$d = spooldump($c, 'h');
my %stored;
$stored{$_}++ for @{$d->{records}};
my @lost = grep { !$stored{$_} } keys %acked;
is(scalar @lost, 0, 'no acknowledged record is lost');
my @alien = grep { !$sent{$_} } keys %stored;
is(scalar @alien, 0, 'nothing in the spool that was never sent');
my @dups = grep { $stored{$_} > 1 } keys %stored;
is(scalar @dups, 0, 'no record stored twice');
is($d->{counts}{h}[0] + $d->{counts}{h}[1], scalar @{$d->{records}},
    'the queued counts match the records');

done_testing();
