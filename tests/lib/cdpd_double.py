#!/usr/bin/python3
# PROTOCOL TEST DOUBLE of cdpd's control socket (docs/cdpd-control.md).
# NOT cdpd: there is no dm-cdp stream behind it. Each volume maps straight
# to an RBD image that *is* the origin (e.g. mapped with rbd-nbd), so the
# double takes the RBD snapshot when MARK arrives, while the client still
# holds the file systems frozen: the snapshot is then exactly the frozen
# state, which lets the client side (hooks, freeze, catalog, restore) be
# tested end to end before cdpd exists.
#
# cdpd_double.py --socket PATH [--rbd 'rbd --conf C --keyring K'] VOL=POOL/IMAGE...
#   --marked-delay S   sleep S seconds before answering MARKED (freeze limit test)
#   --fail-mark        answer MARK with ERR (nothing created)
#   --fail-done        create, then remove again and answer ERR (DONE stage)
# Logs one line per request on stderr.
import argparse, os, shlex, socket, subprocess, sys, time

ap = argparse.ArgumentParser()
ap.add_argument("--socket", required=True)
ap.add_argument("--rbd", default="rbd")
ap.add_argument("--marked-delay", type=float, default=0)
ap.add_argument("--fail-mark", action="store_true")
ap.add_argument("--fail-done", action="store_true")
ap.add_argument("vols", nargs="+")
a = ap.parse_args()
vols = dict(v.split("=", 1) for v in a.vols)
seq = 1000
rbd = shlex.split(a.rbd)


def log(*m):
    print("cdpd-double:", *m, file=sys.stderr, flush=True)


def run(*args):
    p = subprocess.run(rbd + list(args), capture_output=True, text=True)
    return p.returncode, p.stderr.strip()


def snap(conn, f, args):
    global seq
    name, protect, timeout_ms, members = args[0], args[1] == "1", int(args[2]), args[3:]
    for v in members:
        if v not in vols:
            return f"ERR 19 volume {v} is not served by cdpd"
        if run("info", f"{vols[v]}@{name}")[0] == 0:
            return f"ERR 17 snapshot {vols[v]}@{name} already exists (choose another --name)"
    conn.sendall(b"READY\n")
    line = f.readline().strip()
    if line != "MARK":
        log("client left before MARK:", repr(line))
        return None
    if a.fail_mark:
        return "ERR 5 injected MARK failure"
    made, seqs = [], []
    for v in members:
        rc, err = run("snap", "create", f"{vols[v]}@{name}")
        if rc:
            for m in made:
                run("snap", "rm", m)
            return f"ERR 5 rbd snap create {vols[v]}@{name}: {err}"
        made.append(f"{vols[v]}@{name}")
        seq += 1
        seqs.append(f"{v}={seq}")
    if a.marked_delay:
        time.sleep(a.marked_delay)
    conn.sendall(("MARKED " + " ".join(seqs) + "\n").encode())
    if a.fail_done:
        for m in made:
            run("snap", "rm", m)
        return "ERR 5 injected failure after MARKED (snapshots removed)"
    if protect:
        for m in made:
            rc, err = run("snap", "protect", m)
            if rc:
                for n in made:
                    run("snap", "unprotect", n)
                    run("snap", "rm", n)
                return f"ERR 5 rbd snap protect {m}: {err}"
    return "DONE " + " ".join(seqs)


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
                try:
                    conn.sendall((reply + "\n").encode())
                except OSError:
                    pass


main()
