// SPDX-License-Identifier: GPL-2.0
/* cmd_archive.c - `cdpctl archive ...` (work in progress) */
#include "cdpctl.h"

#include <stdio.h>
#include <string.h>

static int usage(void)
{
	fprintf(stderr, "Usage: cdpctl archive { create | restore | list | show | verify } ...\n");
	return CDP_EXIT_USAGE;
}

int do_archive(int argc, char **argv)
{
	if (argc < 1 || !strcmp(argv[0], "help"))
		return usage();
	fprintf(stderr, "Command \"%s\" is unknown, try \"cdpctl archive help\".\n", argv[0]);
	return CDP_EXIT_USAGE;
}
