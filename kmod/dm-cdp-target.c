// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-cdp: placeholder target "cdp" used by the foundation smoke tests.
 * It remaps every bio to the origin device (like dm-linear); the real
 * capture path replaces this file.
 */
#include <linux/module.h>
#include <linux/device-mapper.h>

#define DM_MSG_PREFIX "cdp"

struct cdp {
	struct dm_dev *origin;
};

static int cdp_ctr(struct dm_target *ti, unsigned int argc, char **argv)
{
	struct cdp *c;
	int r;

	if (argc < 1) {
		ti->error = "Invalid argument count: cdp <origin_dev>";
		return -EINVAL;
	}
	c = kzalloc(sizeof(*c), GFP_KERNEL);
	if (!c) {
		ti->error = "Cannot allocate cdp context";
		return -ENOMEM;
	}
	r = dm_get_device(ti, argv[0], dm_table_get_mode(ti->table), &c->origin);
	if (r) {
		ti->error = "Cannot open origin device";
		kfree(c);
		return r;
	}
	ti->private = c;
	ti->num_flush_bios = 1;
	ti->num_discard_bios = 1;
	return 0;
}

static void cdp_dtr(struct dm_target *ti)
{
	struct cdp *c = ti->private;

	dm_put_device(ti, c->origin);
	kfree(c);
}

static int cdp_map(struct dm_target *ti, struct bio *bio)
{
	struct cdp *c = ti->private;

	bio_set_dev(bio, c->origin->bdev);
	bio->bi_iter.bi_sector = dm_target_offset(ti, bio->bi_iter.bi_sector);
	return DM_MAPIO_REMAPPED;
}

static struct target_type cdp_target = {
	.name = "cdp",
	.version = {0, 0, 1},
	.features = DM_TARGET_NOWAIT,
	.module = THIS_MODULE,
	.ctr = cdp_ctr,
	.dtr = cdp_dtr,
	.map = cdp_map,
};

static int __init dm_cdp_init(void)
{
	return dm_register_target(&cdp_target);
}

static void __exit dm_cdp_exit(void)
{
	dm_unregister_target(&cdp_target);
}

module_init(dm_cdp_init);
module_exit(dm_cdp_exit);

MODULE_DESCRIPTION(DM_NAME " continuous data protection target");
MODULE_LICENSE("GPL");
