#!/bin/bash
# restore on the host (Ceph sandbox on 127.0.0.1, no VM): clone rules and
# errors, failover to the newest snapshot, and a restore on a "new host"
# whose catalog was rebuilt from Ceph by `catalog sync`.
# timeout: 170
TOP=$(cd "$(dirname "$0")/../.." && pwd)
. "$TOP/tests/lib/tap.sh"
. "$TOP/tests/lib/ceph.sh"
. "$TOP/tests/lib/snap.sh"
tap_plan 10
tmp=$(mktemp -d)
cleanup() { snap_double_stop; ceph_cleanup; rm -rf "$tmp"; }
trap cleanup EXIT

if ! ceph_start >"$tmp/ceph.log" 2>&1; then
	tap_fail "Ceph sandbox"; tap_diag "$(cat "$tmp/ceph.log")"; tap_done
fi
export CEPH_CONF
db=$tmp/cat/catalog.db
export CDP_CONTROL_SOCKET=$tmp/cdpd.sock
cdpctl() { "$TOP/ctl/cdpctl" -c "$db" "$@"; }
head -c 1M /dev/urandom > "$tmp/a" && truncate -s 64M "$tmp/a"
rbd import --no-progress "$tmp/a" rbd/vol1 >/dev/null
snap_catalog_init "$db" vol1=rbd/vol1
snap_double_start "$CDP_CONTROL_SOCKET" vol1=rbd/vol1 || { tap_fail "the cdpd test double starts"; tap_done; }
cdpctl snap create vol1 --name s1 >/dev/null
rbd export --no-progress rbd/vol1@s1 - 2>/dev/null | sha256sum > "$tmp/s1.sum"
rbd bench --io-type write --io-size 64K --io-total 1M --io-pattern rand rbd/vol1 >/dev/null 2>&1
cdpctl snap create vol1 --name s2 >/dev/null
snap_double_stop

# 1: clone, the source snapshot gets protected, content equal
out=$(cdpctl -j restore vol1 --snap s1 2>&1)
if [ "$(json_get 'j[0]["image"]' <<< "$out")" = vol1-s1 ] &&
   [ "$(rbd export --no-progress rbd/vol1-s1 - 2>/dev/null | sha256sum)" = "$(cat "$tmp/s1.sum")" ] &&
   rbd info rbd/vol1@s1 | grep -q "protected: True"; then
	tap_ok "restore clones the snapshot (protected first) into VOL-SNAP, same content"
else
	tap_fail "restore clones the snapshot (protected first) into VOL-SNAP, same content"; tap_diag "$out"
fi
tap_check "the restore is recorded as a catalog event" \
	test "$(sqlite3 "$db" "SELECT count(*) FROM events WHERE kind='restore' AND message LIKE '%vol1-s1%'")" = 1

# 3: existing target without --force
out=$(cdpctl restore vol1 --snap s1 2>&1)
if [ $? = 1 ] && grep -q "already exists.*--force" <<< "$out"; then
	tap_ok "existing target image: refused, names --name/--force"
else
	tap_fail "existing target image: refused, names --name/--force"; tap_diag "$out"
fi

# 4: --force replaces an unused clone
out=$(cdpctl -j restore vol1 --snap s2 --name vol1-s1 --force 2>&1)
if [ "$(json_get 'j[0]["replaced"]' <<< "$out")" = True ]; then
	tap_ok "--force replaces an unused clone"
else
	tap_fail "--force replaces an unused clone"; tap_diag "$out"
fi

# 5: never the source
out=$(cdpctl restore vol1 --snap s1 --name vol1 --force 2>&1)
if [ $? = 1 ] && grep -q "never overwrite their source" <<< "$out" && rbd info rbd/vol1@s2 >/dev/null; then
	tap_ok "the volume's own image is never a restore target, even with --force"
else
	tap_fail "the volume's own image is never a restore target, even with --force"; tap_diag "$out"
fi

# 6: missing snapshot, unknown volume, bad usage
o1=$(cdpctl restore vol1 --snap nosuch 2>&1); r1=$?
o2=$(cdpctl restore novol --snap s1 2>&1); r2=$?
o3=$(cdpctl restore vol1 2>&1); r3=$?
if [ $r1 = 1 ] && grep -q "no snapshot nosuch" <<< "$o1" && [ $r2 = 1 ] && grep -q "not in the catalog" <<< "$o2" &&
   [ $r3 = 2 ]; then
	tap_ok "missing snapshot / unknown volume / no --snap: clear errors"
else
	tap_fail "missing snapshot / unknown volume / no --snap: clear errors"; tap_diag "$o1 / $o2 / $o3"
fi

# 7: failover = newest snapshot
out=$(cdpctl -j restore --failover vol1 2>&1)
if [ "$(json_get 'j[0]["snap"]' <<< "$out")" = s2 ] && [ "$(json_get 'j[0]["image"]' <<< "$out")" = vol1-failover ]; then
	tap_ok "restore --failover clones the newest snapshot into VOL-failover"
else
	tap_fail "restore --failover clones the newest snapshot into VOL-failover"; tap_diag "$out"
fi

# 8: POOL/IMAGE without a catalog row
out=$("$TOP/ctl/cdpctl" -c "$tmp/other/catalog.db" -j restore rbd/vol1 --snap s1 --name viaspec 2>&1)
if [ "$(json_get 'j[0]["image"]' <<< "$out")" = viaspec ]; then
	tap_ok "POOL/IMAGE works without a catalog row"
else
	tap_fail "POOL/IMAGE works without a catalog row"; tap_diag "$out"
fi

# 9: a new host: empty catalog, sync, restore by volume name
new=$tmp/newhost/catalog.db
"$TOP/ctl/cdpctl" -c "$new" catalog sync >/dev/null 2>&1
out=$("$TOP/ctl/cdpctl" -c "$new" -j restore vol1 --snap s1 --name onnewhost 2>&1)
if [ "$(json_get 'j[0]["image"]' <<< "$out")" = onnewhost ] &&
   [ "$(rbd export --no-progress rbd/onnewhost - 2>/dev/null | sha256sum)" = "$(cat "$tmp/s1.sum")" ] &&
   "$TOP/ctl/cdpctl" -c "$new" snap list | grep -q "vol1@s1 .*seq"; then
	tap_ok "new host: catalog sync, snap list and restore by volume name from an empty catalog"
else
	tap_fail "new host: catalog sync, snap list and restore by volume name from an empty catalog"; tap_diag "$out"
fi

# 10: Ceph down: clear error within the RADOS timeout
"$TOP/scripts/ceph/osd.sh" "$CEPH_DIR" stop >/dev/null 2>&1
start=$SECONDS
out=$(timeout 90 "$TOP/ctl/cdpctl" -c "$db" restore vol1 --snap s1 --name down 2>&1)
if [ $? = 1 ] && [ $((SECONDS - start)) -lt 60 ] && grep -q "Error:" <<< "$out"; then
	tap_ok "Ceph down: restore fails with a message in $((SECONDS - start)) s"
	tap_diag "$out"
else
	tap_fail "Ceph down: restore fails with a message"; tap_diag "$out"
fi
tap_done
