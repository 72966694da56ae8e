// SPDX-License-Identifier: GPL-2.0
/* Unit tests for lib/util.c: size parsing, hex, SHA-256 of known vectors. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "util.h"

static void test_parse_size(void **state)
{
	uint64_t v;

	assert_int_equal(cdp_parse_size("4096", &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(cdp_parse_size("64K", &v), 0);
	assert_int_equal(v, 65536);
	assert_int_equal(cdp_parse_size("25G", &v), 0);
	assert_int_equal(v, 25ULL << 30);
	assert_int_equal(cdp_parse_size("1MiB", &v), 0);
	assert_int_equal(v, 1 << 20);
	assert_int_equal(cdp_parse_size("", &v), -EINVAL);
	assert_int_equal(cdp_parse_size("12Q", &v), -EINVAL);
	assert_int_equal(cdp_parse_size("-5", &v), -EINVAL);
	assert_int_equal(cdp_parse_size("99999999999P", &v), -ERANGE);
}

static void test_parse_capacity(void **state)
{
	uint64_t v;

	/* the BD-R class names are media capacities, not 25 GiB */
	assert_int_equal(cdp_parse_capacity("25G", &v), 0);
	assert_int_equal(v, 12219392ULL * 2048);
	assert_int_equal(cdp_parse_capacity("8M", &v), 0);
	assert_int_equal(v, 8 << 20);
}

static void test_hex_roundtrip(void **state)
{
	const uint8_t in[4] = { 0x00, 0xab, 0x7f, 0xff };
	uint8_t out[4];
	char hex[9];

	cdp_hex(in, sizeof(in), hex);
	assert_string_equal(hex, "00ab7fff");
	assert_int_equal(cdp_unhex(hex, out, sizeof(out)), 0);
	assert_memory_equal(in, out, sizeof(in));
	assert_int_not_equal(cdp_unhex("zz", out, 1), 0);
}

static void test_sha256_vectors(void **state)
{
	struct cdp_sha256 *h = cdp_sha256_new();
	char hex[CDP_SHA256_HEX];

	assert_non_null(h);
	cdp_sha256_update(h, "abc", 3);
	cdp_sha256_final_hex(h, hex);
	assert_string_equal(hex,
		"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	cdp_sha256_free(h);

	/* zeros fed in bulk hash like zeros fed as data (sparse extents) */
	h = cdp_sha256_new();
	cdp_sha256_zeros(h, 1 << 20);
	cdp_sha256_final_hex(h, hex);
	assert_string_equal(hex,
		"30e14955ebf1352266dc2ff8067e68104607e750abb9d3b36582b8af909fcb58");
	cdp_sha256_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_size),
		cmocka_unit_test(test_parse_capacity),
		cmocka_unit_test(test_hex_roundtrip),
		cmocka_unit_test(test_sha256_vectors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
