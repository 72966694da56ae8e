#!/bin/bash
# The archive part of the demo: write one RBD snapshot to pseudo-discs,
# show and verify them, restore them in reverse order and compare.
#
#   scripts/demo-archive.sh POOL/IMAGE@SNAP DIR [CAPACITY]
#
# Needs CEPH_CONF (e.g. from scripts/ceph/start.sh) and a built ctl/cdpctl.
# The pseudo-discs (DIR/disc-N.iso) are ordinary ISO 9660 files: try
# `xorriso -indev DIR/disc-1.iso -find /`. CAPACITY (default 64M) is small
# on purpose so that a small snapshot spans several discs.
set -euo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
CDPCTL=${CDPCTL:-$TOP/ctl/cdpctl}
snap=${1:?usage: demo-archive.sh POOL/IMAGE@SNAP DIR [CAPACITY]}
dir=${2:?usage: demo-archive.sh POOL/IMAGE@SNAP DIR [CAPACITY]}
cap=${3:-64M}
pool=${snap%%/*}
mkdir -p "$dir"

say() { printf '\n== %s\n' "$*"; }

# as many pseudo-discs as the plan could need: one per CAPACITY of image
size=$(rbd info "$snap" --format json | python3 -c 'import json,sys; print(json.load(sys.stdin)["size"])')
capb=$(numfmt --from=iec "$cap")
n=$(( size / capb + 2 ))
drives=()
for i in $(seq "$n"); do drives+=(--drive "stdio:$dir/disc-$i.iso"); done

say "archive $snap to pseudo-discs of $cap (allocated extents only)"
"$CDPCTL" archive create "$snap" --batch --capacity "$cap" --chunk-size 4M \
	--label DEMO "${drives[@]}"
used=$(ls "$dir"/disc-*.iso 2>/dev/null | sort -V)

say "what is on disc 1 (xorriso, no cdp involved)"
xorriso -indev "$(head -n1 <<< "$used")" -find / -type f 2>/dev/null | head -5
say "disc 1 identifies itself"
"$CDPCTL" archive show "stdio:$(head -n1 <<< "$used")"
say "read every disc back, every chunk's SHA-256"
mapfile -t discs < <(sed 's/^/stdio:/' <<< "$used")
"$CDPCTL" archive verify "${discs[@]}"

say "restore from the discs in reverse order"
mapfile -t rev < <(sed 's/^/stdio:/' <<< "$used" | tac)
"$CDPCTL" archive restore --from-discs "${rev[@]}" --to "$dir/restored.raw"
rbd export "$snap" "$dir/snapshot.raw" >/dev/null 2>&1
if cmp -s "$dir/snapshot.raw" "$dir/restored.raw"; then
	say "restored image == $snap ($(sha256sum < "$dir/restored.raw" | cut -c1-16)...)"
else
	say "MISMATCH between $snap and the restored image"; exit 1
fi
"$CDPCTL" archive list
rm -f "$dir/snapshot.raw"
