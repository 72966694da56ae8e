#!/bin/bash
# Refusals before anything is written: capacity exhausted, drive missing,
# medium not blank, label reused. Each gives a clear error, writes no disc
# and leaves the catalog unchanged.
# timeout: 60
source "$(dirname "$0")/common.sh"
archive_require
tap_plan 10

truncate -s 8M "$WORK/src.raw"
write_random "$WORK/src.raw" 0 $((6 << 20))
d() { echo "stdio:$WORK/$1"; }
# one good archive first, so "unchanged" compares a non-empty catalog
$CDPCTL archive create "file:$WORK/src.raw" --batch --capacity 25G --label FIRST \
	--drive "$(d first.iso)" >/dev/null 2>"$WORK/first.err" ||
	{ tap_fail "setup archive"; tap_diag "$(cat "$WORK/first.err")"; exit 1; }
before=$(catalog_dump)

# refuse NAME EXPECTED_EXIT REGEX ARGS...: run create, check exit, message,
# no new disc file and the catalog
refuse() {
	local name=$1 want=$2 re=$3 out rc
	shift 3
	out=$($CDPCTL archive create "file:$WORK/src.raw" --batch "$@" 2>&1 </dev/null); rc=$?
	if [ "$rc" = "$want" ] && grep -qE "$re" <<< "$out"; then
		tap_ok "$name"
	else
		tap_fail "$name"; tap_diag "exit $rc (want $want): $out"
	fi
}
unchanged() {
	local name=$1 new
	shift
	new=$(ls "$WORK" | grep -E '^(d[0-9]|blank|used)' | grep -v '^used.iso$' | tr '\n' ' ')
	if [ "$(catalog_dump)" = "$before" ] && [ -z "$new" ]; then
		tap_ok "$name: catalog unchanged, no disc written"
	else
		tap_fail "$name: catalog unchanged, no disc written"; tap_diag "new files: $new"
	fi
}

refuse "capacity exhausted: 3 discs needed, 1 drive given" 1 \
	"capacity exhausted: 6.0 MiB of data in 24 chunks needs 3 discs of 3.0 MiB, but 1 drive\(s\) were given; give 3 --drive arguments" \
	--capacity 3M --chunk-size 256K --drive "$(d d1.iso)"
unchanged "capacity exhausted"

refuse "capacity below one chunk plus overhead" 1 \
	"capacity 1.0 MiB is too small: one disc needs at least .* use a larger --capacity or a smaller --chunk-size" \
	--capacity 1M --drive "$(d d1.iso)"

refuse "drive missing (directory does not exist)" 1 \
	"drive stdio:$WORK/nodir/d2.iso not found: directory $WORK/nodir does not exist" \
	--capacity 3M --chunk-size 256K --drive "$(d d1.iso)" --drive "$(d nodir/d2.iso)" --drive "$(d d3.iso)"
refuse "optical drive missing" 1 "drive /dev/sr9 not found" --drive /dev/sr9
unchanged "drive missing"

head -c 100K /dev/urandom > "$WORK/used.iso"
refuse "medium not blank (third drive)" 1 \
	"medium in $WORK/used.iso is not blank: it is .*; remove or empty that file" \
	--capacity 3M --chunk-size 256K --drive "$(d d1.iso)" --drive "$(d d2.iso)" --drive "$(d used.iso)"
unchanged "medium not blank"

refuse "disc label already in the catalog" 1 \
	"disc label FIRST-1 is already in the catalog: choose another --label" \
	--capacity 25G --label FIRST --drive "$(d d1.iso)"

touch "$WORK/exists.raw"
out=$($CDPCTL archive restore --from-discs "$(d first.iso)" --to "$WORK/exists.raw" 2>&1); rc=$?
tap_check "restore never overwrites an existing target" bash -c \
	'[ '$rc' = 1 ] && grep -q "target .*exists.raw exists: restore never overwrites" <<< "$1" && [ ! -s '"$WORK"'/exists.raw ]' _ "$out"
tap_done
