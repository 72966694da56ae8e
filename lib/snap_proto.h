/* SPDX-License-Identifier: GPL-2.0 */
/*
 * snap_proto.h - client side of cdpd's control socket (docs/cdpd-control.md):
 * connect, send a line, read a line with a timeout, and parse the
 * "<vol>=<seq> ..." lists of MARKED and DONE.
 *
 * The socket path: $CDP_CONTROL_SOCKET, else control_socket of cdp.conf.
 */
#ifndef CDP_SNAP_PROTO_H
#define CDP_SNAP_PROTO_H

#include <stddef.h>
#include <stdint.h>

#define SNAP_PROTO_LINE		2048
/* a request's timeout_ms: at most a day (cdpctl's --timeout bound) */
#define SNAP_MAX_TIMEOUT_MS	86400000

struct snap_conn {
	int fd;
	size_t len;			/* bytes buffered in buf */
	char buf[SNAP_PROTO_LINE];
};

/* Names on the wire: [A-Za-z0-9._:-]+, shorter than 100 bytes. */
int snap_proto_valid_name(const char *s);

/* The socket cdpctl talks to (env, config, default) into buf. */
const char *snap_proto_socket_path(char *buf, size_t len);

/* -ENOENT/-ECONNREFUSED etc. with a sentence naming how to start cdpd. */
int snap_proto_connect(struct snap_conn *c, const char *path, char *err, size_t errlen);
void snap_proto_close(struct snap_conn *c);

int snap_proto_send(struct snap_conn *c, const char *line);
/* One line without its '\n'; 0, -ETIMEDOUT, -EPIPE (closed), -EMSGSIZE. */
int snap_proto_read(struct snap_conn *c, char *line, size_t len, int timeout_ms);

/*
 * "ERR <errno> <message>" -> -errno (EIO if unparsable) and the message in
 * msg; any other line -> 0.
 */
int snap_proto_err(const char *line, char *msg, size_t len);

/*
 * Parse "<WORD> v1=s1 v2=s2 ..." (WORD is MARKED or DONE): for each of the
 * n volumes in vols, its seq into seqs. -EPROTO when the word differs, a
 * volume is missing or the list is malformed.
 */
int snap_proto_seqs(const char *line, const char *word, char *const *vols, int n,
		    uint64_t *seqs);

/* The line snap_proto_seqs() parses, into buf; -EMSGSIZE if it does not fit. */
int snap_proto_format_seqs(char *buf, size_t len, const char *word, char *const *vols,
			   int n, const uint64_t *seqs);

#endif
