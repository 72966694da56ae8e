#!/bin/bash
# Guest side of test_12_recovery.sh: overflow -> tracking -> resync, a
# consumer killed mid-stream and re-attached (redelivery after the acked
# seq), writes while a resync runs (those to regions still waiting for
# it are left to the resync, not captured), the consistent point before
# a resync under a sequential writer, and a resync that ends while one
# region always has a write in flight.
# Disks: vda origin (64M), vdb meta (4M), vdc replica (64M).
. tests/lib/tap.sh
. tests/kernel/guest/cdp-common.sh
tap_plan 21
O=/dev/vda M=/dev/vdb R=/dev/vdc
cdp_load || tap_bail "module"
"$CONSUME" --monitor > "$T/events" 2>/dev/null &
MON=$!
trap 'kill $MON 2>/dev/null; cdp_cleanup' EXIT

# replica_check NAME: ok when replica == origin, else the differing regions
replica_check() {
	local out
	if out=$(same_content $O $R 2>&1); then
		tap_ok "$1: replica == origin"
		return 0
	fi
	tap_fail "$1: replica == origin"
	tap_diag "$out"
	tap_diag "$(python3 tests/kernel/guest/regiondiff.py $O $R 65536)"
	return 1
}

tap_check "tiny queue table (queue_mb 1, region_kb 64)" \
	cdp_create c3 $O $M rvol 4 queue_mb 1 region_kb 64
dmsetup status c3 >/dev/null 2>&1 || tap_bail "no cdp device"
consumer_start rvol $R
wait_for 60 state_is c3 replicating || tap_diag "not replicating: $(dmsetup status c3)"

# 1. Overflow: the consumer stalls, fio keeps writing: no write may fail.
kill -STOP "$CONS_PID"
fio --name=of --filename=/dev/mapper/c3 --direct=1 --ioengine=libaio --rw=randwrite \
	--bsrange=4k-64k --iodepth=16 --size=24m --io_size=16m --randrepeat=0 \
	>"$T/fio1" 2>&1
tap_check "fio with a stalled consumer: no write failed" test $? = 0
st=$(dmsetup status c3)
if [ "$(cdp_state c3)" = tracking ] && [ "$(cdp_status_word c3 13)" -gt 0 ]; then
	tap_ok "queue overflow -> tracking (payloads dropped, bitmap only)"
else
	tap_fail "queue overflow -> tracking"; tap_diag "$st"
fi
kill -CONT "$CONS_PID"
if wait_for 90 state_is c3 replicating; then
	tap_ok "consumer drains -> resync -> replicating"
else
	tap_fail "consumer drains -> resync -> replicating"; tap_diag "$(dmsetup status c3)"
fi
if grep -q "rvol overflow" "$T/events" && grep -q "rvol tracking" "$T/events" &&
   grep -q "rvol resync-done" "$T/events"; then
	tap_ok "events: overflow, tracking, resync-start/done multicast"
else
	tap_fail "events: overflow, tracking, resync-done multicast"; tap_diag "$(cat "$T/events")"
fi
consumer_finish 60 || tap_diag "$(cat "$T/consumer.log")"
tap_check "after overflow + resync: replica == origin" same_content $O $R
tap_diag "$(grep applied "$T/consumer.log" | tail -n1)"

# 2. Consumer crash: it applies 300 records and dies without acking.
fio --name=bg --filename=/dev/mapper/c3 --direct=1 --ioengine=libaio --rw=randwrite \
	--bs=4k --iodepth=4 --size=8m --offset=40m --io_size=6m --randrepeat=0 \
	--rate_iops=1500 >/dev/null 2>&1 &
FIO=$!
: > "$T/log1"; : > "$T/log2"
"$CONSUME" --log "$T/log1" --max-records 300 rvol $R 2>>"$T/consumer.log"
rc=$?
acked=$(cdp_status_word c3 7)
tap_check "consumer died after 300 records without ack (rc 9)" test $rc = 9
grep -q "consumer-lost" "$T/events" && tap_ok "consumer-lost event" || tap_fail "consumer-lost event"
consumer_start rvol $R --log "$T/log2"
wait $FIO
consumer_finish 90 || tap_diag "$(tail -n3 "$T/consumer.log")"
first2=$(awk 'NR==1{print $1}' "$T/log2")
last1=$(awk 'END{print $1}' "$T/log1")
ordered() { sort -n -c "$T/log1" && sort -n -c "$T/log2" && awk '{print $1}' "$T/log2" | sort -n -u -c; }
if [ -n "$first2" ] && [ "$first2" = $((acked + 1)) ] && [ "$first2" -le $((last1 + 1)) ] &&
   ordered 2>/dev/null; then
	tap_ok "re-attach: redelivery from acked+1 ($first2), no gap after the crash ($last1), in order"
else
	tap_fail "re-attach redelivery (acked $acked, first after restart $first2, last before crash $last1)"
fi
if ! replica_check "after consumer crash"; then
	tap_diag "$(dmsetup status c3)"
	tap_diag "$(awk '$3 >= 81920 && $3 < 82048' "$T/log1" "$T/log2" | head -30)"
	tap_diag "$(tail -n 4 "$T/consumer.log")"
	tap_diag "$(cat "$T/events")"
fi

# 3. Writes during a resync (async): a write to a region still waiting for
# the resync gets no record, the resync reads it later; a write to a region
# already resynced is captured as usual. The replica must end equal, with
# fewer records than writes + regions.
consumer_start rvol $R
wait_for 60 state_is c3 replicating || tap_diag "not replicating: $(dmsetup status c3)"
# 64 MiB take ~16 s, idle or not (fio takes a while to start under TCG)
dmsetup message c3 0 resync_mbps 4
dmsetup message c3 0 resync_min_mbps 4
seq0=$(cdp_status_word c3 6)
dmsetup message c3 0 resync
fio --name=dr --filename=/dev/mapper/c3 --direct=1 --ioengine=libaio --rw=randwrite \
	--bs=4k --iodepth=4 --io_size=4m --rate_iops=250 --randrepeat=0 >"$T/fio3" 2>&1
tap_check "writes during a resync: none failed" test $? = 0
left=$(cdp_status_word c3 8)
# writes are missing from the stream before any MARK now: none is taken
if [ "$(cdp_state c3)" = syncing ]; then
	out=$("$CONSUME" --mark rvol 2>&1)
	rc=$?
	if [ $rc != 0 ] && grep -q "resyncing" <<< "$out"; then
		tap_ok "MARK refused while syncing: $out"
	else
		tap_fail "MARK while syncing: rc $rc, $out"
	fi
else
	tap_skip "MARK while syncing" "the resync ended with fio ($(cdp_state c3))"
fi
wait_for 120 state_is c3 replicating || tap_diag "no end of resync: $(dmsetup status c3)"
seq1=$(cdp_status_word c3 6)
dmsetup message c3 0 resync_mbps 0
dmsetup message c3 0 resync_min_mbps 16
consumer_finish 90 || tap_diag "$(tail -n3 "$T/consumer.log")"
# 1024 writes + 1024 region records if every write were captured
if [ $((seq1 - seq0)) -lt 1948 ]; then
	tap_ok "writes to regions waiting for resync left to it: $((seq1 - seq0)) records for 1024 writes + 1024 regions ($left regions left when fio ended)"
elif [ "$left" = 0 ]; then
	# a slow guest (the debug kernel): fio outlasted the whole resync
	tap_skip "writes to regions waiting for resync left to it" "the resync ended before fio did"
else
	tap_fail "records during the resync: $((seq1 - seq0)) (1024 writes + 1024 regions, $left left when fio ended)"
fi
replica_check "after writes during a resync"

# 4. The consistent point before a resync. A sequential writer (write +
# fdatasync per 4 KiB block) runs; the consumer stops, the queue overflows,
# writes are tracked; the consumer resumes and the resync runs while the
# writer goes on. Records enqueued while syncing are flagged unordered, so
# the replica just before the first of them (where cdpd snapshots) must
# hold a gap-free prefix of the writer's blocks; cdp-consume checks that
# there and at every FLUSH outside the resync (exit 4 if not).
SW=$((48 * 2048))
# A slow resync (16 regions of 64 KiB a second): the writer moves on to
# regions not marked while the ones it wrote during tracking still wait.
dmsetup message c3 0 resync_mbps 1
dmsetup message c3 0 resync_min_mbps 1
consumer_start rvol $R --check-prefix $SW:2500
wait_for 60 state_is c3 replicating || tap_diag "not replicating: $(dmsetup status c3)"
# 2 ms between blocks: still writing when the resync starts (~5 s or more)
python3 tests/kernel/guest/seqwriter.py /dev/mapper/c3 $SW 2500 2 &
SWP=$!
sleep 1
kill -STOP "$CONS_PID"
wait_for 60 state_is c3 tracking || tap_diag "no overflow: $(dmsetup status c3)"
kill -CONT "$CONS_PID"
wait $SWP
dmsetup message c3 0 resync_mbps 0
dmsetup message c3 0 resync_min_mbps 16
# a consumer that found a gap has exited (4): then nothing drains
synced_or_gone() { state_is c3 replicating || ! kill -0 "$CONS_PID" 2>/dev/null; }
wait_for 120 synced_or_gone || tap_diag "no end of resync: $(dmsetup status c3)"
if consumer_finish 120 && out=$(grep "prefix checks" "$T/consumer.log" | tail -n1) &&
   grep -q "([1-9][0-9]* resync starts)" <<< "$out"; then
	tap_ok "tracking + resync under a sequential writer: gap-free prefix before the resync (${out#cdp-consume: })"
else
	tap_fail "tracking + resync under a sequential writer: consistent point before the resync"
	tap_diag "$(tail -n 4 "$T/consumer.log")"
fi
tap_check "after the sequential writer: replica == origin" same_content $O $R

# 5. A region that always has a write in flight (a journal, a hot index).
# The resync never finds it idle; it claims it instead: writes queued
# before the claim finish, writes after it wait for the region's read.
# Without the claim the volume stays syncing as long as the writer runs
# (and refuses every snapshot). The origin moves under a dm-delay that
# holds every write 50 ms, so eight writes in flight never leave the
# region idle, whatever the scheduler does.
consumer_start rvol $R
wait_for 60 state_is c3 replicating || tap_diag "not replicating: $(dmsetup status c3)"
delay_dev dly $O 50 && cdp_reload c3 /dev/mapper/dly $M rvol 4 queue_mb 1 region_kb 64
tap_check "origin moved under a 50 ms write delay" \
	grep -q "^$(dmsetup info -c --noheadings -o major,minor --separator : dly) " \
	<<< "$(dmsetup table c3 | awk '{print $4 " "}')"
dmsetup message c3 0 resync_mbps 0
dmsetup message c3 0 resync_min_mbps 0
w0=$(cdp_status_word c3 12)
fio --name=hot --filename=/dev/mapper/c3 --direct=1 --ioengine=libaio --rw=randwrite \
	--bs=4k --iodepth=8 --offset=0 --size=64k --time_based --runtime=40 \
	--randrepeat=0 >"$T/fio5" 2>&1 &
FP=$!
writing() { [ "$(cdp_status_word c3 12)" -gt $((w0 + 50)) ]; }
wait_for 60 writing || tap_diag "fio did not start: $(cdp_status_word c3 12) writes"
r0=$(cdp_status_word c3 9)
dmsetup message c3 0 resync
t0=$SECONDS
if wait_for 35 state_is c3 replicating && kill -0 $FP 2>/dev/null; then
	tap_ok "hot region resynced under its writer: syncing ended after $((SECONDS - t0)) s"
else
	w=done
	kill -0 $FP 2>/dev/null && w=running
	tap_fail "hot region under its writer: syncing did not end while the writer ran ($(cdp_state c3) after $((SECONDS - t0)) s, writer $w)"
	tap_diag "$(dmsetup status c3)"
fi
# and it stays done: writes that went without a record before the claim
# must not mark the region again (it would be resynced over and over)
sleep 5
n1=$(cdp_status_word c3 9)
if kill -0 $FP 2>/dev/null && [ $((n1 - r0)) = 1024 ] && [ "$(cdp_state c3)" = replicating ]; then
	tap_ok "hot region: every region resynced once, none again in 5 more s of its writer"
else
	tap_fail "hot region: $((n1 - r0)) regions resynced for 1024 ($(cdp_state c3))"
fi
wait $FP
tap_check "hot region writer: no write failed" test $? = 0
tap_diag "$(grep -m1 'IOPS=' "$T/fio5")"
consumer_finish 90 || tap_diag "$(tail -n3 "$T/consumer.log")"
replica_check "after the hot-region resync"
tap_done
