// SPDX-License-Identifier: GPL-2.0
/* schedule_rbd.c - see schedule_rbd.h. */
#include "schedule_rbd.h"
#include "ceph_conn.h"
#include "snap_rbd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <rados/librados.h>
#include <rbd/librbd.h>

#define SCHED_MAX_CHILDREN	64

struct sched_rbd {
	rados_t cluster;
	int connected;
	rados_ioctx_t io;		/* of pool[] */
	char pool[128];
};

struct sched_rbd *sched_rbd_new(void)
{
	return calloc(1, sizeof(struct sched_rbd));
}

void sched_rbd_free(struct sched_rbd *r)
{
	if (!r)
		return;
	if (r->pool[0])
		rados_ioctx_destroy(r->io);
	if (r->connected)
		rados_shutdown(r->cluster);
	free(r);
}

/* The same cluster as every other cdpctl command: $CEPH_CONF, else the
 * ceph_conf/keyring of /etc/cdp/cdp.conf (cron has no CEPH_CONF). */
static int connect_once(struct sched_rbd *r, char *err, size_t errlen)
{
	int ret;

	if (r->connected)
		return 0;
	snap_rbd_env();
	ret = cdp_ceph_connect(&r->cluster, err, errlen);
	if (ret)
		return ret;
	r->connected = 1;
	return 0;
}

static int open_image(struct sched_rbd *r, const char *pool, const char *image,
		      rbd_image_t *img, char *err, size_t errlen)
{
	int ret = connect_once(r, err, errlen);

	/*
	 * -ENOENT from here on means the pool or the image is gone, and prune
	 * takes it as "the snapshot is gone". A missing ceph.conf or keyring
	 * fails the connect with -ENOENT too: that is not it.
	 */
	if (ret)
		return ret == -ENOENT ? -EIO : ret;
	if (strcmp(r->pool, pool)) {
		if (r->pool[0])
			rados_ioctx_destroy(r->io);
		r->pool[0] = '\0';
		ret = cdp_ceph_ioctx(r->cluster, pool, &r->io, err, errlen);
		if (ret)
			return ret;
		snprintf(r->pool, sizeof(r->pool), "%s", pool);
	}
	ret = rbd_open(r->io, image, img, NULL);
	if (ret)
		snprintf(err, errlen, "cannot open RBD image %s/%s: %s", pool, image,
			 strerror(-ret));
	return ret;
}

int sched_rbd_snap_create(struct sched_rbd *r, const char *pool,
			  const char *image, const char *name, char *err,
			  size_t errlen)
{
	int ret, adopted = 0, is_protected = 0;
	rbd_image_t img;

	ret = open_image(r, pool, image, &img, err, errlen);
	if (ret)
		return ret;
	ret = rbd_snap_create(img, name);
	if (ret == -EEXIST) {
		/* Names are <policy>-<slot>: this is ours, from a run that died
		 * before it reached the catalog. Take it over. */
		adopted = 1;
		ret = rbd_snap_is_protected(img, name, &is_protected);
	}
	if (ret) {
		snprintf(err, errlen, "cannot create snapshot %s/%s@%s: %s", pool, image,
			 name, strerror(-ret));
		goto out;
	}
	if (!is_protected)
		ret = rbd_snap_protect(img, name);
	if (ret) {
		snprintf(err, errlen, "cannot protect snapshot %s/%s@%s: %s", pool, image,
			 name, strerror(-ret));
		if (!adopted)
			rbd_snap_remove(img, name);	/* leave nothing half made */
	}
out:
	rbd_close(img);
	return ret ? ret : adopted;
}

/* Names of the clones of the image's current snapshot into err; count. */
static int list_clones(rbd_image_t img, const char *what, char *err, size_t errlen)
{
	rbd_linked_image_spec_t kids[SCHED_MAX_CHILDREN];
	size_t n = SCHED_MAX_CHILDREN, i, off;
	int ret;

	ret = rbd_list_children3(img, kids, &n);
	if (ret == -ERANGE)	/* more than we list: still "has clones" */
		n = SCHED_MAX_CHILDREN, ret = 0;
	if (ret < 0) {
		snprintf(err, errlen, "cannot list the clones of %s: %s", what, strerror(-ret));
		return ret;
	}
	if (n == 0)
		return 0;
	off = snprintf(err, errlen, "%s has %zu clone(s), kept until they are removed or flattened:",
		       what, n);
	for (i = 0; i < n && ret >= 0; i++) {
		if (off < errlen)
			off += snprintf(err + off, errlen - off, " %s/%s", kids[i].pool_name,
					kids[i].image_name);
	}
	rbd_linked_image_spec_list_cleanup(kids, n);
	return (int)n;
}

int sched_rbd_snap_prune(struct sched_rbd *r, const char *pool,
			 const char *image, const char *name, char *err,
			 size_t errlen)
{
	char what[512];
	rbd_image_t img;
	int ret, is_protected = 0;
	bool exists = false;

	snprintf(what, sizeof(what), "%s/%s@%s", pool, image, name);
	ret = open_image(r, pool, image, &img, err, errlen);
	if (ret)
		return ret == -ENOENT ? -ENOENT : ret;
	ret = rbd_snap_exists(img, name, &exists);
	if (!ret && !exists) {
		snprintf(err, errlen, "%s was already gone", what);
		ret = -ENOENT;
		goto out;
	}
	ret = rbd_snap_set(img, name);
	if (!ret) {
		ret = list_clones(img, what, err, errlen);
		rbd_snap_set(img, NULL);
	}
	if (ret > 0) {
		ret = -EBUSY;
		goto out;
	}
	if (ret < 0)
		goto out;
	ret = rbd_snap_is_protected(img, name, &is_protected);
	if (!ret && is_protected)
		ret = rbd_snap_unprotect(img, name);
	if (ret) {
		snprintf(err, errlen, "cannot unprotect %s: %s", what, strerror(-ret));
		goto out;
	}
	ret = rbd_snap_remove(img, name);
	if (ret)
		snprintf(err, errlen, "cannot remove %s: %s", what, strerror(-ret));
out:
	rbd_close(img);
	return ret;
}

int sched_rbd_snap_exists(struct sched_rbd *r, const char *pool, const char *image,
			  const char *name)
{
	char err[256];
	rbd_image_t img;
	bool exists = false;

	if (open_image(r, pool, image, &img, err, sizeof(err)))
		return 0;
	if (rbd_snap_exists(img, name, &exists))
		exists = false;
	rbd_close(img);
	return exists;
}
