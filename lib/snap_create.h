/* SPDX-License-Identifier: GPL-2.0 */
/*
 * snap_create.h - one application-consistent snapshot of a volume or a
 * consistency group, driven from the client side of cdpd's control socket:
 *
 *   connect (no daemon: fail, nothing frozen) -> SNAP -> READY
 *   -> pre hook -> FIFREEZE -> netlink MARK of each volume -> FITHAW
 *   -> "MARKED v=seq..." to cdpd -> post hook
 *   -> DONE (every RBD snapshot exists) | ERR
 *
 * When the marks cannot be inserted here (no CAP_NET_ADMIN, module not
 * loaded), cdpd inserts them: FIFREEZE -> MARK -> MARKED -> FITHAW.
 * The file systems are frozen only between FIFREEZE and the marks, and never
 * longer than hook_timeout_s (freeze.h: a guardian enforces it even if this
 * process dies). The post hook runs whenever the pre hook succeeded, so an
 * application quiesced by --pre is always resumed. Used by `cdpctl snap
 * create` and by the scheduler.
 */
#ifndef CDP_SNAP_CREATE_H
#define CDP_SNAP_CREATE_H

#include <stdint.h>
#include <time.h>
#include "freeze.h"

#define SNAP_MAX_VOLS	16

struct snap_request {
	const char *name;		/* snapshot name, checked by snap_proto_valid_name */
	char *const *vols;		/* volume names (the group) */
	int nvols;
	char *const *mnts;		/* mount points to freeze */
	int nmnts;
	const char *pre, *post;		/* hook commands, NULL = none */
	double hook_timeout_s;		/* each hook, and the freeze window */
	double timeout_s;		/* READY and DONE waits (cdpd side timeout too) */
	int protect;
	int no_expedite;		/* FREEZE_NO_EXPEDITE: normal RCU grace periods */
	const char *socket;		/* NULL: snap_proto_socket_path() */
};

struct snap_result {
	time_t time;			/* wall clock at the freeze */
	uint64_t seq[SNAP_MAX_VOLS];	/* MARK seq per volume, in request order */
	double freeze_ms;		/* FIFREEZE to FITHAW (0 without --freeze) */
	double mark_ms;			/* inserting the MARKs (directly or through cdpd) */
	double sync_ms;			/* syncfs before the freeze (not frozen) */
	double fifreeze_ms, fithaw_ms;	/* the ioctls themselves, inside freeze_ms */
	double gap_ms;			/* pre-flush end to FIFREEZE (not frozen) */
	double total_ms;
	struct hook_result pre, post;
	int marked;			/* every volume has its MARK (registered with cdpd) */
	int marked_directly;		/* inserted over our own netlink socket, not by cdpd */
	int done;			/* DONE was received: the snapshots exist */
	int expedited;			/* FIFREEZE ran with expedited RCU */
	int boosted;			/* the window ran at nice -10 */
	char stage[16];			/* where it failed: connect|ready|pre|freeze|mark|thaw|post|done */
	char warn[256];			/* a non-fatal problem (e.g. the pre-flush), "" = none */
};

/* Default name "snap-YYYYMMDDTHHMMSSZ" into buf. */
const char *snap_default_name(char *buf, size_t len);

/*
 * Run the whole exchange. 0 when DONE came and the hooks succeeded; else
 * -errno, err says what failed and what was left (never a frozen fs).
 * A post hook failure after DONE returns -ECANCELED with res->done = 1:
 * the snapshots exist and the caller records them.
 */
int snap_create(const struct snap_request *rq, struct snap_result *res,
		char *err, size_t errlen);

/*
 * The freeze/hook result as one text for catalogs and Ceph records:
 * "frozen=/a,/b freeze_ms=12 pre=exit:0:5ms post=none".
 */
const char *snap_freeze_text(const struct snap_request *rq,
			     const struct snap_result *res, char *buf, size_t len);

#endif
