#!/usr/bin/env bash
# Serving benchmark: `graft serve` (batched, one inference thread) against a minimal Python
# http.server doing one-at-a-time PyTorch inference, both serving EfficientNet-Lite0 with its
# ImageNet classifier on loopback. wrk POSTs one JPEG (scikit-image's cat, 451x300) at each
# concurrency for DURATION seconds; reports requests/s, p50/p99 latency, errors and each
# server's peak RSS, then stops the Graft server with SIGTERM and checks it exits cleanly.
#
# usage: bench/serve/run.sh   (env: DURATION=30, CONCURRENCY="1 8 32", THREADS=2, BUILD=1, SCRATCH=.build-serve)
set -euo pipefail
cd "$(dirname "$0")/../.."
DURATION="${DURATION:-30}"
CONCURRENCY="${CONCURRENCY:-1 8 32}"
PORT="${PORT:-18080}"
PEER_PORT="${PEER_PORT:-18081}"
THREADS="${THREADS:-2}"
SCRATCH="${SCRATCH:-.build-serve}"
PY="${PY:-/root/.venvs/fixtures/bin/python}"
export GRAFT_HOME="${GRAFT_HOME:-$HOME/.cache/graft}"
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk curl >/dev/null; }

if [ "${BUILD:-1}" = 1 ]; then
  swift build -c release --scratch-path "$SCRATCH" --product graft >&2
  swift build --package-path bench -c release --scratch-path "$SCRATCH" --product graft-bench-serve >&2
fi
BIN="$SCRATCH/release"
WORK="$(mktemp -d)"
SERVER_PID=""
cleanup() { [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

"$BIN/graft-bench-serve" "$WORK/lite0.bundle" >&2
"$PY" -c "from PIL import Image; Image.open('$GRAFT_HOME/packages/scikit-image/skimage/data/chelsea.png').convert('RGB').save('$WORK/cat.jpg', quality=90)"
export BENCH_IMAGE="$WORK/cat.jpg"

wait_healthy() {  # port
  for _ in $(seq 1 300); do curl -sf "http://127.0.0.1:$1/healthz" >/dev/null && return 0; sleep 0.1; done
  echo "server on port $1 did not come up" >&2; return 1
}

# CPU time (user + system) of process $1 so far, in milliseconds: robust to other load on the machine.
cpu_ms() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.0f", ($14 + $15) * 1000 / hz}' "/proc/$1/stat"; }

# load NAME PORT PID: warm-up, then one wrk run per concurrency; prints table rows.
load() {
  local name="$1" port="$2" pid="$3" c t line before
  curl -s -H 'Content-Type: image/jpeg' --data-binary @"$BENCH_IMAGE" "http://127.0.0.1:$port/v1/predict" \
    | "$PY" -c "import json,sys; p=json.load(sys.stdin)['predictions'][0]; print('$name top-1:', p['label'], round(p['probability'], 4))" >&2
  wrk -t1 -c2 -d3s -s bench/serve/post.lua "http://127.0.0.1:$port/v1/predict" >/dev/null
  for c in $CONCURRENCY; do
    t=$(( c < 2 ? 1 : 2 ))
    before=$(cpu_ms "$pid")
    line=$(wrk -t"$t" -c"$c" -d"${DURATION}s" --timeout 10s -s bench/serve/post.lua "http://127.0.0.1:$port/v1/predict" | grep '^RESULT')
    echo "$name c=$c $line cpu_ms=$(( $(cpu_ms "$pid") - before ))"
  done
}

rss_mb() { awk '/VmHWM/ {printf "%.0f", $2 / 1024}' "/proc/$1/status"; }

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
echo "== graft serve (max batch 16, wait 5 ms), GRAFT_THREADS=$THREADS" >&2
GRAFT_THREADS="$THREADS" "$BIN/graft" serve --bundle "$WORK/lite0.bundle" --port "$PORT" 2>"$WORK/graft.log" &
SERVER_PID=$!
wait_healthy "$PORT"
load graft "$PORT" "$SERVER_PID" | tee "$WORK/graft.txt"
GRAFT_RSS=$(rss_mb "$SERVER_PID")
curl -s "http://127.0.0.1:$PORT/metrics" | grep -E '^graft_batch_size_(sum|count)' >"$WORK/batches.txt"
kill -TERM "$SERVER_PID"
if wait "$SERVER_PID"; then echo "graft serve: SIGTERM -> clean exit" >&2; else echo "graft serve: exit status $? after SIGTERM" >&2; fi
SERVER_PID=""

echo "== python http.server + PyTorch, torch threads $THREADS" >&2
"$PY" bench/serve/peer.py "$PEER_PORT" "$THREADS" &
SERVER_PID=$!
wait_healthy "$PEER_PORT"
load torch "$PEER_PORT" "$SERVER_PID" | tee "$WORK/torch.txt"
TORCH_RSS=$(rss_mb "$SERVER_PID")
kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true
SERVER_PID=""

echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
"$PY" - "$WORK" "$GRAFT_RSS" "$TORCH_RSS" <<'PY'
import re, sys
work, graft_rss, torch_rss = sys.argv[1], sys.argv[2], sys.argv[3]
def rows(name):
    out = {}
    for line in open(f"{work}/{name}.txt"):
        c = int(re.search(r"c=(\d+)", line).group(1))
        out[c] = {k: float(v) for k, v in re.findall(r"(\w+)=([\d.]+)", line.split("RESULT", 1)[1])}
    return out
g, t = rows("graft"), rows("torch")
b = dict(l.split() for l in open(f"{work}/batches.txt"))
mean_batch = float(b["graft_batch_size_sum"]) / max(float(b["graft_batch_size_count"]), 1)
def cpu(r):  # server CPU milliseconds per answered request
    return r.get("cpu_ms", 0) / max(r.get("requests", 0), 1)
print("| concurrency | graft req/s | p50 ms | p99 ms | errors | CPU ms/req | torch req/s | p50 ms | p99 ms | errors | CPU ms/req | req/s ratio |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|")
for c in sorted(g):
    x, y = g[c], t.get(c, {})
    ratio = x["rps"] / y["rps"] if y.get("rps") else float("nan")
    print(f"| {c} | {x['rps']:.1f} | {x['p50_ms']:.1f} | {x['p99_ms']:.1f} | {int(x['errors'])} | {cpu(x):.0f} | "
          f"{y.get('rps', 0):.1f} | {y.get('p50_ms', 0):.1f} | {y.get('p99_ms', 0):.1f} | {int(y.get('errors', 0))} | {cpu(y):.0f} | {ratio:.2f}x |")
print(f"\npeak RSS: graft serve {graft_rss} MB, python peer {torch_rss} MB; graft mean batch {mean_batch:.2f} inputs")
PY
