#!/bin/bash
# dkms.conf really works: dkms add/build against the installed Debian
# headers, then the dkms-built module loads in the VM and passes I/O.
# timeout: 400
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
. "$HERE/../lib/tap.sh"
tap_plan 3
KVER=$(ls -1 /lib/modules | sort -V | tail -n1)
# A private version so a real installation is never touched.
VER=0.0.$$
SRC=/usr/src/dm-cdp-$VER
tmp=$(mktemp -d)
cleanup() {
	dkms remove -m dm-cdp -v "$VER" --all >/dev/null 2>&1
	rm -rf "$SRC" "/var/lib/dkms/dm-cdp/$VER" "$tmp"
}
trap cleanup EXIT

mkdir -p "$SRC"
cp -r "$TOP/dkms.conf" "$TOP/Kbuild" "$SRC/"
mkdir -p "$SRC/kmod"
(cd "$TOP/kmod" && cp -r Kbuild uapi ./*.c ./*.h "$SRC/kmod/" 2>/dev/null)
sed -i "s/^PACKAGE_VERSION=.*/PACKAGE_VERSION=\"$VER\"/" "$SRC/dkms.conf"

tap_check "dkms add" dkms add -m dm-cdp -v "$VER"
if out=$(dkms build -m dm-cdp -v "$VER" -k "$KVER" 2>&1); then
	tap_ok "dkms build for $KVER"
else
	tap_fail "dkms build for $KVER"; tap_diag "$out"
	find "/var/lib/dkms/dm-cdp/$VER" -name make.log -exec cat {} + 2>/dev/null | tail -n 30 | sed 's/^/# /'
fi
ko=$(find "/var/lib/dkms/dm-cdp/$VER/$KVER" -name 'dm-cdp.ko*' 2>/dev/null | head -n1)
if [ -z "$ko" ]; then
	tap_fail "dkms-built module loads in the VM (no module built)"
	tap_done
fi
cp "$ko" "$tmp/"
cat > "$tmp/guest.sh" <<EOG
set -e
ko=\$(ls $tmp/dm-cdp.ko*)
case "\$ko" in *.xz) xz -dc "\$ko" > /tmp/dm-cdp.ko; ko=/tmp/dm-cdp.ko ;; esac
insmod "\$ko"
dmsetup targets | grep -w cdp
dmsetup create dkmscdp --table "0 \$(blockdev --getsz /dev/vda) cdp /dev/vda /dev/vdb dkms-vol"
dd if=/dev/urandom of=/tmp/p bs=64k count=16 status=none
dd if=/tmp/p of=/dev/mapper/dkmscdp bs=64k oflag=direct status=none
dd if=/dev/vda of=/tmp/b bs=64k count=16 iflag=direct status=none
cmp /tmp/p /tmp/b
dmsetup remove dkmscdp
rmmod dm_cdp
EOG
if out=$("$TOP/scripts/vm/run.sh" --timeout 200 --work "$tmp" --disk "$tmp/o.img:32M" \
	--disk "$tmp/m.img:8M" -- bash "$tmp/guest.sh" 2>&1); then
	tap_ok "dkms-built module loads in the VM and passes I/O"
else
	tap_fail "dkms-built module loads in the VM and passes I/O"; tap_diag "$out"
fi
tap_done
