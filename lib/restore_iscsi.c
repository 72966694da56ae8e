// SPDX-License-Identifier: GPL-2.0
/*
 * restore_iscsi.c - export a restored image over iSCSI with tgt's rbd
 * backing store (restore.h): tgtd reads the image through librbd itself,
 * so nothing is mapped on this host. tgt has no library; tgtadm is its API.
 */
#include "restore.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IQN_PREFIX	"iqn.2026-11.org.cdp:"
#define TGTADM_TIMEOUT	30

/* tgtadm ARGS... with the control port of $CDP_TGT_CONTROL_PORT. */
static int tgtadm(char *out, size_t outlen, char *err, size_t errlen, ...)
{
	const char *port = getenv("CDP_TGT_CONTROL_PORT");
	char *argv[32];
	va_list ap;
	int n = 0;

	argv[n++] = "tgtadm";
	if (port) {
		argv[n++] = "-C";
		argv[n++] = (char *)port;
	}
	argv[n++] = "--lld";
	argv[n++] = "iscsi";
	va_start(ap, errlen);
	while (n < 31 && (argv[n] = va_arg(ap, char *)))
		n++;
	va_end(ap);
	argv[n] = NULL;
	return restore_exec(argv, out, outlen, TGTADM_TIMEOUT, err, errlen);
}

/*
 * IQN names allow lower case letters, digits, '.', '-' and ':'. Names that
 * needed changing (db_1, DB-1), and pools with a '.' (rbd.x + y against
 * rbd + x.y), could meet another image's IQN, and --unexport would remove
 * the wrong target: those get "-" and a hash of "pool/image" appended.
 */
void restore_iscsi_iqn(const char *pool, const char *image, char *iqn, size_t len)
{
	size_t n = snprintf(iqn, len, IQN_PREFIX "%s.%s", pool, image), i;
	uint32_t h = 2166136261u;	/* FNV-1a */
	int changed = strchr(pool, '.') != NULL;
	const char *s;

	for (i = strlen(IQN_PREFIX); i < n && i < len; i++) {
		unsigned char c = (unsigned char)iqn[i];
		char d = isalnum(c) || c == '.' || c == '-' ? (char)tolower(c) : '-';

		changed |= d != (char)c;
		iqn[i] = d;
	}
	if (!changed)
		return;
	for (s = pool; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	h = (h ^ '/') * 16777619u;
	for (s = image; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	n = strlen(iqn);
	if (n + 10 < len)
		snprintf(iqn + n, len - n, "-%08x", h);
}

/* Scan "Target N: IQN" lines: tid of iqn (0 if absent), highest tid in use. */
static int scan_targets(const char *iqn, int *tid, int *max, char *err, size_t errlen)
{
	static char out[1 << 16];
	char terr[512];
	const char *p;
	int r;

	r = tgtadm(out, sizeof(out), terr, sizeof(terr), "--mode", "target", "--op", "show", (char *)NULL);
	if (r) {
		snprintf(err, errlen, "tgtd does not answer (%s): start it (`systemctl start tgt`, or tgtd%s)",
			 terr[0] ? terr : "tgtadm failed",
			 getenv("CDP_TGT_CONTROL_PORT") ? " -C $CDP_TGT_CONTROL_PORT" : "");
		return -ENOTCONN;
	}
	*tid = 0;
	*max = 0;
	for (p = out; (p = strstr(p, "Target ")); p++) {
		char name[256];
		int t;

		if ((p != out && p[-1] != '\n') || sscanf(p, "Target %d: %255s", &t, name) != 2)
			continue;
		if (t > *max)
			*max = t;
		if (!strcmp(name, iqn))
			*tid = t;
	}
	return 0;
}

static void default_portal(char *buf, size_t len)
{
	struct ifaddrs *ifa, *i;

	snprintf(buf, len, "<this host's address>:3260");
	if (getifaddrs(&ifa))
		return;
	for (i = ifa; i; i = i->ifa_next) {
		char a[INET_ADDRSTRLEN];

		if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET ||
		    (i->ifa_flags & IFF_LOOPBACK) || !(i->ifa_flags & IFF_UP))
			continue;
		inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, a, sizeof(a));
		snprintf(buf, len, "%s:3260", a);
		break;
	}
	freeifaddrs(ifa);
}

int restore_iscsi_export(const char *pool, const char *image, const char *allow,
			 const char *portal, struct restore_iscsi *o,
			 char *err, size_t errlen)
{
	char tid[16], spec[260], bsopts[4200], out[1024], terr[1024];
	const char *conf = getenv("CEPH_CONF");
	int have, max, r;

	memset(o, 0, sizeof(*o));
	restore_iscsi_iqn(pool, image, o->iqn, sizeof(o->iqn));
	r = scan_targets(o->iqn, &have, &max, err, errlen);
	if (r)
		return r;
	if (have) {
		snprintf(err, errlen, "%s/%s is already exported as %s (tid %d); remove it with `cdpctl restore --unexport %s/%s`",
			 pool, image, o->iqn, have, pool, image);
		return -EEXIST;
	}
	o->tid = max + 1;
	snprintf(tid, sizeof(tid), "%d", o->tid);
	snprintf(spec, sizeof(spec), "%s/%s", pool, image);
	snprintf(bsopts, sizeof(bsopts), "conf=%s", conf ? conf : "/etc/ceph/ceph.conf");
	r = tgtadm(out, sizeof(out), terr, sizeof(terr), "--mode", "target", "--op", "new",
		   "--tid", tid, "--targetname", o->iqn, (char *)NULL);
	if (r) {
		snprintf(err, errlen, "tgtadm cannot create target %s: %s", o->iqn, terr);
		return -EIO;
	}
	r = tgtadm(out, sizeof(out), terr, sizeof(terr), "--mode", "logicalunit", "--op", "new",
		   "--tid", tid, "--lun", "1", "--bstype", "rbd", "--backing-store", spec,
		   "--bsopts", bsopts, (char *)NULL);
	if (r) {
		snprintf(err, errlen, "tgt cannot open %s with its rbd backing store: %s (is the tgt-rbd package installed? does tgtd reach the cluster?)",
			 spec, terr);
		goto undo;
	}
	r = tgtadm(out, sizeof(out), terr, sizeof(terr), "--mode", "target", "--op", "bind",
		   "--tid", tid, "--initiator-address", (char *)(allow ? allow : "ALL"), (char *)NULL);
	if (r) {
		snprintf(err, errlen, "tgtadm cannot allow initiator %s: %s", allow ? allow : "ALL", terr);
		goto undo;
	}
	if (portal && strchr(portal, ':'))
		snprintf(o->portal, sizeof(o->portal), "%s", portal);
	else if (portal)
		snprintf(o->portal, sizeof(o->portal), "%s:3260", portal);
	else
		default_portal(o->portal, sizeof(o->portal));
	snprintf(o->login, sizeof(o->login),
		 "iscsiadm -m discovery -t sendtargets -p %s && iscsiadm -m node -T %s -p %s --login",
		 o->portal, o->iqn, o->portal);
	return 0;
undo:
	tgtadm(out, sizeof(out), terr, sizeof(terr), "--mode", "target", "--op", "delete",
	       "--force", "--tid", tid, (char *)NULL);
	return -EIO;
}

int restore_iscsi_unexport(const char *pool, const char *image, char *err, size_t errlen)
{
	char iqn[224], tid[16], out[256], terr[512];
	int have, max, r;

	restore_iscsi_iqn(pool, image, iqn, sizeof(iqn));
	r = scan_targets(iqn, &have, &max, err, errlen);
	if (r)
		return r;
	if (!have) {
		snprintf(err, errlen, "%s/%s is not exported (no target %s)", pool, image, iqn);
		return -ENOENT;
	}
	snprintf(tid, sizeof(tid), "%d", have);
	r = tgtadm(out, sizeof(out), terr, sizeof(terr), "--mode", "target", "--op", "delete",
		   "--force", "--tid", tid, (char *)NULL);
	if (r) {
		snprintf(err, errlen, "tgtadm cannot remove target %s: %s", iqn, terr);
		return -EIO;
	}
	return 0;
}
