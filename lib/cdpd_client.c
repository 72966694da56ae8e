// SPDX-License-Identifier: GPL-2.0
/* cdpd_client.c - see cdpd_client.h */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "cdpd_client.h"

int cdpd_connect(const struct cdp_config *cfg, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *path = getenv("CDP_CONTROL_SOCKET");
	int fd;

	if (!path)
		path = cfg->control_socket;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "control socket path %.60s... is longer than %zu bytes: "
			 "set a shorter control_socket in cdp.conf", path, sizeof(sa.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int e = errno;

		snprintf(err, errlen, "cannot reach cdpd at %s: %s (%s)", path, strerror(e),
			 e == ENOENT || e == ECONNREFUSED ? "is it running? systemctl start cdpd" :
			 e == EACCES ? "run as root" : "check control_socket in cdp.conf");
		if (fd >= 0)
			close(fd);
		return -e;
	}
	return fd;
}

int cdpd_send(int fd, const char *line)
{
	size_t n = strlen(line);

	if (send(fd, line, n, MSG_NOSIGNAL) != (ssize_t)n || send(fd, "\n", 1, MSG_NOSIGNAL) != 1)
		return -EPIPE;
	return 0;
}

int cdpd_recv(int fd, char *buf, size_t len, int timeout_ms)
{
	struct timespec t0, t;
	size_t n = 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (n + 1 < len) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t got;
		size_t take;
		char *nl;
		long left;

		clock_gettime(CLOCK_MONOTONIC, &t);
		left = timeout_ms - ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000);
		if (timeout_ms >= 0 && left <= 0)
			return -ETIMEDOUT;
		if (poll(&p, 1, timeout_ms < 0 ? -1 : (int)left) <= 0)
			continue;
		/* Peek, then take up to the newline only: the next line stays queued. */
		got = recv(fd, buf + n, len - 1 - n, MSG_PEEK);
		if (got <= 0)
			return -EPIPE;
		nl = memchr(buf + n, '\n', got);
		take = nl ? (size_t)(nl - (buf + n)) + 1 : (size_t)got;
		if (recv(fd, buf + n, take, 0) != (ssize_t)take)
			return -EPIPE;
		n += take;
		if (nl) {
			buf[n - 1] = '\0';
			return 0;
		}
	}
	return -EMSGSIZE;
}

static void field(const char *line, const char *key, char *out, size_t len)
{
	char pat[32];
	const char *p;

	snprintf(pat, sizeof(pat), " %s=", key);
	p = strstr(line, pat);
	out[0] = '\0';
	if (!p)
		return;
	p += strlen(pat);
	/* error= is last and may contain spaces */
	snprintf(out, len, "%.*s", !strcmp(key, "error") ? (int)strlen(p) : (int)strcspn(p, " "), p);
}

static uint64_t ufield(const char *line, const char *key)
{
	char v[32];

	field(line, key, v, sizeof(v));
	return strtoull(v, NULL, 10);
}

static long ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

int cdpd_status(const struct cdp_config *cfg, struct cdpd_volstat *st, int max,
		int timeout_ms, char *err, size_t errlen)
{
	char line[1024], v[32];
	struct timespec t0;
	int fd, n = 0, r;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	fd = cdpd_connect(cfg, err, errlen);
	if (fd < 0)
		return fd;
	r = cdpd_send(fd, "STATUS");
	/*
	 * One deadline for the whole answer, not one per line: a cdpd that
	 * sends a line now and then but never END must not hold cdpctl.
	 */
	while (!r) {
		struct cdpd_volstat *s = &st[n];
		long left = timeout_ms - ms_since(&t0);

		r = left > 0 ? cdpd_recv(fd, line, sizeof(line), (int)left) : -ETIMEDOUT;
		if (r)
			break;

		if (!strcmp(line, "END"))
			break;
		if (strncmp(line, "VOL ", 4) || n == max)
			continue;
		memset(s, 0, sizeof(*s));
		snprintf(s->name, sizeof(s->name), "%.*s", (int)strcspn(line + 4, " "), line + 4);
		field(line, "state", s->state, sizeof(s->state));
		field(line, "error", s->error, sizeof(s->error));
		s->applied = ufield(line, "applied");
		s->acked = ufield(line, "acked");
		s->last = ufield(line, "last");
		s->lag_bytes = ufield(line, "lag_bytes");
		s->consistent = (int)ufield(line, "consistent");
		field(line, "lag_s", v, sizeof(v));
		s->lag_s = atof(v);
		n++;
	}
	close(fd);
	if (r) {
		snprintf(err, errlen, "cdpd did not answer STATUS%s: %s",
			 r == -ETIMEDOUT ? " in time" : "", strerror(-r));
		return r;
	}
	return n;
}
