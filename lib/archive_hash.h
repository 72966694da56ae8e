/* SPDX-License-Identifier: GPL-2.0 */
/*
 * archive_hash.h - the whole-image SHA-256 on a thread of its own.
 *
 * While a disc is written, every source byte is hashed twice: for its
 * chunk and for the image (with the holes as zeros). The chunk hash stays
 * in the libisofs thread; the image hash runs here, so the two use both
 * cores instead of queueing behind each other on the write path.
 *
 * The producer pushes (gap, data, len) jobs in image order; data must stay
 * untouched until the job's busy counter drops back to zero.
 */
#ifndef CDP_ARCHIVE_HASH_H
#define CDP_ARCHIVE_HASH_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

struct image_hasher;

int image_hasher_new(struct image_hasher **out);
void image_hasher_free(struct image_hasher *h);

/* Queue "gap zero bytes, then len bytes at data"; ++*busy until hashed. */
void image_hasher_push(struct image_hasher *h, uint64_t gap, const void *data,
		       size_t len, unsigned int *busy);
/* Wait until *busy is zero (the buffer may be reused). */
void image_hasher_wait(struct image_hasher *h, const unsigned int *busy);
/* Wait for all jobs, add tail zero bytes, finish into hex. */
void image_hasher_final(struct image_hasher *h, uint64_t tail,
			char hex[CDP_SHA256_HEX]);

#endif
