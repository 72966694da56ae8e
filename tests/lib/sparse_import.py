#!/usr/bin/python3
# sparse_import.py FILE POOL/IMAGE: create IMAGE with FILE's size and copy
# only FILE's data extents (SEEK_DATA/SEEK_HOLE), so a 64 GiB file system
# image made by mkfs on a sparse file lands in RBD in seconds. Cluster:
# $CEPH_CONF.
import os, sys
import rados, rbd

path, spec = sys.argv[1], sys.argv[2]
pool, name = spec.split("/", 1)
size = os.path.getsize(path)
with rados.Rados(conffile=os.environ.get("CEPH_CONF", "/etc/ceph/ceph.conf")) as cl:
    with cl.open_ioctx(pool) as io:
        rbd.RBD().create(io, name, size, old_format=False,
                         features=rbd.RBD_FEATURE_LAYERING | rbd.RBD_FEATURE_EXCLUSIVE_LOCK)
        with rbd.Image(io, name) as img, open(path, "rb") as f:
            fd, off, copied = f.fileno(), 0, 0
            while off < size:
                try:
                    off = os.lseek(fd, off, os.SEEK_DATA)
                except OSError:
                    break
                end = os.lseek(fd, off, os.SEEK_HOLE)
                while off < end:
                    n = min(4 << 20, end - off)
                    img.write(os.pread(fd, n, off), off)
                    off += n
                    copied += n
print(f"{spec}: {size} bytes, {copied} bytes of data copied")
