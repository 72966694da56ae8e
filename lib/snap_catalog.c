// SPDX-License-Identifier: GPL-2.0
/* snap_catalog.c - SQL for the snapshots table (see snap_catalog.h). */
#include "snap_catalog.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define SELECT_ROWS \
	"SELECT s.id, v.name, v.rbd_pool, v.rbd_image, s.name, s.created_at, s.seq," \
	" s.group_snap, s.freeze_ms, s.freeze_result, s.protected, s.state," \
	" (SELECT group_concat(labels, ' ') FROM snapshot_discs d WHERE d.snapshot_id = s.id)" \
	" FROM snapshots s JOIN volumes v ON v.id = s.volume_id"

static void col(sqlite3_stmt *st, int i, char *dst, size_t len)
{
	const unsigned char *s = sqlite3_column_text(st, i);

	snprintf(dst, len, "%s", s ? (const char *)s : "");
}

static void read_row(sqlite3_stmt *st, struct snap_row *r)
{
	memset(r, 0, sizeof(*r));
	r->id = sqlite3_column_int64(st, 0);
	col(st, 1, r->volume, sizeof(r->volume));
	col(st, 2, r->pool, sizeof(r->pool));
	col(st, 3, r->image, sizeof(r->image));
	col(st, 4, r->name, sizeof(r->name));
	r->created_at = sqlite3_column_int64(st, 5);
	r->seq = (uint64_t)sqlite3_column_int64(st, 6);
	col(st, 7, r->group, sizeof(r->group));
	r->freeze_ms = sqlite3_column_type(st, 8) == SQLITE_NULL ? -1 : sqlite3_column_double(st, 8);
	col(st, 9, r->freeze, sizeof(r->freeze));
	r->protect = sqlite3_column_int(st, 10);
	col(st, 11, r->state, sizeof(r->state));
	col(st, 12, r->discs, sizeof(r->discs));
}

static void bind_text_or_null(sqlite3_stmt *st, int i, const char *s)
{
	if (s && *s)
		sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, i);
}

int snap_catalog_record(struct catalog *c, struct snap_row *r)
{
	sqlite3_stmt *st;
	int rc;

	/* freeze_ms is INTEGER in schema v1; sqlite keeps the REAL we bind */
	if (sqlite3_prepare_v2(catalog_db(c),
			       "INSERT INTO snapshots (volume_id, name, created_at, seq, group_snap,"
			       " freeze_ms, freeze_result, protected, state)"
			       " SELECT id, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9 FROM volumes WHERE name = ?1"
			       " ON CONFLICT (volume_id, name) DO UPDATE SET created_at = excluded.created_at,"
			       " seq = excluded.seq, group_snap = excluded.group_snap,"
			       " freeze_ms = excluded.freeze_ms, freeze_result = excluded.freeze_result,"
			       " protected = excluded.protected, state = excluded.state"
			       " RETURNING id", -1, &st, NULL))
		return catalog_fail(c, "preparing the snapshot insert");
	sqlite3_bind_text(st, 1, r->volume, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, r->name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, r->created_at);
	if (r->seq)
		sqlite3_bind_int64(st, 4, (int64_t)r->seq);
	else
		sqlite3_bind_null(st, 4);
	bind_text_or_null(st, 5, r->group);
	if (r->freeze_ms >= 0)
		sqlite3_bind_double(st, 6, r->freeze_ms);
	else
		sqlite3_bind_null(st, 6);
	bind_text_or_null(st, 7, r->freeze);
	sqlite3_bind_int(st, 8, r->protect);
	sqlite3_bind_text(st, 9, r->state[0] ? r->state : "live", -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		r->id = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
		return 0;
	}
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE)
		return -ENOENT;		/* no such volume: the caller says so */
	return catalog_fail(c, "recording a snapshot");
}

int snap_catalog_get(struct catalog *c, const char *volume, const char *name,
		     struct snap_row *r)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(catalog_db(c), SELECT_ROWS
			       " WHERE v.name = ?1 AND s.name = ?2 AND s.state != 'deleted'",
			       -1, &st, NULL))
		return catalog_fail(c, "preparing a snapshot lookup");
	sqlite3_bind_text(st, 1, volume, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		read_row(st, r);
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return 0;
	return rc == SQLITE_DONE ? -ENOENT : catalog_fail(c, "looking up a snapshot");
}

int snap_catalog_list(struct catalog *c, const char *volume, int with_deleted,
		      int (*cb)(const struct snap_row *r, void *arg), void *arg)
{
	struct snap_row r;
	sqlite3_stmt *st;
	int rc, ret = 0;

	if (sqlite3_prepare_v2(catalog_db(c), SELECT_ROWS
			       " WHERE (?1 IS NULL OR v.name = ?1) AND (?2 OR s.state != 'deleted')"
			       " ORDER BY s.created_at, s.id", -1, &st, NULL))
		return catalog_fail(c, "preparing the snapshot list");
	if (volume)
		sqlite3_bind_text(st, 1, volume, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, with_deleted);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && !ret) {
		read_row(st, &r);
		ret = cb(&r, arg);
	}
	sqlite3_finalize(st);
	if (!ret && rc != SQLITE_DONE && rc != SQLITE_ROW)
		return catalog_fail(c, "listing snapshots");
	return ret;
}

int snap_catalog_set_state(struct catalog *c, int64_t id, const char *state)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(catalog_db(c), "UPDATE snapshots SET state = ?2 WHERE id = ?1",
			       -1, &st, NULL))
		return catalog_fail(c, "preparing a snapshot update");
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, state, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : catalog_fail(c, "updating a snapshot");
}

int snap_catalog_name_used(struct catalog *c, const char *volume, const char *name)
{
	sqlite3_stmt *st;
	int used = 0;

	if (sqlite3_prepare_v2(catalog_db(c),
			       "SELECT EXISTS (SELECT 1 FROM snapshots s JOIN volumes v ON v.id = s.volume_id"
			       " WHERE v.name = ?1 AND s.name = ?2 AND (s.state != 'deleted'"
			       "  OR EXISTS (SELECT 1 FROM archives a WHERE a.snapshot_id = s.id)))",
			       -1, &st, NULL))
		return catalog_fail(c, "preparing a snapshot lookup");
	sqlite3_bind_text(st, 1, volume, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		used = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return used;
}

/*
 * After the RBD snapshot is gone: 'archived' when a complete archive of it
 * exists (the row is then the stub that finds the discs), else 'deleted'.
 * Returns 1 for archived, 0 for deleted, -EIO.
 */
int snap_catalog_mark_gone(struct catalog *c, int64_t snapshot_id)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(catalog_db(c),
			       "UPDATE snapshots SET protected = 0, state = CASE WHEN EXISTS"
			       " (SELECT 1 FROM archives a WHERE a.snapshot_id = snapshots.id"
			       "  AND a.state = 'complete') THEN 'archived' ELSE 'deleted' END"
			       " WHERE id = ? RETURNING state = 'archived'", -1, &st,
			       NULL) != SQLITE_OK)
		return catalog_fail(c, "mark snapshot pruned");
	sqlite3_bind_int64(st, 1, snapshot_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		int archived = sqlite3_column_int(st, 0);

		sqlite3_finalize(st);
		return archived;
	}
	sqlite3_finalize(st);
	return catalog_fail(c, "mark snapshot pruned");
}
