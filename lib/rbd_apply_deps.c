// SPDX-License-Identifier: GPL-2.0
/*
 * rbd_apply_deps.c - which record waits for which (rules in rbd_apply.h).
 *
 * At submit, a new record scans the unretired stream backwards, newest
 * first, down to the latest full barrier (FLUSH, MARK, sync, snapshot): a
 * barrier completes only after everything before it, so nothing older can
 * still be unfinished and the scan stops there. The window is bounded
 * (max_queued, ~1000), so this linear scan costs well under a microsecond
 * per record against a network round trip per aio; an interval tree would
 * buy nothing here. Each unfinished record found that the new one must wait
 * for gets it in its dependents list; when it finishes, the counts drop and
 * records reaching zero go to the ready queue.
 */
#include "rbd_apply_int.h"

#include <errno.h>
#include <stdlib.h>

int ra_is_barrier(const struct ra_rec *r)
{
	return r->op == CDP_OP_FLUSH || r->op == CDP_OP_MARK ||
	       r->op == RA_OP_SYNC || r->op == RA_OP_SNAP;
}

/* Later records wait for a FUA write: the writer may rely on it being stable. */
static int is_fua(const struct ra_rec *r)
{
	return !ra_is_barrier(r) && (r->flags & CDP_REC_F_FUA);
}

static int overlaps(const struct ra_rec *x, const struct ra_rec *y)
{
	return x->off < y->off + y->len && y->off < x->off + x->len;
}

static int must_wait(const struct ra_rec *n, const struct ra_rec *p)
{
	return ra_is_barrier(n) || ra_is_barrier(p) || is_fua(p) ||
	       (n->len && p->len && overlaps(n, p));
}

static int add_dependent(struct ra_rec *p, struct ra_rec *n)
{
	if (p->ndependents == p->capdependents) {
		unsigned int cap = p->capdependents ? 2 * p->capdependents : 4;
		struct ra_rec **d = realloc(p->dependents, cap * sizeof(*d));

		if (!d)
			return -ENOMEM;
		p->dependents = d;
		p->capdependents = cap;
	}
	p->dependents[p->ndependents++] = n;
	n->deps++;
	return 0;
}

/*
 * Make @n (not yet in the stream) wait for what it must. On -ENOMEM every
 * link made so far is undone (n was appended last to each list), so the
 * caller can simply refuse the record.
 */
int ra_deps_link(struct rbd_apply *a, struct ra_rec *n)
{
	struct ra_rec *p;

	for (p = a->tail; p; p = p->prev) {
		/* a done snapshot holds what follows until it retires (retire()) */
		if ((p->state != RS_DONE || p->op == RA_OP_SNAP) && must_wait(n, p) &&
		    add_dependent(p, n) < 0)
			goto undo;
		if (ra_is_barrier(p))
			break;
	}
	return 0;
undo:
	for (p = p->next; p; p = p->next)
		if (p->ndependents && p->dependents[p->ndependents - 1] == n)
			p->ndependents--;
	n->deps = 0;
	return -ENOMEM;
}

/* @r finished: whoever waited only for it may start now. */
void ra_deps_release(struct rbd_apply *a, struct ra_rec *r)
{
	unsigned int i;

	for (i = 0; i < r->ndependents; i++) {
		struct ra_rec *d = r->dependents[i];

		if (--d->deps == 0 && d->state == RS_WAITING)
			ra_ready_push(a, d);
	}
	free(r->dependents);
	r->dependents = NULL;
	r->ndependents = r->capdependents = 0;
}

void ra_ready_push(struct rbd_apply *a, struct ra_rec *r)
{
	r->state = RS_READY;
	r->qnext = NULL;
	if (a->ready_tail)
		a->ready_tail->qnext = r;
	else
		a->ready_head = r;
	a->ready_tail = r;
}

/* Retries go first: they are older than anything that became ready since. */
void ra_ready_push_front(struct rbd_apply *a, struct ra_rec *r)
{
	r->state = RS_READY;
	r->qnext = a->ready_head;
	a->ready_head = r;
	if (!a->ready_tail)
		a->ready_tail = r;
}

struct ra_rec *ra_ready_pop(struct rbd_apply *a)
{
	struct ra_rec *r = a->ready_head;

	if (r) {
		a->ready_head = r->qnext;
		if (!a->ready_head)
			a->ready_tail = NULL;
		r->qnext = NULL;
	}
	return r;
}
