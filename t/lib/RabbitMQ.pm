# A private RabbitMQ node for the AMQP tests: its own node name, loopback
# ports, data, logs, Erlang cookie and epmd, so that it meets nothing
# else on the machine. It can be stopped and started again on the same
# data and ports (a broker going away and coming back), an optional TLS
# listener uses a throwaway CA, and whatever is left of it is killed when
# the test ends, also on failure.
package RabbitMQ;

use strict;
use warnings;
use Exporter 'import';
use File::Temp qw(tempdir);
use IO::Socket::INET;
use POSIX qw(:sys_wait_h);
use Time::HiRes qw(sleep time);

use SpooldTest qw(bin free_port run_cmd spew slurp wait_until);

our @EXPORT = qw(rabbitmq_missing rabbitmq_start rabbitmq_stop
    rabbitmq_restart rabbitmq_ctl amqp_tool declare_queues test_ca);

my $SBIN = '/usr/lib/rabbitmq/bin';
my @nodes;
my $owner = $$;

END {
	return unless $$ == $owner;
	my $st = $?;
	_stop($_) for @nodes;
	$? = $st;
}

# Why the tests cannot run here, or undef.
sub rabbitmq_missing {
	return 'rabbitmq-server is not installed'
	    unless -x "$SBIN/rabbitmq-server";
	return 'epmd is not installed'
	    unless grep { -x "$_/epmd" } split /:/, $ENV{PATH} // '';
	return undef;
}

# A CA, a server certificate for localhost and a client certificate it
# signed: { ca, cert, key, client_cert, client_key, dir }.
sub test_ca {
	my $pki = tempdir('spoold-pki-XXXXXX', TMPDIR => 1, CLEANUP => 1);
	chmod(0755, $pki);
	my $ssl = sub {
		my ($st, $out, $err) = run_cmd(undef, 'openssl', @_);
		die "openssl @_: $err" if $st != 0;
	};
	$ssl->('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2',
	    '-sha256', '-keyout', "$pki/ca.key", '-out', "$pki/ca.pem",
	    '-subj', '/CN=spoold test CA',
	    '-addext', 'basicConstraints=critical,CA:TRUE',
	    '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
	# A key and a certificate the CA signs, with these extensions.
	my $issue = sub {
		my ($name, $subj, $ext) = @_;
		spew("$pki/$name.ext", $ext);
		$ssl->('req', '-new', '-newkey', 'rsa:2048', '-nodes',
		    '-keyout', "$pki/$name.key", '-out', "$pki/$name.csr",
		    '-subj', $subj);
		$ssl->('x509', '-req', '-in', "$pki/$name.csr", '-CA',
		    "$pki/ca.pem", '-CAkey', "$pki/ca.key", '-CAcreateserial',
		    '-days', '2', '-sha256', '-out', "$pki/$name.pem",
		    '-extfile', "$pki/$name.ext");
	};
	# librabbitmq checks the host name against DNS names alone.
	$issue->('server', '/CN=localhost', "subjectAltName=DNS:localhost\n" .
	    "basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n");
	$issue->('client', '/CN=spoold test client',
	    "basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n");
	chmod(0644, glob("$pki/*"));
	return { dir => $pki, ca => "$pki/ca.pem",
	    cert => "$pki/server.pem", key => "$pki/server.key",
	    client_cert => "$pki/client.pem", client_key => "$pki/client.key" };
}

sub _env {
	my ($n) = @_;
	my $d = $n->{dir};
	my %e = (
	    HOME => $d,
	    RABBITMQ_NODENAME => $n->{node},
	    RABBITMQ_NODE_IP_ADDRESS => '127.0.0.1',
	    RABBITMQ_NODE_PORT => $n->{port},
	    RABBITMQ_DIST_PORT => $n->{dist},
	    RABBITMQ_MNESIA_BASE => "$d/mnesia",
	    RABBITMQ_LOG_BASE => "$d/log",
	    RABBITMQ_FEATURE_FLAGS_FILE => "$d/feature_flags",
	    RABBITMQ_ENABLED_PLUGINS_FILE => "$d/enabled_plugins",
	    RABBITMQ_PLUGINS_EXPAND_DIR => "$d/plugins",
	    RABBITMQ_QUORUM_DIR => "$d/quorum",
	    RABBITMQ_STREAM_DIR => "$d/stream",
	    RABBITMQ_PID_FILE => "$d/node.pid",
	    RABBITMQ_CONFIG_FILE => "$d/rabbitmq.conf",
	    RABBITMQ_ADVANCED_CONFIG_FILE => "$d/advanced.config",
	    ERL_EPMD_PORT => $n->{epmd},
	    ERL_EPMD_ADDRESS => '127.0.0.1',
	);
	return %e;
}

# Runs a RabbitMQ command on the node's environment: (status, out, err).
sub _ctl {
	my ($n, $cmd, @args) = @_;
	local %ENV = (%ENV, _env($n));
	return run_cmd(undef, "$SBIN/$cmd", '-n', $n->{node}, @args);
}

# Starts a node; returns { url, port, node, ... } once it takes
# connections, or dies. %o: tls => test_ca() for an amqps listener;
# peer => 1 for one that takes only clients with a certificate the CA
# signed.
sub rabbitmq_start {
	my (%o) = @_;
	my $dir = tempdir('spoold-rmq-XXXXXX', TMPDIR => 1, CLEANUP => 1);
	my $n = { dir => $dir, node => "spoold-test-$$-" . scalar(@nodes) .
	    '@localhost', port => free_port(), dist => free_port(),
	    epmd => free_port(), tls => $o{tls} };
	mkdir("$dir/$_") for qw(mnesia log plugins quorum stream cwd);
	spew("$dir/enabled_plugins", "[].\n");
	spew("$dir/advanced.config", "[].\n");
	my $conf = "loopback_users = none\n" .
	    "listeners.tcp.default = 127.0.0.1:$n->{port}\n";
	if ($o{tls}) {
		$n->{tls_port} = free_port();
		$conf .= "listeners.ssl.default = 127.0.0.1:$n->{tls_port}\n" .
		    "ssl_options.cacertfile = $o{tls}{ca}\n" .
		    "ssl_options.certfile = $o{tls}{cert}\n" .
		    "ssl_options.keyfile = $o{tls}{key}\n" .
		    ($o{peer} ? "ssl_options.verify = verify_peer\n" .
		    "ssl_options.fail_if_no_peer_cert = true\n" :
		    "ssl_options.verify = verify_none\n" .
		    "ssl_options.fail_if_no_peer_cert = false\n");
		$n->{amqps} = "amqps://guest:guest\@localhost:$n->{tls_port}";
	}
	spew("$dir/rabbitmq.conf", $conf);
	$n->{url} = "amqp://guest:guest\@127.0.0.1:$n->{port}";
	push(@nodes, $n);
	_start($n);
	return $n;
}

sub _start {
	my ($n) = @_;
	my $pid = fork() // die "fork: $!";
	if ($pid == 0) {
		%ENV = (%ENV, _env($n));
		chdir("$n->{dir}/cwd");
		open(STDIN, '<', '/dev/null');
		open(STDOUT, '>>', "$n->{dir}/server.log");
		open(STDERR, '>&', \*STDOUT);
		POSIX::setsid();
		exec("$SBIN/rabbitmq-server") or POSIX::_exit(127);
	}
	$n->{pid} = $pid;
	# Its listeners open last, once it has booted.
	my $port = $n->{tls} ? $n->{tls_port} : $n->{port};
	my $up = wait_until(sub {
		die "rabbitmq exited:\n" . (slurp("$n->{dir}/server.log") // '')
		    if waitpid($pid, WNOHANG) == $pid;
		IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port",
		    Timeout => 1);
	}, 60);
	my ($st, $out, $err) = _ctl($n, 'rabbitmqctl', '--timeout', '30',
	    'await_startup');
	die "rabbitmq did not start: $out$err\n" .
	    (slurp("$n->{dir}/server.log") // '') if !$up || $st != 0;
}

# The node's processes that outlive a stop: its beam and its epmd.
sub _leftovers {
	my ($n) = @_;
	my @pids;
	for my $p (glob('/proc/[0-9]*')) {
		my $env = slurp("$p/environ") // next;
		push(@pids, $p =~ s{/proc/}{}r)
		    if $env =~ /(?:^|\0)ERL_EPMD_PORT=$n->{epmd}(?:\0|$)/;
	}
	return @pids;
}

sub _stop {
	my ($n) = @_;
	return unless $n->{pid};
	_ctl($n, 'rabbitmqctl', '--timeout', '30', 'stop');
	wait_until(sub { waitpid($n->{pid}, WNOHANG) != 0 }, 30);
	run_cmd(undef, 'epmd', '-port', $n->{epmd}, '-kill');
	kill('KILL', $n->{pid}, _leftovers($n));
	waitpid($n->{pid}, 0);
	delete $n->{pid};
}

sub rabbitmq_stop { _stop($_[0]) }

# rabbitmqctl on the node: (status, out, err).
sub rabbitmq_ctl {
	my ($n, @args) = @_;
	return _ctl($n, 'rabbitmqctl', @args);
}

# The same node again: same data, same ports.
sub rabbitmq_restart {
	my ($n) = @_;
	_stop($n);
	_start($n);
}

# Runs t/amqp (the test tool): (status, stdout, stderr).
sub amqp_tool {
	my ($url, @args) = @_;
	return run_cmd(undef, bin('t/amqp'), $url, @args);
}

# Plain queues of these names, each declared as a test of its own.
sub declare_queues {
	my ($url, @names) = @_;
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	for my $q (@names) {
		my ($st, undef, $err) = amqp_tool($url, 'declare', $q);
		Test::More::is($st, 0, "queue $q declared") or
		    Test::More::diag($err);
	}
}

1;
