#!/bin/bash
# dm-cdp bad input: 30+ malformed tables, bad metadata, malformed and random
# netlink, EPERM for unprivileged callers, unload refused while in use.
# timeout: 300
HERE=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$HERE/../../scripts/vm/run.sh" --timeout 280 --disk "$tmp/o.img:64M" \
	--disk "$tmp/m.img:4M" --disk "$tmp/x.img:16M" -- tests/kernel/guest/badinput.sh
rc=$?
[ $rc -le 1 ] && exit $rc
echo "not ok - VM run failed (status $rc: 124 timeout, 125 kernel splat, 126 guest died)"
exit 1
