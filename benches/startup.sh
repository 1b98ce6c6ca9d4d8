#!/usr/bin/env bash
# Size of the stripped release binary and start-up time of `ntpbox --version`
# (median of N runs), beside /bin/true measured in the same run as a yardstick
# for this machine's process start-up cost.
#   benches/startup.sh [N]   (default 300)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-300}
cargo build --release --quiet
echo "release binary (stripped): $(stat -c %s target/release/ntpbox) bytes"
python3 - "$N" <<'PY'
import statistics, subprocess, sys, time
n = int(sys.argv[1])
def median_ms(cmd):
    times = []
    for _ in range(n):
        t = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1e3
ours = median_ms(["target/release/ntpbox", "--version"])
base = median_ms(["/bin/true"])
print(f"ntpbox --version: median {ours:.3f} ms over {n} runs")
print(f"/bin/true:        median {base:.3f} ms (same run)")
print(f"ratio:            {ours / base:.2f}x")
PY
