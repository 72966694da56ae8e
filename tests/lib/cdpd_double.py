#!/usr/bin/python3
# PROTOCOL TEST DOUBLE of cdpd's control socket (docs/cdpd-control.md).
# NOT cdpd: there is no dm-cdp stream behind it. Each volume maps straight
# to an RBD image that *is* the origin (e.g. mapped with rbd-nbd), so the
# double takes the RBD snapshot when MARK arrives, while the client still
# holds the file systems frozen: the snapshot is then exactly the frozen
# state, which lets the client side (hooks, freeze, catalog, restore) be
# tested end to end before cdpd exists.
#
# cdpd_double.py --socket PATH VOL=POOL/IMAGE...      (cluster: $CEPH_CONF)
#   --marked-delay S   sleep S seconds before answering MARKED (freeze limit test)
#   --fail-mark        answer MARK with ERR (nothing created)
#   --fail-done        create, then remove again and answer ERR (DONE stage)
#   --on-mark CMD      run CMD (sh -c, %N = snapshot name) at MARK, before the
#                      snapshot: the client holds the file systems frozen, so
#                      CMD sees the exact state the snapshot gets
#   --snap-after-marked  answer MARKED at once and snapshot afterwards, like
#                      cdpd does (for freeze-window timing; NOT consistent here,
#                      since without a stream the image moves on after the thaw)
# One librados connection for its lifetime (python3-rbd), so a snapshot
# costs what librbd costs, not a CLI start. Logs to stderr.
import argparse, os, socket, subprocess, sys, time
import rados, rbd

ap = argparse.ArgumentParser()
ap.add_argument("--socket", required=True)
ap.add_argument("--marked-delay", type=float, default=0)
ap.add_argument("--fail-mark", action="store_true")
ap.add_argument("--fail-done", action="store_true")
ap.add_argument("--on-mark")
ap.add_argument("--snap-after-marked", action="store_true")
ap.add_argument("vols", nargs="+")
a = ap.parse_args()
vols = dict(v.split("=", 1) for v in a.vols)
seq = 1000
cluster = rados.Rados(conffile=os.environ.get("CEPH_CONF", "/etc/ceph/ceph.conf"))
cluster.conf_set("rados_osd_op_timeout", "30")
cluster.conf_set("rados_mon_op_timeout", "30")
cluster.connect(timeout=30)
ioctx = {}


def log(*m):
    print("cdpd-double:", *m, file=sys.stderr, flush=True)


def image(v):
    pool, name = vols[v].split("/", 1)
    if pool not in ioctx:
        ioctx[pool] = cluster.open_ioctx(pool)
    return rbd.Image(ioctx[pool], name)


def has_snap(v, name):
    with image(v) as img:
        return any(s["name"] == name for s in img.list_snaps())


def remove(v, name):
    try:
        with image(v) as img:
            if img.is_protected_snap(name):
                img.unprotect_snap(name)
            img.remove_snap(name)
    except rbd.Error as e:
        log("cleanup", v, name, e)


def snap(conn, f, args):
    global seq
    name, protect, members = args[0], args[1] == "1", args[3:]
    for v in members:
        if v not in vols:
            return f"ERR 19 volume {v} is not served by cdpd"
        if has_snap(v, name):
            return f"ERR 17 snapshot {vols[v]}@{name} already exists (choose another --name)"
    conn.sendall(b"READY\n")
    line = f.readline().strip()
    if line != "MARK":
        log("client left before MARK:", repr(line))
        return None
    if a.fail_mark:
        return "ERR 5 injected MARK failure"
    if a.on_mark:
        subprocess.run(["sh", "-c", a.on_mark.replace("%N", name)])
    seqs = []
    for v in members:
        seq += 1
        seqs.append(f"{v}={seq}")
    marked = ("MARKED " + " ".join(seqs) + "\n").encode()
    if a.snap_after_marked:
        conn.sendall(marked)
    made = []
    for v in members:
        try:
            with image(v) as img:
                img.create_snap(name)
        except rbd.Error as e:
            for m in made:
                remove(m, name)
            return f"ERR 5 snapshot {vols[v]}@{name}: {e}"
        made.append(v)
    if a.marked_delay:
        time.sleep(a.marked_delay)
    if not a.snap_after_marked:
        conn.sendall(marked)
    if a.fail_done:
        for m in made:
            remove(m, name)
        return "ERR 5 injected failure after MARKED (snapshots removed)"
    if protect:
        for v in made:
            try:
                with image(v) as img:
                    img.protect_snap(name)
            except rbd.Error as e:
                for m in made:
                    remove(m, name)
                return f"ERR 5 protect {vols[v]}@{name}: {e}"
    return "DONE " + " ".join(seqs)


def serve(conn):
    with conn, conn.makefile("r") as f:
        line = f.readline().split()
        if line[:1] == ["SNAP"] and len(line) >= 5:
            reply = snap(conn, f, line[1:])
        elif line == ["STATUS"]:
            reply = "\n".join(f"VOL {v} image={i} state=attached consistent=1"
                              for v, i in vols.items()) + "\nEND"
        else:
            reply = "ERR 22 unknown request (SNAP, STATUS)"
        log(" ".join(line), "->", reply)
        if reply:
            conn.sendall((reply + "\n").encode())


def main():
    try:
        os.unlink(a.socket)
    except FileNotFoundError:
        pass
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(a.socket)
    os.chmod(a.socket, 0o600)
    s.listen(8)
    log("listening on", a.socket, "for", vols)
    while True:
        conn, _ = s.accept()
        try:
            serve(conn)
        except (OSError, rbd.Error, rados.Error) as e:
            log("request failed:", e)


main()
