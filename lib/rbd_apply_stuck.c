// SPDX-License-Identifier: GPL-2.0
/*
 * rbd_apply_stuck.c - aio that librbd never completes.
 *
 * The op timeouts bound every RADOS op, but not an aio that librbd keeps
 * in its own queues: a write waiting for the image's exclusive lock, for
 * one, waits as long as the lock cannot be had, and a blocklisted client
 * never gets it again. The engine's reconnect waits for in-flight aio to
 * end (a record must not be issued twice at once), so such an aio would
 * stall the stream for good.
 *
 * After ra_stuck_ms() the engine gives up on them: it opens a new session,
 * blocklists the old one (from then on no OSD accepts a write of the old
 * session, so an old copy can never land after a newer record), and issues
 * the records again on the new session. The old aio's completion, should
 * librbd ever call it, only frees what librbd still referenced.
 */
#include "rbd_apply_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

/* Longer than any aio takes that librbd turns into RADOS ops with timeouts. */
uint64_t ra_stuck_ms(const struct rbd_apply *a)
{
	return a->opts.stuck_ms ? a->opts.stuck_ms : 3000ULL * a->opts.op_timeout_s;
}

/* Every second (or quarter of stuck_ms) while aio are out: is the oldest stuck? */
void ra_stuck_check(struct rbd_apply *a)
{
	uint64_t now = ra_now_ms(), oldest = UINT64_MAX;
	const struct ra_rec *r, *old = NULL;

	if (!a->st.inflight || a->need_reconnect || a->closing || now < a->stuck_check_at_ms)
		return;
	a->stuck_check_at_ms = now + (ra_stuck_ms(a) < 4000 ? ra_stuck_ms(a) / 4 + 1 : 1000);
	for (r = a->head; r; r = r->next)
		if (r->state == RS_INFLIGHT && r->started_ms < oldest) {
			oldest = r->started_ms;
			old = r;
		}
	if (!old || now - oldest < ra_stuck_ms(a))
		return;
	ra_log(a, LOG_WARNING, "seq %llu: librbd has not completed its aio in %llu s",
	       (unsigned long long)old->seq, (unsigned long long)(now - oldest) / 1000);
	ra_want_reconnect(a);
	a->need_reconnect_since_ms = oldest;	/* stuck already: no second wait */
}

/*
 * Take @r back from librbd: from now on the late completion (if any) frees
 * the ticket and the payload librbd was given; @r keeps @copy (of its
 * payload, made before the fence) and goes again. -1 if it completed
 * meanwhile: its result is queued, @copy is not needed.
 */
static int abandon(struct rbd_apply *a, struct ra_rec *r, char *copy)
{
	struct ra_aio *t = r->aio;

	/* Before the swap: once it is AIO_ABANDONED the callback may free t. */
	t->orphan_buf = r->buf;
	if (atomic_exchange(&t->state, AIO_ABANDONED) == AIO_DONE) {
		t->orphan_buf = NULL;
		return -1;
	}
	r->buf = copy;
	r->aio = NULL;
	r->state = RS_RETRY;
	r->retry_at_ms = 0;
	a->nretry++;
	a->st.inflight--;
	a->st.abandoned++;
	return 0;
}

/* A copy of each held record's payload, in stream order; NULL: no memory. */
static char **copy_payloads(struct rbd_apply *a, unsigned int *n)
{
	char **copies = calloc(a->st.inflight + 1, sizeof(*copies));
	struct ra_rec *r;

	*n = 0;
	if (!copies)
		return NULL;
	for (r = a->head; r && *n < a->st.inflight; r = r->next) {
		if (r->state != RS_INFLIGHT || !r->aio)
			continue;
		if (r->buf) {
			copies[*n] = malloc(r->len);
			if (!copies[*n])
				goto fail;
			memcpy(copies[*n], r->buf, r->len);
		}
		(*n)++;
	}
	return copies;
fail:
	while ((*n)--)
		free(copies[*n]);
	free(copies);
	return NULL;
}

int ra_stuck_rescue(struct rbd_apply *a)
{
	struct rbd_apply_conn fresh;
	unsigned int held = a->st.inflight, n = 0, k = 0, i;
	char err[512], **copies;
	struct ra_rec *r;
	int ret;

	ra_log(a, LOG_WARNING, "%u aio held by librbd for over %llu s: new session, fencing the old one",
	       held, (unsigned long long)ra_stuck_ms(a) / 1000);
	/* everything that can fail comes before the fence */
	copies = copy_payloads(a, &n);
	if (!copies) {
		ra_log(a, LOG_ERR, "no memory to copy the held records");
		return -ENOMEM;
	}
	ret = rbd_apply_conn_open(&fresh, &a->opts, err, sizeof(err));
	if (ret < 0) {
		ra_log(a, LOG_ERR, "%s", err);
		goto out;
	}
	ret = rbd_apply_conn_fence(&fresh, &a->conn, err, sizeof(err));
	if (ret < 0) {
		/* Unfenced, an old aio could still land later: keep waiting. */
		ra_log(a, LOG_ERR, "%s; still waiting for librbd", err);
		rbd_apply_conn_close_bounded(&fresh, a->opts.op_timeout_s);
		goto out;
	}
	ra_session_dropped(a);
	for (r = a->head, i = 0; r && i < n; r = r->next) {
		if (r->state != RS_INFLIGHT || !r->aio)
			continue;
		if (!abandon(a, r, copies[i])) {
			copies[i] = NULL;	/* the record's now */
			k++;
		}
		i++;
	}
	/* Its close may wait for the aio we gave up on: not in this thread. */
	rbd_apply_conn_close_detached(&a->conn);
	a->conn = fresh;
	ra_session_opened(a);
	ra_log(a, LOG_WARNING, "old session fenced; %u of %u records issued again on the new one",
	       k, held);
out:
	for (i = 0; i < n; i++)
		free(copies[i]);
	free(copies);
	return ret;
}
