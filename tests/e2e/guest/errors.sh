#!/bin/bash
# Guest side of test_14_errors.sh: operator mistakes get messages naming the fix.
. "$CDP_TOP/tests/e2e/guest/common.sh"
export CDP_CONF=$CDP_VM_WORK/cdp.conf
mkdir -p /var/lib/cdp
tap_plan 7
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
tap_done
