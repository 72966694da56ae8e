// SPDX-License-Identifier: GPL-2.0
/*
 * restore_instant.c - instant restore with dm-clone (restore.h): the
 * application runs on /dev/mapper/<name> at once; reads of regions not yet
 * copied go to the source (the clone, mapped with rbd-nbd), writes go to
 * the local disk, and dm-clone hydrates the rest in the background. When
 * every region is on the local disk the table becomes a plain linear map
 * and the source is unmapped: the disk no longer depends on Ceph.
 *
 * dm-clone comes from the kernel, or from our package where the kernel is
 * built without it (Debian 12: CONFIG_DM_CLONE unset; kmod/dm-clone/ is
 * upstream's, built and installed by dkms beside dm-cdp.ko): modprobe
 * dm-clone, else insmod $CDP_KMOD_DIR/dm-clone/dm-clone.ko (a build tree).
 * Only when neither works, dm-mirror does the job the way pvmove moves a
 * live volume: legs (source, dest) with a core log, every region out of
 * sync at the start, reads served by the source leg until the region is
 * copied, writes going to both legs (the clone is a scratch image, so that
 * is harmless) - but application I/O to a region waits behind its copy,
 * which is why it is only the fallback, and ri->fallback says why.
 */
#include "restore.h"
#include "dmdev.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

/*
 * dm-clone regions: 64 KiB, doubled for big disks so there are at most
 * MAX_REGIONS (each is a bit in two in-core bitmaps and on disk; 4 Mi
 * regions = 256 GiB at 64 KiB). A write smaller than a region to a region
 * not yet copied waits for that region's copy, so regions stay small; a
 * write of a whole region skips the copy.
 */
#define REGION_SECTORS		128
#define MAX_REGIONS		(4ULL << 20)
/*
 * Background copy: kcopyd jobs of HYDRATION_BATCH_BYTES (contiguous regions
 * batched, hydration_batch_size), at most HYDRATION_JOBS of them in flight
 * (hydration_threshold counts regions, batched ones included, so it must be
 * at least the batch size or batching never happens). dm-clone pauses the
 * background copy whenever application I/O is in flight, so these only set
 * how fast an idle disk fills: 1 MiB jobs suit rbd-nbd.
 */
#define HYDRATION_BATCH_BYTES	(1U << 20)
#define HYDRATION_JOBS		4
#define MIRROR_REGION_SECTORS	1024	/* 512 KiB */
/* dm-clone raises its event at the first metadata commit after the last copy (<= 1 s) */
#define EVENT_WAIT_S		5

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

static int same_dev(const char *a, const char *b)
{
	struct stat sa, sb;

	return !stat(a, &sa) && !stat(b, &sb) && sa.st_rdev == sb.st_rdev;
}

/* Does the block device have holders (dm, md, bcache: /sys/.../holders)? */
static int has_holders(dev_t rdev)
{
	char path[128];
	struct dirent *e;
	int n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/holders", major(rdev), minor(rdev));
	d = opendir(path);
	if (!d)
		return 0;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/*
 * The disk a restore overwrites must be unused: not mounted, not open
 * exclusively (O_EXCL fails then), not under a dm or md device (an LVM PV,
 * the origin of a protected volume: device-mapper's own claim would let a
 * second dm table have it), and not the metadata device too.
 */
static int check_unused(const char *dev, const char *what, char *err, size_t errlen)
{
	struct stat st;
	int fd;

	if (stat(dev, &st) || !S_ISBLK(st.st_mode)) {
		snprintf(err, errlen, "%s %s is not a block device", what, dev);
		return -ENOTBLK;
	}
	if (has_holders(st.st_rdev)) {
		snprintf(err, errlen, "%s %s is in use by a dm or md device (see lsblk %s): give an unused disk",
			 what, dev, dev);
		return -EBUSY;
	}
	fd = open(dev, O_RDONLY | O_EXCL | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "%s %s %s", what, dev, errno == EBUSY ?
			 "is in use (mounted, or open by another program): give an unused disk" :
			 strerror(errno));
		return -errno;
	}
	close(fd);
	return 0;
}

int restore_instant_check(const char *dest, const char *meta_dev, char *err, size_t errlen)
{
	int r = check_unused(dest, "restore target", err, errlen);

	if (r || !meta_dev)
		return r;
	if (same_dev(meta_dev, dest)) {
		snprintf(err, errlen, "the metadata device %s is the restore target itself: give another one",
			 meta_dev);
		return -EINVAL;
	}
	return check_unused(meta_dev, "metadata device", err, errlen);
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

/*
 * Metadata size. dm-clone.rst gives no formula; dm-clone-metadata.c keeps a
 * superblock, a space map and the hydration bitset as a dm-array of 64-bit
 * words (4 KiB blocks of about 32k regions each), and a transaction shadows
 * every block it changes: 2 x regions/8 bytes plus a few btree and
 * space-map blocks. 4 MiB + regions/4 bytes is that with ample room (64 GiB
 * at 64 KiB regions: 4.25 MiB; 1 TiB at 256 KiB regions: 5 MiB). Our own
 * file is sparse, so the room costs nothing; a --metadata-dev must have it.
 */
static uint64_t meta_bytes(const struct restore_instant *ri)
{
	uint64_t regions = ri->sectors / ri->region_sectors + 1;

	return (4ULL << 20) + ROUND_UP(regions / 4, 4096);
}

/* A sparse file under state_dir on a loop device, sized for the regions. */
static int make_meta(struct restore_instant *ri, const char *state_dir, char *err, size_t errlen)
{
	uint64_t size = meta_bytes(ri);
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

/* modprobe/insmod, quietly; the tool's complaint (if any) into why. */
static int run_tool(char *const argv[], char *why, size_t whylen)
{
	char out[64], terr[200];
	int r = restore_exec(argv, out, sizeof(out), 30, terr, sizeof(terr));

	if (r && why)
		snprintf(why, whylen, "%s %s: %s", argv[0], argv[1],
			 terr[0] ? terr : "failed");
	return r;
}

/*
 * Make the clone target available: already registered (built into the
 * kernel or loaded), modprobe dm-clone (the kernel's, or ours installed by
 * dkms), or insmod from a build tree given by $CDP_KMOD_DIR (its
 * dependency dm-persistent-data is Debian's, so modprobe that first, as
 * insmod resolves nothing). ri->module says which; on failure ri->fallback
 * says why, for the user who then gets dm-mirror.
 */
static int load_clone(struct restore_instant *ri)
{
	const char *kdir = getenv("CDP_KMOD_DIR");
	char why[256] = "", why2[256] = "", ko[300];
	char *mp[] = { "modprobe", "dm-clone", NULL };
	char *pd[] = { "modprobe", "dm-persistent-data", NULL };
	char *ins[] = { "insmod", ko, NULL };

	if (dmdev_has_target("clone")) {
		snprintf(ri->module, sizeof(ri->module), "loaded");
		return 0;
	}
	/* a failing tool does not mean no target: another cdpctl may have won the race */
	run_tool(mp, why, sizeof(why));
	if (dmdev_has_target("clone")) {
		snprintf(ri->module, sizeof(ri->module), "modprobe dm-clone");
		return 0;
	}
	if (!kdir || !*kdir) {
		snprintf(ri->fallback, sizeof(ri->fallback),
			 "dm-clone cannot be loaded (%s; install it with dkms, or set CDP_KMOD_DIR to a build tree)",
			 why);
		return -ENODEV;
	}
	snprintf(ko, sizeof(ko), "%s/dm-clone/dm-clone.ko", kdir);
	run_tool(pd, NULL, 0);
	run_tool(ins, why2, sizeof(why2));
	if (dmdev_has_target("clone")) {
		snprintf(ri->module, sizeof(ri->module), "insmod %s", ko);
		return 0;
	}
	snprintf(ri->fallback, sizeof(ri->fallback), "dm-clone cannot be loaded (%s; %s)", why, why2);
	return -ENODEV;
}

/* dm-mirror: the fallback (see the top of the file). */
static int start_mirror(struct restore_instant *ri, char *err, size_t errlen)
{
	char *mp[] = { "modprobe", "dm-mirror", NULL };
	struct dm_line l = { 0 };

	if (!dmdev_has_target("mirror"))
		run_tool(mp, NULL, 0);
	if (!dmdev_has_target("mirror")) {
		snprintf(err, errlen, "this kernel has neither dm-clone nor dm-mirror: %s", ri->fallback);
		return -ENODEV;
	}
	snprintf(ri->engine, sizeof(ri->engine), "dm-mirror");
	/* kcopyd copies a region per job: bigger regions hydrate faster */
	ri->region_sectors = MIRROR_REGION_SECTORS;
	l.len = ri->sectors;
	snprintf(l.type, sizeof(l.type), "mirror");
	/* source first: the default leg, which serves reads until in sync */
	snprintf(l.params, sizeof(l.params), "core 1 %u 2 %s 0 %s 0 1 handle_errors",
		 ri->region_sectors, ri->source, ri->dest);
	return dmdev_create(ri->dm_name, &l, err, errlen);
}

static int start_clone(struct restore_instant *ri, const char *meta_dev, const char *state_dir,
		       char *err, size_t errlen)
{
	struct dm_line l = { 0 };
	uint64_t have;
	int r;

	snprintf(ri->engine, sizeof(ri->engine), "dm-clone");
	while (ri->sectors / ri->region_sectors > MAX_REGIONS)
		ri->region_sectors *= 2;
	ri->batch = HYDRATION_BATCH_BYTES >> 9 > ri->region_sectors ?
		    (HYDRATION_BATCH_BYTES >> 9) / ri->region_sectors : 1;
	ri->threshold = ri->batch * HYDRATION_JOBS;
	if (meta_dev) {
		snprintf(ri->meta, sizeof(ri->meta), "%s", meta_dev);
		r = dev_size(meta_dev, &have, err, errlen);
		if (!r && have < meta_bytes(ri)) {
			snprintf(err, errlen, "metadata device %s has %llu bytes, dm-clone needs %llu for %llu regions: give a larger one, or none (a file is made)",
				 meta_dev, (unsigned long long)have, (unsigned long long)meta_bytes(ri),
				 (unsigned long long)(ri->sectors / ri->region_sectors + 1));
			r = -ENOSPC;
		}
	} else {
		r = make_meta(ri, state_dir, err, errlen);
	}
	if (!r)
		r = wipe_superblock(ri->meta, err, errlen);
	if (r)
		return r;
	l.len = ri->sectors;
	snprintf(l.type, sizeof(l.type), "clone");
	snprintf(l.params, sizeof(l.params),
		 "%s %s %s %u 0 4 hydration_threshold %u hydration_batch_size %u",
		 ri->meta, ri->dest, ri->source, ri->region_sectors, ri->threshold, ri->batch);
	return dmdev_create(ri->dm_name, &l, err, errlen);
}

int restore_instant_start(const char *pool, const char *image, const char *dest,
			  const char *dm_name, const char *meta_dev, const char *state_dir,
			  struct restore_instant *ri, char *err, size_t errlen)
{
	char terr[256];
	uint64_t src_bytes, dest_bytes;
	sigset_t old;
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
	r = restore_instant_check(dest, meta_dev, err, errlen);
	if (!r)
		r = dev_size(dest, &dest_bytes, err, errlen);
	if (r)
		return r;
	/* a Ctrl-C half way would leave a mapping and a table nobody finishes */
	cdp_hold_signals(&old);
	r = restore_map(RESTORE_MAP_NBD, pool, image, NULL, ri->source, sizeof(ri->source), 60, err, errlen);
	if (r)
		goto out;
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
	if (load_clone(ri))
		r = start_mirror(ri, err, errlen);
	else
		r = start_clone(ri, meta_dev, state_dir, err, errlen);
	if (!r) {
		dmdev_event_nr(dm_name, &ri->event_nr);
		goto out;
	}
	drop_meta(ri);
out_unmap:
	restore_unmap(RESTORE_MAP_NBD, ri->source, terr, sizeof(terr));
out:
	sigprocmask(SIG_SETMASK, &old, NULL);
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
 *               <hydrated>/<total regions> <hydrating> <#features> ...
 *               <metadata mode: rw | ro>, or just "Fail"
 */
int restore_instant_progress(const struct restore_instant *ri, uint64_t *done,
			     uint64_t *total, char *err, size_t errlen)
{
	unsigned long long d, t;
	const char *mode;
	struct dm_line l;
	int r = dmdev_status(ri->dm_name, &l, err, errlen);

	if (r)
		return r;
	if (!strcmp(ri->engine, "dm-mirror"))
		return mirror_progress(ri, l.params, done, total, err, errlen);
	mode = strrchr(l.params, ' ');
	mode = mode ? mode + 1 : l.params;
	if (!strcmp(mode, "Fail") || !strcmp(mode, "ro")) {
		snprintf(err, errlen, "dm-clone %s switched its metadata to %s mode (see dmesg): hydration cannot complete",
			 ri->dm_name, mode);
		return -EIO;
	}
	if (sscanf(l.params, "%*u %*u/%*u %*u %llu/%llu", &d, &t) != 2) {
		snprintf(err, errlen, "unexpected dm-clone status of %s: %s", ri->dm_name, l.params);
		return -EPROTO;
	}
	*done = d;
	*total = t;
	return 0;
}

/* Has the device's event counter moved since the start (a target event)? */
static int kernel_event(const struct restore_instant *ri)
{
	uint32_t nr;

	return !dmdev_event_nr(ri->dm_name, &nr) && nr != ri->event_nr;
}

int restore_instant_finish(struct restore_instant *ri,
			   void (*cb)(uint64_t done, uint64_t total, void *arg), void *arg,
			   char *err, size_t errlen)
{
	uint64_t done = 0, total = 1;
	struct dm_line l = { 0 }, cur;
	char terr[512];
	int r, i;

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
	ri->regions = total;
	/* the target's own completion event (dm_table_event) */
	for (i = 0; i < EVENT_WAIT_S * 10 && !kernel_event(ri); i++)
		usleep(100000);
	ri->kernel_event = kernel_event(ri);
	l.len = ri->sectors;
	snprintf(l.type, sizeof(l.type), "linear");
	snprintf(l.params, sizeof(l.params), "%s 0", ri->dest);
	r = dmdev_table(ri->dm_name, &cur, err, errlen);
	if (!r)
		r = dmdev_reload(ri->dm_name, &l, &cur, err, errlen);
	if (r)
		return r;
	ri->linear = 1;
	if (restore_unmap(RESTORE_MAP_NBD, ri->source, terr, sizeof(terr)))
		snprintf(err, errlen, "hydrated, but %s", terr);
	drop_meta(ri);
	return 0;
}
