#!/bin/busybox sh
# PID 1 of the cdp test VM (runs from the initramfs built by mkinitrd.sh).
# Mounts the host root read-only over 9p under a tmpfs overlay, the shared
# work dir read-write at its host path, then runs the job in that chroot.
# busybox stays PID 1 so that "poweroff -f" ends QEMU whatever the job did.
/bin/busybox --install -s /bin
export PATH=/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev

arg() { sed -n "s/.*$1=\([^ ]*\).*/\1/p" /proc/cmdline; }
WORK=$(arg cdp.work)
IP=$(arg cdp.ip)

KMODS=$(arg cdp.kmods)
KMOD=$(arg cdp.kmod)
TOP=$(arg cdp.top)

for m in $(cat /modules.order); do
	insmod /lib/modules/$m.ko || echo "cdp-vm: insmod $m failed"
done

mkdir -p /host /work /ovl /newroot
echo "cdp-vm: userspace up"
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=512000,cache=loose hostroot /host
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 work /work
mount -t tmpfs -o size=50% tmpfs /ovl
mkdir -p /ovl/upper /ovl/wd
mount -t overlay overlay -o lowerdir=/host,upperdir=/ovl/upper,workdir=/ovl/wd /newroot
for d in proc sys dev; do mount --bind /$d /newroot/$d; done
mount -t devpts devpts /newroot/dev/pts 2>/dev/null
mount -t tmpfs tmpfs /newroot/run
mkdir -p /newroot$WORK
mount --bind /work /newroot$WORK
mount -t debugfs debugfs /newroot/sys/kernel/debug 2>/dev/null
# The debug kernel (run.sh --kdir): its modules where modprobe looks, its
# dm-cdp.ko where the tests load it from.
if [ -n "$KMODS" ]; then
	mkdir -p /newroot/lib/modules/$(uname -r)
	mount --bind /newroot$KMODS /newroot/lib/modules/$(uname -r)
	mount --bind /newroot$KMOD /newroot$TOP/kmod
fi

# request_module() runs the usermode helper in *this* root: hop into the chroot.
printf '#!/bin/sh\nexec chroot /newroot /sbin/modprobe "$@"\n' > /sbin/cdp-modprobe
chmod +x /sbin/cdp-modprobe
echo /sbin/cdp-modprobe > /proc/sys/kernel/modprobe
echo 60 > /proc/sys/kernel/hung_task_timeout_secs 2>/dev/null

if [ -n "$IP" ]; then
	ip link set lo up
	ip link set eth0 up
	ip addr add "$IP" dev eth0
fi
hostname cdp-vm

chroot /newroot /bin/bash "$WORK/.vm/job.sh" </dev/console >/dev/console 2>&1
echo $? > /work/.vm/rc
sync
poweroff -f
