#!/usr/bin/perl
# amqps to a RabbitMQ that takes only clients with a certificate its CA
# signed: a hook with client_cert and client_key delivers every record;
# one without them, or with a certificate another CA signed, is refused
# at the handshake and keeps its records queued, none lost, none dead.
use strict;
use warnings;
use lib 't/lib';
use SpooldTest;
use RabbitMQ;
use Test::More;

if (my $why = rabbitmq_missing()) {
	plan skip_all => $why;
}

my $ca = test_ca();
my $other = test_ca();
my $n = rabbitmq_start(tls => $ca, peer => 1);
my ($u, $us) = ($n->{url}, $n->{amqps});

declare_queues($u, qw(mtls nocert stranger));

my $s = new_spool(hooks => <<"EOT");
[hook.mtls]
url = "$us"
routing_key = "mtls"
batch_size = 10
ca_file = "$ca->{ca}"
client_cert = "$ca->{client_cert}"
client_key = "$ca->{client_key}"

[hook.nocert]
url = "$us"
routing_key = "nocert"
ca_file = "$ca->{ca}"
retry_interval = "20m"

[hook.stranger]
url = "$us"
routing_key = "stranger"
ca_file = "$ca->{ca}"
client_cert = "$other->{client_cert}"
client_key = "$other->{client_key}"
retry_interval = "20m"
EOT
start_spoold($s);

my @recs = map { kumo_record($_) } 1 .. 40;
my $r = post($s, '/log', 'application/x-ndjson', join("\n", @recs) . "\n");
is($r->{status}, 200, '40 records acknowledged');

my @got;
wait_until(sub {
	my (undef, $o) = amqp_tool($u, 'get', 'mtls', 40 - @got, 1);
	push(@got, map { json_decode($_) } split /\n/, $o // '');
	return @got >= 40;
}, 30);
is_deeply([sort map { $_->{body} } @got], [sort @recs],
    'mtls: with its certificate, every record arrived, once');
is(wait_status($s, 'mtls', sub { queued($_[0]) == 0 &&
    ($_[0]{delivered} // 0) == 40 }, 20)->{delivered}, 40,
    'mtls: spoold counts them delivered');

for my $h (qw(nocert stranger)) {
	# Each record is tried once before the list is read: the first
	# answer comes before the rest are leased.
	my $st = wait_status($s, $h, sub { ($_[0]{deferred} // 0) == 40 },
	    60);
	is($st->{deferred}, 40, "$h: every record tried and deferred");
	is(queued($st), 40, "$h: every record still queued");
	is($st->{dead} // 0, 0, "$h: none dead");
	my (undef, $out) = amqp_tool($u, 'count', $h);
	is($out, "0\n", "$h: the queue is empty");
	(undef, $out) = spoolctl($s, undef, '--json', 'list', $h, '--limit',
	    '1');
	like($out, qr/"last_answer":"[^"]*SSL error/,
	    "$h: the last answer says TLS failed");
}

is(stop_spoold($s), 0, 'spoold stops');
diag(slurp("$s->{dir}/spoold.log") // '')
    unless Test::More->builder->is_passing;
done_testing();
