#!/usr/bin/perl
# make bench: spoold's benchmark.
#
#   perl bench/run.pl BUILD_DIR [syslog-ng]
#   perl bench/run.pl --records FILE [COUNT]
#
# Generates realistic KumoMTA log records, runs spoold (from BUILD_DIR,
# which must also hold t/loadgen and t/receiver) against a loopback
# webhook receiver, and prints a table of medians over BENCH_RUNS runs,
# also written to bench/results.md with a description of the machine.
# bench/README says what each workload measures and why it is done so.
# The second form only writes the benchmark's records (20,000 unless
# COUNT), one per line, for loadgen runs by hand.
#
# Environment:
#   BENCH_SCALE  multiplies every workload size (default 1: the issue's
#                sizes; 0.1 for a quick look)
#   BENCH_RUNS   runs of every workload; the medians are reported
#                (default 5: a shared or virtual machine is noisy)
#   BENCH_DIR    where the spools, syslog-ng's disk buffer and the dd
#                file go; it must be a real disk, not tmpfs, or fsync
#                costs nothing (default: /var/tmp, else bench/)
#   BENCH_OUT    the Markdown result file (default bench/results.md)
#   BENCH_ONLY   a comma-separated list of measurements to run (names as
#                printed: dd, ingest_1000, e2e_batch, sng_single, ...);
#                the others have no value in the table, so point
#                BENCH_OUT elsewhere to keep bench/results.md
#
# Only core Perl modules. Servers listen on 127.0.0.1 only, on free ports;
# every wait is bounded, and every process started here is stopped here,
# by its pid.
use strict;
use warnings;

use Cwd qw(abs_path);
use File::Basename qw(dirname);
use File::Path qw(remove_tree);
use File::Temp qw(tempdir);
use HTTP::Tiny;
use IO::Socket::INET;
use JSON::PP;
use POSIX qw(:sys_wait_h strftime);
use Time::HiRes qw(sleep time);

$| = 1;

my $BENCH = dirname(abs_path($0));
if (($ARGV[0] // '') eq '--records') {
	die "usage: run.pl --records FILE [COUNT]\n" unless defined $ARGV[1];
	my ($n, $mean, $min, $max) = gen_records($ARGV[1], $ARGV[2] // 20_000);
	printf "%d records, %d to %d bytes, mean %.0f\n", $n, $min, $max,
	    $mean;
	exit 0;
}
my $B = abs_path($ARGV[0] // '') or die "usage: run.pl BUILD_DIR [syslog-ng]\n";
my $PEER = $ARGV[1] // '';
die "run.pl: unknown peer '$PEER' (only syslog-ng)\n"
    if $PEER ne '' && $PEER ne 'syslog-ng';
for my $p ("$B/spoold", "$B/spoolctl", "$B/t/loadgen", "$B/t/receiver") {
	die "run.pl: $p is not built (make B=$B all tests)\n" unless -x $p;
}

my $SCALE = $ENV{BENCH_SCALE} // 1;
my $RUNS = $ENV{BENCH_RUNS} // 5;
die "run.pl: BENCH_SCALE must be a positive number\n"
    unless $SCALE =~ /\A(?:\d+\.?\d*|\.\d+)\z/ && $SCALE > 0;
die "run.pl: BENCH_RUNS must be a positive integer\n"
    unless $RUNS =~ /\A[1-9]\d*\z/;
my $OUT = $ENV{BENCH_OUT} // "$BENCH/results.md";

# The issue's sizes, scaled. Request counts round so that every request
# carries its full number of records.
sub scaled {
	my ($n, $per, $min) = @_;
	my $r = int($n * $SCALE / $per + 0.5);
	$r = $min // 1 if $r < ($min // 1);
	return $r * $per;
}
my $PRODUCERS = 16;
my %SIZE = (
	ingest_1000 => scaled(1_000_000, 1000, 20),	# workload 1
	ingest_100 => scaled(500_000, 100, 100),
	ingest_1 => scaled(50_000, 1, 1000),
	e2e => scaled(500_000, 100, 100),		# workload 2
	amqp => scaled(100_000, 100, 100),		# ... to brokers
	kafka => scaled(500_000, 100, 100),
	lat_seconds => scaled(30, 1, 3),		# workload 3, seconds
	mem_queued => scaled(1_000_000, 1000, 20),	# workload 4
	backlog => scaled(2_000_000, 1000, 20),		# workload 5
	backlog_probe => scaled(500_000, 100, 100),
	crowd => scaled(20_000, 1, 1000),		# workload 6
	ctl_queued => scaled(2_000_000, 1000, 20),	# workload 7
	source => scaled(1_000_000, 1000, 20),		# workload 8
);
my $CTL_TIMES = 11;		# spoolctl runs timed per measurement
my $CROWD_IDLE = 10_000;	# idle connections in workload 6
my $CROWD_SLOW = 1_000;		# ... or slow ones
my $CROWD_RATE = 2_000;		# the producer's requests/s
my $LAT_RATE = 10_000;		# records/s offered in workload 3
my $LAT_PER_REQ = 10;		# ... as 1,000 requests/s of 10 records
my $E2E_PER_REQ = 100;		# producers' request size in workloads 2, 5
# Workload 8's segments close at KumoMTA's default max_file_size, scaled
# as the record count is, so that there are as many of them at any scale.
my $SEG_BYTES = int(128 * 1048576 * $SCALE);
$SEG_BYTES = 1048576 if $SEG_BYTES < 1048576;

# Where spools go: fsync must reach a disk.
my $WORKROOT = $ENV{BENCH_DIR} // (fs_type('/var/tmp') =~ /tmpfs|ramfs/ ||
    !-w '/var/tmp' ? $BENCH : '/var/tmp');
die "run.pl: BENCH_DIR $WORKROOT is on " . fs_type($WORKROOT) .
    ": fsync would not reach a disk\n" if fs_type($WORKROOT) =~ /tmpfs|ramfs/;
my $WORK = tempdir('spoold-bench-XXXXXX', DIR => $WORKROOT, CLEANUP => 1);

my $json = JSON::PP->new->canonical;
my %KIDS;			# pid => what, every process started here
my %STATUS;			# pid => wait status, once reaped

# The record file, its records' count and their mean, least and largest
# size (gen_records).
my ($RECFILE, $REC_COUNT, $REC_BYTES, $REC_MIN, $REC_MAX);

sub stop_all {
	for my $pid (keys %KIDS) {
		stop_pid($pid, 10);
	}
}
END { stop_all() }
# Interrupted, or our output closed (| head): stop what we started, and
# exit through END so that File::Temp removes the spools.
$SIG{$_} = sub { stop_all(); exit 130 } for qw(INT TERM HUP PIPE);

sub fs_type {
	my ($path) = @_;
	my $t = `stat -f -c %T '$path' 2>/dev/null` // '';
	chomp $t;
	return $t;
}

sub say_ { print @_, "\n" }

sub slurp {
	my ($path) = @_;
	open(my $fh, '<', $path) or return '';
	local $/;
	my $s = <$fh>;
	return $s // '';
}

sub spew {
	my ($path, $s) = @_;
	open(my $fh, '>', $path) or die "$path: $!\n";
	print $fh $s;
	close($fh) or die "$path: $!\n";
}

# ---------------------------------------------------------------------
# Processes

# Starts a command with standard output and error to files; returns pid.
sub spawn {
	my ($what, $out, $err, @cmd) = @_;
	my $pid = fork() // die "fork: $!\n";
	if ($pid == 0) {
		open(STDIN, '<', '/dev/null');
		open(STDOUT, '>', $out) or POSIX::_exit(126);
		open(STDERR, '>', $err) or POSIX::_exit(126);
		exec(@cmd) or POSIX::_exit(127);
	}
	$KIDS{$pid} = $what;
	return $pid;
}

# Has pid exited? Reaps it and keeps its wait status.
sub reaped {
	my ($pid) = @_;
	return 1 if exists $STATUS{$pid};
	my $r = waitpid($pid, WNOHANG);
	return 0 if $r == 0;
	$STATUS{$pid} = $r == $pid ? $? : -1;
	delete $KIDS{$pid};
	return 1;
}

# Waits at most $secs for pid to exit; its wait status, or undef.
sub wait_pid {
	my ($pid, $secs) = @_;
	my $deadline = time + $secs;
	until (reaped($pid)) {
		return undef if time > $deadline;
		sleep 0.01;
	}
	return $STATUS{$pid};
}

my $CLK_TCK = POSIX::sysconf(POSIX::_SC_CLK_TCK()) || 100;

# CPU seconds, user and system, that pid and every process below it
# took, living or exited and reaped: a server and its workers.
sub cpu_tree {
	my ($root) = @_;
	my (%kids, %ticks);
	opendir(my $dh, '/proc') or return undef;
	for my $p (grep { /^\d+$/ } readdir $dh) {
		open(my $fh, '<', "/proc/$p/stat") or next;
		my $st = <$fh> // '';
		close $fh;
		# The name in parentheses may hold anything: after its last ')'.
		next unless $st =~ /\)\s+(\S.*)$/s;
		my @f = split ' ', $1;
		push @{$kids{$f[1]}}, $p;
		$ticks{$p} = $f[11] + $f[12] + $f[13] + $f[14];
	}
	closedir $dh;
	return undef unless defined $ticks{$root};
	my ($sum, @todo) = (0, $root);
	while (defined(my $p = shift @todo)) {
		$sum += $ticks{$p};
		push @todo, @{$kids{$p} // []};
	}
	return $sum / $CLK_TCK;
}

# SIGTERM, a bounded wait, then SIGKILL.
sub stop_pid {
	my ($pid, $secs) = @_;
	return unless $KIDS{$pid};
	kill 'TERM', $pid;
	return if defined wait_pid($pid, $secs // 30);
	kill 'KILL', $pid;
	wait_pid($pid, 10);
}

# Runs a command to its end, at most $secs; returns (status, stdout).
sub run_cmd {
	my ($secs, @cmd) = @_;
	my $d = tempdir(DIR => $WORK, CLEANUP => 1);
	my $pid = spawn($cmd[0], "$d/out", "$d/err", @cmd);
	my $st = wait_pid($pid, $secs);
	if (!defined $st) {
		stop_pid($pid, 5);
		die "@cmd: still running after $secs s\n";
	}
	return ($st, slurp("$d/out"), slurp("$d/err"));
}

sub free_port {
	my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1',
	    LocalPort => 0, Proto => 'tcp', ReuseAddr => 1) or die "bind: $!\n";
	my $port = $s->sockport;
	close($s);
	return $port;
}

# Polls $cond every $step seconds for at most $secs; true if it held.
sub wait_until {
	my ($cond, $secs, $step) = @_;
	my $deadline = time + $secs;
	while (time < $deadline) {
		return 1 if $cond->();
		sleep($step // 0.02);
	}
	return $cond->() ? 1 : 0;
}

my $http = HTTP::Tiny->new(timeout => 10, keep_alive => 1);

sub http_get {
	my ($url) = @_;
	return $http->get($url);
}

# ---------------------------------------------------------------------
# The receiver, spoold, syslog-ng

sub receiver_up {
	my (@args) = @_;
	my $d = tempdir(DIR => $WORK, CLEANUP => 1);
	# -F: its own epoll loop, not libmicrohttpd's thread per connection,
	# so that the receiver takes less of the machine from what it times.
	my $pid = spawn('receiver', "$d/port", "$d/err", "$B/t/receiver",
	    '-F', '-q', @args);
	my $port;
	wait_until(sub {
		($port) = slurp("$d/port") =~ /^port (\d+)\n/;
		return defined $port || reaped($pid);
	}, 10);
	die "receiver did not start: " . slurp("$d/err") . "\n"
	    unless defined $port;
	return { pid => $pid, port => $port, url => "http://127.0.0.1:$port" };
}

sub receiver_down { stop_pid($_[0]{pid}, 10) }

sub receiver_stats {
	my ($r) = @_;
	my $res = http_get("$r->{url}/_stats");
	die "receiver /_stats: $res->{status} $res->{content}\n"
	    unless $res->{status} == 200;
	return $json->decode($res->{content});
}

# Waits until the receiver holds $n records, at most $secs; its stats.
# The server under test ($srv->{pid}) must stay up meanwhile, and $also
# (a sampler, say) is called at every poll. Times come from the
# receiver's last_record_ms, not from the poll, so it polls every 100
# ms: at every 20 ms this process took 5-13% of the machine from what
# it measures.
sub receiver_wait {
	my ($r, $n, $secs, $srv, $also) = @_;
	my $s;
	my $ok = wait_until(sub {
		$also->() if $also;
		$s = receiver_stats($r);
		die "the server under test exited\n"
		    if $srv && reaped($srv->{pid});
		return $s->{records} >= $n;
	}, $secs, 0.1);
	die sprintf("receiver holds %d of %d records after %d s\n",
	    $s->{records}, $n, $secs) unless $ok;
	return $s;
}

# The [hook.bench] table of each delivery shape.
sub hook_toml {
	my ($kind, $url) = @_;
	my $t = "[hook.bench]\nurl = \"$url/hook\"\n" .
	    # Stopping between measurements need not wait the default 30 s.
	    "system_shutdown_timeout = \"5s\"\n";
	$t .= "batch_size = 100\n" if $kind eq 'batch';
	$t .= "connection_limit = 10\n" if $kind eq 'single';
	return $t;
}

# The hook of a broker row: batches of 100, each record one message
# that counts only once the broker confirmed it.
sub broker_toml {
	my ($bk) = @_;
	my $t = "[hook.bench]\nurl = \"$bk->{url}\"\nbatch_size = 100\n" .
	    "system_shutdown_timeout = \"5s\"\n";
	$t .= $bk->{kind} eq 'amqp' ? "routing_key = \"$bk->{queue}\"\n" :
	    "topic = \"$bk->{topic}\"\n";
	return $t;
}

sub spoold_up {
	my ($hook) = @_;
	my $d = tempdir('spoold-XXXXXX', DIR => $WORK, CLEANUP => 1);
	my $port = free_port();
	my $s = { dir => $d, port => $port, conf => "$d/spoold.conf",
	    url => "http://127.0.0.1:$port" };
	spew($s->{conf}, <<"EOT" . $hook);
spool_dir = "$d/spool"
listen = ["127.0.0.1:$port"]
control_socket = "$d/control.sock"
pid_file = "$d/spoold.pid"
# Workloads 4 and 5 queue millions of records.
max_spool_size = "32GiB"

EOT
	$s->{pid} = spawn('spoold', "$d/spoold.out", "$d/spoold.log",
	    "$B/spoold", '-d', '-f', $s->{conf});
	my $up = wait_until(sub {
		return 0 if reaped($s->{pid});
		return (http_get("$s->{url}/health")->{status} // 0) == 200;
	}, 30, 0.05);
	die "spoold did not start: " . slurp("$d/spoold.log") . "\n"
	    unless $up;
	return $s;
}

sub spoold_down {
	my ($s) = @_;
	stop_pid($s->{pid}, 60);
	remove_tree($s->{dir});
}

sub spoolctl {
	my ($s, @args) = @_;
	my ($st, $out, $err) = run_cmd(60, "$B/spoolctl", '-f', $s->{conf},
	    @args);
	die "spoolctl @args: $err" if $st != 0;
	return $out;
}

my $SYSLOG_NG = '';

# syslog-ng from Debian's packages: installed when missing if we are
# root, else the command to run is printed and the peer is skipped.
sub syslog_ng_ready {
	my @pkgs = qw(syslog-ng-core syslog-ng-mod-http syslog-ng-mod-amqp
	    syslog-ng-mod-rdkafka);
	my @missing = grep {
		(`dpkg-query -W -f='\${Status}' $_ 2>/dev/null` // '') !~
		    /ok installed/
	} @pkgs;
	if (@missing) {
		if ($> != 0) {
			say_("syslog-ng is missing; as root, run:");
			say_("  apt-get install --no-install-recommends @missing");
			return 0;
		}
		say_("installing @missing");
		system('apt-get update -qq && DEBIAN_FRONTEND=noninteractive ' .
		    "apt-get install -y -qq --no-install-recommends @missing " .
		    '>/dev/null') == 0 or return 0;
	}
	$SYSLOG_NG = (grep { -x } '/usr/sbin/syslog-ng', '/usr/bin/syslog-ng')[0]
	    // return 0;
	return 1;
}

# syslog-ng's destination for each row: an http() destination to the
# receiver ($to its URL; batch or single), or amqp() or kafka-c() to a
# broker ($to from broker_up).
sub syslog_ng_dest {
	my ($kind, $to) = @_;
	if ($kind eq 'amqp') {
		# No value-pairs: its default sends a dozen macros as headers
		# of every message, work that spoold's messages do not carry.
		return <<"EOT";
amqp(host("127.0.0.1") port($to->{port}) vhost("/")
		exchange("") exchange-declare(no)
		routing-key("$to->{queue}") persistent(yes)
		body("\$MSG") username("guest") password("guest")
		value-pairs(scope(none))
EOT
	}
	if ($kind eq 'kafka') {
		return <<"EOT";
kafka-c(bootstrap-servers("$to->{bootstrap}") topic("$to->{topic}")
		message("\$MSG")
		config("acks" => "all" "enable.idempotence" => "true")
		$to->{sng_extra}
EOT
	}
	my $batch = $kind eq 'batch' ?
	    qq(batch-lines(100)\n\t\tbody-prefix("[") delimiter(",") ) .
	    qq(body-suffix("]")) : 'batch-lines(1)';
	return <<"EOT";
http(url("$to/hook") method("POST")
		headers("Content-Type: application/json")
		body("\$MSG")
		$batch
		workers(4)
EOT
}

# syslog-ng with a network source of lines and a destination (http(),
# amqp() or kafka-c()) through a reliable disk buffer, as a careful user
# would set it up to lose nothing.
sub syslog_ng_up {
	my ($kind, $to) = @_;
	my $d = tempdir('syslog-ng-XXXXXX', DIR => $WORK, CLEANUP => 1);
	mkdir "$d/buffer" or die "$d/buffer: $!\n";
	my $port = free_port();
	my $dest = syslog_ng_dest($kind, $to);
	spew("$d/syslog-ng.conf", <<"EOT");
\@version: 3.38
options {
	use-dns(no);
	use-fqdn(no);
	keep-hostname(yes);
	stats-freq(0);
	mark-freq(0);
	log-msg-size(1048576);
};
source s_bench {
	network(ip("127.0.0.1") port($port) transport("tcp")
		flags(no-parse) max-connections(64)
		log-iw-size(64000) log-fetch-limit(1000));
};
destination d_hook {
	$dest		persist-name("bench")
		disk-buffer(reliable(yes) disk-buf-size(8589934592)
			dir("$d/buffer")));
};
log { source(s_bench); destination(d_hook); flags(flow-control); };
EOT
	my $pid = spawn('syslog-ng', "$d/out", "$d/err", $SYSLOG_NG, '-F',
	    '--no-caps', '-f', "$d/syslog-ng.conf", '-R', "$d/persist",
	    '-p', "$d/pid", '-c', "$d/ctl");
	my $up = wait_until(sub {
		return 0 if reaped($pid);
		my $c = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
		    PeerPort => $port, Proto => 'tcp');
		return defined $c;
	}, 30, 0.05);
	die "syslog-ng did not start: " . slurp("$d/err") . "\n" unless $up;
	return { pid => $pid, dir => $d, port => $port };
}

sub syslog_ng_down {
	my ($g) = @_;
	stop_pid($g->{pid}, 30);
	remove_tree($g->{dir});
}

# ---------------------------------------------------------------------
# The brokers

# One private RabbitMQ node (t/lib/RabbitMQ.pm) serves every AMQP
# measurement: it takes seconds to boot. Each measurement has a fresh
# durable queue, purged after it.
my $RABBIT;
my $QUEUES = 0;

sub rabbit_node {
	return $RABBIT if $RABBIT;
	unshift @INC, "$BENCH/../t/lib";
	require RabbitMQ;
	if (my $why = RabbitMQ::rabbitmq_missing()) {
		die "$why\n";
	}
	$RABBIT = RabbitMQ::rabbitmq_start();
	return $RABBIT;
}

sub amqp_tool {
	my (@args) = @_;
	my ($st, $out, $err) = run_cmd(60, "$B/t/amqp", $RABBIT->{url}, @args);
	die "amqp @args: $err" if $st != 0;
	return $out;
}

# A Kafka mock cluster (t/kafkamock: librdkafka's, in one process) for
# each measurement, so that every one starts with an empty topic. It
# serves until its standard input closes. Three brokers, so that
# acks=all waits for replicas, and the topic made beforehand with four
# partitions, the same for both sides.
my $KAFKA_BROKERS = 3;
my $KAFKA_PARTITIONS = 4;
sub kafka_mock {
	die "$B/t/kafkamock is not built\n" unless -x "$B/t/kafkamock";
	my $d = tempdir(DIR => $WORK, CLEANUP => 1);
	pipe(my $r, my $w) or die "pipe: $!\n";
	my $pid = fork() // die "fork: $!\n";
	if ($pid == 0) {
		close $w;
		open(STDIN, '<&', $r) or POSIX::_exit(126);
		open(STDOUT, '>', "$d/out") or POSIX::_exit(126);
		open(STDERR, '>', "$d/err") or POSIX::_exit(126);
		exec("$B/t/kafkamock", $KAFKA_BROKERS, "bench:$KAFKA_PARTITIONS")
		    or POSIX::_exit(127);
	}
	close $r;
	$KIDS{$pid} = 'kafkamock';
	my $bs;
	wait_until(sub {
		($bs) = slurp("$d/out") =~ /^(\S+)\n/;
		return defined $bs || reaped($pid);
	}, 30);
	die "kafkamock did not start: " . slurp("$d/err") . "\n"
	    unless defined $bs;
	return { pid => $pid, stdin => $w, bootstrap => $bs };
}

# The broker of a measurement: { kind, watch (benchwait's arguments),
# and what the hook and syslog-ng need }.
sub broker_up {
	my ($kind) = @_;
	if ($kind eq 'amqp') {
		my $node = rabbit_node();
		my $q = 'bench' . ++$QUEUES;
		amqp_tool('declare', $q);
		return { kind => $kind, queue => $q, port => $node->{port},
		    url => $node->{url},
		    watch => ['amqp', $node->{url}, $q] };
	}
	my $m = kafka_mock();
	return { kind => $kind, mock => $m, bootstrap => $m->{bootstrap},
	    topic => 'bench', url => "kafka://$m->{bootstrap}",
	    watch => ['kafka', $m->{bootstrap}, 'bench'],
	    # sync-send(yes), transactional, ran at about 1/100 of this
	    # rate with 60 times its CPU per record: bench/README.
	    sng_extra => 'sync-send(no)' };
}

sub broker_down {
	my ($bk) = @_;
	if ($bk->{kind} eq 'amqp') {
		eval { amqp_tool('purge', $bk->{queue}) };
		return;
	}
	close $bk->{mock}{stdin};
	stop_pid($bk->{mock}{pid}, 10) unless defined wait_pid($bk->{mock}{pid},
	    10);
}

# ---------------------------------------------------------------------
# Load

# Runs loadgen in the background; loadgen_end() collects its line.
sub loadgen_start {
	my (%o) = @_;
	my $d = tempdir(DIR => $WORK, CLEANUP => 1);
	my @cmd = ("$B/t/loadgen", '-u', $o{url}, '-f', $o{file} // $RECFILE,
	    '-c', $o{producers} // $PRODUCERS, '-n', $o{records} / $o{per_req},
	    '-r', $o{per_req}, '-t', 'ndjson');
	push @cmd, '-R', $o{req_rate} if $o{req_rate};
	push @cmd, '-I' if $o{ids};
	push @cmd, '-A', $o{acklog} if $o{acklog};
	my $pid = spawn('loadgen', "$d/out", "$d/err", @cmd);
	return { pid => $pid, dir => $d, cmd => "@cmd" };
}

sub loadgen_end {
	my ($l, $secs) = @_;
	my $st = wait_pid($l->{pid}, $secs);
	if (!defined $st) {
		stop_pid($l->{pid}, 5);
		die "loadgen still running after $secs s\n";
	}
	my $out = slurp("$l->{dir}/out");
	my %r = $out =~ /(\w+)=([\d.]+)/g;
	die "loadgen failed ($st): $out" . slurp("$l->{dir}/err")
	    if $st != 0 || !defined $r{rate} || $r{errors};
	return \%r;
}

sub loadgen {
	my (%o) = @_;
	my $l = loadgen_start(%o);
	return loadgen_end($l, $o{timeout} // timeout_for($o{records}));
}

# A bound for waiting on N records: generous, 1,000 records/s at least.
sub timeout_for { return 120 + $_[0] / 1000 }

# Memory of a process and all its descendants, from /proc, in KiB:
# { rss, anon, file, procs, pss_anon }, VmRSS, RssAnon and RssFile +
# RssShmem summed. Shared pages count once per process, as RSS does:
# RssAnon counts the pages a worker shares with the launcher it was
# forked from once in each. pss_anon (Pss_Anon of smaps_rollup) counts
# every anonymous page once, split among the processes that share it:
# what the processes hold. RssFile is mostly the spool's pages that
# spoold has mapped (LMDB reads through a memory map), page cache that
# the kernel can take back.
sub tree_mem {
	my ($root) = @_;
	my %kids;
	my %m = (rss => 0, anon => 0, file => 0, procs => 0, own_anon => 0,
	    pss_anon => 0);
	opendir(my $dh, '/proc') or return \%m;
	for my $p (grep { /^\d+$/ } readdir $dh) {
		my $stat = slurp("/proc/$p/stat");
		push @{$kids{$1}}, $p if $stat =~ /\)\s+\S+\s+(\d+)/;
	}
	closedir $dh;
	my @todo = ($root);
	while (defined(my $p = shift @todo)) {
		my $s = slurp("/proc/$p/status");
		$m{procs}++ if $s ne '';
		$m{rss} += $1 if $s =~ /^VmRSS:\s+(\d+)/m;
		$m{anon} += $1 if $s =~ /^RssAnon:\s+(\d+)/m;
		$m{own_anon} = $1 if $p == $root && $s =~ /^RssAnon:\s+(\d+)/m;
		$m{file} += $1 if $s =~ /^RssFile:\s+(\d+)/m;
		$m{file} += $1 if $s =~ /^RssShmem:\s+(\d+)/m;
		$m{pss_anon} += $1 if (slurp("/proc/$p/smaps_rollup") // '') =~
		    /^Pss_Anon:\s+(\d+)/m;
		push @todo, @{$kids{$p} // []};
	}
	return \%m;
}

sub pct {
	my ($sorted, $p) = @_;
	return undef unless @$sorted;
	my $i = int(@$sorted * $p);
	$i = $#$sorted if $i > $#$sorted;
	return $sorted->[$i];
}

sub median {
	my @v = sort { $a <=> $b } grep { defined } @_;
	return undef unless @v;
	return @v % 2 ? $v[$#v / 2] : ($v[@v / 2 - 1] + $v[@v / 2]) / 2;
}

# ---------------------------------------------------------------------
# Records

# KumoMTA's log records, one per line, as its log hooks send them: every
# type, in the proportions of a busy outbound MTA, with meta and headers
# objects, sizes around 800 bytes, and some non-ASCII text (raw UTF-8,
# as serde_json writes it, and \u escapes, written {U+XXXX} below). The
# generator is seeded, so every run and every machine sends the same
# bytes. As KumoMTA does, the optional TLS, provider and session fields
# are left out when they have no value.
sub js {
	my ($s) = @_;
	return 'null' unless defined $s;
	$s =~ s/(["\\])/\\$1/g;
	$s =~ s/\r/\\r/g;
	$s =~ s/\n/\\n/g;
	$s =~ s/\t/\\t/g;
	$s =~ s/\{U\+([0-9a-f]{4})\}/\\u$1/g;
	return qq("$s");
}

# A JSON object of ordered key => already-encoded value pairs; a pair
# whose value is undef is left out.
sub obj {
	my @kv = @_;
	my @p;
	while (my ($k, $v) = splice(@kv, 0, 2)) {
		push @p, js($k) . ':' . $v if defined $v;
	}
	return '{' . join(',', @p) . '}';
}

sub gen_records {
	my ($path, $n) = @_;
	srand(20260301);
	my $pick = sub { $_[int(rand(@_))] };
	my $hex = sub { join '', map { sprintf '%08x', int(rand(2**32)) } 1 .. $_[0] };
	my $uuid = sub {
		my $h = $hex->(4);
		return join '-', substr($h, 0, 8), substr($h, 8, 4),
		    substr($h, 12, 4), substr($h, 16, 4), substr($h, 20, 12);
	};
	my @types = ((('Reception') x 30), (('Delivery') x 28),
	    (('TransientFailure') x 9), (('Delayed') x 6), (('Bounce') x 8),
	    (('Rejection') x 7), (('Expiration') x 3), (('AdminBounce') x 2),
	    (('OOB') x 4), (('Feedback') x 3));
	my @domains = qw(gmail.com yahoo.com outlook.com hotmail.com web.de
	    gmx.net mail.ru yandex.ru orange.fr example.net icloud.com qq.com
	    t-online.de comcast.net);
	my %mx = ('gmail.com' => 'gmail-smtp-in.l.google.com',
	    'yahoo.com' => 'mta5.am0.yahoodns.net',
	    'outlook.com' => 'outlook-com.olc.protection.outlook.com',
	    'hotmail.com' => 'hotmail-com.olc.protection.outlook.com');
	my %provider = ('gmail.com' => 'google', 'yahoo.com' => 'yahoo',
	    'outlook.com' => 'microsoft', 'hotmail.com' => 'microsoft');
	# Raw UTF-8 bytes: this file is read without "use utf8" on purpose.
	my @subjects = ('Your order #%d has shipped',
	    'Ihre Bestellung %d ist unterwegs – Größe M',
	    'Votre facture n°%d est disponible',
	    'Ваш заказ %d отправлен',
	    'ご注文 %d の発送のお知らせ',
	    'Weekly digest %d: 5 stories you missed 📰',
	    'Reset your password (request %d)',
	    '¡Oferta %d solo hoy! Descuento del 30 %%',
	    'Caf{U+00e9} newsletter %d {U+2615}');
	my @first = qw(anna jan maria li sofia lukas emma noah mia omar);
	my @brands = qw(shop.example.com news.example.org billing.example.com
	    mail.example.io);
	my @names = ('Example Shop', 'Beispiel GmbH', 'Société Exemple',
	    'Пример', 'News Daily');
	my @bounce = (
	    [550, [5, 1, 1], 'The email account that you tried to reach does '
		. 'not exist. Please try double-checking the recipient\'s email '
		. 'address for typos or unnecessary spaces.', 'InvalidRecipient'],
	    [552, [5, 2, 2], 'Mailbox full: quota exceeded', 'QuotaIssues'],
	    [554, [5, 7, 1], 'Message rejected due to local policy; see '
		. 'https://postmaster.example.net/policy', 'PolicyRelated'],
	    [550, [5, 7, 26], 'Unauthenticated email from this domain is not '
		. 'accepted due to domain\'s DMARC policy', 'AuthenticationFailed'],
	);
	my @transient = (
	    [421, [4, 7, 0], 'Try again later, closing connection. (EHLO)'],
	    [451, [4, 7, 1], 'Temporary deferral: too many messages from this IP'],
	    [450, [4, 2, 1], 'The user you are trying to contact is receiving '
		. 'mail too quickly. Please resend your message at a later time.'],
	);
	my $ts0 = 1_772_000_000;

	open(my $fh, '>', $path) or die "$path: $!\n";
	my ($bytes, $min, $max) = (0, undef, 0);
	for my $i (1 .. $n) {
		my $type = $pick->(@types);
		my $dom = $pick->(@domains);
		my $brand = $pick->(@brands);
		my $rcpt = $pick->(@first) . int(rand(100000)) . "\@$dom";
		my $sender = 'bounce+' . $hex->(1) . "\@$brand";
		my $tenant = 'tenant' . int(rand(40));
		my $campaign = 'c' . int(rand(3000));
		my $ts = $ts0 + $i;
		my $attempts = 0;
		my ($code, $enh, $content, $command, $class) =
		    (250, [2, 0, 0], 'OK ids=' . $hex->(4), ".\r\n",
		    'Uncategorized');
		my $site = 'pool' . int(rand(4)) . '->' . ($mx{$dom} //
		    "mx.$dom") . '@smtp_client';
		my $peer = obj(name => js(($mx{$dom} // "mx.$dom") . '.'),
		    addr => js(join '.', 198, 51, 100, int(rand(250)) + 1));
		my ($delivery_protocol, $fb) = ('"ESMTP"', 'null');
		if ($type eq 'Reception') {
			($code, $enh, $content, $command) = (250, undef, '',
			    undef);
			$site = '';
			$peer = obj(name => js('app' . int(rand(20)) .
			    '.internal.example'), addr => js('10.0.' .
			    int(rand(250)) . '.' . int(rand(250))));
			$delivery_protocol = 'null';
		} elsif ($type eq 'Rejection') {
			($code, $enh, $content, $command) = (550, [5, 7, 1],
			    'relaying not permitted', "RCPT TO:<$rcpt>\r\n");
			$site = '';
			$delivery_protocol = 'null';
		} elsif ($type eq 'TransientFailure' || $type eq 'Delayed') {
			my $t = $pick->(@transient);
			($code, $enh, $content) = @$t;
			$attempts = 1 + int(rand(6));
			if ($type eq 'Delayed') {
				($code, $enh, $content, $command) = (451, undef,
				    'KumoMTA internal: ready queue is full; '
				    . 'deferring to scheduled queue', undef);
			}
		} elsif ($type eq 'Bounce' || $type eq 'OOB') {
			my $b = $pick->(@bounce);
			($code, $enh, $content, $class) = @$b;
			$attempts = int(rand(3));
			$command = undef if $type eq 'OOB';
		} elsif ($type eq 'Expiration') {
			($code, $enh, $content, $command) = (551, undef,
			    'Next delivery time would be at ' .
			    strftime('%Y-%m-%d %H:%M:%S UTC', gmtime($ts)) .
			    ' which exceeds the expiry time', undef);
			$attempts = 12 + int(rand(8));
			$class = 'Uncategorized';
		} elsif ($type eq 'AdminBounce') {
			($code, $enh, $content, $command) = (551, undef,
			    'Administrator bounced: campaign ' . $campaign .
			    ' cancelled by operator', undef);
		} elsif ($type eq 'Feedback') {
			($code, $enh, $content, $command) = (200, undef,
			    'ARF feedback report', undef);
			$class = 'Uncategorized';
			$fb = obj(feedback_type => '"abuse"',
			    user_agent => js('SomeGenerator/' . int(rand(9))
			    . '.0'), version => 1,
			    arrival_date => js(strftime('%Y-%m-%dT%H:%M:%SZ',
			    gmtime($ts - 3600))),
			    incidents => 'null', original_envelope_id => 'null',
			    original_mail_from => js("<$sender>"),
			    reporting_mta => obj(mta_type => '"dns"',
				name => js("fbl.$dom")),
			    source_ip => js('203.0.113.' . int(rand(250))),
			    authentication_results => '[' . js("fbl.$dom; " .
				"spf=pass smtp.mail=$sender") . ']',
			    original_rcpt_to => '[' . js("<$rcpt>") . ']',
			    reported_domain => '[' . js($brand) . ']',
			    reported_uri => '[]', extensions => '{}');
		}
		my $response = obj(code => $code,
		    enhanced_code => defined $enh ? obj(class => $enh->[0],
			subject => $enh->[1], detail => $enh->[2]) : 'null',
		    content => js($content), command => js($command));

		# Meta: what the injector attached, 1 to 5 keys.
		my @meta = (tenant => js($tenant), campaign => js($campaign));
		push @meta, customer_id => int(rand(1e6)) if rand() < 0.4;
		push @meta, mailing => js('mailing-' . $hex->(1)) if rand() < 0.1;
		push @meta, note => js($pick->('priorité haute', 'VIP клиент',
		    'A/B test "b"', '{U+00e9}t{U+00e9} promo')) if rand() < 0.15;
		@meta = @meta[0 .. 1] if rand() < 0.15;
		# Headers the hook asked to keep, 0 to 5 of them.
		my @hdr;
		if ($type ne 'Rejection') {
			push @hdr, Subject => js(sprintf($pick->(@subjects),
			    int(rand(1e6)))) if rand() < 0.7;
			push @hdr, From => js($pick->(@names) . " <noreply\@$brand>")
			    if rand() < 0.25;
			push @hdr, 'Message-ID' => js('<' . $hex->(3) . "\@$brand>")
			    if rand() < 0.15;
			push @hdr, 'X-Campaign-ID' => js($campaign) if rand() < 0.25;
			push @hdr, 'List-Unsubscribe' => js("<https://$brand/u/" .
			    $hex->(2) . ">, <mailto:unsub-" . $hex->(1) .
			    "\@$brand>") if rand() < 0.05;
		}
		my $tls = $type =~ /^(?:Delivery|TransientFailure|Bounce)$/ &&
		    rand() < 0.7;
		my $rec = obj(
		    type => js($type),
		    id => js($hex->(4)),
		    sender => js($sender),
		    recipient => js($rcpt),
		    queue => js("$campaign:$tenant\@$dom"),
		    site => js($site),
		    size => 2000 + int(rand(60000)),
		    response => $response,
		    peer_address => $peer,
		    timestamp => $ts,
		    created => $ts - int(rand(600)),
		    num_attempts => $attempts,
		    bounce_classification => js($class),
		    egress_pool => js('pool' . int(rand(4))),
		    egress_source => js('ip-' . int(rand(16))),
		    source_address => 'null',
		    feedback_report => $fb,
		    meta => obj(@meta),
		    headers => obj(@hdr),
		    delivery_protocol => $delivery_protocol,
		    reception_protocol => '"ESMTP"',
		    nodeid => js('557f3ad4-2c8c-11ee-976e-782d7e12e173'),
		    tls_cipher => $tls ? '"TLS_AES_256_GCM_SHA384"' : undef,
		    tls_protocol_version => $tls ? '"TLSv1.3"' : undef,
		    provider_name => $provider{$dom} ? js($provider{$dom}) :
			undef,
		    session_id => $type eq 'Reception' ? js($uuid->()) : undef,
		);
		print $fh $rec, "\n";
		$bytes += length $rec;
		$min = length $rec if !defined $min || length $rec < $min;
		$max = length $rec if length $rec > $max;
	}
	close($fh) or die "$path: $!\n";
	return ($n, $bytes / $n, $min, $max);
}

# ---------------------------------------------------------------------
# The workloads. Each returns a hash of measurements.

# 1. Durable ingest: 16 producers, the hook held so that only ingest
# runs, yet every record is queued for it as in production.
sub w_ingest {
	my ($per_req, $records) = @_;
	my $s = spoold_up(hook_toml('batch', 'http://127.0.0.1:9'));
	my $r = eval {
		spoolctl($s, 'hold', 'bench');
		loadgen(url => "$s->{url}/log", records => $records,
		    per_req => $per_req);
	};
	my $err = $@;
	spoold_down($s);
	die $err if $err;
	return { rate => $r->{rate}, p50 => $r->{p50_ms}, p99 => $r->{p99_ms} };
}

# 2. End to end: from the first POST (or line) until the receiver holds
# every record. $via is spoold or syslog-ng; $kind batch or single.
sub w_e2e {
	my ($via, $kind) = @_;
	my $n = $SIZE{e2e};
	my $rx = receiver_up();
	my ($srv, $url);
	my $r = eval {
		if ($via eq 'spoold') {
			$srv = spoold_up(hook_toml($kind, $rx->{url}));
			$url = "$srv->{url}/log";
		} else {
			$srv = syslog_ng_up($kind, $rx->{url});
			$url = "tcp://127.0.0.1:$srv->{port}";
		}
		my $l = loadgen_start(url => $url, records => $n,
		    per_req => $E2E_PER_REQ);
		my $st = receiver_wait($rx, $n, timeout_for($n) + 600, $srv);
		my $lg = loadgen_end($l, 60);
		my $secs = ($st->{last_record_ms} - $lg->{start_ms}) / 1000;
		# CPU per record, in microseconds, of each party.
		my %us = (cpu_server => cpu_tree($srv->{pid}),
		    cpu_receiver => cpu_tree($rx->{pid}),
		    cpu_loadgen => $lg->{cpu_s});
		$_ = defined $_ ? $_ * 1e6 / $n : undef for values %us;
		{ rate => $n / $secs, seconds => $secs,
		    ingest_rate => $lg->{rate}, requests => $st->{requests},
		    extra => $st->{records} - $n, %us };
	};
	my $err = $@;
	if ($srv) {
		$via eq 'spoold' ? spoold_down($srv) : syslog_ng_down($srv);
	}
	receiver_down($rx);
	die $err if $err;
	return $r;
}

# 2, to a broker: from the first POST (or line) until the AMQP queue or
# the Kafka topic holds every record, as t/benchwait sees it polling
# every 10 ms. $via is spoold or syslog-ng; $kind amqp or kafka. The
# broker's own CPU counts for neither side.
sub w_broker {
	my ($via, $kind) = @_;
	my $n = $SIZE{$kind};
	my $d = tempdir(DIR => $WORK, CLEANUP => 1);
	my ($bk, $srv, $url, $wpid);
	my $r = eval {
		$bk = broker_up($kind);
		if ($via eq 'spoold') {
			$srv = spoold_up(broker_toml($bk));
			$url = "$srv->{url}/log";
		} else {
			$srv = syslog_ng_up($kind, $bk);
			$url = "tcp://127.0.0.1:$srv->{port}";
		}
		my $secs = timeout_for($n) + 600;
		my $bpid = $bk->{kind} eq 'amqp' ? $RABBIT->{pid} :
		    $bk->{mock}{pid};
		my $bcpu0 = cpu_tree($bpid) // 0;
		$wpid = spawn('benchwait', "$d/out", "$d/err", "$B/t/benchwait",
		    @{$bk->{watch}}, $n, $secs);
		my $l = loadgen_start(url => $url, records => $n,
		    per_req => $E2E_PER_REQ);
		wait_until(sub {
			die "the server under test exited\n" if reaped($srv->{pid});
			return reaped($wpid);
		}, $secs + 10, 0.1);
		my ($done, $count) = slurp("$d/out") =~
		    /^done_ms=([\d.]+) count=(\d+)/m;
		die sprintf("the %s holds %s of %d records: %s%s\n",
		    $kind eq 'amqp' ? 'queue' : 'topic',
		    slurp("$d/out") =~ /count=(\d+)/ ? $1 : '?', $n,
		    slurp("$d/out"), slurp("$d/err")) unless defined $done;
		my $lg = loadgen_end($l, 60);
		my $t = ($done - $lg->{start_ms}) / 1000;
		# The broker's CPU, though it counts for neither side, for
		# the share of the machine it took: it runs beside them.
		my $bcpu = cpu_tree($bpid);
		my %us = (cpu_server => cpu_tree($srv->{pid}),
		    cpu_loadgen => $lg->{cpu_s},
		    cpu_broker => defined $bcpu ? $bcpu - $bcpu0 : undef);
		$_ = defined $_ ? $_ * 1e6 / $n : undef for values %us;
		{ rate => $n / $t, seconds => $t, ingest_rate => $lg->{rate},
		    extra => $count - $n, %us };
	};
	my $err = $@;
	stop_pid($wpid, 5) if $wpid;
	if ($srv) {
		$via eq 'spoold' ? spoold_down($srv) : syslog_ng_down($srv);
	}
	broker_down($bk) if $bk;
	die $err if $err;
	return $r;
}

# 3. Latency at a steady offered rate: each record carries a unique id,
# loadgen logs when each request was sent and answered, the receiver when
# each id arrived. The first tenth is warm-up and left out.
sub w_latency {
	my $d = tempdir(DIR => $WORK, CLEANUP => 1);
	my $n = $SIZE{lat_seconds} * $LAT_RATE;
	my $rx = receiver_up('-L', "$d/ids");
	my $s;
	my $r = eval {
		$s = spoold_up(hook_toml('batch', $rx->{url}));
		my $lg = loadgen(url => "$s->{url}/log", records => $n,
		    per_req => $LAT_PER_REQ, req_rate => $LAT_RATE / $LAT_PER_REQ,
		    ids => 1, acklog => "$d/acks");
		receiver_wait($rx, $n, 120, $s);
		my $skip = int($n / $LAT_PER_REQ / 10);
		my (@sent, @ack);
		open(my $fh, '<', "$d/acks") or die "$d/acks: $!\n";
		while (<$fh>) {
			my ($i, $t0, $t1) = split;
			$sent[$i] = $t0;
			push @ack, $t1 - $t0 if $i >= $skip;
		}
		close $fh;
		my (@deliv, %seen);
		open($fh, '<', "$d/ids") or die "$d/ids: $!\n";
		while (<$fh>) {
			my ($id, $t) = split;
			my $seq = hex(substr($id, 0, 16));
			next if $seen{$seq}++;	# a redelivery: the first counts
			my $req = int($seq / $LAT_PER_REQ);
			next if $req < $skip;
			push @deliv, $t - $sent[$req];
		}
		close $fh;
		@ack = sort { $a <=> $b } @ack;
		@deliv = sort { $a <=> $b } @deliv;
		{ offered => $lg->{rate}, ack50 => pct(\@ack, 0.5),
		    ack99 => pct(\@ack, 0.99), del50 => pct(\@deliv, 0.5),
		    del99 => pct(\@deliv, 0.99) };
	};
	my $err = $@;
	spoold_down($s) if $s;
	receiver_down($rx);
	die $err if $err;
	return $r;
}

# 6. A producer among a crowd: 10,000 idle connections, or 1,000 that
# trickle a request head one byte a second and are opened again when
# client_header_timeout cuts them off. The producer sends one record
# per request at a steady rate; its answer times are what counts.
sub w_crowd {
	my ($kind) = @_;
	my $s = spoold_up(hook_toml('batch', 'http://127.0.0.1:9'));
	my $d = tempdir(DIR => $WORK, CLEANUP => 1);
	my $fpid;
	my $r = eval {
		spoolctl($s, 'hold', 'bench');
		$fpid = spawn('connflood', "$d/out", "$d/err",
		    "$B/t/connflood", '-a', "127.0.0.1:$s->{port}", '-d', 600,
		    $kind eq 'idle' ? ('-i', $CROWD_IDLE) :
		    ('-s', $CROWD_SLOW, '-b', 1000, '-r'));
		wait_until(sub { (slurp("$d/out") // '') =~ /^ready$/m ||
		    reaped($fpid) }, 120, 0.1) && !reaped($fpid)
		    or die "connflood: " . (slurp("$d/err") // '') . "\n";
		my $lg = loadgen(url => "$s->{url}/log", producers => 4,
		    records => $SIZE{crowd}, per_req => 1,
		    req_rate => $CROWD_RATE);
		{ p50 => $lg->{p50_ms}, p99 => $lg->{p99_ms},
		    errors => $lg->{errors} // 0, rate => $lg->{rate} };
	};
	my $err = $@;
	stop_pid($fpid, 10) if $fpid;
	spoold_down($s);
	die $err if $err;
	return $r;
}

# 4. Peak memory of spoold and its workers: 1,000,000 records ingested
# while the hook is held, then released and delivered; memory sampled
# all along, every 100 ms.
sub w_memory {
	my $n = $SIZE{mem_queued};
	my $rx = receiver_up();
	my $s;
	my %peak;	# "queued" or "delivering" => { rss, anon, file, procs }
	my $r = eval {
		$s = spoold_up(hook_toml('batch', $rx->{url}));
		spoolctl($s, 'hold', 'bench');
		my $idle = tree_mem($s->{pid});
		my $last = 0;
		my $sample = sub {
			my ($phase) = @_;
			return if time - $last < 0.1;
			$last = time;
			my $m = tree_mem($s->{pid});
			my $p = $peak{$phase} //= {};
			for (keys %$m) {
				$p->{$_} = $m->{$_} if $m->{$_} > ($p->{$_} // 0);
			}
		};
		my $l = loadgen_start(url => "$s->{url}/log", records => $n,
		    per_req => 1000);
		wait_until(sub { $sample->('queued'); reaped($l->{pid}) },
		    timeout_for($n), 0.02);
		loadgen_end($l, 1);
		# Queued and idle for a second: what it holds at rest.
		wait_until(sub { $sample->('queued'); 0 }, 1, 0.02);
		spoolctl($s, 'release', 'bench');
		my $t0 = time * 1000;
		my $st = receiver_wait($rx, $n, timeout_for($n) + 600, $s,
		    sub { $sample->('delivering') });
		my %r = (idle => $idle->{rss},
		    drain_rate => $n / (($st->{last_record_ms} - $t0) / 1000));
		for my $phase (keys %peak) {
			$r{"${phase}_$_"} = $peak{$phase}{$_} for
			    keys %{$peak{$phase}};
		}
		\%r;
	};
	my $err = $@;
	spoold_down($s) if $s;
	receiver_down($rx);
	die $err if $err;
	return $r;
}

# 5. Ingest and delivery with a backlog: $backlog records queued (hook
# held), then 500,000 more ingested and timed, then the hook released
# and its first 500,000 deliveries timed. Run with 0 and 2,000,000.
sub w_backlog {
	my ($backlog) = @_;
	my $m = $SIZE{backlog_probe};
	my $rx = receiver_up();
	my $s;
	my $r = eval {
		$s = spoold_up(hook_toml('batch', $rx->{url}));
		spoolctl($s, 'hold', 'bench');
		loadgen(url => "$s->{url}/log", records => $backlog,
		    per_req => 1000) if $backlog > 0;
		my $in = loadgen(url => "$s->{url}/log", records => $m,
		    per_req => $E2E_PER_REQ);
		my $t0 = time * 1000;
		spoolctl($s, 'release', 'bench');
		my $st = receiver_wait($rx, $m, timeout_for($m) + 600, $s);
		{ ingest => $in->{rate},
		    deliver => $m / (($st->{last_record_ms} - $t0) / 1000) };
	};
	my $err = $@;
	spoold_down($s) if $s;
	receiver_down($rx);
	die $err if $err;
	return $r;
}

# Median milliseconds of $CTL_TIMES runs of spoolctl, from fork to exit:
# what an operator waits.
sub ctl_ms {
	my ($s, @args) = @_;
	my @ms;
	for (1 .. $CTL_TIMES) {
		my $t0 = time;
		spoolctl($s, @args);
		push @ms, (time - $t0) * 1000;
	}
	return median(@ms);
}

# The cursor of a page that starts at the first record received at
# $ms or later: the hook's id, as a cursor of the first page gives it.
sub late_cursor {
	my ($s, $ms) = @_;
	my $j = $json->decode(spoolctl($s, 'list', 'bench', '--limit', '1',
	    '--json'));
	my $hook = substr($j->{next} // die("list: no next page\n"), 0, 8);
	return sprintf('%s%016x%016x', $hook, $ms, 0);
}

# 7. spoolctl with $n records queued (hook held): status, and a page of
# list near the end of the due index, with spoold running, then read
# from the spool with spoold stopped.
sub w_spoolctl {
	my $n = $SIZE{ctl_queued};
	my $tail = $n / 20;
	my $s;
	my $r = eval {
		$s = spoold_up(hook_toml('batch', 'http://127.0.0.1:9'));
		spoolctl($s, 'hold', 'bench');
		loadgen(url => "$s->{url}/log", records => $n - $tail,
		    per_req => 1000);
		my $late = int(time * 1000) + 1;
		sleep(0.01);
		loadgen(url => "$s->{url}/log", records => $tail,
		    per_req => 1000);
		my $from = late_cursor($s, $late);
		my $page = $json->decode(spoolctl($s, 'list', 'bench', '--limit',
		    '100', '--from', $from, '--json'));
		die "list --from: " . scalar(@{$page->{records}}) .
		    " records, not 100\n" if @{$page->{records}} != 100;
		my %r = (
		    status => ctl_ms($s, 'status'),
		    list_first => ctl_ms($s, 'list', 'bench', '--limit', '100'),
		    list_late => ctl_ms($s, 'list', 'bench', '--limit', '100',
			'--from', $from));
		stop_pid($s->{pid}, 60);
		$r{status_offline} = ctl_ms($s, 'status');
		$r{list_late_offline} = ctl_ms($s, 'list', 'bench', '--limit',
		    '100', '--from', $from);
		\%r;
	};
	my $err = $@;
	spoold_down($s) if $s;
	die $err if $err;
	return $r;
}

# 8. Log sources. KumoMTA's local log segments, written once by
# t/segwriter from the bench's own records (varied, so that they
# compress as real logs do, where segwriter's own records are near
# alike and compress far better), closed and read-only, are read by a
# [source] of spoold in every run. Each run times `zstd -dc` of the same
# files first: what decompression alone reaches, the ceiling of a
# reader.
my %SEG;	# dir, files, disk and raw bytes, once written

sub source_segments {
	return \%SEG if $SEG{dir};
	die "$B/t/segwriter is not built\n" unless -x "$B/t/segwriter";
	die "the zstd command is not installed\n"
	    unless system('zstd -V >/dev/null 2>&1') == 0;
	my $dir = "$WORK/segments";
	my ($st, $out, $err) = run_cmd(1200, "$B/t/segwriter", '-d', $dir,
	    '-i', $RECFILE, '-n', $SIZE{source}, '-s', $SEG_BYTES, '-f', 0);
	die "segwriter: $err" if $st != 0;
	my @closed = $out =~ /^closed (\S+) \d+ (\d+)$/mg;
	my (@files, $disk);
	while (my ($name, $bytes) = splice(@closed, 0, 2)) {
		push @files, "$dir/$name";
		$disk += $bytes;
	}
	# The uncompressed bytes: the record file's lines, in turn.
	open(my $fh, '<', $RECFILE) or die "$RECFILE: $!\n";
	my @len = map { length } <$fh>;
	close $fh;
	my $raw = 0;
	$raw += $len[$_ % @len] for 0 .. $SIZE{source} - 1;
	%SEG = (dir => $dir, files => \@files, disk => $disk, raw => $raw);
	return \%SEG;
}

# Runs @cmd, its output to /dev/null, to its end (at most $secs):
# its wall and CPU seconds. The wait blocks, so that the time is not a
# poll's.
sub run_timed {
	my ($secs, @cmd) = @_;
	my $d = tempdir(DIR => $WORK, CLEANUP => 1);
	my @c0 = times;
	my $t0 = time;
	my $pid = spawn($cmd[0], '/dev/null', "$d/err", @cmd);
	my $st = eval {
		local $SIG{ALRM} = sub { die "timeout\n" };
		alarm($secs);
		my $r = waitpid($pid, 0);
		alarm(0);
		$r == $pid ? $? : -1;
	};
	my $wall = time - $t0;
	my @c1 = times;
	if (!defined $st) {
		stop_pid($pid, 5);
		die "@cmd: still running after $secs s\n";
	}
	delete $KIDS{$pid};
	die "$cmd[0] failed ($st): " . slurp("$d/err") if $st != 0;
	return ($wall, $c1[2] + $c1[3] - $c0[2] - $c0[3]);
}

# A source's status, as spoolctl --json status shows it.
sub source_status {
	my ($s) = @_;
	my $st = $json->decode(spoolctl($s, '--json', 'status'));
	return $st->{sources}{bench} // die "no source bench in the status\n";
}

# Adds [source.bench] on the segments to a running spoold (a reload):
# its records start to flow. Returns the time it was asked.
sub source_add {
	my ($s, $seg) = @_;
	open(my $fh, '>>', $s->{conf}) or die "$s->{conf}: $!\n";
	print $fh qq(\n[source.bench]\ndirectory = "$seg->{dir}"\n);
	close($fh) or die "$s->{conf}: $!\n";
	my $t0 = time;
	spoolctl($s, 'reload');
	return $t0;
}

# The source's records and whether it failed, from GET /metrics: a
# request on a kept connection, where spoolctl would fork and load its
# libraries at every poll, CPU taken from what is timed.
sub source_metrics {
	my ($s) = @_;
	my $m = http_get("$s->{url}/metrics")->{content} // '';
	my ($n) = $m =~ /^spoold_source_records_total\{source="bench"\} (\d+)$/m;
	my $failed = $m =~
	    /^spoold_source_state\{source="bench",state="failed"\} 1$/m;
	return ($n // 0, $failed);
}

# Spooled from segments, the hook held: from the reload that adds the
# source until it has read all $n records, polled every 50 ms; then
# spoolctl status must agree.
sub source_spool {
	my ($seg, $n) = @_;
	my $s = spoold_up(hook_toml('batch', 'http://127.0.0.1:9'));
	my $r = eval {
		spoolctl($s, 'hold', 'bench');
		my $cpu0 = cpu_tree($s->{pid});
		my $t0 = source_add($s, $seg);
		my ($read, $failed);
		wait_until(sub {
			die "spoold exited\n" if reaped($s->{pid});
			($read, $failed) = source_metrics($s);
			return $read >= $n || $failed;
		}, timeout_for($n), 0.05) or die "the source read $read of " .
		    "$n records\n";
		my $secs = time - $t0;
		my $cpu = cpu_tree($s->{pid}) - $cpu0;
		my $st = source_status($s);
		die "the source failed: $st->{error}\n" if $failed;
		die "the source found $st->{invalid_lines} invalid lines\n"
		    if $st->{invalid_lines};
		die "spoolctl status: $st->{records} records, not $n\n"
		    if $st->{records} != $n;
		{ rate => $n / $secs, seconds => $secs,
		    cpu_server => $cpu * 1e6 / $n };
	};
	my $err = $@;
	spoold_down($s);
	die $err if $err;
	return $r;
}

# End to end: from the reload that adds the source until the receiver
# holds all $n records, through a batched hook.
sub source_e2e {
	my ($seg, $n) = @_;
	my $rx = receiver_up();
	my $s;
	my $r = eval {
		$s = spoold_up(hook_toml('batch', $rx->{url}));
		my $cpu0 = cpu_tree($s->{pid});
		my $t0 = source_add($s, $seg);
		my $st = receiver_wait($rx, $n, timeout_for($n) + 600, $s);
		my $secs = $st->{last_record_ms} / 1000 - $t0;
		{ e2e_rate => $n / $secs, e2e_seconds => $secs,
		    e2e_cpu_server => (cpu_tree($s->{pid}) - $cpu0) * 1e6 / $n,
		    e2e_cpu_receiver => cpu_tree($rx->{pid}) * 1e6 / $n,
		    e2e_extra => $st->{records} - $n };
	};
	my $err = $@;
	spoold_down($s) if $s;
	receiver_down($rx);
	die $err if $err;
	return $r;
}

sub w_source {
	my $seg = source_segments();
	my $n = $SIZE{source};
	my ($wall, $cpu) = run_timed(600, 'zstd', '-dcq', @{$seg->{files}});
	my $r = source_spool($seg, $n);
	%$r = (%$r, %{source_e2e($seg, $n)}, zstd_rate => $n / $wall,
	    zstd_seconds => $wall, cpu_zstd => $cpu * 1e6 / $n);
	$r->{ratio} = $r->{rate} / $r->{zstd_rate};
	return $r;
}

# The disk, as the issue asks: 512 MiB written and fdatasync'd.
sub w_dd {
	my $f = "$WORK/dd.tmp";
	my ($st, $out, $err) = run_cmd(600, 'dd', 'if=/dev/zero', "of=$f",
	    'bs=1M', 'count=512', 'conv=fdatasync');
	unlink $f;
	die "dd: $err" if $st != 0;
	$err =~ /^(\d+) bytes .* copied, ([\d.,]+) s/m or die "dd: $err";
	my ($bytes, $secs) = ($1, $2);
	$secs =~ tr/,/./;
	return { bps => $bytes / $secs };
}

# ---------------------------------------------------------------------
# Machine

sub machine {
	my %m;
	($m{cpu}) = slurp('/proc/cpuinfo') =~ /^model name\s*:\s*(.+)$/m;
	$m{cpu} //= 'unknown';
	$m{cores} = `getconf _NPROCESSORS_ONLN 2>/dev/null` // '?';
	chomp $m{cores};
	my ($kb) = slurp('/proc/meminfo') =~ /^MemTotal:\s+(\d+)/m;
	$m{mem} = sprintf('%.1f GiB', ($kb // 0) / 1048576);
	$m{kernel} = join ' ', (POSIX::uname())[0, 2];
	$m{date} = strftime('%Y-%m-%d %H:%M UTC', gmtime);
	# The disk under the spools: device, file system, size, kind.
	my $df = `df -PT '$WORK' 2>/dev/null` // '';
	my (undef, $line) = split /\n/, $df;
	my ($dev, $fs, $blocks) = split ' ', $line // '';
	my $disk = sprintf('%s, %s, %.0f GiB', $dev // '?', $fs // '?',
	    ($blocks // 0) / 1048576);
	if (defined $dev && $dev =~ m{^/dev/(\w+?)(?:p?\d+)?$}) {
		my $b = $1;
		my $rot = slurp("/sys/block/$b/queue/rotational");
		chomp $rot;
		my $model = slurp("/sys/block/$b/device/model");
		$model =~ s/\s+$//;
		# A virtual disk's flags say nothing of the host's storage.
		if ($b =~ /^vd/) {
			$disk .= ', virtio block device';
		} else {
			$disk .= $rot eq '1' ? ', rotational' : $rot eq '0' ?
			    ', solid state' : '';
			$disk .= ", $model" if $model ne '';
		}
	}
	$m{disk} = $disk;
	my $rev = `git -C '$BENCH' describe --always --dirty 2>/dev/null` // '';
	chomp $rev;
	$m{rev} = $rev eq '' ? 'unknown' : $rev;
	return \%m;
}

# The 1, 5 and 15 minute load averages: others' work on the machine
# shows here, and it skews every number.
sub loadavg {
	my @l = split ' ', slurp('/proc/loadavg');
	return join ' ', @l[0 .. 2];
}

# ---------------------------------------------------------------------
# Main

sub fmt_n {
	my ($v, $dec) = @_;
	return 'failed' unless defined $v;
	my $s = sprintf('%.' . ($dec // 0) . 'f', $v);
	1 while $s =~ s/^(\d+)(\d{3})/$1,$2/;
	return $s;
}

my $t_begin = time;
my $M = machine();
my $load0 = loadavg();
say_("spoold benchmark ($M->{rev}): scale $SCALE, $RUNS run(s), work in " .
    $WORK);
say_("machine: $M->{cpu}, $M->{cores} cores, $M->{mem}, $M->{disk}, " .
    "$M->{kernel}; load average $load0");
say_("warning: the machine is busy (load average $load0): expect lower, " .
    "noisier numbers") if (split ' ', $load0)[0] > 1;
my $peer = $PEER ne '' && syslog_ng_ready();
my $peer_version = '';
if ($peer) {
	$peer_version = `$SYSLOG_NG --version 2>/dev/null | head -1` // '';
	chomp $peer_version;
	say_("peer: $peer_version");
}

$RECFILE = "$WORK/records.ndjson";
($REC_COUNT, $REC_BYTES, $REC_MIN, $REC_MAX) = gen_records($RECFILE, 20_000);
my $records = sprintf('%s distinct KumoMTA log records of every type, %s ' .
    'to %s bytes, mean %.0f', fmt_n($REC_COUNT), fmt_n($REC_MIN),
    fmt_n($REC_MAX), $REC_BYTES);
say_("records: $records");

# Every measurement: a name and how to run it. A run takes each in turn,
# so that slow drifts of the machine spread over all of them.
my @plan = (
	[dd => \&w_dd],
	[ingest_1000 => sub { w_ingest(1000, $SIZE{ingest_1000}) }],
	[ingest_100 => sub { w_ingest(100, $SIZE{ingest_100}) }],
	[ingest_1 => sub { w_ingest(1, $SIZE{ingest_1}) }],
	# Each ratio's two sides back to back: this VM changes pace.
	[e2e_batch => sub { w_e2e('spoold', 'batch') }],
	($peer ? [sng_batch => sub { w_e2e('syslog-ng', 'batch') }] : ()),
	[e2e_single => sub { w_e2e('spoold', 'single') }],
	($peer ? [sng_single => sub { w_e2e('syslog-ng', 'single') }] : ()),
	[e2e_amqp => sub { w_broker('spoold', 'amqp') }],
	($peer ? [sng_amqp => sub { w_broker('syslog-ng', 'amqp') }] : ()),
	[e2e_kafka => sub { w_broker('spoold', 'kafka') }],
	($peer ? [sng_kafka => sub { w_broker('syslog-ng', 'kafka') }] : ()),
	[latency => \&w_latency],
	[memory => \&w_memory],
	[empty => sub { w_backlog(0) }],
	[backlog => sub { w_backlog($SIZE{backlog}) }],
	[crowd_idle => sub { w_crowd('idle') }],
	[crowd_slow => sub { w_crowd('slow') }],
	[spoolctl => \&w_spoolctl],
	[source => \&w_source],
);
if (my $only = $ENV{BENCH_ONLY}) {
	my %want = map { $_ => 1 } split /,/, $only;
	my %known = map { $_->[0] => 1 } @plan;
	die "run.pl: BENCH_ONLY: unknown measurement $_\n"
	    for grep { !$known{$_} } sort keys %want;
	@plan = grep { $want{$_->[0]} } @plan;
}
my %res;	# name => [ { measurements } or undef, one per run ]
my %fail;
for my $run (1 .. $RUNS) {
	for my $p (@plan) {
		my ($name, $fn) = @$p;
		my $t0 = time;
		my $r = eval { $fn->() };
		if (!$r) {
			chomp(my $e = $@ || 'failed');
			$fail{$name} = $e;
			say_(sprintf('run %d %-12s FAILED: %s', $run, $name, $e));
			next;
		}
		$res{$name}[$run - 1] = $r;
		say_(sprintf('run %d %-12s %6.1f s  %s', $run, $name, time - $t0,
		    join(' ', map { "$_=" . (defined $r->{$_} ?
		    sprintf('%.6g', $r->{$_}) : '-') } sort keys %$r)));
	}
}

# The median of one measurement over the runs, and the runs' values.
sub med {
	my ($name, $key) = @_;
	my @v = map { $_->{$key} } grep { defined } @{$res{$name} // []};
	return (median(@v), [@v]);
}

my $disk_bps = (med('dd', 'bps'))[0];
my @rows;	# [workload, measure, median, unit, runs, note]
sub row {
	my ($w, $what, $name, $key, $unit, %o) = @_;
	my ($m, $v) = med($name, $key);
	my $scale = $o{scale} // 1;
	my $dec = $o{dec} // 0;
	$m = $m * $scale if defined $m;
	my $note = $o{note} // '';
	$note = "failed: $fail{$name}" if !defined $m && $fail{$name};
	push @rows, [$w, $what, fmt_n($m, $dec), $unit,
	    join(' ', map { fmt_n($_ * $scale, $dec) } @$v), $note];
	return $m;
}
sub share {
	my ($rate) = @_;
	return '' unless defined $rate && $disk_bps;
	return sprintf('%.1f%% of the disk\'s dd rate', 100 * $rate *
	    $REC_BYTES / $disk_bps);
}

# A virtual disk's speed may follow the host's cache more than the
# medium: say so when dd did not hold steady.
my @dd = sort { $a <=> $b } @{(med('dd', 'bps'))[1]};
row('disk', 'dd 512 MiB, fdatasync', 'dd', 'bps', 'MB/s', scale => 1e-6,
    dec => 1, note => @dd && $dd[-1] > 1.5 * $dd[0] ? 'not steady ' .
    'between runs, so the shares of it below are rough' : '');
for my $k ([1000, 'ingest_1000'], [100, 'ingest_100'], [1, 'ingest_1']) {
	my ($per, $name) = @$k;
	my ($m) = med($name, 'rate');
	row('1 ingest', "NDJSON, $per record" . ($per > 1 ? 's' : '') .
	    '/request', $name, 'rate', 'records/s', note => share($m));
	row('', "  answer time p50", $name, 'p50', 'ms', dec => 2,
	    note => sprintf('p99 %s ms', fmt_n((med($name, 'p99'))[0], 2)));
}
# Where the two cores went: CPU per record of the server, and of the
# load generator and receiver, or broker, beside it.
sub cpu_rows {
	my ($name, $who) = @_;
	my ($lg) = med($name, 'cpu_loadgen');
	my ($rx) = med($name, 'cpu_receiver');
	my ($bk) = med($name, 'cpu_broker');
	row('', "  CPU per record, $who", $name, 'cpu_server', 'us', dec => 2,
	    note => sprintf('load generator %s us, ', fmt_n($lg, 2)) .
	    (defined $rx ? sprintf('receiver %s us', fmt_n($rx, 2)) :
	    sprintf('broker %s us (counted for neither side)',
	    fmt_n($bk, 2))));
}
# spoold's rate over syslog-ng's, of the medians and run by run.
sub ratio_row {
	my ($a, $b, $what) = @_;
	my ($ra) = med($a, 'rate');
	my ($rb) = med($b, 'rate');
	push @rows, ['', "spoold / syslog-ng, $what", ($ra && $rb) ?
	    sprintf('%.2f', $ra / $rb) : 'n/a', 'ratio',
	    join(' ', map { sprintf('%.2f', $res{$a}[$_]{rate} /
	    $res{$b}[$_]{rate}) } grep { $res{$a}[$_] && $res{$b}[$_] }
	    0 .. $RUNS - 1), 'run by run'];
}
for my $k (['batch', 'batched hook, batch_size 100'],
    ['single', 'one-record hook, connection_limit 10']) {
	my ($kind, $what) = @$k;
	row('2 end to end', "spoold, $what", "e2e_$kind", 'rate',
	    'records/s');
	cpu_rows("e2e_$kind", 'spoold and its workers');
	next unless $peer;
	row('', "syslog-ng, " . ($kind eq 'batch' ? 'batch-lines(100)' :
	    'batch-lines(1)') . ', workers(4)', "sng_$kind", 'rate',
	    'records/s');
	cpu_rows("sng_$kind", 'syslog-ng');
	ratio_row("e2e_$kind", "sng_$kind", $kind);
}
for my $k (['amqp', 'RabbitMQ, publisher confirms, ' .
    fmt_n($SIZE{amqp}) . ' records', 'amqp(), no confirms'],
    ['kafka', 'Kafka mock, acks=all, idempotent, ' . fmt_n($SIZE{kafka}) .
    ' records',
    'kafka-c(), sync-send(no)']) {
	my ($kind, $what, $sng) = @$k;
	row('', "spoold, $what", "e2e_$kind", 'rate', 'records/s',
	    note => 'batch_size 100');
	cpu_rows("e2e_$kind", 'spoold and its workers');
	next unless $peer;
	row('', "syslog-ng, $sng", "sng_$kind", 'rate', 'records/s');
	cpu_rows("sng_$kind", 'syslog-ng');
	ratio_row("e2e_$kind", "sng_$kind", $kind);
}
row('3 latency', "ingest ack p50, $LAT_RATE records/s offered", 'latency',
    'ack50', 'ms', dec => 2, note => "as $LAT_PER_REQ records/request");
row('', 'ingest ack p99', 'latency', 'ack99', 'ms', dec => 2);
row('', 'ingest to delivery p50', 'latency', 'del50', 'ms', dec => 2,
    note => 'batched hook; from the POST to the receiver');
row('', 'ingest to delivery p99', 'latency', 'del99', 'ms', dec => 2);
row('', 'offered rate achieved', 'latency', 'offered', 'records/s');
my $mq = fmt_n($SIZE{mem_queued});
row('4 memory', "idle, nothing queued", 'memory', 'idle', 'MiB',
    scale => 1 / 1024, dec => 1, note => 'RSS of spoold and its launcher');
# The split of a peak, medians of the runs, for the note.
sub mem_note {
	my ($phase) = @_;
	my %m = map { $_ => (med('memory', "${phase}_$_"))[0] }
	    qw(anon file procs own_anon);
	return '' unless defined $m{anon};
	return sprintf('anonymous %s MiB (spoold\'s own at most %s), ' .
	    'file-backed %s MiB; %s process%s',
	    fmt_n($m{anon} / 1024, 1), fmt_n(($m{own_anon} // 0) / 1024, 1),
	    fmt_n($m{file} / 1024, 1), fmt_n($m{procs}),
	    $m{procs} == 1 ? '' : 'es');
}
row('', "peak RSS, $mq records ingested and queued", 'memory',
    'queued_rss', 'MiB', scale => 1 / 1024, dec => 1,
    note => mem_note('queued'));
row('', "peak RSS, delivering them", 'memory', 'delivering_rss', 'MiB',
    scale => 1 / 1024, dec => 1, note => mem_note('delivering') .
    '; spoold and its workers summed');
row('', "peak anonymous memory, $mq queued, ingesting", 'memory',
    'queued_pss_anon', 'MiB', scale => 1 / 1024, dec => 1,
    note => 'proportional (Pss_Anon): a page shared by processes counts ' .
    'once');
row('', "peak anonymous memory, delivering them", 'memory',
    'delivering_pss_anon', 'MiB', scale => 1 / 1024, dec => 1,
    note => 'the same, spoold, launcher and workers summed');
row('', "delivery of the $mq, batched hook", 'memory', 'drain_rate',
    'records/s');
my $bq = fmt_n($SIZE{backlog});
sub versus {
	my ($key) = @_;
	my ($e) = med('empty', $key);
	my ($b) = med('backlog', $key);
	return ($e && defined $b) ? sprintf('%.2f of the empty spool\'s',
	    $b / $e) : '';
}
row('5 backlog', 'ingest, empty spool', 'empty', 'ingest', 'records/s',
    note => "NDJSON, $E2E_PER_REQ records/request, hook held");
row('', "ingest, $bq queued", 'backlog', 'ingest', 'records/s',
    note => versus('ingest'));
row('', 'delivery, empty spool', 'empty', 'deliver', 'records/s',
    note => 'first ' . fmt_n($SIZE{backlog_probe}) . ' after release, ' .
    'batched hook');
row('', "delivery, $bq queued", 'backlog', 'deliver', 'records/s',
    note => versus('deliver'));
my $crowd = sprintf('1 record/request, %s requests/s, 4 producers, ' .
    'failures %%s', fmt_n($CROWD_RATE));
for my $k (['idle', fmt_n($CROWD_IDLE) . ' idle connections open'],
    ['slow', fmt_n($CROWD_SLOW) . ' connections trickling a head']) {
	my ($name, $what) = ("crowd_$k->[0]", $k->[1]);
	my ($e) = med($name, 'errors');
	row($k->[0] eq 'idle' ? '6 crowd' : '', "ingest answer p99, $what",
	    $name, 'p99', 'ms', dec => 2,
	    note => sprintf($crowd, fmt_n($e)) . sprintf('; p50 %s ms',
	    fmt_n((med($name, 'p50'))[0], 2)));
}

my $cq = fmt_n($SIZE{ctl_queued});
row('7 spoolctl', "status, $cq queued", 'spoolctl', 'status', 'ms',
    dec => 1, note => "median of $CTL_TIMES; spoold running, hook held");
row('', "status, $cq queued, spoold stopped", 'spoolctl',
    'status_offline', 'ms', dec => 1, note => 'the spool read read-only');
row('', 'list --limit 100, first page', 'spoolctl', 'list_first', 'ms',
    dec => 1);
row('', 'list --limit 100 --from a late page', 'spoolctl', 'list_late',
    'ms', dec => 1, note => 'the last ' . fmt_n($SIZE{ctl_queued} / 20) .
    ' records\' page');
row('', 'list --from a late page, spoold stopped', 'spoolctl',
    'list_late_offline', 'ms', dec => 1);

# Workload 8: records/s of the source against zstd -dc's on the same
# files in the same run, and end to end.
row('8 sources', 'zstd -dc of the segments, to /dev/null', 'source',
    'zstd_rate', 'records/s', note => %SEG ? sprintf('%s records in %d ' .
    'segments of %s MiB: %s MB of JSON lines, %s MB of zstd (%.1f to 1)',
    fmt_n($SIZE{source}), scalar @{$SEG{files}},
    fmt_n($SEG_BYTES / 1048576), fmt_n($SEG{raw} / 1e6),
    fmt_n($SEG{disk} / 1e6), $SEG{raw} / $SEG{disk}) : '');
row('', '  CPU per record, zstd', 'source', 'cpu_zstd', 'us', dec => 2);
row('', 'segments into the fsynced spool, hook held', 'source', 'rate',
    'records/s', note => 'from the reload that adds the source until ' .
    'it read every record');
row('', '  CPU per record, spoold', 'source', 'cpu_server', 'us', dec => 2);
row('', 'spool / zstd -dc', 'source', 'ratio', 'ratio', dec => 2,
    note => 'records/s, run by run; the goal: at least 0.50');
row('', 'end to end, segments to the receiver', 'source', 'e2e_rate',
    'records/s', note => 'batched hook, batch_size 100');
row('', '  CPU per record, spoold and its workers', 'source',
    'e2e_cpu_server', 'us', dec => 2, note => sprintf('receiver %s us',
    fmt_n((med('source', 'e2e_cpu_receiver'))[0], 2)));

my @head = ('workload', 'measure', 'median', 'unit', 'runs', 'note');
my $table = join('', map { '| ' . join(' | ', @$_) . " |\n" }
    \@head, [map { '---' } @head], @rows);
my $minutes = (time - $t_begin) / 60;
my $load1 = loadavg();
print "\n$table\n";
printf "took %.1f minutes; load average %s before, %s after\n", $minutes,
    $load0, $load1;

my $sizes = sprintf('ingest %s / %s / %s records (1000, 100, 1 per ' .
    'request); end to end %s, to RabbitMQ %s, to Kafka %s; latency %d s ' .
    'at %s records/s; memory %s queued; backlog %s queued, %s probed; spoolctl %s queued; ' .
    'sources %s records in segments of %s MiB',
    map({ fmt_n($_) } @SIZE{qw(ingest_1000 ingest_100 ingest_1 e2e
    amqp kafka)}), $SIZE{lat_seconds},
    fmt_n($LAT_RATE), map({ fmt_n($_) } @SIZE{qw(mem_queued backlog
    backlog_probe ctl_queued source)}), fmt_n($SEG_BYTES / 1048576));
my $md = <<"EOT";
# spoold benchmark results

Written by `make bench` (bench/run.pl); bench/README says what each
workload measures. Medians of $RUNS run(s); "runs" lists every run's value.

## Machine

| | |
| --- | --- |
| CPU | $M->{cpu} |
| cores | $M->{cores} |
| memory | $M->{mem} |
| disk | $M->{disk} |
| kernel | $M->{kernel} |
| date | $M->{date} |
| load average (1, 5, 15 min) | $load0 before, $load1 after |
| spoold | $M->{rev} |

## Parameters

- BENCH_SCALE=$SCALE, BENCH_RUNS=$RUNS; took ${\ sprintf('%.1f', $minutes)} minutes.
- $sizes.
- Records: $records; $PRODUCERS producers, one keep-alive connection
  each.
- Load generator, receiver, spoold and its workers
  ${\ ($peer ? '(or syslog-ng) ' : '')}all share the machine's cores.
EOT
$md .= "- Peer: $peer_version, Debian's package.\n" if $peer;
$md .= "\n## Results\n\n$table";
spew($OUT, $md);
say_("written to $OUT");
exit(%fail ? 1 : 0);
