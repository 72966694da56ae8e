#!/bin/bash
# Freeze-time benchmark (issue 6): N application-consistent snapshots
# (`cdpctl snap create --freeze`) through the real cdpd + dm-cdp in one VM
# boot while fio dirties the file system, first without and then with the
# pre-freeze flush (lib/freeze.c presync_mounts), alternating, so both
# modes see the same load. Prints p50/p99/max of freeze_ms (FIFREEZE to
# FITHAW: what the application waits for), mark_ms and sync_ms per mode.
#   sudo scripts/bench-snap.sh [SNAPSHOTS_PER_MODE] [FIO_RATE]
# Defaults: 20 snapshots per mode, fio buffered random writes at 512 KiB/s.
set -uo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"
. tests/lib/e2e.sh
e2e_setup || exit 1
n=${1:-20} rate=${2:-512k}
out=$(e2e_vm --timeout $((300 + n * 2 * 20)) --disk "$E2E_TMP/s.img:256M" \
	-- env BENCH_SNAPS="$n" BENCH_RATE="$rate" scripts/bench-snap-guest.sh 2>&1)
rc=$?
echo "$out" | grep -E '^(BENCH|#)'
[ $rc = 0 ] || { echo "$out" | tail -n 30; tail -n 20 "$E2E_TMP/cdpd.log" 2>/dev/null; exit 1; }
echo "$out" | python3 -c '
import sys
rows = {}
for l in sys.stdin:
    p = l.split()
    if len(p) == 6 and p[0] == "BENCH" and p[1] == "snap":
        rows.setdefault(p[2], []).append([float(x) for x in p[3:]])
def pct(v, q):
    v = sorted(v)
    return v[max(0, -(-len(v) * q // 100) - 1)]
print("| mode | snapshots | freeze_ms p50 | freeze_ms p99 | freeze_ms max | mark_ms p50 | sync_ms p50 |")
print("|---|---:|---:|---:|---:|---:|---:|")
for m in ("nopresync", "presync"):
    r = rows.get(m, [])
    if not r:
        continue
    f = [x[0] for x in r]; k = [x[1] for x in r]; s = [x[2] for x in r]
    print("| %s | %d | %.1f | %.1f | %.1f | %.1f | %.1f |" % (m, len(r), pct(f, 50), pct(f, 99), max(f), pct(k, 50), pct(s, 50)))
if rows.get("nopresync") and rows.get("presync"):
    a = pct([x[0] for x in rows["presync"]], 99); b = pct([x[0] for x in rows["nopresync"]], 99)
    print("freeze p99 with pre-flush / without: %.2fx (goal: p99 <= 50 ms)" % (a / b))
'
