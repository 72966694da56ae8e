// SPDX-License-Identifier: GPL-2.0
/* archive_drive.c - see archive_drive.h */
#include "archive_drive.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <libburn/libburn.h>

/*
 * No libburn fifo (burn_fifo_source_new) between the ISO producer and the
 * drive: libisofs' burn_source is a ring buffer already (archive_iso.c sets
 * its size), read by libburn's writer thread under a mutex and condition
 * variables. A libburn fifo would add a copy of every byte, a thread that
 * polls in 50 ms sleeps, and a teardown race: its thread is detached, so
 * burn_source_free() cannot join it (pthread_join() on a detached thread
 * fails at once with EINVAL) and frees the fifo while the thread may still
 * sleep in its "wait for the consumer" loop; waking up, it reads and writes
 * the freed struct (and can free its buffer a second time), corrupting
 * whatever was allocated there meanwhile. The drive went idle inside that
 * window on 10 of 15 discs measured (small discs, 3 per archive).
 */
#define POLL_US		20000

/*
 * burn_disc_write() refuses "A drive operation is still going on" (libburn
 * error code 0x00020102) while its worker list still holds a write thread
 * for the drive struct: the next disc's drive reuses the previous one's
 * slot, and a pseudo-drive's write thread re-grabs it (setting it idle)
 * before it leaves the list, so a fast next disc can come within that
 * window (seen 6 times in 120 runs of 24 tiny discs on a loaded host). The
 * thread is gone a moment later: wait and try again a few times.
 */
#define BURN_ERR_BUSY	0x00020102
#define WRITE_TRIES	5
#define BUSY_WAIT_US	200000

struct archive_drive {
	struct burn_drive_info *info;
	struct burn_drive *drive;
	char addr[PATH_MAX + 8];
	char medium[80];
	int stdio;
};

const char *archive_drive_path(const char *addr)
{
	return strncmp(addr, "stdio:", 6) ? addr : addr + 6;
}

const char *archive_drive_answer(const char *dflt, char *buf, size_t len)
{
	fprintf(stderr, "(or type another drive address, or q to stop): ");
	if (!fgets(buf, (int)len, stdin))
		return NULL;
	buf[strcspn(buf, "\n")] = '\0';
	if (!strcmp(buf, "q"))
		return NULL;
	if (!buf[0])
		snprintf(buf, len, "%s", dflt);
	return buf;
}

/* Say precisely what is wrong with an address before libburn tries it. */
static int check_address(const char *addr, int *stdio, char *err, size_t errlen)
{
	const char *path = archive_drive_path(addr);
	char dir[PATH_MAX];
	struct stat st;

	*stdio = path != addr;
	if (!*stdio && strncmp(addr, "/dev/", 5)) {
		snprintf(err, errlen,
			 "drive \"%s\" is not a drive address: use /dev/srN for an optical drive or stdio:PATH for a pseudo-drive (file)",
			 addr);
		return -EINVAL;
	}
	if (!*path) {
		snprintf(err, errlen, "drive \"%s\": empty path", addr);
		return -EINVAL;
	}
	if (stat(path, &st) == 0) {
		if (S_ISDIR(st.st_mode)) {
			snprintf(err, errlen, "drive %s is a directory, not a file or device", addr);
			return -EISDIR;
		}
		return 0;
	}
	if (!*stdio) {
		snprintf(err, errlen, "drive %s not found: %s (is the drive connected? list drives with `xorriso -devices`)",
			 addr, strerror(errno));
		return -ENODEV;
	}
	snprintf(dir, sizeof(dir), "%s", path);
	if (stat(dirname(dir), &st) || !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen,
			 "drive %s not found: directory %s does not exist (a pseudo-drive is a file in an existing directory)",
			 addr, dir);
		return -ENODEV;
	}
	return 0;
}

int archive_drive_open(const char *addr, struct archive_drive **out,
		       char *err, size_t errlen)
{
	struct archive_drive *d;
	char libburn_adr[BURN_DRIVE_ADR_LEN];
	int ret, stdio;

	*out = NULL;
	ret = check_address(addr, &stdio, err, errlen);
	if (ret)
		return ret;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->stdio = stdio;
	snprintf(d->addr, sizeof(d->addr), "%s", addr);
	/* A real device path needs libburn's own address form. */
	if (!stdio && burn_drive_convert_fs_adr((char *)addr, libburn_adr) > 0)
		snprintf(d->addr, sizeof(d->addr), "%s", libburn_adr);
	if (burn_drive_scan_and_grab(&d->info, d->addr, 1) <= 0) {
		snprintf(err, errlen,
			 "cannot open drive %s (busy, not an optical drive, or no permission)",
			 addr);
		free(d);
		return -ENODEV;
	}
	d->drive = d->info[0].drive;
	if (stdio) {
		snprintf(d->medium, sizeof(d->medium), "stdio");
	} else {
		int pno;

		if (burn_disc_get_profile(d->drive, &pno, d->medium) <= 0 || !d->medium[0])
			snprintf(d->medium, sizeof(d->medium), "unknown");
	}
	*out = d;
	return 0;
}

const char *archive_drive_medium(const struct archive_drive *d)
{
	return d->medium;
}

static const char *status_name(enum burn_disc_status s)
{
	switch (s) {
	case BURN_DISC_BLANK: return "blank";
	case BURN_DISC_EMPTY: return "no medium";
	case BURN_DISC_APPENDABLE: return "appendable (already written)";
	case BURN_DISC_FULL: return "full (already written)";
	case BURN_DISC_UNSUITABLE: return "unsuitable medium";
	case BURN_DISC_UNREADY: return "not ready";
	default: return "unknown state";
	}
}

/*
 * libburn treats a stdio pseudo-drive as overwritable media and calls any
 * file "blank": it would write over an earlier archive. We emulate
 * write-once media instead: a pseudo-disc is blank only if its file is
 * absent or empty, or (block device) its first 64 KiB are zeros.
 */
static int stdio_blank(const char *path, char *why, size_t len)
{
	static const uint8_t zero[65536];
	uint8_t buf[sizeof(zero)];
	struct stat st;
	ssize_t n;
	int fd;

	if (stat(path, &st))
		return errno == ENOENT;
	if (S_ISREG(st.st_mode)) {
		snprintf(why, len, "a file of %lld bytes", (long long)st.st_size);
		return st.st_size == 0;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = pread(fd, buf, sizeof(buf), 0);
	close(fd);
	snprintf(why, len, "a device holding data");
	return n >= 0 && !memcmp(buf, zero, (size_t)n);
}

/* Rewritable optical media could silently lose an archive: BD-R it is. */
static int rewritable(const char *profile)
{
	return strstr(profile, "RW") || strstr(profile, "RE") || strstr(profile, "RAM");
}

uint64_t archive_drive_room(struct archive_drive *d)
{
	struct burn_write_opts *o;
	off_t room;

	if (d->stdio)
		return 0;
	o = burn_write_opts_new(d->drive);
	room = burn_disc_available_space(d->drive, o);
	burn_write_opts_free(o);
	return room > 0 ? (uint64_t)room : 0;
}

int archive_drive_check_blank(struct archive_drive *d, uint64_t need,
			      char *err, size_t errlen)
{
	char why[64] = "";

	enum burn_disc_status s;
	const char *addr = d->addr;

	while ((s = burn_disc_get_status(d->drive)) == BURN_DISC_UNREADY)
		usleep(100000);
	if (s == BURN_DISC_EMPTY) {
		snprintf(err, errlen, "drive %s has no medium: insert a blank BD-R", addr);
		return -ENOMEDIUM;
	}
	if (d->stdio && s == BURN_DISC_BLANK &&
	    !stdio_blank(archive_drive_path(addr), why, sizeof(why))) {
		snprintf(err, errlen,
			 "medium in %s is not blank: it is %s; remove or empty that file, or give another stdio: path",
			 archive_drive_path(addr), why);
		return -EEXIST;
	}
	if (!d->stdio && rewritable(d->medium)) {
		snprintf(err, errlen,
			 "medium in %s is %s, a rewritable disc: archives go to write-once media (BD-R)",
			 addr, d->medium);
		return -EMEDIUMTYPE;
	}
	if (s != BURN_DISC_BLANK) {
		snprintf(err, errlen, d->stdio ?
			 "medium in %s is not blank: it is %s; remove or empty that file, or give another stdio: path" :
			 "medium in %s is not blank: it is %s; archives need a blank BD-R (write-once media are never overwritten)",
			 archive_drive_path(addr), status_name(s));
		return -EEXIST;
	}
	if (!d->stdio) {
		uint64_t room = archive_drive_room(d);

		if (room && room < need) {
			char a[16], b[16];

			snprintf(err, errlen, "medium in %s holds %s, the plan needs %s per disc: use a smaller --capacity",
				 addr, cdp_fmt_size(room, a, sizeof(a)),
				 cdp_fmt_size(need, b, sizeof(b)));
			return -ENOSPC;
		}
	}
	return 0;
}

/* One data track in one closed session; *trackp stays valid while the
 * disc lives (it holds the track). */
static struct burn_disc *make_disc(struct burn_source *src,
				   struct burn_track **trackp)
{
	struct burn_disc *disc = burn_disc_create();
	struct burn_session *session = burn_session_create();
	struct burn_track *track = burn_track_create();

	burn_disc_add_session(disc, session, BURN_POS_END);
	burn_track_define_data(track, 0, 0, 1, BURN_MODE1);
	burn_track_set_source(track, src);
	burn_session_add_track(session, track, BURN_POS_END);
	*trackp = track;
	/* the session and disc hold references now */
	burn_track_free(track);
	burn_session_free(session);
	return disc;
}

static struct burn_write_opts *make_opts(struct burn_drive *drive,
					 struct burn_disc *disc, char *reasons)
{
	struct burn_write_opts *o = burn_write_opts_new(drive);

	burn_write_opts_set_perform_opc(o, 0);
	burn_write_opts_set_multi(o, 0);		/* close the disc */
	burn_write_opts_set_underrun_proof(o, 1);	/* burn-free */
	if (burn_write_opts_auto_write_type(o, disc, reasons, 0) == BURN_WRITE_NONE) {
		burn_write_opts_free(o);
		return NULL;
	}
	return o;
}

/*
 * Take libburn's queued messages (SORRY and worse, see archive_libs_init);
 * keep the text of the first one. Returns how many there were; *busy is
 * set when one was the "drive operation still going on" refusal.
 */
static int take_msgs(char *text, size_t len, int *busy)
{
	char msg[BURN_MSGS_MESSAGE_LEN], sev[80];
	int code, os_errno, n = 0;

	if (busy)
		*busy = 0;
	while (burn_msgs_obtain("SORRY", &code, msg, &os_errno, sev) == 1) {
		if (!n++ && text)
			snprintf(text, len, "%s : %.900s", sev, msg);
		if (busy && code == BURN_ERR_BUSY)
			*busy = 1;
	}
	return n;
}

/*
 * Start the write; retry while libburn refuses it because the drive slot
 * is still busy. A refusal leaves the drive idle and the source untouched.
 * A drive that is not idle took the write: its messages are for
 * check_written(), and the disc must not be freed before it is idle.
 */
static int start_write(struct archive_drive *d, struct burn_write_opts *o,
		       struct burn_disc *disc, char *err, size_t errlen)
{
	char msg[1024];
	int try, busy;

	for (try = 1; ; try++) {
		take_msgs(NULL, 0, NULL);	/* older messages are not ours */
		burn_disc_write(o, disc);
		if (burn_drive_get_status(d->drive, NULL) != BURN_DRIVE_IDLE)
			return 0;
		/* idle: refused, or (tiny disc) already done; no message
		 * leaves the verdict to check_written() */
		if (!take_msgs(msg, sizeof(msg), &busy))
			return 0;
		if (!busy || try == WRITE_TRIES)
			break;
		cdp_event("drive %s is still busy with the previous disc; trying again",
			  d->addr);
		usleep(BUSY_WAIT_US * (useconds_t)try);
	}
	snprintf(err, errlen, busy ?
		 "drive %s refused the write %d times: libburn says \"%s\" (is another program using the drive?); nothing was written" :
		 "drive %s did not write (%d attempt(s)): libburn says \"%s\"",
		 d->addr, try, msg);
	return busy ? -EBUSY : -EIO;
}

/*
 * Did the write really put size bytes on the medium? libburn's result is
 * not enough: a write that never started also "wrote well".
 */
static int check_written(struct archive_drive *d, struct burn_track *track,
			 uint64_t size, char *err, size_t errlen)
{
	char msg[1024];
	off_t read_bytes = 0, written = 0;
	struct stat st;

	if (!burn_drive_wrote_well(d->drive)) {
		snprintf(err, errlen, "writing to %s failed (see the libburn message above)",
			 archive_drive_path(d->addr));
		return -EIO;
	}
	if (take_msgs(msg, sizeof(msg), NULL)) {
		snprintf(err, errlen, "writing to %s failed: libburn says \"%s\"",
			 archive_drive_path(d->addr), msg);
		return -EIO;
	}
	/* the track counts what went to the drive; a pseudo-drive's file
	 * must hold it too */
	burn_track_get_counters(track, &read_bytes, &written);
	if (d->stdio && !stat(archive_drive_path(d->addr), &st) &&
	    S_ISREG(st.st_mode) && st.st_size < written)
		written = st.st_size;
	if (written < 0 || (uint64_t)written < size) {
		snprintf(err, errlen,
			 "writing to %s stopped after %lld of %llu bytes, with no error from libburn; the disc is incomplete",
			 archive_drive_path(d->addr), (long long)written,
			 (unsigned long long)size);
		return -EIO;
	}
	return 0;
}

int archive_drive_write(struct archive_drive *d, struct burn_source *src,
			uint64_t size, archive_tick_fn tick, void *arg,
			char *err, size_t errlen)
{
	struct burn_track *track;
	struct burn_disc *disc = make_disc(src, &track);
	struct burn_write_opts *o;
	struct burn_progress p;
	char reasons[BURN_REASONS_LEN];
	int ret = 0;

	o = make_opts(d->drive, disc, reasons);
	if (!o) {
		snprintf(err, errlen, "drive %s cannot write this medium: %s",
			 d->addr, reasons);
		ret = -EIO;
		goto out;
	}
	burn_drive_set_speed(d->drive, 0, 0);		/* fastest */
	ret = start_write(d, o, disc, err, errlen);
	burn_write_opts_free(o);
	if (ret)
		goto out;
	while (burn_drive_get_status(d->drive, NULL) == BURN_DRIVE_SPAWNING)
		usleep(1000);
	while (burn_drive_get_status(d->drive, &p) != BURN_DRIVE_IDLE) {
		if (tick && p.sectors > 0)
			tick(arg, (uint64_t)p.sector * 2048);
		usleep(POLL_US);
	}
	ret = check_written(d, track, size, err, errlen);
	if (tick && !ret)
		tick(arg, size);
out:
	/* drops the track's reference to src; libburn's writer thread set
	 * the drive idle as its last action on the disc */
	burn_disc_free(disc);
	return ret;
}

void archive_drive_close(struct archive_drive *d)
{
	if (!d)
		return;
	burn_drive_release(d->drive, 0);
	burn_drive_info_free(d->info);
	free(d);
}
