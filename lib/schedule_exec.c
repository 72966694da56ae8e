// SPDX-License-Identifier: GPL-2.0
/*
 * schedule_exec.c - run a helper command without a shell (arguments such as
 * hook commands or drive names are passed as they are, never re-parsed).
 */
#include "schedule_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int sched_exec(const char *const argv[], char *out, size_t outlen)
{
	int pfd[2], status, ret;
	size_t used = 0;
	ssize_t n;
	pid_t pid;
	char buf[512];

	if (outlen)
		out[0] = '\0';
	if (pipe2(pfd, O_CLOEXEC))
		return -errno;
	pid = fork();
	if (pid < 0) {
		ret = -errno;
		close(pfd[0]);
		close(pfd[1]);
		return ret;
	}
	if (pid == 0) {
		dup2(pfd[1], STDOUT_FILENO);
		dup2(pfd[1], STDERR_FILENO);
		execv(argv[0], (char *const *)argv);
		dprintf(STDERR_FILENO, "cannot run %s: %s", argv[0], strerror(errno));
		_exit(127);
	}
	close(pfd[1]);
	/* Keep the tail: the last lines say why a command failed. */
	while ((n = read(pfd[0], buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR)) {
		if (n <= 0 || outlen < 2)
			continue;
		if (used + n >= outlen) {
			size_t drop = used + n - (outlen - 1);

			if (drop > used)
				drop = used;
			memmove(out, out + drop, used - drop);
			used -= drop;
		}
		if ((size_t)n > outlen - 1 - used)
			n = outlen - 1 - used;
		memcpy(out + used, buf, n);
		used += n;
		out[used] = '\0';
	}
	close(pfd[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	/* one line for event messages */
	while (used && (out[used - 1] == '\n' || out[used - 1] == ' '))
		out[--used] = '\0';
	for (n = 0; (size_t)n < used; n++)
		if (out[n] == '\n')
			out[n] = ' ';
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}
