#!/bin/bash
# Two copies of a disc, the first one damaged: the chunks that fail their
# check on the first copy are taken from the second, and the restore is
# complete. A copy of a disc that is already wholly restored is skipped.
# At the prompt, a disc with bad chunks is asked for again.
# timeout: 120
source "$(dirname "$0")/common.sh"
archive_require
tap_plan 9

truncate -s 8M "$WORK/src.raw"
write_random "$WORK/src.raw" 0 $((6 << 20))
d() { echo "stdio:$WORK/$1.iso"; }
$CDPCTL archive create "file:$WORK/src.raw" --batch --capacity 3M --chunk-size 256K \
	--label TWO --drive "$(d d1)" --drive "$(d d2)" --drive "$(d d3)" >/dev/null 2>"$WORK/c.err" ||
	{ tap_fail "setup archive"; tap_diag "$(cat "$WORK/c.err")"; exit 1; }

# d1-bad: disc 1 with one byte flipped in its second chunk
cp "$WORK/d1.iso" "$WORK/d1-bad.iso"
bad=$(($(sql "SELECT first_chunk FROM discs WHERE label = 'TWO-1'") + 1))
lba=$(chunk_lba "$WORK/d1-bad.iso" "/$(printf 'chunks/%08u.bin' $bad)")
off=$((lba * 2048 + 1000))
orig=$(od -An -tu1 -j $off -N1 "$WORK/d1-bad.iso" | tr -d ' ')
printf "\\x$(printf %02x $(((orig + 1) % 256)))" |
	dd of="$WORK/d1-bad.iso" bs=1 seek=$off conv=notrunc status=none

$CDPCTL archive restore --from-discs "$(d d1-bad)" "$(d d1)" "$(d d2)" "$(d d3)" \
	--to "$WORK/out.raw" >/dev/null 2>"$WORK/r.err"; rc=$?
tap_check "damaged copy, then a good one: restore exits 0" test $rc = 0
tap_check "the restored image equals the source" cmp "$WORK/src.raw" "$WORK/out.raw"
tap_check "chunk $bad is named bad on the first copy, then taken from the second" bash -c \
	"grep -q 'chunk $bad (.*) is corrupt: SHA-256 .*; chunk not written' '$WORK/r.err' &&
	 grep -q 'chunk $bad is good on this copy: restored from it' '$WORK/r.err' &&
	 ! grep -q 'given twice' '$WORK/r.err'"

$CDPCTL archive restore --from-discs "$(d d1)" "$(d d1-bad)" "$(d d2)" "$(d d3)" \
	--to "$WORK/out2.raw" >/dev/null 2>"$WORK/r2.err"; rc=$?
tap_check "a good copy first: the second copy is skipped, exit 0" bash -c \
	"[ $rc = 0 ] && grep -q 'd1-bad.iso) was given twice; the second copy is ignored' '$WORK/r2.err' &&
	 cmp '$WORK/src.raw' '$WORK/out2.raw'"

$CDPCTL archive restore --from-discs "$(d d1-bad)" "$(d d1-bad)" "$(d d2)" "$(d d3)" \
	--to "$WORK/out3.raw" >/dev/null 2>"$WORK/r3.err"; rc=$?
tap_check "only damaged copies: exit 3" test $rc = 3
tap_check "naming the disc and the chunk bad on every copy" grep -q \
	"disc 1 of 3 (label TWO-1) of archive [0-9a-f]*: 1 chunk(s) failed their check on every copy given (first: chunk $bad): give another copy with --from-discs" \
	"$WORK/r3.err"
if command -v script >/dev/null; then
	printf '%s\n' "$(d d1-bad)" "$(d d2)" "$(d d3)" "$(d d1)" |
		script -qec "$CDPCTL archive restore --drive $(d d1) --to $WORK/out4.raw; echo \"exit \$?\"" /dev/null \
		>"$WORK/r4.out" 2>&1
	tap_check "at the prompt the damaged disc is asked for again" \
		grep -q "Insert another copy of disc 1 of 3 (label TWO-1), 1 chunk(s) of it failed, into" "$WORK/r4.out"
	# every disc once first: one copy of each still restores discs 2 and 3
	tap_check "after every other disc was asked for once" bash -c \
		"grep -o 'Insert disc 3 of 3\|Insert another copy of disc 1' '$WORK/r4.out' | head -n 2 | tr '\n' '|' |
		 grep -qx 'Insert disc 3 of 3|Insert another copy of disc 1|'"
	tap_check "and the second copy completes the restore" bash -c \
		"grep -q '^exit 0' '$WORK/r4.out' && cmp '$WORK/src.raw' '$WORK/out4.raw'"
else
	tap_skip "prompt asks for another copy" "script(1) missing"
	tap_skip "prompt order" "script(1) missing"
	tap_skip "prompt restore completes" "script(1) missing"
fi
tap_done
