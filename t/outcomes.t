#!/usr/bin/perl
# What each answer does: 2xx delivers; transient answers are retried
# with exponential backoff, each record with its own jitter, Retry-After
# as said; permanent answers dead-letter with the answer kept; a batch
# refused for good is split until the bad records are found; records
# past max_age are dead-lettered as expired.
use strict;
use warnings;
use lib 't/lib';
use SpooldTest;
use Test::More;

our @spoold_args;

sub setup {
	my ($hook_toml, @rargs) = @_;
	my $rcv = start_receiver(@rargs);
	my $s = new_spool(hooks => "[hook.h]\nurl = \"$rcv->{url}/h\"\n$hook_toml");
	start_spoold($s, @main::spoold_args);
	return ($s, $rcv);
}

sub inject {
	my ($s, @recs) = @_;
	my $r = post($s, '/log', 'application/x-ndjson', join("\n", @recs));
	die "ingest failed: $r->{status}" unless $r->{status} == 200;
}

sub teardown { stop_spoold($_[0]); stop_receiver($_[1]) }

# Transient answers: retried until delivered.
my ($s, $rcv) = setup("retry_interval = \"100ms\"\nmax_retry_interval = \"200ms\"\n",
    '-s', '503:0.5');
my @recs = map { kumo_record($_) } 1 .. 40;
inject($s, @recs);
my $st = wait_status($s, 'h', sub { ($_[0]{delivered} // 0) >= 40 }, 60);
is($st->{delivered}, 40, 'half answered 503: all delivered in the end');
is($st->{dead} + $st->{failed}, 0, 'nothing dead-lettered');
my %ok = map { $_ => 1 } @{receiver_records($rcv)};
is(scalar(grep { !$ok{canon($_)} } @recs), 0, 'every record arrived with a 2xx');
ok(scalar(grep { $_->{status} == 503 } @{receiver_requests($rcv)}) > 0,
    'some attempts were refused on the way');
like(slurp("$s->{dir}/spoold.log"), qr/^spoold: hook h: \d+ of \d+ records not delivered \(\d+ to retry, 0 dead-lettered\): status 503\b/m,
    'the log warns of the refusals, naming the hook and the status');
teardown($s, $rcv);

# Connection refused is transient too.
$s = new_spool(hooks => "[hook.h]\nurl = \"http://127.0.0.1:1/h\"\nretry_interval = \"1h\"\nmax_retry_interval = \"1h\"\n");
start_spoold($s);
inject($s, kumo_record(1));
$st = wait_status($s, 'h', sub { ($_[0]{deferred} // 0) == 1 }, 30);
is($st->{deferred}, 1, 'a refused connection defers the record');
stop_spoold($s);

# Permanent answers: dead letters, and the answer is kept.
($s, $rcv) = setup('', '-s', '400');
inject($s, map { kumo_record($_) } 1 .. 5);
$st = wait_status($s, 'h', sub { ($_[0]{dead} // 0) >= 5 }, 30);
is($st->{dead}, 5, '400: five dead letters');
is($st->{failed}, 5, '400: five failed');
is($st->{delivered}, 0, 'none delivered');
is(scalar @{receiver_requests($rcv)}, 5, 'each was tried once');
my @warned = grep { /hook h: \d+ of \d+ records not delivered/ }
    split /\n/, slurp("$s->{dir}/spoold.log") // '';
is(scalar @warned, 1, 'five failures in less than ten seconds: one warning');
like($warned[0] // '', qr/hook h: 1 of 1 records not delivered \(0 to retry, 1 dead-lettered\): status 400: \S/,
    'with the status and the start of the answer');
stop_spoold($s);
my $d = spooldump($s, 'h');
is(scalar @{$d->{records}}, 5, 'dead letters stay in the spool');
stop_receiver($rcv);

# A batch refused for good is split to find the records at fault.
($s, $rcv) = setup("batch_size = 8\nconnection_limit = 1\n", '-m', 'poison:422');
@recs = map { kumo_record($_) } 1 .. 16;
$recs[3] =~ s/"queue":"example.net"/"queue":"poison"/;
$recs[12] =~ s/"queue":"example.net"/"queue":"poison"/;
inject($s, @recs);
$st = wait_status($s, 'h', sub { ($_[0]{delivered} // 0) + ($_[0]{dead} // 0) >= 16 }, 30);
is($st->{delivered}, 14, 'the 14 good records of refused batches are delivered');
is($st->{dead}, 2, 'the 2 bad ones are dead letters');
my @good = @{receiver_records($rcv)};
my %g = map { $_ => 1 } @good;
ok(!$g{canon($recs[3])} && !$g{canon($recs[12])}, 'no poison was ever accepted');
is(scalar(grep { $g{canon($recs[$_])} } grep { $_ != 3 && $_ != 12 } 0 .. 15), 14,
    'each good record arrived');
teardown($s, $rcv);

# Past max_age: expired.
($s, $rcv) = setup("max_age = \"1s\"\nretry_interval = \"300ms\"\nmax_retry_interval = \"300ms\"\n",
    '-s', '503');
inject($s, map { kumo_record($_) } 1 .. 3);
$st = wait_status($s, 'h', sub { ($_[0]{dead} // 0) >= 3 }, 20);
is($st->{dead}, 3, 'records past max_age are dead letters');
is($st->{delivered}, 0, 'and were never delivered');
teardown($s, $rcv);

# Backoff: retry_interval * 2^(attempts-1), capped, less up to a fifth.
($s, $rcv) = setup("retry_interval = \"400ms\"\nmax_retry_interval = \"800ms\"\n", '-s', '503');
inject($s, kumo_record(1));
ok(wait_until(sub { @{receiver_requests($rcv)} >= 5 }, 20), 'five attempts made');
my @t = map { $_->{ms} } @{receiver_requests($rcv)};
my @want = (400, 800, 800, 800);
for my $i (0 .. 3) {
	my $gap = $t[$i + 1] - $t[$i];
	ok($gap >= $want[$i] * 0.8 - 20 && $gap <= $want[$i] + 400,
	    "retry gap $i is about $want[$i] ms less jitter ($gap)");
}
teardown($s, $rcv);

# Jitter: records refused together come back apart.
($s, $rcv) = setup("retry_interval = \"2s\"\nconnection_limit = 20\n", '-s', '503');
inject($s, map { kumo_record($_) } 1 .. 20);
ok(wait_until(sub { @{receiver_requests($rcv)} >= 40 }, 20), 'each record tried twice');
my (%first, %second);
for my $q (@{receiver_requests($rcv)}) {
	my $id = JSON::PP->new->decode(Encode::encode_utf8($q->{body}))->{id};
	if (exists $first{$id}) { $second{$id} //= $q->{ms} } else { $first{$id} = $q->{ms} }
}
my @delays = map { $second{$_} - $first{$_} } grep { exists $second{$_} } keys %first;
my ($lo, $hi) = (sort { $a <=> $b } @delays)[0, -1];
ok($lo >= 1600 - 20 && $hi <= 2000 + 500, "second attempts within (0.8, 1] of 2 s ($lo..$hi)");
ok($hi - $lo >= 20, "and spread apart by each record's jitter (" . ($hi - $lo) . " ms)");
teardown($s, $rcv);

# Retry-After is taken as said, not the hour of retry_interval.
($s, $rcv) = setup("retry_interval = \"1h\"\nmax_retry_interval = \"1h\"\n", '-s', '503', '-a', '1');
inject($s, kumo_record(1));
ok(wait_until(sub { @{receiver_requests($rcv)} >= 2 }, 10), 'retried despite retry_interval = 1h');
@t = map { $_->{ms} } @{receiver_requests($rcv)};
my $gap = $t[1] - $t[0];
ok($gap >= 1000 - 20 && $gap <= 2500, "after Retry-After: 1 ($gap ms)");
teardown($s, $rcv);

# At -v, a line for each request: records, time, status, what became of
# them; without -v, none.
unlike(slurp("$s->{dir}/spoold.log") // '', qr/hook h: \d+ records? in /,
    'no request lines without -v');
{
	local @main::spoold_args = ('-v');
	($s, $rcv) = setup("batch_size = 4\nconnection_limit = 1\n", '-m', 'poison:422');
}
@recs = map { kumo_record($_) } 1 .. 4;
$recs[1] =~ s/"queue":"example.net"/"queue":"poison"/;
inject($s, @recs);
$st = wait_status($s, 'h', sub { ($_[0]{delivered} // 0) + ($_[0]{dead} // 0) >= 4 }, 30);
my @lines = grep { /hook h: \d+ records? in / } split /\n/, slurp("$s->{dir}/spoold.log") // '';
is(scalar @lines, scalar @{receiver_requests($rcv)}, 'one line per request (' . scalar(@lines) . ')');
like($lines[0] // '', qr/^spoold: hook h: 4 records in \d+ ms on a new connection: status 422: refused whole, sent again in halves: \S/,
    'a batch refused whole');
ok((grep { /: 2 records in \d+ ms: status 200: 2 delivered, 0 to retry, 0 dead-lettered/ } @lines),
    'the good half delivered');
ok((grep { /: 1 record in \d+ ms: status 422: 0 delivered, 0 to retry, 1 dead-lettered: \S/ } @lines),
    'the bad record dead-lettered, with the start of the answer');
teardown($s, $rcv);

done_testing();
