#!/usr/bin/perl
# make demo: spoold end to end on a built-in default configuration, in a
# temporary directory, on free loopback ports. Records come in over HTTP,
# are stored durably (kill -9 loses none), and go out by three transports,
# one record type each: Delivery records to a local webhook receiver in
# JSON batches, Bounce records to a RabbitMQ queue (a private node the
# demo starts, as the tests do) with publisher confirms, and
# TransientFailure records to a Kafka topic keyed by recipient: Kafka
# here is librdkafka's mock cluster, which speaks the Kafka protocol on
# real sockets but is not a Kafka server. Besides HTTP ingest, a log
# source reads KumoMTA's own local log segments (zstd JSON lines, as
# build/t/segwriter writes them: some closed and read-only, one still
# open and growing), each record into the spool exactly once, even
# across the kill -9. Usage: demo.pl BUILDDIR
use strict;
use warnings;
use lib 't/lib';
use Cwd qw(abs_path);
use File::Temp qw(tempdir);
use JSON::PP;

BEGIN { $ENV{SPOOLD_BUILD} = abs_path($ARGV[0] // die "usage: demo.pl BUILDDIR\n") }

use KafkaTest;
use RabbitMQ;
use Segments;
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

# The segments KumoMTA's local logs would hold: Delivery records, SOURCED
# of them, the first in closed segments, the rest in one still open that
# grows by GROWING records at a few a second while the demo goes on.
my $SOURCED = 250;
my $GROWING = 50;
my $logs = tempdir('spoold-kumo-logs-XXXXXX', TMPDIR => 1, CLEANUP => 1);

# The segments, as ls -l would show them.
sub list_segments {
	for my $f (segments($logs)) {
		my @st = stat("$logs/$f") or next;
		printf "  %s %7d  %s%s\n", ($st[2] & 0222) ? 'rw-r--r--' :
		    'r--r--r--', $st[7], $f, ($st[2] & 0222) ?
		    '   (open: KumoMTA is still writing it)' : '';
	}
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

# KumoMTA's local logs, read in place: no log hook in the MTA at all.
[source.kumo]
directory = "$logs"
EOT
# It holds the broker's password: spoold warns unless only it can read it.
chmod(0600, $s->{conf});

say_('configuration check: spoold -n (the hooks\' transport lines)');
my ($st, $out, $err) = run_cmd(undef, bin('spoold'), '-n', '-f', $s->{conf});
print grep { /^\[hook|^\[source|^url|^topic|^key|^routing_key|^directory|
    configuration\ OK/x }
    split /^/, $out . $err;

say_('spoold holds deliveries while we look: spoolctl hold');
start_spoold($s);
ctl($s, 'hold', $_) for qw(webhook rabbit stream);

say_("KumoMTA writes its local logs, segments of zstd JSON lines, in $logs");
my $old = start_writer($logs, n => $SOURCED - $GROWING, size => 40000,
    types => 'Delivery', prefix => 'kumo-');
die "demo: segwriter failed\n" if (wait_writer($old, 30) // -1) != 0;
my $grow = start_writer($logs, n => $GROWING, first => $SOURCED - $GROWING +
    1, rate => 10, types => 'Delivery', prefix => 'kumo-', keep_open => 1,
    leave => 1);
my $nclosed = () = segments($logs);
wait_until(sub { segments($logs) > $nclosed }, 10);
printf "%d Delivery records in %d closed segments (read-only once KumoMTA " .
    "closed them),\nand %d more coming at 10 a second into an open one; " .
    "the source kumo reads them all:\n", $SOURCED - $GROWING, $nclosed,
    $GROWING;
list_segments();

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

# The source's records, from its checkpoint in the spool.
sub source_records {
	my ($st, $out) = spoolctl($s, undef, '--json', 'status');
	my $j = json_decode($out // '') // {};
	return $j->{sources}{kumo}{records} // 0;
}

say_("the source resumed at its checkpoint; KumoMTA's open segment goes " .
    'on growing');
die "demo: segwriter failed\n" if (wait_writer($grow, 30) // -1) != 0;
wait_until(sub { source_records() >= $SOURCED }, 30);
list_segments();
ctl($s, 'status');
die "demo: the source did not read its $SOURCED records\n"
    if source_records() != $SOURCED;
print "kumo read $SOURCED records: each is in the spool once, the kill -9 " .
    "lost none\nand doubled none (its checkpoint commits with each " .
    "batch)\n";

say_('release the hooks: the workers deliver');
ctl($s, 'release', $_) for qw(webhook rabbit stream);
# The webhook takes the Delivery records of both ways in.
my %want = (webhook => 250 + $SOURCED, rabbit => 250, stream => 250);
for my $h (qw(webhook rabbit stream)) {
	my $st = wait_status($s, $h, sub { ($_[0]{delivered} // 0) >=
	    $want{$h} && ($_[0]{in_flight} // 1) == 0 }, 60);
	next if ($st->{delivered} // 0) >= $want{$h};
	ctl($s, "status");
	print slurp("$s->{dir}/spoold.log") // "";
	die "demo: hook $h did not deliver its $want{$h} records\n";
}
ctl($s, 'status');

say_('what each transport got');
my @reqs = @{receiver_requests($rcv)};
my @ids = map { $_->{id} } map { @{JSON::PP->new->decode($_->{body})} }
    @reqs;
my %seen;
my @sourced = grep { /^kumo-/ && !$seen{$_}++ } @ids;
printf "webhook:  %d requests, %d Delivery records: %d posted over HTTP, " .
    "%d read from\n          KumoMTA's segments (%d distinct: kumo-1 to " .
    "kumo-%d)\n", scalar @reqs, scalar @ids,
    scalar(grep { !/^kumo-/ } @ids), scalar(grep { /^kumo-/ } @ids),
    scalar @sourced, $SOURCED;
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
