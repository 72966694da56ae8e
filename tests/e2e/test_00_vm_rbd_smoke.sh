#!/bin/bash
# End-to-end smoke: a client inside the VM writes to an RBD image in a Ceph
# sandbox (both inside a test-made network namespace), the host reads the
# same bytes back.
# timeout: 300
TOP=$(cd "$(dirname "$0")/../.." && pwd)
. "$TOP/tests/lib/tap.sh"
tap_plan 3
NS=cdpe2e$$
tmp=$(mktemp -d)
cleanup() {
	"$TOP/scripts/ceph/stop.sh" "$tmp/ceph" >/dev/null 2>&1
	"$TOP/scripts/vm/netns.sh" destroy "$NS"
	rm -rf "$tmp"
}
trap cleanup EXIT

"$TOP/scripts/vm/netns.sh" create "$NS" 10.231.0.1/24
if out=$("$TOP/scripts/ceph/start.sh" "$tmp/ceph" --netns "$NS" --addr 10.231.0.1 2>&1); then
	eval "$(grep -E '^[A-Z_]+=' <<< "$out")"
	tap_ok "Ceph sandbox up inside $NS"
else
	tap_fail "Ceph sandbox up inside $NS"; tap_diag "$out"; tap_done
fi
rbd() { ip netns exec "$NS" rbd --conf "$CEPH_CONF" --keyring "$KEYRING" "$@"; }
rbd create --size 64M rbd/smoke

cat > "$tmp/guest.sh" <<EOG
set -e
modprobe nbd
dev=\$(rbd-nbd --conf $CEPH_CONF --keyring $KEYRING map rbd/smoke)
dd if=/dev/urandom of=$tmp/pattern bs=1M count=8 status=none
dd if=$tmp/pattern of=\$dev bs=1M oflag=direct status=none
sync
rbd-nbd unmap \$dev
echo "guest wrote 8 MiB through \$dev"
EOG
if out=$("$TOP/scripts/vm/run.sh" --timeout 200 --netns "$NS" --work "$tmp" \
	-- bash "$tmp/guest.sh" 2>&1); then
	tap_ok "guest writes to the RBD image through rbd-nbd"
else
	tap_fail "guest writes to the RBD image through rbd-nbd"; tap_diag "$out"; tap_done
fi
want=$(sha256sum < "$tmp/pattern")
got=$(rbd export --no-progress rbd/smoke - 2>/dev/null | head -c 8M | sha256sum)
if [ "$want" = "$got" ]; then
	tap_ok "host reads back the bytes the guest wrote"
else
	tap_fail "host reads back the bytes the guest wrote"; tap_diag "want $want got $got"
fi
tap_done
