# No include cycles between the C files of spoold/, workers/ and common/.
# A.c depends on B.c when A.c, or a header it includes (at any depth),
# includes B.h; a cycle is a file that depends on itself through others.
use strict;
use warnings;
use FindBin;
use File::Basename qw(basename);
use Test::More;

my $top = "$FindBin::Bin/..";
my @dirs = qw(spoold workers common);
my (%path, %src);
for my $d (@dirs) {
	for my $f (glob("$top/$d/*.[ch]")) {
		my $b = basename($f);
		$path{$b} = $f;
		$src{$b} = 1 if $b =~ /\.c$/;
	}
}

# The project's headers a file includes, directly.
my %inc;
sub includes {
	my ($f) = @_;
	return @{$inc{$f}} if $inc{$f};
	open(my $fh, '<', $path{$f}) or die "$path{$f}: $!";
	my @h;
	while (<$fh>) {
		push @h, $1 if /^\s*#\s*include\s+"([^"]+)"/ && $path{$1};
	}
	close $fh;
	$inc{$f} = \@h;
	return @h;
}

# Every header reached from f.
sub closure {
	my ($f) = @_;
	my (%seen, @todo);
	@todo = includes($f);
	while (my $h = shift @todo) {
		next if $seen{$h}++;
		push @todo, includes($h);
	}
	return keys %seen;
}

my %dep;
for my $c (sort keys %src) {
	(my $me = $c) =~ s/\.c$//;
	for my $h (closure($c)) {
		(my $b = $h) =~ s/\.h$//;
		$dep{$c}{"$b.c"} = 1 if $b ne $me && $src{"$b.c"};
	}
}

# Strongly connected components (Tarjan): each of more than one file,
# or a file on a loop of its own, is a cycle.
my ($index, @stack, %on, %idx, %low, @cycles) = (0);
sub visit {
	my ($v) = @_;
	$idx{$v} = $low{$v} = $index++;
	push @stack, $v;
	$on{$v} = 1;
	for my $w (sort keys %{$dep{$v} // {}}) {
		if (!defined $idx{$w}) {
			visit($w);
			$low{$v} = $low{$w} if $low{$w} < $low{$v};
		} elsif ($on{$w}) {
			$low{$v} = $idx{$w} if $idx{$w} < $low{$v};
		}
	}
	return unless $low{$v} == $idx{$v};
	my @scc;
	while (1) {
		my $w = pop @stack;
		$on{$w} = 0;
		push @scc, $w;
		last if $w eq $v;
	}
	push @cycles, [sort @scc] if @scc > 1;
}
visit($_) for grep { !defined $idx{$_} } sort keys %src;

ok(scalar(keys %src) > 20, scalar(keys %src) . ' C files read');
is(scalar @cycles, 0, 'no include cycles') or
    diag(join("\n", map { 'cycle: ' . join(' ', @$_) } @cycles));
done_testing();
