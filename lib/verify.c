// SPDX-License-Identifier: GPL-2.0
/* verify.c - see verify.h */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/fs.h>

#include "cluster.h"
#include "progress.h"
#include "verify.h"

struct vctx {
	int fd;
	rbd_image_t img;
	uint64_t size, rsz;
	char *a, *b;
};

/* 1 if region @i differs, 0 if equal, -errno on a read error. */
static int compare(struct vctx *c, uint64_t i, char *err, size_t errlen)
{
	uint64_t off = i * c->rsz, len = c->rsz;
	ssize_t n;

	if (off + len > c->size)
		len = c->size - off;
	/* the page cache of the device is coherent with writes through it */
	n = pread(c->fd, c->a, len, off);
	if (n != (ssize_t)len) {
		snprintf(err, errlen, "reading the volume at %llu: %s",
			 (unsigned long long)off, n < 0 ? strerror(errno) : "short read");
		return -EIO;
	}
	n = rbd_read(c->img, off, len, c->b);
	if (n != (ssize_t)len) {
		snprintf(err, errlen, "reading the replica at %llu: %s",
			 (unsigned long long)off, n < 0 ? strerror((int)-n) : "short read");
		return n < 0 ? (int)n : -EIO;
	}
	return memcmp(c->a, c->b, len) != 0;
}

static int open_both(const struct cdp_config *cfg, const struct cat_volume *v,
		     struct cdp_cluster *cl, struct vctx *c, char *err, size_t errlen)
{
	char dev[256];
	uint64_t isz;
	int r;

	snprintf(dev, sizeof(dev), "/dev/mapper/%s", v->dm_name);
	c->fd = open(dev, O_RDONLY | O_CLOEXEC);
	if (c->fd < 0 || ioctl(c->fd, BLKGETSIZE64, &c->size)) {
		snprintf(err, errlen, "cannot open %s: %s (is the volume active?)", dev, strerror(errno));
		return -errno;
	}
	r = cdp_cluster_connect(cfg, cl, err, errlen);
	if (!r)
		r = cdp_cluster_pool(cl, v->pool, err, errlen);
	if (r)
		return r;
	r = rbd_open_read_only(cl->io, v->image, &c->img, NULL);
	if (r) {
		snprintf(err, errlen, "cannot open RBD image %s/%s: %s", v->pool, v->image, strerror(-r));
		return r;
	}
	rbd_get_size(c->img, &isz);
	if (isz < c->size) {
		snprintf(err, errlen, "replica %s/%s is smaller (%llu bytes) than the volume (%llu)",
			 v->pool, v->image, (unsigned long long)isz, (unsigned long long)c->size);
		return -ERANGE;
	}
	c->a = malloc(c->rsz);
	c->b = malloc(c->rsz);
	return c->a && c->b ? 0 : -ENOMEM;
}

int cdp_verify(const struct cdp_config *cfg, const struct cat_volume *v,
	       const struct verify_opts *o, struct verify_result *res,
	       char *err, size_t errlen)
{
	struct vctx c = { .fd = -1, .rsz = o->region_bytes ? o->region_bytes : 1 << 20 };
	unsigned int passes = o->passes ? o->passes : 3, p;
	uint64_t i, n, *diff = NULL, ndiff = 0;
	struct cdp_cluster cl = { 0 };
	struct progress pg;
	int r;

	memset(res, 0, sizeof(*res));
	r = open_both(cfg, v, &cl, &c, err, errlen);
	if (r)
		goto out;
	n = (c.size + c.rsz - 1) / c.rsz;
	res->regions = n;
	res->bytes = c.size;
	if (o->progress)
		progress_start(&pg, "verify", c.size);
	for (i = 0; i < n; i++) {
		r = compare(&c, i, err, errlen);
		if (r < 0)
			goto out;
		if (r) {
			uint64_t *d = realloc(diff, (ndiff + 1) * sizeof(*diff));

			if (!d) {
				r = -ENOMEM;
				goto out;
			}
			diff = d;
			diff[ndiff++] = i;
		}
		if (o->progress)
			progress_update(&pg, (i + 1) * c.rsz > c.size ? c.size : (i + 1) * c.rsz);
	}
	if (o->progress)
		progress_end(&pg);
	/* give in-flight writes time to reach the replica, then look again */
	for (p = 0; p < passes && ndiff; p++) {
		uint64_t kept = 0;

		usleep((o->settle_ms ? o->settle_ms : 1000) * 1000);
		for (i = 0; i < ndiff; i++) {
			r = compare(&c, diff[i], err, errlen);
			if (r < 0)
				goto out;
			if (r)
				diff[kept++] = diff[i];
		}
		ndiff = kept;
	}
	for (i = 0; i < ndiff; i++)
		if (o->diff_cb)
			o->diff_cb(o->arg, diff[i], diff[i] * c.rsz, c.rsz);
	res->differing = ndiff;
	r = 0;
out:
	free(diff);
	free(c.a);
	free(c.b);
	if (c.img)
		rbd_close(c.img);
	if (c.fd >= 0)
		close(c.fd);
	cdp_cluster_close(&cl);
	return r;
}
