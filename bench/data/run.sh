#!/usr/bin/env bash
# Decode + resize throughput: GraftData against the Pillow/numpy pipeline that
# torchvision runs on PIL images, same files, same machine, one thread each
# (the loader rows use 1 and 2 background workers). Prints images/s and ratios.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PY:-/root/.venvs/fixtures/bin/python}
PKG="${GRAFT_HOME:-$HOME/.cache/graft}/packages"
SECONDS_PER_CASE=${SECONDS_PER_CASE:-3}
list=$(mktemp)
ls "$PKG"/scikit-image/skimage/data/*.{png,jpg} "$PKG"/scikit-learn/sklearn/datasets/images/*.jpg > "$list"
if [ -z "${BIN:-}" ]; then   # BIN=path/to/graft-bench-data skips the build
  swift build --package-path bench -c release --product graft-bench-data --scratch-path "${SCRATCH:-.build}" >&2
  BIN=$(swift build --package-path bench -c release --scratch-path "${SCRATCH:-.build}" --show-bin-path)/graft-bench-data
fi
graft=$(mktemp); peer=$(mktemp)
"$BIN" "$list" "$SECONDS_PER_CASE" | tee "$graft" >&2
"$PY" bench/data/peer.py "$list" "$SECONDS_PER_CASE" | tee "$peer" >&2
"$PY" - "$graft" "$peer" "$(wc -l < "$list")" <<'PYEOF'
import json, sys
rows = list(map(json.loads, open(sys.argv[1])))
g = {r["name"]: r["images_per_s"] for r in rows}
wall = {r["name"]: r["wall_images_per_s"] for r in rows if "wall_images_per_s" in r}
p = {r["name"]: r["images_per_s"] for r in map(json.loads, open(sys.argv[2]))}
print(f"\n{sys.argv[3]} sample photos (scikit-image + scikit-learn, 102x102 to 1411x1411)")
print("images per CPU second, one thread (loader rows: all threads; peer = Pillow inline)")
print(f"{'case':32} {'Graft img/s':>12} {'Pillow img/s':>13} {'ratio':>7}")
for name, rate in g.items():
    peer = p.get(name) or p.get(name.replace("-float", "")) if not name.startswith("loader") else p.get("decode+imagenet224")
    ratio = f"{rate / peer:6.2f}x" if peer else "   -"
    extra = f"   (wall {wall[name]:.1f} img/s)" if name in wall else ""
    print(f"{name:32} {rate:12.1f} {peer or float('nan'):13.1f} {ratio:>7}{extra}")
PYEOF
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
rm -f "$list" "$graft" "$peer"
