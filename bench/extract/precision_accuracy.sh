#!/usr/bin/env bash
# Features + logistic regression in fp32 and bf16 (issue 19, docs/PRECISION.md): EfficientNet-Lite0 penultimate
# features of the first N_TRAIN Fashion-MNIST training images extracted in each precision, `graft fit` (logreg,
# its default C search), then `graft evaluate` on the first N_TEST test images in the bundle's own precision, and
# the bf16 bundle also in fp32 (a head fitted on bf16 features scoring fp32 ones).
# Usage: bash bench/extract/precision_accuracy.sh
# Env: GRAFT_BIN (.build/release/graft), N_TRAIN (2000), N_TEST (1000), WORK (kept when given).
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN="${GRAFT_BIN:-.build/release/graft}"
N_TRAIN="${N_TRAIN:-2000}"; N_TEST="${N_TEST:-1000}"
PYTHON="${PYTHON:-/root/.venvs/fixtures/bin/python}"
if [ -z "${WORK:-}" ]; then WORK="$(mktemp -d)"; trap 'rm -rf "$WORK"' EXIT; fi
mkdir -p "$WORK"
accuracy() { "$PYTHON" -c 'import json, sys; r = json.load(sys.stdin); print("%.2f" % (100 * r["accuracy"]))'; }
echo "# $(date -u +%FT%TZ), efficientnet-lite0 penultimate, Fashion-MNIST: fit on the first $N_TRAIN training images, test on the first $N_TEST test images"
echo "| features and head | scored in | test accuracy % |"
echo "|---|---|---:|"
for p in fp32 bf16; do
    "$BIN" extract --data fashion-mnist --limit "$N_TRAIN" --precision "$p" --out "$WORK/store-$p" --quiet > /dev/null
    "$BIN" fit --features "$WORK/store-$p" --out "$WORK/bundle-$p" > /dev/null
    a=$("$BIN" evaluate --bundle "$WORK/bundle-$p" --data fashion-mnist --split test --limit "$N_TEST" --quiet --json | accuracy)
    echo "| $p | $p | $a |"
done
a=$("$BIN" evaluate --bundle "$WORK/bundle-bf16" --data fashion-mnist --split test --limit "$N_TEST" --quiet --json --precision fp32 | accuracy)
echo "| bf16 | fp32 | $a |"
