#!/bin/bash
# Boot 2 of test_13_powercut.sh: reload the table on the same disks; only
# the regions dirty at the cut are resynced; replica == origin.
. tests/lib/tap.sh
. tests/kernel/guest/cdp-common.sh
tap_plan 7
O=/dev/vda M=/dev/vdb R=/dev/vdc
cdp_load || tap_bail "module"
tap_check "table reloads on the metadata of the crashed boot" cdp_create c4 $O $M pvol 2 region_kb 64
dmsetup status c4 >/dev/null 2>&1 || tap_bail "no device"
a=$(cdp_status_word c4 7)
if [ -n "${PC_ACKED:-}" ] && [ "$a" -ge "$PC_ACKED" ]; then
	tap_ok "the superblock kept the acked seq while running: $a (boot 1: $PC_ACKED)"
else
	tap_fail "acked seq after the power cut is $a, boot 1 had acked ${PC_ACKED:-?} a second before"
fi
d=$(cdp_dirty c4)
if [ "$d" -gt 0 ] && [ "$d" -le 128 ]; then
	tap_ok "after the power cut $d of 1024 regions are dirty, all within the written 128"
else
	tap_fail "dirty regions after the power cut: $d (expected 1..128)"; tap_diag "$(dmsetup status c4)"
fi
consumer_start pvol $R
consumer_finish 90 || tap_diag "$(cat "$T/consumer.log")"
r=$(cdp_status_word c4 9)
if [ "$r" = "$d" ]; then
	tap_ok "exactly the $d dirty regions were resynced"
else
	tap_fail "resynced $r regions, dirty were $d"; tap_diag "$(dmsetup status c4)"
fi
tap_check "replica == origin after power cut + resync" same_content $O $R
# Clean shutdown: acked regions are cleared and the superblock marked clean.
cdp_remove c4
cdp_create c4 $O $M pvol 2 region_kb 64
tap_check "clean remove + reload: no dirty region, nothing to resync" test "$(cdp_dirty c4)" = 0
tap_check "metadata of another volume_id is refused" bash -c \
	"! dmsetup create c4b --table \"0 $(blockdev --getsz $O) cdp $O $M othervol\" 2>/dev/null"
tap_done
