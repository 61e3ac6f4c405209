#!/usr/bin/env bash
# Feature extraction (issue 6), in one run:
#   throughput  `graft extract` vs a PyTorch DataLoader pipeline, EfficientNet-Lite0 penultimate features
#               of the first N Fashion-MNIST training images at 224x224, end to end (decode, crop, resize,
#               normalise, forward, pool); parity of the two feature sets
#   memory      max RSS (/usr/bin/time -v) of `graft extract` over 1,000 vs 10,000 images, same shard size
#   resume      kill -9 an extraction twice mid-way, rerun it, cmp every file against an uninterrupted run
#   acceptance  graft-bench-extract acceptance + scikit-learn's heads on the same features
# Usage: bash bench/extract/run.sh [throughput] [memory] [resume] [acceptance]   (default: all)
# Env: GRAFT_THREADS (default nproc) threads for both sides; BENCH_N (2000) images for throughput;
#      BENCH_PREFIX: prefix for every Graft and peer process, e.g. "chrt -f 10" when the cores are
#      shared (OpenMP barriers stall whenever another job preempts a thread); SCRATCH (.build-extract);
#      WORK (a temporary directory, removed at the end unless given).
set -euo pipefail
cd "$(dirname "$0")/../.."
THREADS="${GRAFT_THREADS:-$(nproc)}"
PYTHON="${PYTHON:-/root/.venvs/fixtures/bin/python}"
SCRATCH="${SCRATCH:-.build-extract}"
N="${BENCH_N:-2000}"
PREFIX=(${BENCH_PREFIX:-})
if [ -z "${WORK:-}" ]; then WORK="$(mktemp -d)"; trap 'rm -rf "$WORK"' EXIT; fi
mkdir -p "$WORK"
PARTS=("$@"); [ ${#PARTS[@]} -eq 0 ] && PARTS=(throughput memory resume acceptance)

swift build -c release --scratch-path "$SCRATCH" --product graft >&2
swift build --package-path bench -c release --scratch-path "$SCRATCH" --product graft-bench-extract >&2
BIN="$(swift build -c release --scratch-path "$SCRATCH" --show-bin-path)"
export GRAFT_THREADS="$THREADS"
now() { date +%s.%N; }
echo "# $(date -u +%FT%TZ), threads $THREADS, load average $(cut -d' ' -f1-3 /proc/loadavg)"

for part in "${PARTS[@]}"; do case "$part" in
throughput)
    # Startup (process, model load, Fashion-MNIST decode) measured separately with a one-batch run.
    t0=$(now); "${PREFIX[@]}" "$BIN/graft" extract --data fashion-mnist --limit 32 --out "$WORK/tp0" --quiet --overwrite >/dev/null
    t1=$(now); "${PREFIX[@]}" "$BIN/graft" extract --data fashion-mnist --limit "$N" --out "$WORK/tp" --quiet --overwrite >/dev/null
    t2=$(now); PEER="$("${PREFIX[@]}" "$PYTHON" bench/extract/peer.py "$THREADS" "$N" "$WORK/peer.npy")"
    t3=$(now)
    "$PYTHON" - "$WORK" "$N" "$t0" "$t1" "$t2" "$t3" "$PEER" <<'PY'
import json, os, sys
import numpy as np
from safetensors.numpy import load_file
work, n = sys.argv[1], int(sys.argv[2])
t0, t1, t2, t3 = map(float, sys.argv[3:7])
peer_rate, peer_loop = (float(v) for v in sys.argv[7].split("\t")[2:4])
m = json.load(open(os.path.join(work, "tp", "manifest.json")))
g = np.concatenate([load_file(os.path.join(work, "tp", s["file"]))["features"] for s in m["shards"]])
p = np.load(os.path.join(work, "peer.npy"))
cos = (g * p).sum(1) / np.linalg.norm(g, axis=1) / np.linalg.norm(p, axis=1)
graft_whole, startup, peer_whole = t2 - t1, t1 - t0, t3 - t2
print(f"throughput over {n} images: Graft process {graft_whole:.1f} s ({n / graft_whole:.1f} img/s incl. start-up), "
      f"start-up (32-image run) {startup:.1f} s, so {(n - 32) / (graft_whole - startup):.1f} img/s marginal; "
      f"PyTorch DataLoader loop {peer_loop:.1f} s ({peer_rate:.1f} img/s), whole process {peer_whole:.1f} s")
print(f"| Graft img/s (whole process) | Graft img/s (marginal) | PyTorch img/s (loop) | ratio whole/loop | ratio marginal/loop |")
print(f"| {n / graft_whole:.1f} | {(n - 32) / (graft_whole - startup):.1f} | {peer_rate:.1f} | {n / graft_whole / peer_rate:.2f}x | {(n - 32) / (graft_whole - startup) / peer_rate:.2f}x |")
print(f"feature parity Graft vs PyTorch: cosine min {cos.min():.6f}, mean {cos.mean():.6f}; max |diff| {np.abs(g - p).max():.1e} "
      f"(features up to {np.abs(p).max():.2f})")
PY
    ;;
memory)
    for n in 1000 10000; do
        rm -rf "$WORK/mem$n"   # a finished store of the same job would only be reopened
        /usr/bin/time -v "${PREFIX[@]}" "$BIN/graft" extract --data fashion-mnist --limit "$n" --out "$WORK/mem$n" --quiet --overwrite \
            > /dev/null 2> "$WORK/mem$n.time"
        echo "memory: $n images, shard size 4096: max RSS $(awk -F': ' '/Maximum resident/ {print $2}' "$WORK/mem$n.time") KB," \
             "wall $(awk -F': ' '/Elapsed/ {print $2}' "$WORK/mem$n.time"), $(ls "$WORK/mem$n" | grep -c shard) shards"
    done
    ;;
resume)
    # Same job three ways: uninterrupted; killed (SIGKILL) twice at different moments then completed.
    args=(extract --data fashion-mnist --limit 3000 --shard-size 512 --quiet)
    "${PREFIX[@]}" "$BIN/graft" "${args[@]}" --out "$WORK/whole" > /dev/null
    # Kill 1: 1.3 s after the 2nd shard appears (mid-shard); kill 2: 0.4 s after the 4th (shortly after a rename).
    for point in "2 1.3" "4 0.4"; do
        read -r shards delay <<< "$point"
        "${PREFIX[@]}" "$BIN/graft" "${args[@]}" --out "$WORK/killed" > /dev/null & pid=$!
        until [ "$(ls "$WORK/killed" 2>/dev/null | grep -c '^shard-')" -ge "$shards" ] || ! kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
        sleep "$delay"; kill -9 "$pid" 2>/dev/null || echo "resume: the job ended before the kill"; wait "$pid" 2>/dev/null || true
        echo "resume: killed ${delay} s after shard $shards appeared: $(ls "$WORK/killed" | grep -c '^shard-') finished shards," \
             "other files: $(ls -A "$WORK/killed" | grep -v -e '^shard-' -e '^manifest.json$' | tr '\n' ' ')"
    done
    "${PREFIX[@]}" "$BIN/graft" "${args[@]}" --out "$WORK/killed"
    same=0; differ=0
    for f in "$WORK/whole"/*; do
        if cmp -s "$f" "$WORK/killed/$(basename "$f")"; then same=$((same + 1)); else differ=$((differ + 1)); echo "differs: $(basename "$f")"; fi
    done
    echo "resume: $same files identical (cmp), $differ different; file lists $(diff <(ls -A "$WORK/whole") <(ls -A "$WORK/killed") > /dev/null && echo equal || echo DIFFER)"
    ;;
acceptance)
    "${PREFIX[@]}" "$BIN/graft-bench-extract" acceptance "$WORK/acc" > "$WORK/acc-graft.txt"
    "$PYTHON" bench/extract/sklearn_heads.py "$WORK/acc" > "$WORK/acc-sklearn.txt"
    "$PYTHON" - "$WORK/acc-graft.txt" "$WORK/acc-sklearn.txt" <<'PY'
import sys
graft = {tuple(l.split("\t")[1:4]): l.split("\t")[4:] for l in open(sys.argv[1]) if l.startswith("row")}
sk = {tuple(l.split("\t")[1:4]): l.split("\t")[4:] for l in open(sys.argv[2]) if l.startswith("row")}
print("| task | features | head | C (Graft CV) | Graft test acc | scikit-learn test acc (same C) | diff (points) | scikit-learn own CV: C, acc |")
print("|---|---|---|---:|---:|---:|---:|---|")
for key, (c, train_acc, test_acc) in graft.items():
    s = sk[key]
    print(f"| {key[0]} | {key[1]} | {key[2]} | {c} | {float(test_acc):.4f} | {float(s[1]):.4f} | "
          f"{100 * (float(test_acc) - float(s[1])):+.2f} | {s[3]}, {float(s[4]):.4f} |")
PY
    ;;
*) echo "unknown part $part" >&2; exit 2 ;;
esac; done
