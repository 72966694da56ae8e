/* SPDX-License-Identifier: GPL-2.0 */
/*
 * archive_target.h - where a restore writes: a new RBD image (POOL/IMAGE)
 * or a new file (a path starting with '/' or "./", or "file:PATH").
 *
 * The data goes to "<name>.partial" first and is renamed to <name> only
 * when every chunk was verified and the whole-image SHA-256 matched, so a
 * failed restore never leaves something that looks complete. An existing
 * <name> is never overwritten.
 */
#ifndef CDP_ARCHIVE_TARGET_H
#define CDP_ARCHIVE_TARGET_H

#include <stddef.h>
#include <stdint.h>

struct archive_target;

int archive_target_open(const char *spec, uint64_t size,
			struct archive_target **out, char *err, size_t errlen);
int archive_target_write(struct archive_target *t, uint64_t off,
			 const void *buf, size_t len);
int archive_target_read(struct archive_target *t, uint64_t off, void *buf,
			size_t len);
/* Flush and rename .partial to the final name. */
int archive_target_commit(struct archive_target *t, char *err, size_t errlen);
/* Name of what holds the data now (the .partial name until commit). */
const char *archive_target_name(const struct archive_target *t);
void archive_target_close(struct archive_target *t);

#endif
