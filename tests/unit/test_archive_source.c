// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of lib/archive_source.c at the librados/librbd boundary
 * (mocked): the extents of rbd_diff_iterate2 are merged and holes dropped,
 * and a missing snapshot is reported with the fix. The real thing runs in
 * tests/archive against a Ceph sandbox.
 */
// wrap: rados_create rados_conf_read_file rados_conf_parse_env rados_conf_set rados_connect rados_ioctx_create rados_ioctx_destroy rados_shutdown rbd_open_read_only rbd_get_size rbd_snap_get_id rbd_snap_get_timestamp rbd_diff_iterate2 rbd_close
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>
#include <rados/librados.h>
#include <rbd/librbd.h>

#include "archive_source.h"

int __wrap_rados_create(rados_t *c, const char *id) { *c = (rados_t)1; return 0; }
int __wrap_rados_conf_read_file(rados_t c, const char *p) { return 0; }
int __wrap_rados_conf_parse_env(rados_t c, const char *v) { return 0; }
int __wrap_rados_conf_set(rados_t c, const char *k, const char *v) { return 0; }
int __wrap_rados_connect(rados_t c) { return 0; }
void __wrap_rados_shutdown(rados_t c) { }
void __wrap_rados_ioctx_destroy(rados_ioctx_t io) { }
int __wrap_rbd_close(rbd_image_t im) { return 0; }

int __wrap_rados_ioctx_create(rados_t c, const char *pool, rados_ioctx_t *io)
{
	check_expected(pool);
	*io = (rados_ioctx_t)2;
	return 0;
}

int __wrap_rbd_open_read_only(rados_ioctx_t io, const char *name, rbd_image_t *im,
			      const char *snap)
{
	check_expected(name);
	check_expected(snap);
	*im = (rbd_image_t)3;
	return mock_type(int);
}

int __wrap_rbd_get_size(rbd_image_t im, uint64_t *size)
{
	*size = 64 << 20;
	return 0;
}

int __wrap_rbd_snap_get_id(rbd_image_t im, const char *snap, uint64_t *id)
{
	*id = 7;
	return 0;
}

int __wrap_rbd_snap_get_timestamp(rbd_image_t im, uint64_t id, struct timespec *ts)
{
	ts->tv_sec = 1700000000;
	ts->tv_nsec = 0;
	return 0;
}

/* What librbd reports: touching data extents, a hole (exists 0), data. */
int __wrap_rbd_diff_iterate2(rbd_image_t im, const char *from, uint64_t ofs,
			     uint64_t len, uint8_t parent, uint8_t whole,
			     int (*cb)(uint64_t, size_t, int, void *), void *arg)
{
	assert_null(from);		/* everything allocated, not a delta */
	assert_int_equal(parent, 1);	/* a clone's data is in its parent */
	assert_int_equal(whole, 0);	/* exact extents, not whole objects */
	cb(0, 4096, 1, arg);
	cb(4096, 8192, 1, arg);
	cb(1 << 20, 4096, 0, arg);
	cb(4 << 20, 65536, 1, arg);
	return 0;
}

static void test_rbd_extents_merged_holes_dropped(void **state)
{
	struct archive_source *s;
	struct archive_extent *ext;
	size_t n;
	char err[512];

	expect_string(__wrap_rados_ioctx_create, pool, "rbd");
	expect_string(__wrap_rbd_open_read_only, name, "vol1");
	expect_string(__wrap_rbd_open_read_only, snap, "s1");
	will_return(__wrap_rbd_open_read_only, 0);
	assert_int_equal(archive_source_open("rbd/vol1@s1", &s, err, sizeof(err)), 0);
	assert_int_equal(archive_source_info(s)->size, 64 << 20);
	assert_int_equal(archive_source_info(s)->snap_time, 1700000000);
	assert_int_equal(archive_source_extents(s, &ext, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 2);
	assert_int_equal(ext[0].off, 0);
	assert_int_equal(ext[0].len, 12288);
	assert_int_equal(ext[1].off, 4 << 20);
	assert_int_equal(ext[1].len, 65536);
	free(ext);
	archive_source_close(s);
}

static void test_missing_snapshot_named_with_fix(void **state)
{
	struct archive_source *s;
	char err[512];

	expect_string(__wrap_rados_ioctx_create, pool, "rbd");
	expect_string(__wrap_rbd_open_read_only, name, "vol1");
	expect_string(__wrap_rbd_open_read_only, snap, "nope");
	will_return(__wrap_rbd_open_read_only, -ENOENT);
	assert_int_equal(archive_source_open("rbd/vol1@nope", &s, err, sizeof(err)), -ENOENT);
	assert_null(s);
	assert_non_null(strstr(err, "rbd/vol1@nope"));
	assert_non_null(strstr(err, "rbd snap ls"));
}

static void test_live_image_refused(void **state)
{
	struct archive_source *s;
	char err[512];

	/* no snapshot: refused before any Ceph call (no mock is primed) */
	assert_int_equal(archive_source_open("rbd/vol1", &s, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "never a live image"));
	assert_int_equal(archive_source_open("vol1@s", &s, err, sizeof(err)), -EINVAL);
	assert_int_equal(archive_source_open("a/b/c@s", &s, err, sizeof(err)), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rbd_extents_merged_holes_dropped),
		cmocka_unit_test(test_missing_snapshot_named_with_fix),
		cmocka_unit_test(test_live_image_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
