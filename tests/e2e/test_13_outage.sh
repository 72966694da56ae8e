#!/bin/bash
# Ceph outage drill: the OSD is stopped for 60 s under load. Async volumes
# keep serving (tracking, then resync); a sync volume degrades or fails the
# write as configured; all converge and verify equal afterwards.
# timeout: 900
. "$(dirname "$0")/../lib/e2e.sh"
e2e_setup || { tap_plan 1; tap_fail "Ceph sandbox in a netns"; tap_done; }
(
	while [ ! -e "$E2E_TMP/osd-stop" ]; do sleep 0.5; [ -d "$E2E_TMP" ] || exit 0; done
	"$E2E_TOP/scripts/ceph/osd.sh" "$E2E_TMP/ceph" stop >/dev/null 2>&1
	touch "$E2E_TMP/osd-stopped"
	sleep 60
	"$E2E_TOP/scripts/ceph/osd.sh" "$E2E_TMP/ceph" start >/dev/null 2>&1
	touch "$E2E_TMP/osd-started"
) &
watcher=$!
e2e_vm --timeout 840 --disk "$E2E_TMP/o1.img:64M" --disk "$E2E_TMP/s1.img:32M" \
	--disk "$E2E_TMP/s2.img:32M" -- tests/e2e/guest/outage.sh
rc=$?
kill $watcher 2>/dev/null
wait $watcher 2>/dev/null
[ $rc = 0 ] || tail -n 40 "$E2E_TMP/cdpd.log" 2>/dev/null | sed 's/^/# cdpd: /'
exit $rc
