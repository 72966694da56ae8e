// SPDX-License-Identifier: GPL-2.0
/*
 * policy.c - the policies table: validate and add, read, pause, remove.
 * All SQL about policies lives here; the scheduler's SQL (what is due, kept,
 * pruned) is in schedule.c and retention.c.
 */
#include "policy.h"
#include "snap_create.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*---------------------------------------------------------------------------
 * Parsing helpers
 */

static const struct {
	char unit;
	int64_t seconds;
} duration_units[] = {
	{ 'w', 7 * 86400 }, { 'd', 86400 }, { 'h', 3600 }, { 'm', 60 }, { 's', 1 },
};

int policy_parse_duration(const char *s, int64_t *out)
{
	char *end;
	long long v;
	size_t i;

	if (!s || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || v <= 0)
		return v == 0 && !errno ? -EDOM : -ERANGE;
	if (!*end) {
		*out = v;
		return 0;
	}
	if (end[1])
		return -EINVAL;
	for (i = 0; i < ARRAY_SIZE(duration_units); i++) {
		if (*end != duration_units[i].unit)
			continue;
		if (v > INT64_MAX / duration_units[i].seconds)
			return -ERANGE;
		*out = v * duration_units[i].seconds;
		return 0;
	}
	return -EINVAL;
}

char *policy_fmt_duration(int64_t s, char *buf, size_t len)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(duration_units); i++) {
		if (s > 0 && s % duration_units[i].seconds == 0) {
			snprintf(buf, len, "%" PRId64 "%c",
				 s / duration_units[i].seconds, duration_units[i].unit);
			return buf;
		}
	}
	snprintf(buf, len, "%" PRId64 "s", s);
	return buf;
}

int policy_name_ok(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > POLICY_NAME_MAX)
		return 0;
	return strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			    "0123456789._:-") == n;
}

/*---------------------------------------------------------------------------
 * Events and results
 */

int policy_event(struct catalog *c, int64_t policy_id, int64_t volume_id,
		 const char *level, const char *kind, const char *fmt, ...)
{
	sqlite3_stmt *st;
	char msg[1024];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (sqlite3_prepare_v2(catalog_db(c),
			       "INSERT INTO events (time, volume_id, policy_id, level, kind, message)"
			       " VALUES (?, nullif(?, 0), nullif(?, 0), ?, ?, ?)",
			       -1, &st, NULL) != SQLITE_OK)
		return catalog_fail(c, "add event");
	sqlite3_bind_double(st, 1, cdp_now());
	sqlite3_bind_int64(st, 2, volume_id);
	sqlite3_bind_int64(st, 3, policy_id);
	sqlite3_bind_text(st, 4, level, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, msg, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : catalog_fail(c, "add event");
}

int policy_set_result(struct catalog *c, int64_t id, int64_t run_at,
		      const char *result, const char *message)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(catalog_db(c),
			       "UPDATE policies SET last_run_at = ?1,"
			       " last_result = coalesce(?2, last_result),"
			       " last_message = CASE WHEN ?2 IS NULL THEN last_message ELSE ?3 END"
			       " WHERE id = ?4", -1, &st, NULL) != SQLITE_OK)
		return catalog_fail(c, "record policy result");
	sqlite3_bind_int64(st, 1, run_at);
	sqlite3_bind_text(st, 2, result, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, message, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, id);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : catalog_fail(c, "record policy result");
}

/*---------------------------------------------------------------------------
 * policy add
 */

/* Checks that need no catalog: the command line's own consistency. */
static int spec_check(const struct policy_spec *s, char *err, size_t errlen)
{
	size_t i, j;

	if (!policy_name_ok(s->name)) {
		snprintf(err, errlen,
			 "policy name \"%s\" is not valid: use 1-%d of A-Z a-z 0-9 . _ : - (it becomes part of snapshot names)",
			 s->name, POLICY_NAME_MAX);
		return -EINVAL;
	}
	if (s->nvolumes == 0) {
		snprintf(err, errlen, "policy %s has no volume: add --volumes VOL...", s->name);
		return -EINVAL;
	}
	if (s->nvolumes > SNAP_MAX_VOLS) {
		snprintf(err, errlen,
			 "%zu volumes: a consistency group snapshot takes at most %d, make several policies",
			 s->nvolumes, SNAP_MAX_VOLS);
		return -EINVAL;
	}
	for (i = 0; i < s->nvolumes; i++)
		for (j = i + 1; j < s->nvolumes; j++)
			if (!strcmp(s->volumes[i], s->volumes[j])) {
				snprintf(err, errlen, "volume %s is listed twice in --volumes",
					 s->volumes[i]);
				return -EINVAL;
			}
	if (s->interval_s <= 0) {
		snprintf(err, errlen, "the snapshot interval must be longer than zero: e.g. --every 15m");
		return -EINVAL;
	}
	if (s->interval_s % 60) {
		snprintf(err, errlen,
			 "the snapshot interval must be whole minutes (cron starts the scheduler once a minute): e.g. --every 15m");
		return -EINVAL;
	}
	if (s->keep_last < 0 || s->keep_hourly < 0 || s->keep_daily < 0 ||
	    s->keep_weekly < 0 || s->keep_monthly < 0) {
		snprintf(err, errlen, "--keep-* counts cannot be negative");
		return -EINVAL;
	}
	if (s->archive_after_days >= 0 && !s->archive_drives) {
		snprintf(err, errlen, "--archive-after needs --drive DRIVE: where should the discs be written?");
		return -EINVAL;
	}
	if (s->archive_after_days < 0 && (s->archive_drives || s->archive_capacity)) {
		snprintf(err, errlen, "--drive and --capacity only apply with --archive-after DAYS");
		return -EINVAL;
	}
	if (s->post_cmd && !s->pre_cmd) {
		snprintf(err, errlen, "--post without --pre: the post hook undoes what the pre hook did; give both");
		return -EINVAL;
	}
	return 0;
}

static int64_t lookup_id(struct catalog *c, const char *sql, const char *name)
{
	sqlite3_stmt *st;
	int64_t id = 0;

	if (sqlite3_prepare_v2(catalog_db(c), sql, -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		id = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return id;
}

/* Resolve the volume names; all must be snapshot-able and of one kind. */
static int resolve_volumes(struct catalog *c, const struct policy_spec *s,
			   int64_t *ids, int *external, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	size_t i;
	int n_ext = 0;

	if (sqlite3_prepare_v2(catalog_db(c),
			       "SELECT id, state FROM volumes WHERE name = ?", -1, &st,
			       NULL) != SQLITE_OK) {
		catalog_fail(c, "look up volume");
		snprintf(err, errlen, "%s", catalog_errmsg(c));
		return -EIO;
	}
	for (i = 0; i < s->nvolumes; i++) {
		const char *state;

		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, s->volumes[i], -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_ROW) {
			snprintf(err, errlen,
				 "volume %s is not in the catalog %s: protect it first (cdpctl protect) or check the name",
				 s->volumes[i], catalog_path(c));
			sqlite3_finalize(st);
			return -ENOENT;
		}
		ids[i] = sqlite3_column_int64(st, 0);
		state = (const char *)sqlite3_column_text(st, 1);
		if (!strcmp(state, "unprotected")) {
			snprintf(err, errlen,
				 "volume %s is unprotected: its replica no longer changes, protect it again before scheduling snapshots",
				 s->volumes[i]);
			sqlite3_finalize(st);
			return -EINVAL;
		}
		n_ext += !strcmp(state, "external");
	}
	sqlite3_finalize(st);
	if (n_ext && n_ext != (int)s->nvolumes) {
		snprintf(err, errlen,
			 "--volumes mixes external images with volumes protected by cdpd: they cannot be snapshotted together, make two policies");
		return -EINVAL;
	}
	*external = n_ext > 0;
	if (*external && (s->freeze_mnt || s->pre_cmd)) {
		snprintf(err, errlen,
			 "--freeze/--pre/--post need a volume protected by cdpd; %s is an external image with no application to quiesce",
			 s->volumes[0]);
		return -EINVAL;
	}
	return 0;
}

/* Several volumes: the policy's own consistency group, members replaced. */
static int64_t policy_group(struct catalog *c, const struct policy_spec *s,
			    const int64_t *ids)
{
	char gname[sizeof(POLICY_GROUP_PREFIX) + POLICY_NAME_MAX];
	sqlite3_stmt *st;
	int64_t gid;
	size_t i;
	int rc;

	snprintf(gname, sizeof(gname), POLICY_GROUP_PREFIX "%s", s->name);
	if (sqlite3_prepare_v2(catalog_db(c),
			       "INSERT OR IGNORE INTO groups (name, created_at) VALUES (?, strftime('%s','now'))",
			       -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_text(st, 1, gname, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return -EIO;
	gid = lookup_id(c, "SELECT id FROM groups WHERE name = ?", gname);
	if (gid <= 0)
		return -EIO;
	if (sqlite3_prepare_v2(catalog_db(c),
			       "DELETE FROM group_members WHERE group_id = ?", -1, &st,
			       NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_int64(st, 1, gid);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return -EIO;
	if (sqlite3_prepare_v2(catalog_db(c),
			       "INSERT INTO group_members (group_id, volume_id) VALUES (?, ?)",
			       -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	for (i = 0; i < s->nvolumes; i++) {
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, gid);
		sqlite3_bind_int64(st, 2, ids[i]);
		if (sqlite3_step(st) != SQLITE_DONE) {
			sqlite3_finalize(st);
			return -EIO;
		}
	}
	sqlite3_finalize(st);
	return gid;
}

static void bind_text_or_null(sqlite3_stmt *st, int i, const char *s)
{
	if (s)
		sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

static int insert_policy(struct catalog *c, const struct policy_spec *s,
			 int64_t vid, int64_t gid, int64_t *id)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(catalog_db(c),
			       "INSERT INTO policies (name, volume_id, group_id, snap_interval_s,"
			       " keep_last, keep_hourly, keep_daily, keep_weekly, keep_monthly,"
			       " archive_after_days, archive_drives, archive_capacity,"
			       " freeze_mnt, pre_cmd, post_cmd, created_at)"
			       " VALUES (?, nullif(?, 0), nullif(?, 0), ?, ?, ?, ?, ?, ?,"
			       " nullif(?, -1), ?, nullif(?, 0), ?, ?, ?, strftime('%s','now'))",
			       -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_text(st, 1, s->name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, vid);
	sqlite3_bind_int64(st, 3, gid);
	sqlite3_bind_int64(st, 4, s->interval_s);
	sqlite3_bind_int(st, 5, s->keep_last);
	sqlite3_bind_int(st, 6, s->keep_hourly);
	sqlite3_bind_int(st, 7, s->keep_daily);
	sqlite3_bind_int(st, 8, s->keep_weekly);
	sqlite3_bind_int(st, 9, s->keep_monthly);
	sqlite3_bind_int(st, 10, s->archive_after_days < 0 ? -1 : s->archive_after_days);
	bind_text_or_null(st, 11, s->archive_drives);
	sqlite3_bind_int64(st, 12, (int64_t)s->archive_capacity);
	bind_text_or_null(st, 13, s->freeze_mnt);
	bind_text_or_null(st, 14, s->pre_cmd);
	bind_text_or_null(st, 15, s->post_cmd);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return -EIO;
	*id = sqlite3_last_insert_rowid(catalog_db(c));
	return 0;
}

/*
 * Removing a policy leaves its snapshots unmanaged (policy_id NULL). Adding
 * one of the same name again takes back those named like its own
 * (<NAME>-YYYYmmddTHHMMZ, schedule_time.h) on its volumes, so "remove, then
 * add with other settings" is how a policy is changed. Returns the count.
 */
static int adopt_snapshots(struct catalog *c, const char *name, int64_t id,
			   const int64_t *vols, size_t nvols)
{
	char pattern[POLICY_NAME_MAX + 64];
	sqlite3_stmt *st;
	size_t i;
	int n = 0;

	/* policy names have no GLOB metacharacters (policy_name_ok) */
	snprintf(pattern, sizeof(pattern),
		 "%s-[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]T[0-9][0-9][0-9][0-9]Z", name);
	if (sqlite3_prepare_v2(catalog_db(c),
			       "UPDATE snapshots SET policy_id = ? WHERE policy_id IS NULL"
			       " AND volume_id = ? AND name GLOB ?", -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	for (i = 0; i < nvols; i++) {
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_int64(st, 2, vols[i]);
		sqlite3_bind_text(st, 3, pattern, -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE) {
			sqlite3_finalize(st);
			return -EIO;
		}
		n += sqlite3_changes(catalog_db(c));
	}
	sqlite3_finalize(st);
	return n;
}

int policy_add(struct catalog *c, const struct policy_spec *s, char *err,
	       size_t errlen)
{
	int64_t *ids, gid = 0, id;
	int external = 0, ret, adopted;
	char every[32];

	ret = spec_check(s, err, errlen);
	if (ret)
		return ret;
	ids = calloc(s->nvolumes, sizeof(*ids));
	if (!ids) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	ret = catalog_begin(c);
	if (ret) {
		snprintf(err, errlen, "%s", catalog_errmsg(c));
		goto out;
	}
	if (lookup_id(c, "SELECT id FROM policies WHERE name = ?", s->name) > 0) {
		snprintf(err, errlen,
			 "policy %s exists already: remove it first (cdpctl policy remove %s) or pick another name",
			 s->name, s->name);
		ret = -EEXIST;
		goto out_rollback;
	}
	ret = resolve_volumes(c, s, ids, &external, err, errlen);
	if (ret)
		goto out_rollback;
	if (s->nvolumes > 1) {
		gid = policy_group(c, s, ids);
		if (gid < 0) {
			ret = catalog_fail(c, "create the policy's consistency group");
			goto out_sql;
		}
	}
	ret = insert_policy(c, s, gid ? 0 : ids[0], gid, &id);
	if (ret) {
		ret = catalog_fail(c, "insert policy");
		goto out_sql;
	}
	adopted = adopt_snapshots(c, s->name, id, ids, s->nvolumes);
	if (adopted < 0) {
		ret = catalog_fail(c, "adopt the snapshots of an earlier policy of that name");
		goto out_sql;
	}
	ret = policy_event(c, id, gid ? 0 : ids[0], "info", "policy.add",
			   "policy %s added: every %s, keep last %d hourly %d daily %d weekly %d monthly %d; %d earlier snapshot(s) of that name adopted",
			   s->name, policy_fmt_duration(s->interval_s, every, sizeof(every)),
			   s->keep_last, s->keep_hourly, s->keep_daily, s->keep_weekly,
			   s->keep_monthly, adopted);
	if (!ret)
		ret = catalog_commit(c);
	if (ret)
		goto out_sql;
	free(ids);
	return 0;

out_sql:
	snprintf(err, errlen, "%s", catalog_errmsg(c));
out_rollback:
	catalog_rollback(c);
out:
	free(ids);
	return ret;
}

/*---------------------------------------------------------------------------
 * remove, pause, resume
 */

static int no_such_policy(struct catalog *c, const char *name, char *err,
			  size_t errlen)
{
	snprintf(err, errlen, "policy %s does not exist in catalog %s: see cdpctl policy list",
		 name, catalog_path(c));
	return -ENOENT;
}

/* Run one statement with (?1 = name [, ?2 = num]); returns changes or -EIO. */
static int exec_named(struct catalog *c, const char *sql, const char *name,
		      int64_t num)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(catalog_db(c), sql, -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_bind_parameter_count(st) > 1)
		sqlite3_bind_int64(st, 2, num);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? sqlite3_changes(catalog_db(c)) : -EIO;
}

int policy_remove(struct catalog *c, const char *name, char *err, size_t errlen)
{
	char gname[sizeof(POLICY_GROUP_PREFIX) + POLICY_NAME_MAX + 1];
	int64_t id;
	int ret;

	ret = catalog_begin(c);
	if (ret)
		goto out_sql;
	id = lookup_id(c, "SELECT id FROM policies WHERE name = ?", name);
	if (id <= 0) {
		catalog_rollback(c);
		return no_such_policy(c, name, err, errlen);
	}
	if (exec_named(c, "DELETE FROM policies WHERE name = ?", name, 0) < 0)
		goto out_fail;
	/* Its group goes too, unless snapshots still name it (they show the
	 * members that were taken together). */
	snprintf(gname, sizeof(gname), POLICY_GROUP_PREFIX "%s", name);
	if (exec_named(c, "DELETE FROM groups WHERE name = ?1 AND NOT EXISTS"
		       " (SELECT 1 FROM snapshots s JOIN groups g ON g.id = s.group_id"
		       "  WHERE g.name = ?1)", gname, 0) < 0)
		goto out_fail;
	ret = policy_event(c, 0, 0, "info", "policy.remove",
			   "policy %s removed; its snapshots stay, no longer pruned", name);
	if (!ret)
		ret = catalog_commit(c);
	if (ret)
		goto out_sql;
	return 0;

out_fail:
	ret = catalog_fail(c, "remove policy");
out_sql:
	snprintf(err, errlen, "%s", catalog_errmsg(c));
	catalog_rollback(c);
	return ret;
}

int policy_set_paused(struct catalog *c, const char *name, int paused,
		      char *err, size_t errlen)
{
	int64_t id;
	int n;

	n = exec_named(c, "UPDATE policies SET paused = ?2 WHERE name = ?1", name,
		       paused);
	if (n < 0) {
		catalog_fail(c, paused ? "pause policy" : "resume policy");
		snprintf(err, errlen, "%s", catalog_errmsg(c));
		return -EIO;
	}
	if (n == 0)
		return no_such_policy(c, name, err, errlen);
	id = lookup_id(c, "SELECT id FROM policies WHERE name = ?", name);
	policy_event(c, id, 0, "info", paused ? "policy.pause" : "policy.resume",
		     "policy %s %s", name, paused ? "paused" : "resumed");
	return 0;
}

/*---------------------------------------------------------------------------
 * Reading
 */

static const char policy_select[] =
	"SELECT p.id, p.name, coalesce(p.volume_id, 0), coalesce(p.group_id, 0),"
	" coalesce(v.name, (SELECT group_concat(name, ' ') FROM"
	"   (SELECT v2.name FROM group_members gm JOIN volumes v2 ON v2.id = gm.volume_id"
	"    WHERE gm.group_id = p.group_id ORDER BY v2.name))),"
	" EXISTS (SELECT 1 FROM volumes v3 WHERE v3.state = 'external' AND"
	"   (v3.id = p.volume_id OR v3.id IN"
	"    (SELECT volume_id FROM group_members WHERE group_id = p.group_id))),"
	" p.snap_interval_s, p.keep_last, p.keep_hourly, p.keep_daily,"
	" p.keep_weekly, p.keep_monthly, coalesce(p.archive_after_days, -1),"
	" p.archive_drives, coalesce(p.archive_capacity, 0), p.freeze_mnt,"
	" p.pre_cmd, p.post_cmd, p.paused, p.created_at, coalesce(p.last_run_at, 0),"
	" p.last_result, p.last_message,"
	" coalesce((SELECT max(created_at) FROM snapshots s WHERE s.policy_id = p.id), 0),"
	" (SELECT count(DISTINCT name) FROM snapshots s"
	"  WHERE s.policy_id = p.id AND s.state = 'live')"
	" FROM policies p LEFT JOIN volumes v ON v.id = p.volume_id"
	" WHERE ?1 IS NULL OR p.name = ?1 ORDER BY p.name";

static char *col_dup(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t ? strdup((const char *)t) : NULL;
}

static void policy_from_row(sqlite3_stmt *st, struct policy *p)
{
	memset(p, 0, sizeof(*p));
	p->id = sqlite3_column_int64(st, 0);
	p->name = col_dup(st, 1);
	p->volume_id = sqlite3_column_int64(st, 2);
	p->group_id = sqlite3_column_int64(st, 3);
	p->volumes = col_dup(st, 4);
	p->external = sqlite3_column_int(st, 5);
	p->interval_s = sqlite3_column_int64(st, 6);
	p->keep_last = sqlite3_column_int(st, 7);
	p->keep_hourly = sqlite3_column_int(st, 8);
	p->keep_daily = sqlite3_column_int(st, 9);
	p->keep_weekly = sqlite3_column_int(st, 10);
	p->keep_monthly = sqlite3_column_int(st, 11);
	p->archive_after_days = sqlite3_column_int(st, 12);
	p->archive_drives = col_dup(st, 13);
	p->archive_capacity = (uint64_t)sqlite3_column_int64(st, 14);
	p->freeze_mnt = col_dup(st, 15);
	p->pre_cmd = col_dup(st, 16);
	p->post_cmd = col_dup(st, 17);
	p->paused = sqlite3_column_int(st, 18);
	p->created_at = sqlite3_column_int64(st, 19);
	p->last_run_at = sqlite3_column_int64(st, 20);
	p->last_result = col_dup(st, 21);
	p->last_message = col_dup(st, 22);
	p->last_snap_at = sqlite3_column_int64(st, 23);
	p->live_snaps = sqlite3_column_int64(st, 24);
}

void policy_free(struct policy *p)
{
	free(p->name);
	free(p->volumes);
	free(p->archive_drives);
	free(p->freeze_mnt);
	free(p->pre_cmd);
	free(p->post_cmd);
	free(p->last_result);
	free(p->last_message);
	memset(p, 0, sizeof(*p));
}

/* Walk policies matching name (NULL = all). */
static int policy_walk(struct catalog *c, const char *name,
		       int (*fn)(const struct policy *p, void *arg), void *arg,
		       int *found, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	struct policy p;
	int rc, ret = 0;

	*found = 0;
	if (sqlite3_prepare_v2(catalog_db(c), policy_select, -1, &st, NULL) != SQLITE_OK) {
		catalog_fail(c, "read policies");
		snprintf(err, errlen, "%s", catalog_errmsg(c));
		return -EIO;
	}
	bind_text_or_null(st, 1, name);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		policy_from_row(st, &p);
		(*found)++;
		ret = fn(&p, arg);
		policy_free(&p);
		if (ret)
			break;
	}
	if (!ret && rc != SQLITE_DONE) {
		catalog_fail(c, "read policies");
		snprintf(err, errlen, "%s", catalog_errmsg(c));
		ret = -EIO;
	}
	sqlite3_finalize(st);
	return ret;
}

int policy_foreach(struct catalog *c, int (*fn)(const struct policy *p, void *arg),
		   void *arg, char *err, size_t errlen)
{
	int found;

	return policy_walk(c, NULL, fn, arg, &found, err, errlen);
}

static int copy_one(const struct policy *p, void *arg)
{
	struct policy *out = arg;

	*out = *p;
	out->name = p->name ? strdup(p->name) : NULL;
	out->volumes = p->volumes ? strdup(p->volumes) : NULL;
	out->archive_drives = p->archive_drives ? strdup(p->archive_drives) : NULL;
	out->freeze_mnt = p->freeze_mnt ? strdup(p->freeze_mnt) : NULL;
	out->pre_cmd = p->pre_cmd ? strdup(p->pre_cmd) : NULL;
	out->post_cmd = p->post_cmd ? strdup(p->post_cmd) : NULL;
	out->last_result = p->last_result ? strdup(p->last_result) : NULL;
	out->last_message = p->last_message ? strdup(p->last_message) : NULL;
	return 0;
}

int policy_get(struct catalog *c, const char *name, struct policy *p,
	       char *err, size_t errlen)
{
	int found, ret;

	memset(p, 0, sizeof(*p));
	ret = policy_walk(c, name, copy_one, p, &found, err, errlen);
	if (ret)
		return ret;
	if (!found)
		return no_such_policy(c, name, err, errlen);
	return 0;
}

struct policy_vec {
	struct policy *v;
	size_t n, cap;
};

static int append_one(const struct policy *p, void *arg)
{
	struct policy_vec *pv = arg;

	if (pv->n == pv->cap) {
		size_t cap = pv->cap ? 2 * pv->cap : 16;
		struct policy *v = realloc(pv->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		pv->v = v;
		pv->cap = cap;
	}
	copy_one(p, &pv->v[pv->n++]);
	return 0;
}

int policy_list(struct catalog *c, struct policy **out, size_t *n, char *err,
		size_t errlen)
{
	struct policy_vec pv = { NULL, 0, 0 };
	int found, ret;

	ret = policy_walk(c, NULL, append_one, &pv, &found, err, errlen);
	if (ret == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	if (ret) {
		policy_list_free(pv.v, pv.n);
		return ret;
	}
	*out = pv.v;
	*n = pv.n;
	return 0;
}

void policy_list_free(struct policy *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		policy_free(&v[i]);
	free(v);
}
