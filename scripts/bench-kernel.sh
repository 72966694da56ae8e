#!/bin/bash
# dm-cdp kernel benchmark (not a timed test): in one VM boot, on the same
# disk, fio 4k randwrite QD32, 4k randwrite QD1 (p99 latency) and 1 MiB
# sequential write through dm-linear and through cdp (async, with the test
# consumer draining into a replica disk). Prints the ratios and the
# metadata writes per 1000 data writes; results go to docs/BENCHMARKS.md
# by hand.
#   scripts/bench-kernel.sh [RUNTIME_SEC]      (default 10 s per job)
# Disks: origin and meta are sparse files in a temp dir on the host's disk
# (cache=none, the same for the linear and the cdp runs); the consumer's
# replica is a sparse file on the host's tmpfs (BENCH_REPLICA_DIR, default
# /dev/shm): on this rig all disks share one host disk, and a replica on it
# halves the origin's IOPS, which a real replica (another host) does not.
# Each job runs BENCH_ROUNDS (default 3) alternating rounds on the two
# halves of the origin disk (cdp over one, dm-linear over the other, see
# tests/kernel/guest/bench.sh); ratios are of the medians.
# BENCH_JOBS="seq1m ...": only those of the draining jobs (rand4k_qd32
# rand4k_qd1 seq1m); the short consumer-paused capture jobs always run.
# The host's load average is printed with the results: on a shared host
# the ratios move with it.
# BENCH_DISK_IOPS=N / BENCH_DISK_MBPS=N: the origin disk gets QEMU's I/O
# throttling (N requests/s, N MB/s in all), the same for both targets: a
# disk whose own speed, not the guest CPU, bounds the job, as a real disk
# does under a real CPU. In this TCG guest every instruction costs 10-50x
# a real CPU's, so unthrottled the jobs are CPU-bound and measure the
# target's instructions instead of its effect on the disk's work.
set -uo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
rdir=$(mktemp -d "${BENCH_REPLICA_DIR:-/dev/shm}/cdp-bench.XXXXXX") || exit 1
trap 'rm -rf "$tmp" "$rdir"' EXIT
load0=$(cut -d' ' -f1-3 /proc/loadavg)
# The origin is allocated up front: in a sparse file the first suite would
# also pay for the host file system allocating blocks, the second not.
fallocate -l 1G "$tmp/o.img" || exit 1
make -s -C "$TOP" kmod tests/tools/cdp-consume >/dev/null 2>&1 || { echo "bench-kernel: build failed (make kmod user)" >&2; exit 1; }
throttle=""
[ -n "${BENCH_DISK_IOPS:-}" ] && throttle+="throttling.iops-total=$BENCH_DISK_IOPS,"
[ -n "${BENCH_DISK_MBPS:-}" ] && throttle+="throttling.bps-total=$((BENCH_DISK_MBPS * 1000000)),"
export CDP_VM_DISK0_OPTS=${throttle%,}
out=$(BENCH_RUNTIME=${1:-10} "$TOP/scripts/vm/run.sh" --timeout 1500 \
	--disk "$tmp/o.img:1G" --disk "$tmp/m.img:8M" --disk "$rdir/r.img:1G" \
	-- env BENCH_RUNTIME="${1:-10}" BENCH_ROUNDS="${BENCH_ROUNDS:-3}" BENCH_JOBS="${BENCH_JOBS:-}" BENCH_CONSUMER_OPTS="${BENCH_CONSUMER_OPTS:---batch-ms 100}" tests/kernel/guest/bench.sh 2>&1)
rc=$?
load1=$(cut -d' ' -f1-3 /proc/loadavg)
# The whole guest console (kernel log included) for a post mortem.
echo "$out" > "${BENCH_LOG:-/tmp/cdp-bench-kernel.log}"
grep -E '^(BENCH|#)' <<< "$out"
[ $rc = 0 ] || { echo "bench-kernel: VM run failed (status $rc), console in ${BENCH_LOG:-/tmp/cdp-bench-kernel.log}" >&2; exit 1; }
python3 - <<PY
import statistics
lines = """$(grep '^BENCH' <<< "$out")""".splitlines()
v, rounds = {}, {}
for l in lines:
    k, *rest = l.split()[1:]
    v[k] = rest
    p = k.split(".")
    if len(p) == 3 and p[2].isdigit():
        rounds.setdefault((p[0], p[1]), []).append([float(x) for x in rest])
med = lambda xs: statistics.median(xs)
print()
print("host load average: before $load0, after $load1 ($(nproc) CPUs); guest: ${CDP_VM_SMP:-1} vCPU(s)")
print("origin disk throttling: ${CDP_VM_DISK0_OPTS:-none}")
print("medians of %d alternating rounds per job" % max((len(x) for x in rounds.values()), default=0))
print("%-12s %-7s %10s %10s %7s  %s" % ("job", "unit", "dm-linear", "cdp", "ratio", "per-round ratios"))
for job, idx, unit, goal in (("rand4k_qd32", 0, "IOPS", ">= 0.95"), ("rand4k_qd1", 0, "IOPS", ">= 0.95"),
                             ("rand4k_qd1", 2, "p99 us", "<= 1.10"), ("seq1m", 1, "MB/s", ">= 0.95")):
    a = rounds.get(("linear", job)); b = rounds.get(("cdp", job))
    if not a or not b:
        continue
    ma = med([x[idx] for x in a]); mb = med([x[idx] for x in b])
    per = " ".join("%.2f" % (y[idx] / x[idx]) for x, y in zip(a, b) if x[idx])
    print("%-12s %-7s %10.1f %10.1f %7.2f  %s (goal %s)" % (job, unit, ma, mb, mb / ma if ma else 0, per, goal))
for job in ("rand4k_qd32", "rand4k_qd1"):
    if "capture." + job in v and "linear.capture_" + job in v:
        a = [float(x) for x in v["linear.capture_" + job]]; b = [float(x) for x in v["capture." + job]]
        print("%-12s %-7s %10.1f %10.1f %7.2f  (consumer paused: kernel capture cost only)" % (job, "IOPS", a[0], b[0], b[0] / a[0]))
        if job == "rand4k_qd1":
            print("%-12s %-7s %10.1f %10.1f %7.2f  (consumer paused)" % (job, "p99 us", a[2], b[2], b[2] / a[2]))
m, d = (int(x) for x in v["cdp.meta_writes"])
print("metadata writes per 1000 data writes: %.2f (%d / %d)" % (1000.0 * m / d if d else 0, m, d))
print("replica equal: %s" % v.get("cdp.replica_equal", ["NO"])[0])
PY
