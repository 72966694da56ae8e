/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dm-cdp metadata: superblock + write-intent bitmap on the meta device.
 * Format: docs/metadata-format.md.
 *
 * Bitmaps: "bits" is the wanted on-disk state, "committed" what is known
 * to be durable. A write may be issued to the origin only when its region
 * is set in "committed". Setters and testers (the __ functions) only touch
 * memory; the caller holds its irq-safe spinlock (struct cdp.lock) and
 * they never block. cdp_meta_commit() and cdp_meta_write_sb() run on the
 * volume's ordered workqueue only: they share one image buffer.
 */
#ifndef DM_CDP_METADATA_H
#define DM_CDP_METADATA_H

#include <linux/device-mapper.h>

struct cdp_meta;

struct cdp_meta_geometry {
	const char *volume;
	sector_t origin_sectors;
	unsigned int region_shift;	/* log2(region sectors) */
	u32 nr_regions;
};

/*
 * Open the metadata on @dev: format it if the superblock block is all
 * zeroes (all regions dirty: full initial sync), else check magic,
 * checksum, version and geometry. Sleeps. On error *error is set to a
 * sentence for ti->error and an ERR_PTR is returned.
 */
struct cdp_meta *cdp_meta_open(struct dm_dev *dev,
			       const struct cdp_meta_geometry *geo,
			       bool *fresh, char **error);
void cdp_meta_close(struct cdp_meta *md);

/* Re-read the bitmap from disk (after a table reload). Sleeps. */
int cdp_meta_reload(struct cdp_meta *md);

/* Lock held. True if @region is durable; else mark it for the next commit. */
bool __cdp_meta_mark(struct cdp_meta *md, u32 region);
/* Lock held. Clear @region (lazily written by the next commit). */
void __cdp_meta_clear(struct cdp_meta *md, u32 region);
bool __cdp_meta_pending(struct cdp_meta *md);
const unsigned long *cdp_meta_bits(struct cdp_meta *md);
u64 __cdp_meta_dirty(struct cdp_meta *md);

/*
 * Worker only. Write every bitmap block changed since the last commit with
 * FUA and, when @sb is true or the clean flag must change, the superblock.
 * Takes @lock itself around the memory snapshot. Returns 0 or -errno.
 */
int cdp_meta_commit(struct cdp_meta *md, spinlock_t *lock, bool sb);

/* Set the sequence numbers and clean flag stored by the next superblock write. */
void cdp_meta_set_seqs(struct cdp_meta *md, u64 acked, u64 last);
int cdp_meta_write_sb(struct cdp_meta *md, bool clean);

u64 cdp_meta_generation(struct cdp_meta *md);
u64 cdp_meta_acked_seq(struct cdp_meta *md);
/* The acked seq of the superblock last written or read. */
u64 cdp_meta_sb_acked_seq(struct cdp_meta *md);
u64 cdp_meta_last_seq(struct cdp_meta *md);
u64 cdp_meta_writes(struct cdp_meta *md);

#endif /* DM_CDP_METADATA_H */
