/* SPDX-License-Identifier: GPL-2.0 */
/*
 * snap_record.h - the text form of volume and snapshot records kept in Ceph
 * omap values: "key=value key=value ...", values %-escaped (space, '%',
 * '=', control bytes) so any freeze text or path survives. Readers ignore
 * keys they do not know, so newer writers can add fields.
 */
#ifndef CDP_SNAP_RECORD_H
#define CDP_SNAP_RECORD_H

#include <stddef.h>
#include "snap_catalog.h"
#include "volume_catalog.h"

/* Append " key=<escaped value>" (no leading space when buf is empty). */
int rec_put(char *buf, size_t len, const char *key, const char *value);
/* Value of key from a record into out (unescaped); -ENOENT if absent. */
int rec_get(const char *rec, const char *key, char *out, size_t len);

/* Snapshot fields (not volume/pool/image: the record's object says those). */
int snap_record_encode(const struct snap_row *r, char *buf, size_t len);
int snap_record_decode(const char *rec, struct snap_row *r);

/* Volume: pool, image, mode, created. */
int volume_record_encode(const struct cat_volume *v, char *buf, size_t len);
int volume_record_decode(const char *rec, struct cat_volume *v);

#endif
