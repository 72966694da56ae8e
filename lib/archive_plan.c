// SPDX-License-Identifier: GPL-2.0
/*
 * archive_plan.c - extents -> pieces -> chunks -> discs.
 *
 * The disc size must be known before writing (a stdio pseudo-drive has no
 * size and a real one must not run out mid-track), so packing uses an upper
 * bound of what libisofs adds per file; archive_iso.c then checks the exact
 * image size before burning.
 */
#include "archive.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SECTOR			2048ULL
/* System area, volume descriptors, path tables, root and chunks dirs of
 * the three trees (ISO 9660, Rock Ridge, Joliet), README: generous. */
#define ISO_BASE_COST		(512ULL << 10)
/* Directory records of one file in the three trees, Rock Ridge fields. */
#define ISO_FILE_COST		768ULL
/* Longest manifest lines (20-digit numbers). */
#define MANIFEST_CHUNK_LINE	128ULL
#define MANIFEST_PIECE_LINE	96ULL
#define MANIFEST_DISC_LINE	(64ULL + ARCHIVE_LABEL_MAX)
#define MANIFEST_HEADER		(4096ULL + 4 * ARCHIVE_NAME_MAX)

void archive_chunk_path(uint32_t idx, char *buf, size_t len)
{
	snprintf(buf, len, "chunks/%08u.bin", idx);
}

int archive_label_valid(const char *label)
{
	size_t n = strlen(label);
	const char *s;

	if (n == 0 || n > ARCHIVE_LABEL_MAX)
		return 0;
	for (s = label; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_')
			return 0;
	return 1;
}

struct archive_chunk *archive_plan_chunk(struct archive_plan *p, uint32_t idx)
{
	uint32_t i;

	/* chunks are stored in index order: try the direct slot first */
	if (p->nchunks && idx >= p->chunks[0].idx &&
	    idx - p->chunks[0].idx < p->nchunks &&
	    p->chunks[idx - p->chunks[0].idx].idx == idx)
		return &p->chunks[idx - p->chunks[0].idx];
	for (i = 0; i < p->nchunks; i++)
		if (p->chunks[i].idx == idx)
			return &p->chunks[i];
	return NULL;
}

void archive_plan_free(struct archive_plan *p)
{
	free(p->pieces);
	free(p->chunks);
	free(p->discs);
	p->pieces = NULL;
	p->chunks = NULL;
	p->discs = NULL;
	p->npieces = p->nchunks = p->ndiscs = 0;
}

/* Cut the extents at chunk boundaries; fill pieces and chunks. */
static int cut_pieces(struct archive_plan *p, const struct archive_extent *ext,
		      size_t next)
{
	size_t i, cap = next + 16;
	uint64_t pos = 0;	/* offset in the concatenated data stream */

	p->data_bytes = 0;
	for (i = 0; i < next; i++)
		p->data_bytes += ext[i].len;
	p->nchunks = (uint32_t)DIV_ROUND_UP(p->data_bytes, p->chunk_size);
	p->chunks = calloc(p->nchunks ? p->nchunks : 1, sizeof(*p->chunks));
	p->pieces = malloc(cap * sizeof(*p->pieces));
	if (!p->chunks || !p->pieces)
		return -ENOMEM;

	for (i = 0; i < next; i++) {
		uint64_t off = ext[i].off, left = ext[i].len;

		while (left) {
			uint32_t c = (uint32_t)(pos / p->chunk_size);
			uint64_t coff = pos % p->chunk_size;
			uint64_t n = p->chunk_size - coff < left ?
				     p->chunk_size - coff : left;
			struct archive_piece *pc;

			if (p->npieces == cap) {
				void *np = realloc(p->pieces,
						   2 * cap * sizeof(*p->pieces));
				if (!np)
					return -ENOMEM;
				p->pieces = np;
				cap *= 2;
			}
			pc = &p->pieces[p->npieces];
			*pc = (struct archive_piece){ off, n, c, coff };
			if (coff == 0) {
				p->chunks[c].idx = c;
				p->chunks[c].first_piece = p->npieces;
			}
			p->chunks[c].npieces++;
			p->chunks[c].length += n;
			p->npieces++;
			pos += n;
			off += n;
			left -= n;
		}
	}
	p->total_chunks = p->nchunks;
	p->total_pieces = p->npieces;
	return 0;
}

static uint64_t chunk_cost(const struct archive_chunk *c)
{
	return ROUND_UP(c->length, SECTOR) + ISO_FILE_COST +
	       MANIFEST_CHUNK_LINE + c->npieces * MANIFEST_PIECE_LINE;
}

static uint64_t disc_base_cost(uint32_t ndiscs)
{
	return ISO_BASE_COST + MANIFEST_HEADER + ndiscs * MANIFEST_DISC_LINE;
}

/* Greedy packing for an assumed disc count (it sizes the disc table). */
static int pack(struct archive_plan *p, uint32_t assumed, char *err,
		size_t errlen)
{
	uint64_t base = disc_base_cost(assumed);
	uint32_t i, d = 0, cap = 8;

	free(p->discs);
	p->discs = calloc(cap, sizeof(*p->discs));
	if (!p->discs)
		return -ENOMEM;
	p->discs[0] = (struct archive_disc_info){ .no = 1, .est_bytes = base };
	for (i = 0; i < p->nchunks; i++) {
		struct archive_chunk *c = &p->chunks[i];
		uint64_t cost = chunk_cost(c);

		if (base + cost > p->capacity) {
			char need[16], have[16];

			snprintf(err, errlen,
				 "capacity %s is too small: one disc needs at least %s (one chunk of %llu bytes plus ISO and manifest overhead); use a larger --capacity or a smaller --chunk-size",
				 cdp_fmt_size(p->capacity, have, sizeof(have)),
				 cdp_fmt_size(base + cost, need, sizeof(need)),
				 (unsigned long long)c->length);
			return -ENOSPC;
		}
		if (p->discs[d].est_bytes + cost > p->capacity) {
			if (++d == cap) {
				void *nd = realloc(p->discs, 2 * cap * sizeof(*p->discs));
				if (!nd)
					return -ENOMEM;
				p->discs = nd;
				cap *= 2;
			}
			p->discs[d] = (struct archive_disc_info){
				.no = d + 1, .first_chunk = i, .est_bytes = base };
		}
		c->disc = d + 1;
		p->discs[d].nchunks++;
		p->discs[d].data_bytes += c->length;
		p->discs[d].est_bytes += cost;
	}
	p->ndiscs = d + 1;
	return 0;
}

static uint64_t digits(uint64_t v)
{
	uint64_t n = 1;

	while (v >= 10) {
		v /= 10;
		n++;
	}
	return n;
}

/*
 * Disc no's manifest, as archive_manifest_render() writes it: the header
 * and disc table by their upper bounds, chunk and piece lines exactly
 * (they are what grows: ~140 bytes per chunk).
 */
uint64_t archive_plan_manifest_size(const struct archive_plan *p, uint32_t no)
{
	const struct archive_disc_info *d = &p->discs[no - 1];
	uint64_t size = MANIFEST_HEADER + p->ndiscs * MANIFEST_DISC_LINE;
	uint32_t i;
	size_t j;

	for (i = d->first_chunk; i < d->first_chunk + d->nchunks; i++) {
		const struct archive_chunk *c = &p->chunks[i];

		/* "chunk I D LEN SHA256 chunks/NNNNNNNN.bin\n" */
		size += strlen("chunk    \n") + digits(c->idx) + digits(c->disc) +
			digits(c->length) + 64 + strlen("chunks/.bin") +
			(digits(c->idx) > 8 ? digits(c->idx) : 8);
		for (j = c->first_piece; j < c->first_piece + c->npieces; j++) {
			const struct archive_piece *pc = &p->pieces[j];

			/* "piece C COFF IMGOFF LEN\n" */
			size += strlen("piece    \n") + digits(pc->chunk) +
				digits(pc->chunk_off) + digits(pc->img_off) +
				digits(pc->len);
		}
	}
	return size;
}

/*
 * A --chunk-size to suggest when a manifest of @size bytes (written with
 * the plan's chunk size) exceeds @max: the number of chunk lines scales
 * with 1/chunk size, so double it until the manifest would take half of max.
 */
static uint64_t suggest_chunk(const struct archive_plan *p, uint64_t size, uint64_t max)
{
	uint64_t chunk = p->chunk_size;

	while (chunk < ARCHIVE_CHUNK_MAX && size / (chunk / p->chunk_size) > max / 2)
		chunk *= 2;
	return chunk;
}

int archive_plan_check_manifest(const struct archive_plan *p, uint64_t max,
				char *err, size_t errlen)
{
	uint32_t no;

	for (no = 1; no <= p->ndiscs; no++) {
		uint64_t size = archive_plan_manifest_size(p, no);
		char a[16], b[16], c[16], e[16];

		if (size <= max)
			continue;
		snprintf(err, errlen,
			 "manifest too large: disc %u's MANIFEST.TXT would be %s (%u chunks of %s), over the %s a disc can be read back with; use a larger --chunk-size (e.g. %s)",
			 no, cdp_fmt_size(size, a, sizeof(a)), p->discs[no - 1].nchunks,
			 cdp_fmt_size(p->chunk_size, b, sizeof(b)),
			 cdp_fmt_size(max, c, sizeof(c)),
			 cdp_fmt_size(suggest_chunk(p, size, max), e, sizeof(e)));
		return -EFBIG;
	}
	return 0;
}

int archive_plan_build(struct archive_plan *p, const struct archive_extent *ext,
		       size_t next, char *err, size_t errlen)
{
	uint32_t assumed = 1;
	int ret;

	if (p->chunk_size < ARCHIVE_CHUNK_MIN || p->chunk_size > ARCHIVE_CHUNK_MAX) {
		snprintf(err, errlen, "chunk size %llu is out of range (%llu..%llu bytes)",
			 (unsigned long long)p->chunk_size,
			 (unsigned long long)ARCHIVE_CHUNK_MIN,
			 (unsigned long long)ARCHIVE_CHUNK_MAX);
		return -EINVAL;
	}
	ret = cut_pieces(p, ext, next);
	if (ret) {
		snprintf(err, errlen, "out of memory planning %zu extents", next);
		return ret;
	}
	/* The disc table grows with the disc count: repack until stable. */
	for (;;) {
		ret = pack(p, assumed, err, errlen);
		if (ret)
			return ret;
		if (p->ndiscs <= assumed)
			break;
		assumed = p->ndiscs;
	}
	/* a disc whose manifest cannot be read back would fail its verify
	 * after burning, and could not be restored */
	ret = archive_plan_check_manifest(p, ARCHIVE_MANIFEST_MAX, err, errlen);
	if (!ret && p->pool[0])
		ret = archive_plan_check_ceph_record(p, ARCHIVE_CEPH_RECORD_MAX, err, errlen);
	return ret;
}

/*
 * The Ceph copy of the record is the manifest of every disc in one object,
 * written in one operation: refused here, before any disc is burned, if it
 * would not fit, rather than failing after the last disc.
 */
int archive_plan_check_ceph_record(const struct archive_plan *p, uint64_t max,
				   char *err, size_t errlen)
{
	uint64_t size = MANIFEST_HEADER + p->ndiscs * MANIFEST_DISC_LINE;
	char a[16], b[16], c[16];
	uint32_t no;

	for (no = 1; no <= p->ndiscs; no++)	/* each disc's lines, its header once */
		size += archive_plan_manifest_size(p, no) - MANIFEST_HEADER -
			p->ndiscs * MANIFEST_DISC_LINE;
	if (size <= max)
		return 0;
	snprintf(err, errlen,
		 "manifest too large: the record of all %u discs kept in Ceph would be %s, over the %s one Ceph write takes; use a larger --chunk-size (e.g. %s)",
		 p->ndiscs, cdp_fmt_size(size, a, sizeof(a)), cdp_fmt_size(max, b, sizeof(b)),
		 cdp_fmt_size(suggest_chunk(p, size, max), c, sizeof(c)));
	return -EFBIG;
}
