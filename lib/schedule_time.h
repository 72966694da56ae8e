/* SPDX-License-Identifier: GPL-2.0 */
/*
 * schedule_time.h - the scheduler's clock: parsing --now, the slot grid and
 * the names of scheduled snapshots.
 *
 * A policy with interval I has slots at the unix times k*I (a UTC grid, so
 * 15m slots start at :00 :15 :30 :45 and 1d slots at 00:00 UTC). A policy
 * is due when it has no snapshot taken inside the current slot; after a
 * host outage that is exactly one catch-up snapshot however many slots were
 * missed. The snapshot of a slot is named <policy>-<slot start, UTC>, e.g.
 * "db-20261126T0915Z", so names sort by time and never collide.
 */
#ifndef CDP_SCHEDULE_TIME_H
#define CDP_SCHEDULE_TIME_H

#include <stddef.h>
#include <stdint.h>

/*
 * "1795000000" or "@1795000000" (unix seconds), or ISO-8601
 * "2026-11-26T09:15[:00]" with an optional "Z" or "+01:00"/"-0500" zone
 * ("T" or a space between date and time). No zone = local time ($TZ).
 * Returns 0 or -EINVAL.
 */
int sched_parse_time(const char *s, int64_t *out);

/* Start of the slot holding now. */
int64_t sched_slot_start(int64_t now, int64_t interval_s);

/* "<policy>-YYYYmmddTHHMMZ" of the slot start into buf. */
char *sched_snap_name(const char *policy, int64_t slot, char *buf, size_t len);

#endif
