#!/bin/bash
# Boot 1 of test_13_powercut.sh: sync a volume, then write to a known 8 MiB
# area (regions 256..383 of 64 KiB) and get the power cut mid-write.
. tests/lib/tap.sh
. tests/kernel/guest/cdp-common.sh
O=/dev/vda M=/dev/vdb R=/dev/vdc
cdp_load || exit 1
dd if=/dev/urandom of=$O bs=1M count=8 seek=40 status=none
cdp_create c4 $O $M pvol 2 region_kb 64 || exit 1
consumer_start pvol $R
consumer_finish 90 || { echo "# initial sync failed"; exit 1; }
# Acked regions lose their bits lazily (about a second).
wait_for 20 bash -c '[ "$(dmsetup status c4 | awk "{print \$8}" | cut -d/ -f1)" = 0 ]' || { echo "# bits not cleared: $(dmsetup status c4)"; exit 1; }
echo "# boot 1: in sync, $(dmsetup status c4)"
# The superblock keeps the acked seq of the last lazy-clear pass that saw
# it change (every second): boot 2 must find at least this one.
a=$(cdp_status_word c4 7)
sleep 2
echo "# boot 1: acked $a"
consumer_start pvol $R
fio --name=pc --filename=/dev/mapper/c4 --direct=1 --ioengine=libaio --rw=randwrite \
	--bsrange=4k-64k --iodepth=16 --offset=16m --size=8m --time_based --runtime=60 \
	--randrepeat=0 >/dev/null 2>&1 &
# cut only once writes are in flight: a starved guest may take seconds to start fio
wait_for 60 bash -c '[ "$(dmsetup status c4 | awk "{print \$8}" | cut -d/ -f1)" -gt 0 ]'
sleep 1
echo "# boot 1: writing, $(dmsetup status c4)"
echo "POWER-CUT-NOW"
sleep 60
