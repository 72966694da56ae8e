/* SPDX-License-Identifier: GPL-2.0 */
/*
 * policy.h - snapshot policies in the catalog: "snapshot these volumes every
 * N, keep so many of them, archive those older than D days".
 *
 * A policy covers one volume (policies.volume_id) or several: several
 * volumes are snapshotted together as a consistency group, so the policy
 * owns a group named "policy:<NAME>" (policies.group_id) created and removed
 * with it. Snapshots the scheduler takes carry snapshots.policy_id; removing
 * a policy leaves its snapshots in place, no longer managed, until a policy
 * of the same name is added again and adopts them.
 *
 * Every function returns 0 or a negative errno and then writes a sentence
 * for the user into err (what is wrong and how to fix it).
 */
#ifndef CDP_POLICY_H
#define CDP_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "catalog.h"

#define POLICY_NAME_MAX		64
#define POLICY_GROUP_PREFIX	"policy:"

/* What `policy add` asks for; strings may be NULL (not given). */
struct policy_spec {
	const char *name;
	const char *const *volumes;	/* volume names */
	size_t nvolumes;
	int64_t interval_s;		/* > 0 */
	int keep_last, keep_hourly, keep_daily, keep_weekly, keep_monthly;
	int archive_after_days;		/* < 0: never archive */
	const char *archive_drives;	/* space separated; needed with archive */
	uint64_t archive_capacity;	/* 0: the drive's medium */
	const char *freeze_mnt, *pre_cmd, *post_cmd;
};

/* A policy as stored, plus what the scheduler and `status` need. */
struct policy {
	int64_t id;
	char *name;
	int64_t volume_id, group_id;	/* one of them is 0 */
	char *volumes;			/* member volume names, space separated */
	int external;			/* its volumes are 'external' (no cdpd) */
	int64_t interval_s;
	int keep_last, keep_hourly, keep_daily, keep_weekly, keep_monthly;
	int archive_after_days;		/* < 0: never */
	char *archive_drives;
	uint64_t archive_capacity;
	char *freeze_mnt, *pre_cmd, *post_cmd;
	int paused;
	int64_t created_at;
	int64_t last_run_at;		/* 0: never ran */
	char *last_result;		/* NULL, "ok", "partial", "failed" */
	char *last_message;
	int64_t last_snap_at;		/* newest snapshot of the policy, 0: none */
	int64_t live_snaps;		/* its snapshots that exist in Ceph */
};

/* "90s", "15m", "2h", "1d", "1w", or plain seconds; must be > 0. */
int policy_parse_duration(const char *s, int64_t *out);
/* "15m" style back (largest exact unit), into buf. */
char *policy_fmt_duration(int64_t s, char *buf, size_t len);
/* [A-Za-z0-9._:-]{1,64}: policy names become part of snapshot names. */
int policy_name_ok(const char *name);

/*
 * Check a spec against itself and the catalog (volumes exist and can be
 * snapshotted, options agree) and insert it. -EEXIST: the name is taken;
 * -ENOENT: a volume is unknown; -EINVAL: a bad or conflicting option.
 */
int policy_add(struct catalog *c, const struct policy_spec *s, char *err,
	       size_t errlen);
int policy_remove(struct catalog *c, const char *name, char *err, size_t errlen);
int policy_set_paused(struct catalog *c, const char *name, int paused,
		      char *err, size_t errlen);

/* One policy by name; -ENOENT with err naming `policy list`. */
int policy_get(struct catalog *c, const char *name, struct policy *p,
	       char *err, size_t errlen);
/*
 * Call fn for every policy in name order (fn's p is freed after it
 * returns). A non-zero return of fn stops the walk and is returned.
 */
int policy_foreach(struct catalog *c, int (*fn)(const struct policy *p, void *arg),
		   void *arg, char *err, size_t errlen);
void policy_free(struct policy *p);
/* Every policy into a new array (free with policy_list_free). */
int policy_list(struct catalog *c, struct policy **out, size_t *n, char *err,
		size_t errlen);
void policy_list_free(struct policy *v, size_t n);

/*
 * Append an event row tied to a policy (policy_id 0 = none) and, when
 * volume_id > 0, a volume; level is "info", "warn" or "error".
 */
int policy_event(struct catalog *c, int64_t policy_id, int64_t volume_id,
		 const char *level, const char *kind, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

/*
 * Remember the outcome of a scheduler run of this policy; result NULL (a
 * run with nothing to do) only moves last_run_at, so the last result stays
 * that of the last run that acted.
 */
int policy_set_result(struct catalog *c, int64_t id, int64_t run_at,
		      const char *result, const char *message);

#endif
