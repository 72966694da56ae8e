/* SPDX-License-Identifier: GPL-2.0 */
/*
 * archive_source.h - what an archive reads: an RBD snapshot
 * ("POOL/IMAGE@SNAP", allocated extents from rbd_diff_iterate2) or, for
 * tests and benchmarks, a local file or block device ("file:PATH",
 * allocated extents from SEEK_DATA/SEEK_HOLE). The image must not change
 * while it is archived: RBD snapshots are read-only, files are the
 * caller's business.
 */
#ifndef CDP_ARCHIVE_SOURCE_H
#define CDP_ARCHIVE_SOURCE_H

#include "archive.h"

struct archive_source;

struct archive_source_info {
	const char *pool;	/* "" for a file */
	const char *image;	/* image name, or the file path */
	const char *snap;	/* "" for a file */
	uint64_t size;
	int64_t snap_time;	/* snapshot creation (file: mtime) */
};

int archive_source_open(const char *spec, struct archive_source **out,
			char *err, size_t errlen);
const struct archive_source_info *archive_source_info(const struct archive_source *s);
/* Allocated extents, sorted and merged; *ext is malloc()ed. */
int archive_source_extents(struct archive_source *s, struct archive_extent **ext,
			   size_t *n, char *err, size_t errlen);
/* Read exactly len bytes at off: 0 or -errno. */
int archive_source_read(struct archive_source *s, uint64_t off, void *buf,
			size_t len);
void archive_source_close(struct archive_source *s);

#endif
