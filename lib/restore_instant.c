// SPDX-License-Identifier: GPL-2.0
/*
 * restore_instant.c - instant restore with dm-clone (restore.h): the
 * application runs on /dev/mapper/<name> at once; reads of regions not yet
 * copied go to the source (the clone, mapped with rbd-nbd), writes go to
 * the local disk, and dm-clone hydrates the rest in the background. When
 * every region is on the local disk the table becomes a plain linear map
 * and the source is unmapped: the disk no longer depends on Ceph.
 *
 * Kernels without dm-clone (Debian 12's has CONFIG_DM_CLONE unset) get the
 * same service from dm-mirror, the way pvmove moves a live volume: legs
 * (source, dest) with a core log, every region out of sync at the start,
 * reads served by the source leg until the region is copied, writes going
 * to both legs (the clone is a scratch image, so that is harmless).
 */
#include "restore.h"
#include "dmdev.h"
#include "util.h"

#include <errno.h>
#include <libdevmapper.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

/* 64 KiB regions: few enough regions for small metadata, big enough I/O over nbd. */
#define REGION_SECTORS	128
#define HYDRATION_BATCH	"16"
#define MIRROR_REGION_SECTORS	1024	/* 512 KiB */

static int dev_size(const char *dev, uint64_t *bytes, char *err, size_t errlen)
{
	int fd = open(dev, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || ioctl(fd, BLKGETSIZE64, bytes)) {
		int e = errno;

		snprintf(err, errlen, "cannot open block device %s: %s", dev, strerror(e));
		if (fd >= 0)
			close(fd);
		return -e;
	}
	close(fd);
	return 0;
}

/* Zero the first 4 KiB so dm-clone formats fresh metadata. */
static int wipe_superblock(const char *dev, char *err, size_t errlen)
{
	static const char zero[4096];
	int fd = open(dev, O_WRONLY | O_CLOEXEC), ok;

	if (fd < 0) {
		snprintf(err, errlen, "cannot open metadata device %s: %s", dev, strerror(errno));
		return -errno;
	}
	ok = pwrite(fd, zero, sizeof(zero), 0) == sizeof(zero) && !fsync(fd);
	close(fd);
	if (!ok) {
		snprintf(err, errlen, "cannot write metadata device %s", dev);
		return -EIO;
	}
	return 0;
}

/* A sparse file under state_dir on a loop device, sized for the regions. */
static int make_meta(struct restore_instant *ri, const char *state_dir, char *err, size_t errlen)
{
	uint64_t regions = ri->sectors / ri->region_sectors + 1;
	uint64_t size = (16ULL << 20) + ROUND_UP(regions / 4, 4096);
	char dir[400], terr[512];
	char *argv[] = { "losetup", "-f", "--show", ri->meta_file, NULL };
	int fd, r;

	snprintf(dir, sizeof(dir), "%s/clone-meta", state_dir);
	mkdir(state_dir, 0700);
	mkdir(dir, 0700);
	snprintf(ri->meta_file, sizeof(ri->meta_file), "%s/%s.meta", dir, ri->dm_name);
	fd = open(ri->meta_file, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || ftruncate(fd, (off_t)size)) {
		snprintf(err, errlen, "cannot create metadata file %s: %s", ri->meta_file, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	close(fd);
	r = restore_exec(argv, ri->meta, sizeof(ri->meta), 30, terr, sizeof(terr));
	if (r || strncmp(ri->meta, "/dev/", 5)) {
		snprintf(err, errlen, "cannot attach %s to a loop device: %s (or give --metadata-dev)",
			 ri->meta_file, terr);
		unlink(ri->meta_file);
		return -EIO;
	}
	return 0;
}

static void drop_meta(struct restore_instant *ri)
{
	char out[64], terr[256];
	char *argv[] = { "losetup", "-d", ri->meta, NULL };

	if (!ri->meta_file[0])
		return;
	restore_exec(argv, out, sizeof(out), 30, terr, sizeof(terr));
	unlink(ri->meta_file);
	ri->meta_file[0] = '\0';
}

/* Is the device-mapper target type loaded (after our modprobe)? */
static int dm_has_target(const char *name)
{
	struct dm_task *t = dm_task_create(DM_DEVICE_LIST_VERSIONS);
	struct dm_versions *v, *last;
	int found = 0;

	if (!t)
		return 0;
	if (dm_task_run(t) && (v = dm_task_get_versions(t))) {
		do {
			last = v;
			found |= !strcmp(v->name, name);
			v = (struct dm_versions *)((char *)v + v->next);
		} while (last != v);
	}
	dm_task_destroy(t);
	return found;
}

/* The initramfs cannot autoload modules for the chroot: load them here. */
static void load_module(const char *mod)
{
	char *argv[] = { "modprobe", (char *)mod, NULL };
	char out[64], terr[256];

	restore_exec(argv, out, sizeof(out), 30, terr, sizeof(terr));
}

int restore_instant_start(const char *pool, const char *image, const char *dest,
			  const char *dm_name, const char *meta_dev, const char *state_dir,
			  struct restore_instant *ri, char *err, size_t errlen)
{
	char terr[256];
	uint64_t src_bytes, dest_bytes;
	struct dm_line l = { 0 };
	int r;

	memset(ri, 0, sizeof(*ri));
	snprintf(ri->dm_name, sizeof(ri->dm_name), "%s", dm_name);
	snprintf(ri->dest, sizeof(ri->dest), "%s", dest);
	ri->region_sectors = REGION_SECTORS;
	if (dmdev_exists(dm_name)) {
		snprintf(err, errlen, "device-mapper device %s exists already (an instant restore of this clone runs? `dmsetup remove %s`)",
			 dm_name, dm_name);
		return -EEXIST;
	}
	r = dev_size(dest, &dest_bytes, err, errlen);
	if (r)
		return r;
	r = restore_map(RESTORE_MAP_NBD, pool, image, ri->source, sizeof(ri->source), 60, err, errlen);
	if (r)
		return r;
	r = dev_size(ri->source, &src_bytes, err, errlen);
	if (r)
		goto out_unmap;
	if (dest_bytes < src_bytes) {
		snprintf(err, errlen, "%s (%llu bytes) is smaller than the snapshot (%llu bytes): give a disk at least that large",
			 dest, (unsigned long long)dest_bytes, (unsigned long long)src_bytes);
		r = -ENOSPC;
		goto out_unmap;
	}
	ri->sectors = src_bytes >> 9;
	load_module("dm-clone");
	if (!dm_has_target("clone")) {
		load_module("dm-mirror");
		if (!dm_has_target("mirror")) {
			snprintf(err, errlen, "this kernel has neither dm-clone nor dm-mirror (modprobe dm-clone)");
			r = -ENODEV;
			goto out_unmap;
		}
		/* source first: the default leg, which serves reads until in sync */
		snprintf(ri->engine, sizeof(ri->engine), "mirror");
		l.len = ri->sectors;
		snprintf(l.type, sizeof(l.type), "mirror");
		/* kcopyd copies a region per job: bigger regions hydrate faster */
		ri->region_sectors = MIRROR_REGION_SECTORS;
		snprintf(l.params, sizeof(l.params), "core 1 %u 2 %s 0 %s 0 1 handle_errors",
			 ri->region_sectors, ri->source, dest);
		r = dmdev_create(dm_name, &l, err, errlen);
		if (!r)
			return 0;
		goto out_unmap;
	}
	snprintf(ri->engine, sizeof(ri->engine), "clone");
	if (meta_dev) {
		snprintf(ri->meta, sizeof(ri->meta), "%s", meta_dev);
		r = wipe_superblock(meta_dev, err, errlen);
	} else {
		r = make_meta(ri, state_dir, err, errlen);
		if (!r)
			r = wipe_superblock(ri->meta, err, errlen);
	}
	if (r)
		goto out_meta;
	l.len = ri->sectors;
	snprintf(l.type, sizeof(l.type), "clone");
	snprintf(l.params, sizeof(l.params), "%s %s %s %u 0 2 hydration_batch_size " HYDRATION_BATCH,
		 ri->meta, dest, ri->source, ri->region_sectors);
	r = dmdev_create(dm_name, &l, err, errlen);
	if (!r)
		return 0;
out_meta:
	drop_meta(ri);
out_unmap:
	restore_unmap(RESTORE_MAP_NBD, ri->source, terr, sizeof(terr));
	return r;
}

/*
 * mirror status: <#legs> <dev>... <in sync>/<total regions> 1 <health chars> ...
 * A 'D' (dead leg) in the health characters is a failed copy.
 */
static int mirror_progress(const struct restore_instant *ri, const char *st,
			   uint64_t *done, uint64_t *total, char *err, size_t errlen)
{
	unsigned long long d, t;
	char health[16] = "";
	const char *p = st;
	int legs, i;

	if (sscanf(p, "%d", &legs) != 1 || legs < 1 || legs > 8)
		goto bad;
	for (i = 0; i <= legs; i++) {
		p = strchr(p, ' ');
		if (!p)
			goto bad;
		p++;
	}
	if (sscanf(p, "%llu/%llu 1 %15s", &d, &t, health) != 3)
		goto bad;
	if (strchr(health, 'D')) {
		snprintf(err, errlen, "dm-mirror %s reports a dead leg (%s): see dmesg", ri->dm_name, health);
		return -EIO;
	}
	*done = d;
	*total = t;
	return 0;
bad:
	snprintf(err, errlen, "unexpected dm-mirror status of %s: %s", ri->dm_name, st);
	return -EPROTO;
}

/*
 * clone status: <meta block size> <used>/<total meta blocks> <region size>
 *               <hydrated>/<total regions> <hydrating> ... <metadata mode>
 */
int restore_instant_progress(const struct restore_instant *ri, uint64_t *done,
			     uint64_t *total, char *err, size_t errlen)
{
	unsigned long long d, t;
	char mode[32] = "";
	struct dm_line l;
	int r = dmdev_status(ri->dm_name, &l, err, errlen);

	if (r)
		return r;
	if (!strcmp(ri->engine, "mirror"))
		return mirror_progress(ri, l.params, done, total, err, errlen);
	if (sscanf(l.params, "%*u %*u/%*u %*u %llu/%llu", &d, &t) != 2) {
		snprintf(err, errlen, "unexpected dm-clone status of %s: %s", ri->dm_name, l.params);
		return -EPROTO;
	}
	{
		const char *last = strrchr(l.params, ' ');

		snprintf(mode, sizeof(mode), "%.31s", last ? last + 1 : l.params);
	}
	if (!strcmp(mode, "fail") || !strcmp(mode, "ro")) {
		snprintf(err, errlen, "dm-clone %s switched its metadata to %s mode (see dmesg)",
			 ri->dm_name, mode);
		return -EIO;
	}
	*done = d;
	*total = t;
	return 0;
}

int restore_instant_finish(struct restore_instant *ri,
			   void (*cb)(uint64_t done, uint64_t total, void *arg), void *arg,
			   char *err, size_t errlen)
{
	uint64_t done = 0, total = 1;
	struct dm_line l = { 0 };
	char terr[512];
	int r;

	/* one status read a second: progress for the user, nothing faster is needed */
	for (;;) {
		r = restore_instant_progress(ri, &done, &total, err, errlen);
		if (r)
			return r;
		if (cb)
			cb(done, total, arg);
		if (done >= total)
			break;
		sleep(1);
	}
	l.len = ri->sectors;
	snprintf(l.type, sizeof(l.type), "linear");
	snprintf(l.params, sizeof(l.params), "%s 0", ri->dest);
	r = dmdev_reload(ri->dm_name, &l, err, errlen);
	if (r)
		return r;
	if (restore_unmap(RESTORE_MAP_NBD, ri->source, terr, sizeof(terr)))
		snprintf(err, errlen, "hydrated, but %s", terr);
	drop_meta(ri);
	return 0;
}
