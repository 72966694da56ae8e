#!/bin/bash
# cdpd benchmarks in one VM boot against one Ceph sandbox (ratios within
# the run): sync mode vs a dm raid1 of a local disk + rbd-nbd; cdpd
# draining a backlog vs rbd bench; async lag (RPO) under a steady load at
# half of the sustained rate; cdpd RSS under load.
#   sudo scripts/bench-cdpd.sh [RUNTIME_SECONDS]
set -uo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"
. tests/lib/e2e.sh
e2e_setup || exit 1
out=$(BENCH_RUNTIME=${1:-20} e2e_vm --timeout 1500 --disk "$E2E_TMP/s.img:128M" \
	--disk "$E2E_TMP/a.img:128M" --disk "$E2E_TMP/d.img:128M" \
	-- env BENCH_RUNTIME="${1:-20}" scripts/bench-cdpd-guest.sh 2>&1)
echo "$out" | grep -E '^(BENCH|#)' 
echo "$out" | python3 "$TOP/scripts/bench-cdpd-report.py"
