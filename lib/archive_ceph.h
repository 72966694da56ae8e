/* SPDX-License-Identifier: GPL-2.0 */
/*
 * archive_ceph.h - the archive record kept in Ceph, so another host (with
 * only the cluster's config) finds which discs hold which snapshot:
 *
 *   object "cdp_archive.<id>" in the image's pool: the full manifest
 *     (every disc's chunks, pieces and hashes; manifest format, this_disc 0)
 *   object "cdp_archives" omap: key "<image>@<snap>/<id>",
 *     value "state=complete discs=L1,L2 created=<unix> sha256=<image hash>"
 *
 * `cdpctl catalog sync` reads these back (archive_manifest_parse).
 */
#ifndef CDP_ARCHIVE_CEPH_H
#define CDP_ARCHIVE_CEPH_H

#include "archive.h"

#define ARCHIVE_CEPH_INDEX	"cdp_archives"
#define ARCHIVE_CEPH_PREFIX	"cdp_archive."

int archive_ceph_record(const struct archive_plan *p, char *err, size_t errlen);

/*
 * The archives of IMAGE@SNAP recorded in pool: cb(arg, id, value) for each
 * index entry, value as written above. For a host whose catalog does not
 * know them (yet). Returns the number found or -errno.
 */
typedef void (*archive_ceph_fn)(void *arg, const char *id, const char *value);
int archive_ceph_lookup(const char *pool, const char *image_snap,
			archive_ceph_fn cb, void *arg, char *err, size_t errlen);

#endif
