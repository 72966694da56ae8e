/* SPDX-License-Identifier: GPL-2.0 */
/*
 * schedule.h - `cdpctl schedule run`: for every policy, take the snapshot
 * that is due, prune what retention no longer keeps, hand old snapshots to
 * the archive; and `schedule status`.
 *
 * A run is idempotent: "due" means "no snapshot of this policy in the
 * current slot" (schedule_time.h), read from the catalog, so running twice
 * in a minute takes one snapshot, and a host that was down for hours takes
 * one catch-up snapshot. Runs are serialized by an exclusive flock on
 * schedule.lock beside the catalog (schedule_lock()); a second run exits at
 * once. A failing policy is recorded and the run goes on with the next.
 * Every action is an events row (kind "schedule.*", with its policy_id) and
 * is reported to the caller.
 */
#ifndef CDP_SCHEDULE_H
#define CDP_SCHEDULE_H

#include <stddef.h>
#include <stdint.h>

#include "catalog.h"
#include "policy.h"

/* One thing a run did (or, with dry_run, would do). */
struct schedule_action {
	const char *policy;
	const char *action;	/* snapshot, prune, keep-clones, archive, paused, ... */
	const char *volume;	/* NULL: the whole policy */
	const char *snapshot;	/* NULL: none */
	const char *level;	/* info, warn, error */
	const char *message;
};

struct schedule_opts {
	int64_t now;		/* unix seconds: the real or the --now time */
	int dry_run;		/* report, change nothing, take no lock */
	const char *cdpctl;	/* path of cdpctl for snap/archive create */
	const char *catalog;	/* -c PATH to pass on, NULL: default */
	void (*report)(const struct schedule_action *a, void *arg);
	void *arg;
};

struct schedule_totals {
	int policies, failed, snapshots, pruned, kept_clones, archives;
};

/*
 * Take the run lock next to the catalog. 0: held (keep *fd open until the
 * run ends); -EWOULDBLOCK: another run holds it, err names its pid.
 */
int schedule_lock(struct catalog *c, int *fd, char *err, size_t errlen);
void schedule_unlock(int fd);

/*
 * Run every policy. 0; -EIO when at least one policy failed (the others
 * ran; err says how many); another -errno when the run could not start
 * (err says why).
 */
int schedule_run(struct catalog *c, const struct schedule_opts *o,
		 struct schedule_totals *t, char *err, size_t errlen);

/*
 * The background half of an archive hand-off (`cdpctl schedule archive-run`,
 * started by a run, holding the policy's archive lock it inherited): run
 * `cdpctl archive create SOURCE --drive ...` with the policy's drives and
 * record the outcome as an event. source is POOL/IMAGE@SNAP.
 */
int schedule_archive_run(struct catalog *c, const char *policy,
			 const char *source, const char *cdpctl,
			 const char *catalog_opt, char *err, size_t errlen);

/* For status: the next time the policy is due (<= now: due now). */
int64_t schedule_next_due(struct catalog *c, const struct policy *p, int64_t now);

#endif
