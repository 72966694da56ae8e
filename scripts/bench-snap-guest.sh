#!/bin/bash
# Guest half of bench-snap.sh. Prints "BENCH snap MODE freeze_ms mark_ms sync_ms
# fifreeze_ms fithaw_ms gap_ms"
# for each snapshot of BENCH_SNAPS rounds over the BENCH_MODES, then
# "BENCH ckpt syncfs_ms checkpoint_ms syncfs_ms" for BENCH_CKPT_PROBES probes.
set -uo pipefail
. "$CDP_TOP/tests/e2e/guest/common.sh"
export CDP_CONF=$CDP_VM_WORK/cdp.conf
snapno=0
N=${BENCH_SNAPS:-20} RATE=${BENCH_RATE:-2m}
MODES=${BENCH_MODES:-nopresync syncfs noexpedite presync} BASE_EVERY=${BENCH_BASE_EVERY:-1}
PROBES=${BENCH_CKPT_PROBES:-0}
g_load
mkdir -p /var/lib/cdp /mnt/s
cdpctl protect /dev/vda --image rbd/bs >/dev/null || tap_bail "protect"
g_cdpd_start || tap_bail "cdpd"
g_wait_synced bs 300 || tap_bail "initial sync"
mkfs.ext4 -q /dev/mapper/cdp-bs && mount /dev/mapper/cdp-bs /mnt/s || tap_bail "mkfs"
G_CLEAN+=("umount /mnt/s")
# the application: buffered random writes, no fsync, so dirty pages pile up
# between snapshots the way they do under a real writer
fio --name=app --directory=/mnt/s --size=64M --nrfiles=4 --bs=4k --rw=randwrite \
	--ioengine=psync --rate="$RATE" --time_based --runtime=3600 >/dev/null 2>&1 &
fpid=$!
G_CLEAN+=("kill $fpid")
# BENCH_WARMUP seconds of writing before the first snapshot (default 5)
sleep "${BENCH_WARMUP:-5}"
# modes: nopresync = FIFREEZE as it comes, syncfs = syncfs passes only,
# noexpedite = the default pre-flush, FIFREEZE with normal RCU grace periods,
# presync = the default (syncfs, ext4 journal checkpoint, syncfs, FIFREEZE
# with expedited grace periods, cdpd's replication threads at nice 10 from
# READY to MARK, cdpctl inserts the MARK over netlink), nice0 = the default
# with cdpd's threads left at nice 0, markcdpd = the default but cdpd
# inserts the MARK (CDP_SNAP_MARK_VIA_CDPD=1, the path before session 5),
# noboost = the default but cdpctl keeps nice 0 in the window
# (CDP_FREEZE_NO_BOOST=1);
# nopresync only every BASE_EVERY-th round (its snapshots are the slow ones)
# The nice0 baseline undoes cdpd's step-back for one snapshot: its pre hook
# (run inside cdpd's window, READY to MARK) puts every cdpd thread back to
# nice 0; the other modes run a no-op hook, so all pay for one.
nice0_hook="renice -n 0 -p \$(ls /proc/$CDPD_PID/task) >/dev/null"
for ((i = 0; i < N; i++)); do
	for mode in $MODES; do
		[ $mode = nopresync ] && ((i % BASE_EVERY)) && continue
		nps= nck= nex= viad= nob=
		[ $mode = nopresync ] && nps=1
		[ $mode = syncfs ] && nck=1
		[ $mode = markcdpd ] && viad=1
		[ $mode = noboost ] && nob=1
		case $mode in presync|nice0|markcdpd|noboost) ;; *) nex=1 ;; esac
		hook=true
		[ $mode = nice0 ] && hook=$nice0_hook
		snapno=$((snapno + 1))	# a mode may be named twice: unique names
		out=$(CDP_FREEZE_NO_PRESYNC=$nps CDP_FREEZE_NO_CHECKPOINT=$nck CDP_FREEZE_NO_EXPEDITE=$nex \
			CDP_SNAP_MARK_VIA_CDPD=$viad CDP_FREEZE_NO_BOOST=$nob \
			cdpctl -j snap create bs --name "$mode$i-$snapno" \
			--freeze /mnt/s --pre "$hook" --timeout 120 2>/tmp/snap.err) ||
			{ echo "# snap failed: $out $(cat /tmp/snap.err)"; continue; }
		# a warning (stderr) is shown, the JSON (stdout) parsed
		[ -s /tmp/snap.err ] && sed "s/^/# $mode$i: /" /tmp/snap.err
		python3 -c 'import json,sys; j=json.loads(sys.argv[1]); j=j[0] if isinstance(j,list) else j
print("BENCH snap", sys.argv[2], j["freeze_ms"], j["mark_ms"], j["sync_ms"],
      j.get("fifreeze_ms", 0), j.get("fithaw_ms", 0), j.get("gap_ms", 0))
if j.get("rcu_expedited") != (sys.argv[2] in ("presync", "nice0", "markcdpd", "noboost")):
    print("# %s: rcu_expedited is %s" % (sys.argv[2], j.get("rcu_expedited")))' "$out" "$mode"
		sleep 2
	done
done
# the checkpoint's own cost, under the same writer: the pre-flush sequence
# (syncfs, EXT4_IOC_CHECKPOINT, syncfs) timed step by step; the checkpoint
# holds off the application's metadata updates (mtime on write) meanwhile
python3 - "$PROBES" <<'EOP'
import ctypes, fcntl, os, struct, sys, time
libc = ctypes.CDLL(None, use_errno=True)
fd = os.open("/mnt/s", os.O_RDONLY | os.O_DIRECTORY)
CKPT = 0x4004662B  # _IOW('f', 43, __u32)
def ms(f):
    t = time.monotonic(); f(); return (time.monotonic() - t) * 1000
for i in range(int(sys.argv[1])):
    time.sleep(30)  # about the time between two snapshots above
    a = ms(lambda: libc.syncfs(fd))
    b = ms(lambda: fcntl.ioctl(fd, CKPT, struct.pack("I", 0)))
    c = ms(lambda: libc.syncfs(fd))
    print("BENCH ckpt %.1f %.1f %.1f" % (a, b, c), flush=True)
EOP
kill $fpid
wait $fpid 2>/dev/null
exit 0	# fio was killed above: its status is not the benchmark's
