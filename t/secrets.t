#!/usr/bin/perl
# Secrets in the configuration: a file others may read is named, with its
# mode, by spoold -n, at start and on reload; spoold still runs. The
# sockets are made with their own modes.
use strict;
use warnings;
use lib 't/lib';
use SpooldTest;
use Test::More;

sub check_n {
	my ($s) = @_;
	return run_cmd(undef, bin('spoold'), '-n', '-f', $s->{conf});
}

sub warnings_in_log {
	my ($s, $re) = @_;
	my @w = (slurp("$s->{dir}/spoold.log") // '') =~ /$re/g;
	return scalar @w;
}

my $s = new_spool(conf => 'ingest_token = "tok"');
my $conf = $s->{conf};

chmod(0644, $conf);
my ($st, $out, $err) = check_n($s);
is($st, 0, '-n: a readable file is still valid');
like($out, qr/^configuration OK$/m, '-n: configuration OK');
like($err, qr/^spoold: \Q$conf\E: mode 0644 lets other users read ingest_token; chmod 06[04]0/m,
    '-n: names the file, its mode and the secret on stderr');

chmod(0600, $conf);
($st, $out, $err) = check_n($s);
is($err, '', '-n: mode 0600: no warning');

# A hook's secrets count as much; several are counted.
spew($conf, slurp($conf) =~ s/^ingest_token.*\n//mr . <<'EOT');
signing_secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
EOT
chmod(0604, $conf);
($st, $out, $err) = check_n($s);
like($err, qr/mode 0604 lets other users read the signing_secret of hook h;/,
    '-n: a signing_secret');
spew($conf, slurp($conf) . "headers = { Authorization = \"Bearer x\" }\n");
($st, $out, $err) = check_n($s);
like($err, qr/read the signing_secret of hook h and 1 other secret;/,
    '-n: and an Authorization header');
spew($conf, slurp($conf) =~ s/^signing_secret.*\n//mr);
($st, $out, $err) = check_n($s);
like($err, qr/read header Authorization of hook h;/, '-n: that header alone');
spew($conf, slurp($conf) =~ s/^headers.*\n/headers = { X-Tenant = "t1" }\n/mr);
($st, $out, $err) = check_n($s);
is($err, '', '-n: other headers are no secret');

SKIP: {
	skip 'needs root', 2 if $> != 0;
	my $gid = getgrnam('nogroup') // getgrnam('nobody');
	skip 'no group nogroup', 2 unless defined $gid && $gid != 0;
	spew($conf, slurp($conf) . "[hook.g]\nurl = \"http://127.0.0.1:9/g\"\n" .
	    "signing_secret = \"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"\n");
	chown(0, $gid, $conf);
	chmod(0640, $conf);
	my $g = getgrgid($gid);
	($st, $out, $err) = check_n($s);
	like($err, qr/^spoold: \Q$conf\E: mode 0640 lets group \Q$g\E read the signing_secret of hook g;/m,
	    '-n: a group other than spoold\'s own');
	chown(0, 0, $conf);
	($st, $out, $err) = check_n($s);
	is($err, '', '-n: root\'s group may read it');
}

# At start and on every reload, in the log.
$s = new_spool(conf => 'ingest_token = "tok"');
spew($s->{conf}, slurp($s->{conf}) =~ s/^listen = .*$/listen = ["127.0.0.1:$s->{port}", "unix:$s->{dir}\/in.sock"]/mr);
chmod(0644, $s->{conf});
my $re = qr/\Q$s->{conf}\E: mode 0644 lets other users read ingest_token/;
start_spoold($s);
is(warnings_in_log($s, $re), 1, 'start: the warning is logged');
is((stat("$s->{dir}/control.sock"))[2] & 07777, 0600,
    'the control socket has mode 0600');
is((stat("$s->{dir}/in.sock"))[2] & 07777, 0660,
    'a unix ingest socket has mode 0660');
my $reloads = warnings_in_log($s, qr/configuration reloaded/);
kill('HUP', $s->{pid});
ok(wait_until(sub { warnings_in_log($s, qr/configuration reloaded/) >
    $reloads }, 10), 'reload');
is(warnings_in_log($s, $re), 2, 'reload: warned again');
chmod(0600, $s->{conf});
($st, $out, $err) = spoolctl($s, undef, 'reload');
is($st, 0, 'reload after chmod 0600');
is(warnings_in_log($s, $re), 2, 'reload: no warning any more');
is(warnings_in_log($s, qr/lets|cannot read/), 2, 'nor any other');
is(stop_spoold($s), 0, 'spoold stops');

done_testing();
