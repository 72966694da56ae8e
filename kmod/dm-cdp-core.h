/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dm-cdp internals shared by the target, write path, queue, metadata and
 * netlink files. See kmod/uapi/dm-cdp.h for the ABI.
 */
#ifndef DM_CDP_CORE_H
#define DM_CDP_CORE_H

#include <linux/device-mapper.h>
#include <linux/bio.h>
#include <linux/list.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>
#include <linux/wait.h>
#include "dm-cdp.h"

#define DM_MSG_PREFIX "cdp"

struct cdp_meta;

/* One captured record; lives on cdp->queue until acked. */
struct cdp_rec {
	struct list_head list;		/* cdp->queue (seq order) or private */
	u64 seq;
	u64 time_ns;
	sector_t sector;
	u32 len;			/* bytes */
	u32 flags;			/* CDP_REC_F_* */
	u32 region;			/* region ref held, CDP_NO_REGION if none */
	u8 op;				/* enum cdp_rec_op */
	struct cdp_io *sync_io;		/* sync mode: bio completed at ack */
	unsigned long sync_deadline;	/* jiffies */
	unsigned int nr_pages;
	struct page *pages[];		/* CDP_OP_WRITE payload */
};

#define CDP_NO_REGION U32_MAX

/* A sector range that excludes overlapping writes and resync reads. */
struct cdp_range {
	struct list_head list;		/* cdp->ranges */
	sector_t start, end;		/* [start, end) on the origin */
};

enum cdp_io_kind {
	CDP_IO_PASS,			/* read: remapped, nothing else */
	CDP_IO_FLUSH,			/* empty flush: FLUSH marker at end_io */
	CDP_IO_WRITE,			/* write/discard/write-zeroes */
	CDP_IO_DONE,			/* sync write already handled */
	CDP_IO_CLAIM,			/* a resync claim (struct cdp_resync) */
};

/* Per-bio data (ti->per_io_data_size). */
struct cdp_io {
	struct list_head list;		/* cdp->parked or cdp->deferred */
	struct cdp_range range;
	struct cdp *cdp;
	struct cdp_rec *rec;		/* captured payload, NULL = tracked */
	u32 region;
	u8 kind;
	u8 op;				/* enum cdp_rec_op */
	bool sync;			/* sync mode: own clone, record at issue */
	bool queued;			/* its record went in at issue */
	struct bio *clone;		/* sync: the origin write */
	atomic_t pending;		/* sync: origin write + ack (if awaited) */
	blk_status_t status;		/* sync: an error of either (last seen) */
};

struct cdp_event_slot {
	u32 event;
	u64 seq;
};

#define CDP_EVENT_RING 16
#define CDP_RESYNC_INFLIGHT 4
/* regions visited per hold of cdp->lock in whole-bitmap passes */
#define CDP_CLEAR_BATCH 4096

struct cdp {
	struct dm_target *ti;
	struct dm_dev *origin;
	struct dm_dev *meta_dev;
	char volume[CDP_VOLUME_ID_MAX + 1];
	u64 instance;			/* unique, names the volume in dumps */
	struct list_head vol_list;	/* cdp_vols, under cdp_vols_mutex */

	/* table options (READ_ONCE/WRITE_ONCE when changed by messages) */
	unsigned int mode;		/* enum cdp_mode */
	unsigned int queue_mb;
	unsigned int region_kb;
	unsigned int sync_timeout_ms;
	bool timeout_error;		/* on_sync_timeout error */
	unsigned int resync_mbps;	/* 0: unlimited */
	unsigned int resync_min_mbps;	/* while writes come in; 0: resync_mbps */
	unsigned int opt_mask;		/* which options the table gave */

	sector_t origin_sectors;	/* ti->len */
	unsigned int region_shift;	/* log2(region sectors) */
	u32 nr_regions;

	struct cdp_meta *md;
	struct workqueue_struct *wq;
	struct work_struct work;
	struct delayed_work tick;
	struct bio_set bs;
	wait_queue_head_t wait;		/* resync reads drained */
	/*
	 * FETCH copies queued payload without cdp->lock; this keeps ACK and
	 * teardown from freeing those records meanwhile. Per volume, so a
	 * copy never holds up MARK or another volume (dm-cdp-netlink.c).
	 */
	struct mutex fetch_mutex;

	/*
	 * Guards everything below, and the bitmaps inside md. Taken from
	 * end_io, which may run in interrupt context: always irqsave.
	 */
	spinlock_t lock;
	unsigned int state;		/* enum cdp_state */
	bool degraded;			/* sync mode fell back to async */
	bool suspending;		/* presuspend .. resume: no resync */
	bool meta_error;
	bool want_notify;		/* a FETCH found nothing: notify */
	unsigned long *resync;		/* regions to resync */
	unsigned long *touched;		/* written since last lazy-clear pass */
	u8 *idle;			/* lazy-clear passes without a write */
	u32 *refs;			/* in-flight writes + unacked records */
	struct list_head ranges;	/* struct cdp_range held */
	struct list_head parked;	/* cdp_io waiting for an overlap */
	struct list_head deferred;	/* cdp_io waiting for intent commit */
	struct list_head queue;		/* struct cdp_rec, seq order */
	struct cdp_rec *fetch_hint;	/* where the last FETCH lookup ended */
	struct list_head resync_done;	/* resync reads completed */
	/*
	 * A resync read waiting in cdp->parked for a region that writes
	 * never leave idle (dm-cdp-io.c, cdp_resync_issue); NULL: none.
	 */
	struct cdp_resync *claim;
	u64 queued_records, queued_bytes;
	u64 last_seq, acked_seq;
	u32 consumer;			/* netlink portid, 0 = none */
	struct page **pool;		/* free payload pages (stack) */
	unsigned int pool_total, pool_free;
	unsigned int resync_inflight;
	u32 resync_cursor;
	u32 resync_count;		/* bits set in resync: no scans under the lock */
	unsigned long resync_paid;	/* jiffies: resync debt paid up to */
	u64 resync_debt;		/* bytes issued beyond the rate so far */
	unsigned long busy_window;	/* jiffies: write-activity window start */
	u64 busy_writes;		/* data_writes at busy_window */
	bool busy;			/* writes in the last window */
	u64 resynced;			/* regions emitted by resync */
	u64 data_writes, dropped;
	unsigned int sync_waiting;
	struct cdp_event_slot events[CDP_EVENT_RING];
	unsigned int ev_head, ev_count;
	bool notify_pending;
	unsigned int ticks;		/* tick worker only */
	bool loaded;			/* bitmap read at first resume */
	/*
	 * postsuspend .. resume: the metadata is written clean and nothing
	 * writes it again (worker only). A reload's new instance owns it then.
	 */
	bool meta_parked;
	struct work_struct park_work;	/* postsuspend's writes, on wq */
};

/*
 * Region bitmaps come from kvmalloc: one bit per region is 4 MiB at 32M
 * regions (32 TiB of 1 MiB regions), the most kmalloc gives at all, and
 * an order-9 page allocation already fails on a fragmented server.
 */
static inline unsigned long *cdp_bitmap_zalloc(u32 nbits)
{
	return kvcalloc(BITS_TO_LONGS(nbits), sizeof(unsigned long), GFP_KERNEL);
}

static inline sector_t cdp_region_start(struct cdp *cdp, u32 region)
{
	return (sector_t)region << cdp->region_shift;
}

static inline sector_t cdp_region_len(struct cdp *cdp, u32 region)
{
	sector_t start = cdp_region_start(cdp, region);

	return min_t(sector_t, (sector_t)1 << cdp->region_shift,
		     cdp->origin_sectors - start);
}

/* dm-cdp-queue.c: payload page pool, records, ack. */
int cdp_pool_init(struct cdp *cdp);
void cdp_pool_exit(struct cdp *cdp);
struct cdp_rec *cdp_rec_alloc(struct cdp *cdp, u8 op, u32 len, gfp_t gfp);
void cdp_rec_free(struct cdp *cdp, struct cdp_rec *rec);
void __cdp_rec_free(struct cdp *cdp, struct cdp_rec *rec);
void cdp_rec_copy_bio(struct cdp_rec *rec, struct bio *bio);
void __cdp_enqueue(struct cdp *cdp, struct cdp_rec *rec);
int cdp_ack(struct cdp *cdp, u64 seq);
u64 cdp_mark(struct cdp *cdp, int *err);
void cdp_drop_queue(struct cdp *cdp);

/* dm-cdp-io.c: write path, overlap ranges, worker, resync. */
int cdp_map(struct dm_target *ti, struct bio *bio);
int cdp_end_io(struct dm_target *ti, struct bio *bio, blk_status_t *error);
void cdp_worker(struct work_struct *ws);
void cdp_tick(struct work_struct *ws);
void __cdp_enter_tracking(struct cdp *cdp, u32 why);
void __cdp_start_syncing(struct cdp *cdp);
void __cdp_event(struct cdp *cdp, u32 event, u64 seq);
void cdp_kick(struct cdp *cdp);
void cdp_release_sync(struct cdp *cdp, bool all, blk_status_t status);
bool cdp_sync_put(struct cdp_io *io, blk_status_t status);
void cdp_lazy_clear(struct cdp *cdp, bool all);
void cdp_claim_cancel(struct cdp *cdp);

/* dm-cdp-netlink.c */
int cdp_nl_init(void);
void cdp_nl_exit(void);
void cdp_vol_register(struct cdp *cdp);
void cdp_vol_unregister(struct cdp *cdp);
void cdp_nl_event(struct cdp *cdp, u32 event, u64 seq);
void cdp_nl_notify(struct cdp *cdp);

#endif /* DM_CDP_CORE_H */
