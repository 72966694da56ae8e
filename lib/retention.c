// SPDX-License-Identifier: GPL-2.0
/*
 * retention.c - GFS retention as SQL (see retention.h for the rules).
 *
 * The verdict query works in stages:
 *   u  one unit per snapshot name (group snapshots have a row per member)
 *   b  each unit's local-time buckets (hour+UTC offset, day, week, month)
 *   m  the newest time in each bucket, and the unit's place in its bucket
 *   r  buckets ranked newest first (by their newest snapshot, so the order is
 *      real time, not the text order of the bucket keys)
 *   k  the verdict and the rules that keep each unit
 * and is shared by the plan and the archive queries so they cannot disagree.
 */
#include "retention.h"

#include <errno.h>

#define RETENTION_CTE \
	"WITH p AS (SELECT id, keep_last, keep_hourly, keep_daily, keep_weekly," \
	"             keep_monthly, archive_after_days FROM policies WHERE id = ?1)," \
	" u AS (SELECT name, max(created_at) AS t FROM snapshots" \
	"       WHERE policy_id = ?1 AND state = 'live' GROUP BY name)," \
	" b AS (SELECT name, t," \
	"   strftime('%Y-%m-%d %H', t, 'unixepoch', 'localtime') || ' ' ||" \
	"     CAST(round((julianday(t, 'unixepoch', 'localtime') -" \
	"                 julianday(t, 'unixepoch')) * 1440) AS INTEGER) AS hour," \
	"   date(t, 'unixepoch', 'localtime') AS day," \
	"   date(t, 'unixepoch', 'localtime', 'weekday 0', '-6 days') AS week," \
	"   strftime('%Y-%m', t, 'unixepoch', 'localtime') AS month FROM u)," \
	" m AS (SELECT name, t," \
	"   row_number() OVER (ORDER BY t DESC, name DESC) AS n_last," \
	"   row_number() OVER (PARTITION BY hour ORDER BY t DESC, name DESC) AS in_hour," \
	"   row_number() OVER (PARTITION BY day ORDER BY t DESC, name DESC) AS in_day," \
	"   row_number() OVER (PARTITION BY week ORDER BY t DESC, name DESC) AS in_week," \
	"   row_number() OVER (PARTITION BY month ORDER BY t DESC, name DESC) AS in_month," \
	"   max(t) OVER (PARTITION BY hour) AS hour_t," \
	"   max(t) OVER (PARTITION BY day) AS day_t," \
	"   max(t) OVER (PARTITION BY week) AS week_t," \
	"   max(t) OVER (PARTITION BY month) AS month_t FROM b)," \
	" r AS (SELECT *," \
	"   dense_rank() OVER (ORDER BY hour_t DESC) AS r_hour," \
	"   dense_rank() OVER (ORDER BY day_t DESC) AS r_day," \
	"   dense_rank() OVER (ORDER BY week_t DESC) AS r_week," \
	"   dense_rank() OVER (ORDER BY month_t DESC) AS r_month FROM m)," \
	" k AS (SELECT r.name, r.t," \
	"   rtrim(CASE WHEN n_last <= keep_last THEN 'last,' ELSE '' END ||" \
	"     CASE WHEN in_hour = 1 AND r_hour <= keep_hourly THEN 'hourly,' ELSE '' END ||" \
	"     CASE WHEN in_day = 1 AND r_day <= keep_daily THEN 'daily,' ELSE '' END ||" \
	"     CASE WHEN in_week = 1 AND r_week <= keep_weekly THEN 'weekly,' ELSE '' END ||" \
	"     CASE WHEN in_month = 1 AND r_month <= keep_monthly THEN 'monthly,' ELSE '' END ||" \
	"     CASE WHEN keep_last + keep_hourly + keep_daily + keep_weekly +" \
	"               keep_monthly = 0 THEN 'all,' ELSE '' END, ',') AS reasons" \
	"   FROM r, p)"

#define RETENTION_ROWS \
	" SELECT s.id, s.volume_id, s.name, v.name, v.rbd_pool, v.rbd_image," \
	"   s.created_at, s.protected, k.reasons != '', k.reasons" \
	" FROM k JOIN snapshots s ON s.name = k.name AND s.policy_id = ?1" \
	"   AND s.state = 'live'" \
	" JOIN volumes v ON v.id = s.volume_id"

static int walk(struct catalog *c, const char *sql, int64_t policy_id,
		int64_t now, retention_fn fn, void *arg)
{
	struct retention_row r;
	sqlite3_stmt *st;
	int rc, ret = 0;

	if (sqlite3_prepare_v2(catalog_db(c), sql, -1, &st, NULL) != SQLITE_OK)
		return catalog_fail(c, "plan retention");
	sqlite3_bind_int64(st, 1, policy_id);
	if (sqlite3_bind_parameter_count(st) >= 2)
		sqlite3_bind_int64(st, 2, now);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		r.snapshot_id = sqlite3_column_int64(st, 0);
		r.volume_id = sqlite3_column_int64(st, 1);
		r.name = (const char *)sqlite3_column_text(st, 2);
		r.volume = (const char *)sqlite3_column_text(st, 3);
		r.pool = (const char *)sqlite3_column_text(st, 4);
		r.image = (const char *)sqlite3_column_text(st, 5);
		r.created_at = sqlite3_column_int64(st, 6);
		r.is_protected = sqlite3_column_int(st, 7);
		r.keep = sqlite3_column_int(st, 8);
		r.reasons = (const char *)sqlite3_column_text(st, 9);
		ret = fn(&r, arg);
		if (ret)
			break;
	}
	if (!ret && rc != SQLITE_DONE)
		ret = catalog_fail(c, "plan retention");
	sqlite3_finalize(st);
	return ret;
}

int retention_plan(struct catalog *c, int64_t policy_id, retention_fn fn,
		   void *arg)
{
	return walk(c, RETENTION_CTE RETENTION_ROWS
		    " ORDER BY s.created_at, s.name, v.name", policy_id, 0, fn, arg);
}

int retention_archive_due(struct catalog *c, int64_t policy_id, int64_t now,
			  retention_fn fn, void *arg)
{
	return walk(c, RETENTION_CTE RETENTION_ROWS
		    " , p WHERE k.reasons != '' AND p.archive_after_days IS NOT NULL"
		    "   AND s.created_at <= ?2 - p.archive_after_days * 86400"
		    "   AND NOT EXISTS (SELECT 1 FROM archives a WHERE a.snapshot_id = s.id"
		    "                   AND a.state = 'complete')"
		    " ORDER BY s.created_at, s.name, v.name", policy_id, now, fn, arg);
}
