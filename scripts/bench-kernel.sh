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
# A second cdp pass has the consumer write into a RAM disk in the guest
# (brd, seeded with a copy of the replica; BENCH_RAM_REPLICA=0 skips it):
# what the production host pays there, a copy per record, is what sending
# to a remote replica costs it, while a virtio replica write costs as much
# emulated CPU as fio's own write.
# The host's load average is printed with the results: on a shared host
# the ratios move with it.
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
out=$(BENCH_RUNTIME=${1:-10} "$TOP/scripts/vm/run.sh" --timeout 1200 --mem 2560 \
	--disk "$tmp/o.img:1G" --disk "$tmp/m.img:8M" --disk "$rdir/r.img:1G" \
	-- env BENCH_RUNTIME="${1:-10}" BENCH_RAM_REPLICA="${BENCH_RAM_REPLICA:-1}" BENCH_CONSUMER_OPTS="${BENCH_CONSUMER_OPTS:---batch-ms 100}" tests/kernel/guest/bench.sh 2>&1)
rc=$?
load1=$(cut -d' ' -f1-3 /proc/loadavg)
# The whole guest console (kernel log included) for a post mortem.
echo "$out" > "${BENCH_LOG:-/tmp/cdp-bench-kernel.log}"
grep -E '^(BENCH|#)' <<< "$out"
[ $rc = 0 ] || { echo "bench-kernel: VM run failed (status $rc), console in ${BENCH_LOG:-/tmp/cdp-bench-kernel.log}" >&2; exit 1; }
python3 - <<PY
import re
lines = """$(grep '^BENCH' <<< "$out")""".splitlines()
v = {}
for l in lines:
    k, *rest = l.split()[1:]
    v[k] = rest
print()
print("host load average: before $load0, after $load1 ($(nproc) CPUs); guest: ${CDP_VM_SMP:-1} vCPU(s)")
print("%-16s %12s %12s %8s" % ("job", "dm-linear", "cdp", "ratio"))
for job, idx, unit, higher in (("rand4k_qd32", 0, "IOPS", 1), ("rand4k_qd1", 0, "IOPS", 1),
                               ("rand4k_qd1", 2, "p99 us", 0), ("seq1m", 1, "MB/s", 1)):
    a = float(v["linear." + job][idx]); b = float(v["cdp." + job][idx])
    print("%-16s %12.1f %12.1f %8.2f  (%s%s)" % (job, a, b, b / a if a else 0, unit,
          ", goal >= 0.95" if higher else ", goal <= 1.10"))
if "ram.rand4k_qd32" in v:
    for job, idx, unit in (("rand4k_qd32", 0, "IOPS"), ("rand4k_qd1", 0, "IOPS"),
                           ("rand4k_qd1", 2, "p99 us"), ("seq1m", 1, "MB/s")):
        a = float(v["linear." + job][idx]); b = float(v["ram." + job][idx])
        print("%-16s %12.1f %12.1f %8.2f  (%s, replica in a RAM disk)" % (job, a, b, b / a if a else 0, unit))
for job in ("rand4k_qd32", "rand4k_qd1"):
    if "capture." + job in v:
        a = float(v["linear." + job][0]); b = float(v["capture." + job][0])
        print("%-16s %12.1f %12.1f %8.2f  (IOPS, consumer paused: kernel capture cost only)" % (job, a, b, b / a))
if "capture.rand4k_qd1" in v:
    a = float(v["linear.rand4k_qd1"][2]); b = float(v["capture.rand4k_qd1"][2])
    print("%-16s %12.1f %12.1f %8.2f  (p99 us, consumer paused)" % ("rand4k_qd1", a, b, b / a))
m, d = (int(x) for x in v["cdp.meta_writes"])
print("metadata writes per 1000 data writes: %.2f (%d / %d)" % (1000.0 * m / d if d else 0, m, d))
PY
