// SPDX-License-Identifier: GPL-2.0
/*
 * nl.c - libnl-genl-3 client of the dm_cdp generic netlink family.
 *
 * One request path (nl_request) sets the valid/finish/ack/error callbacks
 * on one nl_cb and receives until the kernel's answer is complete; the
 * error handler keeps the kernel's extended-ack text. FETCH joins record
 * pieces (same seq, increasing offset) before handing records out.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/netlink.h>
#include <netlink/netlink.h>
#include <netlink/genl/genl.h>
#include <netlink/genl/ctrl.h>
#include <netlink/attr.h>
#include "nl.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

struct cdp_nl {
	struct nl_sock *sk;
	int family;
	char err[256];
	uint8_t *buf;			/* record being joined */
	size_t cap;
};

/* Per-request state shared by the callbacks. */
struct req {
	struct cdp_nl *nl;
	int err;			/* 1 while waiting, then 0 or -errno */
	int (*valid)(struct nl_msg *msg, struct req *rq);
	void *arg;
};

static void set_err(struct cdp_nl *nl, int err, const char *what)
{
	const char *hint = "";

	if (err == -EPERM)
		hint = " (needs CAP_NET_ADMIN: run as root)";
	snprintf(nl->err, sizeof(nl->err), "%s: %s%s", what, strerror(-err), hint);
}

const char *cdp_nl_error(const struct cdp_nl *nl)
{
	return nl->err;
}

int cdp_nl_fd(const struct cdp_nl *nl)
{
	return nl_socket_get_fd(nl->sk);
}

/* Extended ack: the TLVs after the (capped) echoed request header. */
static int error_cb(struct sockaddr_nl *who, struct nlmsgerr *e, void *arg)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)((char *)e - NLMSG_HDRLEN);
	struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];
	struct req *rq = arg;
	size_t off = sizeof(*e);
	int len;

	(void)who;
	rq->err = e->error ? e->error : -EPROTO;
	set_err(rq->nl, rq->err, "kernel");
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return NL_STOP;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - NLMSG_HDRLEN;
	len = (int)nlh->nlmsg_len - NLMSG_HDRLEN - (int)off;
	if (len <= 0 ||
	    nla_parse(tb, NLMSGERR_ATTR_MAX, (struct nlattr *)((char *)e + off), len, NULL))
		return NL_STOP;
	if (tb[NLMSGERR_ATTR_MSG])
		snprintf(rq->nl->err, sizeof(rq->nl->err), "kernel: %s (%s)",
			 nla_get_string(tb[NLMSGERR_ATTR_MSG]), strerror(-rq->err));
	return NL_STOP;
}

/* NLMSG_DONE of a dump carries the dump's own status. */
static int finish_cb(struct nl_msg *msg, void *arg)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct req *rq = arg;
	int status = 0;

	if (nlmsg_datalen(nlh) >= (int)sizeof(int))
		memcpy(&status, nlmsg_data(nlh), sizeof(int));
	rq->err = status < 0 ? status : 0;
	if (status < 0)
		set_err(rq->nl, status, "kernel (dump)");
	return NL_STOP;
}

static int ack_cb(struct nl_msg *msg, void *arg)
{
	struct req *rq = arg;

	(void)msg;
	rq->err = 0;
	return NL_STOP;
}

static int valid_cb(struct nl_msg *msg, void *arg)
{
	struct req *rq = arg;

	return rq->valid ? rq->valid(msg, rq) : NL_OK;
}

/*
 * Send @msg (consumed) and receive until the ack, the dump's end or an
 * error. Returns 0 or -errno (message in nl->err).
 */
static int nl_request(struct cdp_nl *nl, struct nl_msg *msg,
		      int (*valid)(struct nl_msg *, struct req *), void *arg)
{
	struct req rq = { .nl = nl, .err = 1, .valid = valid, .arg = arg };
	struct nl_cb *cb;
	int r;

	cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!cb) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	nl_cb_err(cb, NL_CB_CUSTOM, error_cb, &rq);
	nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, finish_cb, &rq);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, ack_cb, &rq);
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, valid_cb, &rq);

	r = nl_send_auto(nl->sk, msg);
	nlmsg_free(msg);
	if (r < 0) {
		snprintf(nl->err, sizeof(nl->err), "netlink send: %s", nl_geterror(r));
		nl_cb_put(cb);
		return -EIO;
	}
	while (rq.err > 0) {
		r = nl_recvmsgs(nl->sk, cb);
		if (r < 0 && rq.err > 0) {
			snprintf(nl->err, sizeof(nl->err), "netlink receive: %s", nl_geterror(r));
			rq.err = -EIO;
		}
	}
	nl_cb_put(cb);
	return rq.err;
}

/* A request for @cmd carrying the volume name. */
static struct nl_msg *new_msg(struct cdp_nl *nl, uint8_t cmd, int flags,
			      const char *volume)
{
	struct nl_msg *msg = nlmsg_alloc();

	if (!msg)
		return NULL;
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, nl->family, 0, flags,
			 cmd, CDP_GENL_VERSION))
		goto fail;
	if (volume && nla_put_string(msg, CDP_ATTR_VOLUME, volume) < 0)
		goto fail;
	return msg;
fail:
	nlmsg_free(msg);
	return NULL;
}

int cdp_nl_open(struct cdp_nl **out)
{
	struct cdp_nl *nl = calloc(1, sizeof(*nl));
	int one = 1;

	*out = NULL;
	if (!nl)
		return -ENOMEM;
	nl->sk = nl_socket_alloc();
	if (!nl->sk)
		goto nomem;
	if (genl_connect(nl->sk)) {
		free(nl);
		return -ECONNREFUSED;
	}
	nl_socket_set_buffer_size(nl->sk, 8 << 20, 0);
	nl_socket_enable_msg_peek(nl->sk);
	setsockopt(nl_socket_get_fd(nl->sk), SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	setsockopt(nl_socket_get_fd(nl->sk), SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	nl->family = genl_ctrl_resolve(nl->sk, CDP_GENL_NAME);
	if (nl->family < 0) {
		snprintf(nl->err, sizeof(nl->err),
			 "generic netlink family %s not found: load the module (modprobe dm-cdp or insmod kmod/dm-cdp.ko)",
			 CDP_GENL_NAME);
		*out = nl;	/* so the caller can read the message */
		return -ENOENT;
	}
	*out = nl;
	return 0;
nomem:
	free(nl);
	return -ENOMEM;
}

void cdp_nl_close(struct cdp_nl *nl)
{
	if (!nl)
		return;
	if (nl->sk)
		nl_socket_free(nl->sk);
	free(nl->buf);
	free(nl);
}

/*----------------------------------------------------------------
 * LIST / ATTACH
 *--------------------------------------------------------------*/
static struct nla_policy vol_policy[CDP_VOL_ATTR_MAX + 1] = {
	[CDP_VOL_ATTR_VOLUME] = { .type = NLA_STRING },
	[CDP_VOL_ATTR_MODE] = { .type = NLA_U8 },
	[CDP_VOL_ATTR_STATE] = { .type = NLA_U8 },
	[CDP_VOL_ATTR_ORIGIN_SECTORS] = { .type = NLA_U64 },
	[CDP_VOL_ATTR_REGION_SECTORS] = { .type = NLA_U32 },
	[CDP_VOL_ATTR_REGIONS] = { .type = NLA_U64 },
	[CDP_VOL_ATTR_DIRTY] = { .type = NLA_U64 },
	[CDP_VOL_ATTR_RESYNC_LEFT] = { .type = NLA_U64 },
	[CDP_VOL_ATTR_QUEUED_RECORDS] = { .type = NLA_U64 },
	[CDP_VOL_ATTR_QUEUED_BYTES] = { .type = NLA_U64 },
	[CDP_VOL_ATTR_LAST_SEQ] = { .type = NLA_U64 },
	[CDP_VOL_ATTR_ACKED_SEQ] = { .type = NLA_U64 },
	[CDP_VOL_ATTR_CONSUMER] = { .type = NLA_U32 },
	[CDP_VOL_ATTR_GENERATION] = { .type = NLA_U64 },
	[CDP_VOL_ATTR_RESYNCED] = { .type = NLA_U64 },
};

static uint64_t get64(struct nlattr **tb, int i)
{
	return tb[i] ? nla_get_u64(tb[i]) : 0;
}

static int parse_volinfo(struct nl_msg *msg, struct cdp_volinfo *vi)
{
	struct nlattr *top[CDP_ATTR_MAX + 1], *tb[CDP_VOL_ATTR_MAX + 1];

	if (genlmsg_parse(nlmsg_hdr(msg), 0, top, CDP_ATTR_MAX, NULL) ||
	    !top[CDP_ATTR_VOLINFO] ||
	    nla_parse_nested(tb, CDP_VOL_ATTR_MAX, top[CDP_ATTR_VOLINFO], vol_policy))
		return -EPROTO;
	memset(vi, 0, sizeof(*vi));
	if (tb[CDP_VOL_ATTR_VOLUME])
		snprintf(vi->volume, sizeof(vi->volume), "%s",
			 nla_get_string(tb[CDP_VOL_ATTR_VOLUME]));
	vi->mode = tb[CDP_VOL_ATTR_MODE] ? nla_get_u8(tb[CDP_VOL_ATTR_MODE]) : 0;
	vi->state = tb[CDP_VOL_ATTR_STATE] ? nla_get_u8(tb[CDP_VOL_ATTR_STATE]) : 0;
	vi->origin_sectors = get64(tb, CDP_VOL_ATTR_ORIGIN_SECTORS);
	vi->region_sectors = tb[CDP_VOL_ATTR_REGION_SECTORS] ?
		nla_get_u32(tb[CDP_VOL_ATTR_REGION_SECTORS]) : 0;
	vi->regions = get64(tb, CDP_VOL_ATTR_REGIONS);
	vi->dirty = get64(tb, CDP_VOL_ATTR_DIRTY);
	vi->resync_left = get64(tb, CDP_VOL_ATTR_RESYNC_LEFT);
	vi->resynced = get64(tb, CDP_VOL_ATTR_RESYNCED);
	vi->queued_records = get64(tb, CDP_VOL_ATTR_QUEUED_RECORDS);
	vi->queued_bytes = get64(tb, CDP_VOL_ATTR_QUEUED_BYTES);
	vi->last_seq = get64(tb, CDP_VOL_ATTR_LAST_SEQ);
	vi->acked_seq = get64(tb, CDP_VOL_ATTR_ACKED_SEQ);
	vi->generation = get64(tb, CDP_VOL_ATTR_GENERATION);
	vi->consumer = tb[CDP_VOL_ATTR_CONSUMER] ?
		nla_get_u32(tb[CDP_VOL_ATTR_CONSUMER]) : 0;
	return 0;
}

struct list_ctx {
	int (*cb)(const struct cdp_volinfo *vi, void *arg);
	void *arg;
	int ret;
};

static int list_valid(struct nl_msg *msg, struct req *rq)
{
	struct list_ctx *lc = rq->arg;
	struct cdp_volinfo vi;

	if (lc->ret || parse_volinfo(msg, &vi))
		return NL_OK;
	lc->ret = lc->cb(&vi, lc->arg);
	return NL_OK;
}

int cdp_nl_list(struct cdp_nl *nl,
		int (*cb)(const struct cdp_volinfo *vi, void *arg), void *arg)
{
	struct nl_msg *msg = new_msg(nl, CDP_CMD_LIST, NLM_F_DUMP, NULL);
	struct list_ctx lc = { .cb = cb, .arg = arg };
	int r;

	if (!msg)
		return -ENOMEM;
	r = nl_request(nl, msg, list_valid, &lc);
	return r ? r : lc.ret;
}

static int match_volume(const struct cdp_volinfo *vi, void *arg)
{
	struct cdp_volinfo *out = arg;

	if (strcmp(vi->volume, out->volume))
		return 0;
	*out = *vi;
	return 1;
}

int cdp_nl_info(struct cdp_nl *nl, const char *volume, struct cdp_volinfo *vi)
{
	int r;

	memset(vi, 0, sizeof(*vi));
	snprintf(vi->volume, sizeof(vi->volume), "%s", volume);
	r = cdp_nl_list(nl, match_volume, vi);
	return r == 1 ? 0 : r < 0 ? r : -ENOENT;
}

static int attach_valid(struct nl_msg *msg, struct req *rq)
{
	if (parse_volinfo(msg, rq->arg))
		rq->err = -EPROTO;
	return NL_OK;
}

int cdp_nl_attach(struct cdp_nl *nl, const char *volume, struct cdp_volinfo *vi)
{
	struct nl_msg *msg = new_msg(nl, CDP_CMD_ATTACH, NLM_F_ACK, volume);
	struct cdp_volinfo tmp;

	if (!msg)
		return -ENOMEM;
	return nl_request(nl, msg, attach_valid, vi ? vi : &tmp);
}

int cdp_nl_detach(struct cdp_nl *nl, const char *volume)
{
	struct nl_msg *msg = new_msg(nl, CDP_CMD_DETACH, NLM_F_ACK, volume);

	if (!msg)
		return -ENOMEM;
	return nl_request(nl, msg, NULL, NULL);
}

int cdp_nl_ack(struct cdp_nl *nl, const char *volume, uint64_t seq)
{
	struct nl_msg *msg = new_msg(nl, CDP_CMD_ACK, NLM_F_ACK, volume);

	if (!msg)
		return -ENOMEM;
	if (nla_put_u64(msg, CDP_ATTR_SEQ, seq) < 0) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	return nl_request(nl, msg, NULL, NULL);
}

static int mark_valid(struct nl_msg *msg, struct req *rq)
{
	struct nlattr *top[CDP_ATTR_MAX + 1];

	if (genlmsg_parse(nlmsg_hdr(msg), 0, top, CDP_ATTR_MAX, NULL) ||
	    !top[CDP_ATTR_SEQ])
		rq->err = -EPROTO;
	else
		*(uint64_t *)rq->arg = nla_get_u64(top[CDP_ATTR_SEQ]);
	return NL_OK;
}

int cdp_nl_mark(struct cdp_nl *nl, const char *volume, uint64_t *seq)
{
	struct nl_msg *msg = new_msg(nl, CDP_CMD_MARK, NLM_F_ACK, volume);

	if (!msg)
		return -ENOMEM;
	return nl_request(nl, msg, mark_valid, seq);
}

/*----------------------------------------------------------------
 * FETCH: join pieces into records
 *--------------------------------------------------------------*/
struct fetch_ctx {
	cdp_record_cb cb;
	void *arg;
	int ret;			/* the callback asked to stop */
	size_t count;
	struct cdp_record cur;
	uint32_t have;			/* bytes of cur joined so far */
	int open;			/* cur started, not delivered */
};

static struct nla_policy rec_policy[CDP_REC_ATTR_MAX + 1] = {
	[CDP_REC_ATTR_SEQ] = { .type = NLA_U64 },
	[CDP_REC_ATTR_OFFSET] = { .type = NLA_U32 },
	[CDP_REC_ATTR_LEN] = { .type = NLA_U32 },
	[CDP_REC_ATTR_SECTOR] = { .type = NLA_U64 },
	[CDP_REC_ATTR_OP] = { .type = NLA_U8 },
	[CDP_REC_ATTR_FLAGS] = { .type = NLA_U32 },
	[CDP_REC_ATTR_TIME] = { .type = NLA_U64 },
	[CDP_REC_ATTR_DATA] = { .type = NLA_UNSPEC },
};

static int grow(struct cdp_nl *nl, size_t len)
{
	uint8_t *p;

	if (len <= nl->cap)
		return 0;
	p = realloc(nl->buf, len);
	if (!p)
		return -ENOMEM;
	nl->buf = p;
	nl->cap = len;
	return 0;
}

static int fetch_piece(struct cdp_nl *nl, struct fetch_ctx *fc, struct nlattr *a)
{
	struct nlattr *tb[CDP_REC_ATTR_MAX + 1];
	uint32_t off, dlen;
	uint64_t seq;

	if (nla_parse_nested(tb, CDP_REC_ATTR_MAX, a, rec_policy) ||
	    !tb[CDP_REC_ATTR_SEQ] || !tb[CDP_REC_ATTR_OFFSET] ||
	    !tb[CDP_REC_ATTR_LEN] || !tb[CDP_REC_ATTR_OP])
		return -EPROTO;
	seq = nla_get_u64(tb[CDP_REC_ATTR_SEQ]);
	off = nla_get_u32(tb[CDP_REC_ATTR_OFFSET]);
	dlen = tb[CDP_REC_ATTR_DATA] ? nla_len(tb[CDP_REC_ATTR_DATA]) : 0;

	if (off == 0) {
		fc->cur.seq = seq;
		fc->cur.len = nla_get_u32(tb[CDP_REC_ATTR_LEN]);
		fc->cur.op = nla_get_u8(tb[CDP_REC_ATTR_OP]);
		fc->cur.sector = tb[CDP_REC_ATTR_SECTOR] ?
			nla_get_u64(tb[CDP_REC_ATTR_SECTOR]) : 0;
		fc->cur.flags = tb[CDP_REC_ATTR_FLAGS] ?
			nla_get_u32(tb[CDP_REC_ATTR_FLAGS]) : 0;
		fc->cur.time_ns = tb[CDP_REC_ATTR_TIME] ?
			nla_get_u64(tb[CDP_REC_ATTR_TIME]) : 0;
		fc->have = 0;
		fc->open = 1;
		if (fc->cur.op == CDP_OP_WRITE && grow(nl, fc->cur.len))
			return -ENOMEM;
	} else if (!fc->open || seq != fc->cur.seq || off != fc->have) {
		return -EPROTO;		/* a piece out of place */
	}
	if (fc->cur.op == CDP_OP_WRITE) {
		if ((uint64_t)off + dlen > fc->cur.len)
			return -EPROTO;
		memcpy(nl->buf + off, nla_data(tb[CDP_REC_ATTR_DATA]), dlen);
		fc->have += dlen;
		if (fc->have < fc->cur.len)
			return 0;
		fc->cur.data = nl->buf;
	} else {
		fc->cur.data = NULL;
	}
	fc->open = 0;
	if (!fc->ret) {
		fc->ret = fc->cb(&fc->cur, fc->arg);
		fc->count++;
	}
	return 0;
}

static int fetch_valid(struct nl_msg *msg, struct req *rq)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct fetch_ctx *fc = rq->arg;
	struct nlattr *a;
	int rem, r;

	nla_for_each_attr(a, genlmsg_attrdata(nlmsg_data(nlh), 0),
			  genlmsg_attrlen(nlmsg_data(nlh), 0), rem) {
		if (nla_type(a) != CDP_ATTR_RECORD)
			continue;
		r = fetch_piece(rq->nl, fc, a);
		if (r && !fc->ret) {
			snprintf(rq->nl->err, sizeof(rq->nl->err),
				 "malformed FETCH reply (%s)", strerror(-r));
			fc->ret = r;
		}
	}
	return NL_OK;		/* always drain the dump to its end */
}

int cdp_nl_fetch(struct cdp_nl *nl, const char *volume, uint64_t after_seq,
		 uint32_t max_bytes, cdp_record_cb cb, void *arg, size_t *count)
{
	struct nl_msg *msg = new_msg(nl, CDP_CMD_FETCH, NLM_F_DUMP, volume);
	struct fetch_ctx fc = { .cb = cb, .arg = arg };
	int r;

	if (!msg)
		return -ENOMEM;
	if (nla_put_u64(msg, CDP_ATTR_SEQ, after_seq) < 0 ||
	    (max_bytes && nla_put_u32(msg, CDP_ATTR_MAX_BYTES, max_bytes) < 0)) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	r = nl_request(nl, msg, fetch_valid, &fc);
	if (count)
		*count = fc.count;
	return r ? r : fc.ret;
}

/*----------------------------------------------------------------
 * Events
 *--------------------------------------------------------------*/
int cdp_nl_subscribe(struct cdp_nl *nl)
{
	int grp = genl_ctrl_resolve_grp(nl->sk, CDP_GENL_NAME, CDP_GENL_MCAST_EVENTS);

	if (grp < 0) {
		snprintf(nl->err, sizeof(nl->err), "multicast group %s not found",
			 CDP_GENL_MCAST_EVENTS);
		return -ENOENT;
	}
	nl_socket_disable_seq_check(nl->sk);
	if (nl_socket_add_membership(nl->sk, grp)) {
		snprintf(nl->err, sizeof(nl->err), "cannot join the events group");
		return -EIO;
	}
	return 0;
}

static int event_valid(struct nl_msg *msg, void *arg)
{
	struct nlattr *top[CDP_ATTR_MAX + 1];
	struct cdp_nl_event *ev = arg;
	struct genlmsghdr *gh = nlmsg_data(nlmsg_hdr(msg));

	if (genlmsg_parse(nlmsg_hdr(msg), 0, top, CDP_ATTR_MAX, NULL))
		return NL_SKIP;
	ev->cmd = gh->cmd;
	ev->event = top[CDP_ATTR_EVENT] ? nla_get_u32(top[CDP_ATTR_EVENT]) : 0;
	ev->seq = top[CDP_ATTR_SEQ] ? nla_get_u64(top[CDP_ATTR_SEQ]) : 0;
	if (top[CDP_ATTR_VOLUME])
		snprintf(ev->volume, sizeof(ev->volume), "%s",
			 nla_get_string(top[CDP_ATTR_VOLUME]));
	return NL_OK;
}

static int no_seq_check(struct nl_msg *msg, void *arg)
{
	(void)msg;
	(void)arg;
	return NL_OK;
}

int cdp_nl_event_wait(struct cdp_nl *nl, int timeout_ms, struct cdp_nl_event *ev)
{
	struct pollfd pfd = { .fd = nl_socket_get_fd(nl->sk), .events = POLLIN };
	struct nl_cb *cb;
	int r;

	r = poll(&pfd, 1, timeout_ms);
	if (r == 0)
		return -ETIMEDOUT;
	if (r < 0)
		return -errno;
	memset(ev, 0, sizeof(*ev));
	cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!cb)
		return -ENOMEM;
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, event_valid, ev);
	/* Multicast messages carry no request sequence number. */
	nl_cb_set(cb, NL_CB_SEQ_CHECK, NL_CB_CUSTOM, no_seq_check, NULL);
	r = nl_recvmsgs(nl->sk, cb);
	nl_cb_put(cb);
	if (r < 0) {
		snprintf(nl->err, sizeof(nl->err), "events receive: %s", nl_geterror(r));
		return -EIO;
	}
	return 0;
}

/*----------------------------------------------------------------
 * Names
 *--------------------------------------------------------------*/
const char *cdp_state_name(unsigned int state)
{
	static const char *const n[] = { "replicating", "tracking", "syncing", "degraded" };

	return state < ARRAY_LEN(n) ? n[state] : "unknown";
}

const char *cdp_event_name(unsigned int event)
{
	static const char *const n[] = {
		"none", "overflow", "tracking", "resync-start", "resync-done",
		"sync-degraded", "consumer-lost", "meta-error",
	};

	return event < ARRAY_LEN(n) ? n[event] : "unknown";
}

const char *cdp_op_name(unsigned int op)
{
	static const char *const n[] = { "?", "write", "discard", "write-zeroes", "flush", "mark" };

	return op < ARRAY_LEN(n) ? n[op] : "?";
}
