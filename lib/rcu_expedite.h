/* SPDX-License-Identifier: GPL-2.0 */
/*
 * rcu_expedite.h - expedited RCU grace periods for a few milliseconds.
 *
 * Why: FIFREEZE (freeze_super) takes the super block's three freeze
 * levels, each a percpu_down_write() whose rcu_sync_enter() waits for a
 * normal RCU grace period: 3 grace periods inside every application
 * freeze, ~35 ms of the window in the TCG test guest and several jiffies
 * on real hardware, whatever the file system has to write. With
 * /sys/kernel/rcu_expedited set the same waits are expedited grace periods
 * (an IPI to each CPU), well under a millisecond each. The setting is
 * system-wide, so it is held only around the FIFREEZE calls and put back
 * as it was; where it is already 1, or not writable (a container without
 * write access to /sys), nothing changes and the freeze simply takes the
 * normal path.
 */
#ifndef CDP_RCU_EXPEDITE_H
#define CDP_RCU_EXPEDITE_H

#define RCU_EXPEDITED_PATH "/sys/kernel/rcu_expedited"

struct rcu_expedite {
	int fd;		/* the knob, open while we changed it; -1 = untouched */
};

/*
 * Turn expedited grace periods on through @path (RCU_EXPEDITED_PATH; a
 * plain file in the unit tests) if they are off. Returns 1 when this call
 * turned them on (rcu_expedite_end() turns them off again), 0 otherwise;
 * never fails: the freeze works either way, only slower.
 */
int rcu_expedite_begin(struct rcu_expedite *e, const char *path);

/*
 * Put the knob back to 0 if rcu_expedite_begin() changed it. Idempotent,
 * async-signal-safe (one pwrite and close), so the thaw guardian can call
 * it on its copy after a fork.
 */
void rcu_expedite_end(struct rcu_expedite *e);

#endif
