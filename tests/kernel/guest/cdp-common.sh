#!/bin/bash
# Guest-side helpers for the dm-cdp kernel tests (sourced after tests/lib/tap.sh).
# Devices made here are removed by cdp_cleanup (trap EXIT).
CONSUME=$CDP_TOP/tests/tools/cdp-consume
T=$(mktemp -d /tmp/cdpt.XXXXXX)
CDP_DEVS=()
CONS_PID=""

cdp_cleanup_devs() {
	[ -n "$CONS_PID" ] && kill -9 "$CONS_PID" 2>/dev/null
	local d
	for d in "${CDP_DEVS[@]}"; do dmsetup remove --retry "$d" >/dev/null 2>&1; done
	CDP_DEVS=()
}
cdp_cleanup() {
	cdp_cleanup_devs
	rm -rf "$T"
}
trap cdp_cleanup EXIT

cdp_load() {
	grep -qw dm_cdp /proc/modules || insmod "$CDP_TOP/kmod/dm-cdp.ko"
}

# cdp_create NAME TABLE-ARGS...  (origin meta volume [#opts opts...]); whole origin
cdp_create() {
	local name=$1 origin=$2
	shift
	local sz
	sz=$(blockdev --getsz "$origin") || return 1
	dmsetup create "$name" --table "0 $sz cdp $*" || return 1
	CDP_DEVS+=("$name")
}

cdp_remove() {
	dmsetup remove --retry "$1" || return 1
	local d keep=()
	for d in "${CDP_DEVS[@]}"; do [ "$d" != "$1" ] && keep+=("$d"); done
	CDP_DEVS=("${keep[@]}")
}

# Word N (1-based, after "start len cdp") of the status line.
cdp_status_word() {
	dmsetup status "$1" | awk -v n="$2" '{print $(n + 3)}'
}
cdp_state() { cdp_status_word "$1" 2; }
cdp_dirty() { cdp_status_word "$1" 5 | cut -d/ -f1; }

# consumer_start VOLUME REPLICA [cdp-consume options]
consumer_start() {
	local vol=$1 rep=$2
	shift 2
	local n
	n=$(grep -c "attached" "$T/consumer.log" 2>/dev/null)
	"$CONSUME" "$@" "$vol" "$rep" 2>>"$T/consumer.log" &
	CONS_PID=$!
	# Signals are handled once it has attached.
	wait_for 30 consumer_attached "${n:-0}"
}

# More than N "attached" lines in the consumer's log (counted at each call:
# a $(...) in wait_for's arguments would be counted once, before the wait).
consumer_attached() {
	[ "$(grep -c "attached" "$T/consumer.log" 2>/dev/null)" -gt "$1" ]
}

# Ask the consumer to exit once the volume is in sync; wait up to $1 s.
consumer_finish() {
	local t=${1:-60} i rc
	kill -USR1 "$CONS_PID" 2>/dev/null
	for ((i = 0; i < t * 5; i++)); do
		kill -0 "$CONS_PID" 2>/dev/null || break
		sleep 0.2
	done
	if kill -0 "$CONS_PID" 2>/dev/null; then
		echo "consumer did not reach sync within ${t}s" >&2
		kill -9 "$CONS_PID"
		wait "$CONS_PID" 2>/dev/null
		CONS_PID=""
		return 1
	fi
	wait "$CONS_PID"
	rc=$?
	CONS_PID=""
	return $rc
}

consumer_kill() {
	kill -9 "$CONS_PID" 2>/dev/null
	wait "$CONS_PID" 2>/dev/null
	CONS_PID=""
}

# same_content A B: byte-equal over the size of A; prints the first difference.
# The origin is written through dm, bypassing its own page cache: drop
# that cache first or cmp may read stale pages.
same_content() {
	local n
	sync
	echo 3 > /proc/sys/vm/drop_caches
	n=$(blockdev --getsize64 "$1" 2>/dev/null || stat -c %s "$1")
	cmp -n "$n" "$1" "$2"
}

# delay_dev NAME DEV MS: a dm-delay NAME over DEV holding every write MS ms
# (cleanup removes it after the cdp devices made before it)
delay_dev() {
	modprobe dm-delay &&
		dmsetup create "$1" --table "0 $(blockdev --getsz "$2") delay $2 0 0 $2 0 $3" &&
		CDP_DEVS+=("$1")
}

# cdp_reload NAME TABLE-ARGS...: suspend NAME, load "cdp ARGS" over its length, resume
cdp_reload() {
	local n=$1 sz
	shift
	sz=$(blockdev --getsz "/dev/mapper/$n") || return 1
	dmsetup suspend "$n" && dmsetup reload "$n" --table "0 $sz cdp $*" && dmsetup resume "$n"
}

# loop_file SIZE: print a new loop device over a sparse file in $T
loop_file() {
	local f
	modprobe loop && f=$(mktemp "$T/loop.XXXXXX") && truncate -s "$1" "$f" &&
		losetup -f --show "$f"
}

state_is() { [ "$(cdp_state "$1" 2>/dev/null)" = "$2" ]; }

# A precondition failed: stop here (the planned count stays unmet: failure).
tap_bail() { echo "Bail out! $*"; exit 1; }
