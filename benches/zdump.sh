#!/usr/bin/env bash
# zdump against the system zdump, side by side in one run: `zdump -v -c
# 1900,2040` over every zone file under the zone directory (main and right/
# trees), one invocation each with all zones, best of N runs of ours and
# one of the system's (it takes seconds). Prints wall times, the ratio
# (target: <= 0.1), and whether the outputs are identical.
#   benches/zdump.sh [N]        (default 3)
#   ZONEINFO=/path benches/zdump.sh   to use another zone directory
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-3}
ZONEINFO=${ZONEINFO:-/usr/share/zoneinfo}
SYSTEM=/usr/bin/zdump
[ -x "$SYSTEM" ] || { echo "no $SYSTEM: nothing to compare against" >&2; exit 1; }
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}
cargo build --release --quiet
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
ln -s "$(realpath "$CARGO_TARGET_DIR/release/ntpbox")" "$work/zdump"
python3 - "$N" "$ZONEINFO" "$SYSTEM" "$work/zdump" <<'PY'
import os, subprocess, sys, time
n, zoneinfo, system, ours = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
zones = []
for root, dirs, files in os.walk(zoneinfo):
    for f in files:
        path = os.path.join(root, f)
        if os.path.islink(path):
            continue
        with open(path, "rb") as fh:
            if fh.read(4) == b"TZif":
                zones.append(os.path.relpath(path, zoneinfo))
zones.sort()
args = ["-v", "-c", "1900,2040"] + zones
env = dict(os.environ, LC_ALL="C", TZDIR=zoneinfo)
def timed(prog):
    t = time.perf_counter()
    out = subprocess.run([prog] + args, env=env, stdout=subprocess.PIPE, check=True).stdout
    return time.perf_counter() - t, out
sys_time, sys_out = timed(system)
runs = [timed(ours) for _ in range(n)]
our_time = min(t for t, _ in runs)
same = all(out == sys_out for _, out in runs)
print(f"zones: {len(zones)}  (zdump -v -c 1900,2040, one invocation, {len(sys_out.splitlines())} lines)")
print(f"system zdump: {sys_time:.3f} s")
print(f"ntpbox zdump: {our_time:.3f} s  (best of {n}: {', '.join(f'{t:.3f}' for t, _ in runs)})")
print(f"ratio:        {our_time / sys_time:.4f}x  (target <= 0.1x)")
print(f"output:       {'identical' if same else 'DIFFERENT'}")
sys.exit(0 if same else 1)
PY
