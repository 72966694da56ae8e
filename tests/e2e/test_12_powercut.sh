#!/bin/bash
# VM power cut while a protected volume is written and mirrored; after the
# reboot only dirty regions resync and the replica equals the origin.
# timeout: 900
. "$(dirname "$0")/../lib/e2e.sh"
e2e_setup || { tap_plan 1; tap_fail "Ceph sandbox in a netns"; tap_done; }
disks=(--disk "$E2E_TMP/o.img:128M" --disk "$E2E_TMP/unused.img:8M" --disk "$E2E_TMP/state.img:64M")
e2e_vm --timeout 420 --kill-on CDP-POWER-CUT-NOW "${disks[@]}" -- tests/e2e/guest/powercut.sh boot1
rc=$?
if [ $rc != 137 ]; then
	echo "not ok - power cut did not happen (status $rc)"
	exit 1
fi
e2e_vm --timeout 420 "${disks[@]}" -- tests/e2e/guest/powercut.sh boot2
rc=$?
[ $rc = 0 ] || tail -n 30 "$E2E_TMP/cdpd.log" 2>/dev/null | sed 's/^/# cdpd: /'
exit $rc
