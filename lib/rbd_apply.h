/* SPDX-License-Identifier: GPL-2.0 */
/*
 * rbd_apply.h - apply the ordered record stream of a volume to its RBD image.
 *
 * cdpd feeds the records it fetched from the kernel, in seq order, into
 * rbd_apply_submit(); the engine writes them with librbd aio and tells the
 * caller, through durable_cb, up to which seq the image is durable (that is
 * the seq cdpd ACKs to the kernel).
 *
 * Ordering rules (what keeps the replica equal to the origin, and
 * crash-consistent at every moment):
 *  - records that do not overlap run concurrently (up to max_inflight aio);
 *  - a record overlapping an earlier, unfinished one waits for it;
 *  - FLUSH and MARK are barriers: they wait for every earlier record, then
 *    rbd_aio_flush; every later record waits until the barrier completed
 *    (the origin's own flush semantics: nothing after a flush may become
 *    visible before what preceded it);
 *  - a FUA write is a barrier for later records only (the file system may
 *    issue dependent writes once a FUA write completed);
 *  - a snapshot (rbd_apply_snapshot) is a full barrier at the current end of
 *    the stream.
 * Durability: the engine turns librbd's client cache off, so a completed
 * write is on the OSDs; durable_cb then follows the records as they finish
 * in seq order, without waiting for a barrier. If a pool- or image-level
 * config override turns the cache back on, durable_cb only moves at
 * barriers (after their rbd_aio_flush); stats.durable_on_completion says
 * which. Either way rbd_apply_sync() makes everything submitted durable.
 *
 * Failed aio (timeouts, ENOTCONN, blocklisting, ...) is retried with
 * exponential backoff, in place: a record is never dropped, and nothing that
 * depends on it overtakes it. Blocklisting/ENOTCONN reconnect the client.
 * An aio that librbd has not completed after stuck_ms (librbd can
 * hold one forever, e.g. queued behind an exclusive lock its blocklisted
 * client will never get) is given up: the engine opens a new session,
 * blocklists the old one so none of its writes can still land, and issues
 * the record again there.
 *
 * Threading: librbd completes aio in its own threads; those only queue the
 * result and wake rbd_apply_fd(). Every state change, every callback and
 * every librbd submission happens in the thread calling rbd_apply_process()
 * / rbd_apply_wait(). One handle must be driven by one thread at a time.
 *
 * All calls return 0 or -errno. Errors at open time come with a sentence in
 * @err naming the fix.
 */
#ifndef CDP_RBD_APPLY_H
#define CDP_RBD_APPLY_H

#include <stddef.h>
#include <stdint.h>
#include "dm-cdp.h"	/* enum cdp_rec_op, CDP_REC_F_FUA */

struct rbd_apply;

/* One record of the stream. Offsets and lengths in bytes. */
struct rbd_apply_rec {
	uint64_t seq;		/* strictly increasing across submits */
	uint64_t offset;
	uint64_t length;	/* 0 for FLUSH/MARK */
	uint8_t op;		/* CDP_OP_WRITE .. CDP_OP_MARK */
	uint32_t flags;		/* CDP_REC_F_FUA honoured, others ignored */
	const void *data;	/* WRITE: length bytes, copied by submit */
};

struct rbd_apply_opts {
	const char *conf;	/* ceph.conf path; NULL: $CEPH_CONF or the default */
	const char *keyring;	/* NULL: from the config */
	const char *client_id;	/* NULL: "admin" */
	const char *pool;	/* NULL: "rbd" */
	const char *image;	/* required */
	unsigned int op_timeout_s;	/* OSD/mon op + mount timeout; 0: 30 */
	unsigned int max_inflight;	/* concurrent aio; 0: 32 */
	unsigned int max_queued;	/* records held (waiting + in flight); 0: 1024 */
	size_t max_bytes;		/* payload bytes held; 0: 16 MiB (bounds RSS) */
	unsigned int retry_min_ms;	/* first retry delay; 0 and retry_max_ms 0: 50 */
	unsigned int retry_max_ms;	/* backoff cap; 0: 5000 */
	unsigned int stuck_ms;		/* aio held longer is given up; 0: 3 op timeouts */
	/*
	 * Break (and fence) an exclusive lock left by a previous writer at open
	 * and reconnect, instead of waiting ~30 s for its watch to expire. Set
	 * it only when this process is the image's one legitimate writer (cdpd:
	 * the kernel allows one consumer per volume).
	 */
	int take_over_lock;

	/* Everything up to and including @seq is durable on the image. */
	void (*durable_cb)(void *arg, uint64_t seq);
	/* A snapshot barrier finished: rc 0, or why the snapshot failed. */
	void (*snap_cb)(void *arg, uint64_t seq, const char *name, int rc);
	/* Diagnostics (retries, reconnects); NULL: stderr. level: LOG_* */
	void (*log_cb)(void *arg, int level, const char *msg);
	void *cb_arg;
};

struct rbd_apply_stats {
	uint64_t submitted_seq;	/* last seq accepted by submit */
	uint64_t durable_seq;	/* last seq reported durable (0: none yet) */
	uint64_t image_size;
	unsigned int queued;	/* records held, not yet retired */
	unsigned int inflight;	/* aio outstanding */
	size_t bytes;		/* payload bytes held */
	uint64_t applied_ops, applied_bytes;
	uint64_t retries, reconnects;
	uint64_t abandoned;	/* aio librbd never completed, redone on a new session */
	int last_error;		/* last aio error (-errno), 0 if none yet */
	int stalled;		/* a record is waiting for its retry */
	int durable_on_completion;	/* cache off: durable_cb without barriers */
	/*
	 * A session whose client cache was on (pool/image override) had to be
	 * dropped: its unflushed writes may be gone. From then on nothing more
	 * is reported durable and submit/sync return -ESTALE: close the engine,
	 * open a new one and redeliver after durable_seq.
	 */
	int lost;
};

/* Connect, open pool/image. Blocks up to about op_timeout_s. */
int rbd_apply_open(const struct rbd_apply_opts *o, struct rbd_apply **out,
		   char *err, size_t errlen);

/*
 * Wait for all aio to finish (bounded by the op timeout), close the image,
 * free the handle. Records not yet durable are forgotten: the caller
 * redelivers them from its last durable seq.
 */
void rbd_apply_close(struct rbd_apply *a);

/*
 * Queue one record. Never blocks. -EAGAIN: the window (max_queued /
 * max_bytes) is full, call rbd_apply_wait() and submit again. -EINVAL: seq
 * not after the previous one, unknown op, WRITE without data, length 0 for
 * data ops; -ERANGE: beyond the end of the image.
 */
int rbd_apply_submit(struct rbd_apply *a, const struct rbd_apply_rec *rec);

/*
 * The same, for a WRITE whose payload @buf (rec->length bytes, from
 * malloc) the engine takes over instead of copying: on 0 it frees @buf
 * when done with it; on any error @buf stays the caller's.
 */
int rbd_apply_submit_owned(struct rbd_apply *a, const struct rbd_apply_rec *rec, void *buf);

/*
 * Snapshot @name of the image (and protect it when @protect) after every
 * record submitted so far and before any later one. Reported through
 * snap_cb. An existing snapshot of that name counts as done (redelivery
 * after a daemon restart). -EINVAL for an unusable name, -EAGAIN when the
 * window is full (as for submit).
 */
int rbd_apply_snapshot(struct rbd_apply *a, const char *name, int protect);

/*
 * Make everything submitted so far durable and report it (an internal
 * barrier with the last submitted seq): for streams without FLUSH markers
 * when durability is barrier-only. A no-op when durable_on_completion (the
 * records get there by themselves), when all is durable already, or when a
 * barrier already ends the stream: it may be called on every idle tick.
 * -EAGAIN when the window is full (as for submit).
 */
int rbd_apply_sync(struct rbd_apply *a);

/* Readable when rbd_apply_process() has work (aio completed). */
int rbd_apply_fd(const struct rbd_apply *a);

/* Milliseconds until a retry is due (-1: none): a poll() timeout bound. */
int rbd_apply_next_timeout_ms(const struct rbd_apply *a);

/* Collect completions, retry what is due, start what may start. No blocking
 * except a reconnect (bounded by op_timeout_s). */
int rbd_apply_process(struct rbd_apply *a);

/* poll() rbd_apply_fd() up to @timeout_ms (-1: forever), then process. */
int rbd_apply_wait(struct rbd_apply *a, int timeout_ms);

/* Wait until every queued record is retired; -ETIMEDOUT after @timeout_ms. */
int rbd_apply_drain(struct rbd_apply *a, int timeout_ms);

/*
 * Start no record from now on (what is in flight completes); for a caller
 * that cannot record something it must before the stream goes on (from
 * snap_cb: the records after that snapshot are not started). Only
 * rbd_apply_close() follows; the kernel redelivers what was not acked.
 */
void rbd_apply_halt(struct rbd_apply *a);
/* 1 if the image has snapshot @name, 0 if not, -errno if unknown. */
int rbd_apply_snap_exists(struct rbd_apply *a, const char *name);
void rbd_apply_get_stats(const struct rbd_apply *a, struct rbd_apply_stats *st);
uint64_t rbd_apply_durable_seq(const struct rbd_apply *a);

#endif /* CDP_RBD_APPLY_H */
