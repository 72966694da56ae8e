// SPDX-License-Identifier: GPL-2.0
/*
 * cmd_restore.c - `cdpctl restore`: clone a snapshot into a new image and
 * make it usable (map, iSCSI export, instant restore onto a local disk).
 * Parsing and printing; the work is in lib/restore_*.c.
 */
#include "cdpctl.h"
#include "json_print.h"
#include "progress.h"
#include "restore.h"
#include "snap_proto.h"
#include "snap_rbd.h"
#include "util.h"
#include "volume_catalog.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int usage(void)
{
	fprintf(stderr,
		"Usage: cdpctl restore VOL --snap SNAP [ --name NEW ] [ --force ] [ TARGET ]\n"
		"       cdpctl restore --failover VOL [ --name NEW ] [ --force ] [ TARGET ]\n"
		"       cdpctl restore --unexport POOL/IMAGE\n"
		"where  VOL := { volume name | POOL/IMAGE }\n"
		"       TARGET := { --map { nbd | krbd } |\n"
		"                   --iscsi [ --allow INITIATOR_ADDR ] [ --portal ADDR[:PORT] ] |\n"
		"                   --instant-onto DEV [ --metadata-dev DEV ] }\n"
		"       NEW: the new image, in the volume's pool (default IMAGE-SNAP); an existing\n"
		"            image is replaced only with --force, and only if unused\n"
		"       --failover: the newest snapshot of the replica (the latest consistent point)\n");
	return CDP_EXIT_USAGE;
}

struct restore_opts {
	const char *vol, *snap, *name, *map, *allow, *portal, *onto, *meta, *unexport;
	int force, iscsi, failover;
};

static int parse(int argc, char **argv, struct restore_opts *o)
{
	for (; argc > 0; argc--, argv++) {
		const char **dst = NULL;

		if (!strcmp(*argv, "--snap"))
			dst = &o->snap;
		else if (!strcmp(*argv, "--name"))
			dst = &o->name;
		else if (!strcmp(*argv, "--map"))
			dst = &o->map;
		else if (!strcmp(*argv, "--allow"))
			dst = &o->allow;
		else if (!strcmp(*argv, "--portal"))
			dst = &o->portal;
		else if (!strcmp(*argv, "--instant-onto"))
			dst = &o->onto;
		else if (!strcmp(*argv, "--metadata-dev"))
			dst = &o->meta;
		else if (!strcmp(*argv, "--unexport"))
			dst = &o->unexport;
		else if (!strcmp(*argv, "--force"))
			o->force = 1;
		else if (!strcmp(*argv, "--iscsi"))
			o->iscsi = 1;
		else if (!strcmp(*argv, "--failover"))
			o->failover = 1;
		else if (!strcmp(*argv, "help"))
			return usage();
		else if (**argv == '-')
			invarg("unknown option, see \"cdpctl restore help\"", *argv);
		else if (o->vol)
			duparg("VOL", *argv);
		else
			o->vol = *argv;
		if (dst) {
			const char *key = *argv;

			NEXT_ARG();
			if (*dst)
				duparg(key, *argv);
			*dst = *argv;
		}
	}
	if (o->unexport)
		return 0;
	if (!o->vol) {
		fprintf(stderr, "Error: no volume given, see \"cdpctl restore help\"\n");
		return CDP_EXIT_USAGE;
	}
	if (!o->snap == !o->failover) {
		fprintf(stderr, "Error: give exactly one of --snap SNAP and --failover\n");
		return CDP_EXIT_USAGE;
	}
	if (!!o->map + o->iscsi + !!o->onto > 1) {
		fprintf(stderr, "Error: --map, --iscsi and --instant-onto exclude each other\n");
		return CDP_EXIT_USAGE;
	}
	if (o->map && strcmp(o->map, "nbd") && strcmp(o->map, "krbd"))
		invarg("--map takes nbd or krbd", o->map);
	if ((o->allow || o->portal) && !o->iscsi)
		invarg("only with --iscsi", o->allow ? o->allow : o->portal);
	if (o->meta && !o->onto)
		invarg("only with --instant-onto", o->meta);
	if (o->name && !snap_proto_valid_name(o->name))
		invarg("image names are [A-Za-z0-9._:-]+", o->name);
	return 0;
}

/* VOL is a cataloged volume, else POOL/IMAGE. */
static int resolve(struct catalog *cat, const char *vol, struct cat_volume *v)
{
	const char *slash;

	if (!volume_catalog_get(cat, vol, v))
		return 0;
	slash = strchr(vol, '/');
	memset(v, 0, sizeof(*v));
	if (!slash || slash == vol || !slash[1] || strchr(slash + 1, '/')) {
		fprintf(stderr, "Error: volume %s is not in the catalog %s (give POOL/IMAGE, or run `cdpctl catalog sync` on a new host)\n",
			vol, catalog_path(cat));
		return -ENOENT;
	}
	snprintf(v->pool, sizeof(v->pool), "%.*s", (int)(slash - vol), vol);
	snprintf(v->image, sizeof(v->image), "%s", slash + 1);
	if (volume_catalog_get_image(cat, v->pool, v->image, v))
		snprintf(v->name, sizeof(v->name), "%.63s", vol);
	return 0;
}

static void progress_cb(uint64_t done, uint64_t total, void *arg)
{
	struct progress *p = arg;

	progress_update(p, done);
	if (!p->tty)
		cdp_event("hydration %llu/%llu regions", (unsigned long long)done,
			  (unsigned long long)total);
}

static int instant(const struct restore_opts *o, const struct restore_clone *c,
		   int64_t vol_id, double t0, char *err, size_t errlen)
{
	struct restore_instant ri;
	struct catalog *cat;
	struct progress p;
	char dm[160], dev[192], image[272], ev[1024];
	const char *state = getenv("CDP_STATE_DIR");
	int r;

	snprintf(dm, sizeof(dm), "cdp-instant-%s", c->clone);
	snprintf(dev, sizeof(dev), "/dev/mapper/%s", dm);
	snprintf(image, sizeof(image), "%s/%s", c->pool, c->clone);
	r = restore_instant_start(c->pool, c->clone, o->onto, dm, o->meta,
				  state ? state : CDP_STATE_DIR_DEFAULT, &ri, err, errlen);
	if (r)
		return r;
	/* the application may start now: say so before hydrating */
	new_json_obj(json);
	open_json_object(NULL);
	print_string(PRINT_ANY, "image", "restored %s", image);
	print_string(PRINT_ANY, "snap", " from @%s", c->snap);
	print_string(PRINT_ANY, "device", " device %s", dev);
	print_string(PRINT_ANY, "dest", " hydrating onto %s", ri.dest);
	print_string(PRINT_ANY, "engine", " with %s", ri.engine);
	if (ri.module[0])
		print_string(PRINT_ANY, "module", " (%s)", ri.module);
	print_u64(PRINT_ANY, "region_bytes", " region_bytes %llu", (uint64_t)ri.region_sectors << 9);
	if (ri.threshold) {
		print_uint(PRINT_JSON, "hydration_threshold", NULL, ri.threshold);
		print_uint(PRINT_JSON, "hydration_batch_size", NULL, ri.batch);
	}
	if (ri.meta[0])
		print_string(PRINT_JSON, "metadata_dev", NULL, ri.meta);
	print_float(PRINT_ANY, "ready_ms", " ready_ms %.0f\n", (cdp_mono() - t0) * 1000);
	if (ri.fallback[0])
		print_string(PRINT_ANY, "fallback", "  fallback: %s\n", ri.fallback);
	close_json_object();
	delete_json_obj();
	fflush(stdout);
	if (ri.fallback[0])
		cdp_event("warning: %s; using dm-mirror, where application I/O waits behind the copy",
			  ri.fallback);
	cdp_event("device /dev/mapper/%s is usable now; hydrating %s in the background with %s",
		  ri.dm_name, ri.dest, ri.engine);
	progress_start(&p, "hydrate", ri.sectors / ri.region_sectors);
	r = restore_instant_finish(&ri, progress_cb, &p, err, errlen);
	progress_end(&p);
	if (r)
		return r;
	/* the completion event: stderr, stdout (a second record) and the catalog */
	cdp_event("hydration complete: %llu regions in %.1f s (%s event: %s); /dev/mapper/%s is now a plain linear map of %s",
		  (unsigned long long)ri.regions, cdp_mono() - t0, ri.engine,
		  ri.kernel_event ? "seen" : "not seen", ri.dm_name, ri.dest);
	new_json_obj(json);
	open_json_object(NULL);
	print_string(PRINT_ANY, "event", "%s", "hydrated");
	print_string(PRINT_ANY, "device", " device %s", dev);
	print_string(PRINT_ANY, "dest", " onto %s", ri.dest);
	print_string(PRINT_ANY, "engine", " with %s", ri.engine);
	print_u64(PRINT_ANY, "regions", " regions %llu", ri.regions);
	print_bool(PRINT_ANY, "kernel_event", " kernel_event %s", ri.kernel_event);
	print_string(PRINT_ANY, "table", " table %s", ri.linear ? "linear" : ri.engine);
	print_float(PRINT_ANY, "total_ms", " total_ms %.0f\n", (cdp_mono() - t0) * 1000);
	close_json_object();
	delete_json_obj();
	snprintf(ev, sizeof(ev), "%s/%s hydrated onto %s with %s (%llu regions, %.1f s); /dev/mapper/%s is linear",
		 c->pool, c->clone, ri.dest, ri.engine, (unsigned long long)ri.regions,
		 cdp_mono() - t0, ri.dm_name);
	if (!cdpctl_catalog_open(&cat)) {
		catalog_event(cat, vol_id, "info", "restore", ev);
		catalog_close(cat);
	}
	return 0;
}

static void print_result(const struct cat_volume *v, const struct restore_clone *c,
			 const char *dev, const struct restore_iscsi *is, double t0)
{
	new_json_obj(json);
	open_json_object(NULL);
	print_string(PRINT_ANY, "volume", "restored %s", v->name[0] ? v->name : v->image);
	print_string(PRINT_ANY, "snap", "@%s", c->snap);
	print_string(PRINT_ANY, "pool", " to %s", c->pool);
	print_string(PRINT_ANY, "image", "/%s", c->clone);
	if (c->replaced)
		print_bool(PRINT_ANY, "replaced", " (replaced)", true);
	if (dev)
		print_string(PRINT_ANY, "device", " device %s", dev);
	print_float(PRINT_ANY, "clone_ms", " clone_ms %.0f", c->ms);
	print_float(PRINT_ANY, "total_ms", " total_ms %.0f\n", (cdp_mono() - t0) * 1000);
	if (is) {
		print_string(PRINT_ANY, "iqn", "  iqn %s", is->iqn);
		print_string(PRINT_ANY, "portal", " portal %s\n", is->portal);
		print_string(PRINT_ANY, "login", "  login: %s\n", is->login);
	}
	close_json_object();
	delete_json_obj();
}

static int unexport(const char *spec)
{
	const char *slash = strchr(spec, '/');
	char pool[128], err[1024];

	if (!slash || slash == spec || !slash[1])
		invarg("expected POOL/IMAGE", spec);
	snprintf(pool, sizeof(pool), "%.*s", (int)(slash - spec), spec);
	if (restore_iscsi_unexport(pool, slash + 1, err, sizeof(err))) {
		fprintf(stderr, "Error: %s\n", err);
		return CDP_EXIT_FAIL;
	}
	return CDP_EXIT_OK;
}

int do_restore(int argc, char **argv)
{
	struct restore_opts o = { 0 };
	double t0 = cdp_mono();
	struct restore_clone c;
	struct restore_iscsi is;
	struct cat_volume v;
	struct catalog *cat;
	char snap[128], fo[160], dev[256] = "", err[2048], ev[1024];
	enum restore_map_kind kind;
	int r;

	if (argc < 1)
		return usage();
	r = parse(argc, argv, &o);
	if (r)
		return r;
	if (o.unexport)
		return unexport(o.unexport);
	if (cdpctl_catalog_open(&cat))
		return CDP_EXIT_FAIL;
	if (resolve(cat, o.vol, &v))
		goto fail_quiet;
	snap_rbd_env();
	if (o.failover) {
		if (restore_latest_snap(v.pool, v.image, snap, sizeof(snap), err, sizeof(err)))
			goto fail;
		o.snap = snap;
		if (!o.name) {
			snprintf(fo, sizeof(fo), "%s-failover", v.image);
			o.name = fo;
		}
	}
	kind = o.map && !strcmp(o.map, "krbd") ? RESTORE_MAP_KRBD : RESTORE_MAP_NBD;
	/* a busy --instant-onto disk is refused before a clone is made */
	if (o.onto && restore_instant_check(o.onto, o.meta, err, sizeof(err)))
		goto fail;
	r = restore_clone(v.pool, v.image, o.snap, o.name, o.force, o.map && kind == RESTORE_MAP_KRBD,
			  &c, err, sizeof(err));
	if (r)
		goto fail;
	if (o.map && restore_map(kind, c.pool, c.clone, &c.krbd, dev, sizeof(dev), 60, err, sizeof(err)))
		goto fail_kept;
	if (o.iscsi && restore_iscsi_export(c.pool, c.clone, o.allow, o.portal, &is, err, sizeof(err)))
		goto fail_kept;
	snprintf(ev, sizeof(ev), "%s/%s@%s cloned to %s/%s%s%s%s%s", v.pool, v.image, c.snap,
		 c.pool, c.clone, dev[0] ? ", mapped " : "", dev, o.iscsi ? ", exported " : "",
		 o.iscsi ? is.iqn : "");
	catalog_event(cat, v.id, "info", o.failover ? "failover" : "restore", ev);
	catalog_close(cat);
	if (o.onto) {
		if (!instant(&o, &c, v.id, t0, err, sizeof(err)))
			return CDP_EXIT_OK;
		fprintf(stderr, "Error: %s (the clone %s/%s is kept)\n", err, c.pool, c.clone);
		return CDP_EXIT_FAIL;
	}
	print_result(&v, &c, dev[0] ? dev : NULL, o.iscsi ? &is : NULL, t0);
	return CDP_EXIT_OK;
fail_kept:
	fprintf(stderr, "Error: %s (the clone %s/%s was made and is kept: remove it with `rbd rm %s/%s`)\n",
		err, c.pool, c.clone, c.pool, c.clone);
	catalog_close(cat);
	return CDP_EXIT_FAIL;
fail:
	fprintf(stderr, "Error: %s\n", err);
fail_quiet:
	catalog_close(cat);
	return CDP_EXIT_FAIL;
}
