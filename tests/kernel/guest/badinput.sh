#!/bin/bash
# Guest side of test_15_badinput.sh: malformed tables (each rejected with its
# own ti->error), bad metadata, malformed/random netlink, EPERM for an
# unprivileged process, module unload refused while a device exists.
# Disks: vda origin (64M), vdb meta (4M), vdc scratch (16M).
. tests/lib/tap.sh
. tests/kernel/guest/cdp-common.sh
O=/dev/vda M=/dev/vdb X=/dev/vdc
SZ=$(blockdev --getsz $O)
cdp_load || { echo "Bail out! module"; exit 1; }
tap_diag "start $(date +%T)"
echo "TAP version 13"
# tables + metadata cases + 22 netlink results (nlfuzz.py) + 5 more
NT=$(grep -c '^bad ' "$0")
NM=$(grep -c '^badmeta ' "$0")
echo "1..$((NT + NM + 22 + 5))"
_tap_n=0

# bad NAME EXPECTED-ERROR-FRAGMENT TABLE...
bad() {
	local frag=$1
	shift
	local table="$*" out msg
	dmesg -C
	if out=$(dmsetup create badtbl --table "$table" 2>&1); then
		dmsetup remove badtbl
		tap_fail "rejected: '$table' (it loaded)"
		return
	fi
	msg=$(dmesg | grep -o 'cdp: .*' | tail -n1)
	if grep -qF -- "$frag" <<< "$msg"; then
		tap_ok "rejected: '$table' -> ${msg#cdp: }"
	else
		tap_fail "rejected: '$table' with '$frag'"; tap_diag "kernel said: $msg"
	fi
}
bad "Usage" 0 $SZ cdp
bad "Usage" 0 $SZ cdp $O
bad "Usage" 0 $SZ cdp $O $M
bad "Cannot open origin_dev" 0 $SZ cdp /dev/nonexistent $M v
bad "Cannot open meta_dev" 0 $SZ cdp $O /dev/nonexistent v
bad "Cannot open origin_dev" 0 $SZ cdp 999:999 $M v
bad "must be different" 0 $SZ cdp $O $O v
bad "1 to 63 characters" 0 $SZ cdp $O $M aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
bad "may only contain" 0 $SZ cdp $O $M vol/1
bad "may only contain" 0 $SZ cdp $O $M "vol*"
bad "Invalid number of options" 0 $SZ cdp $O $M v 1
bad "Invalid number of options" 0 $SZ cdp $O $M v x
bad "Invalid number of options" 0 $SZ cdp $O $M v -1 sync
bad "Invalid number of options" 0 $SZ cdp $O $M v 14 sync sync sync sync sync sync sync sync sync sync sync sync sync sync
bad "Extra words" 0 $SZ cdp $O $M v 1 sync extra
bad "missing its value" 0 $SZ cdp $O $M v 1 queue_mb
bad "Extra words" 0 $SZ cdp $O $M v 2 queue_mb 8 sync
bad "queue_mb needs a number" 0 $SZ cdp $O $M v 2 queue_mb 0
bad "queue_mb needs a number" 0 $SZ cdp $O $M v 2 queue_mb 5000
bad "queue_mb needs a number" 0 $SZ cdp $O $M v 2 queue_mb abc
bad "region_kb needs a number" 0 $SZ cdp $O $M v 2 region_kb 2
bad "region_kb needs a number" 0 $SZ cdp $O $M v 2 region_kb 32768
bad "power of two" 0 $SZ cdp $O $M v 2 region_kb 100
bad "sync_timeout_ms needs" 0 $SZ cdp $O $M v 2 sync_timeout_ms 0
bad "sync_timeout_ms needs" 0 $SZ cdp $O $M v 2 sync_timeout_ms 99999999999
bad "degrade or error" 0 $SZ cdp $O $M v 2 on_sync_timeout maybe
bad "resync_mbps needs" 0 $SZ cdp $O $M v 2 resync_mbps -5
bad "resync_min_mbps needs" 0 $SZ cdp $O $M v 2 resync_min_mbps -5
bad "resync_min_mbps needs" 0 $SZ cdp $O $M v 2 resync_min_mbps 2000000
bad "Unknown option" 0 $SZ cdp $O $M v 1 bogus
bad "Option given twice" 0 $SZ cdp $O $M v 2 sync async
bad "Option given twice" 0 $SZ cdp $O $M v 4 queue_mb 8 queue_mb 16
bad "at least 4 regions" 0 $SZ cdp $O $M v 4 queue_mb 1 region_kb 1024
bad "smaller than the table length" 0 $((SZ * 2)) cdp $O $M v
# 64 TiB of 4 KiB regions: 16G regions, beyond what per-region state allows
dmsetup create zbig --table "0 $((1 << 37)) zero" && CDP_DEVS+=(zbig)
bad "Too many regions" 0 $((1 << 37)) cdp /dev/mapper/zbig $M v 2 region_kb 4

tap_diag "tables done at $(date +%T)"
# Metadata that is not ours, damaged, or made for something else.
dmsetup create tiny --table "0 8 linear $X 0"
dmsetup create junk --table "0 8192 linear $X 8192"
dmsetup create sb --table "0 8192 linear $X 16384"
CDP_DEVS+=(tiny junk sb)
dd if=/dev/urandom of=/dev/mapper/junk bs=4k count=1 oflag=direct status=none
dd if=/dev/zero of=/dev/mapper/sb bs=4k count=1 oflag=direct status=none
# a valid superblock for volume "mv", region 64 KiB, whole origin
dmsetup create fmt --table "0 $SZ cdp $O /dev/mapper/sb mv 2 region_kb 64" && dmsetup remove fmt
dd if=/dev/mapper/sb of="$T/sb.good" bs=4k count=1 iflag=direct status=none
# sbpatch OFFSET FORMAT VALUE [nocsum]: patch the good superblock, fix the crc
sbpatch() {
	python3 - "$T/sb.good" "$1" "$2" "$3" "${4:-}" <<'PY'
import struct, sys, zlib
b = bytearray(open(sys.argv[1], "rb").read())
struct.pack_into(sys.argv[3], b, int(sys.argv[2]), int(sys.argv[4]))
if sys.argv[5] != "nocsum":
    struct.pack_into("<I", b, 8, 0)
    struct.pack_into("<I", b, 8, zlib.crc32(bytes(b)))
open("/dev/mapper/sb", "wb").write(b)
PY
}
badmeta() {
	local frag=$1 vol=$2 len=$3 opts=$4 dev=$5 msg
	dmesg -C
	if dmsetup create badmeta --table "0 $len cdp $O $dev $vol $opts" 2>/dev/null; then
		dmsetup remove badmeta
		tap_fail "bad metadata accepted ($frag)"
		return
	fi
	msg=$(dmesg | grep -o 'cdp: .*' | tail -n1)
	if grep -qF -- "$frag" <<< "$msg"; then
		tap_ok "metadata rejected -> ${msg#cdp: }"
	else
		tap_fail "metadata rejected with '$frag'"; tap_diag "kernel said: $msg"
	fi
}
badmeta "too small" mv $SZ "" /dev/mapper/tiny
badmeta "foreign superblock" mv $SZ "" /dev/mapper/junk
badmeta "another volume_id" other $SZ "2 region_kb 64" /dev/mapper/sb
badmeta "another size" mv $((SZ / 2)) "2 region_kb 64" /dev/mapper/sb
badmeta "another region_kb" mv $SZ "2 region_kb 128" /dev/mapper/sb
sbpatch 4 "<I" 99
badmeta "version not supported" mv $SZ "2 region_kb 64" /dev/mapper/sb
sbpatch 136 "<Q" 12345 nocsum
badmeta "checksum mismatch" mv $SZ "2 region_kb 64" /dev/mapper/sb
sbpatch 120 "<Q" 8192
badmeta "geometry is inconsistent" mv $SZ "2 region_kb 64" /dev/mapper/sb

tap_diag "metadata done at $(date +%T)"
# Netlink: a real volume to talk about.
dd if=/dev/zero of=$M bs=4k count=1 oflag=direct status=none
cdp_create nlv $O $M nlvol 2 region_kb 256 || echo "Bail out! no volume"
python3 tests/kernel/guest/nlfuzz.py nlvol 1000 /dev/mapper/nlv | sed -u "s/^\(not \)\{0,1\}ok [0-9]*/&/" > "$T/nl.tap"
while read -r l; do
	case "$l" in
	ok*) tap_ok "netlink: ${l#ok * - }" ;;
	"not ok"*) tap_fail "netlink: ${l#not ok * - }" ;;
	esac
done < "$T/nl.tap"

tap_diag "netlink done at $(date +%T)"
# Unprivileged: every operation is refused with EPERM.
out=$(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
	"$CONSUME" --list 2>&1)
if grep -q "Operation not permitted" <<< "$out"; then
	tap_ok "unprivileged LIST -> EPERM ($out)"
else
	tap_fail "unprivileged LIST -> EPERM"; tap_diag "$out"
fi
out=$(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
	"$CONSUME" nlvol /dev/null 2>&1)
if grep -q "Operation not permitted" <<< "$out"; then
	tap_ok "unprivileged ATTACH -> EPERM"
else
	tap_fail "unprivileged ATTACH -> EPERM"; tap_diag "$out"
fi

# A big volume loads: 33 TiB of 1 MiB regions, 33M regions. Each region
# bitmap is over 4 MiB, more than kmalloc gives (they come from kvmalloc).
BM=$(loop_file 8M)
dmesg -C
if dmsetup create big --table "0 $((33 << 31)) cdp /dev/mapper/zbig $BM bigvol 2 region_kb 1024" &&
   [ "$(cdp_status_word big 5)" = "34603008/34603008" ]; then
	tap_ok "33 TiB volume loads: $(cdp_status_word big 5) regions dirty"
	dmsetup remove big
else
	tap_fail "33 TiB volume loads"; tap_diag "$(dmesg | grep -o 'cdp: .*' | tail -n1)"
	dmsetup remove big 2>/dev/null
fi
losetup -d "$BM"

# Unload while a device exists: refused, the device keeps working.
if ! rmmod dm_cdp 2>/dev/null && grep -qw dm_cdp /proc/modules &&
   dd if=/dev/urandom of=/dev/mapper/nlv bs=4k count=4 oflag=direct status=none; then
	tap_ok "rmmod refused while a cdp device exists; device still works"
else
	tap_fail "rmmod refused while a cdp device exists"
fi
cdp_cleanup_devs
tap_check "after removing every device the module unloads" rmmod dm_cdp
tap_done
