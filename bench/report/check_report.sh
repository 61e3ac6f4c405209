#!/usr/bin/env bash
# Looks at Graft's HTML reports as a person would: renders each in headless Chromium (Debian's
# `chromium`), fails on any console error, exception or blocked load and on an empty SVG chart,
# and writes a full-page PNG beside it to look at. First proves the checker catches problems
# (canary.html must fail).
#
# usage: bench/report/check_report.sh [REPORT.html ...]
#   without arguments: builds graft (CONFIG=release by default) and checks fresh reports on digits of
#   `graft compare`, `graft finetune` and `graft evaluate` (of the fine-tuned bundle), each of which
#   must show its charts (3: comparison or training curves and heat map; evaluate: the heat map) and
#   at least 8 loaded thumbnails of its most confident mistakes.
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT="${OUT:-out/report}"
SCRATCH="${SCRATCH:-.build}"
CONFIG="${CONFIG:-release}"
mkdir -p "$OUT"
command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

if python3 bench/report/check_report.py bench/report/canary.html "$OUT/canary.png" >"$OUT/canary.json"; then
  echo "check_report: the canary page passed, so the checker is blind" >&2; exit 1
fi
python3 - "$OUT/canary.json" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))["problems"]
need = ["console.error: deliberate", "Content Security Policy", "is empty", "did not load"]
missing = [n for n in need if not any(n in x for x in p)]
sys.exit(f"check_report: canary problems not caught: {missing}" if missing else 0)
PY
echo "check_report: canary caught (console error, blocked load, empty SVG, broken image)" >&2

reports=("$@")
min_images=0
min_svgs=()
if [ ${#reports[@]} -eq 0 ]; then
  swift build -c "$CONFIG" --scratch-path "$SCRATCH" --product graft >&2
  graft="$SCRATCH/$CONFIG/graft"
  "$graft" compare --data digits --strategies scratch,logreg,finetune --per-class 20 --test-count 300 \
    --epochs 3 --work "$OUT/work" --quiet --report "$OUT/compare-digits.html" >&2
  "$graft" finetune --data digits --unfreeze 1 --per-class 10 --epochs 2 --out "$OUT/work/finetune-digits" \
    --quiet --report "$OUT/finetune-digits.html" >&2
  "$graft" evaluate --bundle "$OUT/work/finetune-digits" --data digits --limit 300 --quiet \
    --report "$OUT/evaluate-digits.html" >&2
  reports=("$OUT/compare-digits.html" "$OUT/finetune-digits.html" "$OUT/evaluate-digits.html")
  min_svgs=(3 3 1)
  min_images=8
fi
status=0
for i in "${!reports[@]}"; do
  r="${reports[$i]}"
  png="$OUT/$(basename "${r%.html}").png"
  if python3 bench/report/check_report.py "$r" "$png" --min-svgs "${min_svgs[$i]:-3}" --min-images "$min_images"; then echo "ok: $r -> $png" >&2
  else echo "FAILED: $r" >&2; status=1; fi
done
exit $status
