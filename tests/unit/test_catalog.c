// SPDX-License-Identifier: GPL-2.0
/* Unit tests of lib/catalog.c, lib/archive_catalog.c and
 * lib/volume_catalog.c on real sqlite3 files in a temp dir. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "archive.h"
#include "archive_catalog.h"
#include "catalog.h"
#include "catalog_schema.h"
#include "snap_catalog.h"
#include "volume_catalog.h"

static char dir[64];
static char path[128];

static int setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/cdp-test-catalog.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/sub/dir/catalog.db", dir);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

static int64_t one_int(struct catalog *c, const char *sql)
{
	sqlite3_stmt *st;
	int64_t v = -1;

	assert_int_equal(sqlite3_prepare_v2(catalog_db(c), sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static void test_open_creates_latest_schema(void **state)
{
	struct catalog *c;
	char err[512];

	assert_int_equal(catalog_open(path, &c, err, sizeof(err)), 0);
	assert_int_equal(catalog_schema_version(c), catalog_schema_latest);
	assert_true(one_int(c, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN"
			    " ('volumes','snapshots','policies','archives','discs','burns',"
			    "  'archive_chunks','events','groups')") == 9);
	catalog_close(c);
	/* WAL persists in the file */
	assert_int_equal(catalog_open(path, &c, err, sizeof(err)), 0);
	assert_int_equal(catalog_schema_version(c), catalog_schema_latest);
	assert_int_equal(one_int(c, "SELECT count(*) FROM schema_version"), catalog_schema_latest);
	catalog_close(c);
}

static void test_newer_schema_refused(void **state)
{
	struct catalog *c;
	char err[512], sql[128];

	assert_int_equal(catalog_open(path, &c, err, sizeof(err)), 0);
	snprintf(sql, sizeof(sql), "INSERT INTO schema_version VALUES (%d, 0)",
		 catalog_schema_latest + 1);
	assert_int_equal(catalog_exec(c, sql), 0);
	catalog_close(c);
	assert_int_not_equal(catalog_open(path, &c, err, sizeof(err)), 0);
	assert_null(c);
	assert_non_null(strstr(err, "newer than this cdp supports"));
}

static void test_default_path_from_env(void **state)
{
	char buf[256];

	setenv("CDP_STATE_DIR", "/x/y", 1);
	assert_string_equal(catalog_default_path(buf, sizeof(buf)), "/x/y/catalog.db");
	unsetenv("CDP_STATE_DIR");
	assert_string_equal(catalog_default_path(buf, sizeof(buf)), "/var/lib/cdp/catalog.db");
}

static void test_unwritable_dir_names_fix(void **state)
{
	struct catalog *c;
	char err[512];

	assert_int_not_equal(catalog_open("/proc/nope/catalog.db", &c, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "CDP_STATE_DIR or --catalog"));
}

static void make_plan(struct archive_plan *p)
{
	struct archive_extent ext[] = { { 0, 300000 }, { 1 << 20, 100000 } };
	char err[256];

	memset(p, 0, sizeof(*p));
	snprintf(p->id, sizeof(p->id), "0123456789abcdef0123456789abcdef");
	snprintf(p->pool, sizeof(p->pool), "rbd");
	snprintf(p->image, sizeof(p->image), "vol");
	snprintf(p->snap, sizeof(p->snap), "s1");
	p->image_size = 4 << 20;
	p->chunk_size = 128 << 10;
	p->capacity = 1 << 20;
	assert_int_equal(archive_plan_build(p, ext, 2, err, sizeof(err)), 0);
	for (uint32_t i = 0; i < p->ndiscs; i++)
		snprintf(p->discs[i].label, sizeof(p->discs[i].label), "L-%u", i + 1);
	for (uint32_t i = 0; i < p->nchunks; i++)
		memset(p->chunks[i].sha256, 'a', 64);
}

static void test_archive_record_and_find(void **state)
{
	struct archive_burn_rec b[2] = { 0 };
	struct archive_plan p;
	struct catalog *c;
	char err[512], id[ARCHIVE_ID_LEN + 1];

	assert_int_equal(catalog_open(path, &c, err, sizeof(err)), 0);
	make_plan(&p);
	assert_int_equal(archive_catalog_lookup(c, &p), 0);
	assert_string_equal(p.volume, "rbd/vol");
	assert_int_equal(p.snap_seq, -1);
	for (int i = 0; i < 2; i++) {
		b[i].disc_no = (uint32_t)i + 1;
		snprintf(b[i].drive, sizeof(b[i].drive), "stdio:/x%d", i);
		snprintf(b[i].medium, sizeof(b[i].medium), "stdio");
		b[i].started = 10;
		b[i].ended = 12;
		b[i].bytes = 1000;
		b[i].result = "ok";
	}
	assert_true(p.ndiscs >= 1);
	assert_int_equal(archive_catalog_record(c, &p, "complete", NULL, b,
						p.ndiscs < 2 ? p.ndiscs : 2, err, sizeof(err)), 0);
	assert_int_equal(archive_catalog_find(c, "rbd/vol@s1", id), 0);
	assert_string_equal(id, p.id);
	assert_int_equal(archive_catalog_find(c, "L-1", id), 0);
	assert_int_equal(archive_catalog_find(c, "nope", id), -ENOENT);
	assert_int_equal(one_int(c, "SELECT rate_bps FROM burns LIMIT 1"), 500);
	assert_int_equal(one_int(c, "SELECT count(*) FROM archive_chunks"), p.nchunks);
	assert_int_equal(one_int(c, "SELECT count(*) FROM snapshot_discs"), 1);
	/* labels are unique: the same plan again is refused before writing */
	assert_int_equal(archive_catalog_check_labels(c, &p, err, sizeof(err)), -EEXIST);
	assert_non_null(strstr(err, "L-1 is already in the catalog"));
	/* a failing record leaves nothing behind (one transaction) */
	int64_t n = one_int(c, "SELECT count(*) FROM archives");
	assert_int_not_equal(archive_catalog_record(c, &p, "complete", NULL, b, 1,
						    err, sizeof(err)), 0);
	assert_int_equal(one_int(c, "SELECT count(*) FROM archives"), n);
	archive_plan_free(&p);
	catalog_close(c);
}

static void vol(struct cat_volume *v, const char *name, const char *image)
{
	memset(v, 0, sizeof(*v));
	snprintf(v->name, sizeof(v->name), "%s", name);
	snprintf(v->device, sizeof(v->device), "/dev/vdb");
	snprintf(v->dm_name, sizeof(v->dm_name), "cdp-%s", name);
	snprintf(v->pool, sizeof(v->pool), "rbd");
	snprintf(v->image, sizeof(v->image), "%s", image);
}

/*
 * Re-protecting a name: refused while protected; once unprotected, the old
 * row with snapshots stays under NAME.ID, the policy moves to the new row;
 * without snapshots the old row goes; a failure changes nothing.
 */
static void test_reprotect_keeps_history(void **state)
{
	struct cat_volume a, b, c2, got;
	struct catalog *c;
	char err[512], sql[256], oldname[80];

	assert_int_equal(catalog_open(path, &c, err, sizeof(err)), 0);
	vol(&a, "db", "db1");
	assert_int_equal(volume_catalog_add(c, &a), 0);
	snprintf(sql, sizeof(sql), "INSERT INTO snapshots (volume_id, name, created_at) VALUES (%lld, 's1', 1);"
		 "INSERT INTO policies (name, volume_id, snap_interval_s, created_at) VALUES ('p', %lld, 60, 1);",
		 (long long)a.id, (long long)a.id);
	assert_int_equal(catalog_exec(c, sql), 0);
	vol(&b, "db", "db2");
	assert_int_equal(volume_catalog_add_replacing(c, &b), -EEXIST);
	assert_int_equal(volume_catalog_set_state(c, a.id, "unprotected"), 0);
	assert_int_equal(volume_catalog_add_replacing(c, &b), 0);
	assert_int_equal(volume_catalog_get(c, "db", &got), 0);
	assert_int_equal(got.id, b.id);
	assert_string_equal(got.image, "db2");
	snprintf(oldname, sizeof(oldname), "db.%lld", (long long)a.id);
	assert_int_equal(volume_catalog_get(c, oldname, &got), 0);
	assert_string_equal(got.image, "db1");
	assert_int_equal(one_int(c, "SELECT count(*) FROM snapshots WHERE name = 's1'"), 1);
	snprintf(sql, sizeof(sql), "SELECT volume_id FROM policies WHERE name = 'p'");
	assert_int_equal(one_int(c, sql), b.id);
	/* unprotected again, re-protected onto the same image name (it was
	 * removed): no snapshot refers to the row, so it goes */
	assert_int_equal(volume_catalog_set_state(c, b.id, "unprotected"), 0);
	vol(&c2, "db", "db2");
	assert_int_equal(volume_catalog_add_replacing(c, &c2), 0);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM volumes WHERE id = %lld", (long long)b.id);
	assert_int_equal(one_int(c, sql), 0);
	assert_int_equal(one_int(c, "SELECT count(*) FROM volumes"), 2);
	/* a clash with another volume's image: nothing changes */
	assert_int_equal(volume_catalog_set_state(c, c2.id, "unprotected"), 0);
	vol(&b, "db", "db1");
	assert_int_not_equal(volume_catalog_add_replacing(c, &b), 0);
	assert_int_equal(volume_catalog_get(c, "db", &got), 0);
	assert_int_equal(got.id, c2.id);
	assert_string_equal(got.state, "unprotected");
	catalog_close(c);
}

/* A snapshot name is free again only when deleted and not on discs. */
static void test_snap_name_used(void **state)
{
	struct cat_volume a;
	struct catalog *c;
	char err[512], sql[1024];

	assert_int_equal(catalog_open(path, &c, err, sizeof(err)), 0);
	vol(&a, "db", "db1");
	assert_int_equal(volume_catalog_add(c, &a), 0);
	snprintf(sql, sizeof(sql),
		 "INSERT INTO snapshots (id, volume_id, name, created_at, state) VALUES"
		 " (1, %1$lld, 'live1', 1, 'live'), (2, %1$lld, 'gone', 1, 'deleted'),"
		 " (3, %1$lld, 'ondisc', 1, 'deleted'), (4, %1$lld, 'stub', 1, 'archived');"
		 "INSERT INTO archives (uuid, snapshot_id, image_size, data_bytes, extent_count,"
		 " chunk_size, chunk_count, disc_count, state, created_at)"
		 " VALUES ('u1', 3, 1, 1, 1, 1, 1, 1, 'failed', 1);", (long long)a.id);
	assert_int_equal(catalog_exec(c, sql), 0);
	assert_int_equal(snap_catalog_name_used(c, "db", "live1"), 1);
	assert_int_equal(snap_catalog_name_used(c, "db", "gone"), 0);
	assert_int_equal(snap_catalog_name_used(c, "db", "ondisc"), 1);
	assert_int_equal(snap_catalog_name_used(c, "db", "stub"), 1);
	assert_int_equal(snap_catalog_name_used(c, "db", "new"), 0);
	assert_int_equal(snap_catalog_name_used(c, "other", "live1"), 0);
	catalog_close(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_creates_latest_schema, setup, teardown),
		cmocka_unit_test_setup_teardown(test_newer_schema_refused, setup, teardown),
		cmocka_unit_test(test_default_path_from_env),
		cmocka_unit_test(test_unwritable_dir_names_fix),
		cmocka_unit_test_setup_teardown(test_archive_record_and_find, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reprotect_keeps_history, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snap_name_used, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
