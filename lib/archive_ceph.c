// SPDX-License-Identifier: GPL-2.0
/* archive_ceph.c - see archive_ceph.h */
#include "archive_ceph.h"
#include "archive_catalog.h"
#include "ceph_catalog.h"
#include "ceph_conn.h"
#include "snap_catalog.h"
#include "volume_catalog.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *index_value(const struct archive_plan *p, size_t *len)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);
	uint32_t i;

	if (!f)
		return NULL;
	fprintf(f, "state=complete discs=");
	for (i = 0; i < p->ndiscs; i++)
		fprintf(f, "%s%s", i ? "," : "", p->discs[i].label);
	fprintf(f, " created=%lld sha256=%s", (long long)p->created, p->image_sha256);
	if (fclose(f)) {
		free(buf);
		return NULL;
	}
	*len = size;
	return buf;
}

/* cb(arg, key, value) for each key of the index with that prefix. */
static int index_each(rados_ioctx_t io, const char *prefix,
		      void (*cb)(void *arg, const char *key, const char *val),
		      void *arg)
{
	char start[2 * ARCHIVE_NAME_MAX + ARCHIVE_ID_LEN + 8] = "";
	unsigned char more = 1;
	int ret = 0, found = 0;

	while (!ret && more) {
		rados_read_op_t op = rados_create_read_op();
		rados_omap_iter_t it = NULL;
		char *key, *val;
		size_t klen, vlen;
		int rval = 0;

		rados_read_op_omap_get_vals2(op, start, prefix, 256, &it, &more, &rval);
		ret = rados_read_op_operate(op, io, ARCHIVE_CEPH_INDEX, 0);
		if (!ret)
			ret = rval;
		while (!ret && !rados_omap_get_next2(it, &key, &val, &klen, &vlen) && key) {
			char k[sizeof(start)], v[1024];

			snprintf(k, sizeof(k), "%.*s", (int)klen, key);
			snprintf(v, sizeof(v), "%.*s", (int)vlen, val);
			snprintf(start, sizeof(start), "%s", k);
			cb(arg, k, v);
			found++;
		}
		if (it)
			rados_omap_get_end(it);
		rados_release_read_op(op);
	}
	if (ret == -ENOENT)		/* nothing archived from this pool */
		return 0;
	return ret < 0 ? ret : found;
}

struct lookup_ctx {
	size_t skip;			/* the "<image>@<snap>/" prefix */
	archive_ceph_fn cb;
	void *arg;
};

static void lookup_one(void *arg, const char *key, const char *val)
{
	struct lookup_ctx *x = arg;

	x->cb(x->arg, key + x->skip, val);
}

int archive_ceph_lookup(const char *pool, const char *image_snap,
			archive_ceph_fn cb, void *arg, char *err, size_t errlen)
{
	char prefix[2 * ARCHIVE_NAME_MAX + 4];
	struct lookup_ctx x = { .cb = cb, .arg = arg };
	rados_t cl = NULL;
	rados_ioctx_t io = NULL;
	int ret;

	ret = cdp_ceph_connect(&cl, err, errlen);
	if (ret)
		return ret;
	ret = cdp_ceph_ioctx(cl, pool, &io, err, errlen);
	if (!ret) {
		snprintf(prefix, sizeof(prefix), "%s/", image_snap);
		x.skip = strlen(prefix);
		ret = index_each(io, prefix, lookup_one, &x);
		if (ret < 0)
			snprintf(err, errlen, "cannot read Ceph object %s/%s: %s", pool,
				 ARCHIVE_CEPH_INDEX, strerror(-ret));
		rados_ioctx_destroy(io);
	}
	rados_shutdown(cl);
	return ret;
}

int archive_ceph_record(const struct archive_plan *p, char *err, size_t errlen)
{
	char oid[sizeof(ARCHIVE_CEPH_PREFIX) + ARCHIVE_ID_LEN];
	char key[2 * ARCHIVE_NAME_MAX + ARCHIVE_ID_LEN + 4];
	rados_t cl = NULL;
	rados_ioctx_t io = NULL;
	rados_write_op_t op;
	char *text = NULL, *val = NULL;
	size_t len, vlen;
	int ret;

	ret = cdp_ceph_connect(&cl, err, errlen);
	if (ret)
		return ret;
	ret = cdp_ceph_ioctx(cl, p->pool, &io, err, errlen);
	if (ret)
		goto out;
	text = archive_manifest_render(p, 0, &len);
	val = index_value(p, &vlen);
	if (!text || !val) {
		ret = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	snprintf(oid, sizeof(oid), ARCHIVE_CEPH_PREFIX "%s", p->id);
	ret = rados_write_full(io, oid, text, len);
	if (ret < 0) {
		snprintf(err, errlen, "cannot write Ceph object %s/%s: %s", p->pool,
			 oid, strerror(-ret));
		goto out;
	}
	snprintf(key, sizeof(key), "%s@%s/%s", p->image, p->snap, p->id);
	op = rados_create_write_op();
	{
		const char *keys[] = { key };
		const char *vals[] = { val };
		const size_t lens[] = { vlen };

		rados_write_op_omap_set(op, keys, vals, lens, 1);
		ret = rados_write_op_operate(op, io, ARCHIVE_CEPH_INDEX, NULL, 0);
	}
	rados_release_write_op(op);
	if (ret < 0)
		snprintf(err, errlen, "cannot update Ceph object %s/%s: %s", p->pool,
			 ARCHIVE_CEPH_INDEX, strerror(-ret));
out:
	free(text);
	free(val);
	if (io)
		rados_ioctx_destroy(io);
	rados_shutdown(cl);
	return ret < 0 ? ret : 0;
}

int archive_ceph_publish_snapshot(struct catalog *cat, const struct archive_plan *p,
				  char *err, size_t errlen)
{
	struct cat_volume v;
	struct snap_row r;

	if (volume_catalog_get_image(cat, p->pool, p->image, &v) ||
	    snap_catalog_get(cat, v.name, p->snap, &r))
		return 0;
	return ceph_catalog_put_snap(&v, &r, err, errlen);
}

struct sync_ctx {
	struct catalog *cat;
	rados_ioctx_t io;
	unsigned int added, bad;
	int ret;
	char *err;
	size_t errlen;
};

/* The full manifest of one archive, from its object. */
static int read_record(rados_ioctx_t io, const char *id, struct archive_plan *p)
{
	char oid[sizeof(ARCHIVE_CEPH_PREFIX) + ARCHIVE_ID_LEN + 1], err[256];
	uint64_t size;
	time_t mtime;
	char *buf;
	int ret;

	snprintf(oid, sizeof(oid), ARCHIVE_CEPH_PREFIX "%s", id);
	ret = rados_stat(io, oid, &size, &mtime);
	if (ret < 0)
		return ret;
	if (size > ARCHIVE_MANIFEST_MAX)
		return -EFBIG;
	buf = malloc(size + 1);
	if (!buf)
		return -ENOMEM;
	ret = rados_read(io, oid, buf, size, 0);
	if (ret >= 0)
		ret = archive_manifest_parse(buf, (size_t)ret, p, err, sizeof(err));
	free(buf);
	if (!ret && (p->this_disc || strcmp(p->id, id))) {
		archive_plan_free(p);
		ret = -EBADMSG;
	}
	return ret;
}

static void sync_one(void *arg, const char *key, const char *val)
{
	struct sync_ctx *x = arg;
	const char *id = strrchr(key, '/');
	struct archive_plan p;

	if (x->ret || !id || strlen(++id) != ARCHIVE_ID_LEN ||
	    archive_catalog_has(x->cat, id) != 0)
		return;
	if (read_record(x->io, id, &p)) {
		x->bad++;
		return;
	}
	x->ret = archive_catalog_record(x->cat, &p, "complete", NULL, NULL, 0,
					x->err, x->errlen);
	if (!x->ret)
		x->added++;
	archive_plan_free(&p);
}

int archive_ceph_sync(struct catalog *cat, unsigned int *added, unsigned int *bad,
		      char *err, size_t errlen)
{
	struct sync_ctx x = { .cat = cat, .err = err, .errlen = errlen };
	char pools[8192];
	const char *pool;
	rados_t cl;
	int ret;

	*added = *bad = 0;
	ret = cdp_ceph_connect(&cl, err, errlen);
	if (ret)
		return ret;
	ret = rados_pool_list(cl, pools, sizeof(pools));
	if (ret < 0 || ret > (int)sizeof(pools)) {
		snprintf(err, errlen, "cannot list the Ceph pools: %s",
			 ret < 0 ? strerror(-ret) : "too many");
		rados_shutdown(cl);
		return ret < 0 ? ret : -E2BIG;
	}
	ret = 0;
	for (pool = pools; !ret && *pool; pool += strlen(pool) + 1) {
		if (rados_ioctx_create(cl, pool, &x.io) < 0)
			continue;
		ret = index_each(x.io, "", sync_one, &x);
		if (ret < 0)
			snprintf(err, errlen, "cannot read Ceph object %s/%s: %s", pool,
				 ARCHIVE_CEPH_INDEX, strerror(-ret));
		else
			ret = x.ret;
		rados_ioctx_destroy(x.io);
	}
	rados_shutdown(cl);
	*added = x.added;
	*bad = x.bad;
	return ret;
}
