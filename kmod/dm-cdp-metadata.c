// SPDX-License-Identifier: GPL-2.0
/*
 * dm-cdp metadata: superblock and write-intent bitmap (activity-log style).
 *
 * Layout (docs/metadata-format.md): block 0 (4 KiB) superblock, then the
 * bitmap, one bit per region, bit i = bit (i % 8) of byte (i / 8), padded to
 * whole 4 KiB blocks. Every metadata write is FUA; data writes to a region
 * wait until its bit is durable.
 */
#include <linux/dm-io.h>
#include <linux/crc32.h>
#include <linux/vmalloc.h>
#include <linux/slab.h>
#include <linux/random.h>
#include <linux/ktime.h>
#include <linux/ioprio.h>
#include "dm-cdp-core.h"
#include "dm-cdp-metadata.h"

#define CDP_BITS_PER_BLOCK (CDP_META_BLOCK * 8)
#define CDP_SB_CSUM_SEED 0xffffffffu
#define CDP_BLOCK_SECTORS (CDP_META_BLOCK >> SECTOR_SHIFT)

/* On-disk superblock, little endian, at byte 0 of the meta device. */
struct cdp_sb_disk {
	__le32 magic;			/*   0: CDP_META_MAGIC */
	__le32 version;			/*   4: CDP_META_VERSION */
	__le32 csum;			/*   8: crc32 of the 4 KiB block */
	__le32 flags;			/*  12: CDP_SB_F_* */
	u8 uuid[16];			/*  16: random, set at format */
	char volume[64];		/*  32: volume_id, NUL padded */
	__le64 origin_sectors;		/*  96 */
	__le32 region_sectors;		/* 104 */
	__le32 reserved0;		/* 108 */
	__le64 nr_regions;		/* 112 */
	__le64 bitmap_offset;		/* 120: bytes */
	__le64 bitmap_bytes;		/* 128: multiple of 4 KiB */
	__le64 generation;		/* 136: bumped at every table load */
	__le64 acked_seq;		/* 144 */
	__le64 last_seq;		/* 152 */
	__le64 format_time;		/* 160: ns since the epoch */
} __packed;				/* 168 bytes, rest of block zero */

struct cdp_meta {
	struct dm_dev *dev;
	struct dm_io_client *io;
	struct cdp_meta_geometry geo;
	u32 nr_blocks;			/* bitmap blocks */
	u64 bitmap_bytes;

	/* Under the caller's spinlock. */
	unsigned long *bits;		/* wanted on disk */
	unsigned long *committed;	/* durable on disk */
	unsigned long *dirty_blocks;	/* bitmap blocks to write */
	u64 nr_dirty;			/* weight of bits */

	/* Worker only. */
	unsigned long *io_blocks;
	u32 *buf;			/* bitmap image, bitmap_bytes */
	struct cdp_sb_disk *sb;		/* 4 KiB */
	bool clean_on_disk;
	u64 generation, acked_seq, last_seq;
	u64 sb_acked_seq;		/* in the superblock on disk */
	u64 writes;			/* metadata write I/Os issued */
};

static int meta_rw(struct cdp_meta *md, blk_opf_t opf, void *ptr,
		   sector_t sector, sector_t count)
{
	bool vma = is_vmalloc_addr(ptr);	/* kvmalloc may give either */

	struct dm_io_region where = {
		.bdev = md->dev->bdev,
		.sector = sector,
		.count = count,
	};
	struct dm_io_request req = {
		.bi_opf = opf,
		.mem.type = vma ? DM_IO_VMA : DM_IO_KMEM,
		.client = md->io,
	};

	if (vma)
		req.mem.ptr.vma = ptr;
	else
		req.mem.ptr.addr = ptr;
	if (op_is_write(opf))
		md->writes++;
	return dm_io(&req, 1, &where, NULL, IOPRIO_DEFAULT);
}

static u32 sb_csum(struct cdp_sb_disk *sb)
{
	__le32 saved = sb->csum;
	u32 c;

	sb->csum = 0;
	c = crc32_le(CDP_SB_CSUM_SEED, (void *)sb, CDP_META_BLOCK) ^ CDP_SB_CSUM_SEED;
	sb->csum = saved;
	return c;
}

static void sb_fill(struct cdp_meta *md, bool clean)
{
	struct cdp_sb_disk *sb = md->sb;

	sb->magic = cpu_to_le32(CDP_META_MAGIC);
	sb->version = cpu_to_le32(CDP_META_VERSION);
	sb->flags = cpu_to_le32(clean ? CDP_SB_F_CLEAN : 0);
	strscpy_pad(sb->volume, md->geo.volume, sizeof(sb->volume));
	sb->origin_sectors = cpu_to_le64(md->geo.origin_sectors);
	sb->region_sectors = cpu_to_le32(1U << md->geo.region_shift);
	sb->nr_regions = cpu_to_le64(md->geo.nr_regions);
	sb->bitmap_offset = cpu_to_le64(CDP_META_BITMAP_OFFSET);
	sb->bitmap_bytes = cpu_to_le64(md->bitmap_bytes);
	sb->generation = cpu_to_le64(md->generation);
	sb->acked_seq = cpu_to_le64(md->acked_seq);
	sb->last_seq = cpu_to_le64(md->last_seq);
	sb->csum = cpu_to_le32(sb_csum(sb));
}

int cdp_meta_write_sb(struct cdp_meta *md, bool clean)
{
	int r;

	sb_fill(md, clean);
	r = meta_rw(md, REQ_OP_WRITE | REQ_SYNC | REQ_FUA, md->sb,
		    0, CDP_BLOCK_SECTORS);
	if (!r) {
		md->clean_on_disk = clean;
		md->sb_acked_seq = md->acked_seq;
	}
	return r;
}

/* Write bitmap blocks set in io_blocks from md->buf (already LE). */
static int write_blocks(struct cdp_meta *md)
{
	u32 b = 0, e;
	int r;

	while ((b = find_next_bit(md->io_blocks, md->nr_blocks, b)) < md->nr_blocks) {
		e = find_next_zero_bit(md->io_blocks, md->nr_blocks, b);
		r = meta_rw(md, REQ_OP_WRITE | REQ_SYNC | REQ_FUA,
			    (u8 *)md->buf + (size_t)b * CDP_META_BLOCK,
			    (CDP_META_BITMAP_OFFSET >> SECTOR_SHIFT) +
			    (sector_t)b * CDP_BLOCK_SECTORS,
			    (sector_t)(e - b) * CDP_BLOCK_SECTORS);
		if (r)
			return r;
		b = e;
	}
	return 0;
}

static u32 block_nbits(struct cdp_meta *md, u32 b)
{
	u64 first = (u64)b * CDP_BITS_PER_BLOCK;

	return min_t(u64, CDP_BITS_PER_BLOCK, md->geo.nr_regions - first);
}

static u32 *block_words(struct cdp_meta *md, u32 b)
{
	return md->buf + (size_t)b * (CDP_META_BLOCK / 4);
}

static unsigned long *block_longs(unsigned long *map, u32 b)
{
	return map + (size_t)b * (CDP_BITS_PER_BLOCK / BITS_PER_LONG);
}

static void words_to_le(u32 *w, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		w[i] = (__force u32)cpu_to_le32(w[i]);
}

static void words_from_le(u32 *w, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		w[i] = le32_to_cpu((__force __le32)w[i]);
}

int cdp_meta_commit(struct cdp_meta *md, spinlock_t *lock, bool sb)
{
	unsigned long flags;
	u32 b;
	int r;

	spin_lock_irqsave(lock, flags);
	bitmap_copy(md->io_blocks, md->dirty_blocks, md->nr_blocks);
	bitmap_zero(md->dirty_blocks, md->nr_blocks);
	for_each_set_bit(b, md->io_blocks, md->nr_blocks) {
		memset(block_words(md, b), 0, CDP_META_BLOCK);
		bitmap_to_arr32(block_words(md, b), block_longs(md->bits, b),
				block_nbits(md, b));
	}
	spin_unlock_irqrestore(lock, flags);

	if (bitmap_empty(md->io_blocks, md->nr_blocks) && !sb && !md->clean_on_disk)
		return 0;

	for_each_set_bit(b, md->io_blocks, md->nr_blocks)
		words_to_le(block_words(md, b), CDP_META_BLOCK / 4);

	if (md->clean_on_disk || sb) {
		/* The dirty flag must be durable before any dirty bit relies on it. */
		r = cdp_meta_write_sb(md, false);
		if (r)
			goto fail;
	}
	r = write_blocks(md);
	if (r)
		goto fail;

	/*
	 * committed = what was written AND what is still wanted: a bit cleared
	 * since the snapshot (its block is dirty again) must not count as
	 * durable, or a write to that region would skip its intent and the
	 * next commit would write the bit clear under it.
	 */
	spin_lock_irqsave(lock, flags);
	for_each_set_bit(b, md->io_blocks, md->nr_blocks) {
		words_from_le(block_words(md, b), CDP_META_BLOCK / 4);
		bitmap_from_arr32(block_longs(md->committed, b),
				  block_words(md, b), block_nbits(md, b));
		bitmap_and(block_longs(md->committed, b), block_longs(md->committed, b),
			   block_longs(md->bits, b), block_nbits(md, b));
	}
	spin_unlock_irqrestore(lock, flags);
	return 0;

fail:
	/* Put the blocks back so a later commit retries them. */
	spin_lock_irqsave(lock, flags);
	bitmap_or(md->dirty_blocks, md->dirty_blocks, md->io_blocks, md->nr_blocks);
	spin_unlock_irqrestore(lock, flags);
	return r;
}

bool __cdp_meta_mark(struct cdp_meta *md, u32 region)
{
	if (test_bit(region, md->committed))
		return true;
	if (!__test_and_set_bit(region, md->bits))
		md->nr_dirty++;
	__set_bit(region / CDP_BITS_PER_BLOCK, md->dirty_blocks);
	return false;
}

void __cdp_meta_clear(struct cdp_meta *md, u32 region)
{
	if (__test_and_clear_bit(region, md->bits))
		md->nr_dirty--;
	__clear_bit(region, md->committed);
	__set_bit(region / CDP_BITS_PER_BLOCK, md->dirty_blocks);
}

bool __cdp_meta_pending(struct cdp_meta *md)
{
	return !bitmap_empty(md->dirty_blocks, md->nr_blocks);
}

const unsigned long *cdp_meta_bits(struct cdp_meta *md)
{
	return md->bits;
}

u64 __cdp_meta_dirty(struct cdp_meta *md)
{
	return md->nr_dirty;
}

void cdp_meta_set_seqs(struct cdp_meta *md, u64 acked, u64 last)
{
	md->acked_seq = acked;
	md->last_seq = last;
}

u64 cdp_meta_generation(struct cdp_meta *md)
{
	return md->generation;
}

u64 cdp_meta_acked_seq(struct cdp_meta *md)
{
	return md->acked_seq;
}

u64 cdp_meta_sb_acked_seq(struct cdp_meta *md)
{
	return md->sb_acked_seq;
}

u64 cdp_meta_last_seq(struct cdp_meta *md)
{
	return md->last_seq;
}

u64 cdp_meta_writes(struct cdp_meta *md)
{
	return md->writes;
}

/* Read the bitmap blocks into bits and committed (no concurrent users). */
static int read_bitmap(struct cdp_meta *md)
{
	u32 b;
	int r;

	r = meta_rw(md, REQ_OP_READ, md->buf,
		    CDP_META_BITMAP_OFFSET >> SECTOR_SHIFT,
		    md->bitmap_bytes >> SECTOR_SHIFT);
	if (r)
		return r;
	for (b = 0; b < md->nr_blocks; b++) {
		words_from_le(block_words(md, b), CDP_META_BLOCK / 4);
		bitmap_from_arr32(block_longs(md->bits, b), block_words(md, b),
				  block_nbits(md, b));
	}
	bitmap_copy(md->committed, md->bits, md->geo.nr_regions);
	md->nr_dirty = bitmap_weight(md->bits, md->geo.nr_regions);
	bitmap_zero(md->dirty_blocks, md->nr_blocks);
	return 0;
}

static int format(struct cdp_meta *md)
{
	u32 b;
	int r;

	memset(md->sb, 0, CDP_META_BLOCK);
	get_random_bytes(md->sb->uuid, sizeof(md->sb->uuid));
	md->sb->format_time = cpu_to_le64(ktime_get_real_ns());
	md->generation = 0;
	md->acked_seq = 0;
	md->last_seq = 0;

	/* Fresh metadata: every region dirty, the first resync copies all. */
	bitmap_fill(md->bits, md->geo.nr_regions);
	memset(md->buf, 0, md->bitmap_bytes);
	for (b = 0; b < md->nr_blocks; b++) {
		bitmap_to_arr32(block_words(md, b), block_longs(md->bits, b),
				block_nbits(md, b));
		words_to_le(block_words(md, b), CDP_META_BLOCK / 4);
	}
	bitmap_fill(md->io_blocks, md->nr_blocks);
	r = write_blocks(md);
	if (r)
		return r;
	r = cdp_meta_write_sb(md, true);
	if (r)
		return r;
	return read_bitmap(md);
}

static bool all_zeroes(const void *p, size_t n)
{
	return !memchr_inv(p, 0, n);
}

static int check_sb(struct cdp_meta *md, char **error)
{
	struct cdp_sb_disk *sb = md->sb;
	u32 version;

	if (le32_to_cpu(sb->magic) != CDP_META_MAGIC) {
		*error = "Metadata device has a foreign superblock (bad magic); zero its first 4 KiB to format it";
		return -EINVAL;
	}
	if (le32_to_cpu(sb->csum) != sb_csum(sb)) {
		*error = "Metadata superblock checksum mismatch (corrupt); zero its first 4 KiB to re-format and fully resync";
		return -EILSEQ;
	}
	version = le32_to_cpu(sb->version);
	if (version != CDP_META_VERSION) {
		*error = "Metadata format version not supported by this module";
		return -EINVAL;
	}
	if (strncmp(sb->volume, md->geo.volume, sizeof(sb->volume))) {
		*error = "Metadata belongs to another volume_id";
		return -EINVAL;
	}
	if (le64_to_cpu(sb->origin_sectors) != md->geo.origin_sectors) {
		*error = "Metadata was made for a volume of another size; zero the metadata to re-protect";
		return -EINVAL;
	}
	if (le32_to_cpu(sb->region_sectors) != (1U << md->geo.region_shift)) {
		*error = "Metadata was made with another region_kb";
		return -EINVAL;
	}
	if (le64_to_cpu(sb->nr_regions) != md->geo.nr_regions ||
	    le64_to_cpu(sb->bitmap_offset) != CDP_META_BITMAP_OFFSET ||
	    le64_to_cpu(sb->bitmap_bytes) != md->bitmap_bytes) {
		*error = "Metadata bitmap geometry is inconsistent";
		return -EINVAL;
	}
	md->generation = le64_to_cpu(sb->generation);
	md->acked_seq = le64_to_cpu(sb->acked_seq);
	md->last_seq = le64_to_cpu(sb->last_seq);
	md->clean_on_disk = le32_to_cpu(sb->flags) & CDP_SB_F_CLEAN;
	return 0;
}

int cdp_meta_reload(struct cdp_meta *md)
{
	char *error;
	int r;

	r = meta_rw(md, REQ_OP_READ, md->sb, 0, CDP_BLOCK_SECTORS);
	if (r)
		return r;
	r = check_sb(md, &error);
	if (r) {
		DMERR("%s: %s", md->geo.volume, error);
		return r;
	}
	r = read_bitmap(md);
	if (r)
		return r;
	md->generation++;
	return cdp_meta_write_sb(md, false);
}

void cdp_meta_close(struct cdp_meta *md)
{
	if (md->io)
		dm_io_client_destroy(md->io);
	kvfree(md->buf);
	kfree(md->sb);
	kvfree(md->bits);
	kvfree(md->committed);
	kvfree(md->dirty_blocks);
	kvfree(md->io_blocks);
	kfree(md);
}

struct cdp_meta *cdp_meta_open(struct dm_dev *dev,
			       const struct cdp_meta_geometry *geo,
			       bool *fresh, char **error)
{
	struct cdp_meta *md;
	sector_t need;
	int r = -ENOMEM;

	md = kzalloc(sizeof(*md), GFP_KERNEL);
	if (!md)
		goto nomem;
	md->dev = dev;
	md->geo = *geo;
	md->bitmap_bytes = round_up(DIV_ROUND_UP((u64)geo->nr_regions, 8),
				    CDP_META_BLOCK);
	md->nr_blocks = md->bitmap_bytes / CDP_META_BLOCK;

	need = (CDP_META_BITMAP_OFFSET + md->bitmap_bytes) >> SECTOR_SHIFT;
	if (bdev_nr_sectors(dev->bdev) < need) {
		*error = "Metadata device too small: it needs 4 KiB + 1 bit per region, rounded up to 4 KiB";
		r = -ENOSPC;
		goto fail;
	}

	md->bits = cdp_bitmap_zalloc(geo->nr_regions);
	md->committed = cdp_bitmap_zalloc(geo->nr_regions);
	md->dirty_blocks = cdp_bitmap_zalloc(md->nr_blocks);
	md->io_blocks = cdp_bitmap_zalloc(md->nr_blocks);
	md->sb = kzalloc(CDP_META_BLOCK, GFP_KERNEL);
	md->buf = kvzalloc(md->bitmap_bytes, GFP_KERNEL);
	if (!md->bits || !md->committed || !md->dirty_blocks ||
	    !md->io_blocks || !md->sb || !md->buf)
		goto nomem;

	md->io = dm_io_client_create();
	if (IS_ERR(md->io)) {
		r = PTR_ERR(md->io);
		md->io = NULL;
		goto nomem;
	}

	r = meta_rw(md, REQ_OP_READ, md->sb, 0, CDP_BLOCK_SECTORS);
	if (r) {
		*error = "Cannot read the metadata superblock";
		goto fail;
	}
	*fresh = all_zeroes(md->sb, CDP_META_BLOCK);
	if (*fresh) {
		r = format(md);
		if (r) {
			*error = "Cannot format the metadata device";
			goto fail;
		}
		return md;
	}
	r = check_sb(md, error);
	if (r)
		goto fail;
	r = read_bitmap(md);
	if (r) {
		*error = "Cannot read the metadata bitmap";
		goto fail;
	}
	return md;

nomem:
	*error = "Cannot allocate metadata memory";
fail:
	if (md)
		cdp_meta_close(md);
	return ERR_PTR(r);
}
