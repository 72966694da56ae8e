/* SPDX-License-Identifier: GPL-2.0 */
/*
 * archive.h - the shape of an optical archive, shared by its parts:
 *
 *   archive_source.c  allocated extents + reads of a snapshot (RBD or file)
 *   archive_plan.c    extents -> chunks -> discs, within a capacity
 *   archive_manifest.c  the per-disc MANIFEST.TXT and README.TXT (text)
 *   archive_iso.c     one disc's ISO 9660 image (libisofs), streamed
 *   archive_drive.c   libburn drives: grab, blank check, write, progress
 *   archive_disc.c    reading a written disc back, chunk by chunk, hashed
 *   archive_create.c  `archive create`: plan, write, verify, record
 *   archive_restore.c `archive restore`: discs in any order -> image/file
 *   archive_catalog.c the catalog rows; archive_ceph.c the RADOS copy
 *
 * Data model: the snapshot's allocated extents, in image order, are cut
 * into "pieces" and packed back to back into chunk files of chunk_size
 * bytes (the last one shorter); whole chunks are assigned to discs. A piece
 * says: bytes [chunk_off, chunk_off+len) of chunk c belong at image offset
 * img_off. Every chunk has a SHA-256; the whole image (holes as zeros) has
 * one too, known only after the last chunk was read, so it is on the last
 * disc (and in the catalog and Ceph).
 */
#ifndef CDP_ARCHIVE_H
#define CDP_ARCHIVE_H

#include <stdint.h>
#include <stddef.h>
#include <time.h>

#include "util.h"

/* 2: MANIFEST.TXT ends with manifest_sha256 (1 had none; still read) */
#define ARCHIVE_FORMAT_VERSION	2
#define ARCHIVE_FORMAT_OLDEST	1
#define ARCHIVE_ID_LEN		32		/* hex characters */
#define ARCHIVE_LABEL_MAX	24		/* + "-NNN" fits ISO's 32 */
#define ARCHIVE_DISC_LABEL_LEN	48		/* label + "-<disc no>" + NUL */
#define ARCHIVE_NAME_MAX	256
#define ARCHIVE_CHUNK_DEFAULT	(32ULL << 20)
#define ARCHIVE_CHUNK_MIN	(64ULL << 10)
#define ARCHIVE_CHUNK_MAX	(1ULL << 30)
/* Readers refuse a larger MANIFEST.TXT (they hold it in memory); the
 * planner refuses a plan whose manifest would be larger. */
#define ARCHIVE_MANIFEST_MAX	(256ULL << 20)
/* the Ceph record: under the OSD's default largest write (90 MiB) */
#define ARCHIVE_CEPH_RECORD_MAX	(64ULL << 20)

struct archive_piece {
	uint64_t img_off;
	uint64_t len;
	uint32_t chunk;
	uint64_t chunk_off;
};

struct archive_chunk {
	uint32_t idx;
	uint32_t disc;			/* 1-based disc number */
	uint64_t length;
	size_t first_piece;		/* into plan->pieces */
	size_t npieces;
	char sha256[CDP_SHA256_HEX];	/* "" until known */
};

struct archive_disc_info {
	uint32_t no;			/* 1-based */
	char label[ARCHIVE_DISC_LABEL_LEN];
	uint32_t first_chunk;
	uint32_t nchunks;
	uint64_t data_bytes;
	uint64_t est_bytes;		/* planned ISO size, an upper bound */
};

/*
 * One archive. archive_plan_build() fills everything from the extents;
 * a manifest read from a disc fills the header, the disc table and only
 * that disc's chunks and pieces (chunks[i].idx tells which).
 */
struct archive_plan {
	char id[ARCHIVE_ID_LEN + 1];
	char volume[2 * ARCHIVE_NAME_MAX + 8];	/* catalog volume name (< ARCHIVE_NAME_MAX used) */
	char pool[ARCHIVE_NAME_MAX];	/* "" for a file source */
	char image[ARCHIVE_NAME_MAX];	/* image name or file path */
	char snap[ARCHIVE_NAME_MAX];	/* "" for a file source */
	int64_t snap_time;
	int64_t snap_seq;		/* -1: unknown (not a cdp snapshot) */
	int64_t created;
	uint64_t image_size;
	uint64_t chunk_size;
	uint64_t capacity;
	uint64_t data_bytes;
	uint64_t total_pieces;		/* in the whole archive */
	uint32_t total_chunks;		/* in the whole archive */

	struct archive_piece *pieces;
	size_t npieces;
	struct archive_chunk *chunks;
	uint32_t nchunks;
	struct archive_disc_info *discs;
	uint32_t ndiscs;

	uint32_t this_disc;		/* manifest read from a disc: its number */
	char image_sha256[CDP_SHA256_HEX];	/* "" unless known */
};

struct archive_extent {
	uint64_t off;
	uint64_t len;
};

/* ---- archive_plan.c ---- */

/*
 * Cut extents (sorted, non-overlapping) into chunks and discs of at most
 * capacity bytes each (ISO overhead included). The header fields (id,
 * names, sizes, times) must be set by the caller first. err gets the reason
 * on failure (e.g. capacity too small for one chunk).
 */
int archive_plan_build(struct archive_plan *p, const struct archive_extent *ext,
		       size_t next, char *err, size_t errlen);
void archive_plan_free(struct archive_plan *p);
/*
 * Does every disc's MANIFEST.TXT of a packed plan fit in max bytes? An upper
 * bound of its size is compared (exact for the chunk and piece lines).
 * -EFBIG with the disc and a larger --chunk-size to use in err if not.
 */
int archive_plan_check_manifest(const struct archive_plan *p, uint64_t max,
				char *err, size_t errlen);
/*
 * Does the all-disc manifest (the Ceph copy of the record, one object
 * written at once) fit in max bytes? -EFBIG and a larger --chunk-size in
 * err if not. archive_plan_build() checks it for plans with a pool.
 */
int archive_plan_check_ceph_record(const struct archive_plan *p, uint64_t max,
				   char *err, size_t errlen);
/* That upper bound for disc no's manifest. */
uint64_t archive_plan_manifest_size(const struct archive_plan *p, uint32_t no);

/* The chunk's file name on the disc, e.g. "chunks/00000012.bin". */
void archive_chunk_path(uint32_t idx, char *buf, size_t len);

/* Find the chunk with index idx among p->chunks (NULL if not on it). */
struct archive_chunk *archive_plan_chunk(struct archive_plan *p, uint32_t idx);

/* Labels: [A-Za-z0-9_-], 1..ARCHIVE_LABEL_MAX characters. */
int archive_label_valid(const char *label);

/* ---- archive_manifest.c ---- */

/*
 * Render disc no's MANIFEST.TXT (no = 0: every disc, for Ceph). Chunk hashes
 * not known yet are rendered as 64 '0's so the length is final before the
 * data has been read (libisofs needs file sizes up front). Returns a
 * malloc()ed NUL-terminated string, *len its length; NULL on ENOMEM.
 */
char *archive_manifest_render(const struct archive_plan *p, uint32_t no,
			      size_t *len);
/* Parse a manifest into p (zeroed first). err names the bad line. */
int archive_manifest_parse(const char *text, size_t len, struct archive_plan *p,
			   char *err, size_t errlen);

/* README.TXT for disc no: for a human without cdp; first lines are fields
 * ("Archive-Id:", "Disc: N of M", "Label:") that identify a disc even when
 * its manifest cannot be read. */
char *archive_readme_render(const struct archive_plan *p, uint32_t no,
			    size_t *len);
/* Pull those fields back; 0 if all three found. */
int archive_readme_identify(const char *text, char id[ARCHIVE_ID_LEN + 1],
			    uint32_t *no, uint32_t *of, char *label,
			    size_t label_len);

#endif
