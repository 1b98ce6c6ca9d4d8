#!/usr/bin/env bash
# ntpq -p: ntpbox's against ntpsec's (Python) asking the same ntpsec ntpd,
# which runs in a network namespace of its own on 127.0.0.1:123 with its
# local clock and no CAP_SYS_TIME (`disable ntp`, like the tests' peer).
# Each program runs N times (default 20) from inside the namespace; prints
# the median and best wall times and the ratio (target: <= 0.05).
#   benches/ntpq.sh [N]
# Needs root (namespaces) and the peers of scripts/fetch-peers.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-20}
PEERS=${PEERS_DIR:-target/peers}
PEERS=$(realpath "$PEERS")
[ -x "$PEERS/bin/ntpsec-ntpd" ] && [ -x "$PEERS/bin/ntpq" ] ||
    { echo "no ntpsec in $PEERS: run scripts/fetch-peers.sh" >&2; exit 1; }
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}
cargo build --release --quiet
OURS=$(realpath "$CARGO_TARGET_DIR/release/ntpbox")
NOCLOCK=(setpriv --bounding-set=-sys_time --inh-caps=-sys_time)

NS=ntpbox-bench-ntpq-$$
work=$(mktemp -d)
pid=
cleanup() {
    if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
    ip netns del "$NS" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
ip netns add "$NS"
ip -n "$NS" link set lo up
cat >"$work/ntp.conf" <<EOF
disable ntp
disable kernel
interface ignore wildcard
interface ignore all
interface listen 127.0.0.1
driftfile $work/ntp.drift
restrict default nomodify
restrict 127.0.0.1
server 127.127.1.0 minpoll 3 maxpoll 4 noselect
fudge 127.127.1.0 stratum 10
tos orphan 10 orphanwait 0
EOF
ip netns exec "$NS" "${NOCLOCK[@]}" "$PEERS/bin/ntpsec-ntpd" -n -c "$work/ntp.conf" \
    -l "$work/ntpd.log" -p "$work/ntpd.pid" >"$work/out" 2>&1 &
pid=$!
for _ in $(seq 50); do
    if ip netns exec "$NS" "$OURS" ntpq -c "timeout 200" -c "rv 0 stratum" 2>/dev/null |
        grep -q stratum; then
        break
    fi
    sleep 0.2
done

ip netns exec "$NS" "${NOCLOCK[@]}" python3 - "$N" "$OURS" "$PEERS/bin/ntpq" <<'PY'
import os, statistics, subprocess, sys, time
n, ours, theirs = int(sys.argv[1]), sys.argv[2], sys.argv[3]
env = dict(os.environ, LC_ALL="C")
def timed(cmd):
    t = time.perf_counter()
    out = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, check=True).stdout
    return time.perf_counter() - t, out
def series(cmd):
    runs = [timed(cmd) for _ in range(n)]
    times = [t for t, _ in runs]
    return statistics.median(times), min(times), runs[-1][1]
ours_med, ours_best, ours_out = series([ours, "ntpq", "-p"])
theirs_med, theirs_best, theirs_out = series([theirs, "-p"])
rows = lambda out: len(out.decode().splitlines()) - 2
print(f"ntpq -p against ntpsec ntpd in a namespace, {n} runs each ({rows(ours_out)} peer rows)")
print(f"ntpsec ntpq (Python): median {theirs_med * 1000:8.2f} ms  best {theirs_best * 1000:8.2f} ms")
print(f"ntpbox ntpq:          median {ours_med * 1000:8.2f} ms  best {ours_best * 1000:8.2f} ms")
print(f"ratio (median):       {ours_med / theirs_med:.4f}x  (target <= 0.05x)")
sys.exit(0 if rows(ours_out) == rows(theirs_out) else 1)
PY
