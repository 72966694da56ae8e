// SPDX-License-Identifier: GPL-2.0
/* rbd_apply_conn.c - see rbd_apply_conn.h */
#include "rbd_apply_conn.h"
#include "rbd_apply.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

static const char *conf_name(const struct rbd_apply_opts *o)
{
	if (o->conf)
		return o->conf;
	return getenv("CEPH_CONF") ? getenv("CEPH_CONF") : "/etc/ceph/ceph.conf";
}

/*
 * Client settings that the engine's guarantees rest on, whatever the
 * config file says:
 *  - timeouts: librados waits forever for a down OSD or mon without them,
 *    and the engine could then neither retry nor report;
 *  - rbd_cache off: a completed write is then on the OSDs, so "all records
 *    up to the barrier completed + flush" really means durable;
 *  - rbd_skip_partial_discard off: a DISCARD must read back as zeroes like
 *    it does on the origin, also where it covers only part of an object;
 *  - zero-copy writes: librbd otherwise copies every payload once more. The
 *    engine keeps a record's buffer untouched until its aio completed
 *    (retries included), which is what zero-copy requires.
 */
static int set_client_options(rados_t cl, const struct rbd_apply_opts *o,
			      char *err, size_t errlen)
{
	char tmo[16];
	const char *const timeouts[] = {
		"rados_osd_op_timeout", "rados_mon_op_timeout", "client_mount_timeout",
	};
	const char *const fixed[][2] = {
		{ "rbd_cache", "false" },
		{ "rbd_skip_partial_discard", "false" },
		{ "rbd_disable_zero_copy_writes", "false" },
	};
	size_t i;
	int ret;

	snprintf(tmo, sizeof(tmo), "%u", o->op_timeout_s ? o->op_timeout_s : 30);
	for (i = 0; i < sizeof(timeouts) / sizeof(timeouts[0]); i++) {
		ret = rados_conf_set(cl, timeouts[i], tmo);
		if (ret < 0)
			goto bad;
	}
	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		ret = rados_conf_set(cl, fixed[i][0], fixed[i][1]);
		if (ret < 0)
			goto bad;
	}
	if (o->keyring) {
		ret = rados_conf_set(cl, "keyring", o->keyring);
		if (ret < 0)
			goto bad;
	}
	return 0;
bad:
	snprintf(err, errlen, "cannot set the Ceph client options: %s", strerror(-ret));
	return ret;
}

static int connect_cluster(struct rbd_apply_conn *c, const struct rbd_apply_opts *o,
			   char *err, size_t errlen)
{
	char name[128];
	int ret;

	snprintf(name, sizeof(name), "client.%s", o->client_id ? o->client_id : "admin");
	ret = rados_create2(&c->cluster, "ceph", name, 0);
	if (ret < 0) {
		snprintf(err, errlen, "cannot create the Ceph client %s: %s", name, strerror(-ret));
		return ret;
	}
	ret = rados_conf_read_file(c->cluster, o->conf);
	if (ret < 0) {
		snprintf(err, errlen, "cannot read the Ceph config %s: %s (give the cluster's ceph.conf)",
			 conf_name(o), strerror(-ret));
		goto fail;
	}
	rados_conf_parse_env(c->cluster, NULL);	/* CEPH_ARGS, as the ceph tools do */
	ret = set_client_options(c->cluster, o, err, errlen);
	if (ret < 0)
		goto fail;
	ret = rados_connect(c->cluster);
	if (ret < 0) {
		snprintf(err, errlen,
			 "cannot connect to the Ceph cluster of %s as %s: %s (%s)",
			 conf_name(o), name, strerror(-ret),
			 ret == -EACCES || ret == -EPERM || ret == -ENOENT ?
			 "check the keyring and the client id" :
			 "is the cluster up and its mon_host reachable?");
		goto fail;
	}
	return 0;
fail:
	rados_shutdown(c->cluster);
	c->cluster = NULL;
	return ret;
}

/*
 * A previous instance of the same writer (a killed cdpd) may still hold the
 * image's exclusive lock: librbd would wait for its watch to time out
 * (~30 s) before taking over. Breaking the lock blocklists the old client,
 * so it can never write again (fencing), and we own the image at once.
 * Only for callers that are the image's sole legitimate writer.
 */
static void break_stale_lock(struct rbd_apply_conn *c, const struct rbd_apply_opts *o)
{
	char *owners[8];
	size_t n = sizeof(owners) / sizeof(owners[0]), i;
	rbd_lock_mode_t mode;
	int ret;

	ret = rbd_lock_get_owners(c->img, &mode, owners, &n);
	if (ret < 0)	/* -ENOENT: nobody holds it; -EINVAL: no exclusive-lock feature */
		return;
	for (i = 0; i < n; i++) {
		char msg[384];

		ret = rbd_lock_break(c->img, mode, owners[i]);
		if (!o->log_cb)
			continue;
		/* named, so that an operator can find a foreign writer (rbd lock ls) */
		if (ret)
			snprintf(msg, sizeof(msg),
				 "could not break the image lock held by %s: %s", owners[i],
				 strerror(-ret));
		else
			snprintf(msg, sizeof(msg),
				 "broke (and fenced) the image lock held by %s: only this cdpd may write the image",
				 owners[i]);
		o->log_cb(o->cb_arg, ret ? LOG_WARNING : LOG_NOTICE, msg);
	}
	rbd_lock_get_owners_cleanup(owners, n);
}

/*
 * Is the client cache really off for this image? We set rbd_cache=false,
 * but pool- or image-level config overrides (`rbd config image set ...`)
 * win over the client's. Only with no cache (and no write-log cache
 * plugin) does a completed write mean a durable one. Unsure -> 0.
 */
static int cache_is_off(rbd_image_t img)
{
	rbd_config_option_t opts[512];
	int n = sizeof(opts) / sizeof(opts[0]), i, off = 0, plugin = 0;

	if (rbd_config_image_list(img, opts, &n) < 0)
		return 0;
	for (i = 0; i < n; i++) {
		if (!strcmp(opts[i].name, "rbd_cache"))
			off = !strcmp(opts[i].value, "false");
		else if (!strcmp(opts[i].name, "rbd_plugins"))
			plugin = strstr(opts[i].value, "pwl_cache") != NULL;
	}
	rbd_config_image_list_cleanup(opts, n);
	return off && !plugin;
}

int rbd_apply_conn_open(struct rbd_apply_conn *c, const struct rbd_apply_opts *o,
			char *err, size_t errlen)
{
	const char *pool = o->pool ? o->pool : "rbd";
	int ret;

	memset(c, 0, sizeof(*c));
	if (!o->image || !*o->image) {
		snprintf(err, errlen, "no RBD image name given");
		return -EINVAL;
	}
	ret = connect_cluster(c, o, err, errlen);
	if (ret < 0)
		return ret;
	ret = rados_ioctx_create(c->cluster, pool, &c->io);
	if (ret < 0) {
		snprintf(err, errlen, "cannot open pool \"%s\": %s%s", pool, strerror(-ret),
			 ret == -ENOENT ? " (no such pool: create it or fix the pool name)" : "");
		goto out_cluster;
	}
	ret = rbd_open(c->io, o->image, &c->img, NULL);
	if (ret < 0) {
		snprintf(err, errlen, "cannot open RBD image %s/%s: %s%s", pool, o->image,
			 strerror(-ret),
			 ret == -ENOENT ? " (no such image: create it first, e.g. with cdpctl protect)" : "");
		goto out_io;
	}
	ret = rbd_get_size(c->img, &c->size);
	if (ret < 0) {
		snprintf(err, errlen, "cannot read the size of %s/%s: %s", pool, o->image,
			 strerror(-ret));
		goto out_img;
	}
	if (o->take_over_lock)
		break_stale_lock(c, o);
	c->cache_off = cache_is_off(c->img);
	c->open = 1;
	return 0;
out_img:
	rbd_close(c->img);
out_io:
	rados_ioctx_destroy(c->io);
out_cluster:
	rados_shutdown(c->cluster);
	memset(c, 0, sizeof(*c));
	return ret;
}

void rbd_apply_conn_close(struct rbd_apply_conn *c)
{
	if (!c->open)
		return;
	rbd_close(c->img);
	rados_ioctx_destroy(c->io);
	rados_shutdown(c->cluster);
	memset(c, 0, sizeof(*c));
}

static void *close_thread(void *arg)
{
	struct rbd_apply_conn *c = arg;

	rbd_apply_conn_close(c);
	free(c);
	return NULL;
}

/* A heap copy of @c closed by a new thread; @c is reset. NULL thread: none. */
static int close_in_thread(struct rbd_apply_conn *c, pthread_t *th, int detached)
{
	struct rbd_apply_conn *copy = malloc(sizeof(*copy));
	pthread_attr_t attr;
	int ret;

	if (!copy)
		return -ENOMEM;
	*copy = *c;
	pthread_attr_init(&attr);
	if (detached)
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	ret = pthread_create(th, &attr, close_thread, copy);
	pthread_attr_destroy(&attr);
	if (ret) {
		free(copy);
		return -ret;
	}
	memset(c, 0, sizeof(*c));
	return 0;
}

int rbd_apply_conn_close_bounded(struct rbd_apply_conn *c, unsigned int timeout_s)
{
	struct timespec end;
	pthread_t th;

	if (!c->open)
		return 0;
	if (close_in_thread(c, &th, 0) < 0) {
		rbd_apply_conn_close(c);	/* no thread: in this one */
		return 0;
	}
	clock_gettime(CLOCK_REALTIME, &end);
	end.tv_sec += timeout_s ? timeout_s : 30;
	if (pthread_timedjoin_np(th, NULL, &end) == 0)
		return 0;
	pthread_detach(th);
	return -ETIMEDOUT;
}

void rbd_apply_conn_close_detached(struct rbd_apply_conn *c)
{
	pthread_t th;

	if (c->open && close_in_thread(c, &th, 1) < 0)
		memset(c, 0, sizeof(*c));	/* no thread: leak it, never block */
}

int rbd_apply_conn_fence(struct rbd_apply_conn *by, struct rbd_apply_conn *old,
			 char *err, size_t errlen)
{
	char *addr = NULL;
	int ret;

	ret = rados_getaddrs(old->cluster, &addr);
	if (ret < 0 || !addr) {
		snprintf(err, errlen, "cannot read the address of the old session: %s",
			 strerror(ret < 0 ? -ret : EINVAL));
		return ret < 0 ? ret : -EINVAL;
	}
	/*
	 * A week, not the mon's default hour: the old session is closed in a
	 * thread that may hang with the aio it holds, and once its entry
	 * expired it could send them again.
	 */
	ret = rados_blocklist_add(by->cluster, addr, 7 * 24 * 3600);
	if (ret < 0)
		snprintf(err, errlen, "cannot blocklist the old session %s: %s%s", addr,
			 strerror(-ret), ret == -EACCES || ret == -EPERM ?
			 " (give the client the mon cap 'profile rbd')" : "");
	free(addr);
	if (ret < 0)
		return ret;
	/*
	 * Our next ops then carry an osdmap epoch that has the entry, so no
	 * OSD takes one of them before it refuses the old session (what
	 * librbd's own lock break waits for too).
	 */
	ret = rados_wait_for_latest_osdmap(by->cluster);
	if (ret < 0)
		snprintf(err, errlen, "cannot get the osdmap with the fence: %s", strerror(-ret));
	return ret;
}
