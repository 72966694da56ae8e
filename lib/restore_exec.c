// SPDX-License-Identifier: GPL-2.0
/*
 * restore_exec.c - run the tools that have no library (rbd-nbd, rbd map,
 * tgtadm, losetup) with captured output and a timeout.
 */
#include "restore.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void trim(char *s)
{
	size_t n = strlen(s);

	while (n && (s[n - 1] == '\n' || s[n - 1] == ' ' || s[n - 1] == '\r'))
		s[--n] = '\0';
}

/* Read what is there from fd into buf[*n..len-1]; 0 at EOF. */
static int drain(int fd, char *buf, size_t len, size_t *n)
{
	char tmp[1024];
	ssize_t r = read(fd, tmp, sizeof(tmp));

	if (r <= 0)
		return 0;
	if (*n + 1 < len) {
		size_t k = (size_t)r < len - 1 - *n ? (size_t)r : len - 1 - *n;

		memcpy(buf + *n, tmp, k);
		*n += k;
		buf[*n] = '\0';
	}
	return 1;
}

/*
 * Ceph tools print their own log lines ("2026-11-26T00:31:13.486+0000 ...
 * asok ... failed") on stderr; the user needs the tool's message, not those.
 */
static void drop_ceph_log_lines(char *s)
{
	char *in = s, *out = s;

	while (*in) {
		size_t n = strcspn(in, "\n");
		int date = n > 11 && in[4] == '-' && in[7] == '-' && in[10] == 'T' &&
			   in[0] >= '0' && in[0] <= '9';

		if (!date && n) {
			if (out != s)
				*out++ = ' ';
			memmove(out, in, n);
			out += n;
		}
		in += n;
		if (*in)
			in++;
	}
	*out = '\0';
}

int restore_exec(char *const argv[], char *out, size_t outlen, double timeout_s,
		 char *err, size_t errlen)
{
	int po[2], pe[2], status = 0, open_fds = 2, timed_out = 0;
	double deadline = cdp_mono() + timeout_s;
	size_t no = 0, ne = 0;
	pid_t pid;

	out[0] = err[0] = '\0';
	if (pipe2(po, O_CLOEXEC) || pipe2(pe, O_CLOEXEC)) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return -errno;
	}
	pid = fork();
	if (pid < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		return -errno;
	}
	if (!pid) {
		dup2(po[1], STDOUT_FILENO);
		dup2(pe[1], STDERR_FILENO);
		setpgid(0, 0);
		execvp(argv[0], argv);
		fprintf(stderr, "cannot run %s: %s", argv[0], strerror(errno));
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	struct pollfd p[2] = { { .fd = po[0], .events = POLLIN }, { .fd = pe[0], .events = POLLIN } };

	/* rbd-nbd map forks a daemon that keeps stdout: stop at the exit of
	 * the command itself, not at EOF */
	while (open_fds) {
		int left = (int)((deadline - cdp_mono()) * 1000), r;

		if (left <= 0) {
			timed_out = 1;
			break;
		}
		r = poll(p, 2, left < 100 ? left : 100);
		if (r < 0 && errno != EINTR)
			break;
		if (p[0].revents && !drain(po[0], out, outlen, &no)) {
			p[0].fd = -1;
			open_fds--;
		}
		if (p[1].revents && !drain(pe[0], err, errlen, &ne)) {
			p[1].fd = -1;
			open_fds--;
		}
		if (waitpid(pid, &status, WNOHANG) == pid) {
			/* pick up what is already in the pipes, then stop */
			while (p[0].fd >= 0 && poll(&p[0], 1, 0) > 0 && drain(po[0], out, outlen, &no))
				;
			while (p[1].fd >= 0 && poll(&p[1], 1, 0) > 0 && drain(pe[0], err, errlen, &ne))
				;
			pid = 0;
			break;
		}
	}
	close(po[0]);
	close(pe[0]);
	if (pid) {
		if (timed_out)
			kill(-pid, SIGKILL);
		waitpid(pid, &status, 0);
	}
	trim(out);
	drop_ceph_log_lines(err);
	trim(err);
	if (timed_out) {
		snprintf(err, errlen, "%s did not finish within %g s", argv[0], timeout_s);
		return -ETIMEDOUT;
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
