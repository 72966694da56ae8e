# Guest-side helpers for end-to-end tests (sourced inside the VM).
# Expects CDP_CONF to point at the cdp.conf the host wrote into the work dir.
. "$CDP_TOP/tests/lib/tap.sh"
export PATH=$CDP_TOP/ctl:$PATH
CDPD_PID=""
G_CLEAN=()

g_cleanup() {
	local i
	[ -n "$CDPD_PID" ] && kill "$CDPD_PID" 2>/dev/null && wait "$CDPD_PID" 2>/dev/null
	for ((i = ${#G_CLEAN[@]} - 1; i >= 0; i--)); do eval "${G_CLEAN[$i]}" >/dev/null 2>&1; done
}
trap g_cleanup EXIT

g_load() { grep -qw dm_cdp /proc/modules || insmod "$CDP_TOP/kmod/dm-cdp.ko"; }

# Not through tap_check: a $(...) would wait for the daemon holding its pipe.
g_cdpd_start() {
	cdpd -f </dev/null >/dev/null 2>>"$CDP_VM_WORK/cdpd.log" &
	CDPD_PID=$!
	local i
	# 60 s: cdpd loads librbd/librados before its socket exists, slow
	# under TCG on a loaded host; a cdpd that died fails at once.
	for ((i = 0; i < 600; i++)); do
		[ -S /run/cdp/cdpd.sock ] && return 0
		kill -0 "$CDPD_PID" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# cdpd's threads, a "comm|stat" line each, with shell builtins only: sh runs
# the same loop as a snapshot's pre hook (a fork per thread takes seconds)
G_CDPD_THREADS='for t in /proc/$CDPD_PID/task/*; do read c < $t/comm; read s < $t/stat; echo "$c|$s"; done'
# those lines as "ctl N" / "rep N": control (cdpd-ctl) or replication thread,
# its nice (field 19 of stat: the 18th word once comm and pid are replaced)
g_nices_parse() { sed 's/^cdpd-ctl|.*) /ctl /; s/^[^|]*|.*) /rep /' | cut -d' ' -f1,18; }
g_cdpd_nices() { eval "$G_CDPD_THREADS" | g_nices_parse; }

g_cdpd_kill() { [ -n "$CDPD_PID" ] && kill -9 "$CDPD_PID"; wait "$CDPD_PID" 2>/dev/null; CDPD_PID=""; }

# g_status VOL KEY: one field of `cdpctl -j status VOL` ("" if absent)
g_status() {
	cdpctl -j status "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0].get(sys.argv[1], ""))' "$2"
}

# g_wait_synced VOL SECONDS: everything captured is acked and no resync left
g_wait_synced() {
	local vol=$1 t=${2:-120} i j
	for ((i = 0; i < t * 5; i++)); do
		j=$(cdpctl -j status "$vol" 2>/dev/null)
		if python3 - "$j" <<'EOP'
import json, sys
v = json.loads(sys.argv[1])[0]
ok = v.get("lag_records") == 0 and v.get("resync_left") == 0 and \
     v.get("state") == "replicating" and v.get("consistent")
sys.exit(0 if ok else 1)
EOP
		then return 0; fi
		sleep 0.2
	done
	cdpctl status "$vol" | sed 's/^/# /'
	return 1
}
