/* SPDX-License-Identifier: GPL-2.0 */
/*
 * retention.h - which snapshots of a policy are kept, pruned or due for the
 * archive. Each answer is one SQL query over the catalog (retention.c).
 *
 * GFS rules, evaluated over the policy's live snapshots (archived stubs are
 * on discs and never pruned). A group snapshot (one row per member volume,
 * same name) counts once. A snapshot is kept when any rule keeps it:
 *
 *   keep-last N     the N newest snapshots
 *   keep-hourly N   the newest snapshot of each of the N newest hours that
 *   keep-daily N    (days, weeks, months) have snapshots at all
 *   keep-weekly N
 *   keep-monthly N
 *
 * Buckets are local time ($TZ): a day is a calendar day (23 or 25 hours
 * across a DST change), a week runs Monday to Sunday, a month is a calendar
 * month. An hour is a wall-clock hour *and* its UTC offset, so the hour
 * repeated when DST ends (02:00-02:59 twice in Europe) is two buckets, each
 * a real hour. Because buckets are counted only where snapshots exist, a
 * host that was down keeps its older snapshots rather than losing them to
 * empty buckets (restic/borg semantics). A policy with no keep rule at all
 * keeps everything.
 *
 * Rules count independently: one snapshot may be the hourly, daily and
 * weekly one at once.
 */
#ifndef CDP_RETENTION_H
#define CDP_RETENTION_H

#include <stdint.h>

#include "catalog.h"

/* One catalog row (one volume's RBD snapshot) and its verdict. */
struct retention_row {
	int64_t snapshot_id;
	int64_t volume_id;
	const char *name;		/* RBD snapshot name */
	const char *volume;		/* volume name */
	const char *pool, *image;	/* where it lives in Ceph */
	int64_t created_at;
	int is_protected;
	int keep;
	const char *reasons;		/* "last,hourly,..." or "" if pruned */
};

typedef int (*retention_fn)(const struct retention_row *r, void *arg);

/*
 * Call fn for each live snapshot row of the policy, oldest first, with
 * keep set by the rules above. fn returning non-zero stops the walk (and
 * is returned). -EIO with catalog_errmsg() on a catalog failure.
 */
int retention_plan(struct catalog *c, int64_t policy_id, retention_fn fn,
		   void *arg);

/*
 * Kept live snapshot rows of the policy created at or before
 * now - archive_after_days and not yet in a complete archive, oldest first.
 * Nothing when the policy does not archive.
 */
int retention_archive_due(struct catalog *c, int64_t policy_id, int64_t now,
			  retention_fn fn, void *arg);

#endif
