#!/bin/bash
# Snapshots through the real cdpd and dm-cdp in the VM, while fio writes:
# the pre hook stops fio and checksums the files, freeze + MARK, thaw, the
# post hook resumes fio; cdpd applies up to the mark and snapshots. The
# restored clone fscks clean and holds exactly those files. One more
# snapshot under load, freeze only, gives the freeze window (FIFREEZE to
# FITHAW) as a diagnostic (a TCG guest: see docs/BENCHMARKS.md).
# timeout: 400
. "$(dirname "$0")/../lib/e2e.sh"
e2e_setup || { tap_plan 1; tap_fail "Ceph sandbox in a netns"; tap_done; }
e2e_vm --timeout 380 --disk "$E2E_TMP/origin.img:32M" -- tests/e2e/guest/snap_cdpd.sh
rc=$?
[ $rc = 0 ] || { echo "# guest part failed (status $rc)"; tail -n 20 "$E2E_TMP/cdpd.log" 2>/dev/null | sed 's/^/# cdpd: /'; exit 1; }
