#!/bin/bash
# dkms.conf really works: dkms add/build against the installed Debian
# headers, then the dkms-built modules load in the VM: dm-cdp passes I/O,
# and dm-clone (built because Debian's kernel lacks CONFIG_DM_CLONE) loads
# on top of the stock dm-persistent-data and hydrates a small device.
# timeout: 400
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
. "$HERE/../lib/tap.sh"
tap_plan 5
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
(cd "$TOP/kmod" && cp --parents dm-clone/Kbuild dm-clone/README dm-clone/dm-clone-*.c \
	dm-clone/*.h dm-clone/persistent-data/*.h "$SRC/kmod/")
sed -i "s/^PACKAGE_VERSION=.*/PACKAGE_VERSION=\"$VER\"/" "$SRC/dkms.conf"

tap_check "dkms add" dkms add -m dm-cdp -v "$VER"
if out=$(dkms build -m dm-cdp -v "$VER" -k "$KVER" 2>&1); then
	tap_ok "dkms build for $KVER"
else
	tap_fail "dkms build for $KVER"; tap_diag "$out"
	find "/var/lib/dkms/dm-cdp/$VER" -name make.log -exec cat {} + 2>/dev/null | tail -n 30 | sed 's/^/# /'
fi
ko=$(find "/var/lib/dkms/dm-cdp/$VER/$KVER" -name 'dm-cdp.ko*' 2>/dev/null | head -n1)
clone_ko=$(find "/var/lib/dkms/dm-cdp/$VER/$KVER" -name 'dm-clone.ko*' 2>/dev/null | head -n1)
if [ -n "$clone_ko" ] && ! grep -qs '^CONFIG_DM_CLONE=[ym]' "/lib/modules/$KVER/build/.config"; then
	tap_ok "dkms built dm-clone.ko too (the kernel has no CONFIG_DM_CLONE): $(modinfo -F depends "$clone_ko")"
else
	tap_fail "dkms built dm-clone.ko too (the kernel has no CONFIG_DM_CLONE)"
	tap_diag "$(ls -R "/var/lib/dkms/dm-cdp/$VER/$KVER" 2>&1)"
fi
if [ -z "$ko" ] || [ -z "$clone_ko" ]; then
	tap_fail "dkms-built modules load in the VM (not built)"
	tap_fail "dkms-built dm-clone hydrates in the VM (not built)"
	tap_done
fi
cp "$ko" "$clone_ko" "$tmp/"
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
echo CDP-OK
# dm-clone: its dependencies from the stock kernel, then the dkms-built module
ko=\$(ls $tmp/dm-clone.ko*)
case "\$ko" in *.xz) xz -dc "\$ko" > /tmp/dm-clone.ko; ko=/tmp/dm-clone.ko ;; esac
modprobe dm-persistent-data
insmod "\$ko"
dmsetup targets | grep -w clone
modprobe loop
truncate -s 8M /tmp/cmeta && meta=\$(losetup -f --show /tmp/cmeta)
sz=\$(blockdev --getsz /dev/vdc)
dd if=/dev/urandom of=/dev/vdc bs=1M count=\$((sz / 2048)) oflag=direct status=none
dmsetup create dkmsclone --table "0 \$sz clone \$meta /dev/vda /dev/vdc 128"
for i in \$(seq 300); do
	st=\$(dmsetup status dkmsclone); set -- \$st
	[ "\${7%/*}" = "\${7#*/}" ] && break; sleep 0.2
done
echo "clone status: \$st"
[ "\${7%/*}" = "\${7#*/}" ]
cmp -n \$((sz * 512)) /dev/vdc /dev/mapper/dkmsclone
cmp -n \$((sz * 512)) /dev/vdc /dev/vda
dmsetup remove dkmsclone
losetup -d \$meta
rmmod dm_clone
echo CLONE-OK
EOG
out=$("$TOP/scripts/vm/run.sh" --timeout 200 --work "$tmp" --disk "$tmp/o.img:32M" \
	--disk "$tmp/m.img:8M" --disk "$tmp/src.img:16M" -- bash "$tmp/guest.sh" 2>&1)
rc=$?
if grep -q CDP-OK <<< "$out"; then
	tap_ok "dkms-built module loads in the VM and passes I/O"
else
	tap_fail "dkms-built module loads in the VM and passes I/O"; tap_diag "$out"
fi
if [ $rc = 0 ] && grep -q CLONE-OK <<< "$out"; then
	tap_ok "dkms-built dm-clone loads in the VM and hydrates a 16 MiB device"
	tap_diag "$(grep 'clone status' <<< "$out")"
else
	tap_fail "dkms-built dm-clone loads in the VM and hydrates a 16 MiB device"; tap_diag "$(tail -30 <<< "$out")"
fi
tap_done
