// SPDX-License-Identifier: GPL-2.0
/* snap_create.c - see snap_create.h */
#include "snap_create.h"
#include "snap_proto.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
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

/* The frozen part: FIFREEZE, MARK, MARKED, FITHAW. Thaw on every path. */
static int freeze_and_mark(struct snap_conn *c, const struct snap_request *rq,
			   struct snap_result *res, char *err, size_t errlen)
{
	char line[SNAP_PROTO_LINE], terr[512];
	struct freeze f;
	double t0, left;
	int r, t;

	STAGE("freeze");
	r = freeze_mounts(&f, rq->mnts, rq->nmnts, rq->hook_timeout_s,
			  rq->no_expedite ? FREEZE_NO_EXPEDITE : 0, err, errlen);
	if (r)
		return r;
	res->time = time(NULL);
	STAGE("mark");
	t0 = cdp_mono();
	r = snap_proto_send(c, "MARK");
	if (r) {
		snprintf(err, errlen, "cdpd closed the connection before MARK (see its log)");
	} else {
		/* the freeze window is bounded by the hook timeout */
		left = rq->hook_timeout_s - (f.n ? cdp_mono() - f.t_frozen : 0) - 0.05;
		r = expect(c, line, sizeof(line), left > 0.05 ? left : 0.05, "MARK", err, errlen);
		if (!r) {
			r = snap_proto_seqs(line, "MARKED", rq->vols, rq->nvols, res->seq);
			if (r)
				snprintf(err, errlen, "cdpd answered MARK with \"%.200s\"", line);
		}
	}
	res->mark_ms = (cdp_mono() - t0) * 1000;
	t = freeze_thaw(&f, terr, sizeof(terr));
	res->freeze_ms = f.ms;
	res->sync_ms = f.sync_ms;
	res->expedited = f.expedited;
	res->fifreeze_ms = f.fifreeze_ms;
	res->fithaw_ms = f.fithaw_ms;
	snprintf(res->warn, sizeof(res->warn), "%s", f.warn);
	if (r == -ETIMEDOUT)
		snprintf(err + strlen(err), errlen - strlen(err),
			 "; the file systems were thawed at the freeze limit (--hook-timeout); if cdpd still takes the snapshot it is crash-consistent only and not recorded");
	if (!r && t) {
		STAGE("thaw");
		snprintf(err, errlen, "%s", terr);
		return t;
	}
	if (!r)
		res->marked = 1;
	return r;
}

int snap_create(const struct snap_request *rq, struct snap_result *res,
		char *err, size_t errlen)
{
	char line[SNAP_PROTO_LINE], path[256], perr[512];
	double t0 = cdp_mono();
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
	STAGE("pre");
	r = hook_run(rq->pre, rq->hook_timeout_s, &res->pre, err, errlen);
	if (r)
		goto out;	/* closing before MARK leaves nothing behind */
	r = freeze_and_mark(&c, rq, res, err, errlen);
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
