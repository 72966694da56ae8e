// SPDX-License-Identifier: GPL-2.0
#include "cdpctl.h"
#include <stdio.h>
int do_restore(int argc, char **argv)
{
	fprintf(stderr, "restore: not yet\n");
	return CDP_EXIT_FAIL;
}
