#!/bin/bash
# Build the test VM's initramfs: busybox-static, the virtio/9p/overlay/net
# modules of KVER (in load order) and init.sh as /init.
# Usage: mkinitrd.sh KVER OUT.cpio.gz [MODROOT]
# MODROOT (default /lib/modules/KVER) is where the modules are; one that the
# kernel has built in (modules.builtin: the debug kernel) is left out, and
# with a MODROOT given so is one its config left out (netfs, fscache).
set -euo pipefail
KVER=$1 OUT=$2 MODROOT=${3:-/lib/modules/$1} OPTIONAL=${3:+1}
HERE=$(cd "$(dirname "$0")" && pwd)
MODS="virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci
      virtio_blk netfs fscache 9pnet 9pnet_virtio 9p overlay failover
      net_failover virtio_net"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp"/{bin,sbin,proc,sys,dev,lib/modules}
cp /bin/busybox "$tmp/bin/busybox"
: > "$tmp/modules.order"
for m in $MODS; do
	grep -q "/$m.ko\$" "$MODROOT/modules.builtin" 2>/dev/null && continue
	f=$(find "$MODROOT/kernel" -name "$m.ko*" | head -n1)
	[ -z "$f" ] && [ -n "$OPTIONAL" ] && continue
	[ -n "$f" ] || { echo "mkinitrd: module $m not found for $KVER" >&2; exit 1; }
	case "$f" in
	*.xz) xz -dc "$f" > "$tmp/lib/modules/$m.ko" ;;
	*.zst) zstd -qdc "$f" > "$tmp/lib/modules/$m.ko" ;;
	*) cp "$f" "$tmp/lib/modules/$m.ko" ;;
	esac
	echo "$m" >> "$tmp/modules.order"
done
install -m 0755 "$HERE/init.sh" "$tmp/init"
# a private temporary name: two VMs starting at once on a cold cache both
# build it, and each rename is atomic
(cd "$tmp" && find . | cpio -o -H newc --quiet | gzip -1) > "$OUT.tmp.$$"
mv -f "$OUT.tmp.$$" "$OUT"
