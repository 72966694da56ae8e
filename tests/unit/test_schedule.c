// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests for lib/schedule.c with the Ceph side mocked (--wrap): which
 * snapshot a run takes (slot names, idempotence, one catch-up after an
 * outage), that a failing policy does not stop the next, what pruning asks
 * of RBD and records (clones keep a snapshot), the archive hand-off.
 */
// wrap: sched_snap_take sched_rbd_snap_prune sched_archive_start ceph_catalog_del_snap
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

#include "catalog.h"
#include "ceph_catalog.h"
#include "policy.h"
#include "schedule.h"
#include "schedule_int.h"

#define T0	1796086800	/* 2026-12-01T01:00:00Z */

struct fixture {
	char dir[64];
	struct catalog *cat;
	char log[8192];		/* "action snapshot;" per report */
};

/*---- mocks ---------------------------------------------------------------*/

int __wrap_sched_snap_take(struct sched_ctx *x, const struct policy *p,
			   const char *name, char *err, size_t errlen)
{
	char sql[512];
	int ret;

	check_expected(name);
	ret = mock_type(int);
	if (ret) {
		snprintf(err, errlen, "mocked failure");
		return ret;
	}
	/* what direct mode records */
	snprintf(sql, sizeof(sql),
		 "INSERT INTO snapshots (volume_id, name, created_at, policy_id, protected)"
		 " VALUES (%lld, '%s', %lld, %lld, 1)", (long long)p->volume_id, name,
		 (long long)x->o->now, (long long)p->id);
	assert_int_equal(catalog_exec(x->cat, sql), 0);
	return 0;
}

int __wrap_sched_rbd_snap_prune(struct sched_rbd *r, const char *pool,
				const char *image, const char *name, char *err,
				size_t errlen)
{
	int ret;

	check_expected(name);
	ret = mock_type(int);
	if (ret)
		snprintf(err, errlen, "mocked: %s", ret == -EBUSY ? "has clones" : "failed");
	return ret;
}

/* the record in Ceph of a pruned snapshot: nothing to reach here */
int __wrap_ceph_catalog_del_snap(const struct cat_volume *v, const char *snap,
				 char *err, size_t errlen)
{
	return 0;
}

int __wrap_sched_archive_start(struct sched_ctx *x, const struct policy *p,
			       const char *pool, const char *image, const char *snap,
			       char *err, size_t errlen)
{
	check_expected(snap);
	return mock_type(int);
}

/*---- fixture -------------------------------------------------------------*/

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char path[128], err[512];

	snprintf(f->dir, sizeof(f->dir), "%s/test_schedule.XXXXXX",
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
	char path[128];

	catalog_close(f->cat);
	snprintf(path, sizeof(path), "%s/catalog.db", f->dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/catalog.db-wal", f->dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/catalog.db-shm", f->dir);
	unlink(path);
	rmdir(f->dir);
	free(f);
	return 0;
}

static void add(struct fixture *f, const char *name, const char *vol, int every,
		int keep_last)
{
	const char *vols[] = { vol };
	struct policy_spec s = {
		.name = name, .volumes = vols, .nvolumes = 1, .interval_s = every,
		.keep_last = keep_last, .archive_after_days = -1,
	};
	char err[512];

	assert_int_equal(policy_add(f->cat, &s, err, sizeof(err)), 0);
}

static void report(const struct schedule_action *a, void *arg)
{
	struct fixture *f = arg;
	size_t n = strlen(f->log);

	snprintf(f->log + n, sizeof(f->log) - n, "%s %s%s%s;", a->policy, a->action,
		 a->snapshot ? " " : "", a->snapshot ? a->snapshot : "");
	if (strstr(a->message, "catch-up"))
		strncat(f->log, "catch-up;", sizeof(f->log) - strlen(f->log) - 1);
}

static int run(struct fixture *f, int64_t now, struct schedule_totals *t)
{
	struct schedule_opts o = {
		.now = now, .cdpctl = "/nonexistent", .report = report, .arg = f,
	};
	char err[1024];

	f->log[0] = '\0';
	return schedule_run(f->cat, &o, t, err, sizeof(err));
}

static int count(struct fixture *f, const char *sql)
{
	sqlite3_stmt *st;
	int n = -1;

	assert_int_equal(sqlite3_prepare_v2(catalog_db(f->cat), sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return n;
}

/*---- tests ---------------------------------------------------------------*/

static void test_due_once_per_slot(void **state)
{
	struct fixture *f = *state;
	struct schedule_totals t;

	add(f, "p", "va", 900, 0);
	expect_string(__wrap_sched_snap_take, name, "p-20261201T0100Z");
	will_return(__wrap_sched_snap_take, 0);
	assert_int_equal(run(f, T0 + 30, &t), 0);
	assert_int_equal(t.snapshots, 1);
	assert_string_equal(f->log, "p snapshot p-20261201T0100Z;");
	/* the same slot again: nothing (an unexpected mock call would fail) */
	assert_int_equal(run(f, T0 + 899, &t), 0);
	assert_int_equal(t.snapshots, 0);
	assert_string_equal(f->log, "");
	expect_string(__wrap_sched_snap_take, name, "p-20261201T0115Z");
	will_return(__wrap_sched_snap_take, 0);
	assert_int_equal(run(f, T0 + 900, &t), 0);
	assert_int_equal(count(f, "SELECT count(*) FROM events WHERE kind = 'schedule.snapshot'"), 2);
}

static void test_outage_one_catch_up(void **state)
{
	struct fixture *f = *state;
	struct schedule_totals t;

	add(f, "p", "va", 900, 0);
	expect_string(__wrap_sched_snap_take, name, "p-20261201T0100Z");
	will_return(__wrap_sched_snap_take, 0);
	assert_int_equal(run(f, T0, &t), 0);
	/* down for 10 hours and 7 minutes: one snapshot, of the current slot */
	expect_string(__wrap_sched_snap_take, name, "p-20261201T1100Z");
	will_return(__wrap_sched_snap_take, 0);
	assert_int_equal(run(f, T0 + 10 * 3600 + 420, &t), 0);
	assert_int_equal(t.snapshots, 1);
	assert_string_equal(f->log, "p snapshot p-20261201T1100Z;catch-up;");
}

static void test_failure_does_not_stop_others(void **state)
{
	struct fixture *f = *state;
	struct schedule_totals t;
	char *res;

	add(f, "a", "va", 900, 0);
	add(f, "b", "vb", 900, 0);
	expect_string(__wrap_sched_snap_take, name, "a-20261201T0100Z");
	will_return(__wrap_sched_snap_take, -EIO);
	expect_string(__wrap_sched_snap_take, name, "b-20261201T0100Z");
	will_return(__wrap_sched_snap_take, 0);
	assert_int_equal(run(f, T0, &t), -EIO);
	assert_int_equal(t.policies, 2);
	assert_int_equal(t.failed, 1);
	assert_int_equal(t.snapshots, 1);
	assert_int_equal(count(f, "SELECT count(*) FROM policies WHERE name = 'a'"
			      " AND last_result = 'failed' AND last_message LIKE '%mocked failure%'"), 1);
	assert_int_equal(count(f, "SELECT count(*) FROM policies WHERE name = 'b'"
			      " AND last_result = 'ok'"), 1);
	assert_int_equal(count(f, "SELECT count(*) FROM events WHERE kind = 'schedule.snapshot-failed'"), 1);
	/* a is due again next minute (nothing was taken), b is not; the
	 * same failure is reported, not logged again */
	expect_string(__wrap_sched_snap_take, name, "a-20261201T0100Z");
	will_return(__wrap_sched_snap_take, -EIO);
	assert_int_equal(run(f, T0 + 60, &t), -EIO);
	assert_string_equal(f->log, "a snapshot-failed a-20261201T0100Z;");
	assert_int_equal(count(f, "SELECT count(*) FROM events WHERE kind = 'schedule.snapshot-failed'"), 1);
	expect_string(__wrap_sched_snap_take, name, "a-20261201T0100Z");
	will_return(__wrap_sched_snap_take, 0);
	assert_int_equal(run(f, T0 + 120, &t), 0);
	res = f->log;
	assert_string_equal(res, "a snapshot a-20261201T0100Z;");
}

static void test_prune_and_clones(void **state)
{
	struct fixture *f = *state;
	struct schedule_totals t;

	add(f, "p", "va", 900, 1);
	assert_int_equal(catalog_exec(f->cat,
		"INSERT INTO snapshots (volume_id, name, created_at, policy_id) VALUES"
		" (1, 'old1', 1000, 1), (1, 'old2', 2000, 1), (1, 'other', 500, NULL)"), 0);
	expect_string(__wrap_sched_snap_take, name, "p-20261201T0100Z");
	will_return(__wrap_sched_snap_take, 0);
	/* oldest first; old1 has clones, old2 goes */
	expect_string(__wrap_sched_rbd_snap_prune, name, "old1");
	will_return(__wrap_sched_rbd_snap_prune, -EBUSY);
	expect_string(__wrap_sched_rbd_snap_prune, name, "old2");
	will_return(__wrap_sched_rbd_snap_prune, 0);
	assert_int_equal(run(f, T0, &t), 0);
	assert_int_equal(t.pruned, 1);
	assert_int_equal(t.kept_clones, 1);
	assert_int_equal(count(f, "SELECT count(*) FROM snapshots WHERE name = 'old1' AND state = 'live'"), 1);
	assert_int_equal(count(f, "SELECT count(*) FROM snapshots WHERE name = 'old2' AND state = 'deleted'"), 1);
	/* not the policy's: never touched */
	assert_int_equal(count(f, "SELECT count(*) FROM snapshots WHERE name = 'other' AND state = 'live'"), 1);
	/* the next run asks again (the clone may be gone), logs no new event */
	expect_string(__wrap_sched_rbd_snap_prune, name, "old1");
	will_return(__wrap_sched_rbd_snap_prune, -EBUSY);
	assert_int_equal(run(f, T0 + 60, &t), 0);
	assert_string_equal(f->log, "p keep-clones old1;");
	assert_int_equal(count(f, "SELECT count(*) FROM events WHERE kind = 'schedule.keep-clones'"), 1);
	/* a failing prune is a policy error */
	expect_string(__wrap_sched_rbd_snap_prune, name, "old1");
	will_return(__wrap_sched_rbd_snap_prune, -EIO);
	assert_int_equal(run(f, T0 + 120, &t), -EIO);
	assert_int_equal(count(f, "SELECT count(*) FROM policies WHERE last_result = 'failed'"), 1);
}

static void test_dry_run_changes_nothing(void **state)
{
	struct fixture *f = *state;
	struct schedule_opts o = { .now = T0, .dry_run = 1, .report = report, .arg = f };
	struct schedule_totals t;
	char err[1024];
	int events;

	add(f, "p", "va", 900, 1);
	assert_int_equal(catalog_exec(f->cat,
		"INSERT INTO snapshots (volume_id, name, created_at, policy_id) VALUES"
		" (1, 'old1', 1000, 1), (1, 'old2', 2000, 1)"), 0);
	events = count(f, "SELECT count(*) FROM events");
	f->log[0] = '\0';
	assert_int_equal(schedule_run(f->cat, &o, &t, err, sizeof(err)), 0);	/* no mock may be called */
	/* old snapshots, so the first of this policy counts as a catch-up */
	assert_string_equal(f->log, "p snapshot p-20261201T0100Z;catch-up;p prune old1;");
	assert_int_equal(count(f, "SELECT count(*) FROM events"), events);
	assert_int_equal(count(f, "SELECT count(*) FROM snapshots WHERE state = 'live'"), 2);
}

static void test_archive_handoff(void **state)
{
	struct fixture *f = *state;
	struct schedule_totals t;

	add(f, "p", "va", 86400, 0);
	assert_int_equal(catalog_exec(f->cat,
		"UPDATE policies SET archive_after_days = 1, archive_drives = 'stdio:/x'"), 0);
	assert_int_equal(catalog_exec(f->cat,
		"INSERT INTO snapshots (volume_id, name, created_at, policy_id) VALUES"
		" (1, 'd0', 1796000000, 1), (1, 'd1', 1796050000, 1)"), 0);
	expect_string(__wrap_sched_snap_take, name, "p-20261201T0000Z");
	will_return(__wrap_sched_snap_take, 0);
	expect_string(__wrap_sched_archive_start, snap, "d0");
	will_return(__wrap_sched_archive_start, 0);
	assert_int_equal(run(f, T0, &t), 0);
	assert_int_equal(t.archives, 1);
	/* still running: no new hand-off, no event, no error */
	expect_string(__wrap_sched_archive_start, snap, "d0");
	will_return(__wrap_sched_archive_start, -EALREADY);
	assert_int_equal(run(f, T0 + 60, &t), 0);
	assert_int_equal(t.archives, 0);
	assert_int_equal(count(f, "SELECT count(*) FROM events WHERE kind = 'schedule.archive'"), 1);
}

static void test_paused(void **state)
{
	struct fixture *f = *state;
	struct schedule_totals t;
	char err[256];

	add(f, "p", "va", 900, 0);
	assert_int_equal(policy_set_paused(f->cat, "p", 1, err, sizeof(err)), 0);
	assert_int_equal(run(f, T0, &t), 0);
	assert_string_equal(f->log, "p paused;");
	assert_int_equal(t.snapshots, 0);
}

/* remove + add with other settings: the new policy manages the old snapshots */
static void test_readd_adopts(void **state)
{
	struct fixture *f = *state;
	struct schedule_totals t;
	char err[256];

	add(f, "p", "va", 900, 0);
	expect_string(__wrap_sched_snap_take, name, "p-20261201T0100Z");
	will_return(__wrap_sched_snap_take, 0);
	assert_int_equal(run(f, T0, &t), 0);
	expect_string(__wrap_sched_snap_take, name, "p-20261201T0115Z");
	will_return(__wrap_sched_snap_take, 0);
	assert_int_equal(run(f, T0 + 900, &t), 0);
	assert_int_equal(catalog_exec(f->cat,
		"INSERT INTO snapshots (volume_id, name, created_at) VALUES (1, 'manual', 1000),"
		" (2, 'p-20261201T0000Z', 1000)"), 0);
	assert_int_equal(policy_remove(f->cat, "p", err, sizeof(err)), 0);
	assert_int_equal(count(f, "SELECT count(*) FROM snapshots WHERE policy_id IS NULL"), 4);
	add(f, "p", "va", 900, 1);
	/* its two, not the user's, not another volume's */
	assert_int_equal(count(f, "SELECT count(*) FROM snapshots WHERE policy_id IS NOT NULL"), 2);
	expect_string(__wrap_sched_snap_take, name, "p-20261201T0130Z");
	will_return(__wrap_sched_snap_take, 0);
	expect_string(__wrap_sched_rbd_snap_prune, name, "p-20261201T0100Z");
	will_return(__wrap_sched_rbd_snap_prune, 0);
	expect_string(__wrap_sched_rbd_snap_prune, name, "p-20261201T0115Z");
	will_return(__wrap_sched_rbd_snap_prune, 0);
	assert_int_equal(run(f, T0 + 1800, &t), 0);
	assert_int_equal(t.pruned, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_due_once_per_slot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_outage_one_catch_up, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failure_does_not_stop_others, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prune_and_clones, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dry_run_changes_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_archive_handoff, setup, teardown),
		cmocka_unit_test_setup_teardown(test_paused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_readd_adopts, setup, teardown),
	};

	setenv("TZ", "UTC", 1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
