#!/usr/bin/perl
# make demo: spoold end to end on a built-in default configuration, in a
# temporary directory, on free loopback ports. Records come in over HTTP,
# are stored durably (kill -9 loses none), and go out by three transports,
# one record type each: Delivery records to a local webhook receiver in
# JSON batches, Bounce records to a RabbitMQ queue (a private node the
# demo starts, as the tests do) with publisher confirms, and
# TransientFailure records to a Kafka topic keyed by recipient: Kafka
# here is librdkafka's mock cluster, which speaks the Kafka protocol on
# real sockets but is not a Kafka server. Usage: demo.pl BUILDDIR
use strict;
use warnings;
use lib 't/lib';
use Cwd qw(abs_path);
use JSON::PP;

BEGIN { $ENV{SPOOLD_BUILD} = abs_path($ARGV[0] // die "usage: demo.pl BUILDDIR\n") }

use KafkaTest;
use RabbitMQ;
use SpooldTest;

$| = 1;
my $json = JSON::PP->new->canonical->utf8;

sub say_ { print "\n==> @_\n" }

sub must {
	my ($what, $st, $out, $err) = @_;
	die "demo: $what: $err$out" if $st != 0;
	return $out;
}

sub ctl {
	my ($s, @args) = @_;
	my ($st, $out, $err) = spoolctl($s, undef, @args);
	print $out, $err;
}

# One KumoMTA-like record of each type in turn.
sub record {
	my ($type, $i) = @_;
	return $json->encode({ type => $type, id => "n$i",
	    sender => 'a@example.com', recipient => "user$i\@example.net",
	    queue => 'example.net', timestamp => time(),
	    response => { code => 250, content => 'OK' },
	    meta => { tenant => 'demo' },
	    headers => { Subject => "caf\x{e9}" } });
}

say_('starting a webhook receiver, a RabbitMQ node and a Kafka mock cluster');
my $rcv = start_receiver();
my $mq = rabbitmq_start();
must('declare the queue', amqp_tool($mq->{url}, 'declare', 'kumo.bounces'));
my $kafka = start_mock(1, 'kumo-events:4');
print "receiver  $rcv->{url}\n";
print "RabbitMQ  $mq->{url} (queue kumo.bounces)\n";
print "Kafka     kafka://$kafka->{bootstrap} (librdkafka's mock cluster)\n";

my $s = new_spool(hooks => <<"EOT");
# Deliveries to a webhook, up to 100 per request as a JSON array.
[hook.webhook]
url = "$rcv->{url}/deliveries"
types = ["Delivery"]
batch_size = 100
max_batch_latency = "100ms"

# Bounces to RabbitMQ: one persistent message each, confirmed.
[hook.rabbit]
url = "$mq->{url}/%2f"
routing_key = "kumo.bounces"
types = ["Bounce"]
batch_size = 50

# Transient failures to Kafka, keyed by recipient, acks=all.
[hook.stream]
url = "kafka://$kafka->{bootstrap}"
topic = "kumo-events"
key = "recipient"
types = ["TransientFailure"]
batch_size = 50
EOT
# It holds the broker's password: spoold warns unless only it can read it.
chmod(0600, $s->{conf});

say_('configuration check: spoold -n (the hooks\' transport lines)');
my ($st, $out, $err) = run_cmd(undef, bin('spoold'), '-n', '-f', $s->{conf});
print grep { /^\[hook|^url|^topic|^key|^routing_key|configuration OK/ }
    split /^/, $out . $err;

say_('spoold holds deliveries while we look: spoolctl hold');
start_spoold($s);
ctl($s, 'hold', $_) for qw(webhook rabbit stream);

my @types = qw(Reception Delivery Bounce TransientFailure);
my @recs = map { record($types[$_ % 4], $_) } 0 .. 999;
say_('POST 1000 records as NDJSON (answered once fsynced)');
my $r = post($s, '/log', 'application/x-ndjson', join("\n", @recs));
print "HTTP $r->{status} $r->{content}\n";
die "demo: the records were not accepted\n" if $r->{status} != 200;
say_('Reception records match no hook: counted as discarded, not stored');

say_('kill -9 spoold and start it again: nothing acknowledged is lost');
kill_spoold($s);
start_spoold($s);
ctl($s, 'status');

say_('release the hooks: the workers deliver');
ctl($s, 'release', $_) for qw(webhook rabbit stream);
for my $h (qw(webhook rabbit stream)) {
	my $st = wait_status($s, $h, sub { ($_[0]{delivered} // 0) >= 250 &&
	    ($_[0]{in_flight} // 1) == 0 }, 60);
	next if ($st->{delivered} // 0) >= 250;
	ctl($s, "status");
	print slurp("$s->{dir}/spoold.log") // "";
	die "demo: hook $h did not deliver its 250 records\n";
}
ctl($s, 'status');

say_('what each transport got');
my @reqs = @{receiver_requests($rcv)};
my $n = 0;
$n += scalar @{JSON::PP->new->decode($_->{body})} for @reqs;
printf "webhook:  %d requests, %d Delivery records\n", scalar @reqs, $n;
my @msgs = map { $json->decode($_) } split /\n/,
    must('consume RabbitMQ', amqp_tool($mq->{url}, 'get', 'kumo.bounces',
    250, 30));
printf "RabbitMQ: %d messages, types %s; the first's properties:\n  %s\n",
    scalar @msgs, join(',', sort keys %{{ map { $_->{properties}{type} => 1 }
    @msgs }}), $json->encode($msgs[0]{properties});
my @kmsgs = @{consume($kafka, "kumo-events", count => 250, secs => 30)};
printf "Kafka:    %d messages, %d keys; the first: key %s, partition %d\n",
    scalar @kmsgs, scalar keys %{{ map { $_->{key} => 1 } @kmsgs }},
    $kmsgs[0]{key}, $kmsgs[0]{partition};

say_('stop (SIGTERM)');
stop_spoold($s);
stop_receiver($rcv);
rabbitmq_stop($mq);
stop_mock($kafka);
print "demo done\n";
