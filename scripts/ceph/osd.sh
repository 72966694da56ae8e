#!/bin/bash
# Stop or start the OSD of a sandbox made by scripts/ceph/start.sh: the
# "Ceph unreachable" drills of the tests.
#
#   scripts/ceph/osd.sh DIR stop     SIGTERM: the OSD tells the mon it goes
#                                    down, so clients see it down at once
#   scripts/ceph/osd.sh DIR kill     SIGKILL: the mon keeps it "up" until its
#                                    report timeout; clients time out instead
#   scripts/ceph/osd.sh DIR start    start it again (same netns, same ports range)
#   scripts/ceph/osd.sh DIR status   prints "up" or "down" (process alive or not)
#   scripts/ceph/osd.sh DIR wait-up [SECONDS]
#                                    wait (default 60 s) until the mon has the
#                                    OSD up and the pool takes a write again
set -uo pipefail

die() { echo "ceph/osd.sh: $*" >&2; exit 1; }
[ $# -ge 2 ] || { echo "usage: $0 DIR stop|kill|start|status|wait-up [SECONDS]" >&2; exit 2; }
DIR=$(cd "$1" 2>/dev/null && pwd) || die "no sandbox in '$1'"
CONF="$DIR/ceph.conf"
[ -f "$CONF" ] || die "no sandbox in '$DIR' (no ceph.conf)"
NETNS=$(cat "$DIR/netns" 2>/dev/null)

osd_pid() {
	local pid
	pid=$(cat "$DIR/run/osd.0.pid" 2>/dev/null) || return 1
	{ tr '\0' ' ' < "/proc/$pid/cmdline"; } 2>/dev/null | grep -q -- "ceph-osd -c $CONF " && echo "$pid"
}

case "$2" in
stop|kill)
	pid=$(osd_pid) || exit 0
	[ "$2" = stop ] && sig=TERM || sig=KILL
	kill -$sig "$pid"
	# A SIGTERMed OSD waits up to osd_mon_shutdown_timeout (5 s) for the mon.
	for _ in $(seq 200); do kill -0 "$pid" 2>/dev/null || exit 0; sleep 0.05; done
	kill -KILL "$pid" 2>/dev/null
	# gone before we return: callers check the OSD is down right after
	for _ in $(seq 200); do kill -0 "$pid" 2>/dev/null || exit 0; sleep 0.05; done
	;;
start)
	osd_pid >/dev/null && exit 0
	if [ -n "$NETNS" ]; then
		ip netns exec "$NETNS" ceph-osd -c "$CONF" -i 0 2>>"$DIR/log/osd.0.stderr"
	else
		ceph-osd -c "$CONF" -i 0 2>>"$DIR/log/osd.0.stderr"
	fi || die "ceph-osd failed to start: see $DIR/log/osd.0.log"
	;;
status)
	osd_pid >/dev/null && echo up || echo down
	;;
wait-up)
	secs=${3:-60}
	[[ $secs =~ ^[0-9]+$ ]] || die "wait-up: '$secs' is not a number of seconds"
	osd_pid >/dev/null || die "the OSD is not running: start it first"
	if [ -n "$NETNS" ]; then
		timeout $((secs + 30)) ip netns exec "$NETNS" /usr/bin/python3 "$(dirname "$0")/sandbox_setup.py" "$CONF" wait-up "$secs"
	else
		timeout $((secs + 30)) /usr/bin/python3 "$(dirname "$0")/sandbox_setup.py" "$CONF" wait-up "$secs"
	fi
	;;
*) die "unknown command '$2' (stop|kill|start|status|wait-up)" ;;
esac
