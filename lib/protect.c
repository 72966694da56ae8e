// SPDX-License-Identifier: GPL-2.0
/* protect.c - see protect.h */
#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <limits.h>
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
#include "protect_int.h"
#include "util.h"

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
	int ctl, fd, lfd, n = 0, r = 0, tries;

	ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	if (ctl < 0 && errno == ENOENT && system("modprobe loop >/dev/null 2>&1") == 0)
		ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	if (ctl < 0) {
		snprintf(err, errlen, "cannot open /dev/loop-control (%s): load the loop module or give --meta DEV",
			 strerror(errno));
		return -errno;
	}
	fd = open(file, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		close(ctl);
		snprintf(err, errlen, "cannot open %s: %s", file, strerror(errno));
		return -errno;
	}
	/*
	 * Another process may take the free loop between GET_FREE and SET_FD
	 * (EBUSY): ask again. A failed SET_FD attached nothing of ours, so
	 * there is nothing to clear (clearing would detach theirs).
	 */
	for (tries = 0; tries < 8; tries++) {
		n = ioctl(ctl, LOOP_CTL_GET_FREE);
		if (n < 0) {
			r = -errno;
			snprintf(err, errlen, "no free loop device: %s", strerror(errno));
			break;
		}
		snprintf(dev, len, "/dev/loop%d", n);
		lfd = open(dev, O_RDWR | O_CLOEXEC);
		r = lfd < 0 || ioctl(lfd, LOOP_SET_FD, fd) ? -errno : 0;
		if (lfd >= 0)
			close(lfd);
		if (r != -EBUSY)
			break;
	}
	if (r && n >= 0)
		snprintf(err, errlen, "cannot attach %s to %s: %s", file, dev, strerror(-r));
	close(fd);
	close(ctl);
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

void protect_build_line(struct dm_line *l, uint64_t sectors, const char *origin,
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

/* The cdp superblock's region size, for a table loaded on existing metadata. */
unsigned int protect_meta_region_kb(const char *dev)
{
	uint32_t w[27];
	int fd = open(dev, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : pread(fd, w, sizeof(w), 0);

	if (fd >= 0)
		close(fd);
	/* little endian: magic at byte 0, region_sectors at byte 104 */
	if (n != (ssize_t)sizeof(w) || le32toh(w[0]) != CDP_META_MAGIC)
		return 0;
	return le32toh(w[26]) / 2;
}

/*
 * A given --meta device: protect makes a new, empty image, so the metadata
 * must be new too. Left-over cdp metadata of this name would pass the
 * kernel's checks and resync only its dirty regions to the empty image:
 * its superblock is zeroed (a full initial sync). Anything else on it is
 * refused rather than overwritten.
 */
static int meta_fresh(const char *dev, char *err, size_t errlen)
{
	static const char zero[4096];
	char buf[4096];
	uint32_t magic;
	int fd, r = 0;

	fd = open(dev, O_RDWR | O_EXCL | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "cannot open --meta %s: %s%s", dev, strerror(errno),
			 errno == EBUSY ? " (in use: give a device no one has open)" : "");
		return -errno;
	}
	if (pread(fd, buf, sizeof(buf), 0) != (ssize_t)sizeof(buf)) {
		snprintf(err, errlen, "cannot read --meta %s", dev);
		r = -EIO;
	} else if (memcmp(buf, zero, sizeof(buf))) {
		memcpy(&magic, buf, sizeof(magic));
		if (le32toh(magic) != CDP_META_MAGIC) {
			snprintf(err, errlen, "--meta %s holds data that is not cdp metadata: give an empty device (or zero its first 4 KiB if it is really unused)",
				 dev);
			r = -ENOTEMPTY;
		} else if (pwrite(fd, zero, sizeof(zero), 0) != (ssize_t)sizeof(zero) ||
			   fdatasync(fd)) {
			snprintf(err, errlen, "cannot reset the old cdp metadata on %s: %s", dev,
				 strerror(errno));
			r = -EIO;
		}
	}
	close(fd);
	return r;
}

/*
 * The origin as activate will find it after a reboot: /dev/sdb may then be
 * another disk (device names follow probe order), so keep a name udev
 * derives from the disk itself, /dev/disk/by-id/wwn-* first. dm and LVM
 * names are stable already and left as typed; so is a disk without one.
 */
static void stable_path(const char *dev, char *out, size_t len)
{
	char p[PATH_MAX], best[PATH_MAX] = "";
	struct stat want, st;
	struct dirent *e;
	int rank, best_rank = 2;
	DIR *d;

	snprintf(out, len, "%s", dev);
	if (stat(dev, &want) || !S_ISBLK(want.st_mode))
		return;
	d = opendir("/dev/disk/by-id");
	if (!d)
		return;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' || !strncmp(e->d_name, "dm-", 3) ||
		    !strncmp(e->d_name, "lvm-", 4))
			continue;
		snprintf(p, sizeof(p), "/dev/disk/by-id/%s", e->d_name);
		if (stat(p, &st) || st.st_rdev != want.st_rdev)
			continue;
		/* wwn- first, then the first name in order: the same every time */
		rank = strncmp(e->d_name, "wwn-", 4) ? 1 : 0;
		if (rank < best_rank || (rank == best_rank && strcmp(p, best) < 0)) {
			snprintf(best, sizeof(best), "%s", p);
			best_rank = rank;
		}
	}
	closedir(d);
	if (best[0] && strlen(best) < len)
		snprintf(out, len, "%s", best);
}

/* Checks before anything is made: the name, the device, the module. */
static int protect_check(const struct protect_req *rq, struct catalog *cat,
			 struct cat_volume *v, char *dm, size_t dmlen, uint64_t *size,
			 char *err, size_t errlen)
{
	struct cat_volume old;
	int r, fd;

	if (!valid_name(v->name)) {
		snprintf(err, errlen, "'%s' is not a usable volume name (1-48 of A-Z a-z 0-9 . _ -): give --name",
			 v->name);
		return -EINVAL;
	}
	if (!volume_catalog_get(cat, v->name, &old) && strcmp(old.state, "unprotected")) {
		snprintf(err, errlen, "volume %s is already protected (%s/%s)", v->name, old.pool,
			 old.image);
		return -EEXIST;
	}
	r = need_module(err, errlen);
	if (!r)
		r = dev_size(rq->device, size, err, errlen);
	if (r)
		return r;
	if (rq->live) {
		r = dmdev_name_of(rq->device, dm, dmlen);
		if (r)
			snprintf(err, errlen, "%s is not a device-mapper device: --live needs a dm or LVM device",
				 rq->device);
		return r;
	}
	/* O_EXCL on a block device: fails while mounted or held by dm/md */
	fd = open(rq->device, O_RDONLY | O_EXCL | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, errno == EBUSY ?
			 "%s is busy (mounted or open): unmount it, or protect the dm/LVM device on top with --live" :
			 "cannot open %s: %m", rq->device);
		return -errno;
	}
	close(fd);
	snprintf(dm, dmlen, "cdp-%s", v->name);
	if (dmdev_exists(dm)) {
		snprintf(err, errlen, "/dev/mapper/%s already exists", dm);
		return -EEXIST;
	}
	return 0;
}

int cdp_protect(const struct cdp_config *cfg, struct catalog *cat,
		const struct protect_req *rq, struct cat_volume *v,
		char *err, size_t errlen)
{
	char pool[128], image[128], meta[4096], mfile[4096] = "", dm[128], e2[256];
	struct dm_line line, orig;
	struct cdp_cluster cl;
	sigset_t sigs;
	uint64_t size;
	int r, made_image = 0, made_mfile = 0, looped = 0, switched = 0;

	memset(v, 0, sizeof(*v));
	r = cdp_split_image(rq->image, cfg->pool, pool, sizeof(pool), image, sizeof(image),
			    err, errlen);
	if (r)
		return r;
	snprintf(v->name, sizeof(v->name), "%s", rq->name ? rq->name : image);
	r = protect_check(rq, cat, v, dm, sizeof(dm), &size, err, errlen);
	if (r)
		return r;
	if (rq->meta) {
		r = meta_fresh(rq->meta, err, errlen);
		if (r)
			return r;
	}
	r = cdp_cluster_connect(cfg, &cl, err, errlen);
	if (r)
		return r;
	cdp_hold_signals(&sigs);
	r = create_image(&cl, pool, image, size, err, errlen);
	if (r)
		goto out;
	made_image = 1;
	if (rq->meta) {
		snprintf(meta, sizeof(meta), "%s", rq->meta);
	} else {
		r = meta_file(cfg, v->name, meta_bytes(size, rq->region_kb ?: cfg->region_kb), 1,
			      mfile, sizeof(mfile), err, errlen);
		made_mfile = !r;
		if (!r)
			r = loop_attach(mfile, meta, sizeof(meta), err, errlen);
		if (r)
			goto out;
		looped = 1;
	}
	if (rq->live) {
		char origin[256];

		r = live_switch(dm, v->name, meta, rq, cfg, &orig, origin, sizeof(origin),
				err, errlen);
		switched = !r;
		snprintf(v->device, sizeof(v->device), "%s", origin);
	} else {
		protect_build_line(&line, size >> 9, rq->device, meta, v->name, rq, cfg);
		r = dmdev_create(dm, &line, err, errlen);
		if (r == -EBUSY)
			snprintf(err, errlen, "%s is busy (mounted or open): unmount it, or protect the dm/LVM device on top with --live",
				 rq->device);
		stable_path(rq->device, v->device, sizeof(v->device));
	}
	if (r)
		goto out;
	snprintf(v->meta_device, sizeof(v->meta_device), "%s", mfile[0] ? mfile : meta);
	snprintf(v->dm_name, sizeof(v->dm_name), "%s", dm);
	snprintf(v->pool, sizeof(v->pool), "%s", pool);
	snprintf(v->image, sizeof(v->image), "%s", image);
	strcpy(v->mode, rq->sync ? "sync" : "async");
	strcpy(v->state, "protected");
	r = volume_catalog_add_replacing(cat, v);
	if (r) {
		snprintf(err, errlen, "cannot record the volume in the catalog: %s",
			 r == -EEXIST ? "the name or the image is taken" : catalog_errmsg(cat));
		/* undone from what this run did, never from a catalog lookup */
		if (switched)
			live_undo(dm, v->name, &orig);
		else
			dmdev_remove(dm, e2, sizeof(e2));
		goto out;
	}
	catalog_event(cat, v->id, "info", "protect", v->dm_name);
out:
	if (looped)
		loop_release(meta, r != 0);
	if (r && made_image && rbd_remove(cl.io, image))
		fprintf(stderr, "cdpctl: warning: RBD image %s/%s made for this protect is left behind: rbd rm %s/%s\n",
			pool, image, pool, image);
	if (r && made_mfile)
		unlink(mfile);
	cdp_cluster_close(&cl);
	sigprocmask(SIG_SETMASK, &sigs, NULL);
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

static int is_live(const struct cat_volume *v)
{
	return !strncmp(v->device, "/dev/mapper/" CDP_LIVE_COPY_PREFIX,
			strlen("/dev/mapper/" CDP_LIVE_COPY_PREFIX));
}

int cdp_activate(const struct cdp_config *cfg, struct catalog *cat,
		 const struct cat_volume *v, char *err, size_t errlen)
{
	struct protect_req rq = { .sync = !strcmp(v->mode, "sync") };
	struct dm_line line;
	char meta[4096];
	uint64_t size = 0;
	int r;

	if (strcmp(v->state, "protected")) {
		snprintf(err, errlen, "volume %s is %s, not protected", v->name, v->state);
		return -EINVAL;
	}
	if (dmdev_exists(v->dm_name) && !dmdev_table(v->dm_name, &line, err, errlen) &&
	    !strcmp(line.type, "cdp"))
		return 0;	/* already active */
	if (!is_live(v) && dmdev_exists(v->dm_name)) {
		snprintf(err, errlen, "%s exists without the cdp target: remove it, then activate",
			 v->dm_name);
		return -EEXIST;
	}
	r = need_module(err, errlen);
	if (!r && !is_live(v))
		r = dev_size(v->device, &size, err, errlen);
	if (!r)
		r = meta_dev(v, meta, sizeof(meta), err, errlen);
	if (r)
		return r;
	if (is_live(v)) {
		r = live_activate(cfg, v, meta, err, errlen);
	} else {
		/* a table on existing metadata must match its region size */
		rq.region_kb = protect_meta_region_kb(meta);
		protect_build_line(&line, size >> 9, v->device, meta, v->name, &rq, cfg);
		r = dmdev_create(v->dm_name, &line, err, errlen);
	}
	if (strcmp(meta, v->meta_device))
		loop_release(meta, r != 0);
	return r;
}

/* The file protect made under state_dir/meta, not a device the user gave. */
static int own_meta_file(const struct cdp_config *cfg, const char *path)
{
	size_t n = strlen(cfg->state_dir);

	return path[0] == '/' && !strncmp(path, cfg->state_dir, n) &&
	       !strncmp(path + n, "/meta/", 6);
}

static int delete_image(const struct cdp_config *cfg, const struct cat_volume *v,
			char *err, size_t errlen)
{
	struct cdp_cluster cl;
	int r;

	r = cdp_cluster_connect(cfg, &cl, err, errlen);
	if (!r)
		r = cdp_cluster_pool(&cl, v->pool, err, errlen);
	if (!r) {
		r = rbd_remove(cl.io, v->image);
		if (r)
			snprintf(err, errlen, "target removed, but RBD image %s/%s was not: %s%s",
				 v->pool, v->image, strerror(-r),
				 r == -ENOTEMPTY ? " (it has snapshots: delete them first)" : "");
	}
	cdp_cluster_close(&cl);
	return r;
}

int cdp_unprotect(const struct cdp_config *cfg, struct catalog *cat,
		  const char *name, int del_image, char *err, size_t errlen)
{
	struct cat_volume v;
	sigset_t sigs;
	int r;

	if (volume_catalog_get(cat, name, &v)) {
		snprintf(err, errlen, "no volume %s in the catalog (see cdpctl list)", name);
		return -ENOENT;
	}
	if (!strcmp(v.state, "external")) {
		snprintf(err, errlen, "%s is an image cdp did not make (archived from outside): nothing to unprotect",
			 name);
		return -EINVAL;
	}
	cdp_hold_signals(&sigs);
	if (is_live(&v)) {
		r = live_unprotect(&v, err, errlen);
	} else {
		r = dmdev_exists(v.dm_name) ? dmdev_remove(v.dm_name, err, errlen) : 0;
		if (r == -EBUSY)
			snprintf(err, errlen, "/dev/mapper/%s is in use: unmount it or stop its users first",
				 v.dm_name);
	}
	if (!r) {
		if (own_meta_file(cfg, v.meta_device))
			unlink(v.meta_device);
		/* the target is gone: say so even if the image cannot go */
		r = volume_catalog_set_state(cat, v.id, "unprotected");
		catalog_event(cat, v.id, "info", "unprotect", v.dm_name);
	}
	sigprocmask(SIG_SETMASK, &sigs, NULL);
	if (!r && del_image)
		r = delete_image(cfg, &v, err, errlen);
	return r;
}
