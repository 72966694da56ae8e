#!/bin/bash
# Snapshots through the real cdpd and dm-cdp while fio writes; restore the
# clone with rbd-nbd; it equals the origin at the mark and fscks clean;
# freeze time, consistency group, a sync-mode volume, hook failure,
# duplicate name.
# timeout: 900
. "$(dirname "$0")/../lib/e2e.sh"
e2e_setup || { tap_plan 1; tap_fail "Ceph sandbox in a netns"; tap_done; }
e2e_vm --timeout 840 --disk "$E2E_TMP/sv.img:64M" --disk "$E2E_TMP/sv2.img:32M" \
	--disk "$E2E_TMP/sv3.img:32M" -- tests/e2e/guest/snap.sh
rc=$?
# CDP_KEEP=DIR keeps the two images of a failed comparison for a post-mortem
if [ -n "${CDP_KEEP:-}" ] && [ -e "$E2E_TMP/at-mark.keep" ]; then
	mkdir -p "$CDP_KEEP" && cp "$E2E_TMP/at-mark.keep" "$E2E_TMP/clone.img" "$E2E_TMP/cdpd.log" "$CDP_KEEP/"
fi
[ $rc = 0 ] || tail -n 30 "$E2E_TMP/cdpd.log" 2>/dev/null | sed 's/^/# cdpd: /'
exit $rc
