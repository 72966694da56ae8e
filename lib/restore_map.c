// SPDX-License-Identifier: GPL-2.0
/*
 * restore_map.c - map a restored image on this host (restore.h). Mapping
 * has no library: rbd-nbd and `rbd device map` are the tools, and they read
 * the cluster from $CEPH_CONF / CEPH_ARGS like we do. krbd is first tried
 * without the tool (restore_krbd.c).
 */
#include "restore.h"
#include "snap_rbd.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Read the first block: the device answers, so mount will not hang on it. */
static int probe(const char *dev, char *err, size_t errlen)
{
	char buf[4096];
	int fd = open(dev, O_RDONLY | O_CLOEXEC), ok;

	if (fd < 0) {
		snprintf(err, errlen, "cannot open %s: %s", dev, strerror(errno));
		return -errno;
	}
	ok = pread(fd, buf, sizeof(buf), 0) == (ssize_t)sizeof(buf);
	close(fd);
	if (!ok) {
		snprintf(err, errlen, "%s does not answer reads", dev);
		return -EIO;
	}
	return 0;
}

int restore_map(enum restore_map_kind kind, const char *pool, const char *image,
		const struct restore_krbd *krbd,
		char *dev, size_t devlen, double timeout_s, char *err, size_t errlen)
{
	char spec[260], tool_err[1024];
	char *nbd[] = { "rbd-nbd", "map", spec, NULL };
	/*
	 * noudev: without udev krbd waits forever for the device node event.
	 * ms_mode: msgr2-only clusters need it; a v1-only one refuses it, so
	 * the legacy mode is tried second.
	 */
	char *krbd2[] = { "rbd", "device", "map", "-o", "noudev,ms_mode=prefer-crc", spec, NULL };
	char *krbd1[] = { "rbd", "device", "map", "-o", "noudev", spec, NULL };
	int r;

	if (kind == RESTORE_MAP_KRBD && krbd) {
		r = restore_krbd_map(krbd, pool, image, timeout_s, dev, devlen, err, errlen);
		if (r != -EAGAIN)
			return r ? r : probe(dev, err, errlen);
	}
	snap_rbd_env();
	snprintf(spec, sizeof(spec), "%s/%s", pool, image);
	r = restore_exec(kind == RESTORE_MAP_NBD ? nbd : krbd2, dev, devlen, timeout_s,
			 tool_err, sizeof(tool_err));
	if (r && kind == RESTORE_MAP_KRBD)
		r = restore_exec(krbd1, dev, devlen, timeout_s, tool_err, sizeof(tool_err));
	if (r || strncmp(dev, "/dev/", 5)) {
		const char *hint = "";

		if (r == 127)
			hint = kind == RESTORE_MAP_NBD ? " (install rbd-nbd)" : " (install ceph-common)";
		else if (strstr(tool_err, "nbd") && strstr(tool_err, "odule"))
			hint = " (load the nbd module: modprobe nbd)";
		else if (kind == RESTORE_MAP_KRBD && (strstr(tool_err, "feature") || strstr(tool_err, "unsupported")))
			hint = " (this kernel's rbd driver lacks an image feature: use --map nbd)";
		snprintf(err, errlen, "cannot map %s with %s: %s%s", spec,
			 kind == RESTORE_MAP_NBD ? "rbd-nbd" : "krbd",
			 tool_err[0] ? tool_err : dev[0] ? dev : "no device printed", hint);
		return r > 0 ? -EIO : (r ? r : -EIO);
	}
	return probe(dev, err, errlen);
}

int restore_unmap(enum restore_map_kind kind, const char *dev, char *err, size_t errlen)
{
	char out[256], tool_err[512];
	char *nbd[] = { "rbd-nbd", "unmap", (char *)dev, NULL };
	/* like map, unmap waits for a udev event unless told not to */
	char *krbd[] = { "rbd", "device", "unmap", "-o", "noudev", (char *)dev, NULL };
	int r = restore_exec(kind == RESTORE_MAP_NBD ? nbd : krbd, out, sizeof(out), 60,
			     tool_err, sizeof(tool_err));

	if (r)
		snprintf(err, errlen, "cannot unmap %s: %s", dev, tool_err);
	return r ? -EIO : 0;
}
