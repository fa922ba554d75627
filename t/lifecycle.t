#!/usr/bin/perl
# Stopping and reloading: SIGTERM lets a request under way finish (and it
# is not sent again), system_shutdown_timeout bounds the wait without
# losing the record, ingest answers 503 while stopping, and SIGHUP adds,
# re-points and removes hooks, or refuses a broken configuration.
use strict;
use warnings;
use lib 't/lib';
use SpooldTest;
use POSIX qw(:sys_wait_h);
use Time::HiRes qw(time);
use Test::More;

# Wait (bounded) for spoold to exit after a signal sent elsewhere;
# returns its wait status, or -1 after killing it.
sub wait_exit {
	my ($s, $secs) = @_;
	my $st;
	wait_until(sub {
		my $r = waitpid($s->{pid}, WNOHANG);
		$st = $? if $r == $s->{pid};
		return $r != 0;
	}, $secs);
	if (!defined $st) {
		kill('KILL', $s->{pid});
		waitpid($s->{pid}, 0);
		$st = -1;
	}
	delete $s->{pid};
	return $st;
}

# The end of spoold's log, to see why a check failed.
sub show_log {
	my ($s) = @_;
	my @l = split /\n/, slurp("$s->{dir}/spoold.log") // '';
	my @why = grep { /ERROR:|SUMMARY:/ } @l;
	splice(@l, 0, @l - 15) if @l > 15;
	diag(join("\n", 'spoold.log:', @why, @l));
	return 0;
}

sub alive { my ($s) = @_; waitpid($s->{pid}, WNOHANG) == 0 }

# Records (canonical) a receiver took with 2xx, counted.
sub took {
	my ($rcv) = @_;
	my %n;
	$n{$_}++ for @{receiver_records($rcv)};
	return \%n;
}
sub has_all {
	my ($rcv, @recs) = @_;
	my $t = took($rcv);
	return !grep { !$t->{canon($_)} } @recs;
}

# Replace the [hook.*] tables of the configuration file.
sub set_hooks {
	my ($s, $hooks) = @_;
	my $c = slurp($s->{conf});
	$c =~ s/^\[hook\..*//ms;
	spew($s->{conf}, $c . $hooks);
}

sub hooks_listed {
	my ($s) = @_;
	my ($st, $out) = spoolctl($s, undef, '--json', 'status');
	my $j = json_decode($out // '') // {};
	return [ sort keys %{$j->{hooks} // {}} ];
}

sub count_in_log {
	my ($s, $re) = @_;
	my $l = slurp("$s->{dir}/spoold.log") // '';
	return scalar(() = $l =~ /$re/g);
}

my $n = 0;
sub rec { kumo_record($n++) }
sub ingest {
	my ($s, @recs) = @_;
	my $r = post($s, '/log', 'application/x-ndjson', join("\n", @recs));
	return $r->{status} == 200 && $r->{json}{accepted} == @recs;
}

# 1. SIGTERM while a request is under way: spoold waits for the answer.
{
	my $rcv = start_receiver('-d', 1500);
	my $s = new_spool(hooks => <<"EOT");
[hook.h]
url = "$rcv->{url}/"
EOT
	start_spoold($s);
	my $r1 = rec();
	ok(ingest($s, $r1), 'in flight: one record ingested');
	ok(wait_until(sub { @{receiver_requests($rcv)} == 1 }, 20),
	    'in flight: the request reached the receiver');
	kill('TERM', $s->{pid});
	my $t0 = time;

	# Ingest while stopping: new connections are no longer accepted, so
	# ask on post()'s kept-alive connection once the log says stopping
	# (logged just before ingest is closed; polling is far slower).
	ok(wait_until(sub { count_in_log($s, qr/^spoold: stopping$/m) }, 5),
	    'while stopping: the log says stopping');
	my $p = post($s, '/log', 'application/json', rec());
	is($p->{status}, 503, 'while stopping: ingest answers 503') or
	    diag("answer: $p->{status} $p->{content}");
	ok(($p->{headers}{'retry-after'} // '') =~ /^\d+$/,
	    'while stopping: 503 carries Retry-After');

	is(wait_exit($s, 20), 0, 'in flight: spoold exits 0 after SIGTERM');
	my $took = time - $t0;
	ok($took > 0.5, sprintf('in flight: spoold waited for the answer '
	    . '(%.1f s)', $took));
	my $q = receiver_requests($rcv);
	is($q->[0]{status}, 200, 'in flight: the receiver answered 200');
	unlike(slurp("$s->{dir}/spoold.log") // "", qr/stopped in a request/,
	    'in flight: no worker was stopped in a request');
	my $d = spooldump($s, 'h');
	is_deeply($d->{counts}{h}, [0, 0, 0, 1, 0],
	    'in flight: the spool counts it delivered, nothing queued');
	is_deeply($d->{records}, [], 'in flight: no record left in the spool');

	start_spoold($s);
	ok(!wait_until(sub { @{receiver_requests($rcv)} > 1 }, 3),
	    'in flight: after a restart it is not delivered again');
	is(status_of($s, 'h')->{delivered}, 1,
	    'in flight: status still says delivered 1');
	show_log($s) unless Test::More->builder->is_passing;
	is(stop_spoold($s), 0, 'in flight: second stop exits 0');
	is(scalar @{receiver_requests($rcv)}, 1,
	    'in flight: the receiver saw exactly one request');
	stop_receiver($rcv);
}

# 2. system_shutdown_timeout bounds the wait for a slow receiver; the
# record stays queued and goes out after a restart.
{
	my $slow = start_receiver('-d', 10000);
	my $hook = <<'EOT';
[hook.h]
url = "%s/"
system_shutdown_timeout = "500ms"
retry_interval = "1s"
EOT
	my $s = new_spool(hooks => sprintf($hook, $slow->{url}));
	start_spoold($s);
	my $r1 = rec();
	ok(ingest($s, $r1), 'timeout: one record ingested');
	ok(wait_until(sub { @{receiver_requests($slow)} == 1 }, 20),
	    'timeout: the request reached the slow receiver');
	kill('TERM', $s->{pid});
	my $t0 = time;
	my $st = wait_exit($s, 20);
	my $took = time - $t0;
	is($st, 0, 'timeout: spoold exits 0');
	ok($took < 8, sprintf('timeout: exit within 8 s of SIGTERM '
	    . '(%.1f s, receiver holds 10 s)', $took));
	my $d = spooldump($s, 'h');
	my $c = $d->{counts}{h} // [];
	is(($c->[0] // 0) + ($c->[1] // 0), 1,
	    'timeout: the record is still queued (ready or deferred)');
	is($c->[3] // -1, 0, 'timeout: nothing counted delivered');
	is_deeply($d->{records}, [$r1], 'timeout: the record bytes are kept');
	my @said = (slurp("$s->{dir}/spoold.log") // '') =~
	    /worker \d+ (?:stopped in a request|died) with (\d+) records?/g;
	is("@said", '1', 'timeout: the log says once that a worker was ' .
	    'stopped in a request with 1 record');

	my $fast = start_receiver();
	set_hooks($s, sprintf($hook, $fast->{url}));
	start_spoold($s);
	ok(wait_until(sub { has_all($fast, $r1) }, 20),
	    'timeout: after a restart the record is delivered');
	show_log($s) unless Test::More->builder->is_passing;
	is(stop_spoold($s), 0, 'timeout: second stop exits 0');
	is(scalar @{receiver_records($fast)}, 1,
	    'timeout: delivered once after the restart');
	stop_receiver($_) for $fast, $slow;
}

# 3. The launcher: spoold's one child titled "spoold: launcher" forks
# the workers; killed, it is replaced when a worker is next needed, and
# it goes when spoold stops.
sub launcher_pids { children_titled($_[0], 'spoold: launcher') }
{
	my $rcv = start_receiver();
	my $s = new_spool(hooks => <<"EOT");
[hook.h]
url = "$rcv->{url}/"
idle_timeout = "200ms"
EOT
	start_spoold($s);
	my @l;
	# It takes its title a moment after spoold is ready.
	wait_until(sub { (@l = launcher_pids($s)) > 0 }, 10);
	is(scalar @l, 1, 'launcher: spoold has one child titled '
	    . '"spoold: launcher"');
	my $r1 = rec();
	ok(ingest($s, $r1) && wait_until(sub { has_all($rcv, $r1) }, 20),
	    'launcher: a record is delivered');
	ok(wait_until(sub { worker_pids($s, 'h') == 0 }, 10),
	    'launcher: the idle worker exits');
	kill('KILL', $l[0]);
	ok(wait_until(sub { !-e "/proc/$l[0]" }, 10),
	    'launcher: killed, it is reaped');
	my $r2 = rec();
	ok(ingest($s, $r2) && wait_until(sub { has_all($rcv, $r2) }, 20),
	    'launcher: the next record is delivered by a new worker');
	is(count_in_log($s, qr/launcher: pid $l[0] is gone, replacing it/),
	    1, 'launcher: the log says it was replaced');
	my @n = launcher_pids($s);
	ok(@n == 1 && $n[0] != $l[0], 'launcher: a new one runs');
	# Stopped, it does not answer: spoold kills it and asks another.
	ok(wait_until(sub { worker_pids($s, 'h') == 0 }, 10),
	    'launcher: the idle worker exits again');
	kill('STOP', $n[0]);
	my $r3 = rec();
	ok(ingest($s, $r3) && wait_until(sub { has_all($rcv, $r3) }, 20),
	    'launcher: stopped, the next record is still delivered');
	is(count_in_log($s,
	    qr/launcher: pid $n[0] does not answer, replacing it/), 1,
	    'launcher: the log says it did not answer');
	ok(wait_until(sub { !-e "/proc/$n[0]" }, 10),
	    'launcher: the stopped one is killed and reaped');
	is(took($rcv)->{canon($r3)}, 1, 'launcher: the record went out once');
	@n = launcher_pids($s);
	show_log($s) unless Test::More->builder->is_passing;
	is(stop_spoold($s), 0, 'launcher: spoold stops cleanly');
	ok(wait_until(sub { !-e "/proc/$n[0]" ||
	    (slurp("/proc/$n[0]/cmdline") // '') ne "spoold: launcher\0" }, 10),
	    'launcher: it is gone once spoold is');
	stop_receiver($rcv);
}

# 4. SIGHUP.
{
	my ($ra, $rb, $rc) = map { start_receiver() } 1 .. 3;
	my $ha = qq([hook.ha]\nurl = "$ra->{url}/"\n\n);
	# A worker of hb never goes idle, so only the reload can end it.
	my $hb = qq([hook.hb]\nurl = "%s/"\nidle_timeout = "1h"\n\n);
	my $s = new_spool(hooks => $ha);
	start_spoold($s);
	my $r0 = rec();
	ok(ingest($s, $r0), 'reload: a record before any reload');
	ok(wait_until(sub { has_all($ra, $r0) }, 20), 'reload: ha delivers');

	# (a) a new hook.
	set_hooks($s, $ha . sprintf($hb, $rb->{url}));
	kill('HUP', $s->{pid});
	ok(wait_until(sub { grep { $_ eq 'hb' } @{hooks_listed($s)} }, 10),
	    'add: status lists the new hook');
	my $r1 = rec();
	ok(ingest($s, $r1), 'add: a record after the reload');
	ok(wait_until(sub { has_all($rb, $r1) }, 20),
	    'add: the new hook delivers it');
	ok(wait_until(sub { has_all($ra, $r1) }, 20),
	    'add: the old hook still delivers');

	# (b) hb moves to another receiver.
	my $reloads = count_in_log($s, qr/configuration reloaded/);
	set_hooks($s, $ha . sprintf($hb, $rc->{url}));
	kill('HUP', $s->{pid});
	ok(wait_until(sub {
		count_in_log($s, qr/configuration reloaded/) > $reloads }, 10),
	    'url: the reload is applied');
	my @after = map { rec() } 1 .. 6;
	ok(ingest($s, @after[0 .. 2]) && ingest($s, @after[3 .. 5]),
	    'url: six records after the reload');
	ok(wait_until(sub { has_all($rc, @after) }, 20),
	    'url: they arrive at the new url');
	my ($tb, $tc) = (took($rb), took($rc));
	is(scalar(grep { $tb->{canon($_)} } @after), 0,
	    'url: none of them went to the old url');
	is(scalar(grep { ($tc->{canon($_)} // 0) != 1 } @after), 0,
	    'url: each arrived exactly once');
	ok(wait_until(sub { has_all($ra, @after) }, 20),
	    'url: the other hook got them too');

	# (c) a configuration with a syntax error is refused.
	my $good = slurp($s->{conf});
	spew($s->{conf}, $good . "[hook.broken\nurl = \"http://x\n");
	kill('HUP', $s->{pid});
	ok(wait_until(sub { count_in_log($s, qr/reload refused/) > 0 }, 10),
	    'broken: the log says "reload refused"');
	ok(alive($s), 'broken: spoold keeps running');
	is(get($s, '/health')->{status}, 200, 'broken: /health answers 200');
	my $r2 = rec();
	ok(ingest($s, $r2), 'broken: ingest goes on');
	ok(wait_until(sub { has_all($ra, $r2) && has_all($rc, $r2) }, 20),
	    'broken: the old configuration delivers (both hooks, new url)');
	# spoolctl reads the file too: give it a sound copy.
	my $ctl = { %$s, conf => "$s->{dir}/good.conf" };
	spew($ctl->{conf}, $good);
	is_deeply(hooks_listed($ctl), [qw(ha hb)],
	    'broken: the hooks are those of the old configuration');

	# (d) a hook removed: its workers go.
	ok(wait_until(sub { worker_pids($s, 'hb') > 0 }, 5),
	    'remove: hb has a worker before');
	spew($s->{conf}, $good);
	set_hooks($s, $ha);
	kill('HUP', $s->{pid});
	ok(wait_until(sub { !grep { $_ eq 'hb' } @{hooks_listed($s)} }, 10),
	    'remove: status no longer lists hb');
	ok(wait_until(sub { worker_pids($s, 'hb') == 0 }, 10),
	    'remove: the workers of hb exit');
	ok(alive($s), 'remove: spoold keeps running');
	my $r3 = rec();
	my $before = @{receiver_records($rc)};
	ok(ingest($s, $r3), 'remove: ingest goes on');
	ok(wait_until(sub { has_all($ra, $r3) }, 20),
	    'remove: the remaining hook delivers');
	is(scalar @{receiver_records($rc)}, $before,
	    'remove: nothing more for the removed hook');
	show_log($s) unless Test::More->builder->is_passing;
	is(stop_spoold($s), 0, 'reload: spoold stops cleanly');
	stop_receiver($_) for $ra, $rb, $rc;
}

done_testing();
