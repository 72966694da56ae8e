// SPDX-License-Identifier: GPL-2.0
/*
 * dm-cdp: device-mapper target "cdp" for continuous data protection.
 *
 * Table: cdp <origin_dev> <meta_dev> <volume_id> [<#opts> <opt>...]
 * Options: sync | async, queue_mb <n>, region_kb <n>, sync_timeout_ms <n>,
 *          on_sync_timeout degrade|error, resync_mbps <n>, resync_min_mbps <n>
 * (docs/dm-cdp.md)
 *
 * Every write is captured, in completion order, into a bounded queue that
 * a consumer drains over the generic netlink family "dm_cdp". The regions
 * written are marked in a write-intent bitmap on meta_dev before the data
 * write is issued, so after a crash only those regions are resynced.
 */
#include <linux/module.h>
#include <net/genetlink.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <linux/ctype.h>
#include <linux/log2.h>
#include "dm-cdp-core.h"
#include "dm-cdp-metadata.h"

enum {
	OPT_MODE = 1 << 0,
	OPT_QUEUE = 1 << 1,
	OPT_REGION = 1 << 2,
	OPT_TIMEOUT = 1 << 3,
	OPT_ON_TIMEOUT = 1 << 4,
	OPT_RESYNC = 1 << 5,
	OPT_RESYNC_MIN = 1 << 6,
};

#define CDP_DEF_QUEUE_MB 32
#define CDP_DEF_REGION_KB 1024
#define CDP_MAX_REGIONS (64U << 20)	/* per-region state: refs, idle, 4 bitmaps */
#define CDP_DEF_SYNC_TIMEOUT_MS 5000
#define CDP_DEF_RESYNC_MIN_MBPS 16
#define CDP_MAX_MBPS 1000000

/*----------------------------------------------------------------*/
/* Constructor argument parsing */
static int parse_volume_id(struct cdp *cdp, const char *arg, char **error)
{
	size_t i, n = strlen(arg);

	if (!n || n > CDP_VOLUME_ID_MAX) {
		*error = "volume_id must be 1 to 63 characters";
		return -EINVAL;
	}
	for (i = 0; i < n; i++) {
		if (!isalnum(arg[i]) && !strchr("._:-", arg[i])) {
			*error = "volume_id may only contain letters, digits and . _ : -";
			return -EINVAL;
		}
	}
	strscpy(cdp->volume, arg, sizeof(cdp->volume));
	return 0;
}

static int parse_uint(struct dm_arg_set *as, unsigned int min, unsigned int max,
		      unsigned int *out, char **error, char *msg)
{
	const char *arg = dm_shift_arg(as);
	unsigned int v;

	if (!arg || kstrtouint(arg, 10, &v) || v < min || v > max) {
		*error = msg;
		return -EINVAL;
	}
	*out = v;
	return 0;
}

static int opt_once(struct cdp *cdp, unsigned int bit, char **error)
{
	if (cdp->opt_mask & bit) {
		*error = "Option given twice";
		return -EINVAL;
	}
	cdp->opt_mask |= bit;
	return 0;
}

static int parse_one_opt(struct cdp *cdp, struct dm_arg_set *as, char **error)
{
	const char *name = dm_shift_arg(as);
	const char *v;
	int r;

	if (!strcasecmp(name, "sync") || !strcasecmp(name, "async")) {
		r = opt_once(cdp, OPT_MODE, error);
		cdp->mode = !strcasecmp(name, "sync") ? CDP_MODE_SYNC : CDP_MODE_ASYNC;
		return r;
	}
	if (!strcasecmp(name, "queue_mb")) {
		r = opt_once(cdp, OPT_QUEUE, error);
		return r ?: parse_uint(as, 1, 4096, &cdp->queue_mb, error,
				       "queue_mb needs a number from 1 to 4096");
	}
	if (!strcasecmp(name, "region_kb")) {
		r = opt_once(cdp, OPT_REGION, error);
		r = r ?: parse_uint(as, 4, 16384, &cdp->region_kb, error,
				    "region_kb needs a number from 4 to 16384");
		if (!r && !is_power_of_2(cdp->region_kb)) {
			*error = "region_kb must be a power of two";
			r = -EINVAL;
		}
		return r;
	}
	if (!strcasecmp(name, "sync_timeout_ms")) {
		r = opt_once(cdp, OPT_TIMEOUT, error);
		return r ?: parse_uint(as, 1, 3600000, &cdp->sync_timeout_ms, error,
				       "sync_timeout_ms needs a number from 1 to 3600000");
	}
	if (!strcasecmp(name, "on_sync_timeout")) {
		r = opt_once(cdp, OPT_ON_TIMEOUT, error);
		if (r)
			return r;
		v = dm_shift_arg(as);
		if (v && !strcasecmp(v, "degrade")) {
			cdp->timeout_error = false;
		} else if (v && !strcasecmp(v, "error")) {
			cdp->timeout_error = true;
		} else {
			*error = "on_sync_timeout needs degrade or error";
			return -EINVAL;
		}
		return 0;
	}
	if (!strcasecmp(name, "resync_mbps")) {
		r = opt_once(cdp, OPT_RESYNC, error);
		return r ?: parse_uint(as, 0, CDP_MAX_MBPS, &cdp->resync_mbps, error,
				       "resync_mbps needs a number from 0 (unlimited) to 1000000");
	}
	if (!strcasecmp(name, "resync_min_mbps")) {
		r = opt_once(cdp, OPT_RESYNC_MIN, error);
		return r ?: parse_uint(as, 0, CDP_MAX_MBPS, &cdp->resync_min_mbps, error,
				       "resync_min_mbps needs a number from 0 (no limit while busy) to 1000000");
	}
	*error = "Unknown option (expected sync, async, queue_mb, region_kb, sync_timeout_ms, on_sync_timeout, resync_mbps, resync_min_mbps)";
	return -EINVAL;
}

static int parse_options(struct cdp *cdp, struct dm_arg_set *as, char **error)
{
	static const struct dm_arg _args[] = {
		{0, 13, "Invalid number of options (#opts must be 0 to 13 and match the words that follow)"},
	};
	unsigned int argc;
	int r;

	cdp->mode = CDP_MODE_ASYNC;
	cdp->queue_mb = CDP_DEF_QUEUE_MB;
	cdp->region_kb = CDP_DEF_REGION_KB;
	cdp->sync_timeout_ms = CDP_DEF_SYNC_TIMEOUT_MS;
	cdp->resync_min_mbps = CDP_DEF_RESYNC_MIN_MBPS;
	if (!as->argc)
		return 0;
	r = dm_read_arg_group(_args, as, &argc, error);
	if (r)
		return r;
	if (as->argc != argc) {
		*error = "Extra words after the options (check #opts)";
		return -EINVAL;
	}
	while (argc) {
		unsigned int before = as->argc;

		r = parse_one_opt(cdp, as, error);
		if (r)
			return r;
		argc -= before - as->argc;
	}
	if (((u64)cdp->region_kb << 10) * 4 > ((u64)cdp->queue_mb << 20)) {
		*error = "queue_mb must hold at least 4 regions (raise queue_mb or lower region_kb)";
		return -EINVAL;
	}
	return 0;
}

/*
 * dm_read_arg_group() only checks that #opts words exist; an option that
 * takes a value may then swallow more words than #opts counted. Count the
 * words the options need before parsing, so "1 queue_mb" fails cleanly.
 */
static int check_opt_words(struct dm_arg_set *as, char **error)
{
	unsigned int i, n, need = 0;
	static const char * const with_value[] = {
		"queue_mb", "region_kb", "sync_timeout_ms", "on_sync_timeout",
		"resync_mbps", "resync_min_mbps",
	};

	if (!as->argc)
		return 0;
	if (kstrtouint(as->argv[0], 10, &n) || n > as->argc - 1) {
		*error = "Invalid number of options (#opts must be 0 to 13 and match the words that follow)";
		return -EINVAL;
	}
	for (i = 1; i <= n; i++) {
		unsigned int k;

		need++;
		for (k = 0; k < ARRAY_SIZE(with_value); k++) {
			if (!strcasecmp(as->argv[i], with_value[k])) {
				i++;
				need++;
				break;
			}
		}
	}
	if (need != n) {
		*error = "#opts does not match the option words (an option is missing its value?)";
		return -EINVAL;
	}
	return 0;
}

static int get_devices(struct cdp *cdp, struct dm_target *ti, char **argv,
		       char **error)
{
	fmode_t rw = dm_table_get_mode(ti->table);
	int r;

	r = dm_get_device(ti, argv[0], rw, &cdp->origin);
	if (r) {
		*error = "Cannot open origin_dev (check the path or major:minor)";
		return r;
	}
	r = dm_get_device(ti, argv[1], rw, &cdp->meta_dev);
	if (r) {
		*error = "Cannot open meta_dev (check the path or major:minor)";
		return r;
	}
	if (cdp->origin->bdev == cdp->meta_dev->bdev) {
		*error = "origin_dev and meta_dev must be different devices";
		return -EINVAL;
	}
	if (bdev_nr_sectors(cdp->origin->bdev) < ti->len) {
		*error = "origin_dev is smaller than the table length";
		return -EINVAL;
	}
	return 0;
}

/*----------------------------------------------------------------*/
/* Constructor / destructor */
static void cdp_free_state(struct cdp *cdp)
{
	if (cdp->wq)
		destroy_workqueue(cdp->wq);
	cdp_drop_queue(cdp);
	cdp_pool_exit(cdp);
	bioset_exit(&cdp->bs);
	if (cdp->md)
		cdp_meta_close(cdp->md);
	kvfree(cdp->resync);
	kvfree(cdp->touched);
	kvfree(cdp->idle);
	kvfree(cdp->refs);
	if (cdp->meta_dev)
		dm_put_device(cdp->ti, cdp->meta_dev);
	if (cdp->origin)
		dm_put_device(cdp->ti, cdp->origin);
	mutex_destroy(&cdp->fetch_mutex);
	kfree(cdp);
}

static void cdp_park_work(struct work_struct *ws);

static int cdp_ctr(struct dm_target *ti, unsigned int argc, char **argv)
{
	struct dm_arg_set as = { .argc = argc, .argv = argv };
	struct cdp_meta_geometry geo;
	struct cdp *cdp;
	u64 regions;
	bool fresh;
	int r;

	if (argc < 3) {
		ti->error = "Usage: cdp <origin_dev> <meta_dev> <volume_id> [<#opts> <opt>...]";
		return -EINVAL;
	}
	cdp = kzalloc(sizeof(*cdp), GFP_KERNEL);
	if (!cdp) {
		ti->error = "Cannot allocate the target";
		return -ENOMEM;
	}
	cdp->ti = ti;
	spin_lock_init(&cdp->lock);
	mutex_init(&cdp->fetch_mutex);
	INIT_LIST_HEAD(&cdp->ranges);
	INIT_LIST_HEAD(&cdp->parked);
	INIT_LIST_HEAD(&cdp->deferred);
	INIT_LIST_HEAD(&cdp->queue);
	INIT_LIST_HEAD(&cdp->resync_done);
	INIT_LIST_HEAD(&cdp->vol_list);
	init_waitqueue_head(&cdp->wait);
	INIT_WORK(&cdp->work, cdp_worker);
	INIT_DELAYED_WORK(&cdp->tick, cdp_tick);
	INIT_WORK(&cdp->park_work, cdp_park_work);
	/* jiffies starts near a wrap: time_after() against 0 is not "long ago" */
	cdp->resync_paid = jiffies;
	cdp->busy_window = jiffies;
	WRITE_ONCE(cdp->state, CDP_STATE_TRACKING);

	r = parse_volume_id(cdp, argv[2], &ti->error);
	if (r)
		goto bad;
	dm_consume_args(&as, 3);
	r = check_opt_words(&as, &ti->error);
	if (r)
		goto bad;
	r = parse_options(cdp, &as, &ti->error);
	if (r)
		goto bad;
	if (!ti->len) {
		ti->error = "Table length must not be zero";
		r = -EINVAL;
		goto bad;
	}
	r = get_devices(cdp, ti, argv, &ti->error);
	if (r)
		goto bad;

	cdp->origin_sectors = ti->len;
	cdp->region_shift = ilog2(cdp->region_kb) + 1;	/* KiB -> sectors */
	regions = DIV_ROUND_UP_ULL(ti->len, 1ULL << cdp->region_shift);
	if (regions > CDP_MAX_REGIONS) {
		/* about 5.5 bytes of kernel memory per region */
		ti->error = "Too many regions (more than 64M, which need about 350 MiB of kernel memory): raise region_kb (1024 covers 64 TiB, 16384 covers 1 PiB)";
		r = -EINVAL;
		goto bad;
	}
	cdp->nr_regions = regions;
	geo.volume = cdp->volume;
	geo.origin_sectors = ti->len;
	geo.region_shift = cdp->region_shift;
	geo.nr_regions = cdp->nr_regions;

	r = -ENOMEM;
	cdp->resync = cdp_bitmap_zalloc(cdp->nr_regions);
	cdp->touched = cdp_bitmap_zalloc(cdp->nr_regions);
	cdp->refs = kvcalloc(cdp->nr_regions, sizeof(*cdp->refs), GFP_KERNEL);
	/* Never written since load: clearable as soon as acked. */
	cdp->idle = kvmalloc(cdp->nr_regions, GFP_KERNEL);
	if (cdp->idle)
		memset(cdp->idle, U8_MAX, cdp->nr_regions);
	if (!cdp->resync || !cdp->touched || !cdp->refs || !cdp->idle) {
		ti->error = "Cannot allocate region state";
		goto bad;
	}
	r = bioset_init(&cdp->bs, 64, 0, BIOSET_NEED_BVECS);
	if (r) {
		ti->error = "Cannot allocate the bio set";
		goto bad;
	}

	cdp->md = cdp_meta_open(cdp->meta_dev, &geo, &fresh, &ti->error);
	if (IS_ERR(cdp->md)) {
		r = PTR_ERR(cdp->md);
		cdp->md = NULL;
		goto bad;
	}
	if (fresh)
		DMINFO("%s: formatted fresh metadata, full initial sync", cdp->volume);

	r = cdp_pool_init(cdp);
	if (r) {
		ti->error = "Cannot reserve queue_mb of memory for the capture queue";
		goto bad;
	}
	cdp->wq = alloc_ordered_workqueue("dm-cdp-%s", WQ_MEM_RECLAIM, cdp->volume);
	if (!cdp->wq) {
		ti->error = "Cannot create the workqueue";
		r = -ENOMEM;
		goto bad;
	}

	r = dm_set_target_max_io_len(ti, 1U << cdp->region_shift);
	if (r)
		goto bad;
	ti->num_flush_bios = 1;
	ti->num_discard_bios = 1;
	ti->num_write_zeroes_bios = 1;
	ti->per_io_data_size = sizeof(struct cdp_io);
	ti->private = cdp;
	cdp_vol_register(cdp);
	return 0;

bad:
	cdp_free_state(cdp);
	return r;
}

static void cdp_dtr(struct dm_target *ti)
{
	struct cdp *cdp = ti->private;

	cdp_vol_unregister(cdp);
	cancel_delayed_work_sync(&cdp->tick);
	cdp_free_state(cdp);
}

/*----------------------------------------------------------------*/
/* Suspend / resume */
/* While suspending: no resync, no ack wait for new sync writes, no MARK. */
static void cdp_set_suspending(struct cdp *cdp, bool on)
{
	unsigned long flags;

	spin_lock_irqsave(&cdp->lock, flags);
	cdp->suspending = on;
	spin_unlock_irqrestore(&cdp->lock, flags);
}

static void cdp_presuspend(struct dm_target *ti)
{
	struct cdp *cdp = ti->private;

	cdp_set_suspending(cdp, true);
	/* Bios waiting for an ack would block the suspend: complete them. */
	cdp_release_sync(cdp, true, BLK_STS_OK);
	cdp_claim_cancel(cdp);
	wait_event(cdp->wait, !READ_ONCE(cdp->resync_inflight));
	flush_workqueue(cdp->wq);
}

/* The suspend was aborted (e.g. a noflush suspend interrupted). */
static void cdp_presuspend_undo(struct dm_target *ti)
{
	struct cdp *cdp = ti->private;

	cdp_set_suspending(cdp, false);
	cdp_kick(cdp);		/* resync may go on */
}

/*
 * Clear what can be cleared and write the metadata clean, then leave it
 * alone until resume (cdp->meta_parked). On the ordered workqueue: ACK,
 * ATTACH and the messages still queue the worker during a suspend, and the
 * worker and this must not commit at the same time (one image buffer; a commit
 * overtaken by a clear would leave the region's intent unwritten).
 */
static void cdp_park_work(struct work_struct *ws)
{
	struct cdp *cdp = container_of(ws, struct cdp, park_work);
	unsigned long flags;
	int r;

	cdp_lazy_clear(cdp, true);
	spin_lock_irqsave(&cdp->lock, flags);
	cdp_meta_set_seqs(cdp->md, cdp->acked_seq, cdp->last_seq);
	spin_unlock_irqrestore(&cdp->lock, flags);
	r = cdp_meta_commit(cdp->md, &cdp->lock, false);
	if (!r)
		r = cdp_meta_write_sb(cdp->md, true);
	if (r)
		DMERR("%s: cannot write clean metadata (%d)", cdp->volume, r);
	WRITE_ONCE(cdp->meta_parked, true);
}

static void cdp_postsuspend(struct dm_target *ti)
{
	struct cdp *cdp = ti->private;

	cancel_delayed_work_sync(&cdp->tick);
	queue_work(cdp->wq, &cdp->park_work);
	flush_workqueue(cdp->wq);
}

/* First resume: (re)read the bitmap; every dirty region needs a resync. */
static int cdp_preresume(struct dm_target *ti)
{
	struct cdp *cdp = ti->private;
	unsigned long flags;
	int r;

	if (!cdp->loaded) {
		r = cdp_meta_reload(cdp->md);
		if (r) {
			DMERR("%s: cannot load metadata (%d)", cdp->volume, r);
			return r;
		}
		spin_lock_irqsave(&cdp->lock, flags);
		bitmap_copy(cdp->resync, cdp_meta_bits(cdp->md), cdp->nr_regions);
		cdp->resync_count = bitmap_weight(cdp->resync, cdp->nr_regions);
		cdp->acked_seq = cdp_meta_acked_seq(cdp->md);
		cdp->last_seq = max(cdp_meta_last_seq(cdp->md), cdp->acked_seq);
		spin_unlock_irqrestore(&cdp->lock, flags);
		WRITE_ONCE(cdp->loaded, true);
	}
	return 0;
}

static void cdp_resume(struct dm_target *ti)
{
	struct cdp *cdp = ti->private;

	/* the tick is not queued yet and flush_workqueue ordered the rest */
	WRITE_ONCE(cdp->meta_parked, false);
	cdp_set_suspending(cdp, false);
	queue_delayed_work(cdp->wq, &cdp->tick, 0);
}

/*----------------------------------------------------------------*/
/* Status and messages */
static const char *const state_names[] = {
	[CDP_STATE_REPLICATING] = "replicating",
	[CDP_STATE_TRACKING] = "tracking",
	[CDP_STATE_SYNCING] = "syncing",
	[CDP_STATE_DEGRADED] = "degraded",
};

/*
 * Status (STATUSTYPE_INFO), one line of space-separated words:
 *   <mode> <state> <queued_records> <queued_bytes>
 *   <dirty_regions>/<total_regions> <last_seq> <acked_seq>
 *   <resync_left> <resynced> <consumer_portid> <meta_writes> <data_writes>
 *   <dropped> <meta_ok|meta_error>
 * mode: sync|async. state: replicating|tracking|syncing|degraded
 * (degraded: sync mode that fell back to async after a timeout).
 * dirty_regions: bits set in the write-intent bitmap. resync_left: regions
 * still to resync; resynced: regions resynced since load. consumer_portid:
 * netlink port of the attached consumer, 0 if none. meta_writes /
 * data_writes: metadata write I/Os and captured data bios since load.
 * dropped: payloads dropped to tracking.
 *
 * STATUSTYPE_TABLE: the table line with every option spelled out.
 */
static void cdp_status(struct dm_target *ti, status_type_t type,
		       unsigned int status_flags, char *result, unsigned int maxlen)
{
	struct cdp *cdp = ti->private;
	unsigned int sz = 0, state;
	u64 qr, qb, dirty, last, acked, left, resynced, dw, dropped;
	unsigned long flags;
	u32 consumer;
	bool meta_err;

	switch (type) {
	case STATUSTYPE_INFO:
		spin_lock_irqsave(&cdp->lock, flags);
		state = cdp->state;
		if (state == CDP_STATE_REPLICATING && cdp->mode == CDP_MODE_SYNC &&
		    cdp->degraded)
			state = CDP_STATE_DEGRADED;
		qr = cdp->queued_records;
		qb = cdp->queued_bytes;
		dirty = __cdp_meta_dirty(cdp->md);
		last = cdp->last_seq;
		acked = cdp->acked_seq;
		left = cdp->resync_count;
		resynced = cdp->resynced;
		consumer = cdp->consumer;
		dw = cdp->data_writes;
		dropped = cdp->dropped;
		meta_err = cdp->meta_error;
		spin_unlock_irqrestore(&cdp->lock, flags);
		DMEMIT("%s %s %llu %llu %llu/%u %llu %llu %llu %llu %u %llu %llu %llu %s",
		       cdp->mode == CDP_MODE_SYNC ? "sync" : "async",
		       state_names[state], qr, qb, dirty, cdp->nr_regions,
		       last, acked, left, resynced, consumer,
		       cdp_meta_writes(cdp->md), dw, dropped,
		       meta_err ? "meta_error" : "meta_ok");
		break;
	case STATUSTYPE_TABLE:
		DMEMIT("%s %s %s 13 %s queue_mb %u region_kb %u sync_timeout_ms %u on_sync_timeout %s resync_mbps %u resync_min_mbps %u",
		       cdp->origin->name, cdp->meta_dev->name, cdp->volume,
		       cdp->mode == CDP_MODE_SYNC ? "sync" : "async",
		       cdp->queue_mb, cdp->region_kb, cdp->sync_timeout_ms,
		       cdp->timeout_error ? "error" : "degrade", READ_ONCE(cdp->resync_mbps),
		       READ_ONCE(cdp->resync_min_mbps));
		break;
	case STATUSTYPE_IMA:
		DMEMIT_TARGET_NAME_VERSION(ti->type);
		DMEMIT(",origin=%s,meta=%s,volume=%s,mode=%s;", cdp->origin->name,
		       cdp->meta_dev->name, cdp->volume,
		       cdp->mode == CDP_MODE_SYNC ? "sync" : "async");
		break;
	}
}

/* "resync_mbps <n>" / "resync_min_mbps <n>": the rates, without a reload. */
static int cdp_message_rate(struct cdp *cdp, const char *name, const char *val,
			    unsigned int *rate)
{
	unsigned int v;

	if (kstrtouint(val, 10, &v) || v > CDP_MAX_MBPS) {
		DMERR("%s: %s needs a number from 0 to %u", cdp->volume, name, CDP_MAX_MBPS);
		return -EINVAL;
	}
	WRITE_ONCE(*rate, v);
	cdp_kick(cdp);		/* a raised rate applies at once */
	return 0;
}

/*
 * Mark every region for resync, CDP_CLEAR_BATCH regions per hold of the
 * irq-safe lock: one hold over a 64M-region volume kept interrupts off for
 * seconds. The resync may start on the first regions meanwhile.
 */
static void cdp_resync_all(struct cdp *cdp)
{
	unsigned long flags;
	u32 r = 0, end;

	while (r < cdp->nr_regions) {
		end = min_t(u32, r + CDP_CLEAR_BATCH, cdp->nr_regions);
		spin_lock_irqsave(&cdp->lock, flags);
		for (; r < end; r++) {
			__cdp_meta_mark(cdp->md, r);
			if (!__test_and_set_bit(r, cdp->resync))
				cdp->resync_count++;
		}
		__cdp_start_syncing(cdp);
		spin_unlock_irqrestore(&cdp->lock, flags);
		cond_resched();
	}
	cdp_kick(cdp);
}

/*
 * Messages: "resync" (resync every region), "mode sync", "mode async"
 * (also clears a degraded sync mode), "resync_mbps <n>",
 * "resync_min_mbps <n>".
 */
static int cdp_message(struct dm_target *ti, unsigned int argc, char **argv,
		       char *result, unsigned int maxlen)
{
	struct cdp *cdp = ti->private;

	if (argc == 1 && !strcasecmp(argv[0], "resync")) {
		cdp_resync_all(cdp);
		return 0;
	}
	if (argc == 2 && !strcasecmp(argv[0], "mode")) {
		if (!strcasecmp(argv[1], "sync")) {
			WRITE_ONCE(cdp->mode, CDP_MODE_SYNC);
		} else if (!strcasecmp(argv[1], "async")) {
			WRITE_ONCE(cdp->mode, CDP_MODE_ASYNC);
			cdp_release_sync(cdp, true, BLK_STS_OK);
		} else {
			DMERR("%s: mode needs sync or async", cdp->volume);
			return -EINVAL;
		}
		WRITE_ONCE(cdp->degraded, false);
		return 0;
	}
	if (argc == 2 && !strcasecmp(argv[0], "resync_mbps"))
		return cdp_message_rate(cdp, argv[0], argv[1], &cdp->resync_mbps);
	if (argc == 2 && !strcasecmp(argv[0], "resync_min_mbps"))
		return cdp_message_rate(cdp, argv[0], argv[1], &cdp->resync_min_mbps);
	DMERR("%s: unknown message (expected: resync | mode sync|async | resync_mbps <n> | resync_min_mbps <n>)",
	      cdp->volume);
	return -EINVAL;
}

static int cdp_iterate_devices(struct dm_target *ti,
			       iterate_devices_callout_fn fn, void *data)
{
	struct cdp *cdp = ti->private;

	return fn(ti, cdp->origin, 0, ti->len, data);
}

static struct target_type cdp_target = {
	.name = "cdp",
	.version = {1, 0, 0},
	.features = DM_TARGET_NOWAIT,
	.module = THIS_MODULE,
	.ctr = cdp_ctr,
	.dtr = cdp_dtr,
	.map = cdp_map,
	.end_io = cdp_end_io,
	.presuspend = cdp_presuspend,
	.presuspend_undo = cdp_presuspend_undo,
	.postsuspend = cdp_postsuspend,
	.preresume = cdp_preresume,
	.resume = cdp_resume,
	.status = cdp_status,
	.message = cdp_message,
	.iterate_devices = cdp_iterate_devices,
};

static int __init dm_cdp_init(void)
{
	int r;

	r = cdp_nl_init();
	if (r)
		return r;
	r = dm_register_target(&cdp_target);
	if (r) {
		DMERR("register target failed %d", r);
		cdp_nl_exit();
	}
	return r;
}

static void __exit dm_cdp_exit(void)
{
	cdp_nl_exit();
	dm_unregister_target(&cdp_target);
}

module_init(dm_cdp_init);
module_exit(dm_cdp_exit);

MODULE_DESCRIPTION(DM_NAME " continuous data protection target");
MODULE_LICENSE("GPL");
MODULE_ALIAS_GENL_FAMILY(CDP_GENL_NAME);
