/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cdpd.h - what the daemon's parts share: the registry of served volumes.
 *
 * One worker thread per volume owns that volume's netlink consumer handle
 * and its rbd_apply engine (both single-threaded by contract). Other
 * threads (control socket, main loop) only read the fields under v->lock
 * and add pending snapshots there.
 */
#ifndef CDPD_H
#define CDPD_H

#include <pthread.h>
#include <stdint.h>
#include <syslog.h>

#include "config.h"
#include "dm-cdp.h"

enum snap_state { SNAP_WAIT, SNAP_RUNNING, SNAP_DONE, SNAP_FAILED, SNAP_CANCELLED };

/* A snapshot waiting for its MARK record to be applied (docs/cdpd-control.md). */
struct pending_snap {
	struct pending_snap *next;
	char name[128];
	uint64_t seq;			/* the MARK's seq */
	int protect;
	enum snap_state state;
	int rc;				/* -errno when failed */
	char err[400];
};

struct vol {
	struct vol *next;
	char name[CDP_VOLUME_ID_MAX + 1];
	char pool[128];
	char image[128];
	char dm_name[128];		/* /dev/mapper/<dm_name> carries the target */
	pthread_t thread;
	int thread_valid;		/* thread was created and not yet joined */
	volatile int stop;		/* asked to stop (volume gone, shutdown) */
	volatile int exited;		/* the worker returned */

	pthread_mutex_t lock;		/* guards everything below */
	pthread_cond_t cond;		/* snapshots done, state changes */
	int attached;
	int consistent;			/* replica crash-consistent (no resync applied) */
	uint64_t fetched_seq;		/* last seq handed to the engine */
	uint64_t durable_seq;		/* last seq durable on the image */
	uint64_t acked_seq;		/* last seq acked to the kernel */
	uint64_t kernel_last_seq;	/* from the latest LIST */
	int kernel_state;		/* enum cdp_state, from the latest LIST */
	int kernel_sync;		/* sync mode, from the latest LIST */
	uint64_t queued_bytes;		/* kernel queue, from the latest LIST */
	double oldest_pending;		/* completion time of the oldest non-durable record */
	char error[256];		/* why the worker is waiting, "" if fine */
	struct pending_snap *snaps;
	/*
	 * Snapshot clients that insert their MARK themselves and register it
	 * after their thaw: while any is between READY and registering, the
	 * worker waits at an unregistered MARK newer than mark_floor (the
	 * kernel's last seq when the first of them got READY).
	 */
	int marks_expected;
	uint64_t mark_floor;
	uint64_t mark_seen;		/* the newest MARK the worker reached */
	uint64_t mark_waiting;		/* the MARK the worker waits at, 0 = none */
};

extern struct cdp_config cfg;
extern volatile int cdpd_quit;
extern int cdpd_verbose;		/* -v: pipeline statistics in the log */

void cdpd_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* cdpd_volume.c */
void *vol_worker(void *arg);

/* cdpd.c: the registry (list of struct vol), under registry_lock */
extern pthread_mutex_t registry_lock;
extern struct vol *volumes;
struct vol *vol_find(const char *name);	/* caller holds registry_lock */

/* cdpd_control.c */
/*
 * cdpd_nice.c: name the calling thread a control thread (stays at nice 0);
 * cdpd_workers_nice_init() sets worker_nice on the calling thread, so on
 * every thread it creates afterwards (call it after control_start());
 * cdpd_workers_yield(1) lowers every other thread's priority for a
 * snapshot's freeze window, cdpd_workers_yield(0) ends it (nested calls
 * count: the last end restores worker_nice).
 */
void cdpd_name_control_thread(void);
void cdpd_workers_nice_init(void);
void cdpd_workers_yield(int on);

int control_start(void);
void control_stop(void);

#endif
