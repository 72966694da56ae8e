/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * dm-cdp: kernel/userspace ABI of the device-mapper target "cdp".
 *
 * The one header shared by dm-cdp.ko and userspace (libcdp, cdpd, cdpctl,
 * tests). It holds names and numbers only: the generic netlink family,
 * its commands and attributes, the record types and flags of the capture
 * stream, and the on-disk metadata magic and version. Numbers are never
 * reused; retired ones stay here commented out.
 *
 * docs/netlink-protocol.md and docs/metadata-format.md describe the use.
 */
#ifndef _UAPI_DM_CDP_H
#define _UAPI_DM_CDP_H

#define CDP_GENL_NAME		"dm_cdp"
#define CDP_GENL_VERSION	1
#define CDP_GENL_MCAST_EVENTS	"events"

/* Longest volume_id (table argument), without the terminating NUL. */
#define CDP_VOLUME_ID_MAX	63

/*
 * Largest data piece the kernel puts in one CDP_REC_ATTR_DATA attribute.
 * nla_len is 16 bits, so a record bigger than this (or bigger than what is
 * left in a dump skb) arrives as several pieces with the same seq and
 * increasing CDP_REC_ATTR_OFFSET.
 */
#define CDP_PIECE_MAX		61440

/* Commands. */
enum cdp_cmd {
	CDP_CMD_UNSPEC,
	CDP_CMD_LIST,		/* dump: one CDP_ATTR_VOLINFO per volume */
	CDP_CMD_ATTACH,		/* VOLUME -> reply with VOLINFO */
	CDP_CMD_DETACH,		/* VOLUME */
	CDP_CMD_FETCH,		/* dump: VOLUME, SEQ [, MAX_BYTES] -> RECORDs */
	CDP_CMD_ACK,		/* VOLUME, SEQ */
	CDP_CMD_MARK,		/* VOLUME -> reply with SEQ */
	CDP_CMD_EVENT,		/* multicast "events": VOLUME, EVENT, SEQ */
	CDP_CMD_NOTIFY,		/* multicast "events": VOLUME; records queued */
	__CDP_CMD_MAX,
};
#define CDP_CMD_MAX (__CDP_CMD_MAX - 1)

/*
 * Top-level attributes.
 *
 * FETCH reply (one genl message per dump skb):
 *   CDP_ATTR_RECORD (nested, repeated)
 *     CDP_REC_ATTR_SEQ, _OFFSET, _LEN, _SECTOR, _OP, _FLAGS, _TIME, _DATA
 *
 * LIST reply, ATTACH reply:
 *   CDP_ATTR_VOLINFO (nested)
 *     CDP_VOL_ATTR_*
 */
enum cdp_attr {
	CDP_ATTR_UNSPEC,
	CDP_ATTR_VOLUME,	/* NUL-terminated string, the table's volume_id */
	CDP_ATTR_SEQ,		/* u64 */
	CDP_ATTR_MAX_BYTES,	/* u32: FETCH stops after about this much data */
	CDP_ATTR_RECORD,	/* nested CDP_REC_ATTR_* */
	CDP_ATTR_VOLINFO,	/* nested CDP_VOL_ATTR_* */
	CDP_ATTR_EVENT,		/* u32, enum cdp_event */
	CDP_ATTR_PAD,
	__CDP_ATTR_MAX,
};
#define CDP_ATTR_MAX (__CDP_ATTR_MAX - 1)

enum cdp_rec_attr {
	CDP_REC_ATTR_UNSPEC,
	CDP_REC_ATTR_SEQ,	/* u64 */
	CDP_REC_ATTR_OFFSET,	/* u32: byte offset of this piece in the record */
	CDP_REC_ATTR_LEN,	/* u32: whole record length in bytes */
	CDP_REC_ATTR_SECTOR,	/* u64: 512-byte sector on the volume */
	CDP_REC_ATTR_OP,	/* u8, enum cdp_rec_op */
	CDP_REC_ATTR_FLAGS,	/* u32, CDP_REC_F_* */
	CDP_REC_ATTR_TIME,	/* u64: CLOCK_REALTIME ns at completion */
	CDP_REC_ATTR_DATA,	/* binary piece, only for CDP_OP_WRITE */
	CDP_REC_ATTR_PAD,
	__CDP_REC_ATTR_MAX,
};
#define CDP_REC_ATTR_MAX (__CDP_REC_ATTR_MAX - 1)

enum cdp_vol_attr {
	CDP_VOL_ATTR_UNSPEC,
	CDP_VOL_ATTR_VOLUME,	/* string */
	CDP_VOL_ATTR_MODE,	/* u8, enum cdp_mode */
	CDP_VOL_ATTR_STATE,	/* u8, enum cdp_state */
	CDP_VOL_ATTR_ORIGIN_SECTORS,	/* u64 */
	CDP_VOL_ATTR_REGION_SECTORS,	/* u32 */
	CDP_VOL_ATTR_REGIONS,	/* u64: total regions */
	CDP_VOL_ATTR_DIRTY,	/* u64: regions set in the on-disk bitmap */
	CDP_VOL_ATTR_RESYNC_LEFT,	/* u64: regions still to resync */
	CDP_VOL_ATTR_QUEUED_RECORDS,	/* u64 */
	CDP_VOL_ATTR_QUEUED_BYTES,	/* u64 */
	CDP_VOL_ATTR_LAST_SEQ,	/* u64 */
	CDP_VOL_ATTR_ACKED_SEQ,	/* u64 */
	CDP_VOL_ATTR_CONSUMER,	/* u32: netlink portid, 0 = none */
	CDP_VOL_ATTR_GENERATION,	/* u64: bumped at every table load */
	CDP_VOL_ATTR_RESYNCED,	/* u64: regions resynced since load */
	CDP_VOL_ATTR_PAD,
	__CDP_VOL_ATTR_MAX,
};
#define CDP_VOL_ATTR_MAX (__CDP_VOL_ATTR_MAX - 1)

/* Record operations (CDP_REC_ATTR_OP). */
enum cdp_rec_op {
	CDP_OP_WRITE = 1,	/* LEN bytes of DATA at SECTOR */
	CDP_OP_DISCARD = 2,	/* LEN bytes at SECTOR discarded (no DATA) */
	CDP_OP_WRITE_ZEROES = 3,	/* LEN bytes at SECTOR are zero */
	/* consistency point: every earlier record is stable on the origin */
	CDP_OP_FLUSH = 4,
	CDP_OP_MARK = 5,	/* CDP_CMD_MARK marker, also a consistency point */
};

/* Record flags (CDP_REC_ATTR_FLAGS). */
#define CDP_REC_F_FUA		(1U << 0)	/* the origin write was FUA */
#define CDP_REC_F_RESYNC	(1U << 1)	/* region content from a resync */
/*
 * Enqueued while syncing: writes that completed before it may be missing
 * from the stream (tracked, or left to the resync), so the replica is not
 * crash-consistent from this record until the resync ends. A consumer
 * keeping a consistent point takes it before the first such record.
 */
#define CDP_REC_F_UNORDERED	(1U << 2)

enum cdp_mode {
	CDP_MODE_ASYNC = 0,
	CDP_MODE_SYNC = 1,
};

enum cdp_state {
	CDP_STATE_REPLICATING = 0,	/* every write is captured */
	CDP_STATE_TRACKING = 1,		/* bitmap only, payloads dropped */
	CDP_STATE_SYNCING = 2,		/* resyncing dirty regions */
	CDP_STATE_DEGRADED = 3,		/* sync mode fell back to async */
};

/* Events (CDP_ATTR_EVENT), multicast on CDP_GENL_MCAST_EVENTS. */
enum cdp_event {
	CDP_EV_OVERFLOW = 1,		/* queue full: payloads dropped */
	CDP_EV_TRACKING = 2,		/* entered tracking */
	CDP_EV_RESYNC_START = 3,
	CDP_EV_RESYNC_DONE = 4,
	CDP_EV_SYNC_DEGRADED = 5,	/* sync timeout, now async */
	CDP_EV_CONSUMER_LOST = 6,	/* the consumer's socket went away */
	CDP_EV_META_ERROR = 7,		/* metadata device I/O failed */
};

/*
 * On-disk metadata (docs/metadata-format.md): a 4 KiB superblock at byte 0,
 * the write-intent bitmap from byte CDP_META_BITMAP_OFFSET.
 * All integers little endian.
 */
#define CDP_META_MAGIC		0x31504443u	/* "CDP1" read as LE bytes */
#define CDP_META_VERSION	1
#define CDP_META_BLOCK		4096
#define CDP_META_BITMAP_OFFSET	4096

#define CDP_SB_F_CLEAN		(1U << 0)	/* written at clean suspend */

#endif /* _UAPI_DM_CDP_H */
