# Shared by tests/archive/test_*.sh (sourced): a private work dir and
# catalog, the cdpctl binary, data helpers. Everything made lives in $WORK
# and is removed by archive_cleanup (EXIT trap); Ceph sandboxes through
# tests/lib/ceph.sh are stopped there too.
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
source "$TOP/tests/lib/tap.sh"
source "$TOP/tests/lib/ceph.sh"
WORK=$(mktemp -d /tmp/cdp-archive-test.XXXXXX)
# a private copy: a rebuild of ctl/cdpctl during the test must not hit us
# (CDPCTL_BIN=path tests another build)
CDPCTL=$WORK/cdpctl
cp "${CDPCTL_BIN:-$TOP/ctl/cdpctl}" "$CDPCTL" 2>/dev/null
# archive_ceph_sync() for the tests until `cdpctl catalog sync` calls it
ARCHIVE_SYNC=${ARCHIVE_SYNC_BIN:-$TOP/tests/tools/archive-ceph-sync}
export CDP_STATE_DIR=$WORK/state
CAT=$CDP_STATE_DIR/catalog.db

archive_cleanup() {
	ceph_cleanup
	rm -rf "$WORK"
}
trap archive_cleanup EXIT

archive_require() {
	if [ ! -x "$CDPCTL" ]; then
		tap_plan 1
		tap_skip "archive tests" "ctl/cdpctl is not built (make user)"
		exit 4
	fi
}

# write_random FILE OFFSET_BYTES LENGTH_BYTES: random data into FILE (kept sparse)
write_random() {
	head -c "$3" /dev/urandom |
		dd of="$1" bs=64K oflag=seek_bytes seek="$2" conv=notrunc status=none
}

# sql QUERY: one-value query on the test catalog
sql() { sqlite3 "$CAT" "$1"; }

# catalog_dump: everything in the catalog, for "unchanged" checks
catalog_dump() { [ -f "$CAT" ] && sqlite3 "$CAT" .dump || echo "no catalog"; }

# chunk_lba DISC PATH: the 2048-byte block where a file's data starts
chunk_lba() {
	xorriso -indev "$1" -find "$2" -exec report_lba -- 2>/dev/null |
		awk '/^File data lba:/ { print $6; exit }'
}
