#!/bin/bash
# restore --map in the VM, timed from the command's start to a mounted file
# system (the RTO), for a 1 GiB and a 64 GiB (sparse) ext4 image, with
# rbd-nbd and with krbd (rbd device map -o noudev, msgr2), in one VM boot.
# Content is checked through the mount.
# Timings (TCG guest on a shared host: compare sizes, not absolute values)
# are printed as diagnostics; scripts/bench-restore.sh runs the same.
# timeout: 300
TOP=$(cd "$(dirname "$0")/../.." && pwd)
. "$TOP/tests/lib/e2e.sh"
tap_plan 4
# netns + Ceph sandbox inside it, removed on exit (tests/lib/e2e.sh)
e2e_setup || { tap_fail "Ceph sandbox"; tap_done; }
tmp=$E2E_TMP NS=$E2E_NS
mkdir "$tmp/content" && head -c 3M /dev/urandom > "$tmp/content/data" && sha256sum < "$tmp/content/data" > "$tmp/data.sum"
for s in 1G 64G; do
	truncate -s $s "$tmp/fs$s.img"
	mkfs.ext4 -q -F -E lazy_itable_init=1,lazy_journal_init=1 -d "$tmp/content" "$tmp/fs$s.img"
	ip netns exec "$NS" env CEPH_CONF="$CEPH_CONF" /usr/bin/python3 "$TOP/tests/lib/sparse_import.py" \
		"$tmp/fs$s.img" rbd/rto$s >/dev/null
	rm -f "$tmp/fs$s.img"
	ip netns exec "$NS" rbd --conf "$CEPH_CONF" snap create rbd/rto$s@s >/dev/null 2>&1
done

cat > "$tmp/guest.sh" <<EOG
export CEPH_CONF=$CEPH_CONF
R=$tmp/r; mkdir -p \$R /mnt/r
modprobe nbd; modprobe rbd
# warm-up: the first librados client in a fresh guest pays for loading it
$TOP/ctl/cdpctl -c /run/c.db restore rbd/rto1G --snap nosuch >/dev/null 2>&1
rto() {	# SIZE KIND
	local t0 t1 dev
	t0=\$(date +%s.%N)
	dev=\$(timeout 120 $TOP/ctl/cdpctl -c /run/c.db restore rbd/rto\$1 --snap s --name r\$1\$2 --map \$2 |
		grep -o '/dev/[a-z]*[0-9]*' | head -n1)
	[ -b "\$dev" ] || return 1
	mount -o ro \$dev /mnt/r || return 1
	t1=\$(date +%s.%N)
	sha256sum < /mnt/r/data > \$R/sum.\$1\$2
	umount /mnt/r
	echo "\$1 \$2 \$(awk "BEGIN{printf \\"%.2f\\", \$t1 - \$t0}")" >> \$R/rto
	cmp -s \$R/sum.\$1\$2 $tmp/data.sum && echo ok > \$R/ok.\$1\$2
	if [ \$2 = nbd ]; then rbd-nbd unmap \$dev; else rbd device unmap -o noudev \$dev; fi
}
rto 1G nbd
rto 64G nbd
rto 1G krbd
rto 64G krbd
EOG
vm=$("$TOP/scripts/vm/run.sh" --timeout 280 --netns "$NS" --work "$tmp" -- bash "$tmp/guest.sh" 2>&1)
R=$tmp/r
for k in 1Gnbd 64Gnbd 1Gkrbd 64Gkrbd; do
	t=$(awk -v s="${k%%[nk]*}" -v m="${k#*G}" '$1==s && $2==m {print $3}' "$R/rto" 2>/dev/null)
	if [ -e "$R/ok.$k" ]; then
		tap_ok "restore --map ${k#*G} of the ${k%%[nk]*} image: mounted, content equal, RTO ${t} s"
	else
		tap_fail "restore --map ${k#*G} of the ${k%%[nk]*} image"; tap_diag "$(tail -20 <<< "$vm")"
	fi
done
tap_done
