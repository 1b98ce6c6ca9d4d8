#!/bin/bash
# One-time setup of the VM test kit (run as root from the project root).
#
#   scripts/vm/setup.sh
#
# Everything lands in $VMTEST_DIR (default: target/vmtest of the current
# directory); the only change outside it is the apt install of missing tools.
#  1. apt-installs qemu-system-x86, cpio, kmod and file when missing (no
#     recommends; `apt-get update` first when the package lists are empty).
#  2. `apt-get download`s the Debian kernel behind linux-image-amd64,
#     busybox-static and util-linux-extra (util-linux's hwclock, which the
#     hwclock tests compare against) and only *extracts* them under $VMTEST_DIR/root: no kernel
#     is installed on the host, /boot and update-initramfs are left alone.
#  3. runs depmod there (the .deb has no modules.dep), extracts the
#     uncompressed vmlinux (booted through PVH: no in-guest decompression,
#     which costs seconds under TCG) and writes $VMTEST_DIR/env, which
#     mkinitramfs.sh, boot.sh and tests/common/vm.rs read.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
VMDIR=${VMTEST_DIR:-target/vmtest}
case $VMDIR in /*) ;; *) VMDIR=$PWD/$VMDIR ;; esac
# amd64 has 9p (host folder shares); cloud-amd64 boots the same but has no 9p
FLAVOUR=${VMTEST_FLAVOUR:-amd64}

lists_empty() { [ -z "$(ls /var/lib/apt/lists/ 2>/dev/null | grep '_Packages')" ]; }
missing=()
command -v qemu-system-x86_64 > /dev/null || missing+=(qemu-system-x86)
command -v cpio > /dev/null || missing+=(cpio)
command -v depmod > /dev/null || missing+=(kmod)
command -v file > /dev/null || missing+=(file)
command -v unshare > /dev/null || missing+=(util-linux)
command -v ip > /dev/null || missing+=(iproute2)
if [ ${#missing[@]} -gt 0 ]; then
	lists_empty && apt-get update -q
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
lists_empty && apt-get update -q

mkdir -p "$VMDIR/debs" "$VMDIR/root"
# linux-image-amd64 is a meta package; the real one is linux-image-<version>-amd64
kpkg=$(apt-cache depends "linux-image-$FLAVOUR" | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
[ -n "$kpkg" ] || { echo "setup.sh: no kernel package behind linux-image-$FLAVOUR" >&2; exit 1; }
KVER=${kpkg#linux-image-}

cd "$VMDIR/debs"
ls "$kpkg"_*.deb > /dev/null 2>&1 || apt-get download "$kpkg"
ls busybox-static_*.deb > /dev/null 2>&1 || apt-get download busybox-static
# util-linux's hwclock, the reference the hwclock VM tests compare against
ls util-linux-extra_*.deb > /dev/null 2>&1 || apt-get download util-linux-extra
[ -x "$VMDIR/util-linux/sbin/hwclock" ] ||
	dpkg-deb -x "$(ls util-linux-extra_*.deb | tail -1)" "$VMDIR/util-linux"
if [ ! -f "$VMDIR/root/boot/vmlinuz-$KVER" ]; then
	dpkg-deb -x "$(ls "$kpkg"_*.deb | tail -1)" "$VMDIR/root"
	depmod -b "$VMDIR/root" "$KVER"
fi
[ -x "$VMDIR/root/bin/busybox" ] || dpkg-deb -x "$(ls busybox-static_*.deb | tail -1)" "$VMDIR/root"
if [ ! -s "$VMDIR/vmlinux-$KVER" ]; then
	python3 "$HERE/extract-vmlinux.py" "$VMDIR/root/boot/vmlinuz-$KVER" "$VMDIR/vmlinux-$KVER.tmp"
	mv "$VMDIR/vmlinux-$KVER.tmp" "$VMDIR/vmlinux-$KVER"
fi
cat > "$VMDIR/env.tmp" <<ENV
VMTEST_KVER=$KVER
VMTEST_MODROOT=$VMDIR/root
VMTEST_BUSYBOX=$VMDIR/root/bin/busybox
VMTEST_KERNEL=$VMDIR/vmlinux-$KVER
VMTEST_UTIL_LINUX_HWCLOCK=$VMDIR/util-linux/sbin/hwclock
ENV
mv "$VMDIR/env.tmp" "$VMDIR/env"
cat "$VMDIR/env"
