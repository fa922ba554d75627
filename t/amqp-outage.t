#!/usr/bin/perl
# Nothing acknowledged is lost when the broker goes away mid-run and
# comes back (the records wait, then all arrive), nor when spoold is
# killed under load and started again (duplicates allowed, losses not).
# A connection that died idle while the broker was away is replaced at
# once, not after a retry interval.
use strict;
use warnings;
use lib 't/lib';
use SpooldTest;
use RabbitMQ;
use Test::More;

if (my $why = rabbitmq_missing()) {
	plan skip_all => $why;
}

my $n = rabbitmq_start();
my $u = $n->{url};
declare_queues($u, qw(outage killed kept));

my $s = new_spool(hooks => <<"EOT");
[hook.outage]
url = "$u"
routing_key = "outage"
batch_size = 10
timeout = "3s"
retry_interval = "200ms"
max_retry_interval = "1s"

[hook.killed]
url = "$u"
routing_key = "killed"
batch_size = 20
timeout = "3s"
retry_interval = "200ms"
max_retry_interval = "1s"

[hook.kept]
url = "$u"
routing_key = "kept"
types = ["OOB"]
connection_limit = 1
idle_timeout = "5m"
retry_interval = "20m"
EOT
start_spoold($s);

# Posts records first .. last in requests of 25; returns those acknowledged.
sub post_range {
	my ($first, $last) = @_;
	my @acked;
	for (my $i = $first; $i <= $last; $i += 25) {
		my $end = $i + 24 > $last ? $last : $i + 24;
		my @part = map { kumo_record($_, 'Delivery') } $i .. $end;
		my $r = eval { post($s, '/log', 'application/x-ndjson',
		    join("\n", @part) . "\n") };
		push(@acked, @part) if $r && $r->{status} == 200;
	}
	return @acked;
}

# Consumes a queue until it has seen every one of want (a set of bodies).
sub drain_until {
	my ($q, $want, $secs) = @_;
	my %seen;
	my $dups = 0;
	wait_until(sub {
		my (undef, $o) = amqp_tool($u, 'get', $q, 1000, 1);
		for my $m (map { json_decode($_) } split /\n/, $o // '') {
			$dups++ if $seen{$m->{body}}++;
		}
		return !grep { !$seen{$_} } keys %$want;
	}, $secs // 60);
	my @missing = grep { !$seen{$_} } keys %$want;
	return (scalar @missing, $dups);
}

# The broker goes away mid-run. The kept hook's worker holds its
# connection open meanwhile.
my $r = post($s, '/log', 'application/json', kumo_record(1, 'OOB'));
is($r->{status}, 200, 'a record for the kept hook');
is(wait_status($s, 'kept', sub { ($_[0]{delivered} // 0) == 1 },
    20)->{delivered}, 1, 'delivered; its connection stays open');
my %want = map { $_ => 1 } post_range(1, 100);
is(scalar keys %want, 100, 'the first 100 records acknowledged');
ok(wait_status($s, 'outage', sub { ($_[0]{delivered} // 0) > 0 },
    20)->{delivered}, 'some delivered before the broker stops');
rabbitmq_stop($n);
$want{$_} = 1 for post_range(101, 200);
is(scalar keys %want, 200, '100 more acknowledged while it is down');
my $st = wait_status($s, 'outage', sub { ($_[0]{deferred} // 0) > 0 }, 20);
ok($st->{deferred} > 0, 'records wait, deferred, while it is down');
is($st->{dead} // 0, 0, 'none dead');
rabbitmq_restart($n);
my ($missing, $dups) = drain_until('outage', \%want);
is($missing, 0, 'all 200 arrived once the broker is back');
note("$dups duplicates");
is(queued(wait_status($s, 'outage', sub { queued($_[0]) == 0 }, 30)), 0,
    'nothing left queued');
$r = post($s, '/log', 'application/json', kumo_record(2, 'OOB'));
is($r->{status}, 200, 'another record for the kept hook');
my $kept = wait_status($s, 'kept', sub { ($_[0]{delivered} // 0) == 2 },
    20);
is($kept->{delivered}, 2, 'delivered over a new connection, at once');
is($kept->{deferred} // 0, 0, 'without waiting for a retry');
is((amqp_tool($u, 'count', 'kept'))[1], "2\n", 'both in its queue');

# spoold killed under load, then started again: a producer posts on
# while it is killed, noting what was acknowledged.
my $log = "$s->{dir}/acked";
my $pid = fork() // die "fork: $!";
if ($pid == 0) {
	open(my $fh, '>', $log) or POSIX::_exit(1);
	$fh->autoflush(1);
	for (my $i = 1001; $i < 6001; $i += 25) {
		my @part = map { kumo_record($_, 'Delivery') } $i .. $i + 24;
		my $r = eval { post($s, '/log', 'application/x-ndjson',
		    join("\n", @part) . "\n") };
		last unless $r && $r->{status} == 200;
		print $fh "$i\n";
	}
	close($fh);
	POSIX::_exit(0);
}
ok(wait_until(sub { my @l = split /\n/, slurp($log) // ''; @l >= 8 }, 30),
    'the producer is under way');
ok(wait_status($s, 'killed', sub { ($_[0]{delivered} // 0) > 0 },
    20)->{delivered}, 'some delivered');
kill_spoold($s);
waitpid($pid, 0);
my %acked = map { my $i = $_;
    map { kumo_record($_, 'Delivery') => 1 } $i .. $i + 24 }
    split /\n/, slurp($log) // '';
ok(scalar keys %acked >= 200 && scalar keys %acked < 5000,
    scalar(keys %acked) . ' records acknowledged before the kill, of 5000');
start_spoold($s);
($missing, $dups) = drain_until('killed', \%acked);
is($missing, 0, 'every acknowledged record arrived after the restart');
note("$dups duplicates");
is(queued(wait_status($s, 'killed', sub { queued($_[0]) == 0 }, 30)), 0,
    'nothing left queued');

is(stop_spoold($s), 0, 'spoold stops');
done_testing();
