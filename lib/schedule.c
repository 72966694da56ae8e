// SPDX-License-Identifier: GPL-2.0
/*
 * schedule.c - one `schedule run`: for each policy, in name order,
 *   1. the snapshot of the current slot, if it has none yet (schedule_time.h);
 *   2. pruning: every snapshot retention.c does not keep is unprotected and
 *      removed in Ceph, then marked deleted in the catalog; one with clones
 *      is kept and reported;
 *   3. the oldest kept snapshot past --archive-after goes to the archive.
 * A policy's failure is recorded (events + last_result) and the run goes on.
 */
#include "schedule_int.h"
#include "ceph_catalog.h"
#include "retention.h"
#include "schedule_time.h"
#include "util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What one policy's run did, for last_result/last_message. */
struct policy_run {
	int errors, snapshots, pruned, kept_clones, archives;
	char first_error[1024];
};

/*
 * Has this policy logged an event of kind about snapshot within the last
 * `window` seconds (real time)? Keeps a condition that holds for days (a
 * clone pinning a snapshot) from adding an event every minute.
 */
static int logged_recently(struct catalog *c, int64_t policy_id, const char *kind,
			   const char *snapshot, double window)
{
	sqlite3_stmt *st;
	int ret = 0;

	if (sqlite3_prepare_v2(catalog_db(c),
			       "SELECT EXISTS (SELECT 1 FROM events WHERE policy_id = ?1"
			       " AND kind = ?2 AND time > ?3 AND instr(message, ?4) > 0)",
			       -1, &st, NULL) != SQLITE_OK)
		return 0;
	sqlite3_bind_int64(st, 1, policy_id);
	sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
	sqlite3_bind_double(st, 3, cdp_now() - window);
	sqlite3_bind_text(st, 4, snapshot, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		ret = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return ret;
}

/* Report and (unless dry run, or `once_per` seconds have not passed since
 * the same event for this snapshot) log one action. */
static void act_every(struct sched_ctx *x, const struct policy *p, int64_t volume_id,
		      const char *volume, const char *action, const char *snapshot,
		      double once_per, const char *level, const char *fmt, ...)
	__attribute__((format(printf, 9, 10)));
static void act_every(struct sched_ctx *x, const struct policy *p, int64_t volume_id,
		      const char *volume, const char *action, const char *snapshot,
		      double once_per, const char *level, const char *fmt, ...)
{
	struct schedule_action a;
	char msg[1024], kind[64];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(kind, sizeof(kind), "schedule.%s", action);
	if (!x->o->dry_run && !(once_per > 0 && snapshot &&
				logged_recently(x->cat, p->id, kind, snapshot, once_per))) {
		policy_event(x->cat, p->id, volume_id, level, kind, "%s", msg);
	}
	if (x->o->report) {
		a = (struct schedule_action){ p->name, action, volume, snapshot, level, msg };
		x->o->report(&a, x->o->arg);
	}
}

#define act(x, p, vid, vol, action, snap, ...) \
	act_every(x, p, vid, vol, action, snap, 0, __VA_ARGS__)

static void run_error(struct policy_run *r, const char *msg)
{
	if (!r->errors++)
		snprintf(r->first_error, sizeof(r->first_error), "%s", msg);
}

/*---------------------------------------------------------------------------
 * 1. the due snapshot
 */

/*
 * Does the slot starting at t have its snapshot? Taken in it, or carrying
 * its name: snap create stamps rows with cdpd's clock, which need not be
 * the scheduler's (--now, skew).
 */
static int has_snapshot_since(struct catalog *c, const struct policy *p, int64_t t)
{
	char name[POLICY_NAME_MAX + 32];
	sqlite3_stmt *st;
	int ret = -EIO;

	if (sqlite3_prepare_v2(catalog_db(c),
			       "SELECT EXISTS (SELECT 1 FROM snapshots"
			       " WHERE policy_id = ? AND (created_at >= ? OR name = ?))",
			       -1, &st, NULL) != SQLITE_OK)
		return catalog_fail(c, "check due snapshot");
	sqlite3_bind_int64(st, 1, p->id);
	sqlite3_bind_int64(st, 2, t);
	sqlite3_bind_text(st, 3, sched_snap_name(p->name, t, name, sizeof(name)), -1,
			  SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW)
		ret = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return ret < 0 ? catalog_fail(c, "check due snapshot") : ret;
}

int64_t schedule_next_due(struct catalog *c, const struct policy *p, int64_t now)
{
	int64_t slot = sched_slot_start(now, p->interval_s);
	int has = has_snapshot_since(c, p, slot);

	return has > 0 ? slot + p->interval_s : now;
}

static void snapshot_due(struct sched_ctx *x, const struct policy *p,
			 struct policy_run *r)
{
	int64_t now = x->o->now, slot = sched_slot_start(now, p->interval_s);
	char name[POLICY_NAME_MAX + 32], err[1024];
	const char *why;
	int has, ret;

	has = has_snapshot_since(x->cat, p, slot);
	if (has < 0) {
		run_error(r, catalog_errmsg(x->cat));
		return;
	}
	if (has)
		return;
	sched_snap_name(p->name, slot, name, sizeof(name));
	/* After an outage: one snapshot now, never one per missed slot. */
	why = p->last_snap_at && p->last_snap_at < slot - p->interval_s ?
	      " (catch-up: slots were missed)" : "";
	if (x->o->dry_run) {
		act(x, p, 0, p->volumes, "snapshot", name, "info",
		    "would take snapshot %s of %s%s", name, p->volumes, why);
		return;
	}
	ret = sched_snap_take(x, p, name, err, sizeof(err));
	if (ret < 0) {
		/* retried every minute while the slot lasts; logged once an hour */
		act_every(x, p, p->volume_id, p->volumes, "snapshot-failed", name, 3600,
			  "error", "snapshot %s failed: %s", name, err);
		run_error(r, err);
		return;
	}
	if (ret > 0) {
		act(x, p, p->volume_id, p->volumes, "snapshot-hook-failed", name, "error",
		    "snapshot %s taken, but: %s", name, err);
		run_error(r, err);
	}
	r->snapshots++;
	act(x, p, p->volume_id, p->volumes, "snapshot", name, "info",
	    "took snapshot %s of %s%s", name, p->volumes, why);
}

/*---------------------------------------------------------------------------
 * 2. pruning
 */

struct prune_item {
	int64_t snapshot_id, volume_id;
	char *name, *volume, *pool, *image;
};

struct prune_list {
	struct prune_item *v;
	size_t n, cap;
};

/* Collect first: the rows are changed while pruning. */
static int collect_pruned(const struct retention_row *row, void *arg)
{
	struct prune_list *l = arg;
	struct prune_item *it;

	if (row->keep)
		return 0;
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 32;
		struct prune_item *v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	it = &l->v[l->n++];
	it->snapshot_id = row->snapshot_id;
	it->volume_id = row->volume_id;
	it->name = strdup(row->name);
	it->volume = strdup(row->volume);
	it->pool = strdup(row->pool);
	it->image = strdup(row->image);
	return 0;
}

static void prune_list_free(struct prune_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->v[i].name);
		free(l->v[i].volume);
		free(l->v[i].pool);
		free(l->v[i].image);
	}
	free(l->v);
}

/*
 * Event messages name a source as "POOL/IMAGE@SNAP" between spaces or
 * before a colon; an exact match, so rbd/db@s is not found in ssd-rbd/db@s.
 */
#define SOURCE_IN_MESSAGE \
	"(instr(' ' || message || ' ', ' ' || ?2 || ' ') > 0" \
	" OR instr(' ' || message, ' ' || ?2 || ':') > 0)"

/*
 * Handed to `cdpctl archive create` and not archived completely yet: the
 * archive reads it (a burn may be under way), so it is not pruned, even
 * once the keep rules let it go.
 */
static int archive_pending(struct catalog *c, const struct policy *p,
			   const struct prune_item *it)
{
	char source[512];
	sqlite3_stmt *st;
	int ret = 0;

	if (p->archive_after_days < 0)
		return 0;
	snprintf(source, sizeof(source), "%s/%s@%s", it->pool, it->image, it->name);
	if (sqlite3_prepare_v2(catalog_db(c),
			       "SELECT EXISTS (SELECT 1 FROM events WHERE policy_id = ?1"
			       " AND kind = 'schedule.archive-start' AND " SOURCE_IN_MESSAGE ")"
			       " AND NOT EXISTS (SELECT 1 FROM archives WHERE snapshot_id = ?3"
			       "  AND state = 'complete')", -1, &st, NULL) != SQLITE_OK)
		return 1;	/* when in doubt, keep it */
	sqlite3_bind_int64(st, 1, p->id);
	sqlite3_bind_text(st, 2, source, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, it->snapshot_id);
	ret = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : 1;
	sqlite3_finalize(st);
	return ret;
}

static void prune_one(struct sched_ctx *x, const struct policy *p,
		      const struct prune_item *it, struct policy_run *r)
{
	char err[1024];
	int ret, archived;

	if (archive_pending(x->cat, p, it)) {
		act_every(x, p, it->volume_id, it->volume, "keep-archiving", it->name,
			  86400, "info", "%s@%s not pruned: its archive to discs has not completed",
			  it->volume, it->name);
		return;
	}
	if (x->o->dry_run) {
		act(x, p, it->volume_id, it->volume, "prune", it->name, "info",
		    "would prune %s@%s", it->volume, it->name);
		return;
	}
	if (!x->rbd)
		x->rbd = sched_rbd_new();
	if (!x->rbd) {
		run_error(r, "out of memory");
		return;
	}
	ret = sched_rbd_snap_prune(x->rbd, it->pool, it->image, it->name, err, sizeof(err));
	if (ret == -EBUSY) {
		r->kept_clones++;
		act_every(x, p, it->volume_id, it->volume, "keep-clones", it->name,
			  86400, "warn", "%s@%s not pruned: %s", it->volume, it->name, err);
		return;
	}
	if (ret && ret != -ENOENT) {
		/* retried every minute; logged once an hour (a Ceph outage) */
		act_every(x, p, it->volume_id, it->volume, "prune-failed", it->name,
			  3600, "error", "prune %s@%s failed: %s", it->volume, it->name, err);
		run_error(r, err);
		return;
	}
	archived = snap_catalog_mark_gone(x->cat, it->snapshot_id);
	if (archived < 0) {
		run_error(r, catalog_errmsg(x->cat));
		return;
	}
	/* Its record in Ceph (ceph_catalog.h, written by snap create or by
	 * direct mode) goes too; an archived one keeps it: `catalog sync`
	 * rebuilds the stub from it. */
	if (!archived) {
		struct cat_volume cv;

		if (!volume_catalog_get(x->cat, it->volume, &cv) &&
		    ceph_catalog_del_snap(&cv, it->name, err, sizeof(err)))
			act(x, p, it->volume_id, it->volume, "prune-record", it->name, "warn",
			    "pruned %s@%s, but its record in Ceph stays: %s", it->volume,
			    it->name, err);
	}
	r->pruned++;
	act(x, p, it->volume_id, it->volume, "prune", it->name, "info",
	    "pruned %s@%s%s%s", it->volume, it->name,
	    ret == -ENOENT ? " (the RBD snapshot was already gone)" : "",
	    archived ? "; archived on discs, the catalog stub stays" : "");
}

static void prune(struct sched_ctx *x, const struct policy *p, struct policy_run *r)
{
	struct prune_list l = { NULL, 0, 0 };
	size_t i;

	if (retention_plan(x->cat, p->id, collect_pruned, &l)) {
		run_error(r, catalog_errmsg(x->cat));
		goto out;
	}
	for (i = 0; i < l.n; i++)
		prune_one(x, p, &l.v[i], r);
out:
	prune_list_free(&l);
}

/*---------------------------------------------------------------------------
 * 3. archive hand-off
 */

struct archive_pick {
	char name[256], volume[128], pool[128], image[128];
	int64_t volume_id;
	int found;
};

static int first_row(const struct retention_row *row, void *arg)
{
	struct archive_pick *a = arg;

	snprintf(a->name, sizeof(a->name), "%s", row->name);
	snprintf(a->volume, sizeof(a->volume), "%s", row->volume);
	snprintf(a->pool, sizeof(a->pool), "%s", row->pool);
	snprintf(a->image, sizeof(a->image), "%s", row->image);
	a->volume_id = row->volume_id;
	a->found = 1;
	return 1;
}

/*
 * Do not hand the same snapshot over again right after the archive command
 * ended without recording a complete archive of it: once done, or once an
 * hour after a failure (a missing disc should not become 60 events an hour).
 */
static int recently_tried(struct catalog *c, const struct policy *p,
			  const char *source)
{
	sqlite3_stmt *st;
	int ret = 0;

	if (sqlite3_prepare_v2(catalog_db(c),
			       "SELECT EXISTS (SELECT 1 FROM events WHERE policy_id = ?1"
			       " AND " SOURCE_IN_MESSAGE " AND (kind = 'schedule.archive-done'"
			       "  OR (kind = 'schedule.archive-failed' AND time > ?3)))",
			       -1, &st, NULL) != SQLITE_OK)
		return 0;
	sqlite3_bind_int64(st, 1, p->id);
	sqlite3_bind_text(st, 2, source, -1, SQLITE_STATIC);
	sqlite3_bind_double(st, 3, cdp_now() - 3600);
	if (sqlite3_step(st) == SQLITE_ROW)
		ret = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return ret;
}

static void archive(struct sched_ctx *x, const struct policy *p, struct policy_run *r)
{
	struct archive_pick a = { .found = 0 };
	char source[512], err[1024];
	int ret;

	if (p->archive_after_days < 0)
		return;
	ret = retention_archive_due(x->cat, p->id, x->o->now, first_row, &a);
	if (ret < 0) {
		run_error(r, catalog_errmsg(x->cat));
		return;
	}
	if (!a.found)
		return;
	snprintf(source, sizeof(source), "%s/%s@%s", a.pool, a.image, a.name);
	if (recently_tried(x->cat, p, source))
		return;
	if (x->o->dry_run) {
		act(x, p, a.volume_id, a.volume, "archive", a.name, "info",
		    "would archive %s to %s", source, p->archive_drives);
		return;
	}
	ret = sched_archive_start(x, p, a.pool, a.image, a.name, err, sizeof(err));
	if (ret == -EALREADY)
		return;		/* next run, when the current one ended */
	if (ret) {
		act(x, p, a.volume_id, a.volume, "archive-failed", a.name, "error",
		    "archive %s: %s", source, err);
		run_error(r, err);
		return;
	}
	r->archives++;
	act(x, p, a.volume_id, a.volume, "archive", a.name, "info",
	    "archive %s to %s handed to cdpctl archive create", source, p->archive_drives);
}

/*---------------------------------------------------------------------------
 * The run
 */

static void record_result(struct sched_ctx *x, const struct policy *p,
			  const struct policy_run *r)
{
	char msg[1024];

	if (x->o->dry_run)
		return;
	if (!r->errors && !r->snapshots && !r->pruned && !r->kept_clones && !r->archives) {
		policy_set_result(x->cat, p->id, x->o->now, NULL, NULL);
		return;
	}
	if (r->errors)
		snprintf(msg, sizeof(msg), "%d error(s), first: %.900s", r->errors, r->first_error);
	else
		snprintf(msg, sizeof(msg), "%d snapshot(s) taken, %d pruned, %d kept for clones, %d archive(s) started",
			 r->snapshots, r->pruned, r->kept_clones, r->archives);
	policy_set_result(x->cat, p->id, x->o->now,
			  !r->errors ? "ok" : r->snapshots || r->pruned ? "partial" : "failed",
			  msg);
}

int schedule_run(struct catalog *c, const struct schedule_opts *o,
		 struct schedule_totals *t, char *err, size_t errlen)
{
	struct sched_ctx x = { .cat = c, .o = o, .rbd = NULL };
	struct policy *v;
	size_t n, i;
	int ret;

	memset(t, 0, sizeof(*t));
	ret = policy_list(c, &v, &n, err, errlen);
	if (ret)
		return ret == -EIO ? -EPROTO : ret;
	for (i = 0; i < n; i++) {
		struct policy_run r = { 0 };
		const struct policy *p = &v[i];

		t->policies++;
		if (p->paused) {
			if (o->report) {
				struct schedule_action a = { p->name, "paused", NULL, NULL,
							     "info", "skipped" };
				o->report(&a, o->arg);
			}
			continue;
		}
		snapshot_due(&x, p, &r);
		prune(&x, p, &r);
		archive(&x, p, &r);
		record_result(&x, p, &r);
		t->failed += r.errors > 0;
		t->snapshots += r.snapshots;
		t->pruned += r.pruned;
		t->kept_clones += r.kept_clones;
		t->archives += r.archives;
	}
	policy_list_free(v, n);
	sched_rbd_free(x.rbd);
	if (!t->failed)
		return 0;
	snprintf(err, errlen, "%d of %d policies failed: see cdpctl schedule status",
		 t->failed, t->policies);
	return -EIO;
}
