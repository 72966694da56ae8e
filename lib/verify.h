/* SPDX-License-Identifier: GPL-2.0 */
/*
 * verify.h - compare a protected volume with its replica, region by region.
 *
 * Reads the protected device (what the application sees) and the RBD image
 * and compares each region. Writes that land while verify runs make
 * regions differ for a moment, so differing regions are re-read after
 * @settle_ms (up to @passes times) before they are reported: a region is
 * reported only if it still differs once the stream had time to catch up.
 */
#ifndef CDP_VERIFY_H
#define CDP_VERIFY_H

#include <stdint.h>
#include "config.h"
#include "volume_catalog.h"

struct verify_opts {
	uint64_t region_bytes;		/* 0: 1 MiB */
	unsigned int passes;		/* re-checks of differing regions; 0: 3 */
	unsigned int settle_ms;		/* wait before a re-check; 0: 1000 */
	/* each region that still differs after the last pass */
	void (*diff_cb)(void *arg, uint64_t region, uint64_t offset, uint64_t len);
	void *arg;
	int progress;			/* draw a progress bar (on a tty) */
};

struct verify_result {
	uint64_t regions, differing, bytes;
};

int cdp_verify(const struct cdp_config *cfg, const struct cat_volume *v,
	       const struct verify_opts *o, struct verify_result *res,
	       char *err, size_t errlen);

#endif
