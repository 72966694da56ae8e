// SPDX-License-Identifier: GPL-2.0
/*
 * test_config.c - lib/config.c: defaults, accepted spellings of every key
 * type, and a sentence for each kind of bad value (tests/unit/
 * test_cli_input.sh checks the same messages through cdpd and cdpctl).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "config.h"

static char err[1024];

static void defaults(void **state)
{
	struct cdp_config c;

	cdp_config_defaults(&c);
	assert_string_equal(c.pool, "rbd");
	assert_int_equal(c.max_inflight, 32);
	assert_int_equal(c.freeze_expedite_rcu, 1);
	assert_int_equal(c.worker_nice, 0);
}

static void bool_spellings(void **state)
{
	static const char *const on[] = { "1", "yes", "YES", "true", "on" };
	static const char *const off[] = { "0", "no", "False", "off" };
	struct cdp_config c;
	size_t i;

	cdp_config_defaults(&c);
	for (i = 0; i < sizeof(off) / sizeof(off[0]); i++) {
		c.freeze_expedite_rcu = 1;
		assert_int_equal(cdp_config_set(&c, "freeze_expedite_rcu", off[i], err, sizeof(err)), 0);
		assert_int_equal(c.freeze_expedite_rcu, 0);
	}
	for (i = 0; i < sizeof(on) / sizeof(on[0]); i++) {
		c.freeze_expedite_rcu = 0;
		assert_int_equal(cdp_config_set(&c, "freeze_expedite_rcu", on[i], err, sizeof(err)), 0);
		assert_int_equal(c.freeze_expedite_rcu, 1);
	}
}

static void bad_values(void **state)
{
	struct cdp_config c;

	cdp_config_defaults(&c);
	assert_int_equal(cdp_config_set(&c, "freeze_expedite_rcu", "2", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "is not yes or no"));
	assert_int_equal(c.freeze_expedite_rcu, 1);	/* unchanged */
	assert_int_equal(cdp_config_set(&c, "max_inflight", "0", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "between 1 and 1024"));
	assert_int_equal(cdp_config_set(&c, "region_kb", "48", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "power of two"));
	assert_int_equal(cdp_config_set(&c, "worker_nice", "20", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "between 0 and 19"));
	assert_int_equal(cdp_config_set(&c, "nosuchkey", "1", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "freeze_expedite_rcu"));	/* the list of known keys */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(defaults),
		cmocka_unit_test(bool_spellings),
		cmocka_unit_test(bad_values),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
