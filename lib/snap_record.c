// SPDX-License-Identifier: GPL-2.0
/* snap_record.c - see snap_record.h */
#include "snap_record.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int needs_escape(unsigned char c)
{
	return c <= ' ' || c == '%' || c == '=' || c == 0x7f;
}

int rec_put(char *buf, size_t len, const char *key, const char *value)
{
	size_t n = strlen(buf);
	const unsigned char *p;

	n += snprintf(buf + n, n < len ? len - n : 0, "%s%s=", n ? " " : "", key);
	for (p = (const unsigned char *)value; *p && n < len; p++) {
		if (needs_escape(*p))
			n += snprintf(buf + n, len - n, "%%%02X", *p);
		else
			buf[n++] = *p;
	}
	if (n >= len)
		return -ENOSPC;
	buf[n] = '\0';
	return 0;
}

int rec_get(const char *rec, const char *key, char *out, size_t len)
{
	size_t kl = strlen(key), o = 0;
	const char *p = rec;

	while (*p) {
		const char *end = p + strcspn(p, " ");

		if ((size_t)(end - p) > kl && !strncmp(p, key, kl) && p[kl] == '=') {
			for (p += kl + 1; p < end && o + 1 < len; p++) {
				if (*p == '%' && end - p >= 3) {
					char hex[3] = { p[1], p[2], 0 };

					out[o++] = (char)strtol(hex, NULL, 16);
					p += 2;
				} else {
					out[o++] = *p;
				}
			}
			out[o] = '\0';
			return 0;
		}
		p = *end ? end + 1 : end;
	}
	if (len)
		out[0] = '\0';
	return -ENOENT;
}

static int put_u64(char *buf, size_t len, const char *key, unsigned long long v)
{
	char s[32];

	snprintf(s, sizeof(s), "%llu", v);
	return rec_put(buf, len, key, s);
}

static unsigned long long get_u64(const char *rec, const char *key, unsigned long long dflt)
{
	char s[32], *end;
	unsigned long long v;

	if (rec_get(rec, key, s, sizeof(s)) || !s[0])
		return dflt;
	v = strtoull(s, &end, 10);
	return *end ? dflt : v;
}

int snap_record_encode(const struct snap_row *r, char *buf, size_t len)
{
	char ms[32];
	int e = 0;

	buf[0] = '\0';
	snprintf(ms, sizeof(ms), "%.1f", r->freeze_ms);
	e |= rec_put(buf, len, "v", "1");
	e |= rec_put(buf, len, "name", r->name);
	e |= put_u64(buf, len, "time", (unsigned long long)r->created_at);
	e |= put_u64(buf, len, "seq", r->seq);
	e |= rec_put(buf, len, "group", r->group);
	if (r->freeze_ms >= 0)
		e |= rec_put(buf, len, "freeze_ms", ms);
	e |= rec_put(buf, len, "freeze", r->freeze);
	e |= put_u64(buf, len, "protected", r->protect);
	e |= rec_put(buf, len, "state", r->state[0] ? r->state : "live");
	e |= rec_put(buf, len, "discs", r->discs);
	return e ? -ENOSPC : 0;
}

int snap_record_decode(const char *rec, struct snap_row *r)
{
	char ms[32];

	memset(r, 0, sizeof(*r));
	if (rec_get(rec, "name", r->name, sizeof(r->name)) || !r->name[0])
		return -EINVAL;
	r->created_at = (int64_t)get_u64(rec, "time", 0);
	r->seq = get_u64(rec, "seq", 0);
	rec_get(rec, "group", r->group, sizeof(r->group));
	r->freeze_ms = rec_get(rec, "freeze_ms", ms, sizeof(ms)) || !ms[0] ? -1 : atof(ms);
	rec_get(rec, "freeze", r->freeze, sizeof(r->freeze));
	r->protect = get_u64(rec, "protected", 0) != 0;
	if (rec_get(rec, "state", r->state, sizeof(r->state)) || !r->state[0])
		strcpy(r->state, "live");
	rec_get(rec, "discs", r->discs, sizeof(r->discs));
	return 0;
}

int volume_record_encode(const struct cat_volume *v, char *buf, size_t len)
{
	int e = 0;

	buf[0] = '\0';
	e |= rec_put(buf, len, "v", "1");
	e |= rec_put(buf, len, "name", v->name);
	e |= rec_put(buf, len, "pool", v->pool);
	e |= rec_put(buf, len, "image", v->image);
	e |= rec_put(buf, len, "mode", v->mode[0] ? v->mode : "async");
	e |= put_u64(buf, len, "created", (unsigned long long)v->created_at);
	return e ? -ENOSPC : 0;
}

int volume_record_decode(const char *rec, struct cat_volume *v)
{
	memset(v, 0, sizeof(*v));
	if (rec_get(rec, "name", v->name, sizeof(v->name)) || !v->name[0] ||
	    rec_get(rec, "pool", v->pool, sizeof(v->pool)) || !v->pool[0] ||
	    rec_get(rec, "image", v->image, sizeof(v->image)) || !v->image[0])
		return -EINVAL;
	if (rec_get(rec, "mode", v->mode, sizeof(v->mode)) ||
	    (strcmp(v->mode, "async") && strcmp(v->mode, "sync")))
		strcpy(v->mode, "async");
	v->created_at = (int64_t)get_u64(rec, "created", 0);
	return 0;
}
