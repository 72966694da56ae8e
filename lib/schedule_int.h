/* SPDX-License-Identifier: GPL-2.0 */
/*
 * schedule_int.h - what the scheduler's files share (not for other users):
 * schedule.c drives a run, schedule_snap.c takes a snapshot,
 * schedule_archive.c hands one to the archive, schedule_exec.c runs cdpctl.
 */
#ifndef CDP_SCHEDULE_INT_H
#define CDP_SCHEDULE_INT_H

#include "schedule.h"
#include "schedule_rbd.h"

struct sched_ctx {
	struct catalog *cat;
	const struct schedule_opts *o;
	struct sched_rbd *rbd;		/* connected on first use */
};

/*
 * Run argv (no shell) and wait. The tail of its stdout+stderr goes into out
 * (for error messages). Returns its exit status, 128+signal, or -errno when
 * it could not be started.
 */
int sched_exec(const char *const argv[], char *out, size_t outlen);

/*
 * Take snapshot `name` of every volume of the policy at time now and record
 * it with the policy's id. 0, or -errno with err set and nothing left
 * behind, or 1: taken and recorded, but err says what failed afterwards
 * (snap create's post hook).
 */
int sched_snap_take(struct sched_ctx *x, const struct policy *p,
		    const char *name, char *err, size_t errlen);

/*
 * Start `cdpctl archive create POOL/IMAGE@SNAP --drive ...` in the
 * background for one snapshot; at most one per policy runs at a time.
 * 0: started; -EALREADY: this policy's previous archive still runs;
 * other -errno with err set.
 */
int sched_archive_start(struct sched_ctx *x, const struct policy *p,
			const char *pool, const char *image, const char *snap,
			char *err, size_t errlen);

#endif
