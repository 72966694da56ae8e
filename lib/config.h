/* SPDX-License-Identifier: GPL-2.0 */
/*
 * config.h - /etc/cdp/cdp.conf, shared by cdpd and cdpctl.
 *
 * Format: "key = value" lines, '#' starts a comment, blank lines ignored.
 * Every key is optional; an unknown key or a bad value is an error naming
 * the file, the line and what is accepted, so a typo never silently falls
 * back to a default. $CDP_CONF overrides the path.
 */
#ifndef CDP_CONFIG_H
#define CDP_CONFIG_H

#include <limits.h>
#include <stddef.h>

#define CDP_CONF_DEFAULT	"/etc/cdp/cdp.conf"

struct cdp_config {
	char ceph_conf[PATH_MAX];	/* ceph.conf of the replica cluster */
	char keyring[PATH_MAX];		/* "" = from ceph.conf */
	char client_id[64];		/* cephx user without "client.", default admin */
	char pool[128];			/* default RBD pool for protect */
	char state_dir[PATH_MAX];	/* catalog, metadata files; /var/lib/cdp */
	char control_socket[PATH_MAX];	/* cdpd control socket */
	unsigned int op_timeout_s;	/* RADOS op/mount timeouts, 1..3600 */
	unsigned int fetch_kb;		/* netlink FETCH batch, 64..65536 */
	unsigned int max_inflight;	/* librbd aio in flight per volume, 1..1024 */
	unsigned int ack_interval_ms;	/* flush + ACK at least this often, 10..60000 */
	unsigned int queue_mb;		/* protect default, 1..4096 */
	unsigned int region_kb;		/* protect default, 4..1048576, power of 2 */
	unsigned int snap_timeout_s;	/* snapshot default timeout, 1..86400 */
	unsigned int worker_nice;	/* cdpd replication threads' nice, 0..19 */
	unsigned int freeze_expedite_rcu; /* yes (1): expedited RCU during FIFREEZE (rcu_expedite.h) */
};

/* Defaults for every key. */
void cdp_config_defaults(struct cdp_config *c);

/*
 * Load @path (NULL: $CDP_CONF, else CDP_CONF_DEFAULT) over the defaults.
 * A missing file is not an error when @path is NULL (defaults are used);
 * a missing file that was named explicitly is. Returns 0 or -errno with a
 * sentence in @err.
 */
int cdp_config_load(const char *path, struct cdp_config *c, char *err,
		    size_t errlen);

/* Parse one "key = value" assignment (also for -o key=value overrides). */
int cdp_config_set(struct cdp_config *c, const char *key, const char *value,
		   char *err, size_t errlen);

#endif
