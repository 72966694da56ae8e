#!/bin/bash
# Drills in one VM boot: cdpd SIGKILL + restart, queue overflow + resync,
# protect --live under a writer. Every drill ends with origin == replica.
# timeout: 900
. "$(dirname "$0")/../lib/e2e.sh"
e2e_setup || { tap_plan 1; tap_fail "Ceph sandbox in a netns"; tap_done; }
e2e_vm --timeout 840 --disk "$E2E_TMP/d1.img:128M" --disk "$E2E_TMP/live.img:64M" \
	-- tests/e2e/guest/drills.sh
rc=$?
[ $rc = 0 ] || tail -n 40 "$E2E_TMP/cdpd.log" 2>/dev/null | sed 's/^/# cdpd: /'
exit $rc
