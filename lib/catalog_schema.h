/* SPDX-License-Identifier: GPL-2.0 */
/*
 * catalog_schema.h - the catalog's schema as a list of forward migrations.
 * Migration N (1-based) takes the database from version N-1 to N. Never edit
 * a released migration: append a new one.
 */
#ifndef CDP_CATALOG_SCHEMA_H
#define CDP_CATALOG_SCHEMA_H

extern const char *const catalog_migrations[];
extern const int catalog_schema_latest;

#endif
