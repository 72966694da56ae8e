// SPDX-License-Identifier: GPL-2.0
/*
 * schedule_snap.c - take a policy's snapshot. This is the one place that
 * decides *how*:
 *
 *  - volumes served by cdpd: exactly what a user's `cdpctl snap create`
 *    does (pre hook, FIFREEZE, MARK through cdpd, thaw, post hook, RBD
 *    snapshot + protect, catalog rows), run as a subprocess so the scheduler
 *    can never take a less consistent snapshot than the CLI. The rows it
 *    writes are then tagged with the policy. (Switch to a library call here
 *    once lib/snap* offers one.)
 *  - 'external' volumes (an RBD image registered for archiving and
 *    scheduling that no cdpd writes to): direct mode, the RBD snapshot is
 *    created and protected here, the rows are inserted here and the record
 *    in Ceph (ceph_catalog.h) is written here. There is no
 *    application to quiesce, so policies with --freeze/--pre/--post are
 *    refused for them when they are added.
 */
#include "schedule_int.h"
#include "ceph_catalog.h"
#include "snap_catalog.h"
#include "volume_catalog.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SNAP_MAX_MEMBERS	64
/* cdpctl -c CAT snap create VOL... --name N --protect, freezes, hooks */
#define SNAP_ARGV_MAX		(16 + SNAP_MAX_MEMBERS + 2 * 16)

struct member {
	int64_t id;
	char name[128], pool[128], image[128];
};

static int load_members(struct catalog *c, const struct policy *p,
			struct member *m, int max)
{
	sqlite3_stmt *st;
	int n = 0;

	if (sqlite3_prepare_v2(catalog_db(c),
			       "SELECT id, name, rbd_pool, rbd_image FROM volumes"
			       " WHERE id = ?1 OR id IN"
			       "  (SELECT volume_id FROM group_members WHERE group_id = ?2)"
			       " ORDER BY name", -1, &st, NULL) != SQLITE_OK)
		return catalog_fail(c, "read the policy's volumes");
	sqlite3_bind_int64(st, 1, p->volume_id);
	sqlite3_bind_int64(st, 2, p->group_id);
	while (n < max && sqlite3_step(st) == SQLITE_ROW) {
		m[n].id = sqlite3_column_int64(st, 0);
		snprintf(m[n].name, sizeof(m[n].name), "%s", sqlite3_column_text(st, 1));
		snprintf(m[n].pool, sizeof(m[n].pool), "%s", sqlite3_column_text(st, 2));
		snprintf(m[n].image, sizeof(m[n].image), "%s", sqlite3_column_text(st, 3));
		n++;
	}
	sqlite3_finalize(st);
	return n;
}

static int insert_rows(struct sched_ctx *x, const struct policy *p,
		       const struct member *m, int n, const char *name)
{
	struct catalog *c = x->cat;
	sqlite3_stmt *st;
	int i, ret;

	ret = catalog_begin(c);
	if (ret)
		return ret;
	if (sqlite3_prepare_v2(catalog_db(c),
			       "INSERT INTO snapshots (volume_id, name, created_at, group_id,"
			       " group_snap, freeze_result, policy_id, protected, state)"
			       " VALUES (?, ?, ?, nullif(?, 0), CASE WHEN ? THEN ?2 END,"
			       " 'none', ?, 1, 'live')"
			       /* a row of that name (policy removed and added again
				* within a slot) describes this very RBD snapshot */
			       " ON CONFLICT (volume_id, name) DO UPDATE SET"
			       " created_at = excluded.created_at, group_id = excluded.group_id,"
			       " group_snap = excluded.group_snap, policy_id = excluded.policy_id,"
			       " protected = 1, state = 'live'", -1, &st, NULL) != SQLITE_OK) {
		ret = catalog_fail(c, "record snapshot");
		catalog_rollback(c);
		return ret;
	}
	for (i = 0; i < n; i++) {
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, m[i].id);
		sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, x->o->now);
		sqlite3_bind_int64(st, 4, p->group_id);
		sqlite3_bind_int(st, 5, p->group_id != 0);
		sqlite3_bind_int64(st, 6, p->id);
		if (sqlite3_step(st) != SQLITE_DONE) {
			ret = catalog_fail(c, "record snapshot");
			sqlite3_finalize(st);
			catalog_rollback(c);
			return ret;
		}
	}
	sqlite3_finalize(st);
	return catalog_commit(c);
}

/*
 * The copy in Ceph that `catalog sync` rebuilds a catalog from, as snap
 * create writes it for cdpd's snapshots. Not fatal: the snapshot exists and
 * `cdpctl catalog push` can write the record later.
 */
static void put_records(struct sched_ctx *x, const struct policy *p,
			const struct member *m, int n, const char *name)
{
	struct cat_volume cv;
	struct snap_row row;
	char err[1024];
	int i;

	for (i = 0; i < n; i++) {
		if (volume_catalog_get(x->cat, m[i].name, &cv) ||
		    snap_catalog_get(x->cat, m[i].name, name, &row))
			continue;
		if (ceph_catalog_put_snap(&cv, &row, err, sizeof(err)))
			policy_event(x->cat, p->id, m[i].id, "warn", "schedule.record-failed",
				     "%s@%s: record not written to Ceph (run `cdpctl catalog push` later): %s",
				     m[i].name, name, err);
	}
}

static int take_direct(struct sched_ctx *x, const struct policy *p,
		       const struct member *m, int n, const char *name,
		       char *err, size_t errlen)
{
	char adopted[SNAP_MAX_MEMBERS], ignore[256];
	int made, ret = 0;

	if (!x->rbd)
		x->rbd = sched_rbd_new();
	if (!x->rbd)
		return -ENOMEM;
	for (made = 0; made < n; made++) {
		ret = sched_rbd_snap_create(x->rbd, m[made].pool, m[made].image, name,
					    err, errlen);
		adopted[made] = ret == 1;
		if (ret < 0)
			break;
		ret = 0;
	}
	if (!ret) {
		ret = insert_rows(x, p, m, n, name);
		if (!ret) {
			put_records(x, p, m, n, name);
			return 0;
		}
		snprintf(err, errlen, "%s", catalog_errmsg(x->cat));
	}
	/* all or nothing: remove what this attempt created (not what it adopted) */
	while (made-- > 0)
		if (!adopted[made])
			sched_rbd_snap_prune(x->rbd, m[made].pool, m[made].image, name,
					     ignore, sizeof(ignore));
	return ret;
}

/*
 * Every member has the slot's snapshot in RBD: a `snap create` that timed
 * out after cdpd had registered its marks made them, without catalog rows
 * (cdpd then refuses the name: it exists). They are this slot's: adopt.
 */
static int all_made(struct sched_ctx *x, const struct member *m, int n, const char *name)
{
	int i;

	if (!x->rbd)
		x->rbd = sched_rbd_new();
	for (i = 0; x->rbd && i < n; i++)
		if (!sched_rbd_snap_exists(x->rbd, m[i].pool, m[i].image, name))
			return 0;
	return x->rbd != NULL;
}

static int take_cdpd(struct sched_ctx *x, const struct policy *p,
		     const struct member *m, int n, const char *name,
		     char *err, size_t errlen)
{
	const char *argv[SNAP_ARGV_MAX];
	char mnts[4096], *mnt, *save;
	static const char sql[] =
		"UPDATE snapshots SET policy_id = ?1 WHERE name = ?2"
		" AND policy_id IS NOT ?1 AND volume_id IN"
		" (SELECT id FROM volumes WHERE id = ?3 OR id IN"
		"  (SELECT volume_id FROM group_members WHERE group_id = ?4))";
	char out[1024];
	sqlite3_stmt *st;
	int a = 0, i, ret, status;

	argv[a++] = x->o->cdpctl;
	if (x->o->catalog) {
		argv[a++] = "-c";
		argv[a++] = x->o->catalog;
	}
	argv[a++] = "snap";
	argv[a++] = "create";
	for (i = 0; i < n; i++)
		argv[a++] = m[i].name;
	argv[a++] = "--name";
	argv[a++] = name;
	argv[a++] = "--protect";
	/* mount points are stored space separated (policy add refuses spaces) */
	snprintf(mnts, sizeof(mnts), "%s", p->freeze_mnt ? p->freeze_mnt : "");
	for (mnt = strtok_r(mnts, " ", &save); mnt && a < SNAP_ARGV_MAX - 8;
	     mnt = strtok_r(NULL, " ", &save)) {
		argv[a++] = "--freeze";
		argv[a++] = mnt;
	}
	if (p->pre_cmd) {
		argv[a++] = "--pre";
		argv[a++] = p->pre_cmd;
	}
	if (p->post_cmd) {
		argv[a++] = "--post";
		argv[a++] = p->post_cmd;
	}
	argv[a] = NULL;
	status = sched_exec(argv, out, sizeof(out));
	if (status) {
		snprintf(err, errlen, "cdpctl snap create %s failed (exit %d): %s", name,
			 status, out[0] ? out : "no message");
		/* Failed after DONE (a post hook): the snapshot exists and snap
		 * create recorded it, so it is tagged below like any other. */
	}
	if (sqlite3_prepare_v2(catalog_db(x->cat), sql, -1, &st, NULL) != SQLITE_OK) {
		catalog_fail(x->cat, "tag snapshot");
		snprintf(err, errlen, "%s", catalog_errmsg(x->cat));
		return -EIO;
	}
	sqlite3_bind_int64(st, 1, p->id);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, p->volume_id);
	sqlite3_bind_int64(st, 4, p->group_id);
	ret = sqlite3_step(st) == SQLITE_DONE ? sqlite3_changes(catalog_db(x->cat)) : -1;
	sqlite3_finalize(st);
	if (status && ret == 0 && all_made(x, m, n, name))
		return take_direct(x, p, m, n, name, err, errlen);
	if (status)
		return ret == n ? 1 : -EIO;
	if (ret != n) {
		snprintf(err, errlen,
			 "cdpctl snap create %s succeeded but the catalog has %d of %d snapshot rows",
			 name, ret < 0 ? 0 : ret, n);
		return -EIO;
	}
	return 0;
}

int sched_snap_take(struct sched_ctx *x, const struct policy *p,
		    const char *name, char *err, size_t errlen)
{
	struct member m[SNAP_MAX_MEMBERS];
	int n;

	n = load_members(x->cat, p, m, SNAP_MAX_MEMBERS);
	if (n < 0) {
		snprintf(err, errlen, "%s", catalog_errmsg(x->cat));
		return n;
	}
	if (n == 0) {
		snprintf(err, errlen, "policy %s has no volume left (were they removed?)",
			 p->name);
		return -ENOENT;
	}
	if (p->external)
		return take_direct(x, p, m, n, name, err, errlen);
	return take_cdpd(x, p, m, n, name, err, errlen);
}
