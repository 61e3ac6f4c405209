#!/usr/bin/env bash
# YOLOv3-tiny forward img/s at 416x416, batch 1 and 8: Graft vs OpenCV DNN vs ONNX Runtime, one run (issue 16).
# Graft's "detect" rows add letterbox + decoding + NMS (what `graft detect` does after decoding the file).
# Then the fine-tune step (new one-class heads; heads only, heads + last 4 convolutions; batch 8 at 416)
# in steps/s against PyTorch with the same loss (step_peer.py), after checking both losses agree.
# int8 (issue 19): Graft's `graft quantize` calibration and ONNX Runtime's static quantization, both on the faces
# set's training images; throughput, raw-output error against fp32, and how int8 detections agree with fp32's.
# Usage: bash bench/detect/run.sh
# Env: GRAFT_THREADS (default nproc), BENCH_REPEATS (7), PYTHON (a venv with numpy, torch, onnx, onnxruntime,
#      opencv-python-headless<5; default ~/.venvs/detect, else ~/.venvs/fixtures), GRAFT_BENCH_BIN (skip the build), SCRATCH (.build),
#      BENCH_INT8 (0: no int8 rows), BENCH_STEPS (0: no fine-tune steps).
set -euo pipefail
cd "$(dirname "$0")/../.."
THREADS="${GRAFT_THREADS:-$(nproc)}"
PYTHON="${PYTHON:-$HOME/.venvs/detect/bin/python}"
[ -x "$PYTHON" ] || PYTHON="$HOME/.venvs/fixtures/bin/python"
SCRATCH="${SCRATCH:-.build}"
if [ -n "${GRAFT_BENCH_BIN:-}" ]; then
    BIN="$GRAFT_BENCH_BIN"
else
    swift build --package-path bench -c release --scratch-path "$SCRATCH" --product graft-bench-detect >&2
    BIN="$(swift build --package-path bench -c release --scratch-path "$SCRATCH" --show-bin-path)/graft-bench-detect"
fi
GRAFT_OUT="$(GRAFT_THREADS="$THREADS" "$BIN")"
PEER_OUT="$("$PYTHON" bench/detect/peer.py "$THREADS")"
NL=$'\n'
STEP_OUT="$("$PYTHON" bench/detect/step_peer.py step "$THREADS")$NL$("$PYTHON" bench/detect/step_peer.py check)"
GRAFT_OUT2="$(GRAFT_THREADS="$THREADS" "$BIN")"  # Graft again after the peers: a load change shows as a spread
"$PYTHON" - "$GRAFT_OUT" "$PEER_OUT$NL$STEP_OUT" "$GRAFT_OUT2" <<'PY'
import sys
graft, graft2, peers, notes, losses = {}, {}, {"opencv": {}, "ort": {}, "ort-int8": {}, "torch": {}}, [], {}
rawerr, agreement = {}, None
for i, block in enumerate(sys.argv[1:]):
    for line in block.splitlines():
        p = line.split("\t")
        if line.startswith("#"): notes.append(line[2:])
        elif p[0] == "loss": losses[i] = [float(v) for v in p[1:]]  # block 0: Graft, block 1: the peers (PyTorch)
        elif p[0] == "rawerr": rawerr.setdefault(p[1], (float(p[2]), int(p[3])))
        elif p[0] == "agreement": agreement = agreement or [float(v) for v in p[1:]]
        elif p[0] == "row" and p[1] in peers: peers[p[1]][p[2]] = float(p[3])
        elif p[0] == "row": (graft if i == 0 else graft2)[p[1]] = float(p[2])
print("; ".join(notes))
print("| batch | Graft forward img/s (1st / 2nd run) | Graft detect img/s | OpenCV DNN img/s | ORT img/s | vs OpenCV | vs ORT |")
print("|---|---|---|---|---|---|---|")
for b in (1, 8):
    k = f"forward-b{b}"
    g = max(graft[k], graft2.get(k, 0))
    o, r = peers["opencv"][k], peers["ort"][k]
    print(f"| {b} | {graft[k]:.1f} / {graft2.get(k, float('nan')):.1f} | {graft[f'detect-b{b}']:.1f} | {o:.1f} | {r:.1f} | {g / o:.2f}x | {g / r:.2f}x |")
if peers["ort-int8"] and "forward-int8-b1" in graft:
    print("\n| batch | Graft int8 forward img/s (1st / 2nd run) | Graft int8 detect img/s | ORT int8 img/s | vs ORT int8 | vs Graft fp32 |")
    print("|---|---|---|---|---|---|")
    for b in (1, 8):
        k = f"forward-int8-b{b}"
        g = max(graft[k], graft2.get(k, 0))
        f = max(graft[f"forward-b{b}"], graft2.get(f"forward-b{b}", 0))
        d = f"{graft['detect-int8-b8']:.1f}" if b == 8 else "-"
        print(f"| {b} | {graft[k]:.1f} / {graft2.get(k, float('nan')):.1f} | {d} | {peers['ort-int8'][k.replace('-int8', '')]:.1f} | {g / peers['ort-int8'][k.replace('-int8', '')]:.2f}x | {g / f:.2f}x |")
    print(f"\nint8 raw head outputs vs fp32 (relative L1, {rawerr['graft'][1]} held-out images stretched to 416): "
          f"Graft {rawerr['graft'][0]:.4f}, ONNX Runtime {rawerr['ort'][0]:.4f}")
    n, fp32_boxes, int8_boxes, matched, iou, score, map50, map5095 = agreement
    print(f"Graft int8 detections vs fp32 (letterboxed): COCO mAP@0.5 {map50:.3f}, mAP@0.5:0.95 {map5095:.3f} of int8's boxes "
          f"(threshold 0.005) with fp32's (threshold 0.25) as the truth; at threshold 0.25 both, {int(matched)} of "
          f"{int(fp32_boxes)} fp32 boxes found by an int8 box of their class with IoU >= 0.5 ({matched / max(fp32_boxes, 1):.1%}), "
          f"{int(int8_boxes)} int8 boxes, mean IoU {iou:.3f}, mean |score change| {score:.3f}")
# The same loss on both sides, or the step times compare different work.
worst = max(abs(a - b) / max(1, abs(b)) for a, b in zip(losses[0], losses[1]))
print(f"\nYOLO loss (box, objectness, classes) Graft {losses[0]} PyTorch {losses[1]}: max relative difference {worst:.1e}")
assert worst < 1e-4, "Graft's and PyTorch's YOLO losses differ"
if "step-heads-b8" in graft:
    print("\n| fine-tune step, batch 8 at 416 | Graft steps/s (1st / 2nd run) | PyTorch steps/s | vs PyTorch |")
    print("|---|---|---|---|")
    for name, label in (("heads", "heads only"), ("last4", "heads + last 4 convolutions")):
        k = f"step-{name}-b8"
        g = max(graft[k], graft2.get(k, 0))
        print(f"| {label} | {graft[k]:.3f} / {graft2.get(k, float('nan')):.3f} | {peers['torch'][k]:.3f} | {g / peers['torch'][k]:.2f}x |")
PY
