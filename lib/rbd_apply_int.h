/* SPDX-License-Identifier: GPL-2.0 */
/*
 * rbd_apply_int.h - internals shared by rbd_apply.c (engine: submit, aio,
 * completion, retry, reconnect), rbd_apply_deps.c (who waits for whom) and
 * rbd_apply_stuck.c (aio that librbd never completes). Not for users of
 * the engine.
 */
#ifndef CDP_RBD_APPLY_INT_H
#define CDP_RBD_APPLY_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include "rbd_apply.h"
#include "rbd_apply_conn.h"

enum ra_state {
	RS_WAITING,	/* depends on unfinished earlier records */
	RS_READY,	/* on the ready queue, may start */
	RS_INFLIGHT,	/* aio outstanding */
	RS_RETRY,	/* failed; starts again at retry_at_ms */
	RS_DONE,	/* applied; retired once everything before it is */
};

/*
 * One aio handed to librbd: the completion's argument. Between the record
 * and librbd's callback, so that the engine can give up on an aio librbd
 * never completes (rbd_apply_stuck.c) without the late callback touching a
 * record that is gone by then. state: AIO_PENDING until the first of
 * "callback ran" (AIO_DONE) and "engine gave up" (AIO_ABANDONED) swaps it.
 */
enum { AIO_PENDING, AIO_DONE, AIO_ABANDONED };

struct ra_aio {
	atomic_int state;
	unsigned int gen;	/* the session (rbd_apply.gen) it was issued on */
	struct ra_rec *r;	/* AIO_PENDING/AIO_DONE: the record */
	char *orphan_buf;	/* AIO_ABANDONED: the payload librbd may still read */
};

/* Engine-internal ops beyond the uapi's enum cdp_rec_op. */
#define RA_OP_SYNC	0x80	/* barrier from rbd_apply_sync() */
#define RA_OP_SNAP	0x81	/* barrier + snapshot from rbd_apply_snapshot() */

struct ra_rec {
	struct ra_rec *prev, *next;	/* stream order, until retired */
	struct ra_rec *qnext;		/* ready queue or completion list */
	struct rbd_apply *a;
	uint64_t seq, off, len;
	uint8_t op;
	uint32_t flags;
	char *buf;			/* WRITE payload (our copy) */
	struct ra_aio *aio;		/* RS_INFLIGHT with an aio: its ticket */
	uint64_t started_ms;		/* RS_INFLIGHT since */
	char *snap_name;
	int protect;
	enum ra_state state;
	unsigned int deps;		/* unfinished records this one waits for */
	struct ra_rec **dependents;	/* records waiting for this one */
	unsigned int ndependents, capdependents;
	unsigned int attempts;
	uint64_t retry_at_ms;
	int rc;				/* aio result; snapshot result for snap_cb */
};

struct rbd_apply {
	struct rbd_apply_opts opts;	/* strings are our copies */
	struct rbd_apply_conn conn;

	/* Stream of records not yet retired, in seq order. */
	struct ra_rec *head, *tail;
	/* Records that may start, FIFO (seq order within a wake-up). */
	struct ra_rec *ready_head, *ready_tail;

	/* lock guards done_head/done_tail only: librbd threads append there. */
	pthread_mutex_t lock;
	struct ra_rec *done_head, *done_tail;
	int efd;			/* eventfd: completions are waiting */

	int have_seq;
	unsigned int nretry;		/* records in RS_RETRY */
	int need_reconnect;
	int cache_off;			/* of the last session opened (conn is reset while down) */
	/*
	 * A session with the client cache on was dropped: writes it completed
	 * into its cache but never flushed are gone with it. Nothing is
	 * reported durable and nothing accepted from then on; the caller must
	 * open a new engine and redeliver after its durable seq.
	 */
	int lost;
	unsigned int gen;		/* sessions opened so far */
	uint64_t need_reconnect_since_ms;
	uint64_t stuck_check_at_ms;	/* next look for a stuck aio */
	int closing;			/* rbd_apply_close(): start nothing new */
	int halted;			/* rbd_apply_halt(): start nothing new */
	unsigned int reconnect_attempts;
	uint64_t reconnect_at_ms;
	struct rbd_apply_stats st;
};

/* rbd_apply_deps.c */
int ra_deps_link(struct rbd_apply *a, struct ra_rec *n);
void ra_deps_release(struct rbd_apply *a, struct ra_rec *r);
void ra_ready_push(struct rbd_apply *a, struct ra_rec *r);
void ra_ready_push_front(struct rbd_apply *a, struct ra_rec *r);
struct ra_rec *ra_ready_pop(struct rbd_apply *a);
int ra_is_barrier(const struct ra_rec *r);

/* rbd_apply.c */
uint64_t ra_now_ms(void);
void ra_log(struct rbd_apply *a, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void ra_want_reconnect(struct rbd_apply *a);
void ra_session_opened(struct rbd_apply *a);
void ra_session_dropped(struct rbd_apply *a);

/* rbd_apply_stuck.c */
uint64_t ra_stuck_ms(const struct rbd_apply *a);
void ra_stuck_check(struct rbd_apply *a);
int ra_stuck_rescue(struct rbd_apply *a);

#endif /* CDP_RBD_APPLY_INT_H */
