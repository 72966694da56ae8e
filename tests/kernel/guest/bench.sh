#!/bin/bash
# Guest side of scripts/bench-kernel.sh: the same fio jobs through dm-linear
# and through cdp (async, test consumer draining), on the same disk, in
# alternating rounds.
#
# Disk vda is split in two halves: cdp over the first, dm-linear over the
# second, so both stay set up and each job's rounds alternate between them
# (linear, cdp; then cdp, linear; ...). On this rig the guest's vCPUs idle
# ~93 % during a QD32 job: the host's disk sets the pace, and it drifts
# from minute to minute; alternating rounds and taking medians keeps that
# drift out of the ratios. vdb is the metadata, vdc the replica.
# Prints "BENCH key value" lines.
. tests/lib/tap.sh
. tests/kernel/guest/cdp-common.sh
O=/dev/vda M=/dev/vdb R=/dev/vdc
RT=${BENCH_RUNTIME:-10}
ROUNDS=${BENCH_ROUNDS:-3}
for j in ${BENCH_JOBS:-}; do
	case $j in
	rand4k_qd32|rand4k_qd1|seq1m) ;;
	*) echo "# BENCH_JOBS: there is no job '$j' (rand4k_qd32 rand4k_qd1 seq1m)" ;;
	esac
done
SZ=$(blockdev --getsz $O)
HALF=$((SZ / 2))
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

# Before every job: no resync left over from an earlier overflow (its reads
# would compete with whichever job runs next, linear or cdp).
settle() {
	wait_for 300 state_is bc replicating || echo "# still $(cdp_state bc) after 300 s"
}

# completed write requests and sectors of the origin disk (after merges)
origin_writes() { awk '{print $5, $7}' /sys/block/${O#/dev/}/stat; }

# round TAG DEV JOB R fio-args...
round() {
	local tag=$1 dev=$2 name=$3 r=$4
	shift 4
	local w0 s0 w1 s1
	settle
	read -r w0 s0 <<< "$(origin_writes)"	# (no /dev/fd here for < <(...))
	echo "BENCH $tag.$name.$r $(job "$name" "$dev" "$@")"
	read -r w1 s1 <<< "$(origin_writes)"
	# what the origin disk was asked to do: a throttled disk counts
	# requests as well as bytes, so more, smaller requests for the same
	# bytes would cost one target the budget
	echo "# $tag.$name.$r: origin write requests $((w1 - w0)), KiB per request $(( (s1 - s0) / 2 / (w1 - w0 > 0 ? w1 - w0 : 1) ))"
	# did the queue hold (replicating) or overflow into tracking (writes
	# then only set bits: not a like-for-like number)?
	[ "$tag" = linear ] || echo "# $tag.$name.$r: state after the job: $(cdp_state bc), dirty $(cdp_dirty bc)"
}

# alternate NAME fio-args...: ROUNDS rounds, the order flipping each round
alternate() {
	local name=$1 r
	shift
	# BENCH_JOBS: run only the jobs named there (default: all)
	[[ " ${BENCH_JOBS:-$name} " == *" $name "* ]] || return 0
	for ((r = 1; r <= ROUNDS; r++)); do
		if ((r % 2)); then
			round linear /dev/mapper/lin "$name" $r "$@"
			round cdp /dev/mapper/bc "$name" $r "$@"
		else
			round cdp /dev/mapper/bc "$name" $r "$@"
			round linear /dev/mapper/lin "$name" $r "$@"
		fi
	done
}

dmsetup create lin --table "0 $HALF linear $O $HALF" && CDP_DEVS+=(lin) || exit 1
dmsetup create bc --table "0 $HALF cdp $O $M bvol 2 queue_mb 128" && CDP_DEVS+=(bc) || exit 1
consumer_start bvol $R ${BENCH_CONSUMER_OPTS:---batch-ms 100}
wait_for 120 state_is bc replicating || { echo "# no sync: $(dmsetup status bc)"; exit 1; }
job warm /dev/mapper/lin --rw=randwrite --bs=4k --iodepth=32 --runtime=4 >/dev/null
job warm /dev/mapper/bc --rw=randwrite --bs=4k --iodepth=32 --runtime=4 >/dev/null
m0=$(cdp_status_word bc 11) d0=$(cdp_status_word bc 12)
alternate rand4k_qd32 --rw=randwrite --bs=4k --iodepth=32
alternate rand4k_qd1 --rw=randwrite --bs=4k --iodepth=1
alternate seq1m --rw=write --bs=1m --iodepth=4
m1=$(cdp_status_word bc 11) d1=$(cdp_status_word bc 12)
echo "BENCH cdp.meta_writes $((m1 - m0)) $((d1 - d0))"
echo "BENCH cdp.status $(dmsetup status bc | cut -d' ' -f4-)"
consumer_finish 300 && same_content /dev/mapper/bc $R && echo "BENCH cdp.replica_equal yes"
tail -n1 "$T/consumer.log" | sed 's/^/# /'

# The kernel's own cost: capture into the queue with the consumer paused
# (attached, so records are kept, but not draining); one round each, after
# a linear round of the same job.
consumer_start bvol $R
wait_for 120 state_is bc replicating
# 3 s each: at ~4000 IOPS a longer job fills queue_mb and overflows into
# tracking, which would measure the bitmap path instead of the capture
for spec in "rand4k_qd32 32" "rand4k_qd1 1"; do
	set -- $spec
	echo "BENCH linear.capture_$1 $(RT=3 job r /dev/mapper/lin --rw=randwrite --bs=4k --iodepth=$2)"
	kill -STOP "$CONS_PID"
	echo "BENCH capture.$1 $(RT=3 job r /dev/mapper/bc --rw=randwrite --bs=4k --iodepth=$2)"
	echo "# capture.$1: state after the job: $(cdp_state bc), dropped $(cdp_status_word bc 13)"
	kill -CONT "$CONS_PID"
	settle
done
consumer_finish 300 >/dev/null
