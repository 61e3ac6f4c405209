#!/usr/bin/env bash
# Cold-start latency of `graft predict` for one image (issue 4 target: < 0.5 s): a new process each
# time, from exec to the printed top-5 (process start, weights load, decode, preprocess, forward).
# Reports the first run and min / median / max of the next BENCH_RUNS (10) runs (page cache warm).
# Usage: bash bench/extract/predict_cold.sh [IMAGE]   (default: scikit-image's rocket.jpg)
# Env: BENCH_PREFIX (e.g. "chrt -f 10" when the cores are shared), SCRATCH (.build-extract), GRAFT_THREADS.
set -euo pipefail
cd "$(dirname "$0")/../.."
SCRATCH="${SCRATCH:-.build-extract}"
IMAGE="${1:-${GRAFT_HOME:-$HOME/.cache/graft}/packages/scikit-image/skimage/data/rocket.jpg}"
RUNS="${BENCH_RUNS:-10}"
PREFIX=(${BENCH_PREFIX:-})
swift build -c release --scratch-path "$SCRATCH" --product graft >&2
BIN="$(swift build -c release --scratch-path "$SCRATCH" --show-bin-path)/graft"
times=()
for i in $(seq 0 "$RUNS"); do
    t="$( { /usr/bin/time -f '%e %M' "${PREFIX[@]}" "$BIN" predict --model efficientnet-lite0 "$IMAGE" --top 5 > /tmp/predict_cold.$$.out; } 2>&1 | tail -1)"
    times+=("$t")
done
head -3 /tmp/predict_cold.$$.out; rm -f /tmp/predict_cold.$$.out
printf '%s\n' "${times[@]}" | python3 -c '
import sys, statistics
rows = [tuple(map(float, l.split())) for l in sys.stdin if l.strip()]
first, rest = rows[0], [r[0] for r in rows[1:]]
print(f"graft predict, one image, new process: first run {first[0]:.2f} s; next {len(rest)} runs: min {min(rest):.2f} s, "
      f"median {statistics.median(rest):.2f} s, max {max(rest):.2f} s; max RSS {max(r[1] for r in rows) / 1024:.0f} MB")'
