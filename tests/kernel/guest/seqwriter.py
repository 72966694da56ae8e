#!/usr/bin/env python3
"""Sequential writer for the prefix-consistency check of cdp-consume.

seqwriter.py DEV SECTOR N [PAUSE_MS]: write 4 KiB block i ("CDPBLK01" +
LE64 i) at SECTOR*512 + i*4096 with O_DIRECT, then fdatasync (an empty
flush bio, so a FLUSH marker), for i = 0..N-1; PAUSE_MS between blocks
(default 0) keeps a writer going across a slow test step.
"""
import mmap
import os
import struct
import sys
import time

dev, sector, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
pause = int(sys.argv[4]) / 1000.0 if len(sys.argv) > 4 else 0
fd = os.open(dev, os.O_WRONLY | os.O_DIRECT)
buf = mmap.mmap(-1, 4096)
for i in range(n):
    buf.seek(0)
    buf.write(b"CDPBLK01" + struct.pack("<Q", i) + os.urandom(64))
    os.pwrite(fd, buf, sector * 512 + i * 4096)
    os.fdatasync(fd)
    if pause:
        time.sleep(pause)
os.close(fd)
