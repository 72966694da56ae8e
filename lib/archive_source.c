// SPDX-License-Identifier: GPL-2.0
/* archive_source.c - see archive_source.h */
#include "archive_source.h"
#include "ceph_conn.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <rbd/librbd.h>

struct archive_source {
	struct archive_source_info info;
	char pool[ARCHIVE_NAME_MAX], image[ARCHIVE_NAME_MAX], snap[ARCHIVE_NAME_MAX];
	int fd;				/* file source */
	rados_t cluster;		/* RBD source */
	rados_ioctx_t io;
	rbd_image_t rbd;
};

const struct archive_source_info *archive_source_info(const struct archive_source *s)
{
	return &s->info;
}

/* Extent list that merges touching neighbours as it grows. */
struct extent_list {
	struct archive_extent *v;
	size_t n, cap;
	int err;
};

static void extent_add(struct extent_list *l, uint64_t off, uint64_t len)
{
	if (!len || l->err)
		return;
	if (l->n && l->v[l->n - 1].off + l->v[l->n - 1].len == off) {
		l->v[l->n - 1].len += len;
		return;
	}
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 256;
		void *nv = realloc(l->v, cap * sizeof(*l->v));

		if (!nv) {
			l->err = -ENOMEM;
			return;
		}
		l->v = nv;
		l->cap = cap;
	}
	l->v[l->n++] = (struct archive_extent){ off, len };
}

/* ---- file:PATH ---- */

static int file_open(struct archive_source *s, const char *path, char *err,
		     size_t errlen)
{
	struct stat st;

	snprintf(s->image, sizeof(s->image), "%s", path);
	s->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (s->fd < 0 || fstat(s->fd, &st)) {
		snprintf(err, errlen, "cannot open source file %s: %s", path,
			 strerror(errno));
		return -errno;
	}
	if (S_ISBLK(st.st_mode)) {
		if (ioctl(s->fd, BLKGETSIZE64, &s->info.size)) {
			snprintf(err, errlen, "cannot get the size of %s: %s", path,
				 strerror(errno));
			return -errno;
		}
	} else if (S_ISREG(st.st_mode)) {
		s->info.size = (uint64_t)st.st_size;
	} else {
		snprintf(err, errlen, "source %s is neither a file nor a block device", path);
		return -EINVAL;
	}
	s->info.snap_time = st.st_mtime;
	posix_fadvise(s->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	return 0;
}

static int file_extents(struct archive_source *s, struct extent_list *l)
{
	off_t data = 0, hole;
	off_t end = (off_t)s->info.size;

	while (data < end) {
		data = lseek(s->fd, data, SEEK_DATA);
		if (data < 0) {
			if (errno == ENXIO)	/* only a hole is left */
				break;
			if (errno == EINVAL) {	/* no SEEK_DATA here: all data */
				extent_add(l, 0, s->info.size);
				break;
			}
			return -errno;
		}
		hole = lseek(s->fd, data, SEEK_HOLE);
		if (hole < 0)
			return -errno;
		if (hole > end)
			hole = end;
		extent_add(l, (uint64_t)data, (uint64_t)(hole - data));
		data = hole;
	}
	return l->err;
}

/* ---- POOL/IMAGE@SNAP ---- */

static int parse_rbd_spec(struct archive_source *s, const char *spec, char *err,
			  size_t errlen)
{
	const char *slash = strchr(spec, '/'), *at = strchr(spec, '@');

	if (!slash || !at || at < slash || slash == spec || at == slash + 1 ||
	    !at[1] || strchr(slash + 1, '/') ||
	    (size_t)(slash - spec) >= sizeof(s->pool) ||
	    (size_t)(at - slash - 1) >= sizeof(s->image) ||
	    strlen(at + 1) >= sizeof(s->snap)) {
		snprintf(err, errlen,
			 "source \"%s\" is not POOL/IMAGE@SNAP (or file:PATH): archives are made from a snapshot, never a live image",
			 spec);
		return -EINVAL;
	}
	snprintf(s->pool, sizeof(s->pool), "%.*s", (int)(slash - spec), spec);
	snprintf(s->image, sizeof(s->image), "%.*s", (int)(at - slash - 1), slash + 1);
	snprintf(s->snap, sizeof(s->snap), "%s", at + 1);
	return 0;
}

static int rbd_source_open(struct archive_source *s, const char *spec, char *err,
			   size_t errlen)
{
	uint64_t snap_id;
	struct timespec ts;
	int ret;

	ret = parse_rbd_spec(s, spec, err, errlen);
	if (ret)
		return ret;
	ret = cdp_ceph_connect(&s->cluster, err, errlen);
	if (ret)
		return ret;
	ret = cdp_ceph_ioctx(s->cluster, s->pool, &s->io, err, errlen);
	if (ret) {
		s->io = NULL;
		return ret;
	}
	ret = rbd_open_read_only(s->io, s->image, &s->rbd, s->snap);
	if (ret < 0) {
		s->rbd = NULL;
		snprintf(err, errlen, "cannot open RBD snapshot %s: %s%s", spec,
			 strerror(-ret),
			 ret == -ENOENT ? " (check with `rbd snap ls POOL/IMAGE`)" : "");
		return ret;
	}
	ret = rbd_get_size(s->rbd, &s->info.size);
	if (ret < 0) {
		snprintf(err, errlen, "cannot get the size of %s: %s", spec,
			 strerror(-ret));
		return ret;
	}
	if (!rbd_snap_get_id(s->rbd, s->snap, &snap_id) &&
	    !rbd_snap_get_timestamp(s->rbd, snap_id, &ts))
		s->info.snap_time = ts.tv_sec;
	return 0;
}

static int diff_cb(uint64_t off, size_t len, int exists, void *arg)
{
	if (exists)
		extent_add(arg, off, len);
	return ((struct extent_list *)arg)->err;
}

int archive_source_open(const char *spec, struct archive_source **out,
			char *err, size_t errlen)
{
	struct archive_source *s = calloc(1, sizeof(*s));
	int ret;

	*out = NULL;
	if (!s)
		return -ENOMEM;
	s->fd = -1;
	s->info.pool = s->pool;
	s->info.image = s->image;
	s->info.snap = s->snap;
	if (!strncmp(spec, "file:", 5))
		ret = file_open(s, spec + 5, err, errlen);
	else
		ret = rbd_source_open(s, spec, err, errlen);
	if (ret) {
		archive_source_close(s);
		return ret;
	}
	*out = s;
	return 0;
}

int archive_source_extents(struct archive_source *s, struct archive_extent **ext,
			   size_t *n, char *err, size_t errlen)
{
	struct extent_list l = { 0 };
	int ret;

	if (s->rbd)
		/* fromsnap NULL: everything allocated; include_parent 1: a
		 * clone's data lives partly in its parent */
		ret = rbd_diff_iterate2(s->rbd, NULL, 0, s->info.size, 1, 0,
					diff_cb, &l);
	else
		ret = file_extents(s, &l);
	if (ret < 0) {
		free(l.v);
		snprintf(err, errlen, "cannot list the allocated extents of %s: %s",
			 s->image, strerror(-ret));
		return ret;
	}
	*ext = l.v;
	*n = l.n;
	return 0;
}

int archive_source_read(struct archive_source *s, uint64_t off, void *buf,
			size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t r;

		if (s->rbd)
			r = rbd_read(s->rbd, off + done, len - done, (char *)buf + done);
		else
			r = pread(s->fd, (char *)buf + done, len - done,
				  (off_t)(off + done));
		if (r < 0)
			return s->rbd ? (int)r : -errno;
		if (r == 0)
			return -EIO;	/* short: the source shrank */
		done += (size_t)r;
	}
	return 0;
}

void archive_source_close(struct archive_source *s)
{
	if (!s)
		return;
	if (s->rbd)
		rbd_close(s->rbd);
	if (s->io)
		rados_ioctx_destroy(s->io);
	if (s->cluster)
		rados_shutdown(s->cluster);
	if (s->fd >= 0)
		close(s->fd);
	free(s);
}
