// SPDX-License-Identifier: GPL-2.0
/*
 * cdpd_volume.c - one worker per protected volume: attach to its stream,
 * fetch records, apply them to the RBD image through rbd_apply, ACK what is
 * durable, take snapshots at their MARK records.
 *
 * Ordering and durability live in rbd_apply; this file decides *when* to
 * make things durable (FLUSH/MARK records, or every ack_interval_ms while
 * records are outstanding) and owns the volume's consistency state:
 * resync records arrive in region order, so the replica is not
 * crash-consistent from the first of them until the kernel reports the
 * resync finished and everything up to that point is durable. A
 * "pre-resync" snapshot is taken before the first one is applied.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cdpd.h"
#include "dmdev.h"
#include "nl.h"
#include "rbd_apply.h"
#include "util.h"

/* -v: where a worker's time goes, logged and reset every 5 s */
struct pipe_stats {
	double since, recv0;
	uint64_t dgrams0;
	unsigned int fetches, empty, acks;
	uint64_t records, bytes;
	double fetch_s, submit_s, full_s, idle_s, ack_s;	/* submit_s, full_s: inside fetch_s */
	uint64_t inflight_sum, queued_sum;	/* sampled at each record */
	/*
	 * Replication lag per record: from the write's completion in the
	 * kernel to the moment it was durable on the image. Measured where it
	 * is known, not guessed from samples of last/acked seq (a starved
	 * sampler rounds every lag up to its own gaps).
	 */
	float lag[4096];
	unsigned int nlag;		/* values kept (the first 4096) */
	uint64_t lag_n;			/* records made durable */
	double lag_max;
};

struct worker {
	struct vol *v;
	struct cdp_nl *nl;
	struct cdp_nl *ev;		/* "events" group: NOTIFY wakes an idle worker */
	struct rbd_apply *ap;
	uint64_t next_seq;		/* fetch records after this one */
	int in_resync;			/* resync records seen, not yet reported done */
	int resync_ended;		/* the kernel said the resync ended, at ... */
	uint64_t resync_end_seq;	/* ... its last seq then */
	int degraded_seen;		/* degraded sync volume: caught up at ... */
	uint64_t degraded_seq;		/* ... the last seq when first seen degraded */
	unsigned int sync_timeout_ms;	/* from the table at connect; 0: unknown */
	double last_ack, last_list;
	/* completion times of records not yet durable, to report lag in seconds */
	uint64_t ring_seq[4096];
	double ring_time[4096];
	unsigned int ring_head, ring_tail;
	struct pipe_stats ps;
	/* a backlog being worked off: since when, from which seq, how much */
	double behind_since;
	uint64_t behind_seq, behind_bytes;
	char refused[512];		/* why on_record stopped the last FETCH */
	int stall_shown;		/* status says the replica is stalled */
	int halted;			/* engine halted (see on_snap): end the session */
	uint64_t stall_durable;		/* durable seq when last seen moving ... */
	double stall_since;		/* ... at this time */
};

/*
 * Count a backlog from the first records fetched after being caught up to
 * the moment all of them are acked; log long ones (all of them with -v)
 * with their apply rate: how fast the replica catches up after an outage
 * or a burst is what an operator sizes queue_mb and the link by.
 */
static void backlog_progress(struct worker *w, size_t count, uint32_t bytes)
{
	struct vol *v = w->v;
	double dt;

	if (count && !w->behind_since) {
		w->behind_since = cdp_mono();
		w->behind_seq = v->acked_seq;
		w->behind_bytes = 0;
	}
	w->behind_bytes += bytes;
	if (count || !w->behind_since || v->acked_seq < w->next_seq)
		return;
	dt = cdp_mono() - w->behind_since;
	if (cdpd_verbose || dt >= 10)
		cdpd_log(LOG_INFO, "%s: caught up: %llu records (%.1f MiB) applied in %.2f s (%.1f MiB/s)",
			 v->name, (unsigned long long)(w->next_seq - w->behind_seq),
			 w->behind_bytes / 1048576.0, dt,
			 dt > 0 ? w->behind_bytes / 1048576.0 / dt : 0);
	w->behind_since = 0;
}

static int cmp_float(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;

	return (x > y) - (x < y);
}

/* " lag p50 ... over N records" for the pipeline line, or "" */
static void lag_summary(struct pipe_stats *ps, char *buf, size_t len)
{
	buf[0] = 0;
	if (!ps->nlag)
		return;
	qsort(ps->lag, ps->nlag, sizeof(ps->lag[0]), cmp_float);
	snprintf(buf, len, "; durable lag p50 %.3f s p99 %.3f s max %.3f s over %llu records",
		 ps->lag[ps->nlag / 2], ps->lag[ps->nlag * 99 / 100], ps->lag_max,
		 (unsigned long long)ps->lag_n);
}

static void stats_log(struct worker *w)
{
	struct pipe_stats *ps = &w->ps;
	double now = cdp_mono(), dt = now - ps->since, recv_s;
	unsigned int n = ps->records ? ps->records : 1;
	uint64_t dgrams;
	char lag[128];

	if (!cdpd_verbose || dt < 5)
		return;
	lag_summary(ps, lag, sizeof(lag));
	cdp_nl_fetch_stats(w->nl, &recv_s, &dgrams);
	if (ps->since > 0)
		cdpd_log(LOG_INFO, "%s: pipeline %.1f s: %u fetches (%u empty) %llu records %.1f MiB; fetch %.0f%% (recvmsg %.0f%% in %llu datagrams, submit %.0f%%, window full %.0f%%), idle %.0f%%, ack %.0f%% (%u); aio in flight %.1f, queued %.1f on average%s",
			 w->v->name, dt, ps->fetches, ps->empty, (unsigned long long)ps->records,
			 ps->bytes / 1048576.0, 100 * ps->fetch_s / dt,
			 100 * (recv_s - ps->recv0) / dt, (unsigned long long)(dgrams - ps->dgrams0),
			 100 * ps->submit_s / dt, 100 * ps->full_s / dt,
			 100 * ps->idle_s / dt, 100 * ps->ack_s / dt, ps->acks,
			 (double)ps->inflight_sum / n, (double)ps->queued_sum / n, lag);
	memset(ps, 0, sizeof(*ps));
	ps->since = now;
	ps->recv0 = recv_s;
	ps->dgrams0 = dgrams;
}

static void ring_push(struct worker *w, uint64_t seq, double t)
{
	unsigned int n = ARRAY_SIZE(w->ring_seq);

	if (w->ring_head - w->ring_tail == n)
		return;		/* full: lag is then only approximate */
	/*
	 * The oldest record not yet durable, for status: set here too, or a
	 * replica that stalls after being caught up (Ceph gone) shows a lag
	 * of 0 s beside thousands of records (on_durable never runs again).
	 */
	if (w->ring_head == w->ring_tail) {
		pthread_mutex_lock(&w->v->lock);
		w->v->oldest_pending = t;
		pthread_mutex_unlock(&w->v->lock);
	}
	w->ring_seq[w->ring_head % n] = seq;
	w->ring_time[w->ring_head % n] = t;
	w->ring_head++;
}

/* rbd_apply callback, in this thread: everything <= seq is on the image. */
static void on_durable(void *arg, uint64_t seq)
{
	struct worker *w = arg;
	struct vol *v = w->v;
	unsigned int n = ARRAY_SIZE(w->ring_seq);
	struct pipe_stats *ps = &w->ps;
	double now = cdpd_verbose ? cdp_now() : 0;

	while (w->ring_tail != w->ring_head && w->ring_seq[w->ring_tail % n] <= seq) {
		if (cdpd_verbose) {
			double age = now - w->ring_time[w->ring_tail % n];

			if (ps->nlag < sizeof(ps->lag) / sizeof(ps->lag[0]))
				ps->lag[ps->nlag++] = age;
			ps->lag_n++;
			if (age > ps->lag_max)
				ps->lag_max = age;
		}
		w->ring_tail++;
	}
	pthread_mutex_lock(&v->lock);
	v->durable_seq = seq;
	v->oldest_pending = w->ring_tail == w->ring_head ? 0 : w->ring_time[w->ring_tail % n];
	pthread_mutex_unlock(&v->lock);
}

/*
 * While a resync is being applied a marker file exists in state_dir, so a
 * daemon restarted in the middle knows the image is not consistent (and
 * that the existing pre-resync snapshot, not a new one, is the last
 * consistent point). An overflow alone leaves the replica consistent: all
 * acked records were applied in order.
 */
static void resync_marker(const struct vol *v, char *path, size_t len)
{
	snprintf(path, len, "%s/resync-%s", cfg.state_dir, v->name);
}

/*
 * The marker says "pending NAME" from before the pre-resync snapshot is
 * queued, "taken NAME" once it exists, "failed NAME" if it could not be
 * taken (the resync is then applied without one). Records after the
 * snapshot wait for it (a barrier), so while it is pending none of them
 * has reached the image. Durable (fsync) before the caller goes on.
 */
static int marker_write(struct vol *v, const char *state, const char *name)
{
	char path[4200], tmp[4220];
	int fd, ok;

	resync_marker(v, path, sizeof(path));
	/* not "<marker>.tmp": a volume may be named "<other volume>.tmp" */
	snprintf(tmp, sizeof(tmp), "%s/.resync-%s.tmp", cfg.state_dir, v->name);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	ok = dprintf(fd, "%s %s\n", state, name) > 0 && !fsync(fd);
	if (close(fd) || !ok || rename(tmp, path)) {
		unlink(tmp);
		return -EIO;
	}
	/* the rename itself, so that a power cut cannot undo it */
	fd = open(cfg.state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ok = fd >= 0 && !fsync(fd);
	if (fd >= 0)
		close(fd);
	return ok ? 0 : -EIO;
}

/*
 * A marker state that could not be written: the session must not go on
 * (a restart would misread the image's consistency). Says why in
 * w->refused, which the status shows; returns r.
 */
static int marker_refused(struct worker *w, const char *state, int r)
{
	snprintf(w->refused, sizeof(w->refused),
		 "cannot write \"%s\" into the resync marker in %.300s (%s): make state_dir writable",
		 state, cfg.state_dir, strerror(-r));
	cdpd_log(LOG_ERR, "%s: %s", w->v->name, w->refused);
	return r;
}

static void on_snap(void *arg, uint64_t seq, const char *name, int rc)
{
	struct worker *w = arg;
	struct vol *v = w->v;
	struct pending_snap *p, **pp;
	int r;

	pthread_mutex_lock(&v->lock);
	for (pp = &v->snaps; (p = *pp);) {
		if (strcmp(p->name, name) || p->seq > seq) {
			pp = &p->next;
			continue;
		}
		if (p->state == SNAP_CANCELLED) {
			/* its requester gave up: the snapshot exists but nobody records it */
			if (!rc)
				cdpd_log(LOG_WARNING, "%s: snapshot %s completed after its request timed out; remove it with 'rbd snap rm %s/%s@%s' if unwanted",
					 v->name, name, v->pool, v->image, name);
			*pp = p->next;
			free(p);
			continue;
		}
		if (p->state == SNAP_RUNNING) {
			p->state = rc ? SNAP_FAILED : SNAP_DONE;
			p->rc = rc;
			if (rc == -ECANCELED)
				snprintf(p->err, sizeof(p->err),
					 "the replica session ended (Ceph unreachable, table reloaded or cdpd stopping) before %s@%s was taken: take the snapshot again",
					 v->image, name);
			else if (rc)
				snprintf(p->err, sizeof(p->err), "RBD snapshot %s@%s failed: %s",
					 v->image, name, strerror(-rc));
		}
		pp = &p->next;
	}
	pthread_cond_broadcast(&v->cond);
	pthread_mutex_unlock(&v->lock);
	if (strncmp(name, "cdp-pre-resync-", 15)) {
		cdpd_log(rc ? LOG_ERR : LOG_INFO, "%s: snapshot %s at seq %llu %s", v->name,
			 name, (unsigned long long)seq, rc ? strerror(-rc) : "created");
	} else if (rc != -ECANCELED && (r = marker_write(v, rc ? "failed" : "taken", name))) {
		if (!rc) {
			/* "pending" stays, and the snapshot exists: a restart says inconsistent */
			cdpd_log(LOG_WARNING, "%s: cannot update the resync marker in %s", v->name,
				 cfg.state_dir);
			return;
		}
		/*
		 * "pending" with no snapshot would read as "nothing of the
		 * resync applied" after a restart: start none of it (the
		 * engine releases the records after the snapshot only after
		 * this callback), stop, and retry later.
		 */
		rbd_apply_halt(w->ap);
		w->halted = 1;
		marker_refused(w, "failed", r);
	}
}

static void on_log(void *arg, int level, const char *msg)
{
	struct worker *w = arg;

	cdpd_log(level, "%s: %s", w->v->name, msg);
}

/*
 * Queue a snapshot barrier, waiting while the engine's window is full. Not
 * under v->lock: rbd_apply_wait runs the callbacks, which take it.
 */
static int queue_snapshot(struct worker *w, const char *name, int protect)
{
	int r;

	while ((r = rbd_apply_snapshot(w->ap, name, protect)) == -EAGAIN) {
		if (w->v->stop || cdpd_quit)
			return -EINTR;	/* Ceph may be down for hours: not here */
		if (w->halted)
			return -EIO;
		rbd_apply_wait(w->ap, 100);
	}
	return r;
}

static int mark_registered(const struct vol *v, uint64_t seq)
{
	const struct pending_snap *p;

	for (p = v->snaps; p; p = p->next)
		if (p->seq == seq)
			return 1;
	return 0;
}

/*
 * A client that marked the volume itself registers the mark only after
 * its thaw: a MARK newer than the floor may be that one, so wait until it
 * is registered or no such client is left (each gives up within its
 * timeout). Not in sync mode, where the thaw's own writes wait for our
 * acks (cdpctl lets cdpd mark those; another client's late registration
 * is refused instead). Called and returns with v->lock held.
 */
static void wait_registration(struct vol *v, uint64_t seq)
{
	struct timespec ts;

	v->mark_seen = seq;
	v->mark_waiting = seq;
	while (v->marks_expected > 0 && seq > v->mark_floor && !mark_registered(v, seq) &&
	       !v->kernel_sync && !v->stop && !cdpd_quit) {
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 1;
		pthread_cond_timedwait(&v->cond, &v->lock, &ts);
	}
	v->mark_waiting = 0;
}

/* A MARK record: the snapshot registered for it (if any) is taken here. */
static void mark_reached(struct worker *w, uint64_t seq)
{
	struct vol *v = w->v;
	struct pending_snap *p, *todo[16];
	int n = 0, i, r;

	/* the control thread holds v->lock while it inserts a MARK */
	pthread_mutex_lock(&v->lock);
	wait_registration(v, seq);
	for (p = v->snaps; p; p = p->next) {
		if (p->seq != seq || p->state != SNAP_WAIT)
			continue;
		if (!v->consistent) {
			p->state = SNAP_FAILED;
			p->rc = -EBUSY;
			snprintf(p->err, sizeof(p->err),
				 "resync started before the mark: the replica is not consistent");
			continue;
		}
		/* RUNNING from here: nothing but this thread touches it until on_snap */
		p->state = SNAP_RUNNING;
		if (n < 16)
			todo[n++] = p;
	}
	pthread_mutex_unlock(&v->lock);
	for (i = 0; i < n; i++) {
		r = queue_snapshot(w, todo[i]->name, todo[i]->protect);
		if (!r)
			continue;
		pthread_mutex_lock(&v->lock);
		if (todo[i]->state == SNAP_CANCELLED) {
			struct pending_snap **pp;

			/* its requester gave up meanwhile: nobody else frees it */
			for (pp = &v->snaps; *pp; pp = &(*pp)->next)
				if (*pp == todo[i]) {
					*pp = todo[i]->next;
					break;
				}
			free(todo[i]);
		} else {
			todo[i]->state = SNAP_FAILED;
			todo[i]->rc = r;
			snprintf(todo[i]->err, sizeof(todo[i]->err), "cannot queue snapshot: %s",
				 strerror(-r));
		}
		pthread_mutex_unlock(&v->lock);
	}
	pthread_mutex_lock(&v->lock);
	pthread_cond_broadcast(&v->cond);
	pthread_mutex_unlock(&v->lock);
}

static int start_resync(struct worker *w, uint64_t seq)
{
	char name[96];
	int r;

	snprintf(name, sizeof(name), "cdp-pre-resync-%lld-%llu", (long long)time(NULL),
		 (unsigned long long)seq);
	r = marker_write(w->v, "pending", name);
	if (r)	/* without it a restart mid-resync would call the image consistent */
		return marker_refused(w, "pending", r);
	/* a full barrier before the first out-of-order record: a consistent point */
	r = queue_snapshot(w, name, 0);
	if (r == -EINTR)
		return r;
	if (r) {
		cdpd_log(LOG_WARNING, "%s: cannot take the pre-resync snapshot: %s", w->v->name,
			 strerror(-r));
		r = marker_write(w->v, "failed", name);
		if (r)
			return marker_refused(w, "failed", r);
	} else {
		cdpd_log(LOG_NOTICE, "%s: resync starts at seq %llu; replica inconsistent until it ends (snapshot %s kept)",
			 w->v->name, (unsigned long long)seq, name);
	}
	w->in_resync = 1;
	w->resync_ended = 0;
	pthread_mutex_lock(&w->v->lock);
	w->v->consistent = 0;
	pthread_mutex_unlock(&w->v->lock);
	return 0;
}

/*
 * Connecting with a marker: a snapshot still "pending" that does not exist
 * was never taken, so no resync record passed it: the image is still the
 * ordered prefix it was, consistent, and the redelivered resync records
 * start a resync (and its snapshot) again. Anything else: inconsistent.
 */
static int marker_says_consistent(struct worker *w)
{
	char path[4200], state[16] = "", name[128] = "";
	FILE *f;
	int n;

	resync_marker(w->v, path, sizeof(path));
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT;
	n = fscanf(f, "%15s %127s", state, name);
	fclose(f);
	if (n != 2 || strcmp(state, "pending") || rbd_apply_snap_exists(w->ap, name) != 0)
		return 0;
	cdpd_log(LOG_NOTICE, "%s: the pre-resync snapshot %s was never taken: nothing of that resync was applied, it starts again",
		 w->v->name, name);
	unlink(path);
	return 1;
}

static void set_error(struct vol *v, const char *msg)
{
	pthread_mutex_lock(&v->lock);
	if (strcmp(v->error, msg))
		cdpd_log(msg[0] ? LOG_WARNING : LOG_INFO, "%s: %s", v->name,
			 msg[0] ? msg : "serving");
	snprintf(v->error, sizeof(v->error), "%s", msg);
	pthread_mutex_unlock(&v->lock);
}

/*
 * Records outstanding and none made durable for a while: Ceph is not
 * taking writes. Say so in `cdpctl status` (and the log) instead of
 * "serving"; clear it once the replica moves again.
 */
static void check_stall(struct worker *w)
{
	uint64_t durable = rbd_apply_durable_seq(w->ap);
	double now = cdp_mono();
	struct rbd_apply_stats st;
	char msg[400];

	if (durable != w->stall_durable || w->next_seq <= durable) {
		w->stall_durable = durable;
		w->stall_since = now;
		if (w->stall_shown) {
			w->stall_shown = 0;
			set_error(w->v, "");
		}
		return;
	}
	if (w->stall_shown || now - w->stall_since < 10)
		return;
	rbd_apply_get_stats(w->ap, &st);
	snprintf(msg, sizeof(msg),
		 "replica %s/%s has taken no write for %.0f s (%u aio in flight, last error: %s); the kernel queues meanwhile, then tracks",
		 w->v->pool, w->v->image, now - w->stall_since, st.inflight,
		 st.last_error ? strerror(-st.last_error) : "none yet");
	set_error(w->v, msg);
	w->stall_shown = 1;
}

/*
 * Submit one record: the payload is handed over, not copied again. First
 * collect finished aio: the worker is inside a FETCH here, and otherwise
 * completions would only be seen (and the freed slots refilled) after the
 * whole batch is received, leaving librbd short of work meanwhile.
 */
static int submit_record(struct worker *w, struct rbd_apply_rec *rec, const struct cdp_record *r)
{
	void *buf = NULL;
	double t0 = cdp_mono(), tfull = 0;
	int ret;

	rbd_apply_process(w->ap);
	if (rec->op == CDP_OP_WRITE) {
		buf = cdp_nl_take_data(w->nl, r);
		if (!buf)
			return -ENOMEM;
		rec->data = buf;
	}
	for (;;) {
		ret = buf ? rbd_apply_submit_owned(w->ap, rec, buf) : rbd_apply_submit(w->ap, rec);
		if (ret != -EAGAIN)
			break;
		if (!tfull)
			tfull = cdp_mono();	/* the window is full: wait for room */
		if (w->v->stop || cdpd_quit) {
			/* Ceph may be down for hours: stop, the kernel redelivers */
			ret = -EINTR;
			break;
		}
		if (w->halted) {
			ret = -EIO;
			break;
		}
		check_stall(w);
		rbd_apply_wait(w->ap, 100);
	}
	if (tfull)
		w->ps.full_s += cdp_mono() - tfull;
	w->ps.submit_s += (tfull ? tfull : cdp_mono()) - t0;
	if (ret)
		free(buf);
	return ret;
}

static int on_record(const struct cdp_record *r, void *arg)
{
	struct worker *w = arg;
	struct rbd_apply_rec rec = {
		.seq = r->seq, .offset = r->sector << 9, .length = r->len,
		.op = r->op, .flags = r->flags, .data = r->data,
	};
	int ret;

	if (w->halted)
		return -EIO;	/* w->refused says why */
	if (r->op == CDP_OP_FLUSH || r->op == CDP_OP_MARK)
		rec.length = 0;
	/*
	 * The first record of a resync phase: resync data, or any record the
	 * kernel enqueued while syncing (writes before it may be missing).
	 */
	/* a resync that started (and maybe ended) since the last one ended */
	if ((r->flags & (CDP_REC_F_RESYNC | CDP_REC_F_UNORDERED)) && w->resync_ended &&
	    r->seq > w->resync_end_seq)
		w->resync_ended = 0;
	if ((r->flags & (CDP_REC_F_RESYNC | CDP_REC_F_UNORDERED)) && !w->in_resync) {
		ret = start_resync(w, r->seq);
		if (ret)
			return ret;
	}
	ret = submit_record(w, &rec, r);
	if (cdpd_verbose) {
		struct rbd_apply_stats st;

		rbd_apply_get_stats(w->ap, &st);
		w->ps.inflight_sum += st.inflight;
		w->ps.queued_sum += st.queued;
		w->ps.records++;
	}
	w->ps.bytes += rec.length;
	if (ret == -EINTR)
		return ret;
	if (ret) {
		/* a record the engine refuses cannot be skipped: stop, reattach later */
		snprintf(w->refused, sizeof(w->refused),
			 "record seq %llu (%s, sector %llu, %u bytes) refused by the replica engine: %s",
			 (unsigned long long)r->seq, cdp_op_name(r->op),
			 (unsigned long long)r->sector, r->len, strerror(-ret));
		cdpd_log(LOG_ERR, "%s: %s", w->v->name, w->refused);
		return ret;
	}
	ring_push(w, r->seq, r->time_ns / 1e9);
	w->next_seq = r->seq;
	if (r->op == CDP_OP_MARK)
		mark_reached(w, r->seq);
	return 0;
}

/*
 * The volume's sync_timeout_ms from its table ("<origin> <meta> <volume>
 * <#opts> ... sync_timeout_ms <n> ..."); 0 if it cannot be read. Read at
 * connect: a table reload ends the session (the kernel drops the
 * consumer), and libdevmapper is better not called once a second from
 * several workers.
 */
static unsigned int sync_timeout_ms(const char *dm_name)
{
	struct dm_line l;
	char err[256];
	const char *p;
	unsigned int ms;
	int n = 0;

	if (!dm_name[0] || dmdev_table(dm_name, &l, err, sizeof(err)))
		return 0;
	/* past the three devices/names: a volume may be called anything */
	if (sscanf(l.params, "%*s %*s %*s%n", &n) != 0 || !n)
		return 0;
	p = strstr(l.params + n, " sync_timeout_ms ");
	if (!p || sscanf(p, " sync_timeout_ms %u", &ms) != 1)
		return 0;
	return ms;
}

/*
 * Re-armed, sync mode makes the next write wait for every record queued
 * before it. So only when the oldest record not yet on the image is
 * younger than a quarter of the volume's sync_timeout_ms (and 0.5 s):
 * re-armed behind a backlog, that write would time out and degrade the
 * volume again, one sync_timeout_ms stall per round while the backlog
 * lasts (seen after a Ceph outage with a writer running). Unfetched
 * records are younger than fetched ones, so the ring's oldest entry is
 * the oldest of all; with the ring empty, only if nothing is left to
 * fetch. A negative age (the clock stepped back) decides nothing.
 */
static int backlog_short(struct worker *w, const struct cdp_volinfo *vi)
{
	unsigned int n = ARRAY_SIZE(w->ring_seq);
	unsigned int ms = w->sync_timeout_ms;
	double limit = ms && ms / 4000.0 < 0.5 ? ms / 4000.0 : 0.5, age;

	if (w->ring_tail == w->ring_head)
		return vi->last_seq <= w->next_seq;
	age = cdp_now() - w->ring_time[w->ring_tail % n];
	return age >= 0 && age <= limit;
}

/* Refresh kernel-side numbers; end a resync once the kernel says it ended. */
static void refresh(struct worker *w)
{
	struct vol *v = w->v;
	struct cdp_volinfo vi;

	if (cdp_nl_info(w->nl, v->name, &vi))
		return;
	pthread_mutex_lock(&v->lock);
	v->kernel_last_seq = vi.last_seq;
	v->kernel_state = vi.state;
	v->kernel_sync = vi.mode == CDP_MODE_SYNC;
	v->queued_bytes = vi.queued_bytes;
	/*
	 * Consistent once everything up to the kernel's last seq *when the
	 * resync ended* is durable: later records are ordered ones. Comparing
	 * with the current last seq would never succeed under a steady writer.
	 */
	if (vi.state == CDP_STATE_SYNCING || vi.state == CDP_STATE_TRACKING ||
	    vi.resync_left) {
		w->resync_ended = 0;
	} else if (!w->resync_ended) {
		w->resync_ended = 1;
		w->resync_end_seq = vi.last_seq;
	}
	if (w->resync_ended && v->durable_seq >= w->resync_end_seq && !v->consistent) {
		char marker[4200];

		resync_marker(v, marker, sizeof(marker));
		unlink(marker);
		v->consistent = 1;
		w->in_resync = 0;
		cdpd_log(LOG_NOTICE, "%s: resync applied, replica consistent at seq %llu",
			 v->name, (unsigned long long)v->durable_seq);
	}
	pthread_mutex_unlock(&v->lock);
	/*
	 * A sync volume that timed out runs degraded (async) until told
	 * otherwise: once the replica has caught up, re-arm sync mode so the
	 * RPO is 0 again without an operator.
	 */
	if (vi.state != CDP_STATE_DEGRADED) {
		w->degraded_seen = 0;
	} else if (!w->degraded_seen) {
		w->degraded_seen = 1;
		w->degraded_seq = vi.last_seq;
	}
	/* caught up with what was queued when it degraded (see above) */
	if (w->degraded_seen && v->consistent && v->durable_seq >= w->degraded_seq &&
	    v->dm_name[0] && backlog_short(w, &vi)) {
		char err[256];

		if (dmdev_message(v->dm_name, "mode sync", err, sizeof(err))) {
			cdpd_log(LOG_WARNING, "%s: cannot re-arm sync mode: %s", v->name, err);
		} else {
			cdpd_log(LOG_NOTICE, "%s: caught up after a sync timeout: sync mode re-armed",
				 v->name);
			/* degraded again before the next LIST: catch up anew */
			w->degraded_seen = 0;
		}
	}
}

/* Best effort: without the events group the worker polls every 100 ms. */
static void open_events(struct worker *w)
{
	if (w->ev)
		return;
	if (cdp_nl_open(&w->ev)) {
		w->ev = NULL;
		return;
	}
	if (cdp_nl_subscribe(w->ev)) {
		cdp_nl_close(w->ev);
		w->ev = NULL;
	}
}

/* Connect both ends. 0 when serving, -errno (after a message) to retry later. */
static int connect_volume(struct worker *w)
{
	struct vol *v = w->v;
	struct rbd_apply_opts o = {
		.conf = cfg.ceph_conf, .keyring = cfg.keyring[0] ? cfg.keyring : NULL,
		.client_id = cfg.client_id, .pool = v->pool, .image = v->image,
		.op_timeout_s = cfg.op_timeout_s, .max_inflight = cfg.max_inflight,
		.durable_cb = on_durable, .snap_cb = on_snap, .log_cb = on_log, .cb_arg = w,
		/* a killed predecessor's image lock is broken, not waited out */
		.take_over_lock = 1,
	};
	struct cdp_volinfo vi;
	char err[256], msg[600];
	int r;

	open_events(w);
	r = rbd_apply_open(&o, &w->ap, err, sizeof(err));
	if (r) {
		snprintf(msg, sizeof(msg), "replica %s/%s unavailable: %s", v->pool, v->image, err);
		set_error(v, msg);
		return r;
	}
	r = cdp_nl_attach(w->nl, v->name, &vi);
	if (r) {
		snprintf(msg, sizeof(msg), "cannot attach: %s", cdp_nl_error(w->nl));
		set_error(v, msg);
		rbd_apply_close(w->ap);
		w->ap = NULL;
		return r;
	}
	w->next_seq = vi.acked_seq;
	w->sync_timeout_ms = sync_timeout_ms(v->dm_name);
	w->in_resync = !marker_says_consistent(w);
	w->resync_ended = w->degraded_seen = 0;
	w->ring_head = w->ring_tail = 0;
	pthread_mutex_lock(&v->lock);
	v->attached = 1;
	v->consistent = !w->in_resync;
	v->acked_seq = v->durable_seq = v->fetched_seq = vi.acked_seq;
	v->oldest_pending = 0;		/* the ring starts empty */
	v->kernel_last_seq = vi.last_seq;
	v->kernel_state = vi.state;
	pthread_mutex_unlock(&v->lock);
	set_error(v, "");
	cdpd_log(LOG_INFO, "%s: attached, resuming after acked seq %llu (%s)", v->name,
		 (unsigned long long)vi.acked_seq, cdp_state_name(vi.state));
	return 0;
}

static void disconnect_volume(struct worker *w)
{
	pthread_mutex_lock(&w->v->lock);
	w->v->attached = 0;
	pthread_mutex_unlock(&w->v->lock);
	if (w->ap)
		rbd_apply_close(w->ap);	/* what was not durable is redelivered */
	w->ap = NULL;
	cdp_nl_detach(w->nl, w->v->name);
}

/* ACK what became durable; ask for durability when records wait too long. */
static void ack_progress(struct worker *w, int idle)
{
	struct vol *v = w->v;
	uint64_t durable = rbd_apply_durable_seq(w->ap);
	double now = cdp_mono();

	if (now - w->last_ack >= cfg.ack_interval_ms / 1000.0 || idle) {
		if (w->next_seq > durable)
			rbd_apply_sync(w->ap);
		w->last_ack = now;
	}
	if (durable > v->acked_seq && !cdp_nl_ack(w->nl, v->name, durable)) {
		pthread_mutex_lock(&v->lock);
		v->acked_seq = durable;
		pthread_mutex_unlock(&v->lock);
		w->ps.acks++;
	}
	w->ps.ack_s += cdp_mono() - now;
}

/*
 * Nothing to fetch: sleep until librbd completes something, the kernel
 * multicasts NOTIFY (records queued), or 100 ms pass. Without the NOTIFY
 * wake-up every sync-mode write would wait for the next poll tick.
 */
static void idle_wait(struct worker *w)
{
	struct pollfd p[2] = {
		{ .fd = rbd_apply_fd(w->ap), .events = POLLIN },
		{ .fd = w->ev ? cdp_nl_fd(w->ev) : -1, .events = POLLIN },
	};
	int t = rbd_apply_next_timeout_ms(w->ap);

	if (poll(p, 2, t >= 0 && t < 100 ? t : 100) > 0 && (p[1].revents & POLLIN)) {
		struct cdp_nl_event e;

		while (!cdp_nl_event_wait(w->ev, 0, &e))
			;	/* drained: the next FETCH sees what they announced */
	}
	rbd_apply_process(w->ap);
}

/*
 * The engine dropped a session whose client cache was on (an image or pool
 * config override): what that cache held may be gone. Start over from the
 * last ACK; the kernel redelivers everything after it.
 */
static int engine_lost(struct worker *w)
{
	struct rbd_apply_stats st;

	rbd_apply_get_stats(w->ap, &st);
	if (!st.lost)
		return 0;
	set_error(w->v, "the replica's client cache was on (rbd_cache overridden for the image or pool) and its session was lost: replaying from the last ACK");
	return 1;
}

static int serve(struct worker *w)
{
	struct vol *v = w->v;
	uint32_t batch = cfg.fetch_kb * 1024;
	size_t count;
	int r;

	w->ps.since = 0;
	w->behind_since = 0;
	w->refused[0] = '\0';
	w->halted = 0;
	w->stall_shown = 0;
	w->stall_since = cdp_mono();
	while (!v->stop && !cdpd_quit) {
		double t = cdp_mono();
		uint64_t bytes0 = w->ps.bytes;

		r = cdp_nl_fetch(w->nl, v->name, w->next_seq, batch, on_record, w, &count);
		w->ps.fetch_s += cdp_mono() - t;
		w->ps.fetches++;
		w->ps.empty += count == 0;
		if (r == -EINTR)
			return r;	/* stop while Ceph takes nothing: no drain */
		if (r) {
			char msg[300];

			snprintf(msg, sizeof(msg), "fetch failed: %.280s",
				 w->refused[0] ? w->refused : cdp_nl_error(w->nl));
			set_error(v, msg);
			return r;
		}
		pthread_mutex_lock(&v->lock);
		v->fetched_seq = w->next_seq;
		pthread_mutex_unlock(&v->lock);
		rbd_apply_process(w->ap);
		if (w->halted) {
			set_error(v, w->refused);
			return -EIO;
		}
		ack_progress(w, count == 0);
		check_stall(w);
		if (engine_lost(w))
			return -ESTALE;
		if (cdp_mono() - w->last_list > (v->consistent ? 1.0 : 0.2)) {
			refresh(w);
			w->last_list = cdp_mono();
		}
		backlog_progress(w, count, w->ps.bytes - bytes0);
		stats_log(w);
		if (count == 0) {
			t = cdp_mono();
			idle_wait(w);
			w->ps.idle_s += cdp_mono() - t;
			/* a sync-mode writer waits for this ACK: not for another FETCH first */
			ack_progress(w, 0);
		}
	}
	/* clean stop: make what we have durable and ACK it */
	if (!rbd_apply_sync(w->ap))
		rbd_apply_drain(w->ap, cfg.op_timeout_s * 1000);
	ack_progress(w, 0);
	return 0;
}

void *vol_worker(void *arg)
{
	struct worker *w;
	unsigned int backoff = 1;

	w = calloc(1, sizeof(*w));
	if (!w)
		goto out;
	w->v = arg;
	while (!w->v->stop && !cdpd_quit) {
		if (!w->nl && cdp_nl_open(&w->nl)) {
			set_error(w->v, "cannot open the dm_cdp netlink family: is dm-cdp loaded?");
			w->nl = NULL;
		} else if (!connect_volume(w)) {
			uint64_t acked0 = w->v->acked_seq;
			int r = serve(w);

			if (r == -ENOENT || r == -ENODEV)
				w->v->stop = 1;	/* the volume's table is gone */
			disconnect_volume(w);
			/*
			 * A session that moved the stream on, or that ended for a
			 * reason a reconnect fixes (table reloaded: ENOTCONN;
			 * engine lost: ESTALE), reconnects at once; one that did
			 * not (a record refused again and again) backs off, or
			 * it would reconnect in a tight loop.
			 */
			if (w->v->acked_seq > acked0 || !r)
				backoff = 1;
			if (w->v->acked_seq > acked0 || r == -ENOTCONN || r == -ESTALE ||
			    w->v->stop || cdpd_quit)
				continue;
		}
		sleep(backoff);
		backoff = backoff < 30 ? backoff * 2 : 30;
	}
	if (w->nl)
		cdp_nl_close(w->nl);
	if (w->ev)
		cdp_nl_close(w->ev);
	free(w);
out:
	((struct vol *)arg)->exited = 1;
	return NULL;
}
