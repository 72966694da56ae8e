#!/bin/bash
# Archive hand-off: a policy with --archive-after 2d hands its oldest kept
# snapshot to `cdpctl archive create ... --drive stdio:FILE` in the
# background (schedule run returns at once), one archive at a time per
# policy, recorded in events and the archives table; the disc verifies.
# Ceph sandbox on the host, direct mode ('external' image).
# timeout: 240
set -uo pipefail
TOP=$(cd "$(dirname "$0")/../.." && pwd)
. "$TOP/tests/lib/tap.sh"
. "$TOP/tests/lib/ceph.sh"

[ "$(id -u)" = 0 ] || { echo "1..0 # SKIP needs root for the Ceph sandbox"; exit 4; }
[ -x "$TOP/ctl/cdpctl" ] || { echo "1..0 # SKIP build first (make user)"; exit 4; }

W=$(mktemp -d /tmp/test_policy_archive.XXXXXX)
cleanup() {
	local pid
	# the background archive, if a failure left it running (pid in its lock file)
	for f in "$W"/archive-*.lock; do
		[ -f "$f" ] || continue
		flock -n "$f" true && continue
		pid=$(cat "$f" 2>/dev/null)
		[ -n "$pid" ] && kill "$pid" 2>/dev/null
	done
	ceph_cleanup
	rm -rf "$W"
}
trap cleanup EXIT
cp "$TOP/ctl/cdpctl" "$W/cdpctl"
export TZ=UTC
CAT=$W/catalog.db
C() { "$W/cdpctl" -c "$CAT" "$@"; }
Q() { sqlite3 "$CAT" "$@"; }
D0=1796083200	# 2026-12-01T00:00:00Z

tap_plan 7

ceph_start >/dev/null 2>"$W/ceph.log" || { tap_diag "$(cat "$W/ceph.log")"; echo "Bail out! Ceph sandbox did not start"; exit 1; }
ceph_rbd create --size 8M rbd/arch >/dev/null
# some allocated data in the image to archive
ceph_exec rbd bench --io-type write --io-size 64K --io-total 1M rbd/arch >/dev/null 2>&1

C policy list >/dev/null
Q "INSERT INTO volumes (name, rbd_pool, rbd_image, state, created_at) VALUES ('va', 'rbd', 'arch', 'external', 0)"
C policy add arch --volumes va --every 1d --keep-daily 7 --archive-after 2d \
	--drive "stdio:$W/disc1" --capacity 8M
PID=$(Q "SELECT id FROM policies WHERE name = 'arch'")

C schedule run --now $((D0 + 600)) >/dev/null
C schedule run --now $((D0 + 86400 + 600)) >/dev/null
n_before=$(Q "SELECT count(*) FROM events WHERE kind = 'schedule.archive'")

# day 2: the day-0 snapshot is 2 days old -> handed over in the background
start=$SECONDS
C schedule run --now $((D0 + 2 * 86400 + 600)) >"$W/out2" 2>&1
rc=$?
took=$((SECONDS - start))
if [ "$rc" = 0 ] && [ "$n_before" = 0 ] && grep -q "archive rbd/arch@arch-20261201T0000Z" "$W/out2" &&
   [ "$took" -lt 20 ]; then
	tap_ok "day 2: arch-20261201T0000Z handed to the archive, run returned in ${took}s"
else
	tap_fail "day 2 hand-off: rc=$rc before=$n_before took=${took}s"; tap_diag "$(cat "$W/out2")"
fi

# while it may still run: a second run does not start another one
C schedule run --now $((D0 + 2 * 86400 + 660)) >"$W/out3" 2>&1
if ! grep -q " archive " "$W/out3"; then
	tap_ok "a run meanwhile hands nothing over again"
else
	tap_fail "second hand-off"; tap_diag "$(cat "$W/out3")"
fi

# wait for the background archive (it holds archive-<policy id>.lock)
if flock -w 150 "$W/archive-$PID.lock" true; then
	tap_ok "background archive ended"
else
	tap_fail "background archive still running after 150 s"
fi

done_ev=$(Q "SELECT count(*) FROM events WHERE kind = 'schedule.archive-done'")
if [ "$done_ev" = 1 ]; then
	tap_ok "event schedule.archive-done"
else
	tap_fail "archive events: $(Q "SELECT kind || ': ' || message FROM events WHERE kind LIKE 'schedule.archive%'")"
fi

if C archive verify "stdio:$W/disc1" >"$W/verify" 2>&1; then
	tap_ok "the disc verifies: $(head -c 200 "$W/verify")"
else
	tap_fail "archive verify"; tap_diag "$(cat "$W/verify")"
fi

# archived (complete row) or at least not handed over again; the next
# snapshot in line is day 1's on day 3
C schedule run --now $((D0 + 2 * 86400 + 720)) >"$W/out4" 2>&1
again=$(grep -c "arch-20261201T0000Z" "$W/out4")
complete=$(Q "SELECT count(*) FROM archives a JOIN snapshots s ON s.id = a.snapshot_id
	WHERE s.name = 'arch-20261201T0000Z' AND a.state = 'complete'")
if [ "$again" = 0 ]; then
	tap_ok "not handed over twice (archives rows complete for it: $complete)"
else
	tap_fail "handed over twice"; tap_diag "$(cat "$W/out4")"
fi

# once retention drops it (7 days kept, on day 9 by daily runs), the archived snapshot leaves
# Ceph but its row stays as the stub that finds the discs. (Archiving is
# switched off first so no further archives start meanwhile.)
Q "UPDATE policies SET archive_after_days = NULL, archive_drives = NULL WHERE id = $PID"
for d in 3 4 5 6 7 8 9; do C schedule run --now $((D0 + d * 86400 + 600)) >>"$W/out5" 2>&1; done
state=$(Q "SELECT state FROM snapshots WHERE name = 'arch-20261201T0000Z'")
if [ "$state" = archived ] && ! ceph_rbd info rbd/arch@arch-20261201T0000Z >/dev/null 2>&1 &&
   grep -q "arch-20261201T0000Z; archived on discs, the catalog stub stays" "$W/out5"; then
	tap_ok "pruned after archiving: RBD snapshot gone, catalog row 'archived'"
else
	tap_fail "pruned after archiving: state=$state"; tap_diag "$(cat "$W/out5")"
fi
tap_done
