// SPDX-License-Identifier: GPL-2.0
/*
 * cmd_catalog.c - `cdpctl catalog sync|push`: rebuild the local catalog
 * from the records kept in Ceph (a new host with only ceph.conf and a
 * keyring), or write the local records to Ceph again.
 */
#include "cdpctl.h"
#include "archive_ceph.h"
#include "ceph_catalog.h"
#include "json_print.h"

#include <stdio.h>
#include <string.h>

static int usage(void)
{
	fprintf(stderr,
		"Usage: cdpctl catalog sync     rebuild the local catalog from the records in Ceph\n"
		"       cdpctl catalog push     write the local snapshot records to Ceph\n"
		"The cluster is the one of $CEPH_CONF, else ceph_conf in /etc/cdp/cdp.conf.\n");
	return CDP_EXIT_USAGE;
}

static int run(int push)
{
	struct ceph_sync_stats st;
	unsigned int archives = 0, bad = 0;
	struct catalog *cat;
	char err[2048];
	int r;

	if (cdpctl_catalog_open(&cat))
		return CDP_EXIT_FAIL;
	r = push ? ceph_catalog_push(cat, &st, err, sizeof(err))
		 : ceph_catalog_sync(cat, &st, err, sizeof(err));
	/* then the archives (discs, chunks), which need the snapshot rows */
	if (!r && !push)
		r = archive_ceph_sync(cat, &archives, &bad, err, sizeof(err));
	if (r) {
		fprintf(stderr, "Error: %s\n", err[0] ? err : catalog_errmsg(cat));
		catalog_close(cat);
		return CDP_EXIT_FAIL;
	}
	new_json_obj(json);
	open_json_object(NULL);
	print_string(PRINT_ANY, "catalog", push ? "pushed from %s:" : "synced %s:", catalog_path(cat));
	if (!push) {
		print_uint(PRINT_ANY, "pools", " pools %u", st.pools);
		print_uint(PRINT_ANY, "volumes", " volumes %u", st.volumes);
	}
	print_uint(PRINT_ANY, "snapshots", " snapshots %u", st.snaps);
	if (!push) {
		print_uint(PRINT_ANY, "stale", " stale %u", st.stale);
		print_uint(PRINT_ANY, "archives", " archives %u", archives);
		if (bad)
			print_uint(PRINT_ANY, "unreadable", " unreadable %u", bad);
	}
	print_nl();
	close_json_object();
	delete_json_obj();
	catalog_close(cat);
	return CDP_EXIT_OK;
}

int do_catalog(int argc, char **argv)
{
	if (argc < 1 || !strcmp(argv[0], "help"))
		return usage();
	if (argc > 1) {
		fprintf(stderr, "Error: \"%s\" takes no arguments\n", argv[0]);
		return CDP_EXIT_USAGE;
	}
	if (!strcmp(argv[0], "sync"))
		return run(0);
	if (!strcmp(argv[0], "push"))
		return run(1);
	fprintf(stderr, "Command \"%s\" is unknown, try \"cdpctl catalog help\".\n", argv[0]);
	return CDP_EXIT_USAGE;
}
