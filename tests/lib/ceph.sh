# Ceph sandbox helpers for shell tests (sourced). Each sandbox lives in a temp
# dir and is stopped by ceph_cleanup, which the test runs from its EXIT trap
# (ceph_trap_cleanup installs that trap for tests that have no trap of their own).
#
#   ceph_start [start.sh args...]    start a sandbox in a fresh temp dir; sets
#                                    CEPH_DIR CEPH_CONF KEYRING CEPH_PORT CEPH_ADDR CEPH_NETNS
#                                    (the newest sandbox; older ones stay registered)
#   ceph_stop DIR                    stop one sandbox now
#   ceph_netns_create NS ADDR        make a netns with a tap device carrying ADDR/24
#                                    (what the VM rig attaches QEMU to); removed by ceph_cleanup
#   ceph_exec CMD...                 run CMD where the newest sandbox is reachable
#                                    (inside its netns if it has one) with CEPH_CONF exported
#   ceph_rbd ARGS...                 `rbd` against the newest sandbox
#   ceph_pids DIR                    pids of the daemons of that sandbox
#   ceph_image_sum POOL/IMAGE[@SNAP] sha256 of the image's bytes (streamed export)
#   ceph_image_equals POOL/IMAGE[@SNAP] FILE|DEV
#                                    0 when the image holds exactly FILE's bytes
#                                    (sizes must match); a diagnostic on stderr if not
#   ceph_cleanup                     stop every sandbox and netns made through these helpers

CEPH_TOP=${CEPH_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
_ceph_dirs=()
_ceph_netns=()

ceph_start() {
	local dir out
	dir=$(mktemp -d /tmp/cdpceph.XXXXXX) || return 1
	_ceph_dirs+=("$dir")
	# --owner: reap.sh can stop it should this test die without its trap.
	out=$("$CEPH_TOP/scripts/ceph/start.sh" "$dir" --owner $$ "$@") || return 1
	eval "$out"
	export CEPH_CONF KEYRING CEPH_PORT CEPH_ADDR CEPH_NETNS
	CEPH_DIR=$dir
}

ceph_stop() { "$CEPH_TOP/scripts/ceph/stop.sh" "$1"; }

ceph_netns_create() {
	local ns=$1 addr=$2
	ip netns add "$ns" || return 1
	_ceph_netns+=("$ns")
	ip -n "$ns" link set lo up &&
	ip -n "$ns" tuntap add dev tap0 mode tap &&
	ip -n "$ns" addr add "$addr/24" dev tap0 &&
	ip -n "$ns" link set tap0 up
}

ceph_exec() {
	if [ -n "${CEPH_NETNS:-}" ]; then
		ip netns exec "$CEPH_NETNS" env CEPH_CONF="$CEPH_CONF" "$@"
	else
		CEPH_CONF="$CEPH_CONF" "$@"
	fi
}

ceph_rbd() { ceph_exec rbd "$@"; }

ceph_image_sum() {
	ceph_rbd export --no-progress "$1" - 2>/dev/null | sha256sum | cut -d' ' -f1
}

ceph_image_equals() {
	local img=$1 ref=$2 a b
	a=$(ceph_image_sum "$img")
	b=$(sha256sum < "$ref" | cut -d' ' -f1)
	[ "$a" = "$b" ] && return 0
	echo "ceph_image_equals: $img ($a) differs from $ref ($b)" >&2
	return 1
}

ceph_pids() {
	local conf f
	conf=$1/ceph.conf
	for f in /proc/[0-9]*/cmdline; do
		{ tr "\0" " " < "$f"; } 2>/dev/null | grep -qE -- "^[^ ]*ceph-(mon|osd|mgr) .*-c $conf( |$)" &&
			f=${f#/proc/} && echo "${f%/cmdline}"
	done
}

ceph_cleanup() {
	local d ns
	for d in ${_ceph_dirs[@]+"${_ceph_dirs[@]}"}; do
		"$CEPH_TOP/scripts/ceph/stop.sh" "$d" >/dev/null 2>&1
	done
	for ns in ${_ceph_netns[@]+"${_ceph_netns[@]}"}; do
		ip netns del "$ns" 2>/dev/null
	done
	_ceph_dirs=() _ceph_netns=()
}

ceph_trap_cleanup() { trap ceph_cleanup EXIT; }
