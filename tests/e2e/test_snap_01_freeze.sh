#!/bin/bash
# FIFREEZE/FITHAW guarantee of lib/freeze.c on a real ext4 inside the VM:
# freeze blocks writers, thaw releases them, an fs already frozen is refused,
# SIGTERM/SIGINT thaw, a SIGKILLed or stuck cdpctl is thawed by the guardian.
# (The host kernel cannot mount a scratch file system; the hook cases of
# the same binary also run on the host in the unit suite.)
# timeout: 170
TOP=$(cd "$(dirname "$0")/../.." && pwd)
. "$TOP/tests/lib/tap.sh"
tap_plan 1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
[ -x "$TOP/tests/unit/test_freeze" ] || make -C "$TOP" -s tests/unit/test_freeze >/dev/null

cat > "$tmp/guest.sh" <<EOG
set -e
mkfs.ext4 -q /dev/vda
mkdir -p /mnt/f
mount /dev/vda /mnt/f
rc=0
CDP_FREEZE_MNT=/mnt/f CMOCKA_MESSAGE_OUTPUT=TAP $TOP/tests/unit/test_freeze || rc=\$?
umount /mnt/f
exit \$rc
EOG
if out=$("$TOP/scripts/vm/run.sh" --timeout 150 --disk "$tmp/fs.img:256M" --work "$tmp" \
	-- bash "$tmp/guest.sh" 2>&1); then
	tap_ok "freeze/thaw, EBUSY, SIGTERM/SIGINT/SIGKILL and deadline thaw on ext4 in the VM"
	tap_diag "$(grep -E '^(ok|not ok)' <<< "$out")"
else
	tap_fail "freeze/thaw, EBUSY, SIGTERM/SIGINT/SIGKILL and deadline thaw on ext4 in the VM"
	tap_diag "$out"
fi
tap_done
