#!/bin/bash
# Guest side of test_13_outage.sh: the OSD goes away for 60 s (the host
# stops it when $CDP_VM_WORK/osd-stop appears and touches osd-started once
# it is back). Async keeps serving; sync degrades or fails writes as
# configured; everything converges and verifies equal afterwards.
. "$CDP_TOP/tests/e2e/guest/common.sh"
export CDP_CONF=$CDP_VM_WORK/cdp.conf
W=$CDP_VM_WORK
tap_plan 15
g_load
mkdir -p /var/lib/cdp
cdpctl protect /dev/vda --image rbd/o1 --queue-mb 4 >/dev/null || tap_bail "protect o1"
cdpctl protect /dev/vdb --image rbd/s1 --sync --sync-timeout-ms 3000 >/dev/null || tap_bail "protect s1"
cdpctl protect /dev/vdc --image rbd/s2 --sync --sync-timeout-ms 3000 --on-sync-timeout error >/dev/null ||
	tap_bail "protect s2"
g_cdpd_start || tap_bail "cdpd"
for v in o1 s1 s2; do g_wait_synced $v 240 || tap_bail "initial sync of $v"; done

# sync mode: every write waits for the replica's ack
t0=$(date +%s.%N)
dd if=/dev/urandom of=/dev/mapper/cdp-s1 bs=4k count=50 oflag=direct,dsync status=none
t1=$(date +%s.%N)
tap_ok "sync volume serves writes with Ceph up"
echo "# sync writes: 50 x 4 KiB in $(python3 -c "print(round($t1 - $t0, 2))") s"

touch "$W/osd-stop"
for ((i = 0; i < 300; i++)); do [ -e "$W/osd-stopped" ] && break; sleep 0.2; done
[ -e "$W/osd-stopped" ] || tap_bail "the host did not stop the OSD within 60 s"
fio --name=w --filename=/dev/mapper/cdp-o1 --size=64M --bsrange=4k-64k --rw=randwrite \
	--ioengine=libaio --iodepth=4 --direct=1 --rate=1m --time_based --runtime=20 >/dev/null 2>&1 &
wpid=$!
s=$(date +%s)
if dd if=/dev/urandom of=/dev/mapper/cdp-s1 bs=4k count=1 seek=7 oflag=direct status=none; then
	tap_ok "sync + degrade: the write completes while Ceph is down ($(( $(date +%s) - s )) s)"
else
	tap_fail "sync + degrade: the write failed while Ceph is down"
fi
st=$(g_status s1 state)
[ "$st" = degraded ] && tap_ok "s1 reports degraded" || tap_fail "s1 state $st, want degraded"
if dd if=/dev/urandom of=/dev/mapper/cdp-s2 bs=4k count=1 seek=9 oflag=direct status=none 2>/dev/null; then
	tap_fail "sync + error: the write should fail while Ceph is down"
else
	tap_ok "sync + error: the write fails (EIO) while Ceph is down"
fi
# s1 stays degraded (async) while Ceph is down; a steady writer on it
# piles records up behind the outage and keeps going once Ceph is back
# (100 writes/s: ~5000 records, more than cdpd applies within the 3 s
# sync timeout here, so a re-arm behind them times out; at 50/s it did not)
fio --name=s --filename=/dev/mapper/cdp-s1 --size=16M --bs=4k --rw=randwrite --ioengine=libaio \
	--iodepth=4 --direct=1 --rate_iops=100 --time_based --runtime=600 >/dev/null 2>&1 &
spid=$!
if wait $wpid; then tap_ok "async writer saw no error during the outage"; else tap_fail "async writer saw an error"; fi
# 20 s into the outage: cdpctl status says why o1's replica is behind
# (the OSD stays down 60 s; cdpd says so after 10 s without progress)
for ((i = 0; i < 30; i++)); do
	err=$(g_status o1 daemon_error)
	grep -q "has taken no write for" <<< "$err" && break
	sleep 1
done
if grep -q "has taken no write for" <<< "$err"; then
	tap_ok "status names the stalled replica during the outage ($err)"
else
	tap_fail "status during the outage: daemon_error '$err', want 'has taken no write for'"
fi
# and its lag in seconds is the age of the oldest record not on the image
# (it read 0 s beside thousands of records when the replica had been
# caught up just before it stalled)
lag=$(g_status o1 lag_s)
lag=${lag%.*}
if [ "$lag" -ge 10 ]; then
	tap_ok "status shows the stalled replica's lag: $lag s"
else
	tap_fail "status shows a lag of $lag s for a replica that has taken no write for 10 s or more"
fi
for ((i = 0; i < 600; i++)); do [ -e "$W/osd-started" ] && break; sleep 0.2; done
[ -e "$W/osd-started" ] || tap_bail "the host did not restart the OSD"
# cdpd re-arms s1's sync mode while that writer still runs: once the
# replica has what was queued when cdpd saw it degraded (comparing with
# the *current* last record would never hold under a steady writer), and
# only once the backlog is small (a sync write waits for every record
# queued before it: re-armed behind the outage's backlog, the next write
# would time out and degrade the volume again)
echo "# s1 as Ceph comes back: $(cdpctl status s1 | tr -s ' \n' ' ')"
for ((i = 0; i < 180; i++)); do
	st=$(g_status s1 state)
	[ "$st" = replicating ] && break
	sleep 1
done
if [ "$st" = replicating ] && kill -0 $spid 2>/dev/null; then
	tap_ok "s1 back in sync mode while its writer runs (after ${i} s)"
else
	tap_fail "s1 state $st after ${i} s with its writer running, want replicating (sync re-armed)"
	cdpctl status s1 | sed 's/^/# /'
fi
sleep 5	# the writer goes on in sync mode
kill $spid 2>/dev/null
wait $spid
n=$(grep -c "s1: caught up after a sync timeout" "$W/cdpd.log")
d=$(dmesg | grep -c "s1.*degraded to async")
echo "# s1: re-armed $n time(s), degraded $d time(s)"
if [ "$n" -le 1 ] && [ "$d" -le 1 ]; then
	tap_ok "s1 re-armed once: no sync write timed out after the re-arm"
else
	tap_fail "s1 re-armed $n times, degraded $d times: sync writes timed out behind the backlog"
fi
for v in o1 s1 s2; do
	tap_check "$v converges after the outage" g_wait_synced $v 300
	tap_check "$v verifies equal" cdpctl verify $v
done
tail -n 20 "$W/cdpd.log" | grep -E "re-armed|retry|resync" | sed 's/^/# /'
tap_done
