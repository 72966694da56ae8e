# TAP helpers for shell tests (sourced). kselftest-style output:
#   tap_plan N; tap_ok "name"; tap_fail "name"; tap_check "name" CMD...; tap_done
_tap_n=0 _tap_fail=0
tap_plan() { echo "TAP version 13"; echo "1..$1"; }
tap_diag() { local l; while IFS= read -r l; do echo "# $l"; done <<< "$*"; }
tap_ok() { _tap_n=$((_tap_n + 1)); echo "ok $_tap_n - $*"; }
tap_fail() { _tap_n=$((_tap_n + 1)); _tap_fail=$((_tap_fail + 1)); echo "not ok $_tap_n - $*"; }
tap_skip() { _tap_n=$((_tap_n + 1)); echo "ok $_tap_n - $1 # SKIP ${2:-}"; }
# tap_check NAME CMD...: run CMD, ok when it exits 0 (its output becomes diagnostics on failure)
tap_check() {
	local name=$1 out
	shift
	if out=$("$@" 2>&1); then tap_ok "$name"; else tap_fail "$name"; tap_diag "$out"; fi
}
tap_done() { [ "$_tap_fail" = 0 ]; exit $?; }
# tap_bail MSG: stop the whole test file now (a later step cannot work)
tap_bail() { echo "Bail out! $*"; exit 1; }
# wait_for SECONDS CMD...: poll CMD every 0.2 s until it succeeds (0) or
# time is up (1; SECONDS times $CDP_TIMEOUT_SCALE). Tests poll for a
# state; a fixed sleep is a race on a loaded machine.
wait_for() {
	local t=$1 i
	shift
	for ((i = 0; i < t * 5 * ${CDP_TIMEOUT_SCALE:-1}; i++)); do
		"$@" && return 0
		sleep 0.2
	done
	return 1
}
