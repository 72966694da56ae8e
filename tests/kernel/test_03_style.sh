#!/bin/bash
# Kernel code style: checkpatch.pl --no-tree clean, sparse (make C=2) clean.
# timeout: 300
TOP=$(cd "$(dirname "$0")/../.." && pwd)
. "$TOP/tests/lib/tap.sh"
tap_plan 2
tap_check "checkpatch clean" "$TOP/scripts/checkpatch.sh"
KVER=$(ls -1 /lib/modules | sort -V | tail -n1)
# in a copy: other tests may be loading kmod/dm-cdp.ko at this moment
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -r "$TOP/kmod" "$tmp/kmod"
out=$(make -s -C "/lib/modules/$KVER/build" M="$tmp/kmod" C=2 modules 2>&1)
# sparse prints "file:line:col: warning|error: ..."; the BTF note is not ours.
bad=$(grep -E ':[0-9]+:[0-9]+: (warning|error):' <<< "$out")
if [ -z "$bad" ]; then tap_ok "sparse clean"; else tap_fail "sparse clean"; tap_diag "$bad"; fi
tap_done
