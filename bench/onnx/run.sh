#!/usr/bin/env bash
# ONNX import throughput (img/s, issue 23): Graft's native ResNet-18 and MobileNetV2, the PyTorch export of the
# same weights imported by Graft's ONNX executor (fed NCHW as ONNX Runtime is, and NHWC as `graft extract` feeds it),
# and ONNX Runtime on that same .onnx file, in one run.
# 224x224, batch 1 and 32, GRAFT_THREADS threads (default 2). Target: imported within 10% of native.
# With BENCH_ORT_INT8=1 (issue 19) a second table: the graph quantized by Graft (`imported-int8`) against ONNX Runtime's
# static int8 quantization of the same file (`ort-int8`), each calibrated on a batch of 32 inputs like the timed ones.
# Usage: bash bench/onnx/run.sh [model ...]   (resnet18, mobilenet_v2; default both)
# Env: GRAFT_THREADS (2), BENCH_BATCHES ("1 32"), BENCH_REPEATS (5), SCRATCH (.build-bench),
#      GRAFT_BENCH_BIN (skip the build, use this binary), BENCH_ONNX_DIR (where peer.py writes the files; a
#      temporary folder by default, about 120 MB), BENCH_PREFIX (command prefix for every timed process,
#      e.g. "chrt -f 10" when the cores are shared).
set -euo pipefail
cd "$(dirname "$0")/../.."
THREADS="${GRAFT_THREADS:-2}"
PYTHON="${PYTHON:-/root/.venvs/fixtures/bin/python}"
SCRATCH="${SCRATCH:-.build-bench}"

if [ -n "${GRAFT_BENCH_BIN:-}" ]; then
    BIN="$GRAFT_BENCH_BIN"
else
    swift build --package-path bench -c release --scratch-path "$SCRATCH" --product graft-bench-onnx >&2
    BIN="$(swift build --package-path bench -c release --scratch-path "$SCRATCH" --show-bin-path)/graft-bench-onnx"
fi

MODELS=("$@")
[ ${#MODELS[@]} -eq 0 ] && MODELS=(resnet18 mobilenet_v2)
DIR="${BENCH_ONNX_DIR:-}"
if [ -z "$DIR" ]; then DIR="$(mktemp -d)"; trap 'rm -rf "$DIR"' EXIT; fi
for m in "${MODELS[@]}"; do
    [ -f "$DIR/$m.check.safetensors" ] || "$PYTHON" bench/onnx/peer.py prepare "$DIR" "$m"
done

PREFIX=(${BENCH_PREFIX:-})
OUT=""
# Model by model, Graft (native and imported) then ONNX Runtime back to back, so a busy machine hits all alike.
for m in "${MODELS[@]}"; do
    OUT+=$'\n'"$(GRAFT_THREADS="$THREADS" "${PREFIX[@]}" "$BIN" "$DIR" "$m")"
    OUT+=$'\n'"$(BENCH_ORT_INT8="${BENCH_ORT_INT8:-0}" "${PREFIX[@]}" "$PYTHON" bench/onnx/peer.py time "$THREADS" "$DIR" "$m")"
done

"$PYTHON" - "$OUT" <<'PY'
import sys
rows, notes = {}, []
for line in sys.argv[1].splitlines():
    parts = line.split("\t")
    if line.startswith("#"):
        notes.append(line[2:])
    elif parts[0] == "row":
        rows.setdefault(parts[2], {})[parts[1]] = float(parts[3])
print("\n".join(dict.fromkeys(notes)))
print(f"| {'model':<17} | {'native img/s':>12} | {'imported img/s':>14} | {'imported NHWC img/s':>19} | {'ORT img/s':>9} | {'imported / native':>17} | {'NHWC / native':>13} | {'imported / ORT':>14} |")
print(f"|{'-'*19}|{'-'*14}|{'-'*16}|{'-'*21}|{'-'*11}|{'-'*19}|{'-'*15}|{'-'*16}|")
nan = float("nan")
for name, r in rows.items():
    n, i, h, o = (r.get(k, nan) for k in ("native", "imported", "imported-nhwc", "ort"))
    print(f"| {name:<17} | {n:>12.1f} | {i:>14.1f} | {h:>19.1f} | {o:>9.1f} | {i / n:>16.2f}x | {h / n:>12.2f}x | {i / o:>13.2f}x |")
if any("ort-int8" in r for r in rows.values()):
    print()
    print("| model | imported NHWC img/s | imported int8 img/s | native int8 img/s | ORT img/s | ORT int8 img/s | int8 / imported fp32 | imported int8 / native int8 | int8 / ORT int8 | int8 / ORT fp32 |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, r in rows.items():
        h, q, nq, o, oq = (r.get(k, nan) for k in ("imported-nhwc", "imported-int8", "native-int8", "ort", "ort-int8"))
        print(f"| {name} | {h:.1f} | {q:.1f} | {nq:.1f} | {o:.1f} | {oq:.1f} | {q / h:.2f}x | {q / nq:.2f}x | {q / oq:.2f}x | {q / o:.2f}x |")
PY
