// SPDX-License-Identifier: GPL-2.0
/* snap_proto.c - see snap_proto.h */
#include "snap_proto.h"
#include "config.h"
#include "util.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int snap_proto_valid_name(const char *s)
{
	size_t n = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-");

	return n && !s[n] && n < 100;
}

const char *snap_proto_socket_path(char *buf, size_t len)
{
	const char *env = getenv("CDP_CONTROL_SOCKET");
	struct cdp_config cfg;
	char err[256];

	if (env) {
		snprintf(buf, len, "%s", env);
		return buf;
	}
	cdp_config_defaults(&cfg);
	cdp_config_load(NULL, &cfg, err, sizeof(err));	/* defaults on error */
	snprintf(buf, len, "%s", cfg.control_socket);
	return buf;
}

int snap_proto_connect(struct snap_conn *c, const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int e;

	c->len = 0;
	c->fd = -1;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "control socket path too long: %s", path);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, path);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -errno;
	}
	if (!connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)))
		return 0;
	e = errno;
	close(c->fd);
	c->fd = -1;
	if (e == ENOENT || e == ECONNREFUSED)
		snprintf(err, errlen, "cdpd is not running (no daemon listening on %s): start it with `systemctl start cdpd` (or set CDP_CONTROL_SOCKET); nothing was frozen",
			 path);
	else
		snprintf(err, errlen, "cannot connect to cdpd at %s: %s%s", path, strerror(e),
			 e == EACCES ? " (the control socket is root only)" : "");
	return -e;
}

void snap_proto_close(struct snap_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

int snap_proto_send(struct snap_conn *c, const char *line)
{
	size_t n = strlen(line);
	char buf[SNAP_PROTO_LINE + 1];

	if (n >= SNAP_PROTO_LINE)
		return -EMSGSIZE;
	memcpy(buf, line, n);
	buf[n++] = '\n';
	return send(c->fd, buf, n, MSG_NOSIGNAL) == (ssize_t)n ? 0 : -EPIPE;
}

int snap_proto_read(struct snap_conn *c, char *line, size_t len, int timeout_ms)
{
	double deadline = cdp_mono() + timeout_ms / 1000.0;

	for (;;) {
		char *nl = memchr(c->buf, '\n', c->len);
		struct pollfd p = { .fd = c->fd, .events = POLLIN };
		ssize_t r;
		int left;

		if (nl) {
			size_t n = nl - c->buf;

			if (n >= len)
				return -EMSGSIZE;
			memcpy(line, c->buf, n);
			line[n] = '\0';
			memmove(c->buf, nl + 1, c->len - n - 1);
			c->len -= n + 1;
			return 0;
		}
		if (c->len == sizeof(c->buf))
			return -EMSGSIZE;
		left = (int)((deadline - cdp_mono()) * 1000);
		if (left <= 0)
			return -ETIMEDOUT;
		r = poll(&p, 1, left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -ETIMEDOUT;
		r = read(c->fd, c->buf + c->len, sizeof(c->buf) - c->len);
		if (r <= 0)
			return -EPIPE;
		c->len += r;
	}
}

int snap_proto_err(const char *line, char *msg, size_t len)
{
	char *end;
	long e;

	if (strncmp(line, "ERR", 3) || (line[3] && line[3] != ' '))
		return 0;
	e = strtol(line + 3, &end, 10);
	if (end == line + 3 || e <= 0 || e > 4095)
		e = EIO;
	while (*end == ' ')
		end++;
	snprintf(msg, len, "%s", *end ? end : "cdpd reported an error without a message");
	return -(int)e;
}

int snap_proto_seqs(const char *line, const char *word, char *const *vols, int n,
		    uint64_t *seqs)
{
	size_t wl = strlen(word);
	uint64_t seen = 0;	/* bit i: vols[i] was listed */
	const char *p;
	int i;

	if (n > 64)
		return -E2BIG;
	if (strncmp(line, word, wl) || (line[wl] && line[wl] != ' '))
		return -EPROTO;
	for (i = 0; i < n; i++)
		seqs[i] = 0;
	p = line + wl;
	while (*p) {
		const char *eq, *end;
		char *num_end;
		unsigned long long s;

		while (*p == ' ')
			p++;
		if (!*p)
			break;
		end = p + strcspn(p, " ");
		eq = memchr(p, '=', end - p);
		if (!eq)
			return -EPROTO;
		/* digits only: strtoull would take "-1" (2^64-1) and "+5" */
		if (eq[1] < '0' || eq[1] > '9')
			return -EPROTO;
		errno = 0;
		s = strtoull(eq + 1, &num_end, 10);
		if (num_end != end || errno)
			return -EPROTO;
		for (i = 0; i < n; i++)
			if (strlen(vols[i]) == (size_t)(eq - p) && !strncmp(vols[i], p, eq - p))
				break;
		/* every volume of the request exactly once, nothing else */
		if (i == n || (seen & (1ULL << i)))
			return -EPROTO;
		seen |= 1ULL << i;
		seqs[i] = s;
		p = end;
	}
	return seen == (n == 64 ? ~0ULL : (1ULL << n) - 1) ? 0 : -EPROTO;
}

int snap_proto_format_seqs(char *buf, size_t len, const char *word, char *const *vols,
			   int n, const uint64_t *seqs)
{
	size_t k = snprintf(buf, len, "%s", word);
	int i;

	for (i = 0; i < n && k < len; i++)
		k += snprintf(buf + k, len - k, " %s=%llu", vols[i], (unsigned long long)seqs[i]);
	return k < len ? 0 : -EMSGSIZE;
}
