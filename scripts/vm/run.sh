#!/bin/bash
# Boot Debian's kernel under QEMU/TCG and run one command inside it.
#
# run.sh [--disk PATH[:SIZE]]... [--timeout SEC] [--mem MB] [--smp N] [--netns NS]
#        [--ip ADDR/PFX] [--work DIR] [--kill-on PATTERN] [--kver KVER]
#        [--kdir DIR] -- CMD [ARGS...]
#
# Inside the guest CMD runs as root in a chroot whose root is the host root
# (read-only 9p) under a tmpfs overlay: every host path (/tmp too) is visible at the same
# place, cwd is the repo top.  DIR (default: a fresh temp dir, removed after)
# is shared read-write at the same path.  Disks are /dev/vda, /dev/vdb, ... in
# order; PATH:SIZE creates a sparse file when PATH does not exist. --smp N
# (or $CDP_VM_SMP) gives the guest N vCPUs (multi-threaded TCG); tests use 1,
# the fastest under TCG, benchmarks 2 so a consumer does not share fio's vCPU.
# Environment in the guest: CDP_TOP, CDP_IN_VM=1, CDP_VM_WORK, DM_DISABLE_UDEV=1.
# --kdir DIR (or $CDP_VM_KDIR) boots the debug kernel that
# scripts/vm/debug-kernel.sh built in DIR (KASAN, lockdep, KFENCE,
# kmemleak): its modules serve modprobe and its dm-cdp.ko is seen at
# kmod/dm-cdp.ko; after CMD a kmemleak scan reports any leak as a splat.
# $CDP_VM_APPEND is added to the kernel command line.
#
# Exit status: CMD's own, or
#   124  timeout (the guest is killed)
#   125  kernel splat on the console (Oops, BUG, WARNING, lockdep, hung task, panic)
#   126  the guest ended without reporting a status
#   137  --kill-on PATTERN matched: QEMU was SIGKILLed (a power cut)
# --netns NS runs QEMU inside that network namespace with a tap device
# (created here, named cdptap<N>) whose guest side gets --ip (default
# 10.231.0.2/24); the caller owns the namespace and the host-side address
# (scripts/vm/netns.sh).
set -uo pipefail

TOP=$(cd "$(dirname "$0")/../.." && pwd)
KVER=${KVER:-$(ls -1 /lib/modules 2>/dev/null | sort -V | tail -n1)}
TIMEOUT=600 MEM=1024 SMP=${CDP_VM_SMP:-1} NETNS="" IP="" WORK="" KILL_ON="" TAP=""
DEBUG_KDIR=${CDP_VM_KDIR:-}
DISKS=()

usage() {
	sed -n '2,22s/^# \{0,1\}//p' "$0" >&2
	exit 2
}

while [ $# -gt 0 ]; do
	case "$1" in
	--disk) DISKS+=("$2"); shift 2 ;;
	--timeout) TIMEOUT=$2; shift 2 ;;
	--mem) MEM=$2; shift 2 ;;
	--smp) SMP=$2; shift 2 ;;
	--netns) NETNS=$2; shift 2 ;;
	--ip) IP=$2; shift 2 ;;
	--work) WORK=$2; shift 2 ;;
	--kill-on) KILL_ON=$2; shift 2 ;;
	--kver) KVER=$2; shift 2 ;;
	--kdir) DEBUG_KDIR=$2; shift 2 ;;
	--) shift; break ;;
	-h|--help) usage ;;
	*) echo "run.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
	esac
done
[ $# -gt 0 ] || { echo "run.sh: no command given: run.sh [opts] -- CMD" >&2; exit 2; }
TIMEOUT=$((TIMEOUT * ${CDP_TIMEOUT_SCALE:-1}))

KERNEL=/boot/vmlinuz-$KVER
MODROOT=/lib/modules/$KVER
if [ -n "$DEBUG_KDIR" ]; then
	DEBUG_KDIR=$(cd "$DEBUG_KDIR" 2>/dev/null && pwd) && [ -r "$DEBUG_KDIR/kver" ] ||
		{ echo "run.sh: --kdir: no debug kernel there: run scripts/vm/debug-kernel.sh" >&2; exit 2; }
	KVER=$(cat "$DEBUG_KDIR/kver")
	KERNEL=$DEBUG_KDIR/vmlinuz
	MODROOT=$DEBUG_KDIR/modules/lib/modules/$KVER
fi
[ -r "$KERNEL" ] || { echo "run.sh: $KERNEL missing: run scripts/deps.sh (linux-image-amd64)" >&2; exit 2; }
command -v qemu-system-x86_64 >/dev/null ||
	{ echo "run.sh: qemu-system-x86_64 missing: run scripts/deps.sh" >&2; exit 2; }

# The initramfs is cached and rebuilt when its inputs change.
CACHE=${CDP_CACHE:-$TOP/.cache}/vm
mkdir -p "$CACHE"
sum=$(cat "$TOP/scripts/vm/init.sh" "$TOP/scripts/vm/mkinitrd.sh" | md5sum | cut -c1-12)
INITRD=$CACHE/initrd-$KVER-$sum.cpio.gz
if [ ! -s "$INITRD" ]; then
	"$TOP/scripts/vm/mkinitrd.sh" "$KVER" "$INITRD" ${DEBUG_KDIR:+"$MODROOT"} || exit 2
fi

own_work=0
if [ -z "$WORK" ]; then
	WORK=$(mktemp -d /tmp/cdpvm.XXXXXX)
	own_work=1
fi
WORK=$(cd "$WORK" && pwd)
rm -rf "$WORK/.vm"
mkdir -p "$WORK/.vm"

{
	echo "export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	echo "export CDP_TOP=$(printf %q "$TOP") CDP_IN_VM=1 CDP_VM_WORK=$(printf %q "$WORK")"
	echo "export DM_DISABLE_UDEV=1 HOME=/root TERM=dumb LANG=C.UTF-8"
	echo "export CDP_TIMEOUT_SCALE=${CDP_TIMEOUT_SCALE:-1}"
	echo "modprobe dm-mod 2>/dev/null"
	echo "cd $(printf %q "$TOP") || exit 126"
	if [ -n "$DEBUG_KDIR" ]; then
		# a leak shows as "unreferenced object" lines, which are splats
		# one scan at the end (each takes a minute or more in TCG), none
		# in the background meanwhile
		echo 'k=/sys/kernel/debug/kmemleak; echo scan=off >$k 2>/dev/null'
		printf '%q ' "$@"; echo
		echo 'rc=$?'
		echo 'if [ -w $k ] && sleep 5 && echo scan >$k; then'
		echo '	while IFS= read -r l; do echo "kmemleak: $l" >/dev/kmsg; done <$k'
		echo '	echo "# cdp-vm: kmemleak scanned: $(grep -c "^unreferenced" $k) leaks"'
		echo 'else echo "# cdp-vm: kmemleak is not running: no leak check"; [ $rc = 0 ] && rc=125; fi'
		echo 'exit $rc'
	else
		printf 'exec'; printf ' %q' "$@"; echo
	fi
} > "$WORK/.vm/job.sh"

# CDP_VM_IOTHREADS=1: each disk gets its own QEMU iothread. Otherwise QEMU's
# one main loop serves every virtqueue, so a burst on one disk (a consumer
# writing its replica) delays requests on another (the origin) in the
# device model: a coupling real disks on separate queues, and a replica on
# another host, do not have. Benchmarks use it; tests need not.
drive_args=()
n_disk=0
for d in ${DISKS[@]+"${DISKS[@]}"}; do
	path=${d%%:*}
	if [ "$path" != "$d" ] && [ ! -e "$path" ]; then
		truncate -s "${d#*:}" "$path" || exit 2
	fi
	[ -e "$path" ] || { echo "run.sh: disk $path does not exist (use PATH:SIZE to create it)" >&2; exit 2; }
	# discard=unmap: a discarded range reads back as zeroes, as on the replica
	opts="file=$path,format=raw,cache=none,aio=threads,discard=unmap,detect-zeroes=unmap"
	# CDP_VM_DISK<n>_OPTS: more -drive options for the n-th --disk (from 0),
	# e.g. throttling.iops-total=1500 to give it a disk's fixed I/O budget
	extra_var=CDP_VM_DISK${n_disk}_OPTS
	[ -n "${!extra_var:-}" ] && opts+=",${!extra_var}"
	if [ "${CDP_VM_IOTHREADS:-0}" = 1 ]; then
		drive_args+=(-object "iothread,id=io$n_disk" -drive "$opts,if=none,id=d$n_disk"
			     -device "virtio-blk-pci,drive=d$n_disk,iothread=io$n_disk")
	else
		drive_args+=(-drive "$opts,if=virtio")
	fi
	n_disk=$((n_disk + 1))
done

append="console=ttyS0 panic=-1 oops=panic loglevel=5 printk.time=1 cdp.work=$WORK"
# the debug kernel: its modules for modprobe, its dm-cdp.ko at kmod/;
# panic_on_warn stays off so that one splat does not hide the next.
# tsc=reliable: no clocksource watchdog (its reads take seconds under KASAN
# in TCG and it then distrusts the TSC). Not no_timer_check: with it an
# early interrupt hit an irq descriptor not set up yet (a KASAN report at
# boot, which also switches lockdep off).
[ -n "$DEBUG_KDIR" ] && append+=" cdp.kmods=$MODROOT cdp.kmod=$DEBUG_KDIR/kmod cdp.top=$TOP kmemleak=on tsc=reliable"
append+=" ${CDP_VM_APPEND:-}"
net_args=(-nic none)
wrap=()
if [ -n "$NETNS" ]; then
	TAP=cdptap$$
	TAP=${TAP:0:15}
	ip netns exec "$NETNS" ip tuntap add dev "$TAP" mode tap || exit 2
	ip netns exec "$NETNS" ip link set "$TAP" master cdpbr0 2>/dev/null
	ip netns exec "$NETNS" ip link set "$TAP" up
	net_args=(-netdev "tap,id=n0,ifname=$TAP,script=no,downscript=no"
		  -device virtio-net-pci,netdev=n0,romfile=)
	append+=" cdp.ip=${IP:-10.231.0.2/24}"
	wrap=(ip netns exec "$NETNS")
fi

cleanup() {
	[ -n "${QPID:-}" ] && kill -9 "$QPID" 2>/dev/null
	[ -n "$TAP" ] && ip netns exec "$NETNS" ip link del "$TAP" 2>/dev/null
	[ "$own_work" = 1 ] && rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Lines of the kernel log start with "[ seconds]" (printk.time=1); only
# those are checked, so a test that prints "BUG:" itself is not a splat.
# "BUG <cache> (...): Redzone overwritten" is how slub_debug reports.
SPLAT='^\[ *[0-9]+\.[0-9]+\] .*(Oops|BUG:|WARNING:|kernel BUG|Kernel panic|general protection fault|INFO: task .* blocked|possible (circular|recursive) locking|KASAN:|UBSAN:|list_(add|del) corruption|refcount_t:|Call Trace:|BUG [^ ]+ \(|unreferenced object)'

# CPU model: "max" without ERMS/FSRM. With them, the guest kernel and glibc
# copy and clear memory with rep movsb/stosb, which TCG executes a byte at
# a time: a 64 KiB memcpy took 360-450 us (rep movsq: 28-60 us) and a
# memset 270-370 us (18 us). That made every copy ~100x dearer relative to
# I/O than on real hardware, where ERMS is the fast path; the guest is
# faster without it and benchmark ratios are not skewed by it.
# CDP_VM_CPU overrides the model.
CPU=${CDP_VM_CPU:-max,erms=off,fsrm=off}
# The debug kernel runs q35: pc's ACPI _PRT is an AML loop that, under KASAN
# and lockdep in TCG, hits ACPICA's 30 s loop timeout once per PCI slot.
MACHINE=${CDP_VM_MACHINE:-pc}
[ -n "$DEBUG_KDIR" ] && MACHINE=${CDP_VM_MACHINE:-q35}
# The console goes to a regular file, read back with tail: QEMU's serial
# drops a byte when its output would block (a full pipe while this loop,
# reading byte by byte, lags on a busy host: seen as "k 3" for "ok 3").
console=$WORK/.vm/console
launch() {
	: >"$console"
	"${wrap[@]}" qemu-system-x86_64 -machine "$MACHINE" -accel tcg,thread=multi -cpu "$CPU" -smp "$SMP" -m "$MEM" \
		-nographic -nodefaults -serial stdio -monitor none -no-reboot \
		-kernel "$KERNEL" -initrd "$INITRD" -append "$append" \
		-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
		-virtfs "local,path=$WORK,mount_tag=work,security_model=none,multidevs=remap" \
		${drive_args[@]+"${drive_args[@]}"} "${net_args[@]}" </dev/null >"$console" 2>&1 &
	QPID=$!
	# tail ends (EOF here) once QEMU has exited and the file is read to its end
	exec 3< <(tail --pid="$QPID" -n +1 -f "$console")
}
launch

splat=0 killed=0 up=0 boots=1
deadline=$((SECONDS + TIMEOUT))
# The debug kernel, on a busy host, has hung in its timer setup before
# userspace (QEMU idle, no output): nothing ran yet, so boot it again, once.
boot_deadline=$((SECONDS + 300))
partial=""
while :; do
	if IFS= read -r -t 5 line <&3; then
		line=$partial$line partial=""
		line=${line%$'\r'}
		# firmware chatter (SeaBIOS, terminal escapes) is not worth showing
		case "$line" in *$'\e'*|*SeaBIOS*|"Booting from ROM"*) continue ;; esac
		printf '%s\n' "$line"
		[[ $line == *"cdp-vm: userspace up"* ]] && up=1
		if [[ $line =~ $SPLAT ]] && [ $splat = 0 ]; then
			splat=1
			echo "# cdp-vm: kernel splat detected (see the log above and below)"
		fi
		if [ -n "$KILL_ON" ] && [[ $line == *"$KILL_ON"* ]]; then
			kill -9 "$QPID" 2>/dev/null
			killed=1
			echo "# cdp-vm: power cut (QEMU killed) at '$KILL_ON'"
			break
		fi
	else
		# read timed out (no output) or the pipe closed (QEMU gone); a
		# timeout leaves what it read of an unfinished line in $line:
		# keep it (dropping it lost the "o" of an "ok" line once)
		partial+=$line
		kill -0 "$QPID" 2>/dev/null || break
	fi
	if [ -n "$DEBUG_KDIR" ] && [ $up = 0 ] && [ $boots = 1 ] && [ $SECONDS -ge $boot_deadline ]; then
		echo "# cdp-vm: no userspace 300 s after boot: the kernel hung in its setup; booting again"
		kill -9 "$QPID" 2>/dev/null
		wait "$QPID" 2>/dev/null
		exec 3<&-
		boots=2 partial=""
		launch
	fi
	if [ $SECONDS -ge $deadline ]; then
		echo "# cdp-vm: timeout after ${TIMEOUT}s: killing the guest"
		kill -9 "$QPID" 2>/dev/null
		wait "$QPID" 2>/dev/null
		QPID=
		exit 124
	fi
done
[ -n "$partial" ] && printf '%s\n' "${partial%$'\r'}"
exec 3<&-
wait "$QPID" 2>/dev/null
QPID=

[ $killed = 1 ] && exit 137
[ $splat = 1 ] && exit 125
[ -s "$WORK/.vm/rc" ] || { echo "# cdp-vm: the guest ended without reporting a status"; exit 126; }
exit "$(cat "$WORK/.vm/rc")"
