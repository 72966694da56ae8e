#!/bin/bash
# restore --instant-onto in the VM: dm-clone (or, as on Debian 12's kernel
# which lacks dm-clone, dm-mirror) over the rbd-nbd mapped clone (source)
# and a local virtio disk (destination). The application mounts
# the device as soon as cdpctl says it is usable and writes while the
# background hydration runs; cdpctl reports progress and completion, then
# swaps in a linear table. Finally the local disk alone (dm device removed,
# clone unmapped) holds the snapshot's file plus everything the app wrote.
# timeout: 178
TOP=$(cd "$(dirname "$0")/../.." && pwd)
. "$TOP/tests/lib/e2e.sh"
tap_plan 4
# netns + Ceph sandbox inside it, removed on exit (tests/lib/e2e.sh)
e2e_setup || { tap_fail "Ceph sandbox"; tap_done; }
tmp=$E2E_TMP NS=$E2E_NS
mkdir "$tmp/content" && head -c 6M /dev/urandom > "$tmp/content/data"
(cd "$tmp/content" && sha256sum data) > "$tmp/data.sum"
truncate -s 64M "$tmp/fs.img"
mkfs.ext4 -q -F -E lazy_itable_init=1,lazy_journal_init=1 -d "$tmp/content" "$tmp/fs.img"
ip netns exec "$NS" env CEPH_CONF="$CEPH_CONF" /usr/bin/python3 "$TOP/tests/lib/sparse_import.py" \
	"$tmp/fs.img" rbd/app >/dev/null
ip netns exec "$NS" rbd --conf "$CEPH_CONF" snap create rbd/app@s1 >/dev/null 2>&1

cat > "$tmp/guest.sh" <<EOG
export CEPH_CONF=$CEPH_CONF
R=$tmp/r; mkdir -p \$R /mnt/a
modprobe nbd; modprobe dm-clone; modprobe loop
dev=/dev/mapper/cdp-instant-app-s1
$TOP/ctl/cdpctl -c /run/c.db restore rbd/app --snap s1 --instant-onto /dev/vda >\$R/out 2>\$R/err &
cpid=\$!
for i in \$(seq 600); do [ -b \$dev ] && break; kill -0 \$cpid 2>/dev/null || break; sleep 0.1; done
dmsetup status \$(basename \$dev) > \$R/status.before
mount \$dev /mnt/a || { echo "mount failed" >> \$R/err; exit 1; }
# the application: reads the restored file, writes while hydration runs
head -c 4M /dev/urandom > /mnt/a/new && sync
dmsetup status \$(basename \$dev) > \$R/status.during
sha256sum < /mnt/a/data > \$R/app-read.sum
(cd /mnt/a && sha256sum new) > \$R/new.sum
wait \$cpid; echo \$? > \$R/rc
dmsetup table \$(basename \$dev) > \$R/table.after
umount /mnt/a
dmsetup remove \$(basename \$dev)
mount -o ro /dev/vda /mnt/a && (cd /mnt/a && sha256sum data new) > \$R/disk.sum
umount /mnt/a
rbd-nbd list-mapped > \$R/mapped 2>&1
EOG
vm=$("$TOP/scripts/vm/run.sh" --timeout 165 --netns "$NS" --work "$tmp" --disk "$tmp/dest.img:80M" \
	-- bash "$tmp/guest.sh" 2>&1)
R=$tmp/r
# hydration had not finished when the device was handed to the app
not_synced() { awk '$3 == "mirror" || $3 == "clone"' "$1" 2>/dev/null | grep -qE ' ([0-9]+)/([0-9]+) ' &&
	awk '{for (i = 4; i <= NF; i++) if ($i ~ /^[0-9]+\/[0-9]+$/) { split($i, a, "/"); if ($3 == "clone" && i == 5) continue; print (a[1] < a[2]) ? "yes" : "no"; exit }}' "$1" | grep -q yes; }
if grep -q "usable now" "$R/err" 2>/dev/null && not_synced "$R/status.before" &&
   [ "$(cut -d' ' -f1 "$R/app-read.sum" 2>/dev/null)" = "$(cut -d' ' -f1 "$tmp/data.sum")" ]; then
	tap_ok "device usable at once: the app mounts it and reads the snapshot's data during hydration"
	tap_diag "$(head -3 "$R/out")"
	tap_diag "status when handed over: $(cat "$R/status.before")"
	tap_diag "status after the app wrote 4 MiB: $(cat "$R/status.during")"
else
	tap_fail "device usable at once: the app mounts it and reads the snapshot's data during hydration"
	tap_diag "$(cat "$R/err" "$R/out" "$R/status.before" "$R/app-read.sum" "$tmp/data.sum" 2>&1 | grep -v 'hydration [0-9]')"
	tap_diag "$(tail -20 <<< "$vm")"
fi
if [ "$(cat "$R/rc" 2>/dev/null)" = 0 ] && grep -q "hydration complete" "$R/err" && grep -q " linear " "$R/table.after"; then
	tap_ok "completion event, then the hydrating table replaced by a linear one under the running app"
	tap_diag "$(grep -E 'hydration' "$R/err" | tail -3)"
else
	tap_fail "completion event, then the hydrating table replaced by a linear one under the running app"
	tap_diag "$(cat "$R/err" "$R/table.after" 2>&1)"
fi
if [ -s "$R/disk.sum" ] && grep -q "$(cut -d' ' -f1 "$tmp/data.sum")  data" "$R/disk.sum" &&
   grep -q "$(cut -d' ' -f1 "$R/new.sum")  new" "$R/disk.sum"; then
	tap_ok "the local disk alone holds the snapshot's file and what the app wrote"
else
	tap_fail "the local disk alone holds the snapshot's file and what the app wrote"; tap_diag "$(cat "$R/disk.sum" "$R/new.sum" 2>&1)"
fi
if [ -e "$R/mapped" ] && ! grep -q /dev/nbd "$R/mapped"; then
	tap_ok "the clone is unmapped after hydration"
else
	tap_fail "the clone is unmapped after hydration"; tap_diag "$(cat "$R/mapped" 2>&1)"
fi
tap_done
