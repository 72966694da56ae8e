/* SPDX-License-Identifier: GPL-2.0 */
/*
 * catalog.h - the local sqlite3 catalog: volumes, snapshots (archived ones
 * stay as stubs), policies, archives, discs, burn records, events.
 *
 * The catalog is a cache of what is also stored in Ceph (see DESIGN.md): it
 * can be rebuilt by `cdpctl catalog sync`. Opening it creates the file and
 * applies forward migrations (catalog_schema.c); the database runs in WAL
 * mode with a busy timeout so cdpd, cron and an interactive cdpctl can use it
 * at the same time.
 *
 * Location: the path given to catalog_open(), else $CDP_STATE_DIR/catalog.db,
 * else /var/lib/cdp/catalog.db.
 *
 * Every function returns 0 or a negative errno; catalog_errmsg() then holds
 * a sentence for the user (the sqlite message plus the path).
 */
#ifndef CDP_CATALOG_H
#define CDP_CATALOG_H

#include <stddef.h>
#include <stdint.h>
#include <sqlite3.h>

#define CDP_STATE_DIR_DEFAULT	"/var/lib/cdp"
#define CDP_CATALOG_FILE	"catalog.db"
/* How long a writer waits for another one before giving up. */
#define CDP_CATALOG_BUSY_MS	10000

struct catalog;

/* Default path into buf: $CDP_STATE_DIR/catalog.db or /var/lib/cdp/... */
const char *catalog_default_path(char *buf, size_t len);

/*
 * Open (creating directory and file if needed) and migrate to the newest
 * schema. path may be NULL for the default. On failure *out is NULL and err
 * holds the reason.
 */
int catalog_open(const char *path, struct catalog **out, char *err,
		 size_t errlen);
void catalog_close(struct catalog *c);

const char *catalog_path(const struct catalog *c);
const char *catalog_errmsg(const struct catalog *c);
int catalog_schema_version(struct catalog *c);

/*
 * The raw handle, for modules that add their own queries (snapshots,
 * policies, ...). Keep SQL for one object in one lib/<object>_catalog.c.
 */
sqlite3 *catalog_db(struct catalog *c);

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK: group writes so a failure leaves the
 * catalog unchanged. */
int catalog_begin(struct catalog *c);
int catalog_commit(struct catalog *c);
void catalog_rollback(struct catalog *c);

/* Run one SQL statement without results; for migrations and simple writes. */
int catalog_exec(struct catalog *c, const char *sql);

/* Record a failure text (sqlite's message + context) and return -EIO. */
int catalog_fail(struct catalog *c, const char *what);

/* Append an event row (level "info"|"warn"|"error"); volume_id 0 = none. */
int catalog_event(struct catalog *c, int64_t volume_id, const char *level,
		  const char *kind, const char *message);

#endif
