// SPDX-License-Identifier: GPL-2.0
/*
 * dm-cdp capture queue: a pool of payload pages reserved at table load
 * (queue_mb), records in seq order, and their release at ack.
 *
 * Nothing here allocates from the page allocator in the I/O path: payload
 * pages come from the pool, record headers from GFP_NOWAIT/GFP_ATOMIC
 * kmalloc; when either fails the caller switches to tracking.
 */
#include <linux/slab.h>
#include <linux/highmem.h>
#include <linux/ktime.h>
#include "dm-cdp-core.h"
#include "dm-cdp-metadata.h"

int cdp_pool_init(struct cdp *cdp)
{
	unsigned int i, n = cdp->queue_mb << (20 - PAGE_SHIFT);

	cdp->pool = kvcalloc(n, sizeof(*cdp->pool), GFP_KERNEL);
	if (!cdp->pool)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		cdp->pool[i] = alloc_page(GFP_KERNEL);
		if (!cdp->pool[i])
			break;
		cdp->pool_free++;
	}
	cdp->pool_total = cdp->pool_free;
	if (i < n) {
		cdp_pool_exit(cdp);
		return -ENOMEM;
	}
	return 0;
}

void cdp_pool_exit(struct cdp *cdp)
{
	unsigned int i;

	if (!cdp->pool)
		return;
	for (i = 0; i < cdp->pool_free; i++)
		__free_page(cdp->pool[i]);
	kvfree(cdp->pool);
	cdp->pool = NULL;
	cdp->pool_free = 0;
}

/*
 * Allocate a record; a WRITE takes DIV_ROUND_UP(len, PAGE_SIZE) pool pages.
 * Any context; never sleeps when @gfp does not allow it. NULL = no room.
 */
struct cdp_rec *cdp_rec_alloc(struct cdp *cdp, u8 op, u32 len, gfp_t gfp)
{
	unsigned int i, n = op == CDP_OP_WRITE ? DIV_ROUND_UP(len, PAGE_SIZE) : 0;
	struct cdp_rec *rec;
	unsigned long flags;

	rec = kmalloc(struct_size(rec, pages, n), gfp | __GFP_NOWARN);
	if (!rec)
		return NULL;
	rec->op = op;
	rec->len = len;
	rec->flags = 0;
	rec->seq = 0;
	rec->region = CDP_NO_REGION;
	rec->sync_io = NULL;
	rec->nr_pages = 0;
	if (!n)
		return rec;

	spin_lock_irqsave(&cdp->lock, flags);
	if (cdp->pool_free < n) {
		spin_unlock_irqrestore(&cdp->lock, flags);
		kfree(rec);
		return NULL;
	}
	for (i = 0; i < n; i++)
		rec->pages[i] = cdp->pool[--cdp->pool_free];
	rec->nr_pages = n;
	spin_unlock_irqrestore(&cdp->lock, flags);
	return rec;
}

/* Lock held: give @rec's payload pages back to the pool. */
static void __cdp_rec_put_pages(struct cdp *cdp, struct cdp_rec *rec)
{
	unsigned int i;

	for (i = 0; i < rec->nr_pages; i++)
		cdp->pool[cdp->pool_free++] = rec->pages[i];
	rec->nr_pages = 0;
}

/* Lock held: give the pages back to the pool and free the header. */
void __cdp_rec_free(struct cdp *cdp, struct cdp_rec *rec)
{
	__cdp_rec_put_pages(cdp, rec);
	kfree(rec);
}

void cdp_rec_free(struct cdp *cdp, struct cdp_rec *rec)
{
	unsigned long flags;

	spin_lock_irqsave(&cdp->lock, flags);
	__cdp_rec_free(cdp, rec);
	spin_unlock_irqrestore(&cdp->lock, flags);
}

/* Copy the bio payload into the record's pages (before the bio is issued). */
void cdp_rec_copy_bio(struct cdp_rec *rec, struct bio *bio)
{
	struct bvec_iter iter;
	struct bio_vec bv;
	size_t off = 0;

	bio_for_each_segment(bv, bio, iter) {
		/* bv itself must stay intact: the iterator advances by bv_len. */
		struct bio_vec part = bv;

		while (part.bv_len) {
			struct page *p = rec->pages[off >> PAGE_SHIFT];
			size_t po = offset_in_page(off);
			struct bio_vec piece = part;
			char *dst;

			piece.bv_len = min_t(size_t, part.bv_len, PAGE_SIZE - po);
			dst = kmap_local_page(p);
			memcpy_from_bvec(dst + po, &piece);
			kunmap_local(dst);
			part.bv_offset += piece.bv_len;
			part.bv_len -= piece.bv_len;
			off += piece.bv_len;
		}
	}
}

/* Lock held: give @rec the next seq and append it to the queue. */
void __cdp_enqueue(struct cdp *cdp, struct cdp_rec *rec)
{
	rec->seq = ++cdp->last_seq;
	if (cdp->state == CDP_STATE_SYNCING)
		rec->flags |= CDP_REC_F_UNORDERED;
	/*
	 * The tick's wall clock (1 jiffy resolution is plenty for a lag in
	 * seconds): no clocksource read per write. Where the clocksource is
	 * HPET (our TCG test guest, hosts with an unstable TSC)
	 * ktime_get_real_ns() is an MMIO read, in a VM an exit to the
	 * device model, on every write.
	 */
	rec->time_ns = ktime_get_coarse_real_ns();
	list_add_tail(&rec->list, &cdp->queue);
	cdp->queued_records++;
	cdp->queued_bytes += rec->nr_pages ? rec->len : 0;
	if (cdp->want_notify) {
		cdp->want_notify = false;
		cdp->notify_pending = true;
		queue_work(cdp->wq, &cdp->work);
	}
}

/*
 * Lock held: unlink an acked record, drop its region ref, give its pages
 * back to the pool. The header goes to @gone, freed after the unlock.
 */
static void __cdp_retire(struct cdp *cdp, struct cdp_rec *rec,
			 struct list_head *gone)
{
	if (cdp->fetch_hint == rec)
		cdp->fetch_hint = NULL;
	list_move_tail(&rec->list, gone);
	cdp->queued_records--;
	cdp->queued_bytes -= rec->nr_pages ? rec->len : 0;
	if (rec->region != CDP_NO_REGION)
		cdp->refs[rec->region]--;
	__cdp_rec_put_pages(cdp, rec);	/* the header is freed outside the lock */
}

static void cdp_free_retired(struct list_head *gone)
{
	struct cdp_rec *rec, *tmp;

	list_for_each_entry_safe(rec, tmp, gone, list)
		kfree(rec);
}

/* Records retired per hold of cdp->lock in cdp_ack (irqs are off). */
#define CDP_ACK_BATCH 64

/*
 * The consumer made every record <= @seq durable. Frees them, completes the
 * sync-mode bios waiting for them, and lets the worker resume a resync.
 */
int cdp_ack(struct cdp *cdp, u64 seq)
{
	struct cdp_rec *rec;
	struct bio_list done;
	unsigned long flags;
	struct bio *bio;
	LIST_HEAD(gone);
	bool more;

	bio_list_init(&done);
	spin_lock_irqsave(&cdp->lock, flags);
	if (seq > cdp->last_seq) {
		spin_unlock_irqrestore(&cdp->lock, flags);
		return -ERANGE;
	}
	if (seq > cdp->acked_seq)
		cdp->acked_seq = seq;
	/*
	 * Retire in batches, freeing headers outside the lock: the write path
	 * and end_io wait for cdp->lock, an ack of thousands of records must
	 * not hold it (irqs off) for all of them.
	 */
	do {
		unsigned int n = 0;

		more = false;
		while ((rec = list_first_entry_or_null(&cdp->queue, struct cdp_rec, list)) &&
		       rec->seq <= seq) {
			if (n++ == CDP_ACK_BATCH) {
				more = true;
				break;
			}
			if (rec->sync_io) {
				if (cdp_sync_put(rec->sync_io, BLK_STS_OK))
					bio_list_add(&done, dm_bio_from_per_bio_data(rec->sync_io,
							sizeof(struct cdp_io)));
				rec->sync_io = NULL;
				cdp->sync_waiting--;
			}
			__cdp_retire(cdp, rec, &gone);
		}
		spin_unlock_irqrestore(&cdp->lock, flags);
		cdp_free_retired(&gone);
		INIT_LIST_HEAD(&gone);
		if (more)
			spin_lock_irqsave(&cdp->lock, flags);
	} while (more);

	while ((bio = bio_list_pop(&done)))
		bio_endio(bio);
	cdp_kick(cdp);
	return 0;
}

/*
 * Insert a MARK record now; returns its seq (0 and *err when not possible).
 * Not while tracking or syncing, nor with any region waiting for resync
 * (the state switches to syncing when one does; the count keeps the rule
 * independent of that): writes that completed before the MARK may then be
 * missing from the stream before it (tracked, or left to the resync), so
 * the MARK would not be a consistent point.
 */
u64 cdp_mark(struct cdp *cdp, int *err)
{
	struct cdp_rec *rec = cdp_rec_alloc(cdp, CDP_OP_MARK, 0, GFP_KERNEL);
	unsigned long flags;
	u64 seq = 0;

	if (!rec) {
		*err = -ENOMEM;
		return 0;
	}
	spin_lock_irqsave(&cdp->lock, flags);
	if (cdp->suspending) {
		/* postsuspend saves last_seq: a seq given now would be issued again */
		*err = -EBUSY;
		__cdp_rec_free(cdp, rec);
	} else if (cdp->state == CDP_STATE_TRACKING || cdp->state == CDP_STATE_SYNCING ||
		   cdp->resync_count) {
		*err = -EAGAIN;
		__cdp_rec_free(cdp, rec);
	} else {
		__cdp_enqueue(cdp, rec);
		seq = rec->seq;
		*err = 0;
	}
	spin_unlock_irqrestore(&cdp->lock, flags);
	return seq;
}

/* Teardown: free every queued record (no I/O in flight any more). */
void cdp_drop_queue(struct cdp *cdp)
{
	struct cdp_rec *rec, *tmp;
	unsigned long flags;
	LIST_HEAD(gone);

	spin_lock_irqsave(&cdp->lock, flags);
	list_for_each_entry_safe(rec, tmp, &cdp->queue, list)
		__cdp_retire(cdp, rec, &gone);
	spin_unlock_irqrestore(&cdp->lock, flags);
	cdp_free_retired(&gone);
}
