/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ceph_catalog.h - the copy of the catalog that lives in Ceph, so a host
 * with only ceph.conf and a keyring can rebuild its catalog and restore
 * (DESIGN.md, Catalog). Layout, in the pool of each volume's image:
 *
 *   object "cdp_volumes"          omap: <volume name> -> volume record
 *   object "cdp_volume.<name>"    omap: "snap.<snapshot>" -> snapshot record
 *
 * Records are the text of snap_record.h. Archive disc labels are kept by
 * the archive code in "cdp_archives" (archive_ceph.h); sync reads their
 * labels from there too.
 */
#ifndef CDP_CEPH_CATALOG_H
#define CDP_CEPH_CATALOG_H

#include <stddef.h>
#include "catalog.h"
#include "snap_catalog.h"
#include "volume_catalog.h"

#define CEPH_CATALOG_INDEX	"cdp_volumes"
#define CEPH_CATALOG_VOLUME	"cdp_volume."
#define CEPH_CATALOG_SNAPKEY	"snap."

/* Write (or overwrite) the volume's record and one snapshot's record. */
int ceph_catalog_put_snap(const struct cat_volume *v, const struct snap_row *r,
			  char *err, size_t errlen);
/* Remove one snapshot's record (absent: not an error). */
int ceph_catalog_del_snap(const struct cat_volume *v, const char *snap,
			  char *err, size_t errlen);

struct ceph_sync_stats {
	unsigned int pools, volumes, snaps, stale;	/* stale: record without RBD snapshot */
};

/*
 * Rebuild the local catalog from every pool's records: volumes missing
 * here are added as 'external' (not protected on this host), snapshot
 * rows inserted or updated. A record whose RBD snapshot is gone becomes
 * 'archived' when it has disc labels, else it is skipped (stale).
 */
int ceph_catalog_sync(struct catalog *cat, struct ceph_sync_stats *st,
		      char *err, size_t errlen);

/* Write every live/archived snapshot of the local catalog to Ceph. */
int ceph_catalog_push(struct catalog *cat, struct ceph_sync_stats *st,
		      char *err, size_t errlen);

#endif
