/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cluster.h - connect to the replica cluster named in cdp.conf (ceph_conf,
 * keyring, client_id, op_timeout_s) with RADOS timeouts set, and open
 * pools and images. For cdpctl; the apply engine has its own session
 * (rbd_apply_conn.c) with engine-specific options.
 */
#ifndef CDP_CLUSTER_H
#define CDP_CLUSTER_H

#include <stddef.h>
#include <rados/librados.h>
#include <rbd/librbd.h>

#include "config.h"

struct cdp_cluster {
	rados_t rados;
	rados_ioctx_t io;		/* the pool opened last */
	char pool[128];
};

/* 0 or -errno with a sentence in @err (unreachable, bad keyring, ...). */
int cdp_cluster_connect(const struct cdp_config *cfg, struct cdp_cluster *c,
			char *err, size_t errlen);
int cdp_cluster_pool(struct cdp_cluster *c, const char *pool, char *err, size_t errlen);
void cdp_cluster_close(struct cdp_cluster *c);

/* Split "POOL/IMAGE" (or "IMAGE": default pool). -EINVAL with a message. */
int cdp_split_image(const char *spec, const char *default_pool, char *pool,
		    size_t plen, char *image, size_t ilen, char *err, size_t errlen);

#endif
