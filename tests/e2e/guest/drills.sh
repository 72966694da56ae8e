#!/bin/bash
# Guest side of test_11_drills.sh. Each drill ends with origin == replica.
#  1. cdpd SIGKILLed mid-stream, restarted: redelivery after the acked seq
#  2. queue overflow under load (no daemon, 1 MiB queue): tracking, then
#     resync with a pre-resync snapshot, then equal
#  3. protect --live of a mounted dm-linear device with a writer running;
#     activate after a reboot; unprotect after LVM reloaded the device
. "$CDP_TOP/tests/e2e/guest/common.sh"
export CDP_CONF=$CDP_VM_WORK/cdp.conf
tap_plan 16
g_load
mkdir -p /var/lib/cdp

writer() {	# writer DEV SIZE_MB SEED: random writes, then a flush
	fio --name=w --filename="$1" --size="${2}M" --bsrange=4k-128k --rw=randwrite \
		--ioengine=libaio --iodepth=8 --direct=1 --randseed="$3" --minimal >/dev/null 2>&1
}

cdpctl protect /dev/vda --image rbd/d1 --queue-mb 1 || tap_bail "protect failed"
G_CLEAN+=("cdpctl unprotect d1")
g_cdpd_start || tap_bail "cdpd did not start"
g_wait_synced d1 180 || tap_bail "no initial sync"

# 1. kill -9 the daemon in the middle of a stream
writer /dev/mapper/cdp-d1 48 1 &
wpid=$!
sleep 3
g_cdpd_kill
tap_ok "cdpd SIGKILLed while the writer runs"
sleep 2
if g_cdpd_start; then tap_ok "cdpd restarted"; else tap_fail "cdpd restarted"; fi
if wait $wpid; then tap_ok "writer saw no error across the daemon crash"; else tap_fail "writer saw an error across the daemon crash"; fi
tap_check "replica catches up after the restart" g_wait_synced d1 240
tap_check "verify after daemon crash: equal" cdpctl verify d1

# 2. overflow: no daemon, a 1 MiB queue, 32 MiB of writes
kill "$CDPD_PID"; wait "$CDPD_PID"; CDPD_PID=""
writer /dev/mapper/cdp-d1 32 2
st=$(g_status d1 state)
if [ "$st" = tracking ]; then tap_ok "overflow without a daemon: tracking"; else tap_fail "overflow: state $st, want tracking"; fi
g_cdpd_start
tap_check "resync converges" g_wait_synced d1 240
tap_check "verify after overflow + resync: equal" cdpctl verify d1
snaps=$(rbd --conf "$(sed -n 's/^ceph_conf = //p' "$CDP_CONF")" --keyring "$(sed -n 's/^keyring = //p' "$CDP_CONF")" snap ls rbd/d1 2>/dev/null)
if grep -q cdp-pre-resync- <<< "$snaps"; then tap_ok "pre-resync snapshot taken"; else tap_fail "pre-resync snapshot taken"; tap_diag "$snaps"; fi

# 3. live: a mounted dm-linear device with a writer running
dmsetup create lin --table "0 $(blockdev --getsz /dev/vdb) linear /dev/vdb 0" || tap_bail "dm-linear"
G_CLEAN+=("dmsetup remove lin")
mkfs.ext4 -q /dev/mapper/lin && mkdir -p /mnt/l && mount /dev/mapper/lin /mnt/l
G_CLEAN+=("umount /mnt/l")
( set -e; for i in $(seq 1 400); do dd if=/dev/urandom of=/mnt/l/f$((i % 20)) bs=16k count=4 conv=fsync status=none; done ) &
wpid=$!
sleep 1
tap_check "protect --live on the mounted device while it is written" \
	cdpctl protect --live /dev/mapper/lin --image rbd/live
G_CLEAN+=("cdpctl unprotect live")
if wait $wpid; then tap_ok "the writer saw no error"; else tap_fail "the writer saw an error"; fi
umount /mnt/l
if g_wait_synced live 240 && cdpctl verify live; then
	tap_ok "live volume converges and verifies equal"
else
	tap_fail "live volume converges and verifies equal"; tap_diag "$(cdpctl status live)"
fi

# 3b. A reboot: LVM brings the device back on its own table, the copy is
# gone, and writes land before cdp is back. activate slides cdp under it
# again and resyncs every region.
t=$(dmsetup table cdp-origin-live)
dmsetup reload lin --table "$t" && dmsetup resume lin && dmsetup remove cdp-origin-live
dd if=/dev/urandom of=/dev/mapper/lin bs=64k count=16 seek=512 oflag=direct status=none
tap_check "activate after a reboot puts cdp under the device again" cdpctl activate live
if g_wait_synced live 240 && cdpctl verify live; then
	tap_ok "writes made before activate reach the replica (full resync): equal"
else
	tap_fail "writes made before activate reach the replica (full resync): equal"
	tap_diag "$(cdpctl status live; dmsetup table lin)"
fi

# 3c. LVM reloads the device while protected (lvextend, pvmove: here the
# same mapping in two lines): unprotect leaves that table alone instead of
# putting back the copy of the table it had at protect.
half=$(($(blockdev --getsz /dev/vdb) / 2))
dmsetup reload lin --table "0 $half linear /dev/vdb 0
$half $half linear /dev/vdb $half" && dmsetup resume lin
tap_check "unprotect after LVM reloaded the device succeeds" cdpctl unprotect live
tap_check "the table LVM loaded is left as it is, the copy is gone" \
	bash -c '[ "$(dmsetup table lin | wc -l)" = 2 ] && ! dmsetup info cdp-origin-live >/dev/null 2>&1'
tap_done
