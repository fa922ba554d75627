#!/usr/bin/perl
# spoolctl status and inject against a running spoold, and its exit
# statuses: 0 done, 1 failed, 2 usage.
use strict;
use warnings;
use lib 't/lib';
use SpooldTest;
use Test::More;

my $s = new_spool(conf => 'max_record_size = "4KiB"', hooks => <<'EOT');
[hook.alpha]
url = "http://127.0.0.1:9/a"

[hook.beta]
url = "http://127.0.0.1:9/b"
types = ["Bounce"]
EOT

my ($st, $out, $err) = spoolctl($s, undef, 'status');
is($st, 1, 'status before spoold made a spool: exit 1');
like($err, qr/^spoolctl: spoold is not running \(cannot reach \Q$s->{dir}\E\/control.sock\), and its spool cannot be read: \Q$s->{spool}\E: No such file or directory$/,
    'says spoold is not running and there is no spool');

start_spoold($s);
($st, $out, $err) = spoolctl($s, undef, 'status');
is($st, 0, 'status: exit 0');
like($out, qr/^HOOK\s+STATE\s+READY\s+DEFERRED\s+INFLIGHT\s+HELD\s+DEAD\s+OLDEST\s+DELIVERED\s+FAILED\s+WORKERS$/m,
    'status prints a table header');
like($out, qr/^alpha\s+active\s+0\s+0\s+0\s+0\s+0\s+-\s+0\s+0\s+\d+$/m, 'an empty hook row');

my @recs = map { kumo_record($_, $_ % 2 ? 'Bounce' : 'Delivery') } 1 .. 50;
my $file = "$s->{dir}/in.ndjson";
spew($file, join("\n", @recs) . "\n");
($st, $out, $err) = spoolctl($s, undef, 'inject', $file);
is($st, 0, 'inject FILE: exit 0');
is($out, "injected 50 records: 50 queued, 0 discarded\n", 'inject reports counts');
($st, $out) = spoolctl($s, join("\n", @recs[0 .. 9]), '--json', 'inject');
is($st, 0, 'inject from standard input');
is_deeply(json_decode($out), { accepted => 10, queued => 10, discarded => 0 },
    'inject --json');

($st, $out) = spoolctl($s, undef, 'status', '--json');
my $j = json_decode($out);
is(queued($j->{hooks}{alpha}), 60, 'alpha holds 60');
is(queued($j->{hooks}{beta}), 30, 'beta took the 30 bounces');
for my $k (qw(ready deferred in_flight held dead delivered failed workers)) {
	ok(exists $j->{hooks}{alpha}{$k}, "status --json has $k");
}
ok(JSON::PP::is_bool($j->{hooks}{alpha}{held}), 'held is a boolean');

# A bad record anywhere injects nothing.
spew($file, join("\n", @recs[0 .. 4], '{"broken":', @recs[5 .. 9]) . "\n");
($st, $out, $err) = spoolctl($s, undef, 'inject', $file);
is($st, 1, 'inject of a bad file: exit 1');
like($err, qr/^spoolctl: .*record 5: .*nothing injected/, 'names the bad record');
spew($file, $recs[0] . "\n" . '{"big":"' . ('x' x 5000) . "\"}\n");
($st, $out, $err) = spoolctl($s, undef, 'inject', $file);
is($st, 1, 'inject of an oversized record: exit 1');
like($err, qr/record 1: larger than max_record_size/, 'names the oversized record');
($st, $out, $err) = spoolctl($s, undef, 'inject', "$s->{dir}/missing");
is($st, 1, 'inject of a missing file: exit 1');
like($err, qr/missing: No such file/, 'says the file is missing');
($st, $out) = spoolctl($s, undef, 'status', '--json');
is(queued(json_decode($out)->{hooks}{alpha}), 60, 'failed injects stored nothing');

# Progress on a terminal: script(1) gives spoolctl one. Pieces of 64 KiB
# make a file of 200 records several; the line is written over and
# cleared, the count stays.
my $big = "$s->{dir}/big.ndjson";
spew($big, join('', map { kumo_record($_, 'Delivery') . "\n" } 1 .. 200));
my $small = "$s->{dir}/small.conf";
spew($small, slurp($s->{conf}) =~ s/^(spool_dir)/max_request_size = "64KiB"\n$1/mr);
($st, $out, $err) = run_cmd(undef, bin('spoolctl'), '-f', $small, 'inject',
    $big);
is($out, "injected 200 records: 200 queued, 0 discarded\n",
    'inject in pieces: the count');
is($err, '', 'not on a terminal: no progress');
SKIP: {
	skip('no script(1)', 4) unless -x '/usr/bin/script';
	my $cmd = join(' ', map { "'$_'" } bin('spoolctl'), '-f', $small,
	    'inject', $big);
	($st, $out) = run_cmd(undef, '/usr/bin/script', '-qec', $cmd,
	    '/dev/null');
	is($st, 0, 'inject on a terminal: exit 0');
	like($out, qr/^\rinjecting: \d+ of 200 records, [\d.]+ of [\d.]+ MiB \(\d+%\)/,
	    'a progress line');
	like($out, qr/\r\e\[K/, 'cleared at the end');
	like($out, qr/\r\e\[Kinjected 200 records: 200 queued, 0 discarded\r?\n\z/,
	    'then the count');
}

($st, $out, $err) = spoolctl($s, undef, 'frobnicate');
is($st, 2, 'unknown command: exit 2');
like($err, qr/^usage: spoolctl/, 'unknown command prints usage');
($st) = spoolctl($s, undef);
is($st, 2, 'no command: exit 2');
($st) = spoolctl($s, undef, 'status', 'extra');
is($st, 2, 'status takes no arguments: exit 2');

is(stop_spoold($s), 0, 'spoold stops');
is(scalar @{spooldump($s)->{records}}, 460, 'the spool holds the 460 records');

done_testing();
