#!/usr/bin/python3
"""Cluster-side setup steps of scripts/ceph/start.sh, in one client session
each (the `ceph` CLI would cost a python start-up per command).

  sandbox_setup.py CONF pre-osd OSD_UUID   register osd.0, create pool rbd
  sandbox_setup.py CONF post-osd           rbd pool init, then wait until a
                                           write to the pool succeeds
  sandbox_setup.py CONF wait-up SECONDS    wait until osd.0 is up in the
                                           osdmap and the pool takes a write
"""
import json
import sys
import time

import rados
import rbd

POOL = "rbd"
DEADLINE_S = 60


def mon(cluster, **cmd):
    ret, out, err = cluster.mon_command(json.dumps(cmd), b"", timeout=30)
    if ret != 0:
        sys.exit("sandbox_setup: '%s' failed: %s (%d)" % (cmd["prefix"], err, ret))
    return out


def pre_osd(cluster, osd_uuid):
    mon(cluster, prefix="osd new", uuid=osd_uuid, id=0)
    mon(cluster, prefix="osd pool create", pool=POOL)
    mon(cluster, prefix="osd pool application enable", pool=POOL, app="rbd")


def post_osd(cluster):
    ioctx = cluster.open_ioctx(POOL)
    # The first op waits for the PGs to peer; retry until the deadline so a
    # slow start-up gives a clear message instead of a hang.
    end = time.monotonic() + DEADLINE_S
    while True:
        try:
            rbd.RBD().pool_init(ioctx, False)
            ioctx.write_full("sandbox-probe", b"ok")
            ioctx.remove_object("sandbox-probe")
            break
        except (rados.TimedOut, rados.Error) as e:
            if time.monotonic() > end:
                sys.exit("sandbox_setup: pool %s accepts no write after %d s: %s (see the OSD log)"
                         % (POOL, DEADLINE_S, e))
            time.sleep(0.1)
    ioctx.close()


def wait_up(cluster, seconds):
    end = time.monotonic() + seconds
    while True:
        dump = json.loads(mon(cluster, prefix="osd dump", format="json"))
        if any(o["osd"] == 0 and o["up"] for o in dump["osds"]):
            break
        if time.monotonic() > end:
            sys.exit("sandbox_setup: osd.0 not up after %d s (see the OSD log)" % seconds)
        time.sleep(0.2)
    ioctx = cluster.open_ioctx(POOL)
    while True:
        try:
            ioctx.write_full("sandbox-probe", b"ok")
            ioctx.remove_object("sandbox-probe")
            break
        except (rados.TimedOut, rados.Error) as e:
            if time.monotonic() > end:
                sys.exit("sandbox_setup: pool %s accepts no write after %d s: %s" % (POOL, seconds, e))
            time.sleep(0.2)
    ioctx.close()


def main():
    conf, step = sys.argv[1], sys.argv[2]
    cluster = rados.Rados(conffile=conf, conf={"rados_osd_op_timeout": "10",
                                               "rados_mon_op_timeout": "30"})
    cluster.connect(timeout=30)
    try:
        if step == "pre-osd":
            pre_osd(cluster, sys.argv[3])
        elif step == "post-osd":
            post_osd(cluster)
        elif step == "wait-up":
            wait_up(cluster, int(sys.argv[3]))
        else:
            sys.exit("sandbox_setup: unknown step %s" % step)
    finally:
        cluster.shutdown()


if __name__ == "__main__":
    main()
