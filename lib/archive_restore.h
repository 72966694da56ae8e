/* SPDX-License-Identifier: GPL-2.0 */
/*
 * archive_restore.h - `archive restore`: read the discs of one archive, in
 * any order and one at a time (one drive is enough), check every chunk's
 * SHA-256 before writing its bytes, and finish with the whole-image
 * SHA-256 (from the last disc's manifest).
 *
 * Every problem is reported on stderr naming the disc (number, label,
 * drive) and the chunk: a foreign disc (other archive), a corrupt or
 * unreadable chunk, a truncated disc, a missing disc. A chunk that failed
 * its check is never written; a restore with any problem is left as
 * "<target>.partial" and fails.
 */
#ifndef CDP_ARCHIVE_RESTORE_H
#define CDP_ARCHIVE_RESTORE_H

#include <stddef.h>

struct archive_restore_opts {
	const char *const *drives;	/* batch: one disc per address */
	size_t ndrives;
	const char *prompt_drive;	/* else: ask on the terminal for each
					 * disc to be put into this drive */
	const char *target;		/* POOL/IMAGE or FILE */
	const char *archive_id;		/* NULL: the first disc with a manifest decides */
};

/* 0; -EBADMSG when discs or chunks failed (reported); other -errno. */
int archive_restore(const struct archive_restore_opts *o, char *err, size_t errlen);

#endif
