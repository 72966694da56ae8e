// SPDX-License-Identifier: GPL-2.0
/*
 * cdpd - mirrors every protected volume's write stream to its RBD image.
 *
 *   cdpd [-c CONFIG] [-f] [-v]
 *
 * Once a second the main loop lists the dm-cdp volumes of this host
 * (netlink LIST) and starts a worker (cdpd_volume.c) for each one the
 * catalog knows; a worker lives until its volume's table goes away or the
 * daemon stops. The control socket (cdpd_control.c) takes snapshot and
 * status requests from cdpctl. Runs in the foreground (systemd Type=simple);
 * logs to syslog/journal, and to stderr with -f.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <malloc.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "catalog.h"
#include "cdpd.h"
#include "nl.h"
#include "volume_catalog.h"

struct cdp_config cfg;
volatile int cdpd_quit;
int cdpd_verbose;
pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
struct vol *volumes;
static int foreground;

void cdpd_log(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsyslog(level, fmt, ap);
	va_end(ap);
	if (foreground) {
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fputc('\n', stderr);
	}
}

struct vol *vol_find(const char *name)
{
	struct vol *v;

	for (v = volumes; v; v = v->next)
		if (!strcmp(v->name, name))
			return v;
	return NULL;
}

static void on_signal(int sig)
{
	cdpd_quit = 1;
}

/* Start (or restart) the worker of a kernel volume the catalog knows. */
static int adopt(const struct cdp_volinfo *vi, void *arg)
{
	struct catalog *cat = arg;
	struct cat_volume cv;
	struct vol *v;

	pthread_mutex_lock(&registry_lock);
	v = vol_find(vi->volume);
	pthread_mutex_unlock(&registry_lock);
	if (v && !v->exited)
		return 0;
	if (volume_catalog_get(cat, vi->volume, &cv)) {
		static char warned[CDP_VOLUME_ID_MAX + 1];

		if (strcmp(warned, vi->volume))
			cdpd_log(LOG_WARNING, "volume %s is not in the catalog %s: not mirrored (protect it with 'cdpctl protect')",
				 vi->volume, catalog_path(cat));
		snprintf(warned, sizeof(warned), "%s", vi->volume);
		return 0;
	}
	if (!v) {
		v = calloc(1, sizeof(*v));
		if (!v)
			return 0;
		snprintf(v->name, sizeof(v->name), "%s", vi->volume);
		pthread_mutex_init(&v->lock, NULL);
		pthread_cond_init(&v->cond, NULL);
		pthread_mutex_lock(&registry_lock);
		v->next = volumes;
		volumes = v;
		pthread_mutex_unlock(&registry_lock);
	} else if (v->thread_valid) {
		pthread_join(v->thread, NULL);
		v->thread_valid = 0;
	}
	snprintf(v->pool, sizeof(v->pool), "%s", cv.pool);
	snprintf(v->image, sizeof(v->image), "%s", cv.image);
	snprintf(v->dm_name, sizeof(v->dm_name), "%s", cv.dm_name);
	v->stop = 0;
	v->exited = 0;
	v->thread_valid = !pthread_create(&v->thread, NULL, vol_worker, v);
	if (!v->thread_valid) {
		v->exited = 1;
		cdpd_log(LOG_ERR, "%s: cannot start a worker thread", v->name);
		return 0;
	}
	cdpd_log(LOG_INFO, "%s: mirroring to %s/%s", v->name, cv.pool, cv.image);
	return 0;
}

static void scan(struct cdp_nl **nl, struct catalog *cat)
{
	static int warned;

	if (!*nl && cdp_nl_open(nl)) {
		*nl = NULL;
		if (!warned++)
			cdpd_log(LOG_WARNING, "dm-cdp is not loaded (netlink family dm_cdp missing): waiting for it (modprobe dm-cdp)");
		return;
	}
	warned = 0;
	if (cdp_nl_list(*nl, adopt, cat) < 0) {
		cdp_nl_close(*nl);
		*nl = NULL;
	}
}

/*
 * One cdpd per state directory. A second one (say `cdpd -f` started to
 * debug while the service runs) would break the image locks of the first
 * and take its control socket over; it is refused instead. The lock is
 * held (fd left open) until the process exits.
 */
static int single_instance(void)
{
	const char *dir = getenv("CDP_STATE_DIR");	/* main() set it */
	char path[PATH_MAX + 16], pid[32] = "";
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/cdpd.pid", dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		fprintf(stderr, "cdpd: cannot open %s: %s (state_dir in the config must be writable)\n",
			path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		n = pread(fd, pid, sizeof(pid) - 1, 0);
		pid[n > 0 ? n : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		fprintf(stderr, "cdpd: another cdpd (pid %s) already serves %s: stop it first (systemctl stop cdpd)\n",
			pid[0] ? pid : "?", dir);
		close(fd);
		return -1;
	}
	n = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	if (ftruncate(fd, 0) || pwrite(fd, pid, n, 0) != n)
		cdpd_log(LOG_WARNING, "cannot write %s: %s", path, strerror(errno));
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "Usage: cdpd [-c CONFIG] [-f] [-v]\n"
		"  -c CONFIG  configuration file (default $CDP_CONF or " CDP_CONF_DEFAULT ")\n"
		"  -f         also log to stderr\n"
		"  -v         log each volume's pipeline statistics every 5 s\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *conf = NULL;
	struct catalog *cat = NULL;
	struct cdp_nl *nl = NULL;
	char err[1024], path[4096 + 16];
	struct sigaction sa = { .sa_handler = on_signal };
	struct vol *v;
	int c;

	while ((c = getopt(argc, argv, "c:fvh")) != -1) {
		switch (c) {
		case 'c': conf = optarg; break;
		case 'f': foreground = 1; break;
		case 'v': cdpd_verbose = 1; break;
		default: usage();
		}
	}
	if (optind != argc)
		usage();
	/*
	 * Every record's payload is a malloc'd buffer freed once applied: up
	 * to 1 MiB (a resync region) at a rate of hundreds per second. With
	 * glibc's defaults, buffers >= 128 KiB are mmap'd and munmap'd each
	 * time, and freed heap tops are trimmed and faulted in again: page
	 * faults and page zeroing for every record. Keep them in the heap.
	 */
	mallopt(M_MMAP_THRESHOLD, 4 << 20);
	mallopt(M_TRIM_THRESHOLD, 64 << 20);
	openlog("cdpd", LOG_PID, LOG_DAEMON);
	if (cdp_config_load(conf, &cfg, err, sizeof(err))) {
		fprintf(stderr, "cdpd: %s\n", err);
		return 1;
	}
	if (!getenv("CDP_STATE_DIR"))
		setenv("CDP_STATE_DIR", cfg.state_dir, 1);
	if (catalog_open(NULL, &cat, err, sizeof(err))) {
		fprintf(stderr, "cdpd: %s\n", err);
		return 1;
	}
	if (single_instance())
		return 1;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (control_start()) {
		fprintf(stderr, "cdpd: cannot open the control socket (see the log)\n");
		return 1;
	}
	/* after control_start(): its threads stay at nice 0 */
	cdpd_workers_nice_init();
	snprintf(path, sizeof(path), "%s", catalog_path(cat));
	cdpd_log(LOG_INFO, "started (catalog %s, ceph %s)", path, cfg.ceph_conf);
	while (!cdpd_quit) {
		scan(&nl, cat);
		sleep(1);
	}
	cdpd_log(LOG_INFO, "stopping: flushing and acknowledging what was applied");
	pthread_mutex_lock(&registry_lock);
	for (v = volumes; v; v = v->next)
		v->stop = 1;
	pthread_mutex_unlock(&registry_lock);
	for (v = volumes; v; v = v->next)
		if (v->thread_valid)
			pthread_join(v->thread, NULL);
	control_stop();
	if (nl)
		cdp_nl_close(nl);
	catalog_close(cat);
	return 0;
}
