/* SPDX-License-Identifier: GPL-2.0 */
/*
 * archive_iso.h - one disc of an archive as an ISO 9660 image (level 3,
 * Rock Ridge, Joliet) built by libisofs and handed to libburn as a
 * burn_source: the bytes are produced while the drive writes, no ISO file
 * ever exists on disk.
 *
 * Disc layout (data order, by libisofs sort weight):
 *   README.TXT        first: identifies the disc even if the rest is lost
 *   chunks/NNNNNNNN.bin  read from the source while they are written; each
 *                     read block feeds the chunk's and the image's SHA-256
 *   MANIFEST.TXT      last: rendered after its chunks have been read, so it
 *                     carries their hashes in one pass over the source
 *
 * Chunks must be read in index order, once (the image hash is a stream);
 * the writer checks that and fails the disc otherwise.
 */
#ifndef CDP_ARCHIVE_ISO_H
#define CDP_ARCHIVE_ISO_H

#include "archive.h"
#include "archive_source.h"

struct burn_source;
struct archive_iso_writer;

/* Read buffer per open chunk: big reads keep RBD and disks streaming. */
#define ARCHIVE_READ_BLOCK	(4U << 20)
/* How far (in blocks) the hasher threads may fall behind the disc. */
#define ARCHIVE_READ_BUFS	8

/* One writer per archive (it carries the image hash across discs). */
int archive_iso_writer_new(struct archive_plan *plan, struct archive_source *src,
			   struct archive_iso_writer **out);
void archive_iso_writer_free(struct archive_iso_writer *w);

/*
 * Build disc no's image; *src is ready for burn_track_set_source(), *size
 * is its exact byte size. Call once per disc, in disc order.
 */
int archive_iso_build(struct archive_iso_writer *w, uint32_t no,
		      struct burn_source **src, uint64_t *size, char *err,
		      size_t errlen);

/* After the burn: 0, or -errno with the reason (source read error, chunk
 * order) if the content written cannot be trusted. */
int archive_iso_result(struct archive_iso_writer *w, char *err, size_t errlen);

/* Source bytes read so far (any thread). */
uint64_t archive_iso_bytes_read(struct archive_iso_writer *w);

/* libisofs/libburn global init, once per process. */
int archive_libs_init(char *err, size_t errlen);

#endif
