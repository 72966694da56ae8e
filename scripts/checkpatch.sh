#!/bin/bash
# checkpatch.pl (from Debian's linux-source-6.1 tarball) over the kernel code.
#   scripts/checkpatch.sh [FILE...]     default: kmod/*.[ch] kmod/uapi/*.h
# Exits non-zero on any error or warning. kmod/dm-clone/ is not checked: it is
# upstream's dm-clone vendored unchanged (its README), not our code to restyle.
set -euo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
CP=${CDP_CACHE:-$TOP/.cache}/checkpatch
if [ ! -x "$CP/checkpatch.pl" ]; then
	tarball=$(ls /usr/src/linux-source-*.tar.xz 2>/dev/null | sort -V | tail -n1)
	[ -n "$tarball" ] || { echo "checkpatch.sh: no /usr/src/linux-source-*.tar.xz: run scripts/deps.sh" >&2; exit 2; }
	mkdir -p "$CP"
	dir=$(basename "$tarball" .tar.xz)
	tar -xJf "$tarball" -C "$CP" --strip-components=2 \
		"$dir/scripts/checkpatch.pl" "$dir/scripts/spelling.txt" "$dir/scripts/const_structs.checkpatch"
fi
cd "$TOP"
[ $# -gt 0 ] || set -- $(ls kmod/*.[ch] kmod/uapi/*.h | grep -v '\.mod\.c$')
out=$("$CP/checkpatch.pl" --no-tree --terse --show-types -f "$@" 2>&1 | grep -v '^total: ' || true)
[ -z "$out" ] && exit 0
echo "$out"
exit 1
