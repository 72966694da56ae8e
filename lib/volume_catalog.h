/* SPDX-License-Identifier: GPL-2.0 */
/*
 * volume_catalog.h - the protected volumes in the catalog (table volumes).
 *
 * A volume's name is also the dm-cdp <volume_id> of its table and the key
 * cdpd uses to find the RBD image for the stream it attaches to.
 */
#ifndef CDP_VOLUME_CATALOG_H
#define CDP_VOLUME_CATALOG_H

#include <limits.h>
#include <stdint.h>
#include "catalog.h"

struct cat_volume {
	int64_t id;
	char name[64];
	char device[PATH_MAX];		/* origin block device */
	char meta_device[PATH_MAX];
	char dm_name[128];		/* /dev/mapper/<dm_name> */
	char pool[128];
	char image[128];
	char mode[8];			/* async|sync */
	char state[16];			/* protected|unprotected|external */
	int64_t created_at;
};

/* Insert; sets v->id. -EEXIST when the name or the image is taken. */
int volume_catalog_add(struct catalog *c, struct cat_volume *v);
/*
 * Insert, in one transaction; a row of the same name that is unprotected
 * is renamed NAME.ID (kept while snapshots refer to it) and its policies
 * and groups move to the new row. -EEXIST when the name is protected.
 */
int volume_catalog_add_replacing(struct catalog *c, struct cat_volume *v);
/* By name. -ENOENT when absent. */
int volume_catalog_get(struct catalog *c, const char *name, struct cat_volume *v);
/* By RBD image. -ENOENT when absent. */
int volume_catalog_get_image(struct catalog *c, const char *pool,
			     const char *image, struct cat_volume *v);
/* Every volume in name order; a non-zero return of @cb stops and is returned. */
int volume_catalog_list(struct catalog *c,
			int (*cb)(const struct cat_volume *v, void *arg), void *arg);
int volume_catalog_set_state(struct catalog *c, int64_t id, const char *state);
int volume_catalog_set_mode(struct catalog *c, int64_t id, const char *mode);
int volume_catalog_delete(struct catalog *c, int64_t id);

#endif
