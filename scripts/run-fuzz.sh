#!/bin/sh
# Replays each fuzz target's seed corpus (tests/fuzz/corpus/NAME) and then
# fuzzes it for SECONDS with a scratch corpus, so check stays deterministic
# on what is committed and still explores a little.
#   run-fuzz.sh SECONDS BIN...
set -eu
secs=$1
shift
for bin in "$@"; do
	name=$(basename "$bin")
	seeds="tests/fuzz/corpus/${name#fuzz_}"
	work=$(mktemp -d)
	[ -d "$seeds" ] || { echo "fuzz: $name has no seed corpus in $seeds" >&2; exit 1; }
	echo "fuzz: $name: ${secs}s"
	if ! "$bin" -max_total_time="$secs" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=0 "$work" "$seeds" >"$work.log" 2>&1; then
		tail -n 60 "$work.log" >&2
		echo "fuzz: $name FAILED (crash input saved by libFuzzer above)" >&2
		rm -rf "$work" "$work.log"
		exit 1
	fi
	grep -E '^#[0-9]+.*DONE' "$work.log" | tail -n 1 || true
	rm -rf "$work" "$work.log"
done
