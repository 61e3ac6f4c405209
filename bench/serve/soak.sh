#!/usr/bin/env bash
# Soak: two `graft serve` processes on loopback (EfficientNet-Lite0 ImageNet image bundle; MiniLM
# feature bundle with a logistic-regression head on Rotten Tomatoes) under mixed valid and invalid
# requests of varying sizes, texts of every length and concurrency cycling 1/4/16/48 (bench/serve/soak.py),
# RSS sampled every 5 s; then SIGTERM, which must end both with status 0 within the grace period.
#
# usage: bench/serve/soak.sh   (env: SECONDS_TOTAL=600, BIN=.build/release, OUT=bench/serve/soak-out, BUILD=0)
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_TOTAL="${SECONDS_TOTAL:-600}"
BIN="${BIN:-.build/release}"
OUT="${OUT:-$(mktemp -d /tmp/graft-soak.XXXXXX)}"; mkdir -p "$OUT"
export GRAFT_HOME="${GRAFT_HOME:-$HOME/.cache/graft}"
if [ "${BUILD:-0}" = 1 ]; then
  swift build -c release --product graft >&2
  swift build --package-path bench -c release --scratch-path .build --product graft-bench-serve >&2
fi
WORK="$(mktemp -d)"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

"$BIN/graft-bench-serve" "$WORK/lite0.bundle" >&2
"$BIN/graft" extract --data rotten-tomatoes --model all-minilm-l6-v2 --limit 400 --out "$WORK/text.store" --quiet >&2
"$BIN/graft" fit --features "$WORK/text.store" --C 1 --out "$WORK/text.bundle" >&2

"$BIN/graft" serve --bundle "$WORK/lite0.bundle" --port 18180 2>"$OUT/image-server.log" & PIDS+=($!)
"$BIN/graft" serve --bundle "$WORK/text.bundle" --port 18181 2>"$OUT/text-server.log" & PIDS+=($!)
for port in 18180 18181; do
  for _ in $(seq 1 600); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
done
python3 bench/serve/soak.py --image-port 18180 --image-pid "${PIDS[0]}" --text-port 18181 --text-pid "${PIDS[1]}" \
  --seconds "$SECONDS_TOTAL" --out "$OUT"
curl -s "http://127.0.0.1:18180/metrics" >"$OUT/image-metrics.txt"
curl -s "http://127.0.0.1:18181/metrics" >"$OUT/text-metrics.txt"
for i in 0 1; do
  start=$(date +%s.%N); kill -TERM "${PIDS[$i]}"; status=0; wait "${PIDS[$i]}" || status=$?
  echo "server $i: exit status $status $(python3 -c "print(round($(date +%s.%N) - $start, 2))") s after SIGTERM"
done
PIDS=()
echo "results in $OUT (rss.csv, summary.json)"
