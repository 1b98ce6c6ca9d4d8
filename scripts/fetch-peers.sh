#!/bin/bash
# fetch-peers.sh - fetch the real NTP programs the interop tests run against.
#
# Downloads Debian's packages with `apt-get download` and unpacks each with
# `dpkg -x` into its own folder of PEERS_DIR. Nothing is installed and no
# service is started; the only system change is `apt-get update` when apt's
# package lists are empty (a fresh machine). Then it:
#   - unpacks any shared library the peers need that this machine lacks into
#     PEERS_DIR/deplibs (found through the packages' Depends, checked with ldd);
#   - writes one launcher per program into PEERS_DIR/bin (ntpq, ntpdig, chronyd...)
#     that sets PYTHONPATH / LD_LIBRARY_PATH, so tests never need to know them;
#   - builds scripts/peers/noclock_shim.c into PEERS_DIR/noclock_shim.so
#     (lets OpenNTPD believe its clock writes worked; see the source);
#   - runs each program's --version / --help once as a smoke check.
# Idempotent: a second run finds the stamp file and returns at once.
#
#   PEERS_DIR   where to put everything (default: target/peers; relative = to the project)
#   PYTHON      the interpreter for ntpsec's Python tools (default: /usr/bin/python3,
#               Debian's 3.11, which python3-ntp is built for; not a pyenv shim)
#   FORCE=1     ignore the stamp and check everything again
#
# Usage: scripts/fetch-peers.sh        (as root only for `apt-get update`)
set -euo pipefail

ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
PEERS_DIR=${PEERS_DIR:-$ROOT/target/peers}
case $PEERS_DIR in /*) ;; *) PEERS_DIR=$ROOT/$PEERS_DIR ;; esac   # like the tests: relative to the project
PYTHON=${PYTHON:-/usr/bin/python3}
FORCE=${FORCE:-0}

# The peer packages (Debian 12). ntpsec-ntpdate's ntpdate is a shell script
# around ntpdig; python3-ntp holds the library of ntpq/ntpdig.
PACKAGES="chrony ntpsec ntpsec-ntpdate ntpsec-ntpdig python3-ntp ntpstat openntpd"
# Bumped when the layout of PEERS_DIR changes, so old caches are redone.
LAYOUT_VERSION=1
STAMP_FILE=$PEERS_DIR/.fetched
STAMP="layout $LAYOUT_VERSION: $PACKAGES"

say() { echo "fetch-peers: $*"; }
die() { echo "fetch-peers: error: $*" >&2; exit 1; }

mkdir -p "$PEERS_DIR"
# One run at a time (two test runs may call this together).
exec 9>"$PEERS_DIR/.lock"
flock 9

if [ "$FORCE" != 1 ] && [ -f "$STAMP_FILE" ] && [ "$(head -1 "$STAMP_FILE")" = "$STAMP" ] \
   && [ -x "$PEERS_DIR/bin/chronyd" ] && [ -f "$PEERS_DIR/noclock_shim.so" ]; then
  say "peers already in $PEERS_DIR ($(tail -n +2 "$STAMP_FILE" | tr '\n' ' '))"
  exit 0
fi

for tool in apt-get dpkg dpkg-deb dpkg-query ldd gcc setpriv ip; do
  command -v "$tool" >/dev/null || die "'$tool' is missing (this script expects a Debian 12 machine)"
done
"$PYTHON" -c 'import sys; assert sys.version_info[:2] >= (3, 9)' 2>/dev/null \
  || die "$PYTHON (Python 3, for ntpsec's ntpq/ntpdig) is missing: apt-get install python3"

DEBS=$PEERS_DIR/debs
mkdir -p "$DEBS"

apt_lists_empty() { ! compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null; }
updated=0
apt_update() {
  [ "$updated" = 1 ] && return 1
  say "apt-get update (package lists are missing or stale)"
  apt-get update -q >/dev/null || die "apt-get update failed (needs root and the Debian mirror)"
  updated=1
}
apt_lists_empty && apt_update

# the .deb of a package in $DEBS, if downloaded
deb_of() { compgen -G "$DEBS/${1}_*.deb" | head -1; }

# download_missing PKG... : apt-get download the packages that have no .deb yet
download_missing() {
  local missing=() p
  for p in "$@"; do [ -n "$(deb_of "$p")" ] || missing+=("$p"); done
  [ ${#missing[@]} = 0 ] && return 0
  say "downloading ${missing[*]}"
  # A stale package list names versions the mirror no longer has: update once, retry.
  (cd "$DEBS" && apt-get download -q "${missing[@]}" >/dev/null 2>"$DEBS/apt.err") \
    || { apt_update && (cd "$DEBS" && apt-get download -q "${missing[@]}" >/dev/null 2>"$DEBS/apt.err"); } \
    || die "apt-get download ${missing[*]} failed: $(cat "$DEBS/apt.err")"
}

# extract PKG DEST : dpkg -x the package's .deb into DEST (atomically)
extract() {
  local p=$1 dest=$2 deb
  [ -d "$dest" ] && return 0
  deb=$(deb_of "$p")
  rm -rf "$dest.tmp"
  dpkg -x "$deb" "$dest.tmp"
  mv "$dest.tmp" "$dest"
  say "$p <- $(basename "$deb")"
}

download_missing $PACKAGES
for p in $PACKAGES; do extract "$p" "$PEERS_DIR/$p"; done

# ---- shared libraries this machine lacks ------------------------------------
# lib* packages named in Depends that dpkg does not list as installed are
# unpacked (not installed) into deplibs/, transitively.
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
lib_depends() {  # lib* packages (first alternative, no version) a .deb depends on
  dpkg-deb -f "$1" Depends Pre-Depends | tr ',' '\n' | sed 's/|.*//; s/(.*)//; s/:any//; s/ //g' \
    | grep '^lib' || true
}
DEPLIBS=$PEERS_DIR/deplibs
wanted=""; todo=$PACKAGES; seen=" "
while [ -n "$todo" ]; do
  next=""
  for p in $todo; do
    for l in $(lib_depends "$(deb_of "$p")"); do
      case $seen in *" $l "*) continue ;; esac
      seen="$seen$l "
      installed "$l" && continue
      wanted="$wanted $l"; next="$next $l"
    done
  done
  [ -n "$next" ] && download_missing $next
  todo=$next
done
if [ -n "$wanted" ]; then
  mkdir -p "$DEPLIBS"
  for l in $wanted; do extract "$l" "$DEPLIBS/$l"; done
fi
# The library folders of deplibs/, for LD_LIBRARY_PATH (empty when nothing was missing).
lib_path=""; lib_path_in_launcher=""
for d in "$DEPLIBS"/*/lib/*-linux-gnu "$DEPLIBS"/*/usr/lib/*-linux-gnu; do
  [ -d "$d" ] || continue
  lib_path="$lib_path${lib_path:+:}$d"
  lib_path_in_launcher="$lib_path_in_launcher${lib_path_in_launcher:+:}\$P/${d#"$PEERS_DIR"/}"
done

# ---- launchers ----------------------------------------------------------------
# Each bin/NAME finds PEERS_DIR from its own location (the tree can move) and
# execs the program, so the PID a test starts is the program's own.
BIN=$PEERS_DIR/bin
rm -rf "$BIN.tmp"; mkdir -p "$BIN.tmp"
NTP_PY=python3-ntp/usr/lib/python3/dist-packages
NTP_LIB=$(cd "$PEERS_DIR" && compgen -G 'python3-ntp/usr/lib/*-linux-gnu/ntp' | head -1) \
  || die "python3-ntp has no libntpc folder"
lib_line="# (every library the peers need is installed on this machine)"
[ -z "$lib_path" ] \
  || lib_line="LD_LIBRARY_PATH=\"$lib_path_in_launcher\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}\"; export LD_LIBRARY_PATH"
launcher() {  # launcher NAME BODY : bin/NAME runs BODY with P=PEERS_DIR
  cat > "$BIN.tmp/$1" <<EOF
#!/bin/sh
# Generated by scripts/fetch-peers.sh: runs the unpacked peer program $1.
P=\$(CDPATH= cd -- "\$(dirname -- "\$0")/.." && pwd)
$lib_line
$2
EOF
  chmod 755 "$BIN.tmp/$1"
}
native() { launcher "$1" "exec \"\$P/$2\" \"\$@\""; }
python_tool() {  # ntpsec's Python tools: the ntp package and libntpc.so (ctypes) must be found
  launcher "$1" "PYTHONPATH=\"\$P/$NTP_PY\${PYTHONPATH:+:\$PYTHONPATH}\" LD_LIBRARY_PATH=\"\$P/$NTP_LIB\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}\" exec $PYTHON \"\$P/$2\" \"\$@\""
}
native chronyd chrony/usr/sbin/chronyd
native chronyc chrony/usr/bin/chronyc
native ntpsec-ntpd ntpsec/usr/sbin/ntpd
native ntptime ntpsec/usr/sbin/ntptime
native openntpd openntpd/usr/sbin/ntpd
native ntpctl openntpd/usr/sbin/ntpctl
native ntpstat ntpstat/usr/bin/ntpstat
python_tool ntpq ntpsec/usr/bin/ntpq
python_tool ntpdig ntpsec-ntpdig/usr/bin/ntpdig
python_tool ntpwait ntpsec/usr/sbin/ntpwait
# ntpdate is a /bin/sh script that runs `ntpdig` from PATH: give it ours.
launcher ntpdate "PATH=\"\$P/bin:\$PATH\" exec \"\$P/ntpsec-ntpdate/usr/sbin/ntpdate\" \"\$@\""
rm -rf "$BIN"; mv "$BIN.tmp" "$BIN"

# ---- checks -------------------------------------------------------------------
# Every ELF file must find all its libraries.
unresolved=""
while IFS= read -r -d '' f; do
  [ "$(head -c 4 "$f" | od -An -c | tr -d ' ')" = '177ELF' ] || continue
  missing=$(LD_LIBRARY_PATH="$lib_path${lib_path:+:}$PEERS_DIR/$NTP_LIB" ldd "$f" 2>/dev/null | grep 'not found' || true)
  [ -z "$missing" ] || unresolved="$unresolved$f:$missing"$'\n'
done < <(cd "$PEERS_DIR" && find $PACKAGES ${wanted:+deplibs} -type f \( -perm -u+x -o -name '*.so*' \) -printf "$PEERS_DIR/%p\\0")
[ -z "$unresolved" ] || die "libraries not found:"$'\n'"$unresolved"

say "building noclock_shim.so"
gcc -O2 -Wall -Wextra -Werror -fPIC -shared -o "$PEERS_DIR/noclock_shim.so.tmp" "$ROOT/scripts/peers/noclock_shim.c"
mv "$PEERS_DIR/noclock_shim.so.tmp" "$PEERS_DIR/noclock_shim.so"

# Each program starts (version/help only: nothing touches the clock or the network).
smoke() {  # smoke NAME ARGS... : run bin/NAME, print its first output line
  local out
  out=$(setpriv --bounding-set=-sys_time --inh-caps=-sys_time "$BIN/$1" "${@:2}" 2>&1 </dev/null) \
    || [ "$1" = ntpstat ] || [ "$1" = openntpd ] || die "$1 ${*:2} failed: $out"
  say "  $1: $(echo "$out" | head -1)"
}
smoke chronyd --version
smoke chronyc --version
smoke ntpsec-ntpd --version
smoke ntpq --version
smoke ntpdig --version
smoke ntpstat --help
smoke openntpd -n -f /dev/null    # -n only parses the (empty) config

versions=$(for p in $PACKAGES; do echo "$p=$(dpkg-deb -f "$(deb_of "$p")" Version)"; done)
{ echo "$STAMP"; echo "$versions"; } > "$STAMP_FILE"
say "peers ready in $PEERS_DIR (launchers in $BIN)"
