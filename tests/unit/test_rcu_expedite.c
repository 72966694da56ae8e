// SPDX-License-Identifier: GPL-2.0
/*
 * test_rcu_expedite.c - lib/rcu_expedite.c on a plain file standing in for
 * /sys/kernel/rcu_expedited: turned on only when it was off, put back as
 * it was, idempotent, silent when the knob is missing or read-only.
 * test_freeze.c's rcu_expedited_around_fifreeze checks the real knob in
 * the VM.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rcu_expedite.h"

static char path[64];

static void put(const char *v)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(v, f);
	fclose(f);
}

static char get(void)
{
	char c = 0;
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(read(fd, &c, 1), 1);
	close(fd);
	return c;
}

static int setup(void **state)
{
	int fd;

	snprintf(path, sizeof(path), "/tmp/cdp-rcu-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	return 0;
}

static int teardown(void **state)
{
	unlink(path);
	return 0;
}

static void off_is_turned_on_and_back(void **state)
{
	struct rcu_expedite e;

	put("0\n");
	assert_int_equal(rcu_expedite_begin(&e, path), 1);
	assert_int_equal(get(), '1');
	rcu_expedite_end(&e);
	assert_int_equal(get(), '0');
	rcu_expedite_end(&e);	/* idempotent */
	assert_int_equal(get(), '0');
	assert_int_equal(e.fd, -1);
}

static void already_on_is_left_alone(void **state)
{
	struct rcu_expedite e;

	put("1\n");
	assert_int_equal(rcu_expedite_begin(&e, path), 0);
	rcu_expedite_end(&e);
	assert_int_equal(get(), '1');	/* the admin's setting stays */
}

static void missing_knob_is_not_an_error(void **state)
{
	struct rcu_expedite e;

	assert_int_equal(rcu_expedite_begin(&e, "/nonexistent/rcu_expedited"), 0);
	assert_int_equal(e.fd, -1);
	rcu_expedite_end(&e);
}

/* open(O_RDWR) fails as on a read-only /sys (EISDIR here, EROFS there) */
static void unwritable_knob_is_not_an_error(void **state)
{
	struct rcu_expedite e;

	assert_int_equal(rcu_expedite_begin(&e, "/tmp"), 0);
	assert_int_equal(e.fd, -1);
}

static void empty_knob_is_left_alone(void **state)
{
	struct rcu_expedite e;

	put("");
	assert_int_equal(rcu_expedite_begin(&e, path), 0);
	rcu_expedite_end(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(off_is_turned_on_and_back, setup, teardown),
		cmocka_unit_test_setup_teardown(already_on_is_left_alone, setup, teardown),
		cmocka_unit_test_setup_teardown(missing_knob_is_not_an_error, setup, teardown),
		cmocka_unit_test_setup_teardown(unwritable_knob_is_not_an_error, setup, teardown),
		cmocka_unit_test_setup_teardown(empty_knob_is_left_alone, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
