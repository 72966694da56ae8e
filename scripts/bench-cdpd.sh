#!/bin/bash
# cdpd benchmarks in one VM boot against one Ceph sandbox (ratios within
# the run): sync mode vs a dm raid1 of a local disk + rbd-nbd; cdpd
# draining a backlog vs rbd bench; async lag (RPO) under a steady load at
# half of the cluster's ingest; cdpd RSS under load.
#   sudo scripts/bench-cdpd.sh [RUNTIME_SECONDS]
# The guest's whole output goes to $BENCH_LOG (default
# /tmp/bench-cdpd-guest.log) as it runs; CDP_VM_SMP=N gives the guest N vCPUs;
# BENCH_PERF=1 adds a whole-guest perf profile of the drain's first 6 s.
# BENCH_OSD_LIMIT=N: the OSD schedules client I/O with mclock and caps it
# (osd_mclock_scheduler_client_lim N; N=20 gives ~50-110 ops/s here, less
# for larger writes): a cluster that bounds the job, as a real one does
# next to a real client CPU. In this TCG guest every instruction costs
# 10-50x a real CPU's, so uncapped the guest's CPU, not the cluster, sets
# every rate. Both sides of each ratio talk to the same capped cluster.
set -uo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"
. tests/lib/e2e.sh
osd=()
[ -n "${BENCH_OSD_LIMIT:-}" ] && osd=(--osd-conf "osd_op_queue = mclock_scheduler"
	--osd-conf "osd_mclock_profile = custom" --osd-conf "osd_mclock_skip_benchmark = true"
	--osd-conf "osd_mclock_scheduler_client_lim = $BENCH_OSD_LIMIT")
e2e_setup "${osd[@]}" || exit 1
echo "# cluster: ${BENCH_OSD_LIMIT:+mclock client limit }${BENCH_OSD_LIMIT:-no QoS limit}; host load $(cut -d' ' -f1-3 /proc/loadavg)"
LOG=${BENCH_LOG:-/tmp/bench-cdpd-guest.log}
BENCH_RUNTIME=${1:-20} e2e_vm --timeout 1500 --disk "$E2E_TMP/s.img:128M" \
	--disk "$E2E_TMP/a.img:128M" --disk "$E2E_TMP/d.img:128M" \
	-- env BENCH_RUNTIME="${1:-20}" BENCH_PERF="${BENCH_PERF:-0}" scripts/bench-cdpd-guest.sh > "$LOG" 2>&1
grep -E '^(BENCH |#)' "$LOG"
python3 "$TOP/scripts/bench-cdpd-report.py" < "$LOG"
