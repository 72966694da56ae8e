/* SPDX-License-Identifier: GPL-2.0 */
/*
 * progress.h - a one-line progress bar (bytes, rate, ETA) on stderr.
 *
 * Drawn only when stderr is a terminal; otherwise every call is a no-op and
 * the caller reports milestones as plain event lines instead, so logs and
 * pipes never fill with carriage returns.
 */
#ifndef CDP_PROGRESS_H
#define CDP_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

struct progress {
	char label[48];
	uint64_t total;
	uint64_t done;
	double start;		/* monotonic seconds */
	double last_draw;
	bool tty;
};

void progress_start(struct progress *p, const char *label, uint64_t total);
void progress_update(struct progress *p, uint64_t done);
/* Final redraw and newline (tty only). */
void progress_end(struct progress *p);

#endif
