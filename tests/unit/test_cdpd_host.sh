#!/bin/bash
# cdpd on a host without dm-cdp loaded (the daemon waits for the module):
# it must not leak a netlink socket per retry, must keep answering its
# control socket when it runs short of file descriptors, and a second cdpd
# on the same state directory is refused without taking the first one's
# control socket. No kernel module or Ceph needed.
TOP=$(cd "$(dirname "$0")/../.." && pwd)
. "$TOP/tests/lib/tap.sh"
CDPD=$TOP/ctl/cdpd
tmp=$(mktemp -d)
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT
if grep -qw dm_cdp /proc/modules 2>/dev/null; then
	echo "1..0 # SKIP dm-cdp is loaded here: this test needs a host without it"
	exit 0
fi
mkdir -p "$tmp/state"
printf 'ceph_conf = %s\nstate_dir = %s\ncontrol_socket = %s\n' \
	"$tmp/ceph.conf" "$tmp/state" "$tmp/cdpd.sock" > "$tmp/cdp.conf"
: > "$tmp/ceph.conf"
export CDP_CONF=$tmp/cdp.conf CDP_STATE_DIR=$tmp/state CDP_CONTROL_SOCKET=$tmp/cdpd.sock
tap_plan 6

status() {	# one STATUS request on the control socket: its first line
	timeout 5 python3 - "$CDP_CONTROL_SOCKET" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(4)
s.connect(sys.argv[1])
s.sendall(b"STATUS\n")
print(s.recv(4096).decode().splitlines()[0])
PY
}
nfds() { ls "/proc/$1/fd" | wc -l; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# prlimit: 64 descriptors, so that running out is quick to reach
prlimit --nofile=64 "$CDPD" -f 2>"$tmp/cdpd1.err" &
P1=$!
pids+=("$P1")
for ((i = 0; i < 100; i++)); do [ -S "$CDP_CONTROL_SOCKET" ] && break; sleep 0.1; done
tap_check "cdpd starts without dm-cdp loaded and waits for it" \
	grep -q "waiting for it (modprobe dm-cdp)" "$tmp/cdpd1.err"
n0=$(nfds "$P1")
sleep 5
n1=$(nfds "$P1")
tap_check "no descriptor leaked while waiting for the module ($n0 -> $n1 in 5 s of retries)" \
	test "$n1" -le "$((n0 + 1))"

# fill its descriptor table with idle connections, then some more
python3 - "$CDP_CONTROL_SOCKET" <<'PY' &
import socket, sys, time
keep = []
for i in range(80):
    s = socket.socket(socket.AF_UNIX)
    s.connect(sys.argv[1])
    keep.append(s)
time.sleep(6)
PY
HOG=$!
pids+=("$HOG")
sleep 2
c0=$(cpu_ticks "$P1")
sleep 3
c1=$(cpu_ticks "$P1")
tap_check "out of descriptors: cdpd does not spin (CPU $((c1 - c0)) ticks in 3 s)" \
	test $((c1 - c0)) -lt 100
wait "$HOG" 2>/dev/null
sleep 1
line=$(status)
tap_check "and answers again once descriptors are free ($line)" \
	grep -q "^END\|^VOL " <<< "$line"
"$CDPD" -f 2>"$tmp/cdpd2.err" &
P2=$!
pids+=("$P2")
timeout 10 tail --pid="$P2" -f /dev/null
tap_check "a second cdpd on the same state directory is refused" \
	grep -q "another cdpd (pid $P1) already serves" "$tmp/cdpd2.err"
line=$(status)
tap_check "the first cdpd's control socket still answers ($line)" \
	grep -q "^END\|^VOL " <<< "$line"

tap_done
