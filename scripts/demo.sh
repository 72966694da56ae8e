#!/bin/bash
# The demo: installs dependencies, builds, boots the test kernel, loads
# dm-cdp and puts a volume under protection.
#   sudo ./scripts/demo.sh
set -euo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"
[ "$(id -u)" = 0 ] || { echo "demo.sh: run as root: sudo $0" >&2; exit 2; }
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
step "Installing dependencies"
scripts/deps.sh
step "Building dm-cdp.ko, libcdp, cdpd, cdpctl"
make -s -j"$(nproc)" all
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
step "Booting Debian's $(ls /lib/modules | sort -V | tail -n1) kernel under QEMU (TCG)"
scripts/vm/run.sh --timeout 300 --disk "$tmp/origin.img:256M" --disk "$tmp/meta.img:16M" \
	-- scripts/demo-guest.sh
