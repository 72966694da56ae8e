// SPDX-License-Identifier: GPL-2.0
/* archive_iso.c - see archive_iso.h. The IsoStream callbacks run in the
 * libisofs writer thread; the main thread only polls bytes_read. */
#include "archive_iso.h"
#include "archive_hash.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libisofs/libisofs.h>
#include <libburn/libburn.h>

/* Data order on the disc: higher weight = lower address (libisofs). The
 * spread stays below 2^31 because libisofs subtracts weights as ints. */
#define WEIGHT_README	1000000000
#define WEIGHT_CHUNK0	 999999999
#define WEIGHT_MANIFEST	-1000000000

struct archive_iso_writer {
	struct archive_plan *plan;
	struct archive_source *src;
	struct hasher *chunk_hash, *image_hash;	/* threads: archive_hash.h */
	uint64_t image_pos;		/* the image hash covers [0, image_pos) */
	uint32_t next_chunk;		/* chunks are read in order, once */
	/*
	 * A ring of read buffers: libisofs copies out of bufs[cur] while the
	 * hashers may still be on older ones (busy_* count their jobs). On a
	 * busy host a hasher thread waits for a CPU now and then; the ring lets
	 * it fall behind by that much without stalling the disc.
	 */
	uint8_t *bufs[ARCHIVE_READ_BUFS];
	unsigned int busy_chunk[ARCHIVE_READ_BUFS], busy_image[ARCHIVE_READ_BUFS];
	unsigned int cur;
	uint64_t bytes_read;		/* atomic: read by the progress poller */
	int error;
	char errmsg[512];
};

struct chunk_stream {
	struct archive_iso_writer *w;
	struct archive_chunk *c;
	ino_t ino;
	uint64_t pos;			/* bytes of the chunk handed out */
	size_t piece;			/* next piece to read from the source */
	uint64_t piece_pos;
	size_t buf_len, buf_off;
};

struct manifest_stream {
	struct archive_iso_writer *w;
	uint32_t disc;
	ino_t ino;
	char *text;
	size_t size, off;
};

static void writer_fail(struct archive_iso_writer *w, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void writer_fail(struct archive_iso_writer *w, int err, const char *fmt, ...)
{
	va_list ap;

	if (w->error)
		return;		/* keep the first cause */
	w->error = err;
	va_start(ap, fmt);
	vsnprintf(w->errmsg, sizeof(w->errmsg), fmt, ap);
	va_end(ap);
}

static ino_t next_ino(void)
{
	/* libisofs' own counter for streams without a file system id */
	return serial_id++;
}

/* ---- chunk stream ---- */

static int chunk_open(IsoStream *stream)
{
	struct chunk_stream *cs = stream->data;
	struct archive_iso_writer *w = cs->w;

	if (cs->c->idx != w->next_chunk || cs->pos) {
		writer_fail(w, -EPROTO, "chunk %u opened out of order (expected %u)",
			    cs->c->idx, w->next_chunk);
		return ISO_FILE_ERROR;
	}
	cs->piece = cs->c->first_piece;
	cs->piece_pos = 0;
	cs->buf_len = cs->buf_off = 0;
	return ISO_SUCCESS;
}

static int chunk_close(IsoStream *stream)
{
	return ISO_SUCCESS;
}

static off_t chunk_get_size(IsoStream *stream)
{
	return (off_t)((struct chunk_stream *)stream->data)->c->length;
}

/* Refill the other buffer from the next pieces; hash what was read. */
static int chunk_fill(struct chunk_stream *cs)
{
	struct archive_iso_writer *w = cs->w;
	struct archive_plan *p = w->plan;
	size_t end = cs->c->first_piece + cs->c->npieces;
	unsigned int b = (w->cur + 1) % ARCHIVE_READ_BUFS;
	uint8_t *buf = w->bufs[b];

	hasher_wait(w->chunk_hash, &w->busy_chunk[b]);
	hasher_wait(w->image_hash, &w->busy_image[b]);
	w->cur = b;
	cs->buf_len = cs->buf_off = 0;
	while (cs->buf_len < ARCHIVE_READ_BLOCK && cs->piece < end) {
		struct archive_piece *pc = &p->pieces[cs->piece];
		uint64_t left = pc->len - cs->piece_pos;
		size_t n = ARCHIVE_READ_BLOCK - cs->buf_len;
		uint64_t off = pc->img_off + cs->piece_pos;
		int ret;

		if (n > left)
			n = (size_t)left;
		ret = archive_source_read(w->src, off, buf + cs->buf_len, n);
		if (ret) {
			writer_fail(w, ret, "reading the source at byte %llu: %s",
				    (unsigned long long)off, strerror(-ret));
			return ISO_FILE_READ_ERROR;
		}
		if (off < w->image_pos) {
			writer_fail(w, -EPROTO, "extents out of order at byte %llu",
				    (unsigned long long)off);
			return ISO_FILE_READ_ERROR;
		}
		hasher_push(w->image_hash, off - w->image_pos, buf + cs->buf_len, n,
			    &w->busy_image[b]);
		hasher_push(w->chunk_hash, 0, buf + cs->buf_len, n, &w->busy_chunk[b]);
		w->image_pos = off + n;
		cs->buf_len += n;
		cs->piece_pos += n;
		if (cs->piece_pos == pc->len) {
			cs->piece++;
			cs->piece_pos = 0;
		}
	}
	__atomic_add_fetch(&w->bytes_read, cs->buf_len, __ATOMIC_RELAXED);
	return ISO_SUCCESS;
}

static int chunk_read(IsoStream *stream, void *buf, size_t count)
{
	struct chunk_stream *cs = stream->data;
	struct archive_iso_writer *w = cs->w;
	size_t n;

	if (cs->pos == cs->c->length)
		return 0;
	if (cs->buf_off == cs->buf_len) {
		int ret = chunk_fill(cs);

		if (ret < 0)
			return ret;
	}
	n = cs->buf_len - cs->buf_off;
	if (n > count)
		n = count;
	memcpy(buf, w->bufs[w->cur] + cs->buf_off, n);
	cs->buf_off += n;
	cs->pos += n;
	if (cs->pos == cs->c->length) {
		hasher_finish(w->chunk_hash, 0, cs->c->sha256);
		w->next_chunk++;
	}
	return (int)n;
}

static int stream_not_repeatable(IsoStream *stream)
{
	/* reading a chunk twice would corrupt the running image hash */
	return 0;
}

static void chunk_get_id(IsoStream *stream, unsigned int *fs_id, dev_t *dev_id,
			 ino_t *ino_id)
{
	*fs_id = 0;
	*dev_id = 0;
	*ino_id = ((struct chunk_stream *)stream->data)->ino;
}

static void chunk_free(IsoStream *stream)
{
	free(stream->data);
}

static int stream_update_size(IsoStream *stream)
{
	return ISO_SUCCESS;
}

static IsoStreamIface chunk_stream_class = {
	.version = 1,
	.type = "user",
	.open = chunk_open,
	.close = chunk_close,
	.get_size = chunk_get_size,
	.read = chunk_read,
	.is_repeatable = stream_not_repeatable,
	.get_id = chunk_get_id,
	.free = chunk_free,
	.update_size = stream_update_size,
};

/* ---- manifest stream: rendered when libisofs reaches it ---- */

static int manifest_open(IsoStream *stream)
{
	struct manifest_stream *ms = stream->data;
	struct archive_iso_writer *w = ms->w;
	struct archive_plan *p = w->plan;
	const struct archive_disc_info *d = &p->discs[ms->disc - 1];
	size_t len;

	if (w->next_chunk != d->first_chunk + d->nchunks) {
		writer_fail(w, -EPROTO,
			    "manifest of disc %u reached before its chunks (at chunk %u)",
			    ms->disc, w->next_chunk);
		return ISO_FILE_ERROR;
	}
	if (ms->disc == p->ndiscs) {
		hasher_finish(w->image_hash, p->image_size - w->image_pos,
			      p->image_sha256);
		w->image_pos = p->image_size;
		hasher_sync(w->image_hash);
	}
	hasher_sync(w->chunk_hash);	/* this disc's chunk hashes are final */
	free(ms->text);
	ms->text = archive_manifest_render(p, ms->disc, &len);
	if (!ms->text || len != ms->size) {
		writer_fail(w, -EPROTO, "manifest of disc %u changed size (%zu, planned %zu)",
			    ms->disc, len, ms->size);
		return ISO_FILE_ERROR;
	}
	ms->off = 0;
	return ISO_SUCCESS;
}

static int manifest_read(IsoStream *stream, void *buf, size_t count)
{
	struct manifest_stream *ms = stream->data;
	size_t n = ms->size - ms->off;

	if (n > count)
		n = count;
	memcpy(buf, ms->text + ms->off, n);
	ms->off += n;
	return (int)n;
}

static off_t manifest_get_size(IsoStream *stream)
{
	return (off_t)((struct manifest_stream *)stream->data)->size;
}

static void manifest_get_id(IsoStream *stream, unsigned int *fs_id,
			    dev_t *dev_id, ino_t *ino_id)
{
	*fs_id = 0;
	*dev_id = 0;
	*ino_id = ((struct manifest_stream *)stream->data)->ino;
}

static void manifest_free(IsoStream *stream)
{
	struct manifest_stream *ms = stream->data;

	free(ms->text);
	free(ms);
}

static IsoStreamIface manifest_stream_class = {
	.version = 1,
	.type = "user",
	.open = manifest_open,
	.close = chunk_close,
	.get_size = manifest_get_size,
	.read = manifest_read,
	.is_repeatable = stream_not_repeatable,
	.get_id = manifest_get_id,
	.free = manifest_free,
	.update_size = stream_update_size,
};

static IsoStream *new_stream(IsoStreamIface *class, void *data)
{
	IsoStream *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->class = class;
	s->refcount = 1;
	s->data = data;
	return s;
}

/* ---- building a disc ---- */

static int add_file(IsoDir *dir, const char *name, IsoStream *s, int weight)
{
	IsoFile *file;
	int ret;

	if (!s)
		return ISO_OUT_OF_MEM;
	ret = iso_tree_add_new_file(dir, name, s, &file);
	if (ret < 0) {
		iso_stream_unref(s);
		return ret;
	}
	iso_node_set_sort_weight((IsoNode *)file, weight);
	return 0;
}

static int add_chunks(struct archive_iso_writer *w, IsoDir *root,
		      const struct archive_disc_info *d)
{
	IsoDir *dir;
	uint32_t i;
	int ret;

	ret = iso_tree_add_new_dir(root, "chunks", &dir);
	if (ret < 0)
		return ret;
	for (i = 0; i < d->nchunks; i++) {
		struct chunk_stream *cs = calloc(1, sizeof(*cs));
		char path[64];

		if (!cs)
			return ISO_OUT_OF_MEM;
		cs->w = w;
		cs->c = &w->plan->chunks[d->first_chunk + i];
		cs->ino = next_ino();
		archive_chunk_path(cs->c->idx, path, sizeof(path));
		ret = add_file(dir, path + strlen("chunks/"),
			       new_stream(&chunk_stream_class, cs),
			       WEIGHT_CHUNK0 - (int)i);
		if (ret < 0) {
			free(cs);
			return ret;
		}
	}
	return 0;
}

static int add_text_files(struct archive_iso_writer *w, IsoDir *root, uint32_t no)
{
	struct manifest_stream *ms;
	IsoStream *readme;
	size_t len;
	char *text;
	int ret;

	text = archive_readme_render(w->plan, no, &len);
	if (!text || iso_memory_stream_new((unsigned char *)text, len, &readme) < 0) {
		free(text);
		return ISO_OUT_OF_MEM;
	}
	ret = add_file(root, "README.TXT", readme, WEIGHT_README);
	if (ret < 0)
		return ret;

	ms = calloc(1, sizeof(*ms));
	if (!ms)
		return ISO_OUT_OF_MEM;
	ms->w = w;
	ms->disc = no;
	ms->ino = next_ino();
	/* the final text has the same length: hashes are fixed width */
	text = archive_manifest_render(w->plan, no, &ms->size);
	free(text);
	if (!text) {
		free(ms);
		return ISO_OUT_OF_MEM;
	}
	ret = add_file(root, "MANIFEST.TXT", new_stream(&manifest_stream_class, ms),
		       WEIGHT_MANIFEST);
	if (ret < 0)
		free(ms);
	return ret;
}

static IsoWriteOpts *write_opts(void)
{
	IsoWriteOpts *o;

	if (iso_write_opts_new(&o, 0) < 0)
		return NULL;
	iso_write_opts_set_iso_level(o, 3);
	iso_write_opts_set_rockridge(o, 1);
	iso_write_opts_set_joliet(o, 1);
	iso_write_opts_set_sort_files(o, 1);
	/* 32 MiB between libisofs and libburn's writer (there is no libburn
	 * fifo, see archive_drive.c) smooths out source stalls */
	iso_write_opts_set_fifo_size(o, (32U << 20) / 2048);
	return o;
}

int archive_iso_build(struct archive_iso_writer *w, uint32_t no,
		      struct burn_source **src, uint64_t *size, char *err,
		      size_t errlen)
{
	const struct archive_disc_info *d = &w->plan->discs[no - 1];
	IsoImage *image = NULL;
	IsoWriteOpts *opts = NULL;
	int ret;

	*src = NULL;
	if (d->first_chunk != w->next_chunk) {
		snprintf(err, errlen, "disc %u built out of order", no);
		return -EPROTO;
	}
	ret = iso_image_new(d->label, &image);
	if (ret < 0)
		goto fail;
	iso_image_set_application_id(image, "CDP ARCHIVE");
	iso_image_set_publisher_id(image, w->plan->id);
	ret = add_text_files(w, iso_image_get_root(image), no);
	if (ret >= 0)
		ret = add_chunks(w, iso_image_get_root(image), d);
	if (ret < 0)
		goto fail;
	opts = write_opts();
	if (!opts) {
		ret = ISO_OUT_OF_MEM;
		goto fail;
	}
	ret = iso_image_create_burn_source(image, opts, src);
	iso_write_opts_free(opts);
	if (ret < 0)
		goto fail;
	*size = (uint64_t)(*src)->get_size(*src);
	iso_image_unref(image);	/* the burn source holds its own reference */
	return 0;
fail:
	snprintf(err, errlen, "building the ISO image of disc %u: %s", no,
		 iso_error_to_msg(ret));
	if (image)
		iso_image_unref(image);
	return -EIO;
}

int archive_iso_result(struct archive_iso_writer *w, char *err, size_t errlen)
{
	if (w->error)
		snprintf(err, errlen, "%s", w->errmsg);
	return w->error;
}

uint64_t archive_iso_bytes_read(struct archive_iso_writer *w)
{
	return __atomic_load_n(&w->bytes_read, __ATOMIC_RELAXED);
}

int archive_iso_writer_new(struct archive_plan *plan, struct archive_source *src,
			   struct archive_iso_writer **out)
{
	struct archive_iso_writer *w = calloc(1, sizeof(*w));
	unsigned int i;

	*out = NULL;
	if (!w)
		return -ENOMEM;
	w->plan = plan;
	w->src = src;
	for (i = 0; i < ARCHIVE_READ_BUFS; i++) {
		w->bufs[i] = malloc(ARCHIVE_READ_BLOCK);
		if (!w->bufs[i])
			break;
	}
	hasher_new(&w->chunk_hash);
	hasher_new(&w->image_hash);
	if (i < ARCHIVE_READ_BUFS || !w->chunk_hash || !w->image_hash) {
		archive_iso_writer_free(w);
		return -ENOMEM;
	}
	*out = w;
	return 0;
}

void archive_iso_writer_free(struct archive_iso_writer *w)
{
	unsigned int i;

	if (!w)
		return;
	/* joins the hasher: no job may point into bufs after this */
	hasher_free(w->image_hash);
	hasher_free(w->chunk_hash);
	for (i = 0; i < ARCHIVE_READ_BUFS; i++)
		free(w->bufs[i]);
	free(w);
}

static int libs_ret;

static void libs_init_once(void)
{
	if (iso_init() < 0) {
		libs_ret = -EIO;
		return;
	}
	/* libisofs: print real problems only; we report the rest */
	iso_set_msgs_severities("NEVER", "FAILURE", "cdp: libisofs: ");
	if (!burn_initialize()) {
		libs_ret = -EIO;
		return;
	}
	/* SORRY and worse are printed, and queued for archive_drive_write():
	 * a write libburn refuses only says so in a message */
	burn_msgs_set_severities("SORRY", "SORRY", "cdp: libburn: ");
	/* default signal reactions: Ctrl-C stops cdpctl like any tool */
	burn_set_signal_handling(NULL, NULL, 1);
}

int archive_libs_init(char *err, size_t errlen)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	int ret;

	pthread_once(&once, libs_init_once);
	ret = libs_ret;
	if (ret)
		snprintf(err, errlen, "cannot initialise libisofs/libburn");
	return ret;
}
