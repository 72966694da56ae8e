// SPDX-License-Identifier: GPL-2.0
/* Unit tests of lib/json_print.c: the same calls give text or valid JSON. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "json_print.h"

/* Run fn with stdout captured; returns the text (static buffer). */
static const char *capture(void (*fn)(int), int json)
{
	static char out[4096];
	char path[] = "/tmp/cdp-test-json.XXXXXX";
	int fd = mkstemp(path), saved = dup(STDOUT_FILENO);
	ssize_t n;

	fflush(stdout);
	dup2(fd, STDOUT_FILENO);
	fn(json);
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	n = pread(fd, out, sizeof(out) - 1, 0);
	out[n > 0 ? n : 0] = '\0';
	close(fd);
	unlink(path);
	return out;
}

static void records(int json)
{
	new_json_obj(json);
	for (int i = 0; i < 2; i++) {
		open_json_object(NULL);
		print_string(PRINT_ANY, "label", "label %s", i ? "B\"2\n" : "A-1");
		print_uint(PRINT_ANY, "disc", " disc %u", (unsigned)i + 1);
		print_u64(PRINT_ANY, "bytes", " bytes %llu", 5000000000ULL);
		print_string(PRINT_FP, NULL, " (text only)", NULL);
		print_bool(PRINT_JSON, "good", NULL, true);
		open_json_array(PRINT_JSON, "chunks");
		print_uint(PRINT_JSON, NULL, NULL, 7);
		print_uint(PRINT_JSON, NULL, NULL, 8);
		close_json_array(PRINT_JSON, NULL);
		print_string(PRINT_ANY, "sha", " sha %s", NULL);
		print_nl();
		close_json_object();
	}
	delete_json_obj();
}

static void test_text(void **state)
{
	assert_string_equal(capture(records, 0),
			    "label A-1 disc 1 bytes 5000000000 (text only) sha -\n"
			    "label B\"2\n disc 2 bytes 5000000000 (text only) sha -\n");
}

static void test_json(void **state)
{
	assert_string_equal(capture(records, 1),
			    "[{\"label\":\"A-1\",\"disc\":1,\"bytes\":5000000000,\"good\":true,"
			    "\"chunks\":[7,8],\"sha\":null},"
			    "{\"label\":\"B\\\"2\\n\",\"disc\":2,\"bytes\":5000000000,\"good\":true,"
			    "\"chunks\":[7,8],\"sha\":null}]\n");
}

static void unbalanced(int json)
{
	new_json_obj(json);
	open_json_object(NULL);
	open_json_array(PRINT_JSON, "a");
	open_json_object(NULL);
	delete_json_obj();	/* an error path: everything gets closed */
}

static void test_error_path_closes(void **state)
{
	assert_string_equal(capture(unbalanced, 1), "[{\"a\":[{}]}]\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_error_path_closes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
