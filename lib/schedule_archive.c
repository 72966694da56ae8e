// SPDX-License-Identifier: GPL-2.0
/*
 * schedule_archive.c - hand snapshots past --archive-after to
 * `cdpctl archive create`. Writing discs takes hours, far longer than the
 * one-minute cron tick, so the archive runs in the background and the run
 * lock is not held meanwhile:
 *
 *   schedule run --fork--> (setsid) --fork--> cdpctl schedule archive-run
 *                                               |-- cdpctl archive create ...
 *                                               `-- event with the outcome
 *
 * archive-run inherits an flock on archive-<policy id>.lock beside the
 * catalog, so one archive per policy runs at a time and the next `schedule
 * run` moves on to the next snapshot only when it ended. Only exec follows
 * fork (the parent has librados threads).
 */
#include "schedule_int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#define ARCHIVE_MAX_DRIVES	16

static void archive_lock_path(struct catalog *c, int64_t policy_id, char *buf,
			      size_t len)
{
	const char *cat = catalog_path(c);
	const char *slash = strrchr(cat, '/');
	int dirlen = slash ? (int)(slash - cat) : 1;

	snprintf(buf, len, "%.*s/archive-%" PRId64 ".lock", dirlen, slash ? cat : ".",
		 policy_id);
}

int sched_archive_start(struct sched_ctx *x, const struct policy *p,
			const char *pool, const char *image, const char *snap,
			char *err, size_t errlen)
{
	char path[PATH_MAX], source[512];
	const char *argv[10];
	int lockfd, devnull, a = 0, ret, status;
	pid_t pid;

	archive_lock_path(x->cat, p->id, path, sizeof(path));
	/* no O_CLOEXEC: archive-run must inherit the lock across exec */
	lockfd = open(path, O_RDWR | O_CREAT, 0644);
	if (lockfd < 0) {
		ret = -errno;
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		return ret;
	}
	if (flock(lockfd, LOCK_EX | LOCK_NB)) {
		ret = errno == EWOULDBLOCK ? -EALREADY : -errno;
		snprintf(err, errlen, "an archive of policy %s is still running", p->name);
		close(lockfd);
		return ret;
	}
	devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	snprintf(source, sizeof(source), "%s/%s@%s", pool, image, snap);
	argv[a++] = x->o->cdpctl;
	if (x->o->catalog) {
		argv[a++] = "-c";
		argv[a++] = x->o->catalog;
	}
	argv[a++] = "schedule";
	argv[a++] = "archive-run";
	argv[a++] = p->name;
	argv[a++] = source;
	argv[a] = NULL;

	pid = fork();
	if (pid < 0) {
		ret = -errno;
		snprintf(err, errlen, "cannot start the archive: %s", strerror(errno));
		goto out;
	}
	if (pid == 0) {
		setsid();
		if (fork() != 0)
			_exit(0);
		if (devnull >= 0) {
			dup2(devnull, STDIN_FILENO);
			dup2(devnull, STDOUT_FILENO);
			dup2(devnull, STDERR_FILENO);
		}
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	ret = 0;
out:
	if (devnull >= 0)
		close(devnull);
	close(lockfd);		/* the lock stays with archive-run */
	return ret;
}

/*
 * Write our pid into the lock file (another descriptor: the flock held
 * through the inherited one is not affected), so an admin or a test can see
 * which process runs the archive.
 */
static void note_pid(struct catalog *c, int64_t policy_id)
{
	char path[PATH_MAX];
	int fd;

	archive_lock_path(c, policy_id, path, sizeof(path));
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return;
	dprintf(fd, "%ld\n", (long)getpid());
	close(fd);
}

int schedule_archive_run(struct catalog *c, const char *policy,
			 const char *source, const char *cdpctl,
			 const char *catalog_opt, char *err, size_t errlen)
{
	const char *argv[12 + 2 * ARCHIVE_MAX_DRIVES];
	char out[1024], cap[32], *drives = NULL, *d, *save;
	struct policy p;
	int a = 0, nd = 0, ret;

	ret = policy_get(c, policy, &p, err, errlen);
	if (ret)
		return ret;
	note_pid(c, p.id);
	argv[a++] = cdpctl;
	if (catalog_opt) {
		argv[a++] = "-c";
		argv[a++] = catalog_opt;
	}
	argv[a++] = "archive";
	argv[a++] = "create";
	argv[a++] = source;
	argv[a++] = "--batch";		/* nobody is there to change discs */
	drives = strdup(p.archive_drives ? p.archive_drives : "");
	for (d = strtok_r(drives, " ", &save); d && nd++ < ARCHIVE_MAX_DRIVES;
	     d = strtok_r(NULL, " ", &save)) {
		argv[a++] = "--drive";
		argv[a++] = d;
	}
	if (p.archive_capacity) {
		snprintf(cap, sizeof(cap), "%" PRIu64, p.archive_capacity);
		argv[a++] = "--capacity";
		argv[a++] = cap;
	}
	argv[a] = NULL;
	policy_event(c, p.id, 0, "info", "schedule.archive-start",
		     "archive %s to %s started", source, p.archive_drives);
	ret = sched_exec(argv, out, sizeof(out));
	if (ret == 0) {
		policy_event(c, p.id, 0, "info", "schedule.archive-done",
			     "archive %s done", source);
	} else {
		snprintf(err, errlen, "cdpctl archive create %s failed (exit %d): %s",
			 source, ret, out[0] ? out : "no message");
		policy_event(c, p.id, 0, "error", "schedule.archive-failed", "%s", err);
		ret = -EIO;
	}
	free(drives);
	policy_free(&p);
	return ret;
}
