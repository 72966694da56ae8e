/* SPDX-License-Identifier: GPL-2.0 */
/*
 * archive_catalog.h - catalog rows of archives: volume and snapshot rows
 * (created as "external" when the snapshot is not in the catalog yet), the
 * archive, its good discs, every burn attempt and the chunk list.
 */
#ifndef CDP_ARCHIVE_CATALOG_H
#define CDP_ARCHIVE_CATALOG_H

#include "archive.h"
#include "catalog.h"

struct archive_burn_rec {
	uint32_t disc_no;
	char label[ARCHIVE_DISC_LABEL_LEN];
	char drive[4200];
	char medium[80];
	double started, ended, verify_s;
	uint64_t bytes;
	const char *result;		/* "ok", "write-failed", ... */
	char error[512];
};

/* Volume name and snapshot seq for the plan's source, if cataloged. */
int archive_catalog_lookup(struct catalog *c, struct archive_plan *p);
/* -EEXIST with err if a disc label of the plan is already cataloged. */
int archive_catalog_check_labels(struct catalog *c, const struct archive_plan *p,
				 char *err, size_t errlen);
/*
 * Record an archive attempt in one transaction: state "complete" (all
 * discs verified) or "failed" (error says why; the burns tell how far it
 * got). Discs are recorded for burns with result "ok". burns NULL: an
 * archive imported from its Ceph record, every disc of the plan is good.
 */
int archive_catalog_record(struct catalog *c, const struct archive_plan *p,
			   const char *state, const char *error,
			   const struct archive_burn_rec *burns, size_t nburns,
			   char *err, size_t errlen);

/* One archive as `archive list|show` print it. Strings live until the
 * callback returns. */
struct archive_row {
	int64_t rowid;
	const char *id, *pool, *image, *snap, *state, *labels, *image_sha256, *error;
	int64_t created;
	uint32_t discs;
	uint64_t data_bytes, image_size;
};

/* Every archive (id NULL), oldest first, or the one with that id. */
int archive_catalog_list(struct catalog *c, const char *id,
			 void (*cb)(void *arg, const struct archive_row *r), void *arg);

/* Every burn attempt of an archive (archive_row.rowid), in order. */
int archive_catalog_burns(struct catalog *c, int64_t rowid,
			  void (*cb)(void *arg, const struct archive_burn_rec *b),
			  void *arg);

/* 1 if an archive with this id is in the catalog, 0 if not, <0 on error. */
int archive_catalog_has(struct catalog *c, const char *id);

/* Archive id (uuid) of the newest complete archive of POOL/IMAGE@SNAP, or
 * of the archive whose id or disc label is key. */
int archive_catalog_find(struct catalog *c, const char *key,
			 char id[ARCHIVE_ID_LEN + 1]);

#endif
