#!/bin/bash
# Guest half of bench-snap.sh. Prints "BENCH snap MODE freeze_ms mark_ms sync_ms".
set -uo pipefail
. "$CDP_TOP/tests/e2e/guest/common.sh"
export CDP_CONF=$CDP_VM_WORK/cdp.conf
N=${BENCH_SNAPS:-20} RATE=${BENCH_RATE:-2m}
g_load
mkdir -p /var/lib/cdp /mnt/s
cdpctl protect /dev/vda --image rbd/bs >/dev/null || tap_bail "protect"
g_cdpd_start || tap_bail "cdpd"
g_wait_synced bs 300 || tap_bail "initial sync"
mkfs.ext4 -q /dev/mapper/cdp-bs && mount /dev/mapper/cdp-bs /mnt/s || tap_bail "mkfs"
G_CLEAN+=("umount /mnt/s")
# the application: buffered random writes, no fsync, so dirty pages pile up
# between snapshots the way they do under a real writer
fio --name=app --directory=/mnt/s --size=64M --nrfiles=4 --bs=4k --rw=randwrite \
	--ioengine=psync --rate="$RATE" --time_based --runtime=3600 >/dev/null 2>&1 &
fpid=$!
G_CLEAN+=("kill $fpid")
sleep 5
for ((i = 0; i < N; i++)); do
	for mode in nopresync presync; do
		v=
		[ $mode = nopresync ] && v=1
		out=$(CDP_FREEZE_NO_PRESYNC=$v cdpctl -j snap create bs --name "$mode$i" \
			--freeze /mnt/s --timeout 120 2>&1) || { echo "# snap failed: $out"; continue; }
		python3 -c 'import json,sys; j=json.loads(sys.argv[1]); j=j[0] if isinstance(j,list) else j
print("BENCH snap", sys.argv[2], j["freeze_ms"], j["mark_ms"], j["sync_ms"])' "$out" "$mode"
		sleep 2
	done
done
kill $fpid
wait $fpid 2>/dev/null
