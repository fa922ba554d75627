#!/usr/bin/perl
# Log sources: KumoMTA's local log segments read into the spool. A
# growing open segment is read while it is written; rotation and a
# backlog of many segments; a restart resumes where it stopped, exactly
# once; invalid lines are counted, logged and skipped; plain JSON lines;
# a segment deleted before it was read; start = "newest"; a corrupt
# frame and a truncated segment stop their source (not the others, not
# ingest) until spoolctl source skip; a full spool pauses a source,
# which loses nothing once delivery makes room.
use strict;
use warnings;
use lib 't/lib';
use SpooldTest;
use Segments;
use Test::More;
use Time::HiRes qw(sleep time);

# A hook whose records stay in the spool: its url refuses, retries wait.
my $HELD_HOOK = "[hook.h]\nurl = \"http://127.0.0.1:9/h\"\n" .
    "retry_interval = \"1h\"\nmax_retry_interval = \"1h\"\n";

sub source_spool {
	my (%o) = @_;
	my $s = new_spool(hooks => ($o{hooks} // $HELD_HOOK), conf => $o{conf});
	my $logs = "$s->{dir}/logs";
	mkdir($logs) or die "$logs: $!";
	my $conf = slurp($s->{conf});
	$conf .= "\n[source.kumo]\ndirectory = \"$logs\"\n" .
	    ($o{source} // '');
	$conf .= $o{more} // '';
	spew($s->{conf}, $conf);
	$s->{logs} = $logs;
	return $s;
}

sub source_of {
	my ($s, $name) = @_;
	my ($st, $out) = spoolctl($s, undef, '--json', 'status');
	my $j = json_decode($out // '') // {};
	return $j->{sources}{$name // 'kumo'} // {};
}

sub wait_source {
	my ($s, $cond, $secs, $name) = @_;
	my $st;
	wait_until(sub { $st = source_of($s, $name); $cond->($st) }, $secs // 30);
	return $st;
}

# The ids of the records in a stopped spoold's spool, in id order.
sub spooled_ids {
	my ($s) = @_;
	return map { /"id":"([^"]*)"/ ? $1 : '?' } @{spooldump($s)->{records}};
}

sub ids { my ($p, $from, $to) = @_; return map { "$p$_" } $from .. $to }

sub dupes {
	my %n;
	$n{$_}++ for @_;
	return scalar grep { $n{$_} > 1 } keys %n;
}

# 1. A growing segment, read while open; rotation by size.
my $s = source_spool();
start_spoold($s);
my $w = start_writer($s->{logs}, n => 3000, rate => 1500, size => 150_000,
    flush => 1);
my $st = wait_source($s, sub { ($_[0]{records} // 0) > 0 }, 20);
ok(($st->{records} // 0) > 0 && !defined wait_writer($w, 0),
    "records are read while the writer is still writing ($st->{records})");
ok(!is_done("$s->{logs}/$st->{segment}") || $st->{records} > 0,
    'from a segment still open') if $st->{segment};
is(wait_writer($w, 30), 0, 'the writer ends');
my @closed = writer_closed($w);
cmp_ok(scalar @closed, '>=', 5, scalar(@closed) . ' segments by rotation');
$st = wait_source($s, sub { ($_[0]{records} // 0) == 3000 &&
    $_[0]{state} eq 'waiting' }, 30);
is($st->{records}, 3000, 'every record read');
is($st->{state}, 'waiting', 'then waiting for more');
is($st->{behind_segments}, 0, 'nothing behind');
is($st->{segment}, $closed[-1][0], 'at the last segment');
is(stop_spoold($s), 0, 'spoold stops');
my ($rc0, $out0) = spoolctl($s, undef, 'status');
like($out0, qr/^kumo\s+stopped\s+\Q$closed[-1][0]\E\s+end\s+3000\s+0\s+0\s+0$/m,
    'spoolctl status with spoold stopped: the source as its checkpoint says');
my @got = spooled_ids($s);
is_deeply(\@got, [ids('r', 1, 3000)], 'the spool holds each record once, in order');

# 2. A backlog of many segments; then a restart goes on exactly once.
$s = source_spool();
$w = start_writer($s->{logs}, n => 20000, size => 20000, flush => 0);
is(wait_writer($w, 60), 0, 'a backlog written');
my $nseg = () = segments($s->{logs});
cmp_ok($nseg, '>=', 200, "$nseg segments");
start_spoold($s);
$st = wait_source($s, sub { ($_[0]{records} // 0) == 20000 }, 60);
is($st->{records}, 20000, 'the backlog read');
is(stop_spoold($s), 0, 'spoold stops');
$w = start_writer($s->{logs}, n => 5000, first => 20001, size => 50000);
is(wait_writer($w, 60), 0, 'more written while spoold is down');
{
	# Left to read, as a stopped spoold's checkpoint and directory say:
	# the new segments, and the checkpoint's whole unless it was done.
	my @more = writer_closed($w);
	my $off = source_of($s);
	my $cur = defined $off->{offset} && $off->{segment} ne '' ?
	    -s "$s->{logs}/$off->{segment}" : undef;
	my $bytes = $cur // 0;
	$bytes += $_->[2] for @more;
	my $segs = @more + (defined $cur ? 1 : 0);
	is($off->{state}, 'stopped', 'spoolctl status while spoold is down');
	is($off->{behind_segments}, $segs, "$segs segments left to read");
	is($off->{behind_bytes}, $bytes, "$bytes bytes of them");
	my (undef, $text) = spoolctl($s, undef, 'status');
	like($text, qr/^kumo\s+stopped\s.*\s\Q$segs\E\s+\Q$bytes\E$/m,
	    'the table says the same');
}
start_spoold($s);
$st = wait_source($s, sub { ($_[0]{records} // 0) == 25000 }, 60);
is($st->{records}, 25000, 'after the restart, only the new records are read');
is(stop_spoold($s), 0, 'spoold stops');
@got = spooled_ids($s);
is(scalar @got, 25000, '25000 records in the spool');
is(dupes(@got), 0, 'none twice');
is_deeply(\@got, [ids('r', 1, 25000)], 'all, in order');

# 3. Plain JSON lines; invalid lines; a segment deleted before it was
# read to its end. A second hook takes only Bounce records: records read
# go through each hook's types as posted ones do.
$s = source_spool(hooks => $HELD_HOOK . "[hook.b]\nurl = \"http://127.0.0.1:9/b\"\n" .
    "retry_interval = \"1h\"\ntypes = [\"Bounce\"]\n");
my $big = '{"type":"Delivery","id":"big","x":"' . ('y' x 1_100_000) . '"}';
spew("$s->{logs}/20260101-000001.000000",
    join("\n", kumo_record(1), '{"type":"Delivery","id":', '', 'not json',
    kumo_record(2), $big, kumo_record(3)) . "\n");
mark_done("$s->{logs}/20260101-000001.000000");
start_spoold($s);
$st = wait_source($s, sub { ($_[0]{records} // 0) == 3 &&
    $_[0]{state} eq 'waiting' }, 20);
is($st->{records}, 3, 'plain JSON lines: the three records');
is($st->{invalid_lines}, 3, 'three invalid lines counted (a blank one is not)');
is(queued(status_of($s, 'b')), 1, 'the Bounce hook takes its one Bounce record');
is(queued(status_of($s, 'h')), 3, 'the other hook all three');
my $log = slurp("$s->{dir}/spoold.log") // '';
like($log, qr{source kumo: \Q$s->{logs}\E/20260101-000001\.000000:2: .*; the line is skipped},
    'an invalid line is logged with its file and line');
like($log, qr{20260101-000001\.000000:6: larger than max_record_size \(1048576 bytes\); the line is skipped},
    'and one larger than max_record_size');
# An open segment partly read, then deleted while spoold is down.
$w = start_writer($s->{logs}, n => 100, prefix => 'd', keep_open => 1,
    leave => 1);
is(wait_writer($w, 30), 0, 'a segment left open');
$st = wait_source($s, sub { ($_[0]{records} // 0) == 103 }, 20);
is($st->{records}, 103, 'its records read');
is(stop_spoold($s), 0, 'spoold stops');
my ($open) = grep { !is_done("$s->{logs}/$_") } segments($s->{logs});
unlink("$s->{logs}/$open") or die "unlink: $!";
$w = start_writer($s->{logs}, n => 10, prefix => 'e', leave => 1);
is(wait_writer($w, 30), 0, 'a later segment written');
start_spoold($s);
$st = wait_source($s, sub { ($_[0]{records} // 0) == 113 }, 20);
is($st->{records}, 113, 'the source goes on with the next segment');
is($st->{missing_segments}, 1, 'the deleted one counted');
like(slurp("$s->{dir}/spoold.log") // '', qr{source kumo: \Q$s->{logs}/$open\E was deleted before it was read to its end},
    'and logged');
is(stop_spoold($s), 0, 'spoold stops');

# 4. start = "newest": older segments are left alone.
$s = source_spool(source => "start = \"newest\"\n");
$w = start_writer($s->{logs}, n => 500, size => 20000);
is(wait_writer($w, 30), 0, 'segments written before the source starts');
@closed = writer_closed($w);
start_spoold($s);
$st = wait_source($s, sub { $_[0]{state} eq 'waiting' &&
    ($_[0]{records} // 0) > 0 }, 20);
is($st->{records}, $closed[-1][1], "only the newest segment's $closed[-1][1] records");
$w = start_writer($s->{logs}, n => 50, first => 501, leave => 1);
is(wait_writer($w, 30), 0, 'one more');
$st = wait_source($s, sub { ($_[0]{records} // 0) == $closed[-1][1] + 50 },
    20);
is($st->{records}, $closed[-1][1] + 50, 'and then the later ones');
is(stop_spoold($s), 0, 'spoold stops');
{
	# A source added while spoold is down, never started: what it
	# would read is the newest segment alone.
	spew($s->{conf}, slurp($s->{conf}) . "[source.late]\ndirectory = " .
	    "\"$s->{logs}\"\nstart = \"newest\"\n");
	my @all = sort grep { !/^\./ } map { s{.*/}{}r } glob("$s->{logs}/*");
	my $off = source_of($s, 'late');
	is($off->{behind_segments}, 1, 'a source never started, with ' .
	    'start = "newest": 1 segment left to read');
	is($off->{behind_bytes}, -s "$s->{logs}/$all[-1]",
	    'the newest segment\'s bytes');
}

# 5. A corrupt frame stops its source, not the others or ingest; skip
# moves it on. A truncated read-only segment does the same.
$s = source_spool(more => '');
my $good = "$s->{dir}/good";
mkdir($good) or die;
spew($s->{conf}, slurp($s->{conf}) . "[source.good]\ndirectory = \"$good\"\n");
$w = start_writer($s->{logs}, n => 4000, size => 100_000_000, flush => 100,
    prefix => 'c');
is(wait_writer($w, 30), 0, 'a segment to corrupt');
my ($first) = segments($s->{logs});
corrupt_segment("$s->{logs}/$first", int((-s "$s->{logs}/$first") / 2), 4096);
$w = start_writer($s->{logs}, n => 10, first => 5000, prefix => 'c',
    leave => 1);
is(wait_writer($w, 30), 0, 'and one after it');
$w = start_writer($good, n => 100, prefix => 'g');
is(wait_writer($w, 30), 0, 'another source');
start_spoold($s);
$st = wait_source($s, sub { $_[0]{state} eq 'failed' }, 20);
is($st->{state}, 'failed', 'the corrupt segment stops the source');
like($st->{error} // '', qr{\Q$s->{logs}/$first\E: offset \d+: }, 'naming the file and the offset');
my $g = wait_source($s, sub { ($_[0]{records} // 0) == 100 }, 20, 'good');
is($g->{records}, 100, 'the other source reads on');
my $r = post($s, '/log', 'application/json', kumo_record(7));
is($r->{status}, 200, 'ingest goes on');
my ($rc, $out) = spoolctl($s, undef, 'status');
like($out, qr/^kumo\s+failed\s+\Q$first\E\s/m, 'spoolctl status shows the failed source');
like($out, qr/^kumo: \Q$s->{logs}\/$first\E: offset \d+: /m, 'and why');
my $m = get($s, '/metrics')->{content} // '';
like($m, qr/^spoold_source_state\{source="kumo",state="failed"\} 1$/m, 'the metric says failed');
like(slurp("$s->{dir}/spoold.log") // '', qr/source kumo: .*the source stops here until "spoolctl source skip kumo"/,
    'the log says what to do');
my $before = $st->{records};
($rc, $out) = spoolctl($s, undef, 'source', 'skip', 'kumo');
is($rc, 0, 'source skip: exit 0');
like($out, qr/^source kumo: skipped \Q$first\E from line \d+$/, 'source skip says what it skipped');
$st = wait_source($s, sub { ($_[0]{records} // 0) == $before + 10 &&
    $_[0]{state} eq 'waiting' }, 20);
is($st->{records}, $before + 10, 'then the next segment is read');
($rc, undef, my $err) = spoolctl($s, undef, 'source', 'skip', 'nosuch');
is($rc, 1, 'source skip of an unknown source: exit 1');
like($err, qr/no such source/, 'saying so');
# Truncated: read-only, but its frame ends early. Made aside, so that
# the source sees it only once it is cut.
my $aside = "$s->{dir}/aside";
mkdir($aside) or die;
$w = start_writer($aside, n => 2000, first => 6000, prefix => 't',
    size => 100_000_000);
is(wait_writer($w, 30), 0, 'a segment to truncate');
my ($trunc) = segments($aside);
truncate_segment("$aside/$trunc", -100);
rename("$aside/$trunc", "$s->{logs}/$trunc") or die "rename: $!";
$st = wait_source($s, sub { $_[0]{state} eq 'failed' }, 20);
like($st->{error} // '', qr/\Q$trunc\E: read-only but incomplete/, 'a truncated segment stops the source too');
is(stop_spoold($s), 0, 'spoold stops');
start_spoold($s);
$st = wait_source($s, sub { $_[0]{state} eq 'failed' }, 20);
is($st->{state}, 'failed', 'and again after a restart: nothing is skipped unasked');
($rc) = spoolctl($s, undef, 'source', 'skip', 'kumo');
is($rc, 0, 'until skipped');
$st = wait_source($s, sub { $_[0]{state} eq 'waiting' }, 20);
is($st->{state}, 'waiting', 'then it waits for the next segment');
is(stop_spoold($s), 0, 'spoold stops');

# 6. A full spool pauses the source; delivery makes room; nothing lost.
my $hold = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
    Proto => 'tcp') or die "bind: $!";
my $port = $hold->sockport;
$s = source_spool(conf => 'max_spool_size = "2MiB"',
    hooks => "[hook.h]\nurl = \"http://127.0.0.1:$port/h\"\n" .
    "retry_interval = \"200ms\"\nmax_retry_interval = \"500ms\"\n" .
    "batch_size = 100\n");
$w = start_writer($s->{logs}, n => 60000, size => 20_000_000, flush => 100);
is(wait_writer($w, 60), 0, 'more records than the spool holds');
start_spoold($s);
$st = wait_source($s, sub { $_[0]{state} eq 'paused' }, 30);
is($st->{state}, 'paused', 'the source pauses when the spool is full');
close($hold);
my $rcv = start_receiver('-p', $port);
$st = wait_source($s, sub { ($_[0]{records} // 0) == 60000 }, 120);
is($st->{records}, 60000, 'and reads on as delivery makes room');
is(wait_status($s, 'h', sub { ($_[0]{delivered} // 0) >= 60000 }, 120)->{delivered},
    60000, 'every record delivered');
my @recv = map { /"id":"([^"]*)"/ ? $1 : () } @{receiver_records($rcv)};
my %seen = map { $_ => 1 } @recv;
is(scalar(grep { !$seen{$_} } ids('r', 1, 60000)), 0, 'none lost');
is(stop_spoold($s), 0, 'spoold stops');
stop_receiver($rcv);

# 7. Reload: a source added starts; one removed stops; one unchanged
# reads on, untouched.
my $rs = source_spool();
my $more = "$rs->{dir}/more";
mkdir($more) or die;
$w = start_writer($rs->{logs}, n => 100, prefix => 'k');
is(wait_writer($w, 30), 0, 'records for kumo');
start_spoold($rs);
$st = wait_source($rs, sub { ($_[0]{records} // 0) == 100 }, 20);
is($st->{records}, 100, 'kumo reads');
my $kconf = slurp($rs->{conf});
spew($rs->{conf}, $kconf . "[source.more]\ndirectory = \"$more\"\n");
$w = start_writer($more, n => 50, prefix => 'm');
is(wait_writer($w, 30), 0, 'records for a new source');
($rc) = spoolctl($rs, undef, 'reload');
is($rc, 0, 'reload with a source added');
$st = wait_source($rs, sub { ($_[0]{records} // 0) == 50 }, 20, 'more');
is($st->{records}, 50, 'the new source reads');
is(source_of($rs)->{records}, 100, 'kumo is as it was');
(my $only = $kconf) =~ s/\[source\.kumo\]\ndirectory = "[^"]*"\n//;
spew($rs->{conf}, $only . "[source.more]\ndirectory = \"$more\"\n");
($rc) = spoolctl($rs, undef, 'reload');
is($rc, 0, 'reload with kumo removed');
(undef, $out) = spoolctl($rs, undef, '--json', 'status');
is_deeply([sort keys %{(json_decode($out) // {})->{sources} // {}}], ['more'],
    'only the remaining source is shown');
is(stop_spoold($rs), 0, 'spoold stops');

# 8. spoold -n shows sources.
($rc, $out) = run_cmd(undef, bin('spoold'), '-n', '-f', $s->{conf});
like($out, qr/^\[source\.kumo\]\ndirectory = "\Q$s->{logs}\E"\npattern = "\*"\nstart = "oldest"\npoll_watcher = \(none: inotify\)$/m,
    'spoold -n prints a source with its settings');
for my $case (
    [ "[source.x]\npattern = \"*\"\n", qr/:\d+:\d+: source x: directory is required$/ ],
    [ "[source.x]\ndirectory = \"logs\"\n", qr/:\d+:\d+: source x: directory: must be an absolute path$/ ],
    [ "[source.x]\ndirectory = \"/l\"\nstart = \"middle\"\n", qr/:\d+:\d+: start: "middle": takes "oldest" or "newest"$/ ],
    [ "[source.x]\ndirectory = \"/l\"\npattern = \"a/b\"\n", qr/:\d+:\d+: source x: pattern: matches names in the directory, without "\/"$/ ],
    [ "[source.x]\ndirectory = \"/l\"\ntail = true\n", qr/:\d+:\d+: unknown key "tail"/ ],
    [ "[source.\"a b\"]\ndirectory = \"/l\"\n", qr/source "a b": names take/ ],
    ) {
	my $c = new_spool(hooks => $HELD_HOOK);
	spew($c->{conf}, slurp($c->{conf}) . $case->[0]);
	my ($code, undef, $e) = run_cmd(undef, bin('spoold'), '-n', '-f', $c->{conf});
	is($code, 1, "spoold -n refuses: " . ($case->[0] =~ s/\n/ /gr));
	like($e // '', $case->[1], 'saying why, at the place');
}

done_testing();
