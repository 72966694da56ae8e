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

struct catalog;
/*
 * Re-publish the archived snapshot's catalog record (ceph_catalog.h) so it
 * carries the disc labels: after `catalog sync` on another host, `snap list`
 * shows the snapshot (an archived stub once the RBD snapshot is gone) with
 * its discs. A snapshot whose volume is not in the catalog is skipped.
 */
int archive_ceph_publish_snapshot(struct catalog *cat, const struct archive_plan *p,
				  char *err, size_t errlen);

/*
 * The archives of IMAGE@SNAP recorded in pool: cb(arg, id, value) for each
 * index entry, value as written above. For a host whose catalog does not
 * know them (yet). Returns the number found or -errno.
 */
typedef void (*archive_ceph_fn)(void *arg, const char *id, const char *value);
int archive_ceph_lookup(const char *pool, const char *image_snap,
			archive_ceph_fn cb, void *arg, char *err, size_t errlen);

/*
 * Import into cat every archive recorded in any pool's cdp_archives index
 * that cat does not have (archive, good discs, chunks; volume and snapshot
 * rows when missing), one transaction per archive: call it outside a
 * transaction, e.g. right after ceph_catalog_sync(). *added counts them;
 * an unreadable record is skipped and counted in *bad.
 */
int archive_ceph_sync(struct catalog *cat, unsigned int *added, unsigned int *bad,
		      char *err, size_t errlen);

#endif
