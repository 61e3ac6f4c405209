#!/usr/bin/env bash
# Transfer vs from scratch on the deterministic multi-label and regression tasks that
# bench/tasks/make_task_data.py makes from Fashion-MNIST (issue 18; the table in docs/RESULTS.md):
#   composites (56x56, 1-4 items in a 2x2 grid) tagged with the classes present  -> multi-label
#   rotations (one item rotated by -45..45 degrees), the angle as the target    -> regression
# For each: features + head (graft extract, graft fit, graft evaluate on the test images), fine-tuning
# (graft finetune: EfficientNet-Lite0, last 2 blocks, LP-FT) and from scratch (graft train: small CNN),
# all on the same 800 training images (Fashion-MNIST train) and 400 test images (Fashion-MNIST test).
# Env: GRAFT (the graft binary, default .build/release/graft), PYTHON (fixtures venv),
#      WORK (default .build-tasks/transfer), SEED (default 0).
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PYTHON:-/root/.venvs/fixtures/bin/python}
GRAFT=${GRAFT:-.build/release/graft}
WORK=${WORK:-.build-tasks/transfer}
SEED=${SEED:-0}
mkdir -p "$WORK"
"$PY" bench/tasks/make_task_data.py "$WORK/data"
C=$WORK/data/composites R=$WORK/data/rotations O=$WORK/runs
rm -rf "$O"; mkdir -p "$O"

tags=(--labels "$C/targets.csv" --label-column tags)
angle=(--targets "$R/targets.csv" --target angle)
split=(--test-count 400 --seed "$SEED" --quiet --json)

# Multi-label: features + one-vs-rest head, fine-tuning, from scratch.
"$GRAFT" extract --data "$C/train.csv" --out "$O/composites-store" --quiet
"$GRAFT" fit --task multi-label --features "$O/composites-store" "${tags[@]}" --seed "$SEED" --out "$O/composites-ovr" --json > "$O/composites-ovr-fit.json"
"$GRAFT" evaluate --bundle "$O/composites-ovr" --data "$C/test.csv" "${tags[@]}" --json --quiet > "$O/composites-features.json"
"$GRAFT" finetune --data "$C/train.csv" --test-data "$C/test.csv" --task multi-label "${tags[@]}" --validation-per-class 20 \
  "${split[@]}" --out "$O/composites-ft" > "$O/composites-finetune.json"
"$GRAFT" train --from-scratch --data "$C/train.csv" --test-data "$C/test.csv" --task multi-label "${tags[@]}" --validation-per-class 20 \
  "${split[@]}" --out "$O/composites-scratch" > "$O/composites-scratch.json"

# Regression: features + ridge head, fine-tuning, from scratch. No augmentation: a flip negates the angle.
"$GRAFT" extract --data "$R/train.csv" --out "$O/rotations-store" --quiet
"$GRAFT" fit --task regression --features "$O/rotations-store" "${angle[@]}" --seed "$SEED" --out "$O/rotations-ridge" --json > "$O/rotations-ridge-fit.json"
"$GRAFT" evaluate --bundle "$O/rotations-ridge" --data "$R/test.csv" "${angle[@]}" --json --quiet > "$O/rotations-features.json"
# Pooling drops where things are; the last block's 7x7 map, flattened, keeps the orientation.
"$GRAFT" extract --data "$R/train.csv" --layer block15 --pool flatten --out "$O/rotations-store-b15" --quiet
"$GRAFT" fit --task regression --features "$O/rotations-store-b15" "${angle[@]}" --seed "$SEED" --out "$O/rotations-ridge-b15" --json > "$O/rotations-ridge-b15-fit.json"
"$GRAFT" evaluate --bundle "$O/rotations-ridge-b15" --data "$R/test.csv" "${angle[@]}" --json --quiet > "$O/rotations-features-b15.json"
"$GRAFT" finetune --data "$R/train.csv" --test-data "$R/test.csv" --task regression "${angle[@]}" --no-augment --validation-per-class 8 \
  "${split[@]}" --out "$O/rotations-ft" > "$O/rotations-finetune.json"
"$GRAFT" train --from-scratch --data "$R/train.csv" --test-data "$R/test.csv" --task regression "${angle[@]}" --validation-per-class 8 \
  "${split[@]}" --out "$O/rotations-scratch" > "$O/rotations-scratch.json"

echo "load average: $(cut -d' ' -f1-3 /proc/loadavg), cores: $(nproc)"
"$PY" - "$O" <<'PY'
import json, sys, os
o = sys.argv[1]
def load(name): return json.load(open(os.path.join(o, name + ".json")))
print("| task | strategy | test metrics (400 Fashion-MNIST test composites / rotations) | train s |")
print("|---|---|---|---|")
for task, key in [("composites", "multiLabel"), ("rotations", "regression")]:
    strategies = [("features + head", "features"), ("fine-tune (Lite0, last 2 blocks, LP-FT)", "finetune"), ("from scratch (small CNN)", "scratch")]
    if task == "rotations": strategies.insert(1, ("features at block15, flattened + head", "features-b15"))
    for strategy, name in strategies:
        j = load(f"{task}-{name}")
        m = j[key] if name.startswith("features") else j["testMetrics"][key]
        secs = "" if name.startswith("features") else f"{j['trainSeconds']:.0f}"
        if key == "multiLabel":
            text = f"micro-F1 {m['microF1']:.4f}, macro-F1 {m['macroF1']:.4f}, mAP {m['meanAveragePrecision']:.4f}, Hamming {m['hammingLoss']:.4f}"
        else:
            text = f"MAE {m['meanAbsoluteError']:.2f} deg, RMSE {m['rootMeanSquaredError']:.2f} deg, R^2 {m['r2']:.4f}"
        print(f"| {'multi-label' if key == 'multiLabel' else 'regression'} ({task}) | {strategy} | {text} | {secs} |")
PY
