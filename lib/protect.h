/* SPDX-License-Identifier: GPL-2.0 */
/*
 * protect.h - put a block device under dm-cdp and take it out again.
 *
 * protect: metadata device (a given one, or a file under state_dir/meta on
 * a loop device), RBD image of the origin's size, dm device cdp-<name>
 * (or, live, the cdp target slid under an existing dm device by
 * reload + suspend/resume), catalog row. Every step is undone when a later
 * one fails, so a failed protect leaves nothing behind.
 */
#ifndef CDP_PROTECT_H
#define CDP_PROTECT_H

#include <stddef.h>
#include "catalog.h"
#include "config.h"
#include "volume_catalog.h"

struct protect_req {
	const char *device;	/* origin block device; with live: the dm device */
	const char *name;	/* volume name; NULL: the image name */
	const char *image;	/* POOL/IMAGE or IMAGE (config pool) */
	const char *meta;	/* metadata device; NULL: file-backed, made here */
	int sync;
	int live;
	unsigned int queue_mb, region_kb;	/* 0: config defaults */
	unsigned int sync_timeout_ms;		/* 0: kernel default */
	int on_timeout_error;			/* on_sync_timeout error (else degrade) */
};

int cdp_protect(const struct cdp_config *cfg, struct catalog *cat,
		const struct protect_req *rq, struct cat_volume *out,
		char *err, size_t errlen);

/* Remove the target (live: restore the original table); keep the image unless @delete_image. */
int cdp_unprotect(const struct cdp_config *cfg, struct catalog *cat,
		  const char *name, int delete_image, char *err, size_t errlen);

/* Recreate the dm device of a protected volume (after a reboot). */
int cdp_activate(const struct cdp_config *cfg, struct catalog *cat,
		 const struct cat_volume *v, char *err, size_t errlen);

/* The dm device name a volume's stream lives on. */
void cdp_dm_name(const struct cat_volume *v, char *buf, size_t len);

#endif
