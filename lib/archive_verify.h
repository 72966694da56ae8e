/* SPDX-License-Identifier: GPL-2.0 */
/*
 * archive_verify.h - read a disc back and check every chunk: its size and
 * SHA-256 against the disc's manifest and, when the caller has the plan it
 * just wrote, against the hashes computed while writing.
 */
#ifndef CDP_ARCHIVE_VERIFY_H
#define CDP_ARCHIVE_VERIFY_H

#include "archive.h"

/* Called once per problem with a sentence naming disc and chunk. */
typedef void (*archive_report_fn)(void *arg, const char *msg);

struct archive_verify_result {
	char id[ARCHIVE_ID_LEN + 1];
	uint32_t no, of;
	char label[64];
	uint32_t chunks_ok, chunks_bad;
	uint64_t bytes;			/* chunk bytes read */
};

/*
 * 0: every chunk good. -EBADMSG: some chunks bad (each reported).
 * Other -errno: the disc could not be read or is not the expected one
 * (reported too). expect may be NULL.
 */
int archive_verify_disc(const char *addr, const struct archive_plan *expect,
			uint32_t expect_no, struct archive_verify_result *res,
			archive_report_fn report, void *arg);

#endif
