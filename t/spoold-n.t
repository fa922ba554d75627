#!/usr/bin/perl
# spoold -n: effective settings, each with its origin, and "configuration
# OK", or FILE:LINE:COL errors and exit 1; the real KumoMTA shaping file
# loads. A hook taking mail-grade limits from ["default"] is warned of, by
# spoold -n, at start and on reload.
use strict;
use warnings;
use lib 't/lib';
use SpooldTest;
use Cwd qw(abs_path);
use Test::More;

my $s = new_spool(hooks => <<'EOT');
[hook.events]
url = "http://127.0.0.1:8080/events"
batch_size = 100
max_batch_latency = "1s"
EOT
my ($st, $out, $err) = run_cmd(undef, bin('spoold'), '-n', '-f', $s->{conf});
is($st, 0, 'a good configuration: exit 0');
like($out, qr/^configuration OK$/m, 'says configuration OK');
like($out, qr/events/, 'names the hook');
like($out, qr/batch_size\s*=?\s*100/, 'prints the effective batch_size');
like($out, qr/connection_limit\s*=?\s*32/, 'prints the default connection_limit');
# Each setting of a hook with its origin, in one column.
like($out, qr/^batch_size = 100 {27}# \Q$s->{conf}\E:7 \[hook\.events\]$/m,
    'a key of the hook\'s table: FILE:LINE [hook.NAME]');
like($out, qr/^max_batch_latency = 1s {21}# \Q$s->{conf}\E:8 \[hook\.events\]$/m,
    'a duration from the table');
like($out, qr/^min_batch_size = 1 {25}# built-in$/m, 'a default: built-in');
like($out, qr/^connection_limit = 32 {22}# built-in$/m,
    'a shaping key nobody set: built-in');
is($err, '', 'no shaping file: no warning');

spew($s->{conf}, slurp($s->{conf}) . "bogus_key = 1\n");
($st, $out, $err) = run_cmd(undef, bin('spoold'), '-n', '-f', $s->{conf});
is($st, 1, 'an unknown key: exit 1');
like($err, qr/^\Q$s->{conf}\E:\d+:\d+: .*bogus_key/m, 'FILE:LINE:COL names the key');
unlike($out // '', qr/configuration OK/, 'no OK on error');

spew($s->{conf}, "spool_dir = \"/tmp/x\"\n[hook.a]\nurl = \"http://x/\"\ntimeout = \"soon\"\n");
($st, $out, $err) = run_cmd(undef, bin('spoold'), '-n', '-f', $s->{conf});
is($st, 1, 'a bad duration: exit 1');
like($err, qr/^\Q$s->{conf}\E:4:\d+: .*timeout/m, 'the error points at line 4');

# KumoMTA takes a retry_interval above max_retry_interval, and caps it.
spew($s->{conf}, "spool_dir = \"/tmp/x\"\n[hook.a]\nurl = \"http://x/\"\n" .
    "retry_interval = \"1h\"\n");
($st, $out, $err) = run_cmd(undef, bin('spoold'), '-n', '-f', $s->{conf});
is($st, 0, 'retry_interval above max_retry_interval: taken');
like($err, qr/^spoold: \Q$s->{conf}\E:4:18: hook a: retry_interval \(1h\) is above max_retry_interval \(20m\): every retry waits 20m$/m,
    'with a warning at its place');
like($out, qr/^configuration OK$/m, 'configuration OK');

spew($s->{conf}, "listen = [\"127.0.0.1:1\"\n");
($st, $out, $err) = run_cmd(undef, bin('spoold'), '-n', '-f', $s->{conf});
is($st, 1, 'a TOML syntax error: exit 1');
like($err, qr/^\Q$s->{conf}\E:\d+:\d+: /m, 'syntax error with its position');

($st, $out, $err) = run_cmd(undef, bin('spoold'), '-n', '-f', "$s->{dir}/nope.conf");
is($st, 1, 'a missing file: exit 1');
like($err, qr/nope\.conf/, 'names the missing file');

($st, $out, $err) = run_cmd(undef, bin('spoold'), '-x');
is($st, 2, 'a bad flag: exit 2');
like($err, qr/^usage: spoold/m, 'prints usage');

# A mail-grade limit taken from ["default"]: the warning names the hook,
# each key with its value and place, and prints the section to add.
my $advice = <<'EOT';
    ['events.log_hook']
    connection_limit = "local:10"
    max_connection_rate = "1000/s"
    max_deliveries_per_connection = 8192
    max_message_rate = "10000/s"
    max_ready = 10000
    mx_rollup = false
    system_shutdown_timeout = "30s"
EOT
my $shaping = "$s->{dir}/shaping.toml";
spew($shaping, <<'EOT');
# for mailbox providers
["default"]
connection_limit = 4
max_message_rate = "100/s"
idle_timeout = "60s"
EOT
$s = new_spool(conf => 'shaping = ["shaping.toml"]', hooks => <<'EOT');
[hook.events]
url = "http://127.0.0.1:8080/events"
EOT
spew("$s->{dir}/shaping.toml", slurp($shaping));
$shaping = "$s->{dir}/shaping.toml";
($st, $out, $err) = run_cmd(undef, bin('spoold'), '-n', '-f', $s->{conf});
is($st, 0, 'mail-grade limits from ["default"]: still valid');
like($out, qr/^connection_limit = 4 {23}# \Q$shaping\E:3 \["default"\]$/m,
    'a shaping key: FILE:LINE ["default"]');
like($out, qr/^max_message_rate = 100\/s {19}# \Q$shaping\E:4 \["default"\]$/m,
    'a rate from ["default"]');
is($err, "spoold: $shaping:3:20: hook events takes mail-grade limits from " .
    "[\"default\"]: connection_limit = 4 ($shaping:3), max_message_rate = " .
    "\"100/s\" ($shaping:4); its records back up behind them. Add to a " .
    "shaping file, as KumoMTA advises for a log hook:\n$advice",
    'the warning, then the section to add');

# Logged at start and on each reload, the section a line at a time.
my $warned = qr/^spoold: \Q$shaping\E:3:20: hook events takes mail-grade limits/m;
start_spoold($s);
my $log = sub { slurp("$s->{dir}/spoold.log") // '' };
my @n = $log->() =~ /$warned/g;
is(scalar @n, 1, 'start: the warning is logged');
(my $section = $advice) =~ s/^/spoold: /mg;
like($log->(), qr/\Q$section\E/, 'start: with the section, a log line each');
kill('HUP', $s->{pid});
ok(wait_until(sub { my @r = $log->() =~ /configuration reloaded/g; @r > 0 },
    10), 'reload');
@n = $log->() =~ /$warned/g;
is(scalar @n, 2, 'reload: warned again');
spew($shaping, slurp($shaping) . "\n['events.log_hook']\n" .
    join('', map { s/^    //r } split(/^/m, $advice =~ s/^.*\n//r)));
($st, $out) = spoolctl($s, undef, 'reload');
is($st, 0, 'reload with the section added');
@n = $log->() =~ /$warned/g;
is(scalar @n, 2, 'reload: no warning any more');
is(stop_spoold($s), 0, 'spoold stops');
($st, $out, $err) = run_cmd(undef, bin('spoold'), '-n', '-f', $s->{conf});
like($out, qr/^connection_limit = 10 {22}# \Q$shaping\E:8 \['events\.log_hook'\]$/m,
    'the section added: FILE:LINE [\'NAME.log_hook\']');
is($err, '', 'and no warning');

SKIP: {
	my $fixture = '../shared/fixtures/kumomta-shaping.toml';
	skip 'the KumoMTA fixture is not beside this clone', 9 unless -r $fixture;
	$fixture = abs_path($fixture);
	spew($s->{conf}, <<"EOT");
spool_dir = "$s->{dir}/spool"
shaping = ["$fixture"]

[hook.webhook]
url = "http://127.0.0.1:8080/events"
EOT
	($st, $out, $err) = run_cmd(undef, bin('spoold'), '-n', '-f', $s->{conf});
	is($st, 0, 'the KumoMTA shaping file loads') or diag($err);
	like($out, qr/^configuration OK$/m, 'configuration OK');
	like($out, qr/connection_limit\s*=?\s*10\b/, 'connection_limit 10 from ["default"]');
	like($out, qr/max_message_rate\s*=\s*"?100\/s/, 'max_message_rate from ["default"]');
	like($out, qr/data_timeout.*kumomta-shaping\.toml:\d+/, 'lists the ignored data_timeout with its place');
	like($out, qr/comcast\.net/, 'lists the ignored domain sections');
	like($out, qr/^max_connection_rate = 100\/min {14}# \Q$fixture\E:58 \["default"\]$/m,
	    'max_connection_rate: from the fixture\'s ["default"], line 58');
	(my $section = $advice) =~ s/events/webhook/;
	is($err, "spoold: $fixture:58:23: hook webhook takes mail-grade limits " .
	    "from [\"default\"]: max_connection_rate = \"100/min\" ($fixture:58), " .
	    "max_deliveries_per_connection = 100 ($fixture:59), " .
	    "max_message_rate = \"100/s\" ($fixture:60); its records back up " .
	    "behind them. Add to a shaping file, as KumoMTA advises for a log " .
	    "hook:\n$section", 'warns of the fixture\'s mail-grade limits');
	$out =~ /^(connection_limit = 10 +)#/m;
	is(length($1 // ''), 43, 'origins aligned in one column');
}

done_testing();
