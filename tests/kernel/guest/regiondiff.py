#!/usr/bin/env python3
"""regiondiff.py A B REGION_BYTES [OFFSET LEN]: list regions that differ."""
import sys
a, b, rs = sys.argv[1], sys.argv[2], int(sys.argv[3])
off = int(sys.argv[4]) if len(sys.argv) > 4 else 0
n = int(sys.argv[5]) if len(sys.argv) > 5 else None
with open(a, "rb") as fa, open(b, "rb") as fb:
    fa.seek(off)
    fb.seek(off)
    i, out = off // rs, []
    while n is None or (i - off // rs) * rs < n:
        x, y = fa.read(rs), fb.read(rs)
        if not x:
            break
        if x != y:
            k = next(j for j in range(len(x)) if x[j] != y[j])
            out.append("%d(+%d)" % (i, k))
        i += 1
print(len(out), "regions differ:", " ".join(out[:30]))
