// SPDX-License-Identifier: GPL-2.0
/*
 * rbd-apply-stream - drive lib/rbd_apply against a real RBD image.
 *
 *   rbd-apply-stream stream --image NAME --ref FILE [--seed N] [--records N]
 *                    [--seconds S] [--max-io BYTES] [--snap-at N] [common]
 *       Apply a random stream (overlapping writes, FUA writes, discards,
 *       write-zeroes, flushes) and the same stream to the local file FILE
 *       (the reference; the image must start all-zero). With --snap-at N a
 *       protected snapshot "snap1" is taken after record N and FILE.snap1
 *       holds the reference at that point. Ends with sync + drain.
 *
 *   rbd-apply-stream bench --image NAME [--io-size B] [--total B]
 *                    [--pattern seq|rand] [common]
 *       Drain a prepared backlog of writes (like `rbd bench --io-type
 *       write`) and print "ops/s" and "bytes/s" on stdout.
 *
 *   rbd-apply-stream hold-lock --image NAME --seconds S [common]
 *       Take the image's exclusive lock by hand (rbd_lock_acquire: librbd
 *       does not hand it over on request), print "locked", hold it S
 *       seconds, release it. Another writer's aio then wait inside librbd
 *       for as long: the engine's stuck-aio rescue is tested with it.
 *
 *   common: [--conf F] [--keyring F] [--id ID] [--pool P] [--qd N]
 *           [--timeout S] [--queued N] [--take-over] [--stuck-ms N]
 *
 * Exit 0 when everything was applied and reported durable, 1 otherwise.
 */
#include "rbd_apply.h"
#include "rbd_apply_conn.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <rbd/librbd.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

struct args {
	const char *mode, *ref;
	struct rbd_apply_opts o;
	uint64_t seed, records, max_io, snap_at, io_size, total;
	unsigned int seconds;
	int rand_pattern;
};

struct cb_state {
	uint64_t durable;
	int bad_order;
	int snaps_ok, snaps_failed;
	int verbose;
};

static uint64_t rng_state;

static uint64_t rnd(void)	/* xorshift64*: reproducible from --seed */
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1DULL;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void on_durable(void *arg, uint64_t seq)
{
	struct cb_state *cs = arg;

	if (seq <= cs->durable)
		cs->bad_order = 1;
	cs->durable = seq;
}

static void on_snap(void *arg, uint64_t seq, const char *name, int rc)
{
	struct cb_state *cs = arg;

	fprintf(stderr, "snapshot %s at seq %llu: %s\n", name, (unsigned long long)seq,
		rc ? strerror(-rc) : "ok");
	if (rc)
		cs->snaps_failed++;
	else
		cs->snaps_ok++;
}

static void on_log(void *arg, int level, const char *msg)
{
	fprintf(stderr, "rbd_apply[%d]: %s\n", level, msg);
}

/* rbd_apply_sync(), waiting for room in the window. */
static int sync_all(struct rbd_apply *a)
{
	int ret;

	while ((ret = rbd_apply_sync(a)) == -EAGAIN)
		rbd_apply_wait(a, 1000);
	return ret;
}

/* Submit, waiting for room in the window as cdpd would. */
static int submit(struct rbd_apply *a, const struct rbd_apply_rec *r)
{
	int ret;

	while ((ret = rbd_apply_submit(a, r)) == -EAGAIN)
		rbd_apply_wait(a, 1000);
	if (ret < 0)
		fprintf(stderr, "submit seq %llu: %s\n", (unsigned long long)r->seq, strerror(-ret));
	return ret;
}

static int ref_apply(int fd, const struct rbd_apply_rec *r)
{
	static char zeroes[1 << 20];
	uint64_t done = 0;

	if (r->op == CDP_OP_WRITE)
		return pwrite(fd, r->data, r->length, r->offset) == (ssize_t)r->length ? 0 : -1;
	while (done < r->length) {	/* DISCARD and WRITE_ZEROES read back as zeroes */
		size_t n = r->length - done < sizeof(zeroes) ? r->length - done : sizeof(zeroes);

		if (pwrite(fd, zeroes, n, r->offset + done) != (ssize_t)n)
			return -1;
		done += n;
	}
	return 0;
}

/* One random record: writes cluster in a hot zone so overlaps are common. */
static void gen_record(struct rbd_apply_rec *r, uint64_t size, uint64_t max_io, char *buf)
{
	uint64_t sectors = size >> 9, hot = sectors / 16, len, i;
	unsigned int pick = rnd() % 100;

	r->flags = 0;
	r->data = NULL;
	if (pick < 6) {
		r->op = CDP_OP_FLUSH;
		r->offset = r->length = 0;
		return;
	}
	r->op = pick < 80 ? CDP_OP_WRITE : pick < 90 ? CDP_OP_DISCARD : CDP_OP_WRITE_ZEROES;
	len = 1 + rnd() % (max_io >> 9);
	r->offset = (rnd() % 2 ? rnd() % hot : rnd() % sectors);
	if (r->offset + len > sectors)
		r->offset = sectors - len;
	r->offset <<= 9;
	r->length = len << 9;
	if (r->op == CDP_OP_WRITE) {
		for (i = 0; i + 8 <= r->length; i += 8) {
			uint64_t v = rnd();

			memcpy(buf + i, &v, 8);
		}
		r->data = buf;
		if (rnd() % 10 == 0)
			r->flags = CDP_REC_F_FUA;
	}
}

static int copy_file(const char *from, const char *to)
{
	char cmd[2 * 4096 + 64];

	snprintf(cmd, sizeof(cmd), "cp --sparse=always '%s' '%s'", from, to);
	return system(cmd) == 0 ? 0 : -1;
}

static int run_stream(struct rbd_apply *a, struct args *g, struct cb_state *cs)
{
	struct rbd_apply_stats st;
	struct rbd_apply_rec r;
	uint64_t seq, n = 0;
	double t0 = now_s();
	char *buf = malloc(g->max_io);
	char snapref[4096];
	int fd, ret = 0;

	rbd_apply_get_stats(a, &st);
	fd = open(g->ref, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (!buf || fd < 0 || ftruncate(fd, st.image_size) < 0) {
		perror(g->ref);
		free(buf);
		return 1;
	}
	rng_state = g->seed * 2654435761ULL + 1;
	for (seq = 1; ; seq++) {
		if (g->seconds ? now_s() - t0 >= g->seconds && n >= g->records : n >= g->records)
			break;
		gen_record(&r, st.image_size, g->max_io, buf);
		r.seq = seq;
		if (submit(a, &r) < 0 || ref_apply(fd, &r) < 0) {
			ret = 1;
			break;
		}
		n++;
		if (g->snap_at && n == g->snap_at) {
			snprintf(snapref, sizeof(snapref), "%s.snap1", g->ref);
			while ((ret = rbd_apply_snapshot(a, "snap1", 1)) == -EAGAIN)
				rbd_apply_wait(a, 1000);
			if (ret < 0 || copy_file(g->ref, snapref) < 0) {
				fprintf(stderr, "snapshot: %s\n", strerror(-ret));
				ret = 1;
				break;
			}
		}
		rbd_apply_process(a);
	}
	close(fd);
	free(buf);
	if (!ret && (sync_all(a) < 0 || rbd_apply_drain(a, 300000) < 0)) {
		fprintf(stderr, "the stream did not drain\n");
		ret = 1;
	}
	rbd_apply_get_stats(a, &st);
	printf("records %llu durable_seq %llu submitted_seq %llu retries %llu reconnects %llu "
	       "abandoned %llu snaps %d durable_on_completion %d seconds %.1f\n",
	       (unsigned long long)n, (unsigned long long)st.durable_seq,
	       (unsigned long long)st.submitted_seq, (unsigned long long)st.retries,
	       (unsigned long long)st.reconnects, (unsigned long long)st.abandoned,
	       cs->snaps_ok, st.durable_on_completion, now_s() - t0);
	if (!ret && (st.durable_seq != st.submitted_seq || cs->bad_order ||
		     cs->snaps_failed || (g->snap_at && g->snap_at <= n && !cs->snaps_ok))) {
		fprintf(stderr, "durable seq %llu != submitted %llu, or bad order/snapshot\n",
			(unsigned long long)st.durable_seq, (unsigned long long)st.submitted_seq);
		ret = 1;
	}
	return ret;
}

static int run_bench(struct rbd_apply *a, struct args *g)
{
	uint64_t n = g->total / g->io_size, blocks, i;
	struct rbd_apply_stats st;
	struct rbd_apply_rec *recs;
	char *data;
	double t0, dt;

	rbd_apply_get_stats(a, &st);
	blocks = st.image_size / g->io_size;
	recs = calloc(n, sizeof(*recs));
	data = malloc(g->io_size * 64);
	if (!recs || !data || !n || !blocks) {
		fprintf(stderr, "bench: bad sizes or out of memory\n");
		return 1;
	}
	rng_state = g->seed * 2654435761ULL + 1;
	for (i = 0; i < g->io_size * 64; i++)
		data[i] = rnd();
	/* The backlog is built before the clock starts, as if fetched already. */
	for (i = 0; i < n; i++) {
		recs[i].seq = i + 1;
		recs[i].op = CDP_OP_WRITE;
		recs[i].offset = (g->rand_pattern ? rnd() % blocks : i % blocks) * g->io_size;
		recs[i].length = g->io_size;
		recs[i].data = data + (i % 64) * g->io_size;
	}
	t0 = now_s();
	for (i = 0; i < n; i++)
		if (submit(a, &recs[i]) < 0)
			return 1;
	if (sync_all(a) < 0 || rbd_apply_drain(a, 600000) < 0)
		return 1;
	dt = now_s() - t0;
	printf("ops %llu seconds %.3f ops/s %.1f bytes/s %.0f\n", (unsigned long long)n, dt,
	       n / dt, n * g->io_size / dt);
	free(recs);
	free(data);
	return 0;
}

/* hold-lock: a second client that keeps the exclusive lock for a while. */
static int run_hold_lock(const struct args *g)
{
	struct rbd_apply_conn c;
	char err[512];
	int ret;

	ret = rbd_apply_conn_open(&c, &g->o, err, sizeof(err));
	if (ret < 0) {
		fprintf(stderr, "hold-lock: %s\n", err);
		return 1;
	}
	ret = rbd_lock_acquire(c.img, RBD_LOCK_MODE_EXCLUSIVE);
	if (ret < 0) {
		fprintf(stderr, "hold-lock: cannot take the lock: %s\n", strerror(-ret));
		rbd_apply_conn_close(&c);
		return 1;
	}
	printf("locked\n");
	fflush(stdout);
	sleep(g->seconds);
	ret = rbd_lock_release(c.img);
	rbd_apply_conn_close(&c);
	return ret < 0;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: rbd-apply-stream stream --image NAME --ref FILE [--seed N] [--records N]\n"
		"                        [--seconds S] [--max-io B] [--snap-at N] [common]\n"
		"       rbd-apply-stream bench --image NAME [--io-size B] [--total B]\n"
		"                        [--pattern seq|rand] [common]\n"
		"       rbd-apply-stream hold-lock --image NAME --seconds S [common]\n"
		"common: [--conf F] [--keyring F] [--id ID] [--pool P] [--qd N] [--timeout S]\n"
		"        [--queued N] [--take-over] [--stuck-ms N]\n");
	exit(2);
}

/* Sizes: "4096", "64K", "1G" (cdp_parse_size). */
static uint64_t size_arg(const char *s, const char *what)
{
	uint64_t v;

	if (cdp_parse_size(s, &v) < 0 || v > (1ULL << 48)) {
		fprintf(stderr, "bad size for %s: '%s' (e.g. 4096, 64K, 1G)\n", what, s);
		exit(2);
	}
	return v;
}

static uint64_t num(const char *s, const char *what)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 0);

	if (end == s || *end || v > (1ULL << 48)) {
		fprintf(stderr, "bad number for %s: '%s'\n", what, s);
		exit(2);
	}
	return v;
}

static void parse(int argc, char **argv, struct args *g)
{
	static const struct option lo[] = {
		{ "conf", 1, 0, 'c' }, { "keyring", 1, 0, 'k' }, { "id", 1, 0, 'i' },
		{ "pool", 1, 0, 'p' }, { "image", 1, 0, 'm' }, { "qd", 1, 0, 'q' },
		{ "timeout", 1, 0, 't' }, { "queued", 1, 0, 'Q' }, { "ref", 1, 0, 'r' },
		{ "seed", 1, 0, 's' }, { "records", 1, 0, 'n' }, { "seconds", 1, 0, 'S' },
		{ "max-io", 1, 0, 'M' }, { "snap-at", 1, 0, 'a' }, { "io-size", 1, 0, 'b' },
		{ "total", 1, 0, 'T' }, { "pattern", 1, 0, 'P' }, { "take-over", 0, 0, 'o' },
		{ "stuck-ms", 1, 0, 'u' }, { 0, 0, 0, 0 },
	};
	int c;

	if (argc < 2)
		usage();
	g->mode = argv[1];
	optind = 2;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'c': g->o.conf = optarg; break;
		case 'k': g->o.keyring = optarg; break;
		case 'i': g->o.client_id = optarg; break;
		case 'p': g->o.pool = optarg; break;
		case 'm': g->o.image = optarg; break;
		case 'q': g->o.max_inflight = num(optarg, "--qd"); break;
		case 't': g->o.op_timeout_s = num(optarg, "--timeout"); break;
		case 'Q': g->o.max_queued = num(optarg, "--queued"); break;
		case 'r': g->ref = optarg; break;
		case 's': g->seed = num(optarg, "--seed"); break;
		case 'n': g->records = num(optarg, "--records"); break;
		case 'S': g->seconds = num(optarg, "--seconds"); break;
		case 'M': g->max_io = size_arg(optarg, "--max-io"); break;
		case 'a': g->snap_at = num(optarg, "--snap-at"); break;
		case 'b': g->io_size = size_arg(optarg, "--io-size"); break;
		case 'T': g->total = size_arg(optarg, "--total"); break;
		case 'P': g->rand_pattern = !strcmp(optarg, "rand"); break;
		case 'o': g->o.take_over_lock = 1; break;
		case 'u': g->o.stuck_ms = num(optarg, "--stuck-ms"); break;
		default: usage();
		}
	}
	if (!g->o.image ||
	    (strcmp(g->mode, "stream") && strcmp(g->mode, "bench") && strcmp(g->mode, "hold-lock")) ||
	    (!strcmp(g->mode, "stream") && !g->ref))
		usage();
	if (g->max_io < 512 || g->max_io % 512 || g->io_size < 512 || g->io_size % 512) {
		fprintf(stderr, "--max-io and --io-size must be multiples of 512\n");
		exit(2);
	}
}

int main(int argc, char **argv)
{
	struct cb_state cs = { 0 };
	struct args g = {
		.seed = 1, .records = 2000, .max_io = 65536, .io_size = 4096,
		.total = 64 << 20, .rand_pattern = 1,
	};
	struct rbd_apply *a;
	char err[512];
	int ret;

	parse(argc, argv, &g);
	if (!strcmp(g.mode, "hold-lock"))
		return run_hold_lock(&g);
	g.o.durable_cb = on_durable;
	g.o.snap_cb = on_snap;
	g.o.log_cb = on_log;
	g.o.cb_arg = &cs;
	g.o.retry_min_ms = 20;
	g.o.retry_max_ms = 1000;
	ret = rbd_apply_open(&g.o, &a, err, sizeof(err));
	if (ret < 0) {
		fprintf(stderr, "rbd-apply-stream: %s\n", err);
		return 1;
	}
	if (!strcmp(g.mode, "stream"))
		ret = run_stream(a, &g, &cs);
	else
		ret = run_bench(a, &g);
	rbd_apply_close(a);
	return ret;
}
