#!/usr/bin/perl
# What a webhook receiver sees: Standard Webhooks signatures that verify
# over the exact body bytes, the hook's extra headers, User-Agent and
# Content-Type per format, and log_parameters projecting meta and headers.
use strict;
use warnings;
use lib 't/lib';
use SpooldTest;
use Digest::SHA qw(hmac_sha256);
use Encode ();
use JSON::PP;
use MIME::Base64 qw(encode_base64 decode_base64);
use Test::More;

# A fresh random key each run, so a signature cannot be right by accident.
sub random_key {
	open(my $fh, '<:raw', '/dev/urandom') or die "/dev/urandom: $!";
	read($fh, my $key, 24) == 24 or die "short read from /dev/urandom";
	close($fh);
	return $key;
}

my $key = random_key();
my $secret = 'whsec_' . encode_base64($key, '');

# One receiver per hook: the receiver's log does not say which path was
# asked for, so the receiver tells the hooks apart.
my %rcv = map { $_ => start_receiver() } qw(one batch nd plain);

my $s = new_spool(hooks => <<"EOT");
[hook.one]
url = "$rcv{one}{url}/one"
signing_secret = "$secret"
headers = { X-Env = "test" }
log_parameters = { meta = ["campaign", "ten*"], headers = ["subject"] }

[hook.batch]
url = "$rcv{batch}{url}/batch"
signing_secret = "$secret"
batch_size = 5
min_batch_size = 5
max_batch_latency = "2s"

[hook.nd]
url = "$rcv{nd}{url}/nd"
format = "ndjson"
batch_size = 5
min_batch_size = 5
max_batch_latency = "2s"

[hook.plain]
url = "$rcv{plain}{url}/plain"
EOT
start_spoold($s);

my @recs = map { kumo_record($_) } 1 .. 7;
my $r = post($s, '/log', 'application/x-ndjson', join("\n", @recs) . "\n");
is($r->{status}, 200, 'seven records ingested');
is($r->{json}{queued}, 7, 'all seven queued');

for my $h (sort keys %rcv) {
	ok(wait_until(sub { @{receiver_records($rcv{$h})} >= 7 }, 30),
	    "hook $h: the seven records arrive");
}

# The body exactly as it came over the wire.
sub body_bytes {
	my ($q) = @_;
	return pack('H*', $q->{body_hex}) if defined $q->{body_hex};
	return Encode::encode_utf8($q->{body});
}

# A receiver's check: any "v1,SIG" among the space-separated signatures
# must equal the HMAC of "id.timestamp.body" under the key.
sub verifies {
	my ($k, $hdr, $body) = @_;
	my ($id, $ts, $sigs) = @$hdr{qw(webhook-id webhook-timestamp
	    webhook-signature)};
	return 0 unless defined $id && defined $ts && defined $sigs;
	my $want = encode_base64(hmac_sha256("$id.$ts.$body", $k), '');
	for my $sig (split / /, $sigs) {
		return 1 if $sig eq "v1,$want";
	}
	return 0;
}

sub check_signed {
	my ($name) = @_;
	my $reqs = receiver_requests($rcv{$name});
	ok(@$reqs > 0, "$name: requests logged");
	my ($bad, $fresh, $tamper_ok, $other_key_ok) = (0, 0, 0, 0);
	my %ids;
	for my $q (@$reqs) {
		my $h = $q->{headers};
		my $body = body_bytes($q);
		$bad++ unless verifies($key, $h, $body);
		$ids{$h->{'webhook-id'} // ''}++;
		my $ts = $h->{'webhook-timestamp'} // '';
		# Against the time the receiver logged the request, not the
		# time of this check.
		$fresh++ if $ts =~ /^\d+$/ && abs($q->{ms} / 1000 - $ts) < 60;
		# Negative checks of the verifier itself.
		$tamper_ok++ if verifies($key, $h, $body . ' ');
		$tamper_ok++ if length $body &&
		    verifies($key, $h, substr($body, 1));
		$other_key_ok++ if verifies(random_key(), $h, $body);
	}
	is($bad, 0, "$name: every webhook-signature verifies over the body");
	is($fresh, scalar @$reqs,
	    "$name: webhook-timestamp is unix seconds within a minute of "
	    . 'the request');
	is(scalar(grep { $_ ne '' } keys %ids), scalar @$reqs,
	    "$name: every request has its own webhook-id");
	is($tamper_ok, 0, "$name: a tampered body does not verify");
	is($other_key_ok, 0, "$name: another key does not verify");
	return $reqs;
}

my $one = check_signed('one');
is(scalar @$one, 7, 'one: one request per record');
my $batch = check_signed('batch');
ok(scalar(grep { body_bytes($_) =~ /^\s*\[/ } @$batch) >= 1 &&
    @$batch < 7, 'batch: records went in batches (JSON arrays)');
is(scalar @{receiver_records($rcv{batch})}, 7,
    'batch: seven records in all');

# Unsigned hooks send no webhook-* header at all.
for my $name (qw(nd plain)) {
	my @h = map { grep { /^webhook-/ } keys %{$_->{headers}} }
	    @{receiver_requests($rcv{$name})};
	is_deeply(\@h, [], "$name: no signing_secret, no webhook-* headers");
}

# Headers every request carries.
sub all_match {
	my ($name, $hdr, $re) = @_;
	my $reqs = receiver_requests($rcv{$name});
	my @bad = grep { ($_->{headers}{$hdr} // '') !~ $re } @$reqs;
	return @$reqs > 0 && !@bad;
}
ok(all_match('one', 'x-env', qr/^test$/), 'the hook\'s X-Env: test arrives');
ok(!grep({ exists $_->{headers}{'x-env'} } @{receiver_requests($rcv{plain})}),
    'a hook without headers sends no X-Env');
for my $name (sort keys %rcv) {
	ok(all_match($name, 'user-agent', qr{^spoold/\S}),
	    "$name: User-Agent starts with spoold/");
}
for my $name (qw(one batch plain)) {
	ok(all_match($name, 'content-type', qr{^application/json\s*(;|$)}),
	    "$name: Content-Type application/json");
}
ok(all_match('nd', 'content-type', qr{^application/x-ndjson\s*(;|$)}),
    'nd: Content-Type application/x-ndjson');

# NDJSON bodies: one record per line, each line ending in a newline.
my $nd = receiver_requests($rcv{nd});
my $lines_ok = grep {
	my $b = body_bytes($_);
	$b =~ /\n\z/ && !grep { !defined json_decode($_) } split /\n/, $b;
} @$nd;
is($lines_ok, scalar @$nd, 'nd: every body is newline-terminated JSON lines');
ok(scalar(grep { (body_bytes($_) =~ tr/\n//) > 1 } @$nd) >= 1,
    'nd: batches hold several lines');
is_deeply([sort @{receiver_records($rcv{nd})}], [sort map { canon($_) } @recs],
    'nd: the records arrive unchanged');
is_deeply([sort @{receiver_records($rcv{plain})}],
    [sort map { canon($_) } @recs], 'plain: the records arrive unchanged');

# log_parameters: meta keeps campaign (exact) and tenant (ten*), drops
# note; headers keep Subject (matched as "subject"), drop X-Campaign.
sub projected {
	my ($bytes) = @_;
	my $c = JSON::PP->new->utf8->canonical;
	my $o = $c->decode($bytes);
	delete $o->{meta}{note};
	delete $o->{headers}{'X-Campaign'};
	return $c->encode($o);
}
is_deeply([sort @{receiver_records($rcv{one})}],
    [sort map { projected($_) } @recs],
    'one: log_parameters keeps only the listed meta and header keys');
my $first = json_decode(body_bytes($one->[0])) // {};
is_deeply([sort keys %{$first->{meta} // {}}], [qw(campaign tenant)],
    'one: meta has campaign and tenant only');
is_deeply([sort keys %{$first->{headers} // {}}], ['Subject'],
    'one: headers has Subject only, its case kept');

# On failure, the end of spoold's log says why.
if (!Test::More->builder->is_passing) {
	my @l = split /\n/, slurp("$s->{dir}/spoold.log") // '';
	diag(join("\n", 'spoold.log:', grep({ /ERROR:|SUMMARY:/ } @l),
	    @l > 15 ? @l[-15 .. -1] : @l));
}
is(stop_spoold($s), 0, 'spoold stops cleanly');
stop_receiver($_) for values %rcv;

done_testing();
