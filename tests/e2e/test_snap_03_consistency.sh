#!/bin/bash
# Snapshot while fio writes, in the VM: an ext4 on an RBD image (rbd-nbd)
# is the origin; `cdpctl snap create --freeze` freezes it, the protocol test
# double of cdpd (tests/lib/cdpd_double.py) checksums every file at MARK
# (while frozen) and takes the RBD snapshot. Then `restore --map nbd`: the
# clone fscks clean, mounts, and holds exactly the files seen at the mark.
# Freeze times are printed as diagnostics. (krbd and the RTO timing:
# test_restore_02_map.sh.)
# (With cdpd landed the same flow runs over dm-cdp: test_snap_04_cdpd.sh.)
# timeout: 178
TOP=$(cd "$(dirname "$0")/../.." && pwd)
. "$TOP/tests/lib/e2e.sh"
tap_plan 5
# netns + Ceph sandbox inside it, removed on exit (tests/lib/e2e.sh)
e2e_setup || { tap_fail "Ceph sandbox"; tap_done; }
tmp=$E2E_TMP NS=$E2E_NS
ip netns exec "$NS" rbd --conf "$CEPH_CONF" create --size 128M rbd/vol1

cat > "$tmp/guest.sh" <<EOG
set -u
export CEPH_CONF=$CEPH_CONF CDP_CONTROL_SOCKET=/run/cdpd.sock
R=$tmp/r; mkdir -p \$R
ok() { echo "ok \$1" >> \$R/results; }
cdpctl() { $TOP/ctl/cdpctl -c /run/cdp/catalog.db "\$@"; }
modprobe nbd; modprobe rbd
origin=\$(rbd-nbd map rbd/vol1) || exit 1
mkfs.ext4 -q \$origin && mkdir -p /mnt/o /mnt/r && mount -o noatime \$origin /mnt/o || exit 1
cdpctl snap list >/dev/null
sqlite3 /run/cdp/catalog.db "INSERT INTO volumes (name, rbd_pool, rbd_image, created_at) VALUES ('vol1','rbd','vol1',0)"
printf '#!/bin/sh\ncd "\$1" && find . -type f ! -path "./lost+found/*" | sort | xargs -r sha256sum\n' > /run/sums
chmod +x /run/sums
python3 $TOP/tests/lib/cdpd_double.py --socket /run/cdpd.sock \
	--on-mark "/run/sums /mnt/o > $tmp/r/at-mark.%N" vol1=rbd/vol1 2>\$R/double.log &
dpid=\$!
for i in \$(seq 120); do [ -S /run/cdpd.sock ] && break; sleep 0.5; done
t() { echo "\$(date +%T) \$*" >> \$R/log; }
t double up
fio --name=w --directory=/mnt/o --rw=randwrite --bs=4k --size=1M --nrfiles=4 --rate=512k \
	--time_based --runtime=120 --fsync=8 --ioengine=psync >/dev/null 2>&1 &
fpid=\$!
# fio's 4 files exist (a starved guest may take seconds to start it)
for i in \$(seq 300); do [ \$(find /mnt/o -maxdepth 1 -name 'w.*' | wc -l) -ge 4 ] && break; sleep 0.2; done
sleep 1
for i in 1; do
	cdpctl -j snap create vol1 --name s\$i --freeze /mnt/o --hook-timeout 30 >> \$R/snaps.json 2>>\$R/err || echo "snap s\$i failed" >> \$R/err
	t snap s\$i
done
kill \$fpid; wait \$fpid
kill \$dpid
# fsck + compare one clone per mapping kind
check() {
	local snap=\$1 kind=\$2 dev
	dev=\$(timeout 90 $TOP/ctl/cdpctl -c /run/cdp/catalog.db -j restore vol1 --snap \$snap --map \$kind | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["device"])') || return 1
	echo "\$kind \$dev" >> \$R/devs
	timeout 60 fsck.ext4 -fn \$dev > \$R/fsck.\$kind 2>&1 || return 1
	mount -o ro,noatime \$dev /mnt/r || return 1
	/run/sums /mnt/r > \$R/restored.\$snap
	umount /mnt/r
	[ -s \$R/restored.\$snap ] && cmp -s \$R/at-mark.\$snap \$R/restored.\$snap || return 1
	if [ \$kind = nbd ]; then rbd-nbd unmap \$dev; else rbd device unmap -o noudev \$dev; fi
}
check s1 nbd && ok nbd
t nbd
umount /mnt/o
rbd-nbd unmap \$origin
exit 0
EOG
vm=$("$TOP/scripts/vm/run.sh" --timeout 165 --netns "$NS" --work "$tmp" -- bash "$tmp/guest.sh" 2>&1)
R=$tmp/r
if [ "$(grep -c '"name"' "$R/snaps.json" 2>/dev/null)" = 1 ]; then
	tap_ok "snapshot with --freeze while fio writes"
else
	tap_fail "snapshot with --freeze while fio writes"; tap_diag "$(cat "$R/err" "$R/double.log" 2>&1)"; tap_diag "$vm"
fi
ms=$(/usr/bin/python3 -c "
import json,sys
for l in open('$R/snaps.json'):
    j=json.loads(l)[0]; print(j['name'], 'freeze_ms', j['freeze_ms'], 'mark_ms', j['mark_ms'], 'total_ms', j['total_ms'])" 2>/dev/null)
if [ -n "$ms" ]; then
	tap_ok "freeze window measured (includes the double checksumming files and snapshotting while frozen)"; tap_diag "$ms"
else
	tap_fail "freeze window measured"
fi
tap_check "checksums taken at each MARK while frozen" test -s "$R/at-mark.s1"
if grep -q "^ok nbd" "$R/results" 2>/dev/null; then
	tap_ok "restore --map nbd: clone fscks clean, files equal the state at the mark"
else
	tap_fail "restore --map nbd: clone fscks clean, files equal the state at the mark"
	tap_diag "$(cat "$R/fsck.nbd" "$R/devs" 2>&1)"; diff "$R/at-mark.s1" "$R/restored.s1" 2>&1 | head -5 | tap_diag "$(cat)"
fi
if ip netns exec "$NS" rbd --conf "$CEPH_CONF" snap ls rbd/vol1 | grep -q " s1 "; then
	tap_ok "the snapshots exist in Ceph"
else
	tap_fail "the snapshots exist in Ceph"
fi
tap_diag "guest timeline: $(cat "$R/log" 2>/dev/null)"
tap_done
