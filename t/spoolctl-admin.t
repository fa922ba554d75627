#!/usr/bin/perl
# spoolctl's administration commands against a running spoold whose hook
# points at the test receiver: list, show, requeue, hold, release, flush,
# delete and reload, and their exit statuses: 0 done, 1 failed, 2 usage.
use strict;
use warnings;
use lib 't/lib';
use SpooldTest;
use Test::More;
use Time::HiRes qw(sleep time);

# A receiver on the port of the one before it, which the system may
# hold on to for a moment.
sub receiver_on {
	my ($port, @args) = @_;
	my $r;
	wait_until(sub { $r = eval { start_receiver('-p', $port, @args) } },
	    10) or die "receiver on port $port did not start\n";
	return $r;
}

my $recv = start_receiver('-s', '400');
# A test that dies must not leave its receiver holding prove's output.
END { kill('KILL', $recv->{pid}) if $recv && $recv->{pid} }
my $port = $recv->{port};
my $hook_h = <<"EOT";
[hook.h]
url = "http://127.0.0.1:$port/h"
retry_interval = "1h"
max_retry_interval = "2h"
EOT
my $s = new_spool(hooks => $hook_h);
start_spoold($s);

sub counts { status_of($s, $_[0] // 'h') }

sub wait_count {
	my ($key, $n, $hook) = @_;
	my $c = wait_status($s, $hook // 'h', sub { ($_[0]{$key} // -1) == $n },
	    20);
	return ($c->{$key} // -1) == $n;
}

my $next = 0;
sub ingest {
	my ($n) = @_;
	my @recs = map { kumo_record($next++, 'Bounce') } 1 .. $n;
	my $r = post($s, '/log', 'application/x-ndjson',
	    join("\n", @recs) . "\n");
	die "ingest: $r->{status} $r->{content}\n" if $r->{status} != 200;
	return @recs;
}

sub list_json {
	my (@args) = @_;
	my ($st, $out) = spoolctl($s, undef, 'list', '--json', @args);
	return $st == 0 ? json_decode($out)->{records} : undef;
}

# Dead letters: the receiver refuses everything for good.
my @recs = ingest(5);
ok(wait_count('dead', 5), 'records refused with 400 become dead letters');

my ($st, $out, $err) = spoolctl($s, undef, 'list', '--state', 'dead');
is($st, 0, 'list --state dead: exit 0');
like($out, qr/^ID\s+HOOK\s+STATE\s+ATTEMPTS\s+NEXT_ATTEMPT\s+LAST_ANSWER$/m,
    'list prints a table header');
my @rows = grep { /^[0-9a-f]{16} / } split(/\n/, $out);
is(scalar @rows, 5, 'list shows the 5 dead letters');
like($_, qr/^[0-9a-f]{16}\s+h\s+dead\s+1\s+-\s+400\b/, "row: $_")
    for @rows;

my $l = list_json('h', '--state', 'dead');
is(ref $l, 'ARRAY', 'list --json prints the records in an array');
is(scalar @$l, 5, 'with 5 entries');
my $e = $l->[0];
like($e->{id}, qr/^[0-9a-f]{16}$/, 'id is 16 hex digits');
is($e->{hook}, 'h', 'hook');
is($e->{state}, 'dead', 'state');
is($e->{attempts}, 1, 'attempts');
ok(exists $e->{next_attempt} && !defined $e->{next_attempt},
    'a dead letter has no next attempt');
like($e->{last_answer}, qr/^400\b/, 'last_answer has the 400');
ok(abs($e->{received} - time) < 120, 'received is unix seconds');
my @ids = map { $_->{id} } @$l;

is(scalar @{list_json('--limit', '2')}, 2, 'list --limit 2');
is(scalar @{list_json('--limit', '0')}, 5, 'list --limit 0 lists all');
is(scalar @{list_json('h', '--state', 'ready')}, 0, 'none ready');

($st, $out) = spoolctl($s, undef, 'show', $ids[0]);
is($st, 0, 'show ID: exit 0');
like($out, qr/^id:\s+$ids[0]$/m, 'show names the record');
like($out, qr/"id":"0{32}"/, 'show prints the record');
like($out, qr/^h\s+dead\s+1\s+-\s+400\b/m, 'show prints its state');
($st, $out) = spoolctl($s, undef, 'show', '--json', $ids[0]);
my $j = json_decode($out);
is($j->{record}{id}, '0' x 32, 'show --json: the record as JSON');
is($j->{hooks}[0]{hook}, 'h', 'show --json: the hook');
is($j->{hooks}[0]{state}, 'dead', 'show --json: the state');
($st, $out) = spoolctl($s, undef, 'show', '1');
is($st, 0, 'show takes an id without its leading zeros');

($st, $out, $err) = spoolctl($s, undef, 'show', 'fffffffffff');
is($st, 1, 'show of an unknown id: exit 1');
like($err, qr/^spoolctl: show: no such record/, 'says there is none');
for my $bad ('xyz', '12345678901234567', '') {
	($st, $out, $err) = spoolctl($s, undef, 'show', $bad);
	is($st, 2, "show '$bad': exit 2");
}
like($err, qr/^spoolctl: bad spool id/, 'says the id is bad');

# Requeue to a receiver that takes everything now.
stop_receiver($recv);
$recv = receiver_on($port);
($st, $out) = spoolctl($s, undef, 'requeue', 'h', $ids[0]);
is($st, 0, 'requeue HOOK ID: exit 0');
is($out, "requeued 1 record\n", 'requeue says how many');
ok(wait_count('delivered', 1), 'the requeued record is delivered');
is(counts()->{dead}, 4, 'the others stay dead');
($st, $out) = spoolctl($s, undef, 'requeue', '--json');
is($st, 0, 'requeue: exit 0');
is_deeply(json_decode($out), { requeued => 4 }, 'requeue --json');
ok(wait_count('delivered', 5), 'all requeued records are delivered');
is(counts()->{dead}, 0, 'no dead letters left');
($st, $out, $err) = spoolctl($s, undef, 'requeue', $ids[0]);
is($st, 1, 'requeue of a record that is no dead letter: exit 1');
like($err, qr/^spoolctl: requeue: none/, 'says so');

# Hold and release.
($st, $out) = spoolctl($s, undef, 'hold', 'h');
is($st, 0, 'hold: exit 0');
is($out, "hook h held\n", 'hold says so');
ok(counts()->{held}, 'status shows the hook held');
ingest(3);
ok(wait_count('held_records', 3), 'records of a held hook are queued');
sleep(1);
my $c = counts();
is($c->{held_records}, 3, 'and stay held while it is held');
is($c->{delivered}, 5, 'nothing is delivered while held');
is(scalar @{list_json('h', '--state', 'ready')}, 3, 'list --state ready');
($st, $out) = spoolctl($s, undef, 'release', 'h', '--json');
is($st, 0, 'release: exit 0');
is_deeply(json_decode($out), { hook => 'h', held => JSON::PP::false },
    'release --json');
ok(wait_count('delivered', 8), 'released records are delivered');
ok(!counts()->{held}, 'the hook is no longer held');

# Flush: deferred records due in an hour are sent now.
stop_receiver($recv);
$recv = receiver_on($port, '-s', '503');
ingest(3);
ok(wait_count('deferred', 3), '503 defers the records');
$l = list_json('--state', 'deferred');
ok(@$l == 3 && !grep({ $_->{next_attempt} < time + 1800 } @$l),
    'their next attempt is an hour away');
like($l->[0]{last_answer}, qr/^503\b/, 'last_answer has the 503');
stop_receiver($recv);
$recv = receiver_on($port);
sleep(0.5);
is(counts()->{deferred}, 3, 'deferred records wait');
($st, $out) = spoolctl($s, undef, 'flush', 'h');
is($st, 0, 'flush: exit 0');
is($out, "flushed 3 records\n", 'flush says how many');
ok(wait_count('delivered', 11), 'flushed records are delivered at once');
is(counts()->{deferred}, 0, 'none deferred');

# Delete.
stop_receiver($recv);
$recv = receiver_on($port, '-s', '400');
ingest(4);
ok(wait_count('dead', 4), 'four more dead letters');
@ids = map { $_->{id} } @{list_json('h', '--state', 'dead')};
($st, $out) = spoolctl($s, undef, 'delete', $ids[0]);
is($st, 0, 'delete ID: exit 0');
is($out, "deleted 1 record\n", 'delete says how many');
is(counts()->{dead}, 3, 'one dead letter less');
($st) = spoolctl($s, undef, 'show', $ids[0]);
is($st, 1, 'the deleted record is gone');
($st, $out, $err) = spoolctl($s, undef, 'delete', $ids[0], $ids[1]);
is($st, 1, 'delete of a missing record: exit 1');
like($err, qr/^spoolctl: delete: 1 of 2 records not found/,
    'says how many were not found');
is(counts()->{dead}, 2, 'the one found was deleted');
($st, $out) = spoolctl($s, undef, 'delete', '--hook', 'h', '--state',
    'dead', '--json');
is($st, 0, 'delete --hook h --state dead: exit 0');
is_deeply(json_decode($out), { deleted => 2 }, 'deleted the rest');
is(counts()->{dead}, 0, 'no dead letters left');
is(scalar @{list_json()}, 0, 'nothing listed');
($st, $out, $err) = spoolctl($s, undef, 'delete', '--hook', 'nosuch',
    '--state', 'dead');
is($st, 1, 'delete for an unknown hook: exit 1');
like($err, qr/^spoolctl: delete: no such hook: nosuch/, 'names the hook');

# Usage errors and failures.
for my $args (['list', '--state', 'gone'], ['list', '--limit', 'x'],
    ['list', '--limit', '-1'], ['list', '--bogus'], ['list', 'a', 'b'],
    ['show'], ['show', '1', '2'], ['flush', 'a', 'b'], ['hold'],
    ['hold', 'a', 'b'], ['release'], ['requeue', 'h', 'xyz'],
    ['delete'], ['delete', 'xyz'], ['delete', '--hook', 'h'],
    ['delete', '--hook', 'h', '--state', 'ready'],
    ['delete', '--state', 'dead'], ['delete', '--hook', 'h', '--state',
    'dead', '1'], ['reload', 'now'], ['status', '--hook', 'h']) {
	($st, $out, $err) = spoolctl($s, undef, @$args);
	is($st, 2, "spoolctl @$args: exit 2");
}
like($err, qr/^spoolctl: status: bad option/, 'names the bad option');
for my $cmd ('hold', 'release', 'flush', 'list', 'requeue') {
	($st, $out, $err) = spoolctl($s, undef, $cmd, 'nosuch');
	is($st, 1, "$cmd of an unknown hook: exit 1");
	like($err, qr/^spoolctl: $cmd: no such hook: nosuch$/, 'names it');
}

# Reload: a broken file is refused before spoold is asked.
my $conf = slurp($s->{conf});
my $broken = "$s->{dir}/broken.conf";
spew($broken, $conf . "[hook.h2]\nurl = 42\n");
my $reloads = () = (slurp("$s->{dir}/spoold.log") // '') =~ /reloaded/g;
($st, $out, $err) = run_cmd(undef, bin('spoolctl'), '-f', $broken,
    'reload');
is($st, 1, 'reload with a broken configuration: exit 1');
like($err, qr/^spoolctl: \Q$broken\E:\d+:\d+: /, 'names FILE:LINE:COL');
sleep(0.3);
my $now = () = (slurp("$s->{dir}/spoold.log") // '') =~ /reloaded/g;
is($now, $reloads, 'spoold was not asked to reload');

# A file spoolctl loads but spoold refuses: spoold says why.
my $good = "$s->{dir}/good.conf";
spew($good, $conf);
spew($s->{conf}, $conf . "[hook.h2]\nurl = 42\n");
($st, $out, $err) = run_cmd(undef, bin('spoolctl'), '-f', $good, 'reload');
is($st, 1, 'reload refused by spoold: exit 1');
like($err, qr/^spoolctl: reload refused: \Q$s->{conf}\E:\d+:\d+: .*url/,
    'says so, with FILE:LINE:COL');
is($out, '', 'and nothing on stdout');
ok(!exists counts('h2')->{ready}, 'the running configuration is kept');

spew($s->{conf}, $conf . "[hook.h2]\nurl = \"http://127.0.0.1:9/h2\"\n");
($st, $out, $err) = spoolctl($s, undef, 'reload');
is($st, 0, 'reload: exit 0');
is($out, "configuration reloaded\n", 'reload says it was done');
is($err, '', 'with no warning');
ok(exists counts('h2')->{ready}, 'the new hook shows in status at once');
($st, $out) = spoolctl($s, undef, 'reload', '--json');
is_deeply(json_decode($out), { reload => 'done' }, 'reload --json');
spew($s->{conf}, $conf =~ s/^pid_file = .*$/pid_file = "$s->{dir}\/other.pid"/mr .
    "[hook.h2]\nurl = \"http://127.0.0.1:9/h2\"\n");
($st, $out, $err) = spoolctl($s, undef, 'reload');
is($st, 0, 'reload of a change that needs a restart: exit 0');
like($err, qr/^spoolctl: reload: .*pid_file.* change only on restart$/,
    'with a warning on stderr');

# A hook gone from the configuration can still be named.
spoolctl($s, undef, 'hold', 'h2');
ingest(2);
ok(wait_count('held_records', 2, 'h2'), 'records for h2');
spew($s->{conf}, $conf);
spoolctl($s, undef, 'reload');
ok(wait_until(sub { exists counts()->{ready} &&
    !exists counts('h2')->{ready} }, 20),
    'h2 is gone from the configuration');
$l = list_json('h2');
is(scalar @$l, 2, 'list names a hook no longer configured');
is($l->[0]{hook}, 'h2', 'by its name');
($st, $out) = spoolctl($s, undef, 'show', '--json', $l->[0]{id});
my @h = map { $_->{hook} } @{json_decode($out)->{hooks}};
ok((grep { /^#\d+$/ } @h) == 1, "show names it by its number: @h");
($st, $out) = spoolctl($s, undef, 'delete', map { $_->{id} } @$l);
is($out, "deleted 2 records\n", 'its records can be deleted');

is(stop_spoold($s), 0, 'spoold stops');
stop_receiver($recv);

done_testing();
