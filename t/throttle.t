#!/usr/bin/perl
# A hook held back by a shaping limit while its backlog grows: spoold
# says so in its log, naming the limit, its value and where the value
# came from, and counts the time in spoold_hook_throttled_seconds_total.
# A hook no limit holds back says nothing.
use strict;
use warnings;
use lib 't/lib';
use SpooldTest;
use Test::More;
use Time::HiRes qw(time sleep);

my $rcv = start_receiver('-d', '100');
my $s = new_spool(hooks => <<"EOT");
[hook.a]
url = "$rcv->{url}/a"
[hook.b]
url = "$rcv->{url}/b"
connection_limit = 1
[hook.c]
url = "$rcv->{url}/c"
EOT
my $shaping = "$s->{dir}/shaping.toml";
spew($shaping, <<'EOT');
["default"]
max_message_rate = "20/s"

['b.log_hook']
max_message_rate = "100000/s"

['c.log_hook']
max_message_rate = "100000/s"
EOT
my $conf = slurp($s->{conf});
$conf =~ s/^(pid_file.*\n)/$1shaping = ["$shaping"]\n/m;
spew($s->{conf}, $conf);
my $conf_line = 0;
for (split /\n/, $conf) { $conf_line++; last if /^connection_limit/ }
start_spoold($s);

# 40 records a second to each hook: a takes 20/s, b 10/s (one connection,
# 100 ms a request), c as many as come.
my $log = "$s->{dir}/spoold.log";
my ($n, $deadline) = (0, time + 40);
my $both = sub {
	my $t = slurp($log) // '';
	return $t =~ /hook a: throttled/ && $t =~ /hook b: throttled/;
};
while (time < $deadline && !$both->()) {
	my $r = post($s, '/log', 'application/x-ndjson',
	    join("\n", map { kumo_record($n + $_) } 1 .. 4));
	die "ingest: $r->{status}" unless $r->{status} == 200;
	$n += 4;
	sleep(0.1);
}
my $text = slurp($log) // '';
like($text, qr/^spoold: hook a: throttled by max_message_rate = "20\/s" from \Q$shaping\E:2\b.*: \d+ records queued, \d+ more than 5 s ago$/m,
    'a: the message rate from ["default"], with its place');
like($text, qr/^spoold: hook b: throttled by connection_limit = 1 from \Q$s->{conf}\E:$conf_line\b.*: \d+ records queued, \d+ more than 5 s ago$/m,
    "b: the connection limit of its table, with its place");
unlike($text, qr/hook c: throttled/, 'c: no warning');
is(() = $text =~ /hook a: throttled/g, 1, 'a: one warning, not one a round');

my %m;
for (split /\n/, get($s, '/metrics')->{content} // '') {
	$m{"$1 $2 $3"} = $4 if /^spoold_hook_throttle(d_seconds|_warnings)_total\{hook="(\w+)",limit="(\w+)"\} (\S+)$/;
}
cmp_ok($m{'d_seconds a max_message_rate'} // 0, '>', 4,
    'a: over 4 s held back by max_message_rate, in the metric');
cmp_ok($m{'d_seconds b connection_limit'} // 0, '>', 4,
    'b: over 4 s held back by connection_limit');
is($m{'_warnings a max_message_rate'}, 1, 'a: the warning counted');
is($m{'_warnings b connection_limit'}, 1, 'b: the warning counted');
is(join(',', map { $m{"d_seconds c $_"} } qw(connection_limit max_connection_rate max_message_rate)),
    '0.000,0.000,0.000', 'c: never held back');
diag($text) unless Test::More->builder->is_passing;
stop_spoold($s);
stop_receiver($rcv);
done_testing();
