// SPDX-License-Identifier: GPL-2.0
/* progress.c - see progress.h */
#include "progress.h"
#include "util.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define BAR_WIDTH	24
#define REDRAW_SECS	0.2	/* a terminal does not need more than 5 Hz */

void progress_start(struct progress *p, const char *label, uint64_t total)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->label, sizeof(p->label), "%s", label);
	p->total = total;
	p->start = cdp_mono();
	p->tty = isatty(STDERR_FILENO);
}

static void fmt_eta(double secs, char *buf, size_t len)
{
	unsigned long s = secs > 0 && secs < 360000 ? (unsigned long)secs : 0;

	if (secs <= 0 || secs >= 360000)
		snprintf(buf, len, "--:--");
	else if (s >= 3600)
		snprintf(buf, len, "%lu:%02lu:%02lu", s / 3600, s / 60 % 60, s % 60);
	else
		snprintf(buf, len, "%02lu:%02lu", s / 60, s % 60);
}

static void draw(struct progress *p, double now)
{
	char done[16], total[16], rate[16], eta[32], bar[BAR_WIDTH + 1];
	double secs = now - p->start;
	double bps = secs > 0 ? p->done / secs : 0;
	unsigned int fill = p->total ? (unsigned int)(BAR_WIDTH * (double)p->done / p->total) : 0;
	unsigned int pct = p->total ? (unsigned int)(100.0 * p->done / p->total) : 0;

	if (fill > BAR_WIDTH)
		fill = BAR_WIDTH;
	memset(bar, '#', fill);
	memset(bar + fill, '.', BAR_WIDTH - fill);
	bar[BAR_WIDTH] = '\0';
	if (p->done >= p->total)
		snprintf(eta, sizeof(eta), "00:00");
	else
		fmt_eta(bps > 0 ? (p->total - p->done) / bps : 0, eta, sizeof(eta));
	fprintf(stderr, "\r%s [%s] %3u%% %s/%s %s/s ETA %s\033[K", p->label, bar,
		pct, cdp_fmt_size(p->done, done, sizeof(done)),
		cdp_fmt_size(p->total, total, sizeof(total)),
		cdp_fmt_size((uint64_t)bps, rate, sizeof(rate)), eta);
	p->last_draw = now;
}

void progress_update(struct progress *p, uint64_t done)
{
	double now;

	p->done = done;
	if (!p->tty)
		return;
	now = cdp_mono();
	if (now - p->last_draw >= REDRAW_SECS)
		draw(p, now);
}

void progress_end(struct progress *p)
{
	if (!p->tty)
		return;
	draw(p, cdp_mono());
	fputc('\n', stderr);
}
