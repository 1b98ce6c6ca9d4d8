#!/usr/bin/env bash
# Builds the Debian package from a release build:
#   scripts/build-deb.sh            -> target/debian/ntpbox_VERSION-1_ARCH.deb
#   scripts/build-deb.sh -o DIR     (any other cargo-deb option passes through)
# Install it with `sudo apt install ./target/debian/ntpbox_*.deb`.
# Needs cargo-deb (`cargo install cargo-deb --locked`) and, for the
# automatic libc dependency, dpkg-shlibdeps (Debian's dpkg-dev).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! cargo deb --version >/dev/null 2>&1; then
	echo "build-deb: cargo-deb is missing: cargo install cargo-deb --locked" >&2
	exit 1
fi
# The man pages and completions are checked in; tests/docs.rs keeps them
# in step with the applets' options.
exec cargo deb --locked "$@"
