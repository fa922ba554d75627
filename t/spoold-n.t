#!/usr/bin/perl
# spoold -n: effective settings and "configuration OK", or FILE:LINE:COL
# errors and exit 1; the real KumoMTA shaping file loads.
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

SKIP: {
	my $fixture = '../shared/fixtures/kumomta-shaping.toml';
	skip 'the KumoMTA fixture is not beside this clone', 6 unless -r $fixture;
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
}

done_testing();
