#!/bin/bash
# A sparse RBD snapshot: only the allocated extents (rbd diff) reach the
# disc, and the holes come back as zeros.
# timeout: 180
source "$(dirname "$0")/common.sh"
archive_require
tap_plan 6

if ! ceph_start >"$WORK/ceph.log" 2>&1; then
	tap_fail "Ceph sandbox starts"; tap_diag "$(tail -20 "$WORK/ceph.log")"; exit 1
fi
export CEPH_CONF

# 256 MiB image, 64 KiB written at 100 MiB and 200 MiB: 128 KiB allocated
# (rbd import skips the zero runs of a sparse raw file)
head -c 64K /dev/urandom > "$WORK/a"
head -c 64K /dev/urandom > "$WORK/b"
truncate -s 256M "$WORK/sparse.raw"
dd if="$WORK/a" of="$WORK/sparse.raw" bs=64K seek=$((100 * 16)) conv=notrunc status=none
dd if="$WORK/b" of="$WORK/sparse.raw" bs=64K seek=$((200 * 16)) conv=notrunc status=none
rbd import "$WORK/sparse.raw" rbd/sparse >/dev/null 2>&1 && rbd snap create rbd/sparse@s >/dev/null 2>&1
allocated=$(rbd diff rbd/sparse@s --format json 2>/dev/null |
	python3 -c 'import json,sys; print(sum(e["length"] for e in json.load(sys.stdin)))')

$CDPCTL -j archive create rbd/sparse@s --batch --capacity 25G --chunk-size 1M \
	--drive "stdio:$WORK/s.iso" >"$WORK/create.json" 2>"$WORK/create.err"
data=$(python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["data_bytes"])' < "$WORK/create.json" 2>/dev/null)
tap_check "archive of a 256 MiB image with $allocated allocated bytes stores exactly those (got ${data:-none})" \
	test -n "$allocated" -a "$data" = "$allocated"
size=$(stat -c %s "$WORK/s.iso" 2>/dev/null || echo 0)
tap_check "the disc is small: $size bytes for 256 MiB of image" test "$size" -gt 0 -a "$size" -lt $((2 << 20))

tap_check "restore to a file" $CDPCTL archive restore --from-discs "stdio:$WORK/s.iso" --to "$WORK/r.raw"
tap_check "restored image equals the snapshot, holes as zeros" cmp "$WORK/sparse.raw" "$WORK/r.raw"
tap_check "the restored file is sparse too (holes not written)" \
	test "$(du -k "$WORK/r.raw" | cut -f1)" -lt 4096

# the same for a sparse local file (SEEK_DATA/SEEK_HOLE source)
$CDPCTL archive create "file:$WORK/sparse.raw" --batch --capacity 25G \
	--drive "stdio:$WORK/f.iso" >/dev/null 2>"$WORK/f.err" &&
	$CDPCTL archive restore --from-discs "stdio:$WORK/f.iso" --to "$WORK/f.raw" 2>>"$WORK/f.err" &&
	cmp "$WORK/sparse.raw" "$WORK/f.raw" && [ "$(stat -c %s "$WORK/f.iso")" -lt $((2 << 20)) ] &&
	tap_ok "sparse file source: only data extents archived, round trip equal" ||
	{ tap_fail "sparse file source: only data extents archived, round trip equal"; tap_diag "$(cat "$WORK/f.err")"; }
tap_done
