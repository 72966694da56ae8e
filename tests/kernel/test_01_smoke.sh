#!/bin/bash
# Smoke: dm-mod and dm-cdp.ko load in the guest; dm-linear and cdp pass data.
# timeout: 300
HERE=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$HERE/../../scripts/vm/run.sh" --timeout 240 --disk "$tmp/a.img:64M" --disk "$tmp/m.img:4M" \
	-- tests/kernel/guest/smoke.sh
