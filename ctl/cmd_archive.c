// SPDX-License-Identifier: GPL-2.0
/*
 * cmd_archive.c - `cdpctl archive create|restore|list|show|verify`.
 * Parsing and printing only; the work is in lib/archive_*.c.
 */
#include "cdpctl.h"
#include "archive_catalog.h"
#include "archive_ceph.h"
#include "archive_create.h"
#include "archive_disc.h"
#include "archive_restore.h"
#include "archive_verify.h"
#include "json_print.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_DRIVES	1024

/* `help` asked for: stdout and success; anything else is a usage error. */
static int usage_to(FILE *f, int code)
{
	fprintf(f,
		"Usage: cdpctl archive create SNAP --drive DRIVE [--drive DRIVE]...\n"
		"                             [--capacity CAP] [--chunk-size SIZE] [--label LABEL] [--batch]\n"
		"       cdpctl archive restore [ARCHIVE] { --from-discs DRIVE... | --drive DRIVE } --to TARGET\n"
		"       cdpctl archive verify DRIVE...\n"
		"       cdpctl archive show { DRIVE | ARCHIVE }\n"
		"       cdpctl archive list\n"
		"where  SNAP := { POOL/IMAGE@SNAP | file:PATH }\n"
		"       DRIVE := { /dev/srN | stdio:PATH }\n"
		"       CAP := { 25G | 50G | 100G | 128G | 200G | SIZE }   (default: the medium's, 25G on stdio:)\n"
		"       ARCHIVE := { ARCHIVE_ID | DISC_LABEL | POOL/IMAGE@SNAP }\n"
		"       TARGET := { POOL/IMAGE | FILE }   (FILE: a path starting with / or ./)\n");
	return code;
}

static int usage(void)
{
	return usage_to(stdout, CDP_EXIT_OK);
}

static int is_drive(const char *s)
{
	return !strncmp(s, "stdio:", 6) || !strncmp(s, "/dev/", 5);
}

static int fail(const char *err)
{
	fprintf(stderr, "Error: %s\n", err);
	return CDP_EXIT_FAIL;
}

/* ---- create ---- */

/* The disc table every manifest carries: number, label, chunk range. */
static void print_disc_table(const struct archive_plan *p)
{
	uint32_t i;

	open_json_array(PRINT_JSON, "discs");
	for (i = 0; i < p->ndiscs; i++) {
		open_json_object(NULL);
		print_uint(PRINT_ANY, "disc", "  disc %u", p->discs[i].no);
		print_string(PRINT_ANY, "label", " label %s", p->discs[i].label);
		print_uint(PRINT_ANY, "first_chunk", " chunks %u", p->discs[i].first_chunk);
		print_uint(PRINT_ANY, "chunks", "+%u", p->discs[i].nchunks);
		print_u64(PRINT_ANY, "data_bytes", " data_bytes %llu\n", p->discs[i].data_bytes);
		close_json_object();
	}
	close_json_array(PRINT_JSON, NULL);
}

static void print_plan(const struct archive_plan *p, const char *source)
{

	new_json_obj(json);
	open_json_object(NULL);
	print_string(PRINT_ANY, "archive", "archive %s\n", p->id);
	print_string(PRINT_ANY, "source", "  source %s\n", source);
	print_string(PRINT_ANY, "volume", "  volume %s\n", p->volume);
	print_u64(PRINT_ANY, "image_size", "  image_size %llu", p->image_size);
	print_u64(PRINT_ANY, "data_bytes", " data_bytes %llu", p->data_bytes);
	print_uint(PRINT_ANY, "chunks", " chunks %u\n", p->nchunks);
	print_string(PRINT_ANY, "image_sha256", "  image_sha256 %s\n", p->image_sha256);
	print_disc_table(p);
	close_json_object();
	delete_json_obj();
}

static void parse_size_arg(const char *val, uint64_t *out, int capacity)
{
	if ((capacity ? cdp_parse_capacity(val, out) : cdp_parse_size(val, out)) || !*out)
		invarg(capacity ? "expected 25G, 50G, 100G, 128G, 200G or a size like 700M" :
		       "expected a size like 32M", val);
}

static int archive_create_cmd(int argc, char **argv)
{
	static const char *drives[MAX_DRIVES];
	struct archive_create_opts o = { .drives = drives, .interactive = -1 };
	struct archive_plan plan;
	struct catalog *cat;
	char err[8192];
	int ret;

	for (; argc > 0; argc--, argv++) {
		if (!strcmp(*argv, "--drive")) {
			NEXT_ARG();
			if (o.ndrives == MAX_DRIVES)
				invarg("too many drives", *argv);
			drives[o.ndrives++] = *argv;
		} else if (!strcmp(*argv, "--capacity")) {
			NEXT_ARG();
			parse_size_arg(*argv, &o.capacity, 1);
		} else if (!strcmp(*argv, "--chunk-size")) {
			NEXT_ARG();
			parse_size_arg(*argv, &o.chunk_size, 0);
		} else if (!strcmp(*argv, "--label")) {
			NEXT_ARG();
			if (!archive_label_valid(*argv))
				invarg("a label is 1-24 characters of A-Z a-z 0-9 - _", *argv);
			o.label = *argv;
		} else if (!strcmp(*argv, "--batch")) {
			o.interactive = 0;
		} else if (!strcmp(*argv, "help")) {
			return usage();
		} else if (**argv == '-' || o.source) {
			fprintf(stderr, "Error: unknown argument \"%s\", try \"cdpctl archive help\".\n", *argv);
			return CDP_EXIT_USAGE;
		} else {
			o.source = *argv;
		}
	}
	if (!o.source) {
		fprintf(stderr, "Error: which snapshot? Give POOL/IMAGE@SNAP.\n");
		return CDP_EXIT_USAGE;
	}
	if (!o.ndrives) {
		fprintf(stderr, "Error: no drive: give --drive /dev/srN or --drive stdio:PATH.\n");
		return CDP_EXIT_USAGE;
	}
	if (o.interactive < 0)
		o.interactive = isatty(STDIN_FILENO) && isatty(STDERR_FILENO);
	if (cdpctl_catalog_open(&cat))
		return CDP_EXIT_FAIL;
	o.cat = cat;
	ret = archive_create(&o, &plan, err, sizeof(err));
	if (ret)
		fprintf(stderr, "Error: %s\n", err);
	else
		print_plan(&plan, o.source);
	archive_plan_free(&plan);
	catalog_close(cat);
	return ret ? CDP_EXIT_FAIL : CDP_EXIT_OK;
}

/* ---- verify ---- */

static void report_line(void *arg, const char *msg)
{
	fprintf(stderr, "Error: %s\n", msg);
}

static int archive_verify_cmd(int argc, char **argv)
{
	int bad = 0;

	if (argc < 1) {
		fprintf(stderr, "Error: which drive? Give stdio:PATH or /dev/srN.\n");
		return CDP_EXIT_USAGE;
	}
	new_json_obj(json);
	for (; argc > 0; argc--, argv++) {
		struct archive_verify_result r;
		int ret = archive_verify_disc(*argv, NULL, 0, &r, report_line, NULL);

		bad |= ret != 0;
		open_json_object(NULL);
		print_string(PRINT_ANY, "drive", "%s", *argv);
		print_string(PRINT_ANY, "archive", " archive %s", r.id[0] ? r.id : NULL);
		print_uint(PRINT_ANY, "disc", " disc %u", r.no);
		print_uint(PRINT_ANY, "of", " of %u", r.of);
		print_string(PRINT_ANY, "label", " label %s", r.label[0] ? r.label : NULL);
		print_uint(PRINT_ANY, "chunks_ok", " chunks_ok %u", r.chunks_ok);
		print_uint(PRINT_ANY, "chunks_bad", " chunks_bad %u", r.chunks_bad);
		print_string(PRINT_ANY, "result", " %s\n", ret ? "BAD" : "ok");
		close_json_object();
	}
	delete_json_obj();
	return bad ? CDP_EXIT_DATA : CDP_EXIT_OK;
}

/* ---- show DRIVE ---- */

static int show_disc(const char *addr)
{
	struct archive_disc *d;
	const struct archive_plan *m;
	char err[4800];

	if (archive_disc_open(addr, &d, err, sizeof(err)))
		return fail(err);
	if (!d->manifest_ok) {
		fprintf(stderr, "Error: %s: %s\n", archive_disc_name(d, err, sizeof(err)),
			d->manifest_err);
		archive_disc_close(d);
		return CDP_EXIT_DATA;
	}
	m = &d->m;
	new_json_obj(json);
	open_json_object(NULL);
	print_string(PRINT_ANY, "drive", "drive %s\n", addr);
	print_string(PRINT_ANY, "archive", "  archive %s", m->id);
	print_uint(PRINT_ANY, "disc", " disc %u", d->no);
	print_uint(PRINT_ANY, "of", " of %u", d->of);
	print_string(PRINT_ANY, "label", " label %s\n", d->label);
	print_string(PRINT_ANY, "volume", "  volume %s", m->volume);
	print_string(PRINT_ANY, "pool", " pool %s", m->pool[0] ? m->pool : NULL);
	print_string(PRINT_ANY, "image", " image %s", m->image);
	print_string(PRINT_ANY, "snapshot", " snapshot %s\n", m->snap[0] ? m->snap : NULL);
	print_u64(PRINT_ANY, "snapshot_time", "  snapshot_time %llu", (uint64_t)m->snap_time);
	print_u64(PRINT_ANY, "created", " created %llu\n", (uint64_t)m->created);
	print_u64(PRINT_ANY, "image_size", "  image_size %llu", m->image_size);
	print_u64(PRINT_ANY, "data_bytes", " data_bytes %llu", m->discs[d->no - 1].data_bytes);
	print_uint(PRINT_ANY, "chunks", " chunks %u", m->nchunks);
	print_u64(PRINT_ANY, "disc_bytes", " disc_bytes %llu\n", d->used);
	if (m->image_sha256[0])
		print_string(PRINT_ANY, "image_sha256", "  image_sha256 %s\n", m->image_sha256);
	print_disc_table(m);
	close_json_object();
	delete_json_obj();
	archive_disc_close(d);
	return CDP_EXIT_OK;
}

/* ---- list / show ARCHIVE (catalog) ---- */

static void print_burn(void *arg, const struct archive_burn_rec *b)
{
	double secs = b->ended - b->started;

	open_json_object(NULL);
	print_uint(PRINT_ANY, "disc", "  burn disc %u", b->disc_no);
	print_string(PRINT_ANY, "label", " label %s", b->label);
	print_string(PRINT_ANY, "drive", " drive %s", b->drive);
	print_string(PRINT_ANY, "medium", " medium %s", b->medium);
	print_float(PRINT_ANY, "started", " start %.3f", b->started);
	print_float(PRINT_ANY, "ended", " end %.3f", b->ended);
	print_u64(PRINT_ANY, "bytes", " bytes %llu", b->bytes);
	print_float(PRINT_ANY, "rate_bps", " rate %.0f B/s", secs > 0 ? b->bytes / secs : 0);
	print_float(PRINT_ANY, "verify_s", " verify %.2f s", b->verify_s);
	print_string(PRINT_ANY, "result", " %s", b->result);
	print_string(PRINT_JSON, "error", NULL, b->error[0] ? b->error : NULL);
	print_nl();
	close_json_object();
}

struct row_ctx {
	struct catalog *cat;
	int details;
};

static void print_archive_row(void *arg, const struct archive_row *r)
{
	struct row_ctx *x = arg;

	char src[1024];

	if (r->pool && *r->pool)
		snprintf(src, sizeof(src), "%s/%s@%s", r->pool, r->image, r->snap);
	else
		snprintf(src, sizeof(src), "file:%s", r->image);
	open_json_object(NULL);
	print_string(PRINT_ANY, "archive", "archive %s", r->id);
	print_string(PRINT_FP, NULL, " %s", src);
	print_string(PRINT_JSON, "pool", NULL, r->pool);
	print_string(PRINT_JSON, "image", NULL, r->image);
	print_string(PRINT_JSON, "snapshot", NULL, r->snap);
	print_string(PRINT_ANY, "state", " %s", r->state);
	print_u64(PRINT_ANY, "created", " created %llu", (uint64_t)r->created);
	print_uint(PRINT_ANY, "discs", " discs %u", r->discs);
	print_u64(PRINT_ANY, "data_bytes", " data_bytes %llu", r->data_bytes);
	print_string(PRINT_ANY, "labels", " labels %s", r->labels);
	print_nl();
	if (x->details) {
		print_u64(PRINT_ANY, "image_size", "  image_size %llu", r->image_size);
		print_string(PRINT_ANY, "image_sha256", " image_sha256 %s\n", r->image_sha256);
		if (r->error)
			print_string(PRINT_ANY, "error", "  error %s\n", r->error);
		open_json_array(PRINT_JSON, "burns");
		archive_catalog_burns(x->cat, r->rowid, print_burn, NULL);
		close_json_array(PRINT_JSON, NULL);
	}
	close_json_object();
}

/* ---- show POOL/IMAGE@SNAP from the Ceph record (not in this catalog) ---- */

struct ceph_show {
	const char *pool, *image_snap;
};

static void print_ceph_record(void *arg, const char *id, const char *value)
{
	struct ceph_show *cs = arg;
	char state[32] = "", discs[1024] = "", sha[CDP_SHA256_HEX] = "";
	unsigned long long created = 0;
	char *c;

	sscanf(value, "state=%31s discs=%1023s created=%llu sha256=%64s", state,
	       discs, &created, sha);
	for (c = discs; *c; c++)
		if (*c == ',')
			*c = ' ';
	open_json_object(NULL);
	print_string(PRINT_ANY, "archive", "archive %s", id);
	print_string(PRINT_ANY, "pool", " %s", cs->pool);
	print_string(PRINT_ANY, "snapshot", "/%s", cs->image_snap);
	print_string(PRINT_ANY, "state", " %s", state);
	print_u64(PRINT_ANY, "created", " created %llu", created);
	print_string(PRINT_ANY, "labels", " labels %s", discs);
	print_string(PRINT_ANY, "image_sha256", " image_sha256 %s", sha);
	print_string(PRINT_ANY, "from", " (from the Ceph record, not in the catalog)\n", "ceph");
	close_json_object();
}

static int show_from_ceph(const char *key, const char *catalog)
{
	char pool[ARCHIVE_NAME_MAX], err[4800];
	const char *slash = strchr(key, '/');
	struct ceph_show cs = { pool, slash ? slash + 1 : "" };
	int n;

	if (!slash || !strchr(slash, '@') || (size_t)(slash - key) >= sizeof(pool)) {
		fprintf(stderr, "Error: no complete archive \"%s\" in catalog %s (give an archive id, a disc label or POOL/IMAGE@SNAP; see \"cdpctl archive list\")\n",
			key, catalog);
		return CDP_EXIT_FAIL;
	}
	snprintf(pool, sizeof(pool), "%.*s", (int)(slash - key), key);
	new_json_obj(json);
	n = archive_ceph_lookup(pool, cs.image_snap, print_ceph_record, &cs, err, sizeof(err));
	delete_json_obj();
	if (n < 0)
		return fail(err);
	if (n == 0) {
		fprintf(stderr, "Error: no archive of %s in catalog %s nor in Ceph pool %s\n",
			key, catalog, pool);
		return CDP_EXIT_FAIL;
	}
	return CDP_EXIT_OK;
}

static int list_archives(const char *key)
{
	struct catalog *cat;
	struct row_ctx x = { .details = key != NULL };
	char id[ARCHIVE_ID_LEN + 1];
	int ret;

	if (cdpctl_catalog_open(&cat))
		return CDP_EXIT_FAIL;
	if (key && archive_catalog_find(cat, key, id)) {
		char path[4200];

		snprintf(path, sizeof(path), "%s", catalog_path(cat));
		catalog_close(cat);
		return show_from_ceph(key, path);
	}
	x.cat = cat;
	new_json_obj(json);
	ret = archive_catalog_list(cat, key ? id : NULL, print_archive_row, &x);
	delete_json_obj();
	if (ret)
		fail(catalog_errmsg(cat));
	catalog_close(cat);
	return ret ? CDP_EXIT_FAIL : CDP_EXIT_OK;
}

static int archive_show_cmd(int argc, char **argv)
{
	if (argc != 1) {
		fprintf(stderr, "Error: show takes one DRIVE or ARCHIVE.\n");
		return CDP_EXIT_USAGE;
	}
	return is_drive(argv[0]) ? show_disc(argv[0]) : list_archives(argv[0]);
}

static int archive_list_cmd(int argc, char **argv)
{
	if (argc) {
		fprintf(stderr, "Error: list takes no argument (\"%s\").\n", argv[0]);
		return CDP_EXIT_USAGE;
	}
	return list_archives(NULL);
}

/* ---- restore ---- */

static int archive_restore_cmd(int argc, char **argv)
{
	static const char *drives[MAX_DRIVES];
	struct archive_restore_opts o = { .drives = drives };
	const char *key = NULL;
	char id[ARCHIVE_ID_LEN + 1], err[8192];
	int ret;

	for (; argc > 0; argc--, argv++) {
		if (!strcmp(*argv, "--from-discs")) {
			/* every following word that is a drive address */
			while (argc > 1 && is_drive(argv[1])) {
				if (o.ndrives == MAX_DRIVES)
					invarg("too many drives", argv[1]);
				drives[o.ndrives++] = argv[1];
				argc--, argv++;
			}
			if (!o.ndrives)
				invarg("expected drive addresses (stdio:PATH or /dev/srN) after it", *argv);
		} else if (!strcmp(*argv, "--drive")) {
			NEXT_ARG();
			if (o.prompt_drive)
				duparg("--drive", *argv);
			o.prompt_drive = *argv;
		} else if (!strcmp(*argv, "--to")) {
			NEXT_ARG();
			if (o.target)
				duparg("--to", *argv);
			o.target = *argv;
		} else if (!strcmp(*argv, "help")) {
			return usage();
		} else if (**argv == '-' || key) {
			fprintf(stderr, "Error: unknown argument \"%s\", try \"cdpctl archive help\".\n", *argv);
			return CDP_EXIT_USAGE;
		} else {
			key = *argv;
		}
	}
	if (!o.target || !o.ndrives == !o.prompt_drive) {
		fprintf(stderr, "Error: restore needs --to POOL/IMAGE|FILE and either --from-discs DRIVE... or --drive DRIVE (prompts for each disc).\n");
		return CDP_EXIT_USAGE;
	}
	if (o.prompt_drive && !isatty(STDIN_FILENO)) {
		fprintf(stderr, "Error: --drive asks for each disc on the terminal; without one give every disc with --from-discs.\n");
		return CDP_EXIT_USAGE;
	}
	if (key) {
		struct catalog *cat;

		if (cdpctl_catalog_open(&cat))
			return CDP_EXIT_FAIL;
		ret = archive_catalog_find(cat, key, id);
		catalog_close(cat);
		if (ret) {
			fprintf(stderr, "Error: no complete archive \"%s\" in the catalog; leave it out to restore whatever archive the discs hold\n",
				key);
			return CDP_EXIT_FAIL;
		}
		o.archive_id = id;
	}
	ret = archive_restore(&o, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "Error: %s\n", err);
		return ret == -EBADMSG ? CDP_EXIT_DATA : CDP_EXIT_FAIL;
	}
	return CDP_EXIT_OK;
}

int do_archive(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*func)(int argc, char **argv);
	} cmds[] = {
		{ "create", archive_create_cmd },
		{ "restore", archive_restore_cmd },
		{ "verify", archive_verify_cmd },
		{ "show", archive_show_cmd },
		{ "list", archive_list_cmd },
	};
	size_t i;

	if (argc < 1)
		return usage_to(stderr, CDP_EXIT_USAGE);
	if (!strcmp(argv[0], "help"))
		return usage();
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(argv[0], cmds[i].name))
			return cmds[i].func(argc - 1, argv + 1);
	fprintf(stderr, "Command \"%s\" is unknown, try \"cdpctl archive help\".\n", argv[0]);
	return CDP_EXIT_USAGE;
}
