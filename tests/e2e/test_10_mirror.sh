#!/bin/bash
# cdpd mirrors a protected volume (ext4 + fio verify) to RBD; the host
# reads the image back: equal to the origin, fsck clean.
# timeout: 600
. "$(dirname "$0")/../lib/e2e.sh"
e2e_setup || { tap_plan 1; tap_fail "Ceph sandbox in a netns"; tap_done; }
e2e_vm --timeout 500 --disk "$E2E_TMP/origin.img:128M" -- tests/e2e/guest/mirror.sh
rc=$?
tap_plan 2
e2e_rbd export --no-progress rbd/vol1 "$E2E_TMP/replica.img" >/dev/null 2>&1
want=$(cat "$E2E_TMP/origin.sha256" 2>/dev/null)
got=$(sha256sum < "$E2E_TMP/replica.img" | cut -d' ' -f1)
if [ -n "$want" ] && [ "$want" = "$got" ]; then
	tap_ok "RBD image read on the host equals the origin"
else
	tap_fail "RBD image read on the host equals the origin"; tap_diag "origin $want replica $got"
fi
tap_check "fsck of the replica image is clean" e2fsck -fn "$E2E_TMP/replica.img"
[ $rc = 0 ] || { echo "# guest part failed (status $rc)"; tail -n 30 "$E2E_TMP/cdpd.log" 2>/dev/null | sed 's/^/# cdpd: /'; exit 1; }
tap_done
