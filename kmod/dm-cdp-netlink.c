// SPDX-License-Identifier: GPL-2.0
/*
 * dm-cdp generic netlink family "dm_cdp" (docs/netlink-protocol.md).
 *
 * Every op needs CAP_NET_ADMIN (GENL_ADMIN_PERM); every attribute is in
 * cdp_policy and validated strictly. FETCH is a dump that makes progress
 * at any skb size: a record that does not fit is sent in pieces (same seq,
 * increasing offset), the dump position lives in cb->ctx.
 *
 * parallel_ops: the ops do not run under the genl_mutex every generic
 * netlink family shares. Under it, each FETCH dump callback (a payload
 * copy) held up the MARKs of a snapshot's freeze window, the sync-mode
 * ACKs and every other family. The locks below cover all state the ops
 * touch.
 */
#include <linux/module.h>
#include <linux/highmem.h>
#include <linux/mutex.h>
#include <net/genetlink.h>
#include <net/netlink.h>
#include "dm-cdp-core.h"
#include "dm-cdp-metadata.h"

/*
 * cdp_vols: every constructed target. Modified with both locks held; the
 * netlink ops hold the mutex while they use a volume (so dtr waits for
 * them), the socket-release notifier reads under the spinlock.
 * FETCH and ACK hand over to the volume's fetch_mutex (taken under
 * cdp_vols_mutex) for their long part, the payload copy and the frees:
 * a nice-10 consumer preempted mid-copy must not hold up a MARK (it runs
 * inside an application's freeze) or the other volumes. Unregistering
 * waits for the volume's fetch_mutex once it is off the list.
 */
static LIST_HEAD(cdp_vols);
static DEFINE_MUTEX(cdp_vols_mutex);
static DEFINE_SPINLOCK(cdp_vols_lock);

static struct genl_family cdp_family;

#define CDP_FETCH_DEFAULT_BYTES (4U << 20)

static const struct nla_policy cdp_policy[CDP_ATTR_MAX + 1] = {
	[CDP_ATTR_VOLUME] = { .type = NLA_NUL_STRING, .len = CDP_VOLUME_ID_MAX },
	[CDP_ATTR_SEQ] = { .type = NLA_U64 },
	[CDP_ATTR_MAX_BYTES] = NLA_POLICY_MIN(NLA_U32, 1),
	[CDP_ATTR_RECORD] = { .type = NLA_REJECT },
	[CDP_ATTR_VOLINFO] = { .type = NLA_REJECT },
	[CDP_ATTR_EVENT] = { .type = NLA_REJECT },
	[CDP_ATTR_PAD] = { .type = NLA_REJECT },
};

/* Names an instance in FETCH dumps; under cdp_vols_mutex (ctrs run in parallel). */
static u64 cdp_next_instance;

void cdp_vol_register(struct cdp *cdp)
{
	mutex_lock(&cdp_vols_mutex);
	cdp->instance = ++cdp_next_instance;
	spin_lock(&cdp_vols_lock);
	list_add_tail(&cdp->vol_list, &cdp_vols);
	spin_unlock(&cdp_vols_lock);
	mutex_unlock(&cdp_vols_mutex);
}

void cdp_vol_unregister(struct cdp *cdp)
{
	mutex_lock(&cdp_vols_mutex);
	spin_lock(&cdp_vols_lock);
	list_del_init(&cdp->vol_list);
	spin_unlock(&cdp_vols_lock);
	mutex_unlock(&cdp_vols_mutex);
	/* a FETCH or ACK that found it before still runs: wait for it */
	mutex_lock(&cdp->fetch_mutex);
	mutex_unlock(&cdp->fetch_mutex);
}

/*
 * Mutex held. Only a table that has been resumed once (loaded) is found:
 * before that its bitmap is not read yet. During a reload two instances
 * share a volume_id: prefer one whose metadata is not parked (suspended,
 * written clean), then the newer (cdp_vols is in creation order).
 */
static struct cdp *cdp_find(const char *volume)
{
	struct cdp *cdp, *found = NULL;

	list_for_each_entry(cdp, &cdp_vols, vol_list) {
		if (strcmp(cdp->volume, volume) || !READ_ONCE(cdp->loaded))
			continue;
		if (!found || !READ_ONCE(cdp->meta_parked) || READ_ONCE(found->meta_parked))
			found = cdp;
	}
	return found;
}

static struct cdp *cdp_find_instance(u64 instance)
{
	struct cdp *cdp;

	list_for_each_entry(cdp, &cdp_vols, vol_list)
		if (cdp->instance == instance)
			return cdp;
	return NULL;
}

static int cdp_fill_volinfo(struct sk_buff *skb, struct cdp *cdp)
{
	struct nlattr *nest;
	unsigned long flags;
	u64 qr, qb, last, acked, left, resynced;
	u8 state;
	u32 consumer;
	u64 dirty;

	spin_lock_irqsave(&cdp->lock, flags);
	state = cdp->state;
	if (state == CDP_STATE_REPLICATING && cdp->mode == CDP_MODE_SYNC &&
	    cdp->degraded)
		state = CDP_STATE_DEGRADED;
	qr = cdp->queued_records;
	qb = cdp->queued_bytes;
	last = cdp->last_seq;
	acked = cdp->acked_seq;
	left = cdp->resync_count;
	resynced = cdp->resynced;
	consumer = cdp->consumer;
	dirty = __cdp_meta_dirty(cdp->md);
	spin_unlock_irqrestore(&cdp->lock, flags);

	nest = nla_nest_start(skb, CDP_ATTR_VOLINFO);
	if (!nest)
		return -EMSGSIZE;
	if (nla_put_string(skb, CDP_VOL_ATTR_VOLUME, cdp->volume) ||
	    nla_put_u8(skb, CDP_VOL_ATTR_MODE, READ_ONCE(cdp->mode)) ||
	    nla_put_u8(skb, CDP_VOL_ATTR_STATE, state) ||
	    nla_put_u64_64bit(skb, CDP_VOL_ATTR_ORIGIN_SECTORS, cdp->origin_sectors,
			      CDP_VOL_ATTR_PAD) ||
	    nla_put_u32(skb, CDP_VOL_ATTR_REGION_SECTORS, 1U << cdp->region_shift) ||
	    nla_put_u64_64bit(skb, CDP_VOL_ATTR_REGIONS, cdp->nr_regions, CDP_VOL_ATTR_PAD) ||
	    nla_put_u64_64bit(skb, CDP_VOL_ATTR_DIRTY, dirty, CDP_VOL_ATTR_PAD) ||
	    nla_put_u64_64bit(skb, CDP_VOL_ATTR_RESYNC_LEFT, left, CDP_VOL_ATTR_PAD) ||
	    nla_put_u64_64bit(skb, CDP_VOL_ATTR_QUEUED_RECORDS, qr, CDP_VOL_ATTR_PAD) ||
	    nla_put_u64_64bit(skb, CDP_VOL_ATTR_QUEUED_BYTES, qb, CDP_VOL_ATTR_PAD) ||
	    nla_put_u64_64bit(skb, CDP_VOL_ATTR_LAST_SEQ, last, CDP_VOL_ATTR_PAD) ||
	    nla_put_u64_64bit(skb, CDP_VOL_ATTR_ACKED_SEQ, acked, CDP_VOL_ATTR_PAD) ||
	    nla_put_u32(skb, CDP_VOL_ATTR_CONSUMER, consumer) ||
	    nla_put_u64_64bit(skb, CDP_VOL_ATTR_GENERATION,
			      cdp_meta_generation(cdp->md), CDP_VOL_ATTR_PAD) ||
	    nla_put_u64_64bit(skb, CDP_VOL_ATTR_RESYNCED, resynced, CDP_VOL_ATTR_PAD)) {
		nla_nest_cancel(skb, nest);
		return -EMSGSIZE;
	}
	nla_nest_end(skb, nest);
	return 0;
}

/* Look up the volume named in a request; the error goes to extack. */
static struct cdp *cdp_req_volume(struct genl_info *info)
{
	struct cdp *cdp;

	if (GENL_REQ_ATTR_CHECK(info, CDP_ATTR_VOLUME))
		return ERR_PTR(-EINVAL);
	cdp = cdp_find(nla_data(info->attrs[CDP_ATTR_VOLUME]));
	if (!cdp) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[CDP_ATTR_VOLUME],
				    "no active cdp target with this volume_id (dmsetup table; a new one is active once resumed)");
		return ERR_PTR(-ENODEV);
	}
	return cdp;
}

/* The request must come from the socket that attached the volume. */
static int cdp_check_consumer(struct cdp *cdp, u32 portid,
			      struct netlink_ext_ack *extack)
{
	u32 consumer = READ_ONCE(cdp->consumer);

	if (consumer != portid) {
		NL_SET_ERR_MSG(extack, "this socket is not the volume's consumer; ATTACH first");
		return -ENOTCONN;
	}
	return 0;
}

/*
 * The reply is built before the volume is taken and the volume is given
 * back if the reply cannot be sent: a client that saw ATTACH fail must
 * not be left as the consumer (no other client could attach until its
 * socket closes).
 */
static int cdp_nl_attach(struct sk_buff *skb, struct genl_info *info)
{
	struct sk_buff *msg;
	unsigned long flags;
	struct cdp *cdp;
	bool taken = false;
	void *hdr;
	int r;

	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &cdp_family, 0, CDP_CMD_ATTACH);
	if (!hdr) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	mutex_lock(&cdp_vols_mutex);
	cdp = cdp_req_volume(info);
	if (IS_ERR(cdp)) {
		r = PTR_ERR(cdp);
		goto fail;
	}
	spin_lock_irqsave(&cdp->lock, flags);
	if (cdp->consumer && cdp->consumer != info->snd_portid) {
		spin_unlock_irqrestore(&cdp->lock, flags);
		NL_SET_ERR_MSG(info->extack, "volume already has a consumer; stop it or DETACH first");
		r = -EBUSY;
		goto fail;
	}
	taken = !cdp->consumer;
	cdp->consumer = info->snd_portid;
	spin_unlock_irqrestore(&cdp->lock, flags);

	r = cdp_fill_volinfo(msg, cdp);
	if (r)
		goto fail;
	genlmsg_end(msg, hdr);
	r = genlmsg_reply(msg, info);
	if (!r) {
		cdp_kick(cdp);
		goto out;
	}
	msg = NULL;	/* consumed by genlmsg_reply even on error */
fail:
	nlmsg_free(msg);
	if (taken) {
		spin_lock_irqsave(&cdp->lock, flags);
		if (cdp->consumer == info->snd_portid)
			cdp->consumer = 0;
		spin_unlock_irqrestore(&cdp->lock, flags);
	}
out:
	mutex_unlock(&cdp_vols_mutex);
	return r;
}

static int cdp_nl_detach(struct sk_buff *skb, struct genl_info *info)
{
	unsigned long flags;
	struct cdp *cdp;
	int r;

	mutex_lock(&cdp_vols_mutex);
	cdp = cdp_req_volume(info);
	r = IS_ERR(cdp) ? PTR_ERR(cdp) :
	    cdp_check_consumer(cdp, info->snd_portid, info->extack);
	if (!r) {
		spin_lock_irqsave(&cdp->lock, flags);
		cdp->consumer = 0;
		spin_unlock_irqrestore(&cdp->lock, flags);
	}
	mutex_unlock(&cdp_vols_mutex);
	return r;
}

static int cdp_nl_ack(struct sk_buff *skb, struct genl_info *info)
{
	struct cdp *cdp;
	int r;

	mutex_lock(&cdp_vols_mutex);
	cdp = cdp_req_volume(info);
	r = IS_ERR(cdp) ? PTR_ERR(cdp) :
	    cdp_check_consumer(cdp, info->snd_portid, info->extack);
	if (!r && GENL_REQ_ATTR_CHECK(info, CDP_ATTR_SEQ))
		r = -EINVAL;
	if (r) {
		mutex_unlock(&cdp_vols_mutex);
		return r;
	}
	mutex_lock(&cdp->fetch_mutex);
	mutex_unlock(&cdp_vols_mutex);
	r = cdp_ack(cdp, nla_get_u64(info->attrs[CDP_ATTR_SEQ]));
	mutex_unlock(&cdp->fetch_mutex);
	if (r)
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[CDP_ATTR_SEQ],
				    "ack beyond the last record sent");
	return r;
}

static int cdp_nl_mark(struct sk_buff *skb, struct genl_info *info)
{
	struct sk_buff *msg;
	struct cdp *cdp;
	void *hdr;
	u64 seq;
	int r;

	mutex_lock(&cdp_vols_mutex);
	cdp = cdp_req_volume(info);
	if (IS_ERR(cdp)) {
		r = PTR_ERR(cdp);
		goto out;
	}
	seq = cdp_mark(cdp, &r);
	if (r) {
		if (r == -EAGAIN)
			NL_SET_ERR_MSG(info->extack,
				       "volume is tracking or resyncing: no consistent point to mark until it replicates again");
		if (r == -EBUSY)
			NL_SET_ERR_MSG(info->extack,
				       "volume is suspended or being reloaded: mark it once it is resumed");
		goto out;
	}
	r = -ENOMEM;
	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		goto out;
	hdr = genlmsg_put_reply(msg, info, &cdp_family, 0, CDP_CMD_MARK);
	if (!hdr || nla_put_u64_64bit(msg, CDP_ATTR_SEQ, seq, CDP_ATTR_PAD)) {
		nlmsg_free(msg);
		r = -EMSGSIZE;
		goto out;
	}
	genlmsg_end(msg, hdr);
	r = genlmsg_reply(msg, info);
out:
	mutex_unlock(&cdp_vols_mutex);
	return r;
}

static int cdp_nl_list_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	long idx = 0, start = cb->args[0];
	struct cdp *cdp;
	void *hdr;

	mutex_lock(&cdp_vols_mutex);
	list_for_each_entry(cdp, &cdp_vols, vol_list) {
		if (idx++ < start)
			continue;
		hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq,
				  &cdp_family, NLM_F_MULTI, CDP_CMD_LIST);
		if (!hdr)
			break;
		if (cdp_fill_volinfo(skb, cdp)) {
			genlmsg_cancel(skb, hdr);
			break;
		}
		genlmsg_end(skb, hdr);
		cb->args[0] = idx;
	}
	mutex_unlock(&cdp_vols_mutex);
	return skb->len;
}

/*----------------------------------------------------------------*/
/*
 * FETCH. The dump's state lives in cb->ctx as u64s: cb->args are longs,
 * and on a 32-bit kernel a seq past 2^32 would never match its record.
 */
struct cdp_fetch_state {
	u64 instance;
	u64 seq;		/* next record to send */
	u64 sent;		/* bytes */
	u32 off;		/* in that record's payload */
	u32 budget;		/* bytes */
	bool done;
};

static struct cdp_fetch_state *cdp_fetch_state(struct netlink_callback *cb)
{
	BUILD_BUG_ON(sizeof(struct cdp_fetch_state) > sizeof(cb->ctx));
	return (struct cdp_fetch_state *)cb->ctx;
}

static int cdp_nl_fetch_start(struct netlink_callback *cb)
{
	const struct genl_dumpit_info *info = genl_dumpit_info(cb);
	struct cdp_fetch_state *fs = cdp_fetch_state(cb);
	struct nlattr **attrs = info->attrs;
	struct cdp *cdp;
	int r = 0;

	if (!attrs[CDP_ATTR_VOLUME] || !attrs[CDP_ATTR_SEQ]) {
		NL_SET_ERR_MSG(cb->extack, "FETCH needs VOLUME and SEQ");
		return -EINVAL;
	}
	mutex_lock(&cdp_vols_mutex);
	cdp = cdp_find(nla_data(attrs[CDP_ATTR_VOLUME]));
	if (!cdp) {
		NL_SET_ERR_MSG(cb->extack, "no active cdp target with this volume_id");
		r = -ENODEV;
	} else {
		r = cdp_check_consumer(cdp, NETLINK_CB(cb->skb).portid, cb->extack);
	}
	if (!r) {
		memset(fs, 0, sizeof(*fs));
		fs->instance = cdp->instance;
		fs->seq = nla_get_u64(attrs[CDP_ATTR_SEQ]) + 1;
		fs->budget = attrs[CDP_ATTR_MAX_BYTES] ?
			nla_get_u32(attrs[CDP_ATTR_MAX_BYTES]) : CDP_FETCH_DEFAULT_BYTES;
	}
	mutex_unlock(&cdp_vols_mutex);
	return r;
}

static u32 rec_data_len(const struct cdp_rec *rec)
{
	return rec->nr_pages ? rec->len : 0;
}

static void copy_from_rec(void *dst, const struct cdp_rec *rec, u32 off, u32 n)
{
	while (n) {
		u32 po = offset_in_page(off);
		u32 k = min_t(u32, n, PAGE_SIZE - po);
		void *src = kmap_local_page(rec->pages[off >> PAGE_SHIFT]);

		memcpy(dst, src + po, k);
		kunmap_local(src);
		dst += k;
		off += k;
		n -= k;
	}
}

/* Worst-case size of one piece without its data. */
static int piece_overhead(void)
{
	return nla_total_size(0) +			/* RECORD nest */
		3 * nla_total_size_64bit(sizeof(u64)) +	/* SEQ SECTOR TIME */
		3 * nla_total_size(sizeof(u32)) +	/* OFFSET LEN FLAGS */
		nla_total_size(sizeof(u8)) +		/* OP */
		nla_total_size(0) + NLA_ALIGNTO;	/* DATA header */
}

/*
 * Put as much of @rec from *@off as the skb takes. Returns the data bytes
 * put (0 is fine for a record without data), -EMSGSIZE if nothing fits.
 */
static int put_piece(struct sk_buff *skb, const struct cdp_rec *rec, u32 off)
{
	u32 left = rec_data_len(rec) - off, chunk;
	int room = skb_tailroom(skb) - piece_overhead();
	struct nlattr *nest, *data;

	if (room < 0 || (left && room < SECTOR_SIZE))
		return -EMSGSIZE;
	chunk = min3(left, (u32)CDP_PIECE_MAX, (u32)room);
	nest = nla_nest_start(skb, CDP_ATTR_RECORD);
	if (!nest)
		return -EMSGSIZE;
	if (nla_put_u64_64bit(skb, CDP_REC_ATTR_SEQ, rec->seq, CDP_REC_ATTR_PAD) ||
	    nla_put_u32(skb, CDP_REC_ATTR_OFFSET, off) ||
	    nla_put_u32(skb, CDP_REC_ATTR_LEN, rec->len) ||
	    nla_put_u64_64bit(skb, CDP_REC_ATTR_SECTOR, rec->sector, CDP_REC_ATTR_PAD) ||
	    nla_put_u8(skb, CDP_REC_ATTR_OP, rec->op) ||
	    nla_put_u32(skb, CDP_REC_ATTR_FLAGS, rec->flags) ||
	    nla_put_u64_64bit(skb, CDP_REC_ATTR_TIME, rec->time_ns, CDP_REC_ATTR_PAD))
		goto cancel;
	if (rec->nr_pages) {
		data = nla_reserve(skb, CDP_REC_ATTR_DATA, chunk);
		if (!data)
			goto cancel;
		copy_from_rec(nla_data(data), rec, off, chunk);
	}
	nla_nest_end(skb, nest);
	return chunk;
cancel:
	nla_nest_cancel(skb, nest);
	return -EMSGSIZE;
}

/*
 * Lock held. First record with seq >= @seq. A consumer fetches forward, so
 * start from where the last lookup ended (fetch_hint) instead of walking
 * the whole queue for every piece.
 */
static struct cdp_rec *__find_rec(struct cdp *cdp, u64 seq)
{
	struct cdp_rec *rec = cdp->fetch_hint;

	if (!rec || rec->seq > seq)
		rec = list_first_entry_or_null(&cdp->queue, struct cdp_rec, list);
	if (!rec)
		return NULL;
	list_for_each_entry_from(rec, &cdp->queue, list) {
		if (rec->seq >= seq) {
			cdp->fetch_hint = rec;
			return rec;
		}
	}
	return NULL;
}

static int cdp_nl_fetch_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct cdp_fetch_state *fs = cdp_fetch_state(cb);
	unsigned long flags;
	struct cdp_rec *rec;
	struct cdp *cdp;
	int n = 0, r = 0;
	void *hdr;

	if (fs->done)
		return 0;
	mutex_lock(&cdp_vols_mutex);
	cdp = cdp_find_instance(fs->instance);
	if (!cdp) {
		mutex_unlock(&cdp_vols_mutex);
		return -ENODEV;
	}
	mutex_lock(&cdp->fetch_mutex);
	mutex_unlock(&cdp_vols_mutex);
	hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq,
			  &cdp_family, NLM_F_MULTI, CDP_CMD_FETCH);
	if (!hdr) {
		mutex_unlock(&cdp->fetch_mutex);
		return -EMSGSIZE;
	}
	for (;;) {
		spin_lock_irqsave(&cdp->lock, flags);
		rec = __find_rec(cdp, fs->seq);
		if (!rec)	/* caught up: the next record triggers a NOTIFY */
			cdp->want_notify = true;
		spin_unlock_irqrestore(&cdp->lock, flags);
		if (!rec) {
			fs->done = true;
			break;
		}
		/*
		 * Copy without cdp->lock: the write path and end_io (irq) take
		 * it for every bio, and a payload copy under it with irqs off
		 * stalls them. @rec stays: a queued record is freed only by ACK
		 * or by teardown, and both need cdp->fetch_mutex, held here; its
		 * header and pages do not change once queued.
		 */
		if (rec->seq != fs->seq) {
			fs->seq = rec->seq;
			fs->off = 0;
		}
		r = put_piece(skb, rec, fs->off);
		if (r < 0)
			break;
		fs->off += r;
		fs->sent += r;
		n++;
		if (fs->off < rec_data_len(rec))
			break;		/* skb full mid-record: next skb */
		fs->seq++;
		fs->off = 0;
		if (fs->sent >= fs->budget) {
			fs->done = true;
			break;
		}
	}
	mutex_unlock(&cdp->fetch_mutex);
	if (!n) {
		genlmsg_cancel(skb, hdr);
		/* Nothing fits even in an empty skb: fail rather than loop. */
		return fs->done ? 0 : -EMSGSIZE;
	}
	genlmsg_end(skb, hdr);
	return skb->len;
}

/*----------------------------------------------------------------*/
/* Multicast */
static void cdp_nl_multicast(struct cdp *cdp, u8 cmd, u32 event, u64 seq)
{
	struct sk_buff *msg;
	void *hdr;

	if (!genl_has_listeners(&cdp_family, &init_net, 0))
		return;
	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return;
	hdr = genlmsg_put(msg, 0, 0, &cdp_family, 0, cmd);
	if (!hdr ||
	    nla_put_string(msg, CDP_ATTR_VOLUME, cdp->volume) ||
	    (event && nla_put_u32(msg, CDP_ATTR_EVENT, event)) ||
	    nla_put_u64_64bit(msg, CDP_ATTR_SEQ, seq, CDP_ATTR_PAD)) {
		nlmsg_free(msg);
		return;
	}
	genlmsg_end(msg, hdr);
	genlmsg_multicast(&cdp_family, msg, 0, 0, GFP_KERNEL);
}

/* Worker context. */
void cdp_nl_event(struct cdp *cdp, u32 event, u64 seq)
{
	cdp_nl_multicast(cdp, CDP_CMD_EVENT, event, seq);
}

void cdp_nl_notify(struct cdp *cdp)
{
	cdp_nl_multicast(cdp, CDP_CMD_NOTIFY, 0, READ_ONCE(cdp->last_seq));
}

/*
 * A consumer's socket closed (crash or exit): detach it. Port ids are
 * unique per network namespace only, and the family is not netnsok (its
 * sockets are in init_net): a socket closing in a container must not
 * detach cdpd. Under cdp_vols_lock, so no sleeping.
 */
static int cdp_nl_release(struct notifier_block *nb, unsigned long event, void *ptr)
{
	struct netlink_notify *n = ptr;
	unsigned long flags;
	struct cdp *cdp;

	if (event != NETLINK_URELEASE || n->protocol != NETLINK_GENERIC || !n->portid ||
	    !net_eq(n->net, &init_net))
		return NOTIFY_DONE;
	spin_lock(&cdp_vols_lock);
	list_for_each_entry(cdp, &cdp_vols, vol_list) {
		spin_lock_irqsave(&cdp->lock, flags);
		if (cdp->consumer == n->portid) {
			cdp->consumer = 0;
			__cdp_event(cdp, CDP_EV_CONSUMER_LOST, cdp->last_seq);
		}
		spin_unlock_irqrestore(&cdp->lock, flags);
	}
	spin_unlock(&cdp_vols_lock);
	return NOTIFY_DONE;
}

static struct notifier_block cdp_nl_notifier = {
	.notifier_call = cdp_nl_release,
};

static const struct genl_ops cdp_ops[] = {
	{
		.cmd = CDP_CMD_LIST,
		.dumpit = cdp_nl_list_dump,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = CDP_CMD_ATTACH,
		.doit = cdp_nl_attach,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = CDP_CMD_DETACH,
		.doit = cdp_nl_detach,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = CDP_CMD_FETCH,
		.start = cdp_nl_fetch_start,
		.dumpit = cdp_nl_fetch_dump,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = CDP_CMD_ACK,
		.doit = cdp_nl_ack,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = CDP_CMD_MARK,
		.doit = cdp_nl_mark,
		.flags = GENL_ADMIN_PERM,
	},
};

static const struct genl_multicast_group cdp_mcgrps[] = {
	{ .name = CDP_GENL_MCAST_EVENTS },
};

static struct genl_family cdp_family __ro_after_init = {
	.name = CDP_GENL_NAME,
	.version = CDP_GENL_VERSION,
	.maxattr = CDP_ATTR_MAX,
	.policy = cdp_policy,
	.module = THIS_MODULE,
	.parallel_ops = true,
	.ops = cdp_ops,
	.n_ops = ARRAY_SIZE(cdp_ops),
	.mcgrps = cdp_mcgrps,
	.n_mcgrps = ARRAY_SIZE(cdp_mcgrps),
};

int cdp_nl_init(void)
{
	int r;

	r = genl_register_family(&cdp_family);
	if (r) {
		DMERR("cannot register generic netlink family %s (%d)", CDP_GENL_NAME, r);
		return r;
	}
	r = netlink_register_notifier(&cdp_nl_notifier);
	if (r)
		genl_unregister_family(&cdp_family);
	return r;
}

void cdp_nl_exit(void)
{
	netlink_unregister_notifier(&cdp_nl_notifier);
	genl_unregister_family(&cdp_family);
}
