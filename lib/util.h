/* SPDX-License-Identifier: GPL-2.0 */
/*
 * util.h - small helpers shared by libcdp and the tools: size parsing and
 * printing, time stamps, hex, SHA-256 (OpenSSL EVP) and random ids.
 *
 * Nothing here exits or prints: errors are returned as -errno so library
 * callers decide what to tell the user.
 */
#ifndef CDP_UTIL_H
#define CDP_UTIL_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define CDP_SHA256_LEN		32
#define CDP_SHA256_HEX		(2 * CDP_SHA256_LEN + 1)

#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
#define DIV_ROUND_UP(n, d)	(((n) + (d) - 1) / (d))
#define ROUND_UP(n, d)		(DIV_ROUND_UP(n, d) * (d))

/*
 * Parse "4096", "64K", "25G", "1.5T" (binary units, K/M/G/T/P, optional
 * trailing "iB"/"B"). Optical media sizes are given in decimal by their
 * makers, so the names "25G", "50G", "100G", "128G", "200G" are looked up in
 * cdp_parse_capacity() instead. Returns 0 or -EINVAL/-ERANGE.
 */
int cdp_parse_size(const char *s, uint64_t *out);

/*
 * Disc capacities: "25G|50G|100G|128G|200G" are the nominal BD-R class
 * names and map to the real user-data capacity of that medium (e.g. BD-R SL
 * 25G = 12,219,392 sectors of 2048 bytes); anything else is a plain size.
 */
int cdp_parse_capacity(const char *s, uint64_t *out);

/* "12.3 MiB" style, into buf (>= 16 bytes). Returns buf. */
char *cdp_fmt_size(uint64_t bytes, char *buf, size_t len);

/* UTC "2026-11-25T23:59:01Z" into buf (>= 21 bytes). Returns buf. */
char *cdp_fmt_time(time_t t, char *buf, size_t len);

/* Seconds since the epoch with sub-second precision (CLOCK_REALTIME). */
double cdp_now(void);
/* Monotonic seconds, for rates and timeouts. */
double cdp_mono(void);

void cdp_hex(const uint8_t *in, size_t len, char *out /* 2*len+1 */);
int cdp_unhex(const char *in, uint8_t *out, size_t len);

/* An event line for the user on stderr: "cdpctl: <text>". */
void cdp_event(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Random 128-bit id as 32 hex characters (+NUL): archive ids. */
int cdp_random_id(char out[33]);

/*
 * Hold SIGINT, SIGTERM, SIGHUP and SIGQUIT while steps that undo each
 * other on failure run (a Ctrl-C or a lost ssh session half way would
 * leave debris); the old mask goes to @old for sigprocmask(SIG_SETMASK).
 */
void cdp_hold_signals(sigset_t *old);

/* Incremental SHA-256 over OpenSSL EVP; the context is opaque. */
struct cdp_sha256;
struct cdp_sha256 *cdp_sha256_new(void);
void cdp_sha256_update(struct cdp_sha256 *h, const void *data, size_t len);
/* Feed len zero bytes (holes of a sparse image) without a big buffer. */
void cdp_sha256_zeros(struct cdp_sha256 *h, uint64_t len);
/* Finish into hex (CDP_SHA256_HEX bytes) and reset for reuse. */
void cdp_sha256_final_hex(struct cdp_sha256 *h, char *hex);
void cdp_sha256_free(struct cdp_sha256 *h);

#endif
