/* SPDX-License-Identifier: GPL-2.0 */
/*
 * schedule_rbd.h - the RBD snapshot operations of the scheduler: create
 * (direct mode, for 'external' images that cdpd does not serve) and prune
 * (unprotect + remove, refused while clones depend on the snapshot).
 *
 * One connection per run, made on first use through ceph_conn.h (the
 * cluster of $CEPH_CONF or /etc/cdp/cdp.conf, with timeouts so a dead
 * cluster fails the policy instead of hanging cron forever).
 */
#ifndef CDP_SCHEDULE_RBD_H
#define CDP_SCHEDULE_RBD_H

#include <stddef.h>

struct sched_rbd;

struct sched_rbd *sched_rbd_new(void);
void sched_rbd_free(struct sched_rbd *r);

/*
 * Create pool/image@name and protect it (as cdpd does for its snapshots).
 * 0: created; 1: it existed already (left by a run that died before
 * recording it) and is now protected and adopted; -errno with err set.
 */
int sched_rbd_snap_create(struct sched_rbd *r, const char *pool,
			  const char *image, const char *name, char *err,
			  size_t errlen);

/*
 * Remove pool/image@name. -EBUSY: clones depend on it (err names them) and
 * nothing was changed; -ENOENT: it was already gone. On other errors err
 * says what failed.
 */
/* 1 when pool/image@name exists; 0 when not, or when that cannot be told. */
int sched_rbd_snap_exists(struct sched_rbd *r, const char *pool, const char *image,
			  const char *name);
int sched_rbd_snap_prune(struct sched_rbd *r, const char *pool,
			 const char *image, const char *name, char *err,
			 size_t errlen);

#endif
