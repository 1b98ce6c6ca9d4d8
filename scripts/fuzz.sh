#!/usr/bin/env bash
# Runs every fuzz target (or the ones named), one after the other, each for
# SECONDS (default 60), at the lowest CPU priority, and prints what each
# did: executions, executions per second, corpus size, and findings (new
# crash/timeout/leak files in fuzz/artifacts/TARGET). Exits 1 when anything
# was found, with the files to turn into regression tests.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]
#   scripts/fuzz.sh 600                   # ten minutes each, all targets
#   scripts/fuzz.sh 30 keys_parse         # one target, half a minute
#
# Needs cargo-fuzz (`cargo install cargo-fuzz`); the stable toolchain does,
# with RUSTC_BOOTSTRAP=1 for the -Z flags cargo-fuzz passes. Targets are
# built optimised with debug assertions (overflow checks) and without a
# sanitizer: the code under test is safe Rust, where a sanitizer only
# halves the speed. Seed inputs come from fuzz/seeds/TARGET and, for the
# parsers that have them, the project's real inputs (seed ntp.conf files,
# zone files).
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

SECONDS_EACH=${1:-60}
if [ $# -gt 0 ]; then shift; fi
case $SECONDS_EACH in
'' | *[!0-9]*)
	echo "usage: $0 [SECONDS] [TARGET...]" >&2
	exit 2
	;;
esac

export RUSTC_BOOTSTRAP=1
export PATH="$HOME/.cargo/bin:$PATH"
if ! cargo fuzz --version >/dev/null 2>&1; then
	echo "cargo-fuzz is missing: cargo install cargo-fuzz" >&2
	exit 2
fi
FUZZ_FLAGS=(--sanitizer none --debug-assertions --release)

if [ $# -gt 0 ]; then
	TARGETS=("$@")
else
	mapfile -t TARGETS < <(cargo fuzz list)
fi

# Real inputs worth starting from, per target.
extra_seeds() {
	case $1 in
	config_parse) echo ../tests/fixtures/seeds ;;
	tz_parse) [ -d /usr/share/zoneinfo/Europe ] && echo /usr/share/zoneinfo/Europe ;;
	esac
	return 0
}

LOGS=target/fuzz-logs
mkdir -p "$LOGS"
# Built once, then the binaries are run directly, so that edits made to the
# tree while the runs go on do not rebuild (or break) them half-way.
echo "== building ${#TARGETS[@]} target(s)"
for t in "${TARGETS[@]}"; do
	if ! nice -n 19 cargo fuzz build "${FUZZ_FLAGS[@]}" "$t" >"$LOGS/build-$t.log" 2>&1; then
		grep -E '^error' -A5 "$LOGS/build-$t.log" | head -20 >&2
		echo "building $t failed; see fuzz/$LOGS/build-$t.log" >&2
		exit 2
	fi
done
BIN_DIR=target/$(rustc -vV | sed -n 's/^host: //p')/release
printf '%-20s %8s %14s %10s %8s %s\n' target seconds executions "execs/s" corpus findings
total_findings=0
found_files=()
for t in "${TARGETS[@]}"; do
	mkdir -p "corpus/$t" "artifacts/$t"
	seeds=()
	[ -d "seeds/$t" ] && seeds+=("seeds/$t")
	while read -r dir; do [ -n "$dir" ] && seeds+=("$dir"); done < <(extra_seeds "$t")
	before=$(mktemp)
	ls "artifacts/$t" | sort >"$before"
	start=$(date +%s)
	# A finding ends the run early with a non-zero status: carry on with
	# the next target and report it below.
	nice -n 19 "$BIN_DIR/$t" -artifact_prefix="artifacts/$t/" \
		-max_total_time="$SECONDS_EACH" -print_final_stats=1 -timeout=10 \
		"corpus/$t" "${seeds[@]}" >"$LOGS/$t.log" 2>&1 || true
	took=$(($(date +%s) - start))
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$LOGS/$t.log" | tail -1)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$LOGS/$t.log" | tail -1)
	corpus=$(ls "corpus/$t" | wc -l)
	mapfile -t new < <(ls "artifacts/$t" | sort | comm -13 "$before" -)
	rm -f "$before"
	for f in "${new[@]}"; do found_files+=("fuzz/artifacts/$t/$f"); done
	total_findings=$((total_findings + ${#new[@]}))
	printf '%-20s %8s %14s %10s %8s %s\n' "$t" "$took" "${execs:-?}" "${rate:-?}" "$corpus" "${#new[@]}"
done

if [ "$total_findings" -gt 0 ]; then
	echo "== $total_findings finding(s); logs in fuzz/$LOGS:"
	printf '   %s\n' "${found_files[@]}"
	echo "   reproduce: cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run ${FUZZ_FLAGS[*]} TARGET FILE"
	exit 1
fi
echo "== no findings"
