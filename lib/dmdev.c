// SPDX-License-Identifier: GPL-2.0
/* dmdev.c - libdevmapper wrappers (see dmdev.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <libdevmapper.h>

#include "dmdev.h"

static struct dm_task *task(int type, const char *name)
{
	struct dm_task *t = dm_task_create(type);

	if (!t)
		return NULL;
	if (name && !dm_task_set_name(t, name)) {
		dm_task_destroy(t);
		return NULL;
	}
	return t;
}

/* Run @t; on failure explain with the kernel's errno (dm_task_get_errno). */
static int run(struct dm_task *t, const char *what, const char *name,
	       char *err, size_t errlen)
{
	int r = 0;

	if (!dm_task_run(t)) {
		int e = dm_task_get_errno(t);

		r = e ? -e : -EIO;
		snprintf(err, errlen, "%s %s failed: %s%s", what, name, strerror(-r),
			 r == -EINVAL ? " (the kernel log, dmesg, has the target's reason)" :
			 r == -EBUSY ? " (the device is open or in use)" : "");
	}
	dm_task_destroy(t);
	return r;
}

/*
 * Run an operation that creates, renames or removes a node: with udev the
 * cookie makes us wait for its rules; with DM_DISABLE_UDEV=1 (containers,
 * the test VM) libdevmapper makes the /dev/mapper node itself.
 */
static int run_node(struct dm_task *t, const char *what, const char *name,
		    char *err, size_t errlen)
{
	uint32_t cookie = 0;
	int r;

	if (!dm_task_set_cookie(t, &cookie, 0)) {
		dm_task_destroy(t);
		snprintf(err, errlen, "%s %s: cannot set a udev cookie", what, name);
		return -EIO;
	}
	r = run(t, what, name, err, errlen);
	dm_udev_wait(cookie);
	return r;
}

static int add_line(struct dm_task *t, const struct dm_line *l)
{
	return dm_task_add_target(t, l->start, l->len, l->type, l->params) ? 0 : -ENOMEM;
}

int dmdev_create(const char *name, const struct dm_line *l, char *err, size_t errlen)
{
	struct dm_task *t = task(DM_DEVICE_CREATE, name);

	if (!t || add_line(t, l)) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	return run_node(t, "creating dm device", name, err, errlen);
}

static int dev_info(const char *name, struct dm_info *info);

static int load(const char *name, const struct dm_line *l, char *err, size_t errlen)
{
	struct dm_task *t = task(DM_DEVICE_RELOAD, name);

	if (!t || add_line(t, l)) {
		if (t)
			dm_task_destroy(t);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	return run(t, "loading the new table of", name, err, errlen);
}

static int simple(int type, const char *what, const char *name)
{
	struct dm_task *t = task(type, name);
	char e[256];

	if (!t)
		return -ENOMEM;
	return type == DM_DEVICE_RESUME ? run_node(t, what, name, e, sizeof(e)) :
		run(t, what, name, e, sizeof(e));
}

/*
 * The resume suspends the device itself (flushing, file systems frozen) when
 * a new table is loaded, then swaps the tables. When it fails, find out
 * which side of the swap the kernel stopped on: before it, drop the loaded
 * table (a later plain 'dmsetup resume' would swap it in); after it (the new
 * table's resume failed, the device is suspended, the old table gone), load
 * @fallback. Either way the device is resumed: never left frozen.
 */
int dmdev_reload(const char *name, const struct dm_line *l, const struct dm_line *fallback,
		 char *err, size_t errlen)
{
	const char *how = "";
	struct dm_info info;
	struct dm_task *t;
	char first[512], e2[256];
	int r;

	r = load(name, l, err, errlen);
	if (r)
		return r;
	t = task(DM_DEVICE_RESUME, name);
	if (!t)
		return -ENOMEM;
	r = run_node(t, "switching to the new table:", name, first, sizeof(first));
	if (!r)
		return 0;
	if (!dev_info(name, &info) && info.inactive_table) {
		simple(DM_DEVICE_CLEAR, "dropping the loaded table of", name);
		how = "; it stays on its table";
	} else if (fallback && !load(name, fallback, e2, sizeof(e2))) {
		how = "; its previous table is back";
	} else {
		how = fallback ? "; its previous table could not be loaded again" : "";
	}
	if (simple(DM_DEVICE_RESUME, "resuming", name) && !dev_info(name, &info) &&
	    info.suspended)
		how = "; IT IS LEFT SUSPENDED: check 'dmsetup table', then 'dmsetup resume'";
	snprintf(err, errlen, "%s%s", first, how);
	return r;
}

int dmdev_remove(const char *name, char *err, size_t errlen)
{
	struct dm_task *t = task(DM_DEVICE_REMOVE, name);

	if (!t)
		return -ENOMEM;
	dm_task_retry_remove(t);
	return run_node(t, "removing", name, err, errlen);
}

int dmdev_exists(const char *name)
{
	struct dm_task *t = task(DM_DEVICE_INFO, name);
	struct dm_info info;
	int r = 0;

	if (!t)
		return 0;
	if (dm_task_run(t) && dm_task_get_info(t, &info))
		r = info.exists;
	dm_task_destroy(t);
	return r;
}

static int first_line(int type, const char *name, struct dm_line *l, char *err,
		      size_t errlen)
{
	struct dm_task *t = task(type, name);
	char *ttype = NULL, *params = NULL;
	uint64_t start, len;
	void *next;
	int r = 0;

	if (!t)
		return -ENOMEM;
	if (!dm_task_run(t)) {
		snprintf(err, errlen, "dm device %s not found (see dmsetup ls)", name);
		dm_task_destroy(t);
		return -ENODEV;
	}
	next = dm_get_next_target(t, NULL, &start, &len, &ttype, &params);
	if (!ttype) {
		snprintf(err, errlen, "dm device %s has no table loaded", name);
		r = -ENODATA;
	} else if (next && type == DM_DEVICE_TABLE) {
		snprintf(err, errlen, "dm device %s has a table of several lines: only single-target devices can be protected live",
			 name);
		r = -EMLINK;
	} else {
		memset(l, 0, sizeof(*l));
		l->start = start;
		l->len = len;
		snprintf(l->type, sizeof(l->type), "%s", ttype);
		snprintf(l->params, sizeof(l->params), "%s", params ? params : "");
	}
	dm_task_destroy(t);
	return r;
}

int dmdev_table(const char *name, struct dm_line *l, char *err, size_t errlen)
{
	return first_line(DM_DEVICE_TABLE, name, l, err, errlen);
}

int dmdev_status(const char *name, struct dm_line *l, char *err, size_t errlen)
{
	return first_line(DM_DEVICE_STATUS, name, l, err, errlen);
}

int dmdev_has_target(const char *name)
{
	struct dm_task *t = dm_task_create(DM_DEVICE_LIST_VERSIONS);
	struct dm_versions *v, *last;
	int found = 0;

	if (!t)
		return 0;
	if (dm_task_run(t) && (v = dm_task_get_versions(t))) {
		do {
			last = v;
			found |= !strcmp(v->name, name);
			v = (struct dm_versions *)((char *)v + v->next);
		} while (last != v);
	}
	dm_task_destroy(t);
	return found;
}

/* DM_DEVICE_INFO of an existing device: 0, -ENODEV or -ENOMEM. */
static int dev_info(const char *name, struct dm_info *info)
{
	struct dm_task *t = task(DM_DEVICE_INFO, name);
	int r = -ENODEV;

	if (!t)
		return -ENOMEM;
	if (dm_task_run(t) && dm_task_get_info(t, info) && info->exists)
		r = 0;
	dm_task_destroy(t);
	return r;
}

int dmdev_event_nr(const char *name, uint32_t *nr)
{
	struct dm_info info;
	int r = dev_info(name, &info);

	if (!r)
		*nr = info.event_nr;
	return r;
}

int dmdev_devt(const char *name, char *buf, size_t len)
{
	struct dm_info info;
	int r = dev_info(name, &info);

	if (!r)
		snprintf(buf, len, "%u:%u", info.major, info.minor);
	return r;
}

int dmdev_name_of(const char *path, char *name, size_t len)
{
	char sys[128];
	struct stat st;
	FILE *f;
	int r = -ENODEV;

	if (stat(path, &st) || !S_ISBLK(st.st_mode))
		return -ENOTBLK;
	snprintf(sys, sizeof(sys), "/sys/dev/block/%u:%u/dm/name", major(st.st_rdev),
		 minor(st.st_rdev));
	f = fopen(sys, "re");
	if (!f)
		return -ENODEV;
	if (fgets(name, len, f)) {
		name[strcspn(name, "\n")] = '\0';
		r = 0;
	}
	fclose(f);
	return r;
}

int dmdev_message(const char *name, const char *msg, char *err, size_t errlen)
{
	struct dm_task *t = task(DM_DEVICE_TARGET_MSG, name);

	if (!t || !dm_task_set_sector(t, 0) || !dm_task_set_message(t, msg)) {
		if (t)
			dm_task_destroy(t);
		return -ENOMEM;
	}
	return run(t, "sending a message to", name, err, errlen);
}
