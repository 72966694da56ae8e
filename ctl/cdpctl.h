/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cdpctl.h - what the object files ctl/cmd_<object>.c share with the
 * dispatcher in ctl/cdpctl.c. To add an object: write ctl/cmd_foo.c with
 * `int do_foo(int argc, char **argv)` (argv[0] is the first word after the
 * object), declare it here and add one line to cmds[] in cdpctl.c.
 */
#ifndef CDPCTL_H
#define CDPCTL_H

#include "catalog.h"
#include "config.h"

/* Exit codes (documented in cdpctl(8)). */
enum {
	CDP_EXIT_OK = 0,
	CDP_EXIT_FAIL = 1,	/* the operation failed: see the message */
	CDP_EXIT_USAGE = 2,	/* bad command line */
	CDP_EXIT_DATA = 3,	/* data check failed: bad, missing or foreign disc/chunk */
};

/* Global options, set by cdpctl.c before an object runs. */
extern int json;			/* -j/--json */
extern const char *catalog_opt;		/* -c/--catalog PATH, NULL = default */

int do_archive(int argc, char **argv);
int do_snap(int argc, char **argv);
int do_restore(int argc, char **argv);
int do_catalog(int argc, char **argv);
int do_policy(int argc, char **argv);
int do_schedule(int argc, char **argv);
int do_volume(int argc, char **argv);
/* the volume commands are also top-level words: cdpctl protect ... */
int do_protect(int argc, char **argv);
int do_unprotect(int argc, char **argv);
int do_activate(int argc, char **argv);
int do_list(int argc, char **argv);
int do_status(int argc, char **argv);
int do_monitor(int argc, char **argv);
int do_verify(int argc, char **argv);

/* cdp.conf, loaded on first use; exits with a message when it is bad. */
const struct cdp_config *cdpctl_config(void);

/* Argument helpers in the iproute2 manner; each exits with CDP_EXIT_USAGE. */
void incomplete_command(void) __attribute__((noreturn));
void invarg(const char *msg, const char *arg) __attribute__((noreturn));
void duparg(const char *key, const char *arg) __attribute__((noreturn));

#define NEXT_ARG() do { argv++; if (--argc <= 0) incomplete_command(); } while (0)

/* Open the catalog named by -c (or the default); prints why on failure. */
int cdpctl_catalog_open(struct catalog **c);

#endif
