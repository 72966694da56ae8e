// SPDX-License-Identifier: GPL-2.0
/*
 * dm-cdp write path.
 *
 * map():   remap to the origin; a write/discard/write-zeroes takes its
 *          sector range (overlapping I/O waits in cdp->parked, FIFO), copies
 *          its payload into a record (or none: tracking), and needs its
 *          region's intent bit to be durable: if it is not, the bio waits in
 *          cdp->deferred until the worker's next metadata commit (one FUA
 *          write for every bio that queued up meanwhile).
 * end_io:  the record gets its seq (completion order) under cdp->lock and
 *          joins the queue; an empty flush becomes a FLUSH marker.
 * worker:  parked and deferred bios, metadata commits, resync, events.
 *
 * Lock: cdp->lock (irqsave everywhere: end_io may run in interrupt context).
 */
#include <linux/slab.h>
#include <linux/highmem.h>
#include <linux/jiffies.h>
#include "dm-cdp-core.h"
#include "dm-cdp-metadata.h"

#define CDP_TICK_MS 100
#define CDP_CLEAR_TICKS 10		/* lazy clear pass every second */
#define CDP_IDLE_CLEAR 60		/* passes a hot region stays set */
#define CDP_HOT_MAX 1024		/* hot regions kept beyond that */

struct cdp_resync {
	struct list_head list;		/* cdp->resync_done */
	struct cdp *cdp;
	struct cdp_range range;		/* in cdp->ranges while reading */
	struct cdp_io claim;		/* in cdp->parked while claimed */
	struct cdp_rec *rec;
	u32 region;
	atomic_t pending;
	blk_status_t status;
};

/*----------------------------------------------------------------*/

void __cdp_event(struct cdp *cdp, u32 event, u64 seq)
{
	struct cdp_event_slot *s;

	if (cdp->ev_count == CDP_EVENT_RING)
		return;		/* the listener is far behind: drop */
	s = &cdp->events[(cdp->ev_head + cdp->ev_count) % CDP_EVENT_RING];
	s->event = event;
	s->seq = seq;
	cdp->ev_count++;
	queue_work(cdp->wq, &cdp->work);
}

void cdp_kick(struct cdp *cdp)
{
	queue_work(cdp->wq, &cdp->work);
}

static void __set_resync(struct cdp *cdp, u32 region)
{
	if (!__test_and_set_bit(region, cdp->resync))
		cdp->resync_count++;
}

/*
 * Lock held: a region now waits for resync while the volume replicates.
 * Syncing starts at once, not when the worker next runs: every record
 * from here on is flagged unordered (__cdp_enqueue), since the stream now
 * lacks a completed write, and no MARK is taken.
 */
void __cdp_start_syncing(struct cdp *cdp)
{
	if (cdp->state != CDP_STATE_REPLICATING)
		return;
	WRITE_ONCE(cdp->state, CDP_STATE_SYNCING);
	__cdp_event(cdp, CDP_EV_RESYNC_START, cdp->last_seq);
}

void __cdp_enter_tracking(struct cdp *cdp, u32 why)
{
	cdp->dropped++;
	if (cdp->state == CDP_STATE_TRACKING)
		return;
	WRITE_ONCE(cdp->state, CDP_STATE_TRACKING);
	if (why)
		__cdp_event(cdp, why, cdp->last_seq);
	__cdp_event(cdp, CDP_EV_TRACKING, cdp->last_seq);
}

static bool overlaps(const struct cdp_range *a, const struct cdp_range *b)
{
	return a->start < b->end && b->start < a->end;
}

static bool __range_busy(struct cdp *cdp, const struct cdp_range *r)
{
	struct cdp_range *x;

	list_for_each_entry(x, &cdp->ranges, list)
		if (overlaps(x, r))
			return true;
	return false;
}

/* Is @r overlapped by a parked bio queued before @stop (NULL: any)? */
static bool __parked_busy(struct cdp *cdp, const struct cdp_range *r,
			  struct cdp_io *stop)
{
	struct cdp_io *io;

	list_for_each_entry(io, &cdp->parked, list) {
		if (io == stop)
			break;
		if (overlaps(&io->range, r))
			return true;
	}
	return false;
}

static inline struct bio *io_bio(struct cdp_io *io)
{
	return dm_bio_from_per_bio_data(io, sizeof(struct cdp_io));
}

/*----------------------------------------------------------------*/
/*
 * Completion of a write on the origin (from end_io, or our clone's end_io
 * in sync mode). An async write's record joins the queue here, in
 * completion order; a sync write's record went in when it was issued.
 */
static void cdp_write_done(struct cdp *cdp, struct cdp_io *io, blk_status_t status)
{
	struct cdp_rec *rec = io->rec;
	unsigned long flags;
	bool kick;

	spin_lock_irqsave(&cdp->lock, flags);
	list_del(&io->range.list);
	kick = !list_empty(&cdp->parked);
	io->rec = NULL;
	if (io->queued && !status) {
		cdp->refs[io->region]--;	/* the record holds its own */
	} else if (!status && rec && cdp->state != CDP_STATE_TRACKING) {
		/*
		 * Async (a queued sync write has no rec left): the region ref
		 * moves to the record, dropped at ack.
		 */
		__cdp_enqueue(cdp, rec);
	} else {
		/*
		 * Failed (origin content unknown; a sync write's record may
		 * already be on the replica), tracked or left to resync. A
		 * claim still waiting for this region reads it after this
		 * write, so no new mark: it would make the writes that come
		 * meanwhile go without records again, and the region be
		 * resynced over and over under a steady writer.
		 */
		if (!cdp->claim || cdp->claim->region != io->region)
			__set_resync(cdp, io->region);
		cdp->refs[io->region]--;
		if (rec)
			__cdp_rec_free(cdp, rec);
		if (cdp->state == CDP_STATE_REPLICATING) {
			__cdp_start_syncing(cdp);
			kick = true;
		}
	}
	spin_unlock_irqrestore(&cdp->lock, flags);
	if (kick)
		cdp_kick(cdp);
}

/*
 * Sync mode: one of the two things a sync bio waits for is done (its
 * origin write, or the consumer's ack / the timeout). @status is that
 * party's error; either error fails the bio (the last one seen is kept).
 * True when the caller must end the bio: it then carries io->status.
 */
bool cdp_sync_put(struct cdp_io *io, blk_status_t status)
{
	if (status)
		WRITE_ONCE(io->status, status);
	if (!atomic_dec_and_test(&io->pending))
		return false;
	io_bio(io)->bi_status = READ_ONCE(io->status);
	return true;
}

static void cdp_clone_endio(struct bio *clone)
{
	struct cdp_io *io = clone->bi_private;
	blk_status_t status = clone->bi_status;

	bio_put(clone);
	io->kind = CDP_IO_DONE;
	cdp_write_done(io->cdp, io, status);
	if (cdp_sync_put(io, status))
		bio_endio(io_bio(io));
}

/* Sync mode: our own clone, so the dm bio can wait for the ack too. */
static bool cdp_alloc_clone(struct cdp *cdp, struct cdp_io *io, gfp_t gfp)
{
	struct bio *clone;

	clone = bio_alloc_clone(cdp->origin->bdev, io_bio(io), gfp, &cdp->bs);
	if (!clone)
		return false;
	clone->bi_end_io = cdp_clone_endio;
	clone->bi_private = io;
	io->clone = clone;
	return true;
}

/*
 * Lock held: a sync write is about to be issued, its intent bit durable.
 * Its record joins the stream now, DRBD's protocol C: the consumer applies
 * it while the origin writes it, and the bio ends when both are done, so
 * its latency is the longer of the two, not their sum. Order holds: a
 * write issued after another completed has its record after that one's,
 * and overlapping writes still wait for each other's origin write. A
 * record on the replica whose origin write then fails is undone by the
 * resync that the failure starts (cdp_write_done). Never before the intent
 * is durable: after a crash the bitmap must cover every block in which
 * the replica may differ.
 */
static void __cdp_sync_issue(struct cdp *cdp, struct cdp_io *io)
{
	struct cdp_rec *rec = io->rec;

	atomic_set(&io->pending, 1);
	if (cdp->state == CDP_STATE_TRACKING)
		return;		/* cdp_write_done drops it, marks the region */
	io->rec = NULL;
	io->queued = true;
	cdp->refs[io->region]++;	/* the record's own, dropped at ack */
	__cdp_enqueue(cdp, rec);
	/* parked or deferred meanwhile: presuspend released the waiters */
	if (cdp->degraded || cdp->suspending || READ_ONCE(cdp->mode) != CDP_MODE_SYNC)
		return;
	rec->sync_io = io;
	rec->sync_deadline = jiffies + msecs_to_jiffies(READ_ONCE(cdp->sync_timeout_ms));
	cdp->sync_waiting++;
	atomic_set(&io->pending, 2);
}

/* Lock held: @io may be issued now. */
static void __cdp_ready(struct cdp *cdp, struct cdp_io *io, struct list_head *ready)
{
	list_add_tail(&io->list, ready);
	if (io->sync)
		__cdp_sync_issue(cdp, io);
}

static int cdp_resync_submit(struct cdp *cdp, struct cdp_resync *rs);

/* Worker: issue a bio that map() parked or deferred, or a granted claim. */
static void cdp_submit(struct cdp *cdp, struct cdp_io *io)
{
	if (io->kind == CDP_IO_CLAIM) {
		cdp_resync_submit(cdp, container_of(io, struct cdp_resync, claim));
		return;
	}
	if (!io->sync) {
		submit_bio_noacct(io_bio(io));
		return;
	}
	/* from the bioset's mempool: GFP_NOIO waits, never fails */
	if (!io->clone)
		cdp_alloc_clone(cdp, io, GFP_NOIO);
	submit_bio_noacct(io->clone);
}

/*
 * map(): issue a sync write that is ready. Its clone is taken only now,
 * so parked and deferred writes hold none from the bioset's reserve; when
 * none is to be had without waiting, the worker issues it (cdp_submit).
 */
static void cdp_sync_start(struct cdp *cdp, struct cdp_io *io)
{
	bool now = cdp_alloc_clone(cdp, io, GFP_NOWAIT);
	unsigned long flags;

	spin_lock_irqsave(&cdp->lock, flags);
	if (now)
		__cdp_sync_issue(cdp, io);
	else
		list_add_tail(&io->list, &cdp->deferred);	/* bit is durable */
	spin_unlock_irqrestore(&cdp->lock, flags);
	if (now)
		submit_bio_noacct(io->clone);
	else
		cdp_kick(cdp);
}

/*
 * An async write to a region that waits for resync needs no record: the
 * resync reads that region only once no write to it is in flight (it never
 * picks a busy region), and such a write's completion marks the region for
 * resync again (cdp_write_done), so the data reaches the replica from
 * there. A copy would only fill the queue with data sent twice, and during
 * a resync the replica is not crash-consistent anyway (records are flagged
 * unordered, cdpd keeps a pre-resync snapshot). A sync-mode write keeps
 * its record: it completes on the consumer's ack. The bit is read without
 * the lock: a stale "set" costs one more resync of the region, a stale
 * "clear" a record.
 */
static bool cdp_resync_covers(struct cdp *cdp, u32 region)
{
	/* syncing only: then no MARK is taken (cdp_mark) until it ends */
	if (READ_ONCE(cdp->state) != CDP_STATE_SYNCING ||
	    (READ_ONCE(cdp->mode) == CDP_MODE_SYNC && !READ_ONCE(cdp->degraded)))
		return false;
	/* lockless on purpose, see above: either answer is safe */
	return data_race(test_bit(region, cdp->resync));
}

/*----------------------------------------------------------------*/
/* Target methods */
int cdp_map(struct dm_target *ti, struct bio *bio)
{
	struct cdp *cdp = ti->private;
	struct cdp_io *io = dm_per_bio_data(bio, sizeof(struct cdp_io));
	struct cdp_rec *rec = NULL;
	bool overflow = false, ready;
	unsigned long flags;
	sector_t sector;
	u8 op;

	io->cdp = cdp;
	io->rec = NULL;
	io->sync = false;
	io->queued = false;
	io->clone = NULL;
	io->status = BLK_STS_OK;
	bio_set_dev(bio, cdp->origin->bdev);
	if (bio_sectors(bio))
		bio->bi_iter.bi_sector = dm_target_offset(ti, bio->bi_iter.bi_sector);
	sector = bio->bi_iter.bi_sector;

	if (op_is_flush(bio->bi_opf) && !bio_sectors(bio)) {
		io->kind = CDP_IO_FLUSH;
		return DM_MAPIO_REMAPPED;
	}
	switch (bio_op(bio)) {
	case REQ_OP_WRITE:
		op = CDP_OP_WRITE;
		break;
	case REQ_OP_DISCARD:
		op = CDP_OP_DISCARD;
		break;
	case REQ_OP_WRITE_ZEROES:
		op = CDP_OP_WRITE_ZEROES;
		break;
	default:
		io->kind = CDP_IO_PASS;
		return DM_MAPIO_REMAPPED;
	}

	/*
	 * One bio, one region: dm core splits writes at max_io_len, but not
	 * discards and write-zeroes; trim those here, dm resubmits the rest.
	 */
	io->region = sector >> cdp->region_shift;
	if ((bio_end_sector(bio) - 1) >> cdp->region_shift != io->region)
		dm_accept_partial_bio(bio, cdp_region_start(cdp, io->region + 1) - sector);

	io->kind = CDP_IO_WRITE;
	io->op = op;
	io->range.start = sector;
	io->range.end = bio_end_sector(bio);

	if (READ_ONCE(cdp->state) != CDP_STATE_TRACKING &&
	    !cdp_resync_covers(cdp, io->region)) {
		rec = cdp_rec_alloc(cdp, op, bio->bi_iter.bi_size, GFP_NOWAIT);
		if (rec) {
			if (op == CDP_OP_WRITE)
				cdp_rec_copy_bio(rec, bio);
			rec->sector = sector;
			rec->region = io->region;
			if (bio->bi_opf & REQ_FUA)
				rec->flags |= CDP_REC_F_FUA;
		} else {
			overflow = true;
		}
	}
	io->rec = rec;
	io->sync = rec && READ_ONCE(cdp->mode) == CDP_MODE_SYNC &&
		   !READ_ONCE(cdp->degraded);

	spin_lock_irqsave(&cdp->lock, flags);
	if (overflow)
		__cdp_enter_tracking(cdp, CDP_EV_OVERFLOW);
	cdp->data_writes++;
	cdp->refs[io->region]++;
	__set_bit(io->region, cdp->touched);
	cdp->idle[io->region] = 0;
	if (__range_busy(cdp, &io->range) || __parked_busy(cdp, &io->range, NULL)) {
		list_add_tail(&io->list, &cdp->parked);
		spin_unlock_irqrestore(&cdp->lock, flags);
		return DM_MAPIO_SUBMITTED;
	}
	list_add_tail(&io->range.list, &cdp->ranges);
	ready = __cdp_meta_mark(cdp->md, io->region);
	if (!ready)
		list_add_tail(&io->list, &cdp->deferred);
	spin_unlock_irqrestore(&cdp->lock, flags);

	if (!ready) {
		cdp_kick(cdp);
		return DM_MAPIO_SUBMITTED;
	}
	if (io->sync) {
		cdp_sync_start(cdp, io);
		return DM_MAPIO_SUBMITTED;
	}
	return DM_MAPIO_REMAPPED;
}

static void cdp_flush_done(struct cdp *cdp)
{
	struct cdp_rec *rec;
	unsigned long flags;

	if (READ_ONCE(cdp->state) == CDP_STATE_TRACKING)
		return;
	rec = cdp_rec_alloc(cdp, CDP_OP_FLUSH, 0, GFP_ATOMIC);
	spin_lock_irqsave(&cdp->lock, flags);
	if (!rec)
		__cdp_enter_tracking(cdp, CDP_EV_OVERFLOW);
	else if (cdp->state == CDP_STATE_TRACKING)
		__cdp_rec_free(cdp, rec);
	else
		__cdp_enqueue(cdp, rec);
	spin_unlock_irqrestore(&cdp->lock, flags);
}

int cdp_end_io(struct dm_target *ti, struct bio *bio, blk_status_t *error)
{
	struct cdp *cdp = ti->private;
	struct cdp_io *io = dm_per_bio_data(bio, sizeof(struct cdp_io));

	switch (io->kind) {
	case CDP_IO_FLUSH:
		if (!*error)
			cdp_flush_done(cdp);
		break;
	case CDP_IO_WRITE:
		cdp_write_done(cdp, io, *error);
		break;
	default:
		break;
	}
	return DM_ENDIO_DONE;
}

/*----------------------------------------------------------------*/
/* Worker */

/*
 * Lock held: a claim's turn came, every write queued before it is done.
 * Those may have been let through without a record (cdp_resync_covers)
 * and marked the region again on completion; the read covers them, so the
 * mark goes. Writes queued after the claim were admitted with the region
 * already cleared (cdp_resync_issue): they have their records, and wait
 * for the read behind its range.
 */
static void __cdp_claim_grant(struct cdp *cdp, struct cdp_io *io)
{
	struct cdp_resync *rs = container_of(io, struct cdp_resync, claim);

	list_add_tail(&rs->range.list, &cdp->ranges);
	if (__test_and_clear_bit(rs->region, cdp->resync))
		cdp->resync_count--;
	cdp->claim = NULL;
}

/* Parked bios whose range became free (FIFO among overlapping ones). */
static void cdp_unpark(struct cdp *cdp, struct list_head *ready)
{
	struct cdp_io *io, *tmp;
	unsigned long flags;

	spin_lock_irqsave(&cdp->lock, flags);
	list_for_each_entry_safe(io, tmp, &cdp->parked, list) {
		if (__range_busy(cdp, &io->range) ||
		    __parked_busy(cdp, &io->range, io))
			continue;
		list_del(&io->list);
		if (io->kind == CDP_IO_CLAIM) {
			__cdp_claim_grant(cdp, io);
			list_add_tail(&io->list, ready);
			continue;
		}
		list_add_tail(&io->range.list, &cdp->ranges);
		if (__cdp_meta_mark(cdp->md, io->region))
			__cdp_ready(cdp, io, ready);
		else
			list_add_tail(&io->list, &cdp->deferred);
	}
	spin_unlock_irqrestore(&cdp->lock, flags);
}

/* Commit intent bits; then every deferred bio whose bit is durable is ready. */
static void cdp_commit(struct cdp *cdp, struct list_head *ready, bool sb)
{
	struct cdp_io *io, *tmp;
	unsigned long flags;
	bool pending;
	int r = 0;

	spin_lock_irqsave(&cdp->lock, flags);
	pending = __cdp_meta_pending(cdp->md);
	cdp_meta_set_seqs(cdp->md, cdp->acked_seq, cdp->last_seq);
	spin_unlock_irqrestore(&cdp->lock, flags);

	/* meta_parked: a reload's new instance may own the metadata already */
	if ((pending || sb) && !READ_ONCE(cdp->meta_parked)) {
		r = cdp_meta_commit(cdp->md, &cdp->lock, sb);
		if (r && !cdp->meta_error) {
			DMERR("%s: metadata write failed (%d): writes continue without write-intent",
			      cdp->volume, r);
			spin_lock_irqsave(&cdp->lock, flags);
			cdp->meta_error = true;
			__cdp_event(cdp, CDP_EV_META_ERROR, cdp->last_seq);
			spin_unlock_irqrestore(&cdp->lock, flags);
		}
	}

	spin_lock_irqsave(&cdp->lock, flags);
	list_for_each_entry_safe(io, tmp, &cdp->deferred, list) {
		/* Never stall production: a broken meta device lets bios through. */
		if (__cdp_meta_mark(cdp->md, io->region) || cdp->meta_error) {
			list_del(&io->list);
			__cdp_ready(cdp, io, ready);
		}
	}
	spin_unlock_irqrestore(&cdp->lock, flags);
}

static void cdp_resync_endio(struct bio *bio)
{
	struct cdp_resync *rs = bio->bi_private;
	struct cdp *cdp = rs->cdp;
	unsigned long flags;

	if (bio->bi_status)
		rs->status = bio->bi_status;
	bio_put(bio);
	if (!atomic_dec_and_test(&rs->pending))
		return;
	spin_lock_irqsave(&cdp->lock, flags);
	list_add_tail(&rs->list, &cdp->resync_done);
	spin_unlock_irqrestore(&cdp->lock, flags);
	cdp_kick(cdp);
}

static bool rec_is_zero(struct cdp_rec *rec)
{
	unsigned int i;
	bool zero = true;

	for (i = 0; i < rec->nr_pages && zero; i++) {
		void *p = kmap_local_page(rec->pages[i]);

		zero = !memchr_inv(p, 0, min_t(u32, PAGE_SIZE,
					       rec->len - i * PAGE_SIZE));
		kunmap_local(p);
	}
	return zero;
}

/* Resync reads that completed: emit their records in the ordered stream. */
static void cdp_resync_reap(struct cdp *cdp)
{
	struct cdp_resync *rs, *tmp;
	unsigned long flags;
	LIST_HEAD(done);

	spin_lock_irqsave(&cdp->lock, flags);
	list_splice_init(&cdp->resync_done, &done);
	spin_unlock_irqrestore(&cdp->lock, flags);

	list_for_each_entry_safe(rs, tmp, &done, list) {
		struct cdp_rec *rec = rs->rec;
		bool zero = !rs->status && rec_is_zero(rec);

		spin_lock_irqsave(&cdp->lock, flags);
		list_del(&rs->range.list);
		if (rs->status) {
			__set_resync(cdp, rs->region);
			cdp->refs[rs->region]--;
			__cdp_rec_free(cdp, rec);
		} else {
			if (zero) {
				/* Skip-zero: no payload for an all-zero region. */
				unsigned int i;

				for (i = 0; i < rec->nr_pages; i++)
					cdp->pool[cdp->pool_free++] = rec->pages[i];
				rec->nr_pages = 0;
				rec->op = CDP_OP_WRITE_ZEROES;
			}
			__cdp_enqueue(cdp, rec);
			cdp->resynced++;
		}
		cdp->resync_inflight--;
		spin_unlock_irqrestore(&cdp->lock, flags);
		kfree(rs);
	}
	wake_up(&cdp->wait);
}

/*
 * Pick the next dirty region that no I/O holds; lock held. When every one
 * tried is busy, @busy is the first of them (else CDP_NO_REGION).
 */
static bool __resync_pick(struct cdp *cdp, u32 *region, u32 *busy)
{
	u32 r = cdp->resync_cursor, tries = 0;
	struct cdp_range range;

	*busy = CDP_NO_REGION;
	if (!cdp->resync_count)
		return false;
	while (tries++ < 64) {
		r = find_next_bit(cdp->resync, cdp->nr_regions, r);
		if (r >= cdp->nr_regions) {
			r = find_first_bit(cdp->resync, cdp->nr_regions);
			if (r >= cdp->nr_regions)
				return false;
		}
		range.start = cdp_region_start(cdp, r);
		range.end = range.start + cdp_region_len(cdp, r);
		if (!__range_busy(cdp, &range) && !__parked_busy(cdp, &range, NULL)) {
			*region = r;
			cdp->resync_cursor = r + 1;
			return true;
		}
		if (*busy == CDP_NO_REGION)
			*busy = r;
		r++;
	}
	cdp->resync_cursor = r;
	return false;
}

/*
 * Lock held: did application writes come in during the last tick, or do
 * sync-mode writes wait for their ack? The latter matters: writers blocked
 * behind resync records in the stream submit nothing new, and counting
 * that as idle would let the resync run unlimited and block them longer.
 */
static bool __cdp_busy(struct cdp *cdp)
{
	unsigned long win = msecs_to_jiffies(CDP_TICK_MS);

	if (time_after_eq(jiffies, cdp->busy_window + win)) {
		cdp->busy = cdp->data_writes != cdp->busy_writes || cdp->sync_waiting;
		cdp->busy_writes = cdp->data_writes;
		cdp->busy_window = jiffies;
	}
	return cdp->busy;
}

/*
 * Lock held: may a resync read of @bytes start now? md's two speeds:
 * while application writes come in, resync keeps to resync_min_mbps so it
 * does not take the disk from them; idle, it runs up to resync_mbps (0:
 * unlimited). A token bucket that may go into debt: reads start while
 * the debt is below one tick's budget (the worker runs at least every
 * tick), so a region larger than that still goes and the next waits until
 * the rate has paid for it; the average holds for any region size.
 */
static bool __resync_throttled(struct cdp *cdp, u64 bytes)
{
	unsigned int mbps = READ_ONCE(cdp->resync_mbps);
	unsigned int busy_mbps = READ_ONCE(cdp->resync_min_mbps);
	unsigned long now = jiffies;
	u64 paid;

	if (__cdp_busy(cdp) && busy_mbps && (!mbps || busy_mbps < mbps))
		mbps = busy_mbps;
	if (!mbps) {
		cdp->resync_debt = 0;
		cdp->resync_paid = now;
		return false;
	}
	if (time_after(now, cdp->resync_paid)) {
		/* 60 s pay off any debt one region can make; no u64 overflow */
		paid = ((u64)mbps << 20) *
		       jiffies_to_msecs(min(now - cdp->resync_paid, 60UL * HZ)) / 1000;
		cdp->resync_debt = cdp->resync_debt > paid ? cdp->resync_debt - paid : 0;
		cdp->resync_paid = now;
	}
	if (cdp->resync_debt >= ((u64)mbps << 20) * CDP_TICK_MS / 1000)
		return true;
	cdp->resync_debt += bytes;
	return false;
}

static int cdp_resync_submit(struct cdp *cdp, struct cdp_resync *rs)
{
	struct cdp_rec *rec = rs->rec;
	unsigned int done = 0;

	atomic_set(&rs->pending, 1);
	while (done < rec->nr_pages) {
		unsigned int n = min_t(unsigned int, rec->nr_pages - done, BIO_MAX_VECS);
		struct bio *bio;
		unsigned int i;

		bio = bio_alloc_bioset(cdp->origin->bdev, n, REQ_OP_READ,
				       GFP_NOIO, &cdp->bs);
		bio->bi_iter.bi_sector = rec->sector + ((sector_t)done << (PAGE_SHIFT - SECTOR_SHIFT));
		bio->bi_end_io = cdp_resync_endio;
		bio->bi_private = rs;
		for (i = 0; i < n; i++) {
			u32 off = (done + i) * PAGE_SIZE;

			__bio_add_page(bio, rec->pages[done + i],
				       min_t(u32, PAGE_SIZE, rec->len - off), 0);
		}
		atomic_inc(&rs->pending);
		submit_bio_noacct(bio);
		done += n;
	}
	if (atomic_dec_and_test(&rs->pending)) {
		unsigned long flags;

		spin_lock_irqsave(&cdp->lock, flags);
		list_add_tail(&rs->list, &cdp->resync_done);
		spin_unlock_irqrestore(&cdp->lock, flags);
		cdp_kick(cdp);
	}
	return 0;
}

/*
 * Lock held: park a claim on a busy region. It queues FIFO behind the
 * writes parked before it, and writes that come after it park behind it
 * (cdp_map's __parked_busy), so the read starts once the writes in flight
 * are done (__cdp_claim_grant). Without it a region that always has a
 * write in flight (a journal, a hot index) is never read, the volume never
 * leaves syncing and no snapshot is taken: DRBD's resync and dm-clone's
 * hydration hold writes to the region they copy in the same way.
 */
static void __cdp_claim(struct cdp *cdp, struct cdp_resync *rs)
{
	rs->claim.kind = CDP_IO_CLAIM;
	rs->claim.region = rs->region;
	rs->claim.range.start = rs->range.start;
	rs->claim.range.end = rs->range.end;
	list_add_tail(&rs->claim.list, &cdp->parked);
}

/* Presuspend: a claim must not hold the suspend up behind writes. */
void cdp_claim_cancel(struct cdp *cdp)
{
	struct cdp_resync *rs;
	unsigned long flags;

	spin_lock_irqsave(&cdp->lock, flags);
	rs = cdp->claim;
	/* not parked yet: cdp_resync_issue sees suspending and drops it */
	if (rs && rs->claim.kind != CDP_IO_CLAIM)
		rs = NULL;
	if (rs) {
		list_del(&rs->claim.list);
		cdp->claim = NULL;
		__set_resync(cdp, rs->region);
		cdp->refs[rs->region]--;
		__cdp_rec_free(cdp, rs->rec);
		cdp->resync_inflight--;
	}
	spin_unlock_irqrestore(&cdp->lock, flags);
	if (!rs)
		return;
	kfree(rs);
	cdp_kick(cdp);		/* writes parked behind it */
	wake_up(&cdp->wait);
}

/*
 * Start resync reads of dirty regions, under region (range) locks. A free
 * region goes first; when all the ones tried are busy and no other read
 * is in flight, the first busy one is claimed (__cdp_claim).
 */
static void cdp_resync_issue(struct cdp *cdp)
{
	struct cdp_resync *rs;
	unsigned long flags;
	u32 region, busy, len, pages;
	bool claim;

	for (;;) {
		rs = kzalloc(sizeof(*rs), GFP_NOIO);
		if (!rs)
			return;
		spin_lock_irqsave(&cdp->lock, flags);
		if (cdp->state != CDP_STATE_SYNCING || cdp->suspending ||
		    cdp->resync_inflight >= CDP_RESYNC_INFLIGHT)
			goto stop;
		claim = false;
		if (!__resync_pick(cdp, &region, &busy)) {
			if (busy == CDP_NO_REGION || cdp->claim || cdp->resync_inflight)
				goto stop;
			region = busy;
			claim = true;
		}
		len = cdp_region_len(cdp, region) << SECTOR_SHIFT;
		pages = DIV_ROUND_UP(len, PAGE_SIZE);
		if (cdp->pool_free < pages || __resync_throttled(cdp, len))
			goto stop;
		/* a claimed region too: writes admitted from now get records */
		if (__test_and_clear_bit(region, cdp->resync))
			cdp->resync_count--;
		cdp->refs[region]++;
		rs->cdp = cdp;
		rs->region = region;
		rs->range.start = cdp_region_start(cdp, region);
		rs->range.end = rs->range.start + (len >> SECTOR_SHIFT);
		if (!claim)
			list_add_tail(&rs->range.list, &cdp->ranges);
		else
			cdp->claim = rs;	/* from now on (cdp_write_done) */
		cdp->resync_inflight++;
		spin_unlock_irqrestore(&cdp->lock, flags);

		rs->rec = cdp_rec_alloc(cdp, CDP_OP_WRITE, len, GFP_NOIO);
		spin_lock_irqsave(&cdp->lock, flags);
		if (rs->rec && claim && cdp->suspending) {
			/* presuspend came meanwhile and found no claim to cancel */
			__cdp_rec_free(cdp, rs->rec);
			rs->rec = NULL;
		}
		if (!rs->rec) {
			__set_resync(cdp, region);
			cdp->refs[region]--;
			if (!claim)
				list_del(&rs->range.list);
			else
				cdp->claim = NULL;
			cdp->resync_inflight--;
			spin_unlock_irqrestore(&cdp->lock, flags);
			kfree(rs);
			wake_up(&cdp->wait);	/* presuspend may wait for it */
			return;
		}
		rs->rec->sector = rs->range.start;
		rs->rec->region = region;
		rs->rec->flags = CDP_REC_F_RESYNC;
		if (claim) {
			__cdp_claim(cdp, rs);
			spin_unlock_irqrestore(&cdp->lock, flags);
			cdp_kick(cdp);	/* its turn may have come already */
			return;
		}
		spin_unlock_irqrestore(&cdp->lock, flags);
		cdp_resync_submit(cdp, rs);
	}
	return;
stop:
	spin_unlock_irqrestore(&cdp->lock, flags);
	kfree(rs);
}

/* Lock held: the state machine of docs (tracking -> syncing -> replicating). */
static void __cdp_update_state(struct cdp *cdp)
{
	bool dirty = cdp->resync_count;

	switch (cdp->state) {
	case CDP_STATE_TRACKING:
		/* Leave tracking once the consumer drained most of the queue. */
		if (cdp->consumer && !cdp->suspending &&
		    cdp->pool_free >= cdp->pool_total - cdp->pool_total / 4) {
			WRITE_ONCE(cdp->state, CDP_STATE_SYNCING);
			__cdp_event(cdp, CDP_EV_RESYNC_START, cdp->last_seq);
		}
		break;
	case CDP_STATE_SYNCING:
		if (!dirty && !cdp->resync_inflight) {
			WRITE_ONCE(cdp->state, CDP_STATE_REPLICATING);
			__cdp_event(cdp, CDP_EV_RESYNC_DONE, cdp->last_seq);
		}
		break;
	default:
		if (dirty)
			__cdp_start_syncing(cdp);
		break;
	}
}

static void cdp_send_events(struct cdp *cdp)
{
	struct cdp_event_slot ev;
	unsigned long flags;
	bool notify;

	for (;;) {
		spin_lock_irqsave(&cdp->lock, flags);
		notify = cdp->notify_pending;
		cdp->notify_pending = false;
		if (!cdp->ev_count) {
			spin_unlock_irqrestore(&cdp->lock, flags);
			break;
		}
		ev = cdp->events[cdp->ev_head];
		cdp->ev_head = (cdp->ev_head + 1) % CDP_EVENT_RING;
		cdp->ev_count--;
		spin_unlock_irqrestore(&cdp->lock, flags);
		if (notify)
			cdp_nl_notify(cdp);
		cdp_nl_event(cdp, ev.event, ev.seq);
	}
	if (notify)
		cdp_nl_notify(cdp);
}

static void cdp_process(struct cdp *cdp, bool sb)
{
	struct cdp_io *io, *tmp;
	unsigned long flags;
	LIST_HEAD(ready);

	cdp_resync_reap(cdp);
	cdp_unpark(cdp, &ready);
	cdp_commit(cdp, &ready, sb);
	list_for_each_entry_safe(io, tmp, &ready, list) {
		list_del(&io->list);
		cdp_submit(cdp, io);
	}
	spin_lock_irqsave(&cdp->lock, flags);
	__cdp_update_state(cdp);
	spin_unlock_irqrestore(&cdp->lock, flags);
	cdp_resync_issue(cdp);
	cdp_send_events(cdp);
}

void cdp_worker(struct work_struct *ws)
{
	cdp_process(container_of(ws, struct cdp, work), false);
}

/*
 * Complete sync-mode bios still waiting for an ack: all of them, or those
 * past their deadline. The records stay queued for the consumer.
 */
void cdp_release_sync(struct cdp *cdp, bool all, blk_status_t status)
{
	struct bio_list done;
	struct cdp_rec *rec;
	unsigned long flags;
	struct bio *bio;

	bio_list_init(&done);
	spin_lock_irqsave(&cdp->lock, flags);
	list_for_each_entry(rec, &cdp->queue, list) {
		if (!cdp->sync_waiting)
			break;
		if (!rec->sync_io)
			continue;
		if (!all && time_before(jiffies, rec->sync_deadline))
			break;
		if (cdp_sync_put(rec->sync_io, status))
			bio_list_add(&done, io_bio(rec->sync_io));
		rec->sync_io = NULL;
		cdp->sync_waiting--;
	}
	spin_unlock_irqrestore(&cdp->lock, flags);
	while ((bio = bio_list_pop(&done)))
		bio_endio(bio);
}

static void cdp_sync_timeouts(struct cdp *cdp)
{
	struct cdp_rec *rec;
	unsigned long flags;
	bool expired = false;

	spin_lock_irqsave(&cdp->lock, flags);
	if (cdp->sync_waiting) {
		list_for_each_entry(rec, &cdp->queue, list) {
			if (rec->sync_io) {
				expired = time_after_eq(jiffies, rec->sync_deadline);
				break;
			}
		}
	}
	if (expired && !cdp->timeout_error && !cdp->degraded) {
		WRITE_ONCE(cdp->degraded, true);
		__cdp_event(cdp, CDP_EV_SYNC_DEGRADED, cdp->last_seq);
		DMWARN("%s: no ack within sync_timeout_ms, degraded to async",
		       cdp->volume);
	}
	spin_unlock_irqrestore(&cdp->lock, flags);
	if (!expired)
		return;
	if (cdp->timeout_error)
		cdp_release_sync(cdp, false, BLK_STS_IOERR);
	else
		cdp_release_sync(cdp, true, BLK_STS_OK);
}

/* Lock held: one region of a lazy-clear pass (see cdp_lazy_clear). */
static void __cdp_clear_one(struct cdp *cdp, u32 r, bool age, bool all, u32 *hot)
{
	if (age) {
		if (__test_and_clear_bit(r, cdp->touched))
			cdp->idle[r] = 0;
		else if (cdp->idle[r] < U8_MAX)
			cdp->idle[r]++;
		if (!cdp->refs[r])
			(*hot)++;
		return;
	}
	if (cdp->refs[r])
		return;
	if (all || cdp->idle[r] >= CDP_IDLE_CLEAR ||
	    (*hot > CDP_HOT_MAX && cdp->idle[r])) {
		__cdp_meta_clear(cdp->md, r);
		if (*hot)
			(*hot)--;
	}
}

/*
 * One pass over the regions whose bit is set and that wait for no resync,
 * a word at a time, CDP_CLEAR_BATCH regions per hold of the irq-safe lock.
 * Before, every set bit was visited under one hold: on a fresh 4 TiB
 * volume (4M regions, all set, all waiting for the initial sync) that
 * kept interrupts off for about half a second, every second, in the test
 * VM, and cleared nothing.
 */
static u32 cdp_clear_pass(struct cdp *cdp, bool age, bool all, u32 hot)
{
	const unsigned long *bits = cdp_meta_bits(cdp->md);
	u32 nw = BITS_TO_LONGS(cdp->nr_regions), w, end, r;
	unsigned long flags, m;

	for (w = 0; w < nw; w = end) {
		end = min_t(u32, w + CDP_CLEAR_BATCH / BITS_PER_LONG, nw);
		spin_lock_irqsave(&cdp->lock, flags);
		for (; w < end; w++) {
			m = bits[w] & ~cdp->resync[w];
			while (m) {
				r = w * BITS_PER_LONG + __ffs(m);
				m &= m - 1;
				if (r < cdp->nr_regions)
					__cdp_clear_one(cdp, r, age, all, &hot);
			}
		}
		spin_unlock_irqrestore(&cdp->lock, flags);
		cond_resched();
	}
	return hot;
}

/*
 * Lazy clear, activity-log style: a region keeps its bit while it is hot so
 * that writes to it need no metadata I/O. A bit is cleared when the region
 * has no write in flight, no unacked record and no resync pending, and it
 * has been idle for CDP_IDLE_CLEAR passes (about a minute) - or for one pass
 * when more than CDP_HOT_MAX such regions are set (bounding what a crash
 * makes us resync to CDP_HOT_MAX regions plus the unacked ones). With @all
 * (clean suspend) every clearable bit goes. The first pass ages the regions
 * and counts the clearable ones, the second clears; the lock is dropped
 * between batches, so the count is an estimate, and every condition that
 * guards a clear is checked again under the lock.
 */
void cdp_lazy_clear(struct cdp *cdp, bool all)
{
	cdp_clear_pass(cdp, false, all, cdp_clear_pass(cdp, true, all, 0));
}

void cdp_tick(struct work_struct *ws)
{
	struct cdp *cdp = container_of(to_delayed_work(ws), struct cdp, tick);
	bool sb = false;

	cdp_sync_timeouts(cdp);
	if (++cdp->ticks >= CDP_CLEAR_TICKS) {
		cdp->ticks = 0;
		cdp_lazy_clear(cdp, false);
		/* against the superblock on disk: cdp_commit sets md's seqs */
		sb = cdp_meta_sb_acked_seq(cdp->md) != READ_ONCE(cdp->acked_seq);
	}
	cdp_process(cdp, sb);
	queue_delayed_work(cdp->wq, &cdp->tick, msecs_to_jiffies(CDP_TICK_MS));
}
