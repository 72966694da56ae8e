// SPDX-License-Identifier: GPL-2.0
/*
 * json_print.c - see json_print.h. A tiny streaming JSON writer: a stack of
 * open containers, each remembering whether it already has a member so the
 * commas come out right. Deliberately no DOM: records are printed as they
 * are read from the catalog or a disc.
 */
#include "json_print.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define JSON_MAX_DEPTH 32

static int json_on;
static int depth;
static bool has_member[JSON_MAX_DEPTH];
static char closer[JSON_MAX_DEPTH];	/* what ends each open container */

bool is_json_context(void)
{
	return json_on;
}

static bool want_text(enum output_type t)
{
	return !json_on && (t & PRINT_FP);
}

static bool want_json(enum output_type t)
{
	return json_on && (t & PRINT_JSON);
}

static void json_escape(const char *s)
{
	putchar('"');
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		switch (c) {
		case '"': fputs("\\\"", stdout); break;
		case '\\': fputs("\\\\", stdout); break;
		case '\n': fputs("\\n", stdout); break;
		case '\r': fputs("\\r", stdout); break;
		case '\t': fputs("\\t", stdout); break;
		default:
			if (c < 0x20)
				printf("\\u%04x", c);
			else
				putchar(c);
		}
	}
	putchar('"');
}

/* Comma + key for the next member of the innermost container. */
static void json_member(const char *key)
{
	if (depth > 0) {
		if (has_member[depth - 1])
			putchar(',');
		has_member[depth - 1] = true;
	}
	if (key) {
		json_escape(key);
		putchar(':');
	}
}

static void json_push(char open)
{
	putchar(open);
	if (depth < JSON_MAX_DEPTH) {
		has_member[depth] = false;
		closer[depth] = open == '[' ? ']' : '}';
	}
	depth++;
}

static void json_pop(void)
{
	if (depth > 0) {
		depth--;
		putchar(depth < JSON_MAX_DEPTH ? closer[depth] : '}');
	}
}

void new_json_obj(int json)
{
	json_on = json;
	depth = 0;
	if (json_on)
		json_push('[');
}

void delete_json_obj(void)
{
	if (json_on) {
		/* an error path may leave records open: close them all */
		while (depth > 0)
			json_pop();
		putchar('\n');
	}
	fflush(stdout);
	json_on = 0;
	depth = 0;
}

void open_json_object(const char *name)
{
	if (!json_on)
		return;
	json_member(name);
	json_push('{');
}

void close_json_object(void)
{
	if (json_on)
		json_pop();
}

void open_json_array(enum output_type t, const char *name)
{
	if (want_json(t)) {
		json_member(name);
		json_push('[');
	} else if (want_text(t) && name) {
		printf("%s ", name);
	}
}

void close_json_array(enum output_type t, const char *delim)
{
	if (want_json(t))
		json_pop();
	else if (want_text(t) && delim)
		fputs(delim, stdout);
}

void print_nl(void)
{
	if (!json_on)
		putchar('\n');
}

static void text_out(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
static void text_out(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
}

/*
 * The format strings come from our own callers (a literal per field), so
 * -Wformat-nonliteral is silenced locally rather than losing the one-path
 * API.
 */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"

void print_string(enum output_type t, const char *key, const char *fmt,
		  const char *value)
{
	if (want_json(t)) {
		json_member(key);
		if (value)
			json_escape(value);
		else
			fputs("null", stdout);
	} else if (want_text(t) && fmt) {
		text_out(fmt, value ? value : "-");
	}
}

void print_uint(enum output_type t, const char *key, const char *fmt,
		unsigned int value)
{
	if (want_json(t)) {
		json_member(key);
		printf("%u", value);
	} else if (want_text(t) && fmt) {
		text_out(fmt, value);
	}
}

void print_int(enum output_type t, const char *key, const char *fmt, int value)
{
	if (want_json(t)) {
		json_member(key);
		printf("%d", value);
	} else if (want_text(t) && fmt) {
		text_out(fmt, value);
	}
}

void print_u64(enum output_type t, const char *key, const char *fmt,
	       uint64_t value)
{
	if (want_json(t)) {
		json_member(key);
		printf("%llu", (unsigned long long)value);
	} else if (want_text(t) && fmt) {
		text_out(fmt, value);
	}
}

void print_float(enum output_type t, const char *key, const char *fmt,
		 double value)
{
	if (want_json(t)) {
		json_member(key);
		printf("%.3f", value);
	} else if (want_text(t) && fmt) {
		text_out(fmt, value);
	}
}

void print_bool(enum output_type t, const char *key, const char *fmt,
		bool value)
{
	if (want_json(t)) {
		json_member(key);
		fputs(value ? "true" : "false", stdout);
	} else if (want_text(t) && fmt) {
		text_out(fmt, value ? "true" : "false");
	}
}

void print_null(enum output_type t, const char *key, const char *fmt)
{
	if (want_json(t)) {
		json_member(key);
		fputs("null", stdout);
	} else if (want_text(t) && fmt) {
		fputs(fmt, stdout);
	}
}

#pragma GCC diagnostic pop
