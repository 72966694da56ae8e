// SPDX-License-Identifier: GPL-2.0
/* freeze.c - hooks and FIFREEZE/FITHAW; see freeze.h for the thaw guarantee. */
#include "freeze.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/statfs.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/*---- hooks -------------------------------------------------------------*/

/* Wait up to ms for pid; 1 = exited (*status set), 0 = still running. */
static int wait_child(pid_t pid, int ms, int *status)
{
	int pfd = (int)syscall(SYS_pidfd_open, pid, 0);

	if (pfd >= 0) {
		struct pollfd p = { .fd = pfd, .events = POLLIN };

		while (poll(&p, 1, ms) < 0 && errno == EINTR)
			;
		close(pfd);
	} else {
		/* pre-5.3 kernel: poll the child every 10 ms, no busy loop */
		for (; ms > 0 && !waitpid(pid, status, WNOHANG); ms -= 10)
			usleep(10000);
		if (ms > 0)
			return 1;
	}
	return waitpid(pid, status, WNOHANG) == pid;
}

static int exit_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}

int hook_run(const char *cmd, double timeout_s, struct hook_result *r,
	     char *err, size_t errlen)
{
	double t0 = cdp_mono();
	int status = 0;
	pid_t pid;

	memset(r, 0, sizeof(*r));
	if (!cmd)
		return 0;
	pid = fork();
	if (pid < 0) {
		snprintf(err, errlen, "cannot start hook \"%s\": %s", cmd, strerror(errno));
		return -errno;
	}
	if (!pid) {
		/* own group: the timeout kills the hook and all it started */
		setpgid(0, 0);
		dup2(STDERR_FILENO, STDOUT_FILENO);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	setpgid(pid, pid);	/* also here: no race with the kill below */
	r->ran = 1;
	if (!wait_child(pid, (int)(timeout_s * 1000), &status)) {
		r->timed_out = 1;
		kill(-pid, SIGTERM);
		if (!wait_child(pid, 1000, &status)) {
			kill(-pid, SIGKILL);
			waitpid(pid, &status, 0);
		}
	}
	r->status = exit_code(status);
	r->ms = (cdp_mono() - t0) * 1000;
	if (r->timed_out) {
		snprintf(err, errlen, "hook \"%s\" did not finish within %g s and was killed (raise --hook-timeout or fix the hook)",
			 cmd, timeout_s);
		return -ETIMEDOUT;
	}
	if (r->status) {
		snprintf(err, errlen, "hook \"%s\" failed with exit status %d%s", cmd,
			 r->status, r->status == 127 ? " (command not found?)" : "");
		return -ECANCELED;
	}
	return 0;
}

const char *hook_describe(const struct hook_result *r, char *buf, size_t len)
{
	if (!r->ran)
		snprintf(buf, len, "none");
	else if (r->timed_out)
		snprintf(buf, len, "timed out after %.0f ms", r->ms);
	else
		snprintf(buf, len, "exit %d in %.0f ms", r->status, r->ms);
	return buf;
}

/*---- signal layer -------------------------------------------------------*/

/* What the signal handler thaws; only touched with those signals blocked. */
static volatile int sig_fds[FREEZE_MAX_MOUNTS];
static volatile int sig_nfds;
static struct sigaction old_act[4];
static const int thaw_signals[4] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };

static void thaw_on_signal(int sig)
{
	int i;

	for (i = 0; i < sig_nfds; i++)
		ioctl(sig_fds[i], FITHAW, 0);
	sig_nfds = 0;
	signal(sig, SIG_DFL);
	raise(sig);
}

static void block_signals(sigset_t *old)
{
	sigset_t s;
	size_t i;

	sigemptyset(&s);
	for (i = 0; i < ARRAY_SIZE(thaw_signals); i++)
		sigaddset(&s, thaw_signals[i]);
	sigprocmask(SIG_BLOCK, &s, old);
}

static void install_handlers(void)
{
	struct sigaction sa = { .sa_handler = thaw_on_signal };
	size_t i;

	sigemptyset(&sa.sa_mask);
	for (i = 0; i < ARRAY_SIZE(thaw_signals); i++)
		sigaction(thaw_signals[i], &sa, &old_act[i]);
}

static void restore_handlers(void)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(thaw_signals); i++)
		sigaction(thaw_signals[i], &old_act[i], NULL);
}

/*---- guardian -----------------------------------------------------------*/

static void guardian(int sock, const struct freeze *f, double deadline_s)
{
	struct pollfd p = { .fd = sock, .events = POLLIN };
	struct rcu_expedite rcu;
	char c = 0;
	int i, n;

	/* own session: a ^C on the terminal must not take the guardian first */
	setsid();
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	do
		n = poll(&p, 1, (int)(deadline_s * 1000));
	while (n < 0 && errno == EINTR);
	if (n > 0 && read(sock, &c, 1) == 1 && c == 'T')
		_exit(0);	/* the parent thawed */
	/* parent gone (EOF) or stuck past the deadline */
	for (i = 0; i < f->n; i++)
		ioctl(f->fd[i], FITHAW, 0);
	/* the parent may have died inside its expedited window */
	rcu = f->rcu;
	rcu_expedite_end(&rcu);
	_exit(n == 0 ? 2 : 1);
}

static int start_guardian(struct freeze *f, double deadline_s, char *err, size_t errlen)
{
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv)) {
		snprintf(err, errlen, "socketpair: %s", strerror(errno));
		return -errno;
	}
	pid = fork();
	if (pid < 0) {
		snprintf(err, errlen, "cannot fork the thaw guardian: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return -errno;
	}
	if (!pid) {
		close(sv[0]);
		guardian(sv[1], f, deadline_s);
	}
	close(sv[1]);
	f->guard_pid = pid;
	f->guard_fd = sv[0];
	return 0;
}

static void stop_guardian(struct freeze *f)
{
	if (!f->guard_pid)
		return;
	send(f->guard_fd, "T", 1, MSG_NOSIGNAL);
	close(f->guard_fd);
	waitpid(f->guard_pid, NULL, 0);
	f->guard_pid = 0;
}

/*---- freeze / thaw ------------------------------------------------------*/

static int open_mount(struct freeze *f, const char *mnt, char *err, size_t errlen)
{
	struct statx stx, other;
	int fd, i;

	if (strlen(mnt) >= sizeof(f->mnt[0])) {
		snprintf(err, errlen, "mount point path too long: %s", mnt);
		return -ENAMETOOLONG;
	}
	fd = open(mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || statx(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &stx)) {
		int e = errno;

		snprintf(err, errlen, "cannot open mount point %s: %s", mnt, strerror(e));
		if (fd >= 0)
			close(fd);
		return -e;
	}
	if ((stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) &&
	    !(stx.stx_attributes & STATX_ATTR_MOUNT_ROOT)) {
		snprintf(err, errlen, "%s is not a mount point (FIFREEZE freezes a whole file system: name its mount point)", mnt);
		close(fd);
		return -EINVAL;
	}
	for (i = 0; i < f->n; i++) {
		if (!statx(f->fd[i], "", AT_EMPTY_PATH, STATX_BASIC_STATS, &other) &&
		    other.stx_dev_major == stx.stx_dev_major &&
		    other.stx_dev_minor == stx.stx_dev_minor) {
			snprintf(err, errlen, "%s and %s are the same file system: give it once", f->mnt[i], mnt);
			close(fd);
			return -EINVAL;
		}
	}
	f->fd[f->n] = fd;
	f->frozen[f->n] = 0;
	strcpy(f->mnt[f->n], mnt);
	f->n++;
	return 0;
}

static void close_mounts(struct freeze *f)
{
	int i;

	for (i = 0; i < f->n; i++)
		close(f->fd[i]);
	f->n = 0;
}

static const char *freeze_hint(int e)
{
	switch (e) {
	case EBUSY:
		return " (already frozen: thaw it with `fsfreeze -u`)";
	case EOPNOTSUPP:
		return " (this file system cannot be frozen; drop --freeze for it and quiesce with --pre)";
	case EPERM:
		return " (needs root: CAP_SYS_ADMIN)";
	default:
		return "";
	}
}

/*
 * FIFREEZE writes back every dirty page of the file system before it
 * returns, and the application is blocked for all of it: with a busy
 * writer that is hundreds of ms. Writing back first, while the application
 * still runs, leaves FIFREEZE only what was dirtied since. Each pass is
 * shorter than the one before and catches most of what it let in, so the
 * passes repeat until one is short (or PRESYNC_MAX_PASSES ran: a writer
 * faster than the disk never converges, and the passes are not free).
 * syncfs errors are ignored here on purpose: FIFREEZE reports the real ones.
 */
#define PRESYNC_MAX_PASSES	4
#define PRESYNC_SHORT_MS	5.0

/*
 * On ext4, FIFREEZE (ext4_freeze) also checkpoints the whole journal:
 * every metadata block journaled since the last checkpoint is written
 * home, then the superblock with a cache flush, all inside the window.
 * syncfs only commits the journal, it does not checkpoint it. The
 * EXT4_IOC_CHECKPOINT ioctl (Linux 5.13) does the same journal flush
 * while the application runs, so FIFREEZE finds an almost empty journal.
 * It is not free for the application either: it holds off new journal
 * handles while it runs, so metadata updates (mtime on write included)
 * wait for it; reads do not. After a syncfs that is a short stall, kept
 * in ckpt_ms so it can be weighed against the freeze it saves. Not in
 * every userspace linux/ext4.h, hence the definitions.
 */
#ifndef EXT4_SUPER_MAGIC
#define EXT4_SUPER_MAGIC	0xEF53
#endif
#ifndef EXT4_IOC_CHECKPOINT
#define EXT4_IOC_CHECKPOINT	_IOW('f', 43, __u32)
#endif

/* 1 = checkpointed, 0 = not ext4 or not available here */
static int checkpoint_mount(struct freeze *f, int i)
{
	__u32 flags = 0;
	struct statfs st;

	if (fstatfs(f->fd[i], &st) || st.f_type != EXT4_SUPER_MAGIC)
		return 0;
	if (!ioctl(f->fd[i], EXT4_IOC_CHECKPOINT, &flags))
		return 1;
	/* not there: kernel < 5.13 (ENOTTY, EINVAL), no journal (ENODEV) */
	if (errno == EOPNOTSUPP || errno == ENOTTY || errno == EINVAL || errno == ENODEV)
		return 0;
	/* costs only a longer window: say so, and freeze anyway */
	if (!f->warn[0])
		snprintf(f->warn, sizeof(f->warn),
			 "ext4 journal checkpoint of %s before the freeze failed (%s); the freeze window may be longer",
			 f->mnt[i], strerror(errno));
	return 0;
}

static double syncfs_pass(struct freeze *f)
{
	double t0 = cdp_mono();
	int i;

	for (i = 0; i < f->n; i++)
		syncfs(f->fd[i]);
	return (cdp_mono() - t0) * 1000;
}

/* Pre-flush variants, for scripts/bench-snap.sh's same-run baselines only. */
enum presync_mode {
	PRESYNC_FULL,		/* the default */
	PRESYNC_NONE,		/* CDP_FREEZE_NO_PRESYNC=1: FIFREEZE as it comes */
	PRESYNC_NO_CHECKPOINT,	/* CDP_FREEZE_NO_CHECKPOINT=1: syncfs passes only */
};

static int env_set(const char *name)
{
	const char *v = getenv(name);

	return v && *v;
}

static enum presync_mode presync_mode(void)
{
	if (env_set("CDP_FREEZE_NO_PRESYNC"))
		return PRESYNC_NONE;
	if (env_set("CDP_FREEZE_NO_CHECKPOINT"))
		return PRESYNC_NO_CHECKPOINT;
	return PRESYNC_FULL;
}

/*
 * syncfs, checkpoint the ext4 journals (what they write home is the
 * metadata the first syncfs just committed), then syncfs until a pass is
 * short: the checkpoint held metadata updates back, and whatever the
 * application dirtied meanwhile is better written now than frozen.
 */
static void presync_mounts(struct freeze *f, enum presync_mode mode)
{
	double t0 = cdp_mono(), t;
	int i;

	f->t_synced = t0;
	if (mode == PRESYNC_NONE)
		return;
	syncfs_pass(f);
	t = cdp_mono();
	for (i = 0; mode == PRESYNC_FULL && i < f->n; i++)
		f->checkpointed += checkpoint_mount(f, i);
	f->ckpt_ms = (cdp_mono() - t) * 1000;
	f->sync_passes = 1;
	do
		f->sync_passes++;
	while (syncfs_pass(f) >= PRESYNC_SHORT_MS && f->sync_passes < PRESYNC_MAX_PASSES);
	f->t_synced = cdp_mono();
	f->sync_ms = (f->t_synced - t0) * 1000;
}

/*
 * The frozen window runs at nice FREEZE_NICE: the application waits for
 * this thread, and the writer that FITHAW wakes (or cdpd, or writeback)
 * must not take the CPU between our ioctls. Only this thread, only from
 * the first FIFREEZE to the last FITHAW; no CAP_SYS_NICE: left as it is.
 */
#define FREEZE_NICE	(-10)

static void boost_begin(struct freeze *f)
{
	errno = 0;
	f->old_nice = getpriority(PRIO_PROCESS, 0);
	if (errno || f->old_nice <= FREEZE_NICE)
		return;
	f->boosted = !setpriority(PRIO_PROCESS, 0, FREEZE_NICE);
}

/* Once per freeze: freeze_thaw() gets here only while mounts are open. */
static void boost_end(const struct freeze *f)
{
	if (f->boosted)
		setpriority(PRIO_PROCESS, 0, f->old_nice);
}

/* FIFREEZE in order; the caller thaws what was frozen when one fails. */
static int freeze_all(struct freeze *f, char *err, size_t errlen)
{
	int i;

	for (i = 0; i < f->n; i++) {
		if (ioctl(f->fd[i], FIFREEZE, 0)) {
			int e = errno;

			snprintf(err, errlen, "cannot freeze %s: %s%s", f->mnt[i],
				 strerror(e), freeze_hint(e));
			return -e;
		}
		f->frozen[i] = 1;
		sig_fds[sig_nfds++] = f->fd[i];
	}
	return 0;
}

int freeze_mounts(struct freeze *f, char *const *mnts, int n,
		  double deadline_s, unsigned int flags, char *err, size_t errlen)
{
	sigset_t old;
	int i, ret;

	memset(f, 0, sizeof(*f));
	f->guard_fd = -1;
	f->rcu.fd = -1;
	if (n > FREEZE_MAX_MOUNTS) {
		snprintf(err, errlen, "at most %d mount points can be frozen together", FREEZE_MAX_MOUNTS);
		return -E2BIG;
	}
	for (i = 0; i < n; i++) {
		ret = open_mount(f, mnts[i], err, errlen);
		if (ret) {
			close_mounts(f);
			return ret;
		}
	}
	if (!n)
		return 0;
	presync_mounts(f, presync_mode());
	/*
	 * Expedited grace periods from before the guardian's fork (so its copy
	 * can put the knob back if we die in the window) to the last FIFREEZE;
	 * FITHAW waits for no grace period.
	 */
	if (env_set("CDP_FREEZE_NO_EXPEDITE"))
		flags |= FREEZE_NO_EXPEDITE;
	if (env_set("CDP_FREEZE_NO_BOOST"))
		flags |= FREEZE_NO_BOOST;
	if (!(flags & FREEZE_NO_EXPEDITE))
		f->expedited = rcu_expedite_begin(&f->rcu, RCU_EXPEDITED_PATH);
	ret = start_guardian(f, deadline_s, err, errlen);
	if (ret) {
		rcu_expedite_end(&f->rcu);
		close_mounts(f);
		return ret;
	}
	block_signals(&old);
	install_handlers();
	if (!(flags & FREEZE_NO_BOOST))
		boost_begin(f);
	f->t_frozen = cdp_mono();
	f->gap_ms = (f->t_frozen - f->t_synced) * 1000;
	ret = freeze_all(f, err, errlen);
	rcu_expedite_end(&f->rcu);
	/* the window's parts: FIFREEZE here, the caller's work, FITHAW */
	f->fifreeze_ms = (cdp_mono() - f->t_frozen) * 1000;
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (ret)
		freeze_thaw(f, NULL, 0);
	return ret;
}

int freeze_thaw(struct freeze *f, char *err, size_t errlen)
{
	double t0 = cdp_mono();
	sigset_t old;
	int i, ret = 0;

	if (!f->n)
		return 0;
	block_signals(&old);
	for (i = f->n - 1; i >= 0; i--) {
		if (!f->frozen[i])
			continue;
		/* EINVAL: not frozen any more, the guardian's deadline thawed it */
		if (ioctl(f->fd[i], FITHAW, 0) && !ret) {
			ret = -errno;
			if (err)
				snprintf(err, errlen, "%s was already thawed: the freeze deadline passed (%s)",
					 f->mnt[i], strerror(errno));
		}
		f->frozen[i] = 0;
	}
	if (f->t_frozen) {
		/* one clock read: the FITHAW part must end where the window does */
		double now = cdp_mono();

		f->ms = (now - f->t_frozen) * 1000;
		f->fithaw_ms = (now - t0) * 1000;
	}
	boost_end(f);
	sig_nfds = 0;
	restore_handlers();
	sigprocmask(SIG_SETMASK, &old, NULL);
	stop_guardian(f);
	close_mounts(f);
	return ret;
}
