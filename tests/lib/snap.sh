# Helpers for the snapshot/restore tests (sourced after tap.sh and ceph.sh).
#   snap_catalog_init DB VOL=POOL/IMAGE...   create a catalog with those volumes
#   snap_double_start SOCK [double args] VOL=POOL/IMAGE...  start the protocol test double
#   snap_double_stop                          stop it (by pid)
#   json_get EXPR                             evaluate a python expression on stdin's JSON as j
CDPCTL=${CDPCTL:-$CEPH_TOP/ctl/cdpctl}
_snap_double_pid=

snap_catalog_init() {
	local db=$1 v name img
	shift
	"$CDPCTL" -c "$db" snap list >/dev/null || return 1
	for v in "$@"; do
		name=${v%%=*} img=${v#*=}
		sqlite3 "$db" "INSERT INTO volumes (name, rbd_pool, rbd_image, state, created_at)
			VALUES ('$name', '${img%%/*}', '${img#*/}', 'protected', strftime('%s','now'))" || return 1
	done
}

snap_double_start() {
	local sock=$1 i
	shift
	rm -f "$sock"
	/usr/bin/python3 "$CEPH_TOP/tests/lib/cdpd_double.py" --socket "$sock" "$@" \
		2>>"${SNAP_DOUBLE_LOG:-/dev/null}" &
	_snap_double_pid=$!
	# 60 s: the double imports rados/rbd and connects before it binds,
	# seconds on a loaded host; a double that died is reported at once.
	for i in $(seq 600); do
		[ -S "$sock" ] && return 0
		kill -0 "$_snap_double_pid" 2>/dev/null || { echo "# the cdpd test double exited" >&2; return 1; }
		sleep 0.1
	done
	echo "# the cdpd test double has no socket after 60 s" >&2
	return 1
}

snap_double_stop() {
	[ -n "$_snap_double_pid" ] && kill "$_snap_double_pid" 2>/dev/null && wait "$_snap_double_pid" 2>/dev/null
	_snap_double_pid=
	rm -f "$CDP_CONTROL_SOCKET"
}

json_get() { /usr/bin/python3 -c "import json,sys; j=json.load(sys.stdin); print($1)" 2>/dev/null; }
