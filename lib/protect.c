// SPDX-License-Identifier: GPL-2.0
/* protect.c - see protect.h */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/fs.h>
#include <linux/loop.h>

#include "cluster.h"
#include "dmdev.h"
#include "dm-cdp.h"
#include "protect.h"

void cdp_dm_name(const struct cat_volume *v, char *buf, size_t len)
{
	snprintf(buf, len, "%s", v->dm_name);
}

static int dev_size(const char *path, uint64_t *bytes, char *err, size_t errlen)
{
	struct stat st;
	int fd, r = 0;

	if (stat(path, &st)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -errno;
	}
	if (!S_ISBLK(st.st_mode)) {
		snprintf(err, errlen, "%s is not a block device", path);
		return -ENOTBLK;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || ioctl(fd, BLKGETSIZE64, bytes)) {
		r = -errno;
		snprintf(err, errlen, "cannot read the size of %s: %s", path, strerror(errno));
	}
	if (fd >= 0)
		close(fd);
	if (!r && *bytes < 4096) {
		snprintf(err, errlen, "%s is too small to protect", path);
		r = -EINVAL;
	}
	return r;
}

/* Bytes of metadata for @bytes of origin: superblock + one bit per region. */
static uint64_t meta_bytes(uint64_t bytes, unsigned int region_kb)
{
	uint64_t regions = (bytes + region_kb * 1024ULL - 1) / (region_kb * 1024ULL);
	uint64_t bitmap = ((regions + 7) / 8 + 4095) & ~4095ULL;

	bitmap = bitmap < 1 << 20 ? 1 << 20 : bitmap;
	return CDP_META_BITMAP_OFFSET + 2 * bitmap;	/* room for a later format */
}

/*
 * Attach @file to a free loop device. Autoclear is set only once the dm
 * table holds the loop open (loop_autoclear): set now, the loop would be
 * cleared the moment we close it here, before dm ever opened it.
 */
static int loop_attach(const char *file, char *dev, size_t len, char *err, size_t errlen)
{
	int ctl, fd = -1, lfd = -1, n, r = 0;

	ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	if (ctl < 0 && errno == ENOENT && system("modprobe loop >/dev/null 2>&1") == 0)
		ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	if (ctl < 0) {
		snprintf(err, errlen, "cannot open /dev/loop-control (%s): load the loop module or give --meta DEV",
			 strerror(errno));
		return -errno;
	}
	n = ioctl(ctl, LOOP_CTL_GET_FREE);
	close(ctl);
	if (n < 0) {
		snprintf(err, errlen, "no free loop device: %s", strerror(errno));
		return -errno;
	}
	snprintf(dev, len, "/dev/loop%d", n);
	fd = open(file, O_RDWR | O_CLOEXEC);
	lfd = open(dev, O_RDWR | O_CLOEXEC);
	if (fd < 0 || lfd < 0 || ioctl(lfd, LOOP_SET_FD, fd)) {
		r = -errno;
		snprintf(err, errlen, "cannot attach %s to %s: %s", file, dev, strerror(errno));
		if (lfd >= 0)
			ioctl(lfd, LOOP_CLR_FD, 0);
	}
	if (fd >= 0)
		close(fd);
	if (lfd >= 0)
		close(lfd);
	return r;
}

/* Detach the loop when its last user (the dm table) goes; or now, with @now. */
static void loop_release(const char *dev, int now)
{
	struct loop_info64 li;
	int fd = open(dev, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return;
	if (now) {
		ioctl(fd, LOOP_CLR_FD, 0);
	} else if (!ioctl(fd, LOOP_GET_STATUS64, &li)) {
		li.lo_flags |= LO_FLAGS_AUTOCLEAR;
		ioctl(fd, LOOP_SET_STATUS64, &li);
	}
	close(fd);
}

static int meta_file(const struct cdp_config *cfg, const char *name, uint64_t size,
		     int create, char *path, size_t len, char *err, size_t errlen)
{
	int fd;

	snprintf(path, len, "%s/meta", cfg->state_dir);
	mkdir(cfg->state_dir, 0700);
	mkdir(path, 0700);
	snprintf(path, len, "%s/meta/%s.meta", cfg->state_dir, name);
	fd = open(path, O_RDWR | O_CLOEXEC | (create ? O_CREAT | O_EXCL : 0), 0600);
	if (fd < 0) {
		snprintf(err, errlen, "cannot %s metadata file %s: %s%s", create ? "create" : "open",
			 path, strerror(errno),
			 errno == EEXIST ? " (a leftover of an earlier protect: remove it)" : "");
		return -errno;
	}
	if (create && ftruncate(fd, size)) {
		snprintf(err, errlen, "cannot size %s: %s", path, strerror(errno));
		close(fd);
		unlink(path);
		return -errno;
	}
	close(fd);
	return 0;
}

static void build_line(struct dm_line *l, uint64_t sectors, const char *origin,
		       const char *meta, const char *name, const struct protect_req *rq,
		       const struct cdp_config *cfg)
{
	char opts[256];
	int n = 0, words = 1;

	n += snprintf(opts + n, sizeof(opts) - n, " %s", rq->sync ? "sync" : "async");
	n += snprintf(opts + n, sizeof(opts) - n, " queue_mb %u",
		      rq->queue_mb ? rq->queue_mb : cfg->queue_mb);
	n += snprintf(opts + n, sizeof(opts) - n, " region_kb %u",
		      rq->region_kb ? rq->region_kb : cfg->region_kb);
	words += 4;
	if (rq->sync_timeout_ms) {
		n += snprintf(opts + n, sizeof(opts) - n, " sync_timeout_ms %u", rq->sync_timeout_ms);
		words += 2;
	}
	if (rq->on_timeout_error) {
		snprintf(opts + n, sizeof(opts) - n, " on_sync_timeout error");
		words += 2;
	}
	memset(l, 0, sizeof(*l));
	l->len = sectors;
	strcpy(l->type, "cdp");
	snprintf(l->params, sizeof(l->params), "%s %s %s %d%s", origin, meta, name, words, opts);
}

static int create_image(struct cdp_cluster *cl, const char *pool, const char *image,
			uint64_t size, char *err, size_t errlen)
{
	rbd_image_options_t o;
	int r;

	r = cdp_cluster_pool(cl, pool, err, errlen);
	if (r)
		return r;
	rbd_image_options_create(&o);
	r = rbd_create4(cl->io, image, size, o);
	rbd_image_options_destroy(o);
	if (r == -EEXIST)
		snprintf(err, errlen, "RBD image %s/%s already exists: choose another --image, or remove the leftover with 'rbd rm %s/%s'",
			 pool, image, pool, image);
	else if (r)
		snprintf(err, errlen, "cannot create RBD image %s/%s: %s", pool, image, strerror(-r));
	return r;
}

static int valid_name(const char *s)
{
	size_t n = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-");

	return n && !s[n] && n <= 48 && s[0] != '.' && s[0] != '-';
}

/* --live: copy the device's table to cdp-origin-NAME and stack cdp on it. */
static int live_switch(const char *dm, const char *name, const char *meta,
		       const struct protect_req *rq, const struct cdp_config *cfg,
		       char *origin, size_t olen, char *err, size_t errlen)
{
	struct dm_line orig, cdp;
	char copy[128], devt[32];
	int r;

	r = dmdev_table(dm, &orig, err, errlen);
	if (r)
		return r;
	if (!strcmp(orig.type, "cdp")) {
		snprintf(err, errlen, "%s is already protected", dm);
		return -EEXIST;
	}
	snprintf(copy, sizeof(copy), "cdp-origin-%s", name);
	r = dmdev_create(copy, &orig, err, errlen);
	if (r)
		return r;
	dmdev_devt(copy, devt, sizeof(devt));
	snprintf(origin, olen, "/dev/mapper/%s", copy);
	build_line(&cdp, orig.len, devt, meta, name, rq, cfg);
	r = dmdev_reload(dm, &cdp, err, errlen);
	if (r) {
		char e2[256];

		dmdev_remove(copy, e2, sizeof(e2));
	}
	return r;
}

/* The target must be there before anything is created for it. */
static int need_module(char *err, size_t errlen)
{
	if (access("/sys/module/dm_cdp", F_OK) &&
	    (system("modprobe dm-cdp >/dev/null 2>&1") || access("/sys/module/dm_cdp", F_OK))) {
		snprintf(err, errlen, "the dm-cdp kernel module is not loaded: modprobe dm-cdp (install it with 'dkms install dm-cdp/0.1.0')");
		return -ENOENT;
	}
	return 0;
}

int cdp_protect(const struct cdp_config *cfg, struct catalog *cat,
		const struct protect_req *rq, struct cat_volume *v,
		char *err, size_t errlen)
{
	char pool[128], image[128], meta[4096], mfile[4096] = "", dm[128], e2[256];
	struct cdp_cluster cl;
	struct dm_line line;
	uint64_t size;
	int r, made_image = 0, looped = 0;

	memset(v, 0, sizeof(*v));
	r = cdp_split_image(rq->image, cfg->pool, pool, sizeof(pool), image, sizeof(image),
			    err, errlen);
	if (r)
		return r;
	snprintf(v->name, sizeof(v->name), "%s", rq->name ? rq->name : image);
	if (!valid_name(v->name)) {
		snprintf(err, errlen, "'%s' is not a usable volume name (1-48 of A-Z a-z 0-9 . _ -): give --name",
			 v->name);
		return -EINVAL;
	}
	if (!volume_catalog_get(cat, v->name, v) && strcmp(v->state, "unprotected")) {
		snprintf(err, errlen, "volume %s is already protected (%s/%s)", v->name, v->pool, v->image);
		return -EEXIST;
	}
	memset(v, 0, sizeof(*v));
	snprintf(v->name, sizeof(v->name), "%s", rq->name ? rq->name : image);
	r = need_module(err, errlen);
	if (!r)
		r = dev_size(rq->device, &size, err, errlen);
	if (r)
		return r;
	if (rq->live) {
		r = dmdev_name_of(rq->device, dm, sizeof(dm));
		if (r) {
			snprintf(err, errlen, "%s is not a device-mapper device: --live needs a dm or LVM device",
				 rq->device);
			return r;
		}
	} else {
		/* O_EXCL on a block device: fails while mounted or held by dm/md */
		int fd = open(rq->device, O_RDONLY | O_EXCL | O_CLOEXEC);

		if (fd < 0) {
			snprintf(err, errlen, errno == EBUSY ?
				 "%s is busy (mounted or open): unmount it, or protect the dm/LVM device on top with --live" :
				 "cannot open %s: %m", rq->device);
			return -errno;
		}
		close(fd);
		snprintf(dm, sizeof(dm), "cdp-%s", v->name);
		if (dmdev_exists(dm)) {
			snprintf(err, errlen, "/dev/mapper/%s already exists", dm);
			return -EEXIST;
		}
	}
	r = cdp_cluster_connect(cfg, &cl, err, errlen);
	if (r)
		return r;
	r = create_image(&cl, pool, image, size, err, errlen);
	if (r)
		goto out;
	made_image = 1;
	if (rq->meta) {
		snprintf(meta, sizeof(meta), "%s", rq->meta);
	} else {
		r = meta_file(cfg, v->name, meta_bytes(size, rq->region_kb ?: cfg->region_kb), 1,
			      mfile, sizeof(mfile), err, errlen);
		if (!r)
			r = loop_attach(mfile, meta, sizeof(meta), err, errlen);
		if (r)
			goto out;
		looped = 1;
	}
	if (rq->live) {
		char origin[256];

		r = live_switch(dm, v->name, meta, rq, cfg, origin, sizeof(origin), err, errlen);
		snprintf(v->device, sizeof(v->device), "%s", origin);
	} else {
		build_line(&line, size >> 9, rq->device, meta, v->name, rq, cfg);
		r = dmdev_create(dm, &line, err, errlen);
		if (r == -EBUSY)
			snprintf(err, errlen, "%s is busy (mounted or open): unmount it, or protect the dm/LVM device on top with --live",
				 rq->device);
		snprintf(v->device, sizeof(v->device), "%s", rq->device);
	}
	if (r)
		goto out;
	snprintf(v->meta_device, sizeof(v->meta_device), "%s", mfile[0] ? mfile : meta);
	snprintf(v->dm_name, sizeof(v->dm_name), "%s", dm);
	snprintf(v->pool, sizeof(v->pool), "%s", pool);
	snprintf(v->image, sizeof(v->image), "%s", image);
	strcpy(v->mode, rq->sync ? "sync" : "async");
	strcpy(v->state, "protected");
	r = volume_catalog_add(cat, v);
	if (r == -EEXIST) {
		/* re-protecting a volume that was unprotected: replace its row */
		struct cat_volume old;

		if (!volume_catalog_get(cat, v->name, &old) && !volume_catalog_delete(cat, old.id))
			r = volume_catalog_add(cat, v);
	}
	if (r) {
		snprintf(err, errlen, "cannot record the volume in the catalog: %s", catalog_errmsg(cat));
		if (rq->live)
			cdp_unprotect(cfg, cat, v->name, 0, e2, sizeof(e2));
		else
			dmdev_remove(dm, e2, sizeof(e2));
		goto out;
	}
	catalog_event(cat, v->id, "info", "protect", v->dm_name);
out:
	if (looped)
		loop_release(meta, r != 0);
	if (r && made_image)
		rbd_remove(cl.io, image);
	if (r && mfile[0])
		unlink(mfile);
	cdp_cluster_close(&cl);
	return r;
}

/* The metadata device path of a volume: file-backed ones get a new loop. */
static int meta_dev(const struct cat_volume *v, char *dev, size_t len, char *err, size_t errlen)
{
	struct stat st;

	if (stat(v->meta_device, &st)) {
		snprintf(err, errlen, "metadata %s of volume %s is missing: %s", v->meta_device,
			 v->name, strerror(errno));
		return -errno;
	}
	if (S_ISBLK(st.st_mode)) {
		snprintf(dev, len, "%s", v->meta_device);
		return 0;
	}
	return loop_attach(v->meta_device, dev, len, err, errlen);
}

int cdp_activate(const struct cdp_config *cfg, struct catalog *cat,
		 const struct cat_volume *v, char *err, size_t errlen)
{
	struct protect_req rq = { .sync = !strcmp(v->mode, "sync") };
	struct dm_line line;
	char meta[4096];
	uint64_t size;
	int r;

	if (strcmp(v->state, "protected")) {
		snprintf(err, errlen, "volume %s is %s, not protected", v->name, v->state);
		return -EINVAL;
	}
	if (dmdev_exists(v->dm_name)) {
		if (!dmdev_table(v->dm_name, &line, err, errlen) && !strcmp(line.type, "cdp"))
			return 0;	/* already active */
		snprintf(err, errlen, "%s exists without the cdp target: protect it again with --live",
			 v->dm_name);
		return -EEXIST;
	}
	if (strncmp(v->dm_name, "cdp-", 4) || !strncmp(v->device, "/dev/mapper/cdp-origin-", 23)) {
		snprintf(err, errlen, "volume %s was protected live on %s: recreate %s first, then 'cdpctl protect --live'",
			 v->name, v->dm_name, v->dm_name);
		return -EOPNOTSUPP;
	}
	r = need_module(err, errlen);
	if (!r)
		r = dev_size(v->device, &size, err, errlen);
	if (!r)
		r = meta_dev(v, meta, sizeof(meta), err, errlen);
	if (r)
		return r;
	build_line(&line, size >> 9, v->device, meta, v->name, &rq, cfg);
	r = dmdev_create(v->dm_name, &line, err, errlen);
	if (strcmp(meta, v->meta_device))
		loop_release(meta, r != 0);
	return r;
}

int cdp_unprotect(const struct cdp_config *cfg, struct catalog *cat,
		  const char *name, int delete_image, char *err, size_t errlen)
{
	struct cat_volume v;
	struct dm_line orig;
	int r, live;

	if (volume_catalog_get(cat, name, &v)) {
		snprintf(err, errlen, "no volume %s in the catalog (see cdpctl list)", name);
		return -ENOENT;
	}
	live = !strncmp(v.device, "/dev/mapper/cdp-origin-", 23);
	if (live) {
		/* give the device its original table back, then drop the copy */
		r = dmdev_table(v.device + 12, &orig, err, errlen);
		if (!r)
			r = dmdev_reload(v.dm_name, &orig, err, errlen);
		if (!r)
			r = dmdev_remove(v.device + 12, err, errlen);
	} else {
		r = dmdev_exists(v.dm_name) ? dmdev_remove(v.dm_name, err, errlen) : 0;
		if (r == -EBUSY)
			snprintf(err, errlen, "/dev/mapper/%s is in use: unmount it or stop its users first",
				 v.dm_name);
	}
	if (r)
		return r;
	if (delete_image) {
		struct cdp_cluster cl;

		r = cdp_cluster_connect(cfg, &cl, err, errlen);
		if (!r)
			r = cdp_cluster_pool(&cl, v.pool, err, errlen);
		if (!r) {
			r = rbd_remove(cl.io, v.image);
			if (r)
				snprintf(err, errlen, "target removed, but RBD image %s/%s was not: %s%s",
					 v.pool, v.image, strerror(-r),
					 r == -ENOTEMPTY ? " (it has snapshots: delete them first)" : "");
		}
		cdp_cluster_close(&cl);
		if (r)
			return r;
	}
	if (v.meta_device[0] == '/' && !strncmp(v.meta_device, cfg->state_dir, strlen(cfg->state_dir)))
		unlink(v.meta_device);
	r = volume_catalog_set_state(cat, v.id, "unprotected");
	catalog_event(cat, v.id, "info", "unprotect", v.dm_name);
	return r;
}
