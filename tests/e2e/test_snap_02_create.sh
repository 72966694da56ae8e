#!/bin/bash
# snap create/list/delete and catalog sync on the host, against the
# protocol test double of cdpd (tests/lib/cdpd_double.py; it snapshots the
# RBD image directly) and a Ceph sandbox on 127.0.0.1. Freezing real file
# systems is tested in the VM (test_snap_03_freeze_consistency.sh).
# timeout: 170
TOP=$(cd "$(dirname "$0")/../.." && pwd)
. "$TOP/tests/lib/tap.sh"
. "$TOP/tests/lib/ceph.sh"
. "$TOP/tests/lib/snap.sh"
tap_plan 17
tmp=$(mktemp -d)
cleanup() { snap_double_stop; ceph_cleanup; rm -rf "$tmp"; }
trap cleanup EXIT
SNAP_DOUBLE_LOG=$tmp/double.log

if ! ceph_start >"$tmp/ceph.log" 2>&1; then
	tap_fail "Ceph sandbox"; tap_diag "$(cat "$tmp/ceph.log")"; tap_done
fi
export CEPH_CONF
rbd create --size 64M rbd/vol1 && rbd create --size 64M rbd/vol2
db=$tmp/cat/catalog.db
export CDP_CONTROL_SOCKET=$tmp/cdpd.sock
cdpctl() { "$TOP/ctl/cdpctl" -c "$db" "$@"; }
snap_catalog_init "$db" vol1=rbd/vol1 vol2=rbd/vol2

# 1: no daemon: clear error, the pre hook never ran
out=$(cdpctl snap create vol1 --name s0 --pre "touch $tmp/pre0" 2>&1)
if [ $? = 1 ] && grep -q "cdpd is not running" <<< "$out" && [ ! -e "$tmp/pre0" ]; then
	tap_ok "no daemon: clear error, nothing quiesced"
else
	tap_fail "no daemon: clear error, nothing quiesced"; tap_diag "$out"
fi

snap_double_start "$CDP_CONTROL_SOCKET" vol1=rbd/vol1 vol2=rbd/vol2 || { tap_fail "test double"; tap_done; }

# 2: one volume with hooks and protect
out=$(cdpctl -j snap create vol1 --name s1 --pre "touch $tmp/pre1" --post "touch $tmp/post1" --protect 2>&1)
if [ $? = 0 ] && [ -e "$tmp/pre1" ] && [ -e "$tmp/post1" ] &&
   rbd snap ls rbd/vol1 | grep -q " s1 " && [ "$(json_get 'j[0]["volumes"][0]["seq"]' <<< "$out")" -gt 0 ]; then
	tap_ok "snap create: hooks ran, RBD snapshot exists, seq reported"
else
	tap_fail "snap create: hooks ran, RBD snapshot exists, seq reported"; tap_diag "$out"
fi
tap_check "snapshot is protected" bash -c "rbd info rbd/vol1@s1 | grep -q 'protected: True'"

# 3: consistency group
out=$(cdpctl -j snap create vol1 vol2 --name g1 2>&1)
g=$(json_get 'j[0]["group"]' <<< "$out" 2>/dev/null)
if [ -n "$g" ] && rbd snap ls rbd/vol1 | grep -q " g1 " && rbd snap ls rbd/vol2 | grep -q " g1 " &&
   [ "$(sqlite3 "$db" "SELECT count(*) FROM snapshots WHERE name='g1' AND group_snap='$g'")" = 2 ]; then
	tap_ok "group snapshot: both volumes, one group id in the catalog"
else
	tap_fail "group snapshot: both volumes, one group id in the catalog"; tap_diag "$out"
fi

# 4: failing pre hook: no snapshot, no post hook
out=$(cdpctl snap create vol1 --name s2 --pre "exit 7" --post "touch $tmp/post2" 2>&1)
if [ $? = 1 ] && grep -q "exit status 7" <<< "$out" && ! rbd info rbd/vol1@s2 >/dev/null 2>&1 &&
   [ ! -e "$tmp/post2" ]; then
	tap_ok "pre hook failure: clear error, no snapshot"
else
	tap_fail "pre hook failure: clear error, no snapshot"; tap_diag "$out"
fi

# 5: hanging pre hook: killed at the hook timeout
start=$SECONDS
out=$(cdpctl snap create vol1 --name s3 --pre "sleep 60" --hook-timeout 1 2>&1)
# < 30 s: the point is "not the hook's 60 s"; start-up and the SIGTERM
# grace period add seconds on a loaded host
if [ $? = 1 ] && [ $((SECONDS - start)) -lt 30 ] && grep -q "did not finish within 1 s" <<< "$out" &&
   ! rbd info rbd/vol1@s3 >/dev/null 2>&1; then
	tap_ok "pre hook timeout: killed after 1 s, no snapshot"
else
	tap_fail "pre hook timeout: killed after 1 s, no snapshot"; tap_diag "$out"
fi

# 6: existing name: refused from the catalog, before cdpd is asked
out=$(cdpctl snap create vol1 --name s1 2>&1)
if [ $? = 1 ] && grep -q "vol1@s1 exists.*choose another --name" <<< "$out"; then
	tap_ok "existing snapshot name: refused, naming the fix"
else
	tap_fail "existing snapshot name: refused, naming the fix"; tap_diag "$out"
fi

# 7: unknown volume, bad name
out=$(cdpctl snap create nosuch --name x 2>&1)
out2=$(cdpctl snap create vol1 --name 'a b' 2>&1)
if grep -q "not in the catalog" <<< "$out" && grep -q "not allowed" <<< "$out2"; then
	tap_ok "unknown volume and bad name: clear errors"
else
	tap_fail "unknown volume and bad name: clear errors"; tap_diag "$out $out2"
fi

# 8: list
out=$(cdpctl -j snap list)
n=$(json_get 'len(j)' <<< "$out")
txt=$(cdpctl snap list vol1)
if [ "$n" = 3 ] && grep -q "vol1@s1 .*protected" <<< "$txt" && grep -q "pre=exit:0" <<< "$out"; then
	tap_ok "snap list: 3 rows, text and JSON, freeze/hook record"
else
	tap_fail "snap list: 3 rows, text and JSON, freeze/hook record"; tap_diag "$out $txt"
fi

# 9: DONE-stage failure: no catalog row
snap_double_stop
snap_double_start "$CDP_CONTROL_SOCKET" --fail-done vol1=rbd/vol1 || tap_diag "the cdpd test double did not start"
out=$(cdpctl snap create vol1 --name s4 2>&1)
if [ $? = 1 ] && grep -q "injected" <<< "$out" &&
   [ "$(sqlite3 "$db" "SELECT count(*) FROM snapshots WHERE name='s4'")" = 0 ]; then
	tap_ok "cdpd ERR after MARKED: error shown, nothing recorded"
else
	tap_fail "cdpd ERR after MARKED: error shown, nothing recorded"; tap_diag "$out"
fi
snap_double_stop

# 10: catalog sync into an empty catalog on "another host"
out=$("$TOP/ctl/cdpctl" -c "$tmp/cat2/catalog.db" -j catalog sync 2>&1)
l=$("$TOP/ctl/cdpctl" -c "$tmp/cat2/catalog.db" -j snap list 2>&1)
if [ "$(json_get 'j[0]["snapshots"]' <<< "$out")" = 3 ] && [ "$(json_get 'len(j)' <<< "$l")" = 3 ] &&
   [ "$(json_get '[r["seq"] for r in j if r["name"]=="s1"][0]' <<< "$l")" -gt 0 ]; then
	tap_ok "catalog sync rebuilds volumes and snapshots (seq, group) in an empty catalog"
else
	tap_fail "catalog sync rebuilds volumes and snapshots (seq, group) in an empty catalog"; tap_diag "$out $l"
fi

# 11-14: delete with a clone
rbd clone rbd/vol1@s1 rbd/child1
out=$(cdpctl snap delete vol1 s1 2>&1)
if [ $? = 1 ] && grep -q "rbd/child1" <<< "$out" && grep -q -- "--force-children" <<< "$out" &&
   rbd info rbd/vol1@s1 >/dev/null 2>&1; then
	tap_ok "delete refuses a snapshot with clones and names them and the fix"
else
	tap_fail "delete refuses a snapshot with clones and names them and the fix"; tap_diag "$out"
fi
out=$(cdpctl snap delete vol1 s1 --force-children 2>&1)
if [ $? = 0 ] && ! rbd info rbd/vol1@s1 >/dev/null 2>&1 && rbd info rbd/child1 >/dev/null 2>&1 &&
   ! rbd info rbd/child1 | grep -q parent; then
	tap_ok "delete --force-children flattens the clone, removes the snapshot"
else
	tap_fail "delete --force-children flattens the clone, removes the snapshot"; tap_diag "$out"
fi
if [ "$(sqlite3 "$db" "SELECT s.state FROM snapshots s JOIN volumes v ON v.id=s.volume_id WHERE v.name='vol1' AND s.name='s1'")" = deleted ] &&
   ! cdpctl snap list | grep -q "@s1 " && cdpctl snap list --all | grep -q "@s1 .*deleted"; then
	tap_ok "deleted snapshot leaves the list (kept as 'deleted' with --all)"
else
	tap_fail "deleted snapshot leaves the list (kept as 'deleted' with --all)"; tap_diag "$(cdpctl snap list --all)"
fi
out=$(cdpctl snap delete vol1 nosuch 2>&1)
if [ $? = 1 ] && grep -q "no snapshot nosuch" <<< "$out"; then
	tap_ok "delete of a missing snapshot: clear error"
else
	tap_fail "delete of a missing snapshot: clear error"; tap_diag "$out"
fi

# 15: the record in Ceph follows the delete
"$TOP/ctl/cdpctl" -c "$tmp/cat3/catalog.db" catalog sync >/dev/null 2>&1
if ! "$TOP/ctl/cdpctl" -c "$tmp/cat3/catalog.db" snap list | grep -q "@s1 "; then
	tap_ok "deleted snapshot's Ceph record is gone"
else
	tap_fail "deleted snapshot's Ceph record is gone"
fi

# 17: Ceph down (OSD stopped): delete fails with a message within the RADOS timeout,
# the local list still works
"$TOP/scripts/ceph/osd.sh" "$CEPH_DIR" stop >/dev/null 2>&1
start=$SECONDS
out=$(timeout 90 "$TOP/ctl/cdpctl" -c "$db" snap delete vol1 g1 2>&1)
if [ $? = 1 ] && cdpctl snap list | grep -q "@g1" && [ $((SECONDS - start)) -lt 60 ]; then
	tap_ok "Ceph down: delete fails with a message, list still works"
	tap_diag "$out"
else
	tap_fail "Ceph down: delete fails with a message, list still works"; tap_diag "$out"
fi
tap_done
