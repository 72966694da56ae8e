// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests for lib/retention.c: GFS verdicts on generated catalogs across
 * DST changes, month, year and leap-day boundaries. Snapshots are named
 * s-YYYYmmddTHHMMZ after their UTC time; every case lists the exact set kept.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "catalog.h"
#include "policy.h"
#include "retention.h"

struct fixture {
	char dir[64];
	struct catalog *cat;
	int64_t policy_id;
};

static void set_tz(const char *tz)
{
	setenv("TZ", tz, 1);
	tzset();
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char path[128], err[512];

	/* tmpfs when there is one: catalog creation fsyncs */
	snprintf(f->dir, sizeof(f->dir), "%s/test_retention.XXXXXX",
		 access("/dev/shm", W_OK) ? "/tmp" : "/dev/shm");
	assert_non_null(mkdtemp(f->dir));
	snprintf(path, sizeof(path), "%s/catalog.db", f->dir);
	assert_int_equal(catalog_open(path, &f->cat, err, sizeof(err)), 0);
	assert_int_equal(catalog_exec(f->cat,
		"INSERT INTO volumes (name, rbd_pool, rbd_image, state, created_at) VALUES"
		" ('va', 'rbd', 'a', 'external', 0), ('vb', 'rbd', 'b', 'external', 0)"), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	catalog_close(f->cat);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	set_tz("UTC");
	return 0;
}

/* keep = {last, hourly, daily, weekly, monthly} */
static void add_policy(struct fixture *f, const int keep[5], int nvol)
{
	static const char *const vols[] = { "va", "vb" };
	struct policy_spec s = {
		.name = "p", .volumes = vols, .nvolumes = nvol, .interval_s = 900,
		.keep_last = keep[0], .keep_hourly = keep[1], .keep_daily = keep[2],
		.keep_weekly = keep[3], .keep_monthly = keep[4],
		.archive_after_days = -1,
	};
	struct policy p;
	char err[512];

	assert_int_equal(policy_add(f->cat, &s, err, sizeof(err)), 0);
	assert_int_equal(policy_get(f->cat, "p", &p, err, sizeof(err)), 0);
	f->policy_id = p.id;
	policy_free(&p);
}

/* "2026-10-24 23:00" (UTC) */
static time_t utc(const char *s)
{
	struct tm tm = { 0 };

	assert_non_null(strptime(s, "%Y-%m-%d %H:%M", &tm));
	return timegm(&tm);
}

static void add_snap(struct fixture *f, time_t t, const char *vol)
{
	char name[32], sql[512];
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(name, sizeof(name), "s-%Y%m%dT%H%MZ", &tm);
	snprintf(sql, sizeof(sql),
		 "INSERT INTO snapshots (volume_id, name, created_at, policy_id, protected)"
		 " SELECT id, '%s', %lld, %lld, 1 FROM volumes WHERE name = '%s'",
		 name, (long long)t, (long long)f->policy_id, vol);
	assert_int_equal(catalog_exec(f->cat, sql), 0);
}

/* Snapshots every step seconds from..to inclusive (UTC strings). */
static void add_series(struct fixture *f, const char *from, const char *to,
		       int step, int nvol)
{
	time_t t;

	/* one transaction: a month of rows, not a month of fsyncs */
	assert_int_equal(catalog_begin(f->cat), 0);
	for (t = utc(from); t <= utc(to); t += step) {
		add_snap(f, t, "va");
		if (nvol > 1)
			add_snap(f, t, "vb");
	}
	assert_int_equal(catalog_commit(f->cat), 0);
}

struct collect {
	char kept[4096];
	int nkept, npruned;
	char volume[16];	/* only this volume's rows; "" = all */
};

static int collect_fn(const struct retention_row *r, void *arg)
{
	struct collect *c = arg;

	if (c->volume[0] && strcmp(c->volume, r->volume))
		return 0;
	if (!r->keep) {
		c->npruned++;
		return 0;
	}
	c->nkept++;
	if (c->kept[0])
		strcat(c->kept, " ");
	strcat(c->kept, r->name);
	return 0;
}

static void assert_kept(struct fixture *f, const char *expected, int npruned)
{
	struct collect c = { .volume = "va" };

	assert_int_equal(retention_plan(f->cat, f->policy_id, collect_fn, &c), 0);
	assert_string_equal(c.kept, expected);
	assert_int_equal(c.npruned, npruned);
}

static void test_keep_last(void **state)
{
	static const int keep[5] = { 2, 0, 0, 0, 0 };
	struct fixture *f = *state;

	add_policy(f, keep, 1);
	add_series(f, "2026-11-01 10:00", "2026-11-01 11:00", 900, 1);
	assert_kept(f, "s-20261101T1045Z s-20261101T1100Z", 3);
}

static void test_no_rules_keep_all(void **state)
{
	static const int keep[5] = { 0, 0, 0, 0, 0 };
	struct fixture *f = *state;

	add_policy(f, keep, 1);
	add_series(f, "2026-11-01 10:00", "2026-11-01 10:30", 900, 1);
	assert_kept(f, "s-20261101T1000Z s-20261101T1015Z s-20261101T1030Z", 0);
}

/* Europe/Berlin leaves DST on 2026-10-25 at 01:00Z: local 02:00-02:59 runs
 * twice (CEST, then CET), and each is its own hour. */
static void test_hourly_dst_end(void **state)
{
	static const int keep[5] = { 0, 10, 0, 0, 0 };
	struct fixture *f = *state;

	set_tz("Europe/Berlin");
	add_policy(f, keep, 1);
	add_series(f, "2026-10-24 23:00", "2026-10-25 03:00", 900, 1);
	assert_kept(f, "s-20261024T2345Z s-20261025T0045Z s-20261025T0145Z"
		    " s-20261025T0245Z s-20261025T0300Z", 12);
}

static void test_hourly_dst_end_limited(void **state)
{
	static const int keep[5] = { 0, 3, 0, 0, 0 };
	struct fixture *f = *state;

	set_tz("Europe/Berlin");
	add_policy(f, keep, 1);
	add_series(f, "2026-10-24 23:00", "2026-10-25 03:00", 900, 1);
	assert_kept(f, "s-20261025T0145Z s-20261025T0245Z s-20261025T0300Z", 14);
}

/* Europe/Berlin enters DST on 2026-03-29 at 01:00Z (a 23-hour day). Local
 * days, not UTC days: 23:30Z on the 28th is already the 29th in Berlin. */
static void test_daily_dst_start(void **state)
{
	static const int keep[5] = { 0, 0, 3, 0, 0 };
	struct fixture *f = *state;

	set_tz("Europe/Berlin");
	add_policy(f, keep, 1);
	add_snap(f, utc("2026-03-28 22:30"), "va");	/* 23:30 CET, 28th */
	add_snap(f, utc("2026-03-28 23:30"), "va");	/* 00:30 CET, 29th */
	add_snap(f, utc("2026-03-29 21:30"), "va");	/* 23:30 CEST, 29th */
	add_snap(f, utc("2026-03-29 22:30"), "va");	/* 00:30 CEST, 30th */
	add_snap(f, utc("2026-03-30 10:00"), "va");
	assert_kept(f, "s-20260328T2230Z s-20260329T2130Z s-20260330T1000Z", 2);
}

static void test_daily_dst_start_utc(void **state)
{
	static const int keep[5] = { 0, 0, 3, 0, 0 };
	struct fixture *f = *state;

	/* the same snapshots in UTC: other days, other survivors */
	set_tz("UTC");
	add_policy(f, keep, 1);
	add_snap(f, utc("2026-03-28 22:30"), "va");
	add_snap(f, utc("2026-03-28 23:30"), "va");
	add_snap(f, utc("2026-03-29 21:30"), "va");
	add_snap(f, utc("2026-03-29 22:30"), "va");
	add_snap(f, utc("2026-03-30 10:00"), "va");
	assert_kept(f, "s-20260328T2330Z s-20260329T2230Z s-20260330T1000Z", 2);
}

/* 2028 is a leap year: February ends on Tuesday the 29th. Noon in New York
 * (UTC-5 until 2028-03-12) is 17:00Z. Weeks run Monday to Sunday. */
static void test_leap_day_weekly_monthly(void **state)
{
	static const int keep[5] = { 0, 0, 1, 2, 3 };
	struct fixture *f = *state;

	set_tz("America/New_York");
	add_policy(f, keep, 1);
	add_series(f, "2028-02-20 17:00", "2028-03-05 17:00", 86400, 1);
	/* 02-27 Sun: week Feb 21-27; 02-29: February; 03-05 Sun: week
	 * Feb 28 - Mar 5, March, and the newest day */
	assert_kept(f, "s-20280227T1700Z s-20280229T1700Z s-20280305T1700Z", 12);
}

/* A week across the new year (Mon 2026-12-28 .. Sun 2027-01-03) is one week. */
static void test_weekly_year_boundary(void **state)
{
	static const int keep[5] = { 0, 0, 0, 3, 5 };
	struct fixture *f = *state;

	set_tz("UTC");
	add_policy(f, keep, 1);
	add_series(f, "2026-12-26 12:00", "2027-01-05 12:00", 86400, 1);
	assert_kept(f, "s-20261227T1200Z s-20261231T1200Z s-20270103T1200Z"
		    " s-20270105T1200Z", 7);
}

/* A month of 15-minute snapshots under a typical policy. */
static void test_month_combined(void **state)
{
	static const int keep[5] = { 4, 24, 7, 4, 3 };
	struct fixture *f = *state;
	struct collect c = { .volume = "va" };

	set_tz("Europe/Berlin");
	add_policy(f, keep, 1);
	add_series(f, "2026-10-01 00:00", "2026-10-31 23:45", 900, 1);
	assert_int_equal(retention_plan(f->cat, f->policy_id, collect_fn, &c), 0);
	assert_int_equal(c.nkept + c.npruned, 31 * 96);
	/*
	 * last 4: 23:00-23:45Z on the 31st (= 00:xx CET, November 1st).
	 * hourly 24: the :45Z of each hour back to 00:45Z on the 31st; 23:45Z
	 * is already kept -> +23. daily 7: Nov 1 and Oct 31 are kept already,
	 * Oct 26-30 at 22:45Z (23:45 CET) -> +5. weekly 4 (Mon-Sun): this week
	 * ends Sun Nov 1 (kept), Sun Oct 25 22:45Z (CET), Oct 18 and 11 at
	 * 21:45Z (CEST) -> +3. monthly 3: November and October (31st 22:45Z)
	 * are kept, there is no September -> +0.
	 */
	assert_int_equal(c.nkept, 4 + 23 + 5 + 3);
	assert_non_null(strstr(c.kept, "s-20261030T2245Z"));
	assert_non_null(strstr(c.kept, "s-20261025T2245Z"));	/* Sun 25: CET */
	assert_non_null(strstr(c.kept, "s-20261018T2145Z"));	/* Sun 18: CEST */
	assert_non_null(strstr(c.kept, "s-20261011T2145Z"));
	assert_null(strstr(c.kept, "s-20261004T2145Z"));
}

/* A group snapshot (one row per member, same name) counts once and both
 * rows get the same verdict. */
static void test_group_counts_once(void **state)
{
	static const int keep[5] = { 2, 0, 0, 0, 0 };
	struct fixture *f = *state;
	struct collect a = { .volume = "va" }, b = { .volume = "vb" };

	add_policy(f, keep, 2);
	add_series(f, "2026-11-01 10:00", "2026-11-01 11:00", 900, 2);
	assert_int_equal(retention_plan(f->cat, f->policy_id, collect_fn, &a), 0);
	assert_int_equal(retention_plan(f->cat, f->policy_id, collect_fn, &b), 0);
	assert_string_equal(a.kept, "s-20261101T1045Z s-20261101T1100Z");
	assert_string_equal(b.kept, a.kept);
	assert_int_equal(a.npruned, 3);
	assert_int_equal(b.npruned, 3);
}

static int count_fn(const struct retention_row *r, void *arg)
{
	(*(int *)arg)++;
	return 0;
}

/* Archive: kept snapshots at least archive_after_days old, not yet archived. */
static void test_archive_due(void **state)
{
	static const int keep[5] = { 0, 0, 10, 0, 0 };
	struct fixture *f = *state;
	int n = 0;

	set_tz("UTC");
	add_policy(f, keep, 1);
	assert_int_equal(catalog_exec(f->cat,
		"UPDATE policies SET archive_after_days = 3, archive_drives = 'stdio:/x'"), 0);
	add_series(f, "2026-11-01 12:00", "2026-11-06 12:00", 43200, 1);
	/* now = 11-07 12:00: days 1..4 kept by daily (newest each: 12:00Z
	 * halves are 00:00/12:00 -> the 12:00 one); <= 11-04 12:00 are due */
	assert_int_equal(retention_archive_due(f->cat, f->policy_id,
					       utc("2026-11-07 12:00"), count_fn, &n), 0);
	assert_int_equal(n, 4);
	assert_int_equal(catalog_exec(f->cat,
		"INSERT INTO archives (uuid, snapshot_id, image_size, data_bytes, extent_count,"
		" chunk_size, chunk_count, disc_count, state, created_at)"
		" SELECT 'u1', id, 0, 0, 0, 1, 0, 1, 'complete', 0 FROM snapshots"
		" WHERE name = 's-20261101T1200Z'"), 0);
	n = 0;
	assert_int_equal(retention_archive_due(f->cat, f->policy_id,
					       utc("2026-11-07 12:00"), count_fn, &n), 0);
	assert_int_equal(n, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_keep_last, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_rules_keep_all, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hourly_dst_end, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hourly_dst_end_limited, setup, teardown),
		cmocka_unit_test_setup_teardown(test_daily_dst_start, setup, teardown),
		cmocka_unit_test_setup_teardown(test_daily_dst_start_utc, setup, teardown),
		cmocka_unit_test_setup_teardown(test_leap_day_weekly_monthly, setup, teardown),
		cmocka_unit_test_setup_teardown(test_weekly_year_boundary, setup, teardown),
		cmocka_unit_test_setup_teardown(test_month_combined, setup, teardown),
		cmocka_unit_test_setup_teardown(test_group_counts_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_archive_due, setup, teardown),
	};

	set_tz("UTC");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
