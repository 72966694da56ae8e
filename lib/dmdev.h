/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dmdev.h - the few device-mapper operations cdpctl needs, on libdevmapper:
 * create a one-target device, read its table/status, reload + suspend/resume
 * (how `protect --live` slides the cdp target under a mounted device), remove.
 * All return 0 or -errno; @err gets a sentence naming the device and the fix.
 */
#ifndef CDP_DMDEV_H
#define CDP_DMDEV_H

#include <stddef.h>
#include <stdint.h>

struct dm_line {
	uint64_t start, len;		/* sectors */
	char type[32];
	char params[1024];
};

/* Create /dev/mapper/@name with one table line; fails if it exists. */
int dmdev_create(const char *name, const struct dm_line *l, char *err, size_t errlen);
/*
 * Load @l as the inactive table and resume (which suspends, flushing I/O).
 * On failure the device is resumed on its old table, or on @fallback when
 * the kernel had swapped the tables already (NULL: none to go back to).
 */
int dmdev_reload(const char *name, const struct dm_line *l, const struct dm_line *fallback,
		 char *err, size_t errlen);
int dmdev_remove(const char *name, char *err, size_t errlen);
int dmdev_exists(const char *name);
/* The first (only) line of the live table. -EMLINK for a multi-line table. */
int dmdev_table(const char *name, struct dm_line *l, char *err, size_t errlen);
/* The first line of `dmsetup status`. */
int dmdev_status(const char *name, struct dm_line *l, char *err, size_t errlen);
/*
 * The device's event counter (dmsetup info "Event number"): a target raises
 * it with dm_table_event(), e.g. dm-clone when hydration completes.
 */
int dmdev_event_nr(const char *name, uint32_t *nr);
/* 1 when the kernel has the target type @name registered (dmsetup targets). */
int dmdev_has_target(const char *name);
/* "major:minor" of the device, for tables that reference it. */
int dmdev_devt(const char *name, char *buf, size_t len);
/* Name of the dm device behind a path like /dev/dm-3 or /dev/mapper/x or /dev/vg/lv. */
int dmdev_name_of(const char *path, char *name, size_t len);
/* Send a target message (dmsetup message NAME 0 MSG). */
int dmdev_message(const char *name, const char *msg, char *err, size_t errlen);

#endif
