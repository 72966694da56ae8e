#!/bin/bash
# Archive a real RBD snapshot (sandbox) to three pseudo-discs and restore it
# from the discs fed back in shuffled order, to a new RBD image and to a file.
# timeout: 240
source "$(dirname "$0")/common.sh"
archive_require
tap_plan 15

if ! ceph_start >"$WORK/ceph.log" 2>&1; then
	tap_fail "Ceph sandbox starts"; tap_diag "$(tail -20 "$WORK/ceph.log")"; exit 1
fi
export CEPH_CONF

# 64 MiB image: data in objects 0, 4, 10 and 15, the rest never written
truncate -s 64M "$WORK/src.raw"
write_random "$WORK/src.raw" $((1 << 20)) $((3 << 20))
write_random "$WORK/src.raw" $((300 * 65536)) $((320 << 10))
write_random "$WORK/src.raw" $((40 << 20)) $((4 << 20))
write_random "$WORK/src.raw" $((63 << 20)) $((1 << 20))
rbd import "$WORK/src.raw" rbd/vol1 >/dev/null 2>&1 &&
	rbd snap create rbd/vol1@s1 >/dev/null 2>&1 &&
	# written after the snapshot: must not reach the archive
	rbd bench --io-type write --io-size 4096 --io-total 65536 rbd/vol1 >/dev/null 2>&1 &&
	rbd export rbd/vol1@s1 "$WORK/s1.raw" >/dev/null 2>&1
want=$(sha256sum < "$WORK/s1.raw" | cut -d' ' -f1)

D="$WORK/d1.iso $WORK/d2.iso $WORK/d3.iso"
if $CDPCTL -j archive create rbd/vol1@s1 --batch --capacity 6M --chunk-size 256K \
	--label RT --drive "stdio:$WORK/d1.iso" --drive "stdio:$WORK/d2.iso" \
	--drive "stdio:$WORK/d3.iso" >"$WORK/create.json" 2>"$WORK/create.err"; then
	tap_ok "archive create writes and verifies 3 discs from rbd/vol1@s1"
else
	tap_fail "archive create writes and verifies 3 discs from rbd/vol1@s1"
	tap_diag "$(cat "$WORK/create.err")"
fi
id=$(python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["archive"])' < "$WORK/create.json" 2>/dev/null)
ndiscs=$(python3 -c 'import json,sys; print(len(json.load(sys.stdin)[0]["discs"]))' < "$WORK/create.json" 2>/dev/null)
tap_check "the plan used exactly 3 discs (got ${ndiscs:-none})" test "$ndiscs" = 3
tap_check "image SHA-256 in the manifest equals sha256sum of the snapshot" \
	grep -q "\"image_sha256\":\"$want\"" "$WORK/create.json"

tap_check "catalog: archive complete, 3 good discs, 3 ok burns with rate" test \
	"$(sql "SELECT a.state, (SELECT count(*) FROM discs WHERE archive_id = a.id),
		(SELECT count(*) FROM burns WHERE archive_id = a.id AND result = 'ok' AND rate_bps > 0
		 AND ended_at >= started_at AND bytes > 0)
		FROM archives a WHERE uuid = '$id'")" = "complete|3|3"
tap_check "catalog: snapshot rbd/vol1@s1 recorded with its chunks" test \
	"$(sql "SELECT count(*) FROM archive_chunks c JOIN archives a ON a.id = c.archive_id
		JOIN snapshots s ON s.id = a.snapshot_id WHERE a.uuid = '$id' AND s.name = 's1'")" -gt 0

ok=1
rados -p rbd stat "cdp_archive.$id" >/dev/null 2>&1 || ok=0
rados -p rbd listomapkeys cdp_archives 2>/dev/null | grep -qx "vol1@s1/$id" || ok=0
rados -p rbd get "cdp_archive.$id" "$WORK/rec.txt" 2>/dev/null && grep -q "^disc 3 RT-3 " "$WORK/rec.txt" || ok=0
[ $ok = 1 ] && tap_ok "archive record in Ceph (object + omap index) names the disc labels" ||
	tap_fail "archive record in Ceph (object + omap index) names the disc labels"

# another host: an empty catalog, only Ceph access
out=$(CDP_STATE_DIR=$WORK/host2 $CDPCTL -j archive show rbd/vol1@s1 2>&1)
tap_check "a host without the catalog finds the discs of rbd/vol1@s1 in Ceph" \
	grep -q "\"archive\":\"$id\".*\"labels\":\"RT-1 RT-2 RT-3\".*\"from\":\"ceph\"" <<< "$out"

ok=1
for d in $D; do
	files=$(xorriso -indev "$d" -find / -type f 2>/dev/null)
	grep -qx "'/MANIFEST.TXT'" <<< "$files" && grep -qx "'/README.TXT'" <<< "$files" || ok=0
	xorriso -indev "$d" -toc 2>&1 | grep -q "ISO loaded   : Rock_Ridge" || ok=0
	# Joliet supplementary volume descriptor (UCS-2 level 3 escape "%/E")
	[ "$(dd if="$d" bs=2048 skip=17 count=1 status=none | head -c 91 | tail -c 3)" = "%/E" ] || ok=0
done
[ $ok = 1 ] && tap_ok "xorriso reads every disc: MANIFEST.TXT, README.TXT, Rock Ridge, Joliet" ||
	tap_fail "xorriso reads every disc: MANIFEST.TXT, README.TXT, Rock Ridge, Joliet"

tap_check "archive verify reads every chunk of the 3 discs back" \
	$CDPCTL archive verify "stdio:$WORK/d1.iso" "stdio:$WORK/d2.iso" "stdio:$WORK/d3.iso"

tap_check "restore from discs in order 3,1,2 to a new RBD image" \
	$CDPCTL archive restore "$id" --from-discs "stdio:$WORK/d3.iso" "stdio:$WORK/d1.iso" \
	"stdio:$WORK/d2.iso" --to rbd/back
rbd export rbd/back "$WORK/back.raw" >/dev/null 2>&1
tap_check "restored RBD image equals the snapshot byte for byte" cmp "$WORK/s1.raw" "$WORK/back.raw"

tap_check "restore from discs in order 2,3,1 to a file equals the snapshot" bash -c "
	$CDPCTL archive restore --from-discs stdio:$WORK/d2.iso stdio:$WORK/d3.iso \
		stdio:$WORK/d1.iso --to $WORK/back2.raw 2>&1 && cmp $WORK/s1.raw $WORK/back2.raw"

# The README recipe, with coreutils only, on files extracted by xorriso
(
	set -e
	cd "$WORK"
	truncate -s 64M manual.raw
	set -o pipefail
	for d in $D; do
		rm -rf x && mkdir x
		xorriso -osirrox on -indev "$d" -extract / x >/dev/null 2>&1
		cd x
		ln -s ../manual.raw image.raw
		# the commands README.TXT gives, verbatim: check the sums, place the pieces
		grep -c '^  awk ' README.TXT | grep -qx 2
		sed -n 's/^  awk /awk /p' README.TXT | sh -e
		cd ..
	done
	cmp s1.raw manual.raw
) >"$WORK/manual.log" 2>&1 && tap_ok "README recipe (xorriso + coreutils, no cdp) restores the snapshot" ||
	{ tap_fail "README recipe (xorriso + coreutils, no cdp) restores the snapshot"; tap_diag "$(tail -5 "$WORK/manual.log")"; }
# the RBD snapshot goes; another host syncs its catalog from Ceph (the
# snapshot records, then the archive records) and lists the snapshot as an
# archived stub with its disc labels; its restore finds the discs by label
rbd snap rm rbd/vol1@s1 >/dev/null 2>&1
{ CDP_STATE_DIR=$WORK/host3 $CDPCTL catalog sync &&
	"$ARCHIVE_SYNC" "$WORK/host3/catalog.db"; } >"$WORK/sync.out" 2>&1
out=$(CDP_STATE_DIR=$WORK/host3 $CDPCTL -j snap list --all 2>&1)
tap_check "after catalog sync elsewhere: s1 is an archived stub listing RT-1 RT-2 RT-3" \
	python3 -c '
import json, sys
rows = [r for r in json.loads(sys.argv[1]) if r.get("name") == "s1"]
assert rows and rows[0]["state"] == "archived" and rows[0].get("discs") == "RT-1 RT-2 RT-3", rows
' "$out"
tap_check "that host restores archive RT-1 (found by label) from the discs" bash -c "
	CDP_STATE_DIR=$WORK/host3 $CDPCTL archive restore RT-1 --from-discs stdio:$WORK/d1.iso \
		stdio:$WORK/d3.iso stdio:$WORK/d2.iso --to $WORK/host3.raw 2>&1 &&
	cmp $WORK/s1.raw $WORK/host3.raw"
tap_done
