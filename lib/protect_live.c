// SPDX-License-Identifier: GPL-2.0
/*
 * protect_live.c - protect a mounted dm/LVM device without unmounting it.
 *
 * The device's table is copied to a new device cdp-origin-NAME, and the
 * device is reloaded with the cdp target on that copy: the file system
 * sees a pause (suspend/resume), not an error. unprotect reverses it, but
 * only when the device still runs that cdp table: LVM reloads a device on
 * its own (lvextend, pvmove, lvchange --refresh) and a reboot brings it
 * back on its own table; putting a table copied before that back would map
 * stale extents under a mounted file system. After a reboot, activate does
 * the switch again and resyncs every region, because the writes made
 * before it were not captured.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "protect_int.h"

static void copy_name(const char *name, char *buf, size_t len)
{
	snprintf(buf, len, CDP_LIVE_COPY_PREFIX "%s", name);
}

int live_switch(const char *dm, const char *name, const char *meta,
		const struct protect_req *rq, const struct cdp_config *cfg,
		struct dm_line *orig, char *origin, size_t olen, char *err, size_t errlen)
{
	struct dm_line cdp;
	char copy[128], devt[32], e2[256];
	int r;

	r = dmdev_table(dm, orig, err, errlen);
	if (r)
		return r;
	if (!strcmp(orig->type, "cdp")) {
		snprintf(err, errlen, "%s is already protected", dm);
		return -EEXIST;
	}
	copy_name(name, copy, sizeof(copy));
	r = dmdev_create(copy, orig, err, errlen);
	if (r)
		return r;
	r = dmdev_devt(copy, devt, sizeof(devt));
	if (r) {
		snprintf(err, errlen, "cannot read the device number of %s: %s", copy, strerror(-r));
	} else {
		snprintf(origin, olen, "/dev/mapper/%s", copy);
		protect_build_line(&cdp, orig->len, devt, meta, name, rq, cfg);
		r = dmdev_reload(dm, &cdp, orig, err, errlen);
	}
	/* @dm is on its own table again (dmdev_reload): the copy is unused */
	if (r)
		dmdev_remove(copy, e2, sizeof(e2));
	return r;
}

void live_undo(const char *dm, const char *name, const struct dm_line *orig)
{
	char copy[128], e[512];

	copy_name(name, copy, sizeof(copy));
	if (!dmdev_reload(dm, orig, NULL, e, sizeof(e)))
		dmdev_remove(copy, e, sizeof(e));
}

/* Does @cur (a cdp table line) run on the device @copy? */
static int runs_on(const struct dm_line *cur, const char *copy)
{
	char devt[32];
	size_t n;

	if (strcmp(cur->type, "cdp") || dmdev_devt(copy, devt, sizeof(devt)))
		return 0;
	n = strlen(devt);
	return !strncmp(cur->params, devt, n) && cur->params[n] == ' ';
}

int live_unprotect(const struct cat_volume *v, char *err, size_t errlen)
{
	const char *copy = v->device + strlen("/dev/mapper/");
	struct dm_line cur, orig;
	int r, have_copy = dmdev_exists(copy);

	r = dmdev_table(v->dm_name, &cur, err, errlen);
	if (r == -EMLINK) {	/* several lines: not the cdp table of ours */
		cur.type[0] = 0;
		r = 0;
	}
	if (r && r != -ENODEV)
		return r;
	if (!r && !strcmp(cur.type, "cdp")) {
		if (!have_copy || !runs_on(&cur, copy)) {
			snprintf(err, errlen, "%s runs a cdp table that is not on %s: not touching it (dmsetup table %s)",
				 v->dm_name, copy, v->dm_name);
			return -EBUSY;
		}
		r = dmdev_table(copy, &orig, err, errlen);
		if (!r)
			r = dmdev_reload(v->dm_name, &orig, &cur, err, errlen);
		if (r)
			return r;
	} else if (have_copy) {
		fprintf(stderr, "cdpctl: warning: %s no longer runs the cdp target (reloaded by LVM?): leaving its table as it is\n",
			v->dm_name);
	}
	return have_copy ? dmdev_remove(copy, err, errlen) : 0;
}

int live_activate(const struct cdp_config *cfg, const struct cat_volume *v,
		  const char *meta, char *err, size_t errlen)
{
	struct protect_req rq = { .sync = !strcmp(v->mode, "sync") };
	char copy[128], origin[256];
	struct dm_line orig;
	int r;

	if (!dmdev_exists(v->dm_name)) {
		snprintf(err, errlen, "%s does not exist: activate it first (lvchange -ay), then cdpctl activate %s",
			 v->dm_name, v->name);
		return -ENODEV;
	}
	copy_name(v->name, copy, sizeof(copy));
	if (dmdev_exists(copy)) {
		r = dmdev_remove(copy, err, errlen);
		if (r)
			return r;
	}
	rq.region_kb = protect_meta_region_kb(meta);
	r = live_switch(v->dm_name, v->name, meta, &rq, cfg, &orig, origin, sizeof(origin),
			err, errlen);
	if (r)
		return r;
	/* writes before this point were not captured: every region goes again */
	r = dmdev_message(v->dm_name, "resync", err, errlen);
	if (r)
		live_undo(v->dm_name, v->name, &orig);
	return r;
}
