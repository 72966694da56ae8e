#!/bin/bash
# dm-cdp with ext4: discards, write-zeroes, fsync, prefix consistency at
# FLUSH markers, replica fsck clean and equal. One VM boot.
# timeout: 300
HERE=$(cd "$(dirname "$0")" && pwd)
"$HERE/../../scripts/vm/run.sh" --timeout 280 --mem 1536 -- tests/kernel/guest/fs.sh
rc=$?
[ $rc -le 1 ] && exit $rc
echo "not ok - VM run failed (status $rc: 124 timeout, 125 kernel splat, 126 guest died)"
exit 1
