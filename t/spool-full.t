#!/usr/bin/perl
# A full spool refuses with 503 and Retry-After and loses nothing: at
# max_spool_size, and when the disk itself is full (ENOSPC, on a small
# tmpfs; skipped where mounting is not allowed). Freed room is used again
# without a restart.
use strict;
use warnings;
use lib 't/lib';
use SpooldTest;
use IO::Socket::INET;
use Test::More;

sub fill {
	my ($s, $acked, $base) = @_;
	my $r;
	for my $i (0 .. 2000) {
		my @recs = map { kumo_record($base + $i * 100 + $_) } 0 .. 99;
		$r = post($s, '/log', 'application/x-ndjson', join("\n", @recs));
		last if $r->{status} != 200;
		push @$acked, @recs;
	}
	return $r;
}

my $s = new_spool(conf => 'max_spool_size = "2MiB"');
start_spoold($s);
my @acked;
my $r = fill($s, \@acked, 0);
is($r->{status}, 503, 'a spool at max_spool_size answers 503');
like($r->{headers}{'retry-after'} // '', qr/^\d+$/, '503 says Retry-After');
like($r->{json}{error} // '', qr/full/, '503 says the spool is full');
ok(@acked > 0, scalar(@acked) . ' records acknowledged before it was full');
$r = get($s, '/health');
is($r->{status}, 200, 'spoold is still healthy');
for my $i (1 .. 3) {
	# A small record may still find room: then it is acknowledged.
	my $x = post($s, '/log', 'application/json', kumo_record(9_000_000 + $i));
	push @acked, kumo_record(9_000_000 + $i) if $x->{status} == 200;
}
my @full = grep { /spool is full/ } split /\n/, slurp("$s->{dir}/spoold.log") // '';
is(scalar @full, 1, 'the log says so once, not for each refusal');
like($full[0] // '', qr/^spoold: spool is full \(max_spool_size 2MiB\): records are refused with 503 until deliveries make room$/,
    'naming the limit');
kill_spoold($s);
start_spoold($s);
stop_spoold($s);
my $d = spooldump($s);
is_deeply($d->{records}, \@acked,
    'after kill -9 and restart every acknowledged record is there');

# A full spool still delivers, and the room it frees takes records again.
# The hook's port is held, bound but not listening, so connections to it
# are refused and no other server takes it until the receiver does.
my $hold = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
    Proto => 'tcp') or die "bind: $!";
my $port = $hold->sockport;
my $f = new_spool(conf => 'max_spool_size = "2MiB"', hooks => <<"EOT");
[hook.h]
url = "http://127.0.0.1:$port/h"
retry_interval = "200ms"
max_retry_interval = "500ms"
EOT
start_spoold($f);
my @fa;
$r = fill($f, \@fa, 3_000_000);
is($r->{status}, 503, "full while the hook is down") or diag("$r->{status} $r->{content}");
close($hold);
my $rcv = start_receiver('-p', $port);
my $st = wait_status($f, 'h', sub { ($_[0]{delivered} // 0) >= @fa }, 90);
is($st->{delivered}, scalar @fa, 'a full spool drains once the hook is up');
$r = post($f, '/log', 'application/json', kumo_record(4_000_000));
is($r->{status}, 200, 'and takes records again');
stop_spoold($f);
stop_receiver($rcv);

SKIP: {
	skip 'needs root to mount a tmpfs', 7 if $> != 0;
	my $e = new_spool(conf => 'max_spool_size = "1GiB"');
	mkdir($e->{spool});
	if (system('mount', '-t', 'tmpfs', '-o', 'size=3m', 'tmpfs',
	    $e->{spool}) != 0) {
		skip 'cannot mount a tmpfs here', 7;
	}
	my @ack;
	eval {
		start_spoold($e);
		$r = fill($e, \@ack, 1_000_000);
		is($r->{status}, 503, 'ENOSPC: 503');
		like($r->{json}{error} // '', qr/write failed/,
		    'ENOSPC: the error says the write failed');
		like($r->{headers}{'retry-after'} // '', qr/^\d+$/,
		    'ENOSPC: Retry-After');
		system('mount', '-o', 'remount,size=16m', $e->{spool});
		$r = post($e, '/log', 'application/json', kumo_record(5_000_000));
		is($r->{status}, 200, 'with room again ingest works, no restart');
		push @ack, kumo_record(5_000_000) if $r->{status} == 200;
		kill_spoold($e);
		start_spoold($e);
		is(stop_spoold($e), 0, 'restart after ENOSPC and kill -9');
		$d = spooldump($e);
		ok(@ack > 1, scalar(@ack) . ' records acknowledged');
		is_deeply($d->{records}, \@ack, 'ENOSPC lost nothing acknowledged');
	};
	diag($@) if $@;
	kill_spoold($e) if $e->{pid};
	system('umount', $e->{spool});
}

done_testing();
