#!/bin/busybox sh
# /init of the throwaway test VM (PID 1, from the initramfs).
#
# Mounts /proc, /sys, /dev and two tmpfs, loads the kernel modules listed in
# /etc/vmtest/modules whose device is present, brings up lo (and eth0 when
# the host gave a NIC), runs /test.sh with /bin/sh (dash; busybox sh would
# run its own applets ahead of PATH) and its output on the second serial
# port (/dev/ttyS1, a file on the host), prints VMTEST_RC=<status> as the
# last line there, and resets the VM (qemu runs with -no-reboot, so it exits).
# Kernel command-line words KEY=VALUE arrive here, and so in /test.sh, as
# environment variables.
export PATH=/usr/local/bin:/bin:/sbin:/usr/bin:/usr/sbin
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sys /sys
/bin/busybox mount -t devtmpfs dev /dev 2>/dev/null
/bin/busybox mount -t tmpfs tmp /tmp
/bin/busybox mount -t tmpfs run /run

load() { # module-group...
	while read -r group path; do
		for wanted in "$@"; do
			[ "$group" = "$wanted" ] && insmod "/lib/modules/$path" 2>/dev/null
		done
	done < /etc/vmtest/modules
}
# transports first (virtio PCI devices have vendor 0x1af4), then drivers by
# virtio device id: 0x0001 network card, 0x0009 9p share
grep -qs 0x1af4 /sys/bus/pci/devices/*/vendor && load virtio_pci
virtio_ids=" $(cat /sys/bus/virtio/devices/*/device 2>/dev/null | tr '\n' ' ')"
case $virtio_ids in *" 0x0001"*) load virtio_net ;; esac
case $virtio_ids in *" 0x0009"*) load 9pnet_virtio 9p ;; esac

ip link set lo up
# qemu user-mode network: the guest is 10.0.2.15 and 10.0.2.2 is the host's
# 127.0.0.1. Only a /32 and one host route to 10.0.2.2 are set up: no default
# route, no route to slirp's DNS (10.0.2.3), so anything else is ENETUNREACH.
if [ -e /sys/class/net/eth0 ]; then
	ip addr add 10.0.2.15/32 dev eth0
	ip link set eth0 up
	ip route add 10.0.2.2/32 dev eth0
fi
if grep -qs '^vmshare' /sys/bus/virtio/drivers/9pnet_virtio/*/mount_tag; then
	mkdir -p /mnt/share
	mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 vmshare /mnt/share
fi

out=/dev/ttyS1
[ -c $out ] || out=/dev/console
(cd / && exec /bin/sh /test.sh) > $out 2>&1 < /dev/null
rc=$?
# each redirection closes the tty, and the last close drains its buffer
echo "VMTEST_RC=$rc" > $out
sync
reboot -f
# should reboot ever return, PID 1 exiting panics, and panic=-1 ends qemu too
exit $rc
