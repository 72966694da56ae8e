#!/bin/bash
# Run the test suites and print one closing line "N passed, N failed, N skipped".
#
# tests/run.sh [-j N] [SUITE|FILE]...     suites: unit kernel e2e archive (default: all)
#
# Every test prints TAP (ok / not ok lines) and exits 0 (pass), 1 (fail) or
# 4 (skip). A test that fails without printing "not ok" still counts as one
# failure, so a crash or timeout is never lost. A file may set its timeout
# with a line "# timeout: SECONDS" (default 600); $CDP_TIMEOUT_SCALE (an
# integer, default 1) multiplies it and every VM's --timeout, for slower
# kernels (scripts/kernel-debug.sh). Logs: tests/results/ ($CDP_TEST_RESULTS).
#
# -j N runs N test files at once (default: the number of CPUs, at most 2;
# $CDP_TEST_JOBS overrides): each VM test is one single-threaded QEMU, and
# every test makes its own temp dirs, namespaces and Ceph ports. A test's
# output is printed whole when it ends.
set -uo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"
RESULTS=${CDP_TEST_RESULTS:-$TOP/tests/results}
mkdir -p "$RESULTS"

JOBS=${CDP_TEST_JOBS:-$(nproc)}
[ "$JOBS" -gt 2 ] && JOBS=2
if [ "${1:-}" = -j ]; then JOBS=$2; shift 2; fi

pass=0 fail=0 skip=0
failed_names=()

tests_of() {
	case "$1" in
	unit) for f in tests/unit/test_*; do
		[ -x "$f" ] && [ "${f%.c}" = "$f" ] && echo "$f"; done ;;
	*) for f in tests/"$1"/test_*.sh; do [ -e "$f" ] && echo "$f"; done ;;
	esac
}

logname() { local n=${1#tests/}; echo "$RESULTS/${n//\//_}.log"; }

# Run one test in the background: its log, then its exit status in LOG.rc.
start_one() {
	local t=$1 log to
	log=$(logname "$t")
	rm -f "$log.rc"
	to=$(sed -n 's/^# timeout: *\([0-9]*\).*/\1/p' "$t" 2>/dev/null | head -n1)
	to=$((${to:-600} * ${CDP_TIMEOUT_SCALE:-1}))
	(
		start=$SECONDS
		if [ "${t#tests/unit/}" != "$t" ]; then
			CMOCKA_MESSAGE_OUTPUT=TAP timeout -k 10 "$to" "$t" > "$log" 2>&1 </dev/null
		else
			timeout -k 10 "$to" bash "$t" > "$log" 2>&1 </dev/null
		fi
		rc=$?
		echo "$rc $((SECONDS - start)) $to" > "$log.tmp" && mv "$log.tmp" "$log.rc"
	) &
}

# Print a finished test's log and count its results.
finish_one() {
	local t=$1 name log rc secs to n_ok n_fail n_skip
	name=${t#tests/}
	log=$(logname "$t")
	read -r rc secs to < "$log.rc"
	echo "# ---- $name"
	cat "$log"
	# a SKIP directive makes a test skipped whether "ok" or "not ok" (cmocka
	# prints "not ok N # SKIP")
	n_ok=$(grep -cE '^ok [0-9]+' "$log")
	n_skip=$(grep -cE '^(not )?ok [0-9]+.*# *(SKIP|skip)' "$log")
	n_fail=$(grep -E '^not ok [0-9]+' "$log" | grep -cvE '# *(SKIP|skip)')
	n_ok=$((n_ok - $(grep -cE '^ok [0-9]+.*# *(SKIP|skip)' "$log")))
	if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
		echo "not ok - $name: timed out after ${to}s"
		n_fail=$((n_fail + 1))
	elif [ "$rc" = 4 ] && [ "$n_fail" = 0 ]; then
		[ "$n_ok$n_skip" = 00 ] && n_skip=1
	elif [ "$rc" != 0 ] && [ "$n_fail" = 0 ]; then
		echo "not ok - $name: exited with status $rc without reporting a failure"
		n_fail=1
	else
		# every "1..N" plan (a file may print several, e.g. two VM boots)
		# must be matched by as many results: a test that stopped early fails
		local planned ran
		planned=$(sed -n 's/^1\.\.\([0-9][0-9]*\).*/\1/p' "$log" | awk '{s += $1} END {print s + 0}')
		ran=$(grep -cE '^(not )?ok [0-9]+' "$log")
		if [ "$planned" -gt 0 ] && [ "$planned" != "$ran" ]; then
			echo "not ok - $name: planned $planned results, reported $ran"
			n_fail=$((n_fail + 1))
		fi
	fi
	pass=$((pass + n_ok)) fail=$((fail + n_fail)) skip=$((skip + n_skip))
	[ "$n_fail" != 0 ] && failed_names+=("$name")
	echo "# ---- $name: $n_ok passed, $n_fail failed, $n_skip skipped (${secs}s)"
}

args=("$@")
[ ${#args[@]} -gt 0 ] || args=(unit kernel e2e archive)
queue=()
for a in "${args[@]}"; do
	if [ -f "$a" ]; then queue+=("$a"); else while read -r t; do queue+=("$t"); done < <(tests_of "$a"); fi
done

running=()
next=0
t0=$SECONDS
while [ $next -lt ${#queue[@]} ] || [ ${#running[@]} -gt 0 ]; do
	while [ $next -lt ${#queue[@]} ] && [ ${#running[@]} -lt "$JOBS" ]; do
		start_one "${queue[$next]}"
		running+=("${queue[$next]}")
		next=$((next + 1))
	done
	still=()
	for t in ${running[@]+"${running[@]}"}; do
		if [ -e "$(logname "$t").rc" ]; then finish_one "$t"; else still+=("$t"); fi
	done
	running=(${still[@]+"${still[@]}"})
	[ ${#running[@]} -gt 0 ] && sleep 0.5
done
wait

echo "# ${#queue[@]} test files in $((SECONDS - t0))s with $JOBS at a time"
for n in ${failed_names[@]+"${failed_names[@]}"}; do echo "# failed: $n"; done
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" = 0 ]
