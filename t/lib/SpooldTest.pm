# Helpers for the integration tests: temporary spools, spoold on free
# loopback ports, HTTP requests, spooldump and spoolctl. Every wait is
# bounded in time.
package SpooldTest;

use strict;
use warnings;
use Exporter 'import';
use Encode ();
use File::Temp qw(tempdir);
use HTTP::Tiny;
use IO::Select;
use IO::Socket::INET;
use JSON::PP;
use POSIX qw(:sys_wait_h);
use Socket qw(IPPROTO_TCP TCP_NODELAY);
use Time::HiRes qw(sleep time);

# HTTP::Tiny writes headers and body apart; without TCP_NODELAY each
# keep-alive request waits for a delayed acknowledgement.
{
	no warnings 'redefine';
	my $connect = \&HTTP::Tiny::Handle::connect;
	*HTTP::Tiny::Handle::connect = sub {
		my $self = $connect->(@_);
		setsockopt($self->{fh}, IPPROTO_TCP, TCP_NODELAY, 1);
		return $self;
	};
}

our @EXPORT = qw(bin free_port new_spool start_spoold stop_spoold kill_spoold
    post get spooldump spoolctl wait_until kumo_record json_encode
    json_decode slurp spew run_cmd start_receiver stop_receiver
    receiver_requests receiver_records receiver_stats canon status_of
    wait_status queued children_titled worker_pids);
our @EXPORT_OK = qw(run_receiver);

my $json = JSON::PP->new->canonical;

# Whatever a test started goes with it, even when the test dies: a
# spoold left behind would hold CPU and ports for the rest of the run.
# (Its workers follow: they exit when its end of their socket closes.)
my %started;
my $owner = $$;
END {
	kill('KILL', keys %started) if $$ == $owner && %started;
}

sub bin {
	my ($name) = @_;
	my $b = $ENV{SPOOLD_BUILD} // 'build';
	return "$b/$name";
}

sub json_encode { $json->encode($_[0]) }
sub json_decode { my $v = eval { $json->decode($_[0]) }; $v }

sub slurp {
	my ($path) = @_;
	open(my $fh, '<', $path) or return undef;
	local $/;
	my $s = <$fh>;
	close($fh);
	return $s;
}

sub spew {
	my ($path, $s) = @_;
	open(my $fh, '>', $path) or die "$path: $!";
	print $fh $s;
	close($fh) or die "$path: $!";
}

# A port nobody listens on now; spoold binds it right after.
sub free_port {
	my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1',
	    LocalPort => 0, Proto => 'tcp', ReuseAddr => 1) or die "bind: $!";
	my $port = $s->sockport;
	close($s);
	return $port;
}

# Poll cond every 10 ms for at most $secs seconds.
sub wait_until {
	my ($cond, $secs) = @_;
	my $deadline = time + ($secs // 10);
	while (time < $deadline) {
		return 1 if $cond->();
		sleep(0.01);
	}
	return $cond->() ? 1 : 0;
}

# A spool directory with its configuration. %o: conf => extra top-level
# TOML, hooks => TOML of [hook.*] tables (default: one hook "h").
sub new_spool {
	my (%o) = @_;
	my $dir = tempdir('spoold-t-XXXXXX', TMPDIR => 1, CLEANUP => 1);
	my $port = $o{port} // free_port();
	my $hooks = $o{hooks} //
	    "[hook.h]\nurl = \"http://127.0.0.1:9/never\"\n";
	my $listen = $o{listen} // "[\"127.0.0.1:$port\"]";
	my $conf = <<"EOT";
spool_dir = "$dir/spool"
listen = $listen
control_socket = "$dir/control.sock"
pid_file = "$dir/spoold.pid"
EOT
	$conf .= $o{conf} . "\n" if defined $o{conf};
	$conf .= $hooks;
	spew("$dir/spoold.conf", $conf);
	return { dir => $dir, port => $port, conf => "$dir/spoold.conf",
	    spool => "$dir/spool", url => "http://127.0.0.1:$port" };
}

sub get {
	my ($s, $path) = @_;
	my $r = HTTP::Tiny->new(timeout => 10)->get($s->{url} . $path);
	return $r;
}

# Start spoold -d on the spool; returns once /health answers 200.
sub start_spoold {
	my ($s, @args) = @_;
	my $log = "$s->{dir}/spoold.log";
	my $pid = fork() // die "fork: $!";
	if ($pid == 0) {
		open(STDOUT, '>>', $log);
		open(STDERR, '>>', $log);
		exec(bin('spoold'), '-d', @args, '-f', $s->{conf}) or
		    POSIX::_exit(127);
	}
	$s->{pid} = $pid;
	$started{$pid} = 1;
	my $up = wait_until(sub {
		return 1 if waitpid($pid, WNOHANG) == $pid &&
		    ($s->{exited} = $?, 1);
		my $r = get($s, '/health');
		return $r->{status} == 200;
	}, 20);
	if (!$up || defined $s->{exited}) {
		my $l = slurp($log) // '';
		die "spoold did not start: $l";
	}
	return $pid;
}

# Send sig and wait (bounded) for spoold to exit; returns its status.
sub stop_spoold {
	my ($s, $sig, $secs) = @_;
	return undef unless $s->{pid};
	kill($sig // 'TERM', $s->{pid});
	my $st;
	wait_until(sub {
		my $r = waitpid($s->{pid}, WNOHANG);
		$st = $? if $r == $s->{pid};
		return $r == $s->{pid} || $r == -1;
	}, $secs // 40);
	if (!defined $st) {
		kill('KILL', $s->{pid});
		waitpid($s->{pid}, 0);
		$st = -1;
	}
	delete $started{$s->{pid}};
	delete $s->{pid};
	return $st;
}

sub kill_spoold { stop_spoold($_[0], 'KILL', 10) }

# POST body to path; returns the HTTP::Tiny response with ->{json}.
sub post {
	my ($s, $path, $ctype, $body, %hdr) = @_;
	$hdr{'Content-Type'} = $ctype if defined $ctype;
	my $http = $s->{http} //= HTTP::Tiny->new(timeout => 30,
	    keep_alive => 1);
	my $r = $http->request('POST', $s->{url} . $path,
	    { headers => \%hdr, content => $body });
	$r->{json} = json_decode($r->{content} // '');
	return $r;
}

# Run a command; returns (exit status, stdout, stderr).
sub run_cmd {
	my ($in, @cmd) = @_;
	my $dir = tempdir('spoold-run-XXXXXX', TMPDIR => 1, CLEANUP => 1);
	spew("$dir/in", $in // '');
	my $pid = fork() // die "fork: $!";
	if ($pid == 0) {
		open(STDIN, '<', "$dir/in");
		open(STDOUT, '>', "$dir/out");
		open(STDERR, '>', "$dir/err");
		exec(@cmd) or POSIX::_exit(127);
	}
	my $st;
	wait_until(sub {
		my $r = waitpid($pid, WNOHANG);
		$st = $? >> 8 if $r == $pid;
		return $r == $pid;
	}, 60) or do { kill('KILL', $pid); waitpid($pid, 0); $st = -1 };
	return ($st, slurp("$dir/out"), slurp("$dir/err"));
}

sub spoolctl {
	my ($s, $in, @args) = @_;
	return run_cmd($in, bin('spoolctl'), '-f', $s->{conf}, @args);
}

# The records of a stopped spoold's spool: { records => [...], ids =>
# [...], counts => { hook => [ready, deferred, dead, delivered, failed] } }
sub spooldump {
	my ($s, @hooks) = @_;
	my ($st, $out, $err) = run_cmd(undef, bin('t/spooldump'), $s->{spool},
	    @hooks);
	die "spooldump: $err" if $st != 0;
	my %d = (records => [], ids => [], counts => {});
	for my $line (split /\n/, $out) {
		if ($line =~ /^([0-9a-f]{16}) (.*)$/s) {
			push @{$d{ids}}, $1;
			push @{$d{records}}, $2;
		} elsif ($line =~ /^(\S+) (\d+) (\d+) (\d+) (\d+) (\d+)$/) {
			$d{counts}{$1} = [$2, $3, $4, $5, $6];
		}
	}
	return \%d;
}

# The webhook receiver (build/t/receiver) with exactly these options;
# returns { pid, port, url } once it prints its port, or dies (having
# reaped it) when it does not within 10 s.
sub run_receiver {
	my (@args) = @_;
	pipe(my $rd, my $wr) or die "pipe: $!";
	my $pid = fork() // die "fork: $!";
	if ($pid == 0) {
		close($rd);
		open(STDOUT, '>&', $wr);
		exec(bin('t/receiver'), @args) or POSIX::_exit(127);
	}
	close($wr);
	$started{$pid} = 1;
	my $line = receiver_port_line($rd);
	close($rd);
	if ($line !~ /\Aport (\d+)\n\z/) {
		stop_receiver({ pid => $pid }, 'KILL');
		die "receiver @args did not start: '$line'\n";
	}
	return { pid => $pid, port => $1, url => "http://127.0.0.1:$1" };
}

# The first line the receiver writes, or what came of it in 10 s.
sub receiver_port_line {
	my ($rd) = @_;
	my $sel = IO::Select->new($rd);
	my $line = '';
	my $deadline = time + 10;
	while ($line !~ /\n/) {
		my $left = $deadline - time;
		last if $left <= 0 || !$sel->can_read($left);
		last unless sysread($rd, $line, 256, length $line);
	}
	return $line;
}

# The receiver as the delivery tests run it: quiet, logging every request
# (receiver_requests); { pid, port, url, log }.
sub start_receiver {
	my (@args) = @_;
	my $dir = tempdir('spoold-r-XXXXXX', TMPDIR => 1, CLEANUP => 1);
	my $log = "$dir/requests.log";
	my $r = run_receiver('-q', '-o', $log, @args);
	$r->{log} = $log;
	return $r;
}

# Signals a receiver (SIGTERM unless told) and returns its wait status,
# or -1 when it took over 10 s and was killed.
sub stop_receiver {
	my ($r, $sig) = @_;
	return undef unless $r->{pid};
	kill($sig // 'TERM', $r->{pid});
	my $st = -1;
	wait_until(sub {
		my $w = waitpid($r->{pid}, WNOHANG);
		$st = $? if $w == $r->{pid};
		return $w != 0;
	}, 10) or do { kill('KILL', $r->{pid}); waitpid($r->{pid}, 0) };
	delete $started{$r->{pid}};
	delete $r->{pid};
	return $st;
}

# Every request the receiver logged, decoded: complete lines only, as a
# line may be read while the receiver is still writing it.
sub receiver_requests {
	my ($r) = @_;
	my $text = slurp($r->{log}) // '';
	$text =~ s/[^\n]*\z//;
	return [ map { JSON::PP->new->utf8->decode($_) } split /\n/, $text ];
}

# A record in a comparable form: its JSON with sorted keys.
sub canon {
	my ($bytes) = @_;
	my $c = JSON::PP->new->utf8->canonical;
	return $c->encode($c->decode($bytes));
}

# The records of every request answered with status (default 2xx), in
# canonical form, whatever the hook's format.
sub receiver_records {
	my ($r, $status) = @_;
	my @recs;
	for my $q (@{receiver_requests($r)}) {
		next if defined $status ? $q->{status} != $status :
		    $q->{status} < 200 || $q->{status} > 299;
		my $body = Encode::encode_utf8($q->{body});
		if (($q->{headers}{'content-type'} // '') =~ /ndjson/) {
			push @recs, map { canon($_) } grep { /\S/ }
			    split /\n/, $body;
		} elsif ($body =~ /^\s*\[/) {
			my $c = JSON::PP->new->utf8->canonical;
			push @recs, map { $c->encode($_) } @{$c->decode($body)};
		} else {
			push @recs, canon($body);
		}
	}
	return \@recs;
}

sub receiver_stats {
	my ($r) = @_;
	my $res = HTTP::Tiny->new(timeout => 10)->get("$r->{url}/_stats");
	return json_decode($res->{content} // '') // {};
}

# Children of spoold with the process title $title.
sub children_titled {
	my ($s, $title) = @_;
	my @pids;
	for my $stat (glob '/proc/[0-9]*/stat') {
		my $st = slurp($stat) // next;
		next unless $st =~ /^(\d+) \(.*\) \S (\d+) /s && $2 == $s->{pid};
		my $pid = $1;
		my $cmd = slurp("/proc/$pid/cmdline") // '';
		$cmd =~ s/\0.*//s;
		push @pids, $pid if $cmd eq $title;
	}
	return @pids;
}

# The workers of this spoold for a hook (other tests may run spoolds of
# their own).
sub worker_pids { children_titled($_[0], "spoold: worker $_[1]") }

# spoolctl status --json of one hook.
sub status_of {
	my ($s, $hook) = @_;
	my ($st, $out) = spoolctl($s, undef, '--json', 'status');
	my $j = json_decode($out // '') // {};
	return $j->{hooks}{$hook} // {};
}

# Records a hook still holds to deliver: ready, deferred, in flight or
# held, each record in one of them.
sub queued {
	my ($st) = @_;
	my $n = 0;
	$n += $st->{$_} // 0 for qw(ready deferred in_flight held_records);
	return $n;
}

# Wait until the hook's status satisfies cond; returns the last status.
sub wait_status {
	my ($s, $hook, $cond, $secs) = @_;
	my $st;
	wait_until(sub { $st = status_of($s, $hook); $cond->($st) }, $secs);
	return $st;
}

# A realistic KumoMTA log record of the given type, with non-ASCII text.
my @types = qw(Reception Delivery TransientFailure Bounce Expiration
    AdminBounce OOB Feedback Rejection Delayed);
sub kumo_record {
	my ($i, $type) = @_;
	$type //= $types[$i % @types];
	my $r = {
		type => $type,
		id => sprintf("%032x", $i),
		sender => "bounce-$i\@example.com",
		recipient => "user$i\@example.net",
		queue => "example.net",
		site => "mx.example.net",
		size => 1000 + $i,
		response => { code => 250, enhanced_code => { class => 2,
		    subject => 0, detail => 0 }, content => "OK queued as $i",
		    command => ".\r\n" },
		peer_address => { name => "mx.example.net",
		    addr => "192.0.2.1" },
		timestamp => 1700000000 + $i,
		created => 1700000000 + $i,
		num_attempts => $i % 4,
		bounce_classification => "Uncategorized",
		egress_pool => "pool0",
		egress_source => "source0",
		feedback_report => undef,
		meta => { campaign => "c" . ($i % 7), tenant => "t1",
		    note => "caf\x{e9} \x{263a}" },
		headers => { Subject => "Hello \x{1F600} $i",
		    "X-Campaign" => "c" . ($i % 7) },
		delivery_protocol => "ESMTP",
		reception_protocol => "ESMTP",
		nodeid => "00000000-0000-0000-0000-000000000001",
	};
	return JSON::PP->new->canonical->utf8->encode($r);
}

1;
