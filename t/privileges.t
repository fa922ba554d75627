#!/usr/bin/perl
# user: spoold binds as root, then runs as the named user, and the spool
# it makes belongs to that user; it reloads a file its user's group may
# read, and says why when it cannot. Needs root and the user "nobody".
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

# Reloading as nobody: the file is root's, readable by nobody's group, as
# make install leaves it; the token is no warning then.
sub hook { "[hook.$_[0]]\nurl = \"http://127.0.0.1:9/$_[0]\"\n" }
$s = new_spool(conf => "user = \"nobody\"\ningest_token = \"tok\"",
    hooks => hook('h1'));
chmod(0755, $s->{dir});
chown(0, $gid, $s->{conf});
chmod(0640, $s->{conf});
my $base = slurp($s->{conf});
start_spoold($s);
my $log = sub { slurp("$s->{dir}/spoold.log") // '' };
unlike($log->(), qr/lets|cannot read/, 'root:nogroup 0640: no warning');
my $hooks_now = sub {
	my ($st, $out) = spoolctl($s, undef, '--json', 'status');
	return join(' ', sort keys %{(json_decode($out // '') // {})->{hooks}});
};
is($hooks_now->(), 'h1', 'one hook');
spew($s->{conf}, $base . hook('h2'));
kill('HUP', $s->{pid});
ok(wait_until(sub { $hooks_now->() eq 'h1 h2' }, 10),
    'SIGHUP: spoold, as nobody, reloads the file');
spew($s->{conf}, $base . hook('h2') . hook('h3'));
($st, $out, my $err) = spoolctl($s, undef, 'reload');
is($st, 0, 'spoolctl reload: exit 0');
is($out, "configuration reloaded\n", 'spoolctl reload: says it was');
is($hooks_now->(), 'h1 h2 h3', 'the new hook is there as it returns');

# 0600: root alone can read it, and the reload is refused with the reason.
chown(0, 0, $s->{conf});
chmod(0600, $s->{conf});
spew($s->{conf}, $base . hook('h2') . hook('h3') . hook('h4'));
($st, $out, $err) = spoolctl($s, undef, 'reload');
is($st, 1, 'root-only file: spoolctl reload exits 1');
like($err, qr/^spoolctl: reload refused: \Q$s->{conf}\E: Permission denied \(spoold runs as nobody: make the file root:\S+, mode 0640\)$/,
    'and says why');
is($out, '', 'and prints nothing else');
is($hooks_now->(), 'h1 h2 h3', 'the running configuration is kept');
is(stop_spoold($s), 0, 'it stops cleanly');

# Started so, spoold warns at once that it will not reload.
start_spoold($s);
like($log->(), qr/\Q$s->{conf}\E: mode 0600: user nobody cannot read it to reload it; chown root:\S+ and chmod 0640/,
    'a file spoold\'s user cannot read: warned at start');
is(stop_spoold($s), 0, 'it stops cleanly');

# spoold keeps its user's groups: a source reads the MTA's logs through
# a group the MTA's directory is shared with, mode 0750. The group is
# made for the test and removed whatever happens.
SKIP: {
	my ($st_ga) = run_cmd(undef, 'sh', '-c', 'command -v groupadd && command -v gpasswd');
	skip('groupadd or gpasswd missing', 3) if $st_ga != 0;
	my $grp = "spoold-t-$$";
	skip("cannot add group $grp", 3) if system('groupadd', $grp) != 0;
	my $made = $grp;
	END { system('groupdel', $made) if defined $made && $> == 0 }
	system("gpasswd -a nobody $grp >/dev/null") == 0 or
	    skip("cannot add nobody to $grp", 3);
	my $gg = getgrnam($grp);
	$s = new_spool(conf => 'user = "nobody"');
	chmod(0755, $s->{dir});
	my $logs = "$s->{dir}/kumologs";
	mkdir($logs) or die;
	spew("$logs/20260101-000000.000000", kumo_record(1) . "\n");
	chmod(0440, "$logs/20260101-000000.000000");
	chown(0, $gg, $logs, "$logs/20260101-000000.000000");
	chmod(0750, $logs);
	spew($s->{conf}, slurp($s->{conf}) .
	    "[source.kumo]\ndirectory = \"$logs\"\n");
	start_spoold($s);
	my $groups = (slurp("/proc/$s->{pid}/status") // '') =~ /^Groups:\s*(.*)$/m ? $1 : '';
	like(" $groups ", qr/ $gg /, "spoold, as nobody, keeps nobody's group $grp");
	my $src;
	wait_until(sub {
		my (undef, $o) = spoolctl($s, undef, '--json', 'status');
		$src = (json_decode($o // '') // {})->{sources}{kumo} // {};
		return ($src->{records} // 0) == 1;
	}, 10);
	is($src->{records}, 1, 'and its source reads a directory of mode 0750 through it');
	is(stop_spoold($s), 0, 'it stops cleanly');
}
done_testing();
