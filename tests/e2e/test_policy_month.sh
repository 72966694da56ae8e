#!/bin/bash
# A simulated month of `cdpctl schedule run --now ...` against a real RBD image
# in a Ceph sandbox (host side, direct mode: the image is registered as an
# 'external' volume, so the scheduler snapshots it without cdpd).
#
# October 2026 in Europe/Berlin (DST ends on the 25th), policy every 12h with
# GFS keep rules, three runs per slot (every 5 min around the DST change and
# after the outage), a 35-hour outage (one
# catch-up snapshot, not a burst), a clone that blocks pruning of its parent
# until it is removed. An independent Python model computes which snapshots
# must have been taken (names) and which must be left; catalog, RBD and
# model must agree exactly.
# timeout: 600
set -uo pipefail
TOP=$(cd "$(dirname "$0")/../.." && pwd)
. "$TOP/tests/lib/tap.sh"
. "$TOP/tests/lib/ceph.sh"

CDPCTL=$TOP/ctl/cdpctl
[ "$(id -u)" = 0 ] || { echo "1..0 # SKIP needs root for the Ceph sandbox"; exit 4; }
[ -x "$CDPCTL" ] || { echo "1..0 # SKIP build first (make user)"; exit 4; }

# The catalog on tmpfs: a run that finds nothing due then costs ~20 ms,
# not an fsync'd commit on a busy disk.
W=$(mktemp -d /dev/shm/test_policy_month.XXXXXX)
cleanup() { ceph_cleanup; rm -rf "$W"; }
trap cleanup EXIT

# Our own copy: the shared tree's ctl/cdpctl vanishes while anyone relinks it.
cp "$CDPCTL" "$W/cdpctl" && CDPCTL=$W/cdpctl
export TZ=Europe/Berlin
CAT=$W/catalog.db
C() { "$CDPCTL" -c "$CAT" "$@"; }
Q() { sqlite3 "$CAT" "$@"; }

tap_plan 10

ceph_start >/dev/null 2>"$W/ceph.log" || { tap_diag "$(cat "$W/ceph.log")"; echo "Bail out! Ceph sandbox did not start"; exit 1; }
ceph_rbd create --size 64M rbd/month >/dev/null

Q "SELECT 1" >/dev/null
C policy list >/dev/null
Q "INSERT INTO volumes (name, rbd_pool, rbd_image, state, created_at)
   VALUES ('vm', 'rbd', 'month', 'external', 0)"
C policy add m --volumes vm --every 12h --keep-last 3 --keep-hourly 4 \
	--keep-daily 5 --keep-weekly 3 --keep-monthly 2

# Run times: every 4 h (3 runs per slot: all but the first must be no-ops),
# every 5 min for 2 h across the DST change and after the outage; none
# during the outage Oct 10 02:00Z .. Oct 11 13:00Z. (A run costs ~0.1 s of
# process start-up on a loaded host, so a minute-by-minute month would take
# an hour.)
python3 - "$W" <<'PY'
import sys, datetime as dt, zoneinfo
w = sys.argv[1]
tz = zoneinfo.ZoneInfo("Europe/Berlin")
utc = dt.timezone.utc
ts = lambda *a, tzinfo=utc: int(dt.datetime(*a, tzinfo=tzinfo).timestamp())
start, end = ts(2026, 10, 1, tzinfo=tz) + 420, ts(2026, 11, 1, tzinfo=tz)
out0, out1 = ts(2026, 10, 10, 2), ts(2026, 10, 11, 13)
dst = ts(2026, 10, 25, 0)
runs = set(range(start, end, 14400))
runs |= set(range(dst, dst + 7200, 300)) | set(range(out1, out1 + 7200, 300))
runs = sorted(t for t in runs if not out0 <= t < out1)
open(w + "/runs", "w").write("\n".join(map(str, runs)) + "\n")
open(w + "/outage", "w").write("%d %d\n" % (out0, out1))
PY
read -r OUT0 OUT1 < "$W/outage"

# The clone: made from the newest snapshot at the first run of Oct 2 (UTC),
# which retention drops two days later; removed on Oct 6. Pruning must
# skip its parent in between.
clone_made=0 clone_gone=0 clone_parent="" fails=0
started=$SECONDS
while read -r t; do
	if ! C schedule run --now "$t" >>"$W/run.log" 2>&1; then
		fails=$((fails + 1))
	fi
	if [ $clone_made = 0 ] && [ "$t" -ge 1790899200 ]; then	# 2026-10-02T00:00Z
		clone_parent=$(Q "SELECT name FROM snapshots WHERE state = 'live' ORDER BY created_at DESC LIMIT 1")
		ceph_rbd clone "rbd/month@$clone_parent" rbd/month-clone >/dev/null 2>"$W/clone.err" ||
			tap_diag "rbd clone: $(cat "$W/clone.err")"
		clone_made=1
	fi
	if [ $clone_gone = 0 ] && [ "$t" -ge 1791244800 ]; then	# 2026-10-06T00:00Z
		ceph_rbd rm rbd/month-clone >/dev/null 2>&1
		clone_gone=1
	fi
done < "$W/runs"
tap_diag "$(wc -l < "$W/runs") runs in $((SECONDS - started)) s, clone parent $clone_parent"

# The model: first run in each 12h slot (UTC grid) takes <policy>-<slot>;
# GFS over the taken set in local time (hours by wall clock + offset).
python3 - "$W" <<'EOF' > "$W/model"
import sys, datetime as dt, zoneinfo
w = sys.argv[1]
tz = zoneinfo.ZoneInfo("Europe/Berlin")
I = 12 * 3600
taken = []
last_slot = None
for t in map(int, open(w + "/runs")):
    slot = t - t % I
    if slot != last_slot:
        name = "m-" + dt.datetime.fromtimestamp(slot, dt.timezone.utc).strftime("%Y%m%dT%H%MZ")
        taken.append((t, name))
        last_slot = slot
keep = dict(last=3, hourly=4, daily=5, weekly=3, monthly=2)
def buckets(t):
    d = dt.datetime.fromtimestamp(t, tz)
    monday = (d.date() - dt.timedelta(days=d.weekday())).isoformat()
    return dict(hourly=d.strftime("%Y-%m-%d %H") + str(d.utcoffset()),
                daily=d.date().isoformat(), weekly=monday, monthly=d.strftime("%Y-%m"))
kept = set()
newest_first = sorted(taken, reverse=True)
for t, n in newest_first[:keep["last"]]:
    kept.add(n)
for rule in ("hourly", "daily", "weekly", "monthly"):
    seen = []
    for t, n in newest_first:
        b = buckets(t)[rule]
        if b in seen:
            continue
        seen.append(b)
        if len(seen) > keep[rule]:
            break
        kept.add(n)
print("taken", " ".join(n for t, n in taken))
print("kept", " ".join(sorted(kept)))
EOF
model_taken=$(sed -n 's/^taken //p' "$W/model")
model_kept=$(sed -n 's/^kept //p' "$W/model" | tr ' ' '\n' | sort | tr '\n' ' ')

# 1. every run succeeded
if [ "$fails" = 0 ]; then tap_ok "every schedule run exited 0"; else
	tap_fail "every schedule run exited 0 ($fails failed)"; tap_diag "$(grep -i error "$W/run.log" | head)"; fi

# 2. the snapshots taken, by name, in order
cat_taken=$(Q "SELECT name FROM snapshots ORDER BY created_at" | tr '\n' ' ' | sed 's/ $//')
if [ "$cat_taken" = "$model_taken" ]; then
	tap_ok "snapshots taken: exactly the policy's slots ($(wc -w <<< "$cat_taken"))"
else
	tap_fail "snapshots taken: exactly the policy's slots"
	tap_diag "$(diff <(tr ' ' '\n' <<< "$model_taken") <(tr ' ' '\n' <<< "$cat_taken") | head -20)"
fi

# 3. the ones left are what GFS keeps
cat_live=$(Q "SELECT name FROM snapshots WHERE state = 'live' ORDER BY name" | tr '\n' ' ')
if [ "$cat_live" = "$model_kept" ]; then
	tap_ok "live snapshots = GFS model ($(wc -w <<< "$cat_live"))"
else
	tap_fail "live snapshots = GFS model"
	tap_diag "model:   $model_kept"
	tap_diag "catalog: $cat_live"
fi

# 4. Ceph agrees with the catalog
rbd_live=$(ceph_rbd snap ls --format json rbd/month |
	python3 -c 'import json,sys; print(" ".join(sorted(s["name"] for s in json.load(sys.stdin))))')
# (and the records in Ceph that `catalog sync` rebuilds a catalog from)
rec_live=$(ceph_exec rados -p rbd listomapkeys cdp_volume.vm 2>/dev/null | sed -n 's/^snap\.//p' | sort | tr '\n' ' ')
if [ "$rbd_live " = "$cat_live" ] && [ "$rec_live" = "$cat_live" ]; then
	tap_ok "RBD snapshots = Ceph records = catalog live snapshots"
else
	tap_fail "RBD snapshots = Ceph records = catalog live snapshots"
	tap_diag "rbd:     $rbd_live"
	tap_diag "records: $rec_live"
	tap_diag "catalog: $cat_live"
fi

# 5. every action is an event
n_taken=$(wc -w <<< "$model_taken") n_kept=$(wc -w <<< "$model_kept")
ev_snap=$(Q "SELECT count(*) FROM events WHERE kind = 'schedule.snapshot'")
ev_prune=$(Q "SELECT count(*) FROM events WHERE kind = 'schedule.prune'")
if [ "$ev_snap" = "$n_taken" ] && [ "$ev_prune" = $((n_taken - n_kept)) ]; then
	tap_ok "events: $ev_snap snapshot, $ev_prune prune"
else
	tap_fail "events: $ev_snap snapshot (want $n_taken), $ev_prune prune (want $((n_taken - n_kept)))"
fi

# 6. the outage: nothing inside, one catch-up snapshot at the first run after
n_in=$(Q "SELECT count(*) FROM snapshots WHERE created_at >= $OUT0 AND created_at < $OUT1")
first_after=$(Q "SELECT created_at FROM snapshots WHERE created_at >= $OUT1 ORDER BY created_at LIMIT 1")
n_next_slot=$(Q "SELECT count(*) FROM snapshots WHERE created_at >= $OUT1 AND created_at < $(( (OUT1 / 43200 + 1) * 43200 ))")
catchup=$(Q "SELECT count(*) FROM events WHERE kind = 'schedule.snapshot' AND message LIKE '%catch-up%'")
if [ "$n_in" = 0 ] && [ "$first_after" = "$OUT1" ] && [ "$n_next_slot" = 1 ] && [ "$catchup" = 1 ]; then
	tap_ok "35 h outage: one catch-up snapshot at the first run after it"
else
	tap_fail "35 h outage: in=$n_in first_after=$first_after (want $OUT1) in_slot=$n_next_slot catch-up events=$catchup"
fi

# 7. the clone kept its parent while it existed, then the parent was pruned
blocked=$(Q "SELECT count(*) FROM events WHERE kind = 'schedule.keep-clones' AND message LIKE '%$clone_parent%'")
blocked_runs=$(grep -c "keep-clones $clone_parent" "$W/run.log")
parent_state=$(Q "SELECT state FROM snapshots WHERE name = '$clone_parent'")
# (reported by every run, logged once a day, not once a minute)
if [ "$blocked" = 1 ] && [ "$blocked_runs" -gt 1 ] && [ "$parent_state" = deleted ] && [ -n "$clone_parent" ]; then
	tap_ok "clone blocked pruning of $clone_parent ($blocked_runs runs, 1 event), pruned after the clone went"
else
	tap_fail "clone blocked pruning of '$clone_parent': events=$blocked runs=$blocked_runs state=$parent_state"
fi

# 8. status: the last run's result and the next slot
st=$(C -j schedule status --now "$(tail -n1 "$W/runs")")
if python3 -c 'import json,sys; s=json.loads(sys.argv[1])[0]; assert s["last_result"]=="ok" and s["next_due"] and s["snapshots"]>0, s' "$st" 2>"$W/err"; then
	tap_ok "schedule status --json: last result ok, next due time"
else
	tap_fail "schedule status --json"; tap_diag "$st $(cat "$W/err")"
fi

# 9. a dry run changes nothing
before=$(Q "SELECT count(*) FROM events")
dry=$(C schedule run --now "$(( $(tail -n1 "$W/runs") + 86400 ))" --dry-run)
after=$(Q "SELECT count(*) FROM events")
if [ "$before" = "$after" ] && grep -q "would take snapshot" <<< "$dry"; then
	tap_ok "--dry-run reports, changes nothing"
else
	tap_fail "--dry-run reports, changes nothing ($before -> $after events)"; tap_diag "$dry"
fi

# 10. a new host rebuilds its catalog from Ceph: the same live snapshots
"$CDPCTL" -c "$W/rebuilt.db" catalog sync >"$W/sync" 2>&1
rebuilt=$(sqlite3 "$W/rebuilt.db" "SELECT s.name FROM snapshots s JOIN volumes v ON v.id = s.volume_id
	WHERE v.name = 'vm' AND s.state = 'live' ORDER BY s.name" 2>/dev/null | tr '\n' ' ')
if [ "$rebuilt" = "$cat_live" ]; then
	tap_ok "catalog sync on an empty catalog: the same $(wc -w <<< "$rebuilt") live snapshots"
else
	tap_fail "catalog sync: '$rebuilt'"; tap_diag "$(cat "$W/sync")"
fi
tap_done
