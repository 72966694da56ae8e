#!/bin/bash
# Guest half of bench-cdpd.sh. Prints "BENCH key value" lines.
set -uo pipefail
W=$CDP_VM_WORK
export CDP_CONF=$W/cdp.conf PATH=$CDP_TOP/ctl:$PATH
CC=$(sed -n 's/^ceph_conf = //p' "$CDP_CONF")
KR=$(sed -n 's/^keyring = //p' "$CDP_CONF")
RUNTIME=${BENCH_RUNTIME:-20}
insmod kmod/dm-cdp.ko
modprobe dm-mirror
modprobe nbd
mkdir -p /var/lib/cdp
bench() { echo "BENCH $*"; }
# rbd_bench IO_SIZE TOTAL: random writes, 32 threads, cache off; prints
# "ops ops_per_s" (its "elapsed" is whole seconds: time = ops / ops_per_s)
rbd_bench() {
	local out
	out=$(rbd --conf "$CC" --keyring "$KR" bench --rbd_cache=false --io-type write --io-size "$1" \
		--io-threads 32 --io-total "$2" --io-pattern rand rbd/basync 2>&1)
	echo "# rbd bench $1: $(grep '^elapsed:' <<< "$out")" >&2
	awk '/^elapsed:/ {for (i = 1; i < NF; i++) {if ($i == "ops:") o = $(i + 1); if ($i == "ops/sec:") r = $(i + 1)}; print o, r}' <<< "$out"
}
# fio_rbd BS IO_SIZE: the same through fio's rbd engine (fresh payloads);
# prints "runtime_s bw_bytes"
fio_rbd() {
	CEPH_CONF="$W/fio-ceph.conf" fio --name=f --ioengine=rbd --clientname=admin --pool=rbd \
		--rbdname=basync --rw=randwrite --bs="$1" --iodepth=32 --size=128M --io_size="$2" \
		--output-format=json 2>/dev/null |
		python3 -c 'import json,sys; j=json.load(sys.stdin)["jobs"][0]["write"]; print("%.2f %d" % (j["runtime"] / 1000, j["bw_bytes"]))'
}
# Cheap poll (no interpreter start per sample: it would steal the guest's
# CPU from the cdpd being timed): text status, caught up and consistent.
wait_synced() {
	local i
	for ((i = 0; i < 6000; i++)); do
		cdpctl status "$1" | grep -Eq " replicating consistent true lag 0 " && return 0
		sleep 0.1
	done
	return 1
}
# fio_json FILE ARGS...: run, print "iops p99_us"
fio_run() {
	local f=$1
	shift
	fio --name=b --filename="$f" --ioengine=libaio --direct=1 --time_based --runtime="$RUNTIME" \
		--ramp_time=3 --output-format=json "$@" 2>/dev/null |
		python3 -c 'import json,sys; j=json.load(sys.stdin)["jobs"][0]["write"]; print(round(j["iops"]), round(j["clat_ns"]["percentile"]["99.000000"]/1000))'
}

cdpctl protect /dev/vda --image rbd/bsync --sync --queue-mb 64 >/dev/null || exit 1
cdpctl protect /dev/vdb --image rbd/basync --queue-mb 128 >/dev/null || exit 1
cdpd -f 2>>"$W/cdpd.log" &
CDPD=$!
wait_synced bsync && wait_synced basync || { echo "initial sync failed"; exit 1; }

# 1. sync mode vs the do-it-yourself mirror: dm raid1 (core log) of a local
#    disk and an rbd-nbd mapped image of the same cluster
rbd --conf "$CC" --keyring "$KR" create --size 128M rbd/diy
nbd=$(rbd-nbd --conf "$CC" --keyring "$KR" map rbd/diy)
sz=$(blockdev --getsz /dev/vdc)
dmsetup create diy --table "0 $sz mirror core 2 1024 nosync 2 /dev/vdc 0 $nbd 0"
for qd in 16 1; do
	read -r ci cp <<< "$(fio_run /dev/mapper/cdp-bsync --rw=randwrite --bs=4k --iodepth=$qd --size=96M)"
	read -r di dp <<< "$(fio_run /dev/mapper/diy --rw=randwrite --bs=4k --iodepth=$qd --size=96M)"
	bench "sync_qd$qd cdp_iops $ci cdp_p99_us $cp diy_iops $di diy_p99_us $dp"
done
dmsetup remove diy
rbd-nbd unmap "$nbd"

# The kernel's view, cheap enough to sample often: "<last_seq> <acked_seq> <state>"
kstat() { dmsetup status cdp-basync | awk '{print $9, $10, $5}'; }
# cdpd with a wall-clock stamp on each log line (its attach time is the
# start of the drain)
start_cdpd() {
	rm -f /tmp/cdpd.fifo && mkfifo /tmp/cdpd.fifo	# no /dev/fd in the guest for >(...)
	(while IFS= read -r l; do echo "$(date +%s.%N) $l"; done < /tmp/cdpd.fifo >> "$W/cdpd.log") &
	cdpd -f -v 2> /tmp/cdpd.fifo &
	CDPD=$!
}

# 2. apply rate: a backlog drained by cdpd vs rbd bench (same I/O size and
#    concurrency, same cluster, from this guest). Both are timed from their
#    first I/O: rbd bench's own "elapsed", cdpd from its "attached" log line
#    to its "caught up" line (everything acked); the connect + image open
#    of each is reported apart.
# Like for like: every RBD object of the image exists before the backlog,
# as it does for rbd bench and the engine run afterwards. A write to an
# object that does not exist yet first waits for the image's object-map
# update; the initial sync of a blank disk (write-zeroes) creates none.
fio --name=prefill --filename=/dev/mapper/cdp-basync --rw=write --bs=1m --size=128M \
	--ioengine=libaio --iodepth=4 --direct=1 >/dev/null 2>&1
wait_synced basync || echo "# prefill did not sync"
kill "$CDPD"; wait "$CDPD"
fio --name=fill --filename=/dev/mapper/cdp-basync --rw=randwrite --bs=64k --size=48M \
	--io_size=48M --ioengine=libaio --iodepth=16 --direct=1 --randrepeat=0 >/dev/null 2>&1
read -r last _ <<< "$(kstat)"
echo "# backlog: $(cdpctl status basync) (last seq $last)"
# CPU accounting: the guest's /proc/stat cpu line (user nice system idle
# iowait irq softirq), and per thread of cdpd (comm utime+stime, ticks)
cpu_line() { awk '/^cpu / {print $2, $3, $4, $5, $6, $7, $8}' /proc/stat; }
cpu_threads() { for t in /proc/$1/task/*; do echo "$(cat "$t/comm") $(awk '{print $14 + $15}' "$t/stat")"; done | sort | awk '{s[$1] += $2} END {for (k in s) printf "%s=%d ", k, s[k]}'; }
c0=$(cpu_line)
t0=$(date +%s.%N)
start_cdpd
# BENCH_PERF=1: a whole-guest profile of the drain's first 6 s after attach
if [ "${BENCH_PERF:-0}" = 1 ]; then
	for ((i = 0; i < 600; i++)); do
		awk -v t0="$t0" '$1 + 0 >= t0 + 0 && /basync: attached/ {f = 1} END {exit !f}' "$W/cdpd.log" && break
		sleep 0.1
	done
	perf record -q -F 499 -a -g -o /tmp/perf.drain -- sleep 6 >/dev/null 2>&1
	perf report -i /tmp/perf.drain --stdio --no-children --sort comm,dso,sym 2>/dev/null |
		grep -E '^ +[0-9.]+%' | head -40 | sed 's/^/# perf drain: /'
fi
# cdpd logs "caught up" (with -v) once the backlog is acked: no poller of
# the kernel's status competes with it for the guest's CPU meanwhile
# (stamped lines only: the first cdpd logs "caught up" too when its prefill
# took 10 s or more)
for ((i = 0; i < 600; i++)); do
	sleep 1
	awk -v t0="$t0" '$1 + 0 >= t0 + 0 && /basync: caught up/ {f = 1} END {exit !f}' "$W/cdpd.log" && break
	((i % 10)) || echo "# draining: $(kstat) (backlog to $last)"
done
t1=$(date +%s.%N)
echo "# cpu during the drain: before [$c0] after [$(cpu_line)]; cdpd threads: $(cpu_threads $CDPD)"
# (the first cdpd's lines carry no stamp: only stamped ones count)
tatt=$(awk -v t0="$t0" '$1 ~ /^[0-9.]+$/ && $1 + 0 >= t0 + 0 && /basync: attached/ {print $1; exit}' "$W/cdpd.log")
t1=$(awk -v t0="$t0" '$1 + 0 >= t0 + 0 && /basync: caught up/ {print $1; exit}' "$W/cdpd.log")
grep "basync: caught up" "$W/cdpd.log" | sed 's/^/# cdpd: /'
# rbd_cache=false: the client settings the engine enforces (a completed write is durable)
c0=$(cpu_line)
rb=$(rbd_bench 64K 48M | awk '{printf "%.2f", $1 / $2}')
echo "# cpu during rbd bench: before [$c0] after [$(cpu_line)]"
# The same through fio's rbd engine (librbd's C API, like the engine, so
# librados computes the crc32c of every payload; rbd bench writes one
# bufferlist over and over and librados caches its crc32c): the
# like-for-like ingest of fresh data. Client cache off as above.
{ cat "$CC"; printf '\n[client]\nkeyring = %s\nrbd_cache = false\n' "$KR"; } > "$W/fio-ceph.conf"
c0=$(cpu_line)
fr=$(fio_rbd 64k 48M | cut -d' ' -f1)
echo "# fio rbd 64K: ${fr:-failed} s; cpu before [$c0] after [$(cpu_line)]"
# the apply engine alone (no FETCH), same sizes: where cdpd's time goes
c0=$(cpu_line)
echo "# engine alone: $("$CDP_TOP/tests/tools/rbd-apply-stream" bench --conf "$CC" --keyring "$KR" \
	--image basync --io-size 65536 --total $((48 << 20)) --pattern rand --qd 32 2>&1 | tail -n 1)"
echo "# cpu during engine alone: before [$c0] after [$(cpu_line)]"
tail -n 5 "$W/cdpd.log" | sed 's/^/# cdpd: /'
# cdpd -v: where its time went during the drain (5 s windows that saw records)
awk -v t0="$t0" '$1 + 0 >= t0 + 0 && /basync: pipeline/ && !/ 0 records/' "$W/cdpd.log" | sed 's/^/# cdpd -v: /'
bench "apply_64k cdpd_s $(awk -v a="$tatt" -v b="$t1" 'BEGIN {printf "%.2f", b - a}') cdpd_start_s $(awk -v a="$t0" -v b="$tatt" 'BEGIN {printf "%.2f", b - a}') rbd_bench_s $rb fio_rbd_s ${fr:-0}"

# 3. RPO: steady 16K writes at half of the cluster's ingest for that
#    workload (16K random writes, 32 in flight) of fresh data, as fio's
#    rbd engine measures it (see the apply phase: rbd bench's one reused
#    buffer skips the per-write crc32c that every real writer pays, and
#    sessions 2-5 also took its 64K bytes/s for a 16K load, twice the op
#    rate even rbd bench reaches at 16K). rbd bench's 16K and 64K figures
#    are printed beside it. The kernel's last/acked seq is sampled every
#    0.5 s; the report turns them into the age of the oldest unacked write.
ingest64=$(awk -v s="$rb" 'BEGIN {print 48 * 1048576 / s}')
ingest_rb16=$(rbd_bench 16K 16M | awk '{printf "%d", $2 * 16384}')
ingest=$(fio_rbd 16k 16M | cut -d' ' -f2)
echo "# fio rbd 16K: ${ingest:-failed} B/s"
[ -n "$ingest" ] && [ "$ingest" -gt 0 ] || ingest=$ingest_rb16
half=$(awk -v b="$ingest" 'BEGIN {printf "%d", b / 2 / 16384}')
trpo=$(date +%s.%N)
fio --name=steady --filename=/dev/mapper/cdp-basync --rw=randwrite --bs=16k --iodepth=4 \
	--ioengine=libaio --direct=1 --size=96M --time_based --runtime="$RUNTIME" \
	--rate_iops="$half" >/dev/null 2>&1 &
fpid=$!
rss=0
while kill -0 $fpid 2>/dev/null; do
	echo "BENCHS $(date +%s.%N) $(kstat)"
	while read -r k v _; do [ "$k" = VmRSS: ] && [ "$v" -gt "$rss" ] && rss=$v; done < /proc/$CDPD/status
	sleep 0.5
done
# cdpd -v measures each record's lag from its completion in the kernel to
# durable on the image, per 5 s window: the exact figure (the samples above
# only bound it, rounded up to their own gaps when the guest is busy)
sleep 6
awk -v t0="$trpo" '$1 + 0 >= t0 + 0 && /basync: pipeline/ && /durable lag/' "$W/cdpd.log" |
	sed 's/^/# cdpd rpo: /'
bench "rpo_async ingest_Bps $ingest rbd_bench16k_Bps $ingest_rb16 rbd_bench64k_Bps $ingest64 load_iops $half"
bench "cdpd_rss_kib $rss queue_mb 128"
kill "$CDPD"; wait "$CDPD"
