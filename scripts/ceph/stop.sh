#!/bin/bash
# Stop the sandbox in DIR (made by scripts/ceph/start.sh) and remove its state.
#
#   scripts/ceph/stop.sh DIR [--keep]
#
# Kills exactly the daemons of that DIR: those named by its pidfiles and any
# process whose command line carries DIR/ceph.conf (covers daemons that died
# before writing a pidfile). Deletes the netns if start.sh created it.
# Idempotent: a missing or half-made DIR is fine. --keep leaves DIR on disk.
set -uo pipefail

[ $# -ge 1 ] || { echo "usage: $0 DIR [--keep]" >&2; exit 2; }
DIR=$1
KEEP=0; [ "${2:-}" = --keep ] && KEEP=1
[ -d "$DIR" ] || exit 0
DIR=$(cd "$DIR" && pwd)
CONF="$DIR/ceph.conf"

# Pids of the daemons of this sandbox, and only those.
sandbox_pids() {
	local f pid
	for f in "$DIR"/run/*.pid; do
		[ -f "$f" ] || continue
		pid=$(cat "$f" 2>/dev/null)
		[[ $pid =~ ^[0-9]+$ ]] || continue
		# A stale pidfile may name a recycled pid: check it is ours.
		tr '\0' ' ' < /proc/$pid/cmdline 2>/dev/null | grep -qF -- "$CONF" && echo "$pid"
	done
	for f in /proc/[0-9]*/cmdline; do
		{ tr "\0" " " < "$f"; } 2>/dev/null | grep -qE -- "^[^ ]*ceph-(mon|osd|mgr) .*-c $CONF( |$)" &&
			f=${f#/proc/} && echo "${f%/cmdline}"
	done | sort -u
}

pids=$(sandbox_pids | sort -u)
if [ -n "$pids" ]; then
	# The state is thrown away, so there is nothing to shut down cleanly; a
	# SIGTERMed OSD would wait 5 s for the (also dying) mon to ack its exit.
	kill -KILL $pids 2>/dev/null
	for _ in $(seq 100); do
		alive=""
		for p in $pids; do kill -0 "$p" 2>/dev/null && alive+=" $p"; done
		[ -z "$alive" ] && break
		sleep 0.05
	done
	[ -n "$alive" ] && echo "ceph/stop.sh: pids$alive would not die" >&2
fi

# Free the port block reserved by start.sh (if it is still ours).
port=$(cat "$DIR/port" 2>/dev/null)
if [ -n "$port" ] && [ "$(cat "/tmp/.cdp-ceph-ports/$port" 2>/dev/null)" = "$DIR" ]; then
	rm -f "/tmp/.cdp-ceph-ports/$port"
fi

if [ -f "$DIR/netns.created" ]; then
	ns=$(cat "$DIR/netns.created")
	ip netns del "$ns" 2>/dev/null
fi
[ $KEEP -eq 1 ] || rm -rf "$DIR"
exit 0
