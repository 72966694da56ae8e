// SPDX-License-Identifier: GPL-2.0
/* archive_hash.c - see archive_hash.h */
#include "archive_hash.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#define JOBS	4096	/* a 4 MiB read block of 1 KiB extents fits */

struct hash_job {
	uint64_t gap;
	const void *data;	/* NULL: finish into out */
	size_t len;
	unsigned int *busy;
	char *out;
};

struct hasher {
	struct cdp_sha256 *sha;		/* only the thread touches it */
	pthread_t thread;
	pthread_mutex_t lock;		/* guards everything below */
	pthread_cond_t changed;		/* a job queued, done, or stop */
	struct hash_job q[JOBS];
	unsigned int head, count;	/* count includes the running job */
	int stop;
};

static void run(struct hasher *h, const struct hash_job *j)
{
	cdp_sha256_zeros(h->sha, j->gap);
	if (j->data)
		cdp_sha256_update(h->sha, j->data, j->len);
	else
		cdp_sha256_final_hex(h->sha, j->out);
}

static void *hasher_main(void *arg)
{
	struct hasher *h = arg;

	pthread_mutex_lock(&h->lock);
	for (;;) {
		struct hash_job j;

		while (!h->count && !h->stop)
			pthread_cond_wait(&h->changed, &h->lock);
		if (!h->count)
			break;
		j = h->q[h->head];
		pthread_mutex_unlock(&h->lock);
		run(h, &j);
		pthread_mutex_lock(&h->lock);
		h->head = (h->head + 1) % JOBS;
		h->count--;
		if (j.busy)
			(*j.busy)--;
		pthread_cond_broadcast(&h->changed);
	}
	pthread_mutex_unlock(&h->lock);
	return NULL;
}

int hasher_new(struct hasher **out)
{
	struct hasher *h = calloc(1, sizeof(*h));

	*out = NULL;
	if (!h)
		return -ENOMEM;
	h->sha = cdp_sha256_new();
	pthread_mutex_init(&h->lock, NULL);
	pthread_cond_init(&h->changed, NULL);
	if (!h->sha || pthread_create(&h->thread, NULL, hasher_main, h)) {
		cdp_sha256_free(h->sha);
		free(h);
		return -ENOMEM;
	}
	*out = h;
	return 0;
}

static void queue(struct hasher *h, const struct hash_job *j)
{
	pthread_mutex_lock(&h->lock);
	while (h->count == JOBS)
		pthread_cond_wait(&h->changed, &h->lock);
	h->q[(h->head + h->count) % JOBS] = *j;
	h->count++;
	if (j->busy)
		(*j->busy)++;
	pthread_cond_broadcast(&h->changed);
	pthread_mutex_unlock(&h->lock);
}

void hasher_push(struct hasher *h, uint64_t gap, const void *data, size_t len,
		 unsigned int *busy)
{
	queue(h, &(struct hash_job){ .gap = gap, .data = data, .len = len, .busy = busy });
}

void hasher_finish(struct hasher *h, uint64_t gap, char *hex)
{
	queue(h, &(struct hash_job){ .gap = gap, .out = hex });
}

void hasher_wait(struct hasher *h, const unsigned int *busy)
{
	pthread_mutex_lock(&h->lock);
	while (*busy)
		pthread_cond_wait(&h->changed, &h->lock);
	pthread_mutex_unlock(&h->lock);
}

void hasher_sync(struct hasher *h)
{
	pthread_mutex_lock(&h->lock);
	while (h->count)
		pthread_cond_wait(&h->changed, &h->lock);
	pthread_mutex_unlock(&h->lock);
}

void hasher_free(struct hasher *h)
{
	if (!h)
		return;
	pthread_mutex_lock(&h->lock);
	h->stop = 1;
	pthread_cond_broadcast(&h->changed);
	pthread_mutex_unlock(&h->lock);
	pthread_join(h->thread, NULL);
	pthread_mutex_destroy(&h->lock);
	pthread_cond_destroy(&h->changed);
	cdp_sha256_free(h->sha);
	free(h);
}
