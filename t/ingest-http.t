# Ingest's HTTP/1.1 framing, byte for byte: every ambiguous or malformed
# request gets a prompt 4xx/5xx and stores nothing; what RFC 9112 allows
# (chunked bodies, pipelining, 100-continue, HTTP/1.0) is served.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use IO::Select;
use IO::Socket::INET;
use Test::More;
use Time::HiRes qw(time);
use SpooldTest;

my $s = new_spool(hooks => <<'EOT');
[hook.all]
url = "http://127.0.0.1:9/never"
EOT
start_spoold($s);

# Sends raw bytes and reads until the server closes or 5 s pass: a
# prompt answer is one that comes, whole, well within that.
sub raw {
	my ($bytes, %o) = @_;
	my $c = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
	    PeerPort => $s->{port}, Proto => 'tcp') or die "connect: $!";
	binmode($c);
	print $c $bytes;
	my ($out, $t0) = ('', time);
	my $sel = IO::Select->new($c);
	my $until = $t0 + ($o{wait} // 5);
	while ((my $left = $until - time) > 0) {
		last unless $sel->can_read($left);
		my $n = sysread($c, my $buf, 65536);
		last unless $n;
		$out .= $buf;
		last if $o{answers} && (() = $out =~ /^HTTP\/1\.1 \d+/mg) >=
		    $o{answers} && $out =~ /\r\n\r\n/;
	}
	close($c);
	return $out;
}

sub status { $_[0] =~ /^HTTP\/1\.1 (\d{3}) / ? $1 : 'none' }
sub stored { queued(status_of($s, 'all')) }

my $rec = '{"type":"Delivery","id":"framing"}';
my $len = length $rec;
my $ct = "Content-Type: application/json\r\n";
my $post = "POST /log HTTP/1.1\r\nHost: t\r\n";

my @bad = (
	['two different Content-Length', 400,
	    "$post${ct}Content-Length: $len\r\nContent-Length: 5\r\n\r\n$rec"],
	['a Content-Length list that disagrees', 400,
	    "$post${ct}Content-Length: $len, 5\r\n\r\n$rec"],
	['Transfer-Encoding: gzip, chunked', 501,
	    "$post${ct}Transfer-Encoding: gzip, chunked\r\n\r\n"],
	['Transfer-Encoding: identity', 501,
	    "$post${ct}Transfer-Encoding: identity\r\n\r\n"],
	['an unknown transfer coding', 501,
	    "$post${ct}Transfer-Encoding: x-custom\r\n\r\n"],
	['Transfer-Encoding and Content-Length', 400,
	    "$post${ct}Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n"
	    . "0\r\n\r\n"],
	['HTTP/1.1 without Host', 400,
	    "POST /log HTTP/1.1\r\n${ct}Content-Length: $len\r\n\r\n$rec"],
	['two Host fields', 400,
	    "${post}Host: u\r\n${ct}Content-Length: $len\r\n\r\n$rec"],
	['NUL in Content-Type', 400,
	    "${post}Content-Type: application/json\0x\r\n"
	    . "Content-Length: $len\r\n\r\n$rec"],
	['NUL in another value', 400,
	    "$post${ct}X-Trace: a\0b\r\nContent-Length: $len\r\n\r\n$rec"],
	['a control byte in a value', 400,
	    "$post${ct}X-Trace: a\x01b\r\nContent-Length: $len\r\n\r\n$rec"],
	['DEL in a value', 400,
	    "$post${ct}X-Trace: a\x7fb\r\nContent-Length: $len\r\n\r\n$rec"],
	['a bare CR', 400,
	    "$post${ct}X-Trace: a\rb\r\nContent-Length: $len\r\n\r\n$rec"],
	['obsolete line folding', 400,
	    "$post${ct}X-Trace: a\r\n b\r\nContent-Length: $len\r\n\r\n$rec"],
	['white space before a colon', 400,
	    "$post${ct}Content-Length : $len\r\n\r\n$rec"],
	['a malformed chunk size', 400,
	    "$post${ct}Transfer-Encoding: chunked\r\n\r\nzz\r\n$rec\r\n0\r\n\r\n"],
	['HTTP/2.0 on the wire', 505,
	    "POST /log HTTP/2.0\r\nHost: t\r\n${ct}Content-Length: $len\r\n\r\n"
	    . $rec],
	['a head over 16 KiB', 431,
	    "$post${ct}X-Big: " . ('a' x 17000) . "\r\n\r\n"],
	['an expectation other than 100-continue', 417,
	    "$post${ct}Expect: 200-ok\r\nContent-Length: $len\r\n\r\n$rec"],
);
for my $b (@bad) {
	my ($name, $code, $bytes) = @$b;
	my $t0 = time;
	my $out = raw($bytes);
	is(status($out), $code, "$name: $code");
	like($out, qr/\r\nConnection: close\r\n/i, "$name: connection closed");
	ok(time - $t0 < 4, "$name: answered at once");
	like($out, qr/\{"error":"[^"]+"\}\z/, "$name: the error says why");
}
is(stored(), 0, 'none of the refused requests stored anything');

# What the RFC allows is served.
my $out = raw("$post${ct}Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    . sprintf("%x;ext=1\r\n%s\r\n", 10, substr($rec, 0, 10))
    . sprintf("%x\r\n%s\r\n", $len - 10, substr($rec, 10))
    . "0\r\nX-Trailer: t\r\n\r\n");
is(status($out), 200, 'chunked body with an extension and a trailer: 200');
like($out, qr/"queued":1/, 'chunked body: one record queued');
is(stored(), 1, 'chunked body: stored');

$out = raw("$post${ct}Content-Length: $len, $len\r\nConnection: close\r\n\r\n"
    . $rec);
is(status($out), 200, 'a Content-Length list of one value: 200');

$out = raw(("$post${ct}Content-Length: $len\r\n\r\n$rec") x 3 .
    "GET /health HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
my @codes = $out =~ /HTTP\/1\.1 (\d{3}) /g;
is_deeply(\@codes, [200, 200, 200, 200], 'four pipelined requests, in order');
like($out, qr/ok\n\z/, 'the last pipelined answer is the health check');
is(stored(), 5, 'the pipelined records stored');

# A chunked body and, in the same bytes, a next request larger than
# what was read of the first: the first request's head must outlive the
# bytes read after it.
my $nd = join('', map { qq({"type":"Delivery","id":"c$_"}\n) } 1 .. 150);
$out = raw("${post}Content-Type: application/x-ndjson\r\n"
    . "Transfer-Encoding: chunked\r\n\r\n"
    . sprintf("%x\r\n%s\r\n0\r\n\r\n", length $nd, $nd)
    . "GET /health HTTP/1.1\r\nHost: t\r\nX-Pad: " . ('p' x 9000)
    . "\r\nConnection: close\r\n\r\n");
@codes = $out =~ /HTTP\/1\.1 (\d{3}) /g;
is_deeply(\@codes, [200, 200], 'a chunked body, then a large pipelined head');
like($out, qr/"queued":150/, 'the chunked records queued');
is(stored(), 155, 'and stored');

$out = raw("$post${ct}Expect: 100-continue\r\nContent-Length: $len\r\n\r\n",
    answers => 1, wait => 2);
like($out, qr/\AHTTP\/1\.1 100 Continue\r\n\r\n/, 'Expect: 100-continue: 100');

$out = raw("GET /health HTTP/1.0\r\n\r\n");
is(status($out), 200, 'HTTP/1.0 without Host: 200');
like($out, qr/\r\nConnection: close\r\n/, 'HTTP/1.0: closed after');

$out = raw("HEAD /health HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
like($out, qr/Content-Length: 3\r\n.*\r\n\r\n\z/s,
    'HEAD: the length of GET, no body');

$out = raw("\r\nGET /health HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
is(status($out), 200, 'an empty line before the request is ignored');

# A body over max_request_size is refused before it is read, and the
# client still hears why rather than a reset.
$out = raw("$post${ct}Content-Length: 99999999999\r\n\r\n" . ('x' x 100000));
is(status($out), 413, 'Content-Length over max_request_size: 413');

is(stop_spoold($s), 0, 'SIGTERM: spoold exits 0');
done_testing();
