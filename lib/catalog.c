// SPDX-License-Identifier: GPL-2.0
/* catalog.c - open, migrate and transact on the sqlite3 catalog. */
#include "catalog.h"
#include "catalog_schema.h"
#include "util.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct catalog {
	sqlite3 *db;
	char path[PATH_MAX];
	char err[PATH_MAX + 1024];
};

const char *catalog_default_path(char *buf, size_t len)
{
	const char *dir = getenv("CDP_STATE_DIR");

	snprintf(buf, len, "%s/%s", dir && *dir ? dir : CDP_STATE_DIR_DEFAULT,
		 CDP_CATALOG_FILE);
	return buf;
}

const char *catalog_path(const struct catalog *c)
{
	return c->path;
}

const char *catalog_errmsg(const struct catalog *c)
{
	return c->err;
}

sqlite3 *catalog_db(struct catalog *c)
{
	return c->db;
}

int catalog_fail(struct catalog *c, const char *what)
{
	snprintf(c->err, sizeof(c->err), "catalog %s: %s: %s", c->path, what,
		 sqlite3_errmsg(c->db));
	return -EIO;
}

int catalog_exec(struct catalog *c, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(c->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(c->err, sizeof(c->err), "catalog %s: %s", c->path,
			 msg ? msg : sqlite3_errmsg(c->db));
		sqlite3_free(msg);
		return -EIO;
	}
	return 0;
}

int catalog_begin(struct catalog *c)
{
	/* IMMEDIATE takes the write lock now, so a busy catalog waits here
	 * (busy timeout) rather than failing half way through our writes. */
	return catalog_exec(c, "BEGIN IMMEDIATE");
}

int catalog_commit(struct catalog *c)
{
	return catalog_exec(c, "COMMIT");
}

void catalog_rollback(struct catalog *c)
{
	if (!sqlite3_get_autocommit(c->db))
		sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
}

int catalog_schema_version(struct catalog *c)
{
	sqlite3_stmt *st;
	int v = -1;

	if (sqlite3_prepare_v2(c->db, "SELECT max(version) FROM schema_version",
			       -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* mkdir -p for the directory holding path. */
static int make_parent_dirs(const char *path)
{
	char dir[PATH_MAX];
	char *p;

	snprintf(dir, sizeof(dir), "%s", path);
	p = strrchr(dir, '/');
	if (!p || p == dir)
		return 0;
	*p = '\0';
	for (p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0755) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(dir, 0755) && errno != EEXIST)
		return -errno;
	return 0;
}

/*
 * Apply every migration above the current version, each in its own
 * IMMEDIATE transaction that re-reads the version: two processes opening a
 * fresh catalog at once must not both create the tables.
 */
static int migrate(struct catalog *c)
{
	int v, ret;

	ret = catalog_exec(c, "CREATE TABLE IF NOT EXISTS schema_version ("
			   " version INTEGER PRIMARY KEY,"
			   " applied_at INTEGER NOT NULL)");
	if (ret)
		return ret;
	for (;;) {
		char sql[128];

		ret = catalog_begin(c);
		if (ret)
			return ret;
		v = catalog_schema_version(c);
		if (v < 0)
			v = 0;
		if (v > catalog_schema_latest) {
			catalog_rollback(c);
			snprintf(c->err, sizeof(c->err),
				 "catalog %s has schema version %d, newer than this cdp supports (%d): upgrade cdp",
				 c->path, v, catalog_schema_latest);
			return -EPROTO;
		}
		if (v == catalog_schema_latest) {
			catalog_rollback(c);
			return 0;
		}
		ret = catalog_exec(c, catalog_migrations[v]);
		snprintf(sql, sizeof(sql),
			 "INSERT INTO schema_version VALUES (%d, strftime('%%s','now'))",
			 v + 1);
		if (!ret)
			ret = catalog_exec(c, sql);
		if (!ret)
			ret = catalog_commit(c);
		if (ret) {
			catalog_rollback(c);
			return ret;
		}
	}
}

int catalog_open(const char *path, struct catalog **out, char *err,
		 size_t errlen)
{
	struct catalog *c;
	int ret;

	*out = NULL;
	c = calloc(1, sizeof(*c));
	if (!c) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (path)
		snprintf(c->path, sizeof(c->path), "%s", path);
	else
		catalog_default_path(c->path, sizeof(c->path));

	ret = make_parent_dirs(c->path);
	if (ret) {
		snprintf(err, errlen,
			 "cannot create the directory of catalog %s: %s (set CDP_STATE_DIR or --catalog)",
			 c->path, strerror(-ret));
		free(c);
		return ret;
	}
	if (sqlite3_open_v2(c->path, &c->db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "cannot open catalog %s: %s", c->path,
			 c->db ? sqlite3_errmsg(c->db) : "out of memory");
		catalog_close(c);
		return -EIO;
	}
	sqlite3_busy_timeout(c->db, CDP_CATALOG_BUSY_MS);
	ret = catalog_exec(c, "PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON;");
	if (!ret)
		ret = migrate(c);
	if (ret) {
		snprintf(err, errlen, "%s", c->err);
		catalog_close(c);
		return ret;
	}
	*out = c;
	return 0;
}

void catalog_close(struct catalog *c)
{
	if (!c)
		return;
	sqlite3_close(c->db);
	free(c);
}

int catalog_event(struct catalog *c, int64_t volume_id, const char *level,
		  const char *kind, const char *message)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(c->db,
			       "INSERT INTO events (time, volume_id, level, kind, message)"
			       " VALUES (?, ?, ?, ?, ?)", -1, &st, NULL) != SQLITE_OK)
		return catalog_fail(c, "add event");
	sqlite3_bind_double(st, 1, cdp_now());
	if (volume_id > 0)
		sqlite3_bind_int64(st, 2, volume_id);
	else
		sqlite3_bind_null(st, 2);
	sqlite3_bind_text(st, 3, level, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, message, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : catalog_fail(c, "add event");
}
