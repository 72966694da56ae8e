/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ceph_conn.h - connect to the cluster named by the usual Ceph config
 * ($CEPH_CONF, CEPH_ARGS, /etc/ceph/ceph.conf) with timeouts set: a librados
 * client without them waits forever while an OSD or the monitor is down.
 */
#ifndef CDP_CEPH_CONN_H
#define CDP_CEPH_CONN_H

#include <stddef.h>
#include <rados/librados.h>

/* Seconds for mount, monitor and OSD operations. */
#define CDP_CEPH_TIMEOUT	"30"

int cdp_ceph_connect(rados_t *cluster, char *err, size_t errlen);
/* Open pool; err names the pool and the fix. */
int cdp_ceph_ioctx(rados_t cluster, const char *pool, rados_ioctx_t *io,
		   char *err, size_t errlen);

#endif
