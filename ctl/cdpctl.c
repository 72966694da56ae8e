// SPDX-License-Identifier: GPL-2.0
/*
 * cdpctl.c - the command line: global options, then OBJECT COMMAND [ARGS],
 * dispatched through cmds[]. Words are matched exactly (strcmp): prefix
 * matching makes the meaning of a word depend on table order.
 */
#include "cdpctl.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CDP_VERSION "0.1"

int json;
const char *catalog_opt;

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: cdpctl [ OPTIONS ] OBJECT { COMMAND | help }\n"
		"       cdpctl help\n"
		"where  OBJECT := { volume | snap | restore | catalog | archive | policy | schedule }\n"
		"       volume commands are also top-level: protect unprotect activate list status monitor verify\n"
		"       OPTIONS := { -j[son] | -c[atalog] PATH | -h[elp] | -V[ersion] }\n"
		"Exit codes: 0 ok, 1 failed, 2 usage error, 3 data check failed.\n"
		"See cdpctl(8).\n");
}

static int do_help(int argc, char **argv)
{
	usage(stdout);
	return CDP_EXIT_OK;
}

static const struct cmd {
	const char *name;
	int (*func)(int argc, char **argv);
} cmds[] = {
	{ "archive",	do_archive },
	{ "snap",	do_snap },
	{ "restore",	do_restore },
	{ "catalog",	do_catalog },
	{ "policy",	do_policy },
	{ "schedule",	do_schedule },
	{ "volume",	do_volume },
	{ "protect",	do_protect },
	{ "unprotect",	do_unprotect },
	{ "activate",	do_activate },
	{ "list",	do_list },
	{ "status",	do_status },
	{ "monitor",	do_monitor },
	{ "verify",	do_verify },
	{ "help",	do_help },
};

void incomplete_command(void)
{
	fprintf(stderr, "Command line is not complete. Try \"cdpctl help\".\n");
	exit(CDP_EXIT_USAGE);
}

void invarg(const char *msg, const char *arg)
{
	fprintf(stderr, "Error: argument \"%s\" is wrong: %s\n", arg, msg);
	exit(CDP_EXIT_USAGE);
}

void duparg(const char *key, const char *arg)
{
	fprintf(stderr, "Error: duplicate \"%s\": \"%s\" is the second value.\n",
		key, arg);
	exit(CDP_EXIT_USAGE);
}

int cdpctl_catalog_open(struct catalog **c)
{
	char err[4608];
	int ret = catalog_open(catalog_opt, c, err, sizeof(err));

	if (ret)
		fprintf(stderr, "Error: %s\n", err);
	return ret;
}

static int do_cmd(int argc, char **argv)
{
	size_t i;

	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(argv[0], cmds[i].name))
			return cmds[i].func(argc - 1, argv + 1);
	fprintf(stderr, "Object \"%s\" is unknown, try \"cdpctl help\".\n",
		argv[0]);
	return CDP_EXIT_USAGE;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json",	no_argument,		NULL, 'j' },
		{ "catalog",	required_argument,	NULL, 'c' },
		{ "help",	no_argument,		NULL, 'h' },
		{ "version",	no_argument,		NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int o;

	/* "+": stop at the first non-option, OBJECT words parse their own. */
	while ((o = getopt_long(argc, argv, "+jc:hV", opts, NULL)) != -1) {
		switch (o) {
		case 'j':
			json = 1;
			break;
		case 'c':
			catalog_opt = optarg;
			break;
		case 'h':
			usage(stdout);
			return CDP_EXIT_OK;
		case 'V':
			printf("cdpctl %s\n", CDP_VERSION);
			return CDP_EXIT_OK;
		default:
			usage(stderr);
			return CDP_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return CDP_EXIT_USAGE;
	}
	return do_cmd(argc - optind, argv + optind);
}
