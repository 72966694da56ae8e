// SPDX-License-Identifier: GPL-2.0
/* archive_disc.c - see archive_disc.h */
#include "archive_disc.h"
#include "archive_drive.h"
#include "archive_iso.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <libisofs/libisofs.h>


/* Read a whole file of the disc into memory (NUL-terminated). */
static int read_file(IsoImage *image, const char *path, char **out, size_t *len,
		     uint64_t max)
{
	IsoNode *node;
	IsoStream *s;
	off_t size;
	char *buf;
	size_t got = 0;
	int ret;

	*out = NULL;
	if (iso_tree_path_to_node(image, path, &node) != 1 ||
	    iso_node_get_type(node) != LIBISO_FILE)
		return -ENOENT;
	s = iso_file_get_stream((IsoFile *)node);
	size = iso_stream_get_size(s);
	if (size < 0 || (uint64_t)size > max)
		return -EFBIG;
	buf = malloc((size_t)size + 1);
	if (!buf)
		return -ENOMEM;
	ret = iso_stream_open(s);
	while (ret >= 0 && got < (size_t)size) {
		ret = iso_stream_read(s, buf + got, (size_t)size - got);
		if (ret == 0)
			break;
		if (ret > 0)
			got += (size_t)ret;
	}
	iso_stream_close(s);
	if (ret < 0 || got != (size_t)size) {
		free(buf);
		return -EIO;
	}
	buf[got] = '\0';
	*out = buf;
	*len = got;
	return 0;
}

static void identify(struct archive_disc *d)
{
	char *text;
	size_t len;

	if (read_file(d->image, "/MANIFEST.TXT", &text, &len,
		      ARCHIVE_MANIFEST_MAX)) {
		snprintf(d->manifest_err, sizeof(d->manifest_err),
			 "MANIFEST.TXT is missing or unreadable (disc truncated or damaged)");
	} else {
		int ret = archive_manifest_parse(text, len, &d->m, d->manifest_err,
						 sizeof(d->manifest_err));

		free(text);
		if (!ret && !d->m.this_disc) {
			archive_plan_free(&d->m);
			snprintf(d->manifest_err, sizeof(d->manifest_err),
				 "MANIFEST.TXT is not a per-disc manifest");
		} else if (!ret) {
			d->manifest_ok = 1;
			d->identified = 1;
			snprintf(d->id, sizeof(d->id), "%s", d->m.id);
			d->no = d->m.this_disc;
			d->of = d->m.ndiscs;
			snprintf(d->label, sizeof(d->label), "%s",
				 d->m.discs[d->no - 1].label);
			return;
		}
	}
	/* fall back on README.TXT (written first, survives truncation) */
	if (!read_file(d->image, "/README.TXT", &text, &len, 1U << 20)) {
		if (!archive_readme_identify(text, d->id, &d->no, &d->of, d->label,
					     sizeof(d->label)))
			d->identified = 1;
		free(text);
	}
}

int archive_disc_open(const char *addr, struct archive_disc **out, char *err,
		      size_t errlen)
{
	const char *path = archive_drive_path(addr);
	struct archive_disc *d;
	IsoDataSource *src = NULL;
	IsoReadOpts *ropts = NULL;
	IsoImage *image = NULL;
	struct stat st;
	int ret;

	*out = NULL;
	ret = archive_libs_init(err, errlen);
	if (ret)
		return ret;
	if (stat(path, &st)) {
		snprintf(err, errlen, "cannot read disc in %s: %s", addr, strerror(errno));
		return -errno;
	}
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->fd = -1;
	snprintf(d->addr, sizeof(d->addr), "%s", addr);
	ret = iso_data_source_new_from_file(path, &src);
	if (ret >= 0)
		ret = iso_image_new("", &image);
	if (ret >= 0)
		ret = iso_read_opts_new(&ropts, 0);
	if (ret >= 0)
		ret = iso_image_import(image, src, ropts, NULL);
	if (ropts)
		iso_read_opts_free(ropts);
	if (src)
		iso_data_source_unref(src);
	if (ret < 0) {
		snprintf(err, errlen,
			 "%s holds no readable ISO 9660 image (%s): not an archive disc, or blank",
			 addr, iso_error_to_msg(ret));
		if (image)
			iso_image_unref(image);
		free(d);
		return -EBADMSG;
	}
	d->image = image;
	d->used = S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0;
	d->fd = open(path, O_RDONLY | O_CLOEXEC);
	identify(d);
	*out = d;
	return 0;
}

void archive_disc_close(struct archive_disc *d)
{
	if (!d)
		return;
	archive_plan_free(&d->m);
	if (d->fd >= 0)
		close(d->fd);
	if (d->image)
		iso_image_unref(d->image);
	free(d);
}

const char *archive_disc_name(const struct archive_disc *d, char *buf, size_t len)
{
	if (d->identified)
		snprintf(buf, len, "disc %u of %u (label %s, %s)", d->no, d->of,
			 d->label, d->addr);
	else
		snprintf(buf, len, "disc in %s", d->addr);
	return buf;
}

/*
 * A chunk file is one contiguous extent on our discs: read it with one
 * pread instead of libisofs' 2 KiB block reads (verify speed matters on a
 * 200 GB disc). Anything else goes through the libisofs stream.
 */
static int read_file_data(struct archive_disc *d, IsoFile *file, IsoStream *s,
			  uint8_t *buf, uint64_t len, uint64_t *got)
{
	struct iso_file_section *sec = NULL;
	int nsec = 0, ret;

	*got = 0;
	if (d->fd >= 0 && iso_file_get_old_image_sections(file, &nsec, &sec, 0) == 1 &&
	    nsec == 1 && sec[0].size == len) {
		off_t off = (off_t)sec[0].block * 2048;

		free(sec);
		while (*got < len) {
			ssize_t n = pread(d->fd, buf + *got, (size_t)(len - *got),
					  off + (off_t)*got);

			if (n <= 0)
				return n < 0 ? -errno : -EIO;
			*got += (uint64_t)n;
		}
		return 0;
	}
	free(sec);
	ret = iso_stream_open(s);
	while (ret >= 0 && *got < len) {
		ret = iso_stream_read(s, buf + *got, (size_t)(len - *got));
		if (ret == 0)
			break;
		if (ret > 0)
			*got += (uint64_t)ret;
	}
	iso_stream_close(s);
	return ret < 0 ? ret : 0;
}

void archive_disc_cut_chunks(struct archive_disc *d, uint32_t *first_cut,
			     uint32_t *ncut, uint32_t *nfiles)
{
	IsoDirIter *it;
	IsoNode *dir, *node;

	*first_cut = UINT32_MAX;
	*ncut = *nfiles = 0;
	if (iso_tree_path_to_node(d->image, "/chunks", &dir) != 1 ||
	    iso_node_get_type(dir) != LIBISO_DIR ||
	    iso_dir_get_children((IsoDir *)dir, &it) < 0)
		return;
	while (iso_dir_iter_next(it, &node) == 1) {
		unsigned int idx;
		uint32_t lba;
		uint64_t end;

		if (iso_node_get_type(node) != LIBISO_FILE ||
		    sscanf(iso_node_get_name(node), "%u.bin", &idx) != 1 ||
		    iso_file_get_old_image_lba((IsoFile *)node, &lba, 0) < 0)
			continue;
		(*nfiles)++;
		end = (uint64_t)lba * 2048 +
		      (uint64_t)iso_stream_get_size(iso_file_get_stream((IsoFile *)node));
		if (d->used && end > d->used) {
			(*ncut)++;
			if (idx < *first_cut)
				*first_cut = idx;
		}
	}
	iso_dir_iter_free(it);
}

int archive_disc_read_chunk(struct archive_disc *d, uint32_t idx, uint8_t *buf,
			    char *err, size_t errlen)
{
	struct archive_chunk *c = archive_plan_chunk(&d->m, idx);
	char path[80], hex[CDP_SHA256_HEX], name[4400];
	struct cdp_sha256 *h;
	IsoNode *node;
	IsoStream *s;
	uint64_t got = 0;
	int ret;

	archive_disc_name(d, name, sizeof(name));
	if (!c) {
		snprintf(err, errlen, "%s: chunk %u is not on this disc", name, idx);
		return -ENOENT;
	}
	path[0] = '/';
	archive_chunk_path(idx, path + 1, sizeof(path) - 1);
	if (iso_tree_path_to_node(d->image, path, &node) != 1 ||
	    iso_node_get_type(node) != LIBISO_FILE) {
		snprintf(err, errlen, "%s: chunk %u (%s) is missing", name, idx, path + 1);
		return -ENOENT;
	}
	s = iso_file_get_stream((IsoFile *)node);
	if ((uint64_t)iso_stream_get_size(s) != c->length) {
		snprintf(err, errlen, "%s: chunk %u (%s) has %lld bytes, the manifest says %llu",
			 name, idx, path + 1, (long long)iso_stream_get_size(s),
			 (unsigned long long)c->length);
		return -EBADMSG;
	}
	ret = read_file_data(d, (IsoFile *)node, s, buf, c->length, &got);
	if (ret < 0 || got != c->length) {
		snprintf(err, errlen,
			 "%s: chunk %u (%s) is unreadable after %llu of %llu bytes (disc truncated or damaged)",
			 name, idx, path + 1, (unsigned long long)got,
			 (unsigned long long)c->length);
		return -EIO;
	}
	h = cdp_sha256_new();
	if (!h)
		return -ENOMEM;
	cdp_sha256_update(h, buf, (size_t)c->length);
	cdp_sha256_final_hex(h, hex);
	cdp_sha256_free(h);
	if (strcmp(hex, c->sha256)) {
		snprintf(err, errlen, "%s: chunk %u (%s) is corrupt: SHA-256 %s, the manifest says %s",
			 name, idx, path + 1, hex, c->sha256);
		return -EBADMSG;
	}
	return 0;
}
