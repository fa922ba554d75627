# Helpers for the Kafka tests: librdkafka's mock cluster (build/t/kafkamock)
# speaking the Kafka protocol on real sockets on 127.0.0.1, commands to
# it, and reading a topic back (build/t/kafkaconsume). Every wait is
# bounded; a cluster is stopped at the end of the test whatever happens.
package KafkaTest;

use strict;
use warnings;
use Exporter 'import';
use IO::Select;
use IPC::Open2;
use JSON::PP;
use POSIX qw(:sys_wait_h);
use SpooldTest qw(bin run_cmd wait_until);
use Time::HiRes qw(time);

our @EXPORT = qw(start_mock mock_cmd stop_mock consume);

my %mocks;
my $owner = $$;
END {
	if ($$ == $owner) {
		stop_mock($_) for values %mocks;
	}
}

# A line from the cluster, or undef after $secs.
sub read_line {
	my ($m, $secs) = @_;
	my $sel = IO::Select->new($m->{out});
	my $deadline = time + ($secs // 10);
	while ($m->{buf} !~ /\n/) {
		my $left = $deadline - time;
		return undef if $left <= 0 || !$sel->can_read($left);
		return undef unless sysread($m->{out}, $m->{buf}, 4096,
		    length $m->{buf});
	}
	$m->{buf} =~ s/\A([^\n]*)\n//;
	return $1;
}

# A mock cluster of $brokers brokers with the topics given as
# "NAME:PARTITIONS": { pid, bootstrap, ... }.
sub start_mock {
	my ($brokers, @topics) = @_;
	my ($out, $in);
	my $pid = open2($out, $in, bin('t/kafkamock'), $brokers, @topics);
	my $m = { pid => $pid, out => $out, in => $in, buf => '' };
	$mocks{$pid} = $m;
	my $line = read_line($m, 10);
	die "kafkamock did not start\n" unless defined $line &&
	    $line =~ /^\S+:\d+/;
	$m->{bootstrap} = $line;
	return $m;
}

# Sends a command; returns the answer line ("ok" or "error ...").
sub mock_cmd {
	my ($m, $cmd) = @_;
	syswrite($m->{in}, "$cmd\n");
	return read_line($m, 10) // 'error no answer';
}

sub stop_mock {
	my ($m) = @_;
	return unless $m->{pid};
	syswrite($m->{in}, "quit\n");
	close($m->{in});
	wait_until(sub { waitpid($m->{pid}, WNOHANG) != 0 }, 10) or do {
		kill('KILL', $m->{pid});
		waitpid($m->{pid}, 0);
	};
	delete $mocks{$m->{pid}};
	delete $m->{pid};
}

# The messages of a topic, from the beginning: at most $o{count}, or
# all there are (to the end of every partition), in $o{secs} at most.
sub consume {
	my ($m, $topic, %o) = @_;
	my @args = ('-t', $o{secs} // 30);
	push @args, defined $o{count} ? ('-n', $o{count}) : ('-e');
	my ($st, $out, $err) = run_cmd(undef, bin('t/kafkaconsume'), @args,
	    $m->{bootstrap}, $topic);
	die "kafkaconsume: $err" if $st != 0;
	my $j = JSON::PP->new->utf8;
	return [ map { $j->decode($_) } grep { /\S/ } split /\n/, $out ];
}

1;
