// SPDX-License-Identifier: GPL-2.0
/*
 * archive_restore.c - see archive_restore.h. Discs are taken one at a time
 * (a list of drives, or prompts for one drive): open, identify, refuse or
 * restore its verified chunks, close.
 */
#include "archive_restore.h"
#include "archive_disc.h"
#include "archive_drive.h"
#include "archive_target.h"
#include "progress.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Per chunk. A chunk that failed its check on one copy of a disc may come
 * good from another copy: only chunks still failed (or never seen) at the
 * end make the restore incomplete.
 */
enum { CHUNK_UNSEEN, CHUNK_FAILED, CHUNK_GOOD };

struct restore {
	const struct archive_restore_opts *o;
	size_t next;			/* batch: next drive to read */
	char id[ARCHIVE_ID_LEN + 1];	/* "" until a disc (or the caller) says */
	/* from the first good disc: sizes and the disc table (no chunks) */
	struct archive_plan hdr;
	unsigned char *done;		/* per disc number - 1: DISC_* */
	unsigned char *chunk;		/* per chunk index: CHUNK_* */
	char image_sha256[CDP_SHA256_HEX];	/* from the last disc */
	unsigned int problems;
	int image_bad;			/* the whole-image SHA-256 did not match */
	struct archive_target *t;
	uint8_t *buf;			/* one chunk */
	struct progress prog;
	uint64_t bytes;
	char *err;
	size_t errlen;
};

#define DISC_DONE	1	/* all its chunks good */
#define DISC_GIVEN	2	/* a copy of it was read */

static void vsay(struct restore *r, int counts, const char *fmt, va_list ap)
{
	fputs("cdpctl: error: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	if (counts)
		r->problems++;
}

/* A chunk failed its check: said now, counted at the end if no other
 * copy of its disc brings it. */
static void chunk_failed(struct restore *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void chunk_failed(struct restore *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsay(r, 0, fmt, ap);
	va_end(ap);
}

/* Something wrong with the data: the restore cannot be complete. */
static void problem(struct restore *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void problem(struct restore *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsay(r, 1, fmt, ap);
	va_end(ap);
}

/*
 * A disc that cannot be used. In batch mode the discs were given as this
 * archive's, so that is a problem; at the prompt the operator just put in
 * the wrong disc and is asked again.
 */
static void refuse(struct restore *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void refuse(struct restore *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsay(r, !r->o->prompt_drive, fmt, ap);
	va_end(ap);
}

/* Are all chunks of disc no (1-based) restored? */
static int disc_done(const struct restore *r, uint32_t no)
{
	const struct archive_disc_info *di = &r->hdr.discs[no - 1];
	uint32_t c;

	for (c = di->first_chunk; c < di->first_chunk + di->nchunks; c++)
		if (r->chunk[c] != CHUNK_GOOD)
			return 0;
	return 1;
}

/* How many chunks of disc no failed on every copy so far; *first the lowest. */
static uint32_t disc_failed(const struct restore *r, uint32_t no, uint32_t *first)
{
	const struct archive_disc_info *di = &r->hdr.discs[no - 1];
	uint32_t c, n = 0;

	for (c = di->first_chunk; c < di->first_chunk + di->nchunks; c++)
		if (r->chunk[c] == CHUNK_FAILED && !n++)
			*first = c;
	return n;
}

/* The next disc's drive address, or NULL when there are no more. */
static const char *next_drive(struct restore *r, char *buf, size_t len)
{
	const struct archive_restore_opts *o = r->o;
	uint32_t n, first, failed;

	if (!o->prompt_drive)
		return r->next < o->ndrives ? o->drives[r->next++] : NULL;
	/*
	 * Every disc once before a second copy of any: with one copy of each
	 * and a bad chunk on disc 1, the others still get restored (and the
	 * operator can stop at the prompt for another copy of disc 1).
	 */
	for (n = 0; r->hdr.ndiscs && n < r->hdr.ndiscs && r->done[n]; n++)
		;
	if (r->hdr.ndiscs && n == r->hdr.ndiscs)
		n = 0;
	for (; r->hdr.ndiscs && n < r->hdr.ndiscs && (r->done[n] & DISC_DONE); n++)
		;
	if (r->hdr.ndiscs && n == r->hdr.ndiscs)
		return NULL;	/* every disc restored */
	failed = r->hdr.ndiscs ? disc_failed(r, n + 1, &first) : 0;
	if (failed)
		fprintf(stderr, "Insert another copy of disc %u of %u (label %s), %u chunk(s) of it failed, into %s and press Enter\n",
			n + 1, r->hdr.ndiscs, r->hdr.discs[n].label, failed,
			o->prompt_drive);
	else if (r->hdr.ndiscs)
		fprintf(stderr, "Insert disc %u of %u (label %s) into %s and press Enter\n",
			n + 1, r->hdr.ndiscs, r->hdr.discs[n].label, o->prompt_drive);
	else
		fprintf(stderr, "Insert any disc of the archive into %s and press Enter\n",
			o->prompt_drive);
	return archive_drive_answer(o->prompt_drive, buf, len);
}

/* Name what a disc without manifest lost: the chunks cut off by truncation. */
static void report_lost_manifest(struct restore *r, struct archive_disc *d,
				 const char *name)
{
	uint32_t first_cut, ncut, nfiles;
	char path[64];

	archive_disc_cut_chunks(d, &first_cut, &ncut, &nfiles);
	if (ncut) {
		archive_chunk_path(first_cut, path, sizeof(path));
		refuse(r, "%s is truncated at byte %llu: chunk %u (%s) and %u more chunk file(s) are cut off, and MANIFEST.TXT with the hashes of its %u chunk(s) is lost; none restored",
			name, (unsigned long long)d->used, first_cut, path, ncut - 1,
			nfiles);
	} else {
		refuse(r, "%s: %s; none of its %u chunk(s) can be verified, none restored",
			name, d->manifest_err, nfiles);
	}
}

/* Keep the first good disc's header and disc table; open the target. */
static int take_header(struct restore *r, const struct archive_plan *m)
{
	int ret;

	r->hdr = *m;
	r->hdr.chunks = NULL;
	r->hdr.pieces = NULL;
	r->hdr.nchunks = 0;
	r->hdr.npieces = 0;
	r->hdr.discs = calloc(m->ndiscs, sizeof(*m->discs));
	r->done = calloc(m->ndiscs, 1);
	r->chunk = calloc(m->total_chunks ? m->total_chunks : 1, 1);
	r->buf = malloc(m->chunk_size);
	if (!r->hdr.discs || !r->done || !r->chunk || !r->buf) {
		snprintf(r->err, r->errlen, "out of memory for a chunk of %llu bytes",
			 (unsigned long long)m->chunk_size);
		return -ENOMEM;
	}
	memcpy(r->hdr.discs, m->discs, m->ndiscs * sizeof(*m->discs));
	ret = archive_target_open(r->o->target, m->image_size, &r->t, r->err, r->errlen);
	if (!ret)
		progress_start(&r->prog, "restore", m->data_bytes);
	return ret;
}

/*
 * Does disc manifest m describe the same archive as the first disc? The
 * chunk buffer was sized from the first disc's chunk_size, and the disc
 * table says which disc holds which chunks: a disc that differs in either
 * (damaged, edited, or a same-id disc of another run) must not be mixed in.
 */
static int same_shape(const struct archive_plan *first, const struct archive_plan *m)
{
	uint32_t i;

	if (m->ndiscs != first->ndiscs || m->image_size != first->image_size ||
	    m->chunk_size != first->chunk_size || m->total_chunks != first->total_chunks)
		return 0;
	for (i = 0; i < m->ndiscs; i++) {
		const struct archive_disc_info *a = &first->discs[i], *b = &m->discs[i];

		if (a->no != b->no || strcmp(a->label, b->label) ||
		    a->first_chunk != b->first_chunk || a->nchunks != b->nchunks ||
		    a->data_bytes != b->data_bytes)
			return 0;
	}
	return 1;
}

/*
 * Is d a good disc of our archive, not seen yet? Reports why not. The
 * first disc with a manifest names the archive when the caller did not.
 */
static int acceptable(struct restore *r, struct archive_disc *d, const char *name)
{
	if (!r->id[0] && d->manifest_ok)
		snprintf(r->id, sizeof(r->id), "%s", d->id);
	if (d->identified && r->id[0] && strcmp(d->id, r->id)) {
		refuse(r, "%s belongs to archive %s%s%s, not to archive %s: not used",
			name, d->id, d->manifest_ok ? " of " : "",
			d->manifest_ok ? d->m.volume : "", r->id);
		return 0;
	}
	if (!d->manifest_ok) {
		report_lost_manifest(r, d, name);
		return 0;
	}
	if (r->hdr.ndiscs && !same_shape(&r->hdr, &d->m)) {
		refuse(r, "%s disagrees with the other discs of archive %s (disc table, image size, chunk size or chunk count): not used",
			name, r->id);
		return 0;
	}
	if (r->done && (r->done[d->no - 1] & DISC_DONE)) {
		cdp_event("%s was given twice; the second copy is ignored", name);
		return 0;
	}
	return 1;
}

/* Write every chunk of d not restored yet that passes its check. */
static int restore_disc(struct restore *r, struct archive_disc *d)
{
	char err[4800];
	uint32_t i, todo = 0;
	size_t j;

	for (i = 0; i < d->m.nchunks; i++)
		todo += r->chunk[d->m.chunks[i].idx] != CHUNK_GOOD;
	cdp_event("restoring %u chunks from disc %u of %u (label %s)%s", todo,
		  d->no, d->of, d->label,
		  todo < d->m.nchunks ? ", the ones an earlier copy lacked" : "");
	for (i = 0; i < d->m.nchunks; i++) {
		const struct archive_chunk *c = &d->m.chunks[i];

		if (r->chunk[c->idx] == CHUNK_GOOD)
			continue;
		if (archive_disc_read_chunk(d, c->idx, r->buf, err, sizeof(err))) {
			chunk_failed(r, "%s; chunk not written", err);
			r->chunk[c->idx] = CHUNK_FAILED;
			continue;
		}
		if (r->chunk[c->idx] == CHUNK_FAILED)
			cdp_event("chunk %u is good on this copy: restored from it", c->idx);
		for (j = c->first_piece; j < c->first_piece + c->npieces; j++) {
			const struct archive_piece *pc = &d->m.pieces[j];
			int ret = archive_target_write(r->t, pc->img_off, r->buf + pc->chunk_off,
						       (size_t)pc->len);

			if (ret) {
				snprintf(r->err, r->errlen, "writing %s at byte %llu: %s",
					 archive_target_name(r->t),
					 (unsigned long long)pc->img_off, strerror(-ret));
				return ret;
			}
		}
		r->chunk[c->idx] = CHUNK_GOOD;
		r->bytes += c->length;
		progress_update(&r->prog, r->bytes);
	}
	r->done[d->no - 1] = DISC_GIVEN | (disc_done(r, d->no) ? DISC_DONE : 0);
	if (d->no == d->of)
		snprintf(r->image_sha256, sizeof(r->image_sha256), "%s", d->m.image_sha256);
	return 0;
}

/* One disc: open, check, restore, close. Only target errors stop the run. */
static int one_disc(struct restore *r, const char *addr)
{
	struct archive_disc *d;
	char err[4800], name[4400];
	int ret = 0;

	if (archive_disc_open(addr, &d, err, sizeof(err))) {
		refuse(r, "%s", err);
		return 0;
	}
	archive_disc_name(d, name, sizeof(name));
	if (acceptable(r, d, name)) {
		if (!r->hdr.ndiscs)
			ret = take_header(r, &d->m);
		if (!ret)
			ret = restore_disc(r, d);
	}
	archive_disc_close(d);
	return ret;
}

/* Name each disc that is not restored: absent, or chunks bad on every copy. */
static void report_missing(struct restore *r)
{
	uint32_t n, failed, first = 0;

	for (n = 0; n < r->hdr.ndiscs; n++) {
		const struct archive_disc_info *di = &r->hdr.discs[n];

		if (r->done[n] & DISC_DONE)
			continue;
		failed = disc_failed(r, n + 1, &first);
		if (failed)
			problem(r, "disc %u of %u (label %s) of archive %s: %u chunk(s) failed their check on every copy given (first: chunk %u): give another copy with --from-discs",
				di->no, r->hdr.ndiscs, di->label, r->id, failed, first);
		else
			problem(r, "disc %u of %u (label %s, chunks %u-%u) of archive %s is missing or unusable: give it with --from-discs",
				di->no, r->hdr.ndiscs, di->label, di->first_chunk,
				di->first_chunk + di->nchunks - (di->nchunks ? 1 : 0), r->id);
	}
}

/* Read the target back and compare with the last disc's image hash. */
static int check_image(struct restore *r)
{
	struct cdp_sha256 *h = cdp_sha256_new();
	uint64_t off, size = r->hdr.image_size, blk = r->hdr.chunk_size;
	char hex[CDP_SHA256_HEX];
	int ret = 0;

	if (!h)
		return -ENOMEM;
	cdp_event("checking the whole image against its SHA-256");
	for (off = 0; off < size && !ret; off += blk) {
		size_t n = size - off < blk ? (size_t)(size - off) : (size_t)blk;

		ret = archive_target_read(r->t, off, r->buf, n);
		if (!ret)
			cdp_sha256_update(h, r->buf, n);
	}
	cdp_sha256_final_hex(h, hex);
	cdp_sha256_free(h);
	if (ret)
		problem(r, "reading %s back: %s", archive_target_name(r->t), strerror(-ret));
	else if (strcmp(hex, r->image_sha256)) {
		problem(r, "restored image SHA-256 %s differs from the archive's %s", hex,
			r->image_sha256);
		r->image_bad = 1;
	}
	return 0;
}

static int finish(struct restore *r)
{
	int ret;

	if (!r->hdr.ndiscs) {
		snprintf(r->err, r->errlen, r->id[0] ?
			 "no usable disc of archive %s was given" :
			 "none of the discs has a readable manifest: nothing to restore",
			 r->id);
		return -EBADMSG;
	}
	progress_end(&r->prog);
	report_missing(r);
	if (!r->problems)
		check_image(r);
	if (r->image_bad) {
		/* every chunk passed its check, so the manifest put good data in
		 * wrong places (a version 1 manifest has no hash of its own) */
		snprintf(r->err, r->errlen,
			 "restore failed: every chunk passed its check but the image does not: a disc's manifest is wrong about where its data goes (damaged or edited); %s is NOT a good copy of the archive",
			 archive_target_name(r->t));
		return -EBADMSG;
	}
	if (r->problems) {
		snprintf(r->err, r->errlen,
			 "restore incomplete: %u problem(s) above; only chunks that passed their SHA-256 check were written, where their disc's manifest (itself checked since format 2) puts them; the part restored is in %s",
			 r->problems, archive_target_name(r->t));
		return -EBADMSG;
	}
	ret = archive_target_commit(r->t, r->err, r->errlen);
	if (!ret)
		cdp_event("restored archive %s (%llu bytes) to %s", r->id,
			  (unsigned long long)r->hdr.image_size, archive_target_name(r->t));
	return ret;
}

int archive_restore(const struct archive_restore_opts *o, char *err, size_t errlen)
{
	struct restore r = { .o = o, .err = err, .errlen = errlen };
	const char *addr;
	char line[4200];
	int ret = 0;

	err[0] = '\0';
	if (o->archive_id)
		snprintf(r.id, sizeof(r.id), "%s", o->archive_id);
	while (!ret && (addr = next_drive(&r, line, sizeof(line))))
		ret = one_disc(&r, addr);
	if (!ret)
		ret = finish(&r);
	archive_target_close(r.t);
	free(r.hdr.discs);
	free(r.done);
	free(r.chunk);
	free(r.buf);
	return ret;
}
