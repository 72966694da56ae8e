// SPDX-License-Identifier: GPL-2.0
/*
 * cmd_policy.c - `cdpctl policy add|list|show|remove|pause|resume`.
 * Parsing and printing only: the rules live in lib/policy.c.
 */
#include "cdpctl.h"
#include "freeze.h"
#include "json_print.h"
#include "policy.h"
#include "retention.h"
#include "util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_VOLUMES	64
#define MAX_DRIVES	16

static int usage(void)
{
	fprintf(stderr,
		"Usage: cdpctl policy add NAME --volumes VOL [VOL...] --every INTERVAL\n"
		"                  [ KEEP-LIST ] [ QUIESCE ] [ ARCHIVE ]\n"
		"       cdpctl policy { list | show NAME | remove NAME | pause NAME | resume NAME }\n"
		"where  INTERVAL := NUMBER{s|m|h|d|w}       e.g. 15m (plain NUMBER = seconds)\n"
		"       KEEP-LIST := [ --keep-last N ] [ --keep-hourly N ] [ --keep-daily N ]\n"
		"                    [ --keep-weekly N ] [ --keep-monthly N ]\n"
		"                    (none given: keep every snapshot)\n"
		"       QUIESCE := [ --freeze MOUNTPOINT ]... [ --pre CMD --post CMD ]\n"
		"       ARCHIVE := --archive-after DAYS --drive DRIVE [ --drive DRIVE ... ]\n"
		"                  [ --capacity 25G|50G|100G|128G|200G|SIZE ]\n"
		"       DAYS := NUMBER[d]\n"
		"Several volumes are snapshotted together, as a consistency group.\n");
	return CDP_EXIT_USAGE;
}

static int get_count(const char *key, const char *arg)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || *end || end == arg || v < 0 || v > 100000)
		invarg("expected a count from 0 to 100000", arg);
	return (int)v;
}

static int get_days(const char *arg)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || end == arg || (*end && strcmp(end, "d")) || v < 0 || v > 36500)
		invarg("expected a number of days, e.g. 30d", arg);
	if (v == 0)
		invarg("archive after at least one day (--archive-after 1d)", arg);
	return (int)v;
}

static int64_t get_interval(const char *arg)
{
	int64_t v;
	int ret = policy_parse_duration(arg, &v);

	if (ret == -EDOM)
		invarg("the snapshot interval must be longer than zero, e.g. --every 15m", arg);
	if (ret)
		invarg("expected an interval like 90s, 15m, 2h, 1d or 1w", arg);
	return v;
}

/* An option value given twice is an error, not "the last one wins". */
static void set_once(const char **slot, const char *key, const char *arg)
{
	if (*slot)
		duparg(key, arg);
	*slot = arg;
}

static void set_count_once(int *slot, const char *key, const char *arg)
{
	if (*slot >= 0)
		duparg(key, arg);
	*slot = get_count(key, arg);
}

static int policy_add_cmd(int argc, char **argv)
{
	const char *vols[MAX_VOLUMES], *drives[MAX_DRIVES];
	const char *every = NULL, *after = NULL, *capacity = NULL;
	struct policy_spec s = { .archive_after_days = -1 };
	int keep[5] = { -1, -1, -1, -1, -1 };
	char drive_list[4096] = "", mnt_list[4096] = "", err[4608];
	size_t ndrives = 0, i;
	int nmnts = 0;
	struct catalog *cat;
	int ret;

	if (argc < 1)
		incomplete_command();
	s.name = argv[0];
	s.volumes = vols;
	argc--, argv++;
	for (; argc > 0; argc--, argv++) {
		if (!strcmp(*argv, "--volumes")) {
			if (s.nvolumes)
				duparg("--volumes", argv[1] ? argv[1] : "");
			while (argc > 1 && strncmp(argv[1], "--", 2)) {
				if (s.nvolumes == MAX_VOLUMES)
					invarg("too many volumes for one policy", argv[1]);
				NEXT_ARG();
				vols[s.nvolumes++] = *argv;
			}
			if (!s.nvolumes)
				incomplete_command();
		} else if (!strcmp(*argv, "--every")) {
			NEXT_ARG();
			set_once(&every, "--every", *argv);
		} else if (!strcmp(*argv, "--keep-last")) {
			NEXT_ARG();
			set_count_once(&keep[0], "--keep-last", *argv);
		} else if (!strcmp(*argv, "--keep-hourly")) {
			NEXT_ARG();
			set_count_once(&keep[1], "--keep-hourly", *argv);
		} else if (!strcmp(*argv, "--keep-daily")) {
			NEXT_ARG();
			set_count_once(&keep[2], "--keep-daily", *argv);
		} else if (!strcmp(*argv, "--keep-weekly")) {
			NEXT_ARG();
			set_count_once(&keep[3], "--keep-weekly", *argv);
		} else if (!strcmp(*argv, "--keep-monthly")) {
			NEXT_ARG();
			set_count_once(&keep[4], "--keep-monthly", *argv);
		} else if (!strcmp(*argv, "--freeze")) {
			NEXT_ARG();
			if (strchr(*argv, ' ') || **argv != '/')
				invarg("a mount point: an absolute path without spaces", *argv);
			if (nmnts++ == FREEZE_MAX_MOUNTS)
				invarg("too many --freeze mount points", *argv);
			if (mnt_list[0])
				strcat(mnt_list, " ");
			strncat(mnt_list, *argv, sizeof(mnt_list) - strlen(mnt_list) - 1);
			s.freeze_mnt = mnt_list;
		} else if (!strcmp(*argv, "--pre")) {
			NEXT_ARG();
			set_once(&s.pre_cmd, "--pre", *argv);
		} else if (!strcmp(*argv, "--post")) {
			NEXT_ARG();
			set_once(&s.post_cmd, "--post", *argv);
		} else if (!strcmp(*argv, "--archive-after")) {
			NEXT_ARG();
			set_once(&after, "--archive-after", *argv);
		} else if (!strcmp(*argv, "--drive")) {
			NEXT_ARG();
			if (ndrives == MAX_DRIVES)
				invarg("too many drives", *argv);
			if (strchr(*argv, ' '))
				invarg("drive addresses cannot contain spaces", *argv);
			drives[ndrives++] = *argv;
		} else if (!strcmp(*argv, "--capacity")) {
			NEXT_ARG();
			set_once(&capacity, "--capacity", *argv);
		} else if (!strcmp(*argv, "help")) {
			return usage();
		} else {
			fprintf(stderr, "Error: unknown option \"%s\" for policy add, try \"cdpctl policy help\".\n",
				*argv);
			return CDP_EXIT_USAGE;
		}
	}
	if (!s.nvolumes) {
		fprintf(stderr, "Error: policy add needs --volumes VOL...: which volumes should be snapshotted?\n");
		return CDP_EXIT_USAGE;
	}
	if (!every) {
		fprintf(stderr, "Error: policy add needs --every INTERVAL, e.g. --every 15m\n");
		return CDP_EXIT_USAGE;
	}
	s.interval_s = get_interval(every);
	s.keep_last = keep[0] < 0 ? 0 : keep[0];
	s.keep_hourly = keep[1] < 0 ? 0 : keep[1];
	s.keep_daily = keep[2] < 0 ? 0 : keep[2];
	s.keep_weekly = keep[3] < 0 ? 0 : keep[3];
	s.keep_monthly = keep[4] < 0 ? 0 : keep[4];
	if (after)
		s.archive_after_days = get_days(after);
	for (i = 0; i < ndrives; i++) {
		if (i)
			strcat(drive_list, " ");
		strncat(drive_list, drives[i], sizeof(drive_list) - strlen(drive_list) - 2);
	}
	if (ndrives)
		s.archive_drives = drive_list;
	if (capacity && cdp_parse_capacity(capacity, &s.archive_capacity))
		invarg("expected a disc capacity: 25G, 50G, 100G, 128G, 200G or a size", capacity);

	if (cdpctl_catalog_open(&cat))
		return CDP_EXIT_FAIL;
	ret = policy_add(cat, &s, err, sizeof(err));
	catalog_close(cat);
	if (ret) {
		fprintf(stderr, "Error: %s\n", err);
		return ret == -EINVAL ? CDP_EXIT_USAGE : CDP_EXIT_FAIL;
	}
	return CDP_EXIT_OK;
}

/*---------------------------------------------------------------------------
 * One print path for list and show.
 */

static void print_time(const char *key, const char *label, int64_t t)
{
	char buf[32], fmt[64];

	snprintf(fmt, sizeof(fmt), "%s %%s ", label);
	if (t > 0)
		print_string(PRINT_ANY, key, fmt, cdp_fmt_time((time_t)t, buf, sizeof(buf)));
	else
		print_null(PRINT_ANY, key, NULL);
}

static void print_opt_string(const char *key, const char *fmt, const char *v)
{
	if (v)
		print_string(PRINT_ANY, key, fmt, v);
	else
		print_null(PRINT_JSON, key, NULL);
}

static void print_words(const char *key, const char *fmt, const char *words)
{
	char *copy, *w, *save;

	print_string(PRINT_FP, NULL, fmt, words ? words : "");
	open_json_array(PRINT_JSON, key);
	copy = strdup(words ? words : "");
	for (w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save))
		print_string(PRINT_JSON, NULL, NULL, w);
	free(copy);
	close_json_array(PRINT_JSON, NULL);
}

/* show NAME: each live snapshot and the rules that keep it (or "prune"). */
static int print_verdict(const struct retention_row *r, void *arg)
{
	char buf[32];

	open_json_object(NULL);
	print_string(PRINT_ANY, "snapshot", "    %s", r->name);
	print_string(PRINT_ANY, "volume", " volume %s", r->volume);
	print_string(PRINT_ANY, "time", " time %s",
		     cdp_fmt_time((time_t)r->created_at, buf, sizeof(buf)));
	print_bool(PRINT_JSON, "keep", NULL, r->keep);
	print_string(PRINT_FP, NULL, " %s", r->keep ? "keep" : "prune");
	print_string(PRINT_ANY, "reasons", " %s", r->reasons);
	print_nl();
	close_json_object();
	return 0;
}

static int print_policy_verdicts(struct catalog *cat, const struct policy *p)
{
	int ret;

	open_json_array(PRINT_JSON, "retention");
	ret = retention_plan(cat, p->id, print_verdict, NULL);
	close_json_array(PRINT_JSON, NULL);
	return ret;
}

static int print_policy(const struct policy *p, void *arg)
{
	char dur[32];

	open_json_object(NULL);
	print_string(PRINT_ANY, "name", "%s ", p->name);
	print_words("volumes", "volumes %s ", p->volumes);
	print_u64(PRINT_JSON, "every_s", NULL, (uint64_t)p->interval_s);
	print_string(PRINT_FP, NULL, "every %s ",
		     policy_fmt_duration(p->interval_s, dur, sizeof(dur)));
	open_json_object("keep");
	print_string(PRINT_FP, NULL, "%s", "keep ");
	print_int(PRINT_ANY, "last", "last %d ", p->keep_last);
	print_int(PRINT_ANY, "hourly", "hourly %d ", p->keep_hourly);
	print_int(PRINT_ANY, "daily", "daily %d ", p->keep_daily);
	print_int(PRINT_ANY, "weekly", "weekly %d ", p->keep_weekly);
	print_int(PRINT_ANY, "monthly", "monthly %d ", p->keep_monthly);
	close_json_object();
	if (p->archive_after_days >= 0) {
		print_int(PRINT_ANY, "archive_after_days", "archive-after %dd ",
			  p->archive_after_days);
		print_words("drives", "drives %s ", p->archive_drives);
		if (p->archive_capacity)
			print_u64(PRINT_ANY, "capacity", "capacity %" PRIu64 " ",
				  p->archive_capacity);
	} else {
		print_null(PRINT_JSON, "archive_after_days", NULL);
	}
	if (p->freeze_mnt)
		print_words("freeze", "freeze %s ", p->freeze_mnt);
	else
		print_null(PRINT_JSON, "freeze", NULL);
	print_opt_string("pre", "pre \"%s\" ", p->pre_cmd);
	print_opt_string("post", "post \"%s\" ", p->post_cmd);
	print_bool(PRINT_JSON, "external", NULL, p->external);
	if (p->external)
		print_string(PRINT_FP, NULL, "%s", "external ");
	print_bool(PRINT_JSON, "paused", NULL, p->paused);
	if (p->paused)
		print_string(PRINT_FP, NULL, "%s", "paused ");
	print_u64(PRINT_ANY, "snapshots", "snapshots %" PRIu64 " ", (uint64_t)p->live_snaps);
	print_time("last_snapshot", "last-snapshot", p->last_snap_at);
	print_time("last_run", "last-run", p->last_run_at);
	print_opt_string("last_result", "result %s ", p->last_result);
	print_opt_string("last_message", "\"%s\"", p->last_message);
	print_nl();
	/* show NAME (arg = the catalog) adds the retention verdicts */
	if (arg && print_policy_verdicts(arg, p))
		fprintf(stderr, "Error: %s\n", catalog_errmsg(arg));
	close_json_object();
	return 0;
}

static int policy_show_cmd(int argc, char **argv, int one)
{
	struct catalog *cat;
	struct policy p;
	char err[4608];
	int ret;

	if (one && argc < 1)
		incomplete_command();
	if (argc > one) {
		fprintf(stderr, "Error: unexpected argument \"%s\".\n", argv[one]);
		return CDP_EXIT_USAGE;
	}
	if (cdpctl_catalog_open(&cat))
		return CDP_EXIT_FAIL;
	new_json_obj(json);
	if (one) {
		ret = policy_get(cat, argv[0], &p, err, sizeof(err));
		if (!ret) {
			print_policy(&p, cat);
			policy_free(&p);
		}
	} else {
		ret = policy_foreach(cat, print_policy, NULL, err, sizeof(err));
	}
	delete_json_obj();
	catalog_close(cat);
	if (ret) {
		fprintf(stderr, "Error: %s\n", err);
		return CDP_EXIT_FAIL;
	}
	return CDP_EXIT_OK;
}

/* remove, pause, resume: NAME and nothing else. */
static int policy_change_cmd(int argc, char **argv, const char *what)
{
	struct catalog *cat;
	char err[4608];
	int ret;

	if (argc < 1)
		incomplete_command();
	if (argc > 1) {
		fprintf(stderr, "Error: unexpected argument \"%s\".\n", argv[1]);
		return CDP_EXIT_USAGE;
	}
	if (cdpctl_catalog_open(&cat))
		return CDP_EXIT_FAIL;
	if (!strcmp(what, "remove"))
		ret = policy_remove(cat, argv[0], err, sizeof(err));
	else
		ret = policy_set_paused(cat, argv[0], !strcmp(what, "pause"), err,
					sizeof(err));
	catalog_close(cat);
	if (ret) {
		fprintf(stderr, "Error: %s\n", err);
		return CDP_EXIT_FAIL;
	}
	return CDP_EXIT_OK;
}

int do_policy(int argc, char **argv)
{
	if (argc < 1 || !strcmp(argv[0], "help"))
		return usage();
	if (!strcmp(argv[0], "add"))
		return policy_add_cmd(argc - 1, argv + 1);
	if (!strcmp(argv[0], "list"))
		return policy_show_cmd(argc - 1, argv + 1, 0);
	if (!strcmp(argv[0], "show"))
		return policy_show_cmd(argc - 1, argv + 1, 1);
	if (!strcmp(argv[0], "remove") || !strcmp(argv[0], "pause") ||
	    !strcmp(argv[0], "resume"))
		return policy_change_cmd(argc - 1, argv + 1, argv[0]);
	fprintf(stderr, "Command \"%s\" is unknown, try \"cdpctl policy help\".\n", argv[0]);
	return CDP_EXIT_USAGE;
}
