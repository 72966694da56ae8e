// SPDX-License-Identifier: GPL-2.0
/*
 * cmd_schedule.c - `cdpctl schedule run|status` (what /etc/cron.d/cdp runs
 * every minute) and the internal `schedule archive-run`. The work is in
 * lib/schedule*.c; this file parses and prints.
 */
#include "cdpctl.h"
#include "json_print.h"
#include "schedule.h"
#include "schedule_time.h"
#include "util.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int usage(void)
{
	fprintf(stderr,
		"Usage: cdpctl schedule run [ --now TIME ] [ --dry-run ]\n"
		"       cdpctl schedule status [ --now TIME ]\n"
		"where  TIME := { UNIX-SECONDS | @UNIX-SECONDS | YYYY-MM-DDTHH:MM[:SS][ZONE] }\n"
		"       ZONE := { Z | +HH:MM | -HH:MM }     (none: local time, $TZ)\n"
		"run takes the snapshots that are due, prunes what the policies no longer\n"
		"keep and hands old snapshots to the archive; one run at a time.\n");
	return CDP_EXIT_USAGE;
}

static int64_t get_time(const char *arg)
{
	int64_t t;

	if (sched_parse_time(arg, &t))
		invarg("expected unix seconds or an ISO-8601 time like 2026-11-26T09:15:00Z",
		       arg);
	return t;
}

/* This very binary runs `snap create` and `archive create`. */
static const char *self_path(void)
{
	static char path[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);

	if (n <= 0)
		return "/usr/local/sbin/cdpctl";
	path[n] = '\0';
	return path;
}

static void print_time_field(const char *key, const char *label, int64_t t)
{
	char buf[32], fmt[48];

	snprintf(fmt, sizeof(fmt), "%s %%s ", label);
	if (t > 0)
		print_string(PRINT_ANY, key, fmt, cdp_fmt_time((time_t)t, buf, sizeof(buf)));
	else
		print_null(PRINT_ANY, key, NULL);
}

static void print_action(const struct schedule_action *a, void *arg)
{
	const int *dry_run = arg;

	open_json_object(NULL);
	print_string(PRINT_ANY, "policy", "%s ", a->policy);
	print_string(PRINT_ANY, "action", "%s", a->action);
	if (a->snapshot)
		print_string(PRINT_ANY, "snapshot", " %s", a->snapshot);
	else
		print_null(PRINT_JSON, "snapshot", NULL);
	print_string(PRINT_JSON, "volume", NULL, a->volume);
	print_string(PRINT_JSON, "level", NULL, a->level);
	print_bool(PRINT_JSON, "dry_run", NULL, *dry_run);
	print_string(PRINT_ANY, "message", ": %s", a->message);
	print_nl();
	close_json_object();
	fflush(stdout);
}

static int schedule_run_cmd(int argc, char **argv)
{
	struct schedule_opts o = { .now = (int64_t)time(NULL) };
	struct schedule_totals t;
	struct catalog *cat;
	char err[1024];
	int fd = -1, ret, now_set = 0;

	for (; argc > 0; argc--, argv++) {
		if (!strcmp(*argv, "--now")) {
			NEXT_ARG();
			if (now_set++)
				duparg("--now", *argv);
			o.now = get_time(*argv);
		} else if (!strcmp(*argv, "--dry-run")) {
			o.dry_run = 1;
		} else {
			fprintf(stderr, "Error: unknown option \"%s\" for schedule run, try \"cdpctl schedule help\".\n",
				*argv);
			return CDP_EXIT_USAGE;
		}
	}
	o.cdpctl = self_path();
	o.catalog = catalog_opt;
	o.report = print_action;
	o.arg = &o.dry_run;

	if (cdpctl_catalog_open(&cat))
		return CDP_EXIT_FAIL;
	/* A dry run changes nothing, so it neither waits for nor blocks a run. */
	if (!o.dry_run) {
		ret = schedule_lock(cat, &fd, err, sizeof(err));
		if (ret) {
			fprintf(stderr, "%s\n", err);
			catalog_close(cat);
			return ret == -EWOULDBLOCK ? CDP_EXIT_OK : CDP_EXIT_FAIL;
		}
	}
	new_json_obj(json);
	ret = schedule_run(cat, &o, &t, err, sizeof(err));
	delete_json_obj();
	schedule_unlock(fd);
	if (ret)
		fprintf(stderr, "Error: %s\n", err);
	catalog_close(cat);
	return ret ? CDP_EXIT_FAIL : CDP_EXIT_OK;
}

struct status_ctx {
	struct catalog *cat;
	int64_t now;
};

static int print_status(const struct policy *p, void *arg)
{
	struct status_ctx *s = arg;
	int64_t next = schedule_next_due(s->cat, p, s->now);

	open_json_object(NULL);
	print_string(PRINT_ANY, "name", "%s ", p->name);
	print_bool(PRINT_JSON, "paused", NULL, p->paused);
	if (p->paused)
		print_null(PRINT_ANY, "next_due", "next-due paused ");
	else if (next <= s->now)
		print_string(PRINT_ANY, "next_due", "next-due %s ", "now");
	else
		print_time_field("next_due", "next-due", next);
	print_u64(PRINT_ANY, "snapshots", "snapshots %llu ", (unsigned long long)p->live_snaps);
	print_time_field("last_snapshot", "last-snapshot", p->last_snap_at);
	print_time_field("last_run", "last-run", p->last_run_at);
	print_string(PRINT_ANY, "last_result", "result %s ", p->last_result);
	if (p->last_message)
		print_string(PRINT_ANY, "last_message", "\"%s\"", p->last_message);
	else
		print_null(PRINT_JSON, "last_message", NULL);
	print_nl();
	close_json_object();
	return 0;
}

static int schedule_status_cmd(int argc, char **argv)
{
	struct status_ctx s = { .now = (int64_t)time(NULL) };
	char err[4608];
	int ret, now_set = 0;

	for (; argc > 0; argc--, argv++) {
		if (!strcmp(*argv, "--now")) {
			NEXT_ARG();
			if (now_set++)
				duparg("--now", *argv);
			s.now = get_time(*argv);
		} else {
			fprintf(stderr, "Error: unknown option \"%s\" for schedule status.\n", *argv);
			return CDP_EXIT_USAGE;
		}
	}
	if (cdpctl_catalog_open(&s.cat))
		return CDP_EXIT_FAIL;
	new_json_obj(json);
	ret = policy_foreach(s.cat, print_status, &s, err, sizeof(err));
	delete_json_obj();
	catalog_close(s.cat);
	if (ret) {
		fprintf(stderr, "Error: %s\n", err);
		return CDP_EXIT_FAIL;
	}
	return CDP_EXIT_OK;
}

/* Internal: started in the background by `schedule run` (schedule_archive.c). */
static int schedule_archive_run_cmd(int argc, char **argv)
{
	struct catalog *cat;
	char err[1024];
	int ret;

	if (argc != 2)
		return usage();
	if (cdpctl_catalog_open(&cat))
		return CDP_EXIT_FAIL;
	ret = schedule_archive_run(cat, argv[0], argv[1], self_path(), catalog_opt,
				   err, sizeof(err));
	catalog_close(cat);
	if (ret) {
		fprintf(stderr, "Error: %s\n", err);
		return CDP_EXIT_FAIL;
	}
	return CDP_EXIT_OK;
}

int do_schedule(int argc, char **argv)
{
	if (argc < 1 || !strcmp(argv[0], "help"))
		return usage();
	if (!strcmp(argv[0], "run"))
		return schedule_run_cmd(argc - 1, argv + 1);
	if (!strcmp(argv[0], "status"))
		return schedule_status_cmd(argc - 1, argv + 1);
	if (!strcmp(argv[0], "archive-run"))
		return schedule_archive_run_cmd(argc - 1, argv + 1);
	fprintf(stderr, "Command \"%s\" is unknown, try \"cdpctl schedule help\".\n", argv[0]);
	return CDP_EXIT_USAGE;
}
