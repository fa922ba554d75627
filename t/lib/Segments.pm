# Helpers for the tests of segment sources: KumoMTA's local log segments
# written by build/t/segwriter, read back, damaged on purpose. Every wait
# is bounded in time.
package Segments;

use strict;
use warnings;
use Exporter 'import';
use Fcntl qw(:mode);
use File::Temp qw(tempdir);
use JSON::PP;
use POSIX qw(:sys_wait_h);
use Time::HiRes qw(sleep time);

our @EXPORT = qw(start_writer stop_writer wait_writer wait_writer_closed
    writer_lines writer_closed segments segment_lines read_lines
    read_records corrupt_segment truncate_segment mark_done is_done);

# A writer left behind would fill the disk for the rest of the run.
my %started;
my $owner = $$;
END {
	kill('KILL', keys %started) if $$ == $owner && %started;
}

my $SEGMENT_RE = qr/\A\d{8}-\d{6}\.\d{6}/;
my $ZSTD_MAGIC = "\x28\xb5\x2f\xfd";

sub build_dir { $ENV{SPOOLD_BUILD} // 'build' }

sub poll {
	my ($cond, $secs) = @_;
	my $deadline = time + $secs;
	while (time < $deadline) {
		return 1 if $cond->();
		sleep(0.01);
	}
	return $cond->() ? 1 : 0;
}

# segwriter's options by name, as its header describes them.
my %flag = (n => '-n', first => '-b', prefix => '-p', size => '-s',
    ms => '-t', flush => '-f', rate => '-r', level => '-l', suffix => '-x',
    types => '-T');
my %switch = (plain => '-P', keep_open => '-k', leave => '-L');

# Starts build/t/segwriter -d $dir with %o: n, first, prefix, size, ms,
# flush, rate, level, suffix, types (a list or "A,B"), and the switches
# plain, keep_open, leave. Its standard output goes to a file that
# writer_lines reads. Returns { pid, dir, out, err }.
sub start_writer {
	my ($dir, %o) = @_;
	my @args = ('-d', $dir);
	for my $k (sort keys %o) {
		if ($flag{$k}) {
			my $v = ref $o{$k} ? join(',', @{$o{$k}}) : $o{$k};
			push @args, $flag{$k}, $v;
		} elsif ($switch{$k}) {
			push @args, $switch{$k} if $o{$k};
		} else {
			die "start_writer: unknown option $k";
		}
	}
	my $tmp = tempdir('spoold-w-XXXXXX', TMPDIR => 1, CLEANUP => 1);
	my $w = { dir => $dir, out => "$tmp/out", err => "$tmp/err",
	    args => \@args };
	my $pid = fork() // die "fork: $!";
	if ($pid == 0) {
		open(STDIN, '<', '/dev/null');
		open(STDOUT, '>', $w->{out});
		open(STDERR, '>', $w->{err});
		exec(build_dir() . '/t/segwriter', @args) or POSIX::_exit(127);
	}
	$started{$pid} = 1;
	$w->{pid} = $pid;
	return $w;
}

sub reaped {
	my ($w, $st) = @_;
	delete $started{$w->{pid}};
	delete $w->{pid};
	$w->{status} = $st;
	return $st;
}

# Waits (at most $secs, default 60) for the writer to end by itself;
# returns its wait status, or undef while it still runs.
sub wait_writer {
	my ($w, $secs) = @_;
	return $w->{status} unless $w->{pid};
	my $st;
	poll(sub {
		my $r = waitpid($w->{pid}, WNOHANG);
		$st = $? if $r == $w->{pid};
		return $r != 0;
	}, $secs // 60) or return undef;
	return reaped($w, $st // -1);
}

# Sends $sig (default TERM), waits at most $secs (default 10), then
# kills. Returns the wait status, or -1 when it had to be killed.
sub stop_writer {
	my ($w, $sig, $secs) = @_;
	return $w->{status} unless $w->{pid};
	kill($sig // 'TERM', $w->{pid});
	my $st = wait_writer($w, $secs // 10);
	return $st if defined $st;
	kill('KILL', $w->{pid});
	waitpid($w->{pid}, 0);
	return reaped($w, -1);
}

# What the writer printed so far: its complete lines.
sub writer_lines {
	my ($w) = @_;
	open(my $fh, '<', $w->{out}) or return ();
	local $/;
	my $s = <$fh> // '';
	close($fh);
	$s =~ s/[^\n]*\z//;
	return split /\n/, $s;
}

# The segments the writer closed: [name, records, bytes] each, in order.
sub writer_closed {
	my ($w) = @_;
	return map { /^closed (\S+) (\d+) (\d+)$/ ? [$1, $2, $3] : () }
	    writer_lines($w);
}

# Waits until the writer closed at least $n segments (at most $secs,
# default 30); returns how many it closed.
sub wait_writer_closed {
	my ($w, $n, $secs) = @_;
	my $closed = 0;
	poll(sub { ($closed = () = writer_closed($w)) >= $n }, $secs // 30);
	return $closed;
}

# The names of the segments in $dir (regular files named by their start
# time), sorted: the order they were written in.
sub segments {
	my ($dir) = @_;
	opendir(my $dh, $dir) or return ();
	my @names = sort grep { /$SEGMENT_RE/ && -f "$dir/$_" } readdir($dh);
	closedir($dh);
	return @names;
}

sub slurp_raw {
	my ($path) = @_;
	open(my $fh, '<:raw', $path) or die "$path: $!";
	local $/;
	my $s = <$fh> // '';
	close($fh);
	return $s;
}

sub zstd_head {
	my ($path) = @_;
	open(my $in, '<:raw', $path) or die "$path: $!";
	my $head = '';
	read($in, $head, 4);
	close($in);
	return length $head && substr($ZSTD_MAGIC, 0, length $head) eq $head;
}

# The output of @cmd, its standard error dropped, and its exit status.
sub output_of {
	my (@cmd) = @_;
	my $pid = open(my $fh, '-|') // die "fork: $!";
	if ($pid == 0) {
		open(STDERR, '>', '/dev/null');
		exec(@cmd) or POSIX::_exit(127);
	}
	binmode($fh);
	local $/;
	my $s = <$fh> // '';
	close($fh);
	return ($s, $? >> 8);
}

# The complete lines of the segments @paths, in turn, as far as they can
# be decoded (a cut last line left out), and whether every one was whole.
# build/t/segcat reads them all at once when it is built (it starts
# slowly: the tools link every library spoold does); else `zstd -dc`
# decodes each, but keeps back some of what it decoded of a frame that
# was cut.
sub decode_lines {
	my (@paths) = @_;
	my $segcat = build_dir() . '/t/segcat';
	my ($text, $whole) = ('', 1);
	if (-x $segcat) {
		while (my @some = splice(@paths, 0, 500)) {
			my ($s, $st) = output_of($segcat, @some);
			$text .= $s;
			$whole = 0 if $st != 0;
		}
		return ([split /\n/, $text], $whole);
	}
	my @lines;
	for my $path (@paths) {
		my ($s, $st) = zstd_head($path) ?
		    output_of('zstd', '-dcq', $path) : (slurp_raw($path), 0);
		$whole = 0 if $st != 0 || $s =~ s/[^\n]+\z//;
		push @lines, split /\n/, $s;
	}
	return (\@lines, $whole);
}

# The complete lines of one segment (a cut last line left out), and
# whether the segment was whole: (\@lines, $complete).
sub segment_lines { decode_lines($_[0]) }

# The complete lines of every segment of $dir, in order.
sub read_lines {
	my ($dir) = @_;
	return @{(decode_lines(map { "$dir/$_" } segments($dir)))[0]};
}

# The "id" of every complete record of every segment of $dir, in order;
# a line that is not a JSON object counts as undef. KumoMTA's records
# (and segwriter's) start with type and id: those are not decoded whole.
sub read_records {
	my ($dir) = @_;
	my $json = JSON::PP->new->utf8;
	return map {
		/\A\{"type":"[A-Za-z]*","id":"([^"\\]*)"/ ? $1 : do {
			my $r = eval { $json->decode($_) };
			ref $r eq 'HASH' ? $r->{id} : undef;
		};
	} read_lines($dir);
}

# Rewrites $file through $edit (which changes the bytes in $_[0]): a
# copy under a dot name (which readers skip, as KumoMTA does), then a
# rename over the file, so that no reader sees it half written; the
# mode stays as it was.
sub rewrite_segment {
	my ($file, $edit) = @_;
	my $mode = (stat($file))[2] // die "$file: $!";
	my $bytes = slurp_raw($file);
	$edit->($bytes);
	(my $tmp = $file) =~ s{([^/]+)\z}{.$1.tmp};
	open(my $fh, '>:raw', $tmp) or die "$tmp: $!";
	print $fh $bytes;
	close($fh) or die "$tmp: $!";
	chmod(S_IMODE($mode), $tmp) or die "$tmp: $!";
	rename($tmp, $file) or die "$file: $!";
}

# Overwrites $len bytes of $file from $offset (a negative one counts from
# the end) with their complement, so that every byte changes.
sub corrupt_segment {
	my ($file, $offset, $len) = @_;
	rewrite_segment($file, sub {
		my $off = $offset < 0 ? length($_[0]) + $offset : $offset;
		die "corrupt_segment: $file is shorter than $off + $len"
		    if $off < 0 || $off + $len > length $_[0];
		substr($_[0], $off, $len) = substr($_[0], $off, $len) ^
		    ("\xff" x $len);
	});
}

# Cuts $file to its first $len bytes (a negative $len: drops that many).
sub truncate_segment {
	my ($file, $len) = @_;
	rewrite_segment($file, sub {
		my $keep = $len < 0 ? length($_[0]) + $len : $len;
		$keep = 0 if $keep < 0;
		substr($_[0], $keep) = '' if $keep < length $_[0];
	});
}

# Marks a segment complete as KumoMTA does: no write bits.
sub mark_done {
	my ($file) = @_;
	my $mode = (stat($file))[2] // die "$file: $!";
	chmod(S_IMODE($mode) & ~0222, $file) or die "$file: $!";
}

# Whether a segment is marked complete.
sub is_done {
	my ($file) = @_;
	my $mode = (stat($file))[2] // die "$file: $!";
	return ($mode & 0222) == 0;
}

1;
