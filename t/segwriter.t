#!/usr/bin/perl
# The segment writer the source tests rely on (build/t/segwriter): its
# segments are what KumoMTA writes (one zstd frame of JSON lines, named
# by the UTC start time, read-only once closed), rotated by size and by
# time, readable while open as far as flushed, left open by -k, plain
# with -P, records taken from a file with -i, closed cleanly on SIGTERM
# and SIGINT; and the segment reader build/t/segcat, which states what
# it found.
use strict;
use warnings;
use File::Temp qw(tempdir);
use JSON::PP;
use lib 't/lib';
use Segments;
use SpooldTest qw(run_cmd slurp);
use Test::More;

my $build = $ENV{SPOOLD_BUILD} // 'build';
my $writer = "$build/t/segwriter";
my $segcat = "$build/t/segcat";
plan skip_all => "$writer is not built" unless -x $writer && -x $segcat;
plan skip_all => 'the zstd command is not installed'
    unless system('zstd -V >/dev/null 2>&1') == 0;

umask(022);
my $NAME = qr/\A\d{8}-\d{6}\.\d{6}\z/;
my $json = JSON::PP->new->utf8;

sub fresh_dir { tempdir('spoold-seg-XXXXXX', TMPDIR => 1, CLEANUP => 1) }

# Runs the writer to its end; returns (status, stdout lines, stderr).
sub run_writer {
	my ($dir, @args) = @_;
	my ($st, $out, $err) = run_cmd(undef, $writer, '-d', $dir, @args);
	return ($st, [split /\n/, $out // ''], $err // '');
}

sub ids { my ($p, $from, $to) = @_; [map { "$p$_" } $from .. $to] }

# `zstd -dc` of a closed segment, as another reader sees it.
sub zstd_lines {
	my ($path) = @_;
	my ($st, $out) = run_cmd(undef, 'zstd', '-dcq', $path);
	return ($st, [split /\n/, $out // '']);
}

sub mode_of { (stat($_[0]))[2] & 07777 }

# Usage errors.
{
	my ($st, $out, $err) = run_cmd(undef, $writer);
	is($st, 2, 'no -d: exit 2');
	like($err, qr/^usage: segwriter -d dir /, 'no -d: the usage');
	($st, $out, $err) = run_cmd(undef, $writer, '-d', fresh_dir(),
	    '-f', 'x');
	is($st, 2, 'a bad number: exit 2');
	like($err, qr/-f x: wants a number/, 'a bad number: said so');
	($st, $out, $err) = run_cmd(undef, $writer, '-d', fresh_dir(),
	    '-p', 'a"b');
	is($st, 2, 'a quote in the prefix: exit 2');
	($st, $out, $err) = run_cmd(undef, $segcat);
	is($st, 2, 'segcat without files: exit 2');
}

# Rotation by size: every segment but the last holds at least -s
# uncompressed bytes, and no record more than it needed.
{
	my $dir = fresh_dir();
	my ($st, $lines) = run_writer($dir, '-n', 1000, '-s', 100000);
	is($st, 0, 'size rotation: exit 0');
	my @closed = map { [split / /] } grep { /^closed / } @$lines;
	my @segs = segments($dir);
	cmp_ok(scalar @segs, '>=', 5, 'size rotation: several segments');
	is($lines->[-1], "wrote 1000 records in " . @segs . " segments",
	    'size rotation: the summary line');
	is_deeply([map { $_->[1] } @closed], \@segs,
	    'names sort in the order the segments were closed');
	is(scalar(grep { $_ =~ $NAME } @segs), scalar @segs,
	    'names are YYYYmmdd-HHMMSS.ffffff');
	is(scalar(grep { mode_of("$dir/$_") & 0222 } @segs), 0,
	    'closed segments have no write bit');
	is(scalar(grep { mode_of("$dir/$_") & 0444 } @segs), scalar @segs,
	    'and may be read');
	my (@all, @bad);
	for my $i (0 .. $#segs) {
		my $path = "$dir/$segs[$i]";
		my ($zst, $recs) = zstd_lines($path);
		push @bad, "$segs[$i]: zstd exit $zst" if $zst != 0;
		push @bad, "$segs[$i]: $closed[$i][2] records said, " .
		    scalar(@$recs) . " read" if $closed[$i][2] != @$recs;
		push @bad, "$segs[$i]: size" if $closed[$i][3] != -s $path;
		my $raw = 0;
		$raw += length($_) + 1 for @$recs;
		push @bad, "$segs[$i]: $raw bytes" if $i < $#segs &&
		    ($raw < 100000 || $raw - length($recs->[-1]) - 1 >= 100000);
		push @all, @$recs;
	}
	is_deeply(\@bad, [], 'zstd -dc decodes each segment to the records ' .
	    'and sizes the writer said');
	my @recs = map { $json->decode($_) } @all;
	is_deeply([map { $_->{id} } @recs], ids('r', 1, 1000),
	    'ids r1..r1000, unique and in order across segments');
	is_deeply([sort keys %{$recs[0]}], [sort qw(type id sender recipient
	    queue site size response peer_address timestamp created
	    num_attempts bounce_classification egress_pool egress_source
	    source_address feedback_report meta headers delivery_protocol
	    reception_protocol nodeid)], 'records have KumoMTA\'s members');
	is($recs[4]{type}, 'Delivery', 'the type is Delivery by default');
	is($recs[4]{recipient}, 'user5@example.net', 'recipient by number');
	is_deeply([read_records($dir)], ids('r', 1, 1000),
	    'read_records reads the same');
}

# -b, -p, -T, -x, -l.
{
	my $dir = fresh_dir();
	my ($st, $lines) = run_writer($dir, '-n', 6, '-b', 10, '-p', 'x-',
	    '-T', 'Reception,Delivery,Bounce', '-x', '.log', '-l', 19);
	is($st, 0, 'options: exit 0');
	my @segs = segments($dir);
	is(scalar @segs, 1, 'options: one segment');
	like($segs[0], qr/\A\d{8}-\d{6}\.\d{6}\.log\z/, '-x: the suffix');
	my ($zst, $recs) = zstd_lines("$dir/$segs[0]");
	my @r = map { $json->decode($_) } @$recs;
	is_deeply([map { $_->{id} } @r], ids('x-', 10, 15), '-b and -p');
	is_deeply([map { $_->{type} } @r], [qw(Reception Delivery Bounce
	    Reception Delivery Bounce)], '-T: types in turn');
}

# -i: the file's lines in turn, as they are, from the first again after
# the last; empty lines left out, a last line without a newline whole.
{
	my $dir = fresh_dir();
	my $in = "$dir/.records";
	my @recs = ('{"type":"Bounce","id":"a","note":"caf\u00e9"}',
	    '{"type":"Delivery", "id":"b"}', '{"id":"c"}');
	open(my $fh, '>', $in) or die "$in: $!";
	print $fh "$recs[0]\n\n$recs[1]\n$recs[2]";
	close($fh) or die "$in: $!";
	my ($st, $lines) = run_writer($dir, '-i', $in, '-n', 7, '-s', 100);
	is($st, 0, '-i: exit 0');
	is_deeply([read_lines($dir)], [@recs, @recs, $recs[0]],
	    '-i: the lines in turn, the first again after the last');
	cmp_ok(scalar segments($dir), '>', 1, '-i: rotated by size');
	my $err;
	($st, $lines, $err) = run_writer(fresh_dir(), '-i', "$dir/missing");
	is($st, 1, '-i of a missing file: exit 1');
	like($err, qr{\Q$dir/missing\E: No such file}, '-i: names the file');
	open($fh, '>', $in) or die "$in: $!";
	print $fh "\n\n";
	close($fh) or die "$in: $!";
	($st, $lines, $err) = run_writer(fresh_dir(), '-i', $in, '-n', 1);
	is($st, 1, '-i of empty lines: exit 1');
	like($err, qr{\Q$in\E: no records}, '-i of empty lines: said so');
}

# -s 1: a segment per record; names never repeat, even within a
# microsecond, and still sort in write order.
{
	my $dir = fresh_dir();
	my ($st, $lines) = run_writer($dir, '-n', 300, '-s', 1);
	my @segs = segments($dir);
	is(scalar @segs, 300, '-s 1: 300 segments of one record');
	is_deeply([map { (split / /)[1] } grep { /^closed / } @$lines],
	    \@segs, '-s 1: names distinct, in write order');
	is_deeply([read_records($dir)], ids('r', 1, 300), '-s 1: records');
}

# -k: the last segment stays open, writable, its frame not ended; what
# was flushed decodes. A new run marks it done, as KumoMTA does at start.
{
	my $dir = fresh_dir();
	my ($st, $lines) = run_writer($dir, '-n', 250, '-s', 100000, '-k');
	is($st, 0, '-k: exit 0');
	my @segs = segments($dir);
	my $open = $segs[-1];
	like($lines->[-2], qr/\Aopen \Q$open\E (\d+) \1 (\d+)\z/,
	    '-k: the open segment, all of its records flushed');
	my ($n_open) = $lines->[-2] =~ /^open \S+ (\d+)/;
	ok(mode_of("$dir/$open") & 0200, '-k: the open segment is writable');
	ok(!(mode_of("$dir/$segs[0]") & 0222), '-k: the others are not');
	my ($cst, $out, $err) = run_cmd(undef, $segcat, "$dir/$open");
	is($cst, 3, 'segcat: exit 3 for an open segment');
	is($err, "segcat: $dir/$open: incomplete: frame not ended\n",
	    'segcat: says the frame is not ended');
	is(scalar(split /\n/, $out), $n_open,
	    'segcat: every flushed record of the open segment');
	my ($zst) = zstd_lines("$dir/$open");
	isnt($zst, 0, 'zstd -dc fails on it too');
	is_deeply([read_records($dir)], ids('r', 1, 250),
	    '-k: read_records takes the open segment\'s records');

	($st, $lines) = run_writer($dir, '-n', 10, '-b', 251, '-L', '-k');
	ok(mode_of("$dir/$open") & 0200, '-L: the leftover stays writable');
	my @segs2 = segments($dir);
	($st, $lines) = run_writer($dir, '-n', 10, '-b', 261);
	is(scalar(grep { mode_of("$dir/$_") & 0222 } segments($dir)), 0,
	    'a new run marks the leftovers done');
	is_deeply([segments($dir)], [sort(segments($dir))],
	    'and its segment sorts last');
	is_deeply([read_records($dir)], ids('r', 1, 270),
	    'every record of the three runs, in order');
	($cst, $out) = run_cmd(undef, $segcat, '-s',
	    map { "$dir/$_" } @segs2[-2, -1]);
	like($out, qr/ \d+ incomplete\n.* 10 incomplete\n\z/,
	    'segcat -s: leftovers marked done are still incomplete frames');
}

# -f 0: an open segment grows by whole compressed blocks, which end
# anywhere in a line; -f 100 flushes every hundredth record.
{
	my $dir = fresh_dir();
	my ($st, $lines) = run_writer($dir, '-n', 3000, '-f', 0, '-k');
	my ($seg) = segments($dir);
	like($lines->[0], qr/\Aopen \Q$seg\E 3000 0 \d+\z/,
	    '-f 0: nothing said flushed');
	my ($lines_ref, $whole) = segment_lines("$dir/$seg");
	my $n = @$lines_ref;
	ok($n > 0 && $n < 3000, "-f 0: the blocks written decode ($n lines)");
	ok(!$whole, '-f 0: the segment is not whole');
	is_deeply([read_records($dir)], ids('r', 1, $n),
	    '-f 0: the records decoded are the first ones');

	$dir = fresh_dir();
	($st, $lines) = run_writer($dir, '-n', 250, '-f', 100, '-k');
	($seg) = segments($dir);
	like($lines->[0], qr/\Aopen \Q$seg\E 250 200 \d+\z/,
	    '-f 100: 200 records flushed');
	my @ids = read_records($dir);
	is_deeply([@ids[0 .. 199]], ids('r', 1, 200),
	    '-f 100: the flushed records decode');
}

# -P: plain JSON lines, no zstd magic; rotation and -k as with zstd.
{
	my $dir = fresh_dir();
	my ($st, $lines) = run_writer($dir, '-P', '-n', 500, '-s', 100000);
	is($st, 0, '-P: exit 0');
	my @segs = segments($dir);
	cmp_ok(scalar @segs, '>=', 3, '-P: rotation by size');
	my $text = slurp("$dir/$segs[0]");
	like($text, qr/\A\{"type":"Delivery","id":"r1",/, '-P: plain JSON');
	is(scalar(grep { mode_of("$dir/$_") & 0222 } @segs), 0,
	    '-P: closed segments are read-only');
	is_deeply([read_records($dir)], ids('r', 1, 500), '-P: records');

	$dir = fresh_dir();
	($st, $lines) = run_writer($dir, '-P', '-n', 400, '-f', 0, '-k');
	my ($seg) = segments($dir);
	my $size = -s "$dir/$seg";
	ok($size >= 2 * 128 * 1024 && $size % (128 * 1024) == 0,
	    "-P -f 0 -k: what the full buffers held, no more ($size)");
	my ($cst, $out) = run_cmd(undef, $segcat, '-s', "$dir/$seg");
	like($out, qr/\A\Q$dir\/$seg\E (\d+) incomplete\n\z/,
	    '-P -k: segcat finds a cut last line');
	my ($n) = $out =~ / (\d+) incomplete/;
	is_deeply([read_records($dir)], ids('r', 1, $n),
	    '-P -k: complete lines only');
}

# Rotation by time: a segment closes when its time is up, even while no
# record comes; the next record opens the next.
{
	my $dir = fresh_dir();
	my ($st, $lines) = run_writer($dir, '-n', 2, '-r', 2, '-t', 100);
	is_deeply([map { (split / /)[2] } grep { /^closed / } @$lines],
	    [1, 1], '-t 100 -r 2: each record its own segment');
	my $w = start_writer($dir, n => 0, rate => 20, ms => 150);
	cmp_ok(wait_writer_closed($w, 3, 30), '>=', 3,
	    '-t 150 -r 20: segments close as time passes');
	is(stop_writer($w), 0, 'SIGTERM: exit 0');
	my @segs = segments($dir);
	my @closed = writer_closed($w);
	is(scalar @segs, 2 + @closed, 'every segment was closed');
	is(scalar(grep { mode_of("$dir/$_") & 0222 } @segs), 0,
	    'all read-only');
	my @summary = grep { /^wrote / } writer_lines($w);
	my ($n) = ($summary[0] // '') =~ /^wrote (\d+) records/;
	ok($n, 'the summary line');
	my $sum = 0;
	$sum += $_->[1] for @closed;
	is($sum, $n, 'the closed segments hold every record');
	is_deeply([read_records($dir)], [@{ids('r', 1, 2)}, @{ids('r', 1, $n)}],
	    'and nothing else');
}

# An open segment is readable, as far as flushed, while it grows.
{
	my $dir = fresh_dir();
	my $w = start_writer($dir, n => 0, rate => 200);
	my $seen = 0;
	ok(Segments::poll(sub {
		my ($seg) = segments($dir) or return 0;
		$seen = () = read_records($dir);
		return $seen >= 20 && mode_of("$dir/$seg") & 0200;
	}, 30), 'records of the growing segment decode while it is open');
	is(stop_writer($w, 'INT'), 0, 'SIGINT: exit 0');
	my @segs = segments($dir);
	is(scalar @segs, 1, 'one segment');
	ok(!(mode_of("$dir/$segs[0]") & 0222), 'closed at SIGINT');
	my ($cst) = run_cmd(undef, $segcat, '-s', "$dir/$segs[0]");
	is($cst, 0, 'segcat: complete');
	my ($n) = (grep { /^wrote / } writer_lines($w))[0] =~ /(\d+)/;
	cmp_ok($n, '>=', $seen, 'SIGINT: every record kept');
	is_deeply([read_records($dir)], ids('r', 1, $n), 'in order');
}

# SIGTERM as fast as it can write: the record under way is finished.
{
	my $dir = fresh_dir();
	my $w = start_writer($dir, n => 0, size => 200000, flush => 10);
	cmp_ok(wait_writer_closed($w, 2, 30), '>=', 2,
	    'fast: segments closed');
	is(stop_writer($w), 0, 'SIGTERM: exit 0');
	my @lines = writer_lines($w);
	my ($n, $m) = $lines[-1] =~ /^wrote (\d+) records in (\d+) segments$/;
	is(scalar(segments($dir)), $m, 'SIGTERM: the segments said');
	is(scalar(grep { /^closed / } @lines), $m, 'every one closed');
	my ($cst) = run_cmd(undef, $segcat, map { "$dir/$_" } segments($dir));
	is($cst, 0, 'segcat: all complete');
	is_deeply([read_records($dir)], ids('r', 1, $n), 'SIGTERM: records');
}

# The state letter of process $pid from /proc, '' when gone.
sub proc_state {
	open(my $fh, '<', "/proc/$_[0]/stat") or return '';
	my $s = <$fh> // '';
	return $s =~ /\) (\S) / ? $1 : '';
}

# Kills the writer while a segment is open: stopped, it cannot rotate
# between the look and the kill; stopped between two segments, it goes
# on a moment and is looked at again.
sub kill_while_open {
	my ($w, $dir) = @_;
	Segments::poll(sub {
		kill('STOP', $w->{pid});
		Segments::poll(sub { proc_state($w->{pid}) eq 'T' }, 5);
		my @segs = segments($dir);
		return 1 if @segs && mode_of("$dir/$segs[-1]") & 0200;
		kill('CONT', $w->{pid});
		return 0;
	}, 30);
	stop_writer($w, 'KILL');
}

# SIGKILL cycles: each killed writer leaves its segment open, its
# flushed records readable; the next run marks it done and goes on.
{
	my $dir = fresh_dir();
	my $next = 1;
	my @bad;
	for my $cycle (1 .. 3) {
		my $w = start_writer($dir, n => 0, first => $next,
		    rate => 500, size => 20000);
		Segments::poll(sub { writer_closed($w) >= 1 }, 30);
		Segments::poll(sub { read_records($dir) >= $next + 5 }, 30);
		kill_while_open($w, $dir);
		my @segs = segments($dir);
		push @bad, "cycle $cycle: last segment not writable"
		    unless mode_of("$dir/$segs[-1]") & 0200;
		push @bad, "cycle $cycle: earlier segments writable" if grep {
		    mode_of("$dir/$_") & 0222 } @segs[0 .. $#segs - 1];
		my @ids = read_records($dir);
		push @bad, "cycle $cycle: records not r1..r" . @ids
		    unless "@ids" eq "@{ids('r', 1, scalar @ids)}";
		$next = @ids + 1;
	}
	is_deeply(\@bad, [], 'SIGKILL: open segments left, records a prefix');
	my ($st) = run_writer($dir, '-n', 1, '-b', $next);
	is(scalar(grep { mode_of("$dir/$_") & 0222 } segments($dir)), 0,
	    'the next run marks them all done');
	is_deeply([read_records($dir)], ids('r', 1, $next),
	    'SIGKILL: every flushed record once, in order');
}

# Damage: corrupt and truncate keep the mode and change what they say.
{
	my $dir = fresh_dir();
	run_writer($dir, '-n', 50);
	my ($seg) = segments($dir);
	my $path = "$dir/$seg";
	my $size = -s $path;
	truncate_segment($path, -5);
	is(-s $path, $size - 5, 'truncate_segment: 5 bytes fewer');
	ok(!(mode_of($path) & 0222), 'truncate_segment: still read-only');
	my ($cst, $out) = run_cmd(undef, $segcat, '-s', $path);
	like($out, qr/ (\d+) incomplete\n\z/, 'segcat: a cut frame');
	my ($lines, $whole) = segment_lines($path);
	ok(!$whole && @$lines < 50, 'segment_lines: not whole');

	corrupt_segment($path, 4, 1);
	ok(!(mode_of($path) & 0222), 'corrupt_segment: still read-only');
	($cst, $out) = run_cmd(undef, $segcat, '-s', $path);
	is($cst, 1, 'segcat: exit 1 for a corrupt frame');
	is($out, "$path 0 corrupt\n", 'segcat -s: says corrupt');
	is_deeply([grep { /^\./ } do { opendir(my $d, $dir); readdir($d) }],
	    ['.', '..'], 'no copy left behind');

	run_writer($dir, '-L', '-n', 3, '-b', 51, '-k');
	my ($open) = grep { mode_of("$dir/$_") & 0200 } segments($dir);
	mark_done("$dir/$open");
	ok(is_done("$dir/$open"), 'mark_done clears the write bits');
	is(mode_of("$dir/$open"), 0444, 'and only those');
}

done_testing();
