// SPDX-License-Identifier: GPL-2.0
/*
 * cmd_snap.c - `cdpctl snap create|list|delete`. Parsing and printing; the
 * exchange with cdpd is lib/snap_create.c, the rows lib/snap_catalog.c,
 * the RBD side lib/snap_rbd.c, the copy in Ceph lib/ceph_catalog.c.
 */
#include "cdpctl.h"
#include "ceph_catalog.h"
#include "json_print.h"
#include "snap_catalog.h"
#include "snap_create.h"
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
		"Usage: cdpctl snap create VOL... [ --name NAME ] [ --freeze MOUNTPOINT ]...\n"
		"                          [ --pre CMD ] [ --post CMD ] [ --hook-timeout SECONDS ]\n"
		"                          [ --protect ] [ --timeout SECONDS ]\n"
		"       cdpctl snap list [ VOL ] [ --all ]\n"
		"       cdpctl snap delete VOL SNAP [ --force-children ]\n"
		"where  VOL := a protected volume name (several VOLs form a consistency group)\n"
		"       NAME, SNAP := [A-Za-z0-9._:-]+   (default NAME: snap-YYYYMMDDTHHMMSSZ)\n"
		"       --hook-timeout: per hook, and the longest the file systems stay frozen (default 10)\n"
		"       --timeout: how long cdpd may take to reach a consistent point and snapshot (default 120)\n");
	return CDP_EXIT_USAGE;
}

static int fail(const char *err)
{
	fprintf(stderr, "Error: %s\n", err);
	return CDP_EXIT_FAIL;
}

static double get_seconds(const char *key, const char *val)
{
	char *end;
	double d = strtod(val, &end);

	if (*end || end == val || !(d > 0) || d > 86400)
		invarg("expected seconds between 0 and 86400", val);
	return d;
}

/*---- create -------------------------------------------------------------*/

static void print_created(const struct snap_request *rq, const struct snap_result *res,
			  const char *group)
{
	char tbuf[32], hbuf[64];
	int i;

	new_json_obj(json);
	open_json_object(NULL);
	print_string(PRINT_ANY, "name", "snapshot %s", rq->name);
	print_string(PRINT_ANY, "time", " time %s", cdp_fmt_time(res->time, tbuf, sizeof(tbuf)));
	if (group[0])
		print_string(PRINT_ANY, "group", " group %s", group);
	print_nl();
	open_json_array(PRINT_JSON, "volumes");
	for (i = 0; i < rq->nvols; i++) {
		open_json_object(NULL);
		print_string(PRINT_ANY, "volume", "  volume %s", rq->vols[i]);
		print_u64(PRINT_ANY, "seq", " seq %llu\n", res->seq[i]);
		close_json_object();
	}
	close_json_array(PRINT_JSON, NULL);
	open_json_array(PRINT_JSON, "frozen");
	for (i = 0; i < rq->nmnts; i++)
		print_string(PRINT_ANY, NULL, i ? ",%s" : "  frozen %s", rq->mnts[i]);
	close_json_array(PRINT_JSON, NULL);
	print_float(PRINT_ANY, "freeze_ms", rq->nmnts ? " freeze_ms %.1f" : "  freeze_ms %.1f",
		    res->freeze_ms);
	print_float(PRINT_ANY, "mark_ms", " mark_ms %.1f", res->mark_ms);
	print_float(PRINT_ANY, "sync_ms", " sync_ms %.1f", res->sync_ms);
	print_float(PRINT_ANY, "total_ms", " total_ms %.0f\n", res->total_ms);
	print_float(PRINT_JSON, "fifreeze_ms", NULL, res->fifreeze_ms);
	print_float(PRINT_JSON, "fithaw_ms", NULL, res->fithaw_ms);
	print_float(PRINT_JSON, "gap_ms", NULL, res->gap_ms);
	print_bool(PRINT_JSON, "rcu_expedited", NULL, res->expedited);
	print_bool(PRINT_JSON, "marked_directly", NULL, res->marked_directly);
	print_bool(PRINT_JSON, "boosted", NULL, res->boosted);
	if (res->warn[0]) {
		/* the snapshot is fine; the freeze window may just have been longer */
		print_string(PRINT_JSON, "warning", NULL, res->warn);
		cdp_event("warning: %s", res->warn);
	}
	print_string(PRINT_ANY, "pre", "  pre %s", hook_describe(&res->pre, hbuf, sizeof(hbuf)));
	print_string(PRINT_ANY, "post", " post %s\n", hook_describe(&res->post, hbuf, sizeof(hbuf)));
	print_bool(PRINT_ANY, "protected", "", rq->protect);
	close_json_object();
	delete_json_obj();
}

/* Every volume must be cataloged: its rows and its Ceph record need the image. */
static int check_volumes(struct catalog *cat, const struct snap_request *rq,
			 struct cat_volume *vols)
{
	int i;

	for (i = 0; i < rq->nvols; i++) {
		if (volume_catalog_get(cat, rq->vols[i], &vols[i])) {
			fprintf(stderr, "Error: volume %s is not in the catalog %s (protect it with `cdpctl protect`, or sync the catalog with `cdpctl catalog sync`)\n",
				rq->vols[i], catalog_path(cat));
			return -ENOENT;
		}
		if (snap_catalog_name_used(cat, rq->vols[i], rq->name) == 1) {
			fprintf(stderr, "Error: %s@%s exists, or existed and is archived on discs: choose another --name\n",
				rq->vols[i], rq->name);
			return -EEXIST;
		}
	}
	return 0;
}

/* The catalog rows (one transaction) and the records in Ceph. */
static int record(struct catalog *cat, const struct snap_request *rq,
		  const struct snap_result *res, const struct cat_volume *vols,
		  const char *group)
{
	struct snap_row row;
	char err[1024];
	int i, r = 0;

	memset(&row, 0, sizeof(row));
	snprintf(row.name, sizeof(row.name), "%s", rq->name);
	snprintf(row.group, sizeof(row.group), "%s", group);
	row.created_at = res->time;
	row.freeze_ms = res->freeze_ms;
	row.protect = rq->protect;
	snap_freeze_text(rq, res, row.freeze, sizeof(row.freeze));
	if (catalog_begin(cat))
		return fail(catalog_errmsg(cat));
	for (i = 0; i < rq->nvols && !r; i++) {
		snprintf(row.volume, sizeof(row.volume), "%s", rq->vols[i]);
		row.seq = res->seq[i];
		r = snap_catalog_record(cat, &row);
	}
	if (r) {
		catalog_rollback(cat);
		fprintf(stderr, "Error: the snapshot exists in Ceph but the catalog row failed: %s\n",
			r == -ENOENT ? "volume vanished from the catalog" : catalog_errmsg(cat));
		return CDP_EXIT_FAIL;
	}
	if (catalog_commit(cat))
		return fail(catalog_errmsg(cat));
	/* the copy in Ceph lets another host restore without this catalog */
	for (i = 0; i < rq->nvols; i++) {
		snprintf(row.volume, sizeof(row.volume), "%s", rq->vols[i]);
		snprintf(row.pool, sizeof(row.pool), "%s", vols[i].pool);
		snprintf(row.image, sizeof(row.image), "%s", vols[i].image);
		row.seq = res->seq[i];
		snprintf(row.state, sizeof(row.state), "live");
		if (ceph_catalog_put_snap(&vols[i], &row, err, sizeof(err)))
			cdp_event("warning: snapshot record not written to Ceph (run `cdpctl catalog push` later): %s", err);
	}
	return 0;
}

static int snap_create_cmd(int argc, char **argv)
{
	static char *vols[SNAP_MAX_VOLS], *mnts[FREEZE_MAX_MOUNTS];
	struct snap_request rq = { .hook_timeout_s = 10, .timeout_s = 120 };
	struct cat_volume cv[SNAP_MAX_VOLS];
	struct snap_result res;
	struct catalog *cat;
	char name[64], group[33] = "", err[2048];
	int r, ret;

	for (; argc > 0; argc--, argv++) {
		if (!strcmp(*argv, "--name")) {
			NEXT_ARG();
			if (rq.name)
				duparg("--name", *argv);
			rq.name = *argv;
		} else if (!strcmp(*argv, "--freeze")) {
			NEXT_ARG();
			if (rq.nmnts == FREEZE_MAX_MOUNTS)
				invarg("too many --freeze mount points", *argv);
			mnts[rq.nmnts++] = *argv;
		} else if (!strcmp(*argv, "--pre")) {
			NEXT_ARG();
			rq.pre = *argv;
		} else if (!strcmp(*argv, "--post")) {
			NEXT_ARG();
			rq.post = *argv;
		} else if (!strcmp(*argv, "--hook-timeout")) {
			NEXT_ARG();
			rq.hook_timeout_s = get_seconds("--hook-timeout", *argv);
		} else if (!strcmp(*argv, "--timeout")) {
			NEXT_ARG();
			rq.timeout_s = get_seconds("--timeout", *argv);
		} else if (!strcmp(*argv, "--protect")) {
			rq.protect = 1;
		} else if (!strcmp(*argv, "help")) {
			return usage();
		} else if (**argv == '-') {
			invarg("unknown option, see \"cdpctl snap help\"", *argv);
		} else {
			if (rq.nvols == SNAP_MAX_VOLS)
				invarg("too many volumes in one consistency group", *argv);
			vols[rq.nvols++] = *argv;
		}
	}
	if (!rq.nvols) {
		fprintf(stderr, "Error: no volume given: cdpctl snap create VOL...\n");
		return CDP_EXIT_USAGE;
	}
	rq.vols = vols;
	rq.mnts = mnts;
	rq.no_expedite = !cdpctl_config()->freeze_expedite_rcu;
	if (!rq.name)
		rq.name = snap_default_name(name, sizeof(name));
	if (cdpctl_catalog_open(&cat))
		return CDP_EXIT_FAIL;
	if (check_volumes(cat, &rq, cv)) {
		catalog_close(cat);
		return CDP_EXIT_FAIL;
	}
	if (rq.nvols > 1)
		cdp_random_id(group);
	r = snap_create(&rq, &res, err, sizeof(err));
	if (r && !res.done) {
		catalog_close(cat);
		fprintf(stderr, "Error: snapshot %s not taken (%s stage): %s\n", rq.name, res.stage, err);
		return CDP_EXIT_FAIL;
	}
	ret = record(cat, &rq, &res, cv, group);
	catalog_close(cat);
	if (ret)
		return ret;
	print_created(&rq, &res, group);
	if (r)
		return fail(err);	/* post hook failed; the snapshot is kept */
	return CDP_EXIT_OK;
}

/*---- list ---------------------------------------------------------------*/

static int print_row(const struct snap_row *r, void *arg)
{
	char tbuf[32];

	open_json_object(NULL);
	print_string(PRINT_ANY, "volume", "%s", r->volume);
	print_string(PRINT_ANY, "name", "@%s", r->name);
	print_string(PRINT_ANY, "image", " image %s", r->image);
	print_string(PRINT_ANY, "time", " time %s", cdp_fmt_time(r->created_at, tbuf, sizeof(tbuf)));
	if (r->seq)
		print_u64(PRINT_ANY, "seq", " seq %llu", r->seq);
	else
		print_null(PRINT_ANY, "seq", " seq -");
	print_string(PRINT_ANY, "state", " state %s", r->state);
	print_bool(PRINT_ANY, "protected", r->protect ? " protected" : "", r->protect);
	if (r->freeze_ms >= 0)
		print_float(PRINT_ANY, "freeze_ms", " freeze_ms %.1f", r->freeze_ms);
	if (r->group[0])
		print_string(PRINT_ANY, "group", " group %s", r->group);
	if (r->discs[0])
		print_string(PRINT_ANY, "discs", " discs %s", r->discs);
	if (r->freeze[0])
		print_string(PRINT_JSON, "freeze", NULL, r->freeze);
	print_nl();
	close_json_object();
	return 0;
}

static int snap_list_cmd(int argc, char **argv)
{
	const char *vol = NULL;
	struct catalog *cat;
	int all = 0, r;

	for (; argc > 0; argc--, argv++) {
		if (!strcmp(*argv, "--all"))
			all = 1;
		else if (**argv == '-')
			invarg("unknown option, see \"cdpctl snap help\"", *argv);
		else if (vol)
			duparg("VOL", *argv);
		else
			vol = *argv;
	}
	if (cdpctl_catalog_open(&cat))
		return CDP_EXIT_FAIL;
	new_json_obj(json);
	r = snap_catalog_list(cat, vol, all, print_row, NULL);
	delete_json_obj();
	if (r)
		fprintf(stderr, "Error: %s\n", catalog_errmsg(cat));
	catalog_close(cat);
	return r ? CDP_EXIT_FAIL : CDP_EXIT_OK;
}

/*---- delete -------------------------------------------------------------*/

static int snap_delete_cmd(int argc, char **argv)
{
	const char *vol = NULL, *snap = NULL;
	struct snap_row row;
	struct cat_volume cv;
	struct catalog *cat;
	struct snap_rbd s;
	char err[2048];
	int force = 0, r;

	for (; argc > 0; argc--, argv++) {
		if (!strcmp(*argv, "--force-children"))
			force = 1;
		else if (**argv == '-')
			invarg("unknown option, see \"cdpctl snap help\"", *argv);
		else if (!vol)
			vol = *argv;
		else if (!snap)
			snap = *argv;
		else
			invarg("one snapshot at a time", *argv);
	}
	if (!snap) {
		fprintf(stderr, "Error: cdpctl snap delete VOL SNAP\n");
		return CDP_EXIT_USAGE;
	}
	if (cdpctl_catalog_open(&cat))
		return CDP_EXIT_FAIL;
	if (volume_catalog_get(cat, vol, &cv)) {
		fprintf(stderr, "Error: volume %s is not in the catalog %s\n", vol, catalog_path(cat));
		goto out_fail;
	}
	r = snap_catalog_get(cat, vol, snap, &row);
	if (!r && !strcmp(row.state, "archived")) {
		fprintf(stderr, "Error: %s@%s is archived (discs %s): only its catalog stub is left, and it is what finds the discs; nothing deleted\n",
			vol, snap, row.discs[0] ? row.discs : "?");
		goto out_fail;
	}
	if (snap_rbd_open(&s, cv.pool, cv.image, err, sizeof(err))) {
		fprintf(stderr, "Error: %s\n", err);
		goto out_fail;
	}
	r = snap_rbd_delete(&s, snap, force, err, sizeof(err));
	snap_rbd_close(&s);
	if (r && r != -ENOENT) {
		fprintf(stderr, "Error: %s\n", err);
		goto out_fail;
	}
	if (r == -ENOENT && snap_catalog_get(cat, vol, snap, &row)) {
		fprintf(stderr, "Error: no snapshot %s of volume %s, neither in Ceph nor in the catalog (see `cdpctl snap list %s`)\n",
			snap, vol, vol);
		goto out_fail;
	}
	if (!snap_catalog_get(cat, vol, snap, &row) &&
	    snap_catalog_mark_gone(cat, row.id) < 0) {
		fprintf(stderr, "Error: %s\n", catalog_errmsg(cat));
		goto out_fail;
	}
	if (ceph_catalog_del_snap(&cv, snap, err, sizeof(err)))
		cdp_event("warning: snapshot record in Ceph not removed: %s", err);
	catalog_close(cat);
	new_json_obj(json);
	open_json_object(NULL);
	print_string(PRINT_ANY, "deleted", "deleted %s", vol);
	print_string(PRINT_ANY, "name", "@%s\n", snap);
	close_json_object();
	delete_json_obj();
	return CDP_EXIT_OK;
out_fail:
	catalog_close(cat);
	return CDP_EXIT_FAIL;
}

int do_snap(int argc, char **argv)
{
	if (argc < 1)
		return usage();
	if (!strcmp(argv[0], "create"))
		return snap_create_cmd(argc - 1, argv + 1);
	if (!strcmp(argv[0], "list") || !strcmp(argv[0], "show"))
		return snap_list_cmd(argc - 1, argv + 1);
	if (!strcmp(argv[0], "delete"))
		return snap_delete_cmd(argc - 1, argv + 1);
	if (!strcmp(argv[0], "help"))
		return usage();
	fprintf(stderr, "Command \"%s\" is unknown, try \"cdpctl snap help\".\n", argv[0]);
	return CDP_EXIT_USAGE;
}
