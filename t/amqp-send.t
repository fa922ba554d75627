#!/usr/bin/perl
# The AMQP transport against a real broker, without spoold (t/c/
# tool_amqpsend.c): what each record's outcome is when the broker
# confirms, returns, nacks or closes, and how the connection is made
# (TLS verified against a CA, refused without it).
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
my $n = rabbitmq_start(tls => $ca);
my $u = $n->{url};

sub send_batch {
	my ($recs, @args) = @_;
	my ($st, $out, $err) = run_cmd(join("\n", @$recs) . "\n",
	    bin('t/amqpsend'), @args);
	is($st, 0, "amqpsend @args runs") or diag($err);
	return [map { json_decode($_) } split /\n/, $out // ''];
}

sub consume {
	my ($q, $want, $secs) = @_;
	my ($st, $out, $err) = amqp_tool($u, 'get', $q, $want, $secs // 5);
	is($st, 0, "get $q") or diag($err);
	return [map { json_decode($_) } split /\n/, $out // ''];
}

my ($st, $out, $err) = amqp_tool($u, 'declare', 'q1');
is($st, 0, 'queue q1 declared') or diag($err);

# Confirmed: every record is one message with the properties.
my @recs = map { kumo_record($_) } 1 .. 3;
my $r = send_batch(\@recs, '-k', 'q1', $u);
is($r->[0]{class}, 1, 'three records confirmed: delivered');
is_deeply($r->[0]{recs}, [], 'no record otherwise');
is($r->[0]{new_conn}, 1, 'the delivery opened the connection');
my $m = consume('q1', 3);
# (json_decode leaves UTF-8 as bytes, as the records are.)
is_deeply([map { $_->{body} } @$m], \@recs,
    'the bodies are the records, in order');
is_deeply([map { $_->{properties}{message_id} } @$m], [1, 2, 3],
    'message_id: the spool ids');
is_deeply([map { $_->{properties}{type} } @$m],
    [map { json_decode($_)->{type} } @recs], 'type: the records\' type');
my @p = grep { $_->{properties}{content_type} eq 'application/json' &&
    $_->{properties}{delivery_mode} == 2 &&
    $_->{properties}{app_id} eq 'spoold' &&
    abs($_->{properties}{timestamp} - time) < 60 &&
    $_->{routing_key} eq 'q1' && $_->{exchange} eq '' } @$m;
is(scalar @p, 3, 'content_type, delivery_mode 2, app_id, timestamp, ' .
    'routing key and exchange');

# Unroutable and mandatory: returned, refused for good with the
# broker's reply; not mandatory: dropped by the broker, yet confirmed.
$r = send_batch([$recs[0]], '-k', 'nowhere', $u);
is($r->[0]{class}, 3, 'unroutable: permanent');
is($r->[0]{status}, 312, 'with the reply code 312');
is($r->[0]{text}, 'NO_ROUTE', 'and the reply text');
$r = send_batch([$recs[0]], '-k', 'nowhere', '-M', $u);
is($r->[0]{class}, 1, 'not mandatory: confirmed all the same');

# A missing exchange closes the channel: transient, with the broker's
# text, and the next delivery connects anew.
$r = send_batch([$recs[0]], '-e', 'noexch', '-b', 2, $u);
is(scalar @$r, 2, 'two deliveries');
is($r->[0]{class}, 2, 'no such exchange: transient');
is($r->[0]{status}, 404, 'status 404');
like($r->[0]{text}, qr/NOT_FOUND.*noexch/, 'the broker\'s text');
is($r->[1]{new_conn}, 1, 'the next delivery reconnects');

# A full queue that rejects publishes: the records it refused are
# nacked, transient; those it took are delivered.
($st, $out, $err) = amqp_tool($u, 'declare', 'full', 'max-length', 2,
    'overflow', 'reject-publish');
is($st, 0, 'queue full declared') or diag($err);
$r = send_batch([@recs[0 .. 2], $recs[0]], '-k', 'full', $u);
is($r->[0]{class}, 1, 'batch of four: delivered for most');
is_deeply([map { [$_->{index}, $_->{class}] } @{$r->[0]{recs}}],
    [[2, 2], [3, 2]], 'the two past the limit: transient (nack)');
like($r->[0]{recs}[0]{text}, qr/nack/, 'the text says nack');

# Nobody listening: transient, with why.
$r = send_batch([$recs[0]], '-k', 'q1', '-t', 2000,
    'amqp://guest:guest@127.0.0.1:' . free_port());
is($r->[0]{class}, 2, 'no broker: transient');
ok(length $r->[0]{text}, 'with a reason') or diag(explain($r));
$r = send_batch([$recs[0]], '-k', 'q1',
    "amqp://guest:wrong\@127.0.0.1:$n->{port}");
is($r->[0]{class}, 2, 'login refused: transient');
is($r->[0]{status}, 403, 'status 403');

# TLS: verified against the test CA; refused without it.
$r = send_batch([$recs[1]], '-k', 'q1', '-C', $ca->{ca}, $n->{amqps});
is($r->[0]{class}, 1, 'amqps with the CA: delivered');
$r = send_batch([$recs[1]], '-k', 'q1', $n->{amqps});
is($r->[0]{class}, 2, 'amqps without the CA: transient');
like($r->[0]{text}, qr/verif/i, 'because the peer does not verify');
$m = consume('q1', 5, 2);
is(scalar @$m, 1, 'one message over TLS, none without it');

# PROTO_F_LAST closes after each batch: each opens its own.
$r = send_batch([$recs[2]], '-k', 'q1', '-b', 3, '-L', $u);
is_deeply([map { $_->{new_conn} } @$r], [1, 1, 1],
    'last: every batch connects anew');
$r = send_batch([$recs[2]], '-k', 'q1', '-b', 3, $u);
is_deeply([map { $_->{new_conn} } @$r], [1, 0, 0],
    'otherwise the connection stays');
$m = consume('q1', 10, 2);
is(scalar @$m, 6, 'six more messages');

# A broker short of memory stops reading from publishers: the batch
# fails at the hook's timeout instead of hanging, and goes through once
# the broker reads again.
($st, undef, $err) = rabbitmq_ctl($n, 'set_vm_memory_high_watermark',
    '0.0000001');
is($st, 0, 'the broker blocks publishers') or diag($err);
my $big = '{"type":"Delivery","pad":"' . ('x' x 100000) . '"}';
my $t0 = time;
$r = send_batch([($big) x 300], '-k', 'q1', '-t', 2000, $u);
my $took = time - $t0;
is($r->[0]{class}, 2, 'blocked: transient');
like($r->[0]{text}, qr/within 2000 ms/, 'at the timeout');
ok($took < 10, "within a bound ($took s)");
($st, undef, $err) = rabbitmq_ctl($n, 'set_vm_memory_high_watermark',
    '0.4');
is($st, 0, 'the broker reads again') or diag($err);
$r = send_batch([($big) x 30], '-k', 'q1', '-t', 10000, $u);
is($r->[0]{class}, 1, 'then delivered');
$m = consume('q1', 30, 5);
is(scalar @$m, 30, 'thirty big messages');

done_testing();
