// SPDX-License-Identifier: GPL-2.0
/* ceph_conn.c - see ceph_conn.h */
#include "ceph_conn.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cdp_ceph_connect(rados_t *cluster, char *err, size_t errlen)
{
	static const char *const timeouts[] = {
		"client_mount_timeout", "rados_mon_op_timeout", "rados_osd_op_timeout",
	};
	const char *conf = getenv("CEPH_CONF");
	rados_t cl;
	size_t i;
	int ret;

	ret = rados_create(&cl, NULL);
	if (ret < 0) {
		snprintf(err, errlen, "cannot create a Ceph client: %s", strerror(-ret));
		return ret;
	}
	ret = rados_conf_read_file(cl, NULL);	/* honours $CEPH_CONF */
	if (ret < 0) {
		snprintf(err, errlen,
			 "cannot read the Ceph config %s: %s (set CEPH_CONF)",
			 conf ? conf : "/etc/ceph/ceph.conf", strerror(-ret));
		goto fail;
	}
	rados_conf_parse_env(cl, NULL);		/* CEPH_ARGS */
	for (i = 0; i < sizeof(timeouts) / sizeof(timeouts[0]); i++)
		rados_conf_set(cl, timeouts[i], CDP_CEPH_TIMEOUT);
	/* librbd's own log lines would repeat our error messages */
	rados_conf_set(cl, "err_to_stderr", "false");
	rados_conf_set(cl, "log_to_stderr", "false");
	ret = rados_connect(cl);
	if (ret < 0) {
		snprintf(err, errlen,
			 "cannot connect to the Ceph cluster of %s: %s (is it up? check CEPH_CONF and the keyring)",
			 conf ? conf : "/etc/ceph/ceph.conf", strerror(-ret));
		goto fail;
	}
	*cluster = cl;
	return 0;
fail:
	rados_shutdown(cl);
	return ret;
}

int cdp_ceph_ioctx(rados_t cluster, const char *pool, rados_ioctx_t *io,
		   char *err, size_t errlen)
{
	int ret = rados_ioctx_create(cluster, pool, io);

	if (ret < 0)
		snprintf(err, errlen, "cannot open Ceph pool \"%s\": %s%s", pool,
			 strerror(-ret),
			 ret == -ENOENT ? " (no such pool: check the name with `ceph osd pool ls`)" : "");
	return ret;
}
