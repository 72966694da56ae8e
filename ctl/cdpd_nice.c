// SPDX-License-Identifier: GPL-2.0
/*
 * cdpd_nice.c - CPU priority of cdpd's threads.
 *
 * Control threads (the socket's accept loop and one thread per request)
 * are named "cdpd-ctl" and stay at nice 0: a MARK sent from inside a
 * client's freeze is answered at once. Every other thread replicates (the
 * volume workers, librbd's messenger and finisher threads, the scan loop)
 * and runs at worker_nice, except while a snapshot client quiesces and
 * freezes its file systems (READY until the MARK is in): then they step
 * down to CDPD_FREEZE_NICE. Frozen applications wait for that window to
 * end, replication does not (the kernel queue holds the records), and on a
 * busy host the freeze's own writeback competes with librbd for the CPU:
 * in the 1-vCPU test guest the window halved (docs/BENCHMARKS.md).
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "cdpd.h"

#define CDPD_CTL_NAME "cdpd-ctl"
#define CDPD_FREEZE_NICE 10

static pthread_mutex_t yield_lock = PTHREAD_MUTEX_INITIALIZER;
static int yielders;	/* snapshot requests inside their window */

void cdpd_name_control_thread(void)
{
	pthread_setname_np(pthread_self(), CDPD_CTL_NAME);
}

static int is_control(const char *tid)
{
	char path[300], comm[32] = "";
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%s/comm", tid);
	f = fopen(path, "re");
	if (!f)
		return 1;	/* gone: nothing to set */
	if (!fgets(comm, sizeof(comm), f))
		comm[0] = '\0';
	fclose(f);
	return !strncmp(comm, CDPD_CTL_NAME, strlen(CDPD_CTL_NAME));
}

/* Every replication thread (all but the control threads) to @nice. */
static void set_workers_nice(int nice)
{
	static int warned;
	struct dirent *e;
	DIR *d = opendir("/proc/self/task");

	if (!d)
		return;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' || is_control(e->d_name))
			continue;
		/* per thread on Linux; going back up needs CAP_SYS_NICE (root has it) */
		if (setpriority(PRIO_PROCESS, (id_t)atoi(e->d_name), nice) && !warned++)
			cdpd_log(LOG_WARNING, "cannot set the replication threads' nice to %d: %s",
				 nice, strerror(errno));
	}
	closedir(d);
}

void cdpd_workers_nice_init(void)
{
	/* per thread on Linux: everything this thread creates from now inherits it */
	if (cfg.worker_nice && setpriority(PRIO_PROCESS, 0, (int)cfg.worker_nice))
		cdpd_log(LOG_WARNING, "cannot set the workers' nice to %u: %s",
			 cfg.worker_nice, strerror(errno));
}

void cdpd_workers_yield(int on)
{
	int base = (int)cfg.worker_nice;

	pthread_mutex_lock(&yield_lock);
	if (on ? yielders++ == 0 : --yielders == 0)
		set_workers_nice(on && base < CDPD_FREEZE_NICE ? CDPD_FREEZE_NICE : base);
	pthread_mutex_unlock(&yield_lock);
}
