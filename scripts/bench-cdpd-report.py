#!/usr/bin/env python3
"""Turn the BENCH lines of bench-cdpd-guest.sh into ratios (stdin -> stdout)."""
import sys

samples = []  # (t, last_seq, acked_seq) of the RPO phase
windows = []  # (p99, max, records) of cdpd's own 5 s lag windows, RPO phase


def rpo(samples):
    """Age of the oldest unacked write at each sample: the write after
    acked_seq appeared no earlier than the sample before the first one whose
    last_seq passed acked_seq (conservative: rounds the age up)."""
    lags = []
    for i, (t, last, acked) in enumerate(samples):
        if acked >= last:
            lags.append(0.0)
            continue
        j = next(j for j in range(i + 1) if samples[j][1] > acked)
        lags.append(t - samples[max(0, j - 1)][0])
    return sorted(lags)


for line in sys.stdin:
    if line.startswith("# cdpd rpo:") and "durable lag" in line:
        w = line.split("durable lag")[1].split()
        # p50 A s p99 B s max C s over N records
        windows.append((float(w[4]), float(w[7]), int(w[10])))
        continue
    if line.startswith("BENCHS "):
        w = line.split()
        samples.append((float(w[1]), int(w[2]), int(w[3])))
        continue
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
        print("apply 48 MiB of 64K writes: cdpd %.2f s (+%s s connect/attach), rbd bench %.2f s: rate %.2fx (goal >= 0.90x)"
              % (c, kv.get("cdpd_start_s", "?"), r, r / c))
        f = float(kv.get("fio_rbd_s", 0))
        if f > 0:
            print("  like for like (fresh data, crc32c computed per write): fio rbd engine %.2f s: cdpd rate %.2fx" % (f, f / c))
    elif name == "rpo_async":
        lags = rpo(samples)
        if lags:
            p99 = lags[min(len(lags) - 1, int(len(lags) * 0.99))]
            print("async RPO at %s IOPS of 16K (half the cluster's 16K ingest of fresh data, fio rbd %.1f MB/s; "
                  "rbd bench 16K %.1f MB/s, 64K %.1f MB/s): lag p99 %.2f s, max %.2f s, mean %.2f s over %d samples "
                  "(goal p99 <= 1 s)"
                  % (kv["load_iops"], float(kv["ingest_Bps"]) / 1e6,
                     float(kv.get("rbd_bench16k_Bps", 0)) / 1e6, float(kv.get("rbd_bench64k_Bps", 0)) / 1e6,
                     p99, lags[-1], sum(lags) / len(lags), len(lags)))
            print("  (those ages come from dmsetup samples %.1f s apart on average: an upper bound, rounded up to"
                  " the gaps)" % ((samples[-1][0] - samples[0][0]) / max(1, len(samples) - 1)))
        if windows:
            print("  measured by cdpd per record (kernel completion -> durable on the image): p99 %.3f s in the"
                  " worst 5 s window, max %.3f s, %d records in %d windows (goal p99 <= 1 s)"
                  % (max(x[0] for x in windows), max(x[1] for x in windows), sum(x[2] for x in windows),
                     len(windows)))
    elif name == "cdpd_rss_kib":
        print("cdpd peak RSS %d MiB with queue_mb %s (goal <= queue + 64 MiB)" % (int(w[1]) // 1024, w[3] if len(w) > 3 else "?"))
