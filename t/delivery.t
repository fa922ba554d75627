#!/usr/bin/perl
# Records injected into spoold arrive at the hooks: one record per
# request as the bytes received, batches as JSON arrays, NDJSON, each
# hook's type filter; the delivered set is the injected set.
use strict;
use warnings;
use lib 't/lib';
use SpooldTest;
use Test::More;

my $rcv = start_receiver();
my $s = new_spool(hooks => <<"EOT");
[hook.single]
url = "$rcv->{url}/single"

[hook.batched]
url = "$rcv->{url}/batched"
batch_size = 10

[hook.lines]
url = "$rcv->{url}/lines"
format = "ndjson"
batch_size = 7

[hook.bounces]
url = "$rcv->{url}/bounces"
types = ["Bounce"]
EOT
start_spoold($s);

my @recs = map { kumo_record($_) } 1 .. 200;
my $r = post($s, '/log', 'application/x-ndjson', join("\n", @recs));
is($r->{status}, 200, '200 records accepted');
my @bounces = grep { /"type":"Bounce"/ } @recs;

for my $h (qw(single batched lines)) {
	# A lease ends a moment after its outcome is committed: wait for both.
	my $st = wait_status($s, $h, sub { ($_[0]{delivered} // 0) >= 200 &&
	    ($_[0]{in_flight} // 1) == 0 }, 60);
	is($st->{delivered}, 200, "$h: 200 delivered");
	is($st->{ready} + $st->{deferred} + $st->{in_flight}, 0,
	    "$h: nothing left queued");
}
my $st = wait_status($s, 'bounces', sub { ($_[0]{delivered} // 0) >= @bounces }, 30);
is($st->{delivered}, scalar @bounces, 'bounces: only the Bounce records');

my $reqs = receiver_requests($rcv);
# The receiver does not log the path: tell the hooks apart by body shape.
my (@single, @batched, @lines);
for my $q (@$reqs) {
	my $ct = $q->{headers}{'content-type'} // '';
	if ($ct =~ /ndjson/) {
		push @lines, $q;
	} elsif ($q->{body} =~ /^\[/) {
		push @batched, $q;
	} else {
		push @single, $q;
	}
}
my %sent = map { $_ => 1 } @recs;
my $exact = grep { $sent{Encode::encode_utf8($_->{body})} } @single;
is(scalar @single, 200 + @bounces, 'one request per record for the one-record hooks');
is($exact, scalar @single, 'each one-record body is a record exactly as received');
ok(!grep({ ($_->{headers}{'content-type'} // '') ne 'application/json' } @single),
    'one-record requests say application/json');
like($single[0]{headers}{'user-agent'} // '', qr{^spoold/}, 'User-Agent spoold/VERSION');
ok(!grep({ exists $_->{headers}{expect} } @$reqs), 'no Expect header');

my $max = 0;
for my $q (@batched) {
	my $n = scalar @{JSON::PP->new->decode(Encode::encode_utf8($q->{body}))};
	$max = $n if $n > $max;
}
ok($max <= 10 && $max > 1, "batches hold at most batch_size records (largest $max)");
my $lmax = 0;
for my $q (@lines) {
	my @l = split /\n/, $q->{body};
	$lmax = @l if @l > $lmax;
	like($q->{body}, qr/\n\z/, 'NDJSON bodies end with a newline') if $q == $lines[0];
}
ok($lmax <= 7, "NDJSON requests hold at most batch_size lines ($lmax)");

my %want;
$want{canon($_)}++ for @recs;
for my $set ([batched => \@batched], [lines => \@lines]) {
	my %got;
	for my $q (@{$set->[1]}) {
		my $body = Encode::encode_utf8($q->{body});
		if ($set->[0] eq 'lines') {
			$got{canon($_)}++ for grep { /\S/ } split /\n/, $body;
		} else {
			my $c = JSON::PP->new->utf8->canonical;
			$got{$c->encode($_)}++ for @{$c->decode($body)};
		}
	}
	is_deeply(\%got, \%want, "$set->[0]: the delivered set is the injected set, once each");
}

is(stop_spoold($s), 0, 'spoold stops cleanly');
my $d = spooldump($s, qw(single batched lines bounces));
is(scalar @{$d->{records}}, 0, 'delivered records are gone from the spool');
is_deeply($d->{counts}{single}, [0, 0, 0, 200, 0], 'counts: 200 delivered');
stop_receiver($rcv);
done_testing();
