/* SPDX-License-Identifier: GPL-2.0 */
/*
 * snap_catalog.h - SQL for the snapshots table: record a snapshot taken by
 * `snap create` (or imported by `catalog sync`), list them with the disc
 * labels of archived stubs, look one up, change its state.
 *
 * Rows are never deleted: `snap delete` sets state 'deleted' (archives and
 * burn records keep pointing at them); recording the same name again
 * revives the row.
 */
#ifndef CDP_SNAP_CATALOG_H
#define CDP_SNAP_CATALOG_H

#include <stdint.h>
#include "catalog.h"

struct snap_row {
	int64_t id;
	char volume[64];
	char pool[128];
	char image[128];
	char name[128];
	int64_t created_at;
	uint64_t seq;			/* 0 = unknown */
	char group[64];			/* group_snap id, "" = single volume */
	double freeze_ms;		/* -1 = unknown */
	char freeze[512];		/* snap_freeze_text(), "" = unknown */
	int protect;
	char state[16];			/* live|archived|deleted */
	char discs[512];		/* disc labels of archived copies */
};

/*
 * Insert or update (volume, name); row->id is set. -ENOENT (and no
 * message) when the volume is not in the catalog.
 */
int snap_catalog_record(struct catalog *c, struct snap_row *row);
/*
 * 1 when @name is taken on @volume: a live or archived snapshot, or a
 * deleted one whose archive is on discs (a new snapshot of that name would
 * take over its row and its discs); 0 when free; -EIO.
 */
int snap_catalog_name_used(struct catalog *c, const char *volume, const char *name);
/*
 * The RBD snapshot is gone: 'archived' when a complete archive of it exists
 * (the row is then the stub that finds the discs), else 'deleted'.
 * 1 for archived, 0 for deleted, -EIO.
 */
int snap_catalog_mark_gone(struct catalog *c, int64_t snapshot_id);

/* -ENOENT if absent (deleted rows too unless with_deleted). */
int snap_catalog_get(struct catalog *c, const char *volume, const char *name,
		     struct snap_row *row);

/*
 * Snapshots in time order, of one volume (NULL: all); deleted ones only
 * with with_deleted. A non-zero return of cb stops and is returned.
 */
int snap_catalog_list(struct catalog *c, const char *volume, int with_deleted,
		      int (*cb)(const struct snap_row *r, void *arg), void *arg);

int snap_catalog_set_state(struct catalog *c, int64_t id, const char *state);

#endif
