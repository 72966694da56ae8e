#!/bin/bash
# The VM rig itself: status passing, splat detection, power cut, timeout.
# timeout: 300
. "$(dirname "$0")/../lib/tap.sh"
RUN=$(dirname "$0")/../../scripts/vm/run.sh
tap_plan 4

out=$("$RUN" --timeout 120 -- bash -c 'echo guest-$(uname -r); exit 7' 2>&1); rc=$?
if [ $rc = 7 ] && grep -q "^guest-$(ls /lib/modules | sort -V | tail -n1)" <<< "$out"; then
	tap_ok "guest runs the command and returns its status"
else
	tap_fail "guest runs the command and returns its status (rc=$rc)"; tap_diag "$out"
fi

# A kernel crash must fail the run and show the splat.
out=$("$RUN" --timeout 120 -- bash -c 'echo c > /proc/sysrq-trigger; sleep 30' 2>&1); rc=$?
if [ $rc = 125 ] && grep -q "Kernel panic" <<< "$out"; then
	tap_ok "kernel crash detected (status 125, panic shown)"
else
	tap_fail "kernel crash detected (rc=$rc)"; tap_diag "$(tail -n 30 <<< "$out")"
fi

out=$("$RUN" --timeout 120 --kill-on CUT-HERE -- bash -c 'echo CUT-HERE; sleep 60' 2>&1); rc=$?
if [ $rc = 137 ]; then tap_ok "power cut on pattern"; else tap_fail "power cut on pattern (rc=$rc)"; fi

out=$("$RUN" --timeout 25 -- sleep 300 2>&1); rc=$?
if [ $rc = 124 ]; then tap_ok "hung guest times out"; else tap_fail "hung guest times out (rc=$rc)"; fi
tap_done
