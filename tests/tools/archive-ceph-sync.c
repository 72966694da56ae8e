// SPDX-License-Identifier: GPL-2.0
/*
 * archive-ceph-sync CATALOG: import the archive records found in Ceph
 * ($CEPH_CONF) into CATALOG with archive_ceph_sync(); prints
 * "added N bad M". For tests until `cdpctl catalog sync` calls it.
 */
#include <stdio.h>

#include "archive_ceph.h"
#include "catalog.h"

int main(int argc, char **argv)
{
	struct catalog *cat;
	unsigned int added, bad;
	char err[4800];
	int ret;

	if (argc != 2) {
		fprintf(stderr, "usage: archive-ceph-sync CATALOG\n");
		return 2;
	}
	if (catalog_open(argv[1], &cat, err, sizeof(err))) {
		fprintf(stderr, "archive-ceph-sync: %s\n", err);
		return 1;
	}
	ret = archive_ceph_sync(cat, &added, &bad, err, sizeof(err));
	catalog_close(cat);
	if (ret) {
		fprintf(stderr, "archive-ceph-sync: %s\n", err);
		return 1;
	}
	printf("added %u bad %u\n", added, bad);
	return 0;
}
