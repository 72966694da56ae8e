# End-to-end test helpers (sourced by tests/e2e/test_*.sh, on the host).
#   e2e_setup            netns + Ceph sandbox inside it; sets E2E_TMP E2E_NS
#                        CEPH_CONF KEYRING; writes $E2E_TMP/cdp.conf for the guest
#   e2e_vm ARGS... -- CMD   scripts/vm/run.sh in the netns with the work dir $E2E_TMP
#   e2e_rbd ARGS...      rbd against the sandbox (inside the netns)
# Everything is removed by the EXIT trap set here.
E2E_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$E2E_TOP/tests/lib/tap.sh"

e2e_cleanup() {
	[ -n "${E2E_TMP:-}" ] && "$E2E_TOP/scripts/ceph/stop.sh" "$E2E_TMP/ceph" >/dev/null 2>&1
	[ -n "${E2E_NS:-}" ] && "$E2E_TOP/scripts/vm/netns.sh" destroy "$E2E_NS"
	[ -n "${E2E_TMP:-}" ] && rm -rf "$E2E_TMP"
}

e2e_setup() {
	local out
	E2E_NS=cdpe$$
	E2E_TMP=$(mktemp -d /tmp/cdpe2e.XXXXXX)
	trap e2e_cleanup EXIT
	"$E2E_TOP/scripts/vm/netns.sh" create "$E2E_NS" 10.231.0.1/24 || return 1
	out=$("$E2E_TOP/scripts/ceph/start.sh" "$E2E_TMP/ceph" --netns "$E2E_NS" --addr 10.231.0.1 "$@" 2>&1) ||
		{ echo "$out" | sed 's/^/# /'; return 1; }
	eval "$(grep -E '^[A-Z_]+=' <<< "$out")"
	export CEPH_CONF KEYRING
	# the guest sees the sandbox dir read-only: its clients keep their
	# admin sockets and logs in the guest's own /run
	sed -e 's|^admin_socket = .*|admin_socket = /run/ceph-$name.$pid.asok|' \
	    -e 's|^log_file = .*|log_file = /run/ceph-$name.log|' "$CEPH_CONF" > "$E2E_TMP/guest-ceph.conf"
	cat > "$E2E_TMP/cdp.conf" <<EOC
# written by tests/lib/e2e.sh
ceph_conf = $E2E_TMP/guest-ceph.conf
keyring = $KEYRING
op_timeout_s = 10
EOC
}

e2e_rbd() { ip netns exec "$E2E_NS" rbd --conf "$CEPH_CONF" --keyring "$KEYRING" "$@"; }

e2e_vm() {
	"$E2E_TOP/scripts/vm/run.sh" --netns "$E2E_NS" --work "$E2E_TMP" "$@"
}
