#!/bin/bash
# Damaged and wrong discs: a flipped byte, a truncated disc, a disc of
# another archive. Each is refused naming the disc and the chunk, and no
# byte that failed its check reaches the target.
# timeout: 120
source "$(dirname "$0")/common.sh"
archive_require
tap_plan 9

truncate -s 8M "$WORK/src.raw"
write_random "$WORK/src.raw" 0 $((6 << 20))
write_random "$WORK/other.raw" 0 $((1 << 20))
d() { echo "stdio:$WORK/$1.iso"; }

$CDPCTL -j archive create "file:$WORK/src.raw" --batch --capacity 3M --chunk-size 256K \
	--label BAD --drive "$(d d1)" --drive "$(d d2)" --drive "$(d d3)" >"$WORK/a.json" 2>"$WORK/a.err"
$CDPCTL -j archive create "file:$WORK/other.raw" --batch --capacity 3M --label OTHER \
	--drive "$(d foreign)" >"$WORK/b.json" 2>>"$WORK/a.err"
ida=$(python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["archive"])' < "$WORK/a.json" 2>/dev/null)
idb=$(python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["archive"])' < "$WORK/b.json" 2>/dev/null)
if [ -z "$ida" ] || [ -z "$idb" ] || [ ! -f "$WORK/d3.iso" ]; then
	tap_fail "two archives written (3 discs + 1)"; tap_diag "$(cat "$WORK/a.err")"; exit 1
fi
tap_ok "two archives written (3 discs + 1)"

# disc 1: flip one byte in the middle of its second chunk file
first1=$(sql "SELECT first_chunk FROM discs WHERE label = 'BAD-1'")
bad=$((first1 + 1))
badpath=$(printf 'chunks/%08u.bin' $bad)
lba=$(chunk_lba "$WORK/d1.iso" "/$badpath")
off=$((lba * 2048 + 1000))
orig=$(od -An -tu1 -j $off -N1 "$WORK/d1.iso" | tr -d ' ')
printf "\\x$(printf %02x $(((orig + 1) % 256)))" |
	dd of="$WORK/d1.iso" bs=1 seek=$off conv=notrunc status=none
# disc 2: cut in half
truncate -s $(($(stat -c %s "$WORK/d2.iso") / 2)) "$WORK/d2.iso"

out=$($CDPCTL archive verify "$(d d1)" 2>&1); rc=$?
tap_check "verify of disc 1 fails (exit 3) naming disc 1 of 3, label BAD-1 and chunk $bad" \
	bash -c '[ '$rc' = 3 ] && grep -q "disc 1 of 3 (label BAD-1, stdio:'"$WORK"'/d1.iso): chunk '$bad' ('"$badpath"') is corrupt: SHA-256" <<< "$1"' _ "$out"

$CDPCTL archive restore --from-discs "$(d d3)" "$(d foreign)" "$(d d2)" "$(d d1)" \
	--to "$WORK/out.raw" >"$WORK/r.out" 2>"$WORK/r.err"; rc=$?
tap_diag "$(cat "$WORK/r.err")"
tap_check "restore with bad discs exits 3 (data check failed)" test $rc = 3
tap_check "corrupt chunk named: disc 1 of 3, label BAD-1, chunk $bad, not written" \
	grep -q "disc 1 of 3 (label BAD-1, stdio:$WORK/d1.iso): chunk $bad ($badpath) is corrupt: SHA-256 .*; chunk not written" "$WORK/r.err"
tap_check "truncated disc named: disc 2 of 3, label BAD-2, first chunk cut off" \
	grep -q "disc 2 of 3 (label BAD-2, stdio:$WORK/d2.iso) is truncated at byte [0-9]*: chunk [0-9]* (chunks/[0-9]*.bin) and [0-9]* more chunk file(s) are cut off" "$WORK/r.err"
tap_check "foreign disc named with its archive id" \
	grep -q "disc 1 of 1 (label OTHER-1, stdio:$WORK/foreign.iso) belongs to archive $idb of file:$WORK/other.raw, not to archive $ida: not used" "$WORK/r.err"
tap_check "the target was not completed: only out.raw.partial exists" \
	test ! -e "$WORK/out.raw" -a -f "$WORK/out.raw.partial"

# what was written is exactly the verified chunks: compare every piece
ok=$(python3 - "$WORK" "$bad" <<'PY'
import subprocess, sys
work, bad = sys.argv[1], int(sys.argv[2])
src = open(work + "/src.raw", "rb").read()
part = open(work + "/out.raw.partial", "rb").read()
good_discs = ("d1", "d3")
ok = True
for disc in good_discs:
    man = subprocess.run(["xorriso", "-osirrox", "on", "-indev", work + "/" + disc + ".iso",
                          "-extract", "/MANIFEST.TXT", work + "/m-" + disc],
                         capture_output=True)
    for line in open(work + "/m-" + disc):
        f = line.split()
        if f[0] != "piece":
            continue
        chunk, img, n = int(f[1]), int(f[3]), int(f[4])
        got = part[img:img + n]
        if chunk == bad:
            ok &= got == bytes(n)           # never written
        else:
            ok &= got == src[img:img + n]   # written and right
print("yes" if ok else "no")
PY
)
tap_check "target holds every verified chunk and zeros where chunk $bad failed" test "$ok" = yes

# the catalog still says the archive is complete and good: discs are
# checked when read, the catalog is not rewritten by a restore
tap_check "catalog unchanged by the failed restore" test \
	"$(sql "SELECT state FROM archives WHERE uuid = '$ida'")" = complete
tap_done
