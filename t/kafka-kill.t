#!/usr/bin/perl
# spoold killed with SIGKILL while its workers produce to Kafka: once it
# runs again, every record it acknowledged is in the topic. A record may
# arrive twice (produced, then killed before the outcome was committed),
# but none is lost.
#
# The broker is librdkafka's mock cluster (build/t/kafkamock): not a real
# Kafka, but librdkafka's own implementation of the Kafka protocol,
# served on real sockets on 127.0.0.1.
use strict;
use warnings;
use lib 't/lib';
use SpooldTest;
use KafkaTest;
use Encode ();
use Test::More;

my $m = start_mock(3, 'load:4');
my $s = new_spool(hooks => <<"EOT");
[hook.load]
url = "kafka://$m->{bootstrap}"
topic = "load"
key = "recipient"
batch_size = 20
retry_interval = "200ms"
max_retry_interval = "400ms"
EOT
start_spoold($s);

my (@acked, $seq);
# One POST of $n records; those answered 200 are acknowledged.
sub post_some {
	my ($n) = @_;
	my @recs = map { kumo_record(++$seq) } 1 .. $n;
	my $r = eval { post($s, '/log', 'application/x-ndjson',
	    join("\n", @recs) . "\n") };
	push @acked, @recs if $r && $r->{status} == 200;
}

# Load, and the kill in the middle of it: brokers slow to answer keep
# deliveries under way.
is(mock_cmd($m, "rtt $_ 300"), 'ok', "broker $_ answers late") for 1 .. 3;
post_some(50) for 1 .. 10;
ok(wait_until(sub { (status_of($s, 'load')->{delivered} // 0) >= 100 },
    30), 'deliveries under way');
post_some(50) for 1 .. 4;
my $left = queued(status_of($s, 'load'));
is(kill_spoold($s) & 127, 9, 'spoold killed with SIGKILL');
ok($left > 0, "with $left records still to deliver");
my $before = scalar @acked;
ok($before >= 500, "$before records acknowledged before the kill");

is(mock_cmd($m, "rtt $_ 0"), 'ok', "broker $_ answers at once") for 1 .. 3;
start_spoold($s);
post_some(50) for 1 .. 2;
my $st = wait_status($s, 'load', sub { queued($_[0]) == 0 &&
    ($_[0]{in_flight} // 0) == 0 }, 90);
is(queued($st), 0, 'after the restart, the hook has nothing left');
is($st->{dead} // 0, 0, 'and no dead letter');

my %got;
$got{canon(Encode::encode_utf8($_->{value}))}++ for
    @{consume($m, 'load', secs => 60)};
my @missing = grep { !$got{canon($_)} } @acked;
is(scalar(@missing), 0, scalar(@acked) . ' records acknowledged, none '
    . 'missing from the topic');
my $dups = grep { $_ > 1 } values %got;
diag("$dups records arrived twice") if $dups;

is(stop_spoold($s), 0, 'spoold stops');
stop_mock($m);
done_testing();
