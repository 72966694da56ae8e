/* SPDX-License-Identifier: GPL-2.0 */
/*
 * restore.h - make a snapshot usable again, never touching the snapshot or
 * its volume: clone it into a new RBD image (restore_clone.c), then
 * optionally map the clone on this host (restore_map.c: rbd-nbd or krbd),
 * export it over iSCSI (restore_iscsi.c: tgt with its rbd backing store),
 * or hydrate a local disk from it while the application already runs on
 * that disk (restore_instant.c: dm-clone).
 *
 * Every call returns 0 or -errno with a sentence in err naming the object
 * and the fix.
 */
#ifndef CDP_RESTORE_H
#define CDP_RESTORE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <rados/librados.h>

/* What the kernel rbd driver needs to map an image (restore_krbd.c). */
struct restore_krbd {
	int ok;				/* filled: mapping without the rbd tool is possible */
	char mons[512];			/* ip:port,... */
	char opts[384];			/* name=,secret=[,ms_mode=] */
};

struct restore_clone {
	char pool[128], image[128];	/* the source volume's image */
	char snap[128];			/* the snapshot cloned */
	char clone[128];		/* the new image (same pool) */
	uint64_t size;
	time_t snap_time;
	int replaced;			/* --force removed an old image of that name */
	double ms;			/* connect + protect + clone */
	struct restore_krbd krbd;	/* for --map krbd, from the same connection */
};

/*
 * Clone pool/image@snap into pool/<name>: name NULL means "<image>-<snap>".
 * The snapshot is protected first when it is not. An existing image of
 * that name is an error unless force, and even then only an unused clone
 * (no watchers, no snapshots) is removed; the source image never is.
 * want_krbd: also fill out->krbd from this connection (for --map krbd).
 */
int restore_clone(const char *pool, const char *image, const char *snap,
		  const char *name, int force, int want_krbd, struct restore_clone *out,
		  char *err, size_t errlen);

/*
 * Newest snapshot of pool/image (for --failover: the latest consistent
 * point of the replica). -ENOENT when it has none.
 */
int restore_latest_snap(const char *pool, const char *image, char *snap, size_t len,
			char *err, size_t errlen);

/*---- map ----*/

enum restore_map_kind { RESTORE_MAP_NBD, RESTORE_MAP_KRBD };

/*
 * Map pool/image read-write on this host; the block device path into dev.
 * The device is read once (first 4 KiB) before returning, so it is ready
 * for mount. timeout_s bounds the mapping tool.
 */
int restore_map(enum restore_map_kind kind, const char *pool, const char *image,
		const struct restore_krbd *krbd,
		char *dev, size_t devlen, double timeout_s, char *err, size_t errlen);

/*
 * krbd without the rbd tool. spec: from a connected cluster's config; 0 or
 * -EAGAIN (k->ok = 0: something this code does not handle). map: 0 with
 * /dev/rbdN in dev, -EAGAIN when the tool should be used instead, other
 * -errno with err set.
 */
int restore_krbd_spec(rados_t cluster, struct restore_krbd *k);
int restore_krbd_map(const struct restore_krbd *k, const char *pool, const char *image,
		     double timeout_s, char *dev, size_t devlen, char *err, size_t errlen);
int restore_unmap(enum restore_map_kind kind, const char *dev, char *err, size_t errlen);

/*---- iSCSI ----*/

struct restore_iscsi {
	char iqn[224];
	int tid;
	char portal[64];		/* ADDR:PORT the initiator logs in to */
	char login[512];		/* the iscsiadm lines for the user */
};

/*
 * Export pool/image as LUN 1 of a new tgt target (tgtd must run; its
 * control port is $CDP_TGT_CONTROL_PORT, default tgt's). allow: initiator
 * address or "ALL". portal: what to tell the initiator (NULL: the first
 * non-loopback IPv4 address of this host, port 3260).
 */
int restore_iscsi_export(const char *pool, const char *image, const char *allow,
			 const char *portal, struct restore_iscsi *out,
			 char *err, size_t errlen);
/* Remove the target that exports pool/image (by its IQN). */
int restore_iscsi_unexport(const char *pool, const char *image, char *err, size_t errlen);
/* The target name of pool/image: one per image, also for names IQNs cannot hold. */
void restore_iscsi_iqn(const char *pool, const char *image, char *iqn, size_t len);

/*---- instant restore (dm-clone) ----*/

struct restore_instant {
	char dm_name[128];		/* /dev/mapper/<dm_name> is what the app uses */
	char source[64];		/* the mapped clone (rbd-nbd) */
	char dest[256];			/* the local disk being hydrated */
	char meta[256];			/* dm-clone metadata device */
	char meta_file[640];		/* its backing file when we made it, else "" */
	uint64_t sectors;
	uint32_t region_sectors;
	uint32_t threshold, batch;	/* dm-clone hydration_threshold, _batch_size (regions) */
	char engine[12];		/* "dm-clone", or "dm-mirror" when dm-clone cannot be loaded */
	char module[320];		/* how dm-clone got there: "loaded", "modprobe dm-clone", "insmod PATH" */
	char fallback[640];		/* with dm-mirror: why not dm-clone */
	uint32_t event_nr;		/* the device's event counter at the start */
	/* set by restore_instant_finish */
	uint64_t regions;		/* regions hydrated (all of them) */
	int kernel_event;		/* the target raised its completion event */
	int linear;			/* the table is now linear onto dest */
};

/*
 * Before anything is made: @dest (and @meta_dev, if given) must be unused
 * block devices: not mounted or open exclusively, no dm/md holder, and not
 * the same device. 0 or -errno with @err naming the fix.
 */
int restore_instant_check(const char *dest, const char *meta_dev, char *err, size_t errlen);

/*
 * Map the clone, check dest is at least as large, set up a dm-clone device
 * named dm_name (metadata on meta_dev, or on a loop device over a file
 * under state_dir), and start hydration. dm-clone is loaded if needed
 * (modprobe dm-clone, else insmod $CDP_KMOD_DIR/dm-clone/dm-clone.ko);
 * only when that fails does a dm-mirror (source leg, dest leg, core log)
 * do the job, with the reason in ri->fallback. The device is usable on
 * return.
 */
int restore_instant_start(const char *pool, const char *image, const char *dest,
			  const char *dm_name, const char *meta_dev, const char *state_dir,
			  struct restore_instant *ri, char *err, size_t errlen);

/* Hydration progress from the target's status: regions done / total. */
int restore_instant_progress(const struct restore_instant *ri, uint64_t *done,
			     uint64_t *total, char *err, size_t errlen);

/*
 * Wait until every region is hydrated (status read once a second, cb
 * called each time with the progress) and for the target's completion
 * event (a few seconds at most: ri->kernel_event says if it came); then
 * replace the table with a linear one onto dest (live:
 * suspend/reload/resume, as dm-clone.rst recommends), unmap the clone and
 * free the metadata device. The application keeps running throughout.
 */
int restore_instant_finish(struct restore_instant *ri,
			   void (*cb)(uint64_t done, uint64_t total, void *arg), void *arg,
			   char *err, size_t errlen);

/*---- helpers ----*/

/*
 * Run argv (no shell), capture stdout into out (trimmed) and stderr into
 * err; kill after timeout_s. Returns the exit status, or -errno/-ETIMEDOUT.
 */
int restore_exec(char *const argv[], char *out, size_t outlen, double timeout_s,
		 char *err, size_t errlen);

#endif
