#!/bin/bash
# Guest side of test_14_errors.sh: operator mistakes get messages naming the fix.
. "$CDP_TOP/tests/e2e/guest/common.sh"
export CDP_CONF=$CDP_VM_WORK/cdp.conf
mkdir -p /var/lib/cdp
tap_plan 11
expect_err() {	# expect_err NAME REGEX CMD...
	local name=$1 re=$2 out rc
	shift 2
	out=$("$@" 2>&1); rc=$?
	if [ $rc != 0 ] && grep -qE -- "$re" <<< "$out"; then tap_ok "$name"; else tap_fail "$name"; tap_diag "exit $rc: $out"; fi
}
# the module is not loaded yet, and modprobe cannot find it (not installed)
expect_err "module not loaded" "dm-cdp kernel module is not loaded: modprobe dm-cdp" \
	cdpctl protect /dev/vda --image rbd/e1
g_load
expect_err "not root" "needs root" setpriv --reuid=65534 --regid=65534 --clear-groups \
	"$CDP_TOP/ctl/cdpctl" protect /dev/vda --image rbd/e1
rbd --conf "$(sed -n 's/^ceph_conf = //p' "$CDP_CONF")" --keyring "$(sed -n 's/^keyring = //p' "$CDP_CONF")" \
	create --size 16M rbd/taken
expect_err "image exists" "already exists: choose another --image" cdpctl protect /dev/vda --image rbd/taken
mkfs.ext4 -q /dev/vdb && mkdir -p /mnt/b && mount /dev/vdb /mnt/b
expect_err "device busy (mounted)" "busy \(mounted or open\): unmount it, or protect the dm/LVM device on top with --live" \
	cdpctl protect /dev/vdb --image rbd/e2
umount /mnt/b
expect_err "not a block device" "is not a block device" cdpctl protect /etc/hostname --image rbd/e3
sed "s|^ceph_conf = .*|ceph_conf = $CDP_VM_WORK/bad-ceph.conf|; s|^op_timeout_s = .*|op_timeout_s = 3|" \
	"$CDP_CONF" > /tmp/bad.conf
printf '[global]\nmon_host = v2:127.0.0.1:1\n' > "$CDP_VM_WORK/bad-ceph.conf"
expect_err "Ceph unreachable" "cannot connect to the Ceph cluster.*(is the cluster up|check the keyring)" \
	env CDP_CONF=/tmp/bad.conf cdpctl protect /dev/vda --image rbd/e4
expect_err "nothing left behind after failures" "no volume e1 in the catalog" cdpctl unprotect e1
# --meta: a device with other data is refused, not overwritten (vdb: ext4)
expect_err "--meta holding other data" "holds data that is not cdp metadata" \
	cdpctl protect /dev/vda --image rbd/e5 --meta /dev/vdb
# Old cdp metadata on --meta (a protect, synced, unprotected): a new image
# needs a full sync, not just the regions dirty in that metadata.
if cdpctl protect /dev/vda --image rbd/m1 --meta /dev/vdc &&
   timeout 120 "$CDP_TOP/tests/tools/cdp-consume" --exit-synced m1 /dev/vdb 2>/dev/null &&
   cdpctl unprotect m1; then
	tap_ok "protect --meta, sync, unprotect"
else
	tap_fail "protect --meta, sync, unprotect"
fi
# udev's stable name of the disk is what the catalog keeps (no udev here)
mkdir -p /dev/disk/by-id && ln -sf ../../vda /dev/disk/by-id/wwn-0xcdptest
cdpctl protect /dev/vda --image rbd/m2 --name m1 --meta /dev/vdc
d=$(dmsetup status cdp-m1 | awk '{print $8}')
tap_check "protect again on that --meta: every region to sync ($d)" test "${d%/*}" = "${d#*/}"
tap_check "the catalog keeps the origin as /dev/disk/by-id/wwn-*" \
	bash -c 'cdpctl -j list | grep -q "\"origin\": *\"/dev/disk/by-id/wwn-0xcdptest\""'
cdpctl unprotect m1
tap_done
