// SPDX-License-Identifier: GPL-2.0
/* schedule_time.c - see schedule_time.h. */
#include "schedule_time.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* "Z", "+01:00", "+0100", "-05" -> seconds east of UTC. */
static int parse_zone(const char *z, long *east)
{
	int hh, mm = 0, n = 0;

	if (!strcmp(z, "Z")) {
		*east = 0;
		return 0;
	}
	if ((*z != '+' && *z != '-') || !isdigit((unsigned char)z[1]))
		return -EINVAL;
	if (sscanf(z + 1, "%2d:%2d%n", &hh, &mm, &n) == 2 && !z[1 + n])
		goto ok;
	mm = 0;
	if (sscanf(z + 1, "%2d%2d%n", &hh, &mm, &n) >= 1 && !z[1 + n])
		goto ok;
	return -EINVAL;
ok:
	if (hh > 23 || mm > 59)
		return -EINVAL;
	*east = (*z == '-' ? -1 : 1) * (hh * 3600L + mm * 60L);
	return 0;
}

int sched_parse_time(const char *s, int64_t *out)
{
	static const char *const fmts[] = {
		"%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S",
		"%Y-%m-%d %H:%M",
	};
	struct tm tm;
	const char *p = s;
	char *end;
	size_t i;
	long east;

	if (*p == '@')
		p++;
	if (isdigit((unsigned char)*p) && strspn(p, "0123456789") == strlen(p)) {
		errno = 0;
		*out = strtoll(p, &end, 10);
		return errno ? -EINVAL : 0;
	}
	for (i = 0; i < ARRAY_SIZE(fmts); i++) {
		memset(&tm, 0, sizeof(tm));
		end = strptime(s, fmts[i], &tm);
		if (!end)
			continue;
		if (!*end) {
			time_t t;

			tm.tm_isdst = -1;	/* local time: let mktime find DST */
			t = mktime(&tm);
			if (t == (time_t)-1)
				return -EINVAL;
			*out = t;
			return 0;
		}
		if (parse_zone(end, &east) == 0) {
			*out = (int64_t)timegm(&tm) - east;
			return 0;
		}
	}
	return -EINVAL;
}

int64_t sched_slot_start(int64_t now, int64_t interval_s)
{
	int64_t r = now % interval_s;

	return now - (r < 0 ? r + interval_s : r);
}

char *sched_snap_name(const char *policy, int64_t slot, char *buf, size_t len)
{
	time_t t = (time_t)slot;
	char stamp[32];
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%MZ", &tm);
	snprintf(buf, len, "%s-%s", policy, stamp);
	return buf;
}
