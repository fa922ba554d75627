#!/usr/bin/perl
# spoold delivering to a real RabbitMQ: every record acknowledged to the
# producer arrives as one message, one record at a time and in batches,
# with its properties and signing headers; an unroutable record is a
# dead letter with the broker's reply until its queue is bound and it is
# requeued; a full queue that rejects publishes defers records until it
# is drained; amqps verifies the broker against the hook's CA.
use strict;
use warnings;
use lib 't/lib';
use SpooldTest;
use RabbitMQ;
use Digest::SHA qw(hmac_sha256);
use MIME::Base64 qw(encode_base64);
use Test::More;

if (my $why = rabbitmq_missing()) {
	plan skip_all => $why;
}

my $ca = test_ca();
my $n = rabbitmq_start(tls => $ca);
my ($u, $us) = ($n->{url}, $n->{amqps});

declare_queues($u, qw(single batched signed tls notrust));
my ($st, $out, $err) = amqp_tool($u, 'declare', 'full', 'max-length', 5,
    'overflow', 'reject-publish');
is($st, 0, 'queue full declared (5 at most, rejecting publishes)')
    or diag($err);
($st, undef, $err) = amqp_tool($u, 'declare', 'late');
is($st, 0, 'queue late declared, not bound to amq.direct') or diag($err);

my $key = join('', map { chr(int(rand(256))) } 1 .. 24);
my $secret = 'whsec_' . encode_base64($key, '');

my $s = new_spool(hooks => <<"EOT");
[hook.single]
url = "$u"
routing_key = "single"

[hook.batched]
url = "$u"
routing_key = "batched"
batch_size = 50
max_batch_latency = "500ms"

[hook.signed]
url = "$u"
routing_key = "signed"
persistent = false
signing_secret = "$secret"
headers = { X-Env = "test", X-Hook = "signed", webhook-id = "forged" }

[hook.late]
url = "$u"
exchange = "amq.direct"
routing_key = "late"
batch_size = 10

[hook.full]
url = "$u"
routing_key = "full"
batch_size = 10
retry_interval = "200ms"
max_retry_interval = "500ms"

[hook.tls]
url = "$us"
routing_key = "tls"
ca_file = "$ca->{ca}"

[hook.notrust]
url = "$us"
routing_key = "notrust"
retry_interval = "20m"
EOT
start_spoold($s);

# 120 records, acknowledged by spoold in 4 requests.
my @recs = map { kumo_record($_) } 1 .. 120;
my @acked;
for my $i (0 .. 3) {
	my @part = @recs[$i * 30 .. $i * 30 + 29];
	my $r = post($s, '/log', 'application/x-ndjson',
	    join("\n", @part) . "\n");
	is($r->{status}, 200, "request $i acknowledged");
	push(@acked, @part) if $r->{status} == 200;
}
my @want = sort @acked;

# Consumes a queue until it holds nothing more for a while.
sub drain {
	my ($q, $want, $secs) = @_;
	my @got;
	wait_until(sub {
		my (undef, $o) = amqp_tool($u, 'get', $q, $want - @got, 1);
		push(@got, map { json_decode($_) } split /\n/, $o // '');
		return @got >= $want;
	}, $secs // 30);
	return \@got;
}

sub bodies { [sort map { $_->{body} } @{$_[0]}] }

for my $q (qw(single batched signed tls)) {
	my $m = drain($q, scalar @want);
	is_deeply(bodies($m), \@want,
	    "$q: every acknowledged record arrived, once");
	my %ids = map { $_->{properties}{message_id} => 1 } @$m;
	is(scalar keys %ids, scalar @want, "$q: each its own message_id");
	is(scalar(grep { $_->{routing_key} eq $q } @$m), scalar @want,
	    "$q: routing key $q");
	$s->{got}{$q} = $m;
}
for my $q (qw(single batched signed tls)) {
	is(wait_status($s, $q, sub { queued($_[0]) == 0 &&
	    ($_[0]{delivered} // 0) == @want }, 20)->{delivered},
	    scalar @want, "$q: spoold counts them delivered");
}

# Properties.
my $m = $s->{got}{single};
my $json = JSON::PP->new;
my @ok = grep {
	my $p = $_->{properties};
	$p->{content_type} eq 'application/json' &&
	    $p->{delivery_mode} == 2 && $p->{app_id} eq 'spoold' &&
	    abs($p->{timestamp} - time) < 120 &&
	    $p->{type} eq $json->decode($_->{body})->{type} &&
	    $p->{message_id} =~ /^[0-9]+$/ && !exists $p->{headers}
} @$m;
is(scalar @ok, scalar @$m, 'single: content_type, delivery_mode 2, ' .
    'app_id, timestamp, type, message_id, no headers');
is(scalar(grep { $_->{properties}{delivery_mode} == 1 }
    @{$s->{got}{signed}}), scalar @want, 'persistent = false: mode 1');

# Signing headers, verified as a receiver would.
sub verifies {
	my ($k, $h, $body) = @_;
	my ($id, $ts, $sig) = @$h{qw(webhook-id webhook-timestamp
	    webhook-signature)};
	return 0 unless defined $id && defined $ts && defined $sig;
	return $sig eq 'v1,' . encode_base64(hmac_sha256("$id.$ts.$body",
	    $k), '');
}
my ($good, $bad, $ids, $extra) = (0, 0, 0, 0);
for my $msg (@{$s->{got}{signed}}) {
	my $h = $msg->{properties}{headers} // {};
	$good++ if verifies($key, $h, $msg->{body});
	$bad++ if verifies($key, $h, $msg->{body} . ' ');
	$ids++ if ($h->{'webhook-id'} // '') eq sprintf('msg_%016x_1',
	    $msg->{properties}{message_id});
	$extra++ if ($h->{'X-Env'} // '') eq 'test' &&
	    ($h->{'X-Hook'} // '') eq 'signed' && $msg->{nheaders} == 5;
}
is($good, scalar @want, 'signed: every webhook-signature verifies');
is($bad, 0, 'signed: a tampered body does not');
is($ids, scalar @want, 'signed: webhook-id names the record alone');
is($extra, scalar @want, 'signed: the hook\'s headers, its webhook-id ' .
    'replaced');

# Unroutable: dead letters with the broker's reply.
my $late = wait_status($s, 'late', sub { ($_[0]{dead} // 0) == @want },
    30);
is($late->{dead}, scalar @want, 'late: every record a dead letter');
($st, $out) = spoolctl($s, undef, '--json', 'list', 'late', '--state',
    'dead', '--limit', '0');
my $dead = (json_decode($out) // {})->{records} // [];
is(scalar(grep { ($_->{last_answer} // '') =~ /^312\b.*NO_ROUTE/ }
    @$dead), scalar @want, 'late: the last answer is 312 NO_ROUTE')
    or diag($dead->[0]{last_answer});
($st, undef, $err) = amqp_tool($u, 'bind', 'late', 'amq.direct', 'late');
is($st, 0, 'late: queue bound') or diag($err);
($st, $out, $err) = spoolctl($s, undef, 'requeue', 'late');
like($out, qr/requeued 120 records/, 'late: requeued') or diag($err);
$m = drain('late', scalar @want);
is_deeply(bodies($m), \@want, 'late: every record arrived once bound');

# The full queue: 5 taken, the rest nacked and retried while it drains.
ok(wait_until(sub { (amqp_tool($u, 'count', 'full'))[1] eq "5\n" }, 20),
    'full: the queue holds 5, its limit');
my $full = wait_status($s, 'full', sub { ($_[0]{deferred} // 0) > 0 }, 20);
is(queued($full), @want - 5, 'full: the others wait, deferred');
is($full->{dead} // 0, 0, 'full: none dead');
($st, $out) = spoolctl($s, undef, '--json', 'list', 'full', '--state',
    'deferred', '--limit', '1');
like($out, qr/nack/, 'full: the last answer says nack');
$m = drain('full', scalar @want, 60);
is_deeply(bodies($m), \@want, 'full: every record arrived as it drained');

# amqps without the CA: nothing delivered, nothing lost.
my $nt = wait_status($s, 'notrust',
    sub { ($_[0]{deferred} // 0) == @want }, 60);
is($nt->{deferred}, scalar @want, 'notrust: every record tried and deferred');
is(queued($nt), scalar @want, 'notrust: every record still queued');
is($nt->{dead} // 0, 0, 'notrust: none dead');
($st, $out) = amqp_tool($u, 'count', 'notrust');
is($out, "0\n", 'notrust: the queue is empty');
($st, $out) = spoolctl($s, undef, '--json', 'list', 'notrust', '--limit',
    '1');
like($out, qr/verif/i, 'notrust: the last answer says the peer did not ' .
    'verify');

is(stop_spoold($s), 0, 'spoold stops');
diag(slurp("$s->{dir}/spoold.log") // '')
    unless Test::More->builder->is_passing;
done_testing();
