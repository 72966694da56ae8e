#!/bin/bash
# `cdpctl schedule run` against a Ceph sandbox (direct mode, 'external'
# images): the run lock (a held lock makes a run exit at once; two runs
# started together do the work once), one failing policy does not stop the
# others, paused policies are skipped, idempotence within a slot.
# timeout: 180
set -uo pipefail
TOP=$(cd "$(dirname "$0")/../.." && pwd)
. "$TOP/tests/lib/tap.sh"
. "$TOP/tests/lib/ceph.sh"

[ "$(id -u)" = 0 ] || { echo "1..0 # SKIP needs root for the Ceph sandbox"; exit 4; }
[ -x "$TOP/ctl/cdpctl" ] || { echo "1..0 # SKIP build first (make user)"; exit 4; }
command -v flock >/dev/null || { echo "1..0 # SKIP flock(1) missing"; exit 4; }

W=$(mktemp -d /tmp/test_policy_run.XXXXXX)
holder=""
cleanup() {
	[ -n "$holder" ] && kill "$holder" 2>/dev/null
	ceph_cleanup
	rm -rf "$W"
}
trap cleanup EXIT
cp "$TOP/ctl/cdpctl" "$W/cdpctl"
export TZ=UTC
CAT=$W/catalog.db
C() { "$W/cdpctl" -c "$CAT" "$@"; }
Q() { sqlite3 "$CAT" "$@"; }
T0=1796086800	# 2026-12-01T01:00:00Z, on the 15m grid

tap_plan 12

ceph_start >/dev/null 2>"$W/ceph.log" || { tap_diag "$(cat "$W/ceph.log")"; echo "Bail out! Ceph sandbox did not start"; exit 1; }
ceph_rbd create --size 16M rbd/good >/dev/null
C policy list >/dev/null
Q "INSERT INTO volumes (name, rbd_pool, rbd_image, state, created_at) VALUES
	('good', 'rbd', 'good', 'external', 0), ('gone', 'rbd', 'no-such-image', 'external', 0)"
C policy add a-broken --volumes gone --every 15m --keep-last 2
C policy add b-good --volumes good --every 15m --keep-last 2

# 1. one broken policy: the run fails (exit 1) but the good one is served
C schedule run --now $T0 >"$W/out1" 2>"$W/err1"
rc=$?
good=$(Q "SELECT count(*) FROM snapshots s JOIN policies p ON p.id = s.policy_id WHERE p.name = 'b-good'")
res=$(Q "SELECT group_concat(name || '=' || last_result, ' ') FROM (SELECT name, last_result FROM policies ORDER BY name)")
errev=$(Q "SELECT count(*) FROM events WHERE kind = 'schedule.snapshot-failed'")
if [ "$rc" = 1 ] && [ "$good" = 1 ] && [ "$res" = "a-broken=failed b-good=ok" ] && [ "$errev" = 1 ]; then
	tap_ok "a failing policy is recorded, the next one still runs (exit 1)"
else
	tap_fail "failure isolation: rc=$rc good=$good results=$res error-events=$errev"
	tap_diag "$(cat "$W/out1" "$W/err1")"
fi
C policy remove a-broken

# 2. idempotent: a second run in the same slot does nothing
C schedule run --now $((T0 + 60)) >"$W/out2" 2>&1
n=$(Q "SELECT count(*) FROM snapshots")
if [ "$n" = 1 ] && ! grep -q snapshot "$W/out2"; then
	tap_ok "second run in the same slot: no action"
else
	tap_fail "second run in the same slot: $n snapshots"; tap_diag "$(cat "$W/out2")"
fi

# 3. a held lock: the run exits at once, with a message, doing nothing
# one process holds the lock (killing it releases it; flock(1) would leave
# its child holding the descriptor)
python3 -c 'import fcntl, sys, time
f = open(sys.argv[1], "a"); fcntl.flock(f, fcntl.LOCK_EX); time.sleep(60)' "$W/schedule.lock" &
holder=$!
for _ in $(seq 300); do flock -n "$W/schedule.lock" true || break; sleep 0.1; done
flock -n "$W/schedule.lock" true && echo "# the lock holder has not taken the lock after 30 s"
ev0=$(Q "SELECT count(*) FROM events")
start=$(date +%s.%N)
C schedule run --now $((T0 + 900)) >"$W/out3" 2>"$W/err3"
rc=$?
took=$(echo "$(date +%s.%N) - $start" | bc)
ev1=$(Q "SELECT count(*) FROM events")
if [ "$rc" = 0 ] && grep -q "another schedule run" "$W/err3" && [ "$ev0" = "$ev1" ] &&
   [ "$(echo "$took < 15" | bc)" = 1 ] && [ ! -s "$W/out3" ]; then
	tap_ok "lock held: run exits at once ($(printf %.2f "$took") s) with \"$(cat "$W/err3")\""
else
	tap_fail "lock held: rc=$rc took=$took events $ev0->$ev1"; tap_diag "$(cat "$W/out3" "$W/err3")"
fi
kill "$holder"; wait "$holder" 2>/dev/null; holder=""

# 4. two runs started together, five times: each slot's snapshot exactly once
locked=0 bad=0
for i in 1 2 3 4 5; do
	t=$((T0 + i * 900 + 30))
	C schedule run --now $t >"$W/a$i" 2>&1 &
	pa=$!
	C schedule run --now $t >"$W/b$i" 2>&1 &
	pb=$!
	wait $pa $pb
	took=$(cat "$W/a$i" "$W/b$i" | grep -c "took snapshot")
	grep -qh "another schedule run" "$W/a$i" "$W/b$i" && locked=$((locked + 1))
	[ "$took" = 1 ] || { bad=$((bad + 1)); tap_diag "slot $i: $(cat "$W/a$i" "$W/b$i")"; }
done
n=$(Q "SELECT count(*) FROM snapshots")
ev=$(Q "SELECT count(*) FROM events WHERE kind = 'schedule.snapshot'")
if [ "$bad" = 0 ] && [ "$n" = 6 ] && [ "$ev" = 6 ]; then
	tap_ok "two concurrent runs: exactly one snapshot per slot ($locked of 5 met the lock)"
else
	tap_fail "two concurrent runs: bad=$bad snapshots=$n events=$ev"
fi

# 5. keep-last 2 held after all that, in Ceph and in the catalog
live=$(Q "SELECT name FROM snapshots WHERE state = 'live' ORDER BY name" | tr '\n' ' ')
rbd_live=$(ceph_rbd snap ls --format json rbd/good |
	python3 -c 'import json,sys; print(" ".join(sorted(s["name"] for s in json.load(sys.stdin))))')
if [ "$live" = "b-good-20261201T0200Z b-good-20261201T0215Z " ] && [ "$rbd_live " = "$live" ]; then
	tap_ok "keep-last 2: catalog and RBD agree ($live)"
else
	tap_fail "keep-last 2: catalog '$live' rbd '$rbd_live'"
fi

# 6. paused: nothing taken, nothing pruned; resumed: due again
C policy pause b-good
C schedule run --now $((T0 + 7200)) >"$W/out6" 2>&1
n_paused=$(Q "SELECT count(*) FROM snapshots")
st=$(C schedule status --now $((T0 + 7200)))
C policy resume b-good
C schedule run --now $((T0 + 7200)) >>"$W/out6" 2>&1
n_resumed=$(Q "SELECT count(*) FROM snapshots")
if [ "$n_paused" = 6 ] && [ "$n_resumed" = 7 ] && grep -q "next-due paused" <<< "$st"; then
	tap_ok "paused policy skipped, resumed policy due again"
else
	tap_fail "pause: $n_paused / $n_resumed snapshots, status: $st"; tap_diag "$(cat "$W/out6")"
fi

# 7. status after the run: next due is the next slot
st=$(C -j schedule status --now $((T0 + 7260)))
if python3 -c '
import json, sys
s = json.loads(sys.argv[1])[0]
assert s["name"] == "b-good" and s["next_due"] == "2026-12-01T03:15:00Z", s
assert s["last_result"] == "ok" and s["snapshots"] == 2, s' "$st" 2>"$W/err7"; then
	tap_ok "schedule status --json: next due 03:15Z, last result ok"
else
	tap_fail "schedule status --json"; tap_diag "$st $(cat "$W/err7")"
fi

# 8. a snapshot left in Ceph by a run that died before the catalog write
# (same slot name) is adopted: protected, recorded, no error
ceph_rbd snap create rbd/good@b-good-20261201T0315Z >/dev/null 2>&1
C schedule run --now $((T0 + 8100)) >"$W/out9" 2>&1
rc=$?
row=$(Q "SELECT state || ' ' || protected FROM snapshots WHERE name = 'b-good-20261201T0315Z'")
if [ "$rc" = 0 ] && [ "$row" = "live 1" ] &&
   ceph_rbd info rbd/good@b-good-20261201T0315Z 2>/dev/null | grep -q "protected: True"; then
	tap_ok "leftover RBD snapshot of the slot adopted (protected, recorded)"
else
	tap_fail "adopt leftover: rc=$rc row='$row'"; tap_diag "$(cat "$W/out9")"
fi

# 10. prune: a connection that fails for want of a ceph.conf (-ENOENT from
# librados) is a failure, not "the snapshot is already gone"
vid=$(Q "SELECT id FROM volumes WHERE name = 'good'")
pid=$(Q "SELECT id FROM policies WHERE name = 'b-good'")
old=b-good-20261201T0000Z
Q "INSERT INTO snapshots (volume_id, name, created_at, policy_id, state)
	VALUES ($vid, '$old', $((T0 - 3600)), $pid, 'live')"
CEPH_CONF=$W/no-such.conf C schedule run --now $((T0 + 8160)) >"$W/out10" 2>&1
rc=$?
st=$(Q "SELECT state FROM snapshots WHERE name = '$old'")
if [ "$rc" = 1 ] && [ "$st" = live ]; then
	tap_ok "prune without a Ceph connection fails and marks nothing deleted"
else
	tap_fail "prune without a Ceph connection: rc=$rc, $old is '$st'"; tap_diag "$(cat "$W/out10")"
fi

# 11. a snapshot handed to the archive is not pruned before it is archived
Q "UPDATE policies SET archive_after_days = 30 WHERE id = $pid;
   INSERT INTO events (time, policy_id, level, kind, message) VALUES (0, $pid, 'info',
	'schedule.archive-start', 'archive rbd/good@$old to stdio:/dev/null started')"
C schedule run --now $((T0 + 8220)) >"$W/out11" 2>&1
st=$(Q "SELECT state FROM snapshots WHERE name = '$old'")
if [ "$st" = live ] && grep -q "keep-archiving" "$W/out11"; then
	tap_ok "a snapshot being archived is kept past its keep rules"
else
	tap_fail "snapshot being archived: '$st'"; tap_diag "$(cat "$W/out11")"
fi

# 12. without that (and with Ceph): pruned, as already gone from RBD
Q "DELETE FROM events WHERE kind = 'schedule.archive-start';
   UPDATE policies SET archive_after_days = NULL WHERE id = $pid"
C schedule run --now $((T0 + 8280)) >"$W/out12" 2>&1
st=$(Q "SELECT state FROM snapshots WHERE name = '$old'")
if [ "$st" = deleted ] && grep -q "already gone" "$W/out12"; then
	tap_ok "then pruned: the RBD snapshot was already gone"
else
	tap_fail "prune after: '$st'"; tap_diag "$(cat "$W/out12")"
fi

# 9. --now rejects garbage with the accepted forms in the message
err=$(C schedule run --now yesterday 2>&1)
rc=$?
if [ "$rc" = 2 ] && grep -q "ISO-8601" <<< "$err"; then
	tap_ok "schedule run --now yesterday: usage error naming the formats"
else
	tap_fail "--now yesterday: rc=$rc $err"
fi
tap_done
