// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests for the scheduler's parsers and clock (lib/policy.c,
 * lib/schedule_time.c): intervals, policy names, --now times in UTC, with
 * offsets and in local time across DST, the slot grid and snapshot names.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "policy.h"
#include "schedule_time.h"

static void set_tz(const char *tz)
{
	setenv("TZ", tz, 1);
	tzset();
}

static void test_duration(void **state)
{
	static const struct {
		const char *in;
		int ret;
		int64_t out;
	} cases[] = {
		{ "15m", 0, 900 }, { "90s", 0, 90 }, { "2h", 0, 7200 }, { "1d", 0, 86400 },
		{ "1w", 0, 604800 }, { "3600", 0, 3600 }, { "0", -EDOM, 0 },
		{ "0m", -EDOM, 0 }, { "", -EINVAL, 0 }, { "m", -EINVAL, 0 },
		{ "15x", -EINVAL, 0 }, { "15mm", -EINVAL, 0 }, { "-5m", -EINVAL, 0 },
		{ "99999999999999999999", -ERANGE, 0 }, { "9999999999999999w", -ERANGE, 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t v = 0;

		assert_int_equal(policy_parse_duration(cases[i].in, &v), cases[i].ret);
		if (!cases[i].ret)
			assert_int_equal(v, cases[i].out);
	}
}

static void test_fmt_duration(void **state)
{
	char buf[32];

	assert_string_equal(policy_fmt_duration(900, buf, sizeof(buf)), "15m");
	assert_string_equal(policy_fmt_duration(7200, buf, sizeof(buf)), "2h");
	assert_string_equal(policy_fmt_duration(1209600, buf, sizeof(buf)), "2w");
	assert_string_equal(policy_fmt_duration(5400, buf, sizeof(buf)), "90m");
	assert_string_equal(policy_fmt_duration(61, buf, sizeof(buf)), "61s");
}

static void test_name(void **state)
{
	assert_true(policy_name_ok("db-hourly_1.x:y"));
	assert_false(policy_name_ok(""));
	assert_false(policy_name_ok("a b"));
	assert_false(policy_name_ok("a/b"));
	assert_false(policy_name_ok("a@b"));
	assert_true(policy_name_ok("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
	assert_false(policy_name_ok("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
}

static void test_parse_time(void **state)
{
	int64_t t;

	set_tz("Europe/Berlin");
	assert_int_equal(sched_parse_time("1796086800", &t), 0);
	assert_int_equal(t, 1796086800);
	assert_int_equal(sched_parse_time("@1796086800", &t), 0);
	assert_int_equal(t, 1796086800);
	assert_int_equal(sched_parse_time("2026-12-01T01:00:00Z", &t), 0);
	assert_int_equal(t, 1796086800);
	assert_int_equal(sched_parse_time("2026-12-01T01:00Z", &t), 0);
	assert_int_equal(t, 1796086800);
	assert_int_equal(sched_parse_time("2026-12-01 02:30+01:30", &t), 0);
	assert_int_equal(t, 1796086800);
	assert_int_equal(sched_parse_time("2026-11-30T20:00:00-0500", &t), 0);
	assert_int_equal(t, 1796086800);
	/* local: CET in December, CEST in July */
	assert_int_equal(sched_parse_time("2026-12-01T02:00", &t), 0);
	assert_int_equal(t, 1796086800);
	assert_int_equal(sched_parse_time("2026-07-01T02:00", &t), 0);
	assert_int_equal(t, 1782864000);	/* 2026-07-01T00:00Z */
	/* the day after DST ended: 2026-10-26 00:00 CET = 10-25 23:00Z */
	assert_int_equal(sched_parse_time("2026-10-26T00:00", &t), 0);
	assert_int_equal(t, 1792969200);

	assert_int_equal(sched_parse_time("yesterday", &t), -EINVAL);
	assert_int_equal(sched_parse_time("2026-12-01", &t), -EINVAL);
	assert_int_equal(sched_parse_time("2026-12-01T01:00+25:00", &t), -EINVAL);
	assert_int_equal(sched_parse_time("2026-12-01T01:00Zjunk", &t), -EINVAL);
	assert_int_equal(sched_parse_time("12ab", &t), -EINVAL);
	set_tz("UTC");
}

static void test_slot_and_name(void **state)
{
	char buf[96];

	assert_int_equal(sched_slot_start(1796086800, 900), 1796086800);
	assert_int_equal(sched_slot_start(1796086800 + 899, 900), 1796086800);
	assert_int_equal(sched_slot_start(1796086800 + 900, 900), 1796086800 + 900);
	/* 1d slots start at 00:00 UTC whatever $TZ says */
	set_tz("Europe/Berlin");
	assert_int_equal(sched_slot_start(1796086800, 86400), 1796083200);
	assert_string_equal(sched_snap_name("db", 1796083200, buf, sizeof(buf)),
			    "db-20261201T0000Z");
	set_tz("UTC");
	assert_int_equal(sched_slot_start(-1, 60), -60);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_fmt_duration),
		cmocka_unit_test(test_name),
		cmocka_unit_test(test_parse_time),
		cmocka_unit_test(test_slot_and_name),
	};

	set_tz("UTC");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
