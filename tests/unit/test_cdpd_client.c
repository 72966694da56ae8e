// SPDX-License-Identifier: GPL-2.0
/* Unit tests for lib/cdpd_client.c: the line framing of cdpd's control socket. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "cdpd_client.h"

static int sp[2];

static int setup(void **state)
{
	return socketpair(AF_UNIX, SOCK_STREAM, 0, sp);
}

static int teardown(void **state)
{
	close(sp[0]);
	close(sp[1]);
	return 0;
}

static void put(const char *s)
{
	assert_int_equal(write(sp[1], s, strlen(s)), (ssize_t)strlen(s));
}

static void test_two_lines_in_one_write(void **state)
{
	char line[64];

	put("OK snap1 seq=12\nERR 22 stale\n");
	assert_int_equal(cdpd_recv(sp[0], line, sizeof(line), 1000), 0);
	assert_string_equal(line, "OK snap1 seq=12");
	assert_int_equal(cdpd_recv(sp[0], line, sizeof(line), 1000), 0);
	assert_string_equal(line, "ERR 22 stale");
}

static void test_line_in_pieces(void **state)
{
	char line[64];

	put("MARK");
	put("ED v=1");
	put("\nrest");
	assert_int_equal(cdpd_recv(sp[0], line, sizeof(line), 1000), 0);
	assert_string_equal(line, "MARKED v=1");
	assert_int_equal(cdpd_recv(sp[0], line, sizeof(line), 50), -ETIMEDOUT);
}

static void test_too_long_and_closed(void **state)
{
	char line[8];

	put("0123456789\n");
	assert_int_equal(cdpd_recv(sp[0], line, sizeof(line), 1000), -EMSGSIZE);
	put("ok\nhalf");
	close(sp[1]);
	sp[1] = -1;
	assert_int_equal(cdpd_recv(sp[0], line, sizeof(line), 1000), 0);	/* "789" */
	assert_int_equal(cdpd_recv(sp[0], line, sizeof(line), 1000), 0);
	assert_string_equal(line, "ok");
	assert_int_equal(cdpd_recv(sp[0], line, sizeof(line), 1000), -EPIPE);	/* "half" */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_two_lines_in_one_write, setup, teardown),
		cmocka_unit_test_setup_teardown(test_line_in_pieces, setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_long_and_closed, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
