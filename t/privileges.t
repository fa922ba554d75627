#!/usr/bin/perl
# user: spoold binds as root, then runs as the named user, and the spool
# it makes belongs to that user. Needs root and the user "nobody".
use strict;
use warnings;
use lib 't/lib';
use SpooldTest;
use Test::More;

plan skip_all => 'needs root' if $> != 0;
my @pw = getpwnam('nobody');
plan skip_all => 'no user nobody' unless @pw;
my ($uid, $gid) = @pw[2, 3];

my $s = new_spool(conf => 'user = "nobody"');
# The unprivileged user must reach the spool below the test's directory.
chmod(0755, $s->{dir});
start_spoold($s);
my $status = slurp("/proc/$s->{pid}/status") // '';
my ($ruid, $euid) = $status =~ /^Uid:\s+(\d+)\s+(\d+)/m;
is($euid, $uid, 'spoold runs as nobody');
is($ruid, $uid, 'with no way back to root');
# The launcher that forks the workers is started after the drop (and
# takes its title a moment after spoold is ready).
my $launcher;
wait_until(sub {
	($launcher) = grep {
		(slurp("/proc/$_/cmdline") // '') eq "spoold: launcher\0" &&
		    (slurp("/proc/$_/stat") // '') =~ /^\d+ \(.*\) \S $s->{pid} /s
	} map { m{/proc/(\d+)/} } glob '/proc/[0-9]*/stat';
	return defined $launcher;
}, 10);
my ($luid) = (slurp("/proc/" . ($launcher // 0) . "/status") // '') =~
    /^Uid:\s+(\d+)\s+(\d+)/m;
is($luid, $uid, 'so does its launcher, which forks the workers');
my $r = post($s, '/log', 'application/json', kumo_record(1));
is($r->{status}, 200, 'ingest works after dropping privileges');
is((stat($s->{spool}))[4], $uid, 'the spool directory belongs to nobody');
is((stat("$s->{spool}/data.mdb"))[4], $uid, 'and so does its data file');
is((stat("$s->{dir}/control.sock"))[4], $uid, 'the control socket too');
my ($st, $out) = spoolctl($s, undef, '--json', 'status');
is($st, 0, 'spoolctl reaches it as root');
is(stop_spoold($s), 0, 'it stops cleanly');
is(scalar @{spooldump($s)->{records}}, 1, 'the record is in the spool');
done_testing();
