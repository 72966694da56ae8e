/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cdpd_client.h - talk to cdpd's control socket (docs/cdpd-control.md):
 * connect, send a line, read lines with a timeout; and STATUS parsed.
 */
#ifndef CDP_CDPD_CLIENT_H
#define CDP_CDPD_CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include "config.h"

/* Connected socket fd, or -errno with a message naming the fix. */
int cdpd_connect(const struct cdp_config *cfg, char *err, size_t errlen);
int cdpd_send(int fd, const char *line);
/*
 * One line (without '\n') within @timeout_ms: 0, -ETIMEDOUT, -EPIPE, or
 * -EMSGSIZE (longer than @len). Bytes after the line stay queued for the
 * next call; after an error the framing is lost: close the connection.
 */
int cdpd_recv(int fd, char *buf, size_t len, int timeout_ms);

struct cdpd_volstat {
	char name[64];
	char state[16];			/* attached|waiting|stopped */
	uint64_t applied, acked, last, lag_bytes;
	double lag_s;
	int consistent;
	char error[256];		/* "-" when none */
};

/*
 * STATUS: up to @max entries, returns how many, or -errno; the whole
 * answer (up to END) within @timeout_ms, else -ETIMEDOUT.
 */
int cdpd_status(const struct cdp_config *cfg, struct cdpd_volstat *st, int max,
		int timeout_ms, char *err, size_t errlen);

#endif
