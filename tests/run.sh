#!/bin/bash
# Run the test suites and print one closing line "N passed, N failed, N skipped".
#
# tests/run.sh [SUITE|FILE]...     suites: unit kernel e2e archive (default: all)
#
# Every test prints TAP (ok / not ok lines) and exits 0 (pass), 1 (fail) or
# 4 (skip). A test that fails without printing "not ok" still counts as one
# failure, so a crash or timeout is never lost. A file may set its timeout
# with a line "# timeout: SECONDS" (default 600). Logs: tests/results/.
set -uo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"
RESULTS=$TOP/tests/results
mkdir -p "$RESULTS"

pass=0 fail=0 skip=0
failed_names=()

tests_of() {
	case "$1" in
	unit) for f in tests/unit/test_*; do
		[ -x "$f" ] && [ "${f%.c}" = "$f" ] && echo "$f"; done ;;
	*) for f in tests/"$1"/test_*.sh; do [ -e "$f" ] && echo "$f"; done ;;
	esac
}

run_one() {
	local t=$1 name log rc to n_ok n_fail n_skip
	name=${t#tests/}
	log=$RESULTS/${name//\//_}.log
	to=$(sed -n 's/^# timeout: *\([0-9]*\).*/\1/p' "$t" 2>/dev/null | head -n1)
	to=${to:-600}
	echo "# ---- $name"
	local start=$SECONDS
	if [ "${t#tests/unit/}" != "$t" ]; then
		CMOCKA_MESSAGE_OUTPUT=TAP timeout -k 10 "$to" "$t" 2>&1 | tee "$log"
	else
		timeout -k 10 "$to" bash "$t" 2>&1 | tee "$log"
	fi
	rc=${PIPESTATUS[0]}
	n_ok=$(grep -cE '^ok [0-9]+' "$log" | head -n1)
	n_skip=$(grep -cE '^ok [0-9]+.*# *(SKIP|skip)' "$log" | head -n1)
	n_fail=$(grep -cE '^not ok [0-9]+' "$log" | head -n1)
	n_ok=$((n_ok - n_skip))
	if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
		echo "not ok - $name: timed out after ${to}s"
		n_fail=$((n_fail + 1))
	elif [ "$rc" = 4 ] && [ "$n_fail" = 0 ]; then
		[ "$n_ok$n_skip" = 00 ] && n_skip=1
	elif [ "$rc" != 0 ] && [ "$n_fail" = 0 ]; then
		echo "not ok - $name: exited with status $rc without reporting a failure"
		n_fail=1
	fi
	pass=$((pass + n_ok)) fail=$((fail + n_fail)) skip=$((skip + n_skip))
	[ "$n_fail" != 0 ] && failed_names+=("$name")
	echo "# ---- $name: $n_ok passed, $n_fail failed, $n_skip skipped ($((SECONDS - start))s)"
}

args=("$@")
[ ${#args[@]} -gt 0 ] || args=(unit kernel e2e archive)
for a in "${args[@]}"; do
	if [ -f "$a" ]; then
		run_one "$a"
	else
		for t in $(tests_of "$a"); do run_one "$t"; done
	fi
done

for n in ${failed_names[@]+"${failed_names[@]}"}; do echo "# failed: $n"; done
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" = 0 ]
