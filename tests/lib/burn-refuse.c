// SPDX-License-Identifier: GPL-2.0
/*
 * LD_PRELOAD shim for tests/archive: the first $CDP_TEST_REFUSE_WRITES
 * calls of burn_disc_write() do nothing, as when libburn refuses a write.
 * $CDP_TEST_REFUSE_MODE "busy" (default) queues libburn's own refusal
 * message ("A drive operation is still going on", which a fast earlier
 * disc can cause), "silent" queues nothing: the drive just stays idle.
 * Built by the test that uses it (cc -shared -fPIC ... -ldl).
 */
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <libburn/libburn.h>

void burn_disc_write(struct burn_write_opts *o, struct burn_disc *disc)
{
	static int calls;
	const char *n = getenv("CDP_TEST_REFUSE_WRITES");
	const char *mode = getenv("CDP_TEST_REFUSE_MODE");
	void (*real)(struct burn_write_opts *, struct burn_disc *);

	if (n && calls++ < atoi(n)) {
		if (!mode || strcmp(mode, "silent"))
			burn_msgs_submit(0x00020102,
					 "A drive operation is still going on (want to write)",
					 0, "SORRY", NULL);
		return;
	}
	real = (void (*)(struct burn_write_opts *, struct burn_disc *))
		dlsym(RTLD_NEXT, "burn_disc_write");
	real(o, disc);
}
