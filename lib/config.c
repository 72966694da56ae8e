// SPDX-License-Identifier: GPL-2.0
/*
 * config.c - /etc/cdp/cdp.conf parser. One table describes every key: its
 * type, bounds and where it lands, so parsing, errors and the list of
 * accepted keys cannot drift apart.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"

enum key_type { K_STR, K_UINT, K_BOOL };

struct key {
	const char *name;
	enum key_type type;
	size_t off;		/* offset in struct cdp_config */
	size_t size;		/* K_STR: buffer size */
	unsigned int min, max;	/* K_UINT bounds */
	int pow2;		/* K_UINT: must be a power of two */
};

#define STR(f) K_STR, offsetof(struct cdp_config, f), sizeof(((struct cdp_config *)0)->f), 0, 0, 0
#define UINT(f, lo, hi, p2) K_UINT, offsetof(struct cdp_config, f), 0, lo, hi, p2
#define BOOL(f) K_BOOL, offsetof(struct cdp_config, f), 0, 0, 1, 0

static const struct key keys[] = {
	{ "ceph_conf",		STR(ceph_conf) },
	{ "keyring",		STR(keyring) },
	{ "client_id",		STR(client_id) },
	{ "pool",		STR(pool) },
	{ "state_dir",		STR(state_dir) },
	{ "control_socket",	STR(control_socket) },
	{ "op_timeout_s",	UINT(op_timeout_s, 1, 3600, 0) },
	{ "fetch_kb",		UINT(fetch_kb, 64, 65536, 0) },
	{ "max_inflight",	UINT(max_inflight, 1, 1024, 0) },
	{ "ack_interval_ms",	UINT(ack_interval_ms, 10, 60000, 0) },
	{ "queue_mb",		UINT(queue_mb, 1, 4096, 0) },
	{ "region_kb",		UINT(region_kb, 4, 1048576, 1) },
	{ "snap_timeout_s",	UINT(snap_timeout_s, 1, 86400, 0) },
	{ "freeze_expedite_rcu", BOOL(freeze_expedite_rcu) },
	{ "worker_nice",	UINT(worker_nice, 0, 19, 0) },
};

void cdp_config_defaults(struct cdp_config *c)
{
	memset(c, 0, sizeof(*c));
	strcpy(c->ceph_conf, "/etc/ceph/ceph.conf");
	strcpy(c->client_id, "admin");
	strcpy(c->pool, "rbd");
	strcpy(c->state_dir, "/var/lib/cdp");
	strcpy(c->control_socket, "/run/cdp/cdpd.sock");
	c->op_timeout_s = 30;
	c->fetch_kb = 1024;
	c->max_inflight = 32;
	c->ack_interval_ms = 200;
	c->queue_mb = 64;
	c->region_kb = 64;
	c->snap_timeout_s = 60;
	c->freeze_expedite_rcu = 1;
	c->worker_nice = 0;
}

static void known_keys(char *buf, size_t len)
{
	size_t i, n = 0;

	buf[0] = '\0';
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]) && n < len; i++)
		n += snprintf(buf + n, len - n, "%s%s", i ? ", " : "", keys[i].name);
}

static int set_bool(struct cdp_config *c, const struct key *k, const char *value,
		    char *err, size_t errlen)
{
	static const char *const yes[] = { "1", "yes", "true", "on" };
	static const char *const no[] = { "0", "no", "false", "off" };
	unsigned int *v = (unsigned int *)((char *)c + k->off);
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (!strcasecmp(value, yes[i]) || !strcasecmp(value, no[i])) {
			*v = !strcasecmp(value, yes[i]);
			return 0;
		}
	}
	snprintf(err, errlen, "%s: '%s' is not yes or no (also 1/0, true/false, on/off)",
		 k->name, value);
	return -EINVAL;
}

int cdp_config_set(struct cdp_config *c, const char *key, const char *value,
		   char *err, size_t errlen)
{
	const struct key *k = NULL;
	unsigned long v;
	char *end;
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!strcmp(keys[i].name, key))
			k = &keys[i];
	if (!k) {
		char list[512];

		known_keys(list, sizeof(list));
		snprintf(err, errlen, "unknown key '%s' (known keys: %s)", key, list);
		return -EINVAL;
	}
	if (k->type == K_STR) {
		if (!*value) {
			snprintf(err, errlen, "%s: empty value (give one, or remove the line for the default)",
				 key);
			return -EINVAL;
		}
		if (strlen(value) >= k->size) {
			snprintf(err, errlen, "%s: value of %zu characters is too long (at most %zu): '%.40s...'",
				 key, strlen(value), k->size - 1, value);
			return -EINVAL;
		}
		strcpy((char *)c + k->off, value);
		return 0;
	}
	if (k->type == K_BOOL)
		return set_bool(c, k, value, err, errlen);
	errno = 0;
	v = strtoul(value, &end, 10);
	if (!isdigit((unsigned char)*value) || *end || errno || v < k->min || v > k->max ||
	    (k->pow2 && (v & (v - 1)))) {
		snprintf(err, errlen, "%s: '%s' is not %s between %u and %u", key, value,
			 k->pow2 ? "a power of two" : "a whole number", k->min, k->max);
		return -EINVAL;
	}
	*(unsigned int *)((char *)c + k->off) = (unsigned int)v;
	return 0;
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

int cdp_config_load(const char *path, struct cdp_config *c, char *err,
		    size_t errlen)
{
	char line[PATH_MAX + 128], msg[768];
	int explicit = path != NULL, lineno = 0, r = 0;
	FILE *f;

	cdp_config_defaults(c);
	if (!path)
		path = getenv("CDP_CONF");
	if (!path)
		path = CDP_CONF_DEFAULT;
	else
		explicit = 1;
	f = fopen(path, "re");
	if (!f) {
		if (errno == ENOENT && !explicit)
			return 0;
		r = -errno;
		snprintf(err, errlen, "cannot read config %s: %s", path, strerror(errno));
		return r;
	}
	while (fgets(line, sizeof(line), f)) {
		char *p = line, *eq, *hash;

		lineno++;
		if (!strchr(line, '\n') && !feof(f)) {
			snprintf(err, errlen, "%s:%d: line too long (at most %zu characters): '%.40s...'",
				 path, lineno, sizeof(line) - 2, trim(line));
			r = -EINVAL;
			break;
		}
		hash = strchr(p, '#');
		if (hash)
			*hash = '\0';
		p = trim(p);
		if (!*p)
			continue;
		eq = strchr(p, '=');
		if (!eq) {
			snprintf(err, errlen, "%s:%d: expected 'key = value', got '%s'",
				 path, lineno, p);
			r = -EINVAL;
			break;
		}
		*eq = '\0';
		r = cdp_config_set(c, trim(p), trim(eq + 1), msg, sizeof(msg));
		if (r) {
			snprintf(err, errlen, "%s:%d: %s", path, lineno, msg);
			break;
		}
	}
	fclose(f);
	return r;
}
