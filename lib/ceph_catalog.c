// SPDX-License-Identifier: GPL-2.0
/* ceph_catalog.c - see ceph_catalog.h */
#include "ceph_catalog.h"
#include "ceph_conn.h"
#include "snap_rbd.h"
#include "snap_record.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <rados/librados.h>
#include <rbd/librbd.h>

#define REC_MAX	4096

static int open_pool(rados_t *cl, rados_ioctx_t *io, const char *pool, char *err, size_t errlen)
{
	int r;

	snap_rbd_env();
	r = cdp_ceph_connect(cl, err, errlen);
	if (r)
		return r;
	r = cdp_ceph_ioctx(*cl, pool, io, err, errlen);
	if (r)
		rados_shutdown(*cl);
	return r;
}

static int omap_set(rados_ioctx_t io, const char *oid, const char *key, const char *val)
{
	rados_write_op_t op = rados_create_write_op();
	const char *keys[] = { key };
	const char *vals[] = { val };
	const size_t klens[] = { strlen(key) };
	const size_t vlens[] = { strlen(val) };
	int r;

	rados_write_op_omap_set2(op, keys, vals, klens, vlens, 1);
	r = rados_write_op_operate(op, io, oid, NULL, 0);
	rados_release_write_op(op);
	return r;
}

/* Both records with an open pool. */
static int put_snap_io(rados_ioctx_t io, const struct cat_volume *v, const struct snap_row *r,
		       char *err, size_t errlen)
{
	char vrec[REC_MAX], srec[REC_MAX], oid[128], key[160];
	int ret;

	if (volume_record_encode(v, vrec, sizeof(vrec)) || snap_record_encode(r, srec, sizeof(srec))) {
		snprintf(err, errlen, "snapshot record of %s@%s too long", v->name, r->name);
		return -ENOSPC;
	}
	snprintf(oid, sizeof(oid), CEPH_CATALOG_VOLUME "%s", v->name);
	snprintf(key, sizeof(key), CEPH_CATALOG_SNAPKEY "%s", r->name);
	ret = omap_set(io, CEPH_CATALOG_INDEX, v->name, vrec);
	if (ret >= 0)
		ret = omap_set(io, oid, key, srec);
	if (ret < 0)
		snprintf(err, errlen, "cannot write the catalog record of %s@%s to pool %s: %s",
			 v->name, r->name, v->pool, strerror(-ret));
	return ret < 0 ? ret : 0;
}

int ceph_catalog_put_snap(const struct cat_volume *v, const struct snap_row *r,
			  char *err, size_t errlen)
{
	rados_t cl;
	rados_ioctx_t io;
	int ret = open_pool(&cl, &io, v->pool, err, errlen);

	if (ret)
		return ret;
	ret = put_snap_io(io, v, r, err, errlen);
	rados_ioctx_destroy(io);
	rados_shutdown(cl);
	return ret;
}

int ceph_catalog_del_snap(const struct cat_volume *v, const char *snap,
			  char *err, size_t errlen)
{
	char oid[128], key[160];
	rados_write_op_t op;
	rados_t cl;
	rados_ioctx_t io;
	int ret = open_pool(&cl, &io, v->pool, err, errlen);

	if (ret)
		return ret;
	snprintf(oid, sizeof(oid), CEPH_CATALOG_VOLUME "%s", v->name);
	snprintf(key, sizeof(key), CEPH_CATALOG_SNAPKEY "%s", snap);
	{
		const char *keys[] = { key };
		const size_t lens[] = { strlen(key) };

		op = rados_create_write_op();
		rados_write_op_omap_rm_keys2(op, keys, lens, 1);
		ret = rados_write_op_operate(op, io, oid, NULL, 0);
		rados_release_write_op(op);
	}
	if (ret == -ENOENT)
		ret = 0;
	if (ret < 0)
		snprintf(err, errlen, "cannot remove record %s of %s/%s: %s", key, v->pool, oid,
			 strerror(-ret));
	rados_ioctx_destroy(io);
	rados_shutdown(cl);
	return ret < 0 ? ret : 0;
}

/*---- sync ---------------------------------------------------------------*/

/* Call cb(key, value) for each omap entry of oid; -ENOENT if no object. */
static int omap_each(rados_ioctx_t io, const char *oid,
		     int (*cb)(const char *key, const char *val, void *arg), void *arg)
{
	char after[512] = "";
	unsigned char more = 1;
	int r = 0;

	while (more && !r) {
		rados_read_op_t op = rados_create_read_op();
		rados_omap_iter_t it;
		int prval = 0;
		char *k, *v;
		size_t kl, vl;

		rados_read_op_omap_get_vals2(op, after, "", 256, &it, &more, &prval);
		r = rados_read_op_operate(op, io, oid, 0);
		if (r >= 0)
			r = prval;
		if (r < 0) {
			rados_release_read_op(op);
			return r;
		}
		while (!r && !rados_omap_get_next2(it, &k, &v, &kl, &vl) && k) {
			char key[512], *val = malloc(vl + 1);

			if (!val) {
				r = -ENOMEM;
				break;
			}
			snprintf(key, sizeof(key), "%.*s", (int)kl, k);
			memcpy(val, v, vl);
			val[vl] = '\0';
			r = cb(key, val, arg);
			free(val);
			snprintf(after, sizeof(after), "%s", key);
		}
		rados_omap_get_end(it);
		rados_release_read_op(op);
	}
	return r;
}

struct sync_ctx {
	struct catalog *cat;
	rados_ioctx_t io;
	const char *pool;
	struct cat_volume vol;
	rbd_image_t img;		/* the volume's image, NULL if gone */
	struct ceph_sync_stats *st;
	char *err;
	size_t errlen;
};

static int sync_snap(const char *key, const char *val, void *arg)
{
	struct sync_ctx *x = arg;
	struct snap_row r;
	bool exists = false;

	if (strncmp(key, CEPH_CATALOG_SNAPKEY, strlen(CEPH_CATALOG_SNAPKEY)) ||
	    snap_record_decode(val, &r))
		return 0;	/* not ours or unreadable: skip, never abort a sync */
	if (x->img)
		rbd_snap_exists(x->img, r.name, &exists);
	if (!exists) {
		if (!r.discs[0]) {
			x->st->stale++;
			return 0;
		}
		strcpy(r.state, "archived");
	} else {
		strcpy(r.state, "live");
	}
	snprintf(r.volume, sizeof(r.volume), "%s", x->vol.name);
	if (snap_catalog_record(x->cat, &r)) {
		snprintf(x->err, x->errlen, "%s", catalog_errmsg(x->cat));
		return -EIO;
	}
	x->st->snaps++;
	return 0;
}

static int sync_volume(const char *key, const char *val, void *arg)
{
	struct sync_ctx *x = arg;
	struct cat_volume have;
	char oid[128];
	int r;

	if (volume_record_decode(val, &x->vol))
		return 0;
	if (volume_catalog_get(x->cat, x->vol.name, &have)) {
		strcpy(x->vol.state, "external");	/* not protected on this host */
		if (volume_catalog_add(x->cat, &x->vol)) {
			snprintf(x->err, x->errlen, "cannot add volume %s: %s", x->vol.name,
				 catalog_errmsg(x->cat));
			return -EIO;
		}
	}
	x->st->volumes++;
	x->img = NULL;
	if (rbd_open_read_only(x->io, x->vol.image, &x->img, NULL) < 0)
		x->img = NULL;
	snprintf(oid, sizeof(oid), CEPH_CATALOG_VOLUME "%s", x->vol.name);
	r = omap_each(x->io, oid, sync_snap, x);
	if (x->img)
		rbd_close(x->img);
	return r == -ENOENT ? 0 : r;
}

int ceph_catalog_sync(struct catalog *cat, struct ceph_sync_stats *st,
		      char *err, size_t errlen)
{
	struct sync_ctx x = { .cat = cat, .st = st, .err = err, .errlen = errlen };
	char pools[8192];
	const char *p;
	rados_t cl;
	int r;

	memset(st, 0, sizeof(*st));
	err[0] = '\0';
	snap_rbd_env();
	r = cdp_ceph_connect(&cl, err, errlen);
	if (r)
		return r;
	r = rados_pool_list(cl, pools, sizeof(pools));
	if (r < 0 || r > (int)sizeof(pools)) {
		snprintf(err, errlen, "cannot list the Ceph pools: %s", r < 0 ? strerror(-r) : "too many");
		rados_shutdown(cl);
		return r < 0 ? r : -E2BIG;
	}
	r = catalog_begin(cat);
	for (p = pools; !r && *p; p += strlen(p) + 1) {
		if (rados_ioctx_create(cl, p, &x.io) < 0)
			continue;
		x.pool = p;
		r = omap_each(x.io, CEPH_CATALOG_INDEX, sync_volume, &x);
		if (r == -ENOENT)
			r = 0;
		else if (!r)
			st->pools++;
		rados_ioctx_destroy(x.io);
	}
	if (r) {
		catalog_rollback(cat);
		if (!err[0])
			snprintf(err, errlen, "reading the catalog records from Ceph: %s", strerror(-r));
	} else if (catalog_commit(cat)) {
		snprintf(err, errlen, "%s", catalog_errmsg(cat));
		r = -EIO;
	}
	rados_shutdown(cl);
	return r;
}

/*---- push ---------------------------------------------------------------*/

struct push_ctx {
	struct catalog *cat;
	struct ceph_sync_stats *st;
	char *err;
	size_t errlen;
};

static int push_one(const struct snap_row *r, void *arg)
{
	struct push_ctx *x = arg;
	struct cat_volume v;

	if (volume_catalog_get(x->cat, r->volume, &v))
		return 0;
	if (ceph_catalog_put_snap(&v, r, x->err, x->errlen))
		return -EIO;
	x->st->snaps++;
	return 0;
}

int ceph_catalog_push(struct catalog *cat, struct ceph_sync_stats *st,
		      char *err, size_t errlen)
{
	struct push_ctx x = { .cat = cat, .st = st, .err = err, .errlen = errlen };

	memset(st, 0, sizeof(*st));
	return snap_catalog_list(cat, NULL, 0, push_one, &x);
}
