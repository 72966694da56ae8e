// SPDX-License-Identifier: GPL-2.0
/* snap_rbd.c - see snap_rbd.h */
#include "snap_rbd.h"
#include "ceph_conn.h"
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void snap_rbd_env(void)
{
	struct cdp_config cfg;
	char err[256], args[PATH_MAX + 32];

	if (getenv("CEPH_CONF"))
		return;
	cdp_config_defaults(&cfg);
	if (cdp_config_load(NULL, &cfg, err, sizeof(err)))
		return;
	if (cfg.ceph_conf[0] && !access(cfg.ceph_conf, R_OK))
		setenv("CEPH_CONF", cfg.ceph_conf, 0);
	if (cfg.keyring[0] && !getenv("CEPH_ARGS")) {
		snprintf(args, sizeof(args), "--keyring %s", cfg.keyring);
		setenv("CEPH_ARGS", args, 0);
	}
}

int snap_rbd_open_pool(struct snap_rbd *s, const char *pool, char *err, size_t errlen)
{
	int r;

	memset(s, 0, sizeof(*s));
	snprintf(s->pool, sizeof(s->pool), "%s", pool);
	snap_rbd_env();
	r = cdp_ceph_connect(&s->cluster, err, errlen);
	if (r)
		return r;
	r = cdp_ceph_ioctx(s->cluster, pool, &s->io, err, errlen);
	if (r) {
		rados_shutdown(s->cluster);
		s->cluster = NULL;
	}
	return r;
}

int snap_rbd_open(struct snap_rbd *s, const char *pool, const char *image,
		  char *err, size_t errlen)
{
	int r = snap_rbd_open_pool(s, pool, err, errlen);

	if (r)
		return r;
	snprintf(s->image, sizeof(s->image), "%s", image);
	r = rbd_open(s->io, image, &s->img, NULL);
	if (r < 0) {
		snprintf(err, errlen, "cannot open RBD image %s/%s: %s%s", pool, image, strerror(-r),
			 r == -ENOENT ? " (check the name with `rbd ls`)" : "");
		s->img = NULL;
		snap_rbd_close(s);
	}
	return r;
}

void snap_rbd_close(struct snap_rbd *s)
{
	if (s->img)
		rbd_close(s->img);
	if (s->io)
		rados_ioctx_destroy(s->io);
	if (s->cluster)
		rados_shutdown(s->cluster);
	s->img = NULL;
	s->io = NULL;
	s->cluster = NULL;
}

/* The user snapshots of the image; caller frees with rbd_snap_list_end + free. */
static rbd_snap_info_t *list_snaps(rbd_image_t img, int *n)
{
	int max = 64, r;
	rbd_snap_info_t *v;

	for (;;) {
		v = calloc(max, sizeof(*v));
		if (!v)
			return NULL;
		r = rbd_snap_list(img, v, &max);
		if (r >= 0) {
			*n = r;
			return v;
		}
		free(v);
		if (r != -ERANGE)
			return NULL;
	}
}

int snap_rbd_stat(struct snap_rbd *s, const char *snap, time_t *when, int *protect,
		  uint64_t *size)
{
	rbd_snap_info_t *v;
	int i, n, r = -ENOENT;

	v = list_snaps(s->img, &n);
	if (!v)
		return -EIO;
	for (i = 0; i < n; i++) {
		struct timespec ts;

		if (strcmp(v[i].name, snap))
			continue;
		if (when)
			*when = rbd_snap_get_timestamp(s->img, v[i].id, &ts) ? 0 : ts.tv_sec;
		if (size)
			*size = v[i].size;
		r = 0;
		if (protect) {
			int p = 0;

			rbd_snap_is_protected(s->img, snap, &p);
			*protect = p;
		}
		break;
	}
	rbd_snap_list_end(v);
	free(v);
	return r;
}

int snap_rbd_newest(struct snap_rbd *s, char *buf, size_t len, time_t *when)
{
	rbd_snap_info_t *v;
	uint64_t best = 0;
	int i, n, r = -ENOENT;

	v = list_snaps(s->img, &n);
	if (!v)
		return -EIO;
	/* snapshot ids grow with creation: the largest id is the newest */
	for (i = 0; i < n; i++) {
		if (v[i].id >= best) {
			struct timespec ts;

			best = v[i].id;
			snprintf(buf, len, "%s", v[i].name);
			if (when)
				*when = rbd_snap_get_timestamp(s->img, v[i].id, &ts) ? 0 : ts.tv_sec;
			r = 0;
		}
	}
	rbd_snap_list_end(v);
	free(v);
	return r;
}

/* Clones of the snapshot; *n set. NULL on error (r in *n as -errno). */
static rbd_linked_image_spec_t *children(struct snap_rbd *s, const char *snap, size_t *n)
{
	rbd_linked_image_spec_t *v = NULL;
	size_t max = 16;
	int r;

	r = rbd_snap_set(s->img, snap);
	if (r < 0) {
		*n = (size_t)r;
		return NULL;
	}
	for (;;) {
		v = calloc(max, sizeof(*v));
		if (!v) {
			r = -ENOMEM;
			break;
		}
		r = rbd_list_children3(s->img, v, &max);
		if (r != -ERANGE)
			break;
		free(v);
		v = NULL;
	}
	rbd_snap_set(s->img, NULL);
	if (r < 0) {
		free(v);
		*n = (size_t)r;
		return NULL;
	}
	*n = max;
	return v;
}

static void free_children(rbd_linked_image_spec_t *v, size_t n)
{
	rbd_linked_image_spec_list_cleanup(v, n);
	free(v);
}

int snap_rbd_children(struct snap_rbd *s, const char *snap, char *buf, size_t len)
{
	rbd_linked_image_spec_t *v;
	size_t i, n, o = 0;

	buf[0] = '\0';
	v = children(s, snap, &n);
	if (!v)
		return (int)n;
	for (i = 0; i < n && o < len; i++)
		o += snprintf(buf + o, len - o, "%s%s/%s%s", i ? " " : "", v[i].pool_name,
			      v[i].image_name, v[i].trash ? "(trash)" : "");
	free_children(v, n);
	return (int)n;
}

static int flatten_one(struct snap_rbd *s, const rbd_linked_image_spec_t *c,
		       char *err, size_t errlen)
{
	rados_ioctx_t io;
	rbd_image_t img;
	int r;

	r = rados_ioctx_create(s->cluster, c->pool_name, &io);
	if (r < 0)
		goto fail;
	r = rbd_open(io, c->image_name, &img, NULL);
	if (r >= 0) {
		r = rbd_flatten(img);
		rbd_close(img);
	}
	rados_ioctx_destroy(io);
	if (r >= 0)
		return 0;
fail:
	snprintf(err, errlen, "cannot flatten clone %s/%s: %s", c->pool_name, c->image_name,
		 strerror(-r));
	return r;
}

int snap_rbd_delete(struct snap_rbd *s, const char *snap, int flatten_children,
		    char *err, size_t errlen)
{
	rbd_linked_image_spec_t *v;
	size_t i, n;
	int r, prot = 0;

	if (snap_rbd_stat(s, snap, NULL, &prot, NULL)) {
		snprintf(err, errlen, "RBD snapshot %s/%s@%s does not exist", s->pool, s->image, snap);
		return -ENOENT;
	}
	v = children(s, snap, &n);
	if (!v) {
		snprintf(err, errlen, "cannot list the clones of %s/%s@%s: %s", s->pool, s->image,
			 snap, strerror(-(int)n));
		return (int)n;
	}
	if (n && !flatten_children) {
		char list[1024];

		snap_rbd_children(s, snap, list, sizeof(list));
		snprintf(err, errlen, "snapshot %s/%s@%s has %zu clone(s): %s; remove them (`rbd rm`) or pass --force-children to flatten them (they keep their data) before the snapshot is deleted",
			 s->pool, s->image, snap, n, list);
		free_children(v, n);
		return -EBUSY;
	}
	for (i = 0, r = 0; i < n && !r; i++)
		if (!v[i].trash)
			r = flatten_one(s, &v[i], err, errlen);
	free_children(v, n);
	if (r)
		return r;
	if (prot) {
		r = rbd_snap_unprotect(s->img, snap);
		if (r < 0) {
			snprintf(err, errlen, "cannot unprotect %s/%s@%s: %s%s", s->pool, s->image, snap,
				 strerror(-r), r == -EBUSY ? " (a clone still uses it, maybe in the trash: `rbd trash ls`)" : "");
			return r;
		}
	}
	r = rbd_snap_remove(s->img, snap);
	if (r < 0)
		snprintf(err, errlen, "cannot remove %s/%s@%s: %s", s->pool, s->image, snap, strerror(-r));
	return r < 0 ? r : 0;
}
