#!/bin/bash
# Build a debug kernel for the test VM from Debian's linux-source-6.1, and
# dm-cdp.ko against it. Debian's own kernel has no lockdep, KASAN, KFENCE or
# kmemleak; this one has them all, so the kernel suite can be run under them
# (tests/kernel/debug.sh). It takes 30-60 min on two cores, so CI does not do
# it; the output is cached and reused.
#
# debug-kernel.sh [--force]     prints the kernel dir (KDIR) on stdout
#
# KDIR holds: vmlinuz, modules/lib/modules/<kver>/ (modules_install: for
# modprobe of built-in drivers in the guest), build/ (the tree, to build
# out-of-tree modules) and dm-cdp.ko.
set -euo pipefail
TOP=$(cd "$(dirname "$0")/../.." && pwd)
KDIR=${CDP_DEBUG_KDIR:-${CDP_CACHE:-$TOP/.cache}/debug-kernel}
force=0
[ "${1:-}" = --force ] && force=1

log() { echo "debug-kernel: $*" >&2; }

tarball=$(ls /usr/src/linux-source-6.1.tar.xz 2>/dev/null || true)
[ -n "$tarball" ] || { log "no /usr/src/linux-source-6.1.tar.xz: apt-get install linux-source-6.1"; exit 2; }
for t in bc flex bison; do
	command -v $t >/dev/null || { log "$t missing: apt-get install bc flex bison libelf-dev libssl-dev"; exit 2; }
done

SRC=$KDIR/build
mkdir -p "$KDIR"
if [ $force = 1 ] || [ ! -f "$SRC/Makefile" ]; then
	rm -rf "$SRC" "$SRC.tmp"
	mkdir -p "$SRC.tmp"
	log "unpacking $tarball"
	tar -C "$SRC.tmp" --strip-components=1 -xJf "$tarball"
	mv "$SRC.tmp" "$SRC"
fi

# What the guest needs built in (no initramfs modules then), what the tests
# load as modules, and every checker the 6.1 tree offers that runs on x86.
configure() {
	local c=scripts/config
	make -s defconfig
	make -s kvm_guest.config
	$c --set-str LOCALVERSION -cdpdebug -d LOCALVERSION_AUTO
	$c -e MODULES -e MODULE_UNLOAD -e MODULE_FORCE_UNLOAD
	$c -e VIRTIO_PCI -e VIRTIO_BLK -e VIRTIO_NET -e NET_9P -e NET_9P_VIRTIO \
	   -e 9P_FS -e 9P_FS_POSIX_ACL -e OVERLAY_FS -e DEVTMPFS -e TMPFS \
	   -e EXT4_FS -e BLK_DEV_LOOP -e TUN -e BRIDGE -e VETH -m BLK_DEV_NBD \
	   -e ISO9660_FS -e UDF_FS
	$c -e MD -e BLK_DEV_DM -e DM_ZERO -m DM_DELAY -m DM_MIRROR -m DM_FLAKEY \
	   -m DM_SNAPSHOT -m DM_PERSISTENT_DATA -m DM_BUFIO -m DM_CLONE -m DM_RAID \
	   -m MD_RAID1 -m DM_LOG_USERSPACE -e DM_UEVENT
	$c -e DEBUG_KERNEL -e KASAN -e KASAN_GENERIC -e KASAN_INLINE -e KASAN_VMALLOC \
	   -e PROVE_LOCKING -e DEBUG_LOCKDEP -e PROVE_RCU -e DEBUG_ATOMIC_SLEEP \
	   -e DEBUG_MUTEXES -e DEBUG_SPINLOCK -e DEBUG_RWSEMS -e DEBUG_WW_MUTEX_SLOWPATH \
	   -e KFENCE -e DEBUG_KMEMLEAK -d DEBUG_KMEMLEAK_DEFAULT_OFF \
	   -e UBSAN -e UBSAN_BOUNDS -d UBSAN_ALIGNMENT \
	   -e DEBUG_LIST -e DEBUG_SG -e DEBUG_OBJECTS -e DEBUG_OBJECTS_WORK \
	   -e DEBUG_OBJECTS_TIMERS -e DEBUG_OBJECTS_FREE -e DEBUG_OBJECTS_RCU_HEAD \
	   -e DEBUG_VM -e SLUB_DEBUG -e DETECT_HUNG_TASK \
	   -e SOFTLOCKUP_DETECTOR -e WQ_WATCHDOG \
	   -e FAULT_INJECTION -e FAILSLAB -e FAIL_MAKE_REQUEST -e FAULT_INJECTION_DEBUG_FS \
	   -e DEBUG_FS -e KALLSYMS -e KALLSYMS_ALL -e DEBUG_INFO_NONE \
	   -d DEBUG_INFO_BTF -d MODULE_SIG -d SYSTEM_TRUSTED_KEYRING
	# Not needed in a TCG guest, and most of the build time.
	$c -d DRM -d SOUND -d USB_SUPPORT -d WLAN -d WIRELESS -d CFG80211 \
	   -d HID -d INPUT_MOUSE -d INPUT_JOYSTICK -d NET_VENDOR_INTEL \
	   -d NET_VENDOR_REALTEK -d NET_VENDOR_BROADCOM -d AGP -d FB -d ACPI_VIDEO \
	   -d KVM -d HYPERV -d XEN -d MEDIA_SUPPORT -d NFS_FS -d SECURITY_SELINUX \
	   -d FTRACE -d KPROBES -d BPF_SYSCALL -d PROFILING -d RETPOLINE
	make -s olddefconfig
}

cd "$SRC"
# reconfigured when configure() above changes (then make rebuilds what changed)
sum=$(declare -f configure | md5sum | cut -c1-12)
if [ $force = 1 ] || [ "$(cat "$KDIR/config.sum" 2>/dev/null)" != "$sum" ]; then
	log "configuring (defconfig + kvm_guest + debug options)"
	configure
	echo "$sum" > "$KDIR/config.sum"
fi
for opt in KASAN PROVE_LOCKING KFENCE DEBUG_KMEMLEAK BLK_DEV_DM 9P_FS; do
	grep -q "^CONFIG_$opt=y" .config || { log "CONFIG_$opt did not stick in $SRC/.config"; exit 1; }
done

log "building (make -j$(nproc); the first build takes 30-60 min on 2 cores)"
make -s -j"$(nproc)" bzImage modules >"$KDIR/build.log" 2>&1 ||
	{ tail -n 30 "$KDIR/build.log" >&2; log "kernel build failed: $KDIR/build.log"; exit 1; }
kver=$(make -s kernelrelease)
rm -rf "$KDIR/modules"
make -s INSTALL_MOD_PATH="$KDIR/modules" INSTALL_MOD_STRIP=1 modules_install >>"$KDIR/build.log" 2>&1
rm -f "$KDIR/modules/lib/modules/$kver/build" "$KDIR/modules/lib/modules/$kver/source"
cp arch/x86/boot/bzImage "$KDIR/vmlinuz"
echo "$kver" > "$KDIR/kver"

# dm-cdp.ko against this tree, built in a copy so the normal build in
# kmod/ is not disturbed.
rm -rf "$KDIR/kmod"
cp -r "$TOP/kmod" "$KDIR/kmod"
make -s -C "$KDIR/kmod" clean >/dev/null 2>&1 || true
find "$KDIR/kmod" \( -name '*.o' -o -name '*.ko' -o -name '.*.cmd' -o -name '*.mod*' \) -delete
make -s -C "$SRC" M="$KDIR/kmod" modules >>"$KDIR/build.log" 2>&1 ||
	{ tail -n 30 "$KDIR/build.log" >&2; log "dm-cdp build failed"; exit 1; }
cp "$KDIR/kmod/dm-cdp.ko" "$KDIR/dm-cdp.ko"
log "kernel $kver ready"
echo "$KDIR"
