// SPDX-License-Identifier: GPL-2.0
/* Unit tests of the archive plan (extents -> chunks -> discs) and of the
 * manifest/README text format (render, parse, reject damage). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "archive.h"

static void header(struct archive_plan *p, uint64_t chunk, uint64_t cap)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->id, sizeof(p->id), "00112233445566778899aabbccddeeff");
	snprintf(p->volume, sizeof(p->volume), "db1");
	snprintf(p->pool, sizeof(p->pool), "rbd");
	snprintf(p->image, sizeof(p->image), "vol");
	snprintf(p->snap, sizeof(p->snap), "daily-1");
	p->image_size = 64 << 20;
	p->snap_seq = 42;
	p->snap_time = 1700000000;
	p->created = 1700000100;
	p->chunk_size = chunk;
	p->capacity = cap;
}

static const struct archive_extent ext[] = {
	{ 4096, 100000 }, { 1 << 20, 3 << 20 }, { 40 << 20, 65536 },
};

static void test_plan_cuts_chunks(void **state)
{
	struct archive_plan p;
	char err[256];
	uint64_t sum = 0, img = 0;
	size_t i;

	header(&p, 1 << 20, 3 << 20);
	assert_int_equal(archive_plan_build(&p, ext, 3, err, sizeof(err)), 0);
	assert_int_equal(p.data_bytes, 100000 + (3 << 20) + 65536);
	assert_int_equal(p.nchunks, 4);		/* 3.16 MiB in 1 MiB chunks */
	for (i = 0; i < p.npieces; i++) {
		const struct archive_piece *pc = &p.pieces[i];

		assert_true(pc->chunk_off + pc->len <= p.chunk_size);
		assert_true(pc->img_off >= img);	/* image order */
		img = pc->img_off + pc->len;
		sum += pc->len;
	}
	assert_int_equal(sum, p.data_bytes);
	for (i = 0; i + 1 < p.nchunks; i++)
		assert_int_equal(p.chunks[i].length, p.chunk_size);
	/* 3 MiB discs hold two 1 MiB chunks plus overhead */
	assert_int_equal(p.ndiscs, 2);
	assert_int_equal(p.discs[0].nchunks, 2);
	assert_int_equal(p.discs[1].first_chunk, 2);
	for (i = 0; i < p.ndiscs; i++)
		assert_true(p.discs[i].est_bytes <= p.capacity);
	archive_plan_free(&p);
}

static void test_plan_capacity_too_small(void **state)
{
	struct archive_plan p;
	char err[512];

	header(&p, 1 << 20, 1 << 20);
	assert_int_equal(archive_plan_build(&p, ext, 3, err, sizeof(err)), -ENOSPC);
	assert_non_null(strstr(err, "use a larger --capacity or a smaller --chunk-size"));
	archive_plan_free(&p);
	header(&p, 1000, 1 << 30);
	assert_int_equal(archive_plan_build(&p, ext, 3, err, sizeof(err)), -EINVAL);
	archive_plan_free(&p);
}

static void test_plan_empty_image(void **state)
{
	struct archive_plan p;
	char err[256];

	header(&p, 1 << 20, 25ULL << 30);
	assert_int_equal(archive_plan_build(&p, NULL, 0, err, sizeof(err)), 0);
	assert_int_equal(p.nchunks, 0);
	assert_int_equal(p.ndiscs, 1);
	archive_plan_free(&p);
}

static void built(struct archive_plan *p)
{
	char err[256];
	uint32_t i;

	header(p, 1 << 20, 3 << 20);
	assert_int_equal(archive_plan_build(p, ext, 3, err, sizeof(err)), 0);
	for (i = 0; i < p->ndiscs; i++)
		snprintf(p->discs[i].label, sizeof(p->discs[i].label), "LBL-%u", i + 1);
}

static void test_manifest_round_trip(void **state)
{
	struct archive_plan p, m;
	char err[256], *t0, *t1;
	size_t l0, l1;
	uint32_t i;

	built(&p);
	/* the length is final before any hash is known */
	t0 = archive_manifest_render(&p, 2, &l0);
	for (i = 0; i < p.nchunks; i++)
		memset(p.chunks[i].sha256, 'a' + (int)i, 64);
	memset(p.image_sha256, 'f', 64);
	t1 = archive_manifest_render(&p, 2, &l1);
	assert_int_equal(l0, l1);
	assert_int_equal(archive_manifest_parse(t1, l1, &m, err, sizeof(err)), 0);
	assert_string_equal(m.id, p.id);
	assert_string_equal(m.snap, "daily-1");
	assert_int_equal(m.snap_seq, 42);
	assert_int_equal(m.this_disc, 2);
	assert_int_equal(m.ndiscs, 2);
	assert_string_equal(m.discs[1].label, "LBL-2");
	assert_int_equal(m.nchunks, p.discs[1].nchunks);
	assert_int_equal(m.chunks[0].idx, 2);
	assert_memory_equal(m.chunks[0].sha256, p.chunks[2].sha256, 64);
	assert_memory_equal(m.image_sha256, p.image_sha256, 64);	/* last disc */
	archive_plan_free(&m);
	free(t0);
	free(t1);
	/* disc 1 is not the last: no image hash on it */
	t1 = archive_manifest_render(&p, 1, &l1);
	assert_int_equal(archive_manifest_parse(t1, l1, &m, err, sizeof(err)), 0);
	assert_string_equal(m.image_sha256, "");
	archive_plan_free(&m);
	free(t1);
	/* the full record (Ceph) lists every chunk */
	t1 = archive_manifest_render(&p, 0, &l1);
	assert_int_equal(archive_manifest_parse(t1, l1, &m, err, sizeof(err)), 0);
	assert_int_equal(m.nchunks, p.nchunks);
	assert_int_equal(m.npieces, p.npieces);
	archive_plan_free(&m);
	free(t1);
	archive_plan_free(&p);
}

/* Make the manifest_sha256 line (if any) match the edited text again. */
static void rehash(char *buf)
{
	char *h = strstr(buf, "\nmanifest_sha256 "), hex[CDP_SHA256_HEX];
	struct cdp_sha256 *sh;

	if (!h || strlen(h) < 17 + 64)
		return;
	sh = cdp_sha256_new();
	assert_non_null(sh);
	cdp_sha256_update(sh, buf, (size_t)(h + 1 - buf));
	cdp_sha256_final_hex(sh, hex);
	cdp_sha256_free(sh);
	memcpy(h + 17, hex, 64);
}

/*
 * parse text with one line replaced (or cut), expect a refusal. The
 * manifest hash is made to match (a consistent but wrong manifest) unless
 * raw: then the edit is what the hash must catch.
 */
static void expect_bad_how(const char *text, const char *from, const char *to,
			   const char *why, int raw)
{
	struct archive_plan m;
	char err[256], *copy = strdup(text), *at = strstr(copy, from);
	char buf[8192];

	assert_non_null(at);
	snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(at - copy), copy, to ? to : "",
		 to ? at + strlen(from) : "");
	if (!raw)
		rehash(buf);
	assert_int_equal(archive_manifest_parse(buf, strlen(buf), &m, err, sizeof(err)),
			 -EBADMSG);
	free(copy);
	if (!strstr(err, why))
		fail_msg("expected \"%s\" in: %s", why, err);
}

static void expect_bad(const char *text, const char *from, const char *to,
		       const char *why)
{
	expect_bad_how(text, from, to, why, 0);
}

static void test_manifest_rejects_damage(void **state)
{
	struct archive_plan p;
	char *t;
	size_t l;

	built(&p);
	t = archive_manifest_render(&p, 1, &l);
	expect_bad(t, "end\n", "", "truncated");
	expect_bad(t, "CDP-ARCHIVE-MANIFEST 2", "XYZ 2", "not a cdp archive manifest");
	expect_bad(t, "CDP-ARCHIVE-MANIFEST 2", "CDP-ARCHIVE-MANIFEST 9", "format version 9");
	expect_bad(t, "piece 0 0 4096 100000", "piece 0 0 67108000 100000", "bounds");
	expect_bad(t, "chunk 1 1 ", "chunk 3 1 ", "chunk 3 is stored as chunks/00000001.bin");
	expect_bad(t, "chunk 1 1 1048576", "chunk 1 1 2097152", "chunk 1 out of range");
	expect_bad(t, "disc 2 LBL-2", "disc 3 LBL-2", "bad disc record");
	/* another disc's range: restore indexes its chunk states by it */
	expect_bad(t, "disc 2 LBL-2 ", "disc 2 LBL-2 7", "the disc table is damaged");
	expect_bad(t, "image_size 67108864", "image_size lots", "is not a number");
	expect_bad(t, "chunk_size 1048576", "chunk_size 1099511627776", "is over");
	/* a piece moved within the image: only manifest_sha256 can tell */
	expect_bad_how(t, "piece 0 0 4096 100000", "piece 0 0 8192 100000",
		       "the manifest's SHA-256 is ", 1);
	expect_bad(t, "manifest_sha256 ", "volume x\nmanifest_sha256 ", "\"volume\" is given twice");
	/* a key given twice: the second chunk_size would size the buffer */
	expect_bad(t, "end\n", "chunk_size 65536\nend\n",
		   "\"chunk_size\" is given twice (first on line 11)");
	expect_bad(t, "end\n", "archive 00112233445566778899aabbccddee00\nend\n",
		   "\"archive\" is given twice");
	free(t);
	archive_plan_free(&p);
}

/* Version 1 (no manifest_sha256) is still read; version 2 needs the line. */
static void test_manifest_version_1(void **state)
{
	struct archive_plan p, m;
	char err[256], *t, *h, *e;
	size_t l;

	built(&p);
	t = archive_manifest_render(&p, 2, &l);
	h = strstr(t, "manifest_sha256 ");
	e = strstr(t, "end\n");
	assert_non_null(h);
	assert_ptr_equal(e, h + strlen("manifest_sha256 ") + 65);	/* last before end */
	memmove(h, e, strlen(e) + 1);		/* drop the line */
	l = strlen(t);
	assert_int_equal(archive_manifest_parse(t, l, &m, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "no manifest_sha256 line in a version 2 manifest"));
	t[strlen("CDP-ARCHIVE-MANIFEST ")] = '1';
	assert_int_equal(archive_manifest_parse(t, l, &m, err, sizeof(err)), 0);
	assert_int_equal(m.nchunks, p.discs[1].nchunks);
	archive_plan_free(&m);
	free(t);
	archive_plan_free(&p);
}

static void test_readme_identifies_disc(void **state)
{
	struct archive_plan p;
	char id[ARCHIVE_ID_LEN + 1], label[64], *t;
	uint32_t no, of;
	size_t l;

	built(&p);
	t = archive_readme_render(&p, 2, &l);
	assert_int_equal(archive_readme_identify(t, id, &no, &of, label, sizeof(label)), 0);
	assert_string_equal(id, p.id);
	assert_int_equal(no, 2);
	assert_int_equal(of, 2);
	assert_string_equal(label, "LBL-2");
	assert_non_null(strstr(t, "rbd/vol@daily-1"));
	assert_int_equal(archive_readme_identify("hello", id, &no, &of, label, sizeof(label)),
			 -EBADMSG);
	free(t);
	archive_plan_free(&p);
}

/*
 * The planner's manifest size is an upper bound of what is rendered (a
 * disc it passes can be read back), close to it (it does not refuse what
 * fits), and a plan over the limit is refused with the way out.
 */
static void test_plan_manifest_limit(void **state)
{
	struct archive_plan p;
	char err[512], want[64], *t;
	uint64_t est, most = 0;
	uint32_t no, big = 0;
	size_t len;

	built(&p);
	for (no = 1; no <= p.ndiscs; no++) {
		t = archive_manifest_render(&p, no, &len);
		est = archive_plan_manifest_size(&p, no);
		assert_true(len <= est);
		assert_true(est - len < 8192);		/* header slack only */
		if (est > most) {
			most = est;
			big = no;
		}
		free(t);
	}
	assert_int_equal(archive_plan_check_manifest(&p, most, err, sizeof(err)), 0);
	assert_int_equal(archive_plan_check_manifest(&p, most - 1, err, sizeof(err)), -EFBIG);
	snprintf(want, sizeof(want), "manifest too large: disc %u's MANIFEST.TXT", big);
	assert_non_null(strstr(err, want));
	if (!strstr(err, "(2 chunks of 1.0 MiB), over the ") ||
	    !strstr(err, "use a larger --chunk-size (e.g. "))
		fail_msg("unexpected: %s", err);
	/* the all-disc record kept in Ceph: bound vs what is rendered */
	t = archive_manifest_render(&p, 0, &len);
	free(t);
	assert_int_equal(archive_plan_check_ceph_record(&p, len + 8192, err, sizeof(err)), 0);
	assert_int_equal(archive_plan_check_ceph_record(&p, len - 1, err, sizeof(err)), -EFBIG);
	if (!strstr(err, "manifest too large: the record of all ") ||
	    !strstr(err, " discs kept in Ceph would be ") ||
	    !strstr(err, "use a larger --chunk-size (e.g. "))
		fail_msg("unexpected: %s", err);
	archive_plan_free(&p);
	/* ~2M chunk lines of ~140 bytes (128G BD-R XL, 64K chunks) do not fit */
	assert_true(1953125ULL * 140 > ARCHIVE_MANIFEST_MAX);
}

static void test_capacity_names(void **state)
{
	uint64_t v;

	assert_int_equal(cdp_parse_capacity("25G", &v), 0);
	assert_int_equal(v, 12219392ULL * 2048);
	assert_int_equal(cdp_parse_capacity("200g", &v), 0);
	assert_int_equal(v, 97656250ULL * 2048);
	assert_int_equal(cdp_parse_capacity("700M", &v), 0);
	assert_int_equal(v, 700ULL << 20);
	assert_int_equal(cdp_parse_capacity("BD", &v), -EINVAL);
	assert_true(archive_label_valid("Tape_01-a"));
	assert_false(archive_label_valid("bad label"));
	assert_false(archive_label_valid("0123456789012345678901234"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plan_cuts_chunks),
		cmocka_unit_test(test_plan_capacity_too_small),
		cmocka_unit_test(test_plan_empty_image),
		cmocka_unit_test(test_manifest_round_trip),
		cmocka_unit_test(test_manifest_rejects_damage),
		cmocka_unit_test(test_manifest_version_1),
		cmocka_unit_test(test_readme_identifies_disc),
		cmocka_unit_test(test_capacity_names),
		cmocka_unit_test(test_plan_manifest_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
