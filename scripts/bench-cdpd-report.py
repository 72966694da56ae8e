#!/usr/bin/env python3
"""Turn the BENCH lines of bench-cdpd-guest.sh into ratios (stdin -> stdout)."""
import sys

for line in sys.stdin:
    if not line.startswith("BENCH "):
        continue
    w = line.split()[1:]
    name, kv = w[0], dict(zip(w[1::2], w[2::2]))
    if name.startswith("sync_qd"):
        ci, di = int(kv["cdp_iops"]), max(1, int(kv["diy_iops"]))
        cp, dp = int(kv["cdp_p99_us"]), max(1, int(kv["diy_p99_us"]))
        print("%s: cdp sync %d IOPS p99 %d us | raid1+rbd-nbd %d IOPS p99 %d us | "
              "IOPS %.2fx (goal >= 2x), p99 %.2fx (goal <= 0.5x)" % (name, ci, cp, di, dp, ci / di, cp / dp))
    elif name == "apply_64k":
        c, r = float(kv["cdpd_s"]), float(kv["rbd_bench_s"])
        print("apply 48 MiB of 64K writes: cdpd %.1f s, rbd bench %.1f s: rate %.2fx (goal >= 0.90x)" % (c, r, r / c))
    elif name == "rpo_async":
        print("async RPO at half load: " + " ".join(w[1:]))
    elif name == "cdpd_rss_kib":
        print("cdpd peak RSS %d MiB with queue_mb %s (goal <= queue + 64 MiB)" % (int(w[1]) // 1024, w[3] if len(w) > 3 else "?"))
