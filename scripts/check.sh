#!/bin/bash
# Every test: installs the dependencies, builds, runs all suites.
#   sudo ./scripts/check.sh [SUITE|FILE]...      (suites: unit kernel e2e archive)
# Closes with "N passed, N failed, N skipped".
set -uo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"
[ "$(id -u)" = 0 ] || { echo "check.sh: run as root (the VM, dm and Ceph tests need it): sudo $0" >&2; exit 2; }
scripts/deps.sh || exit 1
if ! make -s -j"$(nproc)" all >"$TOP/.build.log" 2>&1; then
	cat "$TOP/.build.log"
	echo "check.sh: build failed (log above)"
	echo "0 passed, 1 failed"
	exit 1
fi
exec tests/run.sh "$@"
