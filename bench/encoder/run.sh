#!/usr/bin/env bash
# MiniLM (all-minilm-l6-v2) sentence embeddings/s at batch 32, Graft (SentenceEmbedder.embed) vs
# sentence-transformers on PyTorch and ONNX Runtime (the HF model exported with torch.onnx), in one run
# (issue 5). Cases: len32 / len128 (synthetic sentences of exactly 32 / 128 tokens), reviews (512 Rotten
# Tomatoes texts, natural lengths; every side sorts by length and pads a batch to its longest text).
# Each side: tokenize, encode, mean-pool over the mask, L2-normalise; median of BENCH_REPEATS (3) calls
# after a warm-up; model loading excluded. Also checks Graft's embeddings against sentence-transformers'.
# Usage: bash bench/encoder/run.sh [case ...]
# Env: GRAFT_THREADS (default nproc) threads for all three; BENCH_PREFIX: prefix of every timed process,
#      e.g. "chrt -f 10" when the cores are shared; SCRATCH (.build-encoder); WORK (kept when given);
#      GRAFT_BENCH_BIN: use this graft-bench-encoder instead of building one.
#      BENCH_PRECISIONS: Graft's precisions, each a row (default "fp32"; "fp32 bf16 int8" adds bf16 and int8 rows,
#      docs/PRECISION.md). ONNX Runtime runs fp32 and int8 (quantize_dynamic of the same export) every time.
set -euo pipefail
cd "$(dirname "$0")/../.."
THREADS="${GRAFT_THREADS:-$(nproc)}"
PYTHON="${PYTHON:-/root/.venvs/fixtures/bin/python}"
SCRATCH="${SCRATCH:-.build-encoder}"
if [ -z "${WORK:-}" ]; then WORK="$(mktemp -d)"; trap 'rm -rf "$WORK"' EXIT; fi
mkdir -p "$WORK"
CASES=("$@"); [ ${#CASES[@]} -eq 0 ] && CASES=(len32 len128 reviews)
PREFIX=(${BENCH_PREFIX:-})

BIN="${GRAFT_BENCH_BIN:-}"   # a prebuilt graft-bench-encoder, else build one
if [ -z "$BIN" ]; then
    swift build --package-path bench -c release --scratch-path "$SCRATCH" --product graft-bench-encoder >&2
    BIN="$(swift build --package-path bench -c release --scratch-path "$SCRATCH" --show-bin-path)/graft-bench-encoder"
fi
"$PYTHON" bench/encoder/peer.py prepare "$WORK" 2>/dev/null

OUT="# load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
PRECISIONS=(${BENCH_PRECISIONS:-fp32})
for c in "${CASES[@]}"; do   # case by case, Graft then its peers back to back
    for p in "${PRECISIONS[@]}"; do
        OUT+=$'\n'"$(BENCH_PRECISION="$p" GRAFT_THREADS="$THREADS" "${PREFIX[@]}" "$BIN" "$WORK" "$c")"
    done
    OUT+=$'\n'"$("${PREFIX[@]}" "$PYTHON" bench/encoder/peer.py run "$WORK" "$THREADS" "$c" 2>/dev/null)"
done
OUT+=$'\n'"# load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

"$PYTHON" - "$WORK" "$THREADS" "$OUT" <<'PY'
import os, sys
import numpy as np
import onnxruntime, sentence_transformers, torch
work, threads, text = sys.argv[1], sys.argv[2], sys.argv[3]
graft, torch_r, ort_r, ort8_r, tokens, ort_cos, ort8_cos, notes = {}, {}, {}, {}, {}, {}, {}, []
for line in text.splitlines():
    p = line.split("\t")
    if line.startswith("#"): notes.append(line[2:])
    elif p[0] == "row" and p[1] == "torch": torch_r[p[2]] = float(p[3])
    elif p[0] == "row" and p[1] == "ort": ort_r[p[2]] = float(p[3]); ort_cos[p[2]] = float(p[4])
    elif p[0] == "row" and p[1] == "ort-int8": ort8_r[p[2]] = float(p[3]); ort8_cos[p[2]] = float(p[4])
    elif p[0] == "row": graft[p[1]] = float(p[2]); tokens[p[1]] = float(p[3])
print(f"{'; '.join(notes)}; threads {threads}, batch 32; torch {torch.__version__}, sentence-transformers "
      f"{sentence_transformers.__version__}, onnxruntime {onnxruntime.__version__}")
print("| case | tokens/sentence | Graft sent/s | PyTorch (ST) sent/s | ORT sent/s | ORT int8 sent/s | vs PyTorch | vs ORT | vs ORT int8 | vs Graft fp32 | Graft vs ST: min cosine, max abs diff |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
for c, g in graft.items():
    base = c.split(" ")[0]   # "len32 bf16" -> the fp32 peers of len32
    st = np.load(os.path.join(work, base + "-st.npy"))
    gv = np.fromfile(os.path.join(work, c + "-graft.f32"), np.float32).reshape(st.shape)
    cos = (gv * st).sum(1) / np.linalg.norm(gv, axis=1) / np.linalg.norm(st, axis=1)
    t, o, o8, f = torch_r[base], ort_r[base], ort8_r[base], graft.get(base, float("nan"))
    print(f"| {c} | {tokens[c]:.1f} | {g:.1f} | {t:.1f} | {o:.1f} | {o8:.1f} | {g / t:.2f}x | {g / o:.2f}x | {g / o8:.2f}x | {g / f:.2f}x | "
          f"{cos.min():.6f}, {np.abs(gv - st).max():.1e} (ORT vs ST min cosine {ort_cos[base]:.6f}, ORT int8 {ort8_cos[base]:.6f}) |")
# A kept WORK can hold an export of another model (session 20 met one): then ORT's rows time something else.
stale = {c: v for c, v in ort_cos.items() if v < 0.999}
if stale:
    sys.exit(f"ONNX Runtime's fp32 export disagrees with sentence-transformers ({stale}): its rows are not MiniLM; "
             f"delete {work}/minilm.onnx and {work}/minilm.int8.onnx and run again")
PY
