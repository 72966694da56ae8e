// SPDX-License-Identifier: GPL-2.0
/* cluster.c - see cluster.h */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cluster.h"

int cdp_cluster_connect(const struct cdp_config *cfg, struct cdp_cluster *c,
			char *err, size_t errlen)
{
	const char *const timeouts[] = {
		"rados_osd_op_timeout", "rados_mon_op_timeout", "client_mount_timeout",
	};
	char name[80], tmo[16];
	size_t i;
	int r;

	memset(c, 0, sizeof(*c));
	snprintf(name, sizeof(name), "client.%s", cfg->client_id);
	r = rados_create2(&c->rados, "ceph", name, 0);
	if (r < 0) {
		snprintf(err, errlen, "cannot create the Ceph client %s: %s", name, strerror(-r));
		return r;
	}
	r = rados_conf_read_file(c->rados, cfg->ceph_conf);
	if (r < 0) {
		snprintf(err, errlen, "cannot read the Ceph config %s: %s (set ceph_conf in /etc/cdp/cdp.conf)",
			 cfg->ceph_conf, strerror(-r));
		goto fail;
	}
	rados_conf_parse_env(c->rados, NULL);
	/* librados waits forever for a down OSD or mon without these */
	snprintf(tmo, sizeof(tmo), "%u", cfg->op_timeout_s);
	for (i = 0; i < sizeof(timeouts) / sizeof(timeouts[0]); i++)
		rados_conf_set(c->rados, timeouts[i], tmo);
	if (cfg->keyring[0])
		rados_conf_set(c->rados, "keyring", cfg->keyring);
	r = rados_connect(c->rados);
	if (r < 0) {
		snprintf(err, errlen, "cannot connect to the Ceph cluster of %s as %s: %s (%s)",
			 cfg->ceph_conf, name, strerror(-r),
			 r == -EACCES || r == -EPERM || r == -ENOENT ?
			 "check keyring and client_id in /etc/cdp/cdp.conf" :
			 "is the cluster up and its mon_host reachable?");
		goto fail;
	}
	return 0;
fail:
	rados_shutdown(c->rados);
	c->rados = NULL;
	return r;
}

int cdp_cluster_pool(struct cdp_cluster *c, const char *pool, char *err, size_t errlen)
{
	int r;

	if (c->io && !strcmp(c->pool, pool))
		return 0;
	if (c->io)
		rados_ioctx_destroy(c->io);
	c->io = NULL;
	r = rados_ioctx_create(c->rados, pool, &c->io);
	if (r < 0) {
		snprintf(err, errlen, "cannot open pool '%s': %s%s", pool, strerror(-r),
			 r == -ENOENT ? " (no such pool: create it, or fix the pool name)" : "");
		c->io = NULL;
		return r;
	}
	snprintf(c->pool, sizeof(c->pool), "%s", pool);
	return 0;
}

void cdp_cluster_close(struct cdp_cluster *c)
{
	if (c->io)
		rados_ioctx_destroy(c->io);
	if (c->rados)
		rados_shutdown(c->rados);
	memset(c, 0, sizeof(*c));
}

int cdp_split_image(const char *spec, const char *default_pool, char *pool,
		    size_t plen, char *image, size_t ilen, char *err, size_t errlen)
{
	const char *slash = strchr(spec, '/');
	const char *img = slash ? slash + 1 : spec;
	size_t pl = slash ? (size_t)(slash - spec) : strlen(default_pool);

	if (!*img || strchr(img, '/') || strchr(img, '@') || pl == 0 || pl >= plen ||
	    strlen(img) >= ilen) {
		snprintf(err, errlen, "'%s' is not an image name: expected POOL/IMAGE", spec);
		return -EINVAL;
	}
	snprintf(pool, plen, "%.*s", (int)pl, slash ? spec : default_pool);
	snprintf(image, ilen, "%s", img);
	return 0;
}
