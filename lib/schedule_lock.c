// SPDX-License-Identifier: GPL-2.0
/*
 * schedule_lock.c - one `schedule run` at a time per catalog. flock(2) on a
 * file beside the catalog: released by the kernel when the holder exits or
 * crashes, so a killed run never leaves a stale lock behind.
 */
#include "schedule.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#define SCHEDULE_LOCK_FILE	"schedule.lock"

static void lock_path(struct catalog *c, char *buf, size_t len)
{
	const char *cat = catalog_path(c);
	const char *slash = strrchr(cat, '/');

	if (slash)
		snprintf(buf, len, "%.*s/%s", (int)(slash - cat), cat, SCHEDULE_LOCK_FILE);
	else
		snprintf(buf, len, "%s", SCHEDULE_LOCK_FILE);
}

int schedule_lock(struct catalog *c, int *fd, char *err, size_t errlen)
{
	char path[PATH_MAX], pid[32] = "";
	ssize_t n;
	int ret;

	lock_path(c, path, sizeof(path));
	*fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (*fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "cannot open lock file %s: %s", path, strerror(errno));
		return ret;
	}
	if (flock(*fd, LOCK_EX | LOCK_NB)) {
		ret = -errno;
		n = pread(*fd, pid, sizeof(pid) - 1, 0);
		pid[n > 0 ? n : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		if (ret == -EWOULDBLOCK)
			snprintf(err, errlen,
				 "another schedule run (pid %s) holds %s; this one does nothing",
				 pid[0] ? pid : "?", path);
		else
			snprintf(err, errlen, "cannot lock %s: %s", path, strerror(-ret));
		close(*fd);
		*fd = -1;
		return ret;
	}
	/* The pid is only for the message above; the lock is the flock. */
	n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(*fd, 0) == 0 && pwrite(*fd, pid, n, 0) != n) {
		/* a missing pid only makes the message vaguer */
	}
	return 0;
}

void schedule_unlock(int fd)
{
	if (fd < 0)
		return;
	/* no stale pid for the next holder's message */
	if (ftruncate(fd, 0)) {
		/* the lock itself is released by close() either way */
	}
	close(fd);
}
