/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nl.h - libnl-genl-3 client of the dm_cdp generic netlink family
 * (docs/netlink-protocol.md). Used by the test consumer and cdpd.
 *
 * One struct cdp_nl per socket: the family is resolved once at open. All
 * calls return 0 or -errno; on failure cdp_nl_error() holds a sentence
 * (the kernel's extended-ack text when it sent one). The consumer of a
 * volume must ATTACH, FETCH and ACK on the same handle: the kernel binds
 * the volume to the socket, and detaches it when the socket closes.
 * Not thread safe: one handle per thread.
 */
#ifndef CDP_NL_H
#define CDP_NL_H

#include <stddef.h>
#include <stdint.h>
#include "dm-cdp.h"

struct cdp_nl;

struct cdp_volinfo {
	char volume[CDP_VOLUME_ID_MAX + 1];
	uint8_t mode;			/* enum cdp_mode */
	uint8_t state;			/* enum cdp_state */
	uint64_t origin_sectors;
	uint32_t region_sectors;
	uint64_t regions, dirty, resync_left, resynced;
	uint64_t queued_records, queued_bytes;
	uint64_t last_seq, acked_seq, generation;
	uint32_t consumer;		/* netlink portid, 0 = none */
};

/* One complete record (pieces already joined). data: len bytes for WRITE. */
struct cdp_record {
	uint64_t seq;
	uint64_t sector;
	uint64_t time_ns;
	uint32_t len;
	uint32_t flags;			/* CDP_REC_F_* */
	uint8_t op;			/* enum cdp_rec_op */
	const void *data;		/* NULL unless op == CDP_OP_WRITE */
};

struct cdp_nl_event {
	char volume[CDP_VOLUME_ID_MAX + 1];
	uint8_t cmd;			/* CDP_CMD_EVENT or CDP_CMD_NOTIFY */
	uint32_t event;			/* enum cdp_event, 0 for NOTIFY */
	uint64_t seq;
};

/* Returns 0 to go on, anything else stops the fetch and is returned. */
typedef int (*cdp_record_cb)(const struct cdp_record *rec, void *arg);

/* On failure *out is NULL; cdp_nl_open_error() says why and what to do. */
int cdp_nl_open(struct cdp_nl **out);
const char *cdp_nl_open_error(int r);
void cdp_nl_close(struct cdp_nl *nl);
const char *cdp_nl_error(const struct cdp_nl *nl);
/* The socket's file descriptor (for poll() on an events handle). */
int cdp_nl_fd(const struct cdp_nl *nl);

int cdp_nl_list(struct cdp_nl *nl,
		int (*cb)(const struct cdp_volinfo *vi, void *arg), void *arg);
/* One volume's numbers by name (a LIST filtered here); -ENOENT if absent. */
int cdp_nl_info(struct cdp_nl *nl, const char *volume, struct cdp_volinfo *vi);
int cdp_nl_attach(struct cdp_nl *nl, const char *volume, struct cdp_volinfo *vi);
int cdp_nl_detach(struct cdp_nl *nl, const char *volume);
int cdp_nl_ack(struct cdp_nl *nl, const char *volume, uint64_t seq);
int cdp_nl_mark(struct cdp_nl *nl, const char *volume, uint64_t *seq);

/*
 * Fetch the records after @after_seq (about @max_bytes of data, 0 = the
 * kernel's default) and call @cb for each, in seq order. @cb must not send
 * requests on @nl (the dump is still being received): ACK afterwards. *@count (may be
 * NULL) gets the number of records delivered. A record cut off at the end
 * of the batch is not delivered; it comes again in the next fetch.
 */
int cdp_nl_fetch(struct cdp_nl *nl, const char *volume, uint64_t after_seq,
		 uint32_t max_bytes, cdp_record_cb cb, void *arg, size_t *count);

/*
 * From a record callback: the WRITE payload of @rec as a malloc'd buffer
 * the caller owns (free() it). A record joined from pieces hands over the
 * join buffer itself, otherwise the payload is copied once; a consumer
 * that keeps payloads (the apply engine) so avoids a second copy. NULL if
 * out of memory or @rec has no payload.
 */
void *cdp_nl_take_data(struct cdp_nl *nl, const struct cdp_record *rec);

/* FETCH totals since open: seconds spent in recvmsg, datagrams received. */
void cdp_nl_fetch_stats(const struct cdp_nl *nl, double *recv_s, uint64_t *datagrams);

/* Join the "events" multicast group on this handle (use a separate one). */
int cdp_nl_subscribe(struct cdp_nl *nl);
/*
 * Wait up to @timeout_ms (-1: forever) for one event; 0 with ev filled,
 * -ETIMEDOUT, or -errno.
 */
int cdp_nl_event_wait(struct cdp_nl *nl, int timeout_ms, struct cdp_nl_event *ev);

const char *cdp_state_name(unsigned int state);
const char *cdp_event_name(unsigned int event);
const char *cdp_op_name(unsigned int op);

#endif /* CDP_NL_H */
