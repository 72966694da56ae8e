// SPDX-License-Identifier: GPL-2.0
/*
 * restore_krbd.c - map an image with the kernel rbd driver by writing the
 * line `rbd device map` would write to /sys/bus/rbd/add_single_major
 * (Documentation/ABI/testing/sysfs-bus-rbd):
 *
 *   <mon addrs> name=<user>,secret=<key>[,ms_mode=prefer-crc] <pool> <image> -
 *
 * Why not always the tool: restore already holds a connected cluster handle
 * that knows the monitors and the key, while the tool starts a second
 * librados client only to compute that line; on a slow CPU that start-up
 * is most of the RTO. Everything this file does not understand (no cephx
 * key to be found, monitors given by DNS SRV or IPv6, a kernel that refuses
 * the line) makes restore_krbd_map() return -EAGAIN, and the caller runs
 * `rbd device map` as before.
 */
#include "restore.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

#define RBD_SYSFS "/sys/bus/rbd"

/* One monitor token ("v2:1.2.3.4:3300/0", "1.2.3.4", "mon1:6789") as ip:port. */
static int mon_token(char *tok, char *out, size_t len, int *v2)
{
	struct addrinfo hint = { .ai_family = AF_INET }, *ai;
	char host[256], *colon, *slash;
	int port = 0;

	*v2 = -1;	/* unknown: the kernel's default (legacy) */
	if (!strncmp(tok, "v2:", 3)) {
		*v2 = 1;
		tok += 3;
	} else if (!strncmp(tok, "v1:", 3)) {
		*v2 = 0;
		tok += 3;
	}
	slash = strchr(tok, '/');
	if (slash)
		*slash = '\0';	/* the nonce */
	if (strchr(tok, '[') || strchr(tok, ']') || strchr(tok, ':') != strrchr(tok, ':'))
		return -EAGAIN;	/* IPv6: leave it to the tool */
	snprintf(host, sizeof(host), "%s", tok);
	colon = strchr(host, ':');
	if (colon) {
		*colon = '\0';
		port = atoi(colon + 1);
		if (port <= 0 || port > 65535)
			return -EAGAIN;
	}
	if (!host[0] || getaddrinfo(host, NULL, &hint, &ai))
		return -EAGAIN;
	inet_ntop(AF_INET, &((struct sockaddr_in *)ai->ai_addr)->sin_addr, host, sizeof(host));
	freeaddrinfo(ai);
	if (!port)
		port = *v2 == 1 ? 3300 : 6789;
	if (*v2 < 0)
		*v2 = port == 3300;
	snprintf(out, len, "%s:%d", host, port);
	return 0;
}

/*
 * mon_host "[v2:a:3300/0,v1:a:6789/0] [v2:b:3300/0,v1:b:6789/0]" or
 * "a,b,c": the msgr2 addresses when there are any (the kernel then speaks
 * msgr2, ms_mode=prefer-crc), else the legacy ones.
 */
static int mon_addrs(const char *mon_host, char *out, size_t len, int *msgr2)
{
	char buf[1024], v1[512] = "", v2[512] = "", addr[300], *tok, *save;
	int is2;

	snprintf(buf, sizeof(buf), "%s", mon_host);
	for (tok = buf; *tok; tok++)
		if (*tok == '[' || *tok == ']' || *tok == ';' || isspace((unsigned char)*tok))
			*tok = ',';
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *list;

		if (mon_token(tok, addr, sizeof(addr), &is2))
			return -EAGAIN;
		list = is2 ? v2 : v1;
		if (strlen(list) + strlen(addr) + 2 > sizeof(v1))
			return -EAGAIN;
		if (list[0])
			strcat(list, ",");
		strcat(list, addr);
	}
	*msgr2 = v2[0] != '\0';
	if (!v1[0] && !v2[0])
		return -EAGAIN;
	snprintf(out, len, "%s", *msgr2 ? v2 : v1);
	return 0;
}

/* key = ... of section [entity] in a keyring file. */
static int keyring_key(const char *path, const char *entity, char *key, size_t len)
{
	char line[512], section[160];
	int in = 0, found = -ENOENT;
	FILE *f = fopen(path, "re");

	if (!f)
		return -errno;
	snprintf(section, sizeof(section), "[%s]", entity);
	while (found && fgets(line, sizeof(line), f)) {
		char *p = line + strspn(line, " \t"), *v;

		p[strcspn(p, "\r\n")] = '\0';
		if (*p == '[') {
			in = !strcmp(p, section);
			continue;
		}
		if (!in || strncmp(p, "key", 3))
			continue;
		v = p + 3 + strspn(p + 3, " \t");
		if (*v != '=')
			continue;
		v += 1 + strspn(v + 1, " \t");
		v[strcspn(v, " \t")] = '\0';
		if (*v && strlen(v) < len) {
			snprintf(key, len, "%s", v);
			found = 0;
		}
	}
	fclose(f);
	return found;
}

/* The user's cephx key: "key", "keyfile", else the first keyring that has it. */
static int cephx_key(rados_t cl, const char *entity, char *key, size_t len)
{
	char buf[1024], *tok, *save;

	if (!rados_conf_get(cl, "key", key, len) && key[0])
		return 0;
	if (!rados_conf_get(cl, "keyfile", buf, sizeof(buf)) && buf[0]) {
		FILE *f = fopen(buf, "re");
		int ok = f && fgets(key, (int)len, f);

		if (f)
			fclose(f);
		key[strcspn(key, " \t\r\n")] = '\0';
		return ok && key[0] ? 0 : -ENOENT;
	}
	if (rados_conf_get(cl, "keyring", buf, sizeof(buf)))
		return -ENOENT;
	for (tok = strtok_r(buf, ",;", &save); tok; tok = strtok_r(NULL, ",;", &save)) {
		tok += strspn(tok, " \t");
		if (!strchr(tok, '$') && !keyring_key(tok, entity, key, len))
			return 0;
	}
	return -ENOENT;
}

/*
 * The entity librados connected as. Its config cannot be asked for it; our
 * handles are made with rados_create(.., NULL), so it is client.admin unless
 * CEPH_ARGS names another (--id/--user X, --name/-n client.X).
 */
static void entity_name(char *out, size_t len)
{
	const char *env = getenv("CEPH_ARGS");
	char buf[1024], *tok, *save, *prev = NULL;

	snprintf(out, len, "client.admin");
	if (!env)
		return;
	snprintf(buf, sizeof(buf), "%s", env);
	for (tok = strtok_r(buf, " \t", &save); tok; prev = tok, tok = strtok_r(NULL, " \t", &save)) {
		const char *v = NULL;
		int is_id = 0;

		if (!strncmp(tok, "--id=", 5) || !strncmp(tok, "--user=", 7)) {
			v = strchr(tok, '=') + 1;
			is_id = 1;
		} else if (!strncmp(tok, "--name=", 7)) {
			v = tok + 7;
		} else if (prev && (!strcmp(prev, "--id") || !strcmp(prev, "--user") || !strcmp(prev, "-i"))) {
			v = tok;
			is_id = 1;
		} else if (prev && (!strcmp(prev, "--name") || !strcmp(prev, "-n"))) {
			v = tok;
		}
		if (v && is_id)
			snprintf(out, len, "client.%s", v);
		else if (v)
			snprintf(out, len, "%s", v);
	}
}

int restore_krbd_spec(rados_t cl, struct restore_krbd *k)
{
	char mon_host[1024], entity[128], auth[128], key[256];
	int msgr2, cephx;

	memset(k, 0, sizeof(*k));
	if (rados_conf_get(cl, "mon_host", mon_host, sizeof(mon_host)) || !mon_host[0] ||
	    mon_addrs(mon_host, k->mons, sizeof(k->mons), &msgr2))
		return -EAGAIN;
	entity_name(entity, sizeof(entity));
	if (strncmp(entity, "client.", 7) || strlen(entity + 7) > 100)
		return -EAGAIN;
	cephx = rados_conf_get(cl, "auth_client_required", auth, sizeof(auth)) ||
		strstr(auth, "cephx");
	key[0] = '\0';
	if (cephx && (cephx_key(cl, entity, key, sizeof(key)) || strlen(key) > 200)) {
		memset(key, 0, sizeof(key));
		return -EAGAIN;
	}
	/* both lengths bounded above: the line fits k->opts */
	snprintf(k->opts, sizeof(k->opts), "name=%.100s%s%.200s%s", entity + 7,
		 cephx ? ",secret=" : "", key, msgr2 ? ",ms_mode=prefer-crc" : "");
	memset(key, 0, sizeof(key));
	k->ok = 1;
	return 0;
}

static int read_attr(int id, const char *attr, char *buf, size_t len)
{
	char path[128];
	int fd, n;

	snprintf(path, sizeof(path), RBD_SYSFS "/devices/%d/%s", id, attr);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = (int)read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -EIO;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

/* The newest mapping of pool/image at its head: the one we just added. */
static int find_device(const char *pool, const char *image)
{
	char p[256], n[256], s[256];
	struct dirent *de;
	int best = -1, id;
	DIR *d = opendir(RBD_SYSFS "/devices");

	if (!d)
		return -1;
	while ((de = readdir(d))) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		id = atoi(de->d_name);
		if (!read_attr(id, "pool", p, sizeof(p)) && !strcmp(p, pool) &&
		    !read_attr(id, "name", n, sizeof(n)) && !strcmp(n, image) &&
		    !read_attr(id, "current_snap", s, sizeof(s)) && !strcmp(s, "-") && id > best)
			best = id;
	}
	closedir(d);
	return best;
}

int restore_krbd_map(const struct restore_krbd *k, const char *pool, const char *image,
		     double timeout_s, char *dev, size_t devlen, char *err, size_t errlen)
{
	char line[1536];
	double t0;
	ssize_t n;
	int fd, id, len;

	if (!k->ok)
		return -EAGAIN;
	fd = open(RBD_SYSFS "/add_single_major", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -EAGAIN;	/* rbd not loaded, or no single-major: the tool knows */
	/* mount_timeout: an unreachable monitor fails within our budget, not 60 s */
	len = snprintf(line, sizeof(line), "%s %s,mount_timeout=%d %s %s -", k->mons, k->opts,
		       timeout_s >= 1 ? (int)timeout_s : 1, pool, image);
	n = len < (int)sizeof(line) ? write(fd, line, len) : -1;
	memset(line, 0, sizeof(line));	/* it held the secret */
	close(fd);
	if (n != len)
		return -EAGAIN;
	id = find_device(pool, image);
	if (id < 0) {
		snprintf(err, errlen, "the kernel mapped %s/%s but no rbd device shows it", pool, image);
		return -EIO;
	}
	snprintf(dev, devlen, "/dev/rbd%d", id);
	/* devtmpfs creates the node itself; without udev nothing else would */
	for (t0 = cdp_mono(); access(dev, F_OK) && cdp_mono() - t0 < 5;)
		usleep(10000);
	if (access(dev, F_OK)) {
		snprintf(err, errlen, "rbd device %d was added but %s did not appear (is devtmpfs mounted on /dev?)",
			 id, dev);
		return -ENODEV;
	}
	return 0;
}
