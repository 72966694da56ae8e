/* SPDX-License-Identifier: GPL-2.0 */
/*
 * archive_create.h - `archive create`: plan the discs, check every given
 * drive before the first byte is written (so capacity, drive and medium
 * errors change nothing), write each disc, read it back and check every
 * chunk, then record the archive in Ceph and in the catalog.
 *
 * Events go to stderr as lines ("cdpctl: disc 1 of 3 ..."); a progress bar
 * is drawn when stderr is a terminal.
 */
#ifndef CDP_ARCHIVE_CREATE_H
#define CDP_ARCHIVE_CREATE_H

#include "archive.h"
#include "catalog.h"

struct archive_create_opts {
	const char *source;		/* POOL/IMAGE@SNAP or file:PATH */
	const char *const *drives;	/* one per disc in batch mode */
	size_t ndrives;
	uint64_t capacity;		/* per disc, bytes; 0: the first drive's
					 * blank medium, or 25G on a pseudo-drive */
	uint64_t chunk_size;		/* 0: default */
	const char *label;		/* NULL: "CDP-<id prefix>" */
	int interactive;		/* prompt on the tty for more media */
	struct catalog *cat;
};

/* On success *plan describes the archive (caller frees it). */
int archive_create(const struct archive_create_opts *o, struct archive_plan *plan,
		   char *err, size_t errlen);

#endif
