#!/bin/bash
# cdpd benchmarks in one VM boot against one Ceph sandbox (ratios within
# the run): sync mode vs a dm raid1 of a local disk + rbd-nbd; cdpd
# draining a backlog vs rbd bench; async lag (RPO) under a steady load at
# half of the cluster's ingest; cdpd RSS under load.
#   sudo scripts/bench-cdpd.sh [RUNTIME_SECONDS]
# The guest's whole output goes to $BENCH_LOG (default
# /tmp/bench-cdpd-guest.log) as it runs; CDP_VM_SMP=N gives the guest N vCPUs;
# BENCH_PERF=1 adds a whole-guest perf profile of the drain's first 6 s.
set -uo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"
. tests/lib/e2e.sh
e2e_setup || exit 1
LOG=${BENCH_LOG:-/tmp/bench-cdpd-guest.log}
BENCH_RUNTIME=${1:-20} e2e_vm --timeout 1500 --disk "$E2E_TMP/s.img:128M" \
	--disk "$E2E_TMP/a.img:128M" --disk "$E2E_TMP/d.img:128M" \
	-- env BENCH_RUNTIME="${1:-20}" BENCH_PERF="${BENCH_PERF:-0}" scripts/bench-cdpd-guest.sh > "$LOG" 2>&1
grep -E '^(BENCH |#)' "$LOG"
python3 "$TOP/scripts/bench-cdpd-report.py" < "$LOG"
