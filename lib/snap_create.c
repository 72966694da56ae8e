// SPDX-License-Identifier: GPL-2.0
/* snap_create.c - see snap_create.h */
#include "snap_create.h"
#include "snap_proto.h"
#include "nl.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *snap_default_name(char *buf, size_t len)
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "snap-%Y%m%dT%H%M%SZ", &tm);
	return buf;
}

static int check_request(const struct snap_request *rq, char *err, size_t errlen)
{
	int i, j;

	if (!snap_proto_valid_name(rq->name)) {
		snprintf(err, errlen, "snapshot name \"%s\" is not allowed: use [A-Za-z0-9._:-], at most 99 characters",
			 rq->name);
		return -EINVAL;
	}
	if (rq->nvols < 1 || rq->nvols > SNAP_MAX_VOLS) {
		snprintf(err, errlen, "a snapshot covers 1 to %d volumes", SNAP_MAX_VOLS);
		return -EINVAL;
	}
	for (i = 0; i < rq->nvols; i++) {
		if (!snap_proto_valid_name(rq->vols[i])) {
			snprintf(err, errlen, "volume name \"%s\" is not allowed", rq->vols[i]);
			return -EINVAL;
		}
		for (j = 0; j < i; j++)
			if (!strcmp(rq->vols[i], rq->vols[j])) {
				snprintf(err, errlen, "volume %s is given twice", rq->vols[i]);
				return -EINVAL;
			}
	}
	return 0;
}

/* Read one line; an ERR line or a broken socket becomes -errno with err. */
static int expect(struct snap_conn *c, char *line, size_t len, double timeout_s,
		  const char *waiting_for, char *err, size_t errlen)
{
	char msg[SNAP_PROTO_LINE];
	int r = snap_proto_read(c, line, len, (int)(timeout_s * 1000));

	if (r == -ETIMEDOUT) {
		snprintf(err, errlen, "cdpd did not answer %s within %g s", waiting_for, timeout_s);
		return r;
	}
	if (r) {
		snprintf(err, errlen, "cdpd closed the connection while we waited for %s (see its log)",
			 waiting_for);
		return r;
	}
	r = snap_proto_err(line, msg, sizeof(msg));
	if (r)
		snprintf(err, errlen, "cdpd: %s", msg);
	return r;
}

static int send_snap(struct snap_conn *c, const struct snap_request *rq)
{
	char line[SNAP_PROTO_LINE];
	size_t n;
	int i;

	n = snprintf(line, sizeof(line), "SNAP %s %d %d", rq->name, rq->protect ? 1 : 0,
		     (int)(rq->timeout_s * 1000));
	for (i = 0; i < rq->nvols && n < sizeof(line); i++)
		n += snprintf(line + n, sizeof(line) - n, " %s", rq->vols[i]);
	return n < sizeof(line) ? snap_proto_send(c, line) : -EMSGSIZE;
}

#define STAGE(s) snprintf(res->stage, sizeof(res->stage), "%s", s)

/*
 * MARK every member ourselves, over netlink: one system call per volume
 * inside the freeze instead of a round trip through cdpd's threads. 1 when
 * the first MARK cannot be inserted here (no CAP_NET_ADMIN, no module, a
 * volume cdpd must judge): the caller asks cdpd instead, which also gives
 * the error its wording. A later member's failure is final; the marks
 * already inserted are never registered, so cdpd applies past them.
 */
static int mark_direct(struct cdp_nl *nl, const struct snap_request *rq,
		       struct snap_result *res, char *err, size_t errlen)
{
	int i, r;

	for (i = 0; i < rq->nvols; i++) {
		r = cdp_nl_mark(nl, rq->vols[i], &res->seq[i]);
		if (r && i == 0)
			return 1;
		if (r) {
			snprintf(err, errlen, "MARK on %s failed: %s", rq->vols[i], cdp_nl_error(nl));
			return r;
		}
	}
	return 0;
}

/* cdpd marks: MARK, then its MARKED line (the old path, and the fallback). */
static int mark_via_cdpd(struct snap_conn *c, const struct snap_request *rq,
			 struct snap_result *res, const struct freeze *f,
			 char *err, size_t errlen)
{
	char line[SNAP_PROTO_LINE];
	double left;
	int r = snap_proto_send(c, "MARK");

	if (r) {
		snprintf(err, errlen, "cdpd closed the connection before MARK (see its log)");
		return r;
	}
	/* the freeze window is bounded by the hook timeout */
	left = rq->hook_timeout_s - (f->n ? cdp_mono() - f->t_frozen : 0) - 0.05;
	r = expect(c, line, sizeof(line), left > 0.05 ? left : 0.05, "MARK", err, errlen);
	if (!r) {
		r = snap_proto_seqs(line, "MARKED", rq->vols, rq->nvols, res->seq);
		if (r)
			snprintf(err, errlen, "cdpd answered MARK with \"%.200s\"", line);
	}
	return r;
}

/* After the thaw: tell cdpd which marks we inserted ("MARKED v=s ..."). */
static int register_marks(struct snap_conn *c, const struct snap_request *rq,
			  const struct snap_result *res, char *err, size_t errlen)
{
	char line[SNAP_PROTO_LINE];
	int r = snap_proto_format_seqs(line, sizeof(line), "MARKED", rq->vols, rq->nvols, res->seq);

	if (!r)
		r = snap_proto_send(c, line);
	if (r)
		snprintf(err, errlen, "cdpd closed the connection before the marks were registered (see its log); no snapshot was taken");
	return r;
}

/*
 * The frozen part: FIFREEZE, MARK, FITHAW. Thaw on every path. nl: our
 * own netlink socket to mark directly, NULL to let cdpd mark.
 */
static int freeze_and_mark(struct snap_conn *c, struct cdp_nl *nl,
			   const struct snap_request *rq, struct snap_result *res,
			   char *err, size_t errlen)
{
	char terr[512];
	struct freeze f;
	double t0;
	int r, t;

	STAGE("freeze");
	r = freeze_mounts(&f, rq->mnts, rq->nmnts, rq->hook_timeout_s,
			  rq->no_expedite ? FREEZE_NO_EXPEDITE : 0, err, errlen);
	if (r)
		return r;
	res->time = time(NULL);
	STAGE("mark");
	t0 = cdp_mono();
	r = nl ? mark_direct(nl, rq, res, err, errlen) : 1;
	res->marked_directly = !r;
	if (r == 1)
		r = mark_via_cdpd(c, rq, res, &f, err, errlen);
	res->mark_ms = (cdp_mono() - t0) * 1000;
	t = freeze_thaw(&f, terr, sizeof(terr));
	res->freeze_ms = f.ms;
	res->sync_ms = f.sync_ms;
	res->expedited = f.expedited;
	res->fifreeze_ms = f.fifreeze_ms;
	res->fithaw_ms = f.fithaw_ms;
	res->gap_ms = f.gap_ms;
	res->boosted = f.boosted;
	snprintf(res->warn, sizeof(res->warn), "%s", f.warn);
	if (r == -ETIMEDOUT)
		snprintf(err + strlen(err), errlen - strlen(err),
			 "; the file systems were thawed at the freeze limit (--hook-timeout); if cdpd still takes the snapshot it is crash-consistent only and not recorded");
	if (!r && t) {
		/* marks we inserted stay unregistered: cdpd applies past them */
		STAGE("thaw");
		snprintf(err, errlen, "%s", terr);
		return t;
	}
	if (!r && res->marked_directly)
		r = register_marks(c, rq, res, err, errlen);
	if (!r)
		res->marked = 1;
	return r;
}

/*
 * Our own netlink socket for MARK, opened (family resolved) before the
 * freeze; NULL when cdpd should mark: CDP_SNAP_MARK_VIA_CDPD=1 (the
 * benchmark's baseline), no module or socket, a volume we cannot see, or
 * a volume in sync mode. There the thaw's own writes wait for cdpd's acks,
 * and cdpd's apply thread would wait at our MARK until we register it
 * after that thaw; cdpd's MARK registers it at once.
 */
static struct cdp_nl *mark_socket(const struct snap_request *rq)
{
	const char *e = getenv("CDP_SNAP_MARK_VIA_CDPD");
	struct cdp_volinfo vi;
	struct cdp_nl *nl;
	int i;

	if ((e && *e && strcmp(e, "0")) || cdp_nl_open(&nl))
		return NULL;
	for (i = 0; i < rq->nvols; i++) {
		if (cdp_nl_info(nl, rq->vols[i], &vi) || vi.mode == CDP_MODE_SYNC) {
			cdp_nl_close(nl);
			return NULL;
		}
	}
	return nl;
}

int snap_create(const struct snap_request *rq, struct snap_result *res,
		char *err, size_t errlen)
{
	char line[SNAP_PROTO_LINE], path[256], perr[512];
	double t0 = cdp_mono();
	struct cdp_nl *nl = NULL;
	struct snap_conn c;
	int r, pr;

	memset(res, 0, sizeof(*res));
	r = check_request(rq, err, errlen);
	if (r)
		return r;
	STAGE("connect");
	r = snap_proto_connect(&c, rq->socket ? rq->socket : snap_proto_socket_path(path, sizeof(path)),
			       err, errlen);
	if (r)
		return r;
	STAGE("ready");
	r = send_snap(&c, rq);
	if (!r)
		r = expect(&c, line, sizeof(line), rq->timeout_s + 5, "SNAP", err, errlen);
	else
		snprintf(err, errlen, "cdpd closed the connection (see its log)");
	if (!r && strcmp(line, "READY")) {
		snprintf(err, errlen, "cdpd answered SNAP with \"%.200s\" (expected READY)", line);
		r = -EPROTO;
	}
	if (r)
		goto out;
	nl = mark_socket(rq);
	STAGE("pre");
	r = hook_run(rq->pre, rq->hook_timeout_s, &res->pre, err, errlen);
	if (r)
		goto out;	/* closing before MARK leaves nothing behind */
	r = freeze_and_mark(&c, nl, rq, res, err, errlen);
	pr = hook_run(rq->post, rq->hook_timeout_s, &res->post, perr, sizeof(perr));
	if (r)
		goto out;
	STAGE("done");
	r = expect(&c, line, sizeof(line), rq->timeout_s + 5, "the snapshot (DONE)", err, errlen);
	if (!r) {
		r = snap_proto_seqs(line, "DONE", rq->vols, rq->nvols, res->seq);
		if (r)
			snprintf(err, errlen, "cdpd answered with \"%.200s\" (expected DONE)", line);
	}
	if (r)
		goto out;
	res->done = 1;
	if (pr) {
		STAGE("post");
		snprintf(err, errlen, "snapshot taken, but the post hook failed: %s", perr);
		r = pr;
	}
out:
	if (nl)
		cdp_nl_close(nl);
	snap_proto_close(&c);
	res->total_ms = (cdp_mono() - t0) * 1000;
	return r;
}

const char *snap_freeze_text(const struct snap_request *rq,
			     const struct snap_result *res, char *buf, size_t len)
{
	size_t n = 0;
	int i;

	n += snprintf(buf + n, len - n, "frozen=");
	for (i = 0; i < rq->nmnts && n < len; i++)
		n += snprintf(buf + n, len - n, "%s%s", i ? "," : "", rq->mnts[i]);
	if (!rq->nmnts && n < len)
		n += snprintf(buf + n, len - n, "none");
	if (n < len)
		n += snprintf(buf + n, len - n, " freeze_ms=%.1f", res->freeze_ms);
	if (n < len && res->pre.ran)
		n += snprintf(buf + n, len - n, " pre=%s:%d:%.0fms",
			      res->pre.timed_out ? "timeout" : "exit", res->pre.status, res->pre.ms);
	if (n < len && res->post.ran)
		snprintf(buf + n, len - n, " post=%s:%d:%.0fms",
			 res->post.timed_out ? "timeout" : "exit", res->post.status, res->post.ms);
	return buf;
}
