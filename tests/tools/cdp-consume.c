// SPDX-License-Identifier: GPL-2.0
/*
 * cdp-consume - test consumer of a dm-cdp volume.
 *
 *   cdp-consume [options] VOLUME REPLICA    drain VOLUME into REPLICA
 *   cdp-consume --list                      print every volume's state
 *   cdp-consume --mark VOLUME               insert a MARK, print its seq
 *   cdp-consume --monitor                   print events ("VOLUME EVENT SEQ")
 *
 * Attaches, fetches records after the acked seq and applies them strictly
 * in seq order to REPLICA (a file or block device): pwrite for WRITE,
 * punch/zero-out for DISCARD and WRITE_ZEROES, fdatasync + ACK at FLUSH
 * and MARK markers (and when idle or every --ack-bytes). Any record out of
 * order is an error (exit 3).
 *
 * A block-device replica is written with O_DIRECT through Linux AIO
 * (io_submit, --qd writes in flight): no page-cache copy, no writeback
 * kworker. Writes in flight never overlap (a record overlapping one in
 * flight waits for all of them), DISCARD/WRITE_ZEROES and every sync point
 * wait for all of them, and fdatasync (a cache flush) comes after that: the
 * replica's content at a FLUSH marker and what is acked are exactly what
 * in-order pwrite gives.
 *
 * Signals: SIGTERM/SIGINT stop after the current batch (ack, detach);
 * SIGUSR1 asks to exit once the volume is fully in sync (state
 * replicating, nothing queued, nothing to resync, everything acked).
 * Options:
 *   --max-bytes N     FETCH budget per request (default kernel's)
 *   --ack-bytes N     also fdatasync + ACK after this much data (4 MiB)
 *   --exit-synced     exit as soon as in sync (as after SIGUSR1)
 *   --no-ack          never ACK (a consumer that falls behind)
 *   --max-records N   exit(9) without acking after N records (crash drill)
 *   --delay-ack-ms N  wait N ms before every ACK (a slow replica)
 *   --batch-ms N      when idle, sync + ACK at most every N ms and let
 *                     records gather N ms before fetching (less CPU per
 *                     record, more lag; FLUSH markers still sync at once)
 *   --log FILE        append "seq op sector len flags" per applied record
 *   --qd N            O_DIRECT writes in flight (block devices; default 32)
 *   --buffered        plain pwrite through the page cache, also for devices
 *   --discard-data    profiling only: ack WRITE records without writing them
 *                     (the replica is then NOT a copy)
 *   --check-prefix SECTOR:N
 *                     at every FLUSH marker check that the N 4 KiB blocks at
 *                     SECTOR of the replica hold a gap-free prefix of blocks
 *                     written by a sequential writer ("CDPBLK01" + LE64 index,
 *                     see tests/kernel/guest/seqwriter.py); exit 4 if not.
 *                     Also just before the first record of a resync phase
 *                     (flagged RESYNC or UNORDERED: where cdpd takes its
 *                     pre-resync snapshot), and not at FLUSH markers inside
 *                     one (the replica is not consistent until it ends).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/aio_abi.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include "nl.h"

#define AIO_QD_MAX 256

/* One O_DIRECT write in flight (or waiting for io_submit). */
struct aio_slot {
	struct iocb cb;
	uint64_t start, end;		/* byte range on the replica */
	void *buf;			/* page-aligned staging copy */
	size_t cap;
	int busy;
};

struct consumer {
	const char *volume;
	int fd;				/* O_DIRECT when direct */
	int bfd;			/* buffered: zero-out fallback, prefix reads */
	int is_blk;
	int direct;
	int discard_data;
	aio_context_t aio;
	unsigned int qd, inflight, npending;
	struct aio_slot slots[AIO_QD_MAX];
	struct iocb *pending[AIO_QD_MAX];
	struct cdp_nl *nl;		/* attach/fetch/ack */
	struct cdp_nl *ev;		/* events (NOTIFY wakes us) */
	FILE *log;
	uint64_t applied_seq;		/* last record applied */
	uint64_t synced_seq;		/* last record made durable */
	uint64_t acked_seq;
	uint64_t unsynced_bytes;	/* applied since the last fdatasync */
	uint64_t ack_bytes;
	uint32_t max_bytes;
	uint64_t max_records;
	int no_ack;
	unsigned int delay_ack_ms;
	unsigned int batch_ms;
	struct timespec last_sync;
	uint64_t prefix_sector, prefix_blocks;
	uint64_t prefix_len, n_prefix;	/* longest prefix seen, checks done */
	int in_resync;			/* in a run of RESYNC/UNORDERED records */
	uint64_t n_resync_points;	/* resync phases entered (prefix checked) */
	/* counters */
	uint64_t n_rec, n_write, n_discard, n_zero, n_flush, n_mark, n_resync;
	uint64_t bytes, n_ack;
};

static volatile sig_atomic_t stop_now, stop_synced;

/*----------------------------------------------------------------
 * O_DIRECT writes through Linux AIO
 *--------------------------------------------------------------*/
static void aio_fail(const char *what, int err)
{
	fprintf(stderr, "cdp-consume: replica %s: %s\n", what, strerror(err));
	exit(2);
}

static void aio_submit_pending(struct consumer *c)
{
	unsigned int done = 0;

	while (done < c->npending) {
		long r = syscall(__NR_io_submit, c->aio, (long)(c->npending - done),
				 c->pending + done);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			aio_fail("io_submit", r < 0 ? errno : EIO);
		done += r;
	}
	c->npending = 0;
}

/* Reap at least @min completions. */
static void aio_reap(struct consumer *c, unsigned int min)
{
	struct io_event ev[AIO_QD_MAX];

	while (min) {
		long i, n = syscall(__NR_io_getevents, c->aio, (long)min, (long)c->qd, ev, NULL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			aio_fail("io_getevents", n < 0 ? errno : EIO);
		for (i = 0; i < n; i++) {
			struct aio_slot *s = &c->slots[ev[i].data];

			if (ev[i].res != (__s64)s->cb.aio_nbytes)
				aio_fail("write", ev[i].res < 0 ? (int)-ev[i].res : EIO);
			s->busy = 0;
			c->inflight--;
		}
		min = (unsigned int)n >= min ? 0 : min - (unsigned int)n;
	}
}

/* Every write applied so far has completed. */
static void aio_wait_all(struct consumer *c)
{
	if (!c->direct)
		return;
	aio_submit_pending(c);
	if (c->inflight)
		aio_reap(c, c->inflight);
}

static int aio_overlaps(struct consumer *c, uint64_t start, uint64_t end)
{
	unsigned int i;

	for (i = 0; i < c->qd; i++)
		if (c->slots[i].busy && c->slots[i].start < end && start < c->slots[i].end)
			return 1;
	return 0;
}

static void aio_write(struct consumer *c, const void *data, uint32_t len, uint64_t off)
{
	struct aio_slot *s = NULL;
	unsigned int i;

	if (aio_overlaps(c, off, off + len))
		aio_wait_all(c);	/* the later write must land last */
	if (c->inflight == c->qd) {
		aio_submit_pending(c);
		aio_reap(c, 1);
	}
	for (i = 0; i < c->qd && !s; i++)
		if (!c->slots[i].busy)
			s = &c->slots[i];
	if (s->cap < len) {
		free(s->buf);
		s->cap = (len + 4095) & ~(size_t)4095;
		if (posix_memalign(&s->buf, 4096, s->cap))
			aio_fail("buffer", ENOMEM);
	}
	memcpy(s->buf, data, len);
	memset(&s->cb, 0, sizeof(s->cb));
	s->cb.aio_data = (__u64)(s - c->slots);
	s->cb.aio_lio_opcode = IOCB_CMD_PWRITE;
	s->cb.aio_fildes = (__u32)c->fd;
	s->cb.aio_buf = (__u64)(uintptr_t)s->buf;
	s->cb.aio_nbytes = len;
	s->cb.aio_offset = (__s64)off;
	s->start = off;
	s->end = off + len;
	s->busy = 1;
	c->inflight++;
	c->pending[c->npending++] = &s->cb;
	if (c->npending >= c->qd / 2)
		aio_submit_pending(c);
}

/* O_DIRECT + AIO for block devices; 0 if the replica stays buffered. */
static int aio_open(struct consumer *c, const char *path)
{
	int fd;

	if (!c->is_blk || !c->qd)
		return 0;
	fd = open(path, O_RDWR | O_DIRECT);
	if (fd < 0)
		return 0;
	if (syscall(__NR_io_setup, (long)c->qd, &c->aio)) {
		close(fd);
		return 0;
	}
	c->fd = fd;
	c->direct = 1;
	return 1;
}

static void on_term(int sig)
{
	(void)sig;
	stop_now = 1;
}

static void on_usr1(int sig)
{
	(void)sig;
	stop_synced = 1;
}

static int zero_range(struct consumer *c, uint64_t off, uint64_t len, int punch)
{
	static char zeros[1 << 16];
	uint64_t range[2] = { off, len };

	aio_wait_all(c);	/* in order after every write before it */
	if (c->is_blk) {
		if (!ioctl(c->fd, BLKZEROOUT, range))
			return 0;
	} else {
		int mode = punch ? FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE :
				   FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE;

		if (!fallocate(c->fd, mode, (off_t)off, (off_t)len))
			return 0;
	}
	/* No zero-out support: write zeroes. */
	while (len) {
		size_t n = len < sizeof(zeros) ? len : sizeof(zeros);
		ssize_t w = pwrite(c->bfd, zeros, n, (off_t)off);

		if (w <= 0)
			return -errno;
		off += w;
		len -= w;
	}
	return 0;
}

static int write_all(int fd, const void *p, size_t len, off_t off)
{
	while (len) {
		ssize_t w = pwrite(fd, p, len, off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -errno;
		p = (const char *)p + w;
		len -= w;
		off += w;
	}
	return 0;
}

/*
 * Make everything applied durable. The ACK itself is sent by flush_ack()
 * after the FETCH dump ends: no request may interleave with a dump on the
 * same socket.
 */
static int sync_applied(struct consumer *c)
{
	if (c->applied_seq <= c->synced_seq)
		return 0;
	aio_wait_all(c);
	if (fdatasync(c->fd)) {
		fprintf(stderr, "cdp-consume: fdatasync: %s\n", strerror(errno));
		return -errno;
	}
	c->unsynced_bytes = 0;
	c->synced_seq = c->applied_seq;
	clock_gettime(CLOCK_MONOTONIC, &c->last_sync);
	return 0;
}

static long ms_since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - t->tv_sec) * 1000 + (now.tv_nsec - t->tv_nsec) / 1000000;
}

static int flush_ack(struct consumer *c)
{
	int r;

	if (c->no_ack || c->synced_seq <= c->acked_seq)
		return 0;
	if (c->delay_ack_ms)
		usleep(c->delay_ack_ms * 1000);
	r = cdp_nl_ack(c->nl, c->volume, c->synced_seq);
	if (r) {
		fprintf(stderr, "cdp-consume: ack %" PRIu64 ": %s\n", c->synced_seq,
			cdp_nl_error(c->nl));
		return r;
	}
	c->acked_seq = c->synced_seq;
	c->n_ack++;
	return 0;
}

static int sync_and_ack(struct consumer *c)
{
	return sync_applied(c) ?: flush_ack(c);
}

/*
 * At a consistency point the writer's blocks on the replica must form a
 * prefix 0..k-1 with nothing after it, and k must never shrink.
 */
static void check_prefix(struct consumer *c, uint64_t seq)
{
	static const char magic[8] = "CDPBLK01";
	unsigned char blk[4096];
	uint64_t i, k = c->prefix_blocks, idx;

	for (i = 0; i < c->prefix_blocks; i++) {
		off_t off = (off_t)(c->prefix_sector * 512 + i * 4096);
		int valid;

		if (pread(c->bfd, blk, sizeof(blk), off) != (ssize_t)sizeof(blk)) {
			fprintf(stderr, "cdp-consume: prefix check read: %s\n", strerror(errno));
			exit(4);
		}
		memcpy(&idx, blk + 8, sizeof(idx));
		valid = !memcmp(blk, magic, 8) && idx == i;
		if (!valid && k == c->prefix_blocks) {
			k = i;
		} else if (valid && k < c->prefix_blocks) {
			fprintf(stderr, "cdp-consume: FLUSH seq %" PRIu64 ": block %" PRIu64
				" present after gap at %" PRIu64 ": not prefix-consistent\n",
				seq, i, k);
			exit(4);
		}
	}
	if (k < c->prefix_len) {
		fprintf(stderr, "cdp-consume: FLUSH seq %" PRIu64 ": prefix shrank %" PRIu64
			" -> %" PRIu64 "\n", seq, c->prefix_len, k);
		exit(4);
	}
	c->prefix_len = k;
	c->n_prefix++;
}

/*
 * A run of RESYNC/UNORDERED records is a resync phase: before its first
 * record everything applied is a consistent point (cdpd snapshots there),
 * so the prefix is checked; inside it, FLUSH markers are not checked; the
 * first plain record after it means the kernel replicates again.
 */
static void resync_phase(struct consumer *c, const struct cdp_record *rec)
{
	int unordered = !!(rec->flags & (CDP_REC_F_RESYNC | CDP_REC_F_UNORDERED));

	if (unordered && !c->in_resync) {
		c->n_resync_points++;
		if (c->prefix_blocks) {
			aio_wait_all(c);
			check_prefix(c, rec->seq - 1);
		}
	}
	c->in_resync = unordered;
}

static int apply(const struct cdp_record *rec, void *arg)
{
	struct consumer *c = arg;
	uint64_t off = rec->sector * 512;
	int r = 0;

	if (rec->seq <= c->applied_seq) {
		fprintf(stderr, "cdp-consume: record seq %" PRIu64 " after %" PRIu64 ": out of order\n",
			rec->seq, c->applied_seq);
		exit(3);
	}
	resync_phase(c, rec);
	switch (rec->op) {
	case CDP_OP_WRITE:
		if (c->direct && !c->discard_data)
			aio_write(c, rec->data, rec->len, off);
		else if (!c->discard_data)
			r = write_all(c->fd, rec->data, rec->len, (off_t)off);
		c->n_write++;
		c->bytes += rec->len;
		c->unsynced_bytes += rec->len;
		break;
	case CDP_OP_DISCARD:
		r = zero_range(c, off, rec->len, 1);
		c->n_discard++;
		break;
	case CDP_OP_WRITE_ZEROES:
		r = zero_range(c, off, rec->len, 0);
		c->n_zero++;
		break;
	case CDP_OP_FLUSH:
	case CDP_OP_MARK:
		break;
	default:
		fprintf(stderr, "cdp-consume: unknown record op %u (seq %" PRIu64 ")\n",
			rec->op, rec->seq);
		exit(3);
	}
	if (r) {
		fprintf(stderr, "cdp-consume: applying seq %" PRIu64 " (%s at sector %" PRIu64 "): %s\n",
			rec->seq, cdp_op_name(rec->op), rec->sector, strerror(-r));
		exit(2);
	}
	if (rec->flags & CDP_REC_F_RESYNC)
		c->n_resync++;
	if (c->log)
		fprintf(c->log, "%" PRIu64 " %s %" PRIu64 " %u %u\n", rec->seq,
			cdp_op_name(rec->op), rec->sector, rec->len, rec->flags);
	c->applied_seq = rec->seq;
	c->n_rec++;
	if (c->max_records && c->n_rec >= c->max_records) {
		/* Crash drill: leave without acking or detaching. */
		if (c->log)
			fflush(c->log);
		fprintf(stderr, "cdp-consume: --max-records reached, exiting without ack\n");
		_exit(9);
	}
	if (rec->op == CDP_OP_FLUSH || rec->op == CDP_OP_MARK) {
		rec->op == CDP_OP_FLUSH ? c->n_flush++ : c->n_mark++;
		if (c->prefix_blocks && !c->in_resync) {
			aio_wait_all(c);
			check_prefix(c, rec->seq);
		}
		return sync_applied(c);
	}
	if (c->unsynced_bytes >= c->ack_bytes)
		return sync_applied(c);
	return 0;
}

static int in_sync(struct consumer *c)
{
	struct cdp_volinfo vi;

	if (cdp_nl_attach(c->nl, c->volume, &vi))	/* re-attach = status */
		return 0;
	return vi.state == CDP_STATE_REPLICATING || vi.state == CDP_STATE_DEGRADED ?
		!vi.queued_records && !vi.resync_left && vi.last_seq == c->acked_seq : 0;
}

static int attach(struct consumer *c)
{
	struct cdp_volinfo vi;
	int r;

	r = cdp_nl_attach(c->nl, c->volume, &vi);
	if (r) {
		fprintf(stderr, "cdp-consume: attach %s: %s\n", c->volume, cdp_nl_error(c->nl));
		return r;
	}
	/* Everything after the acked seq is (re)delivered. */
	c->applied_seq = c->synced_seq = c->acked_seq = vi.acked_seq;
	fprintf(stderr, "cdp-consume: attached %s state %s acked %" PRIu64 " last %" PRIu64 "\n",
		c->volume, cdp_state_name(vi.state), vi.acked_seq, vi.last_seq);
	return 0;
}

static int run(struct consumer *c, int exit_synced)
{
	int r;

	if (attach(c))
		return 1;
	while (!stop_now) {
		size_t n = 0;

		r = cdp_nl_fetch(c->nl, c->volume, c->applied_seq, c->max_bytes,
				 apply, c, &n);
		if (c->direct)
			aio_submit_pending(c);
		if (r == -ENOTCONN) {
			/* A table reload made a new target instance: attach to it. */
			if (sync_applied(c) || attach(c))
				return 1;
			continue;
		}
		if (r) {
			fprintf(stderr, "cdp-consume: fetch: %s\n", cdp_nl_error(c->nl));
			return 1;
		}
		if (flush_ack(c))
			return 1;
		if (n)
			continue;
		/* Idle: make the applied records durable and ack them. */
		if ((!c->batch_ms || ms_since(&c->last_sync) >= c->batch_ms) &&
		    sync_and_ack(c))
			return 1;
		if ((exit_synced || stop_synced) && in_sync(c))
			break;
		{
			struct cdp_nl_event ev;

			r = cdp_nl_event_wait(c->ev, c->batch_ms ? (int)c->batch_ms : 200, &ev);
			if (r && r != -ETIMEDOUT && r != -EINTR) {
				fprintf(stderr, "cdp-consume: %s\n", cdp_nl_error(c->ev));
				return 1;
			}
			if (!r && c->batch_ms)
				usleep(c->batch_ms * 1000);
		}
	}
	if (sync_and_ack(c))
		return 1;
	cdp_nl_detach(c->nl, c->volume);
	return 0;
}

static int print_vol(const struct cdp_volinfo *vi, void *arg)
{
	(void)arg;
	printf("%s mode %s state %s queued %" PRIu64 "/%" PRIu64 "B last %" PRIu64
	       " acked %" PRIu64 " dirty %" PRIu64 "/%" PRIu64 " resync_left %" PRIu64
	       " resynced %" PRIu64 " consumer %u generation %" PRIu64 "\n",
	       vi->volume, vi->mode ? "sync" : "async", cdp_state_name(vi->state),
	       vi->queued_records, vi->queued_bytes, vi->last_seq, vi->acked_seq,
	       vi->dirty, vi->regions, vi->resync_left, vi->resynced, vi->consumer,
	       vi->generation);
	return 0;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: cdp-consume [--max-bytes N] [--ack-bytes N] [--exit-synced] [--no-ack]\n"
		"                   [--max-records N] [--log FILE] [--check-prefix SECTOR:N]\n"
		"                   [--batch-ms N] [--qd N] [--buffered] [--discard-data]\n"
		"                   VOLUME REPLICA\n"
		"       cdp-consume --list\n"
		"       cdp-consume --mark VOLUME\n"
		"       cdp-consume --monitor\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "max-bytes", required_argument, NULL, 'b' },
		{ "ack-bytes", required_argument, NULL, 'a' },
		{ "exit-synced", no_argument, NULL, 'e' },
		{ "no-ack", no_argument, NULL, 'n' },
		{ "max-records", required_argument, NULL, 'r' },
		{ "log", required_argument, NULL, 'l' },
		{ "check-prefix", required_argument, NULL, 'p' },
		{ "delay-ack-ms", required_argument, NULL, 'd' },
		{ "batch-ms", required_argument, NULL, 'B' },
		{ "qd", required_argument, NULL, 'q' },
		{ "buffered", no_argument, NULL, 'u' },
		{ "discard-data", no_argument, NULL, 'D' },
		{ "list", no_argument, NULL, 'L' },
		{ "mark", no_argument, NULL, 'M' },
		{ "monitor", no_argument, NULL, 'E' },
		{ NULL, 0, NULL, 0 },
	};
	struct consumer c = { .fd = -1, .bfd = -1, .ack_bytes = 4 << 20, .qd = 32 };
	int o, exit_synced = 0, list = 0, mark = 0, monitor = 0, r;
	struct sigaction sa = { .sa_handler = on_term };
	struct stat st;

	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'b': c.max_bytes = strtoul(optarg, NULL, 0); break;
		case 'a': c.ack_bytes = strtoull(optarg, NULL, 0); break;
		case 'e': exit_synced = 1; break;
		case 'n': c.no_ack = 1; break;
		case 'r': c.max_records = strtoull(optarg, NULL, 0); break;
		case 'l':
			c.log = fopen(optarg, "a");
			if (!c.log) {
				perror(optarg);
				return 2;
			}
			setvbuf(c.log, NULL, _IOLBF, 0);
			break;
		case 'p':
			if (sscanf(optarg, "%" SCNu64 ":%" SCNu64, &c.prefix_sector,
				   &c.prefix_blocks) != 2)
				usage();
			break;
		case 'B': c.batch_ms = strtoul(optarg, NULL, 0); break;
		case 'q':
			c.qd = strtoul(optarg, NULL, 0);
			if (c.qd < 1 || c.qd > AIO_QD_MAX)
				usage();
			break;
		case 'u': c.qd = 0; break;
		case 'D': c.discard_data = 1; break;
		case 'd': c.delay_ack_ms = strtoul(optarg, NULL, 0); break;
		case 'L': list = 1; break;
		case 'M': mark = 1; break;
		case 'E': monitor = 1; break;
		default: usage();
		}
	}
	r = cdp_nl_open(&c.nl);
	if (r) {
		fprintf(stderr, "cdp-consume: %s\n", cdp_nl_open_error(r));
		return 1;
	}
	if (list) {
		r = cdp_nl_list(c.nl, print_vol, NULL);
		if (r)
			fprintf(stderr, "cdp-consume: list: %s\n", cdp_nl_error(c.nl));
		return r ? 1 : 0;
	}
	if (monitor) {
		struct cdp_nl_event ev;

		r = cdp_nl_subscribe(c.nl);
		if (r) {
			fprintf(stderr, "cdp-consume: %s\n", cdp_nl_error(c.nl));
			return 1;
		}
		setvbuf(stdout, NULL, _IOLBF, 0);
		while (!(r = cdp_nl_event_wait(c.nl, -1, &ev)))
			if (ev.cmd == CDP_CMD_EVENT)
				printf("%s %s %" PRIu64 "\n", ev.volume,
				       cdp_event_name(ev.event), ev.seq);
		fprintf(stderr, "cdp-consume: %s\n", cdp_nl_error(c.nl));
		return 1;
	}
	if (mark) {
		uint64_t seq;

		if (optind + 1 != argc)
			usage();
		r = cdp_nl_mark(c.nl, argv[optind], &seq);
		if (r) {
			fprintf(stderr, "cdp-consume: mark: %s\n", cdp_nl_error(c.nl));
			return 1;
		}
		printf("%" PRIu64 "\n", seq);
		return 0;
	}
	if (optind + 2 != argc)
		usage();
	c.volume = argv[optind];
	c.fd = open(argv[optind + 1], O_RDWR);
	if (c.fd < 0 || fstat(c.fd, &st)) {
		fprintf(stderr, "cdp-consume: %s: %s\n", argv[optind + 1], strerror(errno));
		return 2;
	}
	c.is_blk = S_ISBLK(st.st_mode);
	c.bfd = c.fd;
	aio_open(&c, argv[optind + 1]);
	r = cdp_nl_open(&c.ev);
	if (r) {
		fprintf(stderr, "cdp-consume: events: %s\n", cdp_nl_open_error(r));
		return 1;
	}
	r = cdp_nl_subscribe(c.ev);
	if (r) {
		fprintf(stderr, "cdp-consume: events: %s\n", cdp_nl_error(c.ev));
		return 1;
	}
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);

	r = run(&c, exit_synced);
	fprintf(stderr,
		"cdp-consume: applied %" PRIu64 " records (%" PRIu64 " writes, %" PRIu64
		" discards, %" PRIu64 " zeroes, %" PRIu64 " flushes, %" PRIu64 " marks, %"
		PRIu64 " resync), %" PRIu64 " bytes, %" PRIu64 " acks, last seq %" PRIu64 "\n",
		c.n_rec, c.n_write, c.n_discard, c.n_zero, c.n_flush, c.n_mark, c.n_resync,
		c.bytes, c.n_ack, c.applied_seq);
	if (c.prefix_blocks)
		fprintf(stderr, "cdp-consume: %" PRIu64 " prefix checks at FLUSH markers and resync starts passed (%" PRIu64 " resync starts), prefix %" PRIu64 " blocks\n",
			c.n_prefix, c.n_resync_points, c.prefix_len);
	if (c.log)
		fclose(c.log);
	cdp_nl_close(c.ev);
	cdp_nl_close(c.nl);
	if (c.direct) {
		syscall(__NR_io_destroy, c.aio);
		close(c.fd);
	}
	close(c.bfd);
	return r;
}
