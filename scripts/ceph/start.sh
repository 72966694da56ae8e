#!/bin/bash
# Start a throw-away single-node Ceph cluster whose whole state lives in DIR.
#
#   scripts/ceph/start.sh DIR [--netns NS] [--addr IP] [--port P] [--mgr] [--size-gb N]
#                             [--owner PID] [--client ID] [--osd-conf 'KEY = VALUE']...
#
# mon + one bluestore OSD (block = sparse file DIR/osd0.block, outside the
# OSD dir), cephx on, msgr2 only, one pool "rbd" initialised for RBD.
# The mon listens on ADDR:P (default 127.0.0.1, a free port picked here);
# the OSD binds ports P+1..P+9, so sandboxes with different P run side by side.
# --mgr also starts a mgr (it loads its python modules for ~20-30 s before
# it is active; start.sh does not wait for it).
# With --netns NS every daemon runs inside that namespace (created here, with
# a veth pair carrying ADDR/24, when it does not exist yet; stop.sh then
# deletes it). Clients must then run under `ip netns exec NS`.
#
# On success prints, on stdout, shell assignments to eval:
#   CEPH_CONF=DIR/ceph.conf  KEYRING=DIR/keyring  CEPH_PORT=P  CEPH_ADDR=IP  CEPH_NETNS=NS
# and returns once the pool has accepted a write. With --owner PID (the test
# process), scripts/ceph/reap.sh stops the sandbox once that process is gone
# (a test killed before its trap could run). --client ID also makes a
# non-admin cephx user client.ID with the RBD profile on pool rbd, keyring
# DIR/client.ID.keyring (printed as CLIENT_KEYRING=..., CLIENT_ID=ID).
# --osd-conf adds a line to the OSD's section of ceph.conf (repeatable), e.g.
# a QoS limit that makes the cluster, not the client, bound a benchmark.
# On failure it tears down what it made (scripts/ceph/stop.sh DIR) and exits
# non-zero.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PY=/usr/bin/python3	# the distro python carries the rados/rbd bindings

die() { echo "ceph/start.sh: $*" >&2; exit 1; }
usage() {
	echo "usage: $0 DIR [--netns NS] [--addr IP] [--port P] [--mgr] [--size-gb N] [--owner PID] [--client ID] [--osd-conf 'KEY = VALUE']..." >&2
	exit 2
}

[ $# -ge 1 ] || usage
DIR=$1; shift
NETNS="" ADDR=127.0.0.1 PORT="" MGR=0 SIZE_GB=20 OWNER="" CLIENT="" OSD_CONF=""
while [ $# -gt 0 ]; do
	case "$1" in
	--netns) NETNS=${2:?--netns needs a name}; shift 2 ;;
	--addr) ADDR=${2:?--addr needs an IPv4 address}; shift 2 ;;
	--port) PORT=${2:?--port needs a number}; shift 2 ;;
	--mgr) MGR=1; shift ;;
	--size-gb) SIZE_GB=${2:?--size-gb needs a number}; shift 2 ;;
	--owner) OWNER=${2:?--owner needs a pid}; shift 2 ;;
	--client) CLIENT=${2:?--client needs an id}; shift 2 ;;
	--osd-conf)
		[[ ${2:-} =~ ^[a-z0-9_]+\ =\ [^[:space:]].*$ && ${2:-} != *$'\n'* ]] ||
			die "--osd-conf '${2:-}' must be 'key = value' (a ceph.conf option of the OSD)"
		OSD_CONF+="$2"$'\n'; shift 2 ;;
	-h|--help) usage ;;
	*) echo "ceph/start.sh: unknown argument '$1'" >&2; usage ;;
	esac
done
[ "$(id -u)" -eq 0 ] || [ -z "$NETNS" ] || die "--netns needs root"
[[ $ADDR =~ ^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "--addr '$ADDR' is not an IPv4 address"
[[ -z $PORT || ( $PORT =~ ^[0-9]+$ && $PORT -ge 1024 && $PORT -le 65520 ) ]] ||
	die "--port '$PORT' must be a number in 1024..65520 (P..P+9 are used)"
[[ $SIZE_GB =~ ^[0-9]+$ && $SIZE_GB -ge 2 ]] || die "--size-gb '$SIZE_GB' must be >= 2"
[[ -z $OWNER || $OWNER =~ ^[0-9]+$ ]] || die "--owner '$OWNER' is not a pid"
[[ -z $CLIENT || ( $CLIENT =~ ^[A-Za-z0-9_-]+$ && $CLIENT != admin ) ]] ||
	die "--client '$CLIENT': use letters, digits, - and _ (and not admin)"
for b in ceph-mon ceph-osd monmaptool base64; do
	command -v $b >/dev/null || die "$b not found: run scripts/deps.sh"
done
[ ! -e "$DIR/ceph.conf" ] || die "$DIR already holds a sandbox: run scripts/ceph/stop.sh $DIR first"
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
# Unix socket paths (admin sockets) are limited to 107 bytes.
[ ${#DIR} -le 60 ] || die "DIR path too long (${#DIR} > 60 chars): admin sockets would not fit"

# Run a command in the sandbox's network namespace (or here).
in_ns() { if [ -n "$NETNS" ]; then ip netns exec "$NETNS" "$@"; else "$@"; fi; }

t0=${EPOCHREALTIME/./}
log() { local us=$(( ${EPOCHREALTIME/./} - t0 )); printf 'ceph/start.sh: [%d.%02ds] %s\n' $((us / 1000000)) $((us % 1000000 / 10000)) "$*" >&2; }

cleanup_on_fail() {
	local rc=$?
	if [ $rc -ne 0 ]; then
		echo "ceph/start.sh: failed (rc $rc); logs in $DIR/log (kept in $DIR.failed-logs)" >&2
		rm -rf "$DIR.failed-logs"; cp -r "$DIR/log" "$DIR.failed-logs" 2>/dev/null || true
		"$HERE/stop.sh" "$DIR" >&2 || true
	fi
}
trap cleanup_on_fail EXIT
mkdir -p "$DIR"/{mon,osd,run,log}

# --- network namespace ----------------------------------------------------
if [ -n "$NETNS" ]; then
	# exact name: grep -w would take "a-b" for a match inside "a-b-c"
	if ! ip netns list | awk '{print $1}' | grep -qx -- "$NETNS"; then
		ip netns add "$NETNS"
		echo "$NETNS" > "$DIR/netns.created"
		ip -n "$NETNS" link set lo up
	fi
	if [ "$ADDR" != 127.0.0.1 ] && ! ip -n "$NETNS" -4 -o addr show | grep -q " $ADDR/"; then
		[ -e "$DIR/netns.created" ] ||
			die "address $ADDR is not configured in netns $NETNS (add it, or let start.sh create the netns)"
		# Both ends stay inside the namespace: nothing leaves it.
		ip -n "$NETNS" link add cdpceph0 type veth peer name cdpceph1
		ip -n "$NETNS" addr add "$ADDR/24" dev cdpceph0
		ip -n "$NETNS" link set cdpceph0 up
		ip -n "$NETNS" link set cdpceph1 up
	fi
fi

# --- port: P for the mon, P+1..P+9 for the OSD ------------------------------
# Ports are picked below the ephemeral range. A block is reserved by a file
# /tmp/.cdp-ceph-ports/P naming DIR (valid while DIR exists; stop.sh removes
# it), so sandboxes starting at once never pick the same block; the lock
# only covers the pick, not the start (and is never inherited: 9>&-).
RES=/tmp/.cdp-ceph-ports
mkdir -p "$RES"
exec 9>"$RES/.lock"
flock -w 60 9 || die "timed out waiting for $RES/.lock"
port_block_free() {
	local p=$1 used owner
	owner=$(cat "$RES/$p" 2>/dev/null) && [ -n "$owner" ] && [ -d "$owner" ] && return 1
	used=$(in_ns ss -Htan 2>/dev/null | awk '{print $4}' | sed 's/.*://' | sort -u)
	for i in $(seq 0 9); do
		grep -qx "$((p + i))" <<<"$used" && return 1
	done
	return 0
}
if [ -z "$PORT" ]; then
	for _ in $(seq 200); do
		p=$(( 20000 + (RANDOM % 1200) * 10 ))
		if port_block_free $p; then PORT=$p; break; fi
	done
	[ -n "$PORT" ] || die "no free block of 10 ports found in 20000..32000"
else
	port_block_free "$PORT" || die "port block $PORT..$((PORT + 9)) is in use: choose another --port"
fi
echo "$DIR" > "$RES/$PORT"
flock -u 9; exec 9>&-
echo "$PORT" > "$DIR/port"
[ -z "$OWNER" ] || echo "$OWNER" > "$DIR/owner"	# read by reap.sh
echo "$NETNS" > "$DIR/netns"	# read by osd.sh to restart the OSD in the same place

# --- config and keys --------------------------------------------------------
FSID=$(cat /proc/sys/kernel/random/uuid)
OSD_UUID=$(cat /proc/sys/kernel/random/uuid)
cat > "$DIR/ceph.conf" <<CONF
# Throw-away sandbox made by scripts/ceph/start.sh; remove with scripts/ceph/stop.sh $DIR
[global]
fsid = $FSID
mon_host = [v2:$ADDR:$PORT]
public_addr = $ADDR
cluster_addr = $ADDR
ms_bind_msgr1 = false
ms_bind_msgr2 = true
ms_bind_ipv6 = false
ms_bind_port_min = $((PORT + 1))
ms_bind_port_max = $((PORT + 9))
auth_cluster_required = cephx
auth_service_required = cephx
auth_client_required = cephx
run_dir = $DIR/run
admin_socket = $DIR/run/\$name.asok
pid_file = $DIR/run/\$name.pid
log_file = $DIR/log/\$name.log
mon_cluster_log_file = $DIR/log/cluster.log
crash_dir = $DIR/crash
log_to_stderr = false
err_to_stderr = true
osd_pool_default_size = 1
osd_pool_default_min_size = 1
osd_pool_default_pg_num = 16
osd_pool_default_pgp_num = 16
osd_pool_default_pg_autoscale_mode = off
osd_crush_chooseleaf_type = 0
mon_allow_pool_size_one = true
mon_allow_pool_delete = true
mon_warn_on_pool_no_redundancy = false
mon_warn_on_insecure_global_id_reclaim_allowed = false
# Without a mgr the mon would warn after the grace period; with one it is harmless.
mon_mgr_mkfs_grace = 31536000
mon_data_avail_warn = 2
mon_data_avail_crit = 1
# One OSD: never mark it out (its PGs would have nowhere to go).
mon_osd_down_out_interval = 0
mon_warn_on_osd_down_out_interval_zero = false
paxos_propose_interval = 0.05
[mon]
mon_data = $DIR/mon
[osd]
osd_data = $DIR/osd
keyring = $DIR/osd/keyring
osd_objectstore = bluestore
bluestore_block_path = $DIR/osd0.block
bluestore_block_create = true
bluestore_block_size = $((SIZE_GB << 30))
bluestore_fsck_on_mkfs = false
bluestore_fsck_on_mount = false
bdev_aio_poll_ms = 10
osd_memory_target = 1073741824
${OSD_CONF}[mgr]
mgr_data = $DIR/mgr
keyring = $DIR/mgr/keyring
[client]
keyring = $DIR/keyring
# Several client processes at once: one admin socket each.
admin_socket = $DIR/run/\$name.\$pid.asok
# librados waits forever for a down OSD unless these are set.
rados_osd_op_timeout = 30
rados_mon_op_timeout = 30
client_mount_timeout = 30
CONF

# Keys are written directly (five ceph-authtool runs cost ~1 s on a busy
# machine). A cephx secret is base64 of: le16 type (1 = AES), le32 sec,
# le32 nsec (creation time, informational), le16 length (16), 16 random bytes.
gen_key() {
	local t=$EPOCHSECONDS le
	le=$(printf '\\x%02x\\x%02x\\x%02x\\x%02x' $((t & 255)) $((t >> 8 & 255)) \
		$((t >> 16 & 255)) $((t >> 24 & 255)))
	{
		printf '\x01\x00'
		printf "$le"
		printf '\x00\x00\x00\x00\x10\x00'
		head -c 16 /dev/urandom
	} | base64 -w0
}
# keyring_entry NAME [CAP_SUBSYSTEM CAP]...: one keyring section, new key.
keyring_entry() {
	local name=$1
	shift
	printf '[%s]\n\tkey = %s\n' "$name" "$(gen_key)"
	while [ $# -ge 2 ]; do
		printf '\tcaps %s = "%s"\n' "$1" "$2"
		shift 2
	done
}
keyring_entry mon. mon 'allow *' > "$DIR/mon.keyring"
keyring_entry client.admin mon 'allow *' osd 'allow *' mgr 'allow *' mds 'allow *' > "$DIR/keyring"
keyring_entry osd.0 mon 'allow profile osd' mgr 'allow profile osd' osd 'allow *' > "$DIR/osd/keyring"
if [ $MGR -eq 1 ]; then
	mkdir -p "$DIR/mgr"
	keyring_entry mgr.x mon 'allow profile mgr' osd 'allow *' mds 'allow *' > "$DIR/mgr/keyring"
fi
if [ -n "$CLIENT" ]; then
	# What a cdpd/cdpctl user needs and no more: RBD on pool rbd.
	keyring_entry "client.$CLIENT" mon 'profile rbd' osd 'profile rbd pool=rbd' \
		mgr 'profile rbd pool=rbd' > "$DIR/client.$CLIENT.keyring"
fi
# mon --mkfs imports every key of its keyring: the others need no `auth add`.
cat "$DIR/keyring" "$DIR/osd/keyring" ${CLIENT:+"$DIR/client.$CLIENT.keyring"} \
	$([ $MGR -eq 1 ] && echo "$DIR/mgr/keyring") >> "$DIR/mon.keyring"
chmod 600 "$DIR"/*.keyring "$DIR"/keyring "$DIR"/osd/keyring
monmaptool --create --fsid "$FSID" --addv a "[v2:$ADDR:$PORT]" "$DIR/monmap" >/dev/null
log "config and keys ready (port $PORT${NETNS:+, netns $NETNS})"

# --- daemons ----------------------------------------------------------------
C=(-c "$DIR/ceph.conf")
ceph-mon "${C[@]}" -i a --mkfs --monmap "$DIR/monmap" --keyring "$DIR/mon.keyring"
# The OSD mkfs does not need the mon: run it while the mon starts.
ceph-osd "${C[@]}" -i 0 --mkfs --osd-uuid "$OSD_UUID" --no-mon-config 2>"$DIR/log/osd-mkfs.err" &
mkfs_pid=$!
in_ns ceph-mon "${C[@]}" -i a 2>>"$DIR/log/mon.a.stderr"
log "mon started"
wait $mkfs_pid || { cat "$DIR/log/osd-mkfs.err" >&2; die "ceph-osd --mkfs failed"; }
log "osd mkfs done"

export CEPH_CONF="$DIR/ceph.conf"
in_ns $PY "$HERE/sandbox_setup.py" "$DIR/ceph.conf" pre-osd "$OSD_UUID"
in_ns ceph-osd "${C[@]}" -i 0 2>>"$DIR/log/osd.0.stderr"
[ $MGR -eq 0 ] || in_ns ceph-mgr "${C[@]}" -i x 2>>"$DIR/log/mgr.x.stderr"
log "osd started"
in_ns $PY "$HERE/sandbox_setup.py" "$DIR/ceph.conf" post-osd
log "pool rbd accepts writes"

rm -f "$DIR/monmap"
trap - EXIT
cat <<OUT
CEPH_CONF=$DIR/ceph.conf
KEYRING=$DIR/keyring
CEPH_PORT=$PORT
CEPH_ADDR=$ADDR
CEPH_NETNS=$NETNS
OUT
[ -z "$CLIENT" ] || printf 'CLIENT_ID=%s\nCLIENT_KEYRING=%s\n' "$CLIENT" "$DIR/client.$CLIENT.keyring"
