#!/usr/bin/env bash
# Fine-tuning step time (forward + backward + optimizer step) and peak memory, Graft vs PyTorch in
# one run (issue 7). Batch 32 at 224x224, SGD with momentum, median of BENCH_STEPS steps after
# BENCH_WARMUP. Rows: EfficientNet-Lite0 last 2 stages + head, Lite0 all trainable, ResNet-18
# layer4 + fc; then peak RSS of Lite0 with K = 0, 1, 2, 4 and all stages trainable (it must grow
# with K, not with depth: frozen stages run without a tape). Target: Graft <= 0.7x PyTorch's time.
# Each configuration is its own process (peak RSS per configuration), Graft then PyTorch back to
# back so a busy machine hits both alike.
# Part `onnx` (issue 23): torchvision's ResNet-18 exported to ONNX (bench/onnx/peer.py prepare, seeded random
# weights) fine-tuned from /layer4/layer4.0/conv1/Conv (`OnnxTaskNetwork`), beside native ResNet-18 layer4 + fc and
# PyTorch's; the ONNX row is compared with PyTorch's ResNet-18 layer4 row.
# Usage: bash bench/finetune/run.sh [time|memory|onnx ...]   (default: time memory)
# Env: GRAFT_THREADS (2), BENCH_BATCH (32), BENCH_STEPS (5), BENCH_WARMUP (2), SCRATCH (.build),
#      GRAFT_BENCH_BIN (skip the build, use this binary),
#      BENCH_PREFIX (default "chrt -f 10": OpenMP barriers stall whenever another job preempts a thread).
set -euo pipefail
cd "$(dirname "$0")/../.."
THREADS="${GRAFT_THREADS:-2}"
PYTHON="${PYTHON:-/root/.venvs/fixtures/bin/python}"
SCRATCH="${SCRATCH:-.build}"
PREFIX=(${BENCH_PREFIX-chrt -f 10})
PARTS=("$@")
[ ${#PARTS[@]} -eq 0 ] && PARTS=(time memory)

if [ -n "${GRAFT_BENCH_BIN:-}" ]; then
    BIN="$GRAFT_BENCH_BIN"  # an already built binary (e.g. the one `swift test -c release` linked)
else
    swift build --package-path bench -c release --scratch-path "$SCRATCH" --product graft-bench-finetune >&2
    BIN="$(swift build --package-path bench -c release --scratch-path "$SCRATCH" --show-bin-path)/graft-bench-finetune"
fi

CONFIGS=()
for part in "${PARTS[@]}"; do
    case "$part" in
        time) CONFIGS+=("efficientnet-lite0 2" "efficientnet-lite0 all" "resnet18 1") ;;
        memory) CONFIGS+=("efficientnet-lite0 0" "efficientnet-lite0 1" "efficientnet-lite0 2" "efficientnet-lite0 4" "efficientnet-lite0 all") ;;
        onnx)
            ONNX_DIR="$(mktemp -d)"; trap 'rm -rf "$ONNX_DIR"' EXIT
            "$PYTHON" bench/onnx/peer.py prepare "$ONNX_DIR" resnet18 >&2
            CONFIGS+=("resnet18 1" "onnx:$ONNX_DIR/resnet18.onnx /layer4/layer4.0/conv1/Conv") ;;
        *) echo "unknown part $part (time|memory|onnx)" >&2; exit 2 ;;
    esac
done
OUT="# load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
declare -A SEEN
for c in "${CONFIGS[@]}"; do
    [ -n "${SEEN[$c]:-}" ] && continue
    SEEN[$c]=1
    set -- $c
    OUT+=$'\n'"$(GRAFT_THREADS="$THREADS" OMP_NUM_THREADS="$THREADS" "${PREFIX[@]}" "$BIN" "$1" "$2")"
    [[ "$1" == onnx:* ]] || OUT+=$'\n'"$(OMP_NUM_THREADS="$THREADS" "${PREFIX[@]}" "$PYTHON" bench/finetune/peer.py "$THREADS" "$1" "$2")"
done
OUT+=$'\n'"# load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

"$PYTHON" - "$OUT" <<'PY'
import sys
graft, torch, notes = {}, {}, []
for line in sys.argv[1].splitlines():
    p = line.split("\t")
    if line.startswith("#"):
        notes.append(line[2:])
    elif p[0] == "row" and p[1] == "torch":
        torch[(p[2], p[3])] = (float(p[4]), float(p[5]), int(p[6]))
    elif p[0] == "row":
        graft[(p[1], p[2])] = (float(p[3]), float(p[4]), int(p[5]))
print("; ".join(dict.fromkeys(notes)))
print(f"| {'model':<18} | {'trainable':<9} | {'params':>9} | {'Graft s/step':>12} | {'PyTorch s/step':>14} | {'Graft/PyTorch':>13} | {'Graft peak MiB':>14} | {'PyTorch peak MiB':>16} |")
print(f"|{'-'*20}|{'-'*11}|{'-'*11}|{'-'*14}|{'-'*16}|{'-'*15}|{'-'*16}|{'-'*18}|")
for key, (gs, gm, gp) in graft.items():
    peer = (key[0][5:], "1") if key[0].startswith("onnx:") else key   # an imported ResNet-18 from layer4: PyTorch's layer4 row
    ts, tm, tp = torch.get(peer, (float("nan"), float("nan"), -1))
    what = {"all": "all"}.get(key[1], key[1] if key[1].startswith("/") else f"last {key[1]}")
    print(f"| {key[0]:<18} | {what:<9} | {gp:>9,} | {gs:>12.3f} | {ts:>14.3f} | {gs / ts:>12.2f}x | {gm:>14.0f} | {tm:>16.0f} |"
          + ("" if gp == tp else f" (PyTorch trains {tp:,})"))
PY
