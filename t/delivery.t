#!/usr/bin/perl
# Records injected into spoold arrive at the hooks: one record per
# request as the bytes received, batches as JSON arrays, NDJSON, each
# hook's type filter; the delivered set is the injected set. Records with
# \u0000 in keys and values too, through log_parameters and spoolctl show.
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

# \u0000 is JSON (RFC 8259) in a key as in a value, and a mail header can
# bring one: such records are taken and delivered byte for byte, a NUL in
# the type is no type a hook names, and log_parameters match keys with it.
my %nr = map { $_ => start_receiver() } qw(one dlv lp);
my $ns = new_spool(hooks => <<"EOT");
[hook.one]
url = "$nr{one}{url}/one"

[hook.dlv]
url = "$nr{dlv}{url}/dlv"
types = ["Delivery"]

[hook.lp]
url = "$nr{lp}{url}/lp"
log_parameters = { meta = ["campaign"], headers = ["Subject", "X-*"] }

[hook.never]
url = "http://127.0.0.1:9/never"
EOT
start_spoold($ns);
my @nul = (
	'{"type":"Delivery","foo\u0000bar":42,"v":"\u0000","meta":' .
	    '{"campaign":"c\u0000","campaign\u0000":1,"note":"n"},"headers":' .
	    '{"Subject":"a\u0000b","Subject\u0000":"s","X-Nul\u0000":"x",' .
	    '"Other":"\u0000o","Nested":{"k\u0000":["\u0000"]}}}',
	'{"type":"Deliv\u0000ery","id":"1"}',
	'{"type":"Delivery\u0000","id":"2"}',
	'{"ty\u0000pe":"Delivery","id":"3"}',
);
$r = post($ns, '/log', 'application/json', $nul[0]);
is($r->{status}, 200, '\u0000 in keys and values: 200');
is_deeply($r->{json}, { accepted => 1, queued => 1, discarded => 0 },
    '\u0000: the record is queued');
$r = post($ns, '/log', 'application/x-ndjson', "$nul[1]\n$nul[2]\n");
is($r->{status}, 200, '\u0000 in the type, NDJSON: 200');
$r = post($ns, '/log', 'application/json', "[$nul[3]]");
is($r->{status}, 200, '\u0000 in the key "type", in an array: 200');

for my $h (qw(one lp)) {
	my $st = wait_status($ns, $h, sub { ($_[0]{delivered} // 0) >= 4 &&
	    ($_[0]{in_flight} // 1) == 0 }, 30);
	is($st->{delivered}, 4, "\\u0000: $h delivered the 4 records");
}
$st = wait_status($ns, 'dlv', sub { ($_[0]{delivered} // 0) >= 1 &&
    ($_[0]{in_flight} // 1) == 0 }, 30);
is($st->{delivered} + queued($st), 1,
    '\u0000: only the Delivery record is routed to types = ["Delivery"]');
my @bodies = sort map { Encode::encode_utf8($_->{body}) }
    @{receiver_requests($nr{one})};
is_deeply(\@bodies, [sort @nul], '\u0000: each record arrives byte for byte');
@bodies = map { Encode::encode_utf8($_->{body}) }
    @{receiver_requests($nr{dlv})};
is_deeply(\@bodies, [$nul[0]], '\u0000: the Delivery hook gets only Delivery');
my $projected = '{"type":"Delivery","foo\u0000bar":42,"v":"\u0000","meta":' .
    '{"campaign":"c\u0000"},"headers":{"Subject":"a\u0000b",' .
    '"X-Nul\u0000":"x"}}';
@bodies = sort map { Encode::encode_utf8($_->{body}) }
    @{receiver_requests($nr{lp})};
is_deeply(\@bodies, [sort($projected, @nul[1 .. 3])],
    '\u0000: log_parameters match keys with their NUL, \u0000 kept escaped');

my ($cst, $out) = spoolctl($ns, undef, '--json', 'list', 'never');
my @ids = map { $_->{id} }
    @{(json_decode($out // '') // {})->{records} // []};
is(scalar @ids, 4, '\u0000: the records wait for the hook that fails');
my (%shown, %human);
for my $id (@ids) {
	($cst, $out) = spoolctl($ns, undef, 'show', $id);
	is($cst, 0, "show $id: exit 0");
	$human{$1} = 1 if ($out // '') =~ /^record:   (.*)$/m;
	($cst, $out) = spoolctl($ns, undef, '--json', 'show', $id);
	my $j = json_decode($out // '');
	$shown{canon(json_encode($j->{record}))} = 1 if ref $j->{record};
}
is_deeply(\%human, { map { $_ => 1 } @nul },
    'show prints each record as received');
is_deeply(\%shown, { map { canon($_) => 1 } @nul },
    'show --json: each record as the JSON object it is');

is(stop_spoold($ns), 0, 'spoold stops cleanly');
$d = spooldump($ns, 'never');
is_deeply([sort @{$d->{records}}], [sort @nul],
    '\u0000: the spool holds the records byte for byte');
stop_receiver($_) for values %nr;
done_testing();
