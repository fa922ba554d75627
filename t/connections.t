# Many connections must not deny service: idle and slow connections
# cost no thread, a head trickled a byte at a time meets its deadline,
# and max_connections and max_connections_per_client hold.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use POSIX qw(:sys_wait_h);
use Test::More;
use SpooldTest;

my $IDLE = 2000;
my $SLOW = 300;

my $hard = `sh -c 'ulimit -Hn'`;
chomp $hard;
plan skip_all => "the open file limit ($hard) is below " . ($IDLE + $SLOW + 64)
    if $hard ne 'unlimited' && $hard < $IDLE + $SLOW + 64;

# Starts connflood and waits for its connections to be open.
sub flood {
	my ($s, @args) = @_;
	my $out = "$s->{dir}/flood.out";
	my $pid = fork() // die "fork: $!";
	if ($pid == 0) {
		open(STDOUT, '>', $out);
		exec(bin('t/connflood'), '-a', "127.0.0.1:$s->{port}", @args) or
		    POSIX::_exit(127);
	}
	my $ready = wait_until(sub { (slurp($out) // '') =~ /^ready$/m ||
	    waitpid($pid, WNOHANG) == $pid }, 60);
	return { pid => $pid, out => $out, ready => $ready };
}

sub flood_end {
	my ($f) = @_;
	wait_until(sub { waitpid($f->{pid}, WNOHANG) == $f->{pid} }, 60);
	my %r = (slurp($f->{out}) // '') =~ /(\w+)=(\d+)/g;
	return \%r;
}

sub threads_of {
	my ($pid) = @_;
	my $st = slurp("/proc/$pid/status") // '';
	return $st =~ /^Threads:\s+(\d+)/m ? $1 : -1;
}

sub producer {
	my ($s, $n) = @_;
	my $ok = 0;
	for my $i (1 .. $n) {
		# Every tenth request on a new connection, the rest kept alive.
		delete $s->{http} if $i % 10 == 0;
		my $r = post($s, '/log', 'application/json',
		    kumo_record($i, 'Delivery'));
		$ok++ if $r->{status} == 200;
	}
	return $ok;
}

my $s = new_spool(conf => <<'EOT', hooks => <<'EOT2');
client_header_timeout = "2s"
client_idle_timeout = "60s"
EOT
[hook.all]
url = "http://127.0.0.1:9/never"
EOT2
my $pid = start_spoold($s);

my $f = flood($s, '-i', $IDLE, '-s', $SLOW, '-b', 250, '-d', 6);
ok($f->{ready}, "$IDLE idle and $SLOW slow connections open");
is(producer($s, 200), 200, 'a producer beside them: 200 requests, 200 answered');
my $threads = threads_of($pid);
ok($threads > 0 && $threads < 40,
    "spoold holds $threads threads, not one per connection");
my $m = get($s, '/metrics')->{content} // '';
my ($open) = $m =~ /^spoold_ingest_connections (\d+)$/m;
ok(defined $open && $open >= $IDLE, "the connections gauge shows them open ("
    . ($open // 'none') . ')');
my $r = flood_end($f);
is($r->{idle_closed}, 0, 'idle connections stay within client_idle_timeout');
is($r->{slow_closed}, $SLOW,
    'every slow head is cut off by client_header_timeout');
ok($r->{slow_close_ms_min} >= 1900,
    "not before the deadline ($r->{slow_close_ms_min} ms)");
ok($r->{slow_close_ms_max} <= 4500,
    "nor long after it ($r->{slow_close_ms_max} ms)");
is($r->{refused}, 0, 'no connection refused');
$m = get($s, '/metrics')->{content} // '';
like($m, qr/^spoold_ingest_connections_timed_out_total (\d+)$/m,
    'timed out connections are counted');
my ($to) = $m =~ /^spoold_ingest_connections_timed_out_total (\d+)$/m;
is($to, $SLOW, 'as many as were cut off');
is(stop_spoold($s), 0, 'SIGTERM: spoold exits 0');

# The limits: connections over them are closed at once, the rest served.
# Returns the spoold started with conf and the flood's counts.
sub limited {
	my ($conf, $n) = @_;
	my $l = new_spool(conf => $conf, hooks => <<'EOT');
[hook.all]
url = "http://127.0.0.1:9/never"
EOT
	start_spoold($l);
	return ($l, flood_end(flood($l, '-i', $n, '-d', 2)));
}

($s, $r) = limited("max_connections = 50\nmax_connections_per_client = 40",
    45);
is($r->{refused}, 5, 'max_connections_per_client 40: 5 of 45 refused');
is($r->{idle_closed}, 0, 'the 40 others kept');
$m = get($s, '/metrics')->{content} // '';
like($m, qr/^spoold_ingest_connections_refused_total 5$/m,
    'refusals are counted');
stop_spoold($s);

($s, $r) = limited('max_connections = 50', 60);
is($r->{refused}, 10, 'max_connections 50: 10 of 60 refused');
is($r->{idle_closed}, 0, 'the 50 others kept');
is(producer($s, 20), 20, 'once they are gone, a producer is served');
like(slurp("$s->{dir}/spoold.log") // '',
    qr/connection refused: max_connections reached/,
    'the refusal is logged');
stop_spoold($s);
done_testing();
