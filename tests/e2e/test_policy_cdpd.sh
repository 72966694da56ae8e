#!/bin/bash
# Scheduled snapshots of volumes served by cdpd go through the same path as
# `cdpctl snap create` (hooks, freeze, MARK over the control socket): here
# against the protocol test double of cdpd (tests/lib/cdpd_double.py) and a
# Ceph sandbox. Also: cdpd down -> the policy fails with cdpd's reason and
# nothing is quiesced; group policies; pruning removes the RBD snapshot and
# its record in Ceph.
# timeout: 180
set -uo pipefail
TOP=$(cd "$(dirname "$0")/../.." && pwd)
. "$TOP/tests/lib/tap.sh"
. "$TOP/tests/lib/ceph.sh"

[ "$(id -u)" = 0 ] || { echo "1..0 # SKIP needs root for the Ceph sandbox"; exit 4; }
[ -x "$TOP/ctl/cdpctl" ] || { echo "1..0 # SKIP build first (make user)"; exit 4; }

W=$(mktemp -d /tmp/test_policy_cdpd.XXXXXX)
cp "$TOP/ctl/cdpctl" "$W/cdpctl"
CDPCTL=$W/cdpctl
. "$TOP/tests/lib/snap.sh"
cleanup() { snap_double_stop; ceph_cleanup; rm -rf "$W"; }
trap cleanup EXIT
SNAP_DOUBLE_LOG=$W/double.log
export TZ=UTC CDP_CONTROL_SOCKET=$W/cdpd.sock
CAT=$W/cat/catalog.db
C() { "$CDPCTL" -c "$CAT" "$@"; }
Q() { sqlite3 "$CAT" "$@"; }
# Snapshots made by snap create carry the real time; --now steps into the
# future one slot per run so each run has a snapshot due. A day ahead:
# the real clock of a slow setup must not reach the slots.
NOW=$(( $(date +%s) + 86400 ))
at() { echo $(( (NOW / 60 + $1 + 1) * 60 + 5 )); }

tap_plan 9

ceph_start >/dev/null 2>"$W/ceph.log" || { tap_diag "$(cat "$W/ceph.log")"; echo "Bail out! Ceph sandbox did not start"; exit 1; }
export CEPH_CONF
rbd create --size 16M rbd/vol1 && rbd create --size 16M rbd/vol2
snap_catalog_init "$CAT" vol1=rbd/vol1 vol2=rbd/vol2
C policy add solo --volumes vol1 --every 1m --keep-last 2 \
	--pre "/usr/bin/touch $W/pre" --post "/usr/bin/touch $W/post"

# 1. no daemon: the policy fails with the reason, nothing was quiesced
C schedule run --now "$(at 0)" >"$W/out1" 2>&1
rc=$?
res=$(Q "SELECT last_result FROM policies WHERE name = 'solo'")
if [ "$rc" = 1 ] && [ "$res" = failed ] && grep -q "cdpd is not running" "$W/out1" && [ ! -e "$W/pre" ]; then
	tap_ok "cdpd down: policy failed with cdpd's reason, pre hook never ran"
else
	tap_fail "cdpd down: rc=$rc result=$res"; tap_diag "$(cat "$W/out1")"
fi

snap_double_start "$CDP_CONTROL_SOCKET" vol1=rbd/vol1 vol2=rbd/vol2 || { echo "Bail out! test double"; exit 1; }

# 2. through snap create: hooks ran, protected RBD snapshot, row tagged with the policy
C schedule run --now "$(at 1)" >"$W/out2" 2>&1
rc=$?
name=$(Q "SELECT s.name FROM snapshots s JOIN policies p ON p.id = s.policy_id WHERE p.name = 'solo'")
if [ "$rc" = 0 ] && [ -e "$W/pre" ] && [ -e "$W/post" ] && [ -n "$name" ] &&
   rbd info "rbd/vol1@$name" 2>/dev/null | grep -q "protected: True"; then
	tap_ok "snapshot $name via snap create: hooks ran, protected, tagged with the policy"
else
	tap_fail "snapshot via snap create: rc=$rc name=$name"; tap_diag "$(cat "$W/out2" "$SNAP_DOUBLE_LOG")"
fi
seq=$(Q "SELECT coalesce(seq, 0) FROM snapshots WHERE name = '$name'")
[ "${seq:-0}" -gt 0 ] && tap_ok "the row carries cdpd's MARK seq ($seq)" || tap_fail "seq: '$seq'"

# 3. two more slots: keep-last 2 prunes the first, in Ceph and in its Ceph record
C schedule run --now "$(at 2)" >"$W/out3" 2>&1
C schedule run --now "$(at 3)" >>"$W/out3" 2>&1
live=$(Q "SELECT count(*) FROM snapshots WHERE volume_id = 1 AND state = 'live'")
rbd_n=$(rbd snap ls rbd/vol1 | grep -c "solo-")
rec=$(rados -p rbd listomapkeys cdp_volume.vol1 2>/dev/null | grep -c "^snap.$name$")
recs=$(rados -p rbd listomapkeys cdp_volume.vol1 2>/dev/null | grep -c "^snap.solo-")
if [ "$live" = 2 ] && [ "$rbd_n" = 2 ] && ! rbd info "rbd/vol1@$name" >/dev/null 2>&1 &&
   [ "$rec" = 0 ] && [ "$recs" = 2 ]; then
	tap_ok "keep-last 2: $name pruned in Ceph, its record removed; 2 live"
else
	tap_fail "prune: live=$live rbd=$rbd_n record=$rec records=$recs"; tap_diag "$(cat "$W/out3")"
fi

# 4. a group policy snapshots both volumes as one consistency group
C policy remove solo
C policy add pair --volumes vol1 vol2 --every 1m --keep-last 1
C schedule run --now "$(at 4)" >"$W/out4" 2>&1
rows=$(Q "SELECT count(*), count(DISTINCT group_snap) FROM snapshots s JOIN policies p ON p.id = s.policy_id WHERE p.name = 'pair'")
if [ "$rows" = "2|1" ]; then
	tap_ok "group policy: one snapshot per volume, one group id"
else
	tap_fail "group policy rows: $rows"; tap_diag "$(cat "$W/out4")"
fi

# 5. the post hook fails after DONE: the snapshot exists and is the slot's
# (tagged, no retry within the slot), the policy reports the failure
C policy remove pair
C policy add hooky --volumes vol2 --every 1m --pre /usr/bin/true --post /bin/false
C schedule run --now "$(at 5)" >"$W/out5h" 2>&1
rc=$?
C schedule run --now "$(( $(at 5) + 20 ))" >>"$W/out5h" 2>&1
rows=$(Q "SELECT count(*) FROM snapshots s JOIN policies p ON p.id = s.policy_id WHERE p.name = 'hooky'")
res=$(Q "SELECT last_result FROM policies WHERE name = 'hooky'")
hev=$(Q "SELECT count(*) FROM events WHERE kind = 'schedule.snapshot-hook-failed'")
if [ "$rc" = 1 ] && [ "$rows" = 1 ] && [ "$res" = partial ] && [ "$hev" = 1 ]; then
	tap_ok "post hook failed: snapshot kept and tagged, result partial, no retry in the slot"
else
	tap_fail "post hook failed: rc=$rc rows=$rows result=$res events=$hev"; tap_diag "$(cat "$W/out5h")"
fi

# 6. a failing snapshot (cdpd refuses the MARK) is an error event, nothing is left
snap_double_stop
snap_double_start "$CDP_CONTROL_SOCKET" --fail-mark vol1=rbd/vol1 vol2=rbd/vol2 || echo "# the cdpd test double did not start"
n0=$(Q "SELECT count(*) FROM snapshots")
C schedule run --now "$(at 6)" >"$W/out5" 2>&1
rc=$?
n1=$(Q "SELECT count(*) FROM snapshots")
ev=$(Q "SELECT count(*) FROM events WHERE kind = 'schedule.snapshot-failed'")
if [ "$rc" = 1 ] && [ "$n0" = "$n1" ] && [ "$ev" = 2 ]; then
	tap_ok "MARK refused: snapshot-failed event, no row"
else
	tap_fail "MARK refused: rc=$rc rows $n0->$n1 events=$ev"; tap_diag "$(cat "$W/out5")"
fi

# 7. status names the failure
st=$(C -j schedule status --now "$(at 6)")
if python3 -c 'import json,sys; s=json.loads(sys.argv[1])[0]; assert s["last_result"]=="failed" and "snap create" in s["last_message"], s' "$st" 2>"$W/err6"; then
	tap_ok "status: last result failed, with the reason"
else
	tap_fail "status after failure"; tap_diag "$st $(cat "$W/err6")"
fi

# 8. a snap create that timed out after cdpd made the snapshot leaves it in
# RBD without a row; cdpd then refuses the name. The next run adopts it.
snap_double_stop
snap_double_start "$CDP_CONTROL_SOCKET" vol1=rbd/vol1 vol2=rbd/vol2 || echo "# the cdpd test double did not start"
C policy remove hooky
C policy add late --volumes vol1 --every 1m --keep-last 2
name=$(date -u -d "@$(( $(at 7) / 60 * 60 ))" +late-%Y%m%dT%H%MZ)
rbd snap create "rbd/vol1@$name" >/dev/null 2>&1
C schedule run --now "$(at 7)" >"$W/out8" 2>&1
rc=$?
row=$(Q "SELECT s.state || ' ' || s.protected FROM snapshots s JOIN policies p ON p.id = s.policy_id
	WHERE p.name = 'late' AND s.name = '$name'")
if [ "$rc" = 0 ] && [ "$row" = "live 1" ] && rbd info "rbd/vol1@$name" 2>/dev/null | grep -q "protected: True"; then
	tap_ok "a slot's snapshot left without a row is adopted ($name: protected, recorded)"
else
	tap_fail "adopt after a timed-out snap create: rc=$rc row='$row'"; tap_diag "$(cat "$W/out8")"
fi
tap_done
