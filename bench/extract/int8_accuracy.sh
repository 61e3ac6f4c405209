#!/usr/bin/env bash
# Features + logistic regression in fp32, bf16 and int8 (issue 19, docs/PRECISION.md), one run: `graft quantize`
# calibrates EfficientNet-Lite0 on N_CALIBRATION Fashion-MNIST training images (spread over the set, min/max);
# then penultimate features of the first N_TRAIN training images in each precision (int8 from the quantized file),
# `graft fit` (logreg, its default C search) and `graft evaluate` on the first N_TEST test images in the bundle's
# precision; the int8 bundle also scored in fp32 (a head fitted on int8 features reading fp32 ones). int8 runs twice:
# from the quantized file with s8 weights (`graft quantize`'s default) and from one with fp32 weights (--weights fp32).
# Usage: bash bench/extract/int8_accuracy.sh
# Env: GRAFT_BIN (.build/release/graft), N_CALIBRATION (300), N_TRAIN (2000), N_TEST (1000), WORK (kept when given),
#      BENCH_PRECISIONS ("fp32 bf16 int8"; bf16 only where the CPU has it).
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN="${GRAFT_BIN:-.build/release/graft}"
N_CALIBRATION="${N_CALIBRATION:-300}"; N_TRAIN="${N_TRAIN:-2000}"; N_TEST="${N_TEST:-1000}"
PRECISIONS=(${BENCH_PRECISIONS:-fp32 bf16 int8})
PYTHON="${PYTHON:-/root/.venvs/fixtures/bin/python}"
if [ -z "${WORK:-}" ]; then WORK="$(mktemp -d)"; trap 'rm -rf "$WORK"' EXIT; fi
mkdir -p "$WORK"
accuracy() { "$PYTHON" -c 'import json, sys; r = json.load(sys.stdin); print("%.2f" % (100 * r["accuracy"]))'; }
for w in s8 fp32; do
    "$BIN" quantize --data fashion-mnist --items "$N_CALIBRATION" --weights $w --out "$WORK/lite0.int8-$w.safetensors" --quiet > /dev/null
done
echo "# $(date -u +%FT%TZ), efficientnet-lite0 penultimate, Fashion-MNIST: int8 calibrated on $N_CALIBRATION training images (minmax), fit on the first $N_TRAIN training images, test on the first $N_TEST test images"
echo "| features and head | scored in | test accuracy % |"
echo "|---|---|---:|"
RUNS=()
for p in "${PRECISIONS[@]}"; do
    if [ "$p" = int8 ]; then RUNS+=(int8 int8-fp32-weights); else RUNS+=("$p"); fi
done
for run in "${RUNS[@]}"; do
    p=${run%%-*}
    model=(--model efficientnet-lite0)
    [ "$run" = int8 ] && model=(--model "$WORK/lite0.int8-s8.safetensors" --arch efficientnet-lite0)
    [ "$run" = int8-fp32-weights ] && model=(--model "$WORK/lite0.int8-fp32.safetensors" --arch efficientnet-lite0)
    "$BIN" extract --data fashion-mnist --limit "$N_TRAIN" "${model[@]}" --precision "$p" --out "$WORK/store-$run" --quiet > /dev/null
    "$BIN" fit --features "$WORK/store-$run" --out "$WORK/bundle-$run" > /dev/null
    a=$("$BIN" evaluate --bundle "$WORK/bundle-$run" --data fashion-mnist --split test --limit "$N_TEST" --quiet --json | accuracy)
    label=$p; [ "$run" = int8 ] && label="int8 (s8 weights file)"; [ "$run" = int8-fp32-weights ] && label="int8 (fp32 weights file)"
    echo "| $label | $p | $a |"
    if [ "$p" = int8 ]; then
        a=$("$BIN" evaluate --bundle "$WORK/bundle-$run" --data fashion-mnist --split test --limit "$N_TEST" --quiet --json --precision fp32 | accuracy)
        echo "| $label | fp32 | $a |"
    fi
done
