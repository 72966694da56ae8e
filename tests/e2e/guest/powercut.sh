#!/bin/bash
# Guest side of test_12_powercut.sh: "$1" is boot1 (protect, write, power
# cut) or boot2 (activate after the crash, resync, verify). The catalog and
# the file-backed metadata live on /dev/vdc, which survives the cut.
. "$CDP_TOP/tests/e2e/guest/common.sh"
export CDP_CONF=$CDP_VM_WORK/cdp.conf
g_load
mkdir -p /var/lib/cdp
case "$1" in
boot1)
	tap_plan 3
	mkfs.ext4 -q /dev/vdc && mount /dev/vdc /var/lib/cdp || tap_bail "state disk"
	tap_check "protect" cdpctl protect /dev/vda --image rbd/pc || tap_bail "protect"
	g_cdpd_start || tap_bail "cdpd"
	tap_check "initial sync" g_wait_synced pc 240 || tap_bail "sync"
	# The initial sync's bits clear lazily (about a second) and a starved
	# guest may take seconds to start fio: cut only from a clean bitmap
	# with writes in flight, else boot 2 cannot tell what the cut left.
	dirty() { g_status pc dirty_regions; }
	clean() { [ "$(dirty)" = 0 ]; }
	writing() { [ "$(dirty)" -gt 0 ]; }
	wait_for 60 clean || echo "# bits not cleared after the sync: $(dirty)"
	fio --name=w --filename=/dev/mapper/cdp-pc --size=96M --bsrange=4k-256k --rw=randwrite \
		--ioengine=libaio --iodepth=16 --direct=1 --time_based --runtime=60 >/dev/null 2>&1 &
	wait_for 60 writing || echo "# no dirty region after 60 s of fio"
	sleep 2
	cdpctl status pc | sed 's/^/# /'
	tap_ok "writing when the power goes"
	echo "CDP-POWER-CUT-NOW"
	sleep 60
	;;
boot2)
	tap_plan 5
	mount /dev/vdc /var/lib/cdp || tap_bail "state disk"
	tap_check "activate after the power cut" cdpctl activate --all || tap_bail "activate"
	j=$(cdpctl -j status pc)
	read -r dirty total <<< "$(python3 -c 'import json,sys; v=json.loads(sys.argv[1])[0]; print(v["dirty_regions"], v["regions"])' "$j")"
	echo "# after the cut: $dirty of $total regions dirty"
	if [ "$dirty" -gt 0 ] && [ "$dirty" -lt "$total" ]; then
		tap_ok "only the regions written at the cut are dirty ($dirty of $total)"
	else
		tap_fail "dirty regions after the cut: $dirty of $total"
	fi
	g_cdpd_start || tap_bail "cdpd"
	tap_check "resync converges" g_wait_synced pc 240
	resynced=$(g_status pc resynced)
	echo "# resynced $resynced regions"
	if [ "$resynced" -le "$dirty" ]; then tap_ok "resynced ($resynced) <= dirty at load ($dirty)"; else tap_fail "resynced $resynced > dirty $dirty"; fi
	tap_check "verify after power cut + resync: equal" cdpctl verify pc
	;;
esac
tap_done
