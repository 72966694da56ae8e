#!/bin/bash
# Stop sandboxes whose owner process is gone: a test killed (SIGKILL) before
# its EXIT trap could run leaves mon + OSD (~900 MiB) behind otherwise.
#
#   scripts/ceph/reap.sh [-n]       -n: only list what would be stopped
#
# Looks only at sandboxes started with --owner PID (tests/lib/ceph.sh does
# that) that hold a port reservation in /tmp/.cdp-ceph-ports; sandboxes of
# live owners, or without an owner, are never touched.
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DRY=0; [ "${1:-}" = -n ] && DRY=1

for res in /tmp/.cdp-ceph-ports/[0-9]*; do
	[ -f "$res" ] || continue
	dir=$(cat "$res" 2>/dev/null)
	[ -n "$dir" ] && [ -f "$dir/owner" ] || continue
	owner=$(cat "$dir/owner")
	[[ $owner =~ ^[0-9]+$ ]] || continue
	kill -0 "$owner" 2>/dev/null && continue
	echo "ceph/reap.sh: owner $owner of $dir is gone: stopping it" >&2
	[ $DRY = 1 ] || "$HERE/stop.sh" "$dir"
done
exit 0
