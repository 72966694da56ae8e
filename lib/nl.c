// SPDX-License-Identifier: GPL-2.0
/*
 * nl.c - libnl-genl-3 client of the dm_cdp generic netlink family.
 *
 * One request path (nl_request) sets the valid/finish/ack/error callbacks
 * on one nl_cb and receives until the kernel's answer is complete; the
 * error handler keeps the kernel's extended-ack text. FETCH joins record
 * pieces (same seq, increasing offset) before handing records out.
 *
 * FETCH, the hot path, is received without libnl: libnl reads every
 * datagram twice (MSG_PEEK for its size, then for real) into a buffer it
 * allocates per read, and wraps each message in an allocated nl_msg. Worse,
 * its page-sized peek buffer tells the kernel (max_recvmsg_len) to build
 * page-sized dump skbs, so a 64 KiB record came in ~18 pieces. FETCH reads
 * with one recvmsg per skb into a buffer kept for the socket's life, large
 * enough for the biggest dump skb the kernel builds (32 KiB): a whole 4 KiB
 * record per piece, ~8x fewer dump rounds, and a record that arrives in
 * one piece is handed out in place, without the join copy.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
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
	uint8_t *rbuf;			/* FETCH receive buffer (RBUF_SIZE) */
	double recv_s;			/* FETCH: time in recvmsg, for cdpd -v */
	uint64_t datagrams;
};

/*
 * The kernel caps a dump skb at SKB_WITH_OVERHEAD(32 KiB) unless the dump
 * asks for more; twice that leaves room to spare, and a datagram larger
 * than the buffer is still detected (MSG_TRUNC) and reported.
 */
#define RBUF_SIZE (64 << 10)

/* Per-request state shared by the callbacks. */
struct req {
	struct cdp_nl *nl;
	int err;			/* 1 while waiting, then 0 or -errno */
	uint32_t seq;			/* the request's nlmsg_seq */
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

/*
 * An NLMSG_ERROR: its status (-errno), with the extended ack's text (the
 * TLVs after the capped echoed request header) in nl->err.
 */
static int parse_error(struct cdp_nl *nl, struct nlmsgerr *e)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)((char *)e - NLMSG_HDRLEN);
	struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];
	int err = e->error ? e->error : -EPROTO;
	size_t off = sizeof(*e);
	int len;

	set_err(nl, err, "kernel");
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return err;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - NLMSG_HDRLEN;
	len = (int)nlh->nlmsg_len - NLMSG_HDRLEN - (int)off;
	if (len <= 0 ||
	    nla_parse(tb, NLMSGERR_ATTR_MAX, (struct nlattr *)((char *)e + off), len, NULL))
		return err;
	if (tb[NLMSGERR_ATTR_MSG])
		snprintf(nl->err, sizeof(nl->err), "kernel: %s (%s)",
			 nla_get_string(tb[NLMSGERR_ATTR_MSG]), strerror(-err));
	return err;
}

static int error_cb(struct sockaddr_nl *who, struct nlmsgerr *e, void *arg)
{
	struct req *rq = arg;

	(void)who;
	rq->err = parse_error(rq->nl, e);
	return NL_STOP;
}

/* NLMSG_DONE of a dump carries the dump's own status. */
static int parse_done(struct cdp_nl *nl, struct nlmsghdr *nlh)
{
	int status = 0;

	if (nlmsg_datalen(nlh) >= (int)sizeof(int))
		memcpy(&status, nlmsg_data(nlh), sizeof(int));
	if (status < 0)
		set_err(nl, status, "kernel (dump)");
	return status < 0 ? status : 0;
}

static int finish_cb(struct nl_msg *msg, void *arg)
{
	struct req *rq = arg;

	rq->err = parse_done(rq->nl, nlmsg_hdr(msg));
	return NL_STOP;
}

static int ack_cb(struct nl_msg *msg, void *arg)
{
	struct req *rq = arg;

	(void)msg;
	rq->err = 0;
	return NL_STOP;
}

/*
 * Our own sequence check instead of libnl's: libnl expects strictly
 * increasing answers and counts the ends it has seen itself, which the
 * FETCH path (not read through libnl) would put out of step. A message of
 * an earlier, abandoned request is skipped, not taken as an error.
 */
static int seq_cb(struct nl_msg *msg, void *arg)
{
	struct req *rq = arg;

	return nlmsg_hdr(msg)->nlmsg_seq == rq->seq ? NL_OK : NL_SKIP;
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
	nl_cb_set(cb, NL_CB_SEQ_CHECK, NL_CB_CUSTOM, seq_cb, &rq);

	r = nl_send_auto(nl->sk, msg);
	rq.seq = nlmsg_hdr(msg)->nlmsg_seq;
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

/* Why the family could not be resolved: the one fix there is. */
#define CDP_NL_NO_FAMILY \
	"generic netlink family " CDP_GENL_NAME \
	" not found: load the module (modprobe dm-cdp or insmod kmod/dm-cdp.ko)"

/*
 * On failure nothing stays open (*out is NULL): cdpd retries this every
 * second while it waits for the module, and a handle left to the caller
 * to free leaked one socket per try.
 */
int cdp_nl_open(struct cdp_nl **out)
{
	struct cdp_nl *nl = calloc(1, sizeof(*nl));
	int one = 1, r = -ENOMEM;

	*out = NULL;
	if (!nl)
		return -ENOMEM;
	nl->sk = nl_socket_alloc();
	if (!nl->sk)
		goto fail;
	r = -ECONNREFUSED;
	if (genl_connect(nl->sk))
		goto fail;
	nl_socket_set_buffer_size(nl->sk, 8 << 20, 0);
	nl_socket_enable_msg_peek(nl->sk);
	setsockopt(nl_socket_get_fd(nl->sk), SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	setsockopt(nl_socket_get_fd(nl->sk), SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	nl->family = genl_ctrl_resolve(nl->sk, CDP_GENL_NAME);
	r = -ENOENT;
	if (nl->family < 0)
		goto fail;
	*out = nl;
	return 0;
fail:
	cdp_nl_close(nl);
	return r;
}

const char *cdp_nl_open_error(int r)
{
	return r == -ENOENT ? CDP_NL_NO_FAMILY : strerror(-r);
}

void cdp_nl_close(struct cdp_nl *nl)
{
	if (!nl)
		return;
	if (nl->sk)
		nl_socket_free(nl->sk);
	free(nl->buf);
	free(nl->rbuf);
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
	} else if (!fc->open || seq != fc->cur.seq || off != fc->have) {
		return -EPROTO;		/* a piece out of place */
	}
	if (fc->cur.op == CDP_OP_WRITE) {
		if ((uint64_t)off + dlen > fc->cur.len)
			return -EPROTO;
		if (off == 0 && dlen == fc->cur.len) {
			/* whole record in one piece: hand it out in place */
			fc->cur.data = nla_data(tb[CDP_REC_ATTR_DATA]);
		} else {
			/* the join buffer only for records in pieces (taken by cdpd) */
			if (off == 0 && grow(nl, fc->cur.len))
				return -ENOMEM;
			memcpy(nl->buf + off, nla_data(tb[CDP_REC_ATTR_DATA]), dlen);
			fc->have += dlen;
			if (fc->have < fc->cur.len)
				return 0;
			fc->cur.data = nl->buf;
		}
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

static void fetch_msg(struct cdp_nl *nl, struct fetch_ctx *fc, struct nlmsghdr *nlh)
{
	struct nlattr *a;
	int rem, r;

	nla_for_each_attr(a, genlmsg_attrdata(nlmsg_data(nlh), 0),
			  genlmsg_attrlen(nlmsg_data(nlh), 0), rem) {
		if (nla_type(a) != CDP_ATTR_RECORD)
			continue;
		r = fetch_piece(nl, fc, a);
		if (r && !fc->ret) {
			snprintf(nl->err, sizeof(nl->err), "malformed FETCH reply (%s)",
				 strerror(-r));
			fc->ret = r;
		}
	}
}

/*
 * One datagram (one dump skb) of the reply to request @seq. Returns 1 while
 * the dump goes on, 0 at its end, -errno on error (message in nl->err).
 * Whatever else goes wrong is kept in fc->ret and the dump read on, so no
 * stale part of it is left for the next request on this socket.
 */
static int fetch_datagram(struct cdp_nl *nl, struct fetch_ctx *fc, uint32_t seq)
{
	struct sockaddr_nl sa;
	struct iovec iov = { .iov_base = nl->rbuf, .iov_len = RBUF_SIZE };
	struct msghdr mh = { .msg_name = &sa, .msg_namelen = sizeof(sa),
			     .msg_iov = &iov, .msg_iovlen = 1 };
	struct nlmsghdr *nlh;
	ssize_t n;
	int len;

	struct timespec t0, t1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		n = recvmsg(nl_socket_get_fd(nl->sk), &mh, 0);
	} while (n < 0 && errno == EINTR);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	nl->recv_s += (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	nl->datagrams++;
	if (n < 0) {
		snprintf(nl->err, sizeof(nl->err), "netlink receive: %s", strerror(errno));
		return -errno;
	}
	if (mh.msg_flags & MSG_TRUNC) {
		/* lost its tail: fail the fetch, but read the dump to its end */
		snprintf(nl->err, sizeof(nl->err),
			 "netlink receive: FETCH reply larger than the %d byte buffer", RBUF_SIZE);
		if (!fc->ret)
			fc->ret = -EMSGSIZE;
		return 1;
	}
	len = (int)n;
	for (nlh = (struct nlmsghdr *)nl->rbuf; nlmsg_ok(nlh, len); nlh = nlmsg_next(nlh, &len)) {
		if (sa.nl_pid != 0 || nlh->nlmsg_seq != seq)
			continue;	/* not the kernel's answer to this request */
		switch (nlh->nlmsg_type) {
		case NLMSG_DONE:
			return parse_done(nl, nlh);
		case NLMSG_ERROR:
			if (nlmsg_datalen(nlh) < (int)sizeof(struct nlmsgerr)) {
				snprintf(nl->err, sizeof(nl->err), "truncated netlink error");
				return -EPROTO;
			}
			return parse_error(nl, nlmsg_data(nlh));
		case NLMSG_NOOP:
		case NLMSG_OVERRUN:
			continue;
		}
		if (nlh->nlmsg_type == nl->family)
			fetch_msg(nl, fc, nlh);
	}
	return 1;
}

int cdp_nl_fetch(struct cdp_nl *nl, const char *volume, uint64_t after_seq,
		 uint32_t max_bytes, cdp_record_cb cb, void *arg, size_t *count)
{
	struct nl_msg *msg = new_msg(nl, CDP_CMD_FETCH, NLM_F_DUMP, volume);
	struct fetch_ctx fc = { .cb = cb, .arg = arg };
	uint32_t seq;
	int r;

	if (count)
		*count = 0;
	if (!msg)
		return -ENOMEM;
	if (!nl->rbuf && !(nl->rbuf = malloc(RBUF_SIZE))) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	if (nla_put_u64(msg, CDP_ATTR_SEQ, after_seq) < 0 ||
	    (max_bytes && nla_put_u32(msg, CDP_ATTR_MAX_BYTES, max_bytes) < 0)) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	r = nl_send_auto(nl->sk, msg);
	seq = nlmsg_hdr(msg)->nlmsg_seq;
	nlmsg_free(msg);
	if (r < 0) {
		snprintf(nl->err, sizeof(nl->err), "netlink send: %s", nl_geterror(r));
		return -EIO;
	}
	/* Always read the dump to its end, even after the callback said stop. */
	while ((r = fetch_datagram(nl, &fc, seq)) > 0)
		;
	if (count)
		*count = fc.count;
	return r ? r : fc.ret;
}

void cdp_nl_fetch_stats(const struct cdp_nl *nl, double *recv_s, uint64_t *datagrams)
{
	*recv_s = nl->recv_s;
	*datagrams = nl->datagrams;
}

void *cdp_nl_take_data(struct cdp_nl *nl, const struct cdp_record *rec)
{
	void *p;

	if (!rec->data)
		return NULL;
	if (rec->data == nl->buf) {
		p = nl->buf;	/* the next joined record gets a new one */
		nl->buf = NULL;
		nl->cap = 0;
		return p;
	}
	p = malloc(rec->len);
	if (p)
		memcpy(p, rec->data, rec->len);
	return p;
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
