#!/usr/bin/env bash
# The whole test suite, as CI runs it, on a fresh Debian 12 machine (as root):
#   1. installs what the tests need: the VM kit (qemu, a Debian kernel and
#      busybox, extracted, never installed) and the real peer programs
#      (chrony, ntpsec, openntpd, ntpstat: downloaded and unpacked, no
#      services started);
#   2. drops CAP_SYS_TIME from the bounding set and re-runs itself, so that
#      nothing in the suite can change the host clock, even by mistake;
#   3. proves that guard holds (a harmless clock_adjtime write must fail
#      with EPERM) and stops if it does not;
#   4. checks formatting and clippy, then runs every test with missing
#      resources counted as failures (NTPBOX_REQUIRE_ALL=1).
set -euo pipefail
cd "$(dirname "$0")/.."

GUARD=(setpriv --bounding-set=-sys_time --inh-caps=-sys_time)
# The cargo-deb that builds the package in tests/package.rs, pinned so that
# every machine builds the same package.
CARGO_DEB_VERSION=3.8.0

if [ "${NTPBOX_GUARDED:-}" != 1 ]; then
	echo "== installing test requirements"
	if [ "$(id -u)" = 0 ]; then
		need=()
		command -v setpriv >/dev/null || need+=(util-linux)
		command -v ip >/dev/null || need+=(iproute2)
		command -v python3 >/dev/null || need+=(python3)
		# zdump and tz compare against the system's zone files and zdump.
		[ -e /usr/share/zoneinfo/UTC ] || need+=(tzdata)
		command -v zdump >/dev/null || need+=(libc-bin)
		# tests/package.rs: the .deb (cargo-deb needs strip and
		# dpkg-shlibdeps), its maintainer scripts in a dpkg root (useradd,
		# deb-systemd-helper, update-rc.d), the unit (systemd-analyze) and
		# the shell scripts (shellcheck).
		command -v strip >/dev/null || need+=(binutils)
		command -v dpkg-shlibdeps >/dev/null || need+=(dpkg-dev)
		command -v useradd >/dev/null || need+=(passwd)
		command -v deb-systemd-helper >/dev/null || need+=(init-system-helpers)
		command -v systemd-analyze >/dev/null || need+=(systemd)
		command -v shellcheck >/dev/null || need+=(shellcheck)
		if [ ${#need[@]} -gt 0 ]; then
			apt-get update -q
			DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}"
		fi
		# About a minute on 2 cores, once per machine.
		cargo deb --version >/dev/null 2>&1 || cargo install --locked cargo-deb --version "$CARGO_DEB_VERSION"
		[ -x scripts/vm/setup.sh ] && scripts/vm/setup.sh
		[ -x scripts/fetch-peers.sh ] && scripts/fetch-peers.sh
	else
		echo "not root: skipping the installs; tests needing the VM kit or the peers will fail" >&2
	fi
	echo "== dropping CAP_SYS_TIME for the rest of the run"
	exec env NTPBOX_GUARDED=1 "${GUARD[@]}" "$0" "$@"
fi

echo "== clock guard"
cargo build --quiet --example clock_guard
target/debug/examples/clock_guard

echo "== cargo fmt --check"
cargo fmt --check

echo "== cargo clippy --all-targets -- -D warnings"
cargo clippy --quiet --all-targets -- -D warnings

echo "== tests"
export NTPBOX_REQUIRE_ALL=1
if cargo nextest --version >/dev/null 2>&1; then
	cargo nextest run --no-fail-fast "$@"
else
	cargo test --no-fail-fast "$@"
fi
