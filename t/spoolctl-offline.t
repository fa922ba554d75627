#!/usr/bin/perl
# spoolctl with spoold stopped: status, list and show read the spool
# read-only, with a note on standard error; the commands that change the
# spool say that spoold must run. The status columns partition each
# hook's records; list pages through them with a cursor, online and
# offline alike, without gaps or repeats.
use strict;
use warnings;
use lib 't/lib';
use SpooldTest;
use Test::More;
use Digest::MD5 qw(md5_hex);

# Bounces are refused for good, transient failures deferred for an hour,
# the rest delivered.
my $recv = start_receiver('-m', '"type":"Bounce":400',
    '-m', '"type":"TransientFailure":503');
END { kill('KILL', $recv->{pid}) if $recv && $recv->{pid} }
my $s = new_spool(hooks => <<"EOT");
[hook.d]
url = "http://127.0.0.1:$recv->{port}/d"
retry_interval = "1h"
max_retry_interval = "2h"

[hook.held]
url = "http://127.0.0.1:9/held"
EOT
my $sock = "$s->{dir}/control.sock";
my $note = "spoolctl: spoold is not running: read from the spool at " .
    "$s->{spool}, read-only\n";

start_spoold($s);
my ($st, $out, $err) = spoolctl($s, undef, 'hold', 'held');
is($st, 0, 'hold held');
my @types = (('Bounce') x 10, ('TransientFailure') x 10, ('Delivery') x 10);
my $i = 0;
my $in = join('', map { kumo_record($i++, $_) . "\n" } @types);
($st, $out) = spoolctl($s, $in, 'inject');
is($out, "injected 30 records: 30 queued, 0 discarded\n", 'inject 30');
my $d = wait_status($s, 'd', sub { ($_[0]{delivered} // 0) == 10 &&
    ($_[0]{dead} // 0) == 10 && ($_[0]{deferred} // 0) == 10 }, 30);
is_deeply([@$d{qw(delivered dead deferred)}], [10, 10, 10],
    'd: 10 delivered, 10 dead, 10 deferred');

# Pages of a listing, followed to the end; the records in order.
sub pages {
	my (@args) = @_;
	my (@recs, $from, $n);
	while (1) {
		my ($rc, $o, $e) = spoolctl($s, undef, 'list', '--json', @args,
		    defined $from ? ('--from', $from) : ());
		my $j = json_decode($o) or return (undef, "list: $e");
		push @recs, @{$j->{records}};
		$n++;
		last unless defined $j->{next};
		return (undef, 'a page that does not move') if
		    defined $from && $from eq $j->{next};
		$from = $j->{next};
		return (undef, 'too many pages') if $n > 100;
	}
	return (\@recs, $n);
}

sub ids { [ map { "$_->{hook} $_->{id}" } @{$_[0]} ] }

my ($online_all) = pages('--limit', '0');
is(scalar @$online_all, 50, 'online: 50 records listed (20 of d, 30 held)');
my ($online_pages, $np) = pages('--limit', '7');
is($np, 8, 'online: 8 pages of 7');
is_deeply(ids($online_pages), ids($online_all),
    'online pages: every record once, in order');
($st, $out, $err) = spoolctl($s, undef, 'list', 'held', '--limit', '4');
like($err, qr/^more: spoolctl list held --limit 4 --from ([0-9a-f]{40})$/,
    'list says how to get the next page');
my ($cursor) = $err =~ /--from (\S+)$/;
($st, $out, $err) = spoolctl($s, undef, 'list', 'd', '--from', $cursor);
is($st, 1, 'a cursor of another hook: exit 1');
like($err, qr/^spoolctl: list: the cursor is not of this listing$/,
    'says so');
my ($online_status) = json_decode((spoolctl($s, undef, '--json', 'status'))[1]);

# spoold running with its socket gone: the spool is not read.
rename($sock, "$sock.away") or die "rename: $!";
($st, $out, $err) = spoolctl($s, undef, 'status');
is($st, 1, 'spoold running, socket gone: exit 1');
like($err, qr/spool in use by a spoold$/, 'the spool is left to spoold');
rename("$sock.away", $sock) or die "rename: $!";

is(stop_spoold($s), 0, 'spoold stops');
my $before = md5_hex(slurp("$s->{spool}/data.mdb"));

($st, $out, $err) = spoolctl($s, undef, 'status');
is($st, 0, 'offline status: exit 0');
is($err, $note, 'offline status: the note on stderr');
like($out, qr/^HOOK\s+STATE\s+READY\s+DEFERRED\s+INFLIGHT\s+HELD\s+DEAD\s+OLDEST\s+DELIVERED\s+FAILED\s+WORKERS\n/,
    'offline status: the header');
like($out, qr/^d\s+active\s+0\s+10\s+0\s+0\s+10\s+\d+[smhd]\s+10\s+10\s+0$/m,
    'offline status: d');
like($out, qr/^held\s+held\s+0\s+0\s+0\s+30\s+0\s+\d+[smhd]\s+0\s+0\s+0$/m,
    'offline status: held, its 30 records held');
($st, $out, $err) = spoolctl($s, undef, 'status', '--json');
my $off = json_decode($out);
my %age = map { $_ => delete $off->{hooks}{$_}{oldest_age_ms} } qw(d held);
ok($age{d} > 0 && $age{held} > 0 && $age{held} < 600_000,
    "offline status --json: the oldest queued record's age ($age{d} ms, $age{held} ms)");
is_deeply($off->{hooks}, {
    d => { ready => 0, deferred => 10, in_flight => 0, held => JSON::PP::false,
	held_records => 0, dead => 10, delivered => 10, failed => 10,
	workers => 0 },
    held => { ready => 0, deferred => 0, in_flight => 0, held => JSON::PP::true,
	held_records => 30, dead => 0, delivered => 0, failed => 0,
	workers => 0 } }, 'offline status --json: the partition');
ok($off->{offline}, 'offline status --json: "offline": true');
is($err, $note, 'offline status --json: the note on stderr');
for my $h (qw(d held)) {
	my $c = $off->{hooks}{$h};
	my $sum = 0;
	$sum += $c->{$_} for qw(ready deferred in_flight held_records dead);
	is($sum, scalar(grep { $_->{hook} eq $h } @$online_all),
	    "$h: the columns add up to the records spooled for it");
	for my $k (qw(dead delivered failed held)) {
		is($online_status->{hooks}{$h}{$k}, $c->{$k},
		    "$h: $k as spoold said it");
	}
	SKIP: {
		skip('spoold does not partition its status', 3)
		    unless exists $online_status->{hooks}{$h}{held_records};
		for my $k (qw(ready deferred held_records)) {
			is($online_status->{hooks}{$h}{$k}, $c->{$k},
			    "$h: $k as spoold said it");
		}
	}
}

my ($offline_pages) = pages('--limit', '7');
is_deeply($offline_pages, $online_pages,
    'offline pages: the same records as online, field for field');
my ($dead, $ndead) = pages('d', '--state', 'dead', '--limit', '3');
is(scalar @$dead, 10, 'offline: the 10 dead letters');
is($ndead, 4, 'in 4 pages of 3');
ok(!grep({ $_->{state} ne 'dead' } @$dead), 'all dead');
my ($deferred) = pages('d', '--state', 'deferred', '--limit', '4');
is(scalar @$deferred, 10, 'offline: the 10 deferred records, paged');
($st, $out, $err) = spoolctl($s, undef, 'list', 'held', '--limit', '2');
is($st, 0, 'offline list: exit 0');
my @rows = grep { /^[0-9a-f]{16} / } split /\n/, $out;
is(scalar @rows, 2, 'offline list: 2 rows');
like($rows[0], qr/^[0-9a-f]{16}\s+held\s+ready\s+0\s+\S+ \S+\s+-$/,
    'offline list: a held record is stored ready');
like($err, qr/^\Q$note\Emore: spoolctl list held --limit 2 --from [0-9a-f]{40}\n\z/,
    'offline list: the note and the next page on stderr');
($st, $out, $err) = spoolctl($s, undef, 'list', 'nosuch');
is($st, 1, 'offline list of an unknown hook: exit 1');
like($err, qr/^spoolctl: list: no such hook: nosuch$/, 'names it');

my $id = $dead->[0]{id};
($st, $out, $err) = spoolctl($s, undef, 'show', $id);
is($st, 0, 'offline show: exit 0');
like($out, qr/^id:\s+$id$/m, 'offline show: the id');
like($out, qr/^d\s+dead\s+1\s+-\s+400\b/m, 'offline show: dead for d');
like($out, qr/^held\s+ready\s+0\s/m, 'offline show: queued for held');
is($err, $note, 'offline show: the note');
($st, $out) = spoolctl($s, undef, 'show', '--json', $id);
my $shown = json_decode($out);
is($shown->{record}{type}, 'Bounce', 'offline show --json: the record');
ok($shown->{offline}, 'offline show --json: "offline": true');
($st, $out, $err) = spoolctl($s, undef, 'show', 'fffffff');
is($st, 1, 'offline show of an unknown id: exit 1');
like($err, qr/^spoolctl: show: no such record: fffffff$/, 'says so');

my $file = "$s->{dir}/one.ndjson";
spew($file, kumo_record(99) . "\n");
for my $cmd (['inject', $file], ['flush'], ['hold', 'd'],
    ['release', 'held'], ['requeue'], ['delete', $id], ['reload']) {
	($st, $out, $err) = spoolctl($s, undef, @$cmd);
	is($st, 1, "offline $cmd->[0]: exit 1");
	is($err, "spoolctl: spoold is not running (cannot reach $sock): " .
	    "$cmd->[0] needs it\n", "offline $cmd->[0]: says spoold must run");
}
is(md5_hex(slurp("$s->{spool}/data.mdb")), $before,
    'the spool was not written');

# A spool_dir without a spool.
my $none = new_spool();
($st, $out, $err) = spoolctl($none, undef, 'list');
is($st, 1, 'no spool: exit 1');
like($err, qr/^spoolctl: spoold is not running \(cannot reach .*\), and its spool cannot be read: \Q$none->{spool}\E: No such file or directory$/,
    'no spool: says so');
mkdir($none->{spool});
($st, $out, $err) = spoolctl($none, undef, 'status');
like($err, qr/cannot be read: \Q$none->{spool}\E\/data.mdb: No such file or directory$/,
    'an empty spool_dir: names the missing file');

# Read again by a started spoold: nothing was lost.
start_spoold($s);
my ($again) = pages('--limit', '0');
is_deeply(ids($again), ids($online_all), 'spoold finds every record again');
is(stop_spoold($s), 0, 'spoold stops');
stop_receiver($recv);

done_testing();
