#!/usr/bin/env bash
# Task heads (prototype, k-NN, ridge, ridge with CV, one-vs-rest) on the same seeded features: Graft vs
# scikit-learn, alternated in one run (issue 18). Default data: 4,000 + 1,000 rows x 384 features.
# Env: PYTHON (fixtures venv), DATA (default $SCRATCH/bench-tasks), REPEATS (default 3),
#      HEADS (default "prototype knn ridge ridgecv ovr"), SCRATCH (release build folder of the bench package,
#      default .build-tasks), BUILD_FLAGS (extra swift build flags).
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PYTHON:-/root/.venvs/fixtures/bin/python}
SCRATCH=${SCRATCH:-.build-tasks}
DATA=${DATA:-$SCRATCH/bench-tasks}
REPEATS=${REPEATS:-3}
HEADS=${HEADS:-"prototype knn ridge ridgecv ovr"}

"$PY" bench/tasks/make_data.py "$DATA"
swift build --package-path bench -c release ${BUILD_FLAGS:-} --scratch-path "$SCRATCH" --product graft-bench-heads >/dev/null
BIN=$SCRATCH/release/graft-bench-heads
log=$(mktemp)
for head in $HEADS; do
  for _ in $(seq "$REPEATS"); do
    "$BIN" tasks "$DATA" "$head" | tee -a "$log"
    "$PY" bench/tasks/sklearn_fit.py "$DATA" "$head" | tee -a "$log"
  done
done
echo
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg), cores: $(nproc)"
"$PY" bench/tasks/report.py "$log"
