#!/usr/bin/env bash
# int8 for an imported ONNX graph with real weights (issue 19, docs/PRECISION.md "ONNX graphs"), one run: the
# pretrained EfficientNet-Lite0 as an ONNX file (Graft's own export of a bundle fitted on 100 Fashion-MNIST features:
# the ImageNet backbone, pooling, a head), `graft quantize --model lite0.onnx --preprocess efficientnet-lite0` on
# N_CALIBRATION Fashion-MNIST training images (min/max; once with s8 weights, the default, once with --weights fp32),
# then the graph's pooled features (`--layer flatten`) of the first N_TRAIN training images from the original file in
# fp32 and from each quantized one in int8, `graft fit`
# (logreg, its default C search) and `graft evaluate` on the first N_TEST test images in the bundle's precision (the
# int8 bundle also in fp32). The same measurement as int8_accuracy.sh, through the ONNX executor.
# Usage: bash bench/extract/onnx_int8_accuracy.sh
# Env: GRAFT_BIN (.build/release/graft), N_CALIBRATION (300), N_TRAIN (2000), N_TEST (1000), WORK (kept when given).
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN="${GRAFT_BIN:-.build/release/graft}"
N_CALIBRATION="${N_CALIBRATION:-300}"; N_TRAIN="${N_TRAIN:-2000}"; N_TEST="${N_TEST:-1000}"
PYTHON="${PYTHON:-/root/.venvs/fixtures/bin/python}"
if [ -z "${WORK:-}" ]; then WORK="$(mktemp -d)"; trap 'rm -rf "$WORK"' EXIT; fi
mkdir -p "$WORK"
accuracy() { "$PYTHON" -c 'import json, sys; r = json.load(sys.stdin); print("%.2f" % (100 * r["accuracy"]))'; }
"$BIN" extract --data fashion-mnist --limit 100 --out "$WORK/seed-store" --quiet > /dev/null
"$BIN" fit --features "$WORK/seed-store" --out "$WORK/seed-bundle" > /dev/null
"$BIN" export --bundle "$WORK/seed-bundle" --out "$WORK/lite0.onnx" > /dev/null
ONNX=(--preprocess efficientnet-lite0 --layer flatten)
for w in s8 fp32; do
    "$BIN" quantize --model "$WORK/lite0.onnx" --preprocess efficientnet-lite0 --data fashion-mnist --items "$N_CALIBRATION" \
        --weights $w --out "$WORK/lite0.int8-$w.onnx" --quiet > /dev/null
done
echo "# $(date -u +%FT%TZ), efficientnet-lite0 exported to ONNX, its pooled features (flatten), Fashion-MNIST: int8 calibrated on $N_CALIBRATION training images (minmax), fit on the first $N_TRAIN training images, test on the first $N_TEST test images"
echo "| features and head | scored in | test accuracy % |"
echo "|---|---|---:|"
for run in fp32 int8-s8 int8-fp32; do
    p=${run%%-*}
    file="$WORK/lite0.onnx"; [ "$p" = int8 ] && file="$WORK/lite0.$run.onnx"
    label="ONNX graph"; [ "$p" = int8 ] && label="ONNX graph, int8 (${run#int8-} weights file)"
    "$BIN" extract --data fashion-mnist --limit "$N_TRAIN" --model "$file" "${ONNX[@]}" --precision "$p" --out "$WORK/store-$run" --quiet > /dev/null
    "$BIN" fit --features "$WORK/store-$run" --out "$WORK/bundle-$run" > /dev/null
    a=$("$BIN" evaluate --bundle "$WORK/bundle-$run" --data fashion-mnist --split test --limit "$N_TEST" --quiet --json | accuracy)
    echo "| $label | $p | $a |"
    if [ "$p" = int8 ]; then
        a=$("$BIN" evaluate --bundle "$WORK/bundle-$run" --data fashion-mnist --split test --limit "$N_TEST" --quiet --json --precision fp32 | accuracy)
        echo "| $label | fp32 | $a |"
    fi
done
