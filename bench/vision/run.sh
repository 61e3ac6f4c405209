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
#      BENCH_ROUNDS=N: run everything N times (peers first in even rounds); ratios per round, median and range.
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
PRECISIONS=(${BENCH_PRECISIONS:-fp32})
ROUNDS="${BENCH_ROUNDS:-1}"
# Model by model, Graft then its peers back to back, so a busy machine hits all three alike. With BENCH_ROUNDS=N
# the whole sequence runs N times, the peers first in every second round (a drift then favours neither side); each
# ratio is taken within a round and the table gives its median over the rounds and the range.
BLOCKS=()
for ((r = 1; r <= ROUNDS; r++)); do
    GRAFT_OUT="# load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
    PEER_OUT=""
    for m in "${MODELS[@]}"; do
        peer() { PEER_OUT+=$'\n'"$("${PREFIX[@]}" "$PYTHON" bench/vision/peer.py "$THREADS" "$m")"; }
        (( r % 2 == 0 )) && peer
        for p in "${PRECISIONS[@]}"; do
            GRAFT_OUT+=$'\n'"$(BENCH_PRECISION="$p" GRAFT_THREADS="$THREADS" "${PREFIX[@]}" "$BIN" "$m")"
        done
        (( r % 2 == 1 )) && peer
    done
    GRAFT_OUT+=$'\n'"# load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
    BLOCKS+=("$GRAFT_OUT"$'\n'"$PEER_OUT")
done

"$PYTHON" - "${BLOCKS[@]}" <<'PY'
import statistics, sys
rounds, notes = [], []
for block in sys.argv[1:]:
    graft, torch, ort, ort8 = {}, {}, {}, {}
    for line in block.splitlines():
        parts = line.split("\t")
        if line.startswith("#"):
            notes.append(line[2:])
        elif parts[0] == "row" and parts[1] in ("torch", "ort", "ort-int8"):
            {"torch": torch, "ort": ort, "ort-int8": ort8}[parts[1]][parts[2]] = float(parts[3])
        elif parts[0] == "row":
            graft[parts[1]] = float(parts[2])
    rounds.append((graft, torch, ort, ort8))
print("; ".join(dict.fromkeys(notes)) + (f"; {len(rounds)} rounds: medians over rounds, ratios taken within each round (range)" if len(rounds) > 1 else ""))
nan = float("nan")
def median(values):
    values = [v for v in values if v == v]
    return statistics.median(values) if values else nan
def cell(values, suffix=""):
    m = median(values)
    if len(rounds) == 1: return f"{m:.2f}{suffix}" if suffix else f"{m:.1f}"
    lo, hi = min(values), max(values)
    return f"{m:.2f}{suffix} ({lo:.2f}-{hi:.2f})" if suffix else f"{m:.1f}"
ort8 = any(r[3] for r in rounds)
extra = " ORT int8 img/s | vs ORT int8 |" if ort8 else ""
print("| model | Graft img/s | PyTorch img/s | ORT img/s | vs PyTorch | vs ORT | vs Graft fp32 |" + extra)
print("|---|---|---|---|---|---|---|" + ("---|---|" if ort8 else ""))
for name in rounds[0][0]:
    base = name.split(" ")[0]   # "resnet50 bf16" -> its peers' fp32 rows
    per = lambda f: [f(g, t, o, q) for g, t, o, q in rounds]
    g = per(lambda g, t, o, q: g.get(name, nan))
    t, o, q = per(lambda g, t, o, q: t.get(base, nan)), per(lambda g, t, o, q: o.get(base, nan)), per(lambda g, t, o, q: q.get(base, nan))
    f = per(lambda g, t, o, q: g.get(base, nan))
    ratio = lambda a, b: [x / y for x, y in zip(a, b)]
    tail = f" {cell(q)} | {cell(ratio(g, q), 'x')} |" if ort8 else ""
    print(f"| {name} | {cell(g)} | {cell(t)} | {cell(o)} | {cell(ratio(g, t), 'x')} | {cell(ratio(g, o), 'x')} | {cell(ratio(g, f), 'x')} |" + tail)
PY
