#!/bin/bash
# Guest half of demo.sh (runs inside the VM): protect a volume, mirror a
# file system to Ceph, snapshot it consistently, change it, restore the
# snapshot as a clone and compare.
set -euo pipefail
W=$CDP_VM_WORK
export CDP_CONF=$W/cdp.conf PATH=$CDP_TOP/ctl:$PATH
export CEPH_CONF=$(sed -n 's/^ceph_conf = //p' "$CDP_CONF")
export CEPH_ARGS="--keyring $(sed -n 's/^keyring = //p' "$CDP_CONF")"
say() { printf '\n\033[1m-- %s\033[0m\n' "$*"; }
run() { printf '\033[2m# %s\033[0m\n' "$*"; "$@"; }
wait_synced() {
	local i
	for ((i = 0; i < 600; i++)); do
		cdpctl -j status "$1" | python3 -c 'import json,sys; v=json.load(sys.stdin)[0]; sys.exit(0 if v["lag_records"] == 0 and v["state"] == "replicating" and v["consistent"] else 1)' && return 0
		sleep 0.5
	done
	return 1
}
cleanup() {
	umount /mnt/restored 2>/dev/null || true
	umount /mnt/demo 2>/dev/null || true
	[ -n "${CDPD:-}" ] && kill "$CDPD" 2>/dev/null && wait "$CDPD" 2>/dev/null
	true
}
trap cleanup EXIT

say "loading dm-cdp.ko into $(uname -r)"
insmod kmod/dm-cdp.ko
mkdir -p /var/lib/cdp /mnt/demo /mnt/restored

say "protecting /dev/vda: replica rbd/demo in the Ceph sandbox"
run cdpctl protect /dev/vda --image rbd/demo
cdpd -f 2>>"$W/cdpd.log" &
CDPD=$!
sleep 1
run cdpctl status demo
say "initial sync (the whole volume is copied once)"
wait_synced demo
run cdpctl status demo

say "an ext4 file system on /dev/mapper/cdp-demo, written while mirrored"
mkfs.ext4 -q /dev/mapper/cdp-demo
mount /dev/mapper/cdp-demo /mnt/demo
dd if=/dev/urandom of=/mnt/demo/important.db bs=1M count=24 status=none
sync
run cdpctl status demo
wait_synced demo
sha_before=$(sha256sum < /mnt/demo/important.db)

say "application-consistent snapshot: freeze, mark, thaw (cdpd snapshots at the mark)"
run cdpctl snap create demo --name before-change --freeze /mnt/demo --protect
run cdpctl snap list demo

say "the application changes its data after the snapshot"
dd if=/dev/urandom of=/mnt/demo/important.db bs=1M count=4 conv=notrunc status=none
sync
echo "now:      $(sha256sum < /mnt/demo/important.db | cut -c1-16)..."
echo "snapshot: $(cut -c1-16 <<< "$sha_before")..."

say "restore the snapshot as a clone, mapped on this host"
t0=$(date +%s.%N)
dev=$(cdpctl restore demo --snap before-change --name demo-restored --map nbd | grep -o '/dev/nbd[0-9]*' | head -n1)
t1=$(date +%s.%N)
echo "restored to $dev in $(python3 -c "print(round($t1 - $t0, 2))") s"
mount -o ro,noload "$dev" /mnt/restored
sha_restored=$(sha256sum < /mnt/restored/important.db)
if [ "$sha_restored" = "$sha_before" ]; then
	echo "the restored file equals the file at snapshot time"
else
	echo "MISMATCH between the restored file and the snapshot"; exit 1
fi
umount /mnt/restored
rbd-nbd unmap "$dev" || true

say "verify: volume vs replica, region by region"
umount /mnt/demo
run cdpctl verify demo
kill "$CDPD"; wait "$CDPD" || true
CDPD=""
say "done in the VM"
