#!/usr/bin/env bash
# Heads fit time, Graft vs scikit-learn, same seeded data, same run (issue 6).
#   5,000 x 25,088 and 50,000 x 1,280 float32 features, 10 classes, C = 1, no standardisation,
#   LogisticRegression(lbfgs, tol 1e-4, max_iter 100) on both, LinearSVC(squared hinge, dual CD)
#   on the wide set (on the tall one, C = 1 without standardisation, neither converges in minutes).
# Env: PYTHON (fixtures venv), DATA (where the .npy files go, ~1 GB), REPEATS (default 3),
#      CASES (default "wide:logreg wide:svm tall:logreg"),
#      BENCH_PREFIX (e.g. "chrt -f 10" to run both sides at real-time priority on a shared machine).
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PYTHON:-/root/.venvs/fixtures/bin/python}
DATA=${DATA:-.build-heads/bench-data}
REPEATS=${REPEATS:-3}
CASES=${CASES:-"wide:logreg wide:svm tall:logreg"}
read -r -a PREFIX <<< "${BENCH_PREFIX:-}"

"$PY" bench/heads/make_data.py "$DATA"
swift build --package-path bench -c release --scratch-path .build-heads --product graft-bench-heads >/dev/null
BIN=.build-heads/release/graft-bench-heads
log=$(mktemp)
for case in $CASES; do
  name=${case%%:*}
  head=${case##*:}
  for _ in $(seq "$REPEATS"); do
    # Alternate the two so both see the same machine conditions.
    "${PREFIX[@]}" "$BIN" "$DATA" "$name" "$head" 1.0 | tee -a "$log"
    "${PREFIX[@]}" "$PY" bench/heads/sklearn_fit.py "$DATA" "$name" "$head" 1.0 | tee -a "$log"
  done
done
echo
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg), cores: $(nproc)"
"$PY" bench/heads/report.py "$log"
