#!/usr/bin/env bash
# Vision forward throughput (img/s), Graft vs PyTorch vs ONNX Runtime, in one run (issue 4).
# Batch 32 at 224x224, random weights, all cores: EfficientNet-Lite0, ResNet-50, MobileNetV2,
# VGG16 up to its 7x7x512 features. Targets: Graft >= 1.0x ORT and >= 1.5x PyTorch.
# Usage: bash bench/vision/run.sh [model ...]
# Env: GRAFT_THREADS (default nproc), BENCH_BATCH (32), BENCH_REPEATS (5), SCRATCH (.build, the default build folder),
#      GRAFT_BENCH_BIN (skip the build, use this binary), GRAFT_WINOGRAD=0 (direct 3x3 convolutions only),
#      BENCH_PREFIX: command prefix for every timed process, e.g. "chrt -f 10" when the cores are shared
#      (OpenMP barriers stall whenever another job preempts a thread).
#      BENCH_PRECISIONS: Graft's precisions, each a row (default "fp32"; "fp32 bf16 int8" adds bf16 and int8 rows, docs/PRECISION.md).
#      BENCH_ORT_INT8=1: ONNX Runtime's static int8 quantization of each model too (peer.py), and a "vs ORT int8" column.
set -euo pipefail
cd "$(dirname "$0")/../.."
THREADS="${GRAFT_THREADS:-$(nproc)}"
PYTHON="${PYTHON:-/root/.venvs/fixtures/bin/python}"
SCRATCH="${SCRATCH:-.build}"

if [ -n "${GRAFT_BENCH_BIN:-}" ]; then
    BIN="$GRAFT_BENCH_BIN"  # an already built binary (e.g. the one `make test` linked)
else
    swift build --package-path bench -c release --scratch-path "$SCRATCH" --product graft-bench-vision >&2
    BIN="$(swift build --package-path bench -c release --scratch-path "$SCRATCH" --show-bin-path)/graft-bench-vision"
fi

PREFIX=(${BENCH_PREFIX:-})
MODELS=("$@")
[ ${#MODELS[@]} -eq 0 ] && MODELS=(efficientnet-lite0 resnet50 mobilenet_v2 vgg16-features)
# Model by model, Graft then its peers back to back, so a busy machine hits all three alike.
GRAFT_OUT="# load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
PEER_OUT=""
PRECISIONS=(${BENCH_PRECISIONS:-fp32})
for m in "${MODELS[@]}"; do
    for p in "${PRECISIONS[@]}"; do
        GRAFT_OUT+=$'\n'"$(BENCH_PRECISION="$p" GRAFT_THREADS="$THREADS" "${PREFIX[@]}" "$BIN" "$m")"
    done
    PEER_OUT+=$'\n'"$("${PREFIX[@]}" "$PYTHON" bench/vision/peer.py "$THREADS" "$m")"
done
GRAFT_OUT+=$'\n'"# load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

"$PYTHON" - "$GRAFT_OUT" "$PEER_OUT" <<'PY'
import sys
graft, torch, ort, ort8, notes = {}, {}, {}, {}, []
for line in (sys.argv[1] + "\n" + sys.argv[2]).splitlines():
    parts = line.split("\t")
    if line.startswith("#"):
        notes.append(line[2:])
    elif parts[0] == "row" and parts[1] in ("torch", "ort", "ort-int8"):
        {"torch": torch, "ort": ort, "ort-int8": ort8}[parts[1]][parts[2]] = float(parts[3])
    elif parts[0] == "row":
        graft[parts[1]] = float(parts[2])
print("; ".join(dict.fromkeys(notes)))
extra = f" {'ORT int8 img/s':>14} | {'vs ORT int8':>11} |" if ort8 else ""
print(f"| {'model':<25} | {'Graft img/s':>11} | {'PyTorch img/s':>13} | {'ORT img/s':>9} | {'vs PyTorch':>10} | {'vs ORT':>6} | {'vs Graft fp32':>13} |" + extra)
print(f"|{'-'*27}|{'-'*13}|{'-'*15}|{'-'*11}|{'-'*12}|{'-'*8}|{'-'*15}|" + (f"{'-'*16}|{'-'*13}|" if ort8 else ""))
nan = float("nan")
for name, g in graft.items():
    base = name.split(" ")[0]   # "resnet50 bf16" -> its peers' fp32 rows
    t, o, f, q = torch.get(base, nan), ort.get(base, nan), graft.get(base, nan), ort8.get(base, nan)
    tail = f" {q:>14.1f} | {g / q:>10.2f}x |" if ort8 else ""
    print(f"| {name:<25} | {g:>11.1f} | {t:>13.1f} | {o:>9.1f} | {g / t:>9.2f}x | {g / o:>5.2f}x | {g / f:>12.2f}x |" + tail)
PY
