#!/usr/bin/perl
# spoolctl status --watch and top: a table per interval, with the rates
# between readings; --count bounds it, SIGINT ends it with exit 0.
use strict;
use warnings;
use lib 't/lib';
use SpooldTest;
use Test::More;
use POSIX ();

my $recv = start_receiver();
END { kill('KILL', $recv->{pid}) if $recv && $recv->{pid} }
my $s = new_spool(hooks => <<"EOT");
[hook.d]
url = "http://127.0.0.1:$recv->{port}/d"

[hook.held]
url = "http://127.0.0.1:9/held"
EOT
start_spoold($s);
spoolctl($s, undef, 'hold', 'held');

# The readings of a watch's output: [{ hook => { COLUMN => value } }].
sub readings {
	my ($text) = @_;
	my (@r, @cols);
	for my $line (split /\n/, $text) {
		if ($line =~ /^HOOK\s/) {
			@cols = split ' ', $line;
			push @r, {};
		} elsif (@cols && $line =~ /^\S+\s+(active|held)\s/) {
			my @v = split ' ', $line;
			$r[-1]{$v[0]} = { map { $cols[$_] => $v[$_] } 0 .. $#cols };
		}
	}
	return \@r;
}

my ($st, $out, $err) = spoolctl($s, undef, 'status', '--watch',
    '--interval', '0.2', '--count', '3');
is($st, 0, 'status --watch --count 3: exit 0');
my $r = readings($out);
is(scalar @$r, 3, 'three tables');
like($out, qr/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d  every 0.2s$/m,
    'each under the time and the interval');
like($out, qr/^HOOK\s+STATE\s+READY\s+DEFERRED\s+INFLIGHT\s+HELD\s+DEAD\s+OLDEST\s+DELIVERED\s+FAILED\s+WORKERS\s+IN\/s\s+DELIV\/s\s+FAIL\/s$/m,
    'with the rate columns');
is($r->[0]{d}{'DELIV/s'}, '-', 'no rate from the first reading');
is($r->[1]{d}{'DELIV/s'}, '0.0', 'none delivered: 0.0');
($st, $out) = spoolctl($s, undef, 'top', '--interval', '0.2', '--count',
    '1');
is(scalar @{readings($out)}, 1, 'top --count 1: one table');
for my $bad (['--interval', '0'], ['--interval', 'x'], ['--count', '0']) {
	($st) = spoolctl($s, undef, 'status', '--watch', @$bad);
	is($st, 2, "status --watch @$bad: exit 2");
}
($st) = spoolctl($s, undef, 'status', '--count', '2');
is($st, 2, '--count without --watch: exit 2');

# A known delivery while it watches: the readings' rates account for it.
my $dir = $s->{dir};
my $pid = fork() // die "fork: $!";
if ($pid == 0) {
	open(STDOUT, '>', "$dir/watch.out");
	open(STDERR, '>', "$dir/watch.err");
	exec(bin('spoolctl'), '-f', $s->{conf}, 'status', '--watch',
	    '--interval', '0.2') or POSIX::_exit(127);
}
ok(wait_until(sub { @{readings(slurp("$dir/watch.out") // '')} >= 1 }, 10),
    'the first table');
my $in = join('', map { kumo_record($_, 'Delivery') . "\n" } 1 .. 7);
($st, $out) = spoolctl($s, $in, 'inject');
is($out, "injected 7 records: 7 queued, 0 discarded\n", 'inject 7');
ok(wait_until(sub {
	my $w = readings(slurp("$dir/watch.out") // '');
	@$w >= 3 && $w->[-2]{d}{DELIVERED} == 7 }, 20),
    'the watch saw the 7 delivered');
kill('INT', $pid);
my $ws = -1;
wait_until(sub { waitpid($pid, POSIX::WNOHANG()) == $pid and $ws = $? },
    10) or kill('KILL', $pid);
is($ws, 0, 'SIGINT ends it: exit 0');
is(slurp("$dir/watch.err"), '', 'nothing on stderr');
$r = readings(slurp("$dir/watch.out"));
my ($delivered, $held, $rates_ok) = (0, 0, 1);
for my $k (1 .. $#$r) {
	my ($now, $then) = ($r->[$k], $r->[$k - 1]);
	my $dd = $now->{d}{DELIVERED} - $then->{d}{DELIVERED};
	my $dh = 0;
	$dh += $now->{held}{$_} - $then->{held}{$_}
	    for qw(READY DEFERRED INFLIGHT HELD);
	$delivered += $dd;
	$held += $dh;
	# A rate is the change over the time between two readings.
	$rates_ok &&= ($dd > 0) == ($now->{d}{'DELIV/s'} > 0) &&
	    ($dh > 0) == ($now->{held}{'IN/s'} > 0) &&
	    $now->{d}{'FAIL/s'} == 0;
}
is($delivered, 7, 'the DELIVERED changes add up to the 7');
is($held, 7, 'the held hook took the 7 in');
ok($rates_ok, 'a rate is above 0 exactly when its total grew');

is(stop_spoold($s), 0, 'spoold stops');
stop_receiver($recv);

done_testing();
