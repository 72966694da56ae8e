#!/bin/bash
# dm-cdp sync mode (ack latency, timeout degrade/error), reload, MARK, messages.
# timeout: 420
HERE=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$HERE/../../scripts/vm/run.sh" --timeout 400 --disk "$tmp/o.img:64M" \
	--disk "$tmp/m.img:4M" --disk "$tmp/r.img:64M" -- tests/kernel/guest/sync.sh
rc=$?
[ $rc -le 1 ] && exit $rc
echo "not ok - VM run failed (status $rc: 124 timeout, 125 kernel splat, 126 guest died)"
exit 1
