#!/bin/bash
# Guest half of demo.sh (runs inside the VM).
set -euo pipefail
say() { printf '\n-- %s\n' "$*"; }
say "loading dm-cdp.ko"
insmod kmod/dm-cdp.ko
dmsetup targets | grep -w cdp
say "protecting /dev/vda (metadata on /dev/vdb) as /dev/mapper/cdp-demo"
dmsetup create cdp-demo --table "0 $(blockdev --getsz /dev/vda) cdp /dev/vda /dev/vdb demo"
dmsetup table cdp-demo
dmsetup status cdp-demo
say "ext4 on the protected volume, writing files"
mkfs.ext4 -q /dev/mapper/cdp-demo
mkdir -p /mnt/demo
mount /dev/mapper/cdp-demo /mnt/demo
dd if=/dev/urandom of=/mnt/demo/data bs=1M count=16 status=none
sha256sum /mnt/demo/data
umount /mnt/demo
dmsetup status cdp-demo
dmsetup remove cdp-demo
rmmod dm_cdp
say "done"
