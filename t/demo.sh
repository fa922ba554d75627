#!/bin/sh
# make demo: spoold end to end on a built-in default configuration, in a
# temporary directory, on a free loopback port. Usage: demo.sh BUILDDIR
set -eu

B=$1
dir=$(mktemp -d /tmp/spoold-demo-XXXXXX)
port=$(perl -MIO::Socket::INET -e \
    'print IO::Socket::INET->new(Listen=>1,LocalAddr=>"127.0.0.1",LocalPort=>0)->sockport')
pid=

cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT INT TERM

cat >"$dir/spoold.conf" <<EOT
spool_dir = "$dir/spool"
listen = ["127.0.0.1:$port"]
control_socket = "$dir/control.sock"
pid_file = "$dir/spoold.pid"

[hook.all_events]
url = "http://127.0.0.1:9/events"
batch_size = 100
max_batch_latency = "100ms"

[hook.bounces]
url = "http://127.0.0.1:9/bounces"
types = ["Bounce", "TransientFailure"]
EOT

say() { printf '\n==> %s\n' "$*"; }

start() {
	"$B/spoold" -d -f "$dir/spoold.conf" 2>>"$dir/spoold.log" &
	pid=$!
	i=0
	until curl -sf "http://127.0.0.1:$port/health" >/dev/null; do
		i=$((i + 1))
		[ $i -lt 500 ] || { cat "$dir/spoold.log"; exit 1; }
		sleep 0.02
	done
}

say "configuration check: spoold -n"
"$B/spoold" -n -f "$dir/spoold.conf"

say "starting spoold on 127.0.0.1:$port (spool in $dir/spool)"
start

rec() {
	printf '{"type":"%s","id":"%s","sender":"a@example.com","recipient":"b@example.net","queue":"example.net","timestamp":%s,"response":{"code":250,"content":"OK"},"meta":{"tenant":"demo"},"headers":{"Subject":"caf\\u00e9"}}' \
	    "$1" "$2" "$(date +%s)"
}

say "POST one record as a JSON object"
rec Reception r1 | curl -s -H 'Content-Type: application/json' \
    --data-binary @- "http://127.0.0.1:$port/log"; echo

say "POST a JSON array of three"
{ printf '['; rec Delivery r2; printf ','; rec Bounce r3; printf ','; \
    rec TransientFailure r4; printf ']'; } | curl -s \
    -H 'Content-Type: application/json' --data-binary @- \
    "http://127.0.0.1:$port/log"; echo

say "POST 1000 records as NDJSON"
i=0
while [ $i -lt 1000 ]; do rec Delivery "n$i"; echo; i=$((i + 1)); done \
    >"$dir/batch.ndjson"
curl -s -H 'Content-Type: application/x-ndjson' \
    --data-binary @"$dir/batch.ndjson" "http://127.0.0.1:$port/log"; echo

say "a bad record refuses the whole request"
printf '%s\n{"type":"Delivery",\n' "$(rec Delivery bad)" | curl -s \
    -w ' (HTTP %{http_code})' -H 'Content-Type: application/x-ndjson' \
    --data-binary @- "http://127.0.0.1:$port/log"; echo

say "spoolctl inject"
"$B/spoolctl" -f "$dir/spoold.conf" inject "$dir/batch.ndjson"

say "spoolctl status"
"$B/spoolctl" -f "$dir/spoold.conf" status

say "kill -9 spoold, start it again: nothing acknowledged is lost"
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
pid=
start
"$B/spoolctl" -f "$dir/spoold.conf" status

say "stop (SIGTERM)"
kill "$pid"
wait "$pid" || true
pid=
echo "demo done"
