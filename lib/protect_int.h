/* SPDX-License-Identifier: GPL-2.0 */
/*
 * protect_int.h - what protect.c (plain devices) and protect_live.c (the
 * cdp target slid under a mounted dm/LVM device) share.
 */
#ifndef CDP_PROTECT_INT_H
#define CDP_PROTECT_INT_H

#include <stddef.h>
#include <stdint.h>
#include "dmdev.h"
#include "protect.h"

#define CDP_LIVE_COPY_PREFIX "cdp-origin-"

/* The cdp table line for @origin (a path or major:minor) and @meta. */
void protect_build_line(struct dm_line *l, uint64_t sectors, const char *origin,
			const char *meta, const char *name, const struct protect_req *rq,
			const struct cdp_config *cfg);

/* region_kb of the cdp metadata on @dev (its superblock), or 0. */
unsigned int protect_meta_region_kb(const char *dev);

/*
 * Live: copy @dm's table to cdp-origin-NAME and reload @dm with the cdp
 * target on the copy. @orig gets the table it had (to go back to), @origin
 * the copy's path. On failure @dm keeps (or is given back) its table.
 */
int live_switch(const char *dm, const char *name, const char *meta,
		const struct protect_req *rq, const struct cdp_config *cfg,
		struct dm_line *orig, char *origin, size_t olen, char *err, size_t errlen);
/* Undo a live_switch of this run: @dm back on @orig, the copy removed. */
void live_undo(const char *dm, const char *name, const struct dm_line *orig);
/* unprotect of a live volume: the device back on the copy's table. */
int live_unprotect(const struct cat_volume *v, char *err, size_t errlen);
/* activate of a live volume whose device lost the cdp target (a reboot). */
int live_activate(const struct cdp_config *cfg, const struct cat_volume *v,
		  const char *meta, char *err, size_t errlen);

#endif
