#!/bin/bash
# Private network for VM tests (TESTBED network rule: traffic only inside a
# namespace the test made).
#   netns.sh create NS [HOSTADDR/PFX]   netns NS with lo up and bridge cdpbr0
#                                       holding HOSTADDR (default 10.231.0.1/24);
#                                       run.sh --netns NS plugs VM taps into it
#   netns.sh destroy NS                 delete it (idempotent)
set -euo pipefail
cmd=${1:-} ns=${2:-}
[ -n "$cmd" ] && [ -n "$ns" ] || { echo "usage: netns.sh create|destroy NS [ADDR/PFX]" >&2; exit 2; }
case "$cmd" in
create)
	addr=${3:-10.231.0.1/24}
	ip netns add "$ns"
	ip netns exec "$ns" ip link set lo up
	ip netns exec "$ns" ip link add cdpbr0 type bridge
	ip netns exec "$ns" ip addr add "$addr" dev cdpbr0
	ip netns exec "$ns" ip link set cdpbr0 up
	;;
destroy)
	ip netns del "$ns" 2>/dev/null || true
	;;
*) echo "netns.sh: unknown command '$cmd' (create|destroy)" >&2; exit 2 ;;
esac
