#!/bin/bash
# RTO benchmark of `cdpctl restore`: time from the command's start until the
# restored data is usable, for a 1 GiB and a 64 GiB (sparse) ext4 image.
#
#   scripts/bench-restore.sh [--runs N] [--no-vm]
#
# host: `cdpctl restore VOL --snap S` (connect, protect, clone) against a
#       sandbox on loopback; the host kernel cannot map block devices here.
# VM:   `cdpctl restore --map nbd|krbd` + mount inside the TCG guest (sandbox in a
#       netns), i.e. command start to a mounted file system.
# Prints one line per run and the medians. Root; `make user` first.
set -uo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
RUNS=3 VM=1
while [ $# -gt 0 ]; do
	case "$1" in
	--runs) RUNS=$2; shift 2 ;;
	--no-vm) VM=0; shift ;;
	*) echo "usage: $0 [--runs N] [--no-vm]" >&2; exit 2 ;;
	esac
done
tmp=$(mktemp -d)
NS=cdpbr$$
cleanup() {
	"$TOP/scripts/ceph/stop.sh" "$tmp/ceph" >/dev/null 2>&1
	"$TOP/scripts/ceph/stop.sh" "$tmp/ceph2" >/dev/null 2>&1
	ip netns del "$NS" 2>/dev/null
	"$TOP/scripts/vm/netns.sh" destroy "$NS" >/dev/null 2>&1
	rm -rf "$tmp"
}
trap cleanup EXIT

median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

# make_images CONF [netns-exec prefix...]: rto1G, rto64G with ext4 + snapshot s
make_images() {
	local conf=$1 s
	shift
	mkdir -p "$tmp/content" && head -c 3M /dev/urandom > "$tmp/content/data"
	for s in 1G 64G; do
		truncate -s $s "$tmp/fs$s.img"
		mkfs.ext4 -q -F -E lazy_itable_init=1,lazy_journal_init=1 -d "$tmp/content" "$tmp/fs$s.img"
		"$@" env CEPH_CONF="$conf" /usr/bin/python3 "$TOP/tests/lib/sparse_import.py" "$tmp/fs$s.img" rbd/rto$s >/dev/null
		rm -f "$tmp/fs$s.img"
		"$@" rbd --conf "$conf" snap create rbd/rto$s@s >/dev/null 2>&1
	done
}

echo "# host: restore (connect + protect + clone), sandbox on loopback"
out=$("$TOP/scripts/ceph/start.sh" "$tmp/ceph" 2>&1) || { echo "$out"; exit 1; }
eval "$(grep -E '^[A-Z_]+=' <<< "$out")"
make_images "$CEPH_CONF"
for s in 1G 64G; do
	for i in $(seq "$RUNS"); do
		t0=$(date +%s.%N)
		CEPH_CONF=$CEPH_CONF "$TOP/ctl/cdpctl" -c "$tmp/c.db" restore rbd/rto$s --snap s --name h$s$i >/dev/null || exit 1
		t1=$(date +%s.%N)
		awk -v a="$t0" -v b="$t1" -v s=$s 'BEGIN {printf "host %s run: %.3f s\n", s, b - a}'
		awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}' >> "$tmp/host$s"
	done
	echo "host $s median: $(median < "$tmp/host$s") s"
done
"$TOP/scripts/ceph/stop.sh" "$tmp/ceph" >/dev/null 2>&1
[ "$VM" = 1 ] || exit 0

echo "# VM: restore --map nbd|krbd + mount, sandbox in a netns, TCG guest"
"$TOP/scripts/vm/netns.sh" create "$NS" 10.231.0.1/24 >/dev/null || exit 1
out=$("$TOP/scripts/ceph/start.sh" "$tmp/ceph2" --netns "$NS" --addr 10.231.0.1 2>&1) || { echo "$out"; exit 1; }
eval "$(grep -E '^[A-Z_]+=' <<< "$out")"
make_images "$CEPH_CONF" ip netns exec "$NS"
cat > "$tmp/guest.sh" <<EOG
export CEPH_CONF=$CEPH_CONF
modprobe nbd; modprobe rbd; mkdir -p /mnt/r
$TOP/ctl/cdpctl -c /run/c.db restore rbd/rto1G --snap nosuch >/dev/null 2>&1	# warm-up
# timed: command start to a mounted file system; text output, no
# interpreter started inside the window
for i in \$(seq $RUNS); do for MAP in nbd krbd; do for s in 1G 64G; do
	t0=\$(date +%s.%N)
	dev=\$($TOP/ctl/cdpctl -c /run/c.db restore rbd/rto\$s --snap s --name \$MAP\$s\$i --map \$MAP |
		grep -o '/dev/[a-z]*[0-9]*' | head -n1)
	mount -o ro \$dev /mnt/r && t1=\$(date +%s.%N) && umount /mnt/r
	if [ \$MAP = nbd ]; then rbd-nbd unmap \$dev; else rbd device unmap -o noudev \$dev; fi
	awk -v a="\$t0" -v b="\$t1" -v s=\$s -v m=\$MAP 'BEGIN {printf "vm %s %s %.3f\\n", m, s, b - a}' >> $tmp/vm.txt
done; done; done
EOG
"$TOP/scripts/vm/run.sh" --timeout 900 --netns "$NS" --work "$tmp" -- bash "$tmp/guest.sh" >/dev/null 2>&1
for m in nbd krbd; do for s in 1G 64G; do
	awk -v s=$s -v m=$m '$2 == m && $3 == s {printf "vm --map %s %s run: %s s\n", m, s, $4}' "$tmp/vm.txt"
	echo "vm --map $m $s median: $(awk -v s=$s -v m=$m '$2 == m && $3 == s {print $4}' "$tmp/vm.txt" | median) s"
done; done
