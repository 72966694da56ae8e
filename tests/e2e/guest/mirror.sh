#!/bin/bash
# Guest side of test_10_mirror.sh: protect, mirror an ext4 + fio workload, verify.
. "$CDP_TOP/tests/e2e/guest/common.sh"
export CDP_CONF=$CDP_VM_WORK/cdp.conf
tap_plan 9
g_load
tap_check "cdpctl protect /dev/vda --image rbd/vol1" cdpctl protect /dev/vda --image rbd/vol1 || tap_bail "protect failed"
G_CLEAN+=("cdpctl unprotect vol1")
echo "worker_nice = 5" >> "$CDP_CONF"
if g_cdpd_start; then tap_ok "cdpd starts"; else tap_fail "cdpd starts"; tap_bail "cdpd did not start"; fi
tap_check "initial sync converges" g_wait_synced vol1 180 || tap_bail "no initial sync"
nices=$(g_cdpd_nices | sort | uniq -c | tr '\n' ' ')
if grep -qE '^ *[0-9]+ ctl 0 +[0-9]+ rep 5 *$' <<< "$nices"; then
	tap_ok "cdpd: control threads at nice 0, replication threads at worker_nice 5"
else
	tap_fail "cdpd thread priorities"; tap_diag "count/kind/nice: $nices"
fi
mkfs.ext4 -q /dev/mapper/cdp-vol1 && mkdir -p /mnt/v && mount /dev/mapper/cdp-vol1 /mnt/v
out=$(fio --name=mirror --directory=/mnt/v --size=24M --bsrange=4k-256k --rw=randwrite \
	--ioengine=psync --fsync=8 --verify=crc32c --verify_fatal=1 --numjobs=2 \
	--group_reporting --minimal 2>&1)
if [ $? = 0 ]; then tap_ok "fio verify workload on ext4 over cdp"; else tap_fail "fio workload"; tap_diag "$out"; fi
umount /mnt/v
tap_check "replica converges after the workload" g_wait_synced vol1 180
cdpctl status vol1 | sed 's/^/# /'
tap_check "cdpctl verify: replica equal to the volume" cdpctl verify vol1
tap_check "cdpctl -j list is JSON" bash -c 'cdpctl -j list | python3 -m json.tool >/dev/null'
sha256sum < /dev/vda | cut -d' ' -f1 > "$CDP_VM_WORK/origin.sha256"
kill "$CDPD_PID"; wait "$CDPD_PID"
CDPD_PID=""
tap_check "cdpd stops cleanly on SIGTERM" grep -q "stopping" "$CDP_VM_WORK/cdpd.log"
tap_done
