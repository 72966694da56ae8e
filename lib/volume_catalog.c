// SPDX-License-Identifier: GPL-2.0
/* volume_catalog.c - SQL for the volumes table (see volume_catalog.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "volume_catalog.h"

#define COLS "id, name, device, meta_device, dm_name, rbd_pool, rbd_image, mode, state, created_at"

static void col(sqlite3_stmt *st, int i, char *dst, size_t len)
{
	const unsigned char *s = sqlite3_column_text(st, i);

	snprintf(dst, len, "%s", s ? (const char *)s : "");
}

static void row(sqlite3_stmt *st, struct cat_volume *v)
{
	memset(v, 0, sizeof(*v));
	v->id = sqlite3_column_int64(st, 0);
	col(st, 1, v->name, sizeof(v->name));
	col(st, 2, v->device, sizeof(v->device));
	col(st, 3, v->meta_device, sizeof(v->meta_device));
	col(st, 4, v->dm_name, sizeof(v->dm_name));
	col(st, 5, v->pool, sizeof(v->pool));
	col(st, 6, v->image, sizeof(v->image));
	col(st, 7, v->mode, sizeof(v->mode));
	col(st, 8, v->state, sizeof(v->state));
	v->created_at = sqlite3_column_int64(st, 9);
}

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s && *s)
		sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, i);
}

int volume_catalog_add(struct catalog *c, struct cat_volume *v)
{
	sqlite3 *db = catalog_db(c);
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db, "INSERT INTO volumes (name, device, meta_device, dm_name,"
			       " volume_uuid, rbd_pool, rbd_image, mode, state, created_at)"
			       " VALUES (?,?,?,?,?,?,?,?,?,?)", -1, &st, NULL))
		return catalog_fail(c, "preparing the volume insert");
	if (!v->created_at)
		v->created_at = time(NULL);
	bind_text(st, 1, v->name);
	bind_text(st, 2, v->device);
	bind_text(st, 3, v->meta_device);
	bind_text(st, 4, v->dm_name);
	bind_text(st, 5, v->name);
	bind_text(st, 6, v->pool);
	bind_text(st, 7, v->image);
	bind_text(st, 8, v->mode[0] ? v->mode : "async");
	bind_text(st, 9, v->state[0] ? v->state : "protected");
	sqlite3_bind_int64(st, 10, v->created_at);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_CONSTRAINT)
		return -EEXIST;
	if (rc != SQLITE_DONE)
		return catalog_fail(c, "adding the volume");
	v->id = sqlite3_last_insert_rowid(db);
	return 0;
}

static int get_one(struct catalog *c, const char *sql, const char *a,
		   const char *b, struct cat_volume *v)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(catalog_db(c), sql, -1, &st, NULL))
		return catalog_fail(c, "preparing a volume lookup");
	sqlite3_bind_text(st, 1, a, -1, SQLITE_TRANSIENT);
	if (b)
		sqlite3_bind_text(st, 2, b, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		row(st, v);
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return 0;
	return rc == SQLITE_DONE ? -ENOENT : catalog_fail(c, "looking a volume up");
}

int volume_catalog_get(struct catalog *c, const char *name, struct cat_volume *v)
{
	return get_one(c, "SELECT " COLS " FROM volumes WHERE name = ?", name, NULL, v);
}

int volume_catalog_get_image(struct catalog *c, const char *pool,
			     const char *image, struct cat_volume *v)
{
	return get_one(c, "SELECT " COLS " FROM volumes WHERE rbd_pool = ? AND rbd_image = ?",
		       pool, image, v);
}

int volume_catalog_list(struct catalog *c,
			int (*cb)(const struct cat_volume *v, void *arg), void *arg)
{
	struct cat_volume v;
	sqlite3_stmt *st;
	int rc, r = 0;

	if (sqlite3_prepare_v2(catalog_db(c), "SELECT " COLS " FROM volumes ORDER BY name",
			       -1, &st, NULL))
		return catalog_fail(c, "preparing the volume list");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		row(st, &v);
		r = cb(&v, arg);
		if (r)
			break;
	}
	sqlite3_finalize(st);
	if (!r && rc != SQLITE_DONE)
		return catalog_fail(c, "listing volumes");
	return r;
}

static int set_col(struct catalog *c, const char *sql, int64_t id, const char *val)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(catalog_db(c), sql, -1, &st, NULL))
		return catalog_fail(c, "preparing a volume update");
	sqlite3_bind_text(st, 1, val, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, id);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : catalog_fail(c, "updating a volume");
}

int volume_catalog_set_state(struct catalog *c, int64_t id, const char *state)
{
	return set_col(c, "UPDATE volumes SET state = ? WHERE id = ?", id, state);
}

int volume_catalog_set_mode(struct catalog *c, int64_t id, const char *mode)
{
	return set_col(c, "UPDATE volumes SET mode = ? WHERE id = ?", id, mode);
}

int volume_catalog_delete(struct catalog *c, int64_t id)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(catalog_db(c), "DELETE FROM volumes WHERE id = ?", -1, &st, NULL))
		return catalog_fail(c, "preparing the volume delete");
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : catalog_fail(c, "deleting the volume");
}

/* @sql with ? for @s1, @s2 (when given), then @a, then @b (when not 0) */
static int bound_exec(struct catalog *c, const char *sql, int64_t a, int64_t b,
		      const char *s1, const char *s2)
{
	sqlite3_stmt *st;
	int rc, i = 1;

	if (sqlite3_prepare_v2(catalog_db(c), sql, -1, &st, NULL))
		return catalog_fail(c, "preparing a volume update");
	if (s1)
		sqlite3_bind_text(st, i++, s1, -1, SQLITE_TRANSIENT);
	if (s2)
		sqlite3_bind_text(st, i++, s2, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, i++, a);
	if (b)
		sqlite3_bind_int64(st, i, b);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : catalog_fail(c, "re-protecting a volume");
}

/*
 * A new protect of @name after it was unprotected: the old row stays for
 * its snapshots and archives (they restore from its image or its discs),
 * renamed NAME.ID; the new row takes over its policies and groups; the old
 * row goes when nothing refers to it. An old image name equal to the new
 * one means that image was removed: the old row's is marked so. One
 * transaction: either all of it or nothing.
 */
int volume_catalog_add_replacing(struct catalog *c, struct cat_volume *v)
{
	struct cat_volume old;
	int r;

	memset(&old, 0, sizeof(old));
	r = catalog_begin(c);
	if (r)
		return r;
	r = volume_catalog_get(c, v->name, &old);
	if (!r && strcmp(old.state, "unprotected"))
		r = -EEXIST;
	else if (!r)
		r = bound_exec(c, "UPDATE volumes SET name = name || '.' || id, volume_uuid = NULL,"
			       " rbd_image = CASE WHEN rbd_pool = ? AND rbd_image = ?"
			       " THEN rbd_image || '.' || id || '.removed' ELSE rbd_image END"
			       " WHERE id = ?", old.id, 0, v->pool, v->image);
	else if (r == -ENOENT)
		r = 0;
	if (!r)
		r = volume_catalog_add(c, v);
	if (!r && old.id && !strcmp(old.state, "unprotected")) {
		r = bound_exec(c, "UPDATE policies SET volume_id = ? WHERE volume_id = ?",
			       v->id, old.id, NULL, NULL);
		if (!r)
			r = bound_exec(c, "UPDATE OR IGNORE group_members SET volume_id = ?"
				       " WHERE volume_id = ?", v->id, old.id, NULL, NULL);
		if (!r)
			r = bound_exec(c, "DELETE FROM volumes WHERE id = ? AND NOT EXISTS"
				       " (SELECT 1 FROM snapshots WHERE volume_id = ?)",
				       old.id, old.id, NULL, NULL);
	}
	if (r) {
		catalog_rollback(c);
		return r;
	}
	return catalog_commit(c);
}
