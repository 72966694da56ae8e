#!/bin/bash
# Guest side of scripts/bench-kernel.sh: the same fio jobs on the same disk
# through dm-linear and through cdp (async, test consumer draining).
# Disks: vda origin, vdb meta, vdc replica; a second cdp pass replicates
# into a RAM disk (BENCH_RAM_REPLICA=0: skip). Prints "BENCH key value" lines.
. tests/lib/tap.sh
. tests/kernel/guest/cdp-common.sh
O=/dev/vda M=/dev/vdb R=/dev/vdc
RT=${BENCH_RUNTIME:-10}
SZ=$(blockdev --getsz $O)
cdp_load || exit 1

# job NAME DEV fio-args...: prints "iops bw_MBps p99_us"
job() {
	local name=$1 dev=$2
	shift 2
	fio --name="$name" --filename="$dev" --direct=1 --ioengine=libaio --time_based \
		--runtime="$RT" --size=256m --randrepeat=0 --output-format=json "$@" 2>/dev/null |
	python3 -c '
import json, sys
w = json.load(sys.stdin)["jobs"][0]["write"]
p = w["clat_ns"].get("percentile", {}).get("99.000000", 0)
print("%.0f %.1f %.0f" % (w["iops"], w["bw"] / 1024.0, p / 1000.0))'
}
# After each cdp job: did the queue hold (replicating) or overflow into
# tracking (writes then only set bits: not a like-for-like number)?
state_note() {
	[ "$1" = linear ] || echo "# $1.$2: state after the job: $(cdp_state bc), dirty $(cdp_dirty bc)"
}
suite() {
	local tag=$1 dev=$2
	job warm "$dev" --rw=randwrite --bs=4k --iodepth=32 --runtime=4 >/dev/null
	echo "BENCH $tag.rand4k_qd32 $(job r32 "$dev" --rw=randwrite --bs=4k --iodepth=32)"
	state_note "$tag" rand4k_qd32
	echo "BENCH $tag.rand4k_qd1 $(job r1 "$dev" --rw=randwrite --bs=4k --iodepth=1)"
	state_note "$tag" rand4k_qd1
	echo "BENCH $tag.seq1m $(job s1m "$dev" --rw=write --bs=1m --iodepth=4)"
	state_note "$tag" seq1m
}

dmsetup create lin --table "0 $SZ linear $O 0" && CDP_DEVS+=(lin)
suite linear /dev/mapper/lin
cdp_remove lin

cdp_create bc $O $M bvol 2 queue_mb 128 || exit 1
consumer_start bvol $R ${BENCH_CONSUMER_OPTS:---batch-ms 100}
wait_for 120 state_is bc replicating || { echo "# no sync: $(dmsetup status bc)"; exit 1; }
m0=$(cdp_status_word bc 11) d0=$(cdp_status_word bc 12)
suite cdp /dev/mapper/bc
m1=$(cdp_status_word bc 11) d1=$(cdp_status_word bc 12)
echo "BENCH cdp.meta_writes $((m1 - m0)) $((d1 - d0))"
echo "BENCH cdp.status $(dmsetup status bc | cut -d' ' -f4-)"
consumer_finish 300 && same_content $O $R && echo "BENCH cdp.replica_equal yes"
tail -n1 "$T/consumer.log" | sed 's/^/# /'

# The same suite with the replica in RAM (brd): the consumer's writes then
# cost a copy, as a send to a remote replica does, instead of a second
# virtio disk write competing with fio's for the host's 2 cores. The RAM
# disk starts as a copy of the replica, so the stream continues from the
# acked seq and the end state can be compared.
if [ "${BENCH_RAM_REPLICA:-1}" = 1 ] && modprobe brd rd_nr=1 rd_size=$((SZ / 2)) max_part=0; then
	RR=/dev/ram0
	dd if=$R of=$RR bs=1M iflag=direct oflag=direct status=none
	consumer_start bvol $RR ${BENCH_CONSUMER_OPTS:---batch-ms 100}
	wait_for 120 state_is bc replicating
	suite ram /dev/mapper/bc
	consumer_finish 300 && same_content $O $RR && echo "BENCH ram.replica_equal yes"
	tail -n1 "$T/consumer.log" | sed 's/^/# ram: /'
	# the RAM disk would hold 1 GiB of the guest's memory until shutdown
	rmmod brd
fi

# The kernel's own cost: capture into the queue with the consumer paused
# (it would otherwise share the only vCPU); 4k jobs fit in queue_mb 128.
consumer_start bvol $R
wait_for 120 state_is bc replicating
kill -STOP "$CONS_PID"
# 3 s each: at ~4000 IOPS a longer job fills queue_mb and overflows into
# tracking, which would measure the bitmap path instead of the capture
echo "BENCH capture.rand4k_qd32 $(job r32 /dev/mapper/bc --rw=randwrite --bs=4k --iodepth=32 --runtime=3)"
echo "# capture.rand4k_qd32: state after the job: $(cdp_state bc)"
echo "BENCH capture.rand4k_qd1 $(job r1 /dev/mapper/bc --rw=randwrite --bs=4k --iodepth=1 --runtime=3)"
echo "BENCH capture.state $(cdp_state bc) dropped $(cdp_status_word bc 13)"
kill -CONT "$CONS_PID"
consumer_finish 300 >/dev/null
