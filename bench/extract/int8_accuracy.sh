#!/usr/bin/env bash
# Features + logistic regression in fp32, bf16 and int8 (issue 19, docs/PRECISION.md), one run: `graft quantize`
# calibrates EfficientNet-Lite0 on N_CALIBRATION Fashion-MNIST training images (spread over the set, min/max);
# then penultimate features of the first N_TRAIN training images in each precision (int8 from the quantized file),
# `graft fit` (logreg, its default C search) and `graft evaluate` on the first N_TEST test images in the bundle's
# precision; the int8 bundle also scored in fp32 (a head fitted on int8 features reading fp32 ones).
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
"$BIN" quantize --data fashion-mnist --items "$N_CALIBRATION" --out "$WORK/lite0.int8.safetensors" --quiet > /dev/null
echo "# $(date -u +%FT%TZ), efficientnet-lite0 penultimate, Fashion-MNIST: int8 calibrated on $N_CALIBRATION training images (minmax), fit on the first $N_TRAIN training images, test on the first $N_TEST test images"
echo "| features and head | scored in | test accuracy % |"
echo "|---|---|---:|"
for p in "${PRECISIONS[@]}"; do
    model=(--model efficientnet-lite0)
    [ "$p" = int8 ] && model=(--model "$WORK/lite0.int8.safetensors" --arch efficientnet-lite0)
    "$BIN" extract --data fashion-mnist --limit "$N_TRAIN" "${model[@]}" --precision "$p" --out "$WORK/store-$p" --quiet > /dev/null
    "$BIN" fit --features "$WORK/store-$p" --out "$WORK/bundle-$p" > /dev/null
    a=$("$BIN" evaluate --bundle "$WORK/bundle-$p" --data fashion-mnist --split test --limit "$N_TEST" --quiet --json | accuracy)
    echo "| $p | $p | $a |"
done
if [[ " ${PRECISIONS[*]} " == *" int8 "* ]]; then
    a=$("$BIN" evaluate --bundle "$WORK/bundle-int8" --data fashion-mnist --split test --limit "$N_TEST" --quiet --json --precision fp32 | accuracy)
    echo "| int8 | fp32 | $a |"
fi
