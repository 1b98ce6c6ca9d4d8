#!/bin/bash
# Boot the throwaway test VM once and report the test's result.
#
#   scripts/vm/boot.sh -i INITRD [-T SECS] [-r RTCBASE] [-n] [-u HOSTFWD]...
#                      [-s DIR] [-l LOGDIR] [-a APPEND] [-- EXTRA QEMU ARGS...]
#
#   -i INITRD   the initramfs from mkinitramfs.sh
#   -T SECS     hard time limit for the whole run (default 60)
#   -r RTCBASE  qemu's -rtc base=: utc (default), localtime, or a date such as
#               2020-01-01T00:00:00. The guest kernel sets its clock from the
#               RTC at boot, so this is also the guest's starting time.
#   -n          a virtio NIC on qemu's user-mode network (restrict=off, which
#               UDP needs): the guest reaches the host's 127.0.0.1 as 10.0.2.2.
#               Run boot.sh inside netns-run.sh so that is all it can reach.
#   -u FWD      a hostfwd rule, e.g. udp:127.0.0.1:12324-:123; implies -n
#   -s DIR      share host folder DIR at /mnt/share in the guest (9p)
#   -l LOGDIR   where console.log and result.log go (default: a fresh
#               directory under $VMTEST_DIR/runs, removed after a passing run
#               unless VMTEST_KEEP=1)
#   -a APPEND   more kernel command line; KEY=VALUE words become environment
#               variables of /test.sh
#
# Prints the test's output and exits with its status; 124 on timeout, 125
# when the VM ended without a VMTEST_RC line (a crash).
# The accelerator is always TCG (software emulation): /dev/kvm on these
# machines is PVM, which boots only PVM-patched guests and hangs a stock
# Debian kernel silently. Under TCG a boot to VMTEST_RC takes about 2.5 s.
set -uo pipefail
VMDIR=${VMTEST_DIR:-target/vmtest}
case $VMDIR in /*) ;; *) VMDIR=$PWD/$VMDIR ;; esac
envval() { [ -f "$VMDIR/env" ] && sed -n "s/^$1=//p" "$VMDIR/env"; true; }
KERNEL=${VMTEST_KERNEL:-$(envval VMTEST_KERNEL)}
INITRD= TIMEOUT=60 RTCBASE=utc NET= FWDS=() SHARE= LOGDIR= APPEND=
usage() { sed -n '2,/^$/s/^# \{0,1\}//p' "$0" >&2; exit 2; }
while getopts "i:T:r:nu:s:l:a:" opt; do
	case $opt in
	i) INITRD=$OPTARG ;;
	T) TIMEOUT=$OPTARG ;;
	r) RTCBASE=$OPTARG ;;
	n) NET=1 ;;
	u) FWDS+=("$OPTARG"); NET=1 ;;
	s) SHARE=$OPTARG ;;
	l) LOGDIR=$OPTARG ;;
	a) APPEND=$OPTARG ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ -n "$INITRD" ] || usage
[ -s "$KERNEL" ] || { echo "boot.sh: no kernel in $VMDIR; run scripts/vm/setup.sh first" >&2; exit 125; }

OWNLOG=
if [ -z "$LOGDIR" ]; then
	mkdir -p "$VMDIR/runs"
	LOGDIR=$(mktemp -d "$VMDIR/runs/run.XXXXXX")
	OWNLOG=1
fi
mkdir -p "$LOGDIR"
CONSOLE=$LOGDIR/console.log RESULT=$LOGDIR/result.log
: > "$CONSOLE"
: > "$RESULT"

# Under TCG the guest's TSC is the host's, so telling the guest its rate
# skips the TSC calibration against the PIT, which a busy host can upset.
TSC_KHZ=$(awk -F: '/^cpu MHz/ {printf "%d", $2 * 1000; exit}' /proc/cpuinfo)

NETARGS=(-net none)
if [ -n "$NET" ]; then
	netdev="user,id=n0,restrict=off,ipv6=off"
	for f in "${FWDS[@]+"${FWDS[@]}"}"; do netdev+=",hostfwd=$f"; done
	NETARGS=(-netdev "$netdev" -device virtio-net-pci,romfile=,netdev=n0)
fi
SHAREARGS=()
[ -n "$SHARE" ] && SHAREARGS=(-fsdev "local,id=fs0,path=$SHARE,security_model=none"
	-device virtio-9p-pci,fsdev=fs0,mount_tag=vmshare)

# console=ttyS0 -> console.log: kernel and /init messages, for debugging
# ttyS1 -> result.log: only what /test.sh prints, then VMTEST_RC=n
# panic=-1 with -no-reboot: if /init dies, qemu exits at once
CMDLINE="console=ttyS0 quiet loglevel=4 panic=-1 rdinit=/init cryptomgr.notests"
CMDLINE+=" i8042.noaux i8042.nokbd i8042.nopnp tsc=reliable no_timer_check noresume"
[ -n "$TSC_KHZ" ] && CMDLINE+=" tsc_early_khz=$TSC_KHZ"
[ -n "$APPEND" ] && CMDLINE+=" $APPEND"

QEMU=(qemu-system-x86_64 -accel tcg -cpu max -M pc -smp 1 -m 256M
	-nodefaults -no-user-config -nographic -no-reboot -monitor none
	-serial "file:$CONSOLE" -serial "file:$RESULT" -rtc "base=$RTCBASE,clock=host"
	-kernel "$KERNEL" -initrd "$INITRD" -append "$CMDLINE"
	"${NETARGS[@]}" "${SHAREARGS[@]+"${SHAREARGS[@]}"}" "$@")
[ -n "${VMTEST_VERBOSE:-}" ] && echo "boot.sh: ${QEMU[*]@Q}" >&2
timeout -k 5 "$TIMEOUT" "${QEMU[@]}" < /dev/null >> "$CONSOLE" 2>&1
qemu_rc=$?

grep -av '^VMTEST_RC=' "$RESULT" | tr -d '\r'
rc=$(tr -d '\r' < "$RESULT" | grep -a -o '^VMTEST_RC=[0-9]*' | tail -1 | cut -d= -f2)
if [ $qemu_rc -eq 124 ] || [ $qemu_rc -eq 137 ]; then
	echo "boot.sh: TIMEOUT after ${TIMEOUT}s (logs: $LOGDIR)" >&2
	exit 124
fi
if [ -z "$rc" ]; then
	echo "boot.sh: the VM ended without a VMTEST_RC line; qemu exit $qemu_rc (logs: $LOGDIR)" >&2
	tail -20 "$CONSOLE" >&2
	exit 125
fi
[ "$rc" = 0 ] && [ -n "$OWNLOG" ] && [ -z "${VMTEST_KEEP:-}" ] && rm -rf "$LOGDIR"
exit "$rc"
