// SPDX-License-Identifier: GPL-2.0
/*
 * archive_manifest.c - MANIFEST.TXT and README.TXT.
 *
 * The manifest is plain text, one record per line, so a disc stays readable
 * in fifty years with nothing but a shell (README.TXT shows how). Every
 * field has a fixed meaning and position; names may not contain blanks
 * (archive_create refuses them).
 *
 *   CDP-ARCHIVE-MANIFEST 2
 *   archive <id>            volume <name>          pool <pool|->
 *   image <name>            snapshot <snap|->      snapshot_time <unix>
 *   snapshot_seq <n|->      created <unix>         image_size <bytes>
 *   chunk_size <bytes>      data_bytes <bytes>     total_chunks <n>
 *   total_pieces <n>        discs <M>              this_disc <N|0=all>
 *   disc <no> <label> <first_chunk> <nchunks> <data_bytes>     (M lines)
 *   chunk <idx> <disc> <length> <sha256> <path>          (this disc's)
 *   piece <chunk> <chunk_off> <image_off> <length>        (this disc's)
 *   image_sha256 <hex|->    ("-" except on the last disc)
 *   manifest_sha256 <hex>   (of every byte before this line; version 2)
 *   end
 *
 * Each header key appears exactly once; a reader refuses a repeated one.
 * The chunk hashes cover the data but not where it goes: manifest_sha256
 * makes an edited or damaged piece line (or any other) a manifest error,
 * found by verify, instead of a wrong image found only by restore's final
 * image check. Version 1 manifests (no manifest_sha256) are still read.
 */
#include "archive.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MANIFEST_MAGIC "CDP-ARCHIVE-MANIFEST"
static const char zero_hash[] =
	"0000000000000000000000000000000000000000000000000000000000000000";

static const char *or_dash(const char *s)
{
	return s && *s ? s : "-";
}

static int wants_disc(const struct archive_plan *p, uint32_t no, uint32_t disc)
{
	return no == 0 || no == disc;
}

/* SHA-256 of len bytes of text, as hex. */
static int hash_text(const char *text, size_t len, char hex[CDP_SHA256_HEX])
{
	struct cdp_sha256 *h = cdp_sha256_new();

	if (!h)
		return -ENOMEM;
	cdp_sha256_update(h, text, len);
	cdp_sha256_final_hex(h, hex);
	cdp_sha256_free(h);
	return 0;
}

char *archive_manifest_render(const struct archive_plan *p, uint32_t no,
			      size_t *len)
{
	char *buf = NULL, seq[24], path[64], hex[CDP_SHA256_HEX];
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);
	uint32_t i;
	size_t j;

	if (!f)
		return NULL;
	if (p->snap_seq >= 0)
		snprintf(seq, sizeof(seq), "%" PRId64, p->snap_seq);
	else
		snprintf(seq, sizeof(seq), "-");
	fprintf(f, MANIFEST_MAGIC " %d\n", ARCHIVE_FORMAT_VERSION);
	fprintf(f, "archive %s\nvolume %s\npool %s\nimage %s\nsnapshot %s\n",
		p->id, p->volume, or_dash(p->pool), p->image, or_dash(p->snap));
	fprintf(f, "snapshot_time %" PRId64 "\nsnapshot_seq %s\ncreated %" PRId64 "\n",
		p->snap_time, seq, p->created);
	fprintf(f, "image_size %" PRIu64 "\nchunk_size %" PRIu64 "\ndata_bytes %" PRIu64 "\n",
		p->image_size, p->chunk_size, p->data_bytes);
	fprintf(f, "total_chunks %u\ntotal_pieces %" PRIu64 "\ndiscs %u\nthis_disc %u\n",
		p->total_chunks, p->total_pieces, p->ndiscs, no);
	for (i = 0; i < p->ndiscs; i++) {
		const struct archive_disc_info *d = &p->discs[i];

		fprintf(f, "disc %u %s %u %u %" PRIu64 "\n", d->no, d->label,
			d->first_chunk, d->nchunks, d->data_bytes);
	}
	for (i = 0; i < p->nchunks; i++) {
		const struct archive_chunk *c = &p->chunks[i];

		if (!wants_disc(p, no, c->disc))
			continue;
		archive_chunk_path(c->idx, path, sizeof(path));
		fprintf(f, "chunk %u %u %" PRIu64 " %s %s\n", c->idx, c->disc,
			c->length, c->sha256[0] ? c->sha256 : zero_hash, path);
	}
	for (i = 0; i < p->nchunks; i++) {
		const struct archive_chunk *c = &p->chunks[i];

		if (!wants_disc(p, no, c->disc))
			continue;
		for (j = c->first_piece; j < c->first_piece + c->npieces; j++) {
			const struct archive_piece *pc = &p->pieces[j];

			fprintf(f, "piece %u %" PRIu64 " %" PRIu64 " %" PRIu64 "\n",
				pc->chunk, pc->chunk_off, pc->img_off, pc->len);
		}
	}
	if (no == 0 || no == p->ndiscs)
		fprintf(f, "image_sha256 %s\n",
			p->image_sha256[0] ? p->image_sha256 : zero_hash);
	else
		fprintf(f, "image_sha256 -\n");
	if (fflush(f) || hash_text(buf, size, hex)) {
		fclose(f);
		free(buf);
		return NULL;
	}
	fprintf(f, "manifest_sha256 %s\nend\n", hex);
	if (fclose(f)) {
		free(buf);
		return NULL;
	}
	*len = size;
	return buf;
}

/* ---- parsing ---- */

/*
 * Every header key. Each may appear once: with "last wins", a line appended
 * to an edited or damaged manifest could change chunk_size after the chunk
 * lengths were checked against the first value, and readers size their
 * chunk buffer from it.
 */
static const char *const header_keys[] = {
	"archive", "volume", "pool", "image", "snapshot", "snapshot_time",
	"snapshot_seq", "created", "image_size", "chunk_size", "data_bytes",
	"total_chunks", "total_pieces", "discs", "this_disc", "image_sha256",
	"manifest_sha256",
};
#define HEADER_KEYS ARRAY_SIZE(header_keys)
#define KEY_MANIFEST_SHA256 (HEADER_KEYS - 1)	/* the last one above */

struct parser {
	struct archive_plan *p;
	char *err;
	size_t errlen;
	unsigned int line;
	uint32_t discs_expected;	/* from the "discs" line */
	size_t chunk_cap, piece_cap;
	unsigned int seen[HEADER_KEYS];	/* line of each header key, 0: not yet */
	int version;			/* from the first line */
	unsigned int end_line;		/* of "end" */
	size_t hash_off;		/* where the manifest_sha256 line starts */
	char manifest_sha256[CDP_SHA256_HEX];
};

static int bad(struct parser *ps, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int bad(struct parser *ps, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(ps->err, ps->errlen, "manifest line %u: %s", ps->line, msg);
	return -EBADMSG;
}

static int grow(void **arr, size_t *cap, size_t n, size_t elem)
{
	void *na;

	if (n < *cap)
		return 0;
	na = realloc(*arr, (*cap ? 2 * *cap : 64) * elem);
	if (!na)
		return -ENOMEM;
	*arr = na;
	*cap = *cap ? 2 * *cap : 64;
	return 0;
}

static int parse_disc(struct parser *ps, const char *l)
{
	struct archive_plan *p = ps->p;
	struct archive_disc_info d = { 0 };

	if (!p->discs)
		return bad(ps, "disc line before the discs count");
	if (sscanf(l, "disc %u %47s %u %u %" SCNu64, &d.no, d.label,
		   &d.first_chunk, &d.nchunks, &d.data_bytes) != 5 ||
	    d.no != p->ndiscs + 1 || d.no > ps->discs_expected)
		return bad(ps, "bad disc record");
	p->discs[p->ndiscs++] = d;
	return 0;
}

static int parse_chunk(struct parser *ps, const char *l)
{
	struct archive_plan *p = ps->p;
	struct archive_chunk c = { 0 };
	char path[64], want[64];

	if (sscanf(l, "chunk %u %u %" SCNu64 " %64s %63s", &c.idx, &c.disc,
		   &c.length, c.sha256, path) != 5 || strlen(c.sha256) != 64)
		return bad(ps, "bad chunk record");
	archive_chunk_path(c.idx, want, sizeof(want));
	if (strcmp(path, want))
		return bad(ps, "chunk %u is stored as %s, expected %s", c.idx, path, want);
	if (c.idx >= p->total_chunks || c.length == 0 || c.length > p->chunk_size)
		return bad(ps, "chunk %u out of range", c.idx);
	if (p->nchunks && c.idx <= p->chunks[p->nchunks - 1].idx)
		return bad(ps, "chunk %u out of order", c.idx);
	if (grow((void **)&p->chunks, &ps->chunk_cap, p->nchunks, sizeof(c)))
		return -ENOMEM;
	p->chunks[p->nchunks++] = c;
	return 0;
}

static int parse_piece(struct parser *ps, const char *l)
{
	struct archive_plan *p = ps->p;
	struct archive_piece pc;
	struct archive_chunk *c;

	if (sscanf(l, "piece %u %" SCNu64 " %" SCNu64 " %" SCNu64, &pc.chunk,
		   &pc.chunk_off, &pc.img_off, &pc.len) != 4)
		return bad(ps, "bad piece record");
	c = archive_plan_chunk(p, pc.chunk);
	if (!c)
		return bad(ps, "piece of chunk %u, which is not listed", pc.chunk);
	if (pc.len == 0 || pc.chunk_off + pc.len > c->length ||
	    pc.chunk_off + pc.len < pc.chunk_off ||
	    pc.img_off + pc.len > p->image_size || pc.img_off + pc.len < pc.img_off)
		return bad(ps, "piece out of the chunk or image bounds");
	if (grow((void **)&p->pieces, &ps->piece_cap, p->npieces, sizeof(pc)))
		return -ENOMEM;
	if (!c->npieces)
		c->first_piece = p->npieces;
	else if (c->first_piece + c->npieces != p->npieces)
		return bad(ps, "pieces of chunk %u are not together", pc.chunk);
	c->npieces++;
	p->pieces[p->npieces++] = pc;
	return 0;
}

/* Header "key value" lines: numbers, or names (no blanks). */
static int parse_header(struct parser *ps, const char *key, const char *val)
{
	struct archive_plan *p = ps->p;
	static const struct { const char *key; size_t off; } names[] = {
		{ "archive", offsetof(struct archive_plan, id) },
		{ "volume", offsetof(struct archive_plan, volume) },
		{ "pool", offsetof(struct archive_plan, pool) },
		{ "image", offsetof(struct archive_plan, image) },
		{ "snapshot", offsetof(struct archive_plan, snap) },
	};
	char *end;
	unsigned long long v;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(names); i++) {
		if (strcmp(key, names[i].key))
			continue;
		if (strcmp(val, "-"))
			snprintf((char *)p + names[i].off,
				 i == 0 ? sizeof(p->id) : ARCHIVE_NAME_MAX, "%s", val);
		/* (volume is larger than ARCHIVE_NAME_MAX; writers keep it shorter) */
		return 0;
	}
	if (!strcmp(key, "image_sha256")) {
		if (strcmp(val, "-") && strlen(val) != 64)
			return bad(ps, "bad image_sha256");
		if (strcmp(val, "-"))
			snprintf(p->image_sha256, sizeof(p->image_sha256), "%s", val);
		return 0;
	}
	if (!strcmp(key, "manifest_sha256")) {
		if (strlen(val) != 64)
			return bad(ps, "bad manifest_sha256");
		snprintf(ps->manifest_sha256, sizeof(ps->manifest_sha256), "%s", val);
		return 0;
	}
	if (!strcmp(key, "snapshot_seq") && !strcmp(val, "-")) {
		p->snap_seq = -1;
		return 0;
	}
	v = strtoull(val, &end, 10);
	if (*end || !*val)
		return bad(ps, "\"%s\" is not a number", val);
	if (!strcmp(key, "snapshot_time"))
		p->snap_time = (int64_t)v;
	else if (!strcmp(key, "snapshot_seq"))
		p->snap_seq = (int64_t)v;
	else if (!strcmp(key, "created"))
		p->created = (int64_t)v;
	else if (!strcmp(key, "image_size"))
		p->image_size = v;
	else if (!strcmp(key, "chunk_size"))
		p->chunk_size = v;
	else if (!strcmp(key, "data_bytes"))
		p->data_bytes = v;
	else if (!strcmp(key, "total_chunks"))
		p->total_chunks = (uint32_t)v;
	else if (!strcmp(key, "total_pieces"))
		p->total_pieces = v;
	else if (!strcmp(key, "this_disc"))
		p->this_disc = (uint32_t)v;
	else if (!strcmp(key, "discs")) {
		if (v == 0 || v > 100000 || p->discs)
			return bad(ps, "bad disc count");
		p->discs = calloc(v, sizeof(*p->discs));
		if (!p->discs)
			return -ENOMEM;
		ps->discs_expected = (uint32_t)v;
	} else
		return bad(ps, "unknown field \"%s\"", key);
	return 0;
}

/* Refuse a header key given twice (unknown keys are parse_header's). */
static int seen_once(struct parser *ps, const char *key)
{
	size_t i;

	for (i = 0; i < HEADER_KEYS; i++) {
		if (strcmp(key, header_keys[i]))
			continue;
		if (ps->seen[i])
			return bad(ps, "\"%s\" is given twice (first on line %u): the manifest is damaged or was edited",
				   key, ps->seen[i]);
		ps->seen[i] = ps->line;
		return 0;
	}
	return 0;
}

static int parse_line(struct parser *ps, char *l)
{
	char key[32], val[ARCHIVE_NAME_MAX];
	int ret;

	if (!strncmp(l, "disc ", 5))
		return parse_disc(ps, l);
	if (!strncmp(l, "chunk ", 6))
		return parse_chunk(ps, l);
	if (!strncmp(l, "piece ", 6))
		return parse_piece(ps, l);
	if (sscanf(l, "%31s %255s", key, val) != 2)
		return bad(ps, "expected \"key value\"");
	ret = seen_once(ps, key);
	return ret ? ret : parse_header(ps, key, val);
}

/*
 * Chunk and piece bounds against the final header values: a chunk line is
 * checked when read, but header lines may come in any order, and readers
 * allocate chunk_size bytes and write pieces into an image_size target.
 */
static int check_bounds(struct parser *ps)
{
	struct archive_plan *p = ps->p;
	uint32_t i;
	size_t j;

	for (i = 0; i < p->nchunks; i++) {
		const struct archive_chunk *c = &p->chunks[i];

		if (c->idx >= p->total_chunks || !c->length || c->length > p->chunk_size)
			return bad(ps, "chunk %u (%llu bytes) is out of range for chunk_size %llu and total_chunks %u",
				   c->idx, (unsigned long long)c->length,
				   (unsigned long long)p->chunk_size, p->total_chunks);
		for (j = c->first_piece; j < c->first_piece + c->npieces; j++) {
			const struct archive_piece *pc = &p->pieces[j];

			if (pc->chunk_off + pc->len > c->length ||
			    pc->img_off + pc->len > p->image_size ||
			    pc->img_off + pc->len < pc->img_off)
				return bad(ps, "piece of chunk %u at image byte %llu is out of the chunk or image bounds (image_size %llu)",
					   c->idx, (unsigned long long)pc->img_off,
					   (unsigned long long)p->image_size);
		}
	}
	return 0;
}

/*
 * Version 2: the manifest_sha256 line, right before "end", matches every
 * byte before it. Checked first: when it fails, the other records are not
 * worth a finer message.
 */
static int check_manifest_hash(struct parser *ps, const char *text)
{
	unsigned int line = ps->seen[KEY_MANIFEST_SHA256];
	char hex[CDP_SHA256_HEX];

	if (!line && ps->version < 2)
		return 0;
	if (!line)
		return bad(ps, "no manifest_sha256 line in a version %d manifest: the manifest is damaged or was edited",
			   ps->version);
	if (line + 1 != ps->end_line)
		return bad(ps, "manifest_sha256 is on line %u, not right before \"end\": the manifest is damaged or was edited",
			   line);
	if (hash_text(text, ps->hash_off, hex))
		return -ENOMEM;
	if (strcmp(hex, ps->manifest_sha256))
		return bad(ps, "the manifest's SHA-256 is %s, its manifest_sha256 line says %s: the manifest is damaged or was edited",
			   hex, ps->manifest_sha256);
	return 0;
}

/* Cross-record checks once everything is read. */
/*
 * The disc table must cut [0, total_chunks) into consecutive runs, one per
 * disc: restore indexes its per-chunk state by these ranges (for every
 * disc, not only this one), so a damaged entry must not reach it.
 */
static int check_disc_table(struct parser *ps)
{
	const struct archive_plan *p = ps->p;
	uint64_t next = 0;
	uint32_t i;

	for (i = 0; i < p->ndiscs; i++) {
		if (p->discs[i].first_chunk != next)
			return bad(ps, "disc %u starts at chunk %u, not %llu: the disc table is damaged",
				   i + 1, p->discs[i].first_chunk, (unsigned long long)next);
		next += p->discs[i].nchunks;
	}
	if (next != p->total_chunks)
		return bad(ps, "the disc table holds %llu chunks, total_chunks says %u",
			   (unsigned long long)next, p->total_chunks);
	return 0;
}

static int check_complete(struct parser *ps, int saw_end)
{
	struct archive_plan *p = ps->p;
	uint32_t i, expect = ps->discs_expected;
	int ret;

	if (!saw_end)
		return bad(ps, "no \"end\" line: the manifest is truncated");
	if (strlen(p->id) != ARCHIVE_ID_LEN || !p->image_size || !p->chunk_size)
		return bad(ps, "archive, image_size or chunk_size missing");
	if (p->chunk_size > ARCHIVE_CHUNK_MAX)	/* restore allocates one chunk */
		return bad(ps, "chunk_size %llu is over %llu",
			   (unsigned long long)p->chunk_size,
			   (unsigned long long)ARCHIVE_CHUNK_MAX);
	if (!p->ndiscs || p->ndiscs != expect)
		return bad(ps, "%u disc records for %u discs", p->ndiscs, expect);
	if (p->this_disc > p->ndiscs)
		return bad(ps, "this_disc %u of %u", p->this_disc, p->ndiscs);
	ret = check_bounds(ps);
	if (ret)
		return ret;
	ret = check_disc_table(ps);
	if (ret)
		return ret;
	for (i = 0; i < p->nchunks; i++) {
		struct archive_chunk *c = &p->chunks[i];
		const struct archive_disc_info *d = &p->discs[p->this_disc ? p->this_disc - 1 : 0];
		uint64_t sum = 0;
		size_t j;

		if (p->this_disc && (c->disc != p->this_disc || c->idx < d->first_chunk ||
				     c->idx >= d->first_chunk + d->nchunks))
			return bad(ps, "chunk %u does not belong to disc %u", c->idx,
				   p->this_disc);
		for (j = c->first_piece; j < c->first_piece + c->npieces; j++)
			sum += p->pieces[j].len;
		if (sum != c->length)
			return bad(ps, "pieces of chunk %u cover %llu of %llu bytes",
				   c->idx, (unsigned long long)sum,
				   (unsigned long long)c->length);
	}
	if (p->this_disc &&
	    p->nchunks != p->discs[p->this_disc - 1].nchunks)
		return bad(ps, "%u chunks listed, the disc table says %u",
			   p->nchunks, p->discs[p->this_disc - 1].nchunks);
	return 0;
}

int archive_manifest_parse(const char *text, size_t len, struct archive_plan *p,
			   char *err, size_t errlen)
{
	struct parser ps = { .p = p, .err = err, .errlen = errlen };
	char *copy, *l, *save = NULL;
	int ret = 0, saw_end = 0, version = 0;

	memset(p, 0, sizeof(*p));
	copy = strndup(text, len);
	if (!copy)
		return -ENOMEM;
	for (l = strtok_r(copy, "\n", &save); l && !ret;
	     l = strtok_r(NULL, "\n", &save)) {
		ps.line++;
		if (ps.line == 1) {
			if (sscanf(l, MANIFEST_MAGIC " %d", &version) != 1)
				ret = bad(&ps, "not a cdp archive manifest");
			else if (version < ARCHIVE_FORMAT_OLDEST ||
				 version > ARCHIVE_FORMAT_VERSION)
				ret = bad(&ps, "format version %d, this cdp reads %d to %d",
					  version, ARCHIVE_FORMAT_OLDEST,
					  ARCHIVE_FORMAT_VERSION);
			ps.version = version;
			continue;
		}
		if (saw_end) {
			ret = bad(&ps, "text after \"end\"");
		} else if (!strcmp(l, "end")) {
			saw_end = 1;
			ps.end_line = ps.line;
		} else {
			if (!strncmp(l, "manifest_sha256 ", 16))
				ps.hash_off = (size_t)(l - copy);
			ret = parse_line(&ps, l);
		}
	}
	free(copy);
	if (!ret && saw_end)
		ret = check_manifest_hash(&ps, text);
	if (!ret)
		ret = check_complete(&ps, saw_end);
	if (ret)
		archive_plan_free(p);
	return ret;
}

/* ---- README ---- */

char *archive_readme_render(const struct archive_plan *p, uint32_t no,
			    size_t *len)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);
	const struct archive_disc_info *d = &p->discs[no - 1];

	if (!f)
		return NULL;
	fprintf(f,
		"Archive-Id: %s\n"
		"Disc: %u of %u\n"
		"Label: %s\n"
		"\n"
		"This disc holds part of a block-device snapshot archived by cdp\n"
		"(continuous data protection): volume %s, image %s%s%s%s%s,\n"
		"image size %" PRIu64 " bytes. Only allocated data is stored; every\n"
		"byte not listed is zero.\n"
		"\n"
		"Files\n"
		"  chunks/NNNNNNNN.bin  raw volume data, packed back to back\n"
		"  MANIFEST.TXT         where each byte goes, and SHA-256 sums\n"
		"\n"
		"MANIFEST.TXT lines:\n"
		"  chunk <idx> <disc> <length> <sha256> <path>\n"
		"  piece <chunk> <offset-in-chunk> <offset-in-image> <length>\n"
		"  image_sha256 <sha256 of the whole image, last disc only>\n"
		"  manifest_sha256 <sha256 of MANIFEST.TXT up to this line>; check:\n"
		"    sed '/^manifest_sha256 /,$d' MANIFEST.TXT | sha256sum\n"
		"\n"
		"Restore without cdp (bash, coreutils): create the image, then for\n"
		"every disc:\n"
		"  truncate -s %" PRIu64 " image.raw\n"
		"  awk '$1==\"chunk\"{print $5\"  \"$6}' MANIFEST.TXT | sha256sum -c\n"
		"  awk '$1==\"piece\"{printf \"dd status=none conv=notrunc"
		" iflag=skip_bytes,count_bytes oflag=seek_bytes if=chunks/%%08d.bin"
		" of=image.raw skip=%%s seek=%%s count=%%s\\n\", $2, $3, $4, $5}'"
		" MANIFEST.TXT | sh\n"
		"and compare `sha256sum image.raw` with image_sha256 on disc %u.\n"
		"With cdp: cdpctl archive restore --from-discs DRIVE... --to TARGET\n",
		p->id, no, p->ndiscs, d->label, p->volume,
		p->pool[0] ? p->pool : "", p->pool[0] ? "/" : "", p->image,
		p->snap[0] ? "@" : "", p->snap, p->image_size, p->image_size,
		p->ndiscs);
	if (fclose(f)) {
		free(buf);
		return NULL;
	}
	*len = size;
	return buf;
}

int archive_readme_identify(const char *text, char id[ARCHIVE_ID_LEN + 1],
			    uint32_t *no, uint32_t *of, char *label,
			    size_t label_len)
{
	char lab[64];
	int found = 0;

	if (sscanf(text, "Archive-Id: %32s\nDisc: %u of %u\nLabel: %63s",
		   id, no, of, lab) == 4)
		found = 1;
	if (found)
		snprintf(label, label_len, "%s", lab);
	return found && strlen(id) == ARCHIVE_ID_LEN ? 0 : -EBADMSG;
}
