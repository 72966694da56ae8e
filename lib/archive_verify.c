// SPDX-License-Identifier: GPL-2.0
/* archive_verify.c - see archive_verify.h */
#include "archive_verify.h"
#include "archive_disc.h"
#include "progress.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void say(archive_report_fn report, void *arg, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void say(archive_report_fn report, void *arg, const char *fmt, ...)
{
	char msg[4800];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (report)
		report(arg, msg);
}

/* The disc must be the one just written: same archive, same number. */
static int check_identity(struct archive_disc *d, const struct archive_plan *expect,
			  uint32_t expect_no, archive_report_fn report, void *arg)
{
	char name[4400];

	archive_disc_name(d, name, sizeof(name));
	if (strcmp(d->m.id, expect->id) || d->no != expect_no) {
		say(report, arg, "%s belongs to archive %s, expected disc %u of archive %s",
		    name, d->m.id, expect_no, expect->id);
		return -EBADMSG;
	}
	return 0;
}

static int check_chunks(struct archive_disc *d, const struct archive_plan *expect,
			struct archive_verify_result *res, archive_report_fn report,
			void *arg)
{
	uint8_t *buf = malloc(d->m.chunk_size);
	struct progress prog;
	char err[4800], name[4400];
	uint32_t i;

	if (!buf) {
		say(report, arg, "out of memory for a chunk of %llu bytes",
		    (unsigned long long)d->m.chunk_size);
		return -ENOMEM;
	}
	snprintf(name, sizeof(name), "verify disc %u/%u", d->no, d->of);
	progress_start(&prog, name, d->m.discs[d->no - 1].data_bytes);
	for (i = 0; i < d->m.nchunks; i++) {
		const struct archive_chunk *c = &d->m.chunks[i];
		const struct archive_chunk *want =
			expect ? archive_plan_chunk((struct archive_plan *)expect, c->idx) : NULL;

		if (archive_disc_read_chunk(d, c->idx, buf, err, sizeof(err))) {
			say(report, arg, "%s", err);
			res->chunks_bad++;
		} else if (expect && (!want || strcmp(want->sha256, c->sha256))) {
			say(report, arg, "%s: chunk %u differs from what was written",
			    archive_disc_name(d, name, sizeof(name)), c->idx);
			res->chunks_bad++;
		} else {
			res->chunks_ok++;
		}
		res->bytes += c->length;
		progress_update(&prog, res->bytes);
	}
	progress_end(&prog);
	free(buf);
	return res->chunks_bad ? -EBADMSG : 0;
}

int archive_verify_disc(const char *addr, const struct archive_plan *expect,
			uint32_t expect_no, struct archive_verify_result *res,
			archive_report_fn report, void *arg)
{
	struct archive_disc *d;
	char err[4800], name[4400];
	int ret;

	memset(res, 0, sizeof(*res));
	ret = archive_disc_open(addr, &d, err, sizeof(err));
	if (ret) {
		say(report, arg, "%s", err);
		return ret;
	}
	snprintf(res->id, sizeof(res->id), "%s", d->id);
	res->no = d->no;
	res->of = d->of;
	snprintf(res->label, sizeof(res->label), "%s", d->label);
	if (!d->manifest_ok) {
		say(report, arg, "%s: %s", archive_disc_name(d, name, sizeof(name)),
		    d->manifest_err);
		ret = -EBADMSG;
	} else if (expect) {
		ret = check_identity(d, expect, expect_no, report, arg);
	}
	if (!ret)
		ret = check_chunks(d, expect, res, report, arg);
	archive_disc_close(d);
	return ret;
}
