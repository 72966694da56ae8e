// SPDX-License-Identifier: GPL-2.0
/* util.c - see util.h */
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

int cdp_parse_size(const char *s, uint64_t *out)
{
	char *end;
	double v;
	uint64_t mult = 1;

	if (!s || !*s || *s == '-' || isspace((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || v < 0)
		return -EINVAL;
	switch (toupper((unsigned char)*end)) {
	case 'P': mult <<= 10; /* fall through */
	case 'T': mult <<= 10; /* fall through */
	case 'G': mult <<= 10; /* fall through */
	case 'M': mult <<= 10; /* fall through */
	case 'K': mult <<= 10; end++; break;
	case 'B': case '\0': break;
	default: return -EINVAL;
	}
	if (!strcasecmp(end, "iB") || !strcasecmp(end, "B"))
		end += strlen(end);
	if (*end)
		return -EINVAL;
	if (v * (double)mult >= 18446744073709551615.0)
		return -ERANGE;
	*out = (uint64_t)(v * (double)mult);
	/* "1.5" bytes is not a size */
	if (mult == 1 && v != (double)*out)
		return -EINVAL;
	return 0;
}

/*
 * User-data capacity of the BD-R classes in 2048-byte sectors, from the
 * BD-R format (ISO/IEC 30191/30193): a drive reports these exact numbers.
 */
static const struct {
	const char *name;
	uint64_t sectors;
} bd_classes[] = {
	{ "25G",  12219392ULL },	/* BD-R SL */
	{ "50G",  24438784ULL },	/* BD-R DL */
	{ "100G", 48878592ULL },	/* BD-R XL TL */
	{ "128G", 62500864ULL },	/* BD-R XL QL */
	{ "200G", 97656250ULL },	/* 200 GB class archival media */
};

int cdp_parse_capacity(const char *s, uint64_t *out)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bd_classes); i++) {
		if (s && !strcasecmp(s, bd_classes[i].name)) {
			*out = bd_classes[i].sectors * 2048;
			return 0;
		}
	}
	return cdp_parse_size(s, out);
}

char *cdp_fmt_size(uint64_t bytes, char *buf, size_t len)
{
	static const char *units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
	double v = (double)bytes;
	size_t u = 0;

	while (v >= 1024 && u + 1 < ARRAY_SIZE(units)) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%llu B", (unsigned long long)bytes);
	else
		snprintf(buf, len, "%.1f %s", v, units[u]);
	return buf;
}

char *cdp_fmt_time(time_t t, char *buf, size_t len)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return buf;
}

static double clock_secs(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

double cdp_now(void)
{
	return clock_secs(CLOCK_REALTIME);
}

double cdp_mono(void)
{
	return clock_secs(CLOCK_MONOTONIC);
}

void cdp_hex(const uint8_t *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * len] = '\0';
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int cdp_unhex(const char *in, uint8_t *out, size_t len)
{
	size_t i;

	if (strlen(in) != 2 * len)
		return -EINVAL;
	for (i = 0; i < len; i++) {
		int hi = hexval(in[2 * i]), lo = hexval(in[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

void cdp_event(const char *fmt, ...)
{
	va_list ap;

	fputs("cdpctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int cdp_random_id(char out[33])
{
	uint8_t b[16];

	if (RAND_bytes(b, sizeof(b)) != 1)
		return -EIO;
	cdp_hex(b, sizeof(b), out);
	return 0;
}

struct cdp_sha256 {
	EVP_MD_CTX *ctx;
};

struct cdp_sha256 *cdp_sha256_new(void)
{
	struct cdp_sha256 *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->ctx = EVP_MD_CTX_new();
	if (!h->ctx || EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) != 1) {
		cdp_sha256_free(h);
		return NULL;
	}
	return h;
}

void cdp_sha256_update(struct cdp_sha256 *h, const void *data, size_t len)
{
	EVP_DigestUpdate(h->ctx, data, len);
}

void cdp_sha256_zeros(struct cdp_sha256 *h, uint64_t len)
{
	static const uint8_t zero[65536];

	while (len) {
		size_t n = len < sizeof(zero) ? (size_t)len : sizeof(zero);

		EVP_DigestUpdate(h->ctx, zero, n);
		len -= n;
	}
}

void cdp_sha256_final_hex(struct cdp_sha256 *h, char *hex)
{
	uint8_t md[CDP_SHA256_LEN];
	unsigned int n = 0;

	EVP_DigestFinal_ex(h->ctx, md, &n);
	cdp_hex(md, CDP_SHA256_LEN, hex);
	EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL);
}

void cdp_sha256_free(struct cdp_sha256 *h)
{
	if (!h)
		return;
	EVP_MD_CTX_free(h->ctx);
	free(h);
}

void cdp_hold_signals(sigset_t *old)
{
	sigset_t s;

	sigemptyset(&s);
	sigaddset(&s, SIGINT);
	sigaddset(&s, SIGTERM);
	sigaddset(&s, SIGHUP);
	sigaddset(&s, SIGQUIT);
	sigprocmask(SIG_BLOCK, &s, old);
}
