#!/bin/bash
# Benchmark: `ntpbox ntpdate -q -u -p 4` against ntpsec's `ntpdig -p 4`, side
# by side in one run, both asking the same chronyd on 127.0.0.1:123 (ntpdig
# only talks to port 123). Prints the median wall time of each and the ratio.
#
#   benches/ntpdate.sh [RUNS]        (default 30 runs of each)
#
# Needs: root (for a private network namespace), a release build
# (cargo build --release, or NTPBOX=/path/to/ntpbox), and the peers from
# scripts/fetch-peers.sh (chronyd and ntpdig; PEERS_DIR to override).
#
# Safety: everything runs in a fresh network namespace holding only `lo`, and
# under setpriv without CAP_SYS_TIME; chronyd also runs with -x (never touches
# the clock) and the clients only query (-q for ntpdate, no -s/-S for ntpdig).
# chronyd is stopped by its PID when the benchmark ends.
set -eu

ROOT=$(CDPATH= cd -- "$(dirname -- "$0")/.." && pwd)
PEERS=${PEERS_DIR:-$ROOT/target/peers}
case $PEERS in /*) ;; *) PEERS=$ROOT/$PEERS ;; esac
NTPBOX=${NTPBOX:-$ROOT/target/release/ntpbox}
RUNS=${1:-30}
# Samples per client run: the classic ntpdate default.
SAMPLES=4
# How long chronyd may take to answer after starting, in tenths of a second.
READY_TRIES=50

die() { echo "benches/ntpdate.sh: $*" >&2; exit 1; }

if [ "${1:-}" != "--inside" ]; then
    [ "$(id -u)" = 0 ] || die "needs root (it makes a private network namespace)"
    [ -x "$NTPBOX" ] || die "no $NTPBOX: run 'cargo build --release' or set NTPBOX"
    [ -x "$PEERS/bin/chronyd" ] && [ -x "$PEERS/bin/ntpdig" ] \
        || die "no peers in $PEERS: run scripts/fetch-peers.sh (or set PEERS_DIR)"
    case $RUNS in ''|*[!0-9]*|0) die "RUNS must be a positive number, not '$RUNS'" ;; esac
    exec setpriv --bounding-set=-sys_time --inh-caps=-sys_time \
        unshare --net -- "$0" --inside "$RUNS" "$NTPBOX" "$PEERS"
fi

# --- inside the namespace, without CAP_SYS_TIME -------------------------
RUNS=$2 NTPBOX=$3 PEERS=$4
ip link set lo up
WORK=$(mktemp -d /tmp/ntpbox-bench.XXXXXX)
CHRONYD_PID=
cleanup() {
    [ -n "$CHRONYD_PID" ] && kill "$CHRONYD_PID" 2>/dev/null && wait "$CHRONYD_PID" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT

chmod 700 "$WORK"
cat > "$WORK/chrony.conf" <<EOF
# ntpbox benchmark server: serves its local clock, never adjusts it (-x)
port 123
bindaddress 127.0.0.1
cmdport 0
local stratum 10
allow 127.0.0.0/8
pidfile $WORK/chronyd.pid
driftfile $WORK/drift
EOF
"$PEERS/bin/chronyd" -x -d -4 -u root -f "$WORK/chrony.conf" > "$WORK/chronyd.log" 2>&1 &
CHRONYD_PID=$!

ln -s "$NTPBOX" "$WORK/ntpdate"
OURS=("$WORK/ntpdate" -q -u -p "$SAMPLES" 127.0.0.1)
THEIRS=("$PEERS/bin/ntpdig" -p "$SAMPLES" 127.0.0.1)

tries=0
until "$WORK/ntpdate" -q -u -p 1 -t 0.1 127.0.0.1 > /dev/null 2>&1; do
    tries=$((tries + 1))
    [ $tries -lt $READY_TRIES ] || { cat "$WORK/chronyd.log" >&2; die "chronyd did not answer"; }
    sleep 0.1
done

# Wall time of one run in microseconds (bash's EPOCHREALTIME: no fork).
time_us() {
    local t0 t1
    t0=${EPOCHREALTIME/./}
    "$@" > "$WORK/out" 2>&1 || { cat "$WORK/out" >&2; die "failed: $*"; }
    t1=${EPOCHREALTIME/./}
    echo $((t1 - t0))
}

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ms() { awk -v us="$1" 'BEGIN { printf "%.2f", us / 1000 }'; }

: > "$WORK/ours" ; : > "$WORK/theirs" ; : > "$WORK/start"
# One warm-up of each (page cache, Python's imports), then alternate. The
# third command is the floor: starting ntpbox and doing nothing else.
time_us "${OURS[@]}" > /dev/null
time_us "${THEIRS[@]}" > /dev/null
for _ in $(seq "$RUNS"); do
    time_us "${OURS[@]}" >> "$WORK/ours"
    time_us "${THEIRS[@]}" >> "$WORK/theirs"
    time_us "$WORK/ntpdate" --version >> "$WORK/start"
done

OUR_MEDIAN=$(median < "$WORK/ours")
THEIR_MEDIAN=$(median < "$WORK/theirs")
echo "ntpdate benchmark: $RUNS runs each, $SAMPLES samples, chronyd on 127.0.0.1:123 (private namespace)"
printf '  %-34s median %9s ms  (min %s, max %s)\n' "ntpbox ntpdate -q -u -p $SAMPLES" \
    "$(ms "$OUR_MEDIAN")" "$(ms "$(sort -n "$WORK/ours" | head -1)")" "$(ms "$(sort -n "$WORK/ours" | tail -1)")"
printf '  %-34s median %9s ms  (min %s, max %s)\n' "ntpdig -p $SAMPLES" \
    "$(ms "$THEIR_MEDIAN")" "$(ms "$(sort -n "$WORK/theirs" | head -1)")" "$(ms "$(sort -n "$WORK/theirs" | tail -1)")"
printf '  %-34s median %9s ms\n' "(ntpbox ntpdate --version: start-up)" "$(ms "$(median < "$WORK/start")")"
awk -v a="$OUR_MEDIAN" -v b="$THEIR_MEDIAN" 'BEGIN { printf "  ratio ntpbox/ntpdig %.3f  (ntpbox %.1fx faster)\n", a / b, b / a }'
