// SPDX-License-Identifier: GPL-2.0
/*
 * rbd_apply.c - the apply engine (see rbd_apply.h for the rules).
 *
 * A record's life: submit -> WAITING (dependencies, rbd_apply_deps.c) ->
 * READY -> INFLIGHT (aio) -> DONE, or -> RETRY (backoff) -> READY again.
 * DONE records are retired from the head of the stream in seq order; a
 * retired barrier is what moves durable_seq and calls durable_cb.
 */
#include "rbd_apply_int.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

/*---------------------------------------------------------------------------
 * Helpers
 *-------------------------------------------------------------------------*/

uint64_t ra_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void ra_log(struct rbd_apply *a, int level, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (a->opts.log_cb)
		a->opts.log_cb(a->opts.cb_arg, level, msg);
	else
		fprintf(stderr, "rbd_apply: %s\n", msg);
}

static const char *op_name(uint8_t op)
{
	switch (op) {
	case CDP_OP_WRITE: return "write";
	case CDP_OP_DISCARD: return "discard";
	case CDP_OP_WRITE_ZEROES: return "write-zeroes";
	case CDP_OP_FLUSH: return "flush";
	case CDP_OP_MARK: return "mark";
	case RA_OP_SYNC: return "sync";
	case RA_OP_SNAP: return "snapshot";
	}
	return "?";
}

static unsigned int backoff_ms(const struct rbd_apply *a, unsigned int attempts)
{
	uint64_t d = a->opts.retry_min_ms;
	unsigned int i;

	for (i = 1; i < attempts && d < a->opts.retry_max_ms; i++)
		d = d ? 2 * d : 1;
	return d < a->opts.retry_max_ms ? d : a->opts.retry_max_ms;
}

/* Errors after which the session itself is unusable: open a new one. */
static int needs_reconnect(int rc)
{
	return rc == -ESHUTDOWN /* EBLOCKLISTED */ || rc == -ENOTCONN;
}

/* Snapshot failures worth retrying; any other is reported, not retried. */
static int snap_transient(int rc)
{
	return rc == -ETIMEDOUT || rc == -EAGAIN || rc == -EIO || rc == -EINTR ||
	       rc == -ECONNREFUSED || rc == -ENOMEM || needs_reconnect(rc);
}

static void rec_free(struct ra_rec *r)
{
	free(r->buf);
	free(r->snap_name);
	free(r->dependents);
	free(r);
}

/*---------------------------------------------------------------------------
 * Completion: librbd threads only queue the result and wake the owner
 *-------------------------------------------------------------------------*/

static void aio_done_cb(rbd_completion_t c, void *arg)
{
	struct ra_aio *t = arg;
	struct rbd_apply *a;
	struct ra_rec *r;
	uint64_t one = 1;
	ssize_t rc = rbd_aio_get_return_value(c);

	rbd_aio_release(c);
	if (atomic_exchange(&t->state, AIO_DONE) == AIO_ABANDONED) {
		/* The engine gave up on it and redid the record elsewhere. */
		free(t->orphan_buf);
		free(t);
		return;
	}
	r = t->r;
	a = r->a;
	r->rc = rc < 0 ? (int)rc : 0;
	r->qnext = NULL;
	pthread_mutex_lock(&a->lock);
	if (a->done_tail)
		a->done_tail->qnext = r;
	else
		a->done_head = r;
	a->done_tail = r;
	pthread_mutex_unlock(&a->lock);
	if (write(a->efd, &one, sizeof(one)) < 0) {
		/* Only fails when the counter would overflow: already readable. */
	}
}

/* @r failed with @rc: schedule it again; never drop, never reorder. */
static void rec_failed(struct rbd_apply *a, struct ra_rec *r, int rc)
{
	r->attempts++;
	a->st.retries++;
	a->st.last_error = rc;
	if (r->op == RA_OP_SNAP && !snap_transient(rc)) {
		/* The stream must go on: report this snapshot as failed. */
		ra_log(a, LOG_ERR, "snapshot %s at seq %llu failed: %s", r->snap_name,
		       (unsigned long long)r->seq, strerror(-rc));
		r->rc = rc;
		r->state = RS_DONE;	/* dependents wait for retire(): see there */
		return;
	}
	r->state = RS_RETRY;
	r->retry_at_ms = ra_now_ms() + backoff_ms(a, r->attempts);
	a->nretry++;
	if (needs_reconnect(rc))
		ra_want_reconnect(a);
	/* 1st, 2nd, 4th, 8th... attempt: visible without flooding the log. */
	if (!(r->attempts & (r->attempts - 1)))
		ra_log(a, LOG_WARNING, "%s seq %llu (%llu+%llu) failed: %s; retry %u in %u ms",
		       op_name(r->op), (unsigned long long)r->seq,
		       (unsigned long long)r->off, (unsigned long long)r->len,
		       strerror(-rc), r->attempts, backoff_ms(a, r->attempts));
}

static void rec_finished(struct rbd_apply *a, struct ra_rec *r)
{
	if (r->attempts)
		ra_log(a, LOG_INFO, "%s seq %llu applied after %u retries",
		       op_name(r->op), (unsigned long long)r->seq, r->attempts);
	r->state = RS_DONE;
	a->st.applied_ops++;
	if (r->op == CDP_OP_WRITE || r->op == CDP_OP_WRITE_ZEROES || r->op == CDP_OP_DISCARD)
		a->st.applied_bytes += r->len;
	if (r->buf) {
		free(r->buf);
		r->buf = NULL;
		a->st.bytes -= r->len;
	}
	if (r->op != RA_OP_SNAP)	/* a snapshot's wait for retire(): see there */
		ra_deps_release(a, r);
}

/*---------------------------------------------------------------------------
 * Starting records
 *-------------------------------------------------------------------------*/

static int do_snapshot(struct rbd_apply *a, struct ra_rec *r)
{
	rbd_image_t img = a->conn.img;
	int ret;

	/*
	 * Every earlier record has completed (full barrier); should a config
	 * override have turned the client cache on, librbd flushes it itself
	 * before it takes the snapshot. SKIP_QUIESCE: there is no application
	 * on the replica to quiesce, and waiting for watchers only costs time.
	 */
	ret = rbd_snap_create2(img, r->snap_name, RBD_SNAP_CREATE_SKIP_QUIESCE, NULL, NULL);
	if (ret == -EEXIST)
		ret = 0;	/* redelivered after a restart: it was taken here */
	if (ret == 0 && r->protect) {
		ret = rbd_snap_protect(img, r->snap_name);
		if (ret == -EBUSY)
			ret = 0;	/* already protected */
	}
	return ret;
}

static int issue_aio(struct rbd_apply *a, struct ra_rec *r, rbd_completion_t c)
{
	rbd_image_t img = a->conn.img;
	int fua = (r->flags & CDP_REC_F_FUA) ? LIBRADOS_OP_FLAG_FADVISE_FUA : 0;

	switch (r->op) {
	case CDP_OP_WRITE:
		return rbd_aio_write2(img, r->off, r->len, r->buf, c, fua);
	case CDP_OP_DISCARD:
		return rbd_aio_discard(img, r->off, r->len, c);
	case CDP_OP_WRITE_ZEROES:
		return rbd_aio_write_zeroes(img, r->off, r->len, c, 0, fua);
	default:	/* FLUSH, MARK, SYNC */
		return rbd_aio_flush(img, c);
	}
}

static void rec_start(struct rbd_apply *a, struct ra_rec *r)
{
	rbd_completion_t c;
	int ret;

	if (r->op == RA_OP_SNAP) {
		/* librbd has no aio snapshot create; it takes ~0.1 s. */
		ret = do_snapshot(a, r);
		r->rc = ret;
		if (ret < 0)
			rec_failed(a, r, ret);
		else
			rec_finished(a, r);
		return;
	}
	r->aio = calloc(1, sizeof(*r->aio));
	if (!r->aio) {
		rec_failed(a, r, -ENOMEM);
		return;
	}
	r->aio->r = r;
	r->aio->gen = a->gen;
	ret = rbd_aio_create_completion(r->aio, aio_done_cb, &c);
	if (ret < 0)
		goto fail;
	r->state = RS_INFLIGHT;
	r->started_ms = ra_now_ms();
	a->st.inflight++;
	ret = issue_aio(a, r, c);
	if (ret >= 0)
		return;
	rbd_aio_release(c);
	a->st.inflight--;
fail:
	free(r->aio);
	r->aio = NULL;
	rec_failed(a, r, ret);
}

static void dispatch(struct rbd_apply *a)
{
	struct ra_rec *r;

	while (!a->need_reconnect && !a->closing && !a->halted &&
	       a->st.inflight < a->opts.max_inflight &&
	       (r = ra_ready_pop(a)))
		rec_start(a, r);
}

/*---------------------------------------------------------------------------
 * Retiring, retries, reconnect
 *-------------------------------------------------------------------------*/

static void report_durable(struct rbd_apply *a, uint64_t seq)
{
	if (seq <= a->st.durable_seq || a->lost)
		return;
	a->st.durable_seq = seq;
	if (a->opts.durable_cb)
		a->opts.durable_cb(a->opts.cb_arg, seq);
}

/*
 * Free finished records from the head of the stream, in seq order. A
 * retired barrier makes everything up to it durable; with the client cache
 * off so does any retired record (a completed write is on the OSDs), so
 * the caller can ACK without waiting for a barrier. One callback per pass.
 * A snapshot's dependents (everything after it) are released only after
 * its snap_cb returned: the caller records the outcome (cdpd: "taken" or
 * "failed" in its resync marker) before any later record can start, and
 * may halt the engine from there. True if it released any.
 */
static int retire(struct rbd_apply *a)
{
	uint64_t upto = 0;
	struct ra_rec *r;
	int released = 0;

	while ((r = a->head) && r->state == RS_DONE) {
		a->head = r->next;
		if (a->head)
			a->head->prev = NULL;
		else
			a->tail = NULL;
		a->st.queued--;
		if (ra_is_barrier(r) || a->cache_off)
			upto = r->seq;
		if (r->op == RA_OP_SNAP) {
			report_durable(a, upto);
			if (a->opts.snap_cb)
				a->opts.snap_cb(a->opts.cb_arg, r->seq, r->snap_name, r->rc);
			released |= r->ndependents > 0;
			ra_deps_release(a, r);
		}
		rec_free(r);
	}
	report_durable(a, upto);
	return released;
}

static void retry_due(struct rbd_apply *a)
{
	uint64_t now = ra_now_ms();
	struct ra_rec *r;

	if (!a->nretry || a->need_reconnect)
		return;
	/* Newest first, each to the front: the oldest ends up first in line. */
	for (r = a->tail; r; r = r->prev) {
		if (r->state == RS_RETRY && r->retry_at_ms <= now) {
			a->nretry--;
			ra_ready_push_front(a, r);
		}
	}
}

void ra_session_opened(struct rbd_apply *a)
{
	a->gen++;
	a->cache_off = a->conn.cache_off;
}

/*
 * Before a session goes: with its client cache on, writes it completed
 * may sit unflushed in that cache, and they go with it (see lost).
 */
void ra_session_dropped(struct rbd_apply *a)
{
	if (a->cache_off || a->lost)
		return;
	a->lost = 1;
	ra_log(a, LOG_ERR, "the dropped session had the client cache on: writes after seq %llu may be lost with it; reopen and redeliver from there",
	       (unsigned long long)a->st.durable_seq);
}

void ra_want_reconnect(struct rbd_apply *a)
{
	if (a->need_reconnect)
		return;
	a->need_reconnect = 1;
	a->reconnect_at_ms = 0;
	a->need_reconnect_since_ms = ra_now_ms();
}

/*
 * Drop the session and open a new one, once no aio is outstanding; or,
 * when librbd has held some for ra_stuck_ms(), give them up and fence the
 * old session (rbd_apply_stuck.c).
 */
static void reconnect(struct rbd_apply *a)
{
	uint64_t now = ra_now_ms();
	char err[512];
	struct ra_rec *r;
	int ret;

	if (!a->need_reconnect || a->closing || now < a->reconnect_at_ms)
		return;
	if (a->st.inflight) {
		if (now < a->need_reconnect_since_ms + ra_stuck_ms(a))
			return;
		ret = ra_stuck_rescue(a);
	} else {
		ra_log(a, LOG_WARNING, "reconnecting to the cluster (attempt %u)",
		       a->reconnect_attempts + 1);
		if (a->conn.open)
			ra_session_dropped(a);
		if (rbd_apply_conn_close_bounded(&a->conn, a->opts.op_timeout_s) < 0)
			ra_log(a, LOG_WARNING, "the old session did not close in %u s: left behind",
			       a->opts.op_timeout_s);
		ret = rbd_apply_conn_open(&a->conn, &a->opts, err, sizeof(err));
		if (ret < 0)
			ra_log(a, LOG_ERR, "%s", err);
		else
			ra_session_opened(a);
	}
	if (ret < 0) {
		a->reconnect_attempts++;
		a->reconnect_at_ms = ra_now_ms() + backoff_ms(a, a->reconnect_attempts);
		/* a failed rescue (no fence) is not worth trying every few seconds */
		if (a->st.inflight && a->reconnect_at_ms < now + ra_stuck_ms(a))
			a->reconnect_at_ms = now + ra_stuck_ms(a);
		return;
	}
	a->st.reconnects++;
	a->need_reconnect = 0;
	a->reconnect_attempts = 0;
	for (r = a->head; r; r = r->next)
		r->retry_at_ms = 0;	/* everything that failed goes again now */
}

int rbd_apply_process(struct rbd_apply *a)
{
	struct ra_rec *r, *next;
	uint64_t cnt;

	if (read(a->efd, &cnt, sizeof(cnt)) < 0) {
		/* EAGAIN: nothing signalled; completions are checked anyway. */
	}
	pthread_mutex_lock(&a->lock);
	r = a->done_head;
	a->done_head = a->done_tail = NULL;
	pthread_mutex_unlock(&a->lock);
	for (; r; r = next) {
		/* an aio of a session already replaced: its end says nothing of this one */
		int stale = r->aio && r->aio->gen != a->gen;

		next = r->qnext;
		free(r->aio);
		r->aio = NULL;
		a->st.inflight--;
		if (r->rc < 0)
			rec_failed(a, r, stale && needs_reconnect(r->rc) ? -EAGAIN : r->rc);
		else
			rec_finished(a, r);
	}
	ra_stuck_check(a);
	if (a->need_reconnect)
		reconnect(a);
	retry_due(a);
	dispatch(a);
	while (retire(a))
		dispatch(a);	/* what a retired snapshot released */
	return 0;
}

/*---------------------------------------------------------------------------
 * Public API
 *-------------------------------------------------------------------------*/

static int copy_opts(struct rbd_apply_opts *dst, const struct rbd_apply_opts *o)
{
	*dst = *o;
	dst->conf = o->conf ? strdup(o->conf) : NULL;
	dst->keyring = o->keyring ? strdup(o->keyring) : NULL;
	dst->client_id = strdup(o->client_id ? o->client_id : "admin");
	dst->pool = strdup(o->pool ? o->pool : "rbd");
	dst->image = o->image ? strdup(o->image) : NULL;
	if ((o->conf && !dst->conf) || (o->keyring && !dst->keyring) ||
	    !dst->client_id || !dst->pool || (o->image && !dst->image))
		return -ENOMEM;
	if (!dst->op_timeout_s)
		dst->op_timeout_s = 30;
	if (!dst->max_inflight)
		dst->max_inflight = 32;
	if (!dst->max_queued)
		dst->max_queued = 1024;
	if (dst->max_queued < dst->max_inflight)
		dst->max_queued = dst->max_inflight;
	if (!dst->max_bytes)
		dst->max_bytes = 16 << 20;	/* 256 records of 64 KiB: plenty beyond max_inflight */
	if (!dst->retry_min_ms && !dst->retry_max_ms)
		dst->retry_min_ms = 50;
	if (!dst->retry_max_ms)
		dst->retry_max_ms = 5000;
	if (dst->retry_max_ms < dst->retry_min_ms)
		dst->retry_max_ms = dst->retry_min_ms;
	return 0;
}

static void free_opts(struct rbd_apply_opts *o)
{
	free((char *)o->conf);
	free((char *)o->keyring);
	free((char *)o->client_id);
	free((char *)o->pool);
	free((char *)o->image);
}

int rbd_apply_open(const struct rbd_apply_opts *o, struct rbd_apply **out,
		   char *err, size_t errlen)
{
	struct rbd_apply *a = calloc(1, sizeof(*a));
	int ret;

	if (!a || copy_opts(&a->opts, o) < 0) {
		snprintf(err, errlen, "out of memory");
		ret = -ENOMEM;
		goto out_free;
	}
	a->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (a->efd < 0) {
		ret = -errno;
		snprintf(err, errlen, "eventfd: %s", strerror(errno));
		goto out_free;
	}
	pthread_mutex_init(&a->lock, NULL);
	ret = rbd_apply_conn_open(&a->conn, &a->opts, err, errlen);
	if (ret < 0)
		goto out_efd;
	a->st.image_size = a->conn.size;
	ra_session_opened(a);
	*out = a;
	return 0;
out_efd:
	pthread_mutex_destroy(&a->lock);
	close(a->efd);
out_free:
	if (a)
		free_opts(&a->opts);
	free(a);
	return ret;
}

/*
 * Snapshots still queued at close were never taken: say so (-ECANCELED),
 * or their requesters would wait for a callback that never comes. The
 * records before them that are not yet acked are redelivered to the next
 * session; the snapshots are not (their MARK may be acked already).
 */
static void cancel_snapshots(struct rbd_apply *a)
{
	struct ra_rec *r;

	for (r = a->head; r; r = r->next) {
		if (r->op != RA_OP_SNAP || r->state == RS_DONE || r->state == RS_INFLIGHT)
			continue;
		r->state = RS_DONE;
		r->rc = -ECANCELED;
		if (a->opts.snap_cb)
			a->opts.snap_cb(a->opts.cb_arg, r->seq, r->snap_name, -ECANCELED);
	}
}

void rbd_apply_close(struct rbd_apply *a)
{
	/* Every aio ends within the op timeout; give it that, twice over. */
	int budget_ms = 2 * 1000 * (int)a->opts.op_timeout_s + 5000;
	struct ra_rec *r, *next;

	a->closing = 1;		/* no reconnect or new aio from here on */
	while (a->st.inflight && budget_ms > 0) {
		struct pollfd p = { .fd = a->efd, .events = POLLIN };

		poll(&p, 1, 100);
		budget_ms -= 100;
		rbd_apply_process(a);
	}
	cancel_snapshots(a);
	if (a->st.inflight) {
		/* librbd still owns some records: leaking beats a use-after-free. */
		ra_log(a, LOG_ERR, "closing with %u aio still outstanding", a->st.inflight);
		return;
	}
	if (rbd_apply_conn_close_bounded(&a->conn, a->opts.op_timeout_s) < 0) {
		/* librbd may still call back into us: leaking beats a use-after-free */
		ra_log(a, LOG_ERR, "the session did not close in %u s: left behind",
		       a->opts.op_timeout_s);
		return;
	}
	for (r = a->head; r; r = next) {
		next = r->next;
		rec_free(r);
	}
	close(a->efd);
	pthread_mutex_destroy(&a->lock);
	free_opts(&a->opts);
	free(a);
}

static int validate(const struct rbd_apply *a, const struct rbd_apply_rec *rec)
{
	if (a->have_seq && rec->seq <= a->st.submitted_seq)
		return -EINVAL;
	switch (rec->op) {
	case CDP_OP_FLUSH:
	case CDP_OP_MARK:
		return 0;
	case CDP_OP_WRITE:
		if (!rec->data)
			return -EINVAL;
		/* fallthrough */
	case CDP_OP_DISCARD:
	case CDP_OP_WRITE_ZEROES:
		if (!rec->length)
			return -EINVAL;
		if (rec->offset > a->st.image_size || rec->length > a->st.image_size - rec->offset)
			return -ERANGE;
		return 0;
	}
	return -EINVAL;
}

/* Put @r at the end of the stream; it starts when nothing holds it back. */
static int enqueue(struct rbd_apply *a, struct ra_rec *r)
{
	int ret = ra_deps_link(a, r);

	if (ret < 0)
		return ret;
	r->a = a;
	r->state = RS_WAITING;
	r->prev = a->tail;
	if (a->tail)
		a->tail->next = r;
	else
		a->head = r;
	a->tail = r;
	a->st.queued++;
	if (!r->deps)
		ra_ready_push(a, r);
	dispatch(a);
	return 0;
}

static int window_full(const struct rbd_apply *a, uint64_t len)
{
	return a->st.queued >= a->opts.max_queued ||
	       (a->st.bytes && a->st.bytes + len > a->opts.max_bytes);
}

/* @owned: the payload to keep instead of a copy of rec->data (WRITE only). */
static int submit(struct rbd_apply *a, const struct rbd_apply_rec *rec, void *owned)
{
	uint64_t paylen = rec->op == CDP_OP_WRITE ? rec->length : 0;
	struct ra_rec *r;
	int ret = a->lost ? -ESTALE : validate(a, rec);

	if (!ret && owned && !paylen)
		ret = -EINVAL;
	if (ret < 0)
		return ret;
	if (window_full(a, paylen))
		return -EAGAIN;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->seq = rec->seq;
	r->op = rec->op;
	r->flags = rec->flags;
	if (!ra_is_barrier(r)) {
		r->off = rec->offset;
		r->len = rec->length;
	}
	if (paylen && !owned) {
		r->buf = malloc(paylen);
		if (!r->buf) {
			free(r);
			return -ENOMEM;
		}
		memcpy(r->buf, rec->data, paylen);
	} else {
		r->buf = owned;
	}
	a->st.bytes += paylen;
	ret = enqueue(a, r);
	if (ret < 0) {
		a->st.bytes -= paylen;
		if (owned)
			r->buf = NULL;	/* still the caller's */
		rec_free(r);
		return ret;
	}
	a->st.submitted_seq = rec->seq;
	a->have_seq = 1;
	return 0;
}

int rbd_apply_submit(struct rbd_apply *a, const struct rbd_apply_rec *rec)
{
	return submit(a, rec, NULL);
}

int rbd_apply_submit_owned(struct rbd_apply *a, const struct rbd_apply_rec *rec, void *buf)
{
	return submit(a, rec, buf);
}

/* A barrier of our own at the current end of the stream. */
static int submit_internal(struct rbd_apply *a, uint8_t op, const char *name, int protect)
{
	struct ra_rec *r;
	int ret;

	if (a->lost)
		return -ESTALE;
	if (a->st.queued >= a->opts.max_queued)
		return -EAGAIN;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->seq = a->st.submitted_seq;
	r->op = op;
	r->protect = protect;
	if (name && !(r->snap_name = strdup(name))) {
		free(r);
		return -ENOMEM;
	}
	ret = enqueue(a, r);
	if (ret < 0)
		rec_free(r);
	return ret;
}

int rbd_apply_snapshot(struct rbd_apply *a, const char *name, int protect)
{
	/* RBD snapshot names: no '@' or '/', and they must fit a RADOS key. */
	if (!name || !*name || strlen(name) > 200 || strpbrk(name, "@/"))
		return -EINVAL;
	return submit_internal(a, RA_OP_SNAP, name, protect);
}

int rbd_apply_sync(struct rbd_apply *a)
{
	/* Nothing submitted, all durable, or a barrier already ends the stream:
	 * callers may call this on every idle tick without piling up flushes.
	 * Without a client cache every record becomes durable as it completes
	 * (and is reported then): a barrier would only stall the stream. */
	if (a->lost)
		return -ESTALE;
	if (!a->have_seq || a->cache_off || a->st.durable_seq >= a->st.submitted_seq ||
	    (a->tail && ra_is_barrier(a->tail) && a->tail->seq == a->st.submitted_seq))
		return 0;
	return submit_internal(a, RA_OP_SYNC, NULL, 0);
}

int rbd_apply_fd(const struct rbd_apply *a)
{
	return a->efd;
}

int rbd_apply_next_timeout_ms(const struct rbd_apply *a)
{
	uint64_t next = UINT64_MAX, now = ra_now_ms();
	const struct ra_rec *r;

	if (a->need_reconnect) {
		next = a->reconnect_at_ms;
		/* aio still held: they count as stuck from then on */
		if (a->st.inflight && next < a->need_reconnect_since_ms + ra_stuck_ms(a))
			next = a->need_reconnect_since_ms + ra_stuck_ms(a);
	} else {
		if (a->st.inflight)
			next = a->stuck_check_at_ms;
		if (a->nretry)
			for (r = a->head; r; r = r->next)
				if (r->state == RS_RETRY && r->retry_at_ms < next)
					next = r->retry_at_ms;
	}
	if (next == UINT64_MAX)
		return -1;
	return next <= now ? 0 : (int)(next - now);
}

int rbd_apply_wait(struct rbd_apply *a, int timeout_ms)
{
	struct pollfd p = { .fd = a->efd, .events = POLLIN };
	int next = rbd_apply_next_timeout_ms(a);

	if (next >= 0 && (timeout_ms < 0 || next < timeout_ms))
		timeout_ms = next;
	if (poll(&p, 1, timeout_ms) < 0 && errno != EINTR)
		return -errno;
	return rbd_apply_process(a);
}

int rbd_apply_drain(struct rbd_apply *a, int timeout_ms)
{
	uint64_t end = ra_now_ms() + (timeout_ms < 0 ? 0 : (uint64_t)timeout_ms);

	rbd_apply_process(a);
	while (a->st.queued) {
		uint64_t now = ra_now_ms();

		if (timeout_ms >= 0 && now >= end)
			return -ETIMEDOUT;
		rbd_apply_wait(a, timeout_ms < 0 ? 1000 : (int)(end - now));
	}
	return 0;
}

void rbd_apply_get_stats(const struct rbd_apply *a, struct rbd_apply_stats *st)
{
	*st = a->st;
	st->stalled = a->nretry > 0 || a->need_reconnect;
	st->durable_on_completion = a->cache_off;
	st->lost = a->lost;
}

uint64_t rbd_apply_durable_seq(const struct rbd_apply *a)
{
	return a->st.durable_seq;
}

int rbd_apply_snap_exists(struct rbd_apply *a, const char *name)
{
	bool exists = false;
	int r = rbd_snap_exists(a->conn.img, name, &exists);

	return r < 0 ? r : exists;
}

void rbd_apply_halt(struct rbd_apply *a)
{
	a->halted = 1;
}
