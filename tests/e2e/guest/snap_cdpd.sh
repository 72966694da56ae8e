#!/bin/bash
# Guest side of test_snap_04_cdpd.sh: snapshots through the real cdpd and
# dm-cdp while fio writes; restore --map nbd; freeze time.
. "$CDP_TOP/tests/e2e/guest/common.sh"
export CDP_CONF=$CDP_VM_WORK/cdp.conf
W=$CDP_VM_WORK
tap_plan 6
g_load
modprobe nbd
cdpctl protect /dev/vda --image rbd/vol1 >/dev/null || tap_bail "protect failed"
G_CLEAN+=("cdpctl unprotect vol1")
g_cdpd_start || tap_bail "cdpd did not start"
g_wait_synced vol1 120 || tap_bail "no initial sync"
mkfs.ext4 -q /dev/mapper/cdp-vol1 && mkdir -p /mnt/v /mnt/r && mount -o noatime /dev/mapper/cdp-vol1 /mnt/v
fio --name=w --directory=/mnt/v --rw=randwrite --bs=4k --size=1M --nrfiles=4 --rate=128k \
	--time_based --runtime=600 --fsync=8 --ioengine=psync >/dev/null 2>&1 &
FIO=$!
G_CLEAN+=("kill $FIO")
# fio's 4 files exist (a starved guest may take seconds to start it)
fio_files() { [ "$(find /mnt/v -maxdepth 1 -name 'w.*' | wc -l)" -ge 4 ]; }
wait_for 60 fio_files || echo "# fio has not made its files after 60 s"
sleep 1
sums() { (cd "$1" && find . -type f ! -path './lost+found/*' | sort | xargs -r sha256sum); }
# The application quiesce: the pre hook stops fio (its job processes are
# children of $FIO) and records what the snapshot must contain, the post
# hook lets it go on.
# A process is stopped (state T) only once its write in the kernel has
# returned: the checksums are taken after that, not after a fixed sleep.
cat > /run/pre.sh <<EOF
#!/bin/bash
pids="$FIO \$(pgrep -P $FIO)"
kill -STOP \$pids
for i in \$(seq 300); do
	busy=0
	for p in \$pids; do
		[ "\$(cut -d' ' -f3 /proc/\$p/stat 2>/dev/null)" = T ] || busy=1
	done
	[ \$busy = 0 ] && break
	sleep 0.1
done
cd /mnt/v && find . -type f ! -path "./lost+found/*" | sort | xargs -r sha256sum > $W/at-mark
EOF
printf '#!/bin/sh\nkill -CONT %s $(pgrep -P %s)\n' "$FIO" "$FIO" > /run/post.sh
chmod +x /run/pre.sh /run/post.sh
out=$(cdpctl -j snap create vol1 --name app1 --freeze /mnt/v --pre /run/pre.sh --post /run/post.sh --protect 2>&1)
if [ $? = 0 ]; then tap_ok "snap create with hooks + freeze through cdpd"; tap_diag "$out"
else tap_fail "snap create with hooks + freeze through cdpd"; tap_diag "$out"; fi
dev=$(cdpctl -j restore vol1 --snap app1 --map nbd | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["device"])')
if [ -b "$dev" ] && e2fsck -fn "$dev" > "$W/fsck" 2>&1; then tap_ok "restored clone fscks clean"
else tap_fail "restored clone fscks clean"; tap_diag "$(cat "$W/fsck")"; fi
# the origin stays mounted and fio keeps writing to it meanwhile
mount -o ro "$dev" /mnt/r && sums /mnt/r > "$W/restored" && umount /mnt/r
if [ -s "$W/at-mark" ] && cmp -s "$W/at-mark" "$W/restored"; then
	tap_ok "the clone holds exactly the files at the mark"
else
	tap_fail "the clone holds exactly the files at the mark"; tap_diag "$(diff "$W/at-mark" "$W/restored" | head)"
fi
rbd-nbd unmap "$dev"
# freeze window under load, no hooks: what the MARK costs
for i in 1; do
	cdpctl -j snap create vol1 --name f$i --freeze /mnt/v >> "$W/freeze.json" 2>>"$W/freeze.err"
done
n=$(grep -c freeze_ms "$W/freeze.json")
if [ "$n" = 1 ]; then tap_ok "snapshot under fio, freeze only"; else tap_fail "snapshot under fio, freeze only"; tap_diag "$(cat "$W/freeze.err")"; fi
tap_diag "$(python3 -c "
import json
for l in open('$W/freeze.json'):
    j = json.loads(l)[0]; print(j['name'], 'freeze_ms', j['freeze_ms'], 'mark_ms', j['mark_ms'], 'total_ms', round(j['total_ms']))")"
kill $FIO; wait $FIO 2>/dev/null
umount /mnt/v
tap_check "snap list shows the snapshots with their seq" \
	bash -c '[ "$(cdpctl -j snap list vol1 | python3 -c "import json,sys; print(sum(1 for r in json.load(sys.stdin) if r[\"seq\"]))")" -ge 1 ]'
tap_check "snap delete app1 refuses (clone exists)" bash -c '! cdpctl snap delete vol1 app1'
tap_done
