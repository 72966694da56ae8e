// SPDX-License-Identifier: GPL-2.0
/*
 * test_restore_krbd.c - the line restore writes to the kernel rbd driver
 * (lib/restore_krbd.c), built from a real librados handle's config (not
 * connected: rados_create + rados_conf_set, no cluster needed), and the
 * iSCSI target names of restore_iscsi.c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "restore.h"

static rados_t handle(const char *mon_host, const char *key, const char *keyring)
{
	rados_t cl;

	assert_int_equal(rados_create(&cl, "admin"), 0);
	assert_int_equal(rados_conf_set(cl, "mon_host", mon_host), 0);
	if (key)
		assert_int_equal(rados_conf_set(cl, "key", key), 0);
	if (keyring)
		assert_int_equal(rados_conf_set(cl, "keyring", keyring), 0);
	return cl;
}

static void msgr2_addrvec(void **state)
{
	rados_t cl = handle("[v2:10.1.2.3:3300/0,v1:10.1.2.3:6789/0] [v2:10.1.2.4:3301/0,v1:10.1.2.4:6790/0]",
			    "AQBkey==", NULL);
	struct restore_krbd k;

	(void)state;
	assert_int_equal(restore_krbd_spec(cl, &k), 0);
	assert_true(k.ok);
	assert_string_equal(k.mons, "10.1.2.3:3300,10.1.2.4:3301");
	assert_string_equal(k.opts, "name=admin,secret=AQBkey==,ms_mode=prefer-crc");
	rados_shutdown(cl);
}

static void legacy_plain_list(void **state)
{
	rados_t cl = handle("127.0.0.1, 127.0.0.2:6790", "AQBkey==", NULL);
	struct restore_krbd k;

	(void)state;
	assert_int_equal(restore_krbd_spec(cl, &k), 0);
	assert_string_equal(k.mons, "127.0.0.1:6789,127.0.0.2:6790");
	assert_string_equal(k.opts, "name=admin,secret=AQBkey==");
	rados_shutdown(cl);
}

static void key_from_keyring(void **state)
{
	char path[] = "/tmp/cdp-krbd-XXXXXX";
	int fd = mkstemp(path);
	const char *text = "[client.other]\n\tkey = AQBwrong==\n[client.admin]\n\tkey = AQBright==\n\tcaps mon = \"allow *\"\n";
	struct restore_krbd k;
	rados_t cl;

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (int)strlen(text));
	close(fd);
	cl = handle("v2:127.0.0.1:3300", NULL, path);
	assert_int_equal(restore_krbd_spec(cl, &k), 0);
	assert_string_equal(k.opts, "name=admin,secret=AQBright==,ms_mode=prefer-crc");
	rados_shutdown(cl);
	unlink(path);
}

/* CEPH_ARGS names the user the way the ceph tools take it */
static void user_from_ceph_args(void **state)
{
	struct restore_krbd k;
	rados_t cl = handle("127.0.0.1", "AQBkey==", NULL);

	(void)state;
	setenv("CEPH_ARGS", "--keyring /x --id backup", 1);
	assert_int_equal(restore_krbd_spec(cl, &k), 0);
	assert_string_equal(k.opts, "name=backup,secret=AQBkey==");
	setenv("CEPH_ARGS", "-n client.cdp --conf /y", 1);
	assert_int_equal(restore_krbd_spec(cl, &k), 0);
	assert_string_equal(k.opts, "name=cdp,secret=AQBkey==");
	setenv("CEPH_ARGS", "--name osd.0", 1);
	assert_int_equal(restore_krbd_spec(cl, &k), -EAGAIN);
	unsetenv("CEPH_ARGS");
	rados_shutdown(cl);
}

/* What the kernel cannot take from us goes to the rbd tool: -EAGAIN. */
static void unhandled_goes_to_tool(void **state)
{
	struct restore_krbd k;
	rados_t cl;

	(void)state;
	cl = handle("[v2:[::1]:3300/0]", "AQBkey==", NULL);
	assert_int_equal(restore_krbd_spec(cl, &k), -EAGAIN);
	assert_false(k.ok);
	rados_shutdown(cl);
	cl = handle("127.0.0.1:99999", "AQBkey==", NULL);
	assert_int_equal(restore_krbd_spec(cl, &k), -EAGAIN);
	rados_shutdown(cl);
	/* cephx without any key to be found */
	cl = handle("127.0.0.1", NULL, "/nonexistent/keyring");
	assert_int_equal(restore_krbd_spec(cl, &k), -EAGAIN);
	rados_shutdown(cl);
	/* not mapped: map refuses to try */
	assert_int_equal(restore_krbd_map(&k, "rbd", "x", 5, (char[64]){ 0 }, 64, (char[64]){ 0 }, 64),
			 -EAGAIN);
}

/* One iSCSI target name per image, also for names an IQN cannot hold. */
static void iqn_per_image(void **state)
{
	char a[224], b[224], c[224], d[224], e[224];

	(void)state;
	restore_iscsi_iqn("rbd", "db-1", a, sizeof(a));
	assert_string_equal(a, "iqn.2026-11.org.cdp:rbd.db-1");
	restore_iscsi_iqn("rbd", "db_1", b, sizeof(b));
	restore_iscsi_iqn("rbd", "DB-1", c, sizeof(c));
	assert_string_not_equal(a, b);
	assert_string_not_equal(a, c);
	assert_string_not_equal(b, c);
	assert_non_null(strstr(b, "iqn.2026-11.org.cdp:rbd.db-1-"));
	restore_iscsi_iqn("rbd", "x.y", d, sizeof(d));
	restore_iscsi_iqn("rbd.x", "y", e, sizeof(e));
	assert_string_not_equal(d, e);
	restore_iscsi_iqn("rbd", "db_1", e, sizeof(e));
	assert_string_equal(b, e);	/* the same every time: --unexport finds it */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(msgr2_addrvec),
		cmocka_unit_test(iqn_per_image),
		cmocka_unit_test(legacy_plain_list),
		cmocka_unit_test(key_from_keyring),
		cmocka_unit_test(user_from_ceph_args),
		cmocka_unit_test(unhandled_goes_to_tool),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
