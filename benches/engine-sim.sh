#!/usr/bin/env bash
# The engine's accuracy scenarios (tests/engine_sim.rs) with their figures:
# time until |offset| stays below 1 ms, RMS and max |offset| over
# 10000-20000 s, frequency error, for the standard scenario (seeds 1-8),
# 3 and 4 servers (one a falseticker), delayed packets, a 1 h outage,
# steps, -x, the panic threshold and the drift file. Simulated time: the
# whole set takes about a second. Prints the figures and the wall time.
#   benches/engine-sim.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}
cargo test --release --quiet --test engine_sim --no-run
start=$(date +%s.%N)
cargo test --release --quiet --test engine_sim -- --nocapture --test-threads 1 2>&1 \
    | grep -oE '(standard, seed|3 servers|4 servers|5% delayed|1 h outage|0\.5 s ahead|50 s behind|2000 s ahead|drift file).*' || true
end=$(date +%s.%N)
printf 'wall time: %.2f s\n' "$(echo "$end - $start" | bc)"
