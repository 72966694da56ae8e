#!/bin/bash
# Operator mistakes on a real system (VM + Ceph): module missing, not root,
# image exists, device busy, not a block device, Ceph unreachable, a --meta
# device with other data or old cdp metadata.
# timeout: 400
. "$(dirname "$0")/../lib/e2e.sh"
e2e_setup || { tap_plan 1; tap_fail "Ceph sandbox in a netns"; tap_done; }
e2e_vm --timeout 360 --disk "$E2E_TMP/a.img:64M" --disk "$E2E_TMP/b.img:64M" \
	--disk "$E2E_TMP/c.img:8M" -- tests/e2e/guest/errors.sh
