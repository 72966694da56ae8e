# cdp: top-level build.
#
#   make              kernel module (against the running/installed Debian headers) + lib + ctl
#   make kmod         just the modules: dm-cdp.ko, and dm-clone.ko where the kernel
#                     lacks it (kmod/Kbuild)        (KVER=..., KDIR=... to override)
#   make user         libcdp.a, cdpd, cdpctl, unit test binaries
#   make check        every suite (unit, kernel in the VM, e2e with Ceph, archive); ends "N passed, N failed"
#   make demo         the end-to-end demo
#   make install      binaries, man pages, cron file, systemd unit
#
# Userspace sources are discovered, not listed:
#   lib/*.c                      -> lib/libcdp.a
#   ctl/cdpd.c ctl/cdpd_*.c      -> ctl/cdpd
#   ctl/cdpctl.c ctl/cmd_*.c     -> ctl/cdpctl
#   tests/unit/test_*.c          -> tests/unit/test_* (cmocka, linked with libcdp.a);
#       a line "// wrap: sym1 sym2" in a test file adds -Wl,--wrap=sym for cmocka mocks.
#   tests/tools/*.c              -> tests/tools/* (test helpers, e.g. the test consumer)

KVER    ?= $(shell ls -1 /lib/modules 2>/dev/null | sort -V | tail -n1)
KDIR    ?= /lib/modules/$(KVER)/build
PREFIX  ?= /usr/local
DESTDIR ?=

CC      ?= gcc
CFLAGS  ?= -O2 -g
CFLAGS  += -std=gnu11 -Wall -Wextra -Wno-unused-parameter -Wshadow -Wformat=2 \
	   -D_GNU_SOURCE -Ikmod/uapi -Ilib \
	   $(shell pkg-config --cflags libnl-genl-3.0 2>/dev/null)
LDLIBS  += $(shell pkg-config --libs libnl-genl-3.0 2>/dev/null) -lrbd -lrados \
	   -lsqlite3 -lburn -lisofs -ldevmapper -lcrypto -lpthread -lm

LIB_SRC    := $(sort $(wildcard lib/*.c))
LIB_OBJ    := $(LIB_SRC:.c=.o)
CDPD_SRC   := $(sort $(wildcard ctl/cdpd.c ctl/cdpd_*.c))
CDPCTL_SRC := $(sort $(wildcard ctl/cdpctl.c ctl/cmd_*.c))
UNIT_SRC   := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN   := $(UNIT_SRC:.c=)
TOOL_SRC   := $(sort $(wildcard tests/tools/*.c))
TOOL_BIN   := $(TOOL_SRC:.c=)
HDRS       := $(wildcard lib/*.h ctl/*.h kmod/uapi/*.h)
BINS       := $(if $(CDPD_SRC),ctl/cdpd) $(if $(CDPCTL_SRC),ctl/cdpctl)

.PHONY: all kmod user check check-unit check-kernel check-e2e check-archive \
	demo install clean checkpatch sparse dkms-test

all: kmod user

kmod:
	$(MAKE) -C $(KDIR) M=$(CURDIR)/kmod modules

sparse:
	$(MAKE) -C $(KDIR) M=$(CURDIR)/kmod C=2 modules

user: lib/libcdp.a $(BINS) $(UNIT_BIN) $(TOOL_BIN)

lib/%.o: lib/%.c $(HDRS)
	$(CC) $(CFLAGS) -c -o $@ $<

lib/libcdp.a: $(LIB_OBJ)
	@rm -f $@
	$(if $(LIB_OBJ),ar rcs $@ $^,ar rcs $@)

ctl/cdpd: $(CDPD_SRC) lib/libcdp.a $(HDRS)
	$(CC) $(CFLAGS) -o $@ $(CDPD_SRC) lib/libcdp.a $(LDLIBS)

ctl/cdpctl: $(CDPCTL_SRC) lib/libcdp.a $(HDRS)
	$(CC) $(CFLAGS) -o $@ $(CDPCTL_SRC) lib/libcdp.a $(LDLIBS)

tests/unit/test_%: tests/unit/test_%.c lib/libcdp.a $(HDRS)
	$(CC) $(CFLAGS) -o $@ $< \
	  $(addprefix -Wl$(comma)--wrap=,$(shell sed -n 's|^// wrap:||p' $<)) \
	  lib/libcdp.a -lcmocka $(LDLIBS)

tests/tools/%: tests/tools/%.c lib/libcdp.a $(HDRS)
	$(CC) $(CFLAGS) -o $@ $< lib/libcdp.a $(LDLIBS)

comma := ,

check:
	scripts/check.sh

check-unit: user
	tests/run.sh unit
check-kernel: kmod user
	tests/run.sh kernel
check-e2e: all
	tests/run.sh e2e
check-archive: user
	tests/run.sh archive

demo:
	scripts/demo.sh

checkpatch:
	scripts/checkpatch.sh

install: user
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/share/man/man8
	for b in $(BINS); do install -m 0755 $$b $(DESTDIR)$(PREFIX)/sbin/; done
	for m in $(wildcard docs/*.8); do install -m 0644 $$m $(DESTDIR)$(PREFIX)/share/man/man8/; done
	if [ -f scripts/cron/cdp ]; then install -D -m 0644 scripts/cron/cdp $(DESTDIR)/etc/cron.d/cdp; fi
	install -d $(DESTDIR)/etc/cdp
	[ -e $(DESTDIR)/etc/cdp/cdp.conf ] || install -m 0644 scripts/cdp.conf.example $(DESTDIR)/etc/cdp/cdp.conf
	if [ -f scripts/systemd/cdpd.service ]; then \
	  install -D -m 0644 scripts/systemd/cdpd.service $(DESTDIR)/lib/systemd/system/cdpd.service; fi

clean:
	-$(MAKE) -C $(KDIR) M=$(CURDIR)/kmod clean 2>/dev/null
	rm -f lib/*.o lib/libcdp.a ctl/cdpd ctl/cdpctl $(UNIT_BIN) $(TOOL_BIN)
