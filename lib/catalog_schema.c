// SPDX-License-Identifier: GPL-2.0
/*
 * catalog_schema.c - schema v1 covers the whole design (see DESIGN.md), even
 * where only some queries exist yet, so later features add queries, not
 * tables. Times are unix seconds (REAL where sub-second rates matter).
 */
#include "catalog_schema.h"

static const char schema_v1[] =
/* A protected volume, or a "POOL/IMAGE" known only as an archive source. */
"CREATE TABLE volumes ("
"  id          INTEGER PRIMARY KEY,"
"  name        TEXT NOT NULL UNIQUE,"
"  device      TEXT,"			/* origin block device, NULL if not local */
"  meta_device TEXT,"
"  dm_name     TEXT,"
"  volume_uuid TEXT UNIQUE,"		/* dm-cdp <volume_id> */
"  rbd_pool    TEXT NOT NULL,"
"  rbd_image   TEXT NOT NULL,"
"  mode        TEXT NOT NULL DEFAULT 'async' CHECK (mode IN ('async','sync')),"
"  state       TEXT NOT NULL DEFAULT 'protected'"
"              CHECK (state IN ('protected','unprotected','external')),"
"  created_at  INTEGER NOT NULL,"
"  UNIQUE (rbd_pool, rbd_image)"
");"
/* Consistency groups: snapshots of all members share one group_snap id. */
"CREATE TABLE groups ("
"  id         INTEGER PRIMARY KEY,"
"  name       TEXT NOT NULL UNIQUE,"
"  created_at INTEGER NOT NULL"
");"
"CREATE TABLE group_members ("
"  group_id  INTEGER NOT NULL REFERENCES groups(id) ON DELETE CASCADE,"
"  volume_id INTEGER NOT NULL REFERENCES volumes(id) ON DELETE CASCADE,"
"  PRIMARY KEY (group_id, volume_id)"
");"
"CREATE TABLE policies ("
"  id                 INTEGER PRIMARY KEY,"
"  name               TEXT NOT NULL UNIQUE,"
"  volume_id          INTEGER REFERENCES volumes(id) ON DELETE CASCADE,"
"  group_id           INTEGER REFERENCES groups(id) ON DELETE CASCADE,"
"  snap_interval_s    INTEGER NOT NULL CHECK (snap_interval_s > 0),"
"  keep_hourly        INTEGER NOT NULL DEFAULT 0,"
"  keep_daily         INTEGER NOT NULL DEFAULT 0,"
"  keep_weekly        INTEGER NOT NULL DEFAULT 0,"
"  keep_monthly       INTEGER NOT NULL DEFAULT 0,"
"  archive_after_days INTEGER,"		/* NULL: never archive */
"  archive_drives     TEXT,"		/* space separated drive addresses */
"  archive_capacity   INTEGER,"
"  freeze_mnt         TEXT,"
"  pre_cmd            TEXT,"
"  post_cmd           TEXT,"
"  last_run_at        INTEGER,"
"  created_at         INTEGER NOT NULL,"
"  CHECK ((volume_id IS NULL) != (group_id IS NULL))"
");"
/*
 * state: live = the RBD snapshot exists; archived = removed from Ceph, the
 * data is on discs only (a stub: see snapshot_discs); deleted = gone.
 */
"CREATE TABLE snapshots ("
"  id            INTEGER PRIMARY KEY,"
"  volume_id     INTEGER NOT NULL REFERENCES volumes(id),"
"  name          TEXT NOT NULL,"		/* the RBD snapshot name */
"  created_at    INTEGER NOT NULL,"
"  seq           INTEGER,"		/* stream seq of its MARK; NULL if not ours */
"  group_id      INTEGER REFERENCES groups(id) ON DELETE SET NULL,"
"  group_snap    TEXT,"
"  freeze_ms     INTEGER,"
"  freeze_result TEXT,"
"  policy_id     INTEGER REFERENCES policies(id) ON DELETE SET NULL,"
"  image_size    INTEGER,"
"  protected     INTEGER NOT NULL DEFAULT 0,"
"  state         TEXT NOT NULL DEFAULT 'live'"
"                CHECK (state IN ('live','archived','deleted')),"
"  UNIQUE (volume_id, name)"
");"
/* One archive = one snapshot written to a set of discs (uuid on each disc). */
"CREATE TABLE archives ("
"  id            INTEGER PRIMARY KEY,"
"  uuid          TEXT NOT NULL UNIQUE,"
"  snapshot_id   INTEGER NOT NULL REFERENCES snapshots(id),"
"  image_size    INTEGER NOT NULL,"
"  data_bytes    INTEGER NOT NULL,"	/* allocated bytes archived */
"  extent_count  INTEGER NOT NULL,"
"  chunk_size    INTEGER NOT NULL,"
"  chunk_count   INTEGER NOT NULL,"
"  disc_count    INTEGER NOT NULL,"
"  image_sha256  TEXT,"
"  state         TEXT NOT NULL CHECK (state IN ('complete','failed')),"
"  error         TEXT,"
"  created_at    INTEGER NOT NULL,"
"  completed_at  INTEGER"
");"
/* A disc is recorded only after it was written AND verified. */
"CREATE TABLE discs ("
"  id          INTEGER PRIMARY KEY,"
"  label       TEXT NOT NULL UNIQUE,"
"  archive_id  INTEGER NOT NULL REFERENCES archives(id) ON DELETE CASCADE,"
"  disc_no     INTEGER NOT NULL,"		/* N of archives.disc_count */
"  medium      TEXT NOT NULL,"		/* profile, e.g. 'BD-R', 'stdio' */
"  capacity    INTEGER NOT NULL,"
"  used        INTEGER NOT NULL,"
"  first_chunk INTEGER NOT NULL,"
"  chunk_count INTEGER NOT NULL,"
"  verified_at INTEGER NOT NULL,"
"  location    TEXT,"			/* shelf, free text */
"  UNIQUE (archive_id, disc_no)"
");"
/* Every write attempt, good or not. */
"CREATE TABLE burns ("
"  id         INTEGER PRIMARY KEY,"
"  archive_id INTEGER REFERENCES archives(id) ON DELETE CASCADE,"
"  disc_id    INTEGER REFERENCES discs(id) ON DELETE SET NULL,"
"  disc_no    INTEGER,"
"  label      TEXT,"
"  drive      TEXT NOT NULL,"
"  medium     TEXT,"
"  started_at REAL NOT NULL,"
"  ended_at   REAL NOT NULL,"
"  bytes      INTEGER NOT NULL,"
"  rate_bps   REAL NOT NULL,"
"  verify_s   REAL,"
"  result     TEXT NOT NULL"
"             CHECK (result IN ('ok','write-failed','verify-failed','cancelled')),"
"  error      TEXT"
");"
"CREATE TABLE archive_chunks ("
"  archive_id   INTEGER NOT NULL REFERENCES archives(id) ON DELETE CASCADE,"
"  idx          INTEGER NOT NULL,"
"  disc_no      INTEGER NOT NULL,"
"  path         TEXT NOT NULL,"		/* file name on the disc */
"  length       INTEGER NOT NULL,"
"  image_offset INTEGER NOT NULL,"	/* of its first extent */
"  sha256       TEXT NOT NULL,"
"  PRIMARY KEY (archive_id, idx)"
") WITHOUT ROWID;"
"CREATE TABLE events ("
"  id        INTEGER PRIMARY KEY,"
"  time      REAL NOT NULL,"
"  volume_id INTEGER REFERENCES volumes(id) ON DELETE SET NULL,"
"  level     TEXT NOT NULL CHECK (level IN ('info','warn','error')),"
"  kind      TEXT NOT NULL,"
"  message   TEXT NOT NULL"
");"
"CREATE INDEX snapshots_by_time ON snapshots(volume_id, created_at);"
"CREATE INDEX archives_by_snapshot ON archives(snapshot_id);"
"CREATE INDEX burns_by_archive ON burns(archive_id);"
"CREATE INDEX events_by_time ON events(time);"
/* `snap list` shows archived stubs with the labels of their good discs. */
"CREATE VIEW snapshot_discs AS"
"  SELECT s.id AS snapshot_id, a.uuid AS archive_uuid,"
"         group_concat(d.label, ' ') AS labels"
"  FROM snapshots s JOIN archives a ON a.snapshot_id = s.id AND a.state = 'complete'"
"  JOIN discs d ON d.archive_id = a.id"
"  GROUP BY s.id, a.id;";

/*
 * v2: scheduled snapshot policies (issue 7). keep_last is the GFS "N newest"
 * rule; paused policies are skipped by `schedule run`; last_result and
 * last_message are what `schedule status` shows for the last run. Events
 * of the scheduler carry their policy so status and tests can select them.
 */
static const char schema_v2[] =
"ALTER TABLE policies ADD COLUMN keep_last INTEGER NOT NULL DEFAULT 0;"
"ALTER TABLE policies ADD COLUMN paused INTEGER NOT NULL DEFAULT 0;"
"ALTER TABLE policies ADD COLUMN last_result TEXT;"	/* ok|failed|partial */
"ALTER TABLE policies ADD COLUMN last_message TEXT;"
"ALTER TABLE events ADD COLUMN policy_id INTEGER"
"  REFERENCES policies(id) ON DELETE SET NULL;"
"CREATE INDEX snapshots_by_policy ON snapshots(policy_id, created_at);";

const char *const catalog_migrations[] = {
	schema_v1,
	schema_v2,
};

const int catalog_schema_latest =
	sizeof(catalog_migrations) / sizeof(catalog_migrations[0]);
