#!/usr/bin/perl
# A Kafka hook's settings changed by SIGHUP: records after the reload go
# to the new topic with the new producer properties, and a property
# librdkafka refuses leaves the old settings delivering.
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

my $m = start_mock(1, 'a:1', 'b:1');
my $hook = <<"EOT";
[hook.k]
url = "kafka://$m->{bootstrap}"
topic = "%s"
idle_timeout = "1h"

[hook.k.kafka]
%s
EOT
my $s = new_spool(hooks => sprintf($hook, 'a', 'linger.ms = 1'));
start_spoold($s);

my $seq = 0;
sub post_one {
	my $rec = kumo_record(++$seq);
	is(post($s, '/log', 'application/json', $rec)->{status}, 200,
	    "record $seq acknowledged");
	return $rec;
}
sub delivered { status_of($s, 'k')->{delivered} // 0 }
sub in_topic {
	my ($topic, @recs) = @_;
	my %got = map { canon(Encode::encode_utf8($_->{value})) => 1 }
	    @{consume($m, $topic)};
	return !grep { !$got{canon($_)} } @recs;
}
sub log_count {
	my ($re) = @_;
	my @n = (slurp("$s->{dir}/spoold.log") // '') =~ /$re/g;
	return scalar @n;
}

my $r1 = post_one();
ok(wait_until(sub { delivered() >= 1 }, 20), 'delivered before the reload');
ok(in_topic('a', $r1), 'to topic a');

spew($s->{conf}, slurp($s->{conf}) =~ s/topic = "a"/topic = "b"/r =~
    s/linger\.ms = 1/compression.type = "lz4"/r);
kill('HUP', $s->{pid});
ok(wait_until(sub { log_count(qr/configuration reloaded/) >= 1 }, 10),
    'the reload is applied');
my $r2 = post_one();
ok(wait_until(sub { delivered() >= 2 }, 20), 'delivered after the reload');
ok(in_topic('b', $r2), 'to the new topic b');
ok(!in_topic('a', $r2), 'not to the old one');

my $good = slurp($s->{conf});
spew($s->{conf},
    $good =~ s/compression\.type = "lz4"/compression.type = "nope"/r);
kill('HUP', $s->{pid});
ok(wait_until(sub { log_count(qr/reload refused/) >= 1 }, 10),
    'a property librdkafka refuses: the reload is refused');
like(slurp("$s->{dir}/spoold.log"), qr/compression\.type/,
    'the log names the property');
my $r3 = post_one();
ok(wait_until(sub { delivered() >= 3 }, 20),
    'the settings before it deliver');
ok(in_topic('b', $r3), 'to topic b');

spew($s->{conf}, $good);
is(stop_spoold($s), 0, 'spoold stops');
stop_mock($m);
done_testing();
