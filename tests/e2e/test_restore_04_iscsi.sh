#!/bin/bash
# restore --iscsi: the clone is exported by tgt (rbd backing store; tgtd
# runs inside the test's netns next to the Ceph sandbox), the VM logs in
# with open-iscsi's iscsiadm using the line cdpctl printed, mounts the file
# system and reads the file back. Then --unexport removes the target.
# timeout: 178
TOP=$(cd "$(dirname "$0")/../.." && pwd)
. "$TOP/tests/lib/tap.sh"
tap_plan 4
NS=cdpiscsi$$
tmp=$(mktemp -d)
# tgtd takes control ports 0-32767 only
export CDP_TGT_CONTROL_PORT=$((20000 + $$ % 12000))
tpid=
cleanup() {
	# tgtd ignores SIGTERM while targets exist
	[ -n "$tpid" ] && { kill -9 "$tpid"; wait "$tpid"; } 2>/dev/null
	"$TOP/scripts/ceph/stop.sh" "$tmp/ceph" >/dev/null 2>&1
	"$TOP/scripts/vm/netns.sh" destroy "$NS" >/dev/null 2>&1
	rm -f "/var/run/tgtd/socket.$CDP_TGT_CONTROL_PORT" "/var/run/tgtd/socket.$CDP_TGT_CONTROL_PORT.lock"
	rm -rf "$tmp"
}
trap cleanup EXIT

"$TOP/scripts/vm/netns.sh" create "$NS" 10.231.0.1/24 >/dev/null
if out=$("$TOP/scripts/ceph/start.sh" "$tmp/ceph" --netns "$NS" --addr 10.231.0.1 2>&1); then
	eval "$(grep -E '^[A-Z_]+=' <<< "$out")"
else
	tap_fail "Ceph sandbox"; tap_diag "$out"; tap_done
fi
nsx() { ip netns exec "$NS" env CEPH_CONF="$CEPH_CONF" CDP_TGT_CONTROL_PORT=$CDP_TGT_CONTROL_PORT "$@"; }
mkdir "$tmp/content" && head -c 2M /dev/urandom > "$tmp/content/data" && sha256sum < "$tmp/content/data" > "$tmp/data.sum"
truncate -s 256M "$tmp/fs.img"
mkfs.ext4 -q -F -E lazy_itable_init=1,lazy_journal_init=1 -d "$tmp/content" "$tmp/fs.img"
nsx /usr/bin/python3 "$TOP/tests/lib/sparse_import.py" "$tmp/fs.img" rbd/app >/dev/null
nsx rbd snap create rbd/app@s1 >/dev/null 2>&1

nsx tgtd -f -C "$CDP_TGT_CONTROL_PORT" --iscsi portal=10.231.0.1:3260 >"$tmp/tgtd.log" 2>&1 &
tpid=$!
for i in $(seq 50); do tgtadm -C "$CDP_TGT_CONTROL_PORT" --lld iscsi --mode target --op show >/dev/null 2>&1 && break; sleep 0.2; done

out=$(nsx "$TOP/ctl/cdpctl" -c "$tmp/catalog.db" -j restore rbd/app --snap s1 --iscsi --allow 10.231.0.2 2>&1)
login=$(/usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)[0]['login'])" <<< "$out" 2>/dev/null)
if [ -n "$login" ] && grep -q "10.231.0.1:3260" <<< "$login" &&
   tgtadm -C "$CDP_TGT_CONTROL_PORT" --lld iscsi --mode target --op show | grep -q "Backing store path: rbd/app-s1"; then
	tap_ok "restore --iscsi: tgt target with the rbd backing store, login line printed"
	tap_diag "$login"
else
	tap_fail "restore --iscsi: tgt target with the rbd backing store, login line printed"; tap_diag "$out"
fi

cat > "$tmp/guest.sh" <<EOG
t() { echo "\$(date +%T) \$*" >> $tmp/glog; }
mkdir -p /var/lib/iscsi /run/lock/iscsi /mnt/i
# module autoload runs in the initramfs, not the chroot: load the disk driver too
modprobe iscsi_tcp; modprobe sd_mod
iscsid
sleep 1
t login
$login > $tmp/login.log 2>&1 || { cat $tmp/login.log; exit 1; }
t logged in
# the node appears before the capacity is read: wait for a size too
for i in \$(seq 150); do [ -b /dev/sda ] && [ "\$(cat /sys/block/sda/size 2>/dev/null)" -gt 0 ] 2>/dev/null && break; sleep 0.2; done
t "sda size \$(cat /sys/block/sda/size 2>&1)"
blkid /dev/sda >> $tmp/glog 2>&1
mount -t ext4 -o ro /dev/sda /mnt/i || { cat /sys/block/sda/size; exit 1; }
t mounted
sha256sum < /mnt/i/data > $tmp/guest.sum
umount /mnt/i
iscsiadm -m node --logoutall=all >/dev/null
EOG
vm=$("$TOP/scripts/vm/run.sh" --timeout 130 --netns "$NS" --work "$tmp" -- bash "$tmp/guest.sh" 2>&1)
if [ -s "$tmp/guest.sum" ] && cmp -s "$tmp/guest.sum" "$tmp/data.sum"; then
	tap_ok "the VM logs in with iscsiadm, mounts the file system, the file is intact"
else
	tap_fail "the VM logs in with iscsiadm, mounts the file system, the file is intact"
	tap_diag "$(tail -25 <<< "$vm")"; tap_diag "$(tail -5 "$tmp/tgtd.log")"
	tap_diag "guest: $(cat "$tmp/glog" 2>&1)"
fi

out=$(nsx "$TOP/ctl/cdpctl" -c "$tmp/catalog.db" restore rbd/app --snap s1 --iscsi 2>&1)
if [ $? = 1 ] && grep -q "already exists" <<< "$out"; then
	tap_ok "a second export of the same clone name is refused"
else
	tap_fail "a second export of the same clone name is refused"; tap_diag "$out"
fi
out=$(nsx "$TOP/ctl/cdpctl" restore --unexport rbd/app-s1 2>&1)
if [ $? = 0 ] && ! tgtadm -C "$CDP_TGT_CONTROL_PORT" --lld iscsi --mode target --op show | grep -q app-s1; then
	tap_ok "restore --unexport removes the target"
else
	tap_fail "restore --unexport removes the target"; tap_diag "$out"
fi
tap_done
