#!/bin/bash
# Guest side of test_11_fs.sh: ext4 on cdp with discards, write-zeroes,
# fsync; prefix consistency at FLUSH markers; replica fsck clean and equal.
# The origin is a loop device on a guest tmpfs: its discards read back as
# zeroes, as the replica's punched holes do.
. tests/lib/tap.sh
. tests/kernel/guest/cdp-common.sh
tap_plan 10
mkdir -p "$T/fs" "$T/mnt"
modprobe loop
mount -t tmpfs -o size=400m tmpfs "$T/fs"
truncate -s 96M "$T/fs/origin" "$T/fs/replica"
truncate -s 1M "$T/fs/meta"
O=$(losetup -f --show "$T/fs/origin")
M=$(losetup -f --show "$T/fs/meta")
fs_cleanup() {
	umount "$T/mnt" 2>/dev/null
	cdp_cleanup_devs
	losetup -d "$O" "$M" 2>/dev/null
	# loop detach is asynchronous: retry the umount briefly
	wait_for 5 umount "$T/fs" 2>/dev/null || umount -l "$T/fs"
	rm -rf "$T"
}
trap fs_cleanup EXIT
R=$T/fs/replica

tap_check "dm-cdp.ko loads" cdp_load
tap_check "table on a loop origin" cdp_create c2 "$O" "$M" fsvol 4 region_kb 128 queue_mb 16
dmsetup status c2 >/dev/null 2>&1 || tap_bail "no cdp device"
# Blocks 0..199 of the area at 80 MiB are written by seqwriter.py.
consumer_start fsvol "$R" --check-prefix $((80 * 2048)):200
wait_for 60 state_is c2 replicating || tap_diag "not replicating: $(dmsetup status c2)"

tap_check "mkfs.ext4 (discards the device) on cdp" mkfs.ext4 -q -F /dev/mapper/c2 72M
tap_check "mount -o discard" mount -o discard /dev/mapper/c2 "$T/mnt"
work() {
	set -e
	for i in $(seq 1 12); do
		dd if=/dev/urandom of="$T/mnt/f$i" bs=64k count=$((i * 3)) status=none
	done
	sync
	fio --name=fsv --directory="$T/mnt" --size=8m --bsrange=4k-256k --rw=randwrite \
		--verify=crc32c --do_verify=1 --fsync=4 --randrepeat=0 >/dev/null
	cp -r /usr/share/doc/bash "$T/mnt/doc"
	rm -f "$T/mnt"/f[2468]
	fstrim "$T/mnt"
	sha256sum "$T/mnt"/f* > "$T/sums"
	umount "$T/mnt"
}
tap_check "files, fio verify, delete with online discard, fstrim, umount" work
tap_check "prefix-consistency writer (200 x write + fdatasync)" \
	python3 tests/kernel/guest/seqwriter.py /dev/mapper/c2 $((80 * 2048)) 200
blk() {
	blkdiscard -f -o $((88 << 20)) -l $((1 << 20)) /dev/mapper/c2 &&
	dd if=/dev/urandom of=/dev/mapper/c2 bs=1M count=2 seek=90 oflag=direct status=none &&
	blkdiscard -f -z -o $((90 << 20)) -l $((1 << 20)) /dev/mapper/c2
}
tap_check "blkdiscard and blkdiscard -z (write zeroes)" blk

if consumer_finish 120; then
	tap_ok "consumer drained to sync; every FLUSH marker saw a prefix-consistent image"
else
	tap_fail "consumer drained to sync; every FLUSH marker saw a prefix-consistent image"
	tap_diag "$(cat "$T/consumer.log")"
fi
tap_diag "$(tail -n2 "$T/consumer.log")"
if out=$(same_content "$T/fs/origin" "$R" 2>&1); then
	tap_ok "replica == origin"
else
	tap_fail "replica == origin"; tap_diag "$out"
fi
if grep -q " [1-9][0-9]* discards, [1-9][0-9]* zeroes" "$T/consumer.log" &&
   out=$(fsck.ext4 -fn "$R" 2>&1); then
	tap_ok "replica fsck clean; discards and write-zeroes were replicated"
else
	tap_fail "replica fsck clean; discards and write-zeroes were replicated"; tap_diag "$out"
fi
tap_done
