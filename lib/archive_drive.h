/* SPDX-License-Identifier: GPL-2.0 */
/*
 * archive_drive.h - optical drives through libburn.
 *
 * Addresses: "/dev/srN" (a real drive) or "stdio:PATH" (a pseudo-drive: a
 * regular file or block device; an absent file in an existing directory is
 * a blank medium). A pseudo-drive has no size: the capacity the caller
 * plans with is the only limit, enforced before writing.
 */
#ifndef CDP_ARCHIVE_DRIVE_H
#define CDP_ARCHIVE_DRIVE_H

#include <stddef.h>
#include <stdint.h>

struct archive_drive;
struct burn_source;

/* Progress callback: bytes written so far. */
typedef void (*archive_tick_fn)(void *arg, uint64_t written);

/* Check the address and grab the drive; err says what is wrong/missing. */
int archive_drive_open(const char *addr, struct archive_drive **out,
		       char *err, size_t errlen);
/*
 * The medium must be blank and, on a real drive, have room for need bytes.
 * -ENOMEDIUM: no disc; -EEXIST: not blank; -ENOSPC: too small.
 */
int archive_drive_check_blank(struct archive_drive *d, uint64_t need,
			      char *err, size_t errlen);
/* Bytes the blank medium takes (0 for a pseudo-drive: no size). */
uint64_t archive_drive_room(struct archive_drive *d);
/* Profile of the medium ("BD-R", ...) or "stdio" for a pseudo-drive. */
const char *archive_drive_medium(const struct archive_drive *d);
/*
 * Write size bytes from src as one closed session (BD-R: no appending).
 * Returns when the drive is idle again; the caller still owns src and
 * frees it (for libisofs' source that joins its writer thread).
 */
int archive_drive_write(struct archive_drive *d, struct burn_source *src,
			uint64_t size, archive_tick_fn tick, void *arg,
			char *err, size_t errlen);
void archive_drive_close(struct archive_drive *d);

/*
 * After the caller's "insert a medium ... into DFLT and press Enter": read
 * the answer from stdin. Enter means dflt, another address replaces it
 * (into buf), q or the end of input means stop (NULL).
 */
const char *archive_drive_answer(const char *dflt, char *buf, size_t len);

/* The file to read a written disc back from: PATH or /dev/srN. */
const char *archive_drive_path(const char *addr);

#endif
