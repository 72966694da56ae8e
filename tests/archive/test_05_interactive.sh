#!/bin/bash
# On a terminal: archive create asks for the next blank medium when the
# given drives are used up, and archive restore --drive asks for each disc
# by label (discs typed in any order; a wrong disc is refused and asked
# again). A medium that cannot be used when create asks for it (not blank,
# no such drive) is refused and asked for again, not the end of the
# archive. script(1) provides the terminal; the operator's answers are typed
# drive addresses.
# timeout: 60
source "$(dirname "$0")/common.sh"
archive_require
tap_plan 10
command -v script >/dev/null || { tap_skip "interactive archive" "script(1) missing"; exit 4; }

truncate -s 8M "$WORK/src.raw"
write_random "$WORK/src.raw" 0 $((6 << 20))
d() { echo "stdio:$WORK/$1.iso"; }
# tty CMD: run CMD on a pseudo-terminal, stdin lines from $ANSWERS
tty_run() { printf '%s\n' "${ANSWERS[@]}" | script -qec "$1" /dev/null; }

ANSWERS=("$(d i2)" "$(d i3)")
out=$(tty_run "$CDPCTL archive create file:$WORK/src.raw --capacity 3M --chunk-size 256K --label TTY --drive $(d i1)" 2>&1 | tr -d '\r')
tap_check "create on a terminal asks for discs 2 and 3 by label" bash -c \
	'grep -q "Insert a blank medium for disc 2 of 3 (label TTY-2)" <<< "$1" &&
	 grep -q "Insert a blank medium for disc 3 of 3 (label TTY-3)" <<< "$1"' _ "$out"
tap_check "the three discs are written and cataloged" test \
	"$(sql "SELECT count(*) FROM discs WHERE label LIKE 'TTY-%'")" = 3

# wrong media at the prompt: a used one, a drive that does not exist, and
# Enter (the first drive, holding disc 1) for disc 3
echo "an old archive" > "$WORK/used.iso"
ANSWERS=("$(d used)" "stdio:$WORK/nodir/x.iso" "$(d j2)" "" "$(d j3)")
out=$(tty_run "$CDPCTL archive create file:$WORK/src.raw --capacity 3M --chunk-size 256K --label RETRY --drive $(d j1); echo \"exit \$?\"" 2>&1 | tr -d '\r')
tap_check "a used medium for disc 2 is refused and disc 2 asked for again" bash -c \
	'grep -q "medium in '"$WORK"'/used.iso is not blank: .*; nothing was written for disc 2 of 3" <<< "$1" &&
	 [ "$(grep -c "Insert a blank medium for disc 2 of 3 (label RETRY-2)" <<< "$1")" = 3 ]' _ "$out"
tap_check "a missing drive and the written disc 1 are refused the same way" bash -c \
	'grep -q "drive stdio:'"$WORK"'/nodir/x.iso not found: .*; nothing was written for disc 2 of 3" <<< "$1" &&
	 grep -q "medium in '"$WORK"'/j1.iso is not blank: .*; nothing was written for disc 3 of 3" <<< "$1"' _ "$out"
tap_check "the archive completes: exit 0, the used medium untouched" bash -c \
	'grep -q "^exit 0" <<< "$1" && [ "$(cat '"$WORK"'/used.iso)" = "an old archive" ]' _ "$out"
tap_check "its three discs are cataloged, the archive complete" test \
	"$(sql "SELECT count(*) || ' ' || min(a.state) FROM discs d JOIN archives a ON d.archive_id = a.id WHERE d.label LIKE 'RETRY-%'")" = "3 complete"

# a disc of another archive, to be typed by mistake
$CDPCTL archive create "file:$WORK/src.raw" --batch --capacity 25G --label OTHER \
	--drive "$(d other)" >/dev/null 2>&1

ANSWERS=("$(d i3)" "$(d other)" "$(d i1)" "$(d i2)")
tty_run "$CDPCTL archive restore TTY-1 --drive $(d i1) --to $WORK/out.raw" >"$WORK/r.out" 2>&1; rc=$?
out=$(tr -d '\r' < "$WORK/r.out")
tap_check "restore asks for any disc first, then for each missing one by label" bash -c \
	'grep -q "Insert any disc of the archive" <<< "$1" &&
	 grep -q "Insert disc 1 of 3 (label TTY-1)" <<< "$1" &&
	 grep -q "Insert disc 2 of 3 (label TTY-2)" <<< "$1"' _ "$out"
tap_check "the wrong disc is refused by name" \
	grep -q "disc 1 of 1 (label OTHER-1, $(d other)) belongs to archive" <<< "$out"
tap_check "discs typed in the order 3, wrong, 1, 2 restore the image" cmp "$WORK/src.raw" "$WORK/out.raw" 2>/dev/null
tap_check "at the prompt a wrong disc is only refused: exit 0" \
	test "$rc" = 0
tap_done
