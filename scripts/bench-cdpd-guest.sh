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
cdpd 2>>"$W/cdpd.log" &
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

# 2. apply rate: a backlog drained by cdpd vs rbd bench (same I/O size and
#    concurrency, same cluster, from this guest)
kill "$CDPD"; wait "$CDPD"
fio --name=fill --filename=/dev/mapper/cdp-basync --rw=randwrite --bs=64k --size=48M \
	--io_size=48M --ioengine=libaio --iodepth=16 --direct=1 --randrepeat=0 >/dev/null 2>&1
q=$(cdpctl -j status basync | python3 -c 'import json,sys; v=json.load(sys.stdin)[0]; print(v["lag_records"], v["lag_bytes"], v["state"])')
echo "# backlog: $q"
t0=$(date +%s.%N)
cdpd 2>>"$W/cdpd.log" &
CDPD=$!
wait_synced basync
t1=$(date +%s.%N)
t2=$(date +%s.%N)
rbd --conf "$CC" --keyring "$KR" bench --io-type write --io-size 64K --io-threads 32 \
	--io-total 48M --io-pattern rand rbd/basync >/dev/null 2>&1
t3=$(date +%s.%N)
bench "apply_64k cdpd_s $(python3 -c "print(round($t1-$t0,2))") rbd_bench_s $(python3 -c "print(round($t3-$t2,2))")"

# 3. RPO: steady load at half of what cdpd sustained, lag sampled every 0.5 s
read -r max _ <<< "$(fio_run /dev/mapper/cdp-basync --rw=randwrite --bs=16k --iodepth=8 --size=96M)"
wait_synced basync
half=$((max / 2))
fio --name=steady --filename=/dev/mapper/cdp-basync --rw=randwrite --bs=16k --iodepth=4 \
	--ioengine=libaio --direct=1 --size=96M --time_based --runtime="$RUNTIME" \
	--rate_iops="$half" >/dev/null 2>&1 &
fpid=$!
: > /tmp/lag
rss=0
while kill -0 $fpid 2>/dev/null; do
	cdpctl -j status basync | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["lag_s"])' >> /tmp/lag
	r=$(awk '/VmRSS/ {print $2}' /proc/$CDPD/status)
	[ "$r" -gt "$rss" ] && rss=$r
	sleep 0.5
done
p99=$(sort -n /tmp/lag | python3 -c 'import sys; v=[float(x) for x in sys.stdin]; print(round(v[min(len(v)-1, int(len(v)*0.99))],3), round(sum(v)/len(v),3), len(v))')
bench "rpo_async max_iops $max load_iops $half lag_p99_s_mean_n $p99"
bench "cdpd_rss_kib $rss queue_mb 128"
kill "$CDPD"; wait "$CDPD"
