/* SPDX-License-Identifier: GPL-2.0 */
/*
 * archive_disc.h - reading a written disc: its ISO 9660 tree (libisofs),
 * its manifest, and each chunk with its SHA-256 checked. Used by the
 * verify-after-write, `archive verify|show` and `archive restore`.
 *
 * A disc whose manifest cannot be read (a truncated disc loses it first:
 * it is the last file) is still identified from README.TXT when possible,
 * so errors can name "disc 2 of 3 (label X)".
 */
#ifndef CDP_ARCHIVE_DISC_H
#define CDP_ARCHIVE_DISC_H

#include "archive.h"

struct archive_disc {
	char addr[4200];		/* as the user gave it */
	/* from the manifest when manifest_ok, else from README.TXT */
	char id[ARCHIVE_ID_LEN + 1];
	uint32_t no, of;
	char label[64];
	int identified;			/* id/no/of/label are known */
	int manifest_ok;
	char manifest_err[512];
	struct archive_plan m;		/* valid when manifest_ok */
	uint64_t used;			/* ISO size in bytes */
	void *image;			/* IsoImage */
	int fd;				/* the image, for direct chunk reads */
};

/*
 * Open the disc in drive addr (stdio:PATH or /dev/srN). Fails (with err)
 * only when it is not a readable ISO image; a bad manifest is reported in
 * manifest_ok/manifest_err.
 */
int archive_disc_open(const char *addr, struct archive_disc **out, char *err,
		      size_t errlen);
void archive_disc_close(struct archive_disc *d);

/* A short name for messages: "disc 2 of 3 (label L, stdio:/x)". */
const char *archive_disc_name(const struct archive_disc *d, char *buf, size_t len);

/*
 * Read chunk idx (listed in this disc's manifest) into buf (its length,
 * at most chunk_size bytes) and check its size and SHA-256 against the
 * manifest. 0, or -ENOENT (file missing), -EIO (unreadable/truncated),
 * -EBADMSG (wrong size or hash); err names the chunk and what failed.
 */
int archive_disc_read_chunk(struct archive_disc *d, uint32_t idx, uint8_t *buf,
			    char *err, size_t errlen);

/*
 * For a disc whose manifest is lost: which chunk files lie (partly) beyond
 * the end of the disc image. *first_cut = UINT32_MAX if none; *nfiles is the
 * number of chunk files in its directory. Only meaningful for images whose
 * size is known (pseudo-drives, d->used != 0).
 */
void archive_disc_cut_chunks(struct archive_disc *d, uint32_t *first_cut,
			     uint32_t *ncut, uint32_t *nfiles);

#endif
