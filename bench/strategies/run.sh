#!/usr/bin/env bash
# Issue 21's table: `graft compare` with its default settings at several training sizes and seeds, one JSON
# line per strategy and run appended to results/$NAME.jsonl (accuracies are exact; train times are wall times
# and move with the machine's load, which each line records). report.py turns the lines into the tables of
# docs/RESULTS.md and checks the issue's claims.
# Usage: bash bench/strategies/run.sh fashion-mnist "10 100 300 1000" "0 1 2" [NAME]
#        bash bench/strategies/run.sh rotten-tomatoes "10 100 1000" "0 1 2" [NAME]
# Env: GRAFT (the graft binary; default .build/release/graft), TEST_COUNT (2000 images; text: 1000),
#      EXTRA (more compare options, e.g. "--unfreeze 5 --strategies finetune").
set -euo pipefail
cd "$(dirname "$0")/../.."
DATA="$1"; SIZES="$2"; SEEDS="$3"; NAME="${4:-$DATA}"
GRAFT="${GRAFT:-.build/release/graft}"
if [ "$DATA" = rotten-tomatoes ]; then TEST="${TEST_COUNT:-1000}"; else TEST="${TEST_COUNT:-2000}"; fi
OUT="bench/strategies/results/$NAME.jsonl"
WORK="$(mktemp -d)"; trap 'rm -rf "$WORK"' EXIT
for n in $SIZES; do
    for seed in $SEEDS; do
        load="$(cut -d' ' -f1 /proc/loadavg)"
        started="$(date -u +%FT%TZ)"
        # shellcheck disable=SC2086
        "$GRAFT" compare --data "$DATA" --per-class "$n" --test-count "$TEST" --seed "$seed" --work "$WORK/w" \
            --json --quiet ${EXTRA:-} > "$WORK/out.json"
        python3 - "$WORK/out.json" "$n" "$seed" "$load" "$started" "${EXTRA:-}" >> "$OUT" <<'PY'
import json, sys
path, n, seed, load, started, extra = sys.argv[1:]
d = json.load(open(path))
for o in d["outcomes"]:
    probe = o.get("probe") or {}
    print(json.dumps({"data": d["data"], "model": d["model"], "n": int(n), "seed": int(seed), "strategy": o["strategy"],
                      "detail": o["detail"], "accuracy": o["accuracy"], "trainSeconds": round(o["trainSeconds"], 1),
                      "bestValidation": o.get("bestValidationScore"), "probeValidation": probe.get("validationAccuracy"),
                      "probeExamples": probe.get("examples"), "epochs": len(o.get("history") or []),
                      "validationCurve": [h.get("validationAccuracy") for h in (o.get("history") or [])],
                      "train": d["trainCount"], "validation": d["validationCount"], "test": d["testCount"],
                      "load": float(load), "started": started, "extra": extra}))
PY
        echo "$DATA n=$n seed=$seed done ($(date -u +%T))" >&2
        rm -rf "$WORK/w"
    done
done
