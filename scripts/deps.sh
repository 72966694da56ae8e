#!/bin/bash
# Install every Debian package the build, demo and tests need.
# Idempotent: a machine that already has them all returns in well under a second.
set -euo pipefail

PKGS=(
	build-essential make gcc pkg-config git
	qemu-system-x86 linux-image-amd64 linux-headers-amd64 busybox-static kmod cpio
	dmsetup lvm2 e2fsprogs xfsprogs iproute2 util-linux
	ceph-mon ceph-osd ceph-mgr ceph-common librbd-dev librados-dev rbd-nbd
	libnl-3-dev libnl-genl-3-dev libsqlite3-dev sqlite3
	libburn-dev libisofs-dev xorriso libcmocka-dev fio dkms libdevmapper-dev
	sparse linux-source-6.1 libssl-dev time python3
	tgt tgt-rbd open-iscsi thin-provisioning-tools
)

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps.sh: missing packages (${missing[*]}); run as root to install them" >&2
	exit 1
fi
echo "deps.sh: installing ${#missing[@]} packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "deps.sh: done"
