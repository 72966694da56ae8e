/* SPDX-License-Identifier: GPL-2.0 */
/*
 * rbd_apply_conn.h - the librados/librbd session of the apply engine:
 * client config (timeouts, no client cache), connect, open pool and image.
 * Split from rbd_apply.c so the engine can drop and redo it (reconnect
 * after blocklisting) without knowing how it is built.
 */
#ifndef CDP_RBD_APPLY_CONN_H
#define CDP_RBD_APPLY_CONN_H

#include <stddef.h>
#include <stdint.h>
#include <rados/librados.h>
#include <rbd/librbd.h>

struct rbd_apply_opts;

struct rbd_apply_conn {
	rados_t cluster;
	rados_ioctx_t io;
	rbd_image_t img;
	uint64_t size;		/* image size in bytes at open */
	int cache_off;		/* no client cache: completed writes are durable */
	int open;		/* all three handles valid */
};

/* 0, or -errno with a sentence in @err naming the fix. */
int rbd_apply_conn_open(struct rbd_apply_conn *c, const struct rbd_apply_opts *o,
			char *err, size_t errlen);
/* Idempotent. Waits for librbd's own outstanding work (bounded by timeouts). */
void rbd_apply_conn_close(struct rbd_apply_conn *c);
/*
 * The same, in a thread of its own, given @timeout_s: librbd's close of a
 * blocklisted session can hang. -ETIMEDOUT: left running, detached (the
 * session is leaked if it never returns). Either way @c is reset.
 */
int rbd_apply_conn_close_bounded(struct rbd_apply_conn *c, unsigned int timeout_s);
/* The same without waiting at all: for a session with aio librbd holds. */
void rbd_apply_conn_close_detached(struct rbd_apply_conn *c);
/*
 * Blocklist @old's client through @by, so no OSD accepts another op of
 * @old: what makes it safe to issue its unfinished writes again through
 * @by. 0, or -errno with a sentence in @err.
 */
int rbd_apply_conn_fence(struct rbd_apply_conn *by, struct rbd_apply_conn *old,
			 char *err, size_t errlen);

#endif /* CDP_RBD_APPLY_CONN_H */
