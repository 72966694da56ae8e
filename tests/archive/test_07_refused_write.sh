#!/bin/bash
# A write libburn refuses (burn_disc_write() returns at once, the drive
# stays idle) must not count as a written disc. "Drive still busy" (the
# previous tiny disc's writer thread not gone yet) is retried; a refusal
# that persists, or a write that silently does nothing, fails naming the
# drive, before verify. A shim (tests/lib/burn-refuse.c, LD_PRELOAD)
# makes libburn refuse the first N writes.
# timeout: 120
source "$(dirname "$0")/common.sh"
archive_require
SHIM=$WORK/burn-refuse.so
if ! ${CC:-cc} -shared -fPIC -o "$SHIM" "$TOP/tests/lib/burn-refuse.c" -ldl 2>"$WORK/cc.err"; then
	tap_plan 1; tap_skip "refused writes" "cannot build the shim: $(head -n1 "$WORK/cc.err")"; exit 4
fi
tap_plan 7

truncate -s 8M "$WORK/src.raw"
write_random "$WORK/src.raw" 0 $((3 << 20))
d() { echo "stdio:$WORK/$1.iso"; }
# create NAME REFUSALS MODE: a 3-disc archive with the shim
create() {
	CDP_TEST_REFUSE_WRITES=$2 CDP_TEST_REFUSE_MODE=$3 LD_PRELOAD=$SHIM \
		$CDPCTL archive create "file:$WORK/src.raw" --batch --capacity 1600K \
		--chunk-size 256K --label "$1" --drive "$(d "$1"-1)" --drive "$(d "$1"-2)" \
		--drive "$(d "$1"-3)" >/dev/null 2>"$WORK/$1.err" </dev/null
}

create BUSY 2 busy; rc=$?
tap_check "two 'drive still busy' refusals are retried: create exits 0" test $rc = 0
tap_check "the retry is said" grep -q "drive stdio:$WORK/BUSY-1.iso is still busy with the previous disc; trying again" "$WORK/BUSY.err"
tap_check "all three discs cataloged good" test \
	"$(sql "SELECT count(*) FROM discs WHERE label LIKE 'BUSY-%'")" = 3

create STUCK 100 busy; rc=$?
tap_check "a refusal that persists fails the create (exit $rc)" test $rc != 0
tap_check "naming the drive and libburn's reason, not verify's 'cannot read disc'" bash -c \
	"grep -q 'drive stdio:$WORK/STUCK-1.iso refused the write 5 times: libburn says \"SORRY : A drive operation is still going on (want to write)\"' '$WORK/STUCK.err' &&
	 ! grep -q 'cannot read disc' '$WORK/STUCK.err'"

create SILENT 1 silent; rc=$?
tap_check "a write that does nothing fails the create (exit $rc)" test $rc != 0
tap_check "saying how much was written" bash -c \
	"grep -q 'writing to $WORK/SILENT-1.iso stopped after 0 of [0-9]* bytes, with no error from libburn' '$WORK/SILENT.err' &&
	 ! grep -q 'cannot read disc' '$WORK/SILENT.err'"
tap_done
