#!/usr/bin/env bash
# WordPiece tokenizer throughput, Graft vs Hugging Face tokenizers (fast Rust and slow Python),
# in one run, on Rotten Tomatoes reviews and French words; also checks that the ids agree.
# Usage: bash bench/text/run.sh   (GRAFT_THREADS=N: threads for the HF fast batch path)
set -euo pipefail
cd "$(dirname "$0")/../.."
THREADS="${GRAFT_THREADS:-$(nproc)}"
PYTHON="${PYTHON:-/root/.venvs/fixtures/bin/python}"
SCRATCH="${SCRATCH:-.build-text}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

swift build -c release --scratch-path "$SCRATCH" --product graft-bench-text >&2
BIN="$(swift build -c release --scratch-path "$SCRATCH" --show-bin-path)/graft-bench-text"

"$PYTHON" bench/text/peer.py prepare "$WORK"
GRAFT_OUT="$("$BIN" "$WORK")"
PEER_OUT="$("$PYTHON" bench/text/peer.py run "$WORK" "$THREADS")"
CHECK_OUT="$("$PYTHON" bench/text/peer.py check "$WORK")"

"$PYTHON" - "$GRAFT_OUT" "$PEER_OUT" "$CHECK_OUT" <<'PY'
import sys
def rows(text, tag="row"):
    out, notes = {}, []
    for line in text.splitlines():
        parts = line.split("\t")
        if line.startswith("#"):
            notes.append(line[2:])
        elif parts[0] == tag:
            out[parts[1]] = float(parts[2])
    return out, notes
graft, notes = rows(sys.argv[1])
fast, _ = rows(sys.argv[2])
slow, _ = rows(sys.argv[2], "slow")
for n in notes:
    print("Graft:", n)
for line in sys.argv[3].splitlines():
    _, name, total, bad = line.split("\t")
    print(f"ids equal to HF fast on {name}: {int(total) - int(bad)}/{total}")
print(f"| {'corpus / mode':<32} | {'Graft texts/s':>13} | {'HF fast texts/s':>15} | {'ratio':>5} | {'HF slow texts/s':>15} | {'ratio':>6} |")
print(f"|{'-'*34}|{'-'*15}|{'-'*17}|{'-'*7}|{'-'*17}|{'-'*8}|")
for name, g in graft.items():
    f = fast.get(name, float("nan"))
    s = slow.get(name.split("/")[0], float("nan")) if name.endswith("/single") else float("nan")
    slow_cols = f"{s:>15.0f} | {g / s:>6.1f}" if s == s else f"{'':>15} | {'':>6}"
    print(f"| {name:<32} | {g:>13.0f} | {f:>15.0f} | {f and g / f:>5.2f} | {slow_cols} |")
PY
