#!/bin/bash
# Archive write rate vs xorriso, and memory vs image size.
#
#   scripts/bench-archive.sh [--rounds N] [--rbd] [SIZE...]    (default: 256M 1G)
#
# For each SIZE a fully allocated random image is written to a stdio:
# pseudo-drive (a file on the same file system) by
#   cdpctl archive create file:IMG   (libisofs -> libburn, then read back)
#   xorriso -map IMG /img -commit    (the same bytes, same kind of drive)
# alternately, N rounds; medians are printed, and the median of the
# per-round ratios (pairs run back to back cancel the drift of a shared
# machine). cdp's write rate is the burn record's (bytes / (end - start),
# verify excluded); xorriso's is bytes / wall time. Peak RSS comes from GNU time. With --rbd the image is also imported into
# a throw-away Ceph sandbox and archived from an RBD snapshot.
# Prints a Markdown table for docs/BENCHMARKS.md. Needs ~3x the largest SIZE
# free in $TMPDIR.
set -euo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
ROUNDS=3 RBD=0 SIZES=()
while [ $# -gt 0 ]; do
	case "$1" in
	--rounds) ROUNDS=$2; shift 2 ;;
	--rbd) RBD=1; shift ;;
	-h|--help) sed -n '2,/^set -e/p' "$0" | sed '$d'; exit 0 ;;
	*) SIZES+=("$1"); shift ;;
	esac
done
[ ${#SIZES[@]} -gt 0 ] || SIZES=(256M 1G)
BIN=${CDPCTL_BIN:-$TOP/ctl/cdpctl}	# CDPCTL_BIN=path measures another build
[ -x "$BIN" ] || { echo "bench-archive: build first (make user)" >&2; exit 1; }

W=$(mktemp -d "${TMPDIR:-/tmp}/cdp-bench-archive.XXXXXX")
source "$TOP/tests/lib/ceph.sh"
trap 'ceph_cleanup; rm -rf "$W"' EXIT
cp "$BIN" "$W/cdpctl"
export CDP_STATE_DIR=$W/state

median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
mib() { awk -v b="$1" 'BEGIN { printf "%.0f", b / 1048576 }'; }

# run_cdp SRC -> "write_MBps total_s rss_KiB cpu_s"
run_cdp() {
	local iso=$W/cdp.iso t0 t1 rss rate
	rm -f "$iso"
	t0=$(date +%s.%N)
	/usr/bin/time -f "%M %U %S" -o "$W/rss" "$W/cdpctl" archive create "$1" --batch \
		--capacity 200G --drive "stdio:$iso" >/dev/null 2>"$W/err" ||
		{ cat "$W/err" >&2; return 1; }
	t1=$(date +%s.%N)
	rss=$(tail -n1 "$W/rss" | awk '{ print $1, $2 + $3 }')
	rate=$(sqlite3 "$CDP_STATE_DIR/catalog.db" \
		"SELECT rate_bps / 1e6 FROM burns ORDER BY id DESC LIMIT 1")
	echo "$rate $(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }') $rss"
	rm -f "$iso"
}

# run_xorriso IMG -> "write_MBps rss_KiB cpu_s"
run_xorriso() {
	local iso=$W/x.iso t0 t1 size
	rm -f "$iso"
	t0=$(date +%s.%N)
	/usr/bin/time -f "%M %U %S" -o "$W/rss" xorriso -outdev "stdio:$iso" -map "$1" /img \
		-commit >/dev/null 2>"$W/xerr" || { cat "$W/xerr" >&2; return 1; }
	t1=$(date +%s.%N)
	size=$(stat -c %s "$iso")
	echo "$(awk -v s="$size" -v a="$t0" -v b="$t1" 'BEGIN { print s / (b - a) / 1e6 }') $(tail -n1 "$W/rss" | awk '{ print $1, $2 + $3 }')"
	rm -f "$iso"
}

echo "| image | cdp write MB/s | xorriso MB/s | ratio | cdp total s (incl. verify) | cdp CPU s | xorriso CPU s | cdp peak RSS MiB | xorriso peak RSS MiB |"
echo "|---|---|---|---|---|---|---|---|---|"
for size in "${SIZES[@]}"; do
	img=$W/img.raw
	head -c "$size" /dev/urandom > "$img"
	: > "$W/c" ; : > "$W/x"
	for r in $(seq "$ROUNDS"); do
		run_cdp "file:$img" >> "$W/c"
		run_xorriso "$img" >> "$W/x"
	done
	cw=$(cut -d' ' -f1 "$W/c" | median); ct=$(cut -d' ' -f2 "$W/c" | median)
	cr=$(cut -d' ' -f3 "$W/c" | median); cc=$(cut -d' ' -f4 "$W/c" | median)
	xw=$(cut -d' ' -f1 "$W/x" | median); xr=$(cut -d' ' -f2 "$W/x" | median)
	xc=$(cut -d' ' -f3 "$W/x" | median)
	# the median of per-round ratios: each pair ran back to back, so the
	# drift of a shared machine cancels better than in a ratio of medians
	ratio=$(paste -d' ' "$W/c" "$W/x" | awk '{ print $1 / $5 }' | median)
	printf "| %s file | %.0f | %.0f | %.2f | %.1f | %.1f | %.1f | %s | %s |\n" "$size" "$cw" "$xw" \
		"$ratio" "$ct" "$cc" "$xc" \
		"$(mib $((cr * 1024)))" "$(mib $((xr * 1024)))"
	if [ $RBD = 1 ]; then
		if [ -z "${CEPH_CONF:-}" ]; then
			ceph_start --size-gb 8 >/dev/null 2>&1 || { echo "bench-archive: no Ceph sandbox" >&2; exit 1; }
			export CEPH_CONF
		fi
		rbd import "$img" "rbd/b$size" >/dev/null 2>&1
		rbd snap create "rbd/b$size@s" >/dev/null 2>&1
		: > "$W/c"
		for r in $(seq "$ROUNDS"); do run_cdp "rbd/b$size@s" >> "$W/c"; done
		printf "| %s RBD snapshot | %.0f | - | - | %.1f | %.1f | - | %s | - |\n" "$size" \
			"$(cut -d' ' -f1 "$W/c" | median)" "$(cut -d' ' -f2 "$W/c" | median)" \
			"$(cut -d' ' -f4 "$W/c" | median)" \
			"$(mib $(($(cut -d' ' -f3 "$W/c" | median) * 1024)))"
		rbd snap rm "rbd/b$size@s" >/dev/null 2>&1; rbd rm "rbd/b$size" >/dev/null 2>&1
	fi
	rm -f "$img"
done
