#!/usr/bin/env bash
# ntpbox's main job, shown without touching this machine's clock:
#   1. builds ntpbox and installs its applet symlinks in target/demo/bin;
#   2. on this machine's loopback, without CAP_SYS_TIME: `ntpd` serves time
#      from its local clock driver (stratum 10, `disable ntp`), and
#      `ntpdate -q` asks it, as a cron job's `ntpdate myserver` would, and
#      `ntpq -p` and `ntpstat` show its state as monitoring scripts read it;
#   3. in a throwaway qemu VM whose clock starts six years wrong (2020):
#      `ntpdate -b` steps the guest clock from an ntpbox ntpd on the host
#      side, then `hwclock --systohc` writes it to the guest's RTC, as a boot
#      script does. The VM kit is set up first if needed (scripts/vm/setup.sh,
#      as root; it downloads a Debian kernel into target/vmtest);
#   4. `zdump` shows local time in a few zones.
# Every daemon it starts is stopped by PID when it ends.
set -euo pipefail
cd "$(dirname "$0")/.."
GUARD=(setpriv --bounding-set=-sys_time --inh-caps=-sys_time)
DEMO=$PWD/target/demo
PORT=${DEMO_PORT:-11123}

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
show() { printf '$ %s\n' "$*"; "$@"; }

say "building ntpbox (release) and installing the applet symlinks"
cargo build --release --quiet
rm -rf "$DEMO" && mkdir -p "$DEMO/bin"
target/release/ntpbox --install "$DEMO/bin"
ls -l "$DEMO/bin" | sed 1d | awk '{print "  " $9, $10, $11}'
export PATH=$DEMO/bin:$PATH

cat > "$DEMO/ntp.conf" <<CONF
# Serve time from the local clock when no upstream is reachable (the seeds'
# "use local time"), never adjust this machine's clock, listen on loopback.
server 127.127.1.0
fudge 127.127.1.0 stratum 10
disable ntp
interface ignore all
interface listen 127.0.0.1
CONF

say "ntpd on 127.0.0.1:$PORT, without CAP_SYS_TIME"
show ntpd --check -c "$DEMO/ntp.conf" && echo "  (configuration OK)"
"${GUARD[@]}" ntpd -n -c "$DEMO/ntp.conf" --port "$PORT" 2> "$DEMO/ntpd.log" &
NTPD=$!
trap 'kill "$NTPD" 2>/dev/null || true' EXIT
sleep 1
sed 's/^/  /' "$DEMO/ntpd.log"

say "ntpdate asks it (query only: -q; unprivileged source port: -u)"
show "${GUARD[@]}" ntpdate -q -u "127.0.0.1:$PORT"

say "ntpq -p and ntpstat read its state (mode 6)"
show ntpq -p "127.0.0.1:$PORT"
show ntpstat "127.0.0.1:$PORT" || true
kill "$NTPD" && wait "$NTPD" || true
trap - EXIT

say "a VM whose clock starts in 2020: ntpdate -b steps it, hwclock -w saves it"
if [ ! -f target/vmtest/env ]; then
	if [ "$(id -u)" = 0 ]; then
		scripts/vm/setup.sh > "$DEMO/vm-setup.log" 2>&1 ||
			{ echo "VM kit setup failed: see $DEMO/vm-setup.log"; exit 1; }
	else
		echo "skipped: the VM kit needs a one-time 'scripts/vm/setup.sh' as root"
		SKIP_VM=1
	fi
fi
if [ -z "${SKIP_VM:-}" ]; then
	cat > "$DEMO/guest.sh" <<'GUEST'
#!/bin/sh
PATH=/usr/local/bin:$PATH
echo "guest clock at boot:    $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo "guest RTC at boot:      $(hwclock -r)"
echo "\$ ntpdate -b 10.0.2.2"
ntpdate -b 10.0.2.2 || exit 1
echo "guest clock after:      $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo "\$ hwclock --systohc"
hwclock --systohc || exit 1
echo "guest RTC after:        $(hwclock -r)"
GUEST
	links=()
	for a in $(target/release/ntpbox --list); do links+=(-l "/usr/local/bin/$a:ntpbox"); done
	scripts/vm/mkinitramfs.sh -o "$DEMO/guest.cpio" -t "$DEMO/guest.sh" \
		-f "target/release/ntpbox:/usr/local/bin/ntpbox" "${links[@]}" > /dev/null
	cat > "$DEMO/host-side.sh" <<HOST
# Inside a private network namespace: the guest's 10.0.2.2 is its 127.0.0.1.
${GUARD[*]} $PWD/target/release/ntpbox ntpd -n -c $DEMO/ntp.conf --port 123 2> $DEMO/ntpd-vm.log &
server=\$!
sleep 0.5
scripts/vm/boot.sh -i $DEMO/guest.cpio -r 2020-01-01T00:00:00 -n -T 60
rc=\$?
kill \$server
exit \$rc
HOST
	echo "host clock:             $(date -u '+%Y-%m-%d %H:%M:%S UTC') (never changed)"
	scripts/vm/netns-run.sh bash "$DEMO/host-side.sh" | sed 's/^/  /'
fi

say "zdump: local time in a few zones"
show zdump Asia/Hong_Kong Europe/Berlin America/New_York UTC
