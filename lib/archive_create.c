// SPDX-License-Identifier: GPL-2.0
/* archive_create.c - see archive_create.h */
#include "archive_create.h"
#include "archive_catalog.h"
#include "archive_ceph.h"
#include "archive_drive.h"
#include "archive_iso.h"
#include "archive_source.h"
#include "archive_verify.h"
#include "progress.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libburn/libburn.h>

struct create_ctx {
	const struct archive_create_opts *o;
	struct archive_plan *p;
	struct archive_source *src;
	struct archive_iso_writer *w;
	struct archive_burn_rec *burns;
	size_t nburns;
	char *err;
	size_t errlen;
};

/* Manifest fields are blank-separated words: refuse names that are not. */
static int name_ok(const char *what, const char *s, char *err, size_t errlen)
{
	const char *c;

	for (c = s; *c; c++) {
		if (isspace((unsigned char)*c) || iscntrl((unsigned char)*c)) {
			snprintf(err, errlen, "%s \"%s\" contains blanks or control characters, which archives do not support",
				 what, s);
			return -EINVAL;
		}
	}
	if (strlen(s) >= ARCHIVE_NAME_MAX) {
		snprintf(err, errlen, "%s \"%.40s...\" is too long for an archive", what, s);
		return -EINVAL;
	}
	return 0;
}

/* No --capacity: what the first drive's medium reports (a real BD-R says
 * its size), else the smallest BD-R class. */
static uint64_t medium_capacity(const struct archive_create_opts *o)
{
	struct archive_drive *d;
	uint64_t room = 0;
	char err[256];

	if (o->ndrives && !archive_drive_open(o->drives[0], &d, err, sizeof(err))) {
		room = archive_drive_room(d);
		archive_drive_close(d);
	}
	if (!room)
		cdp_parse_capacity("25G", &room);
	return room;
}

static int plan_header(struct create_ctx *x)
{
	const struct archive_source_info *si = archive_source_info(x->src);
	struct archive_plan *p = x->p;
	int ret;

	if (cdp_random_id(p->id)) {
		snprintf(x->err, x->errlen, "no random numbers for an archive id");
		return -EIO;
	}
	snprintf(p->pool, sizeof(p->pool), "%s", si->pool);
	snprintf(p->image, sizeof(p->image), "%s", si->image);
	snprintf(p->snap, sizeof(p->snap), "%s", si->snap);
	p->image_size = si->size;
	p->snap_time = si->snap_time;
	p->created = (int64_t)cdp_now();
	p->chunk_size = x->o->chunk_size ? x->o->chunk_size : ARCHIVE_CHUNK_DEFAULT;
	p->capacity = x->o->capacity ? x->o->capacity : medium_capacity(x->o);
	ret = archive_catalog_lookup(x->o->cat, p);
	if (ret) {
		snprintf(x->err, x->errlen, "%s", catalog_errmsg(x->o->cat));
		return ret;
	}
	if (name_ok("pool", p->pool, x->err, x->errlen) ||
	    name_ok("image", p->image, x->err, x->errlen) ||
	    name_ok("snapshot", p->snap, x->err, x->errlen) ||
	    name_ok("volume", p->volume, x->err, x->errlen))
		return -EINVAL;
	if (!p->image_size) {
		snprintf(x->err, x->errlen, "%s is empty: nothing to archive", x->o->source);
		return -EINVAL;
	}
	return 0;
}

static int plan_discs(struct create_ctx *x)
{
	struct archive_plan *p = x->p;
	struct archive_extent *ext;
	size_t next;
	char base[ARCHIVE_LABEL_MAX + 1];
	uint32_t i;
	int ret;

	ret = archive_source_extents(x->src, &ext, &next, x->err, x->errlen);
	if (ret)
		return ret;
	ret = archive_plan_build(p, ext, next, x->err, x->errlen);
	free(ext);
	if (ret)
		return ret;
	if (x->o->label)
		snprintf(base, sizeof(base), "%s", x->o->label);
	else
		snprintf(base, sizeof(base), "CDP-%.8s", p->id);
	for (i = 0; i < p->ndiscs; i++)
		snprintf(p->discs[i].label, sizeof(p->discs[i].label), "%s-%u", base,
			 i + 1);
	return archive_catalog_check_labels(x->o->cat, p, x->err, x->errlen);
}

/*
 * Everything that can be known before writing is checked here, for every
 * drive given: a problem found later would leave a half-written set.
 */
static int precheck_drives(struct create_ctx *x)
{
	const struct archive_create_opts *o = x->o;
	struct archive_plan *p = x->p;
	size_t i, j, n = o->ndrives < p->ndiscs ? o->ndrives : p->ndiscs;
	char cap[16], data[16];
	int ret;

	if (o->ndrives < p->ndiscs && !o->interactive) {
		snprintf(x->err, x->errlen,
			 "capacity exhausted: %s of data in %u chunks needs %u discs of %s, but %zu drive(s) were given; give %u --drive arguments, a larger --capacity, or run on a terminal to be prompted for each medium",
			 cdp_fmt_size(p->data_bytes, data, sizeof(data)), p->nchunks,
			 p->ndiscs, cdp_fmt_size(p->capacity, cap, sizeof(cap)),
			 o->ndrives, p->ndiscs);
		return -ENOSPC;
	}
	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++)
			if (!strcmp(o->drives[i], o->drives[j])) {
				snprintf(x->err, x->errlen,
					 "drive %s is given twice: in batch mode each disc needs its own drive or pseudo-drive",
					 o->drives[i]);
				return -EINVAL;
			}
	for (i = 0; i < n; i++) {
		struct archive_drive *d;

		ret = archive_drive_open(o->drives[i], &d, x->err, x->errlen);
		if (ret)
			return ret;
		ret = archive_drive_check_blank(d, p->discs[i].est_bytes, x->err, x->errlen);
		archive_drive_close(d);
		if (ret)
			return ret;
	}
	return 0;
}

/* Interactive: ask for the medium of disc no in drive dflt (Enter) or
 * another one; returns NULL to abort. */
static const char *prompt_drive(struct create_ctx *x, uint32_t no, const char *dflt,
				char *buf, size_t len)
{
	fprintf(stderr, "Insert a blank medium for disc %u of %u (label %s) into %s and press Enter\n",
		no, x->p->ndiscs, x->p->discs[no - 1].label, dflt);
	return archive_drive_answer(dflt, buf, len);
}

/*
 * The drive and blank medium for disc no: its own --drive, else asked for.
 * Interactively, a medium that cannot be used (no medium, not blank, wrong
 * type, too small, no such drive) is only refused and asked for again:
 * nothing of this disc was written, the discs before it are good. In
 * batch mode it ends the archive. *addr may point into buf.
 */
static int get_medium(struct create_ctx *x, uint32_t no, char *buf, size_t len,
		      const char **addr, struct archive_drive **d)
{
	const struct archive_create_opts *o = x->o;
	char dflt[4200];
	int ret;

	snprintf(dflt, sizeof(dflt), "%s", o->ndrives ? o->drives[o->ndrives - 1] : "");
	*addr = no <= o->ndrives ? o->drives[no - 1] : NULL;
	for (;;) {
		if (!*addr)
			*addr = prompt_drive(x, no, dflt, buf, len);
		if (!*addr) {
			snprintf(x->err, x->errlen, "stopped by the user before disc %u of %u",
				 no, x->p->ndiscs);
			return -ECANCELED;
		}
		ret = archive_drive_open(*addr, d, x->err, x->errlen);
		if (ret && !o->interactive)
			return ret;
		if (!ret) {
			ret = archive_drive_check_blank(*d, x->p->discs[no - 1].est_bytes,
							x->err, x->errlen);
			if (!ret || !o->interactive)
				return ret;
			archive_drive_close(*d);
			/* that drive is the default now: swap the medium, Enter */
			snprintf(dflt, sizeof(dflt), "%s", *addr);
		}
		*d = NULL;
		fprintf(stderr, "cdpctl: error: %s; nothing was written for disc %u of %u\n",
			x->err, no, x->p->ndiscs);
		x->err[0] = '\0';
		*addr = NULL;
	}
}

static void tick(void *prog, uint64_t written)
{
	progress_update(prog, written);
}

/* Write disc no to the blank medium in d (get_medium); closes d. */
static int write_disc(struct create_ctx *x, uint32_t no, const char *addr,
		      struct archive_drive *d, struct archive_burn_rec *r)
{
	struct archive_plan *p = x->p;
	struct burn_source *src = NULL;
	struct progress prog;
	char title[64], sz[16];
	uint64_t size = 0;
	int ret;

	snprintf(r->medium, sizeof(r->medium), "%s", archive_drive_medium(d));
	ret = archive_iso_build(x->w, no, &src, &size, x->err, x->errlen);
	if (ret)
		goto out;
	if (size > p->capacity) {
		snprintf(x->err, x->errlen,
			 "disc %u image is %llu bytes, over the capacity of %llu (planning error): use a smaller --chunk-size",
			 no, (unsigned long long)size, (unsigned long long)p->capacity);
		ret = -ENOSPC;
		goto out;
	}
	cdp_event("disc %u of %u (label %s): writing %s to %s", no, p->ndiscs,
		  p->discs[no - 1].label, cdp_fmt_size(size, sz, sizeof(sz)), addr);
	snprintf(title, sizeof(title), "disc %u/%u", no, p->ndiscs);
	progress_start(&prog, title, size);
	ret = archive_drive_write(d, src, size, tick, &prog, x->err, x->errlen);
	progress_end(&prog);
	/* joins libisofs' writer thread: the stream callbacks are done */
	burn_source_free(src);
	src = NULL;
	if (!ret)
		ret = archive_iso_result(x->w, x->err, x->errlen);
	r->bytes = size;
out:
	if (src)
		burn_source_free(src);
	archive_drive_close(d);
	return ret;
}

static void report_first(void *arg, const char *msg)
{
	struct create_ctx *x = arg;

	if (!x->err[0])
		snprintf(x->err, x->errlen, "verify after write: %s", msg);
}

static int burn_and_verify(struct create_ctx *x, uint32_t no, const char *addr,
			   struct archive_drive *d)
{
	struct archive_burn_rec *r = &x->burns[x->nburns++];
	struct archive_verify_result vr;
	double t;
	int ret;

	memset(r, 0, sizeof(*r));
	r->disc_no = no;
	snprintf(r->label, sizeof(r->label), "%s", x->p->discs[no - 1].label);
	snprintf(r->drive, sizeof(r->drive), "%s", addr);
	r->started = cdp_now();
	ret = write_disc(x, no, addr, d, r);
	r->ended = cdp_now();
	if (ret) {
		r->result = "write-failed";
		snprintf(r->error, sizeof(r->error), "%s", x->err);
		return ret;
	}
	cdp_event("disc %u of %u written in %.1f s (%.1f MB/s); verifying", no,
		  x->p->ndiscs, r->ended - r->started,
		  r->bytes / 1e6 / (r->ended - r->started > 0 ? r->ended - r->started : 1e-9));
	t = cdp_mono();
	x->err[0] = '\0';
	ret = archive_verify_disc(addr, x->p, no, &vr, report_first, x);
	r->verify_s = cdp_mono() - t;
	if (ret) {
		r->result = "verify-failed";
		snprintf(r->error, sizeof(r->error), "%s", x->err);
		return ret;
	}
	r->result = "ok";
	cdp_event("disc %u of %u verified: %u chunks good (%.1f s)", no, x->p->ndiscs,
		  vr.chunks_ok, r->verify_s);
	return 0;
}

static int write_all(struct create_ctx *x)
{
	char line[4200];
	uint32_t no;
	int ret;

	ret = archive_iso_writer_new(x->p, x->src, &x->w);
	if (ret) {
		snprintf(x->err, x->errlen, "out of memory");
		return ret;
	}
	for (no = 1; no <= x->p->ndiscs; no++) {
		struct archive_drive *d;
		const char *addr;

		ret = get_medium(x, no, line, sizeof(line), &addr, &d);
		if (!ret)
			ret = burn_and_verify(x, no, addr, d);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * Once writing started the attempt is recorded whatever happened: a failed
 * archive keeps its burn records. The Ceph copy is made for complete
 * archives only.
 */
static int record(struct create_ctx *x, int wret)
{
	char cerr[4800];
	int ret;

	ret = archive_catalog_record(x->o->cat, x->p, wret ? "failed" : "complete",
				     wret ? x->err : NULL, x->burns, x->nburns,
				     cerr, sizeof(cerr));
	if (wret) {
		if (ret)
			cdp_event("warning: the failed attempt could not be recorded: %s", cerr);
		return wret;
	}
	if (ret) {
		snprintf(x->err, x->errlen, "the discs are good but %s", cerr);
		return ret;
	}
	if (x->p->pool[0]) {
		ret = archive_ceph_record(x->p, cerr, sizeof(cerr));
		if (!ret)
			ret = archive_ceph_publish_snapshot(x->o->cat, x->p, cerr, sizeof(cerr));
		if (ret)
			snprintf(x->err, x->errlen,
				 "the discs are good and cataloged, but the Ceph copy of the record failed: %s",
				 cerr);
	}
	return ret;
}

int archive_create(const struct archive_create_opts *o, struct archive_plan *plan,
		   char *err, size_t errlen)
{
	struct create_ctx x = { .o = o, .p = plan, .err = err, .errlen = errlen };
	int ret;

	memset(plan, 0, sizeof(*plan));
	err[0] = '\0';
	ret = archive_libs_init(err, errlen);
	if (!ret)
		ret = archive_source_open(o->source, &x.src, err, errlen);
	if (!ret)
		ret = plan_header(&x);
	if (!ret)
		ret = plan_discs(&x);
	if (!ret)
		ret = precheck_drives(&x);
	if (ret)
		goto out;
	cdp_event("archive %s: %s, %llu data bytes in %u chunks on %u disc(s)", plan->id,
		  o->source, (unsigned long long)plan->data_bytes, plan->nchunks,
		  plan->ndiscs);
	x.burns = calloc(plan->ndiscs, sizeof(*x.burns));
	if (!x.burns) {
		ret = -ENOMEM;
		goto out;
	}
	ret = record(&x, write_all(&x));
out:
	archive_iso_writer_free(x.w);
	archive_source_close(x.src);
	free(x.burns);
	return ret;
}
