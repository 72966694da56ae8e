// SPDX-License-Identifier: GPL-2.0
/* archive_restore.c - see archive_restore.h */
#include "archive_restore.h"
#include "archive_disc.h"
#include "archive_target.h"
#include "progress.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct restore {
	const struct archive_restore_opts *o;
	struct archive_disc **discs;	/* as given; NULL if unreadable */
	struct archive_disc **by_no;	/* good discs by number - 1 */
	const struct archive_plan *hdr;	/* a good manifest: sizes, disc table */
	char id[ARCHIVE_ID_LEN + 1];
	unsigned int problems;
	struct archive_target *t;
	uint64_t done;
};

static void problem(struct restore *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void problem(struct restore *r, const char *fmt, ...)
{
	va_list ap;

	fputs("cdpctl: error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	r->problems++;
}

/* The archive to restore: given, else the first disc with a good manifest. */
static int choose_archive(struct restore *r)
{
	size_t i;

	if (r->o->archive_id) {
		snprintf(r->id, sizeof(r->id), "%s", r->o->archive_id);
		return 0;
	}
	for (i = 0; i < r->o->ndrives; i++)
		if (r->discs[i] && r->discs[i]->manifest_ok) {
			snprintf(r->id, sizeof(r->id), "%s", r->discs[i]->id);
			return 0;
		}
	return -ENOENT;
}

static void open_discs(struct restore *r)
{
	char err[4800];
	size_t i;

	for (i = 0; i < r->o->ndrives; i++)
		if (archive_disc_open(r->o->drives[i], &r->discs[i], err, sizeof(err)))
			problem(r, "%s", err);
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
		problem(r, "%s is truncated at byte %llu: chunk %u (%s) and %u more chunk file(s) are cut off, and MANIFEST.TXT with the hashes of its %u chunk(s) is lost; none restored",
			name, (unsigned long long)d->used, first_cut, path, ncut - 1,
			nfiles);
	} else {
		problem(r, "%s: %s; none of its %u chunk(s) can be verified, none restored",
			name, d->manifest_err, nfiles);
	}
}

/* Sort the given discs: good ones by number; report every other one. */
static int accept_discs(struct restore *r)
{
	char name[4400];
	size_t i;

	for (i = 0; i < r->o->ndrives; i++) {
		struct archive_disc *d = r->discs[i];

		if (!d)
			continue;
		archive_disc_name(d, name, sizeof(name));
		if (d->identified && strcmp(d->id, r->id)) {
			problem(r, "%s belongs to archive %s%s%s, not to archive %s: not used",
				name, d->id, d->manifest_ok ? " of " : "",
				d->manifest_ok ? d->m.volume : "", r->id);
		} else if (!d->manifest_ok) {
			report_lost_manifest(r, d, name);
		} else if (!r->hdr) {
			r->hdr = &d->m;
			r->by_no = calloc(d->m.ndiscs, sizeof(*r->by_no));
			if (!r->by_no)
				return -ENOMEM;
		}
		if (!d->manifest_ok || strcmp(d->id, r->id))
			continue;
		if (d->m.ndiscs != r->hdr->ndiscs || d->m.image_size != r->hdr->image_size) {
			problem(r, "%s disagrees with the other discs of archive %s: not used",
				name, r->id);
		} else if (r->by_no[d->no - 1]) {
			cdp_event("%s was given twice; the second copy is ignored", name);
		} else {
			r->by_no[d->no - 1] = d;
		}
	}
	return 0;
}

static void report_missing(struct restore *r)
{
	uint32_t n;

	for (n = 0; n < r->hdr->ndiscs; n++) {
		const struct archive_disc_info *di = &r->hdr->discs[n];

		if (!r->by_no[n])
			problem(r, "disc %u of %u (label %s, chunks %u-%u) of archive %s is missing or unusable: give it with --from-discs",
				di->no, r->hdr->ndiscs, di->label, di->first_chunk,
				di->first_chunk + di->nchunks - (di->nchunks ? 1 : 0), r->id);
	}
}

static int restore_disc(struct restore *r, struct archive_disc *d, uint8_t *buf,
			struct progress *prog)
{
	char err[4800];
	uint32_t i;
	size_t j;

	for (i = 0; i < d->m.nchunks; i++) {
		const struct archive_chunk *c = &d->m.chunks[i];

		if (archive_disc_read_chunk(d, c->idx, buf, err, sizeof(err))) {
			problem(r, "%s; chunk not written", err);
			continue;
		}
		for (j = c->first_piece; j < c->first_piece + c->npieces; j++) {
			const struct archive_piece *pc = &d->m.pieces[j];
			int ret = archive_target_write(r->t, pc->img_off,
						       buf + pc->chunk_off, (size_t)pc->len);

			if (ret) {
				problem(r, "writing %s at byte %llu: %s", archive_target_name(r->t),
					(unsigned long long)pc->img_off, strerror(-ret));
				return ret;
			}
		}
		r->done += c->length;
		progress_update(prog, r->done);
	}
	return 0;
}

/* Read the target back and compare with the last disc's image hash. */
static int check_image(struct restore *r, uint8_t *buf, size_t buflen)
{
	const struct archive_plan *last = &r->by_no[r->hdr->ndiscs - 1]->m;
	struct cdp_sha256 *h = cdp_sha256_new();
	char hex[CDP_SHA256_HEX];
	uint64_t off;
	int ret = 0;

	if (!h)
		return -ENOMEM;
	for (off = 0; off < last->image_size && !ret; off += buflen) {
		size_t n = last->image_size - off < buflen ? (size_t)(last->image_size - off) : buflen;

		ret = archive_target_read(r->t, off, buf, n);
		if (!ret)
			cdp_sha256_update(h, buf, n);
	}
	cdp_sha256_final_hex(h, hex);
	cdp_sha256_free(h);
	if (ret) {
		problem(r, "reading %s back: %s", archive_target_name(r->t), strerror(-ret));
		return ret;
	}
	if (strcmp(hex, last->image_sha256)) {
		problem(r, "restored image SHA-256 %s differs from the archive's %s", hex,
			last->image_sha256);
		return -EBADMSG;
	}
	return 0;
}

static int restore_all(struct restore *r, char *err, size_t errlen)
{
	const struct archive_plan *h = r->hdr;
	uint64_t total = 0;
	struct progress prog;
	uint8_t *buf;
	uint32_t n;
	int ret;

	ret = archive_target_open(r->o->target, h->image_size, &r->t, err, errlen);
	if (ret)
		return ret;
	buf = malloc(h->chunk_size);
	if (!buf) {
		snprintf(err, errlen, "out of memory for a chunk of %llu bytes",
			 (unsigned long long)h->chunk_size);
		return -ENOMEM;
	}
	for (n = 0; n < h->ndiscs; n++)
		total += h->discs[n].data_bytes;
	progress_start(&prog, "restore", total);
	/* in the order given: the operator feeds discs as they come */
	for (n = 0; n < r->o->ndrives && !ret; n++) {
		struct archive_disc *d = r->discs[n];

		if (d && d->manifest_ok && d->no && r->by_no[d->no - 1] == d) {
			cdp_event("restoring %u chunks from disc %u of %u (label %s)",
				  d->m.nchunks, d->no, d->of, d->label);
			ret = restore_disc(r, d, buf, &prog);
		}
	}
	progress_end(&prog);
	if (!ret && !r->problems) {
		cdp_event("checking the whole image against its SHA-256");
		ret = check_image(r, buf, h->chunk_size);
	}
	free(buf);
	if (!ret && !r->problems)
		ret = archive_target_commit(r->t, err, errlen);
	if (!ret && r->problems)
		ret = -EBADMSG;
	if (ret == -EBADMSG)
		snprintf(err, errlen,
			 "restore incomplete: %u problem(s) above; no unverified byte was written; the verified part is in %s",
			 r->problems, archive_target_name(r->t));
	else if (!ret)
		cdp_event("restored archive %s (%llu bytes) to %s", r->id,
			  (unsigned long long)h->image_size, archive_target_name(r->t));
	return ret;
}

int archive_restore(const struct archive_restore_opts *o, char *err, size_t errlen)
{
	struct restore r = { .o = o };
	size_t i;
	int ret;

	r.discs = calloc(o->ndrives, sizeof(*r.discs));
	if (!r.discs)
		return -ENOMEM;
	open_discs(&r);
	ret = choose_archive(&r);
	if (ret) {
		snprintf(err, errlen, "none of the %zu disc(s) has a readable manifest: nothing to restore",
			 o->ndrives);
		ret = -EBADMSG;
		goto out;
	}
	ret = accept_discs(&r);
	if (!ret && !r.hdr) {
		snprintf(err, errlen, "no usable disc of archive %s was given", r.id);
		ret = -EBADMSG;
	}
	if (ret)
		goto out;
	report_missing(&r);
	ret = restore_all(&r, err, errlen);
out:
	archive_target_close(r.t);
	for (i = 0; i < o->ndrives; i++)
		archive_disc_close(r.discs[i]);
	free(r.discs);
	free(r.by_no);
	return ret;
}
