// SPDX-License-Identifier: GPL-2.0
/* rcu_expedite.c - hold /sys/kernel/rcu_expedited at 1 around FIFREEZE. */
#include "rcu_expedite.h"

#include <fcntl.h>
#include <unistd.h>

int rcu_expedite_begin(struct rcu_expedite *e, const char *path)
{
	char c = 0;

	e->fd = open(path, O_RDWR | O_CLOEXEC);
	if (e->fd < 0)
		return 0;
	/* "0\n" = normal grace periods: ours to change; anything else: not */
	if (pread(e->fd, &c, 1, 0) != 1 || c != '0' || pwrite(e->fd, "1\n", 2, 0) != 2) {
		close(e->fd);
		e->fd = -1;
		return 0;
	}
	return 1;
}

void rcu_expedite_end(struct rcu_expedite *e)
{
	ssize_t n;

	if (e->fd < 0)
		return;
	/* a failure leaves expedited grace periods on: costlier IPIs, not wrong */
	n = pwrite(e->fd, "0\n", 2, 0);
	(void)n;
	close(e->fd);
	e->fd = -1;
}
