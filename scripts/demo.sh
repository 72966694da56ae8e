#!/bin/bash
# The demo, end to end: installs dependencies, builds, boots Debian's kernel
# under QEMU, starts a throw-away Ceph cluster (inside a private network
# namespace), protects a volume, writes a file system, snapshots it,
# restores the snapshot, then archives it to pseudo optical discs and
# reads it back.
#   sudo ./scripts/demo.sh
set -euo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"
[ "$(id -u)" = 0 ] || { echo "demo.sh: run as root: sudo $0" >&2; exit 2; }
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
step "Installing dependencies"
scripts/deps.sh
step "Building dm-cdp.ko, libcdp, cdpd, cdpctl"
make -s -j"$(nproc)" all >/dev/null
. tests/lib/e2e.sh
step "Starting a throw-away Ceph cluster in network namespace cdpe$$ (10.231.0.1)"
e2e_setup
step "Booting Debian's $(ls /lib/modules | sort -V | tail -n1) kernel under QEMU (TCG) at 10.231.0.2"
e2e_vm --timeout 900 --disk "$E2E_TMP/origin.img:256M" -- scripts/demo-guest.sh |
	grep -vE '^\[ *[0-9]+\.[0-9]+\] '

step "Archive: snapshot rbd/demo@before-change to pseudo BD-R discs (libisofs + libburn)"
export CEPH_CONF CDP_STATE_DIR=$E2E_TMP/host-state
export CEPH_ARGS="--keyring $KEYRING"
ip netns exec "$E2E_NS" scripts/demo-archive.sh rbd/demo@before-change "$E2E_TMP/discs" 32M
step "Done: protected, mirrored, snapshotted, restored and archived"
