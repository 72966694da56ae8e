// SPDX-License-Identifier: GPL-2.0
/*
 * cmd_config.c - cdp.conf for every cdpctl object, loaded once on first use
 * ($CDP_CONF or /etc/cdp/cdp.conf). Its state_dir becomes the catalog's
 * directory unless $CDP_STATE_DIR or -c says otherwise.
 */
#include <stdio.h>
#include <stdlib.h>

#include "cdpctl.h"

const struct cdp_config *cdpctl_config(void)
{
	static struct cdp_config cfg;
	static int loaded;
	char err[1024];

	if (loaded)
		return &cfg;
	if (cdp_config_load(NULL, &cfg, err, sizeof(err))) {
		fprintf(stderr, "Error: %s\n", err);
		exit(CDP_EXIT_FAIL);
	}
	setenv("CDP_STATE_DIR", cfg.state_dir, 0);
	loaded = 1;
	return &cfg;
}
