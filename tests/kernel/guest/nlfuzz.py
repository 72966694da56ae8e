#!/usr/bin/env python3
"""Malformed and random generic netlink messages for the dm_cdp family.

nlfuzz.py VOLUME [N_RANDOM]: prints TAP-style "ok/not ok" lines (no plan;
the caller counts them). Every malformed request must get an error reply
(never silence, never success); random garbage must not hurt the kernel;
LIST must still work afterwards.
"""
import errno
import os
import random
import socket
import struct
import sys

NETLINK_GENERIC = 16
GENL_ID_CTRL = 0x10
CTRL_CMD_GETFAMILY = 3
CTRL_ATTR_FAMILY_ID = 1
CTRL_ATTR_FAMILY_NAME = 2
NLM_F_REQUEST, NLM_F_ACK, NLM_F_DUMP = 1, 4, 0x300
NLMSG_ERROR, NLMSG_DONE = 2, 3
# kmod/uapi/dm-cdp.h
CMD = dict(LIST=1, ATTACH=2, DETACH=3, FETCH=4, ACK=5, MARK=6)
A_VOLUME, A_SEQ, A_MAX_BYTES, A_RECORD, A_VOLINFO, A_EVENT = 1, 2, 3, 4, 5, 6

vol = sys.argv[1].encode()
nrand = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
n = 0
failed = 0


def tap(ok, name):
    global n, failed
    n += 1
    if not ok:
        failed += 1
    print(("ok %d - " if ok else "not ok %d - ") % n + name, flush=True)


def attr(t, data):
    ln = 4 + len(data)
    return struct.pack("HH", ln, t) + data + b"\0" * ((4 - ln % 4) % 4)


def msg(fam, cmd, payload, flags=NLM_F_REQUEST | NLM_F_ACK, seq=1, ver=1):
    body = struct.pack("BBH", cmd, ver, 0) + payload
    return struct.pack("IHHII", 16 + len(body), fam, flags, seq, 0) + body


class Sock:
    def __init__(self, bufsize=1 << 20):
        self.bufsize = bufsize
        self.s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_GENERIC)
        self.s.bind((0, 0))
        self.s.settimeout(5)
        self.seq = 100

    def request(self, raw):
        """Send raw bytes; return (errno or 0, [payloads]) for our seq."""
        self.s.send(raw)
        out = []
        while True:
            data = self.s.recv(self.bufsize)
            off = 0
            while off + 16 <= len(data):
                ln, typ, fl, seq, pid = struct.unpack_from("IHHII", data, off)
                if ln < 16:
                    return -1, out
                if typ == NLMSG_ERROR:
                    (err,) = struct.unpack_from("i", data, off + 16)
                    return -err, out
                if typ == NLMSG_DONE:
                    (err,) = struct.unpack_from("i", data, off + 16)
                    return -err, out
                out.append(data[off + 16:off + ln])
                off += (ln + 3) & ~3


def family_id(s):
    err, out = s.request(msg(GENL_ID_CTRL, CTRL_CMD_GETFAMILY,
                             attr(CTRL_ATTR_FAMILY_NAME, b"dm_cdp\0")))
    for p in out:
        off = 4
        while off + 4 <= len(p):
            ln, t = struct.unpack_from("HH", p, off)
            if t == CTRL_ATTR_FAMILY_ID:
                return struct.unpack_from("H", p, off + 4)[0]
            off += (ln + 3) & ~3
    raise SystemExit("dm_cdp family not found")


s = Sock()
fam = family_id(s)
V = attr(A_VOLUME, vol + b"\0")


def expect(name, raw, errs):
    try:
        err, _ = s.request(raw)
    except socket.timeout:
        tap(False, name + " (no answer)")
        return
    tap(err in errs, "%s -> %s" % (name, errno.errorcode.get(err, err)))


E = (errno.EINVAL,)
expect("ATTACH without VOLUME", msg(fam, CMD["ATTACH"], b""), E)
expect("ATTACH, VOLUME not NUL-terminated", msg(fam, CMD["ATTACH"], attr(A_VOLUME, vol)), E)
expect("ATTACH, VOLUME of 100 bytes", msg(fam, CMD["ATTACH"], attr(A_VOLUME, b"v" * 99 + b"\0")), (errno.EINVAL, errno.ERANGE))
expect("ATTACH, unknown volume", msg(fam, CMD["ATTACH"], attr(A_VOLUME, b"nosuchvol\0")), (errno.ENODEV,))
expect("ACK, SEQ of 4 bytes", msg(fam, CMD["ACK"], V + attr(A_SEQ, b"\1\0\0\0")), E)
expect("ACK without SEQ", msg(fam, CMD["ACK"], V), E + (errno.ENOTCONN,))
expect("FETCH without SEQ", msg(fam, CMD["FETCH"], V, NLM_F_REQUEST | NLM_F_DUMP), E + (errno.ERANGE,))
expect("unknown attribute type 99", msg(fam, CMD["MARK"], V + attr(99, b"xxxx")), E)
expect("reply-only RECORD attribute in a request", msg(fam, CMD["ATTACH"], V + attr(A_RECORD, b"")), E)
expect("EVENT attribute in a request", msg(fam, CMD["ATTACH"], V + attr(A_EVENT, b"\0\0\0\0")), E)
expect("unknown command 77", msg(fam, 77, V), (errno.EOPNOTSUPP,))
expect("command 0", msg(fam, 0, V), (errno.EOPNOTSUPP,))
bad = struct.pack("HH", 200, A_VOLUME) + vol + b"\0"   # nla_len past the end
expect("attribute length past the message end", msg(fam, CMD["ATTACH"], bad), E)
expect("attribute length 2 (< header)", msg(fam, CMD["ATTACH"], struct.pack("HH", 2, A_VOLUME)), E)
expect("FETCH from a socket that did not attach", msg(fam, CMD["FETCH"], V + attr(A_SEQ, struct.pack("Q", 0)), NLM_F_REQUEST | NLM_F_DUMP), (errno.ENOTCONN,))
err, _ = s.request(msg(fam, CMD["ATTACH"], V))
tap(err == 0, "ATTACH by this socket")
expect("ACK beyond the last seq", msg(fam, CMD["ACK"], V + attr(A_SEQ, struct.pack("Q", 1 << 60))), (errno.ERANGE,))
expect("FETCH, MAX_BYTES 0", msg(fam, CMD["FETCH"], V + attr(A_SEQ, struct.pack("Q", 0)) + attr(A_MAX_BYTES, struct.pack("I", 0)), NLM_F_REQUEST | NLM_F_DUMP), E + (errno.ERANGE,))

def small_skb_fetch(dev):
    """A 256 KiB record fetched with 4 KiB receive buffers (so dump skbs of
    4 KiB): it must arrive in pieces that join into the written data."""
    import mmap
    import time
    # A socket that never receives with a big buffer: its dump skbs stay
    # at 4 KiB (the kernel sizes them by the largest recvmsg seen).
    c = Sock(4096)
    err, _ = c.request(msg(fam, CMD["ATTACH"], V))
    if err:
        return False, "attach: %d" % err
    time.sleep(1)  # ATTACH moved the volume out of tracking: writes are captured
    data = os.urandom(256 << 10)
    buf = mmap.mmap(-1, len(data))
    buf.write(data)
    fd = os.open(dev, os.O_WRONLY | os.O_DIRECT)
    os.pwrite(fd, buf, 0)
    os.close(fd)
    time.sleep(1)
    c.s.send(msg(fam, CMD["FETCH"], V + attr(A_SEQ, struct.pack("Q", 0)),
                 NLM_F_REQUEST | NLM_F_DUMP))
    recs, pieces, biggest, done = {}, 0, 0, False
    while not done:
        d = c.s.recv(4096)
        off = 0
        while off + 16 <= len(d):
            ln, typ, fl, sq, pid = struct.unpack_from("IHHII", d, off)
            if typ in (NLMSG_DONE, NLMSG_ERROR):
                done = True
                break
            biggest = max(biggest, ln)
            a = off + 20
            while a + 4 <= off + ln:
                al, at = struct.unpack_from("HH", d, a)
                if at & 0x3fff == A_RECORD:
                    f, b = {}, a + 4
                    while b + 4 <= a + al:
                        bl, bt = struct.unpack_from("HH", d, b)
                        f[bt] = d[b + 4:b + bl]
                        b += (bl + 3) & ~3
                    seq = struct.unpack("Q", f[1])[0]
                    o = struct.unpack("I", f[2])[0]
                    r = recs.setdefault(seq, [struct.unpack("Q", f[4])[0], struct.unpack("I", f[3])[0], f[5][0], bytearray()])
                    if 8 in f:
                        if o != len(r[3]):
                            return False, "piece of seq %d at %d, expected %d" % (seq, o, len(r[3]))
                        r[3] += f[8]
                        pieces += 1
                a += (al + 3) & ~3
            off += (ln + 3) & ~3
    got = [r for q, r in sorted(recs.items()) if r[0] == 0 and r[2] == 1 and len(r[3]) == r[1]]
    if not got or bytes(got[-1][3][:len(data)]) != data:
        return False, "no complete 256 KiB WRITE record at sector 0 matching the data"
    return biggest <= 4096 and pieces > 64, "%d pieces, largest message %d bytes" % (pieces, biggest)


err, _ = s.request(msg(fam, CMD["DETACH"], V))
tap(err == 0, "DETACH by this socket")


def attach_undelivered():
    """ATTACH from a socket whose receive buffer is full: the reply cannot
    be delivered, so the client never learns it attached; the volume must
    not stay taken by it (another consumer can attach at once)."""
    c = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_GENERIC)
    c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1)  # the kernel's minimum
    c.bind((0, 0))
    for i in range(32):  # error acks nobody reads fill the buffer
        c.send(msg(fam, CMD["ATTACH"], attr(A_VOLUME, b"nosuchvol\0"), seq=i + 1))
    c.send(msg(fam, CMD["ATTACH"], V, seq=99))
    other = Sock()
    err, _ = other.request(msg(fam, CMD["ATTACH"], V))
    if not err:
        other.request(msg(fam, CMD["DETACH"], V))
    c.close()
    return err


err = attach_undelivered()
tap(err == 0, "ATTACH whose reply could not be delivered leaves the volume free (next ATTACH: %s)"
    % (errno.errorcode.get(err, err) if err else "ok"))
if len(sys.argv) > 3:
    ok, why = small_skb_fetch(sys.argv[3])
    tap(ok, "FETCH with 4 KiB dump skbs: a 256 KiB record arrives in pieces and joins (%s)" % why)

# Random messages: random command, flags, attribute soup, random lengths.
rnd = random.Random(int(os.environ.get("NLFUZZ_SEED", "1")))
answered = 0
for i in range(nrand):
    cmd = rnd.choice([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 200])
    payload = b""
    for _ in range(rnd.randint(0, 5)):
        t = rnd.randint(0, 10) | rnd.choice([0, 0, 0x8000, 0x4000])
        d = rnd.choice([vol + b"\0", os.urandom(rnd.randint(0, 40)), struct.pack("Q", rnd.getrandbits(64))])
        payload += attr(t, d)
    if rnd.random() < 0.2:
        payload = os.urandom(rnd.randint(0, 64))
    flags = NLM_F_REQUEST | rnd.choice([NLM_F_ACK, NLM_F_DUMP, 0])
    raw = msg(fam, cmd, payload, flags, seq=i + 1000, ver=rnd.choice([0, 1, 2]))
    if rnd.random() < 0.1:
        raw = raw[:rnd.randint(16, len(raw))]
        raw = struct.pack("I", len(raw)) + raw[4:]
    s.s.send(raw)
    # Drain whatever comes back (acks, errors, dumps).
    s.s.settimeout(0.005)
    try:
        while True:
            s.s.recv(1 << 20)
            answered += 1
    except (socket.timeout, BlockingIOError):
        pass
s.s.settimeout(5)
# Another socket: the family still answers, the volume is still listed.
s2 = Sock()
err, out = s2.request(msg(fam, CMD["LIST"], b"", NLM_F_REQUEST | NLM_F_DUMP))
tap(err == 0 and any(vol in p for p in out),
    "%d random messages (%d answers); LIST still works" % (nrand, answered))
sys.exit(1 if failed else 0)
