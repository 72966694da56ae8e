// SPDX-License-Identifier: GPL-2.0
/*
 * cdpd_control.c - the control socket (docs/cdpd-control.md): SNAP and
 * STATUS. One thread accepts; each connection gets a short-lived thread of
 * its own, so a slow snapshot never blocks `cdpctl status`.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <rbd/librbd.h>

#include "cdpd.h"
#include "cdpd_client.h"
#include "nl.h"
#include "rbd_apply.h"
#include "rbd_apply_conn.h"
#include "snap_proto.h"
#include "util.h"

#define MAX_GROUP	16

static int listen_fd = -1;
static pthread_t accept_thread;

static int send_line(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int send_line(int fd, const char *fmt, ...)
{
	char buf[2048];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	if (n > (int)sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	buf[n++] = '\n';
	return send(fd, buf, n, MSG_NOSIGNAL) == n ? 0 : -EPIPE;
}

static bool valid_name(const char *s)
{
	size_t n = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-");

	return n && !s[n] && n < 100;
}

/* Open the volume's image on a private connection (existence check, cleanup). */
static int open_image(struct vol *v, struct rbd_apply_conn *c, char *err, size_t len)
{
	struct rbd_apply_opts o = {
		.conf = cfg.ceph_conf, .keyring = cfg.keyring[0] ? cfg.keyring : NULL,
		.client_id = cfg.client_id, .pool = v->pool, .image = v->image,
		.op_timeout_s = cfg.op_timeout_s,
	};

	memset(c, 0, sizeof(*c));
	return rbd_apply_conn_open(c, &o, err, len);
}

static void remove_snap(struct vol *v, const char *name)
{
	struct rbd_apply_conn c;
	char err[256];

	if (open_image(v, &c, err, sizeof(err))) {
		cdpd_log(LOG_ERR, "%s: cannot remove partial group snapshot %s: %s", v->name, name, err);
		return;
	}
	rbd_snap_unprotect(c.img, name);
	if (rbd_snap_remove(c.img, name))
		cdpd_log(LOG_ERR, "%s: cannot remove partial group snapshot %s", v->name, name);
	rbd_apply_conn_close(&c);
}

struct snap_req {
	int fd;
	char name[128];
	int protect;
	int timeout_ms;
	int n;
	struct vol *vols[MAX_GROUP];
	struct pending_snap *ps[MAX_GROUP];
};

static int parse_snap(struct snap_req *q, char *args)
{
	char *save, *tok;
	int i = 0;

	tok = strtok_r(args, " ", &save);
	while (tok) {
		if (i == 0) {
			if (!valid_name(tok) || !strncmp(tok, "cdp-pre-resync-", 15))
				return send_line(q->fd, "ERR 22 invalid snapshot name '%s'", tok), -EINVAL;
			snprintf(q->name, sizeof(q->name), "%s", tok);
		} else if (i == 1) {
			if (strcmp(tok, "0") && strcmp(tok, "1"))
				return send_line(q->fd, "ERR 22 protect must be 0 or 1, not '%s'", tok), -EINVAL;
			q->protect = tok[0] == '1';
		} else if (i == 2) {
			char *end;
			long t;

			errno = 0;
			t = strtol(tok, &end, 10);
			if (errno || *end || end == tok || t < 0 || t > SNAP_MAX_TIMEOUT_MS)
				return send_line(q->fd, "ERR 22 timeout_ms must be 0 to %d, not '%s'",
						 SNAP_MAX_TIMEOUT_MS, tok), -EINVAL;
			q->timeout_ms = (int)t;
		} else {
			struct vol *v;
			int k;

			if (q->n == MAX_GROUP)
				return send_line(q->fd, "ERR 7 at most %d volumes in one group", MAX_GROUP), -E2BIG;
			for (k = 0; k < q->n; k++)
				if (!strcmp(q->vols[k]->name, tok))
					return send_line(q->fd, "ERR 22 volume %s named twice", tok), -EINVAL;
			pthread_mutex_lock(&registry_lock);
			v = vol_find(tok);
			pthread_mutex_unlock(&registry_lock);
			if (!v || v->exited)
				return send_line(q->fd, "ERR 19 volume %s is not served by cdpd (protect it with cdpctl protect, and check dmsetup table)", tok), -ENODEV;
			q->vols[q->n++] = v;
		}
		i++;
		tok = strtok_r(NULL, " ", &save);
	}
	if (q->n == 0)
		return send_line(q->fd, "ERR 22 usage: SNAP <name> <protect> <timeout_ms> <vol>..."), -EINVAL;
	if (q->timeout_ms <= 0)
		q->timeout_ms = cfg.snap_timeout_s * 1000;
	return 0;
}

/* Every member attached and consistent, within the timeout. */
static int wait_ready(struct snap_req *q)
{
	double deadline = cdp_mono() + q->timeout_ms / 1000.0;
	int i, ok;

	for (;;) {
		ok = 1;
		for (i = 0; i < q->n; i++) {
			pthread_mutex_lock(&q->vols[i]->lock);
			/* the kernel refuses a MARK while tracking or resyncing */
			ok &= q->vols[i]->attached && q->vols[i]->consistent &&
			      (q->vols[i]->kernel_state == CDP_STATE_REPLICATING ||
			       q->vols[i]->kernel_state == CDP_STATE_DEGRADED);
			pthread_mutex_unlock(&q->vols[i]->lock);
		}
		if (ok)
			return 0;
		if (cdp_mono() > deadline)
			break;
		usleep(100 * 1000);
	}
	for (i = 0; i < q->n; i++) {
		struct vol *v = q->vols[i];

		if (!v->attached)
			return send_line(q->fd, "ERR 107 volume %s is not attached: %s", v->name,
					 v->error[0] ? v->error : "cdpd is connecting"), -ENOTCONN;
	}
	return send_line(q->fd, "ERR 16 resync in progress: the replica is not consistent yet (retry when 'cdpctl status' says consistent)"), -EBUSY;
}

/*
 * An earlier request's snapshot of that name that is not taken yet (one
 * that timed out stays, CANCELLED, until taken): the engine counts an
 * existing name as done, so a new request of the same name would be told
 * DONE for the earlier request's point in time.
 */
static int name_pending(struct vol *v, const char *name)
{
	const struct pending_snap *p;
	int found = 0;

	pthread_mutex_lock(&v->lock);
	for (p = v->snaps; p && !found; p = p->next)
		found = !strcmp(p->name, name);
	pthread_mutex_unlock(&v->lock);
	return found;
}

static int check_absent(struct snap_req *q)
{
	struct rbd_apply_conn c;
	char err[256];
	bool exists;
	int i, r;

	for (i = 0; i < q->n; i++) {
		if (name_pending(q->vols[i], q->name))
			return send_line(q->fd, "ERR 17 snapshot %s of %s is still being taken for an earlier request (it may have timed out): choose another --name, or retry once 'rbd snap ls %s/%s' shows it",
					 q->name, q->vols[i]->name, q->vols[i]->pool,
					 q->vols[i]->image), -EEXIST;
		r = open_image(q->vols[i], &c, err, sizeof(err));
		if (r)
			return send_line(q->fd, "ERR %d %s", -r, err), r;
		r = rbd_snap_exists(c.img, q->name, &exists);
		rbd_apply_conn_close(&c);
		if (!r && exists)
			return send_line(q->fd, "ERR 17 snapshot %s@%s already exists (choose another --name)",
					 q->vols[i]->image, q->name), -EEXIST;
	}
	return 0;
}

/* The request's snapshot of one member at seq, not registered yet (ERR sent if none). */
static struct pending_snap *pending_new(const struct snap_req *q, uint64_t seq)
{
	struct pending_snap *p = calloc(1, sizeof(*p));

	if (!p) {
		send_line(q->fd, "ERR 12 out of memory");
		return NULL;
	}
	snprintf(p->name, sizeof(p->name), "%s", q->name);
	p->protect = q->protect;
	p->seq = seq;
	return p;
}

/* v->lock held: the worker sees p from now on. */
static void pending_register(struct snap_req *q, int i, struct pending_snap *p)
{
	struct vol *v = q->vols[i];

	p->next = v->snaps;
	v->snaps = p;
	q->ps[i] = p;
	pthread_cond_broadcast(&v->cond);
}

/* Insert a MARK in every member and register its snapshot; reply MARKED. */
static int mark_all(struct snap_req *q, struct cdp_nl *nl)
{
	char reply[SNAP_PROTO_LINE], *names[MAX_GROUP];
	uint64_t seqs[MAX_GROUP];
	int i, r = 0;

	for (i = 0; i < q->n; i++) {
		struct vol *v = q->vols[i];
		struct pending_snap *p = pending_new(q, 0);

		if (!p)
			return -ENOMEM;
		/* held across the MARK: the worker cannot pass the record unseen */
		pthread_mutex_lock(&v->lock);
		r = cdp_nl_mark(nl, v->name, &p->seq);
		if (!r)
			pending_register(q, i, p);
		pthread_mutex_unlock(&v->lock);
		if (r) {
			send_line(q->fd, "ERR %d MARK on %s failed: %s", -r, v->name, cdp_nl_error(nl));
			free(p);
			break;
		}
		names[i] = v->name;
		seqs[i] = p->seq;
	}
	if (!r)
		r = snap_proto_format_seqs(reply, sizeof(reply), "MARKED", names, q->n, seqs);
	if (!r)
		r = send_line(q->fd, "%s", reply);
	return r;
}

/* Lock held: could @seq be a MARK of this client that cdpd still waits at? */
static int seq_acceptable(const struct vol *v, uint64_t seq, uint64_t kernel_last)
{
	return seq > v->mark_floor && seq <= kernel_last &&
	       (seq > v->mark_seen || v->mark_waiting == seq);
}

static int refuse_seq(struct snap_req *q, const struct vol *v, uint64_t seq)
{
	return send_line(q->fd, "ERR 22 %s: seq %llu is not a MARK inserted after READY that cdpd still waits at",
			 v->name, (unsigned long long)seq), -EINVAL;
}

/*
 * The client inserted the MARKs itself (inside its freeze, then thawed):
 * "MARKED <vol>=<seq> ..." registers their snapshots. A seq the worker
 * already went past, older than READY or beyond the kernel's last seq is
 * refused.
 */
static int register_all(struct snap_req *q, struct cdp_nl *nl, const char *line)
{
	uint64_t seqs[MAX_GROUP], last[MAX_GROUP];
	char *names[MAX_GROUP];
	struct cdp_volinfo vi;
	int i, ok;

	for (i = 0; i < q->n; i++)
		names[i] = q->vols[i]->name;
	if (snap_proto_seqs(line, "MARKED", names, q->n, seqs))
		return send_line(q->fd, "ERR 71 expected \"MARKED <vol>=<seq> ...\" naming every volume of the request"), -EPROTO;
	/* all or nothing: no member registered before every seq checked out */
	for (i = 0; i < q->n; i++) {
		struct vol *v = q->vols[i];

		/* the client's MARK exists by now: never past the kernel's last seq */
		last[i] = cdp_nl_info(nl, v->name, &vi) ? UINT64_MAX : vi.last_seq;
		pthread_mutex_lock(&v->lock);
		ok = seq_acceptable(v, seqs[i], last[i]);
		pthread_mutex_unlock(&v->lock);
		if (!ok)
			return refuse_seq(q, v, seqs[i]);
	}
	for (i = 0; i < q->n; i++) {
		struct vol *v = q->vols[i];
		struct pending_snap *p = pending_new(q, seqs[i]);

		if (!p)
			return -ENOMEM;		/* pending_new sent the ERR */
		pthread_mutex_lock(&v->lock);
		ok = seq_acceptable(v, p->seq, last[i]);
		if (ok)
			pending_register(q, i, p);
		pthread_mutex_unlock(&v->lock);
		if (!ok) {
			free(p);
			return refuse_seq(q, v, seqs[i]);	/* finish() removes the others */
		}
	}
	return 0;
}

/*
 * on: from before READY, the worker holds at unregistered MARKs newer than
 * the kernel's last seq now (the client's own MARKs will be newer); off:
 * this client has registered its MARKs or is gone.
 */
static void expect_marks(struct snap_req *q, struct cdp_nl *nl, int on)
{
	struct cdp_volinfo vi;
	int i;

	for (i = 0; i < q->n; i++) {
		struct vol *v = q->vols[i];
		int known = on && !cdp_nl_info(nl, v->name, &vi);

		pthread_mutex_lock(&v->lock);
		if (on && v->marks_expected++ == 0)
			v->mark_floor = known ? vi.last_seq : v->kernel_last_seq;
		if (!on) {
			v->marks_expected--;
			pthread_cond_broadcast(&v->cond);
		}
		pthread_mutex_unlock(&v->lock);
	}
}

/*
 * Wait for every member's snapshot, then DONE; or, when one failed (or the
 * request did: @failed, its ERR already sent), wait for the members that
 * are being snapshotted right now, remove what was created and ERR.
 */
static void finish(struct snap_req *q, int failed)
{
	double deadline = cdp_mono() + q->timeout_ms / 1000.0;
	char err[600] = "", done[SNAP_PROTO_LINE];
	char *names[MAX_GROUP];
	uint64_t seqs[MAX_GROUP];
	int i, bad = failed;

	for (i = 0; i < q->n; i++) {
		struct vol *v = q->vols[i];
		struct pending_snap *p = q->ps[i];
		struct timespec ts;

		names[i] = v->name;
		seqs[i] = p ? p->seq : 0;
		if (!p)
			continue;
		pthread_mutex_lock(&v->lock);
		while ((!bad && p->state == SNAP_WAIT) || p->state == SNAP_RUNNING) {
			double left = deadline - cdp_mono();

			if (left <= 0) {
				if (!err[0])
					snprintf(err, sizeof(err), "110 timed out waiting for %s to reach the mark",
						 v->name);
				bad = 1;
				break;
			}
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += 1;
			pthread_cond_timedwait(&v->cond, &v->lock, &ts);
		}
		if (p->state == SNAP_FAILED && !err[0]) {
			snprintf(err, sizeof(err), "%d %s: %s", -p->rc, v->name, p->err);
			bad = 1;
		}
		pthread_mutex_unlock(&v->lock);
	}
	for (i = 0; i < q->n; i++) {
		struct vol *v = q->vols[i];
		struct pending_snap *p = q->ps[i], **pp;
		int created;

		if (!p)
			continue;
		pthread_mutex_lock(&v->lock);
		created = p->state == SNAP_DONE;
		if (p->state == SNAP_RUNNING) {
			p->state = SNAP_CANCELLED;	/* on_snap removes it later */
			p = NULL;
		} else {
			for (pp = &v->snaps; *pp; pp = &(*pp)->next)
				if (*pp == p) {
					*pp = p->next;
					break;
				}
		}
		pthread_mutex_unlock(&v->lock);
		if (bad && created)
			remove_snap(v, q->name);
		free(p);
	}
	if (!bad && snap_proto_format_seqs(done, sizeof(done), "DONE", names, q->n, seqs)) {
		for (i = 0; i < q->n; i++)
			remove_snap(q->vols[i], q->name);
		snprintf(err, sizeof(err), "90 the DONE line would exceed %d bytes: use shorter names or fewer volumes",
			 SNAP_PROTO_LINE);
		bad = 1;
	}
	if (failed)
		return;		/* its ERR was sent */
	if (bad)
		send_line(q->fd, "ERR %s", err[0] ? err : "5 snapshot failed");
	else
		send_line(q->fd, "%s", done);
}

/*
 * Replication steps back during the client's freeze window unless a
 * member is in sync mode: there the frozen file system's own writes wait
 * for our acks.
 */
static int may_yield(struct snap_req *q)
{
	int i, sync = 0;

	for (i = 0; i < q->n; i++) {
		pthread_mutex_lock(&q->vols[i]->lock);
		sync |= q->vols[i]->kernel_sync;
		pthread_mutex_unlock(&q->vols[i]->lock);
	}
	return !sync;
}

/*
 * How long READY -> MARK/MARKED may take: the request's timeout, but not
 * the up to 24 h a request may ask for. The window holds the client's
 * hooks (cdpctl: --hook-timeout each), so the cap is generous: 15 min, or
 * snap_timeout_s if that is longer.
 */
static int freeze_limit_ms(const struct snap_req *q)
{
	long long cap = 1000LL * (cfg.snap_timeout_s > 900 ? cfg.snap_timeout_s : 900);

	return q->timeout_ms < cap ? q->timeout_ms : (int)cap;
}

static void do_snap(int fd, char *args)
{
	struct snap_req q = { .fd = fd };
	struct cdp_nl *nl;
	char line[SNAP_PROTO_LINE] = "";
	int r, yield, marked;

	if (parse_snap(&q, args) || wait_ready(&q) || check_absent(&q))
		return;
	/* opened (family resolved) now: MARK runs inside the client's freeze */
	if (cdp_nl_open(&nl)) {
		send_line(fd, "ERR 19 cannot reach dm-cdp over netlink");
		return;
	}
	expect_marks(&q, nl, 1);
	r = send_line(fd, "READY");
	/* the client quiesces and freezes now: replication steps back */
	yield = may_yield(&q);
	if (yield)
		cdpd_workers_yield(1);
	/*
	 * A vanished client leaves nothing behind. Replication may hold at
	 * marks while we wait: however long the client's own timeout, that
	 * hold (its freeze window) ends within freeze_limit_ms().
	 */
	if (!r)
		r = cdpd_recv(fd, line, sizeof(line), freeze_limit_ms(&q));
	/* MARK: we insert the marks; MARKED: the client did, and has thawed */
	marked = !r && (!strcmp(line, "MARK") || !strncmp(line, "MARKED ", 7));
	if (marked)
		r = strcmp(line, "MARK") ? register_all(&q, nl, line) : mark_all(&q, nl);
	expect_marks(&q, NULL, 0);
	if (yield)
		cdpd_workers_yield(0);
	cdp_nl_close(nl);
	if (!marked)
		return;
	cdpd_log(LOG_INFO, "snapshot %s: %d volume(s) marked%s", q.name, q.n, r ? " (failed)" : "");
	finish(&q, r != 0);
}

static void do_status(int fd)
{
	struct vol *v;
	double now = cdp_now();

	pthread_mutex_lock(&registry_lock);
	for (v = volumes; v; v = v->next) {
		pthread_mutex_lock(&v->lock);
		send_line(fd, "VOL %s image=%s/%s state=%s applied=%llu acked=%llu last=%llu lag_bytes=%llu lag_s=%.3f consistent=%d error=%s",
			  v->name, v->pool, v->image,
			  v->exited ? "stopped" : v->attached ? "attached" : "waiting",
			  (unsigned long long)v->durable_seq, (unsigned long long)v->acked_seq,
			  (unsigned long long)v->kernel_last_seq, (unsigned long long)v->queued_bytes,
			  v->oldest_pending > 0 ? now - v->oldest_pending : 0.0, v->consistent,
			  v->error[0] ? v->error : "-");
		pthread_mutex_unlock(&v->lock);
	}
	pthread_mutex_unlock(&registry_lock);
	send_line(fd, "END");
}

/*
 * Read and drop the rest of an over-long request (1 s, 64 KiB at most): a
 * unix socket closed with unread data resets the peer, who would then
 * never read our ERR.
 */
static void drain_line(int fd)
{
	char buf[4096];
	int i;

	for (i = 0; i < 16; i++) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, 1000) <= 0)
			return;
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n <= 0 || memchr(buf, '\n', n))
			return;
	}
}

static void *conn_thread(void *arg)
{
	int fd = (int)(intptr_t)arg;
	struct timeval tv = { .tv_sec = 5 };
	char line[SNAP_PROTO_LINE];
	int r;

	cdpd_name_control_thread();
	/* a client that stops reading must not block us (STATUS sends under locks) */
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	r = cdpd_recv(fd, line, sizeof(line), 5000);
	if (r == -EMSGSIZE) {
		send_line(fd, "ERR 90 request line longer than %d bytes", SNAP_PROTO_LINE - 1);
		drain_line(fd);
	}
	if (!r) {
		if (!strncmp(line, "SNAP ", 5))
			do_snap(fd, line + 5);
		else if (!strcmp(line, "STATUS"))
			do_status(fd);
		else
			send_line(fd, "ERR 22 unknown request (SNAP, STATUS)");
	}
	close(fd);
	return NULL;
}

static void *accept_loop(void *arg)
{
	unsigned int short_of = 0;	/* accept failures in a row for want of fds */

	cdpd_name_control_thread();
	while (!cdpd_quit) {
		struct pollfd p = { .fd = listen_fd, .events = POLLIN };
		pthread_t t;
		int fd;

		if (poll(&p, 1, 500) <= 0)
			continue;
		fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0 && (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			       errno == ENOMEM)) {
			/* the connection stays queued; polling again at once would spin */
			if (!short_of++)
				cdpd_log(LOG_ERR, "control socket: cannot accept connections: %s",
					 strerror(errno));
			usleep(200000);
			continue;
		}
		short_of = 0;
		if (fd < 0)
			continue;
		if (pthread_create(&t, NULL, conn_thread, (void *)(intptr_t)fd)) {
			close(fd);
			usleep(200000);
			continue;
		}
		pthread_detach(t);
	}
	return NULL;
}

int control_start(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *path = getenv("CDP_CONTROL_SOCKET");
	char dir[sizeof(sa.sun_path)], *slash;

	if (!path)
		path = cfg.control_socket;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		cdpd_log(LOG_ERR, "control socket path too long: %s", path);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, path);
	strcpy(dir, path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		mkdir(dir, 0700);
	}
	unlink(path);
	listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (listen_fd < 0 || bind(listen_fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    chmod(path, 0600) || listen(listen_fd, 16)) {
		cdpd_log(LOG_ERR, "cannot listen on %s: %s", path, strerror(errno));
		return -errno;
	}
	return pthread_create(&accept_thread, NULL, accept_loop, NULL) ? -EAGAIN : 0;
}

void control_stop(void)
{
	if (listen_fd < 0)
		return;
	pthread_join(accept_thread, NULL);
	close(listen_fd);
	unlink(getenv("CDP_CONTROL_SOCKET") ? getenv("CDP_CONTROL_SOCKET") : cfg.control_socket);
}
