// SPDX-License-Identifier: GPL-2.0
/*
 * cmd_volume.c - `cdpctl [volume] protect|unprotect|activate|list|status|
 * monitor|verify`. Parsing and printing; the work is in lib/protect.c,
 * lib/verify.c, lib/nl.c (kernel numbers) and lib/cdpd_client.c (daemon).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cdpctl.h"
#include "cdpd_client.h"
#include "json_print.h"
#include "nl.h"
#include "protect.h"
#include "util.h"
#include "verify.h"
#include "volume_catalog.h"

#define MAX_VOLS 256

static int usage(void)
{
	fprintf(stderr,
		"Usage: cdpctl protect DEV --image [POOL/]IMAGE [ --name VOL ] [ --meta DEV ]\n"
		"                      [ --sync ] [ --queue-mb N ] [ --region-kb N ]\n"
		"                      [ --sync-timeout-ms N ] [ --on-sync-timeout { degrade | error } ]\n"
		"       cdpctl protect --live DMDEV --image [POOL/]IMAGE [ OPTIONS as above ]\n"
		"       cdpctl unprotect VOL [ --delete-image ]\n"
		"       cdpctl activate { VOL | --all }\n"
		"       cdpctl list\n"
		"       cdpctl status [ VOL ]\n"
		"       cdpctl monitor [ VOL ] [ --count N ] [ --timeout SECONDS ]\n"
		"       cdpctl verify VOL [ --region SIZE ] [ --wait SECONDS ]\n"
		"       cdpctl volume { protect | unprotect | activate | list | status | monitor | verify } ...\n"
		"where  DEV := a block device (it must not be mounted; see --live)\n"
		"       DMDEV := a dm or LVM device, may be mounted and in use\n");
	return CDP_EXIT_USAGE;
}

static int fail(const char *msg)
{
	fprintf(stderr, "Error: %s\n", msg);
	return CDP_EXIT_FAIL;
}

static void need_root(void)
{
	if (geteuid() != 0) {
		fprintf(stderr, "Error: this needs root (device-mapper, netlink admin): run it with sudo\n");
		exit(CDP_EXIT_FAIL);
	}
}

static unsigned int get_uint(const char *key, const char *val, unsigned int max)
{
	char *end;
	unsigned long v = strtoul(val, &end, 10);

	if (!*val || *end || v == 0 || v > max) {
		char msg[96];

		snprintf(msg, sizeof(msg), "%s takes a whole number from 1 to %u", key, max);
		invarg(msg, val);
	}
	return (unsigned int)v;
}

/* ---- protect / unprotect / activate ---- */

int do_protect(int argc, char **argv)
{
	struct protect_req rq = { 0 };
	struct cat_volume v;
	struct catalog *cat;
	char err[1024];

	while (argc > 0) {
		if (!strcmp(*argv, "--image")) {
			NEXT_ARG();
			if (rq.image)
				duparg("--image", *argv);
			rq.image = *argv;
		} else if (!strcmp(*argv, "--name")) {
			NEXT_ARG();
			rq.name = *argv;
		} else if (!strcmp(*argv, "--meta")) {
			NEXT_ARG();
			rq.meta = *argv;
		} else if (!strcmp(*argv, "--sync")) {
			rq.sync = 1;
		} else if (!strcmp(*argv, "--live")) {
			rq.live = 1;
		} else if (!strcmp(*argv, "--queue-mb")) {
			NEXT_ARG();
			rq.queue_mb = get_uint("--queue-mb", *argv, 4096);
		} else if (!strcmp(*argv, "--region-kb")) {
			NEXT_ARG();
			rq.region_kb = get_uint("--region-kb", *argv, 1048576);
			if (rq.region_kb < 4 || (rq.region_kb & (rq.region_kb - 1)))
				invarg("--region-kb must be a power of two, at least 4", *argv);
		} else if (!strcmp(*argv, "--sync-timeout-ms")) {
			NEXT_ARG();
			rq.sync_timeout_ms = get_uint("--sync-timeout-ms", *argv, 600000);
		} else if (!strcmp(*argv, "--on-sync-timeout")) {
			NEXT_ARG();
			if (!strcmp(*argv, "error"))
				rq.on_timeout_error = 1;
			else if (strcmp(*argv, "degrade"))
				invarg("--on-sync-timeout is degrade or error", *argv);
		} else if (!strcmp(*argv, "help")) {
			return usage();
		} else if (**argv == '-') {
			fprintf(stderr, "Error: unknown option \"%s\" for protect, try \"cdpctl protect help\".\n", *argv);
			return CDP_EXIT_USAGE;
		} else {
			if (rq.device)
				duparg("DEV", *argv);
			rq.device = *argv;
		}
		argc--, argv++;
	}
	if (!rq.device) {
		fprintf(stderr, "Error: which device? cdpctl protect DEV --image POOL/IMAGE\n");
		return CDP_EXIT_USAGE;
	}
	if (!rq.image) {
		fprintf(stderr, "Error: --image POOL/IMAGE is required (the RBD image that will hold the replica)\n");
		return CDP_EXIT_USAGE;
	}
	need_root();
	if (cdpctl_config() && cdpctl_catalog_open(&cat))
		return CDP_EXIT_FAIL;
	if (cdp_protect(cdpctl_config(), cat, &rq, &v, err, sizeof(err))) {
		catalog_close(cat);
		return fail(err);
	}
	new_json_obj(json);
	open_json_object(NULL);
	print_string(PRINT_ANY, "volume", "volume %s", v.name);
	print_string(PRINT_FP, NULL, " protected: use /dev/mapper/%s", v.dm_name);
	print_string(PRINT_JSON, "device", NULL, v.dm_name);
	print_string(PRINT_ANY, "replica", " (replica %s", v.pool);
	print_string(PRINT_ANY, "image", "/%s, ", v.image);
	print_string(PRINT_ANY, "mode", "%s)\n", v.mode);
	close_json_object();
	delete_json_obj();
	catalog_close(cat);
	return CDP_EXIT_OK;
}

int do_unprotect(int argc, char **argv)
{
	const char *name = NULL;
	struct catalog *cat;
	int del = 0;
	char err[1024];

	for (; argc > 0; argc--, argv++) {
		if (!strcmp(*argv, "--delete-image"))
			del = 1;
		else if (!strcmp(*argv, "help"))
			return usage();
		else if (**argv == '-' || name)
			invarg("expected: cdpctl unprotect VOL [--delete-image]", *argv);
		else
			name = *argv;
	}
	if (!name)
		incomplete_command();
	need_root();
	if (cdpctl_config() && cdpctl_catalog_open(&cat))
		return CDP_EXIT_FAIL;
	if (cdp_unprotect(cdpctl_config(), cat, name, del, err, sizeof(err))) {
		catalog_close(cat);
		return fail(err);
	}
	if (!json)
		printf("volume %s unprotected%s\n", name, del ? ", replica image deleted" : "");
	catalog_close(cat);
	return CDP_EXIT_OK;
}

struct activate_ctx {
	struct catalog *cat;
	const char *only;
	int failed;
};

static int activate_one(const struct cat_volume *v, void *arg)
{
	struct activate_ctx *a = arg;
	char err[1024];

	if ((a->only && strcmp(a->only, v->name)) || (!a->only && strcmp(v->state, "protected")))
		return 0;
	if (cdp_activate(cdpctl_config(), a->cat, v, err, sizeof(err))) {
		fprintf(stderr, "Error: %s: %s\n", v->name, err);
		a->failed++;
	} else if (!json) {
		printf("volume %s active on /dev/mapper/%s\n", v->name, v->dm_name);
	}
	return 0;
}

int do_activate(int argc, char **argv)
{
	struct activate_ctx a = { 0 };
	struct cat_volume v;

	if (argc != 1 || !strcmp(*argv, "help"))
		return usage();
	if (strcmp(*argv, "--all"))
		a.only = *argv;
	need_root();
	if (cdpctl_config() && cdpctl_catalog_open(&a.cat))
		return CDP_EXIT_FAIL;
	if (a.only && volume_catalog_get(a.cat, a.only, &v)) {
		catalog_close(a.cat);
		fprintf(stderr, "Error: no volume %s in the catalog (see cdpctl list)\n", a.only);
		return CDP_EXIT_FAIL;
	}
	volume_catalog_list(a.cat, activate_one, &a);
	catalog_close(a.cat);
	return a.failed ? CDP_EXIT_FAIL : CDP_EXIT_OK;
}

/* ---- list / status ---- */

struct view {
	struct cdp_volinfo k[MAX_VOLS];
	int nk;
	struct cdpd_volstat d[MAX_VOLS];
	int nd;			/* -1: cdpd not reachable */
	const char *only;
	int shown;
	int detail;
};

static int collect_k(const struct cdp_volinfo *vi, void *arg)
{
	struct view *w = arg;

	if (w->nk < MAX_VOLS)
		w->k[w->nk++] = *vi;
	return 0;
}

static const struct cdp_volinfo *kinfo(const struct view *w, const char *name)
{
	int i;

	for (i = 0; i < w->nk; i++)
		if (!strcmp(w->k[i].volume, name))
			return &w->k[i];
	return NULL;
}

static const struct cdpd_volstat *dinfo(const struct view *w, const char *name)
{
	int i;

	for (i = 0; i < w->nd; i++)
		if (!strcmp(w->d[i].name, name))
			return &w->d[i];
	return NULL;
}

static void print_rpo(const struct cdp_volinfo *k, const struct cdpd_volstat *d)
{
	/* sync: a write completes only once the replica acked it */
	if (k->mode == CDP_MODE_SYNC && k->state == CDP_STATE_REPLICATING) {
		print_float(PRINT_ANY, "rpo_s", " rpo %.3fs", 0.0);
		return;
	}
	if (!d || strcmp(d->state, "attached")) {
		print_null(PRINT_ANY, "rpo_s", " rpo unbounded (no daemon attached)");
		return;
	}
	/* what is not yet durable, plus one ack interval until it would be */
	print_float(PRINT_ANY, "rpo_s", " rpo ~%.3fs",
		    d->lag_s + cdpctl_config()->ack_interval_ms / 1000.0);
}

static int show_one(const struct cat_volume *v, void *arg)
{
	struct view *w = arg;
	const struct cdp_volinfo *k = kinfo(w, v->name);
	const struct cdpd_volstat *d = dinfo(w, v->name);
	char b[32];

	if (w->only && strcmp(w->only, v->name))
		return 0;
	w->shown++;
	open_json_object(NULL);
	print_string(PRINT_ANY, "volume", "%s", v->name);
	print_string(PRINT_ANY, "device", " /dev/mapper/%s", v->dm_name);
	print_string(PRINT_JSON, "origin", NULL, v->device);
	print_string(PRINT_ANY, "pool", " -> %s", v->pool);
	print_string(PRINT_ANY, "image", "/%s", v->image);
	print_string(PRINT_ANY, "catalog_state", " %s", v->state);
	if (!k) {
		print_string(PRINT_ANY, "state", " %s\n",
			     strcmp(v->state, "protected") ? "-" : "inactive (cdpctl activate)");
		close_json_object();
		return 0;
	}
	print_string(PRINT_ANY, "mode", " %s", k->mode == CDP_MODE_SYNC ? "sync" : "async");
	print_string(PRINT_ANY, "state", " %s", cdp_state_name(k->state));
	print_bool(PRINT_ANY, "consistent", " consistent %s", d ? d->consistent : 0);
	print_u64(PRINT_ANY, "lag_records", " lag %llu", k->last_seq - k->acked_seq);
	print_u64(PRINT_JSON, "lag_bytes", NULL, k->queued_bytes);
	print_string(PRINT_FP, NULL, " records %s", cdp_fmt_size(k->queued_bytes, b, sizeof(b)));
	print_float(PRINT_ANY, "lag_s", " %.3fs", d ? d->lag_s : 0.0);
	print_rpo(k, d);
	if (w->detail) {
		print_u64(PRINT_ANY, "last_seq", "\n  seq last %llu", k->last_seq);
		print_u64(PRINT_ANY, "applied_seq", " applied %llu", d ? d->applied : 0);
		print_u64(PRINT_ANY, "acked_seq", " acked %llu", k->acked_seq);
		print_u64(PRINT_ANY, "dirty_regions", "\n  regions dirty %llu", k->dirty);
		print_u64(PRINT_ANY, "regions", "/%llu", k->regions);
		print_u64(PRINT_ANY, "resync_left", " resync left %llu", k->resync_left);
		print_u64(PRINT_ANY, "resynced", " resynced %llu", k->resynced);
		print_u64(PRINT_ANY, "queued_records", "\n  queue %llu records", k->queued_records);
		print_u64(PRINT_JSON, "queued_bytes", NULL, k->queued_bytes);
		print_string(PRINT_FP, NULL, " %s", cdp_fmt_size(k->queued_bytes, b, sizeof(b)));
		print_string(PRINT_ANY, "daemon", "\n  daemon %s",
			     w->nd < 0 ? "not running" : d ? d->state : "not serving this volume");
		if (d && strcmp(d->error, "-"))
			print_string(PRINT_ANY, "daemon_error", " (%s)", d->error);
	}
	print_string(PRINT_FP, NULL, "%s", "\n");
	close_json_object();
	return 0;
}

static int show(const char *only, int detail)
{
	static struct view w;
	struct catalog *cat;
	struct cdp_nl *nl;
	char err[512];
	int r;

	memset(&w, 0, sizeof(w));
	w.only = only;
	w.detail = detail;
	if (cdpctl_config() && cdpctl_catalog_open(&cat))
		return CDP_EXIT_FAIL;
	if (!cdp_nl_open(&nl)) {
		r = cdp_nl_list(nl, collect_k, &w);
		if (r == -EPERM)
			fprintf(stderr, "Warning: kernel state needs root: run with sudo for live numbers\n");
		cdp_nl_close(nl);
	}
	w.nd = cdpd_status(cdpctl_config(), w.d, MAX_VOLS, 10000, err, sizeof(err));
	new_json_obj(json);
	volume_catalog_list(cat, show_one, &w);
	delete_json_obj();
	catalog_close(cat);
	if (only && !w.shown)
		return fail("no such volume in the catalog (see cdpctl list)");
	return CDP_EXIT_OK;
}

int do_list(int argc, char **argv)
{
	if (argc)
		return usage();
	return show(NULL, 0);
}

int do_status(int argc, char **argv)
{
	if (argc > 1 || (argc == 1 && !strcmp(argv[0], "help")))
		return usage();
	return show(argc ? argv[0] : NULL, 1);
}

/* ---- monitor ---- */

static volatile int stop;

static void on_int(int sig)
{
	stop = 1;
}

int do_monitor(int argc, char **argv)
{
	const char *only = NULL;
	int count = 0, timeout = -1, seen = 0;
	struct cdp_nl *nl;
	double end;

	for (; argc > 0; argc--, argv++) {
		if (!strcmp(*argv, "--count")) {
			NEXT_ARG();
			count = (int)get_uint("--count", *argv, 1000000);
		} else if (!strcmp(*argv, "--timeout")) {
			NEXT_ARG();
			timeout = (int)get_uint("--timeout", *argv, 86400);
		} else if (!strcmp(*argv, "help") || **argv == '-' || only) {
			return usage();
		} else {
			only = *argv;
		}
	}
	need_root();
	if (cdp_nl_open(&nl))
		return fail("cannot open the dm_cdp netlink family: load the module (modprobe dm-cdp)");
	if (cdp_nl_subscribe(nl)) {
		fprintf(stderr, "Error: cannot join the events group: %s\n", cdp_nl_error(nl));
		cdp_nl_close(nl);
		return CDP_EXIT_FAIL;
	}
	signal(SIGINT, on_int);
	signal(SIGTERM, on_int);
	setvbuf(stdout, NULL, _IOLBF, 0);
	end = cdp_mono() + timeout;
	while (!stop && (!count || seen < count) && (timeout < 0 || cdp_mono() < end)) {
		struct cdp_nl_event ev;
		char t[32];

		if (cdp_nl_event_wait(nl, 500, &ev))
			continue;
		if (ev.cmd != CDP_CMD_EVENT || (only && strcmp(only, ev.volume)))
			continue;
		seen++;
		new_json_obj(json);
		open_json_object(NULL);
		print_string(PRINT_ANY, "time", "%s", cdp_fmt_time(time(NULL), t, sizeof(t)));
		print_string(PRINT_ANY, "volume", " %s", ev.volume);
		print_string(PRINT_ANY, "event", " %s", cdp_event_name(ev.event));
		print_u64(PRINT_ANY, "seq", " seq %llu\n", ev.seq);
		close_json_object();
		delete_json_obj();
		if (json)
			putchar('\n');
	}
	cdp_nl_close(nl);
	return CDP_EXIT_OK;
}

/* ---- verify ---- */

static void print_diff(void *arg, uint64_t region, uint64_t offset, uint64_t len)
{
	open_json_object(NULL);
	print_u64(PRINT_ANY, "region", "  differs: region %llu", region);
	print_u64(PRINT_ANY, "offset", " offset %llu", offset);
	print_u64(PRINT_ANY, "length", " length %llu\n", len);
	close_json_object();
}

/* Wait until everything the kernel captured is acked (the stream drained). */
static int wait_drained(const char *name, int seconds)
{
	double end = cdp_mono() + seconds;
	struct cdp_nl *nl;
	int r = -ETIMEDOUT;

	if (cdp_nl_open(&nl))
		return -ENODEV;
	while (cdp_mono() < end) {
		struct cdp_volinfo k;

		if (cdp_nl_info(nl, name, &k)) {
			r = -ENOENT;
			break;
		}
		if (k.acked_seq == k.last_seq && k.state == CDP_STATE_REPLICATING &&
		    !k.resync_left) {
			r = 0;
			break;
		}
		usleep(200 * 1000);
	}
	cdp_nl_close(nl);
	return r;
}

int do_verify(int argc, char **argv)
{
	struct verify_opts o = { .diff_cb = print_diff, .progress = 1 };
	struct verify_result res;
	const char *name = NULL;
	struct cat_volume v;
	struct catalog *cat;
	int wait = 60, r;
	char err[1024];

	for (; argc > 0; argc--, argv++) {
		if (!strcmp(*argv, "--region")) {
			NEXT_ARG();
			if (cdp_parse_size(*argv, &o.region_bytes) || o.region_bytes < 4096 ||
			    o.region_bytes > (256 << 20) || o.region_bytes % 4096)
				invarg("--region is a multiple of 4K up to 256M", *argv);
		} else if (!strcmp(*argv, "--wait")) {
			NEXT_ARG();
			wait = (int)get_uint("--wait", *argv, 86400);
		} else if (!strcmp(*argv, "help") || **argv == '-' || name) {
			return usage();
		} else {
			name = *argv;
		}
	}
	if (!name)
		incomplete_command();
	need_root();
	if (cdpctl_config() && cdpctl_catalog_open(&cat))
		return CDP_EXIT_FAIL;
	r = volume_catalog_get(cat, name, &v);
	catalog_close(cat);
	if (r)
		return fail("no such volume in the catalog (see cdpctl list)");
	r = wait_drained(name, wait);
	if (r == -ETIMEDOUT)
		fprintf(stderr, "Warning: the replica is still behind after %ds: comparing anyway\n", wait);
	else if (r)
		return fail("the volume is not active in the kernel (cdpctl activate)");
	new_json_obj(json);
	open_json_object(NULL);
	open_json_array(PRINT_JSON, "differing");
	r = cdp_verify(cdpctl_config(), &v, &o, &res, err, sizeof(err));
	close_json_array(PRINT_JSON, NULL);
	if (!r) {
		print_string(PRINT_ANY, "volume", "%s:", name);
		print_u64(PRINT_ANY, "regions", " %llu regions", res.regions);
		print_u64(PRINT_ANY, "differing_regions", ", %llu differ", res.differing);
		print_bool(PRINT_ANY, "equal", " (%s)\n", !res.differing);
		if (!json)
			printf("%s\n", res.differing ? "replica DIFFERS from the volume" : "replica equal");
	}
	close_json_object();
	delete_json_obj();
	if (r)
		return fail(err);
	return res.differing ? CDP_EXIT_DATA : CDP_EXIT_OK;
}

/* ---- the volume object ---- */

int do_volume(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} cmds[] = {
		{ "protect", do_protect }, { "unprotect", do_unprotect },
		{ "activate", do_activate }, { "list", do_list }, { "show", do_status },
		{ "status", do_status }, { "monitor", do_monitor }, { "verify", do_verify },
	};
	size_t i;

	if (argc < 1)
		return do_list(0, argv);
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(argv[0], cmds[i].name))
			return cmds[i].fn(argc - 1, argv + 1);
	if (strcmp(argv[0], "help"))
		fprintf(stderr, "Command \"%s\" is unknown, try \"cdpctl volume help\".\n", argv[0]);
	return usage();
}
