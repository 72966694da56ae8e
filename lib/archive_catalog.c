// SPDX-License-Identifier: GPL-2.0
/* archive_catalog.c - see archive_catalog.h */
#include "archive_catalog.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static const char *file_or(const char *s, const char *dflt)
{
	return s && *s ? s : dflt;
}

int archive_catalog_lookup(struct catalog *c, struct archive_plan *p)
{
	sqlite3_stmt *st;

	snprintf(p->volume, sizeof(p->volume), "%s%s%s",
		 p->pool[0] ? p->pool : "file:", p->pool[0] ? "/" : "", p->image);
	p->snap_seq = -1;
	if (sqlite3_prepare_v2(catalog_db(c),
			       "SELECT v.name, s.seq FROM volumes v"
			       " LEFT JOIN snapshots s ON s.volume_id = v.id AND s.name = ?3"
			       " WHERE v.rbd_pool = ?1 AND v.rbd_image = ?2",
			       -1, &st, NULL) != SQLITE_OK)
		return catalog_fail(c, "look up the volume");
	sqlite3_bind_text(st, 1, p->pool, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, p->image, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, file_or(p->snap, "-"), -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		snprintf(p->volume, sizeof(p->volume), "%s", sqlite3_column_text(st, 0));
		if (sqlite3_column_type(st, 1) != SQLITE_NULL)
			p->snap_seq = sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	return 0;
}

int archive_catalog_check_labels(struct catalog *c, const struct archive_plan *p,
				 char *err, size_t errlen)
{
	sqlite3_stmt *st;
	uint32_t i;
	int ret = 0;

	if (sqlite3_prepare_v2(catalog_db(c), "SELECT 1 FROM discs WHERE label = ?",
			       -1, &st, NULL) != SQLITE_OK)
		return catalog_fail(c, "check disc labels");
	for (i = 0; i < p->ndiscs && !ret; i++) {
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, p->discs[i].label, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW) {
			snprintf(err, errlen,
				 "disc label %s is already in the catalog: choose another --label",
				 p->discs[i].label);
			ret = -EEXIST;
		}
	}
	sqlite3_finalize(st);
	return ret;
}

/* Run a prepared INSERT/UPDATE; returns the new rowid or -1. */
static int64_t step_insert(struct catalog *c, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? sqlite3_last_insert_rowid(catalog_db(c)) : -1;
}

static sqlite3_stmt *prepare(struct catalog *c, const char *sql)
{
	sqlite3_stmt *st = NULL;

	sqlite3_prepare_v2(catalog_db(c), sql, -1, &st, NULL);
	return st;
}

static int64_t select_id(struct catalog *c, sqlite3_stmt *st)
{
	int64_t id = 0;

	if (st && sqlite3_step(st) == SQLITE_ROW)
		id = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return id;
}

static int64_t ensure_volume(struct catalog *c, const struct archive_plan *p)
{
	sqlite3_stmt *st = prepare(c, "SELECT id FROM volumes WHERE rbd_pool = ? AND rbd_image = ?");
	int64_t id;

	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, p->pool, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, p->image, -1, SQLITE_STATIC);
	id = select_id(c, st);
	if (id)
		return id;
	/* known only as an archive source until `protect` adopts it */
	st = prepare(c, "INSERT INTO volumes (name, rbd_pool, rbd_image, state, created_at)"
		     " VALUES (?, ?, ?, 'external', strftime('%s','now'))");
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, p->volume, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, p->pool, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, p->image, -1, SQLITE_STATIC);
	return step_insert(c, st);
}

static int64_t ensure_snapshot(struct catalog *c, const struct archive_plan *p,
			       int64_t vol)
{
	sqlite3_stmt *st = prepare(c, "SELECT id FROM snapshots WHERE volume_id = ? AND name = ?");
	int64_t id;

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, vol);
	sqlite3_bind_text(st, 2, file_or(p->snap, "-"), -1, SQLITE_STATIC);
	id = select_id(c, st);
	if (id)
		return id;
	st = prepare(c, "INSERT INTO snapshots (volume_id, name, created_at, image_size)"
		     " VALUES (?, ?, ?, ?)");
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, vol);
	sqlite3_bind_text(st, 2, file_or(p->snap, "-"), -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, p->snap_time);
	sqlite3_bind_int64(st, 4, (int64_t)p->image_size);
	return step_insert(c, st);
}

static int64_t insert_archive(struct catalog *c, const struct archive_plan *p,
			      int64_t snap, const char *state, const char *error)
{
	sqlite3_stmt *st = prepare(c,
		"INSERT INTO archives (uuid, snapshot_id, image_size, data_bytes,"
		" extent_count, chunk_size, chunk_count, disc_count, image_sha256,"
		" state, error, created_at, completed_at)"
		" VALUES (?,?,?,?,?,?,?,?,?,?,?,?, strftime('%s','now'))");

	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, p->id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, snap);
	sqlite3_bind_int64(st, 3, (int64_t)p->image_size);
	sqlite3_bind_int64(st, 4, (int64_t)p->data_bytes);
	sqlite3_bind_int64(st, 5, (int64_t)p->npieces);
	sqlite3_bind_int64(st, 6, (int64_t)p->chunk_size);
	sqlite3_bind_int64(st, 7, p->nchunks);
	sqlite3_bind_int64(st, 8, p->ndiscs);
	if (p->image_sha256[0])
		sqlite3_bind_text(st, 9, p->image_sha256, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 10, state, -1, SQLITE_STATIC);
	if (error)
		sqlite3_bind_text(st, 11, error, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 12, p->created);
	return step_insert(c, st);
}

/* A good disc: from its burn record, or (b NULL) imported from Ceph. */
static int64_t insert_disc(struct catalog *c, const struct archive_plan *p,
			   int64_t arch, const struct archive_disc_info *d,
			   const struct archive_burn_rec *b)
{
	sqlite3_stmt *st = prepare(c,
		"INSERT INTO discs (label, archive_id, disc_no, medium, capacity, used,"
		" first_chunk, chunk_count, verified_at) VALUES (?,?,?,?,?,?,?,?,?)");

	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, d->label, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, arch);
	sqlite3_bind_int64(st, 3, d->no);
	sqlite3_bind_text(st, 4, b ? b->medium : "unknown", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, (int64_t)p->capacity);
	sqlite3_bind_int64(st, 6, b ? (int64_t)b->bytes : 0);
	sqlite3_bind_int64(st, 7, d->first_chunk);
	sqlite3_bind_int64(st, 8, d->nchunks);
	sqlite3_bind_int64(st, 9, b ? (int64_t)(b->ended + b->verify_s) : p->created);
	return step_insert(c, st);
}

static int64_t insert_burn(struct catalog *c, int64_t arch, int64_t disc,
			   const struct archive_burn_rec *b)
{
	double secs = b->ended - b->started;
	sqlite3_stmt *st = prepare(c,
		"INSERT INTO burns (archive_id, disc_id, disc_no, label, drive, medium,"
		" started_at, ended_at, bytes, rate_bps, verify_s, result, error)"
		" VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)");

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, arch);
	if (disc > 0)
		sqlite3_bind_int64(st, 2, disc);
	sqlite3_bind_int64(st, 3, b->disc_no);
	sqlite3_bind_text(st, 4, b->label, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, b->drive, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, b->medium, -1, SQLITE_STATIC);
	sqlite3_bind_double(st, 7, b->started);
	sqlite3_bind_double(st, 8, b->ended);
	sqlite3_bind_int64(st, 9, (int64_t)b->bytes);
	sqlite3_bind_double(st, 10, secs > 0 ? b->bytes / secs : 0);
	sqlite3_bind_double(st, 11, b->verify_s);
	sqlite3_bind_text(st, 12, b->result, -1, SQLITE_STATIC);
	if (b->error[0])
		sqlite3_bind_text(st, 13, b->error, -1, SQLITE_STATIC);
	return step_insert(c, st);
}

static int insert_chunks(struct catalog *c, const struct archive_plan *p,
			 int64_t arch)
{
	sqlite3_stmt *st = prepare(c,
		"INSERT INTO archive_chunks (archive_id, idx, disc_no, path, length,"
		" image_offset, sha256) VALUES (?,?,?,?,?,?,?)");
	uint32_t i;
	int rc = SQLITE_DONE;

	if (!st)
		return -1;
	for (i = 0; i < p->nchunks && rc == SQLITE_DONE; i++) {
		const struct archive_chunk *ch = &p->chunks[i];
		char path[64];

		archive_chunk_path(ch->idx, path, sizeof(path));
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, arch);
		sqlite3_bind_int64(st, 2, ch->idx);
		sqlite3_bind_int64(st, 3, ch->disc);
		sqlite3_bind_text(st, 4, path, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 5, (int64_t)ch->length);
		sqlite3_bind_int64(st, 6, (int64_t)p->pieces[ch->first_piece].img_off);
		sqlite3_bind_text(st, 7, ch->sha256, -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

int archive_catalog_record(struct catalog *c, const struct archive_plan *p,
			   const char *state, const char *error,
			   const struct archive_burn_rec *burns, size_t nburns,
			   char *err, size_t errlen)
{
	int64_t vol, snap, arch;
	char msg[2048];
	size_t i;
	int ret;

	ret = catalog_begin(c);
	if (ret)
		goto fail;
	ret = -EIO;
	vol = ensure_volume(c, p);
	snap = vol > 0 ? ensure_snapshot(c, p, vol) : -1;
	arch = snap > 0 ? insert_archive(c, p, snap, state, error) : -1;
	if (arch <= 0)
		goto fail_sql;
	for (i = 0; i < nburns; i++) {
		int64_t disc = 0;

		if (!strcmp(burns[i].result, "ok")) {
			disc = insert_disc(c, p, arch, &p->discs[burns[i].disc_no - 1],
					   &burns[i]);
			if (disc <= 0)
				goto fail_sql;
		}
		if (insert_burn(c, arch, disc, &burns[i]) <= 0)
			goto fail_sql;
	}
	for (i = 0; !burns && i < p->ndiscs; i++)	/* imported */
		if (insert_disc(c, p, arch, &p->discs[i], NULL) <= 0)
			goto fail_sql;
	if (!strcmp(state, "complete") && insert_chunks(c, p, arch))
		goto fail_sql;
	snprintf(msg, sizeof(msg), "archive %s of %s@%s: %s, %u disc(s)%s%s", p->id,
		 p->volume, file_or(p->snap, "-"), state, p->ndiscs,
		 error ? ": " : "", error ? error : "");
	if (catalog_event(c, vol, strcmp(state, "complete") ? "error" : "info",
			  "archive", msg))
		goto fail_sql;
	ret = catalog_commit(c);
	if (!ret)
		return 0;
	goto fail;
fail_sql:
	catalog_fail(c, "record the archive");
fail:
	catalog_rollback(c);
	snprintf(err, errlen, "%s", catalog_errmsg(c));
	return ret ? ret : -EIO;
}

int archive_catalog_has(struct catalog *c, const char *id)
{
	sqlite3_stmt *st = prepare(c, "SELECT 1 FROM archives WHERE uuid = ?");
	int rc;

	if (!st)
		return catalog_fail(c, "look up an archive");
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW;
}

static const char *text(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

int archive_catalog_list(struct catalog *c, const char *id,
			 void (*cb)(void *arg, const struct archive_row *r), void *arg)
{
	sqlite3_stmt *st = prepare(c,
		"SELECT a.id, a.uuid, v.rbd_pool, v.rbd_image, s.name, a.state,"
		" a.created_at, a.disc_count, a.data_bytes, a.image_size, a.image_sha256,"
		" (SELECT group_concat(label, ' ') FROM (SELECT label FROM discs"
		"   WHERE archive_id = a.id ORDER BY disc_no)), a.error"
		" FROM archives a JOIN snapshots s ON s.id = a.snapshot_id"
		" JOIN volumes v ON v.id = s.volume_id"
		" WHERE ?1 IS NULL OR a.uuid = ?1 ORDER BY a.created_at, a.id");
	int rc;

	if (!st)
		return catalog_fail(c, "list archives");
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct archive_row r = {
			.rowid = sqlite3_column_int64(st, 0), .id = text(st, 1),
			.pool = text(st, 2), .image = text(st, 3), .snap = text(st, 4),
			.state = text(st, 5), .created = sqlite3_column_int64(st, 6),
			.discs = (uint32_t)sqlite3_column_int(st, 7),
			.data_bytes = (uint64_t)sqlite3_column_int64(st, 8),
			.image_size = (uint64_t)sqlite3_column_int64(st, 9),
			.image_sha256 = text(st, 10), .labels = text(st, 11),
			.error = text(st, 12),
		};

		cb(arg, &r);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : catalog_fail(c, "list archives");
}

int archive_catalog_burns(struct catalog *c, int64_t rowid,
			  void (*cb)(void *arg, const struct archive_burn_rec *b),
			  void *arg)
{
	sqlite3_stmt *st = prepare(c,
		"SELECT disc_no, label, drive, medium, started_at, ended_at, bytes,"
		" verify_s, result, error FROM burns WHERE archive_id = ? ORDER BY id");
	int rc;

	if (!st)
		return catalog_fail(c, "list burn records");
	sqlite3_bind_int64(st, 1, rowid);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct archive_burn_rec b = {
			.disc_no = (uint32_t)sqlite3_column_int(st, 0),
			.started = sqlite3_column_double(st, 4),
			.ended = sqlite3_column_double(st, 5),
			.bytes = (uint64_t)sqlite3_column_int64(st, 6),
			.verify_s = sqlite3_column_double(st, 7),
			.result = text(st, 8),
		};

		snprintf(b.label, sizeof(b.label), "%s", text(st, 1) ? text(st, 1) : "");
		snprintf(b.drive, sizeof(b.drive), "%s", text(st, 2) ? text(st, 2) : "");
		snprintf(b.medium, sizeof(b.medium), "%s", text(st, 3) ? text(st, 3) : "");
		snprintf(b.error, sizeof(b.error), "%s", text(st, 9) ? text(st, 9) : "");
		cb(arg, &b);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : catalog_fail(c, "list burn records");
}

int archive_catalog_find(struct catalog *c, const char *key,
			 char id[ARCHIVE_ID_LEN + 1])
{
	sqlite3_stmt *st = prepare(c,
		"SELECT a.uuid FROM archives a"
		" JOIN snapshots s ON s.id = a.snapshot_id"
		" JOIN volumes v ON v.id = s.volume_id"
		" LEFT JOIN discs d ON d.archive_id = a.id"
		" WHERE a.state = 'complete' AND (a.uuid = ?1 OR d.label = ?1"
		"  OR v.rbd_pool || '/' || v.rbd_image || '@' || s.name = ?1)"
		" ORDER BY a.created_at DESC, a.id DESC LIMIT 1");
	int found = 0;

	if (!st)
		return catalog_fail(c, "find the archive");
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		snprintf(id, ARCHIVE_ID_LEN + 1, "%s", sqlite3_column_text(st, 0));
		found = 1;
	}
	sqlite3_finalize(st);
	return found ? 0 : -ENOENT;
}
