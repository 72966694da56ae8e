// SPDX-License-Identifier: GPL-2.0
/* archive_ceph.c - see archive_ceph.h */
#include "archive_ceph.h"
#include "ceph_conn.h"

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

int archive_ceph_lookup(const char *pool, const char *image_snap,
			archive_ceph_fn cb, void *arg, char *err, size_t errlen)
{
	char prefix[2 * ARCHIVE_NAME_MAX + 4], start[sizeof(prefix) + ARCHIVE_ID_LEN + 1];
	rados_t cl = NULL;
	rados_ioctx_t io = NULL;
	unsigned char more = 1;
	int ret, found = 0;

	ret = cdp_ceph_connect(&cl, err, errlen);
	if (ret)
		return ret;
	ret = cdp_ceph_ioctx(cl, pool, &io, err, errlen);
	snprintf(prefix, sizeof(prefix), "%s/", image_snap);
	start[0] = '\0';
	while (!ret && more) {
		rados_read_op_t op = rados_create_read_op();
		rados_omap_iter_t it;
		char *key, *val;
		size_t klen, vlen;
		int rval = 0;

		rados_read_op_omap_get_vals2(op, start, prefix, 256, &it, &more, &rval);
		ret = rados_read_op_operate(op, io, ARCHIVE_CEPH_INDEX, 0);
		if (ret == -ENOENT) {		/* nothing archived from this pool */
			rados_release_read_op(op);
			ret = 0;
			break;
		}
		if (!ret)
			ret = rval;
		while (!ret && !rados_omap_get_next2(it, &key, &val, &klen, &vlen) && key) {
			char k[sizeof(start)], v[1024];

			snprintf(k, sizeof(k), "%.*s", (int)klen, key);
			snprintf(v, sizeof(v), "%.*s", (int)vlen, val);
			snprintf(start, sizeof(start), "%s", k);
			cb(arg, k + strlen(prefix), v);
			found++;
		}
		if (!ret)
			rados_omap_get_end(it);
		rados_release_read_op(op);
		if (ret)
			snprintf(err, errlen, "cannot read Ceph object %s/%s: %s", pool,
				 ARCHIVE_CEPH_INDEX, strerror(-ret));
	}
	if (io)
		rados_ioctx_destroy(io);
	rados_shutdown(cl);
	return ret < 0 ? ret : found;
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
