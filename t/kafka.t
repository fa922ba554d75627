#!/usr/bin/perl
# Kafka hooks, end to end: records POSTed to spoold and acknowledged with
# 200 are produced by its workers and read back from the topic, whole,
# keyed, with the hook's headers and a Standard Webhooks signature per
# message, or projected by log_parameters.
#
# The broker is librdkafka's mock cluster (build/t/kafkamock): not a real
# Kafka, but librdkafka's own implementation of the Kafka protocol,
# served on real sockets on 127.0.0.1, which spoold's producer and the
# test's consumer talk to as they would to brokers.
use strict;
use warnings;
use lib 't/lib';
use SpooldTest;
use KafkaTest;
use Digest::SHA qw(hmac_sha256);
use Encode ();
use JSON::PP;
use MIME::Base64 qw(encode_base64);
use Test::More;

my $key = join '', map { chr(int(rand(256))) } 1 .. 24;
my $secret = 'whsec_' . encode_base64($key, '');

my $m = start_mock(3, 'one:3', 'batch:2', 'lp:1');
my $s = new_spool(hooks => <<"EOT");
[hook.one]
url = "kafka://$m->{bootstrap}"
topic = "one"
key = "recipient"
headers = { X-Env = "test", X-Empty = "" }
signing_secret = "$secret"

[hook.batch]
url = "kafka://$m->{bootstrap}"
topic = "batch"
batch_size = 50
min_batch_size = 50
max_batch_latency = "1s"

[hook.lp]
url = "kafka://$m->{bootstrap}"
topic = "lp"
signing_secret = "$secret"
log_parameters = { meta = ["campaign"], headers = ["subject"] }
EOT
start_spoold($s);

my $n = 120;
my @recs = map { kumo_record($_) } 1 .. $n;
my $acked = 0;
for my $i (0 .. 3) {
	my @part = @recs[$i * 30 .. $i * 30 + 29];
	my $r = post($s, '/log', 'application/x-ndjson',
	    join("\n", @part) . "\n");
	$acked += 30 if $r->{status} == 200;
}
is($acked, $n, "$n records acknowledged");

for my $h (qw(one batch lp)) {
	my $st = wait_status($s, $h, sub { ($_[0]{delivered} // 0) >= $n },
	    60);
	is($st->{delivered}, $n, "$h: all $n delivered");
}

my $c = JSON::PP->new->utf8->canonical;
sub bytes { Encode::encode_utf8($_[0]) }
my %want = map { canon($_) => 1 } @recs;

# Each acknowledged record exactly once in the topic (no retries here).
sub same_records {
	my ($msgs, $what) = @_;
	my %got;
	$got{canon(bytes($_->{value}))}++ for @$msgs;
	is(scalar(@$msgs), $n, "$what: $n messages");
	is_deeply([sort keys %got], [sort keys %want],
	    "$what: the messages are the records acknowledged");
}

my $one = consume($m, 'one', count => $n);
same_records($one, 'one');
# Does the message's signature verify over its value, made just now?
sub signed {
	my ($msg, $h) = @_;
	my ($mid, $ts, $sig) = @$h{qw(webhook-id webhook-timestamp
	    webhook-signature)};
	return 0 unless defined $sig;
	my $want = 'v1,' . encode_base64(hmac_sha256("$mid.$ts." .
	    bytes($msg->{value}), $key), '');
	return $sig eq $want && abs(time - $ts) < 300;
}

my ($keyed, $hdrs, $signed, $ids) = (0, 0, 0, 0);
my %id;
for my $msg (@$one) {
	my $rec = $c->decode(bytes($msg->{value}));
	$keyed++ if defined $msg->{key} && $msg->{key} eq $rec->{recipient};
	my %h = map { $_->[0] => $_->[1] } @{$msg->{headers}};
	$hdrs++ if ($h{'X-Env'} // '') eq 'test' && defined $h{'X-Empty'} &&
	    $h{'X-Empty'} eq '';
	$signed++ if signed($msg, \%h);
	my $mid = $h{'webhook-id'} // '';
	$ids++ if $mid =~ /^msg_[0-9a-f]{16}_1$/;
	$id{$mid}++;
}
is($keyed, $n, 'one: every message keyed by its recipient');
is($hdrs, $n, "one: every message has the hook's headers");
is($signed, $n, 'one: every signature verifies over the message');
is($ids, $n, 'one: webhook-id names one record');
is(scalar(keys %id), $n, 'one: each message its own webhook-id');
my %parts = map { $_->{partition} => 1 } @$one;
ok(keys %parts > 1, 'one: the keys spread over partitions');
my %bykey;
$bykey{$_->{key}}{$_->{partition}} = 1 for @$one;
is(scalar(grep { keys %{$bykey{$_}} > 1 } keys %bykey), 0,
    'one: a key stays in one partition');

my $batch = consume($m, 'batch', count => $n);
same_records($batch, 'batch');
is(scalar(grep { !defined $_->{key} } @$batch), $n,
    'batch: no key without one configured');
is(scalar(grep { @{$_->{headers}} == 0 } @$batch), $n,
    'batch: no headers without any configured');

my $lp = consume($m, 'lp', count => $n);
is(scalar(@$lp), $n, "lp: $n messages");
my ($projected, $lpsigned) = (0, 0);
for my $msg (@$lp) {
	my $v = $c->decode(bytes($msg->{value}));
	$lpsigned++ if signed($msg, { map { $_->[0] => $_->[1] }
	    @{$msg->{headers}} });
	$projected++ if join(',', sort keys %{$v->{meta}}) eq 'campaign' &&
	    join(',', sort keys %{$v->{headers}}) eq 'Subject' &&
	    defined $v->{recipient};
}
is($projected, $n, 'lp: each message is its record projected by '
    . 'log_parameters');
is($lpsigned, $n, 'lp: and signed as projected');

is(stop_spoold($s), 0, 'spoold stops');
stop_mock($m);
done_testing();
