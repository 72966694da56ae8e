// SPDX-License-Identifier: GPL-2.0
/*
 * test_snap_record.c - the text records kept in Ceph (lib/snap_record.c)
 * and the parsing of cdpd's control-socket replies (lib/snap_proto.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "snap_proto.h"
#include "snap_record.h"

static void escape_roundtrip(void **state)
{
	char buf[256] = "", out[64];

	assert_int_equal(rec_put(buf, sizeof(buf), "freeze", "frozen=/a b,/c%d"), 0);
	assert_int_equal(rec_put(buf, sizeof(buf), "x", "1"), 0);
	/* '=' and ' ' are escaped inside the value: it ends at the first space */
	assert_true(strcspn(buf + strlen("freeze="), "=") > strcspn(buf + strlen("freeze="), " "));
	assert_int_equal(rec_get(buf, "freeze", out, sizeof(out)), 0);
	assert_string_equal(out, "frozen=/a b,/c%d");
	assert_int_equal(rec_get(buf, "x", out, sizeof(out)), 0);
	assert_string_equal(out, "1");
	assert_int_equal(rec_get(buf, "fr", out, sizeof(out)), -ENOENT);	/* no prefix match */
}

static void rec_put_overflow(void **state)
{
	char buf[8] = "";

	assert_int_equal(rec_put(buf, sizeof(buf), "key", "a long value"), -ENOSPC);
}

static void snap_roundtrip(void **state)
{
	struct snap_row a = { .created_at = 1795656491, .seq = 3212, .freeze_ms = 12.5, .protect = 1 }, b;
	char rec[1024];

	strcpy(a.name, "app1");
	strcpy(a.group, "3f4f336a");
	strcpy(a.freeze, "frozen=/srv/pg freeze_ms=12.5 pre=exit:0:5ms");
	strcpy(a.discs, "PG-1 PG-2");
	assert_int_equal(snap_record_encode(&a, rec, sizeof(rec)), 0);
	assert_int_equal(snap_record_decode(rec, &b), 0);
	assert_string_equal(b.name, "app1");
	assert_int_equal(b.created_at, a.created_at);
	assert_int_equal(b.seq, 3212);
	assert_string_equal(b.group, a.group);
	assert_true(b.freeze_ms > 12.4 && b.freeze_ms < 12.6);
	assert_string_equal(b.freeze, a.freeze);
	assert_int_equal(b.protect, 1);
	assert_string_equal(b.state, "live");
	assert_string_equal(b.discs, "PG-1 PG-2");
}

static void snap_decode_tolerant(void **state)
{
	struct snap_row r;

	/* unknown keys ignored, missing ones defaulted, no name refused */
	assert_int_equal(snap_record_decode("v=9 name=s1 future=x", &r), 0);
	assert_string_equal(r.name, "s1");
	assert_int_equal(r.seq, 0);
	assert_true(r.freeze_ms < 0);
	assert_int_equal(snap_record_decode("v=1 seq=5", &r), -EINVAL);
	assert_int_equal(snap_record_decode("", &r), -EINVAL);
}

static void volume_roundtrip(void **state)
{
	struct cat_volume a = { .created_at = 7 }, b;
	char rec[512];

	strcpy(a.name, "vol1");
	strcpy(a.pool, "rbd");
	strcpy(a.image, "vol1");
	strcpy(a.mode, "sync");
	assert_int_equal(volume_record_encode(&a, rec, sizeof(rec)), 0);
	assert_int_equal(volume_record_decode(rec, &b), 0);
	assert_string_equal(b.pool, "rbd");
	assert_string_equal(b.mode, "sync");
	assert_int_equal(b.created_at, 7);
	assert_int_equal(volume_record_decode("name=v pool=rbd", &b), -EINVAL);
	assert_int_equal(volume_record_decode("name=v pool=rbd image=i mode=weird", &b), 0);
	assert_string_equal(b.mode, "async");
}

static void proto_names(void **state)
{
	assert_true(snap_proto_valid_name("snap-20261126T001122Z"));
	assert_true(snap_proto_valid_name("a.b:c_d-e"));
	assert_false(snap_proto_valid_name(""));
	assert_false(snap_proto_valid_name("a b"));
	assert_false(snap_proto_valid_name("a/b"));
}

static void proto_seqs(void **state)
{
	char *vols[] = { "vol1", "vol2" };
	uint64_t seq[2];

	assert_int_equal(snap_proto_seqs("MARKED vol2=9 vol1=7", "MARKED", vols, 2, seq), 0);
	assert_int_equal(seq[0], 7);
	assert_int_equal(seq[1], 9);
	assert_int_equal(snap_proto_seqs("DONE vol1=0 vol2=1", "DONE", vols, 2, seq), 0);
	assert_int_equal(seq[0], 0);	/* seq 0 is a value, not "missing" */
	assert_int_equal(snap_proto_seqs("MARKED vol1=7", "MARKED", vols, 2, seq), -EPROTO);
	assert_int_equal(snap_proto_seqs("DONE vol1=7 vol2=8", "MARKED", vols, 2, seq), -EPROTO);
	assert_int_equal(snap_proto_seqs("MARKEDX vol1=7 vol2=8", "MARKED", vols, 2, seq), -EPROTO);
	assert_int_equal(snap_proto_seqs("MARKED vol1=7x vol2=8", "MARKED", vols, 2, seq), -EPROTO);
	assert_int_equal(snap_proto_seqs("MARKED vol1 vol2=8", "MARKED", vols, 2, seq), -EPROTO);
	assert_int_equal(snap_proto_seqs("MARKED vol1= vol2=8", "MARKED", vols, 2, seq), -EPROTO);
	/* signs, overflow, a volume twice or one not in the request */
	assert_int_equal(snap_proto_seqs("MARKED vol1=-1 vol2=8", "MARKED", vols, 2, seq), -EPROTO);
	assert_int_equal(snap_proto_seqs("MARKED vol1=+7 vol2=8", "MARKED", vols, 2, seq), -EPROTO);
	assert_int_equal(snap_proto_seqs("MARKED vol1=99999999999999999999 vol2=8", "MARKED", vols, 2, seq),
			 -EPROTO);
	assert_int_equal(snap_proto_seqs("MARKED vol1=7 vol2=8 vol1=9", "MARKED", vols, 2, seq), -EPROTO);
	assert_int_equal(snap_proto_seqs("MARKED vol1=7 vol2=8 vol3=9", "MARKED", vols, 2, seq), -EPROTO);
	assert_int_equal(snap_proto_seqs("MARKED vol1=18446744073709551615 vol2=8", "MARKED", vols, 2, seq), 0);
}

/* What snap_proto_format_seqs() writes, snap_proto_seqs() reads back. */
static void proto_format_seqs(void **state)
{
	char *vols[] = { "vol1", "vol2" }, line[32];
	uint64_t in[2] = { 7, 18446744073709551615ULL }, out[2];

	assert_int_equal(snap_proto_format_seqs(line, sizeof(line), "MARKED", vols, 2, in), -EMSGSIZE);
	assert_int_equal(snap_proto_format_seqs(line, 20, "DONE", vols, 1, in), 0);
	assert_string_equal(line, "DONE vol1=7");
	in[1] = 9;
	assert_int_equal(snap_proto_format_seqs(line, sizeof(line), "MARKED", vols, 2, in), 0);
	assert_string_equal(line, "MARKED vol1=7 vol2=9");
	assert_int_equal(snap_proto_seqs(line, "MARKED", vols, 2, out), 0);
	assert_int_equal(out[0], 7);
	assert_int_equal(out[1], 9);
}

static void proto_err(void **state)
{
	char msg[128];

	assert_int_equal(snap_proto_err("ERR 16 resync in progress", msg, sizeof(msg)), -16);
	assert_string_equal(msg, "resync in progress");
	assert_int_equal(snap_proto_err("ERR garbage", msg, sizeof(msg)), -EIO);
	assert_int_equal(snap_proto_err("ERR", msg, sizeof(msg)), -EIO);
	assert_int_equal(snap_proto_err("READY", msg, sizeof(msg)), 0);
	assert_int_equal(snap_proto_err("ERRATIC", msg, sizeof(msg)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(escape_roundtrip),
		cmocka_unit_test(rec_put_overflow),
		cmocka_unit_test(snap_roundtrip),
		cmocka_unit_test(snap_decode_tolerant),
		cmocka_unit_test(volume_roundtrip),
		cmocka_unit_test(proto_names),
		cmocka_unit_test(proto_seqs),
		cmocka_unit_test(proto_format_seqs),
		cmocka_unit_test(proto_err),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
