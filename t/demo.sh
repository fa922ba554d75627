#!/bin/sh
# make demo: spoold end to end on a built-in default configuration, in a
# temporary directory, on free loopback ports: records in over HTTP and
# spoolctl, durably stored, delivered to a local webhook receiver by a
# one-record hook and a batched one. Usage: demo.sh BUILDDIR
set -eu

B=$1
dir=$(mktemp -d /tmp/spoold-demo-XXXXXX)
pid=
rpid=

cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	[ -n "$rpid" ] && kill "$rpid" 2>/dev/null && wait "$rpid" 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT INT TERM

say() { printf '\n==> %s\n' "$*"; }

# A bounded wait for a condition, 20 ms at a time.
wait_for() {
	i=0
	until eval "$1"; do
		i=$((i + 1))
		[ $i -lt "${2:-500}" ] || { echo "demo: timed out: $1" >&2; exit 1; }
		sleep 0.02
	done
}

"$B/t/receiver" -o "$dir/received.log" >"$dir/receiver.port" &
rpid=$!
wait_for '[ -s "$dir/receiver.port" ]'
rport=$(awk '{ print $2 }' "$dir/receiver.port")
port=$(perl -MIO::Socket::INET -e \
    'print IO::Socket::INET->new(Listen=>1,LocalAddr=>"127.0.0.1",LocalPort=>0)->sockport')

cat >"$dir/spoold.conf" <<EOT
spool_dir = "$dir/spool"
listen = ["127.0.0.1:$port"]
control_socket = "$dir/control.sock"
pid_file = "$dir/spoold.pid"

# Every record, one per request, as received.
[hook.events]
url = "http://127.0.0.1:$rport/events"

# Bounces and transient failures, up to 100 per request as a JSON array.
[hook.bounces]
url = "http://127.0.0.1:$rport/bounces"
types = ["Bounce", "TransientFailure"]
batch_size = 100
max_batch_latency = "100ms"
EOT

start() {
	"$B/spoold" -d -f "$dir/spoold.conf" 2>>"$dir/spoold.log" &
	pid=$!
	wait_for 'curl -sf "http://127.0.0.1:$port/health" >/dev/null' || \
	    { cat "$dir/spoold.log"; exit 1; }
}

status() { "$B/spoolctl" -f "$dir/spoold.conf" status; }

say "a webhook receiver listens on 127.0.0.1:$rport"
say "configuration check: spoold -n (first lines)"
"$B/spoold" -n -f "$dir/spoold.conf" | sed -n '1,4p;/configuration OK/p'

rec() {
	printf '{"type":"%s","id":"%s","sender":"a@example.com","recipient":"b@example.net","queue":"example.net","timestamp":%s,"response":{"code":250,"content":"OK"},"meta":{"tenant":"demo"},"headers":{"Subject":"caf\\u00e9"}}' \
	    "$1" "$2" "$(date +%s)"
}
i=0
while [ $i -lt 1000 ]; do
	case $((i % 4)) in
	0) t=Reception ;; 1) t=Delivery ;; 2) t=Bounce ;; 3) t=TransientFailure ;;
	esac
	rec $t "n$i"; echo
	i=$((i + 1))
done >"$dir/batch.ndjson"

say "spoold holds deliveries while we look: spoolctl hold, then status"
start
"$B/spoolctl" -f "$dir/spoold.conf" hold events
"$B/spoolctl" -f "$dir/spoold.conf" hold bounces

say "POST one record as a JSON object"
rec Reception r1 | curl -s -H 'Content-Type: application/json' \
    --data-binary @- "http://127.0.0.1:$port/log"; echo

say "POST 1000 records as NDJSON (answered once fsynced)"
curl -s -H 'Content-Type: application/x-ndjson' \
    --data-binary @"$dir/batch.ndjson" "http://127.0.0.1:$port/log"; echo

say "a bad record refuses the whole request, nothing stored"
printf '%s\n{"type":"Delivery",\n' "$(rec Delivery bad)" | curl -s \
    -w ' (HTTP %{http_code})' -H 'Content-Type: application/x-ndjson' \
    --data-binary @- "http://127.0.0.1:$port/log"; echo

say "spoolctl status before delivery"
status

say "kill -9 spoold and start it again: nothing acknowledged is lost"
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
pid=
start
status

say "release the hooks: the workers deliver"
"$B/spoolctl" -f "$dir/spoold.conf" release events
"$B/spoolctl" -f "$dir/spoold.conf" release bounces
delivered() {
	"$B/spoolctl" -f "$dir/spoold.conf" --json status | perl -MJSON::PP -e \
	    'my $j = decode_json(join "", <STDIN>); my $n = 0;
	     $n += $_->{ready} + $_->{deferred} + $_->{in_flight} for values %{$j->{hooks}};
	     exit($n == 0 ? 0 : 1)'
}
wait_for delivered 1500

say "spoolctl status after delivery"
status

say "what the receiver got"
perl -MJSON::PP -ne '
	my $q = decode_json($_);
	my $n = $q->{body} =~ /^\[/ ? scalar @{decode_json($q->{body})} : 1;
	$req++; $recs += $n; $batched++ if $n > 1;
	END { printf "%d requests, %d records, %d of them batched requests\n",
	    $req, $recs, $batched }' "$dir/received.log"
echo "first request:"
head -n 1 "$dir/received.log" | cut -c 1-300

say "stop (SIGTERM)"
kill "$pid"
wait "$pid" || true
pid=
echo "demo done"
