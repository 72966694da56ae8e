#!/bin/bash
# Apply-engine drain rate vs `rbd bench --io-type write`, same I/O size,
# same concurrency, same throw-away Ceph sandbox, same run.
#
#   scripts/bench-apply.sh [--io-size 4K,64K] [--qd 16] [--total-ops 16384] [--runs 3]
#                          [--pattern rand|seq]
#
# Both sides use the same client settings (rbd_cache off: the engine turns
# the cache off so that a completed write is durable) and write the same
# image, prefilled once so that neither pays for creating objects. Runs
# come in pairs, alternating which side goes first (the OSD may still be
# busy with the previous run's writes); the ratio is the median of the
# per-pair ratios, which cancels most of the drift of a shared machine.
# Prints one line per I/O size:
#   io_size qd rbd_bench_iops engine_iops ratio      (iops: medians)
# Needs root (the sandbox) and `make user` (tests/tools/rbd-apply-stream).
set -euo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
TOOL=$TOP/tests/tools/rbd-apply-stream

SIZES=4K,64K QD=16 OPS=16384 RUNS=3 PATTERN=rand
while [ $# -gt 0 ]; do
	case "$1" in
	--io-size) SIZES=$2; shift 2 ;;
	--qd) QD=$2; shift 2 ;;
	--total-ops) OPS=$2; shift 2 ;;
	--runs) RUNS=$2; shift 2 ;;
	--pattern) PATTERN=$2; shift 2 ;;
	*) echo "usage: $0 [--io-size 4K,64K] [--qd N] [--total-ops N] [--runs N] [--pattern rand|seq]" >&2
	   exit 2 ;;
	esac
done
[ -x "$TOOL" ] || { echo "bench-apply: $TOOL missing: run 'make user'" >&2; exit 1; }

bytes() {	# 4K -> 4096
	numfmt --from=iec "$1"
}
median() { sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }

DIR=$(mktemp -d /tmp/cdpbench.XXXXXX)
trap '"$TOP/scripts/ceph/stop.sh" "$DIR"' EXIT
eval "$("$TOP/scripts/ceph/start.sh" "$DIR" 2>/dev/null)"
export CEPH_CONF
echo "# sandbox $DIR, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# io_size qd rbd_bench_iops engine_iops ratio"

IMG_MB=1024
rbd create --size ${IMG_MB}M rbd/bench
rbd bench --rbd_cache=false --io-type write --io-size 4M --io-threads 8 --io-pattern seq \
	--io-total ${IMG_MB}M rbd/bench >/dev/null 2>&1

run_rbd() {
	rbd bench --rbd_cache=false --io-type write --io-size "$1" --io-threads "$QD" \
		--io-total "$2" --io-pattern "$PATTERN" rbd/bench 2>/dev/null |
		sed -n 's/^elapsed:.* ops\/sec: *\([0-9.]*\).*/\1/p'
}
run_engine() {
	"$TOOL" bench --image bench --io-size "$1" --qd "$QD" --queued $((QD * 8)) \
		--total "$2" --pattern "$PATTERN" --seed "$3" 2>/dev/null |
		sed -n 's/.* ops\/s \([0-9.]*\) .*/\1/p'
}

for size in ${SIZES//,/ }; do
	b=$(bytes "$size")
	total=$((b * OPS))
	[ $total -le $((IMG_MB << 20)) ] || total=$((IMG_MB << 20))
	rb=() en=() ratio=()
	for i in $(seq "$RUNS"); do
		if [ $((i % 2)) = 1 ]; then
			r=$(run_rbd "$b" "$total"); e=$(run_engine "$b" "$total" "$i")
		else
			e=$(run_engine "$b" "$total" "$i"); r=$(run_rbd "$b" "$total")
		fi
		rb+=("${r:-0}") en+=("${e:-0}")
		ratio+=("$(awk -v e="${e:-0}" -v r="${r:-0}" 'BEGIN {printf "%.3f", (r > 0 ? e / r : 0)}')")
	done
	echo "# $size runs: rbd bench ${rb[*]} / engine ${en[*]} / ratios ${ratio[*]}"
	printf '%s %s %.0f %.0f %.2f\n' "$size" "$QD" \
		"$(printf '%s\n' "${rb[@]}" | median)" "$(printf '%s\n' "${en[@]}" | median)" \
		"$(printf '%s\n' "${ratio[@]}" | median)"
done
