/* SPDX-License-Identifier: GPL-2.0 */
/*
 * json_print.h - one print path for text and JSON output (iproute2 style).
 *
 * A command prints each field once:
 *	print_uint(PRINT_ANY, "discs", "discs %u ", n);
 * In text mode the format string is used; with -j the key and value go into
 * the JSON document instead. PRINT_FP prints only in text mode (decoration),
 * PRINT_JSON only in JSON mode.
 *
 * new_json_obj(json) starts the document (a top-level array in JSON mode),
 * open_json_object()/close_json_object() frame one record,
 * delete_json_obj() ends it. Output goes to stdout; not thread safe (a CLI
 * prints from one thread).
 */
#ifndef CDP_JSON_PRINT_H
#define CDP_JSON_PRINT_H

#include <stdbool.h>
#include <stdint.h>

enum output_type {
	PRINT_FP = 1,
	PRINT_JSON = 2,
	PRINT_ANY = 3,
};

void new_json_obj(int json);
void delete_json_obj(void);
bool is_json_context(void);

/* name is the key inside an enclosing object, NULL inside an array. */
void open_json_object(const char *name);
void close_json_object(void);
void open_json_array(enum output_type type, const char *name);
void close_json_array(enum output_type type, const char *delim);

/* Text mode newline; nothing in JSON mode. */
void print_nl(void);

void print_string(enum output_type t, const char *key, const char *fmt,
		  const char *value);
void print_uint(enum output_type t, const char *key, const char *fmt,
		unsigned int value);
void print_int(enum output_type t, const char *key, const char *fmt, int value);
void print_u64(enum output_type t, const char *key, const char *fmt,
	       uint64_t value);
void print_float(enum output_type t, const char *key, const char *fmt,
		 double value);
void print_bool(enum output_type t, const char *key, const char *fmt,
		bool value);
/* JSON null, or the fmt text (no argument) in text mode. */
void print_null(enum output_type t, const char *key, const char *fmt);

#endif
