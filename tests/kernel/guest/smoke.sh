#!/bin/bash
# Guest side of test_01_smoke.sh.
. tests/lib/tap.sh
tap_plan 4
# /sys/module: loaded or built in (the debug kernel)
tap_check "dm-mod loaded" test -d /sys/module/dm_mod
tap_check "dm-cdp.ko loads" insmod kmod/dm-cdp.ko
sectors=$(blockdev --getsz /dev/vda)
dd if=/dev/urandom of=/tmp/pat bs=1M count=4 status=none
rw_check() {
	dmsetup create "$1" --table "0 $sectors $2" || return 1
	dd if=/tmp/pat of="/dev/mapper/$1" bs=1M oflag=direct status=none &&
	dd if="/dev/mapper/$1" of=/tmp/back bs=1M count=4 iflag=direct status=none &&
	cmp /tmp/pat /tmp/back
	local r=$?
	dmsetup remove "$1"
	return $r
}
tap_check "dm-linear write/read" rw_check smoke-linear "linear /dev/vda 0"
dd if=/dev/zero of=/dev/vdb bs=4k count=1 status=none
tap_check "cdp target write/read" rw_check smoke-cdp "cdp /dev/vda /dev/vdb smoke"
tap_done
