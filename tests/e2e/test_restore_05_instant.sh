#!/bin/bash
# restore --instant-onto in the VM, with dm-clone: Debian 12's kernel has no
# CONFIG_DM_CLONE, so cdpctl loads ours (kmod/dm-clone, vendored upstream)
# from the build tree ($CDP_KMOD_DIR) on top of the stock
# dm-persistent-data, and stacks it over the rbd-nbd mapped clone (source)
# and a local virtio disk (destination).
#
# The snapshot is 64 MiB: an ext4 file system in the first 32 MiB (a 6 MiB
# file), raw data behind it (random, with a 4 MiB hole). As soon as cdpctl
# says the device is usable, the application writes raw blocks into the
# second half (a 4 KiB write inside a region, a whole region, an unaligned
# write across regions, the last 4 KiB) and then mounts the file system,
# reads the snapshot's file and writes a new one, all while the background
# hydration runs. cdpctl reports progress, its completion event (with the
# target's own dm event) and swaps in a linear table. Finally the local disk
# alone (dm device removed, clone unmapped, metadata freed) is compared on
# the host byte for byte: regions the app did not write equal the snapshot,
# the ranges it wrote hold its data; and the file system holds both files.
# Then, with dm-clone unloaded and nothing to load it from, a second restore
# falls back to dm-mirror, says so and why, and still hydrates correctly.
# timeout: 300
TOP=$(cd "$(dirname "$0")/../.." && pwd)
. "$TOP/tests/lib/e2e.sh"
tap_plan 9
# netns + Ceph sandbox inside it, removed on exit (tests/lib/e2e.sh)
e2e_setup || { tap_fail "Ceph sandbox"; tap_done; }
tmp=$E2E_TMP NS=$E2E_NS
# built by `make kmod` (scripts/check.sh runs make first) for kernels without dm-clone
grep -qs '^CONFIG_DM_CLONE=[ym]' "/lib/modules/$(ls -1 /lib/modules | sort -V | tail -n1)/build/.config" ||
	[ -e "$TOP/kmod/dm-clone/dm-clone.ko" ] || tap_diag "kmod/dm-clone/dm-clone.ko is not built: run make kmod"
mkdir "$tmp/content" && head -c 6M /dev/urandom > "$tmp/content/data"
(cd "$tmp/content" && sha256sum data) > "$tmp/data.sum"
truncate -s 32M "$tmp/fs.img"
mkfs.ext4 -q -F -E lazy_itable_init=1,lazy_journal_init=1 -d "$tmp/content" "$tmp/fs.img"
# the snapshot: fs in [0, 32M), random data in [32M, 64M) but a hole at [44M, 48M)
cp --sparse=always "$tmp/fs.img" "$tmp/snap.img"
head -c 12M /dev/urandom | dd of="$tmp/snap.img" bs=1M seek=32 conv=notrunc status=none
head -c 16M /dev/urandom | dd of="$tmp/snap.img" bs=1M seek=48 conv=notrunc status=none
truncate -s 64M "$tmp/snap.img"
ip netns exec "$NS" env CEPH_CONF="$CEPH_CONF" /usr/bin/python3 "$TOP/tests/lib/sparse_import.py" \
	"$tmp/snap.img" rbd/app >/dev/null
ip netns exec "$NS" rbd --conf "$CEPH_CONF" snap create rbd/app@s1 >/dev/null 2>&1
# the application's raw writes: name, byte offset, length
WRITES="w1 $((40 << 20 | 12 << 10)) 4096
w2 $((50 << 20)) 65536
w3 $((56 << 20 | 30 << 10)) 204800
w4 $(((64 << 20) - 4096)) 4096"
while read -r n off len; do head -c "$len" /dev/urandom > "$tmp/$n"; done <<< "$WRITES"

cat > "$tmp/guest.sh" <<EOG
export CEPH_CONF=$CEPH_CONF CDP_KMOD_DIR=$TOP/kmod CDP_STATE_DIR=/run/cdpstate
R=$tmp/r; mkdir -p \$R /mnt/a
modprobe nbd; modprobe loop
# a mounted target is refused before anything is made
mkfs.ext4 -q /dev/vdb && mount /dev/vdb /mnt/a &&
	{ $TOP/ctl/cdpctl -c /run/c.db restore rbd/app --snap s1 --name app-busy \
		--instant-onto /dev/vdb >\$R/busy.out 2>\$R/busy.err; echo \$? > \$R/busy.rc; umount /mnt/a; }
rbd --conf $CEPH_CONF info rbd/app-busy > \$R/busy.clone 2>&1
# dm-clone is not preloaded here: cdpctl loads it
grep -w dm_clone /proc/modules > \$R/mods.before
cat /sys/block/vda/dev > \$R/vda.devt
dev=/dev/mapper/cdp-instant-app-s1 name=cdp-instant-app-s1
$TOP/ctl/cdpctl -j -c /run/c.db restore rbd/app --snap s1 --instant-onto /dev/vda >\$R/out 2>\$R/err &
cpid=\$!
for i in \$(seq 600); do [ -b \$dev ] && break; kill -0 \$cpid 2>/dev/null || break; sleep 0.1; done
dmsetup status \$name > \$R/status.before
dmsetup table \$name > \$R/table.before
# the application, at once: raw writes behind the file system ...
while read -r n off len; do
	dd if=$tmp/\$n of=\$dev bs=\$len count=1 seek=\$off oflag=direct,seek_bytes conv=notrunc status=none ||
		echo "write \$n failed" >> \$R/app.err
done <<'EOW'
$WRITES
EOW
dmsetup status \$name > \$R/status.raw
# ... and through the file system
mount \$dev /mnt/a || echo "mount failed" >> \$R/app.err
sha256sum < /mnt/a/data > \$R/app-read.sum
head -c 4M /dev/urandom > /mnt/a/new && sync
(cd /mnt/a && sha256sum new) > \$R/new.sum
dmsetup status \$name > \$R/status.during
wait \$cpid; echo \$? > \$R/rc
dmsetup table \$name > \$R/table.after
dmsetup info \$name > \$R/info.after
umount /mnt/a
dmsetup remove \$name
# the local disk alone
mount -o ro /dev/vda /mnt/a && (cd /mnt/a && sha256sum data new) > \$R/disk.sum
umount /mnt/a
e2fsck -fn /dev/vda > \$R/fsck 2>&1; echo \$? >> \$R/fsck
rbd-nbd list-mapped > \$R/mapped 2>&1
losetup -a > \$R/loops 2>&1
ls -A /run/cdpstate/clone-meta > \$R/metafiles 2>&1
grep -w dm_clone /proc/modules > \$R/mods.after
# the fallback: no dm-clone loaded, none installed, no build tree given
rmmod dm_clone
CDP_KMOD_DIR= $TOP/ctl/cdpctl -j -c /run/c.db restore rbd/app --snap s1 --name app-fb \
	--instant-onto /dev/vdb >\$R/fb.out 2>\$R/fb.err; echo \$? > \$R/fb.rc
EOG
vm=$(e2e_vm --timeout 280 --disk "$tmp/dest.img:80M" --disk "$tmp/dest2.img:64M" -- bash "$tmp/guest.sh" 2>&1)
R=$tmp/r

# regions hydrated / total from a clone status line
hydrated() { awk '$3 == "clone" { print $7 }' "$1" 2>/dev/null; }
json() { jsonf "$R/out" "$@"; }
jsonf() { python3 -c "import json,sys; r=json.loads(open(sys.argv[1]).read().splitlines()[int(sys.argv[2])])[0]; print(r.get(sys.argv[3], ''))" "$@" 2>/dev/null; }

if [ "$(json 0 engine)" = dm-clone ] && grep -q "^0 131072 clone .* $(cat "$R/vda.devt" 2>/dev/null) " "$R/table.before" &&
   grep -q dm_clone "$R/mods.after" && [ ! -s "$R/mods.before" ]; then
	tap_ok "dm-clone is the target: cdpctl loaded our dm-clone.ko ($(json 0 module))"
	tap_diag "$(head -1 "$R/out")"
	tap_diag "table: $(cat "$R/table.before")"
else
	tap_fail "dm-clone is the target: cdpctl loaded our dm-clone.ko"
	tap_diag "$(cat "$R/out" "$R/err" "$R/table.before" "$R/mods.before" "$R/mods.after" 2>&1 | grep -v 'hydration [0-9]')"
	tap_diag "$(tail -20 <<< "$vm")"
fi

before=$(hydrated "$R/status.before") raw=$(hydrated "$R/status.raw")
# Handed over before hydration ended ("before" < total) is the point; how
# far hydration got by the end of the app's raw writes ("raw") depends on
# the guest's and the OSD's relative speed on the day, so it is only shown.
if grep -q "usable now" "$R/err" && [ -n "$before" ] && [ "${before%/*}" -lt "${before#*/}" ] &&
   [ -n "$raw" ] && [ ! -s "$R/app.err" ] &&
   [ "$(cut -d' ' -f1 "$R/app-read.sum" 2>/dev/null)" = "$(cut -d' ' -f1 "$tmp/data.sum")" ]; then
	tap_ok "the app writes during hydration (hydrated regions $before when handed over, $raw after its raw writes) and reads the snapshot's file"
	tap_diag "status after the app also wrote 4 MiB into the fs: $(cat "$R/status.during")"
else
	tap_fail "the app writes during hydration and reads the snapshot's file"
	tap_diag "$(cat "$R/err" "$R/app.err" "$R/status.before" "$R/status.raw" "$R/app-read.sum" "$tmp/data.sum" 2>&1 | grep -v 'hydration [0-9]')"
	tap_diag "$(tail -20 <<< "$vm")"
fi

if [ "$(cat "$R/rc" 2>/dev/null)" = 0 ] && grep -q "hydration complete: .* (dm-clone event: seen)" "$R/err" &&
   [ "$(json 1 event)" = hydrated ] && [ "$(json 1 kernel_event)" = True ] &&
   grep -qE "Event number: *[1-9]" "$R/info.after"; then
	tap_ok "completion event: progress, the target's dm event, then cdpctl's (stderr and a second JSON record)"
	tap_diag "$(grep -E 'hydration' "$R/err" | tail -3)"
	tap_diag "$(sed -n 2p "$R/out")"
else
	tap_fail "completion event: progress, the target's dm event, then cdpctl's (stderr and a second JSON record)"
	tap_diag "$(cat "$R/err" "$R/out" "$R/info.after" 2>&1)"
fi

if grep -qE "^0 131072 linear $(cat "$R/vda.devt" 2>/dev/null) 0 ?$" "$R/table.after" &&
   [ "$(json 1 table)" = linear ]; then
	tap_ok "the table is switched to linear onto the local disk under the running app"
	tap_diag "$(cat "$R/table.after")"
else
	tap_fail "the table is switched to linear onto the local disk under the running app"
	tap_diag "$(cat "$R/table.after" 2>&1)"
fi

# byte for byte, on the host: the disk's first 64 MiB = snapshot + the app's raw writes
if [ -s "$R/disk.sum" ] && out=$(python3 - "$tmp" "$WRITES" <<'EOP'
import sys
tmp, writes = sys.argv[1], sys.argv[2]
snap = bytearray(open(f"{tmp}/snap.img", "rb").read())
disk = open(f"{tmp}/dest.img", "rb").read(len(snap))
ranges = []
for line in writes.splitlines():
    n, off, ln = line.split(); off, ln = int(off), int(ln)
    data = open(f"{tmp}/{n}", "rb").read()
    assert disk[off:off + ln] == data, f"{n}: the disk does not hold what the app wrote at {off}"
    snap[off:off + ln] = data
    ranges.append((off, ln))
half = 32 << 20
region = 64 << 10
bad = [i for i in range(half // region, len(snap) // region)
       if disk[i * region:(i + 1) * region] != snap[i * region:(i + 1) * region]]
assert not bad, f"regions differing from the snapshot: {bad[:10]}"
touched = len({o // region for o, l in ranges} | {(o + l - 1) // region for o, l in ranges})
print(f"{len(snap) // region - half // region} regions of the raw half checked, {touched} touched by the app")
EOP
); then
	tap_ok "on the local disk alone: regions the app did not write equal the snapshot, what it wrote is there ($out)"
else
	tap_fail "on the local disk alone: regions the app did not write equal the snapshot, what it wrote is there"
	tap_diag "$out"
fi

if [ -s "$R/disk.sum" ] && grep -q "$(cut -d' ' -f1 "$tmp/data.sum")  data" "$R/disk.sum" &&
   grep -q "$(cut -d' ' -f1 "$R/new.sum")  new" "$R/disk.sum" && [ "$(tail -1 "$R/fsck")" = 0 ]; then
	tap_ok "the file system on the local disk: the snapshot's file, the app's new file, fsck clean"
else
	tap_fail "the file system on the local disk: the snapshot's file, the app's new file, fsck clean"
	tap_diag "$(cat "$R/disk.sum" "$R/new.sum" "$R/fsck" 2>&1)"
fi

if [ -e "$R/mapped" ] && ! grep -q /dev/nbd "$R/mapped" && ! grep -q clone-meta "$R/loops" &&
   [ ! -s "$R/metafiles" ]; then
	tap_ok "after hydration the clone is unmapped and the metadata loop device and file are gone"
else
	tap_fail "after hydration the clone is unmapped and the metadata loop device and file are gone"
	tap_diag "$(cat "$R/mapped" "$R/loops" "$R/metafiles" 2>&1)"
fi

if [ "$(cat "$R/fb.rc" 2>/dev/null)" = 0 ] && [ "$(jsonf "$R/fb.out" 0 engine)" = dm-mirror ] &&
   jsonf "$R/fb.out" 0 fallback | grep -q "dm-clone cannot be loaded" &&
   grep -q "warning: dm-clone cannot be loaded" "$R/fb.err" && cmp -s -n $((64 << 20)) "$tmp/snap.img" "$tmp/dest2.img"; then
	tap_ok "without a loadable dm-clone: dm-mirror, with the reason in the output, and the disk equals the snapshot"
	tap_diag "fallback: $(jsonf "$R/fb.out" 0 fallback)"
else
	tap_fail "without a loadable dm-clone: dm-mirror, with the reason in the output, and the disk equals the snapshot"
	tap_diag "$(cat "$R/fb.rc" "$R/fb.out" "$R/fb.err" 2>&1 | grep -v 'hydration [0-9]')"
fi
if [ "$(cat "$R/busy.rc" 2>/dev/null)" != 0 ] && grep -q "/dev/vdb is in use (mounted" "$R/busy.err" &&
   [ -s "$R/busy.clone" ] && ! grep -q "size" "$R/busy.clone"; then
	tap_ok "a mounted --instant-onto disk is refused before a clone is made: $(cat "$R/busy.err")"
else
	tap_fail "a mounted --instant-onto disk is refused before a clone is made"
	tap_diag "$(cat "$R/busy.rc" "$R/busy.err" "$R/busy.clone" 2>&1)"
fi
tap_done
