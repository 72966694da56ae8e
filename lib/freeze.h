/* SPDX-License-Identifier: GPL-2.0 */
/*
 * freeze.h - application quiesce for snapshots: hook commands with a
 * timeout, and FIFREEZE/FITHAW of mounted file systems with a thaw that
 * happens on every path.
 *
 * Thaw guarantee, in three layers:
 *  1. freeze_thaw() is idempotent; callers run it on every return path.
 *  2. While anything is frozen, SIGINT, SIGTERM, SIGHUP and SIGQUIT thaw
 *     (ioctl is async-signal-safe) and then take their default action.
 *  3. A guardian child, forked before the first FIFREEZE, holds its own
 *     descriptors of the mount points. It thaws when the parent dies
 *     (SIGKILL, crash: the pipe closes without the "thawed" byte) or when
 *     the deadline passes while the parent is stuck. So no file system stays
 *     frozen longer than the deadline, whatever happens to cdpctl.
 *
 * Nothing here prints; errors come back as -errno with a sentence in err.
 */
#ifndef CDP_FREEZE_H
#define CDP_FREEZE_H

#include <stddef.h>

#include "rcu_expedite.h"

#define FREEZE_MAX_MOUNTS	16

/* freeze_mounts() flags */
#define FREEZE_NO_EXPEDITE	0x1	/* leave RCU grace periods alone (rcu_expedite.h) */
#define FREEZE_NO_BOOST		0x2	/* keep the caller's nice in the window */

struct hook_result {
	int ran;		/* a command was given and started */
	int status;		/* exit code, 128+signal when killed */
	int timed_out;		/* killed because the timeout passed */
	double ms;		/* wall time */
};

/*
 * Run "/bin/sh -c cmd" in its own process group, stdout sent to stderr (so
 * the hook never mixes into JSON output). After timeout_s the group gets
 * SIGTERM, 1 s later SIGKILL. Returns 0 when the hook exited 0, -ETIMEDOUT,
 * -ECANCELED (non-zero exit or killed), or another -errno when it could not
 * start; r is filled in every case. cmd NULL: returns 0, r->ran = 0.
 */
int hook_run(const char *cmd, double timeout_s, struct hook_result *r,
	     char *err, size_t errlen);

/* A hook result as text: "exit 0 in 12 ms", "timed out after 5000 ms". */
const char *hook_describe(const struct hook_result *r, char *buf, size_t len);

struct freeze {
	int n;
	int fd[FREEZE_MAX_MOUNTS];
	int frozen[FREEZE_MAX_MOUNTS];
	char mnt[FREEZE_MAX_MOUNTS][256];
	int guard_pid;		/* guardian child, 0 = none */
	int guard_fd;		/* write end of its pipe */
	double t_frozen;	/* monotonic time of the first FIFREEZE */
	double t_synced;	/* monotonic time the pre-flush ended */
	double ms;		/* frozen time, set by freeze_thaw() */
	double sync_ms;		/* whole pre-flush, ckpt_ms included (app runs) */
	double ckpt_ms;		/* ext4 journal checkpoints within sync_ms */
	int checkpointed;	/* file systems whose journal was checkpointed */
	int sync_passes;	/* syncfs passes run, 0 = no pre-flush */
	double gap_ms;		/* pre-flush end to FIFREEZE (what it dirties, FIFREEZE writes) */
	double fifreeze_ms;	/* the FIFREEZE calls, inside ms */
	double fithaw_ms;	/* the FITHAW calls, inside ms */
	struct rcu_expedite rcu; /* expedited grace periods during FIFREEZE */
	int expedited;		/* FIFREEZE ran with expedited grace periods */
	int boosted;		/* the window ran at FREEZE_NICE (freeze.c) */
	int old_nice;		/* to go back to after the window */
	char warn[256];		/* first non-fatal problem, "" = none */
};

/*
 * Open the mount points (each must be a directory that is the root of a
 * mounted file system), flush them while the application still runs
 * (syncfs, the ext4 journal checkpoint, syncfs again until a pass is short;
 * so FIFREEZE finds little to write and the frozen window is short), fork
 * the guardian with deadline_s, then FIFREEZE them in order, with RCU's
 * grace periods expedited for just those calls unless FREEZE_NO_EXPEDITE
 * (or $CDP_FREEZE_NO_EXPEDITE) says not to. From the first FIFREEZE to
 * the last FITHAW the calling thread runs at nice -10 unless
 * FREEZE_NO_BOOST ($CDP_FREEZE_NO_BOOST). On failure
 * everything already frozen is thawed again. A failed pre-flush is not an
 * error: it is left in f->warn for the caller to show.
 * n == 0 is allowed (nothing to freeze: returns 0 and freeze_thaw is a
 * no-op that reports 0 ms).
 */
int freeze_mounts(struct freeze *f, char *const *mnts, int n,
		  double deadline_s, unsigned int flags, char *err, size_t errlen);

/*
 * FITHAW everything frozen, stop the guardian, close descriptors, set
 * f->ms. Safe to call twice. Returns 0 or the first thaw error (err set).
 */
int freeze_thaw(struct freeze *f, char *err, size_t errlen);

#endif
