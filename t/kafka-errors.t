#!/usr/bin/perl
# Kafka hooks when the brokers fail: errors a producer retries (leaders
# moving, requests timing out, every broker down for a while) end in
# delivery; errors it cannot get past (a message too large for the broker
# or for the producer's own message.max.bytes) send the record, and that
# record only, to the dead letters with librdkafka's error.
#
# The broker is librdkafka's mock cluster (build/t/kafkamock): not a real
# Kafka, but librdkafka's own implementation of the Kafka protocol,
# served on real sockets on 127.0.0.1; the failures are injected into it.
use strict;
use warnings;
use lib 't/lib';
use SpooldTest;
use KafkaTest;
use Encode ();
use Test::More;

my $m = start_mock(3, 'k:2', 'small:1');

# Properties librdkafka does not take stop spoold before it starts.
for my $bad (['no.such.thing = 1', qr/kafka: no\.such\.thing: No such/],
    ['acks = "lots"', qr/kafka: acks: Invalid value/]) {
	my $b = new_spool(hooks => <<"EOT");
[hook.bad]
url = "kafka://$m->{bootstrap}"
topic = "k"

[hook.bad.kafka]
$bad->[0]
EOT
	my ($st, $out, $err) = run_cmd(undef, bin('spoold'), '-n', '-f',
	    $b->{conf});
	isnt($st, 0, "spoold -n refuses $bad->[0]");
	like($err, $bad->[1], 'naming the property');
}
my $s = new_spool(hooks => <<"EOT");
[hook.k]
url = "kafka://$m->{bootstrap}"
topic = "k"
types = ["Delivery"]
timeout = "2s"
retry_interval = "300ms"
max_retry_interval = "600ms"

[hook.small]
url = "kafka://$m->{bootstrap}"
topic = "small"
types = ["Bounce"]
batch_size = 10
min_batch_size = 6
max_batch_latency = "2s"

[hook.small.kafka]
message.max.bytes = 4000
EOT
start_spoold($s);

my $seq = 0;
# Posts $n records of $type; returns them as acknowledged.
sub post_records {
	my ($n, $type, @extra) = @_;
	my @recs = ((map { kumo_record(++$seq, $type) } 1 .. $n), @extra);
	my $r = post($s, '/log', 'application/x-ndjson',
	    join("\n", @recs) . "\n");
	is($r->{status}, 200, "$n records of $type acknowledged");
	return @recs;
}

sub delivered { status_of($s, $_[0])->{delivered} // 0 }

# Every record acknowledged is in the topic, once or more.
sub all_in {
	my ($topic, $recs, $what) = @_;
	my %got;
	$got{canon(Encode::encode_utf8($_->{value}))}++ for
	    @{consume($m, $topic)};
	my @missing = grep { !$got{canon($_)} } @$recs;
	is(scalar(@missing), 0, "$what: every record acknowledged arrived");
}

my @acked;

# Leaders moving and requests timing out: librdkafka retries within the
# batch.
is(mock_cmd($m, 'errors Produce 4 NOT_LEADER_FOR_PARTITION '
    . 'REQUEST_TIMED_OUT'), 'ok', 'Produce requests will fail 4 times');
push @acked, post_records(10, 'Delivery');
ok(wait_until(sub { delivered('k') >= 10 }, 30),
    'the retriable errors end in delivery');
is(status_of($s, 'k')->{dead}, 0, 'and no dead letter');

# Every broker down for longer than the timeout: the records come back
# transient and are retried by spoold once the brokers are up.
is(mock_cmd($m, "down $_"), 'ok', "broker $_ down") for 1 .. 3;
push @acked, post_records(10, 'Delivery');
my $st = wait_status($s, 'k', sub { ($_[0]{deferred} // 0) > 0 }, 30);
ok($st->{deferred} > 0, 'with the brokers down, records are deferred');
is(delivered('k'), 10, 'and none more delivered');
is(mock_cmd($m, "up $_"), 'ok', "broker $_ up") for 1 .. 3;
ok(wait_until(sub { delivered('k') >= 20 }, 60),
    'once they are up, the deferred records are delivered');
all_in('k', \@acked, 'k');
{
	# Each failed connection is said once, as librdkafka logs it, not
	# again as an error event.
	my $log = slurp("$s->{dir}/spoold.log") // '';
	like($log, qr/kafka: FAIL: .*Connection refused/,
	    'the outage is in the log');
	unlike($log, qr/kafka: ERROR: /, 'not twice');
}

# A permanent error from the broker.
is(mock_cmd($m, 'errors Produce 1 MSG_SIZE_TOO_LARGE'), 'ok',
    'the next Produce request will be refused as too large');
post_records(1, 'Delivery');
$st = wait_status($s, 'k', sub { ($_[0]{dead} // 0) >= 1 }, 30);
is($st->{dead}, 1, 'the refused record is a dead letter');
my ($rc, $out) = spoolctl($s, undef, 'list', 'k', '--state', 'dead',
    '--json');
my $dead = (json_decode($out // '') // {})->{records} // [];
like($dead->[0]{last_answer} // '', qr/too large/i,
    "with librdkafka's error: " . ($dead->[0]{last_answer} // '(none)'));
is(delivered('k'), 20, 'and it was not counted delivered');

# A record larger than the producer's own message.max.bytes, among
# others in one batch: it alone is dead.
my $big = kumo_record(++$seq, 'Bounce');
$big =~ s/^\{/{"filler":"${\('x' x 6000)}",/;
my @small = post_records(6, 'Bounce', $big);
$st = wait_status($s, 'small', sub { ($_[0]{delivered} // 0) +
    ($_[0]{dead} // 0) >= 7 }, 30);
is($st->{delivered}, 6, 'small: the six others delivered');
is($st->{dead}, 1, 'small: the big one is a dead letter');
($rc, $out) = spoolctl($s, undef, 'list', 'small', '--state', 'dead',
    '--json');
$dead = (json_decode($out // '') // {})->{records} // [];
like($dead->[0]{last_answer} // '', qr/too large/i,
    'small: with the error: ' . ($dead->[0]{last_answer} // '(none)'));
pop @small;
all_in('small', \@small, 'small');

# The metrics count a broker's answers by its outcome classes, not by
# HTTP status classes.
my %m;
for (split /\n/, get($s, '/metrics')->{content} // '') {
	$m{"$1 $2 $3"} = $4 if /^spoold_hook_(outcomes|answers)_total\{hook="(\w+)",(?:outcome|class)="(\w+)"\} (\d+)$/;
}
is($m{'outcomes k delivered'}, 20, 'metrics: k, 20 delivered');
is($m{'outcomes k permanent'}, 1, 'metrics: k, 1 permanent');
cmp_ok($m{'outcomes k transient'} // 0, '>', 0,
    'metrics: k, records tried in the outage transient');
cmp_ok($m{'answers k transient'} // 0, '>', 0, 'metrics: k, transient answers');
cmp_ok($m{'answers k delivered'} // 0, '>', 0, 'metrics: k, delivered answers');
is($m{'answers k permanent'}, 1, 'metrics: k, one permanent answer');
is(scalar(grep { /^answers k (?:\dxx|none|other)$/ } keys %m), 0,
    'metrics: no http classes for a broker');
is($m{'outcomes small delivered'}, 6, 'metrics: small, 6 delivered');
is($m{'outcomes small permanent'}, 1, 'metrics: small, 1 permanent');

is(stop_spoold($s), 0, 'spoold stops');
stop_mock($m);
done_testing();
