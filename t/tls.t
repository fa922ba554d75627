#!/usr/bin/perl
# HTTPS hooks against a throwaway CA: ca_file trusts the receiver, the
# system store alone does not (deferred, not lost), tls_verify = false
# skips the check, and a receiver asking for client certificates takes
# client_cert/client_key and refuses (403, dead letter) a hook without.
use strict;
use warnings;
use lib 't/lib';
use SpooldTest;
use File::Temp qw(tempdir);
use Test::More;

plan skip_all => 'the openssl command is not installed'
    unless grep { -x "$_/openssl" } split /:/, $ENV{PATH} // '';

my $pki = tempdir('spoold-pki-XXXXXX', TMPDIR => 1, CLEANUP => 1);

sub openssl {
	my ($st, $out, $err) = run_cmd(undef, 'openssl', @_);
	die "openssl @_: $err" if $st != 0;
}

# A certificate for NAME signed by the CA, with the extensions in ext.
sub issue {
	my ($name, $cn, $ext) = @_;
	spew("$pki/$name.ext", $ext);
	openssl('req', '-new', '-newkey', 'rsa:2048', '-nodes',
	    '-keyout', "$pki/$name.key", '-out', "$pki/$name.csr",
	    '-subj', "/CN=$cn");
	openssl('x509', '-req', '-in', "$pki/$name.csr", '-CA', "$pki/ca.pem",
	    '-CAkey', "$pki/ca.key", '-CAcreateserial', '-days', '2',
	    '-sha256', '-out', "$pki/$name.pem", '-extfile', "$pki/$name.ext");
}

openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2',
    '-sha256', '-keyout', "$pki/ca.key", '-out', "$pki/ca.pem",
    '-subj', '/CN=spoold test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
issue('server', '127.0.0.1', "subjectAltName=IP:127.0.0.1\n" .
    "basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n");
issue('client', 'spoold test client',
    "basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n");

my @srv = ('-C', "$pki/server.pem", '-K', "$pki/server.key");
my $web = start_receiver(@srv);
my $mtls = start_receiver(@srv, '-T', "$pki/ca.pem");
my ($wp, $mp) = ($web->{port}, $mtls->{port});

# X-Hook tells apart the hooks that share a receiver. retry_interval
# "1h" (within max_retry_interval) keeps a failed record deferred for
# the whole test.
my $s = new_spool(hooks => <<"EOT");
[hook.trusted]
url = "https://127.0.0.1:$wp/"
ca_file = "$pki/ca.pem"
headers = { X-Hook = "trusted" }

[hook.untrusted]
url = "https://127.0.0.1:$wp/"
tls_verify = true
retry_interval = "1h"
max_retry_interval = "2h"
headers = { X-Hook = "untrusted" }

[hook.noverify]
url = "https://127.0.0.1:$wp/"
tls_verify = false
headers = { X-Hook = "noverify" }

[hook.withcert]
url = "https://127.0.0.1:$mp/"
ca_file = "$pki/ca.pem"
client_cert = "$pki/client.pem"
client_key = "$pki/client.key"
retry_interval = "1h"
max_retry_interval = "2h"
headers = { X-Hook = "withcert" }

[hook.nocert]
url = "https://127.0.0.1:$mp/"
ca_file = "$pki/ca.pem"
retry_interval = "1h"
max_retry_interval = "2h"
headers = { X-Hook = "nocert" }
EOT
# -v: the log says why each batch failed.
start_spoold($s, '-v');

my $n = 3;
my @recs = map { kumo_record($_) } 1 .. $n;
my $r = post($s, '/log', 'application/x-ndjson', join("\n", @recs));
is($r->{status}, 200, "$n records ingested");
is($r->{json}{queued}, $n, "$n records queued");

# Requests of one hook answered with a status in [lo, hi].
sub answered {
	my ($rcv, $hook, $lo, $hi) = @_;
	return scalar grep { ($_->{headers}{'x-hook'} // '') eq $hook &&
	    $_->{status} >= $lo && $_->{status} <= $hi }
	    @{receiver_requests($rcv)};
}
sub delivered { answered(@_, 200, 299) }

ok(wait_until(sub { delivered($web, 'trusted') >= $n }, 30),
    'ca_file = the CA: records delivered over HTTPS');
ok(wait_until(sub { delivered($web, 'noverify') >= $n }, 30),
    'tls_verify = false: records delivered');
my $st = wait_status($s, 'trusted', sub { ($_[0]{delivered} // 0) == $n },
    10);
is($st->{delivered}, $n, 'status: trusted hook counts them delivered');

# The system store does not know the throwaway CA: the handshake fails,
# which is transient, so the records wait for a retry.
$st = wait_status($s, 'untrusted', sub { ($_[0]{deferred} // 0) == $n }, 20);
is($st->{deferred}, $n, 'no ca_file, tls_verify = true: records deferred');
is($st->{delivered} // 0, 0, 'untrusted: nothing counted delivered');
is($st->{dead} // 0, 0, 'untrusted: a TLS failure is not permanent');
ok(!wait_until(sub { answered($web, 'untrusted', 0, 999) > 0 }, 3),
    'untrusted: no request reached the receiver');
like(slurp("$s->{dir}/spoold.log") // '',
    qr/hook untrusted\b[^\n]*(SSL|TLS|certificate)/i,
    'untrusted: the log says the failure is the certificate check');

# Client certificates.
ok(wait_until(sub { delivered($mtls, 'withcert') >= $n }, 30),
    'client_cert/client_key: delivered to a receiver that asks for them');
$st = wait_status($s, 'nocert', sub { ($_[0]{dead} // 0) == $n }, 30);
is($st->{dead}, $n, 'no client certificate: 403, dead letters');
is(answered($mtls, 'nocert', 403, 403), $n,
    'nocert: the receiver answered 403 to each record');
is(answered($mtls, 'nocert', 200, 299), 0, 'nocert: nothing accepted');

is(delivered($web, 'trusted'), $n, 'trusted: each record delivered once');
is(delivered($web, 'noverify'), $n, 'noverify: each record delivered once');
is(delivered($mtls, 'withcert'), $n, 'withcert: each record delivered once');

# On failure, the end of spoold's log says why.
if (!Test::More->builder->is_passing) {
	my @l = split /\n/, slurp("$s->{dir}/spoold.log") // '';
	diag(join("\n", 'spoold.log:', grep({ /ERROR:|SUMMARY:/ } @l),
	    @l > 15 ? @l[-15 .. -1] : @l));
}
is(stop_spoold($s), 0, 'spoold stops cleanly');
stop_receiver($_) for $web, $mtls;

done_testing();
