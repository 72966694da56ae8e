// SPDX-License-Identifier: GPL-2.0
/*
 * test_freeze.c - hooks (timeout kills the whole process group) and the
 * FIFREEZE/FITHAW guarantee of lib/freeze.c.
 *
 * The host kernel cannot mount a test file system, so the freeze cases need
 * CDP_FREEZE_MNT=<mount point of a scratch ext4>; tests/e2e/test_snap_01_freeze.sh
 * runs this binary inside the VM with it. Without it those cases skip.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "freeze.h"
#include "util.h"

static char err[512];

static void hook_ok(void **state)
{
	struct hook_result r;

	assert_int_equal(hook_run("true", 5, &r, err, sizeof(err)), 0);
	assert_true(r.ran);
	assert_int_equal(r.status, 0);
	assert_false(r.timed_out);
}

static void hook_none(void **state)
{
	struct hook_result r;
	char buf[64];

	assert_int_equal(hook_run(NULL, 5, &r, err, sizeof(err)), 0);
	assert_false(r.ran);
	assert_string_equal(hook_describe(&r, buf, sizeof(buf)), "none");
}

static void hook_fails(void **state)
{
	struct hook_result r;

	assert_int_equal(hook_run("exit 3", 5, &r, err, sizeof(err)), -ECANCELED);
	assert_int_equal(r.status, 3);
	assert_non_null(strstr(err, "exit status 3"));
}

/* Running (not gone, not a zombie waiting for a reaper). */
static int alive(pid_t pid)
{
	char path[64], st = 'X';
	FILE *fp;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fp = fopen(path, "r");
	if (!fp)
		return 0;
	if (fscanf(fp, "%*d %*s %c", &st) != 1)
		st = 'X';
	fclose(fp);
	return st != 'Z' && st != 'X';
}

/* The hook's children die with it: nothing is left holding the app. */
static void hook_timeout_kills_group(void **state)
{
	char pidfile[] = "/tmp/cdp-hook-XXXXXX", cmd[256];
	struct hook_result r;
	double t0 = cdp_mono();
	FILE *fp;
	int fd, child = 0;

	fd = mkstemp(pidfile);
	assert_true(fd >= 0);
	close(fd);
	snprintf(cmd, sizeof(cmd), "sleep 60 & echo $! > %s; wait", pidfile);
	assert_int_equal(hook_run(cmd, 0.3, &r, err, sizeof(err)), -ETIMEDOUT);
	assert_true(r.timed_out);
	assert_true(cdp_mono() - t0 < 3);
	assert_non_null(strstr(err, "--hook-timeout"));
	fp = fopen(pidfile, "r");
	assert_non_null(fp);
	assert_int_equal(fscanf(fp, "%d", &child), 1);
	fclose(fp);
	unlink(pidfile);
	usleep(100000);
	assert_false(alive(child));	/* the background sleep is gone */
}

static void hook_ignores_sigterm(void **state)
{
	struct hook_result r;
	double t0 = cdp_mono();

	assert_int_equal(hook_run("trap '' TERM; sleep 30", 0.2, &r, err, sizeof(err)), -ETIMEDOUT);
	assert_true(cdp_mono() - t0 < 3);	/* SIGKILL after 1 s */
	assert_int_equal(r.status, 128 + SIGKILL);
}

static void freeze_not_a_mount(void **state)
{
	char *m[] = { "/proc/self" };
	struct freeze f;

	assert_int_not_equal(freeze_mounts(&f, m, 1, 5, 0, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "mount point"));
}

static void freeze_missing_dir(void **state)
{
	char *m[] = { "/nonexistent/cdp" };
	struct freeze f;

	assert_int_equal(freeze_mounts(&f, m, 1, 5, 0, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "/nonexistent/cdp"));
}

static void freeze_nothing(void **state)
{
	struct freeze f;

	assert_int_equal(freeze_mounts(&f, NULL, 0, 5, 0, err, sizeof(err)), 0);
	assert_int_equal(freeze_thaw(&f, err, sizeof(err)), 0);
	assert_true(f.ms == 0);
}

/*---- with a real file system (VM) ----*/

static const char *mnt(void)
{
	return getenv("CDP_FREEZE_MNT");
}

static pid_t pending;	/* a writer still blocked by an earlier freeze */

static int reaped(pid_t pid, int ms)
{
	for (; ms > 0; ms -= 10) {
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return 1;
		usleep(10000);
	}
	return 0;
}

/*
 * 1 if a write into the file system completes within ms. A writer blocked
 * by a frozen fs sleeps uninterruptibly (even SIGKILL waits for the thaw),
 * so it is left pending and reaped by the next probe.
 */
static int can_write(int ms)
{
	char path[512];
	pid_t pid;

	if (pending) {
		if (!reaped(pending, ms))
			return 0;
		pending = 0;
	}
	snprintf(path, sizeof(path), "%s/probe", mnt());
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		_exit(fd < 0 || write(fd, "x", 1) != 1);
	}
	if (reaped(pid, ms))
		return 1;
	pending = pid;
	return 0;
}

static void freeze_and_thaw(void **state)
{
	char *m[1];
	struct freeze f;

	if (!mnt())
		skip();
	m[0] = (char *)mnt();
	assert_true(can_write(2000));
	assert_int_equal(freeze_mounts(&f, m, 1, 30, 0, err, sizeof(err)), 0);
	assert_false(can_write(300));
	assert_int_equal(freeze_thaw(&f, err, sizeof(err)), 0);
	assert_true(f.ms > 0);
	assert_true(can_write(2000));
	assert_int_equal(freeze_thaw(&f, err, sizeof(err)), 0);	/* idempotent */
}

static void freeze_twice_is_busy(void **state)
{
	char *m[1];
	struct freeze f, g;

	if (!mnt())
		skip();
	m[0] = (char *)mnt();
	assert_int_equal(freeze_mounts(&f, m, 1, 30, 0, err, sizeof(err)), 0);
	assert_int_equal(freeze_mounts(&g, m, 1, 30, 0, err, sizeof(err)), -EBUSY);
	assert_non_null(strstr(err, "already frozen"));
	assert_int_equal(freeze_thaw(&f, err, sizeof(err)), 0);
	assert_true(can_write(2000));
}

/* Dirty some pages so the pre-flush has something to write. */
static void dirty(void)
{
	char path[512], buf[4096];
	int fd, i;

	memset(buf, 'd', sizeof(buf));
	snprintf(path, sizeof(path), "%s/dirty", mnt());
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	for (i = 0; i < 256; i++)
		assert_int_equal(write(fd, buf, sizeof(buf)), sizeof(buf));
	close(fd);
}

/* Freeze and thaw mnt() with the pre-flush variant env selects. */
static void freeze_with(struct freeze *f, const char *env)
{
	char *m[1];

	m[0] = (char *)mnt();
	unsetenv("CDP_FREEZE_NO_PRESYNC");
	unsetenv("CDP_FREEZE_NO_CHECKPOINT");
	if (env)
		setenv(env, "1", 1);
	dirty();
	assert_int_equal(freeze_mounts(f, m, 1, 30, 0, err, sizeof(err)), 0);
	assert_int_equal(freeze_thaw(f, err, sizeof(err)), 0);
	if (env)
		unsetenv(env);
	assert_string_equal(f->warn, "");
	/* the window and its parts */
	assert_true(f->fifreeze_ms > 0 && f->fithaw_ms > 0);
	assert_true(f->ms >= f->fifreeze_ms + f->fithaw_ms);
}

/* The test mount is ext4 on a >= 5.13 kernel: its journal is checkpointed. */
static void preflush_checkpoints_ext4(void **state)
{
	struct freeze f;

	if (!mnt())
		skip();
	freeze_with(&f, NULL);
	assert_int_equal(f.checkpointed, 1);
	assert_in_range(f.sync_passes, 2, 4);
	assert_true(f.sync_ms >= f.ckpt_ms && f.ckpt_ms > 0);
}

static void preflush_variants(void **state)
{
	struct freeze f;

	if (!mnt())
		skip();
	freeze_with(&f, "CDP_FREEZE_NO_CHECKPOINT");
	assert_int_equal(f.checkpointed, 0);
	assert_in_range(f.sync_passes, 2, 4);
	assert_true(f.sync_ms > 0);
	freeze_with(&f, "CDP_FREEZE_NO_PRESYNC");
	assert_int_equal(f.checkpointed, 0);
	assert_int_equal(f.sync_passes, 0);
	assert_true(f.sync_ms == 0);
}

static char rcu_knob(void)
{
	char c = '?';
	int fd = open(RCU_EXPEDITED_PATH, O_RDONLY);

	if (fd >= 0 && read(fd, &c, 1) != 1)
		c = '?';
	if (fd >= 0)
		close(fd);
	return c;
}

/*
 * FIFREEZE ran with expedited RCU grace periods (the guest's knob is 0),
 * the knob is back to 0 afterwards, and FREEZE_NO_EXPEDITE leaves it alone.
 */
static void rcu_expedited_around_fifreeze(void **state)
{
	struct freeze f;
	char *m[1];

	if (!mnt())
		skip();
	m[0] = (char *)mnt();
	assert_int_equal(rcu_knob(), '0');
	assert_int_equal(freeze_mounts(&f, m, 1, 30, 0, err, sizeof(err)), 0);
	assert_int_equal(rcu_knob(), '0');	/* held for the FIFREEZE calls only */
	assert_int_equal(freeze_thaw(&f, err, sizeof(err)), 0);
	assert_int_equal(f.expedited, 1);
	assert_int_equal(freeze_mounts(&f, m, 1, 30, FREEZE_NO_EXPEDITE, err, sizeof(err)), 0);
	assert_int_equal(freeze_thaw(&f, err, sizeof(err)), 0);
	assert_int_equal(f.expedited, 0);
	setenv("CDP_FREEZE_NO_EXPEDITE", "1", 1);
	assert_int_equal(freeze_mounts(&f, m, 1, 30, 0, err, sizeof(err)), 0);
	unsetenv("CDP_FREEZE_NO_EXPEDITE");
	assert_int_equal(freeze_thaw(&f, err, sizeof(err)), 0);
	assert_int_equal(f.expedited, 0);
	assert_int_equal(rcu_knob(), '0');
}

/*
 * The window runs at nice -10 (root here), the caller's nice comes back at
 * the thaw, and FREEZE_NO_BOOST or $CDP_FREEZE_NO_BOOST keep it throughout.
 */
static void boosted_in_window(void **state)
{
	struct freeze f;
	char *m[1];

	if (!mnt())
		skip();
	m[0] = (char *)mnt();
	assert_int_equal(setpriority(PRIO_PROCESS, 0, 3), 0);
	assert_int_equal(freeze_mounts(&f, m, 1, 30, 0, err, sizeof(err)), 0);
	assert_int_equal(getpriority(PRIO_PROCESS, 0), -10);
	assert_int_equal(freeze_thaw(&f, err, sizeof(err)), 0);
	assert_int_equal(getpriority(PRIO_PROCESS, 0), 3);
	assert_int_equal(f.boosted, 1);
	assert_int_equal(freeze_mounts(&f, m, 1, 30, FREEZE_NO_BOOST, err, sizeof(err)), 0);
	assert_int_equal(getpriority(PRIO_PROCESS, 0), 3);
	assert_int_equal(freeze_thaw(&f, err, sizeof(err)), 0);
	assert_int_equal(f.boosted, 0);
	setenv("CDP_FREEZE_NO_BOOST", "1", 1);
	assert_int_equal(freeze_mounts(&f, m, 1, 30, 0, err, sizeof(err)), 0);
	unsetenv("CDP_FREEZE_NO_BOOST");
	assert_int_equal(getpriority(PRIO_PROCESS, 0), 3);
	assert_int_equal(freeze_thaw(&f, err, sizeof(err)), 0);
	/* a failed FIFREEZE (frozen already) gives the nice back too */
	assert_int_equal(freeze_mounts(&f, m, 1, 30, 0, err, sizeof(err)), 0);
	{
		struct freeze g;

		assert_int_not_equal(freeze_mounts(&g, m, 1, 30, FREEZE_NO_EXPEDITE, err, sizeof(err)), 0);
	}
	assert_int_equal(getpriority(PRIO_PROCESS, 0), -10);	/* f's window still open */
	assert_int_equal(freeze_thaw(&f, err, sizeof(err)), 0);
	assert_int_equal(getpriority(PRIO_PROCESS, 0), 3);
	assert_int_equal(setpriority(PRIO_PROCESS, 0, 0), 0);
}

/* A child freezes, then dies by sig: the fs must be writable again. */
static void child_dies(int sig, double deadline)
{
	char *m[1];
	struct freeze f;
	int st;
	pid_t pid;

	m[0] = (char *)mnt();
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		if (freeze_mounts(&f, m, 1, deadline, 0, err, sizeof(err)))
			_exit(1);
		pause();
		_exit(0);
	}
	usleep(500000);
	assert_false(can_write(200));
	assert_int_equal(rcu_knob(), '0');	/* only FIFREEZE itself expedites */
	if (sig)
		kill(pid, sig);
	assert_true(can_write(5000));
	if (!sig)
		kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
}

static void sigterm_thaws(void **state)
{
	if (!mnt())
		skip();
	child_dies(SIGTERM, 60);
}

static void sigint_thaws(void **state)
{
	if (!mnt())
		skip();
	child_dies(SIGINT, 60);
}

static void sigkill_guardian_thaws(void **state)
{
	if (!mnt())
		skip();
	child_dies(SIGKILL, 60);
}

static void deadline_guardian_thaws(void **state)
{
	if (!mnt())
		skip();
	child_dies(0, 1.5);	/* stuck parent: thawed after the deadline */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(hook_ok),
		cmocka_unit_test(hook_none),
		cmocka_unit_test(hook_fails),
		cmocka_unit_test(hook_timeout_kills_group),
		cmocka_unit_test(hook_ignores_sigterm),
		cmocka_unit_test(freeze_not_a_mount),
		cmocka_unit_test(freeze_missing_dir),
		cmocka_unit_test(freeze_nothing),
		cmocka_unit_test(freeze_and_thaw),
		cmocka_unit_test(freeze_twice_is_busy),
		cmocka_unit_test(preflush_checkpoints_ext4),
		cmocka_unit_test(preflush_variants),
		cmocka_unit_test(rcu_expedited_around_fifreeze),
		cmocka_unit_test(boosted_in_window),
		cmocka_unit_test(sigterm_thaws),
		cmocka_unit_test(sigint_thaws),
		cmocka_unit_test(sigkill_guardian_thaws),
		cmocka_unit_test(deadline_guardian_thaws),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
