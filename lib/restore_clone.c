// SPDX-License-Identifier: GPL-2.0
/* restore_clone.c - protect + clone a snapshot into a new image (restore.h). */
#include "restore.h"
#include "snap_rbd.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Remove an old image of the target name, only when it is safe. */
static int replace_image(struct snap_rbd *s, const char *name, char *err, size_t errlen)
{
	rbd_image_t img;
	rbd_snap_info_t snaps[4];
	int max = 4, n, r;

	r = rbd_open(s->io, name, &img, NULL);
	if (r < 0) {
		snprintf(err, errlen, "cannot open %s/%s: %s", s->pool, name, strerror(-r));
		return r;
	}
	n = rbd_snap_list(img, snaps, &max);
	if (n > 0)
		rbd_snap_list_end(snaps);
	{
		rbd_image_watcher_t w[8];
		size_t nw = 8;

		r = rbd_watchers_list(img, w, &nw);
		if (r >= 0)
			rbd_watchers_list_cleanup(w, nw);
		/* our own open adds one watcher */
		if (r >= 0 && nw > 1)
			n = -EBUSY;
	}
	rbd_close(img);
	if (n == -EBUSY) {
		snprintf(err, errlen, "%s/%s is in use (mapped or exported: unmap it first, e.g. `rbd-nbd unmap`, `cdpctl restore --unexport`)",
			 s->pool, name);
		return -EBUSY;
	}
	if (n != 0) {
		snprintf(err, errlen, "%s/%s has snapshots: not replaced (remove it yourself if it is garbage)",
			 s->pool, name);
		return -ENOTEMPTY;
	}
	r = rbd_remove(s->io, name);
	if (r < 0)
		snprintf(err, errlen, "cannot remove %s/%s: %s", s->pool, name, strerror(-r));
	return r < 0 ? r : 0;
}

int restore_clone(const char *pool, const char *image, const char *snap,
		  const char *name, int force, int want_krbd, struct restore_clone *o,
		  char *err, size_t errlen)
{
	double t0 = cdp_mono();
	rbd_image_t tmp;
	struct snap_rbd s;
	int prot = 0, r;

	memset(o, 0, sizeof(*o));
	snprintf(o->pool, sizeof(o->pool), "%s", pool);
	snprintf(o->image, sizeof(o->image), "%s", image);
	snprintf(o->snap, sizeof(o->snap), "%s", snap);
	if (name)
		snprintf(o->clone, sizeof(o->clone), "%s", name);
	else
		snprintf(o->clone, sizeof(o->clone), "%s-%s", image, snap);
	if (!strcmp(o->clone, image)) {
		snprintf(err, errlen, "the restore target %s/%s is the volume's own image: restores never overwrite their source (choose another --name)",
			 pool, image);
		return -EINVAL;
	}
	r = snap_rbd_open(&s, pool, image, err, errlen);
	if (r)
		return r;
	r = snap_rbd_stat(&s, snap, &o->snap_time, &prot, &o->size);
	if (r) {
		snprintf(err, errlen, "no snapshot %s on %s/%s (list them with `cdpctl snap list` or `rbd snap ls %s/%s`)",
			 snap, pool, image, pool, image);
		goto out;
	}
	if (rbd_open_read_only(s.io, o->clone, &tmp, NULL) >= 0) {
		rbd_close(tmp);
		if (!force) {
			snprintf(err, errlen, "image %s/%s already exists: choose another --name, or pass --force to replace it",
				 pool, o->clone);
			r = -EEXIST;
			goto out;
		}
		r = replace_image(&s, o->clone, err, errlen);
		if (r)
			goto out;
		o->replaced = 1;
	}
	if (!prot) {
		r = rbd_snap_protect(s.img, snap);
		if (r < 0 && r != -EBUSY) {
			snprintf(err, errlen, "cannot protect %s/%s@%s: %s", pool, image, snap, strerror(-r));
			goto out;
		}
	}
	{
		rbd_image_options_t opts;

		rbd_image_options_create(&opts);
		r = rbd_clone3(s.io, image, snap, s.io, o->clone, opts);
		rbd_image_options_destroy(opts);
	}
	if (r < 0)
		snprintf(err, errlen, "cannot clone %s/%s@%s to %s/%s: %s", pool, image, snap, pool,
			 o->clone, strerror(-r));
	else if (want_krbd)
		restore_krbd_spec(s.cluster, &o->krbd);	/* best effort: else the rbd tool maps */
out:
	snap_rbd_close(&s);
	o->ms = (cdp_mono() - t0) * 1000;
	return r < 0 ? r : 0;
}

int restore_latest_snap(const char *pool, const char *image, char *snap, size_t len,
			char *err, size_t errlen)
{
	struct snap_rbd s;
	int r = snap_rbd_open(&s, pool, image, err, errlen);

	if (r)
		return r;
	r = snap_rbd_newest(&s, snap, len, NULL);
	if (r)
		snprintf(err, errlen, "%s/%s has no snapshot: no consistent point to fail over to", pool, image);
	snap_rbd_close(&s);
	return r;
}
