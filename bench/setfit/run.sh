#!/usr/bin/env bash
# Few-shot Rotten Tomatoes (issue 18): Graft's contrastive tuning (SetFit's recipe), Graft's frozen all-MiniLM-L6-v2
# embeddings + logistic regression and + class prototypes, and the Python peer (sentence-transformers'
# CosineSimilarityLoss loop with SetFit's pairs and hyper-parameters, scikit-learn's LogisticRegression head,
# bench/setfit/setfit_peer.py), on the same training texts and one fixed test subset (bench/setfit/make_splits.py).
# Env: PYTHON (fixtures venv), GRAFT (the graft binary, default .build/release/graft), SIZES (default 8,16),
#      SEEDS (default 5), TEST (test reviews per class, default 500), ITERATIONS (default 20), OUT (default /tmp/graft-setfit),
#      PEER=0 skips the Python peer, GRAFT_RUNS=0 skips Graft, LOG (default OUT/results.jsonl) collects the rows.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PYTHON:-/root/.venvs/fixtures/bin/python}
GRAFT=${GRAFT:-.build/release/graft}
SIZES=${SIZES:-8,16}
SEEDS=${SEEDS:-5}
TEST=${TEST:-500}
ITERATIONS=${ITERATIONS:-20}
OUT=${OUT:-/tmp/graft-setfit}
export HF_HUB_OFFLINE=1

"$PY" bench/setfit/make_splits.py "$OUT/splits" "$SIZES" "$SEEDS" "$TEST"
log=${LOG:-$OUT/results.jsonl}
: > "$log"
for n in ${SIZES//,/ }; do
  for seed in $(seq 0 $((SEEDS - 1))); do
    train=$OUT/splits/train-$n-$seed.jsonl
    test=$OUT/splits/test.jsonl
    if [ "${GRAFT_RUNS:-1}" != 0 ]; then
    # Every training text trains (no validation items); the whole test subset scores.
    "$GRAFT" finetune --data "$train" --test-data "$test" --test-count $((2 * TEST)) --validation-per-class 0 \
      --contrastive --iterations "$ITERATIONS" --seed "$seed" --out "$OUT/bundles/contrastive-$n-$seed" --quiet --json \
      | "$PY" -c "import json,sys; r=json.load(sys.stdin); print(json.dumps({'runner':'graft','strategy':'contrastive','n':$n,'seed':$seed,'accuracy':r['test']['accuracy'],'trainSeconds':r['trainSeconds'],'tuneSeconds':r['history'][0]['seconds']}))" \
      | tee -a "$log"
    # compare holds one item per class out for validation, and its heads are fitted on it too: all 2n texts.
    "$GRAFT" compare --data "$train" --test-data "$test" --test-count $((2 * TEST)) --per-class "$n" --validation-per-class 1 \
      --strategies logreg,prototype --seed "$seed" --work "$OUT/work-$n-$seed" --quiet --json \
      | "$PY" -c "
import json,sys
r=json.load(sys.stdin)
for o in r['outcomes']:
    print(json.dumps({'runner':'graft','strategy':o['strategy'],'n':$n,'seed':$seed,'accuracy':o['accuracy'],'trainSeconds':o['trainSeconds']}))" \
      | tee -a "$log"
    fi
    if [ "${PEER:-1}" != 0 ]; then
      "$PY" bench/setfit/setfit_peer.py "$train" "$test" "$seed" "$ITERATIONS" 2>/dev/null \
        | "$PY" -c "
import json,sys
r=json.loads(sys.stdin.read().strip().splitlines()[-1])
print(json.dumps({'runner':'sentence-transformers','strategy':'contrastive','n':$n,'seed':$seed,'accuracy':r['contrastiveAccuracy'],'trainSeconds':r['trainSeconds'],'tuneSeconds':r['tuneSeconds']}))
print(json.dumps({'runner':'sentence-transformers','strategy':'frozen + LogisticRegression()','n':$n,'seed':$seed,'accuracy':r['frozenAccuracy'],'trainSeconds':r['frozenTrainSeconds']}))" \
        | tee -a "$log"
    fi
  done
done
echo
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg), cores: $(nproc)"
"$PY" bench/setfit/report.py "$log"
