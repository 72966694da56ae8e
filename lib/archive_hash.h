/* SPDX-License-Identifier: GPL-2.0 */
/*
 * archive_hash.h - SHA-256 on a thread of its own.
 *
 * While a disc is written every source byte is hashed twice: for its chunk
 * and for the whole image (holes as zeros). Each of the two runs on its own
 * hasher thread, so the libisofs thread that reads the source only reads
 * and copies: the write path is as long as xorriso's, and the hashing uses
 * whatever CPU is left.
 *
 * Jobs run in the order pushed. A job's data must stay untouched until its
 * busy counter (one per buffer and hasher) is back to zero.
 */
#ifndef CDP_ARCHIVE_HASH_H
#define CDP_ARCHIVE_HASH_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

struct hasher;

int hasher_new(struct hasher **out);
/* Finishes the queued jobs, then stops the thread. */
void hasher_free(struct hasher *h);

/* Queue "gap zero bytes, then len bytes at data"; ++*busy until hashed. */
void hasher_push(struct hasher *h, uint64_t gap, const void *data, size_t len,
		 unsigned int *busy);
/* Queue "gap zero bytes, then finish into hex and start over". hex is
 * written by the hasher thread: read it after hasher_sync(). */
void hasher_finish(struct hasher *h, uint64_t gap, char *hex);
/* Wait until *busy is zero (the buffer may be reused). */
void hasher_wait(struct hasher *h, const unsigned int *busy);
/* Wait until every queued job is done. */
void hasher_sync(struct hasher *h);

#endif
