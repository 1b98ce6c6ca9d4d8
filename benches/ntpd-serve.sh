#!/usr/bin/env bash
# Benchmark: ntpbox ntpd against chronyd as NTP servers on loopback.
#
# Both serve from the local clock at stratum 10 with no rate limiting
# (ntpbox: server 127.127.1.0 + fudge stratum 10 + disable ntp; chronyd:
# local stratum 10, -x), one after the other on the same port setup, each
# pinned to CPU 0 with the load generator (benches/ntpload) pinned to CPU 1.
# For each server it measures:
#   - replies/s at saturation (closed loop) and the loss there;
#   - p50/p99 latency at a fixed 10k requests/s;
#   - the server's CPU time per reply at a fixed offered load (100k req/s
#     by default), from /proc/PID/stat (utime + stime);
#   - its idle resident memory (VmRSS);
# then prints both side by side with the ratios ntpbox/chronyd. A third
# column, "floor", is ntpload's own trivial responder (`ntpload serve`:
# recvmmsg/sendmmsg of 64, no timestamps, no checks), measured the same
# way: what the kernel's UDP path alone costs per reply on this machine,
# the bound below which no socket server can go. Each load
# run is repeated (-n, default 3) and the best figure kept: on a shared
# machine other processes only ever make a run look worse.
#
# Safety: loopback only; every server runs without CAP_SYS_TIME (setpriv),
# chronyd also with -x, ntpbox with `disable ntp`; each load run is bounded
# in time (ntpload refuses more than 120 s and has its own watchdog); the
# servers are stopped by their PIDs.
#
# Usage: benches/ntpd-serve.sh [-d SECONDS] [-n RUNS] [-r CPU_RATE] [--no-build]
# Needs: chronyd from scripts/fetch-peers.sh (target/peers), taskset, setpriv.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=5          # seconds per load run
CPU_RATE=100000     # offered load for the CPU-per-reply figure, req/s
LATENCY_RATE=10000  # offered load for the latency figures, req/s
RUNS=3              # repetitions of each load run; the best is kept
BUILD=1
while [ $# -gt 0 ]; do
	case "$1" in
	-d) DURATION=$2; shift 2 ;;
	-n) RUNS=$2; shift 2 ;;
	-r) CPU_RATE=$2; shift 2 ;;
	--no-build) BUILD=0; shift ;;
	*) echo "usage: $0 [-d SECONDS] [-n RUNS] [-r CPU_RATE] [--no-build]" >&2; exit 2 ;;
	esac
done

TARGET=${CARGO_TARGET_DIR:-target}
PEERS=${PEERS_DIR:-target/peers}
GUARD=(setpriv --bounding-set=-sys_time --inh-caps=-sys_time)
SERVER_CPU=0
LOAD_CPU=1
# The local clock's first update and chronyd's start are quick; give both
# a moment to settle before measuring.
SETTLE=1

if [ "$BUILD" = 1 ]; then
	echo "== building ntpbox and ntpload (release)" >&2
	cargo build --quiet --release --bin ntpbox
	cargo build --quiet --release --manifest-path benches/ntpload/Cargo.toml --target-dir "$TARGET/ntpload"
fi
NTPBOX=$TARGET/release/ntpbox
NTPLOAD=$TARGET/ntpload/release/ntpload
CHRONYD=$PEERS/bin/chronyd
for f in "$NTPBOX" "$NTPLOAD" "$CHRONYD"; do
	[ -x "$f" ] || { echo "missing $f (build, or run scripts/fetch-peers.sh)" >&2; exit 1; }
done

WORK=$(mktemp -d /tmp/ntpd-serve-bench.XXXXXX)
SERVER_PID=
cleanup() {
	if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
		kill "$SERVER_PID"
		wait "$SERVER_PID" 2>/dev/null || true
	fi
	rm -rf "$WORK"
}
trap cleanup EXIT

free_port() {
	python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# CPU seconds (user + system) of a PID so far.
cpu_seconds() {
	awk -v hz="$(getconf CLK_TCK)" '{ print ($14 + $15) / hz }' "/proc/$1/stat"
}

rss_kib() {
	awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"
}

# A field of ntpload's one-line JSON report.
field() {
	python3 -c 'import json, sys; d = json.loads(sys.argv[1]); v = d
for k in sys.argv[2].split("."): v = v[k]
print(v)' "$1" "$2"
}

load() { # PORT ARGS... -> JSON line
	local port=$1
	shift
	taskset -c "$LOAD_CPU" "$NTPLOAD" "127.0.0.1:$port" -d "$DURATION" --cpus "$LOAD_CPU" --json "$@"
}

start_ntpbox() { # PORT
	ln -sf "$(realpath "$NTPBOX")" "$WORK/ntpd"
	cat >"$WORK/ntp.conf" <<-CONF
		disable ntp
		server 127.127.1.0
		fudge 127.127.1.0 stratum 10
		interface ignore wildcard
		interface ignore all
		interface listen 127.0.0.1
	CONF
	taskset -c "$SERVER_CPU" "${GUARD[@]}" "$WORK/ntpd" -n -c "$WORK/ntp.conf" --port "$1" 2>"$WORK/ntpbox.log" &
	SERVER_PID=$!
}

start_chronyd() { # PORT
	mkdir -p "$WORK/chrony"
	chmod 700 "$WORK/chrony"
	cat >"$WORK/chrony.conf" <<-CONF
		port $1
		bindaddress 127.0.0.1
		cmdport 0
		local stratum 10
		allow 127.0.0.1
		pidfile $WORK/chrony/chronyd.pid
		driftfile $WORK/chrony/drift
	CONF
	taskset -c "$SERVER_CPU" "${GUARD[@]}" "$CHRONYD" -4 -x -d -u root -f "$WORK/chrony.conf" 2>"$WORK/chronyd.log" &
	SERVER_PID=$!
}

start_floor() { # PORT
	# Long enough for every load run; it stops by itself (ntpload's limit).
	taskset -c "$SERVER_CPU" "$NTPLOAD" serve "127.0.0.1:$1" -d 120 2>"$WORK/floor.log" &
	SERVER_PID=$!
}

stop_server() {
	kill "$SERVER_PID"
	wait "$SERVER_PID" 2>/dev/null || true
	SERVER_PID=
}

# better NEW OLD max|min: is NEW an improvement on OLD?
better() {
	python3 -c "import sys; n, o = float('$1'), float('$2'); sys.exit(0 if (n > o if '$3' == 'max' else n < o) else 1)"
}

declare -A R
measure() { # NAME START_FUNCTION
	local name=$1 start=$2 port
	port=$(free_port)
	echo "== $name on 127.0.0.1:$port (server on CPU $SERVER_CPU, load on CPU $LOAD_CPU)" >&2
	"$start" "$port"
	sleep "$SETTLE"
	kill -0 "$SERVER_PID" || { echo "$name did not start" >&2; cat "$WORK"/*.log >&2; exit 1; }
	R[$name.rss]=$(rss_kib "$SERVER_PID")

	local run sat lat cpu before after ns
	R[$name.rps]=0
	R[$name.p50]=inf
	R[$name.p99]=inf
	R[$name.cpu_ns]=inf
	R[$name.sat_cpu_ns]=inf
	for run in $(seq "$RUNS"); do
		before=$(cpu_seconds "$SERVER_PID")
		sat=$(load "$port")
		after=$(cpu_seconds "$SERVER_PID")
		ns=$(python3 -c "print(round(($after - $before) * 1e9 / max(1, $(field "$sat" replies_ok))))")
		if better "$ns" "${R[$name.sat_cpu_ns]}" min; then
			R[$name.sat_cpu_ns]=$ns
		fi
		if better "$(field "$sat" replies_per_s)" "${R[$name.rps]}" max; then
			R[$name.rps]=$(field "$sat" replies_per_s)
			R[$name.sat_lost]=$(field "$sat" lost)
			R[$name.sat_sent]=$(field "$sat" sent)
			R[$name.kiss]=$(field "$sat" kiss)
		fi

		lat=$(load "$port" -r "$LATENCY_RATE")
		if better "$(field "$lat" lat_us.p99)" "${R[$name.p99]}" min; then
			R[$name.p50]=$(field "$lat" lat_us.p50)
			R[$name.p99]=$(field "$lat" lat_us.p99)
			R[$name.lat_lost]=$(field "$lat" lost)
		fi

		before=$(cpu_seconds "$SERVER_PID")
		cpu=$(load "$port" -r "$CPU_RATE")
		after=$(cpu_seconds "$SERVER_PID")
		ns=$(python3 -c "print(round(($after - $before) * 1e9 / max(1, $(field "$cpu" replies_ok))))")
		if better "$ns" "${R[$name.cpu_ns]}" min; then
			R[$name.cpu_ns]=$ns
			R[$name.cpu_replies]=$(field "$cpu" replies_ok)
			R[$name.cpu_lost]=$(field "$cpu" lost)
		fi
		echo "   run $run: $(field "$sat" replies_per_s) replies/s, p50/p99 $(field "$lat" lat_us.p50)/$(field "$lat" lat_us.p99) us, $ns ns CPU/reply" >&2
	done
	stop_server
}

measure ntpbox start_ntpbox
measure chronyd start_chronyd
measure floor start_floor

ratio() { python3 -c "a, b = float('$1'), float('$2'); print(f'{a / b:.2f}' if b else '-')"; }

printf '\n%-34s %14s %14s %10s %14s\n' "" "ntpbox ntpd" "chronyd" "ratio" "floor"
row() { printf '%-34s %14s %14s %10s %14s\n' "$1" "$2" "$3" "$4" "${5:-}"; }
row "replies/s at saturation" "${R[ntpbox.rps]}" "${R[chronyd.rps]}" "$(ratio "${R[ntpbox.rps]}" "${R[chronyd.rps]}")" "${R[floor.rps]}"
row "lost at saturation (of sent)" "${R[ntpbox.sat_lost]}/${R[ntpbox.sat_sent]}" "${R[chronyd.sat_lost]}/${R[chronyd.sat_sent]}" "" "${R[floor.sat_lost]}/${R[floor.sat_sent]}"
row "p50 latency at ${LATENCY_RATE}/s (us)" "${R[ntpbox.p50]}" "${R[chronyd.p50]}" "$(ratio "${R[ntpbox.p50]}" "${R[chronyd.p50]}")" "${R[floor.p50]}"
row "p99 latency at ${LATENCY_RATE}/s (us)" "${R[ntpbox.p99]}" "${R[chronyd.p99]}" "$(ratio "${R[ntpbox.p99]}" "${R[chronyd.p99]}")" "${R[floor.p99]}"
row "lost at ${LATENCY_RATE}/s" "${R[ntpbox.lat_lost]}" "${R[chronyd.lat_lost]}" "" "${R[floor.lat_lost]}"
row "server CPU per reply at ${CPU_RATE}/s (ns)" "${R[ntpbox.cpu_ns]}" "${R[chronyd.cpu_ns]}" "$(ratio "${R[ntpbox.cpu_ns]}" "${R[chronyd.cpu_ns]}")" "${R[floor.cpu_ns]}"
row "server CPU per reply, saturated (ns)" "${R[ntpbox.sat_cpu_ns]}" "${R[chronyd.sat_cpu_ns]}" "$(ratio "${R[ntpbox.sat_cpu_ns]}" "${R[chronyd.sat_cpu_ns]}")" "${R[floor.sat_cpu_ns]}"
row "replies (lost) at ${CPU_RATE}/s" "${R[ntpbox.cpu_replies]} (${R[ntpbox.cpu_lost]})" "${R[chronyd.cpu_replies]} (${R[chronyd.cpu_lost]})" "" "${R[floor.cpu_replies]} (${R[floor.cpu_lost]})"
row "idle RSS (KiB)" "${R[ntpbox.rss]}" "${R[chronyd.rss]}" "$(ratio "${R[ntpbox.rss]}" "${R[chronyd.rss]}")"
row "kiss codes seen at saturation" "${R[ntpbox.kiss]:--}" "${R[chronyd.kiss]:--}" ""
