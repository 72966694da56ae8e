// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests for lib/cdpd_client.c: the line framing of cdpd's control
 * socket, and STATUS against a forked stand-in for cdpd.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
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

/*
 * A stand-in cdpd on a fresh socket (CDP_CONTROL_SOCKET): it answers one
 * STATUS with @answer, then, when @dribble, one more VOL line every 100 ms
 * and never END. Returns its pid.
 */
static pid_t fake_cdpd(char *path, size_t len, const char *answer, int dribble)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int ls, fd;
	pid_t pid;

	snprintf(path, len, "/tmp/cdp-test-ctl.%d", (int)getpid());
	unlink(path);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	ls = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(ls >= 0);
	assert_int_equal(bind(ls, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(ls, 1), 0);
	setenv("CDP_CONTROL_SOCKET", path, 1);
	pid = fork();
	assert_true(pid >= 0);
	if (pid)
		return close(ls), pid;
	fd = accept(ls, NULL, NULL);
	if (fd < 0 || write(fd, answer, strlen(answer)) < 0)
		_exit(1);
	while (dribble) {
		static const char more[] = "VOL v2 state=attached applied=1\n";

		usleep(100 * 1000);
		if (write(fd, more, sizeof(more) - 1) < 0)
			_exit(0);
	}
	_exit(0);
}

static void reap(pid_t pid, const char *path)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	unlink(path);
	unsetenv("CDP_CONTROL_SOCKET");
}

static void test_status_parsed(void **state)
{
	struct cdp_config cfg = { 0 };
	struct cdpd_volstat st[2];
	char path[64], err[256];
	pid_t pid;

	pid = fake_cdpd(path, sizeof(path),
			"VOL v1 state=attached applied=5 acked=4 last=9 lag_bytes=8192 "
			"lag_s=1.5 consistent=1 error=Ceph is slow today\nEND\n", 0);
	assert_int_equal(cdpd_status(&cfg, st, 2, 5000, err, sizeof(err)), 1);
	assert_string_equal(st[0].name, "v1");
	assert_string_equal(st[0].state, "attached");
	assert_int_equal(st[0].applied, 5);
	assert_int_equal(st[0].acked, 4);
	assert_int_equal(st[0].last, 9);
	assert_int_equal(st[0].lag_bytes, 8192);
	assert_true(st[0].lag_s > 1.49 && st[0].lag_s < 1.51);
	assert_int_equal(st[0].consistent, 1);
	assert_string_equal(st[0].error, "Ceph is slow today");
	reap(pid, path);
}

/* A line every 100 ms but no END: the whole answer has one deadline. */
static void test_status_deadline(void **state)
{
	struct cdp_config cfg = { 0 };
	struct cdpd_volstat st[4];
	struct timespec t0, t1;
	char path[64], err[256];
	long ms;
	pid_t pid;

	pid = fake_cdpd(path, sizeof(path), "VOL v1 state=attached\n", 1);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(cdpd_status(&cfg, st, 4, 600, err, sizeof(err)), -ETIMEDOUT);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	/* not one 600 ms per line: ~6 lines came in that time */
	assert_true(ms < 3000);
	assert_non_null(strstr(err, "did not answer STATUS in time"));
	reap(pid, path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_two_lines_in_one_write, setup, teardown),
		cmocka_unit_test_setup_teardown(test_line_in_pieces, setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_long_and_closed, setup, teardown),
		cmocka_unit_test(test_status_parsed),
		cmocka_unit_test(test_status_deadline),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
