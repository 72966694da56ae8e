#!/bin/bash
# Run dm-cdp's tests in the VM on a debug kernel: KASAN, lockdep (PROVE_LOCKING,
# PROVE_RCU), KFENCE, kmemleak, UBSAN bounds, DEBUG_ATOMIC_SLEEP, debug
# objects. Debian's kernel has none of these; scripts/vm/debug-kernel.sh
# builds one from Debian's linux-source-6.1 (30-60 min the first time,
# cached in .cache/debug-kernel). Any report on the console fails the test
# that caused it (scripts/vm/run.sh: status 125), a leak included.
#
# scripts/kernel-debug.sh [TEST...]    default: the VM tests that load dm-cdp
#
# Not part of `make check` (CI machines start fresh and the build alone
# would take most of CI's time). Results: docs/dm-cdp.md "Debug kernel".
set -uo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"
[ "$(id -u)" = 0 ] || { echo "kernel-debug.sh: run as root (the VM tests need it)" >&2; exit 2; }

make -s user tests/tools/cdp-consume >/dev/null || { echo "kernel-debug.sh: make failed" >&2; exit 1; }
kdir=$(scripts/vm/debug-kernel.sh) || exit 1
export CDP_VM_KDIR=$kdir
# KASAN and lockdep make the guest kernel 2-4x slower under TCG
export CDP_TIMEOUT_SCALE=${CDP_TIMEOUT_SCALE:-4}
# logs apart from a plain run's (which may run at the same time)
export CDP_TEST_RESULTS=${CDP_TEST_RESULTS:-$TOP/tests/results/debug-kernel}

if [ $# -eq 0 ]; then
	set -- tests/kernel/test_01_smoke.sh tests/kernel/test_1[0-9]_*.sh \
		tests/e2e/test_10_mirror.sh tests/e2e/test_11_drills.sh \
		tests/e2e/test_14_errors.sh
fi
echo "# debug kernel $(cat "$kdir/kver") from $kdir"
exec tests/run.sh -j 1 "$@"
