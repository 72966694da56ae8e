// SPDX-License-Identifier: GPL-2.0
/* archive_hash.c - see archive_hash.h */
#include "archive_hash.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#define JOBS	4096	/* a 4 MiB read block of 1 KiB extents fits */

struct hash_job {
	uint64_t gap;
	const void *data;
	size_t len;
	unsigned int *busy;
};

struct image_hasher {
	struct cdp_sha256 *sha;
	pthread_t thread;
	pthread_mutex_t lock;		/* guards everything below */
	pthread_cond_t changed;		/* a job queued, done, or stop */
	struct hash_job q[JOBS];
	unsigned int head, count;
	int running;			/* a job is being hashed */
	int stop;
};

static void *hasher_main(void *arg)
{
	struct image_hasher *h = arg;

	pthread_mutex_lock(&h->lock);
	for (;;) {
		struct hash_job j;

		while (!h->count && !h->stop)
			pthread_cond_wait(&h->changed, &h->lock);
		if (!h->count)
			break;
		j = h->q[h->head];
		h->running = 1;
		pthread_mutex_unlock(&h->lock);

		cdp_sha256_zeros(h->sha, j.gap);
		cdp_sha256_update(h->sha, j.data, j.len);

		pthread_mutex_lock(&h->lock);
		h->head = (h->head + 1) % JOBS;
		h->count--;
		h->running = 0;
		(*j.busy)--;
		pthread_cond_broadcast(&h->changed);
	}
	pthread_mutex_unlock(&h->lock);
	return NULL;
}

int image_hasher_new(struct image_hasher **out)
{
	struct image_hasher *h = calloc(1, sizeof(*h));

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

void image_hasher_push(struct image_hasher *h, uint64_t gap, const void *data,
		       size_t len, unsigned int *busy)
{
	pthread_mutex_lock(&h->lock);
	while (h->count == JOBS)
		pthread_cond_wait(&h->changed, &h->lock);
	h->q[(h->head + h->count) % JOBS] = (struct hash_job){ gap, data, len, busy };
	h->count++;
	(*busy)++;
	pthread_cond_broadcast(&h->changed);
	pthread_mutex_unlock(&h->lock);
}

void image_hasher_wait(struct image_hasher *h, const unsigned int *busy)
{
	pthread_mutex_lock(&h->lock);
	while (*busy)
		pthread_cond_wait(&h->changed, &h->lock);
	pthread_mutex_unlock(&h->lock);
}

void image_hasher_final(struct image_hasher *h, uint64_t tail,
			char hex[CDP_SHA256_HEX])
{
	pthread_mutex_lock(&h->lock);
	while (h->count || h->running)
		pthread_cond_wait(&h->changed, &h->lock);
	pthread_mutex_unlock(&h->lock);
	/* idle: the hasher thread does not touch sha until the next push */
	cdp_sha256_zeros(h->sha, tail);
	cdp_sha256_final_hex(h->sha, hex);
}

void image_hasher_free(struct image_hasher *h)
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
