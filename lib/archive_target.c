// SPDX-License-Identifier: GPL-2.0
/* archive_target.c - see archive_target.h */
#include "archive_target.h"
#include "archive.h"
#include "ceph_conn.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <rbd/librbd.h>

#define PARTIAL ".partial"

struct archive_target {
	int fd;
	rados_t cluster;
	rados_ioctx_t io;
	rbd_image_t rbd;
	char pool[ARCHIVE_NAME_MAX];
	char final[PATH_MAX];
	char partial[PATH_MAX + sizeof(PARTIAL)];
	char shown[PATH_MAX * 2 + 16];	/* for messages: pool/image or path */
};

static int is_file_spec(const char *spec)
{
	return spec[0] == '/' || !strncmp(spec, "./", 2) || !strncmp(spec, "file:", 5);
}

static int file_open(struct archive_target *t, const char *path, uint64_t size,
		     char *err, size_t errlen)
{
	struct stat st;

	snprintf(t->final, sizeof(t->final), "%s", path);
	snprintf(t->partial, sizeof(t->partial), "%s" PARTIAL, path);
	snprintf(t->shown, sizeof(t->shown), "%s", t->partial);
	if (!stat(path, &st)) {
		snprintf(err, errlen, "target %s exists: restore never overwrites; remove it or choose another --to",
			 path);
		return -EEXIST;
	}
	/* a .partial is a leftover of a failed restore of ours: start over */
	t->fd = open(t->partial, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (t->fd < 0 || ftruncate(t->fd, (off_t)size)) {
		snprintf(err, errlen, "cannot create %s: %s", t->partial, strerror(errno));
		return -errno;
	}
	return 0;
}

static int rbd_target_open(struct archive_target *t, const char *spec,
			   uint64_t size, char *err, size_t errlen)
{
	const char *slash = strchr(spec, '/');
	rbd_image_t probe;
	int order = 0, ret;

	if (!slash || slash == spec || !slash[1] || strchr(slash + 1, '/') ||
	    strchr(spec, '@') || (size_t)(slash - spec) >= sizeof(t->pool)) {
		snprintf(err, errlen, "target \"%s\" is neither POOL/IMAGE nor a file path (start files with / or ./)",
			 spec);
		return -EINVAL;
	}
	snprintf(t->pool, sizeof(t->pool), "%.*s", (int)(slash - spec), spec);
	snprintf(t->final, sizeof(t->final), "%s", slash + 1);
	snprintf(t->partial, sizeof(t->partial), "%s" PARTIAL, slash + 1);
	snprintf(t->shown, sizeof(t->shown), "%s/%s", t->pool, t->partial);
	ret = cdp_ceph_connect(&t->cluster, err, errlen);
	if (!ret)
		ret = cdp_ceph_ioctx(t->cluster, t->pool, &t->io, err, errlen);
	if (ret) {
		t->io = NULL;
		return ret;
	}
	if (!rbd_open_read_only(t->io, t->final, &probe, NULL)) {
		rbd_close(probe);
		snprintf(err, errlen, "RBD image %s exists: restore never overwrites; choose another --to",
			 spec);
		return -EEXIST;
	}
	rbd_remove(t->io, t->partial);	/* leftover of a failed restore */
	ret = rbd_create(t->io, t->partial, size, &order);
	if (!ret)
		ret = rbd_open(t->io, t->partial, &t->rbd, NULL);
	if (ret) {
		t->rbd = NULL;
		snprintf(err, errlen, "cannot create RBD image %s: %s", t->shown, strerror(-ret));
	}
	return ret;
}

int archive_target_open(const char *spec, uint64_t size,
			struct archive_target **out, char *err, size_t errlen)
{
	struct archive_target *t = calloc(1, sizeof(*t));
	int ret;

	*out = NULL;
	if (!t)
		return -ENOMEM;
	t->fd = -1;
	if (is_file_spec(spec))
		ret = file_open(t, strncmp(spec, "file:", 5) ? spec : spec + 5, size,
				err, errlen);
	else
		ret = rbd_target_open(t, spec, size, err, errlen);
	if (ret) {
		archive_target_close(t);
		return ret;
	}
	*out = t;
	return 0;
}

int archive_target_write(struct archive_target *t, uint64_t off,
			 const void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t r = t->rbd ?
			rbd_write(t->rbd, off + done, len - done, (const char *)buf + done) :
			pwrite(t->fd, (const char *)buf + done, len - done, (off_t)(off + done));

		if (r < 0)
			return t->rbd ? (int)r : -errno;
		if (r == 0)
			return -EIO;
		done += (size_t)r;
	}
	return 0;
}

int archive_target_read(struct archive_target *t, uint64_t off, void *buf,
			size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t r = t->rbd ?
			rbd_read(t->rbd, off + done, len - done, (char *)buf + done) :
			pread(t->fd, (char *)buf + done, len - done, (off_t)(off + done));

		if (r < 0)
			return t->rbd ? (int)r : -errno;
		if (r == 0)
			return -EIO;
		done += (size_t)r;
	}
	return 0;
}

int archive_target_commit(struct archive_target *t, char *err, size_t errlen)
{
	int ret;

	if (t->rbd) {
		ret = rbd_flush(t->rbd);
		rbd_close(t->rbd);
		t->rbd = NULL;
		if (!ret)
			ret = rbd_rename(t->io, t->partial, t->final);
	} else {
		ret = fsync(t->fd) || rename(t->partial, t->final) ? -errno : 0;
	}
	if (ret) {
		snprintf(err, errlen, "cannot finish %s: %s", t->shown, strerror(-ret));
		return ret;
	}
	if (t->rbd || t->io)
		snprintf(t->shown, sizeof(t->shown), "%s/%s", t->pool, t->final);
	else
		snprintf(t->shown, sizeof(t->shown), "%s", t->final);
	return 0;
}

const char *archive_target_name(const struct archive_target *t)
{
	return t->shown;
}

void archive_target_close(struct archive_target *t)
{
	if (!t)
		return;
	if (t->rbd)
		rbd_close(t->rbd);
	if (t->io)
		rados_ioctx_destroy(t->io);
	if (t->cluster)
		rados_shutdown(t->cluster);
	if (t->fd >= 0)
		close(t->fd);
	free(t);
}
