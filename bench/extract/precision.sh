#!/usr/bin/env bash
# `graft extract` end to end in fp32 and bf16 (issue 19, docs/PRECISION.md): EfficientNet-Lite0 penultimate
# features of the first N Fashion-MNIST training images (decode, resize to 224, normalise, forward, pool,
# write the store), images/s and max RSS (/usr/bin/time -v) per precision, alternating, in one run; then the
# largest difference between the two feature sets and their cosine.
# Usage: bash bench/extract/precision.sh
# Env: GRAFT_BIN (.build/release/graft: an already built graft), BENCH_N (2000), BENCH_PRECISIONS ("fp32 bf16"),
#      BENCH_MODEL (efficientnet-lite0), BENCH_SPLIT (train; test has 10,000), GRAFT_THREADS (nproc), BENCH_PREFIX (e.g. "chrt -f 10"), WORK (kept when given).
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN="${GRAFT_BIN:-.build/release/graft}"
N="${BENCH_N:-2000}"
MODEL="${BENCH_MODEL:-efficientnet-lite0}"
PRECISIONS=(${BENCH_PRECISIONS:-fp32 bf16})
PREFIX=(${BENCH_PREFIX:-})
PYTHON="${PYTHON:-/root/.venvs/fixtures/bin/python}"
export GRAFT_THREADS="${GRAFT_THREADS:-$(nproc)}"
if [ -z "${WORK:-}" ]; then WORK="$(mktemp -d)"; trap 'rm -rf "$WORK"' EXIT; fi
mkdir -p "$WORK"
echo "# $(date -u +%FT%TZ), $MODEL, $N Fashion-MNIST images, threads $GRAFT_THREADS, load average before $(cut -d' ' -f1-3 /proc/loadavg)"
echo "| precision | images/s | seconds | max RSS MB |"
echo "|---|---:|---:|---:|"
for p in "${PRECISIONS[@]}"; do
    rm -rf "$WORK/$p"
    start=$(date +%s.%N)
    /usr/bin/time -v -o "$WORK/$p.time" "${PREFIX[@]}" "$BIN" extract --data fashion-mnist --split "${BENCH_SPLIT:-train}" --limit "$N" --model "$MODEL" \
        --precision "$p" --out "$WORK/$p" --quiet > /dev/null
    end=$(date +%s.%N)
    rss=$(awk -F: '/Maximum resident/ { print int($2 / 1024) }' "$WORK/$p.time")
    awk -v n="$N" -v s="$start" -v e="$end" -v p="$p" -v r="$rss" 'BEGIN { printf "| %s | %.1f | %.1f | %d |\n", p, n / (e - s), e - s, r }'
done
echo "# load average after $(cut -d' ' -f1-3 /proc/loadavg)"
if [ ${#PRECISIONS[@]} -ge 2 ]; then
    "$PYTHON" - "$WORK/${PRECISIONS[0]}" "$WORK/${PRECISIONS[1]}" <<'PY'
import glob, json, os, sys
import numpy as np
from safetensors.numpy import load_file
def features(d):
    shards = sorted(glob.glob(os.path.join(d, "*.safetensors")))
    return np.concatenate([load_file(s)["features"] for s in shards])
a, b = features(sys.argv[1]), features(sys.argv[2])
cos = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
print(f"# features {a.shape}: max abs diff {np.abs(a - b).max():.3e} (scale {np.abs(a).max():.3f}), min cosine {cos.min():.6f}")
PY
fi
