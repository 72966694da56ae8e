#!/bin/bash
# dm-cdp crash safety: power cut (QEMU killed) mid-write, reboot on the same
# disks, reload: only the dirty regions are resynced, replica == origin.
# timeout: 300
HERE=$(cd "$(dirname "$0")" && pwd)
RUN=$HERE/../../scripts/vm/run.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
disks=(--disk "$tmp/o.img:64M" --disk "$tmp/m.img:4M" --disk "$tmp/r.img:64M")
out=$("$RUN" --timeout 200 --kill-on POWER-CUT-NOW "${disks[@]}" -- tests/kernel/guest/powercut1.sh 2>&1)
rc=$?
if [ $rc != 137 ]; then
	echo "TAP version 13"; echo "1..1"
	echo "not ok 1 - boot 1 did not reach the power cut (status $rc)"
	grep -v '^\[' <<< "$out" | tail -n 20 | sed 's/^/# /'
	exit 1
fi
grep '^# boot 1' <<< "$out"
acked=$(sed -n 's/^# boot 1: acked \([0-9]*\).*/\1/p' <<< "$out")
"$RUN" --timeout 200 "${disks[@]}" -- env PC_ACKED="$acked" tests/kernel/guest/powercut2.sh
rc=$?
[ $rc -le 1 ] && exit $rc
echo "not ok - VM run failed (status $rc: 124 timeout, 125 kernel splat, 126 guest died)"
exit 1
