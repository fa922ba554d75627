#!/usr/bin/perl
# Leases die with their holders: a worker killed in a request leaves its
# records due again at once (not after retry_interval or max_age), and
# after spoold itself is killed every record not committed as delivered
# is delivered again: at least once, nothing missing.
use strict;
use warnings;
use lib 't/lib';
use SpooldTest;
use Test::More;
use Time::HiRes qw(time);

# A worker killed with SIGKILL in the middle of a request.
my $rcv = start_receiver('-d', '1500');
my $s = new_spool(hooks => <<"EOT");
[hook.h]
url = "$rcv->{url}/h"
connection_limit = 1
retry_interval = "1h"
max_retry_interval = "1h"
EOT
start_spoold($s);
post($s, '/log', 'application/json', kumo_record(1));
my $st = wait_status($s, 'h', sub { ($_[0]{in_flight} // 0) == 1 }, 10);
is($st->{in_flight}, 1, 'the record is out with a worker');
my @pids = worker_pids($s, 'h');
is(scalar @pids, 1, 'one worker, titled "spoold: worker h"');
kill('KILL', @pids);
my $t0 = time;
$st = wait_status($s, 'h', sub { ($_[0]{delivered} // 0) == 1 }, 15);
is($st->{delivered}, 1, 'delivered by a new worker');
ok(time - $t0 < 10, sprintf('at once, not after retry_interval (%.1f s)', time - $t0));
is($st->{deferred}, 0, 'a killed worker is not a failed attempt');
my @new = worker_pids($s, 'h');
ok(@new && $new[0] != $pids[0], 'a new worker took over');
stop_spoold($s);
stop_receiver($rcv);

# spoold killed with SIGKILL in the middle of deliveries.
$rcv = start_receiver('-d', '50');
$s = new_spool(hooks => <<"EOT");
[hook.h]
url = "$rcv->{url}/h"
connection_limit = 4
retry_interval = "1h"
max_retry_interval = "1h"
EOT
start_spoold($s);
my @recs = map { kumo_record($_) } 1 .. 300;
my $r = post($s, '/log', 'application/x-ndjson', join("\n", @recs));
is($r->{status}, 200, '300 records acknowledged');
ok(wait_until(sub { @{receiver_requests($rcv)} >= 40 }, 30), 'deliveries under way');
kill_spoold($s);
my $before = scalar @{receiver_requests($rcv)};
ok($before < 300, "killed with $before of 300 delivered");
start_spoold($s);
$st = wait_status($s, 'h', sub { ($_[0]{ready} // 1) + ($_[0]{in_flight} // 1) + ($_[0]{deferred} // 1) == 0 }, 60);
is($st->{ready} + $st->{deferred} + $st->{in_flight}, 0, 'after restart the queue drains');
my %got;
$got{$_}++ for @{receiver_records($rcv)};
is(scalar(grep { !$got{canon($_)} } @recs), 0, 'every acknowledged record was delivered');
# A worker that is being answered holds up to 16 one-record batches (see
# spoold(8)), so at most 4 x 16 records were out when spoold was killed.
my $dups = grep { $_ > 1 } values %got;
ok($dups <= 4 * 16, "redelivered at most the records in flight at the kill ($dups)");
is(stop_spoold($s), 0, 'clean stop');
is(scalar @{spooldump($s)->{records}}, 0, 'the spool is empty');
stop_receiver($rcv);

done_testing();
