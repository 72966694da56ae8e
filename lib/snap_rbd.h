/* SPDX-License-Identifier: GPL-2.0 */
/*
 * snap_rbd.h - the RBD side of snapshots and restores, on librados/librbd:
 * open an image (connection with timeouts, ceph_conn.h), look a snapshot
 * up, list its clones, delete it (flattening its clones when told to).
 *
 * Errors: -errno with a sentence in err naming the image and the fix.
 */
#ifndef CDP_SNAP_RBD_H
#define CDP_SNAP_RBD_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <rados/librados.h>
#include <rbd/librbd.h>

struct snap_rbd {
	rados_t cluster;
	rados_ioctx_t io;
	rbd_image_t img;
	char pool[128];
	char image[128];
};

/*
 * cdpctl reads the cluster from $CEPH_CONF; when that is unset, take
 * ceph_conf (and keyring, through CEPH_ARGS) from /etc/cdp/cdp.conf.
 */
void snap_rbd_env(void);

/* Connect and open pool/image at its head. */
int snap_rbd_open(struct snap_rbd *s, const char *pool, const char *image,
		  char *err, size_t errlen);
/* Connect and open pool only (img NULL): for clone, create, remove. */
int snap_rbd_open_pool(struct snap_rbd *s, const char *pool, char *err, size_t errlen);
void snap_rbd_close(struct snap_rbd *s);

/* 0 if the snapshot exists (time and protection filled if non-NULL), -ENOENT. */
int snap_rbd_stat(struct snap_rbd *s, const char *snap, time_t *when, int *protect,
		  uint64_t *size);

/* "pool/image pool/image ..." of the snapshot's clones into buf; count returned. */
int snap_rbd_children(struct snap_rbd *s, const char *snap, char *buf, size_t len);

/*
 * Remove the snapshot. With clones: -EBUSY (err lists them) unless
 * flatten_children, which first copies the parent data into each clone
 * (rbd_flatten) so they survive.
 */
int snap_rbd_delete(struct snap_rbd *s, const char *snap, int flatten_children,
		    char *err, size_t errlen);

/* Newest user snapshot name of the open image into buf; -ENOENT if none. */
int snap_rbd_newest(struct snap_rbd *s, char *buf, size_t len, time_t *when);

#endif
