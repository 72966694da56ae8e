#!/bin/bash
# The Ceph sandbox (scripts/ceph/): two clusters side by side on loopback,
# RBD data round trip, cephx enforced, stop kills exactly its own daemons,
# failed start cleans up, and clusters inside network namespaces.
# timeout: 300
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/tap.sh"
. "$HERE/../lib/ceph.sh"

if [ "$(id -u)" -ne 0 ] || ! command -v ceph-osd >/dev/null; then
	echo "TAP version 13"; echo "1..0 # SKIP needs root and ceph-osd (scripts/deps.sh)"; exit 4
fi
TMP=$(mktemp -d /tmp/cdptest.XXXXXX)
trap 'ceph_cleanup; rm -rf "$TMP"' EXIT
tap_plan 18

# rbd_roundtrip IMAGE: import 4 MiB of random data, export it, compare.
rbd_roundtrip() {
	head -c 4M /dev/urandom > "$TMP/$1.in" &&
	ceph_rbd import --no-progress "$TMP/$1.in" "rbd/$1" &&
	ceph_rbd export --no-progress "rbd/$1" "$TMP/$1.out" &&
	cmp "$TMP/$1.in" "$TMP/$1.out"
}
all_dead() { local p; for p in "$@"; do kill -0 "$p" 2>/dev/null && return 1; done; return 0; }
all_alive() { local p; for p in "$@"; do kill -0 "$p" 2>/dev/null || return 1; done; return 0; }

# --- two sandboxes on loopback, started at the same time --------------------
A=$(mktemp -d /tmp/cdpceph.XXXXXX) B=$(mktemp -d /tmp/cdpceph.XXXXXX)
_ceph_dirs+=("$A" "$B")
t0=$SECONDS
"$CEPH_TOP/scripts/ceph/start.sh" "$A" > "$TMP/a.env" 2> "$TMP/a.err" &
pa=$!
"$CEPH_TOP/scripts/ceph/start.sh" "$B" --client cdp > "$TMP/b.env" 2> "$TMP/b.err" &
pb=$!
wait $pa; ra=$?; wait $pb; rb=$?
if [ $ra = 0 ] && [ $rb = 0 ]; then
	tap_ok "two sandboxes start concurrently ($((SECONDS - t0)) s)"
else
	tap_fail "two sandboxes start concurrently"; tap_diag "$(cat "$TMP/a.err" "$TMP/b.err")"
fi
tap_diag "$(grep 'accepts writes' "$TMP/a.err" "$TMP/b.err")"
pa_port=$(sed -n 's/^CEPH_PORT=//p' "$TMP/a.env") pb_port=$(sed -n 's/^CEPH_PORT=//p' "$TMP/b.env")
tap_check "they use distinct port blocks ($pa_port, $pb_port)" \
	test -n "$pa_port" -a -n "$pb_port" -a "$pa_port" != "$pb_port"

eval "$(cat "$TMP/a.env")"; export CEPH_CONF
tap_check "sandbox A: rbd import/export round trip" rbd_roundtrip imga
eval "$(cat "$TMP/b.env")"; export CEPH_CONF
tap_check "sandbox B: rbd import/export round trip" rbd_roundtrip imgb
tap_check "sandbox B does not see A's image" bash -c '! rbd info rbd/imga 2>/dev/null'
# cephx is on: A's key is refused by B.
tap_check "cephx: B refuses A's key" bash -c \
	"! timeout 30 rbd -c '$B/ceph.conf' --keyring '$A/keyring' ls 2>/dev/null"

# A restricted client (--client): RBD on pool rbd, nothing else.
restricted() {
	local k=(--id cdp --keyring "$B/client.cdp.keyring")
	rbd "${k[@]}" create --size 16M rbd/imgc && rbd "${k[@]}" rm --no-progress rbd/imgc &&
	! timeout 30 ceph "${k[@]}" osd pool create nope >/dev/null 2>&1
}
tap_check "--client cdp: may use RBD images, may not create pools" restricted

# OSD stop/start, as the outage drills do it.
osd_cycle() {
	local o=$CEPH_TOP/scripts/ceph/osd.sh
	$o "$B" stop && [ "$($o "$B" status)" = down ] && $o "$B" start &&
	$o "$B" wait-up 60 && rbd info rbd/imgb >/dev/null
}
tap_check "osd.sh stop / start / wait-up: B serves again" osd_cycle

# --- stop A: only A's daemons go, B keeps serving ---------------------------
a_pids=$(ceph_pids "$A") b_pids=$(ceph_pids "$B")	# after osd_cycle: B's new OSD
tap_diag "A pids: $(echo $a_pids), B pids: $(echo $b_pids)"
ceph_stop "$A"
a_stopped() { [ -n "$a_pids" ] && ! [ -e "$A" ] && all_dead $a_pids; }
b_serves() { [ -n "$b_pids" ] && all_alive $b_pids && rbd info rbd/imgb >/dev/null; }
tap_check "stop.sh kills all of A's daemons and removes its dir" a_stopped
tap_check "B still serves after A stopped" b_serves
tap_check "stop.sh is idempotent" "$CEPH_TOP/scripts/ceph/stop.sh" "$A"

# --- a start that cannot bind fails cleanly ---------------------------------
C=$TMP/c
if "$CEPH_TOP/scripts/ceph/start.sh" "$C" --port "$pb_port" > /dev/null 2> "$TMP/c.err"; then
	tap_fail "start on a busy port fails"
else
	tap_check "start on a busy port fails with a clear error and leaves nothing" \
		bash -c "grep -q 'in use' '$TMP/c.err' && ! [ -e '$C' ] && [ -z \"\$(. '$CEPH_TOP/tests/lib/ceph.sh'; ceph_pids '$C')\" ]"
fi
ceph_stop "$B"

# --- inside a test-made netns, on a tap address (as the VM rig uses it) -----
NS=cdpt$$ NS2=cdpu$$
oct=$(( $$ % 200 + 20 ))
ceph_netns_create "$NS" "10.231.$oct.1"
if ceph_start --netns "$NS" --addr "10.231.$oct.1" 2> "$TMP/n.err"; then
	tap_ok "sandbox starts inside netns $NS on 10.231.$oct.1"
else
	tap_fail "sandbox starts inside netns $NS"; tap_diag "$(cat "$TMP/n.err")"
fi
# Listening sockets live in the netns only (nothing bound in the root ns).
tap_check "daemons listen in the netns on 10.231.$oct.1, not in the root ns" bash -c \
	"ip netns exec $NS ss -Hltn | grep -q '10.231.$oct.1:$CEPH_PORT' && ! ss -Hltn | grep -q ':$CEPH_PORT '"
tap_check "netns sandbox: rbd round trip via ip netns exec" rbd_roundtrip imgn
ceph_stop "$CEPH_DIR"
tap_check "stop.sh keeps a netns it did not create" bash -c "ip netns list | awk '{print \$1}' | grep -qx $NS"

# --- netns made by start.sh; owner dies; reap.sh stops it and the netns goes
# (one sandbox for both checks: each start costs seconds on a busy host)
sleep 600 &
owner=$!
R=$TMP/r
if "$CEPH_TOP/scripts/ceph/start.sh" "$R" --owner $owner --netns "$NS2" --addr "10.232.$oct.1" \
	> "$TMP/r.env" 2> "$TMP/r.err" &&
   (eval "$(cat "$TMP/r.env")"; export CEPH_CONF CEPH_NETNS; rbd_roundtrip imgm); then
	tap_ok "start.sh makes a missing netns (veth inside it) and serves in it"
else
	tap_fail "start.sh makes a missing netns and serves in it"; tap_diag "$(cat "$TMP/r.err")"
fi
r_pids=$(ceph_pids "$R")
"$CEPH_TOP/scripts/ceph/reap.sh" 2>/dev/null	# owner alive: must stay
r_alive=$(ceph_pids "$R")
kill -KILL $owner; wait $owner 2>/dev/null
"$CEPH_TOP/scripts/ceph/reap.sh" 2>/dev/null
reaped() {
	[ -n "$r_pids" ] && [ "$r_alive" = "$r_pids" ] && all_dead $r_pids && ! [ -e "$R" ] &&
	! ip netns list | awk '{print $1}' | grep -qx "$NS2"
}
tap_check "reap.sh stops a sandbox (and its netns) once its owner is gone, not before" reaped
tap_done
