#!/bin/bash
# Build the initramfs of the throwaway test VM.
#
#   scripts/vm/mkinitramfs.sh -o OUT.cpio -t TEST.sh [-f SRC[:DEST]]... [-l LINK:TARGET]...
#
#   -o OUT      the initramfs to write
#   -t TEST     the test script; it becomes /test.sh, run by /init as root
#   -f SRC:DEST copy SRC to DEST in the guest (default DEST: /bin/<basename>);
#               a dynamically linked ELF brings its shared libraries (ldd)
#   -l L:T      make the symlink L pointing to T in the guest
#
# The result is two concatenated newc archives (the kernel unpacks them in
# order; a later entry replaces an earlier one): a base archive cached in
# $VMTEST_DIR (static busybox and its applet links, dash as /bin/sh, /init,
# the few kernel modules needed) and a small archive for this test.
# Nothing is compressed: packing and unpacking a few MB raw is faster than gzip.
# The kernel, modules and busybox come from $VMTEST_DIR/env (setup.sh).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
VMDIR=${VMTEST_DIR:-target/vmtest}
case $VMDIR in /*) ;; *) VMDIR=$PWD/$VMDIR ;; esac
envval() { [ -f "$VMDIR/env" ] && sed -n "s/^$1=//p" "$VMDIR/env"; true; }
KVER=${VMTEST_KVER:-$(envval VMTEST_KVER)}
MODROOT=${VMTEST_MODROOT:-$(envval VMTEST_MODROOT)}
BUSYBOX=${VMTEST_BUSYBOX:-$(envval VMTEST_BUSYBOX)}
[ -n "$KVER" ] && [ -x "$BUSYBOX" ] ||
	{ echo "mkinitramfs.sh: no VM kit in $VMDIR; run scripts/vm/setup.sh first" >&2; exit 1; }
# The guest's /bin/sh, and so the shell of /test.sh: the host's dash. Busybox's
# own sh would not do: Debian builds it with FEATURE_SH_STANDALONE, so it runs
# its built-in hwclock, ntpd, date... even where PATH names another program.
SHELL_BIN=${VMTEST_SHELL-/bin/dash}
# virtio_pci + virtio_net: the NIC of the user-mode network; 9p: a host folder share
MODULES=${VMTEST_MODULES-virtio_pci virtio_net 9pnet_virtio 9p}
usage() { sed -n '2,/^$/s/^# \{0,1\}//p' "$0" >&2; exit 2; }

OUT= TEST= FILES=() LINKS=()
while getopts "o:t:f:l:" opt; do
	case $opt in
	o) OUT=$OPTARG ;;
	t) TEST=$OPTARG ;;
	f) FILES+=("$OPTARG") ;;
	l) LINKS+=("$OPTARG") ;;
	*) usage ;;
	esac
done
[ -n "$OUT" ] && [ -n "$TEST" ] || usage

# install_elf STAGING SRC DEST: copy SRC, and its shared libraries when it is
# dynamically linked, into the tree STAGING
install_elf() {
	install -D -m "$(stat -L -c %a "$2")" "$2" "$1/$3"
	if file -L "$2" | grep -q 'dynamically linked'; then
		for lib in $(ldd "$2" | grep -oE '/[^ ]+'); do
			[ -e "$1$lib" ] || install -D -m 755 "$(readlink -f "$lib")" "$1$lib"
		done
	fi
}
pack() { # dir -> newc archive on stdout, owned by root, in a stable order
	(cd "$1" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet)
}
STAGING=()
trap 'rm -rf "${STAGING[@]}"' EXIT
mkdir -p "$VMDIR"

# ---- the base archive, rebuilt only when the kernel, busybox or /init change ----
key=$(printf '%s|%s|%s|%s|' "$KVER" "$MODROOT" "$MODULES" "$SHELL_BIN"
	cat "$BUSYBOX" "$HERE/guest-init.sh" ${SHELL_BIN:+"$SHELL_BIN"} | sha1sum)
BASE=$VMDIR/base-$KVER-$(echo "$key" | sha1sum | cut -c1-10).cpio
if [ ! -f "$BASE" ]; then
	B=$(mktemp -d "$VMDIR/base.XXXXXX"); STAGING+=("$B")
	mkdir -p "$B"/{bin,sbin,usr/bin,usr/sbin,usr/local/bin,etc/vmtest,proc,sys,dev,tmp,run,root,lib/modules}
	cp "$BUSYBOX" "$B/bin/busybox"
	for applet in $("$BUSYBOX" --list-full); do
		[ "$applet" = bin/busybox ] || ln -sf /bin/busybox "$B/$applet"
	done
	if [ -n "$SHELL_BIN" ]; then
		install_elf "$B" "$SHELL_BIN" /bin/dash
		ln -sfn dash "$B/bin/sh"
	fi
	mknod -m 600 "$B/dev/console" c 5 1
	mknod -m 666 "$B/dev/null" c 1 3
	install -m 755 "$HERE/guest-init.sh" "$B/init"
	: > "$B/etc/vmtest/modules"
	for m in $MODULES; do
		deps=$(modprobe -d "$MODROOT" -S "$KVER" --show-depends "$m" 2>/dev/null) ||
			{ echo "mkinitramfs.sh: kernel $KVER has no module $m, skipped" >&2; continue; }
		echo "$deps" | awk '$1 == "insmod" {print $2}' | while read -r ko; do
			rel=${ko#"$MODROOT"/lib/modules/$KVER/}
			install -D -m 644 "$ko" "$B/lib/modules/$rel"
			# "module-group path" lines, in load order: /init loads a group only
			# when its device exists (every insmod costs time under TCG)
			echo "$m $rel" >> "$B/etc/vmtest/modules"
		done
	done
	echo "root:x:0:0:root:/root:/bin/sh" > "$B/etc/passwd"
	echo "root:x:0:" > "$B/etc/group"
	printf '127.0.0.1 localhost\n10.0.2.2 vmhost\n' > "$B/etc/hosts"
	pack "$B" > "$BASE.$$"
	mv "$BASE.$$" "$BASE"   # atomic: parallel builders never see half an archive
fi

# ---- this test's archive: /test.sh, the files under test and their libraries ----
T=$(mktemp -d "$VMDIR/overlay.XXXXXX"); STAGING+=("$T")
install -D -m 755 "$TEST" "$T/test.sh"
for spec in "${FILES[@]+"${FILES[@]}"}"; do
	src=${spec%%:*} dest=${spec#*:}
	[ "$dest" = "$spec" ] && dest=/bin/$(basename "$src")
	install_elf "$T" "$src" "$dest"
done
for spec in "${LINKS[@]+"${LINKS[@]}"}"; do
	link=${spec%%:*} target=${spec#*:}
	mkdir -p "$T/$(dirname "$link")"
	ln -sfn "$target" "$T/$link"
done
{ cat "$BASE"; pack "$T"; } > "$OUT.$$"
mv "$OUT.$$" "$OUT"
