#!/usr/bin/env python3
"""Sequential writer for the prefix-consistency check of cdp-consume.

seqwriter.py DEV SECTOR N: write 4 KiB block i ("CDPBLK01" + LE64 i) at
SECTOR*512 + i*4096 with O_DIRECT, then fdatasync (an empty flush bio, so
a FLUSH marker), for i = 0..N-1.
"""
import mmap
import os
import struct
import sys

dev, sector, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
fd = os.open(dev, os.O_WRONLY | os.O_DIRECT)
buf = mmap.mmap(-1, 4096)
for i in range(n):
    buf.seek(0)
    buf.write(b"CDPBLK01" + struct.pack("<Q", i) + os.urandom(64))
    os.pwrite(fd, buf, sector * 512 + i * 4096)
    os.fdatasync(fd)
os.close(fd)
