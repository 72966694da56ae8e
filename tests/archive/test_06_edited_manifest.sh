#!/bin/bash
# Edited or damaged manifests whose header contradicts the chunks: a
# chunk_size given twice (the second one smaller than a chunk), and a disc
# with the archive's id but another chunk size and disc table. Both used
# to overflow the chunk buffer (free(): invalid next size); each is now
# refused by name with exit 3. And a piece moved in the image: the chunk
# hashes do not cover it, manifest_sha256 (format 2) does; with that line
# forged too, restore's image check fails and says the result is bad.
# Edits that keep manifest_sha256 right are forged (rehash) so the other
# checks are what is tested.
# timeout: 120
source "$(dirname "$0")/common.sh"
archive_require
tap_plan 12

d() { echo "stdio:$WORK/$1.iso"; }
# rehash MANIFEST: make its manifest_sha256 line match the text again
rehash() {
	local h
	h=$(grep -v -e '^manifest_sha256 ' -e '^end$' "$1" | sha256sum | cut -c1-64)
	{ grep -v -e '^manifest_sha256 ' -e '^end$' "$1"; echo "manifest_sha256 $h"; echo end; } > "$1.new"
	mv "$1.new" "$1"
}
# reiso IN OUT SED_SCRIPT [rehash]: extract disc IN, edit its MANIFEST.TXT
# and README.TXT with sed, write it back as OUT (same volume label)
reiso() {
	local x=$WORK/x-$2 vol
	rm -rf "$x" && mkdir "$x"
	xorriso -osirrox on -indev "$WORK/$1.iso" -extract / "$x" >/dev/null 2>&1
	chmod -R u+w "$x"
	sed -i "$3" "$x/MANIFEST.TXT" "$x/README.TXT"
	[ "${4:-}" = rehash ] && rehash "$x/MANIFEST.TXT"
	vol=$(xorriso -indev "$WORK/$1.iso" -pvd_info 2>/dev/null | sed -n 's/^Volume Id *: *//p')
	xorriso -as mkisofs -quiet -R -J -V "$vol" -o "$WORK/$2.iso" "$x" >/dev/null 2>&1
}
# not_crashed NAME RC OUT REGEX: exit 3 (data check failed) and the message
not_crashed() {
	if [ "$2" = 3 ] && grep -qE "$4" <<< "$3"; then
		tap_ok "$1"
	else
		tap_fail "$1"; tap_diag "exit $2 (want 3): $3"
	fi
}

# one disc, one chunk of 500 KB, chunk size 4 MiB
truncate -s 8M "$WORK/one.raw"
write_random "$WORK/one.raw" 0 500000
$CDPCTL archive create "file:$WORK/one.raw" --batch --capacity 25G --chunk-size 4M \
	--label ONE --drive "$(d one)" >/dev/null 2>"$WORK/one.err" ||
	{ tap_fail "setup archive"; tap_diag "$(cat "$WORK/one.err")"; exit 1; }
reiso one dup 's/^end$/chunk_size 65536\nend/' rehash
out=$($CDPCTL archive verify "$(d dup)" 2>&1); rc=$?
not_crashed "verify: chunk_size given twice is refused naming the line" "$rc" "$out" \
	'manifest line [0-9]+: "chunk_size" is given twice \(first on line 11\)'
out=$($CDPCTL archive restore --from-discs "$(d dup)" --to "$WORK/dup.raw" 2>&1); rc=$?
not_crashed "restore: chunk_size given twice is refused, nothing restored" "$rc" "$out" \
	'"chunk_size" is given twice.*none restored'

# two archives of the same data, 64 KiB and 256 KiB chunks, two discs each;
# disc 2 of the second one gets the first one's id
truncate -s 8M "$WORK/src.raw"
write_random "$WORK/src.raw" 0 $((1 << 20))
for c in 64K 256K; do
	$CDPCTL -j archive create "file:$WORK/src.raw" --batch --capacity 1200K \
		--chunk-size $c --label C$c --drive "$(d c$c-1)" --drive "$(d c$c-2)" \
		>"$WORK/c$c.json" 2>"$WORK/c$c.err" ||
		{ tap_fail "setup archive $c"; tap_diag "$(cat "$WORK/c$c.err")"; exit 1; }
done
ida=$(python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["archive"])' < "$WORK/c64K.json")
idb=$(python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["archive"])' < "$WORK/c256K.json")
if [ -f "$WORK/c64K-2.iso" ] && [ -f "$WORK/c256K-2.iso" ] && [ ! -e "$WORK/c64K-3.iso" ]; then
	tap_ok "two archives of two discs each, 64 KiB and 256 KiB chunks"
else
	tap_fail "two archives of two discs each, 64 KiB and 256 KiB chunks"
fi
reiso c256K-2 mixed "s/$idb/$ida/" rehash
out=$($CDPCTL archive restore --from-discs "$(d c64K-1)" "$(d mixed)" \
	--to "$WORK/mixed.raw" 2>&1); rc=$?
not_crashed "restore: a same-id disc with another chunk size is refused" "$rc" "$out" \
	"disc 2 of 2 \(label C256K-2, stdio:$WORK/mixed.iso\) disagrees with the other discs of archive $ida"
tap_check "and disc 2 is then reported missing" grep -q "disc 2 of 2 (label C64K-2, .*) of archive $ida is missing" <<< "$out"
$CDPCTL archive restore --from-discs "$(d c64K-2)" "$(d c64K-1)" \
	--to "$WORK/good.raw" >/dev/null 2>&1; rc=$?
tap_check "the unedited discs restore the image" \
	bash -c "[ $rc = 0 ] && cmp '$WORK/src.raw' '$WORK/good.raw'"

# format 1 (before manifest_sha256) is still read
reiso one v1 '/^manifest_sha256 /d; 1s/^CDP-ARCHIVE-MANIFEST 2$/CDP-ARCHIVE-MANIFEST 1/'
$CDPCTL archive verify "$(d v1)" >/dev/null 2>&1 &&
	$CDPCTL archive restore --from-discs "$(d v1)" --to "$WORK/v1.raw" >/dev/null 2>&1; rc=$?
tap_check "a format 1 disc still verifies and restores" \
	bash -c "[ $rc = 0 ] && cmp '$WORK/one.raw' '$WORK/v1.raw'"

# a piece moved 4 KiB further into the image
reiso one moved 's/^piece 0 0 0 /piece 0 0 4096 /'
out=$($CDPCTL archive verify "$(d moved)" 2>&1); rc=$?
not_crashed "verify: a moved piece fails the manifest's own SHA-256" "$rc" "$out" \
	"the manifest's SHA-256 is [0-9a-f]{64}, its manifest_sha256 line says [0-9a-f]{64}: the manifest is damaged or was edited"
out=$($CDPCTL archive restore --from-discs "$(d moved)" --to "$WORK/moved.raw" 2>&1); rc=$?
not_crashed "restore: that disc is refused, nothing restored" "$rc" "$out" \
	"manifest_sha256 line says .*none restored"
reiso one forged 's/^piece 0 0 0 /piece 0 0 4096 /' rehash
out=$($CDPCTL archive verify "$(d forged)" 2>&1); rc=$?
tap_check "with the line forged too, verify cannot tell (its chunks are good)" test $rc = 0
out=$($CDPCTL archive restore --from-discs "$(d forged)" --to "$WORK/forged.raw" 2>&1); rc=$?
not_crashed "restore: the image check fails and the result is called bad" "$rc" "$out" \
	"restore failed: every chunk passed its check but the image does not: .*forged.raw.partial is NOT a good copy"
tap_check "and does not claim that no unverified byte was written" bash -c \
	'! grep -q "unverified" <<< "$1" && [ ! -e "$2" ]' _ "$out" "$WORK/forged.raw"
tap_done
