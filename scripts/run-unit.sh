#!/bin/sh
# Runs every cmocka unit test binary given; prints one summary line.
# Each binary's own output stays visible; the exit code is non-zero if any failed.
set -u
passed=0
failed=0
for t in "$@"; do
	if "$t"; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		echo "unit: FAILED: $t" >&2
	fi
done
echo "unit test programs: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
