#!/bin/sh
# Runs every libFuzzer target in BUILDDIR/fuzz/ for SECONDS each, keeping
# a corpus per target in BUILDDIR/fuzz-corpus/NAME. Exits non-zero when
# any target found a crash or a disagreement (its reproducer is left in
# BUILDDIR/fuzz-crashes/NAME/).
#
# usage: sh t/fuzz.sh BUILDDIR SECONDS
#
# Inputs may reach FUZZ_MAX_LEN bytes (default 8192: enough to nest past
# jansson's depth limit of 2048).

set -u

if [ $# -ne 2 ]; then
	echo "usage: sh t/fuzz.sh BUILDDIR SECONDS" >&2
	exit 2
fi
dir=$1
secs=$2
maxlen=${FUZZ_MAX_LEN:-8192}
status=0
found=0

for f in "$dir"/fuzz/*; do
	[ -f "$f" ] && [ -x "$f" ] || continue
	found=1
	name=$(basename "$f")
	corpus=$dir/fuzz-corpus/$name
	crashes=$dir/fuzz-crashes/$name
	mkdir -p "$corpus" "$crashes"
	echo "fuzz: $name for ${secs}s"
	if ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	    "$f" -max_total_time="$secs" -max_len="$maxlen" \
	    -print_final_stats=1 -artifact_prefix="$crashes/" "$corpus" \
	    >"$dir/fuzz-$name.log" 2>&1; then
		runs=$(sed -n 's/^stat::number_of_executed_units: *//p' \
		    "$dir/fuzz-$name.log")
		echo "fuzz: $name ok, ${runs:-?} runs"
	else
		echo "fuzz: $name FAILED; see $dir/fuzz-$name.log and $crashes/" >&2
		tail -n 30 "$dir/fuzz-$name.log" >&2
		status=1
	fi
done
if [ $found -eq 0 ]; then
	echo "fuzz: no targets in $dir/fuzz/" >&2
	exit 1
fi
exit $status
